/* polyact export on the command line: writes what the library exports (file or
 * stdout; per-channel plans too), --help exits 0, usage errors exit 2, runtime
 * errors exit 1, every error is one line on stderr and no output file (nor
 * temporary) is left. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n;
static char dir[] = "/tmp/pact_test_export_cli_XXXXXX";
static char out[1 << 20];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = malloc(1 << 20);
    size_t len = s ? fread(s, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (s)
        s[len] = '\0';
    return s;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Files in the test folder (to see that nothing was left behind). */
static int count_files(void)
{
    DIR *d = opendir(dir);
    int count = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        count += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return count;
}

/* Runs `polyact export ARGS` in the test folder; stdout to `out`, stderr to err.txt. */
static const char *path_of(const char *name)
{
    static char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' export %s 2>err.txt", dir, pact_test_cli(), args);
    return pact_test_run(cmd, out, sizeof out);
}

static int stderr_lines(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/err.txt", dir);
    char *e = slurp(path);
    int lines = 0;
    for (const char *p = e; p && *p; p++)
        lines += *p == '\n';
    int ok = e && (!e[0] || e[strlen(e) - 1] == '\n');
    free(e);
    remove(path);
    return ok ? lines : -1;
}

/* A failing run: exit code, one line on stderr, no out file, no new files. */
static void expect_fail(const char *args, int code)
{
    int before = count_files();
    int rc = run(args);
    int lines = stderr_lines();
    char path[600];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    CHECK(rc == code, "'export %s': exit %d, expected %d", args, rc, code);
    CHECK(lines == 1, "'export %s': %d lines on stderr, expected 1", args, lines);
    CHECK(access(path, F_OK) != 0 && count_files() == before,
          "'export %s' left a file behind", args);
    CHECK(out[0] == '\0', "'export %s' printed on stdout: %.80s", args, out);
    n += 4;
}

/* A successful run writing out.txt (or stdout when `to_stdout`), compared with
 * the library's text for the same options. */
