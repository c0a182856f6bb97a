/*
 * db-session: see db-session.h.
 */

#include <config.h>

#include "db-session.h"

#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-session.h"
#include "random.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(db_session);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

enum db_session_state {
    DBS_CONNECTING,             /* No connection yet. */
    DBS_CHECKING,               /* Asked the member's _Server row. */
    DBS_MONITORING,             /* Asked for the monitor. */
    DBS_READY,
};

struct db_session {
    struct jsonrpc_session *js;
    char *db_name;
    bool leader_only;
    enum db_session_state state;
    unsigned int js_seqno;          /* jsonrpc_session_get_seqno() seen. */
    unsigned long long int n_received;

    /* The _Server check. */
    struct json *check_id;          /* In flight, if nonnull. */
    long long int next_check;       /* Monotonic ms, while ready. */
    long long int min_index;        /* Log index seen: never go back. */

    /* The monitor, if any. */
    struct json *monitor_requests;
    struct json *monitor_id;        /* Request in flight, if nonnull. */
    db_session_update_cb *update_cb;
    void *update_aux;

    /* The transaction. */
    enum db_txn_status txn_status;
    struct json *txn_id;            /* In flight, if nonnull. */
    struct json *txn_result;
    char *txn_error;
};

#define MONITOR_ID "db-session"

struct db_session *
db_session_create(const char *remotes, const char *db_name, bool leader_only)
{
    struct db_session *s = xzalloc(sizeof *s);
    struct svec list = SVEC_EMPTY_INITIALIZER;
    struct uuid cid;                /* A "cid:" prefix: not checked. */

    ovsdb_session_parse_remote(remotes, &list, &cid);
    svec_shuffle(&list);
    s->js = jsonrpc_session_open_multiple(&list, true);
    svec_destroy(&list);
    s->db_name = xstrdup(db_name);
    s->leader_only = leader_only;
    s->js_seqno = jsonrpc_session_get_seqno(s->js);
    return s;
}

static void
txn_finish(struct db_session *s, enum db_txn_status status,
           struct json *result, char *error)
{
    json_destroy(s->txn_id);
    s->txn_id = NULL;
    s->txn_status = status;
    s->txn_result = result;
    s->txn_error = error;
}

void
db_session_destroy(struct db_session *s)
{
    if (s) {
        jsonrpc_session_close(s->js);
        json_destroy(s->check_id);
        json_destroy(s->monitor_requests);
        json_destroy(s->monitor_id);
        db_session_txn_clear(s);
        free(s->db_name);
        free(s);
    }
}

void
db_session_set_monitor(struct db_session *s, struct json *requests,
                       db_session_update_cb *cb, void *aux)
{
    json_destroy(s->monitor_requests);
    s->monitor_requests = requests;
    s->update_cb = cb;
    s->update_aux = aux;
}

static void
send_request(struct db_session *s, const char *method, struct json *params,
             struct json **idp)
{
    json_destroy(*idp);
    jsonrpc_session_send(s->js, jsonrpc_create_request(method, params, idp));
}

static void
send_check(struct db_session *s)
{
    struct json *where = json_array_create_1(
        json_array_create_3(json_string_create("name"),
                            json_string_create("=="),
                            json_string_create(s->db_name)));
    static const char *const column_names[] = {
        "model", "connected", "leader", "index",
    };
    struct json *columns = json_array_create_empty();
    for (size_t i = 0; i < ARRAY_SIZE(column_names); i++) {
        json_array_add(columns, json_string_create(column_names[i]));
    }
    struct json *op = json_object_create();
    json_object_put_string(op, "op", "select");
    json_object_put_string(op, "table", "Database");
    json_object_put(op, "where", where);
    json_object_put(op, "columns", columns);
    send_request(s, "transact",
                 json_array_create_2(json_string_create("_Server"), op),
                 &s->check_id);
    s->next_check = time_msec() + DB_SESSION_RECHECK_MS;
}

static bool
json_bool_value(const struct json *j)
{
    return j && j->type == JSON_TRUE;
}

/* Whether the reply to the _Server check allows this member.  Returns
 * NULL if so, otherwise why not (a static string). */
