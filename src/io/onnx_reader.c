/* ONNX ModelProto -> pact_ox_model: wire-format pre-check, protobuf-c unpack
 * (bindings generated at build time from the system's onnx.proto), then a
 * checked conversion of every tensor, node and value into plain structs. */
#include "onnx_reader.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pact_ox_tensor_clear(pact_ox_tensor *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->f);
    free(t->i);
    memset(t, 0, sizeof *t);
}

static void attr_clear(pact_ox_attr *a)
{
    free(a->name);
    free(a->s);
    free(a->floats);
    free(a->ints);
    if (a->t) {
        pact_ox_tensor_clear(a->t);
        free(a->t);
    }
}

static void strings_free(char **s, int n)
{
    for (int i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

void pact_ox_free(pact_ox_model *m)
{
    if (!m)
        return;
    for (int k = 0; m->nodes && k < m->n_nodes; k++) {
        pact_ox_node *nd = &m->nodes[k];
        free(nd->name);
        free(nd->op_type);
        free(nd->domain);
        strings_free(nd->in, nd->n_in);
        strings_free(nd->out, nd->n_out);
        for (int a = 0; nd->attr && a < nd->n_attr; a++)
            attr_clear(&nd->attr[a]);
        free(nd->attr);
    }
    free(m->nodes);
    for (int k = 0; m->init && k < m->n_init; k++)
        pact_ox_tensor_clear(&m->init[k]);
    free(m->init);
    for (int k = 0; m->inputs && k < m->n_inputs; k++)
        free(m->inputs[k].name);
    for (int k = 0; m->outputs && k < m->n_outputs; k++)
        free(m->outputs[k].name);
    free(m->inputs);
    free(m->outputs);
    strings_free(m->meta_key, m->n_meta);
    strings_free(m->meta_value, m->n_meta);
    free(m->origin);
    free(m->graph_name);
    free(m);
}

const char *pact_ox_metadata(const pact_ox_model *m, const char *key)
{
    for (int i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_key[i], key) == 0)
            return m->meta_value[i];
    return NULL;
}

const pact_ox_attr *pact_ox_attr_find(const pact_ox_node *node, const char *name)
{
    for (int i = 0; i < node->n_attr; i++)
        if (strcmp(node->attr[i].name, name) == 0)
            return &node->attr[i];
    return NULL;
}

const char *pact_ox_dtype_name(int dtype)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT",  "UINT8",     "INT8",      "UINT16",
                                        "INT16",     "INT32",  "INT64",     "STRING",    "BOOL",
                                        "FLOAT16",   "DOUBLE", "UINT32",    "UINT64",    "COMPLEX64",
                                        "COMPLEX128", "BFLOAT16"};
    return dtype >= 0 && dtype < (int)(sizeof names / sizeof names[0]) ? names[dtype] : "?";
}

#ifndef PACT_HAVE_ONNX

pact_status pact_ox_parse(const unsigned char *bytes, size_t size, const char *origin,
                          pact_ox_model **model, pact_error *err)
{
    (void)bytes;
    (void)size;
    *model = NULL;
    return pact_fail(err, PACT_EUNSUPPORTED,
                     "%s: this polyact was built without ONNX support (POLYACT_WITH_ONNX=OFF)",
                     origin ? origin : "model");
}

#else

#include "onnx.pb-c.h"

#define MAX_NESTING 32

/* --- wire-format pre-check ------------------------------------------------ */

static int read_varint(const uint8_t *p, size_t n, size_t *at, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*at >= n)
            return 0;
        uint8_t b = p[(*at)++];
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* Every length inside the bytes of a message of type `d` fits, and message
 * fields nest at most MAX_NESTING deep: protobuf-c's unpack recurses once per
 * level, and a hostile file could nest attributes and graphs without end. */
static const char *wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                              int depth, size_t *bad_at)
{
    if (depth > MAX_NESTING)
        return "messages nested deeper than 32 levels";
    size_t at = 0;
    while (at < n) {
        size_t start = at;
        uint64_t key, v;
        if (!read_varint(p, n, &at, &key)) {
            *bad_at = start;
            return "truncated field key";
        }
        switch (key & 7) {
        case 0:
            if (!read_varint(p, n, &at, &v)) {
                *bad_at = start;
                return "truncated varint";
            }
            break;
        case 1:
            if (n - at < 8) {
                *bad_at = start;
                return "truncated 64-bit field";
            }
            at += 8;
            break;
        case 5:
            if (n - at < 4) {
                *bad_at = start;
                return "truncated 32-bit field";
            }
            at += 4;
            break;
        case 2: {
            if (!read_varint(p, n, &at, &v) || v > n - at) {
                *bad_at = start;
                return "length-delimited field longer than what remains";
            }
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= 0xffffffffu
                    ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                size_t inner = 0;
                const char *why = wire_check(f->descriptor, p + at, (size_t)v, depth + 1, &inner);
                if (why) {
                    *bad_at = at + inner;
                    return why;
                }
            }
            at += (size_t)v;
            break;
        }
        default:
            *bad_at = start;
            return "unsupported wire type (groups)";
        }
    }
    return NULL;
}

