/* Bring your own network: a CIFAR ResNet written by hand in plain C (its own
 * weights reader, convolution loops and buffers; nothing of polyact's
 * engine) that polyact calibrates, optimizes and evaluates through the model
 * interface, pact_model.
 *
 * What the network has to give polyact (see "The model interface" in
 * polyact.h): its activation layers' names and functions, and a forward
 * function that, at every activation, hands the activation's input to a hook
 * instead of applying the activation itself. Optionally it can split a
 * forward pass at an activation (state_size, forward_to, forward_from), which
 * makes the optimizer's impact measurements cheaper; this example does.
 *
 *   resnet_by_hand MODEL.safetensors TRAIN.bin TEST.bin PLAN.json
 *                  [--calib-images N] [--test-images N] [--impact-images N]
 *                  [--max-drop PP] [--predictions FILE]
 *
 * MODEL is a CIFAR ResNet-(6n+2) with option-A shortcuts (the shared
 * resnet20.safetensors); TRAIN and TEST are CIFAR-10 binary files. Writes the
 * plan and prints, for the first --test-images test images, the exact
 * network's and the polynomial network's (PANN's) accuracy and agreement, as
 * "backbone_correct=... pann_correct=... agree=... images=...". Layer names
 * are those of polyact's own engine, so the plan also applies to
 * `polyact eval --model MODEL --plan PLAN.json`. Like `polyact optimize`, it
 * exits 1 when even the most accurate plan loses more than --max-drop points
 * (default 0.5) on the calibration images, after writing and evaluating it. */
#define _POSIX_C_SOURCE 200809L /* isatty, fileno */
#include <polyact.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- a minimal safetensors reader (F32 tensors, trusting names) ------------ */

typedef struct {
    unsigned char *bytes;
    size_t size;
    const char *header; /* NUL-terminated copy of the JSON header */
    size_t data;        /* offset of the data buffer */
} weights_file;

static int read_weights(const char *path, weights_file *wf)
{
    memset(wf, 0, sizeof *wf);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    wf->bytes = size > 8 ? malloc((size_t)size + 1) : NULL;
    int ok = wf->bytes && fread(wf->bytes, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok)
        return 0;
    wf->size = (size_t)size;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | wf->bytes[i];
    if (n > wf->size - 8)
        return 0;
    char *h = malloc((size_t)n + 1);
    if (!h)
        return 0;
    memcpy(h, wf->bytes + 8, (size_t)n);
    h[n] = '\0';
    wf->header = h;
    wf->data = 8 + (size_t)n;
    return 1;
}

/* Tensor `name`: F32 of `count` floats, copied out; NULL if absent or other. */
static float *tensor(const weights_file *wf, const char *name, size_t count)
{
    char key[160];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *t = strstr(wf->header, key);
    if (!t)
        return NULL;
    const char *end = strchr(t, '}');
    const char *dt = strstr(t, "\"dtype\"");
    const char *off = strstr(t, "\"data_offsets\"");
    unsigned long long a, b;
    if (!end || !dt || !off || dt > end || off > end || !strstr(dt, "\"F32\"") ||
        strstr(dt, "\"F32\"") > end || sscanf(strchr(off, '[') + 1, "%llu , %llu", &a, &b) != 2 ||
        b - a != count * 4 || wf->data + b > wf->size || a > b)
        return NULL;
    float *v = malloc(count * sizeof *v);
    if (v)
        memcpy(v, wf->bytes + wf->data + a, count * sizeof *v); /* little-endian host */
    return v;
}

/* "k": "a,b,c" in __metadata__ */
static int metadata_triple(const weights_file *wf, const char *k, float v[3])
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", k);
    const char *t = strstr(wf->header, key);
    return t && sscanf(t + strlen(key), " \"%f,%f,%f\"", &v[0], &v[1], &v[2]) == 3;
}

/* --- the network ------------------------------------------------------------- */

typedef struct {
    int c_in, c_out, stride;
    float *w, *b; /* [c_out][c_in * 9], batch norm folded in */
} conv;

