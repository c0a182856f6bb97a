/*
 * explain: flowctl's flows and their counters in words.  See explain.h.
 */

#include <config.h>

#include "explain.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cf-policy.h"
#include "cf-types.h"
#include "hash.h"
#include "hostrules.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "packets.h"
#include "pipeline.h"
#include "util.h"

#define IP_FMT_ARGS(IP) IP_ARGS(htonl(IP))

/* ---- rules ---- */

static const char *
proto_name(enum cf_proto proto)
{
    switch (proto) {
    case CF_PROTO_ALL:
        return "all protocols";
    case CF_PROTO_TCP:
        return "tcp";
    case CF_PROTO_UDP:
        return "udp";
    case CF_PROTO_ICMP:
        return "icmp";
    }
    return "unknown protocol";
}

void
explain_rule(const struct cf_netout_rule *r, struct ds *ds)
{
    ds_put_format(ds, "%s ", proto_name(r->protocol));
    for (size_t i = 0; i < r->n_networks; i++) {
        const struct cf_ip_range *n = &r->networks[i];
        if (i) {
            ds_put_char(ds, ',');
        }
        ds_put_format(ds, IP_FMT, IP_FMT_ARGS(n->start));
        if (n->end != n->start) {
            ds_put_format(ds, "-"IP_FMT, IP_FMT_ARGS(n->end));
        }
    }
    if (r->protocol == CF_PROTO_TCP || r->protocol == CF_PROTO_UDP) {
        bool one = r->n_ports == 1 && r->ports[0].start == r->ports[0].end;
        ds_put_cstr(ds, one ? " port " : " ports ");
        for (size_t i = 0; i < r->n_ports; i++) {
            if (i) {
                ds_put_char(ds, ',');
            }
            ds_put_format(ds, "%"PRIu16, r->ports[i].start);
            if (r->ports[i].end != r->ports[i].start) {
                ds_put_format(ds, "-%"PRIu16, r->ports[i].end);
            }
        }
    } else if (r->protocol == CF_PROTO_ICMP) {
        if (r->icmp_type == CF_ICMP_ANY) {
            ds_put_cstr(ds, " any type");
        } else {
            ds_put_format(ds, " type %"PRIu8, r->icmp_type);
            if (r->icmp_code == CF_ICMP_ANY) {
                ds_put_cstr(ds, " any code");
            } else {
                ds_put_format(ds, " code %"PRIu8, r->icmp_code);
            }
        }
    }
}

/* Appends to 'ds' where rule 'idx' of 'rules' came from, if it came from
 * the policy server: " from security group NAME (GUID) rule I". */
static void
explain_origin(const struct model_rules *rules, size_t idx, struct ds *ds)
{
    if (rules && rules->origins && idx < rules->parsed.n_netout_rules) {
        const struct model_rule_origin *o = &rules->origins[idx];
        ds_put_format(ds, " from security group %s (%s) rule %"PRIu32,
                      o->asg_name, o->asg_guid, o->index);
    }
}

/* ---- verdicts ---- */

static void
explain_asg(const struct model *model, uint64_t cookie, struct ds *ds)
{
    uint32_t rs_id = pipeline_cookie_set(cookie);
    size_t idx = pipeline_cookie_index(cookie);
    struct pipeline_ruleset *rulesets;
    size_t n = pipeline_get_rulesets(model, &rulesets);
    const struct pipeline_ruleset *rs = pipeline_find_ruleset(rulesets, n,
                                                              rs_id);

    ds_put_format(ds, "allowed by ASG rule %"PRIuSIZE" of ruleset %#"PRIx32,
                  idx, rs_id);
    if (rs && rs->rules && idx < rs->rules->parsed.n_netout_rules) {
        ds_put_cstr(ds, " (");
        explain_rule(&rs->rules->parsed.netout_rules[idx], ds);
        ds_put_char(ds, ')');
        explain_origin(rs->rules, idx, ds);
    } else {
        ds_put_cstr(ds, " (a rule flowctl no longer has: the switch's flows "
                    "are behind)");
    }
    pipeline_rulesets_destroy(rulesets, n);
}

