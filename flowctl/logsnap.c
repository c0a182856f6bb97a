/*
 * logsnap: the traffic log's frozen view of the cell.  See logsnap.h.
 */

#include <config.h>

#include "logsnap.h"

#include <netinet/in.h>
#include <string.h>

#include "cf-policy.h"
#include "hash.h"
#include "logline.h"
#include "model.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "packets.h"
#include "pipeline.h"
#include "util.h"

struct snap_container {
    struct hmap_node by_ofport;         /* In 'containers'. */
    struct hmap_node by_ip;             /* In 'by_ip'. */
    uint32_t ofport;
    uint32_t ip;                        /* Host byte order. */
    char *handle;
    char *app_id;
    char *space_id;
    char *org_id;
};

/* Where rule i of a ruleset came from: a security group's rule (guid and
 * name non-NULL) or the container's own netOutRules ('guid' NULL). */
struct snap_origin {
    char *guid;
    char *name;
    uint32_t index;
};

struct snap_ruleset {
    struct hmap_node node;              /* In 'rulesets', by 'id'. */
    uint32_t id;
    struct snap_origin *origins;
    size_t n;
};

struct snap_policy {
    struct hmap_node node;              /* In 'policies', by 'cookie'. */
    uint64_t cookie;
    char *src_id;
    char *dst_id;
    uint32_t src_tag;
    uint8_t protocol;                   /* IPPROTO_TCP or IPPROTO_UDP. */
    uint16_t port_start;
    uint16_t port_end;
};

struct logsnap {
    struct ovs_refcount ref;
    struct hmap containers;             /* By ofport. */
    struct hmap by_ip;                  /* The same, by address. */
    struct hmap rulesets;
    struct hmap policies;
    uint32_t host_ip;
    char *host_guid;
    char *cell;
};

static void
add_container(struct logsnap *s, const struct model_container *c)
{
    struct snap_container *sc = xzalloc(sizeof *sc);

    sc->ofport = c->ofport;
    sc->ip = c->ip;
    sc->handle = nullable_xstrdup(c->handle);
    sc->app_id = nullable_xstrdup(c->app_id);
    sc->space_id = nullable_xstrdup(c->space_id);
    sc->org_id = nullable_xstrdup(c->org_id);
    hmap_insert(&s->containers, &sc->by_ofport, hash_int(c->ofport, 0));
    hmap_insert(&s->by_ip, &sc->by_ip, hash_int(c->ip, 0));
}

static void
add_ruleset(struct logsnap *s, const struct pipeline_ruleset *prs)
{
    const struct model_rules *rules = prs->rules;
    struct snap_ruleset *rs = xzalloc(sizeof *rs);

    rs->id = prs->id;
    rs->n = rules ? rules->parsed.n_netout_rules : 0;
    rs->origins = xcalloc(MAX(rs->n, 1), sizeof *rs->origins);
    for (size_t i = 0; i < rs->n; i++) {
        struct snap_origin *o = &rs->origins[i];
        if (rules->origins && rules->origins[i].asg_guid) {
            o->guid = xstrdup(rules->origins[i].asg_guid);
            o->name = nullable_xstrdup(rules->origins[i].asg_name);
            o->index = rules->origins[i].index;
        } else {
            o->index = i;
        }
    }
    hmap_insert(&s->rulesets, &rs->node, hash_int(rs->id, 0));
}

static void
add_policy(struct logsnap *s, const struct cf_policy *p)
{
    uint64_t cookie = pipeline_policy_cookie(p);
    uint32_t hash = hash_uint64(cookie);
    struct snap_policy *sp;

    HMAP_FOR_EACH_WITH_HASH (sp, node, hash, &s->policies) {
        if (sp->cookie == cookie) {
            return;             /* Colliding cookies: the first names it. */
        }
    }
    sp = xzalloc(sizeof *sp);
    sp->cookie = cookie;
    sp->src_id = xstrdup(p->src_id);
    sp->dst_id = xstrdup(p->dst_id);
    sp->src_tag = p->src_tag;
    sp->protocol = p->protocol == CF_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
    sp->port_start = p->port_start;
    sp->port_end = p->port_end;
    hmap_insert(&s->policies, &sp->node, hash);
}

