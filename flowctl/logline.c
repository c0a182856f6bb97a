/*
 * logline: traffic-log events as iptables-logger's JSON lines, and deny
 * folding.  See logline.h.
 *
 * The line is written by hand into a struct ds rather than built as a
 * jansson tree: the members come out in the order of iptables-logger's
 * lines, nothing is allocated per member, and the escaping (which also
 * makes any non-UTF-8 byte a U+FFFD) is ours to state.
 */

#include <config.h>

#include "logline.h"

#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "util.h"

/* A deny key's window: repeats within it are folded. */
#define LOGLINE_FOLD_WINDOW_MSEC 1000

const char *
logline_direction_name(enum logline_direction direction)
{
    return direction == LOGLINE_INGRESS ? "ingress" : "egress";
}

const char *
logline_rule_kind_name(enum logline_rule_kind kind)
{
    switch (kind) {
    case LOGLINE_RULE_NONE:
        return "none";
    case LOGLINE_RULE_ASG:
        return "asg";
    case LOGLINE_RULE_STATIC:
        return "static";
    case LOGLINE_RULE_C2C_POLICY:
        return "c2c_policy";
    case LOGLINE_RULE_DEFAULT_DENY:
        return "default_deny";
    case LOGLINE_RULE_C2C_DENY:
        return "c2c_deny";
    }
    return "none";
}

/* Returns the length of the well-formed UTF-8 sequence (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF) at the start of
 * the 'n' bytes at 's' (n >= 1, s[0] >= 0x80), or 0 if there is none. */
static size_t
utf8_sequence_length(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    uint8_t lo = 0x80, hi = 0xbf;   /* Range of the second byte. */
    size_t len;

    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) {
            lo = 0xa0;          /* Overlong below U+0800. */
        } else if (c == 0xed) {
            hi = 0x9f;          /* Surrogates U+D800..U+DFFF. */
        }
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) {
            lo = 0x90;          /* Overlong below U+10000. */
        } else if (c == 0xf4) {
            hi = 0x8f;          /* Above U+10FFFF. */
        }
    } else {
        return 0;
    }

    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

/* Appends 's' (NULL: "") to 'ds' as a JSON string. */
static void
put_string(struct ds *ds, const char *s)
{
    const uint8_t *p = (const uint8_t *) (s ? s : "");
    size_t n = strlen((const char *) p);

    ds_put_char(ds, '"');
    while (n > 0) {
        uint8_t c = *p;

        if (c >= 0x80) {
            size_t len = utf8_sequence_length(p, n);
            if (len) {
                ds_put_buffer(ds, (const char *) p, len);
            } else {
                len = 1;
                ds_put_cstr(ds, "\\ufffd");
            }
            p += len;
            n -= len;
            continue;
        }

        switch (c) {
        case '"':
            ds_put_cstr(ds, "\\\"");
            break;
        case '\\':
            ds_put_cstr(ds, "\\\\");
            break;
        case '\b':
            ds_put_cstr(ds, "\\b");
            break;
        case '\f':
            ds_put_cstr(ds, "\\f");
            break;
        case '\n':
            ds_put_cstr(ds, "\\n");
            break;
        case '\r':
            ds_put_cstr(ds, "\\r");
            break;
        case '\t':
            ds_put_cstr(ds, "\\t");
            break;
        default:
            if (c < 0x20) {
                ds_put_format(ds, "\\u%04x", c);
            } else {
                ds_put_char(ds, c);
            }
            break;
        }
        p++;
        n--;
    }
    ds_put_char(ds, '"');
}

/* Appends '"key":' to 'ds'; 'key' needs no escaping. */
static void
put_key(struct ds *ds, const char *key)
{
    ds_put_format(ds, "\"%s\":", key);
}

static void
put_string_member(struct ds *ds, const char *key, const char *value)
{
    put_key(ds, key);
    put_string(ds, value);
}

