# System tests of flowctl on cell-sim (scripts/cell-sim, docs/cell-sim.md):
# a cell with OVS, flowctl, BOSH DNS and containers made through garden-sim
# and cni-ovs, an external host (10.0.0.100, .101 answer; .102 drops
# everything; .1) and a router (10.0.0.2).  Every test checks, with real
# traffic, what a CF user or operator would see: NetOut (ASGs) and its
# shapes, DNS and the cell's own addresses, deny_networks, container-to-
# container isolation, NetIn, masquerading, the spoof guard, revocation,
# restarts of flowctl and ovs-vswitchd, stale ports and the operator's view
# of flows, rulesets and conntrack.
#
# As in CF's acceptance tests, "refused" and "timeout" are told apart: a
# denied TCP connect fails in well under a second with ECONNREFUSED (flowctl
# answers with a RST), a denied UDP datagram gets ICMP port unreachable;
# traffic that is allowed but unanswered (10.0.0.102) times out.  Wherever a
# refusal is asserted, something listens at the destination, so that the
# refusal can only be the bridge's.  The probes and servers are
# tests/system/flowctl/probe.py.
#
# Each test brings up its own sim (sim_up, with the cell options it needs)
# under a name unique to the test; file_teardown removes it with
# `cell-sim down`, pass or fail, after a short dump of its state on failure
# (CFNET_KEEP=1 keeps a full dump in /tmp/fc-failed-<sim>.txt).  Run by
# tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# ---------------------------------------------------------------------------
# NetOut

# An ASG admits exactly what it lists: .100:80 connects, .101:80 (not
# listed, but something listens there) is refused at once, .102:80 (listed,
# but the host drops it) times out.  A container without ASGs is refused.
test_netout_asg_allows_only_listed_destinations() {
    sim_up
    # The ASG file, as an operator would bind it.
    cat > "$FC_TMP/asg.json" <<EOF
[$(tcp_rule 10.0.0.100 10.0.0.100 80),
 {"protocol":1,"networks":[{"start":"10.0.0.102","end":"10.0.0.102"}],
  "ports":[{"start":80,"end":80}],"log":true}]
EOF
    serve ext 80
    sim push a1 --asg "$FC_TMP/asg.json"
    sim push a2

    expect a1 connected tcp 10.0.0.100 80
    expect a1 refused tcp 10.0.0.101 80
    expect a1 timeout tcp 10.0.0.102 80
    expect a2 refused tcp 10.0.0.100 80
    # The router reaches .101:80: the refusal was the cell's.
    expect router connected tcp 10.0.0.101 80
}

# Port ranges and address ranges that are not one CIDR block.
test_netout_asg_port_and_address_ranges() {
    sim_up
    serve ext 80,7999,8000,8050,8100,8101
    sim push ports --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 8000 8100)]"
    # 10.0.0.1-10.0.0.101 takes many prefixes (.1/32, .2/31, ... .100/31).
    sim push addrs --netout "[$(tcp_rule 10.0.0.1 10.0.0.101 80)]"

    expect ports connected tcp 10.0.0.100 8000
    expect ports connected tcp 10.0.0.100 8050
    expect ports connected tcp 10.0.0.100 8100
    expect ports refused tcp 10.0.0.100 7999
    expect ports refused tcp 10.0.0.100 8101
    expect ports refused tcp 10.0.0.100 80

    expect addrs connected tcp 10.0.0.1 80
    expect addrs connected tcp 10.0.0.100 80
    expect addrs connected tcp 10.0.0.101 80
    # Just outside the range: refused at once (inside, .102 would time
    # out: its host drops everything).
    expect addrs refused tcp 10.0.0.102 80
    expect addrs refused tcp 10.0.0.100 8050
}

# Protocol all, ICMP (type 8 code 0, and 255 = any) and UDP; what is not
# allowed gets a RST (TCP) or ICMP port unreachable (UDP, ICMP).
test_netout_asg_protocols() {
    sim_up
    serve ext 80
    serve ext 5353 --udp
    sim push all --netout \
        '[{"networks":[{"start":"10.0.0.100","end":"10.0.0.100"}]}]'
    sim push echo --netout "[$ICMP_ECHO_100]"
    sim push anyicmp --netout \
        '[{"protocol":3,"networks":[{"start":"10.0.0.100","end":"10.0.0.100"}],"icmps":{"type":255,"code":255}}]'
    sim push udp --netout \
        '[{"protocol":2,"networks":[{"start":"10.0.0.100","end":"10.0.0.100"}],"ports":[{"start":5353,"end":5353}]}]'
    sim push tcp --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"

    # Protocol all: anything to .100, nothing to .101.
    expect all connected tcp 10.0.0.100 80
    expect all reply udp 10.0.0.100 5353
    expect_ping_ok all 10.0.0.100
    expect all refused tcp 10.0.0.101 80
    expect_ping_unreachable all 10.0.0.101

    # ICMP echo: ping .100, nothing else.
    expect_ping_ok echo 10.0.0.100
    expect_ping_unreachable echo 10.0.0.101
    expect echo refused tcp 10.0.0.100 80
    expect_ping_ok anyicmp 10.0.0.100
    expect_ping_unreachable anyicmp 10.0.0.101

    # UDP: allowed gets the answer; denied gets ICMP port unreachable,
    # which a connected socket reports as ECONNREFUSED.
    expect udp reply udp 10.0.0.100 5353
    expect udp refused tcp 10.0.0.100 80
    expect tcp refused udp 10.0.0.100 5353
    expect_ping_unreachable tcp 10.0.0.100
}

# ---------------------------------------------------------------------------
# The cell's own addresses

