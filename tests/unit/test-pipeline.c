/* Unit tests for flowctl/pipeline.c: the model as flows.
 *
 * Flows are checked in the text form an operator sees in
 * `ovs-ofctl dump-flows` ("table=6 priority=500 ip,nw_dst=... actions=..."),
 * so a failure message shows the flow in question. */

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
#include "flow-table.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "pipeline.h"
#include "sset.h"
#include "util.h"

/* A cell like the one the system tests build. */
static void
make_cell(struct model *m)
{
    struct model_cell *cell = &m->cell;

    cell->instance_address = 0x0a000a0a;               /* 10.0.10.10 */
    cell->n_overlays = 1;
    cell->overlays = xmalloc(sizeof *cell->overlays);
    cell->overlays[0].addr = 0x0aff0000;               /* 10.255.0.0/16 */
    cell->overlays[0].plen = 16;
    cell->subnet.addr = 0x0aff0700;                    /* 10.255.7.0/24 */
    cell->subnet.plen = 24;
    cell->n_dns_servers = 1;
    cell->dns_servers = xmalloc(sizeof *cell->dns_servers);
    cell->dns_servers[0] = 0xa9fe0002;                 /* 169.254.0.2 */
    cell->n_deny_running = 1;
    cell->deny_running = xmalloc(sizeof *cell->deny_running);
    cell->deny_running[0].addr = 0x0a0a0000;           /* 10.10.0.0/16 */
    cell->deny_running[0].plen = 16;
    cell->n_deny_staging = 1;
    cell->deny_staging = xmalloc(sizeof *cell->deny_staging);
    cell->deny_staging[0].addr = 0x0a140000;           /* 10.20.0.0/16 */
    cell->deny_staging[0].plen = 16;
    cell->gateway_ofport = 1;
    cell->gateway_host_ip = 0x0aff0701;
    memcpy(cell->gateway_host_mac, "\xaa\xaa\x0a\xff\x07\x01", 6);
}

static struct model_container *
add_container(struct model *m, uint32_t ofport, const char *rules_json)
{
    char handle[32];
    char *error;

    snprintf(handle, sizeof handle, "c-%"PRIu32, ofport);
    struct model_container *c = model_add_container(m, handle, ofport);
    c->ip = 0x0aff0700 + ofport;
    memcpy(c->mac, "\xee\xee\x0a\xff\x07", 5);
    c->mac[5] = ofport;
    c->netout = model_intern_rules(m, rules_json, &error);
    assert_null(error);
    assert_non_null(c->netout);
    return c;
}

/* Formats every flow as "table=T priority=P MATCH actions=ACTIONS" into a
 * malloc'd array of strings (NULL-terminated). */
static char **
dump(const struct flow_table *t)
{
    size_t n = flow_table_count(t), i = 0;
    char **lines = xcalloc(n + 1, sizeof *lines);
    const struct flow_entry *f;

    HMAP_FOR_EACH (f, node, &t->flows) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "table=%d priority=%d ", f->table_id, f->priority);
        minimatch_format(&f->match, NULL, NULL, &s, OFP_DEFAULT_PRIORITY);
        ds_put_cstr(&s, " actions=");
        struct ofpact_format_params fp = { .s = &s };
        ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
        lines[i++] = ds_steal_cstr(&s);
    }
    return lines;
}

static void
free_dump(char **lines)
{
    for (char **l = lines; *l; l++) {
        free(*l);
    }
    free(lines);
}

/* Returns the number of flows whose text contains all of the given
 * (NULL-terminated) substrings. */
static size_t
count_matching(char **lines, ...)
{
    size_t n = 0;

    for (char **l = lines; *l; l++) {
        va_list args;
        const char *needle;
        bool all = true;

        va_start(args, lines);
        while ((needle = va_arg(args, const char *)) != NULL) {
            if (!strstr(*l, needle)) {
                all = false;
                break;
            }
        }
        va_end(args);
        n += all;
    }
    return n;
}

static void
print_all(char **lines)
{
    for (char **l = lines; *l; l++) {
        print_message("  %s\n", *l);
    }
}

#define ASSERT_FLOWS(LINES, N, ...)                                     \
    do {                                                                \
        size_t n_ = count_matching(LINES, __VA_ARGS__, (char *) NULL);  \
        if (n_ != (N)) {                                                \
            print_all(LINES);                                           \
        }                                                               \
        assert_int_equal(n_, (N));                                      \
    } while (0)

static const char *TCP_WEB =
    "[{\"protocol\":1,\"networks\":[{\"start\":\"10.0.0.1\","
    "\"end\":\"10.0.0.255\"}],\"ports\":[{\"start\":80,\"end\":443}],"
    "\"log\":false}]";

/* The fixed skeleton: every table, the reject path, conntrack. */
static void
test_fixed_flows(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;

    model_init(&m);
    make_cell(&m);
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    ASSERT_FLOWS(lines, 1, "table=3 ", "ip", "ct(table=4,zone=1,nat)");
    ASSERT_FLOWS(lines, 1, "table=5 priority=200", "ct_state=+inv+trk",
                 "actions=drop");
    ASSERT_FLOWS(lines, 1, "table=10 ", "tcp", "controller(", "meter_id=1");
    ASSERT_FLOWS(lines, 1, "table=10 ", "priority=50", "controller(");
    /* The overlay is closed to egress above any ASG and deny_networks
     * (c2c needs policy): this cell's containers are judged by 'ingress'
     * (by policy), the rest is rejected, first for a container without a
     * tag, in any case unless another cell's container (and without a
     * tunnel there is none). */
    ASSERT_FLOWS(lines, 1, "table=6 priority=880", "nw_dst=10.255.7.0/24",
                 "goto_table:7");
    ASSERT_FLOWS(lines, 1, "table=6 priority=870", "reg8=0",
                 "nw_dst=10.255.0.0/16", "goto_table:10");
    ASSERT_FLOWS(lines, 1, "table=6 priority=850", "nw_dst=10.255.0.0/16",
                 "goto_table:10");
    ASSERT_FLOWS(lines, 0, "table=6 priority=860");
    ASSERT_FLOWS(lines, 0, "table=6 priority=900", "nw_dst=10.255.0.0/16");
    /* ...but the host's gateway address stays closed, above them. */
    ASSERT_FLOWS(lines, 1, "table=6 priority=900", "nw_dst=10.255.7.1 ");
    /* DNS is open on 53/udp and 53/tcp, and closed otherwise. */
    ASSERT_FLOWS(lines, 2, "table=6 priority=1000", "nw_dst=169.254.0.2",
                 "tp_dst=53", "goto_table:8");
    ASSERT_FLOWS(lines, 1, "table=6 priority=900", "nw_dst=169.254.0.2",
                 "goto_table:10");
    /* The cell itself is closed. */
    ASSERT_FLOWS(lines, 1, "table=6 priority=900", "nw_dst=10.0.10.10");
    /* deny_networks by workload. */
    ASSERT_FLOWS(lines, 1, "table=6 priority=800", "reg5=0",
                 "nw_dst=10.10.0.0/16", "goto_table:10");
    ASSERT_FLOWS(lines, 1, "table=6 priority=800", "reg5=0x1",
                 "nw_dst=10.20.0.0/16");
    /* The commit records the epoch and the rule. */
    ASSERT_FLOWS(lines, 1, "table=8 ", "ct(commit,zone=1,exec(",
                 "NXM_NX_REG3[]->NXM_NX_CT_MARK[]",
                 "PKT_REG3[]->NXM_NX_CT_LABEL[0..63]");
    assert_int_equal(flow_table_n_conflicts(&t), 0);

    free_dump(lines);
    flow_table_destroy(&t);
    model_destroy(&m);
}

/* One container: spoof guard, classify, delivery, NetIn, ASG layout. */
static void
test_container_flows(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;

    model_init(&m);
    make_cell(&m);
    struct model_container *c = add_container(&m, 5, TCP_WEB);
    c->n_port_mappings = 1;
    c->port_mappings = xmalloc(sizeof *c->port_mappings);
    c->port_mappings[0].host_port = 61000;
    c->port_mappings[0].container_port = 8080;

    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    /* Spoof guard: its own MAC and IP, and ARP with its own addresses. */
    ASSERT_FLOWS(lines, 1, "table=1 ", "reg1=0x5", "dl_src=ee:ee:0a:ff:07:05",
                 "nw_src=10.255.7.5");
    ASSERT_FLOWS(lines, 1, "table=1 ", "arp", "arp_spa=10.255.7.5",
                 "arp_sha=ee:ee:0a:ff:07:05");
    /* Delivery rewrites the MACs. */
    ASSERT_FLOWS(lines, 1, "table=9 ", "nw_dst=10.255.7.5",
                 "set_field:aa:aa:a9:fe:00:01->eth_src",
                 "set_field:ee:ee:0a:ff:07:05->eth_dst", "output:5");
    /* NetIn: 169.254.0.1:61000 to 10.255.7.5:8080. */
    ASSERT_FLOWS(lines, 1, "table=7 ", "tcp", "nw_dst=169.254.0.1",
                 "tp_dst=61000", "nat(dst=10.255.7.5:8080)");

    /* The ASG rule: one conjunction, 3 clauses: who (1 flow), where
     * (10.0.0.1-10.0.0.255 = 8 prefixes), what (80-443 = 8 prefixes), and
     * the verdict. */
    ASSERT_FLOWS(lines, 1, "table=6 priority=500", "reg2=",
                 "conjunction(", ",1/3)");
    ASSERT_FLOWS(lines, 8, "table=6 priority=500", "nw_dst=10.0.0.",
                 ",2/3)");
    ASSERT_FLOWS(lines, 8, "table=6 priority=500", "tcp", "tp_dst=",
                 ",3/3)");
    ASSERT_FLOWS(lines, 1, "table=6 priority=500", "conj_id=",
                 "->xreg3", "goto_table:8");
    assert_int_equal(flow_table_n_conflicts(&t), 0);

    free_dump(lines);
    flow_table_destroy(&t);
    model_destroy(&m);
}

