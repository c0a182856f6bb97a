/*
 * ofctrl: flowctl's OpenFlow connection to ovs-vswitchd.  See ofctrl.h.
 *
 * A put goes through two round trips:
 *
 *   1. OPEN, one ADD_MESSAGE per flow_mod, BARRIER.  OVS decodes and checks
 *      every flow_mod as it arrives and answers a bad one with an error
 *      (same xid) while leaving it out of the bundle; the barrier reply
 *      says that every error there was has arrived.
 *   2. With no error: COMMIT, BARRIER.  The barrier reply acknowledges the
 *      put.  With an error: DISCARD, and the put has failed.
 *
 * The flow_mods of a bundle get consecutive xids, so that an error can be
 * traced back to its flow (for the log) with a subtraction.
 *
 * The TLV mapping (ofctrl_set_tlv_map()) is checked as OVN's ofctrl.c does
 * for its Geneve option, in a state of its own ('tlv_state'):
 *
 *   TLV_REQUESTED   NXT_TLV_TABLE_REQUEST sent; the reply settles it
 *                   (TLV_PRESENT, TLV_CONFLICT) or leads to
 *   TLV_ADDING      NXT_TLV_TABLE_MOD (add) and a barrier sent; the barrier
 *                   reply settles it (TLV_ADDED), an error for the mod too
 *                   (TLV_FAILED), except a lost race with another
 *                   controller, which goes back to TLV_REQUESTED (once per
 *                   check).
 *
 * Only while it is TLV_REQUESTED or TLV_ADDING is ofctrl_can_put() false.
 */

#include <config.h>

#include "ofctrl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "coverage.h"
#include "flow-table.h"
#include "openflow/openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/geneve.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-ct.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-match.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/tun-metadata.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

COVERAGE_DEFINE(ofctrl_put);
COVERAGE_DEFINE(ofctrl_put_unchanged);
COVERAGE_DEFINE(ofctrl_bundle);
COVERAGE_DEFINE(ofctrl_bundle_failed);
COVERAGE_DEFINE(ofctrl_flow_mod);
COVERAGE_DEFINE(ofctrl_flow_refused);
COVERAGE_DEFINE(ofctrl_meter_mod);
COVERAGE_DEFINE(ofctrl_tlv_mod);
COVERAGE_DEFINE(ofctrl_error);

/* Only one OpenFlow version: the encoders need not care about others. */
#define OFCTRL_VERSION OFP15_VERSION

/* The switch is on the same host and its socket local: no inactivity
 * probes (a busy ovs-vswitchd committing a large bundle must not be taken
 * for a dead one) and a short reconnection backoff, in seconds. */
#define OFCTRL_PROBE_INTERVAL 0
#define OFCTRL_MAX_BACKOFF 1

/* Messages handled per ofctrl_run(), so that a flood of them cannot starve
 * the rest of the main loop. */
#define OFCTRL_MAX_RECV 50

#define OFCTRL_BUNDLE_FLAGS (OFPBF_ORDERED | OFPBF_ATOMIC)

/* Backoff after a failed bundle (see ofctrl_needs_put()), in ms. */
#define OFCTRL_RETRY_MIN 500
#define OFCTRL_RETRY_MAX 16000

#define OFCTRL_STATES                           \
    OFCTRL_STATE(S_DISCONNECTED)                \
    OFCTRL_STATE(S_NEW)                         \
    OFCTRL_STATE(S_IDLE)                        \
    OFCTRL_STATE(S_BUNDLE)

enum ofctrl_state {
#define OFCTRL_STATE(NAME) NAME,
    OFCTRL_STATES
#undef OFCTRL_STATE
};

static const char *
ofctrl_state_to_string(enum ofctrl_state state)
{
    switch (state) {
#define OFCTRL_STATE(NAME) case NAME: return #NAME;
        OFCTRL_STATES
#undef OFCTRL_STATE
    }
    return "<unknown>";
}

/* Where the bundle in flight is (see the top of this file). */
enum bundle_phase {
    PHASE_ADD,                  /* Waiting for the barrier after the adds. */
    PHASE_COMMIT,               /* Waiting for the barrier after commit. */
};

/* The bundle in flight (in S_BUNDLE). */
struct ofctrl_bundle {
    uint64_t seqno;             /* The put it carries. */
    uint32_t id;                /* Bundle id. */
    enum bundle_phase phase;
    bool replace;               /* Starts with "delete all flows"? */
    bool failed;                /* An error arrived for it? */
    struct ovs_list changes;    /* The "struct flow_change"s it carries. */

    /* xids of its messages, host byte order.  The 'n_msgs' flow_mods have
     * xids 'first_xid' + i; msgs[i] is the change the i-th one carries, or
     * NULL for "delete all flows". */
    uint32_t open_xid;
    uint32_t first_xid;
    size_t n_msgs;
    const struct flow_change **msgs;
    uint32_t commit_xid;        /* In PHASE_COMMIT. */
    uint32_t barrier_xid;       /* Of the barrier the phase waits for. */
};

/* Where the check of the TLV mapping is (see the top of this file). */
enum tlv_state {
    TLV_UNCHECKED,              /* Not on this connection (or none). */
    TLV_REQUESTED,              /* Table requested, 'tlv_xid'. */
    TLV_ADDING,                 /* Mod 'tlv_xid', barrier 'tlv_barrier_xid'
                                 * sent. */
    TLV_PRESENT,                /* It was there already. */
    TLV_ADDED,                  /* We added it. */
    TLV_CONFLICT,               /* Mapped differently: 'tlv_detail'. */
    TLV_FAILED,                 /* The switch said no: 'tlv_detail'. */
};

/* A meter and the add that (re)creates it after a connection. */
struct ofctrl_meter_state {
    struct ofctrl_meter meter;
    bool add_pending;           /* An add is in flight, with 'add_xid'. */
    uint32_t add_xid;
};

struct ofctrl {
    struct rconn *rconn;
    unsigned int conn_seqno;    /* rconn_get_connection_seqno() last seen. */
    enum ofctrl_state state;

