/* Option parsing and error printing shared by the subcommands. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cli_backend.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_error(const char *cmd, int code, const char *fmt, ...)
{
    if (!cli_backend_root()) /* under MPI, rank 0 speaks for the job */
        return code;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* arguments are quoted in messages: no control character may split the
     * one line or reach the terminal */
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    fprintf(stderr, "polyact %s: %s\n", cmd, msg);
    return code;
}

int cli_lib_error(const char *cmd, const pact_error *err, int einval_is_usage)
{
    int code = (einval_is_usage && err->status == PACT_EINVAL) ? CLI_USAGE : CLI_RUNTIME;
    const char *msg = err->message[0] ? err->message : pact_status_str(err->status);
    /* library messages name their stage ("optimize: ..."); the line already
     * starts with "polyact <cmd>: ", so drop a repeat of it */
    size_t n = strlen(cmd);
    if (strncmp(msg, cmd, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    return cli_error(cmd, code, "%s", msg);
}

static const cli_option *find_option(const cli_option *opts, const char *name, size_t len)
{
    for (const cli_option *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_option *opts,
              const char **positional, int max_pos, const char *usage)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            return CLI_HELP;
        }
        if (strcmp(arg, "-o") == 0)
            arg = "--output";
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (npos >= max_pos)
                return cli_error(cmd, CLI_USAGE, "unexpected argument '%s' (see --help)", arg);
            positional[npos++] = arg;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_option *o = find_option(opts, name, len);
        if (!o)
            return cli_error(cmd, CLI_USAGE, "unknown option '--%.*s' (see --help)", (int)len, name);
        if (o->flag) {
            if (eq)
                return cli_error(cmd, CLI_USAGE, "option '--%s' takes no value", o->name);
            *o->flag = 1;
            continue;
        }
        if (eq) {
            *o->value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_error(cmd, CLI_USAGE, "option '--%s' needs a value", o->name);
            *o->value = argv[++i];
        }
    }
    return CLI_OK;
}

int cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return cli_error(cmd, CLI_USAGE, "--%s: '%s' is not an integer", flag, s);
    if (v < lo || v > hi)
        return cli_error(cmd, CLI_USAGE, "--%s: %ld is outside %ld..%ld", flag, v, lo, hi);
    *out = v;
    return CLI_OK;
}

int cli_double(const char *cmd, const char *flag, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v))
        return cli_error(cmd, CLI_USAGE, "--%s: '%s' is not a finite number", flag, s);
    *out = v;
    return CLI_OK;
}

int cli_range(const char *cmd, const char *flag, const char *s, double *a, double *b)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || end == s || *end != ',')
        return cli_error(cmd, CLI_USAGE, "--%s: '%s' is not A,B", flag, s);
    const char *rest = end + 1;
    double y = strtod(rest, &end);
    if (errno || end == rest || *end != '\0')
        return cli_error(cmd, CLI_USAGE, "--%s: '%s' is not A,B", flag, s);
    if (!isfinite(x) || !isfinite(y) || !(x < y))
        return cli_error(cmd, CLI_USAGE, "--%s: need finite A < B, got %s", flag, s);
    *a = x;
    *b = y;
    return CLI_OK;
}

int cli_stderr_is_tty(void)
{
    return isatty(2);
}

int cli_check_output(const char *cmd, const char *flag, const char *output,
                     const char *const *inputs, int n)
{
    struct stat so;
    if (!output || stat(output, &so) != 0)
        return CLI_OK; /* a new file clobbers nothing */
    for (int i = 0; i < n; i++) {
        struct stat si;
        if (inputs[i] && stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev &&
            si.st_ino == so.st_ino)
            return cli_error(cmd, CLI_USAGE, "%s %s is the input %s: write the output elsewhere",
                             flag, output, inputs[i]);
    }
    return CLI_OK;
}
