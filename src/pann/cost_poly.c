/* What one activation costs under a profile: depth and milliseconds of its
 * polynomials, by the level they run at; activation specs. */
#include "cost_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ceil(log2 j) for j >= 1: the depth at which T_j is formed. */
static int ceil_log2(int j)
{
    int n = 0;
    for (int v = j - 1; v > 0; v >>= 1)
        n++;
    return n;
}

static double ct_mult(const pact_cost_profile *p, int level)
{
    return pact_cost_table_clamped(&p->mult_ct, level);
}

/* Multiplication schedule documented at pact_cost_poly_ms. */
double pact_cost_bsgs_raw_ms(const pact_cost_profile *p, int degree, int level)
{
    pact_bsgs plan;
    if (pact_bsgs_plan(degree, &plan, NULL) != PACT_OK)
        return NAN;
    double ms = 0.0;
    int scalar_level;
    if (plan.giant == 0) {
        for (int j = 2; j <= degree; j++)
            ms += ct_mult(p, level - ceil_log2(j) + 1);
        scalar_level = level - ceil_log2(degree);
    } else {
        int k = plan.baby, l = ceil_log2(k), m = plan.giant;
        for (int j = 2; j <= k; j++)
            ms += ct_mult(p, level - ceil_log2(j) + 1);
        for (int i = 1; i < m; i++)
            ms += ct_mult(p, level - l - i + 1);
        int remaining = (degree + k) / k - 1; /* blocks - 1 */
        for (int i = m - 1; i >= 0 && remaining > 0; i--) {
            int c = 1 << (m - 1 - i);
            if (c > remaining)
                c = remaining;
            ms += c * ct_mult(p, level - l - i);
            remaining -= c;
        }
        scalar_level = level - l;
    }
    ms += plan.scalar_mults * pact_cost_table_clamped(&p->mult_scalar, scalar_level);
    return ms;
}

static double series_ms(const pact_cost_table *t, int degree)
{
    int n = t->n;
    if (degree <= t->x[0])
        return t->y[0] * degree / t->x[0];
    if (degree <= t->x[n - 1])
        return pact_cost_table_clamped(t, degree);
    double slope = n >= 2 ? (t->y[n - 1] - t->y[n - 2]) / (t->x[n - 1] - t->x[n - 2]) : 0.0;
    if (slope < 0.0)
        slope = 0.0;
    return t->y[n - 1] + slope * (degree - t->x[n - 1]);
}

pact_status pact_cost_poly_depth(const pact_cost_profile *profile, int degree, int *depth,
                                 pact_error *err)
{
    if (!profile || !depth)
        return pact_fail(err, PACT_EINVAL, "polynomial depth: NULL argument");
    if (degree < 1 || degree > 1023)
        return pact_fail(err, PACT_EINVAL, "polynomial depth: degree %d outside 1..1023",
                         degree);
    if (profile->model == PACT_ACT_MODEL_BSGS) {
        *depth = ceil_log2(degree + 1);
        return PACT_OK;
    }
    for (int i = 0; i < profile->n_depth_rows; i++)
        if (degree <= profile->depth_max_degree[i]) {
            *depth = profile->depth_levels[i];
            return PACT_OK;
        }
    return pact_fail(err, PACT_EUNSUPPORTED,
                     "profile %s: no level count for degree %d (its table stops at %d)",
                     profile->name, degree,
                     profile->depth_max_degree[profile->n_depth_rows - 1]);
}

pact_status pact_cost_poly_ms(const pact_cost_profile *profile, int degree, int level,
                              double *ms, pact_error *err)
{
    int depth = 0;
    if (!ms)
        return pact_fail(err, PACT_EINVAL, "polynomial cost: NULL output");
    pact_status st = pact_cost_poly_depth(profile, degree, &depth, err);
    if (st != PACT_OK)
        return st;
    if (level < depth || level > PACT_COST_MAX_LEVEL)
        return pact_fail(err, PACT_EINVAL,
                         "polynomial cost: degree %d (depth %d) cannot start at level %d",
                         degree, depth, level);
    if (profile->model == PACT_ACT_MODEL_BSGS)
        *ms = profile->mult_scale * pact_cost_bsgs_raw_ms(profile, degree, level);
    else
        *ms = series_ms(&profile->series_ms, degree);
    return PACT_OK;
}

pact_status pact_cost_product_ms(const pact_cost_profile *profile, int level, double *ms,
                                 pact_error *err)
{
    if (!profile || !ms)
        return pact_fail(err, PACT_EINVAL, "product cost: NULL argument");
    if (level < 1 || level > PACT_COST_MAX_LEVEL)
        return pact_fail(err, PACT_EINVAL, "product cost: level %d outside 1..%d", level,
                         PACT_COST_MAX_LEVEL);
    *ms = profile->mult_scale * ct_mult(profile, level);
    return PACT_OK;
}

pact_status pact_cost_act_check(const pact_cost_act *act, const char *what, pact_error *err)
{
    if (!act)
        return pact_fail(err, PACT_EINVAL, "%s: NULL activation", what);
    if (act->n_components < 1 || act->n_components > PACT_COST_MAX_COMPONENTS)
        return pact_fail(err, PACT_EINVAL, "%s: %d components, need 1..%d", what,
                         act->n_components, PACT_COST_MAX_COMPONENTS);
    for (int i = 0; i < act->n_components; i++)
        if (act->degrees[i] < 1 || act->degrees[i] > 1023)
            return pact_fail(err, PACT_EINVAL, "%s: component %d degree %d outside 1..1023",
                             what, i, act->degrees[i]);
    if (act->relu_product != 0 && act->relu_product != 1)
        return pact_fail(err, PACT_EINVAL, "%s: relu_product %d is neither 0 nor 1", what,
                         act->relu_product);
    return PACT_OK;
}

