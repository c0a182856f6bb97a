/*
 * fuzz-packet-in: what flowctl makes of a packet-in's contents, on both of
 * its packet-in connections:
 *
 *   - the traffic log (logctl.c): logsnap_decode() (flowctl/logsnap.h)
 *     turns a log copy, its kind (the controller action's userdata byte),
 *     its registers and its packet, into an event against a snapshot of
 *     tests/fixtures/logcell.h's cell (two containers of two apps,
 *     Garden's rules and a synced security group, a policy between them),
 *     and logline_format() writes the line;
 *   - the rejects (pinctrl.c): reject_tcp_reset() and
 *     reject_icmp_unreachable() (flowctl/reject.h) answer the packet.
 *
 * The input: the kind (1 byte), reg0, reg1, reg6, reg7 and reg8 (4 bytes
 * each, as the pipeline's flows set them), then the Ethernet frame as the
 * switch sent it (any length: a log copy is cut at 128 bytes).
 *
 * Promises checked:
 *   - a log line is one JSON object (it parses), whose message is
 *     cfnetworking.iptables.<direction>-<allowed|denied> and whose packet
 *     addresses are the event's;
 *   - an answer exists exactly when no reason is given; it is IPv4, from
 *     the offender's destination to its source, with a correct IP header
 *     checksum, and is a TCP segment with RST set (reject_tcp_reset()) or
 *     an ICMP port unreachable carrying the offender's IP header
 *     (reject_icmp_unreachable()), never longer than the offender's
 *     headers need.
 */

#include <config.h>

#include <string.h>

#include "csum.h"
#include "dp-packet.h"
#include "flow.h"
#include "fuzz.h"
#include "logcell.h"
#include "ipv4.h"
#include "logline.h"
#include "logsnap.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "packets.h"
#include "pipeline.h"
#include "reject.h"
/* jansson after every OVS header: see ovs-json-rename.h. */
#include "cfjson.h"

#define HEADER_LEN 21                   /* Kind and five registers. */

static struct model model;
static struct logsnap *snap;

/* A snapshot of tests/fixtures/logcell.h's cell, as logctl.c gets one. */
static void
make_snapshot(void)
{
    logcell_make(&model);
    struct pipeline_ruleset *rs;
    size_t n = pipeline_get_rulesets(&model, &rs);
    snap = logsnap_create(&model, rs, n, "guid-1", "cell-1");
    pipeline_rulesets_destroy(rs, n);
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static void
check_log_line(const struct logline_event *ev)
{
    struct ds line = DS_EMPTY_INITIALIZER;
    logline_format(ev, &line);
    json_t *doc = json_loads(ds_cstr(&line), 0, NULL);
    if (!json_is_object(doc)) {
        fprintf(stderr, "not a JSON object: %s\n", ds_cstr(&line));
    }
    FUZZ_CHECK(json_is_object(doc));

    char *message = xasprintf("cfnetworking.iptables.%s-%s",
                              logline_direction_name(ev->direction),
                              ev->allowed ? "allowed" : "denied");
    const char *got = json_string_value(json_object_get(doc, "message"));
    FUZZ_CHECK(got && !strcmp(got, message));
    free(message);

    json_t *pkt = json_object_get(json_object_get(doc, "data"), "packet");
    char src[IPV4_ADDR_LEN], dst[IPV4_ADDR_LEN];
    ipv4_format(ev->src_ip, src);
    ipv4_format(ev->dst_ip, dst);
    got = json_string_value(json_object_get(pkt, "src_ip"));
    FUZZ_CHECK(got && !strcmp(got, src));
    got = json_string_value(json_object_get(pkt, "dst_ip"));
    FUZZ_CHECK(got && !strcmp(got, dst));

    json_decref(doc);
    ds_destroy(&line);
}

/* Checks 'answer' (may be NULL, then 'why' must be set) to 'frame'. */
static void
check_answer(const void *frame, size_t size, struct dp_packet *answer,
             const char *why, bool tcp)
{
    FUZZ_CHECK((answer == NULL) == (why != NULL));
    if (!answer) {
        return;
    }

    struct dp_packet in;
    struct flow in_flow, out_flow;
    dp_packet_use_const(&in, frame, size);
    flow_extract(&in, &in_flow);
    flow_extract(answer, &out_flow);

    FUZZ_CHECK(out_flow.dl_type == htons(ETH_TYPE_IP));
    FUZZ_CHECK(out_flow.nw_src == in_flow.nw_dst);
    FUZZ_CHECK(out_flow.nw_dst == in_flow.nw_src);
    const struct ip_header *ip = dp_packet_l3(answer);
    FUZZ_CHECK(ip != NULL);
    FUZZ_CHECK(csum(ip, IP_IHL(ip->ip_ihl_ver) * 4) == 0);
    if (tcp) {
        FUZZ_CHECK(out_flow.nw_proto == IPPROTO_TCP);
        FUZZ_CHECK(ntohs(out_flow.tcp_flags) & TCP_RST);
        FUZZ_CHECK(dp_packet_size(answer) <= ETH_HEADER_LEN
                   + IP_HEADER_LEN + TCP_HEADER_LEN);
    } else {
        FUZZ_CHECK(out_flow.nw_proto == IPPROTO_ICMP);
        FUZZ_CHECK(ntohs(out_flow.tp_src) == ICMP4_DST_UNREACH);
        FUZZ_CHECK(ntohs(out_flow.tp_dst) == 3);     /* Port unreachable. */
        /* Its IP header and the first 8 bytes of its payload (RFC 792),
         * the offender's IP header being at most 60 bytes. */
        FUZZ_CHECK(dp_packet_size(answer) <= ETH_HEADER_LEN + IP_HEADER_LEN
                   + ICMP_HEADER_LEN + 60 + 8);
        const struct ip_header *offender = dp_packet_l3(&in);
        size_t hlen = IP_IHL(offender->ip_ihl_ver) * 4;
        const uint8_t *quoted = (const uint8_t *) dp_packet_l4(answer)
                                + ICMP_HEADER_LEN;
        FUZZ_CHECK(dp_packet_l4_size(answer) >= ICMP_HEADER_LEN + hlen);
        FUZZ_CHECK(!memcmp(quoted, offender, hlen));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!snap) {
        make_snapshot();
    }
    if (size < HEADER_LEN) {
        return 0;
    }
    const uint8_t *frame = data + HEADER_LEN;
    size_t len = size - HEADER_LEN;

    /* The traffic log. */
    struct match md;
    match_init_catchall(&md);
    match_set_reg(&md, 0, get32(data + 1));
    match_set_reg(&md, 1, get32(data + 5));
    match_set_reg(&md, 6, get32(data + 9));
    match_set_reg(&md, 7, get32(data + 13));
    match_set_reg(&md, 8, get32(data + 17));
    struct logline_event ev;
    const char *why = logsnap_decode(snap, data[0], &md, frame,
                                     MIN(len, PIPELINE_LOG_MAX_LEN),
                                     1796400000123456LL, &ev);
    if (!why) {
        check_log_line(&ev);
    }

    /* The rejects.  The answers are built from a copy the size of the
     * frame, so ASan sees any read beyond it. */
    uint8_t *copy = xmalloc(MAX(len, 1));
    memcpy(copy, frame, len);
    struct dp_packet *answer = reject_tcp_reset(copy, len, &why);
    check_answer(copy, len, answer, why, true);
    dp_packet_delete(answer);
    answer = reject_icmp_unreachable(copy, len, &why);
    check_answer(copy, len, answer, why, false);
    dp_packet_delete(answer);
    free(copy);
    return 0;
}
