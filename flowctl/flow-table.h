/*
 * flow-table: a set of OpenFlow flows, as flowctl wants them (the desired
 * table) or as it has told OVS to have them (the installed table).
 *
 * A flow is identified by its key (table id, priority, match), as OpenFlow
 * identifies flows for "strict" modifications; its value is the cookie and
 * the actions.  The pipeline (pipeline.c) fills a desired table from the
 * model; ofctrl.c diffs it against the installed table and sends the
 * difference.
 *
 * Matches are kept normalized as OVS's parser and decoders normalize them
 * (a match on an Ethernet field, dl_type say, also matches
 * packet_type=Ethernet), so that a flow built with match_set_*() and the
 * same flow parsed from ovs-ofctl syntax have the same key.
 *
 * Conjunctive match: OpenFlow allows one flow per key.  When two rules
 * produce the same key with only conjunction() actions (the same
 * destination CIDR in two ASG rules, say), flow_table_add() merges the
 * conjunction actions into the existing flow instead of adding a second one,
 * as OVN's ofctrl_add_or_append_conj_flow() does.  Any other duplicate key
 * is a bug in the caller: the first flow is kept and the duplicate counted
 * (flow_table_n_conflicts()), except for an exact duplicate (same actions),
 * which is harmless and ignored.  Merged conjunction actions are kept sorted
 * (by id, clause, n_clauses) and without repeats, so that the same rules
 * added in any order give the same flow and the diff stays empty.
 *
 * Pure: no I/O.  Not thread-safe. */

#ifndef FLOWCTL_FLOW_TABLE_H
#define FLOWCTL_FLOW_TABLE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofpbuf.h"

struct ds;
struct ofpact;

struct flow_entry {
    struct hmap_node node;          /* In flow_table's 'flows', by key. */
    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;
    uint64_t cookie;                /* Host byte order. */
    struct ofpact *ofpacts;         /* Owned. */
    size_t ofpacts_len;
};

struct flow_table {
    struct hmap flows;              /* Contains "struct flow_entry"s. */
    size_t n_conflicts;             /* Duplicate non-conjunction keys. */
};

void flow_table_init(struct flow_table *);
void flow_table_destroy(struct flow_table *);
void flow_table_clear(struct flow_table *);
size_t flow_table_count(const struct flow_table *);
size_t flow_table_n_conflicts(const struct flow_table *);

/* Adds a flow to 'table' (copying 'match' and the 'ofpacts_len' bytes of
 * 'ofpacts'), merging conjunction() actions into an existing flow with the
 * same key (see above).  The copy of the actions has the padding that
 * ofpact_put_set_field() leaves uninitialized zeroed, so that equal actions
 * compare equal. */
void flow_table_add(struct flow_table *, uint8_t table_id, uint16_t priority,
                    uint64_t cookie, const struct match *,
                    const struct ofpact *ofpacts, size_t ofpacts_len);

/* Returns the flow with the given key, or NULL. */
struct flow_entry *flow_table_find(const struct flow_table *,
                                   uint8_t table_id, uint16_t priority,
                                   const struct minimatch *);

/* Appends 'flow' to 's' in ovs-ofctl's syntax ("table=1, priority=100,
 * cookie=0x5, ip,nw_dst=10.0.0.0/8 actions=output:1"), for logs and
 * tests. */
void flow_entry_format(const struct flow_entry *, struct ds *s);

/* Inserts into 'table' a copy of 'src' and returns it, without merging or
 * conflict checks: the caller knows the key is not in 'table'. */
struct flow_entry *flow_table_insert_copy(struct flow_table *,
                                          const struct flow_entry *src);

/* Returns the flow of 'table' with the key of 'like' (a flow of any
 * table), or NULL.  Cheaper than flow_table_find(): 'like''s match is
 * normalized and hashed already. */
struct flow_entry *flow_table_find_like(const struct flow_table *,
                                        const struct flow_entry *like);

/* Removes 'f' from 'table' and frees it. */
void flow_table_remove(struct flow_table *, struct flow_entry *f);

/* Do 'a' and 'b' have the same cookie and actions? */
bool flow_entry_same_value(const struct flow_entry *a,
                           const struct flow_entry *b);

