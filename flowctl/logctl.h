/*
 * logctl: flowctl's traffic log.  The pipeline sends a copy of each packet
 * that decides a logged connection to controller id
 * PIPELINE_LOG_CONTROLLER_ID (pipeline.h, "Traffic logging"); logctl
 * receives the copies, names their container and rule (logsnap.h), and
 * writes one JSON line per event to the log file (logline.h), folding
 * repeated denies.
 *
 * Nothing of it runs on the main loop's critical path:
 *
 *   - a thread of its own, with its own poll loop and its own OpenFlow
 *     connection to the bridge's management socket, on which it claims
 *     controller id PIPELINE_LOG_CONTROLLER_ID (NXT_SET_CONTROLLER_ID), so
 *     that it receives the log copies and nothing else, while pinctrl
 *     (controller id 0) receives the rejects and nothing else;
 *   - the thread reads the cell through an immutable, reference-counted
 *     snapshot (logsnap) that the main loop hands over after each change
 *     of the model (logctl_set_snapshot()): the only state the threads
 *     share is that pointer, the reopen request and the published counters,
 *     under one mutex held for a swap or a copy;
 *   - it writes the file itself, with plain blocking write()s, in batches
 *     (64 kB, or 100 ms after the first line of a batch): a slow or full
 *     disk slows the log, never the main loop or the traffic.
 *
 * The file is opened for appending (created 0640 if missing).  A failure
 * to open or write it (a full disk, a read-only file system, a removed
 * directory) is logged once when it starts and once when writing works
 * again; meanwhile the lines are counted as lost (flowctl/show), and a
 * closed file is opened again every 10 seconds.  A line is written whole
 * or not at all: what a partial write left of a line is cut off again, so
 * the file stays a sequence of JSON lines.  logctl_reopen() (SIGHUP and
 * flowctl/reopen, for logrotate) closes the file and opens its path
 * again.
 *
 * Every second the thread also asks the switch for the meters' statistics
 * (OFPMP_METER) on its connection: how many copies each meter let through
 * and dropped, shown in flowctl/show.
 *
 * Use (main thread):
 *
 *     struct logctl *lc = logctl_create(target, cfg->log_file);
 *     logctl_set_snapshot(lc, logsnap_create(&model, guid, cell));
 *     ...after each model change, the same...
 *     logctl_reopen(lc);                   (SIGHUP, flowctl/reopen)
 *     logctl_format(lc, &ds);              (flowctl/show)
 *     logctl_destroy(lc);                  (writes what is folded, joins)
 *
 * The functions above are for one thread (the main loop's); the logctl's
 * own thread is internal.
 */

#ifndef FLOWCTL_LOGCTL_H
#define FLOWCTL_LOGCTL_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct logsnap;

/* Starts the traffic log: a thread that connects to the OpenFlow switch
 * at 'target' ("unix:.../br-cf.mgmt") and writes to 'file_name'. */
struct logctl *logctl_create(const char *target, const char *file_name);

/* Writes out what is folded, stops the thread and frees 'lc'. */
void logctl_destroy(struct logctl *lc);

/* Hands 'snap' over to the thread (taking the caller's reference); the
 * packet-ins that arrive from now on are named by it. */
void logctl_set_snapshot(struct logctl *lc, struct logsnap *snap);

/* Asks the thread to close the file and open its path again. */
void logctl_reopen(struct logctl *lc);

/* What one meter did, as the switch last reported it. */
struct logctl_meter {
    bool known;                 /* Reported at least once. */
    uint64_t packets;           /* Copies that reached the meter. */
    uint64_t dropped;           /* ...that it dropped. */
};

#define LOGCTL_N_METER_IDS 8    /* Meter ids 0..7 (pipeline.h). */

struct logctl_stats {
    bool connected;             /* The OpenFlow connection is set up. */
    bool file_open;
    int file_error;             /* errno of the last failure, 0 if none
                                 * since the file last worked. */
    uint64_t n_packet_ins;      /* Received. */
    uint64_t n_events;          /* Decoded into events. */
    uint64_t n_undecodable;     /* Not log copies (see logsnap_decode()). */
    const char *last_undecodable;       /* Why, for the last one. */
    uint64_t n_lines;           /* Written. */
    uint64_t n_bytes;           /* Written. */
    uint64_t n_folded;          /* Denies folded into other lines. */
    uint64_t n_write_errors;    /* Failed open()s and write()s. */
    uint64_t n_lines_lost;      /* Lines not written because of them. */
    uint64_t n_reopens;
    struct logctl_meter meters[LOGCTL_N_METER_IDS];
};

void logctl_get_stats(struct logctl *lc, struct logctl_stats *);

/* Appends a human-readable summary to 'ds' (flowctl/show). */
void logctl_format(struct logctl *lc, struct ds *ds);

#endif /* logctl.h */
