/* polyact calibrate: placeholder until its issue lands. */
#include "cli.h"

int cmd_calibrate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("calibrate", CLI_RUNTIME, "not implemented yet");
}
