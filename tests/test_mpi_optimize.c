/* `mpirun -n K polyact optimize` for K = 1..4 writes plan.json byte-identical
 * to one process's `polyact optimize` (impact items spread with layer
 * affinity, the closed loop's evaluations spread by chunks), with and without
 * --calib (without it, the calibration runs over the processes too); and
 * `mpirun -n 2 polyact optimize --impacts` from shard files merged by
 * `polyact merge` writes the same plan. ResNet-20, shared training images,
 * small settings (the point is identity, not the plan's quality). Under the
 * sanitizers (slow: full stacks for every allocation) K = 2 and 3 only. */
#include "mpi_cli.h"

int main(void)
{
    int n = 0;
    if (!so_setup("mpi_optimize") || !mpi_setup())
        return pact_test_done("test_mpi_optimize", 0);
    const char *cli = pact_test_cli();
    int rc = so_run("POLYACT_NO_MPI=1 '%s' calibrate --model '%s' --data '%s' --images 96 --chunk 32 "
                    "--threads 1 -o calib.json", cli, so_model, so_train);
    CHECK(rc == 0, "calibrate: exit %d: %s", rc, so_err);
    const char *args = "--images 96 --impact-images 32 --batch 32 --degrees 2,3,7 --floors 0.02,0.2 --max-drop 5 "
                       "--threads 1";
    rc = so_run("POLYACT_NO_MPI=1 '%s' optimize --model '%s' --data '%s' %s --calib calib.json "
                "-o serial.json", cli, so_model, so_train, args);
    CHECK(rc == 0, "serial optimize: exit %d: %s", rc, so_err);
    n += 2;
    if (!getenv("POLYACT_LSAN_SUPP")) {
        rc = so_run("POLYACT_NO_MPI=1 '%s' optimize --model '%s' --data '%s' %s -o serial_nocalib.json",
                    cli, so_model, so_train, args);
        CHECK(rc == 0, "serial optimize without --calib: exit %d: %s", rc, so_err);
        n++;
    }
    int sanitized = getenv("POLYACT_LSAN_SUPP") != NULL;
    for (int k = sanitized ? 2 : 1; k <= (sanitized ? 3 : 4); k++) {
        char out[32];
        snprintf(out, sizeof out, "plan%d.json", k);
        rc = so_run("%s optimize --model '%s' --data '%s' %s --calib calib.json -o %s", mpi_prefix(k),
                    so_model, so_train, args, out);
        CHECK(rc == 0, "%d processes: exit %d: %s", k, rc, so_err);
        CHECK(so_same_file(out, "serial.json"), "%d processes: %s differs from one process's", k, out);
        n += 2;
    }
    if (!sanitized) {
        rc = so_run("%s optimize --model '%s' --data '%s' %s -o nocalib3.json", mpi_prefix(3),
                    so_model, so_train, args);
        CHECK(rc == 0, "3 processes without --calib: exit %d: %s", rc, so_err);
        CHECK(so_same_file("nocalib3.json", "serial_nocalib.json"),
              "3 processes without --calib: plan differs from one process's");
        n += 2;
    }

    /* per-channel candidates, the closed loop verifying refitted plans: every
     * rank refits the proposed plan itself, the same bits */
    const char *pc = "--images 64 --impact-images 16 --batch 16 --degrees 3,5 --floors 0.03 "
                     "--max-drop 100 --threads 1 --per-channel --refit";
    rc = so_run("POLYACT_NO_MPI=1 '%s' optimize --model '%s' --data '%s' %s --calib calib.json "
                "-o pc_serial.json", cli, so_model, so_train, pc);
    CHECK(rc == 0, "serial per-channel optimize: exit %d: %s", rc, so_err);
    rc = so_run("%s optimize --model '%s' --data '%s' %s --calib calib.json -o pc2.json",
                mpi_prefix(2), so_model, so_train, pc);
    CHECK(rc == 0, "2 processes, per-channel: exit %d: %s", rc, so_err);
    CHECK(so_same_file("pc2.json", "pc_serial.json"),
          "2 processes, per-channel with refit: plan differs from one process's");
    n += 3;

    /* shards (no MPI) merged, then the closed loop on 2 processes */
    for (int i = 0; i < 3; i++) {
        rc = so_run("'%s' optimize --model '%s' --data '%s' %s --calib calib.json --shard %d/3 "
                    "-o imp%d.json", cli, so_model, so_train, args, i, i);
        CHECK(rc == 0, "shard %d/3: exit %d: %s", i, rc, so_err);
        n++;
    }
    rc = so_run("'%s' merge -o impacts.json imp0.json imp1.json imp2.json", cli);
    CHECK(rc == 0, "merge: exit %d: %s", rc, so_err);
    rc = so_run("%s optimize --model '%s' --data '%s' %s --calib calib.json --impacts impacts.json "
                "-o from_shards.json", mpi_prefix(2), so_model, so_train, args);
    CHECK(rc == 0, "2 processes with --impacts: exit %d: %s", rc, so_err);
    CHECK(so_same_file("from_shards.json", "serial.json"), "plan from shards + 2 processes differs");
    n += 3;
    so_cleanup();
    return pact_test_done("test_mpi_optimize", n);
}
