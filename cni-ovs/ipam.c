/*
 * ipam: delegation of address management to a CNI IPAM plugin.
 *
 * See ipam.h.  The plugin runs as a child process (lib/subprocess.h: no
 * descriptor of ours, default signal actions) with the config on its
 * stdin; its stdout and stderr are read through pipes with poll(), so
 * neither side can block the other whatever the sizes.  SIGPIPE is blocked
 * while we write (a plugin may exit without reading its input) and any
 * SIGPIPE that raises is consumed before the mask is restored. */

#include "ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipv4.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "result.h"
#include "subprocess.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ipam);

extern char **environ;

/* The most of a plugin's stdout we accept, and of its stderr we keep for
 * error messages. */
#define IPAM_MAX_STDOUT (1024 * 1024)
#define IPAM_MAX_STDERR 4096

/* How much of the plugin's text an error message quotes. */
#define IPAM_MAX_QUOTE 512

/* Returns 'json', aborting if it is NULL (jansson ran out of memory). */
static json_t *
xjson(json_t *json)
{
    if (!json) {
        out_of_memory();
    }
    return json;
}

/* Returns the document to send to the IPAM plugin for 'nc' and cell subnet
 * 'subnet' (NULL to add none): {"cniVersion", "name", "ipam"}, where "ipam"
 * is a copy of the operator's object (or {"type":"host-local"}) with
 * "ranges":[[{"subnet":SUBNET}]] added unless it has "ranges" or "subnet"
 * already.  The caller json_decref()s the result. */
json_t *
ipam_config(const struct netconf *nc, const char *subnet)
{
    json_t *ipam = xjson(json_is_object(nc->ipam)
                         ? json_deep_copy(nc->ipam)
                         : json_object());
    if (!json_object_get(ipam, "type")) {
        json_object_set_new(ipam, "type",
                            xjson(json_string(nc->ipam_type
                                              ? nc->ipam_type
                                              : NETCONF_DEFAULT_IPAM)));
    }
    if (subnet
        && !json_object_get(ipam, "ranges")
        && !json_object_get(ipam, "subnet")) {
        json_object_set_new(ipam, "ranges",
                            xjson(json_pack("[[{s:s}]]", "subnet", subnet)));
    }

    json_t *config = xjson(json_object());
    if (nc->version_string) {
        json_object_set_new(config, "cniVersion",
                            xjson(json_string(nc->version_string)));
    }
    if (nc->name) {
        json_object_set_new(config, "name", xjson(json_string(nc->name)));
    }
    json_object_set_new(config, "ipam", ipam);
    return config;
}

/* Looks for an executable regular file named 'type' in the ':'-separated
 * directories of 'cni_path'.  On success stores its malloc'd path in
 * '*programp' and returns NULL; otherwise returns an error and sets
 * '*code'. */
static char *
find_plugin(const char *type, const char *cni_path, char **programp,
            int *code)
{
    *programp = NULL;
    if (!type[0] || strchr(type, '/')
        || !strcmp(type, ".") || !strcmp(type, "..")) {
        *code = CNI_ERR_INVALID_CONFIG;
        return xasprintf("ipam.type: invalid plugin type \"%s\"", type);
    }
    if (!cni_path || !cni_path[0]) {
        *code = CNI_ERR_INVALID_ENV;
        return xasprintf("CNI_PATH: not set, so IPAM plugin \"%s\" cannot "
                         "be found", type);
    }

    char *dirs = xstrdup(cni_path);
    char *save_ptr = NULL;
    for (char *dir = strtok_r(dirs, ":", &save_ptr); dir;
         dir = strtok_r(NULL, ":", &save_ptr)) {
        char *program = xasprintf("%s/%s", dir, type);
        struct stat st;
        if (!stat(program, &st) && S_ISREG(st.st_mode)
            && !access(program, X_OK)) {
            free(dirs);
            *programp = program;
            return NULL;
        }
        free(program);
    }
    free(dirs);

    *code = CNI_ERR_INVALID_CONFIG;
    return xasprintf("ipam.type: plugin \"%s\" not found in CNI_PATH "
                     "(searched %s)", type, cni_path);
}

