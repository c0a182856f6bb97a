# CF networking's acceptance tests (cf-networking-release test/acceptance/;
# docs/acceptance.md maps each test here to its file there), on a two-cell
# fleet with dynamic ASGs.  Each test is named after the file it mirrors
# and keeps its expectations: what CF calls refused is refused here (a RST
# or an ICMP unreachable at once, not a timeout), and CF's waits are the
# upper bounds of the waits here.  Run by tests/system/run-file, as root.

# shellcheck source=lib.sh
. "$SB_TOP/tests/acceptance/lib.sh"

# inter_container_connectivity: a fleet of proxy and tick instances on
# both cells; no policy: no proxy instance reaches a tick instance; a
# policy on 8080 and one on each of the extra ports 7000 and 7001: every
# proxy instance reaches every tick instance on those ports, and nothing
# else; scaling both apps up and down keeps that true for the instances
# there are, at once; removing the policies closes it all again.
test_inter_container_connectivity() {
    fleet_up
    local i p t port
    for i in 0 1; do
        sim push "proxy-$i" --app proxy --cell $((i + 1)) >/dev/null
        sim push "tick-$i" --app tick --cell $((2 - i)) >/dev/null
        serve "tick-$i" 8080,7000,7001,7002 >/dev/null
    done
    for p in proxy-0 proxy-1; do
        for t in tick-0 tick-1; do
            expect "$p" refused tcp "$(sim ip "$t")" 8080
        done
    done

    sim policy add proxy tick --port 8080
    sim policy add proxy tick --port 7000
    sim policy add proxy tick --port 7001
    # The last policy, seen by both cells, as source and as destination.
    for p in proxy-0 proxy-1; do
        for t in tick-0 tick-1; do
            within "$CF_POLICY_WAIT" connected "$p" tcp "$(sim ip "$t")" 7001
        done
    done
    all_reach "proxy-0 proxy-1" "tick-0 tick-1"

    # Scale up: a new instance of each, on either cell; they reach and are
    # reached as soon as they are pushed.
    sim push proxy-2 --app proxy --cell 2 >/dev/null
    sim push tick-2 --app tick --cell 1 >/dev/null
    serve tick-2 8080,7000,7001,7002 >/dev/null
    all_reach "proxy-0 proxy-1 proxy-2" "tick-0 tick-1 tick-2"

    # Scale down: the rest keeps working.
    sim delete tick-0
    sim delete proxy-1
    all_reach "proxy-0 proxy-2" "tick-1 tick-2"

    sim policy remove proxy tick --port 8080
    sim policy remove proxy tick --port 7000
    sim policy remove proxy tick --port 7001
    # Three removals, which a cell may see one poll at a time: each port
    # is waited for.
    for p in proxy-0 proxy-2; do
        for t in tick-1 tick-2; do
            for port in 8080 7000 7001; do
                within "$CF_POLICY_WAIT" refused "$p" tcp "$(sim ip "$t")" \
                    "$port"
            done
        done
    done
}

# all_reach PROXIES TICKS: every proxy instance reaches every tick
# instance on 8080, 7000 and 7001, and not on 7002 (refused on its own
# cell; dropped by the tick's cell across cells).
all_reach() {
    local p t port ip
    for p in $1; do
        for t in $2; do
            ip=$(sim ip "$t")
            for port in 8080 7000 7001; do
                expect "$p" connected tcp "$ip" "$port"
            done
            if [ "$(cat "$FC_STATE/apps/$p/cell")" = \
                 "$(cat "$FC_STATE/apps/$t/cell")" ]; then
                expect "$p" refused tcp "$ip" 7002
            else
                expect "$p" timeout tcp "$ip" 7002
            fi
        done
    done
}

