# System tests of the configuration checks an operator (or the BOSH
# release's tests) runs before a start: `cni-ovs --check-config` on a CNI
# config and `flowctl --config FILE --check-config`
# (docs/configuration.md).  The examples in docs/configuration.md are
# checked as they stand; each mistake is reported with its JSON path and a
# non-zero exit; nothing on the machine is touched (no OVS runs here, and
# flowctl writes no pid file).  Run by tests/system/run-file, as root.

file_setup() {
    CC_TMP=$(mktemp -d /tmp/cc-test.XXXXXX)
    HS_FAILURES=$CC_TMP/failures
    : > "$HS_FAILURES"
    CNI_OVS_BIN=$CFNET_OUT/bin/cni-ovs
    FLOWCTL_BIN=$CFNET_OUT/bin/flowctl
}

file_teardown() {
    local rc=$?
    trap - EXIT
    set +eE
    hs_report_failures "$rc"
    rm -rf "$CC_TMP"
    exit $rc
}

file_check_logs() { :; }

# doc_example N HEADING: the Nth ```json block under HEADING of
# docs/configuration.md.
doc_example() {
    awk -v n="$1" -v h="$2" '
        $0 == h { in_section = 1; next }
        in_section && /^## / { in_section = 0 }
        in_section && /^```json$/ { k++; if (k == n) { grab = 1; next } }
        grab && /^```$/ { exit }
        grab { print }' "$SB_TOP/docs/configuration.md"
}

# check_cni EXPECT-RC EXPECT-OUTPUT < CONFIG
check_cni() {
    local out rc=0
    out=$("$CNI_OVS_BIN" --check-config 2>&1) || rc=$?
    [ "$rc" = "$1" ] && [ "$out" = "$2" ] \
        || fail "cni-ovs --check-config: expected '$2' (exit $1), got '$out' (exit $rc)"
    echo "ok: cni-ovs --check-config: $out"
}

# check_flowctl EXPECT-RC EXPECT-OUTPUT FILE
check_flowctl() {
    local out rc=0
    out=$(cd "$CC_TMP" && "$FLOWCTL_BIN" --config "$3" --check-config \
              --pidfile="$CC_TMP/flowctl.pid" 2>&1) || rc=$?
    [ "$rc" = "$1" ] && [ "$out" = "$2" ] \
        || fail "flowctl --check-config: expected '$2' (exit $1), got '$out' (exit $rc)"
    [ ! -e "$CC_TMP/flowctl.pid" ] || fail "flowctl --check-config wrote a pid file"
    echo "ok: flowctl --check-config: $out"
}

test_cni_ovs_check_config() {
    local list
    list=$(doc_example 1 '## The CNI config (`cni-ovs`)')
    jq -e '.plugins[0].type == "cni-ovs"' <<<"$list" >/dev/null \
        || fail "no conflist example in docs/configuration.md"
    check_cni 0 ok <<<"$list"
    # One plugin's config, as libcni hands it over.
    check_cni 0 ok <<<"$(jq '.plugins[0] + {name, cniVersion}' <<<"$list")"
    # Another plugin in the list is not ours to judge.
    check_cni 0 ok <<<"$(jq '.plugins += [{"type": "bandwidth", "mtu": "x"}]' \
                          <<<"$list")"

    check_cni 1 "cni-ovs: plugins[0]: mtu: must be an integer" \
        <<<"$(jq '.plugins[0].mtu = "big"' <<<"$list")"
    check_cni 1 "cni-ovs: plugins[1]: dns_servers[1]: not an IPv4 address" \
        <<<"$(jq '.plugins = [{"type": "bandwidth"}] + .plugins
                  | .plugins[1].dns_servers += ["dns.internal"]' <<<"$list")"
    check_cni 1 'cni-ovs: plugins[0]: cniVersion: unsupported version "9.9.9"' \
        <<<"$(jq '.cniVersion = "9.9.9"' <<<"$list")"
    check_cni 1 "cni-ovs: plugins: no plugin of type cni-ovs" \
        <<<"$(jq '.plugins[0].type = "silk-cni"' <<<"$list")"
    check_cni 1 "cni-ovs: plugins: must be an array" \
        <<<'{"name": "x", "cniVersion": "1.0.0", "plugins": {}}'
    check_cni 1 "cni-ovs: not JSON: '[' or '{' expected near 'plugins' (line 1)" \
        <<<'plugins'
}

test_flowctl_check_config() {
    local cfg=$CC_TMP/flowctl.json
    doc_example 1 '## flowctl' > "$cfg"
    jq -e '.instance_address' "$cfg" >/dev/null \
        || fail "no flowctl example in docs/configuration.md"
    check_flowctl 0 "$cfg: ok" "$cfg"

    # Cluster mode: the directory instead of a subnet.
    jq 'del(.subnet, .overlay_network) + {cluster: {remotes:
        ["tcp:10.0.0.3:6641", "tcp:10.0.0.4:6641", "tcp:10.0.0.5:6641"]}}' \
        "$cfg" > "$CC_TMP/cluster.json"
    check_flowctl 0 "$CC_TMP/cluster.json: ok" "$CC_TMP/cluster.json"

    jq '.mtu = 70000' "$cfg" > "$CC_TMP/bad.json"
    check_flowctl 1 "$CC_TMP/bad.json: mtu: must be 0..65535" \
        "$CC_TMP/bad.json"
    jq '.mtu = 100' "$cfg" > "$CC_TMP/bad.json"
    check_flowctl 1 \
        "$CC_TMP/bad.json: mtu: must be 0 (automatic) or 576..65535" \
        "$CC_TMP/bad.json"
    jq 'del(.instance_address)' "$cfg" > "$CC_TMP/bad.json"
    check_flowctl 1 "$CC_TMP/bad.json: instance_address: required" \
        "$CC_TMP/bad.json"
    check_flowctl 1 "$CC_TMP/missing.json: cannot open (No such file or directory)" \
        "$CC_TMP/missing.json"
}
