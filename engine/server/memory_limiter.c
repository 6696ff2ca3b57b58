// SPDX-License-Identifier: Apache-2.0
//
// The memory_limiter processor: see memory_limiter.h. A thread reads the
// resident memory every check_interval and, at or above the soft limit,
// asks the service to give back what it can; admission reads the resident
// memory afresh (a read of /proc/self/statm costs microseconds, a request
// milliseconds), so a burst is refused as soon as it crosses the limit.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/log.h"
#include "server/memory_limiter.h"
#include "util/error.h"

#define MIB (1024.0 * 1024.0)
#define RESIDENT "ptm_service_memory_resident_bytes"
#define SOFT_LIMIT "ptm_service_memory_soft_limit_bytes"
#define LIMITED "ptm_service_memory_limited"
// What decoding a request takes, per byte of it (the model is 3 to 8 times
// the protobuf bytes: reference/performance-limits.md).
#define DECODE_FACTOR 4

struct ptm_memory_limiter {
    char component[160]; // "processor/ID"
    uint64_t limit, soft_limit, check_interval;
    ptm_memory_release release;
    void *ctx;
    struct ptm_telemetry *telemetry;
    atomic_bool limited; // at or above the soft limit at the last look
    atomic_uint_fast64_t refused; // requests refused since the last look
    atomic_uint_fast64_t decoding; // bytes reserved by requests admitted and not yet decoded
    atomic_uint_fast64_t last_release; // CLOCK_MONOTONIC ns of the last release asked for
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

// The first number of a small text file, or 0.
static uint64_t read_number(const char *path, size_t field)
{
    char buf[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = buf;
    for (size_t i = 0; i < field && p != NULL; i++) {
        p = strchr(p, ' ');
        p = p != NULL ? p + 1 : NULL;
    }
    return p != NULL ? strtoull(p, NULL, 10) : 0;
}

uint64_t ptm_resident_bytes(void)
{
    // statm: size resident shared text lib data dt, in pages
    return read_number("/proc/self/statm", 1) * (uint64_t)sysconf(_SC_PAGESIZE);
}

// The memory the process may use: the machine's, or less when a cgroup
// (v2, then v1) sets a limit. 0 when unknown.
static uint64_t total_memory(void)
{
    uint64_t total = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f != NULL) {
        unsigned long long kib;
        if (fscanf(f, "MemTotal: %llu kB", &kib) == 1)
            total = (uint64_t)kib * 1024;
        fclose(f);
    }
    static const char *const cgroup_limits[] = {"/sys/fs/cgroup/memory.max",
                                                "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (size_t i = 0; i < sizeof cgroup_limits / sizeof cgroup_limits[0]; i++) {
        uint64_t c = read_number(cgroup_limits[i], 0); // "max" reads as 0: no limit
        if (c != 0 && (total == 0 || c < total))
            total = c;
    }
    return total;
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Ask for memory back, unless that was done less than a check_interval ago
// (from the thread or a refusing request: giving back takes milliseconds,
// and under overload every request would ask). True when done here.
static bool release_now(struct ptm_memory_limiter *l)
{
    uint64_t now = monotonic_ns(), last = atomic_load(&l->last_release);
    if (now - last < l->check_interval || !atomic_compare_exchange_strong(&l->last_release, &last, now))
        return false;
    l->release(l->ctx);
    return true;
}

static void publish(struct ptm_memory_limiter *l, uint64_t resident)
{
    ptm_telemetry_set(l->telemetry, RESIDENT, NULL, (double)resident);
    ptm_telemetry_set(l->telemetry, LIMITED, NULL, atomic_load(&l->limited));
}

// One look: give memory back while at or above the soft limit, or when
// requests were refused since the last look, and note (logging each change)
// whether it is still above.
static void check(struct ptm_memory_limiter *l)
{
    uint64_t before = ptm_resident_bytes(), resident = before;
    uint64_t refused = atomic_exchange(&l->refused, 0);
    if ((resident >= l->soft_limit || refused != 0) && release_now(l))
        resident = ptm_resident_bytes();
    bool over = resident >= l->soft_limit;
    bool was = atomic_exchange(&l->limited, over);
    if (refused != 0) // one line per check at most, however many were refused
        ptm_log_warn(l->component,
                     "%" PRIu64 " requests refused (429 / RESOURCE_EXHAUSTED) in the last %.3g s: resident memory "
                     "reached the soft limit %.0f MiB; it is %.0f MiB now (%.0f MiB before memory was given back)",
                     refused, (double)l->check_interval / 1e9, (double)l->soft_limit / MIB, (double)resident / MIB,
                     (double)before / MIB);
    if (over && !was)
        ptm_log_warn(l->component,
                     "resident memory %.0f MiB is at or above the soft limit %.0f MiB: profiles are refused "
                     "(429 / RESOURCE_EXHAUSTED) until it falls (%.0f MiB before memory was given back)",
                     (double)resident / MIB, (double)l->soft_limit / MIB, (double)before / MIB);
    else if (!over && was)
        ptm_log_info(l->component, "resident memory %.0f MiB is below the soft limit %.0f MiB: profiles are taken again",
                     (double)resident / MIB, (double)l->soft_limit / MIB);
    publish(l, resident);
}

static void *limiter_main(void *arg)
{
    struct ptm_memory_limiter *l = arg;
    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        pthread_mutex_unlock(&l->lock);
        check(l);
        pthread_mutex_lock(&l->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + l->check_interval;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        while (!l->stopping && pthread_cond_timedwait(&l->wake, &l->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

static int work_out_limits(struct ptm_memory_limiter *l, const struct ptm_memory_limiter_config *cfg,
                           const char *id, struct ptm_error *err)
{
    l->limit = cfg->limit;
    uint64_t spike = cfg->spike_limit;
    if (l->limit == 0) {
        uint64_t total = total_memory();
        if (total == 0)
            return ptm_error_set(err, PTM_ECONFIG,
                                 "processors.%s: limit_percentage needs the machine's memory, which cannot be read "
                                 "from /proc/meminfo; give limit_mib",
                                 id);
        l->limit = total / 100 * cfg->limit_percentage;
        spike = total / 100 * cfg->spike_limit_percentage;
    }
    l->soft_limit = l->limit - spike; // the configuration makes spike < limit
    return 0;
}

struct ptm_memory_limiter *ptm_memory_limiter_start(const char *id, const struct ptm_memory_limiter_config *cfg,
                                                    ptm_memory_release release, void *ctx,
                                                    struct ptm_telemetry *telemetry, struct ptm_error *err)
{
    struct ptm_memory_limiter *l = calloc(1, sizeof *l);
    if (l == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "processors.%s: out of memory", id);
        return NULL;
    }
    snprintf(l->component, sizeof l->component, "processor/%s", id);
    l->check_interval = cfg->check_interval;
    l->release = release;
    l->ctx = ctx;
    l->telemetry = telemetry;
    if (work_out_limits(l, cfg, id, err) != 0) {
        free(l);
        return NULL;
    }
    ptm_telemetry_describe(telemetry, RESIDENT, PTM_TELEMETRY_GAUGE, "The process's resident memory");
    ptm_telemetry_describe(telemetry, SOFT_LIMIT, PTM_TELEMETRY_GAUGE,
                           "The memory_limiter's soft limit (limit - spike limit): profiles are refused above it");
    ptm_telemetry_describe(telemetry, LIMITED, PTM_TELEMETRY_GAUGE,
                           "1 while resident memory is above the soft limit and profiles are refused");
    ptm_telemetry_set(telemetry, SOFT_LIMIT, NULL, (double)l->soft_limit);
    pthread_mutex_init(&l->lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&l->wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    if (pthread_create(&l->thread, NULL, limiter_main, l) != 0) {
        pthread_cond_destroy(&l->wake);
        pthread_mutex_destroy(&l->lock);
        free(l);
        ptm_error_set(err, PTM_ENOMEM, "processors.%s: cannot start its thread", id);
        return NULL;
    }
    ptm_log_info(l->component, "refusing profiles while resident memory is at or above %.0f MiB (limit %.0f MiB), "
                               "checked every %.3g s",
                 (double)l->soft_limit / MIB, (double)l->limit / MIB, (double)l->check_interval / 1e9);
    return l;
}

void ptm_memory_limiter_stop(struct ptm_memory_limiter *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_cond_broadcast(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void ptm_memory_limiter_decoded(struct ptm_memory_limiter *l, size_t len)
{
    if (l != NULL)
        atomic_fetch_sub(&l->decoding, (uint64_t)len * DECODE_FACTOR);
}

bool ptm_memory_limiter_admit(struct ptm_memory_limiter *l, size_t len, char *message, size_t size)
{
    if (l == NULL)
        return true;
    uint64_t need = (uint64_t)len * DECODE_FACTOR;
    uint64_t decoding = atomic_fetch_add(&l->decoding, need);
    uint64_t resident = ptm_resident_bytes();
    if (resident + decoding + need < l->soft_limit)
        return true;
    // Before refusing: memory kept only for speed may be what is in the way
    // (at a low rate too: a few idle request buffers can fill the room).
    if (release_now(l) && (resident = ptm_resident_bytes()) + decoding + need < l->soft_limit)
        return true;
    atomic_fetch_sub(&l->decoding, need);
    atomic_fetch_add(&l->refused, 1);
    snprintf(message, size,
             "resident memory %.0f MiB is above the memory_limiter's soft limit of %.0f MiB; retry later",
             (double)resident / MIB, (double)l->soft_limit / MIB);
    return false;
}
