/*
 * ipv4: IPv4 address and CIDR text and arithmetic.  See ipv4.h.
 */

#include "ipv4.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Parses dotted-quad IPv4 address 's' into '*ip' (host byte order).
 * Returns false, leaving '*ip' alone, if 's' is anything else (octets with
 * leading zeros, fewer than four octets, trailing characters). */
bool
ipv4_parse(const char *s, uint32_t *ip)
{
    struct in_addr addr;

    if (inet_pton(AF_INET, s, &addr) != 1) {
        return false;
    }
    *ip = ntohl(addr.s_addr);
    return true;
}

/* Parses 's', which must be exactly "a.b.c.d/len" with 'len' a decimal
 * number 0..32 without sign or leading zeros, into '*cidr'.  Returns false,
 * storing nothing, if 's' is malformed or if the address has bits set past
 * the prefix (e.g. "10.0.0.1/24"). */
bool
ipv4_parse_cidr(const char *s, struct ipv4_cidr *cidr)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash - s >= IPV4_ADDR_LEN) {
        return false;
    }

    char addr_text[IPV4_ADDR_LEN];
    uint32_t addr;
    memcpy(addr_text, s, slash - s);
    addr_text[slash - s] = '\0';
    if (!ipv4_parse(addr_text, &addr)) {
        return false;
    }

    /* One or two digits, no sign, space or leading zero. */
    const char *p = slash + 1;
    size_t len = strlen(p);
    if (len < 1 || len > 2
        || strspn(p, "0123456789") != len
        || (len == 2 && p[0] == '0')) {
        return false;
    }
    unsigned int plen = (len == 1
                         ? p[0] - '0'
                         : (p[0] - '0') * 10 + (p[1] - '0'));
    if (plen > 32 || addr & ~ipv4_prefix_mask(plen)) {
        return false;
    }
    cidr->addr = addr;
    cidr->plen = plen;
    return true;
}

/* Formats 'ip' (host byte order) as a dotted quad into 'buf' and returns
 * 'buf'. */
char *
ipv4_format(uint32_t ip, char buf[IPV4_ADDR_LEN])
{
    snprintf(buf, IPV4_ADDR_LEN, "%"PRIu32".%"PRIu32".%"PRIu32".%"PRIu32,
             ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    return buf;
}

/* Formats 'cidr' as "a.b.c.d/n" into 'buf' and returns 'buf'. */
char *
ipv4_cidr_format(const struct ipv4_cidr *cidr, char buf[IPV4_CIDR_LEN])
{
    char addr[IPV4_ADDR_LEN];

    snprintf(buf, IPV4_CIDR_LEN, "%s/%u", ipv4_format(cidr->addr, addr),
             cidr->plen);
    return buf;
}
