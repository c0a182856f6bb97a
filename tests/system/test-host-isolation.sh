# System tests of the cell host's isolation from its containers, on
# cell-sim (scripts/cell-sim, docs/cell-sim.md): whatever the ASGs allow, a
# container reaches on the cell itself only DNS and the configured host
# services.  The egress table forbids the three addresses flowctl knows
# (instance_address, the cf-gw address, the containers' gateway); the rest
# of what the cell's kernel would deliver to itself (any other address it
# has or gets later, broadcast, multicast) is refused by hostnet's
# iptables chain cni-ovs-input, where containers' packets enter the host
# (filter INPUT -i cf-gw).  Every test gives its container an ASG that
# allows every destination, as CF's default public_networks group does.
#
# As in test-flowctl.sh, refusals are told apart from timeouts: something
# listens at every refused destination, and the cell itself reaches it.
# Run by tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# The UDP port the broadcast and multicast test listens on.
HI_PORT=9999

# An address the cell gets while flowctl runs (a second interface, a
# management address) is refused at once, for TCP and UDP, and
# flowctl/trace says that the host refuses it.  The cell itself reaches it.
test_address_added_later_is_refused() {
    sim_up
    sim push open --netout "$ALLOW_ALL"
    wait_until 10 "host side applied" \
        grep -q 'host setup done' "$FC_CELL/flowctl.log"

    # After flowctl has set up the host: no restart, no recompute.
    # A second interface (a veth: not every kernel has dummy links) and a
    # management address on the loopback.
    sim cell ip link add hi0 type veth peer name hi1
    sim cell ip link set hi0 up
    sim cell ip link set hi1 up
    sim cell ip addr add 192.168.77.1/24 dev hi0
    sim cell ip addr add 172.17.0.1/32 dev lo
    serve cell 8080 --bind 192.168.77.1
    serve cell 8081 --udp --bind 192.168.77.1
    serve cell 8080 --bind 172.17.0.1

    expect open refused tcp 192.168.77.1 8080
    expect open refused udp 192.168.77.1 8081
    expect open refused tcp 172.17.0.1 8080
    expect cell connected tcp 192.168.77.1 8080
    expect cell reply udp 192.168.77.1 8081
    expect cell connected tcp 172.17.0.1 8080
    # Beyond the cell, the ASG still decides.
    serve ext 80
    expect open connected tcp 10.0.0.100 80

    local out
    out=$(fcctl flowctl/trace "$(handle_of open)" 192.168.77.1 tcp 8080)
    grep -q "^verdict: rejected by the cell's host: 192.168.77.1 is one of \
the cell's own addresses, and iptables chain cni-ovs-input" <<<"$out" \
        || fail "flowctl/trace should say the host refuses 192.168.77.1:
$out"
    out=$(fcctl flowctl/trace "$(handle_of open)" 10.0.0.100 tcp 80)
    grep -q "^verdict: allowed by ASG rule 0" <<<"$out" \
        || fail "flowctl/trace should allow 10.0.0.100 by the ASG:
$out"
    echo "ok: flowctl/trace tells the host's refusal"
}