# DNS (53/udp+tcp on 169.254.0.2) and the configured host services are open
# to every container; everything else on the cell is closed, even to a
# container whose ASG allows everything.
test_dns_host_services_and_closed_cell() {
    sim_up --host-tcp-service 10.0.0.11:8898 \
        --host-udp-service 10.0.0.11:8899
    serve cell 8898,8897,22 --bind 10.0.0.11
    serve cell 8899 --udp --bind 10.0.0.11
    serve cell 80 --bind 169.254.0.2
    sim push plain
    sim push open --netout "$ALLOW_ALL"

    expect plain answer dns udp
    expect plain answer dns tcp
    expect plain connected tcp 10.0.0.11 8898
    expect plain reply udp 10.0.0.11 8899
    expect open answer dns udp

    expect open refused tcp 169.254.0.2 80
    expect open refused tcp 10.0.0.11 22
    expect open refused tcp 10.0.0.11 8897
    expect plain refused tcp 10.0.0.11 8897
    expect open refused udp 169.254.0.2 80
    # The cell itself reaches them: the refusals were the bridge's.
    expect cell connected tcp 10.0.0.11 22
    expect cell connected tcp 169.254.0.2 80
}

# deny_networks beats ASGs: "running" for app and task containers,
# "staging" for staging ones, "always" for all.
test_deny_networks_beat_asgs() {
    sim_up --deny-running 10.0.0.100/32 --deny-staging 10.0.0.101/32 \
        --deny-always 10.0.0.1/32
    serve ext 80
    sim push app --netout "$ALLOW_ALL"
    sim push task --task --netout "$ALLOW_ALL"
    sim push stage --staging --netout "$ALLOW_ALL"

    expect app refused tcp 10.0.0.100 80
    expect app connected tcp 10.0.0.101 80
    expect app refused tcp 10.0.0.1 80
    expect task refused tcp 10.0.0.100 80
    expect task connected tcp 10.0.0.101 80
    expect stage connected tcp 10.0.0.100 80
    expect stage refused tcp 10.0.0.101 80
    expect stage refused tcp 10.0.0.1 80
    expect_ping_unreachable app 10.0.0.100
    expect_ping_ok stage 10.0.0.100
}

# Containers cannot reach each other directly (that needs policy), whatever
# their ASGs.
test_container_to_container_is_refused() {
    sim_up
    serve ext 80
    sim push a --netout "$ALLOW_ALL"
    sim push b --netout "$ALLOW_ALL"
    serve a 8080
    serve b 8080
    local ip_a ip_b
    ip_a=$(sim ip a)
    ip_b=$(sim ip b)

    expect a connected tcp 10.0.0.100 80
    expect a refused tcp "$ip_b" 8080
    expect b refused tcp "$ip_a" 8080
    expect a refused udp "$ip_b" 8080
    expect_ping_unreachable a "$ip_b"
    # Each reaches its own listener.
    expect b connected tcp "$ip_b" 8080
}

# ---------------------------------------------------------------------------
# NetIn and egress addresses

# The router reaches the container through instance_address:host_port and
# the app sees the router's address; unmapped ports are refused, and other
# containers cannot use the mapping.
test_netin_port_mapping() {
    sim_up
    sim push web --port 8080 --host-port 61000
    sim push other --netout "$ALLOW_ALL"
    serve web 8080

    expect router connected tcp 10.0.0.11 61000
    expect_equal "${PROBE_DETAIL% *}" "peer 10.0.0.2" \
        "the client address the app saw"
    expect router refused tcp 10.0.0.11 61001
    expect other refused tcp 10.0.0.11 61000
    expect other refused tcp "$(sim ip web)" 8080
}

# Traffic leaving the cell carries the cell's address (masquerading).
test_egress_source_is_cell_address() {
    sim_up
    serve ext 80
    serve ext 5353 --udp
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80),
        {\"protocol\":2,\"networks\":[{\"start\":\"10.0.0.100\",\"end\":\"10.0.0.100\"}],\"ports\":[{\"start\":5353,\"end\":5353}]}]"

    expect a connected tcp 10.0.0.100 80
    expect_equal "${PROBE_DETAIL% *}" "peer 10.0.0.11" \
        "the TCP client address ext saw"
    expect a reply udp 10.0.0.100 5353
    expect_equal "$(cut -d' ' -f1-2 <<<"$PROBE_DETAIL")" "peer 10.0.0.11" \
        "the UDP client address ext saw"
}

# ---------------------------------------------------------------------------
# Spoof guard

# syn_count: SYNs from the cell that reached the external host's port 80
# (an iptables counter there).
syn_count() {
    on ext iptables -w -nvxL INPUT | awk '/fc-syn-count/ { print $1 }'
}

# A container that sends with another address or another MAC gets nowhere
# (nothing reaches the external host), and works again once restored.
test_spoof_guard_drops_foreign_source_ip_and_mac() {
    sim_up
    serve ext 80
    on ext iptables -w -I INPUT -p tcp --dport 80 --syn -s 10.0.0.11 \
        -m comment --comment fc-syn-count
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    local n mac
    expect a connected tcp 10.0.0.100 80
    n=$(syn_count)
    [ "$n" -ge 1 ] || fail "the SYN counter in ext does not count"

    # A second address in the container, used as the source.
    on a ip addr add 10.255.1.99/32 dev eth0
    expect a timeout tcp 10.0.0.100 80 --bind 10.255.1.99
    expect_equal "$(syn_count)" "$n" "SYNs at ext after the spoofed address"
    expect a connected tcp 10.0.0.100 80
    on a ip addr del 10.255.1.99/32 dev eth0
    n=$(syn_count)

    # Another MAC.
    mac=$(on a cat /sys/class/net/eth0/address)
    on a ip link set eth0 address ee:ee:0a:ff:01:63
    expect a timeout tcp 10.0.0.100 80
    expect_equal "$(syn_count)" "$n" "SYNs at ext after the spoofed MAC"
    on a ip link set eth0 address "$mac"
    expect a connected tcp 10.0.0.100 80
}

