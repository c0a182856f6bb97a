/*
 * flow-table: sets of OpenFlow flows and the difference between two of
 * them.  See flow-table.h.
 */

#include <config.h>

#include "flow-table.h"

#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "hash.h"
#include "openflow/openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/util.h"
#include "packets.h"
#include "util.h"

/* The hash of a flow's key. */
static uint32_t
flow_key_hash(uint8_t table_id, uint16_t priority,
              const struct minimatch *match)
{
    return minimatch_hash(match, hash_2words(table_id, priority));
}

static struct flow_entry *
flow_table_find__(const struct flow_table *table, uint8_t table_id,
                  uint16_t priority, const struct minimatch *match,
                  uint32_t hash)
{
    struct flow_entry *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, hash, &table->flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            return f;
        }
    }
    return NULL;
}

/* Returns true if 'match' matches on a field that exists only in Ethernet
 * packets without saying so with packet_type, the way a match built with
 * match_set_dl_type() and the like does.  (Every valid match on an L3 or L4
 * field also matches on dl_type.) */
static bool
needs_default_packet_type(const struct match *match)
{
    const struct flow_wildcards *wc = &match->wc;

    return (!wc->masks.packet_type
            && (wc->masks.dl_type
                || !eth_addr_is_zero(wc->masks.dl_src)
                || !eth_addr_is_zero(wc->masks.dl_dst)
                || wc->masks.vlans[0].qtag));
}

/* Initializes 'mm' from 'match', with the implied packet_type=Ethernet
 * made explicit, as OVS's parser and decoders do: so a flow built with
 * match_set_*() and the same flow parsed from ovs-ofctl syntax have the
 * same key.  (The encoded match is the same either way.) */
static void
normalized_minimatch_init(struct minimatch *mm, const struct match *match)
{
    if (needs_default_packet_type(match)) {
        struct match copy = *match;

        match_set_default_packet_type(&copy);
        minimatch_init(mm, &copy);
    } else {
        minimatch_init(mm, match);
    }
}

static void
flow_entry_destroy(struct flow_entry *f)
{
    minimatch_destroy(&f->match);
    free(f->ofpacts);
    free(f);
}

/* Zeroes the padding after the value and after the mask of every
 * set_field action in the 'len' bytes of 'ofpacts', nested ones (in ct(),
 * clone()...) included.  OVS 3.1's ofpact_put_set_field() leaves those
 * bytes uninitialized, and ofpacts_equal() is a memcmp(): without this,
 * equal actions could differ and every put send a spurious modify. */
static void
zero_set_field_padding(struct ofpact *ofpacts, size_t len)
{
    struct ofpact *a;

    OFPACT_FOR_EACH_FLATTENED (a, ofpacts, len) {
        if (a->type == OFPACT_SET_FIELD) {
            struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);
            size_t n = sf->field->n_bytes;
            size_t pad = ROUND_UP(n, OFPACT_ALIGNTO) - n;

            memset((uint8_t *) sf->value + n, 0, pad);
            memset((uint8_t *) ofpact_set_field_mask(sf) + n, 0, pad);
        }
    }
}

/* Returns true if the 'len' bytes of 'ofpacts' are one or more
 * conjunction() actions and nothing else. */
static bool
is_conjunctive(const struct ofpact *ofpacts, size_t len)
{
    const struct ofpact *a;

    if (!len) {
        return false;
    }
    OFPACT_FOR_EACH (a, ofpacts, len) {
        if (a->type != OFPACT_CONJUNCTION) {
            return false;
        }
    }
    return true;
}

static int
compare_conjunctions(const void *a_, const void *b_)
{
    const struct ofpact_conjunction *a = a_;
    const struct ofpact_conjunction *b = b_;

    if (a->id != b->id) {
        return a->id < b->id ? -1 : 1;
    }
    if (a->clause != b->clause) {
        return a->clause < b->clause ? -1 : 1;
    }
    if (a->n_clauses != b->n_clauses) {
        return a->n_clauses < b->n_clauses ? -1 : 1;
    }
    return 0;
}

/* Appends to 'conjs' (an array of '*n' elements with room for as many as
 * there are in the 'len' bytes of 'ofpacts') the conjunction() actions in
 * 'ofpacts'. */
