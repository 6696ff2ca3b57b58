// SPDX-License-Identifier: Apache-2.0
//
// `profiletometrics convert`: profiles in, metrics out. The configuration
// (or the defaults) decides which built-in rules run; --rules adds rule
// files; every input file is decoded and converted in turn, and the metrics
// of all of them are written once at the end, in the chosen format. It is a
// client of the public API (include/profiletometrics.h), as an embedding
// program is.
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/input.h"
#include "encode/encode.h"
#include "profiletometrics.h"

static const char convert_usage[] =
    "usage: profiletometrics convert [options] FILE...\n"
    "\n"
    "Convert profiles into OpenTelemetry metrics with the built-in rules (CPU time,\n"
    "memory, off-CPU time, per-function time and allocations) and your own rules.\n"
    "FILE may be - for standard input; formats are detected as for `inspect`.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE      a Collector-style configuration (connectors.profiletometrics\n"
    "                         is read; without one, every default applies)\n"
    "  --connector ID         which profiletometrics connector of the file (default: the first)\n"
    "  -r, --rules FILE       load a rule file (repeatable), after the configured ones\n"
    "  --no-builtin-rules     run only the rule files\n"
    "  -f, --format FORMAT    table (default), prometheus, otlp-json, otlp (protobuf)\n"
    "  -o, --output FILE      write there instead of standard output\n"
    "  --resource-to-labels   prometheus: put resource attributes on every series too\n"
    "  --input-format FORMAT  force the input format: otlp, otlp-json, otlp-framed, pprof\n"
    "  --otlp-version V       force the OTLP wire version: 1.8, 1.9, 1.10, 1.11\n"
    "  --now UNIX_NANOS       the collection time for data without one (default: now)\n"
    "  --scripts-dir DIR      load scripts/ and rules/ from DIR instead of the built-in copies\n"
    "  -q, --quiet            no progress line\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: 0 ok, 1 bad usage, configuration or rules, 2 an input could not be\n"
    "read, decoded or validated (metrics of the other inputs are still written).\n"
    "\n"
    "examples:\n"
    "  profiletometrics convert cpu.pprof\n"
    "  profiletometrics convert -c otelcol.yaml -f prometheus request.pb\n"
    "  profiletometrics convert -r rules/gc.lua -f otlp-json -o metrics.jsonl *.pb.gz\n";

struct convert_options {
    const char *config;
    const char *connector;
    const char **rules;
    size_t rule_count;
    bool no_builtin;
    int format;
    const char *output;
    bool resource_to_labels;
    uint64_t now;
    const char *scripts_dir;
    bool quiet;
    struct ptm_feed_options feed;
};

static int parse_convert_options(int argc, char **argv, struct convert_options *o)
{
    enum { OPT_CONNECTOR = 256, OPT_NO_BUILTIN, OPT_R2L, OPT_INPUT_FORMAT, OPT_OTLP_VERSION, OPT_NOW,
           OPT_SCRIPTS };
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'c'},
        {"connector", required_argument, NULL, OPT_CONNECTOR},
        {"rules", required_argument, NULL, 'r'},
        {"no-builtin-rules", no_argument, NULL, OPT_NO_BUILTIN},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"resource-to-labels", no_argument, NULL, OPT_R2L},
        {"input-format", required_argument, NULL, OPT_INPUT_FORMAT},
        {"otlp-version", required_argument, NULL, OPT_OTLP_VERSION},
        {"now", required_argument, NULL, OPT_NOW},
        {"scripts-dir", required_argument, NULL, OPT_SCRIPTS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->format = PTM_OUTPUT_TABLE;
    o->rules = calloc((size_t)argc, sizeof *o->rules);
    if (o->rules == NULL)
        return -1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "c:r:f:o:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case OPT_CONNECTOR: o->connector = optarg; break;
        case 'r': o->rules[o->rule_count++] = optarg; break;
        case OPT_NO_BUILTIN: o->no_builtin = true; break;
        case 'f':
            o->format = ptm_parse_output_format(optarg);
            if (o->format < 0) {
                ptm_cli_error("convert: unknown --format '%s' (table, prometheus, otlp-json, otlp)", optarg);
                return -1;
            }
            break;
        case 'o': o->output = optarg; break;
        case OPT_R2L: o->resource_to_labels = true; break;
        case OPT_INPUT_FORMAT: {
            int f = ptm_parse_format(optarg);
            if (f < 0) {
                ptm_cli_error("convert: unknown --input-format '%s' (otlp, otlp-json, otlp-framed, pprof)", optarg);
                return -1;
            }
            o->feed.format = (enum ptm_format)f;
            break;
        }
        case OPT_OTLP_VERSION:
            o->feed.otlp_version = ptm_parse_otlp_version(optarg);
            if (o->feed.otlp_version < 0) {
                ptm_cli_error("convert: unknown --otlp-version '%s' (1.8, 1.9, 1.10, 1.11)", optarg);
                return -1;
            }
            break;
        case OPT_NOW:
            o->now = strtoull(optarg, &end, 10);
            if (*end != '\0' || optarg[0] == '-') {
                ptm_cli_error("convert: --now takes nanoseconds since the epoch, not '%s'", optarg);
                return -1;
            }
            break;
        case OPT_SCRIPTS: o->scripts_dir = optarg; break;
        case 'q': o->quiet = true; break;
        case 'h': fputs(convert_usage, stdout); return 1;
        default: fputs("try 'profiletometrics convert --help'\n", stderr); return -1;
        }
    }
    if (optind >= argc) {
        ptm_cli_error("convert: no FILE given (use - for standard input)");
        fputs("try 'profiletometrics convert --help'\n", stderr);
        return -1;
    }
    return 0;
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress {
    bool enabled;
    double start, last;
    size_t files, total_files;
    uint64_t samples;
    bool shown;
};

