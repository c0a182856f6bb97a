/*
 * directory-driver: runs flowctl's directory (the cfnet-db adapter) against
 * a real cluster, for the system tests (tests/system/test-directory.sh) and
 * benchmarks.
 *
 * Usage: directory-driver [OPTIONS] REMOTES UNDERLAY_IP
 *        directory-driver [OPTIONS] --claims N --prefix-ip A.B.C.D REMOTES
 *
 * REMOTES is "tcp:IP:PORT[,tcp:IP:PORT...]".
 *
 * The first form runs one directory for the cell UNDERLAY_IP until killed
 * (SIGTERM) or told to exit (ovs-appctl exit), printing
 *
 *   lease SUBNET|none cells N connected yes|no
 *
 * (N: the other cells it knows) each time directory_run() reports a
 * change.  The second form runs N directories in one process, for the N
 * consecutive underlay addresses from A.B.C.D, and exits once all hold a
 * lease, printing "claimed N leases in X ms" (with --stay it goes on
 * renewing until killed or told to exit).  Options:
 *
 *   --renew=SECS       renewal interval (default: lease lifetime / 3)
 *   --unixctl=PATH     unixctl socket, with "directory/show",
 *                      "directory/stats" (the counters of all the
 *                      directories, summed, on one line) and "exit"
 *   --timeout=SECS     --claims: give up after SECS (default 60), exit 2
 *   --stay             --claims: keep running once all hold a lease
 *   --monitor-lease-times
 *                      every directory's view replicates the lease times
 *                      too, as before the view left them out
 *                      (directory_monitor_lease_times()): the "before"
 *                      of bench/directory-scale
 *   -v..., --verbose...  as for OVS programs (vlog)
 */

#include <config.h>

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "fatal-signal.h"
#include "ipv4.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(directory_driver);

struct driver {
    struct directory **dirs;
    size_t n;
    bool exiting;
};

static void
show_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *drv_)
{
    struct driver *drv = drv_;
    struct ds s = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < drv->n; i++) {
        directory_format(drv->dirs[i], &s);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
stats_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
          const char *argv[] OVS_UNUSED, void *drv_)
{
    struct driver *drv = drv_;
    struct directory_stats sum = { .connected = false };
    size_t n_connected = 0, n_leases = 0;

    for (size_t i = 0; i < drv->n; i++) {
        struct directory_stats st;
        directory_get_stats(drv->dirs[i], &st);
        n_connected += st.connected;
        n_leases += st.have_lease;
        sum.n_claims += st.n_claims;
        sum.n_renewals += st.n_renewals;
        sum.n_failures += st.n_failures;
        sum.n_view_updates += st.n_view_updates;
        sum.n_own_updates += st.n_own_updates;
    }

    char *s = xasprintf("cells %"PRIuSIZE" connected %"PRIuSIZE" leases "
                        "%"PRIuSIZE" claims %llu renewals %llu failures %llu "
                        "view_updates %llu own_updates %llu", drv->n,
                        n_connected, n_leases, sum.n_claims, sum.n_renewals,
                        sum.n_failures, sum.n_view_updates,
                        sum.n_own_updates);
    unixctl_command_reply(conn, s);
    free(s);
}

static void
exit_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *drv_)
{
    struct driver *drv = drv_;

    drv->exiting = true;
    unixctl_command_reply(conn, NULL);
    poll_immediate_wake();
}

static void
print_state(const struct directory *d)
{
    struct ipv4_cidr lease;
    char lease_s[IPV4_CIDR_LEN];
    size_t n;

    directory_get_remotes(d, &n);
    if (directory_get_lease(d, &lease)) {
        printf("lease %s", ipv4_cidr_format(&lease, lease_s));
    } else {
        printf("lease none");
    }
    printf(" cells %"PRIuSIZE" connected %s\n", n,
           directory_is_connected(d) ? "yes" : "no");
    fflush(stdout);
}

static uint32_t
parse_ip(const char *s)
{
    uint32_t ip;

    if (!ipv4_parse(s, &ip)) {
        ovs_fatal(0, "%s: not an IPv4 address", s);
    }
    return ip;
}

static void
usage(void)
{
    printf("usage: %s [--renew=SECS] [--unixctl=PATH] REMOTES UNDERLAY_IP\n"
           "       %s [--timeout=SECS] [--stay] [--monitor-lease-times] "
           "--claims=N --prefix-ip=A.B.C.D REMOTES\n", program_name,
           program_name);
    exit(0);
}

