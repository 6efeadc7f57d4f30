/* polyact cost: the HE cost of a uniform plan on a CIFAR ResNet, op by op. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: polyact cost [--model-depth 20|32|44|56|110] [--uniform SPEC]\n"
    "                    [--cost PROFILE.json] [--json]\n"
    "\n"
    "Walks the encrypted inference of a CIFAR ResNet whose every activation is\n"
    "SPEC, under an HE cost profile, and prints each op's levels, where the\n"
    "bootstrappings go, the total latency and its shares. Unless SPEC is the\n"
    "baseline itself, also prints the speed-up over the uniform alpha=13\n"
    "composite (the MPCNN baseline) under the same profile.\n"
    "\n"
    "  --model-depth N  ResNet depth 6n+2 (default 20)\n"
    "  --uniform SPEC   degree:D | composite:alpha=A | composite:D1,D2,...\n"
    "                   | compose:D1,D2,...   (default composite:alpha=13)\n"
    "  --cost FILE      cost profile JSON (default: built-in mpcnn-log, the\n"
    "                   published ResNet-20 log; see data/profiles/)\n"
    "  --json           machine-readable output on stdout\n"
    "\n"
    "Exit 0 success, 1 runtime error (unreadable profile, a plan that cannot\n"
    "fit the levels), 2 usage error.\n";

static const char *kind_str(pact_cost_op_kind k)
{
    switch (k) {
    case PACT_COST_LINEAR: return "linear";
    case PACT_COST_ACT: return "act";
    case PACT_COST_FORK: return "fork";
    case PACT_COST_SHORTCUT: return "shortcut";
    case PACT_COST_ADD: return "add";
    }
    return "?";
}

static pact_status evaluate_uniform(const pact_cost_layout *layout,
                                    const pact_cost_profile *prof, const pact_cost_act *act,
                                    pact_cost_walk **walk, pact_error *err)
{
    int n = pact_cost_layout_n_slots(layout);
    pact_cost_act *acts = malloc(((size_t)n + 1) * sizeof *acts);
    if (!acts) {
        err->status = PACT_ENOMEM;
        snprintf(err->message, sizeof err->message, "out of memory");
        return PACT_ENOMEM;
    }
    for (int i = 0; i < n; i++)
        acts[i] = *act;
    pact_status st = pact_cost_evaluate(layout, prof, acts, n, walk, err);
    free(acts);
    return st;
}

static double share(double part, double total)
{
    return total > 0.0 ? 100.0 * part / total : 0.0;
}

static void print_text(const pact_cost_layout *layout, const pact_cost_profile *prof,
                       int model_depth, const char *spec, int depth, const pact_cost_walk *w,
                       const pact_cost_walk *base, const pact_error *base_err)
{
    printf("profile %s: L = %d levels after bootstrapping, fresh input at %d\n",
           pact_cost_profile_name(prof), pact_cost_profile_max_level(prof),
           pact_cost_profile_fresh_level(prof));
    printf("resnet-%d, %d activations, every one %s (%d levels)\n\n", model_depth,
           pact_cost_layout_n_slots(layout), spec, depth);
    printf("%4s  %-20s %-8s %13s %5s %10s %10s\n", "op", "name", "kind", "level", "boot",
           "op s", "boot s");
    for (int k = 0; k < w->n_steps; k++) {
        const pact_cost_op *op = pact_cost_layout_op(layout, k);
        const pact_cost_step *s = &w->steps[k];
        char lv[32], boot[16] = "", bs[24] = "";
        if (s->shortcut_level >= 0 && op->kind != PACT_COST_LINEAR && op->kind != PACT_COST_ACT)
            snprintf(lv, sizeof lv, "%d -> %d|%d", s->level_in, s->level_out, s->shortcut_level);
        else
            snprintf(lv, sizeof lv, "%d -> %d", s->level_in, s->level_out);
        if (s->n_bootstraps && s->boot_mask == 1) {
            snprintf(boot, sizeof boot, "%d", s->n_bootstraps);
            snprintf(bs, sizeof bs, "%.2f", s->bootstrap_ms / 1000.0);
        } else if (s->n_bootstraps) { /* inside a composite: list the positions */
            int n = snprintf(boot, sizeof boot, "%d@", s->n_bootstraps);
            for (int b = 0; b < 10 && n > 0 && (size_t)n < sizeof boot; b++)
                if (s->boot_mask & (1u << b))
                    n += snprintf(boot + n, sizeof boot - (size_t)n, "%s%d",
                                  boot[n - 1] == '@' ? "" : ",", b);
            snprintf(bs, sizeof bs, "%.2f", s->bootstrap_ms / 1000.0);
        }
        printf("%4d  %-20s %-8s %13s %5s %10.2f %10s\n", k, op->name, kind_str(op->kind), lv,
               boot, s->op_ms / 1000.0, bs);
    }
    printf("\n(level a -> b|c: main path a to b, pending shortcut at c; boot n@i,j: n\n"
           " bootstrappings, before component i+1 of a composite (0: before it), or\n"
           " before its ReLU product when i is its component count)\n\n");
    printf("bootstrappings  %d\n", w->n_bootstraps);
    printf("bootstrapping   %10.2f s  %5.1f%%\n", w->bootstrap_ms / 1000.0,
           share(w->bootstrap_ms, w->total_ms));
    printf("activations     %10.2f s  %5.1f%%\n", w->activation_ms / 1000.0,
           share(w->activation_ms, w->total_ms));
    printf("linear layers   %10.2f s  %5.1f%%\n", w->linear_ms / 1000.0,
           share(w->linear_ms, w->total_ms));
    printf("total           %10.2f s  (profile %s)\n", w->total_ms / 1000.0,
           pact_cost_profile_name(prof));
    if (base)
        printf("speed-up vs uniform composite:alpha=13 (%d bootstrappings, %.2f s), profile "
               "%s: %.2fx\n",
               base->n_bootstraps, base->total_ms / 1000.0, pact_cost_profile_name(prof),
               base->total_ms / w->total_ms);
    else if (base_err)
        printf("uniform composite:alpha=13 does not fit profile %s: %s\n",
               pact_cost_profile_name(prof), base_err->message);
}

