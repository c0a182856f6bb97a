/*
 * flowctl-config: flowctl's configuration file.  See flowctl-config.h.
 */

#include <config.h>

#include "flowctl-config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cf-record.h"
#include "cfnet.h"
#include "ipv4.h"
#include "jparse.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

static void
parse_cidr(struct jparse *jp, const char *path, const char *s,
           struct ipv4_cidr *out)
{
    if (!ipv4_parse_cidr(s, out)) {
        jparse_error(jp, path, NULL, "\"%s\" is not an IPv4 CIDR (a.b.c.d/n "
                     "with no host bits set)", s);
    }
}

static void
parse_cidr_member(struct jparse *jp, const json_t *obj, const char *path,
                  const char *member, bool required, struct ipv4_cidr *out)
{
    const char *s = jparse_string(jp, obj, path, member, required);
    if (s) {
        char *p = jparse_path_member(path, member);
        parse_cidr(jp, p, s, out);
        free(p);
    }
}

static void
parse_ip_member(struct jparse *jp, const json_t *obj, const char *path,
                const char *member, bool required, uint32_t *ip)
{
    const char *s = jparse_string(jp, obj, path, member, required);
    if (s && !ipv4_parse(s, ip)) {
        jparse_error(jp, path, member, "\"%s\" is not an IPv4 address", s);
    }
}

/* Parses an array of strings at 'path'.'member' with 'parse_one' for each
 * element ('path' of the element, the string, the element's slot). */
static void *
parse_list(struct jparse *jp, const json_t *obj, const char *path,
           const char *member, size_t elem_size, size_t *n,
           void (*parse_one)(struct jparse *, const char *, const char *,
                             void *))
{
    json_t *array = jparse_array(jp, obj, path, member, false);
    size_t count = array ? json_array_size(array) : 0;
    char *apath = jparse_path_member(path, member);
    char *out = xcalloc(MAX(count, 1), elem_size);

    for (size_t i = 0; i < count && !jparse_failed(jp); i++) {
        char *epath = jparse_path_index(apath, i);
        json_t *e = json_array_get(array, i);
        if (!json_is_string(e)) {
            jparse_error(jp, epath, NULL, "must be a string");
        } else {
            parse_one(jp, epath, json_string_value(e), out + i * elem_size);
        }
        free(epath);
    }
    free(apath);
    *n = count;
    return out;
}

static void
parse_ip_elem(struct jparse *jp, const char *path, const char *s, void *out)
{
    if (!ipv4_parse(s, out)) {
        jparse_error(jp, path, NULL, "\"%s\" is not an IPv4 address", s);
    }
}

static void
parse_cidr_elem(struct jparse *jp, const char *path, const char *s,
                void *out)
{
    parse_cidr(jp, path, s, out);
}

/* Parses "a.b.c.d:port" (port 1..65535) into '*ip' and '*port'. */
static bool
parse_ip_port(const char *s, uint32_t *ip, int *port)
{
    const char *colon = strrchr(s, ':');
    char addr[IPV4_ADDR_LEN];

    if (!colon || colon - s >= (ptrdiff_t) sizeof addr
        || !str_to_int(colon + 1, 10, port) || *port < 1 || *port > 65535) {
        return false;
    }
    memcpy(addr, s, colon - s);
    addr[colon - s] = '\0';
    return ipv4_parse(addr, ip);
}

/* "ip:port", as silk's host_tcp_services. */
static void
parse_service_elem(struct jparse *jp, const char *path, const char *s,
                   void *out_)
{
    struct model_service *out = out_;
    int port;

    if (!parse_ip_port(s, &out->ip, &port)) {
        jparse_error(jp, path, NULL, "\"%s\" is not ip:port", s);
        return;
    }
    if ((out->ip >> 24) == 127) {
        jparse_error(jp, path, NULL, "\"%s\": containers cannot reach the "
                     "cell's loopback addresses", s);
    }
    out->port = port;
}

