/*
 * ipam: delegation of address management to a CNI IPAM plugin.
 *
 * cni-ovs asks the plugin named by the config's "ipam.type" (default
 * host-local), found in CNI_PATH, for the container's address, exactly as
 * CNI's delegation convention says: same environment (CNI_COMMAND,
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH), the network config on
 * stdin with the "ipam" object, and the result on stdout.  The cell's subnet
 * (Open_vSwitch external_ids:cf-subnet) is filled in as
 * "ranges":[[{"subnet":SUBNET}]] unless the operator's ipam object already
 * has "ranges" or "subnet". */

#ifndef CNI_OVS_IPAM_H
#define CNI_OVS_IPAM_H 1

#include "cfjson.h"
#include <stdint.h>

#include "compiler.h"
#include "netconf.h"

/* Returns the document to send to the IPAM plugin for network config 'nc'
 * and cell subnet 'subnet' (e.g. "10.255.7.0/24"; for DEL, when the subnet
 * is unknown, "0.0.0.0/0" works with host-local, which releases by
 * container id).  The caller frees the result with json_decref(). */
json_t *ipam_config(const struct netconf *nc, const char *subnet);

/* Runs the IPAM plugin 'nc->ipam_type' from 'cni_path' with CNI_COMMAND
 * 'command' ("ADD", "DEL" or "CHECK") and 'config' on stdin, the rest of
 * the environment inherited.  For ADD stores the plugin's result in
 * '*result' (caller json_decref()s it); 'result' may be NULL otherwise.
 *
 * Returns NULL on success.  On failure returns a malloc'd message and sets
 * '*code' to a CNI error code: the plugin's own code when it printed a CNI
 * error, CNI_ERR_INVALID_CONFIG when "ipam.type" is not a plugin in
 * 'cni_path', CNI_ERR_INVALID_ENV when 'cni_path' is empty, CNI_ERR_IO when
 * it could not be run or printed something else (enum cni_error in
 * result.h). */
char *ipam_exec(const struct netconf *nc, const char *cni_path,
                const char *command, const json_t *config, json_t **result,
                int *code)
    OVS_WARN_UNUSED_RESULT;

/* The same in steps, so that the plugin's process starts while the caller
 * still works out its input, and works while the caller does something
 * else: ipam_start() forks and execs the plugin (which then waits for its
 * stdin); ipam_feed() gives it 'config' without waiting; ipam_finish()
 * gives it 'config' (NULL if it was fed) and collects the answer like
 * ipam_exec().  ipam_abort() ends a started plugin that was not fed without
 * work (empty stdin: it refuses before touching anything).  Every started
 * call must be finished or aborted exactly once; both free it. */
struct ipam_call;
char *ipam_start(const struct netconf *nc, const char *cni_path,
                 const char *command, struct ipam_call **callp, int *code)
    OVS_WARN_UNUSED_RESULT;
char *ipam_feed(struct ipam_call *, const json_t *config)
    OVS_WARN_UNUSED_RESULT;
char *ipam_finish(struct ipam_call *, const json_t *config, json_t **result,
                  int *code)
    OVS_WARN_UNUSED_RESULT;
void ipam_abort(struct ipam_call *);

/* Finds the first IPv4 address in IPAM result 'result' (any CNI version)
 * and stores it in '*ip' (host order).  Returns NULL or an error. */
char *ipam_result_ipv4(const json_t *result, uint32_t *ip)
    OVS_WARN_UNUSED_RESULT;

#endif /* ipam.h */
