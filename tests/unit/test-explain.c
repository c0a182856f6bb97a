/* Unit tests for flowctl/explain.c (rules, verdicts and hit counts in
 * words) and pipeline_get_rulesets().
 *
 * The traces are abridged from real `ovs-appctl ofproto/trace ...
 * --ct-next trk,new` output on cell-sim: only the lines explain_trace()
 * reads (the table lookups) and a few it must skip. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cf-policy.h"
#include "compiler.h"
#include "explain.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "packets.h"
#include "pipeline.h"
#include "sset.h"
#include "util.h"

#define TCP_RANGE "[{\"protocol\":1,\"networks\":[{\"start\":\"10.0.0.0\"," \
    "\"end\":\"10.0.0.255\"}],\"ports\":[{\"start\":80,\"end\":443}]}," \
    "{\"protocol\":3,\"networks\":[{\"start\":\"10.0.0.100\",\"end\":" \
    "\"10.0.0.100\"}],\"icmps\":{\"type\":8,\"code\":0}}]"
#define MIXED "[{\"protocol\":2,\"networks\":[{\"start\":\"10.0.0.1\"," \
    "\"end\":\"10.0.0.1\"},{\"start\":\"10.1.0.0\",\"end\":\"10.1.0.9\"}]," \
    "\"ports\":[{\"start\":53,\"end\":53},{\"start\":8000,\"end\":8100}]}," \
    "{\"networks\":[{\"start\":\"0.0.0.0\",\"end\":\"255.255.255.255\"}]}," \
    "{\"protocol\":3,\"networks\":[{\"start\":\"10.0.0.1\",\"end\":" \
    "\"10.0.0.1\"}],\"icmps\":{\"type\":255,\"code\":255}}," \
    "{\"protocol\":3,\"networks\":[{\"start\":\"10.0.0.1\",\"end\":" \
    "\"10.0.0.1\"}],\"icmps\":{\"type\":3,\"code\":255}}]"

/* A cell like cell-sim's. */
static void
make_cell(struct model *m)
{
    struct model_cell *cell = &m->cell;

    cell->instance_address = 0x0a00000b;               /* 10.0.0.11 */
    cell->n_overlays = 1;
    cell->overlays = xmalloc(sizeof *cell->overlays);
    cell->overlays[0].addr = 0x0aff0000;               /* 10.255.0.0/16 */
    cell->overlays[0].plen = 16;
    cell->subnet.addr = 0x0aff0100;                    /* 10.255.1.0/24 */
    cell->subnet.plen = 24;
    cell->n_dns_servers = 1;
    cell->dns_servers = xmalloc(sizeof *cell->dns_servers);
    cell->dns_servers[0] = 0xa9fe0002;                 /* 169.254.0.2 */
    cell->n_tcp_services = 1;
    cell->tcp_services = xmalloc(sizeof *cell->tcp_services);
    cell->tcp_services[0].ip = 0x0a00000b;
    cell->tcp_services[0].port = 8898;
    cell->n_deny_running = 1;
    cell->deny_running = xmalloc(sizeof *cell->deny_running);
    cell->deny_running[0].addr = 0x0a0a0000;           /* 10.10.0.0/16 */
    cell->deny_running[0].plen = 16;
    cell->gateway_ofport = 1;
    cell->gateway_host_ip = 0x0aff0101;
}

static struct model_container *
add_container(struct model *m, uint32_t ofport, const char *rules_json,
              bool staging)
{
    char handle[32];
    char *error;

    snprintf(handle, sizeof handle, "c-%"PRIu32, ofport);
    struct model_container *c = model_add_container(m, handle, ofport);
    c->ip = 0x0aff0100 + ofport;
    c->staging = staging;
    c->netout = model_intern_rules(m, rules_json, &error);
    assert_null(error);
    return c;
}

static uint32_t
ruleset_of(const struct model *m, uint32_t ofport)
{
    struct pipeline_ruleset_info info;
    pipeline_container_ruleset(m, ofport, &info);
    return info.ruleset;
}

