# System tests of flowctl's OpenFlow adapter (flowctl/ofctrl.c) at
# OpenFlow's message size limit, against a real ovs-vswitchd, with
# tests/ofctrl-driver as in tests/system/test-ofctrl.sh (whose header
# explains the driver): a flow whose flow_mod would exceed 65,535 bytes is
# refused (logged, counted, shown), never sent with a wrapped length, and a
# modify to such a flow deletes the flow it would have replaced.  Run by
# tests/system/run-file; each test_* function gets a fresh sandbox from
# lib.sh.

OFCTRL_DRIVER=$CFNET_OUT/tests/ofctrl-driver

ofctl() { sb_cell ovs-ofctl -O OpenFlow15 --names "$@"; }

# flows NAME: writes stdin, flows in ovs-ofctl syntax, to step file
# $SB/NAME.
flows() { cat > "$SB/$1"; }

# big_flow TABLE N: a conjunctive flow in TABLE with N conjunction()
# actions (16 bytes each), in ovs-ofctl syntax.
big_flow() {
    local acts
    acts=$(seq -f 'conjunction(%g,1/2)' 1 "$2" | paste -sd,)
    echo "table=$1,priority=10,cookie=0x5,ip,nw_dst=10.0.0.0/8,actions=$acts"
}

# drive STEP...: runs ofctrl-driver --show against br-cf with the given
# step files; OUT gets stdout, ERR stderr, RC the exit code.
drive() {
    local steps=() s
    for s in "$@"; do
        steps+=("$SB/$s")
    done
    hs_capture ofctrl-driver \
        sb_cell "$OFCTRL_DRIVER" --show "unix:$SB/br-cf.mgmt" "${steps[@]}"
}

# expect_table NAME: br-cf holds exactly the flows in step file NAME.
expect_table() {
    local diff
    if ! diff=$(ofctl diff-flows br-cf "$SB/$1" 2>&1); then
        echo "br-cf differs from $1 (- on the bridge, + in the file):"
        cut -c1-300 <<<"$diff"
        return 1
    fi
}

# Step 1 installs a small conjunctive flow.  Step 2 wants it with 4,095
# actions (a flow_mod of 65,608 bytes: the length would wrap to 72, a flow
# with no action at all; OVS's own parser takes no more actions than that)
# and adds another such flow and a small one: both large flows are
# refused, the one that would have been modified is deleted (the switch
# must not go on with the old rules), the small flow is added, and the put
# is acknowledged.  A flow that fits is installed whole.
test_flow_too_large_is_refused_not_wrapped() {
    flows f1 <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=1,priority=10,cookie=0x5,ip,nw_dst=10.0.0.0/8,actions=conjunction(1,1/2)
EOF
    {
        echo "table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1"
        big_flow 1 4095
        big_flow 2 4095
        echo "table=3,priority=1,cookie=0x3,actions=drop"
    } > "$SB/f2"
    flows f2-installed <<'EOF'
table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1
table=3,priority=1,cookie=0x3,actions=drop
EOF
    drive f1 f2
    expect_eq "$RC" 0 "exit code (stderr: $ERR)"
    check "step 2 acknowledged: $OUT" \
        grep -q '^step 2: put 2 acked' <<<"$OUT"
    expect_table f2-installed
    check "flows refused shown: $OUT" \
        grep -q '^flows refused: 2 (last: flow too large for OpenFlow (65[0-9]* bytes, at most 65519): table=[12], priority=10, cookie=0x5, ip,nw_dst=10.0.0.0/8 with 4095 actions)$' <<<"$OUT"
    check "refusal logged: $ERR" \
        grep -q 'ERR|.*refusing to install a flow: flow too large for OpenFlow' <<<"$ERR"

    # 4,000 actions fit (64,080 bytes) and are installed whole.  (Up to
    # 4,089 would fit, as test-flow-table.c checks; but ovs-ofctl could not
    # dump them: a flow statistics reply has a longer header.)
    local n=4000
    {
        echo "table=0,priority=100,cookie=0x1,in_port=LOCAL,ip,actions=goto_table:1"
        big_flow 1 $n
    } > "$SB/f3"
    drive f3
    expect_eq "$RC" 0 "exit code (stderr: $(cut -c1-300 <<<"$ERR"))"
    check "nothing refused" eval '! grep -q "^flows refused" <<<"$OUT"'
    expect_eq "$(ofctl --no-stats dump-flows br-cf table=1 \
                 | grep -o 'conjunction(' | wc -l)" "$n" \
        "conjunction actions installed"
    expect_table f3
}
