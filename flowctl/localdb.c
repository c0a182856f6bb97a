/*
 * localdb: flowctl's adapter to the local OVSDB.  See localdb.h.
 */

#include <config.h>

#include "localdb.h"

#include <net/if.h>
#include <string.h>

#include "cf-types.h"
#include "cfnet.h"
#include "flowctl-config.h"
#include "hash.h"
#include "ipv4.h"
#include "metrics.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "pipeline.h"
#include "smap.h"
#include "util.h"
#include "uuid.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(localdb);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* The containers whose flows one desired table holds: each by its
 * Interface row and the OpenFlow port its flows match on.  A row that is
 * deleted and made again (DEL and a new ADD of the same handle), or whose
 * port changes, is another container as far as these sets go.  Hashed by
 * the row's UUID. */
struct carried {
    struct hmap_node node;
    struct uuid iface;
    uint32_t ofport;
};

/* A put that OVS has not acknowledged yet, and the containers its table
 * held. */
struct put_record {
    struct ovs_list node;               /* In localdb's 'puts', oldest
                                         * first. */
    uint64_t seqno;
    struct hmap carried;                /* "struct carried"s. */
};

struct localdb {
    struct ovsdb_idl *idl;
    const struct flowctl_config *cfg;
    unsigned int mtu;
    char subnet[IPV4_CIDR_LEN];         /* "a.b.c.d/n"; "" until known. */
    char mtu_s[16];
    uint8_t gw_mac[6];
    uint32_t gw_ofport;
    uint32_t tunnel_ofport;
    unsigned int last_seqno;            /* IDL seqno of the last rebuild. */
    uint64_t model_digest;              /* model_digest() of it. */

    /* cf-installed accounting (see localdb_note_desired()): the containers of
     * the desired table last computed, those of each put in flight, and
     * those of the last put OVS acknowledged. */
    struct hmap desired;                /* "struct carried"s. */
    struct ovs_list puts;               /* "struct put_record"s. */
    struct hmap acked;                  /* "struct carried"s... */
    uint64_t acked_seqno;               /* ...of this put. */
    uint64_t acked_gen;                 /* Bumped when 'acked' changes. */
    unsigned int marked_idl_seqno;      /* State localdb_mark_installed() */
    uint64_t marked_acked_gen;          /* last worked from. */

    /* Install latency: the containers' ports not marked installed yet,
     * since when (see localdb_get_install_latency()). */
    struct hmap waiting;                /* "struct waiting"s. */
    unsigned int waiting_pass;
    struct metrics_histogram install_latency;
};

/* A container's port seen without cf-installed. */
struct waiting {
    struct hmap_node node;              /* In localdb's 'waiting'. */
    struct uuid iface;
    long long int since;                /* Monotonic msec. */
    unsigned int pass;                  /* Last seen in this pass. */
    bool observed;                      /* Marked: its latency counted
                                         * (the mark shows in the IDL
                                         * later, and then it goes). */
};

static void carried_clear(struct hmap *);
static void put_record_destroy(struct put_record *);

void
localdb_register_idl(struct ovsdb_idl *idl)
{
    ovsdb_idl_add_table(idl, &ovsrec_table_open_vswitch);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_bridges);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_other_config);

    ovsdb_idl_add_table(idl, &ovsrec_table_bridge);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_datapath_type);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_fail_mode);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_protocols);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_flow_tables);

    ovsdb_idl_add_table(idl, &ovsrec_table_flow_table);
    ovsdb_idl_add_column(idl, &ovsrec_flow_table_col_name);

    ovsdb_idl_add_table(idl, &ovsrec_table_port);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_interfaces);

    ovsdb_idl_add_table(idl, &ovsrec_table_interface);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_type);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_mac);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_mtu_request);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_options);
}

struct localdb *
localdb_create(struct ovsdb_idl *idl, const struct flowctl_config *cfg,
            unsigned int mtu)
{
    struct localdb *db = xzalloc(sizeof *db);

    db->idl = idl;
    db->cfg = cfg;
    db->mtu = mtu;
    snprintf(db->mtu_s, sizeof db->mtu_s, "%u", mtu);
    hmap_init(&db->desired);
    ovs_list_init(&db->puts);
    hmap_init(&db->acked);
    hmap_init(&db->waiting);
    if (cfg->cell.subnet.plen) {
        localdb_set_subnet(db, &cfg->cell.subnet);
    }
    return db;
}

