/*
 * Unit tests for flowctl/flow-table.c: adding and finding flows,
 * conjunction merging and conflicts, the diff between a desired and an
 * installed table, copy and swap, and the flow_mods made from a diff
 * (checked by encoding them as OpenFlow 1.5 and decoding them back); and
 * flow-units.c, the desired table as a union of units. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "flow-table.h"
#include "flow-units.h"
#include "flow.h"
#include "openflow/openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "util.h"

/* Adds to 'table' the flow 's' in ovs-ofctl's add-flow syntax ("table=1,
 * priority=10,cookie=0x5,ip,actions=drop"). */
static void
add_str(struct flow_table *table, const char *s)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(&fm, s, NULL, NULL, OFPFC_ADD,
                                         &usable);
    if (error) {
        fail_msg("%s: %s", s, error);
    }

    struct match match;
    minimatch_expand(&fm.match, &match);
    flow_table_add(table, fm.table_id == OFPTT_ALL ? 0 : fm.table_id,
                   fm.priority, ntohll(fm.new_cookie), &match,
                   fm.ofpacts, fm.ofpacts_len);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
}

/* Returns the flow in 'table' with the key of flow 's' (table, priority
 * and match in ovs-ofctl's syntax), or NULL. */
static struct flow_entry *
find_str(const struct flow_table *table, const char *s)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(&fm, s, NULL, NULL,
                                         OFPFC_DELETE_STRICT, &usable);
    if (error) {
        fail_msg("%s: %s", s, error);
    }

    struct flow_entry *f = flow_table_find(
        table, fm.table_id == OFPTT_ALL ? 0 : fm.table_id, fm.priority,
        &fm.match);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    return f;
}

/* Returns the actions of 'f' as ovs-ofctl prints them (static buffer). */
static const char *
actions_str(const struct flow_entry *f)
{
    static char buf[512];
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpact_format_params fp = { .s = &s };

    ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
    ovs_strlcpy(buf, ds_cstr(&s), sizeof buf);
    ds_destroy(&s);
    return buf;
}

static void
test_add_find(void **state)
{
    struct flow_table t;
    flow_table_init(&t);
    assert_int_equal(flow_table_count(&t), 0);

    /* One flow built with the match and ofpact APIs. */
    struct match match;
    match_init_catchall(&match);
    match_set_in_port(&match, u16_to_ofp(3));
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    match_set_nw_dst_masked(&match, htonl(0x0aff0700), htonl(0xffffff00));

    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 0);
    ofpact_put_OUTPUT(&ofpacts)->port = u16_to_ofp(7);

    flow_table_add(&t, 2, 100, 0xabc, &match, ofpacts.data, ofpacts.size);
    assert_int_equal(flow_table_count(&t), 1);

    struct minimatch mm;
    minimatch_init(&mm, &match);
    struct flow_entry *f = flow_table_find(&t, 2, 100, &mm);
    assert_non_null(f);
    assert_int_equal(f->table_id, 2);
    assert_int_equal(f->priority, 100);
    assert_int_equal(f->cookie, 0xabc);
    assert_true(ofpacts_equal(f->ofpacts, f->ofpacts_len,
                              ofpacts.data, ofpacts.size));
    /* The table keeps its own copy of the actions. */
    assert_ptr_not_equal(f->ofpacts, ofpacts.data);

    /* The key is table, priority and match; the caller's match may go. */
    assert_null(flow_table_find(&t, 3, 100, &mm));
    assert_null(flow_table_find(&t, 2, 101, &mm));
    minimatch_destroy(&mm);

    match_set_nw_dst_masked(&match, htonl(0x0aff0700), htonl(0xffff0000));
    minimatch_init(&mm, &match);
    assert_null(flow_table_find(&t, 2, 100, &mm));
    minimatch_destroy(&mm);

    /* The same flow parsed from ovs-ofctl syntax has the same key. */
    f = find_str(&t, "table=2,priority=100,in_port=3,ip,"
                 "nw_dst=10.255.7.0/24");
    assert_non_null(f);
    assert_string_equal(actions_str(f), "output:7");

    /* And the same table built both ways has no difference. */
    struct flow_table parsed;
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);
    flow_table_init(&parsed);
    add_str(&parsed, "table=2,priority=100,cookie=0xabc,in_port=3,ip,"
            "nw_dst=10.255.7.0/24,actions=output:7");
    flow_table_diff(&parsed, &t, &changes);
    assert_true(ovs_list_is_empty(&changes));
    flow_table_diff(&t, &parsed, &changes);
    assert_true(ovs_list_is_empty(&changes));
    flow_table_destroy(&parsed);

    /* More flows, with the same match in other tables or priorities, and a
     * flow with no actions (drop). */
    add_str(&t, "table=3,priority=100,in_port=3,ip,nw_dst=10.255.7.0/24,"
            "actions=output:8");
    add_str(&t, "table=2,priority=99,in_port=3,ip,nw_dst=10.255.7.0/24,"
            "actions=output:9");
    add_str(&t, "table=0,priority=0,actions=drop");
    assert_int_equal(flow_table_count(&t), 4);
    assert_int_equal(flow_table_n_conflicts(&t), 0);
    f = find_str(&t, "table=2,priority=99,in_port=3,ip,nw_dst=10.255.7.0/24");
    assert_non_null(f);
    assert_string_equal(actions_str(f), "output:9");
    f = find_str(&t, "table=0,priority=0");
    assert_non_null(f);
    assert_int_equal(f->ofpacts_len, 0);

    /* flow_entry_format() prints ovs-ofctl's syntax. */
    struct ds s = DS_EMPTY_INITIALIZER;
    f = find_str(&t, "table=2,priority=100,in_port=3,ip,"
                 "nw_dst=10.255.7.0/24");
    flow_entry_format(f, &s);
    assert_string_equal(ds_cstr(&s),
                        "table=2, priority=100, cookie=0xabc, "
                        "ip,in_port=3,nw_dst=10.255.7.0/24 actions=output:7");
    ds_clear(&s);
    flow_entry_format(find_str(&t, "table=0,priority=0"), &s);
    assert_string_equal(ds_cstr(&s),
                        "table=0, priority=0, cookie=0x0, actions=drop");
    ds_destroy(&s);

    flow_table_clear(&t);
    assert_int_equal(flow_table_count(&t), 0);
    ofpbuf_uninit(&ofpacts);
    flow_table_destroy(&t);
}

