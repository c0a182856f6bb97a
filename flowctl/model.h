/*
 * model: everything flowctl's pipeline needs to know about one cell, as
 * plain data.  Built by the OVSDB adapter (localdb.c) from the Interface rows
 * that cni-ovs wrote and from flowctl's configuration; consumed by the pure
 * pipeline (pipeline.c), which turns it into the desired flow table.
 *
 * Nothing here does I/O; tests build models by hand. */

#ifndef FLOWCTL_MODEL_H
#define FLOWCTL_MODEL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf-types.h"
#include "ipv4.h"
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "openvswitch/uuid.h"
#include "sset.h"

struct cf_asg;
struct cf_policy;
struct cf_policy_list;

/* "ip:port" of a host service containers may reach. */
struct model_service {
    uint32_t ip;
    uint16_t port;
};

/* The cell: flowctl's configuration as the pipeline sees it. */
struct model_cell {
    uint32_t instance_address;          /* The cell's underlay IP. */
    struct ipv4_cidr *overlays;        /* All cells' containers: the */
    size_t n_overlays;                  /* overlay networks. */
    struct ipv4_cidr subnet;           /* This cell's containers. */
    bool c2c_open;                      /* disable_container_network_
                                         * policy: all c2c allowed. */
    uint32_t *dns_servers;              /* Reachable on 53/udp+tcp. */
    size_t n_dns_servers;
    struct model_service *tcp_services;
    size_t n_tcp_services;
    struct model_service *udp_services;
    size_t n_udp_services;
    struct ipv4_cidr *deny_always;     /* Egress denied to everyone. */
    size_t n_deny_always;
    struct ipv4_cidr *deny_running;    /* ... to app and task. */
    size_t n_deny_running;
    struct ipv4_cidr *deny_staging;    /* ... to staging. */
    size_t n_deny_staging;
    uint32_t gateway_ofport;            /* The host gateway port. */
    uint32_t gateway_host_ip;           /* The host's address on the
                                         * gateway port. */
    uint8_t gateway_host_mac[6];        /* The host's MAC there. */
    uint32_t tunnel_ofport;             /* The Geneve port; 0 = none
                                         * (single-cell mode). */

    /* Traffic logging (pipeline.h, "Traffic logging").  Flows send log
     * copies only with 'logging' (a log_file is configured): of the
     * connections that ASG rules with "log": true admit; with
     * 'asg_logging', of every connection an ASG rule admits and of the
     * default deny; with 'c2c_logging', of c2c connections policies admit
     * and of the c2c no policy admits. */
    bool logging;
    bool asg_logging;
    bool c2c_logging;
};

/* Another cell of the cluster, as the directory (cfnet-db) lists it. */
struct model_remote {
    uint32_t underlay_ip;               /* Host byte order. */
    struct ipv4_cidr subnet;           /* Its containers. */
};

/* Where a NetOut rule came from: rule 'index' (0-based) of the security
 * group 'asg_guid' (named 'asg_name') as the policy server returned it, or,
 * with a null 'asg_guid', rule 'index' of the container's Garden
 * netOutRules (cf-netout-rules).  The identity of a rule across fetches:
 * flowctl/show, flowctl/trace and rule counters name rules by it. */
struct model_rule_origin {
    char *asg_guid;                     /* NULL: Garden's netOutRules. */
    char *asg_name;
    uint32_t index;
};

/* A list of NetOut rules, parsed once and shared by every container whose
 * rules are the same (in CF, the containers of one space): either the
 * cf-netout-rules text that cni-ovs wrote (Garden's rules) or, with ASG
 * syncing, the rules of the security groups that apply to a space and
 * workload (model_resolve()). */
struct model_rules {
    struct hmap_node node;              /* In model's 'rules', by 'json'. */
    char *json;                         /* Canonical text: the key. */
    struct cf_runtime parsed;           /* Only the netout_rules part. */
    struct model_rule_origin *origins;  /* One per rule; NULL for Garden's
                                         * rules (origin = own index). */
};

/* What the policy server says, as flowctl last fetched it.  policysync.c
 * stores it with model_set_policies() and model_set_asgs(); the pipeline
 * reads it through each container's 'tag' and 'netout', which
 * model_resolve() derives, and through 'policies' (the c2c flows). */
struct model_policy_state {
    bool enabled;                       /* A policy server is configured. */
    bool asg_syncing;                   /* enable_asg_syncing. */

    /* c2c: every policy with a local container at either end, sorted and
     * without duplicates; each policy group's tag (from both ends of every
     * policy: shash of uint32_t, stored as uintptr_t); the policy group ids
     * the policies were fetched for. */
    struct cf_policy *policies;
    size_t n_policies;
    struct shash tags;
    struct sset policy_groups;
    bool policies_fetched;              /* At least once. */

    /* Security groups, in the server's order, and the spaces they were
     * fetched for. */
    struct cf_asg *asgs;
    size_t n_asgs;
    struct sset asg_spaces;
    bool asgs_fetched;                  /* At least once. */

