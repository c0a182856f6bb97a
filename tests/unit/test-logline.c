/*
 * Unit tests of flowctl/logline.c: each kind of line parsed back as JSON
 * and checked member by member against iptables-logger's schema (and our
 * additions under "data"), escaping, timestamps, and the folding of
 * repeated denies with its bound.
 */

#include <config.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "logline.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

#include "cfjson.h"

#define IP(A, B, C, D) \
    (((uint32_t) (A) << 24) | ((B) << 16) | ((C) << 8) | (D))

/* 2026-12-04T17:05:01.123456Z. */
#define T0_USEC (1796403901LL * 1000000 + 123456)

/* An egress TCP connection accepted by rule 3 of a security group. */
static struct logline_event
egress_allowed_tcp(void)
{
    struct logline_event e = {
        .time_usec = T0_USEC,
        .direction = LOGLINE_EGRESS,
        .allowed = true,
        .src_ip = IP(10, 255, 73, 3),
        .dst_ip = IP(10, 10, 10, 10),
        .src_port = 36296,
        .dst_port = 80,
        .protocol = IPPROTO_TCP,
        .mark = 0x1,
        .container_id = "bfce-handle",
        .app_guid = "app-1",
        .space_guid = "space-1",
        .organization_guid = "org-1",
        .host_ip = IP(10, 0, 16, 15),
        .host_guid = "instance-7",
        .cell = "cell-a",
        .rule = {
            .kind = LOGLINE_RULE_ASG,
            .asg = { .guid = "asg-guid-1", .name = "public", .index = 3 },
        },
    };
    return e;
}

/* An ingress UDP datagram no c2c policy admits. */
static struct logline_event
ingress_denied_udp(void)
{
    struct logline_event e = {
        .time_usec = T0_USEC,
        .direction = LOGLINE_INGRESS,
        .allowed = false,
        .src_ip = IP(10, 255, 1, 2),
        .dst_ip = IP(10, 255, 73, 3),
        .src_port = 5353,
        .dst_port = 9000,
        .protocol = IPPROTO_UDP,
        .mark = 0xabcd,
        .container_id = "recv-handle",
        .app_guid = "app-2",
        .space_guid = "space-2",
        .organization_guid = "org-2",
        .host_ip = IP(10, 0, 16, 15),
        .host_guid = "instance-7",
        .cell = "cell-a",
        .rule = { .kind = LOGLINE_RULE_C2C_DENY },
    };
    return e;
}

/* Returns 'e' formatted, checking that it is one line. */
static char *
format(const struct logline_event *e)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    logline_format(e, &ds);
    assert_null(strchr(ds_cstr(&ds), '\n'));
    assert_null(strchr(ds_cstr(&ds), '\r'));
    return ds_steal_cstr(&ds);
}

/* Returns 'e' formatted and parsed back; the caller json_decref()s it. */
static json_t *
format_and_parse(const struct logline_event *e)
{
    char *line = format(e);
    json_error_t error;
    json_t *doc = json_loads(line, JSON_REJECT_DUPLICATES, &error);

    if (!doc) {
        fail_msg("not JSON (%s): %s", error.text, line);
    }
    assert_true(json_is_object(doc));
    free(line);
    return doc;
}

/* Checks that 'obj' has exactly the members named in the NULL-terminated
 * list that follows. */
static void
check_members(const json_t *obj, ...)
{
    size_t n = 0;
    va_list args;

    assert_true(json_is_object(obj));
    va_start(args, obj);
    for (const char *key; (key = va_arg(args, const char *)); n++) {
        if (!json_object_get(obj, key)) {
            fail_msg("no member \"%s\"", key);
        }
    }
    va_end(args);
    assert_int_equal(json_object_size(obj), n);
}

static void
check_string(const json_t *obj, const char *key, const char *expected)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        fail_msg("\"%s\" is not a string", key);
    }
    assert_string_equal(json_string_value(v), expected);
}

static void
check_int(const json_t *obj, const char *key, json_int_t expected)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v)) {
        fail_msg("\"%s\" is not an integer", key);
    }
    assert_int_equal(json_integer_value(v), expected);
}

