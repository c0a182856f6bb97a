/*
 * plumb: the container's veth, set up with libnl (no shelling out to 'ip').
 *
 * A veth pair: the host end 'host_ifname', in the current (cell) network
 * namespace, is what OVS gets as a port; its peer is created directly in
 * the container's namespace as 'container_ifname'.  It is made in two
 * steps.
 *
 * plumb_create() makes the pair, before the container's address is known:
 *
 *     the host end gets its MAC, the MTU, IFLA_IFALIAS = 'alias' (the CNI
 *         container id, so that DEL can tell the link is this container's),
 *         the flags NOARP and PROMISC, rp_filter=1 and disable_ipv6=1;
 *     the container end gets the MTU, with 'tx_csum_off' transmit checksum
 *         offload off (userspace datapath), disable_ipv6=1;
 *     both ends go up (the host end last), and loopback in the container
 *         namespace too.
 *
 * plumb_address() then gives the container end, inside its namespace:
 *
 *     its MAC, derived from the IP, and <ip>/32;
 *     a permanent neighbour entry  169.254.0.1 -> CFNET_GATEWAY_MAC, so the
 *         container never needs ARP for its gateway;
 *     a link route to 169.254.0.1 and "default via 169.254.0.1 src <ip>".
 *
 * Why two steps: the cell's ovs-vswitchd reconfigures its bridges on every
 * link event in its namespace, and only plumb_create() makes any (two
 * bursts: when the host end is created, and when it goes up and gets its
 * carrier).  Made while the IPAM plugin works, the pair has ovs-vswitchd
 * start its reconfiguration as early as possible, rather than just before
 * the port's transaction; plumb_address() touches only the container's
 * namespace.
 *
 * Every function is idempotent at its edges: deleting what is already gone
 * is success.  Errors are malloc'd messages that quote the kernel's reason
 * (and netlink's extended ack when there is one); the caller frees them.
 *
 * Thread-safety: the functions use setns() on the calling thread and restore
 * its namespace before returning; call them from one thread. */

#ifndef CNI_OVS_PLUMB_H
#define CNI_OVS_PLUMB_H 1

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

struct plumb_spec {
    const char *netns_path;         /* CNI_NETNS, e.g. /var/run/netns/x. */
    const char *container_ifname;   /* CNI_IFNAME, e.g. "eth0". */
    const char *host_ifname;        /* <= 15 characters. */
    const char *alias;              /* Set as the host end's ifalias. */
    uint8_t host_mac[6];
    uint8_t container_mac[6];
    unsigned int mtu;               /* Both ends. */
    uint32_t ip;                    /* Container address, host order. */
    uint32_t gateway;               /* 169.254.0.1, host order. */
    uint8_t gateway_mac[6];
    bool tx_csum_off;               /* For datapath_type=netdev. */
};

/* Checks that 'netns_path' is a network namespace file, without entering
 * it.  Returns NULL if so, otherwise a malloc'd message (e.g. "cannot open
 * \"/var/run/netns/x\": No such file or directory"). */
char *plumb_netns_check(const char *netns_path) OVS_WARN_UNUSED_RESULT;

/* Creates the pair and brings it up, as described above; needs every field
 * of 'spec' but 'ip' and 'container_mac'.  On failure removes whatever it
 * created (the host end and, with it, the peer) and returns the error;
 * '*ifname_taken' then says whether it failed because the container's
 * namespace already has an interface named 'container_ifname' (a caller's
 * mistake that trying again will not mend). */
char *plumb_create(const struct plumb_spec *, bool *ifname_taken)
    OVS_WARN_UNUSED_RESULT;

/* Gives the container end made by plumb_create() its address, MAC,
 * neighbour entry and routes.  On failure returns the error and leaves the
 * pair for the caller to delete with plumb_del_host(). */
char *plumb_address(const struct plumb_spec *) OVS_WARN_UNUSED_RESULT;

/* Deletes the host-side link 'host_ifname' (deleting a veth end deletes its
 * peer) if it exists and, when 'alias' is nonnull, only if its ifalias
 * equals 'alias'.  A missing link, or one that belongs to someone else, is
 * success. */
char *plumb_del_host(const char *host_ifname, const char *alias)
    OVS_WARN_UNUSED_RESULT;

/* Deletes 'ifname' inside the namespace at 'netns_path'.  A missing or empty
 * 'netns_path', a namespace that is gone, or a missing link is success. */
char *plumb_del_container(const char *netns_path, const char *ifname)
    OVS_WARN_UNUSED_RESULT;

/* Verifies (for CNI CHECK) that the container side matches 'spec': the
 * interface exists in the namespace, is up, has the MAC, MTU, address and
 * the default route via the gateway.  Returns NULL if so, else what
 * differs. */
char *plumb_check(const struct plumb_spec *) OVS_WARN_UNUSED_RESULT;

/* Returns true if 'ifname' exists in the current namespace. */
bool plumb_link_exists(const char *ifname);

#endif /* plumb.h */
