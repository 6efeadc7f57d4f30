/* The Lattigo export: per layer, the arguments of
 * bignum.NewPolynomial(bignum.Chebyshev, coeffs, [2]float64{A, B}).
 *
 * Verified against lattigo v6.2.0 (the same in v5.0.7):
 * utils/bignum/polynomial.go: Polynomial.Evaluate (Chebyshev basis) returns
 * coeffs[0] + sum_{i>=1} coeffs[i] T_i(y), the constant term NOT halved, with
 * y = scalar x + constant from ChangeOfBasis: scalar = 2/(B-A), constant =
 * (-B-A)/(B-A); utils/bignum/chebyshev_approximation.go produces coefficients
 * in that convention. circuits/ckks/polynomial/polynomial_evaluator.go:
 * Evaluate does not apply the change of basis (the caller must, before) and
 * consumes ceil(log2(degree + 1)) levels (bits.Len64(degree),
 * circuits/common/polynomial), the degree being len(coeffs) - 1, so trailing
 * zeros are trimmed. schemes/ckks/evaluator.go: Mul by a constant that is an
 * integer needs no rescale; any other constant does (one level).
 * circuits/common/polynomial/polynomial.go: NewPolynomialVector(polys,
 * mapping) evaluates polys[i] on the slots mapping[i] (0 elsewhere) and
 * refuses polynomials of different degrees or bases: per-channel layers are
 * padded to one degree. */
#include "export_internal.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdlib.h>

static const char convention[] =
    "per series in order: p := bignum.NewPolynomial(bignum.Chebyshev, coeffs, "
    "[2]float64{interval[0], interval[1]}) evaluates coeffs[0] + sum_{i>=1} coeffs[i] T_i(y) "
    "(constant term not halved) at y = scalar * s + constant (change_of_basis, = "
    "p.ChangeOfBasis(); the caller applies it before polynomial.Evaluator.Evaluate), starting "
    "from s = in (in = x, or y = scale * x + shift when input_map is given: fold it into the "
    "preceding linear layer); then out = s (final op none) or out = (in + add) * s "
    "(final op mul_input). odd / even: every even / odd coefficient is exactly zero (may be "
    "set as p.IsOdd / p.IsEven)";

/* only in documents of plans with per-channel layers */
static const char channels_convention[] =
    "a layer with \"channels\" (one polynomial per channel) has no \"series\": it is one "
    "polynomial.PolynomialVector, polys[c] = bignum.NewPolynomial(bignum.Chebyshev, "
    "channels[c].coeffs, channels[c].interval) (every channel has degree + 1 coefficients, as "
    "NewPolynomialVector requires) and mapping[c] = the slots holding channel c; before "
    "polynomial.Evaluator.Evaluate apply the change of basis per slot, y = scalar * in + "
    "constant with plaintext vectors of channels[c].change_of_basis on channel c's slots "
    "(folded: scalar 1, constant 0, nothing to apply); in = x, or y = scale[c] * x + shift[c] "
    "when input_map is given (vectors over the channels: fold entry c into output channel c of "
    "the preceding linear layer); levels ceil(log2(degree+1)), +1 unless every channel has the "
    "same integer scalar";

static const char levels_note[] =
    "levels: ceil(log2(degree+1)) per series, +1 when its change_of_basis scalar is not an "
    "integer (Mul by a non-integer constant needs a rescale), +1 for a mul_input final product";

static cJSON *series_json(const export_chain *c, int k, int *levels)
{
    cJSON *s = cJSON_CreateObject();
    int d = c->degree[k];
    double a = c->a[k], b = c->b[k];
    double scalar = 2.0 / (b - a), constant = (-b - a) / (b - a);
    /* an exact integer scalar: fma(scalar, b - a, -2) == 0 says 2/(b-a) was not rounded */
    int integer_scalar = scalar == floor(scalar) && fma(scalar, b - a, -2.0) == 0.0;
    int odd = 1, even = 1;
    for (int j = 0; j <= d; j++) {
        if (c->cheb[k][j] != 0.0) {
            if (j % 2)
                even = 0;
            else
                odd = 0;
        }
    }
    cJSON_AddNumberToObject(s, "degree", d);
    double iv[2] = {a, b};
    cJSON_AddItemToObject(s, "interval", pact_json_numbers(iv, 2));
    cJSON_AddItemToObject(s, "coeffs", pact_json_numbers(c->cheb[k], d + 1));
    cJSON *cob = cJSON_AddObjectToObject(s, "change_of_basis");
    cJSON_AddItemToObject(cob, "scalar", pact_json_number(scalar));
    cJSON_AddItemToObject(cob, "constant", pact_json_number(constant));
    cJSON_AddBoolToObject(s, "odd", odd);
    cJSON_AddBoolToObject(s, "even", even);
    *levels = pact_poly_depth(d) + !integer_scalar;
    cJSON_AddNumberToObject(s, "levels", *levels);
    return s;
}

