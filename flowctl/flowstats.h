/*
 * flowstats: reads, on request, what the switch counted for flowctl's ASG
 * flows, for per-rule hit counts (flowctl/show, flowctl/rule-stats).
 *
 *   - its own rconn to the bridge's management socket
 *     (unix:RUNDIR/BR.mgmt), OpenFlow 1.5, like ofctrl's and pinctrl's, so
 *     that a large statistics reply never delays a flow update or a reject;
 *   - each request is one OFPST_FLOW multipart request for the flows of
 *     every table whose cookie kind is PIPELINE_CK_ASG or
 *     PIPELINE_CK_POLICY (cookie and mask 0x01 << 56: both kinds are odd;
 *     the other odd kinds' flows in the reply are skipped): the conj_id
 *     verdict flows in 'egress', the policies' flows in 'ingress' and
 *     both kinds' flows in 'ct_state'.  The replies (as many parts as the
 *     switch needs) are summed per cookie into a struct rule_counts
 *     (explain.h);
 *   - a request ends, through its callback, when the last part arrives, or
 *     with an error: the switch's OFPT_ERROR, no complete answer within
 *     FLOWSTATS_TIMEOUT_MS, the connection lost, or flowstats_destroy();
 *   - it answers the switch's echo requests (rconn does not);
 *   - it registers flowctl/rule-stats [--json] (the counts of the rules of
 *     the model's rulesets, as text or JSON: explain_rule_stats*()) and
 *     adds the same text to flowctl/show (flowstats_reply_show()).
 *
 * Not thread-safe; one instance per bridge. */

#ifndef FLOWCTL_FLOWSTATS_H
#define FLOWCTL_FLOWSTATS_H 1


struct ds;
struct model;
struct rule_counts;
struct unixctl_conn;

/* How long a request may wait for its last reply. */
#define FLOWSTATS_TIMEOUT_MS 1000

/* Called once per request: with the counters, or with 'counts' NULL and
 * 'error' saying why there are none.  Neither outlives the call. */
typedef void flowstats_cb(void *aux, const struct rule_counts *counts,
                          const char *error);

/* Creates a flowstats for the rulesets of 'model' (which must outlive it)
 * and registers flowctl/rule-stats.  Until flowstats_connect(), requests
 * fail with "OpenFlow: waiting for the bridge". */
struct flowstats *flowstats_create(const struct model *model);

/* Connects to the switch at 'target'
 * ("unix:/var/run/openvswitch/br-cf.mgmt") in the background. */
void flowstats_connect(struct flowstats *, const char *target);

/* Ends every request in flight with an error, then frees 'fs'. */
void flowstats_destroy(struct flowstats *fs);

/* Keeps the connection up, gathers replies and ends the requests that are
 * complete, failed or timed out (calling their callbacks). */
void flowstats_run(struct flowstats *);
void flowstats_wait(struct flowstats *);

/* Sends a request whose end (a later flowstats_run()) calls 'cb' with
 * 'aux'.  Returns NULL, or a static message saying why nothing was sent
 * (then 'cb' is never called). */
const char *flowstats_request(struct flowstats *, flowstats_cb *cb,
                              void *aux);

/* flowctl/show: replies to 'conn' with 'text' (taken: 'text' is left
 * empty), a blank line and the "rules:" section of explain_rule_stats(),
 * once the counts arrive, or "rules: (no hit counts: REASON)". */
void flowstats_reply_show(struct flowstats *, struct unixctl_conn *conn,
                          struct ds *text);

#endif /* flowstats.h */
