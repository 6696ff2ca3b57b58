// SPDX-License-Identifier: Apache-2.0
//
// Reading the protobuf JSON mapping (see pbjson.h): the path kept for error
// messages, the object loop that looks keys up in a message's table, arrays,
// and the scalar rules of the mapping. Integers are exact whether written as
// numbers or as strings; out-of-range values are errors, not wrapped.
#include "decode/pbjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/arena.h"
#include "util/error.h"

// ---- error reporting ----

static void path_push(struct pbjson_decoder *d, const char *name)
{
    if (d->depth < PBJSON_MAX_PATH) {
        d->path_name[d->depth] = name;
        d->path_index[d->depth] = PBJSON_NO_INDEX;
    }
    d->depth++;
}

static void path_pop(struct pbjson_decoder *d)
{
    d->depth--;
}

void pbjson_path_set_index(struct pbjson_decoder *d, uint32_t index)
{
    if (d->depth >= 1 && d->depth <= PBJSON_MAX_PATH)
        d->path_index[d->depth - 1] = index;
}

// "resourceProfiles[0].scopeProfiles[0].profiles[1].samples[3].stackIndex"
static size_t format_path(const struct pbjson_decoder *d, char *path, size_t cap)
{
    size_t n = 0;
    path[0] = '\0';
    for (int i = 0; i < d->depth && i < PBJSON_MAX_PATH && n < cap; i++) {
        int w = d->path_index[i] == PBJSON_NO_INDEX
                    ? snprintf(path + n, cap - n, "%s%s", i ? "." : "", d->path_name[i])
                    : snprintf(path + n, cap - n, "%s%s[%" PRIu32 "]", i ? "." : "",
                               d->path_name[i], d->path_index[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return n < cap ? n : cap - 1;
}

int pbjson_fail(struct pbjson_decoder *d, const struct ptm_json_token *t, const char *fmt, ...)
{
    char problem[256], path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    size_t n = format_path(d, path, sizeof path);
    return ptm_json_error(&d->j, t->at, "%s%s%s", path, n ? ": " : "", problem);
}

// Put the path in front of an error the tokenizer reported.
static int with_path(struct pbjson_decoder *d, int rc)
{
    char path[256];
    if (rc != 0 && rc != PTM_ENOMEM && format_path(d, path, sizeof path) > 0)
        ptm_error_prefix(d->err, "%s", path);
    return rc;
}

int pbjson_nomem(struct pbjson_decoder *d)
{
    return ptm_error_set(d->err, PTM_ENOMEM, "out of memory reading JSON");
}

int pbjson_next(struct pbjson_decoder *d, struct ptm_json_token *t)
{
    return with_path(d, ptm_json_next(&d->j, t));
}

static int skip(struct pbjson_decoder *d, const struct ptm_json_token *first)
{
    return with_path(d, ptm_json_skip(&d->j, first));
}

// The number of elements of the array starting at t (a look-ahead).
int pbjson_count_elements(struct pbjson_decoder *d, const struct ptm_json_token *t, uint32_t *n)
{
    if (t->kind != PTM_JSON_ARRAY)
        return pbjson_fail(d, t, "expected an array");
    return with_path(d, ptm_json_count_elements(&d->j, n));
}

// ---- messages: keys and the generic object loop ----

static const struct pbjson_field *find_field(const struct pbjson_message *msg, struct ptm_str key)
{
    for (size_t i = 0; i < msg->n_fields; i++) {
        const struct pbjson_field *f = &msg->fields[i];
        if ((key.len == f->camel_len && memcmp(key.ptr, f->camel, key.len) == 0) ||
            (key.len == f->snake_len && memcmp(key.ptr, f->snake, key.len) == 0))
            return f;
    }
    return NULL;
}

static int read_known_field(struct pbjson_decoder *d, const struct pbjson_message *msg,
                            const struct pbjson_field *f, const struct ptm_json_token *key,
                            uint32_t *seen, void *out)
{
    if (*seen & 1u << f->id)
        return pbjson_fail(d, key, "duplicate key");
    *seen |= 1u << f->id;
    d->marks |= f->marks;
    struct ptm_json_token value;
    int rc = pbjson_next(d, &value);
    if (rc != 0 || value.kind == PTM_JSON_NULL) // null: the field is not set
        return rc;
    return msg->read(d, f->id, &value, out);
}

// An object whose '{' is t: each known key's value goes to msg->read,
// unknown keys are skipped.
int pbjson_read_object(struct pbjson_decoder *d, const struct ptm_json_token *t,
                       const struct pbjson_message *msg, void *out)
{
    if (t->kind != PTM_JSON_OBJECT)
        return pbjson_fail(d, t, "expected an object");
    uint32_t seen = 0;
    for (;;) {
        struct ptm_json_token key, value;
        int rc = pbjson_next(d, &key);
        if (rc != 0 || key.kind == PTM_JSON_OBJECT_END)
            return rc;
        const struct pbjson_field *f = find_field(msg, key.text);
        if (f == NULL) {
            rc = pbjson_next(d, &value);
            if (rc == 0)
                rc = skip(d, &value);
        } else {
            path_push(d, f->camel);
            rc = read_known_field(d, msg, f, &key, &seen, out);
            path_pop(d);
        }
        if (rc != 0)
            return rc;
    }
}

int pbjson_read_array(struct pbjson_decoder *d, const struct ptm_json_token *t,
                      pbjson_element_reader read, void *ctx)
{
    if (t->kind != PTM_JSON_ARRAY)
        return pbjson_fail(d, t, "expected an array");
    for (uint32_t i = 0;; i++) {
        struct ptm_json_token e;
        pbjson_path_set_index(d, i);
        int rc = pbjson_next(d, &e);
        if (rc != 0 || e.kind == PTM_JSON_ARRAY_END)
            return rc;
        rc = read(d, &e, ctx);
        if (rc != 0)
            return rc;
    }
}

// ---- scalars ----

enum int_type { INT32, UINT32, INT64, UINT64 };

static const char *const int_type_name[] = {"int32", "uint32", "int64", "uint64"};

// An integer, written as a JSON number or a string holding one.
static int read_integer(struct pbjson_decoder *d, const struct ptm_json_token *t,
                        enum int_type type, uint64_t *bits)
{
    if (t->kind != PTM_JSON_NUMBER && t->kind != PTM_JSON_STRING)
        return pbjson_fail(d, t, "expected an integer");
    int status;
    if (type == UINT32 || type == UINT64) {
        status = ptm_json_to_uint64(t->text, bits);
        if (status == PTM_JSON_NUMBER_OK && type == UINT32 && *bits > UINT32_MAX)
            status = PTM_JSON_OUT_OF_RANGE;
    } else {
        int64_t v = 0;
        status = ptm_json_to_int64(t->text, &v);
        if (status == PTM_JSON_NUMBER_OK && type == INT32 && (v < INT32_MIN || v > INT32_MAX))
            status = PTM_JSON_OUT_OF_RANGE;
        *bits = (uint64_t)v;
    }
    if (status == PTM_JSON_OUT_OF_RANGE)
        return pbjson_fail(d, t, "%.*s is out of range for %s",
                           (int)(t->text.len > 40 ? 40 : t->text.len), t->text.ptr,
                           int_type_name[type]);
    if (status != PTM_JSON_NUMBER_OK)
        return pbjson_fail(d, t, "expected an integer");
    return 0;
}

int pbjson_read_int32(struct pbjson_decoder *d, const struct ptm_json_token *t, int32_t *out)
{
    uint64_t bits = 0;
    int rc = read_integer(d, t, INT32, &bits);
    *out = (int32_t)(int64_t)bits;
    return rc;
}

int pbjson_read_uint32(struct pbjson_decoder *d, const struct ptm_json_token *t, uint32_t *out)
{
    uint64_t bits = 0;
    int rc = read_integer(d, t, UINT32, &bits);
    *out = (uint32_t)bits;
    return rc;
}

int pbjson_read_int64(struct pbjson_decoder *d, const struct ptm_json_token *t, int64_t *out)
{
    uint64_t bits = 0;
    int rc = read_integer(d, t, INT64, &bits);
    *out = (int64_t)bits;
    return rc;
}

int pbjson_read_uint64(struct pbjson_decoder *d, const struct ptm_json_token *t, uint64_t *out)
{
    return read_integer(d, t, UINT64, out);
}

int pbjson_read_double(struct pbjson_decoder *d, const struct ptm_json_token *t, double *out)
{
    if (t->kind == PTM_JSON_STRING) { // protobuf JSON's names for the special values
        struct ptm_str s = t->text;
        if (s.len == 3 && memcmp(s.ptr, "NaN", 3) == 0)
            return *out = NAN, 0;
        if (s.len == 8 && memcmp(s.ptr, "Infinity", 8) == 0)
            return *out = INFINITY, 0;
        if (s.len == 9 && memcmp(s.ptr, "-Infinity", 9) == 0)
            return *out = -INFINITY, 0;
    } else if (t->kind != PTM_JSON_NUMBER) {
        return pbjson_fail(d, t, "expected a number");
    }
    int status = ptm_json_to_double(t->text, out);
    if (status == PTM_JSON_OUT_OF_RANGE)
        return pbjson_fail(d, t, "number out of range for a double");
    if (status != PTM_JSON_NUMBER_OK)
        return pbjson_fail(d, t, "expected a number");
    return 0;
}

int pbjson_read_bool(struct pbjson_decoder *d, const struct ptm_json_token *t, int64_t *out)
{
    if (t->kind != PTM_JSON_TRUE && t->kind != PTM_JSON_FALSE)
        return pbjson_fail(d, t, "expected true or false");
    *out = t->kind == PTM_JSON_TRUE;
    return 0;
}

int pbjson_read_string(struct pbjson_decoder *d, const struct ptm_json_token *t,
                       struct ptm_str *out)
{
    if (t->kind != PTM_JSON_STRING)
        return pbjson_fail(d, t, "expected a string");
    *out = t->text;
    return 0;
}

// ---- bytes: hex (OTLP's ids) and base64 ----

static int base64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

// Decode standard or URL-safe base64, padded or not, into out (room for
// s.len bytes), or only check it when out is NULL. The length, or -1.
static int64_t decode_base64(struct ptm_str s, uint8_t *out)
{
    const uint8_t *p = (const uint8_t *)s.ptr;
    size_t n = s.len;
    if (n % 4 == 0 && n > 0 && p[n - 1] == '=')
        n -= p[n - 2] == '=' ? 2 : 1;
    if (n % 4 == 1)
        return -1;
    uint32_t bits = 0;
    int have = 0;
    int64_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int v = base64_value(p[i]);
        if (v < 0)
            return -1;
        bits = bits << 6 | (uint32_t)v;
        have += 6;
        if (have >= 8) {
            have -= 8;
            if (out != NULL)
                out[len] = (uint8_t)(bits >> have);
            len++;
        }
    }
    return len;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool decode_hex(struct ptm_str s, uint8_t *out)
{
    const uint8_t *p = (const uint8_t *)s.ptr;
    for (uint32_t i = 0; i + 1 < s.len; i += 2) {
        int hi = hex_value(p[i]), lo = hex_value(p[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return s.len % 2 == 0;
}

// A bytes field: base64 (protobuf JSON), or, when hex is the size of an id
// in bytes, hex of exactly that size (OTLP JSON's trace, span and profile
// ids). Stored decoded in the arena.
int pbjson_read_bytes(struct pbjson_decoder *d, const struct ptm_json_token *t, uint32_t hex,
                      struct ptm_str *out)
{
    if (t->kind != PTM_JSON_STRING)
        return pbjson_fail(d, t, "%s", hex ? "expected a hex or base64 string"
                                           : "expected a base64 string");
    if (t->text.len == 0) {
        *out = (struct ptm_str){"", 0};
        return 0;
    }
    uint8_t *buf = ptm_arena_alloc(d->m->arena, t->text.len);
    if (buf == NULL)
        return pbjson_nomem(d);
    if (hex != 0 && t->text.len == 2 * hex && decode_hex(t->text, buf)) {
        *out = (struct ptm_str){(const char *)buf, hex};
        return 0;
    }
    int64_t n = decode_base64(t->text, buf);
    if (n < 0)
        return pbjson_fail(d, t, "%s", hex ? "expected a hex or base64 string"
                                           : "expected a base64 string");
    *out = (struct ptm_str){(const char *)buf, (uint32_t)n};
    return 0;
}

int pbjson_check_base64(struct pbjson_decoder *d, const struct ptm_json_token *t)
{
    if (t->kind != PTM_JSON_STRING || decode_base64(t->text, NULL) < 0)
        return pbjson_fail(d, t, "expected a base64 string");
    return 0;
}

// ---- lists of numbers ----

static int append_number(struct pbjson_decoder *d, const struct ptm_json_token *t,
                         enum pbjson_list_kind kind)
{
    struct ptm_model *m = d->m;
    int rc;
    if (kind == PBJSON_LIST_INDICES) {
        int32_t v;
        int32_t *slot;
        if ((rc = pbjson_read_int32(d, t, &v)) != 0)
            return rc;
        if ((slot = PTM_VEC_PUSH(m->indices)) == NULL)
            return pbjson_nomem(d);
        *slot = v;
    } else if (kind == PBJSON_LIST_VALUES) {
        int64_t v;
        int64_t *slot;
        if ((rc = pbjson_read_int64(d, t, &v)) != 0)
            return rc;
        if ((slot = PTM_VEC_PUSH(m->values)) == NULL)
            return pbjson_nomem(d);
        *slot = v;
    } else {
        uint64_t v;
        uint64_t *slot;
        if ((rc = pbjson_read_uint64(d, t, &v)) != 0)
            return rc;
        if ((slot = PTM_VEC_PUSH(m->timestamps)) == NULL)
            return pbjson_nomem(d);
        *slot = v;
    }
    return 0;
}

// A repeated int32 (to model->indices), int64 (model->values) or fixed64
// (model->timestamps) field: one contiguous range.
int pbjson_read_number_list(struct pbjson_decoder *d, const struct ptm_json_token *t,
                            enum pbjson_list_kind kind, struct ptm_range *out)
{
    struct ptm_model *m = d->m;
    if (t->kind != PTM_JSON_ARRAY)
        return pbjson_fail(d, t, "expected an array");
    out->off = kind == PBJSON_LIST_INDICES  ? m->indices.len
               : kind == PBJSON_LIST_VALUES ? m->values.len
                                            : m->timestamps.len;
    out->len = 0;
    for (;;) {
        struct ptm_json_token e;
        pbjson_path_set_index(d, out->len);
        int rc = pbjson_next(d, &e);
        if (rc != 0 || e.kind == PTM_JSON_ARRAY_END)
            return rc;
        rc = append_number(d, &e, kind);
        if (rc != 0)
            return rc;
        out->len++;
    }
}
