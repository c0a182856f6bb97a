/* flowctl's metrics in the Prometheus text format: see metrics.h. */

#include <config.h>

#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

static const double latency_bounds[METRICS_N_LATENCY_BOUNDS] = {
    METRICS_LATENCY_BOUNDS
};

void
metrics_histogram_observe(struct metrics_histogram *h, double seconds)
{
    if (seconds < 0) {
        seconds = 0;
    }
    for (size_t i = 0; i < METRICS_N_LATENCY_BOUNDS; i++) {
        if (seconds <= latency_bounds[i]) {
            h->buckets[i]++;
            break;
        }
    }
    h->count++;
    h->sum += seconds;
}

/* "# HELP" and "# TYPE" for metric 'name'. */
static void
header(struct ds *out, const char *name, const char *type, const char *help)
{
    ds_put_format(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                  type);
}

static void
gauge(struct ds *out, const char *name, const char *help, uint64_t value)
{
    header(out, name, "gauge", help);
    ds_put_format(out, "%s %"PRIu64"\n", name, value);
}

static void
counter(struct ds *out, const char *name, const char *help, uint64_t value)
{
    header(out, name, "counter", help);
    ds_put_format(out, "%s %"PRIu64"\n", name, value);
}

/* A double as Prometheus reads it: 15 significant digits if they give 'd'
 * back (0.005, not 0.0050000000000000001), else all 17. */
static void
put_double(struct ds *out, double d)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%.15g", d);
    if (strtod(buf, NULL) != d) {
        snprintf(buf, sizeof buf, "%.17g", d);
    }
    ds_put_cstr(out, buf);
}

static void
format_histogram(struct ds *out, const char *name, const char *help,
                 const struct metrics_histogram *h)
{
    uint64_t cumulative = 0;

    header(out, name, "histogram", help);
    for (size_t i = 0; i < METRICS_N_LATENCY_BOUNDS; i++) {
        cumulative += h->buckets[i];
        ds_put_format(out, "%s_bucket{le=\"", name);
        put_double(out, latency_bounds[i]);
        ds_put_format(out, "\"} %"PRIu64"\n", cumulative);
    }
    ds_put_format(out, "%s_bucket{le=\"+Inf\"} %"PRIu64"\n", name, h->count);
    ds_put_format(out, "%s_sum ", name);
    put_double(out, h->sum);
    ds_put_format(out, "\n%s_count %"PRIu64"\n", name, h->count);
}