static void
explain_host(const struct model *model, uint64_t cookie, uint32_t dst,
             struct ds *ds)
{
    const struct model_cell *cell = &model->cell;
    uint64_t id = pipeline_cookie_id(cookie);
    uint32_t set = pipeline_cookie_set(cookie);
    size_t idx = pipeline_cookie_index(cookie);

    if (id == PIPELINE_HOST_CLOSING) {
        bool overlay = false;
        for (size_t i = 0; i < cell->n_overlays; i++) {
            overlay |= ipv4_cidr_contains(&cell->overlays[i], dst);
        }
        if (overlay && dst != cell->gateway_host_ip) {
            ds_put_format(ds, "rejected: "IP_FMT" is in the overlay %s",
                          IP_FMT_ARGS(dst),
                          ipv4_cidr_contains(&cell->subnet, dst)
                          ? "(a container on this cell; container-to-"
                            "container needs a policy)"
                          : "(container-to-container needs a policy)");
        } else {
            ds_put_format(ds, "rejected: "IP_FMT" is the cell's own address "
                          "(only DNS and the configured host services are "
                          "open)", IP_FMT_ARGS(dst));
        }
    } else if (set == PIPELINE_HOST_DNS && idx < cell->n_dns_servers) {
        ds_put_format(ds, "allowed: DNS server "IP_FMT,
                      IP_FMT_ARGS(cell->dns_servers[idx]));
    } else if (set == PIPELINE_HOST_TCP && idx < cell->n_tcp_services) {
        ds_put_format(ds, "allowed: host TCP service "IP_FMT":%"PRIu16,
                      IP_FMT_ARGS(cell->tcp_services[idx].ip),
                      cell->tcp_services[idx].port);
    } else if (set == PIPELINE_HOST_UDP && idx < cell->n_udp_services) {
        ds_put_format(ds, "allowed: host UDP service "IP_FMT":%"PRIu16,
                      IP_FMT_ARGS(cell->udp_services[idx].ip),
                      cell->udp_services[idx].port);
    } else {
        ds_put_format(ds, "allowed: a DNS server or host service flowctl no "
                      "longer has (cookie id %#"PRIx64")", id);
    }
}

static void
explain_deny(const struct model *model, uint64_t cookie, struct ds *ds)
{
    static const char *const names[] = {
        [PIPELINE_DENY_ALWAYS] = "always",
        [PIPELINE_DENY_RUNNING] = "running",
        [PIPELINE_DENY_STAGING] = "staging",
    };
    const struct model_cell *cell = &model->cell;
    const struct ipv4_cidr *lists[] = {
        [PIPELINE_DENY_ALWAYS] = cell->deny_always,
        [PIPELINE_DENY_RUNNING] = cell->deny_running,
        [PIPELINE_DENY_STAGING] = cell->deny_staging,
    };
    const size_t counts[] = {
        [PIPELINE_DENY_ALWAYS] = cell->n_deny_always,
        [PIPELINE_DENY_RUNNING] = cell->n_deny_running,
        [PIPELINE_DENY_STAGING] = cell->n_deny_staging,
    };
    uint32_t set = pipeline_cookie_set(cookie);
    size_t idx = pipeline_cookie_index(cookie);

    if (set < ARRAY_SIZE(names)) {
        ds_put_format(ds, "rejected: deny_networks %s entry %"PRIuSIZE,
                      names[set], idx);
        if (idx < counts[set]) {
            ds_put_format(ds, " ("IP_FMT"/%u)",
                          IP_FMT_ARGS(lists[set][idx].addr),
                          lists[set][idx].plen);
        }
    } else {
        ds_put_format(ds, "rejected: deny_networks (cookie id %#"PRIx64")",
                      pipeline_cookie_id(cookie));
    }
}

/* Appends policy 'p' in words: "A (tag 0x1) -> B tcp port 8080". */
static void
explain_policy_words(const struct cf_policy *p, struct ds *ds)
{
    ds_put_format(ds, "%s (tag %#"PRIx32") -> %s %s port", p->src_id,
                  p->src_tag, p->dst_id, proto_name(p->protocol));
    if (p->port_start == p->port_end) {
        ds_put_format(ds, " %"PRIu16, p->port_start);
    } else {
        ds_put_format(ds, "s %"PRIu16"-%"PRIu16, p->port_start,
                      p->port_end);
    }
}