typedef struct {
    int n_blocks, width, classes, n_act;
    float mean[3], std[3];
    conv stem, *c1, *c2;       /* per block */
    float *fc_w, *fc_b;
    char **names;
    pact_func *funcs;
    int *act_c, *act_hw;       /* shape of each activation's input: channels, pixels */
    int *blk_hin;              /* per block: height of its input */
    size_t max_floats;         /* per image, of the largest tensor */
} resnet;

/* conv + batch norm, folded: w' = w g / sqrt(v + eps), b' = beta - m g / sqrt(v + eps) */
static int load_conv(const weights_file *wf, const char *cv, const char *bn, int c_in, int c_out,
                     int stride, conv *c)
{
    char n[128];
    c->c_in = c_in;
    c->c_out = c_out;
    c->stride = stride;
    snprintf(n, sizeof n, "%s.weight", cv);
    c->w = tensor(wf, n, (size_t)c_out * c_in * 9);
    float *p[4];
    const char *part[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++) {
        snprintf(n, sizeof n, "%s.%s", bn, part[i]);
        p[i] = tensor(wf, n, (size_t)c_out);
    }
    c->b = malloc(sizeof(float) * (size_t)c_out);
    int ok = c->w && p[0] && p[1] && p[2] && p[3] && c->b;
    for (int o = 0; ok && o < c_out; o++) {
        double s = (double)p[0][o] / sqrt((double)p[3][o] + 1e-5);
        for (int k = 0; k < c_in * 9; k++)
            c->w[(size_t)o * c_in * 9 + k] = (float)((double)c->w[(size_t)o * c_in * 9 + k] * s);
        c->b[o] = (float)((double)p[1][o] - (double)p[2][o] * s);
    }
    for (int i = 0; i < 4; i++)
        free(p[i]);
    return ok;
}

static int load_resnet(const char *path, resnet *r)
{
    weights_file wf;
    memset(r, 0, sizeof *r);
    if (!read_weights(path, &wf))
        return 0;
    char n[64];
    while (snprintf(n, sizeof n, "\"layer1.%d.conv1.weight\"", r->n_blocks), strstr(wf.header, n))
        r->n_blocks++;
    const char *lw = strstr(wf.header, "\"linear.weight\"");
    int classes = 0, feat = 0;
    int ok = r->n_blocks > 0 && lw && sscanf(strstr(lw, "\"shape\""), "\"shape\" : [ %d , %d", &classes, &feat) == 2;
    if (!ok) /* the shared files write the header without spaces */
        ok = r->n_blocks > 0 && lw && sscanf(strstr(lw, "\"shape\""), "\"shape\":[%d,%d", &classes, &feat) == 2;
    ok = ok && metadata_triple(&wf, "input_mean", r->mean) && metadata_triple(&wf, "input_std", r->std);
    r->classes = classes;
    r->width = feat / 4;
    const int w0 = r->width, nb = 3 * r->n_blocks;
    r->n_act = 1 + 2 * nb;
    r->c1 = calloc((size_t)nb, sizeof *r->c1);
    r->c2 = calloc((size_t)nb, sizeof *r->c2);
    r->names = calloc((size_t)r->n_act, sizeof *r->names);
    r->funcs = calloc((size_t)r->n_act, sizeof *r->funcs); /* PACT_RELU = 0 */
    r->act_c = calloc((size_t)r->n_act, sizeof(int));
    r->act_hw = calloc((size_t)r->n_act, sizeof(int));
    r->blk_hin = calloc((size_t)nb, sizeof(int));
    ok = ok && w0 > 0 && r->c1 && r->c2 && r->names && r->funcs && r->act_c && r->act_hw && r->blk_hin &&
         load_conv(&wf, "conv1", "bn1", 3, w0, 1, &r->stem);
    if (ok && (r->names[0] = malloc(5)))
        memcpy(r->names[0], "relu", 5);
    r->act_c[0] = w0;
    r->act_hw[0] = 32 * 32;
    int c = w0, hw = 32;
    for (int b = 0; ok && b < nb; b++) {
        int s = b / r->n_blocks + 1, i = b % r->n_blocks, planes = w0 << (s - 1);
        int stride = s > 1 && i == 0 ? 2 : 1;
        char cv[48], bn[48];
        snprintf(cv, sizeof cv, "layer%d.%d.conv1", s, i);
        snprintf(bn, sizeof bn, "layer%d.%d.bn1", s, i);
        ok = load_conv(&wf, cv, bn, c, planes, stride, &r->c1[b]);
        snprintf(cv, sizeof cv, "layer%d.%d.conv2", s, i);
        snprintf(bn, sizeof bn, "layer%d.%d.bn2", s, i);
        ok = ok && load_conv(&wf, cv, bn, planes, planes, 1, &r->c2[b]);
        r->blk_hin[b] = hw;
        hw = (hw - 1) / stride + 1;
        c = planes;
        for (int k = 1; k <= 2; k++) {
            int l = 2 * b + k;
            r->names[l] = malloc(48);
            if (r->names[l])
                snprintf(r->names[l], 48, "layer%d.%d.relu%d", s, i, k);
            r->act_c[l] = planes;
            r->act_hw[l] = hw * hw;
        }
    }
    r->fc_w = tensor(&wf, "linear.weight", (size_t)classes * feat);
    r->fc_b = tensor(&wf, "linear.bias", (size_t)classes);
    r->max_floats = (size_t)w0 * 32 * 32;
    free(wf.bytes);
    free((char *)wf.header);
    return ok && r->fc_w && r->fc_b;
}

