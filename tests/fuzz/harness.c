// SPDX-License-Identifier: Apache-2.0
//
// The shared part of the decoder fuzz targets (harness.h).
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merged_fields.h"
#include "model_check.h"
#include "model_compare.h"

static struct ptm_model *model_create(void)
{
    struct ptm_model *model = ptm_model_create();
    if (model == NULL) {
        fputs("fuzz: out of memory creating the model\n", stderr);
        abort();
    }
    return model;
}

struct ptm_model *fuzz_model(void)
{
    static struct ptm_model *model;
    if (model == NULL)
        model = model_create();
    return model;
}

struct ptm_model *fuzz_other_model(void)
{
    static struct ptm_model *model;
    if (model == NULL)
        model = model_create();
    return model;
}

static bool known_code(int rc)
{
    switch (rc) {
    case PTM_OK:
    case PTM_ENOMEM:
    case PTM_EFORMAT:
    case PTM_EUNSUPPORTED:
    case PTM_ELIMIT: return true;
    default: return false;
    }
}

// Check what ptm_decode reported: code and message. abort() when wrong.
static void check_result(int rc, const struct ptm_error *err, const struct ptm_model *model)
{
    if (!known_code(rc)) {
        fprintf(stderr, "fuzz: the decoder returned %d, not a decoding error code\n", rc);
        abort();
    }
    if (rc == 0 && model->rejected_profiles != 0) {
        fprintf(stderr, "fuzz: success, yet %u profiles were rejected\n", model->rejected_profiles);
        abort();
    }
    if (rc == 0)
        return;
    if (memchr(err->message, '\0', sizeof err->message) == NULL || err->message[0] == '\0') {
        fprintf(stderr, "fuzz: error %d came without a message\n", rc);
        abort();
    }
    if (err->code != rc) {
        fprintf(stderr, "fuzz: error %d, but the message's code is %d: %s\n", rc, err->code, err->message);
        abort();
    }
}

int fuzz_decode_into(struct ptm_model *model, const uint8_t *data, size_t size,
                     const struct ptm_decode_options *opts)
{
    ptm_model_reset(model);
    struct ptm_error err;
    memset(&err, 0, sizeof err);
    int rc = ptm_decode(model, data, size, opts, &err);
    check_result(rc, &err, model);
    fuzz_check_model(model);
    return rc;
}

int fuzz_decode(const uint8_t *data, size_t size, const struct ptm_decode_options *opts)
{
    return fuzz_decode_into(fuzz_model(), data, size, opts);
}

static bool any_is(const struct ptm_any *v, bool (*bad)(struct ptm_str))
{
    return v->kind == PTM_ANY_STRING && bad(v->u.str);
}

bool fuzz_otlp_text_any(const struct ptm_model *m, bool (*bad)(struct ptm_str text))
{
    for (uint32_t i = 0; i < m->strings.len; i++)
        if (bad(m->strings.data[i]))
            return true;
    for (uint32_t i = 0; i < m->keyvalues.len; i++)
        if (bad(m->keyvalues.data[i].key) || any_is(&m->keyvalues.data[i].value, bad))
            return true;
    for (uint32_t i = 0; i < m->anys.len; i++)
        if (any_is(&m->anys.data[i], bad))
            return true;
    for (uint32_t i = 0; i < m->attributes.len; i++)
        if (any_is(&m->attributes.data[i].value, bad))
            return true;
    for (uint32_t i = 0; i < m->resources.len; i++)
        if (bad(m->resources.data[i].schema_url))
            return true;
    for (uint32_t i = 0; i < m->scopes.len; i++) {
        const struct ptm_scope *sc = &m->scopes.data[i];
        if (bad(sc->name) || bad(sc->version) || bad(sc->schema_url))
            return true;
    }
    for (uint32_t i = 0; i < m->profiles.len; i++)
        if (bad(m->profiles.data[i].original_payload_format))
            return true;
    return false;
}

static bool has_nul(struct ptm_str s)
{
    return s.len != 0 && memchr(s.ptr, '\0', s.len) != NULL;
}

void fuzz_decode_both(const uint8_t *data, size_t size, const struct ptm_decode_options *opts)
{
    struct ptm_decode_options o = *opts;
    o.decoder = PTM_DECODER_FAST;
    int fast = fuzz_decode_into(fuzz_model(), data, size, &o);
    o.decoder = PTM_DECODER_PROTOBUF_C;
    int slow = fuzz_decode_into(fuzz_other_model(), data, size, &o);
    char why[512];
    // Two differences are protobuf-c's, not bugs: it hands an OTLP string
    // field over NUL-terminated, so text with a NUL byte is cut short
    // (pprof's .proto declares its strings bytes); and it merges a message
    // field given more than once differently from protobuf (merged_fields.h).
    if (fast != 0 || slow != 0 || (o.format == PTM_FORMAT_OTLP && fuzz_otlp_text_any(fuzz_model(), has_nul)))
        return;
    if (fuzz_merges_messages(data, size, o.format == PTM_FORMAT_OTLP ? o.otlp_version : 0))
        return;
    if (model_compare(fuzz_model(), fuzz_other_model(), MODEL_COMPARE_CONTENT, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz: the two decoders disagree: %s\n", why);
        if (getenv("FUZZ_DIFF_REPORT") == NULL)
            abort();
    }
}
