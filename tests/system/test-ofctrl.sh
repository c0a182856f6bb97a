# System tests of flowctl's OpenFlow adapter (flowctl/ofctrl.c) against a
# real ovs-vswitchd: tests/ofctrl-driver (tests/system/ofctrl-driver.c)
# connects an ofctrl to the sandbox bridge's management socket and puts
# flow files in turn; the tests compare the bridge with what was put
# (ovs-ofctl diff-flows compares match, priority, table, cookie and
# actions).  Run by tests/system/run-file; each test_* function gets a fresh
# sandbox from lib.sh.

OFCTRL_DRIVER=$CFNET_OUT/tests/ofctrl-driver

# ovs-ofctl against the sandbox switch, OpenFlow 1.5, with port names.
ofctl() { sb_cell ovs-ofctl -O OpenFlow15 --names "$@"; }

# flows NAME: writes stdin, flows in ovs-ofctl syntax, to step file
# $SB/NAME.
flows() { cat > "$SB/$1"; }

# drive_argv [--OPTION...] STEP...: ofctrl-driver's command line for drive
# and drive_bg, in the array DRIVE_ARGV.
drive_argv() {
    local opts=() steps=() s
    while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do
        opts+=("$1")
        shift
    done
    for s in "$@"; do
        case $s in
            @*) steps+=("$s") ;;
            *) steps+=("$SB/$s") ;;
        esac
    done
    DRIVE_ARGV=("$OFCTRL_DRIVER" "${opts[@]}" "unix:$SB/br-cf.mgmt"
                "${steps[@]}")
}

# drive [--OPTION...] STEP...: runs ofctrl-driver against br-cf with the
# given steps (names of files written by flows, or @reconnect).  OUT gets
# stdout, ERR stderr, RC the exit code.
drive() {
    drive_argv "$@"
    hs_capture ofctrl-driver sb_cell "${DRIVE_ARGV[@]}"
}

# expect_step N TEXT: step N's line in OUT is "step N: TEXT (...)".
expect_step() {
    local line
    line=$(grep "^step $1: " <<<"$OUT" | sed 's/ (.*//')
    expect_eq "$line" "step $1: $2" "step $1 (stdout: $OUT; stderr: $ERR)"
}

# stat_of N NAME: counter NAME in the stats line after step N.
stat_of() {
    awk -v step="step $1:" -v name="$2" '
        index($0, step) == 1 { found = 1; next }
        found && /^stats:/ {
            for (i = 2; i <= NF; i++) {
                split($i, kv, "=")
                if (kv[1] == name) { print kv[2]; exit }
            }
        }' <<<"$OUT"
}

# expect_stat N NAME VALUE
expect_stat() {
    expect_eq "$(stat_of "$1" "$2")" "$3" "$2 after step $1 (stdout: $OUT)"
}

# expect_table NAME: br-cf holds exactly the flows in step file NAME.
expect_table() {
    local diff
    if ! diff=$(ofctl diff-flows br-cf "$SB/$1" 2>&1); then
        echo "br-cf differs from $1 (- on the bridge, + in the file):"
        echo "$diff"
        ofctl --no-stats dump-flows br-cf
        return 1
    fi
}

# The flows on br-cf, one per line, without statistics, sorted.
dump_flows() {
    ofctl --no-stats dump-flows br-cf | sed 's/^ *//' | sort
}

# The first put on a connection replaces whatever the switch has, in the
# same bundle as it adds the new flows.
test_first_put_replaces_existing_flows() {
    ofctl add-flow br-cf "table=3,priority=5,udp,actions=drop"
    ofctl add-flow br-cf "table=0,priority=100,in_port=LOCAL,ip,actions=drop"
    ofctl add-flow br-cf "table=0,priority=0,actions=drop"
    flows f1 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=0,priority=100,cookie=0x1,in_port=LOCAL,arp,actions=drop
table=1,priority=10,cookie=0x2,ip,nw_dst=10.0.0.0/8,actions=LOCAL
table=1,priority=1,cookie=0x3,actions=drop
EOF
    drive f1
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 acked"
    expect_stat 1 connections 1
    expect_stat 1 bundles 1
    expect_stat 1 replaces 1
    expect_stat 1 commits 1
    # "Delete all flows" and the 4 adds.
    expect_stat 1 flow_mods 5
    expect_stat 1 errors 0
    expect_table f1
    expect_eq "$(dump_flows | wc -l)" 4 "number of flows"

    # A new connection (a flowctl restart) replaces them again, even with
    # an empty table.
    flows empty < /dev/null
    drive empty
    expect_step 1 "put 1 acked"
    expect_stat 1 flow_mods 1
    expect_eq "$(dump_flows)" "" "flows after an empty put"
}

