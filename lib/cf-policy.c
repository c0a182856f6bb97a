/*
 * cf-policy: the policy server's documents.  See cf-policy.h.
 */

#include "cf-policy.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfjson.h"
#include "ipv4.h"
#include "jparse.h"
#include "sset.h"
#include "svec.h"
#include "util.h"

/* Records 'error' (malloc'd) as a skipped entry. */
static void
skip(struct svec *skipped, char *error)
{
    if (skipped) {
        svec_add_nocopy(skipped, error);
    } else {
        free(error);
    }
}

/* Loads 'len' bytes of 'body' as a JSON object.  Returns it, or NULL with
 * a malloc'd error in '*errorp'. */
static json_t *
load_object(const char *body, size_t len, const char *what, char **errorp)
{
    json_error_t jerror;
    json_t *doc = json_loadb(body, len, 0, &jerror);

    if (!doc) {
        *errorp = xasprintf("%s: not JSON (%s at byte %d)", what,
                            jerror.text, jerror.position);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        *errorp = xasprintf("%s: not a JSON object", what);
        return NULL;
    }
    *errorp = NULL;
    return doc;
}

bool
cf_policy_tag_parse(const char *s, uint32_t *tag)
{
    size_t n = s ? strlen(s) : 0;
    uint32_t v = 0;

    if (n != 2 && n != 4 && n != 6 && n != 8) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char) s[i];
        if (!isxdigit(c)) {
            return false;
        }
        v = (v << 4) | (isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
    }
    if (!v) {
        return false;
    }
    *tag = v;
    return true;
}

/* Parses one end ('member' "source" or "destination") of policy 'p'. */
static void
parse_end(struct jparse *jp, const json_t *policy, const char *path,
          const char *member, char **idp, uint32_t *tagp)
{
    json_t *end = jparse_object(jp, policy, path, member, true);
    char *end_path = jparse_path_member(path, member);
    const char *id = jparse_string(jp, end, end_path, "id", true);
    const char *tag = jparse_string(jp, end, end_path, "tag", true);

    if (!jparse_failed(jp) && !*id) {
        jparse_error(jp, end_path, "id", "must not be empty");
    }
    if (!jparse_failed(jp) && !cf_policy_tag_parse(tag, tagp)) {
        jparse_error(jp, end_path, "tag", "\"%s\" is not a tag (2, 4, 6 "
                     "or 8 hex digits, not all zero)", tag);
    }
    if (!jparse_failed(jp)) {
        *idp = xstrdup(id);
    }
    free(end_path);
}

static bool
parse_policy(struct jparse *jp, const json_t *entry, const char *path,
             struct cf_policy *p)
{
    memset(p, 0, sizeof *p);
    if (!json_is_object(entry)) {
        jparse_error(jp, path, NULL, "must be an object");
        return false;
    }
    parse_end(jp, entry, path, "source", &p->src_id, &p->src_tag);
    parse_end(jp, entry, path, "destination", &p->dst_id, &p->dst_tag);

    json_t *dst = jparse_object(jp, entry, path, "destination", true);
    char *dst_path = jparse_path_member(path, "destination");
    const char *proto = jparse_string(jp, dst, dst_path, "protocol", true);
    if (!jparse_failed(jp)) {
        if (!strcasecmp(proto, "tcp")) {
            p->protocol = CF_PROTO_TCP;
        } else if (!strcasecmp(proto, "udp")) {
            p->protocol = CF_PROTO_UDP;
        } else {
            jparse_error(jp, dst_path, "protocol", "\"%s\" is not tcp or "
                         "udp", proto);
        }
    }
    json_t *ports = jparse_object(jp, dst, dst_path, "ports", true);
    char *ports_path = jparse_path_member(dst_path, "ports");
    uint64_t start = 0, end = 0;
    jparse_uint(jp, ports, ports_path, "start", true, 1, 65535, &start);
    jparse_uint(jp, ports, ports_path, "end", true, 1, 65535, &end);
    if (!jparse_failed(jp) && start > end) {
        jparse_error(jp, ports_path, "end", "must not be below start");
    }
    p->port_start = start;
    p->port_end = end;
    free(ports_path);
    free(dst_path);

