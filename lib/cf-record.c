/*
 * cf-record: Garden's container metadata, port mappings and NetOutRules,
 * parsed from the CNI config and from our canonical external_ids encodings.
 *
 * Garden encodes its structs with Go's "omitempty", so zero values are
 * absent from what it sends: "protocol" 0 (all), a port range "start" of 0,
 * an ICMP "type" of 0, "log" false, and a null ICMP "code" (meaning any
 * code).  The parsers below read an absent member as that zero value.  The
 * canonical encodings written by cf_*_to_json() spell out every member, so
 * parsing them gives back exactly what was encoded. */

#include "cf-record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4.h"
#include "util.h"

static char *dup_string(struct jparse *, const json_t *obj,
                        const char *path, const char *member);
static char *parse_log_config(struct jparse *, const json_t *metadata,
                              const char *path);

static void parse_port_mapping(struct jparse *, const json_t *,
                               const char *path, struct cf_port_mapping *);
static void parse_netout_rule(struct jparse *, const json_t *,
                              const char *path, struct cf_netout_rule *);
static void parse_networks(struct jparse *, const json_t *rule,
                           const char *path, struct cf_netout_rule *);
static void parse_ports(struct jparse *, const json_t *rule,
                        const char *path, struct cf_netout_rule *);
static void parse_icmps(struct jparse *, const json_t *rule,
                        const char *path, struct cf_netout_rule *);
static bool check_array(struct jparse *, const json_t *array,
                        const char *path);
static const json_t *array_object(struct jparse *, const json_t *array,
                                  size_t index, const char *path,
                                  char **elem_path);

static char *dump_and_free(json_t *);

static const char *const workloads[] = { "app", "task", "staging", NULL };

/* Parses Garden's 'metadata' object into 'md' (see cf-record.h).  On error,
 * 'md' may hold some members; cf_metadata_destroy() frees them. */
void
cf_metadata_parse(struct jparse *jp, const json_t *metadata,
                  const char *path, struct cf_metadata *md)
{
    if (!metadata || jparse_failed(jp)) {
        return;
    } else if (!json_is_object(metadata)) {
        jparse_error(jp, path, NULL, "must be an object");
        return;
    }

    md->policy_group_id = dup_string(jp, metadata, path, "policy_group_id");
    md->app_id = dup_string(jp, metadata, path, "app_id");
    md->space_id = dup_string(jp, metadata, path, "space_id");
    md->org_id = dup_string(jp, metadata, path, "org_id");
    md->ports = dup_string(jp, metadata, path, "ports");
    md->container_workload = dup_string(jp, metadata, path,
                                        "container_workload");
    if (md->container_workload) {
        const char *const *w;
        for (w = workloads; *w; w++) {
            if (!strcmp(md->container_workload, *w)) {
                break;
            }
        }
        if (!*w) {
            jparse_error(jp, path, "container_workload",
                         "must be app, task or staging");
        }
    }
    md->log_config = parse_log_config(jp, metadata, path);
}

/* Frees the strings in 'md' and zeroes it.  'md' may be NULL. */
void
cf_metadata_destroy(struct cf_metadata *md)
{
    if (md) {
        free(md->policy_group_id);
        free(md->app_id);
        free(md->space_id);
        free(md->org_id);
        free(md->ports);
        free(md->container_workload);
        free(md->log_config);
        memset(md, 0, sizeof *md);
    }
}

/* Parses Garden's 'runtime' object into 'rt' (see cf-record.h).  On error,
 * 'rt' may hold part of the lists; cf_runtime_destroy() frees them. */
void
cf_runtime_parse(struct jparse *jp, const json_t *runtime,
                 const char *path, struct cf_runtime *rt)
{
    if (!runtime || jparse_failed(jp)) {
        return;
    } else if (!json_is_object(runtime)) {
        jparse_error(jp, path, NULL, "must be an object");
        return;
    }

    char *sub = jparse_path_member(path, "portMappings");
    cf_port_mappings_parse(jp, jparse_array(jp, runtime, path,
                                            "portMappings", false),
                           sub, rt);
    free(sub);

    sub = jparse_path_member(path, "netOutRules");
    cf_netout_rules_parse(jp, jparse_array(jp, runtime, path,
                                           "netOutRules", false),
                          sub, rt);
    free(sub);
}

