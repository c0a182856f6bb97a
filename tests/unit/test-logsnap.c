/*
 * Unit tests of flowctl/logsnap.c: a snapshot of a model names the
 * container and the rule of each kind of log packet-in, field by field,
 * and outlives the model it was made from.
 */

#include <config.h>

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cf-policy.h"
#include "dp-packet.h"
#include "flow.h"
#include "logcell.h"
#include "logline.h"
#include "logsnap.h"
#include "model.h"
#include "openvswitch/match.h"
#include "packets.h"
#include "pipeline.h"
#include "sset.h"
#include "util.h"

#define CELL_IP LOGCELL_CELL_IP          /* 10.0.10.10 */
#define A_IP 0x0aff0705                 /* 10.255.7.5, ofport 5, app A */
#define B_IP 0x0aff0706                 /* 10.255.7.6, ofport 6, app B */
#define EXT_IP 0x0a000064               /* 10.0.0.100 */

/* The cell: tests/fixtures/logcell.h. */
static void
make_model(struct model *m)
{
    logcell_make(m);
}

/* The payload size of the packets decode() makes. */
static size_t payload = 64;

/* A log packet-in: 'proto' from 'src':'sport' to 'dst':'dport' (ICMP: type
 * and code), with registers reg1 = 'ofport', xreg3 = 'cookie', reg8 =
 * 'tag'.  Decodes it with 'snap' into 'ev'; returns the error. */
static const char *
decode(const struct logsnap *snap, uint8_t kind, uint8_t proto,
       uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
       uint32_t ofport, uint64_t cookie, uint32_t tag, size_t cut,
       struct logline_event *ev)
{
    struct flow flow;
    memset(&flow, 0, sizeof flow);
    flow.dl_type = htons(ETH_TYPE_IP);
    flow.nw_src = htonl(src);
    flow.nw_dst = htonl(dst);
    flow.nw_proto = proto;
    flow.nw_ttl = 64;
    flow.tp_src = htons(sport);
    flow.tp_dst = htons(dport);
    struct dp_packet *p = dp_packet_new(0);
    flow_compose(p, &flow, NULL, payload);

    struct match md;
    match_init_catchall(&md);
    match_set_reg(&md, 1, ofport);
    match_set_reg(&md, 6, cookie >> 32);
    match_set_reg(&md, 7, (uint32_t) cookie);
    match_set_reg(&md, 8, tag);
    size_t len = cut ? MIN(cut, dp_packet_size(p)) : dp_packet_size(p);
    const char *why = logsnap_decode(snap, kind, &md, dp_packet_data(p),
                                     len, 1796400000123456LL, ev);
    dp_packet_delete(p);
    return why;
}

/* A snapshot of 'm', its rulesets as pipeline_get_rulesets() makes them. */
static struct logsnap *
snap_of(const struct model *m, const char *guid, const char *cell)
{
    struct pipeline_ruleset *rs;
    size_t n = pipeline_get_rulesets(m, &rs);
    struct logsnap *snap = logsnap_create(m, rs, n, guid, cell);
    pipeline_rulesets_destroy(rs, n);
    return snap;
}

static uint32_t
ruleset_of(const struct model *m, uint32_t ofport)
{
    struct pipeline_ruleset_info info;
    pipeline_container_ruleset(m, ofport, &info);
    assert_true(info.ruleset != 0);
    return info.ruleset;
}

/* An ASG accept: the sender by its ofport, the rule by the cookie, static
 * (Garden's index) or synced (the group's guid, name and index); the
 * packet's fields; the cell's. */