void
metrics_format(const struct metrics_sample *s, struct ds *out)
{
    gauge(out, "flowctl_ready", "1 when the cell is set up and OVS has "
          "committed the last flows put (flowctl/ready), else 0.", s->ready);
    gauge(out, "flowctl_openflow_connected", "1 while flowctl's OpenFlow "
          "connection to the bridge is up.", s->openflow_connected);
    gauge(out, "flowctl_containers", "Containers on the cell with flows.",
          s->n_containers);
    gauge(out, "flowctl_containers_refused", "Containers left out (no flows, "
          "not marked installed); flowctl/show says why.", s->n_refused);
    gauge(out, "flowctl_desired_flows", "OpenFlow flows flowctl wants on "
          "the bridge.", s->n_desired_flows);

    counter(out, "flowctl_bundles_total", "Flow table changes sent to OVS "
            "(one atomic bundle each).", s->n_bundles);
    counter(out, "flowctl_bundles_failed_total", "Bundles OVS rejected "
            "(flowctl backs off and sends the whole table again).",
            s->n_bundles_failed);
    counter(out, "flowctl_flow_mods_total", "Flow additions, changes and "
            "deletions sent inside bundles.", s->n_flow_mods);
    counter(out, "flowctl_flows_refused_total", "Flows never sent: too "
            "large for one OpenFlow message.", s->n_flows_refused);
    counter(out, "flowctl_openflow_errors_total", "Error messages OVS sent "
            "back.", s->n_openflow_errors);
    format_histogram(out, "flowctl_install_latency_seconds", "From flowctl "
                     "seeing a container's port to its flows committed in "
                     "OVS (the port marked cf-installed).",
                     &s->install_latency);

    if (s->n_fetches) {
        header(out, "flowctl_policy_fetches_total", "counter", "Fetch "
               "cycles from the policy server, by kind and result.");
        for (size_t i = 0; i < s->n_fetches; i++) {
            const struct metrics_fetch *f = &s->fetches[i];
            ds_put_format(out, "flowctl_policy_fetches_total{kind=\"%s\","
                          "result=\"ok\"} %"PRIu64"\n", f->kind, f->n_ok);
            ds_put_format(out, "flowctl_policy_fetches_total{kind=\"%s\","
                          "result=\"error\"} %"PRIu64"\n", f->kind,
                          f->n_failed);
        }
        header(out, "flowctl_policy_fetch_age_seconds", "gauge", "Seconds "
               "since the last good fetch, by kind (absent: never).");
        for (size_t i = 0; i < s->n_fetches; i++) {
            const struct metrics_fetch *f = &s->fetches[i];
            if (f->age_s >= 0) {
                ds_put_format(out, "flowctl_policy_fetch_age_seconds{kind="
                              "\"%s\"} ", f->kind);
                put_double(out, f->age_s);
                ds_put_char(out, '\n');
            }
        }
    }

    counter(out, "flowctl_packet_ins_total", "Packets the switch sent "
            "flowctl to refuse.", s->n_packet_ins);
    header(out, "flowctl_rejects_total", "counter", "Refusals flowctl sent "
           "back to containers, by kind.");
    ds_put_format(out, "flowctl_rejects_total{kind=\"tcp_reset\"} %"PRIu64
                  "\n", s->n_tcp_resets);
    ds_put_format(out, "flowctl_rejects_total{kind=\"icmp_unreachable\"} "
                  "%"PRIu64"\n", s->n_icmp_unreachables);

    bool any_meter = false;
    for (size_t i = 0; i < METRICS_MAX_METERS; i++) {
        any_meter |= s->meters[i].name != NULL;
    }
    if (any_meter) {
        header(out, "flowctl_meter_packets_total", "counter", "Packets that "
               "reached each of the pipeline's meters.");
        for (size_t i = 0; i < METRICS_MAX_METERS; i++) {
            const struct metrics_meter *m = &s->meters[i];
            if (m->name) {
                ds_put_format(out, "flowctl_meter_packets_total{meter=\"%s\"}"
                              " %"PRIu64"\n", m->name, m->packets);
            }
        }
        header(out, "flowctl_meter_dropped_total", "counter", "Packets each "
               "meter dropped: refusals and log lines over their rate.");
        for (size_t i = 0; i < METRICS_MAX_METERS; i++) {
            const struct metrics_meter *m = &s->meters[i];
            if (m->name) {
                ds_put_format(out, "flowctl_meter_dropped_total{meter=\"%s\"}"
                              " %"PRIu64"\n", m->name, m->dropped);
            }
        }
    }
    if (s->has_log) {
        counter(out, "flowctl_traffic_log_lines_total", "Lines written to "
                "the traffic log.", s->n_log_lines);
        counter(out, "flowctl_traffic_log_lines_lost_total", "Lines the "
                "traffic log could not write.", s->n_log_lines_lost);
    }
    if (s->is_cluster) {
        gauge(out, "flowctl_directory_connected", "1 while flowctl is "
              "connected to cfnet-db.", s->directory_connected);
        gauge(out, "flowctl_lease_held", "1 while the cell holds its subnet "
              "lease.", s->lease_held);
        counter(out, "flowctl_directory_messages_total", "Messages "
                "received from cfnet-db (the fleet's claims and rows gone, "
                "replies to this cell's renewals, its periodic checks of "
                "the member).", s->n_directory_messages);
    }
}
