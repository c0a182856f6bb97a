/*
 * trace: flowctl/trace, the verdict of the pipeline for a new connection
 * from a container, in an operator's words.
 *
 *   ovs-appctl -t flowctl flowctl/trace HANDLE DST tcp|udp|icmp PORT
 *
 * builds the packet the container with 'HANDLE' would send (its MAC and
 * IP, the gateway's MAC, DST, the protocol and the destination port or
 * ICMP type), runs `ovs-appctl ofproto/trace BRIDGE FLOW --ct-next trk,new`
 * through the runner (in the background, with a timeout: flowctl's loop
 * never waits for it), and replies with the trace followed by
 * "verdict: ..." (explain_trace(): the cookies the trace crossed, and what
 * the cell's kernel does with a destination that is the host's own).
 *
 * trace_create() registers the command; until trace_set_ready() (the
 * bridge is set up) it answers with an error.  trace has no run or wait
 * function: the runner's callback completes each request.  Not
 * thread-safe; one per flowctl.
 */

#ifndef FLOWCTL_TRACE_H
#define FLOWCTL_TRACE_H 1

#include <stdint.h>

struct model;
struct runner;

/* Registers flowctl/trace for the containers of 'model' on 'bridge' (copied),
 * run through 'runner'.  'model' and 'runner' must outlive the trace;
 * destroy the runner first (it ends the requests in flight). */
struct trace *trace_create(const struct model *, struct runner *,
                           const char *bridge);
void trace_destroy(struct trace *);

/* The bridge is set up: flowctl/trace may run ofproto/trace on it. */
void trace_set_ready(struct trace *);

#endif /* trace.h */