static void
collect_conjunctions(const struct ofpact *ofpacts, size_t len,
                     struct ofpact_conjunction *conjs, size_t *n)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        conjs[(*n)++] = *ofpact_get_CONJUNCTION(a);
    }
}

/* A conjunction() action is padded to a multiple of OFPACT_ALIGNTO, so a
 * list of them, as ofpact_put_CONJUNCTION() lays them out, is an array of
 * "struct ofpact_conjunction". */
BUILD_ASSERT_DECL(sizeof(struct ofpact_conjunction)
                  == OFPACT_ALIGN(sizeof(struct ofpact_conjunction)));

/* Makes 'dst' a conjunction() action with the values of 'src' (padding
 * zeroed, as ofpact_put_CONJUNCTION() leaves it). */
static void
init_conjunction(struct ofpact_conjunction *dst,
                 const struct ofpact_conjunction *src)
{
    ofpact_init_CONJUNCTION(dst);
    dst->id = src->id;
    dst->clause = src->clause;
    dst->n_clauses = src->n_clauses;
}

/* Sorts the actions of 'f' (only conjunction() actions, in any order) and
 * removes repeats. */
static void
normalize_conjunctions(struct flow_entry *f)
{
    size_t n = 0;
    struct ofpact_conjunction *conjs = xmalloc(f->ofpacts_len);

    collect_conjunctions(f->ofpacts, f->ofpacts_len, conjs, &n);
    qsort(conjs, n, sizeof *conjs, compare_conjunctions);

    struct ofpact_conjunction *out = ALIGNED_CAST(struct ofpact_conjunction *,
                                                  f->ofpacts);
    size_t n_out = 0;
    for (size_t i = 0; i < n; i++) {
        if (!n_out || compare_conjunctions(&out[n_out - 1], &conjs[i])) {
            init_conjunction(&out[n_out++], &conjs[i]);
        }
    }
    free(conjs);
    f->ofpacts_len = n_out * sizeof *out;
}

/* Replaces the actions of 'f' (only conjunction() actions, sorted and
 * without repeats, as normalize_conjunctions() leaves them) by the union of
 * them and the conjunction() actions in the 'len' bytes of 'ofpacts',
 * sorted and without repeats.
 *
 * A flow that many rules share (the "who" clause of a ruleset, a common
 * port) collects one action per rule, one rule at a time, so this must not
 * cost more than the length of the list: the new actions are merged into
 * the sorted list in one pass, and when they all sort after it (the usual
 * case: the pipeline adds conjunctions in ascending id order) simply
 * appended. */
static void
merge_conjunctions(struct flow_entry *f, const struct ofpact *ofpacts,
                   size_t len)
{
    struct ofpact_conjunction stub[8];
    size_t max_add = len / sizeof(struct ofpact_conjunction);
    struct ofpact_conjunction *add = (max_add <= ARRAY_SIZE(stub)
                                      ? stub
                                      : xmalloc(max_add * sizeof *add));
    size_t n_add = 0;

    collect_conjunctions(ofpacts, len, add, &n_add);
    if (n_add > 1) {
        qsort(add, n_add, sizeof *add, compare_conjunctions);
    }

    const struct ofpact_conjunction *old
        = ALIGNED_CAST(const struct ofpact_conjunction *, f->ofpacts);
    size_t n_old = f->ofpacts_len / sizeof *old;
    size_t n_out = 0;
    struct ofpact_conjunction *out;

    if (!n_add) {
        goto done;
    } else if (n_old && compare_conjunctions(&old[n_old - 1], &add[0]) < 0) {
        /* Append. */
        out = xrealloc(f->ofpacts, (n_old + n_add) * sizeof *out);
        n_out = n_old;
        for (size_t i = 0; i < n_add; i++) {
            if (compare_conjunctions(&out[n_out - 1], &add[i])) {
                init_conjunction(&out[n_out++], &add[i]);
            }
        }
    } else {
        /* Merge. */
        out = xmalloc((n_old + n_add) * sizeof *out);
        size_t i = 0, j = 0;
        while (i < n_old || j < n_add) {
            const struct ofpact_conjunction *next;
            if (j >= n_add
                || (i < n_old && compare_conjunctions(&old[i],
                                                      &add[j]) <= 0)) {
                next = &old[i++];
            } else {
                next = &add[j++];
            }
            if (!n_out || compare_conjunctions(&out[n_out - 1], next)) {
                init_conjunction(&out[n_out++], next);
            }
        }
        free(f->ofpacts);
    }
    f->ofpacts = &out->ofpact;
    f->ofpacts_len = n_out * sizeof *out;

done:
    if (add != stub) {
        free(add);
    }
}

