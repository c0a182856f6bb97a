/*
 * policysync: the policy server's client.  See policysync.h.
 */

#include <config.h>

#include "policysync.h"

#include <ctype.h>
#include <string.h>

#include "cf-policy.h"
#include "flowctl-config.h"
#include "https.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "pollsched.h"
#include "random.h"
#include "sset.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(policysync);

#define API "/networking/v1/internal"

/* The steps of a fetch.  A cycle starts at POLICY_STAMP or POLICIES
 * (policies) or ASG_PAGE (security groups) and returns to IDLE. */
#define STEPS                                                           \
    STEP(IDLE, "idle")                  /* Waiting for the schedule. */ \
    STEP(POLICY_STAMP, "GET policies_last_updated")                     \
    STEP(POLICIES, "GET policies")                                      \
    STEP(ASG_PAGE, "GET security_groups")

enum step {
#define STEP(ENUM, NAME) S_##ENUM,
    STEPS
#undef STEP
};

static const char *
step_name(enum step step)
{
    switch (step) {
#define STEP(ENUM, NAME) case S_##ENUM: return NAME;
        STEPS
#undef STEP
    }
    return "?";
}

/* One kind of fetch: the policies or the security groups. */
struct fetch {
    const char *what;           /* "policies", "security groups". */
    struct pollsched sched;
    enum step step;
    struct https_request *req;  /* In flight, or NULL. */
    bool must_fetch;            /* Fetch even if nothing seems changed. */
    uint64_t n_cycles;          /* Cycles ended, well or not. */

    /* What the request in flight (or the cycle) is for. */
    struct sset req_set;        /* Groups or spaces. */

    /* Status. */
    long long int last_ok_wall; /* Wall clock msec; 0: never. */
    long long int last_ok_ms;   /* How long that cycle took. */
    long long int cycle_start;  /* Monotonic msec. */
    uint64_t n_ok;
    uint64_t n_failed;
    char *error;                /* Last cycle's error, NULL if it was
                                 * good... */
    char *error_url;            /* ...and the URL it came from. */
    long long int failing_since_wall;
    char *logged_error;         /* The error class last logged, NULL when
                                 * healthy. */
    char *skipped;              /* Last skipped-entry messages, joined. */
};

/* A flowctl/policy-sync command waiting for both kinds to end a cycle. */
struct sync_waiter {
    struct unixctl_conn *conn;
    uint64_t policies_target;   /* The n_cycles to reach. */
    uint64_t asgs_target;
};

struct policysync {
    struct https *https;
    char *url;
    char *address;
    bool asg_syncing;
    bool watched;               /* Looked at the containers once. */

    struct fetch policies;
    uint64_t stamp;             /* The last policies_last_updated that the
                                 * model's policies are as new as. */
    bool have_stamp;
    uint64_t pending_stamp;     /* Read this cycle, stored once the
                                 * policies are. */
    struct sset groups;         /* The local policy groups, last seen. */
    size_t n_policies;          /* As last stored. */

    struct fetch asgs;
    struct sset spaces;         /* The local spaces, last seen. */
    struct cf_asg *acc;         /* The pages so far this cycle. */
    size_t n_acc, allocated_acc;
    struct svec acc_skipped;    /* Their skipped entries. */
    uint64_t page_from;         /* The page asked for ("from"). */
    size_t n_pages;
    size_t n_asgs;              /* As last stored. */

    struct sync_waiter *waiters;
    size_t n_waiters;
};

static void policysync_unixctl_sync(struct unixctl_conn *, int argc,
                                    const char *argv[], void *ps_);

static void
fetch_init(struct fetch *f, const char *what, long long int interval_ms)
{
    memset(f, 0, sizeof *f);
    f->what = what;
    pollsched_init(&f->sched, interval_ms, time_msec());
    f->must_fetch = true;
    sset_init(&f->req_set);
}