# ARP is answered only for the container's own addresses: a request for
# the gateway with the container's IP gets the gateway MAC; the same request
# claiming another address (ARP spoofing) is dropped by the spoof guard.
test_spoof_guard_drops_arp_for_another_ip() {
    sim_up
    sim push a
    local ip
    ip=$(sim ip a)
    expect a reply arp eth0 169.254.0.1 --spa "$ip"
    expect_equal "$PROBE_DETAIL" "aa:aa:a9:fe:00:01" "gateway MAC in the reply"
    expect a timeout arp eth0 169.254.0.1 --spa 10.255.1.99
    expect a timeout arp eth0 10.255.1.1 --spa "$ip"

    # Nor can it reach the cell's IP stack through the host end of its veth
    # (userspace datapath: the kernel sees what OVS reads there): UDP sent
    # straight to that MAC never arrives.
    local hostmac port=9876 got
    hostmac=$(on cell cat "/sys/class/net/$(ifname_of a)/address")
    on a ip route add 10.0.0.11/32 dev eth0
    on a ip neigh replace 10.0.0.11 lladdr "$hostmac" dev eth0 nud permanent
    got=$(on cell timeout 4 "$FC_PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', $port)); s.settimeout(3)
try:
    print('got', s.recvfrom(100)[1][0])
except OSError:
    print('nothing')
" & sleep 0.5
          on a "$FC_PY" -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b'x', ('10.0.0.11', $port)); time.sleep(0.1)
" ; wait)
    expect_equal "$got" "nothing" "datagrams reaching the cell around OVS"
}

# ---------------------------------------------------------------------------
# Revocation

# An established connection whose rule is removed stops within a second
# (the next packet is judged again, and rejected); new connections are
# refused; restoring the rule lets new connections through.
test_revoked_asg_stops_established_connection() {
    sim_up
    serve ext 7000
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 7000)]"
    local ifname rules pid log t_revoke last
    ifname=$(ifname_of a)
    rules=$(cvsctl get interface "$ifname" external_ids:cf-netout-rules)

    # A line every 100 ms, echoed by the server.
    pid=$(sim bg a "$FC_PY" "$FC_PROBE" stream 10.0.0.100 7000 \
          --interval 0.1 --duration 30 | tail -1)
    log=$FC_STATE/logs/bg.$pid.log
    wait_until 5 "10 echoes on the long connection" \
        eval "[ \$(grep -c '^echo ' '$log') -ge 10 ]"

    t_revoke=$(date +%s.%N)
    cvsctl set interface "$ifname" external_ids:cf-netout-rules='[]'
    wait_until 3 "the long connection to fail" grep -q '^error ' "$log"
    echo "stream client, rules revoked at $t_revoke:"
    tail -3 "$log"
    last=$(awk '/^echo / { t = $3 } END { print t }' "$log")
    awk -v l="$last" -v r="$t_revoke" 'BEGIN { exit !(l <= r + 1.0) }' \
        || fail "echoes until $last, more than 1 s after the revocation" \
                "at $t_revoke"
    awk -v l="$last" -v r="$t_revoke" 'BEGIN { exit !(l >= r - 0.5) }' \
        || fail "no echo in the 0.5 s before the revocation (last $last)"
    grep -qE '^error (reset|error:BrokenPipeError) ' "$log" \
        || fail "the connection ended with '$(grep '^error ' "$log")'," \
                "not a reset"
    expect a refused tcp 10.0.0.100 7000

    cvsctl set interface "$ifname" external_ids:cf-netout-rules="$rules"
    wait_until 5 "flowctl to install the restored rule" flowctl_synced
    expect a connected tcp 10.0.0.100 7000
}

# ---------------------------------------------------------------------------
# Restarts

# sample_flows FILE: until FILE.stop exists, appends the number of flows in
# br-cf (or "error") to FILE, as fast as ovs-ofctl answers.
sample_flows() {
    local f=$1 n
    while [ ! -e "$f.stop" ]; do
        if n=$(ovs-ofctl -O OpenFlow15 dump-flows \
               "unix:$FC_CELL/br-cf.mgmt" 2>/dev/null); then
            grep -c 'cookie=' <<<"$n" >> "$f" || true
        else
            echo error >> "$f"
        fi
    done
}

# flowctl killed with SIGKILL and started again, twice, under a steady ping
# (20 packets a second): no packet lost, the bridge's table never empty,
# the same flows after the restart; a change made while flowctl was down
# (rules rewritten, a container added) is applied when it starts.
test_flowctl_kill9_restart_under_traffic() {
    sim_up
    serve ext 80
    sim push pinger --netout "[$ICMP_ECHO_100]"
    sim push b --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    expect b connected tcp 10.0.0.100 80
    wait_until 5 "flowctl in sync" flowctl_synced
    local before n_before ping_pid sampler push_pid after rc=0
    before=$(flows_snapshot)
    n_before=$(show_value "installed flows")

    # 200 pings, 10 s.
    ping_pid=$(sim bg pinger ping -n -i 0.05 -c 200 -W 1 10.0.0.100 | tail -1)
    sample_flows "$FC_TMP/samples" &
    sampler=$!
    remember_pid "$sampler"
    wait_until 3 "the first echo replies" \
        grep -q 'icmp_seq=5 ' "$FC_STATE/logs/bg.$ping_pid.log"

    # 1. SIGKILL; OVS keeps forwarding with the flows it has; the new
    # flowctl replaces them with the same flows, atomically.
    kill_daemon flowctl KILL
    sleep 0.5       # Traffic without flowctl.
    flowctl_start
    wait_until 5 "flowctl in sync after the restart" flowctl_synced
    expect_flows_unchanged "$before" "$n_before" "after the restart"

    # 2. SIGKILL again; while flowctl is down, b's rules are removed and a
    # container is pushed (cni-ovs waits for cf-installed).
    kill_daemon flowctl KILL
    cvsctl set interface "$(ifname_of b)" external_ids:cf-netout-rules='[]'
    sim push late --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]" \
        > "$FC_TMP/push-late.out" 2>&1 &
    push_pid=$!
    remember_pid "$push_pid"
    wait_until 10 "cni-ovs to add the port of 'late'" \
        eval "[ -n \"\$(cvsctl --bare --columns=name find interface \
            external_ids:cf-handle=cs-$FC_NAME-late)\" ]"
    sleep 0.3
    flowctl_start
    wait "$push_pid" || rc=$?
    [ $rc -eq 0 ] || fail "push while flowctl was down: exit $rc:
$(cat "$FC_TMP/push-late.out")"
    wait_until 5 "flowctl in sync after the second restart" flowctl_synced
    touch "$FC_TMP/samples.stop"
    wait "$sampler" || true

    # The ping must still be running: both restarts were under traffic.
    pid_alive "$ping_pid" \
        || fail "the ping ended before the second restart was done"
    wait_until 12 "the ping to end" eval "! pid_alive $ping_pid"
    local plog=$FC_STATE/logs/bg.$ping_pid.log
    tail -2 "$plog"
    grep -q '^200 packets transmitted, 200 received,' "$plog" \
        || fail "packets lost across the flowctl restarts: $(tail -2 "$plog")"
    echo "flow counts sampled (count value):" \
         "$(sort "$FC_TMP/samples" | uniq -c | tr -s ' \n' ' ')"
    ! grep -qvE '^[1-9][0-9]*$' "$FC_TMP/samples" \
        || fail "br-cf was empty or unreadable while flowctl restarted"
    [ "$(wc -l < "$FC_TMP/samples")" -ge 10 ] \
        || fail "too few samples of br-cf"

    expect b refused tcp 10.0.0.100 80
    expect late connected tcp 10.0.0.100 80
    expect_equal "$(cvsctl get interface "$(ifname_of late)" \
                    external_ids:cf-installed)" '"true"' "late's cf-installed"
}

# `ovs-appctl -t flowctl exit` ends flowctl at once, leaving the flows in
# OVS (fail-mode secure: traffic keeps flowing).  The probe keeps its
# control connection open after the reply, as ovs-appctl may (it closes
# right away, which races with flowctl's loop).
test_flowctl_exits_on_appctl_exit() {
    sim_up
    serve ext 80
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    wait_until 5 "flowctl in sync" flowctl_synced
    local pid n out
    pid=$(cat "$FC_CELL/flowctl.pid")
    n=$(show_value "installed flows")

    out=$(on cell "$FC_PY" "$FC_PROBE" appctl "$(flowctl_ctl)" exit \
          --hold 2 | tr '\n' ' ')
    echo "appctl exit: $out"
    [[ $out == "reply "*" closed "* ]] \
        || fail "flowctl did not exit while its control connection was" \
                "open: $out"
    wait_until 2 "flowctl ($pid) to exit" eval "! pid_alive $pid"
    expect_equal "$(ofctl dump-flows br-cf | grep -c cookie=)" "$n" \
        "flows in br-cf after flowctl exited"
    expect a connected tcp 10.0.0.100 80
}

# kill -9 of flowctl in the middle of a burst of ADDs: 20 containers
# pushed at once, flowctl killed once the first ports are on the bridge
# (and while pushes still run), started again 0.5 s later.  Every push
# succeeds (cni-ovs waits for cf-installed, which only the new flowctl
# gives), every container reaches what its rules allow, and the bridge
# holds exactly the 20 containers' ports; the table equals a full
# recompute (file_check_logs).
test_flowctl_kill9_during_burst_of_adds() {
    sim_up
    serve ext 80
    local i pids=() n_running=0 rc
    for i in $(seq 1 20); do
        sim push "burst$i" --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]" \
            > "$FC_TMP/push$i.out" 2>&1 &
        pids+=($!)
        remember_pid "$!"
    done
    wait_until 20 "the first ports of the burst" \
        eval '[ "$(cvsctl --bare --columns=external_ids list interface \
                   | grep -c cf-handle)" -ge 3 ]'
    kill_daemon flowctl KILL
    for i in "${pids[@]}"; do
        if kill -0 "$i" 2>/dev/null; then
            n_running=$((n_running + 1))
        fi
    done
    echo "flowctl killed with $n_running of 20 pushes still running"
    [ "$n_running" -ge 1 ] || fail "every push had ended before the kill"
    sleep 0.5
    flowctl_start
    for i in $(seq 1 20); do
        rc=0
        wait "${pids[$((i - 1))]}" || rc=$?
        [ $rc -eq 0 ] || fail "push burst$i: exit $rc: $(cat "$FC_TMP/push$i.out")"
    done
    wait_until 10 "flowctl in sync after the restart" flowctl_synced
    expect_equal "$(cvsctl --bare --columns=external_ids list interface \
                    | grep -c cf-handle)" 20 "container ports on the bridge"
    for i in 1 7 14 20; do
        expect "burst$i" connected tcp 10.0.0.100 80
    done
    expect burst3 refused tcp 10.0.0.100 81
}