/* Returns true if 'f' has the 'len' bytes of actions in 'ofpacts'. */
static bool
same_actions(const struct flow_entry *f, const struct ofpact *ofpacts,
             size_t len)
{
    if (f->ofpacts_len != len) {
        return false;
    }

    struct ofpact *copy = len ? xmemdup(ofpacts, len) : NULL;
    zero_set_field_padding(copy, len);
    bool same = ofpacts_equal(f->ofpacts, f->ofpacts_len, copy, len);
    free(copy);
    return same;
}

void
flow_table_init(struct flow_table *table)
{
    hmap_init(&table->flows);
    table->n_conflicts = 0;
}

void
flow_table_destroy(struct flow_table *table)
{
    if (table) {
        flow_table_clear(table);
        hmap_destroy(&table->flows);
    }
}

/* Removes every flow from 'table' and resets its conflict count. */
void
flow_table_clear(struct flow_table *table)
{
    struct flow_entry *f;

    HMAP_FOR_EACH_POP (f, node, &table->flows) {
        flow_entry_destroy(f);
    }
    table->n_conflicts = 0;
}

size_t
flow_table_count(const struct flow_table *table)
{
    return hmap_count(&table->flows);
}

size_t
flow_table_n_conflicts(const struct flow_table *table)
{
    return table->n_conflicts;
}

/* Adds a flow with the given key and value to 'table', merging a
 * conjunctive flow into an existing one with the same key (see
 * flow-table.h). */
void
flow_table_add(struct flow_table *table, uint8_t table_id, uint16_t priority,
               uint64_t cookie, const struct match *match,
               const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct flow_entry *f = xmalloc(sizeof *f);

    normalized_minimatch_init(&f->match, match);
    uint32_t hash = flow_key_hash(table_id, priority, &f->match);

    struct flow_entry *old = flow_table_find__(table, table_id, priority,
                                               &f->match, hash);
    if (old) {
        minimatch_destroy(&f->match);
        free(f);

        if (is_conjunctive(old->ofpacts, old->ofpacts_len)
            && is_conjunctive(ofpacts, ofpacts_len)) {
            merge_conjunctions(old, ofpacts, ofpacts_len);
        } else if (!same_actions(old, ofpacts, ofpacts_len)) {
            table->n_conflicts++;
        }
        return;
    }

    f->table_id = table_id;
    f->priority = priority;
    f->cookie = cookie;
    f->ofpacts = ofpacts_len ? xmemdup(ofpacts, ofpacts_len) : NULL;
    f->ofpacts_len = ofpacts_len;
    zero_set_field_padding(f->ofpacts, f->ofpacts_len);
    if (is_conjunctive(f->ofpacts, f->ofpacts_len)) {
        /* Sorts the actions and removes repeats, so that the flow does not
         * depend on the order of the rules that made it. */
        normalize_conjunctions(f);
    }
    hmap_insert(&table->flows, &f->node, hash);
}

struct flow_entry *
flow_table_find(const struct flow_table *table, uint8_t table_id,
                uint16_t priority, const struct minimatch *match)
{
    struct minimatch normalized;
    struct match m;

    minimatch_expand(match, &m);
    if (needs_default_packet_type(&m)) {
        normalized_minimatch_init(&normalized, &m);
        struct flow_entry *f = flow_table_find__(
            table, table_id, priority, &normalized,
            flow_key_hash(table_id, priority, &normalized));
        minimatch_destroy(&normalized);
        return f;
    }
    return flow_table_find__(table, table_id, priority, match,
                             flow_key_hash(table_id, priority, match));
}

void
flow_entry_format(const struct flow_entry *f, struct ds *s)
{
    ds_put_format(s, "table=%"PRIu8", priority=%"PRIu16", "
                  "cookie=0x%"PRIx64", ", f->table_id, f->priority, f->cookie);
    minimatch_format(&f->match, NULL, NULL, s, OFP_DEFAULT_PRIORITY);
    if (s->length && s->string[s->length - 1] != ' ') {
        ds_put_char(s, ' ');
    }
    ds_put_cstr(s, "actions=");
    if (f->ofpacts_len) {
        struct ofpact_format_params fp = { .s = s };
        ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
    } else {
        ds_put_cstr(s, "drop");
    }
}

