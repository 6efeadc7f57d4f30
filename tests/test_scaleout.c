/* The library's scale-out pieces on ResNet-20 and the shared images:
 *  - a net loaded from memory is the net loaded from its file (sha256 and
 *    logits bit for bit); truncated bytes are refused;
 *  - a data set rebuilt from its records is the same data set; bad records
 *    are refused;
 *  - evaluation by chunks computed in any order (each with its own pann),
 *    carried as rows and merged in chunk order gives pact_pann_evaluate's
 *    report bit for bit, also in fixed point with noise (per-chunk streams);
 *    counts, minima and maxima merged in reverse order agree too;
 *  - impact items computed by a second optimizer in reverse order are the
 *    first's bit for bit, and pact_optimize fed those impacts writes the
 *    same plan.json as pact_optimize measuring them itself. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n;

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void check_memory_loaders(const char *model_path, const pact_dataset *ds)
{
    pact_error err;
    FILE *f = fopen(model_path, "rb");
    CHECK(f != NULL, "cannot open %s", model_path);
    n++;
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)size);
    size_t got = bytes ? fread(bytes, 1, (size_t)size, f) : 0;
    fclose(f);
    CHECK(got == (size_t)size, "read %zu of %ld bytes", got, size);
    pact_net *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(pact_net_load(model_path, NULL, &a, &err), &err);
    CHECK_OK(pact_net_load_memory(bytes, got, "mem", NULL, &b, &err), &err);
    n += 3;
    if (a && b) {
        CHECK(strcmp(pact_net_sha256(a), pact_net_sha256(b)) == 0, "sha256 %s from memory, %s from file",
              pact_net_sha256(b), pact_net_sha256(a));
        float *x = malloc(8 * PACT_CIFAR_IMAGE_SIZE * sizeof *x), la[80], lb[80];
        CHECK_OK(pact_dataset_images_f32(ds, 0, 8, x, &err), &err);
        CHECK_OK(pact_net_forward(a, x, 8, NULL, NULL, la, &err), &err);
        CHECK_OK(pact_net_forward(b, x, 8, NULL, NULL, lb, &err), &err);
        CHECK(memcmp(la, lb, sizeof la) == 0, "logits differ: %.9g vs %.9g", la[0], lb[0]);
        free(x);
        n += 5;
    }
    pact_status st = pact_net_load_memory(bytes, got / 2, "half", NULL, &c, &err);
    CHECK(st == PACT_EFORMAT && !c && strstr(err.message, "half"), "half a model: %s '%s'",
          pact_status_str(st), err.message);
    n++;
    pact_net_free(a);
    pact_net_free(b);
    pact_net_free(c);
    free(bytes);

    size_t rsize;
    const unsigned char *rec = pact_dataset_records(ds, &rsize);
    pact_dataset *copy = NULL, *bad = NULL;
    CHECK(rsize == pact_dataset_count(ds) * PACT_CIFAR_RECORD_SIZE, "records of %zu bytes", rsize);
    CHECK_OK(pact_dataset_from_records(rec, rsize, "copy", &copy, &err), &err);
    n += 2;
    if (copy) {
        int same = pact_dataset_count(copy) == pact_dataset_count(ds);
        for (size_t i = 0; same && i < pact_dataset_count(ds); i++)
            same = pact_dataset_label(copy, i) == pact_dataset_label(ds, i);
        size_t csize;
        same = same && memcmp(pact_dataset_records(copy, &csize), rec, rsize) == 0;
        CHECK(same, "the copy holds other images or labels");
        n++;
    }
    st = pact_dataset_from_records(rec, rsize - 1, "short", &bad, &err);
    CHECK(st == PACT_EFORMAT && !bad, "a record cut short: %s", pact_status_str(st));
    unsigned char *mod = malloc(rsize);
    memcpy(mod, rec, rsize);
    mod[2 * PACT_CIFAR_RECORD_SIZE] = 10; /* record 2's label */
    st = pact_dataset_from_records(mod, rsize, "labels", &bad, &err);
    CHECK(st == PACT_EFORMAT && !bad && strstr(err.message, "record 2"), "label 10: %s '%s'",
          pact_status_str(st), err.message);
    n += 2;
    free(mod);
    pact_dataset_free(copy);
}