void
explain_policy_cookie(const struct model *model, uint64_t cookie,
                      struct ds *ds)
{
    const struct model_policy_state *ps = &model->policy;

    for (size_t i = 0; i < ps->n_policies; i++) {
        if (pipeline_policy_cookie(&ps->policies[i]) == cookie) {
            ds_put_cstr(ds, "allowed by c2c policy ");
            explain_policy_words(&ps->policies[i], ds);
            return;
        }
    }
    ds_put_format(ds, "allowed by a c2c policy flowctl no longer has "
                  "(cookie %#"PRIx64": the switch's flows are behind)",
                  cookie);
}

/* The remote cell whose containers' subnet holds 'dst', or NULL. */
static const struct model_remote *
find_remote(const struct model *model, uint32_t dst)
{
    for (size_t i = 0; i < model->n_remotes; i++) {
        if (ipv4_cidr_contains(&model->remotes[i].subnet, dst)) {
            return &model->remotes[i];
        }
    }
    return NULL;
}

static void
explain_c2c(const struct model *model, uint64_t cookie, uint32_t dst,
            struct ds *ds)
{
    const struct model_remote *r = find_remote(model, dst);
    char underlay[IPV4_ADDR_LEN];

    switch (pipeline_cookie_id(cookie)) {
    case PIPELINE_C2C_LOCAL:
        ds_put_format(ds, "judged by table ingress: "IP_FMT" is a "
                      "container on this cell (container-to-container "
                      "needs a policy)", IP_FMT_ARGS(dst));
        break;
    case PIPELINE_C2C_UNTAGGED:
        ds_put_format(ds, "rejected: "IP_FMT" is in the overlay, and the "
                      "container's app is in no policy (it has no tag; "
                      "container-to-container needs a policy)",
                      IP_FMT_ARGS(dst));
        break;
    case PIPELINE_C2C_OUT:
        ds_put_format(ds, "sent through the tunnel: "IP_FMT" is a "
                      "container of cell %s, which admits the connection "
                      "if one of its policies allows the app's tag",
                      IP_FMT_ARGS(dst),
                      r ? ipv4_format(r->underlay_ip, underlay) : "?");
        break;
    default:
        ds_put_format(ds, "decided by a c2c flow with cookie %#"PRIx64,
                      cookie);
        break;
    }
}

void
explain_egress_cookie(const struct model *model, uint64_t cookie,
                      uint32_t dst, struct ds *ds)
{
    uint64_t id = pipeline_cookie_id(cookie);

    switch (pipeline_cookie_kind(cookie)) {
    case PIPELINE_CK_ASG:
        explain_asg(model, cookie, ds);
        break;
    case PIPELINE_CK_HOST:
        explain_host(model, cookie, dst, ds);
        break;
    case PIPELINE_CK_DENY:
        explain_deny(model, cookie, ds);
        break;
    case PIPELINE_CK_DEFAULT:
        ds_put_cstr(ds, "rejected: default deny (no ASG rule matches)");
        break;
    case PIPELINE_CK_C2C:
        explain_c2c(model, cookie, dst, ds);
        break;
    case PIPELINE_CK_POLICY:
        explain_policy_cookie(model, cookie, ds);
        break;
    case PIPELINE_CK_OVERLAY:
        if (id) {
            ds_put_format(ds, "rejected: "IP_FMT" is the Geneve port of "
                          "cell "IP_FMT" (containers may not send to it)",
                          IP_FMT_ARGS(dst), IP_FMT_ARGS((uint32_t) id));
        } else {
            ds_put_format(ds, "allowed: "IP_FMT" is a container "
                          "(disable_container_network_policy: all "
                          "container-to-container traffic is allowed)",
                          IP_FMT_ARGS(dst));
        }
        break;
    default:
        ds_put_format(ds, "decided by a flow with cookie %#"PRIx64
                      " (not one flowctl puts in egress)", cookie);
        break;
    }
}