/* --- conversion ----------------------------------------------------------- */

static char *dup_str(const char *s)
{
    s = s ? s : "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static char *dup_bytes(const ProtobufCBinaryData *b)
{
    char *d = malloc(b->len + 1);
    if (d) {
        if (b->len)
            memcpy(d, b->data, b->len);
        d[b->len] = '\0';
    }
    return d;
}

static uint64_t le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static float half_to_float(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (float)((h & 0x8000) ? -v : v);
}

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

typedef struct {
    const char *origin;
    pact_error *err;
} conv_ctx;

/* Element size in raw_data and whether the type becomes int64 (else float);
 * 0 for types polyact cannot hold. */
static int dtype_info(int dtype, int *is_int)
{
    switch (dtype) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *is_int = 0; return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *is_int = 0; return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: *is_int = 0; return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: *is_int = 0; return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *is_int = 1; return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: *is_int = 1; return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *is_int = 1; return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: *is_int = 1; return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *is_int = 1; return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: *is_int = 1; return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *is_int = 1; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *is_int = 1; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *is_int = 1; return 1;
    default: return 0;
    }
}

/* One element from raw little-endian bytes. */
static void raw_element(int dtype, const uint8_t *p, float *f, int64_t *i)
{
    uint64_t u;
    switch (dtype) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *f = bits_to_float((uint32_t)le(p, 4)); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
        double d;
        u = le(p, 8);
        memcpy(&d, &u, sizeof d);
        *f = (float)d;
        break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: *f = half_to_float((uint16_t)le(p, 2)); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: *f = bits_to_float((uint32_t)le(p, 2) << 16); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: u = le(p, 8); memcpy(i, &u, sizeof *i); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *i = (int32_t)(uint32_t)le(p, 4); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: *i = (int64_t)le(p, 4); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *i = (int16_t)(uint16_t)le(p, 2); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: *i = (int64_t)le(p, 2); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *i = (int8_t)p[0]; break;
    default: *i = p[0]; break; /* UINT8, BOOL */
    }
}

/* Converts a TensorProto; `what` names it when it has no name. */
/* Elements a tensor's data holds: raw bytes / element size (SIZE_MAX when the
 * bytes are not a whole number of elements), or the count of the typed field
 * its data type uses, named in *field. */
static size_t data_count(const Onnx__TensorProto *tp, int size, const char **field)
{
    if (tp->has_raw_data) {
        *field = "raw_data";
        return tp->raw_data.len % (size_t)size ? SIZE_MAX : tp->raw_data.len / (size_t)size;
    }
    switch (tp->has_data_type ? tp->data_type : 0) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *field = "float_data"; return tp->n_float_data;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *field = "double_data"; return tp->n_double_data;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *field = "int64_data"; return tp->n_int64_data;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: *field = "uint64_data"; return tp->n_uint64_data;
    default: *field = "int32_data"; return tp->n_int32_data; /* also FLOAT16, BFLOAT16 */
    }
}

