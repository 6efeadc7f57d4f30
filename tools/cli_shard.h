/* Job arrays without MPI: `--shard I/N` runs the items i with i mod N == I of
 * a job and writes them as a partial-result file (pact_partial); `polyact
 * merge` combines the N files. A job is named by a JSON object holding every
 * flag and every input's hash its results depend on: parts merge only when
 * their jobs are identical. */
#ifndef PACT_CLI_SHARD_H
#define PACT_CLI_SHARD_H

#include "cli_nn.h"

#include <cjson/cJSON.h>

#define CLI_PARTIAL_MAX ((size_t)1 << 30)

/* "I/N" with 0 <= I < N <= 2^24 -> *index, *count. CLI_OK or CLI_USAGE. */
int cli_shard_parse(const char *cmd, const char *s, int *index, int *count);

/* A job object: command, model name and weights' sha256, the images' count
 * and sha256, the flags that change the network (act, input mean/std) and
 * the activation layers' names and functions. NULL when out of memory. */
cJSON *cli_job_new(const char *command, const pact_net *net, const pact_dataset *ds,
                   const cli_net_flags *f);

/* Adds key: sha256 of the file at path. CLI_OK, or prints and CLI_RUNTIME. */
int cli_job_add_file_hash(const char *cmd, cJSON *job, const char *key, const char *path);

/* The job's canonical text (free with free()); NULL when out of memory. */
char *cli_job_text(const cJSON *job);

/* A new partial result for shard index/count of the job. CLI_OK, or prints
 * and returns CLI_RUNTIME. */
int cli_shard_begin(const char *cmd, const char *kind, const cJSON *job, size_t n_items,
                    size_t row_size, size_t n_sums, int index, int count, pact_partial **p);

/* Saves p to output, prints one line on stdout, frees p. */
int cli_shard_finish(const char *cmd, pact_partial *p, const char *output);

/* Reads a complete partial result of `kind` whose job is `job_text` (another
 * job, kind or a missing item is an error naming the file). CLI_OK, or prints
 * and returns CLI_RUNTIME. */
int cli_partial_load_complete(const char *cmd, const char *path, const char *kind,
                              const char *job_text, pact_partial **p);

#endif
