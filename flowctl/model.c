/*
 * model: see model.h.
 */

#include <config.h>

#include "model.h"

#include "cf-policy.h"
#include "cf-record.h"

#include <string.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

static void policy_state_init(struct model_policy_state *);
static void policy_state_destroy(struct model_policy_state *);

void
model_init(struct model *m)
{
    memset(&m->cell, 0, sizeof m->cell);
    hmap_init(&m->containers);
    hmap_init(&m->rules);
    m->remotes = NULL;
    m->n_remotes = 0;
    shash_init(&m->refused);
    policy_state_init(&m->policy);
}

static void
model_rules_destroy(struct model_rules *r)
{
    if (r->origins) {
        for (size_t i = 0; i < r->parsed.n_netout_rules; i++) {
            free(r->origins[i].asg_guid);
            free(r->origins[i].asg_name);
        }
        free(r->origins);
    }
    free(r->json);
    cf_runtime_destroy(&r->parsed);
    free(r);
}

static void *
copy_array(const void *src, size_t n, size_t size)
{
    return n ? xmemdup(src, n * size) : NULL;
}

void
model_cell_clone(struct model_cell *dst, const struct model_cell *src)
{
    *dst = *src;
    dst->overlays = copy_array(src->overlays, src->n_overlays,
                               sizeof *src->overlays);
    dst->dns_servers = copy_array(src->dns_servers, src->n_dns_servers,
                                  sizeof *src->dns_servers);
    dst->tcp_services = copy_array(src->tcp_services, src->n_tcp_services,
                                   sizeof *src->tcp_services);
    dst->udp_services = copy_array(src->udp_services, src->n_udp_services,
                                   sizeof *src->udp_services);
    dst->deny_always = copy_array(src->deny_always, src->n_deny_always,
                                  sizeof *src->deny_always);
    dst->deny_running = copy_array(src->deny_running, src->n_deny_running,
                                   sizeof *src->deny_running);
    dst->deny_staging = copy_array(src->deny_staging, src->n_deny_staging,
                                   sizeof *src->deny_staging);
}

void
model_cell_destroy(struct model_cell *cell)
{
    free(cell->overlays);
    free(cell->dns_servers);
    free(cell->tcp_services);
    free(cell->udp_services);
    free(cell->deny_always);
    free(cell->deny_running);
    free(cell->deny_staging);
    memset(cell, 0, sizeof *cell);
}

void
model_destroy(struct model *m)
{
    struct model_container *c;
    HMAP_FOR_EACH_SAFE (c, node, &m->containers) {
        model_remove_container(m, c);
    }
    hmap_destroy(&m->containers);

    struct model_rules *r;
    HMAP_FOR_EACH_POP (r, node, &m->rules) {
        model_rules_destroy(r);
    }
    hmap_destroy(&m->rules);
    model_cell_destroy(&m->cell);
    shash_destroy_free_data(&m->refused);
    free(m->remotes);
    m->remotes = NULL;
    m->n_remotes = 0;
    policy_state_destroy(&m->policy);
}

static int
compare_remotes(const void *a_, const void *b_)
{
    const struct model_remote *a = a_, *b = b_;
    return (a->underlay_ip < b->underlay_ip ? -1
            : a->underlay_ip > b->underlay_ip);
}

bool
model_set_remotes(struct model *m, const struct model_remote *remotes,
                  size_t n)
{
    struct model_remote *copy = xmalloc(MAX(n, 1) * sizeof *copy);
    if (n) {
        memcpy(copy, remotes, n * sizeof *copy);
        qsort(copy, n, sizeof *copy, compare_remotes);
    }

    bool changed = n != m->n_remotes
                   || (n && memcmp(copy, m->remotes, n * sizeof *copy));
    free(m->remotes);
    m->remotes = copy;
    m->n_remotes = n;
    return changed;
}

