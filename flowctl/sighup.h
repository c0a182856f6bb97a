/*
 * sighup: SIGHUP as a request to reopen log files (logrotate's
 * "postrotate" sends it), not a reason to exit.
 *
 * OVS's fatal-signal module treats SIGHUP like SIGTERM, but installs its
 * handler only over SIG_DFL (lib/fatal-signal.c, fatal_signal_init()).
 * sighup_init() installs ours first, so call it at the top of main(),
 * before anything that initializes fatal-signal (service_start(),
 * daemonize, unixctl...).  The handler only sets a latch, which is
 * async-signal-safe; the main loop asks:
 *
 *     sighup_init();
 *     ...
 *     for (;;) {
 *         if (sighup_poll()) {
 *             ...reopen...
 *         }
 *         ...
 *         sighup_wait();
 *         poll_block();
 *     }
 *
 * Several signals before a sighup_poll() count as one.  For the main
 * thread only.
 */

#ifndef FLOWCTL_SIGHUP_H
#define FLOWCTL_SIGHUP_H 1

#include <stdbool.h>

void sighup_init(void);
bool sighup_poll(void);
void sighup_wait(void);

#endif /* sighup.h */
