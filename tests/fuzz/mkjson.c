// SPDX-License-Identifier: Apache-2.0
//
// mkjson: OTLP profiles protobuf requests rewritten as OTLP JSON, for the
// fuzzers' seed corpora. The request is unpacked with the protobuf-c
// generated code of its wire version and printed by walking the message
// descriptors, so it works for v1.8, v1.9 and v1.10 alike:
//
//   build/fuzz/mkjson 8|9|10 [--snake] IN.pb... > OUT.json
//
// It writes the protobuf JSON mapping as OTLP specifies it: lowerCamelCase
// names (--snake: the .proto field names), 64-bit integers as strings,
// enums as numbers, bytes as base64 except trace, span and profile ids of
// their proper size, which are hex (pbc_json.c). One input gives one
// request; several give JSON Lines, one request a line.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/input.h"
#include "pbc_json.h"

int main(int argc, char **argv)
{
    int first = 2;
    bool snake = false;
    const ProtobufCMessageDescriptor *desc = argc > 1 ? pbc_json_request_descriptor(atoi(argv[1])) : NULL;
    if (argc > 2 && strcmp(argv[2], "--snake") == 0) {
        snake = true;
        first = 3;
    }
    if (desc == NULL || first >= argc) {
        fprintf(stderr, "usage: mkjson 8|9|10 [--snake] IN.pb... > OUT.json\n");
        return 2;
    }
    struct ptm_strbuf out = {0};
    for (int i = first; i < argc; i++) {
        size_t len = 0;
        uint8_t *data = NULL;
        struct ptm_error err;
        if (ptm_read_input(argv[i], &data, &len, &err) != 0) {
            fprintf(stderr, "mkjson: %s\n", err.message);
            return 1;
        }
        ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, data);
        free(data);
        if (m == NULL) {
            fprintf(stderr, "mkjson: %s: not a v1.%s request\n", argv[i], argv[1]);
            return 1;
        }
        pbc_json_write(&out, m, snake, atoi(argv[1]));
        ptm_strbuf_putc(&out, '\n');
        protobuf_c_message_free_unpacked(m, NULL);
    }
    int rc = out.failed || fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0;
    ptm_strbuf_free(&out);
    return rc;
}
