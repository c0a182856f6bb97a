# System tests of the overlay across cells, on cell-sim in cluster mode
# (scripts/cell-sim up --cells N, docs/cell-sim.md): a 3-member cfnet-db
# cluster (Raft), cells whose flowctl claims its subnet there, userspace
# Geneve tunnels between the cells over one underlay segment, and
# containers made through garden-sim and cni-ovs.  What is checked is what a
# CF user or operator sees, with real traffic: leases, container-to-
# container traffic across cells keeping its source address, the app tag in
# the Geneve option, forged Geneve dropped, the MTU at 1500 and 9000, and
# the directory's faults.
#
# Helpers (sim_up, expect, fail, ...) are tests/system/flowctl/simlib.sh's;
# each test has its own sim, removed by file_teardown.  Run by
# tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

FC_GENEVE=$SB_TOP/tests/system/flowctl/geneve.py

# The warnings of flowctl's IDL when its cfnet-db member goes away.
DB_GONE_LOG='tcp:10\.0\.0\.[345]:6641: (receive error|send error|connection dropped)'

subnet_of() { cvsctl_on "$1" get open_vswitch . external_ids:cf-subnet | tr -d '"'; }
mtu_of() { cvsctl_on "$1" get open_vswitch . external_ids:cf-mtu | tr -d '"'; }
cell_ip() { echo "10.0.0.$((10 + $1))"; }

# The directory's Cell rows as "underlay_ip subnet" lines, sorted, read
# from member I (default 1).
db_cells() {
    sim db "${1:-1}" exec ovsdb-client query \
        "unix:$FC_STATE/db${1:-1}/cfnet-db.sock" \
        '["CFNet",{"op":"select","table":"Cell","where":[],"columns":["underlay_ip","subnet"]}]' \
        | jq -r '.[0].rows[] | "\(.underlay_ip) \(.subnet)"' | sort
}

# lease_expires IP [MEMBER]: the lease expiry (ms) of the cell at IP.
lease_expires() {
    sim db "${2:-1}" exec ovsdb-client query \
        "unix:$FC_STATE/db${2:-1}/cfnet-db.sock" \
        "[\"CFNet\",{\"op\":\"select\",\"table\":\"Cell\",\"where\":[[\"underlay_ip\",\"==\",\"$1\"]],\"columns\":[\"lease_expires\"]}]" \
        | jq -r '.[0].rows[0].lease_expires'
}

# The classify flow of APP's port loads its tag into reg8: prints it (hex,
# as ovs-ofctl writes it, without "0x"; 0 for an app in no policy).
tag_of() {
    local cell=$1 app=$2 port
    port=$(cvsctl_on "$cell" get interface "$(ifname_of "$app")" ofport)
    ofctl_on "$cell" --no-stats dump-flows br-cf "table=0,in_port=$port" \
        | grep -oE '(load|set_field):(0x[0-9a-f]*|0)->(NXM_NX_REG8\[\]|reg8)' \
        | head -1 | sed -E 's/.*:(0x)?([0-9a-f]*)->.*/\2/'
}

# remote_flows I: the number of cells cell I forwards to.
remote_flows() {
    ofctl_on "$1" --no-stats dump-flows br-cf table=9 | grep -c 'tun_dst' || true
}

# ---------------------------------------------------------------------------
# Leases and tunnels

# Every cell holds its own lease inside the overlay, published as
# cf-subnet; the directory lists the three; every bridge has the Geneve
# port and the option's TLV mapping, and forwards to the two other cells.
test_leases_tunnels_and_tlv_map() {
    sim_up --cells 3
    local i s subnets=()
    for i in 1 2 3; do
        s=$(subnet_of "$i")
        [[ $s =~ ^10\.255\.[0-9]+\.0/24$ ]] \
            || fail "cell $i: cf-subnet '$s' is not a /24 of 10.255.0.0/16"
        subnets+=("$(cell_ip "$i") $s")
        expect_equal "$(cvsctl_on "$i" get interface cf-tun type)" geneve \
            "cell $i: cf-tun's type"
        expect_equal "$(cvsctl_on "$i" get interface cf-tun options:remote_ip)" \
            flow "cell $i: cf-tun's remote_ip"
        ofctl_on "$i" dump-tlv-map br-cf | grep -qE \
            '^ *0xfff0 +0x80 +4 +tun_metadata0$' \
            || fail "cell $i: no TLV mapping for the tag:
$(ofctl_on "$i" dump-tlv-map br-cf)"
        wait_until 5 "cell $i forwards to 2 cells" \
            eval "[ \"\$(remote_flows $i)\" = 2 ]"
    done
    expect_equal "$(printf '%s\n' "${subnets[@]}" | awk '{print $2}' | sort -u | wc -l)" \
        3 "the number of distinct subnets"
    expect_equal "$(db_cells)" "$(printf '%s\n' "${subnets[@]}" | sort)" \
        "the directory's cells"
    fcctl_on 2 flowctl/show | grep -q '^cluster directory: connected' \
        || fail "flowctl/show does not report the directory"
    expect_equal "$(fcctl_on 2 flowctl/cells)" "2 other cells
$(printf '%s\n' "${subnets[@]}" | grep -v "^$(cell_ip 2) " | sort)" \
        "cell 2's flowctl/cells"
}

