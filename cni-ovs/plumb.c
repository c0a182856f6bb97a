/*
 * plumb: the container's veth, set up with libnl.
 *
 * See plumb.h for what gets configured.  Two netlink sockets do the work:
 * one in the caller's (cell) namespace and one created while setns()'d into
 * the container's namespace; a socket stays bound to the namespace it was
 * created in, so after that only the sysctl write needs setns() again.
 *
 * Errors quote the kernel's errno (strerror(), e.g. "File exists") and its
 * extended ack message when there is one.  libnl itself only reports its
 * own NLE_* codes, which lose both, so every socket gets an error callback
 * that records them (struct nlconn). */

#include "plumb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/nsfs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfnet.h"
#include "ipv4.h"
#include "openvswitch/vlog.h"
#include "procsys.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(plumb);

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* ---- netlink sockets that remember the kernel's reason ---- */

/* A NETLINK_ROUTE socket plus what the kernel said about the last request
 * that failed.  Call nlconn_reset() before each request. */
struct nlconn {
    struct nl_sock *sk;
    int kerr;                   /* errno of the last NLMSG_ERROR, or 0. */
    char extack[128];           /* Its extended ack message, or "". */
};

/* libnl error callback: records 'e''s errno and extended ack message in the
 * struct nlconn 'conn_' and lets libnl return its own error code. */
static int
nlconn_err_cb(struct sockaddr_nl *nla OVS_UNUSED, struct nlmsgerr *e,
              void *conn_)
{
    struct nlconn *conn = conn_;
    const struct nlmsghdr *h = (const struct nlmsghdr *)
        ((const char *) e - NLMSG_HDRLEN);

    conn->kerr = -e->error;
    conn->extack[0] = '\0';
    if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
        size_t ofs = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof *e);
        if (!(h->nlmsg_flags & NLM_F_CAPPED)
            && e->msg.nlmsg_len > NLMSG_HDRLEN) {
            ofs += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
        }
        if (ofs < h->nlmsg_len) {
            const struct nlattr *attrs = (const struct nlattr *)
                ((const char *) h + ofs);
            struct nlattr *a = nla_find(attrs, h->nlmsg_len - ofs,
                                        NLMSGERR_ATTR_MSG);
            if (a && nla_len(a) > 0) {
                /* The kernel's message is null-terminated; don't rely on
                 * it. */
                size_t n = MIN(nla_len(a), sizeof conn->extack - 1);
                memcpy(conn->extack, nla_data(a), n);
                conn->extack[n] = '\0';
            }
        }
    }
    return NL_STOP;
}

static void
nlconn_reset(struct nlconn *conn)
{
    conn->kerr = 0;
    conn->extack[0] = '\0';
}

/* Returns "CONTEXT: REASON" or "CONTEXT: REASON (EXTACK)", where CONTEXT is
 * formatted from 'format', and REASON is the kernel's errno recorded in
 * 'conn' or, failing that, libnl's description of 'nlerr' (a negative
 * NLE_* code). */
static char * OVS_PRINTF_FORMAT(3, 4)
nlconn_error(const struct nlconn *conn, int nlerr, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *context = xvasprintf(format, args);
    va_end(args);

    const char *reason = (conn->kerr > 0
                          ? ovs_strerror(conn->kerr)
                          : nl_geterror(nlerr));
    char *msg = (conn->extack[0]
                 ? xasprintf("%s: %s (%s)", context, reason, conn->extack)
                 : xasprintf("%s: %s", context, reason));
    free(context);
    return msg;
}

/* Opens 'conn' as a NETLINK_ROUTE socket in the calling thread's current
 * network namespace.  Returns NULL or an error. */
static char *
nlconn_open(struct nlconn *conn)
{
    nlconn_reset(conn);
    conn->sk = nl_socket_alloc();
    if (!conn->sk) {
        return xstrdup("allocating netlink socket: out of memory");
    }

    int err = nl_connect(conn->sk, NETLINK_ROUTE);
    if (err < 0) {
        char *error = xasprintf("opening netlink socket: %s",
                                nl_geterror(err));
        nl_socket_free(conn->sk);
        conn->sk = NULL;
        return error;
    }

    /* Extended acks, without the request echoed back.  Best effort: older
     * kernels just give no message. */
    int fd = nl_socket_get_fd(conn->sk);
    int one = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    nl_socket_modify_err_cb(conn->sk, NL_CB_CUSTOM, nlconn_err_cb, conn);
    return NULL;
}

