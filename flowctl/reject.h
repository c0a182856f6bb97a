/*
 * reject: the answers to a packet that the pipeline denied, so that the
 * sender sees "connection refused" at once instead of waiting for a
 * timeout.  Pure: packet bytes in, answer packet out (tests/unit/
 * test-reject.c drives it); flowctl/pinctrl.c receives the denied packets
 * from the switch and sends the answers.
 *
 *   - a TCP segment gets a TCP RST, as a closed port answers (RFC 793,
 *     "Reset Generation");
 *   - any other IPv4 packet gets ICMP destination unreachable, code 3 (port
 *     unreachable), quoting its IP header and first 8 bytes of payload
 *     (RFC 792).
 *
 * An answer goes back to the sender: Ethernet and IP addresses (and TCP
 * ports) swapped, so it appears to come from the address the sender tried
 * to reach; IP TTL 64, DF set, checksums correct.
 *
 * No answer (NULL) for what a host must not answer (RFC 1122 3.2.2,
 * RFC 793): a RST, an ICMP error, a non-first fragment, a packet to a
 * broadcast or multicast address (Ethernet or IP), a packet whose source
 * is not a single host (0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/3, a multicast
 * MAC); and none for what this code does not parse: non-IPv4, VLAN-tagged,
 * truncated or malformed packets. */

#ifndef FLOWCTL_REJECT_H
#define FLOWCTL_REJECT_H 1

#include <stddef.h>

struct dp_packet;

/* Returns a TCP RST (a new Ethernet frame, which the caller frees with
 * dp_packet_delete()) that answers the 'size'-byte Ethernet frame 'packet',
 * or NULL if no RST is due.  If the segment has ACK set, the RST has
 * seq = its ack and no ACK; otherwise RST|ACK with seq = 0 and ack = its seq
 * + payload length (+1 for SYN, +1 for FIN).
 *
 * If 'whyp' is nonnull, stores in '*whyp' a static string that says why no
 * answer is due (or NULL when there is an answer). */
struct dp_packet *reject_tcp_reset(const void *packet, size_t size,
                                   const char **whyp);

/* Returns an ICMP port unreachable that answers the 'size'-byte Ethernet
 * frame 'packet', or NULL if none is due; the caller frees it with
 * dp_packet_delete().  'whyp' as for reject_tcp_reset(). */
struct dp_packet *reject_icmp_unreachable(const void *packet, size_t size,
                                          const char **whyp);

#endif /* reject.h */
