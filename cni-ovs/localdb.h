/*
 * localdb: cni-ovs's view of the cell's local OVSDB (Open_vSwitch database).
 *
 * One short-lived IDL session per CNI command.  It replicates only what one
 * container needs, with server-side conditions so the cost does not grow with
 * the number of containers on the cell:
 *
 *   Open_vSwitch   external_ids                (cf-subnet, cf-mtu)
 *   Bridge         name, ports                 (only the configured bridge)
 *   Port           name, interfaces            (only this container's port)
 *   Interface      name, ofport, error,        (only this container's
 *                  external_ids                 interface)
 *
 * The port and interface of a container share one name, the host-side veth
 * name that cfnet_host_ifname() derives from the container id.
 *
 * Every wait is bounded by an absolute deadline (time_msec() clock) and runs
 * OVS's poll loop; on expiry the functions fail with CNI code 11 ("try again
 * later").  Errors are malloc'd messages; '*code' receives the CNI code.
 *
 * Not thread-safe; one session per process. */

#ifndef CNI_OVS_LOCALDB_H
#define CNI_OVS_LOCALDB_H 1

#include <stdbool.h>

#include "compiler.h"
#include "smap.h"

struct localdb;

/* What an ADD needs to know before it starts: the cell's settings, and
 * whether the container's bridge and interface exist. */
struct localdb_snapshot {
    struct smap cell_ids;       /* Open_vSwitch external_ids (cf-subnet...). */
    bool has_bridge;            /* Does the bridge exist? */
    bool has_iface;             /* Does the container's interface exist? */
    struct smap iface_ids;      /* If so, its external_ids. */
};

void localdb_snapshot_init(struct localdb_snapshot *);
void localdb_snapshot_destroy(struct localdb_snapshot *);

/* Reads 'snapshot' (initialized by the caller) for bridge 'bridge' and
 * interface 'ifname' from 'remote' without an IDL session: one JSON-RPC
 * "transact" of three selects, one round trip, where an IDL session takes
 * three and the schema.  Returns NULL or an error (code 11). */
char *localdb_read_snapshot(const char *remote, const char *bridge,
                            const char *ifname, long long int deadline,
                            struct localdb_snapshot *snapshot, int *code)
    OVS_WARN_UNUSED_RESULT;

/* Connects to 'remote' and replicates the rows described above for bridge
 * 'bridge' and port/interface 'ifname'.  Returns NULL and stores the session
 * in '*dbp', or an error (code 11 when the database cannot be reached before
 * 'deadline'). */
char *localdb_open(const char *remote, const char *bridge, const char *ifname,
                   long long int deadline, struct localdb **dbp, int *code)
    OVS_WARN_UNUSED_RESULT;

/* localdb_open() in two steps, so that the caller can work while the server
 * answers: localdb_start() connects and sends the first request,
 * localdb_wait_ready() waits until the replica is complete.  After a failed
 * wait the caller still closes the session. */
struct localdb *localdb_start(const char *remote, const char *bridge,
                            const char *ifname);
char *localdb_wait_ready(struct localdb *, long long int deadline, int *code)
    OVS_WARN_UNUSED_RESULT;

void localdb_close(struct localdb *);

/* Returns Open_vSwitch external_ids, or NULL. */
const struct smap *localdb_get_cell_ids(const struct localdb *);

/* Returns Open_vSwitch external_ids:'key', or NULL. */
const char *localdb_get_cell_key(const struct localdb *, const char *key);

/* Returns the interface's external_ids if the container's interface exists,
 * else NULL. */
const struct smap *localdb_get_iface_ids(const struct localdb *);

/* Adds port and interface 'ifname' (type system) to the bridge in one
 * transaction, with 'external_ids' on the Interface, then waits until
 * ovs-vswitchd has given the interface an OpenFlow port number.  Fails if
 * vswitchd reports an error for the interface (its 'error' column). */
char *localdb_add_port(struct localdb *, const struct smap *external_ids,
                       long long int deadline, int *code)
    OVS_WARN_UNUSED_RESULT;

/* Waits until the interface has external_ids:cf-installed=true, which
 * flowctl writes once the container's flows are in OVS. */
char *localdb_wait_installed(struct localdb *, long long int deadline,
                             int *code)
    OVS_WARN_UNUSED_RESULT;

/* Removes the port and interface if they exist and, when 'handle' is
 * nonnull, belong to container 'handle' (Interface external_ids:cf-handle).
 * Absent is success. */
char *localdb_del_port(struct localdb *, const char *handle,
                       long long int deadline, int *code)
    OVS_WARN_UNUSED_RESULT;

#endif /* localdb.h */