    /* What OVS has (S_IDLE, S_BUNDLE); empty when unknown (S_NEW). */
    struct flow_table installed;
    /* In S_BUNDLE: copies of the flows the bundle adds or modifies. */
    struct flow_table pending;
    struct ofctrl_bundle bundle;
    uint32_t next_bundle_id;

    struct ofctrl_meter_state *meters;
    size_t n_meters;

    /* The TLV mapping to ensure, if 'tlv_wanted' ('tlv.list_node' is not
     * used), and where its check is on this connection. */
    bool tlv_wanted;
    struct ofputil_tlv_map tlv;
    enum tlv_state tlv_state;
    char *tlv_detail;           /* TLV_CONFLICT, TLV_FAILED: what. */
    uint32_t tlv_xid;           /* Of the request or the mod in flight. */
    uint32_t tlv_barrier_xid;   /* TLV_ADDING: of the barrier after it. */
    bool tlv_retried;           /* This check requested the table again
                                 * after a lost race. */

    /* After a failed bundle: ofctrl_needs_put() is false until
     * 'retry_at'; 'retry_backoff' is the delay that set it. */
    long long int retry_at;
    int retry_backoff;

    /* Conntrack flushes (ofctrl_flush_conntrack()): the addresses queued,
     * each once, and the xids of the last flushes sent (for their
     * errors). */
    uint32_t *ct_flush;
    size_t n_ct_flush, allocated_ct_flush;
    uint16_t ct_zone;
    bool ct_flush_unsupported;  /* The switch refused NXT_CT_FLUSH. */
    uint32_t ct_first_xid, ct_last_xid;

