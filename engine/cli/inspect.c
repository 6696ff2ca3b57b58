// SPDX-License-Identifier: Apache-2.0
//
// `profiletometrics inspect FILE...`: what a person wants to see first about
// profile files — format and version, resources and their attributes, and
// for each profile its types, time window, sizes, total and top functions —
// as text, or with --json for machines.
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/input.h"
#include "decode/decode.h"
#include "model/summary.h"
#include "util/error.h"
#include "util/strbuf.h"

struct inspect_options {
    bool json;
    uint32_t top; // 0 = all
    struct ptm_decode_options decode;
};

static const char inspect_usage[] =
    "usage: profiletometrics inspect [options] FILE...\n"
    "\n"
    "Show what profile files hold: format and OTLP version, resources and their\n"
    "attributes, and for each profile its sample type, period, time window,\n"
    "counts of samples, stacks, locations and functions, its total and its top\n"
    "functions by self (leaf frame) and cumulative value, like `go tool pprof -top`.\n"
    "FILE may be - for standard input. Formats are detected: OTLP protobuf\n"
    "(v1.8, v1.9, v1.10, v1.11), OTLP JSON and JSON Lines, the Collector file\n"
    "exporter's length-prefixed stream, pprof; gzipped or not.\n"
    "\n"
    "options:\n"
    "  --json                 print JSON instead of text\n"
    "  --top N                top functions to list per profile (default 10, 0 = all)\n"
    "  --format FORMAT        force the input format: otlp, otlp-json, otlp-framed, pprof\n"
    "  --otlp-version V       force the OTLP wire version: 1.8, 1.9, 1.10 or 1.11\n"
    "  --decoder NAME         fast (default) or protobuf-c (slower; for cross-checks)\n"
    "  --max-decompressed N   refuse gzip input that inflates past N bytes (default 1 GiB)\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: 0 ok, 1 bad usage, 2 a file could not be read, decoded or validated\n"
    "(the valid profiles of a partly bad file are still shown).\n"
    "\n"
    "examples:\n"
    "  profiletometrics inspect cpu.pprof\n"
    "  profiletometrics inspect --top 0 --json request.pb | jq '.files[0].profiles[0].top[0]'\n";

// ---- formatting helpers ----

static void put_str(struct ptm_strbuf *sb, struct ptm_str s)
{
    ptm_strbuf_utf8(sb, s.ptr ? s.ptr : "", s.len);
}

static void put_json_str(struct ptm_strbuf *sb, struct ptm_str s)
{
    ptm_strbuf_json_string(sb, s.ptr ? s.ptr : "", s.len);
}

static void put_hex(struct ptm_strbuf *sb, struct ptm_str s)
{
    for (uint32_t i = 0; i < s.len; i++)
        ptm_strbuf_printf(sb, "%02x", (unsigned char)s.ptr[i]);
}

static void put_time(struct ptm_strbuf *sb, uint64_t unix_nano)
{
    time_t secs = (time_t)(unix_nano / 1000000000u);
    struct tm tm;
    char text[32];
    gmtime_r(&secs, &tm);
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    ptm_strbuf_printf(sb, "%s.%09" PRIu64 "Z", text, unix_nano % 1000000000u);
}

// Nanoseconds as exact decimal seconds: 4788991611 -> "4.788991611s".
static void put_seconds(struct ptm_strbuf *sb, uint64_t nanos)
{
    char frac[16];
    snprintf(frac, sizeof frac, "%09" PRIu64, nanos % 1000000000u);
    size_t n = strlen(frac);
    while (n > 0 && frac[n - 1] == '0')
        n--;
    ptm_strbuf_printf(sb, "%" PRIu64 "%s%.*ss", nanos / 1000000000u, n ? "." : "", (int)n, frac);
}

static void put_value(struct ptm_strbuf *sb, const struct ptm_model *m, const struct ptm_any *v, bool json);

static void put_keyvalues(struct ptm_strbuf *sb, const struct ptm_model *m, struct ptm_range r, bool json)
{
    ptm_strbuf_puts(sb, json ? "{" : "{");
    for (uint32_t i = 0; i < r.len; i++) {
        const struct ptm_keyvalue *kv = &m->keyvalues.data[r.off + i];
        if (i > 0)
            ptm_strbuf_puts(sb, json ? "," : ", ");
        if (json) {
            put_json_str(sb, kv->key);
            ptm_strbuf_putc(sb, ':');
        } else {
            put_str(sb, kv->key);
            ptm_strbuf_putc(sb, '=');
        }
        put_value(sb, m, &kv->value, json);
    }
    ptm_strbuf_putc(sb, '}');
}

