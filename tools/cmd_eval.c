/* polyact eval: accuracy of the network, or of its polynomial version (PANN)
 * against it, on CIFAR-10. */
#include "cli_backend.h"
#include "cli_shard.h"
#include "eval_report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --shard I/N: this shard's chunks as a partial result. */
static int run_shard(const char *shard_s, const char *output, const pact_net *net,
                     const pact_dataset *ds, const cli_net_flags *f, const pact_plan *plan,
                     const pact_pann_eval_opts *eo, const char *plan_s, const char *uniform,
                     const char *calib_s)
{
    int index, count, rc;
    if ((rc = cli_shard_parse("eval", shard_s, &index, &count)) != CLI_OK)
        return rc;
    if (!output)
        return cli_error("eval", CLI_USAGE, "--shard needs -o FILE for its partial result");
    pact_model model;
    pact_net_model(net, &model);
    cJSON *job = cli_job_new("eval", net, ds, f);
    if (!job)
        return cli_error("eval", CLI_RUNTIME, "out of memory");
    cJSON_AddNumberToObject(job, "batch", eo->batch);
    cJSON_AddNumberToObject(job, "n_classes", model.n_classes);
    cJSON_AddStringToObject(job, "data", f->data);
    if (plan_s) {
        cJSON_AddStringToObject(job, "what", plan_s);
        rc = cli_job_add_file_hash("eval", job, "plan_sha256", plan_s);
    } else if (uniform) {
        cJSON_AddStringToObject(job, "what", uniform);
    }
    if (rc == CLI_OK && calib_s)
        rc = cli_job_add_file_hash("eval", job, "calib_sha256", calib_s);
    cJSON_AddNumberToObject(job, "fixed", eo->arith.frac_bits);
    cJSON_AddNumberToObject(job, "noise", eo->arith.noise_sigma);
    cJSON_AddNumberToObject(job, "seed", (double)eo->arith.seed);
    int n_layers = plan ? model.n_act : 0;
    size_t n_chunks = pact_pann_eval_chunk_count(ds, eo), row_size = pact_pann_partial_row_size(n_layers);
    pact_partial *p = NULL;
    pact_pann *pann = NULL;
    pact_pann_partial part;
    double *row = malloc(row_size * sizeof *row);
    pact_error err;
    pact_status st = pact_pann_partial_init(&part, n_layers, model.n_classes, &err);
    if (rc == CLI_OK)
        rc = cli_shard_begin("eval", "eval", job, n_chunks, row_size, 0, index, count, &p);
    if (rc == CLI_OK && !row)
        rc = cli_error("eval", CLI_RUNTIME, "out of memory");
    if (rc == CLI_OK && st == PACT_OK && plan)
        st = pact_pann_create(plan, &eo->arith, &pann, &err);
    for (size_t c = (size_t)index; rc == CLI_OK && st == PACT_OK && c < n_chunks; c += (size_t)count) {
        st = pact_pann_eval_chunk(&model, ds, pann, eo, c, &part, &err);
        if (st == PACT_OK) {
            pact_pann_partial_pack(&part, row);
            st = pact_partial_set_row(p, c, row, &err);
        }
    }
    if (rc == CLI_OK && st != PACT_OK)
        rc = cli_lib_error("eval", &err, 0);
    if (rc == CLI_OK)
        rc = cli_shard_finish("eval", p, output);
    else
        pact_partial_free(p);
    pact_pann_free(pann);
    pact_pann_partial_free(&part);
    free(row);
    cJSON_Delete(job);
    return rc;
}

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
    "                     (a normal deviate per value: about 15x the time of --fixed)\n"
    "  --seed S           noise seed (default 1)\n"
    "  --images N         evaluate the first N images only\n"
    "  --batch B          images per forward pass (default 64)\n"
    "  --threads T        engine threads (default: all processors; under mpirun,\n"
    "                     the node's processors divided by its processes)\n"
    "  --input-mean A,B,C override the model's input normalisation mean\n"
    "  --input-std A,B,C  override the model's input normalisation std\n"
    "  --act F            use activation F in every ReLU layer, e.g. gelu, silu\n"
    "                     (default relu: the model's own activations)\n"
    "  --classes K        check that the model has K outputs per image\n"
    "  --json             one JSON object on stdout\n"
    "  --shard I/N        job arrays without MPI: only chunks c with c mod N == I\n"
    "                     (chunks of --batch images), written as a partial-result\n"
    "                     file -o; polyact merge FILES prints the report of all\n"
    "  -o, --output FILE  --shard: the partial-result file\n"
    "\n"
    "Under mpirun (mpirun -n K polyact eval ...) the chunks are spread over the K\n"
    "processes; the numbers are those of one process, bit for bit.\n"
    "\n"
    "Exit 0 success, 1 runtime error, 2 usage error.\n";

