/*
 * fuzz-policies: the policy server's answers to flowctl's two policy
 * requests, GET .../policies (cf_policies_parse()) and
 * GET .../policies_last_updated (cf_policies_last_updated_parse()), in
 * lib/cf-policy.h.  The same input goes to both.
 *
 * Promises checked:
 *   - a document refused whole yields no policy (flowctl keeps what it
 *     had: fail static) and a message;
 *   - every policy kept has both group ids, both tags nonzero, tcp or udp,
 *     ports 1..65535 in order; every entry skipped has a message naming
 *     its path ("policies[I]...");
 *   - the policies kept and skipped are at most the document's entries;
 *   - policies_last_updated: accepted means the body is digits, perhaps
 *     with white space around them, and the number is theirs (a number
 *     beyond 64 bits is refused, never wrapped).
 */

#include <config.h>

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "cf-policy.h"
#include "fuzz.h"
#include "jparse.h"
#include "sset.h"
#include "svec.h"

static size_t
n_entries(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *) data, size, 0, NULL);
    json_t *list = json_is_object(doc) ? json_object_get(doc, "policies")
                                       : NULL;
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    json_decref(doc);
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *) data;
    struct cf_policy_list list = { NULL, 0 };
    struct svec skipped = SVEC_EMPTY_INITIALIZER;

    char *error = cf_policies_parse(body, size, &list, &skipped);
    if (error) {
        FUZZ_CHECK(error[0] != '\0');
        FUZZ_CHECK(list.n == 0);
        free(error);
    } else {
        FUZZ_CHECK(list.n + skipped.n <= n_entries(data, size));
        for (size_t i = 0; i < list.n; i++) {
            const struct cf_policy *p = &list.policies[i];
            FUZZ_CHECK(p->src_id && p->dst_id);
            FUZZ_CHECK(p->src_tag && p->dst_tag);
            FUZZ_CHECK(p->protocol == CF_PROTO_TCP
                       || p->protocol == CF_PROTO_UDP);
            FUZZ_CHECK(p->port_start >= 1 && p->port_start <= p->port_end);
        }
        for (size_t i = 0; i < skipped.n; i++) {
            FUZZ_CHECK(!strncmp(skipped.names[i], "policies[", 9));
        }
    }
    cf_policy_list_destroy(&list);
    svec_destroy(&skipped);

    uint64_t ns;
    error = cf_policies_last_updated_parse(body, size, &ns);
    if (error) {
        free(error);
    } else {
        size_t n_digits = 0;
        uint64_t value = 0;
        bool wrapped = false;
        for (size_t i = 0; i < size; i++) {
            FUZZ_CHECK(isdigit(data[i]) || isspace(data[i]));
            if (isdigit(data[i])) {
                n_digits++;
                wrapped |= __builtin_mul_overflow(value, 10, &value);
                wrapped |= __builtin_add_overflow(value, data[i] - '0',
                                                  &value);
            }
        }
        FUZZ_CHECK(n_digits > 0);
        FUZZ_CHECK(!wrapped);           /* Beyond 64 bits: refused. */
        FUZZ_CHECK(value == ns);
    }
    return 0;
}
