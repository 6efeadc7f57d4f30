/* ONNX import against independent references. PyTorch's own exporter
 * (tests/reference/export_onnx.py, Debian python3-torch) writes the shared
 * ResNets to ONNX in a temporary folder; then:
 *  - ResNet-20/32/44/56 from ONNX give exactly the logits (hence the
 *    predictions) of the safetensors path on the test images, with the same
 *    activation names, and the cost layout derived from the ONNX graph is
 *    pact_cost_layout_resnet's;
 *  - ResNet-20 exported with nn.GELU (erf), nn.GELU(approximate='tanh') and
 *    nn.SiLU: the subgraphs become GELU / GELU_TANH / SILU layers, the logits
 *    are exactly those of the safetensors net with --act gelu|gelu_tanh|silu,
 *    and the predictions agree with PyTorch's on the same images;
 *  - the default export (batch norm folded by PyTorch in float) agrees with
 *    the safetensors path on >= 99.5% of the images;
 *  - a small CNN with random weights using MaxPool (ceil mode), AveragePool,
 *    asymmetric Pad, Concat, a stand-alone batch norm, Sub/Div/Mul/Add by
 *    constants, ReduceMean, Shape/Gather/Concat/Reshape, MatMul, Gemm, SiLU,
 *    tanh GELU and Sigmoid gives PyTorch's logits (to 1e-4 relative);
 *  - polyact calibrate / eval take --model net.onnx.
 * Argument: number of test images (default all 1,017; the sanitizer build
 * passes fewer). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static size_t n_images;
static pact_dataset *ds;

/* PyTorch's results, one JSON object per exported file. */
static cJSON *refs[16];
static int n_refs;

static const cJSON *ref_for(const char *file_suffix)
{
    for (int i = 0; i < n_refs; i++) {
        const cJSON *f = cJSON_GetObjectItem(refs[i], "file");
        size_t a = cJSON_IsString(f) ? strlen(f->valuestring) : 0, b = strlen(file_suffix);
        if (a >= b && strcmp(f->valuestring + a - b, file_suffix) == 0)
            return refs[i];
    }
    return NULL;
}

static pact_net *load(const char *path, pact_func act)
{
    pact_error err;
    pact_net *net = NULL;
    pact_net_opts o = {0};
    o.act = act;
    o.threads = 2;
    CHECK_OK(pact_net_load(path, &o, &net, &err), &err);
    return net;
}

/* Logits of every image, in fixed batches of 64 (identical slicing for both
 * paths, so identical arithmetic gives identical bits). */
static float *logits_of(const pact_net *net, size_t images)
{
    pact_error err;
    pact_model m;
    pact_net_model(net, &m);
    float *x = malloc(sizeof(float) * 64 * PACT_CIFAR_IMAGE_SIZE);
    float *y = malloc(sizeof(float) * images * (size_t)m.n_classes);
    for (size_t i = 0; x && y && i < images; i += 64) {
        size_t b = images - i < 64 ? images - i : 64;
        CHECK_OK(pact_dataset_images_f32(ds, i, b, x, &err), &err);
        CHECK_OK(pact_net_forward(net, x, (int)b, NULL, NULL, y + i * (size_t)m.n_classes, &err),
                 &err);
    }
    free(x);
    return y;
}

static int argmax(const float *v, int n)
{
    int k = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[k])
            k = i;
    return k;
}

