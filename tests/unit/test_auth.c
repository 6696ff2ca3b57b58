// SPDX-License-Identifier: Apache-2.0
//
// The bearer token authenticator (engine/server/auth.c): tokens as written
// and from a file (one a line, blanks and empty lines dropped), the scheme
// matched without regard to case, a token that is a prefix or an extension
// of a good one refused, several tokens, a custom header, scheme and an
// empty scheme, the RFC 6750 challenge, the file read again when it changes
// (at most once a second) and on update, a file gone bad keeping the old
// tokens, and no error message quoting a token.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/auth.h"

static enum ptm_auth_result check(struct ptm_auth *a, const char *value)
{
    return ptm_auth_check(a, value, value ? strlen(value) : 0);
}

static struct ptm_auth *create(struct ptm_bearer_token_config cfg)
{
    struct ptm_error err = {0};
    struct ptm_auth *a = ptm_auth_create("bearertokenauth", &cfg, &err);
    if (a == NULL)
        fail_msg("create: %s", err.message);
    return a;
}

static void write_file(const char *path, const char *text)
{
    // Write beside, then rename: a new inode, as Kubernetes swaps a secret.
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
}

static void inline_tokens(void **state)
{
    const char *tokens[] = {"s3cret", "other-token"};
    struct ptm_auth *a = create((struct ptm_bearer_token_config){"Authorization", "Bearer", tokens, 2, NULL});
    assert_string_equal(ptm_auth_header(a), "Authorization");
    assert_int_equal(check(a, "Bearer s3cret"), PTM_AUTH_OK);
    assert_int_equal(check(a, "Bearer other-token"), PTM_AUTH_OK);
    assert_int_equal(check(a, "bearer s3cret"), PTM_AUTH_OK);    // the scheme, any case
    assert_int_equal(check(a, "Bearer   s3cret "), PTM_AUTH_OK); // blanks around the token
    assert_int_equal(check(a, NULL), PTM_AUTH_MISSING);
    assert_int_equal(check(a, ""), PTM_AUTH_MISSING);
    assert_int_equal(check(a, "  "), PTM_AUTH_MISSING);
    assert_int_equal(check(a, "Bearer s3cre"), PTM_AUTH_INVALID);   // a prefix
    assert_int_equal(check(a, "Bearer s3cret2"), PTM_AUTH_INVALID); // longer
    assert_int_equal(check(a, "Bearer S3cret"), PTM_AUTH_INVALID);  // the token is exact
    assert_int_equal(check(a, "Bearer"), PTM_AUTH_INVALID);
    assert_int_equal(check(a, "Bearer "), PTM_AUTH_INVALID);
    assert_int_equal(check(a, "Basic s3cret"), PTM_AUTH_INVALID);
    assert_int_equal(check(a, "s3cret"), PTM_AUTH_INVALID);
    assert_int_equal(check(a, "Bearers3cret"), PTM_AUTH_INVALID);
    // A value with a NUL inside is checked by its length.
    assert_int_equal(ptm_auth_check(a, "Bearer s3cret\0x", 15), PTM_AUTH_INVALID);
    char challenge[64];
    ptm_auth_challenge(a, PTM_AUTH_MISSING, challenge, sizeof challenge);
    assert_string_equal(challenge, "Bearer");
    ptm_auth_challenge(a, PTM_AUTH_INVALID, challenge, sizeof challenge);
    assert_string_equal(challenge, "Bearer error=\"invalid_token\"");
    ptm_auth_destroy(a);
}

static void other_schemes(void **state)
{
    const char *tokens[] = {"k-123"};
    struct ptm_auth *a = create((struct ptm_bearer_token_config){"X-Api-Key", "", tokens, 1, NULL});
    assert_string_equal(ptm_auth_header(a), "X-Api-Key");
    assert_int_equal(check(a, "k-123"), PTM_AUTH_OK);
    assert_int_equal(check(a, "Bearer k-123"), PTM_AUTH_INVALID);
    char challenge[64];
    ptm_auth_challenge(a, PTM_AUTH_MISSING, challenge, sizeof challenge);
    assert_string_equal(challenge, "Bearer");
    ptm_auth_destroy(a);

    a = create((struct ptm_bearer_token_config){"Authorization", "Token", tokens, 1, NULL});
    assert_int_equal(check(a, "Token k-123"), PTM_AUTH_OK);
    assert_int_equal(check(a, "Bearer k-123"), PTM_AUTH_INVALID);
    ptm_auth_challenge(a, PTM_AUTH_INVALID, challenge, sizeof challenge);
    assert_string_equal(challenge, "Token error=\"invalid_token\"");
    ptm_auth_destroy(a);
}