void
localdb_set_subnet(struct localdb *db, const struct ipv4_cidr *subnet)
{
    ipv4_cidr_format(subnet, db->subnet);
    cfnet_host_mac(subnet->addr + 1, db->gw_mac);
}

void
localdb_destroy(struct localdb *db)
{
    if (db) {
        struct put_record *put;
        LIST_FOR_EACH_POP (put, node, &db->puts) {
            put_record_destroy(put);
        }
        carried_clear(&db->desired);
        hmap_destroy(&db->desired);
        carried_clear(&db->acked);
        hmap_destroy(&db->acked);
        struct waiting *w;
        HMAP_FOR_EACH_POP (w, node, &db->waiting) {
            free(w);
        }
        hmap_destroy(&db->waiting);
        free(db);
    }
}

static const struct ovsrec_bridge *
find_bridge(const struct localdb *db)
{
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, db->idl) {
        if (!strcmp(br->name, db->cfg->bridge)) {
            return br;
        }
    }
    return NULL;
}

static void
carried_clear(struct hmap *set)
{
    struct carried *c;
    HMAP_FOR_EACH_POP (c, node, set) {
        free(c);
    }
}

static void
carried_add(struct hmap *set, const struct uuid *iface, uint32_t ofport)
{
    struct carried *c = xmalloc(sizeof *c);
    c->iface = *iface;
    c->ofport = ofport;
    hmap_insert(set, &c->node, uuid_hash(iface));
}

/* Moves the contents of 'src' into 'dst' (cleared first), leaving 'src'
 * empty. */
static void
carried_move(struct hmap *dst, struct hmap *src)
{
    carried_clear(dst);
    hmap_swap(dst, src);
}

/* Replaces 'dst''s contents with a copy of 'src''s. */
static void
carried_copy(struct hmap *dst, const struct hmap *src)
{
    const struct carried *c;

    carried_clear(dst);
    HMAP_FOR_EACH (c, node, src) {
        carried_add(dst, &c->iface, c->ofport);
    }
}

/* Does 'set' hold the container on Interface row 'iface' with port
 * 'ofport'? */
static bool
carried_contains(const struct hmap *set, const struct uuid *iface,
                 uint32_t ofport)
{
    const struct carried *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, uuid_hash(iface), set) {
        if (uuid_equals(&c->iface, iface) && c->ofport == ofport) {
            return true;
        }
    }
    return false;
}

/* Removes the container on Interface row 'iface' from 'set' (a set holds
 * each row at most once, with the port it had), whatever its port. */
static void
carried_remove(struct hmap *set, const struct uuid *iface)
{
    struct carried *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, uuid_hash(iface), set) {
        if (uuid_equals(&c->iface, iface)) {
            hmap_remove(set, &c->node);
            free(c);
            return;
        }
    }
}

/* Forgets that any put, acknowledged or in flight, carried flows of the
 * container on Interface row 'iface': its record no longer gives it any
 * (see rebuild_model()), so no earlier put may mark it installed. */
static void
localdb_forget_carried(struct localdb *db, const struct uuid *iface)
{
    struct put_record *put;

    carried_remove(&db->acked, iface);
    LIST_FOR_EACH (put, node, &db->puts) {
        carried_remove(&put->carried, iface);
    }
}

static void
put_record_destroy(struct put_record *put)
{
    carried_clear(&put->carried);
    hmap_destroy(&put->carried);
    free(put);
}

/* Creates the bridge with its gateway port. */
static void
create_bridge(struct localdb *db, struct ovsdb_idl_txn *txn,
              const struct ovsrec_open_vswitch *ovs)
{
    char mac[18];
    int64_t mtu = db->mtu;

    cfnet_mac_format(db->gw_mac, mac);

    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    ovsrec_interface_set_name(iface, LOCALDB_GW_PORT);
    ovsrec_interface_set_type(iface, "internal");
    ovsrec_interface_set_mac(iface, mac);
    ovsrec_interface_set_mtu_request(iface, &mtu, 1);

    struct ovsrec_port *port = ovsrec_port_insert(txn);
    ovsrec_port_set_name(port, LOCALDB_GW_PORT);
    ovsrec_port_set_interfaces(port, &iface, 1);

    struct ovsrec_bridge *br = ovsrec_bridge_insert(txn);
    ovsrec_bridge_set_name(br, db->cfg->bridge);
    ovsrec_bridge_set_datapath_type(br, db->cfg->netdev ? "netdev"
                                                          : "system");
    ovsrec_bridge_set_fail_mode(br, "secure");
    const char *protocols[] = { "OpenFlow13", "OpenFlow14", "OpenFlow15" };
    ovsrec_bridge_set_protocols(br, protocols, ARRAY_SIZE(protocols));
    ovsrec_bridge_set_ports(br, &port, 1);

    ovsrec_open_vswitch_update_bridges_addvalue(ovs, br);
    VLOG_INFO("creating bridge %s with gateway port %s (%s)",
              db->cfg->bridge, LOCALDB_GW_PORT, mac);
}

