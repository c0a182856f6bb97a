# System tests of flowctl's packet-in handler (flowctl/pinctrl.c) against
# a real ovs-vswitchd: two namespaces, A and B, on br-cf; flows send some
# of A's packets to B to the controller the way the pipeline's 'reject'
# table does (controller(userdata=01|02,meter_id=1)), and
# tests/pinctrl-driver (tests/system/pinctrl-driver.c) answers them.  The
# tests check what A's kernel makes of the answers: "connection refused",
# "connection reset", ICMP port unreachable.  Run by tests/system/run-file;
# each test_* function gets a fresh sandbox from lib.sh.

PINCTRL_DRIVER=$CFNET_OUT/tests/pinctrl-driver
PYTHON=/usr/bin/python3
A_IP=10.255.7.2
B_IP=10.255.7.3
A_MAC=ee:ee:0a:ff:07:02
B_MAC=ee:ee:0a:ff:07:03

# ovs-ofctl against the sandbox switch, OpenFlow 1.5.
ofctl() { sb_cell ovs-ofctl -O OpenFlow15 "$@"; }

# pin_host NAME IP MAC OFPORT: namespace NAME ($PFX-prefixed) with eth0
# (IP/24, MAC), whose veth peer is port OFPORT of br-cf.  Sets NS_<NAME>
# to the namespace's name.
pin_host() {
    local name=$1 ip=$2 mac=$3 ofport=$4 ns port
    ns=$(sb_netns "$name")
    ns=${ns##*/}
    port=$PFX$name
    sb_cell ip link add "$port" type veth peer name eth0 netns "$ns"
    sb_cell ip link set "$port" up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 address "$mac"
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set eth0 up
    # The userspace datapath reads the peer with AF_PACKET: packets must
    # leave with their checksums computed.
    ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
    vsctl add-port br-cf "$port" -- \
        set interface "$port" ofport_request="$ofport"
    printf -v "NS_$name" '%s' "$ns"
}

# pin_setup: hosts A (port 1) and B (port 2); ARP and IP between them
# forwarded normally, except what a test sends to the controller with
# pin_deny; the reject meter.
pin_setup() {
    pin_host A "$A_IP" "$A_MAC" 1
    pin_host B "$B_IP" "$B_MAC" 2
    ofctl add-meter br-cf meter=1,pktps,band=type=drop,rate=100
    ofctl add-flows br-cf - <<'EOF'
priority=100,arp,actions=NORMAL
priority=10,ip,actions=NORMAL
EOF
}

# pin_deny KIND MATCH: packets from A to B matching MATCH go to the
# controller with userdata KIND (01 TCP RST, 02 ICMP), as from the
# pipeline's 'reject' table.
pin_deny() {
    ofctl add-flow br-cf "priority=200,in_port=1,ip,nw_dst=$B_IP,$2,\
actions=controller(userdata=$1,meter_id=1)"
}

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

pinctl() { ovs-appctl -t "$SB/pinctrl.ctl" "$@"; }

# pin_start: runs pinctrl-driver against br-cf until pin_stop, and waits
# until it is connected.
pin_start() {
    ip netns exec "$CELL_NS" "$PINCTRL_DRIVER" \
        --log-file="$SB/pinctrl-driver.log" -vpinctrl:file:dbg \
        "unix:$SB/br-cf.mgmt" "$SB/pinctrl.ctl" \
        >"$SB/pinctrl-driver.out" 2>&1 &
    PIN_PID=$!
    echo "$PIN_PID" >> "$SB/pids.list"
    local _
    for _ in $(seq 100); do
        if pinctl pinctrl/show 2>/dev/null | grep -q '(connected)'; then
            return 0
        fi
        sleep 0.1
    done
    echo "pinctrl-driver did not connect:"
    pinctl pinctrl/show
    cat "$SB/pinctrl-driver.out"
    return 1
}

# pin_stop: makes the driver exit (cleanly, so that a sanitizer build
# checks for leaks), and checks that it did; kills it by pid otherwise.
pin_stop() {
    local rc=0
    pinctl exit || true
    for _ in $(seq 50); do
        kill -0 "$PIN_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$PIN_PID" 2>/dev/null; then
        kill "$PIN_PID"
        echo "pinctrl-driver did not exit"
        rc=1
    fi
    wait "$PIN_PID" || { echo "pinctrl-driver exited with $?"; rc=1; }
    hs_sanitizer_report pinctrl-driver "$(cat "$SB/pinctrl-driver.out")" \
        || rc=1
    return $rc
}

# stat NAME: a counter from pinctrl/show ("tcp resets sent", ...).
pin_stat() {
    pinctl pinctrl/show | sed -n "s/^$1: //p"
}

# expect_stats PACKET_INS RESETS ICMP IGNORED: pinctrl's counters (errors
# always 0).  The answers are sent after the packet-in is counted: wait a
# little for the counters to settle.
expect_stats() {
    local want="$1 $2 $3 $4 0" got _
    for _ in $(seq 20); do
        got="$(pin_stat packet-ins) $(pin_stat 'tcp resets sent')"
        got="$got $(pin_stat 'icmp unreachables sent') $(pin_stat ignored)"
        got="$got $(pin_stat errors)"
        [ "$got" = "$want" ] && return 0
        sleep 0.1
    done
    expect_eq "$got" "$want" \
        "packet-ins, resets, icmp, ignored, errors ($(pinctl pinctrl/show))"
}

# Milliseconds since the epoch.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# A denied TCP connection is refused at once, by pinctrl's RST (without
# pinctrl, it times out).
test_tcp_connect_is_refused() {
    pin_setup
    pin_deny 01 "tcp,tp_dst=9"

    # Without an answer, the SYN goes unanswered.
    local out start ms
    out=$(in_a nc -vz -w 1 "$B_IP" 9 2>&1) && {
        echo "connected without pinctrl: $out"; return 1; }
    check "no refusal without pinctrl ($out)" \
        test "${out/refused/}" = "$out"

    pin_start
    start=$(now_ms)
    out=$(in_a nc -vz -w 3 "$B_IP" 9 2>&1) && {
        echo "connected: $out"; return 1; }
    ms=$(( $(now_ms) - start ))
    check "refused ($out)" grep -q 'Connection refused' <<<"$out"
    check "refused quickly (${ms} ms)" test "$ms" -lt 1500
    expect_stats 1 1 0 0
    pin_stop
}

# A segment of an established connection that is then denied gets a RST
# with seq = its ack, which the sender's kernel accepts (Linux takes a RST
# only with exactly the next sequence number it expects): the connection is
# reset.
test_established_connection_is_reset() {
    pin_setup
    # Background processes run under "ip netns exec" directly (which execs
    # them), so that $! is their pid.
    ip netns exec "$NS_B" "$PYTHON" -c '
import socket, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 10))
ls.listen(1)
c, _ = ls.accept()
c.sendall(b"hello")
time.sleep(30)
' &
    local listener=$!
    echo "$listener" >> "$SB/pids.list"
    pin_start

    ip netns exec "$NS_A" "$PYTHON" -c '
