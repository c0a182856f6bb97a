/*
 * pipeline-bench: flowctl's flow pipeline at the scale of a busy cell.
 *
 * The flowctl issue asks for "full recompute + install for 250 containers
 * each with a 1,000-rule ASG: time and flow count.  Target: recompute
 * <= 200 ms, flows O(containers + rules)."  This program measures that:
 *
 *   compute   builds a model of N containers (default 250) sharing one
 *             NetOut rule list of R rules (default 1000), each container
 *             with one port mapping, and times pipeline_compute() into the
 *             table that holds the previous result (as flowctl does):
 *             median, min and max of several runs;
 *   scaling   the flow count for (N, R), (N/2, R), (N, R/2) and
 *             (N/2, R/2), and from them the flows per container, per rule
 *             and the fixed part, and how far (N/2, R/2) is from what an
 *             additive model predicts;
 *   spaces    the containers split into K spaces (default 10), each with
 *             its own rule list of R rules: "distinct" (nothing shared,
 *             K x R rules on the cell) and "platform" (the same R - R/10
 *             platform rules plus R/10 of the space's own, as when every
 *             space has the platform-wide ASGs and a few of its own);
 *   steps     incremental changes after the full table: one container's
 *             rules change (one rule more), one container is added, the
 *             shared rule list changes for everyone (one rule more): for
 *             each, recompute time and the diff against the previous
 *             table (adds, modifies, deletes);
 *   install   with --target (e.g. unix:RUNDIR/br-cf.mgmt): connects an
 *             ofctrl, puts the full table (the first put after connecting
 *             deletes all flows and adds the table in one bundle), waits
 *             for the acknowledgement and reports the time; then puts each
 *             step above and reports its diff size and time to the
 *             acknowledgement.
 *
 * With --policies=P, only the policy-scale phase runs instead (the
 * issue's "10,000 policies among 2,000 apps with 250 local containers and
 * a 1,000-rule ASG"): a cell built through the model's own API, with the
 * policy server configured and ASG syncing on, one running-default ASG of
 * R rules, N containers of L local apps (container i of app i % L), and P
 * random c2c policies among A apps, of which the model gets what the
 * server returns for the local policy groups (a local app at either end);
 * tags as the server gives them, app number + 1.  It measures the full
 * recompute (median), the flows (by policy, predicted policy by policy
 * from add_policy()'s shape, and the growth per container and per policy
 * from the shapes (N/2, P) and (N, P/2)), the install of the full table
 * with --target, the process's peak RSS after that, and two steps of
 * --runs trials each: (a) one policy added from an app with no container
 * here to a local app, (b) a new container of the local app with the most
 * incoming policies; for each, the model change, the incremental
 * recompute (step_recompute(): pipeline_run()), the diff and the time
 * to the switch's acknowledgement.  JSON {"policy_scale": {...}}.  With
 * --fetch-all the model gets every policy instead (as if the server did
 * not filter by group): a bound on what the policies cost the pipeline.
 *
 * The rules are generated deterministically, shaped like a large
 * production ASG: CF's default "public networks" rule (protocol all to
 * every address outside the private ranges, five ranges that are not CIDR
 * aligned), then a mix of tcp (60%), udp (15%), icmp (5%) and all (20%)
 * rules to single hosts, aligned blocks and unaligned address ranges, on
 * well-known ports, port ranges and port lists, some with two or three
 * destinations, some logged.
 *
 * Prints one JSON object on stdout and a readable summary on stderr.
 * Exits 0 when every measurement worked, 1 on a failed or unacknowledged
 * put, 2 on a timeout or bad usage.
 */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "flow-table.h"
#include "model.h"
#include "ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "pipeline.h"
#include "ranges.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
/* jansson (through cf-record.h) after every OVS header: see
 * ovs-json-rename.h. */
#include "cf-policy.h"
#include "cf-record.h"

VLOG_DEFINE_THIS_MODULE(pipeline_bench);

#define TARGET_RECOMPUTE_MS 200.0

struct options {
    int n_containers;
    int n_rules;
    int n_spaces;
    int n_runs;
    const char *target;
    long long int timeout_ms;
    int profile_spaces;         /* --profile: 0 off, else the spaces. */
    const char *dump_file;      /* --dump-flows. */
    int n_policies;             /* --policies: 0 off, else the policy
                                 * scale phase alone. */
    int n_apps;                 /* --apps. */
    int n_local_apps;           /* --local-apps. */
    bool fetch_all;             /* --fetch-all. */
    const char *dump_cell;      /* --dump-cell. */
};

/* ---- time ---- */

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
compare_doubles(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;

    return a < b ? -1 : a > b;
}

struct timing {
    double median_ms;
    double min_ms;
    double max_ms;
    double first_ms;            /* Into an empty table. */
};

/* ---- rule generation ---- */

/* xorshift32: the same rules on every run. */
static uint32_t
rnd(uint32_t *s)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static const uint16_t common_ports[] = {
    443, 80, 5432, 3306, 6379, 8080, 9200, 5671, 1433, 27017, 8443, 25,
    53, 389, 636, 9092, 2181, 11211,
};

/* CF's default public_networks ASG: everything but 10/8, 172.16/12,
 * 192.168/16 and 169.254/16. */
static const struct cf_ip_range public_networks[] = {
    { 0x00000000, 0x09ffffff },         /* 0.0.0.0-9.255.255.255 */
    { 0x0b000000, 0xa9fdffff },         /* 11.0.0.0-169.253.255.255 */
    { 0xa9ff0000, 0xac0fffff },         /* 169.255.0.0-172.15.255.255 */
    { 0xac200000, 0xc0a7ffff },         /* 172.32.0.0-192.167.255.255 */
    { 0xc0a90000, 0xffffffff },         /* 192.169.0.0-255.255.255.255 */
};

static void
gen_network(uint32_t *s, struct cf_ip_range *r)
{
    uint32_t kind = rnd(s) % 20;
    uint32_t base = 0x0a000000 | (rnd(s) & 0x7fffff);   /* In 10.0/9. */

    if (kind < 8) {
        /* A single host. */
        r->start = r->end = base;
    } else if (kind < 13) {
        /* An aligned block, /20 to /28. */
        unsigned int plen = 20 + rnd(s) % 9;
        uint32_t mask = ipv4_prefix_mask(plen);
        r->start = base & mask;
        r->end = r->start | ~mask;
    } else {
        /* An unaligned range of up to 4,000 addresses. */
        r->start = base;
        r->end = base + 1 + rnd(s) % 4000;
    }
}

static void
gen_ports(uint32_t *s, struct cf_netout_rule *rule)
{
    uint32_t kind = rnd(s) % 10;

    rule->n_ports = kind < 8 ? 1 : 2;
    rule->ports = xcalloc(rule->n_ports, sizeof *rule->ports);
    for (size_t i = 0; i < rule->n_ports; i++) {
        struct cf_port_range *p = &rule->ports[i];
        if (kind < 6 || i) {
            p->start = p->end = common_ports[rnd(s)
                                             % ARRAY_SIZE(common_ports)];
        } else {
            p->start = 1024 + rnd(s) % 60000;
            p->end = p->start + rnd(s) % 500;
        }
    }
}

/* Appends to 'rt' 'n' rules made from seed 'seed', the first of them the
 * public networks rule if 'public'. */
static void
gen_rules(struct cf_runtime *rt, uint32_t seed, size_t n, bool public)
{
    uint32_t s = seed * 2654435761u + 1;

    rt->netout_rules = xrealloc(rt->netout_rules,
                                (rt->n_netout_rules + n)
                                * sizeof *rt->netout_rules);
    for (size_t i = 0; i < n; i++) {
        struct cf_netout_rule *r = &rt->netout_rules[rt->n_netout_rules++];
        memset(r, 0, sizeof *r);

        if (!i && public) {
            r->protocol = CF_PROTO_ALL;
            r->n_networks = ARRAY_SIZE(public_networks);
            r->networks = xmemdup(public_networks, sizeof public_networks);
            continue;
        }

        uint32_t p = rnd(&s) % 20;
        r->protocol = (p < 12 ? CF_PROTO_TCP
                       : p < 15 ? CF_PROTO_UDP
                       : p < 16 ? CF_PROTO_ICMP
                       : CF_PROTO_ALL);
        uint32_t nn = rnd(&s) % 20;
        r->n_networks = nn < 16 ? 1 : nn < 19 ? 2 : 3;
        r->networks = xcalloc(r->n_networks, sizeof *r->networks);
        for (size_t j = 0; j < r->n_networks; j++) {
            gen_network(&s, &r->networks[j]);
        }
        if (r->protocol == CF_PROTO_TCP || r->protocol == CF_PROTO_UDP) {
            gen_ports(&s, r);
        } else if (r->protocol == CF_PROTO_ICMP) {
            static const uint8_t icmps[][2] = {
                { 8, 0 }, { 0, 0 }, { 3, CF_ICMP_ANY },
                { CF_ICMP_ANY, CF_ICMP_ANY },
            };
            uint32_t k = rnd(&s) % ARRAY_SIZE(icmps);
            r->has_icmp = true;
            r->icmp_type = icmps[k][0];
            r->icmp_code = icmps[k][1];
        }
        r->log = rnd(&s) % 10 == 0;
    }
}

/* Returns the model's shared rule list for 'rt'.  Frees 'rt'. */
static const struct model_rules *
intern(struct model *m, struct cf_runtime *rt)
{
    char *json = cf_netout_rules_to_json(rt);
    char *error;

    const struct model_rules *rules = model_intern_rules(m, json, &error);
    if (!rules) {
        ovs_fatal(0, "generated rules do not parse: %s", error);
    }
    free(json);
    cf_runtime_destroy(rt);
    return rules;
}

