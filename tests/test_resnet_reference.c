/* The engine against an independent PyTorch implementation
 * (tests/reference/resnet_ref.py, run live, one process for the four models):
 * logits of the first shared CIFAR-10 test images for ResNet-20/32/44/56 (max
 * |difference| <= 1e-4), the top-1 prediction of every image, and the correct
 * counts. The full 1,017-image counts are test_accuracy's. Also synthetic
 * ResNet-110 and ResNet-8 files (seeded random weights written here), so that
 * the depth found from the tensor names is checked beyond the shared models.
 * Args: [images (256; 32 under ASan)]. */
#include "nn_ref.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_IMAGES 32
#else
#define DEFAULT_IMAGES 256
#endif

static int argmax(const float *v, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b])
            b = i;
    return b;
}

static int check_model(const char *name, const char *model, const char *data, int images,
                       const char *ref_line)
{
    cJSON *ref = ref_line ? cJSON_Parse(ref_line) : NULL;
    const cJSON *rl = cJSON_GetObjectItemCaseSensitive(ref, "logits");
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(ref, "correct");
    CHECK(cJSON_IsArray(rl) && cJSON_GetArraySize(rl) == images && cJSON_IsNumber(rc),
          "%s: no reference logits", name);
    if (!cJSON_IsArray(rl) || cJSON_GetArraySize(rl) != images || !cJSON_IsNumber(rc)) {
        cJSON_Delete(ref);
        return 3;
    }

    pact_error err;
    pact_net *net = NULL;
    pact_dataset *ds = NULL;
    pact_net_opts no = {.threads = 2};
    CHECK_OK(pact_net_load(model, &no, &net, &err), &err);
    CHECK_OK(pact_cifar_load(data, PACT_SPLIT_TEST, (size_t)images, &ds, &err), &err);
    int n = 2;
    if (net && ds) {
        const int classes = 10;
        CHECK(strcmp(pact_net_name(net), name) == 0, "depth found: %s, expected %s",
              pact_net_name(net), name);
        float *x = malloc(sizeof(float) * (size_t)images * PACT_CIFAR_IMAGE_SIZE);
        float *logits = malloc(sizeof(float) * (size_t)images * classes);
        CHECK_OK(pact_dataset_images_f32(ds, 0, (size_t)images, x, &err), &err);
        CHECK_OK(pact_net_forward(net, x, images, NULL, NULL, logits, &err), &err);
        double max_diff = 0.0, max_ref = 1.0;
        int worst = -1, same_top1 = 0, correct = 0;
        const cJSON *row = rl->child;
        for (int i = 0; i < images && row; i++, row = row->next) {
            float refv[10];
            const cJSON *v = row->child;
            for (int k = 0; k < classes; k++, v = v ? v->next : NULL) {
                refv[k] = v ? (float)v->valuedouble : NAN;
                max_ref = fmax(max_ref, fabs(refv[k]));
            }
            for (int k = 0; k < classes; k++) {
                double d = fabs((double)logits[i * classes + k] - refv[k]);
                if (!(d <= max_diff)) {
                    max_diff = d;
                    worst = i;
                }
            }
            int a = argmax(logits + i * classes, classes);
            same_top1 += a == argmax(refv, classes);
            correct += a == pact_dataset_label(ds, (size_t)i);
        }
        printf("%s: %d images, max |logit - PyTorch| = %.3g (image %d; largest |logit| %.3g), "
               "same top-1 %d/%d, correct %d (PyTorch %d)\n",
               name, images, max_diff, worst, max_ref, same_top1, images, correct, rc->valueint);
        /* 1e-4 for logits up to 50 (the trained models reach ~37); relative beyond */
        const double tol = 1e-4 * fmax(1.0, max_ref / 50.0);
        CHECK(max_diff <= tol, "%s: max logit difference %.3g > %.3g (image %d)", name, max_diff,
              tol, worst);
        CHECK(same_top1 == images, "%s: top-1 differs from PyTorch on %d images", name,
              images - same_top1);
        CHECK(correct == rc->valueint, "%s: %d correct, PyTorch %d", name, correct,
              rc->valueint);
        n += 4;
        free(x);
        free(logits);
    }
    pact_dataset_free(ds);
    pact_net_free(net);
    cJSON_Delete(ref);
    return n;
}

/* ---- synthetic CIFAR ResNet-(6n+2) files ---- */

typedef struct {
    char *header;       /* JSON, grown as tensors are added */
    size_t hlen, hcap;
    float *data;
    size_t n, cap;
    unsigned long long rng;
} st_writer;

static double uniform(st_writer *w) /* [0, 1), 53-bit LCG output */
{
    w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(w->rng >> 11) / 9007199254740992.0;
}

static void append(st_writer *w, const char *s)
{
    size_t l = strlen(s);
    if (w->hlen + l + 1 > w->hcap) {
        w->hcap = 2 * (w->hlen + l + 1);
        w->header = realloc(w->header, w->hcap);
    }
    memcpy(w->header + w->hlen, s, l + 1);
    w->hlen += l;
}