/* Frees both lists in 'rt' and zeroes it.  'rt' may be NULL. */
void
cf_runtime_destroy(struct cf_runtime *rt)
{
    if (rt) {
        free(rt->port_mappings);
        for (size_t i = 0; i < rt->n_netout_rules; i++) {
            free(rt->netout_rules[i].networks);
            free(rt->netout_rules[i].ports);
        }
        free(rt->netout_rules);
        memset(rt, 0, sizeof *rt);
    }
}

/* Parses the port mappings in 'array' (at 'path') into 'rt', whose list of
 * port mappings must be empty.  A NULL 'array' means no mappings. */
void
cf_port_mappings_parse(struct jparse *jp, const json_t *array,
                       const char *path, struct cf_runtime *rt)
{
    if (!check_array(jp, array, path)) {
        return;
    }

    size_t n = json_array_size(array);
    rt->port_mappings = xcalloc(n, sizeof *rt->port_mappings);
    for (size_t i = 0; i < n && !jparse_failed(jp); i++) {
        char *elem_path;
        const json_t *elem = array_object(jp, array, i, path, &elem_path);
        if (elem) {
            parse_port_mapping(jp, elem, elem_path,
                               &rt->port_mappings[rt->n_port_mappings++]);
        }
        free(elem_path);
    }
}

/* Parses the NetOutRules in 'array' (at 'path') into 'rt', whose list of
 * rules must be empty.  A NULL 'array' means no rules. */
void
cf_netout_rules_parse(struct jparse *jp, const json_t *array,
                      const char *path, struct cf_runtime *rt)
{
    if (!check_array(jp, array, path)) {
        return;
    }

    size_t n = json_array_size(array);
    if (n > CF_NETOUT_RULES_MAX) {
        jparse_error(jp, path, NULL, "%"PRIuSIZE" rules, more than the %d "
                     "a container may have", n, CF_NETOUT_RULES_MAX);
        return;
    }
    rt->netout_rules = xcalloc(n, sizeof *rt->netout_rules);
    for (size_t i = 0; i < n && !jparse_failed(jp); i++) {
        char *elem_path;
        const json_t *elem = array_object(jp, array, i, path, &elem_path);
        if (elem) {
            /* Count the rule first so that cf_runtime_destroy() frees
             * whatever parse_netout_rule() allocates, even on error. */
            parse_netout_rule(jp, elem, elem_path,
                              &rt->netout_rules[rt->n_netout_rules++]);
        }
        free(elem_path);
    }
}

/* Returns the canonical encoding of 'rt''s port mappings, e.g.
 * [{"host_port":61000,"container_port":8080}]. */
char *
cf_port_mappings_to_json(const struct cf_runtime *rt)
{
    json_t *array = jparse_new_array();
    for (size_t i = 0; i < rt->n_port_mappings; i++) {
        const struct cf_port_mapping *pm = &rt->port_mappings[i];
        json_array_append_new(array,
                              jparse_pack("{s:i, s:i}",
                                          "host_port", pm->host_port,
                                          "container_port",
                                          pm->container_port));
    }
    return dump_and_free(array);
}

/* Returns the canonical encoding of 'rt''s NetOutRules: every member
 * written explicitly, "icmps" only for ICMP rules. */
char *
cf_netout_rules_to_json(const struct cf_runtime *rt)
{
    json_t *array = jparse_new_array();
    for (size_t i = 0; i < rt->n_netout_rules; i++) {
        const struct cf_netout_rule *rule = &rt->netout_rules[i];

        json_t *networks = jparse_new_array();
        for (size_t j = 0; j < rule->n_networks; j++) {
            char start[IPV4_ADDR_LEN], end[IPV4_ADDR_LEN];
            ipv4_format(rule->networks[j].start, start);
            ipv4_format(rule->networks[j].end, end);
            json_array_append_new(networks,
                                  jparse_pack("{s:s, s:s}",
                                              "start", start, "end", end));
        }

        json_t *ports = jparse_new_array();
        for (size_t j = 0; j < rule->n_ports; j++) {
            json_array_append_new(ports,
                                  jparse_pack("{s:i, s:i}",
                                              "start", rule->ports[j].start,
                                              "end", rule->ports[j].end));
        }

        json_t *obj = jparse_pack("{s:i, s:o, s:o}",
                                  "protocol", (int) rule->protocol,
                                  "networks", networks,
                                  "ports", ports);
        if (rule->protocol == CF_PROTO_ICMP) {
            json_object_set_new(obj, "icmps",
                                jparse_pack("{s:i, s:i}",
                                            "type", rule->icmp_type,
                                            "code", rule->icmp_code));
        }
        json_object_set_new(obj, "log", json_boolean(rule->log));
        json_array_append_new(array, obj);
    }
    return dump_and_free(array);
}

