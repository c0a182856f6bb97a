/*
 * netconf: parsing and validation of the network configuration that
 * cni-ovs reads on stdin (see netconf.h and docs/configuration.md).
 *
 * The parser reads every member it knows through jparse, so the first bad
 * member ends up as the error, named by its JSON path.  Strings and objects
 * in 'struct netconf' point into the parsed document, which the struct
 * keeps a reference to; only the Garden parts (metadata, runtimeConfig) and
 * the DNS server list are copies. */

#include "netconf.h"

#include <stdlib.h>
#include <string.h>

#include "cni-env.h"
#include "ipv4.h"
#include "jparse.h"
#include "result.h"
#include "util.h"

/* The smallest MTU every IPv4 link must support (RFC 791). */
#define MIN_MTU 68

static bool parse_version(struct jparse *, struct netconf *);
static const char *parse_name(struct jparse *, const json_t *root,
                              const char *member);
static void parse_bridge(struct jparse *, struct netconf *);
static void parse_ovsdb(struct jparse *, struct netconf *);
static void parse_mtu(struct jparse *, struct netconf *);
static void parse_dns_servers(struct jparse *, struct netconf *);
static void parse_ipam(struct jparse *, struct netconf *);
static void parse_datapath_type(struct jparse *, struct netconf *);
static void parse_install_timeout(struct jparse *, struct netconf *);

/* Returns the enum cni_version for version string 'string', or -1 if
 * cni-ovs does not support that version (or 'string' is NULL). */
int
cni_version_from_string(const char *string)
{
    if (!string) {
        return -1;
    } else if (!strcmp(string, "0.3.0") || !strcmp(string, "0.3.1")) {
        return CNI_V031;
    } else if (!strcmp(string, "0.4.0")) {
        return CNI_V040;
    } else if (!strcmp(string, "1.0.0")) {
        return CNI_V100;
    } else {
        return -1;
    }
}

/* Returns the canonical version string for 'version' ("0.3.1" for
 * CNI_V031). */
const char *
cni_version_to_string(enum cni_version version)
{
    switch (version) {
    case CNI_V031: return "0.3.1";
    case CNI_V040: return "0.4.0";
    case CNI_V100: return "1.0.0";
    default: OVS_NOT_REACHED();
    }
}

/* Parses network configuration 'text' ('len' bytes, not necessarily null
 * terminated) into 'nc'.  On success returns NULL; the caller must free
 * 'nc' with netconf_destroy().  On failure returns a malloc'd message that
 * names the offending member, leaves 'nc' zeroed (nothing to free) and, if
 * 'code' is nonnull, stores the CNI error code in '*code': 6 if 'text' is
 * not a JSON object, 1 if its cniVersion is unsupported, 7 otherwise.
 *
 * Members are checked in a fixed order, whatever their order in 'text':
 * cniVersion, name, type, our settings, then metadata, runtimeConfig and
 * prevResult; the first error found is reported. */
char *
netconf_parse(const char *text, size_t len, struct netconf *nc, int *code)
{
    int dummy;
    if (!code) {
        code = &dummy;
    }
    memset(nc, 0, sizeof *nc);

    json_error_t jerror;
    json_t *root = json_loadb(text, len, 0, &jerror);
    if (!root) {
        *code = CNI_ERR_DECODE;
        return xasprintf("network configuration is not valid JSON: %s "
                         "(line %d, column %d)",
                         jerror.text, jerror.line, jerror.column);
    } else if (!json_is_object(root)) {
        json_decref(root);
        *code = CNI_ERR_DECODE;
        return xstrdup("network configuration must be a JSON object");
    }
    nc->root = root;

    struct jparse jp = JPARSE_INITIALIZER;
    bool bad_version = !parse_version(&jp, nc);
    nc->name = parse_name(&jp, root, "name");
    nc->type = parse_name(&jp, root, "type");

    parse_bridge(&jp, nc);
    parse_ovsdb(&jp, nc);
    parse_mtu(&jp, nc);
    parse_dns_servers(&jp, nc);
    parse_ipam(&jp, nc);
    parse_datapath_type(&jp, nc);
    parse_install_timeout(&jp, nc);

    cf_metadata_parse(&jp, jparse_object(&jp, root, "", "metadata", false),
                      "metadata", &nc->metadata);
    cf_runtime_parse(&jp, jparse_object(&jp, root, "", "runtimeConfig",
                                        false),
                     "runtimeConfig", &nc->runtime);
    nc->prev_result = jparse_object(&jp, root, "", "prevResult", false);

    char *error = jparse_finish(&jp);
    if (error) {
        netconf_destroy(nc);
        *code = (bad_version
                 ? CNI_ERR_INCOMPATIBLE_VERSION
                 : CNI_ERR_INVALID_CONFIG);
    }
    return error;
}

/* Returns a copy of the "cniVersion" string of JSON object 'text' ('len'
 * bytes), whether or not cni-ovs supports that version, or NULL if 'text'
 * is not a JSON object with a string "cniVersion". */
char *
netconf_peek_version(const char *text, size_t len)
{
    json_t *root = json_loadb(text, len, 0, NULL);
    json_t *version = json_is_object(root)
                      ? json_object_get(root, "cniVersion")
                      : NULL;
    char *copy = json_is_string(version)
                 ? xstrdup(json_string_value(version))
                 : NULL;
    json_decref(root);
    return copy;
}

/* Frees what 'nc' holds and zeroes it.  'nc' may be NULL or zeroed. */
void
netconf_destroy(struct netconf *nc)
{
    if (nc) {
        free(nc->dns_servers);
        cf_metadata_destroy(&nc->metadata);
        cf_runtime_destroy(&nc->runtime);
        json_decref(nc->root);
        memset(nc, 0, sizeof *nc);
    }
}

