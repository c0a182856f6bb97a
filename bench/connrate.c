/*
 * connrate: new TCP connections per second, and a readiness probe, for
 * the benchmarks that compare cni-ovs's enforcement with the silk
 * reference (bench/asg-connrate, bench/container-ready).
 *
 *   connrate serve IP PORT COUNT
 *       Listens on IP, ports PORT .. PORT+COUNT-1, accepts and closes
 *       every connection at once (a FIN: the client's reset, which
 *       follows, ends it without a TIME_WAIT here; a reset from the
 *       server could reach the client before it sees its connect done).
 *       Prints "ready" on stdout once it listens and runs until it is
 *       signalled.
 *
 *   connrate run IP PORT COUNT SECONDS CONCURRENCY [--fin]
 *       Keeps CONCURRENCY non-blocking connects to IP in flight for
 *       SECONDS, spread round-robin over the COUNT ports from PORT.  A
 *       connect that completes is counted and the socket closed at once:
 *       with a reset (SO_LINGER 0) by default, so that neither end, nor
 *       the conntrack entries along the way, hold the 4-tuple in
 *       TIME_WAIT and the run measures the path rather than the port
 *       space; with --fin, an ordinary close (to show what TIME_WAIT does
 *       to a masqueraded path).  A connect not done within 1 s counts as
 *       a timeout.  Prints one JSON object: the totals, the rate, the
 *       connect latency's p50 and p99, and the successes of each second.
 *
 *   connrate sink IP PORT / connrate echo IP PORT
 *       A server for one connection at a time: reads and discards what
 *       arrives (sink), or sends it back (echo), until the client closes.
 *       Prints "ready" once it listens.
 *
 *   connrate stream IP PORT SECONDS
 *       One TCP connection to a sink, written to as fast as it takes for
 *       SECONDS, then closed for writing and read until the sink closes
 *       (so every byte has arrived).  Prints a JSON object: bytes,
 *       seconds, Gbit/s.
 *
 *   connrate rr IP PORT SECONDS
 *       One TCP connection to an echo server (TCP_NODELAY): a byte sent,
 *       the byte back, again, for SECONDS.  Prints a JSON object:
 *       transactions per second and the round trip's p50 and p99 in
 *       microseconds.  Two packets a transaction and nothing else: the
 *       cost of the path per packet.
 *
 *   connrate probe IP PORT TIMEOUT_MS
 *       Connects to IP:PORT until a connect succeeds (a refused or
 *       unreachable attempt is retried after 1 ms, one that hangs after
 *       200 ms), for at most TIMEOUT_MS; exits 0 on success, 1 otherwise.
 *
 * It stands alone (no libopenvswitch): it runs in network namespaces that
 * have nothing else of ours, and its loop is the thing measured.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 1024
#define MAX_CONCURRENCY 4096
#define MAX_SECONDS 3600
#define CONNECT_TIMEOUT_NS 1000000000LL

static void
die(const char *fmt, const char *arg)
{
    fprintf(stderr, "connrate: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long
parse_long(const char *s, const char *what, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "connrate: bad %s '%s' (%ld to %ld)\n",
                what, s, min, max);
        exit(2);
    }
    return v;
}

static struct in_addr
parse_ip(const char *s)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1) {
        die("bad IPv4 address '%s'", s);
    }
    return a;
}

static void
set_linger0(int fd)
{
    struct linger l = { .l_onoff = 1, .l_linger = 0 };

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

/* A listening socket on 'ip':'port' ('type' may add SOCK_NONBLOCK). */
static int
listen_on(struct in_addr ip, int port, int type, int backlog)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_addr = ip,
        .sin_port = htons(port),
    };
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | type, 0);

    if (fd < 0) {
        die("socket: %s", strerror(errno));
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin)
        || listen(fd, backlog)) {
        die("bind/listen: %s", strerror(errno));
    }
    return fd;
}

/* ---- serve ---- */

