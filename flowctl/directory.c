/*
 * directory: see directory.h.
 */

#include <config.h>

#include "directory.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "db-session.h"
#include "hash.h"
#include "ipv4.h"
#include "lease.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"

VLOG_DEFINE_THIS_MODULE(directory);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define BACKOFF_MIN_MS 100          /* A failed transaction is retried */
#define BACKOFF_MAX_MS 2000         /* after this, doubling up to this. */
#define BLOCKED_RETRY_MS 1000       /* No free subnet, or ours is held:
                                     * look again (sooner if the data
                                     * changes). */
#define BLOCKED_LOG_MS 10000        /* ... and say so this often. */

#define DB_NAME "CFNet"

enum txn_kind {
    TXN_READ,                       /* Read what a claim decides from. */
    TXN_CLAIM,                      /* Insert our row. */
    TXN_KEEP,                       /* Renew the row we found at start. */
    TXN_RENEW,                      /* Renew our row. */
};

static const char *
txn_kind_name(enum txn_kind kind)
{
    return (kind == TXN_READ ? "reading the rows to claim from"
            : kind == TXN_CLAIM ? "claim"
            : kind == TXN_KEEP ? "renewal of the earlier lease"
            : "renewal");
}

/* A Cell row: in the view's replica, or read to claim. */
struct dir_row {
    struct hmap_node node;          /* In 'view_rows', by uuid. */
    struct uuid uuid;
    char *underlay_ip;
    char *subnet;
    int64_t lease_expires;          /* 0 where not replicated or read. */
    int64_t renewed;                /* Read to claim only, else 0. */
};

struct directory {
    /* The sessions (see directory.h). */
    struct db_session *view;        /* Every Cell row, but not the lease
                                     * times; the Overlay row. */
    struct db_session *own;         /* The leader: writes, and reads what
                                     * a claim decides from. */
    char *remotes_text;
    uint32_t underlay_ip;
    char ip_text[IPV4_ADDR_LEN];
    unsigned int renew_interval_s;  /* As given; 0 = lifetime / 3. */
    bool have_hint;                 /* The subnet this cell had before */
    struct ipv4_cidr hint;         /* (directory_set_hint()). */
    bool renew_clamped_logged;

    /* The view's replica. */
    struct hmap view_rows;          /* struct dir_row, by uuid. */
    bool view_overlay;              /* The Overlay row exists ... */
    char **view_networks;           /* ... with these networks, */
    size_t n_view_networks;
    int64_t view_plen;              /* subnet prefix length */
    int64_t view_lifetime_s;        /* and lease lifetime. */
    bool view_dirty;                /* Changed since the last copy. */
    unsigned long long int n_view_updates;  /* Cell row changes. */

    /* The connection.  "Connected" means in sync with the cluster: both
     * sessions are with a member that is part of it (the own session with
     * the leader) and the view has received the data since it began. */
    bool connected;
    long long int conn_changed;     /* Wall ms of the last change (0:
                                     * never connected). */

    /* Copied out of the view, kept while disconnected. */
    bool have_overlay;              /* Has ever read the Overlay row. */
    bool overlay_row;               /* The Overlay row exists now. */
    struct ipv4_cidr *overlays;    /* Its networks. */
    size_t n_overlays;
    unsigned int subnet_plen;
    int64_t lifetime_s;
    struct model_remote *remotes;
    size_t n_remotes;
    size_t n_cells;                 /* Cell rows, ours included. */

    /* Our row, as our last transaction left it. */
    bool own_row_matches;           /* It holds our lease: renew it. */
    struct uuid own_uuid;

    /* What a claim decides from: read from the leader just before it. */
    struct dir_row *read_rows;
    size_t n_read_rows;
    bool have_read;
    unsigned long long int n_rows_read;
    struct lease_watch watch;       /* Which of them have expired. */

    /* The lease. */
    bool have_lease;
    struct ipv4_cidr lease;
    char lease_text[IPV4_CIDR_LEN];
    long long int lease_expires;    /* Wall ms, as we last wrote it. */
    long long int renewed;          /* Wall ms of our last write. */

    /* The transaction in flight, if any (in the own session). */
    bool txn;
    enum txn_kind txn_kind;
    struct ipv4_cidr txn_subnet;
    long long int txn_now;          /* Wall ms: 'renewed' written. */
    long long int txn_expires;      /* Wall ms: 'lease_expires' written. */

    /* Timers, monotonic ms (time_msec()). */
    long long int next_attempt;     /* No claim or renewal before. */
    long long int next_renew;       /* Renewal due. */
    unsigned int backoff_ms;        /* 0: the last attempt succeeded. */
    unsigned int failed_claims;     /* Claims that failed in a row. */
    bool blocked;                   /* No free subnet / ours is held. */
    long long int next_blocked_log;
    long long int next_watching_log;    /* The same, while watching. */

    /* Counters, for directory_format(). */
    unsigned long long int n_claims;
    unsigned long long int n_renewals;
    unsigned long long int n_failures;
    char *last_failure;             /* With its time; NULL if none. */

    bool changed;                   /* For directory_run()'s result. */
    const struct model *model;      /* For flowctl/cells. */
};

/* JSON helpers for RFC 7047's values and operations. */

static struct json *
json_strings(const char *const *names, size_t n)
{
    struct json *a = json_array_create_empty();
    for (size_t i = 0; i < n; i++) {
        json_array_add(a, json_string_create(names[i]));
    }
    return a;
}

/* [COLUMN, FUNCTION, VALUE], a clause of a "where". */
static struct json *
clause(const char *column, const char *function, struct json *value)
{
    return json_array_create_3(json_string_create(column),
                               json_string_create(function), value);
}

static struct json *
uuid_value(const struct uuid *uuid)
{
    return json_array_create_2(json_string_create("uuid"),
                               json_string_create_nocopy(
                                   xasprintf(UUID_FMT, UUID_ARGS(uuid))));
}

static struct json *
new_op(const char *op, const char *table)
{
    struct json *j = json_object_create();
    json_object_put_string(j, "op", op);
    if (table) {
        json_object_put_string(j, "table", table);
    }
    return j;
}

/* The string in 'j', or NULL. */
static const char *
string_value(const struct json *j)
{
    return j && j->type == JSON_STRING ? json_string(j) : NULL;
}

