/* polyact report: a plan's per-layer table and its HE cost; with more plans
 * (a budget sweep), their accuracy-vs-latency front; --svg draws both. */
#include "cli_nn.h"
#include "plan_table.h"

#include <stdio.h>
#include <string.h>

#define MAX_PLANS 64

static const char usage[] =
    "usage: polyact report plan.json [more.json ...] [--svg FILE] [--cost PROFILE.json]\n"
    "                     [--model M]\n"
    "\n"
    "Prints the plan's per-layer table (layer, interval, degree, depth, max error,\n"
    "impact, input level, bootstrappings placed before it) and the totals under the\n"
    "cost profile (default: the built-in mpcnn-log), with the speed-up over the\n"
    "plan's uniform baseline (alpha=13 composite; degree 63 for GELU/SiLU networks)\n"
    "under the same profile. With more plans of the same model (a budget sweep:\n"
    "optimize --impacts T --max-drop D for several D), also their front: each\n"
    "plan's latency and bootstrappings under the profile, speed-up and accuracy on\n"
    "the calibration images (from the plan's summary).\n"
    "\n"
    "  --svg FILE         draw the first plan's per-layer degrees and the front of\n"
    "                     all plans that hold a calibration accuracy (SVG)\n"
    "  --cost FILE        cost profile JSON\n"
    "  --model M          the model the plan is for: its cost layout is derived from\n"
    "                     its graph (needed unless the plan names a CIFAR ResNet,\n"
    "                     e.g. for .onnx models)\n"
    "  --input-mean A,B,C --input-std A,B,C   the model's input normalisation, when\n"
    "                     its file does not hold it\n"
    "\n"
    "Exit 0 success, 1 runtime error, 2 usage error.\n";

static int load_layout(const char *cost_s, const char *model, const char *mean, const char *std,
                       const pact_plan *plan, pact_cost_profile **prof, pact_cost_layout **layout)
{
    if (!model)
        return cli_load_cost("report", cost_s, pact_plan_model_name(plan), prof, layout);
    pact_net_opts no = {0};
    double m[3], s[3];
    if ((mean && cli_triple("report", "input-mean", mean, m) != CLI_OK) ||
        (std && cli_triple("report", "input-std", std, s) != CLI_OK))
        return CLI_USAGE;
    no.input_mean = mean ? m : NULL;
    no.input_std = std ? s : NULL;
    pact_error err;
    pact_net *net = NULL;
    if (pact_net_load(model, &no, &net, &err) != PACT_OK)
        return cli_lib_error("report", &err, 0);
    int rc = CLI_OK;
    pact_model pm;
    pact_net_model(net, &pm);
    if (pact_plan_check_model(plan, &pm, pact_net_sha256(net), &err) != PACT_OK)
        rc = cli_lib_error("report", &err, 0);
    else
        rc = cli_load_cost_net("report", cost_s, net, prof, layout);
    pact_net_free(net);
    return rc;
}

/* The front of plans[0..n): one point per plan holding a calibration
 * accuracy, its latency under `prof`. Prints the table; fills pts (labels in
 * labels[i]) and *n_pts. */
static int front(const pact_plan *const *plans, const char *const *paths, int n,
                 const pact_cost_layout *layout, const pact_cost_profile *prof,
                 double baseline_s, pact_front_point *pts, char (*labels)[64], int *n_pts)
{
    pact_error err;
    *n_pts = 0;
    if (n > 1)
        printf("\nfront (profile %s)\n%-46s %8s %10s %5s %8s %10s\n", pact_cost_profile_name(prof),
               "plan", "max_drop", "latency_s", "boots", "speedup", "calib_acc");
    for (int i = 0; i < n; i++) {
        pact_cost_walk *walk = NULL;
        if (pact_plan_cost(plans[i], layout, prof, &walk, &err) != PACT_OK)
            return cli_lib_error("report", &err, 0);
        double acc = -1.0, drop = -1.0;
        int has_acc = pact_plan_get_summary(plans[i], "calib_accuracy", &acc, NULL) == PACT_OK;
        int has_drop = pact_plan_get_summary(plans[i], "max_drop", &drop, NULL) == PACT_OK;
        if (n > 1) {
            char d[32] = "-", a[32] = "-";
            if (has_drop)
                snprintf(d, sizeof d, "%g", drop);
            if (has_acc)
                snprintf(a, sizeof a, "%.2f%%", acc);
            printf("%-46s %8s %10.1f %5d %7.2fx %10s\n", paths[i], d, walk->total_ms / 1000.0,
                   walk->n_bootstraps, baseline_s * 1000.0 / walk->total_ms, a);
        }
        if (has_acc) {
            if (has_drop)
                snprintf(labels[*n_pts], 64, "max-drop %g", drop);
            else
                snprintf(labels[*n_pts], 64, "%.60s", paths[i]);
            pts[*n_pts] = (pact_front_point){walk->total_ms / 1000.0, walk->n_bootstraps, acc,
                                             labels[*n_pts]};
            (*n_pts)++;
        }
        pact_cost_walk_free(walk);
    }
    return CLI_OK;
}