    uint64_t put_seqno;         /* Of the last put that sent a bundle. */
    uint64_t acked_seqno;       /* Of the last bundle committed. */
    struct ofctrl_stats stats;
    char *refused_detail;       /* The last flow refused, if any. */
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
/* For the TLV mapping's errors, which a failed bundle makes ofctrl find
 * again: not drowned by the bundle's own warnings, not repeated forever. */
static struct vlog_rate_limit tlv_rl = VLOG_RATE_LIMIT_INIT(1, 5);

static void ofctrl_reset(struct ofctrl *);
static void send_meters(struct ofctrl *);
static void send_ct_flushes(struct ofctrl *);
static void tlv_check(struct ofctrl *);

/* Creates an ofctrl that connects to the OpenFlow switch at 'target'
 * ("unix:/var/run/openvswitch/br-cf.mgmt"), in the background: see
 * ofctrl_run(). */
struct ofctrl *
ofctrl_create(const char *target)
{
    struct ofctrl *of = xzalloc(sizeof *of);

    of->rconn = rconn_create(OFCTRL_PROBE_INTERVAL, OFCTRL_MAX_BACKOFF,
                             DSCP_DEFAULT, 1u << OFCTRL_VERSION);
    rconn_connect(of->rconn, target, target);
    of->conn_seqno = rconn_get_connection_seqno(of->rconn);
    of->state = S_DISCONNECTED;
    flow_table_init(&of->installed);
    flow_table_init(&of->pending);
    ovs_list_init(&of->bundle.changes);
    of->next_bundle_id = 1;
    of->retry_at = LLONG_MIN;
    return of;
}

void
ofctrl_destroy(struct ofctrl *of)
{
    if (of) {
        ofctrl_reset(of);
        rconn_destroy(of->rconn);
        flow_table_destroy(&of->installed);
        flow_table_destroy(&of->pending);
        free(of->meters);
        free(of->tlv_detail);
        free(of->refused_detail);
        free(of->ct_flush);
        free(of);
    }
}

/* Sends 'msg' (and takes it), returning its xid in host byte order. */
static uint32_t
ofctrl_send(struct ofctrl *of, struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    uint32_t xid = ntohl(oh->xid);

    /* Some encoders (bundle control) leave the length to vconn_send(); set
     * it now for the debug log. */
    ofpmsg_update_length(msg);
    if (VLOG_IS_DBG_ENABLED()) {
        char *s = ofp_to_string(msg->data, msg->size, NULL, NULL, 1);
        VLOG_DBG("%s: sending %s", rconn_get_name(of->rconn), s);
        free(s);
    }
    rconn_send(of->rconn, msg, NULL);
    return xid;
}

void
ofctrl_set_meters(struct ofctrl *of, const struct ofctrl_meter *meters,
                  size_t n)
{
    bool same = n == of->n_meters;
    for (size_t i = 0; same && i < n; i++) {
        same = !memcmp(&meters[i], &of->meters[i].meter, sizeof *meters);
    }
    if (same) {
        return;
    }

    free(of->meters);
    of->meters = xcalloc(n ? n : 1, sizeof *of->meters);
    for (size_t i = 0; i < n; i++) {
        of->meters[i].meter = meters[i];
    }
    of->n_meters = n;

    if (of->state != S_DISCONNECTED) {
        send_meters(of);
    }
}

/* Sends a meter_mod with 'command' for 'm' and returns its xid. */
static uint32_t
send_meter_mod(struct ofctrl *of, const struct ofctrl_meter *m,
               uint16_t command)
{
    struct ofputil_meter_band band = {
        .type = OFPMBT13_DROP,
        .rate = m->rate_pps,
        .burst_size = m->burst,
    };
    struct ofputil_meter_mod mm = {
        .command = command,
        .meter = {
            .meter_id = m->meter_id,
            .flags = OFPMF13_PKTPS | OFPMF13_BURST,
            .n_bands = 1,
            .bands = &band,
        },
    };

    of->stats.n_meter_mods++;
    COVERAGE_INC(ofctrl_meter_mod);
    return ofctrl_send(of, ofputil_encode_meter_mod(OFCTRL_VERSION, &mm));
}

/* Adds every meter; handle_error() turns an add that finds the meter
 * already there into a modify. */
static void
send_meters(struct ofctrl *of)
{
    for (size_t i = 0; i < of->n_meters; i++) {
        struct ofctrl_meter_state *ms = &of->meters[i];

        ms->add_xid = send_meter_mod(of, &ms->meter, OFPMC13_ADD);
        ms->add_pending = true;
    }
}

/* The TLV mapping.  See the top of this file. */

static bool
tlv_busy(const struct ofctrl *of)
{
    return of->tlv_state == TLV_REQUESTED || of->tlv_state == TLV_ADDING;
}

/* Appends "class=0x..,type=0x..,len=..->tun_metadataN" for 'map' to 's'. */
static void
tlv_map_format(const struct ofputil_tlv_map *map, struct ds *s)
{
    ds_put_format(s, "class=%#"PRIx16",type=%#"PRIx8",len=%"PRIu8
                  "->tun_metadata%"PRIu16, map->option_class,
                  map->option_type, map->option_len, map->index);
}

static void
tlv_settle(struct ofctrl *of, enum tlv_state state, char *detail)
{
    of->tlv_state = state;
    free(of->tlv_detail);
    of->tlv_detail = detail;
}

static void
tlv_send_request(struct ofctrl *of)
{
    of->tlv_xid = ofctrl_send(of, ofpraw_alloc(OFPRAW_NXT_TLV_TABLE_REQUEST,
                                               OFCTRL_VERSION, 0));
    of->tlv_state = TLV_REQUESTED;
}

/* Starts a check of the TLV mapping, if there is one to ensure (abandoning
 * a check in flight: its replies will not match 'tlv_xid'). */
static void
tlv_check(struct ofctrl *of)
{
    if (of->tlv_wanted) {
        tlv_settle(of, TLV_UNCHECKED, NULL);
        of->tlv_retried = false;
        tlv_send_request(of);
    }
}

static void
tlv_send_add(struct ofctrl *of)
{
    struct ofputil_tlv_map map = of->tlv;
    struct ofputil_tlv_table_mod ttm = { .command = NXTTMC_ADD };

    ovs_list_init(&ttm.mappings);
    ovs_list_push_back(&ttm.mappings, &map.list_node);
    of->tlv_xid = ofctrl_send(of, ofputil_encode_tlv_table_mod(OFCTRL_VERSION,
                                                               &ttm));
    of->tlv_barrier_xid = ofctrl_send(
        of, ofputil_encode_barrier_request(OFCTRL_VERSION));
    of->tlv_state = TLV_ADDING;
    of->stats.n_tlv_mods++;
    COVERAGE_INC(ofctrl_tlv_mod);
}

/* Describes in 's' how the switch's mapping 'other' conflicts with ours,
 * if it does, and returns true; otherwise returns false.  (OVS keys its
 * table both by field index and by option class and type.) */
static bool
tlv_conflict(const struct ofctrl *of, const struct ofputil_tlv_map *other,
             const struct ovs_list *mappings, struct ds *s)
{
    const struct ofputil_tlv_map *want = &of->tlv;

    if (other->index == want->index) {
        ds_put_format(s, "tun_metadata%"PRIu16" is mapped to class %#"PRIx16
                      " type %#"PRIx8" len %"PRIu8" by someone else (wanted: ",
                      other->index, other->option_class, other->option_type,
                      other->option_len);
        tlv_map_format(want, s);
        /* The switch checks a flow's use of the field against the length
         * of the field's mapping, not its option. */
        ds_put_cstr(s, other->option_len >= want->option_len
                    ? "); flows that carry the app tag will carry it in that "
                      "option instead"
                    : "); flows that carry the app tag will be rejected");
        return true;
    }
    if (other->option_class == want->option_class
        && other->option_type == want->option_type) {
        const struct ofputil_tlv_map *m;
        bool index_taken = false;

        LIST_FOR_EACH (m, list_node, mappings) {
            index_taken |= m->index == want->index;
        }
        ds_put_format(s, "class %#"PRIx16" type %#"PRIx8" is mapped to "
                      "tun_metadata%"PRIu16" (len %"PRIu8") by someone else "
                      "(wanted: ", other->option_class, other->option_type,
                      other->index, other->option_len);
        tlv_map_format(want, s);
        ds_put_cstr(s, index_taken
                    ? ")"
                    : "); flows that carry the app tag will be rejected");
        return true;
    }
    return false;
}

static void
handle_tlv_reply(struct ofctrl *of, const struct ofp_header *oh)
{
    const char *name = rconn_get_name(of->rconn);
    struct ofputil_tlv_table_reply ttr;

    if (of->tlv_state != TLV_REQUESTED || ntohl(oh->xid) != of->tlv_xid) {
        return;
    }

    enum ofperr error = ofputil_decode_tlv_table_reply(oh, &ttr);
    if (error) {
        of->stats.n_errors++;
        COVERAGE_INC(ofctrl_error);
        tlv_settle(of, TLV_FAILED,
                   xasprintf("bad TLV table reply (%s)",
                             ofperr_to_string(error)));
        VLOG_ERR_RL(&tlv_rl, "%s: %s", name, of->tlv_detail);
        return;
    }

    const struct ofputil_tlv_map *m;
    struct ds conflicts = DS_EMPTY_INITIALIZER;
    bool present = false;
    LIST_FOR_EACH (m, list_node, &ttr.mappings) {
        if (m->option_class == of->tlv.option_class
            && m->option_type == of->tlv.option_type
            && m->option_len == of->tlv.option_len
            && m->index == of->tlv.index) {
            present = true;
        } else {
            size_t length = conflicts.length;
            if (length) {
                ds_put_cstr(&conflicts, "; ");
            }
            if (!tlv_conflict(of, m, &ttr.mappings, &conflicts)) {
                ds_truncate(&conflicts, length);
            }
        }
    }
    ofputil_uninit_tlv_table(&ttr.mappings);

    if (conflicts.length) {
        tlv_settle(of, TLV_CONFLICT, ds_steal_cstr(&conflicts));
        VLOG_ERR_RL(&tlv_rl, "%s: %s", name, of->tlv_detail);
    } else if (present) {
        ds_destroy(&conflicts);
        tlv_settle(of, TLV_PRESENT, NULL);
        VLOG_DBG("%s: TLV mapping present", name);
    } else {
        ds_destroy(&conflicts);
        tlv_send_add(of);
    }
}

/* If 'xid' is that of the TLV request or mod in flight, handles 'error'
 * for it and returns true; otherwise returns false. */
static bool
handle_tlv_error(struct ofctrl *of, uint32_t xid, enum ofperr error)
{
    const char *name = rconn_get_name(of->rconn);

    if (!tlv_busy(of) || xid != of->tlv_xid) {
        return false;
    }

    if (of->tlv_state == TLV_ADDING && !of->tlv_retried
        && (error == OFPERR_NXTTMFC_ALREADY_MAPPED
            || error == OFPERR_NXTTMFC_DUP_ENTRY)) {
        /* Someone else mapped the field or the option since our request:
         * see how.  (The barrier reply that follows no longer matters.) */
        VLOG_INFO("%s: raced with another controller adding a TLV mapping "
                  "(%s); requesting the TLV table again", name,
                  ofperr_to_string(error));
        of->tlv_retried = true;
        tlv_send_request(of);
        return true;
    }

    of->stats.n_errors++;
    COVERAGE_INC(ofctrl_error);

    struct ds s = DS_EMPTY_INITIALIZER;
    if (of->tlv_state == TLV_REQUESTED) {
        ds_put_format(&s, "TLV table request failed (%s)",
                      ofperr_to_string(error));
    } else {
        ds_put_cstr(&s, "adding TLV mapping ");
        tlv_map_format(&of->tlv, &s);
        ds_put_format(&s, " failed (%s)", ofperr_to_string(error));
    }
    tlv_settle(of, TLV_FAILED, ds_steal_cstr(&s));
    VLOG_ERR_RL(&tlv_rl, "%s: %s; flows that carry the app tag will be "
                "rejected", name, of->tlv_detail);
    return true;
}

/* If 'xid' is that of the barrier after our TLV mod, settles the check and
 * returns true; otherwise returns false. */
static bool
handle_tlv_barrier_reply(struct ofctrl *of, uint32_t xid)
{
    if (of->tlv_state != TLV_ADDING || xid != of->tlv_barrier_xid) {
        return false;
    }

    /* No error came for the mod before its barrier's reply: it is in. */
    tlv_settle(of, TLV_ADDED, NULL);
    if (VLOG_IS_INFO_ENABLED()) {
        struct ds s = DS_EMPTY_INITIALIZER;
        tlv_map_format(&of->tlv, &s);
        VLOG_INFO("%s: added TLV mapping %s", rconn_get_name(of->rconn),
                  ds_cstr(&s));
        ds_destroy(&s);
    }
    return true;
}

void
ofctrl_set_tlv_map(struct ofctrl *of, uint16_t opt_class, uint8_t opt_type,
                   uint8_t opt_len, uint16_t index)
{
    ovs_assert(index < TUN_METADATA_NUM_OPTS);
    ovs_assert(opt_len % 4 == 0 && opt_len <= TLV_MAX_OPT_SIZE);

    if (of->tlv_wanted && of->tlv.option_class == opt_class
        && of->tlv.option_type == opt_type && of->tlv.option_len == opt_len
        && of->tlv.index == index) {
        return;
    }
    of->tlv_wanted = true;
    of->tlv.option_class = opt_class;
    of->tlv.option_type = opt_type;
    of->tlv.option_len = opt_len;
    of->tlv.index = index;
    if (of->state != S_DISCONNECTED) {
        tlv_check(of);
    }
}

/* Forgets the bundle in flight, if any, without touching the installed
 * table. */
static void
bundle_forget(struct ofctrl *of)
{
    struct ofctrl_bundle *b = &of->bundle;

    flow_changes_destroy(&b->changes);
    flow_table_clear(&of->pending);
    free(b->msgs);
    b->msgs = NULL;
    b->n_msgs = 0;
}

/* Forgets everything about the switch: the installed table, the bundle in
 * flight (its put will never be acknowledged) and the meter adds in
 * flight. */
static void
ofctrl_reset(struct ofctrl *of)
{
    if (of->state == S_BUNDLE) {
        VLOG_INFO("%s: abandoning bundle %"PRIu32" (put %"PRIu64")"
                  " in flight", rconn_get_name(of->rconn), of->bundle.id,
                  of->bundle.seqno);
        bundle_forget(of);
    }
    flow_table_clear(&of->installed);
    for (size_t i = 0; i < of->n_meters; i++) {
        of->meters[i].add_pending = false;
    }
    tlv_settle(of, TLV_UNCHECKED, NULL);
    of->state = S_DISCONNECTED;
}

/* Returns true if 'xid' is that of a message of the bundle in flight.  If
 * it is one of its flow_mods, sets '*is_flow_mod' and stores in '*change'
 * the change it carries (NULL for "delete all flows"). */
static bool
bundle_owns_xid(const struct ofctrl *of, uint32_t xid,
                const struct flow_change **change, bool *is_flow_mod)
{
    const struct ofctrl_bundle *b = &of->bundle;

    *change = NULL;
    *is_flow_mod = false;
    if (of->state != S_BUNDLE) {
        return false;
    }
    if (xid - b->first_xid < b->n_msgs) {
        *change = b->msgs[xid - b->first_xid];
        *is_flow_mod = true;
        return true;
    }
    return (xid == b->open_xid || xid == b->barrier_xid
            || (b->phase == PHASE_COMMIT && xid == b->commit_xid));
}

static const char *
flow_mod_command_name(enum ofp_flow_mod_command command)
{
    switch (command) {
    case OFPFC_ADD:
        return "add";
    case OFPFC_MODIFY:
        return "modify";
    case OFPFC_MODIFY_STRICT:
        return "modify_strict";
    case OFPFC_DELETE:
        return "delete";
    case OFPFC_DELETE_STRICT:
        return "delete_strict";
    }
    return "<unknown>";
}

/* If 'xid' is that of a meter add in flight, handles 'error' for it and
 * returns true; otherwise returns false. */
static bool
handle_meter_error(struct ofctrl *of, uint32_t xid, enum ofperr error)
{
    for (size_t i = 0; i < of->n_meters; i++) {
        struct ofctrl_meter_state *ms = &of->meters[i];

        if (ms->add_pending && ms->add_xid == xid) {
            ms->add_pending = false;
            if (error == OFPERR_OFPMMFC_METER_EXISTS) {
                /* Expected after a reconnection: modify it instead. */
                VLOG_DBG("%s: meter %"PRIu32" exists, modifying it",
                         rconn_get_name(of->rconn), ms->meter.meter_id);
                send_meter_mod(of, &ms->meter, OFPMC13_MODIFY);
            } else {
                of->stats.n_errors++;
                COVERAGE_INC(ofctrl_error);
                VLOG_WARN_RL(&rl, "%s: adding meter %"PRIu32" failed: %s",
                             rconn_get_name(of->rconn), ms->meter.meter_id,
                             ofperr_to_string(error));
            }
            return true;
        }
    }
    return false;
}

/* If 'xid' is that of a message of the bundle in flight, marks the bundle
 * failed, logs 'error' with the flow it is about and returns true;
 * otherwise returns false. */
static bool
handle_bundle_error(struct ofctrl *of, uint32_t xid, enum ofperr error)
{
    const struct ofctrl_bundle *b = &of->bundle;
    const struct flow_change *change;
    bool is_flow_mod;

    if (!bundle_owns_xid(of, xid, &change, &is_flow_mod)) {
        return false;
    }

    of->bundle.failed = true;
    of->stats.n_errors++;
    COVERAGE_INC(ofctrl_error);
    if (VLOG_DROP_WARN(&rl)) {
        return true;
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "%s: bundle %"PRIu32" (put %"PRIu64"): %s: ",
                  rconn_get_name(of->rconn), b->id, b->seqno,
                  ofperr_to_string(error));
    if (change) {
        ds_put_format(&s, "%s ", flow_mod_command_name(change->command));
        flow_entry_format(change->flow, &s);
    } else if (is_flow_mod) {
        ds_put_cstr(&s, "delete all flows");
    } else if (xid == b->open_xid) {
        ds_put_cstr(&s, "open");
    } else if (xid == b->barrier_xid) {
        ds_put_cstr(&s, "barrier");
    } else {
        /* OVS follows the error for a flow that fails in the commit with
         * OFPBFC_MSG_FAILED for the commit itself. */
        ds_put_cstr(&s, "commit");
    }
    VLOG_WARN("%s", ds_cstr(&s));
    ds_destroy(&s);
    return true;
}

/* Conntrack flushes. */

void
ofctrl_flush_conntrack(struct ofctrl *of, uint16_t zone,
                       const uint32_t *addrs, size_t n)
{
    of->ct_zone = zone;
    if (of->ct_flush_unsupported) {
        of->stats.n_ct_unflushed += n;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        bool queued = false;
        for (size_t j = 0; j < of->n_ct_flush && !queued; j++) {
            queued = of->ct_flush[j] == addrs[i];
        }
        if (!queued) {
            if (of->n_ct_flush >= of->allocated_ct_flush) {
                of->ct_flush = x2nrealloc(of->ct_flush,
                                          &of->allocated_ct_flush,
                                          sizeof *of->ct_flush);
            }
            of->ct_flush[of->n_ct_flush++] = addrs[i];
        }
    }
}

/* Sends an NXT_CT_FLUSH of the entries in the zone whose 'tuple' (the
 * original or the reply direction's) has source address 'ip'.  Returns its
 * xid. */
static uint32_t
send_ct_flush(struct ofctrl *of, uint32_t ip, bool reply)
{
    struct ofp_ct_match match;
    memset(&match, 0, sizeof match);
    struct ofp_ct_tuple *tuple = reply ? &match.tuple_reply
                                       : &match.tuple_orig;
    tuple->src = in6_addr_mapped_ipv4(htonl(ip));
    uint16_t zone = of->ct_zone;
    return ofctrl_send(of, ofp_ct_match_encode(&match, &zone,
                                               OFCTRL_VERSION));
}

/* Sends the queued flushes, if connected: for each address, the entries
 * of connections it made (original source) and of those made to it
 * (reply source, which is the container also where NetIn's DNAT changed
 * the original destination). */
static void
send_ct_flushes(struct ofctrl *of)
{
    if (!of->n_ct_flush || !rconn_is_connected(of->rconn)) {
        return;
    }
    for (size_t i = 0; i < of->n_ct_flush; i++) {
        uint32_t xid = send_ct_flush(of, of->ct_flush[i], false);
        if (!i) {
            of->ct_first_xid = xid;
        }
        of->ct_last_xid = send_ct_flush(of, of->ct_flush[i], true);
    }
    of->stats.n_ct_flushed += of->n_ct_flush;
    VLOG_DBG("%s: flushing the conntrack entries of %"PRIuSIZE" addresses",
             rconn_get_name(of->rconn), of->n_ct_flush);
    of->n_ct_flush = 0;
}

/* If 'xid' is that of a conntrack flush: a switch older than Open vSwitch
 * 3.1 does not know NXT_CT_FLUSH.  Says so once and stops flushing. */
static bool
handle_ct_flush_error(struct ofctrl *of, uint32_t xid, enum ofperr error)
{
    if (!of->stats.n_ct_flushed
        || xid - of->ct_first_xid > of->ct_last_xid - of->ct_first_xid) {
        return false;
    }
    of->stats.n_errors++;
    if (!of->ct_flush_unsupported) {
        of->ct_flush_unsupported = true;
        VLOG_WARN("%s: the switch refuses to flush conntrack entries by "
                  "address (%s; NXT_CT_FLUSH needs Open vSwitch 3.1): the "
                  "connections of deleted containers stay until they idle "
                  "out", rconn_get_name(of->rconn), ofperr_to_string(error));
    }
    return true;
}

static void
handle_error(struct ofctrl *of, const struct ofp_header *oh)
{
    uint32_t xid = ntohl(oh->xid);
    struct ofpbuf payload;
    enum ofperr error = ofperr_decode_msg(oh, &payload);

    if (!error) {
        of->stats.n_errors++;
        COVERAGE_INC(ofctrl_error);
        VLOG_WARN_RL(&rl, "%s: undecodable error message",
                     rconn_get_name(of->rconn));
    } else if (!handle_meter_error(of, xid, error)
               && !handle_tlv_error(of, xid, error)
               && !handle_bundle_error(of, xid, error)
               && !handle_ct_flush_error(of, xid, error)) {
        of->stats.n_errors++;
        COVERAGE_INC(ofctrl_error);
        if (!VLOG_DROP_WARN(&rl)) {
            char *msg = ofp_to_string(payload.data, payload.size, NULL, NULL,
                                      1);
            VLOG_WARN("%s: error %s for request %s",
                      rconn_get_name(of->rconn), ofperr_to_string(error),
                      msg);
            free(msg);
        }
    }
    ofpbuf_uninit(&payload);
}

/* Ends the bundle in flight: 'ok' if it committed. */
static void
bundle_finish(struct ofctrl *of, bool ok)
{
    struct ofctrl_bundle *b = &of->bundle;

    if (ok) {
        flow_table_apply(&of->installed, &of->pending, &b->changes);
        free(b->msgs);
        b->msgs = NULL;
        b->n_msgs = 0;
        of->acked_seqno = b->seqno;
        of->stats.n_commits++;
        of->state = S_IDLE;
        of->retry_backoff = 0;
        VLOG_DBG("%s: bundle %"PRIu32" (put %"PRIu64") committed, "
                 "%"PRIuSIZE" flows installed", rconn_get_name(of->rconn),
                 b->id, b->seqno, flow_table_count(&of->installed));
    } else {
        /* The switch still has what it had, but the next put replaces
         * everything anyway, as ofctrl.h promises. */
        bundle_forget(of);
        flow_table_clear(&of->installed);
        of->stats.n_failed++;
        COVERAGE_INC(ofctrl_bundle_failed);
        of->state = S_NEW;
        of->retry_backoff = (of->retry_backoff
                             ? MIN(2 * of->retry_backoff, OFCTRL_RETRY_MAX)
                             : OFCTRL_RETRY_MIN);
        of->retry_at = time_msec() + of->retry_backoff;
        VLOG_WARN_RL(&rl, "%s: bundle %"PRIu32" (put %"PRIu64") rejected "
                     "and discarded; the next put replaces all flows",
                     rconn_get_name(of->rconn), b->id, b->seqno);
        /* Perhaps because someone deleted the TLV mapping. */
        tlv_check(of);
    }
}

static void
send_bundle_ctrl(struct ofctrl *of, uint16_t type, uint32_t *xidp)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = of->bundle.id,
        .type = type,
        .flags = OFCTRL_BUNDLE_FLAGS,
    };
    uint32_t xid = ofctrl_send(
        of, ofputil_encode_bundle_ctrl_request(OFCTRL_VERSION, &bc));
    if (xidp) {
        *xidp = xid;
    }
}

