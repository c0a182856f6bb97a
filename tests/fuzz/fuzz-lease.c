/*
 * fuzz-lease: the lease decision, lease_decide() (flowctl/lease.h), over
 * directories made from the input: an overlay (1 to 3 networks, a lease
 * prefix length that may be out of range), this cell's underlay address,
 * perhaps a preferred subnet and a failed-attempt count, and up to 32 Cell
 * rows (underlay address, subnet, expired or not, a lease_expires mark),
 * some of whose fields do not parse.  Then the same rows through a
 * lease_watch.
 *
 * Promises checked (lease.h's rules):
 *   - KEEP: the row is ours, its subnet parses and is the preferred one,
 *     or, without one, a usable lease of the overlay;
 *   - CLAIM: the subnet is the preferred one or a usable lease; the rows
 *     deleted with it, in ascending order, are ours or expired, never
 *     another cell's live lease; no row left overlaps the new lease;
 *   - HELD: there is a preferred subnet, and the row is another cell's
 *     live lease that overlaps it;
 *   - NONE_FREE: there is no preferred subnet, and (checked when the
 *     overlay has at most 4,096 leases) every usable lease overlaps
 *     another cell's live one;
 *   - the same input decides the same (no hidden state);
 *   - lease_watch_judge(): rows judged a first time are not expired; judged
 *     again a lifetime later with the same marks, every row whose address
 *     and subnet no other row shares is; a row judged with other marks
 *     is not.
 */

#include <config.h>

#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "ipv4.h"
#include "lease.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

#define MAX_ROWS 32
#define LIFETIME_MS 30000

struct input {
    const uint8_t *p;
    size_t left;
};

static uint8_t
take8(struct input *in)
{
    if (!in->left) {
        return 0;
    }
    in->left--;
    return *in->p++;
}

static uint32_t
take32(struct input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = (v << 8) | take8(in);
    }
    return v;
}

/* A CIDR as text: mostly a valid one, sometimes one that does not parse
 * (flag bit 0) or one with host bits set (bit 1). */
static char *
take_cidr(struct input *in, uint8_t flags, struct ipv4_cidr *c)
{
    uint32_t addr = take32(in);
    unsigned int plen = take8(in) % 33;
    if (flags & 1) {
        return xasprintf("%"PRIu32"/x", addr);
    }
    if (!(flags & 2)) {
        addr &= ipv4_prefix_mask(plen);
    }
    c->addr = addr;
    c->plen = plen;
    char buf[IPV4_ADDR_LEN];
    return xasprintf("%s/%u", ipv4_format(addr, buf), plen);
}

static bool
is_own(const struct lease_row *row, uint32_t own_ip)
{
    uint32_t ip;
    return ipv4_parse(row->underlay_ip, &ip) && ip == own_ip;
}

static bool
is_live_other(const struct lease_row *row, uint32_t own_ip)
{
    return !is_own(row, own_ip) && !row->expired;
}

/* Does a live lease of another cell overlap 'c'? */
static bool
held(const struct lease_row *rows, size_t n, uint32_t own_ip,
     const struct ipv4_cidr *c)
{
    for (size_t i = 0; i < n; i++) {
        struct ipv4_cidr s;
        if (is_live_other(&rows[i], own_ip)
            && ipv4_parse_cidr(rows[i].subnet, &s)
            && ipv4_cidr_overlaps(&s, c)) {
            return true;
        }
    }
    return false;
}

static void
check_none_free(const struct lease_overlay *ov, const struct lease_row *rows,
                size_t n, uint32_t own_ip)
{
    if (!ov->subnet_plen || lease_overlay_n_subnets(ov) > 4096) {
        return;                 /* No usable lease, or too many to walk. */
    }
    for (size_t i = 0; i < ov->n_networks; i++) {
        const struct ipv4_cidr *net = &ov->networks[i];
        if (net->plen > ov->subnet_plen) {
            continue;
        }
        uint64_t count = UINT64_C(1) << (ov->subnet_plen - net->plen);
        for (uint64_t k = 0; k < count; k++) {
            struct ipv4_cidr c = {
                .addr = ipv4_cidr_network(net)
                        + (uint32_t) (k << (32 - ov->subnet_plen)),
                .plen = ov->subnet_plen,
            };
            FUZZ_CHECK(held(rows, n, own_ip, &c));
        }
    }
}

static void
check(const struct lease_overlay *ov, const struct lease_row *rows,
      size_t n, uint32_t own_ip, const struct ipv4_cidr *preferred,
      const struct lease_decision *d)
{
    struct ipv4_cidr s;

    switch (d->action) {
    case LEASE_KEEP:
        FUZZ_CHECK(d->row < n && is_own(&rows[d->row], own_ip));
        FUZZ_CHECK(ipv4_parse_cidr(rows[d->row].subnet, &s));
        FUZZ_CHECK(s.addr == d->subnet.addr && s.plen == d->subnet.plen);
        FUZZ_CHECK(preferred
                   ? (s.addr == preferred->addr && s.plen == preferred->plen)
                   : lease_overlay_contains(ov, &s));
        break;

    case LEASE_CLAIM:
        FUZZ_CHECK(preferred
                   ? (d->subnet.addr == preferred->addr
                      && d->subnet.plen == preferred->plen)
                   : lease_overlay_contains(ov, &d->subnet));
        for (size_t i = 0, k = 0; i < n; i++) {
            bool deleted = k < d->n_deletes && d->deletes[k] == i;
            if (deleted) {
                FUZZ_CHECK(is_own(&rows[i], own_ip) || rows[i].expired);
                k++;
            } else if (ipv4_parse_cidr(rows[i].subnet, &s)) {
                FUZZ_CHECK(!ipv4_cidr_overlaps(&s, &d->subnet));
            }
            if (i == n - 1) {
                FUZZ_CHECK(k == d->n_deletes);  /* Ascending, in range. */
            }
        }
        break;

    case LEASE_HELD:
        FUZZ_CHECK(preferred != NULL);
        FUZZ_CHECK(d->row < n && is_live_other(&rows[d->row], own_ip));
        FUZZ_CHECK(ipv4_parse_cidr(rows[d->row].subnet, &s));
        FUZZ_CHECK(ipv4_cidr_overlaps(&s, preferred));
        break;

    case LEASE_NONE_FREE:
        FUZZ_CHECK(preferred == NULL);
        check_none_free(ov, rows, n, own_ip);
        break;

    default:
        FUZZ_CHECK(false);
    }
}