/* In cluster mode: the flow-based Geneve port to the other cells. */
static void
ensure_tunnel(struct localdb *db, struct ovsdb_idl_txn *txn,
              const struct ovsrec_bridge *br)
{
    for (size_t i = 0; i < br->n_ports; i++) {
        if (!strcmp(br->ports[i]->name, CFNET_TUNNEL_PORT)) {
            return;
        }
    }

    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    ovsrec_interface_set_name(iface, CFNET_TUNNEL_PORT);
    ovsrec_interface_set_type(iface, "geneve");
    const struct smap options = SMAP_CONST1(&options, "remote_ip", "flow");
    ovsrec_interface_set_options(iface, &options);

    struct ovsrec_port *port = ovsrec_port_insert(txn);
    ovsrec_port_set_name(port, CFNET_TUNNEL_PORT);
    ovsrec_port_set_interfaces(port, &iface, 1);
    ovsrec_bridge_update_ports_addvalue(br, port);
    VLOG_INFO("adding Geneve port %s to %s", CFNET_TUNNEL_PORT,
              db->cfg->bridge);
}

/* Names the bridge's OpenFlow tables after the pipeline's. */
static void
name_tables(struct localdb *db, struct ovsdb_idl_txn *txn,
            const struct ovsrec_bridge *br)
{
    for (int t = 0; t < PIPELINE_N_TABLES; t++) {
        const char *name = pipeline_table_name(t);
        const struct ovsrec_flow_table *ft = NULL;

        for (size_t i = 0; i < br->n_flow_tables; i++) {
            if (br->key_flow_tables[i] == t) {
                ft = br->value_flow_tables[i];
            }
        }
        if (ft && ft->name && !strcmp(ft->name, name)) {
            continue;
        }
        if (!ft) {
            struct ovsrec_flow_table *nft = ovsrec_flow_table_insert(txn);
            ovsrec_flow_table_set_name(nft, name);
            ovsrec_bridge_update_flow_tables_setkey(br, t, nft);
        } else {
            ovsrec_flow_table_set_name(ft, name);
        }
    }
}

static void
ensure_setup(struct localdb *db, struct ovsdb_idl_txn *txn)
{
    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(db->idl);
    if (!ovs || !db->subnet[0]) {
        /* In cluster mode, nothing before the lease. */
        return;
    }

    if (!smap_get(&ovs->external_ids, CFNET_KEY_SUBNET)
        || strcmp(smap_get(&ovs->external_ids, CFNET_KEY_SUBNET),
                  db->subnet)) {
        ovsrec_open_vswitch_update_external_ids_setkey(ovs, CFNET_KEY_SUBNET,
                                                       db->subnet);
    }
    const char *mtu = smap_get(&ovs->external_ids, CFNET_KEY_MTU);
    if (!mtu || strcmp(mtu, db->mtu_s)) {
        ovsrec_open_vswitch_update_external_ids_setkey(ovs, CFNET_KEY_MTU,
                                                       db->mtu_s);
    }

    const struct ovsrec_bridge *br = find_bridge(db);
    if (!br) {
        create_bridge(db, txn, ovs);
        return;
    }
    name_tables(db, txn, br);
    if (db->cfg->cluster_remotes) {
        ensure_tunnel(db, txn, br);
    }
}

/* Fills 'c' from interface 'iface', or returns false (logging why) if its
 * record is unusable. */
