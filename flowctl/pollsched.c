/*
 * pollsched: when to poll next.  See pollsched.h.
 */

#include <config.h>

#include "pollsched.h"

#include "util.h"

void
pollsched_init(struct pollsched *ps, long long int interval_ms,
               long long int now)
{
    ps->interval_ms = MAX(interval_ms, 2);
    ps->n_failures = 0;
    ps->next = now;
    ps->last_wait_ms = 0;
}

long long int
pollsched_ceiling(const struct pollsched *ps)
{
    long long int ceiling = ps->interval_ms;

    /* Doubles until past the cap; no shift can overflow. */
    for (unsigned int i = 0; i < ps->n_failures
                             && ceiling < POLLSCHED_MAX_BACKOFF_MS; i++) {
        ceiling *= 2;
    }
    if (ps->n_failures && ceiling > POLLSCHED_MAX_BACKOFF_MS) {
        ceiling = MAX(POLLSCHED_MAX_BACKOFF_MS, ps->interval_ms);
    }
    return ceiling;
}

/* Schedules the next poll after a wait drawn from [interval / 2,
 * ceiling]. */
static void
schedule(struct pollsched *ps, long long int now, uint32_t random)
{
    long long int lo = ps->interval_ms / 2;
    long long int span = pollsched_ceiling(ps) - lo + 1;

    ps->last_wait_ms = lo + (long long int) (random % (uint64_t) span);
    ps->next = now + ps->last_wait_ms;
}

void
pollsched_success(struct pollsched *ps, long long int now, uint32_t random)
{
    ps->n_failures = 0;
    schedule(ps, now, random);
}

void
pollsched_failure(struct pollsched *ps, long long int now, uint32_t random)
{
    if (ps->n_failures < UINT_MAX) {
        ps->n_failures++;
    }
    schedule(ps, now, random);
}

void
pollsched_poll_now(struct pollsched *ps, long long int now)
{
    ps->next = MIN(ps->next, now);
}

bool
pollsched_due(const struct pollsched *ps, long long int now)
{
    return now >= ps->next;
}