static void
put_uint_member(struct ds *ds, const char *key, unsigned long long value)
{
    ds_put_format(ds, "\"%s\":%llu", key, value);
}

/* Appends 'ip' (host byte order) as a dotted-quad JSON string, "" for 0 if
 * 'zero_is_empty'. */
static void
put_ip_member(struct ds *ds, const char *key, uint32_t ip,
              bool zero_is_empty)
{
    if (!ip && zero_is_empty) {
        put_string_member(ds, key, "");
        return;
    }
    ds_put_format(ds, "\"%s\":\"%"PRIu32".%"PRIu32".%"PRIu32".%"PRIu32"\"",
                  key, ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
                  ip & 0xff);
}

/* Appends the wall-clock time 'usec' (microseconds since the epoch) as
 * "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" in UTC. */
static void
put_timestamp(struct ds *ds, long long int usec)
{
    long long int sec = usec / 1000000;
    long long int frac = usec % 1000000;
    struct tm tm;

    if (frac < 0) {
        frac += 1000000;
        sec--;
    }
    time_t t = sec;
    if (!gmtime_r(&t, &tm)) {
        memset(&tm, 0, sizeof tm);
        tm.tm_year = 70;
        tm.tm_mday = 1;
        frac = 0;
    }
    ds_put_format(ds, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06lld000Z\"",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* Appends the protocol 'proto' as the kernel's LOG target names it. */
static void
put_protocol(struct ds *ds, uint8_t proto)
{
    put_key(ds, "protocol");
    switch (proto) {
    case IPPROTO_TCP:
        ds_put_cstr(ds, "\"TCP\"");
        break;
    case IPPROTO_UDP:
        ds_put_cstr(ds, "\"UDP\"");
        break;
    case IPPROTO_ICMP:
        ds_put_cstr(ds, "\"ICMP\"");
        break;
    default:
        ds_put_format(ds, "\"%u\"", proto);
        break;
    }
}

static bool
has_ports(uint8_t proto)
{
    return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static void
put_packet(struct ds *ds, const struct logline_event *e)
{
    bool ports = has_ports(e->protocol);
    bool icmp = e->protocol == IPPROTO_ICMP;

    ds_put_cstr(ds, "\"packet\":{");
    put_string_member(ds, "direction", logline_direction_name(e->direction));
    ds_put_format(ds, ",\"allowed\":%s,", e->allowed ? "true" : "false");
    put_ip_member(ds, "src_ip", e->src_ip, false);
    ds_put_char(ds, ',');
    put_ip_member(ds, "dst_ip", e->dst_ip, false);
    ds_put_char(ds, ',');
    put_uint_member(ds, "src_port", ports ? e->src_port : 0);
    ds_put_char(ds, ',');
    put_uint_member(ds, "dst_port", ports ? e->dst_port : 0);
    ds_put_char(ds, ',');
    put_protocol(ds, e->protocol);
    ds_put_cstr(ds, ",\"mark\":");
    if (e->mark) {
        ds_put_format(ds, "\"0x%"PRIx32"\"", e->mark);
    } else {
        ds_put_cstr(ds, "\"\"");
    }
    ds_put_char(ds, ',');
    put_uint_member(ds, "icmp_type", icmp ? e->icmp_type : 0);
    ds_put_char(ds, ',');
    put_uint_member(ds, "icmp_code", icmp ? e->icmp_code : 0);
    ds_put_char(ds, '}');
}

static void
put_container(struct ds *ds, const struct logline_event *e)
{
    put_key(ds, e->direction == LOGLINE_INGRESS ? "destination" : "source");
    ds_put_char(ds, '{');
    put_string_member(ds, "container_id", e->container_id);
    ds_put_char(ds, ',');
    put_string_member(ds, "app_guid", e->app_guid);
    ds_put_char(ds, ',');
    put_string_member(ds, "space_guid", e->space_guid);
    ds_put_char(ds, ',');
    put_string_member(ds, "organization_guid", e->organization_guid);
    ds_put_char(ds, ',');
    put_ip_member(ds, "host_ip", e->host_ip, true);
    ds_put_char(ds, ',');
    put_string_member(ds, "host_guid", e->host_guid);
    ds_put_char(ds, '}');
}

/* Appends a c2c policy tag as the policy server writes it: uppercase hex,
 * an even number of digits, at least 4. */
static void
put_tag_member(struct ds *ds, const char *key, uint32_t tag)
{
    int width = tag <= 0xffff ? 4 : tag <= 0xffffff ? 6 : 8;

    ds_put_format(ds, "\"%s\":\"%0*"PRIX32"\"", key, width, tag);
}

static void
put_rule(struct ds *ds, const struct logline_rule *r)
{
    ds_put_cstr(ds, "\"rule\":{");
    put_string_member(ds, "kind", logline_rule_kind_name(r->kind));
    switch (r->kind) {
    case LOGLINE_RULE_ASG:
        ds_put_char(ds, ',');
        put_string_member(ds, "asg_guid", r->asg.guid);
        ds_put_char(ds, ',');
        put_string_member(ds, "asg_name", r->asg.name);
        ds_put_char(ds, ',');
        put_uint_member(ds, "index", r->asg.index);
        break;
    case LOGLINE_RULE_STATIC:
        ds_put_char(ds, ',');
        put_uint_member(ds, "index", r->stat.index);
        break;
    case LOGLINE_RULE_C2C_POLICY:
        ds_put_char(ds, ',');
        put_string_member(ds, "source_app_guid", r->policy.src_app_guid);
        ds_put_char(ds, ',');
        put_tag_member(ds, "source_tag", r->policy.src_tag);
        ds_put_char(ds, ',');
        put_string_member(ds, "destination_app_guid",
                          r->policy.dst_app_guid);
        ds_put_cstr(ds, ",\"protocol\":");
        if (r->policy.protocol == IPPROTO_TCP) {
            ds_put_cstr(ds, "\"tcp\"");
        } else if (r->policy.protocol == IPPROTO_UDP) {
            ds_put_cstr(ds, "\"udp\"");
        } else {
            ds_put_format(ds, "\"%u\"", r->policy.protocol);
        }
        ds_put_format(ds, ",\"ports\":{\"start\":%u,\"end\":%u}",
                      r->policy.port_start, r->policy.port_end);
        break;
    case LOGLINE_RULE_NONE:
    case LOGLINE_RULE_DEFAULT_DENY:
    case LOGLINE_RULE_C2C_DENY:
        break;
    }
    ds_put_char(ds, '}');
}

/* Appends to 'ds' the JSON line for 'e': one object, no newline (the caller
 * ends the line).  See the top of logline.h for the members. */
void
logline_format(const struct logline_event *e, struct ds *ds)
{
    const char *dir = logline_direction_name(e->direction);

    ds_put_cstr(ds, "{\"timestamp\":");
    put_timestamp(ds, e->time_usec);
    ds_put_format(ds, ",\"source\":\"cfnetworking.iptables\","
                  "\"message\":\"cfnetworking.iptables.%s-%s\","
                  "\"log_level\":1,\"data\":{",
                  dir, e->allowed ? "allowed" : "denied");
    put_packet(ds, e);
    ds_put_char(ds, ',');
    put_container(ds, e);
    if (e->rule.kind != LOGLINE_RULE_NONE) {
        ds_put_char(ds, ',');
        put_rule(ds, &e->rule);
    }
    if (e->cell) {
        ds_put_char(ds, ',');
        put_string_member(ds, "cell", e->cell);
    }
    if (e->repeats) {
        ds_put_char(ds, ',');
        put_uint_member(ds, "repeats", e->repeats);
    }
    ds_put_cstr(ds, "}}");
}

/* Returns a copy of 'e' whose strings are its own; free it with
 * logline_event_free(). */
struct logline_event *
logline_event_clone(const struct logline_event *e)
{
    struct logline_event *c = xmemdup(e, sizeof *e);

    c->container_id = nullable_xstrdup(e->container_id);
    c->app_guid = nullable_xstrdup(e->app_guid);
    c->space_guid = nullable_xstrdup(e->space_guid);
    c->organization_guid = nullable_xstrdup(e->organization_guid);
    c->host_guid = nullable_xstrdup(e->host_guid);
    c->cell = nullable_xstrdup(e->cell);
    if (e->rule.kind == LOGLINE_RULE_ASG) {
        c->rule.asg.guid = nullable_xstrdup(e->rule.asg.guid);
        c->rule.asg.name = nullable_xstrdup(e->rule.asg.name);
    } else if (e->rule.kind == LOGLINE_RULE_C2C_POLICY) {
        c->rule.policy.src_app_guid
            = nullable_xstrdup(e->rule.policy.src_app_guid);
        c->rule.policy.dst_app_guid
            = nullable_xstrdup(e->rule.policy.dst_app_guid);
    }
    return c;
}

/* Frees 'e', made by logline_event_clone() or returned by
 * logline_folder_pop_due().  Accepts NULL. */
void
logline_event_free(struct logline_event *e)
{
    if (!e) {
        return;
    }
    free(CONST_CAST(char *, e->container_id));
    free(CONST_CAST(char *, e->app_guid));
    free(CONST_CAST(char *, e->space_guid));
    free(CONST_CAST(char *, e->organization_guid));
    free(CONST_CAST(char *, e->host_guid));
    free(CONST_CAST(char *, e->cell));
    if (e->rule.kind == LOGLINE_RULE_ASG) {
        free(CONST_CAST(char *, e->rule.asg.guid));
        free(CONST_CAST(char *, e->rule.asg.name));
    } else if (e->rule.kind == LOGLINE_RULE_C2C_POLICY) {
        free(CONST_CAST(char *, e->rule.policy.src_app_guid));
        free(CONST_CAST(char *, e->rule.policy.dst_app_guid));
    }
    free(e);
}

/* Deny folding. */

/* One deny key and its window. */
struct fold_entry {
    struct hmap_node hmap_node; /* In 'folder->entries', by fold_hash(). */
    struct ovs_list list_node;  /* In 'folder->by_window', oldest first. */
    long long int window_start; /* Monotonic msec. */
    unsigned int n_folded;      /* Events folded in this window. */
    struct logline_event *event;    /* Last event of the key (owned). */
};

struct logline_folder {
    struct hmap entries;        /* Contains "struct fold_entry"s. */
    struct ovs_list by_window;  /* The same, by 'window_start'. */
    size_t max_keys;
    unsigned long long n_folded;
    unsigned long long n_unfolded_full;
};

static const char *
str0(const char *s)
{
    return s ? s : "";
}

static uint32_t
fold_hash(const struct logline_event *e)
{
    const struct logline_rule *r = &e->rule;
    uint32_t hash;

    hash = hash_string(str0(e->container_id), 0);
    hash = hash_add(hash, e->direction);
    hash = hash_add(hash, e->dst_ip);
    hash = hash_add(hash, ((uint32_t) e->dst_port << 8) | e->protocol);
    hash = hash_add(hash, r->kind);
    switch (r->kind) {
    case LOGLINE_RULE_ASG:
        hash = hash_string(str0(r->asg.guid), hash);
        hash = hash_add(hash, r->asg.index);
        break;
    case LOGLINE_RULE_STATIC:
        hash = hash_add(hash, r->stat.index);
        break;
    case LOGLINE_RULE_C2C_POLICY:
        hash = hash_string(str0(r->policy.src_app_guid), hash);
        hash = hash_string(str0(r->policy.dst_app_guid), hash);
        break;
    case LOGLINE_RULE_NONE:
    case LOGLINE_RULE_DEFAULT_DENY:
    case LOGLINE_RULE_C2C_DENY:
        break;
    }
    return hash_finish(hash, 0);
}

static bool
str0_equal(const char *a, const char *b)
{
    return !strcmp(str0(a), str0(b));
}

static bool
rule_equal(const struct logline_rule *a, const struct logline_rule *b)
{
    if (a->kind != b->kind) {
        return false;
    }
    switch (a->kind) {
    case LOGLINE_RULE_ASG:
        return (a->asg.index == b->asg.index
                && str0_equal(a->asg.guid, b->asg.guid)
                && str0_equal(a->asg.name, b->asg.name));
    case LOGLINE_RULE_STATIC:
        return a->stat.index == b->stat.index;
    case LOGLINE_RULE_C2C_POLICY:
        return (a->policy.src_tag == b->policy.src_tag
                && a->policy.protocol == b->policy.protocol
                && a->policy.port_start == b->policy.port_start
                && a->policy.port_end == b->policy.port_end
                && str0_equal(a->policy.src_app_guid,
                              b->policy.src_app_guid)
                && str0_equal(a->policy.dst_app_guid,
                              b->policy.dst_app_guid));
    case LOGLINE_RULE_NONE:
    case LOGLINE_RULE_DEFAULT_DENY:
    case LOGLINE_RULE_C2C_DENY:
        return true;
    }
    return true;
}

/* Are 'a' and 'b' the same deny key? */
static bool
fold_key_equal(const struct logline_event *a, const struct logline_event *b)
{
    return (a->direction == b->direction
            && a->dst_ip == b->dst_ip
            && a->dst_port == b->dst_port
            && a->protocol == b->protocol
            && str0_equal(a->container_id, b->container_id)
            && rule_equal(&a->rule, &b->rule));
}

static struct fold_entry *
fold_find(const struct logline_folder *f, const struct logline_event *e,
          uint32_t hash)
{
    struct fold_entry *entry;

    HMAP_FOR_EACH_WITH_HASH (entry, hmap_node, hash, &f->entries) {
        if (fold_key_equal(entry->event, e)) {
            return entry;
        }
    }
    return NULL;
}

static bool
window_over(const struct fold_entry *entry, long long int now_msec)
{
    return now_msec - entry->window_start >= LOGLINE_FOLD_WINDOW_MSEC;
}

/* Opens a new window for 'entry' at 'now_msec', which must be no earlier
 * than any other window's start, so that 'by_window' stays in order. */
static void
fold_restart(struct logline_folder *f, struct fold_entry *entry,
             long long int now_msec)
{
    entry->window_start = now_msec;
    entry->n_folded = 0;
    ovs_list_remove(&entry->list_node);
    ovs_list_push_back(&f->by_window, &entry->list_node);
}

static void
fold_remove(struct logline_folder *f, struct fold_entry *entry)
{
    hmap_remove(&f->entries, &entry->hmap_node);
    ovs_list_remove(&entry->list_node);
    logline_event_free(entry->event);
    free(entry);
}

/* Forgets the keys, oldest first, whose window is over with nothing
 * folded. */
static void
fold_expire_idle(struct logline_folder *f, long long int now_msec)
{
    while (!ovs_list_is_empty(&f->by_window)) {
        struct fold_entry *entry = CONTAINER_OF(ovs_list_front(&f->by_window),
                                                struct fold_entry,
                                                list_node);
        if (entry->n_folded || !window_over(entry, now_msec)) {
            break;
        }
        fold_remove(f, entry);
    }
}

/* Returns a new folder that holds at most 'max_keys' deny keys (0: folds
 * nothing).  Free it with logline_folder_destroy(). */
struct logline_folder *
logline_folder_create(size_t max_keys)
{
    struct logline_folder *f = xzalloc(sizeof *f);

    hmap_init(&f->entries);
    ovs_list_init(&f->by_window);
    f->max_keys = max_keys;
    return f;
}

/* Frees 'f' and what it holds; the counts still folded are lost (call
 * logline_folder_pop_due() with a late enough time first to keep them).
 * Accepts NULL. */
void
logline_folder_destroy(struct logline_folder *f)
{
    if (!f) {
        return;
    }

    struct fold_entry *entry;
    HMAP_FOR_EACH_SAFE (entry, hmap_node, &f->entries) {
        fold_remove(f, entry);
    }
    hmap_destroy(&f->entries);
    free(f);
}

/* Offers 'event', which happened at monotonic time 'now_msec' (OVS's
 * time_msec(); never earlier than the time of an earlier call), to 'f'.
 * Returns true if the caller should write it now, with 'event->repeats' set
 * to how many folded events it stands for besides itself; false if it was
 * folded (counted, to be reported by a later line).  An allowed event is
 * always written, with 'repeats' 0.  'f' keeps a copy of what it needs. */
bool
logline_folder_offer(struct logline_folder *f, struct logline_event *event,
                     long long int now_msec)
{
    event->repeats = 0;
    if (event->allowed) {
        return true;
    }

    fold_expire_idle(f, now_msec);

    uint32_t hash = fold_hash(event);
    struct fold_entry *entry = fold_find(f, event, hash);
    if (!entry) {
        if (hmap_count(&f->entries) >= f->max_keys) {
            f->n_unfolded_full++;
            return true;
        }
        entry = xzalloc(sizeof *entry);
        entry->event = logline_event_clone(event);
        entry->window_start = now_msec;
        hmap_insert(&f->entries, &entry->hmap_node, hash);
        ovs_list_push_back(&f->by_window, &entry->list_node);
        return true;
    }

    if (!window_over(entry, now_msec)) {
        entry->n_folded++;
        f->n_folded++;
        logline_event_free(entry->event);
        entry->event = logline_event_clone(event);
        return false;
    }

    event->repeats = entry->n_folded;
    fold_restart(f, entry, now_msec);
    return true;
}

/* Returns the next event that 'f' folded and whose window is over at
 * monotonic time 'now_msec' with no later event of its key to carry its
 * count, or NULL if there is none.  The event is the last one folded, with
 * 'repeats' the number of the others; the caller writes it and frees it
 * with logline_event_free().  Call until it returns NULL: it also forgets
 * keys that saw no event for a window. */
struct logline_event *
logline_folder_pop_due(struct logline_folder *f, long long int now_msec)
{
    fold_expire_idle(f, now_msec);
    if (ovs_list_is_empty(&f->by_window)) {
        return NULL;
    }

    struct fold_entry *entry = CONTAINER_OF(ovs_list_front(&f->by_window),
                                            struct fold_entry, list_node);
    if (!window_over(entry, now_msec)) {
        return NULL;
    }

    /* fold_expire_idle() left it at the front: it has a count. */
    struct logline_event *e = logline_event_clone(entry->event);
    e->repeats = entry->n_folded - 1;
    fold_restart(f, entry, now_msec);
    return e;
}

/* Returns the monotonic time at which logline_folder_pop_due() should next
 * be called, or LLONG_MAX if 'f' holds nothing. */
long long int
logline_folder_next_due(const struct logline_folder *f)
{
    if (ovs_list_is_empty(&f->by_window)) {
        return LLONG_MAX;
    }

    const struct fold_entry *entry
        = CONTAINER_OF(ovs_list_front(&f->by_window), struct fold_entry,
                       list_node);
    return entry->window_start + LOGLINE_FOLD_WINDOW_MSEC;
}

/* Stores 'f''s counters in '*stats'. */
void
logline_folder_get_stats(const struct logline_folder *f,
                         struct logline_folder_stats *stats)
{
    stats->n_keys = hmap_count(&f->entries);
    stats->n_folded = f->n_folded;
    stats->n_unfolded_full = f->n_unfolded_full;
}
