/*
 * cfjson: the one way our code includes jansson.
 *
 * Undoes the ovs_json_* renaming of ovs-json-rename.h (force-included in
 * every file) so that the jansson API has its own names here.  See that
 * header for why. */

#ifndef CFNET_CFJSON_H
#define CFNET_CFJSON_H 1

#undef json_array
#undef json_equal
#undef json_integer
#undef json_object
#undef json_real
#undef json_string

#include <jansson.h>

#endif /* cfjson.h */