/* Returns a new environment for the plugin: ours with CNI_COMMAND replaced
 * by 'command'.  Free with free_env(). */
static char **
make_env(const char *command)
{
    size_t n = 0;
    while (environ && environ[n]) {
        n++;
    }

    char **env = xmalloc((n + 2) * sizeof *env);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "CNI_COMMAND=", 12)) {
            env[j++] = xstrdup(environ[i]);
        }
    }
    env[j++] = xasprintf("CNI_COMMAND=%s", command);
    env[j] = NULL;
    return env;
}

static void
free_env(char **env)
{
    for (char **p = env; *p; p++) {
        free(*p);
    }
    free(env);
}

/* One of the plugin's output pipes. */
struct reader {
    int fd;                     /* -1 once at end of file. */
    struct ds text;             /* What was read, up to 'limit' bytes. */
    size_t limit;
    bool truncated;             /* More than 'limit' bytes were sent. */
};

/* Reads what is available from 'r'.  Closes it at end of file or on an
 * error other than EINTR or EAGAIN. */
static void
reader_run(struct reader *r)
{
    char buf[4096];
    ssize_t n = read(r->fd, buf, sizeof buf);
    if (n > 0) {
        size_t room = r->limit - MIN(r->limit, r->text.length);
        if (n > room) {
            r->truncated = true;
        }
        ds_put_buffer(&r->text, buf, MIN(n, room));
    } else if (!n || (errno != EINTR && errno != EAGAIN)) {
        if (n < 0) {
            VLOG_DBG("reading from IPAM plugin: %s", ovs_strerror(errno));
        }
        close(r->fd);
        r->fd = -1;
    }
}

/* A plugin run in progress: started, waiting for its input. */
struct ipam_call {
    char *type;                 /* The plugin's name (ipam.type). */
    char *program;              /* Its path. */
    char *command;              /* CNI_COMMAND. */
    pid_t pid;
    int in_fd;                  /* Its stdin, until written and closed. */
    char *input;                /* What it gets on stdin, once fed. */
    size_t in_len, in_ofs;      /* Its length, how much is written. */
    struct reader out, err;
    sigset_t old_mask;          /* Signal mask to restore. */
    bool was_pending;           /* SIGPIPE pending before we started? */
};

/* Starts 'program' (argv[0] 'argv0') with 'env', with pipes for its stdin,
 * stdout and stderr, into 'call' (whose 'out' and 'err' readers it
 * initializes).  SIGPIPE stays blocked in this thread until
 * run_plugin_finish().  Returns NULL or an error saying why the plugin
 * could not be started (then nothing is left to clean up but the
 * readers' text). */
static char *
run_plugin_start(struct ipam_call *call, const char *argv0, char **env)
{
    struct reader *out = &call->out, *err = &call->err;

    ds_init(&out->text);
    out->limit = IPAM_MAX_STDOUT;
    out->truncated = false;
    out->fd = -1;
    ds_init(&err->text);
    err->limit = IPAM_MAX_STDERR;
    err->truncated = false;
    err->fd = -1;

    /* Block SIGPIPE for the duration, remembering whether one was already
     * pending so that we only consume our own.  (The plugin starts with
     * an empty mask and default actions: subprocess.h.) */
    sigset_t sigpipe, pending;
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe, &call->old_mask);
    sigpending(&pending);
    call->was_pending = sigismember(&pending, SIGPIPE);

    char *argv[] = { CONST_CAST(char *, argv0), NULL };
    const struct subprocess_opts opts = {
        .program = call->program,
        .env = env,
        .stdin_pipe = true,
        .stderr_pipe = true,
    };
    struct subprocess child;
    int error = subprocess_start(argv, &opts, &child);
    if (error) {
        pthread_sigmask(SIG_SETMASK, &call->old_mask, NULL);
        return xasprintf("exec: %s", ovs_strerror(error));
    }
    VLOG_DBG("started %s (pid %ld)", call->program, (long int) child.pid);

    call->pid = child.pid;
    call->in_fd = child.in_fd;
    out->fd = child.out_fd;
    err->fd = child.err_fd;
    return NULL;
}

/* Writes as much of 'call->input' to the plugin's stdin as it takes
 * without blocking, and closes its stdin once all of it is written (or the
 * plugin stopped reading: its exit status will tell). */
