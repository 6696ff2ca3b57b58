// SPDX-License-Identifier: Apache-2.0
//
// A small JSON pull tokenizer for the OTLP JSON decoder. The caller asks for
// one token at a time; the tokenizer checks the grammar (commas, colons,
// brackets, string escapes, number syntax) and the nesting depth as it goes,
// and never reads past the end of its input. A string without escapes is
// handed out as a view into the input; one with escapes is unescaped into
// an arena. Bytes inside strings that are not valid UTF-8 are kept as they
// are. Every error names the line, column and byte where it was found.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "profiletometrics.h"

struct ptm_arena;

/// The deepest nesting the tokenizer can track; larger limits are clamped.
#define PTM_JSON_DEPTH_CAP 1024

enum ptm_json_kind {
    PTM_JSON_EOF = 0,    // nothing but white space after the top-level value
    PTM_JSON_OBJECT,     // '{'
    PTM_JSON_OBJECT_END, // '}'
    PTM_JSON_ARRAY,      // '['
    PTM_JSON_ARRAY_END,  // ']'
    PTM_JSON_KEY,        // an object member's name, unescaped in text
    PTM_JSON_STRING,     // unescaped in text
    PTM_JSON_NUMBER,     // the literal as written in text
    PTM_JSON_TRUE,
    PTM_JSON_FALSE,
    PTM_JSON_NULL,
};

struct ptm_json_token {
    uint8_t kind;          // enum ptm_json_kind
    bool integer;          // NUMBER: written without fraction or exponent
    struct ptm_str text;   // KEY, STRING, NUMBER; borrowed from the input or the arena
    const uint8_t *at;     // the token's first byte, for error positions
};

/// The tokenizer's state. Plain data: copying it makes an independent
/// look-ahead cursor (ptm_json_count_elements does so).
struct ptm_json {
    const uint8_t *p;          // the next unread byte
    const uint8_t *end;        // the end of the range being parsed
    const uint8_t *input;      // the whole input, for byte offsets in errors
    const uint8_t *line_start; // where line `line` starts, for line and column
    uint32_t line;
    int depth;
    int max_depth;
    uint8_t state;
    bool unescape;             // false while skipping: escapes are checked, not copied
    struct ptm_arena *arena;   // unescaped strings; borrowed
    struct ptm_error *err;     // may be NULL
    const uint8_t *error_at;   // where the last error was found; NULL before any
    uint64_t containers[PTM_JSON_DEPTH_CAP / 64]; // bit set: that level is an array
};

/// Start tokenizing input[begin, end). input is the whole buffer (byte
/// offsets in errors count from it); begin is the start of line number
/// `line`. max_depth bounds the nesting of objects and arrays (at most
/// PTM_JSON_DEPTH_CAP). The arena receives unescaped strings; err, which may
/// be NULL, receives error messages.
void ptm_json_init(struct ptm_json *j, const uint8_t *input, size_t begin, size_t end,
                   uint32_t line, int max_depth, struct ptm_arena *arena, struct ptm_error *err);

/// Read the next token into *t. Returns 0, PTM_EFORMAT for malformed JSON
/// (including data after the top-level value), PTM_ELIMIT for nesting past
/// max_depth, or PTM_ENOMEM; err then says what and where.
int ptm_json_next(struct ptm_json *j, struct ptm_json_token *t);

/// Skip the rest of the value whose first token is *first: nothing for a
/// scalar, everything up to the matching bracket for an object or array.
/// The skipped part is checked like any other but no string is copied.
int ptm_json_skip(struct ptm_json *j, const struct ptm_json_token *first);

/// The number of elements of the array whose '[' token was just read,
/// found by a look-ahead that leaves *j where it is (but for error_at).
/// Returns 0 or an error like ptm_json_next.
int ptm_json_count_elements(struct ptm_json *j, uint32_t *count);

/// True when the top-level value is complete.
bool ptm_json_done(const struct ptm_json *j);

/// Report a problem found at `at` (a byte of the input): sets err to the
/// message followed by " at line L, column C (byte B)", remembers `at` in
/// error_at, and returns PTM_EFORMAT.
int ptm_json_error(struct ptm_json *j, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

enum ptm_json_number_status {
    PTM_JSON_NUMBER_OK = 0,
    PTM_JSON_NOT_A_NUMBER,   // text is not a JSON number
    PTM_JSON_NOT_AN_INTEGER, // a number with a nonzero fraction
    PTM_JSON_OUT_OF_RANGE,   // an integer too large for the type
};

/// Convert text written as a JSON number (e.g. "-12", "1.5e3", also when it
/// came inside a string) to an exact int64_t. Returns a status.
int ptm_json_to_int64(struct ptm_str text, int64_t *out);

/// The same for uint64_t; negative values are out of range ("-0" is 0).
int ptm_json_to_uint64(struct ptm_str text, uint64_t *out);

/// Convert text written as a JSON number to the nearest double.
int ptm_json_to_double(struct ptm_str text, double *out);