static void free_resnet(resnet *r)
{
    free(r->stem.w);
    free(r->stem.b);
    for (int b = 0; b < 3 * r->n_blocks; b++) {
        if (r->c1) {
            free(r->c1[b].w);
            free(r->c1[b].b);
        }
        if (r->c2) {
            free(r->c2[b].w);
            free(r->c2[b].b);
        }
    }
    for (int l = 0; r->names && l < r->n_act; l++)
        free(r->names[l]);
    free(r->c1);
    free(r->c2);
    free(r->names);
    free(r->funcs);
    free(r->act_c);
    free(r->act_hw);
    free(r->blk_hin);
    free(r->fc_w);
    free(r->fc_b);
}

/* One image: out = conv(in) + b (3x3, padding 1), as im2col then a matrix
 * product whose inner loop runs over output pixels (vectorisable). */
static void conv_image(const conv *cv, const float *in, int h, float *col, float *out)
{
    const int ho = (h - 1) / cv->stride + 1, n = ho * ho, k_n = cv->c_in * 9;
    for (int c = 0; c < cv->c_in; c++)
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                float *row = col + (size_t)((c * 3 + ky) * 3 + kx) * n;
                for (int y = 0; y < ho; y++)
                    for (int x = 0; x < ho; x++) {
                        int iy = y * cv->stride + ky - 1, ix = x * cv->stride + kx - 1;
                        row[y * ho + x] = iy >= 0 && iy < h && ix >= 0 && ix < h
                                              ? in[((size_t)c * h + iy) * h + ix]
                                              : 0.0f;
                    }
            }
    for (int o = 0; o < cv->c_out; o++) {
        float *dst = out + (size_t)o * n;
        const float *w = cv->w + (size_t)o * k_n;
        for (int p = 0; p < n; p++)
            dst[p] = 0.0f;
        for (int k = 0; k < k_n; k++) {
            const float wk = w[k], *src = col + (size_t)k * n;
            for (int p = 0; p < n; p++)
                dst[p] += wk * src[p];
        }
        for (int p = 0; p < n; p++)
            dst[p] += cv->b[o];
    }
}

/* Runs activation layers from..to on `batch` images: from = -1 starts from
 * the input pixels, else from a state written at layer `from`; to < n_act
 * stops at layer `to` (its activation not applied) and writes its state;
 * to == n_act writes the logits. Buffers: x the block input (the features),
 * t the first activation's input inside a block, y the block's output. The
 * state at layer l is the activation's input, followed, at the first
 * activation of a block, by the block's input (its shortcut adds it later). */