/* "cluster": {"remotes": [...], "renew_interval_s": N}. */
static void
parse_cluster(struct jparse *jp, json_t *cluster,
              struct flowctl_config *cfg)
{
    json_t *remotes = json_object_get(cluster, "remotes");
    struct ds s = DS_EMPTY_INITIALIZER;

    if (!remotes) {
        jparse_error(jp, "cluster", "remotes", "is required (the cfnet-db "
                     "members, e.g. [\"tcp:10.0.0.3:6641\"])");
    } else if (!json_is_array(remotes) || !json_array_size(remotes)) {
        jparse_error(jp, "cluster", "remotes", "must be a non-empty array "
                     "of OVSDB remotes");
    } else {
        size_t i;
        json_t *r;
        json_array_foreach (remotes, i, r) {
            const char *v = json_is_string(r) ? json_string_value(r) : NULL;
            if (!v || (strncmp(v, "tcp:", 4) && strncmp(v, "ssl:", 4)
                       && strncmp(v, "unix:", 5)) || strchr(v, ',')) {
                char *path = xasprintf("cluster.remotes[%"PRIuSIZE"]", i);
                jparse_error(jp, path, NULL, "must be an OVSDB remote "
                             "(tcp:IP:PORT, ssl:IP:PORT or unix:PATH)");
                free(path);
                continue;
            }
            ds_put_format(&s, "%s%s", s.length ? "," : "", v);
        }
    }
    cfg->cluster_remotes = ds_steal_cstr(&s);

    uint64_t renew = 0;
    jparse_uint(jp, cluster, "cluster", "renew_interval_s", false, 0, 86400,
                &renew);
    cfg->renew_interval_s = renew;
}

/* Stores in '*ms' the member 'member' of 'obj', a number of seconds (an
 * integer or a fraction) in ['min_s', 'max_s'], in milliseconds; leaves
 * '*ms' alone if it is absent. */
static void
parse_seconds(struct jparse *jp, const json_t *obj, const char *path,
              const char *member, double min_s, double max_s,
              unsigned int *ms)
{
    json_t *v = jparse_value(jp, obj, path, member, false);
    if (!v) {
        return;
    }
    if (!json_is_number(v)) {
        jparse_error(jp, path, member, "must be a number of seconds");
        return;
    }
    double s = json_number_value(v);
    if (!(s >= min_s && s <= max_s)) {
        jparse_error(jp, path, member, "must be %g..%g seconds, not %g",
                     min_s, max_s, s);
        return;
    }
    *ms = s * 1000 + 0.5;
}

/* Returns true if 'url' is "https://HOST[:PORT][/]": the policy server's
 * base URL, to which flowctl appends the API's paths. */
static bool
valid_base_url(const char *url)
{
    if (strncmp(url, "https://", 8)) {
        return false;
    }
    const char *host = url + 8;
    size_t host_len = strcspn(host, ":/");
    if (!host_len || host[strspn(host, "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789.-")] != host[host_len]) {
        return false;
    }
    const char *rest = host + host_len;
    if (*rest == ':') {
        int port;
        size_t digits = strspn(rest + 1, "0123456789");
        char buf[8];
        if (!digits || digits > 5) {
            return false;
        }
        memcpy(buf, rest + 1, digits);
        buf[digits] = '\0';
        if (!str_to_int(buf, 10, &port) || port < 1 || port > 65535) {
            return false;
        }
        rest += 1 + digits;
    }
    return !*rest || !strcmp(rest, "/");
}

