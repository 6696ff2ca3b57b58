// SPDX-License-Identifier: Apache-2.0
//
// Helpers the encoders share: numbers printed the same way everywhere, and
// walking a snapshot's points in runs of one resource or one metric.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "encode/encode.h"

/// Room for any number ptm_format_double writes, with its NUL.
#define PTM_NUMBER_TEXT_MAX 32

/// Print a finite double so that strtod reads back the same value, in the
/// fewest digits: integral values of up to 17 digits in plain decimal ("3",
/// not "3e+00" or "3.0000000000000000"), others as %.15g, %.16g or %.17g,
/// whichever is the first to round-trip. -0 prints as "0". Non-finite values
/// print as "NaN", "+Inf" and "-Inf" (the store never lets them into points).
/// Returns the length written to buf.
size_t ptm_format_double(char buf[PTM_NUMBER_TEXT_MAX], double value);

/// Append an attribute value as text: strings as they are, integers in
/// decimal, doubles as ptm_format_double, booleans as true/false.
void ptm_put_value_text(struct ptm_strbuf *out, const struct ptm_store *store, uint32_t value);

/// A point value as the integer an int metric encodes: rounded half away
/// from zero and held to the int64 range.
int64_t ptm_point_int(double value);

/// End of the run of points from i on that share points[i]'s resource.
size_t ptm_resource_run_end(const struct ptm_snapshot *snapshot, size_t i);

/// End of the run of points from i on that share points[i]'s resource and metric.
size_t ptm_metric_run_end(const struct ptm_snapshot *snapshot, size_t i);
