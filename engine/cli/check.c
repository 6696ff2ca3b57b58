// SPDX-License-Identifier: Apache-2.0
//
// `profiletometrics check -c FILE`: load a configuration and compile every
// rule it names, without touching any profile; say where anything is wrong,
// and what would run when nothing is.
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "api/engine.h"
#include "cli/cli.h"
#include "config/config.h"
#include "util/error.h"

static const char check_usage[] =
    "usage: profiletometrics check [options] -c FILE\n"
    "\n"
    "Check a configuration: every key and value, every pipeline reference, and\n"
    "every rule (built-in ones it enables and rule files it lists) compiled.\n"
    "Errors name the file, line, column and key path, or the rule file and line.\n"
    "Without -c the defaults are checked.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE      the configuration\n"
    "  -r, --rules FILE       also compile this rule file (repeatable)\n"
    "  --scripts-dir DIR      load scripts/ and rules/ from DIR instead of the built-in copies\n"
    "  -q, --quiet            print only problems\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: 0 ok (warnings allowed), 1 any error.\n";

static const char *kind_name(enum ptm_metric_kind k)
{
    return k == PTM_METRIC_GAUGE ? "gauge" : k == PTM_METRIC_HISTOGRAM ? "histogram" : "counter";
}

// Compile the rules of one connector and list the metrics they define.
static int check_connector(const struct ptm_connector_config *c, const char **rules, size_t n_rules,
                           const char *scripts_dir, bool quiet)
{
    struct ptm_error err;
    struct ptm_engine_options eo = {
        .connector = c, .rule_files = rules, .rule_file_count = n_rules, .source_dir = scripts_dir,
    };
    struct ptm_engine *engine = ptm_engine_create(&eo, &err);
    if (engine == NULL) {
        ptm_cli_error("%s", err.message);
        return PTM_EXIT_USAGE;
    }
    struct ptm_store *store = ptm_engine_store(engine);
    if (!quiet) {
        printf("connector %s: %u metrics\n", c ? c->id : "profiletometrics (defaults)",
               ptm_store_metric_count(store));
        for (uint32_t i = 0; i < ptm_store_metric_count(store); i++) {
            const struct ptm_metric_def *d = ptm_store_metric(store, i);
            printf("  %-40s %-9s %s\n", d->name, kind_name(d->kind), d->unit ? d->unit : "");
        }
    }
    ptm_engine_destroy(engine);
    return PTM_EXIT_OK;
}

int ptm_cmd_check(int argc, char **argv)
{
    enum { OPT_SCRIPTS = 256 };
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'c'},
        {"rules", required_argument, NULL, 'r'},
        {"scripts-dir", required_argument, NULL, OPT_SCRIPTS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *scripts_dir = NULL;
    const char **rules = calloc((size_t)argc + 1, sizeof *rules);
    size_t n_rules = 0;
    bool quiet = false;
    int c;
    while (rules != NULL && (c = getopt_long(argc, argv, "c:r:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'r': rules[n_rules++] = optarg; break;
        case OPT_SCRIPTS: scripts_dir = optarg; break;
        case 'q': quiet = true; break;
        case 'h': fputs(check_usage, stdout); free(rules); return PTM_EXIT_OK;
        default: fputs("try 'profiletometrics check --help'\n", stderr); free(rules); return PTM_EXIT_USAGE;
        }
    }
    if (rules == NULL || optind < argc) {
        if (rules != NULL)
            ptm_cli_error("check: unexpected argument '%s' (the configuration goes after -c)", argv[optind]);
        free(rules);
        return PTM_EXIT_USAGE;
    }
    struct ptm_config_report report = {0};
    struct ptm_error err;
    struct ptm_config *config = path ? ptm_config_load_file_report(path, &report, &err) : ptm_config_default();
    for (size_t i = 0; i < report.warnings.count; i++)
        fprintf(stderr, "profiletometrics: warning: %s\n", report.warnings.items[i].text);
    for (size_t i = 0; i < report.errors.count; i++)
        fprintf(stderr, "profiletometrics: %s\n", report.errors.items[i].text);
    int status = config == NULL ? PTM_EXIT_USAGE : PTM_EXIT_OK;
    for (size_t i = 0; config != NULL && i < config->connector_count; i++) {
        int s = check_connector(&config->connectors[i], rules, n_rules, scripts_dir, quiet);
        if (s != PTM_EXIT_OK)
            status = s;
    }
    if (config != NULL && config->connector_count == 0)
        status = check_connector(NULL, rules, n_rules, scripts_dir, quiet);
    if (status == PTM_EXIT_OK && !quiet)
        printf("%s: ok\n", path ? path : "defaults");
    ptm_config_report_fini(&report);
    ptm_config_destroy(config);
    free(rules);
    return status;
}
