/* Hostile ONNX files are refused cleanly: every prefix of a valid model
 * (truncation), lying lengths, messages nested without end, cycles, unknown
 * operators (the message names the node and its op type), missing
 * initializers, tensors whose dims and data disagree, NaN weights, external
 * data, values written twice, two outputs, no input normalisation; and
 * thousands of random byte flips never crash (run under ASan). The valid
 * model itself (Conv with padding, Relu, GlobalAveragePool, Flatten, Gemm)
 * gives the logits of a direct double-precision computation.
 *
 * The models are written here byte by byte in protobuf wire format (field
 * numbers from onnx.proto), so the test needs no ONNX tooling.
 *   test_onnx_hostile [--seeds DIR]   also writes fuzzing seeds to DIR */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "io/onnx_reader.h"
#include "nn/onnx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- a protobuf writer ------------------------------------------------------ */

typedef struct {
    unsigned char *p;
    size_t n, cap;
} pb;

static void put(pb *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void varint(pb *b, uint64_t v)
{
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        put(b, &c, 1);
    } while (v);
}

static void tag(pb *b, int field, int wire) { varint(b, (uint64_t)field << 3 | (uint64_t)wire); }
static void pint(pb *b, int field, int64_t v) { tag(b, field, 0); varint(b, (uint64_t)v); }

static void pbytes(pb *b, int field, const void *data, size_t n)
{
    tag(b, field, 2);
    varint(b, n);
    put(b, data, n);
}

static void pstr(pb *b, int field, const char *s) { pbytes(b, field, s, strlen(s)); }

/* Appends sub as a message field and frees it. */
static void pmsg(pb *b, int field, pb *sub)
{
    pbytes(b, field, sub->p, sub->n);
    free(sub->p);
    memset(sub, 0, sizeof *sub);
}

/* --- the model -------------------------------------------------------------- */

enum {
    M_OK, M_UNKNOWN_OP, M_MISSING_INIT, M_CYCLE, M_DUP_OUTPUT, M_RAW_SHORT, M_HUGE_DIMS,
    M_NAN_WEIGHT, M_EXTERNAL, M_NO_NORM, M_CONV_CHANNELS, M_TWO_OUTPUTS, M_DOMAIN,
    M_GROUP, M_COUNT
};

#define C_IN 3
#define C_OUT 4
#define HW 6
#define CLASSES 5

static float conv_w[C_OUT * C_IN * 9], conv_b[C_OUT], fc_w[CLASSES * C_OUT], fc_b[CLASSES];

static void tensor(pb *g, const char *name, const int64_t *dims, int ndim, const float *v,
                   size_t count, int variant)
{
    pb t = {0};
    for (int d = 0; d < ndim; d++)
        pint(&t, 1, variant == M_HUGE_DIMS && d == 0 ? ((int64_t)1 << 40) : dims[d]);
    pint(&t, 2, 1); /* FLOAT */
    pstr(&t, 8, name);
    pbytes(&t, 9, v, sizeof(float) * (variant == M_RAW_SHORT ? count - 1 : count));
    if (variant == M_EXTERNAL)
        pint(&t, 14, 1); /* data_location EXTERNAL */
    pmsg(g, 5, &t);
}

static void node(pb *g, const char *name, const char *op, const char *const *in, int n_in,
                 const char *out, pb *attrs, const char *domain)
{
    pb n = {0};
    for (int i = 0; i < n_in; i++)
        pstr(&n, 1, in[i]);
    pstr(&n, 2, out);
    pstr(&n, 3, name);
    pstr(&n, 4, op);
    if (attrs) {
        put(&n, attrs->p, attrs->n);
        free(attrs->p);
        memset(attrs, 0, sizeof *attrs);
    }
    if (domain)
        pstr(&n, 7, domain);
    pmsg(g, 1, &n);
}

static void attr_ints(pb *a, const char *name, const int64_t *v, int n)
{
    pb at = {0};
    pstr(&at, 1, name);
    for (int i = 0; i < n; i++)
        pint(&at, 8, v[i]);
    pint(&at, 20, 7); /* INTS */
    pmsg(a, 5, &at);
}

static void attr_int(pb *a, const char *name, int64_t v)
{
    pb at = {0};
    pstr(&at, 1, name);
    pint(&at, 3, v);
    pint(&at, 20, 2); /* INT */
    pmsg(a, 5, &at);
}

