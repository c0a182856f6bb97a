/*
 * Unit tests for lib/cfnet.c: derived MACs, the host veth name and CIDR
 * parsing.  Expected interface names and veth MACs were computed
 * independently with Python's hashlib ("cf" + sha1(handle).hexdigest()[:12];
 * "aa:ab:" + sha1(handle) bytes 6 to 9). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cfnet.h"
#include "util.h"

#define IP(A, B, C, D) \
    (((uint32_t) (A) << 24) | ((B) << 16) | ((C) << 8) | (D))

static void
test_macs(void **state)
{
    uint8_t mac[6];
    char buf[18];

    cfnet_container_mac(IP(10, 255, 7, 2), mac);
    assert_memory_equal(mac, ((uint8_t[]) { 0xee, 0xee, 10, 255, 7, 2 }), 6);
    cfnet_mac_format(mac, buf);
    assert_string_equal(buf, "ee:ee:0a:ff:07:02");

    cfnet_host_mac(IP(10, 255, 7, 2), mac);
    assert_memory_equal(mac, ((uint8_t[]) { 0xaa, 0xaa, 10, 255, 7, 2 }), 6);
    cfnet_mac_format(mac, buf);
    assert_string_equal(buf, "aa:aa:0a:ff:07:02");

    /* Lowercase hex, zero-padded. */
    cfnet_host_mac(IP(0xab, 0xcd, 0, 0xef), mac);
    cfnet_mac_format(mac, buf);
    assert_string_equal(buf, "aa:aa:ab:cd:00:ef");

    /* The gateway's MAC is derived like every other host-side MAC. */
    static const uint8_t gw_mac[6] = CFNET_GATEWAY_MAC;
    cfnet_host_mac(CFNET_GATEWAY_IP, mac);
    assert_memory_equal(mac, gw_mac, 6);
    cfnet_mac_format(gw_mac, buf);
    assert_string_equal(buf, "aa:aa:a9:fe:00:01");
}

/* The host end's MAC comes from the handle (it is made before IPAM
 * answers): aa:ab + SHA-1 bytes 6..9, as Python's hashlib computes them. */
static void
test_veth_host_mac(void **state)
{
    static const char *const cases[][2] = {
        { "abc", "aa:ab:81:6a:ba:3e" },
        { "6a1e7b1c-2f5d-4d2e-9e0a-3b7c8d9e0f11", "aa:ab:81:a8:bc:09" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t mac[6];
        char buf[18];
        cfnet_veth_host_mac(cases[i][0], mac);
        cfnet_mac_format(mac, buf);
        assert_string_equal(buf, cases[i][1]);
        /* Unicast, locally administered. */
        assert_int_equal(mac[0] & 0x03, 0x02);
    }
}

static void
test_gateway_constants(void **state)
{
    uint32_t net;
    unsigned int plen;
    assert_true(cfnet_parse_cidr(CFNET_GATEWAY_IP_STRING "/32", &net,
                                 &plen));
    assert_int_equal(net, CFNET_GATEWAY_IP);
    assert_int_equal(plen, 32);
}

static void
test_host_ifname(void **state)
{
    static const char *const cases[][2] = {
        { "", "cfda39a3ee5e6b" },
        { "abc", "cfa9993e364706" },
        { "app-guid-0123-instance", "cf82eff9ef17b1" },
        { "6a1e7b1c-2f5d-4d2e-9e0a-3b7c8d9e0f11", "cfa216bc387d1d" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char name[CFNET_IFNAME_LEN + 1];
        memset(name, 'x', sizeof name);
        cfnet_host_ifname(cases[i][0], name);
        assert_string_equal(name, cases[i][1]);
        assert_int_equal(strlen(name), CFNET_IFNAME_LEN);
    }
    /* Below IFNAMSIZ (16) including the terminator. */
    assert_true(CFNET_IFNAME_LEN + 1 <= 16);
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
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t net = 1;
        unsigned int plen = 99;
        if (!cfnet_parse_cidr(cases[i].text, &net, &plen)) {
            fail_msg("\"%s\" rejected", cases[i].text);
        }
        assert_int_equal(net, cases[i].net);
        assert_int_equal(plen, cases[i].plen);
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
        " 10.0.0.0/8", "010.0.0.0/8", "256.0.0.0/8", "::/0",
        "1234567890123456789.0.0.0/8",
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t net = 0x12345678;
        unsigned int plen = 99;
        if (cfnet_parse_cidr(cases[i], &net, &plen)) {
            fail_msg("\"%s\" accepted", cases[i]);
        }
        /* Nothing is stored on failure. */
        assert_int_equal(net, 0x12345678);
        assert_int_equal(plen, 99);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_macs),
        cmocka_unit_test(test_gateway_constants),
        cmocka_unit_test(test_host_ifname),
        cmocka_unit_test(test_veth_host_mac),
        cmocka_unit_test(test_parse_cidr_good),
        cmocka_unit_test(test_parse_cidr_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
