// SPDX-License-Identifier: Apache-2.0
//
// Rule tests, in the spirit of `promtool test rules`: a YAML file names the
// rule files, describes input profiles (inline, or profile files) and lists
// the series the rules must produce. `profiletometrics test FILE...` runs
// them and prints a readable difference when they disagree. The format is
// documented in docs/rules.md ("Testing rules").
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/yaml.h"
#include "model/builder.h"

/// One expected series.
struct ruletest_expect {
    const char *metric;
    const char **keys, **values; // point attributes, as text
    size_t attr_count;
    const char **resource_keys, **resource_values; // NULL: any resource
    size_t resource_count;
    bool has_resource;
    double value;
    double tolerance; // relative
    uint32_t line;
};

/// One test case.
struct ruletest_case {
    const char *name;
    uint32_t line;
    const struct ptm_yaml_node *profiles; // the inline profile list, or NULL
    const char **files;                   // profile files, resolved
    size_t file_count;
    struct ruletest_expect *expect;
    size_t expect_count;
};

/// A whole test file.
struct ruletest_file {
    const char *path;
    const char *config;      // resolved, or NULL
    const char **rule_files; // resolved
    size_t rule_count;
    bool builtin_rules;
    uint64_t now;            // collection time for data without one
    struct ruletest_case *cases;
    size_t case_count;
};

struct ptm_arena;
struct ptm_config_diagnostics;

/// Parse a loaded test file; problems go to errors (FILE:LINE:COLUMN: ...).
/// Returns 0 when the file is usable.
int ruletest_parse(const struct ptm_yaml_document *doc, struct ptm_arena *arena,
                   struct ptm_config_diagnostics *errors, struct ruletest_file *out);

/// Add the inline profiles of a test case to model. Problems name the
/// test file, line and column.
int ruletest_build_profiles(const struct ruletest_file *file, const struct ruletest_case *c,
                            struct ptm_model *model, struct ptm_error *err);
