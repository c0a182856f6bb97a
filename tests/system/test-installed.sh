# System tests of flowctl's cf-installed accounting (flowctl/cell.c,
# "Installing without a gap" in docs/architecture.md) on cell-sim:
# external_ids:cf-installed=true, which cni-ovs ADD waits for, may name
# only containers whose flows were in a table the switch acknowledged.
#
# To hold a put in flight, a test stops the cell's ovs-vswitchd with
# SIGSTOP (by its recorded pid) and continues it later; teardown continues
# it in any case.  Run by tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# simlib's teardown, after continuing a switch a test left stopped.
eval "$(declare -f file_teardown | sed '1s/file_teardown/simlib_file_teardown/')"
file_teardown() {
    local rc=$?
    if [ -n "${STOPPED_PID:-}" ]; then
        kill -CONT "$STOPPED_PID" 2>/dev/null
    fi
    (exit $rc)
    simlib_file_teardown
}

vswitchd_stop() {
    STOPPED_PID=$(cat "$FC_CELL/ovs-vswitchd.pid")
    kill -STOP "$STOPPED_PID"
}

vswitchd_cont() {
    kill -CONT "$STOPPED_PID"
    STOPPED_PID=
}

# installed_of UUID: the cf-installed mark of Interface row UUID ("" if
# none).
installed_of() {
    cvsctl --if-exists get interface "$1" external_ids:cf-installed \
        2>/dev/null | tr -d '"'
}

# set_rules IFNAME JSON [VSCTL-ARGS...]: sets the container's
# cf-netout-rules to JSON, without waiting for ovs-vswitchd, in one
# transaction with VSCTL-ARGS (prefixed with "--").
set_rules() {
    local ifname=$1 json=$2
    shift 2
    cvsctl --no-wait "$@" -- set interface "$ifname" \
        "external_ids:cf-netout-rules=\"${json//\"/\\\"}\""
}

# rules_shown HANDLE N: flowctl/show lists container HANDLE with N rules.
rules_shown() {
    fcctl flowctl/show | grep -q "^  $1 .*($2 rules"
}

# put_in_flight: flowctl has sent a put that OVS has not acknowledged.
put_in_flight() {
    local put acked
    put=$(show_value 'put seqno')
    acked=$(show_value 'acked seqno')
    [ -n "$put" ] && [ "$put" -gt "$acked" ]
}

# A container deleted and made again under the same handle (a new Interface
# row, a new address: a retried ADD) while a put is in flight is not marked
# by that put's acknowledgment, which carried the old row's flows, but only
# once a put with its own flows is acknowledged; by then the bridge has
# them.  The old code marked the new row at once, by handle, while the
# switch was stopped.
test_readded_container_waits_for_its_own_put() {
    # flowctl/show asks the stopped switch for rule statistics.
    FC_LOG_IGNORE='flowstats.*no complete flow statistics reply'
    sim_up
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    sim push c --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 80)]"
    wait_until 10 "flowctl in sync" flowctl_synced
    local ha hc ifa ifc old_uuid
    ha=$(handle_of a) hc=$(handle_of c)
    ifa=$(ifname_of a) ifc=$(ifname_of c)
    old_uuid=$(cvsctl get interface "$ifa" _uuid)
    expect_equal "$(installed_of "$old_uuid")" true "a's mark to begin with"

    # The new row: a's record with another address in the cell's subnet.
    local ip subnet new_ip new_mac ids
    ip=$(cvsctl get interface "$ifa" external_ids:cf-ip | tr -d '"')
    subnet=$(cvsctl get open_vswitch . external_ids:cf-subnet | tr -d '"')
    new_ip=$(awk -F. -v s="${subnet%/*}" 'BEGIN { split(s, b, ".");
        printf "%d.%d.%d.%d", b[1], b[2], b[3], b[4] + 200 }')
    new_mac=$(awk -F. -v s="$new_ip" 'BEGIN { split(s, b, ".");
        printf "ee:ee:%02x:%02x:%02x:%02x", b[1], b[2], b[3], b[4] }')
    [ "$new_ip" != "$ip" ] || fail "no new address for a"

    vswitchd_stop
    # A change of c's rules: a put that the stopped switch holds.
    set_rules "$ifc" "[$(tcp_rule 10.0.0.100 10.0.0.100 80),$(tcp_rule \
        10.0.0.101 10.0.0.101 80)]"
    wait_until 5 "a put in flight" put_in_flight
    # In one transaction: a's port deleted and made again (new row, new
    # address), and c's rules changed once more, which flowctl/show shows
    # once flowctl has seen the transaction.
    ids=$(cvsctl get interface "$ifa" external_ids \
          | sed "s/cf-ip=\"$ip\"/cf-ip=\"$new_ip\"/;
                 s/cf-mac=\"[^\"]*\"/cf-mac=\"$new_mac\"/;
                 s/cf-installed=\"\{0,1\}true\"\{0,1\}, //;
                 s/, cf-installed=\"\{0,1\}true\"\{0,1\}//")
    ! grep -q cf-installed <<<"$ids" || fail "cf-installed in $ids"
    set_rules "$ifc" "[$(tcp_rule 10.0.0.100 10.0.0.100 80),$(tcp_rule \
        10.0.0.101 10.0.0.101 80),$(tcp_rule 10.0.0.102 10.0.0.102 80)]" \
        del-port br-cf "$ifa" -- add-port br-cf "$ifa" \
        -- set interface "$ifa" "external_ids=$ids"
    local new_uuid
    new_uuid=$(cvsctl get interface "$ifa" _uuid)
    [ "$new_uuid" != "$old_uuid" ] || fail "a's row was not made again"
    wait_until 5 "flowctl to see c's third rule" rules_shown "$hc" 3
    # Give a wrong mark time to be written.
    sleep 1
    expect_equal "$(installed_of "$new_uuid")" "" \
        "a's new row's mark while the switch holds the put"
    put_in_flight || fail "the put is no longer in flight"

    vswitchd_cont
    wait_until 10 "a's new row marked" \
        eval "[ \"\$(installed_of $new_uuid)\" = true ]"
    # Marked only after OVS acknowledged a's new flows: they are there.
    ofctl --no-stats dump-flows br-cf | grep -q "nw_src=$new_ip" \
        || fail "a is marked, but the bridge has no flow for $new_ip"
    rules_shown "$ha" 1 || fail "a is not in flowctl/show"
    fcctl flowctl/show | grep -q "^  $ha .* flows installed (put " \
        || fail "flowctl/show does not say a's flows are installed"
}
