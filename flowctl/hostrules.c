/*
 * hostrules: the iptables rules of the host side (see hostnet.h).  Pure:
 * see hostrules.h.
 */

#include <config.h>

#include "hostrules.h"

#include <stdlib.h>
#include <string.h>

#include "cfnet.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "util.h"

#define MASQ_CHAIN HOSTRULES_MASQ_CHAIN
#define INPUT_CHAIN HOSTRULES_INPUT_CHAIN

/* Does the word list 'line' (as iptables-save prints a rule) contain the
 * words 'a' and 'b' in a row? */
static bool
has_words(const char *line, const char *a, const char *b)
{
    char *pair = xasprintf(" %s %s ", a, b);
    char *padded = xasprintf(" %s ", line);
    bool found = strstr(padded, pair) != NULL;
    free(padded);
    free(pair);
    return found;
}

/* The rules of ours in built-in chains, each found by its comment: one
 * masquerade rule per overlay network (slots 0...n_overlays - 1), then the
 * NetIn DNAT, then the jump to INPUT_CHAIN. */
static size_t
slot_netin(const struct hostnet_spec *spec)
{
    return spec->cell->n_overlays;
}

static size_t
slot_input(const struct hostnet_spec *spec)
{
    return spec->cell->n_overlays + 1;
}

#define NOT_OURS SIZE_MAX       /* Another program's rule. */
#define STALE (SIZE_MAX - 1)    /* Ours, but not wanted. */

/* Which wanted rule is 'line' ("-A CHAIN words...", in table 'table')?
 * Returns its slot, STALE or NOT_OURS. */
static size_t
classify_rule(const struct hostnet_spec *spec, const char *table,
              const char *line)
{
    if (!strcmp(table, "nat")
        && has_words(line, "--comment", "cni-ovs-masquerade")) {
        if (strncmp(line, "-A POSTROUTING ", 15)
            || !has_words(line, "-j", MASQ_CHAIN)) {
            return STALE;
        }
        for (size_t i = 0; i < spec->cell->n_overlays; i++) {
            char *net = xasprintf(IP_FMT"/%u",
                                  IP_ARGS(htonl(spec->cell->overlays[i].addr)),
                                  spec->cell->overlays[i].plen);
            bool match = has_words(line, "-s", net);
            free(net);
            if (match) {
                return i;
            }
        }
        return STALE;
    } else if (!strcmp(table, "nat")
               && has_words(line, "--comment", "cni-ovs-netin")) {
        char *dst = xasprintf(IP_FMT"/32",
                              IP_ARGS(htonl(spec->cell->instance_address)));
        char *ports = xasprintf("%u:%u", spec->netin_port_min,
                                spec->netin_port_max);
        bool wanted = (!strncmp(line, "-A PREROUTING ", 14)
                       && has_words(line, "-d", dst)
                       && has_words(line, "-i", spec->underlay_interface)
                       && has_words(line, "--dport", ports));
        free(ports);
        free(dst);
        return wanted ? slot_netin(spec) : STALE;
    } else if (!strcmp(table, "filter")
               && has_words(line, "--comment", INPUT_CHAIN)) {
        bool wanted = (!strncmp(line, "-A INPUT ", 9)
                       && has_words(line, "-i", spec->gw_ifname)
                       && has_words(line, "-j", INPUT_CHAIN));
        return wanted ? slot_input(spec) : STALE;
    }
    return NOT_OURS;
}

/* The changes to one table, in iptables-restore's words. */
struct table_changes {
    struct ds deletes;          /* "-D CHAIN words..." lines. */
};

/* From 'saved' (iptables-save's output), finds the rules of ours that are
 * there ('present', one flag per slot) and appends a deletion of each one
 * 'spec' does not want (an earlier run's, or a second copy) to 'nat' or
 * 'filter', and the line with its table to 'removed'. */
static void
parse_saved(const struct hostnet_spec *spec, const char *saved,
            bool present[], struct ds *nat, struct ds *filter,
            struct ds *removed)
{
    char *copy = xstrdup(saved);
    char *table = NULL;
    char *save = NULL;

    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '*') {
            table = line + 1;
            continue;
        }
        if (!table || strncmp(line, "-A ", 3)) {
            continue;
        }
        size_t slot = classify_rule(spec, table, line);
        if (slot == NOT_OURS) {
            continue;
        }
        if (slot != STALE && !present[slot]) {
            present[slot] = true;
            continue;
        }
        struct ds *out = !strcmp(table, "nat") ? nat : filter;
        ds_put_format(out, "-D %s\n", line + 3);
        ds_put_format(removed, "-t %s %s\n", table, line);
    }
    free(copy);
}

