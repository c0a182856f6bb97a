/*
 * pinctrl-driver: runs flowctl's pinctrl against a real switch until told
 * to exit, for the system tests (tests/system/test-pinctrl.sh).
 *
 * Usage: pinctrl-driver [-v...] TARGET UNIXCTL
 *
 * Connects a pinctrl to TARGET (e.g. unix:RUNDIR/br-cf.mgmt) and answers
 * its packet-ins.  Listens for ovs-appctl on the socket UNIXCTL:
 *
 *   pinctrl/show    pinctrl_format(): the connection and the counters
 *   exit            exit (0)
 *
 * -v/--verbose and --log-file as for OVS programs (vlog).
 */

#include <config.h>

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "pinctrl.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(pinctrl_driver);

static void
show_cb(struct unixctl_conn *conn, int argc OVS_UNUSED,
        const char *argv[] OVS_UNUSED, void *p_)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    pinctrl_format(p_, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
exit_cb(struct unixctl_conn *conn, int argc OVS_UNUSED,
        const char *argv[] OVS_UNUSED, void *exiting_)
{
    bool *exiting = exiting_;

    *exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
usage(void)
{
    printf("usage: %s [-v...] [--log-file=FILE] TARGET UNIXCTL\n"
           "Answers TARGET's packet-ins with pinctrl until \"ovs-appctl -t\n"
           "UNIXCTL exit\"; \"pinctrl/show\" prints its state.\n",
           program_name);
    exit(0);
}

int
main(int argc, char *argv[])
{
    enum { VLOG_OPTION_ENUMS = UCHAR_MAX + 1 };
    static const struct option long_options[] = {
        {"help", no_argument, NULL, 'h'},
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };

    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
    for (;;) {
        int c = getopt_long(argc, argv, "v::h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'h':
            usage();
            break;
        VLOG_OPTION_HANDLERS
        default:
            exit(2);
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "%s: need TARGET and UNIXCTL (--help for help)\n",
                program_name);
        exit(2);
    }

    struct unixctl_server *server;
    int error = unixctl_server_create(argv[optind + 1], &server);
    if (error) {
        ovs_fatal(error, "%s: could not listen", argv[optind + 1]);
    }

    struct pinctrl *p = pinctrl_create(argv[optind]);
    bool exiting = false;
    unixctl_command_register("pinctrl/show", "", 0, 0, show_cb, p);
    unixctl_command_register("exit", "", 0, 0, exit_cb, &exiting);

    for (;;) {
        pinctrl_run(p);
        unixctl_server_run(server);
        if (exiting) {
            break;
        }
        pinctrl_wait(p);
        unixctl_server_wait(server);
        poll_block();
    }

    unixctl_server_destroy(server);
    pinctrl_destroy(p);
    return 0;
}
