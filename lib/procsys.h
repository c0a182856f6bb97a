/*
 * procsys: writing kernel settings under /proc/sys, the one way cni-ovs and
 * flowctl do it.
 *
 * procsys_write("net/ipv4/ip_forward", "1\n") writes the setting of the
 * network namespace the calling thread is in when it calls (settings under
 * /proc/sys/net belong to the namespace of whoever opens them, so a caller
 * that wants another namespace enters it first, e.g. with setns()).  It
 * returns 0 or a positive errno value, and logs nothing: the caller names
 * the setting in its own message (PROCSYS_DIR "/" NAME is the file) and
 * decides what an error means.  ENOENT says the kernel has no such setting
 * (IPv6 turned off, an interface that is gone).
 *
 * Thread-safe: no state of its own.
 */

#ifndef CFNET_PROCSYS_H
#define CFNET_PROCSYS_H 1

#define PROCSYS_DIR "/proc/sys"

int procsys_write(const char *name, const char *value);

/* procsys_write(), except that a setting that cannot be written (EROFS,
 * EACCES, EPERM: /proc/sys read-only, as in a runc container such as
 * bpm's without privileged) but already has 'value' (trailing newlines
 * aside) is a success: someone with the right to (the job's pre-start) set
 * it before. */
int procsys_ensure(const char *name, const char *value);

#endif /* procsys.h */
