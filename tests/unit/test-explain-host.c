/*
 * Unit tests for flowctl/trace's verdict on destinations the cell's kernel
 * delivers to the host itself (explain.c): its own addresses, broadcast and
 * multicast.  An ASG may allow them; the host's cni-ovs-input chain refuses
 * them (hostnet.h), and the verdict must say so.
 */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compiler.h"
#include "explain.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "pipeline.h"
#include "util.h"

/* The local routing table of a cell with 10.0.0.11/24 on its underlay, a
 * dummy with 192.168.77.1/24 and the loopback. */
static const struct ipv4_cidr local[] = {
    { 0x0a00000b, 32 },         /* 10.0.0.11 */
    { 0xc0a84d01, 32 },         /* 192.168.77.1 */
    { 0x7f000000, 8 },          /* 127.0.0.0/8 */
};
static const struct ipv4_cidr bcast[] = {
    { 0x0a0000ff, 32 },         /* 10.0.0.255 */
    { 0xc0a84dff, 32 },         /* 192.168.77.255 */
};
static const struct explain_host_dsts host = {
    .local = local, .n_local = ARRAY_SIZE(local),
    .broadcast = bcast, .n_broadcast = ARRAY_SIZE(bcast),
};

/* An ofproto/trace whose last 'egress' flow has 'cookie'. */
static char *
trace_with_egress(uint64_t cookie)
{
    return xasprintf(" 0. in_port=2, priority 100, cookie 0x200000000000002\n"
                     " %d. ip, priority 500, cookie %#"PRIx64"\n"
                     "    goto_table:8\n", PIPELINE_T_EGRESS, cookie);
}

static void
assert_verdict(const struct explain_host_dsts *h, uint64_t cookie,
               const char *dst, const char *want)
{
    struct model m;
    ovs_be32 ip;
    struct ds s = DS_EMPTY_INITIALIZER;

    assert_true(ip_parse(dst, &ip));
    model_init(&m);
    char *trace = trace_with_egress(cookie);
    explain_trace(&m, trace, ntohl(ip), h, &s);
    if (strncmp(ds_cstr(&s), want, strlen(want))) {
        fail_msg("%s: got \"%s\", want \"%s...\"", dst, ds_cstr(&s), want);
    }
    ds_destroy(&s);
    free(trace);
    model_destroy(&m);
}

#define REFUSED "rejected by the cell's host: "

static void
test_asg_to_host_is_refused(void **state OVS_UNUSED)
{
    uint64_t asg = pipeline_cookie(PIPELINE_CK_ASG, 0);

    assert_verdict(&host, asg, "192.168.77.1", REFUSED "192.168.77.1 is one "
                   "of the cell's own addresses, and iptables chain "
                   "cni-ovs-input (filter INPUT) refuses");
    assert_verdict(&host, asg, "127.0.0.53", REFUSED "127.0.0.53 is one of "
                   "the cell's own addresses");
    assert_verdict(&host, asg, "10.0.0.255", REFUSED "10.0.0.255 is a "
                   "broadcast address");
    assert_verdict(&host, asg, "255.255.255.255", REFUSED "255.255.255.255 "
                   "is a broadcast address");
    assert_verdict(&host, asg, "224.0.0.1", REFUSED "224.0.0.1 is a "
                   "multicast address");
    assert_verdict(&host, asg, "239.255.255.250", REFUSED "239.255.255.250 "
                   "is a multicast address");

    /* Beyond the cell: the ASG decides. */
    assert_verdict(&host, asg, "10.0.0.100", "allowed by ASG rule 0");
    assert_verdict(&host, asg, "192.168.78.1", "allowed by ASG rule 0");
}

/* Without the cell's addresses (they could not be read), broadcast and
 * multicast are still known to be the host's. */
static void
test_without_host_addresses(void **state OVS_UNUSED)
{
    uint64_t asg = pipeline_cookie(PIPELINE_CK_ASG, 0);

    assert_verdict(NULL, asg, "255.255.255.255", REFUSED "255.255.255.255 "
                   "is a broadcast address");
    assert_verdict(NULL, asg, "224.0.0.1", REFUSED "224.0.0.1 is a "
                   "multicast address");
    assert_verdict(NULL, asg, "192.168.77.1", "allowed by ASG rule 0");
}

/* What egress itself decides about the host stays: DNS and host services
 * are allowed, the rest of the addresses egress knows is rejected. */
static void
test_egress_host_verdicts_stay(void **state OVS_UNUSED)
{
    assert_verdict(&host, pipeline_cookie(PIPELINE_CK_HOST,
                                          PIPELINE_HOST_CLOSING),
                   "10.0.0.11", "rejected: 10.0.0.11 is the cell's own "
                   "address");
    assert_verdict(&host, pipeline_cookie(PIPELINE_CK_DEFAULT, 0),
                   "192.168.77.1", "rejected: default deny");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asg_to_host_is_refused),
        cmocka_unit_test(test_without_host_addresses),
        cmocka_unit_test(test_egress_host_verdicts_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
