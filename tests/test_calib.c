/* Calibration through the model interface on a toy model whose layer inputs
 * are known: statistics against a direct computation over all values (sorted
 * for quantiles), independence from the chunk size, calib.json round trip and
 * rejection of malformed files. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { IMAGES = 150, PIX = 3072 };

/* Toy network: layer 0 sees 4 x - 1.5 of every pixel x, layer 1 sees
 * relu(layer 0) - 0.25; logits are sums of the last activations. */
static const char *const names[2] = {"toy.relu0", "toy.relu1"};
static const pact_func funcs[2] = {PACT_RELU, PACT_RELU};

static pact_status toy_forward(void *ctx, const float *in, int batch, pact_act_hook hook,
                               void *hook_ctx, float *logits, pact_error *err)
{
    (void)ctx;
    size_t n = (size_t)batch * PIX;
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = 4.0f * in[i] - 1.5f;
    for (int layer = 0; layer < 2; layer++) {
        if (layer == 1)
            for (size_t i = 0; i < n; i++)
                x[i] -= 0.25f;
        pact_status st = hook(hook_ctx, layer, x, batch, 3, 1024, err);
        if (st != PACT_OK) {
            free(x);
            return st;
        }
    }
    for (int b = 0; b < batch; b++)
        for (int k = 0; k < 10; k++)
            logits[b * 10 + k] = x[(size_t)b * PIX + (size_t)k];
    free(x);
    return PACT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int n;

static void write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, size, f);
    fclose(f);
}

static void expect_reject(const char *dir, const char *tag, const char *text, const char *needle)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.json", dir, tag);
    write_bytes(path, text, strlen(text));
    pact_calib *c = NULL;
    pact_error err = {0};
    pact_status st = pact_calib_load(path, &c, &err);
    CHECK(st == PACT_EFORMAT && c == NULL && strstr(err.message, path) && strstr(err.message, needle),
          "%s: %s '%s' should name the file and '%s'", tag, pact_status_str(st), err.message, needle);
    pact_calib_free(c);
    n++;
}