# A later put sends only the difference and leaves exactly the new table:
# additions, deletions, changed actions, changed cookies, a flow moved to
# another priority.
test_second_put_installs_exactly_the_new_table() {
    flows f1 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=0,priority=100,cookie=0x1,in_port=LOCAL,arp,actions=drop
table=1,priority=10,cookie=0x2,ip,nw_dst=10.0.0.0/8,actions=LOCAL
table=1,priority=10,cookie=0x2,ip,nw_dst=10.1.0.0/16,actions=LOCAL
table=1,priority=20,cookie=0x2,tcp,tp_dst=80,actions=LOCAL
table=1,priority=1,cookie=0x3,actions=drop
EOF
    # Unchanged: the first and the last; deleted: arp; new actions:
    # 10.0.0.0/8; new cookie: 10.1.0.0/16; moved from priority 20 to 30:
    # tcp; new: udp, and a flow in a new table.
    flows f2 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x2,ip,nw_dst=10.0.0.0/8,actions=goto_table:2
table=1,priority=10,cookie=0x7,ip,nw_dst=10.1.0.0/16,actions=LOCAL
table=1,priority=30,cookie=0x2,tcp,tp_dst=80,actions=LOCAL
table=1,priority=30,cookie=0x2,udp,tp_dst=53,actions=LOCAL
table=1,priority=1,cookie=0x3,actions=drop
table=2,priority=1,cookie=0x4,actions=LOCAL
EOF
    drive f1 f2
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 acked"
    expect_step 2 "put 2 acked"
    expect_stat 1 flow_mods 7
    # 2 deletes (arp, tcp at 20), 2 modifies, 3 adds (tcp at 30, udp,
    # table 2).
    expect_stat 2 flow_mods 14
    expect_stat 2 bundles 2
    expect_stat 2 replaces 1
    expect_stat 2 commits 2
    expect_stat 2 errors 0
    expect_table f2

    # And back.
    drive f2 f1
    expect_step 2 "put 2 acked"
    expect_table f1
}

# A put identical to what is installed sends nothing, whatever the order of
# the flows.
test_identical_put_sends_nothing() {
    flows f1 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x2,ip,nw_dst=10.0.0.0/8,actions=LOCAL
table=1,priority=1,cookie=0x3,actions=drop
EOF
    tac "$SB/f1" | flows f1-reversed
    drive f1 f1 f1-reversed
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 acked"
    expect_step 2 "put 1 unchanged"
    expect_step 3 "put 1 unchanged"
    expect_stat 3 puts 3
    expect_stat 3 unchanged 2
    expect_stat 3 bundles 1
    expect_stat 3 flow_mods 4
    expect_table f1
}

