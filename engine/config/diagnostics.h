// SPDX-License-Identifier: Apache-2.0
//
// Lists of configuration errors and warnings. Loading a file collects every
// problem it finds, not just the first, so a user fixes a file in one pass.
// Each entry knows where it points (line, column, key path) and carries the
// full text "FILE:LINE:COLUMN: KEY.PATH: message" ready to print.
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/// One error or warning. Strings are owned by the list that holds it.
struct ptm_config_diagnostic {
    uint32_t line;       ///< 1-based; 0 when the problem has no position (a missing file)
    uint32_t column;     ///< 1-based; 0 when line is 0
    const char *path;    ///< key path such as "exporters.otlp.endpoint"; "" for none
    const char *message; ///< what is wrong, without position or path
    const char *text;    ///< "FILE:LINE:COLUMN: PATH: message", the line to print
};

/// A growable list of diagnostics. Zero-initialise; free with
/// ptm_config_diagnostics_fini. If an allocation fails the entry is dropped and
/// out_of_memory is set: the caller reports that instead.
struct ptm_config_diagnostics {
    struct ptm_config_diagnostic *items;
    size_t count;
    size_t cap;
    int out_of_memory;
};

/// Append a diagnostic. file names the configuration (may be NULL: no file
/// prefix); path may be NULL or "" for none; line 0 means no position.
void ptm_config_diagnostics_add(struct ptm_config_diagnostics *list, const char *file, uint32_t line,
                                uint32_t column, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/// Like ptm_config_diagnostics_add with a va_list.
void ptm_config_diagnostics_addv(struct ptm_config_diagnostics *list, const char *file, uint32_t line,
                                 uint32_t column, const char *path, const char *fmt, va_list ap);

/// Order the list by position (line, then column), keeping the order of
/// entries at the same position. Entries without a position come first.
void ptm_config_diagnostics_sort(struct ptm_config_diagnostics *list);

/// Move every entry of from to the end of to; from is left empty.
/// Returns 0, or -1 when out of memory (nothing moved).
int ptm_config_diagnostics_move(struct ptm_config_diagnostics *to, struct ptm_config_diagnostics *from);

/// Append a copy of every entry of from to to. Returns 0, or -1 when out of
/// memory (to then holds part of the copy and has out_of_memory set).
int ptm_config_diagnostics_copy(struct ptm_config_diagnostics *to, const struct ptm_config_diagnostics *from);

/// Free the entries and the list's storage. NULL is a no-op.
void ptm_config_diagnostics_fini(struct ptm_config_diagnostics *list);
