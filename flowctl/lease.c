/*
 * lease: see lease.h.
 */

#include <config.h>

#include "lease.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cf-types.h"
#include "cfnet.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* The first address of 'c' and one past its last, as 64-bit numbers so that
 * 255.255.255.255/32 ends at 2**32. */
static uint64_t
cidr_start(const struct ipv4_cidr *c)
{
    return ipv4_cidr_network(c);
}

static uint64_t
cidr_end(const struct ipv4_cidr *c)
{
    return (uint64_t) ipv4_cidr_broadcast(c) + 1;
}

bool
lease_overlay_init(struct lease_overlay *ov, const char *const *networks,
                   size_t n_networks, int64_t subnet_plen, struct ds *errors)
{
    bool ok = true;

    ov->networks = xcalloc(n_networks ? n_networks : 1,
                           sizeof *ov->networks);
    ov->n_networks = 0;
    for (size_t i = 0; i < n_networks; i++) {
        struct ipv4_cidr net;
        if (ipv4_parse_cidr(networks[i], &net)) {
            ov->networks[ov->n_networks++] = net;
        } else {
            ok = false;
            if (errors) {
                ds_put_format(errors, "%s: not an IPv4 CIDR; ", networks[i]);
            }
        }
    }
    if (subnet_plen >= 16 && subnet_plen <= 30) {
        ov->subnet_plen = subnet_plen;
    } else {
        ok = false;
        ov->subnet_plen = 0;
        if (errors) {
            ds_put_format(errors, "subnet prefix length %"PRId64" is not "
                          "16..30; ", subnet_plen);
        }
    }
    return ok;
}

void
lease_overlay_destroy(struct lease_overlay *ov)
{
    if (ov) {
        free(ov->networks);
        ov->networks = NULL;
        ov->n_networks = 0;
    }
}

/* The number of leases network 'net' holds (0 if it is smaller than a
 * lease). */
static uint64_t
network_n_subnets(const struct lease_overlay *ov,
                  const struct ipv4_cidr *net)
{
    if (!ov->subnet_plen || net->plen > ov->subnet_plen) {
        return 0;
    }
    return UINT64_C(1) << (ov->subnet_plen - net->plen);
}

uint64_t
lease_overlay_n_subnets(const struct lease_overlay *ov)
{
    uint64_t n = 0;

    for (size_t i = 0; i < ov->n_networks; i++) {
        n += network_n_subnets(ov, &ov->networks[i]);
    }
    return n;
}

bool
lease_overlay_contains(const struct lease_overlay *ov,
                       const struct ipv4_cidr *subnet)
{
    if (!ov->subnet_plen || subnet->plen != ov->subnet_plen) {
        return false;
    }
    for (size_t i = 0; i < ov->n_networks; i++) {
        const struct ipv4_cidr *net = &ov->networks[i];
        if (net->plen <= subnet->plen
            && cidr_start(net) <= cidr_start(subnet)
            && cidr_end(subnet) <= cidr_end(net)) {
            return true;
        }
    }
    return false;
}

void
lease_overlay_format(const struct lease_overlay *ov, struct ds *ds)
{
    for (size_t i = 0; i < ov->n_networks; i++) {
        char buf[IPV4_CIDR_LEN];
        ipv4_cidr_format(&ov->networks[i], buf);
        ds_put_format(ds, "%s%s", i ? ", " : "", buf);
    }
}

/* ------------------------------------------------------------------------
 * The live leases of other cells, as address intervals sorted by start,
 * with the running maximum of their ends: "does anything overlap [s, e)?"
 * is then a binary search. */

struct interval {
    uint64_t start, end;            /* [start, end) */
    size_t row;                     /* Index into the rows. */
};

struct live_set {
    struct interval *iv;
    uint64_t *max_end;              /* max_end[i] = max end of iv[0..i]. */
    size_t n;
};

static int
compare_intervals(const void *a_, const void *b_)
{
    const struct interval *a = a_, *b = b_;

    return (a->start < b->start ? -1 : a->start > b->start ? 1
            : a->row < b->row ? -1 : a->row > b->row);
}