/* Metadata. */

/* Returns a copy of string 'member' of 'obj', or NULL if absent. */
static char *
dup_string(struct jparse *jp, const json_t *obj, const char *path,
           const char *member)
{
    const char *s = jparse_string(jp, obj, path, member, false);
    return s ? xstrdup(s) : NULL;
}

/* Returns 'log_config' of 'metadata' as text: a string as is, an object
 * re-encoded compactly.  The text is kept, not validated: it is Garden's
 * and Diego's business, and flowctl only passes it on. */
static char *
parse_log_config(struct jparse *jp, const json_t *metadata, const char *path)
{
    json_t *value = jparse_value(jp, metadata, path, "log_config", false);
    if (!value) {
        return NULL;
    } else if (json_is_string(value)) {
        return xstrdup(json_string_value(value));
    } else if (json_is_object(value)) {
        return jparse_dump(value);
    } else {
        jparse_error(jp, path, "log_config", "must be a string or an object");
        return NULL;
    }
}

/* Port mappings and NetOutRules. */

static void
parse_port_mapping(struct jparse *jp, const json_t *obj, const char *path,
                   struct cf_port_mapping *pm)
{
    uint64_t host_port = 0, container_port = 0;
    jparse_uint(jp, obj, path, "host_port", true, 1, 65535, &host_port);
    jparse_uint(jp, obj, path, "container_port", true, 1, 65535,
                &container_port);
    pm->host_port = host_port;
    pm->container_port = container_port;
}

/* Parses the NetOutRule 'obj' at 'path' into zeroed 'rule'.  The protocol
 * decides which of "ports" and "icmps" must, and must not, be there. */
static void
parse_netout_rule(struct jparse *jp, const json_t *obj, const char *path,
                  struct cf_netout_rule *rule)
{
    uint64_t protocol = CF_PROTO_ALL;
    jparse_uint(jp, obj, path, "protocol", false, CF_PROTO_ALL,
                CF_PROTO_ICMP, &protocol);
    rule->protocol = protocol;

    parse_networks(jp, obj, path, rule);
    parse_ports(jp, obj, path, rule);
    parse_icmps(jp, obj, path, rule);
    jparse_bool(jp, obj, path, "log", false, &rule->log);
}

/* Parses the required, non-empty "networks" of NetOutRule 'rule_obj'. */
static void
parse_networks(struct jparse *jp, const json_t *rule_obj, const char *path,
               struct cf_netout_rule *rule)
{
    const json_t *array = jparse_array(jp, rule_obj, path, "networks", true);
    if (!array) {
        return;
    } else if (!json_array_size(array)) {
        jparse_error(jp, path, "networks", "must not be empty");
        return;
    }

    char *networks_path = jparse_path_member(path, "networks");
    size_t n = json_array_size(array);
    rule->networks = xcalloc(n, sizeof *rule->networks);
    for (size_t i = 0; i < n && !jparse_failed(jp); i++) {
        char *elem_path;
        const json_t *elem = array_object(jp, array, i, networks_path,
                                          &elem_path);
        const char *start = jparse_string(jp, elem, elem_path, "start", true);
        const char *end = jparse_string(jp, elem, elem_path, "end", true);
        struct cf_ip_range *range = &rule->networks[i];
        if (start && !ipv4_parse(start, &range->start)) {
            jparse_error(jp, elem_path, "start", "not an IPv4 address");
        }
        if (end && !ipv4_parse(end, &range->end)) {
            jparse_error(jp, elem_path, "end", "not an IPv4 address");
        }
        if (!jparse_failed(jp)) {
            if (range->start > range->end) {
                jparse_error(jp, elem_path, NULL,
                             "start must not be greater than end");
            }
            rule->n_networks++;
        }
        free(elem_path);
    }
    free(networks_path);
}