static void
test_asg_accept(void **state OVS_UNUSED)
{
    struct model m;
    make_model(&m);
    struct logsnap *snap = snap_of(&m, "guid-1", "cell-1");
    struct logline_event ev;

    uint64_t ck = pipeline_asg_cookie(ruleset_of(&m, 5), 1);
    assert_null(decode(snap, PIPELINE_LOG_ASG_ACCEPT, IPPROTO_ICMP, A_IP,
                       8, EXT_IP, 0, 5, ck, 0, 0, &ev));
    assert_int_equal(ev.direction, LOGLINE_EGRESS);
    assert_true(ev.allowed);
    assert_int_equal(ev.time_usec, 1796400000123456LL);
    assert_int_equal(ev.src_ip, A_IP);
    assert_int_equal(ev.dst_ip, EXT_IP);
    assert_int_equal(ev.protocol, IPPROTO_ICMP);
    assert_int_equal(ev.icmp_type, 8);
    assert_int_equal(ev.icmp_code, 0);
    assert_int_equal(ev.src_port, 0);
    assert_string_equal(ev.container_id, "h-5");
    assert_string_equal(ev.app_guid, "A");
    assert_string_equal(ev.space_guid, "S1");
    assert_string_equal(ev.organization_guid, "org-A");
    assert_int_equal(ev.host_ip, CELL_IP);
    assert_string_equal(ev.host_guid, "guid-1");
    assert_string_equal(ev.cell, "cell-1");
    assert_int_equal(ev.rule.kind, LOGLINE_RULE_STATIC);
    assert_int_equal(ev.rule.stat.index, 1);

    /* B's rules are the synced group's: its rule 1 (of the group's own
     * array) is B's rule 1. */
    ck = pipeline_asg_cookie(ruleset_of(&m, 6), 1);
    assert_null(decode(snap, PIPELINE_LOG_ASG_ACCEPT, IPPROTO_TCP, B_IP,
                       40000, EXT_IP, 443, 6, ck, 0, 0, &ev));
    assert_int_equal(ev.src_port, 40000);
    assert_int_equal(ev.dst_port, 443);
    assert_int_equal(ev.protocol, IPPROTO_TCP);
    assert_string_equal(ev.container_id, "h-6");
    assert_int_equal(ev.rule.kind, LOGLINE_RULE_ASG);
    assert_string_equal(ev.rule.asg.guid, "g-web");
    assert_string_equal(ev.rule.asg.name, "web");
    assert_int_equal(ev.rule.asg.index, 1);

    /* A cookie the snapshot does not know: the line without a rule. */
    ck = pipeline_asg_cookie(ruleset_of(&m, 6), 7);
    assert_null(decode(snap, PIPELINE_LOG_ASG_ACCEPT, IPPROTO_TCP, B_IP,
                       40000, EXT_IP, 443, 6, ck, 0, 0, &ev));
    assert_int_equal(ev.rule.kind, LOGLINE_RULE_NONE);
    assert_string_equal(ev.container_id, "h-6");

    logsnap_unref(snap);
    model_destroy(&m);
}

/* Denies and c2c: the default deny about the sender; a c2c accept about
 * the receiver (by address) naming the policy from its cookie, the mark
 * the sender's tag; c2c denies both ways. */
static void
test_denies_and_c2c(void **state OVS_UNUSED)
{
    struct model m;
    make_model(&m);
    struct logsnap *snap = snap_of(&m, NULL, NULL);
    struct logline_event ev;

    assert_null(decode(snap, PIPELINE_LOG_EGRESS_DENY, IPPROTO_UDP, A_IP,
                       5353, EXT_IP, 53, 5, 0, 0, 0, &ev));
    assert_int_equal(ev.direction, LOGLINE_EGRESS);
    assert_false(ev.allowed);
    assert_int_equal(ev.rule.kind, LOGLINE_RULE_DEFAULT_DENY);
    assert_int_equal(ev.protocol, IPPROTO_UDP);
    assert_int_equal(ev.dst_port, 53);
    assert_string_equal(ev.container_id, "h-5");
    assert_null(ev.host_guid);
    assert_null(ev.cell);

    uint64_t ck = pipeline_policy_cookie(&m.policy.policies[0]);
    assert_null(decode(snap, PIPELINE_LOG_C2C_ACCEPT, IPPROTO_TCP, A_IP,
                       41000, B_IP, 8081, 0, ck, 1, 0, &ev));
    assert_int_equal(ev.direction, LOGLINE_INGRESS);
    assert_true(ev.allowed);
    assert_int_equal(ev.mark, 1);
    assert_string_equal(ev.container_id, "h-6");
    assert_string_equal(ev.app_guid, "B");
    assert_int_equal(ev.rule.kind, LOGLINE_RULE_C2C_POLICY);
    assert_string_equal(ev.rule.policy.src_app_guid, "A");
    assert_string_equal(ev.rule.policy.dst_app_guid, "B");
    assert_int_equal(ev.rule.policy.src_tag, 1);
    assert_int_equal(ev.rule.policy.protocol, IPPROTO_TCP);
    assert_int_equal(ev.rule.policy.port_start, 8080);
    assert_int_equal(ev.rule.policy.port_end, 8081);

    /* From another cell (no ofport), to B, no policy. */
    assert_null(decode(snap, PIPELINE_LOG_C2C_DENY_IN, IPPROTO_TCP,
                       0x0aff0902, 41000, B_IP, 9090, 0, 0, 0x10, 0, &ev));
    assert_int_equal(ev.direction, LOGLINE_INGRESS);
    assert_false(ev.allowed);
    assert_int_equal(ev.rule.kind, LOGLINE_RULE_C2C_DENY);
    assert_string_equal(ev.container_id, "h-6");
    assert_int_equal(ev.mark, 0x10);

    /* From A, without a tag, to another cell's container. */
    assert_null(decode(snap, PIPELINE_LOG_C2C_DENY_OUT, IPPROTO_TCP, A_IP,
                       41000, 0x0aff0902, 8080, 5, 0, 0, 0, &ev));
    assert_int_equal(ev.direction, LOGLINE_EGRESS);
    assert_int_equal(ev.rule.kind, LOGLINE_RULE_C2C_DENY);
    assert_string_equal(ev.container_id, "h-5");

    /* An address no container has: a line all the same. */
    assert_null(decode(snap, PIPELINE_LOG_C2C_DENY_IN, IPPROTO_TCP,
                       0x0aff0902, 41000, 0x0aff0763, 80, 0, 0, 0, 0, &ev));
    assert_null(ev.container_id);

    logsnap_unref(snap);
    model_destroy(&m);
}

