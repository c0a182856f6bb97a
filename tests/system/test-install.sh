# System tests of 'make install' and 'make NO_DEPS=1' (the top-level
# Makefile, scripts/install-deps): the installed tree works on its own,
# moved and through symlinks, and a build without dependency installation
# stops with the list of what is missing before it compiles anything.
#
# The tests bring their own sandbox (file_setup/file_teardown, see lib.sh):
# a temporary directory that 'make install DESTDIR=...' stages into, and
# one network namespace (loopback only) for the installed cfnet-db member.
# The member is stopped by its recorded pid and the namespace and directory
# removed when the test ends, pass or fail.  Run by tests/system/run-file,
# as root, after 'make' (the install copies the built binaries).

# ---------------------------------------------------------------------------
# Setup, teardown, logs

file_setup() {
    hs_run_prefix IN_PFX cfI -
    IN_TMP=$(mktemp -d /tmp/cni-ovs-install-test.XXXXXX)
    IN_NS=
    : > "$IN_TMP/pids.list"
    : > "$IN_TMP/netns.list"
    # The build whose binaries are installed: build, or build/asan.
    IN_MAKEVARS=()
    case ${CFNET_OUT:-} in
        */asan) IN_MAKEVARS+=(SANITIZE=1) ;;
    esac
}

file_teardown() {
    local rc=$?
    trap - EXIT
    set +eE
    if [ $rc -ne 0 ] && [ -f "$IN_TMP/make.log" ]; then
        echo "---- last make's output ----"
        tail -30 "$IN_TMP/make.log"
    fi
    hs_stop_recorded "$IN_TMP/pids.list"
    hs_netns_del_recorded "$IN_TMP/netns.list"
    hs_sandbox_remove $rc "$IN_TMP"
    exit $rc
}

