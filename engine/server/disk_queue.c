// SPDX-License-Identifier: Apache-2.0
//
// The on-disk sending queue: one fsync'd file per request, written under a
// temporary name and renamed into place, so a file with the final name is
// always whole; see disk_queue.h for the layout and the guarantees. A
// directory is opened once per process (a registry keyed by its real path)
// and shared by its users, each with its own handle.
#include "server/disk_queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/error.h"

#define HEADER_SIZE 28
#define FORMAT_VERSION 1
#define NAME_DIGITS 20

// A directory open in this process.
struct shared_dir {
    char *path; // the real path: the registry's key
    int dir_fd;
    atomic_uint_fast64_t next_seq;
    pthread_mutex_t lock;            // users
    struct ptm_disk_queue *users;    // newest first
    struct shared_dir *next;         // in the registry
};

struct ptm_disk_queue {
    struct shared_dir *dir;
    struct ptm_disk_queue_user user;
    bool first; // the directory's first user in this process: it loads
    struct ptm_disk_queue *next_user;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_dir *registry;

// ---- little-endian fields ----

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t body_crc(const uint8_t *body, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt n = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
        crc = crc32(crc, body, n);
        body += n;
        len -= n;
    }
    return (uint32_t)crc;
}

// ---- opening ----

// mkdir -p: every missing component of path, mode 0700.
static int make_directories(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return -1;
    int rc = 0;
    for (char *p = copy + 1; rc == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);
    return rc;
}

// "00000000000000000042.req" -> 42 and the suffix. False for other names.
static bool parse_name(const char *name, uint64_t *seq, const char **suffix)
{
    uint64_t v = 0;
    for (int i = 0; i < NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    if (name[NAME_DIGITS] != '.')
        return false;
    *seq = v;
    *suffix = name + NAME_DIGITS + 1;
    return true;
}

// Remove leftover .tmp files and find the highest sequence number in use.
static int scan_directory(struct shared_dir *d, struct ptm_error *err)
{
    DIR *dir = opendir(d->path);
    if (dir == NULL)
        return ptm_error_set(err, PTM_EIO, "disk queue %s: cannot list: %s", d->path, strerror(errno));
    uint64_t highest = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        uint64_t seq;
        const char *suffix;
        if (!parse_name(de->d_name, &seq, &suffix))
            continue;
        if (seq > highest)
            highest = seq;
        if (strcmp(suffix, "tmp") == 0)
            unlinkat(d->dir_fd, de->d_name, 0);
    }
    closedir(dir);
    atomic_store(&d->next_seq, highest + 1);
    return 0;
}

static void shared_dir_free(struct shared_dir *d)
{
    if (d->dir_fd >= 0)
        close(d->dir_fd); // releases the flock
    pthread_mutex_destroy(&d->lock);
    free(d->path);
    free(d);
}

// Open, lock and scan a directory no user in this process has open.
static struct shared_dir *shared_dir_open(char *path, struct ptm_error *err)
{
    struct shared_dir *d = calloc(1, sizeof *d);
    if (d == NULL) {
        free(path);
        ptm_error_set(err, PTM_ENOMEM, "out of memory opening the disk queue");
        return NULL;
    }
    d->path = path;
    pthread_mutex_init(&d->lock, NULL);
    d->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->dir_fd < 0) {
        ptm_error_set(err, PTM_EIO, "disk queue %s: cannot open the directory: %s", path, strerror(errno));
    } else if (flock(d->dir_fd, LOCK_EX | LOCK_NB) != 0) {
        ptm_error_set(err, PTM_EIO, "disk queue %s: %s", path,
                      errno == EWOULDBLOCK ? "in use by another process" : strerror(errno));
    } else if (scan_directory(d, err) == 0) {
        return d;
    }
    shared_dir_free(d);
    return NULL;
}

