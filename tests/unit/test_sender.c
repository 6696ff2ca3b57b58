// SPDX-License-Identifier: Apache-2.0
//
// The network exporters' shared parts (engine/server/sender.c,
// disk_queue.c, http_client.c): backoff timing worked out by hand, with an
// injected clock and random source; Retry-After in seconds and in the
// three HTTP-date forms; the queue driven through a scripted transport
// (order, the full-queue policy, retries, permanent failures, partial
// success, Retry-After, giving up after max_elapsed_time, shutdown); the
// on-disk queue (write, load oldest first, delete, damaged files set aside
// with a message, leftover .tmp files, the directory lock, requests
// surviving a restart, handed over from the old sender to the new at a
// reload, a full disk); and the decoders of what backends
// answer (google.rpc.Status with RetryInfo, partial success in protobuf
// and JSON, base64).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/disk_queue.h"
#include "server/http_client.h"
#include "server/log.h"
#include "server/sender.h"
#include "server/service.h"
#include "server/telemetry.h"

#define MS 1000000ULL
#define SECOND 1000000000ULL
#define LABELS "exporter=\"test/exporter\""

// ---- backoff ----

static struct ptm_retry_config retry_config(uint64_t initial, double rf, double multiplier, uint64_t max_interval,
                                            uint64_t max_elapsed)
{
    return (struct ptm_retry_config){true, initial, rf, multiplier, max_interval, max_elapsed};
}

// initial 100 ms, multiplier 2, max 1 s, no jitter: 100, 200, 400, 800,
// then 1000 for ever (max_elapsed_time 0).
static void backoff_grows_to_max_interval(void **state)
{
    struct ptm_retry_config cfg = retry_config(100 * MS, 0, 2, SECOND, 0);
    struct ptm_backoff b;
    ptm_backoff_start(&b, &cfg, 0);
    const uint64_t expected[] = {100 * MS, 200 * MS, 400 * MS, 800 * MS, SECOND, SECOND, SECOND};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_int_equal(ptm_backoff_next(&b, 1000 * SECOND * i, 0, 0.3), expected[i]);
}

// randomization_factor 0.5 on 1 s: random 0 gives 0.5 s, 0.5 gives 1 s,
// 0.75 gives 1.25 s; the interval still grows by the multiplier (1.5):
// the second wait with random 0 is 0.75 s.
static void backoff_jitter(void **state)
{
    struct ptm_retry_config cfg = retry_config(SECOND, 0.5, 1.5, 30 * SECOND, 0);
    struct ptm_backoff b;
    ptm_backoff_start(&b, &cfg, 0);
    assert_int_equal(ptm_backoff_next(&b, 0, 0, 0.0), 500 * MS);
    assert_int_equal(ptm_backoff_next(&b, 0, 0, 0.0), 750 * MS);
    ptm_backoff_start(&b, &cfg, 0);
    assert_int_equal(ptm_backoff_next(&b, 0, 0, 0.5), SECOND);
    ptm_backoff_start(&b, &cfg, 0);
    assert_int_equal(ptm_backoff_next(&b, 0, 0, 0.75), 1250 * MS);
}

// A server delay longer than the backoff wins; a shorter one does not.
static void backoff_server_delay(void **state)
{
    struct ptm_retry_config cfg = retry_config(100 * MS, 0, 2, SECOND, 0);
    struct ptm_backoff b;
    ptm_backoff_start(&b, &cfg, 0);
    assert_int_equal(ptm_backoff_next(&b, 0, 2 * SECOND, 0), 2 * SECOND);
    assert_int_equal(ptm_backoff_next(&b, 0, 50 * MS, 0), 200 * MS);
}

// max_elapsed_time 1 s from a first attempt at t = 10 s: at 10.8 s a wait
// of 100 ms ends at 10.9 s (allowed); at 10.95 s it would end at 11.05 s
// (stop); a server delay past the limit stops too.
static void backoff_max_elapsed_time(void **state)
{
    struct ptm_retry_config cfg = retry_config(100 * MS, 0, 1, SECOND, SECOND);
    struct ptm_backoff b;
    ptm_backoff_start(&b, &cfg, 10 * SECOND);
    assert_int_equal(ptm_backoff_next(&b, 10 * SECOND + 800 * MS, 0, 0), 100 * MS);
    assert_int_equal(ptm_backoff_next(&b, 10 * SECOND + 950 * MS, 0, 0), PTM_BACKOFF_STOP);
    ptm_backoff_start(&b, &cfg, 10 * SECOND);
    assert_int_equal(ptm_backoff_next(&b, 10 * SECOND, 2 * SECOND, 0), PTM_BACKOFF_STOP);
}