static void
handle_barrier_reply(struct ofctrl *of, const struct ofp_header *oh)
{
    struct ofctrl_bundle *b = &of->bundle;

    if (handle_tlv_barrier_reply(of, ntohl(oh->xid))
        || of->state != S_BUNDLE || ntohl(oh->xid) != b->barrier_xid) {
        return;
    }

    if (b->phase == PHASE_ADD) {
        if (b->failed) {
            send_bundle_ctrl(of, OFPBCT_DISCARD_REQUEST, NULL);
            bundle_finish(of, false);
        } else {
            send_bundle_ctrl(of, OFPBCT_COMMIT_REQUEST, &b->commit_xid);
            send_ct_flushes(of);
            b->barrier_xid = ofctrl_send(
                of, ofputil_encode_barrier_request(OFCTRL_VERSION));
            b->phase = PHASE_COMMIT;
        }
    } else {
        bundle_finish(of, !b->failed);
    }
}

static void
handle_msg(struct ofctrl *of, const struct ofp_header *oh)
{
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        VLOG_WARN_RL(&rl, "%s: undecodable message",
                     rconn_get_name(of->rconn));
        return;
    }

    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        ofctrl_send(of, ofputil_encode_echo_reply(oh));
        break;

    case OFPTYPE_ERROR:
        handle_error(of, oh);
        break;

    case OFPTYPE_BARRIER_REPLY:
        handle_barrier_reply(of, oh);
        break;

    case OFPTYPE_NXT_TLV_TABLE_REPLY:
        handle_tlv_reply(of, oh);
        break;

    case OFPTYPE_BUNDLE_CONTROL:
    case OFPTYPE_ECHO_REPLY:
        /* Bundle open and commit replies: the barriers say it all. */
        break;

    default:
        if (VLOG_IS_DBG_ENABLED()) {
            char *s = ofp_to_string(oh, ntohs(oh->length), NULL, NULL, 1);
            VLOG_DBG("%s: ignoring %s", rconn_get_name(of->rconn), s);
            free(s);
        }
        break;
    }
}