# Five cells: every cell forwards to the four others, and a container on
# each reaches the containers on all the others.
test_five_cells_full_mesh() {
    sim_up --cells 5 --disable-container-network-policy
    local i j
    for i in 1 2 3 4 5; do
        sim push "a$i" --cell "$i" >/dev/null
    done
    for i in 1 2 3 4 5; do
        expect_equal "$(remote_flows "$i")" 4 "cells cell $i forwards to"
    done
    for i in 1 5; do
        for j in 1 2 3 4 5; do
            [ "$i" = "$j" ] || expect_ping_ok "a$i" "$(sim ip "a$j")"
        done
    done
}

# ---------------------------------------------------------------------------
# Container-to-container

# With disable_container_network_policy, a container reaches containers on
# its own and on other cells, TCP, UDP and ICMP, and the receiver sees the
# sender's own address: no NAT on the overlay.
test_c2c_across_cells_keeps_source_address() {
    sim_up --cells 3 --disable-container-network-policy
    sim push a --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    sim push c --cell 1 >/dev/null
    sim push d --cell 3 >/dev/null
    local a b c d
    a=$(sim ip a) b=$(sim ip b) c=$(sim ip c) d=$(sim ip d)
    serve b 8080 >/dev/null
    serve c 8080 >/dev/null
    serve d 7070 --udp >/dev/null
    expect a connected tcp "$b" 8080
    expect_equal "$PROBE_DETAIL" "peer $a ${PROBE_DETAIL##* }" \
        "the source b sees (cross-cell)"
    expect a connected tcp "$c" 8080
    expect_equal "${PROBE_DETAIL% *}" "peer $a" "the source c sees (same cell)"
    expect b reply udp "$d" 7070
    expect_equal "${PROBE_DETAIL% * *}" "peer $b" "the source d sees (UDP)"
    expect_ping_ok a "$d"
    expect_ping_ok d "$c"
}

# Without the switch, container-to-container stays closed, across cells as
# on one cell: refused at once, although something listens.
test_c2c_refused_without_switch() {
    sim_up --cells 3
    sim push a --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local b
    b=$(sim ip b)
    serve b 8080 >/dev/null
    expect a refused tcp "$b" 8080
    expect_ping_unreachable a "$b"
}

# The sender's app tag rides in the Geneve option (class 0xfff0, type
# 0x80), the value its cell loads for it in 'classify' (here, without a
# policy server, 0: the option is there all the same; tests with a policy
# server check real tags).
test_app_tag_in_geneve_option() {
    sim_up --cells 3 --disable-container-network-policy
    sim push a --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local a b tag pcap
    a=$(sim ip a) b=$(sim ip b)
    tag=$(tag_of 1 a)
    [ -n "$tag" ] || fail "no tag in a's classify flow"
    pcap=$FC_TMP/ul.pcap
    # On cell 2's port of the underlay bridge (the bridge device itself
    # sees only what is addressed to it).
    sim bg ul tcpdump --immediate-mode -U -ni c2 -w "$pcap" udp port 6081 >/dev/null
    sleep 1
    expect_ping_ok a "$b"
    sleep 0.5
    local opts
    opts=$("$FC_PY" "$FC_GENEVE" options "$pcap")
    grep -q "^$a $b 0xfff0 0x80 $(printf '%08x' "0x$tag")\$" <<<"$opts" \
        || fail "no Geneve packet $a -> $b with tag $tag:
$opts"
    # And b's reply carries b's tag.
    grep -q "^$b $a 0xfff0 0x80 $(printf '%08x' "0x$(tag_of 2 b)")\$" \
        <<<"$opts" || fail "b's reply lacks b's tag:
$opts"
}

