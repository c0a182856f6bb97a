/*
 * cf-record: the container record that cni-ovs writes and flowctl reads.
 *
 * A container on a cell is one OVS Interface row whose external_ids carry the
 * record (keys "cf-*", see docs/architecture.md).  This module owns the
 * in-memory form of the parts Garden hands us:
 *
 *   - 'metadata' (top level of the CNI config, injected by
 *     garden-external-networker): policy_group_id, app_id, space_id, org_id,
 *     ports, container_workload, log_config (a JSON *string*);
 *   - 'runtimeConfig.portMappings': [{"host_port":N,"container_port":M}];
 *   - 'runtimeConfig.netOutRules' in Garden's shape:
 *       {"protocol":0..3, "networks":[{"start":IP,"end":IP}],
 *        "ports":[{"start":P,"end":P}], "icmps":{"type":T,"code":C},
 *        "log":bool}
 *
 * and their canonical JSON encodings stored in external_ids
 * (cf-port-mappings, cf-netout-rules).  Parsing the canonical encoding gives
 * back an equal structure, so flowctl reads exactly what cni-ovs validated.
 *
 * Pure: no I/O.  Errors name the JSON field, e.g.
 * "runtimeConfig.netOutRules[0].networks[0].end: not an IPv4 address". */

#ifndef CFNET_CF_RECORD_H
#define CFNET_CF_RECORD_H 1

#include "cfjson.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf-types.h"
#include "compiler.h"
#include "jparse.h"

/* Parses 'metadata' (a JSON object, or NULL for "absent") into 'md', which
 * must be zero-initialized.  'path' names 'metadata' in errors ("metadata").
 * Values that are not strings are an error, except 'log_config', which may
 * also be an object (it is then re-encoded compactly); unknown members are
 * ignored.  'container_workload', when present, must be app, task or
 * staging. */
void cf_metadata_parse(struct jparse *, const json_t *metadata,
                       const char *path, struct cf_metadata *md);
void cf_metadata_destroy(struct cf_metadata *);

/* Parses Garden's runtimeConfig object (NULL for absent) into 'rt' (zeroed
 * by the caller): "portMappings" and "netOutRules"; unknown members are
 * ignored.  Validates every field:
 *   - host_port / container_port: integers 1..65535;
 *   - protocol: 0..3 (absent means 0, Garden omits it);
 *   - networks: required and non-empty; start/end dotted-quad IPv4,
 *     start <= end;
 *   - ports: only with tcp/udp; start <= end; tcp/udp without ports is an
 *     error ("ports: required for tcp and udp");
 *   - netOutRules: at most CF_NETOUT_RULES_MAX rules;
 *   - icmps: only with icmp; type and code 0..255; icmp without icmps is an
 *     error.
 * 'path' is "runtimeConfig". */
void cf_runtime_parse(struct jparse *, const json_t *runtime,
                      const char *path, struct cf_runtime *rt);
void cf_runtime_destroy(struct cf_runtime *);

/* The most NetOut rules one container may have.  flowctl names a rule in
 * 16 bits (conjunction ids are ruleset << 16 | rule, see flowctl's
 * pipeline.c), so a longer list would make two rules collide: a longer
 * list is refused when it is parsed, by cni-ovs ADD (naming
 * runtimeConfig.netOutRules) and by flowctl (cf-netout-rules). */
#define CF_NETOUT_RULES_MAX 65535

/* Parse just one of the two lists; 'array' is a JSON array (or NULL for
 * empty) and 'path' its path.  Used on the canonical external_ids values. */
void cf_port_mappings_parse(struct jparse *, const json_t *array,
                            const char *path, struct cf_runtime *rt);
void cf_netout_rules_parse(struct jparse *, const json_t *array,
                           const char *path, struct cf_runtime *rt);

/* Canonical compact JSON encodings (malloc'd strings, never NULL):
 *   port mappings: [{"host_port":61000,"container_port":8080}]
 *   netout rules: Garden's shape with every member written explicitly
 *                 ("protocol", "networks", "ports" ([] if none), "icmps"
 *                 (only for icmp), "log"). */
char *cf_port_mappings_to_json(const struct cf_runtime *);
char *cf_netout_rules_to_json(const struct cf_runtime *);

#endif /* cf-record.h */
