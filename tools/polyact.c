/* polyact: the command-line front end. Each subcommand lives in cmd_<name>.c. */
#include "cli.h"
#include "cli_backend.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"fit", cmd_fit, "fit a polynomial to an activation function on an interval"},
    {"calibrate", cmd_calibrate, "measure each activation layer's input distribution"},
    {"eval", cmd_eval, "accuracy of the network or of its polynomial version (PANN)"},
    {"optimize", cmd_optimize, "the cheapest per-layer plan under HE that keeps the accuracy"},
    {"report", cmd_report, "a plan's per-layer table and HE cost"},
    {"sweep", cmd_sweep, "accuracy vs precision 2^-alpha: uniform composite vs per-layer fits"},
    {"cost", cmd_cost, "HE cost of a uniform plan on a CIFAR ResNet, op by op"},
    {"export", cmd_export, "a plan for OpenFHE, Lattigo or as a C header"},
    {"merge", cmd_merge, "combine the partial results of calibrate/eval/optimize --shard I/N"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: polyact <command> [options]   (polyact <command> --help)\n\n"
                 "post-training polynomial approximation of activation functions\n"
                 "for private inference (CKKS / MPC). Version " PACT_VERSION_STRING ".\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nexit status: 0 success, 1 runtime error, 2 usage error\n");
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("polyact " PACT_VERSION_STRING "\n");
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int rc = commands[i].run(argc - 1, argv + 1);
            return rc == CLI_HELP ? CLI_OK : rc;
        }
    char name[64]; /* quoted: no control character may split the line */
    snprintf(name, sizeof name, "%s", argv[1]);
    for (char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    fprintf(stderr, "polyact: unknown command '%s' (see polyact --help)\n", name);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    int rc = cli_backend_init(&argc, &argv);
    if (rc >= 0)
        return rc;
    return cli_backend_finish(run(argc, argv));
}