static void __attribute__((noreturn))
serve(struct in_addr ip, int port, int count)
{
    int ep = epoll_create1(0);

    if (ep < 0) {
        die("epoll_create1: %s", strerror(errno));
    }
    for (int i = 0; i < count; i++) {
        int fd = listen_on(ip, port + i, SOCK_NONBLOCK, 4096);
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    printf("ready\n");
    fflush(stdout);

    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);

        for (int i = 0; i < n; i++) {
            int c;

            while ((c = accept4(evs[i].data.fd, NULL, NULL,
                                SOCK_NONBLOCK)) >= 0) {
                close(c);
            }
        }
    }
}

static int cmp_ll(const void *, const void *);
static double pct_ms(const long long *, size_t, double);

/* ---- sink, echo ---- */

static void __attribute__((noreturn))
sink_or_echo(struct in_addr ip, int port, bool echo)
{
    static char buf[1 << 17];
    int fd = listen_on(ip, port, 0, 16);

    signal(SIGPIPE, SIG_IGN);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int one = 1;
        int c = accept(fd, NULL, NULL);
        ssize_t n;

        if (c < 0) {
            continue;
        }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        while ((n = read(c, buf, sizeof buf)) > 0) {
            if (echo && write(c, buf, n) != n) {
                break;
            }
        }
        close(c);
    }
}

static int
connect_to(struct in_addr ip, int port)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_addr = ip,
        .sin_port = htons(port),
    };
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
        die("connect: %s", strerror(errno));
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int
stream(struct in_addr ip, int port, int seconds)
{
    static char buf[1 << 17];
    int fd = connect_to(ip, port);
    long long t0 = now_ns(), end = t0 + seconds * 1000000000LL;
    long long bytes = 0;

    memset(buf, 'x', sizeof buf);
    signal(SIGPIPE, SIG_IGN);
    while (now_ns() < end) {
        ssize_t n = write(fd, buf, sizeof buf);

        if (n <= 0) {
            die("write: %s", strerror(errno));
        }
        bytes += n;
    }
    shutdown(fd, SHUT_WR);
    while (read(fd, buf, sizeof buf) > 0) {
        continue;
    }
    double secs = (now_ns() - t0) / 1e9;
    close(fd);
    printf("{\"bytes\":%lld,\"seconds\":%.3f,\"gbit_per_s\":%.3f}\n",
           bytes, secs, bytes * 8 / secs / 1e9);
    return 0;
}

static int
rr(struct in_addr ip, int port, int seconds)
{
    int fd = connect_to(ip, port);
    long long t0 = now_ns(), end = t0 + seconds * 1000000000LL;
    size_t max = 20000000, n = 0;
    long long *lat = malloc(max * sizeof *lat);
    long long count = 0;
    char c = 'x';

    if (!lat) {
        die("%s", "out of memory");
    }
    for (;;) {
        long long t = now_ns();

        if (t >= end) {
            break;
        }
        if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
            die("rr: %s", "the connection failed");
        }
        count++;
        if (n < max) {
            lat[n++] = now_ns() - t;
        }
    }
    double secs = (now_ns() - t0) / 1e9;
    close(fd);
    qsort(lat, n, sizeof *lat, cmp_ll);
    printf("{\"transactions\":%lld,\"seconds\":%.3f,\"per_second\":%.1f,"
           "\"rtt_us_p50\":%.1f,\"rtt_us_p99\":%.1f}\n",
           count, secs, count / secs, pct_ms(lat, n, 0.5) * 1000,
           pct_ms(lat, n, 0.99) * 1000);
    return 0;
}

/* ---- run ---- */

struct attempt {
    int fd;                     /* -1: free slot. */
    long long start_ns;
};

struct run {
    struct in_addr ip;
    int port, count;
    bool fin;
    int ep;
    int next_port;

    long long t0;
    long long connected, refused, timeouts, errors;
    int first_error;            /* errno of the first error, 0 if none. */
    long long per_second[MAX_SECONDS];

