# System tests of container-to-container policies and synced ASGs in
# flowctl's pipeline, end to end on cell-sim with its policy server
# stand-in (scripts/policy-server-sim; `cell-sim up` starts it and points
# every cell's flowctl at it): tags from the server in reg8 and the Geneve
# option, (source tag, destination, protocol, port range) admitted in
# 'ingress' on one cell and across cells, a policy's connections cut when
# it goes and kept when another policy still admits them, every instance
# of an app reached by one set of flows, a new container
# marked installed only once its policies are in force, and security groups
# bound and unbound at the server applied to a running app, each rule named
# by its group.  Real traffic between containers made through garden-sim
# and cni-ovs.
#
# Needs the whole policy-server work of issue 10 (the parsers, flowctl's
# client and cell-sim's stand-in) besides the pipeline.  Helpers (sim_up,
# expect, fail, ...) are tests/system/flowctl/simlib.sh's; each test has
# its own sim, removed by file_teardown.  Run by tests/system/run-file, as
# root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# stream_from APP DST PORT [--udp]: a long connection (or UDP flow) from APP
# (a line every 100 ms, echoed), in the background; prints its log file.
stream_from() {
    local pid
    pid=$(sim bg "$1" "$FC_PY" "$FC_PROBE" stream "$2" "$3" \
          --interval 0.1 --duration 60 "${@:4}" | tail -1)
    echo "$FC_STATE/logs/bg.$pid.log"
}

echoes() { grep -c '^echo ' "$1" || true; }

# ---------------------------------------------------------------------------
# c2c

# Deny -> allow -> deny, on one cell and across cells: only the policy's
# protocol and ports, only in its direction; the destination sees the
# source's own address; the tags in the classify flows are the server's;
# flowctl/trace names the policy; an app in no policy has no tag.
test_policy_allows_only_its_flow() {
    sim_up --cells 2
    sim push a --cell 1 >/dev/null
    sim push b --cell 1 >/dev/null
    sim push c --cell 2 >/dev/null
    local a b c out
    a=$(sim ip a) b=$(sim ip b) c=$(sim ip c)
    serve b 8080,8081 >/dev/null
    serve c 8080,9000 >/dev/null
    serve c 9002 --udp >/dev/null
    expect a refused tcp "$b" 8080
    expect a refused tcp "$c" 8080
    expect_equal "$(tag_of 1 a)" 0 "a's tag before any policy"

    sim policy add a b
    sim policy add a c --ports 9000-9001
    sim policy add a c --protocol udp --ports 9002-9003
    wait_until 5 "a to reach b" probe_is a connected tcp "$b" 8080
    expect a connected tcp "$b" 8080
    expect_equal "${PROBE_DETAIL% *}" "peer $a" "the source b sees"
    expect a refused tcp "$b" 8081
    expect b refused tcp "$a" 8080
    wait_until 5 "a to reach c" probe_is a connected tcp "$c" 9000
    expect a connected tcp "$c" 9000
    expect_equal "${PROBE_DETAIL% *}" "peer $a" "the source c sees"
    expect a reply udp "$c" 9002
    # Across cells, what c's cell does not admit is dropped there.
    expect a timeout tcp "$c" 8080

    expect_equal "$(tag_of 1 a)" "$(server_tag a)" "a's tag"
    expect_equal "$(tag_of 1 b)" "$(server_tag b)" "b's tag"
    expect_equal "$(tag_of 2 c)" "$(server_tag c)" "c's tag"
    out=$(fcctl_on 1 flowctl/trace "$(handle_of a)" "$b" tcp 8080 \
          | sed -n 's/^verdict: //p')
    expect_equal "$out" \
        "allowed by c2c policy a (tag $(printf '%#x' "$(server_tag a)")) -> b tcp port 8080" \
        "flowctl/trace a -> b"
    fcctl_on 1 flowctl/show | grep -q "$(handle_of a) .*, app a tag " \
        || fail "flowctl/show does not give a's app and tag"
    # The policy counts the connections it admitted (two so far; the
    # switch credits its counters within about a second).
    wait_until 5 "a -> b's policy to count 2 connections" eval \
        "fcctl_on 1 flowctl/rule-stats | grep -q '^  2 connections, .*: a (tag .*) -> b tcp port 8080\$'"

    sim policy remove a b
    wait_until 5 "b to refuse a" probe_is a refused tcp "$b" 8080
    expect a connected tcp "$c" 9000
    sim policy remove a c --ports 9000-9001
    sim policy remove a c --protocol udp --ports 9002-9003
    # a is in no policy now: no tag, refused at once on its own cell.
    wait_until 5 "a to be refused by c" probe_is a refused tcp "$c" 9000
    expect_equal "$(tag_of 1 a)" 0 "a's tag after its policies"
}

