/*
 * explain: flowctl's flows and their counters in an operator's words.
 * Pure (no I/O): the model and what the switch reported in, text out.
 *
 *   - explain_rule(): a NetOut rule as "tcp 10.0.0.0-10.0.0.255 ports
 *     80-443";
 *   - explain_egress_cookie(): what the 'egress' flow with a given cookie
 *     decides ("allowed by ASG rule 3 of ruleset 0xa0a3 (...)", with " from
 *     security group NAME (GUID) rule I" for a rule synced from the policy
 *     server, "rejected: default deny (no ASG rule matches)", ...);
 *   - explain_policy_cookie(): the c2c policy behind a PIPELINE_CK_POLICY
 *     cookie ("allowed by c2c policy A (tag 0x1) -> B tcp port 8080");
 *   - explain_trace(): the verdict of an `ovs-appctl ofproto/trace` of a new
 *     connection, from the cookies of the flows it crossed, and from what
 *     the cell's kernel does with what the bridge lets through to it: a
 *     destination the kernel delivers to the host itself (one of the
 *     cell's addresses, a broadcast or multicast address) meets hostnet's
 *     cni-ovs-input chain, which only DNS and host services pass
 *     (flowctl/trace);
 *   - rule_counts and explain_rule_stats*(): per-rule hit counts from
 *     OpenFlow flow statistics (flowctl/show, flowctl/rule-stats; the
 *     statistics come from flowstats.c).
 */

#ifndef FLOWCTL_EXPLAIN_H
#define FLOWCTL_EXPLAIN_H 1

#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"

struct cf_netout_rule;
struct ds;
struct json;
struct model;
struct ipv4_cidr;

/* The destinations the cell's kernel delivers to the host itself, as read
 * from its local routing table (hostnet_read_host_dsts()). */
struct explain_host_dsts {
    const struct ipv4_cidr *local;     /* The cell's own addresses. */
    size_t n_local;
    const struct ipv4_cidr *broadcast; /* Its networks' broadcasts. */
    size_t n_broadcast;
};

/* Appends a one-line summary of 'rule' to 'ds': protocol, destinations,
 * ports or ICMP type and code. */
void explain_rule(const struct cf_netout_rule *, struct ds *);

/* Appends to 'ds' what the 'egress' flow with 'cookie' decides for a new
 * connection to 'dst' (host byte order) from a container of 'model'. */
void explain_egress_cookie(const struct model *, uint64_t cookie,
                           uint32_t dst, struct ds *);

/* Appends to 'ds' the c2c policy of 'model' whose cookie is 'cookie'. */
void explain_policy_cookie(const struct model *, uint64_t cookie,
                           struct ds *);

/* Appends to 'ds' the verdict in 'trace', the output of `ovs-appctl
 * ofproto/trace` for a new connection to 'dst' from a container of 'model':
 * the words for the last 'egress' flow the trace crossed (for a container
 * of this cell, which 'egress' hands to 'ingress', the 'ingress' flow:
 * the c2c policy that admits it, or the rejection) or, when it never
 * reached 'egress', where it stopped.  When 'egress' allows it by an ASG
 * rule but 'dst' is the host's own (in 'host', or a broadcast or multicast
 * address), the verdict is the host's refusal.  'host' may be NULL (the
 * cell's addresses are unknown: only 255.255.255.255 and multicast are
 * known to be the host's). */
void explain_trace(const struct model *, const char *trace, uint32_t dst,
                   const struct explain_host_dsts *host, struct ds *);

/* What the switch counted for the flows with one cookie. */
struct rule_count {
    struct hmap_node node;      /* By hash of 'cookie'. */
    uint64_t cookie;
    uint64_t n_flows;
    uint64_t n_packets;
    uint64_t n_bytes;
};

/* The counters of flowctl's ASG flows. */
struct rule_counts {
    /* 'egress' flows that match conj_id: each is the verdict of one rule,
     * crossed once by each connection the rule admits; and the 'ingress'
     * flows of c2c policies (PIPELINE_CK_POLICY), likewise. */
    struct hmap verdicts;
    /* 'ct_state' flows of rulesets: their established and related
     * traffic (cookie id ruleset << 24 | PIPELINE_RULESET_EST_INDEX); and
     * those of c2c policies' connections. */
    struct hmap established;
    size_t n_flows;             /* Flow statistics received in all. */
};

void rule_counts_init(struct rule_counts *);
void rule_counts_destroy(struct rule_counts *);

/* Adds one flow's counters to the entry for 'cookie' in 'map' (one of
 * 'counts''s maps).  UINT64_MAX (unknown) counts as 0. */
void rule_counts_add(struct hmap *map, uint64_t cookie, uint64_t n_packets,
                     uint64_t n_bytes);
const struct rule_count *rule_counts_find(const struct hmap *map,
                                          uint64_t cookie);

/* Appends the "rules:" section of flowctl/show to 'ds': every ruleset of
 * 'model' with its containers and established traffic, and each of its
 * rules with the connections it admitted; with a policy server, then a
 * "policies:" section: every c2c policy with a destination on this cell
 * and the connections it admitted. */
void explain_rule_stats(const struct model *, const struct rule_counts *,
                        struct ds *);

/* The same as JSON (flowctl/rule-stats --json); the caller owns it.  Both
 * come from one walk of the rulesets (explain.c's rule_stats_walk()), so
 * the two renderings cannot drift apart. */
struct json *explain_rule_stats_json(const struct model *,
                                     const struct rule_counts *);

#endif /* explain.h */