/* ---- models ---- */

enum spaces_mode {
    SPACES_DISTINCT,            /* Each space's rules all its own. */
    SPACES_PLATFORM,            /* Shared platform rules + its own tenth. */
};

/* The rule list of space 'space' (of 'n_spaces'), 'n_rules' long. */
static const struct model_rules *
space_rules(struct model *m, int space, int n_spaces, int n_rules,
            enum spaces_mode mode)
{
    struct cf_runtime rt;

    memset(&rt, 0, sizeof rt);
    if (n_spaces == 1) {
        gen_rules(&rt, 1, n_rules, true);
    } else if (mode == SPACES_DISTINCT) {
        gen_rules(&rt, 100 + space, n_rules, true);
    } else {
        int own = n_rules / 10;
        gen_rules(&rt, 1, n_rules - own, true);
        gen_rules(&rt, 100 + space, own, false);
    }
    return intern(m, &rt);
}

static void
make_cell(struct model *m)
{
    struct model_cell *cell = &m->cell;

    /* Zeroed: the pipeline hashes these arrays whole, padding included
     * (as flowctl's configuration parser zeroes them too). */
    cell->instance_address = 0x0a000a0a;               /* 10.0.10.10 */
    cell->n_overlays = 1;
    cell->overlays = xzalloc(sizeof *cell->overlays);
    cell->overlays[0].addr = 0x0aff0000;               /* 10.255.0.0/16 */
    cell->overlays[0].plen = 16;
    cell->subnet.addr = 0x0aff0400;                    /* 10.255.4.0/22 */
    cell->subnet.plen = 22;
    cell->n_dns_servers = 1;
    cell->dns_servers = xzalloc(sizeof *cell->dns_servers);
    cell->dns_servers[0] = 0xa9fe0002;                 /* 169.254.0.2 */
    cell->n_tcp_services = 1;
    cell->tcp_services = xzalloc(sizeof *cell->tcp_services);
    cell->tcp_services[0].ip = 0xa9fe0002;             /* :8125 */
    cell->tcp_services[0].port = 8125;
    cell->n_deny_running = 1;
    cell->deny_running = xzalloc(sizeof *cell->deny_running);
    cell->deny_running[0].addr = 0x0a0a0000;           /* 10.10.0.0/16 */
    cell->deny_running[0].plen = 16;
    cell->gateway_ofport = 1;
    cell->gateway_host_ip = 0x0aff0401;
    memcpy(cell->gateway_host_mac, "\xaa\xaa\x0a\xff\x04\x01", 6);
}

/* Adds container number 'i' (ofport i + 2) with rules 'rules'. */
static struct model_container *
add_container(struct model *m, int i, const struct model_rules *rules)
{
    char handle[32];

    snprintf(handle, sizeof handle, "bench-%d", i);
    struct model_container *c = model_add_container(m, handle, i + 2);
    c->ip = m->cell.subnet.addr + 2 + i;
    c->mac[0] = 0xee;
    c->mac[1] = 0xee;
    c->mac[2] = c->ip >> 24;
    c->mac[3] = c->ip >> 16;
    c->mac[4] = c->ip >> 8;
    c->mac[5] = c->ip;
    c->netout = rules;
    c->n_port_mappings = 1;
    c->port_mappings = xmalloc(sizeof *c->port_mappings);
    c->port_mappings[0].host_port = 61000 + i;
    c->port_mappings[0].container_port = 8080;
    return c;
}

/* Builds a model of 'n_containers' containers in 'n_spaces' spaces (the
 * containers dealt out in turn), each space with 'n_rules' rules. */
static void
build_model(struct model *m, int n_containers, int n_rules, int n_spaces,
            enum spaces_mode mode)
{
    const struct model_rules **rules = xmalloc(n_spaces * sizeof *rules);

    model_init(m);
    make_cell(m);
    for (int s = 0; s < n_spaces; s++) {
        rules[s] = space_rules(m, s, n_spaces, n_rules, mode);
    }
    for (int i = 0; i < n_containers; i++) {
        add_container(m, i, rules[i % n_spaces]);
    }
    free(rules);
}

/* ---- measuring the pipeline ---- */

/* Times pipeline_compute(m) 'n_runs' times into 'table' (which ends up
 * holding the result), the first time into an empty table. */
static void
time_compute(const struct model *m, struct flow_table *table, int n_runs,
             struct timing *t)
{
    double *ms = xmalloc(n_runs * sizeof *ms);

    flow_table_clear(table);
    for (int i = 0; i < n_runs; i++) {
        double start = now_ms();
        pipeline_compute(m, table);
        ms[i] = now_ms() - start;
    }
    t->first_ms = ms[0];
    /* The first run fills an empty table; the others, as in flowctl,
     * replace the previous result.  Without a second run, use the first. */
    size_t n = n_runs > 1 ? n_runs - 1 : 1;
    double *steady = n_runs > 1 ? ms + 1 : ms;
    qsort(steady, n, sizeof *steady, compare_doubles);
    t->median_ms = (n % 2 ? steady[n / 2]
                    : (steady[n / 2 - 1] + steady[n / 2]) / 2);
    t->min_ms = steady[0];
    t->max_ms = steady[n - 1];
    free(ms);
}

struct table_stats {
    size_t flows;
    size_t conflicts;
    size_t by_kind[8];          /* By cookie kind (PIPELINE_CK_*). */
    size_t conj_flows;          /* Flows whose actions are conjunction()s. */
    size_t conj_actions;        /* Their conjunction() actions. */
    size_t max_conj_actions;    /* On one flow. */
    size_t ofpacts_bytes;
};

static void
table_stats(const struct flow_table *t, struct table_stats *st)
{
    const struct flow_entry *f;

    memset(st, 0, sizeof *st);
    st->flows = flow_table_count(t);
    st->conflicts = flow_table_n_conflicts(t);
    HMAP_FOR_EACH (f, node, &t->flows) {
        unsigned int kind = f->cookie >> 56;
        st->by_kind[kind < ARRAY_SIZE(st->by_kind) ? kind : 0]++;
        st->ofpacts_bytes += f->ofpacts_len;

        const struct ofpact *a;
        size_t n_conj = 0;
        OFPACT_FOR_EACH (a, f->ofpacts, f->ofpacts_len) {
            n_conj += a->type == OFPACT_CONJUNCTION;
        }
        if (n_conj) {
            st->conj_flows++;
            st->conj_actions += n_conj;
            st->max_conj_actions = MAX(st->max_conj_actions, n_conj);
        }
    }
}

static void
put_table_stats(struct ds *j, const struct table_stats *st)
{
    static const char *const kinds[] = {
        [PIPELINE_CK_FIXED] = "fixed",
        [PIPELINE_CK_CONTAINER] = "container",
        [PIPELINE_CK_ASG] = "asg",
        [PIPELINE_CK_DENY] = "deny",
        [PIPELINE_CK_HOST] = "host",
        [PIPELINE_CK_NETIN] = "netin",
        [PIPELINE_CK_DEFAULT] = "default",
    };

    ds_put_format(j, "\"flows\": %"PRIuSIZE", \"conflicts\": %"PRIuSIZE
                  ", \"flows_by_kind\": {", st->flows, st->conflicts);
    bool first = true;
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        if (kinds[k]) {
            ds_put_format(j, "%s\"%s\": %"PRIuSIZE, first ? "" : ", ",
                          kinds[k], st->by_kind[k]);
            first = false;
        }
    }
    ds_put_format(j, "}, \"conjunctive_flows\": %"PRIuSIZE
                  ", \"conjunction_actions\": %"PRIuSIZE
                  ", \"max_conjunction_actions_per_flow\": %"PRIuSIZE
                  ", \"ofpacts_bytes\": %"PRIuSIZE,
                  st->conj_flows, st->conj_actions, st->max_conj_actions,
                  st->ofpacts_bytes);
}

static void
put_timing(struct ds *j, const char *name, const struct timing *t)
{
    ds_put_format(j, "\"%s\": {\"median\": %.2f, \"min\": %.2f, "
                  "\"max\": %.2f, \"first_into_empty\": %.2f}",
                  name, t->median_ms, t->min_ms, t->max_ms, t->first_ms);
}

static int
compare_strings(const void *a_, const void *b_)
{
    return strcmp(*(char *const *) a_, *(char *const *) b_);
}

