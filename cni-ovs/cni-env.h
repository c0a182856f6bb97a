/*
 * cni-env: the CNI_* environment of a cni-ovs call, and its checks.
 *
 * main.c fills a 'struct cni_env' from the environment and calls
 * cni_env_check() before anything else happens: a value that could never
 * work (a container id too long for the host veth's alias, an interface
 * name the kernel refuses, a missing variable) is refused there, with a
 * message that names the variable, as CNI error CNI_ERR_INVALID_ENV
 * (result.h), instead of failing half-way through ADD.
 *
 * Pure: no I/O.  Whether CNI_NETNS names a network namespace is an I/O
 * question; main.c asks plumb_netns_check() right after cni_env_check().
 *
 * Thread-safety: none needed (no state). */

#ifndef CNI_OVS_CNI_ENV_H
#define CNI_OVS_CNI_ENV_H 1

#include <stdbool.h>

#include "compiler.h"

/* The CNI_* environment variables (pointers into the environment; NULL
 * when unset or empty). */
struct cni_env {
    const char *command;        /* CNI_COMMAND: "ADD", "DEL" or "CHECK". */
    const char *container_id;   /* CNI_CONTAINERID. */
    const char *netns;          /* CNI_NETNS (may be NULL for DEL). */
    const char *ifname;         /* CNI_IFNAME. */
    const char *path;           /* CNI_PATH. */
};

/* The longest CNI_CONTAINERID cni-ovs takes.  The container id becomes the
 * host veth's ifalias, so that DEL can tell the link is the container's;
 * the kernel keeps at most IFALIASZ - 1 = 255 bytes there and counts the
 * null byte that libnl sends with the string. */
#define CNI_CONTAINER_ID_MAX 254

/* Checks 'env' for command 'env->command' (CNI_NETNS may be missing for
 * DEL only).  Returns NULL if it is valid, otherwise a malloc'd message
 * that starts with the variable's name, e.g. "CNI_IFNAME: required". */
char *cni_env_check(const struct cni_env *env) OVS_WARN_UNUSED_RESULT;

/* Whether 'id' is a CNI container id cni-ovs takes: 1 to
 * CNI_CONTAINER_ID_MAX characters of [A-Za-z0-9_.-], the first one
 * alphanumeric (the CNI spec's pattern). */
bool cni_env_container_id_ok(const char *id);

/* The longest interface name (IFNAMSIZ - 1). */
#define CNI_IFNAME_MAX 15

/* Whether 'name' is an interface name the kernel accepts: 1 to
 * CNI_IFNAME_MAX bytes, no '/', ':' or whitespace, not "." or "..".
 * (netconf.c checks "bridge" with it too.) */
bool cni_env_ifname_ok(const char *name);

#endif /* cni-env.h */