static void
fetch_destroy(struct fetch *f)
{
    https_request_destroy(f->req);
    sset_destroy(&f->req_set);
    free(f->error);
    free(f->error_url);
    free(f->logged_error);
    free(f->skipped);
}

struct policysync *
policysync_create(const struct flowctl_config *cfg)
{
    const struct flowctl_policy_server *server = cfg->policy_server;
    if (!server) {
        unixctl_command_register("flowctl/policy-sync", "", 0, 0,
                                 policysync_unixctl_sync, NULL);
        return NULL;
    }

    struct policysync *ps = xzalloc(sizeof *ps);
    struct https_config hc = {
        .base_url = server->url,
        .address = server->address,
        .ca_cert = server->ca_cert,
        .client_cert = server->client_cert,
        .client_key = server->client_key,
        .connect_timeout_ms = server->connect_timeout_ms,
        .request_timeout_ms = server->request_timeout_ms,
    };
    ps->https = https_create(&hc);
    ps->url = xstrdup(server->url);
    ps->address = nullable_xstrdup(server->address);
    ps->asg_syncing = cfg->enable_asg_syncing;
    fetch_init(&ps->policies, "policies", cfg->policy_poll_interval_ms);
    fetch_init(&ps->asgs, "security groups", cfg->asg_poll_interval_ms);
    sset_init(&ps->groups);
    sset_init(&ps->spaces);
    svec_init(&ps->acc_skipped);

    unixctl_command_register("flowctl/policy-sync", "", 0, 0,
                             policysync_unixctl_sync, ps);
    return ps;
}

static void
free_acc(struct policysync *ps)
{
    for (size_t i = 0; i < ps->n_acc; i++) {
        cf_asg_destroy(&ps->acc[i]);
    }
    free(ps->acc);
    ps->acc = NULL;
    ps->n_acc = ps->allocated_acc = 0;
    svec_clear(&ps->acc_skipped);
}

void
policysync_destroy(struct policysync *ps)
{
    if (!ps) {
        return;
    }
    for (size_t i = 0; i < ps->n_waiters; i++) {
        unixctl_command_reply_error(ps->waiters[i].conn, "flowctl exiting");
    }
    free(ps->waiters);
    fetch_destroy(&ps->policies);
    fetch_destroy(&ps->asgs);
    free_acc(ps);
    svec_destroy(&ps->acc_skipped);
    sset_destroy(&ps->groups);
    sset_destroy(&ps->spaces);
    https_destroy(ps->https);
    free(ps->url);
    free(ps->address);
    free(ps);
}

/* ---- the ends of a cycle ---- */

/* Returns 'error' with every digit replaced by '#': errors of one kind
 * ("Operation timed out after 5001 milliseconds") differ only in numbers,
 * and are logged once. */
static char *
error_class(const char *error)
{
    char *c = xstrdup(error);
    for (char *p = c; *p; p++) {
        if (isdigit((unsigned char) *p)) {
            *p = '#';
        }
    }
    return c;
}

static void
cycle_succeeded(struct fetch *f)
{
    long long int now = time_msec();

    f->step = S_IDLE;
    f->n_ok++;
    f->n_cycles++;
    f->last_ok_wall = time_wall_msec();
    f->last_ok_ms = now - f->cycle_start;
    if (f->logged_error) {
        VLOG_INFO("policy server: %s fetched again, after %u failed "
                  "attempts", f->what, f->sched.n_failures);
        free(f->logged_error);
        f->logged_error = NULL;
    }
    free(f->error);
    f->error = NULL;
    free(f->error_url);
    f->error_url = NULL;
    pollsched_success(&f->sched, now, random_uint32());
}

/* Ends 'f''s cycle without a request: there was nothing to ask for. */
static void
cycle_skipped(struct fetch *f)
{
    f->step = S_IDLE;
    f->n_cycles++;
    pollsched_success(&f->sched, time_msec(), random_uint32());
}

/* Ends 'f''s cycle with 'error' (taken), which its request for 'url' met:
 * nothing changes in the model. */
