# Helpers for the system tests that run on cell-sim (scripts/cell-sim):
# tests/system/test-flowctl.sh (one cell), test-overlay.sh (a cluster),
# test-c2c-policy.sh, test-policy-server.sh and others.  Sourced by them; each test gets its own sim under a name unique to the
# test (file_setup), which file_teardown removes with `cell-sim down`, pass
# or fail.  Functions that take no cell number act on cell 1.
# Processes, waits, names and failures go through scripts/lib/harness.sh
# (sourced by lib.sh), and flowctl is started by cell-sim's own code.

FC_SIM=$SB_TOP/scripts/cell-sim
FC_PROBE=$SB_TOP/tests/system/flowctl/probe.py
FC_PY=/usr/bin/python3
FC_TIMEOUT=2            # seconds a probe waits before calling it a timeout

# NetOut rules in Garden's shape (configuration.md, "What Garden adds").
# tcp_rule START END PORT_START [PORT_END]
tcp_rule() {
    printf '{"protocol":1,"networks":[{"start":"%s","end":"%s"}],"ports":[{"start":%d,"end":%d}]}' \
        "$1" "$2" "$3" "${4:-$3}"
}
ALLOW_ALL='[{"networks":[{"start":"0.0.0.0","end":"255.255.255.255"}]}]'
ICMP_ECHO_100='{"protocol":3,"networks":[{"start":"10.0.0.100","end":"10.0.0.100"}],"icmps":{"type":8,"code":0}}'

# ---------------------------------------------------------------------------
# Setup, teardown, logs

file_setup() {
    # Every test has its own sim.
    hs_run_prefix FC_NAME fc
    FC_STATE=/tmp/cell-sim-$FC_NAME
    FC_CELL=$FC_STATE/cell1
    FC_UP=0
    FC_LOG_IGNORE=''
    FC_TMP=$(mktemp -d /tmp/fc-test.XXXXXX)
    : > "$FC_TMP/pids.list"
    HS_FAILURES=$FC_TMP/failures
    : > "$HS_FAILURES"
    unset CELL_SIM_STATE CELL_SIM_NO_POLICY_SERVER
    export CELL_SIM_NAME=$FC_NAME
    export CELL_SIM_BIN=$CFNET_OUT/bin
}

# sim_up [--asg-syncing] [cell-sim up OPTIONS]: the test's sim.  Its
# flowctls use the containers' Garden netOutRules (push --asg/--netout),
# as most tests want, unless --asg-syncing asks for the security groups of
# the policy server stand-in (flowctl's default, enable_asg_syncing).
sim_up() {
    FC_UP=1
    local sync=(--no-asg-syncing)
    if [ "${1:-}" = --asg-syncing ]; then
        sync=()
        shift
    fi
    sim up "${sync[@]}" "$@"
}

file_teardown() {
    local rc=$?
    trap - EXIT
    set +eE
    if [ $rc -ne 0 ] && [ "$FC_UP" = 1 ]; then
        fc_dump_state
        if [ "${CFNET_KEEP:-0}" = 1 ]; then
            fc_dump_full > "/tmp/fc-failed-$FC_NAME.txt" 2>&1
            echo "full dump in /tmp/fc-failed-$FC_NAME.txt"
        fi
    fi
    # What the test started itself (not through cell-sim), by pid.
    hs_stop_recorded "$FC_TMP/pids.list"
    if [ "$FC_UP" = 1 ]; then
        "$FC_SIM" --name "$FC_NAME" down >/dev/null 2>&1 \
            || echo "cell-sim down failed"
    fi
    # Last, so that the runner's tail shows it.
    hs_report_failures "$rc"
    rm -rf "$FC_TMP"
    exit $rc
}

