# System tests of what an operator does to a cell (docs/operations.md), on
# cell-sim (scripts/cell-sim, docs/cell-sim.md): restarting and upgrading
# flowctl with `cell-sim flowctl restart`, the same steps the BOSH job
# takes, under traffic; flowctl's refusal to start on an underlay whose
# MTU leaves containers too little; and the metrics an operator scrapes.  Each test brings up its own sim;
# tests/system/flowctl/simlib.sh has the helpers.  Run by
# tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# `cell-sim flowctl restart`, twice, the second time an upgrade (a flowctl
# binary from another directory), under a steady ping (20 a second) and a
# long TCP connection (an echo every 100 ms): no packet lost, the
# connection never fails, the same flows afterwards; new connections are
# admitted and refused as before.
test_flowctl_restart_command_under_traffic() {
    sim_up
    serve ext 80,7000
    sim push a --netout "[$ICMP_ECHO_100,
        $(tcp_rule 10.0.0.100 10.0.0.100 7000),
        $(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    wait_until 5 "flowctl in sync" flowctl_synced
    local before n_before ping_pid stream_pid slog plog pid0 pid1 pid2
    before=$(flows_snapshot)
    n_before=$(show_value "installed flows")
    pid0=$(cat "$FC_CELL/flowctl.pid")

    # 240 pings in 12 s; a line every 100 ms for 14 s.
    ping_pid=$(sim bg a ping -n -i 0.05 -c 240 -W 1 10.0.0.100 | tail -1)
    plog=$FC_STATE/logs/bg.$ping_pid.log
    stream_pid=$(sim bg a "$FC_PY" "$FC_PROBE" stream 10.0.0.100 7000 \
                 --interval 0.1 --duration 14 | tail -1)
    slog=$FC_STATE/logs/bg.$stream_pid.log
    wait_until 5 "10 echoes on the long connection" \
        eval "[ \$(grep -c '^echo ' '$slog') -ge 10 ]"

    # 1. A restart.
    sim flowctl restart
    pid1=$(cat "$FC_CELL/flowctl.pid")
    [ "$pid1" != "$pid0" ] && pid_alive "$pid1" && ! pid_alive "$pid0" \
        || fail "flowctl was not restarted (pids $pid0, then $pid1)"
    grep -q "^$pid1 .* cell1-flowctl$" "$FC_STATE/pids.list" \
        || fail "the new flowctl ($pid1) is not recorded for \`down\`"
    flowctl_synced || fail "restart returned before the flows were in"

    # 2. An upgrade: another build (here a copy with bytes appended, which
    # an ELF file ignores), installed into the cell's packages/flowctl as
    # BOSH installs a new package, then started.
    local pkg=$FC_CELL/vcap/packages/flowctl/bin/flowctl
    mkdir "$FC_TMP/new-bin"
    cp "$CELL_SIM_BIN/cni-ovs" "$FC_TMP/new-bin/"
    { cat "$CELL_SIM_BIN/flowctl"; echo "another build"; } \
        > "$FC_TMP/new-bin/flowctl"
    chmod 755 "$FC_TMP/new-bin/flowctl"
    ! cmp -s "$pkg" "$FC_TMP/new-bin/flowctl" \
        || fail "the cell's package already holds the new build"
    CELL_SIM_BIN=$FC_TMP/new-bin sim flowctl restart
    pid2=$(cat "$FC_CELL/flowctl.pid")
    cmp -s "$pkg" "$FC_TMP/new-bin/flowctl" \
        || fail "the new build was not installed as $pkg"
    # The same file (device and inode): the path /proc shows depends on the
    # reader's mount namespace (scripts/check-fresh-build runs in its own).
    [ "/proc/$pid2/exe" -ef "$pkg" ] \
        || fail "the running flowctl is $(readlink "/proc/$pid2/exe"), not the package's $pkg"
    local t_done
    t_done=$(date +%s.%N)

    # The traffic went on, through both restarts.
    pid_alive "$ping_pid" || fail "the ping ended before the restarts did"
    pid_alive "$stream_pid" \
        || fail "the long connection ended early: $(tail -2 "$slog")"
    wait_until 16 "the ping to end" eval "! pid_alive $ping_pid"
    wait_until 16 "the long connection to end" eval "! pid_alive $stream_pid"
    tail -2 "$plog"
    grep -q '^240 packets transmitted, 240 received,' "$plog" \
        || fail "packets lost across the restarts: $(tail -2 "$plog")"
    ! grep -q '^error ' "$slog" \
        || fail "the long connection failed: $(grep '^error ' "$slog")"
    grep -q '^done ' "$slog" \
        || fail "the long connection did not run its course: $(tail -2 "$slog")"
    awk -v t="$t_done" '/^echo / && $3 > t { n++ } END { exit !(n >= 5) }' \
        "$slog" || fail "fewer than 5 echoes after the restarts"

    expect_flows_unchanged "$before" "$n_before" "after the restarts"
    expect a connected tcp 10.0.0.100 80
    expect a refused tcp 10.0.0.101 80
}

# `cell-sim flowctl stop` leaves the flows (traffic goes on); `start`
# brings flowctl back; a container pushed in between gets its flows once
# it is back (cni-ovs waits for cf-installed).
test_flowctl_stop_and_start() {
    sim_up
    serve ext 80
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    local pid n out
    pid=$(cat "$FC_CELL/flowctl.pid")
    n=$(ofctl dump-flows br-cf | grep -c cookie=)

    sim flowctl stop
    ! pid_alive "$pid" || fail "flowctl ($pid) still runs after stop"
    expect_equal "$(ofctl dump-flows br-cf | grep -c cookie=)" "$n" \
        "flows in br-cf with flowctl stopped"
    expect a connected tcp 10.0.0.100 80
    out=$(sim flowctl stop 2>&1)
    grep -q 'flowctl is not running' <<<"$out" \
        || fail "a second stop should say flowctl is not running: $out"

    sim push late --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]" \
        > "$FC_TMP/push-late.out" 2>&1 &
    local push_pid=$! rc=0
    remember_pid "$push_pid"
    wait_until 10 "cni-ovs to add the port of 'late'" \
        eval "[ -n \"\$(cvsctl --bare --columns=name find interface \
            external_ids:cf-handle=cs-$FC_NAME-late)\" ]"
    sim flowctl start
    wait "$push_pid" || rc=$?
    [ $rc -eq 0 ] || fail "push while flowctl was stopped: exit $rc:
$(cat "$FC_TMP/push-late.out")"
    expect late connected tcp 10.0.0.100 80
    out=$(sim flowctl start 2>&1) && fail "a second start succeeded: $out"
    grep -q 'flowctl is running' <<<"$out" \
        || fail "a second start should say flowctl is running: $out"
}

