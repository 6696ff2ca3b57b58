// SPDX-License-Identifier: Apache-2.0
//
// profiletometrics: turn profiles (OTLP profiles, pprof) into OpenTelemetry
// metrics. This header is the whole public C API; everything in it is
// prefixed `ptm_`/`PTM_`.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PTM_VERSION_MAJOR 0
#define PTM_VERSION_MINOR 1
#define PTM_VERSION_PATCH 0
#define PTM_VERSION_STRING "0.1.0"

/// Error codes. Functions return 0 on success or one of these (negative).
enum ptm_err {
    PTM_OK = 0,
    PTM_ENOMEM = -1,       ///< out of memory
    PTM_EINVAL = -2,       ///< bad argument from the caller
    PTM_EFORMAT = -3,      ///< malformed input data
    PTM_EUNSUPPORTED = -4, ///< well-formed input of a version or kind not supported
    PTM_ELIMIT = -5,       ///< a configured size, depth or count limit was exceeded
    PTM_EIO = -6,          ///< reading or writing a file failed
    PTM_ECONFIG = -7,      ///< bad configuration
    PTM_ERULE = -8,        ///< a rule script failed to load or run
};

/// What went wrong, with a message a user can act on: what, and where
/// (file, message, field, index, line). Caller-owned storage.
struct ptm_error {
    int code;           ///< one of enum ptm_err
    char message[1024]; ///< NUL-terminated, never empty when code != 0
};

/// A static English description of an error code. Never NULL.
const char *ptm_strerror(int code);

/// The library's version as "MAJOR.MINOR.PATCH". Static, never NULL.
const char *ptm_version(void);

#ifdef __cplusplus
}
#endif
