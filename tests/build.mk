# tests/: cmocka unit tests (tests/unit/test-*.c, one binary each), the
# BOSH template tests (tests/bosh/), the system tests (tests/system/test-*.sh) and the acceptance suite
# (tests/acceptance/test-*.sh), both run by tests/run-all.
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUT)/tests/%)
# Fixtures that unit tests and fuzz targets share (tests/fixtures/).
TEST_FIXTURE_SRCS := tests/fixtures/logcell.c
TEST_FIXTURE_OBJS := $(TEST_FIXTURE_SRCS:%.c=$(OBJ)/%.o)
$(OBJ)/tests/%.o: ALL_CFLAGS += -I$(TOP)/tests/fixtures

$(OUT)/tests/test-%: $(OBJ)/tests/unit/test-%.o $(TEST_FIXTURE_OBJS) \
                     $(CNI_CORE_OBJS) $(FLOWCTL_CORE_OBJS) $(LIBCFNET) \
                     $(OVS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LIBS) -lcmocka

# ofctrl-driver: flowctl's ofctrl against a real switch, for
# tests/system/test-ofctrl.sh.  It links only the two modules it tests.
OFCTRL_DRIVER := $(OUT)/tests/ofctrl-driver
$(OFCTRL_DRIVER): $(OBJ)/tests/system/ofctrl-driver.o $(OBJ)/flowctl/ofctrl.o \
                  $(OBJ)/flowctl/flow-table.o $(LIBCFNET) $(OVS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LIBS)

# pinctrl-driver: flowctl's pinctrl against a real switch, for
# tests/system/test-pinctrl.sh.  It links only the two modules it tests.
PINCTRL_DRIVER := $(OUT)/tests/pinctrl-driver
$(PINCTRL_DRIVER): $(OBJ)/tests/system/pinctrl-driver.o \
                   $(OBJ)/flowctl/pinctrl.o $(OBJ)/flowctl/reject.o \
                   $(LIBCFNET) $(OVS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LIBS)

# directory-driver: flowctl's directory (the cfnet-db adapter) against a
# real cfnet-db cluster, for tests/system/test-directory.sh and benchmarks.
DIRECTORY_DRIVER := $(OUT)/tests/directory-driver
$(DIRECTORY_DRIVER): $(OBJ)/tests/system/directory-driver.o \
                     $(OBJ)/flowctl/directory.o $(OBJ)/flowctl/lease.o \
                     $(LIBCFNET) $(OVS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LIBS)
all: $(DIRECTORY_DRIVER)

check: all $(UNIT_BINS) $(BIN)/cni-ovs $(BIN)/garden-sim $(OFCTRL_DRIVER) \
       $(PINCTRL_DRIVER) $(DIRECTORY_DRIVER) lint
	@$(TOP)/tests/run-all $(OUT)

check-unit: all $(UNIT_BINS)
	@$(TOP)/tests/run-all --unit-only $(OUT)

check-system: all $(BIN)/cni-ovs $(BIN)/garden-sim $(OFCTRL_DRIVER) \
              $(PINCTRL_DRIVER) $(DIRECTORY_DRIVER)
	@$(TOP)/tests/run-all --system-only $(OUT)

# The BOSH release's template tests (tests/bosh/check-templates): every
# job rendered with its fixtures and checked by the binary that reads it.
# Also part of 'make check'.
bosh-test: all $(BIN)/cni-ovs
	@$(TOP)/tests/run-all --bosh-only $(OUT)

# The acceptance suite (tests/acceptance/, docs/acceptance.md): CF's
# networking smoke and acceptance tests and the CATs' security-group and
# DNS cases, on a two-cell fleet.  Also part of 'make check'.
acceptance: all $(BIN)/cni-ovs $(BIN)/garden-sim
	@$(TOP)/tests/run-all --acceptance-only $(OUT)
