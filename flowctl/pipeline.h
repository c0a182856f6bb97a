/*
 * pipeline: the pure translation from the cell model to the desired
 * OpenFlow table.  No I/O: model in, flows out (tests/unit/test-pipeline.c
 * drives it).  docs/architecture.md ("The flow pipeline") explains the
 * tables; the names below are the contract operators see in
 * `ovs-ofctl dump-flows --names` (flowctl writes them to OVSDB Flow_Table
 * rows).
 *
 * Registers, set in 'classify', 'owner' and (NetIn) 'ingress' and read
 * later:
 *   reg0  where the packet came from: PIPELINE_FROM_CONTAINER,
 *         PIPELINE_FROM_GATEWAY or PIPELINE_FROM_TUNNEL ('classify')
 *   reg1  ofport of the container whose connection this is ("owner":
 *         'classify' for its own packets, 'owner' for the host's, 'ingress'
 *         for NetIn)
 *   reg2  the sender's ruleset id (containers with equal NetOut rules and
 *         workload share one; 'classify')
 *   reg3  the ct_mark the connection must carry: the ruleset's epoch for
 *         egress ('classify', 'owner'), the port mapping's mark for NetIn
 *         ('ingress'), a c2c mark for container-to-container connections
 *         ('egress', 'ingress': PIPELINE_C2C_*_MARK)
 *   reg4  the traffic log: what the flow that admitted the connection asks
 *         the 'log' table to log (enum pipeline_log_kind; 0: nothing)
 *   reg5  1 for staging containers, else 0 ('classify')
 *   reg8  the policy tag of the app that sent the packet, as the policy
 *         server assigned it (0: its app is in no policy): set in
 *         'classify' for containers, from the Geneve option (all 32 bits)
 *         for packets from other cells; sent in the Geneve option to other
 *         cells.  'ingress' admits container-to-container connections by
 *         it (source tag x destination tag x protocol x port)
 *   reg9  scratch (ARP responder)
 *   reg10 the policy tag of the destination's app when the packet goes to
 *         a container of this cell whose app has one, else 0 ('owner');
 *         so a policy's 'ingress' flows name its destination app once,
 *         not once per container of the app
 *   xreg3 (reg6, reg7) the cookie of the rule that admitted the connection
 *         (set by the allowing flow in 'egress' or 'ingress': an ASG rule,
 *         a c2c policy, ...), committed to ct_label[0..63], so conntrack
 *         entries name their rule
 */

#ifndef FLOWCTL_PIPELINE_H
#define FLOWCTL_PIPELINE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow_table;
struct model;
struct model_container;
struct model_rules;

/* Tables, in pipeline order.  Each name is unique; see pipeline_table_name().
 * Keep in sync with 'table_names' in pipeline.c (a build-time assertion
 * checks the count). */
#define PIPELINE_TABLES                         \
    PT(CLASSIFY,    0, "classify")              \
    PT(SPOOF_GUARD, 1, "spoof_guard")           \
    PT(ARP,         2, "arp")                   \
    PT(CONNTRACK,   3, "conntrack")             \
    PT(OWNER,       4, "owner")                 \
    PT(CT_STATE,    5, "ct_state")              \
    PT(EGRESS,      6, "egress")                \
    PT(INGRESS,     7, "ingress")               \
    PT(COMMIT,      8, "commit")                \
    PT(FORWARD,     9, "forward")               \
    PT(REJECT,     10, "reject")            \
    PT(LOG,        11, "log")

enum pipeline_table {
#define PT(ENUM, ID, NAME) PIPELINE_T_##ENUM = ID,
    PIPELINE_TABLES
#undef PT
    PIPELINE_N_TABLES
};

const char *pipeline_table_name(enum pipeline_table);

/* reg0 values. */
#define PIPELINE_FROM_CONTAINER 1
#define PIPELINE_FROM_GATEWAY 2
#define PIPELINE_FROM_TUNNEL 3          /* Another cell, over Geneve. */