/* The report of chunks computed in reverse order and merged in chunk order. */
static int eval_by_chunks(const pact_model *m, const pact_dataset *ds, const pact_plan *plan,
                          const pact_pann_eval_opts *eo, pact_pann_report *rep,
                          pact_pann_partial *reverse_merged)
{
    pact_error err;
    size_t nc = pact_pann_eval_chunk_count(ds, eo), row_size = pact_pann_partial_row_size(m->n_act);
    double *rows = malloc(nc * row_size * sizeof *rows);
    pact_pann_partial part, sum;
    CHECK_OK(pact_pann_partial_init(&part, m->n_act, m->n_classes, &err), &err);
    CHECK_OK(pact_pann_partial_init(&sum, m->n_act, m->n_classes, &err), &err);
    CHECK_OK(pact_pann_partial_init(reverse_merged, m->n_act, m->n_classes, &err), &err);
    n += 3;
    int ok = rows != NULL;
    for (size_t k = nc; ok && k-- > 0;) {
        pact_pann *pann = NULL; /* a fresh one per chunk: another "process" */
        ok = pact_pann_create(plan, &eo->arith, &pann, &err) == PACT_OK &&
             pact_pann_eval_chunk(m, ds, pann, eo, k, &part, &err) == PACT_OK;
        if (ok)
            pact_pann_partial_pack(&part, rows + k * row_size);
        if (ok)
            ok = pact_pann_partial_merge(reverse_merged, &part, &err) == PACT_OK;
        pact_pann_free(pann);
    }
    CHECK(ok, "chunks: %s", err.message);
    n++;
    for (size_t k = 0; ok && k < nc; k++) {
        ok = pact_pann_partial_unpack(rows + k * row_size, row_size, &part, &err) == PACT_OK &&
             pact_pann_partial_merge(&sum, &part, &err) == PACT_OK;
    }
    CHECK(ok, "merging rows: %s", err.message);
    if (ok)
        CHECK_OK(pact_pann_partial_report(&sum, rep, &err), &err);
    n += 2;
    free(rows);
    pact_pann_partial_free(&part);
    pact_pann_partial_free(&sum);
    return ok;
}

static void compare_reports(const char *what, const pact_pann_report *a, const pact_pann_report *b)
{
    CHECK(a->images == b->images && a->correct == b->correct &&
              a->backbone_correct == b->backbone_correct && a->agree == b->agree &&
              a->nonfinite_images == b->nonfinite_images,
          "%s: counts %zu/%zu/%zu/%zu/%zu by chunks, %zu/%zu/%zu/%zu/%zu in one call", what,
          b->images, b->correct, b->backbone_correct, b->agree, b->nonfinite_images, a->images,
          a->correct, a->backbone_correct, a->agree, a->nonfinite_images);
    CHECK(same_bits(a->max_logit_diff, b->max_logit_diff) &&
              same_bits(a->mean_logit_diff, b->mean_logit_diff),
          "%s: logit differences max %.17g mean %.17g by chunks, %.17g %.17g in one call", what,
          b->max_logit_diff, b->mean_logit_diff, a->max_logit_diff, a->mean_logit_diff);
    int same = a->n_layers == b->n_layers;
    for (int i = 0; same && i < a->n_layers; i++)
        same = memcmp(&a->layers[i], &b->layers[i], sizeof a->layers[i]) == 0;
    CHECK(same, "%s: layer statistics differ", what);
    n += 3;
}

