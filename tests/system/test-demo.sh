# make demo as a test: scripts/demo checks every step it tells (issue 12)
# and exits non-zero naming the one that did not behave as stated; it takes
# its fleet down itself, pass or fail.  Run by tests/system/run-file, as
# root.

# shellcheck source=flowctl/simlib.sh
. "$SB_TOP/tests/system/flowctl/simlib.sh"

test_demo_tells_the_whole_story() {
    local out
    out=$(DEMO_NAME=$FC_NAME CELL_SIM_BIN=$CFNET_OUT/bin \
          "$SB_TOP/scripts/demo" 2>&1) \
        || { echo "$out" | tail -30; fail "make demo failed"; }
    echo "$out" | tail -4
    grep -q '^All 7 steps behaved as stated.$' <<<"$out" \
        || fail "the demo did not say that every step behaved"
    [ ! -e "/tmp/cell-sim-$FC_NAME" ] \
        || fail "the demo left its fleet behind"
}
