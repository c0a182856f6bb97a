# System tests of flowctl's directory (flowctl/directory.c, the cfnet-db
# adapter: subnet leases), driven by build/tests/directory-driver against a
# real three-member cfnet-db cluster.  As in test-cfnet-db.sh (the cluster
# is cfnet-cluster.sh's), each member runs in its own network namespace and
# a fourth holds the Linux bridge that joins them; the drivers run in a
# fifth, "client", namespace.  The addresses are from TEST-NET-1
# (192.0.2.0/24) and exist only inside those namespaces.  The drivers'
# underlay addresses (192.0.2.100 and up) are only names in the directory:
# nothing listens on them.
#
# The tests bring their own sandbox (file_setup/file_teardown, see lib.sh):
# every namespace, ovsdb-server and driver is recorded by name or pid and
# removed when the test ends, pass or fail.  Run by tests/system/run-file,
# as root.

# shellcheck source=cfnet-cluster.sh
. "$SB_TOP/tests/system/cfnet-cluster.sh"

DT_DRIVER=${CFNET_OUT:-$SB_TOP/build}/tests/directory-driver
DT_DRIVER_ENV=()        # NAME=VALUE... for the next driver (dt_clocked_driver)
CL_POLL_DS=1            # cl_wait tries every 0.1 s (CL_TIMEOUT: 30 s)

# ---------------------------------------------------------------------------
# Setup, teardown, logs

file_setup() {
    cl_sandbox cfL cfnet-dir-test
    : > "$CL_TMP/drivers.list"
    DT_LOG_IGNORE=''
    [ -x "$DT_DRIVER" ] || fail "no $DT_DRIVER: run make"
    DT_CLIENT_NS=$(cl_ns c)
    cl_network 1 2 3 c
}

file_teardown() {
    cl_teardown $? dt_dump_state dt_stop_drivers
}

# dt_stop_drivers RC: drivers first, asked to exit (so that a sanitizer
# build checks for leaks), then killed; only pids that are still our
# drivers.  Then, if the test passed so far, the sanitizers' verdict.
dt_stop_drivers() {
    local name pid
    while read -r name pid; do
        [ -n "$pid" ] || continue
        if dt_is_driver "$pid"; then
            timeout 2 ovs-appctl -t "$CL_TMP/$name.ctl" exit \
                >/dev/null 2>&1
        fi
    done < "$CL_TMP/drivers.list"
    while read -r name pid; do
        [ -n "$pid" ] || continue
        for _ in $(seq 20); do
            dt_is_driver "$pid" || break
            sleep 0.1
        done
        dt_is_driver "$pid" && kill -KILL "$pid" 2>/dev/null
    done < "$CL_TMP/drivers.list"
    [ "$1" -ne 0 ] || dt_check_sanitizers
}

# True if 'pid' is a directory-driver (comm is cut to 15 characters).
dt_is_driver() {
    [ "$(cat "/proc/$1/comm" 2>/dev/null)" = directory-drive ]
}

# After the members' state (cl_dump_state), the rows and the drivers'.
dt_dump_state() {
    echo "-- Cell rows --"
    dt_select_cells 2>&1 | head -30
    local name pid
    while read -r name pid; do
        echo "-- driver $name (pid $pid): output (last 3), log (last 8) --"
        tail -3 "$CL_TMP/$name.out" 2>/dev/null
        tail -8 "$CL_TMP/$name.log" 2>/dev/null
        if dt_is_driver "$pid"; then
            timeout 2 ovs-appctl -t "$CL_TMP/$name.ctl" directory/show \
                2>&1 | head -12
        fi
    done < <(head -4 "$CL_TMP/drivers.list")
}