const struct model_rules *
model_intern_rules(struct model *m, const char *json, char **errorp)
{
    uint32_t hash = hash_string(json, 0);
    struct model_rules *r;

    *errorp = NULL;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash, &m->rules) {
        if (!strcmp(r->json, json)) {
            return r;
        }
    }

    json_error_t jerror;
    json_t *array = json_loads(json, JSON_DECODE_ANY, &jerror);
    if (!array) {
        *errorp = xasprintf("%s: not JSON (%s)", "cf-netout-rules",
                            jerror.text);
        return NULL;
    }

    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_runtime parsed;
    memset(&parsed, 0, sizeof parsed);
    cf_netout_rules_parse(&jp, array, "cf-netout-rules", &parsed);
    json_decref(array);
    char *error = jparse_finish(&jp);
    if (error) {
        cf_runtime_destroy(&parsed);
        *errorp = error;
        return NULL;
    }

    r = xzalloc(sizeof *r);
    r->json = xstrdup(json);
    r->parsed = parsed;
    hmap_insert(&m->rules, &r->node, hash);
    return r;
}

struct model_container *
model_find_container(const struct model *m, uint32_t ofport)
{
    struct model_container *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, hash_int(ofport, 0), &m->containers) {
        if (c->ofport == ofport) {
            return c;
        }
    }
    return NULL;
}

struct model_container *
model_add_container(struct model *m, const char *handle, uint32_t ofport)
{
    struct model_container *old = model_find_container(m, ofport);
    if (old) {
        model_remove_container(m, old);
    }

    struct model_container *c = xzalloc(sizeof *c);
    c->handle = xstrdup(handle);
    c->ofport = ofport;
    hmap_insert(&m->containers, &c->node, hash_int(ofport, 0));
    return c;
}

void
model_remove_container(struct model *m, struct model_container *c)
{
    if (c) {
        hmap_remove(&m->containers, &c->node);
        free(c->handle);
        free(c->policy_group_id);
        free(c->space_id);
        free(c->app_id);
        free(c->org_id);
        free(c->port_mappings);
        free(c);
    }
}

void
model_refuse(struct model *m, const char *handle, char *error)
{
    free(shash_replace_nocopy(&m->refused, xstrdup(handle), error));
}

void
model_clear_refused(struct model *m)
{
    shash_clear_free_data(&m->refused);
}

void
model_gc_rules(struct model *m)
{
    struct model_rules *r;
    HMAP_FOR_EACH_SAFE (r, node, &m->rules) {
        bool used = false;
        const struct model_container *c;
        HMAP_FOR_EACH (c, node, &m->containers) {
            if (c->netout == r || c->garden_netout == r) {
                used = true;
                break;
            }
        }
        if (!used) {
            if (r->origins) {
                /* Synced: forget it in model_resolve()'s cache too. */
                struct shash_node *node;
                SHASH_FOR_EACH_SAFE (node, &m->policy.synced_rules) {
                    if (node->data == r) {
                        shash_delete(&m->policy.synced_rules, node);
                    }
                }
            }
            hmap_remove(&m->rules, &r->node);
            model_rules_destroy(r);
        }
    }
}

char *
model_parse_port_mappings(struct model_container *c, const char *json)
{
    json_error_t jerror;
    json_t *array = json_loads(json, JSON_DECODE_ANY, &jerror);
    if (!array) {
        return xasprintf("cf-port-mappings: not JSON (%s)", jerror.text);
    }

    struct jparse jp = JPARSE_INITIALIZER;
    struct cf_runtime rt;
    memset(&rt, 0, sizeof rt);
    cf_port_mappings_parse(&jp, array, "cf-port-mappings", &rt);
    json_decref(array);
    char *error = jparse_finish(&jp);
    if (!error) {
        free(c->port_mappings);
        c->port_mappings = rt.port_mappings;
        c->n_port_mappings = rt.n_port_mappings;
        rt.port_mappings = NULL;
        rt.n_port_mappings = 0;
    }
    cf_runtime_destroy(&rt);
    return error;
}

/* ---- the policy server's data ---- */

static void
policy_state_init(struct model_policy_state *ps)
{
    memset(ps, 0, sizeof *ps);
    shash_init(&ps->tags);
    sset_init(&ps->policy_groups);
    sset_init(&ps->asg_spaces);
    shash_init(&ps->synced_rules);
}

