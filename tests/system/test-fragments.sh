# System tests of fragmented datagrams on cell-sim (scripts/cell-sim), at
# the edge of the container MTU: a UDP datagram one byte too large for one
# packet, and larger ones, reach a port that a one-port rule allows, whole;
# to a port no rule allows they are refused with one ICMP port unreachable;
# a large ICMP echo allowed by an ICMP rule gets its reply
# (docs/architecture.md, "Fragments").
#
# cell-sim runs the userspace datapath, which reassembles a datagram only to
# run conntrack and then sends its fragments through the pipeline one by
# one.  Before, a non-first fragment (no ports) never matched a one-port
# rule, and with OVS's default fragment handling the first fragment's ports
# read 0 too: the datagram was refused (ICMP port unreachable) while a rule
# for every port let it through.
#
# Like tests/system/test-flowctl.sh, each test brings up its own sim; run by
# tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

UDP_7000='{"protocol":2,"networks":[{"start":"10.0.0.100","end":"10.0.0.100"}],"ports":[{"start":7000,"end":7000}]}'

# A UDP server on PORTs that answers each datagram with "got N" (N its
# length), so that the answer is small whatever the datagram's size, and
# logs "datagram IP PORT N".
frag_server() {
    cat > "$FC_TMP/udp-server.py" <<'EOF'
import select, socket, sys
socks = []
for port in sys.argv[1].split(","):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(port)))
    socks.append(s)
while True:
    for s in select.select(socks, [], [])[0]:
        data, peer = s.recvfrom(65535)
        print("datagram %s %d %d" % (peer[0], peer[1], len(data)), flush=True)
        s.sendto(b"got %d" % len(data), peer)
EOF
    sim bg --listen "udp:0.0.0.0:${2%%,*}" "$1" "$FC_PY" \
        "$FC_TMP/udp-server.py" "$2" | tail -1
}

# send_udp WHERE HOST PORT SIZE: one datagram of SIZE bytes from a
# connected socket; prints "reply N" (the server got N bytes), "refused"
# (ICMP port unreachable) or "timeout".
send_udp() {
    cat > "$FC_TMP/udp-send.py" <<'EOF'
import socket, sys
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# Let the kernel fragment (no path MTU discovery, no DF bit).
s.setsockopt(socket.IPPROTO_IP, 10, 0)      # IP_MTU_DISCOVER: DONT
s.settimeout(2)
s.connect((host, port))
try:
    s.send(b"x" * size)
    print("reply " + s.recv(65535).decode().split()[1])
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
EOF
    on "$1" "$FC_PY" "$FC_TMP/udp-send.py" "$2" "$3" "$4"
}

# The container MTU flowctl gives containers.
container_mtu() {
    fcctl flowctl/show | sed -n 's/.*container MTU \([0-9]*\).*/\1/p'
}

# expect_udp WHERE HOST PORT SIZE OUTCOME
expect_udp() {
    local got
    got=$(send_udp "$1" "$2" "$3" "$4")
    [ "$got" = "$5" ] \
        || fail "$1: $4-byte UDP datagram to $2:$3: expected '$5', got '$got'"
    echo "ok: $1: $4-byte UDP datagram to $2:$3: $got"
}

icmp_unreachables() {
    fcctl flowctl/show | sed -n 's/^icmp unreachables sent: //p'
}

# A one-port UDP rule: datagrams that fit in one packet, one byte more,
# three packets' worth and 8,000 bytes all arrive whole at the allowed
# port; to another port of the same host (the server listens there too, and
# the router reaches it) each is refused, with exactly one ICMP port
# unreachable per datagram, whatever its number of fragments.
test_fragmented_udp_judged_as_whole_datagram() {
    sim_up
    frag_server ext 7000,7001
    sim push a --netout "[$UDP_7000]"
    wait_until 5 "flowctl in sync" flowctl_synced
    local mtu one
    mtu=$(container_mtu)
    [ -n "$mtu" ] || fail "no container MTU in flowctl/show"
    one=$((mtu - 28))           # The largest datagram one packet carries.

    local size
    for size in 100 "$one" $((one + 1)) $((3 * mtu)) 8000; do
        expect_udp a 10.0.0.100 7000 "$size" "reply $size"
    done
    for size in $((one + 1)) 8000; do
        local before after
        before=$(icmp_unreachables)
        expect_udp a 10.0.0.100 7001 "$size" refused
        wait_until 5 "the ICMP unreachable counted" \
            eval '[ "$(icmp_unreachables)" -gt "$before" ]'
        sleep 0.3
        after=$(icmp_unreachables)
        expect_equal "$((after - before))" 1 \
            "ICMP port unreachables sent for one $size-byte datagram"
        expect_udp router 10.0.0.100 7001 "$size" "reply $size"
    done
    # The ports the ASG does not name stay closed to fragments too.
    expect_udp a 10.0.0.101 7000 8000 refused
    file_check_logs
}

# An ICMP echo rule: echoes one byte too large for one packet, and of
# 3,000 bytes, get their replies; to a host the rule does not name, the
# container learns that it is unreachable.
test_fragmented_icmp_echo_gets_its_reply() {
    sim_up
    sim push a --netout "[$ICMP_ECHO_100]"
    wait_until 5 "flowctl in sync" flowctl_synced
    local mtu
    mtu=$(container_mtu)
    local size out
    for size in $((mtu - 28)) $((mtu - 27)) 3000; do
        out=$(on a ping -n -c1 -W2 -s "$size" 10.0.0.100 2>&1) || true
        grep -q ' 1 received' <<<"$out" \
            || fail "a: ping -s $size 10.0.0.100 should be answered:
$out"
        echo "ok: a: ping -s $size 10.0.0.100 answered"
    done
    out=$(on a ping -n -c1 -W2 -s 3000 10.0.0.101 2>&1) || true
    grep -q "Destination Port Unreachable" <<<"$out" \
        || fail "a: ping -s 3000 10.0.0.101 should be refused:
$out"
    echo "ok: a: ping -s 3000 10.0.0.101: refused"
    file_check_logs
}

# The switch's fragment handling is nx-match (flowctl sets it on every
# connection), and again after ovs-vswitchd restarts.
test_fragment_handling_is_set_on_every_connection() {
    FC_LOG_IGNORE='(flowctl\.log.*rconn.*connection failed)|(ovs-vswitchd\.log.*terminating with signal 15)'
    sim_up
    expect_equal "$(ofctl get-frags br-cf)" nx-match "the fragment handling"
    ofctl set-frags br-cf normal
    kill_daemon ovs-vswitchd TERM
    vswitchd_start
    wait_until 10 "flowctl in sync again" flowctl_synced
    wait_until 5 "fragment handling nx-match" \
        eval '[ "$(ofctl get-frags br-cf)" = nx-match ]'
    echo "ok: nx-match after ovs-vswitchd's restart"
    file_check_logs
}
