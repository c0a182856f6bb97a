/*
 * runner: runs short-lived programs in the background for flowctl
 * (flowctl/trace runs `ovs-appctl ofproto/trace`, hostnet runs iptables),
 * so that the main loop never waits for one.
 *
 *   - the child is started by lib/subprocess.h: its stdin is /dev/null or,
 *     if the caller gives an input, a pipe the runner writes it to as the
 *     child reads; one pipe is its stdout and stderr; it has the
 *     environment of flowctl (PATH included), except that OVS_RUNDIR is the
 *     run directory given to runner_create(), so that ovs-appctl finds
 *     the ovs-vswitchd flowctl works with; no other file descriptor,
 *     default signal actions; it is looked up in PATH;
 *   - its output is kept up to RUNNER_MAX_OUTPUT bytes, or the maximum
 *     given to runner_start_max() (the rest is read and dropped, and the
 *     output ends with "(output truncated at N bytes)");
 *   - a child that has not exited 'timeout_ms' after it started is killed
 *     (SIGKILL), and its callback told so.
 *
 * Not thread-safe. */

#ifndef FLOWCTL_RUNNER_H
#define FLOWCTL_RUNNER_H 1

#include <stddef.h>

#define RUNNER_MAX_OUTPUT (1024 * 1024)

/* Called once per child: with 'error' NULL and 'status' its exit status
 * (as waitpid() reports it), or with 'error' saying why it has none (timed
 * out, flowctl exiting).  'output' is what it wrote so far.  Neither
 * string outlives the call. */
typedef void runner_cb(void *aux, int status, const char *output,
                       const char *error);

/* A runner whose children have OVS_RUNDIR set to 'ovs_rundir' (copied;
 * NULL: flowctl's own OVS_RUNDIR, as it was). */
struct runner *runner_create(const char *ovs_rundir);

/* Kills every child still running and ends it with an error. */
void runner_destroy(struct runner *);

/* Starts 'argv[0]' with arguments 'argv' (NULL-terminated), with 'input'
 * (copied; NULL: none, /dev/null) on its stdin.  A later runner_run() (or
 * runner_destroy()) calls 'cb' with 'aux' when it ends.  Returns 0, or an
 * errno value if it could not be started, e.g. ENOENT for a program not in
 * PATH (then 'cb' is never called). */
int runner_start(struct runner *, char *const argv[], const char *input,
                 int timeout_ms, runner_cb *cb, void *aux);

/* runner_start(), keeping up to 'max_output' bytes of the output instead
 * of RUNNER_MAX_OUTPUT. */
int runner_start_max(struct runner *, char *const argv[], const char *input,
                     int timeout_ms, size_t max_output, runner_cb *,
                     void *aux);

/* The target (`ovs-appctl -t TARGET`) that reaches the ovs-vswitchd whose
 * run directory is the runner's: "RUNDIR/ovs-vswitchd.ctl" if that socket
 * exists (BOSH's openvswitch job names it so), otherwise "ovs-vswitchd"
 * (ovs-appctl finds RUNDIR/ovs-vswitchd.PID.ctl by its pidfile).
 * Malloc'd. */
char *runner_vswitchd_target(const struct runner *);

void runner_run(struct runner *);
void runner_wait(struct runner *);

#endif /* runner.h */