# Killing members is part of the tests: the others log lost connections
# and elections, and the drivers' IDLs log the connections they lose or
# cannot make.  Anything else at warning level or above fails the test,
# apart from what a test expects (DT_LOG_IGNORE, an extended regex).
file_check_logs() {
    local ignore='No route to host'
    ignore+='|tcp:192\.0\.2\.[0-9]+:[0-9]+: (connect|connection) '
    ignore+='|ignoring vote request received after only'
    # Cells claiming at once may collide on a subnet: the index refuses
    # the second claim, which is retried (the IDL warns).
    ignore+='|ovsdb_idl\|WARN\|transaction error: .*constraint violation'
    [ -n "$DT_LOG_IGNORE" ] && ignore+="|$DT_LOG_IGNORE"
    cl_check_logs "$ignore" "the logs" \
        "$CL_TMP"/m*/cfnet-db.log "$CL_TMP"/*.log
    dt_check_sanitizers
}

# Under SANITIZE=1, any sanitizer report from a driver fails the test.
dt_check_sanitizers() {
    local bad
    bad=$(grep -lE "$HS_SANITIZER_RE" "$CL_TMP"/*.log 2>/dev/null || true)
    if [ -n "$bad" ]; then
        fail "sanitizer reports in: $bad
$(grep -hE -A12 "$HS_SANITIZER_RE" "$CL_TMP"/*.log | head -40)"
    fi
}

expect_eq() {
    [ "$1" = "$2" ] || fail "expected $3 to be '$2', got '$1'"
}

# ---------------------------------------------------------------------------
# The cluster

dt_now() { date +%s%3N; }
dt_remotes() {
    local i r=''
    for i in 1 2 3; do
        r+="${r:+,}tcp:$(cl_ip "$i"):$CL_CLIENT_PORT"
    done
    echo "$r"
}

# dt_kill I: kills member I (SIGKILL, like a crash) and waits until it is
# gone.
dt_kill() {
    local pid
    pid=$(cat "$(cl_dir "$1")/cfnet-db.pid")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ovsdb-server ] \
        || fail "member $1 (pid $pid) is not running"
    kill -KILL "$pid"
    cl_wait "member $1 (pid $pid) to exit" cl_gone "$pid"
    DT_DEAD+=" $1"
}

# dt_restart I: starts killed member I again.
dt_restart() {
    cl_restart "$1"
    DT_DEAD=$(sed "s/ $1\b//" <<<"$DT_DEAD")
}

DT_DEAD=''

# dt_overlay NETWORKS PLEN LIFETIME_S: writes the Overlay row.
dt_overlay() {
    "$CL_SCRIPT" overlay --dir "$(cl_dir 1)" --networks "$1" \
        --prefix-length "$2" --lease-lifetime "$3"
}

# A member that is running (for reads).
dt_live_member() {
    local i
    for i in 1 2 3; do
        if ! grep -qw "$i" <<<"$DT_DEAD"; then
            echo "$i"
            return
        fi
    done
}

# dt_transact OPS: one transaction on CFNet through a live member's local
# socket; OUT gets the result, which must have no error.
dt_transact() {
    cl_transact "$(dt_live_member)" "$1"
    cl_ok || fail "transaction failed: $1: $OUT"
}

# The Cell rows, one per line: "UNDERLAY_IP SUBNET LEASE_EXPIRES RENEWED",
# sorted.
dt_select_cells() {
    local out
    out=$(ovsdb-client --timeout=10 transact \
              "unix:$(cl_dir "$(dt_live_member)")/cfnet-db.sock" \
              '["CFNet", {"op": "select", "table": "Cell", "where": []}]' \
              2>&1) || return 1
    jq -r '.[0].rows[] | "\(.underlay_ip) \(.subnet) \(.lease_expires) \(.renewed)"' \
        <<<"$out" | sort
}

# dt_cell IP: the row of the cell with underlay address IP (as above), or
# nothing.
dt_cell() {
    dt_select_cells | awk -v ip="$1" '$1 == ip'
}

# ---------------------------------------------------------------------------
# The drivers

# dt_driver NAME UNDERLAY_IP [OPTION...]: starts a directory-driver in the
# client namespace: stdout in NAME.out, log in NAME.log, unixctl NAME.ctl.
dt_driver() {
    local name=$1 ip=$2
    shift 2
    ip netns exec "$DT_CLIENT_NS" env \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
        "${DT_DRIVER_ENV[@]}" \
        "$DT_DRIVER" -vdirectory:console:dbg --unixctl="$CL_TMP/$name.ctl" "$@" "$(dt_remotes)" \
        "$ip" > "$CL_TMP/$name.out" 2> "$CL_TMP/$name.log" &
    echo "$name $!" >> "$CL_TMP/drivers.list"
}

# dt_clocked_driver NAME UNDERLAY_IP [OPTION...]: as dt_driver, with a wall
# clock of its own that dt_clock moves (libfaketime, which reads NAME.clock
# at every clock read; the monotonic clock is left alone, as a real clock
# step leaves it).
dt_clocked_driver() {
    local lib
    lib=$(dt_faketime_lib) || fail "no libfaketime: run scripts/install-deps system"
    echo +0 > "$CL_TMP/$1.clock"
    local DT_DRIVER_ENV=(
        LD_PRELOAD="$lib" FAKETIME_TIMESTAMP_FILE="$CL_TMP/$1.clock"
        FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    )
    dt_driver "$@"
}

dt_faketime_lib() {
    local f
    for f in /usr/lib/*/faketime/libfaketime.so.1; do
        [ -e "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

# dt_clock NAME OFFSET: driver NAME's wall clock is OFFSET from the real
# one from now on (faketime's format: +0, -1h, +3600).
dt_clock() { echo "$2" > "$CL_TMP/$1.clock"; }

dt_driver_pid() {
    awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$CL_TMP/drivers.list"
}

# dt_stop NAME: makes driver NAME exit (unixctl exit) and waits for it.
dt_stop() {
    local pid
    pid=$(dt_driver_pid "$1")
    ovs-appctl -t "$CL_TMP/$1.ctl" exit
    cl_wait "driver $1 (pid $pid) to exit" cl_gone "$pid"
}

# The lease driver NAME last reported ("" if none yet).
dt_lease() {
    awk '$1 == "lease" && $2 != "none" { l = $2 } END { print l }' \
        "$CL_TMP/$1.out" 2>/dev/null
}
dt_has_lease() { [ -n "$(dt_lease "$1")" ]; }
dt_wait_lease() { cl_wait "driver $1 to report a lease" dt_has_lease "$1"; }

# The distinct leases driver NAME ever reported, one per line.
dt_leases_reported() {
    awk '$1 == "lease" && $2 != "none" { print $2 }' "$CL_TMP/$1.out" \
        | sort -u
}

dt_show() { ovs-appctl -t "$CL_TMP/$1.ctl" directory/show; }

# dt_show_has NAME REGEX: driver NAME's directory/show matches REGEX.
dt_show_has() { dt_show "$1" 2>/dev/null | grep -qE "$2"; }

# dt_row_is IP REGEX: the row of IP matches REGEX.
dt_row_is() { dt_cell "$1" | grep -qE "$2"; }

# dt_expires_after IP MS: IP's row has lease_expires > MS.
dt_expires_after() {
    local e
    e=$(dt_cell "$1" | awk '{ print $3 }')
    [ -n "$e" ] && [ "$e" -gt "$2" ]
}

# dt_renewed_after IP MS: IP's row was renewed after MS.
dt_renewed_after() {
    local r
    r=$(dt_cell "$1" | awk '{ print $4 }')
    [ -n "$r" ] && [ "$r" -gt "$2" ]
}

# dt_renewed_before_after IP BEFORE AFTER: IP's row was renewed, by its
# cell's clock, at a time between AFTER and BEFORE (ms).
dt_renewed_before_after() {
    local r
    r=$(dt_cell "$1" | awk '{ print $4 }')
    [ -n "$r" ] && [ "$r" -lt "$2" ] && [ "$r" -gt "$3" ]
}

# dt_renewed_within IP MS NAME: IP's row, driver NAME's, was renewed within
# the last MS by NAME's clock (+0, -1h or +1h from the real one).
dt_renewed_within() {
    local r offset now
    r=$(dt_cell "$1" | awk '{ print $4 }')
    offset=$(cat "$CL_TMP/$3.clock")
    case $offset in
        +0) now=$(dt_now) ;;
        -1h) now=$(($(dt_now) - 3600000)) ;;
        +1h) now=$(($(dt_now) + 3600000)) ;;
        *) fail "dt_renewed_within: offset $offset" ;;
    esac
    [ -n "$r" ] && [ $((now - r)) -lt "$2" ]
}

