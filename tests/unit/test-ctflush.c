/* Unit tests for flowctl/ctflush.c: whose conntrack entries go. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "compiler.h"
#include "ctflush.h"
#include "ipv4.h"
#include "model.h"
#include "util.h"
#include "uuid.h"

/* 10.255.1.N, host byte order. */
#define IP(N) (0x0aff0100u + (N))

/* Adds container HANDLE on 'ofport' with address IP(n), Interface row
 * number 'row' (its uuid), marked installed or not. */
static struct model_container *
add(struct model *m, const char *handle, uint32_t ofport, uint32_t n,
    unsigned int row, bool installed)
{
    struct model_container *c = model_add_container(m, handle, ofport);
    c->ip = IP(n);
    uuid_zero(&c->iface);
    c->iface.parts[0] = row;
    c->marked_installed = installed;
    return c;
}

/* The addresses ctflush_update() names, as "N N N" (of 10.255.1.N). */
static const char *
update(struct ctflush *cf, const struct model *m)
{
    static char buf[256];
    uint32_t *addrs;
    size_t n = ctflush_update(cf, m, &addrs);
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        len += snprintf(buf + len, sizeof buf - len, "%s%u", i ? " " : "",
                        (unsigned int) (addrs[i] - IP(0)));
        assert_true(i == 0 || addrs[i - 1] < addrs[i]);
    }
    assert_true((n == 0) == (addrs == NULL));
    free(addrs);
    return buf;
}

/* The first model: only containers not marked installed; then nothing
 * while nothing changes. */
static void
test_first_model(void **state OVS_UNUSED)
{
    struct ctflush cf;
    struct model m;

    ctflush_init(&cf);
    model_init(&m);
    add(&m, "a", 1, 2, 1, true);
    add(&m, "b", 2, 3, 2, false);
    add(&m, "c", 3, 4, 3, true);
    add(&m, "d", 4, 9, 4, false);
    assert_string_equal(update(&cf, &m), "3 9");
    assert_string_equal(update(&cf, &m), "");

    /* Marks change nothing by themselves. */
    struct model_container *c;
    HMAP_FOR_EACH (c, node, &m.containers) {
        c->marked_installed = !c->marked_installed;
    }
    assert_string_equal(update(&cf, &m), "");
    model_destroy(&m);
    ctflush_destroy(&cf);
}

/* After the first model: a deleted container's address goes; a new one's
 * does not (whatever its mark), unless another held it last time. */
static void
test_gone_and_moved(void **state OVS_UNUSED)
{
    struct ctflush cf;
    struct model m;

    ctflush_init(&cf);
    model_init(&m);
    struct model_container *a = add(&m, "a", 1, 2, 1, true);
    add(&m, "b", 2, 3, 2, true);
    assert_string_equal(update(&cf, &m), "");

    add(&m, "n", 3, 5, 5, false);               /* New: no flush. */
    assert_string_equal(update(&cf, &m), "");

    model_remove_container(&m, a);              /* Deleted. */
    assert_string_equal(update(&cf, &m), "2");
    assert_string_equal(update(&cf, &m), "");

    /* Deleted and its address given to a new container in one go; the
     * same handle made again (a new Interface row) is another holder. */
    add(&m, "a2", 4, 2, 6, false);
    struct model_container *b = NULL;
    struct model_container *c;
    HMAP_FOR_EACH (c, node, &m.containers) {
        if (c->ip == IP(3)) {
            b = c;
        }
    }
    b->iface.parts[0] = 7;
    assert_string_equal(update(&cf, &m), "3");

    /* Everything gone. */
    model_destroy(&m);
    model_init(&m);
    assert_string_equal(update(&cf, &m), "2 3 5");
    assert_string_equal(update(&cf, &m), "");
    model_destroy(&m);
    ctflush_destroy(&cf);
}

/* Two containers with one address are one holder, the lower OpenFlow
 * port: a higher one that comes and goes moves nothing. */
static void
test_shared_address(void **state OVS_UNUSED)
{
    struct ctflush cf;
    struct model m;

    ctflush_init(&cf);
    model_init(&m);
    add(&m, "a", 5, 2, 1, true);
    assert_string_equal(update(&cf, &m), "");
    struct model_container *dup = add(&m, "dup", 9, 2, 2, false);
    assert_string_equal(update(&cf, &m), "");
    model_remove_container(&m, dup);
    assert_string_equal(update(&cf, &m), "");

    /* A lower port takes the address over: that is a move. */
    add(&m, "low", 3, 2, 3, false);
    assert_string_equal(update(&cf, &m), "2");
    model_destroy(&m);
    ctflush_destroy(&cf);
}