static pact_status run(const resnet *r, const float *in, int batch, int from, int to,
                       pact_act_hook hook, void *hook_ctx, float *state, float *logits,
                       pact_error *err)
{
    const size_t mf = r->max_floats, nb = (size_t)batch;
    float *x = malloc(sizeof(float) * mf * nb), *t = malloc(sizeof(float) * mf * nb),
          *y = malloc(sizeof(float) * mf * nb), *col = malloc(sizeof(float) * 9 * mf);
    pact_status st = x && t && y && col ? PACT_OK : PACT_ENOMEM;
    for (int l = from < 0 ? 0 : from; st == PACT_OK && l <= to && l < r->n_act; l++) {
        const int b = (l - 1) / 2, second = l > 0 && l % 2 == 0;
        float *a = l == 0 ? x : second ? y : t; /* the activation's input */
        const size_t act = (size_t)r->act_c[l] * r->act_hw[l];
        const size_t blk = l > 0 && !second ? (size_t)r->c1[b].c_in * r->blk_hin[b] * r->blk_hin[b] : 0;
        if (l == from) { /* load the state */
            for (size_t i = 0; i < nb; i++) {
                memcpy(a + i * act, in + i * (act + blk), sizeof(float) * act);
                memcpy(x + i * blk, in + i * (act + blk) + act, sizeof(float) * blk);
            }
        } else if (l == 0) { /* normalise (into y), stem convolution */
            for (size_t i = 0; i < nb; i++) {
                for (int ch = 0; ch < 3; ch++)
                    for (int p = 0; p < 1024; p++)
                        y[i * 3072 + ch * 1024 + p] = (in[i * 3072 + ch * 1024 + p] - r->mean[ch]) / r->std[ch];
                conv_image(&r->stem, y + i * 3072, 32, col, a + i * act);
            }
        } else if (!second) { /* conv1 of block b on its input */
            for (size_t i = 0; i < nb; i++)
                conv_image(&r->c1[b], x + i * blk, r->blk_hin[b], col, a + i * act);
        } else { /* conv2, plus the shortcut: x, or x[:, ::2, ::2] padded by channels */
            const int c_in = r->c1[b].c_in, hi = r->blk_hin[b], ho = hi / r->c1[b].stride;
            const int step = r->c1[b].stride, pad = (r->c2[b].c_out - c_in) / 2;
            const size_t xin = (size_t)c_in * hi * hi;
            for (size_t i = 0; i < nb; i++) {
                float *o = a + i * act;
                conv_image(&r->c2[b], t + i * act, ho, col, o);
                for (int ch = 0; ch < c_in; ch++)
                    for (int yy = 0; yy < ho; yy++)
                        for (int xx = 0; xx < ho; xx++)
                            o[((size_t)(ch + pad) * ho + yy) * ho + xx] +=
                                x[i * xin + ((size_t)ch * hi + yy * step) * hi + xx * step];
            }
        }
        if (l == to) { /* save the state and stop */
            for (size_t i = 0; i < nb; i++) {
                memcpy(state + i * (act + blk), a + i * act, sizeof(float) * act);
                memcpy(state + i * (act + blk) + act, x + i * blk, sizeof(float) * blk);
            }
            break;
        }
        if (hook)
            st = hook(hook_ctx, l, a, batch, r->act_c[l], r->act_hw[l], err);
        else
            for (size_t k = 0; k < act * nb; k++)
                a[k] = a[k] > 0.0f ? a[k] : 0.0f;
        if (second) { /* the block's output is the next block's input */
            float *tmp = x;
            x = y;
            y = tmp;
        }
    }
    if (st == PACT_OK && to >= r->n_act) { /* global average pooling, linear */
        const int feat = r->width * 4, plane = r->act_hw[r->n_act - 1];
        for (size_t i = 0; i < nb; i++)
            for (int k = 0; k < r->classes; k++) {
                float s = r->fc_b[k];
                for (int f = 0; f < feat; f++) {
                    float m = 0.0f;
                    for (int p = 0; p < plane; p++)
                        m += x[(i * feat + f) * plane + p];
                    s += r->fc_w[k * feat + f] * (m / (float)plane);
                }
                logits[i * r->classes + k] = s;
            }
    }
    if (st == PACT_ENOMEM && err) {
        err->status = st;
        snprintf(err->message, sizeof err->message, "resnet_by_hand: out of memory");
    }
    free(x);
    free(t);
    free(y);
    free(col);
    return st;
}

