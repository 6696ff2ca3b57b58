// SPDX-License-Identifier: Apache-2.0
//
// The subcommands of the profiletometrics command and what they share.
#pragma once

#include <stdio.h>

/// Exit statuses of every subcommand.
enum ptm_exit {
    PTM_EXIT_OK = 0,
    PTM_EXIT_USAGE = 1, // bad command line, or a failure not caused by the input
    PTM_EXIT_INPUT = 2, // an input could not be read, decoded or validated
};

/// `profiletometrics inspect`: argc/argv start at the subcommand's name.
int ptm_cmd_inspect(int argc, char **argv);

/// `profiletometrics convert`.
int ptm_cmd_convert(int argc, char **argv);

/// `profiletometrics check`.
int ptm_cmd_check(int argc, char **argv);

/// `profiletometrics test`.
int ptm_cmd_test(int argc, char **argv);

/// `profiletometrics serve`.
int ptm_cmd_serve(int argc, char **argv);

/// `profiletometrics health`: exits 0 when a running serve answers 200.
int ptm_cmd_health(int argc, char **argv);

/// Print "profiletometrics: <message>\n" to stderr.
void ptm_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
