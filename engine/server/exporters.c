// SPDX-License-Identifier: Apache-2.0
//
// The exporter factory: one constructor per exporter type.
#include "server/component.h"
#include "util/error.h"

struct ptm_exporter *ptm_exporter_create(const struct ptm_exporter_config *cfg, const struct ptm_config *config,
                                         struct ptm_telemetry *telemetry, struct ptm_error *err)
{
    switch (cfg->type) {
    case PTM_EXPORTER_DEBUG: return ptm_exporter_debug_create(cfg, config, telemetry, err);
    case PTM_EXPORTER_OTLP: return ptm_exporter_otlp_grpc_create(cfg, config, telemetry, err);
    case PTM_EXPORTER_OTLPHTTP: return ptm_exporter_otlphttp_create(cfg, config, telemetry, err);
    case PTM_EXPORTER_PROMETHEUS: return ptm_exporter_prometheus_create(cfg, config, telemetry, err);
    case PTM_EXPORTER_FILE: return ptm_exporter_file_create(cfg, config, telemetry, err);
    }
    ptm_error_set(err, PTM_ECONFIG, "exporter %s: unknown type", cfg->id);
    return NULL;
}
