# System tests of cni-ovs: Garden's ADD/DEL/CHECK contract on a real OVS
# bridge (ovsdb-server + ovs-vswitchd, userspace datapath) with real
# network namespaces and veths.  Run by tests/system/run-file; each test_*
# function gets a fresh sandbox from lib.sh.

# ADD puts the container on the bridge: container side, OVS port and record.
test_add_plumbs_container_and_records_it() {
    local ns handle=app-0001
    ns=$(sb_netns c1)
    cni ADD "$handle" "$ns" "$(sb_conf)"
    expect_eq "$RC" 0 "exit code of ADD (stderr: $ERR)"

    # The result, as libcni reads it.
    local ip
    ip=$(jq -r '.ips[0].address' <<<"$OUT")
    expect_eq "${ip#*/}" 32 "prefix length"
    ip=${ip%/*}
    check "address $ip inside $CELL_SUBNET" grep -q '^10\.255\.7\.' <<<"$ip"
    expect_eq "$(jq -r '.ips[0].gateway' <<<"$OUT")" 169.254.0.1 gateway
    expect_eq "$(jq -r '.ips[0].interface' <<<"$OUT")" 1 "ips[0].interface"
    expect_eq "$(jq -r '.interfaces[1].name' <<<"$OUT")" eth0 "ifname"
    expect_eq "$(jq -r '.interfaces[1].sandbox' <<<"$OUT")" "$ns" sandbox
    expect_eq "$(jq -c '.routes' <<<"$OUT")" \
        '[{"dst":"0.0.0.0/0","gw":"169.254.0.1"}]' routes
    expect_eq "$(jq -c '.dns.nameservers' <<<"$OUT")" '["169.254.0.2"]' dns
    check "no version member in 1.0.0" \
        test "$(jq '.ips[0] | has("version")' <<<"$OUT")" = false

    # The container side, as the kernel has it.
    local mac o1 o2 o3 o4
    IFS=. read -r o1 o2 o3 o4 <<<"$ip"
    mac=$(printf 'ee:ee:%02x:%02x:%02x:%02x' "$o1" "$o2" "$o3" "$o4")
    local link
    link=$(ip -n "${ns##*/}" -j link show eth0)
    expect_eq "$(jq -r '.[0].address' <<<"$link")" "$mac" "container MAC"
    expect_eq "$(jq -r '.[0].mtu' <<<"$link")" "$CELL_MTU" "container MTU"
    check "eth0 up" jq -e '.[0].flags | index("UP")' <<<"$link"
    expect_eq "$(ip -n "${ns##*/}" -j addr show eth0 \
                 | jq -r '.[0].addr_info[] | select(.family=="inet")
                          | "\(.local)/\(.prefixlen)"')" "$ip/32" address
    expect_eq "$(ip -n "${ns##*/}" -j route show default \
                 | jq -r '.[0] | "\(.gateway) \(.dev) \(.prefsrc)"')" \
        "169.254.0.1 eth0 $ip" "default route"
    expect_eq "$(ip -n "${ns##*/}" -j neigh show 169.254.0.1 dev eth0 \
                 | jq -r '.[0] | "\(.lladdr) \(.state[0])"')" \
        "aa:aa:a9:fe:00:01 PERMANENT" "gateway neighbour"
    check "tx checksum offload off (netdev datapath)" \
        sh -c "ip netns exec ${ns##*/} ethtool -k eth0 \
               | grep -q '^tx-checksumming: off'"

    # The host side.
    local ifname
    ifname=$(host_ifname "$handle")
    expect_eq "$(jq -r '.interfaces[0].name' <<<"$OUT")" "$ifname" "host if"
    link=$(sb_cell ip -j -d link show "$ifname")
    expect_eq "$(jq -r '.[0].ifalias' <<<"$link")" "$handle" "host ifalias"
    expect_eq "$(jq -r '.[0].mtu' <<<"$link")" "$CELL_MTU" "host MTU"
    expect_eq "$(jq -r '.[0].linkinfo.info_kind' <<<"$link")" veth kind
    check "host end answers no ARP" jq -e '.[0].flags | index("NOARP")' \
        <<<"$link"
    expect_eq "$(sb_cell cat "/proc/sys/net/ipv4/conf/$ifname/rp_filter")" 1 \
        "host end rp_filter"

    # The OVS port and the container record.
    expect_eq "$(vsctl port-to-br "$ifname")" br-cf "bridge of $ifname"
    check "ofport assigned" \
        test "$(vsctl get interface "$ifname" ofport)" -gt 0
    local ids
    ids=$(vsctl --format=json --columns=external_ids list interface "$ifname" \
          | jq -c '.data[0][0][1] | map({(.[0]): .[1]}) | add')
    expect_eq "$(jq -r '."cf-handle"' <<<"$ids")" "$handle" cf-handle
    expect_eq "$(jq -r '."cf-ip"' <<<"$ids")" "$ip" cf-ip
    expect_eq "$(jq -r '."cf-mac"' <<<"$ids")" "$mac" cf-mac
    expect_eq "$(jq -r '."cf-app-id"' <<<"$ids")" d5bbc5eb-app cf-app-id
    expect_eq "$(jq -r '."cf-space-id"' <<<"$ids")" f0c6-space cf-space-id
    expect_eq "$(jq -r '."cf-org-id"' <<<"$ids")" 9e1a-org cf-org-id
    expect_eq "$(jq -r '."cf-policy-group-id"' <<<"$ids")" d5bbc5eb-app \
        cf-policy-group-id
    expect_eq "$(jq -r '."cf-workload"' <<<"$ids")" app cf-workload
    expect_eq "$(jq -r '."cf-ports"' <<<"$ids")" 8080 cf-ports
    expect_eq "$(jq -r '."cf-log-config" | fromjson | .guid' <<<"$ids")" \
        d5bbc5eb-app cf-log-config
    expect_eq "$(jq -c '."cf-port-mappings" | fromjson' <<<"$ids")" \
        '[{"host_port":61000,"container_port":8080}]' cf-port-mappings
    expect_eq "$(jq -c '."cf-netout-rules" | fromjson | map(.protocol)' \
                 <<<"$ids")" '[1,3]' "cf-netout-rules protocols"
    expect_eq "$(jq -c '."cf-netout-rules" | fromjson | .[0].ports' \
                 <<<"$ids")" '[{"start":80,"end":443}]' \
        "cf-netout-rules ports"
    expect_eq "$(jq -c '."cf-netout-rules" | fromjson | .[1].icmps' \
                 <<<"$ids")" '{"type":8,"code":0}' "cf-netout-rules icmps"

    # And the address is really reserved with IPAM.
    check "IPAM reservation for $ip" test -f "$SB/ipam/cf-net/$ip"
}

# The result of each CNI version, and CHECK after ADD.
test_versions_and_check() {
    local v ns n=0
    for v in 0.3.1 0.4.0 1.0.0; do
        n=$((n + 1))
        ns=$(sb_netns "v$n")
        cni ADD "ver-$n" "$ns" "$(sb_conf ".cniVersion = \"$v\"")"
        expect_eq "$RC" 0 "ADD with cniVersion $v (stderr: $ERR)"
        expect_eq "$(jq -r .cniVersion <<<"$OUT")" "$v" "result cniVersion"
        if [ "$v" = 1.0.0 ]; then
            expect_eq "$(jq -r '.ips[0].version' <<<"$OUT")" null "version"
        else
            expect_eq "$(jq -r '.ips[0].version' <<<"$OUT")" 4 "version"
        fi

        local prev=$OUT
        cni CHECK "ver-$n" "$ns" \
            "$(sb_conf ".cniVersion = \"$v\" | .prevResult = $prev")"
        if [ "$v" = 0.3.1 ]; then
            expect_eq "$RC" 1 "CHECK with 0.3.1 is not supported"
            expect_eq "$(jq -r .code <<<"$OUT")" 1 "CHECK 0.3.1 code"
        else
            expect_eq "$RC" 0 "CHECK with $v (out: $OUT)"
            expect_eq "$OUT" "" "CHECK prints nothing"
        fi
    done

    # CHECK notices a container whose address was taken away.
    ip -n "${ns##*/}" addr flush dev eth0
    cni CHECK ver-3 "$ns" "$(sb_conf ".prevResult = $prev")"
    expect_eq "$RC" 1 "CHECK after the address was removed"
    check "CHECK names the address ($OUT)" \
        grep -q 'address' <<<"$(jq -r .msg <<<"$OUT")"
}

