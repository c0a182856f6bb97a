/*
 * Unit tests of flowctl's configuration parser (flowctl/flowctl-config.c): the
 * single-cell and cluster modes, and errors that name the member.
 */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flowctl-config.h"
#include "util.h"

#define BASE "\"instance_address\": \"10.0.0.11\", " \
             "\"underlay_interface\": \"eth0\""

static void
parse_ok(const char *text, struct flowctl_config *cfg)
{
    char *error = flowctl_config_parse(text, cfg);
    if (error) {
        print_message("unexpected error: %s\n", error);
    }
    assert_null(error);
}

/* 'text' fails with a message that contains 'want'. */
static void
parse_fails(const char *text, const char *want)
{
    struct flowctl_config cfg;
    char *error = flowctl_config_parse(text, &cfg);

    assert_non_null(error);
    if (!strstr(error, want)) {
        print_message("error \"%s\" lacks \"%s\"\n", error, want);
        fail();
    }
    free(error);
}

static void
test_single_cell(void **state OVS_UNUSED)
{
    struct flowctl_config cfg;

    parse_ok("{" BASE ", \"subnet\": \"10.255.3.0/24\"}", &cfg);
    assert_null(cfg.cluster_remotes);
    assert_int_equal(cfg.cell.n_overlays, 1);
    assert_int_equal(cfg.cell.overlays[0].addr, 0x0aff0000);
    assert_int_equal(cfg.cell.overlays[0].plen, 16);
    assert_int_equal(cfg.cell.subnet.addr, 0x0aff0300);
    assert_false(cfg.cell.c2c_open);

    struct model_cell copy;
    flowctl_config_copy_cell(&cfg, &copy);
    assert_ptr_not_equal(copy.overlays, cfg.cell.overlays);
    assert_int_equal(copy.overlays[0].addr, 0x0aff0000);
    model_cell_destroy(&copy);
    flowctl_config_destroy(&cfg);

    parse_ok("{" BASE ", \"subnet\": \"10.9.3.0/24\", \"overlay_network\": "
             "\"10.9.0.0/16\", \"disable_container_network_policy\": true}",
             &cfg);
    assert_int_equal(cfg.cell.overlays[0].addr, 0x0a090000);
    assert_true(cfg.cell.c2c_open);
    flowctl_config_destroy(&cfg);

    parse_fails("{" BASE "}", "subnet");
    parse_fails("{" BASE ", \"subnet\": \"10.1.3.0/24\"}",
                "subnet: must lie inside overlay_network");
    parse_fails("{" BASE ", \"subnet\": \"10.255.3.0/24\", "
                "\"disable_container_network_policy\": \"yes\"}",
                "disable_container_network_policy");
}

static void
test_cluster(void **state OVS_UNUSED)
{
    struct flowctl_config cfg;

    parse_ok("{" BASE ", \"cluster\": {\"remotes\": [\"tcp:10.0.0.3:6641\", "
             "\"tcp:10.0.0.4:6641\", \"ssl:10.0.0.5:6641\"], "
             "\"renew_interval_s\": 5}}", &cfg);
    assert_string_equal(cfg.cluster_remotes, "tcp:10.0.0.3:6641,"
                        "tcp:10.0.0.4:6641,ssl:10.0.0.5:6641");
    assert_int_equal(cfg.renew_interval_s, 5);
    /* Overlay and subnet come later, from the directory. */
    assert_int_equal(cfg.cell.n_overlays, 0);
    assert_int_equal(cfg.cell.subnet.plen, 0);
    flowctl_config_destroy(&cfg);

    parse_ok("{" BASE ", \"cluster\": {\"remotes\": [\"unix:/x.sock\"]}}",
             &cfg);
    assert_string_equal(cfg.cluster_remotes, "unix:/x.sock");
    assert_int_equal(cfg.renew_interval_s, 0);
    flowctl_config_destroy(&cfg);

    parse_fails("{" BASE ", \"cluster\": {}}", "cluster.remotes: is required");
    parse_fails("{" BASE ", \"cluster\": {\"remotes\": []}}",
                "cluster.remotes: must be a non-empty array");
    parse_fails("{" BASE ", \"cluster\": {\"remotes\": [\"tcp:1.2.3.4:1\", "
                "\"10.0.0.4:6641\"]}}", "cluster.remotes[1]: must be");
    parse_fails("{" BASE ", \"cluster\": {\"remotes\": [\"tcp:a,tcp:b\"]}}",
                "cluster.remotes[0]");
    parse_fails("{" BASE ", \"cluster\": {\"remotes\": [\"tcp:a:1\"], "
                "\"renew\": 3}}", "cluster.renew");
    parse_fails("{" BASE ", \"subnet\": \"10.255.3.0/24\", \"cluster\": "
                "{\"remotes\": [\"tcp:a:1\"]}}",
                "subnet: comes from the cluster directory");
    parse_fails("{" BASE ", \"overlay_network\": \"10.255.0.0/16\", "
                "\"cluster\": {\"remotes\": [\"tcp:a:1\"]}}",
                "overlay_network: comes from the cluster directory");
}