static pact_status convert_tensor(conv_ctx *c, const Onnx__TensorProto *tp, const char *what,
                                  pact_ox_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->name = dup_str(tp->name && tp->name[0] ? tp->name : what);
    if (!t->name)
        return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
    const char *nm = t->name;
    if (tp->n_dims > PACT_OX_MAX_DIMS)
        return pact_fail(c->err, PACT_EFORMAT, "%s: tensor %s: %zu dims (at most %d)", c->origin,
                         nm, tp->n_dims, PACT_OX_MAX_DIMS);
    t->ndim = (int)tp->n_dims;
    uint64_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
        int64_t v = tp->dims[d];
        if (v < 0 || v > ((int64_t)1 << 31))
            return pact_fail(c->err, PACT_EFORMAT, "%s: tensor %s: dims[%d] = %lld", c->origin,
                             nm, d, (long long)v);
        t->dims[d] = v;
        count *= (uint64_t)v;
        if (count > ((uint64_t)1 << 31))
            return pact_fail(c->err, PACT_EFORMAT, "%s: tensor %s: more than 2^31 elements",
                             c->origin, nm);
    }
    t->count = (size_t)count;
    t->dtype = tp->has_data_type ? tp->data_type : 0;
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return pact_fail(c->err, PACT_EUNSUPPORTED,
                         "%s: tensor %s: external data is not supported (save the model with "
                         "its weights inside the file)",
                         c->origin, nm);
    if (tp->segment)
        return pact_fail(c->err, PACT_EUNSUPPORTED, "%s: tensor %s: segmented data is not supported",
                         c->origin, nm);
    int size = dtype_info(t->dtype, &t->is_int);
    if (!size)
        return pact_fail(c->err, PACT_EFORMAT, "%s: tensor %s: data type %d (%s) is not supported",
                         c->origin, nm, t->dtype, pact_ox_dtype_name(t->dtype));
    /* the dims are only a claim: check the data holds that many elements
     * before allocating for them (a few bytes may claim 2^31 elements) */
    const char *present_in;
    size_t present = data_count(tp, size, &present_in);
    if (present != t->count) {
        if (tp->has_raw_data)
            return pact_fail(c->err, PACT_EFORMAT,
                             "%s: tensor %s: raw_data has %zu bytes, dims say %zu x %d", c->origin,
                             nm, tp->raw_data.len, t->count, size);
        return pact_fail(c->err, PACT_EFORMAT, "%s: tensor %s: %s has %zu elements, dims say %zu",
                         c->origin, nm, present_in, present, t->count);
    }
    const size_t alloc = t->count ? t->count : 1;
    if (t->is_int)
        t->i = malloc(sizeof *t->i * alloc);
    else
        t->f = malloc(sizeof *t->f * alloc);
    if (!t->i && !t->f)
        return pact_fail(c->err, PACT_ENOMEM, "%s: tensor %s: out of memory for %zu elements",
                         c->origin, nm, t->count);
    /* the data: raw little-endian bytes, or the typed field of its type */
    size_t have = 0;
    const char *field = "raw_data";
    if (tp->has_raw_data) {
        have = tp->raw_data.len / (size_t)size;
        if (tp->raw_data.len % (size_t)size == 0 && have == t->count)
            for (size_t k = 0; k < t->count; k++)
                raw_element(t->dtype, tp->raw_data.data + k * (size_t)size, t->f ? &t->f[k] : NULL,
                            t->i ? &t->i[k] : NULL);
        else
            return pact_fail(c->err, PACT_EFORMAT,
                             "%s: tensor %s: raw_data has %zu bytes, dims say %zu x %d", c->origin,
                             nm, tp->raw_data.len, t->count, size);
        return PACT_OK;
    }
    switch (t->dtype) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        field = "float_data";
        have = tp->n_float_data;
        for (size_t k = 0; have == t->count && k < have; k++)
            t->f[k] = tp->float_data[k];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        field = "double_data";
        have = tp->n_double_data;
        for (size_t k = 0; have == t->count && k < have; k++)
            t->f[k] = (float)tp->double_data[k];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
        field = "int32_data";
        have = tp->n_int32_data;
        for (size_t k = 0; have == t->count && k < have; k++) {
            uint16_t h = (uint16_t)tp->int32_data[k];
            t->f[k] = t->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16
                          ? half_to_float(h)
                          : bits_to_float((uint32_t)h << 16);
        }
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        field = "int64_data";
        have = tp->n_int64_data;
        for (size_t k = 0; have == t->count && k < have; k++)
            t->i[k] = tp->int64_data[k];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
        field = "uint64_data";
        have = tp->n_uint64_data;
        for (size_t k = 0; have == t->count && k < have; k++)
            t->i[k] = (int64_t)tp->uint64_data[k];
        break;
    default:
        field = "int32_data";
        have = tp->n_int32_data;
        for (size_t k = 0; have == t->count && k < have; k++)
            t->i[k] = tp->int32_data[k];
        break;
    }
    if (have != t->count)
        return pact_fail(c->err, PACT_EFORMAT, "%s: tensor %s: %s has %zu elements, dims say %zu",
                         c->origin, nm, field, have, t->count);
    return PACT_OK;
}