# Geneve is accepted only from the cells in the directory: a forged packet
# (tag and all) from the external host, which is not a cell, is dropped;
# the same packet from a cell's address is delivered (so the check can
# fail), and so is one without the option (tag 0: with
# disable_container_network_policy tags do not matter; under policy no
# policy admits tag 0), but not if its inner source is another cell's
# container; a container may not send to any cell's Geneve port at all,
# even with an ASG that allows everything.
test_forged_geneve_dropped() {
    sim_up --cells 3 --disable-container-network-policy
    sim push a --cell 1 --netout "$ALLOW_ALL" >/dev/null
    sim push b --cell 2 >/dev/null
    local a b log
    a=$(sim ip a) b=$(sim ip b)
    log=$FC_TMP/b.pcap
    sim bg b tcpdump --immediate-mode -U -ni eth0 -w "$log" udp port 7777 >/dev/null
    sleep 1
    on ext "$FC_PY" "$FC_GENEVE" send "$(cell_ip 2)" --inner-src "$a" \
        --inner-dst "$b" --dport 7777 --tag 0x80000001 --payload from-ext
    sim cell --cell 1 "$FC_PY" "$FC_GENEVE" send "$(cell_ip 2)" \
        --inner-src "$a" --inner-dst "$b" --dport 7777 --tag 0x80000001 \
        --payload from-cell1
    # A known cell, but posing as another cell's container; and without a
    # tag.
    local c3
    c3=$(subnet_of 3)
    sim cell --cell 1 "$FC_PY" "$FC_GENEVE" send "$(cell_ip 2)" \
        --inner-src "${c3%.0/24}.9" --inner-dst "$b" --dport 7777 \
        --tag 0x80000001 --payload from-cell1-as-cell3
    sim cell --cell 1 "$FC_PY" "$FC_GENEVE" send "$(cell_ip 2)" \
        --inner-src "$a" --inner-dst "$b" --dport 7777 --payload from-cell1-untagged
    on a "$FC_PY" "$FC_GENEVE" send "$(cell_ip 2)" --inner-src "$a" \
        --inner-dst "$b" --dport 7777 --tag 0x80000001 --payload from-app
    expect a refused udp "$(cell_ip 2)" 6081
    sleep 1
    local got
    got=$(sim cell tcpdump -nr "$log" -A 2>/dev/null \
          | grep -oE 'from-[a-z0-9-]+' | sort -u | tr '\n' ' ')
    expect_equal "$got" "from-cell1 from-cell1-untagged " "what b received"
}

# ---------------------------------------------------------------------------
# MTU

# mtu_test UNDERLAY_MTU: the container MTU is the underlay's minus 58; a
# ping with DF of exactly that size crosses cells, one byte more fails at
# the sender with "message too long".
mtu_test() {
    local ul=$1 want=$(($1 - 58))
    sim_up --cells 3 --underlay-mtu "$ul" --disable-container-network-policy
    sim push a --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local b out
    b=$(sim ip b)
    expect_equal "$(mtu_of 1)" "$want" "cf-mtu"
    expect_equal "$(on a cat /sys/class/net/eth0/mtu)" "$want" "a's eth0 MTU"
    out=$(on a ping -n -c1 -W2 -M do -s $((want - 28)) "$b" 2>&1) || true
    grep -q ' 1 received' <<<"$out" \
        || fail "a DF ping of $want bytes should cross the cells:
$out"
    out=$(on a ping -n -c1 -W2 -M do -s $((want - 27)) "$b" 2>&1) || true
    grep -qi 'message too long' <<<"$out" \
        || fail "a DF ping of $((want + 1)) bytes should fail at the sender:
$out"
}

test_mtu_underlay_1500() { mtu_test 1500; }
test_mtu_underlay_9000() { mtu_test 9000; }