# A short dump (the runner shows the last 60 lines of a failed test).
fc_dump_state() {
    echo "---- state at failure (sim $FC_NAME) ----"
    if [ -f "$FC_CELL/flowctl.pid" ]; then
        fcctl flowctl/show 2>&1 | sed -n '1,/^desired flows/p;/^state:/p;
            /^installed flows/p;/seqno/p;/^connection/p' | head -16
    else
        echo "(flowctl is not running)"
    fi
    echo "---- egress/ingress flows ----"
    ofctl --no-stats dump-flows br-cf --names 2>&1 \
        | grep -E 'table=(egress|ingress)|ofctl' | head -14
    echo "---- flowctl.log: warnings and last lines ----"
    grep -E '\|(WARN|ERR|EMER)\|' "$FC_CELL/flowctl.log" 2>/dev/null | tail -4
    tail -4 "$FC_CELL/flowctl.log" 2>/dev/null
    if [ -f "$FC_STATE/ps/policy-server.log" ]; then
        echo "---- policy-server.log (tail) ----"
        tail -8 "$FC_STATE/ps/policy-server.log"
    fi
    if grep -q . "$FC_STATE/ps/policy-server.stderr" 2>/dev/null; then
        echo "---- policy-server.stderr (tail) ----"
        tail -8 "$FC_STATE/ps/policy-server.stderr"
    fi
}

fc_dump_full() {
    sim status
    ofctl dump-flows br-cf --names
    sim cell ovs-appctl dpctl/dump-conntrack zone=1
    local f
    for f in "$FC_CELL"/*.log "$FC_STATE"/logs/bg.*.log; do
        echo "---- $f ----"
        cat "$f"
    done
}

# Fails unless every running flowctl's incremental flows are what a full
# recompute makes of its model (flowctl/recompute compares them: pipeline.h),
# after whatever the test did.
check_incremental() {
    local d i out
    for d in "$FC_STATE"/cell*; do
        [ -f "$d/flowctl.pid" ] || continue
        kill -0 "$(cat "$d/flowctl.pid")" 2>/dev/null || continue
        i=${d##*/cell}
        out=$(fcctl_on "$i" flowctl/recompute) \
            || fail "cell $i: flowctl/recompute failed: $out"
        case $out in
            *"the same as the incremental ones"*|"nothing to compute yet"*) ;;
            *) fail "cell $i: $out" ;;
        esac
    done
}

# Fails on warnings and errors in the cell's daemon logs that the test did
# not expect (FC_LOG_IGNORE: an extended regex the test may set), and if
# the policy server's stand-in hit an internal error or wrote to its
# stderr (a Python traceback): whatever a test asks of it, it answers.
# Then checks the incremental flows (check_incremental).
file_check_logs() {
    [ "$FC_UP" = 1 ] || return 0
    check_incremental
    local ps=$FC_STATE/ps
    if grep -n 'internal error' "$ps/policy-server.log" 2>/dev/null; then
        fail "the policy server logged an internal error"
    fi
    if grep -q . "$ps/policy-server.stderr" 2>/dev/null; then
        cat "$ps/policy-server.stderr"
        fail "the policy server wrote to its stderr"
    fi
    # ovs-vsctl, cni-ovs and ovs-appctl are short-lived clients: the
    # servers may notice one leaving (HS_LOG_IGNORE_CLIENTS).
    local bad
    bad=$(hs_log_warnings "$FC_LOG_IGNORE" \
              "$FC_STATE"/cell*/ovsdb-server.log \
              "$FC_STATE"/cell*/ovs-vswitchd.log "$FC_STATE"/cell*/flowctl.log)
    if [ -n "$bad" ]; then
        fail "unexpected warnings in the cell's daemon logs:
$bad"
    fi
}

# fail MESSAGE (harness.sh): reports MESSAGE (again at the end of a failed
# test's output) and returns 1, which ends the test.

expect_equal() {
    [ "$1" = "$2" ] || fail "expected $3 to be '$2', got '$1'"
}

# ---------------------------------------------------------------------------
# The sim

sim() { "$FC_SIM" --name "$FC_NAME" "$@"; }

# on WHERE CMD...: CMD on the external host, the router, the cell, or in an
# app's container.
on() {
    local where=$1
    shift
    case $where in
        ext|router|cell) sim "$where" "$@" ;;
        *) sim exec "$where" "$@" ;;
    esac
}

