// SPDX-License-Identifier: Apache-2.0
//
// The JSON pull tokenizer (see json.h). A small state machine remembers what
// may come next (a value, a key, a colon, a comma or a closing bracket) and a
// bit per nesting level says whether that level is an array or an object,
// so each call reads exactly one token and checks it against the grammar.
// Every read is bounded by the end of the range; positions for error
// messages are worked out only when an error is reported.
#include "decode/json.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/error.h"

enum json_state {
    ST_VALUE = 0,      // a value: the top level, after ':' or after ',' in an array
    ST_VALUE_OR_END,   // after '['
    ST_KEY_OR_END,     // after '{'
    ST_COLON,          // after a key
    ST_AFTER_VALUE,    // after a value inside an object or array
    ST_DONE,           // after the top-level value
};

// Bytes that end the fast scan of a string: the closing quote, a backslash,
// and control characters, which JSON does not allow unescaped.
static const uint8_t string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};

void ptm_json_init(struct ptm_json *j, const uint8_t *input, size_t begin, size_t end,
                   uint32_t line, int max_depth, struct ptm_arena *arena, struct ptm_error *err)
{
    memset(j, 0, sizeof *j);
    j->input = input;
    j->p = input + begin;
    j->end = input + end;
    j->line_start = input + begin;
    j->line = line;
    j->max_depth = max_depth < 1                    ? 1
                   : max_depth > PTM_JSON_DEPTH_CAP ? PTM_JSON_DEPTH_CAP
                                                    : max_depth;
    j->state = ST_VALUE;
    j->unescape = true;
    j->arena = arena;
    j->err = err;
}

static int report(struct ptm_json *j, int code, const uint8_t *at, const char *fmt, va_list ap)
{
    char problem[768];
    vsnprintf(problem, sizeof problem, fmt, ap);
    uint32_t line = j->line;
    const uint8_t *line_start = j->line_start;
    const uint8_t *q = j->line_start;
    while (q < at) {
        const uint8_t *nl = memchr(q, '\n', (size_t)(at - q));
        if (nl == NULL)
            break;
        line++;
        line_start = q = nl + 1;
    }
    j->error_at = at;
    return ptm_error_set(j->err, code, "%s at line %u, column %zu (byte %zu)", problem, line,
                         (size_t)(at - line_start) + 1, (size_t)(at - j->input));
}

int ptm_json_error(struct ptm_json *j, const uint8_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(j, PTM_EFORMAT, at, fmt, ap);
    va_end(ap);
    return PTM_EFORMAT;
}

