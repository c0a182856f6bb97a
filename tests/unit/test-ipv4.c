/*
 * Unit tests for lib/ipv4.c: address and CIDR text (strict, nothing stored
 * on failure), formatting, masks, containment and overlap, at the edges
 * (0.0.0.0/0, /32, 255.255.255.255). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ipv4.h"
#include "util.h"

#define IP(A, B, C, D) \
    (((uint32_t) (A) << 24) | ((B) << 16) | ((C) << 8) | (D))

static void
test_parse_format(void **state)
{
    static const struct {
        const char *text;
        uint32_t ip;
    } good[] = {
        { "0.0.0.0", 0 },
        { "255.255.255.255", UINT32_MAX },
        { "10.255.7.2", IP(10, 255, 7, 2) },
        { "169.254.0.1", IP(169, 254, 0, 1) },
    };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        uint32_t ip = 0x12345678;
        char buf[IPV4_ADDR_LEN];
        assert_true(ipv4_parse(good[i].text, &ip));
        assert_int_equal(ip, good[i].ip);
        assert_ptr_equal(ipv4_format(ip, buf), buf);
        assert_string_equal(buf, good[i].text);
    }

    static const char *const bad[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
        "01.2.3.4", "1.2.3.-4", "a.b.c.d", "1.2.3.4/32", "::1", "0x1.2.3.4",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        uint32_t ip = 0x12345678;
        if (ipv4_parse(bad[i], &ip)) {
            fail_msg("\"%s\" parsed as an IPv4 address", bad[i]);
        }
        assert_int_equal(ip, 0x12345678);
    }
}

static void
test_parse_cidr_good(void **state)
{
    static const struct {
        const char *text;
        uint32_t net;
        unsigned int plen;
    } cases[] = {
        { "10.255.0.0/16", IP(10, 255, 0, 0), 16 },
        { "10.255.7.0/24", IP(10, 255, 7, 0), 24 },
        { "10.1.2.3/32", IP(10, 1, 2, 3), 32 },
        { "0.0.0.0/0", 0, 0 },
        { "128.0.0.0/1", IP(128, 0, 0, 0), 1 },
        { "10.0.0.0/8", IP(10, 0, 0, 0), 8 },
        { "192.168.1.128/25", IP(192, 168, 1, 128), 25 },
        { "255.255.255.255/32", UINT32_MAX, 32 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ipv4_cidr c = { 1, 99 };
        char buf[IPV4_CIDR_LEN];
        if (!ipv4_parse_cidr(cases[i].text, &c)) {
            fail_msg("\"%s\" rejected", cases[i].text);
        }
        assert_int_equal(c.addr, cases[i].net);
        assert_int_equal(c.plen, cases[i].plen);
        assert_ptr_equal(ipv4_cidr_format(&c, buf), buf);
        assert_string_equal(buf, cases[i].text);
    }
}

static void
test_parse_cidr_bad(void **state)
{
    static const char *const cases[] = {
        /* Host bits set. */
        "10.0.0.1/24", "10.255.7.2/16", "0.0.0.1/0", "192.168.1.129/25",
        /* Prefix out of range or malformed. */
        "10.0.0.0/33", "10.0.0.0/99", "10.0.0.0/100", "10.0.0.0/-1",
        "10.0.0.0/", "10.0.0.0/ 8", "10.0.0.0/+8", "10.0.0.0/08",
        "10.0.0.0/8x", "10.0.0.0/8 ", "10.0.0.0/8/8",
        /* Address malformed or missing. */
        "10.0.0.0", "10.0.0/8", "10.0.0.0.0/8", "a.b.c.d/8", "/8", "",
        " 10.0.0.0/8", "010.0.0.0/8", "256.0.0.0/8", "::/0", "banana",
        "1234567890123456789.0.0.0/8",
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ipv4_cidr c = { 0x12345678, 99 };
        if (ipv4_parse_cidr(cases[i], &c)) {
            fail_msg("\"%s\" accepted", cases[i]);
        }
        /* Nothing is stored on failure. */
        assert_int_equal(c.addr, 0x12345678);
        assert_int_equal(c.plen, 99);
    }
}

static void
test_masks(void **state)
{
    assert_int_equal(ipv4_prefix_mask(0), 0);
    assert_int_equal(ipv4_prefix_mask(1), 0x80000000);
    assert_int_equal(ipv4_prefix_mask(24), 0xffffff00);
    assert_int_equal(ipv4_prefix_mask(31), 0xfffffffe);
    assert_int_equal(ipv4_prefix_mask(32), UINT32_MAX);

    struct ipv4_cidr c = { IP(10, 255, 7, 0), 24 };
    assert_int_equal(ipv4_cidr_network(&c), IP(10, 255, 7, 0));
    assert_int_equal(ipv4_cidr_broadcast(&c), IP(10, 255, 7, 255));
    struct ipv4_cidr all = { 0, 0 };
    assert_int_equal(ipv4_cidr_network(&all), 0);
    assert_int_equal(ipv4_cidr_broadcast(&all), UINT32_MAX);
    struct ipv4_cidr one = { UINT32_MAX, 32 };
    assert_int_equal(ipv4_cidr_network(&one), UINT32_MAX);
    assert_int_equal(ipv4_cidr_broadcast(&one), UINT32_MAX);
}

static void
test_contains(void **state)
{
    struct ipv4_cidr c = { IP(10, 255, 0, 0), 16 };
    assert_true(ipv4_cidr_contains(&c, IP(10, 255, 0, 0)));
    assert_true(ipv4_cidr_contains(&c, IP(10, 255, 7, 2)));
    assert_true(ipv4_cidr_contains(&c, IP(10, 255, 255, 255)));
    assert_false(ipv4_cidr_contains(&c, IP(10, 254, 255, 255)));
    assert_false(ipv4_cidr_contains(&c, IP(10, 0, 0, 0)));

    struct ipv4_cidr all = { 0, 0 };
    assert_true(ipv4_cidr_contains(&all, 0));
    assert_true(ipv4_cidr_contains(&all, UINT32_MAX));

    struct ipv4_cidr host = { IP(169, 254, 0, 1), 32 };
    assert_true(ipv4_cidr_contains(&host, IP(169, 254, 0, 1)));
    assert_false(ipv4_cidr_contains(&host, IP(169, 254, 0, 2)));
}

static void
test_overlaps(void **state)
{
    struct ipv4_cidr a = { IP(10, 255, 0, 0), 16 };
    struct ipv4_cidr inside = { IP(10, 255, 7, 0), 24 };
    struct ipv4_cidr next = { IP(10, 0, 0, 0), 16 };
    struct ipv4_cidr all = { 0, 0 };
    struct ipv4_cidr top = { UINT32_MAX, 32 };
    struct ipv4_cidr edge = { IP(10, 255, 255, 255), 32 };

    assert_true(ipv4_cidr_overlaps(&a, &inside));
    assert_true(ipv4_cidr_overlaps(&inside, &a));
    assert_true(ipv4_cidr_overlaps(&a, &a));
    assert_false(ipv4_cidr_overlaps(&a, &next));
    assert_true(ipv4_cidr_overlaps(&all, &a));
    assert_true(ipv4_cidr_overlaps(&top, &all));
    assert_false(ipv4_cidr_overlaps(&top, &a));
    assert_true(ipv4_cidr_overlaps(&edge, &a));
    assert_false(ipv4_cidr_overlaps(&edge, &inside));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_parse_cidr_good),
        cmocka_unit_test(test_parse_cidr_bad),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_overlaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
