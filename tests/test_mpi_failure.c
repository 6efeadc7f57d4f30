/* A failing rank ends an MPI job cleanly: no output file, a non-zero exit and
 * one line from polyact naming the rank (a library error on rank 1), or, when
 * a rank dies (exits abruptly or is killed by SIGKILL mid-run), polyact's one
 * line that the job was stopped beside mpirun's report naming the rank; a
 * re-run then succeeds with the file one process writes. Failures are
 * injected with POLYACT_MPI_FAIL=RANK:ITEMS:MODE (tools/mpi/mpi_items.c). */
#include "mpi_cli.h"

int main(void)
{
    int n = 0;
    if (!so_setup("mpi_failure") || !mpi_setup())
        return pact_test_done("test_mpi_failure", 0);
    const char *cli = pact_test_cli();
    const char *args = "--images 64 --impact-images 16 --batch 16 --degrees 2,5 --floors 0.2 --threads 1 --max-drop 100";
    int rc = so_run("POLYACT_NO_MPI=1 '%s' optimize --model '%s' --data '%s' %s -o serial.json", cli,
                    so_model, so_train, args);
    CHECK(rc == 0, "serial optimize: exit %d: %s", rc, so_err);
    n++;

    /* a library error on rank 1 after 3 items: exactly one line from polyact */
    rc = so_run("POLYACT_MPI_FAIL=1:3:error %s optimize --model '%s' --data '%s' %s -o plan.json",
                mpi_prefix(2), so_model, so_train, args);
    int ours = 0;
    for (const char *c = so_err; (c = strstr(c, "polyact optimize:")) != NULL; c++)
        ours++;
    CHECK(rc == 1 && ours == 1 && strstr(so_err, "polyact optimize: rank 1: injected failure"),
          "error on rank 1: exit %d, %d polyact lines, stderr:\n%s", rc, ours, so_err);
    CHECK(!so_exists("plan.json"), "error on rank 1: plan.json written");
    n += 2;

    /* rank 1 dies: abruptly (exit) or killed (SIGKILL) */
    static const char *const modes[] = {"exit", "kill"};
    for (int m = 0; m < 2; m++) {
        rc = so_run("POLYACT_MPI_FAIL=1:3:%s %s optimize --model '%s' --data '%s' %s -o plan.json",
                    modes[m], mpi_prefix(2), so_model, so_train, args);
        CHECK(rc != 0 && strstr(so_err, "polyact optimize: stopped by the MPI launcher") &&
                  (strstr(so_err, "rank 1") || strstr(so_err, ",1]")),
              "rank 1 %s: exit %d, stderr:\n%s", modes[m], rc, so_err);
        CHECK(!so_exists("plan.json"), "rank 1 %s: plan.json written", modes[m]);
        n += 2;
    }
    /* rank 0's own worker fails during calibration (3 processes) */
    rc = so_run("POLYACT_MPI_FAIL=0:0:error %s calibrate --model '%s' --data '%s' --images 128 "
                "--chunk 16 --threads 1 -o calib.json", mpi_prefix(3), so_model, so_train);
    CHECK(rc == 1 && strstr(so_err, "polyact calibrate: rank 0: injected failure") &&
              !so_exists("calib.json"),
          "error on rank 0 in calibrate: exit %d, stderr:\n%s", rc, so_err);
    n++;

    /* the re-run succeeds and writes what one process writes */
    rc = so_run("%s optimize --model '%s' --data '%s' %s -o plan.json", mpi_prefix(2), so_model,
                so_train, args);
    CHECK(rc == 0 && so_same_file("plan.json", "serial.json"), "re-run: exit %d, stderr: %s", rc, so_err);
    n++;
    so_cleanup();
    return pact_test_done("test_mpi_failure", n);
}
