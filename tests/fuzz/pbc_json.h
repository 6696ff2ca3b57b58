// SPDX-License-Identifier: Apache-2.0
//
// A protobuf-c message printed as OTLP JSON, by walking its descriptors, so
// one writer serves every OTLP wire version: the protobuf JSON mapping as
// OTLP specifies it, with lowerCamelCase names (or the .proto names), 64-bit
// integers as strings, enums as numbers, bytes as base64 except trace, span
// and profile ids of their proper size, which are hex. Used by mkjson (the
// JSON seeds) and by the JSON round-trip fuzz target.
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "util/strbuf.h"

/// Append message m, a request of OTLP wire version 8, 9 or 10, as one JSON
/// object (no newline) to out. snake: field names as in the .proto file
/// rather than lowerCamelCase. Every version's descriptors share
/// common.proto, which has v1.10's key_strindex and string_value_strindex;
/// for older versions these are left out, as those versions do not have
/// them.
void pbc_json_write(struct ptm_strbuf *out, const ProtobufCMessage *m, bool snake, int version);

/// The descriptor of ProfilesData (which ExportProfilesServiceRequest
/// shares its fields with) of OTLP wire version 8, 9 or 10 (11 is 10);
/// NULL for any other.
const ProtobufCMessageDescriptor *pbc_json_request_descriptor(int version);
