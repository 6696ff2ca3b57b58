// SPDX-License-Identifier: Apache-2.0
//
// The service's log: one line per event on stderr,
//   2026-11-26T16:00:00.123Z info  receiver/otlp: listening on 0.0.0.0:4318
// with a level filter set from service.telemetry.logs.level. Thread-safe:
// each line is written with one call.
#pragma once

#include <pthread.h>
#include <stdint.h>

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

/// A budget of one line per interval for a kind of event that may come in
/// floods (refused connections, timeouts): the first line goes out, the
/// next ones within the interval are counted, and the next line written
/// says how many were left out.
struct ptm_log_limiter {
    pthread_mutex_t lock;
    uint64_t interval_ns;
    uint64_t last_ns; ///< CLOCK_MONOTONIC of the last line written; 0: none yet
    unsigned suppressed;
};

void ptm_log_limiter_init(struct ptm_log_limiter *l, uint64_t interval_ns);
void ptm_log_limiter_fini(struct ptm_log_limiter *l);

/// ptm_log within l's budget.
void ptm_log_limited(struct ptm_log_limiter *l, enum ptm_log_level_value level, const char *component,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