static void
check_bool(const json_t *obj, const char *key, bool expected)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_boolean(v)) {
        fail_msg("\"%s\" is not a boolean", key);
    }
    assert_int_equal(json_is_true(v), expected);
}

static void
check_packet_members(const json_t *packet)
{
    check_members(packet, "direction", "allowed", "src_ip", "dst_ip",
                  "src_port", "dst_port", "protocol", "mark", "icmp_type",
                  "icmp_code", NULL);
}

static void
check_container_members(const json_t *c)
{
    check_members(c, "container_id", "app_guid", "space_guid",
                  "organization_guid", "host_ip", "host_guid", NULL);
}

static void
test_egress_allowed_tcp_asg(void **state OVS_UNUSED)
{
    struct logline_event e = egress_allowed_tcp();
    json_t *doc = format_and_parse(&e);

    check_members(doc, "timestamp", "source", "message", "log_level", "data",
                  NULL);
    check_string(doc, "timestamp", "2026-12-04T17:05:01.123456000Z");
    check_string(doc, "source", "cfnetworking.iptables");
    check_string(doc, "message", "cfnetworking.iptables.egress-allowed");
    check_int(doc, "log_level", 1);

    json_t *data = json_object_get(doc, "data");
    check_members(data, "packet", "source", "rule", "cell", NULL);

    json_t *packet = json_object_get(data, "packet");
    check_packet_members(packet);
    check_string(packet, "direction", "egress");
    check_bool(packet, "allowed", true);
    check_string(packet, "src_ip", "10.255.73.3");
    check_string(packet, "dst_ip", "10.10.10.10");
    check_int(packet, "src_port", 36296);
    check_int(packet, "dst_port", 80);
    check_string(packet, "protocol", "TCP");
    check_string(packet, "mark", "0x1");
    check_int(packet, "icmp_type", 0);
    check_int(packet, "icmp_code", 0);

    json_t *source = json_object_get(data, "source");
    check_container_members(source);
    check_string(source, "container_id", "bfce-handle");
    check_string(source, "app_guid", "app-1");
    check_string(source, "space_guid", "space-1");
    check_string(source, "organization_guid", "org-1");
    check_string(source, "host_ip", "10.0.16.15");
    check_string(source, "host_guid", "instance-7");

    json_t *rule = json_object_get(data, "rule");
    check_members(rule, "kind", "asg_guid", "asg_name", "index", NULL);
    check_string(rule, "kind", "asg");
    check_string(rule, "asg_guid", "asg-guid-1");
    check_string(rule, "asg_name", "public");
    check_int(rule, "index", 3);

    check_string(data, "cell", "cell-a");
    json_decref(doc);
}

static void
test_ingress_denied_c2c_udp(void **state OVS_UNUSED)
{
    struct logline_event e = ingress_denied_udp();
    json_t *doc = format_and_parse(&e);

    check_string(doc, "message", "cfnetworking.iptables.ingress-denied");
    json_t *data = json_object_get(doc, "data");
    check_members(data, "packet", "destination", "rule", "cell", NULL);

    json_t *packet = json_object_get(data, "packet");
    check_packet_members(packet);
    check_string(packet, "direction", "ingress");
    check_bool(packet, "allowed", false);
    check_string(packet, "src_ip", "10.255.1.2");
    check_string(packet, "dst_ip", "10.255.73.3");
    check_int(packet, "src_port", 5353);
    check_int(packet, "dst_port", 9000);
    check_string(packet, "protocol", "UDP");
    check_string(packet, "mark", "0xabcd");

    json_t *dst = json_object_get(data, "destination");
    check_container_members(dst);
    check_string(dst, "container_id", "recv-handle");
    check_string(dst, "app_guid", "app-2");

    json_t *rule = json_object_get(data, "rule");
    check_members(rule, "kind", NULL);
    check_string(rule, "kind", "c2c_deny");
    json_decref(doc);
}

