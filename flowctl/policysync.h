/*
 * policysync: flowctl's client of Cloud Foundry's internal policy server.
 * It polls the server for the c2c policies and the security groups that
 * concern the cell's containers and stores them in the model
 * (model_set_policies(), model_set_asgs()), from where model_resolve() and
 * the pipeline take them.
 *
 * Two kinds of fetch, each with its own schedule (pollsched.h: waits drawn
 * from [interval/2, interval], exponential backoff with full jitter up to
 * 30 s after errors) and never more than one request in flight:
 *
 *   - policies, every policy_poll_interval: GET .../policies_last_updated;
 *     when the stamp changed (or on the first poll, or after an error),
 *     GET .../policies?id=<the local policy group ids, sorted>.  When the
 *     set of local groups changes, the policies are fetched at once
 *     (without the stamp), so that a new container's policies are in the
 *     model before it can be marked installed (model_container_ready()).
 *     With no local groups, nothing is fetched: the model gets an empty
 *     list for an empty set.
 *   - security groups (with enable_asg_syncing), every asg_poll_interval:
 *     GET .../security_groups?space_guids=<the local spaces>&limit=N,
 *     following "next" page by page; only a complete set of pages is
 *     stored.  At once when a space appears on the cell.
 *
 * Fail static: a request that fails (no connection, TLS refused, timeout,
 * non-200 status, a body over the size limit, a body that is not the
 * document) changes nothing in the model: enforcement stays what the last
 * good fetch made it.  Each change of a kind's state (a new kind of error,
 * recovery) is logged once; flowctl/show (policysync_format()) says when
 * each kind was last fetched, from where, what it holds, the last error
 * and the backoff.  Entries the parsers skip (cf-policy.h) are logged when
 * they differ from the previous fetch's.
 *
 * The network I/O is https.h's: nothing here blocks the loop.
 *
 * Usage: policysync_create() (NULL without a policy server: every function
 * takes NULL and does nothing), then each iteration policysync_run() after
 * the model's containers are up to date; if it returns true, call
 * model_resolve() and recompute the flows.  policysync_wait() before
 * poll_block().
 *
 * unixctl: "flowctl/policy-sync" polls both kinds at once (fetching the
 * policies even if the stamp did not change) and replies, once both have
 * finished, with the status as in flowctl/show.
 *
 * Not thread-safe. */

#ifndef FLOWCTL_POLICYSYNC_H
#define FLOWCTL_POLICYSYNC_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct flowctl_config;
struct model;

/* Security groups asked for per page (the server's "limit"). */
#define POLICYSYNC_ASG_PAGE_LIMIT 1000

/* Returns a new client for 'cfg''s policy server, or NULL if 'cfg' has
 * none.  Registers flowctl/policy-sync (which, without a policy server,
 * answers with an error). */
struct policysync *policysync_create(const struct flowctl_config *cfg);
void policysync_destroy(struct policysync *);

/* Polls as described above.  'containers_changed' says that the model's
 * containers may differ from the last call's (localdb_run() returned true):
 * only then are their policy groups and spaces looked at again, not on
 * every iteration of the loop.  Returns true if the model's policy state
 * changed. */
bool policysync_run(struct policysync *, struct model *,
                    bool containers_changed);
void policysync_wait(struct policysync *);

/* Makes both kinds poll at once, the policies even if their stamp did not
 * change. */
void policysync_poll_now(struct policysync *);

/* Appends the client's status to 's' (for flowctl/show): "policy server:
 * none" for NULL. */
void policysync_format(const struct policysync *, struct ds *s);

/* Each kind's fetch cycles since policysync_create(), for the metrics.
 * Returns false if the ASGs are not synced ('*asgs' then all zero). */
struct policysync_fetch_stats {
    uint64_t n_ok;
    uint64_t n_failed;
    long long int last_ok_wall;     /* Wall clock msec; 0: never. */
};
bool policysync_get_stats(const struct policysync *,
                          struct policysync_fetch_stats *policies,
                          struct policysync_fetch_stats *asgs);

#endif /* policysync.h */