static void put_value(struct ptm_strbuf *sb, const struct ptm_model *m, const struct ptm_any *v, bool json)
{
    switch (v->kind) {
    case PTM_ANY_STRING:
        if (json)
            put_json_str(sb, v->u.str);
        else
            put_str(sb, v->u.str);
        break;
    case PTM_ANY_BOOL: ptm_strbuf_puts(sb, v->u.i ? "true" : "false"); break;
    case PTM_ANY_INT: ptm_strbuf_printf(sb, "%" PRId64, v->u.i); break;
    case PTM_ANY_DOUBLE: ptm_strbuf_printf(sb, "%.17g", v->u.d); break;
    case PTM_ANY_BYTES:
        if (json)
            ptm_strbuf_putc(sb, '"');
        put_hex(sb, v->u.str);
        if (json)
            ptm_strbuf_putc(sb, '"');
        break;
    case PTM_ANY_ARRAY:
        ptm_strbuf_putc(sb, '[');
        for (uint32_t i = 0; i < v->u.list.len; i++) {
            if (i > 0)
                ptm_strbuf_puts(sb, json ? "," : ", ");
            put_value(sb, m, &m->anys.data[v->u.list.off + i], json);
        }
        ptm_strbuf_putc(sb, ']');
        break;
    case PTM_ANY_KVLIST: put_keyvalues(sb, m, v->u.list, json); break;
    default: ptm_strbuf_puts(sb, json ? "null" : "(empty)"); break;
    }
}

static struct ptm_str str_at(const struct ptm_model *m, int32_t i)
{
    return ptm_model_string(m, i);
}

static void put_version(struct ptm_strbuf *sb, const struct ptm_batch *b)
{
    static const char *const names[] = {"1.8", "1.9", "1.10"};
    unsigned fits = b->otlp_candidates;
    if (fits == 0 || (fits & (fits - 1)) == 0) {
        ptm_strbuf_printf(sb, "v%s%s", names[b->otlp_version - 8], b->otlp_version == 10 ? "/v1.11" : "");
        return;
    }
    ptm_strbuf_puts(sb, "v");
    const char *sep = "";
    for (int v = 8; v <= 10; v++) {
        if (fits & 1u << (v - 8)) {
            ptm_strbuf_printf(sb, "%s%s", sep, names[v - 8]);
            sep = " or v";
        }
    }
    ptm_strbuf_printf(sb, " (the bytes fit each; read as v%s)", names[b->otlp_version - 8]);
}

// ---- text output ----

static void text_top(struct ptm_strbuf *sb, const struct ptm_profile_summary *sum, uint32_t top)
{
    uint32_t n = sum->top_len;
    if (n == 0)
        return;
    ptm_strbuf_puts(sb, "        ");
    ptm_strbuf_printf(sb, "%14s %7s %7s %14s %7s  %s\n", "self", "self%", "sum%", "cum", "cum%", "function");
    double running = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct ptm_function_stat *f = &sum->top[i];
        double total = sum->total != 0 ? (double)sum->total : 1.0;
        running += (double)f->self;
        ptm_strbuf_printf(sb, "        %14" PRId64 " %6.2f%% %6.2f%% %14" PRId64 " %6.2f%%  ", f->self,
                          100.0 * (double)f->self / total, 100.0 * running / total, f->cum,
                          100.0 * (double)f->cum / total);
        put_str(sb, f->name);
        ptm_strbuf_putc(sb, '\n');
    }
    if (n < sum->functions_with_value)
        ptm_strbuf_printf(sb, "        (%" PRIu32 " more functions; --top 0 lists all)\n",
                          sum->functions_with_value - n);
}

