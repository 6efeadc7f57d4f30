/* polyact sweep: accuracy vs precision 2^-alpha, uniform composite baseline
 * against polyact's per-layer distribution-weighted fits of equal depth. */
#include "cli_nn.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "usage: polyact sweep --model M --data TEST --calib calib.json [options]\n"
    "\n"
    "For alpha in a range (default 6..14), evaluates on the test images:\n"
    "  composite  Lee et al.'s uniform composite ReLU of precision 2^-alpha, B=auto\n"
    "  lsq        polyact's per-layer fit of the same depth: least squares weighted\n"
    "             by each layer's calibrated histogram, on its calibrated range\n"
    "             (depth d allows degree 2^d - 1, capped at 255)\n"
    "and prints accuracy, agreement with the exact network and inputs outside the\n"
    "polynomials' intervals.\n"
    "\n"
    "  --model M          CIFAR ResNet weights (.safetensors) or a CNN (.onnx)\n"
    "  --data TEST        test images (CIFAR-10 file or directory)\n"
    "  --calib C          calib.json from polyact calibrate on training images\n"
    "  --alphas A..B      range of alpha, within 4..14 (default 6..14)\n"
    "  --fixed F          evaluate in fixed point 2^-F instead of fp64\n"
    "  --images N         first N test images only\n"
    "  --threads T        engine threads (default: all processors)\n"
    "  --input-mean A,B,C override the model's input normalisation mean\n"
    "  --input-std A,B,C  override the model's input normalisation std\n"
    "  --classes K        check that the model has K outputs per image\n"
    "  --json             one JSON object on stdout\n"
    "\n"
    "Exit 0 success, 1 runtime error, 2 usage error.\n";

typedef struct {
    int alpha, depth, degree;
    size_t correct[2], agree[2], nonfinite[2];
    uint64_t outside[2];
} sweep_row;

static int run_one(const char *spec, const pact_model *model, const pact_calib *cal,
                   const pact_net *net, const pact_dataset *ds, const pact_pann_eval_opts *eo,
                   sweep_row *row, int col, size_t *backbone, size_t *images)
{
    pact_error err;
    pact_plan *plan = NULL;
    pact_pann_report r;
    if (pact_plan_uniform(spec, model, cal, pact_net_name(net), pact_net_sha256(net), &plan,
                          &err) != PACT_OK)
        return cli_lib_error("sweep", &err, 0);
    pact_status st = pact_pann_evaluate(model, ds, plan, eo, &r, &err);
    pact_plan_free(plan);
    if (st != PACT_OK)
        return cli_lib_error("sweep", &err, 0);
    row->correct[col] = r.correct;
    row->agree[col] = r.agree;
    row->nonfinite[col] = r.nonfinite_images;
    row->outside[col] = 0;
    for (int i = 0; i < r.n_layers; i++)
        row->outside[col] += r.layers[i].out_of_range;
    *backbone = r.backbone_correct;
    *images = r.images;
    pact_pann_report_free(&r);
    return CLI_OK;
}

