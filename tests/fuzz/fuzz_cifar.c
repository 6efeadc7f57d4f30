/* libFuzzer target: CIFAR-10 binary bytes (pact_cifar_parse, what
 * pact_cifar_load runs on each file), then the data set's accessors. The
 * first byte picks max_images, the rest is the file. */
#include "fuzz_check.h"
#include "io/cifar.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static const pact_status refusals[] = {PACT_EFORMAT, PACT_ENOMEM, PACT_OK};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_images = data[0] % 4; /* 0 = all */
    data++;
    size--;
    pact_dataset *ds = NULL;
    pact_error err = {0};
    pact_status st = pact_cifar_parse(data, size, "fuzz.bin", max_images, &ds, &err);
    if (st != PACT_OK) {
        FUZZ_ASSERT(ds == NULL, "a data set came back with %s", pact_status_str(st));
        fuzz_check_refusal(st, &err, "fuzz.bin", refusals);
        return 0;
    }
    size_t n = pact_dataset_count(ds), records = size / PACT_CIFAR_RECORD_SIZE;
    FUZZ_ASSERT(n >= 1 && n == (max_images && max_images < records ? max_images : records),
                "%zu images from %zu records (max %zu)", n, records, max_images);
    FUZZ_ASSERT(pact_dataset_label(ds, n) == -1, "label past the end");
    float *x = malloc(sizeof(float) * PACT_CIFAR_IMAGE_SIZE);
    for (size_t i = 0; x && i < n; i++) {
        int label = pact_dataset_label(ds, i);
        FUZZ_ASSERT(label >= 0 && label < PACT_CIFAR_CLASSES && label == data[i * 3073],
                    "image %zu: label %d", i, label);
        FUZZ_ASSERT(pact_dataset_images_f32(ds, i, 1, x, &err) == PACT_OK, "image %zu", i);
        for (int k = 0; k < PACT_CIFAR_IMAGE_SIZE; k++)
            FUZZ_ASSERT(x[k] == (float)data[i * 3073 + 1 + (size_t)k] / 255.0f,
                        "image %zu pixel %d: %g", i, k, (double)x[k]);
    }
    if (x)
        FUZZ_ASSERT(pact_dataset_images_f32(ds, n, 1, x, &err) == PACT_EINVAL &&
                        pact_dataset_images_f32(ds, SIZE_MAX, 2, x, &err) == PACT_EINVAL,
                    "reading past the end must fail");
    free(x);
    pact_dataset_free(ds);
    return 0;
}
