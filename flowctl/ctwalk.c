/*
 * ctwalk: the conntrack walk at start.  See ctwalk.h.
 */

#include <config.h>

#include "ctwalk.h"

#include <string.h>
#include <sys/wait.h>

#include "ctflush.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "runner.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctwalk);

struct ctwalk {
    struct ctflush *ctflush;
    uint16_t zone;
    long long int started;      /* time_msec() at start. */
    bool done;
    bool cancelled;             /* flowctl is exiting. */
};

static void
ctwalk_warn(const struct ctwalk *walk, const char *why)
{
    VLOG_WARN("walking conntrack zone %"PRIu16" at start failed (%s): "
              "entries of containers deleted while flowctl was away may "
              "outlive them", walk->zone, why);
}

static void
ctwalk_done(void *walk_, int status, const char *output, const char *error)
{
    struct ctwalk *walk = walk_;

    walk->done = true;
    poll_immediate_wake();      /* flowctl computes its flows at once. */
    if (walk->cancelled) {
        return;
    }
    if (error || !WIFEXITED(status) || WEXITSTATUS(status)) {
        char *why = (error ? xstrdup(error)
                     : WIFEXITED(status)
                     ? xasprintf("ovs-appctl: exit status %d: %.200s",
                                 WEXITSTATUS(status), output)
                     : xasprintf("ovs-appctl: killed by signal %d",
                                 WTERMSIG(status)));
        ctwalk_warn(walk, why);
        free(why);
        return;
    }

    size_t n = ctflush_note_walk(walk->ctflush, output);
    if (strstr(output, "(output truncated at ")) {
        char *why = xasprintf("its output is cut at %d bytes, after %"
                              PRIuSIZE" entries", CTWALK_MAX_OUTPUT, n);
        ctwalk_warn(walk, why);
        free(why);
    }
    VLOG_INFO("walked conntrack zone %"PRIu16" in %lld ms: %"PRIuSIZE
              " entries", walk->zone, time_msec() - walk->started, n);
}

struct ctwalk *
ctwalk_start(struct runner *runner, const char *datapath, uint16_t zone,
             struct ctflush *ctflush)
{
    struct ctwalk *walk = xzalloc(sizeof *walk);
    walk->ctflush = ctflush;
    walk->zone = zone;
    walk->started = time_msec();

    char *timeout = xasprintf("--timeout=%d", CTWALK_APPCTL_TIMEOUT_S);
    char *zone_arg = xasprintf("zone=%"PRIu16, zone);
    char *target = runner_vswitchd_target(runner);
    char *args[] = {
        "ovs-appctl", "-t", target, timeout, "dpctl/dump-conntrack",
        CONST_CAST(char *, datapath), zone_arg, NULL,
    };
    int error = runner_start_max(runner, args, NULL, CTWALK_TIMEOUT_MS,
                                 CTWALK_MAX_OUTPUT, ctwalk_done, walk);
    if (error) {
        char *why = xasprintf("cannot run ovs-appctl: %s",
                              ovs_strerror(error));
        walk->done = true;
        ctwalk_warn(walk, why);
        free(why);
    }
    free(target);
    free(zone_arg);
    free(timeout);
    return walk;
}

void
ctwalk_destroy(struct ctwalk *walk)
{
    free(walk);
}

void
ctwalk_cancel(struct ctwalk *walk)
{
    if (walk) {
        walk->cancelled = true;
    }
}

bool
ctwalk_is_done(const struct ctwalk *walk)
{
    return walk->done;
}
