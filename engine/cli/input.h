// SPDX-License-Identifier: Apache-2.0
//
// Reading inputs for the command line: a whole file, or standard input for
// "-", into memory the caller frees.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "profiletometrics.h"

/// Read path ("-" = stdin) into *data (malloc'ed, caller frees) and *len.
/// Returns 0 or PTM_EIO with err naming the file and the reason.
int ptm_read_input(const char *path, uint8_t **data, size_t *len, struct ptm_error *err);

/// Parse a --format value ("auto", "otlp", "otlp-json", "otlp-framed",
/// "pprof"); returns -1 when unknown.
int ptm_parse_format(const char *text);

/// Parse an --otlp-version value ("1.8", "v1.10", "11", ...) into 8..11;
/// returns -1 when unknown.
int ptm_parse_otlp_version(const char *text);
