// SPDX-License-Identifier: Apache-2.0
//
// Reading the protobuf JSON mapping on top of the JSON tokenizer: messages
// described by tables of keys (lowerCamelCase and snake_case spellings),
// repeated fields, and the mapping's scalar rules (64-bit integers as strings
// or numbers, bytes as base64, "NaN" and "Infinity" for doubles, null for an
// unset field, unknown keys skipped). Every error names the path of keys and
// array indices that leads to the bad value, and its line and column. The
// OTLP JSON decoder (otlp_json.c) describes its messages with these.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/json.h"
#include "model/model.h"

#define PBJSON_MAX_PATH 16
#define PBJSON_NO_INDEX UINT32_MAX

/// The reading state: the tokenizer, the model values go to, and the path.
/// Embed it as the first member of a decoder that needs more state.
struct pbjson_decoder {
    struct ptm_model *m;   // number lists and decoded bytes go here; borrowed
    struct ptm_json j;
    struct ptm_error *err; // may be NULL
    const char *path_name[PBJSON_MAX_PATH];
    uint32_t path_index[PBJSON_MAX_PATH];
    int depth;             // of the path; may exceed PBJSON_MAX_PATH
    unsigned marks;        // the marks of every known key seen
};

/// A field of a message: its two spellings, the id the message's reader
/// switches on (two entries may share one), and marks ORed into
/// pbjson_decoder.marks when the key is seen.
struct pbjson_field {
    const char *camel, *snake;
    uint8_t camel_len, snake_len;
    uint8_t id; // below 32
    uint8_t marks;
};

#define PBJSON_FIELD(id, camel, snake, marks) \
    {camel, snake, sizeof camel - 1, sizeof snake - 1, id, marks}

/// Read the value (first token t, never null) of the field `id` into out.
typedef int (*pbjson_field_reader)(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                                   void *out);

struct pbjson_message {
    const struct pbjson_field *fields;
    size_t n_fields;
    pbjson_field_reader read;
};

#define PBJSON_MESSAGE(fields, reader) {fields, sizeof fields / sizeof fields[0], reader}

/// Read one element (first token t) of an array.
typedef int (*pbjson_element_reader)(struct pbjson_decoder *d, const struct ptm_json_token *t,
                                     void *ctx);

/// Report a problem with the value starting at t, prefixed with the path.
/// Returns PTM_EFORMAT.
int pbjson_fail(struct pbjson_decoder *d, const struct ptm_json_token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/// Report that memory ran out. Returns PTM_ENOMEM.
int pbjson_nomem(struct pbjson_decoder *d);

/// The next token; a tokenizer error gets the path in front.
int pbjson_next(struct pbjson_decoder *d, struct ptm_json_token *t);

/// The number of elements of the array starting at t, by a look-ahead.
int pbjson_count_elements(struct pbjson_decoder *d, const struct ptm_json_token *t, uint32_t *n);

/// Set the array index of the innermost path entry.
void pbjson_path_set_index(struct pbjson_decoder *d, uint32_t index);

/// An object whose '{' is t: each known key's value goes to msg->read with
/// out, null values are left unset, unknown keys are skipped, a key given
/// twice (in either spelling) is an error.
int pbjson_read_object(struct pbjson_decoder *d, const struct ptm_json_token *t,
                       const struct pbjson_message *msg, void *out);

/// An array whose '[' is t: each element goes to read with ctx.
int pbjson_read_array(struct pbjson_decoder *d, const struct ptm_json_token *t,
                      pbjson_element_reader read, void *ctx);

/// Integers, as JSON numbers or strings holding one, range-checked.
int pbjson_read_int32(struct pbjson_decoder *d, const struct ptm_json_token *t, int32_t *out);
int pbjson_read_uint32(struct pbjson_decoder *d, const struct ptm_json_token *t, uint32_t *out);
int pbjson_read_int64(struct pbjson_decoder *d, const struct ptm_json_token *t, int64_t *out);
int pbjson_read_uint64(struct pbjson_decoder *d, const struct ptm_json_token *t, uint64_t *out);

/// A double: a number, a string holding one, or "NaN", "Infinity", "-Infinity".
int pbjson_read_double(struct pbjson_decoder *d, const struct ptm_json_token *t, double *out);

/// true or false, as 1 or 0.
int pbjson_read_bool(struct pbjson_decoder *d, const struct ptm_json_token *t, int64_t *out);

/// A string: a view into the input or the arena (see ptm_json_next).
int pbjson_read_string(struct pbjson_decoder *d, const struct ptm_json_token *t,
                       struct ptm_str *out);

/// Bytes as base64 (standard or URL-safe, padded or not), decoded into the
/// model's arena. When hex is not 0, a string of exactly 2 * hex hex digits
/// is read as hex instead (OTLP JSON writes trace, span and profile ids so).
int pbjson_read_bytes(struct pbjson_decoder *d, const struct ptm_json_token *t, uint32_t hex,
                      struct ptm_str *out);

/// Check that t is a base64 string without keeping its bytes.
int pbjson_check_base64(struct pbjson_decoder *d, const struct ptm_json_token *t);

enum pbjson_list_kind {
    PBJSON_LIST_INDICES,    // int32 into model->indices
    PBJSON_LIST_VALUES,     // int64 into model->values
    PBJSON_LIST_TIMESTAMPS, // uint64 into model->timestamps
};

/// A repeated integer field appended to one of the model's number tables
/// as one contiguous range.
int pbjson_read_number_list(struct pbjson_decoder *d, const struct ptm_json_token *t,
                            enum pbjson_list_kind kind, struct ptm_range *out);
