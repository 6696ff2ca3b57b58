// SPDX-License-Identifier: Apache-2.0
//
// The service's log (engine/server/log.c), read back from standard error
// sent to a file: one line per event in the "time level component:
// message" layout with newlines escaped, the level filter, and the
// rate-limited lines of ptm_log_limited (the first of a burst goes out, the
// next ones within the interval are left out, and the next line written
// says how many).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/log.h"

// Run body with standard error going to a file; returns what was written.
static char *capture(void (*body)(void))
{
    char path[] = "/tmp/ptm-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    body();
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    assert_int_equal(pread(fd, text, (size_t)size, 0), size);
    close(fd);
    unlink(path);
    return text;
}

static void lines_and_levels_body(void)
{
    ptm_log_set_level(PTM_LOG_LEVEL_INFO);
    ptm_log_debug("test", "not written");
    ptm_log_info("receiver/otlp", "two\nlines %d", 2);
    ptm_log_warn("test", "a warning");
}

static void lines_and_levels(void **state)
{
    char *text = capture(lines_and_levels_body);
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z info  "
                             "receiver/otlp: two\\\\nlines 2\n"
                             "[0-9T:.-]+Z warn  test: a warning\n$",
                             REG_EXTENDED),
                     0);
    if (regexec(&re, text, 0, NULL, 0) != 0)
        fail_msg("unexpected log: \"%s\"", text);
    regfree(&re);
    free(text);
}

static void limited_body(void)
{
    struct ptm_log_limiter l;
    ptm_log_limiter_init(&l, 200000000); // 200 ms
    for (int i = 1; i <= 4; i++)
        ptm_log_limited(&l, PTM_LOG_LEVEL_WARN, "receiver/otlp", "event %d", i);
    nanosleep(&(struct timespec){0, 250000000}, NULL);
    ptm_log_limited(&l, PTM_LOG_LEVEL_WARN, "receiver/otlp", "event %d", 5);
    ptm_log_limited(&l, PTM_LOG_LEVEL_WARN, "receiver/otlp", "event %d", 6);
    ptm_log_limiter_fini(&l);
}

static void limited(void **state)
{
    char *text = capture(limited_body);
    const char *first = strstr(text, "warn  receiver/otlp: event 1\n");
    const char *second = strstr(text, "warn  receiver/otlp: event 5 (and 3 more like it since the last such line)\n");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(second > first);
    int lines = 0;
    for (const char *p = text; *p != '\0'; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_and_levels),
        cmocka_unit_test(limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