dt_no_row() { [ -z "$(dt_cell "$1")" ]; }
dt_n_rows_is() { [ "$(dt_select_cells | wc -l)" = "$1" ]; }

# dt_last_out_has NAME REGEX: driver NAME's last report matches REGEX.
dt_last_out_has() { tail -1 "$CL_TMP/$1.out" | grep -qE "$2"; }

# ---------------------------------------------------------------------------
# Tests

# A cell claims a lease inside the overlay; its row says so, with a lease
# that ends one lifetime after its renewal, in the future.
test_claim_lease() {
    cl_cluster_up
    dt_overlay 10.255.0.0/16 24 60
    local before
    before=$(dt_now)
    dt_driver a 192.0.2.101
    dt_wait_lease a

    local lease row after
    lease=$(dt_lease a)
    after=$(dt_now)
    [[ $lease =~ ^10\.255\.[0-9]{1,3}\.0/24$ ]] \
        || fail "lease $lease is not a /24 of 10.255.0.0/16"
    grep -q "^lease $lease cells 0 connected yes$" "$CL_TMP/a.out" \
        || fail "unexpected output: $(cat "$CL_TMP/a.out")"
    cl_wait "the row of 192.0.2.101" dt_row_is 192.0.2.101 .
    row=$(dt_cell 192.0.2.101)
    local ip subnet expires renewed
    read -r ip subnet expires renewed <<<"$row"
    expect_eq "$subnet" "$lease" "the row's subnet"
    [ "$renewed" -ge "$before" ] && [ "$renewed" -le "$after" ] \
        || fail "renewed $renewed not between $before and $after"
    expect_eq "$((expires - renewed))" 60000 "lease_expires - renewed"
    [ "$expires" -gt "$(dt_now)" ] || fail "lease_expires $expires passed"
    expect_eq "$(dt_select_cells | wc -l)" 1 "the number of Cell rows"

    dt_show_has a "^  lease: ${lease//./\\.}, expires " \
        || fail "directory/show: $(dt_show a)"
    dt_show_has a '^cluster directory: connected since ' \
        || fail "directory/show: $(dt_show a)"
    dt_show_has a '^  claims: 1, renewals: 0, failures: 0$' \
        || fail "directory/show: $(dt_show a)"
    grep -q "claimed lease $lease" "$CL_TMP/a.log" \
        || fail "no 'claimed lease' in the log"
}

