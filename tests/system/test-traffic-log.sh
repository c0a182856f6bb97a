# System tests of the traffic log (issue 11), end to end on cell-sim with
# real traffic: flowctl's pipeline sends copies of the packets that decide
# a logged connection to its traffic log (pipeline.h, "Traffic logging"),
# which writes one JSON line per event in iptables-logger's schema
# (logline.h) to the cell's log_file, CELLDIR/log/traffic.log here.
#
#   - each kind of line (ASG accept, static and from the policy server;
#     default deny; c2c accept and deny, on one cell and across cells),
#     parsed with jq and checked field by field against what the probe
#     sent;
#   - rate limits under a flood (lines counted), meter drops in
#     flowctl/show;
#   - logging on versus off: the same verdicts, no connection lost, every
#     accepted connection logged;
#   - the run-time c2c switch; SIGHUP and flowctl/reopen after the file
#     was moved; a full disk keeps traffic flowing.
#
# Each test has its own sim (file_setup, simlib.sh), removed by
# file_teardown, pass or fail.  Run by tests/system/run-file, as root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

EXT_A=10.0.0.100
EXT_B=10.0.0.101
EXT_DROP=10.0.0.102
CELL1_IP=10.0.0.11

# tlog [I]: cell I's traffic log (default 1).
tlog() { echo "$FC_STATE/cell${1:-1}/log/traffic.log"; }

# lines [I] [JQ-FILTER]: the number of lines of cell I's log that the jq
# boolean filter selects (default: all).
lines() {
    local f
    f=$(tlog "${1:-1}")
    [ -s "$f" ] || { echo 0; return; }
    jq -c "select(${2:-true})" "$f" | wc -l
}

# wait_lines N [I] [JQ-FILTER]: until cell I's log has at least N such lines.
wait_lines() {
    local n=$1 i=${2:-1} filter=${3:-true}
    wait_until 5 "$n line(s) matching '$filter' in cell $i's traffic log" \
        eval '[ "$(lines "$i" "$filter")" -ge "$n" ]'
}

# line_field [I] JQ-SELECT JQ-PATH: PATH of the last line SELECT matches,
# as jq prints it raw (strings unquoted).
line_field() {
    local i=$1 sel=$2 path=$3
    jq -r "select($sel) | $path" "$(tlog "$i")" | tail -1
}

# expect_fields I SELECT PATH=VALUE...: each PATH of the last line SELECT
# matches is VALUE.
expect_fields() {
    local i=$1 sel=$2 kv
    shift 2
    for kv in "$@"; do
        expect_equal "$(line_field "$i" "$sel" "${kv%%=*}")" "${kv#*=}" \
            "${kv%%=*} of the line ($sel)"
    done
}

# meter_drops NAME: what flowctl/show says the meter NAME dropped.
meter_drops() {
    fcctl flowctl/show | sed -nE "s/^ *$1: .*dropped ([0-9]+).*/\1/p" \
        | head -1
}

