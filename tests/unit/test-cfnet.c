/*
 * Unit tests for lib/cfnet.c: derived MACs, the host veth name and the
 * gateway's constants.  Expected interface names and veth MACs were computed
 * independently with Python's hashlib ("cf" + sha1(handle).hexdigest()[:12];
 * "aa:ab:" + sha1(handle) bytes 6 to 9). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cfnet.h"
#include "ipv4.h"
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
    uint32_t ip;
    assert_true(ipv4_parse(CFNET_GATEWAY_IP_STRING, &ip));
    assert_int_equal(ip, CFNET_GATEWAY_IP);
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_macs),
        cmocka_unit_test(test_gateway_constants),
        cmocka_unit_test(test_host_ifname),
        cmocka_unit_test(test_veth_host_mac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