static void
cycle_failed(struct fetch *f, const char *url, char *error)
{
    long long int now = time_msec();

    f->step = S_IDLE;
    f->n_failed++;
    f->n_cycles++;
    f->must_fetch = true;
    if (!f->error) {
        f->failing_since_wall = time_wall_msec();
    }
    free(f->error);
    f->error = error;
    free(f->error_url);
    f->error_url = xstrdup(url);
    pollsched_failure(&f->sched, now, random_uint32());

    /* Logged once per kind of error, whichever endpoint met it. */
    char *class = error_class(error);
    if (!f->logged_error || strcmp(class, f->logged_error)) {
        VLOG_WARN("policy server: fetching %s failed: %s (GET %s; the last "
                  "good %s stay in force; retrying with backoff)",
                  f->what, error, url, f->what);
        free(f->logged_error);
        f->logged_error = class;
    } else {
        free(class);
    }
}

/* Ends 'f''s cycle with its request's 'error' (taken), and frees the
 * request. */
static void
request_failed(struct fetch *f, char *error)
{
    char *url = xstrdup(https_request_url(f->req));

    https_request_destroy(f->req);
    f->req = NULL;
    cycle_failed(f, url, error);
    free(url);
}

/* Logs the entries the parser skipped, when they differ from last time's
 * (each poll would otherwise log the same ones again). */
static void
note_skipped(struct fetch *f, const struct svec *skipped)
{
    char *joined = skipped->n ? svec_join(skipped, "; ", "") : NULL;

    if (!nullable_string_is_equal(joined, f->skipped)) {
        for (size_t i = 0; i < skipped->n; i++) {
            VLOG_WARN("policy server: %s: entry skipped: %s", f->what,
                      skipped->names[i]);
        }
    }
    free(f->skipped);
    f->skipped = joined;
}

/* The response of 'f''s request: NULL if it is a 200 with a body, else a
 * malloc'd error. */
static char *
check_response(const struct fetch *f)
{
    const struct https_result *res = https_request_result(f->req);

    if (res->error) {
        return xstrdup(res->error);
    }
    if (res->status != 200) {
        /* CF's errors are {"error":"..."}: quote a little of the body. */
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "HTTP status %ld", res->status);
        if (res->body_len) {
            size_t n = MIN(res->body_len, 200);
            ds_put_cstr(&s, ": ");
            for (size_t i = 0; i < n; i++) {
                unsigned char c = res->body[i];
                ds_put_char(&s, isprint(c) ? c : '?');
            }
            if (n < res->body_len) {
                ds_put_cstr(&s, "...");
            }
        }
        return ds_steal_cstr(&s);
    }
    return NULL;
}

/* Appends 'set', sorted, percent-encoded and comma-joined, to 's'. */
static void
put_id_list(struct ds *s, const struct sset *set)
{
    const char **names = sset_sort(set);

    for (size_t i = 0; i < sset_count(set); i++) {
        if (i) {
            ds_put_char(s, ',');
        }
        for (const char *p = names[i]; *p; p++) {
            unsigned char c = *p;
            if (isalnum(c) || strchr("-._~", c)) {
                ds_put_char(s, c);
            } else {
                ds_put_format(s, "%%%02X", c);
            }
        }
    }
    free(names);
}

/* ---- policies ---- */

static void
request_policies(struct policysync *ps)
{
    struct fetch *f = &ps->policies;
    struct ds path = DS_EMPTY_INITIALIZER;

    sset_destroy(&f->req_set);
    sset_clone(&f->req_set, &ps->groups);
    ds_put_cstr(&path, API "/policies?id=");
    put_id_list(&path, &f->req_set);
    f->step = S_POLICIES;
    f->req = https_get(ps->https, ds_cstr(&path));
    ds_destroy(&path);
}

