// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: the OTLP JSON decoder against the protobuf one. The input is
// an OTLP protobuf request. For wire versions v1.8 and v1.10 (JSON names
// differ only there) protobuf-c unpacks it; the message is then packed
// again, canonically, for the hand-written protobuf decoder, and written as
// OTLP JSON by pbc_json.c (lowerCamelCase or snake_case, by the input's
// last byte) for the JSON decoder. When the protobuf decoder accepts it,
// the JSON decoder must too, and the two models must be equal, by content,
// apart from what names the input's format. (Both sides start from the one
// unpacked message: protobuf-c merges a field given twice differently from
// protobuf, which fuzz_otlp_v1_* check against the input itself.)
//
// Not compared, because the JSON route changes them on purpose: requests
// whose text fields hold a NUL byte (protobuf-c cuts them short) or invalid
// UTF-8 (JSON cannot carry it; the writer repairs it); JSON nested past the
// decoder's depth limit (an AnyValue level is four JSON levels).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model_compare.h"
#include "pbc_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool not_json_text(struct ptm_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    for (uint32_t i = 0; i < s.len;) {
        size_t n = p[i] == 0 ? 0 : ptm_utf8_sequence(p + i, s.len - i);
        if (n == 0)
            return true;
        i += (uint32_t)n;
    }
    return false;
}

static void __attribute__((noreturn)) disagree(int version, const char *what, const struct ptm_strbuf *json)
{
    fprintf(stderr, "fuzz: OTLP v1.%d protobuf and its JSON %s\nthe JSON: %.*s\n", version, what,
            (int)(json->len > 4000 ? 4000 : json->len), json->data ? json->data : "");
    abort();
}

// Make what says where a batch came from the same in both models.
static void same_origin(struct ptm_model *json, const struct ptm_model *pb)
{
    for (uint32_t i = 0; i < json->batches.len && i < pb->batches.len; i++) {
        json->batches.data[i].format = pb->batches.data[i].format;
        json->batches.data[i].otlp_version = pb->batches.data[i].otlp_version;
        json->batches.data[i].otlp_candidates = pb->batches.data[i].otlp_candidates;
    }
}

static void round_trip(const uint8_t *data, size_t size, int version, bool snake)
{
    ProtobufCMessage *msg = protobuf_c_message_unpack(pbc_json_request_descriptor(version), NULL, size, data);
    if (msg == NULL)
        return;
    size_t canonical_len = protobuf_c_message_get_packed_size(msg);
    uint8_t *canonical = malloc(canonical_len ? canonical_len : 1);
    struct ptm_strbuf json = {0};
    if (canonical == NULL) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return;
    }
    protobuf_c_message_pack(msg, canonical);
    pbc_json_write(&json, msg, snake, version);
    protobuf_c_message_free_unpacked(msg, NULL);
    struct ptm_decode_options pb_opts = {.format = PTM_FORMAT_OTLP, .otlp_version = version};
    struct ptm_model *pb = fuzz_model();
    if (json.failed || fuzz_decode_into(pb, canonical, canonical_len, &pb_opts) != 0 ||
        fuzz_otlp_text_any(pb, not_json_text)) {
        ptm_strbuf_free(&json);
        free(canonical);
        return;
    }
    struct ptm_decode_options json_opts = {.format = PTM_FORMAT_OTLP_JSON};
    struct ptm_model *js = fuzz_other_model();
    int rc = fuzz_decode_into(js, (const uint8_t *)json.data, json.len, &json_opts);
    if (rc != 0 && rc != PTM_ELIMIT) {
        char what[1200];
        struct ptm_error err;
        ptm_model_reset(js);
        ptm_decode(js, json.data, json.len, &json_opts, &err);
        snprintf(what, sizeof what, "disagree: the JSON is refused: %s", err.message);
        disagree(version, what, &json);
    }
    char why[512];
    same_origin(js, pb);
    if (rc == 0 && model_compare(pb, js, MODEL_COMPARE_CONTENT, why, sizeof why) != 0) {
        char what[600];
        snprintf(what, sizeof what, "decode differently: %s", why);
        disagree(version, what, &json);
    }
    ptm_strbuf_free(&json);
    free(canonical);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool snake = size > 0 && (data[size - 1] & 1) != 0;
    round_trip(data, size, 10, snake);
    round_trip(data, size, 8, snake);
    return 0;
}
