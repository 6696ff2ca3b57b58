// SPDX-License-Identifier: Apache-2.0
//
// Decode benchmark: reads a profile file once, decodes it once into a fresh
// model (the first request: every page of the model is touched for the
// first time), then N more times into the same model with ptm_model_reset
// between runs (the steady state of a server: arenas and vectors reused).
// Reports both, the throughput in samples/s and input MB/s (10^6 bytes),
// and the process's peak RSS as a multiple of the input size. For a clean
// first-request RSS figure run it with --repeat 0 in a process of its own.
//
//   decode [--repeat N] [--decoder fast|protobuf-c] FILE
//
// The last line is for scripts: "RESULT key=value ...".
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"
#include "decode/decode.h"
#include "model/model.h"

struct run_stats {
    uint32_t samples;
    uint32_t profiles;
    uint64_t weight; // samples' weight in the first sample type of each input
};

// Sum the weights of the profiles that read the first value of their
// samples (every OTLP profile; a pprof file's first sample type).
static struct run_stats model_stats(const struct ptm_model *m)
{
    struct run_stats st = {.samples = m->samples.len, .profiles = m->profiles.len};
    for (uint32_t i = 0; i < m->profiles.len; i++) {
        const struct ptm_profile *p = &m->profiles.data[i];
        if (p->value_column > 0)
            continue;
        for (uint32_t s = 0; s < p->samples.len; s++)
            st.weight += (uint64_t)ptm_sample_weight(m, p, &m->samples.data[p->samples.off + s]);
    }
    return st;
}

// Decode once, exiting with the decoder's message on failure. Returns seconds.
static double decode_once(struct ptm_model *m, const void *data, size_t len,
                          const struct ptm_decode_options *opts, const char *path)
{
    struct ptm_error err;
    double t0 = now_seconds();
    int rc = ptm_decode(m, data, len, opts, &err);
    double t = now_seconds() - t0;
    if (rc != 0) {
        fprintf(stderr, "decode: %s: %s\n", path, err.message);
        exit(1);
    }
    return t;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: decode [--repeat N] [--decoder fast|protobuf-c] FILE\n");
    exit(2);
}

struct args {
    int repeat;
    enum ptm_decoder decoder;
    const char *path;
};

static struct args parse_args(int argc, char **argv)
{
    struct args a = {.repeat = 10, .decoder = PTM_DECODER_FAST};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 0 || n > 100000)
                usage();
            a.repeat = (int)n;
        } else if (strcmp(argv[i], "--decoder") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "fast") == 0)
                a.decoder = PTM_DECODER_FAST;
            else if (strcmp(argv[i], "protobuf-c") == 0)
                a.decoder = PTM_DECODER_PROTOBUF_C;
            else
                usage();
        } else if (a.path == NULL && argv[i][0] != '-') {
            a.path = argv[i];
        } else {
            usage();
        }
    }
    if (a.path == NULL)
        usage();
    return a;
}

static void print_rate(const char *what, double seconds, const struct run_stats *st, size_t len)
{
    printf("%-28s %9.2f ms  %7.2f M samples/s  %8.1f MB/s\n", what, seconds * 1e3,
           st->samples / seconds / 1e6, (double)len / seconds / 1e6);
}

int main(int argc, char **argv)
{
    struct args a = parse_args(argc, argv);
    size_t len;
    void *data = read_file(a.path, &len);
    struct ptm_decode_options opts = {.decoder = a.decoder};
    const char *decoder = a.decoder == PTM_DECODER_FAST ? "fast" : "protobuf-c";
    struct ptm_model *m = ptm_model_create();
    if (m == NULL)
        return 1;

    double first = decode_once(m, data, len, &opts, a.path);
    struct run_stats st = model_stats(m);
    const struct ptm_batch *b = &m->batches.data[0];
    printf("%s: %zu bytes, %s%s%s, decoder %s\n", a.path, len, ptm_format_name(b->format),
           b->otlp_version ? " v1." : "", b->otlp_version ? (b->otlp_version == 10 ? "10" : b->otlp_version == 9 ? "9" : "8") : "",
           decoder);
    printf("%-28s %" PRIu32 " samples, %" PRIu32 " profiles, weight %" PRIu64 "\n", "decoded",
           st.samples, st.profiles, st.weight);
    print_rate("first decode (fresh heap)", first, &st, len);

    double *times = calloc(a.repeat > 0 ? (size_t)a.repeat : 1, sizeof *times);
    if (times == NULL)
        return 1;
    for (int i = 0; i < a.repeat; i++) {
        ptm_model_reset(m);
        times[i] = decode_once(m, data, len, &opts, a.path);
    }
    double median = 0;
    if (a.repeat > 0) {
        qsort(times, (size_t)a.repeat, sizeof *times, compare_double);
        median = a.repeat % 2 ? times[a.repeat / 2]
                              : (times[a.repeat / 2 - 1] + times[a.repeat / 2]) / 2;
        char what[64];
        snprintf(what, sizeof what, "steady (median of %d)", a.repeat);
        print_rate(what, median, &st, len);
        printf("%-28s %9.2f ms .. %.2f ms\n", "steady min .. max", times[0] * 1e3,
               times[a.repeat - 1] * 1e3);
    }

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss = (double)ru.ru_maxrss * 1024.0;
    printf("%-28s %9.1f MiB = %.2f x input\n", "peak RSS", rss / (1 << 20), rss / (double)len);
    printf("RESULT decoder=%s bytes=%zu samples=%" PRIu32 " profiles=%" PRIu32
           " weight=%" PRIu64 " first_ms=%.3f first_msps=%.3f first_mbps=%.1f"
           " repeat=%d steady_ms=%.3f steady_msps=%.3f steady_mbps=%.1f"
           " rss_kib=%ld rss_x=%.2f\n",
           decoder, len, st.samples, st.profiles, st.weight, first * 1e3,
           st.samples / first / 1e6, (double)len / first / 1e6, a.repeat, median * 1e3,
           median > 0 ? st.samples / median / 1e6 : 0, median > 0 ? (double)len / median / 1e6 : 0,
           ru.ru_maxrss, rss / (double)len);
    free(times);
    ptm_model_destroy(m);
    free(data);
    return 0;
}
