/* Building plans: layers from fitted polynomials and composites, and the
 * uniform baselines (every layer approximated the same way). */
#include "../internal.h"
#include "fit_layer.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pact_status pact_plan_set_poly(pact_plan *plan, int i, const char *name, pact_func func,
                               const pact_poly *p, double max_error, pact_error *err)
{
    double a, b;
    pact_poly_interval(p, &a, &b);
    int d = pact_poly_degree(p);
    const double *c = pact_poly_cheb(p);
    pact_plan_layer l = {.name = name, .func = func, .form = PACT_FORM_POLY, .a = a, .b = b,
                         .n_parts = 1, .degrees = &d, .cheb = &c, .max_error = max_error,
                         .impact = NAN};
    return pact_plan_set_layer(plan, i, &l, err);
}

pact_status pact_plan_set_composite(pact_plan *plan, int i, const char *name, pact_func func,
                                    double bound, const pact_composite *comp, double max_error,
                                    pact_error *err)
{
    int k = pact_composite_count(comp);
    if (k < 1 || k > PACT_PLAN_MAX_PARTS)
        return pact_fail(err, PACT_EINVAL, "plan layer %d: composite of %d parts", i, k);
    int degrees[PACT_PLAN_MAX_PARTS];
    double pa[PACT_PLAN_MAX_PARTS], pb[PACT_PLAN_MAX_PARTS];
    const double *cheb[PACT_PLAN_MAX_PARTS];
    for (int j = 0; j < k; j++) {
        const pact_poly *p = pact_composite_component(comp, j);
        degrees[j] = pact_poly_degree(p);
        pact_poly_interval(p, &pa[j], &pb[j]);
        cheb[j] = pact_poly_cheb(p);
    }
    pact_plan_layer l = {.name = name, .func = func, .form = PACT_FORM_COMPOSITE, .a = -bound,
                         .b = bound, .bound = bound, .n_parts = k, .degrees = degrees,
                         .part_a = pa, .part_b = pb, .cheb = cheb, .max_error = max_error,
                         .impact = NAN};
    return pact_plan_set_layer(plan, i, &l, err);
}

void pact_layer_interval(const pact_calib_layer *cl, double margin, double *a, double *b)
{
    double w = cl->max - cl->min;
    /* a point (constant layer): a real interval around it, whatever the margin */
    double h = w > 0.0 ? margin * w : fmax(1e-3, fabs(cl->min));
    *a = cl->min - h;
    *b = cl->max + h;
}

pact_status pact_fit_layer_lsq(const pact_calib_layer *cl, pact_func f, double a, double b,
                               int degree, double floor, pact_poly **p, double *max_error,
                               pact_error *err)
{
    size_t nb = (size_t)cl->bins, n = 0;
    double *edges = malloc((nb + 1) * sizeof *edges), *counts = malloc(nb * sizeof *counts);
    double *x = malloc(3 * nb * sizeof *x), *w = malloc(3 * nb * sizeof *w);
    pact_status st = PACT_OK;
    if (!edges || !counts || !x || !w)
        st = pact_fail(err, PACT_ENOMEM, "fit %s: out of memory", cl->name);
    double width = (cl->max - cl->min) / (double)nb;
    if (st == PACT_OK && width <= 0.0) { /* a constant layer: one point mass */
        x[0] = cl->min;
        w[0] = 1.0;
        n = 1;
    } else if (st == PACT_OK) {
        for (size_t k = 0; k < nb; k++) {
            edges[k] = cl->min + (double)k * width;
            counts[k] = (double)cl->histogram[k];
        }
        edges[nb] = cl->max;
        st = pact_hist_samples(edges, counts, nb, x, w, &n, err);
    }
    if (st == PACT_OK) {
        pact_fit_opts o;
        pact_fit_opts_default(&o);
        o.floor = floor;
        st = pact_fit_lsq(f, a, b, degree, x, w, n, &o, p, max_error, err);
    }
    free(edges);
    free(counts);
    free(x);
    free(w);
    return st;
}

pact_status pact_fit_lsq_calib(const pact_calib_layer *layer, pact_func f, double a, double b,
                               int degree, const pact_fit_opts *opts, pact_poly **poly,
                               double *max_error, pact_error *err)
{
    pact_fit_opts o;
    if (opts)
        o = *opts;
    else
        pact_fit_opts_default(&o);
    return pact_fit_layer_lsq(layer, f, a, b, degree, o.floor, poly, max_error, err);
}

/* --- uniform baselines ------------------------------------------------- */

typedef enum { U_COMPOSITE, U_MINIMAX, U_CHEB, U_LSQ, U_AESPA, U_AUTOREP } ukind;
typedef enum { B_NUMBER, B_AUTO, B_LAYER } bkind;

typedef struct {
    ukind kind;
    int alpha, degree;
    bkind bmode;
    double bound, margin, floor;
} uspec;

