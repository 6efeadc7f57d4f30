/* polyact eval / calibrate as a user runs them: exit codes (0 / 1 / 2), one
 * line on stderr for any error, --json fields, and a calibration file that
 * loads and names the model's weights. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], errfile[128], model[4096], data[4096];

/* Runs the CLI with `args`; returns its exit code, *lines = stderr lines. */
static int run(const char *args, char *out, size_t out_size, int *lines)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s'", pact_test_cli(), args, errfile);
    int rc = pact_test_run(cmd, out, out_size);
    FILE *f = fopen(errfile, "rb");
    int c;
    *lines = 0;
    while (f && (c = fgetc(f)) != EOF)
        *lines += c == '\n';
    if (f)
        fclose(f);
    return rc;
}

static int expect(const char *args, int want_rc, int want_lines)
{
    char out[65536];
    int lines;
    int rc = run(args, out, sizeof out, &lines);
    CHECK(rc == want_rc && (want_lines < 0 || lines == want_lines),
          "polyact %s: exit %d with %d stderr lines (expected %d, %d)", args, rc, lines, want_rc,
          want_lines);
    return 1;
}

int main(void)
{
    int n = 0;
    const char *p = pact_test_data("models/resnet20.safetensors");
    if (p)
        snprintf(model, sizeof model, "%s", p);
    const char *d = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    if (d)
        snprintf(data, sizeof data, "%s", d);
    CHECK(p && d, "shared data missing");
    if (!p || !d)
        return pact_test_done("test_cli_nn", 1);
    strcpy(dir, "/tmp/pact_cli_XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", dir);
    char args[16384], out[1 << 16];
    int lines;

    n += expect("eval --help", 0, 0);
    n += expect("calibrate -h", 0, 0);
    n += expect("eval --bogus", 2, 1);
    snprintf(args, sizeof args, "eval --model '%s'", model);
    n += expect(args, 2, 1);
    snprintf(args, sizeof args, "eval --model '%s' --data '%s' --images 0", model, data);
    n += expect(args, 2, 1);
    snprintf(args, sizeof args, "eval --model '%s' --data '%s' --threads 0", model, data);
    n += expect(args, 2, 1);
    snprintf(args, sizeof args, "eval --model '%s' --data '%s' --split val", model, data);
    n += expect(args, 2, 1);
    snprintf(args, sizeof args, "eval --model '%s' --data '%s' --input-std 1,0,1", model, data);
    n += expect(args, 2, 1);
    snprintf(args, sizeof args, "eval --model '%s' --data '%s'", data, data);
    n += expect(args, 1, 1);
    snprintf(args, sizeof args, "eval --model '%s' --data '%s'", model, dir);
    n += expect(args, 1, 1); /* no test_batch.bin in the folder */

    /* --json: one object with the documented fields */
    snprintf(args, sizeof args, "eval --model '%s' --data '%s' --images 40 --json --threads 2",
             model, data);
    int rc = run(args, out, sizeof out, &lines);
    cJSON *j = cJSON_Parse(out);
    const char *keys[] = {"model", "images", "correct", "accuracy", "images_per_second"};
    int has = j != NULL;
    for (int k = 0; k < 5; k++)
        has &= cJSON_GetObjectItemCaseSensitive(j, keys[k]) != NULL;
    CHECK(rc == 0 && lines == 0 && has, "eval --json: exit %d, output '%s'", rc, out);
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(j, "images");
    const cJSON *correct = cJSON_GetObjectItemCaseSensitive(j, "correct");
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(j, "accuracy");
    CHECK(cJSON_IsNumber(images) && images->valueint == 40 && cJSON_IsNumber(correct) &&
              cJSON_IsNumber(acc) && acc->valuedouble == correct->valuedouble / 40.0,
          "eval --json numbers");
    cJSON_Delete(j);
    n += 2;

    /* calibrate: usage errors, an unwritable output, then a file that loads */
    snprintf(args, sizeof args, "calibrate --model '%s' --data '%s'", model, data);
    n += expect(args, 2, 1);
    snprintf(args, sizeof args, "calibrate --model '%s' --data '%s' --bins 0 -o x.json", model,
             data);
    n += expect(args, 2, 1);
    snprintf(args, sizeof args, "calibrate --model '%s' --data '%s' --images 8 -o '%s/no/c.json'",
             model, data, dir);
    n += expect(args, 1, 1);
    snprintf(args, sizeof args, "calibrate --model '%s' --data '%s' --split train", model, dir);
    snprintf(args + strlen(args), sizeof args - strlen(args), " -o '%s/c.json'", dir);
    n += expect(args, 1, 1); /* no data_batch_1.bin */
    char calib[128];
    snprintf(calib, sizeof calib, "%s/calib.json", dir);
    snprintf(args, sizeof args,
             "calibrate --model '%s' --data '%s' --images 70 --bins 256 -o '%s' --json", model,
             data, calib);
    rc = run(args, out, sizeof out, &lines);
    j = cJSON_Parse(out);
    CHECK(rc == 0 && lines == 0 && cJSON_GetObjectItemCaseSensitive(j, "layers"),
          "calibrate: exit %d, output '%s'", rc, out);
    cJSON_Delete(j);
    pact_calib *c = NULL;
    pact_net *net = NULL;
    pact_error err;
    CHECK_OK(pact_calib_load(calib, &c, &err), &err);
    CHECK_OK(pact_net_load(model, NULL, &net, &err), &err);
    CHECK(c && net && pact_calib_layer_count(c) == 19 && pact_calib_images(c) == 70 &&
              pact_calib_bins(c) == 256 && strcmp(pact_calib_model_name(c), "resnet20") == 0 &&
              strcmp(pact_calib_model_sha256(c), pact_net_sha256(net)) == 0 &&
              strcmp(pact_calib_data_name(c), "test_batch_first1017.bin") == 0,
          "calib.json contents");
    pact_calib_free(c);
    pact_net_free(net);
    n += 4;

    remove(calib);
    remove(errfile);
    rmdir(dir);
    return pact_test_done("test_cli_nn", n);
}
