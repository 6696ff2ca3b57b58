// SPDX-License-Identifier: Apache-2.0
//
// The bearer token authenticator of auth.h. Its state (scheme, tokens, the
// file's identity) sits behind one mutex: a check holds it for a string
// comparison per token, an update swaps in a token list read beforehand.
#include "server/auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "server/log.h"
#include "util/error.h"
#include "util/strbuf.h"

#define MAX_TOKEN_FILE ((size_t)1 << 20)
#define FILE_CHECK_NS 1000000000ull

struct token_list {
    char **items;
    size_t *lengths;
    size_t count;
};

// What identifies a version of the token file.
struct file_stamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct ptm_auth {
    char *id;
    char *component; // "extension/ID", for the log
    char *header;
    pthread_mutex_t lock;
    char *scheme;
    char *filename; // NULL: the tokens came from the configuration
    struct token_list tokens;
    struct file_stamp stamp;
    uint64_t checked_ns; // when the file was last looked at
    bool file_failing;   // its last read failed (logged once until it works again)
};

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void tokens_free(struct token_list *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->items[i]);
    free(t->items);
    free(t->lengths);
    *t = (struct token_list){0};
}

static int tokens_add(struct token_list *t, const char *token, size_t len)
{
    char **items = realloc(t->items, (t->count + 1) * sizeof *items);
    if (items == NULL)
        return PTM_ENOMEM;
    t->items = items;
    size_t *lengths = realloc(t->lengths, (t->count + 1) * sizeof *lengths);
    if (lengths == NULL)
        return PTM_ENOMEM;
    t->lengths = lengths;
    if ((t->items[t->count] = strndup(token, len)) == NULL)
        return PTM_ENOMEM;
    t->lengths[t->count++] = len;
    return 0;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// One token per line, blanks around it and empty lines dropped.
static int tokens_parse(struct token_list *t, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && text[end] != '\n')
            end++;
        size_t a = i, b = end;
        while (a < b && blank(text[a]))
            a++;
        while (b > a && blank(text[b - 1]))
            b--;
        if (b > a && tokens_add(t, text + a, b - a) != 0)
            return PTM_ENOMEM;
        i = end + 1;
    }
    return 0;
}

static void stamp_of(const struct stat *st, struct file_stamp *out)
{
    *out = (struct file_stamp){st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim};
}

static bool same_stamp(const struct file_stamp *a, const struct file_stamp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

// Read path into out (and its identity into stamp). The messages name the
// file, never what it holds.
static int read_token_file(const char *path, struct token_list *out, struct file_stamp *stamp, struct ptm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ptm_error_set(err, PTM_EIO, "token file %s: %s", path, strerror(errno));
    struct stat st;
    struct ptm_strbuf text = {0};
    int rc = 0;
    if (fstat(fileno(f), &st) != 0) {
        rc = ptm_error_set(err, PTM_EIO, "token file %s: %s", path, strerror(errno));
    } else if ((size_t)st.st_size > MAX_TOKEN_FILE) {
        rc = ptm_error_set(err, PTM_ELIMIT, "token file %s: larger than %zu bytes", path, MAX_TOKEN_FILE);
    } else {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0 && text.len <= MAX_TOKEN_FILE)
            ptm_strbuf_append(&text, buf, n);
        if (ferror(f))
            rc = ptm_error_set(err, PTM_EIO, "token file %s: cannot read it", path);
        else if (text.failed)
            rc = ptm_error_set(err, PTM_ENOMEM, "token file %s: out of memory", path);
        else if (tokens_parse(out, text.data ? text.data : "", text.len) != 0)
            rc = ptm_error_set(err, PTM_ENOMEM, "token file %s: out of memory", path);
        else if (out->count == 0)
            rc = ptm_error_set(err, PTM_EFORMAT, "token file %s: holds no token", path);
        stamp_of(&st, stamp);
    }
    fclose(f);
    ptm_strbuf_free(&text);
    if (rc != 0)
        tokens_free(out);
    return rc;
}

// The tokens cfg gives: from its file, or as written.
static int tokens_of(const struct ptm_bearer_token_config *cfg, struct token_list *out, struct file_stamp *stamp,
                     struct ptm_error *err)
{
    *out = (struct token_list){0};
    if (cfg->filename != NULL)
        return read_token_file(cfg->filename, out, stamp, err);
    for (size_t i = 0; i < cfg->token_count; i++)
        if (tokens_add(out, cfg->tokens[i], strlen(cfg->tokens[i])) != 0) {
            tokens_free(out);
            return ptm_error_set(err, PTM_ENOMEM, "out of memory");
        }
    if (out->count == 0)
        return ptm_error_set(err, PTM_ECONFIG, "no token configured");
    return 0;
}

struct ptm_auth *ptm_auth_create(const char *id, const struct ptm_bearer_token_config *cfg, struct ptm_error *err)
{
    struct ptm_auth *a = calloc(1, sizeof *a);
    if (a == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    bool failed = false;
    a->id = ptm_strdup_or_null(id, &failed);
    a->header = ptm_strdup_or_null(cfg->header ? cfg->header : "Authorization", &failed);
    a->scheme = ptm_strdup_or_null(cfg->scheme ? cfg->scheme : "", &failed);
    a->filename = ptm_strdup_or_null(cfg->filename, &failed);
    char component[192];
    snprintf(component, sizeof component, "extension/%s", id);
    a->component = ptm_strdup_or_null(component, &failed);
    if (failed) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory");
        ptm_auth_destroy(a);
        return NULL;
    }
    if (tokens_of(cfg, &a->tokens, &a->stamp, err) != 0) {
        ptm_error_prefix(err, "extensions.%s", id);
        ptm_auth_destroy(a);
        return NULL;
    }
    a->checked_ns = monotonic_ns();
    return a;
}

