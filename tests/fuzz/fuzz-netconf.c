/*
 * fuzz-netconf: the CNI network config cni-ovs reads on stdin
 * (netconf_parse(), cni-ovs/netconf.h), with Garden's metadata and
 * runtimeConfig in it, and netconf_peek_version() (VERSION's input).
 *
 * Promises checked:
 *   - a refusal has a message and one of the three CNI error codes the
 *     header names (decode, incompatible version, invalid config); text
 *     that is not a JSON object is CNI_ERR_DECODE;
 *   - an accepted config has the required members (cniVersion, name,
 *     type), an MTU of at most 65535, and every DNS server an IPv4
 *     address;
 *   - a refusal leaves nothing to free (LeakSanitizer would say).
 */

#include <config.h>

#include <string.h>

#include "fuzz.h"
#include "ipv4.h"
#include "netconf.h"
#include "result.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    struct netconf nc;
    int code = 0;

    char *error = netconf_parse(text, size, &nc, &code);
    if (error) {
        FUZZ_CHECK(error[0] != '\0');
        FUZZ_CHECK(code == CNI_ERR_DECODE
                   || code == CNI_ERR_INCOMPATIBLE_VERSION
                   || code == CNI_ERR_INVALID_CONFIG);
        json_t *doc = json_loadb(text, size, 0, NULL);
        FUZZ_CHECK(code == CNI_ERR_DECODE || json_is_object(doc));
        json_decref(doc);
        free(error);
    } else {
        FUZZ_CHECK(nc.version_string && nc.name && nc.type);
        FUZZ_CHECK(nc.mtu <= 65535);
        for (size_t i = 0; i < nc.n_dns_servers; i++) {
            uint32_t ip;
            FUZZ_CHECK(ipv4_parse(nc.dns_servers[i], &ip));
        }
        netconf_destroy(&nc);
    }

    free(netconf_peek_version(text, size));
    return 0;
}