# deny_flood: 150 connections from a to EXT_B:80, denied, in 3 s; each
# must be refused.  Then, once the last folded line is due, sets
# DENIED_LINES to the number of denied lines in cell 1's log and
# DENIED_EVENTS to the number of denies they stand for (each line 1 plus
# its "repeats").
deny_flood() {
    local out denied='.data.packet.allowed == false'
    out=$(on a "$FC_PY" "$FC_PROBE" burst tcp $EXT_B 80 --count 150 \
          --rate 50)
    echo "burst: $out"
    [[ $out == *" refused=150 "* ]] \
        || fail "the flood was not refused connection by connection: $out"
    sleep 1.5
    DENIED_LINES=$(lines 1 "$denied")
    DENIED_EVENTS=$(jq -s "map(select($denied) | 1 + (.data.repeats // 0))
                           | add" "$(tlog)")
    echo "denied lines: $DENIED_LINES, events: $DENIED_EVENTS"
}

# The line's identity fields for a container of cell 1.
container_fields() {
    local app=$1
    echo ".data.source.container_id=$(handle_of "$app")" \
         ".data.source.host_ip=$CELL1_IP" \
         ".data.source.host_guid=cell-guid-1"
}

# ---------------------------------------------------------------------------
# ASGs

# Rules with "log": true log the connections they admit, once each, and
# nothing else is logged without asg_logging: a TCP connection and a ping
# through logged rules are one line each, with every field as the probe
# sent it; a connection through an unlogged rule writes nothing.
test_static_rule_lines() {
    sim_up --traffic-log
    serve ext 80 >/dev/null
    local rules
    rules=$(jq -nc --argjson web "$(tcp_rule $EXT_B $EXT_B 80)" \
        --argjson logged "$(tcp_rule $EXT_A $EXT_A 80)" \
        --argjson icmp "$ICMP_ECHO_100" \
        '[$web, $logged + {log: true}, $icmp + {log: true}]')
    sim push a --netout "$rules" --space sp-a --org org-a --app app-a \
        >/dev/null
    local ip
    ip=$(sim ip a)

    expect a connected tcp $EXT_B 80
    expect a connected tcp $EXT_A 80
    local peer_port=${PROBE_DETAIL##* }
    wait_lines 1
    local tcp='.data.packet.protocol == "TCP"'
    expect_fields 1 "$tcp" \
        .source=cfnetworking.iptables \
        .message=cfnetworking.iptables.egress-allowed \
        .data.packet.direction=egress .data.packet.allowed=true \
        .data.packet.src_ip="$ip" .data.packet.dst_ip=$EXT_A \
        .data.packet.src_port="$peer_port" .data.packet.dst_port=80 \
        .data.packet.mark= .data.packet.icmp_type=0 \
        .data.packet.icmp_code=0 \
        .data.source.app_guid=app-a .data.source.space_guid=sp-a \
        .data.source.organization_guid=org-a \
        $(container_fields a) \
        .data.rule.kind=static .data.rule.index=1 .data.cell=cell/1
    # The time is now's, to the microsecond, in lager's format.
    local ts
    ts=$(line_field 1 "$tcp" .timestamp)
    [[ $ts =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}000Z$ ]] \
        || fail "timestamp '$ts' is not RFC 3339 with nine digits"
    local age=$(( $(date +%s) - $(date -d "${ts%.*}Z" +%s) ))
    [ "$age" -ge 0 ] && [ "$age" -le 30 ] \
        || fail "timestamp '$ts' is ${age}s from now"

    expect_ping_ok a $EXT_A
    local icmp='.data.packet.protocol == "ICMP"'
    wait_lines 1 1 "$icmp"
    expect_fields 1 "$icmp" \
        .data.packet.dst_ip=$EXT_A .data.packet.icmp_type=8 \
        .data.packet.icmp_code=0 .data.packet.src_port=0 \
        .data.packet.dst_port=0 .data.rule.kind=static .data.rule.index=2

    # One line per connection: the unlogged rule's connection wrote none,
    # a second connection writes a second line.
    expect a connected tcp $EXT_A 80
    wait_lines 2 1 "$tcp"
    sleep 1
    expect_equal "$(lines 1 "$tcp")" 2 "TCP lines"
    expect_equal "$(lines 1 ".data.packet.dst_ip == \"$EXT_B\"")" 0 \
        "lines of the unlogged rule"
}

# asg_logging: every accepted connection, whatever its rule's "log", and
# the default deny; a flood of denied connections is refused as fast as
# ever, while its lines stay within denied_logs_per_sec (one per second by
# default), each repeat within a second folded into the line's "repeats";
# the meter's drops are in flowctl/show.
test_asg_logging_and_default_deny() {
    sim_up --asg-logging
    serve ext 80 >/dev/null
    sim push a --netout "[$(tcp_rule $EXT_A $EXT_A 80)]" >/dev/null
    local ip
    ip=$(sim ip a)

    expect a connected tcp $EXT_A 80
    wait_lines 1
    expect_fields 1 '.data.packet.allowed' .data.rule.kind=static \
        .data.rule.index=0 .data.packet.dst_ip=$EXT_A

    expect a refused tcp $EXT_B 80
    local denied='.data.packet.allowed == false'
    wait_lines 1 1 "$denied"
    expect_fields 1 "$denied" \
        .message=cfnetworking.iptables.egress-denied \
        .data.packet.direction=egress .data.packet.src_ip="$ip" \
        .data.packet.dst_ip=$EXT_B .data.packet.dst_port=80 \
        .data.packet.protocol=TCP .data.rule.kind=default_deny \
        $(container_fields a)

    sleep 1.1
    deny_flood
    local n=$DENIED_LINES events=$DENIED_EVENTS
    # The first probe's line, then at most one copy per second through the
    # meter (3 s of flood, a burst of 1, and a second of slack).
    [ "$n" -ge 2 ] && [ "$n" -le 6 ] \
        || fail "$n denied lines for a 3 s flood at 1 per second"
    [ "$events" -le 6 ] || fail "the lines stand for $events events"
    local drops
    drops=$(meter_drops log-asg-deny)
    [ -n "$drops" ] && [ "$drops" -ge 100 ] \
        || fail "flowctl/show: log-asg-deny dropped '$drops', not >= 100"
    expect a connected tcp $EXT_A 80
}