static void
test_conjunction_merge(void **state)
{
    struct flow_table t;
    flow_table_init(&t);

    /* Two ASG rules with the same destination: one flow, both
     * conjunctions, sorted. */
    add_str(&t, "table=1,priority=200,cookie=0x1,ip,nw_dst=10.0.0.0/8,"
            "actions=conjunction(7,2/2)");
    add_str(&t, "table=1,priority=200,cookie=0x2,ip,nw_dst=10.0.0.0/8,"
            "actions=conjunction(3,2/2)");
    assert_int_equal(flow_table_count(&t), 1);
    assert_int_equal(flow_table_n_conflicts(&t), 0);
    struct flow_entry *f = find_str(&t, "table=1,priority=200,ip,"
                                    "nw_dst=10.0.0.0/8");
    assert_non_null(f);
    assert_string_equal(actions_str(f),
                        "conjunction(3,2/2),conjunction(7,2/2)");
    /* The first flow's cookie stays. */
    assert_int_equal(f->cookie, 0x1);

    /* A conjunction already there is not repeated; several at once merge
     * too. */
    add_str(&t, "table=1,priority=200,ip,nw_dst=10.0.0.0/8,"
            "actions=conjunction(7,2/2),conjunction(9,1/3)");
    assert_int_equal(flow_table_count(&t), 1);
    assert_string_equal(actions_str(f),
                        "conjunction(3,2/2),conjunction(7,2/2),"
                        "conjunction(9,1/3)");

    /* The same rules in another order give the same flow. */
    struct flow_table t2;
    flow_table_init(&t2);
    add_str(&t2, "table=1,priority=200,cookie=0x1,ip,nw_dst=10.0.0.0/8,"
            "actions=conjunction(9,1/3),conjunction(7,2/2)");
    add_str(&t2, "table=1,priority=200,ip,nw_dst=10.0.0.0/8,"
            "actions=conjunction(3,2/2),conjunction(3,2/2)");
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);
    flow_table_diff(&t2, &t, &changes);
    assert_true(ovs_list_is_empty(&changes));

    /* A different match or priority is a different flow. */
    add_str(&t, "table=1,priority=200,ip,nw_dst=10.0.0.0/16,"
            "actions=conjunction(3,2/2)");
    add_str(&t, "table=1,priority=201,ip,nw_dst=10.0.0.0/8,"
            "actions=conjunction(3,2/2)");
    assert_int_equal(flow_table_count(&t), 3);
    assert_int_equal(flow_table_n_conflicts(&t), 0);

    flow_table_destroy(&t2);
    flow_table_destroy(&t);
}

static void
test_conflicts(void **state)
{
    struct flow_table t;
    flow_table_init(&t);

    add_str(&t, "table=0,priority=100,in_port=1,actions=output:2");
    /* A different action for the same key: the first flow stays. */
    add_str(&t, "table=0,priority=100,in_port=1,actions=output:3");
    assert_int_equal(flow_table_count(&t), 1);
    assert_int_equal(flow_table_n_conflicts(&t), 1);
    struct flow_entry *f = find_str(&t, "table=0,priority=100,in_port=1");
    assert_string_equal(actions_str(f), "output:2");

    /* An exact duplicate is harmless. */
    add_str(&t, "table=0,priority=100,in_port=1,actions=output:2");
    assert_int_equal(flow_table_n_conflicts(&t), 1);

    /* Conjunction and non-conjunction flows with the same key conflict,
     * whichever comes first, and so does a conjunction with a drop. */
    add_str(&t, "table=0,priority=100,in_port=1,actions=conjunction(1,1/2)");
    assert_int_equal(flow_table_n_conflicts(&t), 2);
    add_str(&t, "table=0,priority=50,ip,actions=conjunction(1,1/2)");
    add_str(&t, "table=0,priority=50,ip,actions=output:4");
    add_str(&t, "table=0,priority=50,ip,actions=drop");
    assert_int_equal(flow_table_n_conflicts(&t), 4);
    f = find_str(&t, "table=0,priority=50,ip");
    assert_string_equal(actions_str(f), "conjunction(1,1/2)");
    add_str(&t, "table=0,priority=40,ip,actions=drop");
    add_str(&t, "table=0,priority=40,ip,actions=conjunction(1,1/2)");
    assert_int_equal(flow_table_n_conflicts(&t), 5);
    assert_int_equal(flow_table_count(&t), 3);

    /* clear() resets the count. */
    flow_table_clear(&t);
    assert_int_equal(flow_table_n_conflicts(&t), 0);
    flow_table_destroy(&t);
}

