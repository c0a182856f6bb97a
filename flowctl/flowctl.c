/*
 * flowctl: the per-cell flow controller.
 *
 * One poll loop: the local OVSDB through the IDL (localdb.c), the bridge's
 * flows through ofctrl.c, rejects through pinctrl.c, operators through
 * unixctl.  Each iteration: read the database into the model, bring the
 * desired flows up to date if the model changed (pipeline.c, pure and
 * incremental), put them when the switch can take them, and mark the
 * containers whose flows OVS has acknowledged.  docs/architecture.md tells
 * the whole story.
 *
 * This file only wires the modules together.  Each module registers its
 * own unixctl commands: flowctl/rule-stats (flowstats.c), flowctl/cells
 * (directory.c), flowctl/trace (trace.c), flowctl/policy-sync
 * (policysync.c).  flowctl/show, assembled from
 * the modules' format functions, flowctl/recompute and exit drive the loop
 * itself and live here.
 */

#include <config.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfnet.h"
#include "command-line.h"
#include "daemon.h"
#include "ctflush.h"
#include "ctwalk.h"
#include "directory.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "flow-table.h"
#include "flowctl-config.h"
#include "flowstats.h"
#include "hostnet.h"
#include "localdb.h"
#include "logctl.h"
#include "logsnap.h"
#include "metrics.h"
#include "model.h"
#include "ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "pinctrl.h"
#include "pipeline.h"
#include "policysync.h"
#include "promhttp.h"
#include "runner.h"
#include "sighup.h"
#include "smap.h"
#include "timeval.h"
#include "trace.h"
#include "unixctl.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(flowctl);

struct flowctl {
    struct flowctl_config cfg;
    struct model model;
    struct localdb *localdb;
    struct directory *directory;        /* Cluster mode only. */
    bool directory_started;             /* Told the earlier subnet. */
    bool have_subnet;                   /* Configured, or leased. */
    struct ofctrl *ofctrl;
    struct pinctrl *pinctrl;
    struct logctl *logctl;              /* NULL: no log_file. */
    char *cell_name;                    /* Its lines' "cell". */
    struct flowstats *flowstats;        /* Rule hit counts. */
    struct runner *runner;              /* ovs-appctl, iptables. */
    struct hostnet *hostnet;            /* The host side. */
    struct trace *trace;                /* flowctl/trace. */
    struct policysync *policysync;      /* NULL: no policy server. */
    struct promhttp *metrics;           /* NULL: no metrics_address. */
    struct pipeline *pipeline;          /* The desired flows. */
    struct ctflush ctflush;             /* Whose conntrack entries go. */
    struct ctwalk *ctwalk;              /* The zone's walk at start. */
    bool recompute;             /* Model changed: run the pipeline. */
    bool put_pending;           /* Desired flows not yet put. */
    bool hostnet_done;                  /* Its spec is given. */
    long long int last_recompute_ms;
    bool stale_checked;         /* Stale ports removed at start. */
    uint64_t replace_seqno;     /* Last put that replaced all flows. */
    uint64_t put_seqno;         /* Last put. */
    bool frw_seen;              /* flow-restore-wait is set... */
    uint64_t frw_after;         /* ...since after this replacing put. */
    bool exiting;
};

static char *config_file;
static bool check_config;       /* --check-config: validate, then exit. */
static char *unixctl_path;      /* --unixctl: the control socket. */

static void
usage(void)
{
    printf("%s: the cni-ovs flow controller\n"
           "usage: %s [OPTIONS] --config FILE\n"
           "\nOptions:\n"
           "  --config FILE           flowctl's JSON configuration\n"
           "  --check-config          check the configuration (as a start\n"
           "                          would read it), print what is wrong\n"
           "                          or \"ok\", and exit\n"
           "  --unixctl=SOCKET        the control socket (default:\n"
           "                          OVS_RUNDIR/flowctl.PID.ctl)\n",
           program_name, program_name);
    daemon_usage();
    vlog_usage();
    printf("  -h, --help              display this help message\n");
    exit(EXIT_SUCCESS);
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_CONFIG = UCHAR_MAX + 1,
        OPT_CHECK_CONFIG,
        OPT_UNIXCTL,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"help", no_argument, NULL, 'h'},
        VLOG_LONG_OPTIONS,
        DAEMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(
        long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_CONFIG:
            config_file = optarg;
            break;
        case OPT_CHECK_CONFIG:
            check_config = true;
            break;
        case OPT_UNIXCTL:
            unixctl_path = optarg;
            break;
        case 'h':
            usage();
            OVS_NOT_REACHED();
        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            OVS_NOT_REACHED();
        }
    }
    free(short_options);
    if (!config_file) {
        ovs_fatal(0, "--config FILE is required (try --help)");
    }
}

