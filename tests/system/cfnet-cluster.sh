# The sandbox of the system tests that run a cfnet-db cluster
# (scripts/cfnet-db): tests/system/test-cfnet-db.sh and test-directory.sh.
# Sourced by them, after lib.sh.
#
# A three-member Raft cluster, one member per network namespace, the
# namespaces joined by a Linux bridge in a namespace of its own; a test
# file may ask for a "client" namespace (c) on the same bridge.  Addresses
# are from TEST-NET-1 (192.0.2.0/24) and exist only inside those
# namespaces: nothing touches the host's network.
#
# Every namespace and every ovsdb-server is recorded by name or pid (with
# scripts/lib/harness.sh's helpers, which lib.sh sources) and removed when
# the test ends, pass or fail.  A test file's hooks use:
#   file_setup:       cl_sandbox PREFIX TMPNAME, then cl_network MEMBER...
#   file_teardown:    cl_teardown $? [DUMP_FN [STOP_FN]]
#   file_check_logs:  cl_check_logs EXTRA_IGNORE WHAT LOG...

CL_SCRIPT=$SB_TOP/scripts/cfnet-db
CL_NET=192.0.2
CL_RAFT_PORT=6641       # Raft (server-to-server)
CL_CLIENT_PORT=6640     # clients (ptcp remote)
CL_TIMEOUT=30           # seconds cl_wait waits
CL_POLL_DS=2            # tenths of a second between cl_wait's tries

# ---------------------------------------------------------------------------
# Setup, teardown, logs

# cl_sandbox PREFIX TMPNAME: the test's names start with PREFIX followed by
# the test's own subshell's pid ($BASHPID, so names are unique per test);
# its files are in a new /tmp/TMPNAME.XXXXXX (CL_TMP).
cl_sandbox() {
    hs_run_prefix CL_PFX "$1" -
    CL_TMP=$(mktemp -d "/tmp/$2.XXXXXX")
    : > "$CL_TMP/netns.list"
    : > "$CL_TMP/pids.list"
    HS_FAILURES=$CL_TMP/failures
    : > "$HS_FAILURES"
}

# cl_network MEMBER...: the bridge's namespace, and one namespace per
# MEMBER (1, 2, 3 or c) with its address, on the bridge.
cl_network() {
    CL_BR_NS=${CL_PFX}br
    cl_netns_add "$CL_BR_NS"
    ip -n "$CL_BR_NS" link set lo up
    ip -n "$CL_BR_NS" link add br0 type bridge
    ip -n "$CL_BR_NS" link set br0 up
    local i ns
    for i in "$@"; do
        ns=$(cl_ns "$i")
        cl_netns_add "$ns"
        ip -n "$ns" link set lo up
        # Both ends are made in the namespaces: none ever is on the host.
        ip -n "$CL_BR_NS" link add "v$i" type veth peer name eth0 netns "$ns"
        ip -n "$CL_BR_NS" link set "v$i" master br0 up
        ip -n "$ns" addr add "$(cl_ip "$i")/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
}

cl_netns_add() { hs_netns_add "$CL_TMP/netns.list" "$1"; }

# cl_teardown RC [DUMP_FN [STOP_FN]]: the body of file_teardown, RC being
# the test's exit status; exits with it.  On failure, shows the members'
# state, then DUMP_FN's.  STOP_FN RC runs before the members are killed
# (for the test file's own processes); if it fails, so does the test.
cl_teardown() {
    local rc=$1 dump=${2:-} stop=${3:-}
    trap - EXIT
    set +eE
    if [ "$rc" -ne 0 ]; then
        cl_dump_state
        [ -n "$dump" ] && "$dump"
    fi
    if [ -n "$stop" ] && ! "$stop" "$rc"; then
        rc=1
    fi
    # Every ovsdb-server the test started, by recorded pid and start time.
    hs_stop_recorded "$CL_TMP/pids.list"
    hs_netns_del_recorded "$CL_TMP/netns.list"
    hs_report_failures "$rc"
    hs_sandbox_remove "$rc" "$CL_TMP"
    exit "$rc"
}

cl_dump_state() {
    echo "---- state at failure ----"
    local i
    for i in 1 2 3; do
        echo "-- member $i: cluster/status --"
        cl_status "$i" 2>&1 \
            | grep -E '^(Status|Role|Term|Leader):|^ +[0-9a-f]{4} ' | head -8
        echo "-- member $i: log warnings (last 4) --"
        grep -E '\|(WARN|ERR|EMER)\|' "$(cl_dir "$i")/cfnet-db.log" \
            2>/dev/null | tail -4
    done
}