# expect_start_refused CONFIG WHAT MESSAGE: a second flowctl started on the
# cell with CONFIG exits at once (with the timeout, one that accepted it
# would run in the foreground), not 0, printing exactly MESSAGE; WHAT names
# the failure otherwise.
expect_start_refused() {
    local out rc=0
    out=$(sim cell timeout 5 "$CELL_SIM_BIN/flowctl" --config "$1" \
              --pidfile="$FC_TMP/refused.pid" 2>&1) || rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "$2 (exit $rc)"
    expect_equal "$out" "$3" "flowctl's refusal"
}

# flowctl refuses, at start, an underlay interface whose MTU leaves less
# than 576 bytes for containers, naming the interface, its MTU and the
# limit; it used to start and publish the difference (wrapped around below
# 58).
test_flowctl_refuses_small_underlay_mtu() {
    sim_up
    sim cell ip link add small0 mtu 600 type veth peer name small1 mtu 600
    jq '. + {underlay_interface: "small0"}' "$FC_CELL/flowctl.json" \
        > "$FC_TMP/small.json"
    expect_start_refused "$FC_TMP/small.json" \
        "flowctl started over an underlay of MTU 600" \
        "flowctl: underlay_interface small0 has MTU 600; the container MTU would be 542 (600 minus the 58-byte tunnel overhead), below the minimum 576: the underlay needs an MTU of at least 634"

    # 634 is enough (checked without disturbing the running flowctl: the
    # config's mtu above the limit is refused next, which proves the
    # underlay passed).
    sim cell ip link set small0 mtu 634
    jq '. + {underlay_interface: "small0", mtu: 577}' \
        "$FC_CELL/flowctl.json" > "$FC_TMP/small.json"
    expect_start_refused "$FC_TMP/small.json" \
        "flowctl started with mtu 577 over MTU 634" \
        "flowctl: mtu: 577 is more than small0 (MTU 634) can carry with the 58-byte tunnel overhead (at most 576)"
}

# metric NAME: the value of metric NAME (with its labels, if any) in the
# cell's metrics, as its metrics agent scrapes them (the flowctl job's
# metrics_address, 127.0.0.1:9108, in the cell's namespace).
metric() {
    sim cell curl -sf --max-time 5 http://127.0.0.1:9108/metrics \
        | awk -v n="$1" '$1 == n { print $2 }'
}

# The metrics follow the cell: a container's arrival shows in the count
# and in the install latency histogram (one observation, under
# install_timeout), the desired flows are flowctl/show's, and a refused
# connection counts as a TCP reset.
test_metrics_follow_the_cell() {
    sim_up
    expect_equal "$(metric flowctl_ready)" 1 "flowctl_ready"
    expect_equal "$(metric flowctl_containers)" 0 "containers before a push"
    expect_equal "$(metric flowctl_install_latency_seconds_count)" 0 \
        "install latencies before a push"

    sim push a
    wait_until 5 "the metrics to count a's container" \
        eval '[ "$(metric flowctl_containers)" = 1 ]'
    wait_until 5 "the install latency of a's container" \
        eval '[ "$(metric flowctl_install_latency_seconds_count)" = 1 ]'
    local sum
    sum=$(metric flowctl_install_latency_seconds_sum)
    awk -v s="$sum" 'BEGIN { exit !(s >= 0 && s < 10) }' \
        || fail "install latency $sum s is not within install_timeout"
    expect_equal "$(metric 'flowctl_install_latency_seconds_bucket{le="10"}')" \
        1 "the 10 s bucket"
    local flows
    flows=$(fcctl flowctl/show | sed -n 's/^desired flows: \([0-9]*\),.*/\1/p')
    expect_equal "$(metric flowctl_desired_flows)" "$flows" \
        "desired flows (flowctl/show says $flows)"

    local resets
    resets=$(metric 'flowctl_rejects_total{kind="tcp_reset"}')
    expect a refused tcp 10.0.0.100 80
    wait_until 5 "a TCP reset to be counted" \
        eval '[ "$(metric '"'"'flowctl_rejects_total{kind="tcp_reset"}'"'"')" -gt "$resets" ]'
}
