/* Exact-count regression on the 1,017 shared CIFAR-10 test images, through
 * `polyact eval`: the correct count of each model must be PyTorch's. The
 * counts are PyTorch 1.13.1 fp32 (Debian python3-torch) on these weights, as
 * printed by tests/reference/resnet_ref.py logits; 932 for ResNet-20 is also
 * the count published with the shared data. test_resnet_reference compares
 * with PyTorch live on a subset.
 * Args: [models (4; 1 under ASan: ResNet-20 only)]. */
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_MODELS 1
#else
#define DEFAULT_MODELS 4
#endif

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int pytorch_correct;
    } models[4] = {{"resnet20", 932}, {"resnet32", 944}, {"resnet44", 950}, {"resnet56", 943}};
    int n_models = argc > 1 ? atoi(argv[1]) : DEFAULT_MODELS;
    char data[4096] = "";
    const char *p = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    if (p)
        snprintf(data, sizeof data, "%s", p);
    CHECK(data[0], "shared test images missing");
    int n = 1;
    for (int m = 0; m < n_models && m < 4 && data[0]; m++) {
        char rel[128], model[4096] = "";
        snprintf(rel, sizeof rel, "models/%s.safetensors", models[m].name);
        p = pact_test_data(rel);
        CHECK(p != NULL, "%s missing", rel);
        if (!p)
            continue;
        snprintf(model, sizeof model, "%s", p);
        char cmd[9000], out[4096];
        snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --data '%s' --json", pact_test_cli(),
                 model, data);
        int rc = pact_test_run(cmd, out, sizeof out);
        cJSON *j = cJSON_Parse(out);
        const cJSON *images = cJSON_GetObjectItemCaseSensitive(j, "images");
        const cJSON *correct = cJSON_GetObjectItemCaseSensitive(j, "correct");
        CHECK(rc == 0 && cJSON_IsNumber(images) && cJSON_IsNumber(correct),
              "%s: eval failed: %d '%s'", models[m].name, rc, out);
        if (cJSON_IsNumber(images) && cJSON_IsNumber(correct)) {
            printf("%s: %d/%d correct (PyTorch %d/1017)\n", models[m].name, correct->valueint,
                   images->valueint, models[m].pytorch_correct);
            CHECK(images->valueint == 1017 && correct->valueint == models[m].pytorch_correct,
                  "%s: %d/%d correct, PyTorch %d/1017", models[m].name, correct->valueint,
                  images->valueint, models[m].pytorch_correct);
        }
        cJSON_Delete(j);
        n += 2;
    }
    return pact_test_done("test_accuracy", n);
}