/* The same destination in two rules: one flow carrying both
 * conjunctions, as OpenFlow allows one flow per match. */
static void
test_shared_destination_merges(void **state OVS_UNUSED)
{
    static const char *TWO =
        "[{\"protocol\":1,\"networks\":[{\"start\":\"10.1.0.0\","
        "\"end\":\"10.1.255.255\"}],\"ports\":[{\"start\":80,\"end\":80}],"
        "\"log\":false},"
        "{\"protocol\":2,\"networks\":[{\"start\":\"10.1.0.0\","
        "\"end\":\"10.1.255.255\"}],\"ports\":[{\"start\":53,\"end\":53}],"
        "\"log\":false}]";
    struct model m;
    struct flow_table t;

    model_init(&m);
    make_cell(&m);
    add_container(&m, 5, TWO);
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    ASSERT_FLOWS(lines, 1, "table=6 priority=500", "nw_dst=10.1.0.0/16");
    const char *needle = "nw_dst=10.1.0.0/16";
    for (char **l = lines; *l; l++) {
        if (strstr(*l, needle)) {
            /* Two conjunction actions in the one flow. */
            char *first = strstr(*l, "conjunction(");
            assert_non_null(first);
            assert_non_null(strstr(first + 1, "conjunction("));
        }
    }
    assert_int_equal(flow_table_n_conflicts(&t), 0);

    free_dump(lines);
    flow_table_destroy(&t);
    model_destroy(&m);
}

static char *
big_asg(size_t n_rules)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_char(&s, '[');
    for (size_t i = 0; i < n_rules; i++) {
        ds_put_format(&s, "%s{\"protocol\":1,\"networks\":[{\"start\":"
                      "\"10.%zu.%zu.0\",\"end\":\"10.%zu.%zu.255\"}],"
                      "\"ports\":[{\"start\":%zu,\"end\":%zu}],"
                      "\"log\":false}", i ? "," : "",
                      i / 256, i % 256, i / 256, i % 256,
                      1000 + i, 1000 + i);
    }
    ds_put_char(&s, ']');
    return ds_steal_cstr(&s);
}

static size_t
count_for(size_t n_containers, size_t n_rules)
{
    struct model m;
    struct flow_table t;
    char *rules = big_asg(n_rules);

    model_init(&m);
    make_cell(&m);
    for (size_t i = 0; i < n_containers; i++) {
        add_container(&m, 10 + i, rules);
    }
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    size_t n = flow_table_count(&t);
    assert_int_equal(flow_table_n_conflicts(&t), 0);
    flow_table_destroy(&t);
    model_destroy(&m);
    free(rules);
    return n;
}

/* Flows grow as containers + rules, not containers x rules. */
static void
test_growth_is_additive(void **state OVS_UNUSED)
{
    size_t base = count_for(10, 100);
    size_t more_containers = count_for(20, 100);
    size_t more_rules = count_for(10, 200);

    /* Ten more containers: a fixed handful of flows each. */
    size_t per_container = (more_containers - base) / 10;
    assert_true(per_container <= 6);
    assert_int_equal((more_containers - base) % 10, 0);
    /* A hundred more rules: a fixed handful each, whatever the number of
     * containers sharing them. */
    size_t per_rule = (more_rules - base) / 100;
    assert_true(per_rule <= 4);
    assert_int_equal(count_for(20, 200) - count_for(20, 100),
                     more_rules - base);
}

/* The same model gives the same table; a new container with other rules
 * adds flows without renumbering anyone else's. */
static void
test_deterministic_and_stable(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t1, t2;
    struct ovs_list changes;

    model_init(&m);
    make_cell(&m);
    add_container(&m, 5, TCP_WEB);
    flow_table_init(&t1);
    flow_table_init(&t2);
    pipeline_compute(&m, &t1);
    pipeline_compute(&m, &t2);
    ovs_list_init(&changes);
    flow_table_diff(&t2, &t1, &changes);
    struct flow_change *ch;
    LIST_FOR_EACH (ch, list_node, &changes) {
        struct ds s = DS_EMPTY_INITIALIZER;
        minimatch_format(&ch->flow->match, NULL, NULL, &s, 0);
        print_message("unexpected change %d: table=%d %s\n", ch->command,
                      ch->flow->table_id, ds_cstr(&s));
        ds_destroy(&s);
    }
    assert_true(ovs_list_is_empty(&changes));

    add_container(&m, 6, "[]");
    pipeline_compute(&m, &t2);
    flow_table_diff(&t2, &t1, &changes);
    LIST_FOR_EACH (ch, list_node, &changes) {
        assert_int_equal(ch->command, OFPFC_ADD);
    }
    flow_changes_destroy(&changes);

    flow_table_destroy(&t1);
    flow_table_destroy(&t2);
    model_destroy(&m);
}

/* Changing a container's rules changes its epoch, so its established
 * connections are judged again (revocation). */
static void
test_epoch_follows_rules(void **state OVS_UNUSED)
{
    struct model m;
    struct pipeline_ruleset_info before, after, other;

    model_init(&m);
    make_cell(&m);
    add_container(&m, 5, TCP_WEB);
    add_container(&m, 6, TCP_WEB);
    pipeline_container_ruleset(&m, 5, &before);
    pipeline_container_ruleset(&m, 6, &other);
    assert_int_equal(before.ruleset, other.ruleset);
    assert_int_equal(before.epoch, other.epoch);
    assert_true(before.epoch != 0);

    add_container(&m, 5, "[]");
    pipeline_container_ruleset(&m, 5, &after);
    assert_true(after.epoch != before.epoch);
    assert_true(after.ruleset != before.ruleset);
    pipeline_container_ruleset(&m, 6, &other);
    assert_int_equal(other.epoch, before.epoch);

    model_destroy(&m);
}

/* The number of conjunction() actions in 'f'. */
static size_t
n_conjunctions(const struct flow_entry *f)
{
    const struct ofpact *a;
    size_t n = 0;

    OFPACT_FOR_EACH (a, f->ofpacts, f->ofpacts_len) {
        n += a->type == OFPACT_CONJUNCTION;
    }
    return n;
}

/* A ruleset of 10,000 rules: split into chunks of 2,048 rules at
 * priorities 500 down to 496, no flow carries more than 2,048 conjunction
 * actions, and every flow encodes, inside a bundle-add, to well under an
 * OpenFlow message's 65,535 bytes.  (Before, the "who" flow carried all
 * 10,000 actions: 160,000 bytes.) */
static void
test_large_ruleset_chunks(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;
    struct pipeline_ruleset_info info;
    char *rules = big_asg(10000);

    model_init(&m);
    make_cell(&m);
    add_container(&m, 5, rules);
    add_container(&m, 6, rules);
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    pipeline_container_ruleset(&m, 5, &info);
    assert_int_equal(flow_table_n_conflicts(&t), 0);

    size_t max_conj = 0, max_size = 0, n_who = 0, n_verdicts = 0;
    const struct flow_entry *f;
    HMAP_FOR_EACH (f, node, &t.flows) {
        struct flow_change change = { .command = OFPFC_ADD, .flow = f };
        char *error;
        struct ofpbuf *msg = flow_change_encode(&change, OFPUTIL_P_OF15_OXM,
                                                &error);
        assert_non_null(msg);
        max_size = MAX(max_size, msg->size);
        ofpbuf_delete(msg);

        size_t n = n_conjunctions(f);
        max_conj = MAX(max_conj, n);
        if (f->table_id != 6 || f->priority > 500 || f->priority < 400) {
            continue;
        }
        struct match match;
        minimatch_expand(&f->match, &match);
        if (match.wc.masks.conj_id) {
            /* The verdict of rule i is at its chunk's priority. */
            uint32_t idx = match.flow.conj_id & 0xffff;
            assert_int_equal(match.flow.conj_id >> 16, info.ruleset);
            assert_int_equal(f->priority, 500 - idx / 2048);
            assert_int_equal(f->cookie,
                             pipeline_cookie(PIPELINE_CK_ASG,
                                             ((uint64_t) info.ruleset << 24)
                                             | idx));
            n_verdicts++;
        } else if (!match.wc.masks.dl_type) {
            /* "who": reg2 alone, one per chunk, one action per rule of
             * the chunk. */
            assert_int_equal(match.flow.regs[2], info.ruleset);
            assert_int_equal(n, f->priority > 496 ? 2048 : 10000 - 4 * 2048);
            n_who++;
        } else {
            /* Every other ASG flow matches the ruleset too. */
            assert_int_equal(match.wc.masks.regs[2], UINT32_MAX);
            assert_int_equal(match.flow.regs[2], info.ruleset);
        }
    }
    assert_int_equal(n_who, 5);
    assert_int_equal(n_verdicts, 10000);
    assert_int_equal(max_conj, 2048);
    print_message("largest flow_mod: %"PRIuSIZE" bytes\n", max_size);
    assert_true(max_size <= 2048 * 16 + 512);
    assert_true(max_size < FLOW_MOD_MAX_LEN / 2 + 512);

    flow_table_destroy(&t);
    model_destroy(&m);
    free(rules);
}

/* Two rulesets granting the same destination and port get flows of their
 * own: a flow never gathers the rules of many rulesets. */
