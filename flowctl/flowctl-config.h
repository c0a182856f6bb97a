/*
 * flowctl-config: flowctl's configuration file (JSON), see
 * docs/configuration.md.  (Not to be confused with the cell's keys in
 * Open_vSwitch external_ids, which flowctl publishes: localdb.h.)
 *
 * The format is ours alone, so unknown members are rejected: a typo is
 * caught at start, with the member's path in the message.
 * flowctl_config_parse() and flowctl_container_mtu() are pure;
 * flowctl_config_read() reads the file and parses it. */

#ifndef FLOWCTL_FLOWCTL_CONFIG_H
#define FLOWCTL_FLOWCTL_CONFIG_H 1

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "model.h"

/* "policy_server": where flowctl fetches c2c policies and security groups
 * (policysync.h), over mutual TLS. */
struct flowctl_policy_server {
    char *url;                      /* "https://HOST[:PORT]", required. */
    char *address;                  /* Connect here instead of resolving
                                     * the URL's host; NULL: resolve. */
    char *ca_cert;                  /* PEM files, required. */
    char *client_cert;
    char *client_key;
    unsigned int connect_timeout_ms;    /* Default 2000. */
    unsigned int request_timeout_ms;    /* Default 5000. */
};

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

    /* The policy server; NULL if none is configured (then nothing is
     * polled).  The intervals are the polls' longest waits. */
    struct flowctl_policy_server *policy_server;
    unsigned int policy_poll_interval_ms;   /* Default 1000, >= 100. */
    unsigned int asg_poll_interval_ms;      /* Default 60000, >= 1000. */
    bool enable_asg_syncing;                /* Default true. */

    /* The traffic log: where it goes (NULL: no log, the default), how many
     * accepted UDP packets and denied packets per second it gets at most,
     * this cell's BOSH instance id for its lines (NULL: "") and its name.
     * asg_logging and c2c_logging are in 'cell' (the flows depend on
     * them), as is 'logging', set with a log_file. */
    char *log_file;
    unsigned int accepted_udp_logs_per_sec;     /* Default 100. */
    unsigned int denied_logs_per_sec;           /* Default 1. */
    char *host_guid;
    char *cell_name;            /* Its lines' "cell"; NULL: the host name. */

    /* Where flowctl serves its metrics (metrics.h), as a passive stream
     * name "ptcp:PORT:IP" from "metrics_address"; NULL: nowhere. */
    char *metrics_target;

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

/* Reads the file 'file_name' and parses it as flowctl_config_parse() does.
 * Returns NULL on success or a malloc'd message that starts with
 * 'file_name'. */
char *flowctl_config_read(const char *file_name, struct flowctl_config *cfg)
    OVS_WARN_UNUSED_RESULT;

void flowctl_config_destroy(struct flowctl_config *);

/* The container MTU's limits.  The minimum is the datagram size every IPv4
 * host must be able to receive (RFC 791 and RFC 1122, 576 bytes): below
 * it, DNS answers and ordinary TCP segments no longer fit in one packet.
 * The maximum is the largest MTU of a veth (ETH_MAX_MTU) and what cni-ovs
 * accepts in cf-mtu. */
#define FLOWCTL_MIN_CONTAINER_MTU 576
#define FLOWCTL_MAX_CONTAINER_MTU 65535

/* Works out the container MTU from the MTU 'underlay_mtu' of the underlay
 * interface 'ifname' and the configured "mtu" 'configured' (0 means
 * automatic): the underlay's MTU minus the tunnel overhead
 * (CFNET_TUNNEL_OVERHEAD), at most FLOWCTL_MAX_CONTAINER_MTU, or
 * 'configured' if it is not above that.  Refuses an underlay whose MTU
 * leaves less than FLOWCTL_MIN_CONTAINER_MTU.  Returns NULL and stores the
 * MTU in '*mtup', or a malloc'd message naming the interface or the
 * setting and the limit ('*mtup' untouched).  Pure. */
char *flowctl_container_mtu(const char *ifname, int underlay_mtu,
                            unsigned int configured, unsigned int *mtup)
    OVS_WARN_UNUSED_RESULT;

/* Copies the cell part of 'cfg' into 'cell' (deep copy). */
void flowctl_config_copy_cell(const struct flowctl_config *,
                              struct model_cell *cell);

#endif /* flowctl-config.h */
