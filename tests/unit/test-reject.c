/*
 * Unit tests for flowctl/reject.c: the TCP RST and ICMP port unreachable
 * answers to denied packets.
 *
 * The offending packets are written byte by byte here, and the answers are
 * checked byte by byte, with checksums verified by this file's own RFC 1071
 * sum (and cross-checked with OVS's csum()), so that the test does not
 * trust the header structs or checksum helpers the code under test uses.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cfnet.h"
#include "csum.h"
#include "dp-packet.h"
#include "reject.h"
#include "util.h"

/* The container 10.255.7.2 talks through the gateway to 10.0.0.5. */
static const uint8_t mac_c[6] = { 0xee, 0xee, 10, 255, 7, 2 };
static const uint8_t mac_gw[6] = CFNET_GATEWAY_MAC;
static const uint8_t ip_c[4] = { 10, 255, 7, 2 };
static const uint8_t ip_x[4] = { 10, 0, 0, 5 };

#define ETH_LEN 14
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

/* TCP flags. */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* ---- bytes ---- */

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static uint16_t
get16(const uint8_t *p)
{
    return (p[0] << 8) | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t) get16(p) << 16) | get16(p + 2);
}

/* RFC 1071 sum of 'n' bytes at 'p' added to 'sum' (not folded). */
static uint32_t
sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += get16(p + i);
    }
    if (n & 1) {
        sum += p[n - 1] << 8;
    }
    return sum;
}

static uint16_t
fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* Does the 'n'-byte region at 'p', checksum field included, sum to
 * all-ones, as a correctly checksummed one does? */
static void
assert_csum_ok(const uint8_t *p, size_t n)
{
    assert_int_equal(fold(sum_bytes(0, p, n)), 0xffff);
    /* OVS's csum() agrees: 0 over a correct region. */
    assert_int_equal(csum(p, n), 0);
}

/* ---- offending packets ---- */

/* An offending frame, 8-byte aligned like an OpenFlow message body. */
struct frame {
    uint8_t data[256] __attribute__((aligned(8)));
    size_t size;
};

/* Starts 'f': Ethernet from the container to the gateway, IPv4 from ip_c to
 * ip_x, protocol 'proto', 'n_opts' bytes of IP options (NOPs), 'l4_len'
 * bytes of payload (zeroed, for the caller).  Returns the payload. */
static uint8_t *
frame_ip(struct frame *f, uint8_t proto, size_t n_opts, size_t l4_len)
{
    memset(f, 0, sizeof *f);
    memcpy(f->data, mac_gw, 6);
    memcpy(f->data + 6, mac_c, 6);
    put16(f->data + 12, 0x0800);

    uint8_t *ip = f->data + ETH_LEN;
    size_t hlen = 20 + n_opts;
    ip[0] = 0x40 | (hlen / 4);
    ip[1] = 0x10;                       /* TOS, not copied to answers. */
    put16(ip + 2, hlen + l4_len);
    put16(ip + 4, 0x1234);              /* ID. */
    ip[8] = 63;                         /* TTL. */
    ip[9] = proto;
    memcpy(ip + 12, ip_c, 4);
    memcpy(ip + 16, ip_x, 4);
    memset(ip + 20, 1, n_opts);         /* NOP options. */
    put16(ip + 10, ~fold(sum_bytes(0, ip, hlen)) & 0xffff);

    f->size = ETH_LEN + hlen + l4_len;
    return ip + hlen;
}

/* Fixes the IP header checksum of 'f' after a test changed the header. */
static void
frame_fix_ip_csum(struct frame *f)
{
    uint8_t *ip = f->data + ETH_LEN;
    put16(ip + 10, 0);
    put16(ip + 10, ~fold(sum_bytes(0, ip, (ip[0] & 15) * 4)) & 0xffff);
}

/* A TCP segment 40000 -> 9 with 'flags', 'seq', 'ack' and 'n_data' bytes of
 * payload. */
