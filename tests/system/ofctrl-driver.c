/*
 * ofctrl-driver: drives flowctl's ofctrl against a real switch, for the
 * system tests (tests/system/test-ofctrl.sh).
 *
 * Usage: ofctrl-driver [OPTIONS] TARGET STEP...
 *
 * Connects an ofctrl to TARGET (e.g. unix:RUNDIR/br-cf.mgmt) and runs each
 * STEP in turn:
 *
 *   FILE         read the desired flows from FILE (one per line in
 *                ovs-ofctl's add-flow syntax; blank lines and lines starting
 *                with '#' are skipped), put them and wait until the put is
 *                acknowledged, fails or sends nothing;
 *   @reconnect   wait for the connection to drop and come back;
 *   @tlv=CLASS:TYPE:LEN:INDEX
 *                call ofctrl_set_tlv_map() (which, if connected, sends the
 *                TLV table request at once), as --tlv does at the start;
 *   @wait=PATH   wait until PATH exists (a test's go-ahead), without
 *                running the ofctrl: what the switch sends meanwhile waits
 *                in the socket.
 *
 * After each step it prints one line,
 *
 *   step N: put SEQNO acked|failed|unchanged (flows F, conflicts C)
 *   step N: reconnected (needs put: yes|no)
 *   step N: tlv map set
 *   step N: waited
 *
 * then the counters,
 *
 *   stats: connections=.. puts=.. unchanged=.. bundles=.. replaces=..
 *          commits=.. failed=.. flow_mods=.. meter_mods=.. tlv_mods=..
 *          errors=..
 *
 * (on one line).  Options:
 *
 *   --meter=ID:RATE:BURST   a meter (packets per second) to ensure; repeat
 *                           for more
 *   --tlv=CLASS:TYPE:LEN:INDEX
 *                           a Geneve option mapping to ensure (numbers in C
 *                           syntax: --tlv=0xfff0:0x80:4:0 maps class 0xfff0
 *                           type 0x80, 4 bytes, to tun_metadata0)
 *   --timeout=SECS          give up a step after SECS seconds (default 20)
 *   --show                  print ofctrl_format() at the end
 *   -v..., --verbose...     as for OVS programs (vlog)
 *
 * Exits 0 after the last step, 1 on a bad flow file, 2 on a timeout or bad
 * usage.
 */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byte-order.h"
#include "flow-table.h"
#include "ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl_driver);

static long long int timeout_ms = 20 * 1000;

/* Reads the flows in 'file_name' into 'table'.  Exits on error. */
static void
load_flows(const char *file_name, struct flow_table *table)
{
    FILE *stream = fopen(file_name, "r");
    if (!stream) {
        ovs_fatal(errno, "%s: open failed", file_name);
    }

    struct ds line = DS_EMPTY_INITIALIZER;
    int line_number = 0;
    while (!ds_get_preprocessed_line(&line, stream, &line_number)) {
        struct ofputil_flow_mod fm;
        enum ofputil_protocol usable;
        char *error = parse_ofp_flow_mod_str(&fm, ds_cstr(&line), NULL, NULL,
                                             OFPFC_ADD, &usable);
        if (error) {
            fprintf(stderr, "%s:%d: %s\n", file_name, line_number, error);
            exit(1);
        }

        struct match match;
        minimatch_expand(&fm.match, &match);
        flow_table_add(table, fm.table_id == OFPTT_ALL ? 0 : fm.table_id,
                       fm.priority, ntohll(fm.new_cookie), &match,
                       fm.ofpacts, fm.ofpacts_len);
        minimatch_destroy(&fm.match);
        free(fm.ofpacts);
    }
    ds_destroy(&line);
    fclose(stream);
}

/* Runs 'of' until 'done(of, aux)' or the step's deadline.  Exits on a
 * timeout, saying what it waited for. */
