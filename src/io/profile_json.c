/* Reader of HE cost profiles ({"format": "polyact-cost", "version": 1}).
 * Every field is checked for presence, type and range; the message names the
 * origin and the field's path, so a hostile or stale file fails cleanly. */
#include "../pann/cost_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MS_MAX 1e12 /* 31 years: anything beyond is a corrupt file */

typedef struct {
    const char *origin;
    pact_error *err;
} reader;

static pact_status bad(const reader *r, const char *path, const char *what)
{
    return pact_fail(r->err, PACT_EFORMAT, "%s: field %s: %s", r->origin, path, what);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static pact_status need_object(const reader *r, const cJSON *obj, const char *key,
                               const char *path, const cJSON **out)
{
    const cJSON *o = member(obj, key);
    if (!o)
        return bad(r, path, "missing");
    if (!cJSON_IsObject(o))
        return bad(r, path, "not an object");
    *out = o;
    return PACT_OK;
}

static pact_status number_value(const reader *r, const cJSON *v, const char *path, double lo,
                                double hi, int integral, double *out)
{
    char msg[160];
    if (!v)
        return bad(r, path, "missing");
    if (!cJSON_IsNumber(v))
        return bad(r, path, "not a number");
    double x = v->valuedouble;
    if (!isfinite(x) || x < lo || x > hi) {
        snprintf(msg, sizeof msg, "%g outside %g..%g", x, lo, hi);
        return bad(r, path, msg);
    }
    if (integral && x != floor(x)) {
        snprintf(msg, sizeof msg, "%g is not an integer", x);
        return bad(r, path, msg);
    }
    *out = x;
    return PACT_OK;
}

static pact_status get_int(const reader *r, const cJSON *obj, const char *key,
                           const char *path, int lo, int hi, int *out)
{
    double x = 0.0;
    pact_status st = number_value(r, member(obj, key), path, lo, hi, 1, &x);
    if (st == PACT_OK)
        *out = (int)x;
    return st;
}

static pact_status get_double(const reader *r, const cJSON *obj, const char *key,
                              const char *path, double lo, double hi, double *out)
{
    return number_value(r, member(obj, key), path, lo, hi, 0, out);
}

/* Optional boolean: absent -> 0. */
static pact_status get_bool(const reader *r, const cJSON *obj, const char *key,
                            const char *path, int *out)
{
    const cJSON *v = member(obj, key);
    if (!v) {
        *out = 0;
        return PACT_OK;
    }
    if (!cJSON_IsBool(v))
        return bad(r, path, "not true/false");
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return PACT_OK;
}

/* Numeric array of 1..max entries in lo..hi; *n its length. */
static pact_status get_array(const reader *r, const cJSON *obj, const char *key,
                             const char *path, int max, double lo, double hi, int integral,
                             double *out, int *n)
{
    const cJSON *a = member(obj, key);
    if (!a)
        return bad(r, path, "missing");
    if (!cJSON_IsArray(a))
        return bad(r, path, "not an array");
    int count = cJSON_GetArraySize(a);
    char msg[160];
    if (count < 1 || count > max) {
        snprintf(msg, sizeof msg, "%d entries, need 1..%d", count, max);
        return bad(r, path, msg);
    }
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a)
    {
        char p[160];
        snprintf(p, sizeof p, "%s[%d]", path, i);
        pact_status st = number_value(r, v, p, lo, hi, integral, &out[i]);
        if (st != PACT_OK)
            return st;
        i++;
    }
    *n = count;
    return PACT_OK;
}

static pact_status strictly_increasing(const reader *r, const double *x, int n,
                                       const char *path)
{
    for (int i = 1; i < n; i++)
        if (!(x[i] > x[i - 1])) {
            char msg[160];
            snprintf(msg, sizeof msg, "entry %d (%g) not above entry %d (%g)", i, x[i], i - 1,
                     x[i - 1]);
            return bad(r, path, msg);
        }
    return PACT_OK;
}