/* One line of ofproto/trace output that reports a flow table lookup:
 * "%2d. MATCH, priority P, cookie 0xC", "%2d. No match.", ...  Returns
 * true if 'line' is one, with the table in '*table' and the cookie in
 * '*cookie' (0 if the line has none: a table miss). */
static bool
parse_trace_line(const char *line, int *table, uint64_t *cookie)
{
    const char *p = line;
    while (*p == ' ') {
        p++;
    }
    if (!isdigit((unsigned char) *p)) {
        return false;
    }
    char *end;
    long t = strtol(p, &end, 10);
    if (end[0] != '.' || end[1] != ' ' || t < 0 || t > 254) {
        return false;
    }
    *table = t;
    *cookie = 0;

    const char *c = strstr(end, ", cookie 0x");
    if (c) {
        *cookie = strtoull(c + strlen(", cookie "), NULL, 16);
    }
    return true;
}

static bool
in_cidrs(const struct ipv4_cidr *cidrs, size_t n, uint32_t ip)
{
    for (size_t i = 0; i < n; i++) {
        if (ipv4_cidr_contains(&cidrs[i], ip)) {
            return true;
        }
    }
    return false;
}

/* If the cell's kernel delivers what is sent to 'dst' to the host itself,
 * appends to 'ds' what the host does with it and returns true. */
static bool
explain_host_delivery(const struct explain_host_dsts *host, uint32_t dst,
                      struct ds *ds)
{
    const char *what;
    if (dst == UINT32_MAX
        || (host && in_cidrs(host->broadcast, host->n_broadcast, dst))) {
        what = "a broadcast address";
    } else if ((dst >> 28) == 0xe) {
        what = "a multicast address";
    } else if (host && in_cidrs(host->local, host->n_local, dst)) {
        what = "one of the cell's own addresses";
    } else {
        return false;
    }
    ds_put_format(ds, "rejected by the cell's host: "IP_FMT" is %s, and "
                  "iptables chain "HOSTRULES_INPUT_CHAIN" (filter INPUT) "
                  "refuses what containers send to the host except DNS and "
                  "the configured host services (the ASGs allow it, but "
                  "they are for destinations beyond the cell)",
                  IP_FMT_ARGS(dst), what);
    return true;
}

void
explain_trace(const struct model *model, const char *trace, uint32_t dst,
              const struct explain_host_dsts *host, struct ds *ds)
{
    bool egress = false, any = false, ingress = false;
    uint64_t egress_cookie = 0, last_cookie = 0, ingress_cookie = 0;
    int last_table = -1;

    for (const char *line = trace; line && *line; ) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? nl - line : strlen(line);
        char *copy = xmemdup0(line, len);
        int table;
        uint64_t cookie;

        if (parse_trace_line(copy, &table, &cookie)) {
            any = true;
            last_table = table;
            last_cookie = cookie;
            if (table == PIPELINE_T_EGRESS) {
                egress = true;
                egress_cookie = cookie;
            } else if (table == PIPELINE_T_INGRESS && egress) {
                ingress = true;
                ingress_cookie = cookie;
            }
        }
        free(copy);
        line = nl ? nl + 1 : NULL;
    }

    if (egress_cookie == pipeline_cookie(PIPELINE_CK_C2C,
                                         PIPELINE_C2C_LOCAL)) {
        /* A container of this cell: 'ingress' decides, by policy. */
        if (ingress && pipeline_cookie_kind(ingress_cookie)
                       == PIPELINE_CK_POLICY) {
            explain_policy_cookie(model, ingress_cookie, ds);
        } else if (ingress) {
            ds_put_format(ds, "rejected: "IP_FMT" is in the overlay (a "
                          "container on this cell; container-to-container "
                          "needs a policy)", IP_FMT_ARGS(dst));
        } else {
            explain_egress_cookie(model, egress_cookie, dst, ds);
        }
    } else if (egress && egress_cookie) {
        if (pipeline_cookie_kind(egress_cookie) != PIPELINE_CK_ASG
            || !explain_host_delivery(host, dst, ds)) {
            explain_egress_cookie(model, egress_cookie, dst, ds);
        }
    } else if (egress) {
        ds_put_cstr(ds, "dropped: no flow in table egress matched (flowctl "
                    "always puts a default there: are its flows "
                    "installed?)");
    } else if (!any) {
        ds_put_cstr(ds, "no verdict: the trace crossed no flow table");
    } else if (!last_cookie) {
        ds_put_format(ds, "dropped: no flow in table %s matched",
                      pipeline_table_name(last_table));
    } else if (pipeline_cookie_kind(last_cookie) == PIPELINE_CK_DEFAULT) {
        ds_put_format(ds, "dropped by the default flow of table %s",
                      pipeline_table_name(last_table));
        if (last_table == PIPELINE_T_SPOOF_GUARD) {
            ds_put_cstr(ds, " (not the container's own MAC and IP)");
        } else if (last_table == PIPELINE_T_CLASSIFY) {
            ds_put_cstr(ds, " (the in_port is no container's)");
        }
    } else {
        ds_put_format(ds, "no verdict from egress: the trace ended in table "
                      "%s (cookie %#"PRIx64")",
                      pipeline_table_name(last_table), last_cookie);
    }
}

