/*
 * localdb: cni-ovs's session with the cell's local OVSDB.  See localdb.h.
 */

#include <config.h>

#include "localdb.h"

#include <errno.h>
#include <string.h>

#include "cfnet.h"
#include "jsonrpc.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "result.h"
#include "smap.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(localdb);

struct localdb {
    struct ovsdb_idl *idl;
    char *remote;
    char *bridge;
    char *ifname;
    int64_t next_cfg;           /* From the last transaction, or 0. */
};

static const struct ovsrec_open_vswitch *
cell_row(const struct localdb *db)
{
    return ovsrec_open_vswitch_first(db->idl);
}

static const struct ovsrec_bridge *
find_bridge(const struct localdb *db)
{
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, db->idl) {
        if (!strcmp(br->name, db->bridge)) {
            return br;
        }
    }
    return NULL;
}

static const struct ovsrec_port *
find_port(const struct localdb *db)
{
    const struct ovsrec_port *port;

    OVSREC_PORT_FOR_EACH (port, db->idl) {
        if (!strcmp(port->name, db->ifname)) {
            return port;
        }
    }
    return NULL;
}

static const struct ovsrec_interface *
find_iface(const struct localdb *db)
{
    const struct ovsrec_interface *iface;

    OVSREC_INTERFACE_FOR_EACH (iface, db->idl) {
        if (!strcmp(iface->name, db->ifname)) {
            return iface;
        }
    }
    return NULL;
}

/* Registers the columns cni-ovs needs and the conditions that keep the
 * replica down to one bridge, one port and one interface. */
static void
register_columns(struct localdb *db)
{
    struct ovsdb_idl *idl = db->idl;

    ovsdb_idl_add_table(idl, &ovsrec_table_open_vswitch);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_external_ids);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_next_cfg);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_cur_cfg);

    ovsdb_idl_add_table(idl, &ovsrec_table_bridge);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_ports);

    ovsdb_idl_add_table(idl, &ovsrec_table_port);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_interfaces);

    ovsdb_idl_add_table(idl, &ovsrec_table_interface);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_error);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_external_ids);

    /* Set before the first connection, the conditions go out with the
     * initial monitor request, so the first contents the IDL receives
     * already match them.  (The condition seqno counts only later
     * condition changes, so there is nothing to wait for.) */
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    ovsrec_bridge_add_clause_name(&cond, OVSDB_F_EQ, db->bridge);
    ovsrec_bridge_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);

    ovsdb_idl_condition_init(&cond);
    ovsrec_port_add_clause_name(&cond, OVSDB_F_EQ, db->ifname);
    ovsrec_port_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);

    ovsdb_idl_condition_init(&cond);
    ovsrec_interface_add_clause_name(&cond, OVSDB_F_EQ, db->ifname);
    ovsrec_interface_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
}

/* Blocks until the IDL has something new or 'deadline' passes.  The caller
 * runs the IDL (ovsdb_idl_run()) and checks its condition before calling
 * this, so that no update is consumed without being looked at.  Returns
 * true if 'deadline' has passed. */
static bool
block_until(struct localdb *db, long long int deadline)
{
    if (time_msec() >= deadline) {
        return true;
    }
    ovsdb_idl_wait(db->idl);
    poll_timer_wait_until(deadline);
    poll_block();
    return false;
}

static bool
replica_ready(const struct localdb *db)
{
    return (ovsdb_idl_has_ever_connected(db->idl)
            && ovsdb_idl_is_connected(db->idl)
            && cell_row(db) != NULL);
}

static char *
unreachable_error(const struct localdb *db, int *code)
{
    int error = ovsdb_idl_get_last_error(db->idl);

    *code = CNI_ERR_TRY_AGAIN;
    return xasprintf("ovsdb %s: cannot read the cell's database%s%s",
                     db->remote, error ? ": " : " (timed out)",
                     error ? ovs_retval_to_string(error) : "");
}

/* ---- The cell's settings, read once ---- */

/* Stores the string-to-string map 'json' (OVSDB's ["map", [[K, V], ...]])
 * in 'map'.  Returns false if 'json' is not such a map. */