# VERSION answers with what we support and echoes the requested version.
test_version_command() {
    cni VERSION x /nonexistent '{"cniVersion":"0.4.0"}'
    expect_eq "$RC" 0 "VERSION exit code"
    expect_eq "$(jq -r .cniVersion <<<"$OUT")" 0.4.0 "VERSION cniVersion"
    expect_eq "$(jq -c .supportedVersions <<<"$OUT")" \
        '["0.3.0","0.3.1","0.4.0","1.0.0"]' supportedVersions
}

# An explicit "mtu" in the config wins over the cell's cf-mtu.
test_mtu_override() {
    local ns
    ns=$(sb_netns c1)
    cni ADD mtu-1 "$ns" "$(sb_conf '.mtu = 1300')"
    expect_eq "$RC" 0 "ADD (stderr: $ERR)"
    expect_eq "$(ip -n "${ns##*/}" -j link show eth0 | jq -r '.[0].mtu')" \
        1300 "container MTU"
    expect_eq "$(sb_cell ip -j link show "$(host_ifname mtu-1)" \
                 | jq -r '.[0].mtu')" 1300 "host MTU"
}

# expect_refused_early HANDLE NS PATTERN: ADD of HANDLE in NS failed with
# code 11, a message matching PATTERN, and made nothing.
expect_refused_early() {
    local handle=$1 ns=$2 pattern=$3
    cni ADD "$handle" "$ns" "$(sb_conf)"
    expect_eq "$RC" 1 "exit code ($handle)"
    expect_eq "$(jq -r .code <<<"$OUT")" 11 "error code ($handle)"
    check "message matches '$pattern': $OUT" \
        grep -q "$pattern" <<<"$(jq -r .msg <<<"$OUT")"
    expect_nothing_left "$handle"
    check "container namespace untouched ($handle)" \
        test "$(ip -n "${ns##*/}" -j link | jq length)" = 1
}

# Without cf-subnet (flowctl has no lease yet), or without the bridge
# (flowctl has not made it yet): code 11, nothing made.
test_no_subnet_is_try_again() {
    local ns
    ns=$(sb_netns c1)
    vsctl remove open_vswitch . external_ids cf-subnet
    expect_refused_early early-1 "$ns" 'cf-subnet'

    vsctl set open_vswitch . external_ids:cf-subnet="$CELL_SUBNET"
    vsctl del-br br-cf
    expect_refused_early early-2 "$ns" 'bridge br-cf does not exist'
}

# A failure after the IPAM plugin was fed gives the address back and
# leaves nothing: while the veth is made (the container already has an
# interface of the name CNI_IFNAME asks for: code 4, naming CNI_IFNAME),
# and after the plugin answered, while the container side gets its address
# (a route the container already has: code 11).
test_failure_after_ipam_leaves_nothing() {
    local ns
    ns=$(sb_netns c1)
    ip -n "${ns##*/}" link add eth0 type veth peer name other0
    cni ADD clash-1 "$ns" "$(sb_conf)"
    expect_eq "$RC" 1 "exit code"
    expect_eq "$(jq -r .code <<<"$OUT")" 4 "error code"
    check "message names CNI_IFNAME and the container's eth0: $OUT" \
        grep -q "^CNI_IFNAME: .*namespace $ns already has an interface eth0" \
        <<<"$(jq -r .msg <<<"$OUT")"
    expect_nothing_left clash-1
    check "the container's own eth0 is untouched" \
        test "$(ip -n "${ns##*/}" -j link show eth0 \
                | jq -r '.[0].link')" = other0
    check "no other link in the container" \
        test "$(ip -n "${ns##*/}" -j link | jq length)" = 3
    # The plugin did reserve an address (host-local remembers the last one
    # it handed out), and it was given back.
    expect_eq "$(cat "$SB"/ipam/cf-net/last_reserved_ip.0)" 10.255.7.2 \
        "the address IPAM handed out"
    check "and gave back" test ! -e "$SB/ipam/cf-net/10.255.7.2"

    # Now the veth is made and the plugin answers, but the gateway's route
    # cannot be added: the container has one, over another interface.
    local ns2
    ns2=$(sb_netns c2)
    ip -n "${ns2##*/}" link add other1 type veth peer name other2
    ip -n "${ns2##*/}" link set other1 up
    ip -n "${ns2##*/}" route add 169.254.0.1/32 dev other1
    cni ADD clash-2 "$ns2" "$(sb_conf)"
    expect_eq "$RC" 1 "exit code (route)"
    expect_eq "$(jq -r .code <<<"$OUT")" 11 "error code (route)"
    check "message names the route: $OUT" \
        grep -q "adding route 169.254.0.1/32 dev eth0" \
        <<<"$(jq -r .msg <<<"$OUT")"
    expect_nothing_left clash-2
    check "the veth is gone from the container too" \
        test "$(ip -n "${ns2##*/}" -j link | jq length)" = 3
    expect_eq "$(cat "$SB"/ipam/cf-net/last_reserved_ip.0)" 10.255.7.3 \
        "the address IPAM handed out (route)"
    check "and gave back (route)" test ! -e "$SB/ipam/cf-net/10.255.7.3"
}

# Bad input gets CNI error JSON naming the field, and leaves nothing.
test_bad_input_names_field_and_leaves_nothing() {
    local ns
    ns=$(sb_netns c1)

    cni ADD bad-1 "$ns" "$(sb_conf '.runtimeConfig.portMappings =
        [{"host_port":61000,"container_port":8080},
         {"host_port":0,"container_port":8080}]')"
    expect_eq "$RC" 1 "exit code"
    expect_eq "$(jq -r .code <<<"$OUT")" 7 "error code"
    expect_eq "$(jq -r .msg <<<"$OUT")" \
        "runtimeConfig.portMappings[1].host_port: must be 1..65535" message

    cni ADD bad-1 "$ns" "$(sb_conf '.runtimeConfig.netOutRules[0].networks[0].end = "10.0.0"')"
    expect_eq "$(jq -r .code <<<"$OUT")" 7 "error code (networks)"
    check "names networks[0].end: $OUT" grep -q \
        'runtimeConfig.netOutRules\[0\].networks\[0\].end' \
        <<<"$(jq -r .msg <<<"$OUT")"

    cni ADD bad-1 "$ns" "$(sb_conf '.datapath_type = "kernel"')"
    expect_eq "$(jq -r .code <<<"$OUT")" 7 "error code (datapath_type)"
    check "names datapath_type: $OUT" grep -q '^datapath_type' \
        <<<"$(jq -r .msg <<<"$OUT")"

    cni ADD bad-1 "$ns" '{"cniVersion": "1.0.0", "name": '
    expect_eq "$(jq -r .code <<<"$OUT")" 6 "error code (not JSON)"

    cni ADD bad-1 "$ns" "$(sb_conf '.cniVersion = "0.2.0"')"
    expect_eq "$(jq -r .code <<<"$OUT")" 1 "error code (version)"

    cni ADD bad-1 "$ns" "$(sb_conf '.ipam.type = "no-such-ipam"')"
    expect_eq "$RC" 1 "exit code (ipam type)"
    expect_eq "$(jq -r .code <<<"$OUT")" 7 "error code (ipam type)"
    check "names ipam.type and the plugin: $OUT" \
        grep -q '^ipam.type: plugin "no-such-ipam" not found' \
        <<<"$(jq -r .msg <<<"$OUT")"

    # A bad environment is code 4.
    cni ADD "-bad" "$ns" "$(sb_conf)"
    expect_eq "$(jq -r .code <<<"$OUT")" 4 "error code (CNI_CONTAINERID)"
    check "names CNI_CONTAINERID: $OUT" grep -q '^CNI_CONTAINERID' \
        <<<"$(jq -r .msg <<<"$OUT")"
    cni ADD bad-1 "" "$(sb_conf)"
    expect_eq "$(jq -r .msg <<<"$OUT")" "CNI_NETNS: required" "CNI_NETNS"

    # A namespace that does not exist, or a file that is not one, is a bad
    # CNI_NETNS (code 4), refused before anything is touched.
    cni ADD bad-1 /var/run/netns/${PFX}missing "$(sb_conf)"
    expect_eq "$RC" 1 "exit code (missing netns)"
    expect_eq "$(jq -r .code <<<"$OUT")" 4 "error code (missing netns)"
    expect_eq "$(jq -r .msg <<<"$OUT")" \
        "CNI_NETNS: cannot open \"/var/run/netns/${PFX}missing\": No such file or directory" \
        "message (missing netns)"
    expect_nothing_left bad-1
    check "container namespace untouched" \
        test "$(ip -n "${ns##*/}" -j link | jq length)" = 1
    check "no IPAM data at all" test ! -e "$SB/ipam/cf-net"
    echo '{}' > "$SB/not-a-netns"
    cni ADD bad-1 "$SB/not-a-netns" "$(sb_conf)"
    expect_eq "$(jq -r .code <<<"$OUT")" 4 "error code (not a netns)"
    expect_eq "$(jq -r .msg <<<"$OUT")" \
        "CNI_NETNS: \"$SB/not-a-netns\" is not a network namespace" \
        "message (not a netns)"
    expect_nothing_left bad-1
}

# A container id of up to 254 characters works (it is the host veth's
# alias, which the kernel limits); 255 or more is refused at once with code
# 4 naming CNI_CONTAINERID, before the IPAM plugin starts.  (It used to
# fail late, with code 11, "try again later", which could never succeed.)
test_container_id_length() {
    local ns long longer
    ns=$(sb_netns c1)
    install_logging_ipam
    long=$(printf 'a%.0s' $(seq 1 254))
    longer=${long}b
    cni ADD "$long" "$ns" "$(sb_conf '.ipam.type = "logging-ipam"')"
    expect_eq "$RC" 0 "ADD with a 254-character id (out: $OUT $ERR)"
    expect_eq "$(sb_cell ip -j -d link show "$(host_ifname "$long")" \
                 | jq -r '.[0].ifalias')" "$long" "host ifalias"
    cni DEL "$long" "$ns" "$(sb_conf '.ipam.type = "logging-ipam"')"
    expect_eq "$RC" 0 "DEL with a 254-character id (out: $OUT)"
    expect_nothing_left "$long"
    : > "$SB/ipam.log"

    local cmd
    for cmd in ADD CHECK DEL; do
        cni "$cmd" "$longer" "$ns" "$(sb_conf '.ipam.type = "logging-ipam"')"
        expect_eq "$RC" 1 "$cmd with a 255-character id"
        expect_eq "$(jq -r .code <<<"$OUT")" 4 "error code ($cmd)"
        check "names CNI_CONTAINERID, its length and the limit: $OUT" \
            grep -q '^CNI_CONTAINERID: "aaaa.*" has 255 characters; cni-ovs takes at most 254' \
            <<<"$(jq -r .msg <<<"$OUT")"
    done
    expect_nothing_left "$longer"
    expect_eq "$(wc -c < "$SB/ipam.log")" 0 "IPAM plugin calls"
    check "container namespace untouched" \
        test "$(ip -n "${ns##*/}" -j link | jq length)" = 1
}

# install_logging_ipam: the IPAM plugin "logging-ipam", a wrapper around
# host-local that logs each command with the size of its config to
# $SB/ipam.log.
install_logging_ipam() {
    cat > "$SB/cni-bin/logging-ipam" <<EOF2
#!/bin/sh
input=\$(cat)
echo "\$CNI_COMMAND \${#input}" >> "$SB/ipam.log"
printf '%s' "\$input" | exec /usr/lib/cni/host-local
EOF2
    chmod +x "$SB/cni-bin/logging-ipam"
}

# An unreachable OVSDB is "try again later".
test_unreachable_ovsdb_is_try_again() {
    local ns nodb
    ns=$(sb_netns c1)
    nodb=$(sb_conf ".ovsdb = \"unix:$SB/nothing.sock\"")
    cni ADD nodb-1 "$ns" "$nodb"
    expect_eq "$RC" 1 "exit code"
    expect_eq "$(jq -r .code <<<"$OUT")" 11 "error code"
    expect_nothing_left nodb-1

    # DEL without the database removes the veth but keeps the address (the
    # port, and flowctl's flows for it, are still there) and asks for a
    # retry, which finishes the job.
    local ns2 ip
    ns2=$(sb_netns c2)
    cni ADD nodb-2 "$ns2" "$(sb_conf)"
    expect_eq "$RC" 0 "ADD (stderr: $ERR)"
    ip=$(jq -r '.ips[0].address' <<<"$OUT")
    ip=${ip%/*}
    cni DEL nodb-2 "$ns2" "$nodb"
    expect_eq "$RC" 1 "DEL without the database"
    expect_eq "$(jq -r .code <<<"$OUT")" 11 "error code (DEL)"
    check "address still reserved" grep -q "^nodb-2" "$SB/ipam/cf-net/$ip"
    check "port still there" vsctl get interface "$(host_ifname nodb-2)" name
    if sb_cell ip link show "$(host_ifname nodb-2)" >/dev/null 2>&1; then
        echo "veth still exists"; return 1
    fi
    # (ovs-vswitchd complains about the port's vanished device.)
    SB_LOG_IGNORE="$(host_ifname nodb-2)"
    cni DEL nodb-2 "$ns2" "$(sb_conf)"
    expect_eq "$RC" 0 "DEL retried (out: $OUT)"
    expect_nothing_left nodb-2
}

# install_timeout: ADD waits for flowctl's cf-installed=true and undoes
# everything when it does not come.
test_install_timeout() {
    local ns1 ns2
    ns1=$(sb_netns c1)
    ns2=$(sb_netns c2)

    cni ADD inst-1 "$ns1" "$(sb_conf '.install_timeout = 1')"
    expect_eq "$RC" 1 "exit code without flowctl"
    expect_eq "$(jq -r .code <<<"$OUT")" 11 "error code"
    check "message names cf-installed: $OUT" grep -q cf-installed \
        <<<"$(jq -r .msg <<<"$OUT")"
    expect_nothing_left inst-1

    # Stand in for flowctl: mark the interface installed once it appears.
    local ifname
    ifname=$(host_ifname inst-2)
    ( vsctl --timeout=20 wait-until interface "$ifname" \
          external_ids:cf-handle=inst-2 \
      && vsctl set interface "$ifname" external_ids:cf-installed=true ) &
    local marker=$!
    cni ADD inst-2 "$ns2" "$(sb_conf '.install_timeout = 20')"
    wait "$marker"
    expect_eq "$RC" 0 "ADD with the installed mark (stderr: $ERR)"
}

# DEL removes everything, twice is fine, a gone namespace is fine, and a
# container that never existed is fine.
test_del_idempotent() {
    local ns handle=del-1
    ns=$(sb_netns c1)
    cni ADD "$handle" "$ns" "$(sb_conf)"
    expect_eq "$RC" 0 "ADD (stderr: $ERR)"

    cni DEL "$handle" "$ns" "$(sb_conf)"
    expect_eq "$RC" 0 "DEL (out: $OUT)"
    expect_eq "$OUT" "" "DEL prints nothing"
    expect_nothing_left "$handle"
    check "eth0 gone from the container" \
        test "$(ip -n "${ns##*/}" -j link | jq length)" = 1

    cni DEL "$handle" "$ns" "$(sb_conf)"
    expect_eq "$RC" 0 "second DEL (out: $OUT)"

    # Namespace gone before DEL (Garden destroyed the container).
    local ns2
    ns2=$(sb_netns c2)
    cni ADD del-2 "$ns2" "$(sb_conf)"
    expect_eq "$RC" 0 "ADD del-2 (stderr: $ERR)"
    ip netns del "${ns2##*/}"
    # The kernel takes the veth with the namespace; vswitchd notices the
    # device vanish before DEL removes the port.
    SB_LOG_IGNORE="(on|from) (network device )?$(host_ifname del-2)"
    cni DEL del-2 "$ns2" "$(sb_conf)"
    expect_eq "$RC" 0 "DEL with the namespace gone (out: $OUT)"
    expect_nothing_left del-2

    # Never existed; no CNI_NETNS at all.
    cni DEL never-1 "" "$(sb_conf)"
    expect_eq "$RC" 0 "DEL of a container that never existed (out: $OUT)"
}

# DEL cleans up what an ADD that died half-way left: a veth with the
# container's name and alias but no OVS port.
test_del_after_partial_add() {
    local ns handle=partial-1 ifname
    ns=$(sb_netns c1)
    ifname=$(host_ifname "$handle")
    sb_cell ip link add "$ifname" type veth peer name tmp-peer
    sb_cell ip link set "$ifname" alias "$handle"
    sb_cell ip link set tmp-peer netns "${ns##*/}"
    ip -n "${ns##*/}" link set tmp-peer name eth0

    cni DEL "$handle" "$ns" "$(sb_conf)"
    expect_eq "$RC" 0 "DEL (out: $OUT)"
    expect_nothing_left "$handle"

    # A link of the same name that belongs to someone else stays.
    sb_cell ip link add "$ifname" type veth peer name tmp-peer2
    sb_cell ip link set "$ifname" alias someone-else
    cni DEL "$handle" "" "$(sb_conf)"
    expect_eq "$RC" 0 "DEL (out: $OUT)"
    check "someone else's link kept" sb_cell ip link show "$ifname"
}

# ADD twice for one container is refused and does not disturb the first.
# The IPAM plugin is a wrapper around host-local that logs each command with
# the size of its config: the refusal comes before the plugin gets one.
test_add_twice_refused() {
    local ns
    ns=$(sb_netns c1)
    install_logging_ipam
    local conf
    conf=$(sb_conf '.ipam.type = "logging-ipam"')
    cni ADD twice-1 "$ns" "$conf"
    expect_eq "$RC" 0 "first ADD (stderr: $ERR)"
    local first_ip
    first_ip=$(jq -r '.ips[0].address' <<<"$OUT")
    cni ADD twice-1 "$ns" "$conf"
    expect_eq "$RC" 1 "second ADD"
    expect_eq "$(jq -r .code <<<"$OUT")" 100 "error code"
    expect_eq "$(awk '$2 > 0' "$SB/ipam.log" | wc -l)" 1 \
        "IPAM commands with a config (the first ADD only)"
    check "says already: $OUT" grep -q already <<<"$(jq -r .msg <<<"$OUT")"
    expect_eq "$(vsctl get interface "$(host_ifname twice-1)" \
                 external_ids:cf-ip)" "\"${first_ip%/*}\"" "record kept"
    check "address still reserved" \
        grep -q "^twice-1" "$SB/ipam/cf-net/${first_ip%/*}"
    check "veth kept" sb_cell ip link show "$(host_ifname twice-1)"

    # Refused on the record alone too (its veth gone, e.g. deleted by
    # hand), and the address stays reserved until DEL.  (ovs-vswitchd
    # complains about the vanished device.)
    SB_LOG_IGNORE="$(host_ifname twice-1)"
    sb_cell ip link del "$(host_ifname twice-1)"
    cni ADD twice-1 "$ns" "$conf"
    expect_eq "$RC" 1 "ADD over a record without its veth"
    expect_eq "$(jq -r .code <<<"$OUT")" 100 "error code (record only)"
    check "names the owner: $OUT" grep -q "owned by twice-1" \
        <<<"$(jq -r .msg <<<"$OUT")"
    check "address still reserved (record only)" \
        grep -q "^twice-1" "$SB/ipam/cf-net/${first_ip%/*}"
    expect_eq "$(awk '$2 > 0' "$SB/ipam.log" | wc -l)" 1 \
        "IPAM commands with a config (record only)"
}

# cni-ovs needs no capability but NET_ADMIN (links, addresses, routes,
# the container's sysctls) and SYS_ADMIN (setns() into the container's
# namespace): with its bounding set cut to those two, ADD plumbs the
# container and DEL removes everything; without SYS_ADMIN, ADD fails with
# a CNI error and leaves nothing (so the check can fail).
test_cni_needs_only_net_admin_and_sys_admin() {
    local ns handle=caps-1
    ns=$(sb_netns caps)
    CNI_CAPS=net_admin,sys_admin cni ADD "$handle" "$ns" "$(sb_conf)"
    expect_eq "$RC" 0 "ADD with NET_ADMIN and SYS_ADMIN (stderr: $ERR)"
    check "the container's eth0 has its address" \
        test -n "$(ip -n "${ns##*/}" -j addr show eth0 \
                   | jq -r '.[0].addr_info[] | select(.family == "inet")
                            | .local')"
    CNI_CAPS=net_admin,sys_admin cni DEL "$handle" "$ns" "$(sb_conf)"
    expect_eq "$RC" 0 "DEL with NET_ADMIN and SYS_ADMIN (out: $OUT)"
    expect_nothing_left "$handle"

    CNI_CAPS=net_admin cni ADD caps-2 "$ns" "$(sb_conf)"
    [ "$RC" != 0 ] || fail "ADD without SYS_ADMIN succeeded"
    jq -e '.msg | length > 0' <<<"$OUT" > /dev/null \
        || fail "ADD without SYS_ADMIN: no CNI error: $OUT $ERR"
    echo "without SYS_ADMIN: $(jq -c . <<<"$OUT")"
    expect_nothing_left caps-2
}

# 100 containers, each an ADD then a DEL, all at once, while the
# namespaces of one in five are deleted at a random moment (before, during
# or after their ADD: Garden destroying containers under load).  Every ADD
# whose namespace stays succeeds; one whose namespace went either succeeds
# or fails with a CNI error that says why, and never hangs; every DEL
# succeeds; at the end nothing is left: no port, no veth, no container
# record, no IPAM reservation.
test_parallel_100_add_del_namespaces_vanishing() {
    local i pids=() dir=$SB/par100 conf ignore=()
    mkdir -p "$dir"
    conf=$(sb_conf)
    for i in $(seq 1 100); do
        sb_netns "q$i" > /dev/null
        ((i % 5)) || ignore+=("$(host_ifname "q-$i")")
    done
    # vswitchd notices a vanished device before DEL removes its port,
    # cannot open one whose namespace went during the ADD, or finds it gone
    # while it sets its qdisc ("query DEV qdisc failed", "DEV: removing
    # policing failed", "DEV: Failed to delete existing qdisc").
    local gone
    gone="($(IFS='|'; echo "${ignore[*]}"))"
    SB_LOG_IGNORE="((on|from|open) (network device )?|query )$gone|$gone: "
    for i in $(seq 1 100); do
        ( ns=/var/run/netns/${PFX}q$i
          cni ADD "q-$i" "$ns" "$conf"
          echo "$RC" > "$dir/$i.rc"; echo "$OUT" > "$dir/$i.out"
          echo "$ERR" > "$dir/$i.err"
          cni DEL "q-$i" "$ns" "$conf"
          echo "$RC $OUT" > "$dir/$i.del" ) &
        pids+=($!)
        if ! ((i % 5)); then
            ( sleep "0.$((RANDOM % 400))"; ip netns del "${PFX}q$i" ) &
            pids+=($!)
        fi
    done
    local deadline=$((SECONDS + 120)) p
    for p in "${pids[@]}"; do
        while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
            sleep 0.2
        done
        kill -0 "$p" 2>/dev/null && fail "an ADD or DEL still runs after 120 s"
    done
    wait "${pids[@]}"

    local n_gone_ok=0 n_gone_err=0 rc
    for i in $(seq 1 100); do
        rc=$(cat "$dir/$i.rc")
        if ((i % 5)); then
            expect_eq "$rc" 0 \
                "ADD q-$i ($(cat "$dir/$i.out") $(cat "$dir/$i.err"))"
        elif [ "$rc" = 0 ]; then
            n_gone_ok=$((n_gone_ok + 1))
        else
            n_gone_err=$((n_gone_err + 1))
            jq -e '.code and (.msg | length > 0)' "$dir/$i.out" > /dev/null \
                || fail "ADD q-$i failed without a CNI error: rc $rc," \
                        "$(cat "$dir/$i.out") $(cat "$dir/$i.err")"
        fi
        expect_eq "$(cat "$dir/$i.del")" "0 " "DEL q-$i"
    done
    echo "namespaces deleted under 20 containers: $n_gone_ok ADDs" \
         "succeeded, $n_gone_err refused"
    expect_eq "$(vsctl list-ports br-cf | wc -l)" 0 "ports left on br-cf"
    expect_eq "$(vsctl --bare --columns=external_ids list interface \
                 | grep -c cf-handle)" 0 "container records left"
    expect_eq "$(sb_cell ip -j link show type veth | jq length)" 0 \
        "veths left in the cell"
    expect_eq "$(find "$SB/ipam" -type f -name '10.*' | wc -l)" 0 \
        "IPAM reservations left"
}

# 50 ADDs in parallel: all succeed, distinct addresses and names; then 50
# DELs in parallel leave nothing.
test_parallel_50() {
    local i pids=() dir=$SB/par
    mkdir -p "$dir"
    for i in $(seq 1 50); do
        sb_netns "p$i" > /dev/null
    done
    local conf
    conf=$(sb_conf)
    for i in $(seq 1 50); do
        ( cni ADD "par-$i" "/var/run/netns/${PFX}p$i" "$conf"
          echo "$RC" > "$dir/$i.rc"; echo "$OUT" > "$dir/$i.out"
          echo "$ERR" > "$dir/$i.err" ) &
        pids+=($!)
    done
    wait "${pids[@]}"
    for i in $(seq 1 50); do
        expect_eq "$(cat "$dir/$i.rc")" 0 \
            "ADD par-$i ($(cat "$dir/$i.out") $(cat "$dir/$i.err"))"
    done
    expect_eq "$(cat "$dir"/*.out | jq -r '.ips[0].address' | sort -u \
                 | wc -l)" 50 "distinct addresses"
    expect_eq "$(cat "$dir"/*.out | jq -r '.interfaces[0].name' | sort -u \
                 | wc -l)" 50 "distinct host interfaces"
    expect_eq "$(vsctl list-ports br-cf | wc -l)" 50 "ports on br-cf"

    pids=()
    for i in $(seq 1 50); do
        ( cni DEL "par-$i" "/var/run/netns/${PFX}p$i" "$conf"
          echo "$RC $OUT" > "$dir/$i.del" ) &
        pids+=($!)
    done
    wait "${pids[@]}"
    for i in $(seq 1 50); do
        expect_eq "$(cat "$dir/$i.del")" "0 " "DEL par-$i"
    done
    expect_eq "$(vsctl list-ports br-cf | wc -l)" 0 "ports left on br-cf"
    expect_eq "$(sb_cell ip -j link show type veth | jq length)" 0 \
        "veths left in the cell"
    expect_eq "$(find "$SB/ipam" -type f -name '10.*' | wc -l)" 0 \
        "IPAM reservations left"
}

# garden-external-networker's way, through the real libcni: a conflist in
# a config dir, metadata and runtimeConfig injected, result down-converted
# to 0.4.0, the first IPv4 address taken.
test_libcni_garden_contract() {
    local ns dir=$SB/garden
    ns=$(sb_netns c1)
    mkdir -p "$dir/conf" "$dir/cache"
    sb_conf 'del(.metadata, .runtimeConfig) | {name: "cni-ovs",
        cniVersion: "1.0.0", disableCheck: true,
        plugins: [del(.name, .cniVersion)]}' > "$dir/conf/10-cni-ovs.conflist"
    local garden_sim=${CFNET_OUT:-$SB_TOP/build}/bin/garden-sim
    [ -x "$garden_sim" ] || garden_sim=$SB_TOP/build/bin/garden-sim
    local props='{"Pid":0,"Properties":{"policy_group_id":"pg-1","app_id":"pg-1","space_id":"s-1","org_id":"o-1","ports":"8080","container_workload":"task","log_config":"{\"guid\":\"pg-1\",\"index\":0}"},"netout_rules":[{"protocol":2,"networks":[{"start":"169.254.0.2","end":"169.254.0.2"}],"ports":[{"start":53,"end":53}]}],"netin":[{"host_port":0,"container_port":8080}]}'
    local out
    out=$(sb_cell "$garden_sim" --action up --handle garden-1 \
            --cni-config-dir "$dir/conf" --cni-plugin-dir "$SB/cni-bin" \
            --netns "$ns" --cache-dir "$dir/cache" \
            --state-file "$dir/ports.json" <<<"$props")
    local ip
    ip=$(jq -r '.properties."garden.network.container-ip"' <<<"$out")
    check "container ip $ip in the cell subnet" \
        grep -q '^10\.255\.7\.' <<<"$ip"
    expect_eq "$(jq -r '.properties."garden.network.interface"' <<<"$out")" \
        eth0 interface
    expect_eq "$(jq -c .dns_servers <<<"$out")" '["169.254.0.2"]' dns_servers
    local ifname
    ifname=$(host_ifname garden-1)
    expect_eq "$(vsctl get interface "$ifname" external_ids:cf-workload)" \
        task "metadata reached the record"
    expect_eq "$(vsctl get interface "$ifname" external_ids:cf-port-mappings)" \
        '"[{\"host_port\":61000,\"container_port\":8080}]"' \
        "allocated port mapping reached the record"

    sb_cell "$garden_sim" --action down --handle garden-1 \
        --cni-config-dir "$dir/conf" --cni-plugin-dir "$SB/cni-bin" \
        --netns "$ns" --cache-dir "$dir/cache" --state-file "$dir/ports.json"
    expect_nothing_left garden-1
}

# expect_code CODE PATTERN WHAT: the last cni call failed with CNI error
# CODE and a message matching PATTERN.
expect_code() {
    expect_eq "$RC" 1 "exit code ($3)"
    expect_eq "$(jq -r .code <<<"$OUT")" "$1" "error code ($3; $OUT)"
    check "message of $3 matches '$2': $OUT" \
        grep -qE "$2" <<<"$(jq -r .msg <<<"$OUT")"
}

# Each case of docs/configuration.md's table "Error codes" gives the code
# the table promises, and the table lists exactly the codes of
# cni-ovs/result.h's enum cni_error.
test_error_codes_as_documented() {
    local doc=$SB_TOP/docs/configuration.md hdr=$SB_TOP/cni-ovs/result.h
    local documented defined
    documented=$(sed -n '/^### Error codes/,/^##/p' "$doc" \
                 | sed -n 's/^| \([0-9][0-9]*\) |.*/\1/p' | sort -n | xargs)
    defined=$(sed -n 's/^ *CNI_ERR_[A-Z_]* = \([0-9]*\),.*/\1/p' "$hdr" \
              | sort -n | xargs)
    expect_eq "$documented" "$defined" \
        "codes in configuration.md's table (result.h has '$defined')"

    local ns
    ns=$(sb_netns c1)

    # 1: a cniVersion we do not speak; CHECK before 0.4.0.
    cni ADD codes-1 "$ns" "$(sb_conf '.cniVersion = "0.2.0"')"
    expect_code 1 '^cniVersion' "unsupported cniVersion"
    cni CHECK codes-1 "$ns" "$(sb_conf '.cniVersion = "0.3.1"
        | .prevResult = {"ips": [{"address": "10.255.7.9/32"}]}')"
    expect_code 1 '^cniVersion: CHECK needs 0.4.0' "CHECK with 0.3.1"

    # 4: a bad CNI_* variable, named.
    cni ADD -codes "$ns" "$(sb_conf)"
    expect_code 4 '^CNI_CONTAINERID' "bad CNI_CONTAINERID"
    cni ADD codes-1 "/var/run/netns/${PFX}gone" "$(sb_conf)"
    expect_code 4 '^CNI_NETNS: cannot open' "missing CNI_NETNS"
    cni ADD codes-1 "" "$(sb_conf)"
    expect_code 4 '^CNI_NETNS: required' "no CNI_NETNS"
    cni BOGUS codes-1 "$ns" "$(sb_conf)"
    expect_code 4 '^CNI_COMMAND: unknown command "BOGUS"' "bad CNI_COMMAND"

    # 5: the IPAM plugin fails without a CNI error of its own.
    printf '#!/bin/sh\ncat >/dev/null\necho "disk full" >&2\nexit 3\n' \
        > "$SB/cni-bin/broken-ipam"
    chmod +x "$SB/cni-bin/broken-ipam"
    cni ADD codes-1 "$ns" "$(sb_conf '.ipam.type = "broken-ipam"')"
    expect_code 5 '^ipam \(broken-ipam\): exited with status 3: disk full' \
        "IPAM plugin failure"

    # 6: stdin is not JSON.
    cni ADD codes-1 "$ns" '{"cniVersion": '
    expect_code 6 'not valid JSON' "not JSON"

    # 7: an invalid member, named; an IPAM plugin not in CNI_PATH.
    cni ADD codes-1 "$ns" "$(sb_conf '.mtu = 20')"
    expect_code 7 '^mtu' "bad mtu"
    cni ADD codes-1 "$ns" "$(sb_conf '.ipam.type = "no-such-ipam"')"
    expect_code 7 '^ipam.type: plugin "no-such-ipam" not found in CNI_PATH' \
        "missing IPAM plugin"
    cni CHECK codes-1 "$ns" "$(sb_conf)"
    expect_code 7 '^prevResult: required' "CHECK without prevResult"

    # 11: flowctl has not published the cell's subnet yet.
    vsctl remove open_vswitch . external_ids cf-subnet
    cni ADD codes-1 "$ns" "$(sb_conf)"
    expect_code 11 'cf-subnet' "no cf-subnet"
    vsctl set open_vswitch . external_ids:cf-subnet="$CELL_SUBNET"

    # 100: ADD twice.
    cni ADD codes-1 "$ns" "$(sb_conf)"
    expect_eq "$RC" 0 "ADD (stderr: $ERR)"
    local prev=$OUT
    cni ADD codes-1 "$ns" "$(sb_conf)"
    expect_code 100 'already has interface' "ADD twice"

    # 101: CHECK finds the container changed.
    ip -n "${ns##*/}" addr flush dev eth0
    cni CHECK codes-1 "$ns" "$(sb_conf ".prevResult = $prev")"
    expect_code 101 'address' "CHECK mismatch"

    # Any other code: the IPAM plugin's own, passed through.
    printf '#!/bin/sh\ncat >/dev/null\n%s\nexit 1\n' \
        "echo '{\"cniVersion\":\"1.0.0\",\"code\":150,\"msg\":\"pool exhausted\"}'" \
        > "$SB/cni-bin/full-ipam"
    chmod +x "$SB/cni-bin/full-ipam"
    local ns2
    ns2=$(sb_netns c2)
    cni ADD codes-2 "$ns2" "$(sb_conf '.ipam.type = "full-ipam"')"
    expect_code 150 '^ipam \(full-ipam\): pool exhausted' "IPAM plugin's code"
    expect_nothing_left codes-2
}
