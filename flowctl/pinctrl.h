/*
 * pinctrl: flowctl's packet-in handler.  The pipeline's 'reject' table
 * sends each denied packet to the controller, metered, with userdata
 * PIPELINE_PIN_REJECT_TCP or PIPELINE_PIN_REJECT_ICMP (pipeline.h);
 * pinctrl answers it, through flowctl/reject.c, with a TCP RST or an ICMP
 * port unreachable sent back out of the port the packet came in on, so that
 * an app sees "connection refused" rather than a timeout.
 *
 *   - its own rconn to the bridge's management socket
 *     (unix:RUNDIR/BR.mgmt), OpenFlow 1.5, separate from ofctrl's, so that
 *     a flood of packet-ins never delays a flow update and a slow bundle
 *     never delays an answer;
 *   - the management socket is a "service" connection, which OVS sends no
 *     asynchronous message until it asks for some: on every (re)connection
 *     pinctrl asks for NXT_PACKET_IN2 (the only packet-in format that
 *     carries the controller action's userdata) and sets its asynchronous
 *     configuration to packet-ins from controller actions only (no port
 *     status, no flow removed), which also gives the connection a nonzero
 *     miss_send_len, without which OVS sends a service connection nothing;
 *   - answers are packet-outs with in_port = the packet-in's in_port and
 *     action output:IN_PORT; a bounded number of them wait in the rconn
 *     queue (more are dropped and counted as errors);
 *   - it answers the switch's echo requests (rconn does not).
 *
 * pinctrl_run() handles at most a fixed number of messages, so that a flood
 * cannot starve the rest of the main loop (the pipeline's meter already
 * limits packet-ins to a rate flowctl can answer).
 *
 * Not thread-safe; one instance per bridge. */

#ifndef FLOWCTL_PINCTRL_H
#define FLOWCTL_PINCTRL_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openflow/openflow-common.h"
#include "openvswitch/list.h"

struct ds;

/* Creates a pinctrl that connects to the OpenFlow switch at 'target'
 * ("unix:/var/run/openvswitch/br-cf.mgmt") in the background: see
 * pinctrl_run(). */
struct pinctrl *pinctrl_create(const char *target);
void pinctrl_destroy(struct pinctrl *);

/* Keeps the connection up and answers the packet-ins that have arrived. */
void pinctrl_run(struct pinctrl *);
void pinctrl_wait(struct pinctrl *);

/* Is there an OpenFlow connection, set up to receive packet-ins? */
bool pinctrl_is_connected(const struct pinctrl *);

/* Appends to 'msgs' (a list of "struct ofpbuf"s, in 'version') the
 * messages that set up a new connection to the management socket for
 * packet-ins from controller actions, and nothing else (see the top of
 * pinctrl.c): first, unless 'controller_id' is 0, NXT_SET_CONTROLLER_ID,
 * so that the connection receives only the packet-ins of controller
 * actions with that id.  pinctrl uses id 0, the traffic log (logctl.h)
 * PIPELINE_LOG_CONTROLLER_ID. */
void pinctrl_setup_msgs(enum ofp_version version, uint16_t controller_id,
                        struct ovs_list *msgs);

/* Appends a human-readable state summary to 'ds' (for unixctl). */
void pinctrl_format(const struct pinctrl *, struct ds *);

/* Counters since pinctrl_create(). */
struct pinctrl_stats {
    uint64_t n_connections;     /* OpenFlow connections made. */
    uint64_t n_packet_ins;      /* Packet-ins received... */
    uint64_t n_tcp_resets;      /* ...answered with a TCP RST... */
    uint64_t n_icmp_unreach;    /* ...answered with ICMP port unreachable... */
    uint64_t n_ignored;         /* ...or not answered (none due). */
    uint64_t n_errors;          /* Undecodable messages, OFPT_ERRORs from
                                 * the switch, answers dropped. */
};

void pinctrl_get_stats(const struct pinctrl *, struct pinctrl_stats *);

#endif /* pinctrl.h */
