/*
 * ctwalk: the walk of the cell's conntrack zone at flowctl's start, which
 * lets ctflush (ctflush.h) flush the entries of containers deleted while
 * flowctl was away.
 *
 * flowctl starts the walk once its OpenFlow connection is up: it runs
 * `ovs-appctl dpctl/dump-conntrack DP zone=Z` through the runner (in the
 * background: flowctl's loop never waits for it) and hands its output to
 * ctflush_note_walk().  flowctl puts no flows until the walk is over
 * (ctwalk_is_done()), so the first put's flushes include the walk's and
 * precede any new container's installed mark.  Meanwhile new containers
 * wait, and a bridge that has no flows (ovs-vswitchd restarted too, with
 * flow-restore-wait) forwards nothing.  flowctl logs how long the walk
 * took and how many entries it read.
 *
 * A walk that fails (ovs-appctl failing, no answer within
 * CTWALK_TIMEOUT_MS) or whose output is cut at CTWALK_MAX_OUTPUT bytes is
 * over all the same, with a warning: the entries it could not read stay
 * until they idle out, as they would without a walk.  An address that
 * gets its first entry after the dump (a peer still sending to a deleted
 * container, through the earlier run's flows, before the first put) keeps
 * it.
 *
 * Not thread-safe; one per flowctl.  Cancel the walk before destroying the
 * runner (which ends a walk in flight), destroy it after.
 */

#ifndef FLOWCTL_CTWALK_H
#define FLOWCTL_CTWALK_H 1

#include <stdbool.h>
#include <stdint.h>

/* ovs-appctl's own timeout, and ours for it, short: flows wait for the
 * walk.  A cell's zone at the kernel's default nf_conntrack_max (262144
 * entries of about 250 bytes of text) is about 64 MB. */
#define CTWALK_APPCTL_TIMEOUT_S 15
#define CTWALK_TIMEOUT_MS 20000
#define CTWALK_MAX_OUTPUT (128 * 1024 * 1024)

struct ctflush;
struct runner;

/* Starts walking 'zone' of 'datapath' ("system@ovs-system",
 * "netdev@ovs-netdev") through 'runner', for 'ctflush'.  Both must
 * outlive the walk. */
struct ctwalk *ctwalk_start(struct runner *, const char *datapath,
                            uint16_t zone, struct ctflush *);
void ctwalk_destroy(struct ctwalk *);

/* flowctl is exiting: a walk still in flight ends without a warning. */
void ctwalk_cancel(struct ctwalk *);

/* Is the walk over (its output noted in the ctflush, or failed)? */
bool ctwalk_is_done(const struct ctwalk *);

#endif /* ctwalk.h */
