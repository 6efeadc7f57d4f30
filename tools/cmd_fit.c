/* polyact fit: placeholder until its issue lands. */
#include "cli.h"

int cmd_fit(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("fit", CLI_RUNTIME, "not implemented yet");
}