static void expect_same(const pact_plan *plan, const char *args, int to_stdout,
                        pact_export_format f, int folded, const char *prefix)
{
    pact_export_opts o;
    pact_export_opts_default(&o);
    o.folded = folded;
    o.c_prefix = prefix;
    char *want = NULL;
    pact_error err;
    CHECK_OK(pact_export(plan, f, &o, &want, &err), &err);
    int rc = run(args);
    int lines = stderr_lines();
    char path[600];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    char *got = to_stdout ? NULL : slurp(path);
    const char *text = to_stdout ? out : got;
    CHECK(rc == 0 && lines == 0, "'export %s': exit %d, %d stderr lines", args, rc, lines);
    CHECK(want && text && strcmp(text, want) == 0, "'export %s' differs from pact_export", args);
    n += 3;
    free(want);
    free(got);
    remove(path);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_create("cli-net", "abcd", 2, &plan, &err), &err);
    n++;
    if (!plan)
        return pact_test_done("test_export_cli", n);
    double c0[4] = {0.5, 1.0, 0.25, 0.0};
    const double *c0p[1] = {c0};
    int d0[1] = {3};
    pact_plan_layer l0 = {.name = "act0", .func = PACT_GELU, .form = PACT_FORM_POLY, .a = -2,
                          .b = 5, .n_parts = 1, .degrees = d0, .cheb = c0p, .max_error = NAN,
                          .impact = NAN};
    double c1[4] = {0, 1.125, 0, -0.125};
    const double *c1p[1] = {c1};
    double pa[1] = {-1}, pb[1] = {1};
    pact_plan_layer l1 = {.name = "act1", .func = PACT_RELU, .form = PACT_FORM_COMPOSITE,
                          .a = -6, .b = 6, .bound = 6, .n_parts = 1, .degrees = d0,
                          .part_a = pa, .part_b = pb, .cheb = c1p, .max_error = NAN,
                          .impact = NAN};
    CHECK_OK(pact_plan_set_layer(plan, 0, &l0, &err), &err);
    CHECK_OK(pact_plan_set_layer(plan, 1, &l1, &err), &err);
    char path[600];
    snprintf(path, sizeof path, "%s/plan.json", dir);
    CHECK_OK(pact_plan_save(plan, path, &err), &err);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_text(path, "{\"format\": \"polyact-plan\", \"version\": 1, \"layers\": [");
    snprintf(path, sizeof path, "%s/other.json", dir);
    write_text(path, "{\"format\": \"something-else\", \"version\": 1}");
    n += 3;

    int rc = run("--help");
    CHECK(rc == 0 && strstr(out, "usage: polyact export") && stderr_lines() == 0,
          "--help: exit %d, stdout '%.60s'", rc, out);
    n++;

    expect_same(plan, "--to openfhe plan.json -o out.txt", 0, PACT_EXPORT_OPENFHE, 0, NULL);
    expect_same(plan, "--to=openfhe --folded plan.json --output out.txt", 0, PACT_EXPORT_OPENFHE, 1, NULL);
    expect_same(plan, "--to lattigo plan.json", 1, PACT_EXPORT_LATTIGO, 0, NULL);
    expect_same(plan, "plan.json --folded --to lattigo -o out.txt", 0, PACT_EXPORT_LATTIGO, 1, NULL);
    expect_same(plan, "--to c plan.json", 1, PACT_EXPORT_C, 0, NULL);
    expect_same(plan, "--to c --prefix resnet plan.json -o out.txt", 0, PACT_EXPORT_C, 0, "resnet");

    /* a plan.json version 2 with a per-channel layer, in every format */
    pact_plan *chan = NULL;
    CHECK_OK(pact_plan_create("cli-net", "abcd", 1, &chan, &err), &err);
    n++;
    double ca[2] = {-1.5, 0.0}, cb[2] = {2.5, 1.0}, r0[4] = {0.5, 1.0, 0.25, 0.0},
           r1[4] = {-0.25, 0.5, 0.0, 0.125};
    const double *rows[2] = {r0, r1};
    pact_plan_layer lc = {.name = "act0", .func = PACT_SILU, .form = PACT_FORM_POLY,
                          .n_parts = 1, .degrees = d0, .n_channels = 2, .channel_a = ca,
                          .channel_b = cb, .channel_cheb = rows, .max_error = NAN,
                          .impact = NAN};
    snprintf(path, sizeof path, "%s/chan.json", dir);
    if (chan) {
        CHECK_OK(pact_plan_set_layer(chan, 0, &lc, &err), &err);
        CHECK_OK(pact_plan_save(chan, path, &err), &err);
        n += 2;
        expect_same(chan, "--to openfhe chan.json -o out.txt", 0, PACT_EXPORT_OPENFHE, 0, NULL);
        expect_same(chan, "--to openfhe --folded chan.json", 1, PACT_EXPORT_OPENFHE, 1, NULL);
        expect_same(chan, "--to lattigo chan.json -o out.txt", 0, PACT_EXPORT_LATTIGO, 0, NULL);
        expect_same(chan, "--to lattigo --folded chan.json", 1, PACT_EXPORT_LATTIGO, 1, NULL);
        expect_same(chan, "--to c --prefix net chan.json -o out.txt", 0, PACT_EXPORT_C, 0, "net");
    }
    pact_plan_free(chan);

    /* usage errors: exit 2 */
    expect_fail("--to seal plan.json -o out.txt", 2);
    expect_fail("plan.json -o out.txt", 2);
    expect_fail("--to openfhe -o out.txt", 2);
    expect_fail("--to openfhe --bogus plan.json -o out.txt", 2);
    expect_fail("--to openfhe plan.json extra.json -o out.txt", 2);
    expect_fail("--to c --folded plan.json -o out.txt", 2);
    expect_fail("--to openfhe --prefix x plan.json -o out.txt", 2);
    expect_fail("--to c --prefix 9bad plan.json -o out.txt", 2);
    expect_fail("--to openfhe --folded=1 plan.json -o out.txt", 2);
    expect_fail("--to", 2);
    /* -o naming the plan itself (any spelling) would replace the plan by its export */
    char *before = slurp(path_of("plan.json"));
    expect_fail("--to openfhe plan.json -o ./plan.json", 2);
    char *after = slurp(path_of("plan.json"));
    CHECK(before && after && strcmp(before, after) == 0, "export -o ./plan.json changed plan.json");
    n++;
    free(before);
    free(after);

    /* runtime errors: exit 1 */
    expect_fail("--to openfhe missing.json -o out.txt", 1);
    expect_fail("--to lattigo bad.json -o out.txt", 1);
    expect_fail("--to c other.json -o out.txt", 1);
    expect_fail("--to openfhe plan.json -o no/such/dir/out.txt", 1);

    /* the message names the file at fault */
    run("--to openfhe bad.json -o out.txt");
    snprintf(path, sizeof path, "%s/err.txt", dir);
    char *msg = slurp(path);
    CHECK(msg && strstr(msg, "bad.json") && strncmp(msg, "polyact export: ", 16) == 0,
          "error message '%s'", msg ? msg : "(none)");
    free(msg);
    n++;

    pact_plan_free(plan);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    pact_test_run(cmd, NULL, 0);
    return pact_test_done("test_export_cli", n);
}
