/*
 * cf-policy: the documents of Cloud Foundry's internal policy server, as
 * plain C.
 *
 * flowctl polls three endpoints of the policy server's internal API
 * (docs/architecture.md, "The policy server"; the shapes are CF's own,
 * cf-networking's policy-server/handlers):
 *
 *   GET /networking/v1/internal/policies_last_updated
 *       a bare integer: the Unix time of the last policy change, in
 *       nanoseconds;
 *   GET /networking/v1/internal/policies?id=G1,G2,...
 *       {"total_policies":N,"policies":[{"source":{"id":"G","tag":"0001"},
 *        "destination":{"id":"H","tag":"0002","protocol":"tcp",
 *        "ports":{"start":8080,"end":8090}}}]}
 *   GET /networking/v1/internal/security_groups?space_guids=S1,...&limit=N
 *       &from=ID
 *       {"next":ID,"security_groups":[{"guid":"..","name":"..",
 *        "rules":"<a JSON array, encoded as a string>",
 *        "staging_default":false,"running_default":true,
 *        "staging_space_guids":[..],"running_space_guids":[..]}]}
 *
 * The parsers here turn those bodies into the structures below.  A body
 * that is not the document at all (not JSON, or without its top-level
 * member) is an error and yields nothing, so the caller keeps what it had
 * (fail static).  Inside a good document, one malformed entry (a policy
 * without a tag, a rule with a bad destination) is skipped: the parser
 * appends one message naming its JSON path to 'skipped', e.g.
 *
 *     policies[3].destination.ports.end: must be 1..65535
 *     security_groups[0].rules[2].destination: "10.0.0.300" is not an
 *         IPv4 address, range or CIDR
 *
 * and the rest applies.  Skipping a rule of an allow list can only allow
 * less.
 *
 * Tags are hex strings of 1 to 4 bytes ("01", "0001", "000001",
 * "00000001"; CF writes them in upper case, we accept either), never 0.
 *
 * Security-group rules are converted into the Garden shape the rest of
 * cni-ovs uses (struct cf_netout_rule, cf-types.h):
 *   - protocol "all", "tcp", "udp", "icmp" (case-insensitive);
 *   - destination: an IPv4 address, a CIDR, a range "a-b" or a comma list
 *     of those (each becomes one entry of 'networks');
 *   - ports (tcp and udp only, required for them): "80", "80,443",
 *     "8000-8010" or a comma list of ports and ranges, 1..65535;
 *   - type and code (icmp only; absent means any): -1 means any (stored as
 *     CF_ICMP_ANY), otherwise 0..255;
 *   - log: a boolean, default false; "description" is ignored.
 * Each kept rule remembers its index in the group's "rules" array, its
 * identity across fetches (with the group's guid).
 *
 * Pure: no I/O.  Not thread-safe (no shared state either). */

#ifndef CFNET_CF_POLICY_H
#define CFNET_CF_POLICY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf-types.h"
#include "compiler.h"

struct svec;

/* One c2c policy: the app with policy group id 'src_id' may open
 * connections to the containers of 'dst_id' on 'protocol' ports
 * 'port_start'..'port_end'. */
struct cf_policy {
    char *src_id;                       /* Policy group id (app GUID). */
    uint32_t src_tag;                   /* Never 0. */
    char *dst_id;
    uint32_t dst_tag;                   /* Never 0. */
    enum cf_proto protocol;             /* CF_PROTO_TCP or CF_PROTO_UDP. */
    uint16_t port_start;                /* 1..65535, start <= end. */
    uint16_t port_end;
};

struct cf_policy_list {
    struct cf_policy *policies;
    size_t n;
};

/* Parses the body ('len' bytes, not necessarily null-terminated) of
 * GET .../policies into 'list' (which the caller zero-initializes).
 * Returns NULL, with every usable policy in 'list' (in the document's
 * order) and a malloc'd message per skipped entry appended to 'skipped'
 * (may be NULL); or a malloc'd error, with 'list' left empty, if the body
 * is not such a document.  "total_policies", when present, must equal the
 * number of entries of "policies" (a truncated list is refused whole). */
char *cf_policies_parse(const char *body, size_t len,
                        struct cf_policy_list *list, struct svec *skipped)
    OVS_WARN_UNUSED_RESULT;
void cf_policy_list_destroy(struct cf_policy_list *);

/* Parses a tag: 2, 4, 6 or 8 hex digits, not all zero.  Returns true and
 * stores it in '*tag', or returns false. */
bool cf_policy_tag_parse(const char *s, uint32_t *tag);

/* Parses the body of GET .../policies_last_updated: a non-negative decimal
 * integer, optionally surrounded by white space.  Returns NULL or a
 * malloc'd error. */
char *cf_policies_last_updated_parse(const char *body, size_t len,
                                     uint64_t *nsp)
    OVS_WARN_UNUSED_RESULT;

/* One application security group. */
struct cf_asg {
    char *guid;
    char *name;
    struct cf_netout_rule *rules;       /* The usable rules... */
    uint32_t *rule_index;               /* ...and each one's index in the
                                         * group's "rules" array. */
    size_t n_rules;
    bool staging_default;               /* Applies to every space. */
    bool running_default;
    char **staging_spaces;              /* Space GUIDs it is bound to. */
    size_t n_staging_spaces;
    char **running_spaces;
    size_t n_running_spaces;
};

/* One page of GET .../security_groups. */
struct cf_asg_page {
    struct cf_asg *asgs;                /* In the document's order. */
    size_t n;
    uint64_t next;                      /* 0: the last page. */
};

/* Parses one page (see cf_policies_parse() for the contract).  A group
 * without a guid is skipped; a group whose "rules" string is not a JSON
 * array is skipped; a rule that cannot be converted is skipped (its group
 * stays, with its other rules). */
char *cf_asg_page_parse(const char *body, size_t len,
                        struct cf_asg_page *page, struct svec *skipped)
    OVS_WARN_UNUSED_RESULT;
void cf_asg_page_destroy(struct cf_asg_page *);
void cf_asg_destroy(struct cf_asg *);

/* Makes 'dst' a deep copy of 'src'. */
void cf_asg_clone(struct cf_asg *dst, const struct cf_asg *src);

/* Does 'asg' apply to a container of space 'space_id' (may be NULL: then
 * only the defaults apply) that is staging ('staging') or running (app or
 * task)? */
bool cf_asg_applies(const struct cf_asg *asg, const char *space_id,
                    bool staging);

#endif /* cf-policy.h */
