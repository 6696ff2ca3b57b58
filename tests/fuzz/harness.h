// SPDX-License-Identifier: Apache-2.0
//
// What the decoder fuzz targets share: one model reused across inputs (as
// the service reuses its models), a decode whose result is checked against
// the decoder's contract, and the model invariants of model_check.h.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

/// The model every input decodes into, reset before each decode.
struct ptm_model *fuzz_model(void);

/// A second model, for targets that decode one input two ways.
struct ptm_model *fuzz_other_model(void);

/// fuzz_decode into model (reset first) instead of fuzz_model().
int fuzz_decode_into(struct ptm_model *model, const uint8_t *data, size_t size,
                     const struct ptm_decode_options *opts);

/// Whether a protobuf `string` field of an OTLP request decoded to text
/// that bad() says is bad (the string table, keys, string values, scope
/// names and versions, schema URLs, payload formats; not bytes fields).
bool fuzz_otlp_text_any(const struct ptm_model *model, bool (*bad)(struct ptm_str text));

/// Decode size bytes at data into fuzz_model() with opts, then check the
/// contract: the return code is 0 or an error code, a failure carries a
/// message, a success rejected nothing, and the model keeps every
/// invariant. abort() when one is broken. Returns the decode's result.
int fuzz_decode(const uint8_t *data, size_t size, const struct ptm_decode_options *opts);

/// Decode the bytes with both decoders (the hand-written one and the
/// protobuf-c one), each checked as by fuzz_decode, and, when both succeed,
/// require the same model (tests/unit/model_compare.c, by content): the
/// protobuf-c decoder is the hand-written one's cross-check. abort() on a
/// difference, naming it.
void fuzz_decode_both(const uint8_t *data, size_t size, const struct ptm_decode_options *opts);
