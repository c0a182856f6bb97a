# harness.sh: the bookkeeping that every harness of cni-ovs shares.
#
# Sourced (never run) by scripts/cell-sim and by the system tests' harnesses
# (tests/system/lib.sh, which the test runner sources first, and through it
# tests/system/cfnet-cluster.sh and tests/system/flowctl/simlib.sh), each by
# a path relative to itself.  It defines functions only: sourcing it twice
# is harmless, and it sets no shell options, traps or globals other than
# HS_POLL's default.  A fix to how processes, namespaces or waits are
# handled lands here once.
#
# Records.  Whatever a harness makes is written to a record file before or
# as it is made, and removed from the record only by name or pid, never by
# a pattern (no pkill, no killall):
#   - a pid list: one line "PID START LABEL" per process, START being the
#     kernel's start time of the process (pid_start), so that a pid the
#     kernel has since given to another process is never signalled.  A line
#     with a bare PID (some test files append one themselves) is stopped
#     if that pid still runs;
#   - a namespace list: one namespace name per line.
#
# Processes
#   pid_start PID        prints PID's kernel start time (field 22 of
#                        /proc/PID/stat); fails if there is no such process
#                        or it is a zombie (dead, not reaped yet)
#   pid_is PID START     PID still is the process that started at START
#   pid_alive PID        PID runs (and is not a zombie)
#   hs_record_pid LIST PID LABEL
#                        appends "PID START LABEL" to LIST; fails, saying
#                        so, if PID does not run
#   hs_stop_pid PID START
#                        SIGTERM, up to 5 s for it to end, then SIGKILL and
#                        up to 2 s more; does nothing if PID is not (any
#                        more) the process recorded with START; says so on
#                        stderr if it survives
#   hs_stop_recorded LIST
#                        hs_stop_pid for every line of LIST (a missing LIST
#                        is an empty one)
#
# Namespaces
#   hs_netns_add LIST NS records NS in LIST, then creates it (recorded
#                        first, so that an interrupted run leaves a record)
#   hs_netns_exists NS   NS exists (not `ip netns list`: that asks the
#                        kernel about every namespace, and complains about
#                        those others are deleting)
#   hs_netns_stop_pids NS
#                        stops (hs_stop_pid) every process still inside NS:
#                        a namespace outlives `ip netns del` while one does
#   hs_netns_del_recorded LIST [FN]
#                        for every namespace of LIST: its processes stopped,
#                        the namespace deleted, then FN NS if given (e.g. to
#                        remove the namespace's /etc/netns files)
#
# Names
#   host_ifname HANDLE   the host end of a container's veth, as cni-ovs
#                        names it: "cf" and the first 12 hex digits of the
#                        SHA-1 of the container id (handle)
#   hs_run_prefix VAR BASE [SEP]
#                        sets VAR to BASE, the pid of the calling (sub)shell
#                        ($BASHPID: each test runs in a subshell of its own)
#                        and SEP: the prefix of every name a test makes
#                        (namespaces, sims), so that parallel runs and other
#                        software never collide with them.  Call it without
#                        $(...), whose subshell would have another pid.
#                        (cell-sim's names are cs-<name>-, the name given.)
#
# Waiting
#   hs_wait SECS CMD...  runs CMD (output discarded) until it succeeds, every
#                        HS_POLL seconds (default 0.1); fails after SECS
#                        seconds.  The caller says what it waited for (e.g.
#                        simlib's wait_until, the cluster harness's cl_wait)
#
# Failures and logs (tests)
#   fail MESSAGE...      prints "FAIL: MESSAGE", appends it to the file
#                        HS_FAILURES (if set) and returns 1, which ends a
#                        test running under set -e
#   hs_report_failures RC
#                        for a failed test (RC != 0): "---- failure ----"
#                        and what fail recorded (or a hint that a command
#                        failed), last, so that the runner's tail shows it
#   hs_sandbox_remove RC DIR
#                        removes a test's directory DIR, unless the test
#                        failed (RC != 0) and CFNET_KEEP=1 asks to keep it
#   hs_capture WHAT CMD...   runs CMD (stdin passed on); OUT gets its
#                        stdout, ERR its stderr, RC its exit code; fails
#                        (whatever RC) if ERR holds a sanitizer report,
#                        which it prints naming WHAT
#   hs_sanitizer_report WHAT TEXT
#                        fails, printing TEXT, if TEXT holds a sanitizer
#                        report (HS_SANITIZER_RE)
#   hs_log_warnings IGNORE FILE...
#                        prints the lines of the FILEs logged at WARN, ERR
#                        or EMER (OVS's log format), with their file names,
#                        other than those HS_LOG_IGNORE_CLIENTS or IGNORE (an
#                        extended regex, or empty) matches
#   HS_LOG_IGNORE_CLIENTS
#                        short-lived OVSDB and unixctl clients (ovs-vsctl,
#                        cni-ovs, ovs-appctl): a server may notice one
#                        leaving in the middle of an exchange
#   HS_LOG_IGNORE_OVS_LOAD
#                        OVS daemons' timeval warnings about a slow machine
#                        (always ignored, as OVS's check_logs does)
#
# Cluster and flowctl state
#   hs_cluster_member_ok N CMD...
#                        CMD prints a member's cluster/status (cfnet-db
#                        status): it is a cluster member, knows a leader and
#                        sees N servers
#   hs_flowctl_synced CTL
#                        the flowctl whose unixctl socket is CTL says it
#                        is ready (flowctl/ready: the cell set up, and OVS
#                        has committed every flow table it put)
#
# OVS daemons of a cell (DIR holds the database, sockets, pidfiles and logs;
# they run in namespace NS with OVS_RUNDIR and friends set to DIR)
#   hs_in_ovs NS DIR CMD...  CMD in NS with that environment
#   hs_ovsdb_start NS DIR SCHEMA
#                        creates DIR/conf.db from SCHEMA and starts
#                        ovsdb-server on it (unix socket DIR/db.sock)
#   hs_ovsdb_run NS DIR  starts ovsdb-server on DIR/conf.db as it is (a
#                        restart)
#   hs_vswitchd_start NS DIR
#                        starts ovs-vswitchd (userspace datapath only) on
#                        DIR/db.sock
#   They detach, write DIR/<daemon>.pid and log to DIR/<daemon>.log; the
#   caller records the pid.

