/* polyact eval: accuracy of the network, or of its polynomial version (PANN)
 * against it, on CIFAR-10. */
#include "cli_nn.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: polyact eval --model M.safetensors|M.onnx --data FILE|DIR [--plan P | --uniform SPEC] [options]\n"
    "\n"
    "Top-1 accuracy of the network on CIFAR-10 images. With --plan or --uniform,\n"
    "every activation is replaced by a polynomial (a PANN) and the PANN is\n"
    "compared with the exact network: accuracy, agreement, logit differences, and\n"
    "per layer the inputs that fell outside the polynomial's interval.\n"
    "\n"
    "  --model M          CIFAR ResNet weights (.safetensors) or a CNN (.onnx)\n"
    "  --data FILE|DIR    CIFAR-10 binary file, or a directory of the official batches\n"
    "  --split test|train batches to read from a directory (default test)\n"
    "  --plan P           plan.json (from polyact optimize, or written by the library)\n"
    "  --uniform SPEC     the same approximation everywhere, e.g.\n"
    "                       composite:alpha=13,B=40   minimax:degree=15,B=auto\n"
    "                       cheb:degree=31,B=layer    lsq:degree=7   aespa   autorep\n"
    "                     (B=auto / B=layer and lsq/aespa/autorep need --calib)\n"
    "  --calib C          calib.json of this model (polyact calibrate on training images)\n"
    "  --fixed F          HE-precision simulation: values on the grid 2^-F (8..52)\n"
    "  --noise SIGMA      Gaussian noise of std SIGMA added to every rounded value\n"
    "  --seed S           noise seed (default 1)\n"
    "  --images N         evaluate the first N images only\n"
    "  --batch B          images per forward pass (default 64)\n"
    "  --threads T        engine threads (default: all processors)\n"
    "  --input-mean A,B,C override the model's input normalisation mean\n"
    "  --input-std A,B,C  override the model's input normalisation std\n"
    "  --act F            use activation F in every ReLU layer, e.g. gelu, silu\n"
    "                     (default relu: the model's own activations)\n"
    "  --classes K        check that the model has K outputs per image\n"
    "  --json             one JSON object on stdout\n"
    "\n"
    "Exit 0 success, 1 runtime error, 2 usage error.\n";

static cJSON *report_json(const pact_net *net, const char *data, const pact_pann_report *r,
                          const char *what, int frac_bits, double noise)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", pact_net_name(net));
    cJSON_AddStringToObject(o, "model_sha256", pact_net_sha256(net));
    cJSON_AddStringToObject(o, "data", data);
    cJSON_AddNumberToObject(o, "images", (double)r->images);
    cJSON_AddNumberToObject(o, "correct", (double)r->correct);
    cJSON_AddNumberToObject(o, "accuracy", (double)r->correct / (double)r->images);
    cJSON_AddNumberToObject(o, "images_per_second", (double)r->images / r->seconds);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    cJSON_AddNumberToObject(o, "backbone_correct", (double)r->backbone_correct);
    if (!what)
        return o;
    cJSON_AddStringToObject(o, "pann", what);
    cJSON_AddNumberToObject(o, "fixed_frac_bits", frac_bits);
    cJSON_AddNumberToObject(o, "noise_sigma", noise);
    cJSON_AddNumberToObject(o, "agree", (double)r->agree);
    cJSON_AddNumberToObject(o, "agreement", (double)r->agree / (double)r->images);
    cJSON_AddNumberToObject(o, "max_logit_diff", r->max_logit_diff);
    cJSON_AddNumberToObject(o, "mean_logit_diff", r->mean_logit_diff);
    cJSON_AddNumberToObject(o, "nonfinite_images", (double)r->nonfinite_images);
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    for (int i = 0; i < r->n_layers; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "name", pact_net_act_name(net, i));
        cJSON_AddNumberToObject(l, "inputs", (double)r->layers[i].inputs);
        cJSON_AddNumberToObject(l, "out_of_range", (double)r->layers[i].out_of_range);
        cJSON_AddNumberToObject(l, "worst_excursion", r->layers[i].worst_excursion);
        cJSON_AddNumberToObject(l, "min_input", r->layers[i].min_input);
        cJSON_AddNumberToObject(l, "max_input", r->layers[i].max_input);
        cJSON_AddItemToArray(layers, l);
    }
    return o;
}

static void report_text(const pact_net *net, const char *data, const pact_pann_report *r,
                        const char *what, int frac_bits)
{
    double n = (double)r->images;
    if (!what) {
        printf("%s: top-1 %.2f%% (%zu/%zu) on %s, %.0f images/s\n", pact_net_name(net),
               100.0 * (double)r->correct / n, r->correct, r->images, data, n / r->seconds);
        return;
    }
    printf("%s PANN (%s%s): top-1 %.2f%% (%zu/%zu); backbone %.2f%% (%zu/%zu); "
           "agreement %.2f%% (%zu/%zu)\n",
           pact_net_name(net), what, frac_bits ? ", fixed point" : ", fp64",
           100.0 * (double)r->correct / n, r->correct, r->images,
           100.0 * (double)r->backbone_correct / n, r->backbone_correct, r->images,
           100.0 * (double)r->agree / n, r->agree, r->images);
    if (frac_bits)
        printf("fixed point: values on the grid 2^-%d\n", frac_bits);
    printf("logits: max |PANN - backbone| %.4g, mean %.4g; non-finite images %zu; %.1f s\n",
           r->max_logit_diff, r->mean_logit_diff, r->nonfinite_images, r->seconds);
    uint64_t outside = 0;
    for (int i = 0; i < r->n_layers; i++)
        outside += r->layers[i].out_of_range;
    printf("inputs outside the polynomial's interval: %llu", (unsigned long long)outside);
    if (!outside) {
        printf("\n");
        return;
    }
    printf(" (where polynomials explode)\n%-16s %12s %12s\n", "layer", "outside", "worst");
    for (int i = 0; i < r->n_layers; i++)
        if (r->layers[i].out_of_range)
            printf("%-16s %12llu %12.4g\n", pact_net_act_name(net, i),
                   (unsigned long long)r->layers[i].out_of_range, r->layers[i].worst_excursion);
}

