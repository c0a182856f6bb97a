/*
 * Unit tests of lib/cf-policy.c: the policy server's documents in CF's own
 * shapes, whole documents refused, single bad entries skipped with their
 * path, and security-group rules in the Garden shape.
 */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cf-policy.h"
#include "openvswitch/dynamic-string.h"
#include "svec.h"
#include "util.h"

static char *
parse_policies(const char *body, struct cf_policy_list *list,
               struct svec *skipped)
{
    memset(list, 0, sizeof *list);
    return cf_policies_parse(body, strlen(body), list, skipped);
}

static void
test_policies_cf_shape(void **state OVS_UNUSED)
{
    static const char body[] =
        "{\"total_policies\":2,\"policies\":["
        "{\"source\":{\"id\":\"4a2d\",\"tag\":\"0001\"},"
        "\"destination\":{\"id\":\"eb95\",\"tag\":\"00FF\","
        "\"protocol\":\"tcp\",\"ports\":{\"start\":8080,\"end\":8090}}},"
        "{\"source\":{\"id\":\"a\",\"tag\":\"aBcDeF01\"},"
        "\"destination\":{\"id\":\"b\",\"tag\":\"02\",\"protocol\":\"UDP\","
        "\"ports\":{\"start\":53,\"end\":53}}}]}";
    struct cf_policy_list list;
    struct svec skipped = SVEC_EMPTY_INITIALIZER;

    assert_null(parse_policies(body, &list, &skipped));
    assert_int_equal(list.n, 2);
    assert_int_equal(skipped.n, 0);
    assert_string_equal(list.policies[0].src_id, "4a2d");
    assert_int_equal(list.policies[0].src_tag, 1);
    assert_string_equal(list.policies[0].dst_id, "eb95");
    assert_int_equal(list.policies[0].dst_tag, 0xff);
    assert_int_equal(list.policies[0].protocol, CF_PROTO_TCP);
    assert_int_equal(list.policies[0].port_start, 8080);
    assert_int_equal(list.policies[0].port_end, 8090);
    assert_int_equal(list.policies[1].src_tag, 0xabcdef01);
    assert_int_equal(list.policies[1].dst_tag, 2);
    assert_int_equal(list.policies[1].protocol, CF_PROTO_UDP);
    cf_policy_list_destroy(&list);
    svec_destroy(&skipped);
}

static void
test_tags(void **state OVS_UNUSED)
{
    uint32_t tag;

    assert_true(cf_policy_tag_parse("01", &tag));
    assert_int_equal(tag, 1);
    assert_true(cf_policy_tag_parse("FFFFFF", &tag));
    assert_int_equal(tag, 0xffffff);
    assert_true(cf_policy_tag_parse("ffffffff", &tag));
    assert_int_equal(tag, 0xffffffff);
    assert_false(cf_policy_tag_parse("0000", &tag));
    assert_false(cf_policy_tag_parse("001", &tag));
    assert_false(cf_policy_tag_parse("0000000001", &tag));
    assert_false(cf_policy_tag_parse("00g1", &tag));
    assert_false(cf_policy_tag_parse("", &tag));
}

static void
test_policies_refused_whole(void **state OVS_UNUSED)
{
    static const char *const bad[] = {
        "{\"total_policies\":1,\"policies\":[{\"source\":{\"id\":\"a\",",
        "not json",
        "[]",
        "{\"total_policies\":0}",
        "{\"total_policies\":2,\"policies\":[]}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct cf_policy_list list;
        char *error = parse_policies(bad[i], &list, NULL);
        assert_non_null(error);
        assert_int_equal(list.n, 0);
        free(error);
        cf_policy_list_destroy(&list);
    }
}