# The cell's ovsdb-server restarted (stopped, started again on its
# database a second later) under traffic: flowctl and ovs-vswitchd
# reconnect by themselves, a TCP connection open throughout goes on (the
# same connection: no error, its echoes resume), the flows are the same as
# before, NetOut and NetIn work, a container pushed afterwards is added and
# installed, and a long connection opened afterwards streams without a
# gap.  (On OVS 3.1's userspace datapath, the connection stalls while
# ovsdb-server is away and until ovs-vswitchd has reconnected, about 2 s
# later: ovs-vswitchd spins on the container port's AF_PACKET socket
# meanwhile.  A production cell's kernel datapath forwards in the kernel;
# docs/reliability.md.)
test_ovsdb_server_restart() {
    FC_LOG_IGNORE='(flowctl\.log.*(db\.sock|jsonrpc|reconnect))|(ovs-vswitchd\.log.*(db\.sock|jsonrpc|reconnect))|(ovsdb-server\.log.*terminating with signal 15)'
    sim_up
    serve ext 7000
    sim push web --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 7000)]" \
        --port 8080 --host-port 61000 > /dev/null
    serve web 8080
    expect web connected tcp 10.0.0.100 7000
    wait_until 5 "flowctl in sync" flowctl_synced
    local before n_before pid log gaps through n_back
    before=$(flows_snapshot)
    n_before=$(show_value "installed flows")
    pid=$(sim bg web "$FC_PY" "$FC_PROBE" stream 10.0.0.100 7000 \
              --interval 0.1 --duration 30 | tail -1)
    through=$FC_STATE/logs/bg.$pid.log
    wait_until 5 "10 echoes before the restart" \
        eval "[ \$(grep -c '^echo ' '$through') -ge 10 ]"

    kill_daemon ovsdb-server TERM
    sleep 1
    ovsdb_server_start
    n_back=$(grep -c '^echo ' "$through")
    wait_until 10 "flowctl back in sync" flowctl_synced
    wait_until 10 "the open connection's echoes to resume" \
        eval "[ \$(grep -c '^echo ' '$through') -ge $((n_back + 20)) ]"
    ! grep -E '^(error|eof) ' "$through" \
        || fail "the connection open through the restart broke"
    expect_flows_unchanged "$before" "$n_before" \
        "after ovsdb-server's restart"
    expect web connected tcp 10.0.0.100 7000
    expect router connected tcp 10.0.0.11 61000
    sim push late --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 7000)]" \
        > /dev/null || fail "push after the restart failed"
    expect late connected tcp 10.0.0.100 7000

    pid=$(sim bg web "$FC_PY" "$FC_PROBE" stream 10.0.0.100 7000 \
              --interval 0.1 --duration 3 | tail -1)
    log=$FC_STATE/logs/bg.$pid.log
    sleep 4
    gaps=$(awk '/^echo / { if (t && $3 - t > 1.0) print t, $3; t = $3 }' \
           "$log")
    [ -z "$gaps" ] || fail "the stream stopped: $gaps"
    [ "$(grep -c '^echo ' "$log")" -ge 20 ] \
        || fail "only $(grep -c '^echo ' "$log") echoes: $(tail -3 "$log")"
}

# ovs-vswitchd restarted the way ovs-ctl restarts it (stop; set
# flow-restore-wait; start): flowctl puts the flows back within 2 s of
# vswitchd's start, then clears flow-restore-wait; NetOut and NetIn work
# again.
test_vswitchd_restart_with_flow_restore_wait() {
    FC_LOG_IGNORE='(flowctl\.log.*rconn.*connection failed)|(ovs-vswitchd\.log.*terminating with signal 15)'
    sim_up
    serve ext 80
    sim push web --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]" \
        --port 8080 --host-port 61000
    serve web 8080
    expect web connected tcp 10.0.0.100 80
    expect router connected tcp 10.0.0.11 61000
    wait_until 5 "flowctl in sync" flowctl_synced
    local before t_start
    before=$(flows_snapshot)

    kill_daemon ovs-vswitchd TERM
    cvsctl --no-wait set open_vswitch . other_config:flow-restore-wait=true
    # No vswitchd, nothing restored: flowctl must leave it set.
    sleep 0.5
    expect_equal "$(cvsctl --if-exists get open_vswitch . \
                    other_config:flow-restore-wait)" '"true"' \
        "flow-restore-wait while ovs-vswitchd is down"

    vswitchd_start
    t_start=$(date +%s%N)
    wait_until 2 "the same flows back in br-cf" \
        eval '[ "$(flows_snapshot)" = "$before" ]'
    echo "flows back $((($(date +%s%N) - t_start) / 1000000)) ms after" \
         "ovs-vswitchd started"
    wait_until 2 "flowctl to clear flow-restore-wait" \
        eval "[ -z \"\$(cvsctl --if-exists get open_vswitch . \
            other_config:flow-restore-wait)\" ]"
    expect web connected tcp 10.0.0.100 80
    expect router connected tcp 10.0.0.11 61000
    expect router refused tcp 10.0.0.11 61001
}

