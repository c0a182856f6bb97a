# System tests of cfnet-db (scripts/cfnet-db, ovsdb/cfnet.ovsschema): a
# three-member Raft cluster, one member per network namespace, the
# namespaces joined by a Linux bridge in a fourth namespace.  Addresses are
# from TEST-NET-1 (192.0.2.0/24) and exist only inside those namespaces:
# nothing touches the host's network.
#
# The tests bring their own sandbox (file_setup/file_teardown, see lib.sh,
# on cfnet-cluster.sh): every namespace and every ovsdb-server is recorded
# by name or pid and removed when the test ends, pass or fail.  Run by
# tests/system/run-file, as root.

# shellcheck source=cfnet-cluster.sh
. "$SB_TOP/tests/system/cfnet-cluster.sh"

# ---------------------------------------------------------------------------
# Setup, teardown, logs

file_setup() {
    cl_sandbox cfD cfnet-db-test
    cl_network 1 2 3
}

file_teardown() {
    cl_teardown $?
}

# Killing a member is part of the tests: the others log lost connections
# and elections.  Anything else at warning level or above fails the test.
file_check_logs() {
    cl_check_logs '' "the members' logs" "$CL_TMP"/m*/cfnet-db.log
}

# ---------------------------------------------------------------------------
# Helpers

# cd_transact_tcp FROM I OPS: cl_transact through member I's TCP remote, from
# member FROM's namespace (the way cells will reach cfnet-db).
cd_transact_tcp() {
    OUT=$(ip netns exec "$(cl_ns "$1")" ovsdb-client --timeout=10 transact \
              "tcp:$(cl_ip "$2"):$CL_CLIENT_PORT" \
              "[\"CFNet\", $3]" 2>&1) || true
}

cd_expect_ok() {
    cl_ok || fail "$1: transaction failed: $OUT"
}

cd_overlay_op() {
    printf '{"op": "insert", "table": "Overlay", "row": {
             "networks": ["set", ["10.255.0.0/16", "10.254.0.0/16"]],
             "subnet_prefix_length": %d, "lease_lifetime_s": 600}}' "$1"
}

# The subnets of all Cell rows, as member I sees them, sorted.
cd_subnets() {
    cl_transact "$1" '{"op": "select", "table": "Cell", "where": [],
                       "columns": ["subnet"]}'
    jq -r '.[0].rows[].subnet' <<<"$OUT" 2>/dev/null | sort | tr '\n' ' '
}

cd_subnets_are() { [ "$(cd_subnets "$1")" = "$2" ]; }
cd_transact_ok() { cl_transact "$1" "$2"; cl_ok; }

NOW_MS=1764000000000

# ---------------------------------------------------------------------------
# Tests

