/* The serial backend of the CLI: everything in this process. A job started by
 * mpirun (or srun with PMI) is handed over to polyact-mpi beside this program,
 * so that `mpirun -n K polyact calibrate ...` spreads the work as documented,
 * while `polyact` itself never links MPI. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cli_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Processes in the job when started by an MPI launcher, else 0. */
static long mpi_job_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strtol(v, NULL, 10);
    }
    return getenv("PMIX_RANK") ? 1 : 0;
}

/* This process's rank in the MPI job (0 when unknown). */
static long mpi_job_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strtol(v, NULL, 10);
    }
    return 0;
}

static int is_mpi_command(const char *cmd)
{
    return strcmp(cmd, "calibrate") == 0 || strcmp(cmd, "eval") == 0 ||
           strcmp(cmd, "optimize") == 0;
}

int cli_backend_init(int *argc, char ***argv)
{
    long size = mpi_job_size();
    const char *no_mpi = getenv("POLYACT_NO_MPI");
    if (size < 1 || (no_mpi && *no_mpi && strcmp(no_mpi, "0") != 0) || *argc < 2)
        return -1;
    for (int i = 2; i < *argc; i++) /* a job-array shard is one process by design */
        if (strncmp((*argv)[i], "--shard", 7) == 0)
            return -1;
    const char *cmd = (*argv)[1];
    if (!is_mpi_command(cmd)) {
        if (size == 1)
            return -1;
        if (mpi_job_rank() == 0) /* one line for the job, not one per process */
            fprintf(stderr, "polyact %s: runs on one process; start it without mpirun "
                        "(calibrate, eval and optimize spread over MPI processes)\n", cmd);
        return CLI_USAGE;
    }
    /* polyact-mpi beside this executable */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            strcpy(slash + 1, "polyact-mpi");
            if (access(self, X_OK) == 0) {
                (*argv)[0] = self;
                execv(self, *argv);
                fprintf(stderr, "polyact %s: cannot start %s: %s\n", cmd, self, strerror(errno));
                return CLI_RUNTIME;
            }
        }
    }
    if (size == 1)
        return -1;
    if (mpi_job_rank() == 0)
        fprintf(stderr, "polyact %s: started by mpirun with %ld processes, but this polyact was "
                    "built without MPI (no polyact-mpi beside it): each would do the whole job\n",
            cmd, size);
    return CLI_RUNTIME;
}

int cli_backend_finish(int rc) { return rc; }
int cli_backend_root(void) { return 1; }
int cli_backend_distributed(void) { return 0; }

int cli_backend_default_threads(void)
{
    long t = sysconf(_SC_NPROCESSORS_ONLN);
    return t < 1 ? 1 : t > PACT_NET_MAX_THREADS ? PACT_NET_MAX_THREADS : (int)t;
}

pact_status cli_load_net(const char *path, const pact_net_opts *opts, pact_net **net,
                         pact_error *err)
{
    return pact_net_load(path, opts, net, err);
}

pact_status cli_load_dataset(const char *path, pact_split split, size_t max_images,
                             pact_dataset **ds, pact_error *err)
{
    return pact_cifar_load(path, split, max_images, ds, err);
}

pact_status cli_load_calib(const char *path, pact_calib **calib, pact_error *err)
{
    return pact_calib_load(path, calib, err);
}

pact_status cli_load_plan(const char *path, pact_plan **plan, pact_error *err)
{
    return pact_plan_load(path, plan, err);
}

pact_status cli_load_profile(const char *path, pact_cost_profile **profile, pact_error *err)
{
    return path ? pact_cost_profile_load(path, profile, err) : pact_cost_profile_default(profile, err);
}

pact_status cli_read_file(const char *path, size_t max_size, char **data, size_t *size,
                          pact_error *err)
{
    return cli_read_local_file(path, max_size, data, size, err);
}

pact_status cli_calibrate(const pact_model *model, const pact_dataset *ds,
                          const pact_calib_opts *opts, pact_calib **calib, pact_error *err)
{
    return pact_calibrate(model, ds, opts, calib, err);
}

pact_status cli_evaluate(const pact_model *model, const pact_dataset *ds, const pact_plan *plan,
                         const pact_pann_eval_opts *opts, pact_pann_report *report,
                         pact_error *err)
{
    return pact_pann_evaluate(model, ds, plan, opts, report, err);
}

pact_status cli_optimize(const pact_model *model, const pact_dataset *ds, const pact_calib *calib,
                         const pact_cost_layout *layout, const pact_cost_profile *profile,
                         const pact_optimize_opts *opts, const char *model_name,
                         const char *model_sha256, pact_plan **plan, pact_error *err)
{
    return pact_optimize(model, ds, calib, layout, profile, opts, model_name, model_sha256, plan,
                         err);
}
