// SPDX-License-Identifier: Apache-2.0
//
// Log lines, formatted whole and written with one write(2) so lines from
// different threads never interleave.
#include "server/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int min_level = PTM_LOG_LEVEL_INFO;

void ptm_log_set_level(enum ptm_log_level_value level)
{
    atomic_store(&min_level, (int)level);
}

// One line: the message of fmt and ap, then suffix (may be NULL).
static void log_line(enum ptm_log_level_value level, const char *component, const char *suffix, const char *fmt,
                     va_list ap)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if ((int)level < atomic_load(&min_level))
        return;
    char line[4096];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %-5s %s: ", ts.tv_nsec / 1000000,
                          names[level], component);
    char msg[3072];
    int len = vsnprintf(msg, sizeof msg, fmt, ap);
    if (suffix != NULL && len >= 0 && (size_t)len < sizeof msg)
        snprintf(msg + len, sizeof msg - (size_t)len, "%s", suffix);
    for (const char *p = msg; *p != '\0' && n < sizeof line - 3; p++) {
        if (*p == '\n') {
            line[n++] = '\\';
            line[n++] = 'n';
        } else {
            line[n++] = *p;
        }
    }
    line[n++] = '\n';
    ssize_t w = write(2, line, n);
    (void)w;
}

void ptm_log(enum ptm_log_level_value level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, component, NULL, fmt, ap);
    va_end(ap);
}

void ptm_log_limiter_init(struct ptm_log_limiter *l, uint64_t interval_ns)
{
    pthread_mutex_init(&l->lock, NULL);
    l->interval_ns = interval_ns;
    l->last_ns = 0;
    l->suppressed = 0;
}

void ptm_log_limiter_fini(struct ptm_log_limiter *l)
{
    pthread_mutex_destroy(&l->lock);
}

void ptm_log_limited(struct ptm_log_limiter *l, enum ptm_log_level_value level, const char *component,
                     const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    pthread_mutex_lock(&l->lock);
    bool write_it = l->last_ns == 0 || now - l->last_ns >= l->interval_ns;
    unsigned left_out = l->suppressed;
    if (write_it) {
        l->last_ns = now;
        l->suppressed = 0;
    } else {
        l->suppressed++;
    }
    pthread_mutex_unlock(&l->lock);
    if (!write_it)
        return;
    char suffix[96] = "";
    if (left_out > 0)
        snprintf(suffix, sizeof suffix, " (and %u more like it since the last such line)", left_out);
    va_list ap;
    va_start(ap, fmt);
    log_line(level, component, suffix, fmt, ap);
    va_end(ap);
}
