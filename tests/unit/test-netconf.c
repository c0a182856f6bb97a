/*
 * Unit tests for cni-ovs/netconf.c: every member of the network
 * configuration (defaults, valid values, wrong types, out-of-range values),
 * the CNI error code of each failure and the JSON path its message names. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "netconf.h"
#include "util.h"

/* The CNI members every config needs; tests append their own. */
#define BASE "\"cniVersion\":\"1.0.0\",\"name\":\"cf\",\"type\":\"cni-ovs\""

#define IP(A, B, C, D) \
    (((uint32_t) (A) << 24) | ((B) << 16) | ((C) << 8) | (D))

/* Parses 'text' into 'nc' and asserts success. */
static void
parse_ok(const char *text, struct netconf *nc)
{
    int code = -1;
    char *error = netconf_parse(text, strlen(text), nc, &code);
    if (error) {
        fail_msg("%s: unexpected error: %s", text, error);
    }
    assert_int_equal(code, -1);
}

/* Asserts that 'text' fails with CNI error 'code' and message 'expected',
 * leaving the struct zeroed. */
static void
parse_error(const char *text, int code, const char *expected)
{
    struct netconf nc;
    int actual_code = -1;
    char *error = netconf_parse(text, strlen(text), &nc, &actual_code);
    if (!error) {
        fail_msg("%s: parsed without error", text);
    }
    assert_string_equal(error, expected);
    assert_int_equal(actual_code, code);
    assert_null(nc.root);
    assert_null(nc.name);
    assert_null(nc.dns_servers);
    assert_null(nc.metadata.app_id);
    assert_null(nc.runtime.port_mappings);
    free(error);
}

/* Asserts that BASE plus 'members' fails as invalid config (code 7) with
 * 'expected'. */
static void
member_error(const char *members, const char *expected)
{
    char *text = xasprintf("{" BASE ",%s}", members);
    parse_error(text, 7, expected);
    free(text);
}

/* Parses BASE plus 'members' into 'nc' and asserts success. */
static void
member_ok(const char *members, struct netconf *nc)
{
    char *text = xasprintf("{" BASE ",%s}", members);
    parse_ok(text, nc);
    free(text);
}

static void
test_minimal_defaults(void **state)
{
    struct netconf nc;
    parse_ok("{" BASE "}", &nc);

    assert_non_null(nc.root);
    assert_int_equal(nc.version, CNI_V100);
    assert_string_equal(nc.version_string, "1.0.0");
    assert_string_equal(nc.name, "cf");
    assert_string_equal(nc.type, "cni-ovs");
    assert_string_equal(nc.bridge, "br-cf");
    assert_string_equal(nc.ovsdb, "unix:/var/run/openvswitch/db.sock");
    assert_int_equal(nc.mtu, 0);
    assert_int_equal(nc.n_dns_servers, 0);
    assert_null(nc.ipam);
    assert_string_equal(nc.ipam_type, "host-local");
    assert_false(nc.netdev);
    assert_int_equal(nc.install_timeout, 0);
    assert_null(nc.metadata.app_id);
    assert_null(nc.metadata.log_config);
    assert_int_equal(nc.runtime.n_port_mappings, 0);
    assert_int_equal(nc.runtime.n_netout_rules, 0);
    assert_null(nc.prev_result);

    netconf_destroy(&nc);
    assert_null(nc.root);
    netconf_destroy(&nc);
    netconf_destroy(NULL);
}

/* A config with everything, as garden-external-networker hands it over,
 * with unknown members at every level. */