static void
run_until(struct ofctrl *of, bool (*done)(const struct ofctrl *, void *),
          void *aux, const char *what)
{
    long long int deadline = time_msec() + timeout_ms;

    for (;;) {
        ofctrl_run(of);
        if (done(of, aux)) {
            return;
        }
        if (time_msec() >= deadline) {
            struct ds s = DS_EMPTY_INITIALIZER;
            ofctrl_format(of, &s);
            fprintf(stderr, "timeout waiting for %s\n%s", what, ds_cstr(&s));
            ds_destroy(&s);
            exit(2);
        }
        ofctrl_wait(of);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static bool
can_put(const struct ofctrl *of, void *aux OVS_UNUSED)
{
    return ofctrl_can_put(of);
}

/* Done when the put with seqno '*aux' is acknowledged or has failed (the
 * ofctrl accepts puts again without having acknowledged it). */
static bool
put_done(const struct ofctrl *of, void *aux)
{
    uint64_t seqno = *(uint64_t *) aux;

    return ofctrl_acked_seqno(of) >= seqno || ofctrl_can_put(of);
}

/* Done when there has been a new connection since the count in '*aux' and
 * the ofctrl is ready for a put. */
static bool
reconnected(const struct ofctrl *of, void *aux)
{
    struct ofctrl_stats stats;

    ofctrl_get_stats(of, &stats);
    return stats.n_connections > *(uint64_t *) aux && ofctrl_can_put(of);
}

/* Waits until 'path' exists or the step's deadline, without running any
 * ofctrl.  Exits on a timeout. */
static void
wait_for_file(const char *path)
{
    long long int deadline = time_msec() + timeout_ms;

    while (access(path, F_OK)) {
        if (time_msec() >= deadline) {
            fprintf(stderr, "timeout waiting for %s\n", path);
            exit(2);
        }
        poll_timer_wait(100);
        poll_block();
    }
}

/* Parses "CLASS:TYPE:LEN:INDEX" (C syntax numbers) into 'tlv'.  Exits on
 * error, naming 'what'. */
static void
parse_tlv(const char *s, int tlv[4], const char *what)
{
    char extra;

    if (sscanf(s, "%i:%i:%i:%i%c", &tlv[0], &tlv[1], &tlv[2], &tlv[3],
               &extra) != 4
        || tlv[0] < 0 || tlv[0] > UINT16_MAX
        || tlv[1] < 0 || tlv[1] > UINT8_MAX
        || tlv[2] < 0 || tlv[2] > 124 || tlv[2] % 4
        || tlv[3] < 0 || tlv[3] >= 64) {
        ovs_fatal(0, "bad %s: %s", what, s);
    }
}

static void
print_stats(const struct ofctrl *of)
{
    struct ofctrl_stats st;

    ofctrl_get_stats(of, &st);
    printf("stats: connections=%"PRIu64" puts=%"PRIu64" unchanged=%"PRIu64
           " bundles=%"PRIu64" replaces=%"PRIu64" commits=%"PRIu64
           " failed=%"PRIu64" flow_mods=%"PRIu64" meter_mods=%"PRIu64
           " tlv_mods=%"PRIu64" errors=%"PRIu64"\n", st.n_connections,
           st.n_puts, st.n_unchanged, st.n_bundles, st.n_replaces,
           st.n_commits, st.n_failed, st.n_flow_mods, st.n_meter_mods,
           st.n_tlv_mods, st.n_errors);
    fflush(stdout);
}

static void
usage(void)
{
    printf("usage: %s [--meter=ID:RATE:BURST]...\n"
           "       [--tlv=CLASS:TYPE:LEN:INDEX] [--timeout=SECS] [--show]\n"
           "       TARGET STEP...\n"
           "STEP is a file of flows (ovs-ofctl add-flow syntax) to put,\n"
           "@reconnect to wait for a new connection,\n"
           "@tlv=CLASS:TYPE:LEN:INDEX to set the TLV mapping, or\n"
           "@wait=PATH to wait until PATH exists.\n", program_name);
    exit(0);
}

int
main(int argc, char *argv[])
{
    enum { OPT_METER = UCHAR_MAX + 1, OPT_TLV, OPT_TIMEOUT, OPT_SHOW };
    static const struct option long_options[] = {
        {"meter", required_argument, NULL, OPT_METER},
        {"tlv", required_argument, NULL, OPT_TLV},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"show", no_argument, NULL, OPT_SHOW},
        {"verbose", optional_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ofctrl_meter meters[16];
    size_t n_meters = 0;
    int tlv[4];
    bool has_tlv = false;
    bool show = false;

    set_program_name(argv[0]);
    for (;;) {
        int c = getopt_long(argc, argv, "v::h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_METER: {
            struct ofctrl_meter *m = &meters[n_meters];
            if (n_meters >= ARRAY_SIZE(meters)
                || sscanf(optarg, "%"SCNu32":%"SCNu32":%"SCNu32,
                          &m->meter_id, &m->rate_pps, &m->burst) != 3) {
                ovs_fatal(0, "bad or too many --meter: %s", optarg);
            }
            n_meters++;
            break;
        }
        case OPT_TLV:
            parse_tlv(optarg, tlv, "--tlv");
            has_tlv = true;
            break;
        case OPT_TIMEOUT:
            timeout_ms = strtoll(optarg, NULL, 10) * 1000;
            if (timeout_ms <= 0) {
                ovs_fatal(0, "bad --timeout: %s", optarg);
            }
            break;
        case OPT_SHOW:
            show = true;
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
    if (argc - optind < 2) {
        fprintf(stderr, "%s: need a target and at least one step "
                "(--help for help)\n", program_name);
        exit(2);
    }

    struct ofctrl *of = ofctrl_create(argv[optind]);
    ofctrl_set_meters(of, meters, n_meters);
    if (has_tlv) {
        ofctrl_set_tlv_map(of, tlv[0], tlv[1], tlv[2], tlv[3]);
    }

    for (int i = optind + 1; i < argc; i++) {
        int step = i - optind;

        if (!strcmp(argv[i], "@reconnect")) {
            struct ofctrl_stats st;
            ofctrl_get_stats(of, &st);
            run_until(of, reconnected, &st.n_connections, "a reconnection");
            printf("step %d: reconnected (needs put: %s)\n", step,
                   ofctrl_needs_put(of) ? "yes" : "no");
            print_stats(of);
            continue;
        }
        if (!strncmp(argv[i], "@tlv=", 5)) {
            parse_tlv(argv[i] + 5, tlv, "@tlv");
            ofctrl_set_tlv_map(of, tlv[0], tlv[1], tlv[2], tlv[3]);
            printf("step %d: tlv map set\n", step);
            print_stats(of);
            continue;
        }
        if (!strncmp(argv[i], "@wait=", 6)) {
            wait_for_file(argv[i] + 6);
            printf("step %d: waited\n", step);
            print_stats(of);
            continue;
        }

        struct flow_table desired;
        flow_table_init(&desired);
        load_flows(argv[i], &desired);

        run_until(of, can_put, NULL, "the switch");

        struct ofctrl_stats before, after;
        ofctrl_get_stats(of, &before);
        uint64_t seqno = ofctrl_put(of, &desired);
        run_until(of, put_done, &seqno, "the put's acknowledgement");
        ofctrl_get_stats(of, &after);

        const char *outcome = (after.n_unchanged > before.n_unchanged
                               ? "unchanged"
                               : ofctrl_acked_seqno(of) >= seqno ? "acked"
                               : "failed");
        printf("step %d: put %"PRIu64" %s (flows %"PRIuSIZE
               ", conflicts %"PRIuSIZE")\n", step, seqno, outcome,
               flow_table_count(&desired), flow_table_n_conflicts(&desired));
        print_stats(of);
        flow_table_destroy(&desired);
    }

    if (show) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ofctrl_format(of, &s);
        fputs(ds_cstr(&s), stdout);
        ds_destroy(&s);
    }
    ofctrl_destroy(of);
    return 0;
}
