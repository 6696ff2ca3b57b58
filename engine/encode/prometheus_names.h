// SPDX-License-Identifier: Apache-2.0
//
// OpenTelemetry to Prometheus naming: metric names with unit and _total
// suffixes, sanitized label names, attribute values as label text, and the
// job / instance labels made from a resource's service attributes.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "metrics/store.h"
#include "util/arena.h"

/// Labels one series can carry: 128 attributes of its own, 128 of its
/// resource, job and instance.
#define PTM_PROMETHEUS_MAX_LABELS 258

/// The Prometheus name of a metric, in arena; NULL when out of memory.
/// Without no_suffixes the name is split into words at every character that
/// is not a letter or digit, the unit's word is added unless already there
/// ("s" -> seconds, "By" -> bytes, "1" -> none, "1/s" -> per_second,
/// annotations such as "{packet}" -> none), and counters end in "total":
/// cpu.time in s -> cpu_time_seconds_total. With no_suffixes, every character
/// outside [a-zA-Z0-9_:] becomes '_'. A leading digit gets a '_' before it.
const char *ptm_prometheus_metric_name(struct ptm_arena *arena, const struct ptm_metric_def *def,
                                       bool no_suffixes);

/// A label name from the attribute key string_id: every character outside
/// [a-zA-Z0-9_] becomes '_' (one per UTF-8 character), a leading digit gets
/// a '_' before it. In arena; NULL when out of memory.
const char *ptm_prometheus_label_name(struct ptm_arena *arena, const struct ptm_store *store,
                                      uint32_t string_id);

/// The text of attribute value id, in arena (NUL-terminated; the store's
/// strings hold no NUL). NULL when out of memory.
const char *ptm_prometheus_value_text(struct ptm_arena *arena, const struct ptm_store *store,
                                      uint32_t value);

/// True for service.name, service.namespace and service.instance.id, the
/// resource attributes that become job and instance.
bool ptm_prometheus_is_service_key(const struct ptm_store *store, uint32_t string_id);

/// job ("namespace/name", or "name"; NULL without service.name) and instance
/// (service.instance.id, or NULL) of a resource's attribute set. 0, or -1
/// when out of memory.
int ptm_prometheus_job_instance(struct ptm_arena *arena, const struct ptm_store *store, uint32_t set,
                                const char **job, const char **instance);