int cmd_eval(int argc, char **argv)
{
    cli_net_flags f = {0};
    const char *plan_s = NULL, *uniform = NULL, *calib_s = NULL, *fixed_s = NULL, *noise_s = NULL,
               *seed_s = NULL, *shard_s = NULL, *output = NULL;
    int json = 0;
    const cli_option opts[] = {
        CLI_NET_OPTIONS(f),                  {"plan", &plan_s, NULL},
        {"uniform", &uniform, NULL},         {"calib", &calib_s, NULL},
        {"fixed", &fixed_s, NULL},           {"noise", &noise_s, NULL},
        {"seed", &seed_s, NULL},             {"json", NULL, &json},
        {"shard", &shard_s, NULL},           {"output", &output, NULL},
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
    if (output && !shard_s)
        return cli_error("eval", CLI_USAGE, "-o goes with --shard (the report is printed)");
    const char *ins[] = {f.model, f.data, plan_s, calib_s};
    if ((rc = cli_check_output("eval", "-o", output, ins, 4)) != CLI_OK)
        return rc;
    if (shard_s && cli_backend_distributed())
        return cli_error("eval", CLI_USAGE, "--shard I/N is for job arrays without mpirun");

    pact_error err;
    pact_calib *cal = NULL;
    pact_plan *plan = NULL;
    if (calib_s && cli_load_calib(calib_s, &cal, &err) != PACT_OK)
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
    if (cal)
        rc = cli_check_calib("eval", calib_s, cal, net);
    if (rc == CLI_OK && plan_s) {
        if (cli_load_plan(plan_s, &plan, &err) != PACT_OK)
            rc = cli_lib_error("eval", &err, 0);
        else if (pact_plan_check_model(plan, &model, pact_net_sha256(net), &err) != PACT_OK)
            rc = cli_error("eval", CLI_RUNTIME, "%s: %s", plan_s, err.message);
    } else if (rc == CLI_OK && uniform) {
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
        pact_model mv;
        pact_net_model(net, &mv);
        eval_labels lb = {.model = pact_net_name(net), .model_sha256 = pact_net_sha256(net),
                          .data = f.data, .layer_names = mv.act_names,
                          .what = plan_s ? plan_s : uniform, .frac_bits = (int)fixed,
                          .noise = noise, .timed = 1};
        if (shard_s) {
            eo.progress = NULL;
            rc = run_shard(shard_s, output, net, ds, &f, plan, &eo, plan_s, uniform, calib_s);
        } else if (cli_evaluate(&model, ds, plan, &eo, &r, &err) != PACT_OK) {
            rc = cli_lib_error("eval", &err, 0);
        } else if (!cli_backend_root()) {
            /* rank 0 prints */
        } else if (json) {
            cJSON *o = eval_report_json(&lb, &r);
            char *s = o ? cJSON_PrintUnformatted(o) : NULL;
            if (s)
                puts(s);
            rc = s ? CLI_OK : cli_error("eval", CLI_RUNTIME, "out of memory");
            free(s);
            cJSON_Delete(o);
        } else {
            eval_report_text(&lb, &r);
        }
        if (!shard_s)
            pact_pann_report_free(&r);
    }
    pact_plan_free(plan);
    pact_calib_free(cal);
    pact_dataset_free(ds);
    pact_net_free(net);
    return rc;
}
