# The BOSH release's packages, compiled as a compilation VM compiles them:
# the blobs are made and checked (scripts/bosh-blobs), then every
# package's packaging script runs in a fresh compile directory with a
# scratch BOSH_INSTALL_TARGET (tests/bosh/build-packages.rb), dependencies
# first, and what each leaves must work: the static libraries and headers
# the others build on, Open vSwitch's daemons and tools, flowctl and
# cni-ovs linked against the packages (not the build machine's jansson,
# libnl and libcurl), cfnet-db finding its schema, the cni package's
# plugin directory complete (cni-ovs and host-local).  The packaged Open
# vSwitch and cfnet-db then run a one-member directory in a namespace of
# the test's own.  Part of `make bosh-test`, run by tests/system/run-file,
# as root.  About ten minutes: Open vSwitch is compiled twice (its package,
# and libopenvswitch inside flowctl's).

# shellcheck source=lib.sh
. "$SB_TOP/tests/bosh/lib.sh"

file_setup() {
    bosh_sandbox_setup cfP
}

file_teardown() {
    local rc=$?
    trap - EXIT
    set +eE
    bosh_sandbox_teardown "$rc"
}

file_check_logs() { :; }

# has PKG FILE...: each FILE is in package PKG.
has() {
    local p=$1 f
    shift
    for f in "$@"; do
        [ -e "$BT/packages/$p/$f" ] || fail "package $p has no $f"
    done
}

test_packages_build_from_source_and_work() {
    local out
    out=$("$SB_TOP/scripts/bosh-blobs" 2>&1) \
        || fail "the blobs are not what bosh/config/blobs.yml says: $out"
    local pkgs
    mapfile -t pkgs < <(find "$SB_TOP/bosh/packages" -mindepth 1 \
                            -maxdepth 1 -type d -printf '%f\n' | sort)
    ruby "$SB_TOP/tests/bosh/build-packages.rb" "$BT" "${pkgs[@]}" \
        || fail "a package did not build (above)"
    local p=$BT/packages

    has jansson include/jansson.h lib/libjansson.a
    has libnl include/libnl3/netlink/netlink.h lib/libnl-3.a \
        lib/libnl-route-3.a
    has curl include/curl/curl.h lib/libcurl.a lib/pkgconfig/libcurl.pc
    local lib
    for lib in jansson libnl curl; do
        [ -z "$(find "$p/$lib" -name '*.so*')" ] \
            || fail "package $lib has shared libraries: flowctl would need them at run time"
    done

    has openvswitch sbin/ovs-vswitchd sbin/ovsdb-server bin/ovs-vsctl \
        bin/ovs-ofctl bin/ovs-appctl bin/ovsdb-tool bin/ovsdb-client \
        share/openvswitch/vswitch.ovsschema
    grep -q ' 3\.1\.0$' <<<"$("$p/openvswitch/sbin/ovs-vswitchd" --version)" \
        || fail "the packaged ovs-vswitchd is not 3.1.0"

    has flowctl bin/flowctl bin/cni-ovs bin/cfnet-db \
        share/cni-ovs/cfnet.ovsschema
    local deps
    deps=$(ldd "$p/flowctl/bin/flowctl")
    ! grep -E 'libjansson|libnl|libcurl' <<<"$deps" \
        || fail "flowctl links the build machine's libraries:
$deps"
    deps=$(ldd "$p/flowctl/bin/cni-ovs" \
           | grep -v -E 'linux-vdso|libc\.so|ld-linux' || true)
    [ -z "$deps" ] || fail "cni-ovs is not static but for libc:
$deps"
    grep -q -- '--check-config' <<<"$("$p/flowctl/bin/flowctl" --help)" \
        || fail "the packaged flowctl does not run"

    has cni bin/cni-ovs bin/host-local
    local bins
    bins=$(find "$p/cni/bin" -mindepth 1 -printf '%f ' | tr ' ' '\n' | sort \
           | tr '\n' ' ')
    [ "$bins" = "cni-ovs host-local " ] \
        || fail "the cni package's bin/ is not exactly cni-ovs and host-local: $bins"
    local v
    v=$(CNI_COMMAND=VERSION "$p/cni/bin/host-local")
    jq -e '.supportedVersions | index("1.0.0")' <<<"$v" > /dev/null \
        || fail "host-local's VERSION: $v"
    v=$(CNI_COMMAND=VERSION "$p/cni/bin/cni-ovs" < /dev/null)
    jq -e '.supportedVersions | index("1.0.0")' <<<"$v" > /dev/null \
        || fail "cni-ovs's VERSION: $v"

    # The packaged cfnet-db (its schema found beside it) on the packaged
    # Open vSwitch: a one-member directory, its overlay written.
    local ns=${PFX}db dir=$BT/db
    hs_netns_add "$BT/netns.list" "$ns"
    ip netns exec "$ns" ip link set lo up
    local env=(env PATH="$p/openvswitch/bin:$p/openvswitch/sbin:$PATH"
               OVS_RUNDIR="$dir")
    ip netns exec "$ns" "${env[@]}" "$p/flowctl/bin/cfnet-db" create \
        --dir "$dir" --local tcp:127.0.0.1:6643
    ip netns exec "$ns" "${env[@]}" "$p/flowctl/bin/cfnet-db" start \
        --dir "$dir"
    hs_record_pid "$BT/pids.list" "$(cat "$dir/cfnet-db.pid")" cfnet-db
    # The same file (device and inode): /proc's path for it may be another
    # root's view (a chroot's).
    [ "/proc/$(cat "$dir/cfnet-db.pid")/exe" -ef \
      "$p/openvswitch/sbin/ovsdb-server" ] \
        || fail "cfnet-db did not run the packaged ovsdb-server"
    hs_wait 10 ip netns exec "$ns" "${env[@]}" "$p/flowctl/bin/cfnet-db" \
        status --dir "$dir" || fail "the member did not come up"
    ip netns exec "$ns" "${env[@]}" "$p/flowctl/bin/cfnet-db" overlay \
        --dir "$dir" --networks 10.255.0.0/16 \
        || fail "cfnet-db could not write the overlay"
    ip netns exec "$ns" "${env[@]}" "$p/flowctl/bin/cfnet-db" stop \
        --dir "$dir"
}
