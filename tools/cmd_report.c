/* polyact report: a plan's per-layer table and its HE cost. */
#include "cli_nn.h"
#include "plan_table.h"

#include <stdio.h>

static const char usage[] =
    "usage: polyact report plan.json [--cost PROFILE.json] [--model M]\n"
    "\n"
    "Prints the plan's per-layer table (layer, interval, degree, depth, max error,\n"
    "impact, input level, bootstrappings placed before it) and the totals under the\n"
    "cost profile (default: the built-in mpcnn-log), with the speed-up over the\n"
    "plan's uniform baseline (alpha=13 composite; degree 63 for GELU/SiLU networks)\n"
    "under the same profile.\n"
    "\n"
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

int cmd_report(int argc, char **argv)
{
    const char *cost_s = NULL, *model = NULL, *mean = NULL, *std = NULL, *pos[1] = {NULL};
    const cli_option opts[] = {{"cost", &cost_s, NULL},
                               {"model", &model, NULL},
                               {"input-mean", &mean, NULL},
                               {"input-std", &std, NULL},
                               {NULL, NULL, NULL}};
    int rc = cli_parse("report", argc, argv, opts, pos, 1, usage);
    if (rc != CLI_OK)
        return rc;
    if (!pos[0])
        return cli_error("report", CLI_USAGE, "which plan.json? (see --help)");
    pact_error err;
    pact_plan *plan = NULL;
    if (pact_plan_load(pos[0], &plan, &err) != PACT_OK)
        return cli_lib_error("report", &err, 0);
    pact_cost_profile *prof = NULL;
    pact_cost_layout *layout = NULL;
    rc = load_layout(cost_s, model, mean, std, plan, &prof, &layout);
    if (rc == CLI_OK) {
        printf("plan %s for %s\n", pos[0], pact_plan_model_name(plan));
        rc = cli_print_plan_table("report", stdout, plan, layout, prof);
    }
    pact_cost_layout_free(layout);
    pact_cost_profile_free(prof);
    pact_plan_free(plan);
    return rc;
}
