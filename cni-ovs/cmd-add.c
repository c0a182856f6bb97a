/*
 * cmd-add: CNI ADD.
 *
 * In order, each step undone in reverse if a later one fails:
 *
 *   1. start the IPAM plugin's process, and read the cell's settings from
 *      the local OVSDB in one round trip (cf-subnet and cf-mtu, written by
 *      flowctl; an explicit "mtu" in the config wins); refuse if the
 *      container's interface exists;
 *   2. give the IPAM plugin its config: an address in that subnet;
 *   3. while it works, make the veth pair (plumb_create()) and open the IDL
 *      session; then give the container side the address (plumb_address());
 *   4. add the host end to the bridge, with the container record in the
 *      Interface's external_ids, in one OVSDB transaction, and wait for
 *      ovs-vswitchd to give it an OpenFlow port;
 *   5. with install_timeout > 0, wait for flowctl's cf-installed=true;
 *   6. print the CNI result.
 */

#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "localdb.h"
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

VLOG_DEFINE_THIS_MODULE(cmd_add);

/* Reads the cell's subnet (malloc'd, into '*subnetp') and container MTU
 * from the Open_vSwitch external_ids 'cell_ids' (the config's "mtu" wins
 * when nonzero). */
char *
cmd_read_cell(const struct smap *cell_ids, const struct netconf *nc,
              char **subnetp, unsigned int *mtu, int *code)
{
    const char *subnet = (cell_ids
                          ? smap_get(cell_ids, CFNET_KEY_SUBNET) : NULL);
    struct ipv4_cidr net;

    if (!subnet) {
        *code = CNI_ERR_TRY_AGAIN;
        return xasprintf("this cell has no subnet yet (Open_vSwitch "
                         "external_ids:%s is not set; flowctl writes it once "
                         "it has a lease)", CFNET_KEY_SUBNET);
    }
    if (!ipv4_parse_cidr(subnet, &net) || net.plen > 30) {
        *code = CNI_ERR_TRY_AGAIN;
        return xasprintf("Open_vSwitch external_ids:%s: \"%s\" is not an "
                         "IPv4 subnet of /30 or larger", CFNET_KEY_SUBNET,
                         subnet);
    }
    *subnetp = xstrdup(subnet);

    if (nc->mtu) {
        *mtu = nc->mtu;
        return NULL;
    }
    const char *s = smap_get(cell_ids, CFNET_KEY_MTU);
    if (!s) {
        *code = CNI_ERR_TRY_AGAIN;
        return xasprintf("this cell has no container MTU yet (Open_vSwitch "
                         "external_ids:%s is not set and the config has no "
                         "\"mtu\")", CFNET_KEY_MTU);
    }
    int value;
    if (!str_to_int(s, 10, &value) || value < 68 || value > 65535) {
        *code = CNI_ERR_TRY_AGAIN;
        return xasprintf("Open_vSwitch external_ids:%s: \"%s\" is not an "
                         "MTU (68..65535)", CFNET_KEY_MTU, s);
    }
    *mtu = value;
    return NULL;
}

static void
smap_add_if(struct smap *smap, const char *key, const char *value)
{
    if (value) {
        smap_add(smap, key, value);
    }
}

/* The container record: everything flowctl needs, in Interface
 * external_ids (docs/architecture.md lists the keys). */
static void
build_record(const struct cni_env *env, const struct netconf *nc,
             uint32_t ip, const uint8_t mac[6], struct smap *ids)
{
    const struct cf_metadata *md = &nc->metadata;
    char ip_s[IPV4_ADDR_LEN], mac_s[18];

    ipv4_format(ip, ip_s);
    cfnet_mac_format(mac, mac_s);

    smap_add(ids, CFNET_KEY_HANDLE, env->container_id);
    smap_add(ids, CFNET_KEY_IP, ip_s);
    smap_add(ids, CFNET_KEY_MAC, mac_s);
    smap_add_if(ids, CFNET_KEY_APP_ID, md->app_id);
    smap_add_if(ids, CFNET_KEY_SPACE_ID, md->space_id);
    smap_add_if(ids, CFNET_KEY_ORG_ID, md->org_id);
    smap_add_if(ids, CFNET_KEY_POLICY_GROUP_ID, md->policy_group_id);
    smap_add_if(ids, CFNET_KEY_WORKLOAD, md->container_workload);
    smap_add_if(ids, CFNET_KEY_PORTS, md->ports);
    smap_add_if(ids, CFNET_KEY_LOG_CONFIG, md->log_config);
    smap_add_nocopy(ids, xstrdup(CFNET_KEY_PORT_MAPPINGS),
                    cf_port_mappings_to_json(&nc->runtime));
    smap_add_nocopy(ids, xstrdup(CFNET_KEY_NETOUT_RULES),
                    cf_netout_rules_to_json(&nc->runtime));
}