# asg_overlay_interaction: a wide-open running ASG lets an app reach the
# external network but not another app, on its cell or across cells,
# whether the app is in no policy or in a policy to another port; a
# policy opens container-to-container traffic; and with no running ASG a
# policy opens no egress: not to the app's own public route (the router,
# its cell's host port).
test_asg_overlay_interaction() {
    fleet_up
    serve ext 80 >/dev/null
    serve router 80 >/dev/null
    sim push a --space s1 --cell 1 >/dev/null
    sim push b --space s1 --cell 1 >/dev/null
    sim push b-2 --app b --space s1 --cell 2 >/dev/null
    serve a 8080 >/dev/null
    local b b2
    b=$(sim ip b) b2=$(sim ip b-2)
    serve b 8080,9000 >/dev/null
    serve b-2 8080,9000 >/dev/null

    # No running ASG, a policy a -> b: c2c works, egress does not.
    sim policy add a b --port 8080
    within "$CF_POLICY_WAIT" connected a tcp "$b2" 8080
    expect a connected tcp "$b" 8080
    expect a refused tcp "$ROUTER" 80
    expect a refused tcp "$(cell_ip_of a)" "$(host_port_of a)"
    expect a refused tcp "$EXT" 80
    sim policy remove a b --port 8080

    # A wide-open ASG: the external host, not the other app.
    sim asg create open --rules "$(asg_rules 'all 0.0.0.0-255.255.255.255')" \
        >/dev/null
    sim asg bind open --space s1
    within "$CF_ASG_WAIT" connected a tcp "$EXT" 80
    within "$CF_ASG_WAIT" connected b-2 tcp "$EXT" 80
    within "$CF_POLICY_WAIT" refused a tcp "$b" 8080
    expect a refused tcp "$b2" 8080
    # In a policy to b's port 9000 (a has a tag, and b's cell judges what
    # comes across): 8080 stays closed on both cells.
    sim policy add a b --port 9000
    within "$CF_POLICY_WAIT" connected a tcp "$b2" 9000
    expect a connected tcp "$b" 9000
    expect a refused tcp "$b" 8080
    expect a timeout tcp "$b2" 8080
}

# asg_test: an app cannot reach cloud-controller-ng.service.cf.internal
# (resolved through BOSH DNS) on 9024, and the answer is a refusal; a
# running ASG for 10.0.0.0/0 tcp 9024 bound to its space lets it (and the
# app's instance on the other cell) through without a restart; unbound, it
# is refused again.
test_asg() {
    fleet_up
    serve ext 9024 >/dev/null
    sim push app --space s1 --cell 1 >/dev/null
    sim push app-2 --app app --space s1 --cell 2 >/dev/null
    local cc=cloud-controller-ng.service.cf.internal where
    for where in app app-2; do
        expect "$where" refused tcp "$cc" 9024
    done

    sim asg create cc --rules "$(asg_rules 'tcp 10.0.0.0/0 9024')" >/dev/null
    sim asg bind cc --space s1
    for where in app app-2; do
        within "$CF_ASG_WAIT" connected "$where" tcp "$cc" 9024
        expect_equal "${PROBE_DETAIL% *}" "peer $(cell_ip_of "$where")" \
            "the source the external host sees (the cell's address)"
    done

    sim asg unbind cc --space s1
    for where in app app-2; do
        within "$CF_ASG_WAIT" refused "$where" tcp "$cc" 9024
    done
}

# external_connectivity: the app is reachable through the router; it has
# no HTTP or DNS egress until ASGs for tcp 80,443 and udp 53 are bound;
# unbinding the TCP one closes HTTP again and leaves DNS; ICMP echo works
# only under an ASG for ICMP type 8 code 0, not under one for another type.
test_external_connectivity() {
    fleet_up
    serve ext 80,443 >/dev/null
    serve ext 53 --udp --bind "$EXT" >/dev/null
    sim push app --space s1 --cell 2 >/dev/null
    serve app 8080 >/dev/null
    expect router connected tcp "$(cell_ip_of app)" "$(host_port_of app)"
    expect app refused tcp "$EXT" 80
    expect app refused tcp "$EXT" 443
    expect app refused udp "$EXT" 53

    sim asg create web --rules "$(asg_rules 'tcp 10.0.0.100 80,443')" \
        >/dev/null
    sim asg create dns --rules "$(asg_rules 'udp 10.0.0.100 53')" >/dev/null
    sim asg bind web --space s1
    sim asg bind dns --space s1
    within "$CF_ASG_WAIT" connected app tcp "$EXT" 80
    expect app connected tcp "$EXT" 443
    within "$CF_ASG_WAIT" reply app udp "$EXT" 53

    sim asg unbind web --space s1
    within "$CF_ASG_UNBIND_WAIT" refused app tcp "$EXT" 80
    expect app refused tcp "$EXT" 443
    expect app reply udp "$EXT" 53

    # ICMP: nothing, then an ASG for another type (timestamp), then echo.
    expect_ping_unreachable app "$EXT"
    sim asg create stamp --rules "$(asg_rules 'icmp 10.0.0.100 13 0')" \
        >/dev/null
    sim asg bind stamp --space s1
    wait_until "$CF_ASG_WAIT" "the timestamp ASG on the app's cell" \
        trace_names app icmp "security group stamp"
    expect_ping_unreachable app "$EXT"
    sim asg create ping --rules "$(asg_rules 'icmp 10.0.0.100 8 0')" \
        >/dev/null
    sim asg bind ping --space s1
    wait_until "$CF_ASG_WAIT" "a ping answered under the echo ASG" \
        ping_answered app "$EXT"
}