static void
test_policies_bad_entry_skipped(void **state OVS_UNUSED)
{
    static const char body[] =
        "{\"policies\":["
        "{\"source\":{\"id\":\"a\",\"tag\":\"0001\"},"
        "\"destination\":{\"id\":\"b\",\"tag\":\"0002\","
        "\"protocol\":\"tcp\",\"ports\":{\"start\":80,\"end\":70000}}},"
        "{\"source\":{\"id\":\"a\",\"tag\":\"0000\"},"
        "\"destination\":{\"id\":\"b\",\"tag\":\"0002\","
        "\"protocol\":\"tcp\",\"ports\":{\"start\":80,\"end\":80}}},"
        "{\"source\":{\"id\":\"a\",\"tag\":\"0001\"},"
        "\"destination\":{\"id\":\"b\",\"tag\":\"0002\","
        "\"protocol\":\"icmp\",\"ports\":{\"start\":80,\"end\":80}}},"
        "{\"source\":{\"id\":\"c\",\"tag\":\"0003\"},"
        "\"destination\":{\"id\":\"b\",\"tag\":\"0002\","
        "\"protocol\":\"tcp\",\"ports\":{\"start\":90,\"end\":80}}},"
        "{\"source\":{\"id\":\"c\",\"tag\":\"0003\"},"
        "\"destination\":{\"id\":\"b\",\"tag\":\"0002\","
        "\"protocol\":\"tcp\",\"ports\":{\"start\":80,\"end\":80}}}]}";
    struct cf_policy_list list;
    struct svec skipped = SVEC_EMPTY_INITIALIZER;

    assert_null(parse_policies(body, &list, &skipped));
    assert_int_equal(list.n, 1);
    assert_string_equal(list.policies[0].src_id, "c");
    assert_int_equal(skipped.n, 4);
    assert_non_null(strstr(skipped.names[0],
                           "policies[0].destination.ports.end"));
    assert_non_null(strstr(skipped.names[1], "policies[1].source.tag"));
    assert_non_null(strstr(skipped.names[2],
                           "policies[2].destination.protocol"));
    assert_non_null(strstr(skipped.names[3],
                           "policies[3].destination.ports.end"));
    cf_policy_list_destroy(&list);
    svec_destroy(&skipped);
}

static void
test_last_updated(void **state OVS_UNUSED)
{
    uint64_t ns = 0;
    char *error;

    assert_null(cf_policies_last_updated_parse("1700000000123456789\n", 20,
                                               &ns));
    assert_true(ns == UINT64_C(1700000000123456789));
    assert_null(cf_policies_last_updated_parse(" 0 ", 3, &ns));
    assert_true(ns == 0);

    static const char *const bad[] = {
        "", "-1", "12a", "{\"error\":\"x\"}", "18446744073709551616",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ns = 42;
        error = cf_policies_last_updated_parse(bad[i], strlen(bad[i]), &ns);
        assert_non_null(error);
        assert_true(ns == 42);
        free(error);
    }
}

/* A security_groups page with one group whose rules are 'rules' (a JSON
 * array, string-encoded here). */
static char *
asg_page(const char *rules)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, "{\"next\":7,\"security_groups\":[{\"guid\":\"g1\","
                "\"name\":\"sg1\",\"rules\":\"");
    for (const char *p = rules; *p; p++) {
        if (*p == '"' || *p == '\\') {
            ds_put_char(&s, '\\');
        }
        ds_put_char(&s, *p);
    }
    ds_put_cstr(&s, "\",\"staging_default\":false,\"running_default\":true,"
                "\"staging_space_guids\":[\"s1\"],"
                "\"running_space_guids\":[]}]}");
    return ds_steal_cstr(&s);
}