struct logsnap *
logsnap_create(const struct model *model,
               const struct pipeline_ruleset *rulesets, size_t n,
               const char *host_guid, const char *cell)
{
    struct logsnap *s = xzalloc(sizeof *s);

    ovs_refcount_init(&s->ref);
    hmap_init(&s->containers);
    hmap_init(&s->by_ip);
    hmap_init(&s->rulesets);
    hmap_init(&s->policies);
    s->host_ip = model->cell.instance_address;
    s->host_guid = nullable_xstrdup(host_guid);
    s->cell = nullable_xstrdup(cell);

    const struct model_container *c;
    HMAP_FOR_EACH (c, node, &model->containers) {
        add_container(s, c);
    }

    for (size_t i = 0; i < n; i++) {
        add_ruleset(s, &rulesets[i]);
    }

    for (size_t i = 0; i < model->policy.n_policies; i++) {
        add_policy(s, &model->policy.policies[i]);
    }
    return s;
}

struct logsnap *
logsnap_ref(const struct logsnap *snap_)
{
    struct logsnap *snap = CONST_CAST(struct logsnap *, snap_);

    if (snap) {
        ovs_refcount_ref(&snap->ref);
    }
    return snap;
}

void
logsnap_unref(struct logsnap *s)
{
    if (!s || ovs_refcount_unref(&s->ref) > 1) {
        return;
    }

    struct snap_container *sc;
    HMAP_FOR_EACH_POP (sc, by_ofport, &s->containers) {
        free(sc->handle);
        free(sc->app_id);
        free(sc->space_id);
        free(sc->org_id);
        free(sc);
    }
    hmap_destroy(&s->containers);
    hmap_destroy(&s->by_ip);

    struct snap_ruleset *rs;
    HMAP_FOR_EACH_POP (rs, node, &s->rulesets) {
        for (size_t i = 0; i < rs->n; i++) {
            free(rs->origins[i].guid);
            free(rs->origins[i].name);
        }
        free(rs->origins);
        free(rs);
    }
    hmap_destroy(&s->rulesets);

    struct snap_policy *sp;
    HMAP_FOR_EACH_POP (sp, node, &s->policies) {
        free(sp->src_id);
        free(sp->dst_id);
        free(sp);
    }
    hmap_destroy(&s->policies);

    free(s->host_guid);
    free(s->cell);
    free(s);
}

size_t
logsnap_count(const struct logsnap *s, size_t *n_rulesets,
              size_t *n_policies)
{
    *n_rulesets = hmap_count(&s->rulesets);
    *n_policies = hmap_count(&s->policies);
    return hmap_count(&s->containers);
}

static const struct snap_container *
find_by_ofport(const struct logsnap *s, uint32_t ofport)
{
    const struct snap_container *sc;

    HMAP_FOR_EACH_WITH_HASH (sc, by_ofport, hash_int(ofport, 0),
                             &s->containers) {
        if (sc->ofport == ofport) {
            return sc;
        }
    }
    return NULL;
}

static const struct snap_container *
find_by_ip(const struct logsnap *s, uint32_t ip)
{
    const struct snap_container *sc;

    HMAP_FOR_EACH_WITH_HASH (sc, by_ip, hash_int(ip, 0), &s->by_ip) {
        if (sc->ip == ip) {
            return sc;
        }
    }
    return NULL;
}

/* The rule behind ASG cookie 'cookie' (pipeline_asg_cookie()). */
static void
asg_rule(const struct logsnap *s, uint64_t cookie, struct logline_rule *r)
{
    if (pipeline_cookie_kind(cookie) != PIPELINE_CK_ASG) {
        return;
    }
    uint32_t id = pipeline_cookie_set(cookie);
    uint32_t index = pipeline_cookie_index(cookie);
    const struct snap_ruleset *rs;
    HMAP_FOR_EACH_WITH_HASH (rs, node, hash_int(id, 0), &s->rulesets) {
        if (rs->id == id && index < rs->n) {
            const struct snap_origin *o = &rs->origins[index];
            if (o->guid) {
                r->kind = LOGLINE_RULE_ASG;
                r->asg.guid = o->guid;
                r->asg.name = o->name;
                r->asg.index = o->index;
            } else {
                r->kind = LOGLINE_RULE_STATIC;
                r->stat.index = o->index;
            }
            return;
        }
    }
}

/* The c2c policy behind cookie 'cookie' (pipeline_policy_cookie()). */
static void
policy_rule(const struct logsnap *s, uint64_t cookie,
            struct logline_rule *r)
{
    const struct snap_policy *sp;

