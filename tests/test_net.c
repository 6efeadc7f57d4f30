/* The engine's contract on ResNet-20: layer names, shapes and FLOPs from the
 * architecture's closed form; the hook sees every layer's input once per slice,
 * in order, and its output is what the network goes on with (a ReLU hook gives
 * the same bits as no hook); hook errors stop the forward; forward_to +
 * forward_from equals forward bit for bit; results are the same for any
 * number of engine threads; option checks. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_IMG 20

typedef struct {
    int calls, next_layer, fail_at, fail_with_message;
    int batch[256], layer[256], channels[256], spatial[256];
    int saw_negative[64];
    pact_func func;
} recorder;

static pact_status record_hook(void *ctx, int layer, float *x, int batch, int channels,
                               int spatial, pact_error *err)
{
    recorder *r = ctx;
    if (r->calls < 256) {
        r->layer[r->calls] = layer;
        r->batch[r->calls] = batch;
        r->channels[r->calls] = channels;
        r->spatial[r->calls] = spatial;
    }
    r->calls++;
    if (layer == r->fail_at) {
        if (r->fail_with_message && err) { /* as a user's hook would */
            err->status = PACT_ECALLBACK;
            snprintf(err->message, sizeof err->message, "test hook refuses layer %d", layer);
        }
        return PACT_ECALLBACK;
    }
    size_t n = (size_t)batch * channels * spatial;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < 0)
            r->saw_negative[layer] = 1;
        x[i] = (float)pact_func_eval(r->func, (double)x[i]);
    }
    return PACT_OK;
}

static pact_net *load(const char *path, int threads, int max_batch, pact_func act)
{
    pact_net_opts o = {.threads = threads, .max_batch = max_batch, .act = act};
    pact_net *net = NULL;
    pact_error err;
    CHECK_OK(pact_net_load(path, &o, &net, &err), &err);
    return net;
}

