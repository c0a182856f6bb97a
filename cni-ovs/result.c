/*
 * result: the JSON that cni-ovs prints on stdout: the ADD result, error
 * objects and the VERSION reply (see result.h).
 *
 * Every string that may come from outside (error messages that quote
 * configuration or system errors, CNI_NETNS, CNI_IFNAME) goes through
 * jparse_new_string(), so that the output is valid JSON even for bytes
 * that are not UTF-8. */

#include "result.h"

#include <stdlib.h>
#include <string.h>

#include "cf-record.h"
#include "cfnet.h"
#include "ipv4.h"
#include "jparse.h"
#include "netconf.h"
#include "util.h"

static json_t *interface_json(const char *name, const uint8_t mac[6],
                              const char *sandbox);
static char *output(json_t *);

/* Returns the result of ADD for 'r' in the shape of 'r->version' (see
 * result.h): interface 0 is the host side of the veth, interface 1 the
 * container side; the address is a /32 with 'r->gateway' as gateway and
 * default route; "dns" is there only if 'r' has DNS servers. */
char *
cni_result_to_json(const struct cni_result *r)
{
    char ip[IPV4_ADDR_LEN], gateway[IPV4_ADDR_LEN];
    ipv4_format(r->ip, ip);
    ipv4_format(r->gateway, gateway);

    json_t *interfaces = jparse_pack(
        "[o, o]",
        interface_json(r->host_ifname, r->host_mac, NULL),
        interface_json(r->container_ifname, r->container_mac, r->sandbox));

    /* 0.3.x and 0.4.0 tag each address with its IP version; 1.0.0 dropped
     * the member. */
    char *address = xasprintf("%s/32", ip);
    json_t *ip_config = (r->version == CNI_V100
                         ? jparse_pack("{s:i, s:s, s:s}", "interface", 1,
                                       "address", address,
                                       "gateway", gateway)
                         : jparse_pack("{s:s, s:i, s:s, s:s}",
                                       "version", "4", "interface", 1,
                                       "address", address,
                                       "gateway", gateway));
    free(address);

    json_t *result = jparse_pack(
        "{s:s, s:o, s:[o], s:[{s:s, s:s}]}",
        "cniVersion", cni_version_to_string(r->version),
        "interfaces", interfaces,
        "ips", ip_config,
        "routes", "dst", "0.0.0.0/0", "gw", gateway);
    if (r->n_dns_servers) {
        json_t *servers = jparse_new_array();
        for (size_t i = 0; i < r->n_dns_servers; i++) {
            json_array_append_new(servers,
                                  jparse_new_string(r->dns_servers[i]));
        }
        json_object_set_new(result, "dns",
                            jparse_pack("{s:o}", "nameservers", servers));
    }
    return output(result);
}

/* Returns the CNI error object for error 'code' with message 'msg' and,
 * if nonnull, 'details', for CNI 'version' (if null, "1.0.0"). */
char *
cni_error_to_json(const char *version, int code, const char *msg,
                  const char *details)
{
    json_t *error = jparse_pack(
        "{s:o, s:i, s:o}",
        "cniVersion", jparse_new_string(version ? version : "1.0.0"),
        "code", code,
        "msg", jparse_new_string(msg ? msg : ""));
    if (details) {
        json_object_set_new(error, "details", jparse_new_string(details));
    }
    return output(error);
}

/* Returns the reply to VERSION for a request with cniVersion 'version' (if
 * null, "1.0.0"). */
char *
cni_version_reply(const char *version)
{
    return output(jparse_pack(
                      "{s:o, s:[s, s, s, s]}",
                      "cniVersion",
                      jparse_new_string(version ? version : "1.0.0"),
                      "supportedVersions",
                      "0.3.0", "0.3.1", "0.4.0", "1.0.0"));
}

/* Returns {"name":NAME,"mac":MAC} plus "sandbox":SANDBOX if 'sandbox' is
 * nonnull. */
static json_t *
interface_json(const char *name, const uint8_t mac[6], const char *sandbox)
{
    char mac_text[18];
    cfnet_mac_format(mac, mac_text);

    json_t *iface = jparse_pack("{s:o, s:s}",
                                "name", jparse_new_string(name ? name : ""),
                                "mac", mac_text);
    if (sandbox) {
        json_object_set_new(iface, "sandbox", jparse_new_string(sandbox));
    }
    return iface;
}

/* Returns the compact encoding of 'json' followed by a new-line, as a
 * malloc'd string, and releases the caller's reference to 'json'. */
static char *
output(json_t *json)
{
    char *s = jparse_dump(json);
    json_decref(json);

    char *text = xasprintf("%s\n", s);
    free(s);
    return text;
}
