/* libFuzzer target: the polyact CLI's real main() on an argument vector cut
 * from the input at NUL bytes (argv[0] = "polyact"). Every subcommand's
 * option parsing, number/range/list/spec parsing and usage errors run as in
 * the shipped binary.
 *
 * Inputs must not touch real files or run long computations: an argument
 * that names an existing path is replaced by a path that cannot exist, so
 * every model, data, plan, calibration and profile fails to open (and no
 * output is ever written: every command reads its inputs first); `fit` is
 * kept to degree <= 16 and no composite, `cost` to ResNets of depth <= 56.
 * The CLI's contract is checked too: exit status 0, 1 or 2, nothing on
 * stderr on success, exactly one line "polyact ..." on stderr for any error
 * (stdout and stderr are captured in memory for that). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define main polyact_main
#include "polyact.c"
#undef main

#define MAX_ARGS 32

/* The digits after "--degree", "--degree=" or "--model-depth(=)": 1 when
 * one of them is a number above `limit` (or not a plain number at all, so
 * that strtol's reading cannot differ from the CLI's). */
static int over(int argc, char **argv, const char *flag, long limit)
{
    size_t len = strlen(flag);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], flag) == 0 && i + 1 < argc)
            v = argv[i + 1];
        else if (strncmp(argv[i], flag, len) == 0 && argv[i][len] == '=')
            v = argv[i] + len + 1;
        if (v) {
            char *end;
            long x = strtol(v, &end, 10);
            if (x > limit || end == v)
                return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "polyact";
    for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    static char missing[] = "/nonexistent-polyact-fuzz/x";
    for (int i = 1; i < argc; i++)
        if (argv[i][0] && access(argv[i], F_OK) == 0)
            argv[i] = missing;
    int skip = 0;
    if (argc > 1 && strcmp(argv[1], "fit") == 0) {
        skip = over(argc, argv, "--degree", 16);
        for (int i = 2; i < argc; i++)
            skip |= strstr(argv[i], "composite") != NULL;
    }
    if (argc > 1 && strcmp(argv[1], "cost") == 0)
        skip = over(argc, argv, "--model-depth", 56);
    if (!skip) {
        char *out = NULL, *errs = NULL;
        size_t out_len = 0, errs_len = 0;
        FILE *real_out = stdout, *real_err = stderr;
        FILE *o = open_memstream(&out, &out_len), *e = open_memstream(&errs, &errs_len);
        if (o && e) {
            stdout = o;
            stderr = e;
            int rc = polyact_main(argc, argv);
            stdout = real_out;
            stderr = real_err;
            fclose(o);
            fclose(e);
            o = e = NULL;
            FUZZ_ASSERT(rc == 0 || rc == 1 || rc == 2, "exit status %d", rc);
            size_t lines = 0;
            for (size_t i = 0; i < errs_len; i++)
                lines += errs[i] == '\n';
            if (rc == 0)
                FUZZ_ASSERT(errs_len == 0, "success, but stderr says '%s'", errs);
            else if (argc > 1) /* bare `polyact` prints the usage */
                FUZZ_ASSERT(lines == 1 && errs[errs_len - 1] == '\n' &&
                                strncmp(errs, "polyact", 7) == 0,
                            "exit %d with %zu stderr lines: '%s'", rc, lines, errs);
        }
        if (o)
            fclose(o);
        if (e)
            fclose(e);
        free(out);
        free(errs);
    }
    free(buf);
    return 0;
}
