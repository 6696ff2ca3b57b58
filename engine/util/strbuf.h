// SPDX-License-Identifier: Apache-2.0
//
// A growable byte buffer for building output (JSON, text, exposition
// formats), with the escaping every text format here needs: JSON strings
// and UTF-8 repair (profiles may carry any bytes; our output never does).
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ptm_strbuf {
    char *data; // NUL-terminated when non-NULL
    size_t len;
    size_t cap;
    bool failed; // an allocation failed; appends became no-ops
};

void ptm_strbuf_free(struct ptm_strbuf *sb);

/// Forget the contents, keep the memory.
void ptm_strbuf_clear(struct ptm_strbuf *sb);

void ptm_strbuf_append(struct ptm_strbuf *sb, const void *data, size_t len);
/// Make room for more bytes at once (a body whose length is known): the
/// appends up to it then copy each byte once. False when out of memory.
bool ptm_strbuf_reserve(struct ptm_strbuf *sb, size_t more);
void ptm_strbuf_puts(struct ptm_strbuf *sb, const char *s);
void ptm_strbuf_putc(struct ptm_strbuf *sb, char c);
void ptm_strbuf_printf(struct ptm_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ptm_strbuf_vprintf(struct ptm_strbuf *sb, const char *fmt, va_list ap);

/// Append len bytes of s as valid UTF-8: every byte sequence that is not
/// well-formed UTF-8 becomes U+FFFD.
void ptm_strbuf_utf8(struct ptm_strbuf *sb, const char *s, size_t len);

/// Append s as a quoted JSON string, escaped, with invalid UTF-8 repaired.
void ptm_strbuf_json_string(struct ptm_strbuf *sb, const char *s, size_t len);

/// Length of the well-formed UTF-8 sequence at s (1-4), or 0 if the bytes
/// there are not one.
size_t ptm_utf8_sequence(const unsigned char *s, size_t len);

/// True when all len bytes are well-formed UTF-8.
bool ptm_utf8_valid(const char *s, size_t len);

/// A malloc'ed copy of s, or NULL when s is NULL. When out of memory:
/// NULL, and *failed set (it is never cleared), so a run of copies is
/// checked once.
char *ptm_strdup_or_null(const char *s, bool *failed);