static void backoff_disabled(void **state)
{
    struct ptm_retry_config cfg = retry_config(100 * MS, 0, 2, SECOND, 0);
    cfg.enabled = false;
    struct ptm_backoff b;
    ptm_backoff_start(&b, &cfg, 0);
    assert_int_equal(ptm_backoff_next(&b, 0, 0, 0), PTM_BACKOFF_STOP);
}

// ---- Retry-After ----

// 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT (Python's calendar.timegm).
#define DATE_2015 1445412480

static void retry_after_seconds(void **state)
{
    uint64_t d = 1;
    assert_int_equal(ptm_parse_retry_after("120", 0, &d), 0);
    assert_int_equal(d, 120 * SECOND);
    assert_int_equal(ptm_parse_retry_after(" 2 ", 0, &d), 0);
    assert_int_equal(d, 2 * SECOND);
    assert_int_equal(ptm_parse_retry_after("0", 0, &d), 0);
    assert_int_equal(d, 0);
}

static void retry_after_http_dates(void **state)
{
    uint64_t d = 0;
    assert_int_equal(ptm_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", DATE_2015 - 5, &d), 0);
    assert_int_equal(d, 5 * SECOND);
    assert_int_equal(ptm_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", DATE_2015 - 7, &d), 0);
    assert_int_equal(d, 7 * SECOND);
    assert_int_equal(ptm_parse_retry_after("Wed Oct 21 07:28:00 2015", DATE_2015 - 9, &d), 0);
    assert_int_equal(d, 9 * SECOND);
    // A date in the past: retry at once.
    assert_int_equal(ptm_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", DATE_2015 + 60, &d), 0);
    assert_int_equal(d, 0);
}

static void retry_after_garbage(void **state)
{
    uint64_t d = 42;
    assert_int_equal(ptm_parse_retry_after("soon", 0, &d), -1);
    assert_int_equal(ptm_parse_retry_after("12abc", 0, &d), -1);
    assert_int_equal(ptm_parse_retry_after("", 0, &d), -1);
    assert_int_equal(ptm_parse_retry_after("-5", 0, &d), -1);
    assert_int_equal(ptm_parse_retry_after("Wed, 21 Oct 2015 07:28:00 CET", 0, &d), -1);
    assert_int_equal(d, 42);
}

// ---- a scripted transport ----

#define MAX_ATTEMPTS 64

// Attempt i gets script[i] (then `fallback`); a request's points field
// serves as its name. With block_first the first attempt waits until
// released (or cancelled).
struct fake {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ptm_send_result script[16];
    int n_script;
    enum ptm_send_outcome fallback;
    bool block_first, released, blocked;
    int attempts;
    uint64_t points[MAX_ATTEMPTS];
    uint64_t at[MAX_ATTEMPTS]; // CLOCK_MONOTONIC of each attempt
};

static void fake_init(struct fake *f, enum ptm_send_outcome fallback)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->fallback = fallback;
}

static void fake_fini(struct fake *f)
{
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
}

static void fake_script(struct fake *f, enum ptm_send_outcome outcome, uint64_t retry_after, int64_t rejected)
{
    f->script[f->n_script++] = (struct ptm_send_result){outcome, retry_after, rejected, ""};
}

static void *fake_open(void *ctx)
{
    return ctx;
}

static void fake_close(void *ctx, void *conn)
{
}

static void fake_block(struct fake *f, const atomic_bool *cancel)
{
    f->blocked = true;
    pthread_cond_broadcast(&f->cond);
    while (!f->released && !atomic_load(cancel)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * MS;
        if (ts.tv_nsec >= (long)SECOND) {
            ts.tv_sec++;
            ts.tv_nsec -= (long)SECOND;
        }
        pthread_cond_timedwait(&f->cond, &f->lock, &ts);
    }
}

static void fake_send(void *ctx, void *conn, const struct ptm_request *req, const atomic_bool *cancel,
                      struct ptm_send_result *out)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->lock);
    int i = f->attempts++;
    if (i < MAX_ATTEMPTS) {
        f->points[i] = req->points;
        f->at[i] = ptm_monotonic_ns();
    }
    if (i == 0 && f->block_first)
        fake_block(f, cancel);
    if (i < f->n_script)
        *out = f->script[i];
    else
        *out = (struct ptm_send_result){.outcome = f->fallback};
    if (out->outcome != PTM_SEND_OK)
        snprintf(out->message, sizeof out->message, "scripted attempt %d", i + 1);
    pthread_mutex_unlock(&f->lock);
}