static void text_profile(struct ptm_strbuf *sb, const struct ptm_model *m, uint32_t index,
                         const struct ptm_profile_summary *sum, uint32_t top, uint32_t local_index)
{
    const struct ptm_profile *p = &m->profiles.data[index];
    ptm_strbuf_printf(sb, "    profile %" PRIu32 ": ", local_index);
    put_str(sb, str_at(m, p->sample_type.type));
    ptm_strbuf_putc(sb, '/');
    put_str(sb, str_at(m, p->sample_type.unit));
    if (p->period_type.type != 0 || p->period_type.unit != 0) {
        ptm_strbuf_printf(sb, ", period %" PRId64 " ", p->period);
        put_str(sb, str_at(m, p->period_type.type));
        ptm_strbuf_putc(sb, '/');
        put_str(sb, str_at(m, p->period_type.unit));
    } else if (p->period != 0) {
        ptm_strbuf_printf(sb, ", period %" PRId64 " (no period type)", p->period);
    }
    ptm_strbuf_puts(sb, "\n      time ");
    put_time(sb, p->time_unix_nano);
    ptm_strbuf_puts(sb, ", duration ");
    put_seconds(sb, p->duration_nano);
    ptm_strbuf_putc(sb, '\n');
    ptm_strbuf_printf(sb,
                      "      %" PRIu32 " samples, %" PRIu32 " stacks, %" PRIu32 " locations, %" PRIu32
                      " functions; total %" PRId64 " ",
                      sum->samples, sum->stacks, sum->locations, sum->functions, sum->total);
    put_str(sb, str_at(m, p->sample_type.unit));
    ptm_strbuf_putc(sb, '\n');
    text_top(sb, sum, top);
}

// ---- JSON output ----

static void json_profile(struct ptm_strbuf *sb, const struct ptm_model *m, uint32_t index,
                         const struct ptm_profile_summary *sum, uint32_t top)
{
    const struct ptm_profile *p = &m->profiles.data[index];
    const struct ptm_batch *b = &m->batches.data[p->batch];
    ptm_strbuf_printf(sb, "{\"request\":%" PRIu32 ",\"resource\":%" PRIu32 ",\"scope\":{\"name\":",
                      b->index, p->resource - b->resources.off);
    put_json_str(sb, m->scopes.data[p->scope].name);
    ptm_strbuf_puts(sb, ",\"version\":");
    put_json_str(sb, m->scopes.data[p->scope].version);
    ptm_strbuf_puts(sb, "},\"sample_type\":");
    put_json_str(sb, str_at(m, p->sample_type.type));
    ptm_strbuf_puts(sb, ",\"sample_unit\":");
    put_json_str(sb, str_at(m, p->sample_type.unit));
    ptm_strbuf_puts(sb, ",\"period_type\":");
    put_json_str(sb, str_at(m, p->period_type.type));
    ptm_strbuf_puts(sb, ",\"period_unit\":");
    put_json_str(sb, str_at(m, p->period_type.unit));
    ptm_strbuf_printf(sb,
                      ",\"period\":%" PRId64 ",\"time_unix_nano\":%" PRIu64 ",\"duration_nano\":%" PRIu64
                      ",\"samples\":%" PRIu32 ",\"stacks\":%" PRIu32 ",\"locations\":%" PRIu32
                      ",\"functions\":%" PRIu32 ",\"total\":%" PRId64 ",\"top\":[",
                      p->period, p->time_unix_nano, p->duration_nano, sum->samples, sum->stacks,
                      sum->locations, sum->functions, sum->total);
    for (uint32_t i = 0; i < sum->top_len; i++) {
        ptm_strbuf_puts(sb, i ? ",{\"function\":" : "{\"function\":");
        put_json_str(sb, sum->top[i].name);
        ptm_strbuf_printf(sb, ",\"self\":%" PRId64 ",\"cum\":%" PRId64 "}", sum->top[i].self, sum->top[i].cum);
    }
    ptm_strbuf_puts(sb, "]}");
}

// ---- totals per sample type ----

struct type_total {
    struct ptm_str type, unit;
    uint32_t profiles;
    int64_t total;
};