    /* Connect latencies, for the percentiles (a reservoir of the first
     * ones: enough for p99). */
    long long *lat;
    size_t n_lat, max_lat;
};

static void
run_start(struct run *r, struct attempt *a, long long now)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_addr = r->ip,
        .sin_port = htons(r->port + r->next_port),
    };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    r->next_port = (r->next_port + 1) % r->count;
    a->fd = -1;
    if (fd < 0) {
        r->errors++;
        return;
    }
    if (!r->fin) {
        set_linger0(fd);
    }
    if (connect(fd, (struct sockaddr *) &sin, sizeof sin)
        && errno != EINPROGRESS) {
        if (errno == ECONNREFUSED) {
            r->refused++;
        } else {
            r->errors++;
            r->first_error = r->first_error ? r->first_error : errno;
        }
        close(fd);
        return;
    }
    a->fd = fd;
    a->start_ns = now;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = a };
    epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void
run_finish(struct run *r, struct attempt *a, long long now)
{
    int err = 0;
    socklen_t len = sizeof err;

    getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (!err) {
        long long sec = (now - r->t0) / 1000000000LL;

        r->connected++;
        if (sec >= 0 && sec < MAX_SECONDS) {
            r->per_second[sec]++;
        }
        if (r->n_lat < r->max_lat) {
            r->lat[r->n_lat++] = now - a->start_ns;
        }
    } else if (err == ECONNREFUSED) {
        r->refused++;
    } else {
        r->errors++;
        r->first_error = r->first_error ? r->first_error : err;
    }
    close(a->fd);               /* Removes it from the epoll set too. */
    a->fd = -1;
}

static int
cmp_ll(const void *a_, const void *b_)
{
    long long a = *(const long long *) a_, b = *(const long long *) b_;

    return a < b ? -1 : a > b;
}

static double
pct_ms(const long long *v, size_t n, double p)
{
    if (!n) {
        return 0;
    }
    size_t i = (size_t) (p * (n - 1) + 0.5);
    return v[i] / 1e6;
}

static int
run(struct in_addr ip, int port, int count, int seconds, int conc,
    bool fin)
{
    static struct run r;
    struct attempt *att = calloc(conc, sizeof *att);

    r.ip = ip;
    r.port = port;
    r.count = count;
    r.fin = fin;
    r.ep = epoll_create1(0);
    r.max_lat = 2000000;
    r.lat = malloc(r.max_lat * sizeof *r.lat);
    if (r.ep < 0 || !att || !r.lat) {
        die("setup: %s", strerror(errno));
    }
    signal(SIGPIPE, SIG_IGN);

    r.t0 = now_ns();
    long long end = r.t0 + seconds * 1000000000LL;
    for (int i = 0; i < conc; i++) {
        run_start(&r, &att[i], r.t0);
    }
    for (;;) {
        long long now = now_ns();
        if (now >= end) {
            break;
        }

        struct epoll_event evs[256];
        int n = epoll_wait(r.ep, evs, 256, 10);
        now = now_ns();
        for (int i = 0; i < n; i++) {
            struct attempt *a = evs[i].data.ptr;

            run_finish(&r, a, now);
            if (now < end) {
                run_start(&r, a, now);
            }
        }
        /* Timeouts, and slots whose connect failed at once. */
        for (int i = 0; i < conc && now < end; i++) {
            struct attempt *a = &att[i];

            if (a->fd >= 0 && now - a->start_ns > CONNECT_TIMEOUT_NS) {
                close(a->fd);
                a->fd = -1;
                r.timeouts++;
            }
            if (a->fd < 0) {
                run_start(&r, a, now);
            }
        }
    }

    qsort(r.lat, r.n_lat, sizeof *r.lat, cmp_ll);
    printf("{\"seconds\":%d,\"concurrency\":%d,\"ports\":%d,"
           "\"close\":\"%s\",\"connected\":%lld,\"refused\":%lld,"
           "\"timeouts\":%lld,\"errors\":%lld,\"first_error\":\"%s\","
           "\"rate\":%.1f,"
           "\"connect_ms_p50\":%.3f,\"connect_ms_p99\":%.3f,"
           "\"per_second\":[",
           seconds, conc, count, fin ? "fin" : "reset", r.connected,
           r.refused, r.timeouts, r.errors,
           r.first_error ? strerror(r.first_error) : "",
           (double) r.connected / seconds,
           pct_ms(r.lat, r.n_lat, 0.5), pct_ms(r.lat, r.n_lat, 0.99));
    for (int s = 0; s < seconds && s < MAX_SECONDS; s++) {
        printf("%s%lld", s ? "," : "", r.per_second[s]);
    }
    printf("]}\n");
    return 0;
}