/* Stores no policies for no groups.  Returns true if the model changed. */
static bool
store_no_policies(struct policysync *ps, struct model *model)
{
    struct cf_policy_list empty = { NULL, 0 };
    struct sset none = SSET_INITIALIZER(&none);
    bool changed = model_set_policies(model, &empty, &none);

    sset_destroy(&none);
    ps->n_policies = 0;
    return changed;
}

static void
start_policies(struct policysync *ps)
{
    struct fetch *f = &ps->policies;

    f->cycle_start = time_msec();
    if (f->must_fetch && ps->have_stamp) {
        /* Something local changed: the policies at once, without the
         * stamp, which stays the one they are at least as new as. */
        ps->pending_stamp = ps->stamp;
        request_policies(ps);
    } else {
        f->step = S_POLICY_STAMP;
        f->req = https_get(ps->https, API "/policies_last_updated");
    }
}

/* Handles the finished request of the policies.  Returns true if the
 * model changed. */
static bool
policies_done(struct policysync *ps, struct model *model)
{
    struct fetch *f = &ps->policies;
    const struct https_result *res = https_request_result(f->req);
    char *error = check_response(f);

    if (error) {
        request_failed(f, error);
        return false;
    }

    if (f->step == S_POLICY_STAMP) {
        uint64_t stamp;
        error = cf_policies_last_updated_parse(res->body, res->body_len,
                                               &stamp);
        if (error) {
            request_failed(f, error);
            return false;
        }
        https_request_destroy(f->req);
        f->req = NULL;
        if (f->must_fetch || !ps->have_stamp || stamp != ps->stamp) {
            ps->pending_stamp = stamp;
            request_policies(ps);
        } else {
            cycle_succeeded(f);
        }
        return false;
    }

    struct cf_policy_list list = { NULL, 0 };
    struct svec skipped = SVEC_EMPTY_INITIALIZER;
    error = cf_policies_parse(res->body, res->body_len, &list, &skipped);
    if (error) {
        svec_destroy(&skipped);
        request_failed(f, error);
        return false;
    }
    https_request_destroy(f->req);
    f->req = NULL;

    note_skipped(f, &skipped);
    svec_destroy(&skipped);
    ps->n_policies = list.n;
    bool changed = model_set_policies(model, &list, &f->req_set);
    cf_policy_list_destroy(&list);
    ps->stamp = ps->pending_stamp;
    ps->have_stamp = true;
    f->must_fetch = false;
    VLOG_DBG("policy server: %"PRIuSIZE" policies for %"PRIuSIZE" groups%s",
             ps->n_policies, sset_count(&f->req_set),
             changed ? ", changed" : "");
    cycle_succeeded(f);
    if (!sset_equals(&f->req_set, &ps->groups)) {
        /* The groups changed while the request was in flight. */
        f->must_fetch = true;
        pollsched_poll_now(&f->sched, time_msec());
    }
    return changed;
}

/* Looks at the local policy groups.  Returns true if the model changed. */
static bool
watch_groups(struct policysync *ps, struct model *model)
{
    struct fetch *f = &ps->policies;
    struct sset groups = SSET_INITIALIZER(&groups);
    const struct model_container *c;
    bool changed = false;

    HMAP_FOR_EACH (c, node, &model->containers) {
        if (c->policy_group_id) {
            sset_add(&groups, c->policy_group_id);
        }
    }
    if (!sset_equals(&groups, &ps->groups)) {
        sset_swap(&groups, &ps->groups);
        if (sset_is_empty(&ps->groups)) {
            /* Nothing to fetch: a request in flight is for groups that are
             * gone. */
            https_request_destroy(f->req);
            f->req = NULL;
            f->step = S_IDLE;
            changed = store_no_policies(ps, model);
        } else {
            f->must_fetch = true;
            pollsched_poll_now(&f->sched, time_msec());
        }
    }
    sset_destroy(&groups);
    return changed;
}

/* ---- security groups ---- */