/* Parses the required "cniVersion".  Returns false only if it is a string
 * naming a version cni-ovs does not support (CNI error code 1); other errors
 * are invalid configuration. */
static bool
parse_version(struct jparse *jp, struct netconf *nc)
{
    const char *s = jparse_string(jp, nc->root, "", "cniVersion", true);
    if (!s) {
        return true;
    }

    int version = cni_version_from_string(s);
    if (version < 0) {
        jparse_error(jp, "", "cniVersion", "unsupported version \"%s\"", s);
        return false;
    }
    nc->version = version;
    nc->version_string = s;
    return true;
}

/* Returns required, non-empty string 'member' of 'root'. */
static const char *
parse_name(struct jparse *jp, const json_t *root, const char *member)
{
    const char *s = jparse_string(jp, root, "", member, true);
    if (s && !s[0]) {
        jparse_error(jp, "", member, "must not be empty");
        return NULL;
    }
    return s;
}

static void
parse_bridge(struct jparse *jp, struct netconf *nc)
{
    const char *s = jparse_string(jp, nc->root, "", "bridge", false);
    if (s && !cni_env_ifname_ok(s)) {
        jparse_error(jp, "", "bridge", "not a valid interface name "
                     "(1 to %d characters, no '/', ':' or white space)",
                     CNI_IFNAME_MAX);
        return;
    }
    nc->bridge = s ? s : NETCONF_DEFAULT_BRIDGE;
}

/* Parses "ovsdb", an active OVSDB connection method.  Only the method is
 * checked here; the rest is the OVS library's to judge when connecting. */
static void
parse_ovsdb(struct jparse *jp, struct netconf *nc)
{
    static const char *const methods[] = { "unix:", "tcp:", "ssl:", NULL };

    const char *s = jparse_string(jp, nc->root, "", "ovsdb", false);
    if (!s) {
        nc->ovsdb = NETCONF_DEFAULT_OVSDB;
        return;
    }
    for (const char *const *m = methods; *m; m++) {
        size_t n = strlen(*m);
        if (!strncmp(s, *m, n) && s[n]) {
            nc->ovsdb = s;
            return;
        }
    }
    jparse_error(jp, "", "ovsdb",
                 "must be \"unix:PATH\", \"tcp:HOST:PORT\" or "
                 "\"ssl:HOST:PORT\"");
}

/* Parses "mtu": 0 (automatic) or a real IPv4 MTU, MIN_MTU..65535. */
static void
parse_mtu(struct jparse *jp, struct netconf *nc)
{
    const json_t *value = jparse_value(jp, nc->root, "", "mtu", false);
    if (!value) {
        return;
    } else if (!json_is_integer(value)) {
        jparse_error(jp, "", "mtu", "must be an integer");
        return;
    }

    json_int_t mtu = json_integer_value(value);
    if (mtu != 0 && (mtu < MIN_MTU || mtu > 65535)) {
        jparse_error(jp, "", "mtu", "must be 0 (automatic) or %d..65535",
                     MIN_MTU);
        return;
    }
    nc->mtu = mtu;
}

/* Parses "dns_servers", an array of IPv4 address strings. */
static void
parse_dns_servers(struct jparse *jp, struct netconf *nc)
{
    const json_t *array = jparse_array(jp, nc->root, "", "dns_servers",
                                       false);
    size_t n = array ? json_array_size(array) : 0;
    if (!n) {
        return;
    }

    nc->dns_servers = xcalloc(n, sizeof *nc->dns_servers);
    for (size_t i = 0; i < n && !jparse_failed(jp); i++) {
        const json_t *elem = json_array_get(array, i);
        char *path = jparse_path_index("dns_servers", i);
        uint32_t ip;
        if (!json_is_string(elem)) {
            jparse_error(jp, path, NULL, "must be a string");
        } else if (!ipv4_parse(json_string_value(elem), &ip)) {
            jparse_error(jp, path, NULL, "not an IPv4 address");
        } else {
            nc->dns_servers[nc->n_dns_servers++] = json_string_value(elem);
        }
        free(path);
    }
}

/* Parses the "ipam" object and its "type", the name of an IPAM plugin to
 * find in CNI_PATH: a file name, never a path. */
static void
parse_ipam(struct jparse *jp, struct netconf *nc)
{
    nc->ipam = jparse_object(jp, nc->root, "", "ipam", false);

    const char *type = jparse_string(jp, nc->ipam, "ipam", "type", false);
    if (type && (!type[0] || strchr(type, '/')
                 || !strcmp(type, ".") || !strcmp(type, ".."))) {
        jparse_error(jp, "ipam", "type", "must be a plugin name, not a path");
        return;
    }
    nc->ipam_type = type ? type : NETCONF_DEFAULT_IPAM;
}

static void
parse_datapath_type(struct jparse *jp, struct netconf *nc)
{
    const char *s = jparse_string(jp, nc->root, "", "datapath_type", false);
    if (!s || !strcmp(s, "system")) {
        nc->netdev = false;
    } else if (!strcmp(s, "netdev")) {
        nc->netdev = true;
    } else {
        jparse_error(jp, "", "datapath_type",
                     "must be \"system\" or \"netdev\"");
    }
}

static void
parse_install_timeout(struct jparse *jp, struct netconf *nc)
{
    uint64_t timeout = 0;
    jparse_uint(jp, nc->root, "", "install_timeout", false, 0, 3600,
                &timeout);
    nc->install_timeout = timeout;
}
