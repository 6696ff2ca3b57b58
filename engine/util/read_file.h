// SPDX-License-Identifier: Apache-2.0
//
// Reading a whole file or stream into memory: what the command line and
// ptm_converter_feed_file do with their inputs.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "profiletometrics.h"

/// Read all of f into *data (malloc'ed, caller frees) and *len; name is
/// what messages call it. Returns 0, PTM_ENOMEM or PTM_EIO with err naming
/// it and the reason.
int ptm_read_stream(FILE *f, const char *name, uint8_t **data, size_t *len, struct ptm_error *err);

/// Read the file at path the same way. PTM_EIO when it cannot be opened or
/// is a directory.
int ptm_read_file(const char *path, uint8_t **data, size_t *len, struct ptm_error *err);