/* ---- hit counts ---- */

void
rule_counts_init(struct rule_counts *rc)
{
    hmap_init(&rc->verdicts);
    hmap_init(&rc->established);
    rc->n_flows = 0;
}

static void
rule_count_map_destroy(struct hmap *map)
{
    struct rule_count *c;
    HMAP_FOR_EACH_POP (c, node, map) {
        free(c);
    }
    hmap_destroy(map);
}

void
rule_counts_destroy(struct rule_counts *rc)
{
    if (rc) {
        rule_count_map_destroy(&rc->verdicts);
        rule_count_map_destroy(&rc->established);
    }
}

static uint32_t
hash_cookie(uint64_t cookie)
{
    return hash_uint64(cookie);
}

const struct rule_count *
rule_counts_find(const struct hmap *map, uint64_t cookie)
{
    const struct rule_count *c;
    HMAP_FOR_EACH_WITH_HASH (c, node, hash_cookie(cookie), map) {
        if (c->cookie == cookie) {
            return c;
        }
    }
    return NULL;
}

void
rule_counts_add(struct hmap *map, uint64_t cookie, uint64_t n_packets,
                uint64_t n_bytes)
{
    struct rule_count *c = CONST_CAST(struct rule_count *,
                                      rule_counts_find(map, cookie));
    if (!c) {
        c = xzalloc(sizeof *c);
        c->cookie = cookie;
        hmap_insert(map, &c->node, hash_cookie(cookie));
    }
    c->n_flows++;
    c->n_packets += n_packets != UINT64_MAX ? n_packets : 0;
    c->n_bytes += n_bytes != UINT64_MAX ? n_bytes : 0;
}

static size_t
n_rules(const struct pipeline_ruleset *rs)
{
    return rs->rules ? rs->rules->parsed.n_netout_rules : 0;
}

static struct json *
json_u64(uint64_t x)
{
    return json_integer_create(MIN(x, (uint64_t) LLONG_MAX));
}

/* A count for JSON: 'x', or null if 'known' is false. */
static struct json *
json_count(bool known, uint64_t x)
{
    return known ? json_u64(x) : json_null_create();
}

/* What the flows of the rule (ASG rule or c2c policy) with cookie 'ck'
 * counted: its verdict flow's packets are the connections it admitted, and
 * with its established flows, all their packets and bytes.  'installed' is
 * false if OVS has no verdict flow with that cookie. */
struct rule_hits {
    bool installed;
    uint64_t connections;
    uint64_t packets;
    uint64_t bytes;
};

static struct rule_hits
rule_hits(const struct rule_counts *rc, uint64_t ck)
{
    const struct rule_count *v = rule_counts_find(&rc->verdicts, ck);
    const struct rule_count *e = rule_counts_find(&rc->established, ck);
    struct rule_hits h = { .installed = v != NULL };

    if (v) {
        h.connections = v->n_packets;
        h.packets = v->n_packets + (e ? e->n_packets : 0);
        h.bytes = v->n_bytes + (e ? e->n_bytes : 0);
    }
    return h;
}

