/* Where the subcommands' inputs are read and their heavy steps run.
 *
 * The subcommands are one code base linked two ways: `polyact` with
 * tools/backend_serial.c (this process does everything), and, when MPI is
 * found, `polyact-mpi` with tools/mpi/ (every rank of an MPI job runs the
 * same subcommand; rank 0 reads the inputs and broadcasts them, items are
 * handed out dynamically, rank 0 merges in item order, prints and writes).
 * Every function returns the same status on every rank of a job; the message
 * of a failure that happened on another rank names that rank. */
#ifndef PACT_CLI_BACKEND_H
#define PACT_CLI_BACKEND_H

#include "polyact.h"

/* Called first by main. Returns -1 to go on, or an exit code to return at
 * once. The serial backend hands a job started by mpirun over to
 * polyact-mpi (exec; see README "Scale-out"). */
int cli_backend_init(int *argc, char ***argv);

/* Called last by main with the subcommand's exit code; returns the process's. */
int cli_backend_finish(int rc);

/* 1 in the process that prints and writes outputs (serial: always). */
int cli_backend_root(void);

/* Engine threads when --threads is not given: all processors (serial), the
 * node's processors shared among its ranks (MPI). */
int cli_backend_default_threads(void);

/* 1 when the heavy steps below are spread over several processes. */
int cli_backend_distributed(void);

/* Inputs, read once (by rank 0 under MPI) and identical everywhere. */
pact_status cli_load_net(const char *path, const pact_net_opts *opts, pact_net **net,
                         pact_error *err);
pact_status cli_load_dataset(const char *path, pact_split split, size_t max_images,
                             pact_dataset **ds, pact_error *err);
pact_status cli_load_calib(const char *path, pact_calib **calib, pact_error *err);
pact_status cli_load_plan(const char *path, pact_plan **plan, pact_error *err);
/* A cost profile (path NULL: the built-in default). */
pact_status cli_load_profile(const char *path, pact_cost_profile **profile, pact_error *err);
/* The bytes of any file (NUL-terminated; free with free()), at most max_size. */
pact_status cli_read_file(const char *path, size_t max_size, char **data, size_t *size,
                          pact_error *err);

/* Reads a local file whole (what cli_read_file does on rank 0): at most
 * max_size bytes, NUL-terminated; *data freed with free(). PACT_EIO naming
 * the path; PACT_EFORMAT when larger; PACT_ENOMEM. */
pact_status cli_read_local_file(const char *path, size_t max_size, char **data, size_t *size,
                                pact_error *err);

/* Fills *err (when not NULL) with status and a formatted one-line message;
 * returns status (the CLI's pact_fail). */
pact_status cli_fail(pact_error *err, pact_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The heavy steps: pact_calibrate, pact_pann_evaluate, pact_optimize with the
 * same results bit for bit. Under MPI every rank gets the calibration and the
 * report; the plan only rank 0 (elsewhere *plan is NULL with the same status). */
pact_status cli_calibrate(const pact_model *model, const pact_dataset *ds,
                          const pact_calib_opts *opts, pact_calib **calib, pact_error *err);
pact_status cli_evaluate(const pact_model *model, const pact_dataset *ds, const pact_plan *plan,
                         const pact_pann_eval_opts *opts, pact_pann_report *report,
                         pact_error *err);
pact_status cli_optimize(const pact_model *model, const pact_dataset *ds, const pact_calib *calib,
                         const pact_cost_layout *layout, const pact_cost_profile *profile,
                         const pact_optimize_opts *opts, const char *model_name,
                         const char *model_sha256, pact_plan **plan, pact_error *err);

#endif
