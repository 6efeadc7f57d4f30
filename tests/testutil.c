#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int pact_test_failures = 0;

int pact_test_done(const char *name, int checks_run)
{
    if (pact_test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, pact_test_failures);
        return 1;
    }
    if (checks_run <= 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, checks_run);
    return 0;
}

const char *pact_test_data(const char *rel)
{
    static char path[4096];
    const char *root = getenv("POLYACT_DATA");
    if (!root || !*root) {
        fprintf(stderr, "POLYACT_DATA is not set\n");
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "missing data file %s\n", path);
        return NULL;
    }
    fclose(f);
    return path;
}

const char *pact_test_cli(void)
{
    const char *cli = getenv("POLYACT_CLI");
    return cli && *cli ? cli : "polyact";
}

int pact_test_run(const char *cmd, char *out, size_t out_size)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = 0;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) {
        if (out && n + 1 < out_size) {
            size_t take = got < out_size - 1 - n ? got : out_size - 1 - n;
            memcpy(out + n, buf, take);
            n += take;
        }
    }
    if (out && out_size)
        out[n] = '\0';
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int pact_test_write_cifar(const char *path, int images, unsigned a, unsigned b, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    unsigned s = seed;
    for (int i = 0; i < images; i++) {
        fputc(i % 10, f);
        for (unsigned k = 0; k < 3072; k++) {
            if (seed) {
                s = s * 1103515245u + 12345u;
                fputc((int)((s >> 16) & 0xff), f);
            } else {
                fputc((int)((k * a + (unsigned)i * b) & 0xff), f);
            }
        }
    }
    return fclose(f) == 0;
}