/* --- the model interface ----------------------------------------------------- */

static pact_status forward(void *ctx, const float *input, int batch, pact_act_hook hook,
                           void *hook_ctx, float *logits, pact_error *err)
{
    const resnet *r = ctx;
    return run(r, input, batch, -1, r->n_act, hook, hook_ctx, NULL, logits, err);
}

static size_t state_size(void *ctx, int layer)
{
    const resnet *r = ctx;
    if (layer < 0 || layer >= r->n_act)
        return 0;
    size_t act = (size_t)r->act_c[layer] * r->act_hw[layer];
    if (layer == 0 || layer % 2 == 0)
        return act;
    const int b = (layer - 1) / 2;
    return act + (size_t)r->c1[b].c_in * r->blk_hin[b] * r->blk_hin[b];
}

static pact_status forward_to(void *ctx, const float *input, int batch, int layer,
                              pact_act_hook hook, void *hook_ctx, float *state, pact_error *err)
{
    return run(ctx, input, batch, -1, layer, hook, hook_ctx, state, NULL, err);
}

static pact_status forward_from(void *ctx, int layer, const float *state, int batch,
                                pact_act_hook hook, void *hook_ctx, float *logits, pact_error *err)
{
    const resnet *r = ctx;
    return run(r, state, batch, layer, r->n_act, hook, hook_ctx, NULL, logits, err);
}