static bool str_eq(struct ptm_str a, struct ptm_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int add_total(struct type_total **totals, uint32_t *n, struct ptm_str type, struct ptm_str unit,
                     int64_t total)
{
    for (uint32_t i = 0; i < *n; i++) {
        if (str_eq((*totals)[i].type, type) && str_eq((*totals)[i].unit, unit)) {
            (*totals)[i].profiles++;
            if (__builtin_add_overflow((*totals)[i].total, total, &(*totals)[i].total))
                (*totals)[i].total = INT64_MAX;
            return 0;
        }
    }
    struct type_total *grown = realloc(*totals, (*n + 1) * sizeof **totals);
    if (grown == NULL)
        return PTM_ENOMEM;
    *totals = grown;
    grown[(*n)++] = (struct type_total){type, unit, 1, total};
    return 0;
}

static void put_totals(struct ptm_strbuf *sb, const struct type_total *t, uint32_t n, bool json)
{
    ptm_strbuf_puts(sb, json ? ",\"totals\":[" : "  totals:");
    for (uint32_t i = 0; i < n; i++) {
        if (json) {
            ptm_strbuf_puts(sb, i ? ",{\"sample_type\":" : "{\"sample_type\":");
            put_json_str(sb, t[i].type);
            ptm_strbuf_puts(sb, ",\"sample_unit\":");
            put_json_str(sb, t[i].unit);
            ptm_strbuf_printf(sb, ",\"profiles\":%" PRIu32 ",\"total\":%" PRId64 "}", t[i].profiles, t[i].total);
        } else {
            ptm_strbuf_puts(sb, i ? "; " : " ");
            put_str(sb, t[i].type);
            ptm_strbuf_putc(sb, '/');
            put_str(sb, t[i].unit);
            ptm_strbuf_printf(sb, " %" PRId64 " (%" PRIu32 " profile%s)", t[i].total, t[i].profiles,
                              t[i].profiles == 1 ? "" : "s");
        }
    }
    ptm_strbuf_puts(sb, json ? "]" : n ? "\n" : " none\n");
}

// ---- one file ----

static void text_header(struct ptm_strbuf *sb, const char *path, const struct ptm_model *m, size_t bytes)
{
    ptm_strbuf_printf(sb, "%s: ", path);
    if (m->batches.len == 0) {
        ptm_strbuf_printf(sb, "nothing decoded, %zu bytes\n", bytes);
        return;
    }
    const struct ptm_batch *b = &m->batches.data[0];
    static const char *const names[] = {"", "OTLP protobuf", "OTLP JSON", "OTLP framed (Collector file exporter)", "pprof"};
    ptm_strbuf_puts(sb, names[b->format]);
    if (b->format != PTM_FORMAT_PPROF && b->format != PTM_FORMAT_OTLP_JSON) {
        ptm_strbuf_putc(sb, ' ');
        put_version(sb, b);
    }
    ptm_strbuf_printf(sb, "%s, %zu bytes", b->gzipped ? ", gzipped" : "", bytes);
    if (m->batches.len > 1)
        ptm_strbuf_printf(sb, ", %" PRIu32 " requests", m->batches.len);
    ptm_strbuf_putc(sb, '\n');
}

static void text_batch(struct ptm_strbuf *sb, const struct ptm_model *m, const struct ptm_batch *b)
{
    if (b->format == PTM_FORMAT_PPROF)
        return;
    ptm_strbuf_printf(sb,
                      "  request %" PRIu32 ": %" PRIu32 " resources, %" PRIu32 " profiles; dictionary: %" PRIu32
                      " strings, %" PRIu32 " functions, %" PRIu32 " locations, %" PRIu32 " mappings, %" PRIu32
                      " stacks, %" PRIu32 " attributes, %" PRIu32 " links\n",
                      b->index, b->resources.len, b->profiles.len, b->strings.len, b->functions.len,
                      b->locations.len, b->mappings.len, b->stacks.len, b->attributes.len, b->links.len);
}

static void json_batches(struct ptm_strbuf *sb, const struct ptm_model *m)
{
    ptm_strbuf_puts(sb, ",\"requests\":[");
    for (uint32_t i = 0; i < m->batches.len; i++) {
        const struct ptm_batch *b = &m->batches.data[i];
        ptm_strbuf_printf(sb, "%s{\"index\":%" PRIu32 ",\"otlp_version\":", i ? "," : "", b->index);
        if (b->format == PTM_FORMAT_PPROF)
            ptm_strbuf_puts(sb, "null");
        else
            ptm_strbuf_printf(sb, "\"1.%d\"", b->otlp_version);
        ptm_strbuf_printf(sb,
                          ",\"resources\":%" PRIu32 ",\"profiles\":%" PRIu32 ",\"dictionary\":{\"strings\":%" PRIu32
                          ",\"functions\":%" PRIu32 ",\"locations\":%" PRIu32 ",\"mappings\":%" PRIu32
                          ",\"stacks\":%" PRIu32 ",\"attributes\":%" PRIu32 ",\"links\":%" PRIu32 "}}",
                          b->resources.len, b->profiles.len, b->strings.len, b->functions.len,
                          b->locations.len, b->mappings.len, b->stacks.len, b->attributes.len, b->links.len);
    }
    ptm_strbuf_putc(sb, ']');
    ptm_strbuf_puts(sb, ",\"resources\":[");
    for (uint32_t i = 0; i < m->resources.len; i++) {
        ptm_strbuf_puts(sb, i ? ",{\"attributes\":" : "{\"attributes\":");
        put_keyvalues(sb, m, m->resources.data[i].attributes, true);
        ptm_strbuf_putc(sb, '}');
    }
    ptm_strbuf_putc(sb, ']');
}

// Print every profile of the model, grouped under its batch, resource and
// scope in text, flat in JSON; gather the totals per sample type.
static int put_profiles(struct ptm_strbuf *sb, const struct ptm_model *m, const struct inspect_options *o)
{
    struct ptm_summarizer *s = ptm_summarizer_create(m);
    struct type_total *totals = NULL;
    uint32_t n_totals = 0;
    int rc = s == NULL ? PTM_ENOMEM : 0;
    uint32_t last_batch = UINT32_MAX, last_resource = UINT32_MAX, last_scope = UINT32_MAX;
    if (o->json)
        ptm_strbuf_puts(sb, ",\"profiles\":[");
    for (uint32_t i = 0; rc == 0 && i < m->profiles.len; i++) {
        const struct ptm_profile *p = &m->profiles.data[i];
        const struct ptm_batch *b = &m->batches.data[p->batch];
        struct ptm_profile_summary sum;
        rc = ptm_summarize_profile(s, i, o->top, &sum);
        if (rc == 0)
            rc = add_total(&totals, &n_totals, str_at(m, p->sample_type.type), str_at(m, p->sample_type.unit),
                           sum.total);
        if (rc != 0)
            break;
        if (o->json) {
            if (i > 0)
                ptm_strbuf_putc(sb, ',');
            json_profile(sb, m, i, &sum, o->top);
            continue;
        }
        if (p->batch != last_batch)
            text_batch(sb, m, b);
        const struct ptm_resource *res = &m->resources.data[p->resource];
        if (p->resource != last_resource && (res->attributes.len != 0 || b->format != PTM_FORMAT_PPROF)) {
            ptm_strbuf_printf(sb, "  resource %" PRIu32 ": ", p->resource - b->resources.off);
            put_keyvalues(sb, m, res->attributes, false);
            ptm_strbuf_putc(sb, '\n');
        }
        const struct ptm_scope *sc = &m->scopes.data[p->scope];
        if (p->scope != last_scope && (sc->name.len != 0 || sc->version.len != 0)) {
            ptm_strbuf_puts(sb, "   scope ");
            put_str(sb, sc->name);
            ptm_strbuf_putc(sb, ' ');
            put_str(sb, sc->version);
            ptm_strbuf_putc(sb, '\n');
        }
        last_batch = p->batch, last_resource = p->resource, last_scope = p->scope;
        text_profile(sb, m, i, &sum, o->top, i - b->profiles.off);
    }
    if (rc == 0) {
        if (o->json)
            ptm_strbuf_putc(sb, ']');
        put_totals(sb, totals, n_totals, o->json);
    }
    free(totals);
    ptm_summarizer_destroy(s);
    return rc;
}

// Decode and describe one file. Returns the exit status it earns.
static int inspect_file(struct ptm_model *m, const char *path, const struct inspect_options *o,
                        struct ptm_strbuf *sb, bool first)
{
    uint8_t *data = NULL;
    size_t len = 0;
    struct ptm_error err;
    ptm_model_reset(m);
    int rc = ptm_read_input(path, &data, &len, &err);
    int status = PTM_EXIT_OK;
    if (rc != 0)
        ptm_cli_error("%s", err.message); // a read error names the file itself
    else if ((rc = ptm_decode(m, data, len, &o->decode, &err)) != 0)
        ptm_cli_error("%s: %s", path, err.message);
    if (rc != 0)
        status = rc == PTM_ENOMEM ? PTM_EXIT_USAGE : PTM_EXIT_INPUT;
    if (rc == 0 || m->profiles.len > 0) {
        if (o->json) {
            ptm_strbuf_puts(sb, first ? "" : ",");
            ptm_strbuf_puts(sb, "{\"file\":");
            ptm_strbuf_json_string(sb, path, strlen(path));
            ptm_strbuf_printf(sb, ",\"bytes\":%zu,\"gzipped\":%s,\"format\":\"%s\",\"rejected_profiles\":%" PRIu32,
                              len, m->batches.len && m->batches.data[0].gzipped ? "true" : "false",
                              ptm_format_name(m->batches.len ? m->batches.data[0].format : PTM_FORMAT_AUTO),
                              m->rejected_profiles);
            json_batches(sb, m);
        } else {
            text_header(sb, path, m, len);
        }
        if (put_profiles(sb, m, o) != 0) {
            ptm_cli_error("%s: out of memory", path);
            status = PTM_EXIT_USAGE;
        }
        if (o->json)
            ptm_strbuf_putc(sb, '}');
    }
    free(data);
    return status;
}

static int parse_inspect_options(int argc, char **argv, struct inspect_options *o)
{
    enum { OPT_JSON = 256, OPT_TOP, OPT_FORMAT, OPT_OTLP_VERSION, OPT_DECODER, OPT_MAX };
    static const struct option longs[] = {
        {"json", no_argument, NULL, OPT_JSON},          {"top", required_argument, NULL, OPT_TOP},
        {"format", required_argument, NULL, OPT_FORMAT}, {"otlp-version", required_argument, NULL, OPT_OTLP_VERSION},
        {"decoder", required_argument, NULL, OPT_DECODER}, {"max-decompressed", required_argument, NULL, OPT_MAX},
        {"help", no_argument, NULL, 'h'},               {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->top = 10;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: o->json = true; break;
        case OPT_TOP: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end != '\0' || optarg[0] == '-' || v > UINT32_MAX) {
                ptm_cli_error("inspect: --top takes a count (0 = all), not '%s'", optarg);
                return -1;
            }
            o->top = (uint32_t)v;
            break;
        }
        case OPT_FORMAT: {
            int f = ptm_parse_format(optarg);
            if (f < 0) {
                ptm_cli_error("inspect: unknown --format '%s' (auto, otlp, otlp-json, otlp-framed, pprof)", optarg);
                return -1;
            }
            o->decode.format = (enum ptm_format)f;
            break;
        }
        case OPT_OTLP_VERSION: {
            int v = ptm_parse_otlp_version(optarg);
            if (v < 0) {
                ptm_cli_error("inspect: unknown --otlp-version '%s' (1.8, 1.9, 1.10, 1.11)", optarg);
                return -1;
            }
            o->decode.otlp_version = v;
            break;
        }
        case OPT_DECODER:
            if (strcmp(optarg, "fast") == 0) {
                o->decode.decoder = PTM_DECODER_FAST;
            } else if (strcmp(optarg, "protobuf-c") == 0) {
                o->decode.decoder = PTM_DECODER_PROTOBUF_C;
            } else {
                ptm_cli_error("inspect: unknown --decoder '%s' (fast, protobuf-c)", optarg);
                return -1;
            }
            break;
        case OPT_MAX: {
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end != '\0' || optarg[0] == '-' || v == 0) {
                ptm_cli_error("inspect: --max-decompressed takes a byte count, not '%s'", optarg);
                return -1;
            }
            o->decode.max_decompressed = (size_t)v;
            break;
        }
        case 'h': fputs(inspect_usage, stdout); return 1;
        default: fputs("try 'profiletometrics inspect --help'\n", stderr); return -1;
        }
    }
    if (optind >= argc) {
        ptm_cli_error("inspect: no FILE given (use - for standard input)");
        fputs("try 'profiletometrics inspect --help'\n", stderr);
        return -1;
    }
    return 0;
}

