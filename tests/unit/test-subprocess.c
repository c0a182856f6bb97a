/*
 * Tests of lib/subprocess.c: what a child gets from its parent.  Not pure
 * (it starts real programs: sh, cat), but quick and self-contained.
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "compiler.h"
#include "openvswitch/dynamic-string.h"
#include "subprocess.h"
#include "util.h"

/* Reads 'fd' to its end into 's' (non-blocking descriptor) and closes
 * it. */
static void
read_all(int fd, struct ds *s)
{
    for (;;) {
        char buf[512];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            ds_put_buffer(s, buf, n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            poll(&pfd, 1, 5000);
        } else {
            break;
        }
    }
    close(fd);
}

/* Runs 'script' with sh, its stderr into its stdout, and returns its
 * output (to free()) after it exited with status 0. */
static char *
run_sh(const char *script)
{
    char *argv[] = { "sh", "-c", CONST_CAST(char *, script), NULL };
    const struct subprocess_opts opts = { .stdin_pipe = false };
    struct subprocess child;
    struct ds out = DS_EMPTY_INITIALIZER;
    int status;

    assert_int_equal(subprocess_start(argv, &opts, &child), 0);
    assert_int_equal(child.in_fd, -1);
    assert_int_equal(child.err_fd, -1);
    read_all(child.out_fd, &out);
    assert_int_equal(waitpid(child.pid, &status, 0), child.pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return ds_steal_cstr(&out);
}

/* The child has 0, 1 and 2 and nothing else, whatever the parent has
 * open (not close-on-exec): its /proc/PID/fd, listed while it waits for
 * its stdin. */
static void
test_no_other_descriptors(void **state OVS_UNUSED)
{
    int fd = open("/dev/null", O_RDONLY);     /* Not close-on-exec. */
    int high = dup2(fd, 200);
    assert_true(fd > 2 && high == 200);

    char *argv[] = { "cat", NULL };
    const struct subprocess_opts opts = { .stdin_pipe = true };
    struct subprocess child;
    assert_int_equal(subprocess_start(argv, &opts, &child), 0);

    char *dir = xasprintf("/proc/%ld/fd", (long) child.pid);
    char *script = xasprintf("sleep 0.2; cd %s && echo *", dir);
    char *out = run_sh(script);
    assert_string_equal(out, "0 1 2\n");
    free(out);
    free(script);
    free(dir);

    int status;
    close(child.in_fd);
    struct ds rest = DS_EMPTY_INITIALIZER;
    read_all(child.out_fd, &rest);
    ds_destroy(&rest);
    assert_int_equal(waitpid(child.pid, &status, 0), child.pid);
    close(fd);
    close(high);
}

/* Ignored and blocked signals of the parent are not the child's. */
static void
test_default_signals(void **state OVS_UNUSED)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);

    /* glibc's posix_spawn() leaves its two internal signals (32 and 33,
     * below SIGRTMIN) ignored; no program may use them. */
    char *out = run_sh("grep -E '^Sig(Blk|Ign)' /proc/self/status");
    assert_string_equal(out, "SigBlk:\t0000000000000000\n"
                             "SigIgn:\t0000000180000000\n");
    free(out);

    signal(SIGPIPE, old_pipe);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* stdin through a pipe, stdout and stderr in their own pipes. */
static void
test_pipes(void **state OVS_UNUSED)
{
    char *argv[] = { "sh", "-c", "cat; echo oops >&2", NULL };
    const struct subprocess_opts opts = {
        .stdin_pipe = true,
        .stderr_pipe = true,
    };
    struct subprocess child;
    struct ds out = DS_EMPTY_INITIALIZER, err = DS_EMPTY_INITIALIZER;
    int status;

    assert_int_equal(subprocess_start(argv, &opts, &child), 0);
    assert_int_equal(write(child.in_fd, "hello\n", 6), 6);
    close(child.in_fd);
    read_all(child.out_fd, &out);
    read_all(child.err_fd, &err);
    assert_int_equal(waitpid(child.pid, &status, 0), child.pid);
    assert_string_equal(ds_cstr(&out), "hello\n");
    assert_string_equal(ds_cstr(&err), "oops\n");
    ds_destroy(&out);
    ds_destroy(&err);
}

/* A program that cannot be run is an error of subprocess_start(), not a
 * child that exits with 127. */
static void
test_exec_failure(void **state OVS_UNUSED)
{
    char *argv[] = { "cni-ovs-no-such-program", NULL };
    const struct subprocess_opts path = { .stdin_pipe = true };
    const struct subprocess_opts abs = { .program = "/nonexistent/prog" };
    char tmp[] = "/tmp/test-subprocess.XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0644), 0);
    close(fd);
    const struct subprocess_opts notexec = { .program = tmp };
    struct subprocess child = { .pid = 12345 };

    assert_int_equal(subprocess_start(argv, &path, &child), ENOENT);
    assert_int_equal(subprocess_start(argv, &abs, &child), ENOENT);
    assert_int_equal(subprocess_start(argv, &notexec, &child), EACCES);
    assert_int_equal(child.pid, 12345);         /* Untouched. */
    unlink(tmp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_other_descriptors),
        cmocka_unit_test(test_default_signals),
        cmocka_unit_test(test_pipes),
        cmocka_unit_test(test_exec_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
