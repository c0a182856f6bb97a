# CF networking's smoke test (cf-networking-release test/smoke/
# smoke_test.go; docs/acceptance.md): a `proxy` app and a `smoke` app; the
# smoke app asks the proxy, through the proxy's public route, to reach the
# smoke app's own container address on 8080.  That must fail without a
# policy, work within 5 minutes of `cf add-network-policy proxy
# --destination-app smoke --port 8080`, and fail again after the policy's
# removal.
#
# Here the public route is the router reaching the proxy through its
# cell's address and host port (NetIn), and the two apps are on different
# cells.  Run by tests/system/run-file, as root.

# shellcheck source=lib.sh
. "$SB_TOP/tests/acceptance/lib.sh"

test_smoke_selfproxy_only_under_policy() {
    fleet_up
    sim push proxy --cell 1 >/dev/null
    sim push smoke --cell 2 >/dev/null
    serve proxy 8080 >/dev/null
    serve smoke 8080 >/dev/null
    local route port smoke proxy
    route=$(cell_ip_of proxy)
    port=$(host_port_of proxy)
    smoke=$(sim ip smoke)
    proxy=$(sim ip proxy)

    # The proxy's route works; through it, the smoke app is not reachable.
    expect router connected tcp "$route" "$port"
    expect router refused proxy "$route" "$port" "$smoke" 8080

    sim policy add proxy smoke --port 8080
    within "$CF_SMOKE_WAIT" connected router proxy "$route" "$port" \
        "$smoke" 8080
    # The smoke app sees the proxy's own address (no NAT on the overlay).
    expect_equal "${PROBE_DETAIL% *}" "peer $proxy" "the source smoke sees"

    sim policy remove proxy smoke --port 8080
    within "$CF_SMOKE_WAIT" refused router proxy "$route" "$port" \
        "$smoke" 8080
}
