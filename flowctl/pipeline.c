/*
 * pipeline: the cell model as OpenFlow flows.  See pipeline.h and
 * docs/architecture.md ("The flow pipeline").
 *
 * Most flows are written in ovs-ofctl syntax and parsed with OVS's own
 * parser, so that this file reads like the `dump-flows` output an operator
 * sees.  The ASG flows, the only ones whose number grows with rules, are
 * built directly with the match and ofpact APIs.
 *
 * Growth: per container a fixed handful of flows; per distinct rule list
 * (ruleset) one conjunction per rule with one flow per destination prefix
 * and per port prefix, shared by every container of the ruleset.  So the
 * table grows as containers + rules, never containers x rules.  No flow
 * carries the conjunction actions of more than 2,048 rules, so every flow
 * fits in an OpenFlow message ("ASG conjunctions" below).
 */

#include <config.h>

#include "pipeline.h"

#include <string.h>

#include "bitmap.h"
#include "cf-policy.h"
#include "cf-record.h"
#include "cfnet.h"
#include "flow-table.h"
#include "flow-units.h"
#include "hash.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "ranges.h"
#include "util.h"

static const char *const table_names[] = {
#define PT(ENUM, ID, NAME) [ID] = NAME,
    PIPELINE_TABLES
#undef PT
};
BUILD_ASSERT_DECL(ARRAY_SIZE(table_names) == PIPELINE_N_TABLES);

const char *
pipeline_table_name(enum pipeline_table t)
{
    return t < PIPELINE_N_TABLES ? table_names[t] : "unknown";
}

const char *
pipeline_meter_name(uint32_t id)
{
    switch (id) {
#define PM(ENUM, ID, NAME) case ID: return NAME;
    PIPELINE_METERS
#undef PM
    default:
        return NULL;
    }
}

/* Priorities within 'egress' (higher wins). */
enum {
    PRIO_EGRESS_GENEVE = 1100,          /* Cells' Geneve port: closed. */
    PRIO_EGRESS_HOST_ALLOW = 1000,      /* DNS and host services. */
    PRIO_EGRESS_FORBIDDEN = 900,        /* The cell's own addresses. */
    PRIO_EGRESS_C2C_LOCAL = 880,        /* This cell's containers: judged
                                         * by 'ingress'. */
    PRIO_EGRESS_C2C_UNTAGGED = 870,     /* The overlay, without a tag. */
    PRIO_EGRESS_C2C_OUT = 860,          /* Other cells' containers. */
    PRIO_EGRESS_C2C = 850,              /* The overlay: open when c2c is
                                         * open, else rejected. */
    PRIO_EGRESS_DENY = 800,             /* deny_networks. */
    PRIO_EGRESS_ASG = 500,              /* ASG conjunctions. */
};

/* Priorities within 'ingress'. */
enum {
    PRIO_INGRESS_POLICY = 100,          /* c2c policies (and NetIn, which
                                         * matches the gateway address). */
    PRIO_INGRESS_TUNNEL_DROP = 10,      /* The rest from other cells. */
    PRIO_INGRESS_C2C_DENY = 10,         /* The rest from containers here,
                                         * with c2c logging. */
};

/* ct_mark values: egress epochs use the low 30 bits, NetIn marks have the
 * top bit set, PIPELINE_C2C_OPEN_MARK bit 30; 0 never appears (an
 * uncommitted connection has mark 0). */
#define NETIN_MARK_BIT 0x80000000u
#define EPOCH_MASK 0x3fffffffu

/* A ruleset: the containers sharing one NetOut rule list and workload. */
struct ruleset {
    struct hmap_node node;              /* By ruleset_key_hash(). */
    const struct model_rules *rules;
    bool staging;
    uint32_t hash;                      /* Of the rules' text and staging. */
    uint32_t id;                        /* 1..65535, unique. */
    uint32_t epoch;                     /* ct_mark of its connections. */
};

struct ctx {
    const struct model *model;
    struct flow_units *units;           /* pipeline_run() only. */
    struct flow_table *table;           /* The current unit's flows. */
    struct hmap rulesets;               /* "struct ruleset"s. */
    struct ruleset **by_id;             /* The rulesets in ascending id. */
    uint32_t cell_hash;                 /* Hash of the cell settings. */
};

static const struct model_container **sorted_containers(
    const struct model *);
static struct ruleset *ruleset_find(const struct ctx *,
                                    const struct model_rules *, bool staging);

/* ---- adding flows ---- */

/* Parses one flow in ovs-ofctl syntax ("table=N,priority=P,cookie=C,MATCH,
 * actions=ACTIONS") and adds it.  The text is built here from validated
 * numbers, so a parse error is a bug. */
static void OVS_PRINTF_FORMAT(2, 3)
add_flow(struct ctx *ctx, const char *format, ...)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    va_list args;

    va_start(args, format);
    char *s = xvasprintf(format, args);
    va_end(args);

    char *error = parse_ofp_str(&fm, OFPFC_ADD, s, NULL, NULL, &usable);
    if (error) {
        ovs_abort(0, "pipeline: bad flow \"%s\": %s", s, error);
    }
    struct match match;
    minimatch_expand(&fm.match, &match);
    flow_table_add(ctx->table, fm.table_id, fm.priority,
                   ntohll(fm.new_cookie), &match, fm.ofpacts,
                   fm.ofpacts_len);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    free(s);
}

#define IP_FMT_ARGS(IP) IP_ARGS(htonl(IP))

/* Appends to 'acts' the actions of a flow that admits a new connection:
 * 'mark' (unless 0: the packet's reg3 holds it already) into reg3, the
 * admitting rule's cookie 'ck' into xreg3, then to 'commit', which records
 * both in conntrack.  With a 'log' kind (not 0), the packet first visits
 * 'log' with the kind in reg4, which sends flowctl's traffic log a copy
 * (add_log_flows()). */
static void
put_admit_actions(struct ofpbuf *acts, uint32_t mark, uint64_t ck,
                  enum pipeline_log_kind log)
{
    union mf_value v;

    if (mark) {
        memset(&v, 0, sizeof v);
        v.be32 = htonl(mark);
        ofpact_put_set_field(acts, mf_from_id(MFF_REG3), &v, NULL);
    }
    memset(&v, 0, sizeof v);
    v.be64 = htonll(ck);
    ofpact_put_set_field(acts, mf_from_id(MFF_XREG3), &v, NULL);
    if (log) {
        memset(&v, 0, sizeof v);
        v.be32 = htonl(log);
        ofpact_put_set_field(acts, mf_from_id(MFF_REG4), &v, NULL);
        struct ofpact_resubmit *r = ofpact_put_RESUBMIT(acts);
        r->in_port = OFPP_IN_PORT;
        r->table_id = PIPELINE_T_LOG;
    }
    ofpact_put_GOTO_TABLE(acts)->table_id = PIPELINE_T_COMMIT;
}

/* The actions, in ovs-ofctl syntax, that send a log copy of kind 'kind'
 * through meter 'meter' (a static buffer: use before the next call). */
static const char *
log_action(enum pipeline_log_kind kind, enum pipeline_meter meter)
{
    static char buf[128];

    snprintf(buf, sizeof buf, "controller(id=%d,max_len=%d,userdata=%02x,"
             "meter_id=%d)", PIPELINE_LOG_CONTROLLER_ID,
             PIPELINE_LOG_MAX_LEN, kind, meter);
    return buf;
}

/* Whether the cell logs what ASG rule 'r' admits, c2c, the default deny. */
static bool
log_asg_rule(const struct model_cell *cell, const struct cf_netout_rule *r)
{
    return cell->logging && (cell->asg_logging || r->log);
}

static bool
log_c2c(const struct model_cell *cell)
{
    return cell->logging && cell->c2c_logging && !cell->c2c_open;
}

static bool
log_default_deny(const struct model_cell *cell)
{
    return cell->logging && cell->asg_logging;
}

static uint64_t
cookie(uint8_t kind, uint64_t id)
{
    return pipeline_cookie(kind, id);
}

/* ---- the cell's fixed flows ---- */

/* log: a packet resubmitted here by a flow that admitted its connection
 * (put_admit_actions()) is copied to flowctl's traffic log through the
 * meter of its kind and protocol; the admitting flow then goes on.
 * Without logging, nothing comes here; the table's default does nothing
 * either way. */
static void
add_log_flows(struct ctx *ctx)
{
    const struct model_cell *cell = &ctx->model->cell;
    uint64_t fixed = cookie(PIPELINE_CK_FIXED, 0);
    const struct {
        enum pipeline_log_kind kind;
        enum pipeline_meter meter;
        enum pipeline_meter udp_meter;
    } accepts[] = {
        { PIPELINE_LOG_ASG_ACCEPT, PIPELINE_METER_LOG_ASG_ACCEPT,
          PIPELINE_METER_LOG_ASG_UDP },
        { PIPELINE_LOG_C2C_ACCEPT, PIPELINE_METER_LOG_C2C_ACCEPT,
          PIPELINE_METER_LOG_C2C_UDP },
    };

    if (cell->logging) {
        for (size_t i = 0; i < ARRAY_SIZE(accepts); i++) {
            add_flow(ctx, "table=%d,priority=110,cookie=%#"PRIx64",reg4=%d,"
                     "udp,actions=%s", PIPELINE_T_LOG, fixed,
                     accepts[i].kind,
                     log_action(accepts[i].kind, accepts[i].udp_meter));
            add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg4=%d,"
                     "actions=%s", PIPELINE_T_LOG, fixed, accepts[i].kind,
                     log_action(accepts[i].kind, accepts[i].meter));
        }
    }
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64",actions=drop",
             PIPELINE_T_LOG, cookie(PIPELINE_CK_DEFAULT, 0));
}

