/*
 * subprocess: starting a child program.  See subprocess.h.
 *
 * posix_spawn() does the work in the child: dup2() of the pipe ends onto 0,
 * 1 and 2, closefrom(3), default signal actions, the signal mask, exec.
 * glibc blocks every signal in the parent around its clone(), so none of
 * the parent's handlers (OVS's fatal-signal handlers, which would remove
 * flowctl's pidfile) runs in the child, and it reports an exec failure to
 * the parent through the shared address space.
 */

#include <config.h>

#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

extern char **environ;

/* Makes 'fd' a descriptor above 2 (so that no dup2() onto 0, 1 or 2 in the
 * child can clobber it before it is used), close-on-exec.  Returns the
 * descriptor, or -1 with errno set (then 'fd' is closed). */
static int
fd_above_stdio(int fd)
{
    if (fd > STDERR_FILENO) {
        return fd;
    }
    int high = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int error = errno;
    close(fd);
    errno = error;
    return high;
}

/* Creates a close-on-exec pipe whose ends are both above 2.  Returns 0 or
 * an errno value. */
static int
make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC)) {
        return errno;
    }
    for (int i = 0; i < 2; i++) {
        fds[i] = fd_above_stdio(fds[i]);
        if (fds[i] < 0) {
            int error = errno;
            if (fds[!i] >= 0) {
                close(fds[!i]);
            }
            return error;
        }
    }
    return 0;
}

static void
close_pipe(int fds[2])
{
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

static void
set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK)) {
        /* Cannot fail on a pipe; a blocking end would only be slower. */
    }
}

/* Sets up 'fa' and 'attr' for a child with 'in', 'out' and 'err' (pipe
 * ends, or -1 for in: /dev/null) as its standard descriptors.  Returns 0
 * or an errno value. */
static int
subprocess_prepare(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr,
              int in, int out, int err)
{
    int error;

    error = (in >= 0
             ? posix_spawn_file_actions_adddup2(fa, in, STDIN_FILENO)
             : posix_spawn_file_actions_addopen(fa, STDIN_FILENO,
                                                "/dev/null", O_RDONLY, 0));
    if (!error) {
        error = posix_spawn_file_actions_adddup2(fa, out, STDOUT_FILENO);
    }
    if (!error) {
        error = posix_spawn_file_actions_adddup2(fa, err, STDERR_FILENO);
    }
    if (!error) {
        error = posix_spawn_file_actions_addclosefrom_np(fa,
                                                         STDERR_FILENO + 1);
    }
    if (error) {
        return error;
    }

    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    error = posix_spawnattr_setsigdefault(attr, &all);
    if (!error) {
        error = posix_spawnattr_setsigmask(attr, &none);
    }
    if (!error) {
        error = posix_spawnattr_setflags(attr, (POSIX_SPAWN_SETSIGDEF
                                                | POSIX_SPAWN_SETSIGMASK));
    }
    return error;
}

int
subprocess_start(char *const argv[], const struct subprocess_opts *opts,
            struct subprocess *child)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int error;

    error = make_pipe(out);
    if (!error && opts->stdin_pipe) {
        error = make_pipe(in);
    }
    if (!error && opts->stderr_pipe) {
        error = make_pipe(err);
    }
    if (error) {
        goto out_pipes;
    }

    error = posix_spawn_file_actions_init(&fa);
    if (error) {
        goto out_pipes;
    }
    error = posix_spawnattr_init(&attr);
    if (error) {
        goto out_fa;
    }
    error = subprocess_prepare(&fa, &attr, in[0], out[1],
                          opts->stderr_pipe ? err[1] : out[1]);
    if (!error) {
        char *const *env = opts->env ? opts->env : environ;
        pid_t pid;
        error = (opts->program
                 ? posix_spawn(&pid, opts->program, &fa, &attr, argv, env)
                 : posix_spawnp(&pid, argv[0], &fa, &attr, argv, env));
        if (!error) {
            child->pid = pid;
        }
    }
    posix_spawnattr_destroy(&attr);
out_fa:
    posix_spawn_file_actions_destroy(&fa);
out_pipes:
    if (error) {
        close_pipe(in);
        close_pipe(out);
        close_pipe(err);
        return error;
    }

    /* The child's ends are its own now. */
    if (in[0] >= 0) {
        close(in[0]);
    }
    close(out[1]);
    if (err[1] >= 0) {
        close(err[1]);
    }
    child->in_fd = in[1];
    child->out_fd = out[0];
    child->err_fd = err[0];
    for (int i = 0; i < 3; i++) {
        int fd = i == 0 ? child->in_fd : i == 1 ? child->out_fd
                                                 : child->err_fd;
        if (fd >= 0) {
            set_nonblocking(fd);
        }
    }
    return 0;
}

int
subprocess_feed(int *fd, const char *data, size_t len, size_t *ofs)
{
    int error = 0;

    while (*fd >= 0) {
        ssize_t n = *ofs < len ? write(*fd, data + *ofs, len - *ofs) : 0;
        if (n > 0) {
            *ofs += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return 0;
        } else if (n < 0) {
            error = errno;
        }
        if (n <= 0 || *ofs >= len) {
            close(*fd);
            *fd = -1;
        }
    }
    return error;
}