# Denies the meter lets through (denied_logs_per_sec 1000 here) are folded
# by the traffic log: one line per second for a flood of one kind, whose
# "repeats" account for every denied connection.
test_denies_folded() {
    sim_up --asg-logging --denied-logs-per-sec 1000
    sim push a --netout "[$(tcp_rule $EXT_A $EXT_A 80)]" >/dev/null
    deny_flood
    local n=$DENIED_LINES events=$DENIED_EVENTS
    # 3 s of flood: a line when it starts, one per second, the last one
    # when its window ends.
    [ "$n" -ge 3 ] && [ "$n" -le 6 ] \
        || fail "$n lines for a 3 s flood of one kind"
    expect_equal "$events" 150 "the events the lines stand for"
    local folded
    folded=$(fcctl flowctl/show | sed -nE 's/.*denies folded: //p')
    [ "$folded" -ge $((150 - n)) ] && [ "$folded" -lt 150 ] \
        || fail "flowctl/show: $folded denies folded, for $n lines"
}

# A security group from the policy server with "log": true: the line names
# the group (guid and name) and the rule's index in it.
test_policy_server_asg_line() {
    sim_up --asg-syncing --asg-poll-interval 1 --traffic-log
    serve ext 80 >/dev/null
    sim asg create web --guid g-web --rules "$(jq -nc \
        --arg a $EXT_A --arg b $EXT_B '[
        {protocol: "tcp", destination: $b, ports: "80"},
        {protocol: "tcp", destination: $a, ports: "80", log: true}]')" \
        >/dev/null
    sim asg bind web --space sp1 >/dev/null
    sim push a --space sp1 >/dev/null
    wait_until 10 "a to reach $EXT_A through the synced group" \
        probe_is a connected tcp $EXT_A 80
    wait_lines 1
    expect_fields 1 true .data.rule.kind=asg .data.rule.asg_guid=g-web \
        .data.rule.asg_name=web .data.rule.index=1 \
        .data.packet.dst_ip=$EXT_A .data.source.space_guid=sp1
    expect a connected tcp $EXT_B 80
    sleep 1
    expect_equal "$(lines 1 ".data.packet.dst_ip == \"$EXT_B\"")" 0 \
        "lines of the unlogged rule"
}

# ---------------------------------------------------------------------------
# c2c

# On one cell: a connection a policy admits is an ingress-allowed line
# about the destination, naming the policy; one no policy admits is an
# ingress-denied line; the mark is the source's tag.
test_c2c_lines() {
    # The probes to 8080 before the policy came were denied too; with the
    # default deny meter (1 a second) they could use up what the 9090
    # deny below needs (test_asg_logging_and_default_deny tests the meter).
    sim_up --c2c-logging --denied-logs-per-sec 1000
    sim push a --space sp1 >/dev/null
    sim push b --space sp2 --org org-b >/dev/null
    local a b
    a=$(sim ip a) b=$(sim ip b)
    serve b 8080,9090 >/dev/null
    sim policy add a b --port 8080
    wait_until 5 "a to reach b" probe_is a connected tcp "$b" 8080
    local tag
    tag=$(server_tag a)
    local ok='.data.packet.allowed'
    wait_lines 1 1 "$ok"
    expect_fields 1 "$ok" \
        .message=cfnetworking.iptables.ingress-allowed \
        .data.packet.direction=ingress .data.packet.src_ip="$a" \
        .data.packet.dst_ip="$b" .data.packet.dst_port=8080 \
        .data.packet.protocol=TCP \
        .data.packet.mark="$(printf '0x%x' "$tag")" \
        .data.destination.container_id="$(handle_of b)" \
        .data.destination.app_guid=b .data.destination.space_guid=sp2 \
        .data.destination.organization_guid=org-b \
        .data.destination.host_guid=cell-guid-1 \
        .data.rule.kind=c2c_policy .data.rule.source_app_guid=a \
        .data.rule.destination_app_guid=b \
        .data.rule.source_tag="$(printf '%04X' "$tag")" \
        .data.rule.protocol=tcp .data.rule.ports.start=8080 \
        .data.rule.ports.end=8080
    expect_equal "$(line_field 1 "$ok" '.data.source // "none"')" none \
        "an ingress line's data.source"

    expect a refused tcp "$b" 9090
    # The probes to 8080 made before the policy was in force were denied
    # (and logged) too: the line of this one.
    local no='.data.packet.allowed == false and .data.packet.dst_port == 9090'
    wait_lines 1 1 "$no"
    expect_fields 1 "$no" \
        .message=cfnetworking.iptables.ingress-denied \
        .data.packet.dst_port=9090 .data.rule.kind=c2c_deny \
        .data.destination.container_id="$(handle_of b)"
}