static void
add_fixed_flows(struct ctx *ctx)
{
    const struct model_cell *cell = &ctx->model->cell;
    uint64_t fixed = cookie(PIPELINE_CK_FIXED, 0);
    uint64_t dflt = cookie(PIPELINE_CK_DEFAULT, 0);
    uint8_t gw_mac[6] = CFNET_GATEWAY_MAC;
    struct eth_addr gw, host_mac;
    memcpy(gw.ea, gw_mac, ETH_ADDR_LEN);
    memcpy(host_mac.ea, cell->gateway_host_mac, ETH_ADDR_LEN);

    /* classify: the host's gateway port; anything else unknown is dropped
     * (table-miss in a fail-secure bridge drops too; explicit for
     * counting). */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",in_port=%"PRIu32
             ",actions=load:%d->NXM_NX_REG0[],goto_table:%d",
             PIPELINE_T_CLASSIFY, fixed, cell->gateway_ofport,
             PIPELINE_FROM_GATEWAY, PIPELINE_T_SPOOF_GUARD);
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64",actions=drop",
             PIPELINE_T_CLASSIFY, dflt);

    /* spoof_guard: the gateway speaks IP and ARP; containers have their
     * own flows; the rest is dropped. */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg0=%d,ip,"
             "actions=goto_table:%d", PIPELINE_T_SPOOF_GUARD, fixed,
             PIPELINE_FROM_GATEWAY, PIPELINE_T_CONNTRACK);
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg0=%d,arp,"
             "actions=goto_table:%d", PIPELINE_T_SPOOF_GUARD, fixed,
             PIPELINE_FROM_GATEWAY, PIPELINE_T_ARP);
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64",actions=drop",
             PIPELINE_T_SPOOF_GUARD, dflt);

    /* arp: answer for the gateway address (from containers, and from the
     * host, which sends NetIn traffic to it) and, for the host, for every
     * overlay address: the bridge routes. */
    const char *responder =
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        "set_field:"ETH_ADDR_FMT"->eth_src,"
        "load:2->NXM_OF_ARP_OP[],"
        "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
        "set_field:"ETH_ADDR_FMT"->arp_sha,"
        "move:NXM_OF_ARP_TPA[]->NXM_NX_REG9[],"
        "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
        "move:NXM_NX_REG9[]->NXM_OF_ARP_SPA[],"
        "in_port";
    char *acts = xasprintf(responder, ETH_ADDR_ARGS(gw), ETH_ADDR_ARGS(gw));
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",arp,arp_op=1,"
             "arp_tpa="IP_FMT",actions=%s", PIPELINE_T_ARP, fixed,
             IP_FMT_ARGS(CFNET_GATEWAY_IP), acts);
    for (size_t i = 0; i < cell->n_overlays; i++) {
        add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg0=%d,arp,"
                 "arp_op=1,arp_tpa="IP_FMT"/%u,actions=%s", PIPELINE_T_ARP,
                 fixed, PIPELINE_FROM_GATEWAY,
                 IP_FMT_ARGS(cell->overlays[i].addr), cell->overlays[i].plen,
                 acts);
    }
    free(acts);
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64",actions=drop",
             PIPELINE_T_ARP, dflt);

    /* conntrack: everything IP goes through the cell's zone, with NAT
     * undone for established NetIn connections. */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",ip,"
             "actions=ct(zone=%d,nat,table=%d)", PIPELINE_T_CONNTRACK, fixed,
             PIPELINE_CT_ZONE, PIPELINE_T_OWNER);
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64",actions=drop",
             PIPELINE_T_CONNTRACK, dflt);

    /* owner: container packets already know; others go on unowned. */
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64","
             "actions=goto_table:%d", PIPELINE_T_OWNER, fixed,
             PIPELINE_T_CT_STATE);

    /* ct_state: invalid is dropped; established and related traffic whose
     * mark is current passes (per-ruleset and per-mapping flows); a
     * container's stale connection is judged again as if new; anything
     * else stale is dropped; new goes to egress or ingress. */
    add_flow(ctx, "table=%d,priority=200,cookie=%#"PRIx64","
             "ct_state=+inv+trk,actions=drop", PIPELINE_T_CT_STATE, fixed);
    add_flow(ctx, "table=%d,priority=50,cookie=%#"PRIx64","
             "ct_state=+est-rpl+trk,reg0=%d,actions=goto_table:%d",
             PIPELINE_T_CT_STATE, fixed, PIPELINE_FROM_CONTAINER,
             PIPELINE_T_EGRESS);
    add_flow(ctx, "table=%d,priority=40,cookie=%#"PRIx64","
             "ct_state=+new+trk,reg0=%d,actions=goto_table:%d",
             PIPELINE_T_CT_STATE, fixed, PIPELINE_FROM_CONTAINER,
             PIPELINE_T_EGRESS);
    add_flow(ctx, "table=%d,priority=40,cookie=%#"PRIx64","
             "ct_state=+new+trk,reg0=%d,actions=goto_table:%d",
             PIPELINE_T_CT_STATE, fixed, PIPELINE_FROM_GATEWAY,
             PIPELINE_T_INGRESS);
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64",actions=drop",
             PIPELINE_T_CT_STATE, dflt);

    /* egress: the cell itself, except DNS and host services (added with
     * higher priority below), is out of bounds, and so is the overlay but
     * for c2c (add_overlay_flows()); no ASG opens them.  Then the default:
     * reject. */
    uint64_t cell_ck = cookie(PIPELINE_CK_HOST, PIPELINE_HOST_CLOSING);
    uint32_t forbidden[] = {
        cell->instance_address, cell->gateway_host_ip, CFNET_GATEWAY_IP,
    };
    for (size_t i = 0; i < ARRAY_SIZE(forbidden); i++) {
        add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",ip,"
                 "nw_dst="IP_FMT",actions=goto_table:%d", PIPELINE_T_EGRESS,
                 PRIO_EGRESS_FORBIDDEN, cell_ck, IP_FMT_ARGS(forbidden[i]),
                 PIPELINE_T_REJECT);
    }
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64","
             "actions=%s%sgoto_table:%d", PIPELINE_T_EGRESS, dflt,
             log_default_deny(cell)
             ? log_action(PIPELINE_LOG_EGRESS_DENY,
                          PIPELINE_METER_LOG_ASG_DENY) : "",
             log_default_deny(cell) ? "," : "", PIPELINE_T_REJECT);

    /* ingress: only mapped ports (per-mapping flows); the rest rejected. */
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64","
             "actions=goto_table:%d", PIPELINE_T_INGRESS, dflt,
             PIPELINE_T_REJECT);

    /* commit: remember the verdict in conntrack: the epoch (reg3) as
     * ct_mark, the cookie of the rule (xreg3) in ct_label. */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",ip,"
             "actions=ct(commit,zone=%d,exec(move:NXM_NX_REG3[]->"
             "NXM_NX_CT_MARK[],move:xreg3[]->NXM_NX_CT_LABEL[0..63])),"
             "goto_table:%d", PIPELINE_T_COMMIT, fixed, PIPELINE_CT_ZONE,
             PIPELINE_T_FORWARD);

    /* forward: to a container (per-container flows), else to the host. */
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64",ip,"
             "actions=set_field:"ETH_ADDR_FMT"->eth_src,set_field:"
             ETH_ADDR_FMT"->eth_dst,output:%"PRIu32, PIPELINE_T_FORWARD,
             fixed, ETH_ADDR_ARGS(gw), ETH_ADDR_ARGS(host_mac),
             cell->gateway_ofport);

    /* reject: TCP gets a RST, the rest ICMP port unreachable, both made by
     * flowctl from a metered packet-in.  A non-first fragment is dropped
     * unanswered: it has no transport header to answer, and the first
     * fragment of its datagram has had its answer (no ICMP error for a
     * non-first fragment: RFC 1122, 3.2.2). */
    add_flow(ctx, "table=%d,priority=150,cookie=%#"PRIx64",ip,"
             "nw_frag=later,actions=drop", PIPELINE_T_REJECT, fixed);
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",tcp,"
             "actions=controller(userdata=%02x,meter_id=%d)",
             PIPELINE_T_REJECT, fixed, PIPELINE_PIN_REJECT_TCP,
             PIPELINE_METER_REJECT);
    add_flow(ctx, "table=%d,priority=50,cookie=%#"PRIx64",ip,"
             "actions=controller(userdata=%02x,meter_id=%d)",
             PIPELINE_T_REJECT, fixed, PIPELINE_PIN_REJECT_ICMP,
             PIPELINE_METER_REJECT);
    add_flow(ctx, "table=%d,priority=0,cookie=%#"PRIx64",actions=drop",
             PIPELINE_T_REJECT, dflt);

    add_log_flows(ctx);
}

/* The non-first fragments of UDP datagrams to host address 'ip' (a DNS
 * server or a UDP host service), with cookie 'ck': they carry no port, so
 * they are admitted by address (the first fragment, with the port, is
 * judged by the full flow; see add_asg_rule() on fragments).  The first
 * service of an address makes the flow: later ones have the same match. */
static void
add_host_fragment_flow(struct ctx *ctx, uint32_t ip, uint64_t ck)
{
    struct match m;

    match_init_catchall(&m);
    match_set_dl_type(&m, htons(ETH_TYPE_IP));
    match_set_nw_proto(&m, IPPROTO_UDP);
    match_set_nw_dst(&m, htonl(ip));
    match_set_nw_frag_masked(&m, FLOW_NW_FRAG_LATER, FLOW_NW_FRAG_LATER);
    struct minimatch mm;
    minimatch_init(&mm, &m);
    bool exists = flow_table_find(ctx->table, PIPELINE_T_EGRESS,
                                  PRIO_EGRESS_HOST_ALLOW, &mm) != NULL;
    minimatch_destroy(&mm);
    if (!exists) {
        add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",udp,"
                 "nw_dst="IP_FMT",nw_frag=later,actions=load:%#"PRIx64
                 "->xreg3[],goto_table:%d", PIPELINE_T_EGRESS,
                 PRIO_EGRESS_HOST_ALLOW, ck, IP_FMT_ARGS(ip), ck,
                 PIPELINE_T_COMMIT);
    }
}

/* DNS servers and host services: allowed from every container. */
static void
add_host_allow_flows(struct ctx *ctx)
{
    const struct model_cell *cell = &ctx->model->cell;

    for (size_t i = 0; i < cell->n_dns_servers; i++) {
        uint64_t ck = pipeline_host_cookie(PIPELINE_HOST_DNS, i);
        for (int p = 0; p < 2; p++) {
            add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",%s,"
                     "nw_dst="IP_FMT",tp_dst=53,actions=load:%#"PRIx64
                     "->xreg3[],goto_table:%d", PIPELINE_T_EGRESS,
                     PRIO_EGRESS_HOST_ALLOW, ck, p ? "tcp" : "udp",
                     IP_FMT_ARGS(cell->dns_servers[i]), ck,
                     PIPELINE_T_COMMIT);
        }
        add_host_fragment_flow(ctx, cell->dns_servers[i], ck);
        add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",ip,"
                 "nw_dst="IP_FMT",actions=goto_table:%d", PIPELINE_T_EGRESS,
                 PRIO_EGRESS_FORBIDDEN,
                 cookie(PIPELINE_CK_HOST, PIPELINE_HOST_CLOSING),
                 IP_FMT_ARGS(cell->dns_servers[i]), PIPELINE_T_REJECT);
    }
    for (int p = 0; p < 2; p++) {
        const struct model_service *svc = p ? cell->udp_services
                                            : cell->tcp_services;
        size_t n = p ? cell->n_udp_services : cell->n_tcp_services;
        for (size_t i = 0; i < n; i++) {
            uint64_t ck = pipeline_host_cookie(p ? PIPELINE_HOST_UDP
                                                 : PIPELINE_HOST_TCP, i);
            add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",%s,"
                     "nw_dst="IP_FMT",tp_dst=%u,actions=load:%#"PRIx64
                     "->xreg3[],goto_table:%d", PIPELINE_T_EGRESS,
                     PRIO_EGRESS_HOST_ALLOW, ck, p ? "udp" : "tcp",
                     IP_FMT_ARGS(svc[i].ip), svc[i].port, ck,
                     PIPELINE_T_COMMIT);
            if (p) {
                add_host_fragment_flow(ctx, svc[i].ip, ck);
            }
            add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",ip,"
                     "nw_dst="IP_FMT",actions=goto_table:%d",
                     PIPELINE_T_EGRESS, PRIO_EGRESS_FORBIDDEN,
                     cookie(PIPELINE_CK_HOST, PIPELINE_HOST_CLOSING),
                     IP_FMT_ARGS(svc[i].ip), PIPELINE_T_REJECT);
        }
    }
}

