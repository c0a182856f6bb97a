# ovsdb/: the CFNet schema (the cluster directory of cells, cfnet-db).
# flowctl talks to it through lib/db-session, with no generated IDL (see
# docs/architecture.md, "Leases").

CFNET_SCHEMA := ovsdb/cfnet.ovsschema
GEN := $(OBJ)/gen

# The schema's "cksum" must match its text (OVS's convention): update it
# with build/ovs/src/build-aux/calculate-schema-cksum after any change.
$(GEN)/cfnet.ovsschema.stamp: $(CFNET_SCHEMA) | ovs
	@mkdir -p $(dir $@)
	$(OVS_SRC)/build-aux/cksum-schema-check $< $@
all: $(GEN)/cfnet.ovsschema.stamp