static void
rule_hits_format(const struct rule_hits *h, struct ds *ds)
{
    if (h->installed) {
        ds_put_format(ds, "%"PRIu64" connection%s, %"PRIu64" packet%s, %"
                      PRIu64" bytes: ", h->connections,
                      h->connections == 1 ? "" : "s", h->packets,
                      h->packets == 1 ? "" : "s", h->bytes);
    } else {
        ds_put_cstr(ds, "(flows not installed): ");
    }
}

static void
rule_hits_put_json(const struct rule_hits *h, struct json *o)
{
    json_object_put(o, "installed", json_boolean_create(h->installed));
    json_object_put(o, "connections", json_count(h->installed,
                                                 h->connections));
    json_object_put(o, "packets", json_count(h->installed, h->packets));
    json_object_put(o, "bytes", json_count(h->installed, h->bytes));
}

/* Does policy 'p' have flows on this cell: is c2c under policy, and has
 * its destination app a container here?  (As pipeline.c decides.) */
static bool
policy_is_local(const struct model *model, const struct cf_policy *p)
{
    if (model->cell.c2c_open || !p->src_tag) {
        return false;
    }
    const struct model_container *c;
    HMAP_FOR_EACH (c, node, &model->containers) {
        if (c->policy_group_id && !strcmp(c->policy_group_id, p->dst_id)) {
            return true;
        }
    }
    return false;
}

/* The "policies:" part of rule_stats_walk(): each c2c policy with flows on
 * this cell, with the connections its 'ingress' flows admitted and the
 * packets of its connections. */
static void
policy_stats_walk(const struct model *model, const struct rule_counts *rc,
                  struct ds *ds, struct json *top)
{
    const struct model_policy_state *ps = &model->policy;
    struct json *array = NULL;
    size_t n_local = 0;

    for (size_t i = 0; i < ps->n_policies; i++) {
        n_local += policy_is_local(model, &ps->policies[i]);
    }
    if (ds) {
        ds_put_format(ds, "policies: %"PRIuSIZE" c2c policies with a "
                      "destination on this cell (of %"PRIuSIZE" fetched)\n",
                      n_local, ps->n_policies);
    } else {
        array = json_array_create_empty();
        json_object_put(top, "policies", array);
    }

    for (size_t i = 0; i < ps->n_policies; i++) {
        const struct cf_policy *p = &ps->policies[i];
        if (!policy_is_local(model, p)) {
            continue;
        }
        uint64_t ck = pipeline_policy_cookie(p);
        struct rule_hits h = rule_hits(rc, ck);

        if (ds) {
            ds_put_cstr(ds, "  ");
            rule_hits_format(&h, ds);
            explain_policy_words(p, ds);
            ds_put_char(ds, '\n');
        } else {
            struct json *o = json_object_create();
            json_object_put_string(o, "source", p->src_id);
            json_object_put(o, "source_tag", json_integer_create(p->src_tag));
            json_object_put_string(o, "destination", p->dst_id);
            json_object_put_string(o, "protocol", proto_name(p->protocol));
            json_object_put(o, "port_start",
                            json_integer_create(p->port_start));
            json_object_put(o, "port_end", json_integer_create(p->port_end));
            json_object_put_format(o, "cookie", "%#"PRIx64, ck);
            rule_hits_put_json(&h, o);
            json_array_add(array, o);
        }
    }
}

/* Walks the rulesets of 'model' once and emits each field of the rule
 * statistics either as text appended to 'ds' (if nonnull) or as JSON members
 * of 'top' (iproute2's json_print idea: one walk, two renderings).  The text
 * is flowctl/show's "rules:" section, the JSON flowctl/rule-stats --json. */
static void
rule_stats_walk(const struct model *model, const struct rule_counts *rc,
                struct ds *ds, struct json *top)
{
    struct pipeline_ruleset *rulesets;
    size_t n = pipeline_get_rulesets(model, &rulesets);
    struct json *array = NULL;

