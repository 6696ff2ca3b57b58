// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: OTLP profiles protobuf of one wire version, forced (the
// Makefile builds it once per version with FUZZ_OTLP_VERSION set to 8, 9
// or 10; v1.11 shares v1.10's wire format and code path). Each input goes
// through both decoders, the hand-written one and the protobuf-c one, which
// must agree when both accept it.
#include "harness.h"

#ifndef FUZZ_OTLP_VERSION
#error "FUZZ_OTLP_VERSION must be 8, 9 or 10"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ptm_decode_options opts = {.format = PTM_FORMAT_OTLP, .otlp_version = FUZZ_OTLP_VERSION};
    fuzz_decode_both(data, size, &opts);
    return 0;
}
