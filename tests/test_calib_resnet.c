/* Calibration of ResNet-20 on the shared training images against the PyTorch
 * reference (tests/reference/resnet_ref.py calib, run live): every activation
 * layer's min, max, mean and std. Args: [images (1017; 128 under ASan)]. */
#include "nn_ref.h"

#include <cjson/cJSON.h>
#include <math.h>

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_IMAGES 128
#else
#define DEFAULT_IMAGES 1017
#endif

int main(int argc, char **argv)
{
    int images = argc > 1 ? atoi(argv[1]) : DEFAULT_IMAGES, n = 0;
    const char *mp = pact_test_data("models/resnet20.safetensors");
    char *model = mp ? strdup(mp) : NULL;
    const char *dp = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    char *data = dp ? strdup(dp) : NULL;
    CHECK(model && data, "shared model or training images missing");
    if (!model || !data)
        return pact_test_done("test_calib_resnet", 0);

    char args[9000];
    snprintf(args, sizeof args, "calib --model %s --data %s --images %d", model, data, images);
    char *out = nn_ref_run(args);
    cJSON *ref = out ? cJSON_Parse(out) : NULL;
    free(out);
    const cJSON *rl = cJSON_GetObjectItemCaseSensitive(ref, "layers");

    pact_error err;
    pact_net *net = NULL;
    pact_dataset *ds = NULL;
    pact_calib *cal = NULL;
    CHECK_OK(pact_net_load(model, NULL, &net, &err), &err);
    CHECK_OK(pact_cifar_load(data, PACT_SPLIT_TRAIN, (size_t)images, &ds, &err), &err);
    n += 2;
    if (net && ds) {
        pact_model m;
        pact_net_model(net, &m);
        CHECK_OK(pact_calibrate(&m, ds, NULL, &cal, &err), &err);
        n++;
    }
    CHECK(cJSON_IsArray(rl) && cal && cJSON_GetArraySize(rl) == pact_calib_layer_count(cal),
          "reference has %d layers, polyact %d", cJSON_IsArray(rl) ? cJSON_GetArraySize(rl) : -1,
          cal ? pact_calib_layer_count(cal) : -1);
    n++;
    double worst_range = 0.0, worst_moment = 0.0;
    for (int i = 0; cal && cJSON_IsArray(rl) && i < cJSON_GetArraySize(rl) &&
                    i < pact_calib_layer_count(cal); i++) {
        const cJSON *r = cJSON_GetArrayItem(rl, i);
        pact_calib_layer l;
        pact_calib_layer_get(cal, i, &l, &err);
        const char *rname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "name"));
        double rmin = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "min"));
        double rmax = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "max"));
        double rmean = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "mean"));
        double rstd = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "std"));
        CHECK(rname && strcmp(rname, l.name) == 0, "layer %d: reference '%s', polyact '%s'", i,
              rname ? rname : "?", l.name);
        CHECK(fabs(l.min - rmin) <= 1e-3 && fabs(l.max - rmax) <= 1e-3,
              "%s: range [%.6f, %.6f], PyTorch [%.6f, %.6f]", l.name, l.min, l.max, rmin, rmax);
        CHECK(fabs(l.mean - rmean) <= 1e-4 && fabs(l.std - rstd) <= 1e-4,
              "%s: mean %.6f std %.6f, PyTorch %.6f %.6f", l.name, l.mean, l.std, rmean, rstd);
        worst_range = fmax(worst_range, fmax(fabs(l.min - rmin), fabs(l.max - rmax)));
        worst_moment = fmax(worst_moment, fmax(fabs(l.mean - rmean), fabs(l.std - rstd)));
        n += 3;
    }
    printf("resnet20, %d training images: max |range - PyTorch| %.2e, max |mean/std - PyTorch| %.2e\n",
           images, worst_range, worst_moment);
    cJSON_Delete(ref);
    pact_calib_free(cal);
    pact_dataset_free(ds);
    pact_net_free(net);
    free(model);
    free(data);
    return pact_test_done("test_calib_resnet", n);
}
