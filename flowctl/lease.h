/*
 * lease: which subnet lease a cell takes from the cluster directory
 * (cfnet-db), decided from the directory's rows.  Pure: directory.c reads
 * the rows out of the IDL, asks lease_decide() and carries the decision
 * out in one OVSDB transaction, whose indexes (Cell [underlay_ip] and
 * [subnet]) make a concurrent claimant of the same subnet fail and retry.
 *
 * The rules:
 *
 *   - A row whose lease_expires is before 'now' is expired: its subnet may
 *     be reclaimed, by deleting the row in the claiming transaction.  A row
 *     whose lease has not expired is live and is never taken.
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
 * except that an own row is recognized by its address alone. */

#ifndef FLOWCTL_LEASE_H
#define FLOWCTL_LEASE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    int64_t lease_expires;          /* Wall clock, ms since the epoch. */
};

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
 * order) does, given the directory's 'rows' at wall-clock time 'now' (ms
 * since the epoch).  'preferred' is NULL, or the subnet this process
 * already holds.  'attempt' is 0, or the number of claims that failed in a
 * row: each attempt starts the search elsewhere, so that cells that keep
 * colliding on the same subnet stop doing so.  Free the result with
 * lease_decision_destroy(). */
void lease_decide(const struct lease_overlay *,
                  const struct lease_row *rows, size_t n_rows,
                  uint32_t underlay_ip, const struct ipv4_cidr *preferred,
                  unsigned int attempt, int64_t now,
                  struct lease_decision *);
void lease_decision_destroy(struct lease_decision *);

/* Stores in '*remotesp' (malloc'd, NULL if none) the other cells: every
 * row whose underlay address and subnet parse, except 'underlay_ip''s own
 * and (with 'own' nonnull) rows whose subnet overlaps 'own', sorted by
 * underlay address.  Expired rows are included.  Returns the number. */
size_t lease_remotes(const struct lease_row *rows, size_t n_rows,
                     uint32_t underlay_ip, const struct ipv4_cidr *own,
                     struct model_remote **remotesp);

#endif /* lease.h */