    /* model_resolve()'s cache of the synced rule list of each space and
     * workload ('r' or 's' followed by the space id -> const struct
     * model_rules *), valid until the security groups change. */
    struct shash synced_rules;
};

/* One container on the cell. */
struct model_container {
    struct hmap_node node;              /* In .containers., by ofport. */
    char *handle;
    struct uuid iface;                  /* Its OVSDB Interface row (where
                                         * cf-installed goes); all-zero in
                                         * models built by hand. */
    uint32_t ofport;
    uint32_t ip;                        /* Host byte order. */
    uint8_t mac[6];
    bool staging;                       /* container_workload "staging". */
    char *policy_group_id;              /* cf-policy-group-id, or NULL. */
    char *space_id;                     /* cf-space-id, or NULL. */
    char *app_id;                       /* cf-app-id, or NULL (traffic */
    char *org_id;                       /* log lines only). */
    const struct model_rules *garden_netout;  /* cf-netout-rules. */
    bool marked_installed;              /* cf-installed=true on its row
                                         * (ctflush.h; no flow depends on
                                         * it). */

    /* Derived by model_resolve() from the policy state (both owned by the
     * model): */
    uint32_t tag;                       /* Its app's policy tag from the
                                         * policy server; 0: in no policy,
                                         * reaches no other app. */
    const struct model_rules *netout;   /* The rules that apply: synced
                                         * ASGs once its space's are
                                         * known, else 'garden_netout'. */
    struct cf_port_mapping *port_mappings;
    size_t n_port_mappings;
};

struct model {
    struct model_cell cell;
    struct hmap containers;             /* "struct model_container"s. */
    struct hmap rules;                  /* "struct model_rules"s. */
    struct model_remote *remotes;       /* The other cells, in ascending */
    size_t n_remotes;                   /* underlay_ip order. */
    struct shash refused;               /* Containers left out: handle ->
                                         * why (malloc'd), for
                                         * flowctl/show. */
    struct model_policy_state policy;   /* From the policy server. */
};

void model_init(struct model *);
void model_destroy(struct model *);

/* Returns the shared rule list for canonical JSON text 'json', parsing it
 * the first time.  On a parse error returns NULL and a malloc'd message in
 * '*errorp'. */
const struct model_rules *model_intern_rules(struct model *,
                                             const char *json,
                                             char **errorp);

/* Adds a new container with the given identity and returns it; the caller
 * fills in the rest ('netout' from model_intern_rules(), 'port_mappings'
 * xmalloc'd).  Replaces any container with the same ofport. */
struct model_container *model_add_container(struct model *,
                                            const char *handle,
                                            uint32_t ofport);
void model_remove_container(struct model *, struct model_container *);
struct model_container *model_find_container(const struct model *,
                                             uint32_t ofport);

/* Parses canonical cf-port-mappings text 'json' into 'c''s port
 * mappings.  Returns NULL or a malloc'd error. */
char *model_parse_port_mappings(struct model_container *c, const char *json);

/* Records that the container with 'handle' is left out of the model (it
 * gets no flows, so never cf-installed) because of 'error', which this
 * takes; model_clear_refused() forgets all of them. */
void model_refuse(struct model *, const char *handle, char *error);
void model_clear_refused(struct model *);

/* Frees the model's rule lists that no container uses any more. */
void model_gc_rules(struct model *);

/* Replaces the model's remote cells with a copy of 'remotes' (sorted by
 * underlay IP here).  Returns true if they differ from the old ones. */
bool model_set_remotes(struct model *, const struct model_remote *remotes,
                       size_t n);

/* ---- the policy server's data ---- */

/* Says whether a policy server is configured and whether ASGs are synced
 * from it (flowctl's configuration; before any fetch). */
void model_set_policy_config(struct model *, bool enabled, bool asg_syncing);

/* Replaces the c2c policies with those of 'list' (taking them over and
 * leaving 'list' empty), fetched for the policy group ids 'groups'.
 * Returns true if the policies, the tags or the groups differ from
 * before. */
bool model_set_policies(struct model *, struct cf_policy_list *list,
                        const struct sset *groups);

/* Replaces the security groups with the 'n' of 'asgs' (taking them over:
 * the caller frees only the array), fetched for the spaces 'spaces'.
 * Returns true if they differ from before. */
bool model_set_asgs(struct model *, struct cf_asg *asgs, size_t n,
                    const struct sset *spaces);

/* Derives every container's 'tag' and 'netout' from the policy state and
 * frees rule lists no container uses.  Call after the containers or the
 * policy state change.  Returns true if any container's changed. */
bool model_resolve(struct model *);

/* May 'c' be marked cf-installed, as far as the policy server goes: there
 * is none, or its app has no policy group id, or the policies were fetched
 * for its group (so its policies, if any, are in the desired flows). */
bool model_container_ready(const struct model *,
                           const struct model_container *c);

/* Frees every member of 'cell' (not 'cell' itself). */
/* Makes 'dst' a deep copy of 'src'; free it with model_cell_destroy(). */
void model_cell_clone(struct model_cell *dst, const struct model_cell *src);
void model_cell_destroy(struct model_cell *);

#endif /* model.h */