static void
request_asg_page(struct policysync *ps)
{
    struct fetch *f = &ps->asgs;
    struct ds path = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&path, API "/security_groups?space_guids=");
    put_id_list(&path, &f->req_set);
    ds_put_format(&path, "&limit=%d", POLICYSYNC_ASG_PAGE_LIMIT);
    if (ps->page_from) {
        ds_put_format(&path, "&from=%"PRIu64, ps->page_from);
    }
    f->step = S_ASG_PAGE;
    f->req = https_get(ps->https, ds_cstr(&path));
    ds_destroy(&path);
}

static void
start_asgs(struct policysync *ps)
{
    struct fetch *f = &ps->asgs;

    f->cycle_start = time_msec();
    sset_destroy(&f->req_set);
    sset_clone(&f->req_set, &ps->spaces);
    free_acc(ps);
    ps->page_from = 0;
    ps->n_pages = 0;
    request_asg_page(ps);
}

/* Handles a finished page.  Returns true if the model changed. */
static bool
asg_page_done(struct policysync *ps, struct model *model)
{
    struct fetch *f = &ps->asgs;
    const struct https_result *res = https_request_result(f->req);
    char *error = check_response(f);
    struct cf_asg_page page;
    struct svec skipped = SVEC_EMPTY_INITIALIZER;
    bool changed = false;

    memset(&page, 0, sizeof page);
    if (!error) {
        error = cf_asg_page_parse(res->body, res->body_len, &page,
                                  &skipped);
        if (!error && page.next && page.next <= ps->page_from) {
            error = xasprintf("\"next\" %"PRIu64" does not advance past "
                              "\"from\" %"PRIu64, page.next, ps->page_from);
        }
    }
    if (error) {
        cf_asg_page_destroy(&page);
        svec_destroy(&skipped);
        free_acc(ps);
        request_failed(f, error);
        return false;
    }
    https_request_destroy(f->req);
    f->req = NULL;

    /* Take the page's groups over. */
    if (ps->n_acc + page.n > ps->allocated_acc) {
        ps->allocated_acc = MAX(2 * ps->allocated_acc, ps->n_acc + page.n);
        ps->acc = xrealloc(ps->acc, ps->allocated_acc * sizeof *ps->acc);
    }
    if (page.n) {
        memcpy(&ps->acc[ps->n_acc], page.asgs, page.n * sizeof *page.asgs);
        ps->n_acc += page.n;
    }
    free(page.asgs);
    ps->n_pages++;
    for (size_t i = 0; i < skipped.n; i++) {
        /* Name the page in the message. */
        svec_add_nocopy(&ps->acc_skipped,
                        xasprintf("page %"PRIuSIZE": %s", ps->n_pages,
                                  skipped.names[i]));
    }
    svec_destroy(&skipped);

    if (page.next) {
        ps->page_from = page.next;
        request_asg_page(ps);
        return false;
    }

    note_skipped(f, &ps->acc_skipped);
    svec_clear(&ps->acc_skipped);
    ps->n_asgs = ps->n_acc;
    changed = model_set_asgs(model, ps->acc, ps->n_acc, &f->req_set);
    free(ps->acc);              /* The groups are the model's now. */
    ps->acc = NULL;
    ps->n_acc = ps->allocated_acc = 0;
    f->must_fetch = false;
    VLOG_DBG("policy server: %"PRIuSIZE" security groups in %"PRIuSIZE
             " pages for %"PRIuSIZE" spaces%s", ps->n_asgs, ps->n_pages,
             sset_count(&f->req_set), changed ? ", changed" : "");
    cycle_succeeded(f);

    const char *space;
    SSET_FOR_EACH (space, &ps->spaces) {
        if (!sset_contains(&f->req_set, space)) {
            /* A space appeared while the pages were fetched. */
            pollsched_poll_now(&f->sched, time_msec());
            break;
        }
    }
    return changed;
}

