/* Helpers of the MPI tests: `mpirun -n K polyact ...` as a user types it (the
 * serial polyact hands the job over to polyact-mpi), allowed as root and
 * oversubscribed, since CI runs as root on 2 cores. */
#ifndef PACT_MPI_CLI_H
#define PACT_MPI_CLI_H

#include "scaleout_cli.h"

/* The launcher (POLYACT_MPIRUN, set by ctest from CMake's MPIEXEC). */
static inline const char *mpi_launcher(void)
{
    const char *m = getenv("POLYACT_MPIRUN");
    return m && *m ? m : "mpirun";
}

/* Allows mpirun as root (CI) and checks that it runs at all. */
static inline int mpi_setup(void)
{
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    unsetenv("POLYACT_PROGRESS");
    unsetenv("POLYACT_MPI_FAIL");
    int rc = so_run("'%s' --version", mpi_launcher());
    CHECK(rc == 0, "'%s --version' exit %d: %s (install openmpi-bin)", mpi_launcher(), rc, so_err);
    return rc == 0;
}

/* The command prefix for K processes. */
static inline const char *mpi_prefix(int k)
{
    static char buf[4][4600];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "'%s' --oversubscribe -n %d '%s'", mpi_launcher(), k,
             pact_test_cli());
    return buf[i];
}

#endif