static int limit_error(struct ptm_json *j, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int limit_error(struct ptm_json *j, const uint8_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(j, PTM_ELIMIT, at, fmt, ap);
    va_end(ap);
    return PTM_ELIMIT;
}

// "expected X but found Y", or "unexpected end of input, expected X".
static int expected(struct ptm_json *j, const char *what)
{
    if (j->p >= j->end)
        return ptm_json_error(j, j->p, "unexpected end of input, expected %s", what);
    uint8_t c = *j->p;
    if (c >= 0x20 && c < 0x7f)
        return ptm_json_error(j, j->p, "expected %s but found '%c'", what, c);
    return ptm_json_error(j, j->p, "expected %s but found byte 0x%02X", what, c);
}

static void skip_space(struct ptm_json *j)
{
    const uint8_t *p = j->p, *end = j->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    j->p = p;
}

static bool level_is_array(const struct ptm_json *j)
{
    int level = j->depth - 1;
    return (j->containers[level / 64] >> (level % 64)) & 1;
}

static int open_container(struct ptm_json *j, struct ptm_json_token *t, bool array)
{
    if (j->depth >= j->max_depth)
        return limit_error(j, j->p, "nesting deeper than %d levels", j->max_depth);
    int level = j->depth++;
    uint64_t bit = (uint64_t)1 << (level % 64);
    if (array)
        j->containers[level / 64] |= bit;
    else
        j->containers[level / 64] &= ~bit;
    j->p++;
    j->state = array ? ST_VALUE_OR_END : ST_KEY_OR_END;
    t->kind = array ? PTM_JSON_ARRAY : PTM_JSON_OBJECT;
    return 0;
}

static int close_container(struct ptm_json *j, struct ptm_json_token *t, enum ptm_json_kind kind)
{
    j->depth--;
    j->p++;
    j->state = j->depth > 0 ? ST_AFTER_VALUE : ST_DONE;
    t->kind = kind;
    return 0;
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The 4 hex digits at p (at least 4 bytes must be there), or -1.
static int32_t hex4(const uint8_t *p)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static size_t put_utf8(uint8_t *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

// Decode the \uXXXX escape at s (surrogate pairs take two escapes) into
// out. *used is the number of input bytes it took.
static int unicode_escape(struct ptm_json *j, const uint8_t *s, const uint8_t *e, uint8_t *out,
                          size_t *used, size_t *written)
{
    int32_t cp = e - s >= 6 ? hex4(s + 2) : -1;
    if (cp < 0)
        return ptm_json_error(j, s, "invalid \\u escape (4 hex digits must follow)");
    *used = 6;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return ptm_json_error(j, s, "unpaired surrogate \\u%04X", (unsigned)cp);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        int32_t low = e - s >= 12 && s[6] == '\\' && s[7] == 'u' ? hex4(s + 8) : -1;
        if (low < 0xdc00 || low > 0xdfff)
            return ptm_json_error(j, s, "unpaired surrogate \\u%04X", (unsigned)cp);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        *used = 12;
    }
    uint8_t buf[4];
    *written = put_utf8(out != NULL ? out : buf, (uint32_t)cp);
    return 0;
}

static int simple_escape(uint8_t c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    }
    return -1;
}

// Check the escapes of the string body [s, e) and, when out is not NULL,
// write the unescaped bytes there (never more than e - s). *len is the
// unescaped length.
static int unescape(struct ptm_json *j, const uint8_t *s, const uint8_t *e, uint8_t *out,
                    size_t *len)
{
    size_t n = 0;
    while (s < e) {
        const uint8_t *bs = memchr(s, '\\', (size_t)(e - s));
        const uint8_t *plain_end = bs != NULL ? bs : e;
        if (out != NULL)
            memcpy(out + n, s, (size_t)(plain_end - s));
        n += (size_t)(plain_end - s);
        if (bs == NULL)
            break;
        // The scan that found the closing quote saw a byte after every backslash.
        int c = simple_escape(bs[1]);
        if (c >= 0) {
            if (out != NULL)
                out[n] = (uint8_t)c;
            n++;
            s = bs + 2;
            continue;
        }
        if (bs[1] != 'u') {
            if (bs[1] >= 0x20 && bs[1] < 0x7f)
                return ptm_json_error(j, bs, "invalid escape '\\%c'", bs[1]);
            return ptm_json_error(j, bs, "invalid escape: byte 0x%02X after '\\'", bs[1]);
        }
        size_t used = 0, written = 0;
        int rc = unicode_escape(j, bs, e, out != NULL ? out + n : NULL, &used, &written);
        if (rc != 0)
            return rc;
        n += written;
        s = bs + used;
    }
    *len = n;
    return 0;
}

// A string starting at the opening quote j->p.
static int read_string(struct ptm_json *j, struct ptm_json_token *t)
{
    const uint8_t *start = j->p + 1;
    const uint8_t *p = start, *end = j->end;
    bool escaped = false;
    for (;;) {
        while (p < end && !string_stop[*p])
            p++;
        if (p >= end)
            return ptm_json_error(j, j->p, "unterminated string");
        if (*p == '"')
            break;
        if (*p != '\\')
            return ptm_json_error(j, p, "unescaped control character 0x%02X in a string", *p);
        if (end - p < 2)
            return ptm_json_error(j, j->p, "unterminated string");
        escaped = true;
        p += 2;
    }
    size_t raw = (size_t)(p - start);
    if (raw > UINT32_MAX)
        return ptm_json_error(j, j->p, "string longer than 4 GiB");
    t->text = (struct ptm_str){(const char *)start, (uint32_t)raw};
    if (escaped) {
        uint8_t *out = NULL;
        if (j->unescape) {
            out = ptm_arena_alloc(j->arena, raw);
            if (out == NULL)
                return ptm_error_set(j->err, PTM_ENOMEM, "out of memory unescaping a JSON string");
        }
        size_t len = 0;
        int rc = unescape(j, start, p, out, &len);
        if (rc != 0)
            return rc;
        if (out != NULL)
            t->text = (struct ptm_str){(const char *)out, (uint32_t)len};
    }
    j->p = p + 1;
    return 0;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

// Scan the JSON number at p. Returns the byte after it, or NULL with
// *problem and *bad saying what is wrong where.
static const uint8_t *scan_number(const uint8_t *p, const uint8_t *end, bool *integer,
                                  const uint8_t **bad, const char **problem)
{
    *integer = true;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            *bad = p - 1;
            *problem = "invalid number: leading zero";
            return NULL;
        }
    } else if (p < end && is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        *bad = p;
        *problem = "invalid number: expected a digit";
        return NULL;
    }
    if (p < end && *p == '.') {
        *integer = false;
        if (++p >= end || !is_digit(*p)) {
            *bad = p;
            *problem = "invalid number: expected a digit after '.'";
            return NULL;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *integer = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p)) {
            *bad = p;
            *problem = "invalid number: expected a digit in the exponent";
            return NULL;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    return p;
}

static int read_number(struct ptm_json *j, struct ptm_json_token *t)
{
    const uint8_t *bad = NULL;
    const char *problem = NULL;
    bool integer;
    const uint8_t *stop = scan_number(j->p, j->end, &integer, &bad, &problem);
    if (stop == NULL)
        return ptm_json_error(j, bad, "%s", problem);
    if ((size_t)(stop - j->p) > UINT32_MAX)
        return ptm_json_error(j, j->p, "number longer than 4 GiB");
    t->kind = PTM_JSON_NUMBER;
    t->integer = integer;
    t->text = (struct ptm_str){(const char *)j->p, (uint32_t)(stop - j->p)};
    j->p = stop;
    return 0;
}

static int read_literal(struct ptm_json *j, struct ptm_json_token *t, const char *word,
                        enum ptm_json_kind kind)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return ptm_json_error(j, j->p, "invalid literal (expected '%s')", word);
    j->p += n;
    t->kind = kind;
    return 0;
}

