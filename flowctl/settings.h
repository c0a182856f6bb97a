/*
 * settings: flowctl's configuration file (JSON), see docs/configuration.md.
 *
 * The format is ours alone, so unknown members are rejected: a typo is
 * caught at start, with the member's path in the message.  Pure: the caller
 * reads the file. */

#ifndef FLOWCTL_SETTINGS_H
#define FLOWCTL_SETTINGS_H 1

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "model.h"

struct flowctl_config {
    char *bridge;                   /* Default "br-cf". */
    char *ovsdb;                    /* Default unix:/var/run/openvswitch/
                                     * db.sock. */
    char *openflow;                 /* Default unix:<rundir>/<bridge>.mgmt,
                                     * filled in by the caller. */
    bool netdev;                    /* datapath_type "netdev". */
    char *underlay_interface;       /* Required. */
    unsigned int mtu;               /* 0 = underlay MTU - overhead. */
    uint16_t netin_port_min;        /* NetIn host port range, default */
    uint16_t netin_port_max;        /* 61000-65535. */
    unsigned int reject_rate;       /* Rejects per second, default 100. */

    /* Cluster mode ("cluster" given): the overlay networks and this cell's
     * subnet come from the cluster directory, cfnet-db, not from here. */
    char *cluster_remotes;          /* "tcp:A,tcp:B,..."; NULL if single. */
    unsigned int renew_interval_s;  /* 0: the lease lifetime / 3. */

    /* What the pipeline needs: instance_address, overlays, subnet, DNS,
     * host services, deny_networks.  The gateway fields are filled in at
     * run time. */
    struct model_cell cell;
};

/* Parses the JSON text 'text' into 'cfg'.  Returns NULL on success (free
 * 'cfg' with flowctl_config_destroy()) or a malloc'd message naming the
 * member, leaving nothing to free. */
char *flowctl_config_parse(const char *text, struct flowctl_config *cfg)
    OVS_WARN_UNUSED_RESULT;

void flowctl_config_destroy(struct flowctl_config *);

/* Copies the cell part of 'cfg' into 'cell' (deep copy). */
void flowctl_config_copy_cell(const struct flowctl_config *,
                              struct model_cell *cell);

#endif /* settings.h */