/* Writes every flow in 't' to 'file_name', one a line, sorted. */
static void
dump_flows(const struct flow_table *t, const char *file_name)
{
    FILE *stream = fopen(file_name, "w");
    if (!stream) {
        ovs_fatal(errno, "%s: open failed", file_name);
    }

    size_t n = 0;
    char **lines = xmalloc(MAX(flow_table_count(t), 1) * sizeof *lines);
    const struct flow_entry *f;
    HMAP_FOR_EACH (f, node, &t->flows) {
        struct ds s = DS_EMPTY_INITIALIZER;
        flow_entry_format(f, &s);
        lines[n++] = ds_steal_cstr(&s);
    }
    qsort(lines, n, sizeof *lines, compare_strings);
    for (size_t i = 0; i < n; i++) {
        fprintf(stream, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    if (fclose(stream)) {
        ovs_fatal(errno, "%s: write failed", file_name);
    }
}

/* Computes a model of the given shape; fills 't' and 'st' and, if
 * 'dump_file' is nonnull, writes the table there. */
static void
measure_shape(int n_containers, int n_rules, int n_spaces,
              enum spaces_mode mode, int n_runs, struct timing *t,
              struct table_stats *st, const char *dump_file)
{
    struct model m;
    struct flow_table table;

    build_model(&m, n_containers, n_rules, n_spaces, mode);
    flow_table_init(&table);
    time_compute(&m, &table, n_runs, t);
    table_stats(&table, st);
    if (dump_file) {
        dump_flows(&table, dump_file);
    }
    flow_table_destroy(&table);
    model_destroy(&m);
}

/* ---- installing ---- */

struct installer {
    struct ofctrl *of;
    long long int timeout_ms;
};

static bool
can_put(const struct ofctrl *of, void *aux OVS_UNUSED)
{
    return ofctrl_can_put(of);
}

/* Done when the put with seqno '*aux' is acknowledged or has failed (the
 * ofctrl accepts puts again without having acknowledged it). */
static bool
put_done(const struct ofctrl *of, void *aux)
{
    return ofctrl_acked_seqno(of) >= *(uint64_t *) aux
           || ofctrl_can_put(of);
}

/* Runs the ofctrl until 'done' or the timeout.  Exits 2 on a timeout. */
static void
run_until(struct installer *in, bool (*done)(const struct ofctrl *, void *),
          void *aux, const char *what)
{
    long long int deadline = time_msec() + in->timeout_ms;

    for (;;) {
        ofctrl_run(in->of);
        if (done(in->of, aux)) {
            return;
        }
        if (time_msec() >= deadline) {
            struct ds s = DS_EMPTY_INITIALIZER;
            ofctrl_format(in->of, &s);
            fprintf(stderr, "pipeline-bench: timeout waiting for %s\n%s",
                    what, ds_cstr(&s));
            ds_destroy(&s);
            exit(2);
        }
        ofctrl_wait(in->of);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* Connects 'in' to o->target, with flowctl's meter, and waits until it
 * can put.  Returns the time that took, in ms. */
static double
installer_connect(struct installer *in, const struct options *o)
{
    struct ofctrl_meter meter = {
        .meter_id = PIPELINE_METER_REJECT,
        .rate_pps = 100,
        .burst = 100,
    };
    in->of = ofctrl_create(o->target);
    in->timeout_ms = o->timeout_ms;
    ofctrl_set_meters(in->of, &meter, 1);
    double start = now_ms();
    run_until(in, can_put, NULL, "the switch");
    return now_ms() - start;
}

struct install_result {
    bool done;
    bool replace;
    double put_ms;              /* ofctrl_put(): diff, encode, queue. */
    double ack_ms;              /* From ofctrl_put() to the ack. */
    uint64_t flow_mods;
    size_t installed;
};

/* Puts 'desired' and waits for the acknowledgement.  Exits 1 if the switch
 * rejects it. */
static void
install(struct installer *in, const struct flow_table *desired,
        struct install_result *r)
{
    struct ofctrl_stats before, after;

    run_until(in, can_put, NULL, "the switch");
    ofctrl_get_stats(in->of, &before);

    double start = now_ms();
    uint64_t seqno = ofctrl_put(in->of, desired);
    r->put_ms = now_ms() - start;
    run_until(in, put_done, &seqno, "the put's acknowledgement");
    r->ack_ms = now_ms() - start;

    ofctrl_get_stats(in->of, &after);
    if (ofctrl_acked_seqno(in->of) < seqno) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ofctrl_format(in->of, &s);
        fprintf(stderr, "pipeline-bench: the switch rejected the put\n%s",
                ds_cstr(&s));
        ds_destroy(&s);
        exit(1);
    }
    r->done = true;
    r->replace = after.n_replaces > before.n_replaces;
    r->flow_mods = after.n_flow_mods - before.n_flow_mods;
    r->installed = flow_table_count(ofctrl_installed(in->of));
}

/* ---- steps: the full table, then incremental changes ---- */

struct step {
    const char *name;
    const char *what;
    struct timing recompute;            /* Full: pipeline_compute(). */
    double incremental_ms;              /* pipeline_run() after the
                                         * change, as flowctl does. */
    size_t flows;
    size_t n_add, n_modify, n_delete;
    struct install_result install;
};

static void
count_diff(const struct flow_table *desired, const struct flow_table *prev,
           struct step *st)
{
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);
    const struct flow_change *c;

    flow_table_diff(desired, prev, &changes);
    LIST_FOR_EACH (c, list_node, &changes) {
        switch ((int) c->command) {
        case OFPFC_ADD:
            st->n_add++;
            break;
        case OFPFC_MODIFY_STRICT:
            st->n_modify++;
            break;
        default:
            st->n_delete++;
            break;
        }
    }
    flow_changes_destroy(&changes);
}

/* Recomputes 'm' into 'desired' in full (timed, 'n_runs' times) and
 * incrementally with 'p' (timed once: a second run would find nothing to
 * do), diffs it against 'prev' (the previous table, which then becomes a
 * copy of 'desired') and, with an installer, puts it. */
static void
run_step(struct step *st, const struct model *m, struct pipeline *p,
         struct flow_table *desired, struct flow_table *prev, int n_runs,
         struct installer *in)
{
    double start = now_ms();
    pipeline_run(p, m);
    st->incremental_ms = now_ms() - start;
    time_compute(m, desired, n_runs, &st->recompute);
    st->flows = flow_table_count(desired);
    count_diff(desired, prev, st);
    flow_table_copy(prev, desired);
    if (in) {
        install(in, desired, &st->install);
    }
}

/* Returns the rule list 'old' with one more rule (from seed 'seed') at the
 * end. */
static const struct model_rules *
rules_plus_one(struct model *m, const struct model_rules *old, uint32_t seed)
{
    size_t n = old->parsed.n_netout_rules;
    struct cf_runtime rt;

    memset(&rt, 0, sizeof rt);
    rt.netout_rules = xcalloc(n, sizeof *rt.netout_rules);
    for (size_t i = 0; i < n; i++) {
        const struct cf_netout_rule *o = &old->parsed.netout_rules[i];
        struct cf_netout_rule *r = &rt.netout_rules[i];

        *r = *o;
        r->networks = xmemdup(o->networks,
                              o->n_networks * sizeof *o->networks);
        r->ports = (o->n_ports
                    ? xmemdup(o->ports, o->n_ports * sizeof *o->ports)
                    : NULL);
    }
    rt.n_netout_rules = n;
    gen_rules(&rt, seed, 1, false);
    return intern(m, &rt);
}

static void
put_step(struct ds *j, const struct step *st)
{
    ds_put_format(j, "{\"name\": \"%s\", \"what\": \"%s\", ",
                  st->name, st->what);
    put_timing(j, "recompute_ms", &st->recompute);
    ds_put_format(j, ", \"incremental_ms\": %.2f", st->incremental_ms);
    ds_put_format(j, ", \"flows\": %"PRIuSIZE", \"diff\": {\"add\": %"
                  PRIuSIZE", \"modify\": %"PRIuSIZE", \"delete\": %"PRIuSIZE
                  ", \"total\": %"PRIuSIZE"}", st->flows, st->n_add,
                  st->n_modify, st->n_delete,
                  st->n_add + st->n_modify + st->n_delete);
    if (st->install.done) {
        ds_put_format(j, ", \"install\": {\"replace\": %s, \"flow_mods\": %"
                      PRIu64", \"put_call_ms\": %.2f, \"ack_ms\": %.2f, "
                      "\"installed_flows\": %"PRIuSIZE"}",
                      st->install.replace ? "true" : "false",
                      st->install.flow_mods, st->install.put_ms,
                      st->install.ack_ms, st->install.installed);
    }
    ds_put_char(j, '}');
}

/* ---- policy scale ---- */

/* The scale targets for c2c policies: full recompute + install of
 * the whole table, the pipeline's memory, and a new container's flows
 * installed after its record appears. */
#define TARGET_PS_FULL_MS 500.0
#define TARGET_PS_RSS_KB (150 * 1024)
#define TARGET_PS_NEW_CONTAINER_MS 50.0

/* Every container's space; the ASG is a running default, so it applies to
 * every space, and this is the space the ASGs were fetched for. */
#define PS_SPACE "bench-space"

/* A generated policy, between apps 'src' and 'dst' (0-based app numbers;
 * apps 0 to n_local_apps - 1 have containers on the cell). */
struct ps_policy {
    int src, dst;
    enum cf_proto protocol;
    uint16_t port_start, port_end;
};

struct ps_shape {
    int n_containers;           /* Local containers... */
    int n_local_apps;           /* ...of this many apps, dealt out. */
    int n_apps;                 /* Apps in the foundation. */
    int n_rules;                /* Rules in the one running ASG. */
    bool fetch_all;             /* The model gets every policy, not only
                                 * those the server returns for the local
                                 * groups (a bound, not a real cell). */
};

/* App 'app''s policy group id (CF uses the app's GUID). */
static char *
ps_app_guid(int app)
{
    return xasprintf("%08"PRIx32"-7a1c-4e2b-9f3d-%012x",
                     (uint32_t) app * 2654435761u, app);
}

static uint32_t
ps_app_tag(int app)
{
    /* The server numbers policy groups 1, 2, ... as it first sees them. */
    return app + 1;
}

static const uint16_t app_ports[] = {
    8080, 8080, 8080, 8443, 9090, 3000, 5000, 7000, 8000, 9000, 6379, 5432,
};

/* Generates 'n' random policies among 'n_apps' apps (source != destination):
 * 85% tcp and 15% udp; 80% to one port (mostly an app's usual ports), 20%
 * to a range of 2 to 1,000 ports. */
static struct ps_policy *
ps_gen_policies(int n, int n_apps, uint32_t seed)
{
    struct ps_policy *ps = xcalloc(MAX(n, 1), sizeof *ps);
    uint32_t s = seed * 2654435761u + 1;

    for (int i = 0; i < n; i++) {
        struct ps_policy *p = &ps[i];
        p->src = rnd(&s) % n_apps;
        do {
            p->dst = rnd(&s) % n_apps;
        } while (p->dst == p->src);
        p->protocol = rnd(&s) % 20 < 17 ? CF_PROTO_TCP : CF_PROTO_UDP;
        uint32_t k = rnd(&s) % 10;
        if (k < 5) {
            p->port_start = app_ports[rnd(&s) % ARRAY_SIZE(app_ports)];
            p->port_end = p->port_start;
        } else if (k < 8) {
            p->port_start = p->port_end = 1024 + rnd(&s) % 60000;
        } else {
            p->port_start = 1024 + rnd(&s) % 60000;
            p->port_end = p->port_start + 1 + rnd(&s) % 999;
        }
    }
    return ps;
}

static bool
ps_is_local(const struct ps_shape *sh, int app)
{
    return app < sh->n_local_apps;
}

/* Stores in the model what the policy server answers to
 * GET .../policies?id=<the local policy groups>: the policies of 'pols'
 * with a local app at either end, with their tags.  Returns how many. */
static size_t
ps_set_policies(struct model *m, const struct ps_shape *sh,
                const struct ps_policy *pols, size_t n)
{
    struct cf_policy_list list = {
        .policies = xcalloc(MAX(n, 1), sizeof *list.policies),
    };
    for (size_t i = 0; i < n; i++) {
        const struct ps_policy *p = &pols[i];
        if (sh->fetch_all || ps_is_local(sh, p->src)
            || ps_is_local(sh, p->dst)) {
            list.policies[list.n++] = (struct cf_policy) {
                .src_id = ps_app_guid(p->src),
                .src_tag = ps_app_tag(p->src),
                .dst_id = ps_app_guid(p->dst),
                .dst_tag = ps_app_tag(p->dst),
                .protocol = p->protocol,
                .port_start = p->port_start,
                .port_end = p->port_end,
            };
        }
    }
    size_t n_fetched = list.n;

    struct sset groups = SSET_INITIALIZER(&groups);
    for (int app = 0; app < sh->n_local_apps; app++) {
        sset_add_and_free(&groups, ps_app_guid(app));
    }
    model_set_policies(m, &list, &groups);
    cf_policy_list_destroy(&list);
    sset_destroy(&groups);
    return n_fetched;
}

/* Adds local container number 'i', of app 'app', in space PS_SPACE.  Its
 * rules and tag come from model_resolve(). */
static struct model_container *
ps_add_container(struct model *m, int i, int app)
{
    struct model_container *c = add_container(m, i, NULL);
    c->policy_group_id = ps_app_guid(app);
    c->space_id = xstrdup(PS_SPACE);
    return c;
}

/* Builds the cell of 'sh' with the policies 'pols' through the model's own
 * API, as flowctl's adapters do: the policy server configured with ASG
 * syncing, one running-default ASG of sh->n_rules rules, the containers
 * (container i of app i % n_local_apps), the policies the server would
 * return, then model_resolve().  Returns how many policies the server
 * returned. */
static size_t
ps_build(struct model *m, const struct ps_shape *sh,
         const struct ps_policy *pols, size_t n_pols)
{
    model_init(m);
    make_cell(m);
    model_set_policy_config(m, true, true);

    struct cf_runtime rt;
    memset(&rt, 0, sizeof rt);
    gen_rules(&rt, 1, sh->n_rules, true);
    struct cf_asg *asg = xzalloc(sizeof *asg);
    asg->guid = xstrdup("bench-asg-guid");
    asg->name = xstrdup("bench-asg");
    asg->rules = rt.netout_rules;
    asg->n_rules = rt.n_netout_rules;
    asg->rule_index = xmalloc(MAX(asg->n_rules, 1)
                              * sizeof *asg->rule_index);
    for (size_t i = 0; i < asg->n_rules; i++) {
        asg->rule_index[i] = i;
    }
    asg->running_default = true;
    rt.netout_rules = NULL;
    rt.n_netout_rules = 0;
    cf_runtime_destroy(&rt);

    struct sset spaces = SSET_INITIALIZER(&spaces);
    sset_add(&spaces, PS_SPACE);
    model_set_asgs(m, asg, 1, &spaces);
    free(asg);
    sset_destroy(&spaces);

    for (int i = 0; i < sh->n_containers; i++) {
        ps_add_container(m, i, i % sh->n_local_apps);
    }
    size_t n_fetched = ps_set_policies(m, sh, pols, n_pols);
    model_resolve(m);
    return n_fetched;
}

/* The local containers of each app (by the model's policy group ids). */
static int
ps_app_containers(const struct model *m, const char *group)
{
    const struct model_container *c;
    int n = 0;

    HMAP_FOR_EACH (c, node, &m->containers) {
        n += c->policy_group_id && !strcmp(c->policy_group_id, group);
    }
    return n;
}

/* The flows policy 'p' makes on the cell, as pipeline.c's add_policy()
 * makes them: if its destination app has containers here, one 'ingress'
 * flow per prefix of its port range (plus one for later UDP fragments),
 * matching the app's tag however many containers it has here, and one
 * 'ct_state' flow; otherwise none. */
static size_t
ps_policy_size(const struct model *m, const struct cf_policy *p)
{
    if (!ps_app_containers(m, p->dst_id)) {
        return 0;
    }
    struct range_prefix16 pfx[32];
    size_t n_pfx = range_to_prefixes16(p->port_start, p->port_end, pfx);
    return n_pfx + (p->protocol == CF_PROTO_UDP) + 1;
}

/* The cell's state for the steps: what flowctl holds.  The recompute after
 * a change is step_recompute(). */
struct ps_state {
    struct model m;
    struct ps_shape shape;
    struct ps_policy *pols;             /* Every policy of the foundation. */
    size_t n_pols;
    struct pipeline *pipeline;          /* flowctl's incremental state. */
    struct flow_table desired;          /* A copy of its last result. */
    struct flow_table prev;             /* The one before. */
    struct installer *in;               /* NULL: no switch. */
};

/* Brings the desired flows up to date with the model after a change, as
 * flowctl does: pipeline_run() on the pipeline kept in 'st', which
 * recomputes only the units that changed (pipeline.h).  Returns the time
 * that took, in ms.  Then copies the result into 'st->desired' for the
 * benchmark's own diff (untimed: flowctl puts pipeline_flows() itself). */
static double
step_recompute(struct ps_state *st)
{
    double start = now_ms();
    pipeline_run(st->pipeline, &st->m);
    double ms = now_ms() - start;

    flow_table_copy(&st->desired, pipeline_flows(st->pipeline));
    return ms;
}

/* One trial of a step: a change to the model, then step_recompute(), the
 * diff against the previous table and, with a switch, the put to its
 * acknowledgement. */
struct ps_trial {
    double change_ms;           /* The model's change and model_resolve(). */
    double recompute_ms;
    double put_ms;              /* ofctrl_put() itself: its diff against
                                 * the installed table, encoding. */
    double ack_ms;              /* ofctrl_put() to the ack; 0: no switch. */
    double total_ms;            /* From the change to the ack (without a
                                 * switch: to the end of the recompute). */
    size_t policy_size;         /* Flows of the added policy, if any... */
    size_t retagged;            /* ...and local containers of its apps
                                 * that it gave their first tag (each
                                 * one classify flow modified). */
    struct step diff;           /* Adds, modifies, deletes; install. */
};

/* Finishes trial 't' after the change to 'st->m' that started at
 * 'start'. */
static void
ps_finish_trial(struct ps_state *st, struct ps_trial *t, double start)
{
    t->change_ms = now_ms() - start;
    t->recompute_ms = step_recompute(st);
    double done = start + t->change_ms + t->recompute_ms;

    /* The diff and the copy are the benchmark's, not flowctl's, so they
     * are not timed (ofctrl_put() makes its own diff, and that is). */
    t->diff.flows = flow_table_count(&st->desired);
    count_diff(&st->desired, &st->prev, &t->diff);
    flow_table_copy(&st->prev, &st->desired);
    if (st->in) {
        install(st->in, &st->desired, &t->diff.install);
        t->put_ms = t->diff.install.put_ms;
        t->ack_ms = t->diff.install.ack_ms;
    }
    t->total_ms = done - start + t->ack_ms;
}

/* The local containers of the apps with policy group ids 'a' and 'b'
 * that have a tag. */
static size_t
ps_tagged(const struct model *m, const char *a, const char *b)
{
    const struct model_container *c;
    size_t n = 0;

    HMAP_FOR_EACH (c, node, &m->containers) {
        n += (c->tag && c->policy_group_id
              && (!strcmp(c->policy_group_id, a)
                  || !strcmp(c->policy_group_id, b)));
    }
    return n;
}

/* Step (a), trial 'i': a policy from an app with no container here to
 * local app 'dst', on a port no other policy uses.  Its own size, the
 * bound for the diff, is its flows plus one classify flow per container of
 * its apps that it gives a tag (an app in no policy before has none). */
static void
ps_add_policy(struct ps_state *st, int i, int dst, struct ps_trial *t)
{
    const struct ps_shape *sh = &st->shape;

    st->pols = xrealloc(st->pols, (st->n_pols + 1) * sizeof *st->pols);
    st->pols[st->n_pols++] = (struct ps_policy) {
        .src = sh->n_apps - 1 - i,
        .dst = dst,
        .protocol = CF_PROTO_TCP,
        .port_start = 4000 + i,
        .port_end = 4000 + i,
    };
    struct cf_policy p = {
        .src_id = ps_app_guid(sh->n_apps - 1 - i),
        .dst_id = ps_app_guid(dst),
        .protocol = CF_PROTO_TCP,
        .port_start = 4000 + i,
        .port_end = 4000 + i,
    };

    size_t tagged = ps_tagged(&st->m, p.src_id, p.dst_id);
    double start = now_ms();
    ps_set_policies(&st->m, sh, st->pols, st->n_pols);
    model_resolve(&st->m);
    ps_finish_trial(st, t, start);
    t->retagged = ps_tagged(&st->m, p.src_id, p.dst_id) - tagged;
    t->policy_size = ps_policy_size(&st->m, &p);
    free(p.src_id);
    free(p.dst_id);
}

/* Step (b), trial 'i': a new container, number 'index', of local app
 * 'app', appears. */
static void
ps_new_container(struct ps_state *st, int index, int app, struct ps_trial *t)
{
    double start = now_ms();
    ps_add_container(&st->m, index, app);
    model_resolve(&st->m);
    ps_finish_trial(st, t, start);
}

static double
median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median over the 'n' trials 't' of their double member at
 * 'offset'. */
static double
trials_median(const struct ps_trial *t, size_t n, size_t offset)
{
    double *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = *(const double *) ((const char *) &t[i] + offset);
    }
    double median = median_of(v, n);
    free(v);
    return median;
}

/* Writes the trials of a step, and their medians, as JSON members. */
static void
put_trials(struct ds *j, const struct ps_trial *t, size_t n, bool policy)
{
#define PUT_MEDIAN(MEMBER)                                              \
    ds_put_format(j, "\"" #MEMBER "_median\": %.2f, ",                   \
                  trials_median(t, n, offsetof(struct ps_trial, MEMBER)));
    PUT_MEDIAN(change_ms);
    PUT_MEDIAN(recompute_ms);
    PUT_MEDIAN(put_ms);
    PUT_MEDIAN(ack_ms);
    PUT_MEDIAN(total_ms);
#undef PUT_MEDIAN

    bool bounded = true;
    size_t max_total = 0;
    ds_put_cstr(j, "\"trials\": [");
    for (size_t i = 0; i < n; i++) {
        const struct step *d = &t[i].diff;
        size_t total = d->n_add + d->n_modify + d->n_delete;
        max_total = MAX(max_total, total);
        bounded = bounded && total <= t[i].policy_size + t[i].retagged;
        ds_put_format(j, "%s{\"change_ms\": %.2f, \"recompute_ms\": %.2f, "
                      "\"put_ms\": %.2f, \"ack_ms\": %.2f, "
                      "\"total_ms\": %.2f, "
                      "\"flows\": %"PRIuSIZE", \"diff\": {\"add\": %"
                      PRIuSIZE", \"modify\": %"PRIuSIZE", \"delete\": %"
                      PRIuSIZE", \"total\": %"PRIuSIZE"}",
                      i ? ", " : "", t[i].change_ms, t[i].recompute_ms,
                      t[i].put_ms, t[i].ack_ms, t[i].total_ms, d->flows,
                      d->n_add, d->n_modify, d->n_delete, total);
        if (policy) {
            ds_put_format(j, ", \"policy_flows\": %"PRIuSIZE", "
                          "\"retagged_containers\": %"PRIuSIZE", "
                          "\"bound\": %"PRIuSIZE, t[i].policy_size,
                          t[i].retagged, t[i].policy_size + t[i].retagged);
        }
        if (d->install.done) {
            ds_put_format(j, ", \"flow_mods\": %"PRIu64,
                          d->install.flow_mods);
        }
        ds_put_char(j, '}');
    }
    ds_put_format(j, "], \"max_diff\": %"PRIuSIZE, max_total);
    if (policy) {
        ds_put_format(j, ", \"diff_bounded_by_policy\": %s",
                      bounded ? "true" : "false");
    }
}

/* The flow count and recompute time of a cell of shape 'sh' with the first
 * 'n_pols' policies of 'pols'. */
static void
ps_measure_shape(const struct ps_shape *sh, const struct ps_policy *pols,
                 size_t n_pols, int n_runs, struct timing *t, size_t *flows)
{
    struct model m;
    struct flow_table table;

    ps_build(&m, sh, pols, n_pols);
    flow_table_init(&table);
    time_compute(&m, &table, n_runs, t);
    *flows = flow_table_count(&table);
    flow_table_destroy(&table);
    model_destroy(&m);
}

static long
max_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Appends policy 'p' to 'j' as the policy server's internal API writes it
 * (cf-networking.md 5.2), tags as uppercase hex of 2 bytes. */
static void
ps_put_policy(struct ds *j, const char *src_id, uint32_t src_tag,
              const char *dst_id, uint32_t dst_tag, enum cf_proto protocol,
              uint16_t port_start, uint16_t port_end)
{
    ds_put_format(j, "{\"source\": {\"id\": \"%s\", \"tag\": \"%04"PRIX32
                  "\"}, \"destination\": {\"id\": \"%s\", \"tag\": \"%04"
                  PRIX32"\", \"protocol\": \"%s\", \"ports\": {\"start\": %"
                  PRIu16", \"end\": %"PRIu16"}}}",
                  src_id, src_tag, dst_id, dst_tag,
                  protocol == CF_PROTO_UDP ? "udp" : "tcp",
                  port_start, port_end);
}

/* --dump-cell: writes to 'file' the cell of 'st' as silk's agents would
 * see it, for the reference's side of bench/policy-matrix: "store", the
 * container-metadata store (cf-networking.md 5.6) of the local
 * containers; "policies", the policy server's answer to the local
 * groups' policies?id= (what the model holds); "asg", the running ASG as
 * Garden's netOutRules; "added", the policies step (a) adds, one per
 * trial, in order.  Not timed. */
static void
ps_dump_cell(const struct ps_state *st, int n_trials, const char *file)
{
    const struct ps_shape *sh = &st->shape;
    struct ds j = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&j, "{\"store\": {");
    for (int i = 0; i < sh->n_containers; i++) {
        char *guid = ps_app_guid(i % sh->n_local_apps);
        ovs_be32 ip = htonl(st->m.cell.subnet.addr + 2 + i);
        ds_put_format(&j, "%s\"bench-%d\": {\"handle\": \"bench-%d\", "
                      "\"ip\": \""IP_FMT"\", \"metadata\": "
                      "{\"policy_group_id\": \"%s\", \"space_id\": \"%s\", "
                      "\"container_workload\": \"app\"}}",
                      i ? ", " : "", i, i, IP_ARGS(ip), guid, PS_SPACE);
        free(guid);
    }
    ds_put_format(&j, "}, \"policies\": {\"total_policies\": %"PRIuSIZE
                  ", \"policies\": [", st->m.policy.n_policies);
    for (size_t i = 0; i < st->m.policy.n_policies; i++) {
        const struct cf_policy *p = &st->m.policy.policies[i];
        ds_put_cstr(&j, i ? ", " : "");
        ps_put_policy(&j, p->src_id, p->src_tag, p->dst_id, p->dst_tag,
                      p->protocol, p->port_start, p->port_end);
    }
    ds_put_cstr(&j, "]}, \"added\": [");
    for (int i = 0; i < n_trials; i++) {
        /* As ps_add_policy() makes them. */
        int src = sh->n_apps - 1 - i, dst = i % sh->n_local_apps;
        char *src_id = ps_app_guid(src), *dst_id = ps_app_guid(dst);
        ds_put_cstr(&j, i ? ", " : "");
        ps_put_policy(&j, src_id, ps_app_tag(src), dst_id, ps_app_tag(dst),
                      CF_PROTO_TCP, 4000 + i, 4000 + i);
        free(src_id);
        free(dst_id);
    }
    struct cf_runtime rt;
    memset(&rt, 0, sizeof rt);
    gen_rules(&rt, 1, sh->n_rules, true);       /* As ps_build(). */
    char *asg = cf_netout_rules_to_json(&rt);
    cf_runtime_destroy(&rt);
    ds_put_format(&j, "], \"asg\": %s}\n", asg);
    free(asg);

    FILE *f = fopen(file, "w");
    if (!f || fputs(ds_cstr(&j), f) == EOF || fclose(f)) {
        ovs_fatal(errno, "%s: write failed", file);
    }
    ds_destroy(&j);
}

