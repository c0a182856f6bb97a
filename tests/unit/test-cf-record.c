/*
 * Unit tests for lib/cf-record.c: Garden metadata, port mappings and
 * NetOutRules (every field, Garden's omitted zero values, error paths) and
 * the round trip through the canonical encodings. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cf-record.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

#define IP(A, B, C, D) \
    (((uint32_t) (A) << 24) | ((B) << 16) | ((C) << 8) | (D))

static json_t *
parse(const char *text)
{
    json_error_t error;
    json_t *json = json_loads(text, 0, &error);
    if (!json) {
        fail_msg("bad test JSON: %s: %s", text, error.text);
    }
    return json;
}

/* Asserts that 'jp' holds no error. */
static void
expect_ok(struct jparse *jp)
{
    char *error = jparse_finish(jp);
    if (error) {
        fail_msg("unexpected error: %s", error);
    }
}

/* Asserts that 'jp' holds exactly error 'expected' and resets it. */
static void
expect_error(struct jparse *jp, const char *expected)
{
    char *error = jparse_finish(jp);
    assert_non_null(error);
    assert_string_equal(error, expected);
    free(error);
}

/* Parses runtimeConfig 'text' into 'rt' and asserts success. */
static void
runtime_ok(const char *text, struct cf_runtime *rt)
{
    struct jparse jp = JPARSE_INITIALIZER;
    json_t *json = parse(text);
    memset(rt, 0, sizeof *rt);
    cf_runtime_parse(&jp, json, "runtimeConfig", rt);
    expect_ok(&jp);
    json_decref(json);
}

/* Asserts that runtimeConfig 'text' fails with 'expected'. */
static void
runtime_error(const char *text, const char *expected)
{
    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_runtime rt;
    json_t *json = parse(text);
    memset(&rt, 0, sizeof rt);
    cf_runtime_parse(&jp, json, "runtimeConfig", &rt);
    expect_error(&jp, expected);
    cf_runtime_destroy(&rt);
    json_decref(json);
}

/* Asserts that the single NetOutRule 'rule' (JSON object text) fails with
 * 'expected' when parsed as runtimeConfig.netOutRules[0]. */
static void
rule_error(const char *rule, const char *expected)
{
    char *text = xasprintf("{\"netOutRules\":[%s]}", rule);
    runtime_error(text, expected);
    free(text);
}

/* Parses the single NetOutRule 'rule' into 'rt' and asserts success. */
static const struct cf_netout_rule *
rule_ok(const char *rule, struct cf_runtime *rt)
{
    char *text = xasprintf("{\"netOutRules\":[%s]}", rule);
    runtime_ok(text, rt);
    free(text);
    assert_int_equal(rt->n_netout_rules, 1);
    return &rt->netout_rules[0];
}

/* Metadata. */

static void
test_metadata_full(void **state)
{
    json_t *json = parse(
        "{\"policy_group_id\":\"pg\",\"app_id\":\"app-guid\","
        "\"space_id\":\"space-guid\",\"org_id\":\"org-guid\","
        "\"ports\":\"8080,2222\",\"container_workload\":\"task\","
        "\"log_config\":\"{\\\"guid\\\":\\\"g\\\",\\\"index\\\":0}\","
        "\"unknown\":{\"tolerated\":true}}");
    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_metadata md;
    memset(&md, 0, sizeof md);

    cf_metadata_parse(&jp, json, "metadata", &md);
    expect_ok(&jp);
    assert_string_equal(md.policy_group_id, "pg");
    assert_string_equal(md.app_id, "app-guid");
    assert_string_equal(md.space_id, "space-guid");
    assert_string_equal(md.org_id, "org-guid");
    assert_string_equal(md.ports, "8080,2222");
    assert_string_equal(md.container_workload, "task");
    assert_string_equal(md.log_config, "{\"guid\":\"g\",\"index\":0}");
    json_decref(json);

    /* Copies, not borrowed: still valid after the document is gone. */
    assert_string_equal(md.app_id, "app-guid");
    cf_metadata_destroy(&md);
    assert_null(md.app_id);
    cf_metadata_destroy(NULL);
}

