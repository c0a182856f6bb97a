/*
 * procsys: see procsys.h.
 */

#include "procsys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Opens PROCSYS_DIR/'name' with 'flags'.  Returns a file descriptor, or a
 * negative errno value: that of open(2), or ENAMETOOLONG if the file name
 * does not fit PATH_MAX. */
static int
procsys_open(const char *name, int flags)
{
    char file[4096];
    int n = snprintf(file, sizeof file, PROCSYS_DIR "/%s", name);
    if (n < 0 || (size_t) n >= sizeof file) {
        return -ENAMETOOLONG;
    }
    int fd = open(file, flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Writes 'value' to PROCSYS_DIR/'name' in one write(2) (the kernel reads a
 * setting from a single write), retrying if a signal interrupts it.
 * Returns 0, or a positive errno value: that of procsys_open() or
 * write(2), EIO if the kernel took only part of 'value'. */
int
procsys_write(const char *name, const char *value)
{
    int fd = procsys_open(name, O_WRONLY);
    if (fd < 0) {
        return -fd;
    }

    size_t len = strlen(value);
    ssize_t written;
    do {
        written = write(fd, value, len);
    } while (written < 0 && errno == EINTR);
    int error = (written < 0 ? errno
                 : (size_t) written != len ? EIO
                 : 0);
    close(fd);
    return error;
}

/* Is the value of PROCSYS_DIR/'name' 'value' (trailing newlines aside)? */
static bool
procsys_has(const char *name, const char *value)
{
    int fd = procsys_open(name, O_RDONLY);
    if (fd < 0) {
        return false;
    }
    char buf[256];
    ssize_t got;
    do {
        got = read(fd, buf, sizeof buf - 1);
    } while (got < 0 && errno == EINTR);
    close(fd);
    if (got < 0) {
        return false;
    }
    size_t len = got;
    while (len && buf[len - 1] == '\n') {
        len--;
    }
    size_t vlen = strlen(value);
    while (vlen && value[vlen - 1] == '\n') {
        vlen--;
    }
    return len == vlen && !memcmp(buf, value, len);
}

int
procsys_ensure(const char *name, const char *value)
{
    int error = procsys_write(name, value);
    if ((error == EROFS || error == EACCES || error == EPERM)
        && procsys_has(name, value)) {
        error = 0;
    }
    return error;
}