/* flowctl_container_mtu() gives 'want' for an underlay MTU of 'underlay'
 * and configured "mtu" 'configured'. */
static void
mtu_ok(int underlay, unsigned int configured, unsigned int want)
{
    unsigned int mtu = 0;
    char *error = flowctl_container_mtu("eth0", underlay, configured, &mtu);
    if (error) {
        print_message("underlay %d, mtu %u: unexpected error: %s\n",
                      underlay, configured, error);
    }
    assert_null(error);
    assert_int_equal(mtu, want);
}

/* flowctl_container_mtu() refuses 'underlay' and 'configured' with exactly
 * the message 'want', leaving the output alone. */
static void
mtu_fails(int underlay, unsigned int configured, const char *want)
{
    unsigned int mtu = 12345;
    char *error = flowctl_container_mtu("eth0", underlay, configured, &mtu);
    assert_non_null(error);
    assert_string_equal(error, want);
    assert_int_equal(mtu, 12345);
    free(error);
}

/* The container MTU: the underlay's minus 58, or the configured one if the
 * underlay carries it; never below 576, never wrapped. */
static void
test_container_mtu(void **state OVS_UNUSED)
{
    mtu_ok(1500, 0, 1442);
    mtu_ok(9000, 0, 8942);
    mtu_ok(9000, 8942, 8942);
    mtu_ok(9000, 1400, 1400);
    /* The smallest underlay: exactly the minimum container MTU. */
    mtu_ok(634, 0, 576);
    mtu_ok(634, 576, 576);
    /* Loopback's 65536 still gives a veth's largest MTU. */
    mtu_ok(65536, 0, 65478);
    mtu_ok(70000, 0, 65535);

    mtu_fails(633, 0, "underlay_interface eth0 has MTU 633; the container "
              "MTU would be 575 (633 minus the 58-byte tunnel overhead), "
              "below the minimum 576: the underlay needs an MTU of at least "
              "634");
    mtu_fails(600, 0, "underlay_interface eth0 has MTU 600; the container "
              "MTU would be 542 (600 minus the 58-byte tunnel overhead), "
              "below the minimum 576: the underlay needs an MTU of at least "
              "634");
    /* Below the overhead: this used to wrap to about 4 billion. */
    mtu_fails(40, 0, "underlay_interface eth0 has MTU 40; the container "
              "MTU would be -18 (40 minus the 58-byte tunnel overhead), "
              "below the minimum 576: the underlay needs an MTU of at least "
              "634");
    /* A configured MTU does not help a too small underlay. */
    mtu_fails(600, 540, "underlay_interface eth0 has MTU 600; the container "
              "MTU would be 542 (600 minus the 58-byte tunnel overhead), "
              "below the minimum 576: the underlay needs an MTU of at least "
              "634");
    mtu_fails(9000, 8943, "mtu: 8943 is more than eth0 (MTU 9000) can carry "
              "with the 58-byte tunnel overhead (at most 8942)");
    mtu_fails(1500, 500, "mtu: 500 is below the minimum container MTU 576");
}