static void
test_metadata_absent(void **state)
{
    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_metadata md;
    memset(&md, 0, sizeof md);

    cf_metadata_parse(&jp, NULL, "metadata", &md);
    expect_ok(&jp);
    assert_null(md.app_id);
    assert_null(md.log_config);

    json_t *json = parse("{\"app_id\":null}");
    cf_metadata_parse(&jp, json, "metadata", &md);
    expect_ok(&jp);
    assert_null(md.app_id);
    json_decref(json);

    json = parse("[]");
    cf_metadata_parse(&jp, json, "metadata", &md);
    expect_error(&jp, "metadata: must be an object");
    json_decref(json);
    cf_metadata_destroy(&md);
}

static void
test_metadata_wrong_types(void **state)
{
    static const char *const members[] = {
        "policy_group_id", "app_id", "space_id", "org_id", "ports",
        "container_workload",
    };
    for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
        char *text = xasprintf("{\"%s\":8080}", members[i]);
        char *expected = xasprintf("metadata.%s: must be a string",
                                   members[i]);
        json_t *json = parse(text);
        struct jparse jp = JPARSE_INITIALIZER;
        struct cf_metadata md;
        memset(&md, 0, sizeof md);

        cf_metadata_parse(&jp, json, "metadata", &md);
        expect_error(&jp, expected);
        cf_metadata_destroy(&md);
        json_decref(json);
        free(expected);
        free(text);
    }
}

static void
test_metadata_workload(void **state)
{
    static const char *const good[] = { "app", "task", "staging" };
    static const char *const bad[] = { "App", "web", "" };
    struct jparse jp = JPARSE_INITIALIZER;

    for (size_t i = 0; i < ARRAY_SIZE(good) + ARRAY_SIZE(bad); i++) {
        bool ok = i < ARRAY_SIZE(good);
        const char *w = ok ? good[i] : bad[i - ARRAY_SIZE(good)];
        json_t *json = json_pack("{s:s}", "container_workload", w);
        struct cf_metadata md;
        memset(&md, 0, sizeof md);

        cf_metadata_parse(&jp, json, "metadata", &md);
        if (ok) {
            expect_ok(&jp);
            assert_string_equal(md.container_workload, w);
        } else {
            expect_error(&jp, "metadata.container_workload: "
                         "must be app, task or staging");
        }
        cf_metadata_destroy(&md);
        json_decref(json);
    }
}

static void
test_metadata_log_config(void **state)
{
    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_metadata md;
    memset(&md, 0, sizeof md);

    /* An object is re-encoded compactly. */
    json_t *json = parse("{\"log_config\": {\"guid\": \"g\", \"index\": 3,"
                         " \"tags\": {}}}");
    cf_metadata_parse(&jp, json, "metadata", &md);
    expect_ok(&jp);
    assert_string_equal(md.log_config,
                        "{\"guid\":\"g\",\"index\":3,\"tags\":{}}");
    cf_metadata_destroy(&md);
    json_decref(json);

    /* A string is kept verbatim, spaces and all. */
    json = parse("{\"log_config\":\"{ \\\"guid\\\": \\\"g\\\" }\"}");
    cf_metadata_parse(&jp, json, "metadata", &md);
    expect_ok(&jp);
    assert_string_equal(md.log_config, "{ \"guid\": \"g\" }");
    cf_metadata_destroy(&md);
    json_decref(json);

    json = parse("{\"log_config\":[1]}");
    cf_metadata_parse(&jp, json, "metadata", &md);
    expect_error(&jp, "metadata.log_config: must be a string or an object");
    cf_metadata_destroy(&md);
    json_decref(json);
}

/* Runtime config: port mappings. */

