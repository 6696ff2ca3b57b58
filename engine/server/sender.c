// SPDX-License-Identifier: Apache-2.0
//
// The sending queue of the network exporters: a linked list of encoded
// requests under one mutex, consumer threads that take the oldest and send
// it through the exporter's transport with retries, and the on-disk queue
// that mirrors it when sending_queue.storage is set. The policies are
// described in sender.h.
#include "server/sender.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "encode/encode.h"
#include "server/disk_queue.h"
#include "server/log.h"
#include "server/service.h"
#include "util/error.h"

#define NS_PER_SECOND 1000000000ULL

struct node {
    struct ptm_request req;
    struct node *next;
};

struct ptm_sender {
    char *id;
    char *component; // "exporter/<id>" for the log
    char labels[512];
    struct ptm_retry_config retry;
    uint32_t capacity;
    uint32_t consumers;
    struct ptm_sender_transport transport;
    struct ptm_disk_queue *disk; // NULL: memory only
    struct ptm_telemetry *telemetry;
    uint64_t (*now)(void);
    double (*random)(void);

    pthread_mutex_t lock;
    pthread_cond_t work;   // a request was queued, or closing
    pthread_cond_t wake;   // cancel: retry waits end
    pthread_cond_t exited; // a consumer thread ended
    struct node *head, *tail;
    size_t length;
    uint32_t running; // consumer threads not yet ended
    bool closing;
    bool shut_down;
    bool aborted; // ptm_sender_abort: the shutdown deadline is now
    atomic_bool cancel;
    uint64_t rng; // jitter, when no random source is injected
    // On-disk requests this sender gives up at shutdown, for the next user
    // of the directory (ptm_disk_queue_close).
    uint64_t *leftover;
    size_t n_leftover, cap_leftover;
    pthread_t *threads;
    uint32_t n_threads;
};

// ---- small helpers ----

static struct timespec monotonic_deadline(uint64_t ns)
{
    return (struct timespec){(time_t)(ns / NS_PER_SECOND), (long)(ns % NS_PER_SECOND)};
}

void ptm_exporter_describe_telemetry(struct ptm_telemetry *t)
{
    if (t == NULL)
        return;
    ptm_telemetry_describe(t, PTM_EXPORTER_SENT, PTM_TELEMETRY_COUNTER,
                           "Data points the backend accepted.");
    ptm_telemetry_describe(t, PTM_EXPORTER_FAILED, PTM_TELEMETRY_COUNTER,
                           "Data points the backend refused for good, rejected in a partial success, or "
                           "given up on after retries.");
    ptm_telemetry_describe(t, PTM_EXPORTER_RETRIES, PTM_TELEMETRY_COUNTER,
                           "Send attempts that failed and were retried.");
    ptm_telemetry_describe(t, PTM_EXPORTER_DROPPED, PTM_TELEMETRY_COUNTER,
                           "Data points dropped without being sent: queue full, too large, or shutdown.");
    ptm_telemetry_describe(t, PTM_EXPORTER_QUEUE_LENGTH, PTM_TELEMETRY_GAUGE,
                           "Requests waiting in the sending queue.");
    ptm_telemetry_describe(t, PTM_EXPORTER_DURATION, PTM_TELEMETRY_HISTOGRAM,
                           "Duration of one send attempt.");
    ptm_telemetry_describe(t, PTM_EXPORTER_STORAGE_ERRORS, PTM_TELEMETRY_COUNTER,
                           "Requests the on-disk queue could not store (kept in memory only).");
}

void ptm_exporter_labels(char *out, size_t cap, const char *id)
{
    size_t n = (size_t)snprintf(out, cap, "exporter=\"");
    for (const char *p = id; *p != '\0' && n + 4 < cap; p++) {
        if (*p == '"' || *p == '\\')
            out[n++] = '\\';
        out[n++] = *p == '\n' ? 'n' : *p;
    }
    if (n + 2 <= cap) {
        out[n++] = '"';
        out[n] = '\0';
    }
}

static void count(struct ptm_sender *s, const char *name, double v)
{
    if (s->telemetry != NULL && v != 0)
        ptm_telemetry_add(s->telemetry, name, s->labels, v);
}