/* The container MTU for 'cfg' (flowctl_container_mtu() decides), from the
 * underlay interface's MTU.  Exits with the reason if there is none. */
static unsigned int
container_mtu(const struct flowctl_config *cfg)
{
    int underlay = 0;
    int error = hostnet_get_mtu(cfg->underlay_interface, &underlay);
    if (error) {
        ovs_fatal(error, "underlay_interface %s: cannot read its MTU",
                  cfg->underlay_interface);
    }

    unsigned int mtu;
    char *msg = flowctl_container_mtu(cfg->underlay_interface, underlay,
                                      cfg->mtu, &mtu);
    if (msg) {
        ovs_fatal(0, "%s", msg);
    }
    return mtu;
}

/* The host's name (the traffic log's default "cell"), or "" if it has
 * none. */
static char *
host_name(void)
{
    char name[256];

    if (gethostname(name, sizeof name)) {
        return xstrdup("");
    }
    name[sizeof name - 1] = '\0';
    return xstrdup(name);
}

/* ---- unixctl ---- */

static void
flowctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *fc_)
{
    struct flowctl *fc = fc_;
    struct ds s = DS_EMPTY_INITIALIZER;

    localdb_format(fc->localdb, &fc->model, &s);
    if (fc->directory) {
        ds_put_char(&s, '\n');
        directory_format(fc->directory, &s);
        ds_put_char(&s, '\n');
    }
    policysync_format(fc->policysync, &s);
    ds_put_char(&s, '\n');
    struct pipeline_stats ps;
    pipeline_get_stats(fc->pipeline, &ps);
    ds_put_format(&s, "desired flows: %"PRIuSIZE", last recompute %lld ms "
                  "(%"PRIuSIZE" of %"PRIuSIZE" units computed, %"PRIuSIZE
                  " removed, %"PRIuSIZE" flows changed)\n",
                  flow_table_count(pipeline_flows(fc->pipeline)),
                  fc->last_recompute_ms, ps.n_computed, ps.n_units,
                  ps.n_removed, ps.n_flows_changed);
    ds_put_cstr(&s, "host side: ");
    hostnet_format_status(fc->hostnet, &s);
    ds_put_char(&s, '\n');
    if (fc->ofctrl) {
        ds_put_cstr(&s, "\nflow installation:\n");
        ofctrl_format(fc->ofctrl, &s);
        ds_put_cstr(&s, "\nrejects (packet-ins):\n");
        pinctrl_format(fc->pinctrl, &s);
        if (fc->logctl) {
            ds_put_cstr(&s, "\ntraffic log:\n");
            logctl_format(fc->logctl, &s);
        }
        flowstats_reply_show(fc->flowstats, conn, &s);
    } else {
        ds_put_cstr(&s, "OpenFlow: waiting for the bridge\n");
        unixctl_command_reply(conn, ds_cstr(&s));
    }
    ds_destroy(&s);
}

static bool can_compute(const struct flowctl *);
static void compute_flows(struct flowctl *);
static const char *ready_wait(const struct flowctl *);

/* The metrics endpoint's text (metrics.h): a sample of what each module
 * counts. */
