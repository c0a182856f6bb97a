/* Unit tests for flowctl/lease.c: choosing a cell's subnet lease. */

#include <config.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compiler.h"
#include "lease.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* A row's 'expired', as lease_watch_judge() sets it. */
#define LIVE false
#define EXPIRED true
#define ROW(IP, SUBNET, IS_EXPIRED) { IP, SUBNET, IS_EXPIRED, 0, 0 }

/* 192.0.2.N, host byte order. */
#define IP(N) (0xc0000200u + (N))

static void
overlay(struct lease_overlay *ov, const char *networks, int plen)
{
    char *copy = xstrdup(networks);
    const char *nets[16];
    size_t n = 0;
    char *save = NULL;

    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        nets[n++] = t;
    }
    assert_true(lease_overlay_init(ov, nets, n, plen, NULL));
    free(copy);
}

static const char *
cidr_str(const struct ipv4_cidr *c)
{
    static char buf[IPV4_CIDR_LEN];

    ipv4_cidr_format(c, buf);
    return buf;
}

static void
test_parse(void **state OVS_UNUSED)
{
    /* Bad networks are left out and named (ipv4_parse_cidr()'s own tests
     * are in test-ipv4.c). */
    struct lease_overlay ov;
    struct ds errors = DS_EMPTY_INITIALIZER;
    const char *nets[] = { "10.255.0.0/16", "10.1.2.3/16", "x" };
    assert_false(lease_overlay_init(&ov, nets, 3, 24, &errors));
    assert_int_equal(ov.n_networks, 1);
    assert_string_equal(ds_cstr(&errors), "10.1.2.3/16: not an IPv4 CIDR; "
                        "x: not an IPv4 CIDR; ");
    assert_int_equal(lease_overlay_n_subnets(&ov), 256);
    lease_overlay_destroy(&ov);
    ds_destroy(&errors);

    /* A bad prefix length leaves nothing usable. */
    assert_false(lease_overlay_init(&ov, nets, 1, 31, NULL));
    assert_int_equal(lease_overlay_n_subnets(&ov), 0);
    lease_overlay_destroy(&ov);

    /* Networks smaller than a lease hold none. */
    overlay(&ov, "10.255.0.0/16,10.9.9.0/25", 24);
    assert_int_equal(lease_overlay_n_subnets(&ov), 256);
    struct ipv4_cidr c = { 0x0aff0700, 24 };
    assert_true(lease_overlay_contains(&ov, &c));
    c.plen = 25;
    assert_false(lease_overlay_contains(&ov, &c));
    c = (struct ipv4_cidr) { 0x0afe0700, 24 };
    assert_false(lease_overlay_contains(&ov, &c));
    struct ds s = DS_EMPTY_INITIALIZER;
    lease_overlay_format(&ov, &s);
    assert_string_equal(ds_cstr(&s), "10.255.0.0/16, 10.9.9.0/25");
    ds_destroy(&s);
    lease_overlay_destroy(&ov);
}

static void
test_empty_overlay_claims(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;

    overlay(&ov, "10.255.0.0/16", 24);
    lease_decide(&ov, NULL, 0, IP(11), NULL, 0, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_int_equal(d.n_deletes, 0);
    assert_int_equal(d.n_live, 0);
    assert_true(lease_overlay_contains(&ov, &d.subnet));
    lease_decision_destroy(&d);
    lease_overlay_destroy(&ov);
}

static void
test_own_row_kept(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;

    overlay(&ov, "10.255.0.0/16", 24);
    /* Ours, even expired, is kept; the others do not matter. */
    struct lease_row rows[] = {
        ROW("192.0.2.12", "10.255.1.0/24", LIVE),
        ROW("192.0.2.11", "10.255.9.0/24", EXPIRED),
        ROW("192.0.2.13", "garbage", LIVE),
    };
    lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(11), NULL, 0, &d);
    assert_int_equal(d.action, LEASE_KEEP);
    assert_int_equal(d.row, 1);
    assert_string_equal(cidr_str(&d.subnet), "10.255.9.0/24");
    assert_int_equal(d.n_live, 2);
    lease_decision_destroy(&d);

    /* The same with our old lease preferred. */
    struct ipv4_cidr pref = { 0x0aff0900, 24 };
    lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(11), &pref, 0, &d);
    assert_int_equal(d.action, LEASE_KEEP);
    assert_int_equal(d.row, 1);
    lease_decision_destroy(&d);
    lease_overlay_destroy(&ov);
}

