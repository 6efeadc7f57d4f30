/* The sequential refit ("error-aware fitting", src/pann/refit.c) on a small
 * two-layer network written here, with and without a split forward pass:
 * against the exact network's activation outputs, the refit of layer 1 on the
 * PANN's inputs beats the plain fit on the exact inputs when layer 0 is
 * approximated coarsely (what it is for), a high-degree refit reproduces the
 * network, and the result does not depend on whether the model can split
 * (bit for bit) nor on the run. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "pann/refit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PIX = 3072, CH = 2, SP = 16, IMAGES = 96 };

static const char *const names[2] = {"act0", "act1"};
static const pact_func funcs[2] = {PACT_RELU, PACT_RELU};
static const float W0[CH] = {2.5f, -3.0f}, B0[CH] = {0.2f, -0.1f};
static const float M1[CH][CH] = {{1.5f, -0.8f}, {0.7f, 1.1f}}, B1[CH] = {-0.4f, 0.3f};

static void layer0(const float *in, float *z)
{
    for (int c = 0; c < CH; c++)
        for (int s = 0; s < SP; s++)
            z[c * SP + s] = W0[c] * (in[s * 37] - 0.5f) + B0[c];
}

static void layer1(const float *a0, float *z)
{
    for (int c = 0; c < CH; c++)
        for (int s = 0; s < SP; s++)
            z[c * SP + s] = M1[c][0] * a0[s] + M1[c][1] * a0[SP + s] + B1[c];
}

static void head(const float *a1, float *logits)
{
    for (int k = 0; k < 10; k++) {
        float v = 0.0f;
        for (int i = 0; i < CH * SP; i++)
            v += (float)((k * 7 + i * 3) % 11 - 5) * a1[i];
        logits[k] = v / (CH * SP);
    }
}

static pact_status act(pact_act_hook hook, void *ctx, int layer, float *x, int batch,
                       pact_error *err)
{
    if (hook)
        return hook(ctx, layer, x, batch, CH, SP, err);
    for (int i = 0; i < batch * CH * SP; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return PACT_OK;
}

/* Runs activation layers from..1 on z (the input of layer `from`, batch
 * images) and writes the logits. */
static pact_status run_from(int from, float *z, int batch, pact_act_hook hook, void *ctx,
                            float *logits, pact_error *err)
{
    pact_status st = PACT_OK;
    float *z1 = malloc(sizeof(float) * (size_t)batch * CH * SP);
    if (from == 0) {
        st = act(hook, ctx, 0, z, batch, err);
        for (int b = 0; st == PACT_OK && b < batch; b++)
            layer1(z + b * CH * SP, z1 + b * CH * SP);
    } else {
        memcpy(z1, z, sizeof(float) * (size_t)batch * CH * SP);
    }
    if (st == PACT_OK)
        st = act(hook, ctx, 1, z1, batch, err);
    for (int b = 0; st == PACT_OK && b < batch; b++)
        head(z1 + b * CH * SP, logits + b * 10);
    free(z1);
    return st;
}

static pact_status fwd(void *ctx, const float *in, int batch, pact_act_hook hook, void *hctx,
                       float *logits, pact_error *err)
{
    (void)ctx;
    float *z = malloc(sizeof(float) * (size_t)batch * CH * SP);
    for (int b = 0; b < batch; b++)
        layer0(in + (size_t)b * PIX, z + b * CH * SP);
    pact_status st = run_from(0, z, batch, hook, hctx, logits, err);
    free(z);
    return st;
}

static size_t state_size(void *ctx, int layer)
{
    (void)ctx;
    return layer >= 0 && layer < 2 ? CH * SP : 0;
}

static pact_status fwd_to(void *ctx, const float *in, int batch, int layer, pact_act_hook hook,
                          void *hctx, float *state, pact_error *err)
{
    (void)ctx;
    pact_status st = PACT_OK;
    for (int b = 0; b < batch; b++)
        layer0(in + (size_t)b * PIX, state + b * CH * SP);
    if (layer == 1) {
        st = act(hook, hctx, 0, state, batch, err);
        float a0[CH * SP];
        for (int b = 0; st == PACT_OK && b < batch; b++) {
            memcpy(a0, state + b * CH * SP, sizeof a0);
            layer1(a0, state + b * CH * SP);
        }
    }
    return st;
}

static pact_status fwd_from(void *ctx, int layer, const float *state, int batch,
                            pact_act_hook hook, void *hctx, float *logits, pact_error *err)
{
    (void)ctx;
    float *z = malloc(sizeof(float) * (size_t)batch * CH * SP);
    memcpy(z, state, sizeof(float) * (size_t)batch * CH * SP);
    pact_status st = run_from(layer, z, batch, hook, hctx, logits, err);
    free(z);
    return st;
}

/* Inputs of layer `k` of every image, in the PANN of polys (layers < k) or
 * the exact network (polys NULL); outputs of layer k when `apply` is given. */