static void
frame_tcp(struct frame *f, uint8_t flags, uint32_t seq, uint32_t ack,
          size_t n_data)
{
    uint8_t *th = frame_ip(f, PROTO_TCP, 0, 20 + n_data);
    put16(th, 40000);
    put16(th + 2, 9);
    put32(th + 4, seq);
    put32(th + 8, ack);
    th[12] = 5 << 4;
    th[13] = flags;
    put16(th + 14, 64240);
    memset(th + 20, 'x', n_data);
    /* The checksum of the offending segment is not checked by anyone. */
}

/* A UDP datagram 40000 -> 53 with 'n_data' bytes of payload, after
 * 'n_opts' bytes of IP options. */
static void
frame_udp(struct frame *f, size_t n_opts, size_t n_data)
{
    uint8_t *uh = frame_ip(f, PROTO_UDP, n_opts, 8 + n_data);
    put16(uh, 40000);
    put16(uh + 2, 53);
    put16(uh + 4, 8 + n_data);
    for (size_t i = 0; i < n_data; i++) {
        uh[8 + i] = i + 1;
    }
}

/* An ICMP message of 'type' and 'code' with 8 bytes of data. */
static void
frame_icmp(struct frame *f, uint8_t type, uint8_t code)
{
    uint8_t *ih = frame_ip(f, PROTO_ICMP, 0, 16);
    ih[0] = type;
    ih[1] = code;
    put16(ih + 4, 0x4242);              /* Echo id. */
    put16(ih + 6, 7);                   /* Echo seq. */
    memset(ih + 8, 'p', 8);
    put16(ih + 2, ~fold(sum_bytes(0, ih, 16)) & 0xffff);
}

/* ---- answers ---- */

/* Checks the Ethernet and IPv4 headers of 'answer' (back from ip_x to ip_c,
 * through the gateway MAC), and returns its IP header. */
static const uint8_t *
check_eth_ip(const struct dp_packet *answer, uint8_t proto, size_t ip_len)
{
    const uint8_t *p = dp_packet_data(answer);
    assert_int_equal(dp_packet_size(answer), ETH_LEN + ip_len);
    assert_memory_equal(p, mac_c, 6);           /* To the sender... */
    assert_memory_equal(p + 6, mac_gw, 6);      /* ...from its dst MAC. */
    assert_int_equal(get16(p + 12), 0x0800);

    const uint8_t *ip = p + ETH_LEN;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(get16(ip + 2), ip_len);
    assert_int_equal(get16(ip + 6), 0x4000);   /* DF, offset 0. */
    assert_int_equal(ip[8], 64);                /* TTL. */
    assert_int_equal(ip[9], proto);
    assert_memory_equal(ip + 12, ip_x, 4);      /* From the original dst. */
    assert_memory_equal(ip + 16, ip_c, 4);
    assert_csum_ok(ip, 20);
    return ip;
}

/* Checks that 'answer' is a TCP RST 9 -> 40000 with 'flags', 'seq' and
 * 'ack', checksums correct. */
static void
check_rst(struct dp_packet *answer, uint8_t flags, uint32_t seq,
          uint32_t ack)
{
    assert_non_null(answer);
    const uint8_t *ip = check_eth_ip(answer, PROTO_TCP, 40);
    const uint8_t *th = ip + 20;
    assert_int_equal(get16(th), 9);
    assert_int_equal(get16(th + 2), 40000);
    assert_int_equal(get32(th + 4), seq);
    assert_int_equal(get32(th + 8), ack);
    assert_int_equal(th[12], 5 << 4);
    assert_int_equal(th[13], flags);
    assert_int_equal(get16(th + 14), 0);        /* Window. */
    assert_int_equal(get16(th + 18), 0);        /* Urgent pointer. */

    /* Pseudo-header + segment. */
    uint32_t sum = sum_bytes(0, ip + 12, 8);
    sum += PROTO_TCP + 20;
    assert_int_equal(fold(sum_bytes(sum, th, 20)), 0xffff);
    dp_packet_delete(answer);
}

/* Checks that 'answer' is ICMP port unreachable quoting the first 'quote'
 * bytes of the IP packet in 'f'. */
