# tests/: cmocka unit tests (tests/unit/test-*.c, one binary each) and the
# system tests (tests/system/*.sh, run by tests/system/run).
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUT)/tests/%)

$(OUT)/tests/test-%: $(OBJ)/tests/unit/test-%.o $(CNI_CORE_OBJS) \
                     $(LIBCFNET) $(OVS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LIBS) -lcmocka

check: all $(UNIT_BINS) $(BIN)/cni-ovs $(BIN)/garden-sim lint
	@$(TOP)/tests/run-all $(OUT)

check-unit: all $(UNIT_BINS)
	@$(TOP)/tests/run-all --unit-only $(OUT)

check-system: all $(BIN)/cni-ovs $(BIN)/garden-sim
	@$(TOP)/tests/run-all --system-only $(OUT)