/* deny_networks: always for everyone, running for app/task (reg5=0),
 * staging for staging (reg5=1). */
static void
add_deny_flows(struct ctx *ctx)
{
    const struct model_cell *cell = &ctx->model->cell;
    const struct {
        const struct ipv4_cidr *cidrs;
        size_t n;
        const char *match;
    } sets[] = {
        [PIPELINE_DENY_ALWAYS] = {
            cell->deny_always, cell->n_deny_always, "" },
        [PIPELINE_DENY_RUNNING] = {
            cell->deny_running, cell->n_deny_running, "reg5=0," },
        [PIPELINE_DENY_STAGING] = {
            cell->deny_staging, cell->n_deny_staging, "reg5=1," },
    };

    for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
        for (size_t i = 0; i < sets[s].n; i++) {
            const struct ipv4_cidr *c = &sets[s].cidrs[i];
            add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",%sip,"
                     "nw_dst="IP_FMT"/%u,actions=goto_table:%d",
                     PIPELINE_T_EGRESS, PRIO_EGRESS_DENY,
                     pipeline_deny_cookie(s, i),
                     sets[s].match, IP_FMT_ARGS(c->addr), c->plen,
                     PIPELINE_T_REJECT);
        }
    }
}

/* ---- the overlay: other cells and container-to-container ---- */

/* Is 'r' a usable remote cell: not this cell, its subnet not ours, and
 * inside the overlay? */
static bool
remote_is_valid(const struct model_cell *cell, const struct model_remote *r)
{
    if (r->underlay_ip == cell->instance_address
        || !r->subnet.plen || r->subnet.plen > 30
        || (r->subnet.addr == cell->subnet.addr
            && r->subnet.plen == cell->subnet.plen)) {
        return false;
    }
    for (size_t i = 0; i < cell->n_overlays; i++) {
        if (ipv4_cidr_contains(&cell->overlays[i], r->subnet.addr)
            && r->subnet.plen >= cell->overlays[i].plen) {
            return true;
        }
    }
    return false;
}

/* The established and related traffic of connections with ct_mark 'mark'
 * passes, both ways (cookie 'ck'). */
static void
add_mark_flows(struct ctx *ctx, uint64_t ck, uint32_t mark)
{
    static const char *const states[] = { "+est+trk", "+rel+trk" };
    for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
        add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64","
                 "ct_state=%s,ct_mark=%#"PRIx32",actions=goto_table:%d",
                 PIPELINE_T_CT_STATE, ck, states[i], mark,
                 PIPELINE_T_FORWARD);
    }
}

/* Container-to-container traffic, on this cell and to and from the other
 * cells, and what keeps the tunnel safe. */
static void
add_overlay_flows(struct ctx *ctx)
{
    const struct model *model = ctx->model;
    const struct model_cell *cell = &model->cell;
    uint64_t ock = cookie(PIPELINE_CK_OVERLAY, 0);

    /* spoof_guard: from the host, no overlay source but the host's own
     * gateway address (the host forwards what the underlay sends to the
     * overlay; nothing may pose as a container). */
    add_flow(ctx, "table=%d,priority=120,cookie=%#"PRIx64",reg0=%d,ip,"
             "nw_src="IP_FMT",actions=goto_table:%d", PIPELINE_T_SPOOF_GUARD,
             ock, PIPELINE_FROM_GATEWAY, IP_FMT_ARGS(cell->gateway_host_ip),
             PIPELINE_T_CONNTRACK);
    for (size_t i = 0; i < cell->n_overlays; i++) {
        add_flow(ctx, "table=%d,priority=110,cookie=%#"PRIx64",reg0=%d,ip,"
                 "nw_src="IP_FMT"/%u,actions=drop", PIPELINE_T_SPOOF_GUARD,
                 ock, PIPELINE_FROM_GATEWAY,
                 IP_FMT_ARGS(cell->overlays[i].addr), cell->overlays[i].plen);
    }

    /* forward: an overlay address with neither a container here nor a
     * cell behind it is rejected, not sent to the host (which would route
     * it back). */
    for (size_t i = 0; i < cell->n_overlays; i++) {
        add_flow(ctx, "table=%d,priority=50,cookie=%#"PRIx64",ip,nw_dst="
                 IP_FMT"/%u,actions=goto_table:%d", PIPELINE_T_FORWARD,
                 ock, IP_FMT_ARGS(cell->overlays[i].addr),
                 cell->overlays[i].plen, PIPELINE_T_REJECT);
    }

    /* disable_container_network_policy: every container may open
     * connections to every other, here and on other cells; they carry
     * their own mark, so they pass conntrack both ways (and stop when the
     * switch is turned off). */
    if (cell->c2c_open) {
        for (size_t i = 0; i < cell->n_overlays; i++) {
            add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",ip,"
                     "nw_dst="IP_FMT"/%u,actions=load:%#"PRIx32
                     "->NXM_NX_REG3[],load:%#"PRIx64"->xreg3[],"
                     "goto_table:%d", PIPELINE_T_EGRESS, PRIO_EGRESS_C2C,
                     ock, IP_FMT_ARGS(cell->overlays[i].addr),
                     cell->overlays[i].plen, PIPELINE_C2C_OPEN_MARK, ock,
                     PIPELINE_T_COMMIT);
        }
        add_mark_flows(ctx, ock, PIPELINE_C2C_OPEN_MARK);
    } else {
        /* Under policy: a container of this cell is judged by 'ingress'
         * (add_policy_flows()), as a connection from another cell is, so
         * that one set of flows decides both; a sender without a tag (its
         * app is in no policy) reaches no container of another cell; what
         * is left of the overlay (other cells' containers, with a tag:
         * per remote cell below) is rejected. */
        uint64_t closing = cookie(PIPELINE_CK_HOST, PIPELINE_HOST_CLOSING);
        add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",ip,"
                 "nw_dst="IP_FMT"/%u,actions=goto_table:%d",
                 PIPELINE_T_EGRESS, PRIO_EGRESS_C2C_LOCAL,
                 cookie(PIPELINE_CK_C2C, PIPELINE_C2C_LOCAL),
                 IP_FMT_ARGS(cell->subnet.addr), cell->subnet.plen,
                 PIPELINE_T_INGRESS);
        if (log_c2c(cell)) {
            /* With c2c logging, what no policy admits of a container's
             * connection to another here is logged on its way to
             * 'reject' (NetIn, from the host, is not c2c). */
            add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",reg0=%d,"
                     "ip,actions=%s,goto_table:%d", PIPELINE_T_INGRESS,
                     PRIO_INGRESS_C2C_DENY,
                     cookie(PIPELINE_CK_C2C, PIPELINE_C2C_LOCAL_DENY),
                     PIPELINE_FROM_CONTAINER,
                     log_action(PIPELINE_LOG_C2C_DENY_IN,
                                PIPELINE_METER_LOG_C2C_DENY),
                     PIPELINE_T_REJECT);
        }
        for (size_t i = 0; i < cell->n_overlays; i++) {
            add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",ip,"
                     "reg8=0,nw_dst="IP_FMT"/%u,actions=%s%sgoto_table:%d",
                     PIPELINE_T_EGRESS, PRIO_EGRESS_C2C_UNTAGGED,
                     cookie(PIPELINE_CK_C2C, PIPELINE_C2C_UNTAGGED),
                     IP_FMT_ARGS(cell->overlays[i].addr),
                     cell->overlays[i].plen,
                     log_c2c(cell)
                     ? log_action(PIPELINE_LOG_C2C_DENY_OUT,
                                  PIPELINE_METER_LOG_C2C_DENY) : "",
                     log_c2c(cell) ? "," : "", PIPELINE_T_REJECT);
            add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",ip,"
                     "nw_dst="IP_FMT"/%u,actions=goto_table:%d",
                     PIPELINE_T_EGRESS, PRIO_EGRESS_C2C, closing,
                     IP_FMT_ARGS(cell->overlays[i].addr),
                     cell->overlays[i].plen, PIPELINE_T_REJECT);
        }
        if (cell->tunnel_ofport) {
            add_mark_flows(ctx, cookie(PIPELINE_CK_C2C, PIPELINE_C2C_OUT),
                           PIPELINE_C2C_OUT_MARK);
        }
    }

    if (!cell->tunnel_ofport) {
        return;
    }

    /* classify: the Geneve port. */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",in_port=%"PRIu32
             ",actions=load:%d->NXM_NX_REG0[],goto_table:%d",
             PIPELINE_T_CLASSIFY, ock, cell->tunnel_ofport,
             PIPELINE_FROM_TUNNEL, PIPELINE_T_SPOOF_GUARD);

    /* ct_state: container traffic to any UDP port 6081 is judged by
     * 'egress' packet by packet, not only when new: a flow opened before a
     * cell at that address joined must not go on reaching its Geneve
     * port. */
    add_flow(ctx, "table=%d,priority=120,cookie=%#"PRIx64","
             "ct_state=-new+trk,reg0=%d,udp,tp_dst=%d,actions=goto_table:%d",
             PIPELINE_T_CT_STATE, ock, PIPELINE_FROM_CONTAINER,
             PIPELINE_GENEVE_PORT, PIPELINE_T_EGRESS);

    /* forward: a packet from another cell for an address of ours that no
     * container has is dropped (a reject could not go back through the
     * tunnel, and must not use up the reject meter). */
    add_flow(ctx, "table=%d,priority=60,cookie=%#"PRIx64",reg0=%d,ip,"
             "actions=drop", PIPELINE_T_FORWARD, ock, PIPELINE_FROM_TUNNEL);

    /* ct_state: a new connection from another cell is judged by
     * 'ingress', and so is the next packet of one whose mark is no longer
     * current (its policy is gone): as a container's are by 'egress', so
     * that removing a policy cuts its connections.  Stale replies are
     * dropped (the table's default). */
    add_flow(ctx, "table=%d,priority=40,cookie=%#"PRIx64","
             "ct_state=+new+trk,reg0=%d,actions=goto_table:%d",
             PIPELINE_T_CT_STATE, ock, PIPELINE_FROM_TUNNEL,
             PIPELINE_T_INGRESS);
    add_flow(ctx, "table=%d,priority=50,cookie=%#"PRIx64","
             "ct_state=+est-rpl+trk,reg0=%d,actions=goto_table:%d",
             PIPELINE_T_CT_STATE,
             cookie(PIPELINE_CK_C2C, PIPELINE_C2C_REJUDGE),
             PIPELINE_FROM_TUNNEL, PIPELINE_T_INGRESS);

    /* ingress: with c2c open, admitted with the c2c mark; otherwise what no
     * policy admits is dropped (the sending cell rejects what has no tag
     * itself; a reject from here could not find its way back through the
     * tunnel). */
    if (cell->c2c_open) {
        add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg0=%d,ip,"
                 "actions=load:%#"PRIx32"->NXM_NX_REG3[],load:%#"PRIx64
                 "->xreg3[],goto_table:%d", PIPELINE_T_INGRESS, ock,
                 PIPELINE_FROM_TUNNEL, PIPELINE_C2C_OPEN_MARK, ock,
                 PIPELINE_T_COMMIT);
    } else {
        add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",reg0=%d,"
                 "actions=%s", PIPELINE_T_INGRESS, PRIO_INGRESS_TUNNEL_DROP,
                 ock, PIPELINE_FROM_TUNNEL,
                 log_c2c(cell) ? log_action(PIPELINE_LOG_C2C_DENY_IN,
                                            PIPELINE_METER_LOG_C2C_DENY)
                 : "drop");
    }

    add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",udp,"
             "nw_dst="IP_FMT",tp_dst=%d,actions=goto_table:%d",
             PIPELINE_T_EGRESS, PRIO_EGRESS_GENEVE,
             cookie(PIPELINE_CK_OVERLAY, cell->instance_address),
             IP_FMT_ARGS(cell->instance_address), PIPELINE_GENEVE_PORT,
             PIPELINE_T_REJECT);
}

