# lib/: code shared by cni-ovs, flowctl and their tools -> $(OBJ)/libcfnet.a
LIB_SRCS := lib/jparse.c lib/cf-record.c lib/cfnet.c lib/ipv4.c \
            lib/procsys.c lib/subprocess.c lib/cf-policy.c \
            lib/db-session.c
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
LIBCFNET := $(OBJ)/libcfnet.a

$(LIBCFNET): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^