# A restarted cell takes its own row back, whatever its subnet (if usable)
# and even if its lease expired meanwhile; an own row that is not usable in
# the overlay is replaced.
test_restart_same_lease() {
    cl_cluster_up
    dt_overlay 10.255.0.0/16 24 60
    dt_driver a 192.0.2.101
    dt_wait_lease a
    local first
    first=$(dt_lease a)
    dt_stop a

    # Restarted as is: the same lease, no new claim.
    dt_driver a2 192.0.2.101
    dt_wait_lease a2
    expect_eq "$(dt_lease a2)" "$first" "the lease after a restart"
    dt_show_has a2 '^  claims: 0, renewals: 1, failures: 0$' \
        || fail "a2 did not keep its row: $(dt_show a2)"
    grep -q "kept lease $first from an earlier run" "$CL_TMP/a2.log" \
        || fail "no 'kept lease' in a2's log"
    dt_stop a2

    # Its row now names another subnet, and has expired: that is the lease
    # the restarted cell takes (a choice by hash would not find it).
    local other=10.255.250.0/24
    [ "$first" != "$other" ] || other=10.255.251.0/24
    local past=$(($(dt_now) - 5000))
    dt_transact '{"op": "update", "table": "Cell",
                  "where": [["underlay_ip", "==", "192.0.2.101"]],
                  "row": {"subnet": "'"$other"'", "lease_expires": '"$past"'}}'
    dt_driver a3 192.0.2.101
    dt_wait_lease a3
    expect_eq "$(dt_lease a3)" "$other" "the lease of the edited row"
    cl_wait "a3's row renewed" dt_expires_after 192.0.2.101 "$(dt_now)"
    expect_eq "$(dt_cell 192.0.2.101 | awk '{ print $2 }')" "$other" \
        "the subnet of a3's row"
    dt_stop a3

    # A row with a subnet outside the overlay is replaced by a new claim.
    dt_transact '{"op": "update", "table": "Cell",
                  "where": [["underlay_ip", "==", "192.0.2.101"]],
                  "row": {"subnet": "10.254.1.0/24"}}'
    dt_driver a4 192.0.2.101
    dt_wait_lease a4
    local fourth
    fourth=$(dt_lease a4)
    [[ $fourth =~ ^10\.255\.[0-9]{1,3}\.0/24$ ]] \
        || fail "a4's lease $fourth is not in the overlay"
    cl_wait "a4's row" dt_row_is 192.0.2.101 " ${fourth//./\\.} "
    expect_eq "$(dt_select_cells | wc -l)" 1 "the number of Cell rows"
    grep -q "replacing our row (subnet 10.254.1.0/24)" "$CL_TMP/a4.log" \
        || fail "no 'replacing our row' in a4's log"
}

# Twenty cells starting at once get twenty different subnets, and each
# learns of the nineteen others; then ten more in one process.
test_many_cells_distinct() {
    cl_cluster_up
    dt_overlay 10.255.0.0/16 24 60
    local i
    for i in $(seq 0 19); do
        dt_driver "d$i" "192.0.2.$((100 + i))"
    done
    for i in $(seq 0 19); do
        dt_wait_lease "d$i"
    done

    local leases
    leases=$(for i in $(seq 0 19); do dt_lease "d$i"; done | sort)
    expect_eq "$(sort -u <<<"$leases" | wc -l)" 20 "distinct leases"
    for i in $(seq 0 19); do
        expect_eq "$(dt_leases_reported "d$i" | wc -l)" 1 \
            "the number of leases d$i reported"
    done
    cl_wait "20 Cell rows" dt_n_rows_is 20
    expect_eq "$(dt_select_cells | awk '{ print $2 }' | sort)" "$leases" \
        "the subnets in the directory"
    for i in $(seq 0 19); do
        expect_eq "$(dt_cell "192.0.2.$((100 + i))" | awk '{ print $2 }')" \
            "$(dt_lease "d$i")" "the row of d$i"
    done
    for i in $(seq 0 19); do
        cl_wait "d$i to know 19 other cells" \
            dt_last_out_has "d$i" ' cells 19 '
    done

    # The benchmark mode: ten directories in one process.
    local out
    out=$(ip netns exec "$DT_CLIENT_NS" "$DT_DRIVER" --claims=10 \
              --prefix-ip=192.0.2.200 --timeout=30 "$(dt_remotes)" \
              2>"$CL_TMP/claims.log")
    [[ $out =~ ^claimed\ 10\ leases\ in\ [0-9]+\ ms$ ]] \
        || fail "--claims 10: $out"
    expect_eq "$(dt_select_cells | awk '{ print $2 }' | sort -u | wc -l)" \
        30 "distinct subnets after 30 claims"
}