    HMAP_FOR_EACH_WITH_HASH (sp, node, hash_uint64(cookie), &s->policies) {
        if (sp->cookie == cookie) {
            r->kind = LOGLINE_RULE_C2C_POLICY;
            r->policy.src_app_guid = sp->src_id;
            r->policy.src_tag = sp->src_tag;
            r->policy.dst_app_guid = sp->dst_id;
            r->policy.protocol = sp->protocol;
            r->policy.port_start = sp->port_start;
            r->policy.port_end = sp->port_end;
            return;
        }
    }
}

static void
set_container(struct logline_event *ev, const struct snap_container *sc)
{
    if (sc) {
        ev->container_id = sc->handle;
        ev->app_guid = sc->app_id;
        ev->space_guid = sc->space_id;
        ev->organization_guid = sc->org_id;
    }
}

const char *
logsnap_decode(const struct logsnap *s, uint8_t kind, const struct match *md,
               const void *packet, size_t len, long long int time_usec,
               struct logline_event *ev)
{
    const uint32_t *regs = md->flow.regs;
    uint64_t cookie = ((uint64_t) regs[6] << 32) | regs[7];   /* xreg3. */

    memset(ev, 0, sizeof *ev);
    switch (kind) {
    case PIPELINE_LOG_ASG_ACCEPT:
        ev->direction = LOGLINE_EGRESS;
        ev->allowed = true;
        asg_rule(s, cookie, &ev->rule);
        break;
    case PIPELINE_LOG_EGRESS_DENY:
        ev->direction = LOGLINE_EGRESS;
        ev->rule.kind = LOGLINE_RULE_DEFAULT_DENY;
        break;
    case PIPELINE_LOG_C2C_ACCEPT:
        ev->direction = LOGLINE_INGRESS;
        ev->allowed = true;
        policy_rule(s, cookie, &ev->rule);
        break;
    case PIPELINE_LOG_C2C_DENY_IN:
        ev->direction = LOGLINE_INGRESS;
        ev->rule.kind = LOGLINE_RULE_C2C_DENY;
        break;
    case PIPELINE_LOG_C2C_DENY_OUT:
        ev->direction = LOGLINE_EGRESS;
        ev->rule.kind = LOGLINE_RULE_C2C_DENY;
        break;
    default:
        return "not a traffic log kind";
    }

    /* The packet, by hand: the copy is cut at PIPELINE_LOG_MAX_LEN bytes,
     * shorter than the IP header's total length says, which OVS's
     * flow_extract() would refuse to parse.  What is cut off reads 0. */
    const uint8_t *b = packet;
    if (len < ETH_HEADER_LEN + IP_HEADER_LEN
        || b[12] != 0x08 || b[13] != 0x00) {
        return "not an IPv4 packet";
    }
    const uint8_t *ip = b + ETH_HEADER_LEN;
    size_t ihl = (ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ihl < IP_HEADER_LEN
        || len < ETH_HEADER_LEN + ihl) {
        return "not an IPv4 packet";
    }
    ev->time_usec = time_usec;
    ev->src_ip = (uint32_t) ip[12] << 24 | ip[13] << 16 | ip[14] << 8
                 | ip[15];
    ev->dst_ip = (uint32_t) ip[16] << 24 | ip[17] << 16 | ip[18] << 8
                 | ip[19];
    ev->protocol = ip[9];

    const uint8_t *l4 = ip + ihl;
    size_t l4_len = len - ETH_HEADER_LEN - ihl;
    bool later_fragment = ((ip[6] & 0x1f) | ip[7]) != 0;
    if (later_fragment) {
        /* No transport header: ports and ICMP type read 0. */
    } else if ((ev->protocol == IPPROTO_TCP || ev->protocol == IPPROTO_UDP)
               && l4_len >= 4) {
        ev->src_port = l4[0] << 8 | l4[1];
        ev->dst_port = l4[2] << 8 | l4[3];
    } else if (ev->protocol == IPPROTO_ICMP && l4_len >= 2) {
        ev->icmp_type = l4[0];
        ev->icmp_code = l4[1];
    }
    ev->mark = regs[8];

    /* The container the event is about: the sender for egress, the
     * receiver (by address: the packet came from the tunnel or another
     * container) for ingress. */
    set_container(ev, ev->direction == LOGLINE_EGRESS
                      ? find_by_ofport(s, regs[1])
                      : find_by_ip(s, ev->dst_ip));
    ev->host_ip = s->host_ip;
    ev->host_guid = s->host_guid;
    ev->cell = s->cell;
    return NULL;
}
