/*
 * Unit tests of flowctl/metrics.c: the Prometheus text of a sample, exact
 * where an operator's queries depend on it (names, labels, cumulative
 * histogram buckets), and the sections that only appear when they apply.
 */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* 'text' has 'line' as one of its lines. */
static void
assert_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1
                                                                   : NULL) {
        if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0')) {
            return;
        }
    }
    print_message("no line \"%s\" in:\n%s", line, text);
    fail();
}

static void
assert_no(const char *text, const char *what)
{
    if (strstr(text, what)) {
        print_message("\"%s\" should not be in:\n%s", what, text);
        fail();
    }
}

/* Every sample has the core: readiness, sizes, installation counters, the
 * latency histogram, refusals; each metric with HELP and TYPE. */
static void
test_core(void **state OVS_UNUSED)
{
    struct metrics_sample s;
    struct ds out = DS_EMPTY_INITIALIZER;

    memset(&s, 0, sizeof s);
    s.ready = true;
    s.openflow_connected = true;
    s.n_containers = 250;
    s.n_refused = 2;
    s.n_desired_flows = 123456;
    s.n_bundles = 7;
    s.n_bundles_failed = 1;
    s.n_flow_mods = 99999;
    s.n_packet_ins = 12;
    s.n_tcp_resets = 10;
    s.n_icmp_unreachables = 2;
    metrics_format(&s, &out);
    const char *t = ds_cstr(&out);

    assert_line(t, "# HELP flowctl_ready 1 when the cell is set up and OVS "
                "has committed the last flows put (flowctl/ready), else 0.");
    assert_line(t, "# TYPE flowctl_ready gauge");
    assert_line(t, "flowctl_ready 1");
    assert_line(t, "flowctl_openflow_connected 1");
    assert_line(t, "flowctl_containers 250");
    assert_line(t, "flowctl_containers_refused 2");
    assert_line(t, "flowctl_desired_flows 123456");
    assert_line(t, "# TYPE flowctl_bundles_total counter");
    assert_line(t, "flowctl_bundles_total 7");
    assert_line(t, "flowctl_bundles_failed_total 1");
    assert_line(t, "flowctl_flow_mods_total 99999");
    assert_line(t, "flowctl_packet_ins_total 12");
    assert_line(t, "flowctl_rejects_total{kind=\"tcp_reset\"} 10");
    assert_line(t, "flowctl_rejects_total{kind=\"icmp_unreachable\"} 2");
    assert_line(t, "# TYPE flowctl_install_latency_seconds histogram");
    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"+Inf\"} 0");
    assert_line(t, "flowctl_install_latency_seconds_count 0");

    /* Not configured, so not there. */
    assert_no(t, "flowctl_policy_");
    assert_no(t, "flowctl_meter_");
    assert_no(t, "flowctl_traffic_log_");
    assert_no(t, "flowctl_lease_held");
    assert_no(t, "flowctl_directory_messages_total");

    /* Every line is a comment or "name[{labels}] value". */
    for (const char *p = t; *p; ) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        if (*p != '#') {
            const char *sp = memchr(p, ' ', eol - p);
            assert_non_null(sp);
            assert_true(sp > p && sp + 1 < eol);
        }
        p = eol + 1;
    }
    ds_destroy(&out);
}

/* The histogram's buckets are cumulative, bounded as METRICS_LATENCY_BOUNDS
 * says; an observation on a bound falls in it; the sum is exact. */
static void
test_latency_histogram(void **state OVS_UNUSED)
{
    struct metrics_sample s;
    struct ds out = DS_EMPTY_INITIALIZER;

    memset(&s, 0, sizeof s);
    metrics_histogram_observe(&s.install_latency, 0.003);
    metrics_histogram_observe(&s.install_latency, 0.005);
    metrics_histogram_observe(&s.install_latency, 0.04);
    metrics_histogram_observe(&s.install_latency, 0.75);
    metrics_histogram_observe(&s.install_latency, 12);
    metrics_histogram_observe(&s.install_latency, -1);     /* Clock step. */
    metrics_format(&s, &out);
    const char *t = ds_cstr(&out);

    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"0.005\"} 3");
    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"0.01\"} 3");
    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"0.025\"} 3");
    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"0.05\"} 4");
    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"0.5\"} 4");
    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"1\"} 5");
    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"10\"} 5");
    assert_line(t, "flowctl_install_latency_seconds_bucket{le=\"+Inf\"} 6");
    assert_line(t, "flowctl_install_latency_seconds_count 6");
    assert_line(t, "flowctl_install_latency_seconds_sum 12.798");
    ds_destroy(&out);
}

/* The policy server's fetches by kind and result, and their age (none for
 * a kind never fetched); meters and the traffic log; the lease. */
static void
test_optional_sections(void **state OVS_UNUSED)
{
    struct metrics_sample s;
    struct ds out = DS_EMPTY_INITIALIZER;

    memset(&s, 0, sizeof s);
    s.n_fetches = 2;
    s.fetches[0] = (struct metrics_fetch) { "policies", 40, 3, 0.5 };
    s.fetches[1] = (struct metrics_fetch) { "security_groups", 0, 2, -1 };
    s.meters[1] = (struct metrics_meter) { "reject", 100, 4 };
    s.meters[4] = (struct metrics_meter) { "log-asg-deny", 50, 49 };
    s.has_log = true;
    s.n_log_lines = 1000;
    s.n_log_lines_lost = 3;
    s.is_cluster = true;
    s.directory_connected = true;
    s.lease_held = false;
    s.n_directory_messages = 12;
    metrics_format(&s, &out);
    const char *t = ds_cstr(&out);

    assert_line(t, "flowctl_policy_fetches_total{kind=\"policies\","
                "result=\"ok\"} 40");
    assert_line(t, "flowctl_policy_fetches_total{kind=\"policies\","
                "result=\"error\"} 3");
    assert_line(t, "flowctl_policy_fetches_total{kind=\"security_groups\","
                "result=\"error\"} 2");
    assert_line(t, "flowctl_policy_fetch_age_seconds{kind=\"policies\"} 0.5");
    assert_no(t, "flowctl_policy_fetch_age_seconds{kind=\"security_groups\"}");
    assert_line(t, "flowctl_meter_packets_total{meter=\"reject\"} 100");
    assert_line(t, "flowctl_meter_dropped_total{meter=\"reject\"} 4");
    assert_line(t, "flowctl_meter_dropped_total{meter=\"log-asg-deny\"} 49");
    assert_line(t, "flowctl_traffic_log_lines_total 1000");
    assert_line(t, "flowctl_traffic_log_lines_lost_total 3");
    assert_line(t, "flowctl_directory_connected 1");
    assert_line(t, "flowctl_lease_held 0");
    assert_line(t, "flowctl_directory_messages_total 12");
    /* One TYPE line per metric, however many series. */
    const char *first = strstr(t, "# TYPE flowctl_policy_fetches_total");
    assert_non_null(first);
    assert_null(strstr(first + 1, "# TYPE flowctl_policy_fetches_total"));
    ds_destroy(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core),
        cmocka_unit_test(test_latency_histogram),
        cmocka_unit_test(test_optional_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
