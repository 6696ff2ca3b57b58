// SPDX-License-Identifier: Apache-2.0
//
// The promises the decoders make about a model, checked after every fuzzed
// decode: every index in range of the table it points into, every range
// inside its table, every string view readable. A broken promise aborts
// with what broke, so the fuzzer records it as a crash: consumers (the Lua
// runtime reads the model through the FFI, unchecked and uninstrumented)
// rely on all of it.
#pragma once

#include "model/model.h"

/// Check every table of model; abort() naming the entry when one is wrong.
/// Returns a digest of every byte the model's strings point to, so that a
/// view into freed or foreign memory is read (and caught by ASan).
uint64_t fuzz_check_model(const struct ptm_model *model);