/* Parses "ports" of NetOutRule 'rule_obj': required and non-empty for TCP
 * and UDP, absent, null or empty otherwise. */
static void
parse_ports(struct jparse *jp, const json_t *rule_obj, const char *path,
            struct cf_netout_rule *rule)
{
    const json_t *array = jparse_array(jp, rule_obj, path, "ports", false);
    size_t n = array ? json_array_size(array) : 0;
    bool tcp_udp = (rule->protocol == CF_PROTO_TCP
                    || rule->protocol == CF_PROTO_UDP);
    if (jparse_failed(jp)) {
        return;
    } else if (tcp_udp && !n) {
        jparse_error(jp, path, "ports", "required for tcp and udp");
        return;
    } else if (!tcp_udp && n) {
        jparse_error(jp, path, "ports", "only allowed for tcp and udp");
        return;
    }

    char *ports_path = jparse_path_member(path, "ports");
    rule->ports = xcalloc(n, sizeof *rule->ports);
    for (size_t i = 0; i < n && !jparse_failed(jp); i++) {
        char *elem_path;
        const json_t *elem = array_object(jp, array, i, ports_path,
                                          &elem_path);

        /* Garden omits a start (or end) of 0. */
        uint64_t start = 0, end = 0;
        jparse_uint(jp, elem, elem_path, "start", false, 0, 65535, &start);
        jparse_uint(jp, elem, elem_path, "end", false, 0, 65535, &end);
        if (!jparse_failed(jp)) {
            if (start > end) {
                jparse_error(jp, elem_path, NULL,
                             "start must not be greater than end");
            }
            rule->ports[rule->n_ports].start = start;
            rule->ports[rule->n_ports].end = end;
            rule->n_ports++;
        }
        free(elem_path);
    }
    free(ports_path);
}

/* Parses "icmps" of NetOutRule 'rule_obj': required for ICMP, absent or
 * null otherwise.  An absent "type" is 0 and an absent "code" is any code,
 * as in Garden. */
static void
parse_icmps(struct jparse *jp, const json_t *rule_obj, const char *path,
            struct cf_netout_rule *rule)
{
    const json_t *icmps = jparse_object(jp, rule_obj, path, "icmps", false);
    if (jparse_failed(jp)) {
        return;
    } else if (rule->protocol != CF_PROTO_ICMP) {
        if (icmps) {
            jparse_error(jp, path, "icmps", "only allowed for icmp");
        }
        return;
    } else if (!icmps) {
        jparse_error(jp, path, "icmps", "required for icmp");
        return;
    }

    char *icmps_path = jparse_path_member(path, "icmps");
    uint64_t type = 0, code = CF_ICMP_ANY;
    jparse_uint(jp, icmps, icmps_path, "type", false, 0, 255, &type);
    jparse_uint(jp, icmps, icmps_path, "code", false, 0, 255, &code);
    rule->has_icmp = true;
    rule->icmp_type = type;
    rule->icmp_code = code;
    free(icmps_path);
}

/* Returns true if 'array' (at 'path') is a JSON array to parse, false if it
 * is NULL, not an array (recording an error) or an error is recorded. */
static bool
check_array(struct jparse *jp, const json_t *array, const char *path)
{
    if (!array || jparse_failed(jp)) {
        return false;
    } else if (!json_is_array(array)) {
        jparse_error(jp, path, NULL, "must be an array");
        return false;
    }
    return true;
}

/* Stores the path of element 'index' of 'array' (at 'path') in '*elem_path'
 * (the caller frees it) and returns the element, or NULL (recording an
 * error) if it is not an object. */
static const json_t *
array_object(struct jparse *jp, const json_t *array, size_t index,
             const char *path, char **elem_path)
{
    *elem_path = jparse_path_index(path, index);
    const json_t *elem = json_array_get(array, index);
    if (!json_is_object(elem)) {
        jparse_error(jp, *elem_path, NULL, "must be an object");
        return NULL;
    }
    return elem;
}

/* Returns the compact encoding of 'json' and releases the caller's
 * reference to it. */
static char *
dump_and_free(json_t *json)
{
    char *s = jparse_dump(json);
    json_decref(json);
    return s;
}