static void
test_rulesets_do_not_share_flows(void **state OVS_UNUSED)
{
    static const char *OTHER =
        "[{\"protocol\":1,\"networks\":[{\"start\":\"10.0.0.1\","
        "\"end\":\"10.0.0.255\"}],\"ports\":[{\"start\":80,"
        "\"end\":443}],\"log\":true}]";
    struct model m;
    struct flow_table t;

    model_init(&m);
    make_cell(&m);
    add_container(&m, 5, TCP_WEB);
    add_container(&m, 6, OTHER);
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    /* 10.0.0.128/25: one flow per ruleset, one action each. */
    ASSERT_FLOWS(lines, 2, "table=6 priority=500", "nw_dst=10.0.0.128/25",
                 ",2/3)");
    for (char **l = lines; *l; l++) {
        if (strstr(*l, "nw_dst=10.0.0.128/25")) {
            char *first = strstr(*l, "conjunction(");
            assert_non_null(first);
            assert_null(strstr(first + 1, "conjunction("));
        }
    }
    ASSERT_FLOWS(lines, 2, "table=6 priority=500", "tcp", "tp_dst=0x50/0xfff0",
                 ",3/3)");
    assert_int_equal(flow_table_n_conflicts(&t), 0);

    free_dump(lines);
    flow_table_destroy(&t);
    model_destroy(&m);
}

/* Non-first fragments carry no ports or ICMP type: each rule with a
 * protocol admits them by destination and protocol (the first fragment is
 * judged by the whole rule). */
static void
test_later_fragments(void **state OVS_UNUSED)
{
    static const char *RULES =
        "[{\"protocol\":2,\"networks\":[{\"start\":\"10.0.0.100\","
        "\"end\":\"10.0.0.100\"}],\"ports\":[{\"start\":5353,"
        "\"end\":5353}],\"log\":false},"
        "{\"protocol\":3,\"networks\":[{\"start\":\"10.0.0.100\","
        "\"end\":\"10.0.0.100\"}],\"icmps\":{\"type\":8,"
        "\"code\":0},\"log\":false},"
        "{\"protocol\":1,\"networks\":[{\"start\":\"10.0.0.100\","
        "\"end\":\"10.0.0.100\"}],\"ports\":[{\"start\":80,"
        "\"end\":80}],\"log\":false},"
        "{\"protocol\":0,\"networks\":[{\"start\":\"10.0.0.200\","
        "\"end\":\"10.0.0.200\"}],\"log\":false}]";
    struct model m;
    struct flow_table t;

    model_init(&m);
    make_cell(&m);
    add_container(&m, 5, RULES);
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    ASSERT_FLOWS(lines, 1, "table=6 priority=500", "udp", "nw_frag=later",
                 ",3/3)");
    ASSERT_FLOWS(lines, 1, "table=6 priority=500", "icmp", "nw_frag=later",
                 ",3/3)");
    ASSERT_FLOWS(lines, 1, "table=6 priority=500", "tcp", "nw_frag=later",
                 ",3/3)");
    /* Protocol "all" needs none: it does not look at ports. */
    ASSERT_FLOWS(lines, 3, "table=6 priority=500", "nw_frag=later");
    /* DNS: later fragments of UDP to the DNS server. */
    ASSERT_FLOWS(lines, 1, "table=6 priority=1000", "udp",
                 "nw_dst=169.254.0.2", "nw_frag=later", "goto_table:8");
    /* The reject path answers no later fragment (RFC 1122 3.2.2). */
    ASSERT_FLOWS(lines, 1, "table=10 ", "nw_frag=later", "actions=drop");
    assert_int_equal(flow_table_n_conflicts(&t), 0);

    free_dump(lines);
    flow_table_destroy(&t);
    model_destroy(&m);
}

/* A rule list for ruleset 'i' (distinct for each i). */
static char *
one_rule(size_t i)
{
    return xasprintf("[{\"protocol\":1,\"networks\":[{\"start\":"
                     "\"10.%zu.%zu.%zu\",\"end\":\"10.%zu.%zu.%zu\"}],"
                     "\"ports\":[{\"start\":80,\"end\":80}],"
                     "\"log\":false}]", i >> 16, (i >> 8) & 0xff, i & 0xff,
                     i >> 16, (i >> 8) & 0xff, i & 0xff);
}

/* PIPELINE_MAX_RULESETS rulesets get distinct ids 1..65535; a container
 * with one more ruleset is refused (ruleset 0, no flows), the rest keep
 * theirs, and the id search ends (it used to loop forever). */
static void
test_ruleset_limit(void **state OVS_UNUSED)
{
    struct model m;
    struct pipeline_ruleset *rulesets;
    struct pipeline_ruleset_info info;

    model_init(&m);
    make_cell(&m);
    for (size_t i = 0; i < PIPELINE_MAX_RULESETS; i++) {
        char *rules = one_rule(i);
        add_container(&m, 10 + i, rules);
        free(rules);
    }
    size_t n = pipeline_get_rulesets(&m, &rulesets);
    assert_int_equal(n, PIPELINE_MAX_RULESETS);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rulesets[i].id, i + 1);
        assert_int_equal(rulesets[i].n_containers, 1);
    }
    pipeline_rulesets_destroy(rulesets, n);

    /* One more: the newest container (highest ofport) is refused. */
    char *rules = one_rule(PIPELINE_MAX_RULESETS);
    add_container(&m, 10 + PIPELINE_MAX_RULESETS, rules);
    free(rules);
    n = pipeline_get_rulesets(&m, &rulesets);
    assert_int_equal(n, PIPELINE_MAX_RULESETS);
    pipeline_rulesets_destroy(rulesets, n);
    pipeline_container_ruleset(&m, 10 + PIPELINE_MAX_RULESETS, &info);
    assert_int_equal(info.ruleset, 0);
    pipeline_container_ruleset(&m, 10, &info);
    assert_true(info.ruleset != 0);

    /* A container that shares a ruleset is not refused. */
    rules = one_rule(7);
    add_container(&m, 20 + PIPELINE_MAX_RULESETS, rules);
    free(rules);
    pipeline_container_ruleset(&m, 20 + PIPELINE_MAX_RULESETS, &info);
    assert_true(info.ruleset != 0);

    model_destroy(&m);
}

/* Adds two remote cells (and two that must be ignored: this cell's own
 * address, and a subnet outside the overlay). */
static void
add_remotes(struct model *m)
{
    struct model_remote r[] = {
        { 0x0a000a0c, { 0x0aff0900, 24 } },    /* 10.0.10.12: 10.255.9/24 */
        { 0x0a000a0b, { 0x0aff0800, 24 } },    /* 10.0.10.11: 10.255.8/24 */
        { 0x0a000a0a, { 0x0aff0a00, 24 } },    /* Our own address. */
        { 0x0a000a0d, { 0x0b000000, 24 } },    /* Outside the overlay. */
    };
    assert_true(model_set_remotes(m, r, ARRAY_SIZE(r)));
    assert_false(model_set_remotes(m, r, ARRAY_SIZE(r)));
    assert_int_equal(m->remotes[0].underlay_ip, 0x0a000a0a);   /* Sorted. */
}

/* The tunnel: classify, per-cell spoof guard and forwarding with the tag,
 * the Geneve port closed to containers; c2c stays closed. */
