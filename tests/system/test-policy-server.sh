# System tests of the policy server's stand-in (scripts/policy-server-sim)
# as cell-sim runs it (`up` starts it in its own namespace at 10.0.0.6:4003
# and makes the certificates; docs/cell-sim.md): CF's response shapes to the
# byte (shared reference cf-networking.md, 5.2), tags, paging, mutual TLS
# with TLS 1.2-only and 1.3-only servers, refused client certificates, a
# restart that keeps the state, and the faults the client's fail-static
# tests rely on.  The requests come from cell 1's namespace, with curl and
# openssl s_client, the way flowctl reaches the server.
#
# Each test brings up its own sim without flowctl (`up --no-flowctl`:
# nothing here needs a cell's flows); setup, teardown, the log checks
# (the stand-in never hits an internal error or writes to its stderr) and
# `sim` are tests/system/flowctl/simlib.sh's, which removes the sim with
# `cell-sim down`, pass or fail.  Run by tests/system/run-file, as root,
# after `make`.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

PS_HOSTNAME=policy-server.service.cf.internal

# ps_up [OPTIONS]: the test's sim, its policy server running.
ps_up() {
    FC_UP=1
    sim up --no-flowctl "$@" >/dev/null
    eval "$(sim env)"
    PS_DIR=$CELL_SIM_STATE/ps
    PS_CERTS=$CELL_SIM_POLICY_SERVER_CERTS
    [ "$CELL_SIM_POLICY_SERVER_ADDRESS" = 10.0.0.6 ] \
        || fail "the policy server is at '$CELL_SIM_POLICY_SERVER_ADDRESS'"
}

# ---------------------------------------------------------------------------
# Requests

