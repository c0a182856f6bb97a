# System tests of flowctl's main loop on cell-sim (scripts/cell-sim,
# docs/cell-sim.md): it never waits for a host command.  hostnet's iptables
# commands run in the background (flowctl/hostnet.h), so while another
# process holds the xtables lock, flowctl still answers ovs-appctl, still
# installs flows and still refuses a denied connection at once; it applies
# the host side when the lock is released.
#
# The xtables lock is machine-wide (/run/xtables.lock).  So as not to stall
# anyone else's iptables, these tests give the sim their own: PATH starts
# with a directory where iptables, iptables-save and iptables-restore are
# iptables-legacy's (the nf_tables variants take no lock) and
# XTABLES_LOCKFILE names a file of the test's.  cell-sim and flowctl
# inherit both.  Run by tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# How long the test holds the lock, in seconds.
LOOP_HOLD=12

# The test's own xtables lock and legacy iptables, for the sim and flowctl.
private_xtables() {
    local cmd
    mkdir "$FC_TMP/bin"
    for cmd in iptables iptables-save iptables-restore; do
        ln -s "/usr/sbin/${cmd/iptables/iptables-legacy}" "$FC_TMP/bin/$cmd"
    done
    export PATH="$FC_TMP/bin:$PATH"
    export XTABLES_LOCKFILE=$FC_TMP/xtables.lock
    : > "$XTABLES_LOCKFILE"
}

# hold_xtables_lock SECS: another process holds the lock for SECS seconds;
# prints its pid once the lock is held.
hold_xtables_lock() {
    local pid
    pid=$(sim bg cell flock "$XTABLES_LOCKFILE" sleep "$1" | tail -1)
    wait_until 5 "the xtables lock held" \
        eval "! flock -n '$XTABLES_LOCKFILE' true"
    echo "$pid"
}

# The NetIn DNAT rule that flowctl sets up in nat PREROUTING.
# (iptables-save takes no lock.)
netin_rule_present() {
    sim cell iptables-save -t nat | grep -q -- '^-A PREROUTING .*cni-ovs-netin'
}

# flowctl starts while another process holds the xtables lock: ovs-appctl
# flowctl/show answers at once and tells that iptables waits, flows are
# installed, a denied connection is refused at once and an allowed one
# connects; the wait is logged once; when the lock is released, the host
# side is applied.
test_xtables_lock_does_not_stall_flowctl() {
    FC_LOG_IGNORE='iptables-restore has been running for 5 s'
    private_xtables
    sim_up
    serve ext 80
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    wait_until 10 "host side applied" netin_rule_present

    # flowctl stops; its NetIn rule goes; flowctl starts while the lock is
    # held, on a switch that keeps the earlier run's flows.  (The
    # masquerading stays: the allowed connection below needs it.)
    local pid
    pid=$(cat "$FC_CELL/flowctl.pid")
    fcctl exit
    wait_until 5 "flowctl gone" eval "! pid_alive $pid"
    sim cell iptables -w -t nat -D PREROUTING -i ul0 -d 10.0.0.11/32 -p tcp \
        -m tcp --dport 61000:65535 -m comment --comment cni-ovs-netin \
        -j DNAT --to-destination 169.254.0.1
    local holder start
    holder=$(hold_xtables_lock "$LOOP_HOLD")
    start=$(date +%s)
    flowctl_start

    # While the lock is held.
    local out t0 ms
    t0=$(date +%s%N)
    out=$(timeout 3 "$FC_SIM" --name "$FC_NAME" cell ovs-appctl \
              --timeout=2 -t "$(flowctl_ctl)" flowctl/show 2>&1) \
        || fail "flowctl/show did not answer while the lock was held:
$out"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$ms" -lt 1000 ] || fail "flowctl/show took ${ms} ms"
    grep -q '^host side: .*iptables-restore running' <<<"$out" \
        || fail "flowctl/show should tell that iptables-restore runs:
$(grep '^host side' <<<"$out")"
    echo "ok: flowctl/show answered in ${ms} ms: $(grep '^host side' <<<"$out")"
    wait_until 5 "flowctl synced" flowctl_synced
    expect a refused tcp 10.0.0.101 80
    expect a connected tcp 10.0.0.100 80
    ! netin_rule_present || fail "the NetIn rule is back while the lock is held"
    wait_until 8 "the slow iptables-restore logged" \
        grep -q 'iptables-restore has been running for 5 s' \
        "$FC_CELL/flowctl.log"
    fcctl flowctl/show > /dev/null || fail "flowctl/show failed"
    [ $(($(date +%s) - start)) -lt "$LOOP_HOLD" ] \
        || fail "the checks took longer than the lock was held"

    # Released: the host side is applied.
    sim kill "$holder"
    wait_until 10 "the NetIn rule back" netin_rule_present
    sim cell iptables-save -t filter | grep -q -- '^-A INPUT .*-j cni-ovs-input' \
        || fail "no INPUT rule for cni-ovs-input"
    wait_until 5 "flowctl/show: host side applied" \
        eval "show_value 'host side' | grep -q '^applied'"
    expect_equal "$(grep -c 'iptables-restore has been running' \
                    "$FC_CELL/flowctl.log")" 1 "slow-command log lines"
    expect a connected tcp 10.0.0.100 80
}

# An application that fails is tried again: iptables-restore fails twice
# (a wrapper in PATH), the failures are logged with iptables' words, and
# the third try applies the host side; flowctl answers all along.
test_failed_host_setup_is_retried() {
    FC_LOG_IGNORE='host setup: iptables-restore: exit status 1: simulated failure'
    private_xtables
    rm "$FC_TMP/bin/iptables-restore"
    cat > "$FC_TMP/bin/iptables-restore" <<EOF
#!/bin/sh
n=\$(cat "$FC_TMP/restores" 2>/dev/null || echo 0)
echo \$((n + 1)) > "$FC_TMP/restores"
if [ "\$n" -lt 2 ]; then
    echo "simulated failure" >&2
    exit 1
fi
exec /usr/sbin/iptables-legacy-restore "\$@"
EOF
    chmod +x "$FC_TMP/bin/iptables-restore"
    sim_up
    wait_until 15 "the host side applied" netin_rule_present
    wait_until 5 "flowctl/show: host side applied" \
        eval "show_value 'host side' | grep -q '^applied'"
    expect_equal "$(cat "$FC_TMP/restores")" 3 "iptables-restore runs"
    local logged='host setup: iptables-restore: exit status 1: simulated'
    logged="$logged failure (retrying in 2 s)"
    expect_equal "$(grep -cF "$logged" "$FC_CELL/flowctl.log")" 2 \
        "logged failures"
}
