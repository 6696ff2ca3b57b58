// SPDX-License-Identifier: Apache-2.0
//
// The file exporter: every export appended to one file, as the Collector's
// file exporter writes it.
// - format json: one ExportMetricsServiceRequest in OTLP JSON per line;
// - format proto: each request as a 4-byte big-endian length followed by
//   the protobuf ExportMetricsServiceRequest.
// The file is created, or truncated, at start unless append is true, and
// flushed after every write so a reader (or a crash) sees whole requests.
// An export with no data points writes nothing.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"
#include "server/component.h"
#include "server/log.h"
#include "server/sender.h"
#include "util/error.h"

struct file_exporter {
    struct ptm_exporter base;
    char *id;
    char *component;
    char *path;
    char labels[512];
    enum ptm_file_format format;
    struct ptm_telemetry *telemetry;
    pthread_mutex_t lock;
    FILE *file;
};

static void count(struct file_exporter *f, const char *name, double v)
{
    if (f->telemetry != NULL)
        ptm_telemetry_add(f->telemetry, name, f->labels, v);
}

// The bytes of one request in the configured framing.
static int encode(struct file_exporter *f, const struct ptm_snapshot *s, struct ptm_strbuf *out)
{
    if (f->format == PTM_FILE_FORMAT_JSON)
        return ptm_encode_otlp_json(s, out);
    ptm_strbuf_append(out, "\0\0\0\0", 4);
    int rc = ptm_encode_otlp(s, out);
    if (rc != 0 || out->failed)
        return PTM_ENOMEM;
    size_t n = out->len - 4;
    if (n > UINT32_MAX)
        return PTM_ELIMIT;
    for (int i = 0; i < 4; i++)
        out->data[i] = (char)(uint8_t)(n >> (24 - 8 * i));
    return 0;
}

static int write_request(struct file_exporter *f, const struct ptm_strbuf *bytes)
{
    pthread_mutex_lock(&f->lock);
    int rc = f->file == NULL || fwrite(bytes->data, 1, bytes->len, f->file) != bytes->len || fflush(f->file) != 0
                 ? PTM_EIO
                 : 0;
    int saved = errno;
    pthread_mutex_unlock(&f->lock);
    errno = saved;
    return rc;
}

static int file_export(struct ptm_exporter *e, const struct ptm_snapshot *s)
{
    struct file_exporter *f = (struct file_exporter *)e;
    if (s->len == 0)
        return 0;
    struct ptm_strbuf bytes = {0};
    int rc = encode(f, s, &bytes);
    if (rc == 0 && bytes.failed)
        rc = PTM_ENOMEM;
    if (rc == 0 && (rc = write_request(f, &bytes)) != 0)
        ptm_log_error(f->component, "cannot write %s: %s; %zu data points lost", f->path, strerror(errno), s->len);
    else if (rc != 0)
        ptm_log_error(f->component, "cannot encode %zu data points: %s", s->len, ptm_strerror(rc));
    ptm_strbuf_free(&bytes);
    count(f, rc == 0 ? PTM_EXPORTER_SENT : PTM_EXPORTER_FAILED, (double)s->len);
    return rc;
}

static void file_shutdown(struct ptm_exporter *e, uint64_t deadline)
{
    struct file_exporter *f = (struct file_exporter *)e;
    pthread_mutex_lock(&f->lock);
    if (f->file != NULL && fflush(f->file) != 0)
        ptm_log_error(f->component, "cannot flush %s: %s", f->path, strerror(errno));
    pthread_mutex_unlock(&f->lock);
}

static void file_destroy(struct ptm_exporter *e)
{
    struct file_exporter *f = (struct file_exporter *)e;
    if (f == NULL)
        return;
    if (f->file != NULL && fclose(f->file) != 0)
        ptm_log_error(f->component, "cannot close %s: %s", f->path, strerror(errno));
    pthread_mutex_destroy(&f->lock);
    free(f->path);
    free(f->component);
    free(f->id);
    free(f);
}

static const struct ptm_exporter_ops file_ops = {file_export, file_shutdown, file_destroy, NULL};

struct ptm_exporter *ptm_exporter_file_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                              struct ptm_telemetry *telemetry, struct ptm_error *err)
{
    struct file_exporter *f = calloc(1, sizeof *f);
    if (f == NULL) {
        ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", cfg->id);
        return NULL;
    }
    pthread_mutex_init(&f->lock, NULL);
    f->base = (struct ptm_exporter){&file_ops, NULL};
    f->id = strdup(cfg->id);
    f->path = strdup(cfg->file.path);
    if (f->id == NULL || f->path == NULL || asprintf(&f->component, "exporter/%s", cfg->id) < 0) {
        f->component = NULL;
        ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", cfg->id);
        goto fail;
    }
    f->base.id = f->id;
    f->format = cfg->file.format;
    f->telemetry = telemetry;
    ptm_exporter_labels(f->labels, sizeof f->labels, cfg->id);
    ptm_exporter_describe_telemetry(telemetry);
    f->file = fopen(f->path, cfg->file.append ? "ab" : "wb");
    if (f->file == NULL) {
        ptm_error_set(err, PTM_EIO, "exporter %s: cannot open %s: %s", cfg->id, f->path, strerror(errno));
        goto fail;
    }
    return &f->base;
fail:
    file_destroy(&f->base);
    return NULL;
}
