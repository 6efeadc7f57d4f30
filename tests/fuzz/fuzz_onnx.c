/* libFuzzer target: ONNX parsing and graph building must never crash, hang or
 * leak; a graph that builds must also run one image. Seeds: the tiny model of
 * tests/test_onnx_hostile.c and its malformed variants
 * (test_onnx_hostile --seeds tests/fuzz/corpus/onnx). */
#include "io/onnx_reader.h"
#include "nn/onnx_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Work of one image, to keep each input fast. */
static double work(const pact_graph *g)
{
    double w = 0.0;
    for (int i = 0; i < g->n_ops; i++) {
        const pact_op *op = &g->ops[i];
        double out = (double)op->out_shape.c * op->out_shape.h * op->out_shape.w;
        w += out * (op->kind == PACT_OP_CONV ? (double)op->in_shape.c * op->ksize * op->ksize
                    : op->kind == PACT_OP_LINEAR ? (double)op->in_shape.c * op->in_shape.h * op->in_shape.w
                    : op->kind == PACT_OP_MAXPOOL || op->kind == PACT_OP_AVGPOOL
                        ? (double)op->kh * op->kw : 1.0);
    }
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pact_ox_model *m = NULL;
    pact_error err;
    if (pact_ox_parse(data, size, "fuzz.onnx", &m, &err) == PACT_OK) {
        pact_graph g;
        char name[32];
        if (pact_onnx_build(m, NULL, &g, name, sizeof name, &err) == PACT_OK) {
            if (work(&g) < 1e7 && g.input_size < (1 << 20)) {
                float *x = calloc((size_t)g.input_size, sizeof(float));
                float *y = calloc((size_t)g.n_classes, sizeof(float));
                pact_graph_io io = {.input = x, .logits = y};
                if (x && y)
                    pact_graph_run(&g, 0, g.n_ops, 1, 1, 1, &io, &err);
                free(x);
                free(y);
            }
            pact_graph_clear(&g);
        }
    }
    pact_ox_free(m);
    return 0;
}