static void
nlconn_close(struct nlconn *conn)
{
    if (conn->sk) {
        nl_socket_free(conn->sk);
        conn->sk = NULL;
    }
}

/* Returns true if 'ifname' can be a Linux interface name as far as length
 * goes.  (libnl's rtnl_link_set_name() silently truncates longer names.) */
static bool
ifname_ok(const char *ifname)
{
    return ifname && ifname[0] && strlen(ifname) < IFNAMSIZ;
}

/* Looks up link 'ifname' through 'conn' and stores it in '*linkp' (the
 * caller rtnl_link_put()s it).  Returns 0 or a negative NLE_* code,
 * -NLE_NODEV if there is no such link (as for a name that is too long to
 * be one). */
static int
nlconn_get_link(struct nlconn *conn, const char *ifname,
                struct rtnl_link **linkp)
{
    nlconn_reset(conn);
    *linkp = NULL;
    if (!ifname_ok(ifname)) {
        return -NLE_NODEV;
    }
    return rtnl_link_get_kernel(conn->sk, 0, ifname, linkp);
}

/* ---- network namespaces ---- */

/* Opens the network namespace file 'path' into '*fdp'.  Returns 0 or an
 * errno value. */
static int
netns_open(const char *path, int *fdp)
{
    *fdp = open(path, O_RDONLY | O_CLOEXEC);
    return *fdp < 0 ? errno : 0;
}

/* Switches the calling thread into the network namespace 'nsfd', saving the
 * current one in '*savedp' for netns_leave().  Returns 0 or an errno value
 * (EINVAL if 'nsfd' is not a network namespace); on error the thread stays
 * where it was and there is nothing to leave. */
static int
netns_enter(int nsfd, int *savedp)
{
    *savedp = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*savedp < 0) {
        return errno;
    }
    if (setns(nsfd, CLONE_NEWNET)) {
        int error = errno;
        close(*savedp);
        *savedp = -1;
        return error;
    }
    return 0;
}

/* Returns the calling thread to the namespace saved by netns_enter().
 * Failing that would leave the process in the container's namespace,
 * where nothing it did afterward would be right, so it is fatal. */
static void
netns_leave(int saved)
{
    if (setns(saved, CLONE_NEWNET)) {
        ovs_abort(errno, "plumb: cannot return to the original network "
                  "namespace");
    }
    close(saved);
}

/* Checks that 'path' is a network namespace file (as CNI_NETNS must be).
 * Returns NULL if it is, otherwise a malloc'd message that quotes 'path'. */
char *
plumb_netns_check(const char *path)
{
    int fd;
    int error = netns_open(path, &fd);
    if (error) {
        return xasprintf("cannot open \"%s\": %s", path,
                         ovs_strerror(error));
    }
    int type = ioctl(fd, NS_GET_NSTYPE);
    error = type < 0 ? errno : 0;
    close(fd);
    if (type == CLONE_NEWNET) {
        return NULL;
    } else if (type >= 0 || error == ENOTTY) {
        return xasprintf("\"%s\" is not a network namespace", path);
    }
    return xasprintf("\"%s\": %s", path, ovs_strerror(error));
}

/* The container's side: its namespace and sockets that live in it. */
struct container {
    const char *path;           /* Namespace file. */
    int nsfd;                   /* Open on 'path'. */
    struct nlconn nl;           /* NETLINK_ROUTE socket in the namespace. */
    int ioctl_fd;               /* AF_INET socket in the namespace. */
};

/* Opens the namespace at 'path' and the sockets in it into 'ct'.  Returns 0
 * on success, otherwise an errno value (ENOENT: no such file; EINVAL: not a
 * network namespace) and in '*errorp' a message; then 'ct' needs no
 * container_close(). */
static int
container_open(const char *path, struct container *ct, char **errorp)
{
    ct->path = path;
    ct->nl.sk = NULL;
    ct->ioctl_fd = -1;
    *errorp = NULL;

    int error = netns_open(path, &ct->nsfd);
    if (error) {
        *errorp = xasprintf("opening network namespace %s: %s",
                            path, ovs_strerror(error));
        return error;
    }

    int saved;
    error = netns_enter(ct->nsfd, &saved);
    if (error) {
        *errorp = (error == EINVAL
                   ? xasprintf("%s is not a network namespace", path)
                   : xasprintf("entering network namespace %s: %s",
                               path, ovs_strerror(error)));
        close(ct->nsfd);
        return error;
    }

    char *nl_error = nlconn_open(&ct->nl);
    if (!nl_error) {
        ct->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (ct->ioctl_fd < 0) {
            error = errno;
            *errorp = xasprintf("creating socket in %s: %s",
                                path, ovs_strerror(error));
            nlconn_close(&ct->nl);
        }
    }
    netns_leave(saved);

    if (nl_error) {
        *errorp = xasprintf("%s: %s", path, nl_error);
        free(nl_error);
        close(ct->nsfd);
        return EIO;
    } else if (*errorp) {
        close(ct->nsfd);
        return error;
    }
    return 0;
}