static void
test_asg_rules(void **state OVS_UNUSED)
{
    char *body = asg_page(
        "[{\"protocol\":\"tcp\",\"destination\":\"10.0.11.0/24\","
        "\"ports\":\"80,443\",\"type\":0,\"code\":0,\"description\":\"\","
        "\"log\":true},"
        "{\"protocol\":\"udp\",\"destination\":\"10.0.0.1-10.0.0.9, "
        "192.168.0.1\",\"ports\":\"8000-8010\"},"
        "{\"protocol\":\"tcp\",\"destination\":\"10.0.0.300\","
        "\"ports\":\"80\"},"
        "{\"protocol\":\"tcp\",\"destination\":\"10.0.0.1\"},"
        "{\"protocol\":\"icmp\",\"destination\":\"0.0.0.0/0\","
        "\"type\":-1,\"code\":-1},"
        "{\"protocol\":\"all\",\"destination\":\"10.1.2.3/8\"},"
        "{\"protocol\":\"icmp\",\"destination\":\"10.0.0.1\","
        "\"ports\":\"80\"}]");
    struct cf_asg_page page;
    struct svec skipped = SVEC_EMPTY_INITIALIZER;

    memset(&page, 0, sizeof page);
    assert_null(cf_asg_page_parse(body, strlen(body), &page, &skipped));
    assert_int_equal(page.n, 1);
    assert_int_equal(page.next, 7);
    const struct cf_asg *g = &page.asgs[0];
    assert_string_equal(g->guid, "g1");
    assert_string_equal(g->name, "sg1");
    assert_true(g->running_default);
    assert_false(g->staging_default);
    assert_int_equal(g->n_rules, 4);
    assert_int_equal(skipped.n, 3);
    assert_non_null(strstr(skipped.names[0],
                           "security_groups[0].rules[2].destination"));
    assert_non_null(strstr(skipped.names[1],
                           "security_groups[0].rules[3].ports"));
    assert_non_null(strstr(skipped.names[2],
                           "security_groups[0].rules[6].ports"));

    const struct cf_netout_rule *r = &g->rules[0];
    assert_int_equal(g->rule_index[0], 0);
    assert_int_equal(r->protocol, CF_PROTO_TCP);
    assert_true(r->log);
    assert_int_equal(r->n_networks, 1);
    assert_int_equal(r->networks[0].start, 0x0a000b00);
    assert_int_equal(r->networks[0].end, 0x0a000bff);
    assert_int_equal(r->n_ports, 2);
    assert_int_equal(r->ports[1].start, 443);

    r = &g->rules[1];
    assert_int_equal(g->rule_index[1], 1);
    assert_int_equal(r->n_networks, 2);
    assert_int_equal(r->networks[0].end, 0x0a000009);
    assert_int_equal(r->networks[1].start, 0xc0a80001);
    assert_int_equal(r->ports[0].start, 8000);
    assert_int_equal(r->ports[0].end, 8010);

    r = &g->rules[2];
    assert_int_equal(g->rule_index[2], 4);
    assert_int_equal(r->protocol, CF_PROTO_ICMP);
    assert_int_equal(r->icmp_type, CF_ICMP_ANY);
    assert_int_equal(r->icmp_code, CF_ICMP_ANY);

    r = &g->rules[3];
    assert_int_equal(g->rule_index[3], 5);
    assert_int_equal(r->networks[0].start, 0x0a000000);
    assert_int_equal(r->networks[0].end, 0x0affffff);

    assert_true(cf_asg_applies(g, "any", false));
    assert_true(cf_asg_applies(g, NULL, false));
    assert_true(cf_asg_applies(g, "s1", true));
    assert_false(cf_asg_applies(g, "s2", true));

    struct cf_asg copy;
    cf_asg_clone(&copy, g);
    assert_int_equal(copy.n_rules, 4);
    assert_int_equal(copy.rules[1].networks[1].start, 0xc0a80001);
    assert_string_equal(copy.staging_spaces[0], "s1");
    cf_asg_destroy(&copy);

    cf_asg_page_destroy(&page);
    svec_destroy(&skipped);
    free(body);
}

