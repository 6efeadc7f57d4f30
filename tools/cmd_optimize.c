/* polyact optimize: the cheapest per-layer plan under HE that keeps accuracy. */
#include "cli_backend.h"
#include "cli_shard.h"
#include "plan_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: polyact optimize --model M.safetensors|M.onnx --data TRAIN -o plan.json [options]\n"
    "\n"
    "Finds, for every activation layer, the polynomial that makes encrypted\n"
    "inference cheapest under the HE cost model while the PANN loses at most\n"
    "--max-drop points of top-1 accuracy on the calibration (training) images.\n"
    "Prints the per-layer table, the estimated latency, and the speed-up over the\n"
    "uniform alpha=13 composite baseline under the same cost profile (for GELU\n"
    "or SiLU networks: over uniform degree-63 polynomials). Models other than\n"
    "CIFAR ResNets get a cost layout derived from their graph (approximate\n"
    "costs: see pact_net_cost_layout in polyact.h).\n"
    "\n"
    "  --model M          CIFAR ResNet weights (.safetensors) or a CNN (.onnx)\n"
    "  --data TRAIN       calibration images: CIFAR-10 file or directory (training split)\n"
    "  --split train|test batches to read from a directory (default train)\n"
    "  --calib C          calib.json of this model (default: calibrate on --data first)\n"
    "  --max-drop PP      accuracy points the PANN may lose (default 0.5)\n"
    "  --min-agreement P  the PANN must also predict the network's own class on P%\n"
    "                     of the calibration images (default 0: no requirement)\n"
    "  --degrees LIST     candidate degrees, e.g. 1,2,3,4,5,7,15,31,63 (the default)\n"
    "  --floors LIST      least-squares Chebyshev floor mixtures (default 0.02,0.2)\n"
    "  --margin M         interval widening, fraction of the calibrated width (0.05)\n"
    "  --cost PROFILE     HE cost profile JSON (default: the built-in mpcnn-log)\n"
    "  --images N         calibration images to use (default all)\n"
    "  --impact-images N  images for measuring each candidate's impact (default 256)\n"
    "  --per-channel      one polynomial per channel of each layer (same HE cost as one\n"
    "                     per layer with channels in slots; plan version 2)\n"
    "  --channel-margin M per channel: interval widening, fraction of the channel's\n"
    "                     width (default 0.25)\n"
    "  --refit            error-aware fitting: refit each verified plan layer after\n"
    "                     layer on the PANN's own inputs, against the exact outputs\n"
    "  --refit-images N   calibration images the refit uses (default: --impact-images)\n"
    "  --threads T        engine threads (default: all processors; under mpirun,\n"
    "                     the node's processors divided by its processes)\n"
    "  --input-mean A,B,C override the model's input normalisation mean\n"
    "  --input-std A,B,C  override the model's input normalisation std\n"
    "  --act F            use activation F in every ReLU layer, e.g. gelu, silu\n"
    "                     (the speed-up is then over uniform degree-63 polynomials)\n"
    "  --classes K        check that the model has K outputs per image\n"
    "  -o, --output FILE  plan.json to write (atomically)\n"
    "  --shard I/N        job arrays without MPI: measure only the impact items i\n"
    "                     with i mod N == I (needs --calib) and write them to -o as a\n"
    "                     partial result; polyact merge -o IMPACTS the N files\n"
    "  --impacts IMPACTS  the merged impact table: skip measuring, run the rest\n"
    "                     (plan.json byte-identical to one process's)\n"
    "\n"
    "Under mpirun (mpirun -n K polyact optimize ...) calibration, impact items and\n"
    "the closed loop's evaluations are spread over the K processes; plan.json is\n"
    "byte-identical to one process's.\n"
    "\n"
    "Exit 0 success, 1 runtime error (also when no plan keeps the accuracy:\n"
    "the most accurate one is written and its loss reported), 2 usage error.\n";

static void stage_progress(void *ctx, const char *stage, size_t done, size_t total)
{
    (void)ctx;
    fprintf(stderr, "\rpolyact optimize: %-7s %zu/%zu   ", stage, done, total);
    if (done == total)
        fputc('\n', stderr);
}