static void value_info(pb *g, int field, const char *name, const int64_t *dims, int ndim)
{
    pb shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (int d = 0; d < ndim; d++) {
        pb dim = {0};
        if (dims[d] < 0)
            pstr(&dim, 2, "N");
        else
            pint(&dim, 1, dims[d]);
        pmsg(&shape, 1, &dim);
    }
    pint(&tt, 1, 1);
    pmsg(&tt, 2, &shape);
    pmsg(&type, 1, &tt);
    pstr(&vi, 1, name);
    pmsg(&vi, 2, &type);
    pmsg(g, field, &vi);
}

/* Conv(3 -> 4, 3x3, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(transB). */
static pb model(int variant)
{
    pb g = {0}, m = {0}, a = {0}, ops = {0};
    const int64_t wd[4] = {C_OUT, variant == M_CONV_CHANNELS ? C_IN + 2 : C_IN, 3, 3},
                  bd[1] = {C_OUT}, fd[2] = {CLASSES, C_OUT}, fb[1] = {CLASSES};
    static float big[(C_IN + 2) * C_OUT * 9];
    memcpy(big, conv_w, sizeof conv_w);
    float *w = variant == M_CONV_CHANNELS ? big : conv_w;
    float saved = w[5];
    if (variant == M_NAN_WEIGHT)
        w[5] = NAN;
    if (variant != M_MISSING_INIT)
        tensor(&g, "W", wd, 4, w, (size_t)wd[0] * wd[1] * 9, variant);
    w[5] = saved;
    tensor(&g, "B", bd, 1, conv_b, C_OUT, M_OK);
    tensor(&g, "FW", fd, 2, fc_w, CLASSES * C_OUT, M_OK);
    tensor(&g, "FB", fb, 1, fc_b, CLASSES, M_OK);
    const int64_t pads[4] = {1, 1, 1, 1}, ks[2] = {3, 3};
    attr_ints(&a, "pads", pads, 4);
    attr_ints(&a, "kernel_shape", ks, 2);
    if (variant == M_GROUP)
        attr_int(&a, "group", 3);
    const char *cin[3] = {variant == M_CYCLE ? "r" : "x", "W", "B"};
    node(&g, "/conv1/Conv", "Conv", cin, 3, "c", &a, NULL);
    const char *rin[1] = {"c"};
    node(&g, "/relu1/Relu", variant == M_UNKNOWN_OP ? "LayerNormalization" : "Relu", rin, 1,
         variant == M_DUP_OUTPUT ? "c" : "r", NULL, variant == M_DOMAIN ? "com.microsoft" : NULL);
    const char *pin[1] = {"r"};
    node(&g, "/pool/GlobalAveragePool", "GlobalAveragePool", pin, 1, "p", NULL, NULL);
    const char *fin[1] = {"p"};
    node(&g, "/flat/Flatten", "Flatten", fin, 1, "f", NULL, NULL);
    attr_int(&ops, "transB", 1);
    const char *gin[3] = {"f", "FW", "FB"};
    node(&g, "/fc/Gemm", "Gemm", gin, 3, "logits", &ops, NULL);
    pstr(&g, 2, "tiny");
    const int64_t xd[4] = {-1, C_IN, HW, HW}, yd[2] = {-1, CLASSES};
    value_info(&g, 11, "x", xd, 4);
    value_info(&g, 12, "logits", yd, 2);
    if (variant == M_TWO_OUTPUTS)
        value_info(&g, 12, "r", yd, 2);
    pint(&m, 1, 7);
    pb opset = {0};
    pint(&opset, 2, 13);
    pmsg(&m, 8, &opset);
    pmsg(&m, 7, &g);
    if (variant != M_NO_NORM) {
        pb e = {0};
        pstr(&e, 1, "input_mean");
        pstr(&e, 2, "0.5,0.5,0.5");
        pmsg(&m, 14, &e);
        pstr(&e, 1, "input_std");
        pstr(&e, 2, "0.25,0.5,1");
        pmsg(&m, 14, &e);
    }
    return m;
}

/* Builds the net from bytes with the library's internal steps (no file). */
static pact_status build(const unsigned char *p, size_t n, pact_error *err)
{
    pact_ox_model *m = NULL;
    pact_graph g;
    char name[32];
    pact_status st = pact_ox_parse(p, n, "mem.onnx", &m, err);
    if (st == PACT_OK) {
        st = pact_onnx_build(m, NULL, &g, name, sizeof name, err);
        if (st == PACT_OK)
            pact_graph_clear(&g);
    }
    pact_ox_free(m);
    return st;
}

static char dir[64];

static pact_status load_file(const unsigned char *p, size_t n, pact_net **net, pact_error *err)
{
    char path[128];
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
    return pact_net_load(path, NULL, net, err);
}