static void
check_unreachable(struct dp_packet *answer, const struct frame *f,
                  size_t quote)
{
    assert_non_null(answer);
    const uint8_t *ip = check_eth_ip(answer, PROTO_ICMP, 20 + 8 + quote);
    assert_int_equal(ip[1], 0xc0);              /* Internetwork control. */
    const uint8_t *ih = ip + 20;
    assert_int_equal(ih[0], 3);                 /* Destination unreachable */
    assert_int_equal(ih[1], 3);                 /* port unreachable. */
    assert_int_equal(get32(ih + 4), 0);         /* Unused. */
    assert_memory_equal(ih + 8, f->data + ETH_LEN, quote);
    assert_csum_ok(ih, 8 + quote);
    dp_packet_delete(answer);
}

typedef struct dp_packet *reject_func(const void *, size_t, const char **);

/* Asserts that 'fn' gives no answer to 'f', for reason 'expected'. */
static void
assert_no_answer(reject_func *fn, const struct frame *f,
                 const char *expected)
{
    const char *why = NULL;
    struct dp_packet *answer = fn(f->data, f->size, &why);

    assert_null(answer);
    assert_non_null(why);
    assert_string_equal(why, expected);
}

/* ---- TCP ---- */

static void
test_syn_gets_rst_ack(void **state)
{
    struct frame f;
    const char *why = "unset";

    frame_tcp(&f, F_SYN, 1000, 0, 0);
    check_rst(reject_tcp_reset(f.data, f.size, &why), F_RST | F_ACK, 0,
              1001);
    assert_null(why);
}

static void
test_ack_with_data_gets_rst(void **state)
{
    struct frame f;

    frame_tcp(&f, F_ACK | F_PSH, 5000, 77777, 10);
    check_rst(reject_tcp_reset(f.data, f.size, NULL), F_RST, 77777, 0);

    /* SYN|ACK too: seq from its ack. */
    frame_tcp(&f, F_SYN | F_ACK, 5000, 0xdeadbeef, 0);
    check_rst(reject_tcp_reset(f.data, f.size, NULL), F_RST, 0xdeadbeef, 0);
}

static void
test_segment_length_counts_data_syn_fin(void **state)
{
    struct frame f;

    /* No ACK: ack = seq + data + SYN + FIN, modulo 2^32. */
    frame_tcp(&f, F_SYN | F_FIN, 0xfffffffe, 0, 5);
    check_rst(reject_tcp_reset(f.data, f.size, NULL), F_RST | F_ACK, 0, 5);

    frame_tcp(&f, F_FIN, 100, 0, 0);
    check_rst(reject_tcp_reset(f.data, f.size, NULL), F_RST | F_ACK, 0, 101);

    frame_tcp(&f, 0, 100, 0, 3);
    check_rst(reject_tcp_reset(f.data, f.size, NULL), F_RST | F_ACK, 0, 103);
}

static void
test_ethernet_padding_is_not_payload(void **state)
{
    struct frame f;

    /* A 54-byte SYN padded to the 60-byte minimum frame. */
    frame_tcp(&f, F_SYN, 1000, 0, 0);
    memset(f.data + f.size, 0xaa, 60 - f.size);
    f.size = 60;
    check_rst(reject_tcp_reset(f.data, f.size, NULL), F_RST | F_ACK, 0,
              1001);
}

static void
test_tcp_options_are_not_payload(void **state)
{
    struct frame f;

    /* A SYN with 20 bytes of options (data offset 10). */
    uint8_t *th = frame_ip(&f, PROTO_TCP, 0, 40);
    put16(th, 40000);
    put16(th + 2, 9);
    put32(th + 4, 1000);
    th[12] = 10 << 4;
    th[13] = F_SYN;
    memset(th + 20, 1, 20);
    check_rst(reject_tcp_reset(f.data, f.size, NULL), F_RST | F_ACK, 0,
              1001);
}

static void
test_rst_gets_nothing(void **state)
{
    struct frame f;

    frame_tcp(&f, F_RST, 1000, 0, 0);
    assert_no_answer(reject_tcp_reset, &f, "TCP RST");
    frame_tcp(&f, F_RST | F_ACK, 1000, 2000, 0);
    assert_no_answer(reject_tcp_reset, &f, "TCP RST");
}

