/* Partial results of a job split into items (format "polyact-partial",
 * version 1): which items a file holds, a row of doubles per item, and
 * counts added over all items. Every byte of a file is hostile. */
#define _POSIX_C_SOURCE 200809L
#include "../internal.h"
#include "file_util.h"
#include "json_num.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARTIAL_FORMAT "polyact-partial"
#define PARTIAL_VERSION 1
#define PARTIAL_MAX_FILE ((size_t)1 << 30)
#define PARTIAL_MAX_ITEMS ((size_t)1 << 24)
#define PARTIAL_MAX_ROW ((size_t)1 << 20)
#define PARTIAL_MAX_CELLS ((size_t)1 << 27) /* items x row doubles: 1 GiB */
#define PARTIAL_MAX_SUMS ((size_t)1 << 28)
#define PARTIAL_MAX_KIND 64
#define COUNT_MAX 9007199254740992.0        /* 2^53: exact in a double */

struct pact_partial {
    char kind[PARTIAL_MAX_KIND];
    char *job;            /* canonical (unformatted) JSON object */
    int shard, shards;
    size_t n_items, row_size, n_sums, present;
    unsigned char *has;   /* n_items flags */
    double *rows;         /* n_items x row_size */
    uint64_t *sums;       /* n_sums */
    double *context;      /* n_context numbers every part of the job shares */
    size_t n_context;
};

void pact_partial_free(pact_partial *p)
{
    if (!p)
        return;
    free(p->job);
    free(p->has);
    free(p->rows);
    free(p->sums);
    free(p->context);
    free(p);
}

static int valid_kind(const char *kind)
{
    size_t n = kind ? strlen(kind) : 0;
    if (n == 0 || n >= PARTIAL_MAX_KIND)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9') ||
              kind[i] == '-'))
            return 0;
    return 1;
}

/* The job object printed canonically (cJSON keeps member order). */
static pact_status canonical_job(const cJSON *job, const char *origin, char **out,
                                 pact_error *err)
{
    if (!cJSON_IsObject(job))
        return pact_fail(err, PACT_EFORMAT, "%s: field 'job' must be a JSON object", origin);
    *out = cJSON_PrintUnformatted(job);
    return *out ? PACT_OK : pact_fail(err, PACT_ENOMEM, "%s: out of memory", origin);
}

static pact_status alloc_partial(const char *kind, size_t n_items, size_t row_size,
                                 size_t n_sums, const char *origin, pact_partial **out,
                                 pact_error *err)
{
    *out = NULL;
    if (!valid_kind(kind))
        return pact_fail(err, PACT_EINVAL, "%s: kind '%s' must be 1..63 of [a-z0-9-]", origin,
                         kind ? kind : "(null)");
    if (n_items < 1 || n_items > PARTIAL_MAX_ITEMS || row_size > PARTIAL_MAX_ROW ||
        n_items * row_size > PARTIAL_MAX_CELLS || n_sums > PARTIAL_MAX_SUMS)
        return pact_fail(err, PACT_EINVAL,
                         "%s: %zu items x %zu numbers and %zu sums exceed the limits (items "
                         "1..%zu, items x numbers <= %zu, sums <= %zu)",
                         origin, n_items, row_size, n_sums, PARTIAL_MAX_ITEMS, PARTIAL_MAX_CELLS,
                         PARTIAL_MAX_SUMS);
    pact_partial *p = calloc(1, sizeof *p);
    if (!p)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", origin);
    snprintf(p->kind, sizeof p->kind, "%s", kind);
    p->shards = 1;
    p->n_items = n_items;
    p->row_size = row_size;
    p->n_sums = n_sums;
    p->has = calloc(n_items, 1);
    p->rows = calloc(row_size ? n_items * row_size : 1, sizeof *p->rows);
    p->sums = calloc(n_sums ? n_sums : 1, sizeof *p->sums);
    if (!p->has || !p->rows || !p->sums) {
        pact_partial_free(p);
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory for %zu items", origin, n_items);
    }
    *out = p;
    return PACT_OK;
}