// Called with the lock held.
static void update_queue_gauge(struct ptm_sender *s)
{
    if (s->telemetry != NULL)
        ptm_telemetry_set(s->telemetry, PTM_EXPORTER_QUEUE_LENGTH, s->labels, (double)s->length);
}

// xorshift64*: jitter needs no quality, only independence from the clock.
static double next_random(struct ptm_sender *s)
{
    if (s->random != NULL)
        return s->random();
    pthread_mutex_lock(&s->lock);
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    uint64_t v = s->rng * 0x2545F4914F6CDD1DULL;
    pthread_mutex_unlock(&s->lock);
    return (double)(v >> 11) / (double)(1ULL << 53);
}

static void forget_file(struct ptm_sender *s, struct ptm_request *req)
{
    if (req->disk_seq == 0 || s->disk == NULL)
        return;
    struct ptm_error err;
    if (ptm_disk_queue_remove(s->disk, req->disk_seq, &err) != 0)
        ptm_log_error(s->component, "%s", err.message);
    req->disk_seq = 0;
}

static void free_node(struct node *n)
{
    free(n->req.body);
    free(n);
}

// ---- retry timing ----

void ptm_backoff_start(struct ptm_backoff *b, const struct ptm_retry_config *cfg, uint64_t now)
{
    b->cfg = *cfg;
    b->started = now;
    b->interval = (double)cfg->initial_interval;
}

uint64_t ptm_backoff_next(struct ptm_backoff *b, uint64_t now, uint64_t server_delay, double random01)
{
    if (!b->cfg.enabled)
        return PTM_BACKOFF_STOP;
    double rf = b->cfg.randomization_factor;
    double wait = b->interval * (1.0 - rf + 2.0 * rf * random01);
    double grown = b->interval * b->cfg.multiplier;
    if (b->cfg.max_interval > 0 && grown > (double)b->cfg.max_interval)
        grown = (double)b->cfg.max_interval;
    b->interval = grown;
    if (wait < (double)server_delay)
        wait = (double)server_delay;
    uint64_t w = wait >= 1.8e19 ? PTM_BACKOFF_STOP - 1 : (uint64_t)wait;
    if (b->cfg.max_elapsed_time != 0) {
        uint64_t elapsed = now > b->started ? now - b->started : 0;
        if (elapsed >= b->cfg.max_elapsed_time || w > b->cfg.max_elapsed_time - elapsed)
            return PTM_BACKOFF_STOP;
    }
    return w;
}

// Parse value whole with strptime format fmt into seconds since the epoch.
static bool parse_http_date(const char *value, const char *fmt, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(value, fmt, &tm);
    if (rest == NULL)
        return false;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest != '\0')
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

int ptm_parse_retry_after(const char *value, int64_t now_unix, uint64_t *delay_ns)
{
    static const char *const date_formats[] = {
        "%a, %d %b %Y %H:%M:%S GMT", // IMF-fixdate
        "%A, %d-%b-%y %H:%M:%S GMT", // RFC 850
        "%a %b %e %H:%M:%S %Y",      // asctime
    };
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value >= '0' && *value <= '9') {
        uint64_t seconds = 0;
        const char *p = value;
        for (; *p >= '0' && *p <= '9'; p++)
            seconds = seconds < 100000000ULL ? seconds * 10 + (uint64_t)(*p - '0') : seconds;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0')
            return -1;
        *delay_ns = seconds * NS_PER_SECOND;
        return 0;
    }
    for (size_t i = 0; i < sizeof date_formats / sizeof date_formats[0]; i++) {
        int64_t when;
        if (parse_http_date(value, date_formats[i], &when)) {
            *delay_ns = when > now_unix ? (uint64_t)(when - now_unix) * NS_PER_SECOND : 0;
            return 0;
        }
    }
    return -1;
}

// ---- the queue ----

// Keep an on-disk request's number for whoever uses the directory next.
// Lock held.
static void keep_leftover(struct ptm_sender *s, uint64_t seq)
{
    if (s->n_leftover == s->cap_leftover) {
        size_t cap = s->cap_leftover ? s->cap_leftover * 2 : 16;
        uint64_t *grown = realloc(s->leftover, cap * sizeof *grown);
        if (grown == NULL)
            return; // the file stays on disk for the next start
        s->leftover = grown;
        s->cap_leftover = cap;
    }
    s->leftover[s->n_leftover++] = seq;
}

