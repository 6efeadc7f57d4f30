/* The engine against an independent PyTorch implementation
 * (tests/reference/resnet_ref.py, run live, one process for the four models):
 * logits of the first shared CIFAR-10 test images for ResNet-20/32/44/56 (max
 * |difference| <= 1e-4), the top-1 prediction of every image, and the correct
 * counts. The full 1,017-image counts are test_accuracy's.
 * Args: [images (256; 64 under ASan)]. */
#include "nn_ref.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_IMAGES 64
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
        float *x = malloc(sizeof(float) * (size_t)images * PACT_CIFAR_IMAGE_SIZE);
        float *logits = malloc(sizeof(float) * (size_t)images * classes);
        CHECK_OK(pact_dataset_images_f32(ds, 0, (size_t)images, x, &err), &err);
        CHECK_OK(pact_net_forward(net, x, images, NULL, NULL, logits, &err), &err);
        double max_diff = 0.0;
        int worst = -1, same_top1 = 0, correct = 0;
        const cJSON *row = rl->child;
        for (int i = 0; i < images && row; i++, row = row->next) {
            float refv[10];
            const cJSON *v = row->child;
            for (int k = 0; k < classes; k++, v = v ? v->next : NULL)
                refv[k] = v ? (float)v->valuedouble : NAN;
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
        printf("%s: %d images, max |logit - PyTorch| = %.3g (image %d), same top-1 %d/%d, "
               "correct %d (PyTorch %d)\n",
               name, images, max_diff, worst, same_top1, images, correct, rc->valueint);
        CHECK(max_diff <= 1e-4, "%s: max logit difference %.3g > 1e-4 (image %d)", name,
              max_diff, worst);
        CHECK(same_top1 == images, "%s: top-1 differs from PyTorch on %d images", name,
              images - same_top1);
        CHECK(correct == rc->valueint, "%s: %d correct, PyTorch %d", name, correct,
              rc->valueint);
        n += 3;
        free(x);
        free(logits);
    }
    pact_dataset_free(ds);
    pact_net_free(net);
    cJSON_Delete(ref);
    return n;
}

int main(int argc, char **argv)
{
    int images = argc > 1 ? atoi(argv[1]) : DEFAULT_IMAGES;
    const char *d = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    CHECK(d != NULL, "shared test images missing");
    if (!d)
        return pact_test_done("test_resnet_reference", 1);
    char *data = strdup(d);
    openblas_set_num_threads(1); /* the engine's two threads call sgemm */
    int n = 0;
    const char *names[] = {"resnet20", "resnet32", "resnet44", "resnet56"};
    char *paths[4] = {NULL, NULL, NULL, NULL};
    size_t len = strlen(data) + 128;
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
    for (int m = 0; m < 4; m++)
        if (paths[m])
            snprintf(args + strlen(args), len - strlen(args), " --model %s", paths[m]);
    char *out = nn_ref_run(args);
    char *line = out, *next;
    for (int m = 0; m < 4; m++, line = next) {
        next = line ? strchr(line, '\n') : NULL;
        if (next)
            *next++ = '\0';
        if (paths[m])
            n += check_model(names[m], paths[m], data, images, line);
        free(paths[m]);
    }
    free(out);
    free(args);
    free(data);
    return pact_test_done("test_resnet_reference", n);
}