# What an earlier run set up on the host and this one does not want is
# removed at start: rules of ours for another overlay network or NetIn
# range, a route and an address of another overlay network on cf-gw.
# Rules that are not ours stay.
test_host_side_follows_the_config() {
    sim_up
    sim cell ip addr add 10.254.1.1/16 dev cf-gw
    sim cell ip route add 10.253.0.0/16 dev cf-gw proto static
    sim cell iptables -w -t nat -A POSTROUTING -s 10.254.0.0/16 \
        -m comment --comment cni-ovs-masquerade -j cni-ovs-masq
    sim cell iptables -w -t nat -A PREROUTING -i ul0 -d 10.0.0.11/32 \
        -p tcp -m tcp --dport 50000:50010 -m comment --comment cni-ovs-netin \
        -j DNAT --to-destination 169.254.0.1
    sim cell iptables -w -t nat -A POSTROUTING -s 192.168.0.0/16 \
        -j MASQUERADE
    jq '. + {netin_port_range: "62000-63000"}' "$FC_CELL/flowctl.json" \
        > "$FC_TMP/flowctl.json"
    cp "$FC_TMP/flowctl.json" "$FC_CELL/flowctl.json"
    local pid
    pid=$(cat "$FC_CELL/flowctl.pid")
    fcctl exit
    wait_until 5 "flowctl gone" eval "! pid_alive $pid"
    flowctl_start
    wait_until 10 "the new NetIn rule" eval \
        "sim cell iptables -w -t nat -S PREROUTING | grep -q 62000:63000"
    wait_until 10 "the earlier NetIn rule gone" eval \
        "! sim cell iptables -w -t nat -S PREROUTING | grep -q 50000:50010"

    expect_equal "$(sim cell iptables -w -t nat -S POSTROUTING \
                    | grep -c cni-ovs-masquerade)" 1 "masquerade jumps"
    sim cell iptables -w -t nat -S POSTROUTING \
        | grep -q -- '-s 10.255.0.0/16 .*cni-ovs-masquerade -j cni-ovs-masq' \
        || fail "no masquerade jump for the overlay"
    sim cell iptables -w -t nat -S POSTROUTING \
        | grep -q -- '-s 192.168.0.0/16 -j MASQUERADE' \
        || fail "a rule that is not ours went"
    expect_equal "$(sim cell iptables -w -t nat -S PREROUTING \
                    | grep -c cni-ovs-netin)" 1 "NetIn rules"
    expect_equal "$(sim cell ip -4 -o addr show dev cf-gw \
                    | awk '{ print $4 }')" 10.255.1.1/16 "cf-gw's addresses"
    ! sim cell ip route show 10.253.0.0/16 | grep -q . \
        || fail "the earlier route is still there"
    sim cell ip route show 169.254.0.1 | grep -q cf-gw \
        || fail "the route to 169.254.0.1 went"
}

# Ports whose veth vanished while flowctl was down are removed from OVSDB
# when it starts, with their flows; the others keep working.
test_stale_port_removed_at_start() {
    sim_up
    serve ext 80
    sim push gone --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    sim push kept --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    local stale ofport cookie
    stale=$(ifname_of gone)
    # OVS complains about the device that vanished; flowctl is stopped.
    FC_LOG_IGNORE="(ovs-vswitchd\\.log.*$stale)|(flowctl\\.log.*terminating with signal 15)"
    ofport=$(cvsctl get interface "$stale" ofport)
    cookie=$(printf '0x%x' $(((2 << 56) | ofport)))
    ofctl dump-flows br-cf "cookie=$cookie/-1" | grep -q cookie= \
        || fail "no flows with the container's cookie $cookie to begin with"

    kill_daemon flowctl TERM
    on cell ip link del "$stale"
    flowctl_start
    wait_until 5 "port $stale removed from OVSDB" \
        eval "! cvsctl list-ports br-cf | grep -qx $stale"
    cvsctl list-ports br-cf | grep -qx "$(ifname_of kept)" \
        || fail "the port of 'kept' was removed too"
    grep -q "removing port $stale of container $(handle_of gone)" \
        "$FC_CELL/flowctl.log" || fail "flowctl did not log the removal"
    wait_until 5 "flowctl in sync" flowctl_synced
    expect_equal "$(ofctl dump-flows br-cf "cookie=$cookie/-1" \
                    | grep -c cookie=)" 0 \
        "flows of the removed container (cookie $cookie)"
    expect kept connected tcp 10.0.0.100 80
}

# ---------------------------------------------------------------------------
# The operator's view

# dump-flows names the tables; an ASG rule's flows carry cookie 0x03 |
# ruleset | index; flowctl/show lists containers and their (shared)
# rulesets; conntrack records the admitting rule's cookie in ct_label and
# the ruleset's epoch in ct_mark.
test_operator_view_tables_cookies_show_conntrack() {
    sim_up
    serve ext 80,8080
    local rules
    rules="[$(tcp_rule 10.0.0.100 10.0.0.100 80),$(tcp_rule 10.0.0.100 10.0.0.100 8080)]"
    sim push a --netout "$rules"
    sim push b --netout "$rules"
    sim push c
    wait_until 5 "flowctl in sync" flowctl_synced

    local flows t
    flows=$(ofctl dump-flows br-cf --names)
    for t in classify spoof_guard arp conntrack owner ct_state egress \
             ingress commit forward reject; do
        grep -qE "table=\"?$t\"?," <<<"$flows" \
            || fail "no flows shown in table '$t'"
    done

    local show rs_a rs_b rs_c
    show=$(fcctl flowctl/show)
    sed -n '1,6p' <<<"$show"
    ruleset_of() {
        sed -n "s/^ *$(handle_of "$1") ofport .* ruleset \([0-9]*\) ($2 rules).*/\1/p" \
            <<<"$show"
    }
    rs_a=$(ruleset_of a 2)
    rs_b=$(ruleset_of b 2)
    rs_c=$(ruleset_of c 0)
    [ -n "$rs_a" ] && [ -n "$rs_c" ] \
        || fail "flowctl/show does not list a (2 rules) and c (0 rules)"
    expect_equal "$rs_b" "$rs_a" "b's ruleset (the same rules as a)"
    [ "$rs_c" != "$rs_a" ] || fail "c shares a's ruleset"

    # Every conjunction flow is an ASG flow (kind 0x03) of that ruleset.
    local bad ck
    bad=$(grep 'conj' <<<"$flows" \
          | grep -vE "cookie=0x3$(printf '%08x' "$rs_a")[0-9a-f]{6}," \
          || true)
    [ -z "$bad" ] || fail "conjunction flows with other cookies:
$bad"
    ck=$(printf '0x%x' $(((3 << 56) | (rs_a << 24) | 1)))
    ofctl dump-flows br-cf "cookie=$ck/-1" | grep -q 'tp_dst=8080' \
        || fail "no flow for port 8080 with rule 1's cookie $ck"

    # A connection admitted by rule 1 (port 8080) carries its cookie, and
    # the ruleset's epoch (reg3 of a's classify flow).
    expect a connected tcp 10.0.0.100 8080
    local ct epoch
    ct=$(sim cell ovs-appctl dpctl/dump-conntrack zone=1 \
         | grep "src=$(sim ip a),dst=10.0.0.100,.*dport=8080)")
    echo "$ct"
    grep -q "labels=$ck" <<<"$ct" \
        || fail "the connection's ct_label is not rule 1's cookie $ck"
    epoch=$(ofctl dump-flows br-cf "in_port=$(ifname_of a)" \
            | sed -n 's/.*set_field:\(0x[0-9a-f]*\)->reg3.*/\1/p' | head -1)
    [ -n "$epoch" ] && grep -q "mark=$((epoch))," <<<"$ct" \
        || fail "the connection's ct_mark is not the epoch '$epoch'"
}