# Across cells: the destination's cell logs the accept and the deny (the
# deny is dropped there); the source's cell logs nothing of them.  A
# container whose app is in no policy is refused by its own cell, which
# logs an egress-denied line about it.
test_c2c_lines_across_cells() {
    sim_up --cells 2 --c2c-logging --denied-logs-per-sec 1000  # as above
    sim push a --cell 1 >/dev/null
    sim push c --cell 1 >/dev/null
    sim push b --cell 2 >/dev/null
    local a b c
    a=$(sim ip a) b=$(sim ip b) c=$(sim ip c)
    serve b 8080,9090 >/dev/null
    sim policy add a b --port 8080
    wait_until 10 "a to reach b across cells" \
        probe_is a connected tcp "$b" 8080
    wait_lines 1 2 '.data.packet.allowed'
    expect_fields 2 '.data.packet.allowed' \
        .data.packet.src_ip="$a" .data.packet.dst_ip="$b" \
        .data.rule.kind=c2c_policy .data.destination.host_guid=cell-guid-2 \
        .data.cell=cell/2

    # Each deny is waited for by what it is about: a line written earlier
    # (a's probes before the policy came) must not stand in for it.
    expect a timeout tcp "$b" 9090
    local no_a='.data.packet.allowed == false and .data.packet.dst_port == 9090'
    wait_lines 1 2 "$no_a"
    expect_fields 2 "$no_a" \
        .message=cfnetworking.iptables.ingress-denied \
        .data.packet.src_ip="$a" .data.packet.dst_port=9090 \
        .data.rule.kind=c2c_deny

    expect c refused tcp "$b" 8080
    local no_c=".data.packet.allowed == false and .data.packet.src_ip == \"$c\""
    wait_lines 1 1 "$no_c"
    expect_fields 1 "$no_c" \
        .message=cfnetworking.iptables.egress-denied \
        .data.packet.src_ip="$c" .data.packet.dst_ip="$b" \
        .data.rule.kind=c2c_deny .data.source.container_id="$(handle_of c)"
    # (Before the policy came, a had no tag: those probes were refused by
    # cell 1 and logged there; not since.)
    expect_equal "$(lines 1 ".data.packet.src_ip == \"$a\" and
                            (.data.packet.allowed
                             or .data.packet.dst_port == 9090)")" 0 \
        "cell 1's lines about a's connections under the policy"
}

# flowctl/c2c-logging turns c2c logging on and off at run time.
test_c2c_logging_switch() {
    sim_up --traffic-log
    sim push a >/dev/null
    sim push b >/dev/null
    local b
    b=$(sim ip b)
    serve b 8080 >/dev/null
    sim policy add a b
    wait_until 5 "a to reach b" probe_is a connected tcp "$b" 8080
    expect_equal "$(fcctl flowctl/c2c-logging)" off "c2c logging at start"
    sleep 1
    expect_equal "$(lines)" 0 "lines with c2c logging off"

    expect_equal "$(fcctl flowctl/c2c-logging on)" on "the switch's reply"
    wait_until 5 "the flows to follow" flowctl_synced
    expect a connected tcp "$b" 8080
    wait_lines 1
    expect_fields 1 true .data.rule.kind=c2c_policy

    expect_equal "$(fcctl flowctl/c2c-logging off)" off "the switch's reply"
    wait_until 5 "the flows to follow" flowctl_synced
    expect a connected tcp "$b" 8080
    sleep 1
    expect_equal "$(lines)" 1 "lines after c2c logging was turned off"
    fcctl flowctl/c2c-logging maybe >/dev/null 2>&1 \
        && fail "flowctl/c2c-logging accepted 'maybe'"
    return 0
}

# ---------------------------------------------------------------------------
# Logging changes nothing

