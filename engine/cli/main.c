// SPDX-License-Identifier: Apache-2.0
//
// The profiletometrics command: dispatch to a subcommand.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "profiletometrics.h"

static const char usage[] =
    "usage: profiletometrics COMMAND [options] [ARGS]\n"
    "\n"
    "Turn profiles (OpenTelemetry OTLP profiles, pprof) into OpenTelemetry metrics.\n"
    "\n"
    "commands:\n"
    "  convert FILE...   turn profiles into metrics with the built-in and your rules\n"
    "  inspect FILE...   show what profile files hold: format, version, resources,\n"
    "                    profiles, totals and top functions\n"
    "  check -c FILE     check a configuration and compile its rules\n"
    "  test FILE...      run rule tests (YAML: rules, input profiles, expected series)\n"
    "  serve [-c FILE]   run as a service: OTLP/gRPC, OTLP/HTTP and Pyroscope in, metrics out\n"
    "  health [-c FILE]  ask a running service whether it is healthy (for HEALTHCHECK)\n"
    "\n"
    "Run 'profiletometrics COMMAND --help' for a command's options.\n"
    "  -h, --help        this text\n"
    "  --version         the version\n";

void ptm_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("profiletometrics: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"inspect", ptm_cmd_inspect},
    {"convert", ptm_cmd_convert},
    {"check", ptm_cmd_check},
    {"test", ptm_cmd_test},
    {"serve", ptm_cmd_serve},
    {"health", ptm_cmd_health},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return PTM_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        fputs(usage, stdout);
        return PTM_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("profiletometrics %s\n", ptm_version());
        return PTM_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    ptm_cli_error("unknown command '%s'", name);
    fputs(usage, stderr);
    return PTM_EXIT_USAGE;
}
