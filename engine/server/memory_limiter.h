// SPDX-License-Identifier: Apache-2.0
//
// The memory_limiter processor of the profiles pipeline, as serve applies
// it to the whole process. The Collector's processor watches the Go heap;
// this one watches the process's resident memory (/proc/self/statm), which
// is what a container's memory limit counts:
//   - a request arriving while resident memory is at or above the soft
//     limit (limit - spike_limit) is refused as overloaded (HTTP 429 with
//     Retry-After, gRPC RESOURCE_EXHAUSTED with RetryInfo): the client
//     sends it again later, nothing is taken that memory cannot hold;
//   - before refusing, and every check_interval while at or above the
//     soft limit or refusing (at most once per check_interval), the memory
//     the service keeps for speed but does not need now (idle request
//     models, free heap pages) is given back to the system, so the service
//     takes requests again by itself once the load falls.
// Admission also counts the requests admitted and still being decoded (a
// request of n bytes as DECODE_FACTOR x n until decoded), so that many
// arriving together do not all pass one reading of the resident memory.
// The spike limit is the headroom for what is already under way when the
// soft limit is crossed: requests being received, decoded, converted.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "server/telemetry.h"

struct ptm_memory_limiter;

/// Gives back memory the service holds but does not need now. Called from
/// the limiter's thread.
typedef void (*ptm_memory_release)(void *ctx);

/// Start checking, for the processor id with cfg (borrowed for the call).
/// release(ctx) is called while at or above the soft limit. NULL with err
/// when the limits cannot be worked out (limit_percentage of an unknown
/// total) or the thread cannot start.
struct ptm_memory_limiter *ptm_memory_limiter_start(const char *id, const struct ptm_memory_limiter_config *cfg,
                                                    ptm_memory_release release, void *ctx,
                                                    struct ptm_telemetry *telemetry, struct ptm_error *err);

/// Stop the thread and free. NULL is a no-op.
void ptm_memory_limiter_stop(struct ptm_memory_limiter *l);

/// Whether a new request of len bytes may be taken now (NULL: no limiter,
/// always). When it may, ptm_memory_limiter_decoded must follow once it is
/// decoded (or dropped); when not, message (size bytes) says why.
/// Thread-safe.
bool ptm_memory_limiter_admit(struct ptm_memory_limiter *l, size_t len, char *message, size_t size);

/// The admitted request of len bytes is decoded (its memory is in the
/// resident memory now) or dropped. NULL is a no-op.
void ptm_memory_limiter_decoded(struct ptm_memory_limiter *l, size_t len);

/// The process's resident memory in bytes (0 when unknown).
uint64_t ptm_resident_bytes(void);