# Two rules with the same key and only conjunction() actions become one
# flow with both; the conjunctive match works in the switch.
test_conjunction_flows_install() {
    # Two ASG-like rules, 10.0.0.0/8 port 80 and 10.0.0.0/8 port 443: the
    # destination clause has the same key in both.
    flows asg <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x5,ip,nw_dst=10.0.0.0/8,actions=conjunction(2,1/2)
table=1,priority=10,cookie=0x5,ip,nw_dst=10.0.0.0/8,actions=conjunction(1,1/2)
table=1,priority=10,cookie=0x5,tcp,tp_dst=80,actions=conjunction(1,2/2)
table=1,priority=10,cookie=0x5,tcp,tp_dst=443,actions=conjunction(2,2/2)
table=1,priority=10,cookie=0x5,conj_id=1,ip,actions=set_field:1->reg0,LOCAL
table=1,priority=10,cookie=0x5,conj_id=2,ip,actions=set_field:2->reg0,LOCAL
EOF
    flows asg-merged <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x5,ip,nw_dst=10.0.0.0/8,actions=conjunction(1,1/2),conjunction(2,1/2)
table=1,priority=10,cookie=0x5,tcp,tp_dst=80,actions=conjunction(1,2/2)
table=1,priority=10,cookie=0x5,tcp,tp_dst=443,actions=conjunction(2,2/2)
table=1,priority=10,cookie=0x5,conj_id=1,ip,actions=set_field:1->reg0,LOCAL
table=1,priority=10,cookie=0x5,conj_id=2,ip,actions=set_field:2->reg0,LOCAL
EOF
    drive asg
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_eq "$(grep '^step 1:' <<<"$OUT")" \
        "step 1: put 1 acked (flows 6, conflicts 0)" "step 1"
    expect_table asg-merged

    local trace
    trace=$(sb_cell ovs-appctl ofproto/trace br-cf \
            in_port=LOCAL,tcp,nw_dst=10.1.2.3,tp_dst=443)
    check "port 443 to 10.1.2.3 matches conjunction 2" \
        grep -q '^Final flow: .*reg0=0x2' <<<"$trace"
    trace=$(sb_cell ovs-appctl ofproto/trace br-cf \
            in_port=LOCAL,tcp,nw_dst=10.1.2.3,tp_dst=80)
    check "port 80 to 10.1.2.3 matches conjunction 1" \
        grep -q '^Final flow: .*reg0=0x1' <<<"$trace"
    trace=$(sb_cell ovs-appctl ofproto/trace br-cf \
            in_port=LOCAL,tcp,nw_dst=10.1.2.3,tp_dst=22)
    check "port 22 matches no conjunction" \
        grep -q '^Final flow: unchanged' <<<"$trace"

    # Removing one rule modifies the shared flow.
    grep -v 'conjunction(2,\|conj_id=2' "$SB/asg" | flows asg1
    drive asg asg1
    expect_step 2 "put 2 acked"
    # The shared flow modified, 2 flows deleted.
    expect_stat 2 flow_mods 10
    expect_table asg1
    trace=$(sb_cell ovs-appctl ofproto/trace br-cf \
            in_port=LOCAL,tcp,nw_dst=10.1.2.3,tp_dst=443)
    check "port 443 no longer allowed" \
        grep -q '^Final flow: unchanged' <<<"$trace"
}

# A bundle with one flow the switch rejects changes nothing at all, and the
# error is reported with the flow; the next put replaces all flows.
test_bad_flow_rejects_whole_bundle() {
    flows f1 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x2,ip,nw_dst=10.0.0.0/8,actions=LOCAL
EOF
    # f1 changed, plus a flow that outputs to a group that does not exist
    # (OVS finds out when it commits the bundle).
    flows bad-group <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x2,ip,nw_dst=10.0.0.0/8,actions=drop
table=1,priority=20,cookie=0x2,udp,actions=LOCAL
table=1,priority=30,cookie=0x9,tcp,actions=group:99
EOF
    # A flow in OVS's hidden, read-only table 254 (OVS refuses it as soon
    # as it is added to the bundle, before the commit).
    flows bad-table <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x2,ip,nw_dst=10.0.0.0/8,actions=drop
table=254,priority=10,cookie=0x9,tcp,actions=drop
EOF
    flows f2 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x3,ip,nw_dst=10.0.0.0/8,actions=drop
EOF

    # A diff bundle.
    drive f1 bad-group
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 acked"
    expect_step 2 "put 2 failed"
    expect_stat 2 failed 1
    expect_stat 2 commits 1
    check "the error and the flow are logged" grep -qF \
        'bundle 2 (put 2): OFPBAC_BAD_OUT_GROUP: add table=1, priority=30, cookie=0x9, tcp actions=group:99' \
        <<<"$ERR"
    check "the rejection is logged" grep -qF \
        'bundle 2 (put 2) rejected and discarded' <<<"$ERR"
    expect_table f1

    # A replacing bundle: the "delete all flows" in it is undone too.
    drive bad-table
    expect_step 1 "put 1 failed"
    check "the error and the flow are logged" grep -qF \
        'bundle 1 (put 1): OFPBRC_EPERM: add table=254, priority=10, cookie=0x9, tcp actions=drop' \
        <<<"$ERR"
    expect_table f1

    # After a failure, the next put replaces everything.
    drive bad-table f2
    expect_step 1 "put 1 failed"
    expect_step 2 "put 2 acked"
    expect_stat 2 replaces 2
    expect_stat 2 commits 1
    expect_table f2
}