int
main(int argc, char *argv[])
{
    enum { OPT_RENEW = UCHAR_MAX + 1, OPT_CLAIMS, OPT_PREFIX_IP,
           OPT_UNIXCTL, OPT_TIMEOUT, OPT_STAY, OPT_LEASE_TIMES };
    static const struct option long_options[] = {
        {"renew", required_argument, NULL, OPT_RENEW},
        {"claims", required_argument, NULL, OPT_CLAIMS},
        {"prefix-ip", required_argument, NULL, OPT_PREFIX_IP},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"stay", no_argument, NULL, OPT_STAY},
        {"monitor-lease-times", no_argument, NULL, OPT_LEASE_TIMES},
        {"verbose", optional_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned int renew_s = 0;
    unsigned long int n_claims = 0;
    const char *prefix_ip = NULL;
    const char *unixctl_path = NULL;
    long long int timeout_ms = 60 * 1000;
    bool stay = false;
    bool lease_times = false;

    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
    for (;;) {
        int c = getopt_long(argc, argv, "v::h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_RENEW:
            renew_s = strtoul(optarg, NULL, 10);
            if (!renew_s) {
                ovs_fatal(0, "bad --renew: %s", optarg);
            }
            break;
        case OPT_CLAIMS:
            n_claims = strtoul(optarg, NULL, 10);
            if (!n_claims || n_claims > 65536) {
                ovs_fatal(0, "bad --claims: %s", optarg);
            }
            break;
        case OPT_PREFIX_IP:
            prefix_ip = optarg;
            break;
        case OPT_UNIXCTL:
            unixctl_path = optarg;
            break;
        case OPT_TIMEOUT:
            timeout_ms = strtoll(optarg, NULL, 10) * 1000;
            if (timeout_ms <= 0) {
                ovs_fatal(0, "bad --timeout: %s", optarg);
            }
            break;
        case OPT_STAY:
            stay = true;
            break;
        case OPT_LEASE_TIMES:
            lease_times = true;
            break;
        case 'v':
            vlog_set_verbosity(optarg);
            break;
        case 'h':
            usage();
            break;
        default:
            exit(2);
        }
    }
    if (argc - optind != (n_claims ? 1 : 2) || (n_claims && !prefix_ip)) {
        fprintf(stderr, "%s: bad arguments (--help for help)\n",
                program_name);
        exit(2);
    }
    const char *remotes = argv[optind];

    struct driver drv = { .exiting = false };
    uint32_t first_ip = parse_ip(n_claims ? prefix_ip : argv[optind + 1]);
    drv.n = n_claims ? n_claims : 1;
    drv.dirs = xcalloc(drv.n, sizeof *drv.dirs);
    for (size_t i = 0; i < drv.n; i++) {
        drv.dirs[i] = directory_create(remotes, first_ip + i, renew_s);
        if (lease_times) {
            directory_monitor_lease_times(drv.dirs[i]);
        }
    }

    /* SIGTERM and the like: unlink the unixctl socket and die. */
    fatal_signal_init();
    struct unixctl_server *unixctl = NULL;
    if (unixctl_path) {
        int error = unixctl_server_create(unixctl_path, &unixctl);
        if (error) {
            ovs_fatal(error, "%s: cannot create unixctl server",
                      unixctl_path);
        }
        unixctl_command_register("directory/show", "", 0, 0, show_cmd,
                                 &drv);
        unixctl_command_register("directory/stats", "", 0, 0, stats_cmd,
                                 &drv);
        unixctl_command_register("exit", "", 0, 0, exit_cmd, &drv);
    }

    long long int start = time_msec();
    int status = 0;
    bool claimed = false;
    while (!drv.exiting) {
        if (unixctl) {
            unixctl_server_run(unixctl);
        }

        size_t n_leases = 0;
        for (size_t i = 0; i < drv.n; i++) {
            struct ipv4_cidr lease;
            if (directory_run(drv.dirs[i]) && !n_claims) {
                print_state(drv.dirs[i]);
            }
            n_leases += directory_get_lease(drv.dirs[i], &lease);
        }
        if (n_claims && !claimed) {
            long long int now = time_msec();
            if (n_leases == drv.n) {
                printf("claimed %"PRIuSIZE" leases in %lld ms\n", drv.n,
                       now - start);
                fflush(stdout);
                if (!stay) {
                    break;
                }
                claimed = true;
            } else if (now >= start + timeout_ms) {
                printf("timeout: %"PRIuSIZE" of %"PRIuSIZE" leases in %lld "
                       "ms\n", n_leases, drv.n, now - start);
                status = 2;
                break;
            } else {
                poll_timer_wait_until(start + timeout_ms);
            }
        }

        for (size_t i = 0; i < drv.n; i++) {
            directory_wait(drv.dirs[i]);
        }
        if (unixctl) {
            unixctl_server_wait(unixctl);
        }
        poll_block();
    }
    fflush(stdout);

    unixctl_server_destroy(unixctl);
    for (size_t i = 0; i < drv.n; i++) {
        directory_destroy(drv.dirs[i]);
    }
    free(drv.dirs);
    return status;
}
