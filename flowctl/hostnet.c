/*
 * hostnet: see hostnet.h.
 */

#include <config.h>

#include "hostnet.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfnet.h"
#include "hostrules.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "openvswitch/poll-loop.h"
#include "packets.h"
#include "procsys.h"
#include "runner.h"
#include "timeval.h"
#include "util.h"


VLOG_DEFINE_THIS_MODULE(hostnet);

int
hostnet_get_mtu(const char *ifname, int *mtu)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int error = 0;

    if (fd < 0) {
        return errno;
    }
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
    if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
        error = errno;
    } else {
        *mtu = ifr.ifr_mtu;
    }
    close(fd);
    return error;
}

static struct nl_addr *
ipv4_addr(uint32_t ip, unsigned int plen)
{
    ovs_be32 be = htonl(ip);
    struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof be);
    nl_addr_set_prefixlen(a, plen);
    return a;
}

/* Routes 'addr'/'plen' through link 'ifindex' (scope link). */
static char *
add_link_route(struct nl_sock *sk, int ifindex, uint32_t addr,
               unsigned int plen, const char *ifname)
{
    struct rtnl_route *route = rtnl_route_alloc();
    struct nl_addr *dst = ipv4_addr(addr, plen);
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    rtnl_route_set_family(route, AF_INET);
    rtnl_route_set_dst(route, dst);
    rtnl_route_set_scope(route, RT_SCOPE_LINK);
    rtnl_route_set_table(route, RT_TABLE_MAIN);
    rtnl_route_set_protocol(route, RTPROT_STATIC);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_add_nexthop(route, nh);
    int err = rtnl_route_add(sk, route, NLM_F_REPLACE | NLM_F_CREATE);
    nl_addr_put(dst);
    rtnl_route_put(route);
    if (err < 0) {
        return xasprintf("route to "IP_FMT"/%u via %s: %s",
                         IP_ARGS(htonl(addr)), plen, ifname,
                         nl_geterror(err));
    }
    return NULL;
}

/* Deletes the static routes through the gateway port that 'spec' no
 * longer wants (overlay networks an earlier run had). */
static char *
remove_stale_routes(struct nl_sock *sk, const struct hostnet_spec *spec,
                    int ifindex)
{
    struct nl_cache *cache;
    int err = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache);
    if (err < 0) {
        return xasprintf("listing routes: %s", nl_geterror(err));
    }

    char *error = NULL;
    for (struct nl_object *obj = nl_cache_get_first(cache); obj && !error;
         obj = nl_cache_get_next(obj)) {
        struct rtnl_route *route = (struct rtnl_route *) obj;
        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
        struct nl_addr *dst = rtnl_route_get_dst(route);
        if (!nh || rtnl_route_nh_get_ifindex(nh) != ifindex
            || rtnl_route_get_protocol(route) != RTPROT_STATIC
            || rtnl_route_get_table(route) != RT_TABLE_MAIN
            || !dst || nl_addr_get_len(dst) != 4) {
            continue;
        }
        uint32_t addr;
        memcpy(&addr, nl_addr_get_binary_addr(dst), 4);
        addr = ntohl(addr);
        unsigned int plen = nl_addr_get_prefixlen(dst);
        bool wanted = addr == CFNET_GATEWAY_IP && plen == 32;
        for (size_t i = 0; !wanted && i < spec->cell->n_overlays; i++) {
            wanted = (spec->cell->overlays[i].addr == addr
                      && spec->cell->overlays[i].plen == plen);
        }
        if (!wanted) {
            err = rtnl_route_delete(sk, route, 0);
            if (err < 0) {
                error = xasprintf("deleting the route to "IP_FMT"/%u via "
                                  "%s: %s", IP_ARGS(htonl(addr)), plen,
                                  spec->gw_ifname, nl_geterror(err));
            } else {
                VLOG_INFO("removed an earlier route to "IP_FMT"/%u via %s",
                          IP_ARGS(htonl(addr)), plen, spec->gw_ifname);
            }
        }
    }
    nl_cache_free(cache);
    return error;
}

