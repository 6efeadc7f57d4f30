/* The per-layer table of a plan (polyact optimize and polyact report). */
#ifndef PACT_PLAN_TABLE_H
#define PACT_PLAN_TABLE_H

#include "cli.h"

#include <stdio.h>

/* Depth N of a CIFAR ResNet from a model name "resnetN"; 0 if it is not one. */
int cli_resnet_depth(const char *model_name);

/* Loads the cost profile (path NULL: the default) and the model's layout.
 * Prints one line and returns CLI_RUNTIME/CLI_USAGE on failure. */
int cli_load_cost(const char *cmd, const char *profile_path, const char *model_name,
                  pact_cost_profile **profile, pact_cost_layout **layout);

/* Loads the cost profile (path NULL: the default) and the layout of `net`
 * derived from its graph (pact_net_cost_layout). Prints one line and returns
 * CLI_RUNTIME/CLI_USAGE on failure. */
int cli_load_cost_net(const char *cmd, const char *profile_path, const pact_net *net,
                      pact_cost_profile **profile, pact_cost_layout **layout);

/* Prints the plan's per-layer table and totals under `profile` to out, and
 * the speed-up over the plan's baseline (its note "baseline"; else
 * composite:alpha=13 for ReLU networks, degree:63 for others); *baseline_s
 * (optional) gets that baseline's latency in seconds. */
int cli_print_plan_table(const char *cmd, FILE *out, const pact_plan *plan,
                         const pact_cost_layout *layout, const pact_cost_profile *profile,
                         double *baseline_s);

#endif