// Wait until the first attempt is blocked in the transport.
static void fake_wait_blocked(struct fake *f)
{
    pthread_mutex_lock(&f->lock);
    while (!f->blocked)
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

static void fake_release(struct fake *f)
{
    pthread_mutex_lock(&f->lock);
    f->released = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

// ---- sender helpers ----

static uint64_t fake_clock_ns;
static uint64_t fake_clock(void) // one second further at every reading
{
    uint64_t now = fake_clock_ns;
    fake_clock_ns += SECOND;
    return now;
}

static double zero_random(void)
{
    return 0.0;
}

struct setup {
    struct ptm_retry_config retry;
    struct ptm_queue_config queue;
    const char *storage;
    uint64_t (*now)(void);
};

static struct setup default_setup(void)
{
    return (struct setup){retry_config(MS, 0, 1, 10 * MS, 0), {true, 1, 100, NULL, {0, 0}}, NULL, NULL};
}

static struct ptm_sender *new_sender(const struct setup *s, struct fake *f, struct ptm_telemetry *t)
{
    struct ptm_sender_options o = {"test/exporter", &s->retry, &s->queue, s->storage, t, s->now, zero_random};
    struct ptm_sender_transport tr = {f, fake_open, fake_send, fake_close};
    struct ptm_error err = {0};
    struct ptm_sender *sender = ptm_sender_create(&o, &tr, &err);
    if (sender == NULL)
        fail_msg("ptm_sender_create: %s", err.message);
    return sender;
}

// A request named by its point count.
static int submit(struct ptm_sender *s, uint64_t points)
{
    struct ptm_request r = {malloc(8), 8, points, 0, 0};
    assert_non_null(r.body);
    memcpy(r.body, "request!", 8);
    return ptm_sender_submit(s, &r);
}

static double metric(struct ptm_telemetry *t, const char *name)
{
    return ptm_telemetry_get(t, name, LABELS);
}

static void drain(struct ptm_sender *s)
{
    ptm_sender_shutdown(s, ptm_monotonic_ns() + 5 * SECOND);
}

// ---- the queue ----

static void queue_sends_in_order(void **state)
{
    struct fake f;
    fake_init(&f, PTM_SEND_OK);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    struct ptm_sender *sender = new_sender(&s, &f, t);
    for (uint64_t p = 1; p <= 3; p++)
        assert_int_equal(submit(sender, p), 0);
    drain(sender);
    assert_int_equal(f.attempts, 3);
    assert_int_equal(f.points[0], 1);
    assert_int_equal(f.points[1], 2);
    assert_int_equal(f.points[2], 3);
    assert_true(metric(t, PTM_EXPORTER_SENT) == 6);
    assert_true(metric(t, PTM_EXPORTER_QUEUE_LENGTH) == 0);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
}

// queue_size 2, one consumer stuck on request 1: requests 2 and 3 are the
// oldest waiting when 4 and 5 arrive, so they are dropped (5 points); what
// is sent afterwards is 1, 4, 5.
static void full_queue_drops_oldest(void **state)
{
    struct fake f;
    fake_init(&f, PTM_SEND_OK);
    f.block_first = true;
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    s.queue.queue_size = 2;
    struct ptm_sender *sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 1), 0);
    fake_wait_blocked(&f);
    for (uint64_t p = 2; p <= 5; p++)
        assert_int_equal(submit(sender, p), 0);
    assert_int_equal(ptm_sender_queue_length(sender), 2);
    assert_true(metric(t, PTM_EXPORTER_QUEUE_LENGTH) == 2);
    assert_true(metric(t, PTM_EXPORTER_DROPPED) == 2 + 3);
    fake_release(&f);
    drain(sender);
    assert_int_equal(f.attempts, 3);
    assert_int_equal(f.points[0], 1);
    assert_int_equal(f.points[1], 4);
    assert_int_equal(f.points[2], 5);
    assert_true(metric(t, PTM_EXPORTER_SENT) == 1 + 4 + 5);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
}