/* Sets the switch's fragment handling to "nx-match" (it is the switch's,
 * not the connection's, and a restarted ovs-vswitchd forgets it): the
 * first fragment of a datagram is matched with its transport ports, the
 * later ones with nw_frag=later and ports 0.  The default, "normal",
 * makes every fragment's ports read 0, the first's too, so a rule for one
 * port would refuse every fragmented datagram (see pipeline.c on
 * fragments). */
static void
send_frag_config(struct ofctrl *of)
{
    struct ofputil_switch_config config = {
        .frag = OFPUTIL_FRAG_NX_MATCH,
        .invalid_ttl_to_controller = -1,
        .miss_send_len = OFP_DEFAULT_MISS_SEND_LEN,
    };
    ofctrl_send(of, ofputil_encode_set_config(&config, OFCTRL_VERSION));
}

/* Connects, reconnects and handles what the switch sends. */
void
ofctrl_run(struct ofctrl *of)
{
    rconn_run(of->rconn);

    unsigned int seqno = rconn_get_connection_seqno(of->rconn);
    if (seqno != of->conn_seqno) {
        of->conn_seqno = seqno;
        ofctrl_reset(of);
        if (rconn_is_connected(of->rconn)) {
            VLOG_INFO("%s: connected", rconn_get_name(of->rconn));
            of->stats.n_connections++;
            of->state = S_NEW;
            of->retry_at = LLONG_MIN;
            send_frag_config(of);
            send_meters(of);
            tlv_check(of);
        }
    }
    if (!rconn_is_connected(of->rconn)) {
        return;
    }

    for (int i = 0; i < OFCTRL_MAX_RECV; i++) {
        struct ofpbuf *msg = rconn_recv(of->rconn);
        if (!msg) {
            return;
        }
        handle_msg(of, msg->data);
        ofpbuf_delete(msg);
    }
    /* There may be more to read. */
    poll_immediate_wake();
}

