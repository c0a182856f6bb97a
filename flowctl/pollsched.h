/*
 * pollsched: when to poll next, for one kind of periodic fetch (the policy
 * server's policies or its security groups, policysync.h).  Pure: the time
 * and the random numbers are arguments, so tests can script it, as OVS's
 * reconnect.h.
 *
 * After a success, the next poll is due after a wait drawn uniformly from
 * [interval / 2, interval]: cells that started together drift apart
 * instead of polling in step, and no wait is longer than one interval.
 *
 * After 'n' failures in a row, the wait is drawn uniformly from
 * [interval / 2, ceiling], the ceiling being interval * 2^n, capped at
 * POLLSCHED_MAX_BACKOFF_MS (but never below the interval itself): an
 * exponential backoff with full jitter, so that a server that comes back
 * is not met by every cell at once.
 *
 * pollsched_poll_now() makes the next poll due at once (something local
 * changed, or an operator asked); it does not reset the backoff.
 *
 * Not thread-safe (a plain struct owned by its caller). */

#ifndef FLOWCTL_POLLSCHED_H
#define FLOWCTL_POLLSCHED_H 1

#include <stdbool.h>
#include <stdint.h>

#define POLLSCHED_MAX_BACKOFF_MS 30000

struct pollsched {
    long long int interval_ms;  /* At least 2. */
    unsigned int n_failures;    /* In a row. */
    long long int next;         /* When the next poll is due (msec). */
    long long int last_wait_ms; /* The wait drawn last (for status). */
};

/* Initializes 'ps' for 'interval_ms' with the first poll due at 'now'. */
void pollsched_init(struct pollsched *ps, long long int interval_ms,
                    long long int now);

/* A poll finished at 'now', well or not; 'random' is a uniformly
 * distributed 32-bit random number.  Schedules the next one. */
void pollsched_success(struct pollsched *ps, long long int now,
                       uint32_t random);
void pollsched_failure(struct pollsched *ps, long long int now,
                       uint32_t random);

/* Makes the next poll due at 'now' (unless it is due earlier). */
void pollsched_poll_now(struct pollsched *ps, long long int now);

/* Is a poll due at 'now'? */
bool pollsched_due(const struct pollsched *ps, long long int now);

/* The longest wait the current state can draw: the interval after a
 * success, the backoff's ceiling after failures. */
long long int pollsched_ceiling(const struct pollsched *ps);

#endif /* pollsched.h */