# An mtu setting the underlay cannot carry is refused at start, naming the
# setting and the limit; a smaller one overrides the automatic MTU.
test_mtu_override() {
    sim_up --cells 3 --underlay-mtu 9000
    local d=$FC_STATE/cell1 out rc=0
    jq '. + {mtu: 8943}' "$d/flowctl.json" > "$FC_TMP/too-big.json"
    out=$(sim cell --cell 1 "$CELL_SIM_BIN/flowctl" \
              --config "$FC_TMP/too-big.json" \
              --pidfile="$FC_TMP/refused.pid" 2>&1) || rc=$?
    [ $rc -ne 0 ] || fail "flowctl started with mtu 8943 over a 9000 underlay"
    grep -q 'mtu: 8943 is more than br-phy (MTU 9000) can carry' <<<"$out" \
        || fail "unclear refusal: $out"
    grep -q 'at most 8942' <<<"$out" || fail "the limit is not named: $out"

    jq '. + {mtu: 8000}' "$d/flowctl.json" > "$FC_TMP/f.json"
    mv "$FC_TMP/f.json" "$d/flowctl.json"
    local pid
    pid=$(cat "$d/flowctl.pid")
    fcctl_on 1 exit
    wait_until 5 "flowctl of cell 1 gone" eval "! pid_alive $pid"
    flowctl_start 1
    wait_until 10 "cf-mtu 8000" eval '[ "$(mtu_of 1)" = 8000 ]'
    sim push a --cell 1 >/dev/null
    expect_equal "$(on a cat /sys/class/net/eth0/mtu)" 8000 "a's eth0 MTU"
}

# ---------------------------------------------------------------------------
# Restarts and faults

# flows_of I: cell I's flow table as an operator dumps it, sorted.
flows_of() { ofctl_on "$1" --no-stats dump-flows br-cf | sort; }

# restart_flowctl I: SIGKILL cell I's flowctl and start it again.
restart_flowctl() {
    local pid
    pid=$(cat "$FC_STATE/cell$1/flowctl.pid")
    kill -9 "$pid"
    wait_until 5 "flowctl of cell $1 gone" eval "! pid_alive $pid"
    sleep 0.3       # Traffic without flowctl.
    flowctl_start "$1"
}

# ping_all_answered LOG N: the background ping whose log is LOG got all N
# replies.
ping_all_answered() {
    grep -q "^$2 packets transmitted, $2 received," "$1" \
        || fail "packets lost: $(tail -2 "$1")"
}

# flowctl gets its lease back after a restart (SIGKILL), with the same
# flows, and traffic across the cells loses no packet; and again with every
# cfnet-db member down: it then waits for the directory and leaves the
# bridge's flows alone, so traffic goes on, and takes its lease back when
# the directory returns.
test_flowctl_restart_keeps_lease() {
    FC_LOG_IGNORE=$DB_GONE_LOG
    sim_up --cells 3 --disable-container-network-policy
    sim push a --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local b before flows ping_pid
    b=$(sim ip b)
    before=$(subnet_of 2)
    flows=$(flows_of 2)
    ping_pid=$(sim bg a ping -n -i 0.05 -c 200 -W 1 "$b" | tail -1)
    wait_until 3 "the first replies" \
        grep -q 'icmp_seq=5 ' "$FC_STATE/logs/bg.$ping_pid.log"

    restart_flowctl 2
    wait_until 10 "cell 2's flowctl connected to the directory" \
        directory_connected 2
    wait_until 10 "cell 2's flows back" eval '[ "$(flows_of 2)" = "$flows" ]'
    expect_equal "$(subnet_of 2)" "$before" "cell 2's subnet after a restart"

    # With the directory gone.
    local i
    for i in 1 2 3; do
        kill -9 "$(cat "$FC_STATE/db$i/cfnet-db.pid")"
    done
    restart_flowctl 2
    sleep 1
    ! directory_connected 2 || fail "connected with every member down"
    expect_equal "$(flows_of 2)" "$flows" "cell 2's flows, flowctl waiting"
    pid_alive "$ping_pid" || fail "the ping ended before the second restart"
    wait_until 12 "the ping to end" eval "! pid_alive $ping_pid"
    ping_all_answered "$FC_STATE/logs/bg.$ping_pid.log" 200

    for i in 1 2 3; do
        sim db "$i" start >/dev/null 2>&1
    done
    wait_until 40 "cell 2 reconnected" directory_connected 2
    wait_until 10 "cell 2 holds its lease" \
        eval "fcctl_on 2 flowctl/show | grep -q '^  lease: $before'"
    expect_equal "$(subnet_of 2)" "$before" "cell 2's subnet"
    wait_until 10 "cell 2's flows" eval '[ "$(flows_of 2)" = "$flows" ]'
    expect_ping_ok a "$b"
}

# The number (1-3) of the cfnet-db member that is the Raft leader.
db_leader() {
    sim db status | sed -n 's/^db\([123]\) .*role leader.*/\1/p' | head -1
}

# directory_connected I: cell I's flowctl reports the directory connected.
directory_connected() {
    fcctl_on "$1" flowctl/show | grep -q '^cluster directory: connected'
}

