/* Top-1 accuracy of a model on a data set, through the model interface. */
#define _POSIX_C_SOURCE 200809L
#include "../internal.h"

#include <stdlib.h>
#include <time.h>

#define DEFAULT_BATCH 64

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

pact_status pact_model_evaluate(const pact_model *model, const pact_dataset *ds,
                                const pact_eval_opts *opts, pact_eval_result *result,
                                int *predicted, pact_error *err)
{
    const pact_eval_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    *result = (pact_eval_result){0};
    if (model->input_size != PACT_CIFAR_IMAGE_SIZE || model->n_classes < 1 || !model->forward)
        return pact_fail(err, PACT_EINVAL,
                         "model takes %d floats per image and gives %d classes; CIFAR-10 "
                         "images are %d floats",
                         model->input_size, model->n_classes, PACT_CIFAR_IMAGE_SIZE);
    if (opts->batch < 0)
        return pact_fail(err, PACT_EINVAL, "batch %d < 0", opts->batch);
    size_t total = pact_dataset_count(ds);
    if (opts->max_images && opts->max_images < total)
        total = opts->max_images;
    if (total == 0)
        return pact_fail(err, PACT_EINVAL, "no images to evaluate");
    const int batch = opts->batch ? opts->batch : DEFAULT_BATCH;
    float *x = malloc(sizeof(float) * (size_t)batch * PACT_CIFAR_IMAGE_SIZE);
    float *logits = malloc(sizeof(float) * (size_t)batch * (size_t)model->n_classes);
    if (!x || !logits) {
        free(x);
        free(logits);
        return pact_fail(err, PACT_ENOMEM, "out of memory for a batch of %d images", batch);
    }
    pact_status st = PACT_OK;
    size_t correct = 0;
    const double t0 = now_seconds();
    for (size_t first = 0; first < total && st == PACT_OK; first += (size_t)batch) {
        int n = total - first < (size_t)batch ? (int)(total - first) : batch;
        st = pact_dataset_images_f32(ds, first, (size_t)n, x, err);
        if (st == PACT_OK)
            st = model->forward(model->ctx, x, n, opts->hook, opts->hook_ctx, logits, err);
        for (int i = 0; i < n && st == PACT_OK; i++) {
            int p = argmax(logits + (size_t)i * model->n_classes, model->n_classes);
            if (predicted)
                predicted[first + (size_t)i] = p;
            correct += p == pact_dataset_label(ds, first + (size_t)i);
        }
        if (st == PACT_OK && opts->progress)
            opts->progress(opts->progress_ctx, first + (size_t)n, total);
    }
    const double dt = now_seconds() - t0;
    free(x);
    free(logits);
    if (st != PACT_OK)
        return st;
    result->images = total;
    result->correct = correct;
    result->accuracy = (double)correct / (double)total;
    result->seconds = dt;
    result->images_per_second = dt > 0 ? (double)total / dt : 0.0;
    return PACT_OK;
}
