/*
 * flow-units: the desired table as a union of units.  See flow-units.h.
 *
 * Every key of the desired table has a record of the units whose flows
 * have that key ("contributors", in unit order); the desired flow is
 * folded from them (fold_key()).  A unit's flows live in the unit's own
 * flow_table; the contributors point into it.
 */

#include <config.h>

#include "flow-units.h"

#include <stdlib.h>
#include <string.h>

#include "flow-table.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "util.h"

struct unit {
    struct hmap_node node;      /* In 'units', by unit_hash(). */
    uint8_t kind;
    uint64_t id;
    void *sig;                  /* Signature of its inputs. */
    size_t sig_len;
    struct flow_table flows;    /* Its flows. */
    bool seen;                  /* Named in this run. */
};

/* A flow of 'unit' with the key of a desired flow. */
struct contrib {
    const struct unit *unit;
    const struct flow_entry *flow;      /* In unit->flows. */
};

/* A key of the desired table and its contributors. */
struct key {
    struct hmap_node node;      /* In 'keys', by the flow's key hash. */
    struct flow_entry *desired; /* In 'table'. */
    struct contrib *c;          /* In unit order (compare_units()): */
    size_t n, allocated;        /* 'one', unless there are more. */
    size_t n_conflicts;         /* Between its contributors. */
    struct contrib one;
};

static void
key_free(struct key *k)
{
    if (k->c != &k->one) {
        free(k->c);
    }
    free(k);
}

struct flow_units {
    struct hmap units;          /* "struct unit"s. */
    struct hmap keys;           /* "struct key"s. */
    struct flow_table table;    /* The desired flows. */
    size_t n_conflicts_inside;  /* Sum of the units' own. */
    size_t n_conflicts_between; /* Sum of the keys'. */
    bool overlap_ok[256];       /* By kind. */
    struct flow_units_stats stats;
};

static uint32_t
unit_hash(uint8_t kind, uint64_t id)
{
    return hash_uint64_basis(id, kind);
}