static void
test_overlay_flows(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;

    model_init(&m);
    make_cell(&m);
    m.cell.tunnel_ofport = 2;
    struct model_container *c = add_container(&m, 5, TCP_WEB);
    c->tag = 0x1234;
    add_remotes(&m);
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    ASSERT_FLOWS(lines, 1, "table=0 ", "in_port=2", "load:0x3->NXM_NX_REG0[]",
                 "goto_table:1");
    /* The container's tag is loaded in classify. */
    char tag[32];
    snprintf(tag, sizeof tag, "load:%#"PRIx32"->NXM_NX_REG8[]", c->tag);
    ASSERT_FLOWS(lines, 1, "table=0 ", "in_port=5", tag);
    /* Two valid remotes: spoof guard on tunnel source, its subnet, ours. */
    ASSERT_FLOWS(lines, 2, "table=1 ", "reg0=0x3", "tun_src=");
    ASSERT_FLOWS(lines, 1, "table=1 ", "tun_src=10.0.10.11",
                 "nw_src=10.255.8.0/24", "nw_dst=10.255.7.0/24",
                 "TUN_METADATA0[0..31]->NXM_NX_REG8[]", "goto_table:3");
    /* ...sent to our underlay address, whatever the tag (0: none). */
    ASSERT_FLOWS(lines, 2, "table=1 ", "tun_dst=10.0.10.10");
    ASSERT_FLOWS(lines, 0, "tun_metadata0=");
    ASSERT_FLOWS(lines, 0, "tun_src=10.0.10.10");
    /* From the host, no overlay source but the host's gateway address. */
    ASSERT_FLOWS(lines, 1, "table=1 priority=110", "reg0=0x2",
                 "nw_src=10.255.0.0/16", "actions=drop");
    ASSERT_FLOWS(lines, 1, "table=1 priority=120", "reg0=0x2",
                 "nw_src=10.255.7.1", "goto_table:3");
    /* Container UDP to port 6081 is judged again, packet by packet. */
    ASSERT_FLOWS(lines, 1, "table=5 priority=120", "ct_state=-new+trk",
                 "reg0=0x1", "tp_dst=6081", "goto_table:6");
    /* From the tunnel to an address of ours without a container: drop. */
    ASSERT_FLOWS(lines, 1, "table=9 priority=60", "reg0=0x3",
                 "actions=drop");
    ASSERT_FLOWS(lines, 0, "tun_src=10.0.10.13");
    /* Forwarding to each, with our tag in the option. */
    ASSERT_FLOWS(lines, 1, "table=9 priority=100", "nw_dst=10.255.9.0/24",
                 "set_field:10.0.10.12->tun_dst",
                 "NXM_NX_REG8[]->NXM_NX_TUN_METADATA0[0..31]", "output:2");
    ASSERT_FLOWS(lines, 2, "table=9 priority=100", "->tun_dst");
    /* Unknown overlay addresses are rejected, not sent to the host. */
    ASSERT_FLOWS(lines, 1, "table=9 priority=50", "nw_dst=10.255.0.0/16",
                 "goto_table:10");
    /* No container reaches any cell's Geneve port (ours included). */
    ASSERT_FLOWS(lines, 3, "table=6 priority=1100", "udp", "tp_dst=6081",
                 "goto_table:10");
    /* New connections from the tunnel go to ingress, which drops them
     * while c2c is closed; egress still rejects the overlay. */
    ASSERT_FLOWS(lines, 1, "table=5 ", "ct_state=+new+trk", "reg0=0x3",
                 "goto_table:7");
    ASSERT_FLOWS(lines, 1, "table=7 ", "reg0=0x3", "actions=drop");
    ASSERT_FLOWS(lines, 1, "table=6 priority=850", "nw_dst=10.255.0.0/16",
                 "goto_table:10");
    ASSERT_FLOWS(lines, 1, "table=6 priority=870", "reg8=0",
                 "nw_dst=10.255.0.0/16", "goto_table:10");
    /* A container with a tag sends to each remote cell's containers with
     * the c2c-out mark; those connections pass conntrack both ways. */
    ASSERT_FLOWS(lines, 1, "table=6 priority=860", "nw_dst=10.255.9.0/24",
                 "load:0x40000003->NXM_NX_REG3[]", "goto_table:8");
    ASSERT_FLOWS(lines, 2, "table=6 priority=860");
    ASSERT_FLOWS(lines, 1, "table=5 priority=100", "ct_state=+est+trk",
                 "ct_mark=0x40000003", "goto_table:9");
    ASSERT_FLOWS(lines, 1, "table=5 priority=100", "ct_state=+rel+trk",
                 "ct_mark=0x40000003", "goto_table:9");
    /* A stale connection's packets from the tunnel are judged again. */
    ASSERT_FLOWS(lines, 1, "table=5 priority=50", "ct_state=+est-rpl+trk",
                 "reg0=0x3", "goto_table:7");
    ASSERT_FLOWS(lines, 0, "ct_mark=0x40000001");
    assert_int_equal(flow_table_n_conflicts(&t), 0);
    free_dump(lines);

    /* Without a tunnel port (single-cell mode) none of it. */
    m.cell.tunnel_ofport = 0;
    pipeline_compute(&m, &t);
    lines = dump(&t);
    ASSERT_FLOWS(lines, 0, "tun_src=");
    ASSERT_FLOWS(lines, 0, "tun_dst");
    ASSERT_FLOWS(lines, 0, "reg0=0x3");
    free_dump(lines);

    flow_table_destroy(&t);
    model_destroy(&m);
}

/* disable_container_network_policy: c2c allowed both ways with its own
 * mark, on this cell and from other cells; the cell's own gateway address
 * stays closed. */
static void
test_c2c_open(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;

    model_init(&m);
    make_cell(&m);
    m.cell.tunnel_ofport = 2;
    m.cell.c2c_open = true;
    add_container(&m, 5, TCP_WEB);
    add_remotes(&m);
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    ASSERT_FLOWS(lines, 0, "table=6 priority=900", "nw_dst=10.255.0.0/16");
    ASSERT_FLOWS(lines, 1, "table=6 priority=850", "nw_dst=10.255.0.0/16",
                 "load:0x40000001->NXM_NX_REG3[]", "goto_table:8");
    ASSERT_FLOWS(lines, 1, "table=6 priority=900", "nw_dst=10.255.7.1",
                 "goto_table:10");
    ASSERT_FLOWS(lines, 2, "table=5 ", "ct_mark=0x40000001",
                 "goto_table:9");
    ASSERT_FLOWS(lines, 1, "table=7 ", "reg0=0x3",
                 "load:0x40000001->NXM_NX_REG3[]", "goto_table:8");
    ASSERT_FLOWS(lines, 0, "table=7 ", "reg0=0x3", "actions=drop");
    free_dump(lines);

    flow_table_destroy(&t);
    model_destroy(&m);
}

/* Several overlay networks: each is closed (or open) and answered for. */
static void
test_several_overlays(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;

    model_init(&m);
    make_cell(&m);
    m.cell.overlays = xrealloc(m.cell.overlays, 2 * sizeof *m.cell.overlays);
    m.cell.overlays[1].addr = 0x0afe0000;              /* 10.254.0.0/16 */
    m.cell.overlays[1].plen = 16;
    m.cell.n_overlays = 2;
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    ASSERT_FLOWS(lines, 1, "table=6 priority=850", "nw_dst=10.254.0.0/16");
    ASSERT_FLOWS(lines, 1, "table=6 priority=870", "reg8=0",
                 "nw_dst=10.254.0.0/16");
    ASSERT_FLOWS(lines, 1, "table=2 ", "arp_tpa=10.254.0.0/16");
    ASSERT_FLOWS(lines, 1, "table=9 priority=50", "nw_dst=10.254.0.0/16");
    free_dump(lines);

    flow_table_destroy(&t);
    model_destroy(&m);
}


/* ---- c2c policies and synced ASGs ---- */

/* Appends a policy to 'l'. */
static void
push_policy(struct cf_policy_list *l, const char *src, uint32_t src_tag,
            const char *dst, uint32_t dst_tag, enum cf_proto proto,
            uint16_t start, uint16_t end)
{
    l->policies = xrealloc(l->policies, (l->n + 1) * sizeof *l->policies);
    struct cf_policy *p = &l->policies[l->n++];
    p->src_id = xstrdup(src);
    p->src_tag = src_tag;
    p->dst_id = xstrdup(dst);
    p->dst_tag = dst_tag;
    p->protocol = proto;
    p->port_start = start;
    p->port_end = end;
}

/* Stores the policies of 'l' (taken over) fetched for the groups in the
 * space-separated 'groups' and resolves the model. */
static bool
set_policies(struct model *m, struct cf_policy_list *l, const char *groups)
{
    struct sset set = SSET_INITIALIZER(&set);
    char *copy = xstrdup(groups);
    char *save = NULL;
    for (char *g = strtok_r(copy, " ", &save); g;
         g = strtok_r(NULL, " ", &save)) {
        sset_add(&set, g);
    }
    free(copy);
    bool changed = model_set_policies(m, l, &set);
    sset_destroy(&set);
    assert_int_equal(l->n, 0);
    model_resolve(m);
    return changed;
}

/* A container of app 'app' (may be NULL) in space 'space' (may be NULL). */
static struct model_container *
add_app_container(struct model *m, uint32_t ofport, const char *rules_json,
                  const char *app, const char *space)
{
    struct model_container *c = add_container(m, ofport, rules_json);
    c->garden_netout = c->netout;
    c->policy_group_id = nullable_xstrdup(app);
    c->space_id = nullable_xstrdup(space);
    return c;
}

/* A policy cell: c2c under policy, a tunnel, two other cells; containers
 * 5 and 8 of app "A" (tag 1), 6 of app "B" (tag 2), 7 of app "C" (in no
 * policy). */
static void
make_policy_model(struct model *m)
{
    model_init(m);
    make_cell(m);
    m->cell.tunnel_ofport = 2;
    add_remotes(m);
    model_set_policy_config(m, true, true);
    add_app_container(m, 5, TCP_WEB, "A", "S1");
    add_app_container(m, 6, TCP_WEB, "B", "S1");
    add_app_container(m, 7, "[]", "C", "S2");
    add_app_container(m, 8, "[]", "A", "S1");
}

/* The number of flows in 'table' with cookie 'ck' (dump() does not print
 * cookies). */
static size_t
count_cookie(const struct flow_table *t, uint64_t ck, uint8_t table)
{
    const struct flow_entry *f;
    size_t n = 0;
    HMAP_FOR_EACH (f, node, &t->flows) {
        n += f->cookie == ck && f->table_id == table;
    }
    return n;
}

/* c2c is allowed only for (source tag, destination app's tag, protocol,
 * port range): same cell and from the tunnel alike (the 'ingress' flows do
 * not look at where the packet came from); 'owner' gives every packet to a
 * container of an app in a policy its app's tag; a container whose app is
 * in no policy has tag 0 and reaches no other app. */