# Meters are added on connection, before the first bundle (whose flows use
# them), and modified in place when they exist already.
test_meters_added_then_modified() {
    flows f1 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=meter:1,goto_table:1
table=0,priority=100,cookie=0x1,in_port=LOCAL,arp,actions=meter:2,LOCAL
table=1,priority=10,cookie=0x2,actions=drop
EOF
    drive --meter=1:100:10 --meter=2:5000:500 f1
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 acked"
    expect_stat 1 meter_mods 2
    expect_stat 1 errors 0
    expect_table f1
    local meters
    meters=$(ofctl dump-meters br-cf | tr -s ' \n' ' ')
    check "meter 1 (meters: $meters)" grep -q \
        'meter=1 pktps burst bands= type=drop rate=100 burst_size=10' \
        <<<"$meters"
    check "meter 2 (meters: $meters)" grep -q \
        'meter=2 pktps burst bands= type=drop rate=5000 burst_size=500' \
        <<<"$meters"

    # A new connection (flowctl restarting): the adds find the meters,
    # which are modified, not deleted (that would delete their flows).
    drive --meter=1:200:20 --meter=2:5000:500 f1
    expect_step 1 "put 1 acked"
    expect_stat 1 meter_mods 4
    expect_stat 1 errors 0
    meters=$(ofctl dump-meters br-cf | tr -s ' \n' ' ')
    check "meter 1 modified (meters: $meters)" grep -q \
        'meter=1 pktps burst bands= type=drop rate=200 burst_size=20' \
        <<<"$meters"
    expect_table f1
}

# After the connection drops (here: the bridge is deleted and created
# again), the first put replaces all flows.
test_reconnect_replaces_flows() {
    flows f1 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x2,actions=drop
EOF
    flows f2 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x3,actions=LOCAL
EOF
    sb_cell "$OFCTRL_DRIVER" "unix:$SB/br-cf.mgmt" "$SB/f1" @reconnect \
        "$SB/f2" >"$SB/drive.out" 2>"$SB/drive.err" &
    local pid=$!
    echo "$pid" >> "$SB/pids.list"
    for _ in $(seq 100); do
        grep -q '^step 1:' "$SB/drive.out" && break
        sleep 0.1
    done
    expect_eq "$(grep '^step 1:' "$SB/drive.out" | sed 's/ (.*//')" \
        "step 1: put 1 acked" "step 1"
    expect_table f1

    vsctl del-br br-cf
    vsctl add-br br-cf -- set bridge br-cf datapath_type=netdev \
        fail-mode=secure
    local rc=0
    wait "$pid" || rc=$?
    OUT=$(cat "$SB/drive.out") ERR=$(cat "$SB/drive.err")
    hs_sanitizer_report ofctrl-driver "$ERR"
    expect_eq "$rc" 0 "exit code (stderr: $ERR)"
    expect_eq "$(grep '^step 2:' <<<"$OUT")" \
        "step 2: reconnected (needs put: yes)" "step 2"
    expect_step 3 "put 2 acked"
    expect_stat 3 connections 2
    expect_stat 3 replaces 2
    expect_table f2
}

# ---- The Geneve TLV mapping (ofctrl_set_tlv_map()) ----

# The mapping flowctl ensures: class 0xfff0, type 0x80, 4 bytes ->
# tun_metadata0 (lib/cfnet.h), as ofctrl-driver's option and as
# ovs-ofctl dump-tlv-map prints it.
TLV=--tlv=0xfff0:0x80:4:0
TLV_ROW='0xfff0 0x80 4 tun_metadata0'
TLV_SHOW='tlv map: class=0xfff0,type=0x80,len=4->tun_metadata0'

