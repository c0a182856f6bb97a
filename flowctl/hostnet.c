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
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "procsys.h"
#include "process.h"
#include "util.h"

/* Our nat chain: masquerades what leaves the overlay. */
#define MASQ_CHAIN "cni-ovs-masq"

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
        for (size_t i = 0; !wanted && i < spec->n_overlays; i++) {
            wanted = (spec->overlays[i].addr == addr
                      && spec->overlays[i].plen == plen);
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
    for (size_t i = 0; i < spec->n_overlays; i++) {
        const struct ipv4_cidr *o = &spec->overlays[i];
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
    for (size_t i = 0; i < spec->n_overlays; i++) {
        const struct ipv4_cidr *o = &spec->overlays[i];
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

/* Runs 'argv[0]' (iptables or iptables-restore) with 'argv'
 * (NULL-terminated), feeding it 'input' (if nonnull) on its standard input,
 * and returns its exit status, or -1 if it could not be run. */
static int
run_program(char **argv, const char *input, struct ds *output)
{
    int pipefd[2], infd[2] = { -1, -1 };
    if (pipe(pipefd)) {
        return -1;
    }
    if (input && pipe(infd)) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        if (input) {
            close(infd[0]);
            close(infd[1]);
        }
        return -1;
    } else if (!pid) {
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        if (input) {
            dup2(infd[0], STDIN_FILENO);
            close(infd[0]);
            close(infd[1]);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    if (input) {
        /* The rules are a few hundred bytes: far below a pipe's buffer. */
        close(infd[0]);
        size_t len = strlen(input);
        if (write(infd[1], input, len) != (ssize_t) len) {
            VLOG_WARN("writing to %s: %s", argv[0], ovs_strerror(errno));
        }
        close(infd[1]);
    }
    char buf[512];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0
           || (n < 0 && errno == EINTR)) {
        if (n > 0) {
            ds_put_buffer(output, buf, n);
        }
    }
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Ensures iptables rule 'rule' (a space-separated list of words, table and
 * chain first: "nat POSTROUTING -s ...") exists: -C, then -A. */
static char *
ensure_rule(const char *rule)
{
    char *copy = xstrdup(rule);
    char *argv[64];
    int n = 0;
    char *save = NULL;

    argv[n++] = "iptables";
    argv[n++] = "-w";
    argv[n++] = "-t";
    for (char *w = strtok_r(copy, " ", &save); w && n < 60;
         w = strtok_r(NULL, " ", &save)) {
        argv[n++] = w;
        if (n == 4) {                   /* After the table: the verb. */
            argv[n++] = "-C";
        }
    }
    argv[n] = NULL;

    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;
    if (run_program(argv, NULL, &out)) {
        argv[4] = "-A";
        ds_clear(&out);
        if (run_program(argv, NULL, &out)) {
            error = xasprintf("iptables -t %s: %s", rule, ds_cstr(&out));
        }
    }
    ds_destroy(&out);
    free(copy);
    return error;
}

/* Does the word list 'line' (as `iptables -S` prints a rule) contain the
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

/* Is rule 'line' of ours (by its comment) one that 'spec' still wants? */
static bool
rule_is_wanted(const struct hostnet_spec *spec, const char *line)
{
    if (has_words(line, "--comment", "cni-ovs-masquerade")) {
        if (!has_words(line, "-j", MASQ_CHAIN)) {
            return false;
        }
        for (size_t i = 0; i < spec->n_overlays; i++) {
            char *net = xasprintf(IP_FMT"/%u",
                                  IP_ARGS(htonl(spec->overlays[i].addr)),
                                  spec->overlays[i].plen);
            bool match = has_words(line, "-s", net);
            free(net);
            if (match) {
                return true;
            }
        }
        return false;
    } else if (has_words(line, "--comment", "cni-ovs-netin")) {
        char *dst = xasprintf(IP_FMT"/32",
                              IP_ARGS(htonl(spec->instance_address)));
        char *ports = xasprintf("%u:%u", spec->netin_port_min,
                                spec->netin_port_max);
        bool wanted = (has_words(line, "-d", dst)
                       && has_words(line, "-i", spec->underlay_interface)
                       && has_words(line, "--dport", ports));
        free(ports);
        free(dst);
        return wanted;
    }
    return true;                /* Not ours. */
}

/* Deletes the rules of ours in nat chain 'chain' that 'spec' no longer
 * wants (an earlier run's, with other overlay networks, another NetIn
 * range or underlay interface). */
static char *
remove_stale_rules(const struct hostnet_spec *spec, const char *chain)
{
    char *list_argv[] = {
        "iptables", "-w", "-t", "nat", "-S", CONST_CAST(char *, chain), NULL,
    };
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (run_program(list_argv, NULL, &out)) {
        error = xasprintf("iptables -t nat -S %s: %s", chain, ds_cstr(&out));
        ds_destroy(&out);
        return error;
    }

    char *save = NULL;
    for (char *line = strtok_r(ds_cstr(&out), "\n", &save);
         line && !error; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "-A ", 3) || rule_is_wanted(spec, line)) {
            continue;
        }
        /* "-A CHAIN words..." -> iptables -w -t nat -D CHAIN words... */
        char *copy = xstrdup(line + 3);
        char *argv[64] = { "iptables", "-w", "-t", "nat", "-D" };
        int n = 5;
        char *wsave = NULL;
        for (char *w = strtok_r(copy, " ", &wsave); w && n < 63;
             w = strtok_r(NULL, " ", &wsave)) {
            argv[n++] = w;
        }
        argv[n] = NULL;
        struct ds dout = DS_EMPTY_INITIALIZER;
        if (run_program(argv, NULL, &dout)) {
            error = xasprintf("iptables -t nat -D %s: %s", line + 3,
                              ds_cstr(&dout));
        } else {
            VLOG_INFO("removed an earlier iptables rule: %s", line);
        }
        ds_destroy(&dout);
        free(copy);
    }
    ds_destroy(&out);
    return error;
}

char *
hostnet_apply(const struct hostnet_spec *spec)
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

    err = procsys_write("net/ipv4/ip_forward", "1");
    if (err) {
        return xasprintf(PROCSYS_DIR"/net/ipv4/ip_forward: %s",
                         ovs_strerror(err));
    }

    /* Masquerade what leaves the overlay: a chain of our own, replaced as a
     * whole, atomically (iptables-restore --noflush declares, i.e.
     * creates or empties, and fills it in one commit of the nat table), so
     * no connection ever meets it half-built. */
    struct ds chain = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&chain, "*nat\n:"MASQ_CHAIN" - [0:0]\n");
    for (size_t i = 0; i < spec->n_overlays; i++) {
        ds_put_format(&chain, "-A "MASQ_CHAIN" -d "IP_FMT"/%u -j RETURN\n",
                      IP_ARGS(htonl(spec->overlays[i].addr)),
                      spec->overlays[i].plen);
    }
    ds_put_cstr(&chain, "-A "MASQ_CHAIN" -j MASQUERADE\nCOMMIT\n");
    char *restore_argv[] = { "iptables-restore", "-w", "--noflush", NULL };
    struct ds out = DS_EMPTY_INITIALIZER;
    if (run_program(restore_argv, ds_cstr(&chain), &out)) {
        error = xasprintf("iptables-restore (chain "MASQ_CHAIN"): %s",
                          ds_cstr(&out));
    }
    ds_destroy(&out);
    ds_destroy(&chain);
    char *rule;
    for (size_t i = 0; !error && i < spec->n_overlays; i++) {
        rule = xasprintf("nat POSTROUTING -s "IP_FMT"/%u -m comment "
                         "--comment cni-ovs-masquerade -j "MASQ_CHAIN,
                         IP_ARGS(htonl(spec->overlays[i].addr)),
                         spec->overlays[i].plen);
        error = ensure_rule(rule);
        free(rule);
    }
    if (error) {
        return error;
    }

    error = remove_stale_rules(spec, "POSTROUTING");
    if (error) {
        return error;
    }

    rule = xasprintf("nat PREROUTING -i %s -d "IP_FMT" -p tcp -m tcp "
                     "--dport %u:%u -m comment --comment cni-ovs-netin "
                     "-j DNAT --to-destination "CFNET_GATEWAY_IP_STRING,
                     spec->underlay_interface,
                     IP_ARGS(htonl(spec->instance_address)),
                     spec->netin_port_min, spec->netin_port_max);
    error = ensure_rule(rule);
    free(rule);
    return error ? error : remove_stale_rules(spec, "PREROUTING");
}