static void token_file(void **state)
{
    char dir[] = "/tmp/ptm-test-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/token", dir);
    write_file(path, "\n  first-token \r\n\n\tsecond\r\n");
    const char *ignored[] = {"inline"};
    struct ptm_auth *a = create((struct ptm_bearer_token_config){NULL, "Bearer", ignored, 1, path});
    assert_string_equal(ptm_auth_header(a), "Authorization");
    assert_int_equal(check(a, "Bearer first-token"), PTM_AUTH_OK);
    assert_int_equal(check(a, "Bearer second"), PTM_AUTH_OK);
    assert_int_equal(check(a, "Bearer inline"), PTM_AUTH_INVALID); // the file wins
    assert_int_equal(check(a, "Bearer "), PTM_AUTH_INVALID);       // no empty token from empty lines

    // Changed on disk: seen at the first check a second or more after the
    // last look, not before.
    write_file(path, "rotated\n");
    assert_int_equal(check(a, "Bearer first-token"), PTM_AUTH_OK);
    nanosleep(&(struct timespec){1, 100000000}, NULL);
    assert_int_equal(check(a, "Bearer rotated"), PTM_AUTH_OK);
    assert_int_equal(check(a, "Bearer first-token"), PTM_AUTH_INVALID);

    // A file gone empty or missing: the tokens read before stay.
    write_file(path, "\n \n");
    nanosleep(&(struct timespec){1, 100000000}, NULL);
    assert_int_equal(check(a, "Bearer rotated"), PTM_AUTH_OK);
    unlink(path);
    nanosleep(&(struct timespec){1, 100000000}, NULL);
    assert_int_equal(check(a, "Bearer rotated"), PTM_AUTH_OK);

    // Update (a reload) reads it at once; a bad one changes nothing.
    struct ptm_error err = {0};
    assert_int_equal(ptm_auth_update(a, &(struct ptm_bearer_token_config){NULL, "Bearer", NULL, 0, path}, &err),
                     PTM_EIO);
    assert_non_null(strstr(err.message, "extensions.bearertokenauth: token file "));
    assert_non_null(strstr(err.message, "No such file or directory"));
    assert_int_equal(check(a, "Bearer rotated"), PTM_AUTH_OK);
    write_file(path, "after-reload");
    assert_int_equal(ptm_auth_update(a, &(struct ptm_bearer_token_config){NULL, "Token", NULL, 0, path}, &err), 0);
    assert_int_equal(check(a, "Token after-reload"), PTM_AUTH_OK);
    assert_int_equal(check(a, "Bearer after-reload"), PTM_AUTH_INVALID);
    const char *inline_token[] = {"now-inline"};
    assert_int_equal(
        ptm_auth_update(a, &(struct ptm_bearer_token_config){NULL, "Bearer", inline_token, 1, NULL}, &err), 0);
    assert_int_equal(check(a, "Bearer now-inline"), PTM_AUTH_OK);
    assert_int_equal(check(a, "Token after-reload"), PTM_AUTH_INVALID);
    ptm_auth_destroy(a);

    // Errors at start name the file and never its content.
    write_file(path, "   \n\n");
    assert_null(ptm_auth_create("bearertokenauth/x", &(struct ptm_bearer_token_config){NULL, "Bearer", NULL, 0, path},
                                &err));
    char want[600];
    snprintf(want, sizeof want, "extensions.bearertokenauth/x: token file %s: holds no token", path);
    assert_string_equal(err.message, want);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inline_tokens),
        cmocka_unit_test(other_schemes),
        cmocka_unit_test(token_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