static void
live_set_add(struct live_set *ls, size_t *allocated,
             const struct ipv4_cidr *subnet, size_t row)
{
    if (ls->n >= *allocated) {
        ls->iv = x2nrealloc(ls->iv, allocated, sizeof *ls->iv);
    }
    ls->iv[ls->n++] = (struct interval) {
        .start = cidr_start(subnet), .end = cidr_end(subnet), .row = row,
    };
}

static void
live_set_finish(struct live_set *ls)
{
    if (!ls->n) {
        ls->max_end = NULL;
        return;
    }
    qsort(ls->iv, ls->n, sizeof *ls->iv, compare_intervals);
    ls->max_end = xmalloc(ls->n * sizeof *ls->max_end);
    uint64_t max = 0;
    for (size_t i = 0; i < ls->n; i++) {
        max = MAX(max, ls->iv[i].end);
        ls->max_end[i] = max;
    }
}

static void
live_set_destroy(struct live_set *ls)
{
    free(ls->iv);
    free(ls->max_end);
}

/* If some live lease overlaps [start, end), returns true and stores in
 * '*blocked_until' an address below which no range starting at or after
 * 'end' is free either (the furthest end of the leases starting before
 * 'end'). */
static bool
live_set_blocks(const struct live_set *ls, uint64_t start, uint64_t end,
                uint64_t *blocked_until)
{
    /* k = the number of intervals that start before 'end'. */
    size_t lo = 0, hi = ls->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ls->iv[mid].start < end) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo && ls->max_end[lo - 1] > start) {
        *blocked_until = ls->max_end[lo - 1];
        return true;
    }
    return false;
}

/* The first interval overlapping 'subnet', in row order. */
static const struct interval *
live_set_find(const struct live_set *ls, const struct ipv4_cidr *subnet)
{
    const struct interval *best = NULL;

    for (size_t i = 0; i < ls->n; i++) {
        const struct interval *iv = &ls->iv[i];
        if (iv->start < cidr_end(subnet) && cidr_start(subnet) < iv->end
            && (!best || iv->row < best->row)) {
            best = iv;
        }
    }
    return best;
}

/* Searches positions [lo, hi) of the overlay's subnets (numbered through
 * the networks in order) for one no live lease overlaps.  Returns true and
 * stores it in '*subnet' if found. */
static bool
find_free(const struct lease_overlay *ov, const struct live_set *ls,
          uint64_t lo, uint64_t hi, struct ipv4_cidr *subnet)
{
    uint64_t base = 0;
    uint64_t size = UINT64_C(1) << (32 - ov->subnet_plen);

    for (size_t i = 0; i < ov->n_networks && base < hi; i++) {
        const struct ipv4_cidr *net = &ov->networks[i];
        uint64_t count = network_n_subnets(ov, net);
        uint64_t first = MAX(lo, base), last = MIN(hi, base + count);

        if (first >= last) {
            base += count;
            continue;
        }
        for (uint64_t j = first - base; j < last - base; ) {
            uint64_t start = cidr_start(net) + j * size;
            uint64_t blocked_until;
            if (!live_set_blocks(ls, start, start + size, &blocked_until)) {
                subnet->addr = start;
                subnet->plen = ov->subnet_plen;
                return true;
            }
            /* Every subnet below 'blocked_until' is taken too. */
            uint64_t next = DIV_ROUND_UP(blocked_until - cidr_start(net),
                                         size);
            j = MAX(j + 1, next);
        }
        base += count;
    }
    return false;
}

/* The position the cell with 'underlay_ip' starts searching from. */
static uint64_t
start_position(uint32_t underlay_ip, unsigned int attempt,
               uint64_t n_subnets)
{
    uint32_t basis = attempt * 0x85ebca6bu;
    uint64_t h = ((uint64_t) hash_int(underlay_ip, basis) << 32)
                 | hash_int(underlay_ip, basis ^ 0x9e3779b9);
    return h % n_subnets;
}

static bool
row_is_own(const struct lease_row *row, uint32_t underlay_ip)
{
    uint32_t ip;

    return ipv4_parse(row->underlay_ip, &ip) && ip == underlay_ip;
}