static void
test_own_row_invalid_replaced(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;
    const char *bad[] = {
        "10.254.3.0/24",        /* Outside the networks. */
        "10.255.3.0/25",        /* Wrong prefix length. */
        "10.255.3.1/24",        /* Host bits. */
        "not a cidr",
    };

    overlay(&ov, "10.255.0.0/16", 24);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct lease_row rows[] = {
            ROW("192.0.2.12", "10.255.1.0/24", LIVE),
            ROW("192.0.2.11", bad[i], LIVE),
        };
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(11), NULL, 0,
                     &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_true(lease_overlay_contains(&ov, &d.subnet));
        assert_string_not_equal(cidr_str(&d.subnet), "10.255.1.0/24");
        assert_int_equal(d.n_deletes, 1);
        assert_int_equal(d.deletes[0], 1);
        lease_decision_destroy(&d);
    }
    lease_overlay_destroy(&ov);
}

/* A /25 overlay of a /24: two subnets, one held by a live lease, the other
 * by an expired one, which is reclaimed. */
static void
test_expired_reclaimed(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;

    overlay(&ov, "10.99.0.0/24", 25);
    for (uint32_t ip = 1; ip < 50; ip++) {
        struct lease_row rows[] = {
            ROW("192.0.2.200", "10.99.0.128/25", EXPIRED),
            ROW("192.0.2.201", "10.99.0.0/25", LIVE),
        };
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(ip), NULL, 0,
                     &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_string_equal(cidr_str(&d.subnet), "10.99.0.128/25");
        assert_int_equal(d.n_deletes, 1);
        assert_int_equal(d.deletes[0], 0);
        assert_int_equal(d.n_live, 1);
        lease_decision_destroy(&d);
    }

    lease_overlay_destroy(&ov);
}

/* Live leases are never taken, whatever the start position; expired rows
 * that are not in the way stay. */
