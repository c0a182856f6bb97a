# System tests of flowctl's policy-server client (flowctl/policysync.c,
# flowctl/https.c) on cell-sim, against the stand-in policy server
# (scripts/policy-server-sim, mutual TLS, at 10.0.0.6:4003): TLS 1.3-only
# and TLS 1.2-only servers work; a server certificate from another CA and a
# certificate that does not name the configured host are refused; a server
# that is down, answers 500, answers truncated JSON or hangs leaves
# enforcement exactly as it was (fail static), flowctl/show says so, the
# loop keeps answering, and the retries back off.
#
# Each test pushes two apps, a and b (b listens on 8080), and changes the
# policy a -> b at the server: "a reaches b" and "a is refused by b" are
# what a CF user sees.  Run by tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

# flowctl logs each change of a fetch's state once, as a warning.
PC_FETCH_WARN='policysync.*fetching (policies|security groups) failed'

# probe_is WHERE OUTCOME PROBE-ARGS...: like expect, but only succeeds or
# fails (for wait_until).
probe_is() {
    local where=$1 want=$2 out
    shift 2
    out=$(on "$where" "$FC_PY" "$FC_PROBE" "$@" --timeout "$FC_TIMEOUT")
    [ "${out%% *}" = "$want" ]
}

# policies_status: the "policies:" part of flowctl/show.
policies_status() {
    fcctl flowctl/show | sed -n '/^  policies:/,/^  security groups:/p'
}

# policies_show_has REGEX: the policies' status matches REGEX.  (Not a
# pipe into grep -q, whose early exit would fail the pipe.)
policies_show_has() {
    local status
    status=$(policies_status)
    grep -Eq "$1" <<<"$status"
}

# two_apps: apps a and b, b listening on 8080, a refused by b (no policy
# yet); sets IP_B.
two_apps() {
    sim push a >/dev/null
    sim push b >/dev/null
    serve b 8080 >/dev/null
    IP_B=$(sim ip b)
    wait_until 10 "the policies fetched for a and b" \
        policies_show_has 'holds: 0 policies for 2 local policy groups'
    expect a refused tcp "$IP_B" 8080
}

# allow_a_to_b, deny_a_to_b: change the policy at the server and wait
# until the traffic shows it (one poll interval, 1 s, plus the install).
allow_a_to_b() {
    sim policy add a b --port 8080
    wait_until 5 "a to reach b after the policy was added" \
        probe_is a connected tcp "$IP_B" 8080
}
deny_a_to_b() {
    sim policy remove a b --port 8080
    wait_until 5 "a to be refused by b after the policy was removed" \
        probe_is a refused tcp "$IP_B" 8080
}

# ---------------------------------------------------------------------------
# TLS

# A server that speaks only TLS 1.3, and one that speaks only TLS 1.2 with
# CF's one cipher (ECDHE-RSA-AES128-GCM-SHA256): flowctl fetches from both.
test_tls_1_3_only_and_1_2_only() {
    sim_up
    # Polls while the server restarts fail (connection refused).
    FC_LOG_IGNORE=$PC_FETCH_WARN
    two_apps
    sim policy-server restart --tls 1.3
    allow_a_to_b
    sim policy-server restart --tls 1.2
    deny_a_to_b
    allow_a_to_b
    policies_show_has 'state: ok' \
        || fail "flowctl/show: $(policies_status)"
}

# A server certificate signed by another CA is refused: flowctl/show names
# the error, the flows stay as they were (a still reaches b, whose policy
# the server no longer has), and all is well again with the right one.
test_server_cert_from_another_ca_is_refused() {
    sim_up
    FC_LOG_IGNORE=$PC_FETCH_WARN
    two_apps
    allow_a_to_b
    local before
    before=$(flows_snapshot)

    sim policy-server restart --cert foreign
    sim policy remove a b --port 8080
    wait_until 10 "flowctl/show to name the certificate error" \
        policies_show_has 'last error: .*(certificate|issuer)'
    policies_show_has 'FAILING since .*\(fail static\)' \
        || fail "flowctl/show: $(policies_status)"
    expect a connected tcp "$IP_B" 8080
    expect_flows_unchanged "$before" "$(show_value "installed flows")" \
        "with a foreign server certificate"
    grep -q "fetching policies failed: .*certificate" \
        "$FC_CELL/flowctl.log" || fail "flowctl did not log the error"

    sim policy-server restart --cert own
    wait_until 40 "a to be refused by b once the certificate is good" \
        probe_is a refused tcp "$IP_B" 8080
    wait_until 5 "flowctl/show to say ok" policies_show_has 'state: ok'
}