static void
test_runtime_full(void **state)
{
    struct cf_runtime rt;
    runtime_ok("{\"portMappings\":[{\"host_port\":61000,"
               "\"container_port\":8080},{\"host_port\":61001,"
               "\"container_port\":2222}],"
               "\"netOutRules\":[{\"protocol\":1,\"networks\":"
               "[{\"start\":\"8.8.8.8\",\"end\":\"9.9.9.9\"}],"
               "\"ports\":[{\"start\":53,\"end\":54}],\"log\":true}],"
               "\"unknownRuntimeThing\":[1,2,3]}", &rt);

    assert_int_equal(rt.n_port_mappings, 2);
    assert_int_equal(rt.port_mappings[0].host_port, 61000);
    assert_int_equal(rt.port_mappings[0].container_port, 8080);
    assert_int_equal(rt.port_mappings[1].host_port, 61001);
    assert_int_equal(rt.port_mappings[1].container_port, 2222);

    assert_int_equal(rt.n_netout_rules, 1);
    const struct cf_netout_rule *r = &rt.netout_rules[0];
    assert_int_equal(r->protocol, CF_PROTO_TCP);
    assert_int_equal(r->n_networks, 1);
    assert_int_equal(r->networks[0].start, IP(8, 8, 8, 8));
    assert_int_equal(r->networks[0].end, IP(9, 9, 9, 9));
    assert_int_equal(r->n_ports, 1);
    assert_int_equal(r->ports[0].start, 53);
    assert_int_equal(r->ports[0].end, 54);
    assert_false(r->has_icmp);
    assert_true(r->log);
    cf_runtime_destroy(&rt);
    assert_int_equal(rt.n_netout_rules, 0);
    cf_runtime_destroy(NULL);
}

static void
test_runtime_absent(void **state)
{
    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_runtime rt;
    memset(&rt, 0, sizeof rt);
    cf_runtime_parse(&jp, NULL, "runtimeConfig", &rt);
    expect_ok(&jp);
    assert_int_equal(rt.n_port_mappings, 0);
    assert_int_equal(rt.n_netout_rules, 0);

    runtime_ok("{}", &rt);
    assert_int_equal(rt.n_port_mappings + rt.n_netout_rules, 0);
    cf_runtime_destroy(&rt);

    runtime_ok("{\"portMappings\":null,\"netOutRules\":[]}", &rt);
    assert_int_equal(rt.n_port_mappings + rt.n_netout_rules, 0);
    cf_runtime_destroy(&rt);

    runtime_error("[]", "runtimeConfig: must be an object");
    runtime_error("{\"portMappings\":{}}",
                  "runtimeConfig.portMappings: must be an array");
    runtime_error("{\"netOutRules\":\"x\"}",
                  "runtimeConfig.netOutRules: must be an array");
}

static void
test_port_mappings_invalid(void **state)
{
    runtime_error("{\"portMappings\":[5]}",
                  "runtimeConfig.portMappings[0]: must be an object");
    runtime_error("{\"portMappings\":[{\"host_port\":61000,"
                  "\"container_port\":8080},{\"host_port\":0,"
                  "\"container_port\":8080}]}",
                  "runtimeConfig.portMappings[1].host_port: "
                  "must be 1..65535");
    runtime_error("{\"portMappings\":[{\"host_port\":65536,"
                  "\"container_port\":8080}]}",
                  "runtimeConfig.portMappings[0].host_port: "
                  "must be 1..65535");
    runtime_error("{\"portMappings\":[{\"host_port\":\"61000\","
                  "\"container_port\":8080}]}",
                  "runtimeConfig.portMappings[0].host_port: "
                  "must be an integer");
    runtime_error("{\"portMappings\":[{\"container_port\":8080}]}",
                  "runtimeConfig.portMappings[0].host_port: required");
    runtime_error("{\"portMappings\":[{\"host_port\":61000}]}",
                  "runtimeConfig.portMappings[0].container_port: "
                  "required");
    runtime_error("{\"portMappings\":[{\"host_port\":61000,"
                  "\"container_port\":-1}]}",
                  "runtimeConfig.portMappings[0].container_port: "
                  "must be 1..65535");

    /* Extremes are valid; unknown members are ignored. */
    struct cf_runtime rt;
    runtime_ok("{\"portMappings\":[{\"host_port\":1,\"container_port\":"
               "65535,\"protocol\":\"tcp\"}]}", &rt);
    assert_int_equal(rt.port_mappings[0].host_port, 1);
    assert_int_equal(rt.port_mappings[0].container_port, 65535);
    cf_runtime_destroy(&rt);
}

