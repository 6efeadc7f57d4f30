/* Replays files through a fuzz target's LLVMFuzzerTestOneInput, without
 * libFuzzer: the normal and sanitizer builds run every target on its seeds
 * and on the inputs that once crashed or hung it (tests/fuzz/regressions/),
 * so a fixed crash stays fixed. The target aborts on any broken invariant
 * (tests/fuzz/fuzz_check.h); the sanitizers report memory errors and leaks.
 * Usage: replay_<target> DIR... (every regular file, in name order). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 0;
    }
    size_t cap = 4096, n = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return 0;
    }
    /* an exact-size copy, so that ASan sees reads past the input's end */
    unsigned char *exact = malloc(n ? n : 1);
    if (exact)
        memcpy(exact, buf, n);
    free(buf);
    if (!exact)
        return 0;
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    clock_t t0 = clock();
    LLVMFuzzerTestOneInput(exact, n);
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    free(exact);
    if (s > 10.0) {
        fprintf(stderr, "replay: %s took %.1f s (a hang the fuzzer reported?)\n", path, s);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    int files = 0, ok = 1;
    /* absolute folders: a target may change the working folder (fuzz_cli) */
    char **abs = calloc((size_t)argc, sizeof *abs);
    for (int i = 1; abs && i < argc; i++)
        if ((abs[i] = realpath(argv[i], NULL)) != NULL)
            argv[i] = abs[i];
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) { /* git keeps no empty folder: a target without regressions */
            fprintf(stderr, "replay: no directory %s (nothing to replay there)\n", argv[i]);
            continue;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            if (n == cap) {
                char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
                if (!nn)
                    break;
                names = nn;
            }
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
        if (n)
            qsort(names, n, sizeof *names, by_name);
        for (size_t k = 0; k < n; k++) {
            char path[4096];
            struct stat sb;
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
            if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
                ok &= replay_file(path);
                files++;
            }
            free(names[k]);
        }
        free(names);
    }
    for (int i = 1; abs && i < argc; i++)
        free(abs[i]);
    free(abs);
    if (files == 0) {
        fprintf(stderr, "replay: no input files\n");
        return 1;
    }
    printf("replay: %d inputs %s\n", files, ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
}