static void
watch_spaces(struct policysync *ps, const struct model *model)
{
    struct sset spaces = SSET_INITIALIZER(&spaces);
    const struct model_container *c;
    bool new_space = false;

    HMAP_FOR_EACH (c, node, &model->containers) {
        if (c->space_id) {
            sset_add(&spaces, c->space_id);
            if (!sset_contains(&ps->spaces, c->space_id)) {
                new_space = true;
            }
        }
    }
    sset_swap(&spaces, &ps->spaces);
    sset_destroy(&spaces);
    if (new_space) {
        pollsched_poll_now(&ps->asgs.sched, time_msec());
    }
}

/* ---- the loop ---- */

/* Replies to the flowctl/policy-sync commands whose cycles have ended. */
static void
reply_waiters(struct policysync *ps)
{
    for (size_t i = 0; i < ps->n_waiters; ) {
        struct sync_waiter *w = &ps->waiters[i];
        if (ps->policies.n_cycles >= w->policies_target
            && (!ps->asg_syncing || ps->asgs.n_cycles >= w->asgs_target)) {
            struct ds s = DS_EMPTY_INITIALIZER;
            policysync_format(ps, &s);
            unixctl_command_reply(w->conn, ds_cstr(&s));
            ds_destroy(&s);
            ps->waiters[i] = ps->waiters[--ps->n_waiters];
        } else {
            i++;
        }
    }
}

bool
policysync_run(struct policysync *ps, struct model *model,
               bool containers_changed)
{
    if (!ps) {
        return false;
    }

    bool changed = false;
    if (containers_changed || !ps->watched) {
        ps->watched = true;
        changed = watch_groups(ps, model);
        if (ps->asg_syncing) {
            watch_spaces(ps, model);
        }
    }

    https_run(ps->https);
    long long int now = time_msec();

    struct fetch *f = &ps->policies;
    if (f->req && https_request_done(f->req)) {
        changed |= policies_done(ps, model);
    }
    if (!f->req && pollsched_due(&f->sched, now)) {
        if (sset_is_empty(&ps->groups)) {
            /* No local groups: nothing to ask (watch_groups() stored the
             * empty set). */
            if (!model->policy.policies_fetched) {
                changed |= store_no_policies(ps, model);
            }
            cycle_skipped(f);
        } else {
            start_policies(ps);
        }
    }

    f = &ps->asgs;
    if (ps->asg_syncing) {
        if (f->req && https_request_done(f->req)) {
            changed |= asg_page_done(ps, model);
        }
        if (!f->req && pollsched_due(&f->sched, now)) {
            if (sset_is_empty(&ps->spaces)) {
                /* No local space: no container to give synced rules. */
                cycle_skipped(f);
            } else {
                start_asgs(ps);
            }
        }
    }

    if (ps->n_waiters) {
        reply_waiters(ps);
    }
    return changed;
}

void
policysync_wait(struct policysync *ps)
{
    if (!ps) {
        return;
    }
    https_wait(ps->https);
    if (!ps->policies.req) {
        poll_timer_wait_until(ps->policies.sched.next);
    }
    if (ps->asg_syncing && !ps->asgs.req) {
        poll_timer_wait_until(ps->asgs.sched.next);
    }
}

void
policysync_poll_now(struct policysync *ps)
{
    if (ps) {
        long long int now = time_msec();
        ps->policies.must_fetch = true;
        pollsched_poll_now(&ps->policies.sched, now);
        pollsched_poll_now(&ps->asgs.sched, now);
        poll_immediate_wake();
    }
}

/* ---- status ---- */