/* The Geneve port's UDP port: containers may not send to it on any cell
 * (a forged tag would arrive from a known cell's address). */
#define PIPELINE_GENEVE_PORT 6081

/* ct_marks of container-to-container connections.  Egress epochs use the
 * low 30 bits only, NetIn marks have the top bit set, these bit 30 alone:
 * none of them ever meets another.
 *
 *   PIPELINE_C2C_OPEN_MARK    admitted while disable_container_network_
 *                             policy is set (both ends);
 *   PIPELINE_C2C_POLICY_MARK  admitted by a policy in 'ingress', at the
 *                             destination's cell; the policy's cookie is
 *                             in ct_label, so that the connection lives
 *                             only as long as its policy;
 *   PIPELINE_C2C_OUT_MARK     sent to another cell by a container with a
 *                             tag, at the source's cell (the destination's
 *                             cell decides). */
#define PIPELINE_C2C_OPEN_MARK 0x40000001u
#define PIPELINE_C2C_POLICY_MARK 0x40000002u
#define PIPELINE_C2C_OUT_MARK 0x40000003u

/* The conntrack zone of the cell's containers. */
#define PIPELINE_CT_ZONE 1

/* Meters (OpenFlow 1.3, packets per second), each on one purpose's
 * packet-ins, so that a noisy kind cannot use up a quiet one's budget:
 *
 *   REJECT          denied packets to pinctrl, to answer (reject_rate)
 *   LOG_ASG_ACCEPT  traffic log: connections an ASG rule admits, TCP,
 *                   ICMP and other protocols (one packet-in per new
 *                   connection; PIPELINE_LOG_ACCEPT_RATE)
 *   LOG_ASG_UDP     ... UDP (every packet until the first reply:
 *                   accepted_udp_logs_per_sec)
 *   LOG_ASG_DENY    ... egress the ASGs deny (denied_logs_per_sec)
 *   LOG_C2C_ACCEPT  ... c2c connections a policy admits, TCP
 *   LOG_C2C_UDP     ... UDP (accepted_udp_logs_per_sec)
 *   LOG_C2C_DENY    ... c2c no policy admits (denied_logs_per_sec)
 *
 * Ids are fixed: flowctl/show names a meter from its id. */
#define PIPELINE_METERS                                 \
    PM(REJECT,         1, "reject")                     \
    PM(LOG_ASG_ACCEPT, 2, "log-asg-accept")             \
    PM(LOG_ASG_UDP,    3, "log-asg-udp")                \
    PM(LOG_ASG_DENY,   4, "log-asg-deny")               \
    PM(LOG_C2C_ACCEPT, 5, "log-c2c-accept")             \
    PM(LOG_C2C_UDP,    6, "log-c2c-udp")                \
    PM(LOG_C2C_DENY,   7, "log-c2c-deny")

enum pipeline_meter {
#define PM(ENUM, ID, NAME) PIPELINE_METER_##ENUM = ID,
    PIPELINE_METERS
#undef PM
};

/* The name of meter 'id' ("reject", ...), or NULL if there is none. */
const char *pipeline_meter_name(uint32_t id);

/* The rate of PIPELINE_METER_LOG_ASG_ACCEPT and _LOG_C2C_ACCEPT: high
 * enough for every new connection of a busy cell, low enough that
 * flowctl's traffic log keeps up. */
#define PIPELINE_LOG_ACCEPT_RATE 10000

