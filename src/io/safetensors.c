/* safetensors reader: every size and offset in the header is checked before use. */
#define _POSIX_C_SOURCE 200809L
#include "safetensors.h"
#include "../internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Headers larger than this are refused (the reference implementation uses 100 MB). */
#define ST_MAX_HEADER (100u * 1024u * 1024u)

struct pact_st_file {
    char *path;
    unsigned char *bytes;   /* the whole file */
    size_t size;
    const unsigned char *data; /* bytes + 8 + header length */
    uint64_t data_size;
    int count;
    pact_st_tensor *tensors;
    pact_st_tensor **by_name; /* the tensors sorted by name: lookups in log time */
    int n_meta;
    char **meta_keys, **meta_values;
};

static const struct {
    const char *name;
    unsigned size;
} dtypes[PACT_ST_DTYPE_COUNT] = {
    [PACT_ST_BOOL] = {"BOOL", 1}, [PACT_ST_U8] = {"U8", 1}, [PACT_ST_I8] = {"I8", 1},
    [PACT_ST_F8_E4M3] = {"F8_E4M3", 1}, [PACT_ST_F8_E5M2] = {"F8_E5M2", 1},
    [PACT_ST_I16] = {"I16", 2}, [PACT_ST_U16] = {"U16", 2}, [PACT_ST_F16] = {"F16", 2},
    [PACT_ST_BF16] = {"BF16", 2}, [PACT_ST_I32] = {"I32", 4}, [PACT_ST_U32] = {"U32", 4},
    [PACT_ST_F32] = {"F32", 4}, [PACT_ST_I64] = {"I64", 8}, [PACT_ST_U64] = {"U64", 8},
    [PACT_ST_F64] = {"F64", 8},
};

const char *pact_st_dtype_name(pact_st_dtype dtype)
{
    return (unsigned)dtype < PACT_ST_DTYPE_COUNT ? dtypes[dtype].name : "?";
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void pact_st_close(pact_st_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->count; i++)
        free(f->tensors[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    free(f->by_name);
    free(f->tensors);
    free(f->bytes);
    free(f->path);
    free(f);
}

static pact_status read_file(const char *path, unsigned char **bytes, size_t *size,
                             pact_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return pact_fail(err, PACT_EIO, "%s: cannot open: %s", path, strerror(errno));
    /* a regular file only: a device or pipe (/dev/zero) could be read forever */
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int dir = S_ISDIR(sb.st_mode);
        fclose(fp);
        return pact_fail(err, PACT_EIO, "%s: %s, not a model file", path,
                         dir ? "is a directory" : "not a regular file");
    }
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            unsigned char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(fp);
                return pact_fail(err, PACT_ENOMEM, "%s: out of memory reading the file", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return pact_fail(err, PACT_EIO, "%s: read error", path);
    }
    *bytes = buf;
    *size = n;
    return PACT_OK;
}

/* A JSON number that is a non-negative integer below 2^53 (exact in a double). */
static int json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= 0.0) || d > 9007199254740992.0 || d != floor(d))
        return 0;
    *out = (uint64_t)d;
    return 1;
}

static pact_status parse_metadata(pact_st_file *f, const cJSON *meta, pact_error *err)
{
    if (!cJSON_IsObject(meta))
        return pact_fail(err, PACT_EFORMAT, "%s: __metadata__ is not a JSON object", f->path);
    int n = cJSON_GetArraySize(meta);
    f->meta_keys = calloc((size_t)n + 1, sizeof *f->meta_keys);
    f->meta_values = calloc((size_t)n + 1, sizeof *f->meta_values);
    if (!f->meta_keys || !f->meta_values)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", f->path);
    for (const cJSON *e = meta->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return pact_fail(err, PACT_EFORMAT, "%s: __metadata__ value '%s' is not a string",
                             f->path, e->string);
        f->meta_keys[f->n_meta] = dup_string(e->string);
        f->meta_values[f->n_meta] = dup_string(e->valuestring);
        f->n_meta++;
        if (!f->meta_keys[f->n_meta - 1] || !f->meta_values[f->n_meta - 1])
            return pact_fail(err, PACT_ENOMEM, "%s: out of memory", f->path);
    }
    return PACT_OK;
}

