// SPDX-License-Identifier: Apache-2.0
//
// The public converter (include/profiletometrics.h): a configuration, the
// engine built from it (rules and metric store, api/engine.c), a model that
// each input is decoded into, and a lock. `profiletometrics convert` is a
// client of these functions, like any program that embeds the library.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/engine.h"
#include "api/walk.h"
#include "config/config.h"
#include "decode/decode.h"
#include "encode/encode.h"
#include "util/error.h"
#include "util/read_file.h"

struct ptm_converter {
    pthread_mutex_t lock; // error-checking: a call from inside a callback fails, not hangs
    struct ptm_engine *engine;
    struct ptm_model *model;
    struct ptm_config *config;                    // NULL: no configuration given
    const struct ptm_connector_config *connector; // in config; NULL: the defaults
    char **rule_files;
    size_t rule_file_count;
    bool no_builtin_rules;
    char *scripts_dir;
    ptm_log_fn log;
    void *log_ctx;
};

// ---- logging ----

static void log_line(const struct ptm_converter *c, const char *prefix, const char *text)
{
    if (c->log == NULL) {
        fprintf(stderr, "profiletometrics: %s%s\n", prefix, text);
        return;
    }
    char line[2048];
    snprintf(line, sizeof line, "%s%s", prefix, text);
    c->log(c->log_ctx, line);
}

// The engine's log function: a rule's message, as "RULE: text".
static void log_rule(void *ctx, const char *rule, const char *text)
{
    const struct ptm_converter *c = ctx;
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s%s", rule ? rule : "", rule ? ": " : "");
    log_line(c, prefix, text);
}

// ---- creating ----

static int load_config(struct ptm_converter *c, const struct ptm_options *o, struct ptm_error *err)
{
    if (o->config_file == NULL && o->config_yaml == NULL)
        return 0;
    struct ptm_config_report report = {0};
    c->config = o->config_file ? ptm_config_load_file_report(o->config_file, &report, err)
                               : ptm_config_load_string_report(o->config_yaml, NULL, &report, err);
    for (size_t i = 0; i < report.warnings.count; i++)
        log_line(c, "warning: ", report.warnings.items[i].text);
    for (size_t i = 0; i < report.errors.count; i++)
        log_line(c, "", report.errors.items[i].text);
    ptm_config_report_fini(&report);
    return c->config != NULL ? 0 : err->code;
}

// The connector: the one named, else the first of the configuration, else
// the defaults (NULL). Like the configuration's own errors, a missing one is
// logged as well.
static int pick_connector(struct ptm_converter *c, const char *id, struct ptm_error *err)
{
    if (id == NULL) {
        c->connector = c->config && c->config->connector_count ? &c->config->connectors[0] : NULL;
        return 0;
    }
    if (c->config == NULL)
        ptm_error_set(err, PTM_ECONFIG, "connector %s: no configuration given to look it up in", id);
    else if ((c->connector = ptm_config_find_connector(c->config, id)) == NULL)
        ptm_error_set(err, PTM_ECONFIG, "%s defines no connector %s",
                      c->config->file ? c->config->file : "the configuration", id);
    else
        return 0;
    log_line(c, "", err->message);
    return err->code;
}

