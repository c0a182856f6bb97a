# The security-group cases of CF's acceptance tests (cf-acceptance-tests
# security_groups/; docs/acceptance.md), on a two-cell fleet with dynamic
# ASGs.  Each test is named after the case it mirrors, with its
# expectations; CATs' waits are the upper bounds of the waits here.  Run
# by tests/system/run-file, as root.

# shellcheck source=lib.sh
. "$SB_TOP/tests/acceptance/lib.sh"

# push_client_and_server: app client on cell 1, app server with one
# instance on each cell (server on cell 2, server-1 on cell 1).
push_client_and_server() {
    sim push client --cell 1 >/dev/null
    sim push server --cell 2 >/dev/null
    sim push server-1 --app server --cell 1 >/dev/null
}

# The default running ASGs CATs expects of a foundation: the public
# internet reachable (here: the external host, the sim's internet), the
# foundation's own addresses not.  An app reaches the external host on 80,
# and not another app's CF_INSTANCE_IP:CF_INSTANCE_PORT, on its own cell
# or on the other.
test_running_defaults_block_other_apps_instance_address() {
    fleet_up
    serve ext 80 >/dev/null
    sim asg create public --rules "$(asg_rules 'all 10.0.0.100-10.0.0.101')" \
        >/dev/null
    sim asg bind public --global
    push_client_and_server
    serve server 8080 >/dev/null
    serve server-1 8080 >/dev/null
    within "$CF_ASG_WAIT" connected client tcp "$EXT" 80

    local where
    # The server is there: the router reaches both instances.
    for where in server server-1; do
        expect router connected tcp "$(cell_ip_of "$where")" \
            "$(host_port_of "$where")"
        expect client refused tcp "$(cell_ip_of "$where")" \
            "$(host_port_of "$where")"
    done
}

# A wide-open running ASG (0.0.0.0/0, all) opens no overlay traffic
# without a policy; an address it allows where nobody answers times out
# (or is unreachable), it is not refused; a policy on the container port
# opens the overlay within CATs' 5 s, on the same cell and across cells.
test_wide_open_asg_no_overlay_without_policy() {
    fleet_up
    sim asg create open --rules "$(asg_rules 'all 0.0.0.0/0')" >/dev/null
    sim asg bind open --global
    push_client_and_server
    serve server 8080 >/dev/null
    serve server-1 8080 >/dev/null
    serve ext 80 >/dev/null
    within "$CF_ASG_WAIT" connected client tcp "$EXT" 80
    expect client refused tcp "$(sim ip server)" 8080
    expect client refused tcp "$(sim ip server-1)" 8080

    # Allowed, but nobody answers: not a refusal.
    expect client timeout tcp "$EXT_DROP" 80
    local out
    out=$(on client "$FC_PY" "$FC_PROBE" tcp "$UNALLOCATED" 80 --timeout 4)
    case ${out%% *} in
        timeout|unreachable) echo "ok: client: $UNALLOCATED: $out" ;;
        *) fail "an unallocated address should time out, got: $out" ;;
    esac

    sim policy add client server --port 8080
    within "$CATS_POLICY_WAIT" connected client tcp "$(sim ip server)" 8080
    within "$CATS_POLICY_WAIT" connected client tcp "$(sim ip server-1)" 8080
}

# Dynamic ASGs with comma-delimited destinations (10.0.0.0/8,
# 192.168.0.0/16,172.16.0.0/12 tcp 9024): binding opens 9024 to the
# external host for the space's app on both cells within 3 minutes,
# without a restart; unbinding closes it again; an app of another space
# never gets it.
test_dynamic_asg_comma_delimited_destinations() {
    fleet_up
    serve ext 9024 >/dev/null
    sim push app --space s1 --cell 1 >/dev/null
    sim push app-2 --app app --space s1 --cell 2 >/dev/null
    sim push other --space s2 --cell 1 >/dev/null
    sim asg create private --rules "$(asg_rules \
        'tcp 10.0.0.0/8,192.168.0.0/16,172.16.0.0/12 9024')" >/dev/null
    local where
    for where in app app-2; do
        expect "$where" refused tcp "$EXT" 9024
    done

    sim asg bind private --space s1
    for where in app app-2; do
        within "$CF_ASG_WAIT" connected "$where" tcp "$EXT" 9024
    done
    expect other refused tcp "$EXT" 9024

    sim asg unbind private --space s1
    for where in app app-2; do
        within "$CF_ASG_WAIT" refused "$where" tcp "$EXT" 9024
    done
}

