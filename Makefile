# cni-ovs top-level Makefile.
#
#   make                 install missing Debian packages, build OVS's library
#                        once into build/ovs, then build build/bin/*
#   make check           every test: cmocka unit tests, system tests, then
#                        the acceptance suite
#   make check-unit      the unit tests only; make check-system: the system
#                        tests only; make acceptance: the acceptance suite;
#                        make bosh-test: the BOSH release's template tests;
#                        make check-fuzz: the fuzz targets' smoke
#   make demo            the CF networking story on a two-cell fleet
#   make check SANITIZE=1   the same, built with ASan+UBSan (build/asan/)
#   make bench           benchmarks, results in build/bench/results.json
#   make fuzz            the libFuzzer targets, FUZZ_SECONDS (default 60)
#                        or FUZZ_RUNS executions each (tests/fuzz/)
#   make reliability     docs/reliability.md: the fuzz campaign and the
#                        fault and isolation tests (scripts/reliability)
#   make install         install binaries, schema and scripts under PREFIX
#                        (default /usr/local), staged under DESTDIR if set;
#                        make install-built: the same without building
#                        (what BIN= holds)
#   make uninstall       remove exactly what 'make install' installs
#   make lint            coding-style checks (also part of 'make check')
#   make clean           remove our objects (keeps the OVS build)
#   make distclean       remove build/ entirely
#
#   NO_DEPS=1            install nothing: check what the goals need
#                        (scripts/install-deps --check) and stop, before
#                        compiling anything, with the list of what is missing
#   OVS_TARBALL=FILE     Open vSwitch's source (default: Debian's
#                        openvswitch-source)
#
# Without NO_DEPS=1 this file is read twice: first only to run
# scripts/install-deps for the goals given, then again, as a sub-make with
# NO_DEPS=1, for the real work.  So everything below that asks the system
# (pkg-config, the OVS build) is evaluated only once the packages exist.

SHELL := /bin/bash
TOP := $(CURDIR)

# Which groups of scripts/install-deps each goal needs (what NO_DEPS=1
# checks).  A goal not listed here needs what 'all' needs.
GOALS := $(or $(MAKECMDGOALS),all)
NODEPS_GOALS := clean distclean lint uninstall install-built
BUILD_GOALS := install ovs
SYSTEM_GOALS := check check-system acceptance bench pipeline-bench demo \
                reliability
DEP_GROUPS := $(strip \
    $(if $(filter-out $(NODEPS_GOALS),$(GOALS)),build) \
    $(if $(filter-out $(NODEPS_GOALS) $(BUILD_GOALS),$(GOALS)),unit) \
    $(if $(filter deps $(SYSTEM_GOALS),$(GOALS)),system) \
    $(if $(filter deps bench,$(GOALS)),bench) \
    $(if $(filter deps check check-fuzz fuzz fuzz-build reliability,$(GOALS)),fuzz))

ifneq ($(NO_DEPS),1)
# ---- First pass: install what is missing, then run the real make ----
# With apt, a developer's 'make' installs the tests' packages as well (the
# system tests and cell-sim run after it); 'make install' and 'make ovs'
# only the build's.  'make deps' installs them all, and builds nothing.
INSTALL_GROUPS := $(if $(filter-out $(NODEPS_GOALS) $(BUILD_GOALS),$(GOALS)),\
                    build unit system fuzz $(filter bench,$(DEP_GROUPS)),\
                    $(DEP_GROUPS))
REAL_GOALS := $(filter-out deps,$(GOALS))
.DEFAULT_GOAL := all
.PHONY: $(GOALS) deps
deps:
ifneq ($(INSTALL_GROUPS),)
	@$(TOP)/scripts/install-deps $(INSTALL_GROUPS)
endif

ifneq ($(REAL_GOALS),)
$(firstword $(REAL_GOALS)): deps
	@$(MAKE) --no-print-directory NO_DEPS=1 $(REAL_GOALS)

$(filter-out $(firstword $(REAL_GOALS)),$(REAL_GOALS)): \
    $(firstword $(REAL_GOALS))
	@:
endif

else
# ---- The real build (NO_DEPS=1) ----

OVS_TARBALL ?= /usr/src/openvswitch/openvswitch.tar.gz
OVS_SRC := $(TOP)/build/ovs/src
OVS_BLD := $(TOP)/build/ovs/build
OVS_STAMP := $(TOP)/build/ovs/.built
# libopenvswitch.a as built, and our copy of it with the six JSON functions
# that jansson also defines renamed ovs_json_* (see lib/ovs-json-rename.h).
OVS_LIB_ORIG := $(OVS_BLD)/lib/.libs/libopenvswitch.a
OVS_LIB := $(TOP)/build/ovs/libopenvswitch-cfnet.a
OVS_JSON_CLASH := json_array json_equal json_integer json_object json_real \
                  json_string