/* The policy-scale phase (--policies): prints {"policy_scale": {...}} on
 * stdout and a summary on stderr. */
static void
run_policy_scale(const struct options *o)
{
    struct ps_state st;
    const struct ps_shape *sh = &st.shape;

    memset(&st, 0, sizeof st);
    st.shape = (struct ps_shape) {
        .n_containers = o->n_containers,
        .n_local_apps = o->n_local_apps,
        .n_apps = o->n_apps,
        .n_rules = o->n_rules,
        .fetch_all = o->fetch_all,
    };
    st.n_pols = o->n_policies;
    st.pols = ps_gen_policies(o->n_policies, o->n_apps, 11);

    /* The cell, through the model's API. */
    double start = now_ms();
    size_t n_fetched = ps_build(&st.m, sh, st.pols, st.n_pols);
    double build_ms = now_ms() - start;
    size_t n_in_model = st.m.policy.n_policies;
    if (o->dump_cell) {
        ps_dump_cell(&st, o->n_runs, o->dump_cell);
    }

    /* The full recompute. */
    flow_table_init(&st.desired);
    flow_table_init(&st.prev);
    struct timing full;
    struct table_stats full_st;
    time_compute(&st.m, &st.desired, o->n_runs, &full);
    table_stats(&st.desired, &full_st);
    flow_table_copy(&st.prev, &st.desired);
    st.pipeline = pipeline_create();
    pipeline_run(st.pipeline, &st.m);       /* The state the steps change. */

    /* The policies' flows: counted by cookie, and predicted policy by
     * policy. */
    size_t policy_flows = 0, c2c_flows = 0;
    const struct flow_entry *f;
    HMAP_FOR_EACH (f, node, &st.desired.flows) {
        policy_flows += f->cookie >> 56 == PIPELINE_CK_POLICY;
        c2c_flows += f->cookie >> 56 == PIPELINE_CK_C2C;
    }
    size_t n_with_flows = 0, predicted = 0, max_size = 0, n_ranges = 0;
    size_t n_prefixes = 0;
    int busiest = 0;
    size_t busiest_in = 0;
    size_t *in_count = xcalloc(sh->n_local_apps, sizeof *in_count);
    for (size_t i = 0; i < n_in_model; i++) {
        const struct cf_policy *p = &st.m.policy.policies[i];
        size_t size = ps_policy_size(&st.m, p);
        if (size) {
            struct range_prefix16 pfx[32];
            n_with_flows++;
            predicted += size;
            max_size = MAX(max_size, size);
            n_ranges += p->port_start != p->port_end;
            n_prefixes += range_to_prefixes16(p->port_start, p->port_end,
                                              pfx);
        }
    }
    for (size_t i = 0; i < st.n_pols; i++) {
        if (ps_is_local(sh, st.pols[i].dst)
            && ++in_count[st.pols[i].dst] > busiest_in) {
            busiest = st.pols[i].dst;
            busiest_in = in_count[busiest];
        }
    }
    free(in_count);

    /* The full table into the switch. */
    struct installer inst;
    double connect_ms = 0;
    struct step full_install;
    memset(&full_install, 0, sizeof full_install);
    if (o->target) {
        st.in = &inst;
        connect_ms = installer_connect(&inst, o);
        install(&inst, &st.desired, &full_install.install);
    }
    long rss_kb = max_rss_kb();
    double full_total_ms = full.median_ms + full_install.install.ack_ms;

    /* Steps (a) and (b), --runs trials each. */
    int n_trials = o->n_runs;
    struct ps_trial *add_pol = xcalloc(n_trials, sizeof *add_pol);
    struct ps_trial *add_c = xcalloc(n_trials, sizeof *add_c);
    for (int i = 0; i < n_trials; i++) {
        ps_add_policy(&st, i, i % sh->n_local_apps, &add_pol[i]);
    }
    for (int i = 0; i < n_trials; i++) {
        ps_new_container(&st, sh->n_containers + i, busiest, &add_c[i]);
    }
    double new_container_ms = trials_median(add_c, n_trials,
                                            offsetof(struct ps_trial,
                                                     total_ms));

    /* Growth: half the containers (one per app), half the policies. */
    struct ps_shape half_c = *sh;
    half_c.n_containers = sh->n_containers / 2;
    if (half_c.n_containers < half_c.n_local_apps) {
        half_c.n_local_apps = half_c.n_containers;
    }
    struct timing t_hc, t_hp;
    size_t f_hc, f_hp;
    ps_measure_shape(&half_c, st.pols, o->n_policies, o->n_runs, &t_hc,
                     &f_hc);
    ps_measure_shape(sh, st.pols, o->n_policies / 2, o->n_runs, &t_hp,
                     &f_hp);
    double per_container = (((double) full_st.flows - f_hc)
                            / (sh->n_containers - half_c.n_containers));
    double per_policy = (((double) full_st.flows - f_hp)
                         / (o->n_policies - o->n_policies / 2));

    bool full_met = o->target && full_total_ms <= TARGET_PS_FULL_MS;
    bool rss_met = rss_kb <= TARGET_PS_RSS_KB;
    bool new_c_met = (o->target
                      && new_container_ms <= TARGET_PS_NEW_CONTAINER_MS);

    struct ds j = DS_EMPTY_INITIALIZER;
    ds_put_format(&j, "{\"policy_scale\": {\"policies\": %d, \"apps\": %d, "
                  "\"local_apps\": %d, \"containers\": %d, "
                  "\"fetch_all\": %s, "
                  "\"asg_rules\": %d, \"runs\": %d, "
                  "\"policies_fetched\": %"PRIuSIZE", "
                  "\"policies_in_model\": %"PRIuSIZE", "
                  "\"policies_with_flows\": %"PRIuSIZE", "
                  "\"model_build_ms\": %.2f, \"full\": {",
                  o->n_policies, sh->n_apps, sh->n_local_apps,
                  sh->n_containers, sh->fetch_all ? "true" : "false",
                  sh->n_rules, o->n_runs, n_fetched,
                  n_in_model, n_with_flows, build_ms);
    put_timing(&j, "recompute_ms", &full);
    ds_put_cstr(&j, ", ");
    put_table_stats(&j, &full_st);
    ds_put_format(&j, ", \"policy_flows\": %"PRIuSIZE", \"c2c_flows\": %"
                  PRIuSIZE"}, ", policy_flows, c2c_flows);
    ds_put_format(&j, "\"per_policy\": {\"flows\": %"PRIuSIZE
                  ", \"predicted\": %"PRIuSIZE", \"mean\": %.2f, "
                  "\"max\": %"PRIuSIZE", \"ranges\": %"PRIuSIZE
                  ", \"mean_port_prefixes\": %.2f, "
                  "\"containers_per_local_app\": %.2f}, ",
                  policy_flows, predicted,
                  n_with_flows ? (double) policy_flows / n_with_flows : 0,
                  max_size, n_ranges,
                  n_with_flows ? (double) n_prefixes / n_with_flows : 0,
                  (double) sh->n_containers / sh->n_local_apps);
    ds_put_format(&j, "\"scaling\": {\"shapes\": ["
                  "{\"containers\": %d, \"local_apps\": %d, \"policies\": %d,"
                  " \"flows\": %"PRIuSIZE", \"recompute_ms\": %.2f}, "
                  "{\"containers\": %d, \"local_apps\": %d, \"policies\": %d,"
                  " \"flows\": %"PRIuSIZE", \"recompute_ms\": %.2f}, "
                  "{\"containers\": %d, \"local_apps\": %d, \"policies\": %d,"
                  " \"flows\": %"PRIuSIZE", \"recompute_ms\": %.2f}], "
                  "\"flows_per_container\": %.2f, "
                  "\"flows_per_policy\": %.3f}, ",
                  sh->n_containers, sh->n_local_apps, o->n_policies,
                  full_st.flows, full.median_ms,
                  half_c.n_containers, half_c.n_local_apps, o->n_policies,
                  f_hc, t_hc.median_ms,
                  sh->n_containers, sh->n_local_apps, o->n_policies / 2,
                  f_hp, t_hp.median_ms, per_container, per_policy);
    if (st.in) {
        ds_put_format(&j, "\"install\": {\"target\": \"%s\", "
                      "\"connect_ms\": %.2f, \"full_ack_ms\": %.2f, "
                      "\"full_flow_mods\": %"PRIu64", "
                      "\"installed_flows\": %"PRIuSIZE", "
                      "\"final_installed_flows\": %"PRIuSIZE"}, ",
                      o->target, connect_ms, full_install.install.ack_ms,
                      full_install.install.flow_mods,
                      full_install.install.installed,
                      add_c[n_trials - 1].diff.install.installed);
    } else {
        ds_put_cstr(&j, "\"install\": null, ");
    }
    ds_put_format(&j, "\"full_recompute_plus_install_ms\": %.2f, "
                  "\"max_rss_kb\": %ld, ", full_total_ms, rss_kb);
    ds_put_format(&j, "\"add_policy\": {\"what\": \"one policy from an app "
                  "with no container here to a local app\", ");
    put_trials(&j, add_pol, n_trials, true);
    ds_put_format(&j, "}, \"new_container\": {\"what\": \"a new container "
                  "of the local app with the most incoming policies\", "
                  "\"app_incoming_policies\": %"PRIuSIZE", "
                  "\"app_containers_before\": %d, ",
                  busiest_in, sh->n_containers / sh->n_local_apps);
    put_trials(&j, add_c, n_trials, false);
    ds_put_format(&j, "}, \"targets\": {\"full_ms\": %.0f, \"rss_kb\": %d, "
                  "\"new_container_ms\": %.0f}, \"target_met\": "
                  "{\"full\": %s, \"rss\": %s, \"new_container\": %s}, "
                  "\"final_max_rss_kb\": %ld}}\n",
                  TARGET_PS_FULL_MS, TARGET_PS_RSS_KB,
                  TARGET_PS_NEW_CONTAINER_MS,
                  o->target ? (full_met ? "true" : "false") : "null",
                  rss_met ? "true" : "false",
                  o->target ? (new_c_met ? "true" : "false") : "null",
                  max_rss_kb());
    fputs(ds_cstr(&j), stdout);
    fflush(stdout);

    /* The summary. */
    fprintf(stderr,
            "pipeline-bench policy scale: %d policies among %d apps, %d "
            "local containers of %d apps, %d-rule ASG\n"
            "  policies         %"PRIuSIZE" fetched (%s), %"PRIuSIZE
            " in the model, %"PRIuSIZE" with flows here\n"
            "  full recompute   %8.2f ms median (min %.2f, max %.2f, first "
            "%.2f); model built in %.1f ms\n"
            "  flows            %8"PRIuSIZE"  (%"PRIuSIZE" of policies, "
            "%.2f per policy with flows; predicted %"PRIuSIZE")\n"
            "  growth           %.2f flows per container, %.3f per "
            "policy of the foundation\n"
            "  max RSS          %8ld kB  %s (target %d kB)\n",
            o->n_policies, sh->n_apps, sh->n_containers, sh->n_local_apps,
            sh->n_rules, n_fetched,
            sh->fetch_all ? "--fetch-all: every one"
                          : "a local app at either end",
            n_in_model, n_with_flows,
            full.median_ms, full.min_ms, full.max_ms, full.first_ms,
            build_ms, full_st.flows, policy_flows,
            n_with_flows ? (double) policy_flows / n_with_flows : 0,
            predicted, per_container, per_policy, rss_kb,
            rss_met ? "PASS" : "MISS", TARGET_PS_RSS_KB);
    if (st.in) {
        fprintf(stderr,
                "  install (full)   %8.2f ms to the ack (%"PRIu64
                " flow_mods); recompute + install %.2f ms  %s (target "
                "%.0f ms)\n", full_install.install.ack_ms,
                full_install.install.flow_mods, full_total_ms,
                full_met ? "PASS" : "MISS", TARGET_PS_FULL_MS);
    }
    for (int i = 0; i < 2; i++) {
        const struct ps_trial *t = i ? add_c : add_pol;
        fprintf(stderr, "  %-16s", i ? "new container" : "add policy");
        for (int k = 0; k < n_trials; k++) {
            const struct step *d = &t[k].diff;
            fprintf(stderr, "%s+%"PRIuSIZE"~%"PRIuSIZE"-%"PRIuSIZE,
                    k ? " " : " diffs ", d->n_add, d->n_modify, d->n_delete);
            if (!i) {
                fprintf(stderr, "/%"PRIuSIZE,
                        t[k].policy_size + t[k].retagged);
            }
        }
        fprintf(stderr, "; recompute %.2f ms, ",
                trials_median(t, n_trials,
                              offsetof(struct ps_trial, recompute_ms)));
        if (st.in) {
            fprintf(stderr, "put call %.2f ms, ",
                    trials_median(t, n_trials,
                                  offsetof(struct ps_trial, put_ms)));
        }
        fprintf(stderr, "%s %.2f ms (medians)",
                st.in ? "change to ack" : "change to flows",
                trials_median(t, n_trials,
                              offsetof(struct ps_trial, total_ms)));
        if (i && st.in) {
            fprintf(stderr, "  %s (target %.0f ms)",
                    new_c_met ? "PASS" : "MISS", TARGET_PS_NEW_CONTAINER_MS);
        }
        fputc('\n', stderr);
    }

    free(add_pol);
    free(add_c);
    if (st.in) {
        ofctrl_destroy(st.in->of);
    }
    pipeline_destroy(st.pipeline);
    flow_table_destroy(&st.desired);
    flow_table_destroy(&st.prev);
    model_destroy(&st.m);
    free(st.pols);
    ds_destroy(&j);
}