/* Deletes the IPv4 addresses of link 'ifindex' other than 'ip'/'plen'. */
static char *
remove_other_addrs(struct nl_sock *sk, int ifindex, uint32_t ip,
                   unsigned int plen, const char *ifname)
{
    struct nl_cache *cache;
    int err = rtnl_addr_alloc_cache(sk, &cache);
    if (err < 0) {
        return xasprintf("listing addresses: %s", nl_geterror(err));
    }

    char *error = NULL;
    for (struct nl_object *obj = nl_cache_get_first(cache); obj && !error;
         obj = nl_cache_get_next(obj)) {
        struct rtnl_addr *a = (struct rtnl_addr *) obj;
        struct nl_addr *local = rtnl_addr_get_local(a);
        if (rtnl_addr_get_ifindex(a) != ifindex
            || rtnl_addr_get_family(a) != AF_INET
            || !local || nl_addr_get_len(local) != 4) {
            continue;
        }
        uint32_t addr;
        memcpy(&addr, nl_addr_get_binary_addr(local), 4);
        addr = ntohl(addr);
        unsigned int aplen = rtnl_addr_get_prefixlen(a);
        if (addr == ip && aplen == plen) {
            continue;
        }
        err = rtnl_addr_delete(sk, a, 0);
        if (err < 0) {
            error = xasprintf("deleting "IP_FMT"/%u from %s: %s",
                              IP_ARGS(htonl(addr)), aplen, ifname,
                              nl_geterror(err));
        } else {
            VLOG_INFO("removed an earlier address "IP_FMT"/%u from %s",
                      IP_ARGS(htonl(addr)), aplen, ifname);
        }
    }
    nl_cache_free(cache);
    return error;
}

static char *
configure_link(struct nl_sock *sk, const struct hostnet_spec *spec)
{
    struct rtnl_link *link = NULL;
    char *error = NULL;
    int err;

    err = rtnl_link_get_kernel(sk, 0, spec->gw_ifname, &link);
    if (err < 0) {
        return xasprintf("%s: %s", spec->gw_ifname, nl_geterror(err));
    }
    int ifindex = rtnl_link_get_ifindex(link);

    /* Up. */
    struct rtnl_link *change = rtnl_link_alloc();
    rtnl_link_set_flags(change, IFF_UP);
    err = rtnl_link_change(sk, link, change, 0);
    rtnl_link_put(change);
    rtnl_link_put(link);
    if (err < 0) {
        return xasprintf("setting %s up: %s", spec->gw_ifname,
                         nl_geterror(err));
    }

    /* The subnet's first address, with the prefix of the overlay network
     * that holds it: the kernel then routes that network here. */
    unsigned int plen = 32;
    for (size_t i = 0; i < spec->cell->n_overlays; i++) {
        const struct ipv4_cidr *o = &spec->cell->overlays[i];
        if (ipv4_cidr_contains(o, spec->gw_ip)) {
            plen = o->plen;
        }
    }
    struct rtnl_addr *addr = rtnl_addr_alloc();
    struct nl_addr *local = ipv4_addr(spec->gw_ip, plen);
    rtnl_addr_set_ifindex(addr, ifindex);
    rtnl_addr_set_local(addr, local);
    err = rtnl_addr_add(sk, addr, NLM_F_REPLACE);
    nl_addr_put(local);
    rtnl_addr_put(addr);
    if (err < 0 && err != -NLE_EXIST) {
        return xasprintf("adding "IP_FMT"/%u to %s: %s",
                         IP_ARGS(htonl(spec->gw_ip)), plen,
                         spec->gw_ifname, nl_geterror(err));
    }

    /* Any other IPv4 address on the port is an earlier run's (another
     * subnet, another overlay prefix): it would keep routing its network
     * here. */
    error = remove_other_addrs(sk, ifindex, spec->gw_ip, plen,
                               spec->gw_ifname);
    if (error) {
        return error;
    }

    /* The other overlay networks, through the bridge too. */
    for (size_t i = 0; i < spec->cell->n_overlays; i++) {
        const struct ipv4_cidr *o = &spec->cell->overlays[i];
        if (!ipv4_cidr_contains(o, spec->gw_ip)) {
            error = add_link_route(sk, ifindex, o->addr, o->plen,
                                   spec->gw_ifname);
            if (error) {
                return error;
            }
        }
    }

    /* 169.254.0.1 through the bridge (NetIn goes there). */
    error = add_link_route(sk, ifindex, CFNET_GATEWAY_IP, 32,
                           spec->gw_ifname);
    return error ? error : remove_stale_routes(sk, spec, ifindex);
}

/* Brings the gateway port, its address and routes, and IP forwarding to
 * what 'spec' says, through netlink and /proc: quick kernel calls. */
