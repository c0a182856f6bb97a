/*
 * logctl: the traffic log's thread.  See logctl.h.
 */

#include <config.h>

#include "logctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "coverage.h"
#include "fatal-signal.h"
#include "latch.h"
#include "logline.h"
#include "logsnap.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "pinctrl.h"
#include "pipeline.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(logctl);

COVERAGE_DEFINE(logctl_packet_in);
COVERAGE_DEFINE(logctl_line);
COVERAGE_DEFINE(logctl_lost);

#define LOGCTL_VERSION OFP15_VERSION

/* The switch is local: no inactivity probes, a short reconnection backoff
 * (seconds). */
#define LOGCTL_PROBE_INTERVAL 0
#define LOGCTL_MAX_BACKOFF 1

/* Messages handled per iteration of the thread's loop, so that stopping,
 * reopening and a new snapshot are prompt under a flood. */
#define LOGCTL_MAX_RECV 50

/* How often the meters' statistics are asked for, and a closed file is
 * opened again (ms). */
#define LOGCTL_METER_INTERVAL 1000
#define LOGCTL_RETRY_INTERVAL 10000

/* Lines are written in batches: when this many bytes wait, or this long
 * (ms) after the first of them, whichever comes first; a write() per
 * packet-in would cost more than the rest of its handling. */
#define LOGCTL_FLUSH_BYTES 65536
#define LOGCTL_FLUSH_DELAY 100

/* The most deny keys folded at once (logline.h). */
#define LOGCTL_FOLD_KEYS 10000

#define PM(ENUM, ID, NAME) BUILD_ASSERT_DECL(ID < LOGCTL_N_METER_IDS);
PIPELINE_METERS
#undef PM

struct logctl {
    /* Set before the thread starts, then read-only. */
    char *target;
    char *file_name;
    pthread_t thread;
    struct latch exit_latch;
    struct latch wake_latch;    /* A snapshot or a reopen is waiting. */

    struct ovs_mutex mutex;
    struct logsnap *next_snap OVS_GUARDED;  /* Not yet taken by the
                                             * thread. */
    bool reopen OVS_GUARDED;
    struct logctl_stats stats OVS_GUARDED;  /* As the thread last
                                             * published them. */
};