typedef struct {
    const pact_group_poly *polys, *apply;
    int k;
    float *out;
    size_t at;
} probe;

static pact_status probe_hook(void *vctx, int layer, float *x, int batch, int channels,
                              int spatial, pact_error *err)
{
    (void)err;
    probe *p = vctx;
    size_t cnt = (size_t)batch * (size_t)channels * (size_t)spatial;
    if (layer < p->k && p->polys) {
        pact_group_poly_apply(&p->polys[layer], x, (size_t)batch, channels, (size_t)spatial);
        return PACT_OK;
    }
    if (layer == p->k && p->apply)
        pact_group_poly_apply(p->apply, x, (size_t)batch, channels, (size_t)spatial);
    else
        for (size_t i = 0; i < cnt; i++)
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    if (layer == p->k) {
        memcpy(p->out + p->at, x, cnt * sizeof *x);
        p->at += cnt;
    }
    return PACT_OK;
}

/* Layer k's outputs over all images: exact (polys NULL), or the PANN whose
 * layers < k are polys and layer k is `apply`. */
static void outputs(const pact_model *m, const pact_dataset *ds, int k, const pact_group_poly *polys,
                    const pact_group_poly *apply, float *out)
{
    probe p = {polys, apply, k, out, 0};
    static float in[16 * PIX], logits[16 * 10];
    pact_error err;
    for (int i = 0; i < IMAGES; i += 16) {
        pact_dataset_images_f32(ds, (size_t)i, 16, in, &err);
        CHECK_OK(m->forward(m->ctx, in, 16, probe_hook, &p, logits, &err), &err);
    }
}

static double mse(const float *a, const float *b, size_t cnt)
{
    double s = 0.0;
    for (size_t i = 0; i < cnt; i++)
        s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return s / (double)cnt;
}

/* The plain per-channel fit of layer k on the exact inputs (what the
 * optimizer's candidates are), on the interval rule the refit uses. */
static void plain_fit(const pact_model *m, const pact_dataset *ds, int k, int degree,
                      pact_group_poly *gp)
{
    pact_error err;
    pact_act_ranges r;
    CHECK_OK(pact_act_ranges_measure(m, ds, IMAGES, 16, &r, &err), &err);
    double a[CH], b[CH], lo = INFINITY, hi = -INFINITY;
    for (int c = 0; c < CH; c++)
        lo = fmin(lo, r.lo[k][c]), hi = fmax(hi, r.hi[k][c]);
    for (int c = 0; c < CH; c++)
        pact_channel_interval(r.lo[k][c], r.hi[k][c], lo, hi, 0.05, &a[c], &b[c]);
    pact_bins bins[2] = {{0}, {0}};
    CHECK_OK(pact_bins_init(&bins[0], CH, PACT_REFIT_BINS, a, b, &err), &err);
    CHECK_OK(pact_bins_init(&bins[1], CH, PACT_REFIT_BINS, a, b, &err), &err);
    CHECK_OK(pact_act_bins_measure(m, ds, IMAGES, 16, bins, &err), &err);
    CHECK_OK(pact_group_poly_init(gp, CH, degree, &err), &err);
    for (int c = 0; c < CH; c++) {
        pact_moments mo;
        CHECK_OK(pact_bins_moments(&bins[k], c, PACT_RELU, 0, degree, &mo, &err), &err);
        CHECK_OK(pact_moments_solve(&mo, degree, 0.002, gp->cheb + c * (degree + 1), &err), &err);
        gp->a[c] = a[c];
        gp->b[c] = b[c];
        pact_moments_free(&mo);
    }
    pact_bins_free(&bins[0]);
    pact_bins_free(&bins[1]);
    pact_act_ranges_free(&r);
}