pact_status pact_partial_create(const char *kind, const char *job_json, size_t n_items,
                                size_t row_size, size_t n_sums, pact_partial **out,
                                pact_error *err)
{
    pact_partial *p = NULL;
    pact_status st = alloc_partial(kind, n_items, row_size, n_sums, "partial", &p, err);
    if (st != PACT_OK)
        return st;
    cJSON *job = job_json ? cJSON_Parse(job_json) : NULL;
    st = canonical_job(job, "partial", &p->job, err);
    cJSON_Delete(job);
    if (st != PACT_OK) {
        pact_partial_free(p);
        return st == PACT_EFORMAT ? pact_fail(err, PACT_EINVAL, "partial: the job must be a JSON object")
                                  : st;
    }
    *out = p;
    return PACT_OK;
}

pact_status pact_partial_set_shard(pact_partial *p, int index, int count, pact_error *err)
{
    if (count < 1 || index < 0 || index >= count)
        return pact_fail(err, PACT_EINVAL, "partial: shard %d/%d (need 0 <= I < N)", index, count);
    p->shard = index;
    p->shards = count;
    return PACT_OK;
}

pact_status pact_partial_set_row(pact_partial *p, size_t item, const double *row, pact_error *err)
{
    if (item >= p->n_items)
        return pact_fail(err, PACT_EINVAL, "partial: item %zu outside 0..%zu", item, p->n_items - 1);
    if (p->row_size)
        memcpy(p->rows + item * p->row_size, row, p->row_size * sizeof *row);
    if (!p->has[item]) {
        p->has[item] = 1;
        p->present++;
    }
    return PACT_OK;
}

pact_status pact_partial_set_context(pact_partial *p, const double *values, size_t n,
                                     pact_error *err)
{
    if (n > PARTIAL_MAX_SUMS)
        return pact_fail(err, PACT_EINVAL, "partial: context of %zu numbers (at most %zu)", n,
                         PARTIAL_MAX_SUMS);
    double *c = malloc((n ? n : 1) * sizeof *c);
    if (!c)
        return pact_fail(err, PACT_ENOMEM, "partial: out of memory");
    if (n)
        memcpy(c, values, n * sizeof *c);
    free(p->context);
    p->context = c;
    p->n_context = n;
    return PACT_OK;
}

const double *pact_partial_context(const pact_partial *p, size_t *n)
{
    *n = p->n_context;
    return p->context;
}

/* Same numbers bit for bit (NaN equal to NaN). */
static int same_context(const pact_partial *a, const pact_partial *b)
{
    return a->n_context == b->n_context &&
           (a->n_context == 0 || memcmp(a->context, b->context, a->n_context * sizeof(double)) == 0);
}

uint64_t *pact_partial_sums(pact_partial *p) { return p->sums; }
const uint64_t *pact_partial_sums_const(const pact_partial *p) { return p->sums; }
const char *pact_partial_kind(const pact_partial *p) { return p->kind; }
const char *pact_partial_job(const pact_partial *p) { return p->job; }
size_t pact_partial_item_count(const pact_partial *p) { return p->n_items; }
size_t pact_partial_row_size(const pact_partial *p) { return p->row_size; }
size_t pact_partial_sum_count(const pact_partial *p) { return p->n_sums; }
size_t pact_partial_present(const pact_partial *p) { return p->present; }

void pact_partial_shard(const pact_partial *p, int *index, int *count)
{
    if (index)
        *index = p->shard;
    if (count)
        *count = p->shards;
}

const double *pact_partial_row(const pact_partial *p, size_t item)
{
    return item < p->n_items && p->has[item] ? p->rows + item * p->row_size : NULL;
}

