/*
 * runner: runs short-lived programs in the background for flowctl's
 * operator commands (flowctl/trace runs `ovs-appctl ofproto/trace`), so
 * that the main loop never waits for one.
 *
 *   - the child gets /dev/null as stdin and one pipe as stdout and stderr,
 *     the environment of flowctl (OVS_RUNDIR included) and no other file
 *     descriptor; it is looked up in PATH;
 *   - its output is kept up to RUNNER_MAX_OUTPUT bytes (the rest is read
 *     and dropped);
 *   - a child that has not exited 'timeout_ms' after it started is killed
 *     (SIGKILL), and its callback told so.
 *
 * Not thread-safe. */

#ifndef FLOWCTL_RUNNER_H
#define FLOWCTL_RUNNER_H 1

#define RUNNER_MAX_OUTPUT (1024 * 1024)

/* Called once per child: with 'error' NULL and 'status' its exit status
 * (as waitpid() reports it), or with 'error' saying why it has none (timed
 * out, flowctl exiting).  'output' is what it wrote so far.  Neither
 * string outlives the call. */
typedef void runner_cb(void *aux, int status, const char *output,
                       const char *error);

struct runner *runner_create(void);

/* Kills every child still running and ends it with an error. */
void runner_destroy(struct runner *);

/* Starts 'argv[0]' with arguments 'argv' (NULL-terminated).  A later
 * runner_run() (or runner_destroy()) calls 'cb' with 'aux' when it ends.
 * Returns 0, or an errno value if it could not be started (then 'cb' is
 * never called). */
int runner_start(struct runner *, char *const argv[], int timeout_ms,
                 runner_cb *cb, void *aux);

void runner_run(struct runner *);
void runner_wait(struct runner *);

#endif /* runner.h */
