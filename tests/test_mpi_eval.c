/* `mpirun -n K polyact eval` for K = 1..4 prints the numbers of one
 * process's `polyact eval` (every --json field but the timing ones): a PANN
 * (uniform lsq degree 7) on 64 shared test images in chunks of 16, in fixed
 * point with noise, whose noise streams follow the chunks, not the
 * processes. And the backbone alone on all 1,017 shared test images with 3
 * processes gets PyTorch's count (tests/accuracy/thresholds.json, an
 * independent reference). */
#include "mpi_cli.h"

int main(void)
{
    int n = 0;
    if (!so_setup("mpi_eval") || !mpi_setup())
        return pact_test_done("test_mpi_eval", 0);
    int rc = so_run("POLYACT_NO_MPI=1 '%s' calibrate --model '%s' --data '%s' --images 128 --threads 1 "
                    "-o calib.json", pact_test_cli(), so_model, so_train);
    CHECK(rc == 0, "calibrate: exit %d: %s", rc, so_err);
    const char *args = "--images 64 --batch 16 --threads 1 --uniform lsq:degree=7 --calib calib.json "
                       "--fixed 30 --noise 1e-4 --seed 3 --json";
    rc = so_run("POLYACT_NO_MPI=1 '%s' eval --model '%s' --data '%s' %s", pact_test_cli(), so_model,
                so_test, args);
    CHECK(rc == 0, "serial eval: exit %d: %s", rc, so_err);
    n += 2;
    char serial[1 << 16];
    snprintf(serial, sizeof serial, "%s", so_out);
    for (int k = 1; k <= 4; k++) {
        rc = so_run("%s eval --model '%s' --data '%s' %s", mpi_prefix(k), so_model, so_test, args);
        CHECK(rc == 0, "%d processes: exit %d: %s", k, rc, so_err);
        const char *diff = so_eval_diff(serial, so_out);
        CHECK(!diff, "%d processes: '%s' differs from one process's:\n%s\n%s", k, diff, serial, so_out);
        n += 2;
    }

    /* the backbone on all shared test images: PyTorch's count */
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/accuracy/thresholds.json",
             getenv("POLYACT_SOURCE") ? getenv("POLYACT_SOURCE") : ".");
    char text[8192] = "";
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[got] = '\0';
    if (f)
        fclose(f);
    cJSON *th = cJSON_Parse(text);
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(th, "resnet20"), "backbone_correct");
    CHECK(cJSON_IsNumber(want), "%s: resnet20.backbone_correct missing", path);
    rc = so_run("%s eval --model '%s' --data '%s' --threads 1 --json", mpi_prefix(3), so_model, so_test);
    CHECK(rc == 0, "3 processes, backbone: exit %d: %s", rc, so_err);
    double correct = so_json_number(so_out, "correct"), images = so_json_number(so_out, "images");
    CHECK(images == 1017 && cJSON_IsNumber(want) && correct == want->valuedouble,
          "backbone on 3 processes: %g/%g correct, PyTorch %g/1017", correct, images,
          cJSON_IsNumber(want) ? want->valuedouble : -1.0);
    n += 3;
    cJSON_Delete(th);
    so_cleanup();
    return pact_test_done("test_mpi_eval", n);
}
