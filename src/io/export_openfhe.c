/* The OpenFHE export: per layer, the arguments of EvalChebyshevSeries.
 *
 * Verified against openfhe-development v1.5.1,
 * src/pke/lib/scheme/ckksrns/ckksrns-advancedshe.cpp: EvalChebyshevSeries
 * picks the linear method when Degree(coeffs) (index of the last coefficient
 * that is not exactly zero) is below 5 and Paterson-Stockmeyer otherwise; the
 * linear method maps y = alpha x + (-1 - a alpha), alpha = 2 / (b - a), with a
 * scalar product and rescale unless a == -1 and b == 1 within 2^-44, and adds
 * coeffs[0] / 2 as the constant term (the PS path halves it too). Measured
 * levels: ../shared/he/openfhe-n16-2core.json. Its coefficients are scalars,
 * so a per-channel layer is one series per channel (trimmed on its own). */
#include "export_internal.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdlib.h>

static const char convention[] =
    "per series in order: s = EvalChebyshevSeries(s, coeffs, a, b) = coeffs[0]/2 + "
    "sum_{i>=1} coeffs[i] T_i(-1 + 2 (s - a) / (b - a)), starting from s = in "
    "(in = x, or y = scale * x + shift when input_map is given: fold it into the preceding "
    "linear layer); then out = s (final op none) or out = (in + add) * s (final op mul_input)";

/* only in documents of plans with per-channel layers */
static const char channels_convention[] =
    "a layer with \"channels\" (one polynomial per channel) has no \"series\": channel c "
    "is out = EvalChebyshevSeries(in, channels[c].coeffs, channels[c].a, channels[c].b) "
    "(e.g. on the ciphertext holding channel c), in = x, or y = scale[c] * x + shift[c] when "
    "input_map is given (vectors over the channels: fold entry c into output channel c of the "
    "preceding linear layer); the layer's levels are the most of its channels'";

static const char levels_note[] =
    "levels: OpenFHE 1.5.1 EvalChebyshevSeries on [-1,1] measured (degree 1: 1, 2: 2, 3-5: 3, "
    "6-13: 4, 14-27: 5, 28-59: 6, 60-119: 7, 120-247: 8, 248-495: 9, 511: 10; 496-1007: 10 "
    "and 1008-1023: 11 from OpenFHE's GetDepthByDegree less one), +1 per series whose "
    "interval is not [-1,1], +1 for a mul_input final product";

static cJSON *series_json(const export_chain *c, int k, int *levels)
{
    cJSON *s = cJSON_CreateObject();
    int d = c->degree[k];
    cJSON_AddNumberToObject(s, "degree", d);
    cJSON_AddItemToObject(s, "a", pact_json_number(c->a[k]));
    cJSON_AddItemToObject(s, "b", pact_json_number(c->b[k]));
    cJSON *coeffs = cJSON_AddArrayToObject(s, "coeffs");
    for (int j = 0; coeffs && j <= d; j++)
        /* OpenFHE halves coeffs[0]: export twice the constant term */
        cJSON_AddItemToArray(coeffs, pact_json_number(j == 0 ? 2.0 * c->cheb[k][0] : c->cheb[k][j]));
    *levels = pact_openfhe_series_levels(d) + !export_is_unit_interval(c->a[k], c->b[k]);
    cJSON_AddNumberToObject(s, "levels", *levels);
    return s;
}

/* A per-channel layer: one series per channel (each channel's own
 * EvalChebyshevSeries arguments); the layer's levels are the most any
 * channel needs. */
static pact_status channels_json(const pact_plan_layer *l, int i, int folded, cJSON **out,
                                 pact_error *err)
{
    export_chain *chains = NULL;
    pact_status st = export_channels_build(l, i, folded, &chains, err);
    for (int ch = 0; st == PACT_OK && ch < l->n_channels; ch++)
        if (!isfinite(2.0 * chains[ch].cheb[0][0]))
            st = pact_fail(err, PACT_ENUMERIC, "export: layer %d (%s) channel %d: twice the "
                           "constant term overflows double precision", i, l->name, ch);
    if (st != PACT_OK) {
        export_channels_free(chains, l->n_channels);
        return st;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        export_channels_free(chains, l->n_channels);
        return pact_fail(err, PACT_ENOMEM, "export: out of memory");
    }
    export_json_channels_head(o, l, i, chains, folded);
    cJSON *arr = cJSON_AddArrayToObject(o, "channels");
    int most = 0;
    for (int ch = 0; ch < l->n_channels; ch++) {
        int lv;
        cJSON_AddItemToArray(arr, series_json(&chains[ch], 0, &lv));
        most = lv > most ? lv : most;
    }
    cJSON *fin = cJSON_AddObjectToObject(o, "final");
    cJSON_AddStringToObject(fin, "op", "none");
    cJSON_AddNumberToObject(o, "levels", most);
    export_channels_free(chains, l->n_channels);
    *out = o;
    return PACT_OK;
}

pact_status export_openfhe(const pact_plan *plan, int folded, char **text, pact_error *err)
{
    cJSON *root = export_json_head(plan, "polyact-openfhe", folded, convention, levels_note);
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
        for (int k = 0; st == PACT_OK && k < c.n; k++)
            if (!isfinite(2.0 * c.cheb[k][0]))
                st = pact_fail(err, PACT_ENUMERIC, "export: layer %d (%s): twice the constant "
                               "term overflows double precision", i, l.name);
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
