# bench/: benchmark programs.  Included from the top-level Makefile, which
# defines OUT, OBJ, the flowctl object lists and the link flags.
#
# pipeline-bench: flowctl's pipeline_compute() and ofctrl install at cell
# scale (bench/flows runs it).  Linked like the unit tests and
# ofctrl-driver, with flowctl's libraries (libcurl: https.c is among the
# I/O objects).
PIPELINE_BENCH := $(OUT)/bench/pipeline-bench
$(PIPELINE_BENCH): $(OBJ)/bench/pipeline-bench.o $(FLOWCTL_IO_OBJS) \
                   $(FLOWCTL_CORE_OBJS) $(LIBCFNET) $(OVS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LIBS) $(FLOWCTL_LIBS)

.PHONY: pipeline-bench
pipeline-bench: ovs $(PIPELINE_BENCH)

# connrate: the TCP connection-rate load and the readiness probe of
# bench/asg-connrate and bench/container-ready; stands alone.
CONNRATE := $(OUT)/bench/connrate
$(CONNRATE): bench/connrate.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) $(SAN_FLAGS) -o $@ $<