static void
write_input(struct ipam_call *call)
{
    int error = subprocess_feed(&call->in_fd, call->input, call->in_len,
                                &call->in_ofs);
    if (error) {
        /* EPIPE: the plugin exited or closed stdin without reading it
         * all. */
        VLOG_DBG("writing to %s: %s", call->program, ovs_strerror(error));
    }
}

/* Writes the rest of 'call->input' to the stdin of the plugin started in
 * 'call' (none: the plugin then sees end of file), collects its stdout into
 * 'call->out' and stderr into 'call->err', and stores its wait status in
 * '*statusp'.  Returns NULL or an error saying why the run failed.  The
 * caller ds_destroy()s the readers' text in any case. */
static char *
run_plugin_finish(struct ipam_call *call, int *statusp)
{
    struct reader *out = &call->out, *err = &call->err;
    pid_t pid = call->pid;

    char *error = NULL;
    write_input(call);
    while (call->in_fd >= 0 || out->fd >= 0 || err->fd >= 0) {
        struct pollfd pfds[3];
        int n = 0;
        int in_idx = -1, out_idx = -1, err_idx = -1;
        if (call->in_fd >= 0) {
            in_idx = n;
            pfds[n++] = (struct pollfd) { .fd = call->in_fd,
                                          .events = POLLOUT };
        }
        if (out->fd >= 0) {
            out_idx = n;
            pfds[n++] = (struct pollfd) { .fd = out->fd, .events = POLLIN };
        }
        if (err->fd >= 0) {
            err_idx = n;
            pfds[n++] = (struct pollfd) { .fd = err->fd, .events = POLLIN };
        }

        if (poll(pfds, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = xasprintf("poll: %s", ovs_strerror(errno));
            kill(pid, SIGKILL);
            break;
        }

        if (in_idx >= 0 && pfds[in_idx].revents) {
            write_input(call);
        }
        if (out_idx >= 0 && pfds[out_idx].revents) {
            reader_run(out);
        }
        if (err_idx >= 0 && pfds[err_idx].revents) {
            reader_run(err);
        }
    }
    if (call->in_fd >= 0) {
        close(call->in_fd);
        call->in_fd = -1;
    }
    if (out->fd >= 0) {
        close(out->fd);
        out->fd = -1;
    }
    if (err->fd >= 0) {
        close(err->fd);
        err->fd = -1;
    }

    int status = 0;
    pid_t retval;
    do {
        retval = waitpid(pid, &status, 0);
    } while (retval < 0 && errno == EINTR);
    if (retval < 0 && !error) {
        error = xasprintf("waitpid: %s", ovs_strerror(errno));
    }
    *statusp = status;

    /* Consume a SIGPIPE that our writes raised, then unblock. */
    if (!call->was_pending) {
        sigset_t sigpipe, pending;
        sigemptyset(&sigpipe);
        sigaddset(&sigpipe, SIGPIPE);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE)) {
            struct timespec zero = { 0, 0 };
            while (sigtimedwait(&sigpipe, NULL, &zero) < 0
                   && errno == EINTR) {
                continue;
            }
        }
    }
    pthread_sigmask(SIG_SETMASK, &call->old_mask, NULL);
    return error;
}

/* Returns 's' without leading and trailing white space, cut to
 * IPAM_MAX_QUOTE bytes (plus "..."), as a malloc'd string. */
static char *
quote_text(const char *s, bool truncated)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
        s++;
    }
    size_t len = strlen(s);
    while (len && strchr(" \n\t\r", s[len - 1])) {
        len--;
    }
    if (len > IPAM_MAX_QUOTE) {
        len = IPAM_MAX_QUOTE;
        truncated = true;
    }
    return xasprintf("%.*s%s", (int) len, s, truncated ? "..." : "");
}

/* Turns the failed run of plugin 'type' (wait status 'status', output
 * 'out' and 'err') into an error message and CNI code. */