void
lease_decide(const struct lease_overlay *ov,
             const struct lease_row *rows, size_t n_rows,
             uint32_t underlay_ip, const struct ipv4_cidr *preferred,
             unsigned int attempt, struct lease_decision *d)
{
    memset(d, 0, sizeof *d);

    /* Our own row, and the live leases of the others. */
    struct live_set live = { .iv = NULL, .n = 0 };
    size_t allocated = 0;
    size_t own = SIZE_MAX;
    struct ipv4_cidr own_subnet = { 0, 0 };
    bool own_parses = false;
    for (size_t i = 0; i < n_rows; i++) {
        const struct lease_row *row = &rows[i];
        struct ipv4_cidr subnet;
        bool parses = ipv4_parse_cidr(row->subnet, &subnet);

        if (row_is_own(row, underlay_ip)) {
            if (own == SIZE_MAX) {
                own = i;
                own_subnet = subnet;
                own_parses = parses;
            }
        } else if (!row->expired) {
            d->n_live++;
            if (parses) {
                live_set_add(&live, &allocated, &subnet, i);
            }
        }
    }
    live_set_finish(&live);

    /* Our row, if it is what we want. */
    if (own != SIZE_MAX && own_parses
        && (preferred
            ? own_subnet.addr == preferred->addr
              && own_subnet.plen == preferred->plen
            : lease_overlay_contains(ov, &own_subnet))) {
        d->action = LEASE_KEEP;
        d->row = own;
        d->subnet = own_subnet;
        goto out;
    }

    /* A subnet to claim. */
    struct ipv4_cidr subnet;
    if (preferred) {
        const struct interval *holder = live_set_find(&live, preferred);
        if (holder) {
            d->action = LEASE_HELD;
            d->row = holder->row;
            goto out;
        }
        subnet = *preferred;
    } else {
        uint64_t n = lease_overlay_n_subnets(ov);
        uint64_t start = n ? start_position(underlay_ip, attempt, n) : 0;
        if (!n || (!find_free(ov, &live, start, n, &subnet)
                   && !find_free(ov, &live, 0, start, &subnet))) {
            d->action = LEASE_NONE_FREE;
            goto out;
        }
    }

    /* Claim it, deleting our old row and the expired leases in the way. */
    d->action = LEASE_CLAIM;
    d->subnet = subnet;
    d->deletes = xmalloc((n_rows ? n_rows : 1) * sizeof *d->deletes);
    for (size_t i = 0; i < n_rows; i++) {
        const struct lease_row *row = &rows[i];
        struct ipv4_cidr other;
        if (row_is_own(row, underlay_ip)
            || (row->expired
                && ipv4_parse_cidr(row->subnet, &other)
                && ipv4_cidr_overlaps(&other, &subnet))) {
            d->deletes[d->n_deletes++] = i;
        }
    }

out:
    live_set_destroy(&live);
}

/* A row being watched. */
struct lease_sighting {
    struct hmap_node node;          /* In struct lease_watch's 'rows'. */
    char *underlay_ip;              /* With 'subnet', the row's identity. */
    char *subnet;
    int64_t lease_expires;          /* The marks as last seen, */
    int64_t renewed;
    long long int since;            /* unchanged since this monotonic ms. */
    bool seen_renewed;              /* The marks changed while watched. */
    bool judged;                    /* Among the rows of this judgement. */
};

void
lease_watch_init(struct lease_watch *w)
{
    hmap_init(&w->rows);
}

void
lease_watch_destroy(struct lease_watch *w)
{
    if (w) {
        struct lease_sighting *s;
        HMAP_FOR_EACH_POP (s, node, &w->rows) {
            free(s->underlay_ip);
            free(s->subnet);
            free(s);
        }
        hmap_destroy(&w->rows);
    }
}

static uint32_t
sighting_hash(const char *underlay_ip, const char *subnet)
{
    return hash_string(subnet, hash_string(underlay_ip, 0));
}

static struct lease_sighting *
sighting_find(const struct lease_watch *w, const char *underlay_ip,
              const char *subnet, uint32_t hash)
{
    struct lease_sighting *s;
    HMAP_FOR_EACH_WITH_HASH (s, node, hash, &w->rows) {
        if (!strcmp(s->underlay_ip, underlay_ip)
            && !strcmp(s->subnet, subnet)) {
            return s;
        }
    }
    return NULL;
}

/* How long 'row' must go unrenewed to be expired: a lifetime, the longer
 * of ours and the one its cell wrote (lease_expires - renewed: after an
 * operator shortens the lifetime, a holder renews on its old schedule
 * until its next renewal), and never less than LEASE_WATCH_MIN_MS. */