    if (jparse_failed(jp)) {
        free(p->src_id);
        free(p->dst_id);
        memset(p, 0, sizeof *p);
        return false;
    }
    return true;
}

char *
cf_policies_parse(const char *body, size_t len, struct cf_policy_list *list,
                  struct svec *skipped)
{
    char *error;
    json_t *doc = load_object(body, len, "policies", &error);
    if (!doc) {
        return error;
    }

    struct jparse jp = JPARSE_INITIALIZER;
    json_t *policies = jparse_array(&jp, doc, "", "policies", true);
    uint64_t total = 0;
    bool has_total = jparse_uint(&jp, doc, "", "total_policies", false, 0,
                                 UINT64_MAX, &total);
    error = jparse_finish(&jp);
    if (!error && has_total && total != json_array_size(policies)) {
        error = xasprintf("total_policies: %"PRIu64", but \"policies\" has "
                          "%"PRIuSIZE" entries (truncated?)", total,
                          json_array_size(policies));
    }
    if (error) {
        json_decref(doc);
        return error;
    }

    size_t n = json_array_size(policies);
    list->policies = xcalloc(MAX(n, 1), sizeof *list->policies);
    list->n = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = jparse_path_index("policies", i);
        if (parse_policy(&jp, json_array_get(policies, i), path,
                         &list->policies[list->n])) {
            list->n++;
        } else {
            skip(skipped, jparse_finish(&jp));
        }
        free(path);
    }
    json_decref(doc);
    return NULL;
}

void
cf_policy_list_destroy(struct cf_policy_list *list)
{
    if (list) {
        for (size_t i = 0; i < list->n; i++) {
            free(list->policies[i].src_id);
            free(list->policies[i].dst_id);
        }
        free(list->policies);
        list->policies = NULL;
        list->n = 0;
    }
}

char *
cf_policies_last_updated_parse(const char *body, size_t len, uint64_t *nsp)
{
    size_t i = 0;
    uint64_t v = 0;

    while (i < len && isspace((unsigned char) body[i])) {
        i++;
    }
    size_t start = i;
    while (i < len && isdigit((unsigned char) body[i])) {
        unsigned int d = body[i] - '0';
        if (v > (UINT64_MAX - d) / 10) {
            return xstrdup("policies_last_updated: the number does not fit "
                           "in 64 bits");
        }
        v = v * 10 + d;
        i++;
    }
    size_t digits = i - start;
    while (i < len && isspace((unsigned char) body[i])) {
        i++;
    }
    if (!digits || i != len) {
        return xasprintf("policies_last_updated: \"%.*s\" is not a "
                         "non-negative integer", (int) MIN(len, 40), body);
    }
    *nsp = v;
    return NULL;
}

/* ---- security groups ---- */

static char *
trim(const char *s, size_t n)
{
    while (n && isspace((unsigned char) *s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char) s[n - 1])) {
        n--;
    }
    return xmemdup0(s, n);
}

/* Parses one destination item: an IPv4 address, "a-b" or a CIDR (host bits
 * are masked off, as Cloud Controller's Go code does). */
static bool
parse_destination_item(const char *s, struct cf_ip_range *r)
{
    const char *dash = strchr(s, '-');
    const char *slash = strchr(s, '/');

    if (dash) {
        char *a = trim(s, dash - s);
        char *b = trim(dash + 1, strlen(dash + 1));
        bool ok = (ipv4_parse(a, &r->start) && ipv4_parse(b, &r->end)
                   && r->start <= r->end);
        free(a);
        free(b);
        return ok;
    } else if (slash) {
        char *a = xmemdup0(s, slash - s);
        char *end;
        errno = 0;
        long plen = strtol(slash + 1, &end, 10);
        bool ok = (slash[1] && !*end && !errno && plen >= 0 && plen <= 32
                   && ipv4_parse(a, &r->start));
        free(a);
        if (ok) {
            uint32_t mask = plen ? UINT32_MAX << (32 - plen) : 0;
            r->start &= mask;
            r->end = r->start | ~mask;
        }
        return ok;
    } else {
        bool ok = ipv4_parse(s, &r->start);
        r->end = r->start;
        return ok;
    }
}