static void
test_live_never_taken(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;
    struct lease_row rows[8];
    char subnets[8][IPV4_CIDR_LEN];

    overlay(&ov, "10.99.0.0/24", 27);  /* 8 subnets. */
    for (int i = 0; i < 8; i++) {
        struct ipv4_cidr c = { 0x0a630000 + i * 32, 27 };
        ipv4_cidr_format(&c, subnets[i]);
        rows[i] = (struct lease_row) ROW("192.0.2.200", subnets[i],
                                         i == 5 ? EXPIRED : LIVE);
    }
    /* Distinct underlay addresses (the index) except that does not matter
     * here: none is ours. */
    for (uint32_t ip = 1; ip < 100; ip++) {
        lease_decide(&ov, rows, 8, IP(ip), NULL, 0, &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_string_equal(cidr_str(&d.subnet), "10.99.0.160/27");
        assert_int_equal(d.n_deletes, 1);
        assert_int_equal(d.deletes[0], 5);
        lease_decision_destroy(&d);
    }

    /* Two expired rows: only the one in the way is deleted. */
    rows[2].expired = EXPIRED;
    for (uint32_t ip = 1; ip < 100; ip++) {
        lease_decide(&ov, rows, 8, IP(ip), NULL, 0, &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_int_equal(d.n_deletes, 1);
        assert_true(d.deletes[0] == 2 || d.deletes[0] == 5);
        assert_string_equal(cidr_str(&d.subnet), subnets[d.deletes[0]]);
        lease_decision_destroy(&d);
    }
    lease_overlay_destroy(&ov);
}

/* A live lease of another prefix length blocks every subnet it overlaps;
 * an expired one that overlaps is deleted. */
static void
test_overlapping_leases(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;

    overlay(&ov, "10.99.0.0/24", 26);   /* 4 subnets. */
    struct lease_row rows[] = {
        ROW("192.0.2.200", "10.99.0.0/25", LIVE),       /* Blocks 2. */
        ROW("192.0.2.201", "10.99.0.192/26", LIVE),
        ROW("192.0.2.202", "10.99.0.128/25", EXPIRED),  /* Overlaps 2. */
    };
    for (uint32_t ip = 1; ip < 50; ip++) {
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(ip), NULL, 0,
                     &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_string_equal(cidr_str(&d.subnet), "10.99.0.128/26");
        assert_int_equal(d.n_deletes, 1);
        assert_int_equal(d.deletes[0], 2);
        lease_decision_destroy(&d);
    }

    /* A live /16 covering the whole network: nothing free. */
    struct lease_row big[] = { ROW("192.0.2.200", "10.99.0.0/16", LIVE) };
    lease_decide(&ov, big, 1, IP(1), NULL, 0, &d);
    assert_int_equal(d.action, LEASE_NONE_FREE);
    lease_decision_destroy(&d);
    lease_overlay_destroy(&ov);
}

static void
test_several_networks(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;

    /* The first network is full: leases come from the second. */
    overlay(&ov, "10.1.0.0/23,10.2.0.0/23", 24);
    assert_int_equal(lease_overlay_n_subnets(&ov), 4);
    struct lease_row rows[] = {
        ROW("192.0.2.200", "10.1.0.0/24", LIVE),
        ROW("192.0.2.201", "10.1.1.0/24", LIVE),
    };
    bool seen[2] = { false, false };
    for (uint32_t ip = 1; ip < 100; ip++) {
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(ip), NULL, 0,
                     &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        const char *s = cidr_str(&d.subnet);
        assert_true(!strcmp(s, "10.2.0.0/24") || !strcmp(s, "10.2.1.0/24"));
        seen[!strcmp(s, "10.2.1.0/24")] = true;
        lease_decision_destroy(&d);
    }
    /* Both are chosen by someone: the start depends on the address. */
    assert_true(seen[0] && seen[1]);

    /* Every subnet of every network is reachable. */
    struct lease_row all[3] = {
        ROW("192.0.2.200", "10.1.0.0/24", LIVE),
        ROW("192.0.2.201", "10.2.0.0/24", LIVE),
        ROW("192.0.2.202", "10.2.1.0/24", LIVE),
    };
    for (uint32_t ip = 1; ip < 20; ip++) {
        lease_decide(&ov, all, 3, IP(ip), NULL, 0, &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_string_equal(cidr_str(&d.subnet), "10.1.1.0/24");
        lease_decision_destroy(&d);
    }
    lease_overlay_destroy(&ov);
}

static void
test_full_overlay(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;

    overlay(&ov, "10.99.0.0/24", 25);
    struct lease_row rows[] = {
        ROW("192.0.2.200", "10.99.0.128/25", LIVE),
        ROW("192.0.2.201", "10.99.0.0/25", LIVE),
        ROW("192.0.2.202", "10.98.0.0/25", EXPIRED),  /* Not in the way. */
    };
    lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(1), NULL, 0, &d);
    assert_int_equal(d.action, LEASE_NONE_FREE);
    assert_int_equal(d.n_live, 2);
    assert_int_equal(d.n_deletes, 0);
    lease_decision_destroy(&d);

    /* An overlay with no usable network. */
    lease_overlay_destroy(&ov);
    overlay(&ov, "10.99.0.0/24", 16);
    lease_decide(&ov, NULL, 0, IP(1), NULL, 0, &d);
    assert_int_equal(d.action, LEASE_NONE_FREE);
    lease_decision_destroy(&d);
    lease_overlay_destroy(&ov);
}

static void
test_deterministic(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision a, b;

    overlay(&ov, "10.255.0.0/16", 24);
    struct lease_row rows[] = {
        ROW("192.0.2.200", "10.255.0.0/24", LIVE),
    };
    lease_decide(&ov, rows, 1, IP(11), NULL, 0, &a);
    lease_decide(&ov, rows, 1, IP(11), NULL, 0, &b);
    assert_int_equal(a.action, LEASE_CLAIM);
    assert_int_equal(b.action, LEASE_CLAIM);
    assert_int_equal(a.subnet.addr, b.subnet.addr);
    assert_int_equal(a.subnet.plen, b.subnet.plen);
    lease_decision_destroy(&a);
    lease_decision_destroy(&b);

    /* Different addresses start in different places. */
    lease_decide(&ov, NULL, 0, IP(11), NULL, 0, &a);
    lease_decide(&ov, NULL, 0, IP(12), NULL, 0, &b);
    assert_int_not_equal(a.subnet.addr, b.subnet.addr);
    lease_decision_destroy(&b);

    /* Each failed attempt starts elsewhere, deterministically. */
    uint32_t by_attempt[4];
    for (unsigned int attempt = 0; attempt < 4; attempt++) {
        lease_decide(&ov, NULL, 0, IP(11), NULL, attempt, &b);
        by_attempt[attempt] = b.subnet.addr;
        lease_decision_destroy(&b);
        lease_decide(&ov, NULL, 0, IP(11), NULL, attempt, &b);
        assert_int_equal(b.subnet.addr, by_attempt[attempt]);
        lease_decision_destroy(&b);
        for (unsigned int i = 0; i < attempt; i++) {
            assert_int_not_equal(by_attempt[i], by_attempt[attempt]);
        }
    }
    assert_int_equal(by_attempt[0], a.subnet.addr);
    lease_decision_destroy(&a);

    /* Starts are spread: 20 consecutive addresses, few collisions. */
    uint32_t starts[20];
    size_t distinct = 0;
    for (int i = 0; i < 20; i++) {
        lease_decide(&ov, NULL, 0, IP(100 + i), NULL, 0, &a);
        bool dup = false;
        for (int j = 0; j < i; j++) {
            dup |= starts[j] == a.subnet.addr;
        }
        distinct += !dup;
        starts[i] = a.subnet.addr;
        lease_decision_destroy(&a);
    }
    assert_true(distinct >= 17);
    lease_overlay_destroy(&ov);
}

/* A /16 with /24 leases has 256 subnets: 256 cells claiming one after the
 * other get all of them, the 257th finds none. */
static void
test_slash16_256_subnets(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;
    struct lease_row rows[257];
    char ips[257][IPV4_ADDR_LEN], subnets[257][IPV4_CIDR_LEN];
    bool used[256] = { false };

    overlay(&ov, "10.255.0.0/16", 24);
    assert_int_equal(lease_overlay_n_subnets(&ov), 256);
    for (int i = 0; i < 256; i++) {
        snprintf(ips[i], sizeof ips[i], "192.0.%d.%d", 2 + i / 200,
                 i % 200 + 1);
        uint32_t ip;
        assert_true(ipv4_parse(ips[i], &ip));
        lease_decide(&ov, rows, i, ip, NULL, 0, &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_int_equal(d.n_live, i);
        assert_true(lease_overlay_contains(&ov, &d.subnet));
        unsigned int third = (d.subnet.addr >> 8) & 0xff;
        assert_false(used[third]);
        used[third] = true;
        ipv4_cidr_format(&d.subnet, subnets[i]);
        rows[i] = (struct lease_row) ROW(ips[i], subnets[i], LIVE);
        lease_decision_destroy(&d);
    }
    lease_decide(&ov, rows, 256, IP(250), NULL, 0, &d);
    assert_int_equal(d.action, LEASE_NONE_FREE);
    assert_int_equal(d.n_live, 256);
    lease_decision_destroy(&d);
    lease_overlay_destroy(&ov);
}

/* Rows whose text does not parse hold nothing. */
static void
test_bad_rows_ignored(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;

    overlay(&ov, "10.99.0.0/24", 25);
    struct lease_row rows[] = {
        ROW("192.0.2.200", "10.99.0.0/25 ", LIVE),
        ROW("192.0.2.201", "10.99.0.1/25", LIVE),
        ROW("192.0.2.202", "10.99.0.0", LIVE),
        ROW("bogus", "10.99.0.128/25", LIVE),
    };
    for (uint32_t ip = 1; ip < 30; ip++) {
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(ip), NULL, 0,
                     &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_string_equal(cidr_str(&d.subnet), "10.99.0.0/25");
        assert_int_equal(d.n_deletes, 0);
        assert_int_equal(d.n_live, 4);
        lease_decision_destroy(&d);
    }

    struct model_remote *remotes;
    size_t n = lease_remotes(rows, ARRAY_SIZE(rows), IP(1), NULL,
                             &remotes);
    assert_int_equal(n, 0);
    assert_null(remotes);
    lease_overlay_destroy(&ov);
}

/* With a preferred subnet (the lease this process holds), nothing else is
 * ever claimed. */
static void
test_preferred(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_decision d;
    struct ipv4_cidr pref = { 0x0aff0500, 24 };   /* 10.255.5.0/24 */

    overlay(&ov, "10.255.0.0/16", 24);

    /* Our row is gone and the subnet is free: claimed again. */
    struct lease_row rows[] = {
        ROW("192.0.2.12", "10.255.6.0/24", LIVE),
    };
    lease_decide(&ov, rows, 1, IP(11), &pref, 0, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.255.5.0/24");
    assert_int_equal(d.n_deletes, 0);
    lease_decision_destroy(&d);

    /* Held by another cell's expired row: reclaimed. */
    struct lease_row expired[] = {
        ROW("192.0.2.12", "10.255.5.0/24", EXPIRED),
    };
    lease_decide(&ov, expired, 1, IP(11), &pref, 0, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.255.5.0/24");
    assert_int_equal(d.n_deletes, 1);
    lease_decision_destroy(&d);

    /* Held by a live lease: reported, not replaced. */
    struct lease_row held[] = {
        ROW("192.0.2.13", "10.255.1.0/24", LIVE),
        ROW("192.0.2.12", "10.255.5.0/24", LIVE),
    };
    lease_decide(&ov, held, 2, IP(11), &pref, 0, &d);
    assert_int_equal(d.action, LEASE_HELD);
    assert_int_equal(d.row, 1);
    lease_decision_destroy(&d);

    /* Our row has another subnet: replaced by the preferred one. */
    struct lease_row other[] = {
        ROW("192.0.2.11", "10.255.9.0/24", LIVE),
    };
    lease_decide(&ov, other, 1, IP(11), &pref, 0, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.255.5.0/24");
    assert_int_equal(d.n_deletes, 1);
    assert_int_equal(d.deletes[0], 0);
    lease_decision_destroy(&d);

    /* Even if the overlay no longer contains it. */
    lease_overlay_destroy(&ov);
    overlay(&ov, "10.254.0.0/16", 24);
    lease_decide(&ov, NULL, 0, IP(11), &pref, 0, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.255.5.0/24");
    lease_decision_destroy(&d);
    lease_overlay_destroy(&ov);
}

static void
test_remotes(void **state OVS_UNUSED)
{
    struct lease_row rows[] = {
        ROW("192.0.2.13", "10.255.3.0/24", EXPIRED),
        ROW("192.0.2.11", "10.255.1.0/24", LIVE),      /* Ours. */
        ROW("192.0.2.12", "10.255.2.0/24", LIVE),
        ROW("192.0.2.14", "10.255.1.0/25", LIVE),      /* Overlaps ours. */
        ROW("192.0.2.15", "bad", LIVE),
        ROW("192.0.2.x", "10.255.6.0/24", LIVE),
    };
    struct model_remote *r;
    struct ipv4_cidr own = { 0x0aff0100, 24 };

    size_t n = lease_remotes(rows, ARRAY_SIZE(rows), IP(11), &own, &r);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].underlay_ip, IP(12));
    assert_string_equal(cidr_str(&r[0].subnet), "10.255.2.0/24");
    assert_int_equal(r[1].underlay_ip, IP(13));
    assert_string_equal(cidr_str(&r[1].subnet), "10.255.3.0/24");
    free(r);

    /* Without a lease of our own, nothing overlaps it. */
    n = lease_remotes(rows, ARRAY_SIZE(rows), IP(11), NULL, &r);
    assert_int_equal(n, 3);
    assert_int_equal(r[2].underlay_ip, IP(14));
    free(r);
}

/* lease_watch: a row is expired once seen unrenewed for a lifetime on the
 * watcher's monotonic clock, whatever its wall-clock marks say. */
static void
test_watch_expiry(void **state OVS_UNUSED)
{
    struct lease_watch w;
    struct lease_watch_summary sum;
    const long long int L = 3000;

    lease_watch_init(&w);

    /* First seen at 1000: unknown until 4000, expired from then on. */
    struct lease_row a = { "192.0.2.20", "10.255.1.0/24", true, 10, 5 };
    lease_watch_judge(&w, &a, 1, 1000, L, &sum);
    assert_false(a.expired);
    assert_int_equal(sum.n_unknown, 1);
    assert_int_equal(sum.n_expired, 0);
    assert_int_equal(sum.next, 4000);
    lease_watch_judge(&w, &a, 1, 3999, L, &sum);
    assert_false(a.expired);
    lease_watch_judge(&w, &a, 1, 4000, L, &sum);
    assert_true(a.expired);
    assert_int_equal(sum.n_expired, 1);
    assert_int_equal(sum.n_unknown, 0);
    assert_int_equal(sum.next, LLONG_MAX);

    /* A renewal (either mark) starts the lifetime again, and the row is
     * known to be renewed: not unknown any more. */
    a.renewed = 6;
    lease_watch_judge(&w, &a, 1, 5000, L, &sum);
    assert_false(a.expired);
    assert_int_equal(sum.n_unknown, 0);
    assert_int_equal(sum.next, LLONG_MAX);
    lease_watch_judge(&w, &a, 1, 7999, L, NULL);
    assert_false(a.expired);
    a.lease_expires = 11;
    lease_watch_judge(&w, &a, 1, 8000, L, NULL);
    assert_false(a.expired);
    lease_watch_judge(&w, &a, 1, 11000, L, NULL);
    assert_true(a.expired);

    lease_watch_destroy(&w);
}

/* The watch lasts the longest of our lifetime, the lifetime the row's cell
 * wrote (lease_expires - renewed) and LEASE_WATCH_MIN_MS; rows are told
 * apart by address too. */
static void
test_watch_length(void **state OVS_UNUSED)
{
    struct lease_watch w;
    struct lease_watch_summary sum;

    lease_watch_init(&w);
    struct lease_row rows[] = {
        { "192.0.2.20", "10.255.1.0/24", false, 50000, 40000 },  /* 10 s */
        { "192.0.2.21", "10.255.1.0/24", false, 50000, 49000 },  /* 1 s */
        { "192.0.2.22", "10.255.1.0/24", false, 40000, 50000 },  /* < 0 */
    };
    lease_watch_judge(&w, rows, 3, 0, 1000, &sum);
    assert_int_equal(sum.n_unknown, 3);
    assert_int_equal(sum.next, LEASE_WATCH_MIN_MS);
    lease_watch_judge(&w, rows, 3, LEASE_WATCH_MIN_MS - 1, 1000, NULL);
    assert_false(rows[1].expired);
    lease_watch_judge(&w, rows, 3, LEASE_WATCH_MIN_MS, 1000, &sum);
    assert_false(rows[0].expired);
    assert_true(rows[1].expired);
    assert_true(rows[2].expired);
    assert_int_equal(sum.next, 10000);
    lease_watch_judge(&w, rows, 3, 9999, 1000, NULL);
    assert_false(rows[0].expired);
    lease_watch_judge(&w, rows, 3, 10000, 1000, NULL);
    assert_true(rows[0].expired);

    /* Our lifetime, when it is the longest. */
    lease_watch_judge(&w, rows, 3, 10000, 20000, NULL);
    assert_false(rows[0].expired);
    lease_watch_judge(&w, rows, 3, 20000, 20000, NULL);
    assert_true(rows[0].expired);
    lease_watch_destroy(&w);
}

/* The wall-clock marks only tell renewals apart: a lease written an hour in
 * the past by its cell's clock is never expired while it is renewed, and
 * one written an hour in the future expires a lifetime after its last
 * renewal. */
static void
test_watch_clocks_disagree(void **state OVS_UNUSED)
{
    struct lease_watch w;
    const long long int L = 3000;
    const int64_t wall = 1764000000000LL;

    lease_watch_init(&w);
    struct lease_row rows[] = {
        /* A cell whose clock is an hour behind, renewing every second. */
        { "192.0.2.21", "10.255.1.0/24", true, wall - 3600000, 0 },
        /* A dead cell whose clock was an hour ahead. */
        { "192.0.2.22", "10.255.2.0/24", false, wall + 3600000,
          wall + 3600000 - L },
    };
    for (long long int t = 0; t <= 100 * L; t += 1000) {
        rows[0].lease_expires += 1000;
        rows[0].renewed = rows[0].lease_expires - L;
        lease_watch_judge(&w, rows, 2, t, L, NULL);
        assert_false(rows[0].expired);
        assert_int_equal(rows[1].expired, t >= L);
    }
    lease_watch_destroy(&w);
}

/* A row that leaves the rows judged is forgotten: when it comes back it
 * is watched from then on.  Rows are told apart by address and subnet. */
static void
test_watch_forgets(void **state OVS_UNUSED)
{
    struct lease_watch w;
    struct lease_watch_summary sum;
    const long long int L = 3000;

    lease_watch_init(&w);
    struct lease_row rows[] = {
        { "192.0.2.20", "10.255.1.0/24", false, 7, 7 },
        { "192.0.2.20", "10.255.2.0/24", false, 7, 7 },
    };
    lease_watch_judge(&w, rows, 2, 0, L, &sum);
    assert_int_equal(sum.n_unknown, 2);
    lease_watch_judge(&w, rows, 1, 2000, L, &sum);   /* The second left. */
    assert_int_equal(sum.n_unknown, 1);
    lease_watch_judge(&w, rows, 2, 3000, L, &sum);
    assert_true(rows[0].expired);
    assert_false(rows[1].expired);                  /* Back: new. */
    assert_int_equal(sum.next, 6000);
    lease_watch_judge(&w, rows, 2, 6000, L, &sum);
    assert_true(rows[1].expired);
    assert_int_equal(sum.n_expired, 2);

    /* A clock that goes back (it should not) to before a row was first
     * seen restarts that row's watch (the second's, first seen at 3000). */
    lease_watch_judge(&w, rows, 2, 1000, L, &sum);
    assert_false(rows[0].expired);
    assert_false(rows[1].expired);
    assert_int_equal(sum.next, 3000);
    lease_watch_judge(&w, rows, 2, 3000, L, &sum);
    assert_true(rows[0].expired);
    assert_false(rows[1].expired);
    assert_int_equal(sum.next, 4000);

    /* Nothing judged: everything is forgotten. */
    lease_watch_judge(&w, NULL, 0, 9000, L, &sum);
    assert_int_equal(sum.n_unknown + sum.n_expired, 0);
    lease_watch_judge(&w, rows, 1, 9000, L, NULL);
    assert_false(rows[0].expired);
    lease_watch_destroy(&w);
}

/* Judged rows in a decision: the only subnet, held by a row that looks
 * over, is taken a lifetime after it was first seen, not before. */
static void
test_watch_then_decide(void **state OVS_UNUSED)
{
    struct lease_overlay ov;
    struct lease_watch w;
    struct lease_decision d;
    const long long int L = 60000;

    overlay(&ov, "10.99.0.0/25", 25);
    lease_watch_init(&w);
    struct lease_row rows[] = {
        { "192.0.2.200", "10.99.0.0/25", false, 1, 1 },
    };
    for (long long int t = 5000; t < 5000 + L; t += 1000) {
        lease_watch_judge(&w, rows, 1, t, L, NULL);
        lease_decide(&ov, rows, 1, IP(1), NULL, 0, &d);
        assert_int_equal(d.action, LEASE_NONE_FREE);
        assert_int_equal(d.n_live, 1);
        lease_decision_destroy(&d);
    }
    lease_watch_judge(&w, rows, 1, 5000 + L, L, NULL);
    lease_decide(&ov, rows, 1, IP(1), NULL, 0, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.99.0.0/25");
    assert_int_equal(d.n_deletes, 1);
    lease_decision_destroy(&d);
    lease_watch_destroy(&w);
    lease_overlay_destroy(&ov);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_empty_overlay_claims),
        cmocka_unit_test(test_own_row_kept),
        cmocka_unit_test(test_own_row_invalid_replaced),
        cmocka_unit_test(test_expired_reclaimed),
        cmocka_unit_test(test_live_never_taken),
        cmocka_unit_test(test_overlapping_leases),
        cmocka_unit_test(test_several_networks),
        cmocka_unit_test(test_full_overlay),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_slash16_256_subnets),
        cmocka_unit_test(test_bad_rows_ignored),
        cmocka_unit_test(test_preferred),
        cmocka_unit_test(test_remotes),
        cmocka_unit_test(test_watch_expiry),
        cmocka_unit_test(test_watch_length),
        cmocka_unit_test(test_watch_clocks_disagree),
        cmocka_unit_test(test_watch_forgets),
        cmocka_unit_test(test_watch_then_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
