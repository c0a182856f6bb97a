/*
 * cmd-del: CNI DEL.
 *
 * Removes, each step tolerating "already gone": the OVS port (only if its
 * container record names this container), the veth (by its name, derived
 * from the container id, and only if its ifalias is this container's; and
 * CNI_IFNAME inside the namespace if that still exists), and the IPAM
 * reservation.  So DEL succeeds when the namespace is gone, when the
 * container never existed, when it is called twice, and after an ADD that
 * died half-way.
 *
 * When the OVSDB cannot be reached, the veth is still removed, but the
 * address is kept (flowctl may still have flows for it) and DEL fails with
 * code 11, so that the caller retries: the retry removes the port and
 * releases the address.
 */

#include <config.h>

#include <string.h>

#include "localdb.h"
#include "cfnet.h"
#include "cmd.h"
#include "ipam.h"
#include "netconf.h"
#include "openvswitch/vlog.h"
#include "plumb.h"
#include "result.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cmd_del);

/* host-local releases by container id; any valid range will do when the
 * cell's subnet cannot be read. */
#define ANY_SUBNET "0.0.0.0/0"

/* Keeps the first error in '*first' (and its code), logs later ones. */
static void
keep_error(char **first, int *first_code, char *error, int code)
{
    if (!error) {
        return;
    }
    if (!*first) {
        *first = error;
        *first_code = code;
    } else {
        VLOG_WARN("%s", error);
        free(error);
    }
}

char *
cmd_del(const struct cni_env *env, const struct netconf *nc, char **out,
        int *code)
{
    long long int deadline = time_msec() + CNI_OVSDB_TIMEOUT_MS;
    char host_ifname[CFNET_IFNAME_LEN + 1];
    struct localdb *db = NULL;
    char *subnet = NULL;
    char *first = NULL;
    int first_code = 0;
    int c = 0;

    *out = NULL;
    cfnet_host_ifname(env->container_id, host_ifname);

    /* The IPAM plugin starts up while we remove the port; it gets its
     * config once the port is gone. */
    struct ipam_call *ipam = NULL;
    keep_error(&first, &first_code,
               ipam_start(nc, env->path, "DEL", &ipam, &c), c);

    /* The port. */
    char *error = localdb_open(nc->ovsdb, nc->bridge, host_ifname, deadline,
                               &db, &c);
    if (!error) {
        const char *s = localdb_get_cell_key(db, CFNET_KEY_SUBNET);
        subnet = s ? xstrdup(s) : NULL;
        error = localdb_del_port(db, env->container_id, deadline, &c);
    }
    bool port_gone = !error;
    keep_error(&first, &first_code, error, c);

    /* The address, only once the port is gone: as long as a container
     * record names the address, flowctl has flows for it, and another
     * container must not get it.  (Otherwise DEL fails, and the runtime's
     * retry releases it.)  The IPAM plugin releases it while the veth goes,
     * which takes the kernel tens of milliseconds (RCU grace periods). */
    if (ipam && port_gone) {
        json_t *config = ipam_config(nc, subnet ? subnet : ANY_SUBNET);
        error = ipam_feed(ipam, config);
        json_decref(config);
        if (error) {
            keep_error(&first, &first_code, error, CNI_ERR_IO);
            ipam_abort(ipam);
            ipam = NULL;
        }
    } else if (ipam) {
        ipam_abort(ipam);
        ipam = NULL;
    }

    /* The veth: the host end by name and owner, the container end by its
     * namespace (covers an ADD that died before naming the host end). */
    keep_error(&first, &first_code,
               plumb_del_host(host_ifname, env->container_id),
               CNI_ERR_TRY_AGAIN);
    keep_error(&first, &first_code,
               plumb_del_container(env->netns, env->ifname),
               CNI_ERR_TRY_AGAIN);

    if (ipam) {
        keep_error(&first, &first_code,
                   ipam_finish(ipam, NULL, NULL, &c), c);
    }

    localdb_close(db);
    free(subnet);
    *code = first_code;
    return first;
}