/* A per-channel layer as the polynomials of one polynomial.PolynomialVector:
 * NewPolynomialVector wants every polynomial of the same degree, so every
 * channel is padded with zeros to the largest trimmed degree. The change of
 * basis is per slot (plaintext vectors): it needs no rescale only when every
 * channel has the same integer scalar. */
static pact_status channels_json(const pact_plan_layer *l, int i, int folded, cJSON **out,
                                 pact_error *err)
{
    export_chain *chains = NULL;
    pact_status st = export_channels_build(l, i, folded, &chains, err);
    if (st != PACT_OK) {
        export_channels_free(chains, l->n_channels);
        return st;
    }
    int degree = 1;
    for (int ch = 0; ch < l->n_channels; ch++)
        degree = chains[ch].degree[0] > degree ? chains[ch].degree[0] : degree;
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        export_channels_free(chains, l->n_channels);
        return pact_fail(err, PACT_ENOMEM, "export: out of memory");
    }
    export_json_channels_head(o, l, i, chains, folded);
    cJSON_AddNumberToObject(o, "degree", degree);
    cJSON *arr = cJSON_AddArrayToObject(o, "channels");
    int all_odd = 1, all_even = 1, same_integer_scalar = 1;
    double first_scalar = 0.0;
    for (int ch = 0; ch < l->n_channels; ch++) {
        int lv;
        chains[ch].degree[0] = degree; /* the trimmed coefficients are exact zeros */
        cJSON *s = series_json(&chains[ch], 0, &lv);
        cJSON_DeleteItemFromObjectCaseSensitive(s, "degree");
        cJSON_DeleteItemFromObjectCaseSensitive(s, "levels");
        all_odd = all_odd && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "odd"));
        all_even = all_even && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "even"));
        double scalar = 2.0 / (chains[ch].b[0] - chains[ch].a[0]);
        if (ch == 0)
            first_scalar = scalar;
        /* series_json counts one level for a non-integer scalar */
        same_integer_scalar = same_integer_scalar && lv == pact_poly_depth(degree) &&
                              scalar == first_scalar;
        cJSON_AddItemToArray(arr, s);
    }
    cJSON_AddBoolToObject(o, "odd", all_odd);
    cJSON_AddBoolToObject(o, "even", all_even);
    cJSON *fin = cJSON_AddObjectToObject(o, "final");
    cJSON_AddStringToObject(fin, "op", "none");
    cJSON_AddNumberToObject(o, "levels", pact_poly_depth(degree) + !same_integer_scalar);
    export_channels_free(chains, l->n_channels);
    *out = o;
    return PACT_OK;
}

pact_status export_lattigo(const pact_plan *plan, int folded, char **text, pact_error *err)
{
    cJSON *root = export_json_head(plan, "polyact-lattigo", folded, convention, levels_note);
    if (root && export_plan_has_channels(plan))
        cJSON_AddStringToObject(root, "channels_convention", channels_convention);
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    if (!layers) {
        cJSON_Delete(root);
        return pact_fail(err, PACT_ENOMEM, "export: out of memory");
    }
    for (int i = 0; i < pact_plan_layer_count(plan); i++) {
        pact_plan_layer l;
        export_chain c = {0};
        pact_status st = pact_plan_layer_get(plan, i, &l, err);
        if (st == PACT_OK && l.n_channels > 0) {
            cJSON *o = NULL;
            st = channels_json(&l, i, folded, &o, err);
            if (st != PACT_OK) {
                cJSON_Delete(root);
                return st;
            }
            cJSON_AddItemToArray(layers, o);
            continue;
        }
        if (st == PACT_OK)
            st = export_chain_build(&l, i, folded, &c, err);
        if (st != PACT_OK) {
            export_chain_free(&c);
            cJSON_Delete(root);
            return st;
        }
        cJSON *o = cJSON_CreateObject();
        export_json_layer_head(o, &l, i, &c);
        cJSON *series = cJSON_AddArrayToObject(o, "series");
        int total = 0;
        for (int k = 0; k < c.n; k++) {
            int lv;
            cJSON_AddItemToArray(series, series_json(&c, k, &lv));
            total += lv;
        }
        cJSON *fin = cJSON_AddObjectToObject(o, "final");
        cJSON_AddStringToObject(fin, "op", c.final_mul ? "mul_input" : "none");
        if (c.final_mul)
            cJSON_AddItemToObject(fin, "add", pact_json_number(c.final_add));
        cJSON_AddNumberToObject(o, "levels", total + c.final_mul);
        cJSON_AddItemToArray(layers, o);
        export_chain_free(&c);
    }
    return export_json_finish(root, text, err);
}