pact_status pact_cost_act_depth(const pact_cost_profile *profile, const pact_cost_act *act,
                                int *depth, pact_error *err)
{
    pact_status st = pact_cost_act_check(act, "activation depth", err);
    if (st != PACT_OK)
        return st;
    if (!depth)
        return pact_fail(err, PACT_EINVAL, "activation depth: NULL output");
    int total = act->relu_product;
    for (int i = 0; i < act->n_components; i++) {
        int d = 0;
        st = pact_cost_poly_depth(profile, act->degrees[i], &d, err);
        if (st != PACT_OK)
            return st;
        total += d;
    }
    *depth = total;
    return PACT_OK;
}

pact_status pact_cost_act_ms(const pact_cost_profile *profile, const pact_cost_act *act,
                             int level, double *ms, pact_error *err)
{
    int depth = 0;
    pact_status st = pact_cost_act_depth(profile, act, &depth, err);
    if (st != PACT_OK)
        return st;
    if (!ms)
        return pact_fail(err, PACT_EINVAL, "activation cost: NULL output");
    if (level < depth || level > PACT_COST_MAX_LEVEL)
        return pact_fail(err, PACT_EINVAL, "activation cost: depth %d cannot start at level %d",
                         depth, level);
    double total = 0.0;
    for (int i = 0; i < act->n_components; i++) {
        double c = 0.0;
        int d = 0;
        pact_cost_poly_depth(profile, act->degrees[i], &d, NULL);
        st = pact_cost_poly_ms(profile, act->degrees[i], level, &c, err);
        if (st != PACT_OK)
            return st;
        total += c;
        level -= d;
    }
    if (act->relu_product) {
        double c = 0.0;
        st = pact_cost_product_ms(profile, level, &c, err);
        if (st != PACT_OK)
            return st;
        total += c;
    }
    *ms = total;
    return PACT_OK;
}

/* Strict decimal integer in lo..hi, the whole of [s, end). */
static int parse_int(const char *s, const char *end, int lo, int hi, int *out)
{
    if (s == end || end - s > 9)
        return 0;
    int v = 0;
    for (const char *c = s; c < end; c++) {
        if (*c < '0' || *c > '9')
            return 0;
        v = v * 10 + (*c - '0');
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

pact_status pact_cost_act_parse(const char *spec, pact_cost_act *act, pact_error *err)
{
    if (!spec || !act)
        return pact_fail(err, PACT_EINVAL, "activation spec: NULL argument");
    pact_cost_act a;
    memset(&a, 0, sizeof a);
    size_t len = strlen(spec);
    const char *end = spec + len;
    if (strncmp(spec, "degree:", 7) == 0) {
        a.n_components = 1;
        if (!parse_int(spec + 7, end, 1, 1023, &a.degrees[0]))
            return pact_fail(err, PACT_EINVAL,
                             "activation spec '%.64s': degree must be an integer 1..1023", spec);
    } else if (strncmp(spec, "composite:alpha=", 16) == 0) {
        int alpha;
        if (!parse_int(spec + 16, end, 0, 1000, &alpha))
            return pact_fail(err, PACT_EINVAL,
                             "activation spec '%.64s': alpha must be an integer", spec);
        pact_status st = pact_composite_published_degrees(alpha, a.degrees, &a.n_components, err);
        if (st != PACT_OK)
            return st;
        a.relu_product = 1;
    } else if (strncmp(spec, "composite:", 10) == 0 || strncmp(spec, "compose:", 8) == 0) {
        a.relu_product = spec[7] != ':'; /* composite: ReLU product; compose: none */
        const char *s = spec + (a.relu_product ? 10 : 8);
        for (;;) {
            const char *comma = strchr(s, ',');
            const char *stop = comma ? comma : end;
            if (a.n_components == PACT_COST_MAX_COMPONENTS)
                return pact_fail(err, PACT_EINVAL,
                                 "activation spec '%.64s': more than %d components", spec,
                                 PACT_COST_MAX_COMPONENTS);
            if (!parse_int(s, stop, 1, 1023, &a.degrees[a.n_components]))
                return pact_fail(err, PACT_EINVAL,
                                 "activation spec '%.64s': component degrees must be integers "
                                 "1..1023 separated by commas",
                                 spec);
            a.n_components++;
            if (!comma)
                break;
            s = comma + 1;
        }
    } else {
        return pact_fail(err, PACT_EINVAL,
                         "activation spec '%.64s': expected degree:D, composite:alpha=A, "
                         "composite:D1,D2,... or compose:D1,D2,...",
                         spec);
    }
    *act = a;
    return PACT_OK;
}

char *pact_cost_act_format(const pact_cost_act *act, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    if (!act || pact_cost_act_check(act, "format", NULL) != PACT_OK) {
        snprintf(buf, size, "?");
        return buf;
    }
    size_t used = 0;
    const char *kind = act->relu_product ? "composite:"
                       : act->n_components > 1 ? "compose:"
                                               : "degree:";
    int n = snprintf(buf, size, "%s", kind);
    used = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < act->n_components && used < size; i++) {
        n = snprintf(buf + used, size - used, i ? ",%d" : "%d", act->degrees[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    return buf;
}
