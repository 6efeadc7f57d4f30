/* polyact fit: JSON output checked against closed forms (best quadratic ReLU
 * x^2/2 + x/2 + 1/16 with error 1/16), the interpolation property, the
 * composite degrees and depth; exit codes and one-line errors. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char out[1 << 20];

/* runs `polyact fit ARGS`, stdout into out; returns the exit code */
static int fit(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' fit %s 2>/dev/null", pact_test_cli(), args);
    return pact_test_run(cmd, out, sizeof out);
}

/* runs it for stderr only: returns the exit code, *lines the line count */
static int fit_err(const char *args, int *lines)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' fit %s 2>&1 >/dev/null", pact_test_cli(), args);
    int rc = pact_test_run(cmd, out, sizeof out);
    *lines = 0;
    for (char *p = out; *p; p++)
        *lines += *p == '\n';
    return rc;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int main(void)
{
    int n = 0;
    CHECK(fit("--help") == 0 && strstr(out, "usage: polyact fit"), "--help"); n++;

    CHECK(fit("--func relu --range -1,1 --degree 2 --json") == 0, "relu d2 json"); n++;
    cJSON *j = cJSON_Parse(out);
    CHECK(j != NULL, "JSON parses: %.200s", out); n++;
    if (j) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "func");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "method");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "range");
        const cJSON *mono = cJSON_GetObjectItemCaseSensitive(j, "monomial_coeffs");
        const cJSON *cheb = cJSON_GetObjectItemCaseSensitive(j, "cheb_coeffs");
        CHECK(cJSON_IsString(f) && strcmp(f->valuestring, "relu") == 0 && cJSON_IsString(m) &&
                  strcmp(m->valuestring, "minimax") == 0, "func/method"); n++;
        CHECK(cJSON_GetArraySize(r) == 2 && cJSON_GetArrayItem(r, 0)->valuedouble == -1.0 &&
                  cJSON_GetArrayItem(r, 1)->valuedouble == 1.0, "range"); n++;
        CHECK(num(j, "degree") == 2 && num(j, "depth") == 2, "degree %g depth %g",
              num(j, "degree"), num(j, "depth")); n++;
        CHECK(fabs(num(j, "max_error") - 0.0625) < 1e-12, "max_error %.17g, closed form 1/16",
              num(j, "max_error")); n++;
        CHECK(cJSON_GetArraySize(mono) == 3 && cJSON_GetArraySize(cheb) == 3 &&
                  fabs(cJSON_GetArrayItem(mono, 0)->valuedouble - 0.0625) < 1e-12 &&
                  fabs(cJSON_GetArrayItem(mono, 1)->valuedouble - 0.5) < 1e-12 &&
                  fabs(cJSON_GetArrayItem(mono, 2)->valuedouble - 0.5) < 1e-12,
              "monomial_coeffs = [1/16, 1/2, 1/2]"); n++;
        CHECK(num(j, "nonscalar_mults") >= 1, "mults"); n++;
        cJSON_Delete(j);
    }

    /* cheb: the printed coefficients interpolate gelu at the nodes of [-3, 5] */
    CHECK(fit("--func gelu --range -3,5 --degree 9 --method cheb --json") == 0, "cheb"); n++;
    j = cJSON_Parse(out);
    if (j) {
        const cJSON *cheb = cJSON_GetObjectItemCaseSensitive(j, "cheb_coeffs");
        double worst = 0.0;
        for (int k = 0; k <= 9; k++) {
            double t = 3.14159265358979323846 * (k + 0.5) / 10, y = cos(t), s = 0.0;
            for (int i = 0; i <= 9; i++)
                s += cJSON_GetArrayItem(cheb, i)->valuedouble * cos(i * t);
            worst = fmax(worst, fabs(s - pact_func_eval(PACT_GELU, 1.0 + 4.0 * y)));
        }
        CHECK(worst < 1e-13, "cheb coefficients interpolate at the nodes: %.3g", worst); n++;
        cJSON_Delete(j);
    } else {
        CHECK(0, "cheb JSON: %.200s", out); n++;
    }

    /* lsq with a samples file: a quadratic target is reproduced exactly */
    char wpath[] = "/tmp/polyact_test_weightsXXXXXX";
    int fd = mkstemp(wpath);
    FILE *wf = fd >= 0 ? fdopen(fd, "w") : NULL;
    CHECK(wf != NULL, "temp file"); n++;
    if (wf) {
        fprintf(wf, "# x w\n");
        for (int i = 0; i < 50; i++)
            fprintf(wf, "%.17g %.17g\n", -2.0 + 4.0 * i / 49, 1.0 + (i % 3));
        fclose(wf);
        char args[512];
        snprintf(args, sizeof args, "--func relu --range 0.5,2 --degree 3 --method lsq --weights %s --floor 0 --json", wpath);
        CHECK(fit(args) == 0, "lsq with weights"); n++;
        j = cJSON_Parse(out);
        CHECK(j && num(j, "max_error") < 1e-13 && num(j, "samples") == 50,
              "lsq of a linear piece: %.200s", out); n++;
        cJSON_Delete(j);
        FILE *bad = fopen(wpath, "w");
        if (bad) {
            fprintf(bad, "0.5 1\n1.0 abc\n");
            fclose(bad);
        }
        int lines;
        snprintf(args, sizeof args, "--func relu --range -1,1 --degree 3 --method lsq --weights %s", wpath);
        CHECK(fit_err(args, &lines) == 1 && lines == 1 && strstr(out, ":2:"),
              "malformed weights file: exit 1, one line naming line 2: %s", out); n++;
        remove(wpath);
    }

    /* composite alpha 13: the published {15,15,27}, depth 14, error <= 2^-13 */
    CHECK(fit("--method composite --alpha 13 --json") == 0, "composite"); n++;
    j = cJSON_Parse(out);
    if (j) {
        const cJSON *comps = cJSON_GetObjectItemCaseSensitive(j, "components");
        int ok = cJSON_GetArraySize(comps) == 3;
        const int want[3] = {15, 15, 27};
        for (int i = 0; ok && i < 3; i++) {
            const cJSON *c = cJSON_GetArrayItem(comps, i);
            ok = num(c, "degree") == want[i] &&
                 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "cheb_coeffs")) == want[i] + 1;
        }
        CHECK(ok && num(j, "alpha") == 13 && num(j, "depth") == 14 &&
                  num(j, "max_error") <= exp2(-13),
              "composite JSON: depth %g max_error %g", num(j, "depth"), num(j, "max_error")); n++;
        cJSON_Delete(j);
    } else {
        CHECK(0, "composite JSON: %.200s", out); n++;
    }

    /* usage errors: exit 2, exactly one line on stderr */
    const char *usage_errors[] = {
        "--func relu --range 1,1 --degree 3",
        "--func relu --range 2,1 --degree 3",
        "--func relu --range -1,1 --degree 0",
        "--func relu --range -1,1 --degree 256",
        "--func softmax --range -1,1 --degree 3",
        "--func relu --range -1,1 --degree 3 --method spline",
        "--func relu --range -1,nan --degree 3",
        "--method composite",
        "--method composite --alpha 20",
        "--method composite --alpha 8 --range -1,2",
        "--range -1,1 --degree 3",
        "--func relu --range -1,1 --degree 3 --bogus",
        "--func relu --range -1,1 --degree 3 --weights calib.json:layer1.0.relu1",
        "--func sign --range -1,1 --degree 5",
        "--func relu --range -1,1 --degree 3 --method lsq --floor 2",
    };
    for (size_t i = 0; i < sizeof usage_errors / sizeof usage_errors[0]; i++) {
        int lines, rc = fit_err(usage_errors[i], &lines);
        CHECK(rc == 2 && lines == 1, "'%s': exit %d, %d stderr lines: %s", usage_errors[i], rc,
              lines, out); n++;
    }
    int lines;
    CHECK(fit_err("--func relu --range -1,1 --degree 3 --method lsq --weights /nonexistent/w.txt",
                  &lines) == 1 && lines == 1, "missing weights file: exit 1, one line: %s", out); n++;
    /* --weights calib.json:LAYER: a layer's calibrated histogram as the weight */
    const char *model = pact_test_data("models/resnet20.safetensors");
    char mcopy[4096] = "";
    if (model)
        snprintf(mcopy, sizeof mcopy, "%s", model);
    const char *train = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    CHECK(model && train, "shared model or training images missing"); n++;
    if (model && train) {
        char dir[] = "/tmp/pact_fit_calib_XXXXXX", calib[64], cmd[12000], args[9000];
        if (!mkdtemp(dir))
            return pact_test_done("test_fit_cli", 0);
        snprintf(calib, sizeof calib, "%s/calib.json", dir);
        snprintf(cmd, sizeof cmd, "'%s' calibrate --model '%s' --data '%s' --images 16 -o %s >/dev/null",
                 pact_test_cli(), mcopy, train, calib);
        CHECK(pact_test_run(cmd, NULL, 0) == 0, "calibrate for --weights failed"); n++;
        snprintf(args, sizeof args,
                 "--func relu --range -6,8 --degree 7 --method lsq --weights %s:layer2.1.relu1 --json",
                 calib);
        int rc = fit(args);
        CHECK(rc == 0 && strstr(out, "\"max_error\"") != NULL, "fit with calib weights: exit %d: %s",
              rc, out); n++;
        snprintf(args, sizeof args, "--func relu --range -6,8 --degree 7 --method lsq --weights %s:nope",
                 calib);
        CHECK(fit_err(args, &lines) == 2 && lines == 1 && strstr(out, "nope"),
              "unknown calib layer: exit 2, one line naming it: %s", out); n++;
        unlink(calib);
        rmdir(dir);
    }
    return pact_test_done("test_fit_cli", n);
}
