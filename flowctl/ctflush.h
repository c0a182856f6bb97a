/*
 * ctflush: whose conntrack entries flowctl flushes, and why.  Pure: the
 * model in, addresses out; flowctl.c hands them to ofctrl
 * (ofctrl_flush_conntrack()), which sends the flushes.
 *
 * A connection's conntrack entry outlives the flows that admitted it: the
 * 'ct_state' flows pass established traffic by the entry's mark and label
 * (pipeline.c), not by who is at its address now.  So when a container
 * goes, its connections would stay in the cell's zone until they idle out
 * (five days for an established TCP connection in the kernel), and if its
 * address is given to a new container, of another app, the old peers'
 * packets would reach the new one under the old one's verdict.  ctflush
 * names the addresses whose entries must go:
 *
 *   - the address of a container that left the model (deleted), unless
 *     another container holds it now (then the next rule applies);
 *   - the address of a container that holds it in this model while
 *     another (another Interface row: a new container, or the same handle
 *     made again) held it in the last one;
 *   - in the first model after ctflush_init(), which has no predecessor,
 *     the address of every container not marked installed
 *     (cf-installed=true): one made while flowctl was away may have an
 *     address whose earlier holder went meanwhile, unseen.  Those marked
 *     installed were there all along, so a restarted flowctl cuts none of
 *     their connections;
 *   - at the next model after ctflush_note_walk(), every address in the
 *     cell's subnet that is the source of an entry of the zone's walk (in
 *     the original or the reply direction) and that no container holds,
 *     but for the subnet's network and broadcast addresses and the host's
 *     own (the gateway, 'gateway_host_ip': a host service there is not a
 *     container's): flowctl walks the zone once at start (ctwalk.h),
 *     before its first computation, so a container deleted while flowctl
 *     was away leaves no entry behind for the next holder of its address,
 *     even one that comes long after flowctl is back.
 *
 * After the first model, a new container's address needs no flush: its
 * earlier holder's entries went when that one left.  Each flush costs the
 * switch a walk of its conntrack table, so a new container costs none.
 * Two containers with one address (a broken record) are one holder, the
 * one with the lower OpenFlow port, as in the pipeline.
 *
 * ofctrl sends each address's flushes right after the commit of the next
 * bundle, before its barrier: after the flows that admitted the old
 * connections are gone, and before flowctl marks a new container installed
 * (cni-ovs ADD waits for that mark), so no connection of the new
 * container is ever cut.
 *
 * Not thread-safe. */

#ifndef FLOWCTL_CTFLUSH_H
#define FLOWCTL_CTFLUSH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"

struct model;

struct ctflush {
    struct hmap holders;            /* "struct ctflush_holder"s, by
                                     * address: the last model's. */
    bool primed;                    /* There was a last model. */
    uint32_t *walked;               /* From ctflush_note_walk(): sources */
    size_t n_walked;                /* of the zone's entries, ascending. */
};

void ctflush_init(struct ctflush *);
void ctflush_destroy(struct ctflush *);

/* Compares 'model''s containers with those of the last call (none, the
 * first time) and stores in '*addrsp' (malloc'd, NULL if none) the
 * addresses (host byte order, ascending, each once) to flush by the rules
 * above.  Returns their number. */
size_t ctflush_update(struct ctflush *, const struct model *,
                      uint32_t **addrsp);

/* Notes 'dump', the text of `ovs-appctl dpctl/dump-conntrack zone=Z` for
 * the cell's zone Z: the next ctflush_update() also names each address of
 * the model's cell subnet that is the source of one of its entries (in the
 * original or the reply direction) and that no container holds in that
 * model, as the rules above say.  Lines that are not complete IPv4 entries
 * (IPv6, a line cut short) are skipped.  Returns the number of entries
 * read. */
size_t ctflush_note_walk(struct ctflush *, const char *dump);

#endif /* ctflush.h */