/* The thread's own state: nobody else touches it. */
struct logctl_thread {
    struct logctl *lc;
    struct rconn *rconn;
    unsigned int conn_seqno;
    bool set_up;
    struct logsnap *snap;
    struct logline_folder *folder;
    int fd;                     /* -1: not open. */
    bool failing;               /* Reported the trouble; not yet over. */
    long long int retry_open_at;
    long long int next_meter_poll;
    struct ds buf;              /* Lines not yet written... */
    size_t buf_lines;           /* ...how many... */
    long long int flush_at;     /* ...and when they are due. */
    struct logctl_stats stats;
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* ---- the file ---- */

/* Notes a failure to open or write the file (errno 'error'), which loses
 * 'n_lines' lines: reported once, counted always. */
static void
file_failed(struct logctl_thread *t, const char *what, int error,
            size_t n_lines)
{
    t->stats.n_write_errors++;
    t->stats.n_lines_lost += n_lines;
    t->stats.file_error = error;
    COVERAGE_ADD(logctl_lost, n_lines);
    if (!t->failing) {
        t->failing = true;
        VLOG_WARN("traffic log %s: %s failed (%s); lines are lost, and "
                  "counted in flowctl/show, until it works again",
                  t->lc->file_name, what, ovs_strerror(error));
    }
}

static void
file_open(struct logctl_thread *t)
{
    t->fd = open(t->lc->file_name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                 0640);
    if (t->fd < 0) {
        file_failed(t, "open", errno, 0);
        t->retry_open_at = time_msec() + LOGCTL_RETRY_INTERVAL;
    }
    t->stats.file_open = t->fd >= 0;
}

static void
file_close(struct logctl_thread *t)
{
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
    t->stats.file_open = false;
}

/* Writes the buffered lines.  A line is written whole or not at all: what
 * a short write left of one is cut off again. */
static void
file_flush(struct logctl_thread *t)
{
    const char *data = t->buf.string;
    size_t len = t->buf.length, done = 0;

    if (!len) {
        return;
    }
    if (t->fd < 0) {
        t->stats.n_lines_lost += t->buf_lines;
        COVERAGE_ADD(logctl_lost, t->buf_lines);
        goto out;
    }
    while (done < len) {
        ssize_t n = write(t->fd, data + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        } else if (n <= 0) {
            int error = n < 0 ? errno : ENOSPC;

            /* Cut off the part of a line that made it. */
            size_t whole = done;
            while (whole > 0 && data[whole - 1] != '\n') {
                whole--;
            }
            if (whole < done) {
                off_t end = lseek(t->fd, 0, SEEK_END);
                if (end >= 0 && ftruncate(t->fd, end - (done - whole))) {
                    VLOG_WARN_RL(&rl, "traffic log %s: cannot cut off a "
                                 "partial line (%s)", t->lc->file_name,
                                 ovs_strerror(errno));
                }
            }
            size_t lost = 0;
            for (size_t i = whole; i < len; i++) {
                lost += data[i] == '\n';
            }
            t->stats.n_bytes += whole;
            t->stats.n_lines += t->buf_lines - lost;
            file_failed(t, "write", error, lost);
            goto out;
        }
        done += n;
    }
    t->stats.n_bytes += len;
    t->stats.n_lines += t->buf_lines;
    COVERAGE_ADD(logctl_line, t->buf_lines);
    if (t->failing) {
        t->failing = false;
        t->stats.file_error = 0;
        VLOG_INFO("traffic log %s: writing again (%"PRIu64" lines lost in "
                  "all)", t->lc->file_name, t->stats.n_lines_lost);
    }

out:
    ds_clear(&t->buf);
    t->buf_lines = 0;
}

static void
put_line(struct logctl_thread *t, const struct logline_event *ev)
{
    if (!t->buf_lines) {
        t->flush_at = time_msec() + LOGCTL_FLUSH_DELAY;
    }
    logline_format(ev, &t->buf);
    ds_put_char(&t->buf, '\n');
    t->buf_lines++;
}

/* ---- OpenFlow ---- */

static void
send_msg(struct logctl_thread *t, struct ofpbuf *msg)
{
    rconn_send(t->rconn, msg, NULL);
}

static void
handle_packet_in(struct logctl_thread *t, const struct ofp_header *oh)
{
    struct ofputil_packet_in pin;
    size_t total_len;
    uint32_t buffer_id;
    const char *why;

    t->stats.n_packet_ins++;
    COVERAGE_INC(logctl_packet_in);
    enum ofperr error = ofputil_decode_packet_in(oh, true, NULL, NULL, &pin,
                                                 &total_len, &buffer_id,
                                                 NULL);
    if (error) {
        why = "undecodable packet-in";
    } else if (!pin.userdata_len) {
        why = "no userdata";
    } else if (!t->snap) {
        why = "no snapshot of the cell yet";
    } else {
        struct logline_event ev;
        why = logsnap_decode(t->snap, pin.userdata[0], &pin.flow_metadata,
                             pin.packet, pin.packet_len, time_wall_usec(),
                             &ev);
        if (!why) {
            t->stats.n_events++;
            if (logline_folder_offer(t->folder, &ev, time_msec())) {
                put_line(t, &ev);
            } else {
                t->stats.n_folded++;
            }
        }
    }
    if (why) {
        t->stats.n_undecodable++;
        t->stats.last_undecodable = why;
        VLOG_DBG_RL(&rl, "ignoring a packet-in: %s", why);
    }
}

static void
handle_meter_stats(struct logctl_thread *t, const struct ofp_header *oh)
{
    struct ofpbuf msg = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf bands;
    struct ofputil_meter_stats ms;

    ofpbuf_init(&bands, 64);
    while (!ofputil_decode_meter_stats(&msg, &ms, &bands)) {
        if (ms.meter_id < LOGCTL_N_METER_IDS) {
            struct logctl_meter *m = &t->stats.meters[ms.meter_id];
            m->known = true;
            m->packets = ms.packet_in_count;
            m->dropped = 0;
            for (size_t i = 0; i < ms.n_bands; i++) {
                m->dropped += ms.bands[i].packet_count;
            }
        }
    }
    ofpbuf_uninit(&bands);
}

static void
handle_msg(struct logctl_thread *t, const struct ofp_header *oh)
{
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        VLOG_WARN_RL(&rl, "%s: undecodable message of type %"PRIu8,
                     rconn_get_name(t->rconn), oh->type);
        return;
    }
    switch (type) {
    case OFPTYPE_PACKET_IN:
        handle_packet_in(t, oh);
        break;
    case OFPTYPE_METER_STATS_REPLY:
        handle_meter_stats(t, oh);
        break;
    case OFPTYPE_ECHO_REQUEST:
        send_msg(t, ofputil_encode_echo_reply(oh));
        break;
    case OFPTYPE_ERROR:
        if (!VLOG_DROP_WARN(&rl)) {
            char *s = ofp_to_string(oh, ntohs(oh->length), NULL, NULL, 2);
            VLOG_WARN("%s: switch reported %s", rconn_get_name(t->rconn), s);
            free(s);
        }
        break;
    default:
        break;
    }
}

