// SPDX-License-Identifier: Apache-2.0
//
// PCRE2 behind the small interface of regex.h.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "util/regex.h"

#include <pcre2.h>
#include <stdlib.h>

#include "util/error.h"

// Enough for any sane pattern over a function name; a catastrophic one stops.
#define MATCH_LIMIT 1000000

struct ptm_regex {
    pcre2_code *code;
    pcre2_match_data *match;
    pcre2_match_context *context;
    int groups;
};

struct ptm_regex *ptm_regex_compile(const char *pattern, size_t len, struct ptm_error *err)
{
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &at, NULL);
    if (re == NULL) {
        PCRE2_UCHAR why[256];
        pcre2_get_error_message(code, why, sizeof why);
        ptm_error_set(err, PTM_ECONFIG, "bad regular expression \"%.*s\": %s at offset %zu", (int)len, pattern,
                      (const char *)why, (size_t)at);
        return NULL;
    }
    struct ptm_regex *r = calloc(1, sizeof *r);
    if (r == NULL)
        goto nomem;
    r->code = re;
    r->match = pcre2_match_data_create_from_pattern(re, NULL);
    r->context = pcre2_match_context_create(NULL);
    if (r->match == NULL || r->context == NULL)
        goto nomem;
    pcre2_set_match_limit(r->context, MATCH_LIMIT);
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); // best effort: falls back to the interpreter
    uint32_t groups = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
    r->groups = (int)groups;
    return r;
nomem:
    if (r == NULL)
        pcre2_code_free(re);
    ptm_regex_free(r);
    ptm_error_set(err, PTM_ENOMEM, "out of memory compiling a regular expression");
    return NULL;
}

void ptm_regex_free(struct ptm_regex *re)
{
    if (re == NULL)
        return;
    pcre2_match_context_free(re->context);
    pcre2_match_data_free(re->match);
    pcre2_code_free(re->code);
    free(re);
}

int ptm_regex_match(struct ptm_regex *re, const char *subject, size_t len, size_t *off, size_t *cap_len)
{
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->match, re->context);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->match);
    int g = re->groups >= 1 && rc >= 2 && ov[2] != PCRE2_UNSET ? 1 : 0;
    if (off != NULL)
        *off = ov[2 * g];
    if (cap_len != NULL)
        *cap_len = ov[2 * g + 1] - ov[2 * g];
    return 1;
}

int ptm_regex_groups(const struct ptm_regex *re)
{
    return re->groups;
}
