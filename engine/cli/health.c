// SPDX-License-Identifier: Apache-2.0
//
// `profiletometrics health`: ask a running `serve` whether it is healthy,
// for a container HEALTHCHECK or an exec probe where no curl is installed.
// It sends GET /health to the service's own endpoint (the address is read
// from the configuration the service runs with, so a changed port needs no
// second edit) and exits 0 on a 200, 1 on anything else: Docker reads 0 as
// healthy and 1 as unhealthy, and reserves 2.
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "util/error.h"

#define DEFAULT_URL "http://127.0.0.1:8888/health"
#define HEALTH_PATH "/health"

static const char health_usage[] =
    "usage: profiletometrics health [options]\n"
    "\n"
    "Ask a running `profiletometrics serve` whether it is healthy: GET /health on its\n"
    "own endpoint, healthy when it answers 200. Meant for a container HEALTHCHECK or\n"
    "an exec probe, where there is no curl.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE   the configuration the service runs with: ask at its\n"
    "                      service.telemetry.metrics.address (a wildcard address such as\n"
    "                      0.0.0.0 is asked on loopback), or at the health_check\n"
    "                      extension's endpoint when telemetry.metrics.level is none\n"
    "  -u, --url URL       ask this URL instead (default " DEFAULT_URL ")\n"
    "  -t, --timeout SECS  give up after this long (default 5)\n"
    "  -q, --quiet         print nothing when healthy\n"
    "  -h, --help          this text\n"
    "\n"
    "exit status: 0 healthy; 1 unhealthy, unreachable, or a bad command line or\n"
    "configuration (Docker's HEALTHCHECK reads 1 as unhealthy and reserves 2).\n";

// "host:port" as the service listens on it -> a URL to reach it from this
// machine. Wildcard hosts (0.0.0.0, [::], none) are reached on loopback.
static char *url_for(const char *address)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon[1] == '\0')
        return NULL;
    size_t host_len = (size_t)(colon - address);
    const char *host = address;
    if (host_len == 0 || (host_len == 7 && strncmp(host, "0.0.0.0", 7) == 0)) {
        host = "127.0.0.1";
        host_len = strlen(host);
    } else if (host_len == 4 && strncmp(host, "[::]", 4) == 0) {
        host = "[::1]";
        host_len = strlen(host);
    }
    size_t cap = sizeof "http://" + host_len + strlen(colon) + sizeof HEALTH_PATH;
    char *url = malloc(cap);
    if (url != NULL)
        snprintf(url, cap, "http://%.*s%s" HEALTH_PATH, (int)host_len, host, colon);
    return url;
}

// The URL to ask, from the configuration file; NULL after printing why not.
static char *url_from_config(const char *path)
{
    struct ptm_config_report report = {0};
    struct ptm_error err;
    struct ptm_config *config = ptm_config_load_file_report(path, &report, &err);
    for (size_t i = 0; i < report.errors.count; i++)
        ptm_cli_error("%s", report.errors.items[i].text);
    ptm_config_report_fini(&report);
    if (config == NULL)
        return NULL;
    const char *address = NULL;
    if (config->service.metrics_level != PTM_TELEMETRY_NONE)
        address = config->service.metrics_address;
    for (size_t i = 0; address == NULL && i < config->extension_count; i++)
        if (config->extensions[i].enabled && config->extensions[i].type == PTM_EXTENSION_HEALTH_CHECK)
            address = config->extensions[i].endpoint;
    char *url = NULL;
    if (address == NULL)
        ptm_cli_error("health: %s serves no health endpoint (service.telemetry.metrics.level is none and "
                      "no health_check extension is listed in service.extensions)", path);
    else if ((url = url_for(address)) == NULL)
        ptm_cli_error("health: %s: cannot make a URL of the address '%s'", path, address);
    ptm_config_destroy(config);
    return url;
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    return size * n;
}

// GET url; 0 when it answers 200.
static int ask(const char *url, double timeout, bool quiet)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ptm_cli_error("health: cannot initialise libcurl");
        return PTM_EXIT_USAGE;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        ptm_cli_error("health: out of memory");
        curl_global_cleanup();
        return PTM_EXIT_USAGE;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*"); // a proxy from the environment never stands in
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    if (rc != CURLE_OK) {
        printf("unhealthy: %s: %s\n", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return PTM_EXIT_USAGE;
    }
    if (status != 200) {
        printf("unhealthy: %s answered %ld\n", url, status);
        return PTM_EXIT_USAGE;
    }
    if (!quiet)
        printf("healthy: %s answered 200\n", url);
    return PTM_EXIT_OK;
}

int ptm_cmd_health(int argc, char **argv)
{
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'c'},
        {"url", required_argument, NULL, 'u'},
        {"timeout", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *url = NULL;
    double timeout = 5;
    bool quiet = false;
    char *end;
    int c;
    while ((c = getopt_long(argc, argv, "c:u:t:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'u': url = optarg; break;
        case 't':
            timeout = strtod(optarg, &end);
            if (*end != '\0' || !(timeout > 0)) {
                ptm_cli_error("health: --timeout takes seconds, not '%s'", optarg);
                return PTM_EXIT_USAGE;
            }
            break;
        case 'q': quiet = true; break;
        case 'h': fputs(health_usage, stdout); return PTM_EXIT_OK;
        default: fputs("try 'profiletometrics health --help'\n", stderr); return PTM_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        ptm_cli_error("health: unexpected argument '%s'", argv[optind]);
        return PTM_EXIT_USAGE;
    }
    if (path != NULL && url != NULL) {
        ptm_cli_error("health: give --config or --url, not both");
        return PTM_EXIT_USAGE;
    }
    if (url != NULL)
        return ask(url, timeout, quiet);
    if (path == NULL)
        return ask(DEFAULT_URL, timeout, quiet);
    char *from_config = url_from_config(path);
    if (from_config == NULL)
        return PTM_EXIT_USAGE;
    int status = ask(from_config, timeout, quiet);
    free(from_config);
    return status;
}