# probe_matrix: the verdicts of a fixed set of probes, one per line, and a
# burst of 300 new connections at 300 per second.
probe_matrix() {
    local b=$1 p
    for p in "tcp $EXT_A 80" "tcp $EXT_B 80" "udp $EXT_A 53" \
             "tcp $b 8080" "tcp $b 9090"; do
        # shellcheck disable=SC2086
        echo "$p: $(on a "$FC_PY" "$FC_PROBE" $p --timeout 2 \
                    | cut -d' ' -f1)"
    done
    on a "$FC_PY" "$FC_PROBE" burst tcp $EXT_A 80 --count 300 --rate 300 \
        | sed -E 's/^burst [0-9.]+ //; s/ rate=.*//'
}

# With every kind of logging on, the same probes get the same verdicts as
# with logging off, the burst loses no connection (none refused, timed out
# or slowed by a lost SYN), and every accepted connection has its line.
test_logging_changes_no_verdict() {
    sim_up --asg-logging --c2c-logging
    serve ext 80 >/dev/null
    serve ext 53 --udp >/dev/null
    local rules
    rules=$(jq -nc --argjson web "$(tcp_rule $EXT_A $EXT_A 80)" \
        --arg a $EXT_A '[$web, {protocol: 2, networks: [{start: $a,
        end: $a}], ports: [{start: 53, end: 53}]}]')
    sim push a --netout "$rules" >/dev/null
    sim push b >/dev/null
    local b
    b=$(sim ip b)
    serve b 8080,9090 >/dev/null
    sim policy add a b
    wait_until 5 "a to reach b" probe_is a connected tcp "$b" 8080

    local on_ off
    on_=$(probe_matrix "$b")
    echo "logging on:"
    echo "$on_"
    [[ $on_ == *"connected=300 refused=0 timeout=0 other=0 slow=0"* ]] \
        || fail "the burst lost connections with logging on"
    wait_lines 300 1 ".data.packet.dst_ip == \"$EXT_A\" and
                      .data.packet.protocol == \"TCP\""

    # The same cell without a log file.
    local conf=$FC_CELL/flowctl.json
    jq 'del(.log_file, .asg_logging, .c2c_logging)' "$conf" > "$conf.new"
    mv "$conf.new" "$conf"
    sim flowctl restart >/dev/null || fail "flowctl restart failed"
    wait_until 10 "flowctl's flows" flowctl_synced
    ofctl --no-stats dump-flows br-cf | grep -q 'controller(.*id=2' \
        && fail "log flows left without a log file"
    off=$(probe_matrix "$b")
    echo "logging off:"
    echo "$off"
    expect_equal "$on_" "$off" "the verdicts with logging on"
}

# accepted_udp_logs_per_sec bounds the lines of a UDP flood (every
# datagram of an unanswered flow is a new connection's).
test_udp_rate_limit() {
    sim_up --asg-logging --accepted-udp-logs-per-sec 10
    sim push a --netout "[{\"protocol\":2,\"networks\":[{\"start\":\
\"$EXT_DROP\",\"end\":\"$EXT_DROP\"}],\"ports\":[{\"start\":5000,\
\"end\":5000}]}]" >/dev/null
    on a "$FC_PY" "$FC_PROBE" burst udp $EXT_DROP 5000 --count 300 \
        --rate 150
    local udp='.data.packet.protocol == "UDP"'
    wait_lines 10 1 "$udp"
    sleep 1
    local n
    n=$(lines 1 "$udp")
    echo "UDP lines: $n for 300 datagrams in 2 s"
    # 2 s at 10 per second, a burst of 10, a second of slack.
    [ "$n" -le 40 ] || fail "$n UDP lines, more than 10 per second"
    local drops
    drops=$(meter_drops log-asg-udp)
    [ -n "$drops" ] && [ "$drops" -ge 200 ] \
        || fail "flowctl/show: log-asg-udp dropped '$drops', not >= 200"
}

# ---------------------------------------------------------------------------
# The file

