/* pact_net: polyact's own network engine behind the model interface. */
#include "builders.h"
#include "onnx_internal.h"
#include "../internal.h"
#include "../io/file_util.h"
#include "../io/sha256.h"
#include "net_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


struct pact_net {
    pact_graph graph;
    char name[32];
    char sha256[65];
    int max_batch;
    int threads;
};

/* ONNX when the name ends in .onnx, or when the bytes do not start like a
 * safetensors file (u64 header length, then '{') but like a ModelProto
 * (field 1, ir_version, a varint). */
static int onnx_name(const char *name)
{
    size_t len = strlen(name);
    return len > 5 && strcasecmp(name + len - 5, ".onnx") == 0;
}

static int onnx_head(const unsigned char *head, size_t n)
{
    return n >= 9 && head[8] != '{' && head[0] == 0x08;
}

static int is_onnx(const char *path)
{
    if (onnx_name(path))
        return 1;
    unsigned char head[9];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return onnx_head(head, n);
}

/* Small slices keep a slice's activations in the caches from one hook to the
 * next; a multiple of the group size keeps results unchanged. */
static void set_slicing(pact_net *net, const pact_net_opts *opts)
{
    net->threads = opts && opts->threads ? opts->threads : 1;
    net->max_batch = opts && opts->max_batch ? opts->max_batch : PACT_GROUP_ALIGN * net->threads;
}

static pact_status check_classes(pact_net *net, const pact_net_opts *opts, const char *name,
                                 pact_error *err)
{
    if (opts && opts->n_classes && opts->n_classes != net->graph.n_classes)
        return pact_fail(err, PACT_EMISMATCH, "%s: %d classes expected, the model has %d", name,
                         opts->n_classes, net->graph.n_classes);
    return PACT_OK;
}

/* An ONNX model from its bytes; `path` names it in messages. */
static pact_status onnx_from_bytes(const unsigned char *bytes, size_t size, const char *path,
                                   const pact_net_opts *opts, pact_net **out, pact_error *err)
{
    pact_net *net = calloc(1, sizeof *net);
    if (!net)
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    set_slicing(net, opts);
    pact_ox_model *m = NULL;
    pact_sha256_hex(bytes, size, net->sha256);
    pact_status st = pact_ox_parse(bytes, size, path, &m, err);
    if (st == PACT_OK)
        st = pact_onnx_build(m, opts, &net->graph, net->name, sizeof net->name, err);
    pact_ox_free(m);
    if (st == PACT_OK && (st = check_classes(net, opts, path, err)) != PACT_OK)
        pact_graph_clear(&net->graph);
    if (st != PACT_OK) {
        free(net);
        return st;
    }
    *out = net;
    return PACT_OK;
}

static pact_status load_onnx(const char *path, const pact_net_opts *opts, pact_net **out,
                             pact_error *err)
{
    char *bytes = NULL;
    size_t size = 0;
    pact_status st = pact_read_file(path, PACT_OX_MAX_FILE, &bytes, &size, err);
    if (st == PACT_OK)
        st = onnx_from_bytes((const unsigned char *)bytes, size, path, opts, out, err);
    free(bytes);
    return st;
}

/* Builds the net from a validated safetensors file (read from disk or parsed
 * from memory); f is closed. */
static pact_status net_from_file(pact_st_file *f, const pact_net_opts *opts, pact_net **out,
                                 pact_error *err)
{
    pact_net *net = calloc(1, sizeof *net);
    if (!net) {
        pact_st_close(f);
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    }
    size_t size;
    const unsigned char *bytes = pact_st_bytes(f, &size);
    pact_sha256_hex(bytes, size, net->sha256);
    set_slicing(net, opts);
    pact_status st = pact_resnet_build(f, opts, &net->graph, net->name, sizeof net->name, err);
    if (st == PACT_OK && (st = check_classes(net, opts, pact_st_path(f), err)) != PACT_OK)
        pact_graph_clear(&net->graph);
    pact_st_close(f);
    if (st != PACT_OK) {
        free(net);
        return st;
    }
    *out = net;
    return PACT_OK;
}