static void
test_policy_c2c_flows(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;
    struct cf_policy_list l = { NULL, 0 };

    make_policy_model(&m);
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_TCP, 8080, 8080);
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_UDP, 5000, 5003);
    push_policy(&l, "X", 0x10, "A", 1, CF_PROTO_TCP, 9000, 9000);
    assert_true(set_policies(&m, &l, "A B C"));
    assert_int_equal(model_find_container(&m, 5)->tag, 1);
    assert_int_equal(model_find_container(&m, 6)->tag, 2);
    assert_int_equal(model_find_container(&m, 7)->tag, 0);

    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    /* Tags in classify (the sender's, reg8) and owner (the receiver's,
     * reg10, from anywhere, the host's flow included). */
    ASSERT_FLOWS(lines, 1, "table=0 ", "in_port=5", "load:0x1->NXM_NX_REG8[]");
    ASSERT_FLOWS(lines, 1, "table=0 ", "in_port=6", "load:0x2->NXM_NX_REG8[]");
    ASSERT_FLOWS(lines, 1, "table=0 ", "in_port=7", "load:0->NXM_NX_REG8[]");
    ASSERT_FLOWS(lines, 1, "table=4 priority=90", "ip,nw_dst=10.255.7.5 ",
                 "load:0x1->NXM_NX_REG10[]", "goto_table:5");
    ASSERT_FLOWS(lines, 1, "table=4 priority=90", "ip,nw_dst=10.255.7.8 ",
                 "load:0x1->NXM_NX_REG10[]");
    ASSERT_FLOWS(lines, 1, "table=4 priority=90", "ip,nw_dst=10.255.7.6 ",
                 "load:0x2->NXM_NX_REG10[]");
    ASSERT_FLOWS(lines, 1, "table=4 priority=100", "nw_dst=10.255.7.6 ",
                 "load:0x2->NXM_NX_REG10[]", "->NXM_NX_REG1[]");
    ASSERT_FLOWS(lines, 0, "table=4 ", "nw_dst=10.255.7.7 ", "REG10");
    ASSERT_FLOWS(lines, 3, "table=4 priority=90");

    /* A -> B: tcp 8080, udp 5000-5003 (one prefix) and its later
     * fragments, to B (tag 2), with the c2c policy mark. */
    ASSERT_FLOWS(lines, 1, "table=7 priority=100", "reg8=0x1,reg10=0x2,",
                 "tcp,", "tp_dst=8080", "set_field:0x40000002->reg3",
                 "goto_table:8");
    ASSERT_FLOWS(lines, 1, "table=7 priority=100", "reg8=0x1,reg10=0x2,",
                 "udp,", "tp_dst=0x1388/0xfffc",
                 "set_field:0x40000002->reg3");
    ASSERT_FLOWS(lines, 1, "table=7 priority=100", "reg8=0x1,reg10=0x2,",
                 "udp,", "nw_frag=later");
    ASSERT_FLOWS(lines, 0, "table=7 ", "tcp,", "reg10=0x2,", "tp_dst=8081");
    /* X -> A (X is on another cell): one flow for both of A's
     * containers. */
    ASSERT_FLOWS(lines, 1, "table=7 priority=100", "reg8=0x10,reg10=0x1,",
                 "tcp,", "tp_dst=9000");
    /* The policies name apps, never a container's address; nothing reaches
     * C, nothing is admitted without a tag at either end. */
    ASSERT_FLOWS(lines, 0, "table=7 priority=100", "reg8=", "nw_dst=");
    ASSERT_FLOWS(lines, 0, "table=7 ", "reg8=0,");
    ASSERT_FLOWS(lines, 0, "table=7 ", "reg10=0,");
    ASSERT_FLOWS(lines, 4, "table=7 priority=100", "reg8=");
    ASSERT_FLOWS(lines, 4, "table=7 priority=100", "reg10=");
    /* Each policy's connections pass conntrack by mark and label, when
     * established or related: neither new nor (dropped above) invalid. */
    ASSERT_FLOWS(lines, 3, "table=5 priority=100", "ct_state=-new+trk,",
                 "ct_mark=0x40000002", "ct_label=", "goto_table:9");
    ASSERT_FLOWS(lines, 1, "table=5 priority=200", "ct_state=+inv+trk",
                 "drop");
    ASSERT_FLOWS(lines, 3, "table=5 ", "ct_mark=0x40000002");
    assert_int_equal(flow_table_n_conflicts(&t), 0);

    /* The cookies: PIPELINE_CK_POLICY, one per policy. */
    const struct cf_policy *p = &m.policy.policies[0];
    uint64_t ck = pipeline_policy_cookie(p);
    assert_int_equal(pipeline_cookie_kind(ck), PIPELINE_CK_POLICY);
    assert_int_equal(count_cookie(&t, ck, PIPELINE_T_INGRESS), 1);
    assert_int_equal(count_cookie(&t, ck, PIPELINE_T_CT_STATE), 1);
    char *label = xasprintf("ct_label=%#"PRIx64"/0xffffffffffffffff",
                            ck);
    ASSERT_FLOWS(lines, 1, "table=5 ", label);
    free(label);
    char *load = xasprintf("set_field:%#"PRIx64"->xreg3", ck);
    ASSERT_FLOWS(lines, 1, "table=7 ", load);
    free(load);
    free_dump(lines);

    /* With disable_container_network_policy, no policy flows at all. */
    m.cell.c2c_open = true;
    pipeline_compute(&m, &t);
    lines = dump(&t);
    ASSERT_FLOWS(lines, 0, "ct_mark=0x40000002");
    ASSERT_FLOWS(lines, 0, "table=7 ", "reg8=");
    free_dump(lines);

    flow_table_destroy(&t);
    model_destroy(&m);
}

/* However wide a container's ASG, the overlay is decided before it: this
 * cell's containers by 'ingress' (policy), other cells' only with a tag,
 * the rest of the overlay rejected. */
static void
test_wide_open_asg_gives_no_c2c(void **state OVS_UNUSED)
{
    static const char *ALL =
        "[{\"protocol\":0,\"networks\":[{\"start\":\"0.0.0.0\","
        "\"end\":\"255.255.255.255\"}],\"ports\":[],\"log\":false}]";
    struct model m;
    struct flow_table t;

    make_policy_model(&m);
    add_app_container(&m, 9, ALL, NULL, NULL);
    model_resolve(&m);
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);

    /* The ASG's flows are below every c2c flow of 'egress'. */
    size_t n_asg = 0;
    for (char **l = lines; *l; l++) {
        int table, prio;
        if (sscanf(*l, "table=%d priority=%d", &table, &prio) == 2
            && table == PIPELINE_T_EGRESS && strstr(*l, "conj")) {
            assert_true(prio <= 500);
            n_asg++;
        }
    }
    assert_true(n_asg > 0);
    ASSERT_FLOWS(lines, 1, "table=6 priority=880", "nw_dst=10.255.7.0/24",
                 "goto_table:7");
    ASSERT_FLOWS(lines, 1, "table=6 priority=850", "nw_dst=10.255.0.0/16",
                 "goto_table:10");
    /* And 'ingress' admits nothing without a tag (container 9 has none:
     * no app). */
    assert_int_equal(model_find_container(&m, 9)->tag, 0);
    ASSERT_FLOWS(lines, 0, "table=7 ", "reg8=0,");
    free_dump(lines);
    flow_table_destroy(&t);
    model_destroy(&m);
}

/* Two policies that make the same flow (overlapping port ranges, UDP
 * fragments) do not conflict: one of them makes it, the same one every
 * time. */
static void
test_policy_duplicates_do_not_conflict(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;
    struct cf_policy_list l = { NULL, 0 };

    make_policy_model(&m);
    /* 7990-8020 holds the prefix 8000/0xfff0, which 8000-8015 is. */
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_TCP, 8000, 8015);
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_TCP, 7990, 8020);
    /* Both give the later-fragment flow of udp to B. */
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_UDP, 53, 53);
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_UDP, 5353, 5353);
    /* An exact duplicate is dropped by the model. */
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_UDP, 53, 53);
    set_policies(&m, &l, "A B");
    assert_int_equal(m.policy.n_policies, 4);

    flow_table_init(&t);
    pipeline_compute(&m, &t);
    assert_int_equal(flow_table_n_conflicts(&t), 0);
    char **lines = dump(&t);
    ASSERT_FLOWS(lines, 1, "table=7 ", "tcp,", "tp_dst=0x1f40/0xfff0");
    ASSERT_FLOWS(lines, 1, "table=7 ", "udp,", "nw_frag=later");
    free_dump(lines);

    /* The policy with the lower cookie made each (the order in which
     * units combine: flow-units.h), whatever the order of the policies. */
    struct cf_policy tcp_a = {
        .src_id = "A", .src_tag = 1, .dst_id = "B", .dst_tag = 2,
        .protocol = CF_PROTO_TCP, .port_start = 7990, .port_end = 8020,
    };
    struct cf_policy tcp_b = tcp_a;
    tcp_b.port_start = 8000;
    tcp_b.port_end = 8015;
    struct cf_policy first_udp = tcp_a;
    first_udp.protocol = CF_PROTO_UDP;
    first_udp.port_start = first_udp.port_end = 53;
    struct cf_policy second_udp = first_udp;
    second_udp.port_start = second_udp.port_end = 5353;
    uint64_t want_tcp = MIN(pipeline_policy_cookie(&tcp_a),
                            pipeline_policy_cookie(&tcp_b));
    uint64_t want_udp = MIN(pipeline_policy_cookie(&first_udp),
                            pipeline_policy_cookie(&second_udp));
    const struct flow_entry *f;
    size_t n_checked = 0;
    HMAP_FOR_EACH (f, node, &t.flows) {
        if (f->table_id != PIPELINE_T_INGRESS
            || pipeline_cookie_kind(f->cookie) != PIPELINE_CK_POLICY) {
            continue;
        }
        struct match mt;
        minimatch_expand(&f->match, &mt);
        if (mt.flow.nw_proto == IPPROTO_TCP
            && mt.wc.masks.tp_dst == htons(0xfff0)
            && mt.flow.tp_dst == htons(8000)) {
            assert_int_equal(f->cookie, want_tcp);
            n_checked++;
        } else if (mt.flow.nw_proto == IPPROTO_UDP
                   && mt.wc.masks.nw_frag) {
            assert_int_equal(f->cookie, want_udp);
            n_checked++;
        }
    }
    assert_int_equal(n_checked, 2);
    assert_int_not_equal(pipeline_policy_cookie(&first_udp),
                         pipeline_policy_cookie(&second_udp));
    flow_table_destroy(&t);
    model_destroy(&m);
}

