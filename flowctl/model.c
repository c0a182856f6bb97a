/*
 * model: see model.h.
 */

#include <config.h>

#include "model.h"

#include "cf-record.h"

#include <string.h>

#include "hash.h"
#include "util.h"

void
model_init(struct model *m)
{
    memset(&m->cell, 0, sizeof m->cell);
    hmap_init(&m->containers);
    hmap_init(&m->rules);
    m->remotes = NULL;
    m->n_remotes = 0;
    shash_init(&m->refused);
}

static void
model_rules_destroy(struct model_rules *r)
{
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

uint32_t
model_tag_for(const char *policy_group_id)
{
    return (hash_string(policy_group_id ? policy_group_id : "", 0)
            & 0x7fffffff) | 0x80000000;
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

    r = xmalloc(sizeof *r);
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
            if (c->netout == r) {
                used = true;
                break;
            }
        }
        if (!used) {
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
