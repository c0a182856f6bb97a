/*
 * directory: see directory.h.
 */

#include <config.h>

#include "directory.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cfnet-idl.h"
#include "ipv4.h"
#include "lease.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "uuidset.h"

VLOG_DEFINE_THIS_MODULE(directory);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define BACKOFF_MIN_MS 100          /* A failed transaction is retried */
#define BACKOFF_MAX_MS 2000         /* after this, doubling up to this. */
#define BLOCKED_RETRY_MS 1000       /* No free subnet, or ours is held:
                                     * look again (sooner if the data
                                     * changes). */
#define BLOCKED_LOG_MS 10000        /* ... and say so this often. */
#define CLAIM_ASK_RETRY_MS 5000     /* Ask again for what a claim needs if
                                     * the server has not answered (a
                                     * reconnection may lose the ask). */

enum txn_kind {
    TXN_CLAIM,                      /* Insert our row. */
    TXN_KEEP,                       /* Renew the row we found at start. */
    TXN_RENEW,                      /* Renew our row. */
};

static const char *
txn_kind_name(enum txn_kind kind)
{
    return (kind == TXN_CLAIM ? "claim"
            : kind == TXN_KEEP ? "renewal of the earlier lease"
            : "renewal");
}

/* One of the two sessions with the cluster (see directory.h). */
struct dir_session {
    struct ovsdb_idl *idl;
    unsigned int session_seqno;     /* IDL seqno when last disconnected. */
    bool synced;                    /* Connected, with the data since. */
    unsigned long long int n_updates; /* Cell row changes received. */
};

struct directory {
    struct dir_session view;        /* Every Cell row, but not the lease
                                     * times; the Overlay row. */
    struct dir_session own;         /* Every column of our own Cell row,
                                     * and while claiming of every row
                                     * that had expired at 'claim_cutoff'. */
    bool own_claiming;              /* 'own' asked for the expired rows, */
    long long int claim_cutoff;     /* wall ms, ... */
    unsigned int claim_seqno;       /* and has them once its condition
                                     * seqno reaches this. */
    long long int claim_asked;      /* Monotonic ms: when it asked. */
    bool refresh_cutoff;            /* A claim failed: ask again, with a
                                     * new cutoff, before the next one. */
    char *remotes_text;
    uint32_t underlay_ip;
    char ip_text[IPV4_ADDR_LEN];
    unsigned int renew_interval_s;  /* As given; 0 = lifetime / 3. */
    bool have_hint;                 /* The subnet this cell had before */
    struct ipv4_cidr hint;         /* (directory_set_hint()). */
    bool renew_clamped_logged;

    /* The connection.  "Connected" means in sync with the cluster: both
     * IDLs have a session with a member that is part of it and have
     * received the data since it began (every monitor reply increments an
     * IDL's seqno). */
    bool connected;
    long long int conn_changed;     /* Wall ms of the last change (0:
                                     * never connected). */
    unsigned int copied_view_seqno; /* The IDLs' seqnos of the copy */
    unsigned int copied_own_seqno;  /* below. */

    /* Copied out of the IDL, kept while disconnected. */
    bool have_overlay;              /* Has ever read the Overlay row. */
    bool overlay_row;               /* The Overlay row exists now. */
    struct ipv4_cidr *overlays;    /* Its networks. */
    size_t n_overlays;
    unsigned int subnet_plen;
    int64_t lifetime_s;
    struct model_remote *remotes;
    size_t n_remotes;
    size_t n_cells;                 /* Cell rows, ours included. */
    bool own_row;                   /* Our row exists ... */
    bool own_row_matches;           /* ... with the subnet we hold. */

    /* The lease. */
    bool have_lease;
    struct ipv4_cidr lease;
    char lease_text[IPV4_CIDR_LEN];
    long long int lease_expires;    /* Wall ms, as we last wrote it. */
    long long int renewed;          /* Wall ms of our last write. */

    /* The transaction in flight, if any. */
    struct ovsdb_idl_txn *txn;
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

    /* Counters, for directory_format(). */
    unsigned long long int n_claims;
    unsigned long long int n_renewals;
    unsigned long long int n_failures;
    char *last_failure;             /* With its time; NULL if none. */

    bool changed;                   /* For directory_run()'s result. */
    const struct model *model;      /* For flowctl/cells. */
};

