// SPDX-License-Identifier: Apache-2.0
//
// Handing a metric snapshot to a caller point by point, as the public
// struct ptm_data_point (ptm_converter_walk).
#pragma once

#include "metrics/store.h"
#include "profiletometrics.h"

/// Call fn for every point of snap, in order. Returns 0, the first non-zero
/// value fn returned (the walk stops there), or PTM_ENOMEM.
int ptm_walk_snapshot(const struct ptm_snapshot *snap, ptm_data_point_fn fn, void *ctx, struct ptm_error *err);
