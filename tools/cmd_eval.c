/* polyact eval: top-1 accuracy and throughput of a network on CIFAR-10. */
#include "cli_nn.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "usage: polyact eval --model M.safetensors --data FILE|DIR [options]\n"
    "\n"
    "Top-1 accuracy of the network on CIFAR-10 images, with its exact activations.\n"
    "\n"
    "  --model M          CIFAR ResNet weights (.safetensors)\n"
    "  --data FILE|DIR    CIFAR-10 binary file, or a directory of the official batches\n"
    "  --split test|train batches to read from a directory (default test)\n"
    "  --images N         evaluate the first N images only\n"
    "  --batch B          images per forward pass (default 64)\n"
    "  --threads T        engine threads (default: all processors)\n"
    "  --input-mean A,B,C override the model's input normalisation mean\n"
    "  --input-std A,B,C  override the model's input normalisation std\n"
    "  --act F            use activation F in every layer (default relu)\n"
    "  --json             one JSON object on stdout\n"
    "\n"
    "Prints accuracy, correct/total and images/s. Exit 0 success, 1 runtime error,\n"
    "2 usage error.\n";

int cmd_eval(int argc, char **argv)
{
    cli_net_flags f = {0};
    int json = 0;
    const cli_option opts[] = {
        {"model", &f.model, NULL},           {"data", &f.data, NULL},
        {"split", &f.split, NULL},           {"images", &f.images, NULL},
        {"batch", &f.batch, NULL},           {"threads", &f.threads, NULL},
        {"input-mean", &f.input_mean, NULL}, {"input-std", &f.input_std, NULL},
        {"act", &f.act, NULL},               {"json", NULL, &json},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse("eval", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;
    pact_net *net;
    pact_dataset *ds;
    size_t max_images;
    int batch, threads;
    rc = cli_load_net_and_data("eval", &f, PACT_SPLIT_TEST, &net, &ds, &max_images, &batch,
                               &threads);
    if (rc != CLI_OK)
        return rc;

    pact_model model;
    pact_net_model(net, &model);
    pact_eval_opts eo = {.max_images = max_images, .batch = batch};
    if (cli_stderr_is_tty()) {
        eo.progress = cli_progress;
        eo.progress_ctx = "eval";
    }
    pact_eval_result r;
    pact_error err;
    if (pact_model_evaluate(&model, ds, &eo, &r, NULL, &err) != PACT_OK) {
        rc = cli_lib_error("eval", &err, 0);
    } else if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", pact_net_name(net));
        cJSON_AddStringToObject(o, "model_sha256", pact_net_sha256(net));
        cJSON_AddStringToObject(o, "data", f.data);
        cJSON_AddNumberToObject(o, "images", (double)r.images);
        cJSON_AddNumberToObject(o, "correct", (double)r.correct);
        cJSON_AddNumberToObject(o, "accuracy", r.accuracy);
        cJSON_AddNumberToObject(o, "images_per_second", r.images_per_second);
        cJSON_AddNumberToObject(o, "seconds", r.seconds);
        cJSON_AddNumberToObject(o, "batch", batch);
        cJSON_AddNumberToObject(o, "threads", threads);
        char *s = cJSON_PrintUnformatted(o);
        if (s)
            puts(s);
        free(s);
        cJSON_Delete(o);
        rc = s ? CLI_OK : cli_error("eval", CLI_RUNTIME, "out of memory");
    } else {
        printf("%s: top-1 %.2f%% (%zu/%zu) on %s, %.0f images/s (batch %d, %d threads)\n",
               pact_net_name(net), 100.0 * r.accuracy, r.correct, r.images, f.data,
               r.images_per_second, batch, threads);
    }
    pact_dataset_free(ds);
    pact_net_free(net);
    return rc;
}
