/* Unit tests for flowctl/ranges.c: ranges as minimal prefix sets. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "compiler.h"
#include "ranges.h"

/* Checks that 'pfx' covers exactly [start, end], in order, without
 * overlap. */
static void
check_cover16(uint16_t start, uint16_t end)
{
    struct range_prefix16 pfx[32];
    size_t n = range_to_prefixes16(start, end, pfx);
    uint32_t next = start;

    assert_true(n >= 1 && n <= 30);
    for (size_t i = 0; i < n; i++) {
        uint32_t size = (uint32_t) (uint16_t) ~pfx[i].mask + 1;
        assert_int_equal(pfx[i].value, next);
        assert_int_equal(pfx[i].value & ~pfx[i].mask & 0xffff, 0);
        next += size;
    }
    assert_int_equal(next, (uint32_t) end + 1);
}

static void
test_ports_known(void **state OVS_UNUSED)
{
    struct range_prefix16 pfx[32];

    assert_int_equal(range_to_prefixes16(80, 80, pfx), 1);
    assert_int_equal(pfx[0].value, 80);
    assert_int_equal(pfx[0].mask, 0xffff);

    assert_int_equal(range_to_prefixes16(0, 65535, pfx), 1);
    assert_int_equal(pfx[0].mask, 0);

    /* 1..65535 needs one prefix per bit: 1, 2/15, 4/14, ... 32768/1. */
    assert_int_equal(range_to_prefixes16(1, 65535, pfx), 16);

    /* 8000-8100 = 8000-8063, 8064-8095, 8096-8099, 8100. */
    size_t n = range_to_prefixes16(8000, 8100, pfx);
    assert_int_equal(n, 4);
    assert_int_equal(pfx[0].value, 8000);
    assert_int_equal(pfx[0].mask, 0xffc0);
    assert_int_equal(pfx[1].value, 8064);
    assert_int_equal(pfx[1].mask, 0xffe0);
    assert_int_equal(pfx[2].value, 8096);
    assert_int_equal(pfx[2].mask, 0xfffc);
    assert_int_equal(pfx[3].value, 8100);
    assert_int_equal(pfx[3].mask, 0xffff);
}

static void
test_ports_exhaustive_sample(void **state OVS_UNUSED)
{
    /* Every range with both ends in a window, plus strides over the whole
     * space: the cover must be exact each time. */
    for (uint32_t s = 0; s < 300; s++) {
        for (uint32_t e = s; e < 300; e++) {
            check_cover16(s, e);
        }
    }
    for (uint32_t s = 0; s < 65536; s += 977) {
        for (uint32_t e = s; e < 65536; e += 1231) {
            check_cover16(s, e);
        }
        check_cover16(s, 65535);
    }
}

static void
test_addresses(void **state OVS_UNUSED)
{
    struct range_prefix32 pfx[64];

    /* A /24 given as a range is one prefix. */
    assert_int_equal(range_to_prefixes32(0x0a000b00, 0x0a000bff, pfx), 1);
    assert_int_equal(pfx[0].value, 0x0a000b00);
    assert_int_equal(pfx[0].plen, 24);

    /* Everything. */
    assert_int_equal(range_to_prefixes32(0, UINT32_MAX, pfx), 1);
    assert_int_equal(pfx[0].plen, 0);

    /* One address. */
    assert_int_equal(range_to_prefixes32(0x08080808, 0x08080808, pfx), 1);
    assert_int_equal(pfx[0].plen, 32);

    /* 8.8.8.8-9.9.9.9 (the example in CF's docs) is exact and small. */
    size_t n = range_to_prefixes32(0x08080808, 0x09090909, pfx);
    uint64_t next = 0x08080808;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pfx[i].value, next);
        next += UINT64_C(1) << (32 - pfx[i].plen);
    }
    assert_int_equal(next, UINT64_C(0x09090909) + 1);
    assert_true(n <= 62);

    /* The worst case: 0.0.0.1-255.255.255.254 needs 62 prefixes. */
    assert_int_equal(range_to_prefixes32(1, UINT32_MAX - 1, pfx), 62);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports_known),
        cmocka_unit_test(test_ports_exhaustive_sample),
        cmocka_unit_test(test_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