static void retries_until_accepted(void **state)
{
    struct fake f;
    fake_init(&f, PTM_SEND_OK);
    fake_script(&f, PTM_SEND_RETRY, 0, 0);
    fake_script(&f, PTM_SEND_RETRY, 0, 0);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    struct ptm_sender *sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 7), 0);
    drain(sender);
    assert_int_equal(f.attempts, 3);
    assert_true(metric(t, PTM_EXPORTER_RETRIES) == 2);
    assert_true(metric(t, PTM_EXPORTER_SENT) == 7);
    assert_true(metric(t, PTM_EXPORTER_FAILED) == 0);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
}

static void permanent_failure_not_retried(void **state)
{
    struct fake f;
    fake_init(&f, PTM_SEND_PERMANENT);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    struct ptm_sender *sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 4), 0);
    drain(sender);
    assert_int_equal(f.attempts, 1);
    assert_true(metric(t, PTM_EXPORTER_RETRIES) == 0);
    assert_true(metric(t, PTM_EXPORTER_FAILED) == 4);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
}

// A partial success rejecting 2 of 5: 3 sent, 2 failed, no retry.
static void partial_success_counted(void **state)
{
    struct fake f;
    fake_init(&f, PTM_SEND_OK);
    fake_script(&f, PTM_SEND_OK, 0, 2);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    struct ptm_sender *sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 5), 0);
    drain(sender);
    assert_int_equal(f.attempts, 1);
    assert_true(metric(t, PTM_EXPORTER_SENT) == 3);
    assert_true(metric(t, PTM_EXPORTER_FAILED) == 2);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
}

// The server asks for 300 ms; the backoff alone would wait 1 ms.
static void server_delay_is_waited(void **state)
{
    struct fake f;
    fake_init(&f, PTM_SEND_OK);
    fake_script(&f, PTM_SEND_RETRY, 300 * MS, 0);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    struct ptm_sender *sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 1), 0);
    drain(sender);
    assert_int_equal(f.attempts, 2);
    assert_true(f.at[1] - f.at[0] >= 300 * MS);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
}

// The injected clock reads 0 s when the first attempt starts and one second
// more at each retry decision: 1, 2, 3 s are within max_elapsed_time 3.5 s
// (waits of 1 ms), 4 s is not. So 4 attempts, 3 retries, then given up.
static void gives_up_after_max_elapsed_time(void **state)
{
    struct fake f;
    fake_init(&f, PTM_SEND_RETRY);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    s.retry = retry_config(MS, 0, 1, MS, 3500 * MS);
    fake_clock_ns = 0;
    s.now = fake_clock;
    struct ptm_sender *sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 6), 0);
    drain(sender);
    assert_int_equal(f.attempts, 4);
    assert_true(metric(t, PTM_EXPORTER_RETRIES) == 3);
    assert_true(metric(t, PTM_EXPORTER_FAILED) == 6);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
}

// A backend that never takes anything: shutdown ends at its deadline, and
// the request (in memory only) counts as dropped.
static void shutdown_stops_at_deadline(void **state)
{
    struct fake f;
    fake_init(&f, PTM_SEND_RETRY);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    s.retry = retry_config(20 * MS, 0, 1, 20 * MS, 0);
    struct ptm_sender *sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 3), 0);
    assert_int_equal(submit(sender, 4), 0);
    uint64_t t0 = ptm_monotonic_ns();
    ptm_sender_shutdown(sender, t0 + 200 * MS);
    uint64_t took = ptm_monotonic_ns() - t0;
    assert_true(took >= 200 * MS && took < 2 * SECOND);
    assert_true(metric(t, PTM_EXPORTER_DROPPED) == 7);
    assert_int_equal(submit(sender, 5), PTM_EINVAL); // no new work after shutdown
    assert_true(metric(t, PTM_EXPORTER_DROPPED) == 12);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
}

// ---- the on-disk queue ----

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/ptm-test-sender.XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name), sl = strlen(suffix);
        n += len > sl && strcmp(de->d_name + len - sl, suffix) == 0;
    }
    closedir(d);
    return n;
}

struct loaded {
    int n;
    uint64_t seq[8];
    uint64_t points[8];
    uint32_t flags[8];
    char body[8][16];
    int reports;
    char report[4][512];
};

