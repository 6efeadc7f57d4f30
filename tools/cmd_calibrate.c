/* polyact calibrate: every activation layer's input distribution -> calib.json. */
#include "cli_nn.h"

#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "usage: polyact calibrate --model M.safetensors --data FILE|DIR -o calib.json [options]\n"
    "\n"
    "Runs the network on calibration images (training images by default: never\n"
    "calibrate on the test set) and records, for every activation layer, the\n"
    "count, min, max, mean, std, quantiles and a histogram of its inputs.\n"
    "\n"
    "  --model M          CIFAR ResNet weights (.safetensors)\n"
    "  --data FILE|DIR    CIFAR-10 binary file, or a directory of the official batches\n"
    "  --split train|test batches to read from a directory (default train)\n"
    "  --images N         use the first N images only\n"
    "  --bins K           histogram bins per layer (default 2048)\n"
    "  --batch B          images per chunk (default 64)\n"
    "  --threads T        engine threads (default 1)\n"
    "  --input-mean A,B,C / --input-std A,B,C   override the input normalisation\n"
    "  --act F            use activation F in every layer (default relu)\n"
    "  -o, --output FILE  calib.json to write (atomically)\n"
    "\n"
    "Prints a per-layer table. Exit 0 success, 1 runtime error, 2 usage error.\n";

int cmd_calibrate(int argc, char **argv)
{
    cli_net_flags f = {0};
    const char *bins_s = NULL, *output = NULL;
    const cli_option opts[] = {
        {"model", &f.model, NULL},           {"data", &f.data, NULL},
        {"split", &f.split, NULL},           {"images", &f.images, NULL},
        {"batch", &f.batch, NULL},           {"threads", &f.threads, NULL},
        {"input-mean", &f.input_mean, NULL}, {"input-std", &f.input_std, NULL},
        {"act", &f.act, NULL},               {"bins", &bins_s, NULL},
        {"output", &output, NULL},           {NULL, NULL, NULL},
    };
    int rc = cli_parse("calibrate", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;
    if (!output)
        return cli_error("calibrate", CLI_USAGE, "-o calib.json is required (see --help)");
    long bins = 2048;
    if (bins_s && (rc = cli_int("calibrate", "bins", bins_s, 1, 1000000, &bins)) != CLI_OK)
        return rc;
    pact_net *net;
    pact_dataset *ds;
    size_t max_images;
    int batch;
    rc = cli_load_net_and_data("calibrate", &f, PACT_SPLIT_TRAIN, &net, &ds, &max_images, &batch);
    if (rc != CLI_OK)
        return rc;
    pact_model model;
    pact_net_model(net, &model);
    pact_calib_opts co;
    pact_calib_opts_default(&co);
    co.max_images = max_images;
    co.batch = batch;
    co.bins = (int)bins;
    co.model_name = pact_net_name(net);
    co.model_sha256 = pact_net_sha256(net);
    co.data_name = f.data;
    if (cli_stderr_is_tty()) {
        co.progress = cli_progress;
        co.progress_ctx = "calibrate";
    }
    pact_calib *cal = NULL;
    pact_error err;
    if (pact_calibrate(&model, ds, &co, &cal, &err) != PACT_OK ||
        pact_calib_save(cal, output, &err) != PACT_OK) {
        rc = cli_lib_error("calibrate", &err, 0);
    } else {
        printf("%-16s %10s %10s %10s %10s %10s %10s\n", "layer", "min", "q0.001", "mean", "std",
               "q0.999", "max");
        for (int i = 0; i < pact_calib_layer_count(cal); i++) {
            pact_calib_layer l;
            pact_calib_layer_get(cal, i, &l, &err);
            printf("%-16s %10.4f %10.4f %10.4f %10.4f %10.4f %10.4f\n", l.name, l.min,
                   pact_calib_quantile(cal, i, 0.001), l.mean, l.std,
                   pact_calib_quantile(cal, i, 0.999), l.max);
        }
        printf("%zu images of %s, %d layers -> %s\n", pact_calib_images(cal), f.data,
               pact_calib_layer_count(cal), output);
    }
    pact_calib_free(cal);
    pact_dataset_free(ds);
    pact_net_free(net);
    return rc;
}
