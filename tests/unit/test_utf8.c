// SPDX-License-Identifier: Apache-2.0
//
// UTF-8 validation (engine/util/strbuf.c, ptm_utf8_valid), which reads
// ASCII eight bytes at a time: a bad or multi-byte sequence at every offset
// of a word, and at the ends, is found as byte by byte finds it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "util/strbuf.h"

static void ascii_and_sequences(void **state)
{
    (void)state;
    assert_true(ptm_utf8_valid("", 0));
    assert_true(ptm_utf8_valid("runtime.mallocgc", 16));
    assert_true(ptm_utf8_valid("a\0b", 3)); // NUL is valid UTF-8 (the store repairs it apart)
    assert_true(ptm_utf8_valid("caf\xc3\xa9 au lait", 13));       // é, 2 bytes
    assert_true(ptm_utf8_valid("\xe2\x82\xac and more text", 17)); // €, 3 bytes
    assert_true(ptm_utf8_valid("eight ch\xf0\x9f\x98\x80", 12));   // 😀 after a word, 4 bytes
    assert_false(ptm_utf8_valid("\xff", 1));
    assert_false(ptm_utf8_valid("abc\xc3", 4));          // cut short at the end
    assert_false(ptm_utf8_valid("\xed\xa0\x80xxxxxxxx", 11)); // a surrogate
    assert_false(ptm_utf8_valid("\xc0\xaf", 2));         // overlong
}

// One bad byte (0xff) or one é at each position of a 24-byte ASCII string:
// the first is never valid, the second always.
static void every_offset(void **state)
{
    (void)state;
    char text[25];
    for (size_t at = 0; at < 24; at++) {
        memset(text, 'x', 24);
        text[at] = (char)0xff;
        assert_false(ptm_utf8_valid(text, 24));
        assert_true(ptm_utf8_valid(text, at)); // the bytes before it
    }
    for (size_t at = 0; at + 1 < 24; at++) {
        memset(text, 'x', 24);
        text[at] = (char)0xc3, text[at + 1] = (char)0xa9;
        assert_true(ptm_utf8_valid(text, 24));
        assert_false(ptm_utf8_valid(text, at + 1)); // cut inside it
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ascii_and_sequences),
        cmocka_unit_test(every_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