/* Combines 'src' into 'dst', flows with the same key, as flow_table_add()
 * combines a flow with the one already there: merges the conjunction()
 * actions of 'src' into those of 'dst' if both have only those (and
 * returns true), else leaves 'dst' as it is and returns true if their
 * actions are the same, false if they conflict.  'dst''s actions must be
 * malloc'd (they may be reallocated). */
bool flow_entry_combine(struct flow_entry *dst, const struct flow_entry *src);

/* Makes 'dst' (which must be initialized) an exact copy of 'src'. */
void flow_table_copy(struct flow_table *dst, const struct flow_table *src);

/* Swaps the contents of 'a' and 'b'. */
void flow_table_swap(struct flow_table *a, struct flow_table *b);

/* One change that turns 'installed' into 'desired'. */
struct flow_change {
    struct ovs_list list_node;
    enum ofp_flow_mod_command command;  /* OFPFC_ADD, OFPFC_MODIFY_STRICT or
                                         * OFPFC_DELETE_STRICT. */
    const struct flow_entry *flow;      /* The desired flow for ADD and
                                         * MODIFY_STRICT, the installed one
                                         * for DELETE_STRICT (borrowed). */
    const struct flow_entry *old;       /* For MODIFY_STRICT, the installed
                                         * flow it replaces (borrowed);
                                         * otherwise NULL. */
};

/* Appends to 'changes' (a list of "struct flow_change", which the caller
 * frees with flow_changes_destroy()) what turns 'installed' into 'desired':
 * first every DELETE_STRICT, then every ADD and MODIFY_STRICT (a modify is
 * emitted when the cookie or the actions differ).  Order matters for the
 * bundle: deleting first keeps a flow that moved priority from overlapping
 * with its old self. */
void flow_table_diff(const struct flow_table *desired,
                     const struct flow_table *installed,
                     struct ovs_list *changes);
void flow_changes_destroy(struct ovs_list *changes);

/* Makes 'changes' independent of the desired table they were made from:
 * copies every flow that an ADD or MODIFY_STRICT borrows into 'store' (a
 * table that must not otherwise hold those keys) and points the change at
 * the copy.  ofctrl.c does this so that the caller may change its desired
 * table while a bundle is in flight. */
void flow_changes_detach(struct ovs_list *changes, struct flow_table *store);

/* Applies 'changes', made by flow_table_diff(desired, 'installed') and
 * detached into 'store' with flow_changes_detach(), to 'installed', which
 * becomes equal to 'desired' as it was then.  Moves flows out of 'store'
 * rather than copying them; frees 'changes' and empties 'store'. */
void flow_table_apply(struct flow_table *installed, struct flow_table *store,
                      struct ovs_list *changes);

/* Fills 'fm' to apply 'change' (a flow_mod in table 'change->flow->table_id'
 * with OFPUTIL_FF_* flags none, out_port/out_group any).  'fm' borrows from
 * 'change'; the caller encodes it with ofputil_encode_flow_mod() before
 * 'change' goes away.  (A helper for ofctrl.c, kept here to be tested with
 * the diff.)
 *
 * A MODIFY_STRICT whose cookie changes becomes an OFPFC_ADD: from OpenFlow
 * 1.1 on, a modify cannot change a flow's cookie, whereas an add over a
 * flow with the same key replaces it, cookie included (OVS keeps the
 * packet and byte counters, since the flags do not ask to reset them). */
void flow_change_to_flow_mod(const struct flow_change *,
                             struct ofputil_flow_mod *fm);

/* The largest flow_mod that can be sent inside a bundle: an OpenFlow
 * message holds at most 65,535 bytes (its length is 16 bits), and a
 * bundle-add message wraps the flow_mod in 16 bytes of its own. */
#define FLOW_MOD_MAX_LEN (UINT16_MAX - 16)

/* Encodes 'change' (see flow_change_to_flow_mod()) as a flow_mod for
 * 'protocol'.  Returns the message, or NULL if it would be longer than
 * FLOW_MOD_MAX_LEN bytes: its length field would wrap, and a bundle-add
 * would carry only the first (length mod 65,536) bytes of it, a flow with
 * some of its actions.  Then stores in '*errorp' a malloc'd message that
 * names the flow (table, priority, cookie, match and the number of
 * actions), else NULL. */
struct ofpbuf *flow_change_encode(const struct flow_change *,
                                  enum ofputil_protocol protocol,
                                  char **errorp);

#endif /* flow-table.h */