/* Does another of the 'n' rows share row 'i''s address and subnet? */
static bool
shared(const struct lease_row *rows, size_t n, size_t i)
{
    for (size_t j = 0; j < n; j++) {
        if (j != i && !strcmp(rows[j].underlay_ip, rows[i].underlay_ip)
            && !strcmp(rows[j].subnet, rows[i].subnet)) {
            return true;
        }
    }
    return false;
}

static void
check_watch(struct lease_row *rows, size_t n, unsigned int k)
{
    struct lease_watch w;
    struct lease_watch_summary sum;
    long long int t0 = 1000 * (long long int) k;

    lease_watch_init(&w);
    lease_watch_judge(&w, rows, n, t0, LIFETIME_MS, &sum);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(!rows[i].expired);
    }
    FUZZ_CHECK(sum.n_expired == 0 && sum.n_unknown <= n);
    FUZZ_CHECK(n ? sum.next >= t0 + LIFETIME_MS : sum.next == LLONG_MAX);

    /* A lifetime later, the same rows, but one ('k'th) renewed. */
    size_t renewed = n ? k % n : 0;
    if (n) {
        rows[renewed].renewed++;
    }
    lease_watch_judge(&w, rows, n, t0 + LIFETIME_MS, LIFETIME_MS, &sum);
    for (size_t i = 0; i < n; i++) {
        if (!shared(rows, n, i)) {
            FUZZ_CHECK(rows[i].expired == (i != renewed));
        }
    }
    lease_watch_destroy(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };

    /* The overlay. */
    size_t n_networks = take8(&in) % 3 + 1;
    uint8_t plen_byte = take8(&in);
    int64_t subnet_plen = (plen_byte < 240 ? 16 + plen_byte % 15
                           : (int8_t) plen_byte);  /* Mostly 16..30. */
    char *networks[3];
    for (size_t i = 0; i < n_networks; i++) {
        struct ipv4_cidr c;
        networks[i] = take_cidr(&in, take8(&in) & 3, &c);
    }
    struct lease_overlay ov;
    struct ds errors = DS_EMPTY_INITIALIZER;
    lease_overlay_init(&ov, (const char *const *) networks, n_networks,
                       subnet_plen, &errors);
    ds_destroy(&errors);

    /* This cell. */
    uint32_t own_ip = take32(&in);
    uint8_t flags = take8(&in);
    struct ipv4_cidr preferred_cidr;
    const struct ipv4_cidr *preferred = NULL;
    if (flags & 1) {
        free(take_cidr(&in, 0, &preferred_cidr));
        preferred = &preferred_cidr;
    }
    unsigned int attempt = (flags >> 1) & 7;

    /* The rows: an underlay address (sometimes ours, sometimes one that
     * does not parse), a subnet, a byte that is both the mark and, by its
     * sign, whether the row is expired. */
    struct lease_row rows[MAX_ROWS];
    char *texts[2 * MAX_ROWS];
    size_t n = 0;
    char buf[IPV4_ADDR_LEN];
    while (in.left >= 11 && n < MAX_ROWS) {
        uint8_t rf = take8(&in);
        uint32_t ip = (rf & 4) ? own_ip : take32(&in);
        struct ipv4_cidr c;
        texts[2 * n] = ((rf & 8)
                        ? xstrdup("not-an-address")
                        : xstrdup(ipv4_format(ip, buf)));
        texts[2 * n + 1] = take_cidr(&in, rf & 3, &c);
        int8_t mark = take8(&in);
        rows[n] = (struct lease_row) {
            .underlay_ip = texts[2 * n],
            .subnet = texts[2 * n + 1],
            .expired = mark < 0,
            .lease_expires = mark,
            .renewed = mark,
        };
        n++;
    }

    struct lease_decision d, again;
    lease_decide(&ov, rows, n, own_ip, preferred, attempt, &d);
    check(&ov, rows, n, own_ip, preferred, &d);
    lease_decide(&ov, rows, n, own_ip, preferred, attempt, &again);
    FUZZ_CHECK(d.action == again.action && d.row == again.row
               && d.subnet.addr == again.subnet.addr
               && d.subnet.plen == again.subnet.plen
               && d.n_deletes == again.n_deletes);
    lease_decision_destroy(&again);
    lease_decision_destroy(&d);

    check_watch(rows, n, attempt);

    for (size_t i = 0; i < 2 * n; i++) {
        free(texts[i]);
    }
    for (size_t i = 0; i < n_networks; i++) {
        free(networks[i]);
    }
    lease_overlay_destroy(&ov);
    return 0;
}