static void
test_tcp_reset_needs_tcp(void **state)
{
    struct frame f;

    frame_udp(&f, 0, 4);
    assert_no_answer(reject_tcp_reset, &f, "not TCP");

    /* Data offset below 5 or beyond the segment. */
    frame_tcp(&f, F_SYN, 1000, 0, 0);
    f.data[ETH_LEN + 20 + 12] = 4 << 4;
    assert_no_answer(reject_tcp_reset, &f,
                     "truncated or malformed TCP header");
    f.data[ETH_LEN + 20 + 12] = 6 << 4;
    assert_no_answer(reject_tcp_reset, &f,
                     "truncated or malformed TCP header");
}

/* ---- ICMP ---- */

static void
test_udp_gets_port_unreachable(void **state)
{
    struct frame f;
    const char *why = "unset";

    frame_udp(&f, 0, 20);
    check_unreachable(reject_icmp_unreachable(f.data, f.size, &why), &f,
                      20 + 8);
    assert_null(why);
}

static void
test_quote_has_ip_options_and_short_payload(void **state)
{
    struct frame f;

    /* 4 bytes of IP options are quoted; the UDP header alone is 8 bytes. */
    frame_udp(&f, 4, 0);
    check_unreachable(reject_icmp_unreachable(f.data, f.size, NULL), &f,
                      24 + 8);

    /* An IP packet with 3 bytes of payload (protocol 253, experimental):
     * all of it is quoted. */
    uint8_t *l4 = frame_ip(&f, 253, 0, 3);
    memcpy(l4, "abc", 3);
    check_unreachable(reject_icmp_unreachable(f.data, f.size, NULL), &f,
                      20 + 3);
}

static void
test_tcp_gets_port_unreachable_too(void **state)
{
    struct frame f;

    frame_tcp(&f, F_SYN, 1000, 0, 0);
    check_unreachable(reject_icmp_unreachable(f.data, f.size, NULL), &f,
                      20 + 8);
}

static void
test_icmp_echo_gets_port_unreachable(void **state)
{
    struct frame f;

    frame_icmp(&f, 8, 0);
    check_unreachable(reject_icmp_unreachable(f.data, f.size, NULL), &f,
                      20 + 8);

    /* Other informational messages too. */
    static const uint8_t info[] = { 0, 13, 14, 15, 16 };
    for (size_t i = 0; i < ARRAY_SIZE(info); i++) {
        frame_icmp(&f, info[i], 0);
        check_unreachable(reject_icmp_unreachable(f.data, f.size, NULL), &f,
                          20 + 8);
    }
}

static void
test_icmp_error_gets_nothing(void **state)
{
    static const uint8_t errors[] = { 3, 4, 5, 11, 12 };
    struct frame f;

    for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
        frame_icmp(&f, errors[i], 1);
        assert_no_answer(reject_icmp_unreachable, &f, "ICMP error");
    }

    /* Too short to tell. */
    uint8_t *ih = frame_ip(&f, PROTO_ICMP, 0, 4);
    ih[0] = 8;
    assert_no_answer(reject_icmp_unreachable, &f, "truncated ICMP header");
}

/* ---- neither ---- */

/* Asserts that neither kind of answer is given to 'f', for reason
 * 'expected'. */
static void
assert_never_answered(const struct frame *f, const char *expected)
{
    assert_no_answer(reject_tcp_reset, f, expected);
    assert_no_answer(reject_icmp_unreachable, f, expected);
}

static void
test_fragments(void **state)
{
    struct frame f;
    const char *why;

    /* A non-first fragment has no L4 header to answer. */
    frame_tcp(&f, F_SYN, 1000, 0, 0);
    put16(f.data + ETH_LEN + 6, 0x2000 | 185);
    frame_fix_ip_csum(&f);
    assert_never_answered(&f, "non-first fragment");

    /* The first one (MF, offset 0) is answered. */
    frame_udp(&f, 0, 20);
    put16(f.data + ETH_LEN + 6, 0x2000);
    frame_fix_ip_csum(&f);
    check_unreachable(reject_icmp_unreachable(f.data, f.size, &why), &f,
                      20 + 8);
    frame_tcp(&f, F_SYN, 1000, 0, 0);
    put16(f.data + ETH_LEN + 6, 0x2000);
    frame_fix_ip_csum(&f);
    check_rst(reject_tcp_reset(f.data, f.size, NULL), F_RST | F_ACK, 0,
              1001);
}