/* A walk at start, in the text of `ovs-appctl dpctl/dump-conntrack
 * zone=1`: the sources of its entries, in either direction, that are in
 * the cell's subnet and that no container holds are flushed with the next
 * model, once; held addresses, other cells' and the world's, the host's
 * own and the subnet's network and broadcast addresses are not, nor what
 * a line cut short seems to name. */
static void
test_walk(void **state OVS_UNUSED)
{
    static const char dump[] =
        /* 2 (held, installed) to a peer elsewhere. */
        "tcp,orig=(src=10.255.1.2,dst=10.255.7.9,sport=40000,dport=8080),"
        "reply=(src=10.255.7.9,dst=10.255.1.2,sport=8080,dport=40000),"
        "zone=1,mark=0x2,protoinfo=(state=ESTABLISHED)\n"
        /* 7 (gone) to the world. */
        "udp,orig=(src=10.255.1.7,dst=192.0.2.1,sport=5000,dport=53),"
        "reply=(src=192.0.2.1,dst=10.255.1.7,sport=53,dport=5000),zone=1\n"
        /* A NetIn connection to 8 (gone): its reply source. */
        "tcp,orig=(src=198.51.100.4,dst=10.0.0.5,sport=33000,dport=61001),"
        "reply=(src=10.255.1.8,dst=198.51.100.4,sport=8080,dport=33000),"
        "zone=1,protoinfo=(state=SYN_SENT)\n"
        /* 7 again, by ICMP; IPv6 and rubbish are skipped. */
        "icmp,orig=(src=10.255.1.7,dst=10.255.1.2,id=7,type=8,code=0),"
        "reply=(src=10.255.1.2,dst=10.255.1.7,id=7,type=0,code=0),zone=1\n"
        "udp,orig=(src=fd00::7,dst=fd00::1,sport=1,dport=2),"
        "reply=(src=fd00::1,dst=fd00::7,sport=2,dport=1),zone=1\n"
        "tcp,orig=(src=10.255.1.9\n"
        "\n"
        /* The host's own address (a host service on the gateway), the
         * subnet's network and broadcast addresses: never flushed. */
        "tcp,orig=(src=10.255.1.0,dst=10.255.1.255,sport=1,dport=2),"
        "reply=(src=10.255.1.1,dst=10.255.1.0,sport=2,dport=1),zone=1\n"
        "tcp,orig=(src=10.255.1.255,dst=10.255.1.1,sport=1,dport=2),"
        "reply=(src=10.255.1.1,dst=10.255.1.255,sport=2,dport=1),zone=1\n"
        /* A line cut in the reply's source (10.255.1.17): skipped. */
        "tcp,orig=(src=10.0.0.1,dst=10.255.1.17,sport=1,dport=2),"
        "reply=(src=10.255.1.1\n"
        /* 3 (held, not installed: flushed as such). */
        "tcp,orig=(src=10.255.1.3,dst=10.255.1.2,sport=1,dport=2),"
        "reply=(src=10.255.1.2,dst=10.255.1.3,sport=2,dport=1),zone=1";
    struct ctflush cf;
    struct model m;

    ctflush_init(&cf);
    model_init(&m);
    ipv4_parse_cidr("10.255.1.0/24", &m.cell.subnet);
    m.cell.gateway_host_ip = IP(1);
    add(&m, "a", 1, 2, 1, true);
    add(&m, "b", 2, 3, 2, false);
    assert_int_equal(ctflush_note_walk(&cf, dump), 7);
    assert_string_equal(update(&cf, &m), "3 7 8");
    assert_string_equal(update(&cf, &m), "");

    /* A later walk counts at the next model only; an address held then
     * is kept. */
    add(&m, "c", 3, 7, 3, false);
    assert_int_equal(ctflush_note_walk(&cf, dump), 7);
    assert_string_equal(update(&cf, &m), "8");
    assert_string_equal(update(&cf, &m), "");

    /* An empty walk names nothing. */
    assert_int_equal(ctflush_note_walk(&cf, ""), 0);
    assert_string_equal(update(&cf, &m), "");
    model_destroy(&m);
    ctflush_destroy(&cf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_model),
        cmocka_unit_test(test_gone_and_moved),
        cmocka_unit_test(test_shared_address),
        cmocka_unit_test(test_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