/* The integer in 'j' (an atom or a set of one), or 'dflt'. */
static int64_t
integer_value(const struct json *j, int64_t dflt)
{
    if (j && j->type == JSON_ARRAY && json_array(j)->n == 2
        && !strcmp(string_value(json_array(j)->elems[0]) ?: "", "set")) {
        const struct json *set = json_array(j)->elems[1];
        return (set->type == JSON_ARRAY && json_array(set)->n == 1
                ? integer_value(json_array(set)->elems[0], dflt) : dflt);
    }
    return j && j->type == JSON_INTEGER ? json_integer(j) : dflt;
}

/* The uuid in 'j' (["uuid", "..."]). */
static bool
uuid_from_value(const struct json *j, struct uuid *uuid)
{
    return (j && j->type == JSON_ARRAY && json_array(j)->n == 2
            && !strcmp(string_value(json_array(j)->elems[0]) ?: "", "uuid")
            && string_value(json_array(j)->elems[1])
            && uuid_from_string(uuid,
                                string_value(json_array(j)->elems[1])));
}

/* Sets 'row''s columns from 'values' (a <row>), those present only. */
static void
row_update(struct dir_row *row, const struct shash *values)
{
    const char *ip = string_value(shash_find_data(values, "underlay_ip"));
    const char *subnet = string_value(shash_find_data(values, "subnet"));
    const struct json *expires = shash_find_data(values, "lease_expires");
    const struct json *renewed = shash_find_data(values, "renewed");

    if (ip) {
        free(row->underlay_ip);
        row->underlay_ip = xstrdup(ip);
    }
    if (subnet) {
        free(row->subnet);
        row->subnet = xstrdup(subnet);
    }
    if (expires) {
        row->lease_expires = integer_value(expires, 0);
    }
    if (renewed) {
        row->renewed = integer_value(renewed, 0);
    }
}

static void
row_destroy(struct dir_row *row)
{
    free(row->underlay_ip);
    free(row->subnet);
}

static struct dir_row *
view_find(const struct directory *d, const struct uuid *uuid)
{
    struct dir_row *row;

    HMAP_FOR_EACH_WITH_HASH (row, node, uuid_hash(uuid), &d->view_rows) {
        if (uuid_equals(&row->uuid, uuid)) {
            return row;
        }
    }
    return NULL;
}

static void
view_clear(struct directory *d)
{
    struct dir_row *row;

    HMAP_FOR_EACH_POP (row, node, &d->view_rows) {
        row_destroy(row);
        free(row);
    }
    for (size_t i = 0; i < d->n_view_networks; i++) {
        free(d->view_networks[i]);
    }
    free(d->view_networks);
    d->view_networks = NULL;
    d->n_view_networks = 0;
    d->view_overlay = false;
}

static void
view_set_overlay(struct directory *d, const struct shash *values)
{
    const struct json *networks = shash_find_data(values, "networks");
    if (networks) {
        for (size_t i = 0; i < d->n_view_networks; i++) {
            free(d->view_networks[i]);
        }
        free(d->view_networks);
        d->view_networks = NULL;
        d->n_view_networks = 0;

        const struct json *set = networks;
        if (set->type == JSON_ARRAY && json_array(set)->n == 2
            && !strcmp(string_value(json_array(set)->elems[0]) ?: "",
                       "set")) {
            set = json_array(set)->elems[1];
        } else {
            set = NULL;             /* A single network. */
        }
        size_t n = set && set->type == JSON_ARRAY ? json_array(set)->n : 1;
        d->view_networks = xcalloc(n, sizeof *d->view_networks);
        for (size_t i = 0; i < n; i++) {
            const char *s = string_value(set ? json_array(set)->elems[i]
                                             : networks);
            if (s) {
                d->view_networks[d->n_view_networks++] = xstrdup(s);
            }
        }
    }
    d->view_plen = integer_value(shash_find_data(values,
                                                 "subnet_prefix_length"),
                                 d->view_plen);
    d->view_lifetime_s = integer_value(shash_find_data(values,
                                                       "lease_lifetime_s"),
                                       d->view_lifetime_s);
    d->view_overlay = true;
}

/* The view's monitor callback: applies 'table_updates' (RFC 7047's
 * <table-updates>, "monitor" version 1) to the replica. */
static void
view_update(void *d_, const struct json *table_updates, bool initial)
{
    struct directory *d = d_;

    if (initial) {
        view_clear(d);
    }
    d->view_dirty = true;
    if (table_updates->type != JSON_OBJECT) {
        return;
    }

    const struct json *overlay = shash_find_data(json_object(table_updates),
                                                 "Overlay");
    if (overlay && overlay->type == JSON_OBJECT) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, json_object(overlay)) {
            const struct json *u = node->data;
            const struct json *new = (u->type == JSON_OBJECT
                                      ? shash_find_data(json_object(u), "new")
                                      : NULL);
            if (new && new->type == JSON_OBJECT) {
                view_set_overlay(d, json_object(new));
            } else {
                d->view_overlay = false;
            }
        }
    }

    const struct json *cells = shash_find_data(json_object(table_updates),
                                               "Cell");
    if (!cells || cells->type != JSON_OBJECT) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(cells)) {
        const struct json *u = node->data;
        struct uuid uuid;
        if (!uuid_from_string(&uuid, node->name) || u->type != JSON_OBJECT) {
            continue;
        }
        d->n_view_updates++;

        const struct json *new = shash_find_data(json_object(u), "new");
        struct dir_row *row = view_find(d, &uuid);
        if (!new || new->type != JSON_OBJECT) {
            if (row) {
                hmap_remove(&d->view_rows, &row->node);
                row_destroy(row);
                free(row);
            }
            if (d->own_row_matches && uuid_equals(&uuid, &d->own_uuid)) {
                /* Our row went: claim our lease again. */
                d->own_row_matches = false;
                d->next_attempt = 0;
            }
            continue;
        }
        if (!row) {
            row = xzalloc(sizeof *row);
            row->uuid = uuid;
            hmap_insert(&d->view_rows, &row->node, uuid_hash(&uuid));
        }
        row_update(row, json_object(new));
        if (d->own_row_matches && uuid_equals(&uuid, &d->own_uuid)
            && row->subnet && strcmp(row->subnet, d->lease_text)) {
            /* Our row names another subnet now: claim ours again. */
            d->own_row_matches = false;
            d->next_attempt = 0;
        }
    }
}