ofctl() { sim cell ovs-ofctl -O OpenFlow15 "$@"; }
# The same for cell I: ofctl_on I ARGS..., cvsctl_on I ARGS..., fcctl_on I
# COMMAND...
ofctl_on() { local i=$1; shift; sim cell --cell "$i" ovs-ofctl -O OpenFlow15 "$@"; }
cvsctl_on() { local i=$1; shift; sim cell --cell "$i" ovs-vsctl --timeout=10 "$@"; }
fcctl_on() {
    local i=$1 d=$FC_STATE/cell$1
    shift
    sim cell --cell "$i" ovs-appctl -t "$d/flowctl.$(cat "$d/flowctl.pid").ctl" "$@"
}
cvsctl() { sim cell ovs-vsctl --timeout=10 "$@"; }
flowctl_ctl() { echo "$FC_CELL/flowctl.$(cat "$FC_CELL/flowctl.pid").ctl"; }
fcctl() { sim cell ovs-appctl -t "$(flowctl_ctl)" "$@"; }

# serve WHERE PORT[,PORT...] [--udp] [--bind IP]: probe.py's server in the
# background (recorded by cell-sim, so `down` stops it); waits until the
# first port listens.  Prints the pid.
serve() {
    local where=$1 ports=$2 proto=tcp bind=0.0.0.0 udp=()
    shift 2
    while [ $# -gt 0 ]; do
        case $1 in
            --udp) proto=udp; udp=(--udp) ;;
            --bind) bind=$2; shift ;;
        esac
        shift
    done
    sim bg --listen "$proto:$bind:${ports%%,*}" "$where" \
        "$FC_PY" "$FC_PROBE" server --port "$ports" --bind "$bind" \
        "${udp[@]}" | tail -1
}

handle_of() { cat "$FC_STATE/apps/$1/handle"; }

# The host end of APP's veth (host_ifname, harness.sh).
ifname_of() { host_ifname "$(handle_of "$1")"; }

# pid_start PID, pid_alive PID: harness.sh.

# remember_pid PID: a process the test started itself; teardown stops it.
remember_pid() { hs_record_pid "$FC_TMP/pids.list" "$1" test; }

# record_daemon NAME [I]: a daemon of cell I (default 1) that the test
# (re)started, recorded the way cell-sim records its own so that `down`
# stops it.
record_daemon() {
    local i=${2:-1}
    hs_record_pid "$FC_STATE/pids.list" \
        "$(cat "$FC_STATE/cell$i/$1.pid")" "cell$i-$1"
}

# flowctl_start [I]: flowctl of cell I (default 1), started by cell-sim's
# own start (`cell-sim flowctl start`, the code `up` uses), without waiting
# for its flows: the tests wait for what they expect (flowctl_synced), and
# some start it while its flows cannot arrive (every cfnet-db member down).
flowctl_start() {
    sim flowctl --cell "${1:-1}" start --no-wait \
        || fail "cell ${1:-1}: cell-sim flowctl start failed"
}

# ovs-vswitchd of cell 1, started as cell-sim's `up` starts it
# (hs_vswitchd_start).
vswitchd_start() {
    local ns
    ns=$(sim env | sed -n 's/^export CELL_SIM_CELL_NS=//p')
    hs_vswitchd_start "$ns" "$FC_CELL"
    record_daemon ovs-vswitchd
}

# ovsdb-server of cell 1, started again on its database (hs_ovsdb_run).
ovsdb_server_start() {
    local ns
    ns=$(sim env | sed -n 's/^export CELL_SIM_CELL_NS=//p')
    hs_ovsdb_run "$ns" "$FC_CELL"
    record_daemon ovsdb-server
}

# kill_daemon NAME SIGNAL: signals cell 1's daemon NAME and waits until it
# is gone.
kill_daemon() {
    local pid
    pid=$(cat "$FC_CELL/$1.pid")
    kill "-$2" "$pid"
    wait_until 5 "$1 ($pid) gone after SIG$2" eval "! pid_alive $pid"
}

# wait_until SECS WHAT CMD...: polls CMD (every 50 ms) until it succeeds;
# fails the test naming WHAT after SECS seconds.
wait_until() {
    local secs=$1 what=$2
    shift 2
    HS_POLL=0.05 hs_wait "$secs" "$@" \
        || fail "timed out after ${secs}s waiting for: $what"
}

# flowctl is connected and OVS has acknowledged everything it put.
flowctl_synced() { hs_flowctl_synced "$(flowctl_ctl)"; }

