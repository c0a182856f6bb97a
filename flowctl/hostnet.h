/*
 * hostnet: the cell host's side of the overlay, set up at start (and again
 * when the overlay networks change).
 *
 * The host kernel holds no per-container state.  What it needs is static,
 * container-independent and idempotent (applied again on every start):
 *
 *   - the gateway port (an OVS internal port, "cf-gw") gets the cell
 *     subnet's first address with the prefix length of the overlay network
 *     that holds the subnet, and a route through it to each other overlay
 *     network, so the kernel routes the whole overlay into the bridge;
 *   - a route to 169.254.0.1/32 (the containers' gateway, which the bridge
 *     answers for) through the gateway port: NetIn traffic goes there;
 *   - IPv4 forwarding on;
 *   - iptables nat: traffic from the overlay goes to chain cni-ovs-masq
 *     (one POSTROUTING rule per overlay network), which returns for
 *     destinations in the overlay and masquerades the rest; and one DNAT
 *     that sends NetIn traffic arriving on the underlay interface for
 *     instance_address and the NetIn port range to 169.254.0.1 (same port),
 *     where the bridge maps it to the container;
 *   - iptables filter: what containers send to the host itself (it enters
 *     through the gateway port: filter INPUT -i cf-gw) goes to chain
 *     cni-ovs-input, which accepts replies (conntrack ESTABLISHED,RELATED),
 *     DNS to the dns_servers and the host_tcp_services/host_udp_services,
 *     and rejects everything else at once (TCP reset, ICMP port
 *     unreachable).  That covers every address the cell has or gets later
 *     (a second interface, a docker0-like bridge, a management address,
 *     127.0.0.0/8) and its broadcast and multicast, whatever the ASGs
 *     allow: the egress table forbids only the addresses it knows.  NetIn
 *     (DNAT to 169.254.0.1) and the host's own connections to containers
 *     go through FORWARD and OUTPUT, and their replies are ESTABLISHED.
 *
 * Our chains are declared (created or emptied) and filled in one
 * iptables-restore --noflush, which commits each table atomically, so no
 * packet ever meets a chain half-built (hostrules.h composes its input).
 * What an earlier run set up and this one does not want (an address or
 * route of other overlay networks on the gateway port, our iptables rules
 * for other networks, another NetIn range or underlay interface) is
 * removed.
 *
 * The loop never waits for iptables: the netlink part (addresses, routes,
 * the sysctl) is a few quick kernel calls, done at once; the iptables part
 * runs as background children through the runner (runner.h), a small
 * state machine driven by hostnet_run()/hostnet_wait():
 *
 *   idle -> netlink, then SAVING (iptables-save: what is there)
 *        -> RESTORING (iptables-restore -w --noflush: the changes)
 *        -> APPLIED
 *
 * A command that fails, or runs longer than HOSTNET_CMD_TIMEOUT_MS (another
 * process holds the xtables lock for that long) and is killed, puts the
 * machine in FAILED, which starts over after HOSTNET_RETRY_MS.  A command
 * still running after HOSTNET_SLOW_MS is logged once.  A new
 * hostnet_apply() while a command runs starts over when it ends.
 *
 * Errors quote the kernel or iptables.  Not thread-safe. */

#ifndef FLOWCTL_HOSTNET_H
#define FLOWCTL_HOSTNET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "hostrules.h"

struct ds;
struct ipv4_cidr;
struct runner;

#define HOSTNET_SLOW_MS 5000            /* Logged once when this slow. */
#define HOSTNET_CMD_TIMEOUT_MS 60000    /* Killed when this slow. */
#define HOSTNET_RETRY_MS 2000           /* After a failure. */

/* Creates the host side's state machine, which runs its commands through
 * 'runner'.  At exit, destroy 'runner' first: it ends a command still
 * running with a call back into the hostnet. */
struct hostnet *hostnet_create(struct runner *);
void hostnet_destroy(struct hostnet *);

/* Makes the host look like 'spec' (copied): starts applying it now, or as
 * soon as the command that runs ends, and retries until it is done. */
void hostnet_apply(struct hostnet *, const struct hostnet_spec *);

void hostnet_run(struct hostnet *);
void hostnet_wait(struct hostnet *);

/* Appends one line about the state (for flowctl/show) to 'ds'. */
void hostnet_format_status(const struct hostnet *, struct ds *);

/* The destinations the cell's kernel delivers to the host itself, as its
 * local routing table lists them: its own addresses ('*localp', 127.0.0.0/8
 * included) and the broadcast addresses of its networks ('*bcastp').  The
 * caller frees both arrays with free().  Returns NULL or an error
 * message. */
char *hostnet_read_host_dsts(struct ipv4_cidr **localp, size_t *n_localp,
                             struct ipv4_cidr **bcastp, size_t *n_bcastp)
    OVS_WARN_UNUSED_RESULT;

/* Stores the MTU of interface 'ifname' in '*mtu'; returns 0 or errno. */
int hostnet_get_mtu(const char *ifname, int *mtu);

#endif /* hostnet.h */