static void
fill_metrics(void *fc_, struct ds *out)
{
    struct flowctl *fc = fc_;
    struct metrics_sample s;

    memset(&s, 0, sizeof s);
    s.ready = !ready_wait(fc);
    s.n_containers = hmap_count(&fc->model.containers);
    s.n_refused = shash_count(&fc->model.refused);
    s.n_desired_flows = flow_table_count(pipeline_flows(fc->pipeline));
    s.install_latency = *localdb_get_install_latency(fc->localdb);
    if (fc->ofctrl) {
        struct ofctrl_stats os;
        ofctrl_get_stats(fc->ofctrl, &os);
        s.openflow_connected = ofctrl_is_connected(fc->ofctrl);
        s.n_bundles = os.n_bundles;
        s.n_bundles_failed = os.n_failed;
        s.n_flow_mods = os.n_flow_mods;
        s.n_flows_refused = os.n_refused;
        s.n_openflow_errors = os.n_errors;

        struct pinctrl_stats ps;
        pinctrl_get_stats(fc->pinctrl, &ps);
        s.n_packet_ins = ps.n_packet_ins;
        s.n_tcp_resets = ps.n_tcp_resets;
        s.n_icmp_unreachables = ps.n_icmp_unreach;
    }
    if (fc->policysync) {
        struct policysync_fetch_stats kinds[2];
        static const char *names[2] = { "policies", "security_groups" };
        bool asgs = policysync_get_stats(fc->policysync, &kinds[0],
                                         &kinds[1]);
        long long int now = time_wall_msec();
        s.n_fetches = asgs ? 2 : 1;
        for (size_t i = 0; i < s.n_fetches; i++) {
            s.fetches[i].kind = names[i];
            s.fetches[i].n_ok = kinds[i].n_ok;
            s.fetches[i].n_failed = kinds[i].n_failed;
            s.fetches[i].age_s = (kinds[i].last_ok_wall
                                  ? (now - kinds[i].last_ok_wall) / 1000.0
                                  : -1);
        }
    }
    if (fc->logctl) {
        struct logctl_stats ls;
        logctl_get_stats(fc->logctl, &ls);
        s.has_log = true;
        s.n_log_lines = ls.n_lines;
        s.n_log_lines_lost = ls.n_lines_lost;
        for (size_t id = 0; id < LOGCTL_N_METER_IDS
                            && id < METRICS_MAX_METERS; id++) {
            if (ls.meters[id].known) {
                s.meters[id].name = pipeline_meter_name(id);
                s.meters[id].packets = ls.meters[id].packets;
                s.meters[id].dropped = ls.meters[id].dropped;
            }
        }
    }
    if (fc->directory) {
        struct ipv4_cidr lease;
        s.is_cluster = true;
        s.directory_connected = directory_is_connected(fc->directory);
        s.lease_held = directory_get_lease(fc->directory, &lease);
        struct directory_stats ds;
        directory_get_stats(fc->directory, &ds);
        s.n_directory_messages = ds.n_view_received + ds.n_own_received;
    }
    metrics_format(&s, out);
}

/* flowctl/ready: "ready" once the cell is set up and OVS has committed the
 * last flow table flowctl put; otherwise an error naming what it waits
 * for.  The BOSH job's post-start (and an operator's health check) ask
 * this; ready_wait() is what it waits for, NULL if nothing. */
static const char *
ready_wait(const struct flowctl *fc)
{
    const char *wait = NULL;

    if (!fc->have_subnet) {
        wait = fc->directory ? "the cell's subnet lease from cfnet-db"
                             : "the cell's subnet";
    } else if (!fc->model.cell.gateway_ofport) {
        wait = "the bridge and its gateway port";
    } else if (!fc->ofctrl || !ofctrl_is_connected(fc->ofctrl)) {
        wait = "the OpenFlow connection to the bridge";
    } else if (!fc->replace_seqno || fc->put_pending || fc->recompute
               || ofctrl_acked_seqno(fc->ofctrl) < fc->put_seqno) {
        wait = "OVS to commit the flows";
    }
    return wait;
}

static void
flowctl_ready(struct unixctl_conn *conn, int argc OVS_UNUSED,
              const char *argv[] OVS_UNUSED, void *fc_)
{
    const char *wait = ready_wait(fc_);

    if (wait) {
        char *msg = xasprintf("not ready: waiting for %s", wait);
        unixctl_command_reply_error(conn, msg);
        free(msg);
    } else {
        unixctl_command_reply(conn, "ready");
    }
}

/* A full recompute, compared with the incremental result: they must agree
 * (pipeline.h).  If they do not (a bug), the full one replaces it and is
 * put. */