void
ofctrl_wait(struct ofctrl *of)
{
    rconn_run_wait(of->rconn);
    rconn_recv_wait(of->rconn);
    if (of->state == S_NEW && of->retry_at > time_msec()) {
        poll_timer_wait_until(of->retry_at);
    }
}

bool
ofctrl_can_put(const struct ofctrl *of)
{
    return (of->state == S_NEW || of->state == S_IDLE) && !tlv_busy(of);
}

bool
ofctrl_needs_put(const struct ofctrl *of)
{
    return of->state == S_NEW && time_msec() >= of->retry_at;
}

/* Adds 'msg', a flow_mod that carries 'change' (NULL for "delete all"), to
 * the bundle in flight as its next message. */
static void
bundle_add_flow_mod(struct ofctrl *of, struct ofpbuf *msg,
                    const struct flow_change *change)
{
    struct ofctrl_bundle *b = &of->bundle;
    struct ofp_header *oh = msg->data;

    if (!b->n_msgs) {
        b->first_xid = ntohl(oh->xid);
    } else {
        /* Consecutive xids (they normally are already). */
        oh->xid = htonl(b->first_xid + b->n_msgs);
    }
    b->msgs[b->n_msgs++] = change;

    struct ofputil_bundle_add_msg bam = {
        .bundle_id = b->id,
        .flags = OFCTRL_BUNDLE_FLAGS,
        .msg = oh,
    };
    ofctrl_send(of, ofputil_encode_bundle_add(OFCTRL_VERSION, &bam));
    ofpbuf_delete(msg);

    of->stats.n_flow_mods++;
    COVERAGE_INC(ofctrl_flow_mod);
}