static void
test_broadcast_multicast(void **state)
{
    static const uint8_t bad_dst[][4] = {
        { 255, 255, 255, 255 }, { 224, 0, 0, 1 }, { 239, 1, 2, 3 },
        { 240, 0, 0, 1 },
    };
    static const uint8_t bad_src[][4] = {
        { 0, 0, 0, 0 }, { 127, 0, 0, 1 }, { 224, 0, 0, 5 },
        { 255, 255, 255, 255 },
    };
    struct frame f;

    for (size_t i = 0; i < ARRAY_SIZE(bad_dst); i++) {
        frame_udp(&f, 0, 4);
        memcpy(f.data + ETH_LEN + 16, bad_dst[i], 4);
        frame_fix_ip_csum(&f);
        assert_never_answered(&f, "IP broadcast or multicast destination");
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad_src); i++) {
        frame_tcp(&f, F_SYN, 1, 0, 0);
        memcpy(f.data + ETH_LEN + 12, bad_src[i], 4);
        frame_fix_ip_csum(&f);
        assert_never_answered(&f, "IP source not a single host");
    }

    /* Ethernet broadcast and multicast destinations. */
    frame_udp(&f, 0, 4);
    memset(f.data, 0xff, 6);
    assert_never_answered(&f, "Ethernet broadcast or multicast destination");
    memcpy(f.data, (uint8_t[]) { 0x01, 0x00, 0x5e, 0, 0, 1 }, 6);
    assert_never_answered(&f, "Ethernet broadcast or multicast destination");
    frame_udp(&f, 0, 4);
    f.data[6] |= 1;
    assert_never_answered(&f, "Ethernet source not a single host");
}

static void
test_unparseable(void **state)
{
    struct frame f;

    /* Not IPv4: ARP, IPv6. */
    frame_udp(&f, 0, 4);
    put16(f.data + 12, 0x0806);
    assert_never_answered(&f, "not IPv4");
    put16(f.data + 12, 0x86dd);
    assert_never_answered(&f, "not IPv4");

    /* Shorter than its total length. */
    frame_tcp(&f, F_SYN, 1000, 0, 0);
    f.size -= 1;
    assert_never_answered(&f, "malformed IPv4 header");

    /* Header length below 20 bytes. */
    frame_udp(&f, 0, 4);
    f.data[ETH_LEN] = 0x44;
    assert_never_answered(&f, "malformed IPv4 header");

    /* Only the Ethernet header; nothing at all. */
    frame_udp(&f, 0, 4);
    f.size = ETH_LEN;
    assert_never_answered(&f, "malformed IPv4 header");
    f.size = 0;
    assert_never_answered(&f, "not IPv4");

    /* VLAN-tagged. */
    frame_udp(&f, 0, 4);
    memmove(f.data + 16, f.data + 12, f.size - 12);
    put16(f.data + 12, 0x8100);
    put16(f.data + 14, 100);
    f.size += 4;
    assert_never_answered(&f, "VLAN-tagged");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn_gets_rst_ack),
        cmocka_unit_test(test_ack_with_data_gets_rst),
        cmocka_unit_test(test_segment_length_counts_data_syn_fin),
        cmocka_unit_test(test_ethernet_padding_is_not_payload),
        cmocka_unit_test(test_tcp_options_are_not_payload),
        cmocka_unit_test(test_rst_gets_nothing),
        cmocka_unit_test(test_tcp_reset_needs_tcp),
        cmocka_unit_test(test_udp_gets_port_unreachable),
        cmocka_unit_test(test_quote_has_ip_options_and_short_payload),
        cmocka_unit_test(test_tcp_gets_port_unreachable_too),
        cmocka_unit_test(test_icmp_echo_gets_port_unreachable),
        cmocka_unit_test(test_icmp_error_gets_nothing),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_broadcast_multicast),
        cmocka_unit_test(test_unparseable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
