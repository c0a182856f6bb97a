# Sandbox for cni-ovs system tests: a private run directory, a "cell"
# network namespace with its own ovsdb-server and ovs-vswitchd (userspace
# datapath), and container namespaces.  Everything a test makes is recorded
# by name and pid and removed when the test ends, pass or fail, with the
# helpers of scripts/lib/harness.sh (sourced here for every test file, and
# for cfnet-cluster.sh and flowctl/simlib.sh: pid records, namespaces,
# waits, host_ifname, fail, log checks).
#
# Names carry a per-test prefix (cfT<pid>-) so that parallel runs and other
# software cannot collide with them.
#
# Helpers for tests:
#   sb_cell CMD...           run CMD in the cell namespace (OVS env set)
#   vsctl ARGS...            ovs-vsctl against the sandbox database
#   sb_netns NAME            make container namespace NAME ($PFX prefixed),
#                            prints its path
#   sb_conf [JQ-FILTER]      print a CNI config (1.0.0) edited by JQ-FILTER
#   cni CMD HANDLE NS CONF   run cni-ovs in the cell; sets OUT, ERR, RC
#   check COND...            assert with a message (shows state on failure)
#   expect_eq A B WHAT       assert A == B

SB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/lib/harness.sh
. "$SB_TOP/scripts/lib/harness.sh"
CNI_OVS=${CFNET_OUT:-$SB_TOP/build}/bin/cni-ovs
OVS_SCHEMA=$SB_TOP/build/ovs/src/vswitchd/vswitch.ovsschema
CELL_SUBNET=10.255.7.0/24
CELL_MTU=1450

sb_log() { echo "## $*"; }

# Runs test function $1 with a fresh sandbox; teardown always runs.  A test
# file may bring its own sandbox by defining file_setup and file_teardown
# (file_teardown gets the test's exit status and must exit with it).
sb_run_test() {
    if declare -F file_setup >/dev/null; then
        trap file_teardown EXIT
        file_setup
        "$1"
        file_check_logs
        return
    fi
    trap sb_teardown EXIT
    sb_setup
    "$1"
    sb_check_clean_logs
}

sb_setup() {
    hs_run_prefix PFX cfT -
    SB=$(mktemp -d /tmp/cni-ovs-test.XXXXXX)
    CELL_NS=${PFX}cell
    : > "$SB/netns.list"
    : > "$SB/pids.list"
    export OVS_RUNDIR=$SB OVS_LOGDIR=$SB OVS_DBDIR=$SB OVS_SYSCONFDIR=$SB
    export DB_SOCK=$SB/db.sock
    mkdir -p "$SB/ipam" "$SB/cni-bin"
    ln -s "$CNI_OVS" "$SB/cni-bin/cni-ovs"
    ln -s /usr/lib/cni/host-local "$SB/cni-bin/host-local"

    hs_netns_add "$SB/netns.list" "$CELL_NS"
    sb_cell ip link set lo up

    hs_ovsdb_start "$CELL_NS" "$SB" "$OVS_SCHEMA"
    hs_record_pid "$SB/pids.list" "$(cat "$SB/ovsdb-server.pid")" ovsdb-server
    vsctl --no-wait init
    hs_vswitchd_start "$CELL_NS" "$SB"
    hs_record_pid "$SB/pids.list" "$(cat "$SB/ovs-vswitchd.pid")" \
        ovs-vswitchd
    vsctl add-br br-cf -- set bridge br-cf datapath_type=netdev \
        fail-mode=secure
    sb_set_cell "$CELL_SUBNET" "$CELL_MTU"
}

# Writes what flowctl would: the cell's subnet and container MTU.
sb_set_cell() {
    vsctl set open_vswitch . external_ids:cf-subnet="$1" \
        external_ids:cf-mtu="$2"
}

sb_teardown() {
    local rc=$?
    trap - EXIT
    set +eE
    if [ $rc -ne 0 ]; then
        sb_dump_state
    fi
    # Daemons: ask them to exit, then make sure, by recorded pid.
    if [ -f "$SB/ovs-vswitchd.pid" ]; then
        sb_cell ovs-appctl -t "$SB/ovs-vswitchd.$(cat "$SB/ovs-vswitchd.pid").ctl" \
            exit >/dev/null 2>&1
    fi
    if [ -f "$SB/ovsdb-server.pid" ]; then
        ovs-appctl -t "$SB/ovsdb-server.$(cat "$SB/ovsdb-server.pid").ctl" \
            exit >/dev/null 2>&1
    fi
    hs_stop_recorded "$SB/pids.list"
    hs_netns_del_recorded "$SB/netns.list"
    hs_sandbox_remove $rc "$SB"
    exit $rc
}

sb_dump_state() {
    echo "---- state at failure ----"
    echo "OUT=${OUT:-} RC=${RC:-}"
    echo "ERR=${ERR:-}"
    vsctl show 2>&1 | head -40
    sb_cell ip -br link 2>&1 | head -40
    echo "---- ovs-vswitchd.log (tail) ----"
    tail -15 "$SB/ovs-vswitchd.log" 2>/dev/null
}

