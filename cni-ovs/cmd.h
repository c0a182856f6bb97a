/*
 * cmd: the CNI commands of cni-ovs (ADD, DEL, CHECK).
 *
 * main.c reads the environment and the network config and calls one of
 * these.  Each returns NULL on success, storing the CNI result (malloc'd
 * JSON text, or NULL when the command prints nothing) in '*out'; on failure
 * it returns a malloc'd message and stores the CNI error code (enum
 * cni_error, result.h) in '*code'.  A failed ADD leaves nothing behind.
 * 'env' has passed cni_env_check(). */

#ifndef CNI_OVS_CMD_H
#define CNI_OVS_CMD_H 1

#include "compiler.h"

#include <stdint.h>

#include "cni-env.h"

struct netconf;
struct plumb_spec;
struct smap;

/* How long cni-ovs waits for the cell's OVSDB and for ovs-vswitchd to add a
 * port, in milliseconds.  'install_timeout' comes on top of it. */
#define CNI_OVSDB_TIMEOUT_MS 20000

char *cmd_add(const struct cni_env *, const struct netconf *, char **out,
              int *code) OVS_WARN_UNUSED_RESULT;
char *cmd_del(const struct cni_env *, const struct netconf *, char **out,
              int *code) OVS_WARN_UNUSED_RESULT;
char *cmd_check(const struct cni_env *, const struct netconf *, char **out,
                int *code) OVS_WARN_UNUSED_RESULT;

/* Fills 'spec' with how the container 'env' with address 'ip' (host order)
 * and MTU 'mtu' is plumbed through host veth 'host_ifname'.  Shared by ADD
 * and CHECK so that CHECK verifies exactly what ADD made. */
void cmd_plumb_spec(const struct cni_env *, const struct netconf *,
                    const char *host_ifname, uint32_t ip, unsigned int mtu,
                    struct plumb_spec *);
void cmd_plumb_spec_set_ip(struct plumb_spec *, uint32_t ip);

/* Reads the cell's subnet (external_ids:cf-subnet, malloc'd into
 * '*subnetp') and the container MTU (the config's "mtu" if nonzero, else
 * external_ids:cf-mtu) from the Open_vSwitch row's external_ids
 * 'cell_ids' (NULL if there is no such row).  Fails with code 11 while
 * flowctl has not written them. */
char *cmd_read_cell(const struct smap *cell_ids, const struct netconf *,
                    char **subnetp, unsigned int *mtu, int *code)
    OVS_WARN_UNUSED_RESULT;

#endif /* cmd.h */