static int copy_options(struct ptm_converter *c, const struct ptm_options *o, struct ptm_error *err)
{
    c->log = o->log;
    c->log_ctx = o->log_ctx;
    c->no_builtin_rules = o->no_builtin_rules;
    if (o->scripts_dir != NULL && (c->scripts_dir = strdup(o->scripts_dir)) == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory copying the options");
    if (o->rule_file_count == 0)
        return 0;
    c->rule_files = calloc(o->rule_file_count, sizeof *c->rule_files);
    if (c->rule_files == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory copying the options");
    for (; c->rule_file_count < o->rule_file_count; c->rule_file_count++) {
        const char *path = o->rule_files[c->rule_file_count];
        if (path == NULL)
            return ptm_error_set(err, PTM_EINVAL, "rule_files[%zu] is NULL", c->rule_file_count);
        if ((c->rule_files[c->rule_file_count] = strdup(path)) == NULL)
            return ptm_error_set(err, PTM_ENOMEM, "out of memory copying the options");
    }
    return 0;
}

static struct ptm_engine *make_engine(struct ptm_converter *c, struct ptm_error *err)
{
    struct ptm_engine_options eo = {
        .connector = c->connector,
        .rule_files = (const char *const *)c->rule_files,
        .rule_file_count = c->rule_file_count,
        .no_builtin_rules = c->no_builtin_rules,
        .source_dir = c->scripts_dir,
        .log = c->log ? log_rule : NULL,
        .log_ctx = c,
    };
    return ptm_engine_create(&eo, err);
}

static int check_options(const struct ptm_options *o, struct ptm_error *err)
{
    if (o->config_file != NULL && o->config_yaml != NULL)
        return ptm_error_set(err, PTM_EINVAL, "set config_file or config_yaml, not both");
    if (o->rule_file_count > 0 && o->rule_files == NULL)
        return ptm_error_set(err, PTM_EINVAL, "rule_file_count is %zu but rule_files is NULL",
                             o->rule_file_count);
    return 0;
}

struct ptm_converter *ptm_converter_create(const struct ptm_options *opts, struct ptm_error *err)
{
    static const struct ptm_options defaults;
    struct ptm_error scratch;
    if (err == NULL)
        err = &scratch; // the steps below read err->code
    const struct ptm_options *o = opts ? opts : &defaults;
    if (check_options(o, err) != 0)
        return NULL;
    struct ptm_converter *c = calloc(1, sizeof *c);
    if (c == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory creating the converter");
        return NULL;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    int locked = pthread_mutex_init(&c->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (locked != 0) {
        free(c);
        ptm_error_set(err, PTM_ENOMEM, "cannot create the converter's lock: %s", strerror(locked));
        return NULL;
    }
    if (copy_options(c, o, err) != 0 || load_config(c, o, err) != 0 || pick_connector(c, o->connector, err) != 0)
        goto fail;
    if ((c->engine = make_engine(c, err)) == NULL)
        goto fail;
    if ((c->model = ptm_model_create()) == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "out of memory creating the profile model");
        goto fail;
    }
    return c;
fail:
    ptm_converter_destroy(c);
    return NULL;
}

void ptm_converter_destroy(struct ptm_converter *converter)
{
    struct ptm_converter *c = converter;
    if (c == NULL)
        return;
    ptm_model_destroy(c->model);
    ptm_engine_destroy(c->engine);
    ptm_config_destroy(c->config);
    for (size_t i = 0; i < c->rule_file_count; i++)
        free(c->rule_files[i]);
    free(c->rule_files);
    free(c->scripts_dir);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

// ---- the lock ----

static int lock(struct ptm_converter *c, struct ptm_error *err)
{
    if (c == NULL)
        return ptm_error_set(err, PTM_EINVAL, "the converter is NULL");
    int rc = pthread_mutex_lock(&c->lock);
    if (rc == EDEADLK)
        return ptm_error_set(err, PTM_EINVAL, "called on a converter from inside one of its own callbacks");
    if (rc != 0)
        return ptm_error_set(err, PTM_EINVAL, "cannot lock the converter: %s", strerror(rc));
    return 0;
}

static void unlock(struct ptm_converter *c)
{
    pthread_mutex_unlock(&c->lock);
}

// ---- feeding ----

static int check_feed_options(const struct ptm_feed_options *o, struct ptm_error *err)
{
    if (o->format < PTM_FORMAT_AUTO || o->format > PTM_FORMAT_PPROF)
        return ptm_error_set(err, PTM_EINVAL, "unknown input format %d", (int)o->format);
    if (o->otlp_version != 0 && (o->otlp_version < 8 || o->otlp_version > 11))
        return ptm_error_set(err, PTM_EINVAL, "unknown OTLP version %d (0 to detect, or 8 to 11 for v1.8 to v1.11)",
                             o->otlp_version);
    return 0;
}

// Decode, then convert what decoded, even when part of the input was bad.
// A failure of the rule runtime outranks a decoding error.
static int feed_locked(struct ptm_converter *c, const void *data, size_t len, const struct ptm_feed_options *o,
                       struct ptm_feed_result *r, struct ptm_error *err)
{
    struct ptm_model *m = c->model;
    struct ptm_decode_options dopts = {.format = o->format, .otlp_version = o->otlp_version};
    ptm_model_reset(m);
    int rc = ptm_decode(m, data, len, &dopts, err);
    r->rejected_profiles = m->rejected_profiles;
    if (m->profiles.len > 0) {
        struct ptm_error rule_err;
        unsigned failed = 0;
        int rule_rc = ptm_engine_convert(c->engine, m, &failed, &rule_err);
        r->rule_failures = failed;
        if (rule_rc == 0) {
            r->profiles = m->profiles.len;
            for (uint32_t i = 0; i < m->profiles.len; i++)
                r->samples += m->profiles.data[i].samples.len;
        } else {
            rc = rule_rc;
            if (err != NULL)
                *err = rule_err;
        }
    }
    ptm_model_reset(m); // the model's views point into data, which the caller keeps
    return rc;
}

int ptm_converter_feed(struct ptm_converter *converter, const void *data, size_t len,
                       const struct ptm_feed_options *opts, struct ptm_feed_result *result,
                       struct ptm_error *err)
{
    static const struct ptm_feed_options defaults;
    struct ptm_feed_result r = {0};
    const struct ptm_feed_options *o = opts ? opts : &defaults;
    int rc = data == NULL && len > 0 ? ptm_error_set(err, PTM_EINVAL, "data is NULL") : check_feed_options(o, err);
    if (rc == 0 && (rc = lock(converter, err)) == 0) {
        rc = feed_locked(converter, data, len, o, &r, err);
        unlock(converter);
    }
    if (result != NULL)
        *result = r;
    return rc;
}

int ptm_converter_feed_file(struct ptm_converter *converter, const char *path,
                            const struct ptm_feed_options *opts, struct ptm_feed_result *result,
                            struct ptm_error *err)
{
    if (path == NULL) {
        if (result != NULL)
            memset(result, 0, sizeof *result);
        return ptm_error_set(err, PTM_EINVAL, "path is NULL");
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = ptm_read_file(path, &data, &len, err);
    if (rc == 0) {
        rc = ptm_converter_feed(converter, data, len, opts, result, err);
        if (rc != 0 && rc != PTM_ERULE && rc != PTM_ENOMEM)
            ptm_error_prefix(err, "%s", path);
    } else if (result != NULL) {
        memset(result, 0, sizeof *result);
    }
    free(data);
    return rc;
}

// ---- collecting ----

static uint64_t clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Lock and collect the store; on success the caller unlocks after using snap.
static int lock_and_collect(struct ptm_converter *c, const struct ptm_collect_options *o,
                            struct ptm_snapshot *snap, struct ptm_error *err)
{
    int rc = lock(c, err);
    if (rc != 0)
        return rc;
    uint64_t now = o->now_unix_nano ? o->now_unix_nano : clock_now();
    if (ptm_store_collect(ptm_engine_store(c->engine), now, snap) != 0) {
        unlock(c);
        return ptm_error_set(err, PTM_ENOMEM, "out of memory collecting the metrics");
    }
    return 0;
}

int ptm_converter_collect(struct ptm_converter *converter, enum ptm_output_format format,
                          const struct ptm_collect_options *opts, char **out, size_t *out_len,
                          struct ptm_error *err)
{
    static const struct ptm_collect_options defaults;
    const struct ptm_collect_options *o = opts ? opts : &defaults;
    if (out == NULL || out_len == NULL)
        return ptm_error_set(err, PTM_EINVAL, "out and out_len must not be NULL");
    *out = NULL;
    *out_len = 0;
    if (format < PTM_OUTPUT_OTLP || format > PTM_OUTPUT_TABLE)
        return ptm_error_set(err, PTM_EINVAL, "unknown output format %d", (int)format);
    struct ptm_snapshot snap;
    int rc = lock_and_collect(converter, o, &snap, err);
    if (rc != 0)
        return rc;
    struct ptm_strbuf buf = {0};
    struct ptm_encode_options eo = {.resource_to_labels = o->resource_to_labels,
                                    .no_name_suffixes = o->no_name_suffixes};
    rc = ptm_encode(&snap, format, &eo, &buf);
    ptm_snapshot_free(&snap);
    unlock(converter);
    if (rc == 0 && buf.data == NULL)
        ptm_strbuf_append(&buf, "", 0); // nothing to say: an empty buffer, still one to free
    if (rc != 0 || buf.failed || buf.data == NULL) {
        ptm_strbuf_free(&buf);
        return ptm_error_set(err, PTM_ENOMEM, "out of memory encoding the metrics");
    }
    *out = buf.data;
    *out_len = buf.len;
    return 0;
}

void ptm_free(void *ptr)
{
    free(ptr);
}

int ptm_converter_walk(struct ptm_converter *converter, const struct ptm_collect_options *opts,
                       ptm_data_point_fn fn, void *ctx, struct ptm_error *err)
{
    static const struct ptm_collect_options defaults;
    if (fn == NULL)
        return ptm_error_set(err, PTM_EINVAL, "the data point function is NULL");
    struct ptm_snapshot snap;
    int rc = lock_and_collect(converter, opts ? opts : &defaults, &snap, err);
    if (rc != 0)
        return rc;
    rc = ptm_walk_snapshot(&snap, fn, ctx, err);
    ptm_snapshot_free(&snap);
    unlock(converter);
    return rc;
}

// ---- starting over ----

int ptm_converter_reset(struct ptm_converter *converter, struct ptm_error *err)
{
    struct ptm_error scratch;
    if (err == NULL)
        err = &scratch;
    int rc = lock(converter, err);
    if (rc != 0)
        return rc;
    struct ptm_engine *fresh = make_engine(converter, err);
    if (fresh != NULL) {
        ptm_engine_destroy(converter->engine);
        converter->engine = fresh;
    } else {
        rc = err->code;
    }
    unlock(converter);
    return rc;
}