/* Traffic logging (docs/architecture.md, "Traffic logging").  A flow that
 * decides a connection the operator asked to log sends a copy of its
 * packet to flowctl's traffic log, an OpenFlow connection of its own with
 * controller id PIPELINE_LOG_CONTROLLER_ID (pinctrl's is 0, the default):
 *
 *   - an accept: the flow that admits it also loads its kind into reg4
 *     (and, as always, the rule's cookie into xreg3) and resubmits to
 *     'log', which sends the copy through the meter of the kind and
 *     protocol; the packet then goes on, to 'commit', as without logging;
 *   - a deny: the flow that denies it sends the copy itself, then goes to
 *     'reject' (or drops the packet) as without logging.
 *
 * The copy is a clone: a meter that drops it drops only the copy
 * (ofproto-dpif-xlate.c puts clone(meter, userspace) in the datapath
 * actions).  It holds the packet's first PIPELINE_LOG_MAX_LEN bytes; the
 * controller action's userdata is one byte, the kind.  What the packet-in's
 * metadata says, by kind:
 *
 *   PIPELINE_LOG_ASG_ACCEPT    egress an ASG rule admitted: xreg3 (reg6,
 *                              reg7) is pipeline_asg_cookie(ruleset,
 *                              rule); reg1 the sender's ofport
 *   PIPELINE_LOG_EGRESS_DENY   egress no rule admitted (the default
 *                              deny): reg1 the sender's ofport
 *   PIPELINE_LOG_C2C_ACCEPT    c2c a policy admitted: xreg3 is
 *                              pipeline_policy_cookie(); the packet's
 *                              destination address is the receiving
 *                              container, of this cell; reg8 the sender's
 *                              tag
 *   PIPELINE_LOG_C2C_DENY_IN   c2c to a container of this cell that no
 *                              policy admits: the destination address is
 *                              the receiving container; reg8 the sender's
 *                              tag (0: none); reg0 PIPELINE_FROM_CONTAINER
 *                              or PIPELINE_FROM_TUNNEL
 *   PIPELINE_LOG_C2C_DENY_OUT  c2c to another cell's container from a
 *                              container without a tag (no policy can
 *                              admit it): reg1 the sender's ofport
 *
 * reg8 is the 'mark' of the log line.  Registers that are 0 are absent
 * from a packet-in's metadata (read them as 0). */
#define PIPELINE_LOG_CONTROLLER_ID 2
#define PIPELINE_LOG_MAX_LEN 128

enum pipeline_log_kind {
    PIPELINE_LOG_ASG_ACCEPT = 0x11,
    PIPELINE_LOG_EGRESS_DENY = 0x12,
    PIPELINE_LOG_C2C_ACCEPT = 0x13,
    PIPELINE_LOG_C2C_DENY_IN = 0x14,
    PIPELINE_LOG_C2C_DENY_OUT = 0x15,
};

/* controller() userdata of the reject flows (first byte; the traffic
 * log's are enum pipeline_log_kind). */
#define PIPELINE_PIN_REJECT_TCP 1       /* Answer with a TCP RST. */
#define PIPELINE_PIN_REJECT_ICMP 2      /* Answer with ICMP unreachable. */

/* Cookies say which rule made a flow: the top byte is the kind, the rest
 * an id whose meaning depends on it.
 *
 *   kind                   id (low 56 bits; the helpers below make and
 *                          decode them)
 *   PIPELINE_CK_FIXED      0: a fixed pipeline flow
 *   PIPELINE_CK_CONTAINER  container ofport: classify, spoof guard, owner,
 *                          forward flows of that container
 *   PIPELINE_CK_ASG        ruleset << 24 | rule index (0-based, in the
 *                          container's cf-netout-rules)
 *   PIPELINE_CK_DENY       0 always, 1 running, 2 staging << 24 | index
 *   PIPELINE_CK_HOST       DNS (0 << 24 | index) or host service
 *                          (1 tcp / 2 udp << 24 | index)
 *   PIPELINE_CK_NETIN      container ofport << 16 | mapping index
 *   PIPELINE_CK_DEFAULT    the default reject of each table
 *   PIPELINE_CK_OVERLAY    0: the tunnel's fixed flows and c2c with
 *                          disable_container_network_policy; otherwise
 *                          the remote cell's underlay IP: its spoof guard,
 *                          forward and Geneve-port flows
 *   PIPELINE_CK_POLICY     a c2c policy: pipeline_policy_cookie(), a
 *                          56-bit hash of the policy (source tag, source
 *                          and destination ids, protocol, ports), the same
 *                          on every cell and whatever else the server
 *                          sends: its 'ingress' flows and its connections'
 *                          'ct_state' flows
 *   PIPELINE_CK_C2C        the fixed c2c flows under policy: enum
 *                          pipeline_c2c_flow
 *
 * 'flowctl/show' lists rulesets and the containers in each, so an operator
 * can go from a cookie to the rule behind it. */