static bool
fill_container(struct model *model, struct model_container *c,
               const struct ovsrec_interface *iface)
{
    const struct smap *ids = &iface->external_ids;
    const char *ip = smap_get(ids, CFNET_KEY_IP);
    const char *mac = smap_get(ids, CFNET_KEY_MAC);
    const char *workload = smap_get(ids, CFNET_KEY_WORKLOAD);
    const char *rules = smap_get_def(ids, CFNET_KEY_NETOUT_RULES, "[]");
    const char *mappings = smap_get_def(ids, CFNET_KEY_PORT_MAPPINGS, "[]");
    struct eth_addr ea;
    char *error = NULL;

    if (!ip || !ipv4_parse(ip, &c->ip)) {
        error = xasprintf("%s: missing or bad %s", iface->name,
                          CFNET_KEY_IP);
    } else if (!mac || !eth_addr_from_string(mac, &ea)) {
        error = xasprintf("%s: missing or bad %s", iface->name,
                          CFNET_KEY_MAC);
    } else {
        memcpy(c->mac, ea.ea, 6);
        c->staging = workload && !strcmp(workload, "staging");
        c->policy_group_id = nullable_xstrdup(
            smap_get(ids, CFNET_KEY_POLICY_GROUP_ID));
        c->space_id = nullable_xstrdup(smap_get(ids, CFNET_KEY_SPACE_ID));
        c->app_id = nullable_xstrdup(smap_get(ids, CFNET_KEY_APP_ID));
        c->org_id = nullable_xstrdup(smap_get(ids, CFNET_KEY_ORG_ID));
        c->garden_netout = model_intern_rules(model, rules, &error);
        c->marked_installed = smap_get_bool(ids, CFNET_KEY_INSTALLED,
                                            false);
    }
    if (!error) {
        error = model_parse_port_mappings(c, mappings);
    }
    if (error) {
        VLOG_WARN_RL(&rl, "ignoring container %s: no flows, not marked "
                     "installed: %s", c->handle, error);
        model_refuse(model, c->handle, error);
        return false;
    }
    return true;
}

/* Rebuilds the model's containers from the bridge's interfaces. */
static void
rebuild_model(struct localdb *db, struct model *model)
{
    const struct ovsrec_bridge *br = find_bridge(db);

    struct model_container *c;
    HMAP_FOR_EACH_SAFE (c, node, &model->containers) {
        model_remove_container(model, c);
    }
    model_clear_refused(model);
    db->gw_ofport = 0;
    db->tunnel_ofport = 0;
    if (!br) {
        model_resolve(model);
        return;
    }

    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            int64_t ofport = iface->n_ofport ? iface->ofport[0] : 0;
            if (ofport <= 0 || ofport >= 0xff00) {
                continue;
            }
            if (!strcmp(iface->name, LOCALDB_GW_PORT)) {
                db->gw_ofport = ofport;
                continue;
            }
            if (!strcmp(iface->name, CFNET_TUNNEL_PORT)) {
                db->tunnel_ofport = ofport;
                continue;
            }
            const char *handle = smap_get(&iface->external_ids,
                                          CFNET_KEY_HANDLE);
            if (!handle) {
                continue;
            }
            c = model_add_container(model, handle, ofport);
            c->iface = iface->header_.uuid;
            if (!fill_container(model, c, iface)) {
                model_remove_container(model, c);
                localdb_forget_carried(db, &iface->header_.uuid);
            }
        }
    }
    /* Each container's tag and rules from the policy server's data (which
     * also frees the rule lists no container uses any more). */
    model_resolve(model);
    model->cell.gateway_ofport = db->gw_ofport;
    model->cell.tunnel_ofport = db->tunnel_ofport;
}

/* Returns a hash of everything in 'model' that the pipeline reads and the
 * database can change, independent of the order of the containers.  Rule
 * lists are interned (model_intern_rules()), so their pointers stand for
 * their content. */
static uint32_t
container_hash(const struct model_container *c, uint32_t basis)
{
    uint32_t h = hash_string(c->handle, basis);
    h = hash_bytes(&c->iface, sizeof c->iface, h);
    h = hash_int(c->ofport, h);
    h = hash_int(c->ip, h);
    h = hash_bytes(c->mac, sizeof c->mac, h);
    h = hash_int(c->staging, h);
    h = hash_string(c->policy_group_id ? c->policy_group_id : "", h);
    h = hash_string(c->space_id ? c->space_id : "", h);
    h = hash_string(c->app_id ? c->app_id : "", h);
    h = hash_string(c->org_id ? c->org_id : "", h);
    h = hash_pointer(c->garden_netout, h);
    h = hash_int(c->tag, h);
    h = hash_pointer(c->netout, h);
    return hash_bytes(c->port_mappings,
                      c->n_port_mappings * sizeof *c->port_mappings, h);
}