static int print_json(const pact_cost_layout *layout, const pact_cost_profile *prof,
                      int model_depth, const char *spec, int depth, const pact_cost_walk *w,
                      const pact_cost_walk *base, const pact_error *base_err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "profile", pact_cost_profile_name(prof));
    cJSON_AddNumberToObject(root, "max_level", pact_cost_profile_max_level(prof));
    cJSON_AddNumberToObject(root, "fresh_level", pact_cost_profile_fresh_level(prof));
    cJSON_AddNumberToObject(root, "model_depth", model_depth);
    cJSON_AddStringToObject(root, "activation", spec);
    cJSON_AddNumberToObject(root, "activation_depth", depth);
    cJSON *ops = cJSON_AddArrayToObject(root, "ops");
    for (int k = 0; k < w->n_steps; k++) {
        const pact_cost_op *op = pact_cost_layout_op(layout, k);
        const pact_cost_step *s = &w->steps[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", op->name);
        cJSON_AddStringToObject(o, "kind", kind_str(op->kind));
        cJSON_AddNumberToObject(o, "level_in", s->level_in);
        cJSON_AddNumberToObject(o, "level_out", s->level_out);
        cJSON_AddNumberToObject(o, "shortcut_level", s->shortcut_level);
        cJSON_AddNumberToObject(o, "bootstraps", s->n_bootstraps);
        cJSON_AddNumberToObject(o, "boot_mask", s->boot_mask);
        cJSON_AddNumberToObject(o, "ms", s->op_ms);
        cJSON_AddNumberToObject(o, "bootstrap_ms", s->bootstrap_ms);
        cJSON_AddItemToArray(ops, o);
    }
    cJSON_AddNumberToObject(root, "bootstraps", w->n_bootstraps);
    cJSON_AddNumberToObject(root, "total_ms", w->total_ms);
    cJSON_AddNumberToObject(root, "bootstrap_ms", w->bootstrap_ms);
    cJSON_AddNumberToObject(root, "activation_ms", w->activation_ms);
    cJSON_AddNumberToObject(root, "linear_ms", w->linear_ms);
    cJSON *sh = cJSON_AddObjectToObject(root, "shares");
    cJSON_AddNumberToObject(sh, "bootstrapping", share(w->bootstrap_ms, w->total_ms) / 100.0);
    cJSON_AddNumberToObject(sh, "activations", share(w->activation_ms, w->total_ms) / 100.0);
    cJSON_AddNumberToObject(sh, "linear", share(w->linear_ms, w->total_ms) / 100.0);
    if (base) {
        cJSON *b = cJSON_AddObjectToObject(root, "baseline");
        cJSON_AddStringToObject(b, "activation", "composite:alpha=13");
        cJSON_AddNumberToObject(b, "bootstraps", base->n_bootstraps);
        cJSON_AddNumberToObject(b, "total_ms", base->total_ms);
        cJSON_AddNumberToObject(b, "speedup", base->total_ms / w->total_ms);
    } else if (base_err) {
        cJSON *b = cJSON_AddObjectToObject(root, "baseline");
        cJSON_AddStringToObject(b, "activation", "composite:alpha=13");
        cJSON_AddStringToObject(b, "error", base_err->message);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return cli_error("cost", CLI_RUNTIME, "out of memory");
    puts(text);
    free(text);
    return CLI_OK;
}

int cmd_cost(int argc, char **argv)
{
    const char *depth_s = "20", *spec = "composite:alpha=13", *cost = NULL;
    int json = 0;
    const cli_option opts[] = {
        {"model-depth", &depth_s, NULL},
        {"uniform", &spec, NULL},
        {"cost", &cost, NULL},
        {"json", NULL, &json},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse("cost", argc, argv, opts, NULL, 0, usage);
    if (rc != CLI_OK)
        return rc;
    long model_depth;
    rc = cli_int("cost", "model-depth", depth_s, 8, 1202, &model_depth);
    if (rc != CLI_OK)
        return rc;

    pact_error err = {PACT_OK, ""};
    pact_cost_act act, base_act;
    if (pact_cost_act_parse(spec, &act, &err) != PACT_OK)
        return cli_lib_error("cost", &err, 1);
    pact_cost_act_parse("composite:alpha=13", &base_act, NULL);

    pact_cost_profile *prof = NULL;
    pact_cost_layout *layout = NULL;
    pact_cost_walk *walk = NULL, *base = NULL;
    pact_status st = cost ? pact_cost_profile_load(cost, &prof, &err)
                          : pact_cost_profile_default(&prof, &err);
    if (st == PACT_OK)
        st = pact_cost_layout_resnet(prof, (int)model_depth, &layout, &err);
    int depth = 0;
    if (st == PACT_OK)
        st = pact_cost_act_depth(prof, &act, &depth, &err);
    if (st == PACT_OK)
        st = evaluate_uniform(layout, prof, &act, &walk, &err);
    if (st != PACT_OK) {
        rc = cli_lib_error("cost", &err, 1);
        goto done;
    }
    char canon[128];
    pact_cost_act_format(&act, canon, sizeof canon);
    pact_error base_err = {PACT_OK, ""};
    int is_base = memcmp(&act, &base_act, sizeof act) == 0;
    if (!is_base && evaluate_uniform(layout, prof, &base_act, &base, &base_err) != PACT_OK)
        base = NULL;
    const pact_error *shown_err = is_base || base ? NULL : &base_err;
    if (json)
        rc = print_json(layout, prof, (int)model_depth, canon, depth, walk, base, shown_err);
    else
        print_text(layout, prof, (int)model_depth, canon, depth, walk, base, shown_err);
done:
    pact_cost_walk_free(walk);
    pact_cost_walk_free(base);
    pact_cost_layout_free(layout);
    pact_cost_profile_free(prof);
    return rc;
}
