/*
 * https: libcurl's multi interface in the OVS poll loop.  See https.h.
 */

#include <config.h>

#include "https.h"

#include <curl/curl.h>
#include <poll.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "hash.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(https);

/* A socket libcurl asked us to watch. */
struct https_socket {
    struct hmap_node node;      /* In 'sockets', by 'fd'. */
    curl_socket_t fd;
    int what;                   /* CURL_POLL_IN, _OUT or _INOUT. */
};

struct https {
    CURLM *multi;
    char *base_url;
    char *ca_cert;
    char *client_cert;
    char *client_key;
    struct curl_slist *connect_to;      /* "::ADDRESS:" or NULL. */
    struct curl_slist *headers;
    unsigned int connect_timeout_ms;
    unsigned int request_timeout_ms;
    struct hmap sockets;        /* "struct https_socket"s. */
    long long int timer;        /* When libcurl wants to be called;
                                 * LLONG_MAX: no timer. */
    size_t n_active;            /* Requests not yet finished. */
};

struct https_request {
    struct https *https;
    CURL *easy;                 /* NULL once finished. */
    char *url;
    struct ds body;
    bool too_big;               /* The body outgrew HTTPS_MAX_BODY. */
    bool done;
    long long int start;
    char errbuf[CURL_ERROR_SIZE];
    struct https_result result;
};

static int
socket_cb(CURL *easy OVS_UNUSED, curl_socket_t fd, int what, void *h_,
          void *socketp OVS_UNUSED)
{
    struct https *h = h_;
    struct https_socket *s;

    HMAP_FOR_EACH_WITH_HASH (s, node, hash_int(fd, 0), &h->sockets) {
        if (s->fd == fd) {
            break;
        }
    }
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            hmap_remove(&h->sockets, &s->node);
            free(s);
        }
        return 0;
    }
    if (!s) {
        s = xmalloc(sizeof *s);
        s->fd = fd;
        hmap_insert(&h->sockets, &s->node, hash_int(fd, 0));
    }
    s->what = what;
    return 0;
}

static int
timer_cb(CURLM *multi OVS_UNUSED, long timeout_ms, void *h_)
{
    struct https *h = h_;

    h->timer = timeout_ms < 0 ? LLONG_MAX : time_msec() + timeout_ms;
    return 0;
}

static size_t
write_cb(char *data, size_t size, size_t n, void *r_)
{
    struct https_request *r = r_;
    size_t len = size * n;

    if (len > HTTPS_MAX_BODY - r->body.length) {
        r->too_big = true;
        return 0;               /* Aborts the transfer. */
    }
    ds_put_buffer(&r->body, data, len);
    return len;
}

struct https *
https_create(const struct https_config *cfg)
{
    static bool inited;
    if (!inited) {
        /* Before any other thread uses libcurl: flowctl calls this from
         * main(), before its loop. */
        CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (code != CURLE_OK) {
            ovs_fatal(0, "libcurl: %s", curl_easy_strerror(code));
        }
        inited = true;
    }

    struct https *h = xzalloc(sizeof *h);
    size_t len = strlen(cfg->base_url);
    while (len && cfg->base_url[len - 1] == '/') {
        len--;
    }
    h->base_url = xmemdup0(cfg->base_url, len);
    h->ca_cert = xstrdup(cfg->ca_cert);
    h->client_cert = xstrdup(cfg->client_cert);
    h->client_key = xstrdup(cfg->client_key);
    if (cfg->address) {
        /* "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT", empty parts meaning
         * any host, any port, the same port. */
        char *spec = xasprintf("::%s:", cfg->address);
        h->connect_to = curl_slist_append(NULL, spec);
        free(spec);
    }
    h->headers = curl_slist_append(NULL, "Accept: application/json");
    h->connect_timeout_ms = cfg->connect_timeout_ms;
    h->request_timeout_ms = cfg->request_timeout_ms;
    hmap_init(&h->sockets);
    h->timer = LLONG_MAX;

    h->multi = curl_multi_init();
    if (!h->multi) {
        ovs_fatal(0, "libcurl: curl_multi_init failed");
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void
https_destroy(struct https *h)
{
    if (!h) {
        return;
    }
    ovs_assert(!h->n_active);
    curl_multi_cleanup(h->multi);

    struct https_socket *s;
    HMAP_FOR_EACH_POP (s, node, &h->sockets) {
        free(s);
    }
    hmap_destroy(&h->sockets);
    curl_slist_free_all(h->connect_to);
    curl_slist_free_all(h->headers);
    free(h->base_url);
    free(h->ca_cert);
    free(h->client_cert);
    free(h->client_key);
    free(h);
}

static void
finish(struct https_request *r, char *error)
{
    struct https_result *res = &r->result;

    res->error = error;
    res->elapsed_ms = time_msec() - r->start;
    if (!error) {
        res->body_len = r->body.length;
        res->body = ds_steal_cstr(&r->body);
    }
    if (r->easy) {
        curl_multi_remove_handle(r->https->multi, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
        r->https->n_active--;
    }
    r->done = true;
}

/* Sets the options of 'r''s easy handle.  Returns the first option libcurl
 * refuses, as CURLE_OK or its error. */
static CURLcode
set_options(struct https_request *r)
{
    struct https *h = r->https;
    CURL *e = r->easy;
    CURLcode c = CURLE_OK;

#define SET(OPT, VALUE)                                 \
    if (c == CURLE_OK) {                                \
        c = curl_easy_setopt(e, OPT, VALUE);            \
    }
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_PRIVATE, r);
    SET(CURLOPT_ERRORBUFFER, r->errbuf);
    SET(CURLOPT_WRITEFUNCTION, write_cb);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_HTTPHEADER, h->headers);
    SET(CURLOPT_USERAGENT, "flowctl");
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long) h->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long) h->request_timeout_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) HTTPS_MAX_BODY);
    SET(CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_CAINFO, h->ca_cert);
    SET(CURLOPT_CAPATH, NULL);
    SET(CURLOPT_SSLCERTTYPE, "PEM");
    SET(CURLOPT_SSLCERT, h->client_cert);
    SET(CURLOPT_SSLKEYTYPE, "PEM");
    SET(CURLOPT_SSLKEY, h->client_key);
    if (h->connect_to) {
        SET(CURLOPT_CONNECT_TO, h->connect_to);
    }