# The cluster forms, takes the directory's rows through any member, and the
# schema's indexes and constraints hold: no two cells ever have one subnet
# or one underlay address, one Overlay row at most.
test_cluster_forms_and_enforces_leases() {
    cl_cluster_up
    local leader
    leader=$(cl_leader) || fail "no member says it is leader"

    cl_transact 1 "$(cd_overlay_op 24)"
    cd_expect_ok "insert Overlay"
    cl_transact 2 "$(cl_cell_op 192.0.2.11 10.255.1.0/24 \
                     $((NOW_MS + 600000)) $NOW_MS)"
    cd_expect_ok "insert first Cell"
    cd_transact_tcp 3 3 "$(cl_cell_op 192.0.2.12 10.255.2.0/24 \
                           $((NOW_MS + 600000)) $NOW_MS)"
    cd_expect_ok "insert second Cell (over TCP)"

    # Every member has both leases.
    local i
    for i in 1 2 3; do
        cl_wait "member $i sees both cells" \
            cd_subnets_are "$i" "10.255.1.0/24 10.255.2.0/24 "
    done

    # A third cell asking for a subnet that is leased: refused, by index.
    cl_transact "$leader" "$(cl_cell_op 192.0.2.13 10.255.1.0/24 \
                             $((NOW_MS + 600000)) $NOW_MS)"
    ! cl_ok || fail "duplicate subnet accepted: $OUT"
    grep -q '"constraint violation"' <<<"$OUT" \
        || fail "duplicate subnet: not a constraint violation: $OUT"
    grep -q 'index on column \\"subnet\\"' <<<"$OUT" \
        || fail "duplicate subnet: error does not name the index: $OUT"

    # One lease per cell: a second row for one underlay address is refused.
    cl_transact 2 "$(cl_cell_op 192.0.2.11 10.255.3.0/24 \
                     $((NOW_MS + 600000)) $NOW_MS)"
    grep -q 'index on column \\"underlay_ip\\"' <<<"$OUT" \
        || fail "duplicate underlay_ip not refused by its index: $OUT"

    # One Overlay row; prefix length within 16..30.
    cl_transact 3 "$(cd_overlay_op 24)"
    grep -q '"constraint violation"' <<<"$OUT" \
        || fail "second Overlay row not refused: $OUT"
    cl_transact 3 '{"op": "update", "table": "Overlay", "where": [],
                    "row": {"subnet_prefix_length": 31}}'
    grep -q '"constraint violation"' <<<"$OUT" \
        || fail "subnet_prefix_length 31 not refused: $OUT"

    expect_eq "$(cd_subnets 1)" "10.255.1.0/24 10.255.2.0/24 " \
        "leases after the refused transactions"
}

# Killing a member (the leader, the hardest case) leaves a working
# majority; the member rejoins when restarted and catches up.
test_member_loss_and_rejoin() {
    cl_cluster_up
    cl_transact 1 "$(cd_overlay_op 24)"
    cd_expect_ok "insert Overlay"
    cl_transact 1 "$(cl_cell_op 192.0.2.11 10.255.1.0/24 \
                     $((NOW_MS + 600000)) $NOW_MS)"
    cd_expect_ok "insert first Cell"

    local dead pid others
    dead=$(cl_leader) || fail "no member says it is leader"
    pid=$(cat "$(cl_dir "$dead")/cfnet-db.pid")
    kill -KILL "$pid"
    cl_wait "member $dead (pid $pid) to exit" cl_gone "$pid"
    others=$(printf '%s\n' 1 2 3 | grep -vx "$dead" | tr '\n' ' ')

    # Writes go on through either survivor once they elect a new leader.
    local via=${others%% *}
    cl_wait "a write through member $via" cd_transact_ok "$via" \
        "$(cl_cell_op 192.0.2.12 10.255.2.0/24 $((NOW_MS + 600000)) $NOW_MS)"
    local l2
    l2=$(cl_leader) || fail "no leader among the survivors"
    [ "$l2" != "$dead" ] || fail "dead member $dead still leader"
    local via2=${others#* }
    via2=${via2%% *}
    cd_transact_tcp "$via2" "$via2" \
        '{"op": "update", "table": "Cell",
          "where": [["subnet", "==", "10.255.1.0/24"]],
          "row": {"renewed": '"$((NOW_MS + 1000))"'}}'
    cd_expect_ok "renew through member $via2 (over TCP)"

    # The dead member comes back, rejoins and catches up.
    cl_restart "$dead"
    cl_wait "member $dead to rejoin (3 servers, leader known)" \
        cl_all_ok 3 1 2 3
    cl_wait "member $dead to have the writes it missed" \
        cd_subnets_are "$dead" "10.255.1.0/24 10.255.2.0/24 "
    cl_transact "$dead" '{"op": "select", "table": "Cell",
        "where": [["subnet", "==", "10.255.1.0/24"]], "columns": ["renewed"]}'
    expect_eq "$(jq -r '.[0].rows[0].renewed' <<<"$OUT")" \
        "$((NOW_MS + 1000))" "renewal seen by the rejoined member"

    # And it takes writes again.
    cl_transact "$dead" "$(cl_cell_op 192.0.2.13 10.255.3.0/24 \
                           $((NOW_MS + 600000)) $NOW_MS)"
    cd_expect_ok "insert through the rejoined member $dead"
}