: "${HS_POLL:=0.1}"

# What ASan and UBSan print (SANITIZE=1 builds).
HS_SANITIZER_RE='ERROR: (Address|Leak)Sanitizer|runtime error:'
HS_LOG_IGNORE_CLIENTS='connection dropped|Dropped [0-9]+ log messages'
HS_LOG_IGNORE_CLIENTS+='|unix#[0-9]+: (receive error: Connection reset by peer'
HS_LOG_IGNORE_CLIENTS+='|send error: Broken pipe)'
# What OVS's own daemons say when the machine, not the daemon, is slow (a
# loaded test machine stalls them in the kernel); OVS's test suite ignores
# the same lines (check_logs in tests/ofproto-macros.at).  flowctl's own log
# is not covered: a long poll interval there is ours to explain.
HS_LOG_IGNORE_OVS_LOAD='(ovsdb-server|ovs-vswitchd|cfnet-db)[^/:]*\.log:'
HS_LOG_IGNORE_OVS_LOAD+='.*\|timeval\|WARN\|(Unreasonably long [0-9]+ms poll '
HS_LOG_IGNORE_OVS_LOAD+='interval|faults: |disk: |context switches: )'

# ---------------------------------------------------------------------------
# Processes

pid_start() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    [ "$1" != Z ] || return 1
    echo "${20}"
}

pid_is() {
    local now
    now=$(pid_start "$1" 2>/dev/null) && [ "$now" = "$2" ]
}

pid_alive() { pid_start "$1" >/dev/null; }

hs_record_pid() {
    local list=$1 pid=$2 label=$3 start
    if ! start=$(pid_start "$pid"); then
        echo "harness: process $pid ($label) is not running" >&2
        return 1
    fi
    echo "$pid $start $label" >> "$list"
}

hs_stop_pid() {
    local pid=$1 start=$2 i
    pid_is "$pid" "$start" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        pid_is "$pid" "$start" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 20); do
        pid_is "$pid" "$start" || return 0
        sleep 0.1
    done
    echo "harness: process $pid did not die" >&2
}

hs_stop_recorded() {
    local list=$1 pid start label
    [ -f "$list" ] || return 0
    while read -r pid start label; do
        [ -n "$pid" ] || continue
        if [ -z "$start" ]; then
            start=$(pid_start "$pid") || continue
        fi
        hs_stop_pid "$pid" "$start"
    done < "$list"
}

# ---------------------------------------------------------------------------
# Namespaces

hs_netns_add() {
    echo "$2" >> "$1"
    ip netns add "$2"
}

hs_netns_exists() {
    [ -e "/var/run/netns/$1" ]
}

hs_netns_stop_pids() {
    local pid start
    hs_netns_exists "$1" || return 0
    for pid in $(ip netns pids "$1" 2>/dev/null); do
        start=$(pid_start "$pid") || continue
        hs_stop_pid "$pid" "$start"
    done
}

