/* A plan layer as the chain of Chebyshev series an HE library evaluates: which
 * series on which interval, what the user folds into the preceding layer, and
 * the one product that ends a composite relu / abs. */
#include "export_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int export_is_unit_interval(double a, double b)
{
    const double delta = 0x1p-44; /* OpenFHE's IsNotEqualOne / IsNotEqualNegOne */
    return fabs(a + 1.0) <= delta && fabs(b - 1.0) <= delta;
}

void export_chain_free(export_chain *c)
{
    for (int k = 0; k < PACT_PLAN_MAX_PARTS; k++) {
        free(c->cheb[k]);
        c->cheb[k] = NULL;
    }
}

/* c <- alpha c + beta T_0: the series of alpha p + beta. */
static void affine(double *c, int degree, double alpha, double beta)
{
    for (int j = 0; j <= degree; j++)
        c[j] *= alpha;
    c[0] += beta;
}

/* c <- c / divisor: the series of p / divisor (division, not a reciprocal
 * product, to keep one rounding per coefficient). */
static void divide(double *c, int degree, double divisor)
{
    for (int j = 0; j <= degree; j++)
        c[j] /= divisor;
}

pact_status export_chain_build(const pact_plan_layer *l, int index, int folded, export_chain *c,
                               pact_error *err)
{
    memset(c, 0, sizeof *c);
    c->n = l->n_parts;
    c->folded = folded;
    for (int k = 0; k < c->n; k++) {
        size_t len = (size_t)l->degrees[k] + 1;
        c->cheb[k] = malloc(len * sizeof(double));
        if (!c->cheb[k])
            return pact_fail(err, PACT_ENOMEM, "export: layer %d (%s): out of memory", index,
                             l->name);
        memcpy(c->cheb[k], l->cheb[k], len * sizeof(double));
        c->degree[k] = l->degrees[k];
        c->a[k] = l->part_a[k];
        c->b[k] = l->part_b[k];
    }
    int composite = l->form == PACT_FORM_COMPOSITE;
    /* composite: series 0 reads x itself; p_1(x / B) on [a, b] is p_1(x) on [B a, B b] */
    double scale0 = composite ? l->bound : 1.0;
    if (!folded) {
        c->a[0] *= scale0;
        c->b[0] *= scale0;
    } else {
        /* the first map goes to the user's linear layer, each later one into the
         * series before it */
        double w = c->b[0] - c->a[0];
        c->in_scale = 2.0 / (scale0 * w);
        c->in_shift = -(c->a[0] + c->b[0]) / w;
        for (int k = 1; k < c->n; k++) {
            double wk = c->b[k] - c->a[k];
            affine(c->cheb[k - 1], c->degree[k - 1], 2.0 / wk, -(c->a[k] + c->b[k]) / wk);
        }
        for (int k = 0; k < c->n; k++) {
            c->a[k] = -1.0;
            c->b[k] = 1.0;
        }
    }
    if (composite && l->func != PACT_SIGN) {
        /* out = B u t = x t with t = (1 + s) / 2 (relu) or s (abs); folded, x = (y - shift) / scale */
        int last = c->n - 1;
        c->final_mul = 1;
        if (l->func == PACT_RELU)
            affine(c->cheb[last], c->degree[last], 0.5, 0.5);
        if (folded) {
            divide(c->cheb[last], c->degree[last], c->in_scale);
            c->final_add = -c->in_shift;
        }
    }
    /* + 0.0 turns -0 into 0 (and changes nothing else): no "-0" in documents */
    c->in_shift += 0.0;
    c->final_add += 0.0;
    int finite = isfinite(c->in_scale) && isfinite(c->in_shift) && isfinite(c->final_add);
    for (int k = 0; k < c->n; k++) {
        finite = finite && isfinite(c->a[k]) && isfinite(c->b[k]) && c->a[k] < c->b[k];
        for (int j = 0; j <= c->degree[k]; j++) {
            c->cheb[k][j] += 0.0;
            finite = finite && isfinite(c->cheb[k][j]);
        }
        /* trailing exact zeros cost OpenFHE levels (and Lattigo depth): trim, keep c_0, c_1 */
        while (c->degree[k] > 1 && c->cheb[k][c->degree[k]] == 0.0)
            c->degree[k]--;
    }
    if (!finite)
        return pact_fail(err, PACT_ENUMERIC,
                         "export: layer %d (%s): %s form overflows double precision", index,
                         l->name, folded ? "folded" : "exported");
    return PACT_OK;
}

void export_channel_layer(const pact_plan_layer *l, int channel, pact_plan_layer *out)
{
    *out = *l;
    out->a = l->channel_a[channel];
    out->b = l->channel_b[channel];
    out->n_parts = 1;
    out->part_a = l->channel_a + channel;
    out->part_b = l->channel_b + channel;
    out->cheb = l->channel_cheb + channel;
    out->n_channels = 0;
    out->channel_a = out->channel_b = NULL;
    out->channel_cheb = NULL;
}

void export_channels_free(export_chain *chains, int n_channels)
{
    for (int ch = 0; chains && ch < n_channels; ch++)
        export_chain_free(&chains[ch]);
    free(chains);
}

pact_status export_channels_build(const pact_plan_layer *l, int index, int folded,
                                  export_chain **chains, pact_error *err)
{
    *chains = calloc((size_t)l->n_channels, sizeof **chains);
    if (!*chains)
        return pact_fail(err, PACT_ENOMEM, "export: layer %d (%s): out of memory", index, l->name);
    for (int ch = 0; ch < l->n_channels; ch++) {
        pact_plan_layer one;
        export_channel_layer(l, ch, &one);
        pact_status st = export_chain_build(&one, index, folded, &(*chains)[ch], err);
        if (st != PACT_OK)
            return st;
    }
    return PACT_OK;
}
