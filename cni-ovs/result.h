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
 * newline.  This header stays free of any JSON library's types, so that
 * every file of cni-ovs can include it for the error codes below. */

#ifndef CNI_OVS_RESULT_H
#define CNI_OVS_RESULT_H 1

#include <stddef.h>
#include <stdint.h>

/* The CNI versions cni-ovs speaks (netconf.h parses them). */
enum cni_version {
    CNI_V031,               /* "0.3.1" (also accepts "0.3.0"). */
    CNI_V040,               /* "0.4.0". */
    CNI_V100,               /* "1.0.0". */
};

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

/* The CNI error codes cni-ovs reports: the "code" of the error object.
 *
 * 1 to 99 are the CNI specification's ("Well-known Error Codes"; it
 * forbids any other use of them), 100 and up are cni-ovs's own.  An IPAM
 * plugin's error is passed on with the plugin's code, whatever it is.
 * docs/configuration.md ("Error codes") has this table for users, and
 * tests/system/test-cni.sh checks that the two list the same codes: change
 * both together.
 *
 * The spec's 2 (unsupported field) and 3 (container unknown) are not used:
 * unknown members are tolerated, as the spec asks, and DEL or CHECK of a
 * container cni-ovs does not know is not an error of that kind (DEL
 * succeeds; CHECK reports CNI_ERR_CHECK_MISMATCH). */
enum cni_error {
    /* The config's cniVersion is not one cni-ovs supports, or CHECK with a
     * cniVersion before 0.4.0. */
    CNI_ERR_INCOMPATIBLE_VERSION = 1,

    /* A CNI_* environment variable is missing or invalid: CNI_COMMAND,
     * CNI_CONTAINERID (characters, length), CNI_NETNS (not a network
     * namespace), CNI_IFNAME (also: the container already has an interface
     * of that name), CNI_PATH.  The message names it.  Nothing is left
     * behind. */
    CNI_ERR_INVALID_ENV = 4,

    /* Input or output failed: stdin could not be read, the IPAM plugin
     * could not be run, failed without a CNI error of its own, or could
     * not be given its config. */
    CNI_ERR_IO = 5,

    /* stdin is not a JSON object. */
    CNI_ERR_DECODE = 6,

    /* The network config, Garden's input in it, or prevResult is invalid
     * (the message names the member by its JSON path), including an
     * "ipam.type" that is not a plugin in CNI_PATH.  Nothing was
     * touched. */
    CNI_ERR_INVALID_CONFIG = 7,

    /* A condition that should clear up: the cell's OVSDB is unreachable,
     * flowctl has not published cf-subnet and cf-mtu or made the bridge
     * yet, ovs-vswitchd has not added the port, flowctl has not marked it
     * installed within install_timeout, or the kernel refused a step of
     * making or removing the veth.  Whatever ADD made is undone. */
    CNI_ERR_TRY_AGAIN = 11,

    /* ADD for a container that already has a port or host veth (ADD
     * twice without DEL). */
    CNI_ERR_ALREADY_EXISTS = 100,

    /* CHECK found the container different from prevResult or gone. */
    CNI_ERR_CHECK_MISMATCH = 101,
};

/* {"cniVersion":V,"code":N,"msg":MSG[,"details":DETAILS]}.  'version' may
 * be NULL (then "1.0.0"); 'details' may be NULL.  'code' is an enum
 * cni_error or an IPAM plugin's own code. */
char *cni_error_to_json(const char *version, int code, const char *msg,
                        const char *details);

/* {"cniVersion":V,"supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}. */
char *cni_version_reply(const char *version);

#endif /* result.h */
