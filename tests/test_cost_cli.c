/* polyact cost: exit codes, one-line errors, --json content against the
 * MPCNN log (read here), speed-ups named with their profile. */
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0;
static char out[1 << 20];

static int run(const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' cost %s", pact_test_cli(), args);
    return pact_test_run(cmd, out, sizeof out);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static double log_total_ms(void)
{
    const char *path = pact_test_data("he/mpcnn-resnet20-log.json");
    if (!path)
        return NAN;
    FILE *f = fopen(path, "rb");
    static char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    cJSON *root = cJSON_Parse(buf);
    double t = root ? cJSON_GetObjectItem(root, "total_ms")->valuedouble : NAN;
    cJSON_Delete(root);
    return t;
}

int main(void)
{
    const char *src = getenv("POLYACT_SOURCE");
    double log_total = log_total_ms();
    CHECK(src && isfinite(log_total), "POLYACT_SOURCE and the MPCNN log are required");
    checks++;

    CHECK(run("--help") == 0 && strstr(out, "usage: polyact cost"), "--help: %s", out);
    checks++;

    int rc = run("--json");
    cJSON *j = cJSON_Parse(out);
    CHECK(rc == 0 && j, "--json: exit %d, output parses %d", rc, j != NULL);
    if (j) {
        const cJSON *ops = cJSON_GetObjectItem(j, "ops");
        int boots = cJSON_GetObjectItem(j, "bootstraps")->valueint;
        double total = cJSON_GetObjectItem(j, "total_ms")->valuedouble;
        CHECK(strcmp(cJSON_GetObjectItem(j, "profile")->valuestring, "mpcnn-log") == 0,
              "profile %s", cJSON_GetObjectItem(j, "profile")->valuestring);
        CHECK(boots == 18 && cJSON_GetArraySize(ops) == 79, "bootstraps %d (18), ops %d (79)",
              boots, cJSON_GetArraySize(ops));
        CHECK(fabs(total / log_total - 1) < 0.05, "total %.0f ms, log %.0f ms", total, log_total);
        CHECK(!cJSON_GetObjectItem(j, "baseline"), "the baseline itself has no speed-up");
        checks += 4;
    }
    cJSON_Delete(j);

    char args[4096];
    snprintf(args, sizeof args,
             "--model-depth 32 --uniform degree:3 --cost '%s/data/profiles/openfhe-n16-2core.json' "
             "--json",
             src ? src : ".");
    rc = run(args);
    j = cJSON_Parse(out);
    CHECK(rc == 0 && j, "openfhe --json: exit %d", rc);
    if (j) {
        const cJSON *b = cJSON_GetObjectItem(j, "baseline");
        double total = cJSON_GetObjectItem(j, "total_ms")->valuedouble;
        double bt = b ? cJSON_GetObjectItem(b, "total_ms")->valuedouble : NAN;
        double sp = b ? cJSON_GetObjectItem(b, "speedup")->valuedouble : NAN;
        CHECK(strcmp(cJSON_GetObjectItem(j, "profile")->valuestring, "openfhe-n16-2core") == 0 &&
                  cJSON_GetObjectItem(j, "model_depth")->valueint == 32,
              "profile/model in JSON");
        CHECK(b && fabs(sp - bt / total) < 1e-9 && sp > 1.0, "speed-up %g, %g / %g", sp, bt, total);
        checks += 2;
    }
    cJSON_Delete(j);

    rc = run("--uniform degree:7");
    CHECK(rc == 0 && strstr(out, "speed-up vs uniform composite:alpha=13") &&
              strstr(out, "profile mpcnn-log: "),
          "text speed-up line must name the profile: %s", out);
    checks++;

    static const struct {
        const char *args;
        int code;
    } bad[] = {{"--model-depth 21", 2},       {"--model-depth x", 2},
               {"--uniform degree:0", 2},     {"--uniform relu", 2},
               {"--cost /nonexistent.json", 1}, {"--frobnicate", 2},
               {"extra", 2},                  {"--uniform composite:27,27,27,27", 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char a[512];
        snprintf(a, sizeof a, "%s 2>&1 >/dev/null", bad[i].args);
        rc = run(a);
        CHECK(rc == bad[i].code && lines(out) == 1 && strncmp(out, "polyact cost: ", 14) == 0,
              "'%s': exit %d (expected %d), stderr '%s'", bad[i].args, rc, bad[i].code, out);
        checks++;
    }
    return pact_test_done("test_cost_cli", checks);
}