/* a tensor of `count` values uniform in [lo, hi) */
static void tensor(st_writer *w, const char *name, const int *shape, int ndim, double lo,
                   double hi)
{
    size_t count = 1;
    char buf[512];
    int len = snprintf(buf, sizeof buf, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[",
                       w->hlen > 1 ? "," : "", name);
    for (int i = 0; i < ndim; i++) {
        count *= (size_t)shape[i];
        len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%d", i ? "," : "", shape[i]);
    }
    snprintf(buf + len, sizeof buf - (size_t)len, "],\"data_offsets\":[%zu,%zu]}",
             w->n * 4, (w->n + count) * 4);
    append(w, buf);
    if (w->n + count > w->cap) {
        w->cap = 2 * (w->n + count);
        w->data = realloc(w->data, w->cap * sizeof(float));
    }
    for (size_t i = 0; i < count; i++)
        w->data[w->n++] = (float)(lo + (hi - lo) * uniform(w));
}

static void conv_bn(st_writer *w, const char *conv, const char *bn, int c_out, int c_in)
{
    char name[128];
    const int ws[4] = {c_out, c_in, 3, 3}, vs[1] = {c_out};
    double a = sqrt(3.0 * 2.0 / (9.0 * c_in)); /* He: variance 2 / fan-in */
    snprintf(name, sizeof name, "%s.weight", conv);
    tensor(w, name, ws, 4, -a, a);
    snprintf(name, sizeof name, "%s.weight", bn);
    tensor(w, name, vs, 1, 0.3, 0.8);
    snprintf(name, sizeof name, "%s.bias", bn);
    tensor(w, name, vs, 1, -0.2, 0.2);
    snprintf(name, sizeof name, "%s.running_mean", bn);
    tensor(w, name, vs, 1, -0.2, 0.2);
    snprintf(name, sizeof name, "%s.running_var", bn);
    tensor(w, name, vs, 1, 0.5, 1.5);
}

/* Writes a random ResNet-(6n+2) to path. */
static void write_synthetic(const char *path, int n, unsigned long long seed)
{
    st_writer w = {.rng = seed};
    /* the metadata first; every tensor then starts with a comma */
    append(&w, "{\"__metadata__\":{\"input_mean\":\"0.5,0.45,0.4\","
               "\"input_std\":\"0.25,0.2,0.22\"}");
    conv_bn(&w, "conv1", "bn1", 16, 3);
    for (int stage = 1; stage <= 3; stage++)
        for (int b = 0; b < n; b++) {
            char conv[64], bn[64];
            int planes = 16 << (stage - 1), in = b == 0 && stage > 1 ? planes / 2 : planes;
            snprintf(conv, sizeof conv, "layer%d.%d.conv1", stage, b);
            snprintf(bn, sizeof bn, "layer%d.%d.bn1", stage, b);
            conv_bn(&w, conv, bn, planes, in);
            snprintf(conv, sizeof conv, "layer%d.%d.conv2", stage, b);
            snprintf(bn, sizeof bn, "layer%d.%d.bn2", stage, b);
            conv_bn(&w, conv, bn, planes, planes);
        }
    const int lw[2] = {10, 64}, lb[1] = {10};
    tensor(&w, "linear.weight", lw, 2, -0.3, 0.3);
    tensor(&w, "linear.bias", lb, 1, -0.1, 0.1);
    append(&w, "}");
    FILE *f = fopen(path, "wb");
    unsigned long long len = w.hlen;
    for (int i = 0; i < 8; i++)
        fputc((int)(len >> (8 * i)) & 255, f);
    fwrite(w.header, 1, w.hlen, f);
    fwrite(w.data, sizeof(float), w.n, f); /* little-endian host */
    fclose(f);
    free(w.header);
    free(w.data);
}

int main(int argc, char **argv)
{
    int images = argc > 1 ? atoi(argv[1]) : DEFAULT_IMAGES;
    const char *d = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    CHECK(d != NULL, "shared test images missing");
    if (!d)
        return pact_test_done("test_resnet_reference", 1);
    char *data = strdup(d);
    int n = 0;
    const char *names[] = {"resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
                           "resnet8"};
    char *paths[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    size_t len = strlen(data) + 128;
    char tmpdir[] = "/tmp/pact_synth_XXXXXX";
    CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
    for (int m = 4; m < 6; m++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s.safetensors", tmpdir, names[m]);
        write_synthetic(path, m == 4 ? 18 : 1, 12345u + (unsigned)m);
        paths[m] = strdup(path);
        len += strlen(path) + 16;
    }
    for (int m = 0; m < 4; m++) {
        char rel[128];
        snprintf(rel, sizeof rel, "models/%s.safetensors", names[m]);
        const char *p = pact_test_data(rel);
        CHECK(p != NULL, "%s missing", rel);
        paths[m] = p ? strdup(p) : NULL;
        len += p ? strlen(p) + 16 : 0;
    }
    char *args = malloc(len);
    snprintf(args, len, "logits --threads 1 --data %s --images %d", data, images);
    for (int m = 0; m < 6; m++)
        if (paths[m])
            snprintf(args + strlen(args), len - strlen(args), " --model %s", paths[m]);
    char *out = nn_ref_run(args);
    char *line = out, *next;
    for (int m = 0; m < 6; m++, line = next) {
        next = line ? strchr(line, '\n') : NULL;
        if (next)
            *next++ = '\0';
        if (paths[m])
            n += check_model(names[m], paths[m], data, images, line);
        if (m >= 4 && paths[m])
            remove(paths[m]);
        free(paths[m]);
    }
    rmdir(tmpdir);
    free(out);
    free(args);
    free(data);
    return pact_test_done("test_resnet_reference", n);
}
