# System tests of cfnet-db (scripts/cfnet-db, ovsdb/cfnet.ovsschema): a
# three-member Raft cluster, one member per network namespace, the
# namespaces joined by a Linux bridge in a fourth namespace.  Addresses are
# from TEST-NET-1 (192.0.2.0/24) and exist only inside those namespaces:
# nothing touches the host's network.
#
# The tests bring their own sandbox (file_setup/file_teardown, see lib.sh):
# every namespace and every ovsdb-server is recorded by name or pid and
# removed when the test ends, pass or fail.  Run by tests/system/run-file,
# as root.

CD_SCRIPT=$SB_TOP/scripts/cfnet-db
CD_NET=192.0.2
CD_RAFT_PORT=6641       # Raft (server-to-server)
CD_CLIENT_PORT=6640     # clients (ptcp remote)
CD_TIMEOUT=30           # seconds to wait for the cluster to settle

# ---------------------------------------------------------------------------
# Setup, teardown, logs

file_setup() {
    # $BASHPID: the test's own subshell, so names are unique per test.
    CD_PFX="cfD$BASHPID-"
    CD_TMP=$(mktemp -d /tmp/cfnet-db-test.XXXXXX)
    : > "$CD_TMP/netns.list"
    : > "$CD_TMP/pids.list"
    : > "$CD_TMP/failures"
    CD_BR_NS=${CD_PFX}br
    cd_netns_add "$CD_BR_NS"
    ip -n "$CD_BR_NS" link set lo up
    ip -n "$CD_BR_NS" link add br0 type bridge
    ip -n "$CD_BR_NS" link set br0 up
    local i ns
    for i in 1 2 3; do
        ns=${CD_PFX}m$i
        cd_netns_add "$ns"
        ip -n "$ns" link set lo up
        # Both ends are made in the namespaces: none ever is on the host.
        ip -n "$CD_BR_NS" link add "v$i" type veth peer name eth0 netns "$ns"
        ip -n "$CD_BR_NS" link set "v$i" master br0 up
        ip -n "$ns" addr add "$(cd_ip "$i")/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
}

cd_netns_add() {
    ip netns add "$1"
    echo "$1" >> "$CD_TMP/netns.list"
}

file_teardown() {
    local rc=$?
    trap - EXIT
    set +eE
    if [ $rc -ne 0 ]; then
        cd_dump_state
    fi
    # Every ovsdb-server the test started, by recorded pid (and only if
    # that pid is still an ovsdb-server).
    local pid
    while read -r pid; do
        [ -n "$pid" ] || continue
        if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ovsdb-server ]; then
            kill -KILL "$pid" 2>/dev/null
        fi
    done < "$CD_TMP/pids.list"
    local ns
    while read -r ns; do
        [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
    done < "$CD_TMP/netns.list"
    if [ $rc -ne 0 ]; then
        echo "---- failure ----"
        if [ -s "$CD_TMP/failures" ]; then
            cat "$CD_TMP/failures"
        else
            echo "(a command of the test failed: see above)"
        fi
    fi
    if [ $rc -ne 0 ] && [ "${CFNET_KEEP:-0}" = 1 ]; then
        echo "sandbox kept in $CD_TMP"
    else
        rm -rf "$CD_TMP"
    fi
    exit $rc
}

cd_dump_state() {
    echo "---- state at failure ----"
    local i
    for i in 1 2 3; do
        echo "-- member $i: cluster/status --"
        cd_status "$i" 2>&1 \
            | grep -E '^(Status|Role|Term|Leader):|^ +[0-9a-f]{4} ' | head -8
        echo "-- member $i: log warnings (last 4) --"
        grep -E '\|(WARN|ERR|EMER)\|' "$(cd_dir "$i")/cfnet-db.log" \
            2>/dev/null | tail -4
    done
}

# Killing a member is part of the tests: the others log lost connections
# and elections.  Anything else at warning level or above fails the test.
file_check_logs() {
    local ignore='(connection (closed|dropped)|Connection refused'
    ignore+='|Connection reset by peer|Broken pipe|End of file'
    ignore+='|receive error|send error|connection attempt failed'
    ignore+='|unix#[0-9]+:|Dropped [0-9]+ log messages)'
    local bad
    bad=$(grep -HE '\|(WARN|ERR|EMER)\|' "$CD_TMP"/m*/cfnet-db.log \
              2>/dev/null | grep -vE "$ignore" || true)
    if [ -n "$bad" ]; then
        fail "unexpected warnings in the members' logs:
$bad"
    fi
}

fail() {
    echo "$1" | tee -a "$CD_TMP/failures"
    return 1
}

# ---------------------------------------------------------------------------
# Helpers

cd_ip() { echo "$CD_NET.1$1"; }
cd_dir() { echo "$CD_TMP/m$1"; }
cd_ns() { echo "${CD_PFX}m$1"; }
cd_raft() { echo "tcp:$(cd_ip "$1"):$CD_RAFT_PORT"; }
cd_status() { "$CD_SCRIPT" status --dir "$(cd_dir "$1")"; }

