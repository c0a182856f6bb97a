/*
 * Unit tests for cni-ovs/result.c: the ADD result in each CNI version's
 * shape, error objects and the VERSION reply.  Outputs are parsed back with
 * jansson and checked member by member. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cfjson.h"
#include "cfnet.h"
#include "result.h"
#include "util.h"

#define IP(A, B, C, D) \
    (((uint32_t) (A) << 24) | ((B) << 16) | ((C) << 8) | (D))

/* Asserts that 'text' is one line of compact JSON followed by a new-line,
 * frees it and returns the parsed object. */
static json_t *
parse_output(char *text)
{
    size_t len = strlen(text);
    assert_true(len > 1);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1));
    assert_null(strstr(text, "\": "));
    assert_null(strstr(text, ", \""));

    json_error_t error;
    json_t *json = json_loads(text, 0, &error);
    if (!json) {
        fail_msg("output is not JSON: %s: %s", text, error.text);
    }
    assert_true(json_is_object(json));
    free(text);
    return json;
}

/* Returns string member 'key' of 'obj', failing if it is not a string. */
static const char *
get_string(const json_t *obj, const char *key)
{
    const json_t *value = json_object_get(obj, key);
    if (!json_is_string(value)) {
        fail_msg("\"%s\" is not a string", key);
    }
    return json_string_value(value);
}

static void
make_result(struct cni_result *r, enum cni_version version)
{
    static const char *const dns[] = { "169.254.0.2", "8.8.8.8" };

    memset(r, 0, sizeof *r);
    r->version = version;
    r->host_ifname = "cf0123456789ab";
    cfnet_host_mac(IP(10, 255, 171, 2), r->host_mac);
    r->container_ifname = "eth0";
    cfnet_container_mac(IP(10, 255, 171, 2), r->container_mac);
    r->sandbox = "/var/run/netns/abc";
    r->ip = IP(10, 255, 171, 2);
    r->gateway = CFNET_GATEWAY_IP;
    r->dns_servers = dns;
    r->n_dns_servers = ARRAY_SIZE(dns);
}

/* Checks every member of the result for 'version' built by make_result(). */
static void
check_result(enum cni_version version, const char *version_string)
{
    struct cni_result r;
    make_result(&r, version);
    json_t *json = parse_output(cni_result_to_json(&r));

    assert_string_equal(get_string(json, "cniVersion"), version_string);

    /* Interfaces: host side first, no sandbox; then the container's. */
    const json_t *ifaces = json_object_get(json, "interfaces");
    assert_true(json_is_array(ifaces));
    assert_int_equal(json_array_size(ifaces), 2);
    const json_t *host = json_array_get(ifaces, 0);
    assert_string_equal(get_string(host, "name"), "cf0123456789ab");
    assert_string_equal(get_string(host, "mac"), "aa:aa:0a:ff:ab:02");
    assert_null(json_object_get(host, "sandbox"));
    assert_int_equal(json_object_size(host), 2);
    const json_t *cont = json_array_get(ifaces, 1);
    assert_string_equal(get_string(cont, "name"), "eth0");
    assert_string_equal(get_string(cont, "mac"), "ee:ee:0a:ff:ab:02");
    assert_string_equal(get_string(cont, "sandbox"), "/var/run/netns/abc");
    assert_int_equal(json_object_size(cont), 3);

    /* One /32 address on interface 1. */
    const json_t *ips = json_object_get(json, "ips");
    assert_true(json_is_array(ips));
    assert_int_equal(json_array_size(ips), 1);
    const json_t *ip = json_array_get(ips, 0);
    assert_string_equal(get_string(ip, "address"), "10.255.171.2/32");
    assert_string_equal(get_string(ip, "gateway"), "169.254.0.1");
    const json_t *iface = json_object_get(ip, "interface");
    assert_true(json_is_integer(iface));
    assert_int_equal(json_integer_value(iface), 1);
    if (version == CNI_V100) {
        assert_null(json_object_get(ip, "version"));
        assert_int_equal(json_object_size(ip), 3);
    } else {
        assert_string_equal(get_string(ip, "version"), "4");
        assert_int_equal(json_object_size(ip), 4);
    }

    /* Default route via the gateway. */
    const json_t *routes = json_object_get(json, "routes");
    assert_true(json_is_array(routes));
    assert_int_equal(json_array_size(routes), 1);
    const json_t *route = json_array_get(routes, 0);
    assert_string_equal(get_string(route, "dst"), "0.0.0.0/0");
    assert_string_equal(get_string(route, "gw"), "169.254.0.1");

    const json_t *dns = json_object_get(json, "dns");
    assert_true(json_is_object(dns));
    const json_t *servers = json_object_get(dns, "nameservers");
    assert_int_equal(json_array_size(servers), 2);
    assert_string_equal(json_string_value(json_array_get(servers, 0)),
                        "169.254.0.2");
    assert_string_equal(json_string_value(json_array_get(servers, 1)),
                        "8.8.8.8");

    assert_int_equal(json_object_size(json), 5);
    json_decref(json);

    /* Without DNS servers there is no "dns" at all. */
    r.n_dns_servers = 0;
    json = parse_output(cni_result_to_json(&r));
    assert_null(json_object_get(json, "dns"));
    assert_int_equal(json_object_size(json), 4);
    json_decref(json);
}

