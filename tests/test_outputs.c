/* Outputs are atomic and runs are reproducible, through the CLI:
 *  - calibrate twice (and with another thread count, and over an existing
 *    file) gives byte-identical calib.json; loading and saving it again too;
 *  - a failing run leaves no output and no temporary file, and an existing
 *    output untouched;
 *  - a run killed at any moment leaves the previous output or the complete
 *    new one, never a partial file;
 *  - optimize twice on a tiny configuration gives byte-identical plan.json;
 *  - export twice (each format, file and stdout) gives byte-identical text. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char model[1024], train[1024];
static int n;

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    size_t got = s ? fread(s, 1, (size_t)len, f) : 0;
    fclose(f);
    if (!s)
        return NULL;
    s[got] = '\0';
    if (size)
        *size = got;
    return s;
}

/* 1 when both files exist and hold the same bytes. */
static int same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static const char *at(const char *name)
{
    static char paths[32][512];
    static int used;
    for (int k = 0; k < used; k++)
        if (strcmp(strrchr(paths[k], '/') + 1, name) == 0)
            return paths[k];
    if (used == 32)
        return "/nonexistent/too-many-paths";
    snprintf(paths[used], sizeof paths[used], "%s/%s", dir, name);
    return paths[used++];
}

/* Files in dir other than the expected ones (temporary files left over). */
static int stray_files(const char *const *keep, int n_keep)
{
    int stray = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        int known = 0;
        for (int i = 0; i < n_keep; i++)
            known |= strcmp(e->d_name, keep[i]) == 0;
        if (!known) {
            fprintf(stderr, "stray file %s/%s\n", dir, e->d_name);
            stray++;
        }
    }
    if (d)
        closedir(d);
    return stray;
}

static int cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int cli(const char *fmt, ...)
{
    char args[8192], cmd[32768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>'%s'", pact_test_cli(), args,
             at("stderr.txt"));
    return pact_test_run(cmd, NULL, 0);
}

#define CALIBRATE "calibrate --model '%s' --data '%s' --bins 64 --chunk 16"

static void calibration(void)
{
    const char *c1 = at("c1.json"), *c2 = at("c2.json"), *c3 = at("c3.json");
    int rc1 = cli(CALIBRATE " --images 48 --threads 1 -o '%s'", model, train, c1);
    int rc2 = cli(CALIBRATE " --images 48 --threads 1 -o '%s'", model, train, c2);
    int rc3 = cli(CALIBRATE " --images 48 --threads 2 -o '%s'", model, train, c3);
    CHECK(rc1 == 0 && rc2 == 0 && rc3 == 0, "calibrate exits %d %d %d", rc1, rc2, rc3);
    CHECK(same_file(c1, c2), "two calibrations differ");
    CHECK(same_file(c1, c3), "--threads 1 and 2 give different calibrations");
    /* over an existing file (of other content): replaced, same bytes again */
    int rc = cli(CALIBRATE " --images 16 --threads 1 -o '%s'", model, train, c2);
    CHECK(rc == 0 && !same_file(c1, c2), "16 images: exit %d, file should differ", rc);
    rc = cli(CALIBRATE " --images 48 --threads 1 -o '%s'", model, train, c2);
    CHECK(rc == 0 && same_file(c1, c2), "re-run over an existing file differs (exit %d)", rc);
    /* load + save gives the same bytes */
    pact_calib *c = NULL;
    pact_error err;
    CHECK_OK(pact_calib_load(c1, &c, &err), &err);
    if (c)
        CHECK_OK(pact_calib_save(c, c3, &err), &err);
    CHECK(same_file(c1, c3), "calib.json loaded and saved again differs");
    pact_calib_free(c);
    n += 7;

    /* a failing run: no output, no temporary file; an existing output stays */
    const char *none = at("none.json");
    rc = cli(CALIBRATE " --images 8 -o '%s'", model, at("missing.bin"), none);
    CHECK(rc == 1 && access(none, F_OK) != 0, "failed calibrate: exit %d, output exists: %d", rc,
          access(none, F_OK) == 0);
    rc = cli(CALIBRATE " --images 8 -o '%s'", model, at("missing.bin"), c2);
    CHECK(rc == 1 && same_file(c1, c2), "failed calibrate over an existing file changed it");
    const char *keep[] = {"c1.json", "c2.json", "c3.json", "stderr.txt"};
    CHECK(stray_files(keep, 4) == 0, "temporary files left after the runs");
    n += 3;
}

/* Kills calibrate runs at growing delays: the existing output must always be
 * either the old file or the complete new one. */