static void
format_fetch(const struct fetch *f, bool enabled, struct ds *s)
{
    long long int now = time_msec();

    ds_put_format(s, "  %s:", f->what);
    if (!enabled) {
        ds_put_cstr(s, " not synced (enable_asg_syncing is false)\n");
        return;
    }
    ds_put_char(s, '\n');
    if (f->last_ok_wall) {
        char *when = xastrftime_msec("%Y-%m-%dT%H:%M:%S.###Z",
                                     f->last_ok_wall, true);
        ds_put_format(s, "    last fetched: %s (%.1f s ago), in %lld ms\n",
                      when, (time_wall_msec() - f->last_ok_wall) / 1000.0,
                      f->last_ok_ms);
        free(when);
    } else {
        ds_put_cstr(s, "    last fetched: never\n");
    }
    if (f->error) {
        char *since = xastrftime_msec("%Y-%m-%dT%H:%M:%S.###Z",
                                      f->failing_since_wall, true);
        ds_put_format(s, "    state: FAILING since %s, %u attempts in a "
                      "row; the last good %s stay in force (fail static)\n"
                      "    last error: %s\n"
                      "      (GET %s)\n", since, f->sched.n_failures,
                      f->what, f->error, f->error_url);
        free(since);
    } else {
        ds_put_cstr(s, "    state: ok\n");
    }
    ds_put_format(s, "    polls: %"PRIu64" ok, %"PRIu64" failed\n",
                  f->n_ok, f->n_failed);
    if (f->req) {
        ds_put_format(s, "    now: %s (%lld ms so far)\n", step_name(f->step),
                      now - f->cycle_start);
    } else {
        ds_put_format(s, "    next poll: in %lld ms (waits up to %lld ms%s)"
                      "\n", MAX(f->sched.next - now, 0),
                      pollsched_ceiling(&f->sched),
                      f->sched.n_failures ? ", backing off" : "");
    }
    if (f->skipped) {
        ds_put_format(s, "    skipped entries: %s\n", f->skipped);
    }
}

void
policysync_format(const struct policysync *ps, struct ds *s)
{
    if (!ps) {
        ds_put_cstr(s, "policy server: none\n");
        return;
    }
    ds_put_format(s, "policy server: %s", ps->url);
    if (ps->address) {
        ds_put_format(s, " (connecting to %s)", ps->address);
    }
    ds_put_char(s, '\n');
    format_fetch(&ps->policies, true, s);
    ds_put_format(s, "    holds: %"PRIuSIZE" policies for %"PRIuSIZE
                  " local policy groups", ps->n_policies,
                  sset_count(&ps->groups));
    if (ps->have_stamp) {
        ds_put_format(s, ", policies_last_updated %"PRIu64, ps->stamp);
    }
    ds_put_char(s, '\n');
    format_fetch(&ps->asgs, ps->asg_syncing, s);
    if (ps->asg_syncing) {
        ds_put_format(s, "    holds: %"PRIuSIZE" security groups for "
                      "%"PRIuSIZE" local spaces\n", ps->n_asgs,
                      sset_count(&ps->spaces));
    }
}

/* ---- unixctl ---- */

static void
policysync_unixctl_sync(struct unixctl_conn *conn, int argc OVS_UNUSED,
                        const char *argv[] OVS_UNUSED, void *ps_)
{
    struct policysync *ps = ps_;
    if (!ps) {
        unixctl_command_reply_error(conn, "no policy server is configured "
                                    "(policy_server)");
        return;
    }

    struct sync_waiter w = {
        .conn = conn,
        /* A cycle in flight began before the command: wait for the next
         * one. */
        .policies_target = ps->policies.n_cycles
                           + (ps->policies.req ? 2 : 1),
        .asgs_target = ps->asgs.n_cycles + (ps->asgs.req ? 2 : 1),
    };

    ps->waiters = xrealloc(ps->waiters,
                           (ps->n_waiters + 1) * sizeof *ps->waiters);
    ps->waiters[ps->n_waiters++] = w;
    policysync_poll_now(ps);
}

static void
fetch_get_stats(const struct fetch *f, struct policysync_fetch_stats *stats)
{
    stats->n_ok = f->n_ok;
    stats->n_failed = f->n_failed;
    stats->last_ok_wall = f->last_ok_wall;
}

bool
policysync_get_stats(const struct policysync *ps,
                     struct policysync_fetch_stats *policies,
                     struct policysync_fetch_stats *asgs)
{
    fetch_get_stats(&ps->policies, policies);
    fetch_get_stats(&ps->asgs, asgs);
    return ps->asg_syncing;
}