static void
container_close(struct container *ct)
{
    nlconn_close(&ct->nl);
    if (ct->ioctl_fd >= 0) {
        close(ct->ioctl_fd);
    }
    close(ct->nsfd);
}

/* ---- small helpers ---- */

/* Returns a new nl_addr for IPv4 address 'ip' (host order) with prefix
 * length 'plen'.  The caller nl_addr_put()s it. */
static struct nl_addr *
make_ipv4(uint32_t ip, unsigned int plen)
{
    uint32_t nip = htonl(ip);
    struct nl_addr *addr = nl_addr_build(AF_INET, &nip, sizeof nip);
    if (!addr) {
        out_of_memory();
    }
    nl_addr_set_prefixlen(addr, plen);
    return addr;
}

static struct nl_addr *
make_mac(const uint8_t mac[6])
{
    struct nl_addr *addr = nl_addr_build(AF_UNSPEC, mac, 6);
    if (!addr) {
        out_of_memory();
    }
    return addr;
}

/* Applies 'changes' to existing link 'link' through 'conn'.  Returns 0 or a
 * negative NLE_* code. */
static int
change_link(struct nlconn *conn, struct rtnl_link *link,
            struct rtnl_link *changes)
{
    nlconn_reset(conn);
    return rtnl_link_change(conn->sk, link, changes, 0);
}

/* Sets link 'ifname' up through 'conn'.  Returns NULL or an error, with
 * 'where' (e.g. " in NETNS") appended to the context. */
static char *
set_link_up(struct nlconn *conn, const char *ifname, const char *where)
{
    struct rtnl_link *link;
    int err = nlconn_get_link(conn, ifname, &link);
    if (err < 0) {
        return nlconn_error(conn, err, "looking up %s%s", ifname, where);
    }

    struct rtnl_link *changes = rtnl_link_alloc();
    if (!changes) {
        out_of_memory();
    }
    rtnl_link_set_flags(changes, IFF_UP);
    err = change_link(conn, link, changes);
    rtnl_link_put(changes);
    rtnl_link_put(link);
    return (err < 0
            ? nlconn_error(conn, err, "setting %s%s up", ifname, where)
            : NULL);
}

/* Deletes link 'ifname' through 'conn'.  A missing link is success.
 * Returns NULL or an error. */
static char *
delete_link(struct nlconn *conn, const char *ifname, const char *where)
{
    struct rtnl_link *link;
    int err = nlconn_get_link(conn, ifname, &link);
    if (err == -NLE_NODEV) {
        VLOG_DBG("%s%s: already gone", ifname, where);
        return NULL;
    } else if (err < 0) {
        return nlconn_error(conn, err, "looking up %s%s", ifname, where);
    }

    nlconn_reset(conn);
    err = rtnl_link_delete(conn->sk, link);
    rtnl_link_put(link);
    if (err == -NLE_NODEV) {
        return NULL;
    }
    return (err < 0
            ? nlconn_error(conn, err, "deleting %s%s", ifname, where)
            : NULL);
}

/* ---- plumb_create() and plumb_address() ---- */

/* Creates the veth pair for 'spec' through 'host': host end
 * 'spec->host_ifname' in the current namespace, with its MAC, and peer
 * 'peer_name' created directly in namespace 'nsfd' (its MAC comes later,
 * with the address), both with the MTU, both down.
 *
 * The host end is only an OVS port.  With the kernel datapath OVS takes
 * every packet it receives; with the userspace datapath the host's IP stack
 * sees them too, so it must not answer ARP there (NOARP) nor accept IP from
 * there (strict reverse-path filtering, write_host_sysctls(): no route
 * points at the host end, so every source fails it).  Otherwise a container
 * could reach the cell's own addresses around the flow pipeline.
 * It is also created PROMISC, which ovs-vswitchd would set when it adds the
 * port: then ovs-vswitchd changes nothing (nor back when it removes the
 * port), and there is no link event from it, on which it would reconfigure
 * all its bridges once more. */