// The shared directory for path, opened when no user has it; the caller
// holds the registry lock. *first says whether it was opened now.
static struct shared_dir *shared_dir_get(const char *directory, bool *first, struct ptm_error *err)
{
    if (make_directories(directory) != 0) {
        ptm_error_set(err, PTM_EIO, "disk queue %s: cannot create the directory: %s", directory, strerror(errno));
        return NULL;
    }
    char *path = realpath(directory, NULL);
    if (path == NULL) {
        ptm_error_set(err, PTM_EIO, "disk queue %s: %s", directory, strerror(errno));
        return NULL;
    }
    for (struct shared_dir *d = registry; d != NULL; d = d->next) {
        if (strcmp(d->path, path) == 0) {
            free(path);
            *first = false;
            return d;
        }
    }
    struct shared_dir *d = shared_dir_open(path, err);
    if (d != NULL) {
        d->next = registry;
        registry = d;
        *first = true;
    }
    return d;
}

struct ptm_disk_queue *ptm_disk_queue_open(const char *directory, const struct ptm_disk_queue_user *user,
                                           struct ptm_error *err)
{
    struct ptm_disk_queue *q = calloc(1, sizeof *q);
    if (q == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory opening the disk queue %s", directory);
        return NULL;
    }
    q->user = *user;
    pthread_mutex_lock(&registry_lock);
    q->dir = shared_dir_get(directory, &q->first, err);
    if (q->dir != NULL) {
        pthread_mutex_lock(&q->dir->lock);
        q->next_user = q->dir->users;
        q->dir->users = q;
        pthread_mutex_unlock(&q->dir->lock);
    }
    pthread_mutex_unlock(&registry_lock);
    if (q->dir == NULL) {
        free(q);
        return NULL;
    }
    return q;
}

const char *ptm_disk_queue_directory(const struct ptm_disk_queue *q)
{
    return q->dir->path;
}

// ---- writing ----

static void file_name(char *out, size_t cap, uint64_t seq, const char *suffix)
{
    snprintf(out, cap, "%0*" PRIu64 ".%s", NAME_DIGITS, seq, suffix);
}

// Write all of data, across short writes and signals.
static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_file(int fd, const struct ptm_disk_record *rec)
{
    uint8_t header[HEADER_SIZE] = {'P', 'T', 'M', 'Q', FORMAT_VERSION, (uint8_t)rec->flags, 0, 0};
    put_u64(header + 8, rec->points);
    put_u64(header + 16, rec->len);
    put_u32(header + 24, body_crc(rec->body, rec->len));
    if (write_all(fd, header, sizeof header) != 0 || write_all(fd, rec->body, rec->len) != 0)
        return -1;
    return fsync(fd);
}

