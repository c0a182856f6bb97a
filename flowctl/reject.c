/*
 * reject: TCP RST and ICMP port unreachable answers to denied packets.
 * See reject.h.
 *
 * The offending packet is parsed with OVS's own flow_extract(), which
 * checks the IPv4 header (length, total length) and sets the L3 and L4
 * offsets; the answer is composed from scratch with eth_compose() and the
 * header structs of lib/packets.h, and checksummed with lib/csum.h.
 */

#include <config.h>

#include "reject.h"

#include <string.h>

#include "csum.h"
#include "dp-packet.h"
#include "flow.h"
#include "packets.h"
#include "util.h"

/* IP TTL of the answers (Linux's default). */
#define REJECT_TTL 64

/* IP TOS of ICMP errors: precedence "internetwork control", as Linux sends
 * them (RFC 1812 4.3.2.5). */
#define REJECT_ICMP_TOS 0xc0

/* ICMP destination unreachable code "port unreachable" (RFC 792). */
#define ICMP4_PORT_UNREACH 3

/* The offending packet, parsed. */
struct offender {
    struct dp_packet pkt;       /* The caller's bytes (not copied). */
    struct flow flow;           /* As flow_extract() found it. */
    const struct ip_header *ip; /* IPv4 header, validated by flow_extract. */
    size_t ip_hlen;             /* Its length, options included. */
    const uint8_t *l4;          /* IP payload... */
    size_t l4_size;             /* ...and its length (no Ethernet padding). */
};

/* Is 'ip' (network order) an address a packet may come from, i.e. one that
 * denotes a single host?  Not 0.0.0.0/8 ("this network"), 127.0.0.0/8
 * (loopback), nor 224.0.0.0/3 (multicast, class E, limited broadcast). */
static bool
is_single_host(ovs_be32 ip)
{
    uint8_t first = ntohl(ip) >> 24;
    return first != 0 && first != 127 && first < 224;
}

/* Parses the 'size'-byte Ethernet frame 'packet' into 'o', and checks what
 * both kinds of answers require: an IPv4 packet between two single hosts,
 * not a non-first fragment.  Returns NULL if it may be answered, otherwise
 * why not.  'o' points into 'packet', which must outlive it. */
static const char *
offender_parse(struct offender *o, const void *packet, size_t size)
{
    memset(o, 0, sizeof *o);
    dp_packet_use_const(&o->pkt, packet, size);
    flow_extract(&o->pkt, &o->flow);

    const struct flow *f = &o->flow;
    if (f->dl_type != htons(ETH_TYPE_IP)) {
        return "not IPv4";
    }
    if (f->vlans[0].tci != htons(0)) {
        return "VLAN-tagged";
    }
    /* flow_extract() sets the L4 offset only past a sane IPv4 header. */
    if (!dp_packet_l4(&o->pkt)) {
        return "malformed IPv4 header";
    }
    if (eth_addr_is_multicast(f->dl_dst)) {
        return "Ethernet broadcast or multicast destination";
    }
    if (eth_addr_is_multicast(f->dl_src) || eth_addr_is_zero(f->dl_src)) {
        return "Ethernet source not a single host";
    }
    if (!is_single_host(f->nw_dst)) {
        return "IP broadcast or multicast destination";
    }
    if (!is_single_host(f->nw_src)) {
        return "IP source not a single host";
    }
    if (f->nw_frag & FLOW_NW_FRAG_LATER) {
        return "non-first fragment";
    }

    o->ip = dp_packet_l3(&o->pkt);
    o->ip_hlen = IP_IHL(o->ip->ip_ihl_ver) * 4;
    o->l4 = dp_packet_l4(&o->pkt);
    o->l4_size = dp_packet_l4_size(&o->pkt);
    return NULL;
}

/* Starts the answer to 'o': a new frame from the offender's Ethernet
 * destination to its source, with an IPv4 header from its IP destination
 * to its source for an 'l4_size'-byte payload of protocol 'proto' (zeroed,
 * for the caller to fill in).  Returns the frame; its L4 offset points to
 * the payload. */
static struct dp_packet *
answer_start(const struct offender *o, uint8_t proto, uint8_t tos,
             size_t l4_size)
{
    size_t ip_size = IP_HEADER_LEN + l4_size;
    struct dp_packet *b = dp_packet_new(0);
    struct ip_header *ip = eth_compose(b, o->flow.dl_src, o->flow.dl_dst,
                                       ETH_TYPE_IP, ip_size);

    ip->ip_ihl_ver = IP_IHL_VER(IP_HEADER_LEN / 4, IP_VERSION);
    ip->ip_tos = tos;
    ip->ip_tot_len = htons(ip_size);
    /* ID 0 with DF: an atomic datagram (RFC 6864). */
    ip->ip_id = htons(0);
    ip->ip_frag_off = htons(IP_DONT_FRAGMENT);
    ip->ip_ttl = REJECT_TTL;
    ip->ip_proto = proto;
    put_16aligned_be32(&ip->ip_src, o->flow.nw_dst);
    put_16aligned_be32(&ip->ip_dst, o->flow.nw_src);
    ip->ip_csum = htons(0);
    ip->ip_csum = csum(ip, IP_HEADER_LEN);

    dp_packet_set_l4(b, ip + 1);
    return b;
}