static int collect_visit(void *ctx, uint64_t seq, uint8_t *body, size_t len, uint64_t points, uint32_t flags)
{
    struct loaded *l = ctx;
    if (l->n < 8) {
        l->seq[l->n] = seq;
        l->points[l->n] = points;
        l->flags[l->n] = flags;
        snprintf(l->body[l->n], sizeof l->body[0], "%.*s", (int)len, (const char *)body);
        l->n++;
    }
    free(body);
    return 0;
}

static void collect_report(void *ctx, const char *message)
{
    struct loaded *l = ctx;
    if (l->reports < 4)
        snprintf(l->report[l->reports], sizeof l->report[0], "%s", message);
    l->reports++;
}

static uint64_t put(struct ptm_disk_queue *q, const char *body, uint64_t points, uint32_t flags)
{
    struct ptm_disk_record rec = {(const uint8_t *)body, strlen(body), points, flags};
    uint64_t seq = 0;
    struct ptm_error err = {0};
    if (ptm_disk_queue_put(q, &rec, &seq, &err) != 0)
        fail_msg("put: %s", err.message);
    return seq;
}

static struct ptm_disk_queue *open_queue(const char *dir, struct loaded *l)
{
    struct ptm_error err = {0};
    struct ptm_disk_queue_user user = {l, collect_visit, collect_report};
    struct ptm_disk_queue *q = ptm_disk_queue_open(dir, &user, &err);
    if (q == NULL)
        fail_msg("open: %s", err.message);
    return q;
}

// Three requests written, the queue reopened: all three come back oldest
// first with their bytes, points and flags; after deleting the second,
// the first and third.
static void disk_write_load_delete(void **state)
{
    char *root = temp_dir();
    char dir[300];
    snprintf(dir, sizeof dir, "%s/otlphttp/backend", root); // made with its parents
    struct loaded l = {0};
    struct ptm_disk_queue *q = open_queue(dir, &l);
    uint64_t a = put(q, "alpha", 10, PTM_REQUEST_GZIP);
    uint64_t b = put(q, "beta", 20, 0);
    uint64_t c = put(q, "gamma", 30, PTM_REQUEST_JSON);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(c, 3);
    assert_int_equal(count_files(dir, ".req"), 3);
    ptm_disk_queue_close(q, NULL, 0);

    q = open_queue(dir, &l);
    assert_int_equal(ptm_disk_queue_load(q, collect_visit), 3);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.body[0], "alpha");
    assert_string_equal(l.body[1], "beta");
    assert_string_equal(l.body[2], "gamma");
    assert_int_equal(l.points[0], 10);
    assert_int_equal(l.flags[0], PTM_REQUEST_GZIP);
    assert_int_equal(l.flags[2], PTM_REQUEST_JSON);
    assert_int_equal(l.reports, 0);
    struct ptm_error err = {0};
    assert_int_equal(ptm_disk_queue_remove(q, b, &err), 0);
    assert_int_equal(put(q, "delta", 40, 0), 4); // numbering goes on after a restart
    ptm_disk_queue_close(q, NULL, 0);
    memset(&l, 0, sizeof l);
    q = open_queue(dir, &l);
    assert_int_equal(ptm_disk_queue_load(q, collect_visit), 3);
    assert_string_equal(l.body[0], "alpha");
    assert_string_equal(l.body[1], "gamma");
    assert_string_equal(l.body[2], "delta");
    ptm_disk_queue_close(q, NULL, 0);
    remove_tree(root);
    free(root);
}

static void overwrite(const char *dir, const char *name, off_t at, const void *bytes, size_t len, bool truncate_after)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, len, at), (ssize_t)len);
    if (truncate_after)
        assert_int_equal(ftruncate(fd, at + (off_t)len), 0);
    close(fd);
}