# claim_from_ext IP: a new claimant (flowctl's directory code, in
# tests/directory-driver) on the external host gets a lease for IP.
claim_from_ext() {
    on ext "$CFNET_OUT/tests/directory-driver" --timeout=20 --claims=1 \
        --prefix-ip="$1" tcp:10.0.0.3:6641,tcp:10.0.0.4:6641,tcp:10.0.0.5:6641
}

# One member killed (the leader): the other two elect a new one; cells keep
# renewing their leases and a new cell still gets one; traffic between
# cells goes on.
test_directory_member_down() {
    FC_LOG_IGNORE=$DB_GONE_LOG
    sim_up --cells 3 --disable-container-network-policy --lease-lifetime 6 \
        --renew-interval 1
    sim push a --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local b leader survivor t
    b=$(sim ip b)
    serve b 8080 >/dev/null
    leader=$(db_leader)
    [ -n "$leader" ] || fail "no leader: $(sim db status)"
    survivor=$((leader % 3 + 1))
    kill -9 "$(cat "$FC_STATE/db$leader/cfnet-db.pid")"
    t=$(date +%s%3N)
    # Leases renewed after the leader went (read from a survivor).
    wait_until 15 "cell 1's lease renewed without member $leader" \
        eval "[ \"\$(lease_expires 10.0.0.11 $survivor)\" -gt $((t + 5000)) ]"
    wait_until 15 "cell 2's lease renewed without member $leader" \
        eval "[ \"\$(lease_expires 10.0.0.12 $survivor)\" -gt $((t + 5000)) ]"
    local out
    out=$(claim_from_ext 10.0.1.1) || fail "no claim without member $leader: $out"
    grep -q '^claimed 1 leases' <<<"$out" || fail "claim: $out"
    expect a connected tcp "$b" 8080
    expect_equal "$(db_cells "$survivor" | wc -l)" 4 "cells in the directory (3 cells and the new claimant)"
}

# Every member killed: established and new traffic between the cells keeps
# flowing on the last known cells and leases; flowctl says the directory is
# gone.  A restarted member alone has no quorum; with the others back the
# cluster elects a leader, the member is part of it again, and the cells
# reconnect and renew.
test_directory_down_traffic_flows_and_members_rejoin() {
    FC_LOG_IGNORE=$DB_GONE_LOG
    sim_up --cells 3 --disable-container-network-policy --lease-lifetime 10 \
        --renew-interval 1
    sim push a --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local a b
    a=$(sim ip a) b=$(sim ip b)
    serve b 8080 >/dev/null
    serve a 9090 >/dev/null
    local out=$FC_TMP/stream
    on a "$FC_PY" "$FC_PROBE" stream "$b" 8080 --interval 0.05 --duration 8 \
        > "$out" &
    remember_pid $!
    sleep 0.5
    local i
    for i in 1 2 3; do
        kill -9 "$(cat "$FC_STATE/db$i/cfnet-db.pid")"
    done
    wait_until 15 "cell 1 notices the directory is gone" \
        eval "! directory_connected 1"
    fcctl_on 1 flowctl/show | grep -q '^  lease: 10\.255\.' \
        || fail "cell 1 lost its lease: $(fcctl_on 1 flowctl/show)"
    expect a connected tcp "$b" 8080
    expect b connected tcp "$a" 9090
    expect_equal "$(remote_flows 1)" 2 "cells cell 1 forwards to"
    expect_equal "$(fcctl_on 1 flowctl/cells | head -1)" \
        "2 other cells (as last known: the directory is unreachable)" \
        "cell 1's flowctl/cells"

    # One member alone: no quorum, so no leader and no connection.
    sim db 1 start >/dev/null 2>&1
    sleep 2
    [ -z "$(db_leader)" ] || fail "a lone member became leader"
    ! directory_connected 1 || fail "cell 1 connected to a lone member"
    sim db 2 start >/dev/null 2>&1
    sim db 3 start >/dev/null 2>&1
    wait_until 20 "a leader" eval '[ -n "$(db_leader)" ]'
    wait_until 20 "member 1 back in the cluster with 3 servers" \
        eval "sim db 1 status | grep -A3 '^Servers:' | grep -c '(' | grep -qx 3"
    wait_until 40 "cell 1 reconnected" directory_connected 1
    wait_until 40 "cell 2 reconnected" directory_connected 2
    local t
    t=$(date +%s%3N)
    wait_until 10 "cell 2's lease renewed" \
        eval "[ \"\$(lease_expires 10.0.0.12)\" -gt $((t + 8000)) ]"
    wait
    grep -q '^done' "$out" || fail "the stream broke:
$(tail -3 "$out")"
}