# An expired lease is reclaimed when it is the only subnet left, once the
# claimant has seen it unrenewed for a lifetime; a live one never is, until
# it expires.
test_expired_reclaimed() {
    cl_cluster_up
    dt_overlay 10.99.0.0/24 25 3        # Two subnets, leases of 3 s.
    local now
    now=$(dt_now)
    dt_transact "$(cl_cell_op 192.0.2.201 10.99.0.0/25 \
                   $((now + 600000)) "$now"),
                 $(cl_cell_op 192.0.2.202 10.99.0.128/25 \
                   $((now - 1000)) $((now - 4000)))"
    local started
    started=$(dt_now)
    dt_driver a 192.0.2.101
    dt_wait_lease a
    expect_eq "$(dt_lease a)" 10.99.0.128/25 "the reclaimed lease"
    [ $(($(dt_now) - started)) -ge 3000 ] \
        || fail "reclaimed $(($(dt_now) - started)) ms after starting, within a lifetime"
    grep -q 'no free subnet, unless one of the 1 leases that look over' \
        "$CL_TMP/a.log" || fail "no 'unless one of the 1 leases' in a's log"
    cl_wait "the expired row to go" dt_no_row 192.0.2.202
    expect_eq "$(dt_select_cells | awk '{ print $1, $2 }')" \
        "192.0.2.101 10.99.0.128/25
192.0.2.201 10.99.0.0/25" "the rows after the reclaim"
    grep -q 'reclaiming 10.99.0.128/25 from cell 192.0.2.202' \
        "$CL_TMP/a.log" || fail "no 'reclaiming' in the log"

    # The overlay is full: the next cell gets nothing and says so.
    DT_LOG_IGNORE='directory\|ERR\|no free subnet in 10\.99\.0\.0/24 \(2 cells hold leases\)'
    dt_driver b 192.0.2.102
    cl_wait "b to say the overlay is full" \
        grep -q 'no free subnet in 10.99.0.0/24 (2 cells hold leases)' \
        "$CL_TMP/b.log"
    sleep 1
    ! dt_has_lease b || fail "b got a lease in a full overlay: $(dt_lease b)"
    expect_eq "$(dt_select_cells | wc -l)" 2 "the number of rows"
    dt_show_has b '^  lease: none$' || fail "b's show: $(dt_show b)"

    # Once the live lease expires, it is b's.
    dt_transact '{"op": "update", "table": "Cell",
                  "where": [["underlay_ip", "==", "192.0.2.201"]],
                  "row": {"lease_expires": '"$(($(dt_now) - 1))"'}}'
    dt_wait_lease b
    expect_eq "$(dt_lease b)" 10.99.0.0/25 "b's lease"
    cl_wait "the row of 201 to go" dt_no_row 192.0.2.201
    expect_eq "$(dt_lease a)" 10.99.0.128/25 "a's lease"
}