static void
test_asg_refused_and_skipped(void **state OVS_UNUSED)
{
    static const char *const bad[] = {
        "{\"security_groups\":[]}",               /* No next. */
        "{\"next\":0,\"security_groups\":[{\"guid\":\"g\",\"rules\":\"[",
        "{\"next\":0}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct cf_asg_page page;
        memset(&page, 0, sizeof page);
        char *error = cf_asg_page_parse(bad[i], strlen(bad[i]), &page, NULL);
        assert_non_null(error);
        assert_int_equal(page.n, 0);
        free(error);
        cf_asg_page_destroy(&page);
    }

    static const char body[] =
        "{\"next\":0,\"security_groups\":["
        "{\"name\":\"no guid\",\"rules\":\"[]\"},"
        "{\"guid\":\"g2\",\"rules\":\"{}\"},"
        "{\"guid\":\"g3\",\"rules\":[]},"
        "{\"guid\":\"g4\",\"rules\":\"[]\",\"running_space_guids\":[1]},"
        "{\"guid\":\"g5\",\"rules\":\"[]\"}]}";
    struct cf_asg_page page;
    struct svec skipped = SVEC_EMPTY_INITIALIZER;
    memset(&page, 0, sizeof page);
    assert_null(cf_asg_page_parse(body, strlen(body), &page, &skipped));
    assert_int_equal(page.n, 1);
    assert_string_equal(page.asgs[0].guid, "g5");
    assert_string_equal(page.asgs[0].name, "");
    assert_int_equal(skipped.n, 4);
    assert_non_null(strstr(skipped.names[0], "security_groups[0].guid"));
    assert_non_null(strstr(skipped.names[1], "security_groups[1].rules"));
    assert_non_null(strstr(skipped.names[2], "security_groups[2].rules"));
    assert_non_null(strstr(skipped.names[3],
                           "security_groups[3].running_space_guids[0]"));
    cf_asg_page_destroy(&page);
    svec_destroy(&skipped);
}

/* 10,000 policies and a 1,000-rule group, as big foundations have. */
static void
test_scale(void **state OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, "{\"total_policies\":10000,\"policies\":[");
    for (int i = 0; i < 10000; i++) {
        ds_put_format(&s, "%s{\"source\":{\"id\":\"app-%d\",\"tag\":\"%04X\"},"
                      "\"destination\":{\"id\":\"app-%d\",\"tag\":\"%04X\","
                      "\"protocol\":\"tcp\",\"ports\":{\"start\":8080,"
                      "\"end\":8080}}}", i ? "," : "", i % 2000,
                      i % 2000 + 1, (i * 7) % 2000, (i * 7) % 2000 + 1);
    }
    ds_put_cstr(&s, "]}");
    struct cf_policy_list list;
    assert_null(parse_policies(ds_cstr(&s), &list, NULL));
    assert_int_equal(list.n, 10000);
    cf_policy_list_destroy(&list);

    ds_clear(&s);
    ds_put_cstr(&s, "[");
    for (int i = 0; i < 1000; i++) {
        ds_put_format(&s, "%s{\"protocol\":\"tcp\",\"destination\":"
                      "\"10.%d.%d.0/24\",\"ports\":\"443\"}", i ? "," : "",
                      i / 256, i % 256);
    }
    ds_put_cstr(&s, "]");
    char *body = asg_page(ds_cstr(&s));
    struct cf_asg_page page;
    memset(&page, 0, sizeof page);
    assert_null(cf_asg_page_parse(body, strlen(body), &page, NULL));
    assert_int_equal(page.n, 1);
    assert_int_equal(page.asgs[0].n_rules, 1000);
    assert_int_equal(page.asgs[0].rule_index[999], 999);
    cf_asg_page_destroy(&page);
    free(body);
    ds_destroy(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policies_cf_shape),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_policies_refused_whole),
        cmocka_unit_test(test_policies_bad_entry_skipped),
        cmocka_unit_test(test_last_updated),
        cmocka_unit_test(test_asg_rules),
        cmocka_unit_test(test_asg_refused_and_skipped),
        cmocka_unit_test(test_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