static pact_status check_opts(const pact_net_opts *opts, pact_error *err)
{
    if (opts && opts->max_batch < 0)
        return pact_fail(err, PACT_EINVAL, "max_batch %d < 0", opts->max_batch);
    if (opts && (opts->threads < 0 || opts->threads > PACT_NET_MAX_THREADS))
        return pact_fail(err, PACT_EINVAL, "threads %d outside 0..%d", opts->threads,
                         PACT_NET_MAX_THREADS);
    if (opts && (opts->n_classes < 0 || opts->n_classes > 1000000))
        return pact_fail(err, PACT_EINVAL, "n_classes %d outside 0..1000000", opts->n_classes);
    return PACT_OK;
}

pact_status pact_net_load(const char *path, const pact_net_opts *opts, pact_net **out,
                          pact_error *err)
{
    *out = NULL;
    pact_status st = check_opts(opts, err);
    if (st == PACT_OK && !path)
        st = pact_fail(err, PACT_EINVAL, "NULL path");
    if (st != PACT_OK)
        return st;
    if (is_onnx(path))
        return load_onnx(path, opts, out, err);
    pact_st_file *f = NULL;
    st = pact_st_open(path, &f, err);
    return st == PACT_OK ? net_from_file(f, opts, out, err) : st;
}

pact_status pact_net_from_st(pact_st_file *f, const pact_net_opts *opts, pact_net **out,
                             pact_error *err)
{
    *out = NULL;
    pact_status st = check_opts(opts, err);
    if (st != PACT_OK) {
        pact_st_close(f);
        return st;
    }
    return net_from_file(f, opts, out, err);
}

pact_status pact_net_load_memory(const void *bytes, size_t size, const char *name,
                                 const pact_net_opts *opts, pact_net **out, pact_error *err)
{
    *out = NULL;
    pact_status st = check_opts(opts, err);
    if (st == PACT_OK && !bytes && size)
        st = pact_fail(err, PACT_EINVAL, "%s: NULL bytes", name ? name : "(memory)");
    if (!name)
        name = "(memory)";
    if (st == PACT_OK && (onnx_name(name) || onnx_head(bytes, size)))
        return onnx_from_bytes(bytes, size, name, opts, out, err);
    pact_st_file *f = NULL;
    if (st == PACT_OK)
        st = pact_st_parse(bytes, size, name, &f, err);
    return st == PACT_OK ? net_from_file(f, opts, out, err) : st;
}

void pact_net_free(pact_net *net)
{
    if (!net)
        return;
    pact_graph_clear(&net->graph);
    free(net);
}

const char *pact_net_name(const pact_net *net) { return net->name; }
const char *pact_net_sha256(const pact_net *net) { return net->sha256; }
int pact_net_act_count(const pact_net *net) { return net->graph.n_act; }

const char *pact_net_act_name(const pact_net *net, int layer)
{
    return layer >= 0 && layer < net->graph.n_act ? net->graph.act_names[layer] : NULL;
}

int pact_net_act_find(const pact_net *net, const char *name)
{
    for (int l = 0; name && l < net->graph.n_act; l++)
        if (strcmp(net->graph.act_names[l], name) == 0)
            return l;
    return -1;
}

pact_status pact_net_act_shape(const pact_net *net, int layer, int *channels, int *height,
                               int *width, pact_error *err)
{
    if (layer < 0 || layer >= net->graph.n_act)
        return pact_fail(err, PACT_EINVAL, "%s: activation layer %d outside 0..%d", net->name,
                         layer, net->graph.n_act - 1);
    const pact_shape s = net->graph.ops[net->graph.act_op[layer]].in_shape;
    if (channels)
        *channels = s.c;
    if (height)
        *height = s.h;
    if (width)
        *width = s.w;
    return PACT_OK;
}

double pact_net_flops(const pact_net *net)
{
    double flops = 0.0;
    for (int i = 0; i < net->graph.n_ops; i++) {
        const pact_op *op = &net->graph.ops[i];
        if (op->kind == PACT_OP_CONV)
            flops += 2.0 * op->out_shape.c * op->out_shape.h * op->out_shape.w * op->in_shape.c *
                     op->ksize * op->ksize;
        else if (op->kind == PACT_OP_LINEAR)
            flops += 2.0 * op->out_shape.c * op->in_shape.c;
    }
    return flops;
}

static pact_status check_batch(const pact_net *net, const void *in, int batch, const void *out,
                               pact_error *err)
{
    if (batch < 0)
        return pact_fail(err, PACT_EINVAL, "%s: batch %d < 0", net->name, batch);
    if (batch > 0 && (!in || !out))
        return pact_fail(err, PACT_EINVAL, "%s: NULL input or output", net->name);
    return PACT_OK;
}

