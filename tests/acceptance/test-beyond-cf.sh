# What CF's suites do not check and a foundation still needs (docs/
# acceptance.md), on the same two-cell fleet as the rest of the suite:
# port ranges both ways across cells, connections cut when what allowed
# them is revoked, spoofed sources going nowhere, full-sized packets with
# DF across cells, and flowctl restarted on both cells under traffic.  Run
# by tests/system/run-file, as root.

# shellcheck source=lib.sh
. "$SB_TOP/tests/acceptance/lib.sh"

# Deny -> allow -> deny on port 8080 and on a port range, on one cell and
# across cells: in the range and nowhere else; outside it refused on one
# cell and dropped by the destination's cell across cells.
test_port_ranges_both_ways() {
    fleet_up
    sim push a --cell 1 >/dev/null
    sim push b --cell 1 >/dev/null
    sim push c --cell 2 >/dev/null
    local b c
    b=$(sim ip b) c=$(sim ip c)
    serve b 8080,9000,9004,9005 >/dev/null
    serve c 8080,8081,9000,9004,9005 >/dev/null
    expect a refused tcp "$b" 9000
    expect a refused tcp "$c" 8080

    sim policy add a b --ports 9000-9004
    sim policy add a c
    sim policy add a c --ports 9000-9004
    within "$CF_POLICY_WAIT" connected a tcp "$b" 9000
    expect a connected tcp "$b" 9004
    expect a refused tcp "$b" 9005
    expect a refused tcp "$b" 8080
    within "$CF_POLICY_WAIT" connected a tcp "$c" 8080
    within "$CF_POLICY_WAIT" connected a tcp "$c" 9000
    expect a connected tcp "$c" 9004
    expect a timeout tcp "$c" 9005
    expect a timeout tcp "$c" 8081

    sim policy add a b
    within "$CF_POLICY_WAIT" connected a tcp "$b" 8080
    sim policy remove a b --ports 9000-9004
    within "$CF_POLICY_WAIT" refused a tcp "$b" 9000
    expect a connected tcp "$b" 8080
    sim policy remove a c
    within "$CF_POLICY_WAIT" timeout a tcp "$c" 8080
    expect a connected tcp "$c" 9004
    sim policy remove a b
    sim policy remove a c --ports 9000-9004
    # a is in no policy now: no tag, refused at once on its own cell.
    within "$CF_POLICY_WAIT" refused a tcp "$c" 9000
    expect a refused tcp "$b" 8080
}

# stream WHERE HOST PORT: a long connection (an echo every 100 ms) in the
# background; prints its log's path.
stream() {
    local pid
    pid=$(sim bg "$1" "$FC_PY" "$FC_PROBE" stream "$2" "$3" --interval 0.1 \
          --duration 60 | tail -1)
    wait_until 5 "the long connection $1 -> $2:$3 to echo" \
        eval "grep -q '^echo ' '$FC_STATE/logs/bg.$pid.log'" || return 1
    echo "$FC_STATE/logs/bg.$pid.log"
}

echoes() { grep -c '^echo ' "$1"; }

# expect_cut LOG WHAT: the long connection of LOG, which echoed until now
# (expect_flowing), stops echoing within 2 s; it was not closed by either
# end nor ended by its duration.
expect_cut() {
    local n1 n2
    sleep 2
    n1=$(echoes "$1")
    sleep 1
    n2=$(echoes "$1")
    [ "$n1" = "$n2" ] || fail "$2 still echoes ($n1, then $n2)"
    ! grep -q '^eof\|^done' "$1" \
        || fail "$2 ended on its own: $(grep '^eof\|^done' "$1")"
    echo "ok: $2: cut"
}

# expect_flowing LOG WHAT: the long connection of LOG still echoes.
expect_flowing() {
    local n1
    n1=$(echoes "$1")
    wait_until 2 "$2 to echo again" eval "[ \$(echoes '$1') -gt $n1 ]"
    echo "ok: $2: flowing"
}

# a_reaches_b_c_and_ext: the fleet, with app a (space s1) and c on cell
# 1, b on cell 2, servers on b's and c's 8080 and the external host's 80;
# a reaches b under the policy a -> b and the external host under the
# running ASG web of s1; c is in no policy.
a_reaches_b_c_and_ext() {
    fleet_up
    serve ext 80 >/dev/null
    sim push a --space s1 --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    sim push c --cell 1 >/dev/null
    serve b 8080 >/dev/null
    serve c 8080 >/dev/null
    sim policy add a b
    sim asg create web --rules "$(asg_rules 'tcp 10.0.0.100 80')" >/dev/null
    sim asg bind web --space s1
    within "$CF_POLICY_WAIT" connected a tcp "$(sim ip b)" 8080
    within "$CF_ASG_WAIT" connected a tcp "$EXT" 80
}

# Revocation: connections opened under a policy (across cells and on one
# cell) and under an ASG are cut when the policy is removed or the ASG
# unbound, not only new ones refused; what is still allowed keeps flowing.
test_revocation_cuts_open_connections() {
    a_reaches_b_c_and_ext
    sim policy add a c
    within "$CF_POLICY_WAIT" connected a tcp "$(sim ip c)" 8080
    local to_b to_c to_ext
    to_b=$(stream a "$(sim ip b)" 8080)
    to_c=$(stream a "$(sim ip c)" 8080)
    to_ext=$(stream a "$EXT" 80)

    expect_flowing "$to_b" "a -> b across cells"
    sim policy remove a b
    within "$CF_POLICY_WAIT" timeout a tcp "$(sim ip b)" 8080
    expect_cut "$to_b" "a -> b across cells"
    expect_flowing "$to_c" "a -> c"
    expect_flowing "$to_ext" "a -> the external host"

    sim policy remove a c
    within "$CF_POLICY_WAIT" refused a tcp "$(sim ip c)" 8080
    expect_cut "$to_c" "a -> c on one cell"
    expect_flowing "$to_ext" "a -> the external host"

    sim asg unbind web --space s1
    within "$CF_ASG_WAIT" refused a tcp "$EXT" 80
    expect_cut "$to_ext" "a -> the external host"
}

