/*
 * logline: one traffic-log event as the JSON line Cloud Foundry's
 * iptables-logger writes, and the folding of repeated denies.  Pure (no
 * I/O, no clock: times are arguments); tests/unit/test-logline.c drives it.
 * logsnap.c makes the events from the pipeline's log copies, logctl.c
 * folds and writes them.
 *
 * Formatting
 * ----------
 *
 * logline_format() appends one JSON object, on one line, with no newline
 * (the caller writes the "\n"), in the schema of iptables-logger (shared
 * reference cf-networking.md section 6), so that existing log pipelines
 * keep working:
 *
 *   {"timestamp":"2026-12-04T17:05:01.123456000Z",
 *    "source":"cfnetworking.iptables",
 *    "message":"cfnetworking.iptables.egress-denied",
 *    "log_level":1,
 *    "data":{"packet":{"direction":"egress","allowed":false,
 *                      "src_ip":"10.255.73.3","dst_ip":"10.10.10.10",
 *                      "src_port":36296,"dst_port":80,"protocol":"TCP",
 *                      "mark":"0x1","icmp_type":0,"icmp_code":0},
 *            "source":{"container_id":"...","app_guid":"...",
 *                      "space_guid":"...","organization_guid":"...",
 *                      "host_ip":"10.0.16.15","host_guid":"..."},
 *            "rule":{...},"cell":"...","repeats":3}}
 *
 *   - "timestamp": the event's wall-clock time in UTC, RFC 3339 with nine
 *     fractional digits, as lager's rfc3339 format writes it.  The time is
 *     given in microseconds (OVS's time_wall_usec()), so the last three
 *     digits are always 0: the precision is one microsecond.
 *   - "message": cfnetworking.iptables.<direction>-<allowed|denied>.
 *   - "data.packet": as the kernel's LOG target prints the packet and
 *     iptables-logger copies it: "protocol" is "TCP", "UDP" or "ICMP", and
 *     the decimal protocol number (as a string) for any other protocol;
 *     "mark" is the packet mark in lowercase hex ("0x1"), or "" when the
 *     mark is 0 (the kernel then prints no MARK= word); ports are 0 for
 *     ICMP and other port-less protocols, "icmp_type" and "icmp_code" 0
 *     for anything but ICMP.
 *   - "data.source" for an egress event, "data.destination" for an ingress
 *     one: the container the event is about (the sender of egress, the
 *     receiver of ingress).  A missing (NULL) identity field is written as
 *     "", as iptables-logger writes a container it does not know; so is a
 *     host_ip of 0.
 *
 * Beyond what silk can say, three more members of "data" (absent in silk's
 * lines, so consumers of its schema ignore them):
 *
 *   - "rule": what decided, an object whose "kind" says which:
 *       {"kind":"asg","asg_guid":G,"asg_name":N,"index":I}
 *           rule I (from 0) of the security group G named N;
 *       {"kind":"static","index":I}
 *           rule I (from 0) of the container's static Garden netOutRules;
 *       {"kind":"c2c_policy","source_app_guid":A,"source_tag":"0001",
 *        "destination_app_guid":B,"protocol":"tcp",
 *        "ports":{"start":P,"end":Q}}
 *           the c2c policy that admitted the connection, in the policy
 *           server's own terms (tag in uppercase hex, 4, 6 or 8 digits);
 *       {"kind":"default_deny"}
 *           no ASG rule matched (silk's DENY_<handle>);
 *       {"kind":"c2c_deny"}
 *           no c2c policy admits it (silk's DENY_C2C_<handle>).
 *     With LOGLINE_RULE_NONE (what decided is unknown) there is no "rule".
 *   - "cell": the name of the cell that logged the event (absent if NULL).
 *   - "repeats": only when greater than 0, how many more events of the same
 *     kind this line stands for: events that were folded into it instead
 *     of being written (see below).  Lines plus the sum of "repeats" is the
 *     number of events.
 *
 * Every string is escaped as JSON requires (quotes, backslashes, control
 * characters); bytes that are not UTF-8 are written as U+FFFD, as Go's
 * encoding/json does, so the line is always valid JSON.
 *
 * Folding denies
 * --------------
 *
 * A flood of denied packets (a client retrying a closed port) would write
 * a line each, even under the datapath's rate limits.  A logline_folder
 * writes at most one line per second for each deny "key": the same
 * direction, container, rule, destination address, destination port and
 * protocol.  Use:
 *
 *     struct logline_folder *f = logline_folder_create(max_keys);
 *
 *     For each event, at monotonic time 'now' (OVS's time_msec()):
 *         if (logline_folder_offer(f, &event, now)) {
 *             write logline_format(&event) (event.repeats set by 'f');
 *         }
 *     In the poll loop:
 *         while ((e = logline_folder_pop_due(f, now))) {
 *             write logline_format(e);
 *             logline_event_free(e);
 *         }
 *         poll_timer_wait_until(logline_folder_next_due(f));
 *
 * An allowed event is always written.  The first deny of a key is written
 * and opens a one-second window; repeats within the window are counted,
 * not written.  The next deny of the key after the window is written
 * carrying the count, and opens a new window; if none comes,
 * logline_folder_pop_due() returns, once the window is over, the last
 * folded event carrying the count of the others.  So a folded event waits
 * at most about a second to be accounted for.
 *
 * The table is bounded: it holds at most 'max_keys' keys (a key is
 * forgotten one window after its last event); a deny of a new key while
 * the table is full is written, not folded, and counted in
 * 'n_unfolded_full'.
 *
 * Thread safety: none inside; a folder belongs to one thread.
 * logline_format() is reentrant.
 */