/* "policy_server": {...}. */
static struct flowctl_policy_server *
parse_policy_server(struct jparse *jp, const json_t *obj)
{
    static const char *const known[] = {
        "url", "address", "ca_cert", "client_cert", "client_key",
        "connect_timeout", "request_timeout", NULL,
    };
    const char *path = "policy_server";
    struct flowctl_policy_server *ps = xzalloc(sizeof *ps);

    jparse_reject_unknown(jp, obj, path, known);
    const char *url = jparse_string(jp, obj, path, "url", true);
    if (url && !valid_base_url(url)) {
        jparse_error(jp, path, "url", "\"%s\" is not https://HOST[:PORT] "
                     "(e.g. https://policy-server.service.cf.internal:4003)",
                     url);
    }
    ps->url = nullable_xstrdup(url);
    const char *address = jparse_string(jp, obj, path, "address", false);
    if (address && (!address[0] || strcspn(address, ":/ []")
                                   != strlen(address))) {
        jparse_error(jp, path, "address", "\"%s\" is not an IPv4 address "
                     "or a host name", address);
    }
    ps->address = nullable_xstrdup(address);

    const char *files[] = { "ca_cert", "client_cert", "client_key" };
    char **slots[] = { &ps->ca_cert, &ps->client_cert, &ps->client_key };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        const char *file = jparse_string(jp, obj, path, files[i], true);
        if (file && !file[0]) {
            jparse_error(jp, path, files[i], "must be a file name");
        }
        *slots[i] = nullable_xstrdup(file);
    }

    ps->connect_timeout_ms = 2000;
    ps->request_timeout_ms = 5000;
    parse_seconds(jp, obj, path, "connect_timeout", 0.1, 300,
                  &ps->connect_timeout_ms);
    parse_seconds(jp, obj, path, "request_timeout", 0.1, 3600,
                  &ps->request_timeout_ms);
    if (!jparse_failed(jp)
        && ps->connect_timeout_ms > ps->request_timeout_ms) {
        jparse_error(jp, path, "connect_timeout", "must not be longer than "
                     "request_timeout");
    }
    return ps;
}

static void
policy_server_destroy(struct flowctl_policy_server *ps)
{
    if (ps) {
        free(ps->url);
        free(ps->address);
        free(ps->ca_cert);
        free(ps->client_cert);
        free(ps->client_key);
        free(ps);
    }
}

static char *
xstrdup_or(const char *s, const char *dflt)
{
    return xstrdup(s ? s : dflt);
}