static char *
apply_kernel(const struct hostnet_spec *spec)
{
    struct nl_sock *sk = nl_socket_alloc();
    char *error;

    if (!sk) {
        return xstrdup("netlink: out of memory");
    }
    int err = nl_connect(sk, NETLINK_ROUTE);
    if (err < 0) {
        nl_socket_free(sk);
        return xasprintf("netlink: %s", nl_geterror(err));
    }
    error = configure_link(sk, spec);
    nl_socket_free(sk);
    if (error) {
        return error;
    }

    /* Under bpm without privileged, /proc/sys is read-only: the job's
     * pre-start sets it, and flowctl checks. */
    err = procsys_ensure("net/ipv4/ip_forward", "1");
    return (err
            ? xasprintf(PROCSYS_DIR"/net/ipv4/ip_forward: %s",
                        ovs_strerror(err))
            : NULL);
}

/* ---- the state machine ---- */

#define HOSTNET_STATES                                                    \
    /* Nothing asked yet. */                                              \
    HOSTNET_STATE(IDLE, "not set up yet")                                 \
    /* iptables-save runs: what is there. */                              \
    HOSTNET_STATE(SAVING, "reading iptables rules")                       \
    /* iptables-restore runs: the changes. */                             \
    HOSTNET_STATE(RESTORING, "applying iptables rules")                   \
    /* The last spec is applied. */                                       \
    HOSTNET_STATE(APPLIED, "applied")                                     \
    /* The last try failed; 'retry' says when the next starts. */         \
    HOSTNET_STATE(FAILED, "failed")

enum hostnet_state {
#define HOSTNET_STATE(NAME, TEXT) HOSTNET_##NAME,
    HOSTNET_STATES
#undef HOSTNET_STATE
};

static const char *
state_name(enum hostnet_state state)
{
    switch (state) {
#define HOSTNET_STATE(NAME, TEXT) case HOSTNET_##NAME: return TEXT;
    HOSTNET_STATES
#undef HOSTNET_STATE
    }
    return "unknown";
}

/* A copy of a spec, owned. */
struct owned_spec {
    struct hostnet_spec spec;   /* Points into the members below. */
    char *gw_ifname;
    char *underlay_interface;
    struct model_cell cell;
};

struct hostnet {
    struct runner *runner;
    enum hostnet_state state;
    struct owned_spec *spec;    /* The last spec asked for, or NULL. */
    bool dirty;                 /* 'spec' changed while a command ran. */

    /* The command that runs (SAVING, RESTORING). */
    const char *cmd_name;       /* "iptables-save", ... */
    long long int cmd_started;
    bool cmd_logged;            /* Its slowness is logged. */
    bool cmd_ended;             /* Its callback came: the members below. */
    int cmd_status;
    char *cmd_output;
    char *cmd_error;

    char *last_error;           /* Why the last try failed (FAILED). */
    long long int retry;        /* When FAILED starts over. */
};

static void
owned_spec_free(struct owned_spec *o)
{
    if (o) {
        free(o->gw_ifname);
        free(o->underlay_interface);
        model_cell_destroy(&o->cell);
        free(o);
    }
}

static struct owned_spec *
owned_spec_copy(const struct hostnet_spec *spec)
{
    struct owned_spec *o = xzalloc(sizeof *o);
    o->spec = *spec;
    o->gw_ifname = xstrdup(spec->gw_ifname);
    o->underlay_interface = xstrdup(spec->underlay_interface);
    model_cell_clone(&o->cell, spec->cell);
    o->spec.gw_ifname = o->gw_ifname;
    o->spec.underlay_interface = o->underlay_interface;
    o->spec.cell = &o->cell;
    return o;
}

struct hostnet *
hostnet_create(struct runner *runner)
{
    struct hostnet *h = xzalloc(sizeof *h);
    h->runner = runner;
    h->state = HOSTNET_IDLE;
    return h;
}

static bool
cmd_running(const struct hostnet *h)
{
    return h->state == HOSTNET_SAVING || h->state == HOSTNET_RESTORING;
}

static void
cmd_clear(struct hostnet *h)
{
    h->cmd_ended = false;
    free(h->cmd_output);
    h->cmd_output = NULL;
    free(h->cmd_error);
    h->cmd_error = NULL;
}

/* The runner's callback.  Only records: hostnet_run() moves on. */
static void
cmd_done(void *h_, int status, const char *output, const char *error)
{
    struct hostnet *h = h_;

    h->cmd_ended = true;
    h->cmd_status = status;
    h->cmd_output = xstrdup(output);
    h->cmd_error = nullable_xstrdup(error);
    poll_immediate_wake();
}

