# What the benchmarks against the silk reference share (bench/container-
# ready, bench/asg-connrate, bench/datapath): one cell-sim for our side,
# the reference's cell in namespaces of its own, and the bookkeeping that
# removes both on every exit path.  Sourced after the bench has set
#
#   BENCH      its name, for messages ("bench/NAME: ...")
#   NAME       the cell-sim name (a per-run one, e.g. xyz$$)
#   P          the prefix of the reference's namespaces (e.g. xyz$$-)
#
# and it gives TOP, OUTDIR, RESULTS, SIM, CONNRATE, EXT_IP, TMP (a
# directory removed at exit), die, say, sim, netns_add, bg_ready,
# bench_build, ours_up, ref (silk-ref in the reference's cell) and
# ref_up.  docs/performance.md, "Against silk", describes the setup.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUTDIR=$TOP/build/bench
RESULTS=$OUTDIR/results.json
SIM=$TOP/scripts/cell-sim
SILK_REF=$TOP/bench/silk-reference/silk-ref
CONNRATE=$OUTDIR/connrate
EXT_IP=10.0.0.100               # the external host, on both sides

die() { echo "bench/$BENCH: $*" >&2; exit 1; }
say() { echo "bench/$BENCH: $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"

TMP=$(mktemp -d "/tmp/cni-ovs-$BENCH.XXXXXX")
SIM_UP=0
# Every process started in the background (TMP/pids), the sim, and every
# namespace made (TMP/netns) go, pass or fail.
bench_cleanup() {
    local rc=$?
    set +e
    [ -f "$TMP/pids" ] && while read -r pid; do
        kill "$pid" 2>/dev/null
    done < "$TMP/pids"
    if [ "$SIM_UP" = 1 ]; then
        "$SIM" --name "$NAME" down >/dev/null 2>&1 || say "cell-sim down failed"
    fi
    [ -f "$TMP/netns" ] && while read -r ns; do
        ip netns del "$ns" 2>/dev/null
    done < "$TMP/netns"
    rm -rf "$TMP"
    exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sim() { "$SIM" --name "$NAME" "$@"; }

# netns_add NS: a namespace with loopback up, recorded for the cleanup.
netns_add() {
    echo "$1" >> "$TMP/netns"
    ip netns add "$1" && ip -n "$1" link set lo up
}

# bg_ready OUT CMD...: CMD in the background (its pid recorded), its output
# in OUT; waits until it prints "ready" (connrate's servers do).
bg_ready() {
    local out=$1
    shift
    "$@" > "$out" 2>&1 &
    echo $! >> "$TMP/pids"
    for _ in $(seq 50); do
        grep -q ready "$out" 2>/dev/null && return 0
        sleep 0.1
    done
    die "$* did not start: $(cat "$out")"
}

# bench_build: what the bench runs (cell-sim's binaries, connrate).
bench_build() {
    mkdir -p "$OUTDIR"
    make --no-print-directory -C "$TOP" all build/bin/garden-sim "$CONNRATE" \
        > "$TMP/make.log" 2>&1 \
        || { tail -20 "$TMP/make.log" >&2; die "build failed"; }
}

# ours_up [UP-OPTIONS...]: cell-sim up (one cell) with the options; the
# sim's `env` exported (CELL_SIM_*).
ours_up() {
    say "cell-sim up $* (name $NAME)"
    SIM_UP=1
    sim up "$@" > "$TMP/up.log" 2>&1 \
        || { tail -20 "$TMP/up.log" >&2; die "cell-sim up failed"; }
    eval "$(sim env)"
}

# ref CMD CNS [ARGS...]: silk-ref CMD in the reference's cell, with CNS as
# the container namespace (empty for commands without one).
REF_STATE=$TMP/silk-ref
ref() {
    SILK_REF_STATE=$REF_STATE SILK_REF_EXT=${P}ext SILK_REF_CNS=${2:-} \
        ip netns exec "${P}cell" "$SILK_REF" "$1" "${@:3}"
}

# ref_up: the reference's cell and external host (silk-ref setup).
ref_up() {
    mkdir -p "$REF_STATE"
    netns_add "${P}cell"
    netns_add "${P}ext"
    ref setup ""
}