static bool
parse_string_map(const struct json *json, struct smap *map)
{
    if (json->type != JSON_ARRAY || json_array(json)->n != 2
        || json_array(json)->elems[0]->type != JSON_STRING
        || strcmp(json_string(json_array(json)->elems[0]), "map")
        || json_array(json)->elems[1]->type != JSON_ARRAY) {
        return false;
    }
    const struct json_array *pairs = json_array(json_array(json)->elems[1]);
    for (size_t i = 0; i < pairs->n; i++) {
        const struct json *pair = pairs->elems[i];
        if (pair->type != JSON_ARRAY || json_array(pair)->n != 2
            || json_array(pair)->elems[0]->type != JSON_STRING
            || json_array(pair)->elems[1]->type != JSON_STRING) {
            return false;
        }
        smap_replace(map, json_string(json_array(pair)->elems[0]),
                     json_string(json_array(pair)->elems[1]));
    }
    return true;
}

/* Stores the rows of the result of operation 'i' in the "transact" reply
 * 'result' in '*rowsp'.  Returns NULL, or an error: the server's, quoted,
 * if the operation failed. */
static char *
select_rows(const struct json *result, size_t i,
            const struct json_array **rowsp)
{
    *rowsp = NULL;
    if (result->type != JSON_ARRAY || json_array(result)->n <= i
        || json_array(result)->elems[i]->type != JSON_OBJECT) {
        return xstrdup("unexpected reply");
    }
    const struct shash *op = json_object(json_array(result)->elems[i]);
    const struct json *rows = shash_find_data(op, "rows");
    if (rows && rows->type == JSON_ARRAY) {
        *rowsp = json_array(rows);
        return NULL;
    }
    const struct json *error = shash_find_data(op, "error");
    if (error) {
        const struct json *details = shash_find_data(op, "details");
        char *e = json_to_string(error, 0);
        char *d = details ? json_to_string(details, 0) : NULL;
        char *msg = xasprintf("server error %s%s%s", e, d ? ": " : "",
                              d ? d : "");
        free(e);
        free(d);
        return msg;
    }
    return xstrdup("unexpected reply");
}

/* Returns the string-to-string map column 'column' of 'row' (a JSON
 * object) in 'map'.  Returns false if it is missing or not such a map. */
static bool
parse_row_map(const struct json *row, const char *column, struct smap *map)
{
    const struct json *value = (row->type == JSON_OBJECT
                                ? shash_find_data(json_object(row), column)
                                : NULL);
    return value && parse_string_map(value, map);
}

/* Parses the reply to localdb_read_snapshot()'s request into 's'.  Returns
 * NULL or an error. */
static char *
parse_snapshot(const struct json *result, struct localdb_snapshot *s)
{
    const struct json_array *ovs_rows, *br_rows, *iface_rows;
    char *error = select_rows(result, 0, &ovs_rows);
    if (!error) {
        error = select_rows(result, 1, &br_rows);
    }
    if (!error) {
        error = select_rows(result, 2, &iface_rows);
    }
    if (error) {
        return error;
    }
    if (ovs_rows->n != 1) {
        return xasprintf("%"PRIuSIZE" Open_vSwitch rows, not 1 (is the "
                         "database initialized?)", ovs_rows->n);
    }
    if (!parse_row_map(ovs_rows->elems[0], "external_ids", &s->cell_ids)) {
        return xstrdup("unexpected Open_vSwitch external_ids");
    }
    s->has_bridge = br_rows->n > 0;
    s->has_iface = iface_rows->n > 0;
    if (s->has_iface
        && !parse_row_map(iface_rows->elems[0], "external_ids",
                          &s->iface_ids)) {
        return xstrdup("unexpected Interface external_ids");
    }
    return NULL;
}

/* Returns a "select" operation on 'table' for the rows whose 'key' column
 * equals 'value' (all rows if 'key' is NULL), of column 'column'. */
static struct json *
select_op(const char *table, const char *key, const char *value,
          const char *column)
{
    struct json *op = json_object_create();
    json_object_put_string(op, "op", "select");
    json_object_put_string(op, "table", table);
    json_object_put(op, "where",
                    (key
                     ? json_array_create_1(json_array_create_3(
                                               json_string_create(key),
                                               json_string_create("=="),
                                               json_string_create(value)))
                     : json_array_create_empty()));
    json_object_put(op, "columns",
                    json_array_create_1(json_string_create(column)));
    return op;
}

void
localdb_snapshot_init(struct localdb_snapshot *s)
{
    smap_init(&s->cell_ids);
    s->has_bridge = false;
    s->has_iface = false;
    smap_init(&s->iface_ids);
}

void
localdb_snapshot_destroy(struct localdb_snapshot *s)
{
    smap_destroy(&s->cell_ids);
    smap_destroy(&s->iface_ids);
}

