# The DNS reachability CF's acceptance tests rely on (cf-acceptance-tests
# service_discovery/ and the DNS the security-group cases use;
# docs/acceptance.md): every app resolves names through BOSH DNS at its
# link-local address, 169.254.0.2, with no ASG at all, over UDP and TCP,
# on every cell; the container's resolv.conf names it, from the CNI
# result's dns, as Garden writes it; DNS to any other server stays an
# egress an ASG must allow.  (The answers for <app>.apps.internal come
# from bosh-dns-adapter, not from the network plugin: docs/acceptance.md.)
# Run by tests/system/run-file, as root.

# shellcheck source=lib.sh
. "$SB_TOP/tests/acceptance/lib.sh"

# From an app on each cell and a staging container: resolv.conf names
# BOSH DNS only; names resolve through it, over UDP and TCP, with no ASG.
test_bosh_dns_reachable_from_every_app_without_asgs() {
    # What BOSH DNS answers here (the DNS stand-in answers every name so).
    fleet_up --dns-answer 10.0.0.101
    sim push a --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    sim push st --staging --cell 2 >/dev/null
    local where out
    for where in a b st; do
        expect_equal "$(on "$where" sed -n 's/^nameserver //p' \
                        /etc/resolv.conf)" 169.254.0.2 \
            "$where's nameserver (resolv.conf)"
        out=$(on "$where" getent hosts cloud-controller-ng.service.cf.internal) \
            || fail "$where: the name does not resolve"
        expect_equal "${out%% *}" 10.0.0.101 "$where: the address resolved"
        expect "$where" answer dns udp --name b.apps.internal
        expect_equal "$PROBE_DETAIL" 10.0.0.101 "$where: the UDP answer"
        expect "$where" answer dns tcp --name b.apps.internal
        expect_equal "$PROBE_DETAIL" 10.0.0.101 "$where: the TCP answer"
    done
}

# DNS to another server (the external host) is refused until an ASG for
# udp 53 is bound, and again after it is unbound; BOSH DNS works meanwhile.
test_dns_to_other_servers_needs_an_asg() {
    fleet_up
    serve ext 53 --udp --bind "$EXT" >/dev/null
    sim push a --space s1 --cell 1 >/dev/null
    expect a refused udp "$EXT" 53
    sim asg create dns --rules "$(asg_rules 'udp 10.0.0.100 53')" >/dev/null
    sim asg bind dns --space s1
    within "$CF_ASG_WAIT" reply a udp "$EXT" 53
    # BOSH DNS does not depend on it.
    sim asg unbind dns --space s1
    within "$CF_ASG_WAIT" refused a udp "$EXT" 53
    expect a answer dns udp
}
