// SPDX-License-Identifier: Apache-2.0
//
// The front door of decoding: undo gzip, tell the format, split framed and
// line-delimited inputs into requests, pick the OTLP version, run the
// decoder and close each batch. A request whose bytes fit more than one OTLP
// version is decoded as the most recent one that validates.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/wire.h"
#include "util/error.h"

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// The Collector file exporter writes each message behind its length as 4
// big-endian bytes. A protobuf message never starts with byte 0 (field 0 is
// invalid), so a leading 0 whose lengths chain exactly to the end is framing.
static bool looks_framed(const uint8_t *data, size_t len)
{
    if (len < 4 || data[0] != 0)
        return false;
    size_t at = 0;
    while (at < len) {
        if (len - at < 4)
            return false;
        uint32_t n = be32(data + at);
        if (n > len - at - 4)
            return false;
        at += 4 + (size_t)n;
    }
    return true;
}

// pprof's Profile uses top-level fields 1 to 15; an OTLP request only 1 and
// 2. A pprof file always has a string table (field 6), and its field 1
// (ValueType) holds varints where OTLP's (ResourceProfiles) holds messages.
static bool looks_pprof(const uint8_t *data, size_t len)
{
    struct pb_reader r = pb_reader_make(data, len);
    bool first_is_value_type = false, seen_first = false;
    while (!pb_done(&r)) {
        uint32_t field, wire;
        struct pb_reader body;
        if (!pb_tag(&r, &field, &wire))
            return false;
        if (field > 2)
            return true;
        if (wire != PB_LEN || !pb_len(&r, &body))
            return false;
        if (field == 1 && !seen_first) {
            seen_first = true;
            uint32_t f, w;
            first_is_value_type = pb_done(&body) || (pb_tag(&body, &f, &w) && w == PB_VARINT);
        }
    }
    return first_is_value_type;
}

enum ptm_format ptm_detect_format(const uint8_t *data, size_t len)
{
    size_t i = 0;
    if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf)
        i = 3; // UTF-8 byte order mark
    while (i < len && is_space(data[i]))
        i++;
    if (i < len && (data[i] == '{' || data[i] == '['))
        return PTM_FORMAT_OTLP_JSON;
    if (looks_framed(data, len))
        return PTM_FORMAT_OTLP_FRAMED;
    if (looks_pprof(data, len))
        return PTM_FORMAT_PPROF;
    return PTM_FORMAT_OTLP;
}

static const char *older_name(int older)
{
    switch (older) {
    case 3: return "v1.3 (v1experimental)";
    case 4: return "v1.4";
    case 5: return "v1.5";
    case 6: return "v1.6";
    case PTM_OTLP_V1_4_OR_5: return "v1.4 or v1.5";
    case PTM_OTLP_V1_4_TO_6: return "v1.4, v1.5 or v1.6";
    default: return "v1.7";
    }
}

typedef int (*batch_decoder)(struct ptm_model *model, const uint8_t *data, size_t len, int version,
                             struct ptm_error *err);

static int pprof_fast(struct ptm_model *model, const uint8_t *data, size_t len, int version,
                      struct ptm_error *err)
{
    (void)version;
    return ptm_decode_pprof(model, data, len, err);
}

static int pprof_protobuf_c(struct ptm_model *model, const uint8_t *data, size_t len, int version,
                            struct ptm_error *err)
{
    (void)version;
    return ptm_decode_pprof_protobuf_c(model, data, len, err);
}

