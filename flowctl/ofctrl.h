/*
 * ofctrl: keeps the flows in ovs-vswitchd in step with flowctl's desired
 * flow table, without ever leaving a gap.
 *
 * Modelled on OVN's controller/ofctrl.c, with its state in a struct:
 *
 *   - one rconn to the bridge's management socket (unix:RUNDIR/BR.mgmt),
 *     OpenFlow 1.5;
 *   - an installed table: what OVS has, as far as flowctl has told it;
 *   - ofctrl_put() diffs a desired table against the installed one and
 *     sends the difference as ONE ordered, atomic bundle (OFPBF_ORDERED |
 *     OFPBF_ATOMIC: open, adds, commit), then a barrier.  The barrier reply
 *     acknowledges the put's sequence number; ofctrl_acked_seqno() reports
 *     the latest one, which the caller maps to the containers whose flows
 *     that put carried (to write cf-installed=true);
 *   - the commit waits for a first barrier after the adds: OVS decodes and
 *     checks each flow_mod when it is added to the bundle (some checks,
 *     such as whether a group or meter exists, wait for the commit), and a
 *     flow_mod that fails there is left out of the bundle with an error
 *     while the rest would still commit.  So: open, adds, barrier; if any
 *     of them drew an error, discard the bundle, otherwise commit, barrier
 *     (as ovs-ofctl --bundle does);
 *   - nothing is sent while a bundle is outstanding (ofctrl_can_put() is
 *     false), so puts never pile up in the rconn queue;
 *   - on every (re)connection, the installed table is unknown: the first put
 *     after it deletes all flows (in tables flowctl owns) and adds the whole
 *     desired table *inside the same bundle*, so a flowctl restart or a
 *     reconnection loses no packet.  Before that put nothing is cleared;
 *   - on every connection, first, the switch's fragment handling is set to
 *     "nx-match" (OFPT_SET_CONFIG), so that the first fragment of a
 *     datagram is matched with its ports (with "normal", OVS's default,
 *     every fragment's ports read 0);
 *   - meters (which OpenFlow does not allow in bundles) are (re)added with a
 *     plain meter_mod on each connection, before the first bundle (an add,
 *     then a modify if the meter exists: deleting a meter would delete the
 *     flows that use it);
 *   - with ofctrl_set_tlv_map(), a Geneve option mapping (class, type,
 *     length -> tun_metadataN) is ensured on each connection, after the
 *     meters and before the first bundle (whose flows use the field): the
 *     TLV table is requested; if the mapping is there, nothing else is sent;
 *     if the field or the option is mapped differently (by someone else),
 *     an error names both mappings and ofctrl carries on (the switch
 *     rejects, or misdirects, the flows that use the field); otherwise a
 *     TLV table mod adds it, followed by a barrier.  A mod that loses a race
 *     with another controller (NXTTMFC_ALREADY_MAPPED, NXTTMFC_DUP_ENTRY)
 *     requests the table once more.  A bundle the switch rejects makes
 *     ofctrl check the mapping again, in case someone deleted it;
 *   - a flow whose flow_mod would not fit in an OpenFlow message (65,535
 *     bytes, bundle-add header included) is refused, not sent with a
 *     wrapped length: logged (rate-limited), counted (n_refused), shown by
 *     ofctrl_format(), and treated as not desired (an add is left out, a
 *     modify deletes the flow it would replace).  The pipeline never makes
 *     one (pipeline.c, "ASG conjunctions"): this is the last guard;
 *   - conntrack flushes queued with ofctrl_flush_conntrack() (the
 *     addresses of containers that went or came, ctflush.h) are sent right
 *     after a bundle's commit and before its barrier: the flows that
 *     admitted the old connections are gone by then, and the put is not
 *     acknowledged (so no new container is marked installed) before the
 *     flushes are done;
 *   - an error from the switch for a bundle (a bad flow) is logged
 *     (rate-limited) and the installed table is marked unknown, so that the
 *     next put replaces everything again.
 *
 * States (ofctrl/show prints them):
 *   S_DISCONNECTED  no OpenFlow connection.
 *   S_NEW           connected; meters sent; waiting for the first put,
 *                   which replaces all flows (also after a failed
 *                   bundle).
 *   S_IDLE          in sync as far as we know; puts send diffs.
 *   S_BUNDLE        a bundle and barrier are in flight.
 *
 * The TLV mapping has a state of its own (ofctrl_format() shows it): while
 * the table request or the mod is in flight, ofctrl_can_put() is false,
 * whatever the state above.
 *
 * Not thread-safe; one instance per bridge. */

#ifndef FLOWCTL_OFCTRL_H
#define FLOWCTL_OFCTRL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct flow_table;

/* A meter flowctl needs (OpenFlow 1.3 meters, packets per second). */
struct ofctrl_meter {
    uint32_t meter_id;
    uint32_t rate_pps;
    uint32_t burst;
};