static void
test_full(void **state)
{
    static const char text[] =
        "{\"cniVersion\":\"0.4.0\",\"name\":\"cf-net\",\"type\":\"cni-ovs\","
        "\"bridge\":\"br-test\",\"ovsdb\":\"tcp:127.0.0.1:6640\","
        "\"mtu\":1450,\"dns_servers\":[\"169.254.0.2\",\"8.8.8.8\"],"
        "\"ipam\":{\"type\":\"static\",\"routes\":[]},"
        "\"datapath_type\":\"netdev\",\"install_timeout\":30,"
        "\"dns\":{\"nameservers\":[\"1.1.1.1\"]},\"capabilities\":{},"
        "\"metadata\":{\"policy_group_id\":\"pg\",\"app_id\":\"a\","
        "\"space_id\":\"s\",\"org_id\":\"o\",\"ports\":\"8080\","
        "\"container_workload\":\"app\",\"log_config\":"
        "\"{\\\"guid\\\":\\\"a\\\",\\\"index\\\":0,"
        "\\\"source_name\\\":\\\"CELL\\\",\\\"tags\\\":{}}\","
        "\"future\":1},"
        "\"runtimeConfig\":{\"portMappings\":[{\"host_port\":61000,"
        "\"container_port\":8080}],\"netOutRules\":[{\"protocol\":1,"
        "\"networks\":[{\"start\":\"8.8.8.8\",\"end\":\"9.9.9.9\"}],"
        "\"ports\":[{\"start\":53,\"end\":54}],\"log\":true}],"
        "\"ips\":[]},"
        "\"prevResult\":{\"cniVersion\":\"0.4.0\",\"ips\":[]},"
        "\"someOtherPlugin\":{\"x\":[1,2]}}";
    struct netconf nc;
    parse_ok(text, &nc);

    assert_int_equal(nc.version, CNI_V040);
    assert_string_equal(nc.name, "cf-net");
    assert_string_equal(nc.bridge, "br-test");
    assert_string_equal(nc.ovsdb, "tcp:127.0.0.1:6640");
    assert_int_equal(nc.mtu, 1450);
    assert_int_equal(nc.n_dns_servers, 2);
    assert_string_equal(nc.dns_servers[0], "169.254.0.2");
    assert_string_equal(nc.dns_servers[1], "8.8.8.8");
    assert_ptr_equal(nc.ipam, json_object_get(nc.root, "ipam"));
    assert_string_equal(nc.ipam_type, "static");
    assert_true(nc.netdev);
    assert_int_equal(nc.install_timeout, 30);
    assert_string_equal(nc.metadata.policy_group_id, "pg");
    assert_string_equal(nc.metadata.app_id, "a");
    assert_string_equal(nc.metadata.space_id, "s");
    assert_string_equal(nc.metadata.org_id, "o");
    assert_string_equal(nc.metadata.ports, "8080");
    assert_string_equal(nc.metadata.container_workload, "app");
    assert_string_equal(nc.metadata.log_config,
                        "{\"guid\":\"a\",\"index\":0,"
                        "\"source_name\":\"CELL\",\"tags\":{}}");
    assert_int_equal(nc.runtime.n_port_mappings, 1);
    assert_int_equal(nc.runtime.port_mappings[0].host_port, 61000);
    assert_int_equal(nc.runtime.port_mappings[0].container_port, 8080);
    assert_int_equal(nc.runtime.n_netout_rules, 1);
    assert_int_equal(nc.runtime.netout_rules[0].protocol, CF_PROTO_TCP);
    assert_int_equal(nc.runtime.netout_rules[0].networks[0].start,
                     IP(8, 8, 8, 8));
    assert_true(nc.runtime.netout_rules[0].log);
    assert_ptr_equal(nc.prev_result, json_object_get(nc.root, "prevResult"));
    netconf_destroy(&nc);
}

/* Asserts that 'text' is rejected as not JSON (code 6).  The rest of the
 * message is jansson's. */
static void
not_json(const char *text)
{
    static const char prefix[] = "network configuration is not valid JSON: ";
    struct netconf nc;
    int code = -1;
    char *error = netconf_parse(text, strlen(text), &nc, &code);
    assert_non_null(error);
    assert_int_equal(strncmp(error, prefix, strlen(prefix)), 0);
    assert_true(strlen(error) > strlen(prefix));
    assert_int_equal(code, 6);
    assert_null(nc.root);
    free(error);
}

static void
test_not_json(void **state)
{
    not_json("");
    not_json("{\"cniVersion\":");
    not_json("{" BASE "} x");
    not_json("{" BASE ",\"name\":\"a\\u0000b\"}");
    not_json("cniVersion: 1.0.0");
    parse_error("[]", 6, "network configuration must be a JSON object");

    /* The code pointer is optional. */
    struct netconf nc;
    char *error = netconf_parse("nope", 4, &nc, NULL);
    assert_non_null(error);
    free(error);

    /* Only 'len' bytes count: what follows is not read. */
    static const char text[] = "{" BASE "}garbage";
    error = netconf_parse(text, strlen(text) - strlen("garbage"), &nc, NULL);
    assert_null(error);
    assert_string_equal(nc.name, "cf");
    netconf_destroy(&nc);
}