# logrotate moves the file and sends SIGHUP (or runs flowctl/reopen): new
# lines go to a new file at the configured path, none to the moved one, and
# flowctl keeps running.
test_reopen_after_move() {
    sim_up --asg-logging
    serve ext 80 >/dev/null
    sim push a --netout "[$(tcp_rule $EXT_A $EXT_A 80)]" >/dev/null
    expect a connected tcp $EXT_A 80
    wait_lines 1
    local pid f
    pid=$(cat "$FC_CELL/flowctl.pid")
    f=$(tlog)

    mv "$f" "$f.1"
    kill -HUP "$pid"
    wait_until 5 "a new traffic.log" test -e "$f"
    expect a connected tcp $EXT_A 80
    wait_lines 1
    kill -0 "$pid" || fail "flowctl exited on SIGHUP"
    expect_equal "$(wc -l < "$f.1")" 1 "lines in the moved file"
    grep -q 'SIGHUP' "$FC_CELL/flowctl.log" \
        || fail "flowctl did not log the SIGHUP"

    mv "$f" "$f.2"
    fcctl flowctl/reopen >/dev/null || fail "flowctl/reopen failed"
    expect a connected tcp $EXT_A 80
    wait_lines 1
    expect_equal "$(wc -l < "$f.2")" 1 "lines in the second moved file"
}

# A full disk: traffic flows on, enforcement too; flowctl/show counts the
# lines lost, the log says so once; once there is room again, lines come
# back.  The small file system is mounted where flowctl sees it: in its
# own mount namespace (cell-sim starts it with `ip netns exec`, which makes
# one), which goes away with flowctl at teardown.
test_disk_full() {
    sim_up --asg-logging
    FC_LOG_IGNORE='traffic log'
    serve ext 80 >/dev/null
    sim push a --netout "[$(tcp_rule $EXT_A $EXT_A 80)]" >/dev/null
    local dir=$FC_CELL/log pid
    pid=$(cat "$FC_CELL/flowctl.pid")
    in_fc() { nsenter -t "$pid" -m "$@"; }
    in_fc mount -t tmpfs -o size=16k tmpfs "$dir" \
        || fail "cannot mount a tmpfs on $dir"
    fcctl flowctl/reopen >/dev/null || fail "flowctl/reopen failed"
    in_fc dd if=/dev/zero of="$dir/filler" bs=1k count=64 2>/dev/null || :

    local out
    out=$(on a "$FC_PY" "$FC_PROBE" burst tcp $EXT_A 80 --count 200 \
          --rate 100)
    echo "burst on a full disk: $out"
    [[ $out == *"connected=200 refused=0 timeout=0 other=0 slow=0"* ]] \
        || fail "traffic suffered from the full disk: $out"
    expect a refused tcp $EXT_B 80
    wait_until 5 "flowctl/show to count lost lines" \
        eval 'fcctl flowctl/show | grep -Eq "lines lost: [1-9]"'
    fcctl flowctl/show | grep -E '^(file|last error|lines)'
    local warns
    warns=$(grep -c '|WARN|.*traffic log' "$FC_CELL/flowctl.log")
    expect_equal "$warns" 1 "warnings about the traffic log"

    in_fc rm "$dir/filler"
    expect a connected tcp $EXT_A 80
    wait_until 5 "a line once there is room" \
        eval 'in_fc cat "$dir/traffic.log" | grep -q "\"dst_ip\":\"$EXT_A\""'
    grep -q 'traffic log .*: writing again' "$FC_CELL/flowctl.log" \
        || fail "flowctl did not say that writing works again"
    in_fc cat "$dir/traffic.log" | jq -e . >/dev/null \
        || fail "the file is not a sequence of JSON lines"
}

# A file flowctl cannot open (a directory in its place): traffic flows on,
# the lines are counted as lost, the log says so once; once the path is a
# file's again, a reopen brings the lines back.
test_unwritable_file() {
    sim_up --asg-logging
    FC_LOG_IGNORE='traffic log'
    serve ext 80 >/dev/null
    sim push a --netout "[$(tcp_rule $EXT_A $EXT_A 80)]" >/dev/null
    local f
    f=$(tlog)
    rm -f "$f"
    mkdir "$f"
    fcctl flowctl/reopen >/dev/null || fail "flowctl/reopen failed"
    expect a connected tcp $EXT_A 80
    expect a refused tcp $EXT_B 80
    wait_until 5 "flowctl/show to count lost lines" \
        eval 'fcctl flowctl/show | grep -Eq "lines lost: [1-9]"'
    fcctl flowctl/show | grep -q "NOT OPEN" \
        || fail "flowctl/show does not say the file is not open"
    expect_equal "$(grep -c '|WARN|.*traffic log.*open failed' \
                   "$FC_CELL/flowctl.log")" 1 "warnings about the open"

    rmdir "$f"
    fcctl flowctl/reopen >/dev/null || fail "flowctl/reopen failed"
    expect a connected tcp $EXT_A 80
    wait_lines 1
    expect_fields 1 true .data.packet.dst_ip=$EXT_A
}