void ptm_auth_destroy(struct ptm_auth *a)
{
    if (a == NULL)
        return;
    tokens_free(&a->tokens);
    free(a->id);
    free(a->component);
    free(a->header);
    free(a->scheme);
    free(a->filename);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

int ptm_auth_update(struct ptm_auth *a, const struct ptm_bearer_token_config *cfg, struct ptm_error *err)
{
    struct token_list tokens;
    struct file_stamp stamp = {0};
    bool failed = false;
    char *scheme = ptm_strdup_or_null(cfg->scheme ? cfg->scheme : "", &failed);
    char *filename = ptm_strdup_or_null(cfg->filename, &failed);
    int rc = failed ? ptm_error_set(err, PTM_ENOMEM, "out of memory") : tokens_of(cfg, &tokens, &stamp, err);
    if (rc != 0) {
        ptm_error_prefix(err, "extensions.%s", a->id);
        free(scheme);
        free(filename);
        return rc;
    }
    const char *header = cfg->header ? cfg->header : "Authorization";
    if (strcasecmp(a->header, header) != 0)
        ptm_log_warn(a->component, "header changed to %s: the receivers keep reading %s (restart to apply)", header,
                     a->header);
    pthread_mutex_lock(&a->lock);
    tokens_free(&a->tokens);
    a->tokens = tokens;
    free(a->scheme);
    a->scheme = scheme;
    free(a->filename);
    a->filename = filename;
    a->stamp = stamp;
    a->checked_ns = monotonic_ns();
    a->file_failing = false;
    pthread_mutex_unlock(&a->lock);
    return 0;
}

// With the lock held: read the file again when it changed since it was
// last read (looked at once a second at most).
static void refresh_locked(struct ptm_auth *a)
{
    uint64_t now = monotonic_ns();
    if (a->filename == NULL || now - a->checked_ns < FILE_CHECK_NS)
        return;
    a->checked_ns = now;
    struct stat st;
    struct file_stamp stamp;
    if (stat(a->filename, &st) == 0) {
        stamp_of(&st, &stamp);
        if (same_stamp(&stamp, &a->stamp))
            return;
    }
    struct token_list tokens = {0};
    struct ptm_error err = {0};
    if (read_token_file(a->filename, &tokens, &stamp, &err) != 0) {
        if (!a->file_failing)
            ptm_log_error(a->component, "%s; the %zu token%s read before stay in force", err.message,
                          a->tokens.count, a->tokens.count == 1 ? "" : "s");
        a->file_failing = true;
        a->stamp = (struct file_stamp){0};
        return;
    }
    tokens_free(&a->tokens);
    a->tokens = tokens;
    a->stamp = stamp;
    a->file_failing = false;
    ptm_log_info(a->component, "token file %s changed: %zu token%s read", a->filename, tokens.count,
                 tokens.count == 1 ? "" : "s");
}

// Equal in a time that depends on the lengths only: every byte of the
// expected token is looked at, whatever the first difference.
static bool same_secret(const char *given, size_t given_len, const char *want, size_t want_len)
{
    unsigned char diff = given_len != want_len;
    for (size_t i = 0; i < want_len; i++)
        diff |= (unsigned char)((i < given_len ? given[i] : 0) ^ want[i]);
    return diff == 0;
}

enum ptm_auth_result ptm_auth_check(struct ptm_auth *a, const char *value, size_t len)
{
    if (value == NULL)
        return PTM_AUTH_MISSING;
    while (len > 0 && blank(value[len - 1]))
        len--;
    if (len == 0)
        return PTM_AUTH_MISSING;
    pthread_mutex_lock(&a->lock);
    refresh_locked(a);
    size_t scheme_len = strlen(a->scheme);
    bool scheme_ok = scheme_len == 0 || (len > scheme_len && strncasecmp(value, a->scheme, scheme_len) == 0 &&
                                         value[scheme_len] == ' ');
    const char *token = value;
    if (scheme_len > 0) {
        token += scheme_len;
        while (token < value + len && *token == ' ')
            token++;
    }
    size_t token_len = (size_t)(value + len - token);
    bool match = false;
    for (size_t i = 0; i < a->tokens.count; i++)
        match |= same_secret(token, token_len, a->tokens.items[i], a->tokens.lengths[i]);
    pthread_mutex_unlock(&a->lock);
    return scheme_ok && match ? PTM_AUTH_OK : PTM_AUTH_INVALID;
}

const char *ptm_auth_header(const struct ptm_auth *a)
{
    return a->header;
}

const char *ptm_auth_id(const struct ptm_auth *a)
{
    return a->id;
}

void ptm_auth_challenge(struct ptm_auth *a, enum ptm_auth_result result, char *out, size_t size)
{
    pthread_mutex_lock(&a->lock);
    snprintf(out, size, "%s%s", a->scheme[0] != '\0' ? a->scheme : "Bearer",
             result == PTM_AUTH_INVALID ? " error=\"invalid_token\"" : "");
    pthread_mutex_unlock(&a->lock);
}

const char *ptm_auth_result_text(enum ptm_auth_result result)
{
    switch (result) {
    case PTM_AUTH_OK: return "authenticated";
    case PTM_AUTH_MISSING: return "missing credentials: send the bearer token";
    case PTM_AUTH_INVALID: return "invalid credentials: the scheme or the token does not match";
    }
    return "unknown authentication result";
}
