/*
 * pinctrl: answers denied packets that the switch sends to flowctl.  See
 * pinctrl.h.
 *
 * Why the set-up messages on each connection (ovs-vswitchd 3.1,
 * ofproto/connmgr.c): the management socket is an OFCONN_SERVICE ofconn,
 * whose miss_send_len starts at 0, and ofconn_receives_async_msg() sends a
 * service connection no asynchronous message at all while its
 * miss_send_len is 0.  Its asynchronous configuration otherwise defaults to
 * ofputil_async_cfg_default() (packet-ins for every reason, port status,
 * flow removed).  An OFPT_SET_ASYNC on a service connection with
 * miss_send_len 0 sets it to OFP_DEFAULT_MISS_SEND_LEN
 * (handle_nxt_set_async_config()), so one message both turns packet-ins on
 * and limits them to what pinctrl wants, without the switch-wide side
 * effect of OFPT_SET_CONFIG (which also sets the bridge's fragment
 * handling).  miss_send_len only limits table-miss packet-ins; a controller
 * action sends as much of the packet as its max_len (all, by default).
 *
 * The controller action's userdata travels only in NXT_PACKET_IN2, hence
 * NXT_SET_PACKET_IN_FORMAT, sent first so that no packet-in arrives in
 * another format.
 */

#include <config.h>

#include "pinctrl.h"

#include <errno.h>
#include <string.h>

#include "coverage.h"
#include "dp-packet.h"
#include "openflow/nicira-ext.h"
#include "openflow/openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-connection.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "pipeline.h"
#include "reject.h"
#include "socket-util.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(pinctrl);

COVERAGE_DEFINE(pinctrl_packet_in);
COVERAGE_DEFINE(pinctrl_tcp_reset);
COVERAGE_DEFINE(pinctrl_icmp_unreach);
COVERAGE_DEFINE(pinctrl_ignored);
COVERAGE_DEFINE(pinctrl_error);

/* Only one OpenFlow version: the encoders need not care about others. */
#define PINCTRL_VERSION OFP15_VERSION

/* The switch is local: no inactivity probes, a short reconnection backoff
 * (seconds). */
#define PINCTRL_PROBE_INTERVAL 0
#define PINCTRL_MAX_BACKOFF 1

/* Messages handled per pinctrl_run(). */
#define PINCTRL_MAX_RECV 50

/* Answers that may wait in the rconn queue; more are dropped.  The reject
 * meter limits packet-ins, so a full queue means that the switch is not
 * reading. */
#define PINCTRL_TXQ_LIMIT 100

/* Counters since pinctrl_create(), for pinctrl_format(). */

struct pinctrl {
    struct rconn *rconn;
    unsigned int conn_seqno;    /* rconn_get_connection_seqno() set up. */
    bool set_up;                /* Set-up sent on this connection? */
    struct rconn_packet_counter *txq;   /* Answers in the rconn queue. */
    bool more;                  /* Stopped at PINCTRL_MAX_RECV last run? */
    struct pinctrl_stats stats;
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
static struct vlog_rate_limit dbg_rl = VLOG_RATE_LIMIT_INIT(30, 60);

struct pinctrl *
pinctrl_create(const char *target)
{
    struct pinctrl *p = xzalloc(sizeof *p);

    p->rconn = rconn_create(PINCTRL_PROBE_INTERVAL, PINCTRL_MAX_BACKOFF,
                            DSCP_DEFAULT, 1u << PINCTRL_VERSION);
    rconn_connect(p->rconn, target, target);
    p->conn_seqno = rconn_get_connection_seqno(p->rconn);
    p->txq = rconn_packet_counter_create();
    return p;
}

void
pinctrl_destroy(struct pinctrl *p)
{
    if (p) {
        rconn_destroy(p->rconn);
        rconn_packet_counter_destroy(p->txq);
        free(p);
    }
}

/* Sends 'msg' (and takes it). */
static void
pinctrl_send(struct pinctrl *p, struct ofpbuf *msg)
{
    if (VLOG_IS_DBG_ENABLED()) {
        ofpmsg_update_length(msg);
        char *s = ofp_to_string(msg->data, msg->size, NULL, NULL, 1);
        VLOG_DBG_RL(&dbg_rl, "%s: sending %s", rconn_get_name(p->rconn), s);
        free(s);
    }
    rconn_send(p->rconn, msg, NULL);
}

static void
count_error(struct pinctrl *p)
{
    p->stats.n_errors++;
    COVERAGE_INC(pinctrl_error);
}

void
pinctrl_setup_msgs(enum ofp_version version, uint16_t controller_id,
                   struct ovs_list *msgs)
{
    if (controller_id) {
        struct ofpbuf *msg = ofpraw_alloc(OFPRAW_NXT_SET_CONTROLLER_ID,
                                          version, 0);
        struct nx_controller_id *nci = ofpbuf_put_zeros(msg, sizeof *nci);
        nci->controller_id = htons(controller_id);
        ovs_list_push_back(msgs, &msg->list_node);
    }