pact_status pact_net_forward(const pact_net *net, const float *input, int batch,
                             pact_act_hook hook, void *hook_ctx, float *logits, pact_error *err)
{
    pact_status st = check_batch(net, input, batch, logits, err);
    if (st != PACT_OK || batch == 0)
        return st;
    pact_graph_io io = {.input = input, .logits = logits, .hook = hook, .hook_ctx = hook_ctx};
    return pact_graph_run(&net->graph, 0, net->graph.n_ops, batch, net->max_batch, net->threads, &io, err);
}

size_t pact_net_state_size(const pact_net *net, int layer)
{
    if (layer < 0 || layer >= net->graph.n_act)
        return 0;
    int ids[PACT_GRAPH_MAX_STATE];
    size_t each[PACT_GRAPH_MAX_STATE], total;
    pact_graph_state(&net->graph, net->graph.act_op[layer], ids, each, PACT_GRAPH_MAX_STATE,
                     &total);
    return total;
}

static pact_status check_layer(const pact_net *net, int layer, pact_error *err)
{
    if (layer < 0 || layer >= net->graph.n_act)
        return pact_fail(err, PACT_EINVAL, "%s: activation layer %d outside 0..%d", net->name,
                         layer, net->graph.n_act - 1);
    return PACT_OK;
}

pact_status pact_net_forward_to(const pact_net *net, const float *input, int batch, int layer,
                                pact_act_hook hook, void *hook_ctx, float *state,
                                pact_error *err)
{
    pact_status st = check_layer(net, layer, err);
    if (st == PACT_OK)
        st = check_batch(net, input, batch, state, err);
    if (st != PACT_OK || batch == 0)
        return st;
    pact_graph_io io = {.input = input, .state_out = state, .hook = hook, .hook_ctx = hook_ctx};
    return pact_graph_run(&net->graph, 0, net->graph.act_op[layer], batch, net->max_batch, net->threads, &io,
                          err);
}

pact_status pact_net_forward_from(const pact_net *net, int layer, const float *state, int batch,
                                  pact_act_hook hook, void *hook_ctx, float *logits,
                                  pact_error *err)
{
    pact_status st = check_layer(net, layer, err);
    if (st == PACT_OK)
        st = check_batch(net, state, batch, logits, err);
    if (st != PACT_OK || batch == 0)
        return st;
    pact_graph_io io = {.state_in = state, .logits = logits, .hook = hook, .hook_ctx = hook_ctx};
    return pact_graph_run(&net->graph, net->graph.act_op[layer], net->graph.n_ops, batch,
                          net->max_batch, net->threads, &io, err);
}

static pact_status model_forward(void *ctx, const float *input, int batch, pact_act_hook hook,
                                 void *hook_ctx, float *logits, pact_error *err)
{
    return pact_net_forward(ctx, input, batch, hook, hook_ctx, logits, err);
}

static size_t model_state_size(void *ctx, int layer)
{
    return pact_net_state_size(ctx, layer);
}

static pact_status model_forward_to(void *ctx, const float *input, int batch, int layer,
                                    pact_act_hook hook, void *hook_ctx, float *state,
                                    pact_error *err)
{
    return pact_net_forward_to(ctx, input, batch, layer, hook, hook_ctx, state, err);
}

static pact_status model_forward_from(void *ctx, int layer, const float *state, int batch,
                                      pact_act_hook hook, void *hook_ctx, float *logits,
                                      pact_error *err)
{
    return pact_net_forward_from(ctx, layer, state, batch, hook, hook_ctx, logits, err);
}

void pact_net_model(const pact_net *net, pact_model *model)
{
    memset(model, 0, sizeof *model);
    /* the forward function never modifies the net: the cast only fits the
     * interface's untyped context */
    model->ctx = (void *)(uintptr_t)net;
    model->n_act = net->graph.n_act;
    model->act_names = (const char *const *)net->graph.act_names;
    model->act_funcs = net->graph.act_funcs;
    model->input_size = net->graph.input_size;
    model->n_classes = net->graph.n_classes;
    model->forward = model_forward;
    model->state_size = model_state_size;
    model->forward_to = model_forward_to;
    model->forward_from = model_forward_from;
}

const pact_graph *pact_net_graph(const pact_net *net) { return &net->graph; }
int pact_net_threads(const pact_net *net) { return net->threads; }
