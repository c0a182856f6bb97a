/*
 * Unit tests for lib/jparse.c: paths, first-error-wins, and every getter's
 * handling of valid, absent, null, mistyped and out-of-range members. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "jparse.h"
#include "util.h"

/* Returns 'text' parsed as JSON; fails the test if it does not parse. */
static json_t *
parse(const char *text)
{
    json_error_t error;
    json_t *json = json_loads(text, 0, &error);
    if (!json) {
        fail_msg("bad test JSON: %s: %s", text, error.text);
    }
    return json;
}

/* Asserts that 'jp' holds exactly error 'expected' and resets it. */
static void
expect_error(struct jparse *jp, const char *expected)
{
    char *error = jparse_finish(jp);
    assert_non_null(error);
    assert_string_equal(error, expected);
    free(error);
    assert_false(jparse_failed(jp));
}

/* Asserts that 'jp' holds no error. */
static void
expect_ok(struct jparse *jp)
{
    char *error = jparse_finish(jp);
    if (error) {
        fail_msg("unexpected error: %s", error);
    }
}

static void
test_path_member(void **state)
{
    char *p = jparse_path_member("", "mtu");
    assert_string_equal(p, "mtu");
    free(p);

    p = jparse_path_member(NULL, "mtu");
    assert_string_equal(p, "mtu");
    free(p);

    p = jparse_path_member("runtimeConfig.portMappings[1]", "host_port");
    assert_string_equal(p, "runtimeConfig.portMappings[1].host_port");
    free(p);
}

static void
test_path_index(void **state)
{
    char *p = jparse_path_index("dns_servers", 0);
    assert_string_equal(p, "dns_servers[0]");
    free(p);

    p = jparse_path_index("a.b", 12345);
    assert_string_equal(p, "a.b[12345]");
    free(p);
}

static void
test_error_first_wins(void **state)
{
    struct jparse jp = JPARSE_INITIALIZER;
    assert_false(jparse_failed(&jp));
    assert_null(jparse_finish(&jp));

    jparse_error(&jp, "a", "b", "first %d", 1);
    assert_true(jparse_failed(&jp));
    jparse_error(&jp, "c", "d", "second");
    expect_error(&jp, "a.b: first 1");

    /* 'member' NULL names 'path' itself; the root has no path. */
    jparse_error(&jp, "x[2]", NULL, "bad");
    expect_error(&jp, "x[2]: bad");
    jparse_error(&jp, "", NULL, "whole document");
    expect_error(&jp, "whole document");
    jparse_error(&jp, "", "name", "required");
    expect_error(&jp, "name: required");
}

static void
test_value(void **state)
{
    json_t *obj = parse("{\"s\":\"x\",\"n\":null,\"i\":3,\"o\":{}}");
    struct jparse jp = JPARSE_INITIALIZER;

    json_t *v = jparse_value(&jp, obj, "", "s", true);
    assert_true(json_is_string(v));
    v = jparse_value(&jp, obj, "", "i", true);
    assert_int_equal(json_integer_value(v), 3);
    assert_null(jparse_value(&jp, obj, "", "n", false));
    assert_null(jparse_value(&jp, obj, "", "absent", false));
    expect_ok(&jp);

    /* Null counts as absent, so a required null member is missing. */
    assert_null(jparse_value(&jp, obj, "p", "n", true));
    expect_error(&jp, "p.n: required");

    /* A NULL or non-object container has no members. */
    assert_null(jparse_value(&jp, NULL, "", "s", false));
    assert_null(jparse_value(&jp, json_object_get(obj, "i"), "", "s",
                             false));
    expect_ok(&jp);
    json_decref(obj);
}

static void
test_string(void **state)
{
    json_t *obj = parse("{\"s\":\"br-cf\",\"e\":\"\",\"n\":null,"
                        "\"i\":1,\"a\":[],\"o\":{},\"b\":true,"
                        "\"unknown\":1}");
    struct jparse jp = JPARSE_INITIALIZER;

    assert_string_equal(jparse_string(&jp, obj, "", "s", true), "br-cf");
    assert_string_equal(jparse_string(&jp, obj, "", "e", true), "");
    assert_null(jparse_string(&jp, obj, "", "n", false));
    assert_null(jparse_string(&jp, obj, "", "absent", false));
    expect_ok(&jp);

    assert_null(jparse_string(&jp, obj, "", "absent", true));
    expect_error(&jp, "absent: required");
    assert_null(jparse_string(&jp, obj, "", "n", true));
    expect_error(&jp, "n: required");

    /* Every other type is wrong. */
    static const char *const wrong[] = { "i", "a", "o", "b" };
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        assert_null(jparse_string(&jp, obj, "ipam", wrong[i], false));
        char *error = jparse_finish(&jp);
        char *expected = xasprintf("ipam.%s: must be a string", wrong[i]);
        assert_non_null(error);
        assert_string_equal(error, expected);
        free(expected);
        free(error);
    }
    json_decref(obj);
}