/* Status and a substring the message must hold, per variant. */
static const struct {
    int variant;
    pact_status st;
    const char *msg;
} expect[] = {
    {M_UNKNOWN_OP, PACT_EUNSUPPORTED, "node '/relu1/Relu' (LayerNormalization): operator not supported"},
    {M_MISSING_INIT, PACT_EFORMAT, "node '/conv1/Conv' (Conv): input 'W' is not an initializer"},
    {M_CYCLE, PACT_EFORMAT, "cycle"},
    {M_DUP_OUTPUT, PACT_EFORMAT, "value 'c' is written twice"},
    {M_RAW_SHORT, PACT_EFORMAT, "tensor W: raw_data has 428 bytes, dims say 108 x 4"},
    {M_HUGE_DIMS, PACT_EFORMAT, "tensor W: dims[0] = 1099511627776"},
    {M_NAN_WEIGHT, PACT_EFORMAT, "weight W: element 5 is NaN"},
    {M_EXTERNAL, PACT_EUNSUPPORTED, "tensor W: external data is not supported"},
    {M_NO_NORM, PACT_EFORMAT, "no input_mean in metadata_props"},
    {M_CONV_CHANNELS, PACT_EFORMAT, "weight W must be [M, 3, k, k]"},
    {M_TWO_OUTPUTS, PACT_EUNSUPPORTED, "2 outputs"},
    {M_DOMAIN, PACT_EUNSUPPORTED, "node '/relu1/Relu' (Relu): operator of domain 'com.microsoft'"},
    {M_GROUP, PACT_EUNSUPPORTED, "node '/conv1/Conv' (Conv): group 3 is not supported"},
};

static double reference_logit(const float *x, int k)
{
    /* normalise, conv (pad 1) + bias, relu, mean, linear: in double */
    const double mean[3] = {0.5, 0.5, 0.5}, sd[3] = {0.25, 0.5, 1.0};
    double pooled[C_OUT];
    for (int o = 0; o < C_OUT; o++) {
        double s = 0.0;
        for (int y = 0; y < HW; y++)
            for (int xx = 0; xx < HW; xx++) {
                double v = conv_b[o];
                for (int c = 0; c < C_IN; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = y + ky - 1, ix = xx + kx - 1;
                            if (iy < 0 || iy >= HW || ix < 0 || ix >= HW)
                                continue;
                            double in = ((double)x[(c * HW + iy) * HW + ix] - mean[c]) / sd[c];
                            v += (double)conv_w[((o * C_IN + c) * 3 + ky) * 3 + kx] * in;
                        }
                s += v > 0 ? v : 0;
            }
        pooled[o] = s / (HW * HW);
    }
    double r = fc_b[k];
    for (int o = 0; o < C_OUT; o++)
        r += (double)fc_w[k * C_OUT + o] * pooled[o];
    return r;
}

