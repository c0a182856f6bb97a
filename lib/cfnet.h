/*
 * cfnet: constants shared by cni-ovs and flowctl, and the pure helpers that
 * derive names and addresses from them.  Changing any of these changes the
 * wire contract between the two programs (and what operators see), so they
 * live in one place.  No I/O. */

#ifndef CFNET_CFNET_H
#define CFNET_CFNET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every container's default gateway: a link-local address that no host
 * interface owns.  flowctl routes everything the container sends to it. */
#define CFNET_GATEWAY_IP 0xa9fe0001u            /* 169.254.0.1 */
#define CFNET_GATEWAY_IP_STRING "169.254.0.1"

/* The gateway's MAC: "aa:aa" + the gateway IP's bytes, like every MAC we
 * derive.  Containers carry a permanent neighbour entry for it; flowctl uses
 * it as the source MAC of every packet it delivers to a container. */
#define CFNET_GATEWAY_MAC { 0xaa, 0xaa, 0xa9, 0xfe, 0x00, 0x01 }

/* The Geneve option that carries the source app's policy tag between
 * cells: class 0xfff0 (the first of RFC 8926's experimental classes), type
 * 0x80 (critical: a receiver that does not know it must drop the packet),
 * 4 bytes.  flowctl maps it to tun_metadata0 with a TLV table entry. */
#define CFNET_GENEVE_CLASS 0xfff0
#define CFNET_GENEVE_TYPE 0x80
#define CFNET_GENEVE_LEN 4
#define CFNET_GENEVE_METADATA_IDX 0

/* Geneve over IPv4 (outer IP 20 + UDP 8 + Geneve 8 + inner Ethernet 14 =
 * 50 bytes) plus our one option (4-byte header + 4 bytes). */
#define CFNET_TUNNEL_OVERHEAD 58

/* The tunnel port flowctl adds to the bridge in cluster mode. */
#define CFNET_TUNNEL_PORT "cf-tun"

/* OVSDB keys (Open_vSwitch and Interface external_ids). */
#define CFNET_KEY_SUBNET "cf-subnet"            /* Open_vSwitch */
#define CFNET_KEY_MTU "cf-mtu"                  /* Open_vSwitch */
#define CFNET_KEY_HANDLE "cf-handle"            /* Interface ... */
#define CFNET_KEY_IP "cf-ip"
#define CFNET_KEY_MAC "cf-mac"
#define CFNET_KEY_APP_ID "cf-app-id"
#define CFNET_KEY_SPACE_ID "cf-space-id"
#define CFNET_KEY_ORG_ID "cf-org-id"
#define CFNET_KEY_POLICY_GROUP_ID "cf-policy-group-id"
#define CFNET_KEY_WORKLOAD "cf-workload"
#define CFNET_KEY_PORTS "cf-ports"
#define CFNET_KEY_LOG_CONFIG "cf-log-config"
#define CFNET_KEY_PORT_MAPPINGS "cf-port-mappings"
#define CFNET_KEY_NETOUT_RULES "cf-netout-rules"
#define CFNET_KEY_INSTALLED "cf-installed"

/* Container MAC: ee:ee + IPv4 bytes ('ip' in host order). */
void cfnet_container_mac(uint32_t ip, uint8_t mac[6]);
/* Host-side interface MAC (the gateways): aa:aa + IPv4 bytes. */
void cfnet_host_mac(uint32_t ip, uint8_t mac[6]);
/* Host end of container 'handle''s veth: aa:ab + 4 bytes of its SHA-1. */
void cfnet_veth_host_mac(const char *handle, uint8_t mac[6]);
/* "xx:xx:xx:xx:xx:xx" into 'buf'. */
void cfnet_mac_format(const uint8_t mac[6], char buf[18]);

/* Host-side veth name for container id 'handle': "cf" followed by 12 hex
 * digits of a SHA-1 of the handle (14 characters, below IFNAMSIZ).  A name
 * computed from the handle, not from the address, lets DEL find the link
 * even when an ADD died before the OVSDB record was written. */
#define CFNET_IFNAME_LEN 14
void cfnet_host_ifname(const char *handle, char name[CFNET_IFNAME_LEN + 1]);

#endif /* cfnet.h */
