/*
 * subprocess: the one way cni-ovs and flowctl start another program.
 *
 * cni-ovs runs the CNI IPAM plugin, flowctl runs ovs-appctl (flowctl/trace)
 * and iptables.  Each child gets exactly what subprocess_start() gives it, and
 * nothing of its parent's state:
 *
 *   - standard input: a pipe whose write end the caller gets
 *     ('stdin_pipe'), or /dev/null;
 *   - standard output: a pipe whose read end the caller gets;
 *   - standard error: a second pipe ('stderr_pipe'), or the same pipe as
 *     standard output;
 *   - no other file descriptor: every descriptor above 2 is closed in the
 *     child (close_range(), through posix_spawn's closefrom action), so a
 *     child never holds flowctl's sockets, pidfile lock or OpenFlow
 *     connection;
 *   - every signal at its default action and an empty signal mask (a
 *     daemon ignores SIGPIPE and blocks signals; its children must not
 *     inherit that), and no handler of the parent ever runs in the child
 *     (glibc leaves its two internal signals, 32 and 33, ignored: no
 *     program may use them);
 *   - the environment 'env', or the caller's.
 *
 * The child is made with posix_spawn() (clone with a shared address space
 * and exec: no copy of the parent's memory, which keeps cni-ovs ADD fast),
 * so a program that cannot be executed (missing, not executable) is
 * reported by subprocess_start() itself as an errno value, not as a child that
 * exits with status 127.
 *
 * The caller owns the returned descriptors (non-blocking, close-on-exec)
 * and the child: it reads the pipes, closes them, and reaps the child with
 * waitpid().  Writing to a child's stdin can raise SIGPIPE if the child
 * exits without reading: block or ignore it while writing.
 *
 * Thread safety: subprocess_start() may be called from any thread. */

#ifndef CFNET_SUBPROCESS_H
#define CFNET_SUBPROCESS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "compiler.h"

struct subprocess_opts {
    /* The program to execute.  NULL: argv[0], looked up in PATH when it
     * has no '/'. */
    const char *program;
    char *const *env;           /* NULL: the caller's environment. */
    bool stdin_pipe;            /* false: the child's stdin is /dev/null. */
    bool stderr_pipe;           /* false: stderr goes into stdout's pipe. */
};

/* A started child.  A descriptor the options did not ask for is -1. */
struct subprocess {
    pid_t pid;
    int in_fd;                  /* Write end of the child's stdin. */
    int out_fd;                 /* Read end of its stdout. */
    int err_fd;                 /* Read end of its stderr. */
};

/* Starts 'argv[0]' with arguments 'argv' (NULL-terminated) as 'opts' says
 * and stores it in '*child'.  Returns 0, or an errno value saying why it
 * could not be started (then '*child' is untouched and nothing is left to
 * clean up). */
int subprocess_start(char *const argv[], const struct subprocess_opts *opts,
                     struct subprocess *child) OVS_WARN_UNUSED_RESULT;

/* Writes to a child's stdin '*fd' (non-blocking, as subprocess_start()
 * returns it) as much of the 'len' bytes at 'data', from offset '*ofs', as
 * the pipe takes without blocking, and advances '*ofs'.  Closes '*fd' and
 * sets it to -1 once everything is written, or once the child stopped
 * reading (EPIPE or any other write error: the child's exit status tells
 * what happened).  Returns 0, or the errno value of such a write error,
 * for the caller to log. */
int subprocess_feed(int *fd, const char *data, size_t len, size_t *ofs);

#endif /* subprocess.h */
