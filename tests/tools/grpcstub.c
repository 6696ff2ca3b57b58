// SPDX-License-Identifier: Apache-2.0
//
// grpcstub: the OTLP/gRPC receiver (engine/server/otlp_grpc.c) in front of a
// stand-in for ptm_service_submit, so tests/e2e/grpc_receiver can reach
// every answer the receiver maps, including those the real service gives
// only under load (OVERLOADED) or at shutdown (UNAVAILABLE).
//
//   build/tools/grpcstub [--endpoint HOST:PORT] [--max-recv BYTES]
//                        [--tls CERT KEY] [--client-ca CA]
//
// It logs "OTLP/gRPC listening on ... (port N)" on stderr, runs until
// SIGTERM, SIGINT or end of stdin, then stops the receiver and prints the
// self-telemetry (Prometheus text) on stdout.
//
// What the stand-in answers, chosen by the request's first bytes:
//   "stub:partial"      PARTIAL: 2 accepted, 1 rejected, 5 samples,
//                       message "stub: profile 1: stack_index 99 out of range"
//   "stub:bad"          BAD_REQUEST "stub: 100% bad\n: ünïcode"
//   "stub:toolarge"     TOO_LARGE "stub: too large"
//   "stub:overloaded"   OVERLOADED, retry after 7 s, "stub: queue full"
//   "stub:unavailable"  UNAVAILABLE "stub: shutting down"
//   "stub:sleep"        waits 300 ms, then OK
//   anything else       PARTIAL with 0 rejected (a warning) whose message is
//                       "len=N crc32=HEX" of the bytes it got, 1 profile and
//                       N samples accepted: the test checks the bytes
//                       arrived whole (and inflated, when sent gzip)
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "config/config.h"
#include "server/component.h"
#include "server/service.h"
#include "server/telemetry.h"
#include "util/strbuf.h"

static struct ptm_telemetry *telemetry;

struct ptm_telemetry *ptm_service_telemetry(struct ptm_service *svc)
{
    return telemetry;
}

static bool starts_with(const struct ptm_submit *req, const char *prefix)
{
    size_t n = strlen(prefix);
    return req->len >= n && memcmp(req->data, prefix, n) == 0;
}

static void answer(struct ptm_submit_result *out, enum ptm_submit_status status, const char *message)
{
    out->status = status;
    snprintf(out->message, sizeof out->message, "%s", message);
}

void ptm_service_submit(struct ptm_service *svc, const struct ptm_submit *req, struct ptm_submit_result *out)
{
    memset(out, 0, sizeof *out);
    if (starts_with(req, "stub:partial")) {
        answer(out, PTM_SUBMIT_PARTIAL, "stub: profile 1: stack_index 99 out of range");
        out->accepted_profiles = 2;
        out->rejected_profiles = 1;
        out->accepted_samples = 5;
    } else if (starts_with(req, "stub:bad")) {
        answer(out, PTM_SUBMIT_BAD_REQUEST, "stub: 100% bad\n: \xc3\xbcn\xc3\xaf" "code");
    } else if (starts_with(req, "stub:toolarge")) {
        answer(out, PTM_SUBMIT_TOO_LARGE, "stub: too large");
    } else if (starts_with(req, "stub:overloaded")) {
        answer(out, PTM_SUBMIT_OVERLOADED, "stub: queue full");
        out->retry_after_seconds = 7;
    } else if (starts_with(req, "stub:unavailable")) {
        answer(out, PTM_SUBMIT_UNAVAILABLE, "stub: shutting down");
    } else if (starts_with(req, "stub:sleep")) {
        nanosleep(&(struct timespec){0, 300000000}, NULL);
        out->status = PTM_SUBMIT_OK;
        out->accepted_profiles = 1;
    } else {
        out->status = PTM_SUBMIT_PARTIAL;
        out->accepted_profiles = 1;
        out->accepted_samples = req->len;
        unsigned long crc = crc32(0, req->data, (uInt)req->len);
        snprintf(out->message, sizeof out->message, "len=%zu crc32=%08lx", req->len, crc);
    }
}

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
    quit = 1;
}

// Wait for a signal or the end of stdin.
static void wait_for_quit(void)
{
    while (!quit) {
        fd_set in;
        FD_ZERO(&in);
        FD_SET(0, &in);
        struct timeval tv = {0, 100000};
        char buf[256];
        if (select(1, &in, NULL, NULL, &tv) == 1 && read(0, buf, sizeof buf) <= 0)
            break;
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: grpcstub [--endpoint HOST:PORT] [--max-recv BYTES] [--tls CERT KEY] [--client-ca CA]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct ptm_receiver_config cfg = {.id = "otlp", .type = PTM_RECEIVER_OTLP};
    cfg.otlp.grpc_enabled = true;
    ptm_grpc_server_config_defaults(&cfg.otlp.grpc);
    cfg.otlp.grpc.endpoint = "127.0.0.1:0";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            cfg.otlp.grpc.endpoint = argv[++i];
        } else if (strcmp(argv[i], "--max-recv") == 0 && i + 1 < argc) {
            cfg.otlp.grpc.max_recv_msg_size = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            cfg.otlp.grpc.tls.enabled = true;
            cfg.otlp.grpc.tls.cert_file = argv[++i];
            cfg.otlp.grpc.tls.key_file = argv[++i];
        } else if (strcmp(argv[i], "--client-ca") == 0 && i + 1 < argc) {
            cfg.otlp.grpc.tls.client_ca_file = argv[++i];
        } else {
            return usage();
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    telemetry = ptm_telemetry_create();
    struct ptm_error err = {0};
    struct ptm_receiver *r = ptm_receiver_otlp_grpc_start(&cfg, NULL, NULL, &err);
    if (r == NULL) {
        fprintf(stderr, "grpcstub: %s\n", err.message);
        ptm_telemetry_destroy(telemetry);
        return 1;
    }
    wait_for_quit();
    r->ops->stop(r);
    r->ops->destroy(r);
    struct ptm_strbuf out = {0};
    ptm_telemetry_render(telemetry, &out);
    fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
    ptm_strbuf_free(&out);
    ptm_telemetry_destroy(telemetry);
    return 0;
}