/* Same logits bit for bit; returns how many predictions differ. */
static int compare_nets(const char *what, const pact_net *a, const pact_net *b, int exact,
                        size_t *differ, size_t *correct_a, size_t *correct_b)
{
    int classes = 10;
    float *la = logits_of(a, n_images), *lb = logits_of(b, n_images);
    double maxdiff = 0.0;
    *differ = *correct_a = *correct_b = 0;
    for (size_t i = 0; la && lb && i < n_images; i++) {
        for (int k = 0; k < classes; k++) {
            double d = fabs((double)la[i * classes + k] - (double)lb[i * classes + k]);
            maxdiff = d > maxdiff || isnan(d) ? d : maxdiff;
        }
        int pa = argmax(la + i * classes, classes), pb = argmax(lb + i * classes, classes);
        *differ += pa != pb;
        *correct_a += pa == pact_dataset_label(ds, i);
        *correct_b += pb == pact_dataset_label(ds, i);
    }
    if (exact)
        CHECK(maxdiff == 0.0 && *differ == 0,
              "%s: max |logit difference| %g, %zu of %zu predictions differ (expected 0, 0)", what,
              maxdiff, *differ, n_images);
    printf("%s: %zu/%zu vs %zu/%zu correct, %zu predictions differ, max |logit diff| %g\n", what,
           *correct_a, n_images, *correct_b, n_images, *differ, maxdiff);
    free(la);
    free(lb);
    return 1;
}

static int same_layout(const char *what, const pact_cost_layout *a, const pact_cost_layout *b)
{
    int n = pact_cost_layout_n_ops(a), bad = n != pact_cost_layout_n_ops(b) ? -1 : 0;
    for (int i = 0; !bad && i < n; i++) {
        const pact_cost_op *x = pact_cost_layout_op(a, i), *y = pact_cost_layout_op(b, i);
        if (x->kind != y->kind || x->levels != y->levels || x->ms != y->ms ||
            x->stage != y->stage || x->bootstrap_before != y->bootstrap_before ||
            (x->kind == PACT_COST_ACT && strcmp(x->name, y->name) != 0))
            bad = i + 1;
    }
    CHECK(!bad, "%s: cost layout from the graph differs from pact_cost_layout_resnet at op %d "
                "(%d ops vs %d)", what, bad - 1, n, pact_cost_layout_n_ops(b));
    return 1;
}

/* forward_to then forward_from at every activation gives forward's logits
 * bit for bit (what the optimizer's impact measurement relies on), with the
 * buffers an imported graph reuses. */
static int check_split(const char *what, const pact_net *net, int images)
{
    pact_error err;
    pact_model m;
    pact_net_model(net, &m);
    float *x = malloc(sizeof(float) * (size_t)images * PACT_CIFAR_IMAGE_SIZE);
    float *ref = malloc(sizeof(float) * (size_t)images * m.n_classes);
    float *got = malloc(sizeof(float) * (size_t)images * m.n_classes);
    CHECK_OK(pact_dataset_images_f32(ds, 0, (size_t)images, x, &err), &err);
    CHECK_OK(pact_net_forward(net, x, images, NULL, NULL, ref, &err), &err);
    int bad = -1;
    for (int l = 0; l < m.n_act && bad < 0; l++) {
        size_t n = pact_net_state_size(net, l);
        int c, h, w;
        pact_net_act_shape(net, l, &c, &h, &w, NULL);
        float *state = malloc(sizeof(float) * n * (size_t)images);
        if (n < (size_t)c * h * w ||
            pact_net_forward_to(net, x, images, l, NULL, NULL, state, &err) != PACT_OK ||
            pact_net_forward_from(net, l, state, images, NULL, NULL, got, &err) != PACT_OK ||
            memcmp(got, ref, sizeof(float) * (size_t)images * m.n_classes) != 0)
            bad = l;
        free(state);
    }
    CHECK(bad < 0, "%s: forward_to + forward_from at layer %d (%s) differ from forward", what, bad,
          bad >= 0 ? m.act_names[bad] : "");
    free(x);
    free(ref);
    free(got);
    return 1;
}

