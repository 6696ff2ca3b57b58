// SPDX-License-Identifier: Apache-2.0
//
// The shared part of the decoder fuzz targets (harness.h).
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_check.h"

struct ptm_model *fuzz_model(void)
{
    static struct ptm_model *model;
    if (model == NULL) {
        model = ptm_model_create();
        if (model == NULL) {
            fputs("fuzz: out of memory creating the model\n", stderr);
            abort();
        }
    }
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

int fuzz_decode(const uint8_t *data, size_t size, const struct ptm_decode_options *opts)
{
    struct ptm_model *model = fuzz_model();
    ptm_model_reset(model);
    struct ptm_error err;
    memset(&err, 0, sizeof err);
    int rc = ptm_decode(model, data, size, opts, &err);
    check_result(rc, &err, model);
    fuzz_check_model(model);
    return rc;
}