static void
flowctl_recompute(struct unixctl_conn *conn, int argc OVS_UNUSED,
                  const char *argv[] OVS_UNUSED, void *fc_)
{
    struct flowctl *fc = fc_;

    if (!can_compute(fc)) {
        unixctl_command_reply(conn, "nothing to compute yet: waiting for "
                              "the bridge and the cell's subnet");
        return;
    }
    if (fc->recompute) {
        compute_flows(fc);
    }

    struct ds report = DS_EMPTY_INITIALIZER;
    long long int start = time_msec();
    size_t n = pipeline_check(fc->pipeline, &fc->model, &report);
    long long int ms = time_msec() - start;
    size_t n_flows = flow_table_count(pipeline_flows(fc->pipeline));
    if (!n) {
        ds_clear(&report);
        ds_put_format(&report, "full recompute (%lld ms): %"PRIuSIZE
                      " flows, the same as the incremental ones", ms,
                      n_flows);
    } else {
        VLOG_ERR("full recompute differs from the incremental flows in "
                 "%"PRIuSIZE" flows: %s", n, ds_cstr(&report));
        struct ds msg = DS_EMPTY_INITIALIZER;
        ds_put_format(&msg, "full recompute (%lld ms): %"PRIuSIZE" flows "
                      "differ from the incremental ones; the full table "
                      "replaces them\n%s", ms, n, ds_cstr(&report));
        ds_swap(&msg, &report);
        ds_destroy(&msg);
        pipeline_destroy(fc->pipeline);
        fc->pipeline = pipeline_create();
        compute_flows(fc);
    }
    unixctl_command_reply(conn, ds_cstr(&report));
    ds_destroy(&report);
}

/* flowctl/reopen: the traffic log's file is closed and its path opened
 * again (logrotate), as on SIGHUP. */
static void
flowctl_reopen(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *fc_)
{
    struct flowctl *fc = fc_;

    if (!fc->cfg.log_file) {
        unixctl_command_reply_error(conn, "no log_file is configured: "
                                    "there is no traffic log");
    } else if (!fc->logctl) {
        unixctl_command_reply(conn, "the traffic log starts with the "
                              "bridge's OpenFlow connection");
    } else {
        logctl_reopen(fc->logctl);
        unixctl_command_reply(conn, NULL);
    }
}

/* flowctl/c2c-logging [on|off]: turns c2c logging on or off until the
 * next restart (the configuration's c2c_logging says what a start does),
 * as silk's debug endpoint does; says what it is. */
static void
flowctl_c2c_logging(struct unixctl_conn *conn, int argc, const char *argv[],
                    void *fc_)
{
    struct flowctl *fc = fc_;
    struct model_cell *cell = &fc->model.cell;

    if (argc > 1) {
        bool on = !strcmp(argv[1], "on");
        if (!on && strcmp(argv[1], "off")) {
            unixctl_command_reply_error(conn, "usage: flowctl/c2c-logging "
                                        "[on|off]");
            return;
        }
        if (!fc->cfg.log_file) {
            unixctl_command_reply_error(conn, "no log_file is configured: "
                                        "there is no traffic log");
            return;
        }
        if (on != cell->c2c_logging) {
            cell->c2c_logging = on;
            fc->recompute = true;
            VLOG_INFO("c2c logging turned %s", on ? "on" : "off");
        }
    }
    unixctl_command_reply(conn, !cell->logging ? "off (no log_file)"
                          : !cell->c2c_logging ? "off"
                          : cell->c2c_open
                          ? "on (but disable_container_network_policy is "
                            "set: no policy decides, nothing is logged)"
                          : "on");
}

static void
flowctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *fc_)
{
    struct flowctl *fc = fc_;

    fc->exiting = true;
    poll_immediate_wake();
    unixctl_command_reply(conn, NULL);
}

/* ---- the loop ---- */

/* Gives hostnet the host side's spec, once the gateway port and the subnet
 * are known (and again when the overlay networks change); hostnet applies
 * it in the background and retries on its own. */
static void
run_hostnet(struct flowctl *fc)
{
    if (!fc->hostnet_done && localdb_gateway_ofport(fc->localdb)
        && fc->have_subnet) {
        const struct model_cell *mc = &fc->model.cell;
        struct hostnet_spec spec = {
            .gw_ifname = LOCALDB_GW_PORT,
            .gw_ip = mc->subnet.addr + 1,
            .underlay_interface = fc->cfg.underlay_interface,
            .netin_port_min = fc->cfg.netin_port_min,
            .netin_port_max = fc->cfg.netin_port_max,
            .cell = mc,
        };
        hostnet_apply(fc->hostnet, &spec);
        fc->hostnet_done = true;
    }
    hostnet_run(fc->hostnet);
}

/* Is the walk of the conntrack zone at start (ctwalk.h) to come (it starts
 * once the switch is connected) or under way?  Until it is over, no flows
 * are put and ctflush sees no model, so that the first model it sees, and
 * the first put's flushes, include the walk's addresses. */