# Fails the test if the daemons logged an unexpected warning or error
# (like OVS's check_logs).  Tests can list extra patterns to ignore in
# SB_LOG_IGNORE (an extended regex).
sb_check_clean_logs() {
    # CNI processes are short-lived OVSDB clients: the server may notice
    # one leaving in the middle of an update (HS_LOG_IGNORE_CLIENTS).
    local bad
    bad=$(hs_log_warnings "${SB_LOG_IGNORE:-}" "$SB"/*.log)
    if [ -n "$bad" ]; then
        echo "unexpected warnings in daemon logs:"
        echo "$bad"
        return 1
    fi
}

sb_cell() { ip netns exec "$CELL_NS" "$@"; }
vsctl() { ovs-vsctl --db=unix:"$DB_SOCK" --timeout=20 "$@"; }

sb_netns() {
    local ns=$PFX$1
    hs_netns_add "$SB/netns.list" "$ns"
    echo "/var/run/netns/$ns"
}

# A CNI config as garden-external-networker passes it (conflist entry with
# name and cniVersion filled in, metadata and runtimeConfig injected).
sb_conf() {
    local filter=${1:-.}
    local template
    template=$(cat <<'EOF2'

{
  "cniVersion": "1.0.0",
  "name": "cf-net",
  "type": "cni-ovs",
  "bridge": "br-cf",
  "ovsdb": $db,
  "datapath_type": "netdev",
  "dns_servers": ["169.254.0.2"],
  "ipam": {"type": "host-local", "dataDir": $ipamdir},
  "metadata": {
    "policy_group_id": "d5bbc5eb-app", "app_id": "d5bbc5eb-app",
    "space_id": "f0c6-space", "org_id": "9e1a-org", "ports": "8080",
    "container_workload": "app",
    "log_config": "{\"guid\":\"d5bbc5eb-app\",\"index\":0,\"source_name\":\"CELL\",\"tags\":{}}"
  },
  "runtimeConfig": {
    "portMappings": [{"host_port": 61000, "container_port": 8080}],
    "netOutRules": [
      {"protocol": 1, "networks": [{"start": "10.0.0.1", "end": "10.0.0.255"}],
       "ports": [{"start": 80, "end": 443}], "log": true},
      {"protocol": 3, "networks": [{"start": "0.0.0.0", "end": "255.255.255.255"}],
       "icmps": {"type": 8, "code": 0}}
    ]
  }
}
EOF2
)
    jq -nc --arg ipamdir "$SB/ipam" --arg db "unix:$DB_SOCK" \
        "$template | $filter"
}

# cni CMD HANDLE NETNS CONF: runs cni-ovs in the cell namespace exactly as
# libcni does; OUT gets stdout, ERR stderr, RC the exit code.
cni() {
    local cmd=$1 handle=$2 netns=$3 conf=$4
    # Under SANITIZE=1 a sanitizer report fails the test, whatever the
    # exit code the test expected.  CNI_CAPS (comma-separated names) cuts
    # cni-ovs's capabilities to those (its bounding set: root keeps no
    # other).
    local bound=()
    if [ -n "${CNI_CAPS:-}" ]; then
        bound=(setpriv --inh-caps=-all --bounding-set="-all,+${CNI_CAPS//,/,+}" --)
    fi
    hs_capture "cni-ovs $cmd $handle" \
        sb_cell env -i PATH="$PATH" \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
        CNI_COMMAND="$cmd" CNI_CONTAINERID="$handle" CNI_NETNS="$netns" \
        CNI_IFNAME=eth0 CNI_PATH="$SB/cni-bin" "${bound[@]}" "$CNI_OVS" \
        < <(printf '%s' "$conf")
}

# host_ifname HANDLE (harness.sh): the host-side veth name cni-ovs derives
# from a container id.

check() {
    local msg=$1
    shift
    if ! "$@"; then
        echo "check failed: $msg"
        echo "  command: $*"
        return 1
    fi
}

expect_eq() {
    if [ "$1" != "$2" ]; then
        echo "expected $3 to be '$2', got '$1'"
        return 1
    fi
}

# Asserts that nothing of container HANDLE is left: no port or interface
# row, no host veth, no IPAM reservation.
expect_nothing_left() {
    local handle=$1 ifname
    ifname=$(host_ifname "$handle")
    expect_eq "$(vsctl --bare --columns=name find interface \
                 external_ids:cf-handle="$handle")" "" "interfaces of $handle"
    expect_eq "$(vsctl --bare --columns=name find port name="$ifname")" "" \
        "port $ifname"
    if sb_cell ip link show "$ifname" >/dev/null 2>&1; then
        echo "veth $ifname still exists"; return 1
    fi
    if grep -rlx "$handle" "$SB/ipam" 2>/dev/null | grep -q .; then
        echo "IPAM reservation of $handle still exists"; return 1
    fi
    if grep -rl "^$handle" "$SB/ipam" 2>/dev/null | grep -q .; then
        echo "IPAM reservation of $handle still exists"; return 1
    fi
}