struct flow_entry *
flow_table_insert_copy(struct flow_table *table, const struct flow_entry *src)
{
    struct flow_entry *f = xmalloc(sizeof *f);

    f->table_id = src->table_id;
    f->priority = src->priority;
    minimatch_clone(&f->match, &src->match);
    f->cookie = src->cookie;
    f->ofpacts = (src->ofpacts_len
                  ? xmemdup(src->ofpacts, src->ofpacts_len)
                  : NULL);
    f->ofpacts_len = src->ofpacts_len;
    hmap_insert(&table->flows, &f->node, src->node.hash);
    return f;
}

struct flow_entry *
flow_table_find_like(const struct flow_table *table,
                     const struct flow_entry *like)
{
    return flow_table_find__(table, like->table_id, like->priority,
                             &like->match, like->node.hash);
}

void
flow_table_remove(struct flow_table *table, struct flow_entry *f)
{
    hmap_remove(&table->flows, &f->node);
    flow_entry_destroy(f);
}

bool
flow_entry_same_value(const struct flow_entry *a, const struct flow_entry *b)
{
    return (a->cookie == b->cookie
            && ofpacts_equal(a->ofpacts, a->ofpacts_len,
                             b->ofpacts, b->ofpacts_len));
}

bool
flow_entry_combine(struct flow_entry *dst, const struct flow_entry *src)
{
    if (is_conjunctive(dst->ofpacts, dst->ofpacts_len)
        && is_conjunctive(src->ofpacts, src->ofpacts_len)) {
        merge_conjunctions(dst, src->ofpacts, src->ofpacts_len);
        return true;
    }
    return ofpacts_equal(dst->ofpacts, dst->ofpacts_len,
                         src->ofpacts, src->ofpacts_len);
}

void
flow_table_copy(struct flow_table *dst, const struct flow_table *src)
{
    const struct flow_entry *sf;

    flow_table_clear(dst);
    hmap_reserve(&dst->flows, hmap_count(&src->flows));
    HMAP_FOR_EACH (sf, node, &src->flows) {
        flow_table_insert_copy(dst, sf);
    }
    dst->n_conflicts = src->n_conflicts;
}

void
flow_table_swap(struct flow_table *a, struct flow_table *b)
{
    hmap_swap(&a->flows, &b->flows);

    size_t n = a->n_conflicts;
    a->n_conflicts = b->n_conflicts;
    b->n_conflicts = n;
}

static void
add_change(struct ovs_list *changes, enum ofp_flow_mod_command command,
           const struct flow_entry *flow, const struct flow_entry *old)
{
    struct flow_change *c = xmalloc(sizeof *c);

    c->command = command;
    c->flow = flow;
    c->old = old;
    ovs_list_push_back(changes, &c->list_node);
}

void
flow_table_diff(const struct flow_table *desired,
                const struct flow_table *installed,
                struct ovs_list *changes)
{
    const struct flow_entry *d, *i;

    HMAP_FOR_EACH (i, node, &installed->flows) {
        if (!flow_table_find__(desired, i->table_id, i->priority, &i->match,
                               i->node.hash)) {
            add_change(changes, OFPFC_DELETE_STRICT, i, NULL);
        }
    }
    HMAP_FOR_EACH (d, node, &desired->flows) {
        i = flow_table_find__(installed, d->table_id, d->priority, &d->match,
                              d->node.hash);
        if (!i) {
            add_change(changes, OFPFC_ADD, d, NULL);
        } else if (i->cookie != d->cookie
                   || !ofpacts_equal(i->ofpacts, i->ofpacts_len,
                                     d->ofpacts, d->ofpacts_len)) {
            add_change(changes, OFPFC_MODIFY_STRICT, d, i);
        }
    }
}

void
flow_changes_destroy(struct ovs_list *changes)
{
    struct flow_change *c;

    LIST_FOR_EACH_POP (c, list_node, changes) {
        free(c);
    }
}