# A Geneve port, ofport 10, and flows that use tun_metadata0 as flowctl's
# overlay does: the sender's tag from reg8 into the option on the way out,
# and from the option into reg8 on the way in.  (The driver parses the
# flows without port names.)
geneve_setup() {
    vsctl add-port br-cf gnv0 -- set interface gnv0 type=geneve \
        options:remote_ip=flow options:key=flow ofport_request=10
    flows geneve <<'EOF2'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=set_field:0x2a->reg8,goto_table:1
table=0,priority=100,cookie=0x2,in_port=10,ip,actions=move:NXM_NX_TUN_METADATA0[0..31]->NXM_NX_REG8[],goto_table:2
table=1,priority=10,cookie=0x3,ip,nw_dst=10.0.0.0/8,actions=set_field:192.0.2.2->tun_dst,move:NXM_NX_REG8[]->NXM_NX_TUN_METADATA0[0..31],output:10
table=2,priority=1,cookie=0x4,actions=drop
EOF2
    # The same without tun_metadata0.
    grep -v TUN_METADATA "$SB/geneve" | flows plain
}

# The TLV table of br-cf as ovs-ofctl prints it.
tlv_map() { ofctl dump-tlv-map br-cf; }

# The rows of br-cf's TLV table ("class type length field"), spaces
# squeezed.
tlv_rows() { tlv_map | awk '/^ *0x/ { $1 = $1; print }'; }

# Without the mapping the switch refuses flows that use tun_metadata0 (so
# the tests below can fail); with --tlv, ofctrl adds the mapping on
# connection, before the first bundle, which the switch then accepts.
test_tlv_map_added_before_first_put() {
    geneve_setup
    # OVS warns about the action it rejects.
    SB_LOG_IGNORE='bad action at offset [0-9]+ \(NXFMFC_INVALID_TLV_FIELD\)'

    drive geneve
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 failed"
    expect_stat 1 tlv_mods 0
    check "the switch refused tun_metadata0" grep -q \
        'NXFMFC_INVALID_TLV_FIELD: add .*TUN_METADATA0' <<<"$ERR"
    expect_eq "$(tlv_rows)" "" "TLV table without --tlv"

    drive "$TLV" --show geneve
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 acked"
    expect_stat 1 tlv_mods 1
    expect_stat 1 replaces 1
    expect_stat 1 errors 0
    check "ofctrl/show says added (stdout: $OUT)" \
        grep -qxF "$TLV_SHOW (added)" <<<"$OUT"
    check "the addition is logged" grep -qF \
        'added TLV mapping class=0xfff0,type=0x80,len=4->tun_metadata0' \
        <<<"$ERR"
    expect_eq "$(tlv_rows)" "$TLV_ROW" "TLV table"
    expect_table geneve

    # The tag goes out in the option, and comes in from it.
    local trace
    trace=$(sb_cell ovs-appctl ofproto/trace br-cf \
            in_port=LOCAL,ip,nw_src=10.255.7.2,nw_dst=10.1.2.3)
    check "reg8 goes out in tun_metadata0 (trace: $trace)" \
        grep -q '^Final flow: .*tun_metadata0=0x2a' <<<"$trace"
    trace=$(sb_cell ovs-appctl ofproto/trace br-cf \
            in_port=gnv0,tun_src=192.0.2.2,tun_dst=192.0.2.1,tun_metadata0=0x2b,ip)
    check "tun_metadata0 comes in into reg8 (trace: $trace)" \
        grep -q '^Final flow: .*reg8=0x2b' <<<"$trace"
}

