/* The Remez exchange: best uniform approximation in a span of Chebyshev
 * polynomials (all, even or odd) on [lo, hi] within [-1, 1].
 *
 * Each iteration solves the reference system sum_k c_k phi_k(y_i) + (-1)^i E =
 * g(y_i) (n + 1 points, Chebyshev basis, Gaussian elimination with pivoting),
 * then locates every local extremum of the error g - p: a grid that follows
 * the reference (REMEZ_SUB points per gap, so it is dense where the extrema
 * crowd, e.g. near a kink) and Brent refinement of each grid maximum. The new
 * reference keeps, among the old reference points and the extrema at least as
 * large as |E|, an alternating set of n + 1 that contains the largest error
 * (multi-point exchange). Converged when max error - |E| <= tol max error +
 * rounding floor; a final check on a dense Chebyshev grid catches extrema the
 * reference-following grid missed (they then join the exchange). */
#include "poly_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { REMEZ_SUB = 12 };

double remez_basis_eval(remez_basis basis, const double *coef, int n, double y)
{
    switch (basis) {
    case BASIS_ALL: return cheb_clenshaw(coef, n - 1, y);
    case BASIS_EVEN: return cheb_clenshaw(coef, n - 1, 2.0 * y * y - 1.0);
    case BASIS_ODD: {
        /* T_{2k+1}(y) = y V_k(s), s = 2y^2 - 1, V_0 = 1, V_1 = 2s - 1, same
         * three-term recurrence as T: Clenshaw gives b_0 - b_1. */
        double s2 = 2.0 * (2.0 * y * y - 1.0), b1 = 0.0, b2 = 0.0;
        for (int k = n - 1; k >= 0; k--) {
            double t = coef[k] + s2 * b1 - b2;
            b2 = b1;
            b1 = t;
        }
        return y * (b1 - b2);
    }
    }
    return NAN;
}

void remez_basis_expand(remez_basis basis, const double *coef, int n, double *c, int degree)
{
    for (int k = 0; k < n; k++) {
        int j = basis == BASIS_ALL ? k : basis == BASIS_EVEN ? 2 * k : 2 * k + 1;
        if (j <= degree)
            c[j] += coef[k];
    }
}

/* phi_0..phi_{n-1} at y. */
static void basis_values(remez_basis basis, int n, double y, double *out)
{
    double x = basis == BASIS_ALL ? y : 2.0 * y * y - 1.0;
    double t0 = 1.0, t1 = basis == BASIS_ODD ? 2.0 * x - 1.0 : x;
    for (int k = 0; k < n; k++) {
        out[k] = basis == BASIS_ODD ? y * t0 : t0;
        double t2 = 2.0 * x * t1 - t0;
        t0 = t1;
        t1 = t2;
    }
}

typedef struct {
    const remez_problem *pb;
    const double *coef;
    double sign;
} err_fn_ctx;

static double err_fn(void *c, double y)
{
    const err_fn_ctx *e = c;
    return e->sign * (e->pb->g(e->pb->ctx, y) - remez_basis_eval(e->pb->basis, e->coef, e->pb->n, y));
}

typedef struct {
    double y, e;
    int keep; /* a reference point: kept whatever its size */
} cand;

static int cand_cmp(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    return (a->y > b->y) - (a->y < b->y);
}

/* Grid samples of e on `ys` (sorted): appends every local maximum of |e|,
 * refined by Brent, to cands. Returns the largest |e| seen, or NAN if g was not
 * finite somewhere. */
static double scan(const remez_problem *pb, const double *coef, const double *ys, int m,
                   double *es, cand *cands, int *nc, double *where)
{
    double best = 0.0;
    *where = ys[0];
    for (int j = 0; j < m; j++) {
        es[j] = pb->g(pb->ctx, ys[j]) - remez_basis_eval(pb->basis, coef, pb->n, ys[j]);
        if (!isfinite(es[j]))
            return NAN;
    }
    for (int j = 0; j < m; j++) {
        double v = fabs(es[j]);
        if ((j > 0 && v < fabs(es[j - 1])) || (j + 1 < m && v <= fabs(es[j + 1])) || v == 0.0)
            continue;
        double ybest = ys[j], vbest = v;
        double lo = ys[j > 0 ? j - 1 : j], hi = ys[j + 1 < m ? j + 1 : j];
        if (hi > lo) {
            err_fn_ctx ec = {pb, coef, es[j] > 0.0 ? 1.0 : -1.0};
            double hv, yb = brent_max(err_fn, &ec, lo, hi, 1e-10 * (hi - lo), &hv);
            if (hv > vbest) {
                vbest = hv;
                ybest = yb;
            }
        }
        cands[*nc].y = ybest;
        cands[*nc].e = es[j] > 0.0 ? vbest : -vbest;
        cands[*nc].keep = 0;
        (*nc)++;
        if (vbest > best) {
            best = vbest;
            *where = ybest;
        }
    }
    return best;
}