// Drop a waiting request to make room, or because the sender is closed.
static void drop(struct ptm_sender *s, struct node *n, const char *why)
{
    ptm_log_warn(s->component, "dropped a request of %llu data points: %s",
                 (unsigned long long)n->req.points, why);
    count(s, PTM_EXPORTER_DROPPED, (double)n->req.points);
    forget_file(s, &n->req);
    free_node(n);
}

// Append n; returns the request evicted to make room, or NULL. Lock held.
static struct node *push(struct ptm_sender *s, struct node *n)
{
    struct node *evicted = NULL;
    if (s->length >= s->capacity && s->head != NULL) {
        evicted = s->head;
        s->head = evicted->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->length--;
    }
    n->next = NULL;
    if (s->tail != NULL)
        s->tail->next = n;
    else
        s->head = n;
    s->tail = n;
    s->length++;
    update_queue_gauge(s);
    pthread_cond_signal(&s->work);
    return evicted;
}

static void store_on_disk(struct ptm_sender *s, struct ptm_request *req)
{
    struct ptm_disk_record rec = {req->body, req->len, req->points, req->flags};
    struct ptm_error err;
    if (ptm_disk_queue_put(s->disk, &rec, &req->disk_seq, &err) == 0)
        return;
    int saved = errno;
    req->disk_seq = 0;
    count(s, PTM_EXPORTER_STORAGE_ERRORS, 1);
    ptm_log_error(s->component, "%s%s; the request of %llu data points is kept in memory only", err.message,
                  saved == ENOSPC ? " (the disk is full)" : "", (unsigned long long)req->points);
}

int ptm_sender_submit(struct ptm_sender *s, struct ptm_request *req)
{
    struct node *n = malloc(sizeof *n);
    if (n == NULL) {
        ptm_log_error(s->component, "out of memory queueing a request of %llu data points",
                      (unsigned long long)req->points);
        count(s, PTM_EXPORTER_DROPPED, (double)req->points);
        free(req->body);
        return PTM_ENOMEM;
    }
    n->req = *req;
    n->req.disk_seq = 0;
    req->body = NULL;
    pthread_mutex_lock(&s->lock);
    bool closing = s->closing;
    pthread_mutex_unlock(&s->lock);
    if (closing) {
        drop(s, n, "the exporter is shut down");
        return PTM_EINVAL;
    }
    if (s->disk != NULL)
        store_on_disk(s, &n->req);
    pthread_mutex_lock(&s->lock);
    closing = s->closing;
    struct node *evicted = NULL;
    if (!closing)
        evicted = push(s, n);
    else if (n->req.disk_seq != 0) // shut down while the file was written
        keep_leftover(s, n->req.disk_seq);
    pthread_mutex_unlock(&s->lock);
    if (closing) {
        if (n->req.disk_seq == 0)
            drop(s, n, "the exporter is shut down");
        else
            free_node(n);
        return PTM_EINVAL;
    }
    if (evicted != NULL)
        drop(s, evicted, "the sending queue is full (the oldest request is dropped)");
    return 0;
}

size_t ptm_sender_queue_length(struct ptm_sender *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->length;
    pthread_mutex_unlock(&s->lock);
    return n;
}

// ---- encoding a snapshot ----

int ptm_gzip(const void *data, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream z = {0};
    if (len > UINT32_MAX || deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return PTM_ENOMEM;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        deflateEnd(&z);
        return PTM_ENOMEM;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t produced = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return PTM_ENOMEM;
    }
    *out = buf;
    *out_len = produced;
    return 0;
}

// Count and log data that never made it into the queue.
static int refuse(struct ptm_sender *s, uint64_t points, int code, const char *why)
{
    count(s, PTM_EXPORTER_DROPPED, (double)points);
    ptm_log_error(s->component, "dropped %llu data points: %s", (unsigned long long)points, why);
    return code;
}