# rule_stat APP INDEX FIELD: FIELD (connections, packets, bytes) of rule INDEX of
# APP's ruleset, from `flowctl/rule-stats --json`.
rule_stat() {
    fcctl flowctl/rule-stats --json | "$FC_PY" -c '
import json, sys
for rs in json.load(sys.stdin)["rulesets"]:
    if sys.argv[1] in rs["containers"]:
        print(rs["rules"][int(sys.argv[2])][sys.argv[3]])
' "$(handle_of "$1")" "$2" "$3"
}

# ruleset_hex APP: APP's ruleset as cookies show it (0xfe84).
ruleset_hex() {
    printf '%#x' "$(fcctl flowctl/show \
        | sed -n "s/^ *$(handle_of "$1") ofport .* ruleset \([0-9]*\) .*/\1/p")"
}

# Hit counts: each ASG rule counts the connections it admitted (the
# switch's statistics of the rule's conj_id flow), summed over the
# containers of its ruleset, in flowctl/show's "rules:" section and in
# flowctl/rule-stats (text and JSON).  A rule nobody used counts 0, as does
# the same rule in another ruleset; refused connections count nowhere.
test_rule_stats_count_connections() {
    sim_up
    serve ext 80,8080
    local rules
    rules="[$(tcp_rule 10.0.0.100 10.0.0.100 80),$(tcp_rule 10.0.0.100 10.0.0.100 8080)]"
    sim push a --netout "$rules"
    sim push b --netout "$rules"
    sim push c --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    wait_until 5 "flowctl in sync" flowctl_synced
    expect_equal "$(rule_stat a 0 connections)" 0 "rule 0's count at first"

    expect a connected tcp 10.0.0.100 80
    expect b connected tcp 10.0.0.100 80
    expect a connected tcp 10.0.0.100 80
    expect a refused tcp 10.0.0.101 80
    expect c refused tcp 10.0.0.100 8080
    # The datapath credits its cached flows to OpenFlow's when its
    # revalidators run (about every 500 ms).
    wait_until 5 "rule 0 of a's ruleset to count 3 connections" \
        eval '[ "$(rule_stat a 0 connections)" = 3 ]'
    expect_equal "$(rule_stat b 0 connections)" 3 \
        "rule 0's count seen from b (the same ruleset)"
    expect_equal "$(rule_stat a 1 connections)" 0 "rule 1's count"
    expect_equal "$(rule_stat c 0 connections)" 0 \
        "the count of c's rule 0 (the same rule in another ruleset)"
    [ "$(rule_stat a 0 bytes)" -gt 0 ] || fail "rule 0 counts no bytes"
    # Packets: the 3 first packets and the rest of those connections.
    wait_until 5 "rule 0 to count its connections' packets" \
        eval '[ "$(rule_stat a 0 packets)" -gt 3 ]'
    expect_equal "$(rule_stat a 1 packets)" 0 "rule 1's packets"

    local show rs section
    show=$(fcctl flowctl/show)
    rs=$(ruleset_hex a)
    section=$(sed -n '/^rules: /,$p' <<<"$show")
    echo "$section"
    grep -q '^rejects (packet-ins):' <<<"$show" \
        || fail "flowctl/show lost its other sections"
    grep -qE "^rules: 3 ASG rules in 2 rulesets " <<<"$section" \
        || fail "no 'rules: 3 ASG rules in 2 rulesets' in flowctl/show"
    grep -qx "  ruleset $rs ($((rs))): containers $(handle_of a) $(handle_of b)" \
        <<<"$section" \
        || grep -qx "  ruleset $rs ($((rs))): containers $(handle_of b) $(handle_of a)" \
        <<<"$section" \
        || fail "flowctl/show does not list ruleset $rs with a and b"
    grep -qE "^    rule 0: 3 connections, [1-9][0-9]* packets, [1-9][0-9]* bytes: tcp 10.0.0.100 port 80$" \
        <<<"$section" || fail "flowctl/show does not count rule 0's 3 connections"
    grep -qx "    rule 1: 0 connections, 0 packets, 0 bytes: tcp 10.0.0.100 port 8080" \
        <<<"$section" || fail "flowctl/show does not count rule 1's 0 connections"
    # Packet and byte counts may still move (see above).
    local strip='s/[0-9]* packets, [0-9]* bytes/N packets, N bytes/'
    expect_equal "$(fcctl flowctl/rule-stats | sed "$strip")" \
        "$(sed "$strip" <<<"$section")" \
        "flowctl/rule-stats (the same as flowctl/show's section)"
}