/* Splits 's' at commas into trimmed, non-empty items: stores them in
 * 'items'.  Returns false if an item is empty. */
static bool
split_list(const char *s, struct svec *items)
{
    const char *p = s;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t) (comma - p) : strlen(p);
        char *item = trim(p, n);
        if (!*item) {
            free(item);
            return false;
        }
        svec_add_nocopy(items, item);
        if (!comma) {
            return true;
        }
        p = comma + 1;
    }
}

static bool
parse_port(const char *s, uint16_t *port)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);

    if (!*s || *end || errno || v < 1 || v > 65535
        || !isdigit((unsigned char) *s)) {
        return false;
    }
    *port = v;
    return true;
}

static bool
parse_port_item(const char *s, struct cf_port_range *r)
{
    const char *dash = strchr(s, '-');

    if (dash) {
        char *a = trim(s, dash - s);
        char *b = trim(dash + 1, strlen(dash + 1));
        bool ok = (parse_port(a, &r->start) && parse_port(b, &r->end)
                   && r->start <= r->end);
        free(a);
        free(b);
        return ok;
    }
    bool ok = parse_port(s, &r->start);
    r->end = r->start;
    return ok;
}

static void
netout_rule_free(struct cf_netout_rule *r)
{
    free(r->networks);
    free(r->ports);
    memset(r, 0, sizeof *r);
}

/* Parses one security-group rule (a Cloud Controller rule object). */
static bool
parse_asg_rule(struct jparse *jp, const json_t *rule, const char *path,
               struct cf_netout_rule *r)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(rule)) {
        jparse_error(jp, path, NULL, "must be an object");
        return false;
    }

    const char *proto = jparse_string(jp, rule, path, "protocol", true);
    const char *dest = jparse_string(jp, rule, path, "destination", true);
    const char *ports = jparse_string(jp, rule, path, "ports", false);
    jparse_bool(jp, rule, path, "log", false, &r->log);
    if (jparse_failed(jp)) {
        return false;
    }

    if (!strcasecmp(proto, "all")) {
        r->protocol = CF_PROTO_ALL;
    } else if (!strcasecmp(proto, "tcp")) {
        r->protocol = CF_PROTO_TCP;
    } else if (!strcasecmp(proto, "udp")) {
        r->protocol = CF_PROTO_UDP;
    } else if (!strcasecmp(proto, "icmp")) {
        r->protocol = CF_PROTO_ICMP;
    } else {
        jparse_error(jp, path, "protocol", "\"%s\" is not all, tcp, udp or "
                     "icmp", proto);
        return false;
    }

    struct svec items = SVEC_EMPTY_INITIALIZER;
    if (!split_list(dest, &items)) {
        jparse_error(jp, path, "destination", "\"%s\" has an empty item",
                     dest);
        goto error;
    }
    r->networks = xcalloc(items.n, sizeof *r->networks);
    for (size_t i = 0; i < items.n; i++) {
        if (!parse_destination_item(items.names[i], &r->networks[i])) {
            jparse_error(jp, path, "destination", "\"%s\" is not an IPv4 "
                         "address, range or CIDR", items.names[i]);
            goto error;
        }
    }
    r->n_networks = items.n;
    svec_clear(&items);

    bool has_ports = ports && *ports;
    if (r->protocol == CF_PROTO_TCP || r->protocol == CF_PROTO_UDP) {
        if (!has_ports) {
            jparse_error(jp, path, "ports", "required for tcp and udp");
            goto error;
        }
        if (!split_list(ports, &items)) {
            jparse_error(jp, path, "ports", "\"%s\" has an empty item",
                         ports);
            goto error;
        }
        r->ports = xcalloc(items.n, sizeof *r->ports);
        for (size_t i = 0; i < items.n; i++) {
            if (!parse_port_item(items.names[i], &r->ports[i])) {
                jparse_error(jp, path, "ports", "\"%s\" is not a port or "
                             "range of ports 1..65535", items.names[i]);
                goto error;
            }
        }
        r->n_ports = items.n;
    } else if (has_ports) {
        jparse_error(jp, path, "ports", "only for tcp and udp");
        goto error;
    }

    if (r->protocol == CF_PROTO_ICMP) {
        int64_t tc[2] = { -1, -1 };
        const char *names[2] = { "type", "code" };
        for (int i = 0; i < 2; i++) {
            json_t *v = json_object_get(rule, names[i]);
            if (v && !json_is_null(v)) {
                if (!json_is_integer(v) || json_integer_value(v) < -1
                    || json_integer_value(v) > 255) {
                    jparse_error(jp, path, names[i], "must be -1..255");
                    goto error;
                }
                tc[i] = json_integer_value(v);
            }
        }
        r->has_icmp = true;
        r->icmp_type = tc[0] < 0 ? CF_ICMP_ANY : tc[0];
        r->icmp_code = tc[1] < 0 ? CF_ICMP_ANY : tc[1];
    }
    svec_destroy(&items);
    return true;

