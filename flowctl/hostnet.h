/*
 * hostnet: the cell host's side of the overlay, set up once at start.
 *
 * The host kernel holds no per-container state.  What it needs is static,
 * container-independent and idempotent (applied again on every start):
 *
 *   - the gateway port (an OVS internal port, "cf-gw") gets the cell
 *     subnet's first address with the overlay's prefix length, so the
 *     kernel routes the whole overlay into the bridge;
 *   - a route to 169.254.0.1/32 (the containers' gateway, which the bridge
 *     answers for) through the gateway port: NetIn traffic goes there;
 *   - IPv4 forwarding on;
 *   - iptables nat: one MASQUERADE for traffic leaving the overlay
 *     (-s OVERLAY ! -d OVERLAY), and one DNAT that sends NetIn traffic
 *     arriving on the underlay interface for instance_address and the
 *     NetIn port range to 169.254.0.1 (same port), where the bridge maps
 *     it to the container.
 *
 * Errors quote the kernel or iptables. */

#ifndef FLOWCTL_HOSTNET_H
#define FLOWCTL_HOSTNET_H 1

#include <stdint.h>

#include "compiler.h"

struct model_cidr;

struct hostnet_spec {
    const char *gw_ifname;              /* "cf-gw". */
    uint32_t gw_ip;                     /* Subnet's first address. */
    unsigned int overlay_plen;
    uint32_t overlay_addr;
    uint32_t instance_address;
    const char *underlay_interface;
    uint16_t netin_port_min, netin_port_max;
};

/* Applies the setup above.  Returns NULL or an error message. */
char *hostnet_apply(const struct hostnet_spec *) OVS_WARN_UNUSED_RESULT;

/* Stores the MTU of interface 'ifname' in '*mtu'; returns 0 or errno. */
int hostnet_get_mtu(const char *ifname, int *mtu);

#endif /* hostnet.h */