static void
test_cni_version(void **state)
{
    static const struct {
        const char *string;
        enum cni_version version;
    } good[] = {
        { "0.3.0", CNI_V031 },
        { "0.3.1", CNI_V031 },
        { "0.4.0", CNI_V040 },
        { "1.0.0", CNI_V100 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        char *text = xasprintf("{\"cniVersion\":\"%s\",\"name\":\"n\","
                               "\"type\":\"t\"}", good[i].string);
        struct netconf nc;
        parse_ok(text, &nc);
        assert_int_equal(nc.version, good[i].version);
        assert_string_equal(nc.version_string, good[i].string);
        netconf_destroy(&nc);
        free(text);
    }

    parse_error("{\"cniVersion\":\"0.2.0\",\"name\":\"n\",\"type\":\"t\"}",
                1, "cniVersion: unsupported version \"0.2.0\"");
    parse_error("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\"}",
                1, "cniVersion: unsupported version \"1.1.0\"");
    parse_error("{\"cniVersion\":\"\",\"name\":\"n\",\"type\":\"t\"}",
                1, "cniVersion: unsupported version \"\"");
    /* An unsupported version wins over later errors. */
    parse_error("{\"cniVersion\":\"9\",\"mtu\":\"x\"}",
                1, "cniVersion: unsupported version \"9\"");
    parse_error("{\"name\":\"n\",\"type\":\"t\"}", 7, "cniVersion: required");
    parse_error("{\"cniVersion\":null,\"name\":\"n\",\"type\":\"t\"}",
                7, "cniVersion: required");
    parse_error("{\"cniVersion\":1.0,\"name\":\"n\",\"type\":\"t\"}",
                7, "cniVersion: must be a string");
}

static void
test_version_strings(void **state)
{
    assert_int_equal(cni_version_from_string("0.3.0"), CNI_V031);
    assert_int_equal(cni_version_from_string("0.3.1"), CNI_V031);
    assert_int_equal(cni_version_from_string("0.4.0"), CNI_V040);
    assert_int_equal(cni_version_from_string("1.0.0"), CNI_V100);
    assert_int_equal(cni_version_from_string("0.2.0"), -1);
    assert_int_equal(cni_version_from_string("1.0"), -1);
    assert_int_equal(cni_version_from_string(NULL), -1);

    assert_string_equal(cni_version_to_string(CNI_V031), "0.3.1");
    assert_string_equal(cni_version_to_string(CNI_V040), "0.4.0");
    assert_string_equal(cni_version_to_string(CNI_V100), "1.0.0");
}

static void
test_name_type(void **state)
{
    parse_error("{\"cniVersion\":\"1.0.0\",\"type\":\"t\"}", 7,
                "name: required");
    parse_error("{\"cniVersion\":\"1.0.0\",\"name\":\"\",\"type\":\"t\"}", 7,
                "name: must not be empty");
    parse_error("{\"cniVersion\":\"1.0.0\",\"name\":[],\"type\":\"t\"}", 7,
                "name: must be a string");
    parse_error("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", 7,
                "type: required");
    parse_error("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"\"}", 7,
                "type: must not be empty");
    parse_error("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":7}", 7,
                "type: must be a string");
}

static void
test_bridge(void **state)
{
    struct netconf nc;
    member_ok("\"bridge\":\"br-fifteen-char\"", &nc);
    assert_string_equal(nc.bridge, "br-fifteen-char");
    netconf_destroy(&nc);

    member_ok("\"bridge\":null", &nc);
    assert_string_equal(nc.bridge, "br-cf");
    netconf_destroy(&nc);

    static const char msg[] = "bridge: not a valid interface name "
                              "(1 to 15 characters, no '/', ':' or "
                              "white space)";
    member_error("\"bridge\":\"br-sixteen-chars\"", msg);
    member_error("\"bridge\":\"\"", msg);
    member_error("\"bridge\":\"br/cf\"", msg);
    member_error("\"bridge\":\"br cf\"", msg);
    member_error("\"bridge\":\"br:0\"", msg);
    member_error("\"bridge\":\"..\"", msg);
    member_error("\"bridge\":true", "bridge: must be a string");
}