# A long connection stops within a poll interval and a second of its
# policy's removal, on one cell and across cells.
test_policy_removal_cuts_connections() {
    sim_up --cells 2
    sim push a --cell 1 >/dev/null
    sim push b --cell 1 >/dev/null
    sim push c --cell 2 >/dev/null
    local b c log_b log_c t_remove last
    b=$(sim ip b) c=$(sim ip c)
    serve b 7000 >/dev/null
    serve c 7000 >/dev/null
    sim policy add a b --port 7000
    sim policy add a c --port 7000
    wait_until 5 "a to reach b" probe_is a connected tcp "$b" 7000
    wait_until 5 "a to reach c" probe_is a connected tcp "$c" 7000
    log_b=$(stream_from a "$b" 7000)
    log_c=$(stream_from a "$c" 7000)
    wait_until 5 "10 echoes from b" eval "[ \$(echoes '$log_b') -ge 10 ]"
    wait_until 5 "10 echoes from c" eval "[ \$(echoes '$log_c') -ge 10 ]"

    t_remove=$(date +%s.%N)
    sim policy remove a b --port 7000
    sim policy remove a c --port 7000
    sleep 3
    for log in "$log_b" "$log_c"; do
        last=$(awk '/^echo / { t = $3 } END { print t }' "$log")
        echo "last echo $last, removed at $t_remove ($log)"
        awk -v l="$last" -v r="$t_remove" 'BEGIN { exit !(l <= r + 2.0) }' \
            || fail "echoes until $last, more than 2 s after the removal" \
                    "at $t_remove"
    done
    expect a refused tcp "$b" 7000
}

# ingress_flows_to CELL TAG: the 'ingress' flows of the policies to the app
# with TAG (decimal) on CELL, one line each.
ingress_flows_to() {
    ofctl_on "$1" --no-stats dump-flows br-cf table=7 \
        | grep -E "reg10=0x$(printf '%x' "$2")[, ]" || true
}

# The instances of an app are one destination: a policy reaches every
# instance, on its cell and on another, including one started after the
# policy, and the policy's 'ingress' flows are the same for one instance as
# for three (they match the app's tag, which 'owner' gives every packet to
# its containers); an instance of another app is still refused.
test_policy_reaches_every_instance() {
    sim_up --cells 2
    sim push a --cell 1 >/dev/null
    sim push b --cell 1 >/dev/null
    sim push d --cell 1 >/dev/null
    sim push c --cell 2 >/dev/null
    serve b 8080 >/dev/null
    serve d 8080 >/dev/null
    sim policy add a b
    sim policy add c b
    wait_until 5 "a to reach b" probe_is a connected tcp "$(sim ip b)" 8080
    local tag before after
    tag=$(server_tag b)
    before=$(ingress_flows_to 1 "$tag")
    expect_equal "$(grep -c . <<<"$before")" 2 \
        "ingress flows of the two policies to b, with one instance"

    sim push b2 --cell 1 --app b >/dev/null
    sim push b3 --cell 1 --app b >/dev/null
    sim push b4 --cell 2 --app b >/dev/null
    serve b2 8080 >/dev/null
    serve b3 8080 >/dev/null
    serve b4 8080 >/dev/null
    local i
    for i in b b2 b3 b4; do
        expect a connected tcp "$(sim ip "$i")" 8080
        expect c connected tcp "$(sim ip "$i")" 8080
    done
    expect a refused tcp "$(sim ip d)" 8080
    expect_equal "$(tag_of 1 b3)" "$tag" "b3's tag"
    after=$(ingress_flows_to 1 "$tag")
    expect_equal "$(sed -E 's/cookie=[^,]*, //' <<<"$after" | sort)" \
        "$(sed -E 's/cookie=[^,]*, //' <<<"$before" | sort)" \
        "the policies' ingress flows with three instances of b"
    ! grep -q nw_dst <<<"$after" \
        || fail "a policy flow names a container's address: $after"
}