static int check_resnet(int depth, const pact_cost_profile *prof)
{
    int n = 0;
    char rel[64], onnx[128];
    snprintf(rel, sizeof rel, "models/resnet%d.safetensors", depth);
    snprintf(onnx, sizeof onnx, "%s/resnet%d.onnx", dir, depth);
    const char *st_path = pact_test_data(rel);
    CHECK(st_path, "missing %s", rel);
    if (!st_path)
        return 1;
    pact_net *s = load(st_path, PACT_RELU), *o = load(onnx, PACT_RELU);
    if (!s || !o) {
        pact_net_free(s);
        pact_net_free(o);
        return 1;
    }
    char what[64];
    snprintf(what, sizeof what, "resnet%d onnx vs safetensors", depth);
    size_t differ, ca, cb;
    n += compare_nets(what, o, s, 1, &differ, &ca, &cb);
    CHECK(strcmp(pact_net_name(o), pact_net_name(s)) == 0, "names %s, %s", pact_net_name(o),
          pact_net_name(s));
    if (depth == 20)
        n += check_split(what, o, 8);
    CHECK(pact_net_act_count(o) == pact_net_act_count(s), "resnet%d: %d vs %d activations", depth,
          pact_net_act_count(o), pact_net_act_count(s));
    for (int l = 0; l < pact_net_act_count(o) && l < pact_net_act_count(s); l++)
        CHECK(strcmp(pact_net_act_name(o, l), pact_net_act_name(s, l)) == 0,
              "resnet%d layer %d: '%s' from ONNX, '%s' from safetensors", depth, l,
              pact_net_act_name(o, l), pact_net_act_name(s, l));
    pact_error err;
    pact_cost_layout *lo = NULL, *lr = NULL;
    CHECK_OK(pact_net_cost_layout(o, prof, &lo, &err), &err);
    CHECK_OK(pact_cost_layout_resnet(prof, depth, &lr, &err), &err);
    if (lo && lr)
        n += same_layout(what, lo, lr);
    pact_cost_layout_free(lo);
    pact_cost_layout_free(lr);
    pact_net_free(s);
    pact_net_free(o);
    return n + 3;
}

static int check_act(const char *suffix, pact_func f, size_t images)
{
    char onnx[128];
    snprintf(onnx, sizeof onnx, "%s/resnet20_%s.onnx", dir, suffix);
    pact_net *s = load(pact_test_data("models/resnet20.safetensors"), f), *o = load(onnx, PACT_RELU);
    if (!s || !o) {
        pact_net_free(s);
        pact_net_free(o);
        return 1;
    }
    for (int l = 0; l < pact_net_act_count(o); l++) {
        pact_model m;
        pact_net_model(o, &m);
        CHECK(m.act_funcs[l] == f, "%s layer %d (%s): function %s, expected %s", onnx, l,
              pact_net_act_name(o, l), pact_func_name(m.act_funcs[l]), pact_func_name(f));
    }
    size_t keep = n_images, differ, ca, cb;
    n_images = images;
    char what[96];
    snprintf(what, sizeof what, "resnet20 %s: onnx vs safetensors --act %s", suffix, pact_func_name(f));
    compare_nets(what, o, s, 1, &differ, &ca, &cb);
    /* PyTorch's predictions for the same network */
    const cJSON *r = ref_for(onnx + strlen(dir));
    const cJSON *pred = r ? cJSON_GetObjectItem(r, "predictions") : NULL;
    CHECK(cJSON_GetArraySize(pred) >= (int)images, "no PyTorch predictions for %s", onnx);
    if (cJSON_GetArraySize(pred) >= (int)images) {
        float *lo = logits_of(o, images);
        size_t agree = 0;
        for (size_t i = 0; lo && i < images; i++)
            agree += argmax(lo + i * 10, 10) == cJSON_GetArrayItem(pred, (int)i)->valueint;
        CHECK(agree + 2 >= images, "%s: %zu of %zu predictions agree with PyTorch (>= all but 2)",
              onnx, agree, images);
        printf("resnet20 %s: %zu of %zu predictions agree with PyTorch\n", suffix, agree, images);
        free(lo);
    }
    n_images = keep;
    pact_net_free(s);
    pact_net_free(o);
    return 3;
}