static int read_value(struct ptm_json *j, struct ptm_json_token *t)
{
    if (j->p >= j->end)
        return expected(j, "a value");
    int rc;
    switch (*j->p) {
    case '{': return open_container(j, t, false);
    case '[': return open_container(j, t, true);
    case '"':
        t->kind = PTM_JSON_STRING;
        rc = read_string(j, t);
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        rc = read_number(j, t);
        break;
    case 't': rc = read_literal(j, t, "true", PTM_JSON_TRUE); break;
    case 'f': rc = read_literal(j, t, "false", PTM_JSON_FALSE); break;
    case 'n': rc = read_literal(j, t, "null", PTM_JSON_NULL); break;
    default: return expected(j, "a value");
    }
    if (rc == 0)
        j->state = j->depth > 0 ? ST_AFTER_VALUE : ST_DONE;
    return rc;
}

static int read_key(struct ptm_json *j, struct ptm_json_token *t, const char *what)
{
    if (j->p >= j->end || *j->p != '"')
        return expected(j, what);
    t->kind = PTM_JSON_KEY;
    int rc = read_string(j, t);
    if (rc == 0)
        j->state = ST_COLON;
    return rc;
}

// After a value inside a container: a comma and the next entry, or the end.
static int read_after_value(struct ptm_json *j, struct ptm_json_token *t)
{
    bool array = level_is_array(j);
    if (j->p < j->end && *j->p == ',') {
        j->p++;
        skip_space(j);
        t->at = j->p;
        return array ? read_value(j, t) : read_key(j, t, "a key");
    }
    if (j->p < j->end && *j->p == (array ? ']' : '}'))
        return close_container(j, t, array ? PTM_JSON_ARRAY_END : PTM_JSON_OBJECT_END);
    return expected(j, array ? "',' or ']'" : "',' or '}'");
}

