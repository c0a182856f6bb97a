/*
 * Unit tests for lib/procsys.c that change nothing on the machine: a
 * setting the kernel does not have, and a name too long for a path.
 * (Writing real settings is covered by the system tests: cni-ovs sets
 * rp_filter on each host veth, flowctl ip_forward.) */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "procsys.h"

static void
test_missing_setting(void **state)
{
    assert_int_equal(procsys_write("net/ipv4/conf/cfnet-no-such-if/"
                                   "rp_filter", "1\n"), ENOENT);
    assert_int_equal(procsys_write("cfnet-no-such-setting", "1\n"), ENOENT);
}

static void
test_name_too_long(void **state)
{
    char name[5000];

    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(procsys_write(name, "1\n"), ENAMETOOLONG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_setting),
        cmocka_unit_test(test_name_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