static void
test_rule_summaries(void **state OVS_UNUSED)
{
    static const char *const want[] = {
        "udp 10.0.0.1,10.1.0.0-10.1.0.9 ports 53,8000-8100",
        "all protocols 0.0.0.0-255.255.255.255",
        "icmp 10.0.0.1 any type",
        "icmp 10.0.0.1 type 3 any code",
    };
    struct model m;

    model_init(&m);
    struct model_container *c = add_container(&m, 2, MIXED, false);
    assert_int_equal(c->netout->parsed.n_netout_rules, ARRAY_SIZE(want));
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        struct ds s = DS_EMPTY_INITIALIZER;
        explain_rule(&c->netout->parsed.netout_rules[i], &s);
        assert_string_equal(ds_cstr(&s), want[i]);
        ds_destroy(&s);
    }

    c = add_container(&m, 3, TCP_RANGE, false);
    struct ds s = DS_EMPTY_INITIALIZER;
    explain_rule(&c->netout->parsed.netout_rules[0], &s);
    assert_string_equal(ds_cstr(&s), "tcp 10.0.0.0-10.0.0.255 ports 80-443");
    ds_clear(&s);
    explain_rule(&c->netout->parsed.netout_rules[1], &s);
    assert_string_equal(ds_cstr(&s), "icmp 10.0.0.100 type 8 code 0");
    ds_destroy(&s);
    model_destroy(&m);
}

/* Containers with the same rules and workload share a ruleset; the list is
 * in ascending id with each ruleset's containers in ofport order. */
static void
test_get_rulesets(void **state OVS_UNUSED)
{
    struct model m;

    model_init(&m);
    make_cell(&m);
    add_container(&m, 7, TCP_RANGE, false);
    add_container(&m, 3, TCP_RANGE, false);
    add_container(&m, 5, TCP_RANGE, true);
    add_container(&m, 4, "[]", false);

    struct pipeline_ruleset *rs;
    size_t n = pipeline_get_rulesets(&m, &rs);
    assert_int_equal(n, 3);
    for (size_t i = 1; i < n; i++) {
        assert_true(rs[i - 1].id < rs[i].id);
    }

    const struct pipeline_ruleset *shared
        = pipeline_find_ruleset(rs, n, ruleset_of(&m, 3));
    assert_non_null(shared);
    assert_false(shared->staging);
    assert_int_equal(shared->n_containers, 2);
    assert_int_equal(shared->containers[0]->ofport, 3);
    assert_int_equal(shared->containers[1]->ofport, 7);
    assert_int_equal(shared->rules->parsed.n_netout_rules, 2);

    const struct pipeline_ruleset *staging
        = pipeline_find_ruleset(rs, n, ruleset_of(&m, 5));
    assert_true(staging != shared);
    assert_true(staging->staging);
    assert_int_equal(staging->n_containers, 1);
    assert_null(pipeline_find_ruleset(rs, n, 0));
    pipeline_rulesets_destroy(rs, n);
    model_destroy(&m);
}

/* An abridged trace that crosses 'egress' with 'cookie', as a string. */
static char *
trace_with_egress(uint64_t cookie)
{
    return xasprintf(
        "Flow: tcp,in_port=2,nw_src=10.255.1.2,nw_dst=10.0.0.100,tp_dst=80\n"
        "\n"
        "bridge(\"br-cf\")\n"
        "---------------\n"
        " 0. in_port=2, priority 100, cookie 0x200000000000002\n"
        "    set_field:0x1->reg0\n"
        "    goto_table:1\n"
        " 1. ip,reg0=0x1,reg1=0x2,nw_src=10.255.1.2, priority 100, "
        "cookie 0x200000000000002\n"
        " 3. ip, priority 100, cookie 0x100000000000000\n"
        "    ct(table=4,zone=1,nat)\n"
        "Datapath actions: ct(zone=1,nat),recirc(0x1)\n"
        "\n"
        "recirc(0x1) - resume conntrack with ct_state=new|trk\n"
        "        Resuming from table 4\n"
        " 4. priority 0, cookie 0x100000000000000\n"
        " 5. ct_state=+new+trk,reg0=0x1, priority 40, "
        "cookie 0x100000000000000\n"
        " 6. ip,nw_dst=10.0.0.100, priority 500, cookie %#"PRIx64"\n"
        "    goto_table:8\n"
        " 8. ip, priority 100, cookie 0x100000000000000\n"
        "    ct(commit,zone=1)\n"
        " 9. ip, priority 0, cookie 0x100000000000000\n"
        "    output:1\n"
        "\n"
        "Final flow: recirc_id=0x1,eth,tcp,reg0=0x1\n", cookie);
}