/* Diffs two tables; asserts that they are equal. */
static void
assert_tables_equal(const struct flow_table *a, const struct flow_table *b)
{
    struct ovs_list changes;
    ovs_list_init(&changes);
    flow_table_diff(a, b, &changes);
    bool empty = ovs_list_is_empty(&changes);
    flow_changes_destroy(&changes);
    assert_true(empty);
    assert_int_equal(flow_table_count(a), flow_table_count(b));
}

/* Policy cookies and flows are the same whatever the order the server
 * sends the policies in, and across recomputes; a policy's flows and its
 * connections' 'ct_state' flows come and go with it, and nobody else's
 * change. */
static void
test_policy_cookies_stable(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t1, t2, t3;
    struct cf_policy_list l = { NULL, 0 };

    make_policy_model(&m);
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_TCP, 8080, 8080);
    push_policy(&l, "B", 2, "A", 1, CF_PROTO_UDP, 1000, 2000);
    push_policy(&l, "X", 0x10, "B", 2, CF_PROTO_TCP, 1, 65535);
    assert_true(set_policies(&m, &l, "A B C"));
    flow_table_init(&t1);
    pipeline_compute(&m, &t1);

    /* The same policies in the other order: no change at all. */
    push_policy(&l, "X", 0x10, "B", 2, CF_PROTO_TCP, 1, 65535);
    push_policy(&l, "B", 2, "A", 1, CF_PROTO_UDP, 1000, 2000);
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_TCP, 8080, 8080);
    assert_false(set_policies(&m, &l, "C B A"));
    flow_table_init(&t2);
    pipeline_compute(&m, &t2);
    assert_tables_equal(&t1, &t2);
    pipeline_compute(&m, &t2);
    assert_tables_equal(&t1, &t2);

    /* The cookie is a function of the policy alone. */
    struct cf_policy p = {
        .src_id = "A", .src_tag = 1, .dst_id = "B", .dst_tag = 2,
        .protocol = CF_PROTO_TCP, .port_start = 8080, .port_end = 8080,
    };
    uint64_t ck = pipeline_policy_cookie(&p);
    assert_int_equal(count_cookie(&t1, ck, PIPELINE_T_INGRESS), 1);
    assert_int_equal(count_cookie(&t1, ck, PIPELINE_T_CT_STATE), 1);
    struct cf_policy q = p;
    q.port_end = 8081;
    assert_int_not_equal(pipeline_policy_cookie(&q), ck);
    q = p;
    q.src_tag = 3;
    assert_int_not_equal(pipeline_policy_cookie(&q), ck);

    /* A -> B removed: its flows (and so its connections) go, the others'
     * stay as they were. */
    push_policy(&l, "X", 0x10, "B", 2, CF_PROTO_TCP, 1, 65535);
    push_policy(&l, "B", 2, "A", 1, CF_PROTO_UDP, 1000, 2000);
    assert_true(set_policies(&m, &l, "A B C"));
    flow_table_init(&t3);
    pipeline_compute(&m, &t3);
    assert_int_equal(count_cookie(&t3, ck, PIPELINE_T_INGRESS), 0);
    assert_int_equal(count_cookie(&t3, ck, PIPELINE_T_CT_STATE), 0);
    struct ovs_list changes;
    ovs_list_init(&changes);
    flow_table_diff(&t3, &t1, &changes);
    size_t n_changes = 0;
    struct flow_change *ch;
    LIST_FOR_EACH (ch, list_node, &changes) {
        assert_int_equal(ch->command, OFPFC_DELETE_STRICT);
        assert_int_equal(ch->flow->cookie, ck);
        n_changes++;
    }
    assert_int_equal(n_changes, 2);
    flow_changes_destroy(&changes);

    flow_table_destroy(&t1);
    flow_table_destroy(&t2);
    flow_table_destroy(&t3);
    model_destroy(&m);
}

/* Policies whose destination has no container here make no flows here
 * (the other cell decides), but the source's tag is in its classify flow
 * and egress sends it to the tunnel with the c2c-out mark. */
static void
test_policy_remote_destination(void **state OVS_UNUSED)
{
    struct model m;
    struct flow_table t;
    struct cf_policy_list l = { NULL, 0 };

    make_policy_model(&m);
    push_policy(&l, "A", 1, "Z", 0x99, CF_PROTO_TCP, 8080, 8080);
    set_policies(&m, &l, "A B C");
    flow_table_init(&t);
    pipeline_compute(&m, &t);
    char **lines = dump(&t);
    ASSERT_FLOWS(lines, 0, "table=7 ", "reg8=");
    ASSERT_FLOWS(lines, 0, "ct_mark=0x40000002");
    ASSERT_FLOWS(lines, 1, "table=0 ", "in_port=5", "load:0x1->NXM_NX_REG8[]");
    ASSERT_FLOWS(lines, 2, "table=6 priority=860", "load:0x40000003->");
    free_dump(lines);
    flow_table_destroy(&t);
    model_destroy(&m);
}

/* A security group: 'n_rules' rules "tcp <net>.<i> port 1000+i". */
static void
make_asg(struct cf_asg *a, const char *guid, const char *name,
         uint32_t net, size_t n_rules, bool staging_default,
         bool running_default, const char *staging_space,
         const char *running_space)
{
    memset(a, 0, sizeof *a);
    a->guid = xstrdup(guid);
    a->name = xstrdup(name);
    a->n_rules = n_rules;
    a->rules = xcalloc(n_rules, sizeof *a->rules);
    a->rule_index = xcalloc(n_rules, sizeof *a->rule_index);
    for (size_t i = 0; i < n_rules; i++) {
        struct cf_netout_rule *r = &a->rules[i];
        r->protocol = CF_PROTO_TCP;
        r->n_networks = 1;
        r->networks = xmalloc(sizeof *r->networks);
        r->networks[0].start = r->networks[0].end = net + i;
        r->n_ports = 1;
        r->ports = xmalloc(sizeof *r->ports);
        r->ports[0].start = r->ports[0].end = 1000 + i;
        a->rule_index[i] = 2 * i;       /* As if every other was skipped. */
    }
    a->staging_default = staging_default;
    a->running_default = running_default;
    if (staging_space) {
        a->n_staging_spaces = 1;
        a->staging_spaces = xmalloc(sizeof *a->staging_spaces);
        a->staging_spaces[0] = xstrdup(staging_space);
    }
    if (running_space) {
        a->n_running_spaces = 1;
        a->running_spaces = xmalloc(sizeof *a->running_spaces);
        a->running_spaces[0] = xstrdup(running_space);
    }
}

static bool
set_asgs(struct model *m, struct cf_asg *asgs, size_t n, const char *space)
{
    struct sset spaces = SSET_INITIALIZER(&spaces);
    sset_add(&spaces, space);
    bool changed = model_set_asgs(m, asgs, n, &spaces);
    sset_destroy(&spaces);
    model_resolve(m);
    return changed;
}

/* The standard set of groups: "run" bound to S1 for running (2 rules),
 * "dflt" the running default (1 rule), "stage" bound to S1 for staging
 * (1 rule). */
static bool
set_standard_asgs(struct model *m, const char *space, uint32_t run_net)
{
    struct cf_asg *asgs = xcalloc(3, sizeof *asgs);
    make_asg(&asgs[0], "g-run", "run", run_net, 2, false, false, NULL,
             "S1");
    make_asg(&asgs[1], "g-dflt", "dflt", 0x0b000000, 1, false, true, NULL,
             NULL);
    make_asg(&asgs[2], "g-stage", "stage", 0x0c000000, 1, false, false,
             "S1", NULL);
    bool changed = set_asgs(m, asgs, 3, space);
    free(asgs);
    return changed;
}

/* Synced ASGs replace Garden's rules once the container's space is
 * covered by a fetch, running or staging as the container is, with each
 * rule's origin; a changed group changes the epoch (connections judged
 * again); unbinding takes the rules away. */
static void
test_synced_asgs(void **state OVS_UNUSED)
{
    struct model m;
    struct pipeline_ruleset_info before, after;

    make_policy_model(&m);
    struct model_container *c5 = model_find_container(&m, 5);
    struct model_container *c7 = model_find_container(&m, 7);
    struct model_container *st = add_app_container(&m, 10, TCP_WEB, "A",
                                                   "S1");
    st->staging = true;
    model_resolve(&m);
    /* Before any fetch: Garden's. */
    assert_ptr_equal(c5->netout, c5->garden_netout);
    pipeline_container_ruleset(&m, 5, &before);

    assert_true(set_standard_asgs(&m, "S1", 0x0a000000));
    /* S1 is covered: running gets "run" and "dflt", in the server's
     * order, with origins. */
    assert_ptr_not_equal(c5->netout, c5->garden_netout);
    const struct model_rules *r = c5->netout;
    assert_int_equal(r->parsed.n_netout_rules, 3);
    assert_non_null(r->origins);
    assert_string_equal(r->origins[0].asg_guid, "g-run");
    assert_string_equal(r->origins[0].asg_name, "run");
    assert_int_equal(r->origins[0].index, 0);
    assert_string_equal(r->origins[1].asg_guid, "g-run");
    assert_int_equal(r->origins[1].index, 2);
    assert_string_equal(r->origins[2].asg_guid, "g-dflt");
    assert_int_equal(r->parsed.netout_rules[1].ports[0].start, 1001);
    /* Containers of one space and workload share the list. */
    assert_ptr_equal(model_find_container(&m, 8)->netout, r);
    /* Staging: "stage" only (no staging default here). */
    assert_int_equal(st->netout->parsed.n_netout_rules, 1);
    assert_string_equal(st->netout->origins[0].asg_guid, "g-stage");
    /* S2 was not covered: Garden's rules stay. */
    assert_ptr_equal(c7->netout, c7->garden_netout);
    pipeline_container_ruleset(&m, 5, &after);
    assert_int_not_equal(before.epoch, after.epoch);
    before = after;

    /* The same again: nothing changes, not even the pointer. */
    assert_false(set_standard_asgs(&m, "S1", 0x0a000000));
    assert_ptr_equal(c5->netout, r);
    pipeline_container_ruleset(&m, 5, &after);
    assert_int_equal(before.epoch, after.epoch);

    /* A rule of "run" changes: a new epoch. */
    assert_true(set_standard_asgs(&m, "S1", 0x0a000100));
    pipeline_container_ruleset(&m, 5, &after);
    assert_int_not_equal(before.epoch, after.epoch);

    /* "run" unbound (only the default left). */
    struct cf_asg *asgs = xcalloc(1, sizeof *asgs);
    make_asg(&asgs[0], "g-dflt", "dflt", 0x0b000000, 1, false, true, NULL,
             NULL);
    assert_true(set_asgs(&m, asgs, 1, "S1"));
    free(asgs);
    assert_int_equal(c5->netout->parsed.n_netout_rules, 1);
    assert_string_equal(c5->netout->origins[0].asg_guid, "g-dflt");

    /* Syncing off: Garden's rules again. */
    model_set_policy_config(&m, true, false);
    model_resolve(&m);
    assert_ptr_equal(c5->netout, c5->garden_netout);
    model_destroy(&m);
}

