# System tests of large ASGs on cell-sim (scripts/cell-sim): a container
# whose ASG has 10,000 rules reaches what its last rule allows, and nothing
# else; no flow in the switch carries more conjunction actions than an
# OpenFlow message can hold (docs/architecture.md, "The flow pipeline",
# "Large rulesets"); and a rule list over the limit is refused by cni-ovs
# ADD, naming runtimeConfig.netOutRules.
#
# Before the ruleset's flows were split into chunks, the flow carrying the
# 10,000 conjunction actions (160,000 bytes) had its OpenFlow length wrap:
# the switch kept 1,808 of them, and every rule past the 1,808th refused
# its connections, silently (flowctl/trace agreed: default deny).
#
# Like tests/system/test-flowctl.sh (whose header explains refusals and
# timeouts), each test brings up its own sim; run by tests/system/run-file,
# as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# Parsing and computing thousands of rules takes flowctl's main loop a
# fraction of a second (about one under ASan, or on a loaded machine):
# OVS's timeval module warns about a poll interval over 1 s.
SLOW_LOOP='timeval\|WARN\|(Unreasonably long|faults:|disk:|context switches:)'

# asg_file FILE N [HOST]: an ASG of N TCP rules to HOST (10.0.0.100), rule
# i for port 20000 + i (modulo 40,000), written to FILE (N = 10,000 makes 1.2 MB, far more
# than the 128 KiB the kernel allows one command-line argument).
asg_file() {
    "$FC_PY" - "$1" "$2" "${3:-10.0.0.100}" <<'EOF'
import json, sys
path, n, host = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rules = [{"protocol": 1,
          "networks": [{"start": host, "end": host}],
          "ports": [{"start": 20000 + i % 40000,
                     "end": 20000 + i % 40000}]}
         for i in range(n)]
with open(path, "w") as f:
    json.dump(rules, f)
EOF
}

# The most conjunction() actions of any flow in 'egress'.
max_conjunctions() {
    ofctl --no-stats dump-flows br-cf table=egress \
        | awk '{ n = gsub(/conjunction\(/, ""); if (n > max) max = n }
               END { print max + 0 }'
}

# 10,000 TCP rules: the first, a middle and the last rule admit their
# connections; a destination no rule names, and a port past the last rule,
# are refused (something listens there: the router reaches them).
# flowctl/trace names the last rule, flowctl/show lists all 10,000, and no
# flow in the switch carries more than 2,048 conjunction actions.
test_asg_of_10000_rules_works_to_its_last_rule() {
    FC_LOG_IGNORE=$SLOW_LOOP
    sim_up
    asg_file "$FC_TMP/asg.json" 10000
    [ "$(stat -c %s "$FC_TMP/asg.json")" -gt 131072 ]
    serve ext 20000,25000,29999,30000
    sim push big --asg "$FC_TMP/asg.json"
    wait_until 20 "flowctl in sync" flowctl_synced

    expect big connected tcp 10.0.0.100 29999
    expect big connected tcp 10.0.0.100 20000
    expect big connected tcp 10.0.0.100 25000
    expect big refused tcp 10.0.0.100 30000
    expect big refused tcp 10.0.0.101 29999
    expect router connected tcp 10.0.0.101 29999
    expect router connected tcp 10.0.0.100 30000

    local h rs out verdict
    h=$(handle_of big)
    rs=$(printf '%#x' "$(fcctl flowctl/show \
        | sed -n "s/^ *$h ofport .* ruleset \([0-9]*\) .*/\1/p")")
    out=$(fcctl flowctl/trace "$h" 10.0.0.100 tcp 29999)
    verdict=$(sed -n 's/^verdict: //p' <<<"$out")
    expect_equal "$verdict" \
        "allowed by ASG rule 9999 of ruleset $rs (tcp 10.0.0.100 port 29999)" \
        "flowctl/trace's verdict for the last rule"
    out=$(fcctl flowctl/trace "$h" 10.0.0.101 tcp 29999)
    verdict=$(sed -n 's/^verdict: //p' <<<"$out")
    expect_equal "$verdict" "rejected: default deny (no ASG rule matches)" \
        "flowctl/trace's verdict for 10.0.0.101"

    fcctl flowctl/show | grep -q "^ *$h ofport .*(10000 rules)" \
        || fail "flowctl/show does not list 10000 rules for $h"
    if fcctl flowctl/show | grep -q '^flows refused'; then
        fail "flowctl refused flows: $(fcctl flowctl/show | grep '^flows refused')"
    fi
    local max
    max=$(max_conjunctions)
    echo "most conjunction actions in one flow: $max"
    [ "$max" -le 2048 ] \
        || fail "a flow carries $max conjunction actions (at most 2048)"
    # Five chunks: the ruleset's "who" flow at priorities 500..496.
    local who
    who=$(ofctl --no-stats dump-flows br-cf table=egress \
          | grep -cE "priority=(500|499|498|497|496),reg2=$rs actions=conjunction")
    expect_equal "$who" 5 "the number of the ruleset's chunks"
    file_check_logs
}