/* Enters FAILED with 'error' (taken). */
static void
enter_failed(struct hostnet *h, char *error)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    VLOG_WARN_RL(&rl, "host setup: %s (retrying in %d s)", error,
                 HOSTNET_RETRY_MS / 1000);
    free(h->last_error);
    h->last_error = error;
    h->state = HOSTNET_FAILED;
    h->retry = time_msec() + HOSTNET_RETRY_MS;
}

/* Starts 'argv' with 'input' and enters 'state', or FAILED. */
static void
start_cmd(struct hostnet *h, enum hostnet_state state, char *argv[],
          const char *input)
{
    cmd_clear(h);
    int error = runner_start(h->runner, argv, input, HOSTNET_CMD_TIMEOUT_MS,
                             cmd_done, h);
    if (error) {
        enter_failed(h, xasprintf("cannot run %s: %s", argv[0],
                          ovs_strerror(error)));
        return;
    }
    h->state = state;
    h->cmd_name = argv[0];
    h->cmd_started = time_msec();
    h->cmd_logged = false;
}

/* Starts applying 'h->spec' from the beginning. */
static void
start(struct hostnet *h)
{
    h->dirty = false;
    char *error = apply_kernel(&h->spec->spec);
    if (error) {
        enter_failed(h, error);
        return;
    }
    char *argv[] = { "iptables-save", NULL };
    start_cmd(h, HOSTNET_SAVING, argv, NULL);
}

/* The command that ran has ended: returns NULL if it succeeded, otherwise
 * why not. */
static char *
cmd_result(const struct hostnet *h)
{
    int st = h->cmd_status;
    if (h->cmd_error) {
        return xasprintf("%s: %s", h->cmd_name, h->cmd_error);
    } else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "%s: ", h->cmd_name);
        if (WIFEXITED(st)) {
            ds_put_format(&s, "exit status %d", WEXITSTATUS(st));
        } else {
            ds_put_format(&s, "killed by signal %d", WTERMSIG(st));
        }
        if (h->cmd_output[0]) {
            ds_put_format(&s, ": %s", h->cmd_output);
            ds_chomp(&s, '\n');
        }
        return ds_steal_cstr(&s);
    }
    return NULL;
}

void
hostnet_run(struct hostnet *h)
{
    long long int now = time_msec();

    if (cmd_running(h) && !h->cmd_ended) {
        if (!h->cmd_logged && now >= h->cmd_started + HOSTNET_SLOW_MS) {
            h->cmd_logged = true;
            VLOG_WARN("%s has been running for %d s (is another process "
                      "holding the xtables lock?); flowctl carries on and "
                      "applies the host side when it ends", h->cmd_name,
                      HOSTNET_SLOW_MS / 1000);
        }
        return;
    }

    if (cmd_running(h)) {
        char *error = cmd_result(h);
        if (h->cmd_logged) {
            VLOG_INFO("%s ended after %lld ms", h->cmd_name,
                      now - h->cmd_started);
        }
        if (h->dirty) {
            /* A newer spec: start over with it, whatever this run did. */
            free(error);
            start(h);
        } else if (error) {
            enter_failed(h, error);
        } else if (h->state == HOSTNET_SAVING
                   && !hostrules_saved_is_complete(h->cmd_output)) {
            enter_failed(h, xasprintf("iptables-save: its output is cut "
                                      "short (more than %d bytes?)",
                                      RUNNER_MAX_OUTPUT));
        } else if (h->state == HOSTNET_SAVING) {
            struct ds input = DS_EMPTY_INITIALIZER;
            struct ds removed = DS_EMPTY_INITIALIZER;
            hostrules_restore(&h->spec->spec, h->cmd_output, &input,
                              &removed);
            if (removed.length) {
                ds_chomp(&removed, '\n');
                VLOG_INFO("removing earlier iptables rules:\n%s",
                          ds_cstr(&removed));
            }
            ds_destroy(&removed);
            VLOG_DBG("iptables-restore input:\n%s", ds_cstr(&input));
            char *argv[] = { "iptables-restore", "-w", "--noflush", NULL };
            start_cmd(h, HOSTNET_RESTORING, argv, ds_cstr(&input));
            ds_destroy(&input);
        } else {
            h->state = HOSTNET_APPLIED;
            free(h->last_error);
            h->last_error = NULL;
            VLOG_INFO("host setup done: %s has the overlay gateway, "
                      "iptables chains "HOSTRULES_MASQ_CHAIN" and "
                      HOSTRULES_INPUT_CHAIN" are "
                      "in place", h->spec->spec.gw_ifname);
        }
        if (!cmd_running(h)) {
            cmd_clear(h);
        }
        return;
    }

    if ((h->state == HOSTNET_FAILED && now >= h->retry)
        || (h->dirty && h->state != HOSTNET_FAILED)) {
        start(h);
    }
}