static void
assert_verdict(const struct model *m, uint64_t cookie, const char *dst,
               const char *want)
{
    ovs_be32 ip;
    assert_true(ip_parse(dst, &ip));

    char *trace = trace_with_egress(cookie);
    struct ds s = DS_EMPTY_INITIALIZER;
    explain_trace(m, trace, ntohl(ip), NULL, &s);
    assert_string_equal(ds_cstr(&s), want);
    ds_destroy(&s);
    free(trace);
}

static void
test_trace_verdicts(void **state OVS_UNUSED)
{
    struct model m;

    model_init(&m);
    make_cell(&m);
    add_container(&m, 2, TCP_RANGE, false);
    uint32_t rs = ruleset_of(&m, 2);
    char *want = xasprintf("allowed by ASG rule 0 of ruleset %#"PRIx32
                           " (tcp 10.0.0.0-10.0.0.255 ports 80-443)", rs);
    assert_verdict(&m, pipeline_asg_cookie(rs, 0), "10.0.0.100", want);
    free(want);
    want = xasprintf("allowed by ASG rule 1 of ruleset %#"PRIx32
                     " (icmp 10.0.0.100 type 8 code 0)", rs);
    assert_verdict(&m, pipeline_asg_cookie(rs, 1), "10.0.0.100", want);
    free(want);
    want = xasprintf("allowed by ASG rule 9 of ruleset %#"PRIx32" (a rule "
                     "flowctl no longer has: the switch's flows are behind)",
                     rs);
    assert_verdict(&m, pipeline_asg_cookie(rs, 9), "10.0.0.100", want);
    free(want);

    assert_verdict(&m, pipeline_cookie(PIPELINE_CK_DEFAULT, 0), "10.0.0.1",
                   "rejected: default deny (no ASG rule matches)");
    assert_verdict(&m, pipeline_deny_cookie(PIPELINE_DENY_RUNNING, 0),
                   "10.10.3.4",
                   "rejected: deny_networks running entry 0 "
                   "(10.10.0.0/16)");
    assert_verdict(&m, pipeline_host_cookie(PIPELINE_HOST_DNS, 0),
                   "169.254.0.2",
                   "allowed: DNS server 169.254.0.2");
    assert_verdict(&m, pipeline_host_cookie(PIPELINE_HOST_TCP, 0),
                   "10.0.0.11", "allowed: host TCP service 10.0.0.11:8898");
    uint64_t closing = pipeline_cookie(PIPELINE_CK_HOST,
                                       PIPELINE_HOST_CLOSING);
    assert_verdict(&m, closing, "10.255.1.3",
                   "rejected: 10.255.1.3 is in the overlay (a container on "
                   "this cell; container-to-container needs a policy)");
    assert_verdict(&m, closing, "10.255.9.3",
                   "rejected: 10.255.9.3 is in the overlay "
                   "(container-to-container needs a policy)");
    assert_verdict(&m, closing, "10.0.0.11",
                   "rejected: 10.0.0.11 is the cell's own address (only DNS "
                   "and the configured host services are open)");
    assert_verdict(&m, closing, "10.255.1.1",
                   "rejected: 10.255.1.1 is the cell's own address (only DNS "
                   "and the configured host services are open)");
    assert_verdict(&m, pipeline_cookie(PIPELINE_CK_OVERLAY, 0x0a00000c),
                   "10.0.0.12", "rejected: 10.0.0.12 is the Geneve port of "
                   "cell 10.0.0.12 (containers may not send to it)");
    assert_verdict(&m, pipeline_cookie(PIPELINE_CK_OVERLAY, 0),
                   "10.255.9.3", "allowed: 10.255.9.3 is a container "
                   "(disable_container_network_policy: all "
                   "container-to-container traffic is allowed)");
    model_destroy(&m);
}

