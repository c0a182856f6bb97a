/*
 * runner: background children with captured output.  See runner.h.
 *
 * A child's life: READING while its pipe is open (the main loop polls the
 * pipe); once the pipe reports end of file, REAPING until waitpid() has its
 * status (the child closes its output as it exits, so this is short; the
 * main loop polls every RUNNER_REAP_MS).  At the deadline, in either state,
 * it is killed and reaped.  OVS's process.c is not used: it gives the child
 * flowctl's own stdout and stderr.
 */

#include <config.h>

#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
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
    long long int deadline;
    int timeout_ms;
    struct ds output;
    bool truncated;
    runner_cb *cb;
    void *aux;
};

struct runner {
    struct ovs_list jobs;
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct runner *
runner_create(void)
{
    struct runner *r = xzalloc(sizeof *r);
    ovs_list_init(&r->jobs);
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
    if (job->truncated) {
        ds_put_format(&job->output, "\n(output truncated at %d bytes)\n",
                      RUNNER_MAX_OUTPUT);
    }
    job->cb(job->aux, status, ds_cstr(&job->output), error);
    ds_destroy(&job->output);
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
        free(r);
    }
}

/* In the child: never returns. */
static void OVS_NO_RETURN
exec_child(char *const argv[], int out_fd)
{
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
    }
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    close_range(STDERR_FILENO + 1, ~0U, 0);
    execvp(argv[0], argv);

    /* Into the pipe: the caller shows it. */
    char msg[256];
    int n = snprintf(msg, sizeof msg, "%s: cannot run: %s\n", argv[0],
                     strerror(errno));
    if (n > 0 && write(STDERR_FILENO, msg, MIN(n, (int) sizeof msg - 1))) {
        /* Nothing more to do. */
    }
    _exit(127);
}

int
runner_start(struct runner *r, char *const argv[], int timeout_ms,
             runner_cb *cb, void *aux)
{
    int fds[2];

    if (pipe2(fds, O_CLOEXEC)) {
        return errno;
    }

    /* As OVS's process_start() does: no fatal signal handler runs in the
     * child before it execs (it would remove flowctl's pidfile). */
    sigset_t prev_mask;
    fatal_signal_block(&prev_mask);
    pid_t pid = fork();
    if (!pid) {
        fatal_signal_fork();
        sigprocmask(SIG_SETMASK, &prev_mask, NULL);
        exec_child(argv, fds[1]);
    }
    int error = pid < 0 ? errno : 0;
    sigprocmask(SIG_SETMASK, &prev_mask, NULL);
    close(fds[1]);
    if (error) {
        close(fds[0]);
        return error;
    }
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK)) {
        VLOG_WARN_RL(&rl, "fcntl: %s", ovs_strerror(errno));
    }

    struct runner_job *job = xzalloc(sizeof *job);
    job->name = xstrdup(argv[0]);
    job->pid = pid;
    job->fd = fds[0];
    job->timeout_ms = timeout_ms;
    job->deadline = time_msec() + timeout_ms;
    ds_init(&job->output);
    job->cb = cb;
    job->aux = aux;
    ovs_list_push_back(&r->jobs, &job->node);
    VLOG_DBG("started %s (pid %ld)", job->name, (long) pid);
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
            size_t room = RUNNER_MAX_OUTPUT - MIN(job->output.length,
                                                  RUNNER_MAX_OUTPUT);
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

void
runner_run(struct runner *r)
{
    long long int now = time_msec();
    struct runner_job *job;

    LIST_FOR_EACH_SAFE (job, node, &r->jobs) {
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
        if (job->fd >= 0) {
            poll_fd_wait(job->fd, POLLIN);
        } else {
            poll_timer_wait(RUNNER_REAP_MS);
        }
        poll_timer_wait_until(job->deadline);
    }
}
