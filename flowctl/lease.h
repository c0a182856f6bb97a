/*
 * lease: which subnet lease a cell takes from the cluster directory
 * (cfnet-db), decided from the directory's rows.  Pure: directory.c reads
 * the rows from the cluster, asks lease_decide() and carries the decision
 * out in one OVSDB transaction, whose indexes (Cell [underlay_ip] and
 * [subnet]) make a concurrent claimant of the same subnet fail and retry.
 *
 * The rules:
 *
 *   - A row judged expired (see "Expiry" below) may have its subnet
 *     reclaimed, by deleting the row in the claiming transaction.  Any
 *     other row is live and is never taken.
 *   - A cell's own row (the one with its underlay address) whose subnet is
 *     usable (inside one of the networks, of the overlay's prefix length)
 *     is kept, expired or not: a restarted cell gets its lease back.  Any
 *     other own row is deleted in the claiming transaction.
 *   - A new subnet is searched starting at a position derived from a hash
 *     of the underlay address (and of the number of failed attempts),
 *     walking forward through the subnets of all networks (in their order)
 *     and wrapping around, so that cells claiming at the same moment rarely
 *     pick the same one.  A subnet is free if no
 *     live row of another cell overlaps it; expired rows that overlap it
 *     are deleted with the claim.
 *   - With a 'preferred' subnet (the lease this process already holds and
 *     must never change) only that subnet is considered, whether or not the
 *     overlay still contains it.
 *
 * Rows whose subnet (or underlay address) does not parse are ignored,
 * except that an own row is recognized by its address alone.
 *
 * Expiry.  A row's lease_expires is written by its cell's wall clock, and
 * cells' wall clocks disagree and jump (an NTP step, a VM resumed after a
 * pause, an operator's `date`): by another cell's clock a live lease may
 * look expired an hour early, and a dead one live for an hour more.  So a
 * cell never judges a lease by comparing wall clocks.  A row is expired
 * when this cell has watched it for a whole lease lifetime (at least 3 s),
 * by its own monotonic clock, without seeing it renewed (its lease_expires
 * and renewed unchanged): its holder renews every third of a lifetime (at
 * most every half, when configured), so a holder that is alive and
 * connected has changed it at least once by then, twice by default.  Only
 * the rates of the two cells' clocks matter, never their readings.  Wall
 * clocks only choose which rows are worth watching: those
 * whose lease has ended by this cell's clock, and those renewed more than
 * a lifetime in its future (directory.c).  The price is that an expired
 * lease is taken a lifetime after a claimant first sees it, not at once:
 * with clocks that agree, about two lifetimes after its holder's last
 * renewal (the row is worth watching once its lease has ended).  A subnet
 * that no row holds is taken at once. */

#ifndef FLOWCTL_LEASE_H
#define FLOWCTL_LEASE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "model.h"

struct ds;

/* The Overlay row, parsed. */
struct lease_overlay {
    struct ipv4_cidr *networks;    /* Every network that parsed, in */
    size_t n_networks;              /* the row's order. */
    unsigned int subnet_plen;       /* Prefix length of a lease. */
};

/* Parses the Overlay row's 'networks' (CIDR text) and its prefix length
 * into 'ov'.  Networks that do not parse are left out, each named in
 * 'errors' (if nonnull) as "NETWORK: why; ".  Always initializes 'ov' (free
 * with lease_overlay_destroy()); returns false if a network was left out or
 * 'subnet_plen' is outside 16..30 (then no subnet is usable). */
bool lease_overlay_init(struct lease_overlay *ov,
                        const char *const *networks, size_t n_networks,
                        int64_t subnet_plen, struct ds *errors);
void lease_overlay_destroy(struct lease_overlay *);

/* The number of subnets the overlay has (networks longer than a lease are
 * ignored; overlapping networks are counted twice). */
uint64_t lease_overlay_n_subnets(const struct lease_overlay *);

/* True if 'subnet' is usable as a lease: inside one of the networks, of
 * the overlay's prefix length. */
bool lease_overlay_contains(const struct lease_overlay *,
                            const struct ipv4_cidr *subnet);

/* Appends the networks as "A/n, B/n" to 'ds'. */
void lease_overlay_format(const struct lease_overlay *, struct ds *);