# Generated sources that must exist before the library's objects compile
# (part of OVS's BUILT_SOURCES); the vswitch IDL is among them.
OVS_GENERATED := include/odp-netlink.h include/odp-netlink-macros.h \
                 lib/vswitch-idl.h lib/vswitch-idl.c \
                 lib/ovsdb-server-idl.h lib/ovsdb-server-idl.c \
                 ofproto/ipfix-entities.def

# Stop before anything is built if the goals' dependencies are missing
# (scripts/install-deps prints them).  Sub-makes of this one skip it.
ifneq ($(DEP_GROUPS),)
ifneq ($(CFNET_DEPS_CHECKED),1)
# OVS's source is needed only until OVS is built.
DEPS_OVS_TARBALL := $(if $(wildcard $(OVS_STAMP)),,$(OVS_TARBALL))
DEPS_MISSING := $(shell OVS_TARBALL='$(DEPS_OVS_TARBALL)' CC='$(CC)' \
    $(TOP)/scripts/install-deps --check $(DEP_GROUPS) >&2 || echo missing)
ifneq ($(DEPS_MISSING),)
$(error missing dependencies, listed above: install them (on Debian, \
'make' without NO_DEPS=1 installs them with apt-get) and run make again)
endif
export CFNET_DEPS_CHECKED := 1
endif
endif

ifeq ($(SANITIZE),1)
  OUT := build/asan
  SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
else
  OUT := build
  SAN_FLAGS :=
endif
BIN := $(OUT)/bin
OBJ := $(OUT)/obj

CC ?= gcc
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
        -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
        -Wformat-security -Wshadow=local
CFLAGS ?= -O2 -g
# OVS headers: source and build trees, as OVN includes them.
OVS_INC := -I$(OVS_SRC)/include -I$(OVS_BLD)/include \
           -I$(OVS_SRC)/lib -I$(OVS_BLD)/lib -I$(OVS_SRC) -I$(OVS_BLD)
NL_INC := $(shell pkg-config --cflags libnl-3.0 libnl-route-3.0 2>/dev/null)
ALL_CFLAGS = -std=gnu11 $(CFLAGS) $(WARN) $(SAN_FLAGS) \
             -I$(TOP)/lib -I$(TOP)/cni-ovs -I$(TOP)/flowctl $(OVS_INC) $(NL_INC) \
             -include $(OVS_BLD)/config.h -include $(TOP)/lib/ovs-json-rename.h
# libopenvswitch's own dependencies (OpenSSL, libcap-ng where configure
# found them) are its pkg-config file's Libs.private.
OVS_LIBS = $(OVS_LIB) -lm -lpthread -lrt \
           $(shell sed -n 's/^Libs.private: *//p' $(OVS_BLD)/lib/libopenvswitch.pc 2>/dev/null)
LIBS = $(OVS_LIBS) -ljansson -lnl-route-3 -lnl-3
# cni-ovs runs once per container command: its libraries are linked in
# statically (all but the C library), which saves it the dynamic loader's
# work on libcrypto and the rest, about 1.8 ms of every ADD and DEL
# (docs/performance.md).  The archives come with the same -dev packages.
OVS_PRIVATE_LIBS = $(shell sed -n 's/^Libs.private: *//p' \
                     $(OVS_BLD)/lib/libopenvswitch.pc 2>/dev/null)
CNI_SYSTEM_LIBS := -latomic -lm -lpthread -lrt -ldl
CNI_LIBS = $(OVS_LIB) -Wl,-Bstatic \
           $(filter-out $(CNI_SYSTEM_LIBS),$(OVS_PRIVATE_LIBS)) \
           -ljansson -lnl-route-3 -lnl-3 -Wl,-Bdynamic $(CNI_SYSTEM_LIBS)
LDFLAGS_ALL = $(SAN_FLAGS) $(LDFLAGS)

.PHONY: all deps ovs check check-unit check-system acceptance bosh-test lint bench demo clean \
        distclean install install-built uninstall
.DEFAULT_GOAL := all
# Keep unit-test objects (otherwise intermediate) between builds.
.SECONDARY:

all: ovs $(BIN)/cni-ovs

# Checked above, when this file was read.
deps:

# ---- Open vSwitch's library, built once from Debian's source tarball ----
# The stamp has no prerequisites: once built, OVS is not built again (make
# distclean starts over).  Everything that compiles against OVS's headers
# waits for it (order-only); what links its library depends on $(OVS_LIB),
# which the same recipe makes.
ovs: $(OVS_STAMP)

$(OVS_LIB): $(OVS_STAMP) ;