char *
flowctl_config_parse(const char *text, struct flowctl_config *cfg)
{
    static const char *const known[] = {
        "bridge", "ovsdb", "openflow", "datapath_type", "instance_address",
        "underlay_interface", "overlay_network", "subnet", "mtu",
        "dns_servers", "host_tcp_services", "host_udp_services",
        "deny_networks", "netin_port_range", "reject_rate", "cluster",
        "disable_container_network_policy", "policy_server",
        "policy_poll_interval", "asg_poll_interval", "enable_asg_syncing",
        "log_file", "asg_logging", "c2c_logging", "accepted_udp_logs_per_sec",
        "denied_logs_per_sec", "host_guid", "cell_name", "metrics_address",
        NULL,
    };
    static const char *const cluster_known[] = {
        "remotes", "renew_interval_s", NULL,
    };
    static const char *const deny_known[] = {
        "always", "running", "staging", NULL,
    };
    struct jparse jp = JPARSE_INITIALIZER;
    json_error_t jerror;

    memset(cfg, 0, sizeof *cfg);
    json_t *root = json_loads(text, 0, &jerror);
    if (!root) {
        return xasprintf("not valid JSON: %s (line %d, column %d)",
                         jerror.text, jerror.line, jerror.column);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return xstrdup("must be a JSON object");
    }
    jparse_reject_unknown(&jp, root, "", known);

    cfg->bridge = xstrdup_or(jparse_string(&jp, root, "", "bridge", false),
                             "br-cf");
    if (strlen(cfg->bridge) > 15 || !cfg->bridge[0]) {
        jparse_error(&jp, "", "bridge", "must be 1 to 15 characters");
    }
    cfg->ovsdb = xstrdup_or(jparse_string(&jp, root, "", "ovsdb", false),
                            "unix:/var/run/openvswitch/db.sock");
    const char *of = jparse_string(&jp, root, "", "openflow", false);
    cfg->openflow = of ? xstrdup(of) : NULL;

    const char *dp = jparse_string(&jp, root, "", "datapath_type", false);
    if (dp && strcmp(dp, "system") && strcmp(dp, "netdev")) {
        jparse_error(&jp, "", "datapath_type",
                     "must be \"system\" or \"netdev\", not \"%s\"", dp);
    }
    cfg->netdev = dp && !strcmp(dp, "netdev");

    struct model_cell *cell = &cfg->cell;
    parse_ip_member(&jp, root, "", "instance_address", true,
                    &cell->instance_address);
    const char *ul = jparse_string(&jp, root, "", "underlay_interface", true);
    cfg->underlay_interface = ul ? xstrdup(ul) : NULL;
    json_t *cluster = jparse_object(&jp, root, "", "cluster", false);
    if (cluster) {
        /* Cluster mode: the overlay and the subnet come from cfnet-db. */
        jparse_reject_unknown(&jp, cluster, "cluster", cluster_known);
        parse_cluster(&jp, cluster, cfg);
        if (json_object_get(root, "overlay_network")) {
            jparse_error(&jp, "", "overlay_network", "comes from the cluster "
                         "directory when \"cluster\" is set");
        }
        if (json_object_get(root, "subnet")) {
            jparse_error(&jp, "", "subnet", "comes from the cluster "
                         "directory (a lease) when \"cluster\" is set");
        }
    } else {
        struct ipv4_cidr overlay = { 0, 0 };
        parse_cidr_member(&jp, root, "", "overlay_network", false, &overlay);
        if (!overlay.plen && !jparse_failed(&jp)) {
            overlay.addr = 0x0aff0000;              /* 10.255.0.0/16 */
            overlay.plen = 16;
        }
        cell->overlays = xmemdup(&overlay, sizeof overlay);
        cell->n_overlays = 1;
        parse_cidr_member(&jp, root, "", "subnet", true, &cell->subnet);
        if (!jparse_failed(&jp)) {
            if (cell->subnet.plen < overlay.plen
                || !ipv4_cidr_contains(&overlay, cell->subnet.addr)) {
                jparse_error(&jp, "", "subnet", "must lie inside "
                             "overlay_network");
            } else if (cell->subnet.plen > 30) {
                jparse_error(&jp, "", "subnet", "must be /30 or larger");
            }
        }
    }
    jparse_bool(&jp, root, "", "disable_container_network_policy", false,
                &cell->c2c_open);

    uint64_t mtu = 0;
    jparse_uint(&jp, root, "", "mtu", false, 0, 65535, &mtu);
    if (mtu && mtu < FLOWCTL_MIN_CONTAINER_MTU) {
        jparse_error(&jp, "", "mtu", "must be 0 (automatic) or %d..65535",
                     FLOWCTL_MIN_CONTAINER_MTU);
    }
    cfg->mtu = mtu;

    cell->dns_servers = parse_list(&jp, root, "", "dns_servers",
                                   sizeof *cell->dns_servers,
                                   &cell->n_dns_servers, parse_ip_elem);
    cell->tcp_services = parse_list(&jp, root, "", "host_tcp_services",
                                    sizeof *cell->tcp_services,
                                    &cell->n_tcp_services,
                                    parse_service_elem);
    cell->udp_services = parse_list(&jp, root, "", "host_udp_services",
                                    sizeof *cell->udp_services,
                                    &cell->n_udp_services,
                                    parse_service_elem);

    json_t *deny = jparse_object(&jp, root, "", "deny_networks", false);
    jparse_reject_unknown(&jp, deny, "deny_networks", deny_known);
    cell->deny_always = parse_list(&jp, deny, "deny_networks", "always",
                                   sizeof *cell->deny_always,
                                   &cell->n_deny_always, parse_cidr_elem);
    cell->deny_running = parse_list(&jp, deny, "deny_networks", "running",
                                    sizeof *cell->deny_running,
                                    &cell->n_deny_running, parse_cidr_elem);
    cell->deny_staging = parse_list(&jp, deny, "deny_networks", "staging",
                                    sizeof *cell->deny_staging,
                                    &cell->n_deny_staging, parse_cidr_elem);

    cfg->netin_port_min = 61000;
    cfg->netin_port_max = 65535;
    const char *range = jparse_string(&jp, root, "", "netin_port_range",
                                      false);
    if (range) {
        /* Digits, a dash, digits: sscanf()'s %u alone would also take a
         * sign ("-4294967295" reads as 1). */
        unsigned int lo = 0, hi = 0;
        size_t n_lo = strspn(range, "0123456789");
        bool shape = n_lo && n_lo <= 5 && range[n_lo] == '-';
        if (shape) {
            const char *high = range + n_lo + 1;
            size_t n_hi = strspn(high, "0123456789");
            shape = n_hi && n_hi <= 5 && !high[n_hi];
            for (size_t i = 0; shape && i < n_lo; i++) {
                lo = lo * 10 + (range[i] - '0');
            }
            for (size_t i = 0; shape && i < n_hi; i++) {
                hi = hi * 10 + (high[i] - '0');
            }
        }
        if (!shape || !lo || lo > hi || hi > 65535) {
            jparse_error(&jp, "", "netin_port_range", "\"%s\" is not "
                         "LOW-HIGH within 1..65535", range);
        } else {
            cfg->netin_port_min = lo;
            cfg->netin_port_max = hi;
        }
    }

    uint64_t rate = 100;
    jparse_uint(&jp, root, "", "reject_rate", false, 1, 100000, &rate);
    cfg->reject_rate = rate;

    json_t *ps = jparse_object(&jp, root, "", "policy_server", false);
    if (ps) {
        cfg->policy_server = parse_policy_server(&jp, ps);
    }
    cfg->policy_poll_interval_ms = 1000;
    parse_seconds(&jp, root, "", "policy_poll_interval", 0.1, 3600,
                  &cfg->policy_poll_interval_ms);
    cfg->asg_poll_interval_ms = 60000;
    parse_seconds(&jp, root, "", "asg_poll_interval", 1, 86400,
                  &cfg->asg_poll_interval_ms);
    cfg->enable_asg_syncing = true;
    jparse_bool(&jp, root, "", "enable_asg_syncing", false,
                &cfg->enable_asg_syncing);

    /* The traffic log. */
    const char *log_file = jparse_string(&jp, root, "", "log_file", false);
    if (log_file && log_file[0] != '/') {
        jparse_error(&jp, "", "log_file", "must be an absolute path");
    } else if (log_file) {
        cfg->log_file = xstrdup(log_file);
        cfg->cell.logging = true;
    }
    jparse_bool(&jp, root, "", "asg_logging", false, &cfg->cell.asg_logging);
    jparse_bool(&jp, root, "", "c2c_logging", false, &cfg->cell.c2c_logging);
    rate = 100;
    jparse_uint(&jp, root, "", "accepted_udp_logs_per_sec", false, 1, 100000,
                &rate);
    cfg->accepted_udp_logs_per_sec = rate;
    rate = 1;
    jparse_uint(&jp, root, "", "denied_logs_per_sec", false, 1, 100000,
                &rate);
    cfg->denied_logs_per_sec = rate;
    cfg->host_guid = nullable_xstrdup(jparse_string(&jp, root, "",
                                                     "host_guid", false));
    cfg->cell_name = nullable_xstrdup(jparse_string(&jp, root, "",
                                                     "cell_name", false));

    /* Metrics: "ip:port" to listen on, for the cell's metrics agent. */
    const char *metrics = jparse_string(&jp, root, "", "metrics_address",
                                        false);
    if (metrics) {
        uint32_t ip;
        int port;
        if (!parse_ip_port(metrics, &ip, &port)) {
            jparse_error(&jp, "", "metrics_address", "\"%s\" is not "
                         "ip:port", metrics);
        } else {
            char ip_s[IPV4_ADDR_LEN];
            ipv4_format(ip, ip_s);
            cfg->metrics_target = xasprintf("ptcp:%d:%s", port, ip_s);
        }
    }

    json_decref(root);
    char *error = jparse_finish(&jp);
    if (error) {
        flowctl_config_destroy(cfg);
    }
    return error;
}

