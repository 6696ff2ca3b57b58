// SPDX-License-Identifier: Apache-2.0
//
// The memory_limiter (engine/server/memory_limiter.c): admission against the
// soft limit, counting the requests admitted and still being decoded (4x
// their bytes); the release callback while at or above the soft limit; the
// limits worked out from limit_percentage of the memory /proc/meminfo
// reports; what it publishes. Limits are set relative to this process's
// resident memory as read here, with margins far larger than what the test
// itself allocates.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "server/memory_limiter.h"
#include "server/telemetry.h"
#include "util/error.h"

#define MIB ((uint64_t)1 << 20)

static int releases;

static void count_release(void *ctx)
{
    (void)ctx;
    __atomic_add_fetch(&releases, 1, __ATOMIC_SEQ_CST);
}

static struct ptm_memory_limiter *start(struct ptm_telemetry *t, uint64_t limit, uint64_t spike,
                                        uint64_t check_ns)
{
    struct ptm_memory_limiter_config cfg = {.check_interval = check_ns, .limit = limit, .spike_limit = spike};
    struct ptm_error err = {0};
    struct ptm_memory_limiter *l = ptm_memory_limiter_start("memory_limiter", &cfg, count_release, NULL, t, &err);
    if (l == NULL)
        fail_msg("start: %s", err.message);
    return l;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

// The soft limit is 40 MiB above the resident memory now: requests of
// 4 MiB (16 MiB while decoded) pass twice, the third would cross it.
static void admission_counts_requests_being_decoded(void **state)
{
    (void)state;
    struct ptm_telemetry *t = ptm_telemetry_create();
    uint64_t resident = ptm_resident_bytes();
    assert_true(resident > 0);
    struct ptm_memory_limiter *l = start(t, resident + 60 * MIB, 20 * MIB, 3600ull * 1000000000u);
    char why[256] = "";
    assert_true(ptm_memory_limiter_admit(l, 4 * MIB, why, sizeof why));
    assert_true(ptm_memory_limiter_admit(l, 4 * MIB, why, sizeof why));
    assert_false(ptm_memory_limiter_admit(l, 4 * MIB, why, sizeof why));
    assert_non_null(strstr(why, "above the memory_limiter's soft limit"));
    assert_non_null(strstr(why, "retry later"));
    ptm_memory_limiter_decoded(l, 4 * MIB); // one is decoded: room again
    assert_true(ptm_memory_limiter_admit(l, 4 * MIB, why, sizeof why));
    ptm_memory_limiter_decoded(l, 4 * MIB);
    ptm_memory_limiter_decoded(l, 4 * MIB);
    ptm_memory_limiter_stop(l);
    // No limiter: everything passes.
    assert_true(ptm_memory_limiter_admit(NULL, 1u << 30, why, sizeof why));
    ptm_memory_limiter_decoded(NULL, 1u << 30);
    ptm_telemetry_destroy(t);
}

// Under the soft limit the thread gives nothing back and says so; above
// it, it asks for memory back at every check and publishes the state.
static void release_while_above_the_soft_limit(void **state)
{
    (void)state;
    struct ptm_telemetry *t = ptm_telemetry_create();
    uint64_t resident = ptm_resident_bytes();
    releases = 0;
    struct ptm_memory_limiter *l = start(t, resident + 512 * MIB, 0, 10 * 1000000u);
    sleep_ms(100);
    assert_int_equal(__atomic_load_n(&releases, __ATOMIC_SEQ_CST), 0);
    assert_true(ptm_telemetry_get(t, "ptm_service_memory_limited", NULL) == 0);
    assert_true(ptm_telemetry_get(t, "ptm_service_memory_soft_limit_bytes", NULL) ==
                (double)(resident + 512 * MIB));
    ptm_memory_limiter_stop(l);

    l = start(t, 2 * MIB, MIB, 10 * 1000000u); // far below what any process uses
    for (int i = 0; i < 500 && __atomic_load_n(&releases, __ATOMIC_SEQ_CST) < 3; i++)
        sleep_ms(10);
    assert_true(__atomic_load_n(&releases, __ATOMIC_SEQ_CST) >= 3);
    ptm_memory_limiter_stop(l); // joins the thread: what it published is there
    assert_true(ptm_telemetry_get(t, "ptm_service_memory_limited", NULL) == 1);
    assert_true(ptm_telemetry_get(t, "ptm_service_memory_resident_bytes", NULL) > 0);
    char why[256];
    l = start(t, 2 * MIB, MIB, 3600ull * 1000000000u);
    assert_false(ptm_memory_limiter_admit(l, 1, why, sizeof why));
    assert_non_null(strstr(why, "soft limit of 1 MiB"));
    ptm_memory_limiter_stop(l);
    ptm_telemetry_destroy(t);
}

// limit_percentage and spike_limit_percentage are of the machine's memory
// (or a cgroup's limit, when lower): 50% - 10% of MemTotal here, unless a
// cgroup limits this process to less.
static void percentage_of_the_machine(void **state)
{
    (void)state;
    unsigned long long kib = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "MemTotal: %llu kB", &kib), 1);
    fclose(f);
    uint64_t total = kib * 1024;
    static const char *const cgroup_files[] = {"/sys/fs/cgroup/memory.max",
                                               "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (size_t i = 0; i < 2; i++) {
        FILE *cg = fopen(cgroup_files[i], "r");
        unsigned long long cgroup = 0;
        if (cg == NULL)
            continue;
        if (fscanf(cg, "%llu", &cgroup) == 1 && cgroup != 0 && cgroup < total) // "max": no limit
            total = cgroup;
        fclose(cg);
    }
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct ptm_memory_limiter_config cfg = {
        .check_interval = 3600ull * 1000000000u, .limit_percentage = 50, .spike_limit_percentage = 10};
    struct ptm_error err = {0};
    struct ptm_memory_limiter *l = ptm_memory_limiter_start("memory_limiter", &cfg, count_release, NULL, t, &err);
    assert_non_null(l);
    assert_true(ptm_telemetry_get(t, "ptm_service_memory_soft_limit_bytes", NULL) ==
                (double)(total / 100 * 50 - total / 100 * 10));
    ptm_memory_limiter_stop(l);
    ptm_telemetry_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admission_counts_requests_being_decoded),
        cmocka_unit_test(release_while_above_the_soft_limit),
        cmocka_unit_test(percentage_of_the_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
