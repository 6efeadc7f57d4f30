/* Calibration of ResNet-20 against the PyTorch reference (run live): per-layer
 * count, min, max, mean and std on the shared training images; quantiles from
 * the histogram within one bin width of PyTorch's exact order statistics; and
 * reproducibility: chunks computed out of order (as distributed workers would)
 * and any number of engine threads give byte-identical calibration files.
 * Args: [images (1017; 128 under ASan)]. */
#include "nn_ref.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_IMAGES 128
#else
#define DEFAULT_IMAGES 1017
#endif
#define QUANTILE_IMAGES 128

static char *model_path, *data_path;

static cJSON *reference(int images, const char *levels)
{
    char args[8192];
    snprintf(args, sizeof args, "calib --threads 1 --model %s --data %s --images %d%s%s",
             model_path, data_path, images, levels ? " --exact-quantiles " : "",
             levels ? levels : "");
    char *out = nn_ref_run(args);
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    free(out);
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(j, "layers");
    CHECK(cJSON_IsArray(layers), "no reference layers");
    return j;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static pact_calib *calibrate(const pact_net *net, const pact_dataset *ds, size_t images,
                             const pact_calib_opts *base)
{
    pact_model m;
    pact_net_model(net, &m);
    pact_calib_opts o = base ? *base : (pact_calib_opts){0};
    o.max_images = images;
    pact_calib *c = NULL;
    pact_error err;
    CHECK_OK(pact_calibrate(&m, ds, &o, &c, &err), &err);
    return c;
}

static const double levels[] = {0.001, 0.01, 0.5, 0.99, 0.999};
#define LEVELS "0.001,0.01,0.5,0.99,0.999"

/* count, min, max, mean, std of every layer against PyTorch */
static int check_ranges(const cJSON *ref, const pact_calib *c, int images)
{
    int n = 0;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(ref, "layers");
    if (!c || !cJSON_IsArray(layers))
        return 1;
    CHECK(pact_calib_layer_count(c) == 19 && cJSON_GetArraySize(layers) == 19,
          "ResNet-20 has 19 activation layers: polyact %d, PyTorch %d",
          pact_calib_layer_count(c), cJSON_GetArraySize(layers));
    n++;
    double worst[4] = {0, 0, 0, 0};
    int i = 0;
    for (const cJSON *r = layers->child; r && i < pact_calib_layer_count(c); r = r->next, i++) {
        const pact_calib_layer *l = pact_calib_layer_at(c, i);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "name");
        CHECK(cJSON_IsString(name) && strcmp(name->valuestring, l->name) == 0,
              "layer %d: polyact %s, PyTorch %s", i, l->name,
              cJSON_IsString(name) ? name->valuestring : "?");
        CHECK((double)l->count == num(r, "count"), "%s: count %llu, PyTorch %.0f", l->name,
              (unsigned long long)l->count, num(r, "count"));
        double d[4] = {fabs(l->min - num(r, "min")), fabs(l->max - num(r, "max")),
                       fabs(l->mean - num(r, "mean")), fabs(l->std - num(r, "std"))};
        CHECK(d[0] <= 1e-3 && d[1] <= 1e-3,
              "%s: range [%.6f, %.6f], PyTorch [%.6f, %.6f]", l->name, l->min, l->max,
              num(r, "min"), num(r, "max"));
        CHECK(d[2] <= 1e-4 && d[3] <= 1e-4, "%s: mean %.7f std %.7f, PyTorch %.7f %.7f",
              l->name, l->mean, l->std, num(r, "mean"), num(r, "std"));
        for (int k = 0; k < 4; k++)
            worst[k] = d[k] > worst[k] || isnan(d[k]) ? d[k] : worst[k];
        n += 4;
    }
    printf("%d images: max |polyact - PyTorch| over 19 layers: min %.3g, max %.3g, mean %.3g, "
           "std %.3g\n",
           images, worst[0], worst[1], worst[2], worst[3]);
    return n;
}

