/*
 * flowstats: per-rule hit counts from OpenFlow flow statistics.  See
 * flowstats.h.
 *
 * Why the verdict flows: an ASG rule is a conjunction (pipeline.c); OVS
 * credits a packet that a conjunction admits to the flow that matches its
 * conj_id, not to the clause flows, and only a connection's first packet
 * (ct_state +new) reaches 'egress'.  So the conj_id flow's n_packets is the
 * number of connections the rule admitted (plus those judged again after
 * their ruleset changed).  The rest of a connection passes 'ct_state' by
 * its ruleset's flows, which count it per ruleset, not per rule.
 *
 * The userspace datapath credits OpenFlow flows from its cache when the
 * revalidators run (every 500 ms or so), so counts may trail traffic by
 * that much.
 */

#include <config.h>

#include "flowstats.h"

#include <errno.h>
#include <string.h>

#include "byte-order.h"
#include "coverage.h"
#include "explain.h"
#include "openflow/openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "pipeline.h"
#include "socket-util.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flowstats);

COVERAGE_DEFINE(flowstats_request);
COVERAGE_DEFINE(flowstats_failed);

/* Only one OpenFlow version: the encoders need not care about others. */
#define FLOWSTATS_VERSION OFP15_VERSION

/* The switch is local: no inactivity probes, a short reconnection backoff
 * (seconds). */
#define FLOWSTATS_PROBE_INTERVAL 0
#define FLOWSTATS_MAX_BACKOFF 1

/* Messages handled per flowstats_run(). */
#define FLOWSTATS_MAX_RECV 50

struct flowstats_req {
    struct ovs_list node;       /* In flowstats's 'reqs'. */
    uint32_t xid;               /* Of the request, host byte order. */
    long long int deadline;
    struct rule_counts counts;
    flowstats_cb *cb;
    void *aux;
};

struct flowstats {
    const struct model *model;  /* For the rule statistics' text. */
    struct rconn *rconn;        /* Not connected until flowstats_connect(). */
    unsigned int conn_seqno;    /* rconn_get_connection_seqno() last seen. */
    struct ovs_list reqs;       /* "struct flowstats_req"s in flight. */
    bool more;                  /* Stopped at FLOWSTATS_MAX_RECV last run? */
    bool connecting;            /* flowstats_connect() was called. */
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

static unixctl_cb_func rule_stats_unixctl;

struct flowstats *
flowstats_create(const struct model *model)
{
    struct flowstats *fs = xzalloc(sizeof *fs);

    fs->model = model;
    fs->rconn = rconn_create(FLOWSTATS_PROBE_INTERVAL, FLOWSTATS_MAX_BACKOFF,
                             DSCP_DEFAULT, 1u << FLOWSTATS_VERSION);
    fs->conn_seqno = rconn_get_connection_seqno(fs->rconn);
    ovs_list_init(&fs->reqs);
    unixctl_command_register("flowctl/rule-stats", "[--json]", 0, 1,
                             rule_stats_unixctl, fs);
    return fs;
}

void
flowstats_connect(struct flowstats *fs, const char *target)
{
    rconn_connect(fs->rconn, target, target);
    fs->conn_seqno = rconn_get_connection_seqno(fs->rconn);
    fs->connecting = true;
}

/* Ends 'req': calls its callback with its counters, or with 'error' if
 * nonnull, and frees it. */
static void
req_finish(struct flowstats_req *req, const char *error)
{
    ovs_list_remove(&req->node);
    if (error) {
        COVERAGE_INC(flowstats_failed);
        req->cb(req->aux, NULL, error);
    } else {
        req->cb(req->aux, &req->counts, NULL);
    }
    rule_counts_destroy(&req->counts);
    free(req);
}

static void
fail_all(struct flowstats *fs, const char *error)
{
    struct flowstats_req *req;
    LIST_FOR_EACH_SAFE (req, node, &fs->reqs) {
        req_finish(req, error);
    }
}

void
flowstats_destroy(struct flowstats *fs)
{
    if (fs) {
        fail_all(fs, "flowctl is exiting");
        rconn_destroy(fs->rconn);
        free(fs);
    }
}

static struct flowstats_req *
find_req(const struct flowstats *fs, uint32_t xid)
{
    struct flowstats_req *req;
    LIST_FOR_EACH (req, node, &fs->reqs) {
        if (req->xid == xid) {
            return req;
        }
    }
    return NULL;
}

/* Adds the flows of one reply part to 'req'.  Returns NULL or an error
 * message (static). */
static const char *
add_reply(struct flowstats_req *req, const struct ofp_header *oh)
{
    struct ofpbuf msg = ofpbuf_const_initializer(oh, ntohs(oh->length));
    uint64_t ofpacts_stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(ofpacts_stub);
    const char *error = NULL;

    for (;;) {
        struct ofputil_flow_stats fst;
        int retval = ofputil_decode_flow_stats_reply(&fst, &msg, false,
                                                     &ofpacts);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "undecodable flow statistics reply (%s)",
                             ofperr_to_string(retval));
                error = "undecodable flow statistics reply from the switch";
            }
            break;
        }
        uint64_t cookie = ntohll(fst.cookie);
        uint8_t kind = pipeline_cookie_kind(cookie);
        if (kind != PIPELINE_CK_ASG && kind != PIPELINE_CK_POLICY) {
            continue;           /* The request's mask lets others in. */
        }
        req->counts.n_flows++;
        if ((fst.table_id == PIPELINE_T_EGRESS && fst.match.wc.masks.conj_id)
            || (fst.table_id == PIPELINE_T_INGRESS
                && kind == PIPELINE_CK_POLICY)) {
            rule_counts_add(&req->counts.verdicts, cookie, fst.packet_count,
                            fst.byte_count);
        } else if (fst.table_id == PIPELINE_T_CT_STATE) {
            rule_counts_add(&req->counts.established, cookie,
                            fst.packet_count, fst.byte_count);
        }
    }
    ofpbuf_uninit(&ofpacts);
    return error;
}

