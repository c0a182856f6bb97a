# The sandbox of the BOSH release's root tests (tests/bosh/test-*.sh):
# a scratch directory with the failure, namespace and pid records the
# harness keeps (scripts/harness.sh), removed with everything recorded in
# it when the test ends.  Sourced by each test file.
#
#   bosh_sandbox_setup BASE    sets PFX (names' prefix, BASE<pid>-) and BT
#                              (the directory, /tmp/BASE.XXXXXX)
#   bosh_sandbox_teardown RC   stops what BT's records list, deletes the
#                              namespaces, reports, removes BT (kept on
#                              failure with CFNET_KEEP=1); exits RC

bosh_sandbox_setup() {
    hs_run_prefix PFX "$1" -
    BT=$(mktemp -d "/tmp/$1.XXXXXX")
    HS_FAILURES=$BT/failures
    : > "$HS_FAILURES"
    : > "$BT/netns.list"
    : > "$BT/pids.list"
}

bosh_sandbox_teardown() {
    hs_stop_recorded "$BT/pids.list"
    hs_netns_del_recorded "$BT/netns.list"
    hs_report_failures "$1"
    hs_sandbox_remove "$1" "$BT"
    exit "$1"
}
