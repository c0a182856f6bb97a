# ovsdb/: the CFNet schema (the cluster directory of cells, cfnet-db) and
# its C IDL, generated at build time by OVS's own IDL compiler exactly as
# OVS generates lib/vswitch-idl.{c,h}:
#
#   cfnet.ovsschema + cfnet-idl.ann --annotate--> $(OBJ)/gen/cfnet-idl.ovsidl
#   cfnet-idl.ovsidl --c-idl-source--> $(OBJ)/gen/cfnet-idl.c
#   cfnet-idl.ovsidl --c-idl-header--> $(OBJ)/gen/cfnet-idl.h
#
# cfnet-idl.o goes into libcfnet.a; code includes "cfnet-idl.h".

PYTHON3 ?= python3
CFNET_SCHEMA := ovsdb/cfnet.ovsschema
CFNET_IDL_ANN := ovsdb/cfnet-idl.ann
GEN := $(OBJ)/gen
CFNET_IDL_OVSIDL := $(GEN)/cfnet-idl.ovsidl
CFNET_IDL_C := $(GEN)/cfnet-idl.c
CFNET_IDL_H := $(GEN)/cfnet-idl.h
CFNET_IDL_O := $(OBJ)/ovsdb/cfnet-idl.o
OVSDB_IDLC = PYTHONPATH=$(OVS_SRC)/python PYTHONDONTWRITEBYTECODE=yes \
             $(PYTHON3) $(OVS_SRC)/ovsdb/ovsdb-idlc.in

ALL_CFLAGS += -I$(TOP)/$(GEN)

# The schema's "cksum" must match its text (OVS's convention): update it
# with build/ovs/src/build-aux/calculate-schema-cksum after any change.
$(GEN)/cfnet.ovsschema.stamp: $(CFNET_SCHEMA) | ovs
	@mkdir -p $(dir $@)
	$(OVS_SRC)/build-aux/cksum-schema-check $< $@

$(CFNET_IDL_OVSIDL): $(CFNET_SCHEMA) $(CFNET_IDL_ANN) \
                     $(GEN)/cfnet.ovsschema.stamp | ovs
	@mkdir -p $(dir $@)
	$(OVSDB_IDLC) annotate $(CFNET_SCHEMA) $(CFNET_IDL_ANN) > $@.tmp
	mv $@.tmp $@

$(CFNET_IDL_C): $(CFNET_IDL_OVSIDL)
	$(OVSDB_IDLC) c-idl-source $< > $@.tmp
	mv $@.tmp $@

$(CFNET_IDL_H): $(CFNET_IDL_OVSIDL)
	$(OVSDB_IDLC) c-idl-header $< > $@.tmp
	mv $@.tmp $@

# Generated code: OVS builds it without our extra warnings.  Only this
# object relaxes them; they stay errors everywhere else.
$(CFNET_IDL_O): $(CFNET_IDL_C) $(CFNET_IDL_H) | ovs
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBCFNET): $(CFNET_IDL_O)

# Anything of ours may include "cfnet-idl.h": generate it before compiling.
$(LIB_OBJS) $(CNI_CORE_OBJS) $(CNI_IO_OBJS) $(OBJ)/cni-ovs/main.o \
$(FLOWCTL_CORE_OBJS) $(FLOWCTL_IO_OBJS) $(OBJ)/flowctl/flowctl.o: \
    | $(CFNET_IDL_H)