/* The configured "mtu": 0 or 576..65535. */
static void
test_mtu_setting(void **state OVS_UNUSED)
{
    struct flowctl_config cfg;

    parse_ok("{" BASE ", \"subnet\": \"10.255.3.0/24\", \"mtu\": 576}",
             &cfg);
    assert_int_equal(cfg.mtu, 576);
    flowctl_config_destroy(&cfg);

    parse_fails("{" BASE ", \"subnet\": \"10.255.3.0/24\", \"mtu\": 575}",
                "mtu: must be 0 (automatic) or 576..65535");
    parse_fails("{" BASE ", \"subnet\": \"10.255.3.0/24\", \"mtu\": 65536}",
                "mtu");
}

#define SUBNET BASE ", \"subnet\": \"10.255.3.0/24\""
#define PS_FILES "\"ca_cert\": \"/c/ca.pem\", " \
                 "\"client_cert\": \"/c/cert.pem\", " \
                 "\"client_key\": \"/c/key.pem\""
#define PS_URL "\"url\": \"https://policy-server.service.cf.internal:4003\""

static void
test_policy_server(void **state OVS_UNUSED)
{
    struct flowctl_config cfg;

    /* None: nothing polled, the defaults. */
    parse_ok("{" SUBNET "}", &cfg);
    assert_null(cfg.policy_server);
    assert_int_equal(cfg.policy_poll_interval_ms, 1000);
    assert_int_equal(cfg.asg_poll_interval_ms, 60000);
    assert_true(cfg.enable_asg_syncing);
    flowctl_config_destroy(&cfg);

    /* The smallest: the URL and the three files. */
    parse_ok("{" SUBNET ", \"policy_server\": {" PS_URL ", " PS_FILES "}}",
             &cfg);
    assert_non_null(cfg.policy_server);
    assert_string_equal(cfg.policy_server->url,
                        "https://policy-server.service.cf.internal:4003");
    assert_null(cfg.policy_server->address);
    assert_string_equal(cfg.policy_server->ca_cert, "/c/ca.pem");
    assert_string_equal(cfg.policy_server->client_cert, "/c/cert.pem");
    assert_string_equal(cfg.policy_server->client_key, "/c/key.pem");
    assert_int_equal(cfg.policy_server->connect_timeout_ms, 2000);
    assert_int_equal(cfg.policy_server->request_timeout_ms, 5000);
    flowctl_config_destroy(&cfg);

    /* Everything, with fractions of seconds. */
    parse_ok("{" SUBNET ", \"policy_server\": {" PS_URL ", " PS_FILES ", "
             "\"address\": \"10.0.0.6\", \"connect_timeout\": 0.5, "
             "\"request_timeout\": 3}, \"policy_poll_interval\": 0.25, "
             "\"asg_poll_interval\": 1, \"enable_asg_syncing\": false}",
             &cfg);
    assert_string_equal(cfg.policy_server->address, "10.0.0.6");
    assert_int_equal(cfg.policy_server->connect_timeout_ms, 500);
    assert_int_equal(cfg.policy_server->request_timeout_ms, 3000);
    assert_int_equal(cfg.policy_poll_interval_ms, 250);
    assert_int_equal(cfg.asg_poll_interval_ms, 1000);
    assert_false(cfg.enable_asg_syncing);
    flowctl_config_destroy(&cfg);

    parse_ok("{" SUBNET ", \"policy_server\": {\"url\": \"https://ps/\", "
             PS_FILES "}}", &cfg);
    assert_string_equal(cfg.policy_server->url, "https://ps/");
    flowctl_config_destroy(&cfg);

    /* Errors name the member. */
    parse_fails("{" SUBNET ", \"policy_server\": {" PS_FILES "}}",
                "policy_server.url: required");
    parse_fails("{" SUBNET ", \"policy_server\": {" PS_URL "}}",
                "policy_server.ca_cert");
    parse_fails("{" SUBNET ", \"policy_server\": {\"url\": "
                "\"http://ps:4003\", " PS_FILES "}}",
                "policy_server.url: \"http://ps:4003\" is not https://");
    parse_fails("{" SUBNET ", \"policy_server\": {\"url\": "
                "\"https://ps:70000\", " PS_FILES "}}", "policy_server.url");
    parse_fails("{" SUBNET ", \"policy_server\": {\"url\": "
                "\"https://ps:4003/networking\", " PS_FILES "}}",
                "policy_server.url");
    parse_fails("{" SUBNET ", \"policy_server\": {\"url\": "
                "\"https://:4003\", " PS_FILES "}}", "policy_server.url");
    parse_fails("{" SUBNET ", \"policy_server\": {" PS_URL ", " PS_FILES
                ", \"address\": \"10.0.0.6:4003\"}}",
                "policy_server.address");
    parse_fails("{" SUBNET ", \"policy_server\": {" PS_URL ", " PS_FILES
                ", \"ca_cert\": \"\"}}", "policy_server.ca_cert");
    parse_fails("{" SUBNET ", \"policy_server\": {" PS_URL ", " PS_FILES
                ", \"hostname\": \"x\"}}", "policy_server.hostname");
    parse_fails("{" SUBNET ", \"policy_server\": {" PS_URL ", " PS_FILES
                ", \"connect_timeout\": \"2\"}}",
                "policy_server.connect_timeout: must be a number");
    parse_fails("{" SUBNET ", \"policy_server\": {" PS_URL ", " PS_FILES
                ", \"request_timeout\": 0}}",
                "policy_server.request_timeout: must be 0.1..3600");
    parse_fails("{" SUBNET ", \"policy_server\": {" PS_URL ", " PS_FILES
                ", \"connect_timeout\": 10}}",
                "policy_server.connect_timeout: must not be longer than "
                "request_timeout");
    parse_fails("{" SUBNET ", \"policy_server\": \"https://ps\"}",
                "policy_server: must be an object");
    parse_fails("{" SUBNET ", \"policy_poll_interval\": 0.05}",
                "policy_poll_interval: must be 0.1..3600 seconds");
    parse_fails("{" SUBNET ", \"asg_poll_interval\": 0.5}",
                "asg_poll_interval: must be 1..86400 seconds");
    parse_fails("{" SUBNET ", \"enable_asg_syncing\": 1}",
                "enable_asg_syncing");
}