void
hostrules_restore(const struct hostnet_spec *spec, const char *saved,
                  struct ds *ds, struct ds *removed)
{
    size_t n_slots = slot_input(spec) + 1;
    bool *present = xcalloc(n_slots, sizeof *present);
    struct ds nat_del = DS_EMPTY_INITIALIZER;
    struct ds filter_del = DS_EMPTY_INITIALIZER;

    parse_saved(spec, saved, present, &nat_del, &filter_del, removed);

    /* nat: our masquerade chain, declared (created or emptied) and filled
     * in the same commit. */
    ds_put_cstr(ds, "*nat\n:"MASQ_CHAIN" - [0:0]\n");
    for (size_t i = 0; i < spec->cell->n_overlays; i++) {
        ds_put_format(ds, "-A "MASQ_CHAIN" -d "IP_FMT"/%u -j RETURN\n",
                      IP_ARGS(htonl(spec->cell->overlays[i].addr)),
                      spec->cell->overlays[i].plen);
    }
    ds_put_cstr(ds, "-A "MASQ_CHAIN" -j MASQUERADE\n");
    ds_put_buffer(ds, nat_del.string, nat_del.length);
    for (size_t i = 0; i < spec->cell->n_overlays; i++) {
        if (!present[i]) {
            ds_put_format(ds, "-A POSTROUTING -s "IP_FMT"/%u -m comment "
                          "--comment cni-ovs-masquerade -j "MASQ_CHAIN"\n",
                          IP_ARGS(htonl(spec->cell->overlays[i].addr)),
                          spec->cell->overlays[i].plen);
        }
    }
    if (!present[slot_netin(spec)]) {
        ds_put_format(ds, "-A PREROUTING -i %s -d "IP_FMT"/32 -p tcp -m tcp "
                      "--dport %u:%u -m comment --comment cni-ovs-netin "
                      "-j DNAT --to-destination "CFNET_GATEWAY_IP_STRING"\n",
                      spec->underlay_interface,
                      IP_ARGS(htonl(spec->cell->instance_address)),
                      spec->netin_port_min, spec->netin_port_max);
    }
    ds_put_cstr(ds, "COMMIT\n");

    /* filter: what containers may reach on the host itself. */
    ds_put_cstr(ds, "*filter\n:"INPUT_CHAIN" - [0:0]\n"
                "-A "INPUT_CHAIN" -m conntrack --ctstate RELATED,ESTABLISHED "
                "-j ACCEPT\n");
    for (size_t i = 0; i < spec->cell->n_dns_servers; i++) {
        for (int p = 0; p < 2; p++) {
            const char *proto = p ? "tcp" : "udp";
            ds_put_format(ds, "-A "INPUT_CHAIN" -d "IP_FMT"/32 -p %s -m %s "
                          "--dport 53 -j ACCEPT\n",
                          IP_ARGS(htonl(spec->cell->dns_servers[i])), proto,
                          proto);
        }
    }
    for (int p = 0; p < 2; p++) {
        const struct model_service *svcs = (p ? spec->cell->udp_services
                                            : spec->cell->tcp_services);
        size_t n = p ? spec->cell->n_udp_services : spec->cell->n_tcp_services;
        const char *proto = p ? "udp" : "tcp";
        for (size_t i = 0; i < n; i++) {
            ds_put_format(ds, "-A "INPUT_CHAIN" -d "IP_FMT"/32 -p %s -m %s "
                          "--dport %"PRIu16" -j ACCEPT\n",
                          IP_ARGS(htonl(svcs[i].ip)), proto, proto,
                          svcs[i].port);
        }
    }
    ds_put_cstr(ds, "-A "INPUT_CHAIN" -p tcp -j REJECT --reject-with "
                "tcp-reset\n"
                "-A "INPUT_CHAIN" -j REJECT --reject-with "
                "icmp-port-unreachable\n");
    ds_put_buffer(ds, filter_del.string, filter_del.length);
    if (!present[slot_input(spec)]) {
        /* First: before any ACCEPT of the host's own. */
        ds_put_format(ds, "-I INPUT 1 -i %s -m comment --comment "
                      INPUT_CHAIN" -j "INPUT_CHAIN"\n", spec->gw_ifname);
    }
    ds_put_cstr(ds, "COMMIT\n");

    ds_destroy(&filter_del);
    ds_destroy(&nat_del);
    free(present);
}

bool
hostrules_saved_is_complete(const char *saved)
{
    size_t len = strlen(saved);
    while (len && saved[len - 1] == '\n') {
        len--;
    }
    if (!len) {
        return true;
    }
    const char *last = saved + len;
    while (last > saved && last[-1] != '\n') {
        last--;
    }
    return !strncmp(last, "# Completed", 11);
}