/* quantiles from the histogram vs exact order statistics */
static int check_quantiles(const cJSON *ref, const pact_calib *c)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(ref, "layers");
    int n = 0, i = 0;
    double worst = 0.0;
    for (const cJSON *r = layers ? layers->child : NULL; c && r; r = r->next, i++) {
        const pact_calib_layer *l = pact_calib_layer_at(c, i);
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(r, "quantiles");
        if (!l || !cJSON_IsArray(q) || cJSON_GetArraySize(q) != 5)
            break;
        const double width = (l->max - l->min) / l->bins;
        int k = 0;
        for (const cJSON *v = q->child; v; v = v->next, k++) {
            double e = fabs(l->quantiles[k] - v->valuedouble);
            /* one bin width, plus float slack at bin edges */
            CHECK(e <= width * (1 + 1e-6) + 1e-6,
                  "%s q=%g: polyact %.6f, PyTorch %.6f, error %.3g > bin width %.3g", l->name,
                  levels[k], l->quantiles[k], v->valuedouble, e, width);
            worst = e / width > worst ? e / width : worst;
            n++;
        }
    }
    CHECK(n == 19 * 5, "compared %d quantiles, expected 95", n);
    printf("%d images: quantiles within %.3f bin widths of the exact order statistics\n",
           QUANTILE_IMAGES, worst);
    return n + 1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)size + 1);
    if (s && fread(s, 1, (size_t)size, f) == (size_t)size)
        s[size] = '\0';
    else {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

/* The same file whatever the order chunks are computed in and the threads. */
static int check_reproducible(const pact_dataset *ds)
{
    /* 5 chunks, the last one short */
#if defined(__SANITIZE_ADDRESS__)
    const size_t images = 36;
    const int chunk = 8;
#else
    const size_t images = 136;
    const int chunk = 32;
#endif
    pact_error err;
    pact_net *net2 = NULL;
    pact_net_opts no = {.threads = 2};
    CHECK_OK(pact_net_load(model_path, &no, &net2, &err), &err);
    pact_net *net1 = NULL;
    CHECK_OK(pact_net_load(model_path, NULL, &net1, &err), &err);
    if (!net1 || !net2)
        return 1;
    pact_calib_opts o = {.max_images = images, .chunk_images = chunk};
    pact_calib *a = calibrate(net1, ds, images, &o);
    pact_calib *b = calibrate(net2, ds, images, &o);

    /* chunks in reverse order, as other processes would deliver them */
    pact_model m;
    pact_net_model(net2, &m);
    size_t chunks = pact_calib_chunk_count(ds, &o);
    const size_t per = (size_t)m.n_act * PACT_CALIB_STATS;
    double *stats = calloc(chunks * per, sizeof(double)), *totals = calloc(per, sizeof(double));
    uint64_t *counts = calloc((size_t)m.n_act * 2048, sizeof(uint64_t));
    for (size_t c = chunks; c-- > 0;)
        CHECK_OK(pact_calib_stats_chunk(&m, ds, &o, c, stats + c * per, &err), &err);
    pact_calib_merge_stats(m.n_act, chunks, stats, totals);
    for (size_t c = chunks; c-- > 0;)
        CHECK_OK(pact_calib_hist_chunk(&m, ds, &o, totals, c, counts, &err), &err);
    pact_calib *d = NULL;
    CHECK_OK(pact_calib_build(&m, &o, images, totals, counts, &d, &err), &err);

    char pa[] = "/tmp/pact_calib_a_XXXXXX", pb[] = "/tmp/pact_calib_b_XXXXXX",
         pd[] = "/tmp/pact_calib_d_XXXXXX";
    int fa = mkstemp(pa), fb = mkstemp(pb), fd = mkstemp(pd);
    close(fa);
    close(fb);
    close(fd);
    if (a && b && d) {
        CHECK_OK(pact_calib_save(a, pa, &err), &err);
        CHECK_OK(pact_calib_save(b, pb, &err), &err);
        CHECK_OK(pact_calib_save(d, pd, &err), &err);
    }
    char *ta = slurp(pa), *tb = slurp(pb), *td = slurp(pd);
    CHECK(ta && tb && strcmp(ta, tb) == 0, "1 thread and 2 threads give different files");
    CHECK(ta && td && strcmp(ta, td) == 0, "chunks out of order give a different file");
    CHECK(chunks == 5, "%zu images in chunks of %d: %zu chunks", images, chunk, chunks);

    /* the file reads back to the same numbers and writes the same bytes */
    pact_calib *r = NULL;
    CHECK_OK(pact_calib_load(pa, &r, &err), &err);
    if (r && a) {
        int same = pact_calib_layer_count(r) == pact_calib_layer_count(a) &&
                   pact_calib_images(r) == images && strcmp(pact_calib_model_name(r), "") == 0;
        for (int i = 0; same && i < pact_calib_layer_count(a); i++) {
            const pact_calib_layer *x = pact_calib_layer_at(a, i), *y = pact_calib_layer_at(r, i);
            same = strcmp(x->name, y->name) == 0 && x->count == y->count && x->min == y->min &&
                   x->max == y->max && x->mean == y->mean && x->std == y->std &&
                   memcmp(x->histogram, y->histogram, sizeof(uint64_t) * 2048) == 0 &&
                   memcmp(x->quantiles, y->quantiles, sizeof(double) * 7) == 0;
        }
        CHECK(same, "calibration read back differs from the one written");
        CHECK_OK(pact_calib_save(r, pb, &err), &err);
        free(tb);
        tb = slurp(pb);
        CHECK(ta && tb && strcmp(ta, tb) == 0, "load + save changes the file");
    }
    remove(pa);
    remove(pb);
    remove(pd);
    free(ta);
    free(tb);
    free(td);
    free(stats);
    free(totals);
    free(counts);
    pact_calib_free(a);
    pact_calib_free(b);
    pact_calib_free(d);
    pact_calib_free(r);
    pact_net_free(net1);
    pact_net_free(net2);
    return 6;
}

int main(int argc, char **argv)
{
    int images = argc > 1 ? atoi(argv[1]) : DEFAULT_IMAGES;
    const char *p = pact_test_data("models/resnet20.safetensors");
    model_path = p ? strdup(p) : NULL;
    p = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    data_path = p ? strdup(p) : NULL;
    CHECK(model_path && data_path, "shared data missing");
    if (!model_path || !data_path)
        return pact_test_done("test_calibrate", 1);
    pact_error err;
    pact_net *net = NULL;
    pact_dataset *ds = NULL;
    pact_net_opts no = {.threads = 2};
    CHECK_OK(pact_net_load(model_path, &no, &net, &err), &err);
    CHECK_OK(pact_cifar_load(data_path, PACT_SPLIT_TRAIN, 0, &ds, &err), &err);
    int n = 2;
    if (net && ds) {
        /* quantiles need every value in PyTorch: a subset; ranges on all
         * images (one run of each side when they are the same images) */
        pact_calib_opts qo = {.n_quantiles = 5, .quantiles = levels};
        cJSON *qref = reference(QUANTILE_IMAGES, LEVELS);
        pact_calib *qc = calibrate(net, ds, QUANTILE_IMAGES, &qo);
        n += check_quantiles(qref, qc);
        if (images == QUANTILE_IMAGES) {
            n += check_ranges(qref, qc, images);
        } else {
            cJSON *ref = reference(images, NULL);
            pact_calib *c = calibrate(net, ds, (size_t)images, NULL);
            n += check_ranges(ref, c, images);
            cJSON_Delete(ref);
            pact_calib_free(c);
        }
        cJSON_Delete(qref);
        pact_calib_free(qc);
        n += check_reproducible(ds);
    }
    pact_net_free(net);
    pact_dataset_free(ds);
    free(model_path);
    free(data_path);
    return pact_test_done("test_calibrate", n);
}
