// SPDX-License-Identifier: Apache-2.0
//
// The service's log: one line per event on stderr,
//   2026-11-26T16:00:00.123Z info  receiver/otlp: listening on 0.0.0.0:4318
// with a level filter set from service.telemetry.logs.level. Thread-safe:
// each line is written with one call.
#pragma once

enum ptm_log_level_value {
    PTM_LOG_LEVEL_DEBUG = 0,
    PTM_LOG_LEVEL_INFO,
    PTM_LOG_LEVEL_WARN,
    PTM_LOG_LEVEL_ERROR,
};

/// Only lines at level or above are written (default info).
void ptm_log_set_level(enum ptm_log_level_value level);

/// Write one line: time, level, component, message. A newline in the
/// message is written as "\n" so a line stays a line.
void ptm_log(enum ptm_log_level_value level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ptm_log_debug(c, ...) ptm_log(PTM_LOG_LEVEL_DEBUG, c, __VA_ARGS__)
#define ptm_log_info(c, ...) ptm_log(PTM_LOG_LEVEL_INFO, c, __VA_ARGS__)
#define ptm_log_warn(c, ...) ptm_log(PTM_LOG_LEVEL_WARN, c, __VA_ARGS__)
#define ptm_log_error(c, ...) ptm_log(PTM_LOG_LEVEL_ERROR, c, __VA_ARGS__)