int ptm_sender_export(struct ptm_sender *s, const struct ptm_snapshot *snapshot, uint32_t flags)
{
    if (snapshot->len == 0)
        return 0; // OTLP: senders should not send empty requests
    struct ptm_strbuf sb = {0};
    int rc = flags & PTM_REQUEST_JSON ? ptm_encode_otlp_json(snapshot, &sb) : ptm_encode_otlp(snapshot, &sb);
    if (rc != 0 || sb.failed) {
        ptm_strbuf_free(&sb);
        return refuse(s, snapshot->len, PTM_ENOMEM, "out of memory encoding the request");
    }
    if (sb.len > PTM_REQUEST_LIMIT) {
        char why[128];
        snprintf(why, sizeof why, "the request is %zu bytes, more than the 64 MiB OTLP servers accept", sb.len);
        ptm_strbuf_free(&sb);
        return refuse(s, snapshot->len, PTM_ELIMIT, why);
    }
    struct ptm_request req = {(uint8_t *)sb.data, sb.len, snapshot->len, flags, 0};
    if (flags & PTM_REQUEST_GZIP) {
        rc = ptm_gzip(sb.data, sb.len, &req.body, &req.len);
        ptm_strbuf_free(&sb);
        if (rc != 0)
            return refuse(s, snapshot->len, PTM_ENOMEM, "out of memory compressing the request");
    }
    return ptm_sender_submit(s, &req);
}

// ---- the consumers ----

// The next request, or NULL when the sender is closing and the queue is
// empty, or cancelled.
static struct node *take(struct ptm_sender *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->head == NULL && !s->closing && !atomic_load(&s->cancel))
        pthread_cond_wait(&s->work, &s->lock);
    struct node *n = NULL;
    if (!atomic_load(&s->cancel) && s->head != NULL) {
        n = s->head;
        s->head = n->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->length--;
        update_queue_gauge(s);
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

// Sleep delay ns, or until cancelled. True when the retry should go ahead.
static bool wait_for_retry(struct ptm_sender *s, uint64_t delay)
{
    uint64_t now = ptm_monotonic_ns();
    uint64_t until = delay > UINT64_MAX - now ? UINT64_MAX : now + delay;
    struct timespec ts = monotonic_deadline(until);
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->cancel) && ptm_monotonic_ns() < until)
        if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->lock);
    return !atomic_load(&s->cancel);
}

static void accepted(struct ptm_sender *s, struct node *n, const struct ptm_send_result *r)
{
    uint64_t rejected = r->rejected_points > 0 ? (uint64_t)r->rejected_points : 0;
    if (rejected > n->req.points)
        rejected = n->req.points;
    count(s, PTM_EXPORTER_SENT, (double)(n->req.points - rejected));
    count(s, PTM_EXPORTER_FAILED, (double)rejected);
    if (rejected > 0)
        ptm_log_warn(s->component, "partial success: the backend rejected %llu of %llu data points: %s",
                     (unsigned long long)rejected, (unsigned long long)n->req.points,
                     r->message[0] != '\0' ? r->message : "(no message)");
    else if (r->message[0] != '\0')
        ptm_log_warn(s->component, "the backend accepted %llu data points with a warning: %s",
                     (unsigned long long)n->req.points, r->message);
}

static void failed(struct ptm_sender *s, struct node *n, const char *what, const struct ptm_send_result *r)
{
    count(s, PTM_EXPORTER_FAILED, (double)n->req.points);
    ptm_log_error(s->component, "%s a request of %llu data points: %s", what, (unsigned long long)n->req.points,
                  r->message);
}

// Shutdown gave up on n: what is on disk stays for the next start.
static void abandon(struct ptm_sender *s, struct node *n)
{
    if (n->req.disk_seq != 0) {
        ptm_log_info(s->component, "shutdown: a request of %llu data points stays in the disk queue",
                     (unsigned long long)n->req.points);
        pthread_mutex_lock(&s->lock);
        keep_leftover(s, n->req.disk_seq);
        pthread_mutex_unlock(&s->lock);
        free_node(n);
        return;
    }
    drop(s, n, "not sent before the shutdown deadline");
}