// A progress line on a terminal for runs that take more than a second.
static void progress_update(struct progress *p, bool final)
{
    if (!p->enabled)
        return;
    double t = monotonic_seconds();
    if (!final && (t - p->start < 1.0 || t - p->last < 0.2))
        return;
    if (final && !p->shown)
        return;
    p->last = t;
    p->shown = true;
    fprintf(stderr, "\rconverted %zu/%zu files, %" PRIu64 " samples, %.1f s%s", p->files, p->total_files,
            p->samples, t - p->start, final ? "\n" : "");
}

// Decode and convert one file. Returns the exit status it earns.
static int convert_file(struct ptm_converter *converter, const char *path, const struct convert_options *o,
                        struct progress *prog)
{
    uint8_t *data = NULL;
    size_t len = 0;
    struct ptm_error err;
    struct ptm_feed_result result = {0};
    int rc = ptm_read_input(path, &data, &len, &err);
    if (rc != 0)
        ptm_cli_error("%s", err.message); // a read error names the file itself
    else if ((rc = ptm_converter_feed(converter, data, len, &o->feed, &result, &err)) != 0)
        ptm_cli_error("%s: %s", path, err.message);
    free(data);
    prog->samples += result.samples;
    prog->files++;
    progress_update(prog, false);
    if (rc == PTM_ERULE || rc == PTM_ENOMEM)
        return PTM_EXIT_USAGE;
    return rc == 0 ? PTM_EXIT_OK : PTM_EXIT_INPUT;
}

static int write_output(const char *data, size_t len, const char *path)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (f == NULL) {
        ptm_cli_error("convert: cannot write %s: %s", path, strerror(errno));
        return PTM_EXIT_USAGE;
    }
    size_t n = len ? fwrite(data, 1, len, f) : 0;
    int bad = n != len || fflush(f) != 0;
    if (path != NULL)
        bad |= fclose(f) != 0;
    if (bad) {
        ptm_cli_error("convert: writing %s failed: %s", path ? path : "standard output", strerror(errno));
        return PTM_EXIT_USAGE;
    }
    return PTM_EXIT_OK;
}

// Collect the metrics, encoded, and write them.
static int emit_metrics(struct ptm_converter *converter, const struct convert_options *o)
{
    struct ptm_collect_options co = {.now_unix_nano = o->now, .resource_to_labels = o->resource_to_labels};
    struct ptm_error err;
    char *out = NULL;
    size_t len = 0;
    if (ptm_converter_collect(converter, (enum ptm_output_format)o->format, &co, &out, &len, &err) != 0) {
        ptm_cli_error("convert: %s", err.message);
        return PTM_EXIT_USAGE;
    }
    int status = write_output(out, len, o->output);
    ptm_free(out);
    return status;
}

// Configuration warnings and errors, and what rules log, one line each.
static void log_line(void *ctx, const char *message)
{
    fprintf(stderr, "profiletometrics: %s\n", message);
}

static struct ptm_converter *make_converter(const struct convert_options *o)
{
    struct ptm_options opts = {
        .config_file = o->config,
        .connector = o->connector,
        .rule_files = o->rules,
        .rule_file_count = o->rule_count,
        .no_builtin_rules = o->no_builtin,
        .scripts_dir = o->scripts_dir,
        .log = log_line,
    };
    struct ptm_error err;
    struct ptm_converter *converter = ptm_converter_create(&opts, &err);
    // Every configuration error was logged on its own line already.
    if (converter == NULL && err.code != PTM_ECONFIG)
        ptm_cli_error("%s", err.message);
    return converter;
}

int ptm_cmd_convert(int argc, char **argv)
{
    struct convert_options o;
    int parsed = parse_convert_options(argc, argv, &o);
    if (parsed != 0) {
        free(o.rules);
        return parsed > 0 ? PTM_EXIT_OK : PTM_EXIT_USAGE;
    }
    struct ptm_converter *converter = make_converter(&o);
    int status = PTM_EXIT_USAGE;
    if (converter != NULL) {
        struct progress prog = {.enabled = !o.quiet && isatty(2), .start = monotonic_seconds(),
                                .total_files = (size_t)(argc - optind)};
        status = PTM_EXIT_OK;
        for (int i = optind; i < argc; i++) {
            int s = convert_file(converter, argv[i], &o, &prog);
            if (s == PTM_EXIT_USAGE || (s == PTM_EXIT_INPUT && status == PTM_EXIT_OK))
                status = s;
        }
        progress_update(&prog, true);
        int s = emit_metrics(converter, &o);
        if (s != PTM_EXIT_OK)
            status = s;
    }
    ptm_converter_destroy(converter);
    free(o.rules);
    return status;
}