static void
test_ingress_allowed_c2c_policy(void **state OVS_UNUSED)
{
    struct logline_event e = ingress_denied_udp();
    e.allowed = true;
    e.protocol = IPPROTO_TCP;
    e.rule.kind = LOGLINE_RULE_C2C_POLICY;
    e.rule.policy.src_app_guid = "sender-app";
    e.rule.policy.src_tag = 0x1;
    e.rule.policy.dst_app_guid = "app-2";
    e.rule.policy.protocol = IPPROTO_TCP;
    e.rule.policy.port_start = 8080;
    e.rule.policy.port_end = 9090;

    json_t *doc = format_and_parse(&e);
    check_string(doc, "message", "cfnetworking.iptables.ingress-allowed");
    json_t *rule = json_object_get(json_object_get(doc, "data"), "rule");
    check_members(rule, "kind", "source_app_guid", "source_tag",
                  "destination_app_guid", "protocol", "ports", NULL);
    check_string(rule, "kind", "c2c_policy");
    check_string(rule, "source_app_guid", "sender-app");
    check_string(rule, "source_tag", "0001");
    check_string(rule, "destination_app_guid", "app-2");
    check_string(rule, "protocol", "tcp");
    json_t *ports = json_object_get(rule, "ports");
    check_members(ports, "start", "end", NULL);
    check_int(ports, "start", 8080);
    check_int(ports, "end", 9090);
    json_decref(doc);

    /* Tags longer than 4 digits keep an even number of digits. */
    e.rule.policy.src_tag = 0xabcde;
    e.rule.policy.protocol = IPPROTO_UDP;
    doc = format_and_parse(&e);
    rule = json_object_get(json_object_get(doc, "data"), "rule");
    check_string(rule, "source_tag", "0ABCDE");
    check_string(rule, "protocol", "udp");
    json_decref(doc);
}

static void
test_static_rule_and_default_deny(void **state OVS_UNUSED)
{
    struct logline_event e = egress_allowed_tcp();
    e.rule.kind = LOGLINE_RULE_STATIC;
    e.rule.stat.index = 0;

    json_t *doc = format_and_parse(&e);
    json_t *rule = json_object_get(json_object_get(doc, "data"), "rule");
    check_members(rule, "kind", "index", NULL);
    check_string(rule, "kind", "static");
    check_int(rule, "index", 0);
    json_decref(doc);

    e.allowed = false;
    e.rule.kind = LOGLINE_RULE_DEFAULT_DENY;
    doc = format_and_parse(&e);
    check_string(doc, "message", "cfnetworking.iptables.egress-denied");
    rule = json_object_get(json_object_get(doc, "data"), "rule");
    check_members(rule, "kind", NULL);
    check_string(rule, "kind", "default_deny");
    json_decref(doc);
}

static void
test_icmp(void **state OVS_UNUSED)
{
    struct logline_event e = egress_allowed_tcp();
    e.protocol = IPPROTO_ICMP;
    e.icmp_type = 8;
    e.icmp_code = 0;
    e.src_port = 1234;          /* Not a port: ignored for ICMP. */
    e.dst_port = 5678;

    json_t *doc = format_and_parse(&e);
    json_t *packet = json_object_get(json_object_get(doc, "data"), "packet");
    check_packet_members(packet);
    check_string(packet, "protocol", "ICMP");
    check_int(packet, "icmp_type", 8);
    check_int(packet, "icmp_code", 0);
    check_int(packet, "src_port", 0);
    check_int(packet, "dst_port", 0);
    json_decref(doc);

    e.icmp_type = 3;
    e.icmp_code = 13;
    doc = format_and_parse(&e);
    packet = json_object_get(json_object_get(doc, "data"), "packet");
    check_int(packet, "icmp_type", 3);
    check_int(packet, "icmp_code", 13);
    json_decref(doc);

    /* Another protocol: its number, as the kernel's LOG target prints it;
     * no ports, no ICMP type or code. */
    e.protocol = 47;
    doc = format_and_parse(&e);
    packet = json_object_get(json_object_get(doc, "data"), "packet");
    check_string(packet, "protocol", "47");
    check_int(packet, "icmp_type", 0);
    check_int(packet, "icmp_code", 0);
    check_int(packet, "src_port", 0);
    json_decref(doc);

    /* ICMP type and code are 0 for TCP whatever the event says. */
    e.protocol = IPPROTO_TCP;
    doc = format_and_parse(&e);
    packet = json_object_get(json_object_get(doc, "data"), "packet");
    check_int(packet, "icmp_type", 0);
    check_int(packet, "icmp_code", 0);
    check_int(packet, "src_port", 1234);
    json_decref(doc);
}

