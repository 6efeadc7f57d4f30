/* libFuzzer target: safetensors bytes. pact_st_parse (what pact_st_open runs
 * on a file's bytes) and every tensor read as floats; then the rest of the
 * model loader (pact_net_from_st: the CIFAR ResNet builder's checks of names,
 * shapes, dtypes and values) and, for a sample of the nets that come out, a
 * forward pass. */
#include "fuzz_check.h"
#include "io/safetensors.h"
#include "nn/net_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static const pact_status refusals[] = {PACT_EFORMAT, PACT_ENOMEM, PACT_OK};
static const pact_status net_refusals[] = {PACT_EFORMAT, PACT_EINVAL, PACT_ENOMEM, PACT_OK};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pact_st_file *f = NULL;
    pact_error err = {0};
    pact_status st = pact_st_parse(data, size, "fuzz.safetensors", &f, &err);
    if (st != PACT_OK) {
        FUZZ_ASSERT(f == NULL, "a file came back with %s", pact_status_str(st));
        fuzz_check_refusal(st, &err, "fuzz.safetensors", refusals);
        return 0;
    }
    for (int i = 0; i < pact_st_count(f); i++) {
        const pact_st_tensor *t = pact_st_at(f, i);
        FUZZ_ASSERT(t->begin <= t->end && t->end <= size, "tensor %s [%llu, %llu] in %zu bytes",
                    t->name, (unsigned long long)t->begin, (unsigned long long)t->end, size);
        FUZZ_ASSERT(pact_st_find(f, t->name) == t, "tensor %s not found by name", t->name);
        float *v = malloc(sizeof(float) * (t->count ? t->count : 1));
        if (!v)
            continue;
        st = pact_st_read_f32(f, t, v, &err);
        if (st != PACT_OK) {
            static const pact_status read_refusals[] = {PACT_EFORMAT, PACT_OK};
            fuzz_check_refusal(st, &err, t->name, read_refusals);
        }
        free(v);
    }

    pact_net *net = NULL;
    st = pact_net_from_st(f, NULL, &net, &err);
    if (st != PACT_OK) {
        FUZZ_ASSERT(net == NULL, "a net came back with %s", pact_status_str(st));
        fuzz_check_refusal(st, &err, "", net_refusals);
        return 0;
    }
    pact_model m;
    pact_net_model(net, &m);
    FUZZ_ASSERT(m.n_act >= 7 && m.input_size == 3072 && m.n_classes >= 1, "net shape");
    /* one image, when the net is small enough to run quickly */
    if (pact_net_flops(net) < 2e7 && fuzz_sampled(data, size, 32)) {
        float *x = calloc(3072, sizeof(float)), *logits = calloc((size_t)m.n_classes, sizeof(float));
        if (x && logits) {
            for (int k = 0; k < 3072; k++)
                x[k] = (float)(k % 256) / 255.0f;
            st = pact_net_forward(net, x, 1, NULL, NULL, logits, &err);
            FUZZ_ASSERT(st == PACT_OK || st == PACT_ENOMEM, "forward: %s %s",
                        pact_status_str(st), err.message);
        }
        free(x);
        free(logits);
    }
    pact_net_free(net);
    return 0;
}
