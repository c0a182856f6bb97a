/*
 * fuzz-flowctl-config: flowctl's configuration file (the BOSH job renders
 * it), through flowctl_config_parse() (flowctl/flowctl-config.h).
 *
 * Promises checked:
 *   - a refusal has a message and leaves nothing to free;
 *   - an accepted config is within the documented limits: one overlay
 *     network unless in cluster mode (none then: cfnet-db has them) with
 *     this cell's subnet inside it, an MTU of 0 or at least the minimum,
 *     a NetIn port range in order, positive rates.
 */

#include <config.h>

#include "flowctl-config.h"
#include "fuzz.h"
#include "ipv4.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    struct flowctl_config cfg;

    char *error = flowctl_config_parse(text, &cfg);
    if (error) {
        FUZZ_CHECK(error[0] != '\0');
        free(error);
    } else {
        if (cfg.cluster_remotes) {
            FUZZ_CHECK(cfg.cell.n_overlays == 0);
        } else {
            FUZZ_CHECK(cfg.cell.n_overlays == 1);
            FUZZ_CHECK(!cfg.cell.subnet.plen
                       || (cfg.cell.subnet.plen >= cfg.cell.overlays[0].plen
                           && ipv4_cidr_contains(&cfg.cell.overlays[0],
                                                 cfg.cell.subnet.addr)));
        }
        FUZZ_CHECK(!cfg.mtu || (cfg.mtu >= FLOWCTL_MIN_CONTAINER_MTU
                                && cfg.mtu <= 65535));
        FUZZ_CHECK(cfg.netin_port_min >= 1
                   && cfg.netin_port_min <= cfg.netin_port_max);
        FUZZ_CHECK(cfg.reject_rate > 0);
        FUZZ_CHECK(cfg.accepted_udp_logs_per_sec > 0);
        FUZZ_CHECK(cfg.denied_logs_per_sec > 0);
        flowctl_config_destroy(&cfg);
    }
    free(text);
    return 0;
}