int main(void)
{
    int n = 0;
    char dir[] = "/tmp/pact_test_refit_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[600];
    snprintf(path, sizeof path, "%s/d.bin", dir);
    pact_test_write_cifar(path, IMAGES, 0, 0, 99);
    pact_error err;
    pact_dataset *ds = NULL;
    CHECK_OK(pact_cifar_load(path, PACT_SPLIT_TRAIN, 0, &ds, &err), &err);
    n++;
    if (!ds)
        return pact_test_done("test_refit", n);
    pact_model split = {.n_act = 2, .act_names = names, .act_funcs = funcs, .input_size = PIX,
                        .n_classes = 10, .forward = fwd, .state_size = state_size,
                        .forward_to = fwd_to, .forward_from = fwd_from};
    pact_model whole = split;
    whole.state_size = NULL;
    whole.forward_to = NULL;
    whole.forward_from = NULL;

    const size_t cnt = (size_t)IMAGES * CH * SP;
    float *exact1 = malloc(cnt * sizeof(float)), *got = malloc(cnt * sizeof(float));
    outputs(&whole, ds, 1, NULL, NULL, exact1);

    /* layer 0 coarse (a line per channel), layer 1 degree 7 */
    const int deg[2] = {1, 7};
    const double fl[2] = {0.002, 0.002};
    pact_group_poly ref[2], ref_whole[2], again[2], plain1;
    CHECK_OK(pact_refit(&split, ds, IMAGES, 16, deg, fl, 1, 0.05, NULL, ref, &err), &err);
    CHECK_OK(pact_refit(&whole, ds, IMAGES, 16, deg, fl, 1, 0.05, NULL, ref_whole, &err), &err);
    CHECK_OK(pact_refit(&split, ds, IMAGES, 16, deg, fl, 1, 0.05, NULL, again, &err), &err);
    n += 3;
    for (int l = 0; l < 2; l++) {
        size_t m = (size_t)CH * (size_t)(deg[l] + 1);
        CHECK(ref[l].groups == CH && ref_whole[l].groups == CH && ref[l].degree == deg[l],
              "layer %d: %d groups (want %d), degree %d", l, ref[l].groups, CH, ref[l].degree);
        CHECK(memcmp(ref[l].cheb, ref_whole[l].cheb, m * sizeof(double)) == 0 &&
                  memcmp(ref[l].a, ref_whole[l].a, CH * sizeof(double)) == 0,
              "layer %d: the refit depends on whether the model splits", l);
        CHECK(memcmp(ref[l].cheb, again[l].cheb, m * sizeof(double)) == 0,
              "layer %d: two refits differ", l);
        n += 3;
    }
    /* against the exact outputs of layer 1: the refit of layer 1 on the PANN's
     * inputs, versus the plain fit on the exact inputs, both after the same
     * refitted layer 0 */
    plain_fit(&whole, ds, 1, 7, &plain1);
    outputs(&whole, ds, 1, ref, &ref[1], got);
    double e_refit = mse(got, exact1, cnt);
    outputs(&whole, ds, 1, ref, &plain1, got);
    double e_plain = mse(got, exact1, cnt);
    CHECK(e_refit < 0.7 * e_plain,
          "layer 1 output error: refit %.4g, plain fit %.4g (the refit should compensate layer 0)",
          e_refit, e_plain);
    n++;

    /* one polynomial per layer: one group */
    pact_group_poly one[2];
    CHECK_OK(pact_refit(&split, ds, IMAGES, 16, deg, fl, 0, 0.05, NULL, one, &err), &err);
    CHECK(one[0].groups == 1 && one[1].groups == 1, "per layer: %d, %d groups", one[0].groups,
          one[1].groups);
    n += 2;

    /* high degree everywhere: the PANN reproduces the network */
    const int hi[2] = {15, 15};
    pact_group_poly fine[2];
    CHECK_OK(pact_refit(&split, ds, IMAGES, 16, hi, fl, 1, 0.05, NULL, fine, &err), &err);
    outputs(&whole, ds, 1, fine, &fine[1], got);
    double scale = 0.0;
    for (size_t i = 0; i < cnt; i++)
        scale = fmax(scale, fabs(exact1[i]));
    double worst = 0.0;
    for (size_t i = 0; i < cnt; i++)
        worst = fmax(worst, fabs(got[i] - exact1[i]));
    CHECK(worst < 0.05 * scale, "degree 15: layer 1 outputs within %g of exact (scale %g)", worst,
          scale);
    n += 2;

    /* cover: the refit interval contains the given one */
    pact_group_poly wide;
    CHECK_OK(pact_group_poly_init(&wide, CH, 0, &err), &err);
    for (int c = 0; c < CH; c++)
        wide.a[c] = -50.0 - c, wide.b[c] = 60.0 + c;
    const pact_group_poly *cover[2] = {&wide, NULL};
    pact_group_poly cov[2];
    CHECK_OK(pact_refit(&split, ds, IMAGES, 16, deg, fl, 1, 0.05, cover, cov, &err), &err);
    CHECK(cov[0].a[1] == -51.0 && cov[0].b[1] == 61.0 && cov[0].a[0] == -50.0,
          "cover: layer 0 channel 1 [%g, %g] (want [-51, 61]), channel 0 from %g (want -50)",
          cov[0].a[1], cov[0].b[1], cov[0].a[0]);
    n += 2;

    for (int l = 0; l < 2; l++) {
        pact_group_poly_free(&ref[l]);
        pact_group_poly_free(&ref_whole[l]);
        pact_group_poly_free(&again[l]);
        pact_group_poly_free(&one[l]);
        pact_group_poly_free(&fine[l]);
        pact_group_poly_free(&cov[l]);
    }
    pact_group_poly_free(&plain1);
    pact_group_poly_free(&wide);
    free(exact1);
    free(got);
    pact_dataset_free(ds);
    unlink(path);
    rmdir(dir);
    return pact_test_done("test_refit", n);
}