/* The traffic log: off by default; with a log file, the switches and the
 * rates; errors name the member. */
static void
test_logging(void **state OVS_UNUSED)
{
    struct flowctl_config cfg;

    parse_ok("{" SUBNET "}", &cfg);
    assert_null(cfg.log_file);
    assert_false(cfg.cell.logging);
    assert_false(cfg.cell.asg_logging);
    assert_false(cfg.cell.c2c_logging);
    assert_int_equal(cfg.accepted_udp_logs_per_sec, 100);
    assert_int_equal(cfg.denied_logs_per_sec, 1);
    assert_null(cfg.host_guid);
    assert_null(cfg.cell_name);
    flowctl_config_destroy(&cfg);

    parse_ok("{" SUBNET ", \"log_file\": \"/var/log/t.log\", "
             "\"asg_logging\": true, \"c2c_logging\": true, "
             "\"accepted_udp_logs_per_sec\": 5, "
             "\"denied_logs_per_sec\": 20, \"host_guid\": \"g-1\", "
             "\"cell_name\": \"cell-7\"}", &cfg);
    assert_string_equal(cfg.log_file, "/var/log/t.log");
    assert_true(cfg.cell.logging);
    assert_true(cfg.cell.asg_logging);
    assert_true(cfg.cell.c2c_logging);
    assert_int_equal(cfg.accepted_udp_logs_per_sec, 5);
    assert_int_equal(cfg.denied_logs_per_sec, 20);
    assert_string_equal(cfg.host_guid, "g-1");
    assert_string_equal(cfg.cell_name, "cell-7");
    flowctl_config_destroy(&cfg);

    parse_fails("{" SUBNET ", \"log_file\": \"t.log\"}",
                "log_file: must be an absolute path");
    parse_fails("{" SUBNET ", \"log_file\": 1}", "log_file");
    parse_fails("{" SUBNET ", \"asg_logging\": \"on\"}", "asg_logging");
    parse_fails("{" SUBNET ", \"denied_logs_per_sec\": 0}",
                "denied_logs_per_sec");
    parse_fails("{" SUBNET ", \"accepted_udp_logs_per_sec\": 100001}",
                "accepted_udp_logs_per_sec");
}