/* Checks that 'changes' are every DELETE_STRICT first, then the rest, and
 * that they are, as "COMMAND FLOW" strings with COMMAND one of "add",
 * "modify" and "delete", exactly the 'n' strings in 'expected' (in any order
 * within each group).  Frees 'changes'. */
static void
check_changes(struct ovs_list *changes, const char *expected[], size_t n)
{
    struct flow_change *c;
    bool seen_non_delete = false;
    size_t i = 0;
    char **got = xcalloc(ovs_list_size(changes) + 1, sizeof *got);

    LIST_FOR_EACH (c, list_node, changes) {
        struct ds s = DS_EMPTY_INITIALIZER;

        switch ((int) c->command) {
        case OFPFC_ADD:
            ds_put_cstr(&s, "add ");
            seen_non_delete = true;
            assert_null(c->old);
            break;
        case OFPFC_MODIFY_STRICT:
            ds_put_cstr(&s, "modify ");
            seen_non_delete = true;
            assert_non_null(c->old);
            assert_true(c->old != c->flow);
            break;
        case OFPFC_DELETE_STRICT:
            ds_put_cstr(&s, "delete ");
            if (seen_non_delete) {
                fail_msg("a delete after an add or a modify");
            }
            assert_null(c->old);
            break;
        default:
            fail_msg("unexpected command %d", (int) c->command);
        }
        flow_entry_format(c->flow, &s);
        got[i++] = ds_steal_cstr(&s);
    }

    for (size_t j = 0; j < n; j++) {
        bool found = false;
        for (size_t k = 0; k < i; k++) {
            if (got[k] && !strcmp(got[k], expected[j])) {
                free(got[k]);
                got[k] = NULL;
                found = true;
                break;
            }
        }
        if (!found) {
            fail_msg("missing change: %s", expected[j]);
        }
    }
    for (size_t k = 0; k < i; k++) {
        if (got[k]) {
            fail_msg("unexpected change: %s", got[k]);
        }
    }
    free(got);
    flow_changes_destroy(changes);
    assert_true(ovs_list_is_empty(changes));
}

static void
test_diff(void **state)
{
    struct flow_table installed, desired;
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);

    flow_table_init(&installed);
    flow_table_init(&desired);

    /* Nothing to do for two empty tables. */
    flow_table_diff(&desired, &installed, &changes);
    assert_true(ovs_list_is_empty(&changes));

    add_str(&installed, "table=0,priority=10,cookie=0x1,in_port=1,"
            "actions=output:2");
    add_str(&installed, "table=0,priority=10,cookie=0x1,in_port=2,"
            "actions=output:1");
    add_str(&installed, "table=1,priority=5,cookie=0x2,ip,"
            "actions=output:3");
    add_str(&installed, "table=1,priority=5,cookie=0x2,arp,"
            "actions=drop");
    add_str(&installed, "table=2,priority=7,cookie=0x3,tcp,"
            "actions=conjunction(1,1/2)");

    /* Everything added into an empty table. */
    flow_table_diff(&installed, &desired, &changes);
    check_changes(&changes, (const char *[]) {
        "add table=0, priority=10, cookie=0x1, in_port=1 actions=output:2",
        "add table=0, priority=10, cookie=0x1, in_port=2 actions=output:1",
        "add table=1, priority=5, cookie=0x2, ip actions=output:3",
        "add table=1, priority=5, cookie=0x2, arp actions=drop",
        "add table=2, priority=7, cookie=0x3, tcp "
        "actions=conjunction(1,1/2)",
    }, 5);

    /* Everything deleted for an empty desired table. */
    flow_table_diff(&desired, &installed, &changes);
    check_changes(&changes, (const char *[]) {
        "delete table=0, priority=10, cookie=0x1, in_port=1 actions=output:2",
        "delete table=0, priority=10, cookie=0x1, in_port=2 actions=output:1",
        "delete table=1, priority=5, cookie=0x2, ip actions=output:3",
        "delete table=1, priority=5, cookie=0x2, arp actions=drop",
        "delete table=2, priority=7, cookie=0x3, tcp "
        "actions=conjunction(1,1/2)",
    }, 5);

    /* Equal tables: no change. */
    flow_table_copy(&desired, &installed);
    flow_table_diff(&desired, &installed, &changes);
    assert_true(ovs_list_is_empty(&changes));

    /* Same flows built in another order: no change either. */
    flow_table_clear(&desired);
    add_str(&desired, "table=2,priority=7,cookie=0x3,tcp,"
            "actions=conjunction(1,1/2)");
    add_str(&desired, "table=1,priority=5,cookie=0x2,arp,actions=drop");
    add_str(&desired, "table=1,priority=5,cookie=0x2,ip,actions=output:3");
    add_str(&desired, "table=0,priority=10,cookie=0x1,in_port=2,"
            "actions=output:1");
    add_str(&desired, "table=0,priority=10,cookie=0x1,in_port=1,"
            "actions=output:2");
    flow_table_diff(&desired, &installed, &changes);
    assert_true(ovs_list_is_empty(&changes));

    /* Now: in_port=1 unchanged; in_port=2 gone; ip with other actions; arp
     * with another cookie; the conjunction flow with one more conjunction;
     * a flow moved from priority 5 to 6; a new flow. */
    flow_table_clear(&desired);
    add_str(&desired, "table=0,priority=10,cookie=0x1,in_port=1,"
            "actions=output:2");
    add_str(&desired, "table=1,priority=5,cookie=0x2,ip,actions=output:4");
    add_str(&desired, "table=1,priority=5,cookie=0x9,arp,actions=drop");
    add_str(&desired, "table=2,priority=7,cookie=0x3,tcp,"
            "actions=conjunction(1,1/2)");
    add_str(&desired, "table=2,priority=7,cookie=0x3,tcp,"
            "actions=conjunction(2,1/2)");
    add_str(&desired, "table=0,priority=11,cookie=0x1,in_port=2,"
            "actions=output:1");
    add_str(&desired, "table=3,priority=1,cookie=0x4,udp,tp_dst=53,"
            "actions=output:5");
    flow_table_diff(&desired, &installed, &changes);
    check_changes(&changes, (const char *[]) {
        "delete table=0, priority=10, cookie=0x1, in_port=2 actions=output:1",
        "modify table=1, priority=5, cookie=0x2, ip actions=output:4",
        "modify table=1, priority=5, cookie=0x9, arp actions=drop",
        "modify table=2, priority=7, cookie=0x3, tcp "
        "actions=conjunction(1,1/2),conjunction(2,1/2)",
        "add table=0, priority=11, cookie=0x1, in_port=2 actions=output:1",
        "add table=3, priority=1, cookie=0x4, udp,tp_dst=53 "
        "actions=output:5",
    }, 6);

    /* A modify's 'old' is the installed flow. */
    flow_table_diff(&desired, &installed, &changes);
    struct flow_change *c;
    LIST_FOR_EACH (c, list_node, &changes) {
        if (c->command == OFPFC_MODIFY_STRICT) {
            assert_ptr_equal(c->old,
                             flow_table_find(&installed, c->flow->table_id,
                                             c->flow->priority,
                                             &c->flow->match));
            assert_ptr_equal(c->flow,
                             flow_table_find(&desired, c->flow->table_id,
                                             c->flow->priority,
                                             &c->flow->match));
        } else if (c->command == OFPFC_DELETE_STRICT) {
            assert_ptr_equal(c->flow,
                             flow_table_find(&installed, c->flow->table_id,
                                             c->flow->priority,
                                             &c->flow->match));
        }
    }
    flow_changes_destroy(&changes);

    flow_table_destroy(&installed);
    flow_table_destroy(&desired);
}

