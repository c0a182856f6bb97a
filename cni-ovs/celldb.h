/*
 * celldb: cni-ovs's view of the cell's local OVSDB (Open_vSwitch database).
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

#ifndef CNI_OVS_CELLDB_H
#define CNI_OVS_CELLDB_H 1

#include <stdbool.h>

#include "compiler.h"
#include "smap.h"

struct celldb;

/* What an ADD needs to know before it starts: the cell's settings, and
 * whether the container's bridge and interface exist. */
struct celldb_settings {
    struct smap cell_ids;       /* Open_vSwitch external_ids (cf-subnet...). */
    bool has_bridge;            /* Does the bridge exist? */
    bool has_iface;             /* Does the container's interface exist? */
    struct smap iface_ids;      /* If so, its external_ids. */
};

void celldb_settings_init(struct celldb_settings *);
void celldb_settings_destroy(struct celldb_settings *);

/* Reads 'settings' (initialized by the caller) for bridge 'bridge' and
 * interface 'ifname' from 'remote' without an IDL session: one JSON-RPC
 * "transact" of three selects, one round trip, where an IDL session takes
 * three and the schema.  Returns NULL or an error (code 11). */
char *celldb_read_settings(const char *remote, const char *bridge,
                           const char *ifname, long long int deadline,
                           struct celldb_settings *settings, int *code)
    OVS_WARN_UNUSED_RESULT;

/* Connects to 'remote' and replicates the rows described above for bridge
 * 'bridge' and port/interface 'ifname'.  Returns NULL and stores the session
 * in '*dbp', or an error (code 11 when the database cannot be reached before
 * 'deadline'). */
char *celldb_open(const char *remote, const char *bridge, const char *ifname,
                  long long int deadline, struct celldb **dbp, int *code)
    OVS_WARN_UNUSED_RESULT;

/* celldb_open() in two steps, so that the caller can work while the server
 * answers: celldb_start() connects and sends the first request,
 * celldb_wait_ready() waits until the replica is complete.  After a failed
 * wait the caller still closes the session. */
struct celldb *celldb_start(const char *remote, const char *bridge,
                            const char *ifname);
char *celldb_wait_ready(struct celldb *, long long int deadline, int *code)
    OVS_WARN_UNUSED_RESULT;

void celldb_close(struct celldb *);

/* Returns Open_vSwitch external_ids, or NULL. */
const struct smap *celldb_get_cell_ids(const struct celldb *);

/* Returns Open_vSwitch external_ids:'key', or NULL. */
const char *celldb_get_cell_key(const struct celldb *, const char *key);

/* Returns the interface's external_ids if the container's interface exists,
 * else NULL. */
const struct smap *celldb_get_iface_ids(const struct celldb *);

/* Adds port and interface 'ifname' (type system) to the bridge in one
 * transaction, with 'external_ids' on the Interface, then waits until
 * ovs-vswitchd has given the interface an OpenFlow port number.  Fails if
 * vswitchd reports an error for the interface (its 'error' column). */
char *celldb_add_port(struct celldb *, const struct smap *external_ids,
                      long long int deadline, int *code)
    OVS_WARN_UNUSED_RESULT;

/* Waits until the interface has external_ids:cf-installed=true, which
 * flowctl writes once the container's flows are in OVS. */
char *celldb_wait_installed(struct celldb *, long long int deadline,
                            int *code)
    OVS_WARN_UNUSED_RESULT;

/* Removes the port and interface if they exist and, when 'handle' is
 * nonnull, belong to container 'handle' (Interface external_ids:cf-handle).
 * Absent is success. */
char *celldb_del_port(struct celldb *, const char *handle,
                      long long int deadline, int *code)
    OVS_WARN_UNUSED_RESULT;

#endif /* celldb.h */
