/*
 * result: encoding of the CNI result and error objects.
 *
 * The result of ADD (cniVersion as in the config):
 *
 *   {"cniVersion":"1.0.0",
 *    "interfaces":[{"name":"<host veth>","mac":"aa:ab:.."},
 *                  {"name":"eth0","mac":"ee:ee:..","sandbox":"<netns>"}],
 *    "ips":[{"interface":1,"address":"10.255.7.2/32",
 *            "gateway":"169.254.0.1"}],
 *    "routes":[{"dst":"0.0.0.0/0","gw":"169.254.0.1"}],
 *    "dns":{"nameservers":["169.254.0.2"]}}
 *
 * For 0.3.1 and 0.4.0 every "ips" entry also has "version":"4".  libcni
 * down-converts the 1.0.0 form to 0.4.0 for garden-external-networker, which
 * takes the first IPv4 address.
 *
 * Pure: no I/O.  Strings returned are malloc'd, compact JSON with a trailing
 * newline. */

#ifndef CNI_OVS_RESULT_H
#define CNI_OVS_RESULT_H 1

#include <stdint.h>

#include "netconf.h"

struct cni_result {
    enum cni_version version;
    const char *host_ifname;        /* Host-side veth. */
    uint8_t host_mac[6];
    const char *container_ifname;   /* CNI_IFNAME. */
    uint8_t container_mac[6];
    const char *sandbox;            /* CNI_NETNS. */
    uint32_t ip;                    /* Host byte order; encoded as /32. */
    uint32_t gateway;               /* Host byte order. */
    const char *const *dns_servers;
    size_t n_dns_servers;
};

char *cni_result_to_json(const struct cni_result *);

/* {"cniVersion":V,"code":N,"msg":MSG[,"details":DETAILS]}.  'version' may
 * be NULL (then "1.0.0"); 'details' may be NULL. */
char *cni_error_to_json(const char *version, int code, const char *msg,
                        const char *details);

/* {"cniVersion":V,"supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}. */
char *cni_version_reply(const char *version);

#endif /* result.h */