static char *
plugin_failure(const char *type, int status, struct reader *out,
               struct reader *err, int *code)
{
    /* A CNI error object on stdout. */
    json_t *doc = json_loadb(out->text.string ? out->text.string : "",
                             out->text.length, 0, NULL);
    json_t *code_json = json_object_get(doc, "code");
    if (json_is_integer(code_json) && json_integer_value(code_json) > 0
        && json_integer_value(code_json) <= INT_MAX) {
        const char *msg = json_string_value(json_object_get(doc, "msg"));
        const char *details = json_string_value(json_object_get(doc,
                                                                "details"));
        char *error = (details && details[0]
                       ? xasprintf("ipam (%s): %s: %s", type,
                                   msg ? msg : "", details)
                       : xasprintf("ipam (%s): %s", type, msg ? msg : ""));
        *code = json_integer_value(code_json);
        json_decref(doc);
        return error;
    }
    json_decref(doc);

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "ipam (%s): ", type);
    if (WIFEXITED(status)) {
        ds_put_format(&s, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        ds_put_format(&s, "killed by signal %d", WTERMSIG(status));
    } else {
        ds_put_format(&s, "wait status %#x", status);
    }

    struct reader *text = err->text.length ? err : out;
    char *quote = quote_text(ds_cstr(&text->text), text->truncated);
    if (quote[0]) {
        ds_put_format(&s, ": %s", quote);
    }
    free(quote);

    *code = CNI_ERR_IO;
    return ds_steal_cstr(&s);
}

static void
ipam_call_free(struct ipam_call *call)
{
    if (call) {
        ds_destroy(&call->out.text);
        ds_destroy(&call->err.text);
        free(call->type);
        free(call->program);
        free(call->command);
        free(call->input);
        free(call);
    }
}

/* Starts IPAM plugin 'nc->ipam_type' from 'cni_path' as described in
 * ipam.h.  Returns NULL or an error with '*code' set: CNI_ERR_INVALID_ENV
 * if 'cni_path' is empty, CNI_ERR_INVALID_CONFIG if the plugin is not in it
 * or the type is not a plain file name, otherwise CNI_ERR_IO. */
char *
ipam_start(const struct netconf *nc, const char *cni_path,
           const char *command, struct ipam_call **callp, int *code)
{
    const char *type = nc->ipam_type ? nc->ipam_type : NETCONF_DEFAULT_IPAM;
    char *program;

    *callp = NULL;
    *code = 0;
    char *error = find_plugin(type, cni_path, &program, code);
    if (error) {
        return error;
    }

    struct ipam_call *call = xzalloc(sizeof *call);
    call->type = xstrdup(type);
    call->program = program;
    call->command = xstrdup(command);

    char **env = make_env(command);
    char *run_error = run_plugin_start(call, type, env);
    free_env(env);
    if (run_error) {
        error = xasprintf("ipam (%s): running %s: %s", type, program,
                          run_error);
        free(run_error);
        ipam_call_free(call);
        *code = CNI_ERR_IO;
        return error;
    }
    *callp = call;
    return NULL;
}

/* Gives the plugin started as 'call' its input, 'config', as far as that
 * goes without blocking (see ipam.h).  Returns NULL, or an error (and then
 * the call is still to be aborted). */
char *
ipam_feed(struct ipam_call *call, const json_t *config)
{
    ovs_assert(!call->input);
    call->input = json_dumps(config, JSON_COMPACT);
    if (!call->input) {
        return xasprintf("ipam (%s): cannot encode config", call->type);
    }
    call->in_len = strlen(call->input);
    write_input(call);
    return NULL;
}

/* Gives the plugin started as 'call' its input, 'config' (NULL if
 * ipam_feed() did), and waits for its answer, as described in ipam.h.
 * Frees 'call'.  Returns NULL or an error with '*code' set: the plugin's
 * code if it printed a CNI error, otherwise CNI_ERR_IO. */