/* The flows of remote cell 'r' (valid, see remote_is_valid(); the cell
 * has a tunnel). */
static void
add_remote_flows(struct ctx *ctx, const struct model_remote *r)
{
    const struct model_cell *cell = &ctx->model->cell;
    uint64_t rck = cookie(PIPELINE_CK_OVERLAY, r->underlay_ip);

    /* spoof_guard: Geneve from a known cell to our underlay address,
     * carrying one of its containers' addresses to one of ours; the
     * sender's tag (all 32 bits of the option, 0 if it has none) into
     * reg8.  Everything else from the tunnel is dropped (the table's
     * default). */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg0=%d,ip,"
             "tun_src="IP_FMT",tun_dst="IP_FMT","
             "nw_src="IP_FMT"/%u,nw_dst="IP_FMT"/%u,"
             "actions=move:NXM_NX_TUN_METADATA%d[0..31]->NXM_NX_REG8[],"
             "goto_table:%d", PIPELINE_T_SPOOF_GUARD, rck,
             PIPELINE_FROM_TUNNEL, IP_FMT_ARGS(r->underlay_ip),
             IP_FMT_ARGS(cell->instance_address),
             IP_FMT_ARGS(r->subnet.addr), r->subnet.plen,
             IP_FMT_ARGS(cell->subnet.addr), cell->subnet.plen,
             CFNET_GENEVE_METADATA_IDX, PIPELINE_T_CONNTRACK);

    /* forward: its subnet goes through the tunnel, with our tag. */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",ip,"
             "nw_dst="IP_FMT"/%u,actions=set_field:"IP_FMT"->tun_dst,"
             "move:NXM_NX_REG8[]->NXM_NX_TUN_METADATA%d[0..31],"
             "output:%"PRIu32, PIPELINE_T_FORWARD, rck,
             IP_FMT_ARGS(r->subnet.addr), r->subnet.plen,
             IP_FMT_ARGS(r->underlay_ip), CFNET_GENEVE_METADATA_IDX,
             cell->tunnel_ofport);

    /* egress: under policy, a container with a tag may open
     * connections to its containers: they go out with the tag and the
     * c2c-out mark, and its cell decides. */
    if (!cell->c2c_open) {
        uint64_t out = cookie(PIPELINE_CK_C2C, PIPELINE_C2C_OUT);
        add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",ip,"
                 "nw_dst="IP_FMT"/%u,actions=load:%#"PRIx32
                 "->NXM_NX_REG3[],load:%#"PRIx64"->xreg3[],"
                 "goto_table:%d", PIPELINE_T_EGRESS, PRIO_EGRESS_C2C_OUT,
                 out, IP_FMT_ARGS(r->subnet.addr), r->subnet.plen,
                 PIPELINE_C2C_OUT_MARK, out, PIPELINE_T_COMMIT);
    }

    /* egress: no container talks to a cell's Geneve port. */
    add_flow(ctx, "table=%d,priority=%d,cookie=%#"PRIx64",udp,"
             "nw_dst="IP_FMT",tp_dst=%d,actions=goto_table:%d",
             PIPELINE_T_EGRESS, PRIO_EGRESS_GENEVE, rck,
             IP_FMT_ARGS(r->underlay_ip), PIPELINE_GENEVE_PORT,
             PIPELINE_T_REJECT);
}

/* ---- c2c policies ---- */

uint64_t
pipeline_policy_cookie(const struct cf_policy *p)
{
    uint32_t numbers[] = {
        p->src_tag, p->protocol, p->port_start, p->port_end,
    };
    uint32_t h1 = hash_string(p->src_id, 0);
    h1 = hash_string(p->dst_id, h1);
    h1 = hash_words(numbers, ARRAY_SIZE(numbers), h1);
    uint32_t h2 = hash_string(p->src_id, 0x9e3779b9);
    h2 = hash_string(p->dst_id, h2);
    h2 = hash_words(numbers, ARRAY_SIZE(numbers), h2);
    return pipeline_cookie(PIPELINE_CK_POLICY,
                           ((uint64_t) h1 << 32) | h2);
}

/* Adds the flow unless 'table' at 'priority' has one with the same match
 * already (from an earlier policy: the first one wins, and no conflict is
 * counted, since both say the same thing). */
static void
add_flow_once(struct ctx *ctx, uint8_t table, uint16_t priority,
              uint64_t ck, const struct match *m, const struct ofpbuf *acts)
{
    struct minimatch mm;
    minimatch_init(&mm, m);
    bool exists = flow_table_find(ctx->table, table, priority, &mm) != NULL;
    minimatch_destroy(&mm);
    if (!exists) {
        flow_table_add(ctx->table, table, priority, ck, m, acts->data,
                       acts->size);
    }
}

/* The tag of each policy group (app) with containers here that have flows
 * (hence an 'owner' flow that loads the tag into reg10): shash from the
 * group id to the tag.  A container without a tag is in no policy. */
static void
local_group_tags(const struct ctx *ctx, struct shash *tags)
{
    const struct model_container *c;
    HMAP_FOR_EACH (c, node, &ctx->model->containers) {
        if (c->policy_group_id && c->tag
            && ruleset_find(ctx, c->netout, c->staging)) {
            shash_replace(tags, c->policy_group_id,
                          (void *) (uintptr_t) c->tag);
        }
    }
}

/* The flows of policy 'p' on this cell, whose destination app has
 * containers here, with tag 'dst_tag' ('owner' loads it into reg10 for
 * every packet to them):
 *
 *   ingress:  reg8=<source tag>,reg10=<destination tag>,tcp|udp,
 *             tp_dst=<port prefix>  (per prefix of the port range)
 *             reg8=<source tag>,reg10=<destination tag>,udp,nw_frag=later
 *               (UDP: a non-first fragment carries no port; the first
 *               fragment, with the port, decides, as for ASGs)
 *               -> reg3=PIPELINE_C2C_POLICY_MARK, xreg3=<cookie>, commit
 *   ct_state: ct_state=-new+trk,ct_mark=PIPELINE_C2C_POLICY_MARK,
 *             ct_label=<cookie> -> forward
 *
 * all with the policy's cookie.  So a policy costs the same flows however
 * many containers its destination app has here, and a new container of the
 * app costs none of them.  The 'ct_state' flow admits what is established
 * or related: 'ct_state' drops +inv above it, and a tracked packet that is
 * neither new nor invalid is one of the two.  The packets reach 'ingress'
 * from a container of this cell (through 'egress') or from another cell
 * (the tunnel); reg8 is 0 from the host, and tags never are, so the host
 * never matches.  A connection lives as long as its policy's 'ct_state'
 * flow: when the policy goes, its next packet from the source is judged
 * again (by 'egress' and 'ingress' here, by 'ingress' from the tunnel) and
 * dropped or rejected, unless another policy admits it. */
static void
add_policy(struct ctx *ctx, const struct cf_policy *p, uint32_t dst_tag)
{
    uint64_t ck = pipeline_policy_cookie(p);
    uint8_t proto = p->protocol == CF_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
    struct range_prefix16 pfx[32];
    size_t n_pfx = range_to_prefixes16(p->port_start, p->port_end, pfx);

    uint64_t stub[128 / 8];
    struct ofpbuf acts = OFPBUF_STUB_INITIALIZER(stub);
    put_admit_actions(&acts, PIPELINE_C2C_POLICY_MARK, ck,
                      log_c2c(&ctx->model->cell)
                      ? PIPELINE_LOG_C2C_ACCEPT : 0);

    struct match m;
    match_init_catchall(&m);
    match_set_reg(&m, 8, p->src_tag);
    match_set_reg(&m, 10, dst_tag);
    match_set_dl_type(&m, htons(ETH_TYPE_IP));
    match_set_nw_proto(&m, proto);
    for (size_t j = 0; j < n_pfx; j++) {
        struct match pm = m;
        if (pfx[j].mask) {
            match_set_tp_dst_masked(&pm, htons(pfx[j].value),
                                    htons(pfx[j].mask));
        }
        add_flow_once(ctx, PIPELINE_T_INGRESS, PRIO_INGRESS_POLICY, ck,
                      &pm, &acts);
    }
    if (proto == IPPROTO_UDP) {
        match_set_nw_frag_masked(&m, FLOW_NW_FRAG_LATER, FLOW_NW_FRAG_LATER);
        add_flow_once(ctx, PIPELINE_T_INGRESS, PRIO_INGRESS_POLICY, ck,
                      &m, &acts);
    }
    ofpbuf_uninit(&acts);

    ofpbuf_init(&acts, 0);
    ofpact_put_GOTO_TABLE(&acts)->table_id = PIPELINE_T_FORWARD;
    ovs_u128 label = OVS_U128_ZERO, label_mask = OVS_U128_ZERO;
    label.u64.lo = ck;
    label_mask.u64.lo = UINT64_MAX;
    match_init_catchall(&m);
    match_set_ct_state_masked(&m, CS_TRACKED, CS_TRACKED | CS_NEW);
    match_set_ct_mark(&m, PIPELINE_C2C_POLICY_MARK);
    match_set_ct_label_masked(&m, label, label_mask);
    add_flow_once(ctx, PIPELINE_T_CT_STATE, 100, ck, &m, &acts);
    ofpbuf_uninit(&acts);
}