static struct dp_packet *
no_answer(const char **whyp, const char *why)
{
    if (whyp) {
        *whyp = why;
    }
    return NULL;
}

struct dp_packet *
reject_tcp_reset(const void *packet, size_t size, const char **whyp)
{
    struct offender o;
    const char *why = offender_parse(&o, packet, size);
    if (why) {
        return no_answer(whyp, why);
    }
    if (o.flow.nw_proto != IPPROTO_TCP) {
        return no_answer(whyp, "not TCP");
    }

    const struct tcp_header *th = (const struct tcp_header *) o.l4;
    size_t th_len = o.l4_size >= TCP_HEADER_LEN
                    ? TCP_OFFSET(th->tcp_ctl) * 4 : 0;
    if (th_len < TCP_HEADER_LEN || th_len > o.l4_size) {
        return no_answer(whyp, "truncated or malformed TCP header");
    }
    uint16_t flags = TCP_FLAGS(th->tcp_ctl);
    if (flags & TCP_RST) {
        return no_answer(whyp, "TCP RST");
    }

    /* RFC 793: "If the incoming segment has an ACK field, the reset takes
     * its sequence number from the ACK field of the segment, otherwise the
     * reset has sequence number zero and the ACK field is set to the sum of
     * the sequence number and segment length of the incoming segment."  The
     * segment length counts SYN and FIN. */
    uint32_t seq, ack;
    uint16_t rst_flags;
    if (flags & TCP_ACK) {
        seq = ntohl(get_16aligned_be32(&th->tcp_ack));
        ack = 0;
        rst_flags = TCP_RST;
    } else {
        uint32_t seg_len = o.l4_size - th_len;
        seg_len += !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
        seq = 0;
        ack = ntohl(get_16aligned_be32(&th->tcp_seq)) + seg_len;
        rst_flags = TCP_RST | TCP_ACK;
    }

    struct dp_packet *b = answer_start(&o, IPPROTO_TCP, 0, TCP_HEADER_LEN);
    struct tcp_header *rst = dp_packet_l4(b);
    rst->tcp_src = th->tcp_dst;
    rst->tcp_dst = th->tcp_src;
    put_16aligned_be32(&rst->tcp_seq, htonl(seq));
    put_16aligned_be32(&rst->tcp_ack, htonl(ack));
    rst->tcp_ctl = TCP_CTL(rst_flags, TCP_HEADER_LEN / 4);
    rst->tcp_winsz = htons(0);
    rst->tcp_urg = htons(0);
    rst->tcp_csum = htons(0);
    rst->tcp_csum = csum_finish(csum_continue(
        packet_csum_pseudoheader(dp_packet_l3(b)), rst, TCP_HEADER_LEN));

    if (whyp) {
        *whyp = NULL;
    }
    return b;
}

/* Is an ICMP message of 'type' an error (RFC 1122 3.2.2: never answered
 * with an ICMP error)? */
static bool
icmp_is_error(uint8_t type)
{
    return (type == ICMP4_DST_UNREACH || type == ICMP4_SOURCEQUENCH
            || type == ICMP4_REDIRECT || type == ICMP4_TIME_EXCEEDED
            || type == ICMP4_PARAM_PROB);
}

struct dp_packet *
reject_icmp_unreachable(const void *packet, size_t size, const char **whyp)
{
    struct offender o;
    const char *why = offender_parse(&o, packet, size);
    if (why) {
        return no_answer(whyp, why);
    }
    if (o.flow.nw_proto == IPPROTO_ICMP) {
        /* An ICMP message too short to tell its type might be an error. */
        if (o.l4_size < ICMP_HEADER_LEN) {
            return no_answer(whyp, "truncated ICMP header");
        }
        if (icmp_is_error(o.l4[0])) {
            return no_answer(whyp, "ICMP error");
        }
    }

    /* RFC 792: the internet header plus the first 64 bits of the original
     * datagram's data. */
    size_t n_data = MIN(o.l4_size, ICMP_ERROR_DATA_L4_LEN);
    size_t quote = o.ip_hlen + n_data;
    struct dp_packet *b = answer_start(&o, IPPROTO_ICMP, REJECT_ICMP_TOS,
                                       ICMP_HEADER_LEN + quote);
    struct icmp_header *icmp = dp_packet_l4(b);
    icmp->icmp_type = ICMP4_DST_UNREACH;
    icmp->icmp_code = ICMP4_PORT_UNREACH;
    memcpy(icmp + 1, o.ip, o.ip_hlen);
    memcpy((uint8_t *) (icmp + 1) + o.ip_hlen, o.l4, n_data);
    icmp->icmp_csum = htons(0);
    icmp->icmp_csum = csum(icmp, ICMP_HEADER_LEN + quote);

    if (whyp) {
        *whyp = NULL;
    }
    return b;
}
