/*
 * jparse: typed access to JSON members with errors that name the field.
 *
 * See jparse.h for the conventions (paths, first error wins, absent vs.
 * null).  Every getter starts with jparse_value(), which applies them, and
 * then checks the JSON type. */

#include "jparse.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Records "PATH: MESSAGE" as 'jp''s error, where PATH is 'member' within
 * 'path' (or 'path' itself if 'member' is NULL), unless an error is already
 * recorded.  When PATH is empty (the document itself) only MESSAGE is
 * recorded. */
void
jparse_error(struct jparse *jp, const char *path, const char *member,
             const char *format, ...)
{
    if (jp->error) {
        return;
    }

    va_list args;
    va_start(args, format);
    char *message = xvasprintf(format, args);
    va_end(args);

    char *where = (member
                   ? jparse_path_member(path, member)
                   : xstrdup(path ? path : ""));
    if (where[0]) {
        jp->error = xasprintf("%s: %s", where, message);
        free(message);
    } else {
        jp->error = message;
    }
    free(where);
}

/* Returns 'jp''s error, which the caller must free(), or NULL if none was
 * recorded.  'jp' is left without an error, ready for reuse. */
char *
jparse_finish(struct jparse *jp)
{
    char *error = jp->error;
    jp->error = NULL;
    return error;
}

/* Returns the path of 'member' within the object at 'path', as a malloc'd
 * string: "path.member", or just "member" when 'path' is empty or NULL. */
char *
jparse_path_member(const char *path, const char *member)
{
    return (path && path[0]
            ? xasprintf("%s.%s", path, member)
            : xstrdup(member));
}

/* Returns the path of element 'index' of the array at 'path', as a malloc'd
 * string "path[index]". */
char *
jparse_path_index(const char *path, size_t index)
{
    return xasprintf("%s[%"PRIuSIZE"]", path ? path : "", index);
}

/* Returns 'member' of 'obj' whatever its type, or NULL if it is absent or
 * null (recording "required" if 'required') or if an error was already
 * recorded.  A NULL or non-object 'obj' has no members. */
json_t *
jparse_value(struct jparse *jp, const json_t *obj, const char *path,
             const char *member, bool required)
{
    if (jparse_failed(jp)) {
        return NULL;
    }

    /* json_object_get() takes a non-const object but does not modify it. */
    json_t *value = (json_is_object(obj)
                     ? json_object_get(CONST_CAST(json_t *, obj), member)
                     : NULL);
    if (!value || json_is_null(value)) {
        if (required) {
            jparse_error(jp, path, member, "required");
        }
        return NULL;
    }
    return value;
}

/* Returns the string 'member' of 'obj' (see jparse.h).  The string may be
 * empty; callers that need a non-empty one check for it. */
const char *
jparse_string(struct jparse *jp, const json_t *obj, const char *path,
              const char *member, bool required)
{
    json_t *value = jparse_value(jp, obj, path, member, required);
    if (!value) {
        return NULL;
    } else if (!json_is_string(value)) {
        jparse_error(jp, path, member, "must be a string");
        return NULL;
    }
    return json_string_value(value);
}

/* Returns the object 'member' of 'obj' (see jparse.h). */
json_t *
jparse_object(struct jparse *jp, const json_t *obj, const char *path,
              const char *member, bool required)
{
    json_t *value = jparse_value(jp, obj, path, member, required);
    if (value && !json_is_object(value)) {
        jparse_error(jp, path, member, "must be an object");
        return NULL;
    }
    return value;
}

/* Returns the array 'member' of 'obj' (see jparse.h).  The array may be
 * empty. */
json_t *
jparse_array(struct jparse *jp, const json_t *obj, const char *path,
             const char *member, bool required)
{
    json_t *value = jparse_value(jp, obj, path, member, required);
    if (value && !json_is_array(value)) {
        jparse_error(jp, path, member, "must be an array");
        return NULL;
    }
    return value;
}

/* Stores integer 'member' of 'obj' in '*value' if it is present and within
 * ['min', 'max'] and returns true.  Otherwise leaves '*value' alone, returns
 * false and records an error unless the member is absent and optional.
 * JSON reals (even 1500.0) are not integers. */
bool
jparse_uint(struct jparse *jp, const json_t *obj, const char *path,
            const char *member, bool required,
            uint64_t min, uint64_t max, uint64_t *value)
{
    json_t *json = jparse_value(jp, obj, path, member, required);
    if (!json) {
        return false;
    } else if (!json_is_integer(json)) {
        jparse_error(jp, path, member, "must be an integer");
        return false;
    }

    json_int_t n = json_integer_value(json);
    if (n < 0 || (uint64_t) n < min || (uint64_t) n > max) {
        jparse_error(jp, path, member, "must be %"PRIu64"..%"PRIu64,
                     min, max);
        return false;
    }
    *value = n;
    return true;
}

/* Stores boolean 'member' of 'obj' in '*value' if it is present and returns
 * true.  Otherwise leaves '*value' alone, returns false and records an error
 * unless the member is absent and optional. */
bool
jparse_bool(struct jparse *jp, const json_t *obj, const char *path,
            const char *member, bool required, bool *value)
{
    json_t *json = jparse_value(jp, obj, path, member, required);
    if (!json) {
        return false;
    } else if (!json_is_boolean(json)) {
        jparse_error(jp, path, member, "must be a boolean");
        return false;
    }
    *value = json_is_true(json);
    return true;
}

/* Records "unknown member" for the first member of 'obj' (in document
 * order) whose name is not in the NULL-terminated list 'known'.  Does
 * nothing if 'obj' is not an object. */
void
jparse_reject_unknown(struct jparse *jp, const json_t *obj,
                      const char *path, const char *const known[])
{
    if (jparse_failed(jp) || !json_is_object(obj)) {
        return;
    }

    const char *key;
    json_t *value;
    json_object_foreach (CONST_CAST(json_t *, obj), key, value) {
        const char *const *k;
        for (k = known; *k; k++) {
            if (!strcmp(key, *k)) {
                break;
            }
        }
        if (!*k) {
            jparse_error(jp, path, key, "unknown member");
            return;
        }
    }
}

/* Returns the value that json_pack() would build from 'format' and the
 * arguments, aborting if it fails. */
json_t *
jparse_pack(const char *format, ...)
{
    json_error_t error;
    va_list args;

    va_start(args, format);
    json_t *json = json_vpack_ex(&error, 0, format, args);
    va_end(args);
    if (!json) {
        ovs_abort(0, "json_pack(\"%s\"): %s", format, error.text);
    }
    return json;
}

/* Returns a new, empty JSON object. */
json_t *
jparse_new_object(void)
{
    return jparse_pack("{}");
}

/* Returns a new, empty JSON array. */
json_t *
jparse_new_array(void)
{
    return jparse_pack("[]");
}

/* Returns a new JSON string for 's', replacing each non-ASCII byte by '?' if
 * 's' is not valid UTF-8. */
json_t *
jparse_new_string(const char *s)
{
    json_t *string = json_pack("s", s);
    if (!string) {
        char *copy = xstrdup(s);
        for (char *p = copy; *p; p++) {
            if ((unsigned char) *p >= 0x80) {
                *p = '?';
            }
        }
        string = jparse_pack("s", copy);
        free(copy);
    }
    return string;
}

/* Returns the compact encoding of 'json' as a malloc'd string. */
char *
jparse_dump(const json_t *json)
{
    char *s = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        out_of_memory();
    }
    return s;
}