/* Traces that never reach 'egress'. */
static void
test_trace_without_egress(void **state OVS_UNUSED)
{
    struct model m;
    struct ds s = DS_EMPTY_INITIALIZER;

    model_init(&m);
    make_cell(&m);
    explain_trace(&m,
                  "Flow: tcp,in_port=2,dl_src=ee:ee:0a:ff:01:99\n"
                  " 0. in_port=2, priority 100, cookie 0x200000000000002\n"
                  " 1. priority 0, cookie 0x700000000000000\n"
                  "    drop\n", 0x0a000064, NULL, &s);
    assert_string_equal(ds_cstr(&s), "dropped by the default flow of table "
                        "spoof_guard (not the container's own MAC and IP)");
    ds_clear(&s);
    explain_trace(&m, " 0. No match.\n", 0x0a000064, NULL, &s);
    assert_string_equal(ds_cstr(&s), "dropped: no flow in table classify "
                        "matched");
    ds_clear(&s);
    explain_trace(&m, "ovs-appctl: something else\n", 0x0a000064, NULL,
                  &s);
    assert_string_equal(ds_cstr(&s), "no verdict: the trace crossed no flow "
                        "table");
    ds_destroy(&s);
    model_destroy(&m);
}

static void
test_rule_stats(void **state OVS_UNUSED)
{
    struct model m;
    struct rule_counts rc;

    model_init(&m);
    make_cell(&m);
    add_container(&m, 2, TCP_RANGE, false);
    add_container(&m, 3, TCP_RANGE, false);
    uint32_t rs = ruleset_of(&m, 2);

    rule_counts_init(&rc);
    /* Two verdict flows for rule 0 (say, merged and not): summed. */
    rule_counts_add(&rc.verdicts, pipeline_asg_cookie(rs, 0), 2, 148);
    rule_counts_add(&rc.verdicts, pipeline_asg_cookie(rs, 0), 1, UINT64_MAX);
    rule_counts_add(&rc.established,
                    pipeline_asg_cookie(rs, PIPELINE_RULESET_EST_INDEX),
                    25, 1833);
    /* Rule 0's established traffic: added to its packets and bytes. */
    rule_counts_add(&rc.established, pipeline_asg_cookie(rs, 0), 40, 2000);
    rc.n_flows = 7;

    struct ds s = DS_EMPTY_INITIALIZER;
    explain_rule_stats(&m, &rc, &s);
    char *want = xasprintf(
        "rules: 2 ASG rules in 1 rulesets (connections admitted per rule, "
        "from the statistics of 7 flows)\n"
        "  ruleset %#"PRIx32" (%"PRIu32"): containers c-2 c-3\n"
        "    other established (DNS, host services): 25 packets, 1833 bytes\n"
        "    rule 0: 3 connections, 43 packets, 2148 bytes: tcp "
        "10.0.0.0-10.0.0.255 ports 80-443\n"
        "    rule 1: (flows not installed): icmp 10.0.0.100 type 8 code 0\n",
        rs, rs);
    assert_string_equal(ds_cstr(&s), want);
    free(want);
    ds_destroy(&s);

    struct json *json = explain_rule_stats_json(&m, &rc);
    char *text = json_to_string(json, JSSF_SORT);
    want = xasprintf(
        "{\"flow_statistics\":7,\"rulesets\":[{\"containers\":[\"c-2\","
        "\"c-3\"],\"established\":{\"bytes\":1833,\"packets\":25},"
        "\"rules\":[{\"bytes\":2148,\"connections\":3,\"cookie\":"
        "\"%#"PRIx64"\",\"index\":0,\"installed\":true,\"origin\":null,"
        "\"packets\":43,"
        "\"rule\":"
        "\"tcp 10.0.0.0-10.0.0.255 ports 80-443\"},{\"bytes\":null,"
        "\"connections\":null,\"cookie\":\"%#"PRIx64"\",\"index\":1,"
        "\"installed\":false,\"origin\":null,\"packets\":null,"
        "\"rule\":\"icmp 10.0.0.100 type 8 code 0\"}],"
        "\"ruleset\":%"PRIu32",\"staging\":false}]}",
        pipeline_asg_cookie(rs, 0), pipeline_asg_cookie(rs, 1), rs);
    assert_string_equal(text, want);
    free(want);
    free(text);
    json_destroy(json);

    rule_counts_destroy(&rc);
    model_destroy(&m);
}