/* ---- rulesets ---- */

/* The hash of a ruleset's contents, from which its id and epoch derive.
 * Hashes the whole text of the rules (which may be 100 kB or more), so it
 * is computed once per ruleset, not per container. */
static uint32_t
ruleset_hash(const struct model_rules *rules, bool staging)
{
    return hash_string(rules ? rules->json : "", staging);
}

/* The hash of a ruleset's key in 'ctx->rulesets': the model interns rule
 * lists, so equal rules are the same pointer. */
static uint32_t
ruleset_key_hash(const struct model_rules *rules, bool staging)
{
    return hash_pointer(rules, staging);
}

static struct ruleset *
ruleset_find(const struct ctx *ctx, const struct model_rules *rules,
             bool staging)
{
    struct ruleset *rs;

    HMAP_FOR_EACH_WITH_HASH (rs, node, ruleset_key_hash(rules, staging),
                             &ctx->rulesets) {
        if (rs->rules == rules && rs->staging == staging) {
            return rs;
        }
    }
    return NULL;
}

static int
compare_rulesets(const void *a_, const void *b_)
{
    const struct ruleset *const *a = a_;
    const struct ruleset *const *b = b_;
    const char *ja = (*a)->rules ? (*a)->rules->json : "";
    const char *jb = (*b)->rules ? (*b)->rules->json : "";
    int cmp = strcmp(ja, jb);
    return cmp ? cmp : (int) (*a)->staging - (int) (*b)->staging;
}

static int
compare_ruleset_ids(const void *a_, const void *b_)
{
    const struct ruleset *const *a = a_;
    const struct ruleset *const *b = b_;

    return (*a)->id < (*b)->id ? -1 : (*a)->id > (*b)->id;
}

/* Groups the containers into rulesets and gives each a stable id (from the
 * hash of its rules, so that adding a container with other rules does not
 * renumber everyone's flows; collisions are resolved deterministically in
 * sorted order) and its epoch.  Leaves the rulesets in ascending id order
 * in 'ctx->by_id' (the caller frees it). */
static void
assign_rulesets(struct ctx *ctx)
{
    /* In ofport order, so that if the cell has more than
     * PIPELINE_MAX_RULESETS rulesets, the containers refused are the same
     * every time (usually the newest). */
    size_t nc = hmap_count(&ctx->model->containers);
    const struct model_container **containers
        = sorted_containers(ctx->model);
    for (size_t j = 0; j < nc; j++) {
        const struct model_container *c = containers[j];
        if (!ruleset_find(ctx, c->netout, c->staging)) {
            if (hmap_count(&ctx->rulesets) >= PIPELINE_MAX_RULESETS) {
                continue;           /* Refused: see pipeline.h. */
            }
            struct ruleset *rs = xzalloc(sizeof *rs);
            rs->rules = c->netout;
            rs->staging = c->staging;
            rs->hash = ruleset_hash(c->netout, c->staging);
            hmap_insert(&ctx->rulesets, &rs->node,
                        ruleset_key_hash(c->netout, c->staging));
        }
    }
    free(containers);

    size_t n = hmap_count(&ctx->rulesets);
    struct ruleset **sorted = xmalloc(MAX(n, 1) * sizeof *sorted);
    size_t i = 0;
    struct ruleset *rs;
    HMAP_FOR_EACH (rs, node, &ctx->rulesets) {
        sorted[i++] = rs;
    }
    qsort(sorted, n, sizeof *sorted, compare_rulesets);

    /* Ids 1..PIPELINE_MAX_RULESETS, and there are no more rulesets than
     * that: the search ends. */
    ovs_assert(n <= PIPELINE_MAX_RULESETS);
    unsigned long *used = bitmap_allocate(PIPELINE_MAX_RULESETS + 1);
    for (i = 0; i < n; i++) {
        rs = sorted[i];
        uint32_t h = rs->hash;
        uint32_t id = (h % PIPELINE_MAX_RULESETS) + 1;
        while (bitmap_is_set(used, id)) {
            id = id % PIPELINE_MAX_RULESETS + 1;
        }
        bitmap_set1(used, id);
        rs->id = id;
        /* The epoch changes whenever the rules or the cell settings do, so
         * connections admitted under the old ones are judged again. */
        rs->epoch = hash_int(h, ctx->cell_hash) & EPOCH_MASK;
        if (!rs->epoch) {
            rs->epoch = 1;
        }
    }
    free(used);

    qsort(sorted, n, sizeof *sorted, compare_ruleset_ids);
    ctx->by_id = sorted;
}

static uint32_t
hash_cell(const struct model_cell *cell)
{
    uint32_t h = hash_bytes(&cell->instance_address,
                            sizeof cell->instance_address, 0);
    h = hash_bytes(cell->dns_servers,
                   cell->n_dns_servers * sizeof *cell->dns_servers, h);
    h = hash_bytes(cell->tcp_services,
                   cell->n_tcp_services * sizeof *cell->tcp_services, h);
    h = hash_bytes(cell->udp_services,
                   cell->n_udp_services * sizeof *cell->udp_services, h);
    h = hash_bytes(cell->deny_always,
                   cell->n_deny_always * sizeof *cell->deny_always, h);
    h = hash_bytes(cell->deny_running,
                   cell->n_deny_running * sizeof *cell->deny_running, h);
    h = hash_bytes(cell->deny_staging,
                   cell->n_deny_staging * sizeof *cell->deny_staging, h);
    h = hash_bytes(cell->overlays, cell->n_overlays * sizeof *cell->overlays,
                   h);
    return h;
}

/* ---- ASG conjunctions ---- */

/* Each rule of a ruleset is one conjunction (see add_asg_rule()).  Rules
 * share flows: every rule of a ruleset has the "who" flow (reg2=ruleset),
 * and rules with a common destination prefix or port prefix share those
 * flows, each flow carrying one conjunction() action per rule that has it.
 * An OpenFlow message holds at most 65,535 bytes, and a conjunction()
 * action takes 16 of them, so a flow must never gather more than a few
 * thousand rules.  Two things bound it:
 *
 *   - every flow of a rule matches on reg2=ruleset, so a flow gathers the
 *     rules of one ruleset only, however many rulesets grant the same
 *     destination;
 *
 *   - a ruleset's rules are split into chunks of ASG_CHUNK rules, and the
 *     flows of chunk c have priority PRIO_EGRESS_ASG - c: flows with the
 *     same match in two chunks are two flows, so a flow carries at most
 *     ASG_CHUNK actions.
 *
 * A packet whose conjunctive (soft) matches complete no conjunction at one
 * priority is looked up again among the lower-priority flows with the same
 * matches (OVS's classifier, "soft match loop" in lib/classifier.c), so a
 * rule in any chunk admits it; tests/system/test-asg-scale.sh shows it with
 * the last of 10,000 rules.  The conjunction id of rule i of ruleset r is
 * r << 16 | i (unique in the cell: cf-record.c refuses a list of more than
 * CF_NETOUT_RULES_MAX rules, and assign_rulesets() gives at most
 * PIPELINE_MAX_RULESETS ids); its verdict flow (conj_id=...) has the
 * chunk's priority. */
#define ASG_CHUNK 2048

/* The encoded size of a conjunction() action (NXAST_CONJUNCTION), and a
 * bound on everything else in the largest ASG flow_mod (the OpenFlow and
 * flow_mod headers, a match on reg2, IP and a prefix, the bundle-add
 * header around it).  A chunk's largest flow_mod is about 32 kB, half of
 * what a message may hold (test-pipeline.c encodes it to check). */
#define ASG_CONJ_LEN 16
#define ASG_FLOW_MOD_OVERHEAD 512
BUILD_ASSERT_DECL(ASG_CHUNK * ASG_CONJ_LEN + ASG_FLOW_MOD_OVERHEAD
                  <= UINT16_MAX);

/* The number of chunks of the largest ruleset, and so of priorities below
 * PRIO_EGRESS_ASG that ASG flows use: all above every other flow in
 * 'egress' that may match a packet the ASGs admit (there is only the
 * table's default, at 0). */
#define ASG_MAX_CHUNKS DIV_ROUND_UP(CF_NETOUT_RULES_MAX, ASG_CHUNK)
BUILD_ASSERT_DECL(PRIO_EGRESS_ASG - ASG_MAX_CHUNKS > 0);
BUILD_ASSERT_DECL(CF_NETOUT_RULES_MAX <= 0x10000);  /* 16 bits in conj id. */

static uint16_t
asg_priority(size_t idx)
{
    return PRIO_EGRESS_ASG - idx / ASG_CHUNK;
}

/* Adds one constituent flow of conjunction 'id' to 'egress', at
 * 'priority'. */
static void
add_conj_clause(struct ctx *ctx, uint16_t priority, const struct match *match,
                uint64_t ck, uint32_t id, uint8_t clause, uint8_t n_clauses)
{
    uint64_t stub[64 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);

    struct ofpact_conjunction *conj = ofpact_put_CONJUNCTION(&ofpacts);
    conj->id = id;
    conj->clause = clause;
    conj->n_clauses = n_clauses;
    flow_table_add(ctx->table, PIPELINE_T_EGRESS, priority, ck, match,
                   ofpacts.data, ofpacts.size);
    ofpbuf_uninit(&ofpacts);
}

/* Initializes 'm' to match the packets of ruleset 'rs' ('ip' if 'proto'
 * is 0, else IP protocol 'proto'). */
static void
asg_match_init(struct match *m, const struct ruleset *rs, uint8_t proto)
{
    match_init_catchall(m);
    match_set_reg(m, 2, rs->id);
    match_set_dl_type(m, htons(ETH_TYPE_IP));
    if (proto) {
        match_set_nw_proto(m, proto);
    }
}