static pact_status parse_tensor(pact_st_file *f, const cJSON *e, pact_st_tensor *t,
                                pact_error *err)
{
    const char *name = e->string;
    if (!cJSON_IsObject(e))
        return pact_fail(err, PACT_EFORMAT, "%s: tensor %s: entry is not a JSON object",
                         f->path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt))
        return pact_fail(err, PACT_EFORMAT, "%s: tensor %s: missing or non-string dtype",
                         f->path, name);
    int d = 0;
    while (d < PACT_ST_DTYPE_COUNT && strcmp(dtypes[d].name, dt->valuestring) != 0)
        d++;
    if (d == PACT_ST_DTYPE_COUNT)
        return pact_fail(err, PACT_EFORMAT, "%s: tensor %s: unknown dtype '%.32s'", f->path,
                         name, dt->valuestring);
    t->dtype = (pact_st_dtype)d;
    if (!cJSON_IsArray(sh))
        return pact_fail(err, PACT_EFORMAT, "%s: tensor %s: missing or non-array shape",
                         f->path, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > PACT_ST_MAX_DIMS)
        return pact_fail(err, PACT_EFORMAT, "%s: tensor %s: %d dimensions (at most %d)",
                         f->path, name, nd, PACT_ST_MAX_DIMS);
    t->ndim = nd;
    uint64_t count = 1;
    int i = 0;
    for (const cJSON *v = sh->child; v; v = v->next, i++) {
        uint64_t dim;
        if (!json_uint(v, &dim) || dim > (uint64_t)1 << 40)
            return pact_fail(err, PACT_EFORMAT,
                             "%s: tensor %s: shape[%d] is not a non-negative integer", f->path,
                             name, i);
        t->shape[i] = (int64_t)dim;
        if (dim && count > UINT64_MAX / 16 / dim)
            return pact_fail(err, PACT_EFORMAT, "%s: tensor %s: shape product overflows",
                             f->path, name);
        count *= dim;
    }
    t->count = count;
    uint64_t a, b;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_uint(off->child, &a) ||
        !json_uint(off->child->next, &b))
        return pact_fail(err, PACT_EFORMAT,
                         "%s: tensor %s: data_offsets is not a pair of non-negative integers",
                         f->path, name);
    if (a > b)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: tensor %s: data_offsets [%llu, %llu] run backwards", f->path,
                         name, (unsigned long long)a, (unsigned long long)b);
    if (b > f->data_size)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: tensor %s: data_offsets [%llu, %llu] past end of data "
                         "(%llu bytes after the header, file %zu bytes)",
                         f->path, name, (unsigned long long)a, (unsigned long long)b,
                         (unsigned long long)f->data_size, f->size);
    if (b - a != count * dtypes[d].size)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: tensor %s: data_offsets [%llu, %llu] hold %llu bytes, shape "
                         "and dtype %s need %llu",
                         f->path, name, (unsigned long long)a, (unsigned long long)b,
                         (unsigned long long)(b - a), dtypes[d].name,
                         (unsigned long long)(count * dtypes[d].size));
    t->begin = a;
    t->end = b;
    t->name = dup_string(name);
    if (!t->name)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", f->path);
    return PACT_OK;
}