static int check_fused(void)
{
    char onnx[128];
    snprintf(onnx, sizeof onnx, "%s/resnet20_fused.onnx", dir);
    pact_net *s = load(pact_test_data("models/resnet20.safetensors"), PACT_RELU),
             *o = load(onnx, PACT_RELU);
    if (s && o) {
        size_t differ, ca, cb;
        compare_nets("resnet20 PyTorch-fused onnx vs safetensors", o, s, 0, &differ, &ca, &cb);
        CHECK(differ * 200 <= n_images, "fused export: %zu of %zu predictions differ (<= 0.5%%)",
              differ, n_images);
    }
    pact_net_free(s);
    pact_net_free(o);
    return 1;
}

static int check_zoo(const pact_cost_profile *prof)
{
    char onnx[128];
    snprintf(onnx, sizeof onnx, "%s/zoo.onnx", dir);
    pact_net *o = load(onnx, PACT_RELU);
    const cJSON *r = ref_for("/zoo.onnx"), *ref = r ? cJSON_GetObjectItem(r, "logits") : NULL;
    int rows = cJSON_GetArraySize(ref);
    CHECK(o && rows > 0, "zoo: net %p, %d reference rows", (void *)o, rows);
    if (!o || rows <= 0) {
        pact_net_free(o);
        return 1;
    }
    const pact_func want[] = {PACT_SILU, PACT_GELU_TANH, PACT_RELU, PACT_SIGMOID, PACT_RELU,
                              PACT_RELU};
    pact_model m;
    pact_net_model(o, &m);
    CHECK(m.n_act == 6, "zoo: %d activation layers (expected 6)", m.n_act);
    for (int l = 0; l < m.n_act && l < 6; l++)
        CHECK(m.act_funcs[l] == want[l], "zoo layer %d (%s): %s, expected %s", l, m.act_names[l],
              pact_func_name(m.act_funcs[l]), pact_func_name(want[l]));
    size_t keep = n_images;
    n_images = (size_t)rows < n_images ? (size_t)rows : n_images;
    float *lo = logits_of(o, n_images);
    double worst = 0.0;
    for (size_t i = 0; lo && i < n_images; i++)
        for (int k = 0; k < 10; k++) {
            double want_v = cJSON_GetArrayItem(cJSON_GetArrayItem(ref, (int)i), k)->valuedouble;
            double d = fabs((double)lo[i * 10 + k] - want_v) / (1.0 + fabs(want_v));
            worst = d > worst || isnan(d) ? d : worst;
        }
    CHECK(worst <= 1e-4, "zoo: logits differ from PyTorch's by %g (relative, <= 1e-4)", worst);
    printf("zoo CNN (%d activation layers): max relative logit difference to PyTorch %.2e on %zu "
           "images\n", m.n_act, worst, n_images);
    free(lo);
    n_images = keep;
    check_split("zoo", o, 8);
    pact_error err;
    pact_cost_layout *lay = NULL;
    pact_status st = pact_net_cost_layout(o, prof, &lay, &err);
    CHECK(st == PACT_EUNSUPPORTED && strstr(err.message, "max pooling"),
          "zoo cost layout: %s %s (expected a refusal naming max pooling)", pact_status_str(st),
          st ? err.message : "");
    pact_cost_layout_free(lay);
    pact_net_free(o);
    return 3;
}