    if (ds) {
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            total += n_rules(&rulesets[i]);
        }
        ds_put_format(ds, "rules: %"PRIuSIZE" ASG rules in %"PRIuSIZE
                      " rulesets (connections admitted per rule, from the "
                      "statistics of %"PRIuSIZE" flows)\n", total, n,
                      rc->n_flows);
    } else {
        array = json_array_create_empty();
        json_object_put(top, "flow_statistics", json_u64(rc->n_flows));
        json_object_put(top, "rulesets", array);
    }

    for (size_t i = 0; i < n; i++) {
        const struct pipeline_ruleset *rs = &rulesets[i];
        struct json *o = NULL, *handles = NULL, *rules = NULL;

        if (ds) {
            ds_put_format(ds, "  ruleset %#"PRIx32" (%"PRIu32"%s): "
                          "containers", rs->id, rs->id,
                          rs->staging ? ", staging" : "");
        } else {
            o = json_object_create();
            json_array_add(array, o);
            json_object_put(o, "ruleset", json_integer_create(rs->id));
            json_object_put(o, "staging", json_boolean_create(rs->staging));
            handles = json_array_create_empty();
            json_object_put(o, "containers", handles);
        }
        for (size_t j = 0; j < rs->n_containers; j++) {
            const char *handle = rs->containers[j]->handle;
            if (ds) {
                ds_put_format(ds, " %s", handle);
            } else {
                json_array_add(handles, json_string_create(handle));
            }
        }
        if (ds) {
            ds_put_char(ds, '\n');
        }

        const struct rule_count *est = rule_counts_find(
            &rc->established,
            pipeline_asg_cookie(rs->id, PIPELINE_RULESET_EST_INDEX));
        if (!ds) {
            struct json *e = json_null_create();
            if (est) {
                json_destroy(e);
                e = json_object_create();
                json_object_put(e, "packets", json_u64(est->n_packets));
                json_object_put(e, "bytes", json_u64(est->n_bytes));
            }
            json_object_put(o, "established", e);
            rules = json_array_create_empty();
            json_object_put(o, "rules", rules);
        } else if (est) {
            ds_put_format(ds, "    other established (DNS, host services): "
                          "%"PRIu64" packets, %"PRIu64" bytes\n",
                          est->n_packets, est->n_bytes);
        } else {
            ds_put_cstr(ds, "    established: (flows not installed)\n");
        }

        for (size_t j = 0; j < n_rules(rs); j++) {
            uint64_t ck = pipeline_asg_cookie(rs->id, j);
            const struct cf_netout_rule *rule
                = &rs->rules->parsed.netout_rules[j];
            struct rule_hits h = rule_hits(rc, ck);

            if (ds) {
                ds_put_format(ds, "    rule %"PRIuSIZE": ", j);
                rule_hits_format(&h, ds);
                explain_rule(rule, ds);
                explain_origin(rs->rules, j, ds);
                ds_put_char(ds, '\n');
            } else {
                struct json *r = json_object_create();
                struct ds text = DS_EMPTY_INITIALIZER;

                explain_rule(rule, &text);
                json_object_put(r, "index", json_integer_create(j));
                if (rs->rules->origins) {
                    const struct model_rule_origin *ro
                        = &rs->rules->origins[j];
                    struct json *origin = json_object_create();
                    json_object_put_string(origin, "asg_guid", ro->asg_guid);
                    json_object_put_string(origin, "asg_name", ro->asg_name);
                    json_object_put(origin, "index",
                                    json_integer_create(ro->index));
                    json_object_put(r, "origin", origin);
                } else {
                    json_object_put(r, "origin", json_null_create());
                }
                json_object_put_format(r, "cookie", "%#"PRIx64, ck);
                json_object_put(r, "rule", json_string_create(ds_cstr(&text)));
                rule_hits_put_json(&h, r);
                json_array_add(rules, r);
                ds_destroy(&text);
            }
        }
    }
    pipeline_rulesets_destroy(rulesets, n);

    if (model->policy.enabled) {
        policy_stats_walk(model, rc, ds, top);
    }
}

void
explain_rule_stats(const struct model *model, const struct rule_counts *rc,
                   struct ds *ds)
{
    rule_stats_walk(model, rc, ds, NULL);
}

struct json *
explain_rule_stats_json(const struct model *model,
                        const struct rule_counts *rc)
{
    struct json *top = json_object_create();
    rule_stats_walk(model, rc, NULL, top);
    return top;
}
