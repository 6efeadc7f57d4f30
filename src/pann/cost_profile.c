/* HE cost profiles: loading, the compiled-in default, calibration of the
 * polynomial cost, accessors. */
#define _POSIX_C_SOURCE 200809L
#include "cost_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROFILE_FILE_MAX (1L << 20)

double pact_cost_table_clamped(const pact_cost_table *t, double x)
{
    if (x <= t->x[0])
        return t->y[0];
    for (int i = 1; i < t->n; i++)
        if (x <= t->x[i]) {
            double f = (x - t->x[i - 1]) / (t->x[i] - t->x[i - 1]);
            return t->y[i - 1] + f * (t->y[i] - t->y[i - 1]);
        }
    return t->y[t->n - 1];
}

/* A bsgs profile's multiplication tables are a shape; the anchor (a measured
 * activation) fixes their scale. */
static pact_status calibrate(pact_cost_profile *p, const pact_cost_anchor *a, const char *origin,
                             pact_error *err)
{
    if (p->model != PACT_ACT_MODEL_BSGS)
        return PACT_OK;
    int depth = a->act.relu_product;
    for (int i = 0; i < a->act.n_components; i++) {
        pact_bsgs plan;
        pact_status st = pact_bsgs_plan(a->act.degrees[i], &plan, err);
        if (st != PACT_OK)
            return st;
        depth += plan.depth;
    }
    if (depth > a->level)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: field activation.calibrate: depth %d does not fit level %d",
                         origin, depth, a->level);
    double raw = 0.0;
    int level = a->level;
    for (int i = 0; i < a->act.n_components; i++) {
        pact_bsgs plan;
        pact_bsgs_plan(a->act.degrees[i], &plan, NULL);
        raw += pact_cost_bsgs_raw_ms(p, a->act.degrees[i], level);
        level -= plan.depth;
    }
    if (a->act.relu_product)
        raw += pact_cost_table_clamped(&p->mult_ct, level);
    p->mult_scale = a->ms / raw;
    if (!(raw > 0.0) || !isfinite(p->mult_scale) || !(p->mult_scale > 0.0))
        return pact_fail(err, PACT_EFORMAT,
                         "%s: field activation.calibrate.ms: scale %g from %g ms over %g "
                         "table ms is not usable",
                         origin, p->mult_scale, a->ms, raw);
    return PACT_OK;
}

pact_status pact_cost_profile_parse(const char *json, size_t len, const char *origin,
                                    pact_cost_profile **profile, pact_error *err)
{
    if (!profile)
        return pact_fail(err, PACT_EINVAL, "cost profile: no output pointer");
    *profile = NULL;
    if (!origin)
        origin = "profile";
    pact_cost_profile *p = malloc(sizeof *p);
    if (!p)
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", origin);
    pact_cost_anchor anchor;
    pact_status st = pact_cost_profile_read_json(json, len, origin, p, &anchor, err);
    if (st == PACT_OK)
        st = calibrate(p, &anchor, origin, err);
    if (st != PACT_OK) {
        free(p);
        return st;
    }
    *profile = p;
    return PACT_OK;
}

pact_status pact_cost_profile_load(const char *path, pact_cost_profile **profile,
                                   pact_error *err)
{
    if (!profile || !path)
        return pact_fail(err, PACT_EINVAL, "cost profile: no path or output pointer");
    *profile = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return pact_fail(err, PACT_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return pact_fail(err, PACT_EIO, "%s: is a directory, not a cost profile", path);
    }
    char *buf = malloc(PROFILE_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, PROFILE_FILE_MAX + 1, f);
    int failed = ferror(f);
    fclose(f);
    pact_status st;
    if (failed)
        st = pact_fail(err, PACT_EIO, "%s: read error", path);
    else if (n > (size_t)PROFILE_FILE_MAX)
        st = pact_fail(err, PACT_EFORMAT, "%s: larger than %ld bytes: not a cost profile",
                       path, PROFILE_FILE_MAX);
    else
        st = pact_cost_profile_parse(buf, n, path, profile, err);
    free(buf);
    return st;
}

pact_status pact_cost_profile_default(pact_cost_profile **profile, pact_error *err)
{
    return pact_cost_profile_parse(pact_cost_default_profile_text,
                                   strlen(pact_cost_default_profile_text),
                                   "built-in profile mpcnn-log", profile, err);
}

void pact_cost_profile_free(pact_cost_profile *profile)
{
    free(profile);
}

const char *pact_cost_profile_name(const pact_cost_profile *profile)
{
    return profile ? profile->name : "";
}

int pact_cost_profile_max_level(const pact_cost_profile *profile)
{
    return profile ? profile->max_level : 0;
}

int pact_cost_profile_fresh_level(const pact_cost_profile *profile)
{
    return profile ? profile->fresh_level : 0;
}

pact_status pact_cost_bootstrap_ms(const pact_cost_profile *profile, int stage, double *ms,
                                   pact_error *err)
{
    if (!profile || !ms)
        return pact_fail(err, PACT_EINVAL, "bootstrap cost: NULL argument");
    if (stage < 1 || stage > profile->n_stages)
        return pact_fail(err, PACT_EINVAL, "profile %s: stage %d outside 1..%d",
                         profile->name, stage, profile->n_stages);
    *ms = profile->bootstrap_ms[stage - 1];
    return PACT_OK;
}
