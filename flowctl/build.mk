# flowctl/: the flow controller -> $(BIN)/flowctl
# FLOWCTL_CORE_SRCS are pure (no I/O) and linked into unit tests too.
FLOWCTL_CORE_SRCS := flowctl/flow-table.c flowctl/model.c flowctl/ranges.c \
                     flowctl/pipeline.c flowctl/flow-units.c \
                     flowctl/flowctl-config.c \
                     flowctl/reject.c flowctl/explain.c flowctl/lease.c \
                     flowctl/hostrules.c flowctl/pollsched.c \
                     flowctl/logline.c flowctl/logsnap.c flowctl/metrics.c \
                     flowctl/ctflush.c
FLOWCTL_IO_SRCS := flowctl/ofctrl.c flowctl/localdb.c flowctl/hostnet.c \
                   flowctl/pinctrl.c flowctl/flowstats.c flowctl/runner.c \
                   flowctl/directory.c flowctl/trace.c flowctl/https.c \
                   flowctl/policysync.c flowctl/sighup.c flowctl/logctl.c \
                   flowctl/promhttp.c flowctl/ctwalk.c
FLOWCTL_CORE_OBJS := $(FLOWCTL_CORE_SRCS:%.c=$(OBJ)/%.o)
FLOWCTL_IO_OBJS := $(FLOWCTL_IO_SRCS:%.c=$(OBJ)/%.o)

# libcurl (the policy server's client, https.c) is flowctl's alone: cni-ovs
# is linked statically and must not carry it.  CURL_LIBS: how to link it
# (the BOSH package links a static libcurl: `pkg-config --static --libs
# libcurl`).
CURL_LIBS ?= -lcurl
FLOWCTL_LIBS := $(CURL_LIBS)

# The daemon itself arrives with flowctl/flowctl.c.
ifneq ($(wildcard flowctl/flowctl.c),)
all: $(BIN)/flowctl
$(BIN)/flowctl: $(OBJ)/flowctl/flowctl.o $(FLOWCTL_IO_OBJS) \
                $(FLOWCTL_CORE_OBJS) $(LIBCFNET) $(OVS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LIBS) $(FLOWCTL_LIBS)
endif