static struct json *
view_monitor_requests(bool lease_times)
{
    static const char *const cell_columns[] = {
        "underlay_ip", "subnet", "external_ids", "lease_expires", "renewed",
    };
    static const char *const overlay_columns[] = {
        "networks", "subnet_prefix_length", "lease_lifetime_s",
    };
    struct json *cell = json_object_create();
    json_object_put(cell, "columns",
                    json_strings(cell_columns, lease_times ? 5 : 3));
    struct json *overlay = json_object_create();
    json_object_put(overlay, "columns",
                    json_strings(overlay_columns,
                                 ARRAY_SIZE(overlay_columns)));
    struct json *requests = json_object_create();
    json_object_put(requests, "Cell", cell);
    json_object_put(requests, "Overlay", overlay);
    return requests;
}

struct directory *
directory_create(const char *remotes, uint32_t underlay_ip,
                 unsigned int renew_interval_s)
{
    struct directory *d = xzalloc(sizeof *d);

    d->underlay_ip = underlay_ip;
    ipv4_format(underlay_ip, d->ip_text);
    hmap_init(&d->view_rows);
    lease_watch_init(&d->watch);

    /* The view: what every cell needs of the others, which changes only
     * when a cell claims a lease or its row goes.  Any member that is part
     * of the cluster will do, as for OVN's controllers: a follower serves
     * the (Raft-committed) data; the fleet's sessions spread over the
     * members, and only the clients of a lost member reconnect. */
    d->view = db_session_create(remotes, DB_NAME, false);
    db_session_set_monitor(d->view, view_monitor_requests(false),
                           view_update, d);

    /* The own session writes, so it talks to the leader: a follower
     * forwards a transaction with the log entry it has seen as a
     * prerequisite, and when the cluster commits faster than that round
     * trip (1,000 cells renewing every 10 s did, in bench/directory-scale)
     * every forwarded transaction fails its prerequisite and is retried
     * until it starves, and renewals stall.  It monitors nothing. */
    d->own = db_session_create(remotes, DB_NAME, true);
    d->remotes_text = xstrdup(remotes);
    d->renew_interval_s = renew_interval_s;
    return d;
}

void
directory_monitor_lease_times(struct directory *d)
{
    db_session_set_monitor(d->view, view_monitor_requests(true),
                           view_update, d);
}

static void
free_read_rows(struct directory *d)
{
    for (size_t i = 0; i < d->n_read_rows; i++) {
        row_destroy(&d->read_rows[i]);
    }
    free(d->read_rows);
    d->read_rows = NULL;
    d->n_read_rows = 0;
    d->have_read = false;
}

void
directory_destroy(struct directory *d)
{
    if (d) {
        db_session_destroy(d->view);
        db_session_destroy(d->own);
        view_clear(d);
        hmap_destroy(&d->view_rows);
        free_read_rows(d);
        lease_watch_destroy(&d->watch);
        free(d->remotes_text);
        free(d->overlays);
        free(d->remotes);
        free(d->last_failure);
        free(d);
    }
}

/* The renewal interval in ms: the configured one, but never more than
 * half the lease lifetime (a lease must not lapse between renewals, or
 * another cell could take it over). */
static long long int
renew_interval_ms(struct directory *d)
{
    long long int lifetime_ms = d->lifetime_s * 1000;
    if (d->renew_interval_s) {
        long long int ms = d->renew_interval_s * 1000LL;
        if (lifetime_ms && ms > lifetime_ms / 2) {
            if (!d->renew_clamped_logged) {
                VLOG_WARN("renew_interval_s %u is more than half the lease "
                          "lifetime (%lld s): renewing every %lld ms",
                          d->renew_interval_s, (long long int) d->lifetime_s,
                          MAX(1000LL, lifetime_ms / 2));
                d->renew_clamped_logged = true;
            }
            return MAX(1000LL, lifetime_ms / 2);
        }
        return ms;
    }
    return MAX(1000LL, lifetime_ms / 3);
}

static void
update_connection(struct directory *d)
{
    bool connected = (db_session_is_ready(d->view)
                      && db_session_is_ready(d->own));
    if (connected == d->connected) {
        return;
    }

    long long int now = time_wall_msec();
    if (connected && !d->conn_changed) {
        VLOG_INFO("connected to the cluster directory (%s)",
                  d->remotes_text);
    } else if (connected) {
        VLOG_INFO("reconnected to the cluster directory after %.1f s",
                  (now - d->conn_changed) / 1000.0);
    } else {
        VLOG_INFO("lost the connection to the cluster directory; keeping "
                  "the last known lease, overlay and %"PRIuSIZE" cells",
                  d->n_remotes);
        free_read_rows(d);          /* A claim reads again once back. */
    }
    d->connected = connected;
    d->conn_changed = now;
}

/* The view's Cell rows as lease.c takes them ('lease_expires' is 0 unless
 * the view replicates it), malloc'd. */
static size_t
view_lease_rows(const struct directory *d, struct lease_row **rowsp)
{
    struct lease_row *rows = xmalloc(MAX(1, hmap_count(&d->view_rows))
                                     * sizeof *rows);
    const struct dir_row *row;
    size_t n = 0;

    HMAP_FOR_EACH (row, node, &d->view_rows) {
        if (row->underlay_ip && row->subnet) {
            rows[n++] = (struct lease_row) {
                .underlay_ip = row->underlay_ip,
                .subnet = row->subnet,
                .lease_expires = row->lease_expires,
            };
        }
    }
    *rowsp = rows;
    return n;
}

/* Copies the overlay networks and the other cells out of the view (which
 * must be in sync). */
