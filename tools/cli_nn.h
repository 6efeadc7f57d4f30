/* Helpers shared by the subcommands that run a network (eval, calibrate). */
#ifndef PACT_CLI_NN_H
#define PACT_CLI_NN_H

#include "cli.h"

/* Flags common to network commands; strings as given on the command line. */
typedef struct {
    const char *model, *data, *split, *images, *batch, *threads;
    const char *input_mean, *input_std, *act, *classes;
} cli_net_flags;

/* The cli_option entries of those flags, for a command's option table. */
#define CLI_NET_OPTIONS(f)                                                                    \
    {"model", &(f).model, NULL}, {"data", &(f).data, NULL}, {"split", &(f).split, NULL},      \
        {"images", &(f).images, NULL}, {"batch", &(f).batch, NULL},                           \
        {"threads", &(f).threads, NULL}, {"input-mean", &(f).input_mean, NULL},               \
        {"input-std", &(f).input_std, NULL}, {"classes", &(f).classes, NULL},                 \
        {"act", &(f).act, NULL}

/* --threads T (NULL: the number of online processors) -> *threads.
 * CLI_OK or CLI_USAGE. */
int cli_threads(const char *cmd, const char *flag_value, int *threads);

/* "A,B,C" -> three finite numbers for --FLAG; CLI_OK, or one line and CLI_USAGE. */
int cli_triple(const char *cmd, const char *flag, const char *s, double v[3]);

/* Parses the flags, loads the network and the data set; prints one line and
 * returns CLI_USAGE/CLI_RUNTIME on failure. `default_split` applies to a
 * directory when --split is absent. */
int cli_load_net_and_data(const char *cmd, const cli_net_flags *f, pact_split default_split,
                          pact_net **net, pact_dataset **ds, size_t *max_images, int *batch,
                          int *threads);

/* A calibration read from `path` must be of the loaded weights (when it
 * names any): prints one line naming the file and returns CLI_RUNTIME
 * otherwise, CLI_OK when it matches. */
int cli_check_calib(const char *cmd, const char *path, const pact_calib *cal, const pact_net *net);

/* Progress callback: "\rpolyact CMD:  45% (done/total)" on stderr, newline at
 * the end; ctx is the command name. Install it only when cli_stderr_is_tty(). */
void cli_progress(void *ctx, size_t done, size_t total);

#endif