/* Runtime config: NetOutRules. */

#define NETS "\"networks\":[{\"start\":\"10.0.0.0\",\"end\":\"10.0.0.255\"}]"

static void
test_netout_protocol(void **state)
{
    struct cf_runtime rt;

    /* Garden omits protocol 0 (all), and sends null for unused members. */
    const struct cf_netout_rule *r = rule_ok(
        "{" NETS ",\"ports\":null,\"icmps\":null}", &rt);
    assert_int_equal(r->protocol, CF_PROTO_ALL);
    assert_int_equal(r->n_ports, 0);
    assert_false(r->has_icmp);
    assert_false(r->log);
    cf_runtime_destroy(&rt);

    r = rule_ok("{\"protocol\":2," NETS ",\"ports\":[{\"start\":53,"
                "\"end\":53}]}", &rt);
    assert_int_equal(r->protocol, CF_PROTO_UDP);
    cf_runtime_destroy(&rt);

    rule_error("{\"protocol\":4," NETS "}",
               "runtimeConfig.netOutRules[0].protocol: must be 0..3");
    rule_error("{\"protocol\":\"tcp\"," NETS "}",
               "runtimeConfig.netOutRules[0].protocol: must be an integer");
    runtime_error("{\"netOutRules\":[{" NETS "},7]}",
                  "runtimeConfig.netOutRules[1]: must be an object");
}

static void
test_netout_networks(void **state)
{
    struct cf_runtime rt;
    const struct cf_netout_rule *r = rule_ok(
        "{\"networks\":[{\"start\":\"0.0.0.0\",\"end\":\"255.255.255.255\"},"
        "{\"start\":\"10.1.2.3\",\"end\":\"10.1.2.3\",\"x\":1}]}", &rt);
    assert_int_equal(r->n_networks, 2);
    assert_int_equal(r->networks[0].start, 0);
    assert_int_equal(r->networks[0].end, UINT32_MAX);
    assert_int_equal(r->networks[1].start, IP(10, 1, 2, 3));
    assert_int_equal(r->networks[1].end, IP(10, 1, 2, 3));
    cf_runtime_destroy(&rt);

    rule_error("{}", "runtimeConfig.netOutRules[0].networks: required");
    rule_error("{\"networks\":null}",
               "runtimeConfig.netOutRules[0].networks: required");
    rule_error("{\"networks\":[]}",
               "runtimeConfig.netOutRules[0].networks: must not be empty");
    rule_error("{\"networks\":{}}",
               "runtimeConfig.netOutRules[0].networks: must be an array");
    rule_error("{\"networks\":[\"10.0.0.0/8\"]}",
               "runtimeConfig.netOutRules[0].networks[0]: "
               "must be an object");
    rule_error("{\"networks\":[{\"end\":\"1.2.3.4\"}]}",
               "runtimeConfig.netOutRules[0].networks[0].start: required");
    rule_error("{\"networks\":[{\"start\":\"1.2.3.4\"}]}",
               "runtimeConfig.netOutRules[0].networks[0].end: required");
    rule_error("{\"networks\":[{\"start\":\"1.2.3.4\",\"end\":\"1.2.3.4\"},"
               "{\"start\":\"8.8.8.8\",\"end\":\"9.9.9\"}]}",
               "runtimeConfig.netOutRules[0].networks[1].end: "
               "not an IPv4 address");
    rule_error("{\"networks\":[{\"start\":\"::1\",\"end\":\"1.2.3.4\"}]}",
               "runtimeConfig.netOutRules[0].networks[0].start: "
               "not an IPv4 address");
    rule_error("{\"networks\":[{\"start\":1,\"end\":\"1.2.3.4\"}]}",
               "runtimeConfig.netOutRules[0].networks[0].start: "
               "must be a string");
    rule_error("{\"networks\":[{\"start\":\"9.9.9.9\",\"end\":\"8.8.8.8\"}]}",
               "runtimeConfig.netOutRules[0].networks[0]: "
               "start must not be greater than end");
}