pact_status pact_partial_merge(pact_partial *into, const pact_partial *part, pact_error *err)
{
    if (strcmp(into->kind, part->kind) != 0)
        return pact_fail(err, PACT_EMISMATCH, "partial: merging kind '%s' into '%s'", part->kind,
                         into->kind);
    if (strcmp(into->job, part->job) != 0)
        return pact_fail(err, PACT_EMISMATCH,
                         "partial: the two parts come from different jobs (other inputs or flags)");
    if (!same_context(into, part))
        return pact_fail(err, PACT_EMISMATCH,
                         "partial: the two parts were computed from different contexts (e.g. "
                         "another pass-1 statistics file)");
    if (into->n_items != part->n_items || into->row_size != part->row_size ||
        into->n_sums != part->n_sums)
        return pact_fail(err, PACT_EMISMATCH,
                         "partial: shapes differ (%zu items x %zu, %zu sums vs %zu x %zu, %zu)",
                         part->n_items, part->row_size, part->n_sums, into->n_items,
                         into->row_size, into->n_sums);
    for (size_t i = 0; i < part->n_items; i++)
        if (part->has[i] && into->has[i])
            return pact_fail(err, PACT_EMISMATCH, "partial: item %zu appears in both parts", i);
    for (size_t k = 0; k < part->n_sums; k++)
        if (part->sums[k] > (uint64_t)COUNT_MAX - into->sums[k] || into->sums[k] > (uint64_t)COUNT_MAX)
            return pact_fail(err, PACT_ENUMERIC, "partial: sum %zu exceeds 2^53", k);
    for (size_t i = 0; i < part->n_items; i++)
        if (part->has[i])
            pact_partial_set_row(into, i, part->rows + i * part->row_size, NULL);
    for (size_t k = 0; k < part->n_sums; k++)
        into->sums[k] += part->sums[k];
    return PACT_OK;
}

/* ---- writing ---- */

/* A double as the shortest decimal that reads back to the same bits;
 * non-finite values as the strings "inf", "-inf", "nan". */
static cJSON *exact_number(double v)
{
    if (isnan(v))
        return cJSON_CreateString("nan");
    if (isinf(v))
        return cJSON_CreateString(v > 0 ? "inf" : "-inf");
    return pact_json_number(v);
}

static int add(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return 0;
    cJSON_AddItemToObject(obj, key, item);
    return 1;
}

static int append(cJSON *arr, cJSON *item)
{
    if (!item)
        return 0;
    cJSON_AddItemToArray(arr, item);
    return 1;
}

static cJSON *to_json(const pact_partial *p)
{
    cJSON *root = cJSON_CreateObject(), *shard = cJSON_CreateArray();
    cJSON *rows = cJSON_CreateArray(), *sums = cJSON_CreateArray();
    cJSON *job = cJSON_Parse(p->job);
    int ok = root && shard && rows && sums && job;
    ok = ok && add(root, "format", cJSON_CreateString(PARTIAL_FORMAT)) &&
         add(root, "version", cJSON_CreateNumber(PARTIAL_VERSION)) &&
         add(root, "kind", cJSON_CreateString(p->kind)) && add(root, "job", job);
    if (ok)
        job = NULL;
    ok = ok && append(shard, cJSON_CreateNumber(p->shard)) &&
         append(shard, cJSON_CreateNumber(p->shards)) && add(root, "shard", shard);
    if (ok)
        shard = NULL;
    ok = ok && add(root, "items", pact_json_count(p->n_items)) &&
         add(root, "row_size", pact_json_count(p->row_size));
    for (size_t i = 0; ok && i < p->n_items; i++) {
        if (!p->has[i])
            continue;
        cJSON *row = cJSON_CreateArray();
        ok = append(rows, row) && append(row, pact_json_count(i));
        for (size_t k = 0; ok && k < p->row_size; k++)
            ok = append(row, exact_number(p->rows[i * p->row_size + k]));
    }
    ok = ok && add(root, "rows", rows);
    if (ok)
        rows = NULL;
    cJSON *context = ok ? cJSON_CreateArray() : NULL;
    ok = ok && add(root, "context", context);
    for (size_t k = 0; ok && k < p->n_context; k++)
        ok = append(context, exact_number(p->context[k]));
    for (size_t k = 0; ok && k < p->n_sums; k++)
        ok = append(sums, pact_json_count(p->sums[k]));
    ok = ok && add(root, "sums", sums);
    if (ok)
        sums = NULL;
    cJSON_Delete(job);
    cJSON_Delete(shard);
    cJSON_Delete(rows);
    cJSON_Delete(sums);
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

pact_status pact_partial_save(const pact_partial *p, const char *path, pact_error *err)
{
    for (size_t k = 0; k < p->n_sums; k++)
        if (p->sums[k] > (uint64_t)COUNT_MAX)
            return pact_fail(err, PACT_ENUMERIC, "%s: sum %zu exceeds 2^53", path, k);
    cJSON *root = to_json(p);
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory writing the partial result", path);
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator: the file ends with a newline */
    pact_status st = pact_write_file_atomic(path, text, n + 1, err);
    free(text);
    return st;
}

/* ---- reading ---- */

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A whole number in 0..2^53. */
static int get_count(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= COUNT_MAX) || d != floor(d))
        return 0;
    *out = (uint64_t)d;
    return 1;
}