static int same(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

int main(void)
{
    int n = 0;
    pact_error err;
    const char *p = pact_test_data("models/resnet20.safetensors");
    char *model = p ? strdup(p) : NULL;
    p = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    pact_dataset *ds = NULL;
    if (p)
        CHECK_OK(pact_cifar_load(p, PACT_SPLIT_TEST, N_IMG, &ds, &err), &err);
    CHECK(model && ds, "shared data missing");
    if (!model || !ds)
        return pact_test_done("test_net", 1);
    float *x = malloc(sizeof(float) * N_IMG * PACT_CIFAR_IMAGE_SIZE);
    CHECK_OK(pact_dataset_images_f32(ds, 0, N_IMG, x, &err), &err);

    pact_net *net = load(model, 1, 64, PACT_RELU);
    if (!net)
        return pact_test_done("test_net", 1);

    /* names and shapes: stem, then stages of 3 blocks with 2 activations each */
    CHECK(strcmp(pact_net_name(net), "resnet20") == 0, "name %s", pact_net_name(net));
    CHECK(pact_net_act_count(net) == 19, "%d activation layers", pact_net_act_count(net));
    CHECK(strlen(pact_net_sha256(net)) == 64, "sha256 '%s'", pact_net_sha256(net));
    n += 3;
    int l = 0;
    for (int stage = 0; stage <= 3; stage++)
        for (int b = 0; b < (stage ? 3 : 1); b++)
            for (int k = 1; k <= (stage ? 2 : 1); k++, l++) {
                char want[64];
                if (stage)
                    snprintf(want, sizeof want, "layer%d.%d.relu%d", stage, b, k);
                else
                    snprintf(want, sizeof want, "relu");
                const char *got = pact_net_act_name(net, l);
                CHECK(got && strcmp(got, want) == 0, "layer %d: %s, expected %s", l,
                      got ? got : "(null)", want);
                CHECK(pact_net_act_find(net, want) == l, "find %s", want);
                int c, h, w, s = stage ? stage : 1;
                CHECK_OK(pact_net_act_shape(net, l, &c, &h, &w, &err), &err);
                CHECK(c == 16 << (s - 1) && h == 32 >> (s - 1) && w == h,
                      "%s: shape %dx%dx%d", want, c, h, w);
                n += 4;
            }
    CHECK(pact_net_act_name(net, 19) == NULL && pact_net_act_find(net, "relu9") == -1 &&
              pact_net_act_shape(net, -1, NULL, NULL, NULL, &err) == PACT_EINVAL,
          "out-of-range layer queries");
    n++;
    /* FLOPs, closed form: 2 x multiply-adds of 19 convolutions and the linear layer */
    double macs = 16.0 * 27 * 1024 + 6.0 * 16 * 144 * 1024 + 32.0 * 144 * 256 +
                  5.0 * 32 * 288 * 256 + 64.0 * 288 * 64 + 5.0 * 64 * 576 * 64 + 64.0 * 10;
    CHECK(pact_net_flops(net) == 2 * macs, "flops %.0f, expected %.0f", pact_net_flops(net),
          2 * macs);
    pact_model m;
    pact_net_model(net, &m);
    CHECK(m.n_act == 19 && m.input_size == 3072 && m.n_classes == 10 && m.ctx == net &&
              strcmp(m.act_names[7], "layer2.0.relu1") == 0 && m.act_funcs[18] == PACT_RELU,
          "model view");
    n += 2;

    /* no hook vs a ReLU hook through the model interface */
    float ref[N_IMG * 10], out[N_IMG * 10];
    CHECK_OK(pact_net_forward(net, x, N_IMG, NULL, NULL, ref, &err), &err);
    recorder r = {.fail_at = -1, .func = PACT_RELU};
    CHECK_OK(m.forward(m.ctx, x, N_IMG, record_hook, &r, out, &err), &err);
    CHECK(same(ref, out, N_IMG * 10), "a ReLU hook changes the logits");
    CHECK(r.calls == 19, "%d hook calls for one slice, expected 19", r.calls);
    int order_ok = 1, neg = 1;
    for (int i = 0; i < 19 && i < r.calls; i++) {
        int c, h, w;
        pact_net_act_shape(net, i, &c, &h, &w, NULL);
        order_ok &= r.layer[i] == i && r.batch[i] == N_IMG && r.channels[i] == c &&
                    r.spatial[i] == h * w;
        neg &= r.saw_negative[i];
    }
    CHECK(order_ok, "hook calls out of order or with wrong shapes");
    CHECK(neg, "a layer's hook input had no negative value: not the pre-activation");
    n += 4;

    /* the default slices (8 x threads images; results unchanged) */
    pact_net *dflt = load(model, 2, 0, PACT_RELU);
    recorder rd = {.fail_at = -1, .func = PACT_RELU};
    if (dflt)
        CHECK_OK(pact_net_forward(dflt, x, N_IMG, record_hook, &rd, out, &err), &err);
    CHECK(same(ref, out, N_IMG * 10) && rd.calls == 38 && rd.batch[0] == 16 && rd.batch[19] == 4,
          "default slices: %d calls, batches %d %d", rd.calls, rd.batch[0], rd.batch[19]);
    pact_net_free(dflt);
    n++;

    /* slices: max_batch 8 runs 20 images as 8 + 8 + 4, layer by layer */
    pact_net *sliced = load(model, 1, 8, PACT_RELU);
    recorder rs = {.fail_at = -1, .func = PACT_RELU};
    if (sliced)
        CHECK_OK(pact_net_forward(sliced, x, N_IMG, record_hook, &rs, out, &err), &err);
    CHECK(rs.calls == 57 && rs.batch[0] == 8 && rs.batch[19] == 8 && rs.batch[38] == 4 &&
              rs.layer[19] == 0 && rs.layer[56] == 18,
          "sliced hook calls: %d (batches %d %d %d)", rs.calls, rs.batch[0], rs.batch[19],
          rs.batch[38]);
    n++;

    /* hook failures stop the forward with the hook's status and message */
    recorder rf = {.fail_at = 5, .fail_with_message = 1, .func = PACT_RELU};
    pact_status st = pact_net_forward(net, x, N_IMG, record_hook, &rf, out, &err);
    CHECK(st == PACT_ECALLBACK && strstr(err.message, "refuses layer 5") && rf.calls == 6,
          "failing hook: %s '%s' after %d calls", pact_status_str(st), err.message, rf.calls);
    rf = (recorder){.fail_at = 3, .func = PACT_RELU};
    st = pact_net_forward(net, x, N_IMG, record_hook, &rf, out, &err);
    CHECK(st == PACT_ECALLBACK && strstr(err.message, "layer1.1.relu1"),
          "silent failing hook: %s '%s'", pact_status_str(st), err.message);
    n += 2;

    /* forward_to + forward_from == forward, bit for bit, also with a hook */
    const int layers[] = {0, 7, 8, 13, 18};
    pact_net *threaded = load(model, 3, 64, PACT_RELU);
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const int L = layers[i];
        size_t sz = pact_net_state_size(net, L);
        int c, h, w;
        pact_net_act_shape(net, L, &c, &h, &w, NULL);
        CHECK(sz >= (size_t)c * h * w, "state of layer %d: %zu floats", L, sz);
        float *state = malloc(sizeof(float) * sz * N_IMG);
        for (int t = 0; t < 2; t++) {
            const pact_net *nn = t ? threaded : net;
            if (!nn)
                continue;
            recorder a = {.fail_at = -1, .func = PACT_RELU};
            CHECK_OK(pact_net_forward_to(nn, x, N_IMG, L, t ? record_hook : NULL, &a, state,
                                         &err),
                     &err);
            CHECK_OK(pact_net_forward_from(nn, L, state, N_IMG, t ? record_hook : NULL, &a, out,
                                           &err),
                     &err);
            CHECK(same(ref, out, N_IMG * 10), "forward_to/from at layer %d (%d threads) differs",
                  L, t ? 3 : 1);
            CHECK(!t || a.calls == 19, "layer %d: %d hook calls over to + from", L, a.calls);
            n += 4;
        }
        free(state);
    }
    /* the state of layer2.0.relu1 holds its input and the block's input */
    CHECK(pact_net_state_size(net, 7) == 32 * 16 * 16 + 16 * 32 * 32 &&
              pact_net_state_size(net, 0) == 16 * 32 * 32 && pact_net_state_size(net, 19) == 0,
          "state sizes %zu %zu", pact_net_state_size(net, 7), pact_net_state_size(net, 0));
    n++;

    /* any number of threads: the same bits, with and without a hook */
    for (int t = 2; t <= 4; t++) {
        pact_net *tn = load(model, t, 64, PACT_RELU);
        recorder a = {.fail_at = -1, .func = PACT_RELU};
        if (tn) {
            CHECK_OK(pact_net_forward(tn, x, N_IMG, NULL, NULL, out, &err), &err);
            CHECK(same(ref, out, N_IMG * 10), "%d threads differ from 1", t);
            CHECK_OK(pact_net_forward(tn, x, N_IMG, record_hook, &a, out, &err), &err);
            CHECK(same(ref, out, N_IMG * 10) && a.calls == 19, "%d threads with a hook", t);
            n += 4;
        }
        pact_net_free(tn);
    }

    /* another activation in every layer: the hook learns it from act_funcs */
    pact_net *g = load(model, 2, 64, PACT_GELU);
    if (g) {
        pact_model gm;
        pact_net_model(g, &gm);
        CHECK(gm.act_funcs[0] == PACT_GELU && gm.act_funcs[18] == PACT_GELU, "act_funcs");
        float gref[N_IMG * 10];
        CHECK_OK(pact_net_forward(g, x, N_IMG, NULL, NULL, gref, &err), &err);
        recorder a = {.fail_at = -1, .func = gm.act_funcs[0]};
        CHECK_OK(pact_net_forward(g, x, N_IMG, record_hook, &a, out, &err), &err);
        CHECK(same(gref, out, N_IMG * 10), "GELU hook differs from the engine's GELU");
        CHECK(!same(gref, ref, N_IMG * 10), "GELU network gives the ReLU logits");
        n += 5;
    }
    pact_net_free(g);

    /* options and arguments */
    pact_net *bad = NULL;
    pact_net_opts o = {.threads = -1};
    CHECK(pact_net_load(model, &o, &bad, &err) == PACT_EINVAL, "threads -1");
    o = (pact_net_opts){.max_batch = -1};
    CHECK(pact_net_load(model, &o, &bad, &err) == PACT_EINVAL, "max_batch -1");
    o = (pact_net_opts){.act = PACT_FUNC_COUNT};
    CHECK(pact_net_load(model, &o, &bad, &err) == PACT_EINVAL, "unknown act");
    CHECK(pact_net_forward(net, x, -1, NULL, NULL, out, &err) == PACT_EINVAL, "batch -1");
    CHECK(pact_net_forward(net, x, 0, NULL, NULL, out, &err) == PACT_OK, "batch 0");
    CHECK(pact_net_forward_to(net, x, 1, 19, NULL, NULL, out, &err) == PACT_EINVAL,
          "forward_to layer 19");
    pact_net_free(NULL);
    n += 6;

    /* pact_model_evaluate over the interface: counts on 20 images */
    pact_eval_result res;
    int pred[N_IMG];
    CHECK_OK(pact_model_evaluate(&m, ds, NULL, &res, pred, &err), &err);
    int correct = 0;
    for (int i = 0; i < N_IMG; i++) {
        int best = 0;
        for (int k = 1; k < 10; k++)
            best = ref[i * 10 + k] > ref[i * 10 + best] ? k : best;
        correct += best == pact_dataset_label(ds, (size_t)i);
        CHECK(pred[i] == best, "image %d: predicted %d, argmax %d", i, pred[i], best);
    }
    CHECK(res.images == N_IMG && res.correct == (size_t)correct &&
              res.accuracy == (double)correct / N_IMG,
          "evaluate: %zu/%zu, expected %d/%d", res.correct, res.images, correct, N_IMG);
    n += N_IMG + 1;

    pact_net_free(threaded);
    pact_net_free(sliced);
    pact_net_free(net);
    pact_dataset_free(ds);
    free(x);
    free(model);
    return pact_test_done("test_net", n);
}