char *
ipam_finish(struct ipam_call *call, const json_t *config, json_t **result,
            int *code)
{
    const char *type = call->type;
    char *error = NULL;

    *code = 0;
    if (result) {
        *result = NULL;
    }

    if (config) {
        error = ipam_feed(call, config);
        if (error) {
            ipam_abort(call);
            *code = CNI_ERR_IO;
            return error;
        }
    }

    int status = 0;
    char *run_error = run_plugin_finish(call, &status);

    if (run_error) {
        error = xasprintf("ipam (%s): running %s: %s",
                          type, call->program, run_error);
        free(run_error);
        *code = CNI_ERR_IO;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        error = plugin_failure(type, status, &call->out, &call->err, code);
    } else if (result && !strcmp(call->command, "ADD")) {
        struct reader *out = &call->out;
        json_error_t jerror;
        json_t *doc = NULL;
        if (!out->truncated) {
            doc = json_loadb(out->text.string ? out->text.string : "",
                             out->text.length, 0, &jerror);
        }
        if (!json_is_object(doc)) {
            char *quote = quote_text(ds_cstr(&out->text), out->truncated);
            error = xasprintf("ipam (%s): invalid result: %s",
                              type, quote[0] ? quote : "(empty)");
            free(quote);
            json_decref(doc);
            *code = CNI_ERR_IO;
        } else {
            *result = doc;
        }
    }
    VLOG_DBG("%s %s: %s", call->program, call->command,
             error ? error : "success");
    ipam_call_free(call);
    return error;
}

/* Ends the plugin started as 'call' without giving it any work: it gets an
 * empty stdin, which every CNI plugin refuses before touching anything.
 * Frees 'call'.  Accepts NULL. */
void
ipam_abort(struct ipam_call *call)
{
    if (call) {
        /* Fed, the plugin would do the work: finish it instead. */
        ovs_assert(!call->input);
        int status;
        char *error = run_plugin_finish(call, &status);
        VLOG_DBG("%s: abandoned%s%s", call->program, error ? ": " : "",
                 error ? error : "");
        free(error);
        ipam_call_free(call);
    }
}

/* Runs IPAM plugin 'nc->ipam_type' from 'cni_path' start to end, as
 * described in ipam.h. */
char *
ipam_exec(const struct netconf *nc, const char *cni_path,
          const char *command, const json_t *config, json_t **result,
          int *code)
{
    struct ipam_call *call;
    int dummy_code;

    if (!code) {
        code = &dummy_code;
    }
    if (result) {
        *result = NULL;
    }
    char *error = ipam_start(nc, cni_path, command, &call, code);
    return error ? error : ipam_finish(call, config, result, code);
}

/* Parses 'address' ("A.B.C.D" or "A.B.C.D/N") into '*ip' (host order).
 * Returns true if successful. */
static bool
parse_ipv4(const char *address, uint32_t *ip)
{
    char buf[IPV4_ADDR_LEN];
    size_t len = strcspn(address, "/");
    if (len >= sizeof buf) {
        return false;
    }
    memcpy(buf, address, len);
    buf[len] = '\0';
    return ipv4_parse(buf, ip);
}

/* Stores the first IPv4 address of IPAM result 'result' in '*ip' (host
 * order).  Understands 0.3.x/0.4.0 ("ips" entries with "version"), 1.0.0
 * (no "version"; IPv4 told by the address) and 0.2.0 ("ip4.ip").  Returns
 * NULL or an error. */
char *
ipam_result_ipv4(const json_t *result, uint32_t *ip)
{
    *ip = 0;
    if (!json_is_object(result)) {
        return xstrdup("ipam result: not a JSON object");
    }

    const json_t *ips = json_object_get(result, "ips");
    if (json_is_array(ips)) {
        for (size_t i = 0; i < json_array_size(ips); i++) {
            const json_t *entry = json_array_get(ips, i);
            const char *address = json_string_value(
                json_object_get(entry, "address"));
            const char *version = json_string_value(
                json_object_get(entry, "version"));
            if (!address
                || (version && strcmp(version, "4"))
                || (!version && strchr(address, ':'))) {
                continue;
            }
            if (!parse_ipv4(address, ip)) {
                return xasprintf("ipam result: ips[%"PRIuSIZE"].address: "
                                 "invalid IPv4 address \"%s\"", i, address);
            }
            return NULL;
        }
    }

    const char *address = json_string_value(
        json_object_get(json_object_get(result, "ip4"), "ip"));
    if (address) {
        if (!parse_ipv4(address, ip)) {
            return xasprintf("ipam result: ip4.ip: invalid IPv4 address "
                             "\"%s\"", address);
        }
        return NULL;
    }
    return xstrdup("ipam result has no IPv4 address");
}