static const char *
check_reply(struct db_session *s, const struct jsonrpc_msg *msg)
{
    if (msg->type != JSONRPC_REPLY) {
        return NULL;                /* No _Server: an older server. */
    }
    const struct json *result = msg->result;
    if (result->type != JSON_ARRAY || json_array(result)->n < 1
        || json_array(result)->elems[0]->type != JSON_OBJECT) {
        return "bad reply to the _Server query";
    }
    const struct json *rows = shash_find_data(
        json_object(json_array(result)->elems[0]), "rows");
    if (!rows || rows->type != JSON_ARRAY || !json_array(rows)->n
        || json_array(rows)->elems[0]->type != JSON_OBJECT) {
        return "server does not have the database";
    }
    const struct shash *row = json_object(json_array(rows)->elems[0]);
    const struct json *model = shash_find_data(row, "model");
    if (!model || model->type != JSON_STRING
        || strcmp(json_string(model), "clustered")) {
        return NULL;
    }
    if (!json_bool_value(shash_find_data(row, "connected"))) {
        return "clustered database server is disconnected from cluster";
    }
    if (s->leader_only
        && !json_bool_value(shash_find_data(row, "leader"))) {
        return "clustered database server is not cluster leader";
    }
    const struct json *index = shash_find_data(row, "index");
    if (index && index->type == JSON_INTEGER) {
        if (json_integer(index) < s->min_index) {
            return "clustered database server has stale data";
        }
        s->min_index = json_integer(index);
    }
    return NULL;
}

static void
become_ready(struct db_session *s)
{
    s->state = DBS_READY;
}

static void
retry(struct db_session *s, const char *why)
{
    VLOG_INFO_RL(&rl, "%s: %s; trying another server",
                 jsonrpc_session_get_name(s->js), why);
    jsonrpc_session_force_reconnect(s->js);
    s->state = DBS_CONNECTING;
}

/* Sets the transaction's outcome from its reply. */
static void
txn_reply(struct db_session *s, struct jsonrpc_msg *msg)
{
    if (msg->type == JSONRPC_ERROR) {
        char *error = json_to_string(msg->error, JSSF_SORT);
        txn_finish(s, DB_TXN_FAILED, NULL, error);
        return;
    }
    if (msg->result->type != JSON_ARRAY) {
        txn_finish(s, DB_TXN_FAILED, NULL, xstrdup("bad transact reply"));
        return;
    }

    /* The first operation's error, if any ("error" and "details"). */
    const struct json_array *results = json_array(msg->result);
    for (size_t i = 0; i < results->n; i++) {
        const struct json *r = results->elems[i];
        const struct json *error = (r->type == JSON_OBJECT
                                    ? shash_find_data(json_object(r), "error")
                                    : NULL);
        if (error) {
            const struct json *details = shash_find_data(json_object(r),
                                                         "details");
            char *text = xasprintf(
                "%s%s%s",
                error->type == JSON_STRING ? json_string(error) : "error",
                details && details->type == JSON_STRING ? ": " : "",
                details && details->type == JSON_STRING
                ? json_string(details) : "");
            txn_finish(s, DB_TXN_FAILED, NULL, text);
            return;
        }
    }
    txn_finish(s, DB_TXN_SUCCESS, msg->result, NULL);
    msg->result = NULL;
}