static void
test_netout_ports(void **state)
{
    struct cf_runtime rt;

    /* Garden omits a start of 0. */
    const struct cf_netout_rule *r = rule_ok(
        "{\"protocol\":1," NETS ",\"ports\":[{\"end\":65535},"
        "{\"start\":80,\"end\":80}]}", &rt);
    assert_int_equal(r->n_ports, 2);
    assert_int_equal(r->ports[0].start, 0);
    assert_int_equal(r->ports[0].end, 65535);
    assert_int_equal(r->ports[1].start, 80);
    assert_int_equal(r->ports[1].end, 80);
    cf_runtime_destroy(&rt);

    /* An empty list is no ports for protocols that take none. */
    r = rule_ok("{\"protocol\":0," NETS ",\"ports\":[]}", &rt);
    assert_int_equal(r->n_ports, 0);
    cf_runtime_destroy(&rt);

    rule_error("{\"protocol\":1," NETS "}",
               "runtimeConfig.netOutRules[0].ports: "
               "required for tcp and udp");
    rule_error("{\"protocol\":2," NETS ",\"ports\":null}",
               "runtimeConfig.netOutRules[0].ports: "
               "required for tcp and udp");
    rule_error("{\"protocol\":1," NETS ",\"ports\":[]}",
               "runtimeConfig.netOutRules[0].ports: "
               "required for tcp and udp");
    rule_error("{" NETS ",\"ports\":[{\"start\":1,\"end\":2}]}",
               "runtimeConfig.netOutRules[0].ports: "
               "only allowed for tcp and udp");
    rule_error("{\"protocol\":3," NETS ",\"ports\":[{\"start\":1,"
               "\"end\":2}],\"icmps\":{\"type\":8}}",
               "runtimeConfig.netOutRules[0].ports: "
               "only allowed for tcp and udp");
    rule_error("{\"protocol\":1," NETS ",\"ports\":{\"start\":1}}",
               "runtimeConfig.netOutRules[0].ports: must be an array");
    rule_error("{\"protocol\":1," NETS ",\"ports\":[{\"start\":1,"
               "\"end\":2},{\"start\":1,\"end\":65536}]}",
               "runtimeConfig.netOutRules[0].ports[1].end: "
               "must be 0..65535");
    rule_error("{\"protocol\":1," NETS ",\"ports\":[{\"start\":\"80\","
               "\"end\":80}]}",
               "runtimeConfig.netOutRules[0].ports[0].start: "
               "must be an integer");
    rule_error("{\"protocol\":1," NETS ",\"ports\":[{\"start\":90,"
               "\"end\":80}]}",
               "runtimeConfig.netOutRules[0].ports[0]: "
               "start must not be greater than end");
    rule_error("{\"protocol\":1," NETS ",\"ports\":[[80,80]]}",
               "runtimeConfig.netOutRules[0].ports[0]: must be an object");
}

