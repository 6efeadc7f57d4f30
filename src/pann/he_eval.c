/* BSGS evaluation of Chebyshev series with simulated CKKS rounding. */
#include "he_eval.h"

#include "../internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Elements evaluated together: the T_i of a block stay in cache. */
#define BLOCK 64

typedef struct {
    int leaf_off, leaf_len; /* leaf: coefficients c_0..c_{len-1} of T_0.. */
    int giant;              /* split: index of T_G among the giant steps, else -1 */
    int q, r;               /* split: p = q * T_G + r */
} he_node;

struct pact_he_poly {
    pact_bsgs plan;
    int baby;          /* T_1..T_baby are formed (degree when plan.giant == 0) */
    he_node *nodes;
    int n_nodes, root;
    double *leaf;      /* all leaf coefficients */
    int n_leaf;
    int max_depth;     /* recursion depth of the tree (scratch arrays needed) */
};

/* --- rounding and noise ------------------------------------------------ */

static uint64_t xs_next(uint64_t s[2])
{
    uint64_t a = s[0], b = s[1];
    s[0] = b;
    a ^= a << 23;
    s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return s[1] + b;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void pact_fx_seed(pact_fx *fx, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    fx->rng[0] = splitmix(&x);
    fx->rng[1] = splitmix(&x) | 1u;
    fx->has_spare = 0;
}

/* Box-Muller on two uniforms in (0, 1]: two independent normals per log and
 * square root, the second kept for the next call. */
static double gauss(pact_fx *fx)
{
    if (fx->has_spare) {
        fx->has_spare = 0;
        return fx->spare;
    }
    double u1 = ((double)(xs_next(fx->rng) >> 11) + 1.0) * 0x1p-53;
    double u2 = (double)(xs_next(fx->rng) >> 11) * 0x1p-53;
    double r = sqrt(-2.0 * log(u1)), t = 6.283185307179586 * u2;
    fx->spare = r * sin(t);
    fx->has_spare = 1;
    return r * cos(t);
}

static void fx_init(pact_fx *fx)
{
    if (fx->frac_bits > 0 && fx->scale == 0.0) {
        fx->scale = ldexp(1.0, fx->frac_bits);
        fx->inv = ldexp(1.0, -fx->frac_bits);
    }
}

/* Round to the nearest multiple of 2^-F, ties to even (CKKS rescaling).
 * Multiplying by powers of two is exact, and for |t| < 2^51 adding and
 * subtracting 1.5 * 2^52 rounds t to an integer in the default rounding mode
 * exactly as nearbyint does, at a fraction of its cost. */
static inline double grid(const pact_fx *fx, double v)
{
    double t = v * fx->scale;
    t = fabs(t) < 0x1p51 ? (t + 0x1.8p52) - 0x1.8p52 : nearbyint(t);
    return t * fx->inv;
}

double pact_fx_round(pact_fx *fx, double v)
{
    fx_init(fx);
    if (fx->frac_bits > 0)
        v = grid(fx, v);
    if (fx->noise_sigma > 0.0)
        v += fx->noise_sigma * gauss(fx);
    return v;
}

static int exact(const pact_fx *fx)
{
    return fx->frac_bits == 0 && fx->noise_sigma == 0.0;
}

void pact_fx_round_block(pact_fx *fx, double *v, size_t count)
{
    fx_init(fx);
    int n = (int)count;
    if (exact(fx))
        return;
    if (fx->noise_sigma > 0.0) {
        for (int i = 0; i < n; i++)
            v[i] = pact_fx_round(fx, v[i]);
        return;
    }
    /* Branch-free so that it vectorises: exact round-half-even below 2^51
     * grid steps; beyond (values of 2^(51-F) and more, which only exploding
     * polynomials produce) within one grid step, i.e. 2^-51 relative. */
    const double sc = fx->scale, inv = fx->inv;
    for (int i = 0; i < n; i++)
        v[i] = ((v[i] * sc + 0x1.8p52) - 0x1.8p52) * inv;
}

/* --- preparation: recursive Chebyshev division ------------------------- */

/* Adds a node for c[0..hi] with giant step G = baby * 2^gi (gi < 0: leaf). */
static int build(pact_he_poly *hp, const double *c, int hi, int gi, int depth)
{
    if (depth > hp->max_depth)
        hp->max_depth = depth;
    int id = hp->n_nodes++;
    he_node *nd = &hp->nodes[id];
    int g = gi >= 0 ? hp->baby << gi : 0;
    if (gi < 0) {
        nd->giant = -1;
        nd->leaf_off = hp->n_leaf;
        nd->leaf_len = hi + 1;
        memcpy(hp->leaf + hp->n_leaf, c, (size_t)(hi + 1) * sizeof *c);
        hp->n_leaf += hi + 1;
        return id;
    }
    if (hi < g) { /* nothing above T_G: descend with a smaller giant step */
        hp->n_nodes--;
        return build(hp, c, hi, gi - 1, depth);
    }
    /* T_{G+k} = 2 T_G T_k - T_{G-k}: q_k = 2 c_{G+k} (q_0 = c_G), and
     * r_{G-k} -= c_{G+k}; exact in the Chebyshev basis. hi < 2G holds. */
    int qh = hi - g;
    double *q = malloc((size_t)(qh + 1) * sizeof *q);
    double *r = malloc((size_t)g * sizeof *r);
    if (!q || !r) {
        free(q);
        free(r);
        return -1;
    }
    q[0] = c[g];
    for (int k = 1; k <= qh; k++)
        q[k] = 2.0 * c[g + k];
    memcpy(r, c, (size_t)g * sizeof *r);
    for (int k = 1; k <= qh; k++)
        r[g - k] -= c[g + k];
    nd->giant = gi;
    int qi = build(hp, q, qh, gi - 1, depth + 1);
    int ri = qi < 0 ? -1 : build(hp, r, g - 1, gi - 1, depth + 1);
    free(q);
    free(r);
    if (ri < 0)
        return -1;
    hp->nodes[id].q = qi; /* nodes may not move: allocated up front */
    hp->nodes[id].r = ri;
    return id;
}

pact_status pact_he_poly_create(const double *cheb, int degree, pact_he_poly **out,
                                pact_error *err)
{
    *out = NULL;
    pact_he_poly *hp = calloc(1, sizeof *hp);
    if (!hp)
        return pact_fail(err, PACT_ENOMEM, "he_poly: out of memory");
    pact_status st = pact_bsgs_plan(degree, &hp->plan, err);
    if (st != PACT_OK) {
        free(hp);
        return st;
    }
    for (int i = 0; i <= degree; i++)
        if (!isfinite(cheb[i])) {
            free(hp);
            return pact_fail(err, PACT_EINVAL, "he_poly: coefficient %d is not finite", i);
        }
    hp->baby = hp->plan.giant ? hp->plan.baby : degree;
    /* A split tree over d+1 coefficients has fewer than 2(d+1) nodes and its
     * leaves hold at most d+1 + (number of splits) * baby coefficients. */
    hp->nodes = calloc((size_t)(2 * degree + 4), sizeof *hp->nodes);
    hp->leaf = calloc((size_t)(2 * degree + 4) * (size_t)(hp->baby + 1), sizeof *hp->leaf);
    if (!hp->nodes || !hp->leaf) {
        pact_he_poly_free(hp);
        return pact_fail(err, PACT_ENOMEM, "he_poly: out of memory");
    }
    hp->root = build(hp, cheb, degree, hp->plan.giant - 1, 0);
    if (hp->root < 0) {
        pact_he_poly_free(hp);
        return pact_fail(err, PACT_ENOMEM, "he_poly: out of memory");
    }
    *out = hp;
    return PACT_OK;
}

void pact_he_poly_free(pact_he_poly *hp)
{
    if (!hp)
        return;
    free(hp->nodes);
    free(hp->leaf);
    free(hp);
}

const pact_bsgs *pact_he_poly_plan(const pact_he_poly *hp)
{
    return &hp->plan;
}

/* --- evaluation -------------------------------------------------------- */

typedef struct {
    const pact_he_poly *hp;
    pact_fx *fx;
    int n;              /* elements in this block */
    double (*T)[BLOCK]; /* T[0..baby] */
    double (*G)[BLOCK]; /* giant steps T_{baby * 2^i} */
    double (*scratch)[BLOCK];
} he_ctx;

/* out = round(a * b) elementwise (out may alias a or b); counts one
 * ciphertext multiplication. The fixed-point case rounds in the same pass. */
static void mul(he_ctx *cx, const double *a, const double *b, double *out)
{
    pact_fx *fx = cx->fx;
    int n = cx->n;
    fx->mults++;
    if (fx->frac_bits > 0 && fx->noise_sigma == 0.0) {
        const double sc = fx->scale, inv = fx->inv;
        double r[BLOCK]; /* out may alias a or b */
        for (int i = 0; i < n; i++) /* as pact_fx_round_block, fused */
            r[i] = ((a[i] * b[i] * sc + 0x1.8p52) - 0x1.8p52) * inv;
        memcpy(out, r, (size_t)n * sizeof *r);
        return;
    }
    for (int i = 0; i < n; i++)
        out[i] = a[i] * b[i];
    pact_fx_round_block(fx, out, n);
}

/* T_{a+b} = 2 T_a T_b - T_{a-b}: one product, then exact integer ops. */
static void cheb_step(he_ctx *cx, const double *ta, const double *tb, const double *tdiff,
                      double *out)
{
    mul(cx, ta, tb, out);
    for (int i = 0; i < cx->n; i++)
        out[i] = 2.0 * out[i] - tdiff[i];
}

static void eval_node(he_ctx *cx, int id, double *out, int depth)
{
    const he_node *nd = &cx->hp->nodes[id];
    pact_fx *fx = cx->fx;
    if (nd->giant < 0) {
        const double *c = cx->hp->leaf + nd->leaf_off;
        double c0 = pact_fx_round(fx, c[0]);
        for (int i = 0; i < cx->n; i++)
            out[i] = c0;
        /* A weighted sum of baby steps is accumulated at the product scale
         * and rescaled once, as CKKS libraries do (OpenFHE EvalLinearWSum):
         * one rounding per block, constants encoded on the grid. */
        for (int j = 1; j < nd->leaf_len; j++) {
            double cj = exact(fx) ? c[j] : pact_fx_round(fx, c[j]);
            if (cj == 0.0)
                continue;
            for (int i = 0; i < cx->n; i++)
                out[i] += cj * cx->T[j][i];
        }
        pact_fx_round_block(fx, out, cx->n);
        return;
    }
    double *q = cx->scratch[depth];
    eval_node(cx, nd->q, q, depth + 1);
    eval_node(cx, nd->r, out, depth + 1);
    mul(cx, q, cx->G[nd->giant], q);
    for (int i = 0; i < cx->n; i++)
        out[i] += q[i];
}

pact_status pact_he_poly_eval(const pact_he_poly *hp, pact_fx *fx, const double *y,
                              double *out, size_t n, pact_error *err)
{
    int k = hp->baby, m = hp->plan.giant;
    fx_init(fx);
    /* One allocation per call: T[0..k], giants, scratch per recursion level. */
    size_t rows = (size_t)k + 1 + (size_t)(m > 0 ? m : 1) + (size_t)hp->max_depth + 1;
    double (*buf)[BLOCK] = malloc(rows * sizeof *buf);
    if (!buf)
        return pact_fail(err, PACT_ENOMEM, "he_poly: out of memory for %zu work rows", rows);
    he_ctx cx = {hp, fx, 0, buf, buf + k + 1, buf + k + 1 + (m > 0 ? m : 1)};
    for (size_t base = 0; base < n; base += BLOCK) {
        cx.n = n - base < BLOCK ? (int)(n - base) : BLOCK;
        for (int i = 0; i < cx.n; i++) {
            cx.T[0][i] = 1.0;
            cx.T[1][i] = y[base + i];
        }
        pact_fx_round_block(fx, cx.T[1], cx.n);
        /* baby steps, depth-optimal: T_j from T_ceil(j/2) and T_floor(j/2) */
        for (int j = 2; j <= k; j++) {
            int a = (j + 1) / 2, b = j / 2;
            cheb_step(&cx, cx.T[a], cx.T[b], cx.T[a - b], cx.T[j]);
        }
        if (m > 0) {
            memcpy(cx.G[0], cx.T[k], sizeof cx.G[0]);
            for (int g = 1; g < m; g++)
                cheb_step(&cx, cx.G[g - 1], cx.G[g - 1], cx.T[0], cx.G[g]);
        }
        double res[BLOCK];
        eval_node(&cx, hp->root, res, 0);
        memcpy(out + base, res, (size_t)cx.n * sizeof *res);
    }
    free(buf);
    return PACT_OK;
}