char *
localdb_read_snapshot(const char *remote, const char *bridge,
                      const char *ifname, long long int deadline,
                      struct localdb_snapshot *snapshot, int *code)
{
    struct stream *stream;
    struct jsonrpc *rpc = NULL;
    struct jsonrpc_msg *reply = NULL;
    char *why = NULL;

    /* Connect, retrying until the deadline (ovsdb-server may be
     * restarting), as the IDL would. */
    int backoff = 100;
    for (;;) {
        int error = jsonrpc_stream_open(remote, &stream, DSCP_DEFAULT);
        long long int now = time_msec();
        if (!error) {
            error = stream_open_block(error, MAX(deadline - now, 1),
                                      &stream);
        }
        if (!error) {
            break;
        }
        now = time_msec();
        if (now >= deadline || error == EAFNOSUPPORT || error == EINVAL) {
            /* Out of time, or a remote that cannot work. */
            why = xstrdup(ovs_retval_to_string(error));
            goto out;
        }
        VLOG_DBG("%s: connecting: %s (retrying)", remote,
                 ovs_retval_to_string(error));
        poll_timer_wait_until(MIN(now + backoff, deadline));
        poll_block();
        backoff = MIN(backoff * 2, 1000);
    }

    struct json *params = json_array_create_empty();
    json_array_add(params, json_string_create("Open_vSwitch"));
    json_array_add(params, select_op("Open_vSwitch", NULL, NULL,
                                     "external_ids"));
    json_array_add(params, select_op("Bridge", "name", bridge, "name"));
    json_array_add(params, select_op("Interface", "name", ifname,
                                     "external_ids"));

    rpc = jsonrpc_open(stream);
    struct jsonrpc_msg *request = jsonrpc_create_request("transact", params,
                                                         NULL);
    struct json *id = json_clone(request->id);
    int error = jsonrpc_send(rpc, request);
    while (!error) {
        jsonrpc_run(rpc);
        error = jsonrpc_recv(rpc, &reply);
        if (error == EAGAIN) {
            error = 0;
            if (time_msec() >= deadline) {
                why = xstrdup("timed out");
                break;
            }
            jsonrpc_wait(rpc);
            jsonrpc_recv_wait(rpc);
            poll_timer_wait_until(deadline);
            poll_block();
        } else if (!error) {
            if (reply->id && json_equal(reply->id, id)) {
                break;
            }
            jsonrpc_msg_destroy(reply);    /* E.g. an "echo" request. */
            reply = NULL;
        }
    }
    json_destroy(id);
    if (why) {
        /* Timed out. */
    } else if (error) {
        why = xstrdup(ovs_retval_to_string(error));
    } else if (reply->type == JSONRPC_ERROR) {
        char *s = json_to_string(reply->error, 0);
        why = xasprintf("server error %s", s);
        free(s);
    } else {
        why = parse_snapshot(reply->result, snapshot);
    }

out:
    jsonrpc_msg_destroy(reply);
    jsonrpc_close(rpc);
    if (why) {
        char *msg = xasprintf("ovsdb %s: cannot read the cell's settings: "
                              "%s", remote, why);
        free(why);
        *code = CNI_ERR_TRY_AGAIN;
        return msg;
    }
    return NULL;
}

/* ---- The IDL session ---- */

struct localdb *
localdb_start(const char *remote, const char *bridge, const char *ifname)
{
    struct localdb *db = xzalloc(sizeof *db);

    db->remote = xstrdup(remote);
    db->bridge = xstrdup(bridge);
    db->ifname = xstrdup(ifname);
    db->idl = ovsdb_idl_create(remote, &ovsrec_idl_class, false, true);
    /* A CNI command lives for seconds: no keepalive probes needed. */
    ovsdb_idl_set_probe_interval(db->idl, 0);
    register_columns(db);

    /* Connect and send the first request: the server answers while the
     * caller does something else. */
    ovsdb_idl_run(db->idl);
    return db;
}

char *
localdb_wait_ready(struct localdb *db, long long int deadline, int *code)
{
    for (;;) {
        ovsdb_idl_run(db->idl);
        if (replica_ready(db)) {
            return NULL;
        }
        if (block_until(db, deadline)) {
            return unreachable_error(db, code);
        }
    }
}

char *
localdb_open(const char *remote, const char *bridge, const char *ifname,
             long long int deadline, struct localdb **dbp, int *code)
{
    struct localdb *db = localdb_start(remote, bridge, ifname);
    char *error = localdb_wait_ready(db, deadline, code);
    if (error) {
        localdb_close(db);
        return error;
    }
    *dbp = db;
    return NULL;
}

