// SPDX-License-Identifier: Apache-2.0
//
// The construction and the ops the otlp and otlphttp exporters share
// (exporter_otlp.h); their transports are in exporter_otlp_grpc.c and
// exporter_otlphttp.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/exporter_otlp.h"
#include "server/log.h"
#include "util/error.h"

static int otlp_export(struct ptm_exporter *e, const struct ptm_snapshot *snapshot)
{
    struct ptm_otlp_exporter *x = (struct ptm_otlp_exporter *)e;
    return ptm_sender_export(x->sender, snapshot, x->flags);
}

static void otlp_shutdown(struct ptm_exporter *e, uint64_t deadline)
{
    struct ptm_otlp_exporter *x = (struct ptm_otlp_exporter *)e;
    ptm_sender_shutdown(x->sender, deadline);
}

static void otlp_destroy(struct ptm_exporter *e)
{
    struct ptm_otlp_exporter *x = (struct ptm_otlp_exporter *)e;
    if (x == NULL)
        return;
    ptm_sender_destroy(x->sender);
    for (size_t i = 0; i < sizeof x->headers / sizeof x->headers[0]; i++)
        curl_slist_free_all(x->headers[i]);
    ptm_client_route_fini(&x->route);
    ptm_client_tls_fini(&x->tls);
    free(x->component);
    free(x->id);
    free(x);
}

static void otlp_abort(struct ptm_exporter *e)
{
    ptm_sender_abort(((struct ptm_otlp_exporter *)e)->sender);
}

static const struct ptm_exporter_ops otlp_ops = {otlp_export, otlp_shutdown, otlp_destroy, otlp_abort};

struct ptm_exporter *ptm_otlp_exporter_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                              struct ptm_telemetry *telemetry,
                                              const struct ptm_otlp_exporter_kind *kind, struct ptm_error *err)
{
    char *storage = NULL;
    struct ptm_otlp_exporter *x = calloc(1, sizeof *x);
    if (x == NULL || (x->id = strdup(cfg->id)) == NULL || asprintf(&x->component, "exporter/%s", cfg->id) < 0) {
        if (x != NULL)
            x->component = NULL;
        ptm_error_set(err, PTM_ENOMEM, "exporter %s: out of memory", cfg->id);
        goto fail;
    }
    x->base = (struct ptm_exporter){&otlp_ops, x->id};
    if (ptm_client_global_init(err) != 0 || kind->configure(x, &cfg->otlp, err) != 0 ||
        ptm_exporter_storage_directory(cfg, config, &storage, err) != 0)
        goto fail;
    struct ptm_sender_options so = {cfg->id, &cfg->otlp.retry_on_failure, &cfg->otlp.sending_queue, storage,
                                    telemetry, NULL, NULL};
    struct ptm_sender_transport t = {x, kind->open, kind->send, kind->close};
    x->sender = ptm_sender_create(&so, &t, err);
    if (x->sender == NULL)
        goto fail;
    free(storage);
    ptm_log_info(x->component, "%s %s", kind->started, x->route.url);
    return &x->base;
fail:
    free(storage);
    otlp_destroy(x != NULL ? &x->base : NULL);
    return NULL;
}