static void write_seed(const char *seeds, const char *name, const pb *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", seeds, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(m->p, 1, m->n, f);
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    int n = 0;
    unsigned s = 12345;
#define RND() ((s = s * 1103515245u + 12345u), (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f)
    for (size_t i = 0; i < sizeof conv_w / sizeof conv_w[0]; i++) conv_w[i] = RND();
    for (int i = 0; i < C_OUT; i++) conv_b[i] = 0.1f * RND();
    for (int i = 0; i < CLASSES * C_OUT; i++) fc_w[i] = RND();
    for (int i = 0; i < CLASSES; i++) fc_b[i] = 0.1f * RND();
    strcpy(dir, "/tmp/pact_onnx_hostile_XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    pact_error err;

    /* the valid model runs and matches the direct computation */
    pb ok = model(M_OK);
    pact_net *net = NULL;
    CHECK_OK(load_file(ok.p, ok.n, &net, &err), &err);
    n++;
    if (net) {
        float x[2 * C_IN * HW * HW], y[2 * CLASSES];
        for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
            x[i] = RND() + 0.5f;
        pact_model m;
        pact_net_model(net, &m);
        CHECK(m.n_act == 1 && m.input_size == C_IN * HW * HW && m.n_classes == CLASSES &&
                  strcmp(m.act_names[0], "relu1") == 0,
              "model: %d activations (%s), input %d, classes %d", m.n_act,
              m.n_act ? m.act_names[0] : "", m.input_size, m.n_classes);
        CHECK_OK(pact_net_forward(net, x, 2, NULL, NULL, y, &err), &err);
        double worst = 0.0;
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < CLASSES; k++) {
                double r = reference_logit(x + b * C_IN * HW * HW, k);
                double d = fabs((double)y[b * CLASSES + k] - r);
                worst = d > worst ? d : worst;
            }
        CHECK(worst < 1e-5, "tiny model: |logit - double reference| up to %g (< 1e-5)", worst);
        CHECK(strcmp(pact_net_name(net), "m") == 0, "name '%s' (the file's)", pact_net_name(net));
        n += 3;
    }
    pact_net_free(net);

    /* each malformed variant: the right status, one line naming what is wrong */
    for (size_t v = 0; v < sizeof expect / sizeof expect[0]; v++) {
        pb bad = model(expect[v].variant);
        net = NULL;
        pact_status st = load_file(bad.p, bad.n, &net, &err);
        CHECK(st == expect[v].st && strstr(err.message, expect[v].msg) && !strchr(err.message, '\n'),
              "variant %d: %s '%s' (expected %s with '%s')", expect[v].variant,
              pact_status_str(st), st ? err.message : "", pact_status_str(expect[v].st),
              expect[v].msg);
        pact_net_free(net);
        if (argc > 2 && strcmp(argv[1], "--seeds") == 0) {
            char name[32];
            snprintf(name, sizeof name, "variant%02d.onnx", expect[v].variant);
            write_seed(argv[2], name, &bad);
        }
        free(bad.p);
        n++;
    }

    /* every strict prefix (the metadata comes last, so none is a full model) */
    int prefix_ok = 0;
    for (size_t len = 0; len < ok.n; len++) {
        pact_status st = build(ok.p, len, &err);
        prefix_ok += st == PACT_OK;
        if (st != PACT_OK && (st != PACT_EFORMAT && st != PACT_EUNSUPPORTED))
            CHECK(0, "prefix %zu: %s %s", len, pact_status_str(st), err.message);
    }
    CHECK(prefix_ok == 0, "%d truncated files were accepted", prefix_ok);
    n++;

    /* lying lengths: the graph field claims more bytes than remain, or a
     * 10-byte varint length */
    {
        pb m = {0};
        pint(&m, 1, 7);
        tag(&m, 7, 2);
        varint(&m, 1000000);
        put(&m, ok.p, 64);
        pact_status st = build(m.p, m.n, &err);
        CHECK(st == PACT_EFORMAT && strstr(err.message, "longer than what remains"),
              "lying length: %s %s", pact_status_str(st), err.message);
        m.n = 0;
        tag(&m, 7, 2);
        unsigned char ff[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
        put(&m, ff, sizeof ff);
        st = build(m.p, m.n, &err);
        CHECK(st == PACT_EFORMAT, "huge varint length: %s %s", pact_status_str(st), err.message);
        free(m.p);
        n += 2;
    }

    /* messages nested without end: attribute.g -> graph.node -> node.attribute -> ... */
    {
        pb inner = {0};
        pstr(&inner, 4, "Relu");
        for (int depth = 0; depth < 200; depth++) {
            pb at = {0}, gr = {0}, nd = {0};
            pstr(&at, 1, "body");
            pmsg(&gr, 1, &inner);   /* graph.node = inner */
            pmsg(&at, 6, &gr);      /* attribute.g = graph */
            pstr(&nd, 4, "Loop");
            pmsg(&nd, 5, &at);      /* node.attribute */
            inner = nd;
        }
        pb g = {0}, m = {0};
        pmsg(&g, 1, &inner);
        pmsg(&m, 7, &g);
        pact_status st = build(m.p, m.n, &err);
        CHECK(st == PACT_EFORMAT && strstr(err.message, "nested deeper"),
              "deep nesting: %s %s", pact_status_str(st), err.message);
        if (argc > 2 && strcmp(argv[1], "--seeds") == 0)
            write_seed(argv[2], "nested.onnx", &m);
        free(m.p);
        n++;
    }

    /* random byte flips and insertions never crash */
    int accepted = 0;
    unsigned char *buf = malloc(ok.n + 16);
    for (int t = 0; t < 3000; t++) {
        memcpy(buf, ok.p, ok.n);
        size_t len = ok.n;
        int flips = 1 + t % 4;
        for (int k = 0; k < flips; k++) {
            s = s * 1103515245u + 12345u;
            size_t at = (s >> 8) % len;
            s = s * 1103515245u + 12345u;
            buf[at] = (unsigned char)(s >> 16);
        }
        pact_status st = build(buf, len, &err);
        accepted += st == PACT_OK;
        if (st != PACT_OK && !err.message[0])
            CHECK(0, "mutation %d: %s without a message", t, pact_status_str(st));
    }
    printf("random mutations: %d of 3000 still valid models, the rest refused cleanly\n", accepted);
    n++;
    free(buf);
    if (argc > 2 && strcmp(argv[1], "--seeds") == 0)
        write_seed(argv[2], "tiny.onnx", &ok);
    free(ok.p);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    (void)pact_test_run(cmd, NULL, 0);
    return pact_test_done("test_onnx_hostile", n);
}