static void
process_msg(struct db_session *s, struct jsonrpc_msg *msg)
{
    if (msg->type == JSONRPC_NOTIFY && !strcmp(msg->method, "update")
        && msg->params->type == JSON_ARRAY
        && json_array(msg->params)->n == 2) {
        if ((s->state == DBS_READY || s->state == DBS_MONITORING)
            && s->update_cb && !s->monitor_id) {
            s->update_cb(s->update_aux, json_array(msg->params)->elems[1],
                         false);
        }
        return;
    }
    if (msg->type != JSONRPC_REPLY && msg->type != JSONRPC_ERROR) {
        return;
    }

    if (s->check_id && json_equal(msg->id, s->check_id)) {
        json_destroy(s->check_id);
        s->check_id = NULL;
        const char *why = check_reply(s, msg);
        if (why) {
            retry(s, why);
        } else if (s->state == DBS_CHECKING) {
            if (s->monitor_requests) {
                struct json *params = json_array_create_3(
                    json_string_create(s->db_name),
                    json_string_create(MONITOR_ID),
                    json_clone(s->monitor_requests));
                send_request(s, "monitor", params, &s->monitor_id);
                s->state = DBS_MONITORING;
            } else {
                become_ready(s);
            }
        }
    } else if (s->monitor_id && json_equal(msg->id, s->monitor_id)) {
        json_destroy(s->monitor_id);
        s->monitor_id = NULL;
        if (msg->type == JSONRPC_ERROR) {
            char *error = json_to_string(msg->error, JSSF_SORT);
            VLOG_WARN_RL(&rl, "%s: monitor request failed: %s",
                         jsonrpc_session_get_name(s->js), error);
            free(error);
            retry(s, "monitor failed");
            return;
        }
        s->update_cb(s->update_aux, msg->result, true);
        become_ready(s);
    } else if (s->txn_id && json_equal(msg->id, s->txn_id)) {
        txn_reply(s, msg);
    }
}

void
db_session_run(struct db_session *s)
{
    jsonrpc_session_run(s->js);

    unsigned int seqno = jsonrpc_session_get_seqno(s->js);
    if (seqno != s->js_seqno) {
        /* A new connection, or the end of one: start over. */
        s->js_seqno = seqno;
        json_destroy(s->check_id);
        s->check_id = NULL;
        json_destroy(s->monitor_id);
        s->monitor_id = NULL;
        if (s->txn_id) {
            txn_finish(s, DB_TXN_FAILED, NULL,
                       xstrdup("connection lost (outcome unknown)"));
        }
        s->state = DBS_CONNECTING;
        if (jsonrpc_session_is_connected(s->js)) {
            send_check(s);
            s->state = DBS_CHECKING;
        }
    }

    for (int i = 0; i < 50; i++) {
        struct jsonrpc_msg *msg = jsonrpc_session_recv(s->js);
        if (!msg) {
            break;
        }
        s->n_received++;
        process_msg(s, msg);
        jsonrpc_msg_destroy(msg);
    }

    if (s->state == DBS_READY && !s->check_id
        && time_msec() >= s->next_check) {
        send_check(s);
    }
}

void
db_session_wait(struct db_session *s)
{
    jsonrpc_session_wait(s->js);
    jsonrpc_session_recv_wait(s->js);
    if (s->state == DBS_READY && !s->check_id) {
        poll_timer_wait_until(s->next_check);
    }
}

bool
db_session_is_ready(const struct db_session *s)
{
    return s->state == DBS_READY;
}

void
db_session_recheck(struct db_session *s)
{
    if (s->state == DBS_READY && !s->check_id) {
        send_check(s);
    }
}

unsigned long long int
db_session_get_n_received(const struct db_session *s)
{
    return s->n_received;
}

bool
db_session_transact(struct db_session *s, struct json *ops)
{
    if (s->state != DBS_READY || s->txn_status != DB_TXN_NONE) {
        json_destroy(ops);
        return false;
    }
    json_array_add(ops, NULL);      /* Room for the database name. */
    struct json_array *a = json_array(ops);
    memmove(&a->elems[1], &a->elems[0], (a->n - 1) * sizeof *a->elems);
    a->elems[0] = json_string_create(s->db_name);
    send_request(s, "transact", ops, &s->txn_id);
    s->txn_status = DB_TXN_PENDING;
    return true;
}

enum db_txn_status
db_session_txn_status(const struct db_session *s)
{
    return s->txn_status;
}

const struct json *
db_session_txn_result(const struct db_session *s)
{
    return s->txn_result;
}

const char *
db_session_txn_error(const struct db_session *s)
{
    return s->txn_error;
}

void
db_session_txn_clear(struct db_session *s)
{
    json_destroy(s->txn_id);
    s->txn_id = NULL;
    json_destroy(s->txn_result);
    s->txn_result = NULL;
    free(s->txn_error);
    s->txn_error = NULL;
    s->txn_status = DB_TXN_NONE;
}

const char *
db_session_get_name(const struct db_session *s)
{
    return (jsonrpc_session_is_connected(s->js)
            ? jsonrpc_session_get_name(s->js) : NULL);
}