// One good file and three bad ones: a flipped body byte (checksum), a
// file cut short (length), a file that is not ours (magic). Only the good
// one is loaded; each bad one is reported by name and renamed .corrupt.
static void disk_damaged_files_skipped(void **state)
{
    char *dir = temp_dir();
    struct loaded l = {0};
    struct ptm_disk_queue *q = open_queue(dir, &l);
    put(q, "good request", 1, 0);
    put(q, "flipped byte", 2, 0);
    put(q, "cut short", 3, 0);
    ptm_disk_queue_close(q, NULL, 0);
    overwrite(dir, "00000000000000000002.req", 28, "F", 1, false);
    overwrite(dir, "00000000000000000003.req", 30, "", 0, true);
    overwrite(dir, "00000000000000000004.req", 0, "this is not a request file at all", 33, false);

    q = open_queue(dir, &l);
    assert_int_equal(ptm_disk_queue_load(q, collect_visit), 1);
    assert_string_equal(l.body[0], "good request");
    assert_int_equal(l.reports, 3);
    assert_non_null(strstr(l.report[0], "00000000000000000002.req: skipped: checksum mismatch"));
    assert_non_null(strstr(l.report[1], "00000000000000000003.req: skipped: header says 9 body bytes, the file holds 2"));
    assert_non_null(strstr(l.report[2], "00000000000000000004.req: skipped: not a request file"));
    assert_non_null(strstr(l.report[2], "kept as 00000000000000000004.corrupt"));
    assert_int_equal(count_files(dir, ".corrupt"), 3);
    assert_int_equal(count_files(dir, ".req"), 1);
    ptm_disk_queue_close(q, NULL, 0);
    remove_tree(dir);
    free(dir);
}

// A .tmp file is a write a crash cut short: removed at open, and its
// number is not reused.
static void disk_leftover_tmp_removed(void **state)
{
    char *dir = temp_dir();
    overwrite(dir, "00000000000000000007.tmp", 0, "PTMQ", 4, false);
    struct loaded l = {0};
    struct ptm_disk_queue *q = open_queue(dir, &l);
    assert_int_equal(count_files(dir, ".tmp"), 0);
    assert_int_equal(put(q, "next", 1, 0), 8);
    ptm_disk_queue_close(q, NULL, 0);
    remove_tree(dir);
    free(dir);
}

// Another process holds the directory (a lock taken through a descriptor
// of our own stands for it): opening fails. Within the process a second
// user shares the directory, and loads nothing: the first user has it all.
static void disk_directory_locked(void **state)
{
    char *dir = temp_dir();
    int other = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(other >= 0);
    assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
    struct loaded l = {0};
    struct ptm_disk_queue_user user = {&l, collect_visit, collect_report};
    struct ptm_error err = {0};
    assert_null(ptm_disk_queue_open(dir, &user, &err));
    assert_non_null(strstr(err.message, "in use by another process"));
    close(other);

    struct ptm_disk_queue *q = open_queue(dir, &l);
    put(q, "stored", 1, 0);
    struct ptm_disk_queue *second = open_queue(dir, &l);
    assert_int_equal(ptm_disk_queue_load(second, collect_visit), 0);
    assert_int_equal(put(second, "more", 1, 0), 2); // one numbering for both
    ptm_disk_queue_close(second, NULL, 0);
    ptm_disk_queue_close(q, NULL, 0);
    remove_tree(dir);
    free(dir);
}

// A backend that is down: both requests stay on disk through shutdown. A
// new sender on the same directory sends them first, oldest first, then
// the new one, and the directory ends empty.
static void disk_queue_survives_restart(void **state)
{
    char *dir = temp_dir();
    struct fake f;
    fake_init(&f, PTM_SEND_RETRY);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    s.retry = retry_config(10 * MS, 0, 1, 10 * MS, 0);
    s.storage = dir;
    struct ptm_sender *sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 11), 0);
    assert_int_equal(submit(sender, 12), 0);
    assert_int_equal(count_files(dir, ".req"), 2);
    ptm_sender_shutdown(sender, ptm_monotonic_ns() + 100 * MS);
    ptm_sender_destroy(sender);
    assert_int_equal(count_files(dir, ".req"), 2);
    assert_true(metric(t, PTM_EXPORTER_DROPPED) == 0);
    fake_fini(&f);

    fake_init(&f, PTM_SEND_OK);
    sender = new_sender(&s, &f, t);
    assert_int_equal(submit(sender, 13), 0);
    drain(sender);
    assert_int_equal(f.attempts, 3);
    assert_int_equal(f.points[0], 11);
    assert_int_equal(f.points[1], 12);
    assert_int_equal(f.points[2], 13);
    assert_int_equal(count_files(dir, ".req"), 0);
    assert_true(metric(t, PTM_EXPORTER_SENT) == 36);
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
    remove_tree(dir);
    free(dir);
}