# 'cfnet-db stop' is a SIGTERM, which ovsdb-server logs as a warning.
file_check_logs() {
    local bad
    bad=$(hs_log_warnings 'terminating with signal 15 \(Terminated\)' \
              "$IN_TMP"/*/cfnet-db.log)
    if [ -n "$bad" ]; then
        echo "unexpected warnings in cfnet-db's log:"
        echo "$bad"
        return 1
    fi
}

# ---------------------------------------------------------------------------
# Helpers

# in_make ARGS...: runs make in the repository as a user would, not as a
# part of the 'make check' that may be running this test: none of the
# outer make's variables or jobserver; output in $IN_TMP/make.log, exit
# status in RC.
in_make() {
    RC=0
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
        -u CFNET_DEPS_CHECKED \
        make -C "$SB_TOP" --no-print-directory "${IN_MAKEVARS[@]}" "$@" \
        > "$IN_TMP/make.log" 2>&1 || RC=$?
}

# The files under directory $1, relative to it, sorted, one per line.
in_files() {
    (cd "$1" && find . -type f -o -type l) | sed 's|^\./||' | sort
}

# in_wait WHAT CMD...: waits up to 20 s for CMD to succeed.
in_wait() {
    local what=$1
    shift
    hs_wait 20 "$@" || fail "timed out after 20s waiting for: $what"
}

in_is_leader() {
    ip netns exec "$IN_NS" "$1" status --dir "$2" 2>/dev/null \
        | grep -q '^Role: leader$'
}

# ---------------------------------------------------------------------------
# Tests

# make install stages exactly the binaries, the schema and the operator's
# script under DESTDIR/PREFIX; the tree works after being moved elsewhere
# (nothing in it points into the repository or the staging path): the
# binaries answer, and the installed cfnet-db, run through a symlink, makes
# and runs a one-member cluster with the installed schema.
test_installed_tree_works_on_its_own() {
    local prefix=/opt/cni-ovs-test
    in_make install DESTDIR="$IN_TMP/stage" PREFIX=$prefix
    expect_eq "$RC" 0 "make install's exit status"
    local p=${prefix#/} want
    want="$p/bin/cfnet-db $p/bin/cni-ovs $p/bin/flowctl"
    want+=" $p/share/cni-ovs/cfnet.ovsschema "
    expect_eq "$(in_files "$IN_TMP/stage" | tr '\n' ' ')" "$want" \
        "the installed files"
    local f
    for f in cni-ovs flowctl cfnet-db; do
        check "$f is executable" test -x "$IN_TMP/stage$prefix/bin/$f"
    done
    cmp "$SB_TOP/ovsdb/cfnet.ovsschema" \
        "$IN_TMP/stage$prefix/share/cni-ovs/cfnet.ovsschema"

    # Elsewhere, as a package's files would be, and used through a link.
    mv "$IN_TMP/stage$prefix" "$IN_TMP/moved"
    local bin=$IN_TMP/moved/bin
    mkdir "$IN_TMP/links"
    ln -s "$bin/cfnet-db" "$IN_TMP/links/cfnet-db"
    local db=$IN_TMP/links/cfnet-db

    local out
    out=$(CNI_COMMAND=VERSION "$bin/cni-ovs" </dev/null)
    expect_eq "$(jq -r '.supportedVersions | index("1.0.0") != null' \
                 <<<"$out")" true "cni-ovs VERSION lists 1.0.0 ($out)"
    out=$("$bin/flowctl" --help)
    check "flowctl --help prints its usage" grep -q 'usage:.*--config' \
        <<<"$out"
    out=$("$db" --help)
    check "cfnet-db finds the installed schema (not the repository's)" \
        grep -qF "The schema is $IN_TMP/moved/share/cni-ovs/cfnet.ovsschema " \
        <<<"$out"

    # A one-member cluster, in a namespace of its own (loopback only).
    IN_NS=${IN_PFX}db
    hs_netns_add "$IN_TMP/netns.list" "$IN_NS"
    ip -n "$IN_NS" link set lo up
    local dir=$IN_TMP/m1
    "$db" create --dir "$dir" --local tcp:127.0.0.1:6641
    ip netns exec "$IN_NS" "$db" start --dir "$dir"
    local pid
    pid=$(cat "$dir/cfnet-db.pid")
    hs_record_pid "$IN_TMP/pids.list" "$pid" cfnet-db
    in_wait "the member to lead its cluster" in_is_leader "$db" "$dir"
    ip netns exec "$IN_NS" "$db" overlay --dir "$dir" \
        --networks 10.255.0.0/16 --prefix-length 24
    out=$(ovsdb-client --timeout=10 transact "unix:$dir/cfnet-db.sock" \
              '["CFNet", {"op": "select", "table": "Overlay", "where": []}]')
    expect_eq "$(jq -c '.[0].rows[0].networks' <<<"$out")" \
        '"10.255.0.0/16"' "the Overlay row's networks"

    "$db" stop --dir "$dir"
    check "the member's ovsdb-server (pid $pid) exited" \
        in_wait "pid $pid to exit" eval "! kill -0 $pid 2>/dev/null"
}

# make uninstall with the same DESTDIR and PREFIX removes every file that
# make install put there.
test_uninstall_removes_what_install_made() {
    in_make install DESTDIR="$IN_TMP/stage" PREFIX=/usr
    expect_eq "$RC" 0 "make install's exit status"
    check "something was installed" test -x "$IN_TMP/stage/usr/bin/flowctl"
    in_make uninstall DESTDIR="$IN_TMP/stage" PREFIX=/usr
    expect_eq "$RC" 0 "make uninstall's exit status"
    expect_eq "$(in_files "$IN_TMP/stage")" "" "files left after uninstall"
}

# A relative PREFIX is refused with its name, and nothing is installed.
test_install_refuses_relative_prefix() {
    in_make install DESTDIR="$IN_TMP/stage" PREFIX=usr/local
    check "make install fails" test "$RC" -ne 0
    check "the error names PREFIX" \
        grep -q "PREFIX must be an absolute path, not 'usr/local'" \
        "$IN_TMP/make.log"
    check "nothing was installed" test ! -e "$IN_TMP/stage"
}

# make NO_DEPS=1 with libnl's pkg-config modules and the compiler out of
# reach: it stops before compiling anything (here: a source made to look
# changed), listing each missing piece with its Debian package and purpose.
test_no_deps_lists_what_is_missing_before_compiling() {
    mkdir "$IN_TMP/no-pc"
    PKG_CONFIG_LIBDIR=$IN_TMP/no-pc in_make NO_DEPS=1 -n -W lib/cfnet.c \
        CC=cfnet-no-such-cc all
    check "make NO_DEPS=1 fails" test "$RC" -ne 0
    local log=$IN_TMP/make.log
    check "nothing would be compiled" \
        eval "! grep -q -- '-c lib/cfnet.c' '$log'"
    check "it names the compiler's package" \
        grep -qE '^  build-essential +the C compiler' "$log"
    check "it says what was not found" \
        grep -q 'not found: command cfnet-no-such-cc' "$log"
    check "it names libnl's package" \
        grep -qE '^  libnl-3-dev +libnl, the netlink library' "$log"
    check "it names libnl-route's package" grep -q '^  libnl-route-3-dev ' \
        "$log"
    check "it says how to go on" grep -q 'missing dependencies, listed above' \
        "$log"
    # With everything there, the same command would compile the source.
    in_make NO_DEPS=1 -n -W lib/cfnet.c all
    expect_eq "$RC" 0 "make NO_DEPS=1 -n's exit status with everything there"
    check "then it would compile" grep -q -- '-c lib/cfnet.c' "$log"
}
