/* polyact calibrate: each activation layer's input distribution -> calib.json. */
#include "cli_backend.h"
#include "cli_shard.h"

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
    "  --threads T        engine threads (default: all processors; under mpirun,\n"
    "                     the node's processors divided by its processes)\n"
    "  --input-mean A,B,C override the model's input normalisation mean\n"
    "  --input-std A,B,C  override the model's input normalisation std\n"
    "  --act F            use activation F in every ReLU layer, e.g. gelu, silu\n"
    "                     (default relu: the model's own activations)\n"
    "  --classes K        check that the model has K outputs per image\n"
    "  --json             print a summary object on stdout\n"
    "  --shard I/N        job arrays without MPI: only chunks c with c mod N == I, as a\n"
    "                     partial-result file -o; in two passes (README \"Scale-out\"):\n"
    "  --pass 1|2         1: chunk statistics; merge the N files into STATS with\n"
    "                     polyact merge; 2: histograms over STATS's ranges, merged\n"
    "                     into calib.json (byte-identical to one process)\n"
    "  --stats STATS      pass 2: the merged pass-1 file\n"
    "\n"
    "Under mpirun (mpirun -n K polyact calibrate ...) the chunks are spread over the\n"
    "K processes; the file is byte-identical to one process's.\n"
    "\n"
    "Exit 0 success, 1 runtime error, 2 usage error.\n";

/* --shard I/N --pass 1|2: the chunks of this shard as a partial result. */
static int run_shard(const char *shard_s, const char *pass_s, const char *stats_s,
                     const char *output, const pact_net *net, const pact_dataset *ds,
                     const cli_net_flags *f, const pact_calib_opts *co)
{
    int index, count, rc;
    long pass = stats_s ? 2 : 1;
    if ((rc = cli_shard_parse("calibrate", shard_s, &index, &count)) != CLI_OK)
        return rc;
    if (pass_s && (rc = cli_int("calibrate", "pass", pass_s, 1, 2, &pass)) != CLI_OK)
        return rc;
    if ((pass == 2) != (stats_s != NULL))
        return cli_error("calibrate", CLI_USAGE, "--pass 2 needs --stats (the merged pass-1 file); "
                                                 "--pass 1 takes none");
    pact_model model;
    pact_net_model(net, &model);
    const size_t n_chunks = pact_calib_chunk_count(ds, co);
    const size_t per = (size_t)model.n_act * PACT_CALIB_STATS;
    const int bins = co->bins ? co->bins : 2048;
    cJSON *job = cli_job_new("calibrate", net, ds, f);
    if (!job)
        return cli_error("calibrate", CLI_RUNTIME, "out of memory");
    cJSON_AddNumberToObject(job, "chunk", co->chunk_images ? co->chunk_images : 64);
    cJSON_AddNumberToObject(job, "bins", bins);
    cJSON_AddStringToObject(job, "data_name", co->data_name);
    pact_partial *stats = NULL, *p = NULL;
    double *totals = NULL, *rows = NULL;
    pact_error err;
    pact_status st = PACT_OK;
    if (pass == 1) {
        rc = cli_shard_begin("calibrate", "calib-stats", job, n_chunks, per, 0, index, count, &p);
        double *row = rc == CLI_OK ? malloc(per * sizeof *row) : NULL;
        if (rc == CLI_OK && !row)
            rc = cli_error("calibrate", CLI_RUNTIME, "out of memory");
        for (size_t c = (size_t)index; rc == CLI_OK && st == PACT_OK && c < n_chunks; c += (size_t)count)
            if ((st = pact_calib_stats_chunk(&model, ds, co, c, row, &err)) == PACT_OK)
                st = pact_partial_set_row(p, c, row, &err);
        free(row);
    } else {
        char *text = cli_job_text(job);
        rc = text ? cli_partial_load_complete("calibrate", stats_s, "calib-stats", text, &stats)
                  : cli_error("calibrate", CLI_RUNTIME, "out of memory");
        free(text);
        totals = malloc(per * sizeof *totals);
        rows = malloc(per * n_chunks * sizeof *rows);
        if (rc == CLI_OK && (!totals || !rows))
            rc = cli_error("calibrate", CLI_RUNTIME, "out of memory");
        for (size_t c = 0; rc == CLI_OK && c < n_chunks; c++)
            memcpy(rows + c * per, pact_partial_row(stats, c), per * sizeof *rows);
        if (rc == CLI_OK) {
            pact_calib_merge_stats(model.n_act, n_chunks, rows, totals);
            rc = cli_shard_begin("calibrate", "calib-hist", job, n_chunks, 0,
                                 (size_t)model.n_act * (size_t)bins, index, count, &p);
        }
        if (rc == CLI_OK)
            st = pact_partial_set_context(p, totals, per, &err);
        for (size_t c = (size_t)index; rc == CLI_OK && st == PACT_OK && c < n_chunks; c += (size_t)count)
            if ((st = pact_calib_hist_chunk(&model, ds, co, totals, c, pact_partial_sums(p), &err)) == PACT_OK)
                st = pact_partial_set_row(p, c, NULL, &err);
    }
    if (rc == CLI_OK && st != PACT_OK)
        rc = cli_lib_error("calibrate", &err, 0);
    if (rc == CLI_OK)
        rc = cli_shard_finish("calibrate", p, output);
    else
        pact_partial_free(p);
    pact_partial_free(stats);
    free(totals);
    free(rows);
    cJSON_Delete(job);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

int cmd_calibrate(int argc, char **argv)
{
    cli_net_flags f = {0};
    const char *output = NULL, *bins_s = NULL, *chunk_s = NULL, *shard_s = NULL, *pass_s = NULL,
               *stats_s = NULL;
    int json = 0;
    const cli_option opts[] = {
        {"model", &f.model, NULL},           {"data", &f.data, NULL},
        {"split", &f.split, NULL},           {"images", &f.images, NULL},
        {"output", &output, NULL},           {"bins", &bins_s, NULL},
        {"chunk", &chunk_s, NULL},           {"threads", &f.threads, NULL},
        {"input-mean", &f.input_mean, NULL}, {"input-std", &f.input_std, NULL},
        {"classes", &f.classes, NULL},
        {"act", &f.act, NULL},               {"json", NULL, &json},
        {"shard", &shard_s, NULL},           {"pass", &pass_s, NULL},
        {"stats", &stats_s, NULL},           {NULL, NULL, NULL},
    };
    int rc = cli_parse("calibrate", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;
    if (!output)
        return cli_error("calibrate", CLI_USAGE, "-o calib.json is required (see --help)");
    const char *ins[] = {f.model, f.data, stats_s};
    if ((rc = cli_check_output("calibrate", "-o", output, ins, 3)) != CLI_OK)
        return rc;
    if (!shard_s && (pass_s || stats_s))
        return cli_error("calibrate", CLI_USAGE, "--pass and --stats go with --shard I/N");
    if (shard_s && cli_backend_distributed())
        return cli_error("calibrate", CLI_USAGE, "--shard I/N is for job arrays without mpirun");
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
    if (shard_s) {
        co.progress = NULL;
        rc = run_shard(shard_s, pass_s, stats_s, output, net, ds, &f, &co);
    } else if (cli_calibrate(&model, ds, &co, &calib, &err) != PACT_OK ||
               (cli_backend_root() && pact_calib_save(calib, output, &err) != PACT_OK)) {
        rc = cli_lib_error("calibrate", &err, 0);
    } else if (!cli_backend_root()) {
        /* rank 0 writes and prints */
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