static pact_status convert_attr(conv_ctx *c, const pact_ox_node *nd,
                                const Onnx__AttributeProto *ap, pact_ox_attr *a)
{
    a->name = dup_str(ap->name);
    if (!a->name)
        return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
    int type = ap->has_type ? (int)ap->type : 0;
    if (!type) /* IR versions before 0.0.2 left it out: the field present says */
        type = ap->has_f ? 1 : ap->has_i ? 2 : ap->has_s ? 3 : ap->t ? 4 : ap->n_floats ? 6
             : ap->n_ints ? 7 : 0;
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        a->type = PACT_OX_ATTR_FLOAT;
        a->f = ap->f;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        a->type = PACT_OX_ATTR_INT;
        a->i = ap->i;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        a->type = PACT_OX_ATTR_STRING;
        a->s = dup_bytes(&ap->s);
        if (!a->s)
            return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        a->type = PACT_OX_ATTR_TENSOR;
        if (!ap->t)
            return pact_fail(c->err, PACT_EFORMAT, "%s: node '%s' (%s): attribute %s has no tensor",
                             c->origin, nd->name, nd->op_type, a->name);
        a->t = calloc(1, sizeof *a->t);
        if (!a->t)
            return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
        char what[192];
        snprintf(what, sizeof what, "%.100s.%.60s", nd->name[0] ? nd->name : nd->op_type, a->name);
        return convert_tensor(c, ap->t, what, a->t);
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        a->type = PACT_OX_ATTR_FLOATS;
        a->n = ap->n_floats;
        a->floats = malloc(sizeof(float) * (a->n ? a->n : 1));
        if (!a->floats)
            return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
        if (a->n)
            memcpy(a->floats, ap->floats, sizeof(float) * a->n);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        a->type = PACT_OX_ATTR_INTS;
        a->n = ap->n_ints;
        a->ints = malloc(sizeof(int64_t) * (a->n ? a->n : 1));
        if (!a->ints)
            return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
        if (a->n)
            memcpy(a->ints, ap->ints, sizeof(int64_t) * a->n);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
        a->type = PACT_OX_ATTR_STRINGS;
        break;
    default:
        a->type = PACT_OX_ATTR_OTHER;
        break;
    }
    return PACT_OK;
}

static char **dup_names(char **src, size_t n)
{
    char **d = calloc(n ? n : 1, sizeof *d);
    for (size_t k = 0; d && k < n; k++)
        if (!(d[k] = dup_str(src[k]))) {
            strings_free(d, (int)k);
            return NULL;
        }
    return d;
}

static pact_status convert_node(conv_ctx *c, const Onnx__NodeProto *np, int index,
                                pact_ox_node *nd)
{
    char fallback[32];
    snprintf(fallback, sizeof fallback, "#%d", index);
    nd->name = dup_str(np->name && np->name[0] ? np->name : "");
    nd->op_type = dup_str(np->op_type);
    nd->domain = dup_str(np->domain);
    if (!nd->name || !nd->op_type || !nd->domain)
        return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
    if (np->n_input > 100000 || np->n_output > 100000 || np->n_attribute > 100000)
        return pact_fail(c->err, PACT_EFORMAT, "%s: node %s: too many inputs, outputs or attributes",
                         c->origin, nd->name[0] ? nd->name : fallback);
    nd->in = dup_names(np->input, np->n_input);
    nd->out = dup_names(np->output, np->n_output);
    if (!nd->in || !nd->out)
        return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
    nd->n_in = (int)np->n_input;
    nd->n_out = (int)np->n_output;
    nd->attr = calloc(np->n_attribute ? np->n_attribute : 1, sizeof *nd->attr);
    if (!nd->attr)
        return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
    for (size_t k = 0; k < np->n_attribute; k++) {
        nd->n_attr = (int)k + 1;
        pact_status st = convert_attr(c, nd, np->attribute[k], &nd->attr[k]);
        if (st != PACT_OK)
            return st;
    }
    return PACT_OK;
}

static pact_status convert_value(conv_ctx *c, const Onnx__ValueInfoProto *vp, pact_ox_value *v)
{
    v->name = dup_str(vp->name);
    if (!v->name)
        return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
    const Onnx__TypeProto *tp = vp->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return PACT_OK; /* not a tensor: the builder names it if it matters */
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    v->elem_type = tt->has_elem_type ? tt->elem_type : 0;
    if (!tt->shape)
        return PACT_OK;
    if (tt->shape->n_dim > PACT_OX_MAX_DIMS)
        return pact_fail(c->err, PACT_EFORMAT, "%s: value %s: %zu dims (at most %d)", c->origin,
                         v->name, tt->shape->n_dim, PACT_OX_MAX_DIMS);
    v->has_shape = 1;
    v->ndim = (int)tt->shape->n_dim;
    for (int d = 0; d < v->ndim; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        v->dims[d] = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                             dim->dim_value >= 0
                         ? dim->dim_value
                         : -1;
    }
    return PACT_OK;
}

