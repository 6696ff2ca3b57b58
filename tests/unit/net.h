// SPDX-License-Identifier: Apache-2.0
//
// What the server tests (test_http.c, test_grpc_server.c) share: a clock,
// a loopback connection, an authenticator, and a recorder of the connection
// events a server reports (engine/server/conn_event.h).
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "server/auth.h"
#include "server/conn_event.h"

/// CLOCK_MONOTONIC in ms.
uint64_t net_now_ms(void);

/// A blocking TCP connection to 127.0.0.1:port (the test fails if it cannot
/// connect).
int net_connect(uint16_t port);

/// An authenticator of bearer token (scheme Bearer, header Authorization);
/// free with ptm_auth_destroy. Inline: net.c is linked into every unit
/// test, also those built without engine/server (the TSan one).
static inline struct ptm_auth *net_auth(const char *token)
{
    const char *tokens[] = {token};
    struct ptm_bearer_token_config cfg = {"Authorization", "Bearer", tokens, 1, NULL};
    struct ptm_error err = {0};
    struct ptm_auth *auth = ptm_auth_create("bearertokenauth", &cfg, &err);
    if (auth == NULL)
        fail_msg("ptm_auth_create: %s", err.message);
    return auth;
}

/// Forget the events recorded so far.
void net_events_reset(void);

/// A ptm_conn_event_fn that records (thread-safe); ctx is ignored.
void net_on_conn_event(void *ctx, enum ptm_conn_event event, const char *detail);

/// How many events of that kind were recorded.
int net_events_of(enum ptm_conn_event event);

/// Wait (up to 3 s) until at least want events of that kind were recorded.
bool net_events_reach(enum ptm_conn_event event, int want);

/// Whether the detail of the last event recorded contains text.
bool net_last_detail_has(const char *text);