/* Adds the flows for rule 'idx' of ruleset 'rs', all at the priority of
 * the rule's chunk, P = asg_priority(idx):
 *
 *   reg2=<ruleset>                              conjunction(id,1/N)
 *   reg2=<ruleset>,ip,nw_dst=<prefix>           conjunction(id,2/N)
 *     (one per destination prefix)
 *   reg2=<ruleset>,tcp,tp_dst=<port prefix>     conjunction(id,3/3)
 *     (one per port prefix) or
 *   reg2=<ruleset>,icmp,icmp_type=T,icmp_code=C conjunction(id,3/3)
 *   reg2=<ruleset>,tcp,nw_frag=later            conjunction(id,3/3)
 *     (for each protocol: the non-first fragments, see below)
 *   conj_id=id   load cookie->xreg3, goto commit
 *
 * N is 2 for protocol "all", 3 otherwise.
 *
 * A non-first fragment of a datagram carries no ports and no ICMP type
 * (the fields read 0), so it is judged by destination and protocol only:
 * the first fragment of the same datagram is judged by the whole rule, and
 * without it the receiver cannot reassemble the datagram, so the datagram's
 * verdict is the first fragment's.  (The kernel datapath reassembles
 * before conntrack and hands the whole datagram to the pipeline; the
 * userspace datapath reassembles only for conntrack and sends the
 * fragments through one by one: docs/architecture.md, "Fragments".) */
static void
add_asg_rule(struct ctx *ctx, const struct ruleset *rs, size_t idx)
{
    const struct cf_netout_rule *r = &rs->rules->parsed.netout_rules[idx];
    uint32_t id = (rs->id << 16) | (uint32_t) idx;
    uint64_t ck = pipeline_asg_cookie(rs->id, idx);
    uint8_t n_clauses = r->protocol == CF_PROTO_ALL ? 2 : 3;
    uint16_t prio = asg_priority(idx);
    struct match m;

    /* 1: who. */
    match_init_catchall(&m);
    match_set_reg(&m, 2, rs->id);
    add_conj_clause(ctx, prio, &m, ck, id, 0, n_clauses);

    /* 2: where. */
    for (size_t i = 0; i < r->n_networks; i++) {
        struct range_prefix32 pfx[64];
        size_t n = range_to_prefixes32(r->networks[i].start,
                                       r->networks[i].end, pfx);
        for (size_t j = 0; j < n; j++) {
            asg_match_init(&m, rs, 0);
            match_set_nw_dst_masked(&m, htonl(pfx[j].value),
                                    be32_prefix_mask(pfx[j].plen));
            add_conj_clause(ctx, prio, &m, ck, id, 1, n_clauses);
        }
    }

    /* 3: what. */
    uint8_t proto = 0;
    if (r->protocol == CF_PROTO_TCP || r->protocol == CF_PROTO_UDP) {
        proto = r->protocol == CF_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
        for (size_t i = 0; i < r->n_ports; i++) {
            struct range_prefix16 pfx[32];
            size_t n = range_to_prefixes16(r->ports[i].start,
                                           r->ports[i].end, pfx);
            for (size_t j = 0; j < n; j++) {
                asg_match_init(&m, rs, proto);
                if (pfx[j].mask) {
                    match_set_tp_dst_masked(&m, htons(pfx[j].value),
                                            htons(pfx[j].mask));
                }
                add_conj_clause(ctx, prio, &m, ck, id, 2, n_clauses);
            }
        }
    } else if (r->protocol == CF_PROTO_ICMP) {
        proto = IPPROTO_ICMP;
        asg_match_init(&m, rs, proto);
        if (r->icmp_type != CF_ICMP_ANY) {
            match_set_icmp_type(&m, r->icmp_type);
            if (r->icmp_code != CF_ICMP_ANY) {
                match_set_icmp_code(&m, r->icmp_code);
            }
        }
        add_conj_clause(ctx, prio, &m, ck, id, 2, n_clauses);
    }
    if (proto) {
        /* Non-first fragments: see above. */
        asg_match_init(&m, rs, proto);
        match_set_nw_frag_masked(&m, FLOW_NW_FRAG_LATER, FLOW_NW_FRAG_LATER);
        add_conj_clause(ctx, prio, &m, ck, id, 2, n_clauses);
    }

    /* The verdict. */
    uint64_t stub[128 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    put_admit_actions(&ofpacts, 0, ck,
                      log_asg_rule(&ctx->model->cell, r)
                      ? PIPELINE_LOG_ASG_ACCEPT : 0);
    match_init_catchall(&m);
    match_set_conj_id(&m, id);
    flow_table_add(ctx->table, PIPELINE_T_EGRESS, prio, ck, &m,
                   ofpacts.data, ofpacts.size);
    ofpbuf_uninit(&ofpacts);
}

/* The established traffic of connections that rule 'idx' of 'rs' admitted
 * (its cookie is in their ct_label): the same verdict as the ruleset's flow
 * below, one priority up, so that the rule's flow statistics count its
 * packets (flowctl/rule-stats). */
static void
add_asg_rule_established(struct ctx *ctx, const struct ruleset *rs,
                         size_t idx)
{
    uint64_t ck = pipeline_asg_cookie(rs->id, idx);

    add_flow(ctx, "table=%d,priority=101,cookie=%#"PRIx64",ct_state=+est+trk,"
             "reg3=%#"PRIx32",ct_mark=%#"PRIx32",ct_label=%#"PRIx64
             "/0xffffffffffffffff,actions=goto_table:%d",
             PIPELINE_T_CT_STATE, ck, rs->epoch, rs->epoch, ck,
             PIPELINE_T_FORWARD);
}

static void
add_ruleset_flows(struct ctx *ctx, const struct ruleset *rs)
{
    /* Current connections of the ruleset pass conntrack as they are, both
     * ways: reg3 holds the owner's epoch whether the packet comes from the
     * container (classify) or from the host (owner), and is never 0, the
     * mark of an uncommitted connection. */
    static const char *const states[] = { "+est+trk", "+rel+trk" };
    for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
        add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",ct_state=%s,"
                 "reg3=%#"PRIx32",ct_mark=%#"PRIx32",actions=goto_table:%d",
                 PIPELINE_T_CT_STATE,
                 pipeline_asg_cookie(rs->id, PIPELINE_RULESET_EST_INDEX),
                 states[i], rs->epoch, rs->epoch, PIPELINE_T_FORWARD);
    }

    if (rs->rules) {
        for (size_t i = 0; i < rs->rules->parsed.n_netout_rules; i++) {
            add_asg_rule(ctx, rs, i);
            add_asg_rule_established(ctx, rs, i);
        }
    }
}

/* ---- containers ---- */

static uint32_t
netin_mark(const struct model_container *c, const struct cf_port_mapping *pm)
{
    uint32_t h = hash_int(c->ip, hash_int(pm->host_port, pm->container_port));
    return h | NETIN_MARK_BIT;          /* Never 0, never an epoch. */
}

static void
add_container_flows(struct ctx *ctx, const struct model_container *c)
{
    const struct ruleset *rs = ruleset_find(ctx, c->netout, c->staging);
    if (!rs) {
        /* Refused (too many rulesets): no flows, so its packets are
         * dropped in 'classify'. */
        return;
    }
    uint64_t ck = cookie(PIPELINE_CK_CONTAINER, c->ofport);
    uint32_t ip = c->ip;
    struct eth_addr mac;
    memcpy(mac.ea, c->mac, ETH_ADDR_LEN);
    uint8_t gw_mac[6] = CFNET_GATEWAY_MAC;
    struct eth_addr gw;
    memcpy(gw.ea, gw_mac, ETH_ADDR_LEN);

    /* classify: who it is, which rules apply. */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",in_port=%"PRIu32
             ",actions=load:%d->NXM_NX_REG0[],load:%"PRIu32"->NXM_NX_REG1[],"
             "load:%"PRIu32"->NXM_NX_REG2[],load:%#"PRIx32"->NXM_NX_REG3[],"
             "load:%d->NXM_NX_REG5[],load:%#"PRIx32"->NXM_NX_REG8[],"
             "goto_table:%d", PIPELINE_T_CLASSIFY, ck,
             c->ofport, PIPELINE_FROM_CONTAINER, c->ofport, rs->id,
             rs->epoch, c->staging ? 1 : 0, c->tag, PIPELINE_T_SPOOF_GUARD);

    /* spoof_guard: its own MAC and IP only, ARP included. */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg1=%"PRIu32
             ",reg0=%d,ip,dl_src="ETH_ADDR_FMT",nw_src="IP_FMT
             ",actions=goto_table:%d", PIPELINE_T_SPOOF_GUARD, ck, c->ofport,
             PIPELINE_FROM_CONTAINER, ETH_ADDR_ARGS(mac), IP_FMT_ARGS(ip),
             PIPELINE_T_CONNTRACK);
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg1=%"PRIu32
             ",reg0=%d,arp,dl_src="ETH_ADDR_FMT",arp_spa="IP_FMT
             ",arp_sha="ETH_ADDR_FMT",actions=goto_table:%d",
             PIPELINE_T_SPOOF_GUARD, ck, c->ofport, PIPELINE_FROM_CONTAINER,
             ETH_ADDR_ARGS(mac), IP_FMT_ARGS(ip), ETH_ADDR_ARGS(mac),
             PIPELINE_T_ARP);

    /* owner: traffic from the host to this container is its; whatever
     * comes to it learns its app's tag, if it has one (reg10: a policy's
     * 'ingress' flows match the destination app by it). */
    char load_tag[48] = "";
    if (c->tag) {
        snprintf(load_tag, sizeof load_tag,
                 "load:%#"PRIx32"->NXM_NX_REG10[],", c->tag);
        add_flow(ctx, "table=%d,priority=90,cookie=%#"PRIx64",ip,"
                 "nw_dst="IP_FMT",actions=%sgoto_table:%d", PIPELINE_T_OWNER,
                 ck, IP_FMT_ARGS(ip), load_tag, PIPELINE_T_CT_STATE);
    }
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",reg0=%d,ip,"
             "nw_dst="IP_FMT",actions=load:%"PRIu32"->NXM_NX_REG1[],"
             "load:%#"PRIx32"->NXM_NX_REG3[],%sgoto_table:%d",
             PIPELINE_T_OWNER, ck, PIPELINE_FROM_GATEWAY, IP_FMT_ARGS(ip),
             c->ofport, rs->epoch, load_tag, PIPELINE_T_CT_STATE);

    /* forward: deliver. */
    add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",ip,nw_dst="
             IP_FMT",actions=set_field:"ETH_ADDR_FMT"->eth_src,"
             "set_field:"ETH_ADDR_FMT"->eth_dst,output:%"PRIu32,
             PIPELINE_T_FORWARD, ck, IP_FMT_ARGS(ip), ETH_ADDR_ARGS(gw),
             ETH_ADDR_ARGS(mac), c->ofport);

    /* NetIn: the host sends instance_address:host_port here as
     * 169.254.0.1:host_port (a static DNAT on the host); we DNAT it to the
     * container's port and mark the connection with the mapping. */
    for (size_t i = 0; i < c->n_port_mappings; i++) {
        const struct cf_port_mapping *pm = &c->port_mappings[i];
        uint64_t nck = pipeline_netin_cookie(c->ofport, i);
        uint32_t mark = netin_mark(c, pm);
        add_flow(ctx, "table=%d,priority=100,cookie=%#"PRIx64",tcp,"
                 "nw_dst="IP_FMT",tp_dst=%u,actions=load:%"PRIu32
                 "->NXM_NX_REG1[],load:%#"PRIx32"->NXM_NX_REG3[],"
                 "load:%#"PRIx64"->xreg3[],"
                 "ct(commit,zone=%d,nat(dst="IP_FMT":%u),"
                 "exec(move:NXM_NX_REG3[]->NXM_NX_CT_MARK[],"
                 "move:xreg3[]->NXM_NX_CT_LABEL[0..63]),table=%d)",
                 PIPELINE_T_INGRESS, nck, IP_FMT_ARGS(CFNET_GATEWAY_IP),
                 pm->host_port, c->ofport, mark, nck,
                 PIPELINE_CT_ZONE, IP_FMT_ARGS(ip), pm->container_port,
                 PIPELINE_T_FORWARD);
        /* Its established traffic, both ways. */
        add_flow(ctx, "table=%d,priority=110,cookie=%#"PRIx64","
                 "ct_state=+est+trk,reg1=%"PRIu32",ct_mark=%#"PRIx32
                 ",actions=goto_table:%d", PIPELINE_T_CT_STATE, nck,
                 c->ofport, mark, PIPELINE_T_FORWARD);
        add_flow(ctx, "table=%d,priority=110,cookie=%#"PRIx64","
                 "ct_state=+rel+trk,reg1=%"PRIu32",ct_mark=%#"PRIx32
                 ",actions=goto_table:%d", PIPELINE_T_CT_STATE, nck,
                 c->ofport, mark, PIPELINE_T_FORWARD);
    }
}

