/* Whole-file reads and error filling for the CLI's backends. */
#define _POSIX_C_SOURCE 200809L
#include "cli_backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

pact_status cli_fail(pact_error *err, pact_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

pact_status cli_read_local_file(const char *path, size_t max_size, char **data, size_t *size,
                                pact_error *err)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_fail(err, PACT_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return cli_fail(err, PACT_EIO, "%s: not a regular file", path);
    }
    if ((unsigned long long)sb.st_size > (unsigned long long)max_size) {
        fclose(f);
        return cli_fail(err, PACT_EFORMAT, "%s: %lld bytes, more than the %zu allowed", path,
                        (long long)sb.st_size, max_size);
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return cli_fail(err, PACT_ENOMEM, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f) || got != n;
    fclose(f);
    if (bad) {
        free(buf);
        return cli_fail(err, PACT_EIO, "%s: read %zu of %zu bytes", path, got, n);
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return PACT_OK;
}
