# lib/: code shared by cni-ovs and flowctl -> $(OBJ)/libcfnet.a
LIB_SRCS := lib/jparse.c lib/cf-record.c lib/cfnet.c lib/ipv4.c \
            lib/procsys.c lib/subprocess.c lib/cf-policy.c
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
LIBCFNET := $(OBJ)/libcfnet.a

$(LIBCFNET): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^