/* What the impacts depend on: the network, the images, the calibration and
 * the candidate flags (not --max-drop or --cost: one table serves them all). */
static cJSON *impact_job(const pact_net *net, const pact_dataset *ds, const cli_net_flags *f,
                         const pact_optimize_opts *oo, const char *calib_s)
{
    cJSON *job = cli_job_new("optimize", net, ds, f);
    if (!job)
        return NULL;
    cJSON_AddNumberToObject(job, "batch", oo->batch);
    cJSON_AddNumberToObject(job, "impact_images", (double)oo->impact_images);
    cJSON_AddNumberToObject(job, "margin", oo->margin);
    if (oo->per_channel) { /* absent for one polynomial per layer: older tables stay valid */
        cJSON_AddNumberToObject(job, "per_channel", 1);
        cJSON_AddNumberToObject(job, "channel_margin", oo->channel_margin ? oo->channel_margin : 0.25);
    }
    cJSON *d = cJSON_AddArrayToObject(job, "degrees"), *fl = cJSON_AddArrayToObject(job, "floors");
    for (int i = 0; d && i < oo->n_degrees; i++)
        cJSON_AddItemToArray(d, cJSON_CreateNumber(oo->degrees[i]));
    for (int i = 0; fl && i < oo->n_floors; i++)
        cJSON_AddItemToArray(fl, cJSON_CreateNumber(oo->floors[i]));
    if (cli_job_add_file_hash("optimize", job, "calib_sha256", calib_s) != CLI_OK) {
        cJSON_Delete(job);
        return NULL;
    }
    return job;
}

/* --shard I/N: this shard's impact items as a partial result. */
static int run_shard(const char *shard_s, const char *output, const pact_model *model,
                     const pact_dataset *ds, const pact_calib *cal, const pact_cost_layout *layout,
                     const pact_cost_profile *prof, const pact_optimize_opts *oo,
                     const pact_net *net, const cJSON *job)
{
    int index, count, rc;
    if ((rc = cli_shard_parse("optimize", shard_s, &index, &count)) != CLI_OK)
        return rc;
    pact_error err;
    pact_optimizer *op = NULL;
    pact_partial *p = NULL;
    pact_status st = pact_optimizer_create(model, ds, cal, layout, prof, oo, pact_net_name(net),
                                           pact_net_sha256(net), &op, &err);
    if (st != PACT_OK)
        return cli_lib_error("optimize", &err, 0);
    size_t n = pact_optimizer_item_count(op);
    rc = cli_shard_begin("optimize", "impact", job, n, 1, 0, index, count, &p);
    for (size_t i = (size_t)index; rc == CLI_OK && st == PACT_OK && i < n; i += (size_t)count) {
        double v;
        if ((st = pact_optimizer_impact(op, i, &v, &err)) == PACT_OK)
            st = pact_partial_set_row(p, i, &v, &err);
    }
    if (rc == CLI_OK && st != PACT_OK)
        rc = cli_lib_error("optimize", &err, 0);
    if (rc == CLI_OK)
        rc = cli_shard_finish("optimize", p, output);
    else
        pact_partial_free(p);
    pact_optimizer_free(op);
    return rc;
}

static int parse_list(const char *flag, const char *s, double *v, int max, int *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || (*end != ',' && *end != '\0') || *n >= max)
            return cli_error("optimize", CLI_USAGE, "--%s: '%s' is not a list of at most %d numbers",
                             flag, s, max);
        v[(*n)++] = x;
        p = *end == ',' ? end + 1 : end;
    }
    return *n ? CLI_OK : cli_error("optimize", CLI_USAGE, "--%s: empty list", flag);
}

