/*
 * netconf: the network configuration cni-ovs receives on stdin.
 *
 * CNI hands a plugin one JSON object (from a .conf, or one entry of a
 * .conflist with "name" and "cniVersion" filled in by libcni).  Besides the
 * CNI members (cniVersion, name, type, ipam, dns, prevResult, runtimeConfig)
 * it carries our own settings and what garden-external-networker injects at
 * the top level ("metadata").  Every member is described in
 * docs/configuration.md.  Unknown members are tolerated, as CNI requires.
 *
 * Pure: no I/O.  netconf_parse() returns a malloc'd error naming the field
 * and the CNI error code for it (enum cni_error in result.h). */

#ifndef CNI_OVS_NETCONF_H
#define CNI_OVS_NETCONF_H 1

#include "cfjson.h"
#include <stdbool.h>

#include "cf-record.h"
#include "compiler.h"
#include "result.h"

/* Returns the version for 'string' or -1 if unsupported. */
int cni_version_from_string(const char *string);
const char *cni_version_to_string(enum cni_version);

#define NETCONF_DEFAULT_BRIDGE "br-cf"
#define NETCONF_DEFAULT_OVSDB "unix:/var/run/openvswitch/db.sock"
#define NETCONF_DEFAULT_IPAM "host-local"

struct netconf {
    json_t *root;               /* The whole document (one reference). */

    enum cni_version version;
    const char *version_string; /* As given, e.g. "0.3.1". */
    const char *name;           /* Network name (required). */
    const char *type;           /* Plugin type (required). */

    /* Our settings. */
    const char *bridge;         /* Default "br-cf". */
    const char *ovsdb;          /* Default NETCONF_DEFAULT_OVSDB. */
    unsigned int mtu;           /* 0 = automatic (cf-mtu from OVSDB). */
    const char **dns_servers;   /* IPv4 addresses, validated. */
    size_t n_dns_servers;
    json_t *ipam;               /* The "ipam" object (borrowed from 'root');
                                 * NULL if absent. */
    const char *ipam_type;      /* ipam.type, default "host-local". */
    bool netdev;                /* datapath_type: "netdev" vs "system"
                                 * (default). */
    unsigned int install_timeout; /* Seconds; 0 = don't wait. */

    /* What Garden injects. */
    struct cf_metadata metadata;
    struct cf_runtime runtime;

    json_t *prev_result;        /* "prevResult" (borrowed), or NULL. */
};

/* Parses 'text' (the stdin document, 'len' bytes) into 'nc'.  On success
 * returns NULL and 'nc' must later be freed with netconf_destroy().  On
 * failure returns a malloc'd message (e.g. "mtu: must be an integer") and
 * leaves nothing to free; '*code' (if nonnull) is set to the CNI error
 * code: CNI_ERR_DECODE for text that is not JSON,
 * CNI_ERR_INCOMPATIBLE_VERSION for an unsupported cniVersion,
 * CNI_ERR_INVALID_CONFIG for anything else. */
char *netconf_parse(const char *text, size_t len, struct netconf *nc,
                    int *code)
    OVS_WARN_UNUSED_RESULT;

/* Parses only the cniVersion of 'text' (for VERSION, which gets just
 * {"cniVersion": ...}).  Returns the version string (malloc'd), or NULL. */
char *netconf_peek_version(const char *text, size_t len);

void netconf_destroy(struct netconf *);

#endif /* netconf.h */