static pact_status convert_model(conv_ctx *c, const Onnx__ModelProto *mp, pact_ox_model *m)
{
    for (size_t k = 0; k < mp->n_opset_import; k++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[k];
        if ((!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0) && o->has_version)
            m->opset = o->version;
    }
    const Onnx__GraphProto *g = mp->graph;
    if (!g)
        return pact_fail(c->err, PACT_EFORMAT, "%s: not an ONNX model: no graph", c->origin);
    if (g->n_node > 1000000 || g->n_initializer > 1000000 || g->n_input > 100000 ||
        g->n_output > 100000 || mp->n_metadata_props > 100000)
        return pact_fail(c->err, PACT_EFORMAT, "%s: implausibly many nodes, tensors or values",
                         c->origin);
    m->graph_name = dup_str(g->name);
    m->nodes = calloc(g->n_node ? g->n_node : 1, sizeof *m->nodes);
    m->init = calloc(g->n_initializer ? g->n_initializer : 1, sizeof *m->init);
    m->inputs = calloc(g->n_input ? g->n_input : 1, sizeof *m->inputs);
    m->outputs = calloc(g->n_output ? g->n_output : 1, sizeof *m->outputs);
    m->meta_key = calloc(mp->n_metadata_props ? mp->n_metadata_props : 1, sizeof(char *));
    m->meta_value = calloc(mp->n_metadata_props ? mp->n_metadata_props : 1, sizeof(char *));
    if (!m->graph_name || !m->nodes || !m->init || !m->inputs || !m->outputs || !m->meta_key ||
        !m->meta_value)
        return pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
    pact_status st = PACT_OK;
    for (size_t k = 0; k < g->n_initializer && st == PACT_OK; k++) {
        m->n_init = (int)k + 1;
        char what[48];
        snprintf(what, sizeof what, "initializer #%zu", k);
        st = convert_tensor(c, g->initializer[k], what, &m->init[k]);
    }
    if (st == PACT_OK && g->n_sparse_initializer)
        st = pact_fail(c->err, PACT_EUNSUPPORTED, "%s: sparse initializers are not supported",
                       c->origin);
    for (size_t k = 0; k < g->n_node && st == PACT_OK; k++) {
        m->n_nodes = (int)k + 1;
        st = convert_node(c, g->node[k], (int)k, &m->nodes[k]);
    }
    for (size_t k = 0; k < g->n_input && st == PACT_OK; k++) {
        m->n_inputs = (int)k + 1;
        st = convert_value(c, g->input[k], &m->inputs[k]);
    }
    for (size_t k = 0; k < g->n_output && st == PACT_OK; k++) {
        m->n_outputs = (int)k + 1;
        st = convert_value(c, g->output[k], &m->outputs[k]);
    }
    for (size_t k = 0; k < mp->n_metadata_props && st == PACT_OK; k++) {
        m->n_meta = (int)k + 1;
        m->meta_key[k] = dup_str(mp->metadata_props[k]->key);
        m->meta_value[k] = dup_str(mp->metadata_props[k]->value);
        if (!m->meta_key[k] || !m->meta_value[k])
            st = pact_fail(c->err, PACT_ENOMEM, "%s: out of memory", c->origin);
    }
    return st;
}

pact_status pact_ox_parse(const unsigned char *bytes, size_t size, const char *origin,
                          pact_ox_model **model, pact_error *err)
{
    *model = NULL;
    origin = origin ? origin : "model";
    if (size == 0)
        return pact_fail(err, PACT_EFORMAT, "%s: empty file", origin);
    if (size > PACT_OX_MAX_FILE)
        return pact_fail(err, PACT_EFORMAT, "%s: %zu bytes, more than protobuf's 2 GiB", origin,
                         size);
    size_t bad_at = 0;
    const char *why = wire_check(&onnx__model_proto__descriptor, bytes, size, 0, &bad_at);
    if (why)
        return pact_fail(err, PACT_EFORMAT, "%s: not a valid ONNX protobuf: %s at byte %zu",
                         origin, why, bad_at);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, bytes);
    if (!mp)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: not a valid ONNX protobuf (protobuf-c rejected the ModelProto)",
                         origin);
    pact_ox_model *m = calloc(1, sizeof *m);
    pact_status st = PACT_OK;
    if (!m || !(m->origin = dup_str(origin)))
        st = pact_fail(err, PACT_ENOMEM, "%s: out of memory", origin);
    conv_ctx c = {origin, err};
    if (st == PACT_OK)
        st = convert_model(&c, mp, m);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st != PACT_OK) {
        pact_ox_free(m);
        return st;
    }
    *model = m;
    return PACT_OK;
}

#endif