static bool
walking(const struct flowctl *fc)
{
    return !fc->ctwalk || !ctwalk_is_done(fc->ctwalk);
}

/* Can flows be computed: is the bridge's gateway port known, and the
 * cell's subnet? */
static bool
can_compute(const struct flowctl *fc)
{
    return fc->model.cell.gateway_ofport && fc->have_subnet;
}

/* Brings the desired flows up to date with the model (incrementally:
 * pipeline.h) and schedules a put. */
static void
compute_flows(struct flowctl *fc)
{
    long long int start = time_msec();
    pipeline_run(fc->pipeline, &fc->model);
    localdb_note_desired(fc->localdb, &fc->model);
    if (fc->ofctrl && !walking(fc)) {
        /* With the next put (until then, the model the next computation
         * sees is compared with the last one's instead). */
        uint32_t *addrs;
        size_t n = ctflush_update(&fc->ctflush, &fc->model, &addrs);
        ofctrl_flush_conntrack(fc->ofctrl, PIPELINE_CT_ZONE, addrs, n);
        free(addrs);
    }
    fc->last_recompute_ms = time_msec() - start;
    fc->recompute = false;
    fc->put_pending = true;
    if (fc->logctl) {
        size_t n;
        const struct pipeline_ruleset *rs = pipeline_rulesets(fc->pipeline,
                                                              &n);
        logctl_set_snapshot(fc->logctl,
                            logsnap_create(&fc->model, rs, n,
                                           fc->cfg.host_guid,
                                           fc->cell_name));
    }

    struct pipeline_stats ps;
    pipeline_get_stats(fc->pipeline, &ps);
    VLOG_DBG("computed %"PRIuSIZE" of %"PRIuSIZE" units in %lld ms: "
             "%"PRIuSIZE" of %"PRIuSIZE" flows changed", ps.n_computed,
             ps.n_units, fc->last_recompute_ms, ps.n_flows_changed,
             flow_table_count(pipeline_flows(fc->pipeline)));
    size_t conflicts = pipeline_n_conflicts(fc->pipeline);
    if (conflicts) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%"PRIuSIZE" flows conflict with others (two "
                     "containers with the same host port?); the "
                     "container with the lower ofport wins", conflicts);
    }
}

static void
run_flows(struct flowctl *fc)
{
    if (!fc->ctwalk && ofctrl_is_connected(fc->ofctrl)) {
        /* The conntrack entries of containers deleted while flowctl was
         * away: known before the first put, which flushes them. */
        fc->ctwalk = ctwalk_start(fc->runner, (fc->cfg.netdev
                                               ? "netdev@ovs-netdev"
                                               : "system@ovs-system"),
                                  PIPELINE_CT_ZONE, &fc->ctflush);
    }
    if ((fc->recompute || (!fc->ctflush.primed && !walking(fc)))
        && can_compute(fc)) {
        compute_flows(fc);
    }
    if (ofctrl_needs_put(fc->ofctrl) && fc->model.cell.gateway_ofport
        && !fc->put_pending) {
        fc->put_pending = true;
    }
    if (fc->put_pending && ofctrl_can_put(fc->ofctrl) && !walking(fc)) {
        bool replace = ofctrl_needs_put(fc->ofctrl);
        uint64_t seqno = ofctrl_put(fc->ofctrl, pipeline_flows(fc->pipeline));
        localdb_note_put(fc->localdb, seqno);
        fc->put_seqno = seqno;
        if (replace) {
            fc->replace_seqno = seqno;
        }
        fc->put_pending = false;
    }
}