static void
free_policies(struct cf_policy *policies, size_t n)
{
    struct cf_policy_list list = { .policies = policies, .n = n };
    cf_policy_list_destroy(&list);
}

static void
free_asgs(struct cf_asg *asgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cf_asg_destroy(&asgs[i]);
    }
    free(asgs);
}

static void
policy_state_destroy(struct model_policy_state *ps)
{
    free_policies(ps->policies, ps->n_policies);
    shash_destroy(&ps->tags);
    sset_destroy(&ps->policy_groups);
    free_asgs(ps->asgs, ps->n_asgs);
    sset_destroy(&ps->asg_spaces);
    shash_destroy(&ps->synced_rules);
    memset(ps, 0, sizeof *ps);
}

void
model_set_policy_config(struct model *m, bool enabled, bool asg_syncing)
{
    m->policy.enabled = enabled;
    m->policy.asg_syncing = enabled && asg_syncing;
    shash_clear(&m->policy.synced_rules);
}

/* Orders policies by every member, so that the sorted list, and so the
 * flows made from it, do not depend on the order the server sent. */
static int
compare_policies(const void *a_, const void *b_)
{
    const struct cf_policy *a = a_, *b = b_;
    int cmp = strcmp(a->src_id, b->src_id);
    if (!cmp) {
        cmp = strcmp(a->dst_id, b->dst_id);
    }
#define CMP_MEMBER(M) if (!cmp) { cmp = (a->M > b->M) - (a->M < b->M); }
    CMP_MEMBER(protocol);
    CMP_MEMBER(port_start);
    CMP_MEMBER(port_end);
    CMP_MEMBER(src_tag);
    CMP_MEMBER(dst_tag);
#undef CMP_MEMBER
    return cmp;
}

static void
add_tag(struct shash *tags, const char *group, uint32_t tag)
{
    /* A group with two tags (the server never sends that): the first in
     * sorted order wins, so the result does not depend on the order the
     * server sent. */
    if (!shash_find(tags, group)) {
        shash_add(tags, group, (void *) (uintptr_t) tag);
    }
}

static bool
tags_equal(const struct shash *a, const struct shash *b)
{
    if (shash_count(a) != shash_count(b)) {
        return false;
    }
    const struct shash_node *node;
    SHASH_FOR_EACH (node, a) {
        const struct shash_node *other = shash_find(b, node->name);
        if (!other || other->data != node->data) {
            return false;
        }
    }
    return true;
}

/* Makes 'dst' a copy of 'src' (unless they are equal already). */
static void
sset_assign(struct sset *dst, const struct sset *src)
{
    if (!sset_equals(src, dst)) {
        sset_destroy(dst);
        sset_clone(dst, src);
    }
}

bool
model_set_policies(struct model *m, struct cf_policy_list *list,
                   const struct sset *groups)
{
    struct model_policy_state *ps = &m->policy;

    /* Sort, then drop exact duplicates (freeing them). */
    struct cf_policy *policies = list->policies;
    size_t n = list->n;
    list->policies = NULL;
    list->n = 0;
    if (n) {
        qsort(policies, n, sizeof *policies, compare_policies);
    }
    size_t n_kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (n_kept && !compare_policies(&policies[n_kept - 1],
                                        &policies[i])) {
            free(policies[i].src_id);
            free(policies[i].dst_id);
            continue;
        }
        policies[n_kept++] = policies[i];
    }

    struct shash tags = SHASH_INITIALIZER(&tags);
    for (size_t i = 0; i < n_kept; i++) {
        add_tag(&tags, policies[i].src_id, policies[i].src_tag);
        add_tag(&tags, policies[i].dst_id, policies[i].dst_tag);
    }

    bool changed = (!ps->policies_fetched
                    || n_kept != ps->n_policies
                    || !tags_equal(&tags, &ps->tags)
                    || !sset_equals(groups, &ps->policy_groups));
    for (size_t i = 0; !changed && i < n_kept; i++) {
        changed = compare_policies(&policies[i], &ps->policies[i]) != 0;
    }

    free_policies(ps->policies, ps->n_policies);
    ps->policies = policies;
    ps->n_policies = n_kept;
    shash_swap(&ps->tags, &tags);
    shash_destroy(&tags);
    sset_assign(&ps->policy_groups, groups);
    ps->policies_fetched = true;
    return changed;
}