# cd_start I: starts member I in its namespace and records its pid.
cd_start() {
    ip netns exec "$(cd_ns "$1")" "$CD_SCRIPT" start --dir "$(cd_dir "$1")" \
        --remote "ptcp:$CD_CLIENT_PORT:$(cd_ip "$1")"
    cat "$(cd_dir "$1")/cfnet-db.pid" >> "$CD_TMP/pids.list"
}

# cd_member_ok I N: member I is a cluster member, knows a leader and sees
# N servers.
cd_member_ok() {
    local st
    st=$(cd_status "$1" 2>/dev/null) || return 1
    grep -q '^Status: cluster member$' <<<"$st" || return 1
    grep -qE '^Leader: (self|[0-9a-f]{4})' <<<"$st" || return 1
    [ "$(sed -n '/^Servers:/,$p' <<<"$st" \
         | grep -cE '^ +[0-9a-f]{4} ')" = "$2" ]
}

# cd_wait WHAT CMD...: retries CMD until it succeeds or CD_TIMEOUT passes.
cd_wait() {
    local what=$1 i
    shift
    for i in $(seq $((CD_TIMEOUT * 5))); do
        "$@" && return 0
        sleep 0.2
    done
    fail "timed out after ${CD_TIMEOUT}s waiting for: $what"
}

# cd_all_ok N MEMBER...: every listed member is fine and sees N servers.
cd_all_ok() {
    local n=$1 i
    shift
    for i in "$@"; do
        cd_member_ok "$i" "$n" || return 1
    done
}

# The member that is leader (by its own cluster/status).
cd_leader() {
    local i
    for i in 1 2 3; do
        if cd_status "$i" 2>/dev/null | grep -q '^Role: leader$'; then
            echo "$i"
            return 0
        fi
    done
    return 1
}

# cd_transact I OPS: one transaction on CFNet through member I's local
# socket; OUT gets the result.
cd_transact() {
    OUT=$(ovsdb-client --timeout=10 transact \
              "unix:$(cd_dir "$1")/cfnet-db.sock" \
              "[\"CFNet\", $2]" 2>&1) || true
}

# cd_transact_tcp FROM I OPS: the same through member I's TCP remote, from
# member FROM's namespace (the way cells will reach cfnet-db).
cd_transact_tcp() {
    OUT=$(ip netns exec "$(cd_ns "$1")" ovsdb-client --timeout=10 transact \
              "tcp:$(cd_ip "$2"):$CD_CLIENT_PORT" \
              "[\"CFNet\", $3]" 2>&1) || true
}

# True if the last transaction's results have no error.
cd_ok() {
    jq -e 'type == "array" and all(.[]; . != null and (has("error") | not))' \
        <<<"$OUT" >/dev/null 2>&1
}

cd_expect_ok() {
    cd_ok || fail "$1: transaction failed: $OUT"
}

cd_cell_op() {
    printf '{"op": "insert", "table": "Cell", "row": {"underlay_ip": "%s",
             "subnet": "%s", "lease_expires": %d, "renewed": %d}}' \
        "$1" "$2" "$3" "$4"
}

cd_overlay_op() {
    printf '{"op": "insert", "table": "Overlay", "row": {
             "networks": ["set", ["10.255.0.0/16", "10.254.0.0/16"]],
             "subnet_prefix_length": %d, "lease_lifetime_s": 600}}' "$1"
}

# The subnets of all Cell rows, as member I sees them, sorted.
cd_subnets() {
    cd_transact "$1" '{"op": "select", "table": "Cell", "where": [],
                       "columns": ["subnet"]}'
    jq -r '.[0].rows[].subnet' <<<"$OUT" 2>/dev/null | sort | tr '\n' ' '
}

cd_subnets_are() { [ "$(cd_subnets "$1")" = "$2" ]; }
cd_gone() { ! kill -0 "$1" 2>/dev/null; }
cd_transact_ok() { cd_transact "$1" "$2"; cd_ok; }

# cd_cluster_up: forms the three-member cluster and waits until all three
# are members that know the leader.
cd_cluster_up() {
    "$CD_SCRIPT" create --dir "$(cd_dir 1)" --local "$(cd_raft 1)"
    cd_start 1
    # Member 2 joins through member 1, member 3 through either.
    "$CD_SCRIPT" join --dir "$(cd_dir 2)" --local "$(cd_raft 2)" \
        --remote "$(cd_raft 1)"
    cd_start 2
    "$CD_SCRIPT" join --dir "$(cd_dir 3)" --local "$(cd_raft 3)" \
        --remote "$(cd_raft 1),$(cd_raft 2)"
    cd_start 3
    cd_wait "3 members with a leader" cd_all_ok 3 1 2 3
}

NOW_MS=1764000000000

# ---------------------------------------------------------------------------
# Tests