# A mapping already there (someone added it, or flowctl before a restart):
# ofctrl sends no mod.
test_tlv_map_present_is_left_alone() {
    geneve_setup
    ofctl add-tlv-map br-cf '{class=0xfff0,type=0x80,len=4}->tun_metadata0'
    drive "$TLV" --show geneve
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 acked"
    expect_stat 1 tlv_mods 0
    expect_stat 1 errors 0
    check "ofctrl/show says present (stdout: $OUT)" \
        grep -qxF "$TLV_SHOW (present)" <<<"$OUT"
    if grep -q '|ERR|' <<<"$ERR"; then
        echo "unexpected error logged: $ERR"
        return 1
    fi
    expect_eq "$(tlv_rows)" "$TLV_ROW" "TLV table"
    expect_table geneve
}

# tun_metadata0 taken by another option: ofctrl says so and carries on.
# The switch checks a flow's use of the field only against the mapping's
# length, so it accepts the flows (whose tag then travels in the other
# option).
test_tlv_map_field_taken_is_reported() {
    geneve_setup
    ofctl add-tlv-map br-cf '{class=0xffff,type=0x1,len=4}->tun_metadata0'
    drive "$TLV" --show geneve
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    check "the conflict is logged (stderr: $ERR)" grep -qF \
        '|ERR|unix:'"$SB"'/br-cf.mgmt: tun_metadata0 is mapped to class 0xffff type 0x1 len 4 by someone else (wanted: class=0xfff0,type=0x80,len=4->tun_metadata0); flows that carry the app tag will carry it in that option instead' \
        <<<"$ERR"
    check "ofctrl/show says conflict (stdout: $OUT)" grep -qF \
        "$TLV_SHOW (conflict: tun_metadata0 is mapped to class 0xffff" \
        <<<"$OUT"
    expect_stat 1 tlv_mods 0
    expect_step 1 "put 1 acked"
    expect_eq "$(tlv_rows)" "0xffff 0x1 4 tun_metadata0" "TLV table"
}

# Our option mapped to another field: ofctrl says so and carries on; the
# switch rejects the flows that use tun_metadata0, and ofctrl reports that.
test_tlv_map_option_elsewhere_is_reported() {
    geneve_setup
    SB_LOG_IGNORE='bad action at offset [0-9]+ \(NXFMFC_INVALID_TLV_FIELD\)'
    ofctl add-tlv-map br-cf '{class=0xfff0,type=0x80,len=4}->tun_metadata1'
    drive "$TLV" --show geneve
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    check "the conflict is logged (stderr: $ERR)" grep -qF \
        'class 0xfff0 type 0x80 is mapped to tun_metadata1 (len 4) by someone else (wanted: class=0xfff0,type=0x80,len=4->tun_metadata0); flows that carry the app tag will be rejected' \
        <<<"$ERR"
    expect_step 1 "put 1 failed"
    expect_stat 1 tlv_mods 0
    check "the rejected flow is reported" grep -q \
        'NXFMFC_INVALID_TLV_FIELD: add .*TUN_METADATA0' <<<"$ERR"
    check "ofctrl/show says conflict (stdout: $OUT)" grep -qF \
        "$TLV_SHOW (conflict: class 0xfff0 type 0x80 is mapped to tun_metadata1" \
        <<<"$OUT"
    expect_eq "$(tlv_rows)" "0xfff0 0x80 4 tun_metadata1" "TLV table"
}

# Stops the sandbox's ovs-vswitchd and starts it again: it comes back with
# the bridges and ports of the database, but no flows and no TLV mappings.
restart_vswitchd() {
    local pid
    pid=$(cat "$SB/ovs-vswitchd.pid")
    sb_cell ovs-appctl -t "$SB/ovs-vswitchd.$pid.ctl" exit
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    sb_cell ovs-vswitchd --detach --no-chdir --disable-system \
        --pidfile="$SB/ovs-vswitchd.pid" --log-file="$SB/ovs-vswitchd.log" \
        unix:"$DB_SOCK"
    cat "$SB/ovs-vswitchd.pid" >> "$SB/pids.list"
}

# drive_bg [--OPTION...] STEP...: drive in the background; drive_wait waits
# for it and sets OUT, ERR and RC as drive does.
drive_bg() {
    drive_argv "$@"
    sb_cell "${DRIVE_ARGV[@]}" >"$SB/drive.out" 2>"$SB/drive.err" &
    DRIVE_PID=$!
    echo "$DRIVE_PID" >> "$SB/pids.list"
}