static int
compare_containers(const void *a_, const void *b_)
{
    const struct model_container *const *a = a_;
    const struct model_container *const *b = b_;
    return (*a)->ofport < (*b)->ofport ? -1 : (*a)->ofport > (*b)->ofport;
}

/* Returns the model's containers in ofport order (a malloc'd array of
 * hmap_count(&model->containers) pointers). */
static const struct model_container **
sorted_containers(const struct model *model)
{
    size_t n = hmap_count(&model->containers), i = 0;
    const struct model_container **sorted = xmalloc(MAX(n, 1)
                                                    * sizeof *sorted);
    const struct model_container *c;

    HMAP_FOR_EACH (c, node, &model->containers) {
        sorted[i++] = c;
    }
    qsort(sorted, n, sizeof *sorted, compare_containers);
    return sorted;
}

static void
ctx_destroy(struct ctx *ctx)
{
    struct ruleset *rs;

    HMAP_FOR_EACH_POP (rs, node, &ctx->rulesets) {
        free(rs);
    }
    hmap_destroy(&ctx->rulesets);
    free(ctx->by_id);
}

/* ---- units: what is recomputed when ---- */

/* The units of the pipeline's flows (flow-units.h), in the order their
 * flows combine where two have the same key: the cell's fixed flows, each
 * remote cell's, each ruleset's (by id), each container's (by ofport),
 * each c2c policy's (by cookie).  A unit's signature holds everything its
 * flows are made from, so that equal signatures mean equal flows. */
enum unit_kind {
    UNIT_CELL = 1,
    UNIT_REMOTE,
    UNIT_RULESET,
    UNIT_CONTAINER,
    UNIT_POLICY,
};

struct pipeline {
    struct flow_units *units;
    struct pipeline_ruleset *rulesets;  /* The last run's, in ascending */
    size_t n_rulesets;                  /* id, without their containers. */
};

static void
sig_u32(struct ds *sig, uint32_t x)
{
    ds_put_buffer(sig, (const char *) &x, sizeof x);
}

/* Puts the string 's' with its terminating null, so that "ab","c" and
 * "a","bc" differ. */
static void
sig_str(struct ds *sig, const char *s)
{
    ds_put_buffer(sig, s, strlen(s) + 1);
}

static void
sig_pair(struct ds *sig, uint32_t a, uint32_t b)
{
    uint32_t pair[2] = { a, b };
    ds_put_buffer(sig, (const char *) pair, sizeof pair);
}

static void
sig_cidrs(struct ds *sig, const struct ipv4_cidr *cidrs, size_t n)
{
    sig_u32(sig, n);
    for (size_t i = 0; i < n; i++) {
        sig_pair(sig, cidrs[i].addr, cidrs[i].plen);
    }
}

static void
sig_services(struct ds *sig, const struct model_service *svc, size_t n)
{
    sig_u32(sig, n);
    for (size_t i = 0; i < n; i++) {
        sig_pair(sig, svc[i].ip, svc[i].port);
    }
}

/* Everything of the cell that flows depend on. */
static void
sig_cell(struct ds *sig, const struct model_cell *cell)
{
    sig_u32(sig, cell->instance_address);
    sig_cidrs(sig, cell->overlays, cell->n_overlays);
    sig_cidrs(sig, &cell->subnet, 1);
    sig_u32(sig, cell->c2c_open);
    sig_u32(sig, cell->n_dns_servers);
    for (size_t i = 0; i < cell->n_dns_servers; i++) {
        sig_u32(sig, cell->dns_servers[i]);
    }
    sig_services(sig, cell->tcp_services, cell->n_tcp_services);
    sig_services(sig, cell->udp_services, cell->n_udp_services);
    sig_cidrs(sig, cell->deny_always, cell->n_deny_always);
    sig_cidrs(sig, cell->deny_running, cell->n_deny_running);
    sig_cidrs(sig, cell->deny_staging, cell->n_deny_staging);
    sig_u32(sig, cell->gateway_ofport);
    sig_u32(sig, cell->gateway_host_ip);
    ds_put_buffer(sig, (const char *) cell->gateway_host_mac,
                  sizeof cell->gateway_host_mac);
    sig_u32(sig, cell->tunnel_ofport);
    sig_u32(sig, cell->logging);
    sig_u32(sig, cell->asg_logging);
    sig_u32(sig, cell->c2c_logging);
}

/* Computes unit ('kind', 'id'), whose signature is 'sig', with 'add' unless
 * it is unchanged.  'add' adds its flows to 'ctx->table'. */
static void
run_unit(struct ctx *ctx, enum unit_kind kind, uint64_t id,
         const struct ds *sig, void (*add)(struct ctx *, const void *aux),
         const void *aux)
{
    struct flow_units *fu = ctx->units;

    if (!flow_units_unchanged(fu, kind, id, sig->string, sig->length)) {
        struct flow_table t;
        flow_table_init(&t);
        ctx->table = &t;
        add(ctx, aux);
        ctx->table = NULL;
        flow_units_set(fu, kind, id, sig->string, sig->length, &t);
        flow_table_destroy(&t);
    }
}

static void
add_cell_unit(struct ctx *ctx, const void *aux OVS_UNUSED)
{
    add_fixed_flows(ctx);
    add_host_allow_flows(ctx);
    add_deny_flows(ctx);
    add_overlay_flows(ctx);
}

/* The remotes in 'aux' (a "struct remote_run"): usually one; more only if
 * the directory lists two cells at one underlay address. */
struct remote_run {
    const struct model_remote *remotes;
    size_t n;
};

static void
add_remote_unit(struct ctx *ctx, const void *run_)
{
    const struct remote_run *run = run_;

    for (size_t i = 0; i < run->n; i++) {
        if (remote_is_valid(&ctx->model->cell, &run->remotes[i])) {
            add_remote_flows(ctx, &run->remotes[i]);
        }
    }
}

static void
run_remote_units(struct ctx *ctx, const struct ds *cell_sig)
{
    const struct model *model = ctx->model;
    struct ds sig = DS_EMPTY_INITIALIZER;

    if (!model->cell.tunnel_ofport) {
        return;
    }
    /* The remotes are in ascending underlay address (model.h). */
    for (size_t i = 0; i < model->n_remotes; ) {
        struct remote_run run = { &model->remotes[i], 1 };
        while (i + run.n < model->n_remotes
               && (model->remotes[i + run.n].underlay_ip
                   == run.remotes[0].underlay_ip)) {
            run.n++;
        }
        ds_clear(&sig);
        ds_put_buffer(&sig, cell_sig->string, cell_sig->length);
        for (size_t j = 0; j < run.n; j++) {
            sig_u32(&sig, run.remotes[j].underlay_ip);
            sig_cidrs(&sig, &run.remotes[j].subnet, 1);
        }
        run_unit(ctx, UNIT_REMOTE, run.remotes[0].underlay_ip, &sig,
                 add_remote_unit, &run);
        i += run.n;
    }
    ds_destroy(&sig);
}

static void
add_ruleset_unit(struct ctx *ctx, const void *rs)
{
    add_ruleset_flows(ctx, rs);
}

static void
add_container_unit(struct ctx *ctx, const void *c)
{
    add_container_flows(ctx, c);
}

/* A c2c policy unit: the policies with one cookie (one, unless two
 * policies' cookies collide) and the tags of the local apps
 * (local_group_tags()). */
struct policy_run {
    const struct cf_policy **policies;
    size_t n;
    const struct shash *tags;
};

static uint32_t
policy_dst_tag(const struct shash *tags, const struct cf_policy *p)
{
    return (uintptr_t) shash_find_data(tags, p->dst_id);
}

static void
add_policy_unit(struct ctx *ctx, const void *run_)
{
    const struct policy_run *run = run_;

    for (size_t i = 0; i < run->n; i++) {
        add_policy(ctx, run->policies[i],
                   policy_dst_tag(run->tags, run->policies[i]));
    }
}

struct policy_ref {
    uint64_t cookie;
    const struct cf_policy *p;
};

static int
compare_policy_refs(const void *a_, const void *b_)
{
    const struct policy_ref *a = a_;
    const struct policy_ref *b = b_;

    return a->cookie < b->cookie ? -1 : a->cookie > b->cookie;
}

/* The c2c policies whose destination has containers on this cell (under
 * policy: with disable_container_network_policy everything is open). */