/* ---- probe ---- */

static int
probe(struct in_addr ip, int port, int timeout_ms)
{
    long long end = now_ns() + timeout_ms * 1000000LL;
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_addr = ip,
        .sin_port = htons(port),
    };

    while (now_ns() < end) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int ok = 0;

        if (fd < 0) {
            return 1;
        }
        set_linger0(fd);
        if (!connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
            ok = 1;
        } else if (errno == EINPROGRESS) {
            int ep = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLOUT };
            int err = 0;
            socklen_t len = sizeof err;

            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            if (epoll_wait(ep, &ev, 1, 200) == 1) {
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                ok = !err;
            }
            close(ep);
        }
        close(fd);
        if (ok) {
            return 0;
        }
        usleep(1000);
    }
    return 1;
}

/* Parses PORT and COUNT, refusing a range that would pass port 65535. */
static void
parse_ports(const char *p, const char *c, int *port, int *count)
{
    *port = parse_long(p, "PORT", 1, 65535);
    *count = parse_long(c, "COUNT", 1, MAX_PORTS);
    if (*port + *count - 1 > 65535) {
        die("ports %s and up pass 65535", p);
    }
}

int
main(int argc, char *argv[])
{
    int port, count;

    const char *usage = "usage: connrate serve IP PORT COUNT | "
                        "run IP PORT COUNT SECONDS CONCURRENCY [--fin] | "
                        "sink|echo IP PORT | stream|rr IP PORT SECONDS | "
                        "probe IP PORT TIMEOUT_MS";

    if (argc == 5 && !strcmp(argv[1], "serve")) {
        parse_ports(argv[3], argv[4], &port, &count);
        serve(parse_ip(argv[2]), port, count);
    } else if (argc >= 7 && !strcmp(argv[1], "run") && argc <= 8) {
        bool fin = argc == 8 && !strcmp(argv[7], "--fin");

        if (argc == 8 && !fin) {
            die("unknown option '%s'", argv[7]);
        }
        parse_ports(argv[3], argv[4], &port, &count);
        return run(parse_ip(argv[2]), port, count,
                   parse_long(argv[5], "SECONDS", 1, MAX_SECONDS),
                   parse_long(argv[6], "CONCURRENCY", 1, MAX_CONCURRENCY),
                   fin);
    } else if (argc == 4 && (!strcmp(argv[1], "sink")
                             || !strcmp(argv[1], "echo"))) {
        sink_or_echo(parse_ip(argv[2]),
                     parse_long(argv[3], "PORT", 1, 65535),
                     !strcmp(argv[1], "echo"));
    } else if (argc == 5 && (!strcmp(argv[1], "stream")
                             || !strcmp(argv[1], "rr"))) {
        int (*f)(struct in_addr, int, int) = argv[1][0] == 's' ? stream : rr;

        return f(parse_ip(argv[2]), parse_long(argv[3], "PORT", 1, 65535),
                 parse_long(argv[4], "SECONDS", 1, MAX_SECONDS));
    } else if (argc == 5 && !strcmp(argv[1], "probe")) {
        return probe(parse_ip(argv[2]),
                     parse_long(argv[3], "PORT", 1, 65535),
                     parse_long(argv[4], "TIMEOUT_MS", 1, 600000));
    }
    die("%s", usage);
    return 2;
}
