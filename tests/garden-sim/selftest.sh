#!/bin/bash
# Self-test for garden-sim against Debian's stock CNI plugins (ptp +
# host-local from /usr/lib/cni), without cni-ovs: a cniVersion 1.0.0
# conflist and a cniVersion 0.3.1 single .conf. Needs root.
#
# Usage: tests/garden-sim/selftest.sh [path/to/garden-sim] [cni-plugin-dir]

set -euo pipefail

SIM=${1:-$(dirname "$0")/../../build/bin/garden-sim}
PLUGINS=${2:-/usr/lib/cni}
ID=gs$$
NS=$ID-c1
NS2=$ID-c2   # a second, never set-up container
TMP=$(mktemp -d /tmp/garden-sim-test.XXXXXX)
fail=0

cleanup() {
    # Deleting the namespace destroys ptp's veth pair (and the host route).
    ip netns del "$NS" 2>/dev/null || true
    ip netns del "$NS2" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

ok()  { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fail=1; }

sim() {
    "$SIM" --handle "$ID-h1" --cni-plugin-dir "$PLUGINS" --netns "/var/run/netns/$NS" \
        --cache-dir "$TMP/cache" --state-file "$TMP/ports.json" "$@"
}

GARDEN_JSON='{"Pid":0,"Properties":{"policy_group_id":"pg","app_id":"app1","space_id":"s1","org_id":"o1","ports":"8080","container_workload":"app","log_config":"{\"guid\":\"app1\"}"},"netout_rules":[{"protocol":1,"networks":[{"start":"8.8.8.8","end":"9.9.9.9"}],"ports":[{"start":53,"end":54}],"log":true}],"netin":[{"host_port":0,"container_port":8080},{"host_port":0,"container_port":9090},{"host_port":7000,"container_port":7001}]}'

# run_case NAME CONFIG_FILE_NAME CONFIG_JSON
run_case() {
    local name=$1 file=$2 conf=$3 out
    rm -rf "$TMP/conf" && mkdir -p "$TMP/conf" && printf '%s\n' "$conf" > "$TMP/conf/$file"
    ip netns add "$NS"
    ip netns add "$NS2"

    if out=$(sim --action up --cni-config-dir "$TMP/conf" <<<"$GARDEN_JSON"); then
        ok "$name: up"
    else
        bad "$name: up"; ip netns del "$NS"; ip netns del "$NS2"; return
    fi
    echo "     $out"
    local ip
    ip=$(jq -r '.properties["garden.network.container-ip"]' <<<"$out")
    [[ $ip == 10.254.77.* ]] && ok "$name: container ip $ip" || bad "$name: container ip '$ip'"
    [ "$(jq -r '.properties["garden.network.interface"]' <<<"$out")" = eth0 ] \
        && ok "$name: interface" || bad "$name: interface"
    [ "$(jq -r '.properties["garden.network.host-ip"]' <<<"$out")" = 255.255.255.255 ] \
        && ok "$name: host-ip" || bad "$name: host-ip"
    [ "$(jq -r '.properties["garden.network.mapped-ports"]' <<<"$out")" = \
      '[{"HostPort":61000,"ContainerPort":8080},{"HostPort":61001,"ContainerPort":9090},{"HostPort":7000,"ContainerPort":7001}]' ] \
        && ok "$name: mapped-ports" || bad "$name: mapped-ports"
    [ "$(jq -c .dns_servers <<<"$out")" = '["192.0.2.53"]' ] \
        && ok "$name: dns_servers" || bad "$name: dns_servers"
    ip -n "$NS" -4 addr show dev eth0 | grep -q "inet $ip/" \
        && ok "$name: address inside netns" || bad "$name: address inside netns"
    [ "$(jq -c ".acquired_ports[\"$ID-h1\"]" "$TMP/ports.json")" = '[61000,61001]' ] \
        && ok "$name: ports recorded" || bad "$name: ports recorded"

    if [ "$name" = conflist-1.0.0 ]; then
        sim --action check --cni-config-dir "$TMP/conf" && ok "$name: check" || bad "$name: check"
    else
        sim --action check --cni-config-dir "$TMP/conf" 2>/dev/null && bad "$name: check accepted for 0.3.1" \
            || ok "$name: check refused for 0.3.1"
    fi

    # A second handle must get the next free ports.
    if out=$("$SIM" --action up --handle "$ID-h2" --cni-config-dir "$TMP/conf" --cni-plugin-dir /nonexistent \
            --netns "/var/run/netns/$NS2" --cache-dir "$TMP/cache" --state-file "$TMP/ports.json" \
            <<<'{"netin":[{"host_port":0,"container_port":1}]}' 2>"$TMP/err"); then
        bad "$name: up with a missing plugin dir succeeded"
    else
        grep -q 'failed to find plugin "ptp"' "$TMP/err" && ok "$name: plugin error on stderr" \
            || bad "$name: plugin error text: $(cat "$TMP/err")"
    fi
    [ "$(jq -c ".acquired_ports[\"$ID-h2\"]" "$TMP/ports.json")" = '[61002]' ] \
        && ok "$name: second handle's port" || bad "$name: second handle's port"
    "$SIM" --action down --handle "$ID-h2" --cni-config-dir "$TMP/conf" --cni-plugin-dir "$PLUGINS" \
        --netns "/var/run/netns/$NS2" --cache-dir "$TMP/cache" --state-file "$TMP/ports.json" \
        && ok "$name: down of a never-set-up handle" || bad "$name: down of a never-set-up handle"
    ip -n "$NS" link show eth0 >/dev/null 2>&1 && ok "$name: h1's eth0 untouched" || bad "$name: h1's eth0 gone"

    sim --action down --cni-config-dir "$TMP/conf" && ok "$name: down" || bad "$name: down"
    ip -n "$NS" link show eth0 >/dev/null 2>&1 && bad "$name: eth0 still there" || ok "$name: eth0 removed"
    [ "$(jq -c '.acquired_ports' "$TMP/ports.json")" = '{}' ] \
        && ok "$name: ports released" || bad "$name: ports released"
    sim --action down --cni-config-dir "$TMP/conf" && ok "$name: second down" || bad "$name: second down"
    [ -z "$(ls -A "$TMP/ipam/$ID-net" 2>/dev/null | grep -v -e lock -e last_reserved)" ] \
        && ok "$name: ipam lease freed" || bad "$name: ipam lease freed"
    ip netns del "$NS"
    ip netns del "$NS2"
}

IPAM='{"type":"host-local","dataDir":"'"$TMP"'/ipam","ranges":[[{"subnet":"10.254.77.0/24"}]]}'
DNS='"dns":{"nameservers":["192.0.2.53"]}'

run_case conflist-1.0.0 10-test.conflist \
  '{"cniVersion":"1.0.0","name":"'"$ID"'-net","plugins":[{"type":"ptp","ipMasq":false,"ipam":'"$IPAM"','"$DNS"'}]}'

run_case conf-0.3.1 10-test.conf \
  '{"cniVersion":"0.3.1","name":"'"$ID"'-net","type":"ptp","ipMasq":false,"ipam":'"$IPAM"','"$DNS"'}'

# A config dir with nothing in it is an error.
mkdir -p "$TMP/empty"
sim --action down --cni-config-dir "$TMP/empty" 2>/dev/null && bad "empty config dir accepted" \
    || ok "empty config dir rejected"

[ $fail = 0 ] && echo "garden-sim selftest: all passed" || echo "garden-sim selftest: FAILED"
exit $fail