static void
run_policy_units(struct ctx *ctx)
{
    const struct model *model = ctx->model;
    const struct model_policy_state *ps = &model->policy;

    if (model->cell.c2c_open || !ps->n_policies) {
        return;
    }

    struct shash groups = SHASH_INITIALIZER(&groups);
    local_group_tags(ctx, &groups);
    struct policy_ref *refs = xmalloc(ps->n_policies * sizeof *refs);
    size_t n = 0;
    for (size_t i = 0; i < ps->n_policies; i++) {
        const struct cf_policy *p = &ps->policies[i];
        if (p->src_tag && shash_find(&groups, p->dst_id)) {
            refs[n].cookie = pipeline_policy_cookie(p);
            refs[n++].p = p;
        }
    }
    /* Stable: colliding policies stay in the model's (sorted) order. */
    qsort(refs, n, sizeof *refs, compare_policy_refs);

    struct ds sig = DS_EMPTY_INITIALIZER;
    const struct cf_policy **run_policies = xmalloc(MAX(n, 1)
                                                    * sizeof *run_policies);
    for (size_t i = 0; i < n; ) {
        size_t k = 0;
        do {
            run_policies[k] = refs[i + k].p;
            k++;
        } while (i + k < n && refs[i + k].cookie == refs[i].cookie);

        ds_clear(&sig);
        for (size_t j = 0; j < k; j++) {
            const struct cf_policy *p = run_policies[j];
            sig_str(&sig, p->src_id);
            sig_str(&sig, p->dst_id);
            sig_u32(&sig, p->src_tag);
            sig_u32(&sig, p->protocol);
            sig_u32(&sig, p->port_start);
            sig_u32(&sig, p->port_end);
            sig_u32(&sig, policy_dst_tag(&groups, p)); /* In reg10. */
        }
        sig_u32(&sig, log_c2c(&model->cell));
        struct policy_run run = { run_policies, k, &groups };
        run_unit(ctx, UNIT_POLICY, refs[i].cookie, &sig, add_policy_unit,
                 &run);
        i += k;
    }
    ds_destroy(&sig);
    free(run_policies);
    free(refs);
    shash_destroy(&groups);
}

struct pipeline *
pipeline_create(void)
{
    struct pipeline *p = xzalloc(sizeof *p);

    p->units = flow_units_create();
    flow_units_allow_overlap(p->units, UNIT_POLICY);
    return p;
}

void
pipeline_destroy(struct pipeline *p)
{
    if (p) {
        flow_units_destroy(p->units);
        free(p->rulesets);
        free(p);
    }
}

void
pipeline_run(struct pipeline *p, const struct model *model)
{
    struct ctx ctx = {
        .model = model,
        .units = p->units,
        .rulesets = HMAP_INITIALIZER(&ctx.rulesets),
        .cell_hash = hash_cell(&model->cell),
    };
    struct ds sig = DS_EMPTY_INITIALIZER;
    struct ds cell_sig = DS_EMPTY_INITIALIZER;

    flow_units_begin(p->units);
    assign_rulesets(&ctx);

    sig_cell(&cell_sig, &model->cell);
    run_unit(&ctx, UNIT_CELL, 0, &cell_sig, add_cell_unit, NULL);
    run_remote_units(&ctx, &cell_sig);

    for (size_t i = 0; i < hmap_count(&ctx.rulesets); i++) {
        const struct ruleset *rs = ctx.by_id[i];
        ds_clear(&sig);
        sig_u32(&sig, rs->id);
        sig_u32(&sig, rs->epoch);
        sig_u32(&sig, rs->staging);
        sig_str(&sig, rs->rules ? rs->rules->json : "");
        sig_u32(&sig, model->cell.logging);     /* log_asg_rule(). */
        sig_u32(&sig, model->cell.asg_logging);
        run_unit(&ctx, UNIT_RULESET, rs->id, &sig, add_ruleset_unit, rs);
    }

    const struct model_container **sorted = sorted_containers(model);
    for (size_t i = 0; i < hmap_count(&model->containers); i++) {
        const struct model_container *c = sorted[i];
        const struct ruleset *rs = ruleset_find(&ctx, c->netout, c->staging);
        if (!rs) {
            continue;           /* Refused: no flows (see pipeline.h). */
        }
        ds_clear(&sig);
        sig_u32(&sig, c->ofport);
        sig_u32(&sig, c->ip);
        ds_put_buffer(&sig, (const char *) c->mac, sizeof c->mac);
        sig_u32(&sig, c->staging);
        sig_u32(&sig, c->tag);
        sig_u32(&sig, rs->id);
        sig_u32(&sig, rs->epoch);
        sig_u32(&sig, c->n_port_mappings);
        for (size_t j = 0; j < c->n_port_mappings; j++) {
            sig_u32(&sig, c->port_mappings[j].host_port);
            sig_u32(&sig, c->port_mappings[j].container_port);
        }
        run_unit(&ctx, UNIT_CONTAINER, c->ofport, &sig, add_container_unit,
                 c);
    }
    run_policy_units(&ctx);
    free(sorted);

    flow_units_end(p->units);

    size_t n = hmap_count(&ctx.rulesets);
    p->rulesets = xrealloc(p->rulesets, MAX(n, 1) * sizeof *p->rulesets);
    p->n_rulesets = n;
    for (size_t i = 0; i < n; i++) {
        const struct ruleset *rs = ctx.by_id[i];
        p->rulesets[i] = (struct pipeline_ruleset) {
            .id = rs->id,
            .epoch = rs->epoch,
            .staging = rs->staging,
            .rules = rs->rules,
        };
    }

    ds_destroy(&sig);
    ds_destroy(&cell_sig);
    ctx_destroy(&ctx);
}

const struct pipeline_ruleset *
pipeline_rulesets(const struct pipeline *p, size_t *n)
{
    *n = p->n_rulesets;
    return p->rulesets;
}

const struct flow_table *
pipeline_flows(const struct pipeline *p)
{
    return flow_units_table(p->units);
}

size_t
pipeline_n_conflicts(const struct pipeline *p)
{
    return flow_units_n_conflicts(p->units);
}

void
pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *stats)
{
    struct flow_units_stats fs;

    flow_units_get_stats(p->units, &fs);
    *stats = (struct pipeline_stats) {
        .n_units = fs.n_units,
        .n_computed = fs.n_computed,
        .n_removed = fs.n_removed,
        .n_flows_changed = fs.n_flows_changed,
    };
}

void
pipeline_compute(const struct model *model, struct flow_table *table)
{
    struct pipeline *p = pipeline_create();

    pipeline_run(p, model);
    flow_units_take_table(p->units, table);
    pipeline_destroy(p);
}

/* Counts the flows of 'a' that 'b' lacks (or, if 'values', has with
 * another cookie or other actions), describing up to '*room' of them in
 * 's', each prefixed by 'what'. */
static size_t
count_missing(const struct flow_table *a, const struct flow_table *b,
              bool values, const char *what, struct ds *s, size_t *room)
{
    const struct flow_entry *f;
    size_t n = 0;

    HMAP_FOR_EACH (f, node, &a->flows) {
        const struct flow_entry *g = flow_table_find_like(b, f);
        if (!g || (values && !flow_entry_same_value(f, g))) {
            n++;
            if (*room) {
                (*room)--;
                ds_put_cstr(s, what);
                flow_entry_format(f, s);
                ds_put_char(s, '\n');
            }
        }
    }
    return n;
}

size_t
pipeline_check(const struct pipeline *p, const struct model *model,
               struct ds *report)
{
    const struct flow_table *inc = pipeline_flows(p);
    struct flow_table full;
    size_t room = 10;

    flow_table_init(&full);
    pipeline_compute(model, &full);
    size_t n = count_missing(inc, &full, true, "incremental: ", report,
                             &room);
    n += count_missing(&full, inc, false, "full recompute only: ", report,
                       &room);
    if (flow_table_n_conflicts(&full) != pipeline_n_conflicts(p)) {
        ds_put_format(report, "conflicts: %"PRIuSIZE" incremental, "
                      "%"PRIuSIZE" full\n", pipeline_n_conflicts(p),
                      flow_table_n_conflicts(&full));
        n++;
    }
    flow_table_destroy(&full);
    return n;
}

void
pipeline_container_ruleset(const struct model *model, uint32_t ofport,
                           struct pipeline_ruleset_info *info)
{
    struct ctx ctx = {
        .model = model,
        .rulesets = HMAP_INITIALIZER(&ctx.rulesets),
        .cell_hash = hash_cell(&model->cell),
    };
    const struct model_container *c = model_find_container(model, ofport);

    memset(info, 0, sizeof *info);
    assign_rulesets(&ctx);
    if (c) {
        const struct ruleset *rs = ruleset_find(&ctx, c->netout, c->staging);
        if (rs) {
            info->ruleset = rs->id;
            info->epoch = rs->epoch;
        }
    }
    ctx_destroy(&ctx);
}

size_t
pipeline_get_rulesets(const struct model *model,
                      struct pipeline_ruleset **rulesetsp)
{
    struct ctx ctx = {
        .model = model,
        .rulesets = HMAP_INITIALIZER(&ctx.rulesets),
        .cell_hash = hash_cell(&model->cell),
    };

    assign_rulesets(&ctx);
    size_t n = hmap_count(&ctx.rulesets);
    struct pipeline_ruleset *out = xcalloc(MAX(n, 1), sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const struct ruleset *rs = ctx.by_id[i];
        out[i].id = rs->id;
        out[i].epoch = rs->epoch;
        out[i].staging = rs->staging;
        out[i].rules = rs->rules;
        out[i].containers = xmalloc(MAX(hmap_count(&model->containers), 1)
                                    * sizeof *out[i].containers);
    }

    /* Each container joins its ruleset, in ofport order. */
    size_t nc = hmap_count(&model->containers);
    const struct model_container **sorted = sorted_containers(model);
    for (size_t j = 0; j < nc; j++) {
        const struct ruleset *rs = ruleset_find(&ctx, sorted[j]->netout,
                                                sorted[j]->staging);
        if (!rs) {
            continue;               /* Refused. */
        }
        struct pipeline_ruleset *prs = CONST_CAST(
            struct pipeline_ruleset *,
            pipeline_find_ruleset(out, n, rs->id));
        prs->containers[prs->n_containers++] = sorted[j];
    }
    free(sorted);
    ctx_destroy(&ctx);

    *rulesetsp = out;
    return n;
}

void
pipeline_rulesets_destroy(struct pipeline_ruleset *rulesets, size_t n)
{
    if (rulesets) {
        for (size_t i = 0; i < n; i++) {
            free(rulesets[i].containers);
        }
        free(rulesets);
    }
}

const struct pipeline_ruleset *
pipeline_find_ruleset(const struct pipeline_ruleset *rulesets, size_t n,
                      uint32_t id)
{
    /* In ascending id: a binary search. */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rulesets[mid].id == id) {
            return &rulesets[mid];
        } else if (rulesets[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}
