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

size_t
range_to_prefixes32(uint32_t start, uint32_t end,
                    struct range_prefix32 out[64])
{
    uint64_t lo = start, hi = end;
    size_t n = 0;

    ovs_assert(start <= end);
    while (lo <= hi) {
        /* Largest block size 2^k with 'lo' aligned to it and within. */
        unsigned int k = lo ? MIN(32, ctz64(lo)) : 32;
        while (k > 0 && lo + (UINT64_C(1) << k) - 1 > hi) {
            k--;
        }
        out[n].value = lo;
        out[n].plen = 32 - k;
        n++;
        lo += UINT64_C(1) << k;
    }
    return n;
}

size_t
range_to_prefixes16(uint16_t start, uint16_t end,
                    struct range_prefix16 out[32])
{
    uint32_t lo = start, hi = end;
    size_t n = 0;

    ovs_assert(start <= end);
    while (lo <= hi) {
        unsigned int k = lo ? MIN(16, ctz32(lo)) : 16;
        while (k > 0 && lo + (UINT32_C(1) << k) - 1 > hi) {
            k--;
        }
        out[n].value = lo;
        out[n].mask = (uint16_t) (UINT32_C(0xffff) << k);
        n++;
        lo += UINT32_C(1) << k;
    }
    return n;
}
