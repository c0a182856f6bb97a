/*
 * fuzz-asgs: one page of the policy server's GET .../security_groups,
 * cf_asg_page_parse() (lib/cf-policy.h), with each group's "rules", a JSON
 * array encoded as a string, converted into Garden's rule shape; then
 * cf_asg_applies() and cf_asg_clone() on what was kept.
 *
 * Promises checked:
 *   - a page refused whole yields no group and a message;
 *   - every group kept has a guid; every rule kept is valid as flowctl's
 *     pipeline takes it (a network, ranges in order, ports only for tcp
 *     and udp, ICMP only for icmp), and its index points into the group's
 *     "rules" array, ascending; every group or rule skipped has a message
 *     naming its path ("security_groups[I]...");
 *   - a clone is an equal, separate copy (freeing both leaks nothing and
 *     frees nothing twice).
 */

#include <config.h>

#include <string.h>

#include "cf-policy.h"
#include "fuzz.h"
#include "svec.h"

static void
check_clone(const struct cf_asg *asg)
{
    struct cf_asg copy;
    cf_asg_clone(&copy, asg);
    FUZZ_CHECK(!strcmp(copy.guid, asg->guid));
    FUZZ_CHECK((!copy.name && !asg->name)
               || (copy.name && asg->name && !strcmp(copy.name, asg->name)));
    FUZZ_CHECK(copy.n_rules == asg->n_rules);
    for (size_t i = 0; i < asg->n_rules; i++) {
        FUZZ_CHECK(copy.rule_index[i] == asg->rule_index[i]);
        FUZZ_CHECK(copy.rules[i].n_networks == asg->rules[i].n_networks);
        FUZZ_CHECK(copy.rules[i].n_ports == asg->rules[i].n_ports);
    }
    FUZZ_CHECK(copy.n_running_spaces == asg->n_running_spaces);
    FUZZ_CHECK(copy.n_staging_spaces == asg->n_staging_spaces);
    FUZZ_CHECK(cf_asg_applies(&copy, NULL, false)
               == cf_asg_applies(asg, NULL, false));
    cf_asg_destroy(&copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cf_asg_page page;
    struct svec skipped = SVEC_EMPTY_INITIALIZER;

    memset(&page, 0, sizeof page);
    char *error = cf_asg_page_parse((const char *) data, size, &page,
                                    &skipped);
    if (error) {
        FUZZ_CHECK(error[0] != '\0');
        FUZZ_CHECK(page.n == 0);
        free(error);
    }
    for (size_t i = 0; i < page.n; i++) {
        const struct cf_asg *asg = &page.asgs[i];
        FUZZ_CHECK(asg->guid != NULL);
        for (size_t j = 0; j < asg->n_rules; j++) {
            fuzz_check_netout_rule(&asg->rules[j], 1);
            FUZZ_CHECK(!j || asg->rule_index[j] > asg->rule_index[j - 1]);
        }
        /* Defaults apply to every space, bindings to theirs. */
        FUZZ_CHECK(cf_asg_applies(asg, NULL, true) == asg->staging_default);
        FUZZ_CHECK(cf_asg_applies(asg, NULL, false) == asg->running_default);
        for (size_t j = 0; j < asg->n_running_spaces; j++) {
            FUZZ_CHECK(cf_asg_applies(asg, asg->running_spaces[j], false));
        }
        check_clone(asg);
    }
    for (size_t i = 0; i < skipped.n; i++) {
        FUZZ_CHECK(!strncmp(skipped.names[i], "security_groups[", 16));
    }
    cf_asg_page_destroy(&page);
    svec_destroy(&skipped);
    return 0;
}