int cmd_optimize(int argc, char **argv)
{
    cli_net_flags f = {0};
    const char *calib_s = NULL, *drop_s = NULL, *agree_s = NULL, *deg_s = NULL, *floor_s = NULL,
               *margin_s = NULL,
               *cost_s = NULL, *impact_s = NULL, *output = NULL, *shard_s = NULL,
               *impacts_s = NULL, *refit_img_s = NULL,
               *chmargin_s = NULL;
    int per_channel = 0, refit = 0;
    const cli_option opts[] = {
        CLI_NET_OPTIONS(f),                 {"calib", &calib_s, NULL},
        {"max-drop", &drop_s, NULL},        {"degrees", &deg_s, NULL},
        {"min-agreement", &agree_s, NULL},
        {"floors", &floor_s, NULL},         {"margin", &margin_s, NULL},
        {"cost", &cost_s, NULL},            {"impact-images", &impact_s, NULL},
        {"output", &output, NULL},          {"shard", &shard_s, NULL},
        {"impacts", &impacts_s, NULL},      {"per-channel", NULL, &per_channel},
        {"refit", NULL, &refit},            {"refit-images", &refit_img_s, NULL},
        {"channel-margin", &chmargin_s, NULL},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse("optimize", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;
    if (!output)
        return cli_error("optimize", CLI_USAGE, "-o plan.json is required (see --help)");
    const char *ins[] = {f.model, f.data, calib_s, impacts_s, cost_s};
    if ((rc = cli_check_output("optimize", "-o", output, ins, 5)) != CLI_OK)
        return rc;
    if ((shard_s || impacts_s) && !calib_s)
        return cli_error("optimize", CLI_USAGE, "--%s needs --calib (one calibration for every part)",
                         shard_s ? "shard" : "impacts");
    if (shard_s && impacts_s)
        return cli_error("optimize", CLI_USAGE, "give --shard or --impacts, not both");
    if (shard_s && cli_backend_distributed())
        return cli_error("optimize", CLI_USAGE, "--shard I/N is for job arrays without mpirun");
    pact_optimize_opts oo;
    pact_optimize_opts_default(&oo);
    if (drop_s && ((rc = cli_double("optimize", "max-drop", drop_s, &oo.max_drop)) != CLI_OK ||
                   oo.max_drop < 0 || oo.max_drop > 100))
        return rc ? rc : cli_error("optimize", CLI_USAGE, "--max-drop: %s outside 0..100", drop_s);
    if (agree_s &&
        ((rc = cli_double("optimize", "min-agreement", agree_s, &oo.min_agreement)) != CLI_OK ||
         oo.min_agreement < 0 || oo.min_agreement > 100))
        return rc ? rc : cli_error("optimize", CLI_USAGE, "--min-agreement: %s outside 0..100",
                                   agree_s);
    if (margin_s && ((rc = cli_double("optimize", "margin", margin_s, &oo.margin)) != CLI_OK ||
                     oo.margin < 0 || oo.margin > 10))
        return rc ? rc : cli_error("optimize", CLI_USAGE, "--margin: %s outside 0..10", margin_s);
    if (deg_s) {
        double d[32];
        if ((rc = parse_list("degrees", deg_s, d, 32, &oo.n_degrees)) != CLI_OK)
            return rc;
        for (int i = 0; i < oo.n_degrees; i++) {
            if (!(d[i] >= 1 && d[i] <= PACT_FIT_MAX_DEGREE) || d[i] != (int)d[i])
                return cli_error("optimize", CLI_USAGE, "--degrees: %g is not a degree in 1..%d", d[i],
                                 PACT_FIT_MAX_DEGREE);
            oo.degrees[i] = (int)d[i];
        }
    }
    if (floor_s && (rc = parse_list("floors", floor_s, oo.floors, 8, &oo.n_floors)) != CLI_OK)
        return rc;
    for (int i = 0; floor_s && i < oo.n_floors; i++)
        if (!(oo.floors[i] >= 0 && oo.floors[i] <= 1))
            return cli_error("optimize", CLI_USAGE, "--floors: %g is not a floor in 0..1", oo.floors[i]);
    if (chmargin_s &&
        ((rc = cli_double("optimize", "channel-margin", chmargin_s, &oo.channel_margin)) != CLI_OK ||
         !(oo.channel_margin > 0) || oo.channel_margin > 10))
        return rc ? rc : cli_error("optimize", CLI_USAGE, "--channel-margin: %s outside (0, 10]",
                                   chmargin_s);
    oo.per_channel = per_channel;
    oo.refit = refit;
    if (refit_img_s && !refit)
        return cli_error("optimize", CLI_USAGE, "--refit-images needs --refit");
    if (refit_img_s) {
        long v;
        if ((rc = cli_int("optimize", "refit-images", refit_img_s, 1, 1000000, &v)) != CLI_OK)
            return rc;
        oo.refit_images = (size_t)v;
    }
    if (impact_s) {
        long v;
        if ((rc = cli_int("optimize", "impact-images", impact_s, 1, 1000000, &v)) != CLI_OK)
            return rc;
        oo.impact_images = (size_t)v;
    }
    pact_net *net;
    pact_dataset *ds;
    size_t max_images;
    int batch, threads;
    rc = cli_load_net_and_data("optimize", &f, PACT_SPLIT_TRAIN, &net, &ds, &max_images, &batch,
                               &threads);
    if (rc != CLI_OK)
        return rc;
    oo.batch = batch;
    oo.verify_images = max_images;
    if (cli_stderr_is_tty())
        oo.progress = stage_progress;
    pact_model model;
    pact_net_model(net, &model);
    pact_error err;
    pact_cost_profile *prof = NULL;
    pact_cost_layout *layout = NULL;
    pact_calib *cal = NULL;
    pact_plan *plan = NULL;
    rc = cli_load_cost_net("optimize", cost_s, net, &prof, &layout);
    if (rc == CLI_OK && calib_s) {
        if (cli_load_calib(calib_s, &cal, &err) != PACT_OK)
            rc = cli_lib_error("optimize", &err, 0);
        else
            rc = cli_check_calib("optimize", calib_s, cal, net);
    } else if (rc == CLI_OK) {
        pact_calib_opts co = {0};
        co.max_images = max_images;
        co.chunk_images = batch;
        co.model_name = pact_net_name(net);
        co.model_sha256 = pact_net_sha256(net);
        co.data_name = f.data;
        if (cli_stderr_is_tty()) {
            co.progress = cli_progress;
            co.progress_ctx = "calibrate";
        }
        if (cli_calibrate(&model, ds, &co, &cal, &err) != PACT_OK)
            rc = cli_lib_error("optimize", &err, 0);
    }
    cJSON *job = NULL;
    pact_partial *table = NULL;
    double *impacts = NULL;
    if (rc == CLI_OK && (shard_s || impacts_s) &&
        !(job = impact_job(net, ds, &f, &oo, calib_s)))
        rc = CLI_RUNTIME;
    if (rc == CLI_OK && shard_s) {
        oo.progress = NULL;
        rc = run_shard(shard_s, output, &model, ds, cal, layout, prof, &oo, net, job);
    } else if (rc == CLI_OK && impacts_s) {
        char *text = cli_job_text(job);
        rc = text ? cli_partial_load_complete("optimize", impacts_s, "impact", text, &table)
                  : cli_error("optimize", CLI_RUNTIME, "out of memory");
        free(text);
        size_t n = rc == CLI_OK ? pact_partial_item_count(table) : 0;
        if (rc == CLI_OK && !(impacts = malloc(n * sizeof *impacts)))
            rc = cli_error("optimize", CLI_RUNTIME, "out of memory");
        for (size_t i = 0; rc == CLI_OK && i < n; i++)
            impacts[i] = pact_partial_row(table, i)[0];
        oo.impacts = impacts;
        oo.n_impacts = n;
    }
    if (rc == CLI_OK && !shard_s) {
        pact_status st = cli_optimize(&model, ds, cal, layout, prof, &oo, pact_net_name(net),
                                      pact_net_sha256(net), &plan, &err);
        if (plan && (st == PACT_OK || st == PACT_ETOL)) {
            pact_error e2;
            if (pact_plan_save(plan, output, &e2) != PACT_OK)
                rc = cli_lib_error("optimize", &e2, 0);
            else
                rc = cli_print_plan_table("optimize", stdout, plan, layout, prof, NULL);
            if (rc == CLI_OK)
                printf("plan -> %s\n", output);
        }
        if (st != PACT_OK)
            rc = cli_lib_error("optimize", &err, 0);
    }
    cJSON_Delete(job);
    pact_partial_free(table);
    free(impacts);
    pact_plan_free(plan);
    pact_calib_free(cal);
    pact_cost_layout_free(layout);
    pact_cost_profile_free(prof);
    pact_dataset_free(ds);
    pact_net_free(net);
    return rc;
}
