/*
 * hostrules: the iptables rules of the cell host's side (hostnet.h), as
 * text.  Pure (no I/O): what the host should look like and what
 * iptables-save printed in, the input of one iptables-restore --noflush
 * out.  hostnet runs both commands.
 *
 * The rules:
 *
 *   nat: chain HOSTRULES_MASQ_CHAIN (declared, i.e. created or emptied, and
 *   filled on every application) returns for the overlay networks and
 *   masquerades the rest; one POSTROUTING jump to it per overlay network
 *   (comment cni-ovs-masquerade); one PREROUTING DNAT of NetIn (comment
 *   cni-ovs-netin).
 *
 *   filter: chain HOSTRULES_INPUT_CHAIN (declared and filled likewise)
 *   accepts replies (conntrack RELATED,ESTABLISHED), DNS (udp and tcp 53)
 *   to the dns_servers and the host services, then rejects TCP with a
 *   reset and the rest with ICMP port unreachable; one INPUT jump to it,
 *   first in INPUT, for what enters through the gateway port (comment
 *   HOSTRULES_INPUT_CHAIN).
 *
 * Rules in built-in chains are found by their comments in iptables-save's
 * output: one that is missing is added, one that is ours but not wanted
 * (an earlier run's: another overlay network, NetIn range, underlay or
 * gateway interface; or a second copy) is deleted, in the same restore.
 * Other programs' rules are left alone.
 *
 * Thread safety: none needed (no state). */

#ifndef FLOWCTL_HOSTRULES_H
#define FLOWCTL_HOSTRULES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct model_cell;

#define HOSTRULES_MASQ_CHAIN "cni-ovs-masq"
#define HOSTRULES_INPUT_CHAIN "cni-ovs-input"

/* What the host should look like (hostnet_apply() copies it). */
struct hostnet_spec {
    const char *gw_ifname;              /* "cf-gw". */
    uint32_t gw_ip;                     /* Subnet's first address. */
    const char *underlay_interface;
    uint16_t netin_port_min, netin_port_max;

    /* The cell: its overlay networks, instance_address, and what
     * containers may reach on the host itself (dns_servers on 53, udp and
     * tcp; tcp_services, udp_services). */
    const struct model_cell *cell;
};

/* Appends to 'restore' the input of `iptables-restore --noflush` that makes
 * the host's rules what 'spec' wants, given 'saved', what `iptables-save`
 * printed, and to 'removed' each rule of ours it deletes ("-t TABLE -A
 * CHAIN ...", one a line), for the log. */
void hostrules_restore(const struct hostnet_spec *spec, const char *saved,
                       struct ds *restore, struct ds *removed);

/* Does 'saved' (iptables-save's output) end as iptables-save ends a table
 * ("# Completed on ..."), or is it empty?  Output cut short (the runner
 * keeps at most RUNNER_MAX_OUTPUT bytes) would hide rules of ours. */
bool hostrules_saved_is_complete(const char *saved);

#endif /* hostrules.h */