int cmd_sweep(int argc, char **argv)
{
    cli_net_flags f = {0};
    const char *calib_s = NULL, *alphas_s = NULL, *fixed_s = NULL;
    int json = 0;
    const cli_option opts[] = {
        {"model", &f.model, NULL},   {"data", &f.data, NULL},       {"split", &f.split, NULL},
        {"images", &f.images, NULL}, {"batch", &f.batch, NULL},     {"threads", &f.threads, NULL},
        {"calib", &calib_s, NULL},   {"alphas", &alphas_s, NULL},   {"fixed", &fixed_s, NULL},
        {"input-mean", &f.input_mean, NULL}, {"input-std", &f.input_std, NULL},
        {"classes", &f.classes, NULL}, {"json", NULL, &json},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse("sweep", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;
    if (!calib_s)
        return cli_error("sweep", CLI_USAGE, "--calib calib.json is required (see --help)");
    int a0 = 6, a1 = 14;
    if (alphas_s && (sscanf(alphas_s, "%d..%d", &a0, &a1) != 2 || a0 < 4 || a1 > 14 || a0 > a1))
        return cli_error("sweep", CLI_USAGE, "--alphas: '%s' is not A..B within 4..14", alphas_s);
    long fixed = 0;
    if (fixed_s && (rc = cli_int("sweep", "fixed", fixed_s, 8, 52, &fixed)) != CLI_OK)
        return rc;
    pact_error err;
    pact_calib *cal = NULL;
    if (pact_calib_load(calib_s, &cal, &err) != PACT_OK)
        return cli_lib_error("sweep", &err, 0);
    pact_net *net;
    pact_dataset *ds;
    size_t max_images, backbone = 0, images = 0;
    int batch, threads;
    rc = cli_load_net_and_data("sweep", &f, PACT_SPLIT_TEST, &net, &ds, &max_images, &batch, &threads);
    if (rc != CLI_OK) {
        pact_calib_free(cal);
        return rc;
    }
    pact_model model;
    pact_net_model(net, &model);
    rc = cli_check_calib("sweep", calib_s, cal, net);
    pact_pann_eval_opts eo;
    pact_pann_eval_opts_default(&eo);
    eo.max_images = max_images;
    eo.batch = batch;
    eo.arith.frac_bits = (int)fixed;
    sweep_row rows[11];
    int nrows = 0;
    for (int alpha = a0; rc == CLI_OK && alpha <= a1; alpha++) {
        sweep_row *row = &rows[nrows++];
        int deg[PACT_COST_MAX_COMPONENTS], k;
        pact_composite_published_degrees(alpha, deg, &k, &err);
        row->alpha = alpha;
        row->depth = 1; /* the product by x */
        for (int i = 0; i < k; i++) {
            pact_bsgs b;
            pact_bsgs_plan(deg[i], &b, &err);
            row->depth += b.depth;
        }
        row->degree = row->depth >= 8 ? PACT_FIT_MAX_DEGREE : (1 << row->depth) - 1;
        char spec[64];
        snprintf(spec, sizeof spec, "composite:alpha=%d,B=auto", alpha);
        rc = run_one(spec, &model, cal, net, ds, &eo, row, 0, &backbone, &images);
        snprintf(spec, sizeof spec, "lsq:degree=%d", row->degree);
        if (rc == CLI_OK)
            rc = run_one(spec, &model, cal, net, ds, &eo, row, 1, &backbone, &images);
        if (rc == CLI_OK && cli_stderr_is_tty())
            fprintf(stderr, "\rpolyact sweep: alpha %d done   ", alpha);
    }
    if (rc == CLI_OK && cli_stderr_is_tty())
        fputc('\n', stderr);
    if (rc == CLI_OK && json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", pact_net_name(net));
        cJSON_AddNumberToObject(o, "images", (double)images);
        cJSON_AddNumberToObject(o, "backbone_correct", (double)backbone);
        cJSON_AddNumberToObject(o, "fixed_frac_bits", (double)fixed);
        cJSON *arr = cJSON_AddArrayToObject(o, "rows");
        for (int i = 0; i < nrows; i++) {
            const char *names[2] = {"composite", "lsq"};
            for (int c = 0; c < 2; c++) {
                cJSON *r = cJSON_CreateObject();
                cJSON_AddNumberToObject(r, "alpha", rows[i].alpha);
                cJSON_AddStringToObject(r, "method", names[c]);
                cJSON_AddNumberToObject(r, "depth", rows[i].depth);
                if (c)
                    cJSON_AddNumberToObject(r, "degree", rows[i].degree);
                cJSON_AddNumberToObject(r, "correct", (double)rows[i].correct[c]);
                cJSON_AddNumberToObject(r, "agree", (double)rows[i].agree[c]);
                cJSON_AddNumberToObject(r, "nonfinite_images", (double)rows[i].nonfinite[c]);
                cJSON_AddNumberToObject(r, "inputs_outside", (double)rows[i].outside[c]);
                cJSON_AddItemToArray(arr, r);
            }
        }
        char *s = cJSON_PrintUnformatted(o);
        if (s)
            puts(s);
        free(s);
        cJSON_Delete(o);
    } else if (rc == CLI_OK) {
        printf("%s on %zu images (%s); backbone %zu correct (%.2f%%)\n", pact_net_name(net), images,
               fixed ? "fixed point" : "fp64", backbone, 100.0 * (double)backbone / (double)images);
        printf("%5s %5s | %-28s | %-36s\n", "alpha", "depth", "composite (B=auto)", "per-layer lsq (degree)");
        for (int i = 0; i < nrows; i++) {
            const sweep_row *r = &rows[i];
            printf("%5d %5d | %6.2f%% agree %6.2f%% out %llu | %6.2f%% agree %6.2f%% out %llu (d=%d)\n",
                   r->alpha, r->depth, 100.0 * (double)r->correct[0] / (double)images,
                   100.0 * (double)r->agree[0] / (double)images, (unsigned long long)r->outside[0],
                   100.0 * (double)r->correct[1] / (double)images,
                   100.0 * (double)r->agree[1] / (double)images, (unsigned long long)r->outside[1],
                   r->degree);
        }
    }
    pact_calib_free(cal);
    pact_dataset_free(ds);
    pact_net_free(net);
    return rc;
}
