/*
 * db-session: a JSON-RPC session with one member of an OVSDB cluster, for
 * clients of which there are thousands.
 *
 * The OVSDB IDL (lib/ovsdb-idl.h) monitors the _Server database of the
 * member it talks to, to learn whether the member is part of the cluster,
 * is the leader and has data as new as what it has seen.  A member updates
 * its _Server row (the "index" column) on every transaction the cluster
 * commits, so every IDL client receives a message per commit: with 2,500
 * cells renewing a lease every 10 s, 250 messages a second for each of
 * every cell's sessions, whatever the client monitors, and the members
 * send 2,500 times as many.  A db_session asks the same questions once per
 * connection, and again every DB_SESSION_RECHECK_MS and whenever its user
 * calls db_session_recheck() (after a failed transaction, say), with a
 * "select" on _Server rather than a monitor; what reaches it otherwise is
 * what it monitors and the replies to its own transactions.
 *
 *   - Connects to one of the remotes (in random order, so that a fleet of
 *     clients spreads over the members) and fails over to the next, with
 *     jsonrpc_session's backoff and inactivity probes.
 *   - Once connected, reads the member's _Server row for the database:
 *     a clustered member must be connected to the cluster, have applied at
 *     least the log index seen before (or the client could go back in
 *     time), and with 'leader_only' be the leader; otherwise it moves on to
 *     the next member.  A standalone server, or one without _Server, will
 *     do.
 *   - Then, if given one, sends the monitor request (RFC 7047 "monitor")
 *     and hands the reply and each "update" to the user's callback; a new
 *     connection sends it again, and its reply replaces everything before.
 *   - Sends one transaction at a time for the user; a lost connection
 *     fails it (its outcome unknown).
 *
 * Not thread-safe. */

#ifndef CFNET_DB_SESSION_H
#define CFNET_DB_SESSION_H 1

#include <stdbool.h>

struct json;

#define DB_SESSION_RECHECK_MS 10000

/* Called with each monitor reply ('initial': replace the replica) and
 * each update: 'table_updates' is RFC 7047's <table-updates>. */
typedef void db_session_update_cb(void *aux, const struct json *table_updates,
                                  bool initial);

/* 'remotes': "tcp:A:PORT,tcp:B:PORT,..." (as for ovsdb_idl_create()). */
struct db_session *db_session_create(const char *remotes, const char *db_name,
                                     bool leader_only);
void db_session_destroy(struct db_session *);

/* Monitors 'requests' (RFC 7047 <monitor-requests>, taken over) from each
 * connection on, calling 'cb'.  Call before the first db_session_run(). */
void db_session_set_monitor(struct db_session *, struct json *requests,
                            db_session_update_cb *cb, void *aux);

void db_session_run(struct db_session *);
void db_session_wait(struct db_session *);

/* True while connected to a suitable member with the monitor's data
 * received (if there is a monitor). */
bool db_session_is_ready(const struct db_session *);

/* Checks the member's _Server row again now. */
void db_session_recheck(struct db_session *);

/* JSON-RPC messages received, every kind (updates, replies, probes). */
unsigned long long int db_session_get_n_received(const struct db_session *);

/* Transactions.  db_session_transact() sends 'ops' (an array of
 * operations, taken over) if the session is ready and has no transaction
 * in flight, and returns false otherwise (freeing 'ops').  Once the
 * status is no longer DB_TXN_PENDING, db_session_txn_result() is the
 * reply's array of results (DB_TXN_SUCCESS) and db_session_txn_error() an
 * error message (DB_TXN_FAILED: an operation's error, the reply's error or
 * the lost connection); db_session_txn_clear() makes room for the next. */
enum db_txn_status {
    DB_TXN_NONE,
    DB_TXN_PENDING,
    DB_TXN_SUCCESS,
    DB_TXN_FAILED,
};
bool db_session_transact(struct db_session *, struct json *ops);
enum db_txn_status db_session_txn_status(const struct db_session *);
const struct json *db_session_txn_result(const struct db_session *);
const char *db_session_txn_error(const struct db_session *);
void db_session_txn_clear(struct db_session *);

/* The remote of the current connection, if any. */
const char *db_session_get_name(const struct db_session *);

#endif /* db-session.h */