static void
test_copy_swap(void **state)
{
    struct flow_table a, b;
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);

    flow_table_init(&a);
    flow_table_init(&b);
    for (int i = 0; i < 100; i++) {
        char s[128];
        snprintf(s, sizeof s, "table=%d,priority=%d,cookie=%#x,ip,"
                 "nw_dst=10.0.%d.0/24,actions=output:%d",
                 i % 4, 100 + i % 3, i, i, i + 1);
        add_str(&a, s);
    }
    add_str(&a, "table=0,priority=100,ip,nw_dst=10.0.0.0/24,actions=drop");
    assert_int_equal(flow_table_count(&a), 100);
    assert_int_equal(flow_table_n_conflicts(&a), 1);

    /* A copy into a non-empty table replaces its flows. */
    add_str(&b, "table=9,priority=1,actions=drop");
    flow_table_copy(&b, &a);
    assert_int_equal(flow_table_count(&b), 100);
    assert_int_equal(flow_table_n_conflicts(&b), 1);
    assert_null(find_str(&b, "table=9,priority=1"));
    flow_table_diff(&a, &b, &changes);
    assert_true(ovs_list_is_empty(&changes));
    flow_table_diff(&b, &a, &changes);
    assert_true(ovs_list_is_empty(&changes));

    /* The copy is deep: it outlives the original's flows. */
    struct flow_entry *fa = find_str(&a, "table=1,priority=101,ip,"
                                     "nw_dst=10.0.1.0/24");
    struct flow_entry *fb = find_str(&b, "table=1,priority=101,ip,"
                                     "nw_dst=10.0.1.0/24");
    assert_non_null(fa);
    assert_non_null(fb);
    assert_ptr_not_equal(fa, fb);
    assert_ptr_not_equal(fa->ofpacts, fb->ofpacts);
    flow_table_clear(&a);
    assert_int_equal(flow_table_count(&b), 100);
    assert_string_equal(actions_str(fb), "output:2");
    assert_int_equal(fb->cookie, 1);

    /* Swap. */
    add_str(&a, "table=5,priority=5,actions=drop");
    flow_table_swap(&a, &b);
    assert_int_equal(flow_table_count(&a), 100);
    assert_int_equal(flow_table_n_conflicts(&a), 1);
    assert_int_equal(flow_table_count(&b), 1);
    assert_int_equal(flow_table_n_conflicts(&b), 0);
    assert_ptr_equal(find_str(&a, "table=1,priority=101,ip,"
                              "nw_dst=10.0.1.0/24"), fb);
    assert_non_null(find_str(&b, "table=5,priority=5"));

    /* A swapped table still works as a hash table. */
    add_str(&b, "table=5,priority=6,actions=drop");
    assert_int_equal(flow_table_count(&b), 2);
    add_str(&a, "table=1,priority=101,ip,nw_dst=10.0.1.0/24,"
            "actions=output:2");
    assert_int_equal(flow_table_count(&a), 100);

    flow_table_destroy(&a);
    flow_table_destroy(&b);
}

