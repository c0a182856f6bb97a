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
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "process.h"
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

    /* The subnet's first address, with the overlay's prefix: the kernel
     * then routes the whole overlay here. */
    struct rtnl_addr *addr = rtnl_addr_alloc();
    struct nl_addr *local = ipv4_addr(spec->gw_ip, spec->overlay_plen);
    rtnl_addr_set_ifindex(addr, ifindex);
    rtnl_addr_set_local(addr, local);
    err = rtnl_addr_add(sk, addr, NLM_F_REPLACE);
    nl_addr_put(local);
    rtnl_addr_put(addr);
    if (err < 0 && err != -NLE_EXIST) {
        return xasprintf("adding "IP_FMT"/%u to %s: %s",
                         IP_ARGS(htonl(spec->gw_ip)), spec->overlay_plen,
                         spec->gw_ifname, nl_geterror(err));
    }

    /* 169.254.0.1 through the bridge (NetIn goes there). */
    struct rtnl_route *route = rtnl_route_alloc();
    struct nl_addr *dst = ipv4_addr(CFNET_GATEWAY_IP, 32);
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    rtnl_route_set_family(route, AF_INET);
    rtnl_route_set_dst(route, dst);
    rtnl_route_set_scope(route, RT_SCOPE_LINK);
    rtnl_route_set_table(route, RT_TABLE_MAIN);
    rtnl_route_set_protocol(route, RTPROT_STATIC);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_add_nexthop(route, nh);
    err = rtnl_route_add(sk, route, NLM_F_REPLACE | NLM_F_CREATE);
    nl_addr_put(dst);
    rtnl_route_put(route);
    if (err < 0) {
        error = xasprintf("route to "CFNET_GATEWAY_IP_STRING" via %s: %s",
                          spec->gw_ifname, nl_geterror(err));
    }
    return error;
}

static char *
write_sysctl(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, value, strlen(value)) < 0) {
        char *error = xasprintf("%s: %s", path, ovs_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return error;
    }
    close(fd);
    return NULL;
}

/* Runs iptables with 'argv' (NULL-terminated, without the program name)
 * and returns its exit status, or -1 if it could not be run. */
static int
run_iptables(char **argv, struct ds *output)
{
    int pipefd[2];
    if (pipe(pipefd)) {
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    } else if (!pid) {
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execvp("iptables", argv);
        _exit(127);
    }
    close(pipefd[1]);
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
    if (run_iptables(argv, &out)) {
        argv[4] = "-A";
        ds_clear(&out);
        if (run_iptables(argv, &out)) {
            error = xasprintf("iptables -t %s: %s", rule, ds_cstr(&out));
        }
    }
    ds_destroy(&out);
    free(copy);
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

    error = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    if (error) {
        return error;
    }

    char overlay[32];
    snprintf(overlay, sizeof overlay, IP_FMT"/%u",
             IP_ARGS(htonl(spec->overlay_addr)), spec->overlay_plen);
    char *rule = xasprintf("nat POSTROUTING -s %s ! -d %s -m comment "
                           "--comment cni-ovs-masquerade -j MASQUERADE",
                           overlay, overlay);
    error = ensure_rule(rule);
    free(rule);
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
    return error;
}