void
cmd_plumb_spec(const struct cni_env *env, const struct netconf *nc,
               const char *host_ifname, uint32_t ip, unsigned int mtu,
               struct plumb_spec *spec)
{
    static const uint8_t gw_mac[6] = CFNET_GATEWAY_MAC;

    memset(spec, 0, sizeof *spec);
    spec->netns_path = env->netns;
    spec->container_ifname = env->ifname;
    spec->host_ifname = host_ifname;
    spec->alias = env->container_id;
    cfnet_veth_host_mac(env->container_id, spec->host_mac);
    spec->mtu = mtu;
    spec->gateway = CFNET_GATEWAY_IP;
    memcpy(spec->gateway_mac, gw_mac, sizeof gw_mac);
    spec->tx_csum_off = nc->netdev;
    if (ip) {
        cmd_plumb_spec_set_ip(spec, ip);
    }
}

/* Completes 'spec' with the container's address 'ip' and the MAC derived
 * from it. */
void
cmd_plumb_spec_set_ip(struct plumb_spec *spec, uint32_t ip)
{
    spec->ip = ip;
    cfnet_container_mac(ip, spec->container_mac);
}

/* With CNI_OVS_VLOG=cmd_add:dbg, logs when ADD of 'env' reached 'what',
 * counted from 'start' (time_usec()): where an ADD spends its time. */
static void
log_phase(const struct cni_env *env, long long int start, const char *what)
{
    VLOG_DBG("%s: %s at %.1f ms", env->container_id, what,
             (time_usec() - start) / 1000.0);
}

/* Gives back the address that IPAM handed out for this container. */
static void
undo_ipam(const struct cni_env *env, const struct netconf *nc,
          const char *subnet)
{
    json_t *config = ipam_config(nc, subnet);
    int code;
    char *error = ipam_exec(nc, env->path, "DEL", config, NULL, &code);
    if (error) {
        VLOG_WARN("%s: undoing the address reservation: %s",
                  env->container_id, error);
        free(error);
    }
    json_decref(config);
}