#define PIPELINE_CK_FIXED     0x01
#define PIPELINE_CK_CONTAINER 0x02
#define PIPELINE_CK_ASG       0x03
#define PIPELINE_CK_DENY      0x04
#define PIPELINE_CK_HOST      0x05
#define PIPELINE_CK_NETIN     0x06
#define PIPELINE_CK_DEFAULT   0x07
#define PIPELINE_CK_OVERLAY   0x08
#define PIPELINE_CK_POLICY    0x09
#define PIPELINE_CK_C2C       0x0a

/* PIPELINE_CK_C2C's ids. */
enum pipeline_c2c_flow {
    PIPELINE_C2C_LOCAL = 1,     /* egress: a container of this cell, judged
                                 * by 'ingress'. */
    PIPELINE_C2C_UNTAGGED = 2,  /* egress: another cell's container from a
                                 * container without a tag: rejected. */
    PIPELINE_C2C_OUT = 3,       /* egress: another cell's container, from a
                                 * container with a tag: to the tunnel, and
                                 * those connections' 'ct_state' flows. */
    PIPELINE_C2C_REJUDGE = 4,   /* ct_state: a stale connection's packets
                                 * from the tunnel go to 'ingress' again. */
    PIPELINE_C2C_LOCAL_DENY = 5,        /* ingress, with c2c logging: what
                                         * no policy admits from a
                                         * container of this cell, logged
                                         * and rejected. */
};

/* The id of PIPELINE_CK_HOST's closing flows (the overlay, the cell's own
 * addresses). */
#define PIPELINE_HOST_CLOSING 0xffffff

/* A cookie is the kind in its top 8 bits and the id in the other 56. */
#define PIPELINE_COOKIE_ID_BITS 56
#define PIPELINE_COOKIE_ID_MASK ((UINT64_C(1) << PIPELINE_COOKIE_ID_BITS) - 1)
#define PIPELINE_COOKIE_KIND_MASK (~PIPELINE_COOKIE_ID_MASK)

static inline uint64_t
pipeline_cookie(uint8_t kind, uint64_t id)
{
    return ((uint64_t) kind << PIPELINE_COOKIE_ID_BITS)
           | (id & PIPELINE_COOKIE_ID_MASK);
}

static inline uint8_t
pipeline_cookie_kind(uint64_t cookie)
{
    return cookie >> PIPELINE_COOKIE_ID_BITS;
}

static inline uint64_t
pipeline_cookie_id(uint64_t cookie)
{
    return cookie & PIPELINE_COOKIE_ID_MASK;
}

/* The ids of PIPELINE_CK_ASG, PIPELINE_CK_DENY and PIPELINE_CK_HOST are a
 * set (the ruleset id; the deny list; DNS or a host service protocol) in
 * bits 24 to 55 and an index in that set in bits 0 to 23 (an index is
 * masked to 24 bits). */
#define PIPELINE_COOKIE_INDEX_BITS 24
#define PIPELINE_COOKIE_INDEX_MAX ((1u << PIPELINE_COOKIE_INDEX_BITS) - 1)

static inline uint64_t
pipeline_cookie_indexed(uint8_t kind, uint32_t set, uint32_t index)
{
    return pipeline_cookie(kind,
                           ((uint64_t) set << PIPELINE_COOKIE_INDEX_BITS)
                           | (index & PIPELINE_COOKIE_INDEX_MAX));
}

/* The set and the index of a cookie made by pipeline_cookie_indexed(). */
static inline uint32_t
pipeline_cookie_set(uint64_t cookie)
{
    return pipeline_cookie_id(cookie) >> PIPELINE_COOKIE_INDEX_BITS;
}