static void
test_null_identity(void **state OVS_UNUSED)
{
    struct logline_event e = {
        .time_usec = 0,
        .direction = LOGLINE_EGRESS,
        .allowed = false,
        .src_ip = IP(10, 255, 0, 9),
        .dst_ip = IP(1, 1, 1, 1),
        .protocol = IPPROTO_UDP,
        .dst_port = 53,
    };
    json_t *doc = format_and_parse(&e);

    check_string(doc, "timestamp", "1970-01-01T00:00:00.000000000Z");
    json_t *data = json_object_get(doc, "data");
    /* No rule, no cell, no repeats. */
    check_members(data, "packet", "source", NULL);
    json_t *packet = json_object_get(data, "packet");
    check_string(packet, "mark", "");
    json_t *source = json_object_get(data, "source");
    check_container_members(source);
    check_string(source, "container_id", "");
    check_string(source, "app_guid", "");
    check_string(source, "space_guid", "");
    check_string(source, "organization_guid", "");
    check_string(source, "host_ip", "");
    check_string(source, "host_guid", "");
    json_decref(doc);

    /* NULL strings inside a rule are "" too. */
    e.rule.kind = LOGLINE_RULE_ASG;
    doc = format_and_parse(&e);
    json_t *rule = json_object_get(json_object_get(doc, "data"), "rule");
    check_string(rule, "asg_guid", "");
    check_string(rule, "asg_name", "");
    json_decref(doc);
}