/* Refuses change 'c' of the bundle being built, whose flow cannot be
 * encoded (flow_change_encode() said why in 'error', which this takes),
 * instead of sending a message whose length wraps: logs and counts it.  The
 * flow is treated as if it were not desired: an add is left out (and out of
 * the installed table), a modify deletes the installed flow it would have
 * replaced, which is safer than leaving the old rules in place.  Returns
 * the delete to send in its place, or NULL (the change is then freed). */
static struct ofpbuf *
refuse_flow(struct ofctrl *of, struct flow_change *c,
            enum ofputil_protocol protocol, char *error)
{
    static struct vlog_rate_limit refuse_rl = VLOG_RATE_LIMIT_INIT(1, 5);

    VLOG_ERR_RL(&refuse_rl, "%s: refusing to install a flow: %s",
                rconn_get_name(of->rconn), error);
    of->stats.n_refused++;
    COVERAGE_INC(ofctrl_flow_refused);
    free(of->refused_detail);
    of->refused_detail = error;

    if (c->command == OFPFC_MODIFY_STRICT) {
        c->command = OFPFC_DELETE_STRICT;
        c->flow = c->old;
        c->old = NULL;

        char *delete_error;
        struct ofpbuf *msg = flow_change_encode(c, protocol, &delete_error);
        ovs_assert(msg);        /* A delete has no actions. */
        return msg;
    }
    ovs_list_remove(&c->list_node);
    free(c);
    return NULL;
}

/* Sends 'changes' (detached into 'of->pending') as a new bundle for a new
 * put, preceded by "delete all flows" if 'replace'. */
static void
send_bundle(struct ofctrl *of, struct ovs_list *changes, bool replace)
{
    struct ofctrl_bundle *b = &of->bundle;
    enum ofputil_protocol protocol
        = ofputil_protocol_from_ofp_version(OFCTRL_VERSION);

    b->seqno = ++of->put_seqno;
    b->id = of->next_bundle_id++;
    b->phase = PHASE_ADD;
    b->replace = replace;
    b->failed = false;
    ovs_list_move(&b->changes, changes);
    b->n_msgs = 0;
    b->msgs = xmalloc((ovs_list_size(&b->changes) + replace)
                      * sizeof *b->msgs);

    send_bundle_ctrl(of, OFPBCT_OPEN_REQUEST, &b->open_xid);
    if (replace) {
        struct ofputil_flow_mod fm = {
            .priority = 0,
            .new_cookie = OVS_BE64_MAX,
            .table_id = OFPTT_ALL,
            .command = OFPFC_DELETE,
            .buffer_id = UINT32_MAX,
            .out_port = OFPP_ANY,
            .out_group = OFPG_ANY,
        };
        minimatch_init_catchall(&fm.match);
        bundle_add_flow_mod(of, ofputil_encode_flow_mod(&fm, protocol), NULL);
        minimatch_destroy(&fm.match);
    }

    struct flow_change *c;
    LIST_FOR_EACH_SAFE (c, list_node, &b->changes) {
        char *error;
        struct ofpbuf *msg = flow_change_encode(c, protocol, &error);
        if (!msg) {
            msg = refuse_flow(of, c, protocol, error);
            if (!msg) {
                continue;
            }
        }
        bundle_add_flow_mod(of, msg, c);
    }
    b->barrier_xid = ofctrl_send(
        of, ofputil_encode_barrier_request(OFCTRL_VERSION));

    of->state = S_BUNDLE;
    of->stats.n_bundles++;
    of->stats.n_replaces += replace;
    COVERAGE_INC(ofctrl_bundle);
    VLOG_DBG("%s: bundle %"PRIu32" (put %"PRIu64"): %s%"PRIuSIZE" changes",
             rconn_get_name(of->rconn), b->id, b->seqno,
             replace ? "delete all, " : "", ovs_list_size(&b->changes));
}

