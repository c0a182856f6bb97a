/*
 * localdb: flowctl's adapter to the cell's local OVSDB (the Open_vSwitch
 * database; not the cluster directory, directory.h).
 *
 * Each run, inside the caller's IDL transaction:
 *
 *   - ensures the bridge (datapath type, fail-mode secure, OpenFlow 1.3-1.5,
 *     Flow_Table names from pipeline.h) and its gateway port "cf-gw" (an
 *     internal port with a fixed MAC and the container MTU), and in cluster
 *     mode the flow-based Geneve port "cf-tun";
 *   - publishes the cell's settings in Open_vSwitch external_ids: cf-subnet
 *     and cf-mtu, which cni-ovs reads;
 *   - rebuilds the model's containers from the Interface rows that cni-ovs
 *     wrote (only those with an OpenFlow port): address, workload, app
 *     (cf-policy-group-id), space (cf-space-id), Garden's NetOut rules
 *     (parsing each distinct cf-netout-rules text once), port mappings;
 *     then model_resolve() derives each one's tag and rules from the
 *     policy server's data;
 *   - writes external_ids:cf-installed=true on every container interface
 *     whose flows OVS has acknowledged (localdb_mark_installed()) and that
 *     is ready as far as the policy server goes (model_container_ready():
 *     its app's policies were in the acknowledged table).
 *
 * Not thread-safe. */

#ifndef FLOWCTL_LOCALDB_H
#define FLOWCTL_LOCALDB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct flowctl_config;
struct metrics_histogram;
struct model;
struct ovsdb_idl;
struct ovsdb_idl_txn;

/* The gateway port's name. */
#define LOCALDB_GW_PORT "cf-gw"

struct localdb *localdb_create(struct ovsdb_idl *,
                               const struct flowctl_config *,
                         unsigned int mtu);
void localdb_destroy(struct localdb *);

/* Sets the cell's subnet (in cluster mode, once the lease is held; in
 * single-cell mode localdb_create() takes it from the configuration).  Until
 * then localdb_run() creates and publishes nothing. */
struct ipv4_cidr;
void localdb_set_subnet(struct localdb *, const struct ipv4_cidr *);

/* Registers the tables and columns flowctl needs with 'idl' (before the
 * first ovsdb_idl_run()). */
void localdb_register_idl(struct ovsdb_idl *);

/* Does the work above.  'txn' may be NULL (a transaction is in flight):
 * then only the model is rebuilt.  Returns true if the model changed. */
bool localdb_run(struct localdb *, struct ovsdb_idl_txn *txn, struct model *);

/* Stores in '*subnet' the cf-subnet published in the database (by this
 * run or an earlier one) and returns true, or returns false if there is
 * none. */
bool localdb_published_subnet(const struct localdb *,
                              struct ipv4_cidr *subnet);

/* The gateway port's OpenFlow port number, or 0 until vswitchd has one. */
uint32_t localdb_gateway_ofport(const struct localdb *);

/* cf-installed accounting.  cf-installed=true on a container's Interface
 * row says that OVS has acknowledged a table holding the container's
 * flows, so that cni-ovs ADD, which waits for it, returns only once the
 * container's traffic flows.  Each desired table's containers (each by its
 * Interface row and OpenFlow port) are recorded with it; the put that sends
 * the table records them under its sequence number; the acknowledgment of
 * that put marks exactly them.  A container that appears while a put is in
 * flight waits for a later put; one deleted (or made again under the same
 * handle) meanwhile is never marked for the old row's flows.  As OVN's
 * ofctrl-seqno and if-status do.
 *
 * Call localdb_note_desired() whenever the desired table is computed from
 * 'model' (it leaves out the containers that model_container_ready() says
 * still wait for their app's policies), localdb_note_put() with the
 * sequence number each ofctrl_put() of that table returns (also when it
 * sent nothing), and localdb_mark_installed() on every iteration with
 * ofctrl_acked_seqno(). */
void localdb_note_desired(struct localdb *, const struct model *);
void localdb_note_put(struct localdb *, uint64_t seqno);

/* Marks installed, in 'txn', every container whose Interface row and port
 * were in the table of the put OVS acknowledged last ('acked_seqno'), and
 * forgets earlier puts.  With a null 'txn' it only takes the
 * acknowledgment in; the marks follow with the next transaction.  'now'
 * (monotonic msec) times each container from the first call that sees its
 * port unmarked to the call that marks it: the install latency. */
void localdb_mark_installed(struct localdb *, struct ovsdb_idl_txn *txn,
                            uint64_t acked_seqno, long long int now);

/* The install latencies observed since localdb_create() (metrics.h). */
const struct metrics_histogram *localdb_get_install_latency(
    const struct localdb *);

/* Removes, in 'txn', the ports of containers whose host interface no
 * longer exists in the kernel (the cell rebooted, or a DEL never came).
 * Meant for start-up.  Returns the number removed. */
size_t localdb_remove_stale_ports(struct localdb *, struct ovsdb_idl_txn *txn);

/* Removes Open_vSwitch other_config:flow-restore-wait, which an operator
 * (or ovs-ctl) sets while restarting ovs-vswitchd so that it keeps the
 * datapath until the controller has put its flows back.  Call once the
 * first full put after a connection is acknowledged. */
void localdb_end_flow_restore_wait(struct localdb *,
                                   struct ovsdb_idl_txn *txn);

/* Appends the containers and their state to 'ds' (for flowctl/show). */
void localdb_format(const struct localdb *, const struct model *, struct ds *);

#endif /* localdb.h */
