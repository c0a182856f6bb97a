/*
 * cmd-check: CNI CHECK (cniVersion 0.4.0 and later).
 *
 * Verifies that what ADD made is still there and as 'prevResult' says: the
 * OVS port with this container's record and address, the container side of
 * the veth (address, MAC, MTU, default route), and the IPAM reservation
 * (delegated to the IPAM plugin's own CHECK).
 */

#include <config.h>

#include <string.h>

#include "localdb.h"
#include "cf-record.h"
#include "cfnet.h"
#include "ipv4.h"
#include "cmd.h"
#include "ipam.h"
#include "netconf.h"
#include "openvswitch/vlog.h"
#include "plumb.h"
#include "result.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cmd_check);

char *
cmd_check(const struct cni_env *env, const struct netconf *nc, char **out,
          int *code)
{
    long long int deadline = time_msec() + CNI_OVSDB_TIMEOUT_MS;
    char host_ifname[CFNET_IFNAME_LEN + 1];
    struct localdb *db = NULL;
    char *subnet = NULL;
    char *error;
    uint32_t ip;

    *out = NULL;
    if (nc->version < CNI_V040) {
        *code = CNI_ERR_INCOMPATIBLE_VERSION;
        return xasprintf("cniVersion: CHECK needs 0.4.0 or later, not %s",
                         nc->version_string);
    }
    if (!nc->prev_result) {
        *code = CNI_ERR_INVALID_CONFIG;
        return xstrdup("prevResult: required for CHECK");
    }
    error = ipam_result_ipv4(nc->prev_result, &ip);
    if (error) {
        *code = CNI_ERR_INVALID_CONFIG;
        char *msg = xasprintf("prevResult: %s", error);
        free(error);
        return msg;
    }

    cfnet_host_ifname(env->container_id, host_ifname);
    error = localdb_open(nc->ovsdb, nc->bridge, host_ifname, deadline, &db,
                         code);
    if (error) {
        return error;
    }

    unsigned int mtu;
    error = cmd_read_cell(localdb_get_cell_ids(db), nc, &subnet, &mtu, code);
    if (error) {
        goto out;
    }

    /* The port and its record. */
    const struct smap *ids = localdb_get_iface_ids(db);
    const char *owner = ids ? smap_get(ids, CFNET_KEY_HANDLE) : NULL;
    const char *rec_ip = ids ? smap_get(ids, CFNET_KEY_IP) : NULL;
    char ip_s[IPV4_ADDR_LEN];
    ipv4_format(ip, ip_s);
    if (!owner || strcmp(owner, env->container_id)) {
        *code = CNI_ERR_CHECK_MISMATCH;
        error = xasprintf("port %s for container %s is missing from bridge "
                          "%s", host_ifname, env->container_id, nc->bridge);
        goto out;
    }
    if (!rec_ip || strcmp(rec_ip, ip_s)) {
        *code = CNI_ERR_CHECK_MISMATCH;
        error = xasprintf("port %s: %s is %s, prevResult says %s",
                          host_ifname, CFNET_KEY_IP,
                          rec_ip ? rec_ip : "(none)", ip_s);
        goto out;
    }

    /* The container side. */
    struct plumb_spec spec;
    cmd_plumb_spec(env, nc, host_ifname, ip, mtu, &spec);
    error = plumb_check(&spec);
    if (error) {
        *code = CNI_ERR_CHECK_MISMATCH;
        goto out;
    }

    /* The reservation. */
    json_t *config = ipam_config(nc, subnet);
    error = ipam_exec(nc, env->path, "CHECK", config, NULL, code);
    json_decref(config);

out:
    localdb_close(db);
    free(subnet);
    return error;
}