    struct ofpbuf *msg = ofputil_encode_set_packet_in_format(
        version, OFPUTIL_PACKET_IN_NXT2);
    ovs_list_push_back(msgs, &msg->list_node);

    /* OFPR_ACTION is OF1.4's OFPR_APPLY_ACTION; OVS adds the other action
     * reasons (action set, group, packet-out) to it.  A controller action
     * in a table's catch-all priority-0 flow (the traffic log's default
     * deny) is reported as an explicit table miss, which OFPR_NO_MATCH
     * asks for (ofp-connection.c; fail-mode secure sends no packet-in for
     * a miss without a flow). */
    uint32_t reasons = (1u << OFPR_ACTION) | (1u << OFPR_NO_MATCH);
    struct ofputil_async_cfg ac = OFPUTIL_ASYNC_CFG_INIT;
    ac.primary[OAM_PACKET_IN] = reasons;
    ac.secondary[OAM_PACKET_IN] = reasons;
    uint32_t oams = ((1u << OAM_PACKET_IN) | (1u << OAM_PORT_STATUS)
                     | (1u << OAM_FLOW_REMOVED));
    msg = ofputil_encode_set_async_config(&ac, oams, version);
    ovs_list_push_back(msgs, &msg->list_node);
}

/* Asks the switch, on a new connection, for packet-ins from controller
 * actions in NXT_PACKET_IN2 format, and nothing else (see the top of this
 * file). */
static void
send_setup(struct pinctrl *p)
{
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    struct ofpbuf *msg;

    pinctrl_setup_msgs(PINCTRL_VERSION, 0, &msgs);
    LIST_FOR_EACH_POP (msg, list_node, &msgs) {
        pinctrl_send(p, msg);
    }
}

/* Sends 'answer' out of 'in_port', the port its offending packet came in
 * on.  Returns true if it was queued. */
static bool
send_answer(struct pinctrl *p, const struct dp_packet *answer,
            ofp_port_t in_port)
{
    uint64_t ofpacts_stub[64 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(ofpacts_stub);
    ofpact_put_OUTPUT(&ofpacts)->port = OFPP_IN_PORT;

    struct ofputil_packet_out po = {
        .packet = dp_packet_data(answer),
        .packet_len = dp_packet_size(answer),
        .buffer_id = UINT32_MAX,
        .ofpacts = ofpacts.data,
        .ofpacts_len = ofpacts.size,
    };
    match_init_catchall(&po.flow_metadata);
    match_set_in_port(&po.flow_metadata, in_port);

    enum ofputil_protocol proto
        = ofputil_protocol_from_ofp_version(PINCTRL_VERSION);
    struct ofpbuf *msg = ofputil_encode_packet_out(&po, proto);
    ofpbuf_uninit(&ofpacts);

    int error = rconn_send_with_limit(p->rconn, msg, p->txq,
                                      PINCTRL_TXQ_LIMIT);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: answer dropped (%s)", rconn_get_name(p->rconn),
                     error == EAGAIN ? "queue full" : ovs_strerror(error));
        return false;
    }
    return true;
}

static void
handle_packet_in(struct pinctrl *p, const struct ofp_header *oh)
{
    struct ofputil_packet_in pin;
    size_t total_len;
    uint32_t buffer_id;
    enum ofperr error = ofputil_decode_packet_in(oh, true, NULL, NULL, &pin,
                                                 &total_len, &buffer_id,
                                                 NULL);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: bad packet-in (%s)", rconn_get_name(p->rconn),
                     ofperr_to_string(error));
        count_error(p);
        return;
    }
    p->stats.n_packet_ins++;
    COVERAGE_INC(pinctrl_packet_in);

    ofp_port_t in_port = pin.flow_metadata.flow.in_port.ofp_port;
    uint8_t kind = pin.userdata_len ? pin.userdata[0] : 0;
    struct dp_packet *answer = NULL;
    const char *why;
    if (kind == PIPELINE_PIN_REJECT_TCP) {
        answer = reject_tcp_reset(pin.packet, pin.packet_len, &why);
    } else if (kind == PIPELINE_PIN_REJECT_ICMP) {
        answer = reject_icmp_unreachable(pin.packet, pin.packet_len, &why);
    } else {
        why = pin.userdata_len ? "unknown userdata" : "no userdata";
    }

    if (!answer) {
        /* Not a problem: the pipeline sends every denied packet, and most
         * reasons for not answering are the sender's (a RST, an ICMP
         * error, a broadcast). */
        if (!VLOG_DROP_DBG(&dbg_rl)) {
            char reason[OFPUTIL_PACKET_IN_REASON_BUFSIZE];
            VLOG_DBG("%s: no answer to packet-in (reason %s, table %"PRIu8
                     ", in_port %"PRIu16", %"PRIuSIZE"/%"PRIuSIZE" bytes): "
                     "%s", rconn_get_name(p->rconn),
                     ofputil_packet_in_reason_to_string(pin.reason, reason,
                                                        sizeof reason),
                     pin.table_id, ofp_to_u16(in_port), pin.packet_len,
                     total_len, why);
        }
        p->stats.n_ignored++;
        COVERAGE_INC(pinctrl_ignored);
        return;
    }

    if (!send_answer(p, answer, in_port)) {
        count_error(p);
    } else if (kind == PIPELINE_PIN_REJECT_TCP) {
        p->stats.n_tcp_resets++;
        COVERAGE_INC(pinctrl_tcp_reset);
    } else {
        p->stats.n_icmp_unreach++;
        COVERAGE_INC(pinctrl_icmp_unreach);
    }
    dp_packet_delete(answer);
}