int ptm_cmd_inspect(int argc, char **argv)
{
    struct inspect_options o;
    int parsed = parse_inspect_options(argc, argv, &o);
    if (parsed != 0)
        return parsed > 0 ? PTM_EXIT_OK : PTM_EXIT_USAGE;
    struct ptm_model *m = ptm_model_create();
    if (m == NULL) {
        ptm_cli_error("out of memory");
        return PTM_EXIT_USAGE;
    }
    struct ptm_strbuf sb = {0};
    int status = PTM_EXIT_OK;
    if (o.json)
        ptm_strbuf_puts(&sb, "{\"files\":[");
    bool first = true;
    for (int i = optind; i < argc; i++) {
        size_t before = sb.len;
        int s = inspect_file(m, argv[i], &o, &sb, first);
        first = first && sb.len == before;
        if (s > status)
            status = s;
        if (!o.json && sb.len > 0) { // nothing (and no buffer yet) when the file could not be read
            fwrite(sb.data, 1, sb.len, stdout);
            ptm_strbuf_clear(&sb);
        }
    }
    if (o.json) {
        ptm_strbuf_puts(&sb, "]}\n");
        fwrite(sb.data, 1, sb.len, stdout);
    }
    if (sb.failed) {
        ptm_cli_error("out of memory formatting the output");
        status = PTM_EXIT_USAGE;
    }
    ptm_strbuf_free(&sb);
    ptm_model_destroy(m);
    return status;
}