static bool
strings_equal(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool
string_arrays_equal(char **a, size_t n_a, char **b, size_t n_b)
{
    if (n_a != n_b) {
        return false;
    }
    for (size_t i = 0; i < n_a; i++) {
        if (!strings_equal(a[i], b[i])) {
            return false;
        }
    }
    return true;
}

static bool
netout_rules_equal(const struct cf_netout_rule *a,
                   const struct cf_netout_rule *b)
{
    return (a->protocol == b->protocol
            && a->n_networks == b->n_networks
            && (!a->n_networks
                || !memcmp(a->networks, b->networks,
                           a->n_networks * sizeof *a->networks))
            && a->n_ports == b->n_ports
            && (!a->n_ports
                || !memcmp(a->ports, b->ports, a->n_ports * sizeof *a->ports))
            && a->has_icmp == b->has_icmp
            && a->icmp_type == b->icmp_type
            && a->icmp_code == b->icmp_code
            && a->log == b->log);
}

static bool
asgs_equal(const struct cf_asg *a, const struct cf_asg *b)
{
    if (!strings_equal(a->guid, b->guid) || !strings_equal(a->name, b->name)
        || a->n_rules != b->n_rules
        || a->staging_default != b->staging_default
        || a->running_default != b->running_default
        || !string_arrays_equal(a->staging_spaces, a->n_staging_spaces,
                                b->staging_spaces, b->n_staging_spaces)
        || !string_arrays_equal(a->running_spaces, a->n_running_spaces,
                                b->running_spaces, b->n_running_spaces)) {
        return false;
    }
    for (size_t i = 0; i < a->n_rules; i++) {
        if (a->rule_index[i] != b->rule_index[i]
            || !netout_rules_equal(&a->rules[i], &b->rules[i])) {
            return false;
        }
    }
    return true;
}

bool
model_set_asgs(struct model *m, struct cf_asg *asgs, size_t n,
               const struct sset *spaces)
{
    struct model_policy_state *ps = &m->policy;

    bool changed = (!ps->asgs_fetched || n != ps->n_asgs
                    || !sset_equals(spaces, &ps->asg_spaces));
    for (size_t i = 0; !changed && i < n; i++) {
        changed = !asgs_equal(&asgs[i], &ps->asgs[i]);
    }

    if (changed) {
        shash_clear(&ps->synced_rules);
    }
    free_asgs(ps->asgs, ps->n_asgs);
    ps->asgs = n ? xmemdup(asgs, n * sizeof *asgs) : NULL;
    ps->n_asgs = n;
    if (n) {
        memset(asgs, 0, n * sizeof *asgs);
    }
    sset_assign(&ps->asg_spaces, spaces);
    ps->asgs_fetched = true;
    return changed;
}

/* Does the last ASG fetch give container 'c' its rules? */
static bool
asgs_cover(const struct model_policy_state *ps,
           const struct model_container *c)
{
    return (ps->enabled && ps->asg_syncing && ps->asgs_fetched
            && c->space_id && sset_contains(&ps->asg_spaces, c->space_id));
}

static void
copy_netout_rule(struct cf_netout_rule *dst, const struct cf_netout_rule *src)
{
    *dst = *src;
    dst->networks = copy_array(src->networks, src->n_networks,
                               sizeof *src->networks);
    dst->ports = copy_array(src->ports, src->n_ports, sizeof *src->ports);
}

/* Returns the interned rule list of the security groups that apply to a
 * container of space 'space_id' that is staging or not ('staging'): every
 * rule of every such group, in the server's order, each with its origin.
 * The key is "asgs " followed by the origins and the canonical text of the
 * rules, so it never equals a Garden rule list's (which is a JSON array)
 * and changes whenever a rule or an origin does.
 *
 * More rules than CF_NETOUT_RULES_MAX (a container's limit, which the
 * pipeline's conjunction ids rely on) are never truncated: the list is
 * then empty, so the container's egress is closed rather than half
 * open. */
static const struct model_rules *
intern_synced_rules(struct model *m, const char *space_id, bool staging)
{
    const struct model_policy_state *ps = &m->policy;
    struct cf_runtime rt;
    struct model_rule_origin *origins;
    size_t n = 0;

    memset(&rt, 0, sizeof rt);
    for (size_t i = 0; i < ps->n_asgs; i++) {
        if (cf_asg_applies(&ps->asgs[i], space_id, staging)) {
            n += ps->asgs[i].n_rules;
        }
    }
    if (n > CF_NETOUT_RULES_MAX) {
        n = 0;
    }
    rt.netout_rules = xcalloc(MAX(n, 1), sizeof *rt.netout_rules);
    origins = xcalloc(MAX(n, 1), sizeof *origins);
    for (size_t i = 0; n && i < ps->n_asgs; i++) {
        const struct cf_asg *asg = &ps->asgs[i];
        if (!cf_asg_applies(asg, space_id, staging)) {
            continue;
        }
        for (size_t j = 0; j < asg->n_rules; j++) {
            size_t k = rt.n_netout_rules++;
            copy_netout_rule(&rt.netout_rules[k], &asg->rules[j]);
            origins[k].asg_guid = xstrdup(asg->guid ? asg->guid : "");
            origins[k].asg_name = xstrdup(asg->name ? asg->name : "");
            origins[k].index = asg->rule_index ? asg->rule_index[j] : j;
        }
    }

    struct ds key = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&key, "asgs");
    for (size_t i = 0; i < rt.n_netout_rules; i++) {
        /* GUIDs and names are quoted by length, so no separator in them
         * can make two lists look alike. */
        ds_put_format(&key, " %"PRIuSIZE":%s/%"PRIuSIZE":%s/%"PRIu32,
                      strlen(origins[i].asg_guid), origins[i].asg_guid,
                      strlen(origins[i].asg_name), origins[i].asg_name,
                      origins[i].index);
    }
    char *rules_json = cf_netout_rules_to_json(&rt);
    ds_put_format(&key, " %s", rules_json);
    free(rules_json);

    uint32_t hash = hash_string(ds_cstr(&key), 0);
    struct model_rules *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash, &m->rules) {
        if (!strcmp(r->json, ds_cstr(&key))) {
            for (size_t i = 0; i < rt.n_netout_rules; i++) {
                free(origins[i].asg_guid);
                free(origins[i].asg_name);
            }
            free(origins);
            cf_runtime_destroy(&rt);
            ds_destroy(&key);
            return r;
        }
    }

    r = xzalloc(sizeof *r);
    r->json = ds_steal_cstr(&key);
    r->parsed = rt;
    r->origins = origins;
    hmap_insert(&m->rules, &r->node, hash);
    return r;
}