int main(void)
{
    char dir[] = "/tmp/pact_test_calib_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    /* a CIFAR file of IMAGES records with pseudo-random pixels */
    unsigned char *rec = malloc((size_t)IMAGES * 3073);
    unsigned s = 1;
    for (size_t i = 0; i < (size_t)IMAGES * 3073; i++) {
        s = s * 1103515245u + 12345u;
        rec[i] = (unsigned char)(s >> 16);
    }
    for (int i = 0; i < IMAGES; i++)
        rec[(size_t)i * 3073] = (unsigned char)(i % 10);
    char data_path[600];
    snprintf(data_path, sizeof data_path, "%s/toy.bin", dir);
    write_bytes(data_path, rec, (size_t)IMAGES * 3073);
    free(rec);

    pact_error err;
    pact_dataset *ds = NULL;
    CHECK_OK(pact_cifar_load(data_path, PACT_SPLIT_TEST, 0, &ds, &err), &err);
    if (!ds)
        return pact_test_done("test_calib", 0);
    pact_model model = {.ctx = NULL, .n_act = 2, .act_names = names, .act_funcs = funcs,
                        .input_size = PIX, .n_classes = 10, .forward = toy_forward};

    pact_calib_opts o;
    pact_calib_opts_default(&o);
    o.bins = 512;
    o.model_name = "toy";
    pact_calib *cal = NULL;
    CHECK_OK(pact_calibrate(&model, ds, &o, &cal, &err), &err);
    n++;

    /* direct computation over every value, from the same float inputs */
    size_t total = (size_t)IMAGES * PIX;
    double *vals = malloc(total * sizeof *vals);
    float *img = malloc(total * sizeof *img);
    pact_dataset_images_f32(ds, 0, IMAGES, img, &err);
    for (int layer = 0; cal && layer < 2; layer++) {
        long double sum = 0;
        for (size_t i = 0; i < total; i++) {
            float v = 4.0f * img[i] - 1.5f;
            if (layer == 1)
                v = (v > 0.0f ? v : 0.0f) - 0.25f;
            vals[i] = v;
            sum += v;
        }
        double mean = (double)(sum / (long double)total);
        long double ss = 0;
        for (size_t i = 0; i < total; i++)
            ss += ((long double)vals[i] - mean) * ((long double)vals[i] - mean);
        double sd = sqrt((double)(ss / (long double)total));
        qsort(vals, total, sizeof *vals, cmp_double);
        pact_calib_layer l;
        CHECK_OK(pact_calib_layer_get(cal, layer, &l, &err), &err);
        CHECK(l.count == total, "layer %d count %llu, direct %zu", layer, (unsigned long long)l.count, total);
        CHECK(l.min == vals[0] && l.max == vals[total - 1], "layer %d range [%g, %g], direct [%g, %g]",
              layer, l.min, l.max, vals[0], vals[total - 1]);
        CHECK(fabs(l.mean - mean) <= 1e-12 * (1 + fabs(mean)) && fabs(l.std - sd) <= 1e-12 * sd,
              "layer %d mean %.17g std %.17g, direct %.17g %.17g", layer, l.mean, l.std, mean, sd);
        double width = (l.max - l.min) / l.bins, csum = 0;
        for (int k = 0; k < l.bins; k++)
            csum += l.counts[k];
        CHECK(csum == (double)total, "layer %d histogram sums to %g", layer, csum);
        for (int q = 0; q < l.n_quantiles; q++) {
            double exact = vals[(size_t)floor(l.quantile_p[q] * (double)(total - 1))];
            CHECK(fabs(l.quantile_x[q] - exact) <= width * 1.0000001,
                  "layer %d q%g = %.6g, sorted %.6g, bin width %.3g", layer, l.quantile_p[q],
                  l.quantile_x[q], exact, width);
            n++;
        }
        n += 5;
    }
    free(vals);
    free(img);

    /* chunking does not change ranges or histograms */
    pact_calib_opts o2 = o;
    o2.batch = 17;
    pact_calib *cal2 = NULL;
    CHECK_OK(pact_calibrate(&model, ds, &o2, &cal2, &err), &err);
    for (int layer = 0; cal && cal2 && layer < 2; layer++) {
        pact_calib_layer a, b;
        pact_calib_layer_get(cal, layer, &a, &err);
        pact_calib_layer_get(cal2, layer, &b, &err);
        CHECK(a.min == b.min && a.max == b.max && !memcmp(a.counts, b.counts, (size_t)a.bins * sizeof(double)),
              "layer %d: batch 17 gives the same range and histogram", layer);
        CHECK(fabs(a.mean - b.mean) <= 1e-12 * (1 + fabs(a.mean)) && fabs(a.std - b.std) <= 1e-12 * a.std,
              "layer %d moments: batch 64 %.17g %.17g, batch 17 %.17g %.17g", layer, a.mean, a.std, b.mean, b.std);
        n += 2;
    }
    pact_calib_free(cal2);

    /* round trip: identical statistics, byte-identical re-save */
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s/c1.json", dir);
    snprintf(p2, sizeof p2, "%s/c2.json", dir);
    pact_calib *back = NULL;
    if (cal) {
        CHECK_OK(pact_calib_save(cal, p1, &err), &err);
        CHECK_OK(pact_calib_load(p1, &back, &err), &err);
        n += 2;
    }
    if (back) {
        CHECK_OK(pact_calib_save(back, p2, &err), &err);
        char cmd[1300];
        snprintf(cmd, sizeof cmd, "cmp -s %s %s", p1, p2);
        CHECK(system(cmd) == 0, "re-saved calibration is byte-identical");
        for (int layer = 0; layer < 2; layer++) {
            pact_calib_layer a, b;
            pact_calib_layer_get(cal, layer, &a, &err);
            pact_calib_layer_get(back, layer, &b, &err);
            CHECK(a.min == b.min && a.max == b.max && a.mean == b.mean && a.std == b.std &&
                      a.count == b.count && !strcmp(a.name, b.name),
                  "layer %d survives the round trip exactly", layer);
            CHECK(pact_calib_quantile(cal, layer, 0.3) == pact_calib_quantile(back, layer, 0.3), "quantile");
            n += 2;
        }
        CHECK(pact_calib_find(back, "toy.relu1") == 1 && pact_calib_find(back, "nope") == -1, "find");
        n += 2;
    }
    pact_calib_free(back);

    /* hostile files */
    const char *h = "{\"format\":\"polyact-calib\",\"version\":1,\"model\":{\"name\":\"m\",\"sha256\":\"\"},"
                    "\"data\":{\"name\":\"d\",\"images\":1},\"layers\":[";
    char buf[2048];
    expect_reject(dir, "json", "{\"format\":", "not valid JSON");
    expect_reject(dir, "version", "{\"format\":\"polyact-calib\",\"version\":2}", "version");
    snprintf(buf, sizeof buf, "%s]}", h);
    expect_reject(dir, "empty", buf, "layers");
    const char *lay = "{\"index\":0,\"name\":\"r\",\"func\":\"relu\",\"count\":3,\"min\":%s,\"max\":1,"
                      "\"mean\":0,\"m2\":1,\"quantiles\":{\"p\":[0.5]},\"histogram\":{\"min\":-1,\"max\":1,"
                      "\"bins\":2,\"counts\":[%s]}}]}";
    char l1[1024];
    snprintf(l1, sizeof l1, lay, "-1", "1,1");
    snprintf(buf, sizeof buf, "%s%s", h, l1);
    expect_reject(dir, "sum", buf, "sum to 2");
    snprintf(l1, sizeof l1, lay, "2", "1,2");
    snprintf(buf, sizeof buf, "%s%s", h, l1);
    expect_reject(dir, "minmax", buf, "min");
    snprintf(l1, sizeof l1, lay, "-1", "1,-2");
    snprintf(buf, sizeof buf, "%s%s", h, l1);
    expect_reject(dir, "negative", buf, "count");
    snprintf(l1, sizeof l1, lay, "-1", "1,2,0");
    snprintf(buf, sizeof buf, "%s%s", h, l1);
    expect_reject(dir, "bins", buf, "counts");
    snprintf(l1, sizeof l1, lay, "-1", "1,2");
    snprintf(buf, sizeof buf, "%s%s", h, l1);
    pact_calib *ok = NULL;
    char okp[600];
    snprintf(okp, sizeof okp, "%s/ok.json", dir);
    write_bytes(okp, buf, strlen(buf));
    CHECK_OK(pact_calib_load(okp, &ok, &err), &err); /* the template itself is valid */
    n++;
    pact_calib_free(ok);

    pact_calib_opts bad = o;
    bad.bins = 0;
    CHECK(pact_calibrate(&model, ds, &bad, &cal2, &err) == PACT_EINVAL, "bins 0 refused");
    n++;
    pact_calib_free(cal);
    pact_calib_free(NULL);
    pact_dataset_free(ds);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return pact_test_done("test_calib", n);
}
