/*
 * runner: background children with captured output.  See runner.h.
 *
 * A child's life: READING while its pipe is open (the main loop polls the
 * pipe); once the pipe reports end of file, REAPING until waitpid() has its
 * status (the child closes its output as it exits, so this is short; the
 * main loop polls every RUNNER_REAP_MS).  At the deadline, in either state,
 * it is killed and reaped.  The child is started by lib/subprocess.c (OVS's
 * process.c is not used: it gives the child flowctl's own stdout and
 * stderr).  Its input, if any, is written as the pipe takes it, in the
 * same loop.
 */

#include <config.h>

#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dirs.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "subprocess.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(runner);

/* How often a child whose output has ended is checked for its exit. */
#define RUNNER_REAP_MS 10

struct runner_job {
    struct ovs_list node;       /* In runner's 'jobs'. */
    char *name;                 /* argv[0], for logs. */
    pid_t pid;
    int fd;                     /* Read end of the pipe, -1 once at EOF. */
    int in_fd;                  /* Its stdin, -1 once all is written. */
    char *input;                /* What it gets on stdin, or NULL. */
    size_t in_len, in_ofs;      /* Its length, how much is written. */
    long long int deadline;
    int timeout_ms;
    struct ds output;
    size_t max_output;          /* Kept of it; the rest is dropped. */
    bool truncated;
    runner_cb *cb;
    void *aux;
};

struct runner {
    struct ovs_list jobs;
    char **env;                 /* The children's; NULL: flowctl's. */
    char *ovs_rundir;           /* Their OVS_RUNDIR. */
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct runner *
runner_create(const char *rundir)
{
    struct runner *r = xzalloc(sizeof *r);
    ovs_list_init(&r->jobs);
    r->ovs_rundir = xstrdup(rundir ? rundir : ovs_rundir());
    if (rundir) {
        /* flowctl's environment, with OVS_RUNDIR replaced. */
        size_t n = 0;
        while (environ[n]) {
            n++;
        }
        r->env = xcalloc(n + 2, sizeof *r->env);
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            if (strncmp(environ[i], "OVS_RUNDIR=", 11)) {
                r->env[j++] = xstrdup(environ[i]);
            }
        }
        r->env[j] = xasprintf("OVS_RUNDIR=%s", rundir);
    }
    return r;
}

/* Ends 'job': calls its callback and frees it.  The child must be reaped
 * already. */
static void
job_finish(struct runner_job *job, int status, const char *error)
{
    ovs_list_remove(&job->node);
    if (job->fd >= 0) {
        close(job->fd);
    }
    if (job->in_fd >= 0) {
        close(job->in_fd);
    }
    if (job->truncated) {
        ds_put_format(&job->output, "\n(output truncated at %"PRIuSIZE
                      " bytes)\n", job->max_output);
    }
    job->cb(job->aux, status, ds_cstr(&job->output), error);
    ds_destroy(&job->output);
    free(job->input);
    free(job->name);
    free(job);
}

/* Kills 'job''s child, reaps it and ends the job with 'error'. */
static void
job_kill(struct runner_job *job, const char *error)
{
    int status;

    kill(job->pid, SIGKILL);
    while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    job_finish(job, -1, error);
}

void
runner_destroy(struct runner *r)
{
    if (r) {
        struct runner_job *job;
        LIST_FOR_EACH_SAFE (job, node, &r->jobs) {
            job_kill(job, "flowctl is exiting");
        }
        for (char **e = r->env; e && *e; e++) {
            free(*e);
        }
        free(r->env);
        free(r->ovs_rundir);
        free(r);
    }
}

/* Writes as much of 'job''s input as its child takes without blocking;
 * closes its stdin once all is written, or when the child stopped reading
 * (its exit status tells what happened).  flowctl ignores SIGPIPE. */
static void
job_write(struct runner_job *job)
{
    int error = subprocess_feed(&job->in_fd, job->input, job->in_len,
                                &job->in_ofs);
    if (error) {
        VLOG_DBG("%s (pid %ld): write: %s", job->name, (long) job->pid,
                 ovs_strerror(error));
    }
}