# The server's certificate does not name the host of the configured URL
# (it is policy-server.service.cf.internal; flowctl is told to expect
# another name at the same address): refused, so the policy the server has
# never takes effect.
test_server_name_mismatch_is_refused() {
    sim_up
    FC_LOG_IGNORE=$PC_FETCH_WARN
    two_apps
    allow_a_to_b
    local cfg=$FC_CELL/flowctl.json
    cp "$cfg" "$FC_TMP/flowctl.json.good"
    jq '.policy_server.url = "https://other-server.service.cf.internal:4003"' \
        "$FC_TMP/flowctl.json.good" > "$cfg"
    sim flowctl restart
    wait_until 10 "flowctl/show to name the name mismatch" \
        policies_show_has 'last error: .*other-server.service.cf.internal'
    # The restarted flowctl never had the policy: a is refused.
    expect a refused tcp "$IP_B" 8080

    cp "$FC_TMP/flowctl.json.good" "$cfg"
    sim flowctl restart
    wait_until 10 "a to reach b with the right name" \
        probe_is a connected tcp "$IP_B" 8080
}

# ---------------------------------------------------------------------------
# Fail static

# fault_keeps_flows FAULT ERROR-REGEX: with the server answering FAULT, a
# removed policy stays in force and flowctl/show says why; once the fault
# is cleared, the removal takes effect.
fault_keeps_flows() {
    local fault=$1 error=$2 before
    allow_a_to_b
    before=$(flows_snapshot)
    sim policy-server fault "$fault"
    sim policy remove a b --port 8080
    wait_until 20 "flowctl/show to report the $fault fault" \
        policies_show_has "last error: .*$error"
    policies_show_has 'the last good policies stay in force' \
        || fail "flowctl/show: $(policies_status)"
    expect a connected tcp "$IP_B" 8080
    expect_flows_unchanged "$before" "$(show_value "installed flows")" \
        "while the server answers $fault"
    sim policy-server fault none
    wait_until 40 "the removal to take effect after the $fault fault" \
        probe_is a refused tcp "$IP_B" 8080
    wait_until 5 "flowctl/show to say ok" policies_show_has 'state: ok'
}

# 500 and a truncated body: nothing changes until the server is good.
test_server_500_and_truncated_json_change_nothing() {
    sim_up
    FC_LOG_IGNORE=$PC_FETCH_WARN
    two_apps
    fault_keeps_flows 500 'HTTP status 500'
    fault_keeps_flows truncate 'JSON'
    grep -Eq "fetching policies failed: .*HTTP status 500" \
        "$FC_CELL/flowctl.log" || fail "flowctl did not log the 500"
}

# A server that takes connections and never answers: the request times out
# (5 s), nothing changes, and all the while flowctl answers its operators
# at once (its loop never waits for the network).
test_hanging_server_keeps_flows_and_loop_responsive() {
    sim_up
    FC_LOG_IGNORE=$PC_FETCH_WARN
    two_apps
    allow_a_to_b
    local before i t0 ms
    before=$(flows_snapshot)
    sim policy-server fault hang
    sim policy remove a b --port 8080
    wait_until 5 "a request to hang" policies_show_has 'now: GET'
    for i in $(seq 10); do
        t0=$(date +%s%N)
        fcctl flowctl/show >/dev/null
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        [ "$ms" -lt 1000 ] \
            || fail "flowctl/show took ${ms} ms while the server hangs"
        sleep 0.3
    done
    wait_until 15 "the hanging request to time out" \
        policies_show_has 'last error: .*(timed out|Timeout)'
    expect a connected tcp "$IP_B" 8080
    expect_flows_unchanged "$before" "$(show_value "installed flows")" \
        "while the server hangs"
    sim policy-server fault none
    wait_until 40 "the removal to take effect after the hang" \
        probe_is a refused tcp "$IP_B" 8080
}