# Two containers with different 3,000-rule ASGs to the same destination
# and ports: their flows stay apart (a shared flow would gather 6,000
# rules), and each container reaches what its own last rule allows.
test_many_rulesets_with_the_same_destinations() {
    FC_LOG_IGNORE=$SLOW_LOOP
    sim_up
    asg_file "$FC_TMP/a.json" 3000
    # The same rules and one more, so a different ruleset.
    asg_file "$FC_TMP/b.json" 3001
    serve ext 22999,23000
    sim push a --asg "$FC_TMP/a.json"
    sim push b --asg "$FC_TMP/b.json"
    wait_until 20 "flowctl in sync" flowctl_synced

    expect a connected tcp 10.0.0.100 22999
    expect a refused tcp 10.0.0.100 23000
    expect b connected tcp 10.0.0.100 23000
    local max
    max=$(max_conjunctions)
    [ "$max" -le 2048 ] \
        || fail "a flow carries $max conjunction actions (at most 2048)"
    file_check_logs
}

# cni-ovs ADD refuses a NetOut rule list longer than 65,535 rules up front,
# naming runtimeConfig.netOutRules, with code 7 (invalid config, which
# retrying cannot fix): the container is not created.
test_cni_add_refuses_more_rules_than_the_limit() {
    sim_up
    asg_file "$FC_TMP/huge.json" 65536
    local out
    if out=$(sim push huge --asg "$FC_TMP/huge.json" 2>&1); then
        fail "push of 65536 rules succeeded"
    fi
    grep -q 'runtimeConfig.netOutRules: 65536 rules, more than the 65535 a container may have.*(CNI error code 7)' <<<"$out" \
        || fail "push of 65536 rules: expected the limit named (code 7), got: $out"
    echo "ok: refused: $(grep -o 'runtimeConfig.netOutRules: [^"]*' <<<"$out" | head -1)"
    ! cvsctl --bare --columns=external_ids list interface | grep -q 'huge' \
        || fail "an interface was left for the refused container"
    file_check_logs
}

# set_netout_rules APP FILE: writes FILE (a rule list) into APP's
# external_ids:cf-netout-rules and removes cf-installed, in one
# transaction, straight through the cell's OVSDB socket: the value is
# larger than ovs-vsctl can take as an argument (as an interface written by
# an older cni-ovs, or by hand, could be).
set_netout_rules() {
    sim cell "$FC_PY" - "$FC_CELL/db.sock" "$(ifname_of "$1")" "$2" <<'EOF'
import json, socket, sys
sock_path, ifname, rules_path = sys.argv[1:4]
with open(rules_path) as f:
    rules = json.dumps(json.load(f), separators=(",", ":"))
txn = {"id": 1, "method": "transact", "params": ["Open_vSwitch", {
    "op": "mutate", "table": "Interface",
    "where": [["name", "==", ifname]],
    "mutations": [
        ["external_ids", "delete",
         ["set", ["cf-netout-rules", "cf-installed"]]],
        ["external_ids", "insert",
         ["map", [["cf-netout-rules", rules]]]]]}]}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
s.sendall(json.dumps(txn).encode())
buf = b""
dec = json.JSONDecoder()
while True:
    buf += s.recv(65536)
    try:
        reply, _ = dec.raw_decode(buf.decode())
    except ValueError:
        continue
    if reply.get("id") == 1:
        break
result = reply["result"]
if reply.get("error") or any("error" in r for r in result) \
        or result[0].get("count") != 1:
    sys.exit("transaction failed: %s" % reply)
EOF
}

# flowctl ignores a container whose cf-netout-rules is over the limit: its
# flows go (its traffic stops), it is not marked installed again, and the
# log and flowctl/show name its handle and the limit.
test_flowctl_refuses_a_container_over_the_rule_limit() {
    FC_LOG_IGNORE="ignoring container .*: 65536 rules, more than the 65535|$SLOW_LOOP"
    sim_up
    serve ext 20000
    sim push a --netout "[$(tcp_rule 10.0.0.100 10.0.0.100 20000)]"
    wait_until 5 "flowctl in sync" flowctl_synced
    expect a connected tcp 10.0.0.100 20000
    local h
    h=$(handle_of a)

    asg_file "$FC_TMP/huge.json" 65536
    set_netout_rules a "$FC_TMP/huge.json"
    wait_until 20 "flowctl/show to list $h as refused" \
        eval "fcctl flowctl/show | grep -q '^  $h REFUSED'"
    fcctl flowctl/show | grep "^  $h REFUSED" \
        | grep -q 'cf-netout-rules: 65536 rules, more than the 65535 a container may have' \
        || fail "flowctl/show does not name the limit: $(fcctl flowctl/show | grep REFUSED)"
    echo "ok: $(fcctl flowctl/show | grep "^  $h REFUSED")"
    grep -q "ignoring container $h: .*cf-netout-rules: 65536 rules" \
        "$FC_CELL/flowctl.log" \
        || fail "flowctl.log does not name $h and the limit"
    wait_until 5 "flowctl in sync" flowctl_synced
    expect a timeout tcp 10.0.0.100 20000
    sleep 0.5
    expect_equal "$(cvsctl --if-exists get interface "$(ifname_of a)" \
                    external_ids:cf-installed)" "" \
        "cf-installed of the refused container"
    file_check_logs
}