static char *
create_veth(struct nlconn *host, const struct plumb_spec *spec, int nsfd,
            const char *peer_name)
{
    struct rtnl_link *link = rtnl_link_veth_alloc();
    if (!link) {
        out_of_memory();
    }
    struct rtnl_link *peer = rtnl_link_veth_get_peer(link);

    rtnl_link_set_name(link, spec->host_ifname);
    struct nl_addr *mac = make_mac(spec->host_mac);
    rtnl_link_set_addr(link, mac);
    nl_addr_put(mac);

    rtnl_link_set_name(peer, peer_name);
    rtnl_link_set_ns_fd(peer, nsfd);
    rtnl_link_set_flags(link, IFF_NOARP | IFF_PROMISC);

    if (spec->mtu) {
        rtnl_link_set_mtu(link, spec->mtu);
        rtnl_link_set_mtu(peer, spec->mtu);
    }

    nlconn_reset(host);
    int err = rtnl_link_add(host->sk, link, NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(peer);
    rtnl_link_veth_release(link);
    if (err < 0) {
        return nlconn_error(host, err, "creating veth %s", spec->host_ifname);
    }
    VLOG_DBG("created veth %s, peer %s", spec->host_ifname, peer_name);
    return NULL;
}

/* Writes 'value' to setting 'name' (under /proc/sys) in the current
 * namespace; 'where' is "" or " in NAMESPACE", for the message.  A missing
 * setting (IPv6 disabled in the kernel) is not an error. */
static char *
write_sysctl(const char *name, const char *value, const char *where)
{
    int error = procsys_write(name, value);
    return (error && error != ENOENT
            ? xasprintf("writing "PROCSYS_DIR"/%s%s: %s", name, where,
                        ovs_strerror(error))
            : NULL);
}

/* See create_veth().  Writing these makes no link event. */
static char *
write_host_sysctls(const char *ifname)
{
    char *name = xasprintf("net/ipv4/conf/%s/rp_filter", ifname);
    char *error = write_sysctl(name, "1\n", "");
    free(name);
    if (!error) {
        name = xasprintf("net/ipv6/conf/%s/disable_ipv6", ifname);
        error = write_sysctl(name, "1\n", "");
        free(name);
    }
    return error;
}

/* Sets the host end's ifalias (the kernel ignores IFLA_IFALIAS when it
 * creates a link).  Done at once: DEL deletes only a link with the alias. */
static char *
set_host_alias(struct nlconn *host, const struct plumb_spec *spec)
{
    if (!spec->alias) {
        return NULL;
    }

    struct rtnl_link *link;
    int err = nlconn_get_link(host, spec->host_ifname, &link);
    if (err < 0) {
        return nlconn_error(host, err, "looking up %s", spec->host_ifname);
    }

    struct rtnl_link *changes = rtnl_link_alloc();
    if (!changes) {
        out_of_memory();
    }
    rtnl_link_set_ifalias(changes, spec->alias);
    err = change_link(host, link, changes);
    rtnl_link_put(changes);
    rtnl_link_put(link);
    return (err < 0
            ? nlconn_error(host, err, "setting the alias of %s",
                           spec->host_ifname)
            : NULL);
}

/* Turns off transmit checksum offload (and with it TSO) on 'ifname' through
 * the container's ioctl socket. */
static char *
disable_tx_csum(struct container *ct, const char *ifname)
{
    struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
    ifr.ifr_data = (void *) &ev;
    if (ioctl(ct->ioctl_fd, SIOCETHTOOL, &ifr) < 0) {
        return xasprintf("disabling tx checksum offload on %s in %s: %s",
                         ifname, ct->path, ovs_strerror(errno));
    }
    return NULL;
}

/* Writes '1' to /proc/sys/net/ipv6/conf/<ifname>/disable_ipv6 inside the
 * container's namespace (sysctls under /proc/sys/net belong to the
 * namespace of whoever opens them).  A missing file (no IPv6 in the kernel)
 * is success. */
static char *
disable_ipv6(struct container *ct, const char *ifname)
{
    int saved;
    int error = netns_enter(ct->nsfd, &saved);
    if (error) {
        return xasprintf("entering network namespace %s: %s",
                         ct->path, ovs_strerror(error));
    }

    char *name = xasprintf("net/ipv6/conf/%s/disable_ipv6", ifname);
    char *where = xasprintf(" in %s", ct->path);
    char *msg = write_sysctl(name, "1\n", where);
    netns_leave(saved);
    free(where);
    free(name);
    return msg;
}

/* Adds a route for 'spec' to the container's namespace: to 'dst'/'plen'
 * over 'ifindex' via 'gateway' (0 for a link route), with preferred source
 * 'src' (0 for none). */
static char *
add_route(struct container *ct, const struct plumb_spec *spec, int ifindex,
          uint32_t dst, unsigned int plen, uint32_t gateway, uint32_t src)
{
    struct rtnl_route *route = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    if (!route || !nh) {
        out_of_memory();
    }

    rtnl_route_set_family(route, AF_INET);
    rtnl_route_set_table(route, RT_TABLE_MAIN);
    rtnl_route_set_protocol(route, RTPROT_BOOT);
    rtnl_route_set_type(route, RTN_UNICAST);
    rtnl_route_set_scope(route, gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);

    struct nl_addr *addr = make_ipv4(dst, plen);
    rtnl_route_set_dst(route, addr);
    nl_addr_put(addr);
    if (src) {
        addr = make_ipv4(src, 32);
        rtnl_route_set_pref_src(route, addr);
        nl_addr_put(addr);
    }

    rtnl_route_nh_set_ifindex(nh, ifindex);
    if (gateway) {
        addr = make_ipv4(gateway, 32);
        rtnl_route_nh_set_gateway(nh, addr);
        nl_addr_put(addr);
    }
    rtnl_route_add_nexthop(route, nh);

    nlconn_reset(&ct->nl);
    int err = rtnl_route_add(ct->nl.sk, route, NLM_F_CREATE | NLM_F_EXCL);
    rtnl_route_put(route);
    if (err < 0) {
        char dst_s[IPV4_ADDR_LEN], gw_s[IPV4_ADDR_LEN];
        ipv4_format(dst, dst_s);
        ipv4_format(gateway, gw_s);
        return nlconn_error(&ct->nl, err,
                            "adding route %s/%u%s%s dev %s in %s",
                            dst_s, plen, gateway ? " via " : "",
                            gateway ? gw_s : "", spec->container_ifname,
                            ct->path);
    }
    return NULL;
}

/* Prepares the container end 'spec->container_ifname' for traffic, before
 * the host end goes up: transmit checksum offload off (for the userspace
 * datapath), IPv6 off (so that it sends nothing of its own when its carrier
 * comes up), the interface and loopback up. */
static char *
prepare_container(struct container *ct, const struct plumb_spec *spec)
{
    const char *ifname = spec->container_ifname;
    char *error = NULL;

    if (spec->tx_csum_off) {
        error = disable_tx_csum(ct, ifname);
    }
    if (!error) {
        error = disable_ipv6(ct, ifname);
    }
    if (!error) {
        char *where = xasprintf(" in %s", ct->path);
        error = set_link_up(&ct->nl, ifname, where);
        if (!error) {
            error = set_link_up(&ct->nl, "lo", where);
        }
        free(where);
    }
    return error;
}

/* Gives the container end 'spec->container_ifname', which is up, its
 * address: the MAC derived from it, <ip>/32, the gateway's neighbour entry
 * and the routes.  None of it makes a link event in the cell. */
static char *
address_container(struct container *ct, const struct plumb_spec *spec)
{
    const char *ifname = spec->container_ifname;
    char ip_s[IPV4_ADDR_LEN], gw_s[IPV4_ADDR_LEN];
    ipv4_format(spec->ip, ip_s);
    ipv4_format(spec->gateway, gw_s);

    struct rtnl_link *link;
    int err = nlconn_get_link(&ct->nl, ifname, &link);
    if (err < 0) {
        return nlconn_error(&ct->nl, err, "looking up %s in %s",
                            ifname, ct->path);
    }
    int ifindex = rtnl_link_get_ifindex(link);

    /* A veth takes a new MAC while up. */
    struct rtnl_link *changes = rtnl_link_alloc();
    if (!changes) {
        out_of_memory();
    }
    struct nl_addr *mac = make_mac(spec->container_mac);
    rtnl_link_set_addr(changes, mac);
    nl_addr_put(mac);
    err = change_link(&ct->nl, link, changes);
    rtnl_link_put(changes);
    rtnl_link_put(link);
    if (err < 0) {
        char mac_s[18];
        cfnet_mac_format(spec->container_mac, mac_s);
        return nlconn_error(&ct->nl, err, "setting the MAC of %s in %s to %s",
                            ifname, ct->path, mac_s);
    }

    /* <ip>/32. */
    struct rtnl_addr *addr = rtnl_addr_alloc();
    if (!addr) {
        out_of_memory();
    }
    struct nl_addr *local = make_ipv4(spec->ip, 32);
    rtnl_addr_set_ifindex(addr, ifindex);
    rtnl_addr_set_family(addr, AF_INET);
    rtnl_addr_set_local(addr, local);
    rtnl_addr_set_prefixlen(addr, 32);
    rtnl_addr_set_scope(addr, RT_SCOPE_UNIVERSE);
    nl_addr_put(local);
    nlconn_reset(&ct->nl);
    err = rtnl_addr_add(ct->nl.sk, addr, NLM_F_CREATE | NLM_F_EXCL);
    rtnl_addr_put(addr);
    if (err < 0) {
        return nlconn_error(&ct->nl, err, "adding address %s/32 to %s in %s",
                            ip_s, ifname, ct->path);
    }

    struct rtnl_neigh *neigh = rtnl_neigh_alloc();
    if (!neigh) {
        out_of_memory();
    }
    struct nl_addr *gw = make_ipv4(spec->gateway, 32);
    struct nl_addr *lladdr = make_mac(spec->gateway_mac);
    rtnl_neigh_set_ifindex(neigh, ifindex);
    rtnl_neigh_set_family(neigh, AF_INET);
    rtnl_neigh_set_dst(neigh, gw);
    rtnl_neigh_set_lladdr(neigh, lladdr);
    rtnl_neigh_set_state(neigh, NUD_PERMANENT);
    nl_addr_put(gw);
    nl_addr_put(lladdr);
    nlconn_reset(&ct->nl);
    err = rtnl_neigh_add(ct->nl.sk, neigh, NLM_F_CREATE | NLM_F_REPLACE);
    rtnl_neigh_put(neigh);
    if (err < 0) {
        return nlconn_error(&ct->nl, err,
                            "adding neighbour %s to %s in %s",
                            gw_s, ifname, ct->path);
    }

    char *error = add_route(ct, spec, ifindex, spec->gateway, 32, 0, 0);
    if (!error) {
        error = add_route(ct, spec, ifindex, 0, 0, spec->gateway, spec->ip);
    }
    return error;
}

/* Creates the veth pair described by 'spec' and brings it up (see
 * plumb.h).
 * Returns NULL on success, otherwise a malloc'd error, after deleting the
 * host end if this call created it (which deletes the peer too), with
 * '*ifname_taken' true if the container's namespace already has an
 * interface named 'spec->container_ifname'.  A host end that already
 * existed is left alone.  Restores the calling thread's network namespace
 * on every path. */
char *
plumb_create(const struct plumb_spec *spec, bool *ifname_taken)
{
    struct container ct;
    char *error;

    *ifname_taken = false;

    if (!spec->netns_path || !spec->netns_path[0]) {
        return xstrdup("no network namespace given");
    } else if (!ifname_ok(spec->host_ifname)) {
        return xasprintf("invalid host interface name \"%s\" "
                         "(must be 1 to %d characters)",
                         spec->host_ifname ? spec->host_ifname : "",
                         IFNAMSIZ - 1);
    } else if (!ifname_ok(spec->container_ifname)) {
        return xasprintf("invalid container interface name \"%s\" "
                         "(must be 1 to %d characters)",
                         spec->container_ifname
                         ? spec->container_ifname : "",
                         IFNAMSIZ - 1);
    }
    container_open(spec->netns_path, &ct, &error);
    if (error) {
        return error;
    }

    struct nlconn host;
    error = nlconn_open(&host);
    if (error) {
        container_close(&ct);
        return error;
    }

    /* The peer is created directly in the container's namespace, under its
     * final name (its uniqueness matters only there).
     *
     * The cell's ovs-vswitchd reconfigures all its bridges on every link
     * event in its namespace.  The host end makes two bursts of them: when
     * it is created (its alias and sysctls, written while it is down, make
     * none, nor does anything in the container's namespace) and when it
     * goes up (and, the peer being up already, gets its carrier).  It goes
     * up here, before it is a port: ovs-vswitchd's userspace datapath
     * would otherwise poll a down device and log errors. */
    error = create_veth(&host, spec, ct.nsfd, spec->container_ifname);
    if (error && host.kerr == EEXIST) {
        /* Which name is taken?  Name the container's if it is that one. */
        struct rtnl_link *link;
        if (!nlconn_get_link(&ct.nl, spec->container_ifname, &link)) {
            rtnl_link_put(link);
            free(error);
            error = xasprintf("creating veth %s: the container's network "
                              "namespace %s already has an interface %s",
                              spec->host_ifname, ct.path,
                              spec->container_ifname);
            *ifname_taken = true;
        }
    }
    if (!error) {
        error = set_host_alias(&host, spec);
        if (!error) {
            error = write_host_sysctls(spec->host_ifname);
        }
        if (!error) {
            error = prepare_container(&ct, spec);
        }
        if (!error) {
            error = set_link_up(&host, spec->host_ifname, "");
        }
        if (error) {
            char *del_error = delete_link(&host, spec->host_ifname, "");
            if (del_error) {
                VLOG_DBG("cleanup after failure: %s", del_error);
                free(del_error);
            }
        }
    }

    nlconn_close(&host);
    container_close(&ct);
    return error;
}

/* Gives the container end made by plumb_create() its address (see
 * plumb.h).  Returns NULL or a malloc'd error; on error, the caller deletes
 * the pair with plumb_del_host().  Restores the calling thread's network
 * namespace on every path. */
char *
plumb_address(const struct plumb_spec *spec)
{
    struct container ct;
    char *error;

    container_open(spec->netns_path, &ct, &error);
    if (!error) {
        error = address_container(&ct, spec);
        container_close(&ct);
    }
    return error;
}

/* ---- deletion ---- */

/* Deletes host link 'host_ifname' unless it is missing or, with nonnull
 * 'alias', its ifalias differs from 'alias'.  Returns NULL or an error. */
char *
plumb_del_host(const char *host_ifname, const char *alias)
{
    struct nlconn host;
    char *error = nlconn_open(&host);
    if (error) {
        return error;
    }

    struct rtnl_link *link;
    int err = nlconn_get_link(&host, host_ifname, &link);
    if (err == -NLE_NODEV) {
        VLOG_DBG("%s: already gone", host_ifname);
    } else if (err < 0) {
        error = nlconn_error(&host, err, "looking up %s", host_ifname);
    } else {
        const char *ifalias = rtnl_link_get_ifalias(link);
        if (alias && (!ifalias || strcmp(ifalias, alias))) {
            VLOG_DBG("%s: alias \"%s\" is not \"%s\", not deleting",
                     host_ifname, ifalias ? ifalias : "", alias);
        } else {
            nlconn_reset(&host);
            err = rtnl_link_delete(host.sk, link);
            if (err < 0 && err != -NLE_NODEV) {
                error = nlconn_error(&host, err, "deleting %s", host_ifname);
            }
        }
        rtnl_link_put(link);
    }

    nlconn_close(&host);
    return error;
}

/* Deletes 'ifname' in the namespace at 'netns_path'.  An empty or null
 * 'netns_path', a missing namespace file, a file that is not a network
 * namespace and a missing link are all success.  Returns NULL or an
 * error. */
char *
plumb_del_container(const char *netns_path, const char *ifname)
{
    if (!netns_path || !netns_path[0]) {
        return NULL;
    }

    struct container ct;
    char *error;
    int err = container_open(netns_path, &ct, &error);
    if (err == ENOENT || err == EINVAL) {
        VLOG_DBG("%s", error);
        free(error);
        return NULL;
    } else if (err) {
        return error;
    }

    char *where = xasprintf(" in %s", netns_path);
    error = delete_link(&ct.nl, ifname, where);
    free(where);
    container_close(&ct);
    return error;
}

/* ---- plumb_check() ---- */

/* Returns true if 'cache' (addresses) has 'ip'/32 on 'ifindex'. */
static bool
has_address(struct nl_cache *cache, int ifindex, uint32_t ip)
{
    uint32_t nip = htonl(ip);
    for (struct nl_object *obj = nl_cache_get_first(cache); obj;
         obj = nl_cache_get_next(obj)) {
        struct rtnl_addr *addr = (struct rtnl_addr *) obj;
        struct nl_addr *local = rtnl_addr_get_local(addr);
        if (rtnl_addr_get_family(addr) == AF_INET
            && rtnl_addr_get_ifindex(addr) == ifindex
            && rtnl_addr_get_prefixlen(addr) == 32
            && local && nl_addr_get_len(local) == 4
            && !memcmp(nl_addr_get_binary_addr(local), &nip, 4)) {
            return true;
        }
    }
    return false;
}

/* Returns true if 'cache' (IPv4 routes) has a default route in the main
 * table over 'ifindex' via 'gateway'. */
static bool
has_default_route(struct nl_cache *cache, int ifindex, uint32_t gateway)
{
    uint32_t ngw = htonl(gateway);
    for (struct nl_object *obj = nl_cache_get_first(cache); obj;
         obj = nl_cache_get_next(obj)) {
        struct rtnl_route *route = (struct rtnl_route *) obj;
        struct nl_addr *dst = rtnl_route_get_dst(route);
        if (rtnl_route_get_table(route) != RT_TABLE_MAIN
            || rtnl_route_get_type(route) != RTN_UNICAST
            || (dst && nl_addr_get_prefixlen(dst) != 0)
            || rtnl_route_get_nnexthops(route) != 1) {
            continue;
        }
        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
        struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
        if (rtnl_route_nh_get_ifindex(nh) == ifindex
            && gw && nl_addr_get_len(gw) == 4
            && !memcmp(nl_addr_get_binary_addr(gw), &ngw, 4)) {
            return true;
        }
    }
    return false;
}

/* Compares link 'link' with 'spec'.  Returns NULL or what differs. */
static char *
check_link(struct rtnl_link *link, const struct plumb_spec *spec,
           const char *path)
{
    const char *ifname = spec->container_ifname;
    if (!(rtnl_link_get_flags(link) & IFF_UP)) {
        return xasprintf("%s in %s is down", ifname, path);
    }

    struct nl_addr *mac = rtnl_link_get_addr(link);
    if (!mac || nl_addr_get_len(mac) != 6
        || memcmp(nl_addr_get_binary_addr(mac), spec->container_mac, 6)) {
        char want[18], have[18] = "none";
        cfnet_mac_format(spec->container_mac, want);
        if (mac && nl_addr_get_len(mac) == 6) {
            cfnet_mac_format(nl_addr_get_binary_addr(mac), have);
        }
        return xasprintf("%s in %s has MAC %s, expected %s",
                         ifname, path, have, want);
    }

    if (spec->mtu && rtnl_link_get_mtu(link) != spec->mtu) {
        return xasprintf("%s in %s has MTU %u, expected %u", ifname, path,
                         rtnl_link_get_mtu(link), spec->mtu);
    }
    return NULL;
}

/* Verifies the container side against 'spec'.  Returns NULL if it matches,
 * otherwise a malloc'd description of the first difference (or of the
 * error that prevented checking). */
char *
plumb_check(const struct plumb_spec *spec)
{
    const char *ifname = spec->container_ifname;
    const char *path = spec->netns_path ? spec->netns_path : "";
    struct container ct;
    char *error;

    container_open(path, &ct, &error);
    if (error) {
        return error;
    }

    struct rtnl_link *link;
    int err = nlconn_get_link(&ct.nl, ifname, &link);
    if (err == -NLE_NODEV) {
        error = xasprintf("%s not found in %s", ifname, path);
        goto out;
    } else if (err < 0) {
        error = nlconn_error(&ct.nl, err, "looking up %s in %s",
                             ifname, path);
        goto out;
    }
    int ifindex = rtnl_link_get_ifindex(link);
    error = check_link(link, spec, path);
    rtnl_link_put(link);
    if (error) {
        goto out;
    }

    char ip_s[IPV4_ADDR_LEN], gw_s[IPV4_ADDR_LEN];
    ipv4_format(spec->ip, ip_s);
    ipv4_format(spec->gateway, gw_s);

    struct nl_cache *cache;
    nlconn_reset(&ct.nl);
    err = rtnl_addr_alloc_cache(ct.nl.sk, &cache);
    if (err < 0) {
        error = nlconn_error(&ct.nl, err, "listing addresses in %s", path);
        goto out;
    }
    if (!has_address(cache, ifindex, spec->ip)) {
        error = xasprintf("%s in %s lacks address %s/32",
                          ifname, path, ip_s);
    }
    nl_cache_free(cache);
    if (error) {
        goto out;
    }

    nlconn_reset(&ct.nl);
    err = rtnl_route_alloc_cache(ct.nl.sk, AF_INET, 0, &cache);
    if (err < 0) {
        error = nlconn_error(&ct.nl, err, "listing routes in %s", path);
        goto out;
    }
    if (!has_default_route(cache, ifindex, spec->gateway)) {
        error = xasprintf("%s lacks default route via %s dev %s",
                          path, gw_s, ifname);
    }
    nl_cache_free(cache);

out:
    container_close(&ct);
    return error;
}

/* Returns true if a link named 'ifname' exists in the calling thread's
 * current network namespace. */
bool
plumb_link_exists(const char *ifname)
{
    struct nlconn conn;
    char *error = nlconn_open(&conn);
    if (error) {
        VLOG_DBG("%s", error);
        free(error);
        return false;
    }

    struct rtnl_link *link;
    int err = nlconn_get_link(&conn, ifname, &link);
    if (!err) {
        rtnl_link_put(link);
    }
    nlconn_close(&conn);
    return err == 0;
}