/* A trace of a connection to a container of this cell: 'egress' hands it
 * to 'ingress' (cookie 'ingress_ck'), as pipeline.c does under policy. */
static char *
trace_with_ingress(uint64_t ingress_ck)
{
    return xasprintf(
        " 0. in_port=2, priority 100, cookie 0x200000000000002\n"
        " 5. ct_state=+new+trk,reg0=0x1, priority 40, "
        "cookie 0x100000000000000\n"
        " 6. ip,nw_dst=10.255.1.0/24, priority 880, cookie %#"PRIx64"\n"
        "    goto_table:7\n"
        " 7. tcp,reg8=0x1,nw_dst=10.255.1.3,tp_dst=8080, priority 100, "
        "cookie %#"PRIx64"\n"
        "    goto_table:8\n"
        " 8. ip, priority 100, cookie 0x100000000000000\n",
        pipeline_cookie(PIPELINE_CK_C2C, PIPELINE_C2C_LOCAL), ingress_ck);
}

/* c2c verdicts name the policy that admits a connection, and the reason
 * for the others; a rule synced from the policy server names its security
 * group and index there. */
static void
test_trace_c2c_and_origins(void **state OVS_UNUSED)
{
    struct model m;
    struct ds s = DS_EMPTY_INITIALIZER;

    model_init(&m);
    make_cell(&m);
    model_set_policy_config(&m, true, true);
    struct cf_policy_list l = { NULL, 0 };
    l.policies = xcalloc(1, sizeof *l.policies);
    l.n = 1;
    l.policies[0] = (struct cf_policy) {
        .src_id = xstrdup("app-a"), .src_tag = 1,
        .dst_id = xstrdup("app-b"), .dst_tag = 2,
        .protocol = CF_PROTO_TCP, .port_start = 8080, .port_end = 8090,
    };
    struct sset groups = SSET_INITIALIZER(&groups);
    sset_add(&groups, "app-b");
    model_set_policies(&m, &l, &groups);
    sset_destroy(&groups);
    struct model_remote remote = { 0x0a00000c, { 0x0aff0900, 24 } };
    model_set_remotes(&m, &remote, 1);

    uint64_t ck = pipeline_policy_cookie(&m.policy.policies[0]);
    char *trace = trace_with_ingress(ck);
    explain_trace(&m, trace, 0x0aff0103, NULL, &s);
    free(trace);
    assert_string_equal(ds_cstr(&s), "allowed by c2c policy app-a (tag 0x1) "
                        "-> app-b tcp ports 8080-8090");
    ds_clear(&s);

    trace = trace_with_ingress(pipeline_cookie(PIPELINE_CK_DEFAULT, 0));
    explain_trace(&m, trace, 0x0aff0103, NULL, &s);
    free(trace);
    assert_string_equal(ds_cstr(&s), "rejected: 10.255.1.3 is in the overlay "
                        "(a container on this cell; container-to-container "
                        "needs a policy)");
    ds_clear(&s);

    /* A policy the model no longer has. */
    explain_policy_cookie(&m, pipeline_cookie(PIPELINE_CK_POLICY, 5), &s);
    assert_string_equal(ds_cstr(&s), "allowed by a c2c policy flowctl no "
                        "longer has (cookie 0x900000000000005: the switch's "
                        "flows are behind)");
    ds_clear(&s);

    assert_verdict(&m, pipeline_cookie(PIPELINE_CK_C2C,
                                       PIPELINE_C2C_UNTAGGED),
                   "10.255.9.3", "rejected: 10.255.9.3 is in the overlay, "
                   "and the container's app is in no policy (it has no tag; "
                   "container-to-container needs a policy)");
    assert_verdict(&m, pipeline_cookie(PIPELINE_CK_C2C, PIPELINE_C2C_OUT),
                   "10.255.9.3", "sent through the tunnel: 10.255.9.3 is a "
                   "container of cell 10.0.0.12, which admits the connection "
                   "if one of its policies allows the app's tag");

    /* A rule synced from an ASG. */
    struct cf_asg *asg = xzalloc(sizeof *asg);
    asg->guid = xstrdup("guid-1");
    asg->name = xstrdup("public");
    asg->n_rules = 1;
    asg->rules = xzalloc(sizeof *asg->rules);
    asg->rules[0].protocol = CF_PROTO_TCP;
    asg->rules[0].n_networks = 1;
    asg->rules[0].networks = xmalloc(sizeof *asg->rules[0].networks);
    asg->rules[0].networks[0].start = 0x0a000064;
    asg->rules[0].networks[0].end = 0x0a000064;
    asg->rules[0].n_ports = 1;
    asg->rules[0].ports = xmalloc(sizeof *asg->rules[0].ports);
    asg->rules[0].ports[0].start = asg->rules[0].ports[0].end = 443;
    asg->rule_index = xmalloc(sizeof *asg->rule_index);
    asg->rule_index[0] = 3;
    asg->running_default = true;
    struct sset spaces = SSET_INITIALIZER(&spaces);
    sset_add(&spaces, "space-1");
    model_set_asgs(&m, asg, 1, &spaces);
    free(asg);
    sset_destroy(&spaces);
    struct model_container *c = add_container(&m, 2, "[]", false);
    c->garden_netout = c->netout;
    c->space_id = xstrdup("space-1");
    model_resolve(&m);
    uint32_t rs = ruleset_of(&m, 2);
    char *want = xasprintf("allowed by ASG rule 0 of ruleset %#"PRIx32
                           " (tcp 10.0.0.100 port 443) from security group "
                           "public (guid-1) rule 3", rs);
    assert_verdict(&m, pipeline_asg_cookie(rs, 0), "10.0.0.100", want);
    free(want);

    struct rule_counts rc;
    rule_counts_init(&rc);
    explain_rule_stats(&m, &rc, &s);
    assert_non_null(strstr(ds_cstr(&s), "    rule 0: (flows not installed): "
                           "tcp 10.0.0.100 port 443 from security group "
                           "public (guid-1) rule 3\n"));
    /* No container of app-b here: the policy has no flows on this cell. */
    assert_non_null(strstr(ds_cstr(&s), "policies: 0 c2c policies with a "
                           "destination on this cell (of 1 fetched)\n"));
    struct json *json = explain_rule_stats_json(&m, &rc);
    char *text = json_to_string(json, JSSF_SORT);
    assert_non_null(strstr(text, "\"origin\":{\"asg_guid\":\"guid-1\","
                           "\"asg_name\":\"public\",\"index\":3}"));
    assert_non_null(strstr(text, "\"policies\":[]"));
    free(text);
    json_destroy(json);

    /* With one: its hit counts, connections from 'ingress', the rest of
     * their packets from 'ct_state'. */
    c = add_container(&m, 3, "[]", false);
    c->garden_netout = c->netout;
    c->policy_group_id = xstrdup("app-b");
    model_resolve(&m);
    rule_counts_add(&rc.verdicts, ck, 2, 120);
    rule_counts_add(&rc.established, ck, 10, 900);
    ds_clear(&s);
    explain_rule_stats(&m, &rc, &s);
    assert_non_null(strstr(ds_cstr(&s), "policies: 1 c2c policies with a "
                           "destination on this cell (of 1 fetched)\n"
                           "  2 connections, 12 packets, 1020 bytes: app-a "
                           "(tag 0x1) -> app-b tcp ports 8080-8090\n"));
    json = explain_rule_stats_json(&m, &rc);
    text = json_to_string(json, JSSF_SORT);
    want = xasprintf("\"policies\":[{\"bytes\":1020,\"connections\":2,"
                     "\"cookie\":\"%#"PRIx64"\",\"destination\":\"app-b\","
                     "\"installed\":true,\"packets\":12,\"port_end\":8090,"
                     "\"port_start\":8080,\"protocol\":\"tcp\","
                     "\"source\":\"app-a\",\"source_tag\":1}]", ck);
    if (!strstr(text, want)) {
        print_message("%s\n", text);
    }
    assert_non_null(strstr(text, want));
    free(want);
    free(text);
    json_destroy(json);
    rule_counts_destroy(&rc);

    ds_destroy(&s);
    model_destroy(&m);
}