hs_netns_del_recorded() {
    local list=$1 fn=${2:-} ns
    [ -f "$list" ] || return 0
    while read -r ns; do
        [ -n "$ns" ] || continue
        hs_netns_stop_pids "$ns"
        ip netns del "$ns" 2>/dev/null
        [ -z "$fn" ] || "$fn" "$ns"
    done < "$list"
    return 0
}

# ---------------------------------------------------------------------------
# Names

hs_run_prefix() {
    printf -v "$1" '%s%s%s' "$2" "$BASHPID" "${3:-}"
}

host_ifname() {
    echo "cf$(printf '%s' "$1" | sha1sum | cut -c1-12)"
}

# ---------------------------------------------------------------------------
# Waiting

hs_wait() {
    local secs=$1 deadline
    shift
    deadline=$(($(date +%s%N) + secs * 1000000000))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -le "$deadline" ] || return 1
        sleep "$HS_POLL"
    done
}

# ---------------------------------------------------------------------------
# Failures and logs

fail() {
    if [ -n "${HS_FAILURES:-}" ]; then
        echo "FAIL: $*" | tee -a "$HS_FAILURES"
    else
        echo "FAIL: $*"
    fi
    return 1
}

hs_report_failures() {
    [ "$1" -ne 0 ] || return 0
    echo "---- failure ----"
    if [ -s "${HS_FAILURES:-}" ]; then
        cat "$HS_FAILURES"
    else
        echo "(a command of the test failed: see above)"
    fi
}

hs_sandbox_remove() {
    if [ "$1" -ne 0 ] && [ "${CFNET_KEEP:-0}" = 1 ]; then
        echo "sandbox kept in $2"
    else
        rm -rf "$2"
    fi
}

hs_sanitizer_report() {
    if grep -qE "$HS_SANITIZER_RE" <<<"$2"; then
        echo "sanitizer report from $1:"
        echo "$2"
        return 1
    fi
}

hs_capture() {
    local what=$1 o e
    shift
    o=$(mktemp) e=$(mktemp)
    RC=0
    "$@" >"$o" 2>"$e" || RC=$?
    OUT=$(cat "$o") ERR=$(cat "$e")
    rm -f "$o" "$e"
    hs_sanitizer_report "$what" "$ERR"
}

hs_log_warnings() {
    local ignore="($HS_LOG_IGNORE_CLIENTS)|$HS_LOG_IGNORE_OVS_LOAD"
    [ -z "$1" ] || ignore+="|($1)"
    shift
    grep -HE '\|(WARN|ERR|EMER)\|' "$@" 2>/dev/null \
        | grep -vE "$ignore" || true
}

# ---------------------------------------------------------------------------
# Cluster and flowctl state

hs_cluster_member_ok() {
    local n=$1 st
    shift
    st=$("$@" 2>/dev/null) || return 1
    grep -q '^Status: cluster member$' <<<"$st" || return 1
    grep -qE '^Leader: (self|[0-9a-f]{4})' <<<"$st" || return 1
    [ "$(sed -n '/^Servers:/,$p' <<<"$st" \
         | grep -cE '^ +[0-9a-f]{4} ')" = "$n" ]
}

hs_flowctl_synced() {
    timeout 5 ovs-appctl -t "$1" flowctl/ready >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
# OVS daemons of a cell

hs_in_ovs() {
    local ns=$1 d=$2
    shift 2
    OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d \
        ip netns exec "$ns" "$@"
}

hs_ovsdb_start() {
    local ns=$1 d=$2 schema=$3
    ovsdb-tool create "$d/conf.db" "$schema"
    hs_ovsdb_run "$ns" "$d"
}

# hs_ovsdb_run NS DIR: ovsdb-server on the database DIR/conf.db that
# exists (a restart), as hs_ovsdb_start runs it.
hs_ovsdb_run() {
    local ns=$1 d=$2
    hs_in_ovs "$ns" "$d" ovsdb-server --detach --no-chdir -vconsole:err \
        --pidfile="$d/ovsdb-server.pid" --log-file="$d/ovsdb-server.log" \
        --remote=punix:"$d/db.sock" "$d/conf.db"
}

hs_vswitchd_start() {
    local ns=$1 d=$2
    hs_in_ovs "$ns" "$d" ovs-vswitchd --detach --no-chdir -vconsole:err \
        --disable-system --pidfile="$d/ovs-vswitchd.pid" \
        --log-file="$d/ovs-vswitchd.log" unix:"$d/db.sock"
}
