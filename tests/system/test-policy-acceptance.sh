# System tests of three of issue 10's acceptance behaviours (CF's
# networking acceptance tests, shared reference cf-networking.md §8) that
# test-c2c-policy.sh does not show, end to end on cell-sim with its policy
# server stand-in and real traffic:
#
#   - a task of app A reaches app B under an A -> B policy (a task is in
#     its app's policy group), across cells and on one cell;
#   - deny -> allow -> deny on port 8080 and on a port range, each on one
#     cell and across cells;
#   - staging ASGs apply only to staging containers, and running ASGs only
#     to running apps and tasks;
#   - a wide-open ASG opens no container-to-container traffic, on one cell
#     or across cells, while it does open the external network.
#
# Each test has its own sim (file_setup, simlib.sh), removed by
# file_teardown, pass or fail.  Run by tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# The external host's addresses (cell-sim's ext), and where it serves.
EXT_A=10.0.0.100
EXT_B=10.0.0.101
EXT_PORT=80

# ext_rule DST: an ASG's rules (CC's shape) that allow TCP to DST port
# EXT_PORT.
ext_rule() {
    printf '[{"protocol":"tcp","destination":"%s","ports":"%s"}]' \
        "$1" "$EXT_PORT"
}

# ---------------------------------------------------------------------------
# c2c

# A task of app a (`push --task --app a`: policy group a) reaches app b
# under the policy a -> b and not before or after it, with b on the other
# cell and on its own; b sees the task's own address; the task's classify
# flow carries a's tag from the server.  Another app's task, next to a's
# task on cell 1, is not let in by a's policy.
test_task_reaches_app_under_policy() {
    sim_up --cells 2
    sim push a-task1 --task --app a --cell 1 >/dev/null
    sim push a-task2 --task --app a --cell 2 >/dev/null
    sim push c-task --task --app c --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local b t1 t2
    b=$(sim ip b) t1=$(sim ip a-task1) t2=$(sim ip a-task2)
    serve b 8080 >/dev/null
    expect a-task1 refused tcp "$b" 8080
    expect a-task2 refused tcp "$b" 8080

    sim policy add a b
    wait_until 5 "a's task on cell 1 to reach b on cell 2" \
        probe_is a-task1 connected tcp "$b" 8080
    expect a-task1 connected tcp "$b" 8080
    expect_equal "${PROBE_DETAIL% *}" "peer $t1" "the source b sees (cell 1)"
    wait_until 5 "a's task on cell 2 to reach b on cell 2" \
        probe_is a-task2 connected tcp "$b" 8080
    expect a-task2 connected tcp "$b" 8080
    expect_equal "${PROBE_DETAIL% *}" "peer $t2" "the source b sees (cell 2)"
    expect_equal "$(tag_of 1 a-task1)" "$(server_tag a)" "a-task1's tag"
    expect_equal "$(tag_of 2 a-task2)" "$(server_tag a)" "a-task2's tag"
    expect c-task refused tcp "$b" 8080
    # Only in the policy's direction.
    serve a-task2 8080 >/dev/null
    expect b refused tcp "$t2" 8080

    sim policy remove a b
    wait_until 5 "b to refuse a's task on cell 1" \
        probe_is a-task1 refused tcp "$b" 8080
    wait_until 5 "b to refuse a's task on cell 2" \
        probe_is a-task2 refused tcp "$b" 8080
}

# Deny -> allow -> deny on port 8080 and on a port range, each on one cell
# and across cells (test-c2c-policy.sh's first test has 8080 on one cell
# and a range across them): in the range and nowhere else; what is outside
# is refused on one cell and dropped by the destination's cell across
# cells.
test_port_and_range_both_ways() {
    sim_up --cells 2
    sim push a --cell 1 >/dev/null
    sim push b --cell 1 >/dev/null
    sim push c --cell 2 >/dev/null
    local b c
    b=$(sim ip b) c=$(sim ip c)
    serve b 8080,9000,9004,9005 >/dev/null
    serve c 8080,8081,9000,9004,9005 >/dev/null
    expect a refused tcp "$b" 9000
    expect a refused tcp "$c" 8080

    # A range on one cell, 8080 and a range across cells.
    sim policy add a b --ports 9000-9004
    sim policy add a c
    sim policy add a c --ports 9000-9004
    wait_until 5 "a to reach b's range" probe_is a connected tcp "$b" 9000
    expect a connected tcp "$b" 9004
    expect a refused tcp "$b" 9005
    expect a refused tcp "$b" 8080
    wait_until 5 "a to reach c on 8080" probe_is a connected tcp "$c" 8080
    expect a connected tcp "$c" 9000
    expect a connected tcp "$c" 9004
    expect a timeout tcp "$c" 9005
    expect a timeout tcp "$c" 8081

    # 8080 on one cell.
    sim policy add a b
    wait_until 5 "a to reach b on 8080" probe_is a connected tcp "$b" 8080

    sim policy remove a b --ports 9000-9004
    wait_until 5 "b to refuse its range" probe_is a refused tcp "$b" 9000
    expect a connected tcp "$b" 8080
    sim policy remove a c
    wait_until 5 "c to drop 8080" probe_is a timeout tcp "$c" 8080
    expect a connected tcp "$c" 9004
    sim policy remove a b
    sim policy remove a c --ports 9000-9004
    # a is in no policy now: no tag, refused at once on its own cell.
    wait_until 5 "a to be refused by c" probe_is a refused tcp "$c" 9000
    expect a refused tcp "$b" 8080
}