/* Returns a 64-bit hash of everything in 'model' that the pipeline reads
 * and the database can change, independent of the order of the
 * containers.  Rule lists are interned (model_intern_rules()) and not freed
 * while a container uses them, so their pointers stand for their
 * content. */
static uint64_t
model_digest(const struct model *model)
{
    const struct model_container *c;
    uint64_t digest = hash_int(model->cell.gateway_ofport,
                               hash_int(model->cell.tunnel_ofport,
                                        hmap_count(&model->containers)));

    HMAP_FOR_EACH (c, node, &model->containers) {
        digest += ((uint64_t) container_hash(c, 0) << 32)
                  | container_hash(c, 0x9e3779b9);
    }
    return digest;
}

bool
localdb_run(struct localdb *db, struct ovsdb_idl_txn *txn, struct model *model)
{
    if (txn) {
        ensure_setup(db, txn);
    }

    unsigned int seqno = ovsdb_idl_get_seqno(db->idl);
    if (seqno == db->last_seqno) {
        return false;
    }
    db->last_seqno = seqno;
    rebuild_model(db, model);

    /* Most database changes leave the model as it was (flowctl's own
     * cf-installed marks, Flow_Table names, columns of other ports): only
     * a different model is worth a recompute. */
    uint64_t digest = model_digest(model);
    if (digest == db->model_digest) {
        return false;
    }
    db->model_digest = digest;
    return true;
}

bool
localdb_published_subnet(const struct localdb *db, struct ipv4_cidr *subnet)
{
    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(db->idl);
    const char *s = ovs ? smap_get(&ovs->external_ids, CFNET_KEY_SUBNET)
                        : NULL;
    struct ipv4_cidr cidr;

    if (!s || !ipv4_parse_cidr(s, &cidr) || !cidr.plen) {
        return false;
    }
    *subnet = cidr;
    return true;
}

uint32_t
localdb_gateway_ofport(const struct localdb *db)
{
    return db->gw_ofport;
}

void
localdb_note_desired(struct localdb *db, const struct model *model)
{
    const struct model_container *c;

    /* The containers the table gives flows: every one, unless the cell has
     * more than PIPELINE_MAX_RULESETS distinct NetOut rule lists (which
     * takes more containers than that), when only those of a ruleset.
     * Of those, only the ones that are ready as far as the policy server
     * goes (model_container_ready(): their app's policies have been
     * fetched, so they are in this table) count: the others are marked
     * installed by a later table, once the policies are in. */
    carried_clear(&db->desired);
    if (hmap_count(&model->containers) <= PIPELINE_MAX_RULESETS) {
        HMAP_FOR_EACH (c, node, &model->containers) {
            if (model_container_ready(model, c)) {
                carried_add(&db->desired, &c->iface, c->ofport);
            } else {
                VLOG_DBG("%s: waiting for the policies of app %s",
                         c->handle, c->policy_group_id);
            }
        }
        return;
    }

    struct pipeline_ruleset *rulesets;
    size_t n = pipeline_get_rulesets(model, &rulesets);
    size_t n_carried = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < rulesets[i].n_containers; j++) {
            c = rulesets[i].containers[j];
            if (model_container_ready(model, c)) {
                carried_add(&db->desired, &c->iface, c->ofport);
            }
            n_carried++;
        }
    }
    pipeline_rulesets_destroy(rulesets, n);

    if (n_carried < hmap_count(&model->containers)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        HMAP_FOR_EACH (c, node, &model->containers) {
            if (!carried_contains(&db->desired, &c->iface, c->ofport)) {
                VLOG_WARN_RL(&rl, "ignoring container %s: no flows, not "
                             "marked installed: the cell has more than %d "
                             "distinct NetOut rule lists", c->handle,
                             PIPELINE_MAX_RULESETS);
            }
        }
    }
}

void
localdb_note_put(struct localdb *db, uint64_t seqno)
{
    if (seqno <= db->acked_seqno) {
        /* Nothing was sent: the switch has this very table already, under
         * the sequence number it acknowledged last. */
        carried_copy(&db->acked, &db->desired);
        db->acked_seqno = seqno;
        db->acked_gen++;
        return;
    }

    struct put_record *put = NULL;
    if (!ovs_list_is_empty(&db->puts)) {
        put = CONTAINER_OF(ovs_list_back(&db->puts), struct put_record,
                           node);
    }
    if (!put || put->seqno != seqno) {
        put = xmalloc(sizeof *put);
        put->seqno = seqno;
        hmap_init(&put->carried);
        ovs_list_push_back(&db->puts, &put->node);
    }
    carried_copy(&put->carried, &db->desired);
}