static int check_cli(void)
{
    char cmd[8192], out[1 << 16];
    const char *data = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    snprintf(cmd, sizeof cmd,
             "'%s' calibrate --model '%s/resnet20.onnx' --data '%s' --images 64 --threads 2 -o "
             "'%s/calib.json' >/dev/null && '%s' eval --model '%s/resnet20.onnx' --data '%s' --images 64 "
             "--calib '%s/calib.json' --uniform lsq:degree=15 --json --threads 2",
             pact_test_cli(), dir, data, dir, pact_test_cli(), dir, data, dir);
    int rc = pact_test_run(cmd, out, sizeof out);
    cJSON *j = cJSON_Parse(out);
    const cJSON *agree = cJSON_GetObjectItem(j, "agree");
    CHECK(rc == 0 && cJSON_IsNumber(agree) && agree->valueint >= 60,
          "polyact calibrate + eval --model resnet20.onnx: exit %d, agree %d of 64", rc,
          cJSON_IsNumber(agree) ? agree->valueint : -1);
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s/zoo.onnx' --data '%s' --images 8 --classes 7 2>&1",
             pact_test_cli(), dir, data);
    rc = pact_test_run(cmd, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "7 classes expected"), "eval --classes 7 on a 10-class model: exit "
          "%d, %s", rc, out);
    return 2;
}

int main(int argc, char **argv)
{
    int n = 0;
    static char data[4096];
    const char *d = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    snprintf(data, sizeof data, "%s", d ? d : "");
    const char *src = getenv("POLYACT_SOURCE"), *py = getenv("POLYACT_PYTHON");
    CHECK(d && src, "POLYACT_DATA / POLYACT_SOURCE not set or data missing");
    if (!d || !src)
        return pact_test_done("test_onnx", 1);
    pact_error err;
    CHECK_OK(pact_cifar_load(data, PACT_SPLIT_TEST, argc > 1 ? (size_t)atol(argv[1]) : 0, &ds, &err),
             &err);
    if (!ds)
        return pact_test_done("test_onnx", 1);
    n_images = pact_dataset_count(ds);
    strcpy(dir, "/tmp/pact_onnx_XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    static char cmd[32768], m[4][4096];
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "models/resnet%d.safetensors", 20 + 12 * i);
        const char *p = pact_test_data(rel);
        snprintf(m[i], sizeof m[i], "%s", p ? p : "missing");
    }
    const size_t act_images = n_images < 128 ? n_images : 128;
    snprintf(cmd, sizeof cmd,
             "'%s' '%s/tests/reference/export_onnx.py' --out '%s' --data '%s' --images %zu --fused "
             "'%s' '%s' '%s' '%s' > '%s/export.json' 2> '%s/export.log'",
             py && *py ? py : "python3", src, dir, data, act_images, m[0], m[1], m[2], m[3], dir,
             dir);
    int rc = pact_test_run(cmd, NULL, 0);
    CHECK(rc == 0, "PyTorch export failed (exit %d): %s", rc, cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof cmd, "tail -5 '%s/export.log' >&2", dir);
        (void)pact_test_run(cmd, NULL, 0);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/export.json", dir);
    FILE *f = fopen(path, "r");
    static char line[1 << 20];
    while (f && n_refs < 16 && fgets(line, sizeof line, f))
        if ((refs[n_refs] = cJSON_Parse(line)))
            n_refs++;
    if (f)
        fclose(f);
    CHECK(n_refs == 9, "%d exported files listed (expected 9)", n_refs);
    n++;
    pact_cost_profile *prof = NULL;
    CHECK_OK(pact_cost_profile_default(&prof, &err), &err);
    if (rc == 0 && prof) {
        for (int depth = 20; depth <= 56; depth += 12)
            n += check_resnet(depth, prof);
        n += check_act("gelu", PACT_GELU, act_images);
        n += check_act("gelu_tanh", PACT_GELU_TANH, act_images);
        n += check_act("silu", PACT_SILU, act_images);
        n += check_fused();
        n += check_zoo(prof);
        n += check_cli();
    }
    pact_cost_profile_free(prof);
    for (int i = 0; i < n_refs; i++)
        cJSON_Delete(refs[i]);
    pact_dataset_free(ds);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (pact_test_failures == 0)
        (void)pact_test_run(cmd, NULL, 0);
    return pact_test_done("test_onnx", n);
}