int ptm_disk_queue_put(struct ptm_disk_queue *q, const struct ptm_disk_record *rec, uint64_t *seq,
                       struct ptm_error *err)
{
    uint64_t n = atomic_fetch_add(&q->dir->next_seq, 1);
    char tmp[64], final[64];
    file_name(tmp, sizeof tmp, n, "tmp");
    file_name(final, sizeof final, n, "req");
    const char *step = "create";
    int fd = openat(q->dir->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    step = "write";
    int rc = write_file(fd, rec);
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    errno = saved;
    if (rc != 0)
        goto fail_unlink;
    step = "rename";
    if (renameat(q->dir->dir_fd, tmp, q->dir->dir_fd, final) != 0)
        goto fail_unlink;
    step = "sync the directory after writing";
    if (fsync(q->dir->dir_fd) != 0)
        goto fail_final;
    *seq = n;
    return 0;
fail_final:
    saved = errno;
    unlinkat(q->dir->dir_fd, final, 0);
    errno = saved;
    goto fail;
fail_unlink:
    saved = errno;
    unlinkat(q->dir->dir_fd, tmp, 0);
    errno = saved;
fail:
    saved = errno;
    ptm_error_set(err, PTM_EIO, "disk queue %s/%s: cannot %s: %s", q->dir->path, tmp, step, strerror(saved));
    errno = saved;
    return PTM_EIO;
}

int ptm_disk_queue_remove(struct ptm_disk_queue *q, uint64_t seq, struct ptm_error *err)
{
    char name[64];
    file_name(name, sizeof name, seq, "req");
    if (unlinkat(q->dir->dir_fd, name, 0) != 0)
        return ptm_error_set(err, PTM_EIO, "disk queue %s/%s: cannot delete: %s", q->dir->path, name,
                             strerror(errno));
    // Without this a crash could bring the file back, and the request
    // would be sent a second time.
    if (fsync(q->dir->dir_fd) != 0)
        return ptm_error_set(err, PTM_EIO, "disk queue %s: cannot sync the directory after deleting %s: %s",
                             q->dir->path, name, strerror(errno));
    return 0;
}

// ---- loading ----

struct stored {
    uint64_t seq;
    char name[NAME_DIGITS + 8];
};

static int by_seq(const void *a, const void *b)
{
    const struct stored *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

// The .req files, sorted oldest first, into *out (malloc'd).
static int list_requests(struct ptm_disk_queue *q, struct stored **out, size_t *count)
{
    DIR *dir = opendir(q->dir->path);
    if (dir == NULL)
        return PTM_EIO;
    struct stored *list = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        uint64_t seq;
        const char *suffix;
        if (!parse_name(de->d_name, &seq, &suffix) || strcmp(suffix, "req") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct stored *grown = realloc(list, cap * sizeof *list);
            if (grown == NULL) {
                rc = PTM_ENOMEM;
                break;
            }
            list = grown;
        }
        list[n].seq = seq;
        file_name(list[n].name, sizeof list[n].name, seq, "req");
        n++;
    }
    closedir(dir);
    if (rc != 0) {
        free(list);
        return rc;
    }
    if (n > 0)
        qsort(list, n, sizeof *list, by_seq);
    *out = list;
    *count = n;
    return 0;
}

// Read the whole file; its size is checked against the header before the
// body is allocated. Returns NULL with why filled when it is not a request.
static uint8_t *read_request(int fd, uint64_t *points, uint32_t *flags, size_t *len, char *why, size_t cap)
{
    struct stat st;
    uint8_t header[HEADER_SIZE];
    if (fstat(fd, &st) != 0) {
        snprintf(why, cap, "cannot stat: %s", strerror(errno));
        return NULL;
    }
    if (st.st_size < HEADER_SIZE) {
        snprintf(why, cap, "%jd bytes, shorter than the %d-byte header", (intmax_t)st.st_size, HEADER_SIZE);
        return NULL;
    }
    if (pread(fd, header, sizeof header, 0) != (ssize_t)sizeof header) {
        snprintf(why, cap, "cannot read the header: %s", strerror(errno));
        return NULL;
    }
    if (memcmp(header, "PTMQ", 4) != 0 || header[4] != FORMAT_VERSION) {
        snprintf(why, cap, "not a request file of this version (magic or version byte wrong)");
        return NULL;
    }
    uint64_t body_len = get_u64(header + 16);
    if (body_len != (uint64_t)st.st_size - HEADER_SIZE) {
        snprintf(why, cap, "header says %" PRIu64 " body bytes, the file holds %jd", body_len,
                 (intmax_t)(st.st_size - HEADER_SIZE));
        return NULL;
    }
    uint8_t *body = malloc(body_len > 0 ? body_len : 1);
    if (body == NULL) {
        snprintf(why, cap, "out of memory reading %" PRIu64 " bytes", body_len);
        return NULL;
    }
    if (pread(fd, body, body_len, HEADER_SIZE) != (ssize_t)body_len) {
        snprintf(why, cap, "short read: %s", strerror(errno));
    } else if (body_crc(body, body_len) != get_u32(header + 24)) {
        snprintf(why, cap, "checksum mismatch (the body is damaged)");
    } else {
        *points = get_u64(header + 8);
        *flags = header[5];
        *len = body_len;
        return body;
    }
    free(body);
    return NULL;
}

// Move a bad file aside so it is not read again, and say so.
static void set_aside(struct ptm_disk_queue *q, const struct stored *s, const char *why)
{
    char aside[64], message[512];
    file_name(aside, sizeof aside, s->seq, "corrupt");
    int moved = renameat(q->dir->dir_fd, s->name, q->dir->dir_fd, aside);
    snprintf(message, sizeof message, "disk queue %s/%s: skipped: %s; %s%s", q->dir->path, s->name, why,
             moved == 0 ? "kept as " : "could not rename it: ", moved == 0 ? aside : strerror(errno));
    if (q->user.report != NULL)
        q->user.report(q->user.ctx, message);
}

// Read one stored request and hand it to visit. 0 when it was set aside.
static int read_one(struct ptm_disk_queue *q, const struct stored *s, ptm_disk_queue_visit visit, void *ctx,
                    int *visited)
{
    char why[256];
    int fd = openat(q->dir->dir_fd, s->name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, sizeof why, "cannot open: %s", strerror(errno));
        set_aside(q, s, why);
        return 0;
    }
    uint64_t points = 0;
    uint32_t flags = 0;
    size_t len = 0;
    uint8_t *body = read_request(fd, &points, &flags, &len, why, sizeof why);
    close(fd);
    if (body == NULL) {
        set_aside(q, s, why);
        return 0;
    }
    (*visited)++;
    return visit(ctx, s->seq, body, len, points, flags);
}

