/*
 * jparse: typed access to JSON members with errors that name the field.
 *
 * Every CNI config, Garden runtimeConfig and (later) policy-server document
 * is read through these helpers.  A 'struct jparse' records the first error
 * only, with the full JSON path of the offending member, e.g.
 *
 *     runtimeConfig.portMappings[1].host_port: must be 1..65535
 *
 * Typical use:
 *
 *     struct jparse jp = JPARSE_INITIALIZER;
 *     const char *br = jparse_string(&jp, conf, "", "bridge", false);
 *     uint64_t mtu = 0;
 *     jparse_uint(&jp, conf, "", "mtu", false, 0, 65535, &mtu);
 *     char *error = jparse_finish(&jp);      (NULL on success, else malloc'd)
 *
 * 'path' is the path of 'obj' itself ("" for the document root); a member's
 * path is "path.member" (or "member" at the root); array elements append
 * "[i]" (see jparse_path_index()).  After the first error every later call
 * is a no-op that returns the "absent" value, so a parser can be written as
 * straight-line code and check once at the end.
 *
 * Members that are absent or JSON null count as absent.  Unknown members are
 * ignored unless the caller asks for jparse_reject_unknown().
 *
 * The end of this header has a few helpers for building JSON without
 * error paths (see "Building JSON").
 *
 * Thread-safety: none needed; a 'struct jparse' belongs to one caller. */

#ifndef CFNET_JPARSE_H
#define CFNET_JPARSE_H 1

#include "cfjson.h"
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

struct jparse {
    char *error;                /* First error, malloc'd, or NULL. */
};

#define JPARSE_INITIALIZER { NULL }

/* Records "PATH: MESSAGE" as the error (where PATH is 'path' joined with
 * 'member'; 'member' may be NULL to name 'path' itself), unless an error is
 * already recorded. */
void jparse_error(struct jparse *, const char *path, const char *member,
                  const char *format, ...) OVS_PRINTF_FORMAT(4, 5);

static inline bool
jparse_failed(const struct jparse *jp)
{
    return jp->error != NULL;
}

/* Returns the recorded error (the caller must free() it) or NULL, and resets
 * 'jp'. */
char *jparse_finish(struct jparse *) OVS_WARN_UNUSED_RESULT;

/* Returns a malloc'd "path.member" ("member" if 'path' is empty). */
char *jparse_path_member(const char *path, const char *member);

/* Returns a malloc'd "path[index]". */
char *jparse_path_index(const char *path, size_t index);

/* Returns the member's value whatever its JSON type, or NULL when it is
 * absent or null (an error if 'required') or an error is already recorded.
 * For members that accept more than one type. */
json_t *jparse_value(struct jparse *, const json_t *obj,
                     const char *path, const char *member, bool required);

/* Each getter returns the member's value, or NULL/false when the member is
 * absent (an error if 'required') or has the wrong type (always an error:
 * "must be a string", "must be an object", ...).  Returned pointers point
 * into 'obj' and live as long as it does. */
const char *jparse_string(struct jparse *, const json_t *obj,
                          const char *path, const char *member, bool required);
json_t *jparse_object(struct jparse *, const json_t *obj,
                      const char *path, const char *member, bool required);
json_t *jparse_array(struct jparse *, const json_t *obj,
                     const char *path, const char *member, bool required);

/* Stores an integer member in '*value' if it is present, integral and in
 * [min, max] ("must be MIN..MAX" otherwise); leaves '*value' untouched when
 * absent.  Returns true if a value was stored. */
bool jparse_uint(struct jparse *, const json_t *obj, const char *path,
                 const char *member, bool required,
                 uint64_t min, uint64_t max, uint64_t *value);

/* Like jparse_uint() for a JSON boolean. */
bool jparse_bool(struct jparse *, const json_t *obj, const char *path,
                 const char *member, bool required, bool *value);

/* Records "unknown member" for the first member of 'obj' not in the
 * NULL-terminated 'known' list.  For formats that are ours alone (flowctl's
 * config); CNI and Garden documents tolerate unknown members. */
void jparse_reject_unknown(struct jparse *, const json_t *obj,
                           const char *path, const char *const known[]);

/* Building JSON.
 *
 * Jansson's constructors return NULL when memory runs out, and json_string()
 * also for text that is not UTF-8.  These helpers never return NULL: they
 * abort if memory runs out, and jparse_new_string() makes any text
 * encodable, so output code needs no error paths. */

/* Like json_pack(), but aborts on failure: out of memory, or a bug such as
 * a format that does not match the arguments or a "s" argument that is not
 * UTF-8 (use jparse_new_string() and "o" for text from outside). */
json_t *jparse_pack(const char *format, ...);

/* A new, empty object or array. */
json_t *jparse_new_object(void);
json_t *jparse_new_array(void);

/* A JSON string for 's' (nonnull).  If 's' is not valid UTF-8, each byte
 * outside ASCII is replaced by '?', so that text from the environment or
 * the system (paths, error messages) can always be encoded. */
json_t *jparse_new_string(const char *s);

/* Returns the compact encoding of 'json' (any JSON value) as a malloc'd
 * string.  Does not consume a reference. */
char *jparse_dump(const json_t *json);

#endif /* jparse.h */