static inline uint32_t
pipeline_cookie_index(uint64_t cookie)
{
    return cookie & PIPELINE_COOKIE_INDEX_MAX;
}

/* PIPELINE_CK_ASG: rule 'rule' (0-based, in the container's
 * cf-netout-rules, or PIPELINE_RULESET_EST_INDEX) of ruleset 'ruleset'.
 * pipeline_cookie_set() and pipeline_cookie_index() decode it. */
static inline uint64_t
pipeline_asg_cookie(uint32_t ruleset, uint32_t rule)
{
    return pipeline_cookie_indexed(PIPELINE_CK_ASG, ruleset, rule);
}

/* PIPELINE_CK_DENY's sets: the deny_networks lists. */
enum pipeline_deny_list {
    PIPELINE_DENY_ALWAYS,
    PIPELINE_DENY_RUNNING,
    PIPELINE_DENY_STAGING,
};

static inline uint64_t
pipeline_deny_cookie(enum pipeline_deny_list list, uint32_t index)
{
    return pipeline_cookie_indexed(PIPELINE_CK_DENY, list, index);
}

/* PIPELINE_CK_HOST's sets: DNS servers, host TCP and UDP services.  The
 * closing flows' id, PIPELINE_HOST_CLOSING, is set 0 (DNS) with the largest
 * index, which no DNS server has. */
enum pipeline_host_set {
    PIPELINE_HOST_DNS,
    PIPELINE_HOST_TCP,
    PIPELINE_HOST_UDP,
};

static inline uint64_t
pipeline_host_cookie(enum pipeline_host_set set, uint32_t index)
{
    return pipeline_cookie_indexed(PIPELINE_CK_HOST, set, index);
}

/* PIPELINE_CK_NETIN: port mapping 'mapping' (0-based, in the container's
 * port mappings) of the container at 'ofport'. */
#define PIPELINE_NETIN_MAPPING_BITS 16

static inline uint64_t
pipeline_netin_cookie(uint32_t ofport, uint32_t mapping)
{
    return pipeline_cookie(PIPELINE_CK_NETIN,
                           ((uint64_t) ofport << PIPELINE_NETIN_MAPPING_BITS)
                           | (mapping
                              & ((1u << PIPELINE_NETIN_MAPPING_BITS) - 1)));
}

static inline uint32_t
pipeline_cookie_netin_ofport(uint64_t cookie)
{
    return pipeline_cookie_id(cookie) >> PIPELINE_NETIN_MAPPING_BITS;
}

static inline uint32_t
pipeline_cookie_netin_mapping(uint64_t cookie)
{
    return cookie & ((1u << PIPELINE_NETIN_MAPPING_BITS) - 1);
}

/* PIPELINE_CK_POLICY: the cookie of c2c policy 'p'. */
struct cf_policy;
uint64_t pipeline_policy_cookie(const struct cf_policy *p);

/* The most rulesets (distinct NetOut rule lists and workloads) one cell
 * may have: ruleset ids are 16 bits in conjunction ids (ruleset << 16 |
 * rule; a ruleset has at most CF_NETOUT_RULES_MAX rules, cf-record.h).
 * Containers whose ruleset would be one more, in ofport order, are
 * refused: they get no flows at all (their packets are dropped), ruleset
 * 0 in pipeline_container_ruleset() and no place in
 * pipeline_get_rulesets(), so flowctl never marks them installed and names
 * them in its log and flowctl/show.  flowctl cannot reach the
 * limit: it takes containers only on OpenFlow ports below 0xff00, so a
 * cell has fewer than 65,280 containers, and so rulesets. */
#define PIPELINE_MAX_RULESETS 65535