static void
run_openflow(struct logctl_thread *t)
{
    rconn_run(t->rconn);
    unsigned int seqno = rconn_get_connection_seqno(t->rconn);
    if (seqno != t->conn_seqno) {
        t->conn_seqno = seqno;
        t->set_up = false;
    }
    t->stats.connected = rconn_is_connected(t->rconn) && t->set_up;
    if (!rconn_is_connected(t->rconn)) {
        return;
    }
    if (!t->set_up) {
        struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
        struct ofpbuf *msg;
        pinctrl_setup_msgs(LOGCTL_VERSION, PIPELINE_LOG_CONTROLLER_ID,
                           &msgs);
        LIST_FOR_EACH_POP (msg, list_node, &msgs) {
            send_msg(t, msg);
        }
        t->set_up = true;
        t->stats.connected = true;
        t->next_meter_poll = time_msec();
        VLOG_INFO("%s: connected as controller %d, asked for the traffic "
                  "log's packet-ins", rconn_get_name(t->rconn),
                  PIPELINE_LOG_CONTROLLER_ID);
    }
    if (time_msec() >= t->next_meter_poll) {
        send_msg(t, ofputil_encode_meter_request(LOGCTL_VERSION,
                                                 OFPUTIL_METER_STATS,
                                                 OFPM13_ALL));
        t->next_meter_poll = time_msec() + LOGCTL_METER_INTERVAL;
    }
}

/* ---- the thread ---- */

/* Takes what the main loop handed over. */
static void
take_requests(struct logctl_thread *t)
{
    struct logctl *lc = t->lc;
    struct logsnap *snap;
    bool reopen;

    ovs_mutex_lock(&lc->mutex);
    snap = lc->next_snap;
    lc->next_snap = NULL;
    reopen = lc->reopen;
    lc->reopen = false;
    ovs_mutex_unlock(&lc->mutex);

    if (snap) {
        logsnap_unref(t->snap);
        t->snap = snap;
    }
    if (reopen) {
        file_flush(t);
        file_close(t);
        t->stats.n_reopens++;
        VLOG_INFO("traffic log %s: reopening", lc->file_name);
        file_open(t);
    }
}

static void
publish_stats(struct logctl_thread *t)
{
    ovs_mutex_lock(&t->lc->mutex);
    t->lc->stats = t->stats;
    ovs_mutex_unlock(&t->lc->mutex);
}

/* Writes the folded denies whose window is over ('now': all). */
static void
pop_due(struct logctl_thread *t, long long int now)
{
    struct logline_event *e;

    while ((e = logline_folder_pop_due(t->folder, now))) {
        put_line(t, e);
        logline_event_free(e);
    }
}

static void *
logctl_main(void *lc_)
{
    struct logctl_thread t = {
        .lc = lc_,
        .fd = -1,
        .buf = DS_EMPTY_INITIALIZER,
    };

    t.rconn = rconn_create(LOGCTL_PROBE_INTERVAL, LOGCTL_MAX_BACKOFF,
                           DSCP_DEFAULT, 1u << LOGCTL_VERSION);
    rconn_connect(t.rconn, t.lc->target, t.lc->target);
    t.conn_seqno = rconn_get_connection_seqno(t.rconn);
    t.folder = logline_folder_create(LOGCTL_FOLD_KEYS);
    file_open(&t);

    while (!latch_is_set(&t.lc->exit_latch)) {
        latch_poll(&t.lc->wake_latch);
        take_requests(&t);
        if (t.fd < 0 && time_msec() >= t.retry_open_at) {
            file_open(&t);
        }

        run_openflow(&t);
        int i;
        for (i = 0; i < LOGCTL_MAX_RECV; i++) {
            struct ofpbuf *msg = rconn_recv(t.rconn);
            if (!msg) {
                break;
            }
            handle_msg(&t, msg->data);
            ofpbuf_delete(msg);
        }
        pop_due(&t, time_msec());
        if (t.buf.length >= LOGCTL_FLUSH_BYTES
            || (t.buf_lines && time_msec() >= t.flush_at)) {
            file_flush(&t);
        }

        publish_stats(&t);

        if (i == LOGCTL_MAX_RECV) {
            poll_immediate_wake();
        }
        rconn_run_wait(t.rconn);
        rconn_recv_wait(t.rconn);
        latch_wait(&t.lc->exit_latch);
        latch_wait(&t.lc->wake_latch);
        poll_timer_wait_until(logline_folder_next_due(t.folder));
        if (t.set_up) {
            poll_timer_wait_until(t.next_meter_poll);
        }
        if (t.fd < 0) {
            poll_timer_wait_until(t.retry_open_at);
        }
        if (t.buf_lines) {
            poll_timer_wait_until(t.flush_at);
        }
        poll_block();
    }

    /* What is folded is written before the end. */
    pop_due(&t, LLONG_MAX);
    file_flush(&t);
    publish_stats(&t);
    file_close(&t);
    logline_folder_destroy(t.folder);
    logsnap_unref(t.snap);
    rconn_destroy(t.rconn);
    ds_destroy(&t.buf);
    return NULL;
}

