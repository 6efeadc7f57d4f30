/* polyact export: a plan as OpenFHE / Lattigo JSON or a self-contained C header. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "usage: polyact export --to openfhe|lattigo|c PLAN.json [-o FILE] [--folded] [--prefix NAME]\n"
    "\n"
    "Writes every layer of PLAN.json in the conventions of the target (to stdout\n"
    "without -o; with -o the file is replaced atomically, never left partial):\n"
    "  openfhe  JSON: per layer the coeffs, a, b of EvalChebyshevSeries (coeffs[0] is\n"
    "           twice the constant term, as OpenFHE halves it), composite components\n"
    "           in order with the final product, and the levels OpenFHE consumes\n"
    "  lattigo  JSON: per layer the coeffs and interval of bignum.NewPolynomial(\n"
    "           bignum.Chebyshev, ...), its change of basis and levels\n"
    "  c        a C header: static const coefficient arrays and inline evaluation\n"
    "Per-channel layers (optimize --per-channel) are written per channel: openfhe one\n"
    "series per channel, lattigo the polynomials of one PolynomialVector (one degree),\n"
    "c one part per channel evaluated by <prefix>_layer_eval_channel; folded, the\n"
    "input map holds one scale and shift per channel.\n"
    "\n"
    "options:\n"
    "  --to FORMAT    openfhe, lattigo or c (required)\n"
    "  -o, --output FILE\n"
    "  --folded       (openfhe, lattigo) every series on exactly [-1, 1]: the input map\n"
    "                 y = scale * x + shift is to be folded into the preceding linear\n"
    "                 layer (one level saved per series); see the header polyact.h\n"
    "  --prefix NAME  (c) prefix of the header's identifiers (default pact)\n"
    "\n"
    "exit status: 0 success, 1 runtime error, 2 usage error\n";

int cmd_export(int argc, char **argv)
{
    const char *to = NULL, *output = NULL, *prefix = NULL, *pos[1] = {NULL};
    int folded = 0;
    const cli_option opts[] = {
        {"to", &to, NULL},
        {"output", &output, NULL},
        {"prefix", &prefix, NULL},
        {"folded", NULL, &folded},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse("export", argc, argv, opts, pos, 1, usage);
    if (rc != CLI_OK)
        return rc;
    if (!to)
        return cli_error("export", CLI_USAGE, "--to openfhe|lattigo|c is required (see --help)");
    if (!pos[0])
        return cli_error("export", CLI_USAGE, "no plan file given (see --help)");
    if ((rc = cli_check_output("export", "-o", output, pos, 1)) != CLI_OK)
        return rc;
    pact_error err;
    pact_export_format format;
    if (pact_export_format_from_name(to, &format, &err) != PACT_OK)
        return cli_lib_error("export", &err, 1);
    if (folded && format == PACT_EXPORT_C)
        return cli_error("export", CLI_USAGE, "--folded is for openfhe and lattigo, not c");
    if (prefix && format != PACT_EXPORT_C)
        return cli_error("export", CLI_USAGE, "--prefix is for --to c only");
    pact_export_opts eo;
    pact_export_opts_default(&eo);
    eo.folded = folded;
    eo.c_prefix = prefix;

    pact_plan *plan = NULL;
    if (pact_plan_load(pos[0], &plan, &err) != PACT_OK)
        return cli_lib_error("export", &err, 0);
    pact_status st;
    if (output) {
        st = pact_export_save(plan, format, &eo, output, &err);
    } else {
        char *text = NULL;
        st = pact_export(plan, format, &eo, &text, &err);
        if (st == PACT_OK && (fputs(text, stdout) == EOF || fflush(stdout) != 0)) {
            free(text);
            pact_plan_free(plan);
            return cli_error("export", CLI_RUNTIME, "cannot write to standard output");
        }
        free(text);
    }
    pact_plan_free(plan);
    return st == PACT_OK ? CLI_OK : cli_lib_error("export", &err, 1);
}