int ptm_disk_queue_load(struct ptm_disk_queue *q, ptm_disk_queue_visit visit)
{
    if (!q->first)
        return 0;
    struct stored *list = NULL;
    size_t count = 0;
    int rc = list_requests(q, &list, &count);
    if (rc != 0)
        return rc;
    int visited = 0;
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = read_one(q, &list[i], visit, q->user.ctx, &visited);
    free(list);
    return rc != 0 ? (rc < 0 ? rc : PTM_EINVAL) : visited;
}

// ---- closing ----

static int by_seq_descending(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x > y ? -1 : x < y;
}

// Give heir the requests leaving holds, newest first. The directory's
// user lock is held, so heir cannot close meanwhile.
static void hand_over(struct ptm_disk_queue *leaving, struct ptm_disk_queue *heir, const uint64_t *leftover,
                      size_t n)
{
    uint64_t *seqs = malloc(n * sizeof *seqs);
    if (seqs == NULL)
        return; // they stay on disk for the next start
    memcpy(seqs, leftover, n * sizeof *seqs);
    qsort(seqs, n, sizeof *seqs, by_seq_descending);
    int visited = 0;
    for (size_t i = 0; i < n; i++) {
        struct stored s = {seqs[i], ""};
        file_name(s.name, sizeof s.name, s.seq, "req");
        read_one(leaving, &s, heir->user.adopt, heir->user.ctx, &visited);
    }
    free(seqs);
}

// Drop one reference to a directory; the last closes it. Registry lock held.
static void shared_dir_release(struct shared_dir *d)
{
    if (d->users != NULL)
        return;
    for (struct shared_dir **p = &registry; *p != NULL; p = &(*p)->next) {
        if (*p == d) {
            *p = d->next;
            break;
        }
    }
    shared_dir_free(d);
}

void ptm_disk_queue_close(struct ptm_disk_queue *q, const uint64_t *leftover, size_t n)
{
    if (q == NULL)
        return;
    struct shared_dir *d = q->dir;
    pthread_mutex_lock(&registry_lock);
    pthread_mutex_lock(&d->lock);
    for (struct ptm_disk_queue **p = &d->users; *p != NULL; p = &(*p)->next_user) {
        if (*p == q) {
            *p = q->next_user;
            break;
        }
    }
    if (d->users != NULL && n > 0)
        hand_over(q, d->users, leftover, n);
    pthread_mutex_unlock(&d->lock);
    shared_dir_release(d);
    pthread_mutex_unlock(&registry_lock);
    free(q);
}