// Decode one request or file as a batch. A batch that fails outright is
// rolled back; one whose profiles were only partly rejected keeps the rest.
static int run_batch(struct ptm_model *model, batch_decoder decode, enum ptm_format format,
                     int version, unsigned candidates, uint32_t index, const uint8_t *data,
                     size_t len, struct ptm_error *err)
{
    struct ptm_model_mark mark;
    ptm_model_mark(model, &mark);
    uint32_t rejected = model->rejected_profiles;
    struct ptm_batch *b = ptm_batch_begin(model, format, version, index);
    if (b == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    b->otlp_candidates = (uint8_t)candidates;
    int rc = decode(model, data, len, version, err);
    if (rc == 0)
        rc = ptm_batch_finish(model, err);
    bool partial = rc == PTM_EFORMAT && model->rejected_profiles > rejected &&
                   model->batches.data[model->batches.len - 1].profiles.len > 0;
    if (rc != 0 && !partial) {
        ptm_model_rollback(model, &mark);
        model->rejected_profiles = rejected;
    }
    return rc;
}

static int decode_as(struct ptm_model *model, const uint8_t *data, size_t len, int version,
                     unsigned candidates, uint32_t index, const struct ptm_decode_options *opts,
                     struct ptm_error *err)
{
    batch_decoder decode = opts->decoder == PTM_DECODER_PROTOBUF_C ? ptm_decode_otlp_protobuf_c
                                                                   : ptm_decode_otlp;
    return run_batch(model, decode, PTM_FORMAT_OTLP, version, candidates, index, data, len, err);
}

// One OTLP protobuf request: the version forced or detected, then decoded.
// When the bytes fit several versions, each is tried, newest first, until
// one validates; if none does, the newest one's complaint is reported.
static int decode_otlp_request(struct ptm_model *model, const uint8_t *data, size_t len,
                               uint32_t index, const struct ptm_decode_options *opts,
                               struct ptm_error *err)
{
    unsigned candidates;
    if (opts->otlp_version != 0) {
        int v = opts->otlp_version == 11 ? 10 : opts->otlp_version;
        if (v < 8 || v > 10)
            return ptm_error_set(err, PTM_EUNSUPPORTED,
                                 "OTLP profiles v1.%d is not supported; this tool reads v1.8, v1.9, "
                                 "v1.10 and v1.11",
                                 opts->otlp_version);
        candidates = 1u << (v - 8);
    } else {
        struct ptm_otlp_detection det;
        ptm_otlp_detect(data, len, &det);
        if (det.unsupported != 0)
            return ptm_error_set(err, PTM_EUNSUPPORTED,
                                 "OTLP profiles %s is not supported (%s); this tool reads v1.8, "
                                 "v1.9, v1.10 and v1.11",
                                 older_name(det.unsupported), det.evidence);
        candidates = det.candidates;
    }
    int first = 0;
    for (int v = 10; v >= 8; v--) {
        if (!(candidates & 1u << (v - 8)))
            continue;
        if (first == 0)
            first = v;
        struct ptm_model_mark mark;
        ptm_model_mark(model, &mark);
        uint32_t rejected = model->rejected_profiles;
        int rc = decode_as(model, data, len, v, candidates, index, opts, err);
        if (rc == 0)
            return 0;
        if (rc == PTM_ENOMEM || rc == PTM_ELIMIT)
            return rc;
        ptm_model_rollback(model, &mark);
        model->rejected_profiles = rejected;
    }
    // No version validated: decode once more as the most likely one, keeping
    // whatever of it is valid, and report its first problem.
    return decode_as(model, data, len, first, candidates, index, opts, err);
}

static int decode_framed(struct ptm_model *model, const uint8_t *data, size_t len,
                         const struct ptm_decode_options *opts, struct ptm_error *err)
{
    size_t at = 0;
    uint32_t frame = 0;
    int result = 0;
    while (at < len) {
        if (len - at < 4)
            return ptm_error_set(err, PTM_EFORMAT, "frame %" PRIu32 " (byte %zu): truncated length prefix",
                                 frame, at);
        uint32_t n = be32(data + at);
        if (n > len - at - 4)
            return ptm_error_set(err, PTM_EFORMAT,
                                 "frame %" PRIu32 " (byte %zu): length %" PRIu32
                                 " exceeds the %zu bytes left",
                                 frame, at, n, len - at - 4);
        struct ptm_error e;
        int rc = decode_otlp_request(model, data + at + 4, n, frame, opts, &e);
        if (rc != 0 && result == 0) {
            result = rc;
            if (err != NULL) {
                *err = e;
                ptm_error_prefix(err, "frame %" PRIu32 " (byte %zu)", frame, at);
            }
        }
        if (rc != 0 && rc != PTM_EFORMAT && rc != PTM_EUNSUPPORTED)
            return rc; // out of memory or a limit: stop
        at += 4 + (size_t)n;
        frame++;
    }
    return result;
}

int ptm_decode(struct ptm_model *model, const void *data, size_t len,
               const struct ptm_decode_options *opts, struct ptm_error *err)
{
    static const struct ptm_decode_options defaults = {0};
    if (opts == NULL)
        opts = &defaults;
    size_t max = opts->max_decompressed ? opts->max_decompressed : PTM_DEFAULT_MAX_DECOMPRESSED;
    int depth = opts->json_max_depth ? opts->json_max_depth : PTM_DEFAULT_JSON_MAX_DEPTH;
    const uint8_t *bytes = data;
    bool gzipped = ptm_is_gzip(bytes, len);
    if (gzipped) {
        int rc = ptm_gunzip(model->arena, bytes, len, max, &bytes, &len, err);
        if (rc != 0)
            return rc;
    }
    enum ptm_format format = opts->format != PTM_FORMAT_AUTO ? opts->format : ptm_detect_format(bytes, len);
    uint32_t first_batch = model->batches.len;
    int rc;
    switch (format) {
    case PTM_FORMAT_OTLP_JSON: rc = ptm_decode_otlp_json(model, bytes, len, depth, err); break;
    case PTM_FORMAT_OTLP_FRAMED: rc = decode_framed(model, bytes, len, opts, err); break;
    case PTM_FORMAT_PPROF:
        rc = run_batch(model, opts->decoder == PTM_DECODER_PROTOBUF_C ? pprof_protobuf_c : pprof_fast,
                       PTM_FORMAT_PPROF, 0, 0, 0, bytes, len, err);
        break;
    default: rc = decode_otlp_request(model, bytes, len, 0, opts, err); break;
    }
    for (uint32_t i = first_batch; i < model->batches.len; i++)
        model->batches.data[i].gzipped = gzipped;
    return rc;
}