static void
copy_view(struct directory *d)
{
    d->overlay_row = d->view_overlay;
    if (d->view_overlay) {
        struct lease_overlay lo;
        struct ds errors = DS_EMPTY_INITIALIZER;
        if (!lease_overlay_init(&lo, (const char *const *) d->view_networks,
                                d->n_view_networks, d->view_plen,
                                &errors)) {
            VLOG_WARN_RL(&rl, "Overlay row: %s", ds_cstr(&errors));
        }
        ds_destroy(&errors);

        if (!d->have_overlay || lo.n_networks != d->n_overlays
            || memcmp(lo.networks, d->overlays,
                      lo.n_networks * sizeof *lo.networks)) {
            struct ds s = DS_EMPTY_INITIALIZER;
            lease_overlay_format(&lo, &s);
            VLOG_INFO("overlay networks: %s (/%"PRId64" subnets, leases of "
                      "%"PRId64" s)", ds_cstr(&s), d->view_plen,
                      d->view_lifetime_s);
            ds_destroy(&s);
            free(d->overlays);
            d->overlays = lo.networks;
            d->n_overlays = lo.n_networks;
            d->changed = true;
        } else {
            lease_overlay_destroy(&lo);
        }
        d->have_overlay = true;
        d->subnet_plen = d->view_plen;
        int64_t old_lifetime_s = d->lifetime_s;
        d->lifetime_s = d->view_lifetime_s;
        const int64_t max_s = LEASE_LIFETIME_MAX_MS / 1000;
        if (d->lifetime_s > max_s || d->lifetime_s < 1) {
            VLOG_WARN_RL(&rl, "Overlay row: lease_lifetime_s %"PRId64" is "
                         "outside 1..%"PRId64"; using %"PRId64,
                         d->lifetime_s, max_s,
                         d->lifetime_s < 1 ? 1 : max_s);
            d->lifetime_s = d->lifetime_s < 1 ? 1 : max_s;
        }
        if (d->lifetime_s != old_lifetime_s && d->have_lease) {
            d->next_renew = 0;      /* On the new lifetime's schedule. */
        }
    }

    struct lease_row *rows;
    size_t n = view_lease_rows(d, &rows);
    struct model_remote *remotes;
    size_t n_remotes = lease_remotes(rows, n, d->underlay_ip,
                                     d->have_lease ? &d->lease : NULL,
                                     &remotes);
    if (n_remotes != d->n_remotes
        || (n_remotes
            && memcmp(remotes, d->remotes, n_remotes * sizeof *remotes))) {
        free(d->remotes);
        d->remotes = remotes;
        d->n_remotes = n_remotes;
        d->changed = true;
    } else {
        free(remotes);
    }
    d->n_cells = n;
    free(rows);
    d->view_dirty = false;
    if (d->blocked) {
        /* Something changed: perhaps a subnet is free now. */
        d->next_attempt = 0;
    }
}

/* The rows a claim decides from, as lease.c takes them: those read from
 * the leader (ours, and those worth watching, with their lease times),
 * judged by the watch (into '*summary'), then every other row of the view,
 * which were live (never taken over).  '*readp' gets, for each, its index
 * in 'read_rows' or SIZE_MAX for the view's.  Both are malloc'd. */
static size_t
collect_claim_rows(struct directory *d, struct lease_row **rowsp,
                   size_t **readp, struct lease_watch_summary *summary)
{
    size_t max = d->n_read_rows + hmap_count(&d->view_rows) + 1;
    struct lease_row *rows = xmalloc(max * sizeof *rows);
    size_t *read = xmalloc(max * sizeof *read);
    struct uuidset seen = UUIDSET_INITIALIZER(&seen);
    size_t n = 0;

    for (size_t i = 0; i < d->n_read_rows; i++) {
        const struct dir_row *r = &d->read_rows[i];
        uuidset_insert(&seen, &r->uuid);
        rows[n] = (struct lease_row) {
            .underlay_ip = r->underlay_ip,
            .subnet = r->subnet,
            .lease_expires = r->lease_expires,
            .renewed = r->renewed,
        };
        read[n++] = i;
    }
    lease_watch_judge(&d->watch, rows, n, time_msec(),
                      d->lifetime_s * 1000LL, summary);

    const struct dir_row *row;
    HMAP_FOR_EACH (row, node, &d->view_rows) {
        if (row->underlay_ip && row->subnet
            && !uuidset_find(&seen, &row->uuid)) {
            rows[n] = (struct lease_row) {
                .underlay_ip = row->underlay_ip,
                .subnet = row->subnet,
                .expired = false,
            };
            read[n++] = SIZE_MAX;
        }
    }
    uuidset_destroy(&seen);
    *rowsp = rows;
    *readp = read;
    return n;
}

static void
note_failure(struct directory *d, const char *what)
{
    long long int now = time_msec();

    d->n_failures++;
    d->backoff_ms = (d->backoff_ms
                     ? MIN(d->backoff_ms * 2, BACKOFF_MAX_MS)
                     : BACKOFF_MIN_MS);
    d->next_attempt = now + d->backoff_ms;

    char *when = xastrftime_msec("%H:%M:%S.###", time_wall_msec(), true);
    free(d->last_failure);
    d->last_failure = xasprintf("%s (%s UTC)", what, when);
    free(when);
    VLOG_INFO_RL(&rl, "%s; retrying in %u ms", what, d->backoff_ms);
}

/* Logs 'msg' (an error) at most every BLOCKED_LOG_MS, and looks again in
 * BLOCKED_RETRY_MS or when the data changes. */
static void
note_blocked(struct directory *d, char *msg)
{
    long long int now = time_msec();

    if (now >= d->next_blocked_log) {
        VLOG_ERR("%s", msg);
        d->next_blocked_log = now + BLOCKED_LOG_MS;
    }
    free(d->last_failure);
    d->last_failure = msg;
    d->blocked = true;
    d->next_attempt = now + BLOCKED_RETRY_MS;
}


/* No subnet (or ours held) unless a lease that looks over, and has not been
 * watched for a lifetime yet, turns out to be: says so (at most every
 * BLOCKED_LOG_MS, not as an error: waiting is the rule working) and looks
 * again when the first of them could have expired, or sooner. */