static void retry_later(struct ptm_sender *s, struct node *n, const struct ptm_send_result *r, int attempt,
                        uint64_t delay)
{
    count(s, PTM_EXPORTER_RETRIES, 1);
    ptm_log_warn(s->component, "attempt %d to send %llu data points failed: %s; retrying in %.3f s", attempt,
                 (unsigned long long)n->req.points, r->message, (double)delay / 1e9);
}

// Send n until it is taken, refused or given up on (its file deleted), or
// shutdown cancels it; n is freed. An answer that arrives as shutdown
// cancels still counts.
static void deliver(struct ptm_sender *s, void *conn, struct node *n)
{
    struct ptm_backoff backoff;
    ptm_backoff_start(&backoff, &s->retry, s->now());
    for (int attempt = 1;; attempt++) {
        struct ptm_send_result r = {.outcome = PTM_SEND_RETRY};
        uint64_t t0 = ptm_monotonic_ns();
        s->transport.send(s->transport.ctx, conn, &n->req, &s->cancel, &r);
        if (s->telemetry != NULL)
            ptm_telemetry_observe(s->telemetry, PTM_EXPORTER_DURATION, s->labels,
                                  (double)(ptm_monotonic_ns() - t0) / 1e9);
        // A request the backend took, or refused for good, leaves the disk
        // at once: a kill after this point cannot send it twice.
        if (r.outcome == PTM_SEND_OK) {
            forget_file(s, &n->req);
            accepted(s, n, &r);
            break;
        }
        if (r.outcome == PTM_SEND_PERMANENT) {
            forget_file(s, &n->req);
            failed(s, n, "the backend refused", &r);
            break;
        }
        if (atomic_load(&s->cancel)) {
            abandon(s, n);
            return;
        }
        uint64_t delay = ptm_backoff_next(&backoff, s->now(), r.retry_after, next_random(s));
        if (delay == PTM_BACKOFF_STOP) {
            forget_file(s, &n->req);
            failed(s, n, s->retry.enabled ? "gave up (retry_on_failure.max_elapsed_time) on"
                                          : "could not send (retry_on_failure disabled)",
                   &r);
            break;
        }
        retry_later(s, n, &r, attempt, delay);
        if (!wait_for_retry(s, delay)) {
            abandon(s, n);
            return;
        }
    }
    free_node(n);
}

static void consumer_exit(struct ptm_sender *s)
{
    pthread_mutex_lock(&s->lock);
    s->running--;
    pthread_cond_broadcast(&s->exited);
    pthread_mutex_unlock(&s->lock);
}

static void *consume(void *arg)
{
    struct ptm_sender *s = arg;
    void *conn = s->transport.open(s->transport.ctx);
    if (conn == NULL) {
        ptm_log_error(s->component, "a sending thread could not start: out of memory");
        consumer_exit(s);
        return NULL;
    }
    struct node *n;
    while ((n = take(s)) != NULL)
        deliver(s, conn, n);
    s->transport.close(s->transport.ctx, conn);
    consumer_exit(s);
    return NULL;
}

// ---- life cycle ----

int ptm_exporter_storage_directory(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                   char **out, struct ptm_error *err)
{
    *out = NULL;
    const struct ptm_queue_config *q = &cfg->otlp.sending_queue;
    if (q->storage == NULL)
        return 0;
    if (!q->enabled) {
        ptm_log_warn("exporter", "%s: sending_queue.storage is ignored: sending_queue.enabled is false", cfg->id);
        return 0;
    }
    const struct ptm_extension_config *ext = config != NULL ? ptm_config_find_extension(config, q->storage) : NULL;
    if (ext == NULL || ext->type != PTM_EXTENSION_FILE_STORAGE || ext->directory == NULL)
        return ptm_error_set(err, PTM_ECONFIG, "exporter %s: sending_queue.storage: \"%s\" is not a file_storage "
                             "extension", cfg->id, q->storage);
    if (asprintf(out, "%s/%s", ext->directory, cfg->id) < 0) {
        *out = NULL;
        return ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", cfg->id);
    }
    return 0;
}