int cmd_report(int argc, char **argv)
{
    const char *cost_s = NULL, *model = NULL, *mean = NULL, *std = NULL, *svg = NULL;
    const char *pos[MAX_PLANS] = {NULL};
    const cli_option opts[] = {{"cost", &cost_s, NULL},
                               {"model", &model, NULL},
                               {"input-mean", &mean, NULL},
                               {"input-std", &std, NULL},
                               {"svg", &svg, NULL},
                               {NULL, NULL, NULL}};
    int rc = cli_parse("report", argc, argv, opts, pos, MAX_PLANS, usage);
    if (rc != CLI_OK)
        return rc;
    if (!pos[0])
        return cli_error("report", CLI_USAGE, "which plan.json? (see --help)");
    int n = 0;
    while (n < MAX_PLANS && pos[n])
        n++;
    const char *ins[MAX_PLANS + 2] = {cost_s, model};
    for (int i = 0; i < n; i++)
        ins[2 + i] = pos[i];
    if ((rc = cli_check_output("report", "--svg", svg, ins, n + 2)) != CLI_OK)
        return rc;
    pact_error err;
    pact_plan *plans[MAX_PLANS] = {NULL};
    for (int i = 0; i < n && rc == CLI_OK; i++) {
        if (pact_plan_load(pos[i], &plans[i], &err) != PACT_OK)
            rc = cli_lib_error("report", &err, 0);
        else if (i > 0 && strcmp(pact_plan_model_sha256(plans[i]), pact_plan_model_sha256(plans[0])))
            rc = cli_error("report", CLI_RUNTIME, "%s is for model %s, %s for %s: a front needs "
                           "plans of one model", pos[i], pact_plan_model_name(plans[i]), pos[0],
                           pact_plan_model_name(plans[0]));
    }
    pact_cost_profile *prof = NULL;
    pact_cost_layout *layout = NULL;
    if (rc == CLI_OK)
        rc = load_layout(cost_s, model, mean, std, plans[0], &prof, &layout);
    double baseline_s = 0.0;
    if (rc == CLI_OK) {
        printf("plan %s for %s\n", pos[0], pact_plan_model_name(plans[0]));
        rc = cli_print_plan_table("report", stdout, plans[0], layout, prof, &baseline_s);
    }
    pact_front_point pts[MAX_PLANS];
    char labels[MAX_PLANS][64];
    int n_pts = 0;
    if (rc == CLI_OK && (n > 1 || svg))
        rc = front((const pact_plan *const *)plans, pos, n, layout, prof, baseline_s, pts, labels,
                   &n_pts);
    if (rc == CLI_OK && svg) {
        if (pact_plan_svg_save(plans[0], pts, n_pts, baseline_s, pact_cost_profile_name(prof),
                               "accuracy on the calibration images (%)", svg, &err) != PACT_OK)
            rc = cli_lib_error("report", &err, 0);
        else
            fprintf(stderr, "polyact report: %s: per-layer degrees%s\n", svg,
                    n_pts ? " and the accuracy-vs-latency front" : "");
    }
    pact_cost_layout_free(layout);
    pact_cost_profile_free(prof);
    for (int i = 0; i < n; i++)
        pact_plan_free(plans[i]);
    return rc;
}