static void check_eval_chunks(const pact_model *m, const pact_dataset *test, const pact_calib *cal)
{
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_uniform("lsq:degree=7", m, cal, "resnet20", "", &plan, &err), &err);
    n++;
    if (!plan)
        return;
    struct { const char *what; int frac, batch; double noise; size_t images; } cases[] = {
        {"fp64, 100 images in chunks of 32", 0, 32, 0.0, 100},
        {"fixed point 2^-24 with noise, 12 images in chunks of 5", 24, 5, 1e-3, 12},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pact_pann_eval_opts eo;
        pact_pann_eval_opts_default(&eo);
        eo.batch = cases[c].batch;
        eo.max_images = cases[c].images;
        eo.arith.frac_bits = cases[c].frac;
        eo.arith.noise_sigma = cases[c].noise;
        eo.arith.seed = 7;
        pact_pann_report one, chunks;
        pact_pann_partial rev;
        memset(&chunks, 0, sizeof chunks);
        CHECK_OK(pact_pann_evaluate(m, test, plan, &eo, &one, &err), &err);
        n++;
        if (eval_by_chunks(m, test, plan, &eo, &chunks, &rev)) {
            compare_reports(cases[c].what, &one, &chunks);
            /* merged in reverse order: counts, minima and maxima still exact */
            int same = rev.images == one.images && rev.correct == one.correct &&
                       rev.agree == one.agree && same_bits(rev.max_logit_diff, one.max_logit_diff);
            for (int i = 0; same && i < rev.n_layers; i++)
                same = memcmp(&rev.layers[i], &one.layers[i], sizeof rev.layers[i]) == 0;
            CHECK(same, "%s: merged in reverse order, counts or extremes differ", cases[c].what);
            n++;
        }
        pact_pann_partial_free(&rev);
        pact_pann_report_free(&one);
        pact_pann_report_free(&chunks);
    }
    pact_plan_free(plan);
}