static int load_visit(void *ctx, uint64_t seq, uint8_t *body, size_t len, uint64_t points, uint32_t flags)
{
    struct ptm_sender *s = ctx;
    struct node *n = malloc(sizeof *n);
    if (n == NULL) {
        free(body);
        return PTM_ENOMEM;
    }
    n->req = (struct ptm_request){body, len, points, flags, seq};
    pthread_mutex_lock(&s->lock);
    struct node *evicted = push(s, n);
    pthread_mutex_unlock(&s->lock);
    if (evicted != NULL)
        drop(s, evicted, "more requests on disk than sending_queue.queue_size (the oldest is dropped)");
    return 0;
}

// A request an earlier exporter on the same directory (the one a reload
// replaced) still held: it goes to the front, as it is older than anything
// queued here. They come newest first, so the oldest ends up in front.
static int adopt_visit(void *ctx, uint64_t seq, uint8_t *body, size_t len, uint64_t points, uint32_t flags)
{
    struct ptm_sender *s = ctx;
    struct node *n = malloc(sizeof *n);
    if (n == NULL) {
        free(body); // the file stays on disk for the next start
        return 0;
    }
    n->req = (struct ptm_request){body, len, points, flags, seq};
    pthread_mutex_lock(&s->lock);
    bool take = !s->closing && s->length < s->capacity;
    if (take) {
        n->next = s->head;
        s->head = n;
        if (s->tail == NULL)
            s->tail = n;
        s->length++;
        update_queue_gauge(s);
        pthread_cond_signal(&s->work);
    } else if (s->closing) {
        keep_leftover(s, seq);
    }
    bool closing = s->closing;
    pthread_mutex_unlock(&s->lock);
    if (take)
        ptm_log_debug(s->component, "took over a stored request of %llu data points", (unsigned long long)points);
    else if (closing)
        free_node(n);
    else
        drop(s, n, "taken over from the previous exporter into a full sending queue");
    return 0;
}

static void load_report(void *ctx, const char *message)
{
    struct ptm_sender *s = ctx;
    ptm_log_warn(s->component, "%s", message);
}

static int open_disk(struct ptm_sender *s, const char *directory, struct ptm_error *err)
{
    struct ptm_disk_queue_user user = {s, adopt_visit, load_report};
    s->disk = ptm_disk_queue_open(directory, &user, err);
    if (s->disk == NULL)
        return err != NULL ? err->code : PTM_EIO;
    int loaded = ptm_disk_queue_load(s->disk, load_visit);
    if (loaded < 0)
        return ptm_error_set(err, loaded, "disk queue %s: cannot load the stored requests: %s", directory,
                             ptm_strerror(loaded));
    if (loaded > 0)
        ptm_log_info(s->component, "disk queue %s: %d requests left by a previous run are sent first",
                     directory, loaded);
    return 0;
}

static int init_sync(struct ptm_sender *s)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work, &attr);
    pthread_cond_init(&s->wake, &attr);
    pthread_cond_init(&s->exited, &attr);
    pthread_condattr_destroy(&attr);
    return 0;
}

