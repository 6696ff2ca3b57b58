// SPDX-License-Identifier: Apache-2.0
//
// Regular expressions for filters, attribute extraction and rules: PCRE2
// (close to the RE2 syntax the Collector's Go connector documents), compiled
// once, JIT-compiled when the platform allows, matched on any bytes (invalid
// UTF-8 in a profile's strings does not make a match fail), with a bound on
// backtracking so a pathological pattern cannot hang a request.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "profiletometrics.h"

struct ptm_regex;

/// Compile pattern (len bytes). Returns NULL with err giving the reason and
/// the offset in the pattern. Free with ptm_regex_free.
struct ptm_regex *ptm_regex_compile(const char *pattern, size_t len, struct ptm_error *err);

/// Free a compiled regex. NULL is a no-op.
void ptm_regex_free(struct ptm_regex *re);

/// Search subject (an unanchored search, like Go's MatchString). Returns 1 on
/// a match, 0 on none, negative when the match gave up (backtracking limit).
/// On a match, *off and *len (either may be NULL) give capture group 1 when
/// the pattern has one and it took part, else the whole match.
int ptm_regex_match(struct ptm_regex *re, const char *subject, size_t len, size_t *off, size_t *cap_len);

/// Number of capture groups in the pattern.
int ptm_regex_groups(const struct ptm_regex *re);