static void
handle_error(struct pinctrl *p, const struct ofp_header *oh)
{
    if (!VLOG_DROP_WARN(&rl)) {
        char *s = ofp_to_string(oh, ntohs(oh->length), NULL, NULL, 2);
        VLOG_WARN("%s: switch reported %s", rconn_get_name(p->rconn), s);
        free(s);
    }
    count_error(p);
}

static void
handle_msg(struct pinctrl *p, const struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        VLOG_WARN_RL(&rl, "%s: undecodable message of type %"PRIu8,
                     rconn_get_name(p->rconn), oh->type);
        count_error(p);
        return;
    }

    switch (type) {
    case OFPTYPE_PACKET_IN:
        handle_packet_in(p, oh);
        break;

    case OFPTYPE_ECHO_REQUEST:
        pinctrl_send(p, ofputil_encode_echo_reply(oh));
        break;

    case OFPTYPE_ERROR:
        handle_error(p, oh);
        break;

    default:
        /* Echo replies, and anything the switch sends unasked. */
        VLOG_DBG_RL(&dbg_rl, "%s: ignoring %s", rconn_get_name(p->rconn),
                    ofptype_get_name(type));
        break;
    }
}

void
pinctrl_run(struct pinctrl *p)
{
    rconn_run(p->rconn);

    unsigned int seqno = rconn_get_connection_seqno(p->rconn);
    if (seqno != p->conn_seqno) {
        p->conn_seqno = seqno;
        p->set_up = false;
    }
    if (!rconn_is_connected(p->rconn)) {
        p->more = false;
        return;
    }
    if (!p->set_up) {
        send_setup(p);
        p->set_up = true;
        p->stats.n_connections++;
        VLOG_INFO("%s: connected, asked for packet-ins",
                  rconn_get_name(p->rconn));
    }

    int i;
    for (i = 0; i < PINCTRL_MAX_RECV; i++) {
        struct ofpbuf *msg = rconn_recv(p->rconn);
        if (!msg) {
            break;
        }
        handle_msg(p, msg);
        ofpbuf_delete(msg);
    }
    p->more = i == PINCTRL_MAX_RECV;
}

void
pinctrl_wait(struct pinctrl *p)
{
    rconn_run_wait(p->rconn);
    rconn_recv_wait(p->rconn);
    if (p->more) {
        poll_immediate_wake();
    }
}

bool
pinctrl_is_connected(const struct pinctrl *p)
{
    return rconn_is_connected(p->rconn) && p->set_up;
}

void
pinctrl_format(const struct pinctrl *p, struct ds *s)
{
    const struct pinctrl_stats *st = &p->stats;

    ds_put_format(s, "connection: %s (%s)\n", rconn_get_target(p->rconn),
                  pinctrl_is_connected(p) ? "connected" : "not connected");
    ds_put_format(s, "connections: %"PRIu64"\n", st->n_connections);
    ds_put_format(s, "packet-ins: %"PRIu64"\n", st->n_packet_ins);
    ds_put_format(s, "tcp resets sent: %"PRIu64"\n", st->n_tcp_resets);
    ds_put_format(s, "icmp unreachables sent: %"PRIu64"\n",
                  st->n_icmp_unreach);
    ds_put_format(s, "ignored: %"PRIu64"\n", st->n_ignored);
    ds_put_format(s, "answers queued: %u\n",
                  rconn_packet_counter_n_packets(p->txq));
    ds_put_format(s, "errors: %"PRIu64"\n", st->n_errors);
}

void
pinctrl_get_stats(const struct pinctrl *p, struct pinctrl_stats *stats)
{
    *stats = p->stats;
}