bool
model_resolve(struct model *m)
{
    struct model_policy_state *ps = &m->policy;
    bool changed = false;

    struct model_container *c;
    HMAP_FOR_EACH (c, node, &m->containers) {
        uint32_t tag = 0;
        if (ps->enabled && c->policy_group_id) {
            tag = (uintptr_t) shash_find_data(&ps->tags, c->policy_group_id);
        }

        const struct model_rules *netout = c->garden_netout;
        if (asgs_cover(ps, c)) {
            char *key = xasprintf("%c%s", c->staging ? 's' : 'r',
                                  c->space_id);
            netout = shash_find_data(&ps->synced_rules, key);
            if (!netout) {
                netout = intern_synced_rules(m, c->space_id, c->staging);
                shash_add_nocopy(&ps->synced_rules, key,
                                 CONST_CAST(void *, netout));
            } else {
                free(key);
            }
        }

        if (c->tag != tag || c->netout != netout) {
            c->tag = tag;
            c->netout = netout;
            changed = true;
        }
    }

    model_gc_rules(m);
    return changed;
}

bool
model_container_ready(const struct model *m,
                      const struct model_container *c)
{
    const struct model_policy_state *ps = &m->policy;

    return (!ps->enabled || !c->policy_group_id
            || (ps->policies_fetched
                && sset_contains(&ps->policy_groups, c->policy_group_id)));
}