/* Appends to 'ofpacts' set_field:0x2a->reg0 inside ct(commit,exec(...))
 * and at the top level, built with ofpact_put_set_field() as the pipeline
 * builds them. */
static void
put_set_fields(struct ofpbuf *ofpacts)
{
    const struct mf_field *reg0 = mf_from_id(MFF_REG0);
    ovs_be32 value = htonl(42);

    size_t ofs = ofpacts->size;
    struct ofpact_conntrack *ct = ofpact_put_CT(ofpacts);
    ct->flags = NX_CT_F_COMMIT;
    ct->recirc_table = NX_CT_RECIRC_NONE;
    ct->zone_src.field = NULL;
    ofpact_put_set_field(ofpacts, reg0, &value, NULL);
    ct = ofpbuf_at_assert(ofpacts, ofs, sizeof *ct);
    ofpacts->header = ct;
    ofpact_finish_CT(ofpacts, &ct);

    ofpact_put_set_field(ofpacts, reg0, &value, NULL);
}

/* Equal actions built in buffers with different garbage in them compare
 * equal once in a table (OVS leaves set_field padding uninitialized). */
static void
test_set_field_padding(void **state)
{
    uint64_t stub[1024 / 8];
    struct ofpbuf a, b;

    memset(stub, 0xab, sizeof stub);
    ofpbuf_use_stub(&a, stub, sizeof stub);
    put_set_fields(&a);
    ofpbuf_init(&b, 0);
    memset(ofpbuf_put_uninit(&b, 512), 0, 512);
    ofpbuf_clear(&b);
    put_set_fields(&b);

    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpact_format_params fp = { .s = &s };
    ofpacts_format(a.data, a.size, &fp);
    assert_string_equal(ds_cstr(&s), "ct(commit,exec(set_field:0x2a->reg0)),"
                        "set_field:0x2a->reg0");
    ds_destroy(&s);

    struct match match;
    match_init_catchall(&match);
    match_set_reg(&match, 1, 7);

    struct flow_table t1, t2;
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);
    flow_table_init(&t1);
    flow_table_init(&t2);
    flow_table_add(&t1, 0, 1, 0, &match, a.data, a.size);
    flow_table_add(&t2, 0, 1, 0, &match, b.data, b.size);
    flow_table_diff(&t1, &t2, &changes);
    assert_true(ovs_list_is_empty(&changes));

    /* Nor is the same flow added twice a conflict. */
    flow_table_add(&t1, 0, 1, 0, &match, b.data, b.size);
    assert_int_equal(flow_table_n_conflicts(&t1), 0);

    flow_table_destroy(&t1);
    flow_table_destroy(&t2);
    ofpbuf_uninit(&a);
    ofpbuf_uninit(&b);
}

/* Fills 'installed' and 'desired' with flows that differ in every way a
 * diff knows. */
static void
fill_old_new(struct flow_table *installed, struct flow_table *desired)
{
    add_str(installed, "table=0,priority=10,cookie=0x1,in_port=1,"
            "actions=output:2");
    add_str(installed, "table=0,priority=10,cookie=0x1,in_port=2,"
            "actions=output:1");
    add_str(installed, "table=1,priority=5,cookie=0x2,ip,actions=output:3");
    add_str(installed, "table=1,priority=5,cookie=0x2,arp,actions=drop");

    add_str(desired, "table=0,priority=10,cookie=0x1,in_port=1,"
            "actions=output:2");
    add_str(desired, "table=1,priority=5,cookie=0x2,ip,actions=output:4");
    add_str(desired, "table=1,priority=5,cookie=0x9,arp,actions=drop");
    add_str(desired, "table=3,priority=1,cookie=0x4,udp,actions=output:5");
}

static void
test_detach_apply(void **state)
{
    struct flow_table installed, desired, saved, store;
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);

    flow_table_init(&installed);
    flow_table_init(&desired);
    flow_table_init(&saved);
    flow_table_init(&store);

    fill_old_new(&installed, &desired);
    flow_table_copy(&saved, &desired);

    flow_table_diff(&desired, &installed, &changes);
    assert_int_equal(ovs_list_size(&changes), 4);
    flow_changes_detach(&changes, &store);
    /* The adds and modifies now borrow from 'store', the deletes still
     * from 'installed'. */
    assert_int_equal(flow_table_count(&store), 3);
    struct flow_change *c;
    LIST_FOR_EACH (c, list_node, &changes) {
        const struct flow_table *owner = (c->command == OFPFC_DELETE_STRICT
                                          ? &installed : &store);
        assert_ptr_equal(c->flow,
                         flow_table_find(owner, c->flow->table_id,
                                         c->flow->priority, &c->flow->match));
    }

    /* The desired table may change meanwhile. */
    flow_table_clear(&desired);
    add_str(&desired, "table=7,priority=7,actions=drop");

    flow_table_apply(&installed, &store, &changes);
    assert_true(ovs_list_is_empty(&changes));
    assert_int_equal(flow_table_count(&store), 0);
    assert_int_equal(flow_table_count(&installed), 4);
    flow_table_diff(&saved, &installed, &changes);
    assert_true(ovs_list_is_empty(&changes));
    flow_table_diff(&installed, &saved, &changes);
    assert_true(ovs_list_is_empty(&changes));

    /* Into an empty table (what ofctrl does after a reconnection). */
    flow_table_clear(&installed);
    flow_table_diff(&saved, &installed, &changes);
    flow_changes_detach(&changes, &store);
    flow_table_apply(&installed, &store, &changes);
    assert_int_equal(flow_table_count(&installed), 4);
    flow_table_diff(&saved, &installed, &changes);
    assert_true(ovs_list_is_empty(&changes));

    /* Nothing to apply. */
    flow_table_apply(&installed, &store, &changes);
    assert_int_equal(flow_table_count(&installed), 4);

    flow_table_destroy(&installed);
    flow_table_destroy(&desired);
    flow_table_destroy(&saved);
    flow_table_destroy(&store);
}