static void
test_timestamp(void **state OVS_UNUSED)
{
    static const struct {
        long long int usec;
        const char *text;
    } cases[] = {
        { 0, "1970-01-01T00:00:00.000000000Z" },
        { 1, "1970-01-01T00:00:00.000001000Z" },
        { 1709251199LL * 1000000 + 999999,
          "2024-02-29T23:59:59.999999000Z" },
        { 1709251200LL * 1000000, "2024-03-01T00:00:00.000000000Z" },
        { T0_USEC, "2026-12-04T17:05:01.123456000Z" },
        { -1, "1969-12-31T23:59:59.999999000Z" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct logline_event e = egress_allowed_tcp();
        e.time_usec = cases[i].usec;
        json_t *doc = format_and_parse(&e);
        check_string(doc, "timestamp", cases[i].text);
        json_decref(doc);
    }
}

static void
test_escaping(void **state OVS_UNUSED)
{
    struct logline_event e = egress_allowed_tcp();
    e.container_id = "with \"quotes\" and \\backslash\\";
    e.app_guid = "line\nbreak\r\ttab";
    e.space_guid = "ctl\001\037end";
    e.organization_guid = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3";
    e.host_guid = "bad\xff" "byte\xc3" "x\xed\xa0\x80";
    e.rule.asg.name = "</script>&";
    e.cell = "cell\n\"x\"";

    char *line = format(&e);
    /* The raw line carries no control character at all. */
    for (const char *p = line; *p; p++) {
        assert_true((unsigned char) *p >= 0x20);
    }
    free(line);

    json_t *doc = format_and_parse(&e);
    json_t *data = json_object_get(doc, "data");
    json_t *source = json_object_get(data, "source");
    check_string(source, "container_id", "with \"quotes\" and \\backslash\\");
    check_string(source, "app_guid", "line\nbreak\r\ttab");
    check_string(source, "space_guid", "ctl\001\037end");
    check_string(source, "organization_guid",
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
    /* Each byte that is not UTF-8 (a stray 0xff, a truncated sequence, an
     * encoded surrogate) becomes U+FFFD. */
    check_string(source, "host_guid",
                 "bad\xef\xbf\xbd" "byte\xef\xbf\xbd"
                 "x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    json_t *rule = json_object_get(data, "rule");
    check_string(rule, "asg_name", "</script>&");
    check_string(data, "cell", "cell\n\"x\"");
    json_decref(doc);
}

/* Deny folding. */

/* Returns the event offered to 'f' at 'now', whether it is to be written,
 * and its repeats in '*repeats'. */
static bool
offer(struct logline_folder *f, const struct logline_event *event,
      long long int now, unsigned int *repeats)
{
    struct logline_event e = *event;
    e.repeats = 12345;          /* The folder must set it. */
    bool write = logline_folder_offer(f, &e, now);
    *repeats = e.repeats;
    return write;
}

static void
test_fold_same_key(void **state OVS_UNUSED)
{
    struct logline_folder *f = logline_folder_create(16);
    struct logline_event e = ingress_denied_udp();
    unsigned int repeats;

    assert_true(offer(f, &e, 0, &repeats));
    assert_int_equal(repeats, 0);
    for (int t = 100; t <= 900; t += 400) {
        e.src_port++;           /* Another source port: the same key. */
        e.src_ip++;
        assert_false(offer(f, &e, t, &repeats));
    }
    assert_false(offer(f, &e, 999, &repeats));

    struct logline_folder_stats stats;
    logline_folder_get_stats(f, &stats);
    assert_int_equal(stats.n_keys, 1);
    assert_int_equal(stats.n_folded, 4);
    assert_int_equal(stats.n_unfolded_full, 0);

    /* A second later, the next deny carries the count, and opens a new
     * window. */
    assert_true(offer(f, &e, 1000, &repeats));
    assert_int_equal(repeats, 4);
    assert_false(offer(f, &e, 1500, &repeats));
    assert_true(offer(f, &e, 2000, &repeats));
    assert_int_equal(repeats, 1);

    /* Its line says so. */
    e.repeats = repeats;
    json_t *doc = format_and_parse(&e);
    check_int(json_object_get(doc, "data"), "repeats", 1);
    json_decref(doc);

    /* Nothing is pending: nothing to pop. */
    assert_null(logline_folder_pop_due(f, 5000));
    logline_folder_get_stats(f, &stats);
    assert_int_equal(stats.n_keys, 0);
    logline_folder_destroy(f);
}

static void
test_fold_flush(void **state OVS_UNUSED)
{
    struct logline_folder *f = logline_folder_create(16);
    struct logline_event e = ingress_denied_udp();
    unsigned int repeats;
    char container[] = "recv-handle";

    e.container_id = container;
    assert_int_equal(logline_folder_next_due(f), LLONG_MAX);
    assert_true(offer(f, &e, 10, &repeats));
    assert_int_equal(logline_folder_next_due(f), 1010);
    e.src_port = 1;
    assert_false(offer(f, &e, 100, &repeats));
    e.src_port = 2;
    assert_false(offer(f, &e, 200, &repeats));
    e.src_port = 3;
    e.time_usec = T0_USEC + 290000;
    assert_false(offer(f, &e, 300, &repeats));

    /* The folder kept its own copy of the strings. */
    container[0] = 'X';

    assert_null(logline_folder_pop_due(f, 1009));
    struct logline_event *due = logline_folder_pop_due(f, 1010);
    assert_non_null(due);
    /* The last folded event, standing for the two others. */
    assert_int_equal(due->repeats, 2);
    assert_int_equal(due->src_port, 3);
    assert_int_equal(due->time_usec, T0_USEC + 290000);
    assert_string_equal(due->container_id, "recv-handle");
    assert_false(due->allowed);

    json_t *doc = format_and_parse(due);
    json_t *data = json_object_get(doc, "data");
    check_members(data, "packet", "destination", "rule", "cell", "repeats",
                  NULL);
    check_int(data, "repeats", 2);
    check_string(json_object_get(data, "destination"), "container_id",
                 "recv-handle");
    json_decref(doc);
    logline_event_free(due);
    assert_null(logline_folder_pop_due(f, 1010));

    /* The window restarted when the count was written: a deny soon after
     * is folded, and written on its own a window later. */
    e.container_id = "recv-handle";
    assert_int_equal(logline_folder_next_due(f), 2010);
    assert_false(offer(f, &e, 1500, &repeats));
    assert_null(logline_folder_pop_due(f, 2009));
    due = logline_folder_pop_due(f, 2010);
    assert_non_null(due);
    assert_int_equal(due->repeats, 0);
    logline_event_free(due);

    /* A window without events forgets the key. */
    assert_null(logline_folder_pop_due(f, 3010));
    struct logline_folder_stats stats;
    logline_folder_get_stats(f, &stats);
    assert_int_equal(stats.n_keys, 0);
    assert_int_equal(stats.n_folded, 4);
    assert_int_equal(logline_folder_next_due(f), LLONG_MAX);

    /* Pending counts are freed with the folder. */
    assert_true(offer(f, &e, 4000, &repeats));
    assert_false(offer(f, &e, 4001, &repeats));
    logline_folder_destroy(f);
}

static void
test_fold_different_keys(void **state OVS_UNUSED)
{
    struct logline_folder *f = logline_folder_create(64);
    const struct logline_event base = ingress_denied_udp();
    struct logline_event e;
    unsigned int repeats;
    int n = 0;

    assert_true(offer(f, &base, 0, &repeats));
    n++;

#define DIFFERENT(FIELD, VALUE)                         \
    e = base;                                           \
    e.FIELD = VALUE;                                    \
    assert_true(offer(f, &e, 1, &repeats));             \
    assert_int_equal(repeats, 0);                       \
    n++;

    DIFFERENT(dst_ip, IP(10, 255, 73, 4));
    DIFFERENT(dst_port, 9001);
    DIFFERENT(protocol, IPPROTO_TCP);
    DIFFERENT(container_id, "other-handle");
    DIFFERENT(direction, LOGLINE_EGRESS);
    DIFFERENT(rule.kind, LOGLINE_RULE_DEFAULT_DENY);
#undef DIFFERENT

    /* Two ASG rules differ by group or by index. */
    e = base;
    e.rule.kind = LOGLINE_RULE_ASG;
    e.rule.asg.guid = "g1";
    e.rule.asg.index = 0;
    assert_true(offer(f, &e, 2, &repeats));
    e.rule.asg.index = 1;
    assert_true(offer(f, &e, 2, &repeats));
    e.rule.asg.guid = "g2";
    assert_true(offer(f, &e, 2, &repeats));
    e.rule.asg.guid = "g1";
    assert_false(offer(f, &e, 3, &repeats));
    n += 3;

    /* What is not in the key does not separate: the source, the mark, the
     * app's identity. */
    e = base;
    e.src_ip = IP(10, 255, 9, 9);
    e.src_port = 1;
    e.mark = 0x7;
    e.app_guid = "renamed";
    assert_false(offer(f, &e, 4, &repeats));

    struct logline_folder_stats stats;
    logline_folder_get_stats(f, &stats);
    assert_int_equal(stats.n_keys, n);
    assert_int_equal(stats.n_folded, 2);
    logline_folder_destroy(f);
}

static void
test_fold_allowed_never(void **state OVS_UNUSED)
{
    struct logline_folder *f = logline_folder_create(16);
    struct logline_event e = egress_allowed_tcp();
    unsigned int repeats;

    for (int i = 0; i < 10; i++) {
        assert_true(offer(f, &e, i, &repeats));
        assert_int_equal(repeats, 0);
    }

    struct logline_folder_stats stats;
    logline_folder_get_stats(f, &stats);
    assert_int_equal(stats.n_keys, 0);
    assert_int_equal(stats.n_folded, 0);
    logline_folder_destroy(f);
}

static void
test_fold_bound(void **state OVS_UNUSED)
{
    struct logline_folder *f = logline_folder_create(2);
    struct logline_event e = ingress_denied_udp();
    struct logline_folder_stats stats;
    unsigned int repeats;

    e.dst_port = 1;
    assert_true(offer(f, &e, 0, &repeats));
    e.dst_port = 2;
    assert_true(offer(f, &e, 0, &repeats));

    /* Full: a new key is written every time, and counted. */
    e.dst_port = 3;
    for (int i = 0; i < 5; i++) {
        assert_true(offer(f, &e, 10 + i, &repeats));
        assert_int_equal(repeats, 0);
    }
    logline_folder_get_stats(f, &stats);
    assert_int_equal(stats.n_keys, 2);
    assert_int_equal(stats.n_unfolded_full, 5);

    /* The keys in the table still fold. */
    e.dst_port = 1;
    assert_false(offer(f, &e, 20, &repeats));

    /* Once port 1's count is written and idle port 2 is forgotten, the new
     * key gets a place. */
    struct logline_event *due = logline_folder_pop_due(f, 1000);
    assert_non_null(due);
    assert_int_equal(due->dst_port, 1);
    assert_int_equal(due->repeats, 0);
    logline_event_free(due);
    e.dst_port = 3;
    assert_true(offer(f, &e, 1000, &repeats));
    assert_false(offer(f, &e, 1001, &repeats));
    logline_folder_get_stats(f, &stats);
    assert_int_equal(stats.n_keys, 2);
    assert_int_equal(stats.n_unfolded_full, 5);
    assert_int_equal(stats.n_folded, 2);

    /* A flood over many keys never grows the table past its bound. */
    for (int i = 0; i < 10000; i++) {
        e.dst_port = 100 + i % 500;
        offer(f, &e, 1002 + i / 100, &repeats);
        logline_folder_get_stats(f, &stats);
        assert_true(stats.n_keys <= 2);
    }
    logline_folder_destroy(f);

    /* A bound of 0 folds nothing. */
    f = logline_folder_create(0);
    assert_true(offer(f, &e, 0, &repeats));
    assert_true(offer(f, &e, 0, &repeats));
    logline_folder_destroy(f);
}

/* Lines plus the sum of "repeats" is the number of denies, however they
 * arrive. */
static void
test_fold_accounting(void **state OVS_UNUSED)
{
    struct logline_folder *f = logline_folder_create(8);
    struct logline_event e = ingress_denied_udp();
    unsigned long long n_events = 0, n_lines = 0, n_repeats = 0;
    unsigned int repeats;
    uint32_t x = 12345;

    for (long long int now = 0; now < 20000; now += x % 37) {
        x = x * 1103515245 + 12345;
        e.dst_port = (x >> 16) % 12;
        n_events++;
        if (offer(f, &e, now, &repeats)) {
            n_lines++;
            n_repeats += repeats;
        }

        struct logline_event *due;
        while ((due = logline_folder_pop_due(f, now))) {
            n_lines++;
            n_repeats += due->repeats;
            logline_event_free(due);
        }
    }

    /* Drain. */
    struct logline_event *due;
    while ((due = logline_folder_pop_due(f, LLONG_MAX / 2))) {
        n_lines++;
        n_repeats += due->repeats;
        logline_event_free(due);
    }
    assert_int_equal(n_lines + n_repeats, n_events);
    assert_true(n_lines < n_events);
    logline_folder_destroy(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_egress_allowed_tcp_asg),
        cmocka_unit_test(test_ingress_denied_c2c_udp),
        cmocka_unit_test(test_ingress_allowed_c2c_policy),
        cmocka_unit_test(test_static_rule_and_default_deny),
        cmocka_unit_test(test_icmp),
        cmocka_unit_test(test_null_identity),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_fold_same_key),
        cmocka_unit_test(test_fold_flush),
        cmocka_unit_test(test_fold_different_keys),
        cmocka_unit_test(test_fold_allowed_never),
        cmocka_unit_test(test_fold_bound),
        cmocka_unit_test(test_fold_accounting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