# The cluster forms, takes the directory's rows through any member, and the
# schema's indexes and constraints hold: no two cells ever have one subnet
# or one underlay address, one Overlay row at most.
test_cluster_forms_and_enforces_leases() {
    cd_cluster_up
    local leader
    leader=$(cd_leader) || fail "no member says it is leader"

    cd_transact 1 "$(cd_overlay_op 24)"
    cd_expect_ok "insert Overlay"
    cd_transact 2 "$(cd_cell_op 192.0.2.11 10.255.1.0/24 \
                     $((NOW_MS + 600000)) $NOW_MS)"
    cd_expect_ok "insert first Cell"
    cd_transact_tcp 3 3 "$(cd_cell_op 192.0.2.12 10.255.2.0/24 \
                           $((NOW_MS + 600000)) $NOW_MS)"
    cd_expect_ok "insert second Cell (over TCP)"

    # Every member has both leases.
    local i
    for i in 1 2 3; do
        cd_wait "member $i sees both cells" \
            cd_subnets_are "$i" "10.255.1.0/24 10.255.2.0/24 "
    done

    # A third cell asking for a subnet that is leased: refused, by index.
    cd_transact "$leader" "$(cd_cell_op 192.0.2.13 10.255.1.0/24 \
                             $((NOW_MS + 600000)) $NOW_MS)"
    ! cd_ok || fail "duplicate subnet accepted: $OUT"
    grep -q '"constraint violation"' <<<"$OUT" \
        || fail "duplicate subnet: not a constraint violation: $OUT"
    grep -q 'index on column \\"subnet\\"' <<<"$OUT" \
        || fail "duplicate subnet: error does not name the index: $OUT"

    # One lease per cell: a second row for one underlay address is refused.
    cd_transact 2 "$(cd_cell_op 192.0.2.11 10.255.3.0/24 \
                     $((NOW_MS + 600000)) $NOW_MS)"
    grep -q 'index on column \\"underlay_ip\\"' <<<"$OUT" \
        || fail "duplicate underlay_ip not refused by its index: $OUT"

    # One Overlay row; prefix length within 16..30.
    cd_transact 3 "$(cd_overlay_op 24)"
    grep -q '"constraint violation"' <<<"$OUT" \
        || fail "second Overlay row not refused: $OUT"
    cd_transact 3 '{"op": "update", "table": "Overlay", "where": [],
                    "row": {"subnet_prefix_length": 31}}'
    grep -q '"constraint violation"' <<<"$OUT" \
        || fail "subnet_prefix_length 31 not refused: $OUT"

    expect_eq "$(cd_subnets 1)" "10.255.1.0/24 10.255.2.0/24 " \
        "leases after the refused transactions"
}

# Killing a member (the leader, the hardest case) leaves a working
# majority; the member rejoins when restarted and catches up.
test_member_loss_and_rejoin() {
    cd_cluster_up
    cd_transact 1 "$(cd_overlay_op 24)"
    cd_expect_ok "insert Overlay"
    cd_transact 1 "$(cd_cell_op 192.0.2.11 10.255.1.0/24 \
                     $((NOW_MS + 600000)) $NOW_MS)"
    cd_expect_ok "insert first Cell"

    local dead pid others
    dead=$(cd_leader) || fail "no member says it is leader"
    pid=$(cat "$(cd_dir "$dead")/cfnet-db.pid")
    kill -KILL "$pid"
    cd_wait "member $dead (pid $pid) to exit" cd_gone "$pid"
    others=$(printf '%s\n' 1 2 3 | grep -vx "$dead" | tr '\n' ' ')

    # Writes go on through either survivor once they elect a new leader.
    local via=${others%% *}
    cd_wait "a write through member $via" cd_transact_ok "$via" \
        "$(cd_cell_op 192.0.2.12 10.255.2.0/24 $((NOW_MS + 600000)) $NOW_MS)"
    local l2
    l2=$(cd_leader) || fail "no leader among the survivors"
    [ "$l2" != "$dead" ] || fail "dead member $dead still leader"
    local via2=${others#* }
    via2=${via2%% *}
    cd_transact_tcp "$via2" "$via2" \
        '{"op": "update", "table": "Cell",
          "where": [["subnet", "==", "10.255.1.0/24"]],
          "row": {"renewed": '"$((NOW_MS + 1000))"'}}'
    cd_expect_ok "renew through member $via2 (over TCP)"

    # The dead member comes back, rejoins and catches up.
    "$CD_SCRIPT" stop --dir "$(cd_dir "$dead")" >/dev/null
    cd_start "$dead"
    cd_wait "member $dead to rejoin (3 servers, leader known)" \
        cd_all_ok 3 1 2 3
    cd_wait "member $dead to have the writes it missed" \
        cd_subnets_are "$dead" "10.255.1.0/24 10.255.2.0/24 "
    cd_transact "$dead" '{"op": "select", "table": "Cell",
        "where": [["subnet", "==", "10.255.1.0/24"]], "columns": ["renewed"]}'
    expect_eq "$(jq -r '.[0].rows[0].renewed' <<<"$OUT")" \
        "$((NOW_MS + 1000))" "renewal seen by the rejoined member"

    # And it takes writes again.
    cd_transact "$dead" "$(cd_cell_op 192.0.2.13 10.255.3.0/24 \
                           $((NOW_MS + 600000)) $NOW_MS)"
    cd_expect_ok "insert through the rejoined member $dead"
}
