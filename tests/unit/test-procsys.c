/*
 * Unit tests for lib/procsys.c that change nothing on the machine: a
 * setting the kernel does not have, a name too long for a path, and a
 * setting that cannot be written (kernel/osrelease, read-only even for
 * root), which procsys_ensure() takes as set if it has the value.
 * (Writing real settings is covered by the system tests: cni-ovs sets
 * rp_filter on each host veth, flowctl ip_forward.) */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "procsys.h"
#include "util.h"

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

static void
test_ensure_read_only(void **state)
{
    struct utsname u;

    assert_int_equal(uname(&u), 0);
    assert_int_equal(procsys_write("kernel/osrelease", u.release), EACCES);
    assert_int_equal(procsys_ensure("kernel/osrelease", u.release), 0);
    char *nl = xasprintf("%s\n", u.release);
    assert_int_equal(procsys_ensure("kernel/osrelease", nl), 0);
    free(nl);
    assert_int_equal(procsys_ensure("kernel/osrelease", "0.0-cfnet"),
                     EACCES);
    assert_int_equal(procsys_ensure("cfnet-no-such-setting", "1"), ENOENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_setting),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test(test_ensure_read_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