/* Encodes 'fm' as OpenFlow 1.5 and decodes it into 'out' (whose actions go
 * into 'ofpacts'). */
static void
round_trip(const struct ofputil_flow_mod *fm, struct ofputil_flow_mod *out,
           struct ofpbuf *ofpacts)
{
    struct ofpbuf *msg = ofputil_encode_flow_mod(fm, OFPUTIL_P_OF15_OXM);
    enum ofperr error = ofputil_decode_flow_mod(out, msg->data,
                                                OFPUTIL_P_OF15_OXM, NULL,
                                                NULL, ofpacts, OFPP_MAX,
                                                255);
    assert_int_equal(error, 0);
    ofpbuf_delete(msg);
}

static void
test_flow_mod(void **state)
{
    struct flow_table installed, desired;
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);

    flow_table_init(&installed);
    flow_table_init(&desired);
    add_str(&installed, "table=1,priority=10,cookie=0x1,ip,"
            "actions=output:1");
    add_str(&installed, "table=1,priority=20,cookie=0x2,arp,"
            "actions=output:1");
    add_str(&installed, "table=2,priority=30,cookie=0x3,tcp,"
            "actions=output:1");
    /* ip: actions change; arp: cookie changes; tcp: deleted; udp: new. */
    add_str(&desired, "table=1,priority=10,cookie=0x1,ip,actions=output:2");
    add_str(&desired, "table=1,priority=20,cookie=0x7,arp,"
            "actions=output:1");
    add_str(&desired, "table=3,priority=40,cookie=0x4,udp,"
            "actions=goto_table:4");
    flow_table_diff(&desired, &installed, &changes);
    assert_int_equal(ovs_list_size(&changes), 4);

    struct flow_change *c;
    int n_seen = 0;
    LIST_FOR_EACH (c, list_node, &changes) {
        const struct flow_entry *f = c->flow;
        struct ofputil_flow_mod fm, dec;
        struct ofpbuf ofpacts;

        flow_change_to_flow_mod(c, &fm);

        /* Common to every change. */
        assert_int_equal(fm.table_id, f->table_id);
        assert_int_equal(fm.priority, f->priority);
        assert_true(minimatch_equal(&fm.match, &f->match));
        assert_int_equal(fm.cookie_mask, 0);
        assert_int_equal(fm.out_port, OFPP_ANY);
        assert_int_equal(fm.out_group, OFPG_ANY);
        assert_int_equal(fm.buffer_id, UINT32_MAX);
        assert_int_equal(fm.flags, 0);
        assert_int_equal(fm.idle_timeout, 0);
        assert_int_equal(fm.hard_timeout, 0);

        ofpbuf_init(&ofpacts, 0);
        round_trip(&fm, &dec, &ofpacts);
        assert_int_equal(dec.table_id, f->table_id);
        assert_int_equal(dec.priority, f->priority);
        assert_true(minimatch_equal(&dec.match, &f->match));
        assert_int_equal(dec.command, fm.command);
        assert_int_equal(dec.cookie_mask, 0);

        if (f->table_id == 1 && f->priority == 10) {
            /* Actions changed, same cookie: a modify_strict. */
            assert_int_equal(c->command, OFPFC_MODIFY_STRICT);
            assert_int_equal(fm.command, OFPFC_MODIFY_STRICT);
            assert_ptr_equal(fm.ofpacts, f->ofpacts);
            assert_int_equal(fm.ofpacts_len, f->ofpacts_len);
            assert_true(ofpacts_equal(dec.ofpacts, dec.ofpacts_len,
                                      f->ofpacts, f->ofpacts_len));
        } else if (f->table_id == 1) {
            /* Cookie changed: an add, which replaces it cookie and all. */
            assert_int_equal(c->command, OFPFC_MODIFY_STRICT);
            assert_int_equal(fm.command, OFPFC_ADD);
            assert_int_equal(ntohll(fm.new_cookie), 0x7);
            assert_int_equal(ntohll(dec.new_cookie), 0x7);
            assert_true(ofpacts_equal(dec.ofpacts, dec.ofpacts_len,
                                      f->ofpacts, f->ofpacts_len));
        } else if (f->table_id == 2) {
            /* A delete_strict of the installed flow, no actions. */
            assert_int_equal(c->command, OFPFC_DELETE_STRICT);
            assert_int_equal(fm.command, OFPFC_DELETE_STRICT);
            assert_int_equal(fm.ofpacts_len, 0);
            assert_int_equal(dec.ofpacts_len, 0);
            assert_int_equal(dec.out_port, OFPP_ANY);
            assert_int_equal(dec.out_group, OFPG_ANY);
        } else {
            /* An add with the desired cookie. */
            assert_int_equal(c->command, OFPFC_ADD);
            assert_int_equal(fm.command, OFPFC_ADD);
            assert_int_equal(ntohll(fm.new_cookie), 0x4);
            assert_int_equal(ntohll(dec.new_cookie), 0x4);
            assert_true(ofpacts_equal(dec.ofpacts, dec.ofpacts_len,
                                      f->ofpacts, f->ofpacts_len));
        }
        n_seen++;
        minimatch_destroy(&dec.match);
        ofpbuf_uninit(&ofpacts);
    }
    assert_int_equal(n_seen, 4);
    flow_changes_destroy(&changes);

    flow_table_destroy(&installed);
    flow_table_destroy(&desired);
}

