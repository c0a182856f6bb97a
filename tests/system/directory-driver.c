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
 *                      directories, summed, on one line; "wakeups", the
 *                      times a child's poll loop woke, only with --fork)
 *                      and "exit"
 *   --timeout=SECS     --claims: give up after SECS (default 60), exit 2
 *   --stay             --claims: keep running once all hold a lease
 *   --monitor-lease-times
 *                      every directory's view replicates the lease times
 *                      too, as before the view left them out
 *                      (directory_monitor_lease_times()): the "before"
 *                      of bench/directory-scale
 *   --fork             --claims: run each directory in a process of its
 *                      own, as each cell runs its own flowctl.  In one
 *                      process every wake-up runs every directory, so the
 *                      simulation's CPU grows with the square of the
 *                      directories a process holds; forked, a directory
 *                      runs only when its own sessions or timers wake it.
 *                      The children publish their counters in memory
 *                      shared with this process, which answers
 *                      directory/stats and exit for all of them
 *   -v..., --verbose...  as for OVS programs (vlog)
 */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* --fork: what a child publishes for the parent.  The child rewrites its
 * slot after every run of its directory; the parent only reads.  A read
 * may mix two writes, which costs a stale counter in one sample, never a
 * wrong one (each field is an aligned 8-byte or 1-byte store). */
struct child_slot {
    struct directory_stats stats;
    unsigned long long int n_wakeups;   /* Returns from poll_block(). */
};

struct driver {
    struct directory **dirs;    /* In this process (none with --fork). */
    struct child_slot *slots;   /* --fork: one per child, shared. */
    pid_t *pids;                /* --fork: the children. */
    size_t n;
    bool exiting;
};

static void
driver_get_stats(const struct driver *drv, size_t i,
                 struct directory_stats *st)
{
    if (drv->slots) {
        *st = drv->slots[i].stats;
    } else {
        directory_get_stats(drv->dirs[i], st);
    }
}

static void
show_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *drv_)
{
    struct driver *drv = drv_;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (drv->slots) {
        unixctl_command_reply_error(conn, "not with --fork (the "
                                    "directories are in the children)");
        return;
    }
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
    unsigned long long int n_wakeups = 0;

    for (size_t i = 0; i < drv->n; i++) {
        struct directory_stats st;
        driver_get_stats(drv, i, &st);
        n_connected += st.connected;
        n_leases += st.have_lease;
        sum.n_claims += st.n_claims;
        sum.n_renewals += st.n_renewals;
        sum.n_failures += st.n_failures;
        sum.n_view_updates += st.n_view_updates;
        sum.n_rows_read += st.n_rows_read;
        sum.n_view_received += st.n_view_received;
        sum.n_own_received += st.n_own_received;
        n_wakeups += drv->slots ? drv->slots[i].n_wakeups : 0;
    }

    char *s = xasprintf("cells %"PRIuSIZE" connected %"PRIuSIZE" leases "
                        "%"PRIuSIZE" claims %llu renewals %llu failures %llu "
                        "view_updates %llu rows_read %llu view_received "
                        "%llu own_received %llu wakeups %llu",
                        drv->n, n_connected, n_leases, sum.n_claims,
                        sum.n_renewals, sum.n_failures, sum.n_view_updates,
                        sum.n_rows_read, sum.n_view_received,
                        sum.n_own_received, n_wakeups);
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

/* Ends the --fork children started so far and reaps them. */
static void
stop_children(struct driver *drv)
{
    for (size_t i = 0; i < drv->n; i++) {
        if (drv->pids[i] > 0) {
            kill(drv->pids[i], SIGTERM);
        }
    }
    for (size_t i = 0; i < drv->n; i++) {
        if (drv->pids[i] > 0) {
            while (waitpid(drv->pids[i], NULL, 0) < 0 && errno == EINTR) {
                continue;
            }
            drv->pids[i] = 0;
        }
    }
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

/* The body of a --fork child: runs the directory of 'underlay_ip' until
 * SIGTERM (or its parent's death), publishing its counters in 'slot'. */
static void OVS_NO_RETURN
run_child(struct child_slot *slot, const char *remotes, uint32_t underlay_ip,
          unsigned int renew_s, bool lease_times)
{
    /* The parent's fatal-signal hooks (its unixctl socket) are not ours. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() == 1) {
        _exit(1);
    }

    struct directory *d = directory_create(remotes, underlay_ip, renew_s);
    if (lease_times) {
        directory_monitor_lease_times(d);
    }
    for (;;) {
        directory_run(d);
        directory_get_stats(d, &slot->stats);
        directory_wait(d);
        poll_block();
        slot->n_wakeups++;
    }
}

/* --fork: one child per directory, with the counters in shared memory. */
static void
fork_children(struct driver *drv, const char *remotes, uint32_t first_ip,
              unsigned int renew_s, bool lease_times)
{
    size_t size = drv->n * sizeof *drv->slots;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        ovs_fatal(errno, "mmap of %"PRIuSIZE" bytes", size);
    }
    drv->slots = p;
    drv->pids = xcalloc(drv->n, sizeof *drv->pids);
    for (size_t i = 0; i < drv->n; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            int error = errno;
            stop_children(drv);
            ovs_fatal(error, "fork of child %"PRIuSIZE, i);
        } else if (!pid) {
            run_child(&drv->slots[i], remotes, first_ip + i, renew_s,
                      lease_times);
        }
        drv->pids[i] = pid;
    }
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
           "[--fork]\n"
           "           --claims=N --prefix-ip=A.B.C.D REMOTES\n", program_name,
           program_name);
    exit(0);
}