# drive_wait_step N: waits until the background driver has printed step N.
drive_wait_step() {
    for _ in $(seq 100); do
        grep -q "^step $1:" "$SB/drive.out" && break
        sleep 0.1
    done
    OUT=$(cat "$SB/drive.out") ERR=$(cat "$SB/drive.err")
}

drive_wait() {
    RC=0
    wait "$DRIVE_PID" || RC=$?
    OUT=$(cat "$SB/drive.out") ERR=$(cat "$SB/drive.err")
    hs_sanitizer_report ofctrl-driver "$ERR"
}

# A restarted ovs-vswitchd has lost the mapping: ofctrl adds it again on
# the new connection, before the replacing bundle.
test_tlv_map_ensured_after_vswitchd_restart() {
    geneve_setup
    drive_bg "$TLV" geneve @reconnect geneve
    drive_wait_step 1
    expect_step 1 "put 1 acked"
    expect_stat 1 tlv_mods 1
    expect_eq "$(tlv_rows)" "$TLV_ROW" "TLV table"

    restart_vswitchd
    drive_wait
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_eq "$(grep '^step 2:' <<<"$OUT")" \
        "step 2: reconnected (needs put: yes)" "step 2"
    expect_stat 2 connections 2
    expect_stat 2 tlv_mods 2
    expect_step 3 "put 2 acked"
    expect_stat 3 replaces 2
    expect_stat 3 errors 0
    expect_eq "$(tlv_rows)" "$TLV_ROW" "TLV table after the restart"
    expect_table geneve
}

# A mapping deleted behind ofctrl's back (possible while no flow uses it)
# makes the next bundle fail; ofctrl then checks the mapping again, adds
# it, and the put after that succeeds.
test_tlv_map_ensured_after_failed_bundle() {
    geneve_setup
    SB_LOG_IGNORE='bad action at offset [0-9]+ \(NXFMFC_INVALID_TLV_FIELD\)'
    drive_bg "$TLV" plain "@wait=$SB/go" geneve geneve
    drive_wait_step 1
    expect_step 1 "put 1 acked"
    expect_stat 1 tlv_mods 1
    ofctl del-tlv-map br-cf
    expect_eq "$(tlv_rows)" "" "TLV table after del-tlv-map"
    touch "$SB/go"

    drive_wait
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 3 "put 2 failed"
    expect_step 4 "put 3 acked"
    expect_stat 4 tlv_mods 2
    expect_stat 4 connections 1
    expect_stat 4 commits 2
    expect_eq "$(tlv_rows)" "$TLV_ROW" "TLV table"
    expect_table geneve
}

# Another controller adds the mapping between ofctrl's table request and
# its mod (here: ovs-ofctl, while the driver leaves the reply unread): the
# mod fails with NXTTMFC_ALREADY_MAPPED, ofctrl requests the table again
# and finds the mapping.  The mapping is also set after connecting.
test_tlv_map_race_with_another_controller() {
    geneve_setup
    drive_bg --show plain "@tlv=0xfff0:0x80:4:0" "@wait=$SB/go" geneve
    drive_wait_step 2
    expect_eq "$(grep '^step 2:' <<<"$OUT")" "step 2: tlv map set" "step 2"
    expect_stat 2 tlv_mods 0
    ofctl add-tlv-map br-cf '{class=0xfff0,type=0x80,len=4}->tun_metadata0'
    touch "$SB/go"

    drive_wait
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    expect_step 1 "put 1 acked"
    expect_step 4 "put 2 acked"
    check "the race is logged (stderr: $ERR)" grep -qF \
        'raced with another controller adding a TLV mapping (NXTTMFC_ALREADY_MAPPED); requesting the TLV table again' \
        <<<"$ERR"
    expect_stat 4 tlv_mods 1
    # The lost race is not an error.
    expect_stat 4 errors 0
    check "ofctrl/show says present (stdout: $OUT)" \
        grep -qxF "$TLV_SHOW (present)" <<<"$OUT"
    expect_eq "$(tlv_rows)" "$TLV_ROW" "TLV table"
    expect_table geneve
}