int ptm_json_next(struct ptm_json *j, struct ptm_json_token *t)
{
    skip_space(j);
    t->integer = false;
    t->text = (struct ptm_str){NULL, 0};
    t->at = j->p;
    switch (j->state) {
    case ST_DONE:
        if (j->p >= j->end) {
            t->kind = PTM_JSON_EOF;
            return 0;
        }
        return ptm_json_error(j, j->p, "unexpected data after the JSON document");
    case ST_AFTER_VALUE: return read_after_value(j, t);
    case ST_KEY_OR_END:
        if (j->p < j->end && *j->p == '}')
            return close_container(j, t, PTM_JSON_OBJECT_END);
        return read_key(j, t, "a key or '}'");
    case ST_COLON:
        if (j->p >= j->end || *j->p != ':')
            return expected(j, "':'");
        j->p++;
        skip_space(j);
        t->at = j->p;
        return read_value(j, t);
    case ST_VALUE_OR_END:
        if (j->p < j->end && *j->p == ']')
            return close_container(j, t, PTM_JSON_ARRAY_END);
        return read_value(j, t);
    default: return read_value(j, t);
    }
}

int ptm_json_skip(struct ptm_json *j, const struct ptm_json_token *first)
{
    if (first->kind != PTM_JSON_OBJECT && first->kind != PTM_JSON_ARRAY)
        return 0;
    int outer = j->depth - 1;
    bool unescape = j->unescape;
    j->unescape = false;
    int rc = 0;
    struct ptm_json_token t;
    while (rc == 0 && j->depth > outer)
        rc = ptm_json_next(j, &t);
    j->unescape = unescape;
    return rc;
}

int ptm_json_count_elements(struct ptm_json *j, uint32_t *count)
{
    struct ptm_json ahead = *j;
    ahead.unescape = false;
    uint32_t n = 0;
    for (;;) {
        struct ptm_json_token t;
        int rc = ptm_json_next(&ahead, &t);
        if (rc == 0 && t.kind == PTM_JSON_ARRAY_END)
            break;
        if (rc == 0)
            rc = ptm_json_skip(&ahead, &t);
        if (rc != 0) {
            j->error_at = ahead.error_at;
            return rc;
        }
        n++;
    }
    *count = n;
    return 0;
}

bool ptm_json_done(const struct ptm_json *j)
{
    return j->state == ST_DONE;
}

// ---- numbers ----

// The digit at position i of the digit sequence int_part followed by frac.
static int digit_at(const uint8_t *int_part, size_t int_len, const uint8_t *frac, size_t i)
{
    return (i < int_len ? int_part[i] : frac[i - int_len]) - '0';
}

// Exact value of a number with a fraction or exponent, e.g. 1.5e3 = 1500.
static int exact_integer(const uint8_t *p, const uint8_t *end, uint64_t *magnitude)
{
    const uint8_t *int_part = p;
    while (p < end && is_digit(*p))
        p++;
    size_t int_len = (size_t)(p - int_part);
    const uint8_t *frac = p;
    size_t frac_len = 0;
    if (p < end && *p == '.') {
        frac = ++p;
        while (p < end && is_digit(*p))
            p++;
        frac_len = (size_t)(p - frac);
    }
    int64_t exponent = 0;
    if (p < end) { // 'e' or 'E'
        bool negative = *++p == '-';
        if (*p == '+' || *p == '-')
            p++;
        for (; p < end; p++)
            exponent = exponent < 1000000000 ? exponent * 10 + (*p - '0') : exponent;
        exponent = negative ? -exponent : exponent;
    }
    size_t total = int_len + frac_len, first = 0, last = total;
    while (first < total && digit_at(int_part, int_len, frac, first) == 0)
        first++;
    *magnitude = 0;
    if (first == total)
        return PTM_JSON_NUMBER_OK; // zero, whatever the exponent
    while (digit_at(int_part, int_len, frac, last - 1) == 0)
        last--;
    int64_t scale = exponent - (int64_t)frac_len + (int64_t)(total - last);
    if (scale < 0)
        return PTM_JSON_NOT_AN_INTEGER;
    if ((int64_t)(last - first) + scale > 20)
        return PTM_JSON_OUT_OF_RANGE;
    uint64_t v = 0;
    for (size_t i = first; i < last; i++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)digit_at(int_part, int_len, frac, i), &v))
            return PTM_JSON_OUT_OF_RANGE;
    }
    for (int64_t i = 0; i < scale; i++) {
        if (__builtin_mul_overflow(v, 10, &v))
            return PTM_JSON_OUT_OF_RANGE;
    }
    *magnitude = v;
    return PTM_JSON_NUMBER_OK;
}

