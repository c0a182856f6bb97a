/*
 * hostnet: the cell host's side of the overlay, set up once at start.
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
 *     destinations in the overlay and masquerades the rest (the chain is
 *     rebuilt on every start); and one DNAT that sends NetIn traffic
 *     arriving on the underlay interface for instance_address and the
 *     NetIn port range to 169.254.0.1 (same port), where the bridge maps
 *     it to the container.
 *
 * What an earlier run set up and this one does not want (an address or
 * route of other overlay networks on the gateway port, our iptables rules
 * for other networks, another NetIn range or underlay interface) is
 * removed.
 *
 * Errors quote the kernel or iptables. */

#ifndef FLOWCTL_HOSTNET_H
#define FLOWCTL_HOSTNET_H 1

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct ipv4_cidr;

struct hostnet_spec {
    const char *gw_ifname;              /* "cf-gw". */
    uint32_t gw_ip;                     /* Subnet's first address. */
    const struct ipv4_cidr *overlays;  /* The overlay networks. */
    size_t n_overlays;
    uint32_t instance_address;
    const char *underlay_interface;
    uint16_t netin_port_min, netin_port_max;
};

/* Applies the setup above.  Returns NULL or an error message. */
char *hostnet_apply(const struct hostnet_spec *) OVS_WARN_UNUSED_RESULT;

/* Stores the MTU of interface 'ifname' in '*mtu'; returns 0 or errno. */
int hostnet_get_mtu(const char *ifname, int *mtu);

#endif /* hostnet.h */
