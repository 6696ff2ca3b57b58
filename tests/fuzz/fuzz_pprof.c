// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: pprof, gzipped or not, through both decoders (the
// hand-written one and the protobuf-c one), which must agree when both
// accept it.
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ptm_decode_options opts = {.format = PTM_FORMAT_PPROF};
    fuzz_decode_both(data, size, &opts);
    return 0;
}