/* Incremental computation.  A 'struct pipeline' keeps the desired flows
 * between runs, in units (flow-units.h): the cell's fixed flows, each
 * remote cell's, each ruleset's, each container's, each c2c policy's.
 * pipeline_run() recomputes only the units whose inputs changed (a new
 * container costs its own flows and those of the policies that reach it,
 * not the cell's thousands) and updates the desired table in place.
 *
 *     struct pipeline *p = pipeline_create();
 *     for (;;) {
 *         ...change the model...
 *         pipeline_run(p, model);
 *         ofctrl_put(ofctrl, pipeline_flows(p));
 *     }
 *
 * The result never depends on the history: it equals what a fresh
 * pipeline makes of the same model (pipeline_compute()), which
 * pipeline_check() verifies. */
struct pipeline *pipeline_create(void);
void pipeline_destroy(struct pipeline *);

/* Brings the desired flows up to date with 'model'. */
void pipeline_run(struct pipeline *, const struct model *);

/* The desired flows, as of the last pipeline_run().  Valid until the next
 * one. */
const struct flow_table *pipeline_flows(const struct pipeline *);

/* Flows that two containers (or units) claim with different actions; the
 * first in unit order wins (see flow_table_n_conflicts()). */
size_t pipeline_n_conflicts(const struct pipeline *);

/* What the last pipeline_run() did. */
struct pipeline_stats {
    size_t n_units;             /* Units of flows now. */
    size_t n_computed;          /* Units computed (new or changed). */
    size_t n_removed;           /* Units gone. */
    size_t n_flows_changed;     /* Desired flows added, removed or
                                 * changed. */
};
void pipeline_get_stats(const struct pipeline *, struct pipeline_stats *);

/* Full recompute: replaces the contents of 'table' with the flows that
 * implement 'model', from scratch. */
void pipeline_compute(const struct model *, struct flow_table *table);

/* Compares 'p''s desired flows with a full recompute of 'model' (the model
 * of its last run).  Returns the number of flows that differ (and 1 more if
 * the conflict counts do), describing up to 10 of them in 'report'. */
struct ds;
size_t pipeline_check(const struct pipeline *, const struct model *,
                      struct ds *report);

/* The ruleset id and epoch of each container, as pipeline_compute()
 * assigned them (for flowctl/show); both 0 for a container the pipeline
 * refused (see PIPELINE_MAX_RULESETS) or that is not in the model. */
struct pipeline_ruleset_info {
    uint32_t ruleset;
    uint32_t epoch;
};
void pipeline_container_ruleset(const struct model *, uint32_t ofport,
                                struct pipeline_ruleset_info *);

/* A ruleset as pipeline_compute() makes it: the containers that share one
 * NetOut rule list and workload.  The ASG flows of rule i carry cookie
 * pipeline_asg_cookie(id, i); its 'ct_state' flows (established and related
 * traffic) PIPELINE_RULESET_EST_INDEX as i. */
struct pipeline_ruleset {
    uint32_t id;
    uint32_t epoch;
    bool staging;
    const struct model_rules *rules;    /* NULL: no rules. */
    const struct model_container **containers;  /* In ofport order. */
    size_t n_containers;
};

#define PIPELINE_RULESET_EST_INDEX 0xffffff

/* The rulesets of the last pipeline_run(), in ascending id, without their
 * containers ('containers' NULL, 'n_containers' 0); '*n' gets their number.
 * Valid until the next run, and while the run's model is unchanged (the
 * rules are the model's).  What pipeline_get_rulesets() would compute
 * again. */
const struct pipeline_ruleset *pipeline_rulesets(const struct pipeline *,
                                                 size_t *n);

/* Stores in '*rulesets' the rulesets of 'model', in ascending id, and
 * returns their number.  Free them with pipeline_rulesets_destroy(). */
size_t pipeline_get_rulesets(const struct model *,
                             struct pipeline_ruleset **rulesets);
void pipeline_rulesets_destroy(struct pipeline_ruleset *, size_t n);

/* The ruleset with 'id' in 'rulesets' (as pipeline_get_rulesets() returns
 * them), or NULL. */
const struct pipeline_ruleset *pipeline_find_ruleset(
    const struct pipeline_ruleset *rulesets, size_t n, uint32_t id);

#endif /* pipeline.h */