# api PATH [CURL-ARGS...]: a request to the internal API from cell 1 with
# the cells' client certificate (cell-sim policy-server curl); OUT gets the
# body, CODE the HTTP status ("000" if none), RC curl's exit code.
api() {
    local path=$1
    shift
    hs_capture "curl $path" sim policy-server curl "$path" "$@" \
        -w '\n%{http_code}'
    CODE=${OUT##*$'\n'}
    if [ "$CODE" = "$OUT" ]; then
        OUT=''
    else
        OUT=${OUT%$'\n'*}
    fi
}

# get PATH [CURL-ARGS...]: api, which must answer 200; OUT is the body.
get() {
    api "$@"
    [ "$RC" = 0 ] && [ "$CODE" = 200 ] \
        || fail "GET $1: curl exit $RC, HTTP $CODE: $OUT $ERR"
}

# expect_body WHAT EXPECTED: OUT is exactly EXPECTED, byte for byte.
expect_body() {
    [ "$OUT" = "$2" ] || fail "$1: expected
  $2
got
  $OUT"
}

# refused WHAT [CURL-ARGS...] (to policies_last_updated): the request
# fails in TLS (no HTTP answer at all).
refused() {
    local what=$1
    shift
    api policies_last_updated "$@"
    [ "$RC" != 0 ] && [ "$CODE" = 000 ] \
        || fail "$what: not refused (curl exit $RC, HTTP $CODE: $OUT)"
}

# s_client ARGS...: openssl s_client from cell 1 to the server, with the
# cells' client certificate; OUT gets what it printed, RC its exit code.
s_client() {
    hs_capture "openssl s_client" sim cell timeout 10 openssl s_client \
        -connect 10.0.0.6:4003 -servername "$PS_HOSTNAME" \
        -verify_hostname "$PS_HOSTNAME" -verify_return_error \
        -CAfile "$PS_CERTS/ca.pem" -cert "$PS_CERTS/client.pem" \
        -key "$PS_CERTS/client.key" "$@" < /dev/null
}

# ps_stat JQ-ARGS...: from `policy-server stats`, e.g. ps_stat -r .connections
ps_stat() {
    sim policy-server stats | jq "$@"
}

# policy_json SRC SRCTAG DST DSTTAG PROTO START END: one policy in CF's
# shape, compact (as Go writes it).
policy_json() {
    jq -nc --arg s "$1" --arg st "$2" --arg d "$3" --arg dt "$4" \
        --arg p "$5" --argjson a "$6" --argjson b "$7" '
        {source: {id: $s, tag: $st},
         destination: {id: $d, tag: $dt, protocol: $p,
                       ports: {start: $a, end: $b}}}'
}

# policies_json POLICY...: the body of GET policies with those policies.
policies_json() {
    printf '%s\n' "$@" | jq -sc '{total_policies: length, policies: .}'
}

# ---------------------------------------------------------------------------
# Policies and tags

# The policies endpoint in CF's exact shape, its id filter (source OR
# destination, v0 as v1), policies_last_updated in nanoseconds that moves
# only on a change, tags handed out lowest-free and freed with the last
# policy that names the group, and create-or-get tags for other groups.
test_policies_and_tags() {
    ps_up
    local t0 lu1 lu2 ab cb de
    t0=$(date +%s%N)
    sim policy add a b
    sim policy add c b --protocol udp --ports 7000-7010
    sim policy add d e --port 9000
    ab=$(policy_json a 0001 b 0002 tcp 8080 8080)
    cb=$(policy_json c 0003 b 0002 udp 7000 7010)
    de=$(policy_json d 0004 e 0005 tcp 9000 9000)
    get policies
    expect_body "all policies" "$(policies_json "$ab" "$cb" "$de")"
    get /networking/v0/internal/policies
    expect_body "all policies (v0)" "$(policies_json "$ab" "$cb" "$de")"
    get 'policies?id=c'
    expect_body "policies of c" "$(policies_json "$cb")"
    get 'policies?id=b'
    expect_body "policies of b (destination)" "$(policies_json "$ab" "$cb")"
    get 'policies?id=a,e'
    expect_body "policies of a and e" "$(policies_json "$ab" "$de")"
    get 'policies?id=nobody'
    expect_body "policies of nobody" '{"total_policies":0,"policies":[]}'
    get 'policies?id='
    expect_body "policies of ''" '{"total_policies":0,"policies":[]}'

    # Nanoseconds, after the test started; unchanged without a change.
    get policies_last_updated
    [[ $OUT =~ ^[0-9]{19}$ ]] || fail "policies_last_updated '$OUT'"
    lu1=$OUT
    [ "$lu1" -gt "$t0" ] && [ "$lu1" -le "$(date +%s%N)" ] \
        || fail "policies_last_updated $lu1 is not the last change's time"
    get policies_last_updated
    expect_equal "$OUT" "$lu1" "policies_last_updated without a change"
    sim policy add a b
    get policies_last_updated
    expect_equal "$OUT" "$lu1" "policies_last_updated after a duplicate"

    # a's tag is freed with its last policy; b keeps its tag (c -> b
    # names it); the next new group takes the lowest free tag: a's.
    sim policy remove a b
    get policies_last_updated
    lu2=$OUT
    [ "$lu2" -gt "$lu1" ] || fail "policies_last_updated did not move" \
        "($lu1, then $lu2)"
    sim policy add f b --port 8080
    get policies
    expect_body "after a -> b removed, f -> b added" "$(policies_json \
        "$cb" "$de" "$(policy_json f 0001 b 0002 tcp 8080 8080)")"
    sim policy remove c b --protocol udp --ports 7000-7010
    sim policy remove d e --port 9000
    sim policy add g h
    get policies
    expect_body "after c and d, e freed" "$(policies_json \
        "$(policy_json f 0001 b 0002 tcp 8080 8080)" \
        "$(policy_json g 0003 h 0004 tcp 8080 8080)")"

    # Tags for other groups: create or get; the same id with another type
    # fails; v1 only.
    get tags -X PUT --data-binary '{"id":"ROUTER","type":"router"}'
    expect_body "tag of ROUTER" '{"id":"ROUTER","type":"router","tag":"0005"}'
    get tags -X PUT --data-binary '{"id":"ROUTER","type":"router"}'
    expect_body "tag of ROUTER again" \
        '{"id":"ROUTER","type":"router","tag":"0005"}'
    get tags -X PUT --data-binary '{"id":"f","type":"app"}'
    expect_body "tag of app f" '{"id":"f","type":"app","tag":"0001"}'
    api tags -X PUT --data-binary '{"id":"ROUTER","type":"app"}'
    expect_equal "$CODE" 500 "HTTP status of ROUTER as an app"
    jq -e '.error | type == "string"' <<<"$OUT" >/dev/null \
        || fail "no {\"error\": ...} for ROUTER as an app: $OUT"
    api tags -X PUT --data-binary 'nonsense'
    expect_equal "$CODE" 400 "HTTP status of a tags PUT with a bad body"
    api /networking/v0/internal/tags -X PUT \
        --data-binary '{"id":"X","type":"router"}'
    expect_equal "$CODE" 404 "HTTP status of a v0 tags PUT"

    # Bad input to the admin API is refused with the reason, and changes
    # nothing.
    local state
    state=$(sim policy-server state | jq -c 'del(.fault)')
    ! sim policy add x y --protocol icmp 2>"$FC_TMP/err" \
        || fail "an icmp policy was accepted"
    grep -q 'protocol must be tcp or udp' "$FC_TMP/err" \
        || fail "icmp policy: $(cat "$FC_TMP/err")"
    ! sim policy add x y --ports 90-80 2>"$FC_TMP/err" \
        || fail "ports 90-80 were accepted"
    ! sim policy add x y --port 0 2>"$FC_TMP/err" \
        || fail "port 0 was accepted"
    ! sim policy remove x y 2>"$FC_TMP/err" \
        || fail "removing a policy that is not there succeeded"
    grep -q 'no policy x -> y' "$FC_TMP/err" \
        || fail "removing x -> y: $(cat "$FC_TMP/err")"
    ! sim policy add ROUTER y 2>"$FC_TMP/err" \
        || fail "a policy from the router group was accepted"
    expect_equal "$(sim policy-server state | jq -c 'del(.fault)')" \
        "$state" "the state after refused changes"

    # Many policies in one change (import, drop): all or none.
    local i12 i13
    i12='{"source":"i1","destination":"i2","protocol":"tcp","start":1,"end":2}'
    i13='{"source":"i1","destination":"i3","protocol":"udp","start":3,"end":3}'
    echo "[$i12,$i13]" > "$FC_TMP/two.json"
    echo "[$i12,${i13/udp/icmp}]" > "$FC_TMP/bad.json"
    ! sim policy import "$FC_TMP/bad.json" 2>"$FC_TMP/err" \
        || fail "a list with an icmp policy was imported"
    grep -q 'policy 1: protocol must be tcp or udp' "$FC_TMP/err" \
        || fail "importing an icmp policy: $(cat "$FC_TMP/err")"
    sim policy import "$FC_TMP/two.json" 2>/dev/null
    get 'policies?id=i1'
    expect_body "imported policies" "$(policies_json \
        "$(policy_json i1 0006 i2 0007 tcp 1 2)" \
        "$(policy_json i1 0006 i3 0008 udp 3 3)")"
    echo "[$i12,${i13/3,/4,}]" > "$FC_TMP/half.json"
    ! sim policy drop "$FC_TMP/half.json" 2>/dev/null \
        || fail "dropping a list with a missing policy succeeded"
    get 'policies?id=i1'
    expect_body "policies after a refused drop" "$(policies_json \
        "$(policy_json i1 0006 i2 0007 tcp 1 2)" \
        "$(policy_json i1 0006 i3 0008 udp 3 3)")"
    sim policy drop "$FC_TMP/two.json" 2>/dev/null
    sim policy add j1 j2
    get 'policies?id=i1,j1'
    expect_body "after the drop" \
        "$(policies_json "$(policy_json j1 0006 j2 0007 tcp 8080 8080)")"
}

# Tags are uppercase hex, zero-padded to twice the tag length (1..4 bytes).
test_tag_lengths() {
    ps_up
    local i
    for i in $(seq 6); do
        sim policy add "s$i" "d$i"
    done
    # Groups s1 d1 ... s6 d6 hold 1..12: d5 has 10 (0x0A), s6 11, d6 12.
    get 'policies?id=d5,s6'
    expect_body "tags at length 2" "$(policies_json \
        "$(policy_json s5 0009 d5 000A tcp 8080 8080)" \
        "$(policy_json s6 000B d6 000C tcp 8080 8080)")"
    sim policy-server restart --tag-length 1 2>/dev/null
    get 'policies?id=d5'
    expect_body "tags at length 1" \
        "$(policies_json "$(policy_json s5 09 d5 0A tcp 8080 8080)")"
    sim policy-server restart --tag-length 4 2>/dev/null
    get 'policies?id=d5'
    expect_body "tags at length 4" "$(policies_json \
        "$(policy_json s5 00000009 d5 0000000A tcp 8080 8080)")"
}

# ---------------------------------------------------------------------------
# Security groups

# The global defaults and the groups bound to the spaces asked for, in the
# order they were made, "rules" a JSON-encoded string of CC's rule objects
# with every member; paging by limit and next; bindings and deletions
# visible at once.
test_security_groups() {
    ps_up
    local web icmp all
    web='[{"protocol":"tcp","destination":"10.0.0.100","ports":"80,443","log":true,"description":"web"}]'
    icmp='[{"protocol":"icmp","destination":"10.0.0.0-10.0.0.255","type":-1,"code":-1}]'
    all='[{"protocol":"all","destination":"0.0.0.0/0"},{"protocol":"udp","destination":"10.0.0.1,10.0.0.2","ports":"53"}]'
    sim asg create g-run --guid guid-1 --rules "$icmp" >/dev/null
    sim asg create s1-run --guid guid-2 --rules "$web" >/dev/null
    sim asg create s2-stage --guid guid-3 --rules "$all" >/dev/null
    sim asg create unbound --guid guid-4 --rules "$web" >/dev/null
    sim asg create g-stage --guid guid-5 --rules '[]' >/dev/null
    sim asg bind g-run --global
    sim asg bind s1-run --space s1
    sim asg bind s2-stage --space s2 --staging
    sim asg bind s2-stage --space s1 --staging
    sim asg bind g-stage --global --staging

    local r1 r2 r3 r5 g1 g2 g3 g5
    r1='[{"protocol":"icmp","destination":"10.0.0.0-10.0.0.255","ports":"","type":-1,"code":-1,"description":"","log":false}]'
    r2='[{"protocol":"tcp","destination":"10.0.0.100","ports":"80,443","type":0,"code":0,"description":"web","log":true}]'
    r3='[{"protocol":"all","destination":"0.0.0.0/0","ports":"","type":0,"code":0,"description":"","log":false},{"protocol":"udp","destination":"10.0.0.1,10.0.0.2","ports":"53","type":0,"code":0,"description":"","log":false}]'
    r5='[]'
    sg() {
        jq -nc --arg g "$1" --arg n "$2" --arg r "$3" --argjson sd "$4" \
            --argjson rd "$5" --argjson ss "$6" --argjson rs "$7" '
            {guid: $g, name: $n, rules: $r, staging_default: $sd,
             running_default: $rd, staging_space_guids: $ss,
             running_space_guids: $rs}'
    }
    g1=$(sg guid-1 g-run "$r1" false true '[]' '[]')
    g2=$(sg guid-2 s1-run "$r2" false false '[]' '["s1"]')
    g3=$(sg guid-3 s2-stage "$r3" false false '["s2","s1"]' '[]')
    g5=$(sg guid-5 g-stage "$r5" true false '[]' '[]')
    page() {
        local next=$1
        shift
        printf '%s\n' "$@" | jq -sc --argjson n "$next" \
            '{next: $n, security_groups: .}'
    }

    get 'security_groups?space_guids=s1'
    expect_body "groups of s1" "$(page 0 "$g1" "$g2" "$g3" "$g5")"
    jq -e '.security_groups | all(.rules | type == "string")' \
        <<<"$OUT" >/dev/null || fail "rules are not strings: $OUT"
    get /networking/v0/internal/security_groups?space_guids=s2
    expect_body "groups of s2 (v0)" "$(page 0 "$g1" "$g3" "$g5")"
    get security_groups
    expect_body "groups without spaces" "$(page 0 "$g1" "$g5")"
    get 'security_groups?space_guids=s9,s2'
    expect_body "groups of s9 and s2" "$(page 0 "$g1" "$g3" "$g5")"

    # Pages of 1 and of 3: "next" is the id to pass as "from".
    get 'security_groups?space_guids=s1&limit=1'
    expect_body "page 1 of 1" "$(page 2 "$g1")"
    get 'security_groups?space_guids=s1&limit=1&from=2'
    expect_body "page 2 of 1" "$(page 3 "$g2")"
    get 'security_groups?space_guids=s1&limit=3'
    expect_body "page 1 of 3" "$(page 5 "$g1" "$g2" "$g3")"
    get 'security_groups?space_guids=s1&limit=3&from=5'
    expect_body "page 2 of 3" "$(page 0 "$g5")"
    local from=0 names='' n=0
    while :; do
        get "security_groups?space_guids=s1&limit=1&from=$from"
        names+=$(jq -r '.security_groups[].name' <<<"$OUT")' '
        from=$(jq -r .next <<<"$OUT")
        n=$((n + 1))
        [ "$from" != 0 ] && [ $n -lt 10 ] || break
    done
    expect_equal "$names" "g-run s1-run s2-stage g-stage " \
        "the groups of s1, one page at a time"
    api 'security_groups?space_guids=s1&from=x'
    expect_equal "$CODE" 500 "HTTP status for from=x"
    expect_body "error for from=x" \
        "{\"error\":\"invalid value for 'from' parameter\"}"

    # Changes are there at once.
    sim asg unbind s1-run --space s1
    sim asg unbind s2-stage --space s1 --staging
    sim asg delete g-stage
    sim asg unbind g-run --global
    get 'security_groups?space_guids=s1'
    expect_body "groups of s1 after the changes" '{"next":0,"security_groups":[]}'
    get 'security_groups?space_guids=s2'
    expect_body "groups of s2 after the changes" "$(page 0 "$(sg guid-3 \
        s2-stage "$r3" false false '["s2"]' '[]')")"

    # CC's checks, unless --unchecked (for the client's tests of garbage).
    local bad
    for bad in '[{"protocol":"tcp","destination":"10.0.0.300","ports":"80"}]' \
               '[{"protocol":"tcp","destination":"10.0.0.1"}]' \
               '[{"protocol":"icmp","destination":"10.0.0.1","ports":"80","type":0,"code":0}]' \
               '[{"protocol":"sctp","destination":"10.0.0.1"}]' \
               '[{"protocol":"tcp","destination":"10.0.0.1","ports":"80","extra":1}]'; do
        ! sim asg create bad --rules "$bad" 2>"$FC_TMP/err" \
            || fail "asg with rules $bad was accepted"
        grep -q 'asg bad: rule 0:' "$FC_TMP/err" \
            || fail "asg with rules $bad: $(cat "$FC_TMP/err")"
    done
    sim asg create raw --guid guid-9 --unchecked --rules '[{"protocol":' \
        >/dev/null
    sim asg bind raw --space s3
    get 'security_groups?space_guids=s3'
    expect_body "an unchecked group" "$(page 0 "$(sg guid-9 raw \
        '[{"protocol":' false false '[]' '["s3"]')")"
}

# ---------------------------------------------------------------------------
# TLS

# --tls both (CF's): TLS 1.3, and TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256
# only; --tls 1.3: TLS 1.2 refused; --tls 1.2: TLS 1.3 refused.
test_tls_versions() {
    ps_up
    get policies_last_updated --tlsv1.3
    get policies_last_updated --tls-max 1.2
    get policies_last_updated --tls-max 1.2 \
        --ciphers ECDHE-RSA-AES128-GCM-SHA256
    refused "TLS 1.2 with AES256 only" --tls-max 1.2 \
        --ciphers ECDHE-RSA-AES256-GCM-SHA384
    refused "TLS 1.2 with RSA key exchange" --tls-max 1.2 \
        --ciphers AES128-GCM-SHA256

    sim policy-server restart --tls 1.3 2>/dev/null
    get policies_last_updated
    refused "TLS 1.2 from a 1.3-only server" --tls-max 1.2
    s_client -tls1_3
    [ "$RC" = 0 ] && grep -q 'New, TLSv1.3' <<<"$OUT" \
        || fail "s_client -tls1_3 to a 1.3-only server: $OUT $ERR"
    s_client -tls1_2
    [ "$RC" != 0 ] || fail "s_client -tls1_2 to a 1.3-only server worked"

    sim policy-server restart --tls 1.2 2>/dev/null
    get policies_last_updated
    refused "TLS 1.3 from a 1.2-only server" --tlsv1.3
    refused "TLS 1.2 with AES256 from a 1.2-only server" \
        --ciphers ECDHE-RSA-AES256-GCM-SHA384
    s_client -tls1_2
    [ "$RC" = 0 ] && grep -q \
        'New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256' <<<"$OUT" \
        || fail "s_client -tls1_2 to a 1.2-only server: $OUT $ERR"
    s_client -tls1_3
    [ "$RC" != 0 ] || fail "s_client -tls1_3 to a 1.2-only server worked"
}

# A client certificate is required and must come from the sim's CA; the
# server's certificate names only the server's DNS name; --cert foreign
# presents one from the other CA, which the cells' CA does not verify.
test_certificates() {
    ps_up
    local hs req
    get policies_last_updated
    hs=$(ps_stat -r .handshake_failures)
    req=$(ps_stat -r .total_requests)
    refused "a client certificate from the foreign CA" --client-cert foreign
    refused "no client certificate" --client-cert none
    refused "a foreign client certificate over TLS 1.2" \
        --client-cert foreign --tls-max 1.2
    expect_equal "$(ps_stat -r .handshake_failures)" "$((hs + 3))" \
        "handshake failures after three refused clients"
    expect_equal "$(ps_stat -r .total_requests)" "$req" \
        "requests served to refused clients"
    [ "$(grep -c 'TLS handshake refused' "$PS_DIR/policy-server.log")" \
        -ge 3 ] || fail "the refused handshakes are not in the log"

    # By address: the certificate does not name 10.0.0.6.
    hs_capture "curl by address" sim cell curl -sS --max-time 10 \
        --cacert "$PS_CERTS/ca.pem" --cert "$PS_CERTS/client.pem" \
        --key "$PS_CERTS/client.key" \
        https://10.0.0.6:4003/networking/v1/internal/policies_last_updated
    expect_equal "$RC" 60 "curl's exit for a certificate of another name"
    openssl x509 -in "$PS_CERTS/server.pem" -noout -ext subjectAltName \
        | grep -qx "    DNS:$PS_HOSTNAME" \
        || fail "server certificate's names: $(openssl x509 -noout \
           -in "$PS_CERTS/server.pem" -ext subjectAltName)"

    # A server certificate from the foreign CA.
    sim policy-server restart --cert foreign 2>/dev/null
    refused "a server certificate from the foreign CA"
    expect_equal "$RC" 60 "curl's exit for a foreign server certificate"
    get policies_last_updated --cacert "$PS_CERTS/foreign-ca.pem"
    refused "a foreign client to the foreign server" \
        --client-cert foreign --cacert "$PS_CERTS/foreign-ca.pem"
}

# ---------------------------------------------------------------------------
# Restarts and faults

# A restart (and a stop and start) keeps policies, tags (also those from a
# tags PUT), ASGs and their bindings, and policies_last_updated; a fault
# is not kept.  While stopped, nothing listens.
test_restart_keeps_state() {
    ps_up
    sim policy add a b --ports 8080-8090
    sim policy add c d --protocol udp --port 53
    get tags -X PUT --data-binary '{"id":"R","type":"router"}'
    sim policy remove a b --ports 8080-8090
    sim asg create one --rules \
        '[{"protocol":"tcp","destination":"10.0.0.100","ports":"80"}]' \
        >/dev/null
    sim asg create two --rules '[]' >/dev/null
    sim asg bind one --space s1
    sim asg bind two --global --staging
    sim asg delete two
    sim asg create three --rules '[]' >/dev/null
    sim asg bind three --space s1 --staging
    local pol lu sgs state
    get policies
    pol=$OUT
    get policies_last_updated
    lu=$OUT
    get 'security_groups?space_guids=s1&limit=1'
    sgs=$OUT
    state=$(sim policy-server state | jq -c 'del(.fault)')
    sim policy-server fault 500

    sim policy-server restart 2>/dev/null
    get policies
    expect_body "policies after a restart" "$pol"
    get policies_last_updated
    expect_body "policies_last_updated after a restart" "$lu"
    get 'security_groups?space_guids=s1&limit=1'
    expect_body "security groups after a restart" "$sgs"
    expect_equal "$(sim policy-server state | jq -c 'del(.fault)')" \
        "$state" "the whole state after a restart"
    get tags -X PUT --data-binary '{"id":"R","type":"router"}'
    expect_body "R's tag after a restart" \
        '{"id":"R","type":"router","tag":"0005"}'
    sim policy add e f
    get 'policies?id=e'
    expect_body "new groups after a restart" "$(policies_json \
        "$(policy_json e 0001 f 0002 tcp 8080 8080)")"

    sim policy-server stop
    api policies_last_updated
    expect_equal "$RC" 7 "curl's exit while the server is stopped"
    ! sim policy list 2>/dev/null || fail "policy list while stopped"
    sim policy-server start 2>/dev/null
    get 'policies?id=e'
    expect_body "policies after a stop and a start" "$(policies_json \
        "$(policy_json e 0001 f 0002 tcp 8080 8080)")"
    ! sim policy-server start 2>/dev/null \
        || fail "a second start succeeded"

    # down removes the server, its namespace and its files.
    local pid start
    read -r pid start < "$PS_DIR/running"
    pid_is "$pid" "$start" || fail "the server's recorded pid is not it"
    FC_UP=0
    sim down 2>/dev/null
    ! pid_is "$pid" "$start" || fail "the server runs after down"
    ! hs_netns_exists "$CELL_SIM_POLICY_SERVER_NS" \
        || fail "$CELL_SIM_POLICY_SERVER_NS is there after down"
    [ ! -e "$PS_DIR" ] || fail "$PS_DIR is there after down"
}

# 500, truncate and hang, on every endpoint or some; a hanging request
# holds no other connection up, and is closed when the fault is cleared;
# the request counters count every request per endpoint.
test_faults() {
    ps_up
    sim policy add a b
    sim asg create one --rules '[]' >/dev/null
    sim asg bind one --global
    local pol lu sgs
    get policies
    pol=$OUT
    get policies_last_updated
    lu=$OUT
    get security_groups
    sgs=$OUT

    sim policy-server fault 500
    api policies
    expect_equal "$CODE" 500 "HTTP status with fault 500"
    expect_body "body with fault 500" \
        '{"error":"policy-server-sim: fault 500"}'
    api policies_last_updated
    expect_equal "$CODE" 500 "HTTP status of last_updated with fault 500"

    sim policy-server fault truncate
    get policies
    expect_body "truncated policies" "${pol:0:$((${#pol} / 2))}"
    ! jq . <<<"$OUT" >/dev/null 2>&1 || fail "truncated policies parse"
    get security_groups
    expect_body "truncated security groups" "${sgs:0:$((${#sgs} / 2))}"
    get policies_last_updated
    expect_body "truncated policies_last_updated" "${lu:0:$((${#lu} / 2))}"

    # Only some endpoints.
    sim policy-server fault 500 --endpoints security_groups,tags
    get policies
    expect_body "policies while security_groups fail" "$pol"
    api security_groups
    expect_equal "$CODE" 500 "HTTP status of security_groups (500 there)"
    ! sim policy-server fault 404 2>/dev/null || fail "fault 404 accepted"
    ! sim policy-server fault hang --endpoints nothing 2>/dev/null \
        || fail "fault on endpoint 'nothing' accepted"

    # A hanging request blocks nobody: other connections are served at
    # once, the admin API too; clearing the fault closes it.
    sim policy-server fault hang --endpoints policies
    sim policy-server curl policies --max-time 20 \
        > "$FC_TMP/hung.out" 2> "$FC_TMP/hung.err" &
    local hung=$! t0 ms rc=0
    hs_wait 5 grep -q 'GET /networking/v1/internal/policies policies hang' \
        "$PS_DIR/policy-server.log" || fail "the request did not hang"
    t0=$(date +%s%N)
    get policies_last_updated
    expect_body "policies_last_updated during a hang" "$lu"
    sim policy add c d
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$ms" -lt 3000 ] || fail "other requests took ${ms}ms during a hang"
    api policies --max-time 1
    expect_equal "$RC" 28 "curl's exit for a hanging request (timeout)"
    pid_alive "$hung" || fail "the hanging request ended early"
    sim policy-server fault none
    wait "$hung" || rc=$?
    expect_equal "$rc" 52 "the hanging request's curl exit once cleared"
    get policies
    expect_body "policies after the faults" "$(policies_json \
        "$(policy_json a 0001 b 0002 tcp 8080 8080)" \
        "$(policy_json c 0003 d 0004 tcp 8080 8080)")"

    # The counters.
    sim policy-server stats --reset
    local i
    for i in 1 2 3; do
        get policies_last_updated
    done
    get policies
    get security_groups
    get security_groups
    get tags -X PUT --data-binary '{"id":"R","type":"router"}'
    api /nowhere
    expect_equal "$CODE" 404 "HTTP status of /nowhere"
    expect_equal "$(ps_stat -c .requests)" \
        '{"policies":1,"policies_last_updated":3,"tags":1,"security_groups":2,"other":1}' \
        "requests per endpoint"
    expect_equal "$(ps_stat -c .statuses)" '{"200":7,"404":1}' \
        "requests per status"
}
