/*
 * cni-ovs: the CNI plugin that puts a Cloud Foundry container on the cell's
 * Open vSwitch bridge.
 *
 * Called by garden-external-networker (through libcni) once per container
 * and command, with the CNI_* environment and the network config on stdin.
 * stdout carries only the CNI result or CNI error object; diagnostics go to
 * stderr through vlog.  See docs/architecture.md for the whole ADD and DEL
 * sequence and docs/configuration.md for the config.
 */

#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "netconf.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "result.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cni_ovs);

/* CNI error codes used here (CNI SPEC.md, "Error").  */
#define CODE_BAD_ENV 4
#define CODE_IO 5

/* Largest stdin document accepted: a 1,000-rule ASG is ~200 kB. */
#define MAX_STDIN (16 * 1024 * 1024)

static void
print_error(const char *version, int code, const char *msg)
{
    char *json = cni_error_to_json(version, code, msg, NULL);
    fputs(json, stdout);
    fflush(stdout);
    free(json);
}

/* Reads all of stdin into a malloc'd, null-terminated buffer. */
static char *
read_stdin(size_t *lenp, char **errorp)
{
    struct ds buf = DS_EMPTY_INITIALIZER;
    char chunk[65536];
    size_t n;

    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        ds_put_buffer(&buf, chunk, n);
        if (buf.length > MAX_STDIN) {
            ds_destroy(&buf);
            *errorp = xasprintf("stdin: network config larger than %d bytes",
                                MAX_STDIN);
            return NULL;
        }
    }
    if (ferror(stdin)) {
        ds_destroy(&buf);
        *errorp = xasprintf("stdin: read error (%s)", ovs_strerror(errno));
        return NULL;
    }
    *lenp = buf.length;
    return ds_steal_cstr(&buf);
}

/* CNI_CONTAINERID must match [A-Za-z0-9][A-Za-z0-9_.-]* (CNI SPEC.md). */
static bool
valid_container_id(const char *id)
{
    if (!id || !isalnum((unsigned char) id[0])) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!isalnum((unsigned char) *p) && !strchr("_.-", *p)) {
            return false;
        }
    }
    return true;
}

/* An interface name the kernel accepts: 1..15 bytes, no '/', ':' or
 * whitespace, not "." or "..". */
static bool
valid_ifname(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (!len || len > 15 || !strcmp(name, ".") || !strcmp(name, "..")) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || isspace((unsigned char) *p)) {
            return false;
        }
    }
    return true;
}

static const char *
getenv_nonempty(const char *name)
{
    const char *value = getenv(name);
    return value && value[0] ? value : NULL;
}

/* Reads and checks the CNI_* variables 'command' needs.  Returns an error
 * naming the variable, or NULL. */
static char *
read_env(const char *command, struct cni_env *env)
{
    bool is_del = !strcmp(command, "DEL");

    env->command = command;
    env->container_id = getenv_nonempty("CNI_CONTAINERID");
    env->netns = getenv_nonempty("CNI_NETNS");
    env->ifname = getenv_nonempty("CNI_IFNAME");
    env->path = getenv_nonempty("CNI_PATH");

    if (!env->container_id) {
        return xstrdup("CNI_CONTAINERID: required");
    } else if (!valid_container_id(env->container_id)) {
        return xasprintf("CNI_CONTAINERID: \"%s\" must match "
                         "[A-Za-z0-9][A-Za-z0-9_.-]*", env->container_id);
    } else if (!env->ifname) {
        return xstrdup("CNI_IFNAME: required");
    } else if (!valid_ifname(env->ifname)) {
        return xasprintf("CNI_IFNAME: \"%s\" is not a valid interface name",
                         env->ifname);
    } else if (!is_del && !env->netns) {
        return xstrdup("CNI_NETNS: required");
    } else if (!env->path) {
        return xstrdup("CNI_PATH: required");
    }
    return NULL;
}

static int
do_version(void)
{
    size_t len;
    char *error = NULL;
    char *text = read_stdin(&len, &error);
    char *version = text ? netconf_peek_version(text, len) : NULL;
    char *reply = cni_version_reply(version);

    fputs(reply, stdout);
    free(reply);
    free(version);
    free(text);
    free(error);
    return 0;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    /* Diagnostics to stderr at WARN and above; stdout is the result. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    /* Operators can raise it, e.g. CNI_OVS_VLOG=dbg or celldb:dbg. */
    const char *verbosity = getenv("CNI_OVS_VLOG");
    if (verbosity && verbosity[0]) {
        char *error = vlog_set_levels_from_string(verbosity);
        if (error) {
            VLOG_WARN("CNI_OVS_VLOG: %s", error);
            free(error);
        }
    }
    if (argc > 1 && !strcmp(argv[1], "--version")) {
        printf("cni-ovs (CNI plugin, Open vSwitch %s)\n", VERSION);
        return 0;
    }

    const char *command = getenv_nonempty("CNI_COMMAND");
    if (!command) {
        print_error(NULL, CODE_BAD_ENV, "CNI_COMMAND: required");
        return 1;
    }
    if (!strcmp(command, "VERSION")) {
        return do_version();
    }

    char *(*handler)(const struct cni_env *, const struct netconf *,
                     char **, int *);
    if (!strcmp(command, "ADD")) {
        handler = cmd_add;
    } else if (!strcmp(command, "DEL")) {
        handler = cmd_del;
    } else if (!strcmp(command, "CHECK")) {
        handler = cmd_check;
    } else {
        char *msg = xasprintf("CNI_COMMAND: unknown command \"%s\"",
                              command);
        print_error(NULL, CODE_BAD_ENV, msg);
        free(msg);
        return 1;
    }

    size_t len = 0;
    char *error = NULL;
    char *text = read_stdin(&len, &error);
    if (!text) {
        print_error(NULL, CODE_IO, error);
        free(error);
        return 1;
    }

    struct netconf nc;
    int code = 0;
    error = netconf_parse(text, len, &nc, &code);
    free(text);
    if (error) {
        print_error(NULL, code, error);
        free(error);
        return 1;
    }

    struct cni_env env;
    error = read_env(command, &env);
    if (error) {
        code = CODE_BAD_ENV;
    } else {
        char *out = NULL;
        error = handler(&env, &nc, &out, &code);
        if (!error && out) {
            fputs(out, stdout);
            fflush(stdout);
        }
        free(out);
    }

    int status = 0;
    if (error) {
        VLOG_DBG("%s %s failed (code %d): %s", command,
                 env.container_id ? env.container_id : "?", code, error);
        print_error(nc.version_string, code, error);
        free(error);
        status = 1;
    }
    netconf_destroy(&nc);
    return status;
}
