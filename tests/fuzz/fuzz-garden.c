/*
 * fuzz-garden: Garden's input to the CNI plugin, the "metadata" and
 * "runtimeConfig" (portMappings, netOutRules) members of the network
 * config, through cf_metadata_parse() and cf_runtime_parse() (lib/
 * cf-record.h).  The input is one JSON object with those two members, as
 * Garden puts them into the config.
 *
 * Promises checked:
 *   - a refusal names the member: its message starts with "metadata" or
 *     "runtimeConfig";
 *   - what is accepted is valid (ports 1..65535, every rule with a
 *     network, ranges in order, ports only for tcp and udp, ICMP only for
 *     icmp), and its canonical encoding (what cni-ovs stores in OVSDB and
 *     flowctl reads back) parses again, through the parsers flowctl uses,
 *     to the same encoding.
 */

#include <config.h>

#include <string.h>

#include "cf-record.h"
#include "fuzz.h"

static void
check_rules(const struct cf_runtime *rt)
{
    for (size_t i = 0; i < rt->n_port_mappings; i++) {
        FUZZ_CHECK(rt->port_mappings[i].host_port >= 1);
        FUZZ_CHECK(rt->port_mappings[i].container_port >= 1);
    }
    FUZZ_CHECK(rt->n_netout_rules <= CF_NETOUT_RULES_MAX);
    for (size_t i = 0; i < rt->n_netout_rules; i++) {
        fuzz_check_netout_rule(&rt->netout_rules[i], 0);
    }
}

/* Parses the canonical encodings of 'rt' as flowctl does
 * (cf-port-mappings and cf-netout-rules) and checks that they encode to
 * the same text again. */
static void
check_round_trip(const struct cf_runtime *rt)
{
    char *pm = cf_port_mappings_to_json(rt);
    char *rules = cf_netout_rules_to_json(rt);
    json_t *pm_json = json_loads(pm, 0, NULL);
    json_t *rules_json = json_loads(rules, 0, NULL);
    FUZZ_CHECK(pm_json && rules_json);

    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_runtime again;
    memset(&again, 0, sizeof again);
    cf_port_mappings_parse(&jp, pm_json, "cf-port-mappings", &again);
    cf_netout_rules_parse(&jp, rules_json, "cf-netout-rules", &again);
    char *error = jparse_finish(&jp);
    if (error) {
        fprintf(stderr, "canonical encoding refused: %s\n%s\n%s\n", error,
                pm, rules);
    }
    FUZZ_CHECK(error == NULL);

    char *pm2 = cf_port_mappings_to_json(&again);
    char *rules2 = cf_netout_rules_to_json(&again);
    FUZZ_CHECK(!strcmp(pm, pm2));
    FUZZ_CHECK(!strcmp(rules, rules2));

    free(pm2);
    free(rules2);
    cf_runtime_destroy(&again);
    json_decref(pm_json);
    json_decref(rules_json);
    free(pm);
    free(rules);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *) data, size, 0, NULL);
    if (!doc) {
        return 0;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }

    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_metadata md;
    struct cf_runtime rt;
    memset(&md, 0, sizeof md);
    memset(&rt, 0, sizeof rt);
    cf_metadata_parse(&jp, json_object_get(doc, "metadata"), "metadata",
                      &md);
    cf_runtime_parse(&jp, json_object_get(doc, "runtimeConfig"),
                     "runtimeConfig", &rt);
    char *error = jparse_finish(&jp);
    if (error) {
        FUZZ_CHECK(!strncmp(error, "metadata", 8)
                   || !strncmp(error, "runtimeConfig", 13));
        free(error);
    } else {
        check_rules(&rt);
        check_round_trip(&rt);
    }
    cf_metadata_destroy(&md);
    cf_runtime_destroy(&rt);
    json_decref(doc);
    return 0;
}