# Every port of every address of the cell, not a sample: a container whose
# ASG allows everything knocks once (a SYN; a datagram) at each of the
# 65,535 TCP and UDP ports of each of the cell's addresses, and counters
# at the end of the cell's input path (the nat table's INPUT chain, which
# sees the first packet of each connection that filter INPUT let through)
# show that only DNS and the configured host services got in.  The
# counters of those, and of the bridge's egress table, show that the
# knocks arrived.
test_every_cell_port_scanned() {
    sim_up --host-tcp-service 10.0.0.11:8898 \
        --host-udp-service 10.0.0.11:8899
    sim push open --netout "$ALLOW_ALL"
    wait_until 10 "host side applied" \
        grep -q 'host setup done' "$FC_CELL/flowctl.log"
    local ip addrs a proto out
    ip=$(sim ip open)
    addrs=$(sim cell ip -4 -o addr show | awk '{ sub("/.*", "", $4); print $4 }' \
            | grep -v '^127\.')
    grep -q '^169\.254\.0\.2$' <<<"$addrs" || fail "no DNS address: $addrs"
    echo "the cell's addresses:" $addrs

    # Let in: RETURN, counted; anything else of the container's: counted
    # by address and protocol (must stay at 0).
    scan_rule() { sim cell iptables -t nat -A INPUT -s "$ip" "$@"; }
    scan_rule -d 169.254.0.2 -p udp --dport 53 -j RETURN
    scan_rule -d 169.254.0.2 -p tcp --dport 53 -j RETURN
    scan_rule -d 10.0.0.11 -p tcp --dport 8898 -j RETURN
    scan_rule -d 10.0.0.11 -p udp --dport 8899 -j RETURN
    for a in $addrs; do
        for proto in tcp udp; do
            scan_rule -d "$a" -p "$proto" -j RETURN
        done
    done

    for a in $addrs; do
        for proto in tcp udp; do
            out=$(on open "$FC_PY" "$FC_PROBE" scan "$proto" "$a")
            [ "$out" != "${out#scan * sent=65535}" ] \
                || fail "scan $proto $a: $out"
        done
    done
    sleep 1
    out=$(sim cell iptables -t nat -L INPUT -v -n -x)
    echo "$out"
    local leaks
    leaks=$(awk -v ip="$ip" '$8 == ip && $1 > 0 && !/dpt:/' <<<"$out")
    [ -z "$leaks" ] || fail "knocks that got into the cell:
$leaks"
    awk -v ip="$ip" '$8 == ip && /dpt:/ && $1 == 0' <<<"$out" | grep . \
        && fail "the allowed ports got no knock: the scan did not arrive"
    # Every knock crossed the bridge's egress table (where the cell's own
    # addresses are refused, but for DNS and the host services): none was
    # lost on the way, so none could have got in unseen.
    local n
    for a in $addrs; do
        n=$(ofctl dump-flows br-cf "table=egress,ip,nw_dst=$a" \
            | sed -n 's/.*n_packets=\([0-9]*\),.*/\1/p' \
            | awk '{ n += $1 } END { print n + 0 }')
        echo "$a: $n packets in the egress table"
        [ "$n" -ge $((2 * 65535)) ] \
            || fail "only $n of the 131070 knocks at $a reached the egress table"
    done
}

# A UDP socket bound to 0.0.0.0 on the cell receives nothing of what a
# container sends to 255.255.255.255, to the underlay's broadcast address
# (10.0.0.255) or to 224.0.0.1 (all hosts); it does receive what the
# router sends to the cell's address, so it was listening.
test_broadcast_and_multicast_do_not_reach_the_cell() {
    sim_up
    sim push open --netout "$ALLOW_ALL"
    wait_until 10 "host side applied" \
        grep -q 'host setup done' "$FC_CELL/flowctl.log"

    cat > "$FC_TMP/recv.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(2048)
    print("got %s from %s" % (data.decode(errors="replace"), peer[0]),
          flush=True)
EOF
    cat > "$FC_TMP/send.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for _ in range(3):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
print("sent")
EOF
    local pid log
    pid=$(sim bg --listen "udp:0.0.0.0:$HI_PORT" cell \
              "$FC_PY" "$FC_TMP/recv.py" "$HI_PORT" | tail -1)
    log=$FC_STATE/logs/bg.$pid.log

    local dst
    for dst in 255.255.255.255 10.0.0.255 224.0.0.1; do
        on open "$FC_PY" "$FC_TMP/send.py" "$dst" "$HI_PORT" "to-$dst" \
            | grep -q sent || fail "open: could not send to $dst"
    done
    # The control: unicast from the router to the cell's address.
    on router "$FC_PY" "$FC_TMP/send.py" 10.0.0.11 "$HI_PORT" control \
        | grep -q sent || fail "router: could not send"
    wait_until 5 "the router's datagram at the cell" grep -q control "$log"
    sleep 1
    if grep -q "got to-" "$log"; then
        fail "the cell received a container's broadcast or multicast:
$(cat "$log")"
    fi
    echo "ok: the cell received only the router's datagram"
}