static void
note_watching(struct directory *d, const char *what,
              const struct lease_watch_summary *w)
{
    long long int now = time_msec();
    long long int wait = w->next == LLONG_MAX ? 0 : MAX(0, w->next - now);
    char *msg = xasprintf("%s, unless one of the %"PRIuSIZE" leases that "
                          "look over by this cell's clock is: a lease is "
                          "taken only once it has gone a lifetime (%"PRId64
                          " s) unrenewed, the first in %.1f s", what,
                          w->n_unknown, d->lifetime_s, wait / 1000.0);
    if (now >= d->next_watching_log) {
        VLOG_INFO("%s", msg);
        d->next_watching_log = now + BLOCKED_LOG_MS;
    }
    free(d->last_failure);
    d->last_failure = msg;
    d->blocked = true;
    d->next_attempt = now + MIN(BLOCKED_RETRY_MS, MAX(wait, 100));
}

static void
start_txn(struct directory *d, enum txn_kind kind,
          const struct ipv4_cidr *subnet, long long int now)
{
    d->txn_kind = kind;
    d->txn_subnet = *subnet;
    d->txn_now = now;
    d->txn_expires = now + d->lifetime_s * 1000;
    d->blocked = false;
}

/* Sends 'ops' in the own session as a transaction of 'kind'. */
static void
send_txn(struct directory *d, enum txn_kind kind, struct json *ops)
{
    if (db_session_transact(d->own, ops)) {
        d->txn = true;
        d->txn_kind = kind;
    }
}

static struct json *
comment_op(const char *format, ...) OVS_PRINTF_FORMAT(1, 2);

static struct json *
comment_op(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = xvasprintf(format, args);
    va_end(args);

    struct json *op = new_op("comment", NULL);
    json_object_put(op, "comment", json_string_create_nocopy(text));
    return op;
}

/* Reads, from the leader, our row and the rows worth watching (lease.h,
 * "Expiry"): those whose lease has ended by this cell's wall clock, and
 * those renewed more than a lifetime ahead of it (a cell whose clock is
 * ahead, or this cell's behind).  With the view's rows (every other lease,
 * live) that is what a claim decides from, and the watched rows that
 * expire are those it may take over.  With clocks that agree, renewals
 * keep a live lease out of both reads, so the other cells' renewals do not
 * reach this cell; a holder whose clock is ahead by more than a lifetime,
 * or behind by more than a lifetime less its renewal interval, is read at
 * each claim (and seen renewed). */
static void
read_for_claim(struct directory *d)
{
    static const char *const columns[] = {
        "_uuid", "underlay_ip", "subnet", "lease_expires", "renewed",
    };
    long long int now = time_wall_msec();

    struct json *ours = new_op("select", "Cell");
    json_object_put(ours, "where", json_array_create_1(
                        clause("underlay_ip", "==",
                               json_string_create(d->ip_text))));
    json_object_put(ours, "columns",
                    json_strings(columns, ARRAY_SIZE(columns)));

    struct json *ended = new_op("select", "Cell");
    json_object_put(ended, "where", json_array_create_1(
                        clause("lease_expires", "<",
                               json_integer_create(now))));
    json_object_put(ended, "columns",
                    json_strings(columns, ARRAY_SIZE(columns)));

    struct json *ahead = new_op("select", "Cell");
    json_object_put(ahead, "where", json_array_create_1(
                        clause("renewed", ">",
                               json_integer_create(
                                   now + d->lifetime_s * 1000))));
    json_object_put(ahead, "columns",
                    json_strings(columns, ARRAY_SIZE(columns)));

    send_txn(d, TXN_READ, json_array_create_3(ours, ended, ahead));
}

/* Takes the rows of a TXN_READ's 'result'. */
static void
take_read_rows(struct directory *d, const struct json *result)
{
    free_read_rows(d);
    d->have_read = true;
    if (result->type != JSON_ARRAY) {
        return;
    }

    struct uuidset seen = UUIDSET_INITIALIZER(&seen);
    size_t allocated = 0;
    for (size_t i = 0; i < json_array(result)->n; i++) {
        const struct json *r = json_array(result)->elems[i];
        const struct json *rows = (r->type == JSON_OBJECT
                                   ? shash_find_data(json_object(r), "rows")
                                   : NULL);
        for (size_t j = 0; rows && rows->type == JSON_ARRAY
                           && j < json_array(rows)->n; j++) {
            const struct json *row = json_array(rows)->elems[j];
            struct uuid uuid;
            if (row->type != JSON_OBJECT
                || !uuid_from_value(shash_find_data(json_object(row),
                                                    "_uuid"), &uuid)) {
                continue;
            }
            if (uuidset_find(&seen, &uuid)) {
                continue;           /* In two of the selects. */
            }
            uuidset_insert(&seen, &uuid);
            if (d->n_read_rows >= allocated) {
                d->read_rows = x2nrealloc(d->read_rows, &allocated,
                                          sizeof *d->read_rows);
            }
            struct dir_row *dr = &d->read_rows[d->n_read_rows++];
            *dr = (struct dir_row) { .uuid = uuid };
            row_update(dr, json_object(row));
            d->n_rows_read++;
        }
    }
    uuidset_destroy(&seen);

    /* A row without an address or subnet is none of lease.c's business. */
    size_t n = 0;
    for (size_t i = 0; i < d->n_read_rows; i++) {
        if (d->read_rows[i].underlay_ip && d->read_rows[i].subnet) {
            d->read_rows[n++] = d->read_rows[i];
        } else {
            row_destroy(&d->read_rows[i]);
        }
    }
    d->n_read_rows = n;
}

/* Renews the row 'uuid', ours, which holds 'subnet': the transaction
 * changes nothing (and so fails) if the row went or changed hands
 * meanwhile. */
static void
renew(struct directory *d, const struct uuid *uuid, enum txn_kind kind,
      const struct ipv4_cidr *subnet)
{
    long long int now = time_wall_msec();
    if (now == d->renewed) {
        now++;                      /* A renewal always changes the row (a
                                     * clock that stood still, or stepped
                                     * back exactly). */
    }
    char subnet_s[IPV4_CIDR_LEN];

    ipv4_cidr_format(subnet, subnet_s);
    start_txn(d, kind, subnet, now);
    d->own_uuid = *uuid;

    struct json *op = new_op("update", "Cell");
    json_object_put(op, "where", json_array_create_3(
                        clause("_uuid", "==", uuid_value(uuid)),
                        clause("underlay_ip", "==",
                               json_string_create(d->ip_text)),
                        clause("subnet", "==",
                               json_string_create(subnet_s))));
    struct json *row = json_object_create();
    json_object_put(row, "lease_expires",
                    json_integer_create(d->txn_expires));
    json_object_put(row, "renewed", json_integer_create(now));
    json_object_put(op, "row", row);
    send_txn(d, kind, json_array_create_2(
                 op, comment_op("cell %s: renew lease %s", d->ip_text,
                                subnet_s)));
}