$(OVS_STAMP):
	@echo "building libopenvswitch from $(OVS_TARBALL) (once)"
	rm -rf $(OVS_SRC) $(OVS_BLD)
	mkdir -p $(OVS_SRC) $(OVS_BLD)
	tar xzf $(OVS_TARBALL) -C $(OVS_SRC) --strip-components=1
	cd $(OVS_BLD) && $(OVS_SRC)/configure --enable-static --disable-shared \
	    --disable-ssl-check --with-dbdir=/var/lib/openvswitch \
	    CFLAGS="-O2 -g" > configure.log 2>&1 || { tail -30 configure.log; exit 1; }
	$(MAKE) -C $(OVS_BLD) -j$$(nproc) $(OVS_GENERATED) \
	    > $(OVS_BLD)/build.log 2>&1 || { tail -30 $(OVS_BLD)/build.log; exit 1; }
	$(MAKE) -C $(OVS_BLD) -j$$(nproc) lib/libopenvswitch.la \
	    >> $(OVS_BLD)/build.log 2>&1 || { tail -30 $(OVS_BLD)/build.log; exit 1; }
	objcopy $(foreach s,$(OVS_JSON_CLASH),--redefine-sym $(s)=ovs_$(s)) \
	    $(OVS_LIB_ORIG) $(OVS_LIB)
	touch $@

include $(TOP)/lib/build.mk
include $(TOP)/cni-ovs/build.mk
include $(TOP)/flowctl/build.mk
include $(TOP)/ovsdb/build.mk
# The tests and benchmarks: absent from the BOSH package's copy of the
# source (bosh/packages/flowctl), which only builds and installs.
-include $(TOP)/tests/build.mk
all: $(UNIT_BINS)
-include $(TOP)/tests/fuzz/build.mk
-include $(TOP)/tests/garden-sim/build.mk
-include $(TOP)/bench/build.mk

# ---- generic compile rule; headers tracked with -MMD ----
$(OBJ)/%.o: %.c | $(OVS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

lint:
	@$(TOP)/scripts/lint

# ---- make install: what a cell or a cfnet-db VM runs ----
# The layout under PREFIX is fixed, because the installed scripts find
# their files relative to themselves (scripts/cfnet-db finds the schema in
# ../share/cni-ovs/); DESTDIR only stages it (packaging).
PREFIX ?= /usr/local
INSTALL_BINS := $(BIN)/cni-ovs $(BIN)/flowctl
INSTALL_SCRIPTS := scripts/cfnet-db
INSTALL_DATA := $(CFNET_SCHEMA)
INSTALL_BINDIR = $(DESTDIR)$(PREFIX)/bin
INSTALL_DATADIR = $(DESTDIR)$(PREFIX)/share/cni-ovs

# install builds, then copies; install-built only copies what BIN holds
# (scripts/cell-sim installs $CELL_SIM_BIN's build, ASan's or a test's
# "new" one, into each cell's packages/flowctl with it: the same layout
# as the flowctl package's `make install`, without rebuilding).
define install_files
	@case '$(PREFIX)' in /*) ;; *) \
	    echo "make $@: PREFIX must be an absolute path," \
	         "not '$(PREFIX)'" >&2; \
	    exit 1 ;; esac
	@for f in $(INSTALL_BINS); do \
	    [ -x "$$f" ] || { echo "make $@: $$f is not built" \
	                          "(BIN is $(BIN))" >&2; exit 1; }; \
	done
	install -d '$(INSTALL_BINDIR)' '$(INSTALL_DATADIR)'
	install -m 755 $(INSTALL_BINS) $(INSTALL_SCRIPTS) '$(INSTALL_BINDIR)/'
	install -m 644 $(INSTALL_DATA) '$(INSTALL_DATADIR)/'
endef

install: $(INSTALL_BINS)
	$(install_files)

install-built:
	$(install_files)

uninstall:
	rm -f $(foreach f,$(INSTALL_BINS) $(INSTALL_SCRIPTS),\
	        '$(INSTALL_BINDIR)/$(notdir $(f))') \
	      $(foreach f,$(INSTALL_DATA),'$(INSTALL_DATADIR)/$(notdir $(f))')
	rmdir '$(INSTALL_DATADIR)' 2>/dev/null || true

# The CF networking story on a two-cell fleet, told and checked
# (scripts/demo; KEEP=1 keeps the fleet).
demo: all $(BIN)/garden-sim
	@$(TOP)/scripts/demo

bench: all $(BIN)/garden-sim $(CONNRATE)
	@$(TOP)/bench/run
	@$(TOP)/bench/flows
	@$(TOP)/bench/overlay
	@$(TOP)/bench/policy-convergence
	@$(TOP)/bench/flowctl-rss
	@$(TOP)/bench/traffic-log
	@$(TOP)/bench/container-ready
	@$(TOP)/bench/asg-connrate
	@$(TOP)/bench/datapath
	@$(TOP)/bench/policy-matrix
	@$(TOP)/bench/directory-scale

clean:
	rm -rf $(TOP)/build/bin $(TOP)/build/obj $(TOP)/build/asan $(TOP)/build/tests

distclean:
	rm -rf $(TOP)/build

endif # NO_DEPS
