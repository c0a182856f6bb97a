/* Unit tests for flowctl/lease.c: choosing a cell's subnet lease. */

#include <config.h>

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

#define NOW 1764000000000LL
#define LIVE (NOW + 60000)
#define EXPIRED (NOW - 1)

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
    lease_decide(&ov, NULL, 0, IP(11), NULL, 0, NOW, &d);
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
        { "192.0.2.12", "10.255.1.0/24", LIVE },
        { "192.0.2.11", "10.255.9.0/24", EXPIRED },
        { "192.0.2.13", "garbage", LIVE },
    };
    lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(11), NULL, 0, NOW, &d);
    assert_int_equal(d.action, LEASE_KEEP);
    assert_int_equal(d.row, 1);
    assert_string_equal(cidr_str(&d.subnet), "10.255.9.0/24");
    assert_int_equal(d.n_live, 2);
    lease_decision_destroy(&d);

    /* The same with our old lease preferred. */
    struct ipv4_cidr pref = { 0x0aff0900, 24 };
    lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(11), &pref, 0, NOW, &d);
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
            { "192.0.2.12", "10.255.1.0/24", LIVE },
            { "192.0.2.11", bad[i], LIVE },
        };
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(11), NULL, 0, NOW,
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
            { "192.0.2.200", "10.99.0.128/25", EXPIRED },
            { "192.0.2.201", "10.99.0.0/25", LIVE },
        };
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(ip), NULL, 0, NOW,
                     &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_string_equal(cidr_str(&d.subnet), "10.99.0.128/25");
        assert_int_equal(d.n_deletes, 1);
        assert_int_equal(d.deletes[0], 0);
        assert_int_equal(d.n_live, 1);
        lease_decision_destroy(&d);
    }

    /* Expiry is strict: a lease that ends exactly now is still live. */
    struct lease_row rows[] = {
        { "192.0.2.200", "10.99.0.128/25", NOW },
        { "192.0.2.201", "10.99.0.0/25", LIVE },
    };
    lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(1), NULL, 0, NOW, &d);
    assert_int_equal(d.action, LEASE_NONE_FREE);
    assert_int_equal(d.n_live, 2);
    lease_decision_destroy(&d);
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
        rows[i] = (struct lease_row) { "192.0.2.200", subnets[i],
                                       i == 5 ? EXPIRED : LIVE };
    }
    /* Distinct underlay addresses (the index) except that does not matter
     * here: none is ours. */
    for (uint32_t ip = 1; ip < 100; ip++) {
        lease_decide(&ov, rows, 8, IP(ip), NULL, 0, NOW, &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_string_equal(cidr_str(&d.subnet), "10.99.0.160/27");
        assert_int_equal(d.n_deletes, 1);
        assert_int_equal(d.deletes[0], 5);
        lease_decision_destroy(&d);
    }

    /* Two expired rows: only the one in the way is deleted. */
    rows[2].lease_expires = EXPIRED;
    for (uint32_t ip = 1; ip < 100; ip++) {
        lease_decide(&ov, rows, 8, IP(ip), NULL, 0, NOW, &d);
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
        { "192.0.2.200", "10.99.0.0/25", LIVE },       /* Blocks 2. */
        { "192.0.2.201", "10.99.0.192/26", LIVE },
        { "192.0.2.202", "10.99.0.128/25", EXPIRED },  /* Overlaps 2. */
    };
    for (uint32_t ip = 1; ip < 50; ip++) {
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(ip), NULL, 0, NOW,
                     &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_string_equal(cidr_str(&d.subnet), "10.99.0.128/26");
        assert_int_equal(d.n_deletes, 1);
        assert_int_equal(d.deletes[0], 2);
        lease_decision_destroy(&d);
    }

    /* A live /16 covering the whole network: nothing free. */
    struct lease_row big[] = { { "192.0.2.200", "10.99.0.0/16", LIVE } };
    lease_decide(&ov, big, 1, IP(1), NULL, 0, NOW, &d);
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
        { "192.0.2.200", "10.1.0.0/24", LIVE },
        { "192.0.2.201", "10.1.1.0/24", LIVE },
    };
    bool seen[2] = { false, false };
    for (uint32_t ip = 1; ip < 100; ip++) {
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(ip), NULL, 0, NOW,
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
        { "192.0.2.200", "10.1.0.0/24", LIVE },
        { "192.0.2.201", "10.2.0.0/24", LIVE },
        { "192.0.2.202", "10.2.1.0/24", LIVE },
    };
    for (uint32_t ip = 1; ip < 20; ip++) {
        lease_decide(&ov, all, 3, IP(ip), NULL, 0, NOW, &d);
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
        { "192.0.2.200", "10.99.0.128/25", LIVE },
        { "192.0.2.201", "10.99.0.0/25", LIVE },
        { "192.0.2.202", "10.98.0.0/25", EXPIRED },  /* Not in the way. */
    };
    lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(1), NULL, 0, NOW, &d);
    assert_int_equal(d.action, LEASE_NONE_FREE);
    assert_int_equal(d.n_live, 2);
    assert_int_equal(d.n_deletes, 0);
    lease_decision_destroy(&d);

    /* An overlay with no usable network. */
    lease_overlay_destroy(&ov);
    overlay(&ov, "10.99.0.0/24", 16);
    lease_decide(&ov, NULL, 0, IP(1), NULL, 0, NOW, &d);
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
        { "192.0.2.200", "10.255.0.0/24", LIVE },
    };
    lease_decide(&ov, rows, 1, IP(11), NULL, 0, NOW, &a);
    lease_decide(&ov, rows, 1, IP(11), NULL, 0, NOW + 5, &b);
    assert_int_equal(a.action, LEASE_CLAIM);
    assert_int_equal(b.action, LEASE_CLAIM);
    assert_int_equal(a.subnet.addr, b.subnet.addr);
    assert_int_equal(a.subnet.plen, b.subnet.plen);
    lease_decision_destroy(&a);
    lease_decision_destroy(&b);

    /* Different addresses start in different places. */
    lease_decide(&ov, NULL, 0, IP(11), NULL, 0, NOW, &a);
    lease_decide(&ov, NULL, 0, IP(12), NULL, 0, NOW, &b);
    assert_int_not_equal(a.subnet.addr, b.subnet.addr);
    lease_decision_destroy(&b);

    /* Each failed attempt starts elsewhere, deterministically. */
    uint32_t by_attempt[4];
    for (unsigned int attempt = 0; attempt < 4; attempt++) {
        lease_decide(&ov, NULL, 0, IP(11), NULL, attempt, NOW, &b);
        by_attempt[attempt] = b.subnet.addr;
        lease_decision_destroy(&b);
        lease_decide(&ov, NULL, 0, IP(11), NULL, attempt, NOW + 9, &b);
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
        lease_decide(&ov, NULL, 0, IP(100 + i), NULL, 0, NOW, &a);
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
        lease_decide(&ov, rows, i, ip, NULL, 0, NOW, &d);
        assert_int_equal(d.action, LEASE_CLAIM);
        assert_int_equal(d.n_live, i);
        assert_true(lease_overlay_contains(&ov, &d.subnet));
        unsigned int third = (d.subnet.addr >> 8) & 0xff;
        assert_false(used[third]);
        used[third] = true;
        ipv4_cidr_format(&d.subnet, subnets[i]);
        rows[i] = (struct lease_row) { ips[i], subnets[i], LIVE };
        lease_decision_destroy(&d);
    }
    lease_decide(&ov, rows, 256, IP(250), NULL, 0, NOW, &d);
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
        { "192.0.2.200", "10.99.0.0/25 ", LIVE },
        { "192.0.2.201", "10.99.0.1/25", LIVE },
        { "192.0.2.202", "10.99.0.0", LIVE },
        { "bogus", "10.99.0.128/25", LIVE },
    };
    for (uint32_t ip = 1; ip < 30; ip++) {
        lease_decide(&ov, rows, ARRAY_SIZE(rows), IP(ip), NULL, 0, NOW,
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
        { "192.0.2.12", "10.255.6.0/24", LIVE },
    };
    lease_decide(&ov, rows, 1, IP(11), &pref, 0, NOW, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.255.5.0/24");
    assert_int_equal(d.n_deletes, 0);
    lease_decision_destroy(&d);

    /* Held by another cell's expired row: reclaimed. */
    struct lease_row expired[] = {
        { "192.0.2.12", "10.255.5.0/24", EXPIRED },
    };
    lease_decide(&ov, expired, 1, IP(11), &pref, 0, NOW, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.255.5.0/24");
    assert_int_equal(d.n_deletes, 1);
    lease_decision_destroy(&d);

    /* Held by a live lease: reported, not replaced. */
    struct lease_row held[] = {
        { "192.0.2.13", "10.255.1.0/24", LIVE },
        { "192.0.2.12", "10.255.5.0/24", LIVE },
    };
    lease_decide(&ov, held, 2, IP(11), &pref, 0, NOW, &d);
    assert_int_equal(d.action, LEASE_HELD);
    assert_int_equal(d.row, 1);
    lease_decision_destroy(&d);

    /* Our row has another subnet: replaced by the preferred one. */
    struct lease_row other[] = {
        { "192.0.2.11", "10.255.9.0/24", LIVE },
    };
    lease_decide(&ov, other, 1, IP(11), &pref, 0, NOW, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.255.5.0/24");
    assert_int_equal(d.n_deletes, 1);
    assert_int_equal(d.deletes[0], 0);
    lease_decision_destroy(&d);

    /* Even if the overlay no longer contains it. */
    lease_overlay_destroy(&ov);
    overlay(&ov, "10.254.0.0/16", 24);
    lease_decide(&ov, NULL, 0, IP(11), &pref, 0, NOW, &d);
    assert_int_equal(d.action, LEASE_CLAIM);
    assert_string_equal(cidr_str(&d.subnet), "10.255.5.0/24");
    lease_decision_destroy(&d);
    lease_overlay_destroy(&ov);
}

static void
test_remotes(void **state OVS_UNUSED)
{
    struct lease_row rows[] = {
        { "192.0.2.13", "10.255.3.0/24", EXPIRED },
        { "192.0.2.11", "10.255.1.0/24", LIVE },      /* Ours. */
        { "192.0.2.12", "10.255.2.0/24", LIVE },
        { "192.0.2.14", "10.255.1.0/25", LIVE },      /* Overlaps ours. */
        { "192.0.2.15", "bad", LIVE },
        { "192.0.2.x", "10.255.6.0/24", LIVE },
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