/* Takes in the switch's acknowledgment of every put up to 'acked_seqno':
 * the acknowledged put's containers become the installed ones; those of
 * earlier puts, acknowledged or lost (a rejected bundle, a reconnection),
 * are forgotten, since the acknowledged table replaced theirs. */
static void
take_acks(struct localdb *db, uint64_t acked_seqno)
{
    struct put_record *put;

    LIST_FOR_EACH_SAFE (put, node, &db->puts) {
        if (put->seqno > acked_seqno) {
            break;
        }
        ovs_list_remove(&put->node);
        if (put->seqno == acked_seqno) {
            carried_move(&db->acked, &put->carried);
            db->acked_seqno = acked_seqno;
            db->acked_gen++;
        }
        put_record_destroy(put);
    }
}

/* The waiting entry of interface 'uuid', made (since 'now') if there is
 * none. */
static struct waiting *
find_waiting(struct localdb *db, const struct uuid *uuid, long long int now)
{
    struct waiting *w;

    HMAP_FOR_EACH_WITH_HASH (w, node, uuid_hash(uuid), &db->waiting) {
        if (uuid_equals(&w->iface, uuid)) {
            return w;
        }
    }
    w = xzalloc(sizeof *w);
    w->iface = *uuid;
    w->since = now;
    hmap_insert(&db->waiting, &w->node, uuid_hash(uuid));
    return w;
}

void
localdb_mark_installed(struct localdb *db, struct ovsdb_idl_txn *txn,
                       uint64_t acked_seqno, long long int now)
{
    take_acks(db, acked_seqno);

    /* Nothing to do unless the database or the acknowledgments moved:
     * this runs on every iteration of the main loop. */
    const struct ovsrec_bridge *br = find_bridge(db);
    unsigned int idl_seqno = ovsdb_idl_get_seqno(db->idl);
    if (!br || !txn || (idl_seqno == db->marked_idl_seqno
                        && db->acked_gen == db->marked_acked_gen)) {
        return;
    }
    db->marked_idl_seqno = idl_seqno;
    db->marked_acked_gen = db->acked_gen;
    unsigned int pass = ++db->waiting_pass;

    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            const char *handle = smap_get(&iface->external_ids,
                                          CFNET_KEY_HANDLE);
            int64_t ofport = iface->n_ofport ? iface->ofport[0] : 0;
            if (!handle || smap_get_bool(&iface->external_ids,
                                         CFNET_KEY_INSTALLED, false)) {
                continue;
            }
            struct waiting *w = find_waiting(db, &iface->header_.uuid, now);
            w->pass = pass;
            if (ofport <= 0 || ofport > UINT32_MAX) {
                continue;
            }
            if (carried_contains(&db->acked, &iface->header_.uuid,
                                 ofport)) {
                ovsrec_interface_update_external_ids_setkey(
                    iface, CFNET_KEY_INSTALLED, "true");
                VLOG_DBG("%s (%s): flows installed by put %"PRIu64, handle,
                         iface->name, db->acked_seqno);
                if (!w->observed) {
                    metrics_histogram_observe(&db->install_latency,
                                              (now - w->since) / 1000.0);
                    w->observed = true;
                }
            } else {
                VLOG_DBG("%s (%s): flows not installed yet", handle,
                         iface->name);
            }
        }
    }

    /* Ports gone, or whose mark shows now, are waited for no more. */
    struct waiting *w;
    HMAP_FOR_EACH_SAFE (w, node, &db->waiting) {
        if (w->pass != pass) {
            hmap_remove(&db->waiting, &w->node);
            free(w);
        }
    }
}

const struct metrics_histogram *
localdb_get_install_latency(const struct localdb *db)
{
    return &db->install_latency;
}

size_t
localdb_remove_stale_ports(struct localdb *db, struct ovsdb_idl_txn *txn)
{
    const struct ovsrec_bridge *br = find_bridge(db);
    size_t n = 0;

    if (!br || !txn) {
        return 0;
    }
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            const char *handle = smap_get(&iface->external_ids,
                                          CFNET_KEY_HANDLE);
            if (handle && !if_nametoindex(iface->name)) {
                VLOG_INFO("removing port %s of container %s: its interface "
                          "is gone", iface->name, handle);
                ovsrec_bridge_update_ports_delvalue(br, port);
                ovsrec_port_delete(port);
                n++;
                break;
            }
        }
    }
    return n;
}