/* ---- main ---- */

static void
usage(void)
{
    printf("usage: %s [OPTIONS]\n"
           "Times flowctl's pipeline_compute() for a cell of N containers\n"
           "sharing an R-rule ASG (and split into K spaces), and with\n"
           "--target installs the table with ofctrl.\n"
           "  --containers=N   containers (default 250)\n"
           "  --rules=R        rules per ASG (default 1000)\n"
           "  --spaces=K       spaces for the split variant (default 10)\n"
           "  --runs=M         computes per measurement (default 7)\n"
           "  --target=TARGET  OpenFlow target, e.g. unix:RUNDIR/br.mgmt\n"
           "  --timeout=SECS   give up waiting for the switch (default 120)\n"
           "  --profile[=K]    only recompute the full model --runs times\n"
           "                   (with K: in K distinct spaces), for perf\n"
           "  --dump-flows=FILE  with --profile, write the table to FILE\n"
           "                   (sorted, ovs-ofctl syntax)\n"
           "  --policies=P     only the policy-scale phase: P c2c policies\n"
           "                   among the apps, the N containers of the\n"
           "                   local apps, one R-rule running ASG\n"
           "  --apps=A         apps of the foundation (default 2000)\n"
           "  --local-apps=L   apps with containers here (default 125)\n"
           "  --fetch-all      give the model every policy, not only\n"
           "                   those of the local apps (a bound)\n"
           "  --dump-cell=FILE with --policies, write the cell as silk's\n"
           "                   agents see it (bench/policy-matrix)\n"
           "JSON on stdout, a summary on stderr.\n", program_name);
    exit(0);
}