static int
compare_units(const struct unit *a, const struct unit *b)
{
    if (a->kind != b->kind) {
        return a->kind < b->kind ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

struct flow_units *
flow_units_create(void)
{
    struct flow_units *fu = xzalloc(sizeof *fu);

    hmap_init(&fu->units);
    hmap_init(&fu->keys);
    flow_table_init(&fu->table);
    return fu;
}

static void
unit_free(struct unit *u)
{
    flow_table_destroy(&u->flows);
    free(u->sig);
    free(u);
}

void
flow_units_destroy(struct flow_units *fu)
{
    if (fu) {
        struct unit *u;
        HMAP_FOR_EACH_POP (u, node, &fu->units) {
            unit_free(u);
        }
        hmap_destroy(&fu->units);

        struct key *k;
        HMAP_FOR_EACH_POP (k, node, &fu->keys) {
            key_free(k);
        }
        hmap_destroy(&fu->keys);
        flow_table_destroy(&fu->table);
        free(fu);
    }
}

void
flow_units_allow_overlap(struct flow_units *fu, uint8_t kind)
{
    fu->overlap_ok[kind] = true;
}

void
flow_units_begin(struct flow_units *fu)
{
    struct unit *u;

    HMAP_FOR_EACH (u, node, &fu->units) {
        u->seen = false;
    }
    memset(&fu->stats, 0, sizeof fu->stats);
}

static struct unit *
find_unit(const struct flow_units *fu, uint8_t kind, uint64_t id)
{
    struct unit *u;

    HMAP_FOR_EACH_WITH_HASH (u, node, unit_hash(kind, id), &fu->units) {
        if (u->kind == kind && u->id == id) {
            return u;
        }
    }
    return NULL;
}

bool
flow_units_unchanged(struct flow_units *fu, uint8_t kind, uint64_t id,
                     const void *sig, size_t sig_len)
{
    struct unit *u = find_unit(fu, kind, id);

    if (u && u->sig_len == sig_len && !memcmp(u->sig, sig, sig_len)) {
        u->seen = true;
        return true;
    }
    return false;
}

/* ---- keys ---- */

static struct key *
find_key(const struct flow_units *fu, const struct flow_entry *f)
{
    struct key *k;

    HMAP_FOR_EACH_WITH_HASH (k, node, f->node.hash, &fu->keys) {
        const struct flow_entry *d = k->desired;
        if (d->table_id == f->table_id && d->priority == f->priority
            && minimatch_equal(&d->match, &f->match)) {
            return k;
        }
    }
    return NULL;
}

static size_t
find_contrib(const struct key *k, const struct unit *u)
{
    for (size_t i = 0; i < k->n; i++) {
        if (k->c[i].unit == u) {
            return i;
        }
    }
    OVS_NOT_REACHED();
}

/* Makes 'k''s desired flow what its contributors, added in order, make of
 * it (see flow-units.h). */
static void
fold_key(struct flow_units *fu, struct key *k)
{
    const struct contrib *first = &k->c[0];
    struct flow_entry v = {
        .cookie = first->flow->cookie,
        .ofpacts = (first->flow->ofpacts_len
                    ? xmemdup(first->flow->ofpacts,
                              first->flow->ofpacts_len)
                    : NULL),
        .ofpacts_len = first->flow->ofpacts_len,
    };
    size_t n_conflicts = 0;

    for (size_t i = 1; i < k->n; i++) {
        if (!flow_entry_combine(&v, k->c[i].flow)
            && !(fu->overlap_ok[first->unit->kind]
                 && k->c[i].unit->kind == first->unit->kind)) {
            n_conflicts++;
        }
    }
    fu->n_conflicts_between += n_conflicts - k->n_conflicts;
    k->n_conflicts = n_conflicts;

    struct flow_entry *d = k->desired;
    if (flow_entry_same_value(d, &v)) {
        free(v.ofpacts);
    } else {
        free(d->ofpacts);
        d->cookie = v.cookie;
        d->ofpacts = v.ofpacts;
        d->ofpacts_len = v.ofpacts_len;
        fu->stats.n_flows_changed++;
    }
}

static void
add_contrib(struct flow_units *fu, const struct unit *u,
            const struct flow_entry *f)
{
    struct key *k = find_key(fu, f);

    if (!k) {
        k = xzalloc(sizeof *k);
        k->desired = flow_table_insert_copy(&fu->table, f);
        k->allocated = 1;
        k->c = &k->one;
        k->c[0] = (struct contrib) { u, f };
        k->n = 1;
        hmap_insert(&fu->keys, &k->node, f->node.hash);
        fu->stats.n_flows_changed++;
        return;
    }

    if (k->n >= k->allocated) {
        if (k->c == &k->one) {
            k->c = xmemdup(&k->one, sizeof k->one);
        }
        k->c = x2nrealloc(k->c, &k->allocated, sizeof *k->c);
    }
    size_t i = k->n;
    while (i > 0 && compare_units(k->c[i - 1].unit, u) > 0) {
        k->c[i] = k->c[i - 1];
        i--;
    }
    k->c[i] = (struct contrib) { u, f };
    k->n++;
    fold_key(fu, k);
}

static void
remove_contrib(struct flow_units *fu, const struct unit *u,
               const struct flow_entry *f)
{
    struct key *k = find_key(fu, f);
    size_t i = find_contrib(k, u);

    memmove(&k->c[i], &k->c[i + 1], (k->n - i - 1) * sizeof *k->c);
    k->n--;
    if (k->n) {
        fold_key(fu, k);
    } else {
        fu->n_conflicts_between -= k->n_conflicts;
        flow_table_remove(&fu->table, k->desired);
        hmap_remove(&fu->keys, &k->node);
        key_free(k);
        fu->stats.n_flows_changed++;
    }
}

/* ---- units ---- */

void
flow_units_set(struct flow_units *fu, uint8_t kind, uint64_t id,
               const void *sig, size_t sig_len, struct flow_table *flows)
{
    struct unit *u = find_unit(fu, kind, id);

    if (!u) {
        u = xzalloc(sizeof *u);
        u->kind = kind;
        u->id = id;
        flow_table_init(&u->flows);
        hmap_insert(&fu->units, &u->node, unit_hash(kind, id));
    }

    /* An old flow whose key the unit still has keeps its place: its
     * contributor record moves to the new flow (and the key is folded
     * again if the value changed).  The others go; new keys come. */
    struct flow_entry *o;
    HMAP_FOR_EACH (o, node, &u->flows.flows) {
        struct flow_entry *n = flow_table_find_like(flows, o);
        if (n) {
            struct key *k = find_key(fu, o);
            k->c[find_contrib(k, u)].flow = n;
            if (!flow_entry_same_value(n, o)) {
                fold_key(fu, k);
            }
        } else {
            remove_contrib(fu, u, o);
        }
    }
    struct flow_entry *n;
    HMAP_FOR_EACH (n, node, &flows->flows) {
        if (!flow_table_find_like(&u->flows, n)) {
            add_contrib(fu, u, n);
        }
    }

    fu->n_conflicts_inside += (flow_table_n_conflicts(flows)
                               - flow_table_n_conflicts(&u->flows));
    flow_table_swap(&u->flows, flows);
    flow_table_clear(flows);

    free(u->sig);
    u->sig = sig_len ? xmemdup(sig, sig_len) : NULL;
    u->sig_len = sig_len;
    u->seen = true;
    fu->stats.n_computed++;
}

static void
remove_unit(struct flow_units *fu, struct unit *u)
{
    struct flow_entry *f;

    HMAP_FOR_EACH (f, node, &u->flows.flows) {
        remove_contrib(fu, u, f);
    }
    fu->n_conflicts_inside -= flow_table_n_conflicts(&u->flows);
    hmap_remove(&fu->units, &u->node);
    unit_free(u);
    fu->stats.n_removed++;
}

void
flow_units_end(struct flow_units *fu)
{
    struct unit *u;

    HMAP_FOR_EACH_SAFE (u, node, &fu->units) {
        if (!u->seen) {
            remove_unit(fu, u);
        }
    }
    fu->stats.n_units = hmap_count(&fu->units);
}

void
flow_units_take_table(struct flow_units *fu, struct flow_table *dst)
{
    flow_table_clear(dst);
    flow_table_swap(dst, &fu->table);
    dst->n_conflicts = flow_units_n_conflicts(fu);

    struct key *k;
    HMAP_FOR_EACH_POP (k, node, &fu->keys) {
        key_free(k);
    }
    struct unit *u;
    HMAP_FOR_EACH_POP (u, node, &fu->units) {
        unit_free(u);
    }
    fu->n_conflicts_inside = fu->n_conflicts_between = 0;
    memset(&fu->stats, 0, sizeof fu->stats);
}

const struct flow_table *
flow_units_table(const struct flow_units *fu)
{
    return &fu->table;
}

size_t
flow_units_n_conflicts(const struct flow_units *fu)
{
    return fu->n_conflicts_inside + fu->n_conflicts_between;
}

void
flow_units_get_stats(const struct flow_units *fu,
                     struct flow_units_stats *stats)
{
    *stats = fu->stats;
}