/* The metrics endpoint: off by default; "ip:port" becomes the passive
 * stream flowctl listens on; anything else is refused, naming the
 * member. */
static void
test_metrics_address(void **state OVS_UNUSED)
{
    struct flowctl_config cfg;

    parse_ok("{" SUBNET "}", &cfg);
    assert_null(cfg.metrics_target);
    flowctl_config_destroy(&cfg);

    parse_ok("{" SUBNET ", \"metrics_address\": \"127.0.0.1:9108\"}", &cfg);
    assert_string_equal(cfg.metrics_target, "ptcp:9108:127.0.0.1");
    flowctl_config_destroy(&cfg);

    parse_fails("{" SUBNET ", \"metrics_address\": \"127.0.0.1\"}",
                "metrics_address: \"127.0.0.1\" is not ip:port");
    parse_fails("{" SUBNET ", \"metrics_address\": \"localhost:9108\"}",
                "metrics_address: \"localhost:9108\" is not ip:port");
    parse_fails("{" SUBNET ", \"metrics_address\": \"127.0.0.1:0\"}",
                "metrics_address");
    parse_fails("{" SUBNET ", \"metrics_address\": \"127.0.0.1:65536\"}",
                "metrics_address");
    parse_fails("{" SUBNET ", \"metrics_address\": 9108}", "metrics_address");
}

/* The NetIn host port range: 61000-65535 by default; "LOW-HIGH" within
 * 1..65535, nothing else: no sign, no blank, no trailing text (sscanf()'s
 * %u read "-4294967295-5" as 1-5 before). */
static void
test_netin_port_range(void **state OVS_UNUSED)
{
    struct flowctl_config cfg;

    parse_ok("{" SUBNET "}", &cfg);
    assert_int_equal(cfg.netin_port_min, 61000);
    assert_int_equal(cfg.netin_port_max, 65535);
    flowctl_config_destroy(&cfg);

    parse_ok("{" SUBNET ", \"netin_port_range\": \"60000-60010\"}", &cfg);
    assert_int_equal(cfg.netin_port_min, 60000);
    assert_int_equal(cfg.netin_port_max, 60010);
    flowctl_config_destroy(&cfg);
    parse_ok("{" SUBNET ", \"netin_port_range\": \"1-65535\"}", &cfg);
    assert_int_equal(cfg.netin_port_min, 1);
    assert_int_equal(cfg.netin_port_max, 65535);
    flowctl_config_destroy(&cfg);

    static const char *bad[] = {
        "-4294967295-5", "+1-5", " 1-5", "1-5 ", "1-5x", "1 -5", "1-",
        "-5", "5", "", "0-10", "10-5", "1-65536", "000001-5", "1--5",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *text = xasprintf("{" SUBNET ", \"netin_port_range\": \"%s\"}",
                               bad[i]);
        char *want = xasprintf("netin_port_range: \"%s\" is not LOW-HIGH",
                               bad[i]);
        parse_fails(text, want);
        free(want);
        free(text);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_cell),
        cmocka_unit_test(test_cluster),
        cmocka_unit_test(test_container_mtu),
        cmocka_unit_test(test_mtu_setting),
        cmocka_unit_test(test_policy_server),
        cmocka_unit_test(test_logging),
        cmocka_unit_test(test_metrics_address),
        cmocka_unit_test(test_netin_port_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
