/*
 * ipv4: IPv4 addresses and CIDR blocks as cni-ovs and flowctl use them, in
 * one place: parsed from text, formatted to text, masked, and compared.
 *
 * Addresses are uint32_t in host byte order ("10.0.0.1" is 0x0a000001); a
 * CIDR is a 'struct ipv4_cidr' whose address has no bits set past its
 * prefix ("10.0.0.0/8", never "10.0.0.1/8").  The text forms are strict:
 * a dotted quad of four decimal octets without leading zeros (what
 * inet_pton() accepts), and for a CIDR such an address, "/" and a prefix
 * length 0..32 without sign or leading zero.  Parsers return false, storing
 * nothing, for anything else; callers name the field in their error.
 *
 * Usage:
 *
 *     struct ipv4_cidr net;
 *     char buf[IPV4_CIDR_LEN];
 *     if (ipv4_parse_cidr("10.255.0.0/16", &net)
 *         && ipv4_cidr_contains(&net, ip)) {
 *         printf("%s holds it\n", ipv4_cidr_format(&net, buf));
 *     }
 *
 * Pure (no I/O, no allocation); every function is thread-safe.
 */

#ifndef CFNET_IPV4_H
#define CFNET_IPV4_H 1

#include <stdbool.h>
#include <stdint.h>

/* Room for a formatted address ("255.255.255.255") and CIDR
 * ("255.255.255.255/32"), with the null terminator. */
#define IPV4_ADDR_LEN 16
#define IPV4_CIDR_LEN 19

/* A CIDR block: 'addr' (host byte order) with no bits set past the first
 * 'plen' (0..32). */
struct ipv4_cidr {
    uint32_t addr;
    unsigned int plen;
};

bool ipv4_parse(const char *s, uint32_t *ip);
bool ipv4_parse_cidr(const char *s, struct ipv4_cidr *);

char *ipv4_format(uint32_t ip, char buf[IPV4_ADDR_LEN]);
char *ipv4_cidr_format(const struct ipv4_cidr *, char buf[IPV4_CIDR_LEN]);

/* The netmask of a 'plen'-bit prefix (0..32), host byte order:
 * ipv4_prefix_mask(24) is 0xffffff00, ipv4_prefix_mask(0) is 0. */
static inline uint32_t
ipv4_prefix_mask(unsigned int plen)
{
    return plen ? UINT32_MAX << (32 - plen) : 0;
}

/* The first ("network") and last ("broadcast") addresses of 'c'. */
static inline uint32_t
ipv4_cidr_network(const struct ipv4_cidr *c)
{
    return c->addr;
}

static inline uint32_t
ipv4_cidr_broadcast(const struct ipv4_cidr *c)
{
    return c->addr | ~ipv4_prefix_mask(c->plen);
}

/* Is 'ip' (host byte order) in 'c'? */
static inline bool
ipv4_cidr_contains(const struct ipv4_cidr *c, uint32_t ip)
{
    return (ip & ipv4_prefix_mask(c->plen)) == c->addr;
}

/* Do 'a' and 'b' have an address in common (one holds the other)? */
static inline bool
ipv4_cidr_overlaps(const struct ipv4_cidr *a, const struct ipv4_cidr *b)
{
    return (ipv4_cidr_network(a) <= ipv4_cidr_broadcast(b)
            && ipv4_cidr_network(b) <= ipv4_cidr_broadcast(a));
}

#endif /* ipv4.h */