static pact_status parse_spec(const char *spec, uspec *u, pact_error *err)
{
    memset(u, 0, sizeof *u);
    u->margin = 0.05;
    u->floor = 0.1;
    u->bmode = B_AUTO;
    char buf[256];
    if (!spec || strlen(spec) >= sizeof buf)
        return pact_fail(err, PACT_EINVAL, "uniform: missing or too long spec");
    strcpy(buf, spec);
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    const char *kinds[] = {"composite", "minimax", "cheb", "lsq", "aespa", "autorep"};
    int k = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(buf, kinds[i]) == 0)
            k = i;
    if (k < 0)
        return pact_fail(err, PACT_EINVAL,
                         "uniform: unknown kind '%s' (composite, minimax, cheb, lsq, aespa, autorep)", buf);
    u->kind = (ukind)k;
    if (u->kind == U_LSQ || u->kind == U_AESPA || u->kind == U_AUTOREP)
        u->bmode = B_LAYER;
    for (char *tok = colon ? strtok(colon + 1, ",") : NULL; tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return pact_fail(err, PACT_EINVAL, "uniform '%s': '%s' is not key=value", spec, tok);
        *eq = '\0';
        const char *key = tok, *val = eq + 1;
        char *end;
        double v = strtod(val, &end);
        int numeric = end != val && *end == '\0' && isfinite(v);
        if (strcmp(key, "alpha") == 0 && numeric && v == floor(v) && v >= 4 && v <= 14) {
            u->alpha = (int)v;
        } else if (strcmp(key, "degree") == 0 && numeric && v == floor(v) && v >= 1 &&
                   v <= PACT_FIT_MAX_DEGREE) {
            u->degree = (int)v;
        } else if (strcmp(key, "B") == 0 && strcmp(val, "auto") == 0) {
            u->bmode = B_AUTO;
        } else if (strcmp(key, "B") == 0 && strcmp(val, "layer") == 0) {
            u->bmode = B_LAYER;
        } else if (strcmp(key, "B") == 0 && numeric && v > 0) {
            u->bmode = B_NUMBER;
            u->bound = v;
        } else if (strcmp(key, "margin") == 0 && numeric && v >= 0 && v <= 10) {
            u->margin = v;
        } else if (strcmp(key, "floor") == 0 && numeric && v >= 0 && v <= 1) {
            u->floor = v;
        } else {
            return pact_fail(err, PACT_EINVAL,
                             "uniform '%s': bad '%s=%s' (alpha 4..14, degree 1..%d, B=auto|layer|>0, "
                             "margin 0..10, floor 0..1)", spec, key, val, PACT_FIT_MAX_DEGREE);
        }
    }
    if (u->kind == U_COMPOSITE && u->alpha == 0)
        return pact_fail(err, PACT_EINVAL, "uniform '%s': composite needs alpha=4..14", spec);
    if ((u->kind == U_MINIMAX || u->kind == U_CHEB || u->kind == U_LSQ) && u->degree == 0)
        return pact_fail(err, PACT_EINVAL, "uniform '%s': needs degree=D", spec);
    if ((u->kind == U_AESPA || u->kind == U_AUTOREP) && u->bmode != B_LAYER)
        return pact_fail(err, PACT_EINVAL, "uniform '%s': %s works on each layer's range (B=layer)",
                         spec, kinds[k]);
    return PACT_OK;
}

/* The published search: B = 50, 55, ... until no calibrated input escapes. */
static double auto_bound(const pact_calib *cal)
{
    double m = 0.0;
    for (int i = 0; i < pact_calib_layer_count(cal); i++) {
        const pact_calib_layer *l = pact_calib_layer_at(cal, i);
        m = fmax(m, fmax(fabs(l->min), fabs(l->max)));
    }
    /* b = 50 + 5 k for the least k with b >= m, computed, not counted: a
     * hostile calibration's |max| of 1e15 would otherwise take 2e14 steps
     * (and from 2^53 on, b + 5 == b never ends) */
    if (!(m > 50.0))
        return 50.0;
    double k = ceil((m - 50.0) / 5.0);
    if (50.0 + 5.0 * k < m) /* rounding of the division */
        k += 1.0;
    else if (k >= 1.0 && 50.0 + 5.0 * (k - 1.0) >= m)
        k -= 1.0;
    return 50.0 + 5.0 * k;
}

/* Degree-2 closed forms as monomials w0 + w1 x + w2 x^2. */
static void closed_form(ukind kind, double mean, double sd, double w[3])
{
    const double phi0 = 0.3989422804014327; /* 1 / sqrt(2 pi) */
    if (sd <= 0.0)
        sd = 1e-6;
    if (kind == U_AESPA) { /* sigma h(x / sigma), h = Hermite degree-2 relu */
        w[0] = sd * phi0 / 2.0;
        w[1] = 0.5;
        w[2] = phi0 / (2.0 * sd);
        return;
    }
    double z = mean / sd, pz = phi0 * exp(-z * z / 2.0), cz = 0.5 * erfc(-z / sqrt(2.0));
    w[2] = pz / (2.0 * sd);
    w[1] = cz - z * pz;
    w[0] = pz * (mean * mean + sd * sd) / (2.0 * sd);
}

