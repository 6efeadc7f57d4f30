#include "plan_table.h"
#include "cli_backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_resnet_depth(const char *name)
{
    int depth = 0;
    char tail;
    if (sscanf(name, "resnet%d%c", &depth, &tail) != 1 || depth < 8 || (depth - 2) % 6)
        return 0;
    return depth;
}

int cli_load_cost(const char *cmd, const char *profile_path, const char *model_name,
                  pact_cost_profile **profile, pact_cost_layout **layout)
{
    pact_error err;
    *layout = NULL;
    pact_status st = cli_load_profile(profile_path, profile, &err);
    if (st != PACT_OK)
        return cli_lib_error(cmd, &err, 0);
    int depth = cli_resnet_depth(model_name);
    if (!depth) {
        pact_cost_profile_free(*profile);
        *profile = NULL;
        return cli_error(cmd, CLI_RUNTIME, "model '%s' is not a CIFAR ResNet: no cost layout for it",
                         model_name);
    }
    if (pact_cost_layout_resnet(*profile, depth, layout, &err) != PACT_OK) {
        pact_cost_profile_free(*profile);
        *profile = NULL;
        return cli_lib_error(cmd, &err, 0);
    }
    return CLI_OK;
}

int cli_load_cost_net(const char *cmd, const char *profile_path, const pact_net *net,
                      pact_cost_profile **profile, pact_cost_layout **layout)
{
    pact_error err;
    *layout = NULL;
    pact_status st = cli_load_profile(profile_path, profile, &err);
    if (st != PACT_OK)
        return cli_lib_error(cmd, &err, 0);
    if (pact_net_cost_layout(net, *profile, layout, &err) != PACT_OK) {
        pact_cost_profile_free(*profile);
        *profile = NULL;
        return cli_lib_error(cmd, &err, 0);
    }
    return CLI_OK;
}

static const char *baseline_of(const pact_plan *plan)
{
    const char *b = pact_plan_get_note(plan, "baseline");
    if (b)
        return b;
    for (int i = 0; i < pact_plan_layer_count(plan); i++) {
        pact_plan_layer l;
        if (pact_plan_layer_get(plan, i, &l, NULL) == PACT_OK && l.func != PACT_RELU)
            return "degree:63";
    }
    return "composite:alpha=13";
}

int cli_print_plan_table(const char *cmd, FILE *out, const pact_plan *plan,
                         const pact_cost_layout *layout, const pact_cost_profile *profile,
                         double *baseline_s)
{
    pact_error err;
    pact_cost_walk *walk = NULL;
    if (pact_plan_cost(plan, layout, profile, &walk, &err) != PACT_OK)
        return cli_lib_error(cmd, &err, 0);
    fprintf(out, "%-16s %-20s %8s %5s %10s %10s %6s %5s\n", "layer", "interval", "degree", "depth",
            "max_error", "impact", "level", "boot");
    for (int i = 0; i < pact_plan_layer_count(plan); i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, &err);
        const pact_cost_step *s = &walk->steps[pact_cost_layout_slot_op(layout, i)];
        char iv[64], deg[32];
        snprintf(iv, sizeof iv, "[%.3g, %.3g]", l.a, l.b);
        if (l.form == PACT_FORM_POLY && l.n_channels > 0) {
            snprintf(deg, sizeof deg, "%dx%d", l.degrees[0], l.n_channels);
        } else if (l.form == PACT_FORM_POLY) {
            snprintf(deg, sizeof deg, "%d", l.degrees[0]);
        } else {
            int n = 0;
            for (int k = 0; k < l.n_parts && n < (int)sizeof deg; k++)
                n += snprintf(deg + n, sizeof deg - (size_t)n, "%s%d", k ? "," : "{", l.degrees[k]);
            if (n < (int)sizeof deg)
                snprintf(deg + n, sizeof deg - (size_t)n, "}");
        }
        fprintf(out, "%-16s %-20s %8s %5d %10.3g %10.3g %6d %5d\n", l.name, iv, deg, l.depth,
                l.max_error, l.impact, s->level_in, s->n_bootstraps);
    }
    fprintf(out, "total (profile %s): %.1f s, %d bootstrappings (%.1f s bootstrapping, %.1f s "
                 "activations, %.1f s linear)\n",
            walk->profile, walk->total_ms / 1000.0, walk->n_bootstraps, walk->bootstrap_ms / 1000.0,
            walk->activation_ms / 1000.0, walk->linear_ms / 1000.0);
    pact_cost_walk *base = NULL;
    const char *spec = baseline_of(plan);
    if (pact_cost_uniform(layout, profile, spec, &base, &err) != PACT_OK) {
        pact_cost_walk_free(walk);
        return cli_lib_error(cmd, &err, 0);
    }
    fprintf(out, "baseline uniform %s (profile %s): %.1f s, %d bootstrappings -> "
                 "speed-up %.2fx\n",
            spec, base->profile, base->total_ms / 1000.0, base->n_bootstraps,
            base->total_ms / walk->total_ms);
    if (baseline_s)
        *baseline_s = base->total_ms / 1000.0;
    pact_cost_walk_free(base);
    double acc, bb;
    if (pact_plan_get_summary(plan, "calib_accuracy", &acc, NULL) == PACT_OK &&
        pact_plan_get_summary(plan, "calib_backbone_accuracy", &bb, NULL) == PACT_OK)
    {
        double ag;
        fprintf(out, "calibration images: PANN %.2f%%, backbone %.2f%% (drop %.2f points", acc,
                bb, bb - acc);
        if (pact_plan_get_summary(plan, "calib_agreement", &ag, NULL) == PACT_OK)
            fprintf(out, ", agreement %.2f%%", ag);
        fprintf(out, ")\n");
    }
    pact_cost_walk_free(walk);
    return CLI_OK;
}