# The cells' clocks disagree and jump (each driver's wall clock is its own,
# moved by dt_clock; monotonic clocks are untouched).  A live lease is
# never taken, whichever way the clocks are an hour apart (the holder's
# behind, the claimant's ahead, the holder's ahead); a dead cell's is taken
# once it has gone a lifetime unrenewed, even though by its own clock it
# was an hour from ending.
test_clocks_jump() {
    cl_cluster_up
    dt_overlay 10.99.0.0/25 25 3        # One subnet, leases of 3 s.
    DT_LOG_IGNORE='directory\|ERR\|no free subnet in 10\.99\.0\.0/25 '
    dt_clocked_driver a 192.0.2.101
    dt_wait_lease a
    local lease
    lease=$(dt_lease a)
    dt_clocked_driver b 192.0.2.102
    cl_wait "b to find no free subnet" \
        grep -q 'no free subnet in 10.99.0.0/25 (1 cells hold leases)' \
        "$CL_TMP/b.log"

    # a's clock steps back an hour: by b's clock its renewals end an hour
    # ago.  Then b's steps an hour ahead, which looks the same to b.  Then
    # a's steps an hour ahead: by b's clock its renewals come from the
    # future.  Each time, b watches a's row and sees it renewed.
    local step who offset t
    for step in "a -1h" "b +1h" "a +1h"; do
        who=${step% *} offset=${step#* }
        dt_clock a +0
        dt_clock b +0
        dt_clock "$who" "$offset"
        t=$(dt_now)
        if [ "$who" = a ]; then
            t=$((t + ${offset%h} * 3600000))
            cl_wait "a to renew with its clock at $offset" \
                dt_renewed_before_after 192.0.2.101 $((t + 100000)) \
                $((t - 100000))
        fi
        sleep 8                         # more than two lifetimes
        expect_eq "$(dt_cell 192.0.2.101 | awk '{ print $2 }')" "$lease" \
            "a's row after 8 s with the clock step ($step)"
        dt_renewed_within 192.0.2.101 2500 a \
            || fail "a stopped renewing with the clock step ($step): $(dt_cell 192.0.2.101)"
        ! dt_has_lease b || fail "b took $(dt_lease b) with the clock step ($step)"
        expect_eq "$(dt_leases_reported a)" "$lease" "a's leases"
        expect_eq "$(dt_select_cells | wc -l)" 1 "the number of rows"
    done
    grep -q 'no free subnet, unless one of the 1 leases that look over' \
        "$CL_TMP/b.log" || fail "b never said it was watching a's lease"

    # a's clock steps an hour ahead, and a stops: its lease ends an hour
    # from now by b's clock, but it is b's a lifetime after its last
    # renewal.
    dt_clock b +0
    dt_clock a +1h
    t=$(dt_now)
    cl_wait "a to renew an hour ahead" \
        dt_renewed_before_after 192.0.2.101 $((t + 3700000)) \
        $((t + 3500000))
    dt_stop a
    local stopped_at
    stopped_at=$(dt_now)
    dt_wait_lease b
    expect_eq "$(dt_lease b)" "$lease" "b's lease after a died"
    [ $(($(dt_now) - stopped_at)) -ge 1500 ] \
        || fail "b took a's lease $(($(dt_now) - stopped_at)) ms after a stopped"
    grep -q "reclaiming ${lease//./\\.} from cell 192\.0\.2\.101 (not renewed for a lease lifetime, 3 s, by this cell's clock; by its wall clock the lease ends in 3[56][0-9][0-9]\.[0-9] s)" \
        "$CL_TMP/b.log" || fail "no 'reclaiming' in b's log: $(grep reclaiming "$CL_TMP/b.log")"
    cl_wait "b's row" dt_row_is 192.0.2.102 " ${lease//./\\.} "
}

# Renewals move lease_expires forward (lifetime 3 s: every second).
test_renewals() {
    cl_cluster_up
    dt_overlay 10.255.0.0/16 24 3
    dt_driver a 192.0.2.101
    dt_wait_lease a
    cl_wait "a's row" dt_row_is 192.0.2.101 .

    local e0 e1 e2 r2
    e0=$(dt_cell 192.0.2.101 | awk '{ print $3 }')
    cl_wait "a renewal" dt_expires_after 192.0.2.101 "$e0"
    e1=$(dt_cell 192.0.2.101 | awk '{ print $3 }')
    cl_wait "a second renewal" dt_expires_after 192.0.2.101 "$e1"
    read -r _ _ e2 r2 <<<"$(dt_cell 192.0.2.101)"
    expect_eq "$((e2 - r2))" 3000 "lease_expires - renewed"
    [ "$e2" -gt "$(dt_now)" ] || fail "the lease expired: $e2"
    # Renewals go on (every second): 3 s later the lease has moved on by
    # at least one renewal's worth, and not by more than the time that
    # passed (with slack for a loaded machine).
    local e3
    sleep 3
    e3=$(dt_cell 192.0.2.101 | awk '{ print $3 }')
    [ $((e3 - e2)) -ge 1000 ] && [ $((e3 - e2)) -le 6000 ] \
        || fail "lease_expires moved $((e3 - e2)) ms in 3 s"
    dt_show_has a '^  claims: 1, renewals: [2-9], failures: 0$' \
        || fail "a's show: $(dt_show a)"
    expect_eq "$(dt_leases_reported a)" "$(dt_lease a)" "a's leases"
}

# With the leader dead, a new cell still claims a lease and an existing
# one still renews; the dead member rejoins when restarted.
test_leader_killed() {
    cl_cluster_up
    dt_overlay 10.255.0.0/16 24 6
    dt_driver a 192.0.2.101
    dt_wait_lease a
    local lease
    lease=$(dt_lease a)

    local leader killed_at
    leader=$(cl_leader) || fail "no leader"
    dt_kill "$leader"
    killed_at=$(dt_now)

    dt_driver b 192.0.2.102
    dt_wait_lease b
    [ "$(dt_lease b)" != "$lease" ] || fail "b got a's lease $lease"
    cl_wait "a to renew after the leader died" \
        dt_renewed_after 192.0.2.101 "$killed_at"
    cl_wait "b's row" dt_row_is 192.0.2.102 .
    expect_eq "$(dt_leases_reported a)" "$lease" "a's leases"

    dt_restart "$leader"
    cl_wait "member $leader to rejoin" cl_all_ok 3 1 2 3
    # And it has the rows written while it was dead.
    local n
    n=$(ovsdb-client --timeout=10 transact \
            "unix:$(cl_dir "$leader")/cfnet-db.sock" \
            '["CFNet", {"op": "select", "table": "Cell", "where": [],
                        "columns": ["subnet"]}]' | jq '.[0].rows | length')
    expect_eq "$n" 2 "rows seen by the rejoined member"
}