static int by_begin(const void *x, const void *y)
{
    const pact_st_tensor *a = *(const pact_st_tensor *const *)x;
    const pact_st_tensor *b = *(const pact_st_tensor *const *)y;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

/* Tensors may not share bytes (zero-sized tensors occupy none). */
static pact_status check_overlaps(pact_st_file *f, pact_error *err)
{
    if (f->count < 2)
        return PACT_OK;
    pact_st_tensor **order = malloc((size_t)f->count * sizeof *order);
    if (!order)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", f->path);
    for (int i = 0; i < f->count; i++)
        order[i] = &f->tensors[i];
    qsort(order, (size_t)f->count, sizeof *order, by_begin);
    pact_status st = PACT_OK;
    const pact_st_tensor *last = NULL;
    for (int i = 0; i < f->count && st == PACT_OK; i++) {
        const pact_st_tensor *t = order[i];
        if (t->begin == t->end)
            continue;
        if (last && t->begin < last->end)
            st = pact_fail(err, PACT_EFORMAT,
                           "%s: tensor %s: data_offsets [%llu, %llu] overlap tensor %s "
                           "[%llu, %llu]",
                           f->path, t->name, (unsigned long long)t->begin,
                           (unsigned long long)t->end, last->name,
                           (unsigned long long)last->begin, (unsigned long long)last->end);
        last = t;
    }
    free(order);
    return st;
}

static int by_name(const void *x, const void *y)
{
    return strcmp((*(const pact_st_tensor *const *)x)->name,
                  (*(const pact_st_tensor *const *)y)->name);
}

/* JSON allows repeated keys; a tensor name must be unique (sorted, not n^2).
 * The sorted order stays as the file's name index. */
static pact_status check_duplicates(pact_st_file *f, pact_error *err)
{
    pact_st_tensor **order = malloc(((size_t)f->count + 1) * sizeof *order);
    if (!order)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", f->path);
    for (int i = 0; i < f->count; i++)
        order[i] = &f->tensors[i];
    if (f->count > 1)
        qsort(order, (size_t)f->count, sizeof *order, by_name);
    f->by_name = order;
    for (int i = 1; i < f->count; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            return pact_fail(err, PACT_EFORMAT, "%s: tensor %s appears twice", f->path,
                             order[i]->name);
    return PACT_OK;
}

static pact_status parse_header(pact_st_file *f, pact_error *err)
{
    if (f->size < 8)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: %zu bytes, too short for a safetensors file (8-byte header "
                         "length)",
                         f->path, f->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | f->bytes[i];
    if (n > f->size - 8)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: header length %llu exceeds the %zu bytes that follow it",
                         f->path, (unsigned long long)n, f->size - 8);
    if (n > ST_MAX_HEADER)
        return pact_fail(err, PACT_EFORMAT, "%s: header length %llu exceeds %u bytes",
                         f->path, (unsigned long long)n, ST_MAX_HEADER);
    if (n < 2 || f->bytes[8] != '{')
        return pact_fail(err, PACT_EFORMAT, "%s: header does not start with a JSON object",
                         f->path);
    f->data = f->bytes + 8 + n;
    f->data_size = f->size - 8 - n;

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)f->bytes + 8, (size_t)n, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return pact_fail(err, PACT_EFORMAT, "%s: header (%llu bytes) is not valid JSON",
                         f->path, (unsigned long long)n);
    }
    /* after the object only padding spaces are allowed */
    for (const char *p = end; p && p < (const char *)f->bytes + 8 + n; p++)
        if (*p != ' ' && *p != '\0' && *p != '\n' && *p != '\t' && *p != '\r') {
            cJSON_Delete(root);
            return pact_fail(err, PACT_EFORMAT, "%s: trailing bytes after the header JSON",
                             f->path);
        }
    pact_status st = PACT_OK;
    int n_entries = cJSON_GetArraySize(root);
    f->tensors = calloc((size_t)n_entries + 1, sizeof *f->tensors);
    if (!f->tensors)
        st = pact_fail(err, PACT_ENOMEM, "%s: out of memory", f->path);
    int seen_meta = 0;
    for (const cJSON *e = root->child; e && st == PACT_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (seen_meta++)
                st = pact_fail(err, PACT_EFORMAT, "%s: __metadata__ appears twice", f->path);
            else
                st = parse_metadata(f, e, err);
            continue;
        }
        st = parse_tensor(f, e, &f->tensors[f->count], err);
        if (st == PACT_OK)
            f->count++;
    }
    cJSON_Delete(root);
    if (st == PACT_OK)
        st = check_duplicates(f, err);
    if (st == PACT_OK)
        st = check_overlaps(f, err);
    return st;
}

/* A new file object named `path`, its bytes read from the file (bytes NULL)
 * or copied from `bytes`, then validated. */