/* Claims a lease, or claims ours again if its row is gone, deciding from
 * the rows just read. */
static void
claim(struct directory *d)
{
    struct lease_overlay lo;

    if (d->view_overlay) {
        lease_overlay_init(&lo, (const char *const *) d->view_networks,
                           d->n_view_networks, d->view_plen, NULL);
    } else {
        lease_overlay_init(&lo, NULL, 0, 0, NULL);
    }

    struct lease_row *rows;
    size_t *read;
    struct lease_watch_summary watched;
    size_t n = collect_claim_rows(d, &rows, &read, &watched);
    long long int now = time_wall_msec();
    struct lease_decision dec;
    if (!d->have_lease && d->have_hint
        && lease_overlay_contains(&lo, &d->hint)) {
        /* The subnet this cell had before (its containers may still have
         * addresses in it): take it again if it is free. */
        lease_decide(&lo, rows, n, d->underlay_ip, &d->hint,
                     d->failed_claims, &dec);
        bool wait = (dec.action == LEASE_HELD && read[dec.row] != SIZE_MAX
                     && watched.n_unknown);
        if (dec.action != LEASE_KEEP && dec.action != LEASE_CLAIM && !wait) {
            lease_decision_destroy(&dec);
            lease_decide(&lo, rows, n, d->underlay_ip, NULL,
                         d->failed_claims, &dec);
        }
    } else {
        lease_decide(&lo, rows, n, d->underlay_ip,
                     d->have_lease ? &d->lease : NULL, d->failed_claims,
                     &dec);
    }

    /* What the decision keeps or deletes must be among the rows read: the
     * expired rows and ours are.  (A row of ours whose address is written
     * otherwise than we write it is only in the view.) */
    bool missing = dec.action == LEASE_KEEP && read[dec.row] == SIZE_MAX;
    for (size_t i = 0; dec.action == LEASE_CLAIM && i < dec.n_deletes; i++) {
        missing = missing || read[dec.deletes[i]] == SIZE_MAX;
    }
    char subnet[IPV4_CIDR_LEN];
    ipv4_cidr_format(&dec.subnet, subnet);
    if (missing) {
        note_failure(d, "a row to keep or take over was not read");
    } else switch (dec.action) {
    case LEASE_KEEP:
        renew(d, &d->read_rows[read[dec.row]].uuid,
              d->have_lease ? TXN_RENEW : TXN_KEEP, &dec.subnet);
        break;

    case LEASE_CLAIM: {
        struct json *ops = json_array_create_empty();
        start_txn(d, TXN_CLAIM, &dec.subnet, now);
        for (size_t i = 0; i < dec.n_deletes; i++) {
            const struct dir_row *row = &d->read_rows[read[dec.deletes[i]]];
            struct json *where = json_array_create_1(
                clause("_uuid", "==", uuid_value(&row->uuid)));
            uint32_t ip;
            if (!ipv4_parse(row->underlay_ip, &ip)
                || ip != d->underlay_ip) {
                /* Reclaiming an expired lease: not if its cell renewed it
                 * meanwhile (or the row went). */
                struct json *wait = new_op("wait", "Cell");
                struct json *expect = json_object_create();
                json_object_put(expect, "lease_expires",
                                json_integer_create(row->lease_expires));
                json_object_put(expect, "renewed",
                                json_integer_create(row->renewed));
                json_object_put(wait, "where", json_clone(where));
                json_object_put(wait, "columns", json_array_create_2(
                                    json_string_create("lease_expires"),
                                    json_string_create("renewed")));
                json_object_put_string(wait, "until", "==");
                json_object_put(wait, "rows", json_array_create_1(expect));
                json_object_put(wait, "timeout", json_integer_create(0));
                json_array_add(ops, wait);
                long long int ago = now - row->lease_expires;
                VLOG_INFO("reclaiming %s from cell %s (not renewed for a "
                          "lease lifetime, %"PRId64" s, by this cell's "
                          "clock; by its wall clock the lease %s %.1f s%s)",
                          row->subnet, row->underlay_ip, d->lifetime_s,
                          ago >= 0 ? "ended" : "ends in",
                          llabs(ago) / 1000.0, ago >= 0 ? " ago" : "");
            } else {
                VLOG_INFO("replacing our row (subnet %s): %s", row->subnet,
                          d->have_lease ? "not our lease"
                                        : "not usable in the overlay");
            }
            struct json *del = new_op("delete", "Cell");
            json_object_put(del, "where", where);
            json_array_add(ops, del);
        }
        struct json *insert = new_op("insert", "Cell");
        struct json *row = json_object_create();
        json_object_put_string(row, "underlay_ip", d->ip_text);
        json_object_put_string(row, "subnet", subnet);
        json_object_put(row, "lease_expires",
                        json_integer_create(d->txn_expires));
        json_object_put(row, "renewed", json_integer_create(now));
        json_object_put(insert, "row", row);
        json_array_add(ops, insert);
        json_array_add(ops, comment_op("cell %s: claim lease %s",
                                       d->ip_text, subnet));
        send_txn(d, TXN_CLAIM, ops);
        break;
    }

    case LEASE_NONE_FREE:
        if (watched.n_unknown) {
            /* Perhaps some are dead cells' leases: not knowable before
             * they have gone unrenewed for a lifetime. */
            note_watching(d, "no free subnet", &watched);
        } else {
            struct ds s = DS_EMPTY_INITIALIZER;
            lease_overlay_format(&lo, &s);
            note_blocked(d, xasprintf("no free subnet in %s (%"PRIuSIZE
                                      " cells hold leases)", ds_cstr(&s),
                                      dec.n_live));
            ds_destroy(&s);
        }
        break;

    case LEASE_HELD: {
        const struct lease_row *holder = &rows[dec.row];
        if (read[dec.row] != SIZE_MAX && watched.n_unknown) {
            /* Its lease looks over by our clock: watched.  (Ours is our
             * lease, or the subnet this cell had before.) */
            char ours[IPV4_CIDR_LEN];
            ipv4_cidr_format(d->have_lease ? &d->lease : &d->hint, ours);
            char *what = xasprintf("our lease %s is held by cell %s",
                                   ours, holder->underlay_ip);
            note_watching(d, what, &watched);
            free(what);
        } else {
            /* A live lease (in the view, or read and seen renewed). */
            note_blocked(d, xasprintf("our lease %s is held by cell %s (its "
                                      "row has subnet %s, live): keeping "
                                      "our lease, its containers have "
                                      "addresses in it", d->lease_text,
                                      holder->underlay_ip, holder->subnet));
        }
        break;
    }
    }

    /* Each claim decides from rows read for it. */
    lease_decision_destroy(&dec);
    free(rows);
    free(read);
    free_read_rows(d);
    lease_overlay_destroy(&lo);
}

