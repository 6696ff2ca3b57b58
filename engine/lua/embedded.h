// SPDX-License-Identifier: Apache-2.0
//
// The Lua runtime (scripts/) and built-in rules (rules/), compiled into the
// binary by engine/lua/embed.sh.
#pragma once

#include <stddef.h>

struct ptm_embedded_file {
    const char *path; // relative to the source tree, e.g. "rules/cpu.lua"
    const char *data; // NUL-terminated
    size_t len;
};

/// Every embedded file, ended by an entry whose path is NULL.
extern const struct ptm_embedded_file ptm_embedded_files[];