import os, socket, sys, time
flag = sys.argv[2]
for _ in range(50):
    try:
        s = socket.create_connection((sys.argv[1], 10), timeout=3)
        break
    except ConnectionRefusedError:
        time.sleep(0.1)
assert s.recv(5) == b"hello"
print("connected", flush=True)
while not os.path.exists(flag):
    time.sleep(0.05)
s.sendall(b"denied data")
try:
    data = s.recv(100)
    print("received %r" % data)
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("timeout")
' "$B_IP" "$SB/deny-now" > "$SB/a.out" 2>&1 &
    local client=$!
    echo "$client" >> "$SB/pids.list"

    local _
    for _ in $(seq 50); do
        grep -q connected "$SB/a.out" && break
        sleep 0.1
    done
    check "connected ($(cat "$SB/a.out"))" grep -q connected "$SB/a.out"
    pin_deny 01 "tcp,tp_dst=10"
    touch "$SB/deny-now"
    wait "$client" || true
    expect_eq "$(tail -1 "$SB/a.out")" reset "what the client saw"
    expect_stats 1 1 0 0
    kill "$listener"
    wait "$listener" 2>/dev/null || true
    pin_stop
}

# A denied UDP datagram gets ICMP port unreachable: a connected UDP
# socket's next recv fails with ECONNREFUSED.
test_udp_gets_port_unreachable() {
    pin_setup
    pin_deny 02 udp
    pin_start
    local out
    out=$(in_a "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], 53))
s.send(b"query")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
' "$B_IP" 2>&1)
    expect_eq "$out" refused "what the UDP client saw"
    expect_stats 1 0 1 0
    pin_stop
}

# A denied ping gets port unreachable from the address it was sent to.
test_ping_gets_port_unreachable() {
    pin_setup
    pin_deny 02 icmp
    pin_start
    local out
    out=$(in_a ping -n -c 1 -W 3 "$B_IP" 2>&1) && {
        echo "ping answered: $out"; return 1; }
    check "port unreachable from $B_IP ($out)" \
        grep -q "From $B_IP icmp_seq=1 Destination Port Unreachable" \
        <<<"$out"
    expect_stats 1 0 1 0
    pin_stop
}

# RSTs and ICMP errors are denied like everything else but never answered.
test_rst_and_icmp_error_are_not_answered() {
    pin_setup
    pin_deny 01 tcp
    pin_deny 02 icmp
    pin_start
    in_a "$PYTHON" -c '
import socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

src = socket.inet_aton(sys.argv[1])
dst = socket.inet_aton(sys.argv[2])

# A TCP RST 40000 -> 9; the kernel adds the IP header.
tcp = struct.pack("!HHIIBBHHH", 40000, 9, 1, 0, 5 << 4, 0x04, 0, 0, 0)
pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.sendto(tcp, (sys.argv[2], 0))

# ICMP port unreachable quoting a UDP datagram from B to A.
quoted = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, dst,
                     src) + struct.pack("!HHHH", 53, 40000, 8, 0)
icmp = struct.pack("!BBHI", 3, 3, 0, 0) + quoted
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(icmp, (sys.argv[2], 0))
' "$A_IP" "$B_IP"
    expect_stats 2 0 0 2
    check "reasons logged" grep -q 'no answer.*TCP RST' \
        "$SB/pinctrl-driver.log"
    check "reasons logged" grep -q 'no answer.*ICMP error' \
        "$SB/pinctrl-driver.log"
    pin_stop
}