void
hostnet_wait(struct hostnet *h)
{
    if (cmd_running(h) && !h->cmd_ended && !h->cmd_logged) {
        poll_timer_wait_until(h->cmd_started + HOSTNET_SLOW_MS);
    } else if (h->state == HOSTNET_FAILED) {
        poll_timer_wait_until(h->retry);
    } else if (h->dirty || h->cmd_ended) {
        poll_immediate_wake();
    }
}

void
hostnet_apply(struct hostnet *h, const struct hostnet_spec *spec)
{
    owned_spec_free(h->spec);
    h->spec = owned_spec_copy(spec);
    h->dirty = true;
    if (h->state == HOSTNET_FAILED) {
        h->retry = 0;           /* A new spec: try it now. */
    }
    poll_immediate_wake();
}

void
hostnet_format_status(const struct hostnet *h, struct ds *ds)
{
    long long int now = time_msec();

    ds_put_cstr(ds, state_name(h->state));
    if (cmd_running(h)) {
        ds_put_format(ds, " (%s running for %lld ms)", h->cmd_name,
                      now - h->cmd_started);
    } else if (h->state == HOSTNET_FAILED) {
        ds_put_format(ds, " (retry in %lld ms): %s",
                      MAX(h->retry - now, 0), h->last_error);
    }
    if (h->dirty && h->state != HOSTNET_IDLE) {
        ds_put_cstr(ds, "; a newer setup is pending");
    }
}

void
hostnet_destroy(struct hostnet *h)
{
    if (h) {
        /* A command still running belongs to the runner, which must be
         * destroyed first (its callback points here). */
        cmd_clear(h);
        owned_spec_free(h->spec);
        free(h->last_error);
        free(h);
    }
}

/* ---- the host's own destinations (flowctl/trace) ---- */

char *
hostnet_read_host_dsts(struct ipv4_cidr **localp, size_t *n_localp,
                       struct ipv4_cidr **bcastp, size_t *n_bcastp)
{
    struct nl_sock *sk = nl_socket_alloc();
    struct nl_cache *cache;

    if (!sk) {
        return xstrdup("netlink: out of memory");
    }
    int err = nl_connect(sk, NETLINK_ROUTE);
    if (!err) {
        err = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache);
    }
    nl_socket_free(sk);
    if (err < 0) {
        return xasprintf("listing the local routes: %s", nl_geterror(err));
    }

    struct ipv4_cidr *local = NULL, *bcast = NULL;
    size_t n_local = 0, n_bcast = 0, a_local = 0, a_bcast = 0;
    for (struct nl_object *obj = nl_cache_get_first(cache); obj;
         obj = nl_cache_get_next(obj)) {
        struct rtnl_route *route = (struct rtnl_route *) obj;
        struct nl_addr *dst = rtnl_route_get_dst(route);
        uint8_t type = rtnl_route_get_type(route);
        if (rtnl_route_get_table(route) != RT_TABLE_LOCAL
            || (type != RTN_LOCAL && type != RTN_BROADCAST)
            || !dst || nl_addr_get_len(dst) != 4) {
            continue;
        }
        uint32_t addr;
        memcpy(&addr, nl_addr_get_binary_addr(dst), 4);
        struct ipv4_cidr c = { ntohl(addr), nl_addr_get_prefixlen(dst) };
        if (type == RTN_LOCAL) {
            if (n_local >= a_local) {
                local = x2nrealloc(local, &a_local, sizeof *local);
            }
            local[n_local++] = c;
        } else {
            if (n_bcast >= a_bcast) {
                bcast = x2nrealloc(bcast, &a_bcast, sizeof *bcast);
            }
            bcast[n_bcast++] = c;
        }
    }
    nl_cache_free(cache);
    *localp = local;
    *n_localp = n_local;
    *bcastp = bcast;
    *n_bcastp = n_bcast;
    return NULL;
}
