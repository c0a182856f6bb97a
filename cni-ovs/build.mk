# cni-ovs/: the CNI plugin -> $(BIN)/cni-ovs
# CNI_CORE_SRCS are the pure parts that unit tests link as well.
CNI_CORE_SRCS := cni-ovs/netconf.c cni-ovs/result.c cni-ovs/cni-env.c
CNI_IO_SRCS := cni-ovs/ipam.c cni-ovs/plumb.c cni-ovs/localdb.c \
               cni-ovs/cmd-add.c cni-ovs/cmd-del.c cni-ovs/cmd-check.c
CNI_CORE_OBJS := $(CNI_CORE_SRCS:%.c=$(OBJ)/%.o)
CNI_IO_OBJS := $(CNI_IO_SRCS:%.c=$(OBJ)/%.o)

$(BIN)/cni-ovs: $(OBJ)/cni-ovs/main.o $(CNI_IO_OBJS) $(CNI_CORE_OBJS) \
                $(LIBCFNET) $(OVS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(CNI_LIBS)