# Staging ASGs apply while an app stages (the buildpack's downloads), not
# to its running instances or tasks; running ASGs the other way round;
# each rule is named by its group in flowctl/trace.
test_staging_security_groups() {
    fleet_up
    serve ext 80 >/dev/null
    sim push st --staging --space s1 --cell 1 >/dev/null
    sim push a --space s1 --cell 2 >/dev/null
    sim push t --task --space s1 --cell 1 >/dev/null
    local where staging running
    for where in st a t; do
        expect "$where" refused tcp "$EXT" 80
        expect "$where" refused tcp "$EXT2" 80
    done

    # Staging: EXT only.
    staging=$(sim asg create build --rules "$(asg_rules 'tcp 10.0.0.100 80')")
    sim asg bind build --space s1 --staging
    within "$CF_ASG_WAIT" connected st tcp "$EXT" 80
    expect_trace st "$EXT" "security group build ($staging) rule 0"
    expect a refused tcp "$EXT" 80
    expect t refused tcp "$EXT" 80

    # Running: EXT2 only; the staging binding is untouched.
    running=$(sim asg create web --rules "$(asg_rules 'tcp 10.0.0.101 80')")
    sim asg bind web --space s1
    within "$CF_ASG_WAIT" connected a tcp "$EXT2" 80
    expect_trace a "$EXT2" "security group web ($running) rule 0"
    within "$CF_ASG_WAIT" connected t tcp "$EXT2" 80
    expect st refused tcp "$EXT2" 80
    expect st connected tcp "$EXT" 80
    expect a refused tcp "$EXT" 80
    expect t refused tcp "$EXT" 80

    # Unbinding the staging group leaves the running one.
    sim asg unbind build --space s1 --staging
    within "$CF_ASG_WAIT" refused st tcp "$EXT" 80
    expect a connected tcp "$EXT2" 80
}

# expect_trace APP DST WHAT: flowctl/trace of a TCP connection from APP to
# DST port 80 ends in a verdict that names WHAT.
expect_trace() {
    local out
    out=$(trace_of "$1" "$2" tcp 80 | sed -n 's/^verdict: //p')
    grep -qF "$3" <<<"$out" \
        || fail "flowctl/trace $1 -> $2 does not name '$3': $out"
    echo "ok: trace $1 -> $2: $out"
}

# Container-to-container under policies for 8080 and for 61443 (the port
# of the container's Envoy, TLS), both work, across cells and on one cell;
# a port without a policy does not.  (CATs reach the app by its internal
# route, a name that bosh-dns-adapter resolves to the container's address;
# here the address itself.)
test_c2c_policy_on_app_port_and_envoy_port() {
    fleet_up
    push_client_and_server
    serve server 8080,61443,61001 >/dev/null
    serve server-1 8080,61443,61001 >/dev/null
    sim policy add client server --port 8080
    sim policy add client server --port 61443
    local s s1
    s=$(sim ip server) s1=$(sim ip server-1)
    within "$CATS_POLICY_WAIT" connected client tcp "$s" 61443
    within "$CATS_POLICY_WAIT" connected client tcp "$s1" 61443
    expect client connected tcp "$s" 8080
    expect client connected tcp "$s1" 8080
    expect client timeout tcp "$s" 61001
    expect client refused tcp "$s1" 61001
}