/* Reduces sorted candidates to an alternating set of `want` points that holds
 * the largest. Returns the count obtained (< want only if too few alternate). */
static int exchange(cand *c, int nc, double level, int want)
{
    /* drop small extrema (never reference points), then merge equal signs */
    int m = 0;
    for (int i = 0; i < nc; i++)
        if (c[i].keep || fabs(c[i].e) >= level)
            c[m++] = c[i];
    int k = 0;
    for (int i = 0; i < m; i++) {
        if (k > 0 && (c[i].e > 0.0) == (c[k - 1].e > 0.0)) {
            if (fabs(c[i].e) > fabs(c[k - 1].e))
                c[k - 1] = c[i];
        } else {
            c[k++] = c[i];
        }
    }
    while (k > want) {
        if (k == want + 1) {
            /* one too many: only an end point can go without breaking alternation */
            if (fabs(c[0].e) < fabs(c[k - 1].e))
                memmove(c, c + 1, (size_t)(k - 1) * sizeof *c);
            k--;
            continue;
        }
        int imin = 0;
        for (int i = 1; i < k; i++)
            if (fabs(c[i].e) < fabs(c[imin].e))
                imin = i;
        if (imin == 0 || imin == k - 1) {
            memmove(c + imin, c + imin + 1, (size_t)(k - imin - 1) * sizeof *c);
            k--;
        } else {
            /* removing it leaves two equal signs side by side: keep the larger */
            int other = fabs(c[imin - 1].e) < fabs(c[imin + 1].e) ? imin - 1 : imin + 1;
            int first = imin < other ? imin : other;
            memmove(c + first, c + first + 2, (size_t)(k - first - 2) * sizeof *c);
            k -= 2;
        }
    }
    return k;
}

static void initial_reference(const remez_problem *pb, double *ref)
{
    int n = pb->n;
    if (pb->lo == 0.0 && pb->basis == BASIS_EVEN) {
        for (int i = 0; i <= n; i++)
            ref[i] = cos(PACT_PI * (n - i) / (2.0 * n));
        ref[0] = 0.0;
    } else if (pb->lo == 0.0 && pb->basis == BASIS_ODD) {
        for (int i = 0; i <= n; i++)
            ref[i] = cos(PACT_PI * (n - i) / (2.0 * n + 1.0));
    } else {
        double mid = 0.5 * (pb->lo + pb->hi), half = 0.5 * (pb->hi - pb->lo);
        for (int i = 0; i <= n; i++)
            ref[i] = mid - half * cos(PACT_PI * i / n);
    }
    ref[n] = pb->hi;
    if (!(pb->lo == 0.0 && pb->basis == BASIS_ODD))
        ref[0] = pb->lo;
}