void
flow_changes_detach(struct ovs_list *changes, struct flow_table *store)
{
    struct flow_change *c;

    LIST_FOR_EACH (c, list_node, changes) {
        if (c->command != OFPFC_DELETE_STRICT) {
            c->flow = flow_table_insert_copy(store, c->flow);
        }
    }
}

void
flow_table_apply(struct flow_table *installed, struct flow_table *store,
                 struct ovs_list *changes)
{
    struct flow_change *c;

    LIST_FOR_EACH_POP (c, list_node, changes) {
        struct flow_entry *f = CONST_CAST(struct flow_entry *, c->flow);

        switch ((int) c->command) {
        case OFPFC_DELETE_STRICT:
            hmap_remove(&installed->flows, &f->node);
            flow_entry_destroy(f);
            break;

        case OFPFC_ADD:
            hmap_remove(&store->flows, &f->node);
            hmap_insert(&installed->flows, &f->node, f->node.hash);
            break;

        case OFPFC_MODIFY_STRICT: {
            struct flow_entry *old = CONST_CAST(struct flow_entry *, c->old);
            struct ofpact *ofpacts = old->ofpacts;

            old->cookie = f->cookie;
            old->ofpacts = f->ofpacts;
            old->ofpacts_len = f->ofpacts_len;
            f->ofpacts = ofpacts;   /* Freed with 'store'. */
            break;
        }

        default:
            OVS_NOT_REACHED();
        }
        free(c);
    }
    flow_table_clear(store);
}

void
flow_change_to_flow_mod(const struct flow_change *change,
                        struct ofputil_flow_mod *fm)
{
    const struct flow_entry *f = change->flow;

    *fm = (struct ofputil_flow_mod) {
        .match = f->match,
        .priority = f->priority,
        .cookie = htonll(0),
        .cookie_mask = htonll(0),
        .new_cookie = OVS_BE64_MAX,
        .modify_cookie = false,
        .table_id = f->table_id,
        .command = change->command,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .flags = 0,
    };

    switch (change->command) {
    case OFPFC_ADD:
    case OFPFC_MODIFY_STRICT:
        fm->new_cookie = htonll(f->cookie);
        fm->ofpacts = CONST_CAST(struct ofpact *, f->ofpacts);
        fm->ofpacts_len = f->ofpacts_len;
        if (change->command == OFPFC_MODIFY_STRICT) {
            fm->modify_cookie = true;
            if (change->old && change->old->cookie != f->cookie) {
                /* Only an add can change the cookie (see flow-table.h). */
                fm->command = OFPFC_ADD;
            }
        }
        break;

    case OFPFC_DELETE_STRICT:
        break;

    case OFPFC_MODIFY:
    case OFPFC_DELETE:
    default:
        OVS_NOT_REACHED();
    }
}

/* The bundle-add header: an OpenFlow header and the bundle id and flags. */
BUILD_ASSERT_DECL(UINT16_MAX - FLOW_MOD_MAX_LEN
                  == sizeof(struct ofp_header)
                     + sizeof(struct ofp14_bundle_ctrl_msg));

struct ofpbuf *
flow_change_encode(const struct flow_change *change,
                   enum ofputil_protocol protocol, char **errorp)
{
    struct ofputil_flow_mod fm;

    *errorp = NULL;
    flow_change_to_flow_mod(change, &fm);
    struct ofpbuf *msg = ofputil_encode_flow_mod(&fm, protocol);
    if (msg->size <= FLOW_MOD_MAX_LEN) {
        return msg;
    }

    const struct flow_entry *f = change->flow;
    size_t n_actions = 0;
    const struct ofpact *a;
    OFPACT_FOR_EACH (a, f->ofpacts, f->ofpacts_len) {
        n_actions++;
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "flow too large for OpenFlow (%"PRIu32" bytes, at "
                  "most %d): table=%"PRIu8", priority=%"PRIu16", "
                  "cookie=0x%"PRIx64", ", msg->size, FLOW_MOD_MAX_LEN,
                  f->table_id, f->priority, f->cookie);
    minimatch_format(&f->match, NULL, NULL, &s, OFP_DEFAULT_PRIORITY);
    ds_put_format(&s, " with %"PRIuSIZE" actions", n_actions);
    *errorp = ds_steal_cstr(&s);
    ofpbuf_delete(msg);
    return NULL;
}