# ---------------------------------------------------------------------------
# Synced ASGs

# A staging ASG of space s1 lets s1's staging container reach the external
# host, not s1's running app or task; a running ASG of s1 lets the app and
# the task reach, not the staging container; each rule is named by its
# group in flowctl/trace.
test_staging_asg_only_for_staging() {
    sim_up --asg-syncing --asg-poll-interval 1
    serve ext "$EXT_PORT" >/dev/null
    sim push st --staging --space s1 >/dev/null
    sim push a --space s1 >/dev/null
    sim push t --task --space s1 >/dev/null
    local where staging running
    for where in st a t; do
        expect "$where" refused tcp "$EXT_A" "$EXT_PORT"
        expect "$where" refused tcp "$EXT_B" "$EXT_PORT"
    done

    # Staging: EXT_A only.
    staging=$(sim asg create build --rules "$(ext_rule "$EXT_A")")
    sim asg bind build --space s1 --staging
    wait_until 5 "the staging container to reach $EXT_A" \
        probe_is st connected tcp "$EXT_A" "$EXT_PORT"
    expect_trace st "$EXT_A" "security group build ($staging) rule 0"
    expect a refused tcp "$EXT_A" "$EXT_PORT"
    expect t refused tcp "$EXT_A" "$EXT_PORT"

    # Running: EXT_B only; the staging binding is untouched.
    running=$(sim asg create web --rules "$(ext_rule "$EXT_B")")
    sim asg bind web --space s1
    wait_until 5 "the running app to reach $EXT_B" \
        probe_is a connected tcp "$EXT_B" "$EXT_PORT"
    expect_trace a "$EXT_B" "security group web ($running) rule 0"
    expect t connected tcp "$EXT_B" "$EXT_PORT"
    expect st refused tcp "$EXT_B" "$EXT_PORT"
    expect st connected tcp "$EXT_A" "$EXT_PORT"
    expect a refused tcp "$EXT_A" "$EXT_PORT"
    expect t refused tcp "$EXT_A" "$EXT_PORT"

    # Unbinding the staging group leaves the running one.
    sim asg unbind build --space s1 --staging
    wait_until 5 "the staging container to be refused by $EXT_A" \
        probe_is st refused tcp "$EXT_A" "$EXT_PORT"
    expect a connected tcp "$EXT_B" "$EXT_PORT"
}

# A wide-open ASG (protocol all, 0.0.0.0-255.255.255.255) bound to the
# space lets app a reach the external host but not app b, on its cell or
# on the other one, with a in no policy (no tag) and with a in a policy
# to b on another port (a tag, so that across cells b's cell judges).
test_wide_open_asg_opens_no_c2c() {
    sim_up --asg-syncing --asg-poll-interval 1 --cells 2
    serve ext "$EXT_PORT" >/dev/null
    sim push a --space s1 --cell 1 >/dev/null
    sim push b --space s1 --cell 1 >/dev/null
    sim push b-2 --app b --space s1 --cell 2 >/dev/null
    local b b2 guid
    b=$(sim ip b) b2=$(sim ip b-2)
    serve b 8080,9000 >/dev/null
    serve b-2 8080,9000 >/dev/null
    guid=$(sim asg create open --rules \
           '[{"protocol":"all","destination":"0.0.0.0-255.255.255.255"}]')
    sim asg bind open --space s1
    wait_until 5 "a to reach the external host" \
        probe_is a connected tcp "$EXT_A" "$EXT_PORT"
    expect_trace a "$EXT_A" "security group open ($guid) rule 0"
    # Cell 2 polls on its own schedule.
    wait_until 5 "b-2 on cell 2 to reach the external host" \
        probe_is b-2 connected tcp "$EXT_B" "$EXT_PORT"

    # a in no policy: refused on its own cell, whatever the ASG says.
    expect a refused tcp "$b" 8080
    expect a refused tcp "$b2" 8080

    # a in a policy to b's port 9000: a has a tag and b's cell judges what
    # comes across; port 8080 stays closed on both cells.
    sim policy add a b --port 9000
    wait_until 5 "a to reach b-2 on port 9000" \
        probe_is a connected tcp "$b2" 9000
    expect a connected tcp "$b" 9000
    expect a refused tcp "$b" 8080
    expect a timeout tcp "$b2" 8080
}

# expect_trace APP DST WHAT: flowctl/trace of a TCP connection from APP to
# DST port EXT_PORT on APP's cell ends in a verdict that names WHAT.
expect_trace() {
    local cell out
    cell=$(cat "$FC_STATE/apps/$1/cell")
    out=$(fcctl_on "$cell" flowctl/trace "$(handle_of "$1")" "$2" tcp \
          "$EXT_PORT" | sed -n 's/^verdict: //p')
    grep -qF "$3" <<<"$out" \
        || fail "flowctl/trace $1 -> $2 does not name '$3': $out"
    echo "ok: trace $1 -> $2: $out"
}
