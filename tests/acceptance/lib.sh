# Helpers for the acceptance suite (tests/acceptance/test-*.sh; what each
# test mirrors is in docs/acceptance.md).  Sourced by the test files, after
# tests/system/lib.sh, which tests/system/run-file sources for them.
#
# The suite checks what a CF user sees, on the configuration a foundation
# runs: two Diego cells in cluster mode (a three-member cfnet-db, Geneve
# between the cells), CF's policy server (its stand-in) with dynamic ASGs
# on, apps pushed through cni-ovs as Garden calls it, a router that
# reaches them through NetIn, and an external host.  Each test has its own
# fleet (flowctl/simlib.sh's file_setup and file_teardown), and its
# daemons' logs are checked at the end (file_check_logs).
#
# CF's suites wait for a change to take effect up to a bound (below); the
# tests here wait up to the same bound and report what it took, so a test
# that fails in such a wait takes that long (up to 5 minutes).  The ASG
# poll interval is 1 s (CF's default is 60 s, which an operator may lower
# the same way), so that a passing test is not 60 s slow.

# shellcheck source=../system/flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# CF's bounds (shared reference cf-networking.md section 8), in seconds.
CF_POLICY_WAIT=7        # networking acceptance tests: PolicyWaitTime
CF_SMOKE_WAIT=300       # networking smoke test: "within 5 minutes"
CF_ASG_WAIT=180         # asg_test, CATs dynamic ASGs: 3 minutes
CF_ASG_UNBIND_WAIT=270  # external_connectivity: 90 + 180 s after unbind
CATS_POLICY_WAIT=5      # CATs security groups: c2c after a policy

# Where the sim's "internet" is: the external host (cell-sim's ext)
# answers on EXT and EXT2; EXT_DROP drops everything (allowed but never
# answered); UNALLOCATED is on the underlay but nobody has it.
EXT=10.0.0.100
EXT2=10.0.0.101
EXT_DROP=10.0.0.102
UNALLOCATED=10.0.0.199
ROUTER=10.0.0.2

# fleet_up [cell-sim up OPTIONS]: two cells in cluster mode, the policy
# server, dynamic ASGs polled every second.
fleet_up() {
    sim_up --asg-syncing --asg-poll-interval 1 --cells 2 "$@"
}

# cell_ip_of APP: the underlay address of APP's cell (CF_INSTANCE_IP).
cell_ip_of() { echo "10.0.0.$((10 + $(cat "$FC_STATE/apps/$1/cell")))"; }

# host_port_of APP: APP's host port (CF_INSTANCE_PORT), from Garden's
# answer.
host_port_of() {
    jq -r '.properties["garden.network.mapped-ports"] | fromjson
           | .[0].HostPort' "$FC_STATE/apps/$1/garden-out.json"
}

# trace_of APP DST PROTO PORT: flowctl/trace of a new connection from APP
# (on its own cell) to DST (operations.md, "Tracing a packet").
trace_of() {
    local cell
    cell=$(cat "$FC_STATE/apps/$1/cell")
    fcctl_on "$cell" flowctl/trace "$(handle_of "$1")" "$2" "$3" "$4"
}

# within SECS WANT WHERE PROBE-ARGS...: probes (probe.py PROBE-ARGS, with
# a 1 s timeout) from WHERE until the outcome is WANT; fails after SECS
# (CF's bound), and prints what it took.  PROBE_DETAIL gets the rest of
# the last line.
within() {
    local secs=$1 want=$2 where=$3 start line got took
    shift 3
    start=$(date +%s%N)
    while :; do
        line=$(on "$where" "$FC_PY" "$FC_PROBE" "$@" --timeout 1)
        took=$((($(date +%s%N) - start) / 1000000))
        read -r got _ PROBE_DETAIL <<<"$line"
        if [ "$got" = "$want" ]; then
            echo "ok: $where: $*: $want after $((took / 1000)).$((took \
                  % 1000 / 100)) s (CF waits up to $secs s)"
            return 0
        fi
        [ "$took" -lt $((secs * 1000)) ] \
            || fail "$where: $*: not $want within $secs s (CF's bound): $line"
        sleep 0.1
    done
}

# asg_rules RULE...: an ASG's rules in CC's shape, from "PROTOCOL DEST [PORTS]"
# words (ICMP: "icmp DEST TYPE CODE"), one rule per argument.
asg_rules() {
    local r out='' proto dest ports code
    for r in "$@"; do
        read -r proto dest ports code <<<"$r"
        case $proto in
            icmp) r=$(printf '{"protocol":"icmp","destination":"%s","type":%s,"code":%s}' \
                      "$dest" "$ports" "$code") ;;
            all) r=$(printf '{"protocol":"all","destination":"%s"}' "$dest") ;;
            *) r=$(printf '{"protocol":"%s","destination":"%s","ports":"%s"}' \
                   "$proto" "$dest" "$ports") ;;
        esac
        out+=${out:+,}$r
    done
    echo "[$out]"
}