void
localdb_close(struct localdb *db)
{
    if (db) {
        ovsdb_idl_destroy(db->idl);
        free(db->remote);
        free(db->bridge);
        free(db->ifname);
        free(db);
    }
}

const struct smap *
localdb_get_cell_ids(const struct localdb *db)
{
    const struct ovsrec_open_vswitch *ovs = cell_row(db);
    return ovs ? &ovs->external_ids : NULL;
}

const char *
localdb_get_cell_key(const struct localdb *db, const char *key)
{
    const struct smap *ids = localdb_get_cell_ids(db);
    return ids ? smap_get(ids, key) : NULL;
}

const struct smap *
localdb_get_iface_ids(const struct localdb *db)
{
    const struct ovsrec_interface *iface = find_iface(db);
    return iface ? &iface->external_ids : NULL;
}

/* Commits 'txn', running the IDL until the server answers or 'deadline'.
 * Returns the final status; TXN_INCOMPLETE means the deadline passed. */
static enum ovsdb_idl_txn_status
commit_until(struct localdb *db, struct ovsdb_idl_txn *txn,
             long long int deadline)
{
    for (;;) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(txn);
        if (status != TXN_INCOMPLETE) {
            return status;
        }
        ovsdb_idl_run(db->idl);
        if (time_msec() >= deadline) {
            return TXN_INCOMPLETE;
        }
        ovsdb_idl_txn_wait(txn);
        block_until(db, deadline);
    }
}

/* Runs one transaction built by 'build' (which returns an error message,
 * e.g. "no bridge", or NULL once it has filled the transaction), retrying on
 * TXN_TRY_AGAIN.  'what' describes the change for error messages. */
static char *
transact(struct localdb *db, char *(*build)(struct localdb *, const void *),
         const void *aux, const char *what, bool bump_cfg,
         long long int deadline, int *code)
{
    for (;;) {
        /* Bring the replica up to date before building on it. */
        for (ovsdb_idl_run(db->idl); !replica_ready(db);
             ovsdb_idl_run(db->idl)) {
            if (block_until(db, deadline)) {
                return unreachable_error(db, code);
            }
        }

        struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(db->idl);
        ovsdb_idl_txn_add_comment(txn, "cni-ovs: %s %s", what, db->ifname);
        char *error = build(db, aux);
        if (!error && bump_cfg) {
            /* Ask ovs-vswitchd to report when it has applied this change
             * (Open_vSwitch cur_cfg reaching the new next_cfg), as
             * ovs-vsctl does. */
            ovsdb_idl_txn_increment(txn, &cell_row(db)->header_,
                                    &ovsrec_open_vswitch_col_next_cfg, false);
        }
        if (error) {
            ovsdb_idl_txn_abort(txn);
            ovsdb_idl_txn_destroy(txn);
            *code = CNI_ERR_TRY_AGAIN;
            return error;
        }

        enum ovsdb_idl_txn_status status = commit_until(db, txn, deadline);
        char *msg = NULL;
        switch (status) {
        case TXN_SUCCESS:
        case TXN_UNCHANGED:
            db->next_cfg = (bump_cfg && status == TXN_SUCCESS
                            ? ovsdb_idl_txn_get_increment_new_value(txn)
                            : 0);
            ovsdb_idl_txn_destroy(txn);
            return NULL;
        case TXN_TRY_AGAIN:
            ovsdb_idl_txn_destroy(txn);
            continue;
        case TXN_INCOMPLETE:
            msg = xasprintf("ovsdb %s: %s port %s: timed out", db->remote,
                            what, db->ifname);
            break;
        case TXN_UNCOMMITTED:
        case TXN_ABORTED:
        case TXN_ERROR:
        case TXN_NOT_LOCKED:
        default:
            msg = xasprintf("ovsdb %s: %s port %s: %s%s%s", db->remote,
                            what, db->ifname,
                            ovsdb_idl_txn_status_to_string(status),
                            ovsdb_idl_txn_get_error(txn) ? ": " : "",
                            ovsdb_idl_txn_get_error(txn)
                            ? ovsdb_idl_txn_get_error(txn) : "");
            break;
        }
        ovsdb_idl_txn_destroy(txn);
        *code = CNI_ERR_TRY_AGAIN;
        return msg;
    }
}

