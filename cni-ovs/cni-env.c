/*
 * cni-env: checks of the CNI_* environment.  See cni-env.h.
 */

#include <config.h>

#include "cni-env.h"

#include <ctype.h>
#include <string.h>

#include "util.h"

/* How much of a refused container id a message quotes. */
#define MAX_QUOTE 40

bool
cni_env_container_id_ok(const char *id)
{
    if (!id || !isalnum((unsigned char) id[0])
        || strlen(id) > CNI_CONTAINER_ID_MAX) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!isalnum((unsigned char) *p) && !strchr("_.-", *p)) {
            return false;
        }
    }
    return true;
}

bool
cni_env_ifname_ok(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (!len || len > CNI_IFNAME_MAX
        || !strcmp(name, ".") || !strcmp(name, "..")) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || isspace((unsigned char) *p)) {
            return false;
        }
    }
    return true;
}

/* Returns the error for container id 'id', which cni_env_container_id_ok()
 * refused. */
static char *
container_id_error(const char *id)
{
    size_t len = strlen(id);

    if (len > CNI_CONTAINER_ID_MAX) {
        return xasprintf("CNI_CONTAINERID: \"%.*s...\" has %"PRIuSIZE" "
                         "characters; cni-ovs takes at most %d (the host "
                         "veth's alias holds it)", MAX_QUOTE, id, len,
                         CNI_CONTAINER_ID_MAX);
    }
    return xasprintf("CNI_CONTAINERID: \"%s\" must match "
                     "[A-Za-z0-9][A-Za-z0-9_.-]*", id);
}

char *
cni_env_check(const struct cni_env *env)
{
    bool is_del = env->command && !strcmp(env->command, "DEL");

    if (!env->container_id) {
        return xstrdup("CNI_CONTAINERID: required");
    } else if (!cni_env_container_id_ok(env->container_id)) {
        return container_id_error(env->container_id);
    } else if (!env->ifname) {
        return xstrdup("CNI_IFNAME: required");
    } else if (!cni_env_ifname_ok(env->ifname)) {
        return xasprintf("CNI_IFNAME: \"%s\" is not a valid interface name",
                         env->ifname);
    } else if (!is_del && !env->netns) {
        return xstrdup("CNI_NETNS: required");
    } else if (!env->path) {
        return xstrdup("CNI_PATH: required");
    }
    return NULL;
}
