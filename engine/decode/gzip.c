// SPDX-License-Identifier: Apache-2.0
//
// gzip, with a ceiling on what it may inflate to: a few kilobytes of gzip can
// claim gigabytes, so the output size is checked as it grows, not trusted
// from the trailer.
#include <string.h>
#include <zlib.h>

#include "decode/decode.h"
#include "util/arena.h"
#include "util/error.h"

#define MAX_DEFLATE_RATIO 1032

bool ptm_is_gzip(const uint8_t *data, size_t len)
{
    return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

int ptm_gunzip(struct ptm_arena *arena, const uint8_t *data, size_t len, size_t max,
               const uint8_t **out, size_t *out_len, struct ptm_error *err)
{
    // The gzip trailer's ISIZE (size mod 2^32) is a good first guess for the
    // buffer; it is not trusted beyond that. Deflate cannot expand data by
    // more than 1032 times, so a claim past that is a lie (a few bytes could
    // otherwise have a gigabyte allocated up front) and the buffer grows
    // with the output instead.
    size_t guess = len * 4;
    if (len >= 18) {
        const uint8_t *t = data + len - 4;
        size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
        if (isize > guess && isize / MAX_DEFLATE_RATIO <= len)
            guess = isize;
    }
    if (guess > max)
        guess = max;
    size_t cap = guess + 1; // one byte more to see an overrun of max
    uint8_t *buf = ptm_arena_alloc(arena, cap);
    if (buf == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory inflating %zu bytes of gzip", len);
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory starting zlib");
    z.next_in = (Bytef *)data;
    size_t in_left = len;
    size_t produced = 0;
    int rc = Z_OK;
    for (;;) {
        if (produced == cap) {
            if (cap > max)
                break;
            size_t bigger = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *grown = ptm_arena_alloc(arena, bigger);
            if (grown == NULL) {
                inflateEnd(&z);
                return ptm_error_set(err, PTM_ENOMEM, "out of memory inflating gzip");
            }
            memcpy(grown, buf, produced);
            buf = grown;
            cap = bigger;
        }
        z.next_out = buf + produced;
        z.avail_out = (uInt)(cap - produced > UINT32_MAX ? UINT32_MAX : cap - produced);
        uInt avail_in = (uInt)(in_left > UINT32_MAX ? UINT32_MAX : in_left);
        z.avail_in = avail_in;
        uInt avail_out = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        produced += avail_out - z.avail_out;
        in_left -= avail_in - z.avail_in;
        if (rc == Z_STREAM_END) {
            // Concatenated gzip members are one stream (gzip(1) semantics).
            if (in_left >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
                inflateReset(&z);
                continue;
            }
            break;
        }
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && z.avail_out == 0)) {
            int code = rc == Z_MEM_ERROR ? PTM_ENOMEM : PTM_EFORMAT;
            const char *why = z.msg ? z.msg : rc == Z_BUF_ERROR ? "unexpected end of data" : "corrupt data";
            inflateEnd(&z);
            return ptm_error_set(err, code, "gzip: %s after %zu of %zu compressed bytes", why,
                                 len - in_left, len);
        }
        if (in_left == 0 && z.avail_out != 0) {
            inflateEnd(&z);
            return ptm_error_set(err, PTM_EFORMAT, "gzip: truncated stream (%zu compressed bytes)", len);
        }
    }
    inflateEnd(&z);
    if (produced > max)
        return ptm_error_set(err, PTM_ELIMIT,
                             "gzip: %zu compressed bytes inflate past the limit of %zu bytes", len, max);
    *out = buf;
    *out_len = produced;
    return 0;
}
