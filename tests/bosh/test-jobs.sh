# The BOSH jobs' scripts, run: each job is rendered (scripts/lib/bosh-render.rb
# --root) into a scratch tree laid out as /var/vcap is, with its packages'
# binaries linked from this machine's Open vSwitch and this repository,
# and its scripts run as BOSH and monit would, inside a network namespace
# of the test's own.  Part of `make bosh-test` (tests/run-all), run by
# tests/system/run-file, as root.
#
#   openvswitch: pre-start makes the database; ovs_ctl starts and stops
#     both daemons where monit looks for them; a restart with bridges sets
#     flow-restore-wait, and the watchdog clears it if flowctl does not.
#   flowctl: pre-start removes what silk left (its VTEP, its state, its
#     iptables chains and the jumps to them) and nothing else.
#   cfnet-db: three members bootstrap a cluster from the link (the
#     bootstrap instance creates, the others join); post-start writes the
#     overlay; BBR's backup of the running cluster restores into a fresh
#     cluster with every lease kept.

# shellcheck source=lib.sh
. "$SB_TOP/tests/bosh/lib.sh"

file_setup() {
    bosh_sandbox_setup cfB
    NS=${PFX}vm
    hs_netns_add "$BT/netns.list" "$NS"
    in_vm ip link set lo up
    RENDER=$SB_TOP/scripts/lib/bosh-render.rb
}

file_teardown() {
    local rc=$?
    trap - EXIT
    set +eE
    record_daemons
    bosh_sandbox_teardown "$rc"
}

