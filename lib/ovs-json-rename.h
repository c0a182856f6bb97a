/*
 * ovs-json-rename: keeps Open vSwitch's JSON library and jansson apart.
 *
 * Both libraries define six functions of the same names (json_array,
 * json_equal, json_integer, json_object, json_real, json_string).  We link
 * a copy of libopenvswitch.a in which those six are renamed ovs_json_*
 * (objcopy --redefine-sym, see the Makefile), and the build force-includes
 * this header in every file, so OVS's headers and any code that uses OVS's
 * JSON API refer to the renamed functions.  Code that uses jansson includes
 * "cfjson.h", which undoes the renaming before including <jansson.h>.
 *
 * A file that includes both must include the OVS headers first; the other
 * order is a compile error, never a silent call into the wrong library. */

#ifndef CFNET_OVS_JSON_RENAME_H
#define CFNET_OVS_JSON_RENAME_H 1

#define json_array ovs_json_array
#define json_equal ovs_json_equal
#define json_integer ovs_json_integer
#define json_object ovs_json_object
#define json_real ovs_json_real
#define json_string ovs_json_string

#endif /* ovs-json-rename.h */
