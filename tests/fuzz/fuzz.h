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

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
