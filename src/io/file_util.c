#define _POSIX_C_SOURCE 200809L
#include "file_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

pact_status pact_read_file(const char *path, size_t max_size, char **data, size_t *size,
                           pact_error *err)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return pact_fail(err, PACT_EIO, "%s: cannot open: %s", path, strerror(errno));
    /* files and pipes; not a directory, nor a device that never ends (/dev/zero) */
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !(S_ISREG(sb.st_mode) || S_ISFIFO(sb.st_mode))) {
        int dir = S_ISDIR(sb.st_mode);
        fclose(f);
        return pact_fail(err, PACT_EIO, "%s: %s", path,
                         dir ? "is a directory, not a file" : "not a regular file or pipe");
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap >= max_size) {
            free(buf);
            fclose(f);
            return pact_fail(err, PACT_EFORMAT, "%s: larger than %zu bytes", path, max_size);
        }
        size_t ncap = cap * 2 > max_size ? max_size : cap * 2;
        char *nb = realloc(buf, ncap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap = ncap;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory reading the file", path);
    if (bad) {
        free(buf);
        return pact_fail(err, PACT_EIO, "%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return PACT_OK;
}

pact_status pact_write_file_atomic(const char *path, const void *data, size_t size,
                                   pact_error *err)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        pact_status st = pact_fail(err, PACT_EIO, "%s: cannot create a temporary file beside it: %s",
                                   path, strerror(errno));
        free(tmp);
        return st;
    }
    /* mkstemp makes the file private; outputs are ordinary readable files. */
    int ok = fchmod(fd, 0644) == 0;
    const char *p = data;
    size_t left = size;
    while (ok && left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = 0;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    int saved = errno;
    if (ok && fsync(fd) != 0) {
        ok = 0;
        saved = errno;
    }
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return pact_fail(err, PACT_EIO, "%s: cannot write: %s", path, strerror(saved));
    }
    free(tmp);
    return PACT_OK;
}
