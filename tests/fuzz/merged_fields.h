// SPDX-License-Identifier: Apache-2.0
//
// Whether protobuf's merging of a message field given more than once comes
// into play in an input: the one place where the protobuf-c decoder, the
// fuzz targets' second opinion, is not protobuf. protobuf-c 1.4 resets a
// proto3 scalar of the earlier occurrence when a later one lacks it (a
// Resource {dropped_attributes_count: 10} then Resource {} reads 0), where
// the reference implementation keeps it (`protoc --decode` prints 10), as
// the project's decoders do.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// True when, anywhere in data (inflated first when gzipped), a message
/// holds a singular (not repeated) message field more than once, or (in a
/// request older than v1.10) a field v1.10 added to common.proto, which the
/// shared descriptors let protobuf-c read and the decoders rightly skip. data is
/// read as a ProfilesData of OTLP wire version otlp_version (8, 9, 10 or
/// 11), or as a pprof Profile when otlp_version is 0. Bytes that do not
/// parse end the scan: the decoders report them.
bool fuzz_merges_messages(const uint8_t *data, size_t size, int otlp_version);
