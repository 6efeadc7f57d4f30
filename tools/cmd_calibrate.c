/* polyact calibrate: each activation layer's input distribution -> calib.json. */
#include "cli_nn.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: polyact calibrate --model M.safetensors|M.onnx --data FILE|DIR -o calib.json [options]\n"
    "\n"
    "Measures the input of every activation layer over CIFAR-10 images: min, max,\n"
    "mean, std, quantiles and a histogram over [min, max], written as JSON\n"
    "(format polyact-calib, version 1; see README.md).\n"
    "\n"
    "  --model M          CIFAR ResNet weights (.safetensors) or a CNN (.onnx)\n"
    "  --data FILE|DIR    CIFAR-10 binary file, or a directory of the official batches\n"
    "  --split train|test batches to read from a directory (default train)\n"
    "  --images N         calibrate on the first N images only\n"
    "  -o, --output FILE  where to write the calibration (required)\n"
    "  --bins B           histogram bins per layer (default 2048)\n"
    "  --chunk C          images per chunk (default 64; results depend on it, not on\n"
    "                     --threads)\n"
    "  --threads T        engine threads (default: all processors)\n"
    "  --input-mean A,B,C override the model's input normalisation mean\n"
    "  --input-std A,B,C  override the model's input normalisation std\n"
    "  --act F            use activation F in every ReLU layer, e.g. gelu, silu\n"
    "                     (default relu: the model's own activations)\n"
    "  --classes K        check that the model has K outputs per image\n"
    "  --json             print a summary object on stdout\n"
    "\n"
    "Exit 0 success, 1 runtime error, 2 usage error.\n";

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

int cmd_calibrate(int argc, char **argv)
{
    cli_net_flags f = {0};
    const char *output = NULL, *bins_s = NULL, *chunk_s = NULL;
    int json = 0;
    const cli_option opts[] = {
        {"model", &f.model, NULL},           {"data", &f.data, NULL},
        {"split", &f.split, NULL},           {"images", &f.images, NULL},
        {"output", &output, NULL},           {"bins", &bins_s, NULL},
        {"chunk", &chunk_s, NULL},           {"threads", &f.threads, NULL},
        {"input-mean", &f.input_mean, NULL}, {"input-std", &f.input_std, NULL},
        {"classes", &f.classes, NULL},
        {"act", &f.act, NULL},               {"json", NULL, &json},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse("calibrate", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;
    if (!output)
        return cli_error("calibrate", CLI_USAGE, "-o calib.json is required (see --help)");
    pact_calib_opts co = {0};
    long v;
    if (bins_s) {
        if (cli_int("calibrate", "bins", bins_s, 1, PACT_CALIB_MAX_BINS, &v) != CLI_OK)
            return CLI_USAGE;
        co.bins = (int)v;
    }
    if (chunk_s) {
        if (cli_int("calibrate", "chunk", chunk_s, 1, 4096, &v) != CLI_OK)
            return CLI_USAGE;
        co.chunk_images = (int)v;
        f.batch = chunk_s; /* one forward per chunk */
    }
    pact_net *net;
    pact_dataset *ds;
    size_t max_images;
    int batch, threads;
    rc = cli_load_net_and_data("calibrate", &f, PACT_SPLIT_TRAIN, &net, &ds, &max_images,
                               &batch, &threads);
    if (rc != CLI_OK)
        return rc;
    pact_model model;
    pact_net_model(net, &model);
    co.max_images = max_images;
    co.model_name = pact_net_name(net);
    co.model_sha256 = pact_net_sha256(net);
    co.data_name = base_name(f.data);
    if (cli_stderr_is_tty()) {
        co.progress = cli_progress;
        co.progress_ctx = "calibrate";
    }
    pact_calib *calib = NULL;
    pact_error err;
    if (pact_calibrate(&model, ds, &co, &calib, &err) != PACT_OK ||
        pact_calib_save(calib, output, &err) != PACT_OK) {
        rc = cli_lib_error("calibrate", &err, 0);
    } else if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", pact_net_name(net));
        cJSON_AddNumberToObject(o, "images", (double)pact_calib_images(calib));
        cJSON_AddNumberToObject(o, "layers", pact_calib_layer_count(calib));
        cJSON_AddNumberToObject(o, "bins", pact_calib_bins(calib));
        cJSON_AddStringToObject(o, "output", output);
        char *text = cJSON_PrintUnformatted(o);
        if (text)
            puts(text);
        else
            rc = cli_error("calibrate", CLI_RUNTIME, "out of memory");
        free(text);
        cJSON_Delete(o);
    } else {
        printf("%s: %d activation layers calibrated on %zu images -> %s\n", pact_net_name(net),
               pact_calib_layer_count(calib), pact_calib_images(calib), output);
        for (int i = 0; i < pact_calib_layer_count(calib); i++) {
            const pact_calib_layer *l = pact_calib_layer_at(calib, i);
            printf("  %-16s [%9.4f, %9.4f]  mean %8.4f  std %7.4f\n", l->name, l->min, l->max,
                   l->mean, l->std);
        }
    }
    pact_calib_free(calib);
    pact_dataset_free(ds);
    pact_net_free(net);
    return rc;
}