static int get_double(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 1;
    }
    if (!cJSON_IsString(v))
        return 0;
    if (strcmp(v->valuestring, "inf") == 0)
        *out = INFINITY;
    else if (strcmp(v->valuestring, "-inf") == 0)
        *out = -INFINITY;
    else if (strcmp(v->valuestring, "nan") == 0)
        *out = NAN;
    else
        return 0;
    return 1;
}

pact_status pact_partial_parse(const char *text, size_t size, const char *name,
                               pact_partial **out, pact_error *err)
{
    *out = NULL;
    if (!name)
        name = "partial";
    long at;
    cJSON *root = pact_json_parse(text, size, &at);
    if (!root)
        return pact_fail(err, PACT_EFORMAT, "%s: not valid JSON (near byte %ld of %zu)", name, at,
                         size);
    pact_status st = PACT_OK;
    pact_partial *p = NULL;
    const cJSON *v = get(root, "format"), *shard = get(root, "shard");
    const cJSON *rows = get(root, "rows"), *sums = get(root, "sums"), *kind = get(root, "kind");
    uint64_t n_items = 0, row_size = 0, si = 0, sn = 0;
    if (!cJSON_IsObject(root) || !cJSON_IsString(v) || strcmp(v->valuestring, PARTIAL_FORMAT) != 0)
        st = pact_fail(err, PACT_EFORMAT, "%s: not a polyact partial result (field 'format' must be \"" PARTIAL_FORMAT "\")", name);
    else if (!cJSON_IsNumber(v = get(root, "version")))
        st = pact_fail(err, PACT_EFORMAT, "%s: field 'version' missing or not a number", name);
    else if (v->valuedouble != PARTIAL_VERSION)
        st = pact_fail(err, PACT_EUNSUPPORTED, "%s: version %g is not supported (this build reads version %d)",
                       name, v->valuedouble, PARTIAL_VERSION);
    else if (!cJSON_IsString(kind) || !valid_kind(kind->valuestring))
        st = pact_fail(err, PACT_EFORMAT, "%s: field 'kind' missing or not 1..63 of [a-z0-9-]", name);
    else if (!get_count(get(root, "items"), &n_items) || !get_count(get(root, "row_size"), &row_size))
        st = pact_fail(err, PACT_EFORMAT, "%s: fields 'items' and 'row_size' must be whole numbers", name);
    else if (!cJSON_IsArray(shard) || cJSON_GetArraySize(shard) != 2 ||
             !get_count(shard->child, &si) || !get_count(shard->child->next, &sn) || sn < 1 ||
             si >= sn || sn > PARTIAL_MAX_ITEMS)
        st = pact_fail(err, PACT_EFORMAT, "%s: field 'shard' must be [I, N] with 0 <= I < N", name);
    else if (!cJSON_IsArray(rows) || !cJSON_IsArray(sums))
        st = pact_fail(err, PACT_EFORMAT, "%s: fields 'rows' and 'sums' must be arrays", name);
    size_t n_sums = st == PACT_OK ? (size_t)cJSON_GetArraySize(sums) : 0;
    if (st == PACT_OK && (n_items < 1 || n_items > PARTIAL_MAX_ITEMS || row_size > PARTIAL_MAX_ROW ||
                          n_items * row_size > PARTIAL_MAX_CELLS || n_sums > PARTIAL_MAX_SUMS))
        st = pact_fail(err, PACT_EFORMAT,
                       "%s: %llu items x %llu numbers and %zu sums exceed the limits", name,
                       (unsigned long long)n_items, (unsigned long long)row_size, n_sums);
    if (st == PACT_OK)
        st = alloc_partial(kind->valuestring, n_items, row_size, n_sums, name, &p, err);
    if (st == PACT_OK) {
        p->shard = (int)si;
        p->shards = (int)sn;
        st = canonical_job(get(root, "job"), name, &p->job, err);
    }
    size_t r = 0, prev = 0;
    for (const cJSON *row = rows ? rows->child : NULL; st == PACT_OK && row; row = row->next, r++) {
        uint64_t item;
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != row_size + 1 ||
            !get_count(row->child, &item) || item >= n_items) {
            st = pact_fail(err, PACT_EFORMAT,
                           "%s: rows[%zu] must be [item < %llu, then %llu numbers]", name, r,
                           (unsigned long long)n_items, (unsigned long long)row_size);
            break;
        }
        if (r > 0 && item <= prev) {
            st = pact_fail(err, PACT_EFORMAT, "%s: rows[%zu]: item %llu after item %zu (items must increase)",
                           name, r, (unsigned long long)item, prev);
            break;
        }
        prev = (size_t)item;
        double *dst = p->rows + item * row_size;
        size_t k = 0;
        for (const cJSON *x = row->child->next; x; x = x->next, k++)
            if (!get_double(x, &dst[k])) {
                st = pact_fail(err, PACT_EFORMAT, "%s: rows[%zu][%zu] is not a number", name, r, k + 1);
                break;
            }
        p->has[item] = 1;
        p->present++;
    }
    const cJSON *context = get(root, "context");
    if (st == PACT_OK && context) {
        size_t n = cJSON_IsArray(context) ? (size_t)cJSON_GetArraySize(context) : PARTIAL_MAX_SUMS + 1;
        if (n > PARTIAL_MAX_SUMS)
            st = pact_fail(err, PACT_EFORMAT, "%s: field 'context' must be an array of numbers", name);
        else if (!(p->context = malloc((n ? n : 1) * sizeof *p->context)))
            st = pact_fail(err, PACT_ENOMEM, "%s: out of memory", name);
        p->n_context = st == PACT_OK ? n : 0;
        size_t k = 0;
        for (const cJSON *x = context->child; st == PACT_OK && x; x = x->next, k++)
            if (!get_double(x, &p->context[k]))
                st = pact_fail(err, PACT_EFORMAT, "%s: context[%zu] is not a number", name, k);
    }
    size_t k = 0;
    for (const cJSON *x = sums ? sums->child : NULL; st == PACT_OK && x; x = x->next, k++)
        if (!get_count(x, &p->sums[k]))
            st = pact_fail(err, PACT_EFORMAT, "%s: sums[%zu] is not a whole number in 0..2^53", name, k);
    cJSON_Delete(root);
    if (st != PACT_OK) {
        pact_partial_free(p);
        return st;
    }
    *out = p;
    return PACT_OK;
}

pact_status pact_partial_load(const char *path, pact_partial **out, pact_error *err)
{
    *out = NULL;
    char *text;
    size_t size;
    pact_status st = pact_read_file(path, PARTIAL_MAX_FILE, &text, &size, err);
    if (st != PACT_OK)
        return st;
    st = pact_partial_parse(text, size, path, out, err);
    free(text);
    return st;
}