int cmd_eval(int argc, char **argv)
{
    cli_net_flags f = {0};
    const char *plan_s = NULL, *uniform = NULL, *calib_s = NULL, *fixed_s = NULL, *noise_s = NULL,
               *seed_s = NULL;
    int json = 0;
    const cli_option opts[] = {
        {"model", &f.model, NULL},           {"data", &f.data, NULL},
        {"split", &f.split, NULL},           {"images", &f.images, NULL},
        {"batch", &f.batch, NULL},           {"threads", &f.threads, NULL},
        {"input-mean", &f.input_mean, NULL}, {"input-std", &f.input_std, NULL},
        {"classes", &f.classes, NULL},
        {"act", &f.act, NULL},               {"plan", &plan_s, NULL},
        {"uniform", &uniform, NULL},         {"calib", &calib_s, NULL},
        {"fixed", &fixed_s, NULL},           {"noise", &noise_s, NULL},
        {"seed", &seed_s, NULL},             {"json", NULL, &json},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse("eval", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;
    if (plan_s && uniform)
        return cli_error("eval", CLI_USAGE, "give --plan or --uniform, not both");
    long fixed = 0, seed = 1;
    double noise = 0.0;
    if (fixed_s && (rc = cli_int("eval", "fixed", fixed_s, 8, 52, &fixed)) != CLI_OK)
        return rc;
    if (seed_s && (rc = cli_int("eval", "seed", seed_s, 0, 2147483647L, &seed)) != CLI_OK)
        return rc;
    if (noise_s && ((rc = cli_double("eval", "noise", noise_s, &noise)) != CLI_OK || noise < 0))
        return rc ? rc : cli_error("eval", CLI_USAGE, "--noise: %s must be >= 0", noise_s);
    if ((fixed_s || noise_s) && !plan_s && !uniform)
        return cli_error("eval", CLI_USAGE, "--fixed and --noise need --plan or --uniform");

    pact_error err;
    pact_calib *cal = NULL;
    pact_plan *plan = NULL;
    if (calib_s && pact_calib_load(calib_s, &cal, &err) != PACT_OK)
        return cli_lib_error("eval", &err, 0);
    pact_net *net;
    pact_dataset *ds;
    size_t max_images;
    int batch, threads;
    rc = cli_load_net_and_data("eval", &f, PACT_SPLIT_TEST, &net, &ds, &max_images, &batch,
                               &threads);
    if (rc != CLI_OK) {
        pact_calib_free(cal);
        return rc;
    }
    pact_model model;
    pact_net_model(net, &model);
    if (plan_s) {
        if (pact_plan_load(plan_s, &plan, &err) != PACT_OK ||
            pact_plan_check_model(plan, &model, pact_net_sha256(net), &err) != PACT_OK)
            rc = cli_lib_error("eval", &err, 0);
    } else if (uniform) {
        if (pact_plan_uniform(uniform, &model, cal, pact_net_name(net), pact_net_sha256(net), &plan,
                              &err) != PACT_OK)
            rc = cli_lib_error("eval", &err, 1);
    }
    if (rc == CLI_OK) {
        pact_pann_eval_opts eo;
        pact_pann_eval_opts_default(&eo);
        eo.max_images = max_images;
        eo.batch = batch;
        eo.arith.frac_bits = (int)fixed;
        eo.arith.noise_sigma = noise;
        eo.arith.seed = (uint64_t)seed;
        if (cli_stderr_is_tty()) {
            eo.progress = cli_progress;
            eo.progress_ctx = "eval";
        }
        pact_pann_report r;
        const char *what = plan_s ? plan_s : uniform;
        if (pact_pann_evaluate(&model, ds, plan, &eo, &r, &err) != PACT_OK) {
            rc = cli_lib_error("eval", &err, 0);
        } else if (json) {
            cJSON *o = report_json(net, f.data, &r, what, (int)fixed, noise);
            char *s = o ? cJSON_PrintUnformatted(o) : NULL;
            if (s)
                puts(s);
            rc = s ? CLI_OK : cli_error("eval", CLI_RUNTIME, "out of memory");
            free(s);
            cJSON_Delete(o);
        } else {
            report_text(net, f.data, &r, what, (int)fixed);
        }
        pact_pann_report_free(&r);
    }
    pact_plan_free(plan);
    pact_calib_free(cal);
    pact_dataset_free(ds);
    pact_net_free(net);
    return rc;
}