error:
    svec_destroy(&items);
    netout_rule_free(r);
    return false;
}

static char **
parse_spaces(struct jparse *jp, const json_t *group, const char *path,
             const char *member, size_t *np)
{
    json_t *array = jparse_array(jp, group, path, member, false);
    size_t n = json_array_size(array);
    char **spaces = NULL;

    *np = 0;
    if (jparse_failed(jp) || !n) {
        return NULL;
    }
    spaces = xcalloc(n, sizeof *spaces);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(array, i);
        if (!json_is_string(s)) {
            char *p = jparse_path_member(path, member);
            char *pi = jparse_path_index(p, i);
            jparse_error(jp, pi, NULL, "must be a string");
            free(pi);
            free(p);
            for (size_t j = 0; j < i; j++) {
                free(spaces[j]);
            }
            free(spaces);
            return NULL;
        }
        spaces[i] = xstrdup(json_string_value(s));
    }
    *np = n;
    return spaces;
}

/* Parses group 'entry' into 'g'.  Returns false (with the error in 'jp')
 * if the group is unusable; skipped rules go to 'skipped'. */
static bool
parse_asg(struct jparse *jp, const json_t *entry, const char *path,
          struct cf_asg *g, struct svec *skipped)
{
    memset(g, 0, sizeof *g);
    if (!json_is_object(entry)) {
        jparse_error(jp, path, NULL, "must be an object");
        return false;
    }
    const char *guid = jparse_string(jp, entry, path, "guid", true);
    const char *name = jparse_string(jp, entry, path, "name", false);
    const char *rules_text = jparse_string(jp, entry, path, "rules", true);
    jparse_bool(jp, entry, path, "staging_default", false,
                &g->staging_default);
    jparse_bool(jp, entry, path, "running_default", false,
                &g->running_default);
    if (!jparse_failed(jp) && !*guid) {
        jparse_error(jp, path, "guid", "must not be empty");
    }
    if (jparse_failed(jp)) {
        return false;
    }
    g->staging_spaces = parse_spaces(jp, entry, path, "staging_space_guids",
                                     &g->n_staging_spaces);
    g->running_spaces = parse_spaces(jp, entry, path, "running_space_guids",
                                     &g->n_running_spaces);
    if (jparse_failed(jp)) {
        cf_asg_destroy(g);
        return false;
    }

    json_error_t jerror;
    json_t *rules = json_loads(rules_text, 0, &jerror);
    if (!rules || !json_is_array(rules)) {
        jparse_error(jp, path, "rules", "not a JSON array encoded as a "
                     "string (%s)", rules ? "another JSON value"
                                          : jerror.text);
        json_decref(rules);
        cf_asg_destroy(g);
        return false;
    }
    g->guid = xstrdup(guid);
    g->name = xstrdup(name ? name : "");

    size_t n = json_array_size(rules);
    g->rules = xcalloc(MAX(n, 1), sizeof *g->rules);
    g->rule_index = xcalloc(MAX(n, 1), sizeof *g->rule_index);
    char *rules_path = jparse_path_member(path, "rules");
    for (size_t i = 0; i < n; i++) {
        struct jparse rjp = JPARSE_INITIALIZER;
        char *rpath = jparse_path_index(rules_path, i);
        if (parse_asg_rule(&rjp, json_array_get(rules, i), rpath,
                           &g->rules[g->n_rules])) {
            g->rule_index[g->n_rules++] = i;
        } else {
            skip(skipped, jparse_finish(&rjp));
        }
        free(rpath);
    }
    free(rules_path);
    json_decref(rules);
    return true;
}