static pact_status open_bytes(const char *path, const unsigned char *bytes, size_t size,
                              pact_st_file **file, pact_error *err)
{
    *file = NULL;
    pact_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = dup_string(path))) {
        free(f);
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", path);
    }
    pact_status st = PACT_OK;
    if (!bytes) {
        st = read_file(path, &f->bytes, &f->size, err);
    } else {
        f->bytes = malloc(size ? size : 1);
        if (!f->bytes)
            st = pact_fail(err, PACT_ENOMEM, "%s: out of memory", path);
        else if (size)
            memcpy(f->bytes, bytes, size);
        f->size = size;
    }
    if (st == PACT_OK)
        st = parse_header(f, err);
    if (st != PACT_OK) {
        pact_st_close(f);
        return st;
    }
    *file = f;
    return PACT_OK;
}

pact_status pact_st_open(const char *path, pact_st_file **file, pact_error *err)
{
    return open_bytes(path, NULL, 0, file, err);
}

pact_status pact_st_parse(const unsigned char *bytes, size_t size, const char *name,
                          pact_st_file **file, pact_error *err)
{
    if (!bytes && size)
        return pact_fail(err, PACT_EINVAL, "%s: no bytes", name);
    static const unsigned char none[1] = {0};
    return open_bytes(name, bytes ? bytes : none, size, file, err);
}

const char *pact_st_path(const pact_st_file *f) { return f->path; }
int pact_st_count(const pact_st_file *f) { return f->count; }

const pact_st_tensor *pact_st_at(const pact_st_file *f, int i)
{
    return i >= 0 && i < f->count ? &f->tensors[i] : NULL;
}

const pact_st_tensor *pact_st_find(const pact_st_file *f, const char *name)
{
    int lo = 0, hi = f->count; /* binary search of by_name[lo, hi) */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(f->by_name[mid]->name, name);
        if (c == 0)
            return f->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *pact_st_metadata(const pact_st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_values[i];
    return NULL;
}

const unsigned char *pact_st_bytes(const pact_st_file *f, size_t *size)
{
    *size = f->size;
    return f->bytes;
}

static float half_to_float(unsigned h)
{
    unsigned sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v;
    if (exp == 0)
        v = ldexpf((float)man, -24);                     /* subnormal or zero */
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 1024), (int)exp - 25);
    return sign ? -v : v;
}

static float bits_to_float(uint32_t u)
{
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

pact_status pact_st_read_f32(const pact_st_file *f, const pact_st_tensor *t, float *out,
                             pact_error *err)
{
    const unsigned char *p = f->data + t->begin;
    switch (t->dtype) {
    case PACT_ST_F32:
        for (uint64_t i = 0; i < t->count; i++, p += 4)
            out[i] = bits_to_float((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                                   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        return PACT_OK;
    case PACT_ST_BF16:
        for (uint64_t i = 0; i < t->count; i++, p += 2)
            out[i] = bits_to_float((uint32_t)p[0] << 16 | (uint32_t)p[1] << 24);
        return PACT_OK;
    case PACT_ST_F16:
        for (uint64_t i = 0; i < t->count; i++, p += 2)
            out[i] = half_to_float((unsigned)p[0] | (unsigned)p[1] << 8);
        return PACT_OK;
    case PACT_ST_F64:
        for (uint64_t i = 0; i < t->count; i++, p += 8) {
            uint64_t u = 0;
            for (int k = 7; k >= 0; k--)
                u = u << 8 | p[k];
            double d;
            memcpy(&d, &u, sizeof d);
            /* out-of-range casts are undefined: saturate to infinity instead */
            out[i] = fabs(d) > FLT_MAX ? (d > 0 ? INFINITY : -INFINITY) : (float)d;
        }
        return PACT_OK;
    default:
        return pact_fail(err, PACT_EFORMAT,
                         "%s: tensor %s: dtype %s is not a floating-point type (expected F32, "
                         "F16 or BF16)",
                         f->path, t->name, dtypes[t->dtype].name);
    }
}