struct ofctrl *ofctrl_create(const char *target);
void ofctrl_destroy(struct ofctrl *);

/* The meters to ensure on every connection (replacing any earlier list);
 * if connected, ensures a changed list right away.  Meters dropped from
 * the list are left in the switch. */
void ofctrl_set_meters(struct ofctrl *, const struct ofctrl_meter *,
                       size_t n);

/* The Geneve option mapping to ensure on every connection (see above):
 * option 'opt_class', 'opt_type', 'opt_len' bytes (a multiple of 4, at most
 * 124) -> tun_metadata'index' (less than 64).  One mapping; a later call
 * replaces it and, if connected, checks it right away.  Without a call, no
 * TLV message is ever sent. */
void ofctrl_set_tlv_map(struct ofctrl *, uint16_t opt_class, uint8_t opt_type,
                        uint8_t opt_len, uint16_t index);

void ofctrl_run(struct ofctrl *);
void ofctrl_wait(struct ofctrl *);

/* True if connected, no bundle is outstanding and the TLV mapping (if any)
 * has been checked (present, added, or found in conflict) on this
 * connection. */
bool ofctrl_can_put(const struct ofctrl *);

/* True if the switch's flows are unknown (S_NEW: after a (re)connection, or
 * after a bundle failed), so that the caller must put its desired table
 * even if it has not changed.  After a failed bundle this becomes true only
 * after a backoff (0.5 s, doubling up to 16 s until a put succeeds), so
 * that a desired table the switch rejects is not resent in a tight loop;
 * ofctrl_wait() wakes the caller when it does. */
bool ofctrl_needs_put(const struct ofctrl *);

/* Sends what turns the installed table into 'desired' (everything, in one
 * replacing bundle, after a (re)connection), and returns the sequence
 * number that ofctrl_acked_seqno() will report once OVS has committed it.
 * Sends nothing, and returns the last sequence number, if nothing differs:
 * that number is then ofctrl_acked_seqno() already (a put can send nothing
 * only when the installed table is known, with no bundle in flight), so
 * the caller may treat 'desired' as acknowledged under it.  Requires
 * ofctrl_can_put(). */
uint64_t ofctrl_put(struct ofctrl *, const struct flow_table *desired);

/* Queues the addresses 'addrs' (host byte order), whose conntrack entries
 * in 'zone' are to go (ctflush.h says which): for each, those of
 * connections from it (original source) and to it (reply source).  They
 * are sent right after the commit of the next bundle, before its barrier,
 * so that its acknowledgment follows them, or at once by the next put that
 * has nothing to change; while disconnected they wait.  On a switch that
 * refuses NXT_CT_FLUSH (older than Open vSwitch 3.1) a warning is logged
 * once and nothing is flushed again (counted in n_ct_unflushed). */
void ofctrl_flush_conntrack(struct ofctrl *, uint16_t zone,
                            const uint32_t *addrs, size_t n);

/* The highest sequence number whose bundle OVS has committed. */
uint64_t ofctrl_acked_seqno(const struct ofctrl *);

/* The installed table (valid in S_IDLE and S_BUNDLE). */
const struct flow_table *ofctrl_installed(const struct ofctrl *);

/* Is there an OpenFlow connection? */
bool ofctrl_is_connected(const struct ofctrl *);

/* Appends a human-readable state summary to 'ds' (for unixctl). */
void ofctrl_format(const struct ofctrl *, struct ds *);

/* Counters since ofctrl_create(). */
struct ofctrl_stats {
    uint64_t n_connections;     /* OpenFlow connections made. */
    uint64_t n_puts;            /* ofctrl_put() calls... */
    uint64_t n_unchanged;       /* ...of which sent nothing. */
    uint64_t n_bundles;         /* Bundles sent. */
    uint64_t n_replaces;        /* Bundles that replaced all flows. */
    uint64_t n_commits;         /* Bundles committed and acknowledged. */
    uint64_t n_failed;          /* Bundles the switch rejected. */
    uint64_t n_flow_mods;       /* Flow mods sent inside bundles. */
    uint64_t n_refused;         /* Flows not sent: too large to encode
                                 * (see flow_change_encode()). */
    uint64_t n_meter_mods;      /* Meter mods sent. */
    uint64_t n_tlv_mods;        /* TLV table mods sent. */
    uint64_t n_errors;          /* OFPT_ERROR messages received (except a
                                 * meter add's "meter exists" and a TLV
                                 * mod's lost race). */
    uint64_t n_ct_flushed;      /* Addresses whose conntrack entries were
                                 * flushed (ofctrl_flush_conntrack()). */
    uint64_t n_ct_unflushed;    /* ... not flushed: unsupported. */
};

void ofctrl_get_stats(const struct ofctrl *, struct ofctrl_stats *);

#endif /* ofctrl.h */