/* ---- the main thread's side ---- */

struct logctl *
logctl_create(const char *target, const char *file_name)
{
    struct logctl *lc = xzalloc(sizeof *lc);

    lc->target = xstrdup(target);
    lc->file_name = xstrdup(file_name);
    latch_init(&lc->exit_latch);
    latch_init(&lc->wake_latch);
    ovs_mutex_init(&lc->mutex);

    /* fatal-signal must be set up while the process is single-threaded. */
    fatal_signal_init();
    lc->thread = ovs_thread_create("logctl", logctl_main, lc);
    VLOG_INFO("traffic log: writing %s", file_name);
    return lc;
}

void
logctl_destroy(struct logctl *lc)
{
    if (!lc) {
        return;
    }
    latch_set(&lc->exit_latch);
    xpthread_join(lc->thread, NULL);
    logsnap_unref(lc->next_snap);
    ovs_mutex_destroy(&lc->mutex);
    latch_destroy(&lc->exit_latch);
    latch_destroy(&lc->wake_latch);
    free(lc->target);
    free(lc->file_name);
    free(lc);
}

void
logctl_set_snapshot(struct logctl *lc, struct logsnap *snap)
{
    struct logsnap *old;

    ovs_mutex_lock(&lc->mutex);
    old = lc->next_snap;
    lc->next_snap = snap;
    ovs_mutex_unlock(&lc->mutex);
    logsnap_unref(old);
    latch_set(&lc->wake_latch);
}

void
logctl_reopen(struct logctl *lc)
{
    ovs_mutex_lock(&lc->mutex);
    lc->reopen = true;
    ovs_mutex_unlock(&lc->mutex);
    latch_set(&lc->wake_latch);
}

void
logctl_get_stats(struct logctl *lc, struct logctl_stats *stats)
{
    ovs_mutex_lock(&lc->mutex);
    *stats = lc->stats;
    ovs_mutex_unlock(&lc->mutex);
}

void
logctl_format(struct logctl *lc, struct ds *s)
{
    struct logctl_stats st;

    logctl_get_stats(lc, &st);
    ds_put_format(s, "file: %s (%s)\n", lc->file_name,
                  st.file_open ? "open" : "NOT OPEN");
    if (st.file_error) {
        ds_put_format(s, "last error: %s\n", ovs_strerror(st.file_error));
    }
    ds_put_format(s, "connection: %s (%s, controller id %d)\n", lc->target,
                  st.connected ? "connected" : "not connected",
                  PIPELINE_LOG_CONTROLLER_ID);
    ds_put_format(s, "packet-ins: %"PRIu64", events: %"PRIu64", denies "
                  "folded: %"PRIu64"\n", st.n_packet_ins, st.n_events,
                  st.n_folded);
    ds_put_format(s, "lines written: %"PRIu64" (%"PRIu64" bytes)\n",
                  st.n_lines, st.n_bytes);
    ds_put_format(s, "lines lost: %"PRIu64" (%"PRIu64" failed opens or "
                  "writes)\n", st.n_lines_lost, st.n_write_errors);
    if (st.n_undecodable) {
        ds_put_format(s, "not log copies: %"PRIu64" (last: %s)\n",
                      st.n_undecodable, st.last_undecodable);
    }
    ds_put_format(s, "reopened: %"PRIu64" times\n", st.n_reopens);
    ds_put_cstr(s, "meters (copies in, dropped):\n");
    for (uint32_t id = 0; id < LOGCTL_N_METER_IDS; id++) {
        const struct logctl_meter *m = &st.meters[id];
        const char *name = pipeline_meter_name(id);
        if (name && m->known) {
            ds_put_format(s, "  %s: %"PRIu64" in, dropped %"PRIu64"\n",
                          name, m->packets, m->dropped);
        }
    }
}