uint64_t
ofctrl_put(struct ofctrl *of, const struct flow_table *desired)
{
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);

    ovs_assert(ofctrl_can_put(of));
    of->stats.n_puts++;
    COVERAGE_INC(ofctrl_put);

    /* In S_NEW the installed table is empty: the diff adds everything. */
    flow_table_diff(desired, &of->installed, &changes);
    bool replace = of->state == S_NEW;
    if (!replace && ovs_list_is_empty(&changes)) {
        of->stats.n_unchanged++;
        COVERAGE_INC(ofctrl_put_unchanged);
        send_ct_flushes(of);        /* No commit to follow. */
        return of->put_seqno;
    }

    flow_changes_detach(&changes, &of->pending);
    send_bundle(of, &changes, replace);
    return of->put_seqno;
}

uint64_t
ofctrl_acked_seqno(const struct ofctrl *of)
{
    return of->acked_seqno;
}

const struct flow_table *
ofctrl_installed(const struct ofctrl *of)
{
    return &of->installed;
}

bool
ofctrl_is_connected(const struct ofctrl *of)
{
    return rconn_is_connected(of->rconn);
}

void
ofctrl_get_stats(const struct ofctrl *of, struct ofctrl_stats *stats)
{
    *stats = of->stats;
}

void
ofctrl_format(const struct ofctrl *of, struct ds *s)
{
    const struct ofctrl_stats *st = &of->stats;

    ds_put_format(s, "state: %s\n", ofctrl_state_to_string(of->state));
    ds_put_format(s, "connection: %s (%s)\n", rconn_get_target(of->rconn),
                  rconn_is_connected(of->rconn) ? "connected"
                  : "not connected");
    if (of->state == S_NEW || of->state == S_DISCONNECTED) {
        ds_put_cstr(s, "installed flows: unknown\n");
    } else {
        ds_put_format(s, "installed flows: %"PRIuSIZE"\n",
                      flow_table_count(&of->installed));
    }
    if (of->state == S_NEW) {
        long long int now = time_msec();
        ds_put_format(s, "needs put: %s\n",
                      of->retry_at <= now ? "yes" : "after a backoff");
    }
    ds_put_format(s, "put seqno: %"PRIu64"\n", of->put_seqno);
    ds_put_format(s, "acked seqno: %"PRIu64"\n", of->acked_seqno);
    if (of->state == S_BUNDLE) {
        ds_put_format(s, "bundle in flight: id %"PRIu32", %s%"PRIuSIZE
                      " flow_mods, waiting for %s\n", of->bundle.id,
                      of->bundle.replace ? "replacing, " : "",
                      of->bundle.n_msgs,
                      of->bundle.phase == PHASE_ADD ? "adds" : "commit");
    }
    ds_put_format(s, "meters: %"PRIuSIZE"\n", of->n_meters);
    if (of->tlv_wanted) {
        ds_put_cstr(s, "tlv map: ");
        tlv_map_format(&of->tlv, s);
        switch (of->tlv_state) {
        case TLV_UNCHECKED:
            ds_put_cstr(s, " (not checked)\n");
            break;
        case TLV_REQUESTED:
            ds_put_cstr(s, " (table requested)\n");
            break;
        case TLV_ADDING:
            ds_put_cstr(s, " (adding)\n");
            break;
        case TLV_PRESENT:
            ds_put_cstr(s, " (present)\n");
            break;
        case TLV_ADDED:
            ds_put_cstr(s, " (added)\n");
            break;
        case TLV_CONFLICT:
            ds_put_format(s, " (conflict: %s)\n", of->tlv_detail);
            break;
        case TLV_FAILED:
            ds_put_format(s, " (failed: %s)\n", of->tlv_detail);
            break;
        }
    }
    ds_put_format(s, "connections: %"PRIu64"\n", st->n_connections);
    ds_put_format(s, "puts: %"PRIu64" (%"PRIu64" unchanged)\n",
                  st->n_puts, st->n_unchanged);
    ds_put_format(s, "bundles: %"PRIu64" (%"PRIu64" replacing, %"PRIu64
                  " committed, %"PRIu64" failed)\n", st->n_bundles,
                  st->n_replaces, st->n_commits, st->n_failed);
    ds_put_format(s, "flow_mods sent: %"PRIu64"\n", st->n_flow_mods);
    if (st->n_refused) {
        ds_put_format(s, "flows refused: %"PRIu64" (last: %s)\n",
                      st->n_refused, of->refused_detail);
    }
    ds_put_format(s, "meter_mods sent: %"PRIu64"\n", st->n_meter_mods);
    if (of->tlv_wanted || st->n_tlv_mods) {
        ds_put_format(s, "tlv_mods sent: %"PRIu64"\n", st->n_tlv_mods);
    }
    if (st->n_ct_flushed || of->n_ct_flush || of->ct_flush_unsupported) {
        ds_put_format(s, "conntrack flushes: %"PRIu64" addresses flushed, "
                      "%"PRIuSIZE" queued%s\n", st->n_ct_flushed,
                      of->n_ct_flush,
                      of->ct_flush_unsupported
                      ? " (not supported by the switch)" : "");
    }
    ds_put_format(s, "errors: %"PRIu64"\n", st->n_errors);
}