static void
test_ovsdb(void **state)
{
    static const char *const good[] = {
        "unix:/run/openvswitch/db.sock", "tcp:10.0.0.1:6640",
        "ssl:[::1]:6640",
    };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        char *members = xasprintf("\"ovsdb\":\"%s\"", good[i]);
        struct netconf nc;
        member_ok(members, &nc);
        assert_string_equal(nc.ovsdb, good[i]);
        netconf_destroy(&nc);
        free(members);
    }

    static const char msg[] = "ovsdb: must be \"unix:PATH\", "
                              "\"tcp:HOST:PORT\" or \"ssl:HOST:PORT\"";
    member_error("\"ovsdb\":\"/var/run/openvswitch/db.sock\"", msg);
    member_error("\"ovsdb\":\"unix:\"", msg);
    member_error("\"ovsdb\":\"punix:/x\"", msg);
    member_error("\"ovsdb\":\"\"", msg);
    member_error("\"ovsdb\":6640", "ovsdb: must be a string");
}

static void
test_mtu(void **state)
{
    static const unsigned int good[] = { 0, 68, 1450, 9000, 65535 };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        char *members = xasprintf("\"mtu\":%u", good[i]);
        struct netconf nc;
        member_ok(members, &nc);
        assert_int_equal(nc.mtu, good[i]);
        netconf_destroy(&nc);
        free(members);
    }

    static const char msg[] = "mtu: must be 0 (automatic) or 68..65535";
    member_error("\"mtu\":1", msg);
    member_error("\"mtu\":67", msg);
    member_error("\"mtu\":65536", msg);
    member_error("\"mtu\":-1", msg);
    member_error("\"mtu\":\"1500\"", "mtu: must be an integer");
    member_error("\"mtu\":1500.0", "mtu: must be an integer");
    member_error("\"mtu\":true", "mtu: must be an integer");
}

static void
test_dns_servers(void **state)
{
    struct netconf nc;
    member_ok("\"dns_servers\":[]", &nc);
    assert_int_equal(nc.n_dns_servers, 0);
    netconf_destroy(&nc);

    member_ok("\"dns_servers\":[\"10.0.0.2\"]", &nc);
    assert_int_equal(nc.n_dns_servers, 1);
    assert_string_equal(nc.dns_servers[0], "10.0.0.2");
    netconf_destroy(&nc);

    member_error("\"dns_servers\":\"8.8.8.8\"",
                 "dns_servers: must be an array");
    member_error("\"dns_servers\":[\"8.8.8.8\",53]",
                 "dns_servers[1]: must be a string");
    member_error("\"dns_servers\":[\"8.8.8.8\",\"1.1.1.1\",\"dns.google\"]",
                 "dns_servers[2]: not an IPv4 address");
    member_error("\"dns_servers\":[\"2001:4860:4860::8888\"]",
                 "dns_servers[0]: not an IPv4 address");
    member_error("\"dns_servers\":[null]",
                 "dns_servers[0]: must be a string");
}

static void
test_ipam(void **state)
{
    struct netconf nc;
    member_ok("\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}]]}", &nc);
    assert_ptr_equal(nc.ipam, json_object_get(nc.root, "ipam"));
    assert_string_equal(nc.ipam_type, "host-local");
    netconf_destroy(&nc);

    member_ok("\"ipam\":{\"type\":\"my-ipam\"}", &nc);
    assert_string_equal(nc.ipam_type, "my-ipam");
    netconf_destroy(&nc);

    member_error("\"ipam\":\"host-local\"", "ipam: must be an object");
    member_error("\"ipam\":{\"type\":5}", "ipam.type: must be a string");
    member_error("\"ipam\":{\"type\":\"/bin/sh\"}",
                 "ipam.type: must be a plugin name, not a path");
    member_error("\"ipam\":{\"type\":\"../host-local\"}",
                 "ipam.type: must be a plugin name, not a path");
    member_error("\"ipam\":{\"type\":\"..\"}",
                 "ipam.type: must be a plugin name, not a path");
    member_error("\"ipam\":{\"type\":\"\"}",
                 "ipam.type: must be a plugin name, not a path");
}