# trace_names APP PROTO WHAT: flowctl/trace from APP to EXT (ICMP: type
# 13) names WHAT somewhere in its answer.
trace_names() {
    trace_of "$1" "$EXT" "$2" 13 2>&1 | grep -qF "$3"
}

ping_answered() {
    on "$1" ping -n -c1 -W1 "$2" 2>&1 | grep -q ' 1 received'
}

# source_ip: the destination app sees the source container's own address,
# on the same cell and across cells (no NAT on the overlay); the external
# host sees the cell's address.
test_source_ip() {
    fleet_up
    serve ext 80 >/dev/null
    sim push a --space s1 --cell 1 >/dev/null
    sim push b --cell 1 >/dev/null
    sim push b-2 --app b --cell 2 >/dev/null
    serve b 8080 >/dev/null
    serve b-2 8080 >/dev/null
    local a
    a=$(sim ip a)
    sim policy add a b
    within "$CF_POLICY_WAIT" connected a tcp "$(sim ip b-2)" 8080
    expect_equal "${PROBE_DETAIL% *}" "peer $a" "the source b-2 sees"
    expect a connected tcp "$(sim ip b)" 8080
    expect_equal "${PROBE_DETAIL% *}" "peer $a" "the source b sees"

    sim asg create web --rules "$(asg_rules 'tcp 10.0.0.100 80')" >/dev/null
    sim asg bind web --space s1
    within "$CF_ASG_WAIT" connected a tcp "$EXT" 80
    expect_equal "${PROBE_DETAIL% *}" "peer 10.0.0.11" \
        "the source the external host sees"
}

# task_connectivity: a task of app a reaches app b under a -> b, on b's
# cell and on the other; b sees the task's own address; the task carries
# a's tag from the policy server; another app's task is not let in by a's
# policy, nor is b let into the task; without the policy, refused again.
test_task_connectivity() {
    fleet_up
    sim push a-task1 --task --app a --cell 1 >/dev/null
    sim push a-task2 --task --app a --cell 2 >/dev/null
    sim push c-task --task --app c --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local b t1 t2
    b=$(sim ip b) t1=$(sim ip a-task1) t2=$(sim ip a-task2)
    serve b 8080 >/dev/null
    expect a-task1 refused tcp "$b" 8080
    expect a-task2 refused tcp "$b" 8080

    sim policy add a b
    within "$CF_POLICY_WAIT" connected a-task1 tcp "$b" 8080
    expect_equal "${PROBE_DETAIL% *}" "peer $t1" "the source b sees (cell 1)"
    within "$CF_POLICY_WAIT" connected a-task2 tcp "$b" 8080
    expect_equal "${PROBE_DETAIL% *}" "peer $t2" "the source b sees (cell 2)"
    expect_equal "$(tag_of 1 a-task1)" "$(server_tag a)" "a-task1's tag"
    expect_equal "$(tag_of 2 a-task2)" "$(server_tag a)" "a-task2's tag"
    expect c-task refused tcp "$b" 8080
    serve a-task2 8080 >/dev/null
    expect b refused tcp "$t2" 8080

    sim policy remove a b
    within "$CF_POLICY_WAIT" refused a-task1 tcp "$b" 8080
    within "$CF_POLICY_WAIT" refused a-task2 tcp "$b" 8080
}

# big_asg: an app pushed into a space whose running ASG has 1,000 rules
# starts, and its rules work to the last one.  CF reports the push time
# and asserts nothing on it; so does this test (in its output), and
# bench/ measures how the rule count costs.
test_big_asg() {
    fleet_up
    serve ext 9024,9025 >/dev/null
    local rules i start took
    rules=$FC_TMP/big-asg.json
    {
        echo '['
        for i in $(seq 0 998); do
            printf '{"protocol":"tcp","destination":"172.16.%d.%d","ports":"%d"},\n' \
                $((i / 200)) $((i % 200 + 1)) $((1000 + i))
        done
        echo '{"protocol":"tcp","destination":"10.0.0.101","ports":"9024"}]'
    } > "$rules"
    expect_equal "$(jq length "$rules")" 1000 "the ASG's rule count"
    sim asg create big --rules-file "$rules" >/dev/null
    sim asg bind big --space s1

    start=$(date +%s%N)
    sim push app --space s1 --cell 2 >/dev/null
    took=$((($(date +%s%N) - start) / 1000000))
    echo "big_asg: push with a 1,000-rule running ASG took $took ms"
    within "$CF_ASG_WAIT" connected app tcp "$EXT2" 9024
    expect app refused tcp "$EXT" 9024
    expect app refused tcp "$EXT2" 9025
    # The first rule: its address and port are let out (nobody answers
    # there), another of its ports is refused.
    expect app timeout tcp 172.16.0.1 1000
    expect app refused tcp 172.16.0.1 1001
}