# The server down: connections refused, the flows stay, the retries back
# off (flowctl/show shows the growing ceiling), and the first poll after
# the server is back brings the change.
test_server_down_backs_off_and_keeps_flows() {
    sim_up
    FC_LOG_IGNORE=$PC_FETCH_WARN
    two_apps
    allow_a_to_b
    local before
    before=$(flows_snapshot)
    sim policy-server stop
    wait_until 10 "flowctl/show to report the server down" \
        policies_show_has "last error: .*(onnect|refused)"
    wait_until 20 "the backoff to reach 8 s" \
        policies_show_has 'waits up to (8000|16000|30000) ms, backing off'
    # Logged once, not once per attempt.
    local n
    n=$(grep -c "fetching policies failed" "$FC_CELL/flowctl.log")
    expect_equal "$n" 1 "the number of failure messages in the log"
    expect a connected tcp "$IP_B" 8080
    expect_flows_unchanged "$before" "$(show_value "installed flows")" \
        "while the server is down"

    sim policy-server start
    sim policy remove a b --port 8080
    # The backoff may have drawn up to 30 s; flowctl/policy-sync polls at
    # once.
    fcctl flowctl/policy-sync >/dev/null
    wait_until 5 "a to be refused by b once the server is back" \
        probe_is a refused tcp "$IP_B" 8080
    policies_show_has 'state: ok' || fail "flowctl/show: $(policies_status)"
    grep -q "policies fetched again" "$FC_CELL/flowctl.log" \
        || fail "flowctl did not log the recovery"
}