int
main(int argc, char *argv[])
{
    enum { OPT_RENEW = UCHAR_MAX + 1, OPT_CLAIMS, OPT_PREFIX_IP,
           OPT_UNIXCTL, OPT_TIMEOUT, OPT_STAY, OPT_LEASE_TIMES, OPT_FORK };
    static const struct option long_options[] = {
        {"renew", required_argument, NULL, OPT_RENEW},
        {"claims", required_argument, NULL, OPT_CLAIMS},
        {"prefix-ip", required_argument, NULL, OPT_PREFIX_IP},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"stay", no_argument, NULL, OPT_STAY},
        {"monitor-lease-times", no_argument, NULL, OPT_LEASE_TIMES},
        {"fork", no_argument, NULL, OPT_FORK},
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
    bool fork_each = false;

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
        case OPT_FORK:
            fork_each = true;
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
    if (argc - optind != (n_claims ? 1 : 2) || (n_claims && !prefix_ip)
        || (fork_each && !n_claims)) {
        fprintf(stderr, "%s: bad arguments (--help for help)\n",
                program_name);
        exit(2);
    }
    const char *remotes = argv[optind];

    struct driver drv = { .exiting = false };
    uint32_t first_ip = parse_ip(n_claims ? prefix_ip : argv[optind + 1]);
    drv.n = n_claims ? n_claims : 1;
    if (fork_each) {
        fork_children(&drv, remotes, first_ip, renew_s, lease_times);
    } else {
        drv.dirs = xcalloc(drv.n, sizeof *drv.dirs);
        for (size_t i = 0; i < drv.n; i++) {
            drv.dirs[i] = directory_create(remotes, first_ip + i, renew_s);
            if (lease_times) {
                directory_monitor_lease_times(drv.dirs[i]);
            }
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
            struct directory_stats st;
            if (drv.dirs && directory_run(drv.dirs[i]) && !n_claims) {
                print_state(drv.dirs[i]);
            }
            driver_get_stats(&drv, i, &st);
            n_leases += st.have_lease;
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

        if (drv.slots) {
            poll_timer_wait(100);       /* To look at the children's. */
        }
        for (size_t i = 0; drv.dirs && i < drv.n; i++) {
            directory_wait(drv.dirs[i]);
        }
        if (unixctl) {
            unixctl_server_wait(unixctl);
        }
        poll_block();
    }
    fflush(stdout);

    unixctl_server_destroy(unixctl);
    if (drv.pids) {
        stop_children(&drv);
    }
    for (size_t i = 0; drv.dirs && i < drv.n; i++) {
        directory_destroy(drv.dirs[i]);
    }
    free(drv.dirs);
    return status;
}