file_check_logs() {
    local warnings logs
    mapfile -t logs < <(find "$BT" -name '*.log' -path '*/sys/log/*' \
                            ! -name '*_ctl.log' ! -name 'pre-start.log')
    [ ${#logs[@]} -gt 0 ] || return 0
    warnings=$(hs_log_warnings "$LOG_IGNORE" "${logs[@]}")
    [ -z "$warnings" ] || fail "warnings logged:
$warnings"
}
LOG_IGNORE=''

in_vm() { ip netns exec "$NS" "$@"; }

# Every pidfile of a daemon the jobs started, recorded for the teardown.
record_daemons() {
    local f pid
    while read -r f; do
        pid=$(cat "$f" 2>/dev/null) || continue
        if [ -z "$pid" ] || ! pid_alive "$pid"; then
            continue
        fi
        grep -q "^$pid " "$BT/pids.list" \
            || hs_record_pid "$BT/pids.list" "$pid" "$(basename "$f")"
    done < <(find "$BT" -name '*.pid' 2>/dev/null)
}

# vm ROOT: a scratch /var/vcap at ROOT whose packages are this machine's
# Open vSwitch (the openvswitch package) and this repository's build
# (flowctl: flowctl and cfnet-db).
vm() {
    local r=$1 f
    mkdir -p "$r/packages/openvswitch/bin" "$r/packages/openvswitch/share" \
        "$r/packages/flowctl/bin" "$r/jobs"
    for f in ovsdb-tool ovsdb-client ovs-vsctl ovs-appctl ovs-ofctl; do
        ln -sf "$(command -v "$f")" "$r/packages/openvswitch/bin/$f"
    done
    for f in ovsdb-server ovs-vswitchd; do
        ln -sf "/usr/sbin/$f" "$r/packages/openvswitch/bin/$f"
    done
    ln -sfn /usr/share/openvswitch "$r/packages/openvswitch/share/openvswitch"
    ln -sf "$SB_TOP/scripts/cfnet-db" "$r/packages/flowctl/bin/cfnet-db"
    ln -sf "$CFNET_OUT/bin/flowctl" "$r/packages/flowctl/bin/flowctl"
}

# render ROOT JOB MANIFEST-JSON: JOB rendered into ROOT/jobs/JOB.
render() {
    local out
    printf '%s\n' "$3" > "$BT/manifest.json"
    out=$(ruby "$RENDER" --root "$1" "$SB_TOP/bosh/jobs/$2" \
              "$BT/manifest.json" "$1/jobs/$2" "$BT/used" 2>&1) \
        || fail "rendering $2: $out"
}

# ---- openvswitch ----

ovs_vsctl() { in_vm ovs-vsctl --db="unix:$R/sys/run/openvswitch/db.sock" \
                  --timeout=5 "$@"; }
daemon_runs() {
    local pid
    pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && pid_alive "$pid"
}
frw() { ovs_vsctl --if-exists get open_vswitch . \
            other_config:flow-restore-wait 2>/dev/null; }
frw_cleared() { [ -z "$(frw)" ]; }

test_openvswitch_starts_restarts_with_flow_restore_wait() {
    R=$BT/vm
    vm "$R"
    render "$R" openvswitch '{"properties": {"datapath_type": "netdev",
        "flow_restore_wait_timeout": 3}}'
    local j=$R/jobs/openvswitch/bin run=$R/sys/run/openvswitch

    in_vm "$j/pre-start"
    [ -f "$R/data/openvswitch/conf.db" ] || fail "pre-start made no database"
    in_vm "$j/ovs_ctl" start ovsdb-server
    in_vm "$j/ovs_ctl" start ovs-vswitchd
    record_daemons
    local d
    for d in ovsdb-server ovs-vswitchd; do
        daemon_runs "$run/$d.pid" \
            || fail "$d does not run under the pidfile monit watches"
    done
    [ -z "$(frw)" ] || fail "a first start (no bridges) set flow-restore-wait"

    # A restart with a bridge: flow-restore-wait until someone clears it;
    # with no flowctl, the watchdog does after 3 s.
    ovs_vsctl add-br br-cf -- set bridge br-cf datapath_type=netdev \
        fail-mode=secure
    local vswitchd
    vswitchd=$(cat "$run/ovs-vswitchd.pid")
    in_vm "$j/ovs_ctl" stop ovs-vswitchd
    ! pid_alive "$vswitchd" || fail "ovs-vswitchd still runs after stop"
    in_vm "$j/ovs_ctl" start ovs-vswitchd
    record_daemons
    [ "$(frw)" = '"true"' ] \
        || fail "a restart with bridges did not set flow-restore-wait"
    hs_wait 10 frw_cleared \
        || fail "the watchdog did not clear flow-restore-wait in 10 s"
    grep -q 'flow-restore-wait still set after 3s' \
        "$R/sys/log/openvswitch/ovs_ctl.log" \
        || fail "the watchdog did not say why it cleared flow-restore-wait"
    # The bridge works again: OVS answers for its flows.
    in_vm ovs-ofctl dump-flows "unix:$run/br-cf.mgmt" >/dev/null \
        || fail "br-cf does not answer OpenFlow after the restart"

    # A start of a running daemon is a no-op; stop stops both.
    local pid
    pid=$(cat "$run/ovsdb-server.pid")
    in_vm "$j/ovs_ctl" start ovsdb-server
    [ "$(cat "$run/ovsdb-server.pid")" = "$pid" ] \
        || fail "start of a running ovsdb-server started another"
    in_vm "$j/ovs_ctl" stop ovs-vswitchd
    in_vm "$j/ovs_ctl" stop ovsdb-server
    ! pid_alive "$pid" || fail "ovsdb-server still runs after stop"
}

# ---- flowctl ----

