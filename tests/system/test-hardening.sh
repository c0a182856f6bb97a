# System tests of what a cell keeps to itself, on cell-sim
# (scripts/cell-sim): no key material in any log, whatever goes wrong with
# the policy server's TLS, and the sockets and files flowctl and cni-ovs
# create closed to other users.  Each test has its own sim.  Run by
# tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# key_lines FILE: the base64 lines of a PEM private key (not the armour).
key_lines() {
    grep -v -- '-----' "$1" | grep -E '^[A-Za-z0-9+/=]{16,}$'
}

# Every log of the sim (flowctl's, the traffic log, cni-ovs's, OVS's, the
# policy server's and the jobs' scripts') holds no line of any private key
# of the sim (the cells' policy-server client key, the server's own), nor
# a PEM armour, after TLS failures of every kind (a server certificate
# from another CA, the server down, a hanging server) and a flowctl
# restart, with the traffic log and debug logging of the TLS client on.
test_no_key_material_in_any_log() {
    FC_LOG_IGNORE='policysync\|WARN\|policy server: fetching (policies|security groups) failed'
    sim_up --traffic-log --asg-logging
    sim push a --netout "$ALLOW_ALL" >/dev/null
    fcctl vlog/set https:file:dbg policysync:file:dbg >/dev/null
    sim policy-server restart --cert foreign >/dev/null
    sleep 3
    sim policy-server stop >/dev/null
    sleep 2
    sim policy-server start >/dev/null
    sim policy-server fault hang >/dev/null
    sleep 3
    sim policy-server fault none >/dev/null
    sim flowctl restart >/dev/null 2>&1 || sim flowctl start >/dev/null
    wait_until 10 "flowctl synced" flowctl_synced
    on a ping -c1 -W1 10.0.0.100 >/dev/null 2>&1 || true

    local keys=() logs=() k l n_lines=0
    mapfile -t keys < <(find "$FC_STATE" -name '*.key' -type f)
    [ ${#keys[@]} -ge 1 ] || fail "no private key found in the sim"
    mapfile -t logs < <(find "$FC_STATE" "$FC_TMP" -type f \
                        \( -name '*.log' -o -name '*.stderr' \
                           -o -name 'log' \) 2>/dev/null)
    [ ${#logs[@]} -ge 3 ] || fail "only ${#logs[@]} log files found"
    for k in "${keys[@]}"; do
        while IFS= read -r l; do
            n_lines=$((n_lines + 1))
            if grep -lF -- "$l" "${logs[@]}" 2>/dev/null | grep -q .; then
                fail "a line of $k is in $(grep -lF -- "$l" "${logs[@]}")"
            fi
        done < <(key_lines "$k")
    done
    [ "$n_lines" -ge 3 ] || fail "the keys had only $n_lines lines to look for"
    if grep -l -- "PRIVATE KEY" "${logs[@]}" 2>/dev/null | grep -q .; then
        fail "a PEM armour in $(grep -l -- 'PRIVATE KEY' "${logs[@]}")"
    fi
    echo "ok: ${#keys[@]} keys ($n_lines lines) in none of ${#logs[@]} logs"
}

# mode_of FILE: its permission bits in octal.
mode_of() { stat -c %a "$1"; }

# The sockets and files flowctl creates are closed to other users: its
# control socket and the cell's OVSDB and OpenFlow sockets take no
# connection from them (no write bit for others: connect(2) needs it), the
# traffic log is 0640, and cni-ovs's container records are in OVSDB, not in
# files.  A process of another user cannot connect to flowctl's control
# socket (checked with setpriv as user nobody).
test_sockets_and_files_closed_to_other_users() {
    sim_up --traffic-log
    sim push a >/dev/null
    local ctl db mgmt log m
    ctl=$(flowctl_ctl)
    db=$(find "$FC_CELL" -name db.sock -type s | head -1)
    mgmt=$(find "$FC_CELL" -name 'br-cf.mgmt' -type s | head -1)
    log=$(find "$FC_CELL" -name traffic.log -type f | head -1)
    for f in "$ctl" "$db" "$mgmt"; do
        [ -S "$f" ] || fail "no socket $f"
        m=$(mode_of "$f")
        echo "$f: $m"
        (( (8#$m & 8#002) == 0 )) || fail "$f is writable by others ($m)"
    done
    [ -f "$log" ] || fail "no traffic log in $FC_CELL"
    m=$(mode_of "$log")
    echo "$log: $m"
    [ "$m" = 640 ] || fail "the traffic log is $m, not 640"
    if command -v setpriv > /dev/null; then
        if setpriv --reuid=nobody --regid=nogroup --clear-groups \
               ovs-appctl -t "$ctl" version > "$FC_TMP/nobody.out" 2>&1; then
            fail "user nobody reached flowctl's control socket:" \
                 "$(cat "$FC_TMP/nobody.out")"
        fi
        echo "ok: nobody refused: $(head -1 "$FC_TMP/nobody.out")"
    fi
}

# flowctl needs no capability but NET_ADMIN and NET_RAW (the two its bpm
# config grants): started with its bounding set cut to them
# (CELL_SIM_FLOWCTL_CAPS, as bpm would), it holds only those (CapEff
# 0x3000) and does all of its work: the bridge and its flows, the host's
# routes, sysctls and iptables rules (NetIn's DNAT), NetOut by ASG, a
# restart that keeps the flows.
test_flowctl_needs_only_net_admin_and_net_raw() {
    export CELL_SIM_FLOWCTL_CAPS=net_admin,net_raw
    sim_up
    serve ext 80
    sim push web --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]" \
        --port 8080 --host-port 61000 > /dev/null
    serve web 8080
    local pid caps
    pid=$(cat "$FC_CELL/flowctl.pid")
    caps=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pid/status")
    echo "flowctl $pid CapEff $caps"
    expect_equal "$caps" 0000000000003000 "flowctl's effective capabilities"
    wait_until 10 "host side applied" \
        grep -q 'host setup done' "$FC_CELL/flowctl.log"
    expect web connected tcp 10.0.0.100 80
    expect web refused tcp 10.0.0.100 81
    expect router connected tcp 10.0.0.11 61000
    sim flowctl restart > /dev/null
    expect_equal "$(sed -n 's/^CapEff:[[:space:]]*//p' \
                    "/proc/$(cat "$FC_CELL/flowctl.pid")/status")" \
        0000000000003000 "capabilities after a restart"
    wait_until 10 "flowctl in sync" flowctl_synced
    expect web connected tcp 10.0.0.100 80
    expect router connected tcp 10.0.0.11 61000
}