static int start_threads(struct ptm_sender *s, struct ptm_error *err)
{
    s->threads = calloc(s->consumers, sizeof *s->threads);
    if (s->threads == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", s->id);
    for (uint32_t i = 0; i < s->consumers; i++) {
        pthread_mutex_lock(&s->lock);
        s->running++;
        pthread_mutex_unlock(&s->lock);
        if (pthread_create(&s->threads[i], NULL, consume, s) != 0) {
            pthread_mutex_lock(&s->lock);
            s->running--;
            pthread_mutex_unlock(&s->lock);
            return ptm_error_set(err, PTM_ENOMEM, "exporter %s: cannot start sending thread %u: %s", s->id, i,
                                 strerror(errno));
        }
        s->n_threads++;
    }
    return 0;
}

static uint64_t real_now(void)
{
    return ptm_monotonic_ns();
}

static int configure(struct ptm_sender *s, const struct ptm_sender_options *o,
                     const struct ptm_sender_transport *transport, struct ptm_error *err)
{
    s->id = strdup(o->id);
    if (s->id == NULL || asprintf(&s->component, "exporter/%s", o->id) < 0) {
        s->component = NULL;
        return ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", o->id);
    }
    ptm_exporter_labels(s->labels, sizeof s->labels, o->id);
    s->retry = *o->retry;
    s->capacity = o->queue->enabled ? o->queue->queue_size : 1;
    s->consumers = o->queue->enabled ? o->queue->num_consumers : 1;
    if (s->capacity == 0)
        s->capacity = 1;
    if (s->consumers == 0)
        s->consumers = 1;
    s->transport = *transport;
    s->telemetry = o->telemetry;
    s->now = o->now != NULL ? o->now : real_now;
    s->random = o->random;
    s->rng = ptm_monotonic_ns() | 1;
    atomic_init(&s->cancel, false);
    return init_sync(s) == 0 ? 0 : ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", o->id);
}

struct ptm_sender *ptm_sender_create(const struct ptm_sender_options *opts,
                                     const struct ptm_sender_transport *transport, struct ptm_error *err)
{
    struct ptm_sender *s = calloc(1, sizeof *s);
    if (s == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", opts->id);
        return NULL;
    }
    if (configure(s, opts, transport, err) != 0) {
        free(s->id);
        free(s->component);
        free(s);
        return NULL;
    }
    ptm_exporter_describe_telemetry(s->telemetry);
    if (s->telemetry != NULL)
        ptm_telemetry_set(s->telemetry, PTM_EXPORTER_QUEUE_LENGTH, s->labels, 0);
    if ((opts->storage_directory != NULL && open_disk(s, opts->storage_directory, err) != 0) ||
        start_threads(s, err) != 0) {
        ptm_sender_destroy(s);
        return NULL;
    }
    return s;
}

// Wait for the consumers to empty the queue, until deadline; then cancel
// what is still going on. Lock held.
static void drain_until(struct ptm_sender *s, uint64_t deadline)
{
    struct timespec ts = monotonic_deadline(deadline);
    while (s->running > 0 && !s->aborted && ptm_monotonic_ns() < deadline)
        if (pthread_cond_timedwait(&s->exited, &s->lock, &ts) == ETIMEDOUT)
            break;
    if (s->running > 0) {
        atomic_store(&s->cancel, true);
        pthread_cond_broadcast(&s->work);
        pthread_cond_broadcast(&s->wake);
    }
}

// What the consumers did not take: on disk it waits for the next user of
// the directory, in memory it is lost.
static void release_queue(struct ptm_sender *s)
{
    size_t kept = 0;
    pthread_mutex_lock(&s->lock);
    struct node *n = s->head;
    s->head = s->tail = NULL;
    s->length = 0;
    update_queue_gauge(s);
    for (struct node *k = n; k != NULL; k = k->next) {
        if (k->req.disk_seq != 0) {
            keep_leftover(s, k->req.disk_seq);
            kept++;
        }
    }
    pthread_mutex_unlock(&s->lock);
    while (n != NULL) {
        struct node *next = n->next;
        if (n->req.disk_seq != 0)
            free_node(n);
        else
            drop(s, n, "not sent before the shutdown deadline");
        n = next;
    }
    if (kept > 0)
        ptm_log_info(s->component, "shutdown: %zu queued requests stay in the disk queue %s", kept,
                     ptm_disk_queue_directory(s->disk));
}

void ptm_sender_shutdown(struct ptm_sender *s, uint64_t deadline)
{
    pthread_mutex_lock(&s->lock);
    if (s->shut_down) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->shut_down = true;
    s->closing = true;
    pthread_cond_broadcast(&s->work);
    drain_until(s, deadline);
    pthread_mutex_unlock(&s->lock);
    for (uint32_t i = 0; i < s->n_threads; i++)
        pthread_join(s->threads[i], NULL);
    s->n_threads = 0;
    release_queue(s);
}

void ptm_sender_abort(struct ptm_sender *s)
{
    pthread_mutex_lock(&s->lock);
    s->aborted = true;
    pthread_cond_broadcast(&s->exited);
    pthread_mutex_unlock(&s->lock);
}

void ptm_sender_destroy(struct ptm_sender *s)
{
    if (s == NULL)
        return;
    ptm_sender_shutdown(s, 0);
    ptm_disk_queue_close(s->disk, s->leftover, s->n_leftover);
    free(s->leftover);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->exited);
    pthread_mutex_destroy(&s->lock);
    free(s->threads);
    free(s->component);
    free(s->id);
    free(s);
}