static void
test_result_v031(void **state)
{
    check_result(CNI_V031, "0.3.1");
}

static void
test_result_v040(void **state)
{
    check_result(CNI_V040, "0.4.0");
}

static void
test_result_v100(void **state)
{
    check_result(CNI_V100, "1.0.0");
}

/* The whole 1.0.0 document, byte for byte. */
static void
test_result_exact(void **state)
{
    struct cni_result r;
    make_result(&r, CNI_V100);
    r.n_dns_servers = 1;
    char *text = cni_result_to_json(&r);
    assert_string_equal(
        text,
        "{\"cniVersion\":\"1.0.0\","
        "\"interfaces\":[{\"name\":\"cf0123456789ab\","
        "\"mac\":\"aa:aa:0a:ff:ab:02\"},{\"name\":\"eth0\","
        "\"mac\":\"ee:ee:0a:ff:ab:02\",\"sandbox\":\"/var/run/netns/abc\"}],"
        "\"ips\":[{\"interface\":1,\"address\":\"10.255.171.2/32\","
        "\"gateway\":\"169.254.0.1\"}],"
        "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.0.1\"}],"
        "\"dns\":{\"nameservers\":[\"169.254.0.2\"]}}\n");
    free(text);
}

/* Bytes that are not UTF-8 (CNI_NETNS comes from the environment) still
 * give valid JSON. */
static void
test_result_not_utf8(void **state)
{
    struct cni_result r;
    make_result(&r, CNI_V100);
    r.sandbox = "/var/run/netns/\xff\xfe";
    json_t *json = parse_output(cni_result_to_json(&r));
    const json_t *cont = json_array_get(json_object_get(json, "interfaces"),
                                        1);
    assert_string_equal(get_string(cont, "sandbox"), "/var/run/netns/??");
    json_decref(json);
}

static void
test_error(void **state)
{
    json_t *json = parse_output(cni_error_to_json("0.4.0", 7,
                                                  "mtu: must be an integer",
                                                  "got \"1500\""));
    assert_string_equal(get_string(json, "cniVersion"), "0.4.0");
    assert_int_equal(json_integer_value(json_object_get(json, "code")), 7);
    assert_string_equal(get_string(json, "msg"), "mtu: must be an integer");
    assert_string_equal(get_string(json, "details"), "got \"1500\"");
    assert_int_equal(json_object_size(json), 4);
    json_decref(json);

    /* No version: 1.0.0; no details: no member. */
    char *text = cni_error_to_json(NULL, 1,
                                   "cniVersion: unsupported version "
                                   "\"0.2.0\"", NULL);
    assert_string_equal(text,
                        "{\"cniVersion\":\"1.0.0\",\"code\":1,"
                        "\"msg\":\"cniVersion: unsupported version "
                        "\\\"0.2.0\\\"\"}\n");
    json = parse_output(text);
    assert_null(json_object_get(json, "details"));
    json_decref(json);

    /* Messages are arbitrary bytes. */
    json = parse_output(cni_error_to_json("1.0.0", 5, "bad \xc3\x28 byte\n",
                                          "line\ttab"));
    assert_string_equal(get_string(json, "msg"), "bad ?( byte\n");
    assert_string_equal(get_string(json, "details"), "line\ttab");
    json_decref(json);
}

/* The codes are the CNI specification's numbers ("Well-known Error Codes",
 * 1-99) and cni-ovs's own (100 and up): a user or a runtime reads them
 * from the error object, so they never change. */
static void
test_error_codes(void **state)
{
    assert_int_equal(CNI_ERR_INCOMPATIBLE_VERSION, 1);
    assert_int_equal(CNI_ERR_INVALID_ENV, 4);
    assert_int_equal(CNI_ERR_IO, 5);
    assert_int_equal(CNI_ERR_DECODE, 6);
    assert_int_equal(CNI_ERR_INVALID_CONFIG, 7);
    assert_int_equal(CNI_ERR_TRY_AGAIN, 11);
    assert_int_equal(CNI_ERR_ALREADY_EXISTS, 100);
    assert_int_equal(CNI_ERR_CHECK_MISMATCH, 101);

    json_t *json = parse_output(cni_error_to_json(
                                    NULL, CNI_ERR_INVALID_ENV,
                                    "CNI_NETNS: required", NULL));
    assert_int_equal(json_integer_value(json_object_get(json, "code")), 4);
    json_decref(json);
}

static void
test_version_reply(void **state)
{
    char *text = cni_version_reply("0.4.0");
    assert_string_equal(text,
                        "{\"cniVersion\":\"0.4.0\",\"supportedVersions\":"
                        "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]}\n");
    free(text);

    json_t *json = parse_output(cni_version_reply(NULL));
    assert_string_equal(get_string(json, "cniVersion"), "1.0.0");
    const json_t *versions = json_object_get(json, "supportedVersions");
    assert_int_equal(json_array_size(versions), 4);
    assert_string_equal(json_string_value(json_array_get(versions, 3)),
                        "1.0.0");
    json_decref(json);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_v031),
        cmocka_unit_test(test_result_v040),
        cmocka_unit_test(test_result_v100),
        cmocka_unit_test(test_result_exact),
        cmocka_unit_test(test_result_not_utf8),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test(test_version_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