# A connection whose policy goes while another policy still admits it goes
# on, on one cell and across cells (judged again, and committed with the
# other policy's cookie).
test_policy_replaced_keeps_connections() {
    sim_up --cells 2
    sim push a --cell 1 >/dev/null
    sim push b --cell 1 >/dev/null
    sim push c --cell 2 >/dev/null
    local b c log_b log_c n_b n_c
    b=$(sim ip b) c=$(sim ip c)
    serve b 7000 >/dev/null
    serve c 7000 >/dev/null
    sim policy add a b --port 7000
    sim policy add a c --port 7000
    wait_until 5 "a to reach c" probe_is a connected tcp "$c" 7000
    log_b=$(stream_from a "$b" 7000)
    log_c=$(stream_from a "$c" 7000)
    sim policy add a b --ports 7000-7001
    sim policy add a c --ports 7000-7001
    sleep 2
    sim policy remove a b --port 7000
    sim policy remove a c --port 7000
    sleep 3
    n_b=$(echoes "$log_b") n_c=$(echoes "$log_c")
    sleep 2
    [ "$(echoes "$log_b")" -gt "$n_b" ] || fail "b's connection stopped"
    [ "$(echoes "$log_c")" -gt "$n_c" ] || fail "c's connection stopped"
    ! grep '^error ' "$log_b" "$log_c" || fail "a stream failed"
}

# conntrack_has IP: the cell's zone has an entry with IP as an address.
conntrack_has() {
    sim cell ovs-appctl dpctl/dump-conntrack zone=1 \
        | grep -qE "(src|dst)=${1//./\\.}[,)]"
}

# A deleted container's connections go with it: flowctl flushes its
# conntrack entries, so a container of another app that is given its
# address inherits none of them.  A UDP flow that a policy admitted to the
# old container, and that goes on sending (a peer that has not noticed),
# is judged again and does not reach the new one, although the policy's
# flows stay (another instance of the old app is on the cell).
test_deleted_container_connections_flushed() {
    sim_up --cells 1
    udp_flow_s_to_d1
    sim push d2 --app d >/dev/null
    conntrack_has "$D1" || fail "no conntrack entry with d1's address $D1"

    sim delete d1
    wait_until 5 "d1's conntrack entries to go" eval "! conntrack_has $D1"
    fcctl_on 1 flowctl/show | grep -q "^conntrack flushes: [1-9][0-9]* addresses flushed, 0 queued$" \
        || fail "flowctl/show: $(fcctl_on 1 flowctl/show | grep -A30 "^state:")"
    expect_new_holder_gets_nothing
    [ "$(echoes "$FLOW_LOG")" -ge 10 ] \
        || fail "the stream's log: $(tail -3 "$FLOW_LOG")"
}

# A container deleted while flowctl is away leaves no conntrack entry
# either: flowctl walks the zone at start and flushes the addresses that
# no container holds, so the container that gets the address later (long
# after flowctl is back) gets none of the old flow.
test_container_deleted_while_flowctl_away_flushed() {
    sim_up --cells 1
    udp_flow_s_to_d1

    sim flowctl stop
    sim delete d1
    conntrack_has "$D1" || fail "no conntrack entry with d1's address $D1"
    sim flowctl start >/dev/null
    wait_until 5 "d1's conntrack entries to go" eval "! conntrack_has $D1"
    grep -q "walked conntrack zone 1 in [0-9]* ms: [1-9][0-9]* entries" \
        "$FC_CELL/flowctl.log" \
        || fail "flowctl did not log its walk"
    expect_new_holder_gets_nothing
}

# udp_flow_s_to_d1: containers s and d1 (of app d, which s may reach at
# UDP 9000 by a policy) on cell 1, and a UDP flow from s to d1 that goes
# on sending; sets S_IP, D1 (d1's address) and FLOW_LOG (the flow's log).
udp_flow_s_to_d1() {
    sim push s >/dev/null
    sim push d1 --app d >/dev/null
    S_IP=$(sim ip s) D1=$(sim ip d1)
    serve d1 9000 --udp >/dev/null
    sim policy add s d --protocol udp --port 9000
    wait_until 5 "s to reach d1" probe_is s reply udp "$D1" 9000
    FLOW_LOG=$(stream_from s "$D1" 9000 --udp)
    wait_until 5 "10 echoes from d1" \
        eval "[ \$(echoes '$FLOW_LOG') -ge 10 ]"
}