void
localdb_end_flow_restore_wait(struct localdb *db, struct ovsdb_idl_txn *txn)
{
    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(db->idl);

    if (ovs && txn && smap_get_bool(&ovs->other_config, "flow-restore-wait",
                                    false)) {
        VLOG_INFO("flows restored: clearing flow-restore-wait");
        ovsrec_open_vswitch_update_other_config_delkey(ovs,
                                                       "flow-restore-wait");
    }
}

/* Appends to 'ds' where container 'c''s flows are: "installed (put N)"
 * when the last put OVS acknowledged held them, else "in put N" for the
 * latest put in flight that holds them, else "not put yet". */
static void
format_flow_state(const struct localdb *db, const struct model_container *c,
                  struct ds *ds)
{
    if (carried_contains(&db->acked, &c->iface, c->ofport)) {
        ds_put_format(ds, "installed (put %"PRIu64")", db->acked_seqno);
        return;
    }

    const struct put_record *put;
    LIST_FOR_EACH_REVERSE (put, node, &db->puts) {
        if (carried_contains(&put->carried, &c->iface, c->ofport)) {
            ds_put_format(ds, "in put %"PRIu64, put->seqno);
            return;
        }
    }
    ds_put_cstr(ds, "not put yet");
}

/* Appends to 'ds' what the policy server means for container 'c': its
 * app and tag, whether it waits for its app's policies before it is marked
 * installed, and where its rules come from. */
static void
format_policy_state(const struct model *model,
                    const struct model_container *c, struct ds *ds)
{
    const struct model_policy_state *ps = &model->policy;

    if (!ps->enabled) {
        return;
    }
    if (c->policy_group_id) {
        ds_put_format(ds, ", app %s", c->policy_group_id);
        if (c->tag) {
            ds_put_format(ds, " tag %#"PRIx32, c->tag);
        } else {
            ds_put_cstr(ds, " (no tag: in no policy)");
        }
    }
    if (!model_container_ready(model, c)) {
        ds_put_cstr(ds, ", WAITING for its app's policies (not marked "
                    "installed until they are fetched)");
    }
    if (c->netout && c->netout->origins) {
        ds_put_cstr(ds, ", rules from the policy server's ASGs");
    } else if (ps->asg_syncing) {
        ds_put_cstr(ds, ", Garden's rules (its space's ASGs not fetched "
                    "yet)");
    }
}

void
localdb_format(const struct localdb *db, const struct model *model,
            struct ds *ds)
{
    ds_put_format(ds, "cell: subnet %s, container MTU %s, gateway port %s "
                  "(ofport %"PRIu32")\n", db->subnet, db->mtu_s,
                  LOCALDB_GW_PORT, db->gw_ofport);
    ds_put_format(ds, "containers: %"PRIuSIZE"\n",
                  hmap_count(&model->containers));

    const struct model_container *c;
    HMAP_FOR_EACH (c, node, &model->containers) {
        struct pipeline_ruleset_info info;
        pipeline_container_ruleset(model, c->ofport, &info);
        if (!info.ruleset) {
            ds_put_format(ds, "  %s REFUSED (no flows, not installed): the "
                          "cell has more than %d distinct NetOut rule "
                          "lists\n", c->handle, PIPELINE_MAX_RULESETS);
            continue;
        }
        char ip[IPV4_ADDR_LEN];
        ds_put_format(ds, "  %s ofport %"PRIu32" ip %s ruleset %"PRIu32
                      " (%"PRIuSIZE" rules%s) port mappings %"PRIuSIZE
                      " flows ", c->handle, c->ofport,
                      ipv4_format(c->ip, ip), info.ruleset,
                      c->netout ? c->netout->parsed.n_netout_rules : 0,
                      c->staging ? ", staging" : "", c->n_port_mappings);
        format_flow_state(db, c, ds);
        format_policy_state(model, c, ds);
        ds_put_char(ds, '\n');
    }

    const struct shash_node *node;
    SHASH_FOR_EACH (node, &model->refused) {
        ds_put_format(ds, "  %s REFUSED (no flows, not installed): %s\n",
                      node->name, (const char *) node->data);
    }
}
