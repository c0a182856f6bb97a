/*
 * cfnet: names and addresses derived from a container's handle and IPv4
 * address, shared by cni-ovs and flowctl (see cfnet.h).  Pure: no I/O. */

/* OpenSSL's direct SHA-1 functions, deprecated in OpenSSL 3 in favour of
 * its EVP interface.  EVP (and OVS's sha1_bytes(), which uses it) loads the
 * OpenSSL configuration and its providers on first use: 1.5 to 2 ms, a
 * tenth of a cni-ovs ADD, for the one hash a CNI command computes.  The
 * direct functions take microseconds. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "cfnet.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

static void mac_from_ip(uint8_t prefix, uint32_t ip, uint8_t mac[6]);

/* Stores the SHA-1 of 'handle' (without its null terminator) in
 * 'digest'. */
static void
handle_digest(const char *handle, uint8_t digest[SHA_DIGEST_LENGTH])
{
    SHA_CTX ctx;

    SHA1_Init(&ctx);
    SHA1_Update(&ctx, handle, strlen(handle));
    SHA1_Final(digest, &ctx);
}

/* Stores the MAC of the container whose address is 'ip' (host byte order)
 * in 'mac': ee:ee followed by the address's four bytes. */
void
cfnet_container_mac(uint32_t ip, uint8_t mac[6])
{
    mac_from_ip(0xee, ip, mac);
}

/* Stores the MAC of a host-side interface whose address is 'ip' (host
 * byte order) in 'mac': aa:aa followed by the address's four bytes.  The
 * cell's gateway interfaces (cf-gw, the 169.254.0.1 gateway) use it. */
void
cfnet_host_mac(uint32_t ip, uint8_t mac[6])
{
    mac_from_ip(0xaa, ip, mac);
}

/* Stores the MAC of the host end of the veth of the container with id
 * 'handle' in 'mac': aa:ab followed by four bytes of a SHA-1 of the handle
 * (those after the bytes cfnet_host_ifname() uses).  It is known before the
 * container's address, so the veth can be made while IPAM works.  Nothing
 * sends from this MAC (the host end is NOARP and has no addresses); it only
 * has to be a unicast, locally administered one. */
void
cfnet_veth_host_mac(const char *handle, uint8_t mac[6])
{
    uint8_t digest[SHA_DIGEST_LENGTH];
    handle_digest(handle, digest);
    mac[0] = 0xaa;
    mac[1] = 0xab;
    memcpy(&mac[2], &digest[6], 4);
}

/* Formats 'mac' into 'buf' as six lowercase, colon-separated hex pairs. */
void
cfnet_mac_format(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* Stores the name of the host side of the veth of the container with id
 * 'handle' in 'name': "cf" followed by the first 12 lowercase hex digits of
 * the SHA-1 of 'handle' (without its null terminator). */
void
cfnet_host_ifname(const char *handle, char name[CFNET_IFNAME_LEN + 1])
{
    uint8_t digest[SHA_DIGEST_LENGTH];
    handle_digest(handle, digest);

    /* 2 + 2 * 6 = CFNET_IFNAME_LEN characters. */
    snprintf(name, CFNET_IFNAME_LEN + 1, "cf%02x%02x%02x%02x%02x%02x",
             digest[0], digest[1], digest[2], digest[3], digest[4],
             digest[5]);
}

static void
mac_from_ip(uint8_t prefix, uint32_t ip, uint8_t mac[6])
{
    mac[0] = prefix;
    mac[1] = prefix;
    mac[2] = ip >> 24;
    mac[3] = ip >> 16;
    mac[4] = ip >> 8;
    mac[5] = ip;
}