# expect_new_holder_gets_nothing: once d1 is gone, a container of another
# app, e1, is given its address D1 and serves UDP 9000: nothing of s's
# old flow (FLOW_LOG's, still sending) reaches it in 3 s, and a fresh
# flow of s to it is refused.
expect_new_holder_gets_nothing() {
    # host-local hands out the address after the last one it reserved.
    local ipam srv got
    ipam=$(echo "$FC_STATE"/cell1/cni/ipam/*/last_reserved_ip.0)
    [ -f "$ipam" ] || fail "no host-local state: $ipam"
    echo "${D1%.*}.$((${D1##*.} - 1))" > "$ipam"
    sim push e1 --app e >/dev/null
    expect_equal "$(sim ip e1)" "$D1" "e1's address (d1's)"
    srv=$(serve e1 9000 --udp)
    sleep 3
    got=$(grep -c "^datagram $S_IP " "$FC_STATE/logs/bg.$srv.log" || true)
    expect_equal "$got" 0 "datagrams from s's old flow that reached e1"
    expect s refused udp "$D1" 9000
}

# A container whose app has a policy is marked installed only once its
# app's policies are in its cell's flows: while the server fails the
# policies request, the new container waits (flowctl/show says so, no
# cf-installed); once the server answers, it is installed and its policy
# is in force as soon as `push` returns.
test_new_container_waits_for_its_policies() {
    FC_LOG_IGNORE='policysync\|WARN\|policy server: fetching policies failed: HTTP status 500'
    sim_up
    sim push a >/dev/null
    sim policy add a b
    sim policy-server fault 500 --endpoints policies
    local push_out=$FC_TMP/push.out
    sim push b > "$push_out" 2>&1 &
    local push=$!
    wait_until 5 "b's interface" eval \
        "cvsctl --bare --columns=name find interface external_ids:cf-handle!=x \
         | grep -q . && [ -e '$FC_STATE/apps/b/handle' ]"
    sleep 2
    fcctl flowctl/show | grep "$(handle_of b) .*WAITING for its app's policies" \
        || fail "flowctl/show does not say that b waits for its policies"
    expect_equal "$(cvsctl get interface "$(ifname_of b)" \
                    external_ids:cf-installed 2>/dev/null || echo none)" \
        none "b's cf-installed while its policies cannot be fetched"
    sim policy-server fault none
    # Poll now, not when the backoff says (cni-ovs waits 10 s in all).
    fcctl flowctl/policy-sync >/dev/null
    wait "$push" || fail "push b failed: $(cat "$push_out")"
    serve b 8080 >/dev/null
    expect a connected tcp "$(sim ip b)" 8080
    ! fcctl flowctl/show | grep WAITING \
        || fail "a container still waits for its policies"
}

# ---------------------------------------------------------------------------
# Synced ASGs

# An ASG bound to the app's space at the server lets the running app reach
# an external host without a restart, and the rule is named by its group
# in flowctl/trace and flowctl/show; unbinding it refuses new connections
# and cuts the open one.
test_asg_bind_and_unbind() {
    sim_up --asg-syncing --asg-poll-interval 1
    serve ext 80 >/dev/null
    sim push a --space s1 >/dev/null
    expect a refused tcp 10.0.0.100 80
    local guid out log t_unbind last
    guid=$(sim asg create web \
           --rules '[{"protocol":"tcp","destination":"10.0.0.100","ports":"80"}]')
    sim asg bind web --space s1
    wait_until 5 "a to reach ext" probe_is a connected tcp 10.0.0.100 80
    out=$(fcctl flowctl/trace "$(handle_of a)" 10.0.0.100 tcp 80 \
          | sed -n 's/^verdict: //p')
    grep -q "(tcp 10.0.0.100 port 80) from security group web ($guid) rule 0\$" \
        <<<"$out" || fail "flowctl/trace does not name the group: $out"
    fcctl flowctl/show | grep -q "rule 0: .* from security group web ($guid) rule 0\$" \
        || fail "flowctl/show does not name the group"

    log=$(stream_from a 10.0.0.100 80)
    wait_until 5 "10 echoes" eval "[ \$(echoes '$log') -ge 10 ]"
    t_unbind=$(date +%s.%N)
    sim asg unbind web --space s1
    wait_until 5 "the connection to fail" grep -q '^error ' "$log"
    last=$(awk '/^echo / { t = $3 } END { print t }' "$log")
    awk -v l="$last" -v r="$t_unbind" 'BEGIN { exit !(l <= r + 2.0) }' \
        || fail "echoes until $last, more than 2 s after the unbinding"
    expect a refused tcp 10.0.0.100 80
}
