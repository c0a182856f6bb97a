/*
 * ctflush: see ctflush.h.
 */

#include <config.h>

#include "ctflush.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ipv4.h"
#include "model.h"
#include "util.h"
#include "uuid.h"

/* The container that holds an address in a model. */
struct ctflush_holder {
    struct hmap_node node;          /* In struct ctflush's 'holders'. */
    uint32_t ip;
    struct uuid iface;
    uint32_t ofport;
    bool marked_installed;
};

void
ctflush_init(struct ctflush *cf)
{
    hmap_init(&cf->holders);
    cf->primed = false;
    cf->walked = NULL;
    cf->n_walked = 0;
}

static void
holders_clear(struct hmap *holders)
{
    struct ctflush_holder *h;
    HMAP_FOR_EACH_POP (h, node, holders) {
        free(h);
    }
}

void
ctflush_destroy(struct ctflush *cf)
{
    if (cf) {
        holders_clear(&cf->holders);
        hmap_destroy(&cf->holders);
        free(cf->walked);
    }
}

static struct ctflush_holder *
holder_find(const struct hmap *holders, uint32_t ip)
{
    struct ctflush_holder *h;
    HMAP_FOR_EACH_WITH_HASH (h, node, hash_int(ip, 0), holders) {
        if (h->ip == ip) {
            return h;
        }
    }
    return NULL;
}

static int
compare_u32(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_;
    uint32_t b = *(const uint32_t *) b_;
    return a < b ? -1 : a > b;
}

/* The holders of the addresses of 'model''s containers.  Two containers
 * with one address (a broken record) are one holder, the one with the
 * lower OpenFlow port, as in the pipeline. */
static void
model_holders(const struct model *model, struct hmap *holders)
{
    const struct model_container *c;
    HMAP_FOR_EACH (c, node, &model->containers) {
        struct ctflush_holder *h = holder_find(holders, c->ip);
        if (!h) {
            h = xmalloc(sizeof *h);
            h->ip = c->ip;
            hmap_insert(holders, &h->node, hash_int(c->ip, 0));
        } else if (h->ofport < c->ofport) {
            continue;
        }
        h->iface = c->iface;
        h->ofport = c->ofport;
        h->marked_installed = c->marked_installed;
    }
}

size_t
ctflush_update(struct ctflush *cf, const struct model *model,
               uint32_t **addrsp)
{
    struct hmap now = HMAP_INITIALIZER(&now);
    model_holders(model, &now);

    size_t max = hmap_count(&cf->holders) + hmap_count(&now)
                 + cf->n_walked;
    uint32_t *addrs = xmalloc(MAX(max, 1) * sizeof *addrs);
    size_t n = 0;

    /* Addresses held by another container than in the last model; the
     * first time, those of containers not marked installed. */
    const struct ctflush_holder *h;
    HMAP_FOR_EACH (h, node, &now) {
        const struct ctflush_holder *before = holder_find(&cf->holders,
                                                          h->ip);
        if (before ? !uuid_equals(&before->iface, &h->iface)
            : !cf->primed && !h->marked_installed) {
            addrs[n++] = h->ip;
        }
    }

    /* Addresses that no container holds any more. */
    HMAP_FOR_EACH (h, node, &cf->holders) {
        if (!holder_find(&now, h->ip)) {
            addrs[n++] = h->ip;
        }
    }

    /* Sources of the walk's entries that no container holds (and none
     * held in the last model: the loop above named those). */
    for (size_t i = 0; i < cf->n_walked; i++) {
        uint32_t ip = cf->walked[i];
        const struct ipv4_cidr *subnet = &model->cell.subnet;
        if (ipv4_cidr_contains(subnet, ip)
            && ip != ipv4_cidr_network(subnet)
            && ip != ipv4_cidr_broadcast(subnet)
            && ip != model->cell.gateway_host_ip
            && !holder_find(&now, ip) && !holder_find(&cf->holders, ip)) {
            addrs[n++] = ip;
        }
    }
    free(cf->walked);
    cf->walked = NULL;
    cf->n_walked = 0;

    holders_clear(&cf->holders);
    hmap_swap(&cf->holders, &now);
    hmap_destroy(&now);
    cf->primed = true;

    /* Ascending (each address is in at most one of the three loops, once). */
    qsort(addrs, n, sizeof *addrs, compare_u32);
    if (!n) {
        free(addrs);
        addrs = NULL;
    }
    *addrsp = addrs;
    return n;
}

/* Parses the IPv4 address that follows 'key' (e.g. "orig=(src=") in 'line'
 * (up to the end of the line at 'end') into '*ip'. */
static bool
parse_source(const char *line, const char *end, const char *key,
             uint32_t *ip)
{
    const char *p = memmem(line, end - line, key, strlen(key));
    if (!p) {
        return false;
    }
    p += strlen(key);
    size_t len = strcspn(p, ",)\n");
    char buf[IPV4_ADDR_LEN];
    if (len >= sizeof buf || p + len >= end
        || (p[len] != ',' && p[len] != ')')) {
        return false;           /* Too long, or cut short. */
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    return ipv4_parse(buf, ip);
}

size_t
ctflush_note_walk(struct ctflush *cf, const char *dump)
{
    size_t allocated = cf->n_walked;
    size_t n_entries = 0;

    for (const char *line = dump; *line; ) {
        const char *end = strchr(line, '\n');
        if (!end) {
            end = line + strlen(line);
        }

        uint32_t orig, reply;
        if (parse_source(line, end, "orig=(src=", &orig)
            && parse_source(line, end, "reply=(src=", &reply)) {
            while (cf->n_walked + 2 > allocated) {
                cf->walked = x2nrealloc(cf->walked, &allocated,
                                        sizeof *cf->walked);
            }
            cf->walked[cf->n_walked++] = orig;
            cf->walked[cf->n_walked++] = reply;
            n_entries++;
        }
        line = *end ? end + 1 : end;
    }

    /* Ascending, each once. */
    if (cf->n_walked) {
        qsort(cf->walked, cf->n_walked, sizeof *cf->walked, compare_u32);
        size_t n = 1;
        for (size_t i = 1; i < cf->n_walked; i++) {
            if (cf->walked[i] != cf->walked[n - 1]) {
                cf->walked[n++] = cf->walked[i];
            }
        }
        cf->n_walked = n;
    }
    return n_entries;
}
