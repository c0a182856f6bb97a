/*
 * ranges: address and port ranges as the fewest OpenFlow matches.
 *
 * OpenFlow matches IP addresses and L4 ports with bitwise masks, not
 * ranges.  ASGs give ranges ("10.0.0.5-10.0.1.20", ports "8000-8100"), so
 * each range becomes the minimal set of prefixes that covers exactly it.
 * Pure; unit-tested in tests/unit/test-ranges.c. */

#ifndef FLOWCTL_RANGES_H
#define FLOWCTL_RANGES_H 1

#include <stddef.h>
#include <stdint.h>

/* A prefix: 'value' with the top 'plen' bits significant. */
struct range_prefix32 {
    uint32_t value;
    unsigned int plen;              /* 0..32 */
};

struct range_prefix16 {
    uint16_t value;
    uint16_t mask;                  /* A prefix mask, e.g. 0xffc0. */
};

/* Stores in 'out' (room for 64 entries, always enough) the minimal list of
 * prefixes whose union is exactly [start, end] (host order, start <= end),
 * in ascending order, and returns how many. */
size_t range_to_prefixes32(uint32_t start, uint32_t end,
                           struct range_prefix32 out[64]);

/* The same for 16-bit ports (room for 32 entries). */
size_t range_to_prefixes16(uint16_t start, uint16_t end,
                           struct range_prefix16 out[32]);

#endif /* ranges.h */
