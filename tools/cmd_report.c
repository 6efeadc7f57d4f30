/* polyact report: a plan's per-layer table and its HE cost. */
#include "plan_table.h"

#include <stdio.h>

static const char usage[] =
    "usage: polyact report plan.json [--cost PROFILE.json]\n"
    "\n"
    "Prints the plan's per-layer table (layer, interval, degree, depth, max error,\n"
    "impact, input level, bootstrappings placed before it) and the totals under the\n"
    "cost profile (default: the built-in mpcnn-log), with the speed-up over the\n"
    "uniform alpha=13 composite baseline under the same profile.\n"
    "\n"
    "Exit 0 success, 1 runtime error, 2 usage error.\n";

int cmd_report(int argc, char **argv)
{
    const char *cost_s = NULL, *pos[1] = {NULL};
    const cli_option opts[] = {{"cost", &cost_s, NULL}, {NULL, NULL, NULL}};
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
    rc = cli_load_cost("report", cost_s, pact_plan_model_name(plan), &prof, &layout);
    if (rc == CLI_OK) {
        printf("plan %s for %s\n", pos[0], pact_plan_model_name(plan));
        rc = cli_print_plan_table("report", stdout, plan, layout, prof);
    }
    pact_cost_layout_free(layout);
    pact_cost_profile_free(prof);
    pact_plan_free(plan);
    return rc;
}
