/*
 * metrics: flowctl's counters in the Prometheus text format.
 *
 * Operators watch a cell through its metrics agent, which scrapes
 * Prometheus endpoints; flowctl serves one (promhttp.h) when its config
 * has "metrics_address".  This module is the pure half: a sample of
 * flowctl's state, taken by the caller from the modules that own each
 * number (the model, ofctrl, localdb, policysync, pinctrl, logctl, the
 * directory), goes in, and the exposition text comes out.  Nothing here
 * reads a clock or a socket, so the text is unit-tested exactly.
 *
 * What an operator asks of a cell, and the metric that answers:
 *
 *   Is it working?          flowctl_ready, flowctl_openflow_connected,
 *                           flowctl_directory_connected, flowctl_lease_held,
 *                           flowctl_directory_messages_total
 *   How big is it?          flowctl_containers, flowctl_desired_flows
 *   How fast do apps start? flowctl_install_latency_seconds (a histogram:
 *                           from flowctl seeing a container's port to its
 *                           flows committed and the port marked
 *                           cf-installed, which the CNI ADD waits for)
 *   Does it see policy?     flowctl_policy_fetch_age_seconds,
 *                           flowctl_policy_fetches_total{result}
 *   What is refused?        flowctl_rejects_total{kind}
 *   Is logging lossy?       flowctl_meter_dropped_total{meter},
 *                           flowctl_traffic_log_lines_lost_total
 *   Is OVS unhappy?         flowctl_bundles_failed_total,
 *                           flowctl_openflow_errors_total
 *
 * Counters only grow while flowctl runs and restart from zero with it,
 * as Prometheus expects of a _total.
 */

#ifndef METRICS_H
#define METRICS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;

/* The install latency histogram's bucket bounds, in seconds: a container's
 * flows normally land within tens of milliseconds; install_timeout (10 s)
 * is where the CNI ADD gives up. */
#define METRICS_LATENCY_BOUNDS \
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
#define METRICS_N_LATENCY_BOUNDS 11

struct metrics_histogram {
    uint64_t buckets[METRICS_N_LATENCY_BOUNDS]; /* Not cumulative: each
                                                 * counts the observations
                                                 * above the previous
                                                 * bound, up to its own. */
    uint64_t count;             /* All observations (+Inf included). */
    double sum;                 /* Their total, in seconds. */
};

/* Adds an observation of 'seconds' (negative ones count as 0). */
void metrics_histogram_observe(struct metrics_histogram *, double seconds);

/* One kind of policy server fetch ("policies", "security_groups"). */
struct metrics_fetch {
    const char *kind;
    uint64_t n_ok;
    uint64_t n_failed;
    double age_s;               /* Since the last good fetch; < 0: never. */
};

/* One meter of the pipeline (pipeline.h), as the switch last reported. */
struct metrics_meter {
    const char *name;           /* NULL: unused slot. */
    uint64_t packets;
    uint64_t dropped;
};

#define METRICS_MAX_METERS 8

struct metrics_sample {
    bool ready;                         /* flowctl/ready's answer. */
    bool openflow_connected;
    size_t n_containers;
    size_t n_refused;                   /* Containers left out. */
    size_t n_desired_flows;

    /* Flow installation (ofctrl). */
    uint64_t n_bundles;
    uint64_t n_bundles_failed;
    uint64_t n_flow_mods;
    uint64_t n_flows_refused;           /* Too large to encode. */
    uint64_t n_openflow_errors;
    struct metrics_histogram install_latency;

    /* The policy server: n_fetches is 0 without one. */
    struct metrics_fetch fetches[2];
    size_t n_fetches;

    /* Refusals (pinctrl). */
    uint64_t n_packet_ins;
    uint64_t n_tcp_resets;
    uint64_t n_icmp_unreachables;

    /* Meters and the traffic log (logctl); has_log false: no log_file. */
    struct metrics_meter meters[METRICS_MAX_METERS];
    bool has_log;
    uint64_t n_log_lines;
    uint64_t n_log_lines_lost;

    /* Cluster mode only (is_cluster). */
    bool is_cluster;
    bool directory_connected;
    bool lease_held;
    uint64_t n_directory_messages;  /* Messages received (both
                                     * sessions, directory.h). */
};

/* Appends the Prometheus text exposition (format 0.0.4) of 'sample' to
 * 'out'. */
void metrics_format(const struct metrics_sample *sample, struct ds *out);

#endif /* metrics.h */