# cl_check_logs EXTRA_IGNORE WHAT LOG...: fails the test if a LOG has a
# line at warning level or above other than a lost connection (killing
# members is part of the tests: the others log lost connections and
# elections) or one that EXTRA_IGNORE (an extended regex, or empty)
# matches.  WHAT names the logs in the failure.
cl_check_logs() {
    local extra=$1 what=$2
    shift 2
    local ignore='connection (closed|dropped)|Connection refused'
    ignore+='|Connection reset by peer|Broken pipe|End of file'
    ignore+='|receive error|send error|connection attempt failed'
    ignore+='|unix#[0-9]+:'
    # ovsdb-server's log fsync thread can meet a log it has just replaced
    # (compaction, or a member that joins and takes a snapshot): it says so
    # and carries on; the data is already on disk.
    ignore+='|log_fsync[0-9]*\)\|WARN\|fsync failed \(Invalid argument\)'
    [ -n "$extra" ] && ignore+="|$extra"
    local bad
    bad=$(hs_log_warnings "$ignore" "$@")
    if [ -n "$bad" ]; then
        fail "unexpected warnings in $what:
$bad"
    fi
}

# fail MESSAGE (harness.sh): reports MESSAGE, again at the end of a failed
# test's output, and ends the test.

# ---------------------------------------------------------------------------
# The cluster

# Member I's address, namespace, directory, Raft address and status (I is
# 1, 2 or 3; c, for the address and namespace, is the client).
cl_ip() {
    if [ "$1" = c ]; then
        echo "$CL_NET.50"
    else
        echo "$CL_NET.1$1"
    fi
}
cl_ns() {
    if [ "$1" = c ]; then
        echo "${CL_PFX}c"
    else
        echo "${CL_PFX}m$1"
    fi
}
cl_dir() { echo "$CL_TMP/m$1"; }
cl_raft() { echo "tcp:$(cl_ip "$1"):$CL_RAFT_PORT"; }
cl_status() { "$CL_SCRIPT" status --dir "$(cl_dir "$1")"; }

# cl_start I: starts member I in its namespace and records its pid.
cl_start() {
    ip netns exec "$(cl_ns "$1")" "$CL_SCRIPT" start --dir "$(cl_dir "$1")" \
        --remote "ptcp:$CL_CLIENT_PORT:$(cl_ip "$1")"
    hs_record_pid "$CL_TMP/pids.list" "$(cat "$(cl_dir "$1")/cfnet-db.pid")" \
        "m$1-cfnet-db"
}

# cl_restart I: starts member I again after it was killed.
cl_restart() {
    "$CL_SCRIPT" stop --dir "$(cl_dir "$1")" >/dev/null
    cl_start "$1"
}

cl_gone() { ! pid_alive "$1"; }

# cl_member_ok I N: member I is a cluster member, knows a leader and sees
# N servers.
cl_member_ok() { hs_cluster_member_ok "$2" cl_status "$1"; }

# cl_all_ok N MEMBER...: every listed member is fine and sees N servers.
cl_all_ok() {
    local n=$1 i
    shift
    for i in "$@"; do
        cl_member_ok "$i" "$n" || return 1
    done
}

# The member that is leader (by its own cluster/status).
cl_leader() {
    local i
    for i in 1 2 3; do
        if cl_status "$i" 2>/dev/null | grep -q '^Role: leader$'; then
            echo "$i"
            return 0
        fi
    done
    return 1
}

# cl_wait WHAT CMD...: retries CMD until it succeeds or CL_TIMEOUT passes.
cl_wait() {
    local what=$1
    shift
    HS_POLL=0.$CL_POLL_DS hs_wait "$CL_TIMEOUT" "$@" \
        || fail "timed out after ${CL_TIMEOUT}s waiting for: $what"
}

# cl_cluster_up: forms the three-member cluster and waits until all three
# are members that know the leader.
cl_cluster_up() {
    "$CL_SCRIPT" create --dir "$(cl_dir 1)" --local "$(cl_raft 1)"
    cl_start 1
    # Member 2 joins through member 1, member 3 through either.
    "$CL_SCRIPT" join --dir "$(cl_dir 2)" --local "$(cl_raft 2)" \
        --remote "$(cl_raft 1)"
    cl_start 2
    "$CL_SCRIPT" join --dir "$(cl_dir 3)" --local "$(cl_raft 3)" \
        --remote "$(cl_raft 1),$(cl_raft 2)"
    cl_start 3
    cl_wait "3 members with a leader" cl_all_ok 3 1 2 3
}

# cl_transact I OPS: one transaction on CFNet through member I's local
# socket; OUT gets the result.
cl_transact() {
    OUT=$(ovsdb-client --timeout=10 transact \
              "unix:$(cl_dir "$1")/cfnet-db.sock" \
              "[\"CFNet\", $2]" 2>&1) || true
}

# True if the last transaction's results have no error.
cl_ok() {
    jq -e 'type == "array" and all(.[]; . != null and (has("error") | not))' \
        <<<"$OUT" >/dev/null 2>&1
}

# cl_cell_op UNDERLAY_IP SUBNET LEASE_EXPIRES RENEWED: an insert of a Cell
# row.
cl_cell_op() {
    printf '{"op": "insert", "table": "Cell", "row": {"underlay_ip": "%s",
             "subnet": "%s", "lease_expires": %d, "renewed": %d}}' \
        "$1" "$2" "$3" "$4"
}