#ifndef FLOWCTL_LOGLINE_H
#define FLOWCTL_LOGLINE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;

/* Which way the logged packet went, from the container's point of view. */
enum logline_direction {
    LOGLINE_EGRESS,             /* Sent by the container. */
    LOGLINE_INGRESS,            /* Sent to the container. */
};

/* What decided the verdict. */
enum logline_rule_kind {
    LOGLINE_RULE_NONE,          /* Unknown: no "rule" member. */
    LOGLINE_RULE_ASG,           /* A security group's rule. */
    LOGLINE_RULE_STATIC,        /* A static Garden netOutRule. */
    LOGLINE_RULE_C2C_POLICY,    /* A c2c policy. */
    LOGLINE_RULE_DEFAULT_DENY,  /* No ASG rule matched. */
    LOGLINE_RULE_C2C_DENY,      /* No c2c policy admits it. */
};

struct logline_rule {
    enum logline_rule_kind kind;
    union {
        struct {                /* LOGLINE_RULE_ASG. */
            const char *guid;   /* May be NULL (written as ""). */
            const char *name;   /* May be NULL (written as ""). */
            unsigned int index; /* The rule's index in the group. */
        } asg;
        struct {                /* LOGLINE_RULE_STATIC. */
            unsigned int index; /* The rule's index in netOutRules. */
        } stat;
        struct {                /* LOGLINE_RULE_C2C_POLICY. */
            const char *src_app_guid;   /* May be NULL (written as ""). */
            uint32_t src_tag;
            const char *dst_app_guid;   /* May be NULL (written as ""). */
            uint8_t protocol;           /* IPPROTO_TCP or IPPROTO_UDP. */
            uint16_t port_start;
            uint16_t port_end;
        } policy;
    };
};

/* One traffic event.  The strings are the caller's (not copied by
 * logline_format(); logline_folder copies what it keeps).  Any identity
 * string may be NULL. */
struct logline_event {
    long long int time_usec;    /* Wall clock, microseconds since epoch. */
    enum logline_direction direction;
    bool allowed;

    /* The packet.  Addresses in host byte order. */
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;          /* TCP and UDP only. */
    uint16_t dst_port;          /* TCP and UDP only. */
    uint8_t protocol;           /* IP protocol number. */
    uint8_t icmp_type;          /* ICMP only. */
    uint8_t icmp_code;          /* ICMP only. */
    uint32_t mark;              /* The packet (conntrack) mark. */

    /* The container the event is about. */
    const char *container_id;   /* Garden handle. */
    const char *app_guid;
    const char *space_guid;
    const char *organization_guid;

    /* The cell. */
    uint32_t host_ip;           /* Host byte order; 0 if unknown. */
    const char *host_guid;      /* BOSH instance id. */
    const char *cell;           /* Cell name; NULL: no "cell" member. */

    struct logline_rule rule;

    unsigned int repeats;       /* Events folded into this one. */
};

void logline_format(const struct logline_event *, struct ds *);
const char *logline_direction_name(enum logline_direction);
const char *logline_rule_kind_name(enum logline_rule_kind);

struct logline_event *logline_event_clone(const struct logline_event *);
void logline_event_free(struct logline_event *);

/* Deny folding. */
struct logline_folder_stats {
    size_t n_keys;              /* Keys in the table now. */
    unsigned long long n_folded;        /* Events folded (not written). */
    unsigned long long n_unfolded_full; /* Denies written: table full. */
};

struct logline_folder *logline_folder_create(size_t max_keys);
void logline_folder_destroy(struct logline_folder *);
bool logline_folder_offer(struct logline_folder *, struct logline_event *,
                          long long int now_msec);
struct logline_event *logline_folder_pop_due(struct logline_folder *,
                                             long long int now_msec);
long long int logline_folder_next_due(const struct logline_folder *);
void logline_folder_get_stats(const struct logline_folder *,
                              struct logline_folder_stats *);

#endif /* logline.h */