// A reload: the new sender (B) starts beside the old one (A) on the same
// directory, and finds nothing to load; A, stuck on a backend that is down
// with requests 21 and 22, hands them over when it closes; B sends them
// and its own 23, each once, and the directory ends empty.
static void disk_queue_handed_over_on_reload(void **state)
{
    char *dir = temp_dir();
    struct fake fa, fb;
    fake_init(&fa, PTM_SEND_RETRY);
    fake_init(&fb, PTM_SEND_OK);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    s.retry = retry_config(10 * MS, 0, 1, 10 * MS, 0);
    s.storage = dir;
    struct ptm_sender *a = new_sender(&s, &fa, t);
    assert_int_equal(submit(a, 21), 0);
    assert_int_equal(submit(a, 22), 0);
    struct ptm_sender *b = new_sender(&s, &fb, t);
    assert_int_equal(submit(b, 23), 0);
    ptm_sender_shutdown(a, ptm_monotonic_ns() + 50 * MS);
    ptm_sender_destroy(a);
    drain(b);
    assert_int_equal(fb.attempts, 3);
    uint64_t sum = fb.points[0] + fb.points[1] + fb.points[2];
    assert_int_equal(sum, 21 + 22 + 23);
    assert_true(metric(t, PTM_EXPORTER_SENT) == 66);
    assert_true(metric(t, PTM_EXPORTER_DROPPED) == 0);
    assert_int_equal(count_files(dir, ".req"), 0);
    ptm_sender_destroy(b);
    ptm_telemetry_destroy(t);
    fake_fini(&fa);
    fake_fini(&fb);
    remove_tree(dir);
    free(dir);
}

// The next file's temporary name points at /dev/full, so writing it fails
// with ENOSPC: counted, and the request is still sent from memory.
static void disk_full_keeps_request_in_memory(void **state)
{
    char *dir = temp_dir();
    struct fake f;
    fake_init(&f, PTM_SEND_OK);
    struct ptm_telemetry *t = ptm_telemetry_create();
    struct setup s = default_setup();
    s.storage = dir;
    struct ptm_sender *sender = new_sender(&s, &f, t);
    char link[512];
    snprintf(link, sizeof link, "%s/00000000000000000001.tmp", dir);
    assert_int_equal(symlink("/dev/full", link), 0);
    assert_int_equal(submit(sender, 9), 0);
    drain(sender);
    assert_true(metric(t, PTM_EXPORTER_STORAGE_ERRORS) == 1);
    assert_true(metric(t, PTM_EXPORTER_SENT) == 9);
    assert_int_equal(f.attempts, 1);
    assert_int_equal(count_files(dir, ".tmp"), 0); // the failed write left nothing
    ptm_sender_destroy(sender);
    ptm_telemetry_destroy(t);
    fake_fini(&f);
    remove_tree(dir);
    free(dir);
}

// ---- what backends answer ----

// google.rpc.Status{code: 8, message: "slow down", details: [Any{
// type_url: "type.googleapis.com/google.rpc.RetryInfo", value:
// RetryInfo{retry_delay: Duration{seconds: 2, nanos: 500000000}}}]},
// written field by field.
static const uint8_t status_with_retry_info[] = {
    0x08, 0x08,                                                             // code 8
    0x12, 0x09, 's', 'l', 'o', 'w', ' ', 'd', 'o', 'w', 'n',                 // message
    0x1a, 0x36,                                                             // details (54 bytes)
    0x0a, 0x28, 't', 'y', 'p', 'e', '.', 'g', 'o', 'o', 'g', 'l', 'e', 'a', 'p', 'i', 's', '.', 'c', 'o', 'm',
    '/', 'g', 'o', 'o', 'g', 'l', 'e', '.', 'r', 'p', 'c', '.', 'R', 'e', 't', 'r', 'y', 'I', 'n', 'f', 'o',
    0x12, 0x0a,                   // value: RetryInfo (10 bytes)
    0x0a, 0x08,                   // retry_delay: Duration (8 bytes)
    0x08, 0x02,                   // seconds 2
    0x10, 0x80, 0xca, 0xb5, 0xee, 0x01, // nanos 500000000
    0x00,                         // padding byte that is a bad tag
};

