/*
 * promhttp: the HTTP endpoint a metrics agent scrapes, inside flowctl's
 * poll loop.
 *
 * A scrape is one small request and one answer, so this is a minimal
 * HTTP/1.1 server on OVS's passive streams, never blocking: it accepts up
 * to PROMHTTP_MAX_CONNS connections, reads a request head of at most
 * PROMHTTP_MAX_REQUEST bytes, answers "GET /metrics" with the text the
 * caller's callback appends (metrics.h) and anything else with 404 or
 * 405, then closes the connection.  A client that has not sent its request
 * within PROMHTTP_TIMEOUT_MS, or has not read the answer by then, is
 * dropped, so that a stuck scraper cannot pin flowctl's memory.  There is
 * no TLS: the address is the cell's own (by default 127.0.0.1), where the
 * metrics agent runs.
 */

#ifndef PROMHTTP_H
#define PROMHTTP_H 1

struct ds;
struct promhttp;

#define PROMHTTP_MAX_CONNS 16
#define PROMHTTP_MAX_REQUEST 8192
#define PROMHTTP_TIMEOUT_MS 10000

/* Listens on 'target' ("ptcp:PORT:IP").  Returns 0 and the server in
 * '*serverp', or an errno value (the port taken, the address not the
 * host's). */
int promhttp_create(const char *target, struct promhttp **serverp);
void promhttp_destroy(struct promhttp *);

/* Accepts, reads and answers; 'fill' appends the metrics text for each
 * scrape. */
void promhttp_run(struct promhttp *,
                  void (*fill)(void *aux, struct ds *out), void *aux);
void promhttp_wait(struct promhttp *);

#endif /* promhttp.h */