# The flow table as an operator dumps it, without counters, sorted.
flows_snapshot() {
    ofctl --no-stats dump-flows br-cf | sort
}

# expect_flows_unchanged BEFORE N WHEN: the bridge's flows are BEFORE (a
# flows_snapshot) and flowctl/show counts N installed flows, WHEN (e.g.
# "after the restart").
expect_flows_unchanged() {
    local after
    after=$(flows_snapshot)
    [ "$after" = "$1" ] \
        || fail "the flows differ $3:
$(diff <(echo "$1") <(echo "$after"))"
    expect_equal "$(show_value "installed flows")" "$2" "installed flows $3"
}

show_value() {
    fcctl flowctl/show | sed -n "s/^$1: //p"
}

# ---------------------------------------------------------------------------
# Traffic

# expect WHERE OUTCOME PROBE-ARGS...: runs probe.py PROBE-ARGS at WHERE and
# asserts its outcome (probe.py's docstring lists them).  "refused" must be
# fast (< 1 s), "timeout" must have taken the whole timeout.  PROBE_DETAIL
# gets the rest of the probe's line (e.g. "peer 10.0.0.11 40312").
expect() {
    local where=$1 want=$2
    shift 2
    local out got secs
    out=$(on "$where" "$FC_PY" "$FC_PROBE" "$@" --timeout "$FC_TIMEOUT")
    read -r got secs PROBE_DETAIL <<<"$out"
    [ "$got" = "$want" ] \
        || fail "$where: $*: expected $want, got: $out"
    case $want in
        refused)
            awk -v s="$secs" 'BEGIN { exit !(s < 1.0) }' \
                || fail "$where: $*: refused, but only after ${secs}s" ;;
        timeout)
            awk -v s="$secs" -v t="$FC_TIMEOUT" \
                'BEGIN { exit !(s >= t * 0.95) }' \
                || fail "$where: $*: timeout after only ${secs}s" ;;
    esac
    echo "ok: $where: $*: $out"
}

# probe_is APP OUTCOME PROTO DST PORT: does a probe from APP end in OUTCOME?
probe_is() {
    on "$1" "$FC_PY" "$FC_PROBE" "$3" "$4" "$5" --timeout 1 \
        | grep -q "^$2 "
}

# expect_ping_ok APP DEST / expect_ping_unreachable APP DEST
expect_ping_ok() {
    local out
    out=$(on "$1" ping -n -c1 -W2 "$2" 2>&1) || true
    grep -q ' 1 received' <<<"$out" \
        || fail "$1: ping $2 should be answered:
$out"
    echo "ok: $1: ping $2 answered"
}

expect_ping_unreachable() {
    local out
    out=$(on "$1" ping -n -c1 -W2 "$2" 2>&1) || true
    grep -q "From $2 icmp_seq=1 Destination Port Unreachable" <<<"$out" \
        || fail "$1: ping $2 should get Destination Port Unreachable:
$out"
    echo "ok: $1: ping $2: Destination Port Unreachable"
}

# ---------------------------------------------------------------------------
# Policies

# tag_of CELL APP: the tag APP's classify flow loads into reg8 (decimal).
tag_of() {
    local port hex
    port=$(cvsctl_on "$1" get interface "$(ifname_of "$2")" ofport)
    hex=$(ofctl_on "$1" --no-stats dump-flows br-cf "table=0,in_port=$port" \
          | grep -oE '(load|set_field):(0x[0-9a-f]*|0)->(NXM_NX_REG8\[\]|reg8)' \
          | head -1 | sed -E 's/.*:((0x)?[0-9a-f]*)->.*/\1/')
    [ -n "$hex" ] || fail "no tag in $2's classify flow"
    echo $((hex))
}

# server_tag APP: APP's tag at the policy server (decimal), from
# `cell-sim policy list` ("SRC (TAG) -> DST (TAG) PROTO A-B").
server_tag() {
    local t
    t=$(sim policy list | sed -nE "s/^$1 \(([0-9A-F]+)\) .*/\1/p;
                                   s/.* -> $1 \(([0-9A-F]+)\) .*/\1/p" \
        | head -1)
    [ -n "$t" ] || fail "no tag for $1 at the policy server"
    echo $((16#$t))
}