// Sign and magnitude of a JSON number that must be an exact integer.
static int to_integer(struct ptm_str text, bool *negative, uint64_t *magnitude)
{
    const uint8_t *p = (const uint8_t *)text.ptr, *end = p + text.len;
    const uint8_t *bad;
    const char *problem;
    bool integer;
    if (text.len == 0 || scan_number(p, end, &integer, &bad, &problem) != end)
        return PTM_JSON_NOT_A_NUMBER;
    *negative = *p == '-';
    p += *negative;
    if (!integer)
        return exact_integer(p, end, magnitude);
    uint64_t v = 0;
    for (; p < end; p++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            return PTM_JSON_OUT_OF_RANGE;
    }
    *magnitude = v;
    return PTM_JSON_NUMBER_OK;
}

int ptm_json_to_int64(struct ptm_str text, int64_t *out)
{
    bool negative;
    uint64_t magnitude;
    int rc = to_integer(text, &negative, &magnitude);
    if (rc != PTM_JSON_NUMBER_OK)
        return rc;
    if (negative) {
        if (magnitude > (uint64_t)INT64_MAX + 1)
            return PTM_JSON_OUT_OF_RANGE;
        *out = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
        return PTM_JSON_NUMBER_OK;
    }
    if (magnitude > (uint64_t)INT64_MAX)
        return PTM_JSON_OUT_OF_RANGE;
    *out = (int64_t)magnitude;
    return PTM_JSON_NUMBER_OK;
}

int ptm_json_to_uint64(struct ptm_str text, uint64_t *out)
{
    bool negative;
    uint64_t magnitude;
    int rc = to_integer(text, &negative, &magnitude);
    if (rc != PTM_JSON_NUMBER_OK)
        return rc;
    if (negative && magnitude != 0)
        return PTM_JSON_OUT_OF_RANGE;
    *out = magnitude;
    return PTM_JSON_NUMBER_OK;
}

int ptm_json_to_double(struct ptm_str text, double *out)
{
    const uint8_t *p = (const uint8_t *)text.ptr, *end = p + text.len;
    const uint8_t *bad;
    const char *problem;
    bool integer;
    if (text.len == 0 || scan_number(p, end, &integer, &bad, &problem) != end)
        return PTM_JSON_NOT_A_NUMBER;
    char local[64];
    char *buf = text.len < sizeof local ? local : malloc((size_t)text.len + 1);
    if (buf == NULL)
        return PTM_JSON_OUT_OF_RANGE;
    memcpy(buf, text.ptr, text.len);
    buf[text.len] = '\0';
    // strtod follows the C locale's decimal point; JSON's is always '.'.
    const char *point = localeconv()->decimal_point;
    if (point != NULL && point[0] != '.' && point[0] != '\0' && point[1] == '\0') {
        char *dot = strchr(buf, '.');
        if (dot != NULL)
            *dot = point[0];
    }
    double v = strtod(buf, NULL);
    if (buf != local)
        free(buf);
    if (isinf(v))
        return PTM_JSON_OUT_OF_RANGE;
    *out = v;
    return PTM_JSON_NUMBER_OK;
}