/* A container is ready (may be marked installed) once its app's policies
 * are fetched; without a policy server, or without an app, at once. */
static void
test_readiness(void **state OVS_UNUSED)
{
    struct model m;
    struct cf_policy_list l = { NULL, 0 };

    make_policy_model(&m);
    struct model_container *a = model_find_container(&m, 5);
    struct model_container *none = add_app_container(&m, 11, "[]", NULL,
                                                     NULL);
    assert_false(model_container_ready(&m, a));
    assert_true(model_container_ready(&m, none));

    /* Fetched for other groups only: still waiting. */
    assert_true(set_policies(&m, &l, "B C"));
    assert_false(model_container_ready(&m, a));
    assert_true(model_container_ready(&m, model_find_container(&m, 6)));

    /* Fetched for A (it has no policy at all): ready, no tag. */
    assert_true(set_policies(&m, &l, "A B C"));
    assert_true(model_container_ready(&m, a));
    assert_int_equal(a->tag, 0);
    assert_false(set_policies(&m, &l, "A B C"));

    /* Without a policy server, everyone is ready. */
    struct model m2;
    make_policy_model(&m2);
    model_set_policy_config(&m2, false, false);
    assert_true(model_container_ready(&m2, model_find_container(&m2, 5)));
    model_destroy(&m2);
    model_destroy(&m);
}

/* ---- incremental computation ---- */

/* Traffic logging: which flows send log copies, through which meters.
 * Nothing without a log file; with one, the ASG rules with "log": true;
 * with asg_logging every ASG rule and the default deny; with c2c_logging
 * the policies' admissions and the c2c no policy admits, here, from other
 * cells and to them.  The packet goes on as without logging. */
static void
test_logging_flows(void **state OVS_UNUSED)
{
    static const char *rules =
        "[{\"protocol\":1,\"networks\":[{\"start\":\"10.0.0.1\","
        "\"end\":\"10.0.0.1\"}],\"ports\":[{\"start\":80,\"end\":80}],"
        "\"log\":false},"
        "{\"protocol\":0,\"networks\":[{\"start\":\"10.0.0.2\","
        "\"end\":\"10.0.0.2\"}],\"log\":true}]";
    struct cf_policy_list l = { NULL, 0 };
    struct flow_table t;
    struct model m;

    make_policy_model(&m);
    add_app_container(&m, 9, rules, "B", "S1");
    push_policy(&l, "A", 1, "B", 2, CF_PROTO_TCP, 8080, 8080);
    assert_true(set_policies(&m, &l, "A B C"));
    flow_table_init(&t);

    /* No log file: "log": true is not enough. */
    pipeline_compute(&m, &t);
    char **lines = dump(&t);
    ASSERT_FLOWS(lines, 0, "controller(", "id=2");
    ASSERT_FLOWS(lines, 0, "reg4");
    ASSERT_FLOWS(lines, 1, "table=11 ");
    free_dump(lines);

    /* A log file: the rule with "log": true, nothing else. */
    m.cell.logging = true;
    pipeline_compute(&m, &t);
    lines = dump(&t);
    ASSERT_FLOWS(lines, 1, "table=6 ", "conj_id=", "set_field:0x11->reg4",
                 "resubmit(,11)", "goto_table:8");
    ASSERT_FLOWS(lines, 1, "table=6 ", "conj_id=", "resubmit(,11)");
    ASSERT_FLOWS(lines, 1, "table=11 priority=110", "reg4=0x11", "udp",
                 "userdata=11", "meter_id=3", "max_len=128", "id=2");
    ASSERT_FLOWS(lines, 1, "table=11 priority=100", "reg4=0x11",
                 "userdata=11", "meter_id=2");
    ASSERT_FLOWS(lines, 1, "table=11 priority=110", "reg4=0x13", "udp",
                 "meter_id=6");
    ASSERT_FLOWS(lines, 1, "table=11 priority=100", "reg4=0x13",
                 "meter_id=5");
    ASSERT_FLOWS(lines, 0, "userdata=12");
    ASSERT_FLOWS(lines, 0, "table=7 ", "controller(");
    ASSERT_FLOWS(lines, 0, "set_field:0x13->reg4");
    free_dump(lines);

    /* asg_logging: every rule (TCP_WEB's one and both of 'rules'), and
     * the default deny, before 'reject'. */
    m.cell.asg_logging = true;
    pipeline_compute(&m, &t);
    lines = dump(&t);
    ASSERT_FLOWS(lines, 3, "table=6 ", "conj_id=", "set_field:0x11->reg4");
    ASSERT_FLOWS(lines, 1, "table=6 priority=0 ", "userdata=12",
                 "meter_id=4", "goto_table:10");
    free_dump(lines);

    /* c2c_logging: the policy admits and logs; no policy: logged on the
     * way to 'reject' (from here), dropped (from the tunnel); untagged to
     * another cell, before 'reject'. */
    m.cell.asg_logging = false;
    m.cell.c2c_logging = true;
    pipeline_compute(&m, &t);
    lines = dump(&t);
    ASSERT_FLOWS(lines, 1, "table=7 priority=100", "reg8=0x1", "tp_dst=8080",
                 "set_field:0x13->reg4", "resubmit(,11)", "goto_table:8");
    ASSERT_FLOWS(lines, 1, "table=7 priority=10", "reg0=0x1",
                 "userdata=14", "meter_id=7", "goto_table:10");
    ASSERT_FLOWS(lines, 1, "table=7 priority=10", "reg0=0x3",
                 "userdata=14", "meter_id=7");
    ASSERT_FLOWS(lines, 1, "table=6 priority=870", "reg8=0",
                 "userdata=15", "meter_id=7", "goto_table:10");
    assert_int_equal(count_cookie(&t, pipeline_cookie(PIPELINE_CK_C2C,
                                                      PIPELINE_C2C_LOCAL_DENY),
                                  PIPELINE_T_INGRESS), 1);
    ASSERT_FLOWS(lines, 0, "userdata=12");
    free_dump(lines);

    /* disable_container_network_policy: no c2c to log. */
    m.cell.c2c_open = true;
    pipeline_compute(&m, &t);
    lines = dump(&t);
    ASSERT_FLOWS(lines, 0, "set_field:0x13->reg4");
    ASSERT_FLOWS(lines, 0, "userdata=14");
    ASSERT_FLOWS(lines, 0, "userdata=15");
    free_dump(lines);

    flow_table_destroy(&t);
    model_destroy(&m);
}

static uint32_t
rnd(uint32_t *s)
{
    *s = *s * 1103515245 + 12345;
    return *s >> 8;
}

/* Container 'ofport' of a random app (or none), rules, workload and port
 * mappings (host ports from a small range, so that two containers
 * sometimes claim one). */
static void
random_container(struct model *m, uint32_t ofport, uint32_t *s)
{
    static const char *const apps[] = { "A", "B", "C", "D", NULL };
    static const char *const rules[] = {
        "[]",
        "[{\"protocol\":1,\"networks\":[{\"start\":\"10.0.0.1\","
        "\"end\":\"10.0.0.255\"}],\"ports\":[{\"start\":80,\"end\":443}],"
        "\"log\":false}]",
        "[{\"protocol\":0,\"networks\":[{\"start\":\"0.0.0.0\","
        "\"end\":\"255.255.255.255\"}],\"log\":false}]",
        "[{\"protocol\":2,\"networks\":[{\"start\":\"10.0.0.1\","
        "\"end\":\"10.0.0.1\"}],\"ports\":[{\"start\":53,\"end\":53}],"
        "\"log\":true}]",
    };
    struct model_container *c = add_app_container(
        m, ofport, rules[rnd(s) % ARRAY_SIZE(rules)],
        apps[rnd(s) % ARRAY_SIZE(apps)], rnd(s) % 2 ? "S1" : "S2");
    c->staging = rnd(s) % 5 == 0;
    c->n_port_mappings = rnd(s) % 3;
    c->port_mappings = xmalloc(MAX(c->n_port_mappings, 1)
                               * sizeof *c->port_mappings);
    for (size_t i = 0; i < c->n_port_mappings; i++) {
        c->port_mappings[i].host_port = 61000 + rnd(s) % 8;
        c->port_mappings[i].container_port = 8080 + i;
    }
}

