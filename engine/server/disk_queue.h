// SPDX-License-Identifier: Apache-2.0
//
// The on-disk half of an exporter's sending queue (sending_queue.storage):
// one file per encoded request in a directory of its own, so that what was
// queued survives a crash or a kill and is sent at the next start.
//
// A request is written to NAME.tmp, fsync'd, renamed to NAME.req and the
// directory fsync'd before ptm_disk_queue_put returns: a file named .req is
// always complete. It is unlinked (and the directory fsync'd) as soon as
// the backend has taken it or refused it for good. NAME is a 20-digit
// sequence number, so names sort oldest first.
//
// File layout (integers little-endian):
//   0  "PTMQ"   magic
//   4  u8       format version (1)
//   5  u8       request flags (PTM_REQUEST_GZIP, PTM_REQUEST_JSON)
//   6  u16      reserved, 0
//   8  u64      data points in the request (for the exporter's counters)
//   16 u64      body length
//   24 u32      CRC-32 of the body (zlib's crc32)
//   28 body     the request as it goes on the wire (maybe gzip'd)
//
// A process holds an exclusive flock(2) on the directory while it has it
// open, so two processes never share one. Within a process a directory
// may have several users at once: a reload builds the new exporters beside
// the old ones. The first user gets what is stored; a later one gets
// nothing at load, and an earlier user hands over the requests it still
// holds when it closes (see ptm_disk_queue_close).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiletometrics.h"

struct ptm_disk_queue;

/// One request as stored.
struct ptm_disk_record {
    const uint8_t *body;
    size_t len;
    uint64_t points;
    uint32_t flags;
};

/// Receives one stored request: body is malloc'd and becomes the callee's.
/// seq identifies the file for ptm_disk_queue_remove. Return 0 to go on.
typedef int (*ptm_disk_queue_visit)(void *ctx, uint64_t seq, uint8_t *body, size_t len, uint64_t points,
                                    uint32_t flags);

/// Receives a problem found while reading stored requests, as a message
/// naming the file.
typedef void (*ptm_disk_queue_report)(void *ctx, const char *message);

/// Who uses a queue handle.
struct ptm_disk_queue_user {
    void *ctx;
    /// Requests an earlier user of the same directory handed over when it
    /// closed, newest first (so a user that puts each at the front of its
    /// queue has them oldest first).
    ptm_disk_queue_visit adopt;
    ptm_disk_queue_report report;
};

/// Open (creating it and its parents, mode 0700) the queue directory for
/// user (copied). The first user in the process locks the directory and
/// removes leftover .tmp files (writes a crash cut short, never
/// acknowledged). NULL with err when the directory cannot be made, opened
/// or locked (another process has it).
struct ptm_disk_queue *ptm_disk_queue_open(const char *directory, const struct ptm_disk_queue_user *user,
                                           struct ptm_error *err);

/// The user is done. The stored requests it still holds (leftover, n
/// sequence numbers) go to the newest other user of the directory, through
/// its adopt; without one they stay on disk for the next start. The last
/// user's close unlocks the directory. NULL is a no-op.
void ptm_disk_queue_close(struct ptm_disk_queue *q, const uint64_t *leftover, size_t n);

/// The directory (borrowed).
const char *ptm_disk_queue_directory(const struct ptm_disk_queue *q);

/// Hand the stored requests to visit, oldest first, if q is the first user
/// of its directory (a later user gets none: they belong to the earlier
/// users). A file that is not a complete request (bad magic or version, a
/// length that does not match the file, a checksum mismatch) is renamed
/// NAME.corrupt, reported through the user's report and skipped; so is one
/// that cannot be read. Returns the number of requests visited, or a
/// negative ptm_err (the directory cannot be listed, out of memory, or
/// visit's non-zero answer).
int ptm_disk_queue_load(struct ptm_disk_queue *q, ptm_disk_queue_visit visit);

/// Store a request durably and give its sequence number (> 0). Returns 0,
/// or PTM_EIO with err naming the file and the system's reason; errno is
/// then left as the failing call set it (ENOSPC for a full disk), and
/// nothing of the request is left on disk. Thread-safe.
int ptm_disk_queue_put(struct ptm_disk_queue *q, const struct ptm_disk_record *rec, uint64_t *seq,
                       struct ptm_error *err);

/// Delete a stored request. Returns 0, or PTM_EIO with err. Thread-safe.
int ptm_disk_queue_remove(struct ptm_disk_queue *q, uint64_t seq, struct ptm_error *err);
