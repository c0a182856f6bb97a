/*
 * ranges: see ranges.h.
 *
 * The classic greedy cover: from 'start', take the largest aligned block
 * that starts there and does not pass 'end', then continue after it.  The
 * result is minimal and has at most 2 * width - 2 prefixes.
 */

#include <config.h>

#include "ranges.h"

#include "util.h"

/* Covers [start, end] of a 'width'-bit space with the fewest aligned
 * blocks, storing each block's first value and log2(size) into 'values'
 * and 'sizes_log2'.  Returns the number of blocks. */
static size_t
cover(uint64_t start, uint64_t end, unsigned int width, uint64_t values[],
      unsigned int sizes_log2[])
{
    uint64_t lo = start;
    size_t n = 0;

    ovs_assert(start <= end);
    while (lo <= end) {
        /* Largest block size 2^k with 'lo' aligned to it and within. */
        unsigned int k = lo ? MIN(width, ctz64(lo)) : width;
        while (k > 0 && lo + (UINT64_C(1) << k) - 1 > end) {
            k--;
        }
        values[n] = lo;
        sizes_log2[n] = k;
        n++;
        lo += UINT64_C(1) << k;
    }
    return n;
}

size_t
range_to_prefixes32(uint32_t start, uint32_t end,
                    struct range_prefix32 out[64])
{
    uint64_t values[64];
    unsigned int k[64];
    size_t n = cover(start, end, 32, values, k);

    for (size_t i = 0; i < n; i++) {
        out[i].value = values[i];
        out[i].plen = 32 - k[i];
    }
    return n;
}

size_t
range_to_prefixes16(uint16_t start, uint16_t end,
                    struct range_prefix16 out[32])
{
    uint64_t values[32];
    unsigned int k[32];
    size_t n = cover(start, end, 16, values, k);

    for (size_t i = 0; i < n; i++) {
        out[i].value = values[i];
        out[i].mask = (uint16_t) (UINT32_C(0xffff) << k[i]);
    }
    return n;
}