void
flowctl_config_destroy(struct flowctl_config *cfg)
{
    if (cfg) {
        free(cfg->bridge);
        free(cfg->ovsdb);
        free(cfg->openflow);
        free(cfg->underlay_interface);
        free(cfg->cluster_remotes);
        free(cfg->log_file);
        free(cfg->host_guid);
        free(cfg->cell_name);
        free(cfg->metrics_target);
        policy_server_destroy(cfg->policy_server);
        model_cell_destroy(&cfg->cell);
        memset(cfg, 0, sizeof *cfg);
    }
}

void
flowctl_config_copy_cell(const struct flowctl_config *cfg,
                         struct model_cell *cell)
{
    model_cell_clone(cell, &cfg->cell);
}

/* Works out the container MTU, as flowctl-config.h describes. */
char *
flowctl_container_mtu(const char *ifname, int underlay_mtu,
                      unsigned int configured, unsigned int *mtup)
{
    /* In 'long long int', so that no MTU can wrap. */
    long long int room = (long long int) underlay_mtu
                         - CFNET_TUNNEL_OVERHEAD;

    if (room < FLOWCTL_MIN_CONTAINER_MTU) {
        return xasprintf("underlay_interface %s has MTU %d; the container "
                         "MTU would be %lld (%d minus the %d-byte tunnel "
                         "overhead), below the minimum %d: the underlay "
                         "needs an MTU of at least %d", ifname,
                         underlay_mtu, room, underlay_mtu,
                         CFNET_TUNNEL_OVERHEAD, FLOWCTL_MIN_CONTAINER_MTU,
                         FLOWCTL_MIN_CONTAINER_MTU + CFNET_TUNNEL_OVERHEAD);
    }
    if (room > FLOWCTL_MAX_CONTAINER_MTU) {
        room = FLOWCTL_MAX_CONTAINER_MTU;
    }
    if (!configured) {
        *mtup = room;
        return NULL;
    }
    if (configured > room) {
        return xasprintf("mtu: %u is more than %s (MTU %d) can carry with "
                         "the %d-byte tunnel overhead (at most %lld)",
                         configured, ifname, underlay_mtu,
                         CFNET_TUNNEL_OVERHEAD, room);
    }
    if (configured < FLOWCTL_MIN_CONTAINER_MTU) {
        return xasprintf("mtu: %u is below the minimum container MTU %d",
                         configured, FLOWCTL_MIN_CONTAINER_MTU);
    }
    *mtup = configured;
    return NULL;
}

char *
flowctl_config_read(const char *file_name, struct flowctl_config *cfg)
{
    FILE *f = fopen(file_name, "r");
    if (!f) {
        return xasprintf("%s: cannot open (%s)", file_name,
                         ovs_strerror(errno));
    }

    struct ds text = DS_EMPTY_INITIALIZER;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        ds_put_buffer(&text, buf, n);
    }
    int error = ferror(f) ? errno : 0;
    fclose(f);

    char *msg = (error
                 ? xasprintf("%s: cannot read (%s)", file_name,
                             ovs_strerror(error))
                 : flowctl_config_parse(ds_cstr(&text), cfg));
    if (msg && !error) {
        char *with_name = xasprintf("%s: %s", file_name, msg);
        free(msg);
        msg = with_name;
    }
    ds_destroy(&text);
    return msg;
}