/* One Cell row, as text, exactly as in the database. */
struct lease_row {
    const char *underlay_ip;
    const char *subnet;
    bool expired;                   /* As lease_watch_judge() judged it. */
    int64_t lease_expires;          /* As its cell last wrote them, by its */
    int64_t renewed;                /* own wall clock: a renewal's marks. */
};

/* The longest lease lifetime (directory.c refuses longer ones): keeps
 * every sum of times in range. */
#define LEASE_LIFETIME_MAX_MS (366LL * 86400 * 1000)

/* The shortest watch: renewals are at least a second apart (directory.c),
 * so a lifetime shorter than this would not guarantee one renewal seen. */
#define LEASE_WATCH_MIN_MS 3000

/* What a cell has seen of the rows it watches (see "Expiry" above). */
struct lease_watch {
    struct hmap rows;               /* struct lease_sighting. */
};

void lease_watch_init(struct lease_watch *);
void lease_watch_destroy(struct lease_watch *);

/* What lease_watch_judge() found besides each row's verdict. */
struct lease_watch_summary {
    size_t n_expired;               /* Rows judged expired. */
    size_t n_unknown;               /* Rows not expired and never seen
                                     * renewed: each may be a dead cell's
                                     * lease, being watched. */
    long long int next;             /* Monotonic ms when the first of those
                                     * would be expired, if unchanged;
                                     * LLONG_MAX if none. */
};

/* Judges the 'n' rows read at monotonic time 'now' (ms) for leases of
 * 'lifetime_ms': sets each row's 'expired' (unrenewed for the longest of
 * 'lifetime_ms', the lifetime its cell wrote, lease_expires - renewed, and
 * LEASE_WATCH_MIN_MS), and forgets every row watched before and not among
 * 'rows' (one that left the rows worth watching was renewed, or its
 * cell's clock moved; if it comes back, it is watched from then on).  A
 * row is known by its underlay address and subnet, which the database's
 * indexes keep unique.  Fills in '*summary' if nonnull. */
void lease_watch_judge(struct lease_watch *, struct lease_row *rows,
                       size_t n, long long int now, long long int lifetime_ms,
                       struct lease_watch_summary *summary);

enum lease_action {
    LEASE_KEEP,                     /* rows[row] is ours: renew it. */
    LEASE_CLAIM,                    /* Insert a row for 'subnet', deleting
                                     * rows 'deletes' in the same
                                     * transaction. */
    LEASE_NONE_FREE,                /* Every subnet is held by a live
                                     * lease (or none is usable). */
    LEASE_HELD,                     /* The preferred subnet is held by
                                     * rows[row], a live lease of another
                                     * cell. */
};

struct lease_decision {
    enum lease_action action;
    size_t row;                     /* KEEP, HELD: index into the rows. */
    struct ipv4_cidr subnet;       /* KEEP, CLAIM: the lease. */
    size_t *deletes;                /* CLAIM: indexes into the rows, in */
    size_t n_deletes;               /* ascending order. */
    size_t n_live;                  /* Live leases of other cells. */
};

/* Decides what the cell with underlay address 'underlay_ip' (host byte
 * order) does, given the directory's 'rows', judged (their 'expired').
 * 'preferred' is NULL, or the subnet this process
 * already holds.  'attempt' is 0, or the number of claims that failed in a
 * row: each attempt starts the search elsewhere, so that cells that keep
 * colliding on the same subnet stop doing so.  Free the result with
 * lease_decision_destroy(). */
void lease_decide(const struct lease_overlay *,
                  const struct lease_row *rows, size_t n_rows,
                  uint32_t underlay_ip, const struct ipv4_cidr *preferred,
                  unsigned int attempt, struct lease_decision *);
void lease_decision_destroy(struct lease_decision *);

/* Stores in '*remotesp' (malloc'd, NULL if none) the other cells: every
 * row whose underlay address and subnet parse, except 'underlay_ip''s own
 * and (with 'own' nonnull) rows whose subnet overlaps 'own', sorted by
 * underlay address.  Expired rows are included.  Returns the number. */
size_t lease_remotes(const struct lease_row *rows, size_t n_rows,
                     uint32_t underlay_ip, const struct ipv4_cidr *own,
                     struct model_remote **remotesp);

#endif /* lease.h */
