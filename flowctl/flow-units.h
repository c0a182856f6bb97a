/*
 * flow-units: a desired flow table assembled from units, so that a change
 * costs what it touches, not what the cell holds.
 *
 * The pipeline's flows fall into units: the cell's fixed flows, one remote
 * cell's, one ruleset's, one container's, one c2c policy's.  A unit's
 * flows depend only on its inputs, and the caller can say what those are
 * as a byte string, the unit's signature: for a container, its port,
 * addresses, tag, ruleset and port mappings; for a policy, the policy and
 * the addresses of its local destinations.  Each run the caller names
 * every unit the model has, with its signature:
 *
 *     flow_units_begin(fu);
 *     for each unit U of the model:
 *         if (!flow_units_unchanged(fu, kind, id, sig, len)) {
 *             compute U's flows into a flow_table T;
 *             flow_units_set(fu, kind, id, sig, len, &T);
 *         }
 *     flow_units_end(fu);     (units not named this run are removed)
 *
 * and flow_units_table() is the desired table: the union of every unit's
 * flows, updated in place, only where a unit changed (in the spirit of
 * OVN's incremental processing, with signatures for change tracking).
 *
 * Two units may make a flow with the same key (table, priority, match):
 * two containers claiming one host port, two policies admitting the same
 * port of the same container.  The desired table then holds what
 * flow_table_add() would make of the contributors added in unit order
 * (kind, then id): the first one's flow, with conjunction() actions of
 * later contributors merged in when all are conjunctive; a later one with
 * other actions is a conflict (counted in flow_units_n_conflicts()),
 * except between two units of a kind declared with
 * flow_units_allow_overlap() (two policies that admit the same traffic
 * say the same thing; only the cookie differs).  So the result does not
 * depend on the order of the changes that led to it: a fresh flow_units
 * given the same units makes the same table, which is how the pipeline
 * checks itself (pipeline_check(), the unit tests).
 *
 * Pure: no I/O.  Not thread-safe. */

#ifndef FLOWCTL_FLOW_UNITS_H
#define FLOWCTL_FLOW_UNITS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow_table;

struct flow_units *flow_units_create(void);
void flow_units_destroy(struct flow_units *);

/* Overlaps among units of 'kind' are not conflicts (see above). */
void flow_units_allow_overlap(struct flow_units *, uint8_t kind);

/* Starts a run: every unit is unseen until named. */
void flow_units_begin(struct flow_units *);

/* If the unit ('kind', 'id') exists with the 'sig_len' bytes of 'sig' as
 * its signature, marks it seen and returns true: its flows stand.
 * Otherwise returns false, and the caller computes it and calls
 * flow_units_set(). */
bool flow_units_unchanged(struct flow_units *, uint8_t kind, uint64_t id,
                          const void *sig, size_t sig_len);

/* Makes 'flows' (which this empties; the caller still destroys it) the
 * flows of unit ('kind', 'id'), with signature 'sig', creating the unit if
 * needed, and marks it seen.  The desired table changes where the unit's
 * old and new flows differ.  Naming a unit twice in one run replaces its
 * flows again: the caller gives each unit one id. */
void flow_units_set(struct flow_units *, uint8_t kind, uint64_t id,
                    const void *sig, size_t sig_len,
                    struct flow_table *flows);

/* Ends a run: removes the units not named since flow_units_begin(), and
 * their flows from the desired table. */
void flow_units_end(struct flow_units *);

/* The desired table.  Valid until the next flow_units_begin(). */
const struct flow_table *flow_units_table(const struct flow_units *);

/* Moves the desired table into 'dst' (replacing what it held, with the
 * conflict count in 'dst''s), leaving 'fu' without units, as new.  Cheaper
 * than copying it, for a one-off computation. */
void flow_units_take_table(struct flow_units *, struct flow_table *dst);

/* Conflicting flows: inside units (as flow_table_add() counts them) and
 * between them (see above). */
size_t flow_units_n_conflicts(const struct flow_units *);

/* What the last run did. */
struct flow_units_stats {
    size_t n_units;             /* Units now. */
    size_t n_computed;          /* Units set (new or changed). */
    size_t n_removed;           /* Units removed. */
    size_t n_flows_changed;     /* Keys of the desired table added,
                                 * removed or given new actions. */
};
void flow_units_get_stats(const struct flow_units *,
                          struct flow_units_stats *);

#endif /* flow-units.h */