/* The number of rows a TXN_KEEP or TXN_RENEW updated (its first
 * operation's "count"), or -1. */
static long long int
update_count(const struct json *result)
{
    if (result && result->type == JSON_ARRAY && json_array(result)->n
        && json_array(result)->elems[0]->type == JSON_OBJECT) {
        const struct json *count = shash_find_data(
            json_object(json_array(result)->elems[0]), "count");
        if (count && count->type == JSON_INTEGER) {
            return json_integer(count);
        }
    }
    return -1;
}

/* The uuid a TXN_CLAIM inserted (the result of its last operation but the
 * comment). */
static bool
inserted_uuid(const struct json *result, struct uuid *uuid)
{
    for (size_t i = 0; result && result->type == JSON_ARRAY
                       && i < json_array(result)->n; i++) {
        const struct json *r = json_array(result)->elems[i];
        if (r->type == JSON_OBJECT
            && uuid_from_value(shash_find_data(json_object(r), "uuid"),
                               uuid)) {
            return true;
        }
    }
    return false;
}

static void
txn_succeeded(struct directory *d)
{
    char subnet[IPV4_CIDR_LEN];
    ipv4_cidr_format(&d->txn_subnet, subnet);
    long long int lifetime_s = (d->txn_expires - d->txn_now) / 1000;

    switch (d->txn_kind) {
    case TXN_READ:
        OVS_NOT_REACHED();
    case TXN_CLAIM:
        d->n_claims++;
        if (d->have_lease) {
            VLOG_INFO("claimed our lease %s again (lease of %lld s)",
                      subnet, lifetime_s);
        } else {
            VLOG_INFO("claimed lease %s (lease of %lld s)", subnet,
                      lifetime_s);
        }
        break;
    case TXN_KEEP:
        d->n_renewals++;
        VLOG_INFO("kept lease %s from an earlier run (lease of %lld s)",
                  subnet, lifetime_s);
        break;
    case TXN_RENEW:
        d->n_renewals++;
        VLOG_DBG("renewed lease %s", subnet);
        break;
    }
    if (!d->have_lease) {
        d->have_lease = true;
        d->lease = d->txn_subnet;
        memcpy(d->lease_text, subnet, sizeof subnet);
        d->changed = true;
        d->view_dirty = true;       /* Which other cells overlap it. */
    }
    d->own_row_matches = true;
    d->lease_expires = d->txn_expires;
    d->renewed = d->txn_now;
    d->backoff_ms = 0;
    d->failed_claims = 0;
    d->next_attempt = 0;
    d->next_renew = time_msec() + renew_interval_ms(d);
    d->next_blocked_log = 0;
    d->next_watching_log = 0;
}

/* Looks at the transaction in flight, if any. */
static void
check_txn(struct directory *d)
{
    enum db_txn_status status = db_session_txn_status(d->own);
    if (!d->txn || status == DB_TXN_PENDING) {
        return;
    }

    const struct json *result = db_session_txn_result(d->own);
    char *error = (status == DB_TXN_SUCCESS ? NULL
                   : xstrdup(db_session_txn_error(d->own) ?: "failed"));
    struct uuid uuid;
    if (error) {
        /* Below. */
    } else if (d->txn_kind == TXN_READ) {
        take_read_rows(d, result);
    } else if (d->txn_kind == TXN_CLAIM) {
        if (inserted_uuid(result, &uuid)) {
            d->own_uuid = uuid;
            txn_succeeded(d);
        } else {
            error = xstrdup("no row inserted");
        }
    } else if (update_count(result) == 1) {
        txn_succeeded(d);
    } else {
        /* Gone, or not ours any more: claim it again. */
        d->own_row_matches = false;
        error = xstrdup("our row is gone or holds another subnet");
    }

    if (error) {
        char subnet[IPV4_CIDR_LEN];
        ipv4_cidr_format(&d->txn_subnet, subnet);
        char *what = (d->txn_kind == TXN_READ
                      ? xasprintf("%s failed: %s",
                                  txn_kind_name(d->txn_kind), error)
                      : xasprintf("%s of %s failed: %s",
                                  txn_kind_name(d->txn_kind), subnet,
                                  error));
        note_failure(d, what);
        free(what);
        free(error);
        if (d->txn_kind == TXN_CLAIM) {
            d->failed_claims++;
        }
        /* The leader may have moved. */
        db_session_recheck(d->own);
    }
    db_session_txn_clear(d->own);
    d->txn = false;
}

/* When the next claim or renewal is due (LLONG_MAX: nothing to do until
 * the data changes). */
static long long int
next_action(const struct directory *d)
{
    if (!d->connected || d->txn) {
        return LLONG_MAX;
    }
    if (d->have_lease && d->own_row_matches) {
        return MAX(d->next_renew, d->next_attempt);
    }
    if (!d->have_lease && !d->overlay_row) {
        return LLONG_MAX;               /* Nothing to lease from yet. */
    }
    return d->have_read ? 0 : d->next_attempt;
}

bool
directory_run(struct directory *d)
{
    db_session_run(d->view);
    db_session_run(d->own);
    update_connection(d);
    if (d->connected && d->view_dirty) {
        copy_view(d);
    }
    check_txn(d);
    if (d->connected && d->view_dirty) {
        copy_view(d);               /* A new lease changes the remotes. */
    }

    if (time_msec() >= next_action(d)) {
        if (d->have_lease && d->own_row_matches) {
            renew(d, &d->own_uuid, TXN_RENEW, &d->lease);
        } else if (!d->have_read) {
            read_for_claim(d);
        } else {
            claim(d);
        }
    }

    bool changed = d->changed;
    d->changed = false;
    return changed;
}

