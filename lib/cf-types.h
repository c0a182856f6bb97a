/*
 * cf-types: the container record's parts as plain C types (see
 * cf-record.h for what they mean and how they are parsed).
 *
 * Kept apart from cf-record.h so that code which must not see jansson
 * (anything that includes OVS's JSON or OVSDB headers: the two JSON
 * libraries' names clash, see ovs-json-rename.h) can still use the types. */

#ifndef CFNET_CF_TYPES_H
#define CFNET_CF_TYPES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Garden's NetOutRule protocol numbers. */
enum cf_proto {
    CF_PROTO_ALL = 0,
    CF_PROTO_TCP = 1,
    CF_PROTO_UDP = 2,
    CF_PROTO_ICMP = 3,
};

/* Inclusive IPv4 range, host byte order ('start' <= 'end'). */
struct cf_ip_range {
    uint32_t start;
    uint32_t end;
};

/* Inclusive port range, 'start' <= 'end', both 1..65535... but Garden also
 * sends 0 as a start in some ASGs, so 0..65535 is accepted. */
struct cf_port_range {
    uint16_t start;
    uint16_t end;
};

/* ICMP type/code; 255 means "any" (Cloud Controller's -1 cast to uint8). */
#define CF_ICMP_ANY 255

struct cf_netout_rule {
    enum cf_proto protocol;
    struct cf_ip_range *networks;       /* Never empty after parsing. */
    size_t n_networks;
    struct cf_port_range *ports;        /* TCP/UDP only; may be empty. */
    size_t n_ports;
    bool has_icmp;                      /* ICMP only. */
    uint8_t icmp_type;
    uint8_t icmp_code;
    bool log;
};

struct cf_port_mapping {
    uint16_t host_port;                 /* 1..65535. */
    uint16_t container_port;            /* 1..65535. */
};

/* Garden container metadata; every member may be NULL (absent).
 * All strings are malloc'd and owned by the struct. */
struct cf_metadata {
    char *policy_group_id;
    char *app_id;
    char *space_id;
    char *org_id;
    char *ports;                        /* "8080,2222" as Garden sends it. */
    char *container_workload;           /* "app", "task" or "staging". */
    char *log_config;                   /* A JSON document, kept as text. */
};

struct cf_runtime {
    struct cf_port_mapping *port_mappings;
    size_t n_port_mappings;
    struct cf_netout_rule *netout_rules;
    size_t n_netout_rules;
};

#endif /* cf-types.h */