/* Replicates 'column' of Cell in 's', tracking its changes for
 * session_count_updates().  (ovsdb_idl_track_add_all() would replicate
 * every column.) */
static void
session_add_cell_column(struct dir_session *s,
                        const struct ovsdb_idl_column *column)
{
    ovsdb_idl_add_column(s->idl, column);
    ovsdb_idl_track_add_column(s->idl, column);
}

static void
session_init(struct dir_session *s, const char *remotes, bool leader_only)
{
    /* Only the columns added below. */
    s->idl = ovsdb_idl_create(remotes, &cfnetrec_idl_class, false, true);
    ovsdb_idl_set_leader_only(s->idl, leader_only);
    ovsdb_idl_add_table(s->idl, &cfnetrec_table_overlay);
    for (size_t i = 0; i < CFNETREC_OVERLAY_N_COLUMNS; i++) {
        ovsdb_idl_add_column(s->idl, &cfnetrec_overlay_columns[i]);
    }
    ovsdb_idl_add_table(s->idl, &cfnetrec_table_cell);
    session_add_cell_column(s, &cfnetrec_cell_col_underlay_ip);
    session_add_cell_column(s, &cfnetrec_cell_col_subnet);
    session_add_cell_column(s, &cfnetrec_cell_col_external_ids);
}

/* Asks the 'own' session for our row, and ('claiming') for every row whose
 * lease has expired by now: with the view's rows (every live lease) that
 * is what a claim decides from, and the expired rows are those it may take
 * over.  A renewal moves a live lease further from the cutoff, so it
 * reaches no claimant. */
static void
set_own_condition(struct directory *d, bool claiming)
{
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);

    cfnetrec_cell_add_clause_underlay_ip(&cond, OVSDB_F_EQ, d->ip_text);
    if (claiming) {
        d->claim_cutoff = time_wall_msec();
        cfnetrec_cell_add_clause_lease_expires(&cond, OVSDB_F_LT,
                                               d->claim_cutoff);
    }
    d->claim_seqno = cfnetrec_cell_set_condition(d->own.idl, &cond);
    d->claim_asked = time_msec();
    d->own_claiming = claiming;
    VLOG_DBG("own session: %s (condition seqno %u, now %u)",
             claiming ? "our row and the expired ones" : "our row",
             d->claim_seqno, ovsdb_idl_get_condition_seqno(d->own.idl));
    d->refresh_cutoff = false;
    ovsdb_idl_condition_destroy(&cond);
}

/* True if the 'own' session holds what a claim needs. */
static bool
own_ready_to_claim(const struct directory *d)
{
    return (d->own_claiming
            && (int) (ovsdb_idl_get_condition_seqno(d->own.idl)
                      - d->claim_seqno) >= 0);
}

struct directory *
directory_create(const char *remotes, uint32_t underlay_ip,
                 unsigned int renew_interval_s)
{
    struct directory *d = xzalloc(sizeof *d);

    d->underlay_ip = underlay_ip;
    ipv4_format(underlay_ip, d->ip_text);

    /* The view: what every cell needs of the others, which changes only
     * when a cell claims a lease or its row goes.  Any member that is part
     * of the cluster will do, as for OVN's controllers: a follower serves
     * the (Raft-committed) data, and the IDL still refuses members cut off
     * from the cluster or behind what it has seen; the fleet's sessions
     * spread over the members, and only the clients of a lost member
     * reconnect. */
    session_init(&d->view, remotes, false);

    /* Our own row, whole: renewing writes its lease times, which the IDL
     * writes only in columns it replicates.  This session writes, so it
     * talks to the leader: a follower forwards a transaction with the
     * log entry it has seen as a prerequisite, and when the cluster
     * commits faster than that round trip (1,000 cells renewing every 10 s
     * did, in bench/directory-scale) every forwarded transaction fails its
     * prerequisite and is retried until it starves, and renewals stall.
     * A new session may try followers first (the IDL's backoff): 200
     * claims took 8.6 s leader-only, 2.9 s through any member
     * (bench/overlay, when one session did both). */
    session_init(&d->own, remotes, true);
    session_add_cell_column(&d->own, &cfnetrec_cell_col_lease_expires);
    session_add_cell_column(&d->own, &cfnetrec_cell_col_renewed);
    d->remotes_text = xstrdup(remotes);
    d->renew_interval_s = renew_interval_s;
    /* Our row only, at first: what a claim needs is asked for once the
     * session is up (a condition set before that is part of the first
     * request, whose reply does not count as the condition's ack). */
    set_own_condition(d, false);
    return d;
}

