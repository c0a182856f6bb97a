/*
 * procsys: see procsys.h.
 */

#include "procsys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Writes 'value' to PROCSYS_DIR/'name' in one write(2) (the kernel reads a
 * setting from a single write), retrying if a signal interrupts it.
 * Returns 0, or a positive errno value: that of open(2) or write(2),
 * ENAMETOOLONG if the file name does not fit PATH_MAX, EIO if the kernel
 * took only part of 'value'. */
int
procsys_write(const char *name, const char *value)
{
    char file[4096];
    int n = snprintf(file, sizeof file, PROCSYS_DIR "/%s", name);
    if (n < 0 || (size_t) n >= sizeof file) {
        return ENAMETOOLONG;
    }

    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
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