void
directory_wait(struct directory *d)
{
    db_session_wait(d->view);
    db_session_wait(d->own);
    long long int when = next_action(d);
    if (when != LLONG_MAX) {
        poll_timer_wait_until(when);
    }
}

bool
directory_get_lease(const struct directory *d, struct ipv4_cidr *subnet)
{
    if (d->have_lease) {
        *subnet = d->lease;
    }
    return d->have_lease;
}

const struct ipv4_cidr *
directory_get_overlays(const struct directory *d, size_t *n)
{
    *n = d->n_overlays;
    return d->overlays;
}

const struct model_remote *
directory_get_remotes(const struct directory *d, size_t *n)
{
    *n = d->n_remotes;
    return d->remotes;
}

void
directory_set_hint(struct directory *d, const struct ipv4_cidr *subnet)
{
    if (!d->have_lease) {
        d->have_hint = true;
        d->hint = *subnet;
    }
}

void
directory_get_stats(const struct directory *d, struct directory_stats *st)
{
    *st = (struct directory_stats) {
        .connected = d->connected,
        .have_lease = d->have_lease,
        .n_claims = d->n_claims,
        .n_renewals = d->n_renewals,
        .n_failures = d->n_failures,
        .n_view_updates = d->n_view_updates,
        .n_rows_read = d->n_rows_read,
        .n_view_received = db_session_get_n_received(d->view),
        .n_own_received = db_session_get_n_received(d->own),
    };
}

bool
directory_is_connected(const struct directory *d)
{
    return d->connected;
}

/* Appends wall-clock time 'when' and how long ago (or ahead) it is. */
static void
put_time(struct ds *ds, long long int when, long long int now)
{
    ds_put_strftime_msec(ds, "%Y-%m-%d %H:%M:%S.###", when, true);
    long long int delta = when - now;
    if (delta >= 0) {
        ds_put_format(ds, " UTC (in %.1f s)", delta / 1000.0);
    } else {
        ds_put_format(ds, " UTC (%.1f s ago)", -delta / 1000.0);
    }
}

void
directory_format(const struct directory *d, struct ds *ds)
{
    long long int now = time_wall_msec();

    ds_put_format(ds, "cluster directory: %s", d->connected ? "connected"
                  : d->conn_changed ? "not connected" : "never connected");
    if (d->conn_changed) {
        ds_put_cstr(ds, " since ");
        put_time(ds, d->conn_changed, now);
    }
    ds_put_format(ds, "\n  remotes: %s\n  underlay ip: %s\n",
                  d->remotes_text, d->ip_text);

    if (d->have_lease) {
        ds_put_format(ds, "  lease: %s, expires ", d->lease_text);
        put_time(ds, d->lease_expires, now);
        ds_put_cstr(ds, "\n  last renewed: ");
        put_time(ds, d->renewed, now);
        ds_put_char(ds, '\n');
    } else {
        ds_put_cstr(ds, "  lease: none\n");
    }

    if (d->have_overlay) {
        ds_put_cstr(ds, "  overlay: ");
        for (size_t i = 0; i < d->n_overlays; i++) {
            char buf[IPV4_CIDR_LEN];
            ipv4_cidr_format(&d->overlays[i], buf);
            ds_put_format(ds, "%s%s", i ? ", " : "", buf);
        }
        struct directory *dd = CONST_CAST(struct directory *, d);
        ds_put_format(ds, " (/%u subnets, lease lifetime %"PRId64" s, "
                      "renewal every %.1f s)\n", d->subnet_plen,
                      d->lifetime_s, renew_interval_ms(dd) / 1000.0);
    } else {
        ds_put_cstr(ds, "  overlay: unknown\n");
    }
    ds_put_format(ds, "  cells: %"PRIuSIZE" (other cells: %"PRIuSIZE")\n",
                  d->n_cells, d->n_remotes);
    ds_put_format(ds, "  claims: %llu, renewals: %llu, failures: %llu\n",
                  d->n_claims, d->n_renewals, d->n_failures);
    ds_put_format(ds, "  row updates received: %llu (cells), %llu (rows "
                  "read to claim)\n", d->n_view_updates, d->n_rows_read);
    const char *view_name = db_session_get_name(d->view);
    const char *own_name = db_session_get_name(d->own);
    ds_put_format(ds, "  messages received: %llu (view, %s), %llu (own, "
                  "%s)\n", db_session_get_n_received(d->view),
                  view_name ? view_name : "not connected",
                  db_session_get_n_received(d->own),
                  own_name ? own_name : "not connected");
    if (d->txn) {
        ds_put_format(ds, "  in flight: %s\n", txn_kind_name(d->txn_kind));
    }
    if (d->last_failure) {
        ds_put_format(ds, "  last problem: %s\n", d->last_failure);
    }
}

/* flowctl/cells: the other cells this one forwards to (cluster mode). */
static void
directory_cells_unixctl(struct unixctl_conn *conn, int argc OVS_UNUSED,
                        const char *argv[] OVS_UNUSED, void *d_)
{
    const struct directory *d = d_;

    if (!d) {
        unixctl_command_reply_error(conn, "single-cell mode: no other cells "
                                    "(flowctl has no \"cluster\" setting)");
        return;
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "%"PRIuSIZE" other cells%s\n", d->model->n_remotes,
                  directory_is_connected(d)
                  ? "" : " (as last known: the directory is unreachable)");
    for (size_t i = 0; i < d->model->n_remotes; i++) {
        const struct model_remote *r = &d->model->remotes[i];
        ds_put_format(&s, IP_FMT" "IP_FMT"/%u\n",
                      IP_ARGS(htonl(r->underlay_ip)),
                      IP_ARGS(htonl(r->subnet.addr)), r->subnet.plen);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

void
directory_register_unixctl(struct directory *d, const struct model *model)
{
    if (d) {
        d->model = model;
    }
    unixctl_command_register("flowctl/cells", "", 0, 0,
                             directory_cells_unixctl, d);
}
