/* `mpirun -n K polyact calibrate` for K = 1..4 (oversubscribed on 2 cores)
 * writes calib.json byte-identical to one process's `polyact calibrate`
 * (ResNet-20, 256 shared training images, 4 chunks: K = 3 splits them
 * unevenly); its checks of the statistics themselves (vs direct computation
 * and PyTorch) are test_calibrate's. */
#include "mpi_cli.h"

int main(void)
{
    int n = 0;
    if (!so_setup("mpi_calibrate") || !mpi_setup())
        return pact_test_done("test_mpi_calibrate", 0);
    const char *args = "--images 256 --threads 1";
    int rc = so_run("POLYACT_NO_MPI=1 '%s' calibrate --model '%s' --data '%s' %s -o serial.json",
                    pact_test_cli(), so_model, so_train, args);
    CHECK(rc == 0, "serial calibrate: exit %d: %s", rc, so_err);
    n++;
    for (int k = 1; k <= 4; k++) {
        char out[32];
        snprintf(out, sizeof out, "calib%d.json", k);
        rc = so_run("%s calibrate --model '%s' --data '%s' %s -o %s", mpi_prefix(k), so_model,
                    so_train, args, out);
        CHECK(rc == 0, "%d processes: exit %d: %s", k, rc, so_err);
        CHECK(so_same_file(out, "serial.json"), "%d processes: %s differs from one process's", k, out);
        n += 2;
    }
    so_cleanup();
    return pact_test_done("test_mpi_calibrate", n);
}
