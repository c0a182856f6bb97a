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

#include "compiler.h"
#include "flow-table.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "pipeline.h"
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