/* obj[key] = {xkey: [...], ykey: [...]} of equal lengths into t. */
static pact_status get_table(const reader *r, const cJSON *obj, const char *path,
                             const char *xkey, double xlo, double xhi, const char *ykey,
                             double ylo, pact_cost_table *t)
{
    char px[160], py[160];
    int nx, ny;
    snprintf(px, sizeof px, "%s.%s", path, xkey);
    snprintf(py, sizeof py, "%s.%s", path, ykey);
    pact_status st = get_array(r, obj, xkey, px, PACT_COST_MAX_ROWS, xlo, xhi, 1, t->x, &nx);
    if (st == PACT_OK)
        st = strictly_increasing(r, t->x, nx, px);
    if (st == PACT_OK)
        st = get_array(r, obj, ykey, py, PACT_COST_MAX_ROWS, ylo, MS_MAX, 0, t->y, &ny);
    if (st != PACT_OK)
        return st;
    if (nx != ny) {
        char msg[160];
        snprintf(msg, sizeof msg, "%d entries, %s has %d", ny, xkey, nx);
        return bad(r, py, msg);
    }
    t->n = nx;
    return PACT_OK;
}

static pact_status get_name(const reader *r, const cJSON *root, char *name)
{
    const cJSON *v = member(root, "name");
    if (!v)
        return bad(r, "name", "missing");
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad(r, "name", "not a string");
    size_t len = strlen(v->valuestring);
    if (len < 1 || len >= PACT_COST_NAME_MAX)
        return bad(r, "name", "length outside 1..63");
    for (size_t i = 0; i < len; i++) {
        char c = v->valuestring[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '+';
        if (!ok)
            return bad(r, "name", "only letters, digits and -_.+ are allowed");
    }
    memcpy(name, v->valuestring, len + 1);
    return PACT_OK;
}

static pact_status get_linear(const reader *r, const cJSON *obj, const char *key,
                              const char *path, int required, int max_level,
                              pact_cost_linear *out)
{
    char p[160];
    const cJSON *o = member(obj, key);
    out->present = 0;
    if (!o) {
        if (required)
            return bad(r, path, "missing");
        return PACT_OK;
    }
    if (!cJSON_IsObject(o))
        return bad(r, path, "not an object");
    snprintf(p, sizeof p, "%s.levels", path);
    pact_status st = get_int(r, o, "levels", p, 0, max_level, &out->levels);
    if (st != PACT_OK)
        return st;
    snprintf(p, sizeof p, "%s.ms", path);
    st = get_double(r, o, "ms", p, 0.0, MS_MAX, &out->ms);
    if (st == PACT_OK)
        out->present = 1;
    return st;
}

static pact_status read_resnet(const reader *r, const cJSON *root, pact_cost_profile *p)
{
    const cJSON *res = member(root, "cifar_resnet");
    p->has_resnet = 0;
    if (!res)
        return PACT_OK;
    if (!cJSON_IsObject(res))
        return bad(r, "cifar_resnet", "not an object");
    const cJSON *stem = NULL;
    int top = p->fresh_level > p->max_level ? p->fresh_level : p->max_level;
    pact_status st = need_object(r, res, "stem", "cifar_resnet.stem", &stem);
    if (st == PACT_OK)
        st = get_linear(r, stem, "conv", "cifar_resnet.stem.conv", 1, top, &p->stem_conv);
    if (st == PACT_OK)
        st = get_linear(r, stem, "bn", "cifar_resnet.stem.bn", 1, top, &p->stem_bn);
    if (st == PACT_OK)
        st = get_linear(r, res, "pool", "cifar_resnet.pool", 1, top, &p->pool);
    if (st == PACT_OK)
        st = get_linear(r, res, "fc", "cifar_resnet.fc", 1, top, &p->fc);
    if (st != PACT_OK)
        return st;
    const cJSON *stages = member(res, "stages");
    if (!stages)
        return bad(r, "cifar_resnet.stages", "missing");
    if (!cJSON_IsArray(stages) || cJSON_GetArraySize(stages) != 3)
        return bad(r, "cifar_resnet.stages", "not an array of 3 stages");
    for (int s = 0; s < 3; s++) {
        const cJSON *so = cJSON_GetArrayItem(stages, s);
        char path[96], p2[160];
        snprintf(path, sizeof path, "cifar_resnet.stages[%d]", s);
        if (!cJSON_IsObject(so))
            return bad(r, path, "not an object");
        pact_cost_resnet_stage *rs = &p->stages[s];
        snprintf(p2, sizeof p2, "%s.conv", path);
        st = get_linear(r, so, "conv", p2, 1, top, &rs->conv);
        snprintf(p2, sizeof p2, "%s.bn", path);
        if (st == PACT_OK)
            st = get_linear(r, so, "bn", p2, 1, top, &rs->bn);
        /* Stages 2 and 3 halve the resolution in their first block. */
        snprintf(p2, sizeof p2, "%s.conv_downsample", path);
        if (st == PACT_OK)
            st = get_linear(r, so, "conv_downsample", p2, s > 0, top, &rs->conv_downsample);
        snprintf(p2, sizeof p2, "%s.shortcut_downsample", path);
        if (st == PACT_OK)
            st = get_linear(r, so, "shortcut_downsample", p2, s > 0, top,
                            &rs->shortcut_downsample);
        if (st != PACT_OK)
            return st;
    }
    p->has_resnet = 1;
    return PACT_OK;
}

static pact_status read_activation(const reader *r, const cJSON *root, pact_cost_profile *p,
                                   pact_cost_anchor *anchor)
{
    const cJSON *act = NULL, *model = NULL;
    pact_status st = need_object(r, root, "activation", "activation", &act);
    if (st != PACT_OK)
        return st;
    model = member(act, "model");
    if (!model)
        return bad(r, "activation.model", "missing");
    if (!cJSON_IsString(model) || !model->valuestring)
        return bad(r, "activation.model", "not a string");
    if (strcmp(model->valuestring, "bsgs") == 0)
        p->model = PACT_ACT_MODEL_BSGS;
    else if (strcmp(model->valuestring, "series") == 0)
        p->model = PACT_ACT_MODEL_SERIES;
    else
        return bad(r, "activation.model", "neither \"bsgs\" nor \"series\"");

    const cJSON *mult = NULL;
    st = need_object(r, act, "mult_ms_by_level", "activation.mult_ms_by_level", &mult);
    if (st == PACT_OK)
        st = get_table(r, mult, "activation.mult_ms_by_level", "level", 0, PACT_COST_MAX_LEVEL,
                       "ct_ct", 1e-9, &p->mult_ct);
    if (st == PACT_OK)
        st = get_table(r, mult, "activation.mult_ms_by_level", "level", 0, PACT_COST_MAX_LEVEL,
                       "scalar", 0.0, &p->mult_scalar);
    if (st != PACT_OK)
        return st;
    p->mult_scale = 1.0;

    if (p->model == PACT_ACT_MODEL_BSGS) {
        const cJSON *cal = NULL;
        double deg[PACT_COST_MAX_COMPONENTS];
        int n;
        st = need_object(r, act, "calibrate", "activation.calibrate", &cal);
        if (st == PACT_OK)
            st = get_array(r, cal, "degrees", "activation.calibrate.degrees",
                           PACT_COST_MAX_COMPONENTS, 1, 1023, 1, deg, &n);
        if (st == PACT_OK)
            st = get_bool(r, cal, "relu_product", "activation.calibrate.relu_product",
                          &anchor->act.relu_product);
        if (st == PACT_OK)
            st = get_int(r, cal, "level", "activation.calibrate.level", 1, PACT_COST_MAX_LEVEL,
                         &anchor->level);
        if (st == PACT_OK)
            st = get_double(r, cal, "ms", "activation.calibrate.ms", 1e-9, MS_MAX, &anchor->ms);
        if (st != PACT_OK)
            return st;
        anchor->act.n_components = n;
        for (int i = 0; i < n; i++)
            anchor->act.degrees[i] = (int)deg[i];
        return PACT_OK;
    }

    const cJSON *series = NULL, *depth = NULL;
    st = need_object(r, act, "series_ms_by_degree", "activation.series_ms_by_degree", &series);
    if (st == PACT_OK)
        st = get_table(r, series, "activation.series_ms_by_degree", "degree", 1, 1023, "ms",
                       1e-9, &p->series_ms);
    if (st == PACT_OK)
        st = need_object(r, act, "levels_by_degree", "activation.levels_by_degree", &depth);
    if (st != PACT_OK)
        return st;
    double maxdeg[PACT_COST_MAX_ROWS], levels[PACT_COST_MAX_ROWS];
    int nd, nl;
    st = get_array(r, depth, "max_degree", "activation.levels_by_degree.max_degree",
                   PACT_COST_MAX_ROWS, 1, 1023, 1, maxdeg, &nd);
    if (st == PACT_OK)
        st = strictly_increasing(r, maxdeg, nd, "activation.levels_by_degree.max_degree");
    if (st == PACT_OK)
        st = get_array(r, depth, "levels", "activation.levels_by_degree.levels",
                       PACT_COST_MAX_ROWS, 1, PACT_COST_MAX_LEVEL, 1, levels, &nl);
    if (st != PACT_OK)
        return st;
    if (nd != nl)
        return bad(r, "activation.levels_by_degree.levels", "length differs from max_degree");
    for (int i = 0; i < nd; i++) {
        if (i > 0 && levels[i] < levels[i - 1])
            return bad(r, "activation.levels_by_degree.levels", "decreasing with the degree");
        p->depth_max_degree[i] = (int)maxdeg[i];
        p->depth_levels[i] = (int)levels[i];
    }
    p->n_depth_rows = nd;
    return PACT_OK;
}

static pact_status read_root(const reader *r, const cJSON *root, pact_cost_profile *p,
                             pact_cost_anchor *anchor)
{
    if (!cJSON_IsObject(root))
        return bad(r, "(root)", "not a JSON object");
    const cJSON *fmt = member(root, "format");
    if (!fmt)
        return bad(r, "format", "missing (not a polyact cost profile)");
    if (!cJSON_IsString(fmt) || !fmt->valuestring || strcmp(fmt->valuestring, "polyact-cost"))
        return bad(r, "format", "not \"polyact-cost\"");
    int version = 0;
    pact_status st = get_int(r, root, "version", "version", 0, 1 << 30, &version);
    if (st != PACT_OK)
        return st;
    if (version != 1) {
        char msg[96];
        snprintf(msg, sizeof msg, "%d unsupported (this build reads 1)", version);
        return bad(r, "version", msg);
    }
    st = get_name(r, root, p->name);
    const cJSON *levels = NULL, *boot = NULL;
    if (st == PACT_OK)
        st = need_object(r, root, "levels", "levels", &levels);
    if (st == PACT_OK)
        st = get_int(r, levels, "max", "levels.max", 1, PACT_COST_MAX_LEVEL, &p->max_level);
    if (st == PACT_OK)
        st = get_int(r, levels, "fresh", "levels.fresh", 0, PACT_COST_MAX_LEVEL,
                     &p->fresh_level);
    if (st == PACT_OK)
        st = need_object(r, root, "bootstrap", "bootstrap", &boot);
    if (st == PACT_OK)
        st = get_array(r, boot, "ms_by_stage", "bootstrap.ms_by_stage", PACT_COST_MAX_STAGES,
                       0.0, MS_MAX, 0, p->bootstrap_ms, &p->n_stages);
    if (st == PACT_OK)
        st = get_bool(r, boot, "between_components", "bootstrap.between_components",
                      &p->split_composites);
    if (st == PACT_OK)
        st = read_activation(r, root, p, anchor);
    if (st == PACT_OK)
        st = read_resnet(r, root, p);
    return st;
}

pact_status pact_cost_profile_read_json(const char *json, size_t len, const char *origin,
                                        struct pact_cost_profile *p, pact_cost_anchor *anchor,
                                        pact_error *err)
{
    reader r = {origin ? origin : "profile", err};
    if (!json)
        return pact_fail(err, PACT_EINVAL, "%s: no JSON text", r.origin);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        /* cJSON reports the failure point through `end` (its global error
         * pointer is not thread-safe). */
        long off = (end && end >= json && end <= json + len) ? (long)(end - json) : -1;
        return pact_fail(err, PACT_EFORMAT, "%s: not valid JSON (near byte %ld of %zu)",
                         r.origin, off, len);
    }
    /* One JSON value and nothing after it but whitespace. */
    for (const char *c = end ? end : json + len; c < json + len; c++)
        if (*c != ' ' && *c != '\n' && *c != '\r' && *c != '\t') {
            cJSON_Delete(root);
            return pact_fail(err, PACT_EFORMAT, "%s: data after the JSON value (byte %ld of %zu)",
                             r.origin, (long)(c - json), len);
        }
    memset(p, 0, sizeof *p);
    memset(anchor, 0, sizeof *anchor);
    pact_status st = read_root(&r, root, p, anchor);
    cJSON_Delete(root);
    return st;
}
