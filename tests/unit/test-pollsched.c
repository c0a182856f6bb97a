/*
 * Unit tests of flowctl/pollsched.c: the jittered poll waits and the
 * exponential backoff with full jitter, with the time and the random
 * numbers scripted.
 */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pollsched.h"
#include "util.h"

/* After a success every wait lies in [interval / 2, interval]: the
 * smallest random number gives the shortest, the largest the longest. */
static void
test_success_waits(void **state OVS_UNUSED)
{
    struct pollsched ps;

    pollsched_init(&ps, 1000, 5000);
    assert_true(pollsched_due(&ps, 5000));
    assert_false(pollsched_due(&ps, 4999));

    pollsched_success(&ps, 5000, 0);
    assert_int_equal(ps.next, 5500);
    assert_false(pollsched_due(&ps, 5499));
    assert_true(pollsched_due(&ps, 5500));

    pollsched_success(&ps, 5000, 500);
    assert_int_equal(ps.next, 6000);
    pollsched_success(&ps, 5000, 501);
    assert_int_equal(ps.next, 5500);
    pollsched_success(&ps, 5000, UINT32_MAX);
    assert_in_range(ps.next, 5500, 6000);

    /* Many draws: all inside, and they spread over the range. */
    long long int lo = LLONG_MAX, hi = 0;
    for (uint32_t r = 0; r < 100000; r += 7) {
        pollsched_success(&ps, 0, r * 2654435761u);
        lo = MIN(lo, ps.next);
        hi = MAX(hi, ps.next);
    }
    assert_int_equal(lo, 500);
    assert_int_equal(hi, 1000);
    assert_int_equal(pollsched_ceiling(&ps), 1000);
}

/* Failures double the ceiling up to 30 s; the wait is drawn from
 * [interval / 2, ceiling]; a success returns to the interval. */
static void
test_backoff(void **state OVS_UNUSED)
{
    struct pollsched ps;
    static const long long int ceilings[] = {
        2000, 4000, 8000, 16000, 30000, 30000, 30000,
    };

    pollsched_init(&ps, 1000, 0);
    for (size_t i = 0; i < ARRAY_SIZE(ceilings); i++) {
        /* The (i + 1)th failure in a row, with the smallest, the largest
         * and any random number. */
        ps.n_failures = i;
        pollsched_failure(&ps, 0, 0);
        assert_int_equal(ps.n_failures, i + 1);
        assert_int_equal(pollsched_ceiling(&ps), ceilings[i]);
        assert_int_equal(ps.next, 500);

        ps.n_failures = i;
        pollsched_failure(&ps, 0, ceilings[i] - 500);
        assert_int_equal(ps.next, ceilings[i]);

        ps.n_failures = i;
        pollsched_failure(&ps, 0, UINT32_MAX);
        assert_in_range(ps.next, 500, ceilings[i]);
    }

    /* Thousands of failures: the ceiling stays capped (no overflow). */
    for (int i = 0; i < 5000; i++) {
        pollsched_failure(&ps, 100, i * 2654435761u);
        assert_in_range(ps.next, 600, 30100);
    }
    assert_int_equal(pollsched_ceiling(&ps), 30000);

    pollsched_success(&ps, 0, UINT32_MAX);
    assert_int_equal(ps.n_failures, 0);
    assert_int_equal(pollsched_ceiling(&ps), 1000);
    assert_in_range(ps.next, 500, 1000);
}

/* An interval above the cap (the 60 s ASG poll): failures never make the
 * wait longer than the interval, nor shorter than half of it. */
static void
test_long_interval(void **state OVS_UNUSED)
{
    struct pollsched ps;

    pollsched_init(&ps, 60000, 0);
    pollsched_failure(&ps, 0, UINT32_MAX);
    assert_int_equal(pollsched_ceiling(&ps), 60000);
    for (int i = 0; i < 20; i++) {
        pollsched_failure(&ps, 0, i * 2654435761u);
        assert_in_range(ps.next, 30000, 60000);
    }
    assert_int_equal(pollsched_ceiling(&ps), 60000);

    /* A 100 ms interval backs off to 30 s too. */
    pollsched_init(&ps, 100, 0);
    for (int i = 0; i < 9; i++) {
        pollsched_failure(&ps, 0, 0);
    }
    assert_int_equal(pollsched_ceiling(&ps), 30000);
    assert_int_equal(ps.next, 50);
}

/* Polling at once moves the next poll earlier, never later, and keeps the
 * backoff. */
static void
test_poll_now(void **state OVS_UNUSED)
{
    struct pollsched ps;

    pollsched_init(&ps, 1000, 0);
    pollsched_failure(&ps, 0, 1000);
    pollsched_failure(&ps, 0, 1000);
    assert_int_equal(ps.next, 1500);
    pollsched_poll_now(&ps, 200);
    assert_true(pollsched_due(&ps, 200));
    assert_int_equal(ps.n_failures, 2);
    assert_int_equal(pollsched_ceiling(&ps), 4000);

    ps.next = 100;
    pollsched_poll_now(&ps, 200);
    assert_int_equal(ps.next, 100);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_waits),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_long_interval),
        cmocka_unit_test(test_poll_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