static void
test_object_and_array(void **state)
{
    json_t *obj = parse("{\"o\":{\"k\":1},\"a\":[1,2],\"s\":\"x\"}");
    struct jparse jp = JPARSE_INITIALIZER;

    json_t *o = jparse_object(&jp, obj, "", "o", true);
    assert_ptr_equal(o, json_object_get(obj, "o"));
    json_t *a = jparse_array(&jp, obj, "", "a", true);
    assert_ptr_equal(a, json_object_get(obj, "a"));
    assert_null(jparse_object(&jp, obj, "", "absent", false));
    assert_null(jparse_array(&jp, obj, "", "absent", false));
    expect_ok(&jp);

    assert_null(jparse_object(&jp, obj, "r", "a", false));
    expect_error(&jp, "r.a: must be an object");
    assert_null(jparse_object(&jp, obj, "r", "s", false));
    expect_error(&jp, "r.s: must be an object");
    assert_null(jparse_array(&jp, obj, "r[0]", "o", false));
    expect_error(&jp, "r[0].o: must be an array");
    assert_null(jparse_array(&jp, obj, "", "absent", true));
    expect_error(&jp, "absent: required");
    assert_null(jparse_object(&jp, obj, "", "absent", true));
    expect_error(&jp, "absent: required");
    json_decref(obj);
}

static void
test_uint(void **state)
{
    json_t *obj = parse("{\"zero\":0,\"max\":65535,\"big\":65536,"
                        "\"neg\":-1,\"real\":1500.0,\"str\":\"1500\","
                        "\"bool\":true,\"null\":null,"
                        "\"huge\":9223372036854775807}");
    struct jparse jp = JPARSE_INITIALIZER;
    uint64_t v = 42;

    assert_true(jparse_uint(&jp, obj, "", "zero", true, 0, 65535, &v));
    assert_int_equal(v, 0);
    assert_true(jparse_uint(&jp, obj, "", "max", true, 0, 65535, &v));
    assert_int_equal(v, 65535);
    assert_true(jparse_uint(&jp, obj, "", "huge", true, 0, UINT64_MAX,
                            &v));
    assert_true(v == INT64_MAX);
    expect_ok(&jp);

    /* Absent or null: '*value' untouched. */
    v = 42;
    assert_false(jparse_uint(&jp, obj, "", "absent", false, 0, 9, &v));
    assert_false(jparse_uint(&jp, obj, "", "null", false, 0, 9, &v));
    assert_int_equal(v, 42);
    expect_ok(&jp);
    assert_false(jparse_uint(&jp, obj, "", "absent", true, 0, 9, &v));
    expect_error(&jp, "absent: required");

    /* Out of range, both ends; '*value' untouched. */
    assert_false(jparse_uint(&jp, obj, "m", "big", false, 1, 65535, &v));
    expect_error(&jp, "m.big: must be 1..65535");
    assert_false(jparse_uint(&jp, obj, "m", "zero", false, 1, 65535, &v));
    expect_error(&jp, "m.zero: must be 1..65535");
    assert_false(jparse_uint(&jp, obj, "m", "neg", false, 0, 65535, &v));
    expect_error(&jp, "m.neg: must be 0..65535");
    assert_int_equal(v, 42);

    /* Wrong types. */
    assert_false(jparse_uint(&jp, obj, "", "real", false, 0, 65535, &v));
    expect_error(&jp, "real: must be an integer");
    assert_false(jparse_uint(&jp, obj, "", "str", false, 0, 65535, &v));
    expect_error(&jp, "str: must be an integer");
    assert_false(jparse_uint(&jp, obj, "", "bool", false, 0, 65535, &v));
    expect_error(&jp, "bool: must be an integer");
    assert_int_equal(v, 42);
    json_decref(obj);
}