pact_status pact_plan_uniform(const char *spec, const pact_model *model, const pact_calib *cal,
                              const char *model_name, const char *model_sha256, pact_plan **out,
                              pact_error *err)
{
    *out = NULL;
    uspec u;
    pact_status st = parse_spec(spec, &u, err);
    if (st != PACT_OK)
        return st;
    int needs_calib = u.bmode != B_NUMBER || u.kind == U_LSQ || u.kind == U_AESPA ||
                      u.kind == U_AUTOREP;
    if (needs_calib && !cal)
        return pact_fail(err, PACT_EINVAL, "uniform '%s' needs a calibration (--calib)", spec);
    if (cal && (st = pact_calib_check_model(cal, model, NULL, err)) != PACT_OK)
        return st;
    double bound = u.bmode == B_NUMBER ? u.bound : u.bmode == B_AUTO ? auto_bound(cal) : 0.0;
    pact_plan *plan = NULL;
    st = pact_plan_create(model_name, model_sha256, model->n_act, &plan, err);
    pact_composite *comp = NULL;
    if (st == PACT_OK && u.kind == U_COMPOSITE)
        st = pact_composite_sign(u.alpha, NULL, &comp, err);
    /* one fit serves every layer when the interval is shared */
    pact_poly *shared = NULL;
    double shared_err = NAN;
    pact_func shared_f = PACT_FUNC_COUNT;
    for (int i = 0; st == PACT_OK && i < model->n_act; i++) {
        pact_func f = model->act_funcs[i];
        const char *name = model->act_names[i];
        pact_calib_layer cl = {0};
        if (cal)
            cl = *pact_calib_layer_at(cal, i);
        double a = -bound, b = bound;
        if (u.bmode == B_LAYER)
            pact_layer_interval(&cl, u.margin, &a, &b);
        if (u.kind == U_COMPOSITE) {
            if (f != PACT_RELU && f != PACT_ABS && f != PACT_SIGN) {
                st = pact_fail(err, PACT_EINVAL, "uniform '%s': layer %s is %s, composite is for relu, abs or sign",
                               spec, name, pact_func_name(f));
                break;
            }
            double B = u.bmode == B_LAYER ? fmax(fabs(a), fabs(b)) : bound;
            double e = pact_composite_relu_error(comp) * B;
            st = pact_plan_set_composite(plan, i, name, f, B, comp, f == PACT_RELU ? e : NAN, err);
            continue;
        }
        pact_poly *p = NULL;
        double e = NAN;
        if (u.bmode != B_LAYER && shared && shared_f == f) {
            st = pact_plan_set_poly(plan, i, name, f, shared, shared_err, err);
            continue;
        }
        if (u.kind == U_MINIMAX) {
            st = pact_fit_minimax(f, a, b, u.degree, NULL, &p, &e, err);
            if (st == PACT_EMAXITER && p) /* best found: still usable, its error is measured */
                st = PACT_OK;
        } else if (u.kind == U_CHEB) {
            st = pact_fit_cheb(f, a, b, u.degree, NULL, &p, &e, err);
        } else if (u.kind == U_LSQ) {
            st = pact_fit_layer_lsq(&cl, f, a, b, u.degree, u.floor, &p, &e, err);
        } else {
            if (f != PACT_RELU) {
                st = pact_fail(err, PACT_EINVAL, "uniform '%s': layer %s is %s; the closed form is for relu",
                               spec, name, pact_func_name(f));
                break;
            }
            double w[3];
            closed_form(u.kind, cl.mean, cl.std, w);
            st = pact_poly_from_monomial(a, b, 2, w, &p, err);
            if (st == PACT_OK)
                st = pact_poly_max_error(p, f, NULL, &e, NULL, err);
        }
        if (st == PACT_OK)
            st = pact_plan_set_poly(plan, i, name, f, p, e, err);
        if (st == PACT_OK && u.bmode != B_LAYER && !shared) {
            shared = p;
            shared_err = e;
            shared_f = f;
            p = NULL;
        }
        pact_poly_free(p);
    }
    pact_poly_free(shared);
    pact_composite_free(comp);
    if (st == PACT_OK) {
        char note[64];
        st = pact_plan_set_note(plan, "method", spec, err);
        if (st == PACT_OK && u.bmode != B_LAYER) {
            snprintf(note, sizeof note, "%.17g", bound);
            st = pact_plan_set_note(plan, "bound", note, err);
        }
    }
    if (st != PACT_OK) {
        pact_plan_free(plan);
        return st;
    }
    *out = plan;
    return PACT_OK;
}