# IPv6 from a container goes nowhere, even when it turns IPv6 back on
# (cni-ovs disables it; a root process in the container may enable it):
# unicast to another container of the cell (a static neighbour, so the
# frames are sent without neighbour discovery) and to all nodes (ff02::1)
# reach neither that container nor the cell; the bridge drops them in
# 'spoof_guard', whose drop counter shows they arrived (so the check could
# fail).
test_ipv6_from_a_container_goes_nowhere() {
    sim_up
    sim push open --netout "$ALLOW_ALL" >/dev/null
    sim push peer --netout "$ALLOW_ALL" >/dev/null
    local c
    for c in open peer; do
        on "$c" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 \
            || fail "$c: could not enable IPv6"
    done
    on open ip -6 addr add fd00:cf::1/64 dev eth0 nodad
    on peer ip -6 addr add fd00:cf::2/64 dev eth0 nodad
    local peer_mac
    peer_mac=$(on peer cat /sys/class/net/eth0/address)
    on open ip -6 neigh replace fd00:cf::2 lladdr "$peer_mac" dev eth0 \
        nud permanent

    cat > "$FC_TMP/recv6.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(2048)
    print("got %s from %s" % (data.decode(errors="replace"), peer[0]),
          flush=True)
EOF
    cat > "$FC_TMP/send6.py" <<'EOF'
import socket, sys
ifindex = socket.if_nametoindex("eth0")
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for dst in ("fd00:cf::2", "ff02::1"):
    for _ in range(3):
        s.sendto(b"to-" + dst.encode(), (dst, int(sys.argv[1]), 0, ifindex))
print("sent")
EOF
    local pid log before after
    pid=$(sim bg peer "$FC_PY" "$FC_TMP/recv6.py" "$HI_PORT" | tail -1)
    log=$FC_STATE/logs/bg.$pid.log
    before=$(spoof_guard_drops)
    on open "$FC_PY" "$FC_TMP/send6.py" "$HI_PORT" | grep -q sent \
        || fail "open: could not send IPv6"
    sleep 1
    after=$(spoof_guard_drops)
    echo "spoof_guard drops: $before before, $after after"
    [ "$((after - before))" -ge 6 ] \
        || fail "the 6 IPv6 datagrams did not reach the bridge's" \
                "spoof_guard drop ($before -> $after)"
    if grep -q "got to-" "$log"; then
        fail "peer received IPv6 from a container: $(cat "$log")"
    fi
    if sim cell ip -6 neigh show 2>/dev/null | grep -q "fd00:cf::1"; then
        fail "the cell learned the container's IPv6 address"
    fi
    echo "ok: IPv6 dropped at the bridge, nothing received"
}

# spoof_guard_drops: packets 'spoof_guard''s default flow dropped so far.
spoof_guard_drops() {
    ofctl dump-flows br-cf table=1 | grep -E "priority=0 actions=drop" \
        | sed -nE 's/.*n_packets=([0-9]+).*/\1/p' | head -1
}

# DNS and the configured host services stay open to a container with an
# allow-all ASG; the rest of the cell's address is refused at once.  NetIn
# (DNAT to 169.254.0.1, through FORWARD; the container's replies come back
# in through cf-gw) still works.
test_dns_host_services_and_netin() {
    sim_up --host-tcp-service 10.0.0.11:8898 \
        --host-udp-service 10.0.0.11:8899
    serve cell 8898,8897 --bind 10.0.0.11
    serve cell 8899,8896 --udp --bind 10.0.0.11
    sim push open --netout "$ALLOW_ALL" --port 8080 --host-port 61001
    serve open 8080

    expect open answer dns udp
    expect open answer dns tcp
    expect open connected tcp 10.0.0.11 8898
    expect open reply udp 10.0.0.11 8899
    expect open refused tcp 10.0.0.11 8897
    expect open refused udp 10.0.0.11 8896
    expect router connected tcp 10.0.0.11 61001
}