static void
test_bool(void **state)
{
    json_t *obj = parse("{\"t\":true,\"f\":false,\"i\":1,\"s\":\"true\"}");
    struct jparse jp = JPARSE_INITIALIZER;
    bool b = false;

    assert_true(jparse_bool(&jp, obj, "", "t", true, &b));
    assert_true(b);
    assert_true(jparse_bool(&jp, obj, "", "f", true, &b));
    assert_false(b);
    b = true;
    assert_false(jparse_bool(&jp, obj, "", "absent", false, &b));
    assert_true(b);
    expect_ok(&jp);

    assert_false(jparse_bool(&jp, obj, "r", "i", false, &b));
    expect_error(&jp, "r.i: must be a boolean");
    assert_false(jparse_bool(&jp, obj, "r", "s", false, &b));
    expect_error(&jp, "r.s: must be a boolean");
    assert_false(jparse_bool(&jp, obj, "r", "absent", true, &b));
    expect_error(&jp, "r.absent: required");
    assert_true(b);
    json_decref(obj);
}

/* After the first error, getters do nothing and return "absent". */
static void
test_noop_after_error(void **state)
{
    json_t *obj = parse("{\"s\":\"x\",\"i\":7,\"b\":true,\"o\":{},"
                        "\"a\":[]}");
    struct jparse jp = JPARSE_INITIALIZER;
    jparse_error(&jp, "", "first", "broken");

    uint64_t v = 1;
    bool b = false;
    assert_null(jparse_string(&jp, obj, "", "s", true));
    assert_null(jparse_object(&jp, obj, "", "o", true));
    assert_null(jparse_array(&jp, obj, "", "a", true));
    assert_null(jparse_value(&jp, obj, "", "s", true));
    assert_false(jparse_uint(&jp, obj, "", "i", true, 0, 10, &v));
    assert_false(jparse_bool(&jp, obj, "", "b", true, &b));
    assert_false(jparse_uint(&jp, obj, "", "missing", true, 0, 10, &v));
    assert_int_equal(v, 1);
    assert_false(b);
    expect_error(&jp, "first: broken");
    json_decref(obj);
}

static void
test_reject_unknown(void **state)
{
    static const char *const known[] = { "bridge", "mtu", NULL };
    struct jparse jp = JPARSE_INITIALIZER;

    json_t *obj = parse("{\"mtu\":1,\"bridge\":\"b\"}");
    jparse_reject_unknown(&jp, obj, "cfg", known);
    expect_ok(&jp);
    json_decref(obj);

    /* The first unknown member in document order is named. */
    obj = parse("{\"mtu\":1,\"zzz\":2,\"aaa\":3}");
    jparse_reject_unknown(&jp, obj, "cfg", known);
    expect_error(&jp, "cfg.zzz: unknown member");
    jparse_reject_unknown(&jp, obj, "", known);
    expect_error(&jp, "zzz: unknown member");
    json_decref(obj);

    obj = parse("{}");
    jparse_reject_unknown(&jp, obj, "", known);
    expect_ok(&jp);
    json_decref(obj);
}

static void
test_build(void **state)
{
    json_t *obj = jparse_new_object();
    assert_true(json_is_object(obj));
    assert_int_equal(json_object_size(obj), 0);
    json_t *array = jparse_new_array();
    assert_true(json_is_array(array));
    assert_int_equal(json_array_size(array), 0);

    json_array_append_new(array, jparse_new_string("plain"));
    json_array_append_new(array, jparse_new_string("caf\xc3\xa9"));
    json_array_append_new(array, jparse_new_string("bad\xff\xc3 \n"));
    json_object_set_new(obj, "a", array);
    json_object_set_new(obj, "p", jparse_pack("{s:i, s:b}", "n", -3,
                                              "t", 1));

    /* Valid UTF-8 is kept; other bytes outside ASCII become '?'. */
    char *s = jparse_dump(obj);
    assert_string_equal(s, "{\"a\":[\"plain\",\"caf\xc3\xa9\","
                        "\"bad?? \\n\"],\"p\":{\"n\":-3,\"t\":true}}");
    free(s);
    json_decref(obj);

    /* Any value, not only containers. */
    json_t *n = jparse_pack("I", (json_int_t) 65536);
    s = jparse_dump(n);
    assert_string_equal(s, "65536");
    free(s);
    json_decref(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_member),
        cmocka_unit_test(test_path_index),
        cmocka_unit_test(test_error_first_wins),
        cmocka_unit_test(test_value),
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_object_and_array),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_noop_after_error),
        cmocka_unit_test(test_reject_unknown),
        cmocka_unit_test(test_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