/* What is not a log copy is refused, saying why: an unknown kind, a packet
 * cut before its IP header ends.  A copy cut later is decoded. */
static void
test_refused(void **state OVS_UNUSED)
{
    struct model m;
    make_model(&m);
    struct logsnap *snap = snap_of(&m, NULL, NULL);
    struct logline_event ev;

    assert_non_null(decode(snap, PIPELINE_PIN_REJECT_TCP, IPPROTO_TCP,
                           A_IP, 1, EXT_IP, 80, 5, 0, 0, 0, &ev));
    assert_non_null(decode(snap, PIPELINE_LOG_EGRESS_DENY, IPPROTO_TCP,
                           A_IP, 1, EXT_IP, 80, 5, 0, 0, 14 + 12, &ev));
    /* Cut after the IP header: the ports read 0, the line is made. */
    assert_null(decode(snap, PIPELINE_LOG_EGRESS_DENY, IPPROTO_TCP,
                       A_IP, 1, EXT_IP, 80, 5, 0, 0, 14 + 20, &ev));
    assert_int_equal(ev.dst_ip, EXT_IP);
    assert_int_equal(ev.dst_port, 0);

    /* A 1,000-byte UDP datagram cut at PIPELINE_LOG_MAX_LEN, as the switch
     * sends it: shorter than its IP header says, decoded all the same. */
    payload = 1000;
    assert_null(decode(snap, PIPELINE_LOG_ASG_ACCEPT, IPPROTO_UDP, A_IP,
                       5000, EXT_IP, 5001, 5, 0, 0, PIPELINE_LOG_MAX_LEN,
                       &ev));
    payload = 64;
    assert_int_equal(ev.protocol, IPPROTO_UDP);
    assert_int_equal(ev.src_port, 5000);
    assert_int_equal(ev.dst_port, 5001);

    logsnap_unref(snap);
    model_destroy(&m);
}

/* A snapshot is a deep copy: it outlives its model (and a reference taken
 * by another holder outlives the first). */
static void
test_outlives_model(void **state OVS_UNUSED)
{
    struct model m;
    make_model(&m);
    uint64_t ck = pipeline_asg_cookie(ruleset_of(&m, 6), 1);
    uint64_t pck = pipeline_policy_cookie(&m.policy.policies[0]);
    struct logsnap *snap = snap_of(&m, "g", "c");
    size_t n_rulesets, n_policies;
    assert_int_equal(logsnap_count(snap, &n_rulesets, &n_policies), 2);
    assert_int_equal(n_rulesets, 2);
    assert_int_equal(n_policies, 1);
    model_destroy(&m);

    struct logsnap *other = logsnap_ref(snap);
    logsnap_unref(snap);

    struct logline_event ev;
    assert_null(decode(other, PIPELINE_LOG_ASG_ACCEPT, IPPROTO_TCP, B_IP,
                       40000, EXT_IP, 443, 6, ck, 0, 0, &ev));
    assert_string_equal(ev.rule.asg.guid, "g-web");
    assert_string_equal(ev.container_id, "h-6");
    assert_null(decode(other, PIPELINE_LOG_C2C_ACCEPT, IPPROTO_TCP, A_IP,
                       41000, B_IP, 8080, 0, pck, 1, 0, &ev));
    assert_string_equal(ev.rule.policy.src_app_guid, "A");
    logsnap_unref(other);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asg_accept),
        cmocka_unit_test(test_denies_and_c2c),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_outlives_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