/* Returns the flow_mod that adds a flow (table 6, priority 500, reg2=1,
 * ip, nw_dst=10.0.0.0/8) with 'n' conjunction() actions, or NULL with the
 * error in '*errorp'. */
static struct ofpbuf *
encode_conjunctive(size_t n, char **errorp)
{
    struct flow_table t;
    struct ofpbuf ofpacts;
    struct match m;
    struct ovs_list changes = OVS_LIST_INITIALIZER(&changes);

    flow_table_init(&t);
    ofpbuf_init(&ofpacts, 0);
    for (size_t i = 0; i < n; i++) {
        struct ofpact_conjunction *conj = ofpact_put_CONJUNCTION(&ofpacts);
        conj->id = 0x10000 + i;
        conj->clause = 1;
        conj->n_clauses = 3;
    }
    match_init_catchall(&m);
    match_set_reg(&m, 2, 1);
    match_set_dl_type(&m, htons(ETH_TYPE_IP));
    match_set_nw_dst_masked(&m, htonl(0x0a000000), htonl(0xff000000));
    flow_table_add(&t, 6, 500, 0x300000100000000ULL, &m, ofpacts.data,
                   ofpacts.size);

    struct flow_table empty;
    flow_table_init(&empty);
    flow_table_diff(&t, &empty, &changes);
    assert_int_equal(ovs_list_size(&changes), 1);
    struct flow_change *c = CONTAINER_OF(ovs_list_front(&changes),
                                         struct flow_change, list_node);
    struct ofpbuf *msg = flow_change_encode(c, OFPUTIL_P_OF15_OXM, errorp);

    flow_changes_destroy(&changes);
    flow_table_destroy(&empty);
    flow_table_destroy(&t);
    ofpbuf_uninit(&ofpacts);
    return msg;
}

/* A flow whose flow_mod would not fit in an OpenFlow message inside a
 * bundle-add is refused with an error naming it, never encoded with a
 * wrapped length; one action fewer fits. */
static void
test_encode_refuses_too_large(void **state OVS_UNUSED)
{
    char *error;

    /* Each conjunction() action takes 16 bytes. */
    struct ofpbuf *one = encode_conjunctive(1, &error);
    assert_non_null(one);
    assert_null(error);
    size_t fixed = one->size - 16;
    ofpbuf_delete(one);
    size_t n_max = (FLOW_MOD_MAX_LEN - fixed) / 16;

    /* Exactly the most that fits. */
    struct ofpbuf *msg = encode_conjunctive(n_max, &error);
    assert_non_null(msg);
    assert_null(error);
    assert_true(msg->size <= FLOW_MOD_MAX_LEN);
    assert_true(msg->size + 16 > FLOW_MOD_MAX_LEN);
    const struct ofp_header *oh = msg->data;
    assert_int_equal(ntohs(oh->length), msg->size);
    ofpbuf_delete(msg);

    /* One more, and the 10,000 (which wrapped to 1,808). */
    size_t too_many[] = { n_max + 1, 10000 };
    for (size_t i = 0; i < ARRAY_SIZE(too_many); i++) {
        assert_null(encode_conjunctive(too_many[i], &error));
        assert_non_null(error);
        assert_non_null(strstr(error, "flow too large for OpenFlow"));
        assert_non_null(strstr(error, "table=6, priority=500, "
                               "cookie=0x300000100000000, "));
        assert_non_null(strstr(error, "nw_dst=10.0.0.0/8"));
        char *actions = xasprintf("with %"PRIuSIZE" actions", too_many[i]);
        assert_non_null(strstr(error, actions));
        free(actions);
        free(error);
    }
}

/* ---- flow-units ---- */

/* Sets unit ('kind', 'id') of 'fu' to the flows in 'flows' (a
 * NULL-terminated list in add-flow syntax), signature 'sig'. */
static void
set_unit(struct flow_units *fu, uint8_t kind, uint64_t id, const char *sig,
         ...)
{
    struct flow_table t;
    va_list args;
    const char *s;

    flow_table_init(&t);
    va_start(args, sig);
    while ((s = va_arg(args, const char *)) != NULL) {
        add_str(&t, s);
    }
    va_end(args);
    flow_units_set(fu, kind, id, sig, strlen(sig), &t);
    assert_int_equal(flow_table_count(&t), 0);
    flow_table_destroy(&t);
}

static const char *
desired_actions(const struct flow_units *fu, const char *key)
{
    const struct flow_entry *f = find_str(flow_units_table(fu), key);
    return f ? actions_str(f) : "(none)";
}

/* Units' flows make one table: where two units make the same key, the
 * conjunctive ones merge, and otherwise the first in unit order wins
 * (a conflict, unless the kind allows overlaps), whatever order they came
 * in; a unit not named in a run goes with its flows, and the others'
 * take its place. */
