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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cni-env.h"
#include "netconf.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "plumb.h"
#include "result.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cni_ovs);

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

static const char *
getenv_nonempty(const char *name)
{
    const char *value = getenv(name);
    return value && value[0] ? value : NULL;
}

/* Reads the CNI_* variables into 'env' and checks them for 'command',
 * before anything is touched: for ADD and CHECK, CNI_NETNS must be a
 * network namespace.  Returns an error naming the variable, or NULL. */
static char *
read_env(const char *command, struct cni_env *env)
{
    env->command = command;
    env->container_id = getenv_nonempty("CNI_CONTAINERID");
    env->netns = getenv_nonempty("CNI_NETNS");
    env->ifname = getenv_nonempty("CNI_IFNAME");
    env->path = getenv_nonempty("CNI_PATH");

    char *error = cni_env_check(env);
    if (!error && strcmp(command, "DEL")) {
        /* DEL tolerates a namespace that is gone (CNI SPEC.md). */
        char *ns_error = plumb_netns_check(env->netns);
        if (ns_error) {
            error = xasprintf("CNI_NETNS: %s", ns_error);
            free(ns_error);
        }
    }
    return error;
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

/* Checks one plugin configuration 'plugin' as netconf_parse() would take
 * it: returns NULL or a malloc'd error. */
static char *
check_plugin(json_t *plugin)
{
    char *text = json_dumps(plugin, JSON_COMPACT);
    if (!text) {
        return xstrdup("out of memory");
    }
    struct netconf nc;
    char *error = netconf_parse(text, strlen(text), &nc, NULL);
    free(text);
    if (!error) {
        netconf_destroy(&nc);
    }
    return error;
}

/* "cni-ovs --check-config": checks the configuration on stdin, a plugin's
 * (as in a .conf) or a list's (a .conflist, whose entries of type cni-ovs
 * get the list's name and cniVersion, as libcni gives them), the way ADD
 * would parse it.  Prints "ok" or what is wrong; touches nothing. */
static int
do_check_config(void)
{
    size_t len = 0;
    char *error = NULL;
    char *text = read_stdin(&len, &error);
    json_t *root = NULL;
    if (text) {
        json_error_t jerr;
        root = json_loadb(text, len, 0, &jerr);
        if (!root) {
            error = xasprintf("not JSON: %s (line %d)", jerr.text, jerr.line);
        }
    }

    json_t *plugins = root ? json_object_get(root, "plugins") : NULL;
    if (root && !plugins) {
        error = check_plugin(root);
    } else if (plugins) {
        size_t i, n = 0;
        json_t *plugin;
        if (!json_is_array(plugins)) {
            error = xstrdup("plugins: must be an array");
        }
        json_array_foreach (plugins, i, plugin) {
            json_t *type = json_object_get(plugin, "type");
            if (error || !json_is_string(type)
                || strcmp(json_string_value(type), "cni-ovs")) {
                continue;
            }
            n++;
            json_t *copy = json_deep_copy(plugin);
            json_t *member;
            if ((member = json_object_get(root, "name"))) {
                json_object_set(copy, "name", member);
            }
            if ((member = json_object_get(root, "cniVersion"))) {
                json_object_set(copy, "cniVersion", member);
            }
            char *e = check_plugin(copy);
            json_decref(copy);
            if (e) {
                error = xasprintf("plugins[%"PRIuSIZE"]: %s", i, e);
                free(e);
            }
        }
        if (!error && !n) {
            error = xstrdup("plugins: no plugin of type cni-ovs");
        }
    }
    json_decref(root);
    free(text);
    if (error) {
        fprintf(stderr, "cni-ovs: %s\n", error);
        free(error);
        return 1;
    }
    printf("ok\n");
    return 0;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    /* Diagnostics to stderr at WARN and above; stdout is the result. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    /* Operators can raise it, e.g. CNI_OVS_VLOG=dbg or localdb:dbg. */
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
    if (argc > 1 && !strcmp(argv[1], "--check-config")) {
        return do_check_config();
    }

    const char *command = getenv_nonempty("CNI_COMMAND");
    if (!command) {
        print_error(NULL, CNI_ERR_INVALID_ENV, "CNI_COMMAND: required");
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
        print_error(NULL, CNI_ERR_INVALID_ENV, msg);
        free(msg);
        return 1;
    }

    size_t len = 0;
    char *error = NULL;
    char *text = read_stdin(&len, &error);
    if (!text) {
        print_error(NULL, CNI_ERR_IO, error);
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
        code = CNI_ERR_INVALID_ENV;
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