static void
handle_error(struct flowstats *fs, const struct ofp_header *oh)
{
    struct flowstats_req *req = find_req(fs, ntohl(oh->xid));
    enum ofperr error = ofperr_decode_msg(oh, NULL);

    VLOG_WARN_RL(&rl, "%s: switch reported %s for %s",
                 rconn_get_name(fs->rconn),
                 error ? ofperr_to_string(error) : "an undecodable error",
                 req ? "a flow statistics request" : "an unknown request");
    if (req) {
        req_finish(req, "the switch refused the flow statistics request");
    }
}

static void
handle_msg(struct flowstats *fs, const struct ofp_header *oh)
{
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        VLOG_WARN_RL(&rl, "%s: undecodable message",
                     rconn_get_name(fs->rconn));
        return;
    }

    switch (type) {
    case OFPTYPE_FLOW_STATS_REPLY: {
        struct flowstats_req *req = find_req(fs, ntohl(oh->xid));
        if (req) {
            const char *error = add_reply(req, oh);
            if (error || !ofpmp_more(oh)) {
                req_finish(req, error);
            }
        }
        /* Otherwise the rest of a request that timed out. */
        break;
    }

    case OFPTYPE_ECHO_REQUEST:
        rconn_send(fs->rconn, ofputil_encode_echo_reply(oh), NULL);
        break;

    case OFPTYPE_ERROR:
        handle_error(fs, oh);
        break;

    default:
        VLOG_DBG_RL(&rl, "%s: ignoring %s", rconn_get_name(fs->rconn),
                    ofptype_get_name(type));
        break;
    }
}

void
flowstats_run(struct flowstats *fs)
{
    rconn_run(fs->rconn);

    unsigned int seqno = rconn_get_connection_seqno(fs->rconn);
    if (seqno != fs->conn_seqno) {
        fs->conn_seqno = seqno;
        fail_all(fs, "the connection to the switch was lost");
    }

    fs->more = false;
    if (rconn_is_connected(fs->rconn)) {
        int i;
        for (i = 0; i < FLOWSTATS_MAX_RECV; i++) {
            struct ofpbuf *msg = rconn_recv(fs->rconn);
            if (!msg) {
                break;
            }
            handle_msg(fs, msg->data);
            ofpbuf_delete(msg);
        }
        fs->more = i == FLOWSTATS_MAX_RECV;
    }

    long long int now = time_msec();
    struct flowstats_req *req;
    LIST_FOR_EACH_SAFE (req, node, &fs->reqs) {
        if (now >= req->deadline) {
            VLOG_WARN_RL(&rl, "%s: no complete flow statistics reply in "
                         "%d ms", rconn_get_name(fs->rconn),
                         FLOWSTATS_TIMEOUT_MS);
            req_finish(req, "the switch did not answer the flow statistics "
                       "request in time");
        }
    }
}

void
flowstats_wait(struct flowstats *fs)
{
    rconn_run_wait(fs->rconn);
    rconn_recv_wait(fs->rconn);
    if (fs->more) {
        poll_immediate_wake();
    }

    struct flowstats_req *req;
    LIST_FOR_EACH (req, node, &fs->reqs) {
        poll_timer_wait_until(req->deadline);
    }
}

