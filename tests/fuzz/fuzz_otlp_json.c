// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: OTLP JSON (one request, or JSON Lines of requests), through
// ptm_decode with the format forced, so gzip is undone first as for any
// input.
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ptm_decode_options opts = {.format = PTM_FORMAT_OTLP_JSON};
    fuzz_decode(data, size, &opts);
    return 0;
}
