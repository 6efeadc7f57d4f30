/* Helpers shared by the subcommands that run a network (eval, calibrate). */
#ifndef PACT_CLI_NN_H
#define PACT_CLI_NN_H

#include "cli.h"

/* Flags common to network commands; strings as given on the command line. */
typedef struct {
    const char *model, *data, *split, *images, *batch, *threads;
    const char *input_mean, *input_std, *act;
} cli_net_flags;

/* Sets OpenBLAS's thread count from --threads (NULL: leave it). CLI_OK/CLI_USAGE. */
int cli_set_threads(const char *cmd, const char *threads);

/* OpenBLAS's current thread count. */
int cli_threads(void);

/* Parses the flags, loads the network and the data set; prints one line and
 * returns CLI_USAGE/CLI_RUNTIME on failure. `default_split` applies to a
 * directory when --split is absent. */
int cli_load_net_and_data(const char *cmd, const cli_net_flags *f, pact_split default_split,
                          pact_net **net, pact_dataset **ds, size_t *max_images, int *batch);

/* Progress callback: "\rpolyact CMD: done/total images" on stderr, newline at
 * the end; ctx is the command name. Install it only when cli_stderr_is_tty(). */
void cli_progress(void *ctx, size_t done, size_t total);

#endif