char *
cf_asg_page_parse(const char *body, size_t len, struct cf_asg_page *page,
                  struct svec *skipped)
{
    char *error;
    json_t *doc = load_object(body, len, "security_groups", &error);
    if (!doc) {
        return error;
    }

    struct jparse jp = JPARSE_INITIALIZER;
    json_t *groups = jparse_array(&jp, doc, "", "security_groups", true);
    uint64_t next = 0;
    jparse_uint(&jp, doc, "", "next", true, 0, INT64_MAX, &next);
    error = jparse_finish(&jp);
    if (error) {
        json_decref(doc);
        return error;
    }

    size_t n = json_array_size(groups);
    page->asgs = xcalloc(MAX(n, 1), sizeof *page->asgs);
    page->n = 0;
    page->next = next;
    for (size_t i = 0; i < n; i++) {
        char *path = jparse_path_index("security_groups", i);
        if (parse_asg(&jp, json_array_get(groups, i), path,
                      &page->asgs[page->n], skipped)) {
            page->n++;
        } else {
            skip(skipped, jparse_finish(&jp));
        }
        free(path);
    }
    json_decref(doc);
    return NULL;
}

static void
free_strings(char **strings, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(strings[i]);
    }
    free(strings);
}

void
cf_asg_destroy(struct cf_asg *asg)
{
    if (asg) {
        free(asg->guid);
        free(asg->name);
        for (size_t i = 0; i < asg->n_rules; i++) {
            netout_rule_free(&asg->rules[i]);
        }
        free(asg->rules);
        free(asg->rule_index);
        free_strings(asg->staging_spaces, asg->n_staging_spaces);
        free_strings(asg->running_spaces, asg->n_running_spaces);
        memset(asg, 0, sizeof *asg);
    }
}

void
cf_asg_page_destroy(struct cf_asg_page *page)
{
    if (page) {
        for (size_t i = 0; i < page->n; i++) {
            cf_asg_destroy(&page->asgs[i]);
        }
        free(page->asgs);
        page->asgs = NULL;
        page->n = 0;
    }
}

static char **
clone_strings(char **strings, size_t n)
{
    char **copy = n ? xcalloc(n, sizeof *copy) : NULL;

    for (size_t i = 0; i < n; i++) {
        copy[i] = xstrdup(strings[i]);
    }
    return copy;
}

void
cf_asg_clone(struct cf_asg *dst, const struct cf_asg *src)
{
    *dst = *src;
    dst->guid = nullable_xstrdup(src->guid);
    dst->name = nullable_xstrdup(src->name);
    dst->rules = xcalloc(MAX(src->n_rules, 1), sizeof *dst->rules);
    dst->rule_index = xcalloc(MAX(src->n_rules, 1), sizeof *dst->rule_index);
    for (size_t i = 0; i < src->n_rules; i++) {
        const struct cf_netout_rule *s = &src->rules[i];
        struct cf_netout_rule *d = &dst->rules[i];
        *d = *s;
        d->networks = (s->n_networks
                       ? xmemdup(s->networks,
                                 s->n_networks * sizeof *s->networks)
                       : NULL);
        d->ports = (s->n_ports
                    ? xmemdup(s->ports, s->n_ports * sizeof *s->ports)
                    : NULL);
        dst->rule_index[i] = src->rule_index[i];
    }
    dst->staging_spaces = clone_strings(src->staging_spaces,
                                        src->n_staging_spaces);
    dst->running_spaces = clone_strings(src->running_spaces,
                                        src->n_running_spaces);
}

static bool
strings_contain(char **strings, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(strings[i], s)) {
            return true;
        }
    }
    return false;
}

bool
cf_asg_applies(const struct cf_asg *asg, const char *space_id, bool staging)
{
    if (staging) {
        return (asg->staging_default
                || (space_id && strings_contain(asg->staging_spaces,
                                                asg->n_staging_spaces,
                                                space_id)));
    }
    return (asg->running_default
            || (space_id && strings_contain(asg->running_spaces,
                                            asg->n_running_spaces,
                                            space_id)));
}