BUILD_ASSERT_DECL(PIPELINE_CK_ASG & PIPELINE_CK_POLICY & 1);

const char *
flowstats_request(struct flowstats *fs, flowstats_cb *cb, void *aux)
{
    if (!fs->connecting) {
        return "OpenFlow: waiting for the bridge";
    } else if (!rconn_is_connected(fs->rconn)) {
        return "not connected to the switch";
    }

    /* The ASG and the c2c policy flows: one request cannot name two kinds,
     * but both kinds have bit 0 set, so the mask on that bit alone takes
     * them (and a few dozen fixed, host and default flows, which
     * add_reply() skips). */
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .cookie = htonll(pipeline_cookie(1, 0)),
        .cookie_mask = htonll(pipeline_cookie(1, 0)),
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .table_id = OFPTT_ALL,
    };
    match_init_catchall(&fsr.match);
    struct ofpbuf *msg = ofputil_encode_flow_stats_request(
        &fsr, ofputil_protocol_from_ofp_version(FLOWSTATS_VERSION));
    uint32_t xid = ntohl(((const struct ofp_header *) msg->data)->xid);
    if (rconn_send(fs->rconn, msg, NULL)) {
        return "not connected to the switch";
    }

    struct flowstats_req *req = xzalloc(sizeof *req);
    req->xid = xid;
    req->deadline = time_msec() + FLOWSTATS_TIMEOUT_MS;
    rule_counts_init(&req->counts);
    req->cb = cb;
    req->aux = aux;
    ovs_list_push_back(&fs->reqs, &req->node);
    COVERAGE_INC(flowstats_request);
    return NULL;
}

/* ---- unixctl ---- */

/* A flowctl/show or flowctl/rule-stats waiting for flow statistics. */
enum stats_format {
    STATS_SHOW,                 /* flowctl/show: its text, then "rules:". */
    STATS_TEXT,                 /* flowctl/rule-stats: "rules:" only. */
    STATS_JSON,                 /* flowctl/rule-stats --json. */
};

struct stats_req {
    struct flowstats *fs;
    struct unixctl_conn *conn;
    enum stats_format format;
    struct ds text;             /* STATS_SHOW: what comes before "rules:". */
};

/* Replies to 'req_', a struct stats_req, and frees it (a flowstats_cb). */
static void
stats_reply(void *req_, const struct rule_counts *counts, const char *error)
{
    struct stats_req *req = req_;
    const struct model *model = req->fs->model;

    if (req->format == STATS_SHOW) {
        ds_put_char(&req->text, '\n');
        if (counts) {
            explain_rule_stats(model, counts, &req->text);
        } else {
            ds_put_format(&req->text, "rules: (no hit counts: %s)\n", error);
        }
        unixctl_command_reply(req->conn, ds_cstr(&req->text));
    } else if (!counts) {
        unixctl_command_reply_error(req->conn, error);
    } else if (req->format == STATS_JSON) {
        struct json *json = explain_rule_stats_json(model, counts);
        char *s = json_to_string(json, JSSF_PRETTY | JSSF_SORT);
        char *reply = xasprintf("%s\n", s);
        unixctl_command_reply(req->conn, reply);
        free(reply);
        free(s);
        json_destroy(json);
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        explain_rule_stats(model, counts, &s);
        unixctl_command_reply(req->conn, ds_cstr(&s));
        ds_destroy(&s);
    }
    ds_destroy(&req->text);
    free(req);
}

/* Asks the switch for the flow statistics behind the hit counts; the reply
 * to 'conn' follows when they arrive (or right away if they cannot). */
static void
start_stats(struct flowstats *fs, struct unixctl_conn *conn,
            enum stats_format format, struct ds *text)
{
    struct stats_req *req = xzalloc(sizeof *req);
    req->fs = fs;
    req->conn = conn;
    req->format = format;
    ds_init(&req->text);
    if (text) {
        ds_swap(&req->text, text);
    }

    const char *error = flowstats_request(fs, stats_reply, req);
    if (error) {
        stats_reply(req, NULL, error);
    }
}

static void
rule_stats_unixctl(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *fs_)
{
    struct flowstats *fs = fs_;
    bool json = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else {
            char *error = xasprintf("%s: unknown option (the only one is "
                                    "--json)", argv[i]);
            unixctl_command_reply_error(conn, error);
            free(error);
            return;
        }
    }
    start_stats(fs, conn, json ? STATS_JSON : STATS_TEXT, NULL);
}

void
flowstats_reply_show(struct flowstats *fs, struct unixctl_conn *conn,
                     struct ds *text)
{
    start_stats(fs, conn, STATS_SHOW, text);
}
