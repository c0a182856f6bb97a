/*
 * trace: flowctl/trace.  See trace.h.
 */

#include <config.h>

#include "trace.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cfnet.h"
#include "explain.h"
#include "hostnet.h"
#include "ipv4.h"
#include "model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "runner.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(trace);

/* ovs-appctl's own timeout, and ours for it (it may hang connecting). */
#define TRACE_APPCTL_TIMEOUT_S 3
#define TRACE_TIMEOUT_MS 5000

struct trace {
    const struct model *model;
    struct runner *runner;
    char *bridge;
    bool ready;                 /* The bridge is set up. */
};

/* A flowctl/trace waiting for ovs-appctl. */
struct trace_req {
    struct trace *trace;
    struct unixctl_conn *conn;
    uint32_t dst;               /* Host byte order. */
    char *command;              /* What ran, for the reply. */
};

static void
trace_done(void *req_, int status, const char *output, const char *error)
{
    struct trace_req *req = req_;

    if (error || !WIFEXITED(status) || WEXITSTATUS(status)) {
        char *status_s = (error ? xstrdup(error)
                          : WIFEXITED(status)
                          ? xasprintf("exit status %d", WEXITSTATUS(status))
                          : xasprintf("killed by signal %d",
                                      WTERMSIG(status)));
        char *msg = xasprintf("%s failed (%s):\n%s", req->command, status_s,
                              output);
        unixctl_command_reply_error(req->conn, msg);
        free(msg);
        free(status_s);
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "%s\n\n%s", req->command, output);
        ds_chomp(&s, '\n');
        ds_put_cstr(&s, "\n\nverdict: ");
        /* The cell's addresses now, from the kernel (a quick netlink
         * dump): the host refuses what egress lets through to them. */
        struct ipv4_cidr *local, *bcast;
        size_t n_local, n_bcast;
        char *host_error = hostnet_read_host_dsts(&local, &n_local,
                                                  &bcast, &n_bcast);
        struct explain_host_dsts host = {
            .local = local, .n_local = n_local,
            .broadcast = bcast, .n_broadcast = n_bcast,
        };
        explain_trace(req->trace->model, output, req->dst,
                      host_error ? NULL : &host, &s);
        ds_put_char(&s, '\n');
        if (host_error) {
            ds_put_format(&s, "(the cell's own addresses are unknown: %s)\n",
                          host_error);
            free(host_error);
        } else {
            free(local);
            free(bcast);
        }
        unixctl_command_reply(req->conn, ds_cstr(&s));
        ds_destroy(&s);
    }
    free(req->command);
    free(req);
}

static const struct model_container *
find_container_by_handle(const struct model *model, const char *handle)
{
    const struct model_container *c;
    HMAP_FOR_EACH (c, node, &model->containers) {
        if (!strcmp(c->handle, handle)) {
            return c;
        }
    }
    return NULL;
}

/* Parses flowctl/trace's arguments into the flow to trace (returned,
 * malloc'd) and '*dst'; on error returns NULL with a message naming the
 * argument in '*errorp'. */
static char *
trace_flow(const struct model *model, const char *argv[], uint32_t *dst,
           char **errorp)
{
    const char *handle = argv[1], *dst_s = argv[2], *proto = argv[3];
    const char *port_s = argv[4];
    unsigned int port;
    ovs_be32 ip;

    *errorp = NULL;
    const struct model_container *c = find_container_by_handle(model,
                                                               handle);
    if (!c) {
        *errorp = xasprintf("HANDLE: no container with handle \"%s\" on "
                            "this cell (flowctl/show lists them)", handle);
        return NULL;
    }
    if (!ip_parse(dst_s, &ip)) {
        *errorp = xasprintf("DST: \"%s\" is not an IPv4 address", dst_s);
        return NULL;
    }
    bool icmp = !strcmp(proto, "icmp");
    if (!icmp && strcmp(proto, "tcp") && strcmp(proto, "udp")) {
        *errorp = xasprintf("PROTO: \"%s\" is not tcp, udp or icmp", proto);
        return NULL;
    }
    if (!str_to_uint(port_s, 10, &port) || port > (icmp ? 255 : 65535)) {
        *errorp = xasprintf(icmp
                            ? "PORT: \"%s\" is not an ICMP type (0-255)"
                            : "PORT: \"%s\" is not a port number (0-65535)",
                            port_s);
        return NULL;
    }

    uint8_t gw_mac[6] = CFNET_GATEWAY_MAC;
    struct eth_addr src, gw;
    memcpy(src.ea, c->mac, ETH_ADDR_LEN);
    memcpy(gw.ea, gw_mac, ETH_ADDR_LEN);
    *dst = ntohl(ip);
    /* "tcp_dst"/"udp_dst": ofproto/trace refuses the "tp_dst" alias for
     * UDP. */
    return xasprintf("in_port=%"PRIu32",%s,dl_src="ETH_ADDR_FMT",dl_dst="
                     ETH_ADDR_FMT",nw_src="IP_FMT",nw_dst="IP_FMT
                     ",nw_ttl=64,%s_%s=%u", c->ofport, proto,
                     ETH_ADDR_ARGS(src), ETH_ADDR_ARGS(gw),
                     IP_ARGS(htonl(c->ip)), IP_ARGS(ip), proto,
                     icmp ? "type" : "dst", port);
}

static void
trace_unixctl(struct unixctl_conn *conn, int argc OVS_UNUSED,
              const char *argv[], void *trace_)
{
    struct trace *trace = trace_;
    uint32_t dst;
    char *error;

    if (!trace->ready) {
        unixctl_command_reply_error(conn, "the bridge is not set up yet");
        return;
    }
    char *flow = trace_flow(trace->model, argv, &dst, &error);
    if (!flow) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    char *timeout = xasprintf("--timeout=%d", TRACE_APPCTL_TIMEOUT_S);
    char *target = runner_vswitchd_target(trace->runner);
    char *args[] = {
        "ovs-appctl", "-t", target, timeout, "ofproto/trace", trace->bridge,
        flow, "--ct-next", "trk,new", NULL,
    };
    struct trace_req *req = xzalloc(sizeof *req);
    req->trace = trace;
    req->conn = conn;
    req->dst = dst;
    req->command = xasprintf("ovs-appctl ofproto/trace %s %s --ct-next "
                             "trk,new", trace->bridge, flow);
    int retval = runner_start(trace->runner, args, NULL, TRACE_TIMEOUT_MS,
                              trace_done, req);
    if (retval) {
        error = xasprintf("cannot run ovs-appctl: %s", ovs_strerror(retval));
        unixctl_command_reply_error(conn, error);
        free(error);
        free(req->command);
        free(req);
    }
    free(target);
    free(timeout);
    free(flow);
}

struct trace *
trace_create(const struct model *model, struct runner *runner,
             const char *bridge)
{
    struct trace *trace = xzalloc(sizeof *trace);
    trace->model = model;
    trace->runner = runner;
    trace->bridge = xstrdup(bridge);
    unixctl_command_register("flowctl/trace", "HANDLE DST tcp|udp|icmp PORT",
                             4, 4, trace_unixctl, trace);
    return trace;
}

void
trace_destroy(struct trace *trace)
{
    if (trace) {
        free(trace->bridge);
        free(trace);
    }
}

void
trace_set_ready(struct trace *trace)
{
    trace->ready = true;
}