int
runner_start(struct runner *r, char *const argv[], const char *input,
             int timeout_ms, runner_cb *cb, void *aux)
{
    return runner_start_max(r, argv, input, timeout_ms, RUNNER_MAX_OUTPUT,
                            cb, aux);
}

int
runner_start_max(struct runner *r, char *const argv[], const char *input,
                 int timeout_ms, size_t max_output, runner_cb *cb, void *aux)
{
    const struct subprocess_opts opts = {
        .env = r->env,
        .stdin_pipe = input != NULL,
    };
    struct subprocess child;

    int error = subprocess_start(argv, &opts, &child);
    if (error) {
        return error;
    }

    struct runner_job *job = xzalloc(sizeof *job);
    job->name = xstrdup(argv[0]);
    job->pid = child.pid;
    job->fd = child.out_fd;
    job->in_fd = child.in_fd;
    job->input = nullable_xstrdup(input);
    job->in_len = input ? strlen(input) : 0;
    job->timeout_ms = timeout_ms;
    job->deadline = time_msec() + timeout_ms;
    ds_init(&job->output);
    job->max_output = max_output;
    job->cb = cb;
    job->aux = aux;
    ovs_list_push_back(&r->jobs, &job->node);
    VLOG_DBG("started %s (pid %ld)", job->name, (long) child.pid);
    job_write(job);
    return 0;
}

/* Reads what 'job''s child has written; closes the pipe at EOF. */
static void
job_read(struct runner_job *job)
{
    for (;;) {
        char buf[4096];
        ssize_t n = read(job->fd, buf, sizeof buf);
        if (n > 0) {
            size_t room = job->max_output - MIN(job->output.length,
                                                job->max_output);
            ds_put_buffer(&job->output, buf, MIN(room, (size_t) n));
            job->truncated |= room < (size_t) n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n == 0 || errno != EAGAIN) {
                if (n < 0) {
                    VLOG_WARN_RL(&rl, "%s (pid %ld): read: %s", job->name,
                                 (long) job->pid, ovs_strerror(errno));
                }
                close(job->fd);
                job->fd = -1;
            }
            return;
        }
    }
}

char *
runner_vswitchd_target(const struct runner *r)
{
    char *ctl = xasprintf("%s/ovs-vswitchd.ctl", r->ovs_rundir);
    struct stat st;
    if (stat(ctl, &st) || !S_ISSOCK(st.st_mode)) {
        free(ctl);
        ctl = xstrdup("ovs-vswitchd");
    }
    return ctl;
}

void
runner_run(struct runner *r)
{
    long long int now = time_msec();
    struct runner_job *job;

    LIST_FOR_EACH_SAFE (job, node, &r->jobs) {
        job_write(job);
        if (job->fd >= 0) {
            job_read(job);
        }
        if (job->fd < 0) {
            int status;
            pid_t pid = waitpid(job->pid, &status, WNOHANG);
            if (pid == job->pid) {
                VLOG_DBG("%s (pid %ld) ended: status %d", job->name,
                         (long) job->pid, status);
                job_finish(job, status, NULL);
                continue;
            } else if (pid < 0 && errno != EINTR) {
                /* Cannot happen for a child of ours; do not spin. */
                VLOG_WARN_RL(&rl, "%s (pid %ld): waitpid: %s", job->name,
                             (long) job->pid, ovs_strerror(errno));
                job_finish(job, -1, "its exit status is unknown");
                continue;
            }
        }
        if (now >= job->deadline) {
            VLOG_WARN_RL(&rl, "%s (pid %ld) still running after %d ms: "
                         "killed", job->name, (long) job->pid,
                         job->timeout_ms);
            char *error = xasprintf("%s did not finish in %d ms", job->name,
                                    job->timeout_ms);
            job_kill(job, error);
            free(error);
        }
    }
}

void
runner_wait(struct runner *r)
{
    struct runner_job *job;

    LIST_FOR_EACH (job, node, &r->jobs) {
        if (job->in_fd >= 0) {
            poll_fd_wait(job->in_fd, POLLOUT);
        }
        if (job->fd >= 0) {
            poll_fd_wait(job->fd, POLLIN);
        } else {
            poll_timer_wait(RUNNER_REAP_MS);
        }
        poll_timer_wait_until(job->deadline);
    }
}