static void
test_datapath_type(void **state)
{
    struct netconf nc;
    member_ok("\"datapath_type\":\"system\"", &nc);
    assert_false(nc.netdev);
    netconf_destroy(&nc);

    member_ok("\"datapath_type\":\"netdev\"", &nc);
    assert_true(nc.netdev);
    netconf_destroy(&nc);

    member_error("\"datapath_type\":\"dpdk\"",
                 "datapath_type: must be \"system\" or \"netdev\"");
    member_error("\"datapath_type\":\"\"",
                 "datapath_type: must be \"system\" or \"netdev\"");
    member_error("\"datapath_type\":1",
                 "datapath_type: must be a string");
}

static void
test_install_timeout(void **state)
{
    struct netconf nc;
    member_ok("\"install_timeout\":3600", &nc);
    assert_int_equal(nc.install_timeout, 3600);
    netconf_destroy(&nc);

    member_ok("\"install_timeout\":0", &nc);
    assert_int_equal(nc.install_timeout, 0);
    netconf_destroy(&nc);

    member_error("\"install_timeout\":3601",
                 "install_timeout: must be 0..3600");
    member_error("\"install_timeout\":-5",
                 "install_timeout: must be 0..3600");
    member_error("\"install_timeout\":\"10s\"",
                 "install_timeout: must be an integer");
}

/* Errors inside Garden's parts carry their full path. */
static void
test_garden_errors(void **state)
{
    member_error("\"metadata\":\"app\"", "metadata: must be an object");
    member_error("\"metadata\":{\"container_workload\":\"web\"}",
                 "metadata.container_workload: must be app, task or "
                 "staging");
    member_error("\"metadata\":{\"app_id\":1}",
                 "metadata.app_id: must be a string");
    member_error("\"runtimeConfig\":[]", "runtimeConfig: must be an object");
    member_error("\"runtimeConfig\":{\"portMappings\":[{\"host_port\":61000,"
                 "\"container_port\":8080},{\"host_port\":70000,"
                 "\"container_port\":8080}]}",
                 "runtimeConfig.portMappings[1].host_port: "
                 "must be 1..65535");
    member_error("\"runtimeConfig\":{\"netOutRules\":[{\"protocol\":3,"
                 "\"networks\":[{\"start\":\"1.1.1.1\","
                 "\"end\":\"1.1.1.1\"}],\"icmps\":null}]}",
                 "runtimeConfig.netOutRules[0].icmps: required for icmp");
    member_error("\"prevResult\":\"x\"", "prevResult: must be an object");

    /* Garden's parts are checked after our own members. */
    member_error("\"metadata\":7,\"mtu\":\"x\"", "mtu: must be an integer");
}

static void
test_peek_version(void **state)
{
    static const char *const cases[][2] = {
        { "{\"cniVersion\":\"1.0.0\"}", "1.0.0" },
        { "{\"cniVersion\":\"0.2.0\",\"x\":[]}", "0.2.0" },
        { "{}", NULL },
        { "{\"cniVersion\":1}", NULL },
        { "[\"cniVersion\"]", NULL },
        { "not json", NULL },
        { "", NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *text = cases[i][0];
        char *version = netconf_peek_version(text, strlen(text));
        if (cases[i][1]) {
            assert_non_null(version);
            assert_string_equal(version, cases[i][1]);
        } else {
            assert_null(version);
        }
        free(version);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_cni_version),
        cmocka_unit_test(test_version_strings),
        cmocka_unit_test(test_name_type),
        cmocka_unit_test(test_bridge),
        cmocka_unit_test(test_ovsdb),
        cmocka_unit_test(test_mtu),
        cmocka_unit_test(test_dns_servers),
        cmocka_unit_test(test_ipam),
        cmocka_unit_test(test_datapath_type),
        cmocka_unit_test(test_install_timeout),
        cmocka_unit_test(test_garden_errors),
        cmocka_unit_test(test_peek_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
