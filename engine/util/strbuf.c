// SPDX-License-Identifier: Apache-2.0
//
// Growable buffer, UTF-8 checking and repair, JSON string escaping.
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ptm_strbuf_free(struct ptm_strbuf *sb)
{
    free(sb->data);
    memset(sb, 0, sizeof *sb);
}

void ptm_strbuf_clear(struct ptm_strbuf *sb)
{
    sb->len = 0;
    if (sb->data != NULL)
        sb->data[0] = '\0';
}

static bool reserve(struct ptm_strbuf *sb, size_t more)
{
    if (sb->failed)
        return false;
    if (sb->len + more + 1 <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + more + 1)
        cap *= 2;
    char *p = realloc(sb->data, cap);
    if (p == NULL) {
        sb->failed = true;
        return false;
    }
    sb->data = p;
    sb->cap = cap;
    return true;
}

bool ptm_strbuf_reserve(struct ptm_strbuf *sb, size_t more)
{
    return reserve(sb, more);
}

void ptm_strbuf_append(struct ptm_strbuf *sb, const void *data, size_t len)
{
    if (!reserve(sb, len))
        return;
    memcpy(sb->data + sb->len, data, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
}

void ptm_strbuf_puts(struct ptm_strbuf *sb, const char *s)
{
    ptm_strbuf_append(sb, s, strlen(s));
}

void ptm_strbuf_putc(struct ptm_strbuf *sb, char c)
{
    ptm_strbuf_append(sb, &c, 1);
}

void ptm_strbuf_vprintf(struct ptm_strbuf *sb, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(again);
        return;
    }
    if ((size_t)n < sizeof small) {
        ptm_strbuf_append(sb, small, (size_t)n);
    } else if (reserve(sb, (size_t)n)) {
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, again);
        sb->len += (size_t)n;
    }
    va_end(again);
}

void ptm_strbuf_printf(struct ptm_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptm_strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

size_t ptm_utf8_sequence(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; // no overlong forms
        if (c == 0xed)
            hi = 0x9f; // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f; // nothing past U+10FFFF
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

bool ptm_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        // eight ASCII bytes at a time: names are mostly ASCII
        uint64_t word;
        if (len - i >= 8 && (memcpy(&word, p + i, 8), (word & 0x8080808080808080ull) == 0)) {
            i += 8;
            continue;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = ptm_utf8_sequence(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static const char replacement[] = "\xef\xbf\xbd"; // U+FFFD

void ptm_strbuf_utf8(struct ptm_strbuf *sb, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0, i = 0;
    while (i < len) {
        size_t n = p[i] < 0x80 ? 1 : ptm_utf8_sequence(p + i, len - i);
        if (n != 0) {
            i += n;
            continue;
        }
        ptm_strbuf_append(sb, s + start, i - start);
        ptm_strbuf_append(sb, replacement, 3);
        i++;
        start = i;
    }
    ptm_strbuf_append(sb, s + start, i - start);
}

void ptm_strbuf_json_string(struct ptm_strbuf *sb, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    ptm_strbuf_putc(sb, '"');
    size_t start = 0, i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = ptm_utf8_sequence(p + i, len - i);
            if (n != 0) {
                i += n;
                continue;
            }
        }
        ptm_strbuf_append(sb, s + start, i - start);
        switch (c) {
        case '"': ptm_strbuf_puts(sb, "\\\""); break;
        case '\\': ptm_strbuf_puts(sb, "\\\\"); break;
        case '\n': ptm_strbuf_puts(sb, "\\n"); break;
        case '\r': ptm_strbuf_puts(sb, "\\r"); break;
        case '\t': ptm_strbuf_puts(sb, "\\t"); break;
        default:
            if (c < 0x20)
                ptm_strbuf_printf(sb, "\\u%04x", c);
            else
                ptm_strbuf_append(sb, replacement, 3);
        }
        i++;
        start = i;
    }
    ptm_strbuf_append(sb, s + start, i - start);
    ptm_strbuf_putc(sb, '"');
}

char *ptm_strdup_or_null(const char *s, bool *failed)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    *failed |= copy == NULL;
    return copy;
}
