// SPDX-License-Identifier: Apache-2.0
//
// `profiletometrics serve`: run the service a Collector-style configuration
// describes, in place of an OpenTelemetry Collector with the
// "profiletometrics" connector. SIGHUP reloads the configuration and rules
// (a bad one is refused and logged; the running one stays); SIGTERM and
// SIGINT stop it: receivers close, the queue is converted, the last metrics
// are flushed and the exporters get a deadline to send them; a second
// SIGTERM or SIGINT ends the sending at once.
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "server/log.h"
#include "server/service.h"
#include "util/error.h"

static const char serve_usage[] =
    "usage: profiletometrics serve [options]\n"
    "\n"
    "Run as a service: receive profiles (OTLP/gRPC, OTLP/HTTP, Pyroscope /ingest), convert\n"
    "them with the rules of the profiletometrics connector, export metrics (OTLP/HTTP,\n"
    "OTLP/gRPC, Prometheus, file, debug). The configuration is the OpenTelemetry\n"
    "Collector's: receivers, connectors.profiletometrics, exporters, service.pipelines.\n"
    "Without one: OTLP on 127.0.0.1:4317 (gRPC) and :4318 (HTTP), Pyroscope on :4040,\n"
    "the default rules flushed every 10 s, metrics on http://127.0.0.1:8889/metrics and\n"
    "in the log, self-telemetry on http://127.0.0.1:8888/metrics.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE        the configuration (also --config=FILE as otelcol takes it)\n"
    "  --feature-gates GATES    accepted for compatibility with otelcol (profiles need no gate here)\n"
    "  --shutdown-timeout SECS  how long exporters may keep sending after SIGTERM (default 10);\n"
    "                           a second SIGTERM or SIGINT ends it at once\n"
    "  -h, --help               this text\n"
    "\n"
    "signals: SIGHUP reloads the configuration and rules (a bad one is refused and the running\n"
    "one stays); SIGTERM/SIGINT stop: receivers close, queued requests are converted, the last\n"
    "metrics are flushed and sent within --shutdown-timeout.\n"
    "self-telemetry: http://<service.telemetry.metrics.address>/metrics and /health (default :8888).\n"
    "exit status: 0 after a clean stop, 1 when the configuration or a listener fails.\n";

static const char default_config[] =
    "receivers:\n"
    "  otlp:\n"
    "    protocols:\n"
    "      grpc: {endpoint: 127.0.0.1:4317}\n"
    "      http: {endpoint: 127.0.0.1:4318}\n"
    "  pyroscope: {endpoint: 127.0.0.1:4040}\n"
    "connectors:\n"
    "  profiletometrics: {flush_interval: 10s}\n"
    "exporters:\n"
    "  prometheus: {endpoint: 127.0.0.1:8889, resource_to_telemetry_conversion: {enabled: true}}\n"
    "  debug: {}\n"
    "service:\n"
    "  pipelines:\n"
    "    profiles: {receivers: [otlp, pyroscope], exporters: [profiletometrics]}\n"
    "    metrics: {receivers: [profiletometrics], exporters: [prometheus, debug]}\n"
    "  telemetry:\n"
    "    metrics: {address: 127.0.0.1:8888}\n";

// Load the configuration file (or the defaults), printing every problem.
static struct ptm_config *load(const char *path)
{
    struct ptm_config_report report = {0};
    struct ptm_error err;
    struct ptm_config *config = path ? ptm_config_load_file_report(path, &report, &err)
                                     : ptm_config_load_string_report(default_config, "(defaults)", &report, &err);
    for (size_t i = 0; i < report.warnings.count; i++)
        ptm_log_warn("config", "%s", report.warnings.items[i].text);
    for (size_t i = 0; i < report.errors.count; i++)
        ptm_log_error("config", "%s", report.errors.items[i].text);
    if (config == NULL && report.errors.count == 0)
        ptm_log_error("config", "%s", err.message);
    ptm_config_report_fini(&report);
    return config;
}