pact_status remez_run(const remez_problem *pb, double *coef, remez_result *res, pact_error *err)
{
    int n = pb->n, np = n + 1;
    int ngrid = (np + 1) * REMEZ_SUB + 1;
    int ndense = 32 * np > 2048 ? 32 * np : 2048;
    int maxc = ngrid + ndense + 2 * np + 8;
    size_t need = (size_t)np * np + 4 * (size_t)np + (size_t)n + 2 * (size_t)(ngrid + ndense);
    double *mem = malloc(need * sizeof *mem);
    cand *cands = malloc((size_t)maxc * sizeof *cands);
    if (!mem || !cands) {
        free(mem), free(cands);
        return pact_fail(err, PACT_ENOMEM, "remez: out of memory (n = %d)", n);
    }
    double *A = mem, *rhs = A + (size_t)np * np, *ref = rhs + np, *gref = ref + np,
           *phi = gref + np, *best = phi + np, *ys = best + n, *es = ys + ngrid + ndense;
    initial_reference(pb, ref);
    double best_err = INFINITY, noise = 0.0;
    pact_status st = PACT_EMAXITER;
    res->levelled = 0.0;
    res->max_error = INFINITY;
    res->iterations = 0;
    for (int it = 1; it <= pb->max_iter; it++) {
        res->iterations = it;
        /* reference system */
        double gmax = 0.0;
        for (int i = 0; i < np; i++) {
            gref[i] = pb->g(pb->ctx, ref[i]);
            if (!isfinite(gref[i])) {
                st = pact_fail(err, PACT_ENUMERIC, "remez: target is %g at y = %.17g", gref[i],
                               ref[i]);
                goto done;
            }
            gmax = fmax(gmax, fabs(gref[i]));
            basis_values(pb->basis, n, ref[i], phi);
            memcpy(A + (size_t)i * np, phi, (size_t)n * sizeof *A);
            A[(size_t)i * np + n] = (i & 1) ? -1.0 : 1.0;
            rhs[i] = gref[i];
        }
        if (lu_solve(A, rhs, np) != 0) {
            st = pact_fail(err, PACT_ENUMERIC,
                           "remez: singular reference system at iteration %d (n = %d)", it, n);
            goto done;
        }
        memcpy(coef, rhs, (size_t)n * sizeof *coef);
        double E = fabs(rhs[n]), csum = 0.0;
        for (int k = 0; k < n; k++)
            csum += fabs(coef[k]);
        noise = 32.0 * DBL_EPSILON * (gmax + csum + pb->scale);

        /* grid following the reference: gaps between lo, ref_0..ref_n, hi */
        int m = 0;
        double prev = pb->lo;
        for (int i = 0; i <= np; i++) {
            double next = i < np ? ref[i] : pb->hi;
            if (next > prev) {
                for (int s = 0; s < REMEZ_SUB; s++)
                    ys[m++] = prev + (next - prev) * s / REMEZ_SUB;
                prev = next;
            }
        }
        ys[m++] = pb->hi;
        int nc = 0;
        double where, maxerr = scan(pb, coef, ys, m, es, cands, &nc, &where);
        if (isnan(maxerr)) {
            st = pact_fail(err, PACT_ENUMERIC, "remez: target not finite on [%g, %g]", pb->lo,
                           pb->hi);
            goto done;
        }
        for (int i = 0; i < np; i++) {
            double e = gref[i] - remez_basis_eval(pb->basis, coef, n, ref[i]);
            cands[nc++] = (cand){ref[i], e != 0.0 ? e : ((i & 1) ? -rhs[n] : rhs[n]), 1};
        }
        res->levelled = E;
        if (maxerr < best_err) {
            best_err = maxerr;
            memcpy(best, coef, (size_t)n * sizeof *best);
        }
        if (maxerr - E <= pb->tol * maxerr + noise) {
            /* levelled: confirm on a dense Chebyshev grid of [lo, hi] */
            double mid = 0.5 * (pb->lo + pb->hi), half = 0.5 * (pb->hi - pb->lo);
            for (int j = 0; j < ndense; j++)
                ys[j] = mid - half * cos(PACT_PI * j / (ndense - 1));
            int nd = 0;
            double dwhere, dmax = scan(pb, coef, ys, ndense, es, cands + nc, &nd, &dwhere);
            if (!(dmax > maxerr * (1.0 + 10.0 * pb->tol) + noise)) {
                best_err = fmax(maxerr, isnan(dmax) ? 0.0 : dmax);
                memcpy(best, coef, (size_t)n * sizeof *best);
                st = PACT_OK;
                break;
            }
            nc += nd; /* missed extrema: exchange them in */
        }
        qsort(cands, (size_t)nc, sizeof *cands, cand_cmp);
        int k = exchange(cands, nc, E, np);
        if (k < np && best_err <= 64.0 * noise) {
            /* the error is rounding noise: nothing left to level */
            st = PACT_OK;
            break;
        }
        if (k < np) {
            st = pact_fail(err, PACT_ENUMERIC,
                           "remez: error alternates at %d points, need %d (iteration %d)", k, np,
                           it);
            goto done;
        }
        for (int i = 0; i < np; i++)
            ref[i] = cands[i].y;
    }
    if (st == PACT_EMAXITER && best_err <= 64.0 * noise)
        st = PACT_OK; /* stalled at the rounding floor */
    if (st == PACT_EMAXITER)
        pact_fail(err, PACT_EMAXITER,
                  "remez: not levelled after %d iterations (levelled error %.6g, max error %.6g)",
                  pb->max_iter, res->levelled, best_err);
done:
    if (isfinite(best_err)) {
        memcpy(coef, best, (size_t)n * sizeof *coef);
        res->max_error = best_err;
    }
    free(mem);
    free(cands);
    return st;
}