static void rpc_status_with_retry_info(void **state)
{
    struct ptm_rpc_status st;
    // Without the trailing byte (a field number 0 is not a tag).
    assert_true(ptm_rpc_status_decode(status_with_retry_info, sizeof status_with_retry_info - 1, &st));
    assert_int_equal(st.code, 8);
    assert_string_equal(st.message, "slow down");
    assert_true(st.has_retry_delay);
    assert_int_equal(st.retry_delay, 2500 * MS);
    assert_false(ptm_rpc_status_decode(status_with_retry_info, sizeof status_with_retry_info, &st));
    // Cut inside the details: not a Status.
    assert_false(ptm_rpc_status_decode(status_with_retry_info, 20, &st));
}

// "CAgSCXNsb3cgZG93bg" is base64 (no padding, as gRPC sends it) of the
// first 13 bytes above: code 8, message "slow down".
static void base64_status_details(void **state)
{
    uint8_t out[64];
    long n = ptm_base64_decode("CAgSCXNsb3cgZG93bg", out, sizeof out);
    assert_int_equal(n, 13);
    assert_memory_equal(out, status_with_retry_info, 13);
    assert_int_equal(ptm_base64_decode("CAgSCXNsb3cgZG93bg==", out, sizeof out), 13);
    assert_int_equal(ptm_base64_decode("CA*g", out, sizeof out), -1);
    assert_int_equal(ptm_base64_decode("CAgSCXNsb3cgZG93bg", out, 4), -1);
}

// ExportMetricsServiceResponse{partial_success{rejected_data_points: 3,
// error_message: "bad"}}: 0a 07 08 03 12 03 'b' 'a' 'd'.
static void partial_success_protobuf_and_json(void **state)
{
    static const uint8_t response[] = {0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 'b', 'a', 'd'};
    int64_t rejected = -1;
    char message[64];
    assert_true(ptm_partial_success_decode(response, sizeof response, &rejected, message, sizeof message));
    assert_int_equal(rejected, 3);
    assert_string_equal(message, "bad");
    assert_true(ptm_partial_success_decode(NULL, 0, &rejected, message, sizeof message)); // empty = none
    assert_int_equal(rejected, 0);
    assert_false(ptm_partial_success_decode(response, 5, &rejected, message, sizeof message));

    const char *json = "{\"partialSuccess\":{\"rejectedDataPoints\":\"4\",\"errorMessage\":\"two \\\"bad\\\"\"}}";
    assert_true(ptm_partial_success_decode_json((const uint8_t *)json, strlen(json), &rejected, message,
                                                sizeof message));
    assert_int_equal(rejected, 4);
    assert_string_equal(message, "two \"bad\"");
    const char *status = "{\"code\":3,\"message\":\"no such metric\"}";
    assert_true(ptm_rpc_status_decode_json((const uint8_t *)status, strlen(status), message, sizeof message));
    assert_string_equal(message, "no such metric");
}

int main(void)
{
    // The sender logs every retry and drop; the assertions read the counters.
    ptm_log_set_level(PTM_LOG_LEVEL_ERROR + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_grows_to_max_interval),
        cmocka_unit_test(backoff_jitter),
        cmocka_unit_test(backoff_server_delay),
        cmocka_unit_test(backoff_max_elapsed_time),
        cmocka_unit_test(backoff_disabled),
        cmocka_unit_test(retry_after_seconds),
        cmocka_unit_test(retry_after_http_dates),
        cmocka_unit_test(retry_after_garbage),
        cmocka_unit_test(queue_sends_in_order),
        cmocka_unit_test(full_queue_drops_oldest),
        cmocka_unit_test(retries_until_accepted),
        cmocka_unit_test(permanent_failure_not_retried),
        cmocka_unit_test(partial_success_counted),
        cmocka_unit_test(server_delay_is_waited),
        cmocka_unit_test(gives_up_after_max_elapsed_time),
        cmocka_unit_test(shutdown_stops_at_deadline),
        cmocka_unit_test(disk_write_load_delete),
        cmocka_unit_test(disk_damaged_files_skipped),
        cmocka_unit_test(disk_leftover_tmp_removed),
        cmocka_unit_test(disk_directory_locked),
        cmocka_unit_test(disk_queue_survives_restart),
        cmocka_unit_test(disk_queue_handed_over_on_reload),
        cmocka_unit_test(disk_full_keeps_request_in_memory),
        cmocka_unit_test(rpc_status_with_retry_info),
        cmocka_unit_test(base64_status_details),
        cmocka_unit_test(partial_success_protobuf_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