static char *
build_add(struct localdb *db, const void *external_ids_)
{
    const struct smap *external_ids = external_ids_;
    const struct ovsrec_bridge *br = find_bridge(db);

    if (!br) {
        return xasprintf("bridge %s does not exist (flowctl creates it)",
                         db->bridge);
    }

    struct ovsrec_interface *iface = ovsrec_interface_insert(
        ovsdb_idl_txn_get(&br->header_));
    ovsrec_interface_set_name(iface, db->ifname);
    ovsrec_interface_set_external_ids(iface, external_ids);

    struct ovsrec_port *port = ovsrec_port_insert(
        ovsdb_idl_txn_get(&br->header_));
    ovsrec_port_set_name(port, db->ifname);
    ovsrec_port_set_interfaces(port, &iface, 1);

    /* A mutation: concurrent ADDs on the cell do not conflict. */
    ovsrec_bridge_update_ports_addvalue(br, port);
    return NULL;
}

char *
localdb_add_port(struct localdb *db, const struct smap *external_ids,
                 long long int deadline, int *code)
{
    char *error = transact(db, build_add, external_ids, "adding", false,
                           deadline, code);
    if (error) {
        return error;
    }

    /* Wait for ovs-vswitchd to open the device and number the port. */
    for (;;) {
        ovsdb_idl_run(db->idl);
        const struct ovsrec_interface *iface = find_iface(db);
        if (iface && iface->n_ofport && iface->ofport[0] > 0) {
            VLOG_DBG("%s: ofport %"PRId64, db->ifname, iface->ofport[0]);
            return NULL;
        }
        if (iface && iface->n_ofport && iface->ofport[0] == -1) {
            *code = CNI_ERR_TRY_AGAIN;
            return xasprintf("ovs-vswitchd could not add port %s: %s",
                             db->ifname,
                             iface->error ? iface->error : "unknown error");
        }
        if (block_until(db, deadline)) {
            *code = CNI_ERR_TRY_AGAIN;
            return xasprintf("ovs-vswitchd did not add port %s in time "
                             "(is it running?)", db->ifname);
        }
    }
}

char *
localdb_wait_installed(struct localdb *db, long long int deadline, int *code)
{
    for (;;) {
        ovsdb_idl_run(db->idl);
        const struct ovsrec_interface *iface = find_iface(db);
        if (!iface) {
            *code = CNI_ERR_TRY_AGAIN;
            return xasprintf("port %s disappeared while waiting for its "
                             "flows", db->ifname);
        }
        if (smap_get_bool(&iface->external_ids, CFNET_KEY_INSTALLED,
                          false)) {
            return NULL;
        }
        if (block_until(db, deadline)) {
            *code = CNI_ERR_TRY_AGAIN;
            return xasprintf("flows for port %s were not installed in time "
                             "(%s=true not set; is flowctl running?)",
                             db->ifname, CFNET_KEY_INSTALLED);
        }
    }
}

static char *
build_del(struct localdb *db, const void *handle_)
{
    const char *handle = handle_;
    const struct ovsrec_port *port = find_port(db);
    const struct ovsrec_interface *iface = find_iface(db);

    if (handle && iface) {
        const char *owner = smap_get(&iface->external_ids, CFNET_KEY_HANDLE);
        if (owner && strcmp(owner, handle)) {
            VLOG_INFO("%s belongs to container %s, not %s: leaving it",
                      db->ifname, owner, handle);
            return NULL;
        }
    }
    if (port) {
        const struct ovsrec_bridge *br = find_bridge(db);
        if (br) {
            ovsrec_bridge_update_ports_delvalue(br, port);
        }
        ovsrec_port_delete(port);
    }
    if (iface) {
        ovsrec_interface_delete(iface);
    }
    return NULL;
}

char *
localdb_del_port(struct localdb *db, const char *handle,
                 long long int deadline, int *code)
{
    if (!find_port(db) && !find_iface(db)) {
        return NULL;
    }
    char *error = transact(db, build_del, handle, "deleting", true, deadline,
                           code);
    if (error || !db->next_cfg) {
        return error;
    }

    /* Wait until ovs-vswitchd has let go of the device, so that the caller
     * can delete it without vswitchd tripping over a vanished device. */
    for (;;) {
        ovsdb_idl_run(db->idl);
        const struct ovsrec_open_vswitch *ovs = cell_row(db);
        if (ovs && ovs->cur_cfg >= db->next_cfg) {
            return NULL;
        }
        if (block_until(db, deadline)) {
            *code = CNI_ERR_TRY_AGAIN;
            return xasprintf("ovs-vswitchd did not remove port %s in time "
                             "(is it running?)", db->ifname);
        }
    }
}