static long flag(int argc, char **argv, const char *name, long def)
{
    for (int i = 5; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return atol(argv[i + 1]);
    return def;
}

static double flag_double(int argc, char **argv, const char *name, double def)
{
    for (int i = 5; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return atof(argv[i + 1]);
    return def;
}

/* Progress of the optimizer's stages: a running count on a terminal, one
 * line per finished stage otherwise (logs). */
static void show_stage(void *ctx, const char *stage, size_t done, size_t total)
{
    int tty = *(const int *)ctx;
    if (tty)
        fprintf(stderr, "\rresnet_by_hand: optimize: %-7s %zu/%zu ", stage, done, total);
    else if (done == total)
        fprintf(stderr, "resnet_by_hand: optimize: %s %zu/%zu", stage, done, total);
    if (done == total)
        fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: resnet_by_hand MODEL.safetensors TRAIN.bin TEST.bin PLAN.json "
                        "[--calib-images N] [--test-images N] [--impact-images N] "
                        "[--max-drop PP] [--predictions FILE]\n");
        return 2;
    }
    resnet r;
    if (!load_resnet(argv[1], &r)) {
        fprintf(stderr, "resnet_by_hand: %s is not a CIFAR ResNet (F32 safetensors)\n", argv[1]);
        free_resnet(&r);
        return 1;
    }
    pact_model m = {.ctx = &r, .n_act = r.n_act, .act_names = (const char *const *)r.names,
                    .act_funcs = r.funcs, .input_size = 3072, .n_classes = r.classes,
                    .forward = forward, .state_size = state_size, .forward_to = forward_to,
                    .forward_from = forward_from};
    pact_error err;
    pact_dataset *train = NULL, *test = NULL;
    pact_calib *calib = NULL;
    pact_cost_profile *prof = NULL;
    pact_cost_layout *layout = NULL;
    pact_plan *plan = NULL;
    int failed_drop = 0;
    const size_t n_calib = (size_t)flag(argc, argv, "--calib-images", 256);
    const size_t n_test = (size_t)flag(argc, argv, "--test-images", 0);
    pact_status st = pact_cifar_load(argv[2], PACT_SPLIT_TRAIN, n_calib, &train, &err);
    if (st == PACT_OK)
        st = pact_cifar_load(argv[3], PACT_SPLIT_TEST, n_test, &test, &err);
    /* 1. calibration: every activation layer's input distribution */
    pact_calib_opts co = {0};
    co.model_name = "resnet20";
    if (st == PACT_OK)
        st = pact_calibrate(&m, train, &co, &calib, &err);
    /* 2. optimisation under the HE cost model of a CIFAR ResNet */
    if (st == PACT_OK)
        st = pact_cost_profile_default(&prof, &err);
    if (st == PACT_OK)
        st = pact_cost_layout_resnet(prof, 6 * r.n_blocks + 2, &layout, &err);
    pact_optimize_opts oo;
    pact_optimize_opts_default(&oo);
    oo.impact_images = (size_t)flag(argc, argv, "--impact-images", 32);
    oo.max_drop = flag_double(argc, argv, "--max-drop", 0.5);
    int tty = isatty(fileno(stderr));
    oo.progress = show_stage; /* the optimizer runs for minutes: say where it is */
    oo.progress_ctx = &tty;
    oo.n_degrees = 5; /* fewer candidates than the default: plain loops are slow */
    const int degrees[5] = {2, 3, 7, 15, 31};
    memcpy(oo.degrees, degrees, sizeof degrees);
    oo.n_floors = 1;
    oo.floors[0] = 0.2;
    if (st == PACT_OK) {
        char name[32];
        snprintf(name, sizeof name, "resnet%d", 6 * r.n_blocks + 2);
        st = pact_optimize(&m, train, calib, layout, prof, &oo, name, "", &plan, &err);
        pact_status opt = st;
        if (opt == PACT_ETOL) /* the most accurate plan found is still written */
            fprintf(stderr, "resnet_by_hand: %s\n", err.message);
        if (plan)
            st = pact_plan_save(plan, argv[4], &err);
        if (st == PACT_OK && opt == PACT_ETOL)
            failed_drop = 1; /* evaluated all the same, then exit 1 as the CLI does */
    }
    /* 3. evaluation: the PANN against the exact network on test images */
    pact_pann_report rep = {0};
    pact_pann_eval_opts eo;
    pact_pann_eval_opts_default(&eo);
    if (st == PACT_OK)
        st = pact_pann_evaluate(&m, test, plan, &eo, &rep, &err);
    const char *pred_path = NULL;
    for (int i = 5; i + 1 < argc; i++)
        if (strcmp(argv[i], "--predictions") == 0)
            pred_path = argv[i + 1];
    if (st == PACT_OK && pred_path) { /* the PANN's class for each image */
        pact_pann *pann = NULL;
        int *pred = malloc(sizeof(int) * pact_dataset_count(test));
        pact_eval_opts ev = {.hook = pact_pann_hook};
        pact_eval_result res;
        st = pred ? pact_pann_create(plan, NULL, &pann, &err) : PACT_ENOMEM;
        ev.hook_ctx = pann;
        if (st == PACT_OK)
            st = pact_model_evaluate(&m, test, &ev, &res, pred, &err);
        FILE *f = st == PACT_OK ? fopen(pred_path, "w") : NULL;
        for (size_t i = 0; f && i < pact_dataset_count(test); i++)
            fprintf(f, "%d\n", pred[i]);
        if (f)
            fclose(f);
        pact_pann_free(pann);
        free(pred);
    }
    if (st == PACT_OK) {
        double speedup = 0.0;
        pact_plan_get_summary(plan, "speedup", &speedup, NULL);
        printf("backbone_correct=%zu pann_correct=%zu agree=%zu images=%zu speedup=%.2f "
               "within_max_drop=%d\n",
               rep.backbone_correct, rep.correct, rep.agree, rep.images, speedup, !failed_drop);
    } else {
        fprintf(stderr, "resnet_by_hand: %s\n", err.message);
    }
    pact_pann_report_free(&rep);
    pact_plan_free(plan);
    pact_cost_layout_free(layout);
    pact_cost_profile_free(prof);
    pact_calib_free(calib);
    pact_dataset_free(train);
    pact_dataset_free(test);
    free_resnet(&r);
    return st == PACT_OK && !failed_drop ? 0 : 1;
}