static void
test_netout_icmps(void **state)
{
    struct cf_runtime rt;

    const struct cf_netout_rule *r = rule_ok(
        "{\"protocol\":3," NETS ",\"icmps\":{\"type\":8,\"code\":0}}", &rt);
    assert_true(r->has_icmp);
    assert_int_equal(r->icmp_type, 8);
    assert_int_equal(r->icmp_code, 0);
    cf_runtime_destroy(&rt);

    /* Garden omits type 0 and a null code, which means any code. */
    r = rule_ok("{\"protocol\":3," NETS ",\"icmps\":{}}", &rt);
    assert_true(r->has_icmp);
    assert_int_equal(r->icmp_type, 0);
    assert_int_equal(r->icmp_code, CF_ICMP_ANY);
    cf_runtime_destroy(&rt);

    r = rule_ok("{\"protocol\":3," NETS ",\"icmps\":{\"type\":255,"
                "\"code\":255}}", &rt);
    assert_int_equal(r->icmp_type, CF_ICMP_ANY);
    assert_int_equal(r->icmp_code, CF_ICMP_ANY);
    cf_runtime_destroy(&rt);

    rule_error("{\"protocol\":3," NETS "}",
               "runtimeConfig.netOutRules[0].icmps: required for icmp");
    rule_error("{\"protocol\":3," NETS ",\"icmps\":null}",
               "runtimeConfig.netOutRules[0].icmps: required for icmp");
    rule_error("{\"protocol\":3," NETS ",\"icmps\":[]}",
               "runtimeConfig.netOutRules[0].icmps: must be an object");
    rule_error("{\"protocol\":3," NETS ",\"icmps\":{\"type\":256}}",
               "runtimeConfig.netOutRules[0].icmps.type: must be 0..255");
    rule_error("{\"protocol\":3," NETS ",\"icmps\":{\"type\":8,"
               "\"code\":-1}}",
               "runtimeConfig.netOutRules[0].icmps.code: must be 0..255");
    rule_error("{\"protocol\":3," NETS ",\"icmps\":{\"type\":\"echo\"}}",
               "runtimeConfig.netOutRules[0].icmps.type: "
               "must be an integer");
    rule_error("{\"protocol\":1," NETS ",\"ports\":[{\"start\":1,"
               "\"end\":1}],\"icmps\":{\"type\":8}}",
               "runtimeConfig.netOutRules[0].icmps: only allowed for icmp");
    rule_error("{" NETS ",\"icmps\":{}}",
               "runtimeConfig.netOutRules[0].icmps: only allowed for icmp");
}

static void
test_netout_log(void **state)
{
    struct cf_runtime rt;
    const struct cf_netout_rule *r = rule_ok("{" NETS ",\"log\":true}", &rt);
    assert_true(r->log);
    cf_runtime_destroy(&rt);

    r = rule_ok("{" NETS ",\"log\":false}", &rt);
    assert_false(r->log);
    cf_runtime_destroy(&rt);

    rule_error("{" NETS ",\"log\":1}",
               "runtimeConfig.netOutRules[0].log: must be a boolean");
}

/* The second rule's error names index 1, and later rules are not parsed. */
static void
test_netout_error_index(void **state)
{
    runtime_error("{\"netOutRules\":[{" NETS "},{" NETS ",\"log\":\"y\"},"
                  "{\"protocol\":9}]}",
                  "runtimeConfig.netOutRules[1].log: must be a boolean");
}

/* runtimeConfig with 'n' TCP rules (a distinct port each). */
static char *
n_rules(size_t n)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, "{\"netOutRules\":[");
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s{\"protocol\":1," NETS ",\"ports\":"
                      "[{\"start\":%zu,\"end\":%zu}]}", i ? "," : "",
                      i % 65535 + 1, i % 65535 + 1);
    }
    ds_put_cstr(&s, "]}");
    return ds_steal_cstr(&s);
}

/* At most CF_NETOUT_RULES_MAX rules: exactly that many parse (and the
 * canonical encoding parses back, as flowctl reads it); one more is
 * refused, naming the list, before any rule is parsed. */