char *
cmd_add(const struct cni_env *env, const struct netconf *nc, char **out,
        int *code)
{
    long long int start = time_usec();
    long long int deadline = time_msec() + CNI_OVSDB_TIMEOUT_MS;
    char host_ifname[CFNET_IFNAME_LEN + 1];
    struct localdb *db = NULL;
    struct ipam_call *ipam = NULL;
    char *subnet = NULL;
    bool reserved = false, plumbed = false, ported = false;
    char *error;

    *out = NULL;
    cfnet_host_ifname(env->container_id, host_ifname);

    /* The IPAM plugin's process starts first: a missing plugin is reported
     * before anything else, and its runtime starts up (it waits for its
     * config on stdin) while we read the cell. */
    error = ipam_start(nc, env->path, "ADD", &ipam, code);
    if (error) {
        goto out;
    }

    /* 1. The cell's settings: one round trip, so that the IPAM plugin and
     * the veth need not wait for the IDL session. */
    struct localdb_snapshot snapshot;
    localdb_snapshot_init(&snapshot);
    unsigned int mtu;
    error = localdb_read_snapshot(nc->ovsdb, nc->bridge, host_ifname,
                                  deadline, &snapshot, code);
    if (!error) {
        error = cmd_read_cell(&snapshot.cell_ids, nc, &subnet, &mtu, code);
    }
    if (!error && !snapshot.has_bridge) {
        *code = CNI_ERR_TRY_AGAIN;
        error = xasprintf("bridge %s does not exist yet (flowctl creates it)",
                          nc->bridge);
    }
    if (!error && (snapshot.has_iface || plumb_link_exists(host_ifname))) {
        const char *owner = smap_get(&snapshot.iface_ids, CFNET_KEY_HANDLE);
        *code = CNI_ERR_ALREADY_EXISTS;
        error = xasprintf("container %s already has interface %s%s%s "
                          "(ADD twice without DEL?)", env->container_id,
                          host_ifname, owner ? " owned by " : "",
                          owner ? owner : "");
    }
    localdb_snapshot_destroy(&snapshot);
    if (error) {
        goto out;               /* The plugin is aborted, never fed. */
    }
    log_phase(env, start, "cell settings read");

    /* 2. The address: the IPAM plugin gets its config and works while we
     * go on. */
    json_t *ipam_conf = ipam_config(nc, subnet);
    error = ipam_feed(ipam, ipam_conf);
    json_decref(ipam_conf);
    if (error) {
        *code = CNI_ERR_IO;
        goto out;
    }
    log_phase(env, start, "IPAM plugin fed");

    /* 3. The veth pair, then the IDL session, while the plugin works.
     * Making the pair sets off ovs-vswitchd's reconfiguration of its
     * bridges (it reconfigures on every link event in its namespace): the
     * sooner, the less of it is left when the port's transaction comes
     * (docs/performance.md has the figures). */
    struct plumb_spec spec;
    cmd_plumb_spec(env, nc, host_ifname, 0, mtu, &spec);
    int side_code = CNI_ERR_TRY_AGAIN;
    bool ifname_taken;
    char *side_error = plumb_create(&spec, &ifname_taken);
    if (side_error && ifname_taken) {
        /* CNI_IFNAME names an interface the container has already. */
        char *msg = xasprintf("CNI_IFNAME: %s", side_error);
        free(side_error);
        side_error = msg;
        side_code = CNI_ERR_INVALID_ENV;
    } else if (!side_error) {
        plumbed = true;
        log_phase(env, start, "veth made");
        db = localdb_start(nc->ovsdb, nc->bridge, host_ifname);
        side_error = localdb_wait_ready(db, deadline, &side_code);
    }

    json_t *ipam_result = NULL;
    int ipam_code;
    error = ipam_finish(ipam, NULL, &ipam_result, &ipam_code);
    ipam = NULL;
    reserved = !error;
    log_phase(env, start, "IPAM plugin done");
    if (side_error && !(error && ipam_code != CNI_ERR_TRY_AGAIN)) {
        /* The veth or the IDL session failed.  That is the error to report
         * unless the plugin failed for good (e.g. bad "ranges"), which
         * trying again would not mend. */
        free(error);
        json_decref(ipam_result);
        error = side_error;
        *code = side_code;
        goto out;
    } else if (error) {
        free(side_error);
        *code = ipam_code;
        goto out;
    }
    uint32_t ip;
    error = ipam_result_ipv4(ipam_result, &ip);
    json_decref(ipam_result);
    if (error) {
        *code = CNI_ERR_INVALID_CONFIG;
        goto out;
    }

    /* The container side's address.  Only the container's namespace sees
     * it: no link event for ovs-vswitchd. */
    cmd_plumb_spec_set_ip(&spec, ip);
    error = plumb_address(&spec);
    if (error) {
        *code = CNI_ERR_TRY_AGAIN;
        goto out;
    }
    log_phase(env, start, "container side addressed");

    /* 4. The port, with the container record. */
    struct smap ids = SMAP_INITIALIZER(&ids);
    build_record(env, nc, ip, spec.container_mac, &ids);
    error = localdb_add_port(db, &ids, deadline, code);
    smap_destroy(&ids);
    ported = true;              /* Even on error: it may have committed. */
    if (error) {
        goto out;
    }

    log_phase(env, start, "port added");

    /* 5. The flows. */
    if (nc->install_timeout) {
        long long int installed_deadline
            = time_msec() + nc->install_timeout * 1000LL;
        error = localdb_wait_installed(db, installed_deadline, code);
        if (error) {
            goto out;
        }
    }

    /* 6. The result. */
    struct cni_result result = {
        .version = nc->version,
        .host_ifname = host_ifname,
        .container_ifname = env->ifname,
        .sandbox = env->netns,
        .ip = ip,
        .gateway = CFNET_GATEWAY_IP,
        .dns_servers = nc->dns_servers,
        .n_dns_servers = nc->n_dns_servers,
    };
    memcpy(result.host_mac, spec.host_mac, 6);
    memcpy(result.container_mac, spec.container_mac, 6);
    *out = cni_result_to_json(&result);

out:
    ipam_abort(ipam);           /* Only if it was never fed. */
    if (error) {
        /* Undo in reverse order; the first error is the one reported. */
        if (ported) {
            int ignored;
            long long int undo_deadline = time_msec() + CNI_OVSDB_TIMEOUT_MS;
            char *e = localdb_del_port(db, env->container_id, undo_deadline,
                                       &ignored);
            if (e) {
                VLOG_WARN("%s: undoing port %s: %s", env->container_id,
                          host_ifname, e);
                free(e);
            }
        }
        if (plumbed) {
            char *e = plumb_del_host(host_ifname, env->container_id);
            if (e) {
                VLOG_WARN("%s: undoing veth %s: %s", env->container_id,
                          host_ifname, e);
                free(e);
            }
        }
        if (reserved) {
            undo_ipam(env, nc, subnet);
        }
    }
    localdb_close(db);
    free(subnet);
    return error;
}