# With every member dead, a cell keeps its lease and the cells it knew;
# when the members come back it reconnects and renews, and they are all
# members of the cluster again.
test_all_members_killed() {
    cl_cluster_up
    dt_overlay 10.255.0.0/16 24 3
    dt_driver a 192.0.2.101
    dt_driver b 192.0.2.102
    dt_wait_lease a
    dt_wait_lease b
    cl_wait "a to know b" dt_show_has a '^  cells: 2 \(other cells: 1\)$'
    local lease
    lease=$(dt_lease a)

    local i
    for i in 1 2 3; do
        dt_kill "$i"
    done
    cl_wait "a to lose the directory" \
        dt_show_has a '^cluster directory: not connected since '
    # Longer than a lease: nothing changes for the driver.
    sleep 3.5
    local show
    show=$(dt_show a)
    grep -qE "^  lease: ${lease//./\\.}, expires " <<<"$show" \
        || fail "a lost its lease while disconnected: $show"
    grep -qE '^  cells: 2 \(other cells: 1\)$' <<<"$show" \
        || fail "a forgot the cells while disconnected: $show"
    grep -q '^cluster directory: not connected' <<<"$show" \
        || fail "a says it is connected: $show"
    tail -1 "$CL_TMP/a.out" | grep -q "^lease $lease cells 1 " \
        || fail "a's last report: $(tail -1 "$CL_TMP/a.out")"

    local restarted_at
    restarted_at=$(dt_now)
    for i in 1 2 3; do
        dt_restart "$i"
    done
    cl_wait "the members to form the cluster again" cl_all_ok 3 1 2 3
    # The IDL's reconnection backoff is at its maximum (8 s) by now, and
    # each member it tries before the leader costs one.
    local CL_TIMEOUT=45
    cl_wait "a to reconnect" \
        dt_show_has a '^cluster directory: connected since '
    cl_wait "a to renew after the restart" \
        dt_renewed_after 192.0.2.101 "$restarted_at"
    expect_eq "$(dt_cell 192.0.2.101 | awk '{ print $2 }')" "$lease" \
        "a's row after the restart"
    expect_eq "$(dt_leases_reported a)" "$lease" "a's leases"
    grep -q 'reconnected to the cluster directory after' "$CL_TMP/a.log" \
        || fail "no 'reconnected' in a's log"
}

# A cell whose row disappears claims the same subnet again; while another
# cell holds it, it says so and keeps reporting its lease (its containers
# have addresses in it).
test_row_lost() {
    cl_cluster_up
    dt_overlay 10.255.0.0/16 24 60
    dt_driver a 192.0.2.101
    dt_wait_lease a
    local lease now
    lease=$(dt_lease a)
    cl_wait "a's row" dt_row_is 192.0.2.101 .

    # Someone else has it now (as if a's lease had expired and been
    # reclaimed).
    DT_LOG_IGNORE="directory\\|ERR\\|our lease ${lease//./\\.} is held by cell 192\\.0\\.2\\.201 "
    now=$(dt_now)
    dt_transact '{"op": "delete", "table": "Cell",
                  "where": [["underlay_ip", "==", "192.0.2.101"]]},
                 '"$(cl_cell_op 192.0.2.201 "$lease" \
                     $((now + 600000)) "$now")"
    cl_wait "a to name the holder" \
        grep -q "our lease $lease is held by cell 192.0.2.201" \
        "$CL_TMP/a.log"
    dt_show_has a "^  lease: ${lease//./\\.}, " || fail "a's show: $(dt_show a)"
    [ -z "$(dt_cell 192.0.2.101)" ] || fail "a has a row: $(dt_cell 192.0.2.101)"

    # Once it is free, a takes it back.
    dt_transact '{"op": "delete", "table": "Cell",
                  "where": [["underlay_ip", "==", "192.0.2.201"]]}'
    cl_wait "a's row again" dt_row_is 192.0.2.101 " ${lease//./\\.} "
    grep -q "claimed our lease $lease again" "$CL_TMP/a.log" \
        || fail "no 'claimed our lease again' in a's log"
    expect_eq "$(dt_leases_reported a)" "$lease" "a's leases"
    dt_show_has a '^  claims: 2, ' || fail "a's show: $(dt_show a)"
}