static int
parse_int(const char *name, const char *s, int min)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*end || v < min || v > 1000000) {
        ovs_fatal(0, "bad --%s: %s", name, s);
    }
    return v;
}

static void
parse_options(int argc, char *argv[], struct options *o)
{
    enum {
        OPT_CONTAINERS = UCHAR_MAX + 1, OPT_RULES, OPT_SPACES, OPT_RUNS,
        OPT_TARGET, OPT_TIMEOUT, OPT_PROFILE, OPT_DUMP, OPT_POLICIES,
        OPT_APPS, OPT_LOCAL_APPS, OPT_FETCH_ALL, OPT_DUMP_CELL,
    };
    static const struct option long_options[] = {
        {"containers", required_argument, NULL, OPT_CONTAINERS},
        {"rules", required_argument, NULL, OPT_RULES},
        {"spaces", required_argument, NULL, OPT_SPACES},
        {"runs", required_argument, NULL, OPT_RUNS},
        {"target", required_argument, NULL, OPT_TARGET},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"profile", optional_argument, NULL, OPT_PROFILE},
        {"dump-flows", required_argument, NULL, OPT_DUMP},
        {"policies", required_argument, NULL, OPT_POLICIES},
        {"apps", required_argument, NULL, OPT_APPS},
        {"local-apps", required_argument, NULL, OPT_LOCAL_APPS},
        {"fetch-all", no_argument, NULL, OPT_FETCH_ALL},
        {"dump-cell", required_argument, NULL, OPT_DUMP_CELL},
        {"verbose", optional_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    *o = (struct options) {
        .n_containers = 250,
        .n_rules = 1000,
        .n_spaces = 10,
        .n_runs = 7,
        .timeout_ms = 120 * 1000,
        .n_apps = 2000,
        .n_local_apps = 125,
    };
    for (;;) {
        int c = getopt_long(argc, argv, "v::h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_CONTAINERS:
            o->n_containers = parse_int("containers", optarg, 2);
            break;
        case OPT_RULES:
            o->n_rules = parse_int("rules", optarg, 2);
            break;
        case OPT_SPACES:
            o->n_spaces = parse_int("spaces", optarg, 1);
            break;
        case OPT_RUNS:
            o->n_runs = parse_int("runs", optarg, 1);
            break;
        case OPT_TARGET:
            o->target = optarg;
            break;
        case OPT_TIMEOUT:
            o->timeout_ms = parse_int("timeout", optarg, 1) * 1000LL;
            break;
        case OPT_PROFILE:
            o->profile_spaces = optarg ? parse_int("profile", optarg, 1) : 1;
            break;
        case OPT_DUMP:
            o->dump_file = optarg;
            break;
        case OPT_POLICIES:
            o->n_policies = parse_int("policies", optarg, 2);
            break;
        case OPT_APPS:
            o->n_apps = parse_int("apps", optarg, 2);
            break;
        case OPT_LOCAL_APPS:
            o->n_local_apps = parse_int("local-apps", optarg, 1);
            break;
        case OPT_FETCH_ALL:
            o->fetch_all = true;
            break;
        case OPT_DUMP_CELL:
            o->dump_cell = optarg;
            break;
        case 'v':
            vlog_set_verbosity(optarg);
            break;
        case 'h':
            usage();
            break;
        default:
            exit(2);
        }
    }
    if (optind != argc) {
        ovs_fatal(0, "no arguments expected (--help for help)");
    }
    /* Containers live in a /22 (ofports 2.., addresses .2..). */
    if (o->n_containers > 1000) {
        ovs_fatal(0, "at most 1000 containers");
    }
    if (o->n_spaces > o->n_containers) {
        o->n_spaces = o->n_containers;
    }
    if (o->n_policies) {
        /* The steps add --runs containers, and policies from apps with no
         * container here, numbered down from the last app. */
        if (o->n_containers + o->n_runs > 1000) {
            ovs_fatal(0, "--containers plus --runs: at most 1000");
        }
        if (o->n_local_apps > o->n_containers) {
            ovs_fatal(0, "--local-apps (%d) exceeds --containers (%d)",
                      o->n_local_apps, o->n_containers);
        }
        if (o->n_apps < o->n_local_apps + o->n_runs) {
            ovs_fatal(0, "--apps must exceed --local-apps by --runs at "
                      "least");
        }
    }
}

int
main(int argc, char *argv[])
{
    struct options o;

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    parse_options(argc, argv, &o);

    if (o.n_policies) {
        run_policy_scale(&o);
        return 0;
    }
    int n = o.n_containers, r = o.n_rules;
    if (o.profile_spaces) {
        struct timing t;
        struct table_stats st;
        measure_shape(n, r, o.profile_spaces, SPACES_DISTINCT, o.n_runs, &t,
                      &st, o.dump_file);
        fprintf(stderr, "%"PRIuSIZE" flows, recompute %.2f ms median\n",
                st.flows, t.median_ms);
        return 0;
    }
    int hn = n / 2, hr = r / 2;
    struct ds j = DS_EMPTY_INITIALIZER;

    ds_put_format(&j, "{\"containers\": %d, \"rules\": %d, \"spaces\": %d, "
                  "\"runs\": %d, \"target_recompute_ms\": %.0f, ",
                  n, r, o.n_spaces, o.n_runs, TARGET_RECOMPUTE_MS);

    /* Building the model: parsing every distinct rule list once. */
    struct model m;
    double start = now_ms();
    build_model(&m, n, r, 1, SPACES_DISTINCT);
    double build_ms = now_ms() - start;

    /* The full recompute. */
    struct flow_table desired, prev;
    flow_table_init(&desired);
    flow_table_init(&prev);
    struct timing full;
    struct table_stats full_st;
    time_compute(&m, &desired, o.n_runs, &full);
    table_stats(&desired, &full_st);
    bool met = full.median_ms <= TARGET_RECOMPUTE_MS;

    ds_put_format(&j, "\"model_build_ms\": %.2f, \"full\": {", build_ms);
    put_timing(&j, "recompute_ms", &full);
    ds_put_cstr(&j, ", ");
    put_table_stats(&j, &full_st);
    ds_put_format(&j, "}, \"target_met\": %s, ", met ? "true" : "false");

    /* Growth: flows for half the containers and half the rules. */
    struct timing t_hn, t_hr, t_hh;
    struct table_stats s_hn, s_hr, s_hh;
    measure_shape(hn, r, 1, SPACES_DISTINCT, o.n_runs, &t_hn, &s_hn, NULL);
    measure_shape(n, hr, 1, SPACES_DISTINCT, o.n_runs, &t_hr, &s_hr, NULL);
    measure_shape(hn, hr, 1, SPACES_DISTINCT, o.n_runs, &t_hh, &s_hh, NULL);
    double per_container = ((double) full_st.flows - s_hn.flows) / (n - hn);
    double per_rule = ((double) full_st.flows - s_hr.flows) / (r - hr);
    double fixed = full_st.flows - per_container * n - per_rule * r;
    double predicted = fixed + per_container * hn + per_rule * hr;
    ds_put_format(&j, "\"scaling\": {\"shapes\": ["
                  "{\"containers\": %d, \"rules\": %d, \"flows\": %"PRIuSIZE
                  ", \"recompute_ms\": %.2f}, "
                  "{\"containers\": %d, \"rules\": %d, \"flows\": %"PRIuSIZE
                  ", \"recompute_ms\": %.2f}, "
                  "{\"containers\": %d, \"rules\": %d, \"flows\": %"PRIuSIZE
                  ", \"recompute_ms\": %.2f}, "
                  "{\"containers\": %d, \"rules\": %d, \"flows\": %"PRIuSIZE
                  ", \"recompute_ms\": %.2f}], "
                  "\"flows_per_container\": %.2f, \"flows_per_rule\": %.2f, "
                  "\"fixed_flows\": %.1f, "
                  "\"half_half_predicted\": %.1f, \"half_half_actual\": %"
                  PRIuSIZE", \"additive\": %s}, ",
                  n, r, full_st.flows, full.median_ms,
                  hn, r, s_hn.flows, t_hn.median_ms,
                  n, hr, s_hr.flows, t_hr.median_ms,
                  hn, hr, s_hh.flows, t_hh.median_ms,
                  per_container, per_rule, fixed, predicted, s_hh.flows,
                  (predicted - s_hh.flows < 0.5
                   && s_hh.flows - predicted < 0.5) ? "true" : "false");

    /* Spaces. */
    struct timing t_sd, t_sp;
    struct table_stats s_sd, s_sp;
    measure_shape(n, r, o.n_spaces, SPACES_DISTINCT, o.n_runs, &t_sd,
                  &s_sd, NULL);
    measure_shape(n, r, o.n_spaces, SPACES_PLATFORM, o.n_runs, &t_sp,
                  &s_sp, NULL);
    ds_put_format(&j, "\"spaces_distinct\": {\"spaces\": %d, "
                  "\"distinct_rules\": %d, ", o.n_spaces, o.n_spaces * r);
    put_timing(&j, "recompute_ms", &t_sd);
    ds_put_cstr(&j, ", ");
    put_table_stats(&j, &s_sd);
    ds_put_format(&j, "}, \"spaces_platform\": {\"spaces\": %d, "
                  "\"distinct_rules\": %d, ", o.n_spaces,
                  r + (o.n_spaces - 1) * (r / 10));
    put_timing(&j, "recompute_ms", &t_sp);
    ds_put_cstr(&j, ", ");
    put_table_stats(&j, &s_sp);
    ds_put_cstr(&j, "}, ");

    /* Steps, against the switch if there is one. */
    struct installer inst, *in = NULL;
    double connect_ms = 0;
    if (o.target) {
        connect_ms = installer_connect(&inst, &o);
        in = &inst;
    }

    struct pipeline *p = pipeline_create();
    struct step steps[4];
    memset(steps, 0, sizeof steps);
    steps[0].name = "full";
    steps[0].what = "the whole table (with a switch: replaces all flows)";
    run_step(&steps[0], &m, p, &desired, &prev, o.n_runs, in);

    struct model_container *c = model_find_container(&m, 2 + n / 3);
    c->netout = rules_plus_one(&m, c->netout, 7);
    steps[1].name = "one_container_rules";
    steps[1].what = "one container's rules change (one rule more)";
    run_step(&steps[1], &m, p, &desired, &prev, o.n_runs, in);

    const struct model_rules *shared = model_find_container(&m, 2)->netout;
    add_container(&m, n, shared);
    steps[2].name = "add_container";
    steps[2].what = "one container added, shared rules";
    run_step(&steps[2], &m, p, &desired, &prev, o.n_runs, in);

    const struct model_rules *updated = rules_plus_one(&m, shared, 9);
    struct model_container *mc;
    HMAP_FOR_EACH (mc, node, &m.containers) {
        if (mc->netout == shared) {
            mc->netout = updated;
        }
    }
    model_gc_rules(&m);
    steps[3].name = "asg_update_all";
    steps[3].what = "the shared rules change for every container";
    run_step(&steps[3], &m, p, &desired, &prev, o.n_runs, in);

    ds_put_cstr(&j, "\"steps\": [");
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        if (i) {
            ds_put_cstr(&j, ", ");
        }
        put_step(&j, &steps[i]);
    }
    ds_put_cstr(&j, "]");
    if (in) {
        ds_put_format(&j, ", \"install\": {\"target\": \"%s\", "
                      "\"connect_ms\": %.2f, \"full_ack_ms\": %.2f, "
                      "\"full_flow_mods\": %"PRIu64", "
                      "\"incremental_ack_ms\": %.2f, "
                      "\"incremental_flow_mods\": %"PRIu64", "
                      "\"final_installed_flows\": %"PRIuSIZE"}",
                      o.target, connect_ms, steps[0].install.ack_ms,
                      steps[0].install.flow_mods, steps[1].install.ack_ms,
                      steps[1].install.flow_mods,
                      steps[3].install.installed);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    ds_put_format(&j, ", \"max_rss_kb\": %ld}\n", ru.ru_maxrss);
    fputs(ds_cstr(&j), stdout);
    fflush(stdout);

    /* The summary. */
    fprintf(stderr,
            "pipeline-bench: %d containers, %d-rule ASG (model built in "
            "%.1f ms)\n"
            "  full recompute   %8.2f ms median (min %.2f, max %.2f, "
            "first %.2f)  %s (target %.0f ms)\n"
            "  flows            %8"PRIuSIZE"  (conflicts %"PRIuSIZE
            "; conjunction actions %"PRIuSIZE", at most %"PRIuSIZE
            " on one flow)\n"
            "  growth           %.2f flows per container, %.2f per rule, "
            "%.0f fixed; (%d,%d) %"PRIuSIZE" vs %.0f predicted\n"
            "  %d spaces        distinct: %"PRIuSIZE" flows in %.2f ms; "
            "platform+own: %"PRIuSIZE" flows in %.2f ms\n",
            n, r, build_ms, full.median_ms, full.min_ms, full.max_ms,
            full.first_ms, met ? "PASS" : "MISS", TARGET_RECOMPUTE_MS,
            full_st.flows, full_st.conflicts, full_st.conj_actions,
            full_st.max_conj_actions, per_container, per_rule, fixed, hn,
            hr, s_hh.flows, predicted, o.n_spaces, s_sd.flows,
            t_sd.median_ms, s_sp.flows, t_sp.median_ms);
    if (in) {
        fprintf(stderr, "  connect          %8.2f ms\n", connect_ms);
    }
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        const struct step *st = &steps[i];
        fprintf(stderr, "  %-20s recompute %7.2f ms (incremental %.2f ms), "
                "diff +%"PRIuSIZE" ~%"PRIuSIZE" -%"PRIuSIZE, st->name,
                st->recompute.median_ms, st->incremental_ms, st->n_add,
                st->n_modify, st->n_delete);
        if (st->install.done) {
            fprintf(stderr, ", %"PRIu64" flow_mods acked in %.2f ms "
                    "(put call %.2f ms)", st->install.flow_mods,
                    st->install.ack_ms, st->install.put_ms);
        }
        fputc('\n', stderr);
    }

    if (in) {
        ofctrl_destroy(in->of);
    }
    pipeline_destroy(p);
    flow_table_destroy(&desired);
    flow_table_destroy(&prev);
    model_destroy(&m);
    ds_destroy(&j);
    return 0;
}
