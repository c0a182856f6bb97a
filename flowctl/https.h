/*
 * https: an asynchronous HTTPS client with mutual TLS for flowctl's poll
 * loop (the policy server's client, policysync.h).
 *
 * It is libcurl's "multi" interface driven by the OVS poll loop: libcurl
 * tells us, through its socket and timer callbacks, which file descriptors
 * it waits on and for how long; https_wait() hands them to
 * poll_fd_wait() and poll_timer_wait_until(), and https_run() finds out
 * (with a poll() that does not wait) which of them are ready and tells
 * libcurl with curl_multi_socket_action(), as it does when the timer
 * expires; libcurl then does what it can without blocking.  Name
 * resolution runs in libcurl's resolver thread; nothing here ever blocks
 * the loop, whatever the server does (a server that accepts the
 * connection and never answers costs one timeout).
 *
 * Usage:
 *
 *     struct https *h = https_create(&cfg);      (once)
 *     struct https_request *r = https_get(h, "/networking/v1/...");
 *     ... each iteration: https_run(h); if (https_request_done(r)) {
 *             const struct https_result *res = https_request_result(r);
 *             ... res->error, else res->status and res->body ...
 *             https_request_destroy(r);
 *         }
 *         https_wait(h); poll_block();
 *
 * Every request uses the client's TLS settings: TLS 1.2 or later; the
 * server's chain is verified against 'ca_cert' only (not the system's
 * CAs) and its name against the URL's host; 'client_cert' and
 * 'client_key' are presented.  'address', if set, is where connections
 * go instead of the resolved host (CURLOPT_CONNECT_TO), the certificate
 * still being checked against the URL's host.  No proxy (the environment's
 * https_proxy is ignored), no redirects, no protocol but HTTPS.
 * Connections are kept alive and reused between requests.
 *
 * A response body is kept whole up to HTTPS_MAX_BODY bytes; a longer one
 * fails the request with an error that says so (never a truncated body).
 *
 * Not thread-safe: one loop owns a 'struct https' and its requests. */

#ifndef FLOWCTL_HTTPS_H
#define FLOWCTL_HTTPS_H 1

#include <stdbool.h>
#include <stddef.h>

/* The largest response body accepted: 64 MiB. */
#define HTTPS_MAX_BODY (64 * 1024 * 1024)

struct https_config {
    const char *base_url;       /* "https://host[:port]", no trailing '/'
                                 * needed. */
    const char *address;        /* Connect here; NULL: resolve the host. */
    const char *ca_cert;        /* PEM files. */
    const char *client_cert;
    const char *client_key;
    unsigned int connect_timeout_ms;
    unsigned int request_timeout_ms;
};

/* What a finished request got.  Either 'error' is nonnull (no response: it
 * says why, e.g. "Couldn't connect to server: Failed to connect to 10.0.0.6
 * port 4003: Connection refused" or "response body over 67108864 bytes"),
 * or 'status' is the HTTP status and 'body' the whole body ('body_len'
 * bytes, followed by a null byte that is not part of it). */
struct https_result {
    char *error;
    long status;
    char *body;
    size_t body_len;
    long long int elapsed_ms;   /* From https_get() to the end. */
};

/* Creates a client for 'cfg' (copied).  Never fails: a setting libcurl
 * refuses, or a file it cannot use, shows as each request's error. */
struct https *https_create(const struct https_config *cfg);

/* Frees 'h'.  Its requests must have been destroyed first. */
void https_destroy(struct https *h);

/* Starts GET of 'path' (starting with '/', appended to the base URL; the
 * caller encodes the query).  Returns the request, which the caller frees
 * with https_request_destroy(), finished or not. */
struct https_request *https_get(struct https *h, const char *path);

/* Has 'r' finished (with a response or an error)? */
bool https_request_done(const struct https_request *r);

/* The result of finished request 'r', owned by 'r'. */
const struct https_result *https_request_result(const struct https_request *);

/* The URL 'r' fetches (for messages), owned by 'r'. */
const char *https_request_url(const struct https_request *r);

/* Frees 'r', aborting it if it has not finished.  NULL is fine. */
void https_request_destroy(struct https_request *r);

/* Number of requests not yet finished. */
size_t https_n_active(const struct https *h);

void https_run(struct https *h);
void https_wait(struct https *h);

#endif /* https.h */