/* pipeline.h's cookie helpers decode what they encode, in the layout
 * that operators see in dump-flows (pipeline.h's table). */
static void
test_cookie_helpers(void **state OVS_UNUSED)
{
    uint64_t ck = pipeline_asg_cookie(0xa0a3, 9);
    assert_int_equal(ck, UINT64_C(0x030000a0a3000009));
    assert_int_equal(pipeline_cookie_kind(ck), PIPELINE_CK_ASG);
    assert_int_equal(pipeline_cookie_set(ck), 0xa0a3);
    assert_int_equal(pipeline_cookie_index(ck), 9);

    ck = pipeline_asg_cookie(UINT32_MAX, PIPELINE_RULESET_EST_INDEX);
    assert_int_equal(pipeline_cookie_kind(ck), PIPELINE_CK_ASG);
    assert_int_equal(pipeline_cookie_set(ck), UINT32_MAX);
    assert_int_equal(pipeline_cookie_index(ck), PIPELINE_RULESET_EST_INDEX);

    ck = pipeline_deny_cookie(PIPELINE_DENY_STAGING, 4);
    assert_int_equal(ck, UINT64_C(0x0400000002000004));
    assert_int_equal(pipeline_cookie_set(ck), PIPELINE_DENY_STAGING);
    assert_int_equal(pipeline_cookie_index(ck), 4);

    ck = pipeline_host_cookie(PIPELINE_HOST_UDP, 1);
    assert_int_equal(ck, UINT64_C(0x0500000002000001));
    assert_int_equal(pipeline_cookie_kind(ck), PIPELINE_CK_HOST);
    assert_int_equal(pipeline_cookie_id(pipeline_cookie(
                         PIPELINE_CK_HOST, PIPELINE_HOST_CLOSING)),
                     PIPELINE_HOST_CLOSING);

    ck = pipeline_netin_cookie(7, 2);
    assert_int_equal(ck, UINT64_C(0x0600000000070002));
    assert_int_equal(pipeline_cookie_netin_ofport(ck), 7);
    assert_int_equal(pipeline_cookie_netin_mapping(ck), 2);

    ck = pipeline_cookie(PIPELINE_CK_OVERLAY, 0x0a000005);
    assert_int_equal(pipeline_cookie_kind(ck), PIPELINE_CK_OVERLAY);
    assert_int_equal(pipeline_cookie_id(ck), 0x0a000005);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_summaries),
        cmocka_unit_test(test_get_rulesets),
        cmocka_unit_test(test_trace_verdicts),
        cmocka_unit_test(test_trace_without_egress),
        cmocka_unit_test(test_rule_stats),
        cmocka_unit_test(test_cookie_helpers),
        cmocka_unit_test(test_trace_c2c_and_origins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
