/* Printing an evaluation report: text or one JSON object. */
#include "eval_report.h"

#include <stdio.h>

cJSON *eval_report_json(const eval_labels *lb, const pact_pann_report *r)
{
    const char *what = lb->what;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "model", lb->model);
    cJSON_AddStringToObject(o, "model_sha256", lb->model_sha256);
    cJSON_AddStringToObject(o, "data", lb->data);
    cJSON_AddNumberToObject(o, "images", (double)r->images);
    cJSON_AddNumberToObject(o, "correct", (double)r->correct);
    cJSON_AddNumberToObject(o, "accuracy", (double)r->correct / (double)r->images);
    if (lb->timed) {
        cJSON_AddNumberToObject(o, "images_per_second", (double)r->images / r->seconds);
        cJSON_AddNumberToObject(o, "seconds", r->seconds);
    } else {
        cJSON_AddNullToObject(o, "images_per_second");
        cJSON_AddNullToObject(o, "seconds");
    }
    cJSON_AddNumberToObject(o, "backbone_correct", (double)r->backbone_correct);
    if (!what)
        return o;
    cJSON_AddStringToObject(o, "pann", what);
    cJSON_AddNumberToObject(o, "fixed_frac_bits", lb->frac_bits);
    cJSON_AddNumberToObject(o, "noise_sigma", lb->noise);
    cJSON_AddNumberToObject(o, "agree", (double)r->agree);
    cJSON_AddNumberToObject(o, "agreement", (double)r->agree / (double)r->images);
    cJSON_AddNumberToObject(o, "max_logit_diff", r->max_logit_diff);
    cJSON_AddNumberToObject(o, "mean_logit_diff", r->mean_logit_diff);
    cJSON_AddNumberToObject(o, "nonfinite_images", (double)r->nonfinite_images);
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    for (int i = 0; i < r->n_layers; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "name", lb->layer_names[i]);
        cJSON_AddNumberToObject(l, "inputs", (double)r->layers[i].inputs);
        cJSON_AddNumberToObject(l, "out_of_range", (double)r->layers[i].out_of_range);
        cJSON_AddNumberToObject(l, "worst_excursion", r->layers[i].worst_excursion);
        cJSON_AddNumberToObject(l, "min_input", r->layers[i].min_input);
        cJSON_AddNumberToObject(l, "max_input", r->layers[i].max_input);
        cJSON_AddItemToArray(layers, l);
    }
    return o;
}

void eval_report_text(const eval_labels *lb, const pact_pann_report *r)
{
    const char *what = lb->what, *data = lb->data;
    int frac_bits = lb->frac_bits;
    double n = (double)r->images;
    if (!what) {
        printf("%s: top-1 %.2f%% (%zu/%zu) on %s", lb->model, 100.0 * (double)r->correct / n,
               r->correct, r->images, data);
        if (lb->timed)
            printf(", %.0f images/s", n / r->seconds);
        printf("\n");
        return;
    }
    printf("%s PANN (%s%s): top-1 %.2f%% (%zu/%zu); backbone %.2f%% (%zu/%zu); "
           "agreement %.2f%% (%zu/%zu)\n",
           lb->model, what, frac_bits ? ", fixed point" : ", fp64",
           100.0 * (double)r->correct / n, r->correct, r->images,
           100.0 * (double)r->backbone_correct / n, r->backbone_correct, r->images,
           100.0 * (double)r->agree / n, r->agree, r->images);
    if (frac_bits)
        printf("fixed point: values on the grid 2^-%d\n", frac_bits);
    printf("logits: max |PANN - backbone| %.4g, mean %.4g; non-finite images %zu",
           r->max_logit_diff, r->mean_logit_diff, r->nonfinite_images);
    if (lb->timed)
        printf("; %.1f s", r->seconds);
    printf("\n");
    uint64_t outside = 0;
    for (int i = 0; i < r->n_layers; i++)
        outside += r->layers[i].out_of_range;
    printf("inputs outside the polynomial's interval: %llu", (unsigned long long)outside);
    if (!outside) {
        printf("\n");
        return;
    }
    printf(" (where polynomials explode)\n%-16s %12s %12s\n", "layer", "outside", "worst");
    for (int i = 0; i < r->n_layers; i++)
        if (r->layers[i].out_of_range)
            printf("%-16s %12llu %12.4g\n", lb->layer_names[i],
                   (unsigned long long)r->layers[i].out_of_range, r->layers[i].worst_excursion);
}

