/*
 * Unit tests of cni-ovs/cni-env.c: the checks of the CNI_* environment that
 * refuse, before anything is touched, what could never work.
 */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cni-env.h"
#include "util.h"

static struct cni_env
good_env(const char *command)
{
    return (struct cni_env) {
        .command = command,
        .container_id = "app-0001",
        .netns = "/var/run/netns/c1",
        .ifname = "eth0",
        .path = "/opt/cni/bin",
    };
}

/* 'env' fails with a message that starts with 'want'. */
static void
check_fails(const struct cni_env *env, const char *want)
{
    char *error = cni_env_check(env);

    assert_non_null(error);
    if (strncmp(error, want, strlen(want))) {
        print_message("error \"%s\" does not start with \"%s\"\n", error,
                      want);
        fail();
    }
    free(error);
}

/* A string of 'n' copies of 'c' (malloc'd). */
static char *
repeat(char c, size_t n)
{
    char *s = xmalloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void
test_valid(void **state OVS_UNUSED)
{
    struct cni_env env = good_env("ADD");
    assert_null(cni_env_check(&env));

    /* DEL without a namespace: the container may be gone. */
    env = good_env("DEL");
    env.netns = NULL;
    assert_null(cni_env_check(&env));
}

static void
test_missing(void **state OVS_UNUSED)
{
    struct cni_env env = good_env("ADD");
    env.container_id = NULL;
    check_fails(&env, "CNI_CONTAINERID: required");

    env = good_env("ADD");
    env.ifname = NULL;
    check_fails(&env, "CNI_IFNAME: required");

    env = good_env("CHECK");
    env.netns = NULL;
    check_fails(&env, "CNI_NETNS: required");

    env = good_env("DEL");
    env.path = NULL;
    check_fails(&env, "CNI_PATH: required");
}

/* The CNI spec's pattern, and at most CNI_CONTAINER_ID_MAX characters:
 * the id is the host veth's alias, which the kernel refuses past that. */
static void
test_container_id(void **state OVS_UNUSED)
{
    static const char *good[] = {
        "a", "0", "app-0001", "A.b_c-d", "7b1c0e6a-7f4e-4c9e-8c1d-2f9b",
    };
    static const char *bad[] = {
        "", "-a", ".a", "_a", "a b", "a/b", "a:b", "a\n", "caf\xc3\xa9",
    };

    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        assert_true(cni_env_container_id_ok(good[i]));
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_false(cni_env_container_id_ok(bad[i]));
    }
    assert_false(cni_env_container_id_ok(NULL));

    char *id = repeat('a', CNI_CONTAINER_ID_MAX);
    assert_true(cni_env_container_id_ok(id));
    struct cni_env env = good_env("ADD");
    env.container_id = id;
    assert_null(cni_env_check(&env));
    free(id);

    /* One more: refused with the length and the limit, for every
     * command. */
    static const char *commands[] = { "ADD", "DEL", "CHECK" };
    id = repeat('b', CNI_CONTAINER_ID_MAX + 1);
    assert_false(cni_env_container_id_ok(id));
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        env = good_env(commands[i]);
        env.container_id = id;
        char *error = cni_env_check(&env);
        assert_non_null(error);
        assert_non_null(strstr(error, "CNI_CONTAINERID: \"bbbb"));
        assert_non_null(strstr(error, "has 255 characters"));
        assert_non_null(strstr(error, "at most 254"));
        free(error);
    }
    free(id);

    id = repeat('c', 4096);
    env = good_env("ADD");
    env.container_id = id;
    check_fails(&env, "CNI_CONTAINERID: \"cccc");
    free(id);

    env = good_env("ADD");
    env.container_id = "-bad";
    check_fails(&env, "CNI_CONTAINERID: \"-bad\" must match");
}

static void
test_ifname(void **state OVS_UNUSED)
{
    static const char *good[] = { "eth0", "a", "123456789012345", "e-1.x" };
    static const char *bad[] = {
        "", ".", "..", "1234567890123456", "a/b", "a:b", "a b", "a\tb",
    };

    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        assert_true(cni_env_ifname_ok(good[i]));
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_false(cni_env_ifname_ok(bad[i]));
    }

    struct cni_env env = good_env("ADD");
    env.ifname = "eth0:1";
    check_fails(&env, "CNI_IFNAME: \"eth0:1\" is not a valid interface name");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_container_id),
        cmocka_unit_test(test_ifname),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
