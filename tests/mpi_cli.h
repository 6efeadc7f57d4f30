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

/* The command prefix for K processes. In sanitizer builds (POLYACT_LSAN_SUPP
 * set by CMake) the ranks keep leak checking, with Open MPI's own
 * allocations suppressed (tests/lsan-openmpi.supp) and full stacks so that
 * the suppressions cannot hide a leak of polyact's. */
static inline const char *mpi_prefix(int k)
{
    static char buf[4][12000];
    static int i;
    i = (i + 1) % 4;
    const char *supp = getenv("POLYACT_LSAN_SUPP");
    char env[4600] = "";
    if (supp && *supp)
        snprintf(env, sizeof env,
                 "OMPI_MCA_mca_base_component_disable_dlclose=1 "
                 "LSAN_OPTIONS=suppressions='%s':print_suppressions=0 "
                 "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0 ",
                 supp);
    snprintf(buf[i], sizeof buf[i], "%s'%s' --oversubscribe -n %d '%s'", env, mpi_launcher(), k,
             pact_test_cli());
    return buf[i];
}

#endif