static void check_optimizer_items(const pact_model *m, const pact_dataset *train,
                                  const pact_calib *cal, const char *dir)
{
    pact_error err;
    pact_cost_profile *prof = NULL;
    pact_cost_layout *layout = NULL;
    CHECK_OK(pact_cost_profile_default(&prof, &err), &err);
    CHECK_OK(pact_cost_layout_resnet(prof, 20, &layout, &err), &err);
    n += 2;
    pact_optimize_opts o;
    pact_optimize_opts_default(&o);
    o.n_degrees = 2;
    o.degrees[0] = 3;
    o.degrees[1] = 7;
    o.n_floors = 1;
    o.floors[0] = 0.2;
    o.impact_images = 24;
    o.verify_images = 32;
    o.batch = 16;
    o.max_drop = 100.0; /* any plan passes: the point is identity, not quality */
    pact_optimizer *a = NULL, *b = NULL;
    CHECK_OK(pact_optimizer_create(m, train, cal, layout, prof, &o, "resnet20", "x", &a, &err), &err);
    CHECK_OK(pact_optimizer_create(m, train, cal, layout, prof, &o, "resnet20", "x", &b, &err), &err);
    n += 2;
    size_t items = a ? pact_optimizer_item_count(a) : 0;
    CHECK(items == (size_t)m->n_act * 2, "%zu impact items, expected %d", items, m->n_act * 2);
    n++;
    double *ia = calloc(items ? items : 1, sizeof *ia), *ib = calloc(items ? items : 1, sizeof *ib);
    int ok = a && b;
    for (size_t i = 0; ok && i < items; i++)
        ok = pact_optimizer_impact(a, i, &ia[i], &err) == PACT_OK;
    for (size_t i = items; ok && i-- > 0;)
        ok = pact_optimizer_impact(b, i, &ib[i], &err) == PACT_OK;
    CHECK(ok, "impact items: %s", err.message);
    n++;
    int same = ok;
    for (size_t i = 0; same && i < items; i++) {
        same = same_bits(ia[i], ib[i]) && ia[i] >= 0.0;
        if (!same) {
            int layer, degree;
            pact_optimizer_item(a, i, &layer, &degree, NULL, &err);
            CHECK(0, "item %zu (layer %d, degree %d): %.17g in order, %.17g in reverse", i, layer,
                  degree, ia[i], ib[i]);
        }
    }
    n++;
    pact_plan *p1 = NULL, *p2 = NULL;
    CHECK_OK(pact_optimize(m, train, cal, layout, prof, &o, "resnet20", "x", &p1, &err), &err);
    o.impacts = ib;
    o.n_impacts = items;
    CHECK_OK(pact_optimize(m, train, cal, layout, prof, &o, "resnet20", "x", &p2, &err), &err);
    o.n_impacts = items - 1;
    pact_plan *p3 = NULL;
    pact_status st = pact_optimize(m, train, cal, layout, prof, &o, "resnet20", "x", &p3, &err);
    CHECK(st == PACT_EMISMATCH && !p3, "one impact short: %s", pact_status_str(st));
    n += 3;
    if (p1 && p2) {
        char f1[256], f2[256], cmd[600];
        snprintf(f1, sizeof f1, "%s/measured.json", dir);
        snprintf(f2, sizeof f2, "%s/given.json", dir);
        CHECK_OK(pact_plan_save(p1, f1, &err), &err);
        CHECK_OK(pact_plan_save(p2, f2, &err), &err);
        snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", f1, f2);
        CHECK(pact_test_run(cmd, NULL, 0) == 0, "plans differ: %s %s", f1, f2);
        n += 3;
    }
    /* the ask/tell contract */
    int choices[64], done = 0;
    CHECK(a && pact_optimizer_next(a, choices, &done, &err) == PACT_EINVAL,
          "next before the impacts are set accepted");
    CHECK(a && pact_optimizer_tell(a, 90.0, 90.0, 100.0, &err) == PACT_EINVAL, "tell without a plan accepted");
    ia[0] = NAN;
    CHECK(a && pact_optimizer_set_impacts(a, ia, items, &err) == PACT_EINVAL, "a NaN impact accepted");
    n += 3;
    pact_plan_free(p1);
    pact_plan_free(p2);
    pact_optimizer_free(a);
    pact_optimizer_free(b);
    free(ia);
    free(ib);
    pact_cost_layout_free(layout);
    pact_cost_profile_free(prof);
}

int main(void)
{
    const char *mp = pact_test_data("models/resnet20.safetensors");
    char *model = mp ? strdup(mp) : NULL;
    const char *tp = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    char *testp = tp ? strdup(tp) : NULL;
    const char *rp = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    char *trainp = rp ? strdup(rp) : NULL;
    CHECK(model && testp && trainp, "shared model or images missing");
    if (!model || !testp || !trainp)
        return pact_test_done("test_scaleout", 0);
    char dir[] = "/tmp/pact_scaleout_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    pact_error err;
    pact_net *net = NULL;
    pact_dataset *test = NULL, *train = NULL;
    pact_calib *cal = NULL;
    CHECK_OK(pact_net_load(model, NULL, &net, &err), &err);
    CHECK_OK(pact_cifar_load(testp, PACT_SPLIT_TEST, 100, &test, &err), &err);
    CHECK_OK(pact_cifar_load(trainp, PACT_SPLIT_TRAIN, 64, &train, &err), &err);
    n += 4;
    if (net && test && train) {
        pact_model m;
        pact_net_model(net, &m);
        pact_calib_opts co = {0};
        co.bins = 256;
        CHECK_OK(pact_calibrate(&m, train, &co, &cal, &err), &err);
        n++;
        check_memory_loaders(model, test);
        if (cal) {
            check_eval_chunks(&m, test, cal);
            check_optimizer_items(&m, train, cal, dir);
        }
    }
    pact_calib_free(cal);
    pact_dataset_free(test);
    pact_dataset_free(train);
    pact_net_free(net);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    pact_test_run(cmd, NULL, 0);
    free(model);
    free(testp);
    free(trainp);
    return pact_test_done("test_scaleout", n);
}