static void interrupted(void)
{
    const char *out = at("k.json"), *old = at("k_old.json"), *fresh = at("k_new.json");
    int rc = cli(CALIBRATE " --images 16 --threads 1 -o '%s'", model, train, old);
    rc |= cli(CALIBRATE " --images 32 --threads 1 -o '%s'", model, train, fresh);
    CHECK(rc == 0, "reference calibrations");
    int olds = 0, news = 0, bad = 0;
    for (int k = 0; k < 8; k++) {
        char cp[2048];
        snprintf(cp, sizeof cp, "cp '%s' '%s'", old, out);
        if (system(cp) != 0)
            break;
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            dup2(fd, 2);
            execl(pact_test_cli(), "polyact", "calibrate", "--model", model, "--data", train,
                  "--bins", "64", "--chunk", "16", "--images", "32", "--threads", "1", "-o", out,
                  (char *)NULL);
            _exit(127);
        }
        /* 0 .. 1.4 s: before, during and (on a fast machine) after the write */
        struct timespec ts = {0, (long)k * 200000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (same_file(out, old))
            olds++;
        else if (same_file(out, fresh))
            news++;
        else
            bad++;
    }
    CHECK(bad == 0, "%d killed runs left a file that is neither the old nor the new output",
          bad);
    printf("killed calibrate 8 times: %d left the old file, %d the new one, %d anything else\n",
           olds, news, bad);
    /* SIGKILL cannot clean up: a temporary file (k.json.tmp.XXXXXX) may stay,
     * never the output itself half-written */
    char rm[1024];
    snprintf(rm, sizeof rm, "rm -f '%s'/k.json.tmp.* '%s' '%s' '%s'", dir, out, old, fresh);
    if (system(rm) != 0)
        fprintf(stderr, "cleanup failed\n");
    n++;
}

static void optimization_and_export(void)
{
    const char *p1 = at("p1.json"), *p2 = at("p2.json");
#define OPTIMIZE                                                                               \
    "optimize --model '%s' --data '%s' --images 16 --impact-images 2 --degrees 3,7 "          \
    "--floors 0.1 --max-drop 50 -o '%s'"
    int rc1 = cli(OPTIMIZE " --threads 1", model, train, p1);
    int rc2 = cli(OPTIMIZE " --threads 2", model, train, p2);
    CHECK(rc1 == 0 && rc2 == 0, "optimize exits %d %d", rc1, rc2);
    CHECK(same_file(p1, p2), "two optimizations (threads 1, 2) give different plan.json");
    n += 2;
    static const char *const formats[3] = {"openfhe", "lattigo", "c"};
    for (int f = 0; f < 3; f++) {
        const char *e1 = at("e1.out"), *e2 = at("e2.out"), *e3 = at("e3.out");
        int a = cli("export --to %s '%s' -o '%s'", formats[f], p1, e1);
        int b = cli("export --to %s '%s' -o '%s'", formats[f], p2, e2);
        char cmd[32768];
        snprintf(cmd, sizeof cmd, "'%s' export --to %s '%s' >'%s'", pact_test_cli(), formats[f],
                 p1, e3);
        int c = pact_test_run(cmd, NULL, 0);
        CHECK(a == 0 && b == 0 && c == 0 && same_file(e1, e2) && same_file(e1, e3),
              "export --to %s: exits %d %d %d, files identical %d %d", formats[f], a, b, c,
              same_file(e1, e2), same_file(e1, e3));
        /* a failing export leaves the previous file as it was */
        int d = cli("export --to %s '%s' -o '%s'", formats[f], at("missing_plan.json"), e1);
        CHECK(d == 1 && same_file(e1, e2), "failed export over an existing file changed it");
        n += 2;
    }
    const char *keep[] = {"p1.json", "p2.json", "e1.out", "e2.out", "e3.out", "stderr.txt",
                          "c1.json", "c2.json", "c3.json"};
    CHECK(stray_files(keep, 9) == 0, "temporary files left after optimize/export");
    n++;
}

int main(void)
{
    const char *m = pact_test_data("models/resnet20.safetensors");
    if (m)
        snprintf(model, sizeof model, "%s", m);
    const char *t = pact_test_data("data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    if (t)
        snprintf(train, sizeof train, "%s", t);
    CHECK(m && t, "shared data missing");
    strcpy(dir, "/tmp/pact_outputs_XXXXXX");
    if (!m || !t || !mkdtemp(dir))
        return pact_test_done("test_outputs", 0);
    calibration();
    interrupted();
    optimization_and_export();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return pact_test_done("test_outputs", n);
}
