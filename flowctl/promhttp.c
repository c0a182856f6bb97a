/* The metrics endpoint's HTTP server: see promhttp.h. */

#include <config.h>

#include "promhttp.h"

#include <errno.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "stream.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(promhttp);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct conn {
    struct ovs_list node;
    struct stream *stream;
    struct ds request;          /* Read so far. */
    struct ds reply;            /* Empty until the request is read. */
    size_t sent;
    long long int deadline;     /* Monotonic msec. */
};

struct promhttp {
    struct pstream *pstream;
    struct ovs_list conns;
    size_t n_conns;
};

int
promhttp_create(const char *target, struct promhttp **serverp)
{
    struct pstream *pstream;
    int error = pstream_open(target, &pstream, DSCP_DEFAULT);

    *serverp = NULL;
    if (error) {
        return error;
    }
    struct promhttp *server = xzalloc(sizeof *server);
    server->pstream = pstream;
    ovs_list_init(&server->conns);
    *serverp = server;
    return 0;
}

static void
conn_close(struct promhttp *server, struct conn *c)
{
    ovs_list_remove(&c->node);
    server->n_conns--;
    stream_close(c->stream);
    ds_destroy(&c->request);
    ds_destroy(&c->reply);
    free(c);
}

void
promhttp_destroy(struct promhttp *server)
{
    if (server) {
        struct conn *c;
        LIST_FOR_EACH_SAFE (c, node, &server->conns) {
            conn_close(server, c);
        }
        pstream_close(server->pstream);
        free(server);
    }
}

static void
set_reply(struct conn *c, const char *status, const char *content_type,
          const struct ds *body)
{
    ds_put_format(&c->reply, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                  "Content-Length: %"PRIuSIZE"\r\nConnection: close\r\n\r\n",
                  status, content_type, body->length);
    ds_put_buffer(&c->reply, body->string, body->length);
}

/* The request head is in: answers it. */
static void
answer(struct conn *c, void (*fill)(void *, struct ds *), void *aux)
{
    struct ds body = DS_EMPTY_INITIALIZER;
    const char *req = ds_cstr(&c->request);
    const char *eol = strstr(req, "\r\n");
    size_t line_len = eol ? eol - req : strlen(req);
    char *line = xmemdup0(req, line_len);
    char *save = NULL;
    char *method = strtok_r(line, " ", &save);
    char *path = strtok_r(NULL, " ", &save);

    if (!method || !path) {
        ds_put_cstr(&body, "bad request\n");
        set_reply(c, "400 Bad Request", "text/plain", &body);
    } else if (strcmp(method, "GET")) {
        ds_put_cstr(&body, "only GET\n");
        set_reply(c, "405 Method Not Allowed", "text/plain", &body);
    } else if (strcmp(path, "/metrics")) {
        ds_put_cstr(&body, "not found: the metrics are at /metrics\n");
        set_reply(c, "404 Not Found", "text/plain", &body);
    } else {
        fill(aux, &body);
        set_reply(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
                  &body);
    }
    free(line);
    ds_destroy(&body);
}

/* Moves connection 'c' on.  Returns false once it is done with (answered,
 * closed by the peer, failed or too slow). */
static bool
conn_run(struct conn *c, void (*fill)(void *, struct ds *), void *aux)
{
    stream_run(c->stream);
    if (time_msec() >= c->deadline) {
        VLOG_WARN_RL(&rl, "%s: dropped: no complete request and answer "
                     "within %d ms", stream_get_name(c->stream),
                     PROMHTTP_TIMEOUT_MS);
        return false;
    }
    int error = stream_connect(c->stream);
    if (error) {
        return error == EAGAIN;
    }

    while (!c->reply.length) {
        char buf[1024];
        int n = stream_recv(c->stream, buf, sizeof buf);
        if (n == -EAGAIN) {
            return true;
        } else if (n <= 0) {
            return false;       /* Closed (or failed) before asking. */
        }
        ds_put_buffer(&c->request, buf, n);
        if (strstr(ds_cstr(&c->request), "\r\n\r\n")
            || strstr(ds_cstr(&c->request), "\n\n")) {
            answer(c, fill, aux);
        } else if (c->request.length > PROMHTTP_MAX_REQUEST) {
            struct ds body = DS_EMPTY_INITIALIZER;
            ds_put_cstr(&body, "request too large\n");
            set_reply(c, "431 Request Header Fields Too Large",
                      "text/plain", &body);
            ds_destroy(&body);
        }
    }

    while (c->sent < c->reply.length) {
        int n = stream_send(c->stream, c->reply.string + c->sent,
                            c->reply.length - c->sent);
        if (n == -EAGAIN) {
            return true;
        } else if (n < 0) {
            return false;
        }
        c->sent += n;
    }
    return false;               /* Answered: Connection: close. */
}

void
promhttp_run(struct promhttp *server, void (*fill)(void *, struct ds *),
             void *aux)
{
    for (int i = 0; i < PROMHTTP_MAX_CONNS; i++) {
        struct stream *stream;
        int error = pstream_accept(server->pstream, &stream);
        if (error) {
            if (error != EAGAIN) {
                VLOG_WARN_RL(&rl, "%s: accept failed (%s)",
                             pstream_get_name(server->pstream),
                             ovs_strerror(error));
            }
            break;
        }
        if (server->n_conns >= PROMHTTP_MAX_CONNS) {
            VLOG_WARN_RL(&rl, "%s: refused a connection: %d are open",
                         pstream_get_name(server->pstream),
                         PROMHTTP_MAX_CONNS);
            stream_close(stream);
            continue;
        }
        struct conn *c = xzalloc(sizeof *c);
        c->stream = stream;
        ds_init(&c->request);
        ds_init(&c->reply);
        c->deadline = time_msec() + PROMHTTP_TIMEOUT_MS;
        ovs_list_push_back(&server->conns, &c->node);
        server->n_conns++;
    }

    struct conn *c;
    LIST_FOR_EACH_SAFE (c, node, &server->conns) {
        if (!conn_run(c, fill, aux)) {
            conn_close(server, c);
        }
    }
}

void
promhttp_wait(struct promhttp *server)
{
    struct conn *c;

    if (server->n_conns < PROMHTTP_MAX_CONNS) {
        pstream_wait(server->pstream);
    }
    LIST_FOR_EACH (c, node, &server->conns) {
        stream_run_wait(c->stream);
        if (!c->reply.length) {
            stream_recv_wait(c->stream);
        } else {
            stream_send_wait(c->stream);
        }
        poll_timer_wait_until(c->deadline);
    }
}
