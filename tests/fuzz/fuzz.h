/*
 * fuzz.h: what every libFuzzer target in tests/fuzz/ shares.
 *
 * Each target is one file, fuzz-NAME.c, with LLVMFuzzerTestOneInput(): it
 * gives its input to one of our parsers (or decoders, or the lease
 * decision) and then checks what the code promises about the result, not
 * only that it did not crash: an accepted document re-encodes to what
 * parses again to the same, a refusal has a message, a decision keeps the
 * lease rules.  A broken promise aborts through FUZZ_CHECK(), which
 * libFuzzer reports as a crash with the input that made it.  Leaks (ASan's
 * LeakSanitizer) and undefined behaviour (UBSan, not recoverable) count as
 * crashes too.
 *
 * tests/fuzz/build.mk builds them with clang into build/fuzz/, and
 * tests/fuzz/run runs them (make fuzz, and a short smoke in make check);
 * docs/reliability.md has the results.
 */

#ifndef CFNET_FUZZ_H
#define CFNET_FUZZ_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cf-types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts, naming the broken promise, unless 'COND' holds. */
#define FUZZ_CHECK(COND)                                                \
    do {                                                                \
        if (!(COND)) {                                                  \
            fprintf(stderr, "%s:%d: promise broken: %s\n", __FILE__,    \
                    __LINE__, #COND);                                   \
            abort();                                                    \
        }                                                               \
    } while (0)

/* What both parsers of a NetOut rule promise (Garden's netOutRules,
 * cf-record.c, and an ASG's rules, cf-policy.c: one cf_netout_rule):
 * networks, each a range in order; ports exactly for TCP and UDP, each
 * from 'min_port' (Garden's may start at 0, an ASG's at 1), in order; an
 * ICMP type and code only for ICMP. */
static inline void
fuzz_check_netout_rule(const struct cf_netout_rule *r, unsigned int min_port)
{
    FUZZ_CHECK(r->n_networks > 0);
    for (size_t j = 0; j < r->n_networks; j++) {
        FUZZ_CHECK(r->networks[j].start <= r->networks[j].end);
    }
    bool ports = r->protocol == CF_PROTO_TCP || r->protocol == CF_PROTO_UDP;
    FUZZ_CHECK(ports == (r->n_ports > 0));
    for (size_t j = 0; j < r->n_ports; j++) {
        FUZZ_CHECK(r->ports[j].start >= min_port);
        FUZZ_CHECK(r->ports[j].start <= r->ports[j].end);
    }
    FUZZ_CHECK(!r->has_icmp || r->protocol == CF_PROTO_ICMP);
}

/* Returns a malloc'd copy of the input with a null terminator, for the
 * parsers that take a string. */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    for (size_t i = 0; i < size; i++) {
        s[i] = data[i];
    }
    s[size] = '\0';
    return s;
}

#endif /* fuzz.h */
