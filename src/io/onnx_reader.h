/* ONNX reader: the protobuf file (onnx.proto, parsed with protobuf-c) turned
 * into plain C structs that the graph builder (src/nn/onnx_build.c) reads, so
 * that nothing else depends on the generated bindings. Internal.
 *
 * Every byte is hostile: before protobuf-c sees the file, a walk of the wire
 * format checks every length against what remains and bounds the nesting of
 * messages; every tensor's dims, data type and data size are checked against
 * each other. Every message names the origin (the file) and the tensor, node
 * or field at fault. */
#ifndef PACT_ONNX_READER_H
#define PACT_ONNX_READER_H

#include "../internal.h"

#define PACT_OX_MAX_DIMS 8
#define PACT_OX_MAX_FILE ((size_t)2 << 30) /* protobuf's own limit, 2 GiB */

/* A tensor: floating-point data types become float, integer and bool ones
 * int64. dtype is ONNX's TensorProto.DataType code. */
typedef struct {
    char *name;
    int dtype;
    int ndim;
    int64_t dims[PACT_OX_MAX_DIMS];
    size_t count;       /* product of dims (1 for a scalar) */
    int is_int;         /* data in i (else in f) */
    float *f;
    int64_t *i;
} pact_ox_tensor;

enum { PACT_OX_FLOAT = 1, PACT_OX_INT64 = 7 }; /* the dtype codes polyact creates */

typedef enum {
    PACT_OX_ATTR_OTHER = 0, /* graphs, sparse tensors, type protos: never used */
    PACT_OX_ATTR_FLOAT,
    PACT_OX_ATTR_INT,
    PACT_OX_ATTR_STRING,
    PACT_OX_ATTR_TENSOR,
    PACT_OX_ATTR_FLOATS,
    PACT_OX_ATTR_INTS,
    PACT_OX_ATTR_STRINGS
} pact_ox_attr_type;

typedef struct {
    char *name;
    pact_ox_attr_type type;
    float f;
    int64_t i;
    char *s;
    size_t n;           /* FLOATS / INTS: element count */
    float *floats;
    int64_t *ints;
    pact_ox_tensor *t;  /* TENSOR */
} pact_ox_attr;

typedef struct {
    char *name;         /* "" when the file has none */
    char *op_type;
    char *domain;       /* "" for the default (ai.onnx) domain */
    int n_in, n_out;
    char **in, **out;   /* "" for an omitted optional input */
    int n_attr;
    pact_ox_attr *attr;
} pact_ox_node;

/* A graph input or output: its element type and shape (-1 where a dimension
 * is symbolic or unknown; has_shape 0 when there is no shape at all). */
typedef struct {
    char *name;
    int elem_type;
    int has_shape;
    int ndim;
    int64_t dims[PACT_OX_MAX_DIMS];
} pact_ox_value;

typedef struct {
    char *origin;       /* the file's path, for messages */
    int64_t opset;      /* version of the default domain's operator set (0: none) */
    char *graph_name;
    int n_nodes;
    pact_ox_node *nodes;
    int n_init;
    pact_ox_tensor *init;
    int n_inputs, n_outputs;
    pact_ox_value *inputs, *outputs;
    int n_meta;
    char **meta_key, **meta_value;
} pact_ox_model;

/* Parses `size` bytes of an ONNX ModelProto. `origin` names it in messages.
 * out *model: free with pact_ox_free. PACT_EFORMAT (not a valid protobuf,
 * nesting deeper than 32 messages, no graph, a malformed tensor or value:
 * named), PACT_EUNSUPPORTED (a build without ONNX support; external or
 * segmented tensor data), PACT_ENOMEM. */
pact_status pact_ox_parse(const unsigned char *bytes, size_t size, const char *origin,
                          pact_ox_model **model, pact_error *err);

void pact_ox_free(pact_ox_model *model);

/* Releases what a tensor owns (not the struct). */
void pact_ox_tensor_clear(pact_ox_tensor *t);

/* Value of metadata key `key`, or NULL. */
const char *pact_ox_metadata(const pact_ox_model *model, const char *key);

/* Attribute `name` of a node, or NULL. */
const pact_ox_attr *pact_ox_attr_find(const pact_ox_node *node, const char *name);

/* Name of an ONNX data type code ("FLOAT", "INT64", ...; "?" if unknown). */
const char *pact_ox_dtype_name(int dtype);

#endif