# Spoofing: app c, on a's cell, takes a's address (and then a's MAC) to
# send to b on the other cell under a's UDP policy; no datagram from a's
# address reaches b but a's own; c's ARP claiming a's address is not
# answered, while its ARP with its own address is.  (UDP, because a TCP
# handshake from a spoofed address fails anyway: b's answer goes to a.)
test_spoofed_sources_go_nowhere() {
    fleet_up
    sim push a --cell 1 >/dev/null
    sim push c --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local a b c server
    a=$(sim ip a) b=$(sim ip b) c=$(sim ip c)
    server=$(serve b 5000 --udp)
    sim policy add a b --protocol udp --port 5000
    within "$CF_POLICY_WAIT" reply a udp "$b" 5000
    expect c refused udp "$b" 5000
    expect c reply arp eth0 169.254.0.1 --spa "$c"
    local slog=$FC_STATE/logs/bg.$server.log before
    before=$(grep -c "^datagram $a " "$slog")

    on c ip addr add "$a/32" dev eth0
    expect c timeout udp "$b" 5000 --bind "$a"
    expect c timeout arp eth0 169.254.0.1 --spa "$a"
    on c ip link set eth0 address "$(on a cat /sys/class/net/eth0/address)"
    expect c timeout udp "$b" 5000 --bind "$a"
    expect_equal "$(grep -c "^datagram $a " "$slog")" "$before" \
        "datagrams b got from a's address while c sent with it"
    expect a reply udp "$b" 5000
}

# MTU with DF across cells, under policies and an ASG: the container MTU
# is the underlay's less Geneve's 58; a TCP exchange of full-sized
# segments both ways crosses; a UDP datagram with DF of exactly the MTU
# crosses, each way (one byte more fails at the sender); to the external
# host the same with a DF ping.
test_mtu_with_df_across_cells() {
    fleet_up
    serve ext 80 >/dev/null
    sim push a --space s1 --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    serve b 8080 >/dev/null
    serve b 5000 --udp >/dev/null
    serve a 5000 --udp >/dev/null
    local a b mtu
    a=$(sim ip a) b=$(sim ip b)
    mtu=$(on a cat /sys/class/net/eth0/mtu)
    expect_equal "$mtu" 1442 "a's MTU (1500 - 58)"
    expect_equal "$(on b cat /sys/class/net/eth0/mtu)" 1442 "b's MTU"
    sim policy add a b
    sim policy add a b --protocol udp --port 5000
    sim policy add b a --protocol udp --port 5000
    within "$CF_POLICY_WAIT" connected a tcp "$b" 8080
    expect a connected tcp "$b" 8080 --send-bytes 1000000
    within "$CF_POLICY_WAIT" reply a udp "$b" 5000 --size $((mtu - 28)) --df
    expect_equal "${PROBE_DETAIL##* }" "len=$((mtu - 28))" "what b got"
    within "$CF_POLICY_WAIT" reply b udp "$a" 5000 --size $((mtu - 28)) --df
    expect_equal "${PROBE_DETAIL##* }" "len=$((mtu - 28))" "what a got"
    expect a too-big udp "$b" 5000 --size $((mtu - 27)) --df

    sim asg create out --rules "$(asg_rules 'icmp 10.0.0.100 8 0' \
                                            'tcp 10.0.0.100 80')" >/dev/null
    sim asg bind out --space s1
    within "$CF_ASG_WAIT" connected a tcp "$EXT" 80 --send-bytes 1000000
    local out
    out=$(on a ping -n -c1 -W2 -M "do" -s $((mtu - 28)) "$EXT" 2>&1) || true
    grep -q ' 1 received' <<<"$out" \
        || fail "a DF ping of $mtu bytes should reach the external host:
$out"
    out=$(on a ping -n -c1 -W2 -M "do" -s $((mtu - 27)) "$EXT" 2>&1) || true
    grep -qi 'message too long' <<<"$out" \
        || fail "a DF ping of $((mtu + 1)) bytes should fail at the sender:
$out"
}

# flowctl restarted on both cells (as the BOSH job restarts it) under
# traffic across cells and to the external host: the connections go on
# without a gap of a second, and afterwards new connections are admitted
# and refused as before.
test_flowctl_restart_under_traffic() {
    a_reaches_b_c_and_ext
    local to_b to_ext
    to_b=$(stream a "$(sim ip b)" 8080)
    to_ext=$(stream a "$EXT" 80)

    sim flowctl --cell 1 restart
    sim flowctl --cell 2 restart
    expect_flowing "$to_b" "a -> b"
    expect_flowing "$to_ext" "a -> the external host"
    local log gap
    for log in "$to_b" "$to_ext"; do
        ! grep -q '^error\|^eof' "$log" \
            || fail "a long connection failed: $(grep '^error\|^eof' "$log")"
        gap=$(awk '/^echo / { if (t && $3 - t > g) g = $3 - t; t = $3 }
                   END { printf "%.2f", g }' "$log")
        awk -v g="$gap" 'BEGIN { exit !(g < 1.0) }' \
            || fail "a long connection paused for $gap s"
        echo "ok: the longest pause between echoes: $gap s"
    done
    expect a connected tcp "$(sim ip b)" 8080
    expect c refused tcp "$(sim ip b)" 8080
    expect a connected tcp "$EXT" 80
    expect c refused tcp "$EXT" 80
}
