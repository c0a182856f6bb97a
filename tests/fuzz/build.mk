# tests/fuzz/: libFuzzer targets (tests/fuzz/fuzz-*.c, one binary each),
# built with clang, ASan and UBSan into build/fuzz/, with our parsers and
# the pure modules compiled the same way (libopenvswitch is linked as
# built).  tests/fuzz/run runs them: 'make fuzz' (FUZZ_SECONDS per target,
# or FUZZ_RUNS executions each), and a short smoke of each in 'make check'
# (tests/run-all).  docs/reliability.md has the results.
FUZZ_CC ?= clang
FUZZ_OUT := build/fuzz
FUZZ_OBJ := $(FUZZ_OUT)/obj
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -fno-omit-frame-pointer
# Our warnings, less the one clang does not know (-Wshadow=local).
FUZZ_WARN := $(filter-out -Wshadow=local,$(WARN))
FUZZ_CFLAGS = -std=gnu11 -O1 -g $(FUZZ_WARN) $(FUZZ_SAN) \
              -fsanitize=fuzzer-no-link \
              -I$(TOP)/lib -I$(TOP)/cni-ovs -I$(TOP)/flowctl \
              -I$(TOP)/tests/fuzz -I$(TOP)/tests/fixtures \
              $(OVS_INC) -include $(OVS_BLD)/config.h \
              -include $(TOP)/lib/ovs-json-rename.h
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_OUT)/%)
# What the targets test, instrumented: lib/, cni-ovs's and flowctl's pure
# modules (and the tests' fixtures).  An archive, so each target links
# only what it uses.
FUZZ_CORE_SRCS := $(LIB_SRCS) $(CNI_CORE_SRCS) $(FLOWCTL_CORE_SRCS) \
                  $(TEST_FIXTURE_SRCS)
FUZZ_CORE_OBJS := $(FUZZ_CORE_SRCS:%.c=$(FUZZ_OBJ)/%.o)
FUZZ_CORE := $(FUZZ_OBJ)/libfuzzcore.a

$(FUZZ_OBJ)/%.o: %.c | $(OVS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_CORE): $(FUZZ_CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_OUT)/fuzz-%: $(FUZZ_OBJ)/tests/fuzz/fuzz-%.o $(FUZZ_CORE) $(OVS_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $(filter %.o %.a,$^) \
	    $(LIBS)

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

# FUZZ_SECONDS=N (default 60) or FUZZ_RUNS=N executions per target;
# FUZZ_TARGETS="netconf lease" to run only those.
fuzz: $(FUZZ_BINS)
	@$(TOP)/tests/fuzz/run $(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS),\
	    --seconds $(or $(FUZZ_SECONDS),60)) $(FUZZ_TARGETS)

# 'make check' runs each target's smoke (tests/run-all); 'make check-fuzz'
# only that.
check: $(FUZZ_BINS)
.PHONY: check-fuzz
check-fuzz: $(FUZZ_BINS)
	@$(TOP)/tests/run-all --fuzz-only $(OUT)

# docs/reliability.md: the fuzz campaign (RELIABILITY_FUZZ_RUNS per target,
# default 10 million; 0 reuses the last one's results) and every test
# tests/reliability/cases lists (scripts/reliability).
.PHONY: reliability
reliability: all $(BIN)/cni-ovs $(BIN)/garden-sim $(OFCTRL_DRIVER) \
             $(PINCTRL_DRIVER) $(DIRECTORY_DRIVER) $(FUZZ_BINS)
	@$(TOP)/scripts/reliability
