/* Shared pieces of the polyact CLI: option parsing and error printing.
 * The CLI only parses, calls the library and prints. */
#ifndef PACT_CLI_H
#define PACT_CLI_H

#include "polyact.h"

enum { CLI_OK = 0, CLI_RUNTIME = 1, CLI_USAGE = 2, CLI_HELP = -1 };

/* One flag. `value` receives the argument of a flag that takes one; `flag` is
 * set to 1 for a flag that does not. Exactly one of them is non-NULL. */
typedef struct {
    const char *name;   /* without the leading "--" */
    const char **value;
    int *flag;
} cli_option;

/* Parses argv[1..] (argv[0] is the subcommand name) into `opts`, accepting
 * "--name value" and "--name=value"; "-o" is accepted as "--output" and "-h" as
 * "--help". Positional arguments are stored in order in positional[0..max_pos).
 * Returns CLI_OK, CLI_HELP (usage printed to stdout), or CLI_USAGE (one line on
 * stderr). */
int cli_parse(const char *cmd, int argc, char **argv, const cli_option *opts,
              const char **positional, int max_pos, const char *usage);

/* Prints "polyact CMD: message" on stderr; returns `code`. */
int cli_error(const char *cmd, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prints a library error as one line and returns CLI_RUNTIME (or CLI_USAGE for
 * PACT_EINVAL when `einval_is_usage`). */
int cli_lib_error(const char *cmd, const pact_error *err, int einval_is_usage);

/* Number parsing with range checks; on failure print one line, return CLI_USAGE. */
int cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);
int cli_double(const char *cmd, const char *flag, const char *s, double *out);
/* "A,B" with A < B, both finite. */
int cli_range(const char *cmd, const char *flag, const char *s, double *a, double *b);

/* 1 when stderr is a terminal (progress is shown only then). */
int cli_stderr_is_tty(void);

/* Usage error if `output` (given by `flag`, e.g. "-o") is the same file as
 * one of the n `inputs` (NULL entries skipped; same device and inode, so
 * other spellings count too): an output written over an input destroys it. */
int cli_check_output(const char *cmd, const char *flag, const char *output,
                     const char *const *inputs, int n);

/* Subcommands, each in tools/cmd_<name>.c. */
int cmd_fit(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_cost(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_optimize(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);

#endif