void
directory_monitor_lease_times(struct directory *d)
{
    session_add_cell_column(&d->view, &cfnetrec_cell_col_lease_expires);
    session_add_cell_column(&d->view, &cfnetrec_cell_col_renewed);
}

void
directory_destroy(struct directory *d)
{
    if (d) {
        if (d->txn) {
            ovsdb_idl_txn_destroy(d->txn);
        }
        ovsdb_idl_destroy(d->view.idl);
        ovsdb_idl_destroy(d->own.idl);
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
session_update(struct dir_session *s)
{
    unsigned int seqno = ovsdb_idl_get_seqno(s->idl);

    if (!ovsdb_idl_is_connected(s->idl)) {
        /* The next session counts once its data has arrived. */
        s->session_seqno = seqno;
        s->synced = false;
    } else if (seqno != s->session_seqno) {
        s->synced = true;
    }
}

/* Counts the Cell rows that changed in 's' since the last call (a row
 * changed twice in between counts once). */
static void
session_count_updates(struct dir_session *s)
{
    const struct cfnetrec_cell *row;

    CFNETREC_CELL_FOR_EACH_TRACKED (row, s->idl) {
        s->n_updates++;
    }
    ovsdb_idl_track_clear(s->idl);
}

static void
update_connection(struct directory *d)
{
    session_update(&d->view);
    session_update(&d->own);

    bool connected = d->view.synced && d->own.synced;
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
    }
    d->connected = connected;
    d->conn_changed = now;
}

/* Our Cell row in the 'own' session's replica, if any. */
static const struct cfnetrec_cell *
find_own_row(const struct directory *d)
{
    const struct cfnetrec_cell *row;

    CFNETREC_CELL_FOR_EACH (row, d->own.idl) {
        uint32_t ip;
        if (ipv4_parse(row->underlay_ip, &ip) && ip == d->underlay_ip) {
            return row;
        }
    }
    return NULL;
}

/* The Cell rows of 'idl' as lease.c takes them ('lease_expires' is 0 where
 * 'idl' does not replicate it); '*cellsp' gets the IDL rows in the same
 * order.  Both are malloc'd. */
static size_t
collect_rows(struct ovsdb_idl *idl, struct lease_row **rowsp,
             const struct cfnetrec_cell ***cellsp)
{
    const struct cfnetrec_cell *row;
    size_t n = 0, allocated = 0;
    struct lease_row *rows = NULL;
    const struct cfnetrec_cell **cells = NULL;

    CFNETREC_CELL_FOR_EACH (row, idl) {
        if (n >= allocated) {
            rows = x2nrealloc(rows, &allocated, sizeof *rows);
            cells = xrealloc(cells, allocated * sizeof *cells);
        }
        rows[n] = (struct lease_row) {
            .underlay_ip = row->underlay_ip,
            .subnet = row->subnet,
            .lease_expires = row->lease_expires,
        };
        cells[n] = row;
        n++;
    }
    *rowsp = rows;
    if (cellsp) {
        *cellsp = cells;
    } else {
        free(cells);
    }
    return n;
}

/* The rows a claim decides from, as lease.c takes them: every row of the
 * 'own' session (ours, and those that had expired at the cutoff, with their
 * lease times), then every other row of the view, which were live at the
 * cutoff (so 'lease_expires' is INT64_MAX: never taken over).  '*cellsp'
 * gets the 'own' session's rows in the same order, NULL for the view's.
 * Both are malloc'd. */
static size_t
collect_claim_rows(const struct directory *d, struct lease_row **rowsp,
                   const struct cfnetrec_cell ***cellsp)
{
    const struct cfnetrec_cell **own_cells;
    struct lease_row *own_rows;
    size_t n_own = collect_rows(d->own.idl, &own_rows, &own_cells);

    struct uuidset seen = UUIDSET_INITIALIZER(&seen);
    for (size_t i = 0; i < n_own; i++) {
        uuidset_insert(&seen, &own_cells[i]->header_.uuid);
    }

    const struct cfnetrec_cell **view_cells;
    struct lease_row *view_rows;
    size_t n_view = collect_rows(d->view.idl, &view_rows, &view_cells);

    size_t n = n_own;
    struct lease_row *rows = xmalloc((n_own + n_view) * sizeof *rows);
    const struct cfnetrec_cell **cells = xmalloc((n_own + n_view)
                                                  * sizeof *cells);
    memcpy(rows, own_rows, n_own * sizeof *rows);
    memcpy(cells, own_cells, n_own * sizeof *cells);
    for (size_t i = 0; i < n_view; i++) {
        if (!uuidset_find(&seen, &view_cells[i]->header_.uuid)) {
            rows[n] = view_rows[i];
            rows[n].lease_expires = INT64_MAX;
            cells[n] = NULL;
            n++;
        }
    }
    uuidset_destroy(&seen);
    free(own_rows);
    free(own_cells);
    free(view_rows);
    free(view_cells);

    *rowsp = rows;
    *cellsp = cells;
    return n;
}

/* Copies the overlay networks and the other cells out of the view (which
 * must be in sync). */
static void
copy_view(struct directory *d)
{
    const struct cfnetrec_overlay *ov = cfnetrec_overlay_first(d->view.idl);

    d->overlay_row = ov != NULL;
    if (ov) {
        struct lease_overlay lo;
        struct ds errors = DS_EMPTY_INITIALIZER;
        if (!lease_overlay_init(&lo, (const char *const *) ov->networks,
                                ov->n_networks, ov->subnet_prefix_length,
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
                      "%"PRId64" s)", ds_cstr(&s), ov->subnet_prefix_length,
                      ov->lease_lifetime_s);
            ds_destroy(&s);
            free(d->overlays);
            d->overlays = lo.networks;
            d->n_overlays = lo.n_networks;
            d->changed = true;
        } else {
            lease_overlay_destroy(&lo);
        }
        d->have_overlay = true;
        d->subnet_plen = ov->subnet_prefix_length;
        d->lifetime_s = ov->lease_lifetime_s;
    }

    struct lease_row *rows;
    size_t n = collect_rows(d->view.idl, &rows, NULL);
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
    d->copied_view_seqno = ovsdb_idl_get_seqno(d->view.idl);
}

/* Copies the state of our own row out of the 'own' session (which must be
 * in sync). */
static void
copy_own(struct directory *d)
{
    const struct cfnetrec_cell *own = find_own_row(d);
    struct ipv4_cidr subnet;

    d->own_row = own != NULL;
    d->own_row_matches = (own && d->have_lease
                          && ipv4_parse_cidr(own->subnet, &subnet)
                          && subnet.addr == d->lease.addr
                          && subnet.plen == d->lease.plen);
    d->copied_own_seqno = ovsdb_idl_get_seqno(d->own.idl);
}

/* Copies what changed in either session since the last copy, or ('all')
 * everything. */
static void
copy_from_idl(struct directory *d, bool all)
{
    bool view = (all || (ovsdb_idl_get_seqno(d->view.idl)
                         != d->copied_view_seqno));
    bool own = (all || (ovsdb_idl_get_seqno(d->own.idl)
                        != d->copied_own_seqno));

    if (view) {
        copy_view(d);
    }
    if (own) {
        copy_own(d);
    }
    if ((view || own) && d->blocked) {
        /* Something changed: perhaps a subnet is free now. */
        d->next_attempt = 0;
    }
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
    d->refresh_cutoff = true;
    d->next_attempt = now + BLOCKED_RETRY_MS;
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

/* Renews 'row', ours. */
static void
renew(struct directory *d, const struct cfnetrec_cell *row,
      enum txn_kind kind, const struct ipv4_cidr *subnet)
{
    long long int now = time_wall_msec();

    d->txn = ovsdb_idl_txn_create(d->own.idl);
    start_txn(d, kind, subnet, now);
    ovsdb_idl_txn_add_comment(d->txn, "cell %s: renew lease %s",
                              d->ip_text, row->subnet);
    /* Fails (try again) if the row went or changed hands meanwhile. */
    cfnetrec_cell_verify_underlay_ip(row);
    cfnetrec_cell_verify_subnet(row);
    if (strcmp(row->underlay_ip, d->ip_text)) {
        /* Our address as we write it, which is what the 'own' session's
         * condition looks for. */
        cfnetrec_cell_set_underlay_ip(row, d->ip_text);
    }
    cfnetrec_cell_set_lease_expires(row, d->txn_expires);
    cfnetrec_cell_set_renewed(row, now);
}

/* Claims a lease, or claims ours again if its row is gone. */
static void
claim(struct directory *d)
{
    const struct cfnetrec_overlay *ov = cfnetrec_overlay_first(d->own.idl);
    struct lease_overlay lo;

    if (ov) {
        lease_overlay_init(&lo, (const char *const *) ov->networks,
                           ov->n_networks, ov->subnet_prefix_length, NULL);
    } else {
        lease_overlay_init(&lo, NULL, 0, 0, NULL);
    }

    struct lease_row *rows;
    const struct cfnetrec_cell **cells;
    size_t n = collect_claim_rows(d, &rows, &cells);
    long long int now = time_wall_msec();
    struct lease_decision dec;
    if (!d->have_lease && d->have_hint
        && lease_overlay_contains(&lo, &d->hint)) {
        /* The subnet this cell had before (its containers may still have
         * addresses in it): take it again if it is free. */
        lease_decide(&lo, rows, n, d->underlay_ip, &d->hint,
                     d->failed_claims, now, &dec);
        if (dec.action != LEASE_KEEP && dec.action != LEASE_CLAIM) {
            lease_decision_destroy(&dec);
            lease_decide(&lo, rows, n, d->underlay_ip, NULL,
                         d->failed_claims, now, &dec);
        }
    } else {
        lease_decide(&lo, rows, n, d->underlay_ip,
                     d->have_lease ? &d->lease : NULL, d->failed_claims, now,
                     &dec);
    }

    /* What the decision keeps or deletes must be in the 'own' session: the
     * expired rows and ours are.  (A row of ours whose address is written
     * otherwise than we write it is only in the view.) */
    bool missing = dec.action == LEASE_KEEP && !cells[dec.row];
    for (size_t i = 0; dec.action == LEASE_CLAIM && i < dec.n_deletes; i++) {
        missing = missing || !cells[dec.deletes[i]];
    }
    char subnet[IPV4_CIDR_LEN];
    ipv4_cidr_format(&dec.subnet, subnet);
    if (missing) {
        note_failure(d, "a row to keep or take over is not replicated "
                     "yet");
        d->refresh_cutoff = true;
    } else switch (dec.action) {
    case LEASE_KEEP:
        renew(d, cells[dec.row], d->have_lease ? TXN_RENEW : TXN_KEEP,
              &dec.subnet);
        break;

    case LEASE_CLAIM:
        d->txn = ovsdb_idl_txn_create(d->own.idl);
        start_txn(d, TXN_CLAIM, &dec.subnet, now);
        ovsdb_idl_txn_add_comment(d->txn, "cell %s: claim lease %s",
                                  d->ip_text, subnet);
        for (size_t i = 0; i < dec.n_deletes; i++) {
            const struct cfnetrec_cell *row = cells[dec.deletes[i]];
            uint32_t ip;
            if (!ipv4_parse(row->underlay_ip, &ip)
                || ip != d->underlay_ip) {
                /* Reclaiming an expired lease: not if its cell renewed it
                 * meanwhile. */
                cfnetrec_cell_verify_lease_expires(row);
                VLOG_INFO("reclaiming %s from cell %s (expired %.1f s ago)",
                          row->subnet, row->underlay_ip,
                          (now - row->lease_expires) / 1000.0);
            } else {
                VLOG_INFO("replacing our row (subnet %s): %s", row->subnet,
                          d->have_lease ? "not our lease"
                                        : "not usable in the overlay");
            }
            cfnetrec_cell_delete(row);
        }
        struct cfnetrec_cell *row = cfnetrec_cell_insert(d->txn);
        cfnetrec_cell_set_underlay_ip(row, d->ip_text);
        cfnetrec_cell_set_subnet(row, subnet);
        cfnetrec_cell_set_lease_expires(row, d->txn_expires);
        cfnetrec_cell_set_renewed(row, now);
        break;

    case LEASE_NONE_FREE: {
        struct ds s = DS_EMPTY_INITIALIZER;
        lease_overlay_format(&lo, &s);
        note_blocked(d, xasprintf("no free subnet in %s (%"PRIuSIZE" cells "
                                  "hold leases)", ds_cstr(&s), dec.n_live));
        ds_destroy(&s);
        break;
    }

    case LEASE_HELD: {
        /* A live lease: only the view has it, without its expiry. */
        const struct lease_row *holder = &rows[dec.row];
        note_blocked(d, xasprintf("our lease %s is held by cell %s (its row "
                                  "has subnet %s, live): keeping our lease, "
                                  "its containers have addresses in it",
                                  d->lease_text, holder->underlay_ip,
                                  holder->subnet));
        break;
    }
    }

    if (d->txn) {
        /* Looked at once more in check_txn(). */
        ovsdb_idl_txn_commit(d->txn);
    }
    lease_decision_destroy(&dec);
    free(rows);
    free(cells);
    lease_overlay_destroy(&lo);
}

/* Looks at the transaction in flight, if any. */
static void
check_txn(struct directory *d)
{
    if (!d->txn) {
        return;
    }

    enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(d->txn);
    if (status == TXN_INCOMPLETE) {
        return;
    }

    char subnet[IPV4_CIDR_LEN];
    ipv4_cidr_format(&d->txn_subnet, subnet);
    if (status == TXN_SUCCESS || status == TXN_UNCHANGED) {
        long long int lifetime_s = (d->txn_expires - d->txn_now) / 1000;
        switch (d->txn_kind) {
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
        }
        d->lease_expires = d->txn_expires;
        d->renewed = d->txn_now;
        d->backoff_ms = 0;
        d->failed_claims = 0;
        d->next_attempt = 0;
        d->next_renew = time_msec() + renew_interval_ms(d);
        d->next_blocked_log = 0;
    } else {
        const char *status_s = ovsdb_idl_txn_status_to_string(status);
        const char *error = ovsdb_idl_txn_get_error(d->txn);
        if (error && !strcmp(error, status_s)) {
            error = NULL;
        }
        char *what = xasprintf("%s of %s failed: %s%s%s",
                               txn_kind_name(d->txn_kind), subnet, status_s,
                               error ? ": " : "", error ? error : "");
        note_failure(d, what);
        free(what);
        if (d->txn_kind == TXN_CLAIM) {
            d->failed_claims++;
        }
        d->refresh_cutoff = true;
    }
    ovsdb_idl_txn_destroy(d->txn);
    d->txn = NULL;

    /* Our row's state (and, with a new lease, which other cells overlap
     * it) is as of the latest data. */
    if (d->connected) {
        copy_from_idl(d, true);
    }
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
    if (!own_ready_to_claim(d)) {
        return LLONG_MAX;               /* Until the expired rows are in. */
    }
    if (!d->have_lease && !d->overlay_row) {
        return LLONG_MAX;               /* Nothing to lease from yet. */
    }
    return d->next_attempt;
}

bool
directory_run(struct directory *d)
{
    ovsdb_idl_run(d->view.idl);
    ovsdb_idl_run(d->own.idl);
    session_count_updates(&d->view);
    session_count_updates(&d->own);
    update_connection(d);
    if (d->connected) {
        copy_from_idl(d, false);
    }
    check_txn(d);

    /* Only our own row while we hold our lease in it (the view leaves the
     * lease times out): the other cells' renewals reach no one. */
    bool claiming = !(d->have_lease && d->own_row_matches);
    if (d->own.synced
        && (claiming != d->own_claiming
            || (claiming && d->refresh_cutoff && own_ready_to_claim(d)
                && time_msec() >= d->next_attempt)
            || (claiming && !own_ready_to_claim(d)
                && time_msec() >= d->claim_asked + CLAIM_ASK_RETRY_MS))) {
        set_own_condition(d, claiming);
    }

    if (time_msec() >= next_action(d)) {
        const struct cfnetrec_cell *own = find_own_row(d);
        if (d->have_lease && d->own_row_matches && own) {
            renew(d, own, TXN_RENEW, &d->lease);
            ovsdb_idl_txn_commit(d->txn);
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
    ovsdb_idl_wait(d->view.idl);
    ovsdb_idl_wait(d->own.idl);
    if (d->txn) {
        ovsdb_idl_txn_wait(d->txn);
    }
    long long int when = next_action(d);
    if (when != LLONG_MAX) {
        poll_timer_wait_until(when);
    }
    if (d->own_claiming && !own_ready_to_claim(d)) {
        poll_timer_wait_until(d->claim_asked + CLAIM_ASK_RETRY_MS);
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
        .n_view_updates = d->view.n_updates,
        .n_own_updates = d->own.n_updates,
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
    ds_put_format(ds, "  row updates received: %llu (cells), %llu (%s)\n",
                  d->view.n_updates, d->own.n_updates,
                  d->own_claiming ? "expired leases and ours, to claim"
                                  : "our lease");
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
