/*
 * directory: flowctl's adapter to the cluster directory, cfnet-db (the
 * clustered OVSDB of ovsdb/cfnet.ovsschema).  It holds this cell's subnet
 * lease and reports the overlay networks and the other cells.
 *
 *   - Claims a lease once connected to the cluster and the Overlay row is
 *     known: this cell's own Cell row if it has a usable
 *     subnet (so a restarted cell gets its lease back), otherwise a free
 *     subnet chosen by lease.c, inserted in one transaction that also
 *     deletes the expired row it reclaims.  The database's indexes make a
 *     concurrent claimant of the same subnet fail; failed transactions are
 *     retried with fresh data after 100 ms, doubling up to 2 s.
 *   - Renews the lease every renew interval (lease_expires, renewed).
 *   - Once held, the lease never changes for the life of the process: if
 *     the row disappears (another cell reclaimed it after it expired), the
 *     same subnet is claimed again; if another cell now holds it, an error
 *     naming the holder is logged every 10 s and the old lease is still
 *     reported, since the cell's containers have addresses in it.
 *   - Copies the overlay networks and the other cells out of the view when
 *     it changes while connected, and keeps the last known ones while the
 *     directory is unreachable.
 *
 * What each cell receives must not grow with the fleet: 2,500 cells
 * renewing every 10 s write 250 times a second, and if every write reached
 * every cell that would be 625,000 messages a second out of the cluster.
 * So a directory holds two sessions with the cluster (lib/db-session.h,
 * not the IDL: every IDL client monitors its member's _Server row, which
 * changes with every transaction the cluster commits):
 *
 *   - the view, with any member, monitors every Cell row without its lease
 *     times (underlay_ip, subnet, external_ids) and the Overlay row.  That
 *     is all the other cells are to this one (forwarding does not look at
 *     expiry), and it changes only when a cell claims a lease or a row
 *     goes: a renewal touches no column the view monitors, so the server
 *     sends nothing for it.
 *   - the 'own' session, with the leader (it writes, and transactions a
 *     follower forwards starve when the cluster commits fast: see
 *     directory.c), monitors nothing.  A renewal updates our row where its
 *     uuid, address and subnet are still ours (if it changes nothing, our
 *     row went: claim again).  To claim, it reads our row and the rows
 *     worth watching (lease.h, "Expiry"), and decides from those (which it
 *     may take over once they have gone a lifetime unrenewed by this
 *     cell's clock, and if their lease_expires has not changed meanwhile)
 *     and the view's other rows (live leases, never taken).
 *
 * So a cell receives, per second, the replies to its own renewals, a check
 * of each member every 10 s, and the fleet's new and removed leases;
 * nothing for the other cells' renewals (bench/directory-scale,
 * docs/performance.md).
 *
 * The database's schema is unchanged: older flowctls, which replicate
 * everything, work beside newer ones.
 *
 * Lease times are wall-clock milliseconds since the epoch (time_wall_msec()
 * here, `date +%s%3N` in a shell), written by each cell's own clock: they
 * choose the rows worth watching; expiry is judged by this cell's
 * monotonic clock (lease.h).
 *
 * Not thread-safe. */

#ifndef FLOWCTL_DIRECTORY_H
#define FLOWCTL_DIRECTORY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct ds;

/* Connects to 'remotes' ("tcp:A:PORT,tcp:B:PORT,...", as for
 * ovsdb_idl_create(); each session finds a suitable member and fails over
 * by itself) for the cell with underlay address 'underlay_ip' (host byte
 * order), renewing every 'renew_interval_s' seconds (0: the lease lifetime
 * / 3, at least 1 s). */
struct directory *directory_create(const char *remotes, uint32_t underlay_ip,
                                   unsigned int renew_interval_s);
void directory_destroy(struct directory *);

/* Runs the sessions and claims or renews the lease.  Returns true if what the
 * getters report (lease, overlays, remotes) changed since the last call. */
bool directory_run(struct directory *);
void directory_wait(struct directory *);

/* The lease: false until one is held.  Once held it never changes for the
 * life of the process. */
bool directory_get_lease(const struct directory *, struct ipv4_cidr *subnet);

/* The overlay networks: NULL and 0 until first read; the last known ones
 * while disconnected.  Valid until the next directory_run(). */
const struct ipv4_cidr *directory_get_overlays(const struct directory *,
                                                size_t *n);

/* The other cells (every Cell row except this cell's own, with parseable
 * address and subnet, expired or not, but none whose subnet overlaps this
 * cell's lease), sorted by underlay address; the last known ones while the
 * directory is unreachable.  Valid until the next directory_run(). */
const struct model_remote *directory_get_remotes(const struct directory *,
                                                 size_t *n);

/* Tells 'd' the subnet this cell had before (the cf-subnet a previous run
 * published): if the cell's own row is gone but that subnet is free, it is
 * claimed again rather than another (the cell's containers may still have
 * addresses in it).  Ignored once a lease is held. */
void directory_set_hint(struct directory *, const struct ipv4_cidr *);

/* Makes the view monitor every cell's lease times as well, so that every
 * renewal in the cluster reaches this cell, as it did before the view left
 * them out: for bench/directory-scale's "before" curve, not for flowctl.
 * Call before the first directory_run(). */
void directory_monitor_lease_times(struct directory *);

/* Counters, for benchmarks and metrics. */
struct directory_stats {
    bool connected;
    bool have_lease;
    unsigned long long int n_claims;
    unsigned long long int n_renewals;
    unsigned long long int n_failures;
    unsigned long long int n_view_updates;  /* Cell row changes received by
                                             * the view. */
    unsigned long long int n_rows_read;     /* Rows read to claim. */
    unsigned long long int n_view_received; /* JSON-RPC messages received */
    unsigned long long int n_own_received;  /* by each session (all but
                                             * inactivity probes). */
};
void directory_get_stats(const struct directory *, struct directory_stats *);

/* True while connected to a member of the cluster with its data in
 * sync. */
bool directory_is_connected(const struct directory *);

/* Appends a human-readable state (for flowctl/show): the connection, the
 * lease and its expiry, the last renewal, the cells known and the claim,
 * renewal and failure counters. */
void directory_format(const struct directory *, struct ds *);

/* Registers flowctl/cells: the other cells of 'model' (those flowctl
 * forwards to) and whether 'd' reaches the directory.  'd' is NULL in
 * single-cell mode, where the command answers that there are no other
 * cells.  'd' and 'model' must outlive the unixctl server. */
void directory_register_unixctl(struct directory *d,
                                const struct model *model);

#endif /* directory.h */