# Hit counts need the switch: a switch that does not answer within 1 s gets
# flowctl/rule-stats an error and flowctl/show its usual text with the
# reason instead of the counts; once it answers again, so do they.
test_rule_stats_switch_not_answering() {
    FC_LOG_IGNORE='flowstats.*no complete flow statistics reply'
    sim_up
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    wait_until 5 "flowctl in sync" flowctl_synced
    local vpid t0 stats_rc=0 stats show ms
    vpid=$(cat "$FC_CELL/ovs-vswitchd.pid")

    kill -STOP "$vpid"
    t0=$(date +%s%N)
    stats=$(fcctl flowctl/rule-stats 2>&1) || stats_rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    show=$(fcctl flowctl/show 2>&1) || true
    kill -CONT "$vpid"

    echo "rule-stats (exit $stats_rc after $ms ms): $stats"
    [ "$stats_rc" -ne 0 ] || fail "flowctl/rule-stats succeeded: $stats"
    grep -q 'did not answer the flow statistics request in time' \
        <<<"$stats" || fail "unexpected error from flowctl/rule-stats"
    [ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] \
        || fail "flowctl/rule-stats answered after $ms ms, not about 1 s"
    grep -q '^rules: (no hit counts: the switch did not answer' <<<"$show" \
        || fail "flowctl/show without the switch: $(tail -3 <<<"$show")"
    grep -q '^state: S_IDLE' <<<"$show" \
        || fail "flowctl/show without the switch lost its other sections"
    wait_until 5 "hit counts again" fcctl flowctl/rule-stats
}

# flowctl/trace runs ofproto/trace for a new connection from a container
# and names the flow that decided, in words; the verdicts agree with real
# traffic.  Bad arguments are named.
test_trace_names_the_deciding_rule() {
    sim_up --deny-running 10.10.0.0/16
    serve ext 443,8080
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 22),$(tcp_rule 10.0.0.0 10.0.0.255 80 443)]"
    sim push b
    wait_until 5 "flowctl in sync" flowctl_synced
    local h rs out
    h=$(handle_of a)
    rs=$(ruleset_hex a)

    # verdict_is DST PROTO PORT VERDICT
    verdict_is() {
        out=$(fcctl flowctl/trace "$h" "$1" "$2" "$3") \
            || fail "flowctl/trace $h $1 $2 $3 failed: $out"
        local got
        got=$(sed -n 's/^verdict: //p' <<<"$out")
        [ "$got" = "$4" ] \
            || fail "flowctl/trace $1 $2 $3: expected verdict '$4', got '$got'"
        echo "ok: trace $1 $2 $3: $got"
    }

    verdict_is 10.0.0.100 tcp 443 \
        "allowed by ASG rule 1 of ruleset $rs (tcp 10.0.0.0-10.0.0.255 ports 80-443)"
    # The reply carries the command and OVS's whole trace.
    head -1 <<<"$out" | grep -q "^ovs-appctl ofproto/trace br-cf in_port=$(cvsctl get interface "$(ifname_of a)" ofport),tcp," \
        || fail "the trace does not start with the command: $(head -1 <<<"$out")"
    grep -q "cookie $(printf '%#x' $(((3 << 56) | (rs << 24) | 1)))" <<<"$out" \
        || fail "the trace does not show rule 1's cookie"
    grep -q '^Datapath actions: ct(commit' <<<"$out" \
        || fail "the trace lacks the committing datapath actions"
    expect a connected tcp 10.0.0.100 443

    verdict_is 10.0.0.100 tcp 22 \
        "allowed by ASG rule 0 of ruleset $rs (tcp 10.0.0.100 port 22)"
    verdict_is 10.0.0.100 tcp 8080 \
        "rejected: default deny (no ASG rule matches)"
    expect a refused tcp 10.0.0.100 8080
    verdict_is 10.0.0.100 icmp 8 \
        "rejected: default deny (no ASG rule matches)"
    verdict_is 10.10.1.1 tcp 80 \
        "rejected: deny_networks running entry 0 (10.10.0.0/16)"
    verdict_is 169.254.0.2 udp 53 "allowed: DNS server 169.254.0.2"
    expect a answer dns udp
    verdict_is 169.254.0.2 tcp 80 \
        "rejected: 169.254.0.2 is the cell's own address (only DNS and the configured host services are open)"
    verdict_is "$(sim ip b)" tcp 8080 \
        "rejected: $(sim ip b) is in the overlay (a container on this cell; container-to-container needs a policy)"

    # expect_trace_error ARGS... -- MESSAGE
    local args err
    for args in "nobody 10.0.0.100 tcp 80|HANDLE: no container with handle \"nobody\"" \
                "$h 10.0.0 tcp 80|DST: \"10.0.0\" is not an IPv4 address" \
                "$h 10.0.0.100 sctp 80|PROTO: \"sctp\" is not tcp, udp or icmp" \
                "$h 10.0.0.100 tcp 70000|PORT: \"70000\" is not a port number" \
                "$h 10.0.0.100 icmp 300|PORT: \"300\" is not an ICMP type"; do
        # shellcheck disable=SC2086
        if err=$(fcctl flowctl/trace ${args%%|*} 2>&1); then
            fail "flowctl/trace ${args%%|*} succeeded"
        fi
        grep -qF "${args#*|}" <<<"$err" \
            || fail "flowctl/trace ${args%%|*}: expected '${args#*|}', got: $err"
        echo "ok: trace ${args%%|*}: $(head -1 <<<"$err")"
    done
}