/* Connects flow installation and packet-in handling to the bridge. */
static void
start_openflow(struct flowctl *fc)
{
    char *target = fc->cfg.openflow
                   ? xstrdup(fc->cfg.openflow)
                   : xasprintf("unix:%s/%s.mgmt", ovs_rundir(),
                               fc->cfg.bridge);
    /* The meters (pipeline.h): each with a second's worth of burst. */
    const struct flowctl_config *cfg = &fc->cfg;
    struct ofctrl_meter meters[] = {
        { PIPELINE_METER_REJECT, cfg->reject_rate, cfg->reject_rate },
#define LOG_METER(ID, RATE) { PIPELINE_METER_LOG_##ID, RATE, RATE }
        LOG_METER(ASG_ACCEPT, PIPELINE_LOG_ACCEPT_RATE),
        LOG_METER(ASG_UDP, cfg->accepted_udp_logs_per_sec),
        LOG_METER(ASG_DENY, cfg->denied_logs_per_sec),
        LOG_METER(C2C_ACCEPT, PIPELINE_LOG_ACCEPT_RATE),
        LOG_METER(C2C_UDP, cfg->accepted_udp_logs_per_sec),
        LOG_METER(C2C_DENY, cfg->denied_logs_per_sec),
#undef LOG_METER
    };

    fc->ofctrl = ofctrl_create(target);
    ofctrl_set_meters(fc->ofctrl, meters,
                      cfg->log_file ? ARRAY_SIZE(meters) : 1);
    fc->pinctrl = pinctrl_create(target);
    if (cfg->log_file) {
        /* Its snapshot comes with the next pipeline run (which only
         * recomputes what changed). */
        fc->logctl = logctl_create(target, cfg->log_file);
        fc->recompute = true;
    }
    flowstats_connect(fc->flowstats, target);
    trace_set_ready(fc->trace);
    if (fc->directory) {
        /* The app tag rides in tun_metadata0: map it before any flow. */
        ofctrl_set_tlv_map(fc->ofctrl, CFNET_GENEVE_CLASS, CFNET_GENEVE_TYPE,
                           CFNET_GENEVE_LEN, CFNET_GENEVE_METADATA_IDX);
    }
    VLOG_INFO("OpenFlow: %s", target);
    free(target);
}

/* Notes when flow-restore-wait appears (an operator restarting
 * ovs-vswitchd), before this iteration's put. */
static void
watch_flow_restore_wait(struct flowctl *fc, struct ovsdb_idl *idl)
{
    const struct ovsrec_open_vswitch *ovs = ovsrec_open_vswitch_first(idl);
    bool frw = ovs && smap_get_bool(&ovs->other_config, "flow-restore-wait",
                                    false);

    if (frw && !fc->frw_seen) {
        fc->frw_seen = true;
        fc->frw_after = fc->replace_seqno;
    } else if (!frw) {
        fc->frw_seen = false;
    }
}

/* Ends flow-restore-wait once a put that replaced every flow, made after
 * the flag appeared, is acknowledged by the switch we are connected to. */
static void
end_flow_restore_wait(struct flowctl *fc, struct ovsdb_idl_txn *txn,
                      uint64_t acked)
{
    if (fc->frw_seen && fc->replace_seqno > fc->frw_after
        && acked >= fc->replace_seqno && ofctrl_is_connected(fc->ofctrl)
        && !ofctrl_needs_put(fc->ofctrl)) {
        localdb_end_flow_restore_wait(fc->localdb, txn);
    }
}

/* The cell's subnet is known (configured, or leased): the gateway's
 * address and MAC follow from it. */
static void
set_subnet(struct flowctl *fc, const struct ipv4_cidr *subnet)
{
    fc->model.cell.subnet = *subnet;
    fc->model.cell.gateway_host_ip = subnet->addr + 1;
    cfnet_host_mac(fc->model.cell.gateway_host_ip,
                   fc->model.cell.gateway_host_mac);
    localdb_set_subnet(fc->localdb, subnet);
    fc->have_subnet = true;
}

/* Cluster mode: takes the lease, the overlay networks and the other cells
 * from the directory into the model. */
static void
run_directory(struct flowctl *fc, struct ovsdb_idl *idl)
{
    if (!fc->directory) {
        return;
    }
    if (!fc->directory_started) {
        /* First the local database: the subnet an earlier run published
         * is the one to claim again if it is free. */
        if (!ovsdb_idl_has_ever_connected(idl)) {
            return;
        }
        struct ipv4_cidr earlier;
        if (localdb_published_subnet(fc->localdb, &earlier)) {
            VLOG_INFO("an earlier run published subnet "IP_FMT"/%u: "
                      "claiming it again if it is free",
                      IP_ARGS(htonl(earlier.addr)), earlier.plen);
            directory_set_hint(fc->directory, &earlier);
        }
        fc->directory_started = true;
    }
    if (!directory_run(fc->directory)) {
        return;
    }

    struct ipv4_cidr subnet;
    if (!fc->have_subnet && directory_get_lease(fc->directory, &subnet)) {
        VLOG_INFO("subnet lease "IP_FMT"/%u", IP_ARGS(htonl(subnet.addr)),
                  subnet.plen);
        set_subnet(fc, &subnet);
        fc->recompute = true;
    }

    size_t n;
    const struct ipv4_cidr *overlays = directory_get_overlays(fc->directory,
                                                               &n);
    struct model_cell *mc = &fc->model.cell;
    if (n && (n != mc->n_overlays
              || memcmp(overlays, mc->overlays, n * sizeof *overlays))) {
        free(mc->overlays);
        mc->overlays = xmemdup(overlays, n * sizeof *overlays);
        mc->n_overlays = n;
        fc->hostnet_done = false;       /* Routes and masquerading. */
        fc->recompute = true;
    }

    const struct model_remote *remotes = directory_get_remotes(fc->directory,
                                                               &n);
    if (model_set_remotes(&fc->model, remotes, n)) {
        fc->recompute = true;
    }
}