static void
test_units_union(void **state OVS_UNUSED)
{
    struct flow_units *fu = flow_units_create();
    struct flow_units_stats st;
    const char *conj = "table=6,priority=500,reg2=1";
    const char *port = "table=7,priority=100,tcp,tp_dst=80";
    const char *pol = "table=7,priority=100,tcp,tp_dst=81";

    flow_units_allow_overlap(fu, 5);
    flow_units_begin(fu);
    set_unit(fu, 3, 2, "b", "table=7,priority=100,cookie=0x32,tcp,tp_dst=80,"
             "actions=output:2", (char *) NULL);
    set_unit(fu, 1, 1, "a", "table=6,priority=500,cookie=0x11,reg2=1,"
             "actions=conjunction(1,1/2)",
             "table=0,priority=100,cookie=0x11,in_port=1,actions=drop",
             (char *) NULL);
    set_unit(fu, 2, 7, "c", "table=6,priority=500,cookie=0x27,reg2=1,"
             "actions=conjunction(2,1/2)", (char *) NULL);
    set_unit(fu, 3, 1, "d", "table=7,priority=100,cookie=0x31,tcp,tp_dst=80,"
             "actions=output:1", (char *) NULL);
    set_unit(fu, 5, 2, "e", "table=7,priority=100,cookie=0x52,tcp,tp_dst=81,"
             "actions=output:2", (char *) NULL);
    set_unit(fu, 5, 1, "f", "table=7,priority=100,cookie=0x51,tcp,tp_dst=81,"
             "actions=output:1", (char *) NULL);
    flow_units_end(fu);

    assert_int_equal(flow_table_count(flow_units_table(fu)), 4);
    assert_string_equal(desired_actions(fu, conj),
                        "conjunction(1,1/2),conjunction(2,1/2)");
    assert_int_equal(find_str(flow_units_table(fu), conj)->cookie, 0x11);
    assert_string_equal(desired_actions(fu, port), "output:1");
    assert_int_equal(find_str(flow_units_table(fu), port)->cookie, 0x31);
    assert_string_equal(desired_actions(fu, pol), "output:1");
    assert_int_equal(flow_units_n_conflicts(fu), 1);    /* Port 80 only. */
    flow_units_get_stats(fu, &st);
    assert_int_equal(st.n_units, 6);
    assert_int_equal(st.n_computed, 6);

    /* Unchanged signatures are recognized; a changed one is not. */
    flow_units_begin(fu);
    assert_true(flow_units_unchanged(fu, 1, 1, "a", 1));
    assert_true(flow_units_unchanged(fu, 3, 2, "b", 1));
    assert_false(flow_units_unchanged(fu, 5, 2, "x", 1));
    assert_false(flow_units_unchanged(fu, 4, 1, "a", 1));
    /* Unit 5/2 now makes nothing; 2/7 and 3/1 and 5/1 are not named. */
    set_unit(fu, 5, 2, "x", (char *) NULL);
    flow_units_end(fu);

    flow_units_get_stats(fu, &st);
    assert_int_equal(st.n_units, 3);
    assert_int_equal(st.n_computed, 1);
    assert_int_equal(st.n_removed, 3);
    /* The conjunction lost 2's action, port 80 went to 3/2, port 81 is
     * gone. */
    assert_int_equal(st.n_flows_changed, 3);
    assert_string_equal(desired_actions(fu, conj), "conjunction(1,1/2)");
    assert_string_equal(desired_actions(fu, port), "output:2");
    assert_int_equal(find_str(flow_units_table(fu), port)->cookie, 0x32);
    assert_null(find_str(flow_units_table(fu), pol));
    assert_int_equal(flow_units_n_conflicts(fu), 0);
    assert_int_equal(flow_table_count(flow_units_table(fu)), 3);

    /* A unit whose flows stay the same changes nothing in the table. */
    flow_units_begin(fu);
    set_unit(fu, 1, 1, "a2", "table=6,priority=500,cookie=0x11,reg2=1,"
             "actions=conjunction(1,1/2)",
             "table=0,priority=100,cookie=0x11,in_port=1,actions=drop",
             (char *) NULL);
    assert_true(flow_units_unchanged(fu, 3, 2, "b", 1));
    flow_units_end(fu);
    flow_units_get_stats(fu, &st);
    assert_int_equal(st.n_computed, 1);
    assert_int_equal(st.n_flows_changed, 0);

    /* A flow that changes its actions in place is one change. */
    const char *drop = "table=0,priority=100,in_port=1";
    flow_units_begin(fu);
    set_unit(fu, 1, 1, "a3", "table=6,priority=500,cookie=0x11,reg2=1,"
             "actions=conjunction(1,1/2)",
             "table=0,priority=100,cookie=0x11,in_port=1,actions=output:3",
             (char *) NULL);
    assert_true(flow_units_unchanged(fu, 3, 2, "b", 1));
    flow_units_end(fu);
    flow_units_get_stats(fu, &st);
    assert_int_equal(st.n_flows_changed, 1);
    assert_string_equal(desired_actions(fu, drop), "output:3");
    assert_int_equal(flow_table_count(flow_units_table(fu)), 3);

    flow_units_destroy(fu);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find),
        cmocka_unit_test(test_conjunction_merge),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_set_field_padding),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_copy_swap),
        cmocka_unit_test(test_detach_apply),
        cmocka_unit_test(test_flow_mod),
        cmocka_unit_test(test_encode_refuses_too_large),
        cmocka_unit_test(test_units_union),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
