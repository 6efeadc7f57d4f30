/* The ONNX graph builder's internal pieces: constant folding (onnx_const.c)
 * and the builder itself (onnx_build.c). Internal to the library. */
#ifndef PACT_NN_ONNX_INTERNAL_H
#define PACT_NN_ONNX_INTERNAL_H

#include "builders.h"
#include "../io/onnx_reader.h"

/* Elements a folded constant may hold (shape computations are tiny, and the
 * largest weight an exporter might fold, a ResNet-50 classifier, has 2M; this
 * bounds what a hostile ConstantOfShape, Concat or Slice chain can make us
 * allocate and copy: at 2^24 a chain of such folds took 30 s under the
 * fuzzer's instrumentation on a loaded machine, see tests/fuzz/RUNS.md). */
#define PACT_OX_FOLD_MAX ((size_t)1 << 22)

/* 1 if `op_type` can be evaluated at load time when all its inputs are
 * constants (Constant, ConstantOfShape, Identity, Cast, Reshape, Flatten,
 * Squeeze, Unsqueeze, Concat, Gather, Slice, Transpose, Shape, Add, Sub, Mul,
 * Div, Neg). */
int pact_ox_foldable(const char *op_type);

/* Evaluates `node` on constant inputs in[0..n_in) (NULL for an omitted
 * optional input) under operator set `opset`. out *out (clear it with
 * pact_ox_tensor_clear). PACT_EFORMAT naming origin, node and what is wrong
 * (shapes, indices, a result above PACT_OX_FOLD_MAX elements); PACT_ENOMEM. */
pact_status pact_ox_fold(const pact_ox_node *node, const pact_ox_tensor *const *in, int n_in,
                         int64_t opset, const char *origin, pact_ox_tensor *out,
                         pact_error *err);

/* Allocates t->f or t->i for t->count elements (after dims and is_int are
 * set) and sets the dtype to FLOAT or INT64. PACT_ENOMEM. */
pact_status pact_ox_tensor_alloc(pact_ox_tensor *t, pact_error *err);

/* Element k as a double. */
double pact_ox_at(const pact_ox_tensor *t, size_t k);

/* Builds the layer graph of an ONNX model (see pact_net_load). Fills *g
 * (cleared on failure) and the network's name. */
pact_status pact_onnx_build(const pact_ox_model *model, const pact_net_opts *opts, pact_graph *g,
                            char *name, size_t name_size, pact_error *err);

#endif