static void
test_netout_rule_limit(void **state)
{
    struct cf_runtime rt;
    char *text = n_rules(CF_NETOUT_RULES_MAX);
    runtime_ok(text, &rt);
    assert_int_equal(rt.n_netout_rules, CF_NETOUT_RULES_MAX);
    free(text);

    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_runtime back;
    char *json = cf_netout_rules_to_json(&rt);
    json_t *array = parse(json);
    memset(&back, 0, sizeof back);
    cf_netout_rules_parse(&jp, array, "cf-netout-rules", &back);
    expect_ok(&jp);
    assert_int_equal(back.n_netout_rules, CF_NETOUT_RULES_MAX);
    json_decref(array);
    free(json);
    cf_runtime_destroy(&back);
    cf_runtime_destroy(&rt);

    text = n_rules(CF_NETOUT_RULES_MAX + 1);
    runtime_error(text, "runtimeConfig.netOutRules: 65536 rules, more "
                  "than the 65535 a container may have");
    free(text);
}

/* Canonical encodings. */

static void
assert_rules_equal(const struct cf_runtime *a, const struct cf_runtime *b)
{
    assert_int_equal(a->n_netout_rules, b->n_netout_rules);
    for (size_t i = 0; i < a->n_netout_rules; i++) {
        const struct cf_netout_rule *x = &a->netout_rules[i];
        const struct cf_netout_rule *y = &b->netout_rules[i];
        assert_int_equal(x->protocol, y->protocol);
        assert_int_equal(x->n_networks, y->n_networks);
        assert_memory_equal(x->networks, y->networks,
                            x->n_networks * sizeof *x->networks);
        assert_int_equal(x->n_ports, y->n_ports);
        if (x->n_ports) {
            assert_memory_equal(x->ports, y->ports,
                                x->n_ports * sizeof *x->ports);
        }
        assert_int_equal(x->has_icmp, y->has_icmp);
        assert_int_equal(x->icmp_type, y->icmp_type);
        assert_int_equal(x->icmp_code, y->icmp_code);
        assert_int_equal(x->log, y->log);
    }
}

static void
test_port_mappings_json(void **state)
{
    struct cf_runtime rt;
    memset(&rt, 0, sizeof rt);
    char *s = cf_port_mappings_to_json(&rt);
    assert_string_equal(s, "[]");
    free(s);

    runtime_ok("{\"portMappings\":[{\"container_port\":8080,"
               "\"host_port\":61000},{\"host_port\":1,"
               "\"container_port\":65535}]}", &rt);
    s = cf_port_mappings_to_json(&rt);
    assert_string_equal(s, "[{\"host_port\":61000,\"container_port\":8080},"
                        "{\"host_port\":1,\"container_port\":65535}]");

    /* Round trip. */
    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_runtime back;
    memset(&back, 0, sizeof back);
    json_t *json = parse(s);
    cf_port_mappings_parse(&jp, json, "cf-port-mappings", &back);
    expect_ok(&jp);
    assert_int_equal(back.n_port_mappings, rt.n_port_mappings);
    assert_memory_equal(back.port_mappings, rt.port_mappings,
                        rt.n_port_mappings * sizeof *rt.port_mappings);
    json_decref(json);
    free(s);
    cf_runtime_destroy(&back);
    cf_runtime_destroy(&rt);

    /* Errors name the caller's path. */
    memset(&back, 0, sizeof back);
    json = parse("[{\"host_port\":0,\"container_port\":1}]");
    cf_port_mappings_parse(&jp, json, "cf-port-mappings", &back);
    expect_error(&jp, "cf-port-mappings[0].host_port: must be 1..65535");
    cf_runtime_destroy(&back);
    json_decref(json);

    json = parse("{}");
    cf_port_mappings_parse(&jp, json, "cf-port-mappings", &back);
    expect_error(&jp, "cf-port-mappings: must be an array");
    json_decref(json);
}

