/*
 * sighup: SIGHUP as a request.  See sighup.h.
 */

#include <config.h>

#include "sighup.h"

#include <signal.h>
#include <string.h>

#include "latch.h"
#include "signals.h"

static struct latch hup_latch;

static void
hup_handler(int signr OVS_UNUSED)
{
    latch_set(&hup_latch);
}

void
sighup_init(void)
{
    struct sigaction sa;

    latch_init(&hup_latch);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = hup_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    xsigaction(SIGHUP, &sa, NULL);
}

bool
sighup_poll(void)
{
    return latch_poll(&hup_latch);
}

void
sighup_wait(void)
{
    latch_wait(&hup_latch);
}