static long long int
watch_ms(const struct lease_row *row, long long int lifetime_ms)
{
    long long int watch = MIN(MAX(lifetime_ms, LEASE_WATCH_MIN_MS),
                              LEASE_LIFETIME_MAX_MS);
    if (row->renewed < row->lease_expires
        && row->lease_expires - row->renewed <= LEASE_LIFETIME_MAX_MS) {
        watch = MAX(watch, row->lease_expires - row->renewed);
    }
    return watch;
}

void
lease_watch_judge(struct lease_watch *w, struct lease_row *rows, size_t n,
                  long long int now, long long int lifetime_ms,
                  struct lease_watch_summary *summary)
{
    struct lease_watch_summary sum = { .next = LLONG_MAX };
    struct lease_sighting *s;

    HMAP_FOR_EACH (s, node, &w->rows) {
        s->judged = false;
    }
    for (size_t i = 0; i < n; i++) {
        struct lease_row *row = &rows[i];
        uint32_t hash = sighting_hash(row->underlay_ip, row->subnet);

        s = sighting_find(w, row->underlay_ip, row->subnet, hash);
        if (!s) {
            s = xzalloc(sizeof *s);
            s->underlay_ip = xstrdup(row->underlay_ip);
            s->subnet = xstrdup(row->subnet);
            s->lease_expires = row->lease_expires;
            s->renewed = row->renewed;
            s->since = now;
            hmap_insert(&w->rows, &s->node, hash);
        } else if (s->lease_expires != row->lease_expires
                   || s->renewed != row->renewed) {
            s->lease_expires = row->lease_expires;
            s->renewed = row->renewed;
            s->since = now;
            s->seen_renewed = true;
        } else if (now < s->since) {
            s->since = now;         /* Not monotonic after all: restart. */
        }
        s->judged = true;

        /* 'since' and 'now' are a monotonic clock's, so the difference
         * cannot overflow, nor 'since' plus a watch of at most a year. */
        long long int watch = watch_ms(row, lifetime_ms);
        row->expired = now - s->since >= watch;
        if (row->expired) {
            sum.n_expired++;
        } else if (!s->seen_renewed) {
            sum.n_unknown++;
            sum.next = MIN(sum.next, s->since + watch);
        }
    }
    HMAP_FOR_EACH_SAFE (s, node, &w->rows) {
        if (!s->judged) {
            hmap_remove(&w->rows, &s->node);
            free(s->underlay_ip);
            free(s->subnet);
            free(s);
        }
    }
    if (summary) {
        *summary = sum;
    }
}

void
lease_decision_destroy(struct lease_decision *d)
{
    if (d) {
        free(d->deletes);
        d->deletes = NULL;
        d->n_deletes = 0;
    }
}

static int
compare_remotes(const void *a_, const void *b_)
{
    const struct model_remote *a = a_, *b = b_;

    if (a->underlay_ip != b->underlay_ip) {
        return a->underlay_ip < b->underlay_ip ? -1 : 1;
    }
    if (a->subnet.addr != b->subnet.addr) {
        return a->subnet.addr < b->subnet.addr ? -1 : 1;
    }
    return (a->subnet.plen > b->subnet.plen) - (a->subnet.plen
                                                < b->subnet.plen);
}

size_t
lease_remotes(const struct lease_row *rows, size_t n_rows,
              uint32_t underlay_ip, const struct ipv4_cidr *own,
              struct model_remote **remotesp)
{
    struct model_remote *remotes = NULL;
    size_t n = 0;

    for (size_t i = 0; i < n_rows; i++) {
        struct model_remote r;
        if (!ipv4_parse(rows[i].underlay_ip, &r.underlay_ip)
            || r.underlay_ip == underlay_ip
            || !ipv4_parse_cidr(rows[i].subnet, &r.subnet)
            || (own && ipv4_cidr_overlaps(own, &r.subnet))) {
            continue;
        }
        if (!remotes) {
            remotes = xmalloc(n_rows * sizeof *remotes);
        }
        remotes[n++] = r;
    }
    if (n > 1) {
        qsort(remotes, n, sizeof *remotes, compare_remotes);
    }
    *remotesp = remotes;
    return n;
}