static void
test_netout_rules_json(void **state)
{
    struct cf_runtime rt;
    memset(&rt, 0, sizeof rt);
    char *s = cf_netout_rules_to_json(&rt);
    assert_string_equal(s, "[]");
    free(s);

    /* Garden's sparse form comes out with every member spelled out. */
    runtime_ok("{\"netOutRules\":["
               "{\"networks\":[{\"start\":\"10.0.0.0\","
               "\"end\":\"10.255.255.255\"}]},"
               "{\"protocol\":1,\"networks\":[{\"start\":\"8.8.8.8\","
               "\"end\":\"9.9.9.9\"},{\"start\":\"1.1.1.1\","
               "\"end\":\"1.1.1.1\"}],\"ports\":[{\"start\":53,\"end\":54},"
               "{\"end\":10}],\"log\":true},"
               "{\"protocol\":2,\"networks\":[{\"start\":\"0.0.0.0\","
               "\"end\":\"255.255.255.255\"}],\"ports\":[{\"start\":123,"
               "\"end\":123}],\"icmps\":null},"
               "{\"protocol\":3,\"networks\":[{\"start\":\"192.168.0.1\","
               "\"end\":\"192.168.0.1\"}],\"icmps\":{\"type\":8}}"
               "]}", &rt);
    s = cf_netout_rules_to_json(&rt);
    assert_string_equal(
        s,
        "[{\"protocol\":0,\"networks\":[{\"start\":\"10.0.0.0\","
        "\"end\":\"10.255.255.255\"}],\"ports\":[],\"log\":false},"
        "{\"protocol\":1,\"networks\":[{\"start\":\"8.8.8.8\","
        "\"end\":\"9.9.9.9\"},{\"start\":\"1.1.1.1\",\"end\":\"1.1.1.1\"}],"
        "\"ports\":[{\"start\":53,\"end\":54},{\"start\":0,\"end\":10}],"
        "\"log\":true},"
        "{\"protocol\":2,\"networks\":[{\"start\":\"0.0.0.0\","
        "\"end\":\"255.255.255.255\"}],\"ports\":[{\"start\":123,"
        "\"end\":123}],\"log\":false},"
        "{\"protocol\":3,\"networks\":[{\"start\":\"192.168.0.1\","
        "\"end\":\"192.168.0.1\"}],\"ports\":[],"
        "\"icmps\":{\"type\":8,\"code\":255},\"log\":false}]");

    /* parse(to_json(x)) == x, and encoding again gives the same text. */
    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_runtime back;
    memset(&back, 0, sizeof back);
    json_t *json = parse(s);
    cf_netout_rules_parse(&jp, json, "cf-netout-rules", &back);
    expect_ok(&jp);
    assert_rules_equal(&rt, &back);
    char *again = cf_netout_rules_to_json(&back);
    assert_string_equal(again, s);

    free(again);
    json_decref(json);
    free(s);
    cf_runtime_destroy(&back);
    cf_runtime_destroy(&rt);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_full),
        cmocka_unit_test(test_metadata_absent),
        cmocka_unit_test(test_metadata_wrong_types),
        cmocka_unit_test(test_metadata_workload),
        cmocka_unit_test(test_metadata_log_config),
        cmocka_unit_test(test_runtime_full),
        cmocka_unit_test(test_runtime_absent),
        cmocka_unit_test(test_port_mappings_invalid),
        cmocka_unit_test(test_netout_protocol),
        cmocka_unit_test(test_netout_networks),
        cmocka_unit_test(test_netout_ports),
        cmocka_unit_test(test_netout_icmps),
        cmocka_unit_test(test_netout_log),
        cmocka_unit_test(test_netout_error_index),
        cmocka_unit_test(test_netout_rule_limit),
        cmocka_unit_test(test_port_mappings_json),
        cmocka_unit_test(test_netout_rules_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