# dt_updates NAME KIND: driver NAME's Cell row updates so far, KIND
# "cells" (its view) or "read" (the rows it read to claim).
dt_updates() {
    dt_show "$1" | awk -v kind="$2" '
        /^  row updates received: / {
            print (kind == "cells" ? $4 : $6)
        }'
}

# dt_messages NAME SESSION: the messages driver NAME's SESSION ("view" or
# "own") received so far, of every kind but inactivity probes.
dt_messages() {
    dt_show "$1" | awk -v kind="$2" '
        /^  messages received: / {
            print (kind == "view" ? $3 : $6)
        }'
}

# dt_has_renewed NAME: driver NAME holds its lease and has renewed it.
dt_has_renewed() { dt_show_has "$1" '^  claims: [0-9]+, renewals: [1-9]'; }

# The other cells' renewals do not reach a cell at all, not as row updates
# and not as any other message (the IDL, which monitors the member's
# _Server row, received one per transaction the cluster committed); a new
# lease does.  A cell whose view replicates the lease times (as before it
# left them out) shows that the count would see them.
test_renewals_reach_only_their_cell() {
    cl_cluster_up
    dt_overlay 10.255.0.0/16 24 3           # renewals every second
    dt_driver a 192.0.2.101
    dt_driver b 192.0.2.102
    dt_driver old 192.0.2.103 --monitor-lease-times
    dt_wait_lease a
    dt_wait_lease b
    dt_wait_lease old
    cl_wait "a to renew" dt_has_renewed a
    cl_wait "old to renew" dt_has_renewed old

    local a_cells a_view a_own old_cells old_view t0
    a_cells=$(dt_updates a cells)
    a_view=$(dt_messages a view)
    a_own=$(dt_messages a own)
    old_cells=$(dt_updates old cells)
    old_view=$(dt_messages old view)
    t0=$(dt_now)
    # The three cells renew about three times each meanwhile: nine
    # transactions the cluster commits.
    cl_wait "b to renew" dt_renewed_after 192.0.2.102 $((t0 + 3000))
    cl_wait "a to renew" dt_renewed_after 192.0.2.101 $((t0 + 3000))
    expect_eq "$(dt_updates a cells)" "$a_cells" \
        "a's view updates while b and old renewed"
    # a's view: at most its periodic check of the member (every 10 s).
    local view_delta=$(($(dt_messages a view) - a_view))
    [ "$view_delta" -le 1 ] \
        || fail "a's view received $view_delta messages in 3 s of the others' renewals"
    # a's own session: the replies to its own renewals (about one a
    # second) and perhaps a check, nothing of the others'.
    local own_delta=$(($(dt_messages a own) - a_own))
    [ "$own_delta" -ge 2 ] && [ "$own_delta" -le 6 ] \
        || fail "a's own session received $own_delta messages in 3 s"
    local old_delta=$(($(dt_updates old cells) - old_cells))
    [ "$old_delta" -ge 4 ] \
        || fail "old's view received $old_delta updates in 3 s of renewals"
    # ... and the message count sees them: a's would have too.
    old_delta=$(($(dt_messages old view) - old_view))
    [ "$old_delta" -ge 4 ] \
        || fail "old's view received $old_delta messages in 3 s of renewals"

    # A new cell's lease reaches a.  To claim, c reads its own row and the
    # expired ones (none here), not the others.
    dt_driver c 192.0.2.104
    dt_wait_lease c
    [ "$(dt_updates c read)" -eq 0 ] \
        || fail "c read $(dt_updates c read) rows to claim"
    cl_wait "a to know c" dt_show_has a '^  cells: 4 '
    [ "$(dt_updates a cells)" -gt "$a_cells" ] \
        || fail "a's view did not count c's new row"
    dt_show_has a '^  claims: 1, renewals: [0-9]+, failures: 0$' \
        || fail "a's show: $(dt_show a)"
}