/* Random policies among apps A to E (E has no containers), tcp and udp,
 * single ports and overlapping ranges. */
static void
random_policies(struct model *m, uint32_t *s)
{
    static const char *const apps[] = { "A", "B", "C", "D", "E" };
    struct cf_policy_list l = { NULL, 0 };
    size_t n = rnd(s) % 12;

    for (size_t i = 0; i < n; i++) {
        size_t a = rnd(s) % ARRAY_SIZE(apps), b = rnd(s) % ARRAY_SIZE(apps);
        uint16_t start = 8000 + rnd(s) % 40;
        uint16_t end = rnd(s) % 2 ? start : start + rnd(s) % 100;
        push_policy(&l, apps[a], a + 1, apps[b], b + 1,
                    rnd(s) % 3 ? CF_PROTO_TCP : CF_PROTO_UDP, start, end);
    }
    set_policies(m, &l, "A B C D E");
    free(l.policies);
}

static void
random_remotes(struct model *m, uint32_t *s)
{
    struct model_remote r[4];
    size_t n = 0;

    for (uint32_t i = 0; i < ARRAY_SIZE(r); i++) {
        if (rnd(s) % 2) {
            r[n].underlay_ip = 0x0a000a0b + i;
            /* Sometimes two cells claim one subnet. */
            r[n].subnet.addr = 0x0aff0800 + ((rnd(s) % 3) << 8);
            r[n].subnet.plen = 24;
            n++;
        }
    }
    model_set_remotes(m, r, n);
}

static void
assert_incremental_matches_full(const struct pipeline *p,
                                const struct model *m, int step)
{
    struct ds report = DS_EMPTY_INITIALIZER;
    size_t n = pipeline_check(p, m, &report);
    if (n) {
        print_message("step %d: %"PRIuSIZE" flows differ:\n%s", step, n,
                      ds_cstr(&report));
    }
    assert_int_equal(n, 0);
    ds_destroy(&report);

    /* The run's rulesets are those pipeline_get_rulesets() computes. */
    size_t n_run, n_full;
    const struct pipeline_ruleset *run = pipeline_rulesets(p, &n_run);
    struct pipeline_ruleset *full;
    n_full = pipeline_get_rulesets(m, &full);
    assert_int_equal(n_run, n_full);
    for (size_t i = 0; i < n_full; i++) {
        assert_int_equal(run[i].id, full[i].id);
        assert_int_equal(run[i].epoch, full[i].epoch);
        assert_int_equal(run[i].staging, full[i].staging);
        assert_ptr_equal(run[i].rules, full[i].rules);
    }
    pipeline_rulesets_destroy(full, n_full);
}

/* A random walk of model changes, each followed by an incremental run:
 * after every run the desired flows are exactly what a full recompute of
 * the same model makes (flows, cookies, actions and conflict counts),
 * whatever the history.  Covers units appearing, changing and going,
 * flows two units share (two containers claiming one host port, two
 * policies admitting the same port, two cells claiming one subnet), and
 * changes of the cell that touch everything. */
static void
test_incremental_matches_full(void **state OVS_UNUSED)
{
    struct model m;
    uint32_t s = 42;

    make_policy_model(&m);
    struct pipeline *p = pipeline_create();
    pipeline_run(p, &m);
    assert_incremental_matches_full(p, &m, -1);

    size_t max_changed = 0, max_conflicts = 0;
    for (int step = 0; step < 400; step++) {
        uint32_t ofport = 3 + rnd(&s) % 12;
        struct model_container *c = model_find_container(&m, ofport);

        switch (rnd(&s) % 10) {
        case 0:
        case 1:
            random_container(&m, ofport, &s);
            break;
        case 2:
            if (c) {
                model_remove_container(&m, c);
            }
            break;
        case 3:
        case 4:
            random_policies(&m, &s);
            break;
        case 5:
            m.cell.c2c_open = !m.cell.c2c_open;
            break;
        case 6:
            random_remotes(&m, &s);
            break;
        case 7:
            m.cell.dns_servers[0] = 0xa9fe0002 + rnd(&s) % 2;
            break;
        case 8:
            m.cell.tunnel_ofport = rnd(&s) % 3 ? 2 : 0;
            break;
        case 9:
            m.cell.logging = rnd(&s) % 3;
            m.cell.asg_logging = rnd(&s) % 2;
            m.cell.c2c_logging = rnd(&s) % 2;
            break;
        }
        model_resolve(&m);
        pipeline_run(p, &m);
        assert_incremental_matches_full(p, &m, step);

        struct pipeline_stats st;
        pipeline_get_stats(p, &st);
        max_changed = MAX(max_changed, st.n_flows_changed);
        max_conflicts = MAX(max_conflicts, pipeline_n_conflicts(p));
    }
    /* The walk went where it should: flows changed, and host ports were
     * claimed twice. */
    assert_true(max_changed > 0);
    assert_true(max_conflicts > 0);

    pipeline_destroy(p);
    model_destroy(&m);
}

/* A new container costs its own unit and those of the policies that reach
 * its app, not the cell's: of 200 containers and their policies, the run
 * after adding one computes a handful of units, and the desired table
 * changes by exactly the new flows.  Removing it puts everything back. */
static void
test_incremental_new_container(void **state OVS_UNUSED)
{
    struct model m;
    struct cf_policy_list l = { NULL, 0 };

    model_init(&m);
    make_cell(&m);
    m.cell.tunnel_ofport = 2;
    add_remotes(&m);
    model_set_policy_config(&m, true, true);
    struct ds groups = DS_EMPTY_INITIALIZER;
    for (uint32_t i = 0; i < 200; i++) {
        char app[16];
        snprintf(app, sizeof app, "app%"PRIu32, i % 100);
        add_app_container(&m, 10 + i, TCP_WEB, app, "S1");
        ds_put_format(&groups, "%s ", app);
        /* app(i) -> app(i+1) on 8080: every app reached by one. */
        char dst[16];
        snprintf(dst, sizeof dst, "app%"PRIu32, (i + 1) % 100);
        if (i < 100) {
            push_policy(&l, app, i + 1, dst, (i + 1) % 100 + 1,
                        CF_PROTO_TCP, 8080, 8080);
        }
    }
    ds_put_cstr(&groups, "app100");
    push_policy(&l, "app99", 100, "app100", 101, CF_PROTO_TCP, 9000, 9000);
    set_policies(&m, &l, ds_cstr(&groups));
    free(l.policies);

    struct pipeline *p = pipeline_create();
    pipeline_run(p, &m);
    size_t before = flow_table_count(pipeline_flows(p));
    struct flow_table snapshot;
    flow_table_init(&snapshot);
    flow_table_copy(&snapshot, pipeline_flows(p));

    /* A container of app100, which app99 reaches: its own unit and the
     * policy's. */
    add_app_container(&m, 500, TCP_WEB, "app100", "S1");
    model_resolve(&m);
    pipeline_run(p, &m);
    struct pipeline_stats st;
    pipeline_get_stats(p, &st);
    assert_int_equal(st.n_computed, 2);
    assert_int_equal(st.n_removed, 0);
    size_t after = flow_table_count(pipeline_flows(p));
    /* classify, 2 spoof guard, owner, forward; the policy's ingress flow
     * and its two ct_state flows. */
    assert_int_equal(after - before, 5 + 3);
    assert_int_equal(st.n_flows_changed, after - before);
    assert_incremental_matches_full(p, &m, 0);

    /* And back. */
    model_remove_container(&m, model_find_container(&m, 500));
    model_resolve(&m);
    pipeline_run(p, &m);
    pipeline_get_stats(p, &st);
    assert_int_equal(st.n_computed, 0);
    assert_int_equal(st.n_removed, 2);
    assert_int_equal(st.n_flows_changed, after - before);
    const struct flow_table *now = pipeline_flows(p);
    assert_int_equal(flow_table_count(now), before);
    const struct flow_entry *f;
    HMAP_FOR_EACH (f, node, &snapshot.flows) {
        const struct flow_entry *g = flow_table_find_like(now, f);
        assert_non_null(g);
        assert_true(flow_entry_same_value(f, g));
    }

    flow_table_destroy(&snapshot);
    ds_destroy(&groups);
    pipeline_destroy(p);
    model_destroy(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_flows),
        cmocka_unit_test(test_container_flows),
        cmocka_unit_test(test_shared_destination_merges),
        cmocka_unit_test(test_growth_is_additive),
        cmocka_unit_test(test_deterministic_and_stable),
        cmocka_unit_test(test_epoch_follows_rules),
        cmocka_unit_test(test_overlay_flows),
        cmocka_unit_test(test_c2c_open),
        cmocka_unit_test(test_several_overlays),
        cmocka_unit_test(test_large_ruleset_chunks),
        cmocka_unit_test(test_rulesets_do_not_share_flows),
        cmocka_unit_test(test_later_fragments),
        cmocka_unit_test(test_ruleset_limit),
        cmocka_unit_test(test_policy_c2c_flows),
        cmocka_unit_test(test_wide_open_asg_gives_no_c2c),
        cmocka_unit_test(test_policy_duplicates_do_not_conflict),
        cmocka_unit_test(test_policy_cookies_stable),
        cmocka_unit_test(test_policy_remote_destination),
        cmocka_unit_test(test_synced_asgs),
        cmocka_unit_test(test_readiness),
        cmocka_unit_test(test_logging_flows),
        cmocka_unit_test(test_incremental_matches_full),
        cmocka_unit_test(test_incremental_new_container),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
