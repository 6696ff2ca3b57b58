// SPDX-License-Identifier: Apache-2.0
//
// Bearer token authentication for the receivers: the server side of the
// Collector's bearertokenauth extension. A request carries
// "<scheme> <token>" in a header (default "Authorization: Bearer <token>");
// it passes when the token is one of the configured ones. The scheme is
// matched without regard to case (RFC 9110 auth-scheme), the token in
// constant time, against every token, so the time taken tells nothing of
// how much of a token was right or which one it was.
//
// Tokens come from the configuration (token, tokens) or from a file (one a
// line; leading and trailing blanks and empty lines ignored), which is read
// at start, by ptm_auth_update (a reload), and again whenever it changes:
// a check looks at the file's identity and times at most once a second
// (stat(2), which follows the symlinks Kubernetes swaps to update a mounted
// secret). A file that becomes unreadable or empty is logged and the
// tokens read before stay in force. Nothing here logs or reports a token.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "profiletometrics.h"

struct ptm_auth;

enum ptm_auth_result {
    PTM_AUTH_OK,
    PTM_AUTH_MISSING, ///< no header, or an empty one
    PTM_AUTH_INVALID, ///< another scheme, or a token that is not one of ours
};

/// An authenticator for the extension id with settings cfg (copied). NULL
/// with err when its file cannot be read or holds no token, or when out of
/// memory. Free with ptm_auth_destroy.
struct ptm_auth *ptm_auth_create(const char *id, const struct ptm_bearer_token_config *cfg, struct ptm_error *err);

/// NULL is a no-op.
void ptm_auth_destroy(struct ptm_auth *a);

/// Take new settings (a reload): the scheme and the tokens, read again from
/// the file when there is one. The header stays the one the authenticator
/// was created with (the receivers look it up by that name). On error
/// nothing changes and err says why. Thread-safe.
int ptm_auth_update(struct ptm_auth *a, const struct ptm_bearer_token_config *cfg, struct ptm_error *err);

/// Check a request's header value (NULL or "" when absent). Thread-safe.
enum ptm_auth_result ptm_auth_check(struct ptm_auth *a, const char *value, size_t len);

/// The header name the token comes in, as configured ("Authorization").
/// Borrowed for the authenticator's life.
const char *ptm_auth_header(const struct ptm_auth *a);

/// The extension id, for messages. Borrowed.
const char *ptm_auth_id(const struct ptm_auth *a);

/// The WWW-Authenticate challenge for an HTTP 401: `Bearer` (the scheme
/// configured, or Bearer when it is empty), followed by
/// ` error="invalid_token"` when the token was wrong (RFC 6750).
void ptm_auth_challenge(struct ptm_auth *a, enum ptm_auth_result result, char *out, size_t size);

/// Words for a refusal, for the client and the logs (no token in them).
const char *ptm_auth_result_text(enum ptm_auth_result result);