#undef SET
    return c;
}

struct https_request *
https_get(struct https *h, const char *path)
{
    struct https_request *r = xzalloc(sizeof *r);

    r->https = h;
    r->url = xasprintf("%s%s", h->base_url, path);
    ds_init(&r->body);
    r->start = time_msec();
    /* The next https_run() starts it, or reports that it could not be. */
    poll_immediate_wake();

    r->easy = curl_easy_init();
    if (!r->easy) {
        finish(r, xstrdup("libcurl: curl_easy_init failed"));
        return r;
    }
    h->n_active++;
    CURLcode c = set_options(r);
    if (c != CURLE_OK) {
        finish(r, xasprintf("libcurl refused an option: %s",
                            curl_easy_strerror(c)));
        return r;
    }
    CURLMcode mc = curl_multi_add_handle(h->multi, r->easy);
    if (mc != CURLM_OK) {
        finish(r, xasprintf("libcurl: %s", curl_multi_strerror(mc)));
    }
    return r;
}

bool
https_request_done(const struct https_request *r)
{
    return r->done;
}

const struct https_result *
https_request_result(const struct https_request *r)
{
    ovs_assert(r->done);
    return &r->result;
}

const char *
https_request_url(const struct https_request *r)
{
    return r->url;
}

void
https_request_destroy(struct https_request *r)
{
    if (!r) {
        return;
    }
    if (!r->done) {
        finish(r, xstrdup("aborted"));
    }
    free(r->url);
    ds_destroy(&r->body);
    free(r->result.error);
    free(r->result.body);
    free(r);
}

size_t
https_n_active(const struct https *h)
{
    return h->n_active;
}

/* The error text for a transfer that ended with 'code'. */
static char *
transfer_error(const struct https_request *r, CURLcode code)
{
    if (r->too_big || code == CURLE_FILESIZE_EXCEEDED) {
        return xasprintf("response body over %d bytes (the limit): refused",
                         HTTPS_MAX_BODY);
    }
    if (r->errbuf[0]) {
        return xasprintf("%s: %s", curl_easy_strerror(code), r->errbuf);
    }
    return xstrdup(curl_easy_strerror(code));
}

/* Tells libcurl about 'fd''s readiness, or its timer's expiry for
 * CURL_SOCKET_TIMEOUT. */
static void
socket_action(struct https *h, curl_socket_t fd, int events)
{
    int running;
    CURLMcode mc = curl_multi_socket_action(h->multi, fd, events, &running);
    if (mc != CURLM_OK) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "curl_multi_socket_action: %s",
                     curl_multi_strerror(mc));
    }
}

void
https_run(struct https *h)
{
    if (!h->n_active) {
        return;
    }

    /* The poll loop does not say which descriptors woke it: ask them,
     * without waiting, and hand libcurl the ready ones.  (A copy, since
     * libcurl's socket callback changes 'sockets'.) */
    size_t n = hmap_count(&h->sockets);
    struct pollfd *pfds = xmalloc(MAX(n, 1) * sizeof *pfds);
    struct https_socket *s;
    size_t i = 0;
    HMAP_FOR_EACH (s, node, &h->sockets) {
        pfds[i].fd = s->fd;
        pfds[i].events = ((s->what & CURL_POLL_IN ? POLLIN : 0)
                          | (s->what & CURL_POLL_OUT ? POLLOUT : 0));
        pfds[i].revents = 0;
        i++;
    }
    if (n && poll(pfds, n, 0) > 0) {
        for (i = 0; i < n; i++) {
            short int r = pfds[i].revents;
            if (r) {
                socket_action(h, pfds[i].fd,
                              ((r & POLLIN ? CURL_CSELECT_IN : 0)
                               | (r & POLLOUT ? CURL_CSELECT_OUT : 0)
                               | (r & (POLLERR | POLLHUP | POLLNVAL)
                                  ? CURL_CSELECT_ERR : 0)));
            }
        }
    }
    free(pfds);
    if (time_msec() >= h->timer) {
        h->timer = LLONG_MAX;   /* libcurl sets it again if it wants. */
        socket_action(h, CURL_SOCKET_TIMEOUT, 0);
    }

    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        struct https_request *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
        CURLcode code = msg->data.result;
        if (code == CURLE_OK) {
            curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE,
                              &r->result.status);
            finish(r, NULL);
        } else {
            finish(r, transfer_error(r, code));
        }
    }
}

void
https_wait(struct https *h)
{
    if (!h->n_active) {
        /* Idle connections stay in libcurl's cache unwatched: a server
         * closing one would otherwise wake the loop for nothing. */
        return;
    }

    struct https_socket *s;
    HMAP_FOR_EACH (s, node, &h->sockets) {
        short int events = 0;
        if (s->what & CURL_POLL_IN) {
            events |= POLLIN;
        }
        if (s->what & CURL_POLL_OUT) {
            events |= POLLOUT;
        }
        if (events) {
            poll_fd_wait(s->fd, events);
        }
    }
    if (h->timer != LLONG_MAX) {
        poll_timer_wait_until(h->timer);
    }
}
