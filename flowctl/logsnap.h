/*
 * logsnap: what the traffic log needs to know about the cell, frozen, and
 * the decoding of one log packet-in into a logline_event.  Pure (no I/O,
 * no clock: the time is an argument); tests/unit/test-logsnap.c drives it.
 *
 * The pipeline sends the traffic log a copy of each packet that decides a
 * logged connection (pipeline.h, "Traffic logging"): a kind (the
 * controller action's userdata), registers (the sender's ofport, the rule's
 * cookie, the sender's tag) and the packet's first bytes.  Naming the
 * container and the rule behind them takes the model: the containers by
 * ofport and by address, each ruleset's rules and where they came from
 * (pipeline_get_rulesets()), the c2c policies by cookie.  The traffic log
 * decodes in its own thread (logctl.h), so it cannot read the model, which
 * the main loop changes; it reads a snapshot instead:
 *
 *     main loop, after each pipeline run:
 *         rs = pipeline_rulesets(pipeline, &n);
 *         logctl_set_snapshot(lc, logsnap_create(&model, rs, n, guid,
 *                                                cell));
 *     traffic log thread, per packet-in:
 *         struct logline_event ev;
 *         const char *why = logsnap_decode(snap, kind, &pin.flow_metadata,
 *                                          pin.packet, pin.packet_len,
 *                                          time_wall_usec(), &ev);
 *         if (!why) { ...logline_format(&ev, &s)... }
 *
 * A snapshot is a deep copy: nothing in it points into the model, and it
 * never changes once made, so any number of threads may read it while
 * they hold a reference (logsnap_ref(), logsnap_unref(): an ovs_refcount,
 * thread-safe).  The event's strings point into the snapshot: they are
 * valid while the reference is held.
 *
 * A packet whose container or rule the snapshot does not know (the model
 * changed between the packet and the snapshot) still makes an event, with
 * empty identities or no "rule" (LOGLINE_RULE_NONE): a line is never lost
 * for want of a name.  Only a packet-in that is not a log copy at all (an
 * unknown kind, not IPv4, cut short before its IP header) is refused.
 */

#ifndef FLOWCTL_LOGSNAP_H
#define FLOWCTL_LOGSNAP_H 1

#include <stddef.h>
#include <stdint.h>

struct logline_event;
struct match;
struct model;

/* Makes a snapshot of 'model' for the traffic log, whose 'n' rulesets
 * (their ids and rules; the containers are not read) are 'rulesets', as the
 * pipeline made them (pipeline_rulesets() after a run, or
 * pipeline_get_rulesets()), with the cell's BOSH instance id 'host_guid'
 * and name 'cell' (either may be NULL).  The caller owns the one
 * reference. */
struct pipeline_ruleset;
struct logsnap *logsnap_create(const struct model *,
                               const struct pipeline_ruleset *rulesets,
                               size_t n, const char *host_guid,
                               const char *cell);

/* Another reference to 'snap' (NULL: returns NULL). */
struct logsnap *logsnap_ref(const struct logsnap *snap);

/* Drops a reference; the last one frees it.  NULL: does nothing. */
void logsnap_unref(struct logsnap *);

/* How many containers, rulesets and policies 'snap' knows (tests). */
size_t logsnap_count(const struct logsnap *snap, size_t *n_rulesets,
                     size_t *n_policies);

/* Fills in 'ev' for one log packet-in: 'kind' (the userdata byte, enum
 * pipeline_log_kind), 'md' its metadata (registers), 'packet' its 'len'
 * bytes (from the Ethernet header), seen at wall time 'time_usec'.
 * Returns NULL on success, otherwise a static string saying why it is not
 * a log copy ('ev' is then undefined). */
const char *logsnap_decode(const struct logsnap *snap, uint8_t kind,
                           const struct match *md, const void *packet,
                           size_t len, long long int time_usec,
                           struct logline_event *ev);

#endif /* logsnap.h */
