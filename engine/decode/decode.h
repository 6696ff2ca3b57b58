// SPDX-License-Identifier: Apache-2.0
//
// Decoding profile bytes into the model. ptm_decode undoes gzip, detects the
// format (OTLP protobuf, OTLP JSON or JSON Lines, the Collector file
// exporter's framed stream, pprof) and the OTLP version, decodes, then
// validates every index. The per-format decoders below are what it calls.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "profiletometrics.h"

#define PTM_DEFAULT_MAX_DECOMPRESSED ((size_t)1 << 30)
#define PTM_DEFAULT_JSON_MAX_DEPTH 64

enum ptm_decoder {
    PTM_DECODER_FAST = 0,   // the hand-written wire decoders (default)
    PTM_DECODER_PROTOBUF_C, // protobuf-c generated code; slower, the cross-check
};

struct ptm_decode_options {
    enum ptm_format format;  // PTM_FORMAT_AUTO: detect
    int otlp_version;        // 0: detect; 8, 9, 10 or 11 force one
    size_t max_decompressed; // 0: PTM_DEFAULT_MAX_DECOMPRESSED
    int json_max_depth;      // 0: PTM_DEFAULT_JSON_MAX_DEPTH
    enum ptm_decoder decoder;
};

/// Decode len bytes at data (borrowed: the model keeps views into them, so
/// they must outlive its next reset) and append them to the model as one or
/// more batches. opts may be NULL for the defaults.
///
/// Returns 0 when everything decoded and validated. On a malformed or
/// unsupported input returns PTM_EFORMAT, PTM_EUNSUPPORTED or PTM_ELIMIT
/// with err naming the message, field and index. When only some profiles
/// are bad, those are left out, counted in model->rejected_profiles, the
/// rest stay in the model, and the return value is PTM_EFORMAT with the
/// first problem in err. On any other failure the model is as before.
int ptm_decode(struct ptm_model *model, const void *data, size_t len,
               const struct ptm_decode_options *opts, struct ptm_error *err);

/// Guess the format of (already decompressed) bytes. Never returns AUTO:
/// bytes that look like nothing known are reported as OTLP protobuf, whose
/// decoder then says what is wrong with them.
enum ptm_format ptm_detect_format(const uint8_t *data, size_t len);

/// True when data starts with the gzip magic bytes.
bool ptm_is_gzip(const uint8_t *data, size_t len);

/// Inflate gzip data into the model's arena. Refuses output past max bytes
/// (PTM_ELIMIT) and corrupt streams (PTM_EFORMAT).
int ptm_gunzip(struct ptm_arena *arena, const uint8_t *data, size_t len, size_t max,
               const uint8_t **out, size_t *out_len, struct ptm_error *err);

/// Older versions the bytes do not tell apart (ptm_otlp_detection.unsupported).
#define PTM_OTLP_V1_4_OR_5 45
#define PTM_OTLP_V1_4_TO_6 46

/// What the bytes of an OTLP request tell about its version.
struct ptm_otlp_detection {
    int version;          // the most likely of the candidates: 8, 9 or 10; 0 when unsupported
    unsigned candidates;  // versions the bytes fit: bit 0 v1.8, bit 1 v1.9, bit 2 v1.10
    int unsupported;      // an older version found: 3 (v1.3), 4, 5, 6, 7, PTM_OTLP_V1_4_OR_5,
                          // PTM_OTLP_V1_4_TO_6; or 0
    const char *evidence; // a short human reason, static
};

/// Look at an OTLP protobuf request and tell its wire version.
void ptm_otlp_detect(const uint8_t *data, size_t len, struct ptm_otlp_detection *out);

/// Decode one OTLP protobuf request of the given version (8, 9, 10) into a
/// new batch with request-local indices; ptm_batch_finish must follow.
int ptm_decode_otlp(struct ptm_model *model, const uint8_t *data, size_t len, int version,
                    struct ptm_error *err);

/// The same with the protobuf-c generated code.
int ptm_decode_otlp_protobuf_c(struct ptm_model *model, const uint8_t *data, size_t len,
                               int version, struct ptm_error *err);

/// Decode OTLP JSON: one request, or JSON Lines of requests. Each request
/// becomes a finished batch.
int ptm_decode_otlp_json(struct ptm_model *model, const uint8_t *data, size_t len,
                         int max_depth, struct ptm_error *err);

/// Decode one pprof Profile (not gzipped) into a new batch; ptm_batch_finish
/// must follow.
int ptm_decode_pprof(struct ptm_model *model, const uint8_t *data, size_t len,
                     struct ptm_error *err);

/// The same with the protobuf-c generated code.
int ptm_decode_pprof_protobuf_c(struct ptm_model *model, const uint8_t *data, size_t len,
                                struct ptm_error *err);

/// Start a batch: record where each table of the model ends now.
struct ptm_batch *ptm_batch_begin(struct ptm_model *model, enum ptm_format format,
                                  int otlp_version, uint32_t index);

/// Close the last batch: record its table ranges, give every empty table its
/// zero entry, check that string 0 is "", check every request-local index
/// against its table and rebase it to the model, resolve string-table
/// references in attribute keys and values. Profiles with a bad index are
/// removed and counted; a bad dictionary entry fails the batch.
int ptm_batch_finish(struct ptm_model *model, struct ptm_error *err);
