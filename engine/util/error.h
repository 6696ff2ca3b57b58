// SPDX-License-Identifier: Apache-2.0
//
// Filling a struct ptm_error. Every message names what went wrong and where,
// so a user can find the bad byte, key or line without a debugger.
#pragma once

#include <stdarg.h>

#include "profiletometrics.h"

/// Set err (which may be NULL) to code and a printf-style message. Returns
/// code, so that `return ptm_error_set(err, PTM_EFORMAT, ...)` reads well.
int ptm_error_set(struct ptm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/// Like ptm_error_set with a va_list.
int ptm_error_setv(struct ptm_error *err, int code, const char *fmt, va_list ap);

/// Put "prefix: " in front of the message already in err (no-op if NULL).
void ptm_error_prefix(struct ptm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/// Clear err (no-op if NULL).
void ptm_error_clear(struct ptm_error *err);