# bpm_start ROOT JOB PROCESS: starts PROCESS as bpm would from ROOT's
# rendered config/bpm.yml (its executable, args and env), in the VM's
# namespace, in the background; records its pid.  As bpm's runc container
# would, unless the process is privileged: with the capabilities it lists
# as its bounding set (root keeps no other), and /proc/sys read-only (in
# a mount namespace of its own).  bpm's seccomp profile is not applied.
bpm_start() {
    local argv
    mapfile -d '' argv < <(ruby -ryaml -e '
        bpm = YAML.safe_load(File.read(ARGV[0]))
        p = bpm["processes"].find { |x| x["name"] == ARGV[1] } or abort "no process #{ARGV[1]}"
        env = (p["env"] || {}).map { |k, v| "#{k}=#{v}" }
        jail = []
        unless (p["unsafe"] || {})["privileged"]
            caps = (p["capabilities"] || []).map { |c| "+" + c.downcase }
            jail = ["unshare", "--mount", "--propagation", "private", "--",
                    "sh", "-c", "mount --bind /proc/sys /proc/sys && " \
                    "mount -o remount,bind,ro /proc/sys && exec \"$@\"",
                    "bpm-jail",
                    "setpriv", "--inh-caps=-all",
                    "--bounding-set=" + (["-all"] + caps).join(","), "--"]
        end
        print((jail + ["env"] + env + [p["executable"]] + (p["args"] || [])).join("\0"), "\0")' \
        "$1/jobs/$2/config/bpm.yml" "$3")
    [ ${#argv[@]} -gt 1 ] || fail "no process $3 in $2's bpm.yml"
    # (ip netns exec, unshare, sh's exec, setpriv and env exec: $! is the
    # process itself.)
    ip netns exec "$NS" "${argv[@]}" \
        < /dev/null > "$BT/$3.stdout" 2> "$BT/$3.stderr" &
    hs_record_pid "$BT/pids.list" $! "$3"
    BPM_PID=$!
}

test_flowctl_job_runs_under_its_bpm_config() {
    # Expected: no policy server (its address is the namespace's own
    # loopback: nothing leaves the machine); vswitchd's restart
    # breaks flowctl's OpenFlow connections for a moment; bpm's stop is a
    # SIGTERM.
    LOG_IGNORE='policysync|https|policy server|br-cf.mgmt: connection failed|terminating with signal 15'
    R=$BT/vm
    vm "$R"
    mkdir -p "$R/data/garden-cni"
    in_vm ip link add eth0 type veth peer name eth0-peer
    in_vm ip addr add 10.0.16.14/24 dev eth0
    in_vm ip link set eth0 up
    in_vm ip link set eth0-peer up
    render "$R" openvswitch '{"properties": {"datapath_type": "netdev"}}'
    local ovs=$R/jobs/openvswitch/bin
    in_vm "$ovs/pre-start"
    in_vm "$ovs/ovs_ctl" start ovsdb-server
    in_vm "$ovs/ovs_ctl" start ovs-vswitchd
    record_daemons
    render "$R" flowctl "$(jq '.spec = {"ip": "10.0.16.14"}
        | .properties += {"datapath_type": "netdev",
                          "underlay_interface": "eth0",
                          "subnet": "10.250.3.0/24",
                          "overlay_network": "10.250.0.0/16",
                          "health_check_timeout": 30}
        | .properties.policy_server += {"hostname": "127.0.0.1",
                                        "internal_listen_port": 9}' \
        "$SB_TOP/tests/bosh/fixtures/flowctl/single-cell.json")"
    local job=$R/jobs/flowctl
    local key=$job/config/certs/policy-client.key
    [ -s "$key" ] || fail "no rendered key $key"
    chmod 0644 "$key"                   # as an agent might render it
    in_vm sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'
    in_vm "$job/bin/pre-start"
    [ "$(stat -c %a:%U:%G "$key")" = 600:root:root ] \
        || fail "the key after pre-start: $(stat -c %a:%U:%G "$key")"
    [ "$(in_vm cat /proc/sys/net/ipv4/ip_forward)" = 1 ] \
        || fail "pre-start did not turn on forwarding"
    bpm_start "$R" flowctl flowctl
    # Unprivileged, as bpm runs it: NET_ADMIN and NET_RAW alone, /proc/sys
    # read-only.
    local caps i
    for i in $(seq 50); do
        [[ $(readlink "/proc/$BPM_PID/exe") != */flowctl ]] || break
        sleep 0.1
    done
    caps=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$BPM_PID/status")
    [ "$caps" = 0000000000003000 ] \
        || fail "flowctl's effective capabilities: $caps"
    grep -q ' /proc/sys proc ro,' "/proc/$BPM_PID/mounts" \
        || fail "/proc/sys is not read-only for flowctl: $(grep /proc/sys \
                 "/proc/$BPM_PID/mounts")"

    # post-start: the deploy's health check, ready within its timeout.
    local out
    out=$(in_vm "$job/bin/post-start" 2>&1) \
        || fail "post-start failed: $out
$(tail -5 "$BT/flowctl.stderr")"
    [ "$out" = "flowctl: ready" ] || fail "post-start said: $out"
    in_vm ovs-ofctl -O OpenFlow15 dump-flows \
        "unix:$R/sys/run/openvswitch/br-cf.mgmt" \
        | grep -q cookie= || fail "no flows on br-cf after post-start"
    # flowctl's ovs-appctl (its conntrack walk at start, flowctl/trace)
    # finds ovs-vswitchd in the openvswitch job's run directory, not in
    # flowctl's own.
    grep -q 'walked conntrack zone 1 in [0-9]* ms' \
        "$R/sys/log/flowctl/flowctl.log" \
        || fail "flowctl did not walk conntrack: $(grep ctwalk \
                 "$R/sys/log/flowctl/flowctl.log")"

    # The metrics, where prom_scraper_config.yml says the agent finds them.
    local port metrics
    port=$(sed -n 's/^port: //p' "$job/config/prom_scraper_config.yml")
    metrics=$(in_vm curl -sf --max-time 5 "http://127.0.0.1:$port/metrics") \
        || fail "no metrics at 127.0.0.1:$port/metrics"
    grep -qx 'flowctl_ready 1' <<<"$metrics" \
        || fail "metrics do not say ready:
$metrics"
    local flows
    flows=$(in_vm ovs-appctl -t "$R/sys/run/flowctl/flowctl.ctl" \
                flowctl/show | sed -n 's/^desired flows: \([0-9]*\),.*/\1/p')
    grep -qx "flowctl_desired_flows $flows" <<<"$metrics" \
        || fail "metrics' desired flows differ from flowctl/show's ($flows)"
    [ "$(in_vm curl -s -o /dev/null -w '%{http_code}' \
           "http://127.0.0.1:$port/")" = 404 ] \
        || fail "/ is not 404"

    # drain: nothing to wait for, and what flowctl knew kept.
    out=$(in_vm "$job/bin/drain" job_changed hash_changed flowctl)
    [ "$out" = 0 ] || fail "drain printed '$out', not 0"
    grep -q '^desired flows: ' "$R/sys/log/flowctl/drain.log" \
        || fail "drain.log has no flowctl/show"

    # ovs-vswitchd restarted under flowctl (an upgrade of the openvswitch
    # job): flow-restore-wait is set, flowctl puts its flows back and
    # clears it, long before the watchdog would.
    in_vm "$ovs/ovs_ctl" stop ovs-vswitchd
    in_vm "$ovs/ovs_ctl" start ovs-vswitchd
    record_daemons
    hs_wait 20 frw_cleared \
        || fail "flowctl did not clear flow-restore-wait in 20 s"
    ! grep -q 'still set' "$R/sys/log/openvswitch/ovs_ctl.log" \
        || fail "the watchdog cleared flow-restore-wait, not flowctl"
    out=$(in_vm "$job/bin/post-start" 2>&1) \
        || fail "not ready after vswitchd's restart: $out"

    # A post-start against a flowctl that is not running fails, saying so.
    hs_stop_pid "$BPM_PID" "$(pid_start "$BPM_PID")"
    render "$R" flowctl "$(jq '.properties += {"subnet": "10.250.3.0/24",
        "overlay_network": "10.250.0.0/16", "health_check_timeout": 2}' \
        "$SB_TOP/tests/bosh/fixtures/flowctl/single-cell.json")"
    out=$(in_vm "$job/bin/post-start" 2>&1) \
        && fail "post-start passed with flowctl stopped: $out"
    grep -q 'flowctl is not ready after 2s' <<<"$out" \
        || fail "post-start's failure does not say why: $out"
    in_vm "$ovs/ovs_ctl" stop ovs-vswitchd
    in_vm "$ovs/ovs_ctl" stop ovsdb-server
}

silk_state() {
    local t
    in_vm ip -br link show silk-vtep 2>/dev/null | cut -d' ' -f1
    for t in filter nat mangle; do
        in_vm iptables -t "$t" -S | sed "s/^/$t /"
    done
}

test_flowctl_pre_start_removes_what_silk_left() {
    R=$BT/vm
    vm "$R"
    render "$R" flowctl "$(jq '.properties.subnet = "10.255.1.0/24"' \
        "$SB_TOP/tests/bosh/fixtures/flowctl/single-cell.json")"
    mkdir -p "$R/data/silk" "$R/data/host-local/silk" \
        "$R/data/container-metadata" "$R/data/garden-cni"
    touch "$R/data/container-metadata/store.json" \
        "$R/sys/run/flowctl.ctl" 2>/dev/null || true
    mkdir -p "$R/sys/run/flowctl"
    touch "$R/sys/run/flowctl/flowctl.ctl"

    # (A veth: kernels without CONFIG_DUMMY have no dummy links.)
    in_vm ip link add silk-vtep type veth peer name silk-peer
    # silk's layout for one container (shared reference, 2.4), a policy
    # agent chain, and what is not silk's: a chain and rules to keep.
    in_vm iptables-restore <<'RULES'
*filter
:input--abc123 - [0:0]
:netout--abc123 - [0:0]
:netout--abc123--log - [0:0]
:overlay--abc123 - [0:0]
:vpa--remote-xyz - [0:0]
:keep-input - [0:0]
-A INPUT -s 10.255.1.2/32 -j input--abc123
-A INPUT -j keep-input
-A FORWARD -s 10.255.1.2/32 -o eth0 -j netout--abc123
-A FORWARD -j overlay--abc123
-A FORWARD -j vpa--remote-xyz
-A input--abc123 -m state --state RELATED,ESTABLISHED -j ACCEPT
-A input--abc123 -j REJECT --reject-with icmp-port-unreachable
-A netout--abc123 -p tcp -m comment --comment "asg rule 1 of 2" -g netout--abc123--log
-A netout--abc123--log -j ACCEPT
-A overlay--abc123 -s 10.255.1.2/32 -o silk-vtep -m mark ! --mark 0x0 -j ACCEPT
-A vpa--remote-xyz -s 10.255.1.2/32 -j MARK --set-xmark 0x5/0xffffffff
-A keep-input -p tcp --dport 22 -m comment --comment "the operator's" -j ACCEPT
COMMIT
*nat
:netin--abc123 - [0:0]
-A PREROUTING -j netin--abc123
-A POSTROUTING -s 10.255.1.0/24 ! -o silk-vtep ! -d 10.255.0.0/16 -j MASQUERADE
-A POSTROUTING -s 10.9.0.0/24 -j MASQUERADE
-A netin--abc123 -d 10.0.16.14/32 -p tcp -m tcp --dport 61000 -j DNAT --to-destination 10.255.1.2:8080
COMMIT
*mangle
:netin--abc123 - [0:0]
-A PREROUTING -j netin--abc123
-A netin--abc123 -i eth0 -p tcp -m tcp --dport 61000 -j MARK --set-xmark 0xffff0000/0xffffffff
COMMIT
RULES

    local before after
    before=$(silk_state)
    in_vm "$R/jobs/flowctl/bin/pre-start"
    after=$(silk_state)
    local want
    want=$(grep -v -E -- '(input|netout|overlay|netin|vpa)--|silk-vtep' \
               <<<"$before")
    expect_same "$want" "$after" "what pre-start leaves"
    grep -q 'keep-input.*the operator' <<<"$after" \
        || fail "pre-start removed a rule that is not silk's"
    local dir
    for dir in silk host-local container-metadata; do
        [ ! -e "$R/data/$dir" ] || fail "pre-start left $R/data/$dir"
    done
    [ ! -e "$R/sys/run/flowctl/flowctl.ctl" ] \
        || fail "pre-start left an earlier flowctl's control socket"
    # Again: nothing left to remove, and no error.
    in_vm "$R/jobs/flowctl/bin/pre-start" \
        || fail "a second pre-start failed"
    expect_same "$after" "$(silk_state)" "a second pre-start's result"
}

expect_same() {
    [ "$1" = "$2" ] && return 0
    fail "$3 differs:
$(diff <(echo "$1") <(echo "$2"))"
}

# ---- cfnet-db ----

# members CLUSTER IP...: renders and starts a cfnet-db member at each IP
# (the first is the bootstrap instance) under BT/CLUSTER-N, runs their
# post-starts (every member in the cluster, the overlay written).
members() {
    local c=$1 n=0 ip links='' r
    shift
    for ip in "$@"; do
        links+="${links:+,}{\"address\": \"$ip\"}"
    done
    for ip in "$@"; do
        n=$((n + 1))
        in_vm ip addr add "$ip/32" dev lo
        r=$BT/$c-$n
        vm "$r"
        render "$r" cfnet-db "{\"spec\": {\"address\": \"$ip\",
            \"bootstrap\": $([ "$n" = 1 ] && echo true || echo false)},
            \"links\": {\"cfnet_db\": {\"properties\": {\"port\": 6641},
                                       \"instances\": [$links]}},
            \"properties\": {\"overlay_networks\": [\"10.255.0.0/16\"],
                             \"lease_lifetime\": 600}}"
        in_vm "$r/jobs/cfnet-db/bin/cfnet-db_ctl" start
        record_daemons
    done
    for n in $(seq $#); do
        r=$BT/$c-$n
        out=$(in_vm "$r/jobs/cfnet-db/bin/post-start" 2>&1) \
            || fail "$c member $n's post-start: $out"
    done
}

db_client() { in_vm ovsdb-client "$@"; }

# The leases and overlay settings of member DIR, row by row, without the
# row UUIDs.
directory_rows() {
    db_client dump -f json "unix:$1/store/cfnet-db/cfnet-db.sock" CFNet \
        | jq -c '(.caption | split(" ")[0]) as $t | .headings as $h
                 | .data[] | [$t, ([$h, .] | transpose
                                   | map(select(.[0] != "_uuid"
                                                and .[0] != "_version")))]' \
        | sort
}

test_cfnet_db_bootstraps_backs_up_and_restores() {
    LOG_IGNORE='raft|reconnect|jsonrpc|stream_ssl|connection dropped|Connection refused'
    members old 10.77.0.5 10.77.0.6 10.77.0.7
    local r
    for r in "$BT"/old-*; do
        in_vm env OVS_RUNDIR="$r/store/cfnet-db" \
            ovs-appctl -t "$r/store/cfnet-db/cfnet-db.ctl" \
            cluster/status CFNet | grep -q '^Status: cluster member' \
            || fail "$r is not a cluster member"
    done

    # Leases as cells hold them, through the third member.
    local i ops='' sock=unix:$BT/old-3/store/cfnet-db/cfnet-db.sock
    for i in $(seq 1 50); do
        ops+=",{\"op\": \"insert\", \"table\": \"Cell\", \"row\": {
            \"subnet\": \"10.255.$i.0/24\", \"underlay_ip\": \"10.0.$((i / 200)).$((i % 200 + 10))\",
            \"lease_expires\": $((1800000000000 + i)), \"renewed\": $i,
            \"external_ids\": [\"map\", [[\"host_guid\", \"cell-$i\"]]]}}"
    done
    db_client transact "$sock" "[\"CFNet\"$ops]" | grep -q error \
        && fail "inserting the leases failed"
    local before
    before=$(directory_rows "$BT/old-1")
    [ "$(grep -c '^\["Cell"' <<<"$before")" = 50 ] \
        || fail "50 leases expected in the old cluster:
$before"
    grep -q '^\["Overlay".*10.255.0.0/16' <<<"$before" \
        || fail "post-start wrote no overlay:
$before"

    # BBR: backup on one member (a follower will do), restore on all of a
    # fresh cluster's.
    mkdir -p "$BT/artifact"
    in_vm env BBR_ARTIFACT_DIRECTORY="$BT/artifact" \
        "$BT/old-2/jobs/cfnet-db/bin/bbr/backup" \
        || fail "backup failed"
    grep -q '^backup_one_restore_all: true' \
        <(in_vm "$BT/old-1/jobs/cfnet-db/bin/bbr/metadata") \
        || fail "metadata does not ask for one backup"
    for r in "$BT"/old-*; do
        in_vm "$r/jobs/cfnet-db/bin/cfnet-db_ctl" stop
    done

    members new 10.77.1.5 10.77.1.6 10.77.1.7
    [ "$(directory_rows "$BT/new-1" | grep -c '^\["Cell"')" = 0 ] \
        || fail "the fresh cluster has leases before the restore"
    for r in "$BT"/new-*; do
        in_vm env BBR_ARTIFACT_DIRECTORY="$BT/artifact" \
            "$r/jobs/cfnet-db/bin/bbr/restore" \
            || fail "restore on $r failed"
    done
    for r in "$BT"/new-*; do
        hs_wait 10 test "$(directory_rows "$r")" = "$before" \
            || fail "$r after the restore differs from the backup:
$(diff <(echo "$before") <(directory_rows "$r"))"
    done
    for r in "$BT"/new-*; do
        in_vm "$r/jobs/cfnet-db/bin/cfnet-db_ctl" stop
    done
}