# A body over 64 MiB is refused whole, with an error that says so (never
# cut and parsed): here a server (openssl s_server -WWW, which serves files
# named by the path and query, with the sim's certificates) whose
# policies_last_updated and policies for a and b are 64 MiB and one byte.
test_oversized_body_is_refused() {
    sim_up
    FC_LOG_IGNORE=$PC_FETCH_WARN
    two_apps
    allow_a_to_b
    local before certs www
    before=$(flows_snapshot)
    certs=$(sim env | sed -n 's/^export CELL_SIM_POLICY_SERVER_CERTS=//p')
    [ -n "$certs" ] || certs=$FC_STATE/ps/certs
    www=$FC_TMP/www
    mkdir -p "$www/networking/v1/internal"
    head -c $((64 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 1 \
        > "$www/networking/v1/internal/policies_last_updated"
    ln "$www/networking/v1/internal/policies_last_updated" \
        "$www/networking/v1/internal/policies?id=a,b"
    sim policy-server stop
    sim bg --listen tcp:10.0.0.6:4003 ps sh -c "cd '$www' && exec openssl \
        s_server -quiet -accept 10.0.0.6:4003 -cert '$certs/server.pem' \
        -key '$certs/server.key' -CAfile '$certs/ca.pem' -Verify 1 -WWW" \
        >/dev/null
    wait_until 20 "flowctl/show to report the oversized body" \
        policies_show_has 'last error: response body over 67108864 bytes'
    expect a connected tcp "$IP_B" 8080
    expect_flows_unchanged "$before" "$(show_value "installed flows")" \
        "after an oversized body"
}

# ---------------------------------------------------------------------------
# When flowctl fetches

# A new container's app brings a new policy group: its policies are fetched
# at once, not at the next poll (here 60 s away), and are in force as soon
# as its container is up.
test_new_group_fetched_at_once() {
    sim_up --policy-poll-interval 60
    sim push a >/dev/null
    wait_until 10 "the policies fetched for a" \
        policies_show_has 'holds: 0 policies for 1 local policy groups'
    sim policy add a b --port 8080
    sim push b >/dev/null
    serve b 8080 >/dev/null
    IP_B=$(sim ip b)
    expect a connected tcp "$IP_B" 8080
    policies_show_has 'holds: 1 policies for 2 local policy groups' \
        || fail "flowctl/show: $(policies_status)"
    # The timer was not what fetched them.
    policies_show_has 'next poll: in [1-9][0-9]{4} ms' \
        || fail "flowctl/show: $(policies_status)"
}

# flowctl/policy-sync polls at once and answers when done, with the
# status; the policies' stamp decides whether they are fetched again.
test_policy_sync_command() {
    sim_up --policy-poll-interval 60
    two_apps
    local out
    sim policy add a b --port 8080
    out=$(fcctl flowctl/policy-sync)
    grep -q 'holds: 1 policies for 2 local policy groups' <<<"$out" \
        || fail "flowctl/policy-sync answered: $out"
    expect a connected tcp "$IP_B" 8080
}

# ---------------------------------------------------------------------------
# Security groups

# asgs_show_has REGEX: the security groups' part of flowctl/show matches.
asgs_show_has() {
    local status
    status=$(fcctl flowctl/show | sed -n '/^  security groups:/,/^$/p')
    grep -Eq "$1" <<<"$status"
}

# asg_json GUID DEST: a running security group of space sp1 allowing
# tcp DEST:80, as the policy server sends it (rules as a string).
asg_json() {
    jq -nc --arg guid "$1" --arg dest "$2" '{guid: $guid, name: $guid,
        rules: ([{protocol: "tcp", destination: $dest, ports: "80"}]
                | tojson),
        staging_default: false, running_default: false,
        staging_space_guids: [], running_space_guids: ["sp1"]}'
}

# Security groups come in pages (following "next"), and only a whole set
# of pages is applied: with the second page missing, the first page's
# change waits.  The server is openssl s_server -WWW serving files named
# by path and query, so that the pages are exactly what the test wrote.
test_asg_pages_applied_only_whole() {
    sim_up --asg-syncing --asg-poll-interval 1
    FC_LOG_IGNORE=$PC_FETCH_WARN
    local certs www api p1 p2
    certs=$(sim env | sed -n 's/^export CELL_SIM_POLICY_SERVER_CERTS=//p')
    [ -n "$certs" ] || certs=$FC_STATE/ps/certs
    www=$FC_TMP/www
    api=$www/networking/v1/internal
    p1="$api/security_groups?space_guids=sp1&limit=1000"
    p2="$p1&from=7"
    mkdir -p "$api"
    echo 1 > "$api/policies_last_updated"
    echo '{"total_policies":0,"policies":[]}' > "$api/policies?id=a"
    jq -nc --argjson g "$(asg_json g100 10.0.0.100)" \
        '{next: 7, security_groups: [$g]}' > "$p1"
    jq -nc --argjson g "$(asg_json g101 10.0.0.101)" \
        '{next: 0, security_groups: [$g]}' > "$p2"
    sim policy-server stop
    sim bg --listen tcp:10.0.0.6:4003 ps sh -c "cd '$www' && exec openssl \
        s_server -quiet -accept 10.0.0.6:4003 -cert '$certs/server.pem' \
        -key '$certs/server.key' -CAfile '$certs/ca.pem' -Verify 1 -WWW" \
        >/dev/null
    serve ext 80 >/dev/null
    sim push a --space sp1 >/dev/null
    wait_until 10 "both pages applied" \
        asgs_show_has 'holds: 2 security groups for 1 local spaces'
    expect a connected tcp 10.0.0.100 80
    expect a connected tcp 10.0.0.101 80

    # Page 1 drops g100, page 2 is gone: nothing changes.
    # Each page changes by a rename: openssl -WWW must never serve a
    # page half written (a fetch between the truncation and the write
    # would fail on page 1, not on the missing page 2).
    jq -nc '{next: 7, security_groups: []}' > "$p1.new"
    rm "$p2"
    mv "$p1.new" "$p1"
    wait_until 10 "flowctl/show to report the missing page" \
        asgs_show_has 'FAILING since'
    asgs_show_has "GET .*from=7" \
        || fail "flowctl/show does not name the page that failed"
    asgs_show_has 'holds: 2 security groups' \
        || fail "flowctl/show: the security groups changed"
    expect a connected tcp 10.0.0.100 80

    # Page 2 back: the whole set applies.
    jq -nc --argjson g "$(asg_json g101 10.0.0.101)" \
        '{next: 0, security_groups: [$g]}' > "$p2.new"
    mv "$p2.new" "$p2"
    wait_until 40 "the new set of security groups to apply" \
        probe_is a refused tcp 10.0.0.100 80
    expect a connected tcp 10.0.0.101 80
    asgs_show_has 'state: ok' || fail "flowctl/show: not ok"
}