static int parse_serve_options(int argc, char **argv, const char **path, double *timeout)
{
    enum { OPT_GATES = 256, OPT_TIMEOUT };
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'c'},
        {"feature-gates", required_argument, NULL, OPT_GATES},
        {"shutdown-timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "c:h", longs, NULL)) != -1) {
        switch (c) {
        case 'c': *path = optarg; break;
        case OPT_GATES: ptm_log_debug("service", "feature gates %s accepted (none is needed)", optarg); break;
        case OPT_TIMEOUT:
            *timeout = strtod(optarg, &end);
            if (*end != '\0' || *timeout < 0) {
                ptm_cli_error("serve: --shutdown-timeout takes seconds, not '%s'", optarg);
                return -1;
            }
            break;
        case 'h': fputs(serve_usage, stdout); return 1;
        default: fputs("try 'profiletometrics serve --help'\n", stderr); return -1;
        }
    }
    if (optind < argc) {
        ptm_cli_error("serve: unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

static void reload(struct ptm_service *svc, const char *path)
{
    ptm_log_info("service", "SIGHUP: reloading %s", path ? path : "the default configuration");
    struct ptm_config *fresh = load(path);
    if (fresh == NULL) {
        ptm_telemetry_add(ptm_service_telemetry(svc), "ptm_service_reloads_total", "result=\"refused\"", 1);
        ptm_log_error("service", "reload refused, the running configuration stays: %s has errors (above)",
                      path ? path : "the default configuration");
        return;
    }
    struct ptm_error err;
    if (ptm_service_reload(svc, fresh, &err) != 0)
        ptm_log_error("service", "reload refused, the running configuration stays: %s", err.message);
}

struct stopper {
    struct ptm_service *svc;
    uint64_t deadline;
    pthread_t waiter;
};

static void *stopper_main(void *arg)
{
    struct stopper *st = arg;
    ptm_service_stop(st->svc, st->deadline);
    pthread_kill(st->waiter, SIGUSR1); // the stop is done: end the sigwait below
    return NULL;
}

// Stop in another thread while this one waits for its end or for a second
// SIGTERM/SIGINT, which gives up on what the exporters have not sent yet.
static void stop(struct ptm_service *svc, uint64_t deadline, const sigset_t *signals)
{
    struct stopper st = {svc, deadline, pthread_self()};
    pthread_t thread;
    if (pthread_create(&thread, NULL, stopper_main, &st) != 0) {
        ptm_service_stop(svc, deadline);
        return;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(signals, &sig) != 0)
            continue;
        if (sig == SIGUSR1)
            break;
        if (sig == SIGHUP) {
            ptm_log_warn("service", "SIGHUP ignored: the service is stopping");
            continue;
        }
        ptm_log_warn("service", "second %s: stopping now; what the exporters hold in memory is dropped",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT");
        ptm_service_abort(svc);
    }
    pthread_join(thread, NULL);
}

int ptm_cmd_serve(int argc, char **argv)
{
    const char *path = NULL;
    double timeout = 10;
    int parsed = parse_serve_options(argc, argv, &path, &timeout);
    if (parsed != 0)
        return parsed > 0 ? PTM_EXIT_OK : PTM_EXIT_USAGE;
    // Every thread the service starts inherits this mask: the signals are
    // taken here, by sigwait, and nowhere else.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct ptm_config *config = load(path);
    if (config == NULL)
        return PTM_EXIT_USAGE;
    struct ptm_error err;
    struct ptm_service *svc = ptm_service_start(config, &err);
    if (svc == NULL) {
        ptm_log_error("service", "%s", err.message);
        return PTM_EXIT_USAGE;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0 || sig == SIGUSR1)
            continue;
        if (sig == SIGHUP) {
            reload(svc, path);
            continue;
        }
        ptm_log_info("service", "%s: stopping (exporters get %.3g s; send it again to stop at once)",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT", timeout);
        break;
    }
    stop(svc, ptm_monotonic_ns() + (uint64_t)(timeout * 1e9), &signals);
    ptm_service_destroy(svc);
    ptm_log_info("service", "stopped");
    return PTM_EXIT_OK;
}