int
main(int argc, char *argv[])
{
    struct flowctl fc;
    struct unixctl_server *unixctl;

    sighup_init();              /* Before fatal-signal makes it fatal. */
    set_program_name(argv[0]);
    service_start(&argc, &argv);
    parse_options(argc, argv);
    fatal_ignore_sigpipe();

    memset(&fc, 0, sizeof fc);
    char *error = flowctl_config_read(config_file, &fc.cfg);
    if (check_config) {
        /* What a start would refuse of the file itself; the cell (its
         * underlay interface, OVS) is not looked at. */
        if (error) {
            fprintf(stderr, "%s\n", error);
            exit(EXIT_FAILURE);
        }
        printf("%s: ok\n", config_file);
        flowctl_config_destroy(&fc.cfg);
        exit(EXIT_SUCCESS);
    }
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    unsigned int mtu = container_mtu(&fc.cfg);
    fc.cell_name = fc.cfg.cell_name ? xstrdup(fc.cfg.cell_name)
                                    : host_name();

    daemonize_start(false);
    int retval = unixctl_server_create(unixctl_path, &unixctl);
    if (retval) {
        exit(EXIT_FAILURE);
    }
    unixctl_command_register("flowctl/show", "", 0, 0, flowctl_show, &fc);
    unixctl_command_register("flowctl/ready", "", 0, 0, flowctl_ready,
                             &fc);
    unixctl_command_register("flowctl/recompute", "", 0, 0,
                             flowctl_recompute, &fc);
    unixctl_command_register("flowctl/c2c-logging", "[on|off]", 0, 1,
                             flowctl_c2c_logging, &fc);
    unixctl_command_register("flowctl/reopen", "", 0, 0, flowctl_reopen,
                             &fc);
    unixctl_command_register("exit", "", 0, 0, flowctl_exit, &fc);
    if (fc.cfg.metrics_target) {
        retval = promhttp_create(fc.cfg.metrics_target, &fc.metrics);
        if (retval) {
            ovs_fatal(retval, "metrics_address: cannot listen (%s)",
                      fc.cfg.metrics_target);
        }
    }

    struct ovsdb_idl_loop loop = OVSDB_IDL_LOOP_INITIALIZER(
        ovsdb_idl_create(fc.cfg.ovsdb, &ovsrec_idl_class, false, true));
    localdb_register_idl(loop.idl);
    fc.localdb = localdb_create(loop.idl, &fc.cfg, mtu);

    model_init(&fc.model);
    flowctl_config_copy_cell(&fc.cfg, &fc.model.cell);
    model_set_policy_config(&fc.model, fc.cfg.policy_server != NULL,
                            fc.cfg.policy_server
                            && fc.cfg.enable_asg_syncing);
    fc.policysync = policysync_create(&fc.cfg);
    if (fc.cfg.cluster_remotes) {
        fc.directory = directory_create(fc.cfg.cluster_remotes,
                                        fc.cfg.cell.instance_address,
                                        fc.cfg.renew_interval_s);
    } else {
        set_subnet(&fc, &fc.cfg.cell.subnet);
    }
    directory_register_unixctl(fc.directory, &fc.model);
    fc.pipeline = pipeline_create();
    ctflush_init(&fc.ctflush);
    /* Its children's ovs-appctl talks to the ovs-vswitchd whose OpenFlow
     * socket flowctl uses: on a BOSH cell, in another job's run directory
     * than flowctl's own. */
    char *vswitchd_rundir = NULL;
    if (fc.cfg.openflow && !strncmp(fc.cfg.openflow, "unix:", 5)) {
        /* A relative path is in OVS_RUNDIR, as for the OpenFlow stream. */
        char *path = abs_file_name(ovs_rundir(), fc.cfg.openflow + 5);
        vswitchd_rundir = dir_name(path);
        free(path);
    }
    fc.runner = runner_create(vswitchd_rundir);
    free(vswitchd_rundir);
    fc.hostnet = hostnet_create(fc.runner);
    fc.trace = trace_create(&fc.model, fc.runner, fc.cfg.bridge);
    fc.flowstats = flowstats_create(&fc.model);

    fc.recompute = true;

    daemonize_complete();
    VLOG_INFO("flowctl starting: bridge %s, container MTU %u, %s",
              fc.cfg.bridge, mtu, fc.directory ? "cluster mode"
                                               : "single-cell mode");

    while (!fc.exiting) {
        struct ovsdb_idl_txn *txn = ovsdb_idl_loop_run(&loop);
        unixctl_server_run(unixctl);
        if (sighup_poll()) {
            VLOG_INFO("SIGHUP: reopening the log files");
            vlog_reopen_log_file();
            if (fc.logctl) {
                logctl_reopen(fc.logctl);
            }
        }

        if (!fc.stale_checked && txn
            && ovsdb_idl_has_ever_connected(loop.idl)) {
            localdb_remove_stale_ports(fc.localdb, txn);
            fc.stale_checked = true;
        }
        run_directory(&fc, loop.idl);
        bool containers_changed = localdb_run(fc.localdb, txn, &fc.model);
        if (containers_changed) {
            fc.recompute = true;
        }
        if (policysync_run(fc.policysync, &fc.model, containers_changed)) {
            model_resolve(&fc.model);
            fc.recompute = true;
        }
        watch_flow_restore_wait(&fc, loop.idl);
        run_hostnet(&fc);
        if (!fc.ofctrl && localdb_gateway_ofport(fc.localdb)
            && fc.have_subnet) {
            /* The bridge exists and the subnet is known: connect to it.
             * Not before the subnet (in cluster mode, the lease): the first
             * put replaces every flow, and the bridge may still hold an
             * earlier run's, which keep traffic flowing until then. */
            start_openflow(&fc);
        }
        if (fc.ofctrl) {
            ofctrl_run(fc.ofctrl);
            run_flows(&fc);
            uint64_t acked = ofctrl_acked_seqno(fc.ofctrl);
            localdb_mark_installed(fc.localdb, txn, acked, time_msec());
            end_flow_restore_wait(&fc, txn, acked);
            pinctrl_run(fc.pinctrl);
            flowstats_run(fc.flowstats);
        }
        runner_run(fc.runner);
        if (fc.metrics) {
            promhttp_run(fc.metrics, fill_metrics, &fc);
        }

        ovsdb_idl_loop_commit_and_wait(&loop);
        if (fc.ofctrl) {
            ofctrl_wait(fc.ofctrl);
            pinctrl_wait(fc.pinctrl);
            flowstats_wait(fc.flowstats);
        }
        runner_wait(fc.runner);
        if (fc.directory) {
            directory_wait(fc.directory);
        }
        unixctl_server_wait(unixctl);
        hostnet_wait(fc.hostnet);
        policysync_wait(fc.policysync);
        if (fc.metrics) {
            promhttp_wait(fc.metrics);
        }
        sighup_wait();
        poll_block();
    }

    /* Commands still waiting get their (error) replies before the server
     * goes. */
    ctwalk_cancel(fc.ctwalk);
    runner_destroy(fc.runner);
    ctwalk_destroy(fc.ctwalk);
    promhttp_destroy(fc.metrics);
    policysync_destroy(fc.policysync);
    trace_destroy(fc.trace);
    hostnet_destroy(fc.hostnet);
    flowstats_destroy(fc.flowstats);
    unixctl_server_destroy(unixctl);
    logctl_destroy(fc.logctl);
    pinctrl_destroy(fc.pinctrl);
    ofctrl_destroy(fc.ofctrl);
    pipeline_destroy(fc.pipeline);
    ctflush_destroy(&fc.ctflush);
    localdb_destroy(fc.localdb);
    if (fc.directory) {
        directory_destroy(fc.directory);
    }
    model_destroy(&fc.model);
    ovsdb_idl_loop_destroy(&loop);
    flowctl_config_destroy(&fc.cfg);
    free(fc.cell_name);
    service_stop();
    return 0;
}
