/* polyact merge: the partial results of `--shard I/N` runs, combined into what
 * one process would have written or printed. */
#include "cli_backend.h"
#include "cli_shard.h"
#include "eval_report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: polyact merge [-o OUT] [--json] PART...\n"
    "\n"
    "Combines the partial-result files of one job run as N shards (calibrate, eval,\n"
    "optimize with --shard I/N; any order) into what one process gives, bit for bit:\n"
    "  calibrate --pass 1 parts -> -o STATS   (the input of calibrate --pass 2)\n"
    "  calibrate --pass 2 parts -> -o calib.json\n"
    "  eval parts               -> the evaluation report on stdout (--json: one object)\n"
    "  optimize parts           -> -o IMPACTS (the input of optimize --impacts)\n"
    "Every part must come from the same job (inputs and flags) and every item must\n"
    "be present exactly once.\n"
    "\n"
    "  -o, --output FILE  where to write (calibrate, optimize parts)\n"
    "  --json             eval parts: one JSON object on stdout\n"
    "\n"
    "Exit 0 success, 1 runtime error (also a missing or foreign part), 2 usage error.\n";

/* The shards whose items are missing, e.g. "shard 2/4 (items 2, 6, ...)". */
static int report_missing(const pact_partial *p)
{
    int index, count;
    pact_partial_shard(p, &index, &count);
    size_t n = pact_partial_item_count(p), first = n;
    int shards_missing = 0;
    char list[256] = "";
    for (int s = 0; s < count; s++) {
        int miss = 0;
        for (size_t i = (size_t)s; i < n; i += (size_t)count)
            if (!pact_partial_row(p, i)) {
                miss = 1;
                if (first == n)
                    first = i;
            }
        if (miss && shards_missing++ < 8) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%d", shards_missing > 1 ? ", " : "", s);
        }
    }
    return cli_error("merge", CLI_RUNTIME,
                     "%zu of %zu items missing (first: item %zu): shard(s) %s%s of %d not given",
                     n - pact_partial_present(p), n, first, list, shards_missing > 8 ? ", ..." : "",
                     count);
}

static const cJSON *job_get(const cJSON *job, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(job, key);
}

/* The job's layer names and functions: a view of the model for building the
 * calibration (only n_act, names and functions are read). */
typedef struct {
    int n;
    const char **names;
    pact_func *funcs;
} job_layers;

static int read_layers(const cJSON *job, job_layers *l)
{
    const cJSON *names = job_get(job, "layers"), *funcs = job_get(job, "funcs");
    memset(l, 0, sizeof *l);
    if (!cJSON_IsArray(names) || !cJSON_IsArray(funcs) ||
        cJSON_GetArraySize(names) != cJSON_GetArraySize(funcs) || cJSON_GetArraySize(names) < 1)
        return cli_error("merge", CLI_RUNTIME, "job: 'layers' and 'funcs' must be arrays of one length");
    l->n = cJSON_GetArraySize(names);
    l->names = calloc((size_t)l->n, sizeof *l->names);
    l->funcs = calloc((size_t)l->n, sizeof *l->funcs);
    if (!l->names || !l->funcs)
        return cli_error("merge", CLI_RUNTIME, "out of memory");
    const cJSON *a = names->child, *b = funcs->child;
    for (int i = 0; i < l->n; i++, a = a->next, b = b->next) {
        pact_error err;
        if (!cJSON_IsString(a) || !cJSON_IsString(b) ||
            pact_func_from_name(b->valuestring, &l->funcs[i], &err) != PACT_OK)
            return cli_error("merge", CLI_RUNTIME, "job: layer %d is not a name and a function", i);
        l->names[i] = a->valuestring;
    }
    return CLI_OK;
}

static int job_number(const cJSON *job, const char *key, double lo, double hi, double *v)
{
    const cJSON *x = job_get(job, key);
    if (!cJSON_IsNumber(x) || !(x->valuedouble >= lo && x->valuedouble <= hi))
        return cli_error("merge", CLI_RUNTIME, "job: '%s' missing or outside %g..%g", key, lo, hi);
    *v = x->valuedouble;
    return CLI_OK;
}

static const char *job_string(const cJSON *job, const char *key)
{
    const cJSON *x = job_get(job, key);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int merge_calib(const pact_partial *p, const cJSON *job, const char *output)
{
    job_layers l;
    double bins = 0, chunk = 0, images = 0;
    int rc = read_layers(job, &l);
    if (rc == CLI_OK)
        rc = job_number(job, "bins", 1, PACT_CALIB_MAX_BINS, &bins);
    if (rc == CLI_OK)
        rc = job_number(job, "chunk", 1, 4096, &chunk);
    if (rc == CLI_OK)
        rc = job_number(job, "images", 1, 9007199254740992.0, &images);
    const char *model = job_string(job, "model"), *sha = job_string(job, "model_sha256");
    const char *data = job_string(job, "data_name");
    if (rc == CLI_OK && (!model || !sha || !data))
        rc = cli_error("merge", CLI_RUNTIME, "job: 'model', 'model_sha256', 'data_name' must be strings");
    size_t n_context;
    const double *totals = pact_partial_context(p, &n_context);
    if (rc == CLI_OK && (n_context != (size_t)l.n * PACT_CALIB_STATS ||
                         pact_partial_sum_count(p) != (size_t)l.n * (size_t)bins))
        rc = cli_error("merge", CLI_RUNTIME, "calib-hist parts: %zu statistics and %zu counts for "
                       "%d layers of %g bins", n_context, pact_partial_sum_count(p), l.n, bins);
    if (rc == CLI_OK) {
        pact_model view = {.n_act = l.n, .act_names = l.names, .act_funcs = l.funcs};
        pact_calib_opts co = {.chunk_images = (int)chunk, .bins = (int)bins, .model_name = model,
                              .model_sha256 = sha, .data_name = data};
        pact_calib *calib = NULL;
        pact_error err;
        if (pact_calib_build(&view, &co, (size_t)images, totals, pact_partial_sums_const(p), &calib,
                             &err) != PACT_OK ||
            pact_calib_save(calib, output, &err) != PACT_OK)
            rc = cli_lib_error("merge", &err, 0);
        else
            printf("%s: %d activation layers calibrated on %zu images -> %s\n", model, l.n,
                   pact_calib_images(calib), output);
        pact_calib_free(calib);
    }
    free(l.names);
    free(l.funcs);
    return rc;
}

static int merge_eval(const pact_partial *p, const cJSON *job, int json)
{
    job_layers l;
    double n_classes = 1, fixed = 0, noise = 0;
    int rc = read_layers(job, &l);
    if (rc == CLI_OK)
        rc = job_number(job, "n_classes", 1, 1 << 20, &n_classes);
    if (rc == CLI_OK)
        rc = job_number(job, "fixed", 0, 52, &fixed);
    if (rc == CLI_OK)
        rc = job_number(job, "noise", 0, 1e308, &noise);
    const char *model = job_string(job, "model"), *sha = job_string(job, "model_sha256");
    const char *data = job_string(job, "data"), *what = job_string(job, "what");
    if (rc == CLI_OK && (!model || !sha || !data))
        rc = cli_error("merge", CLI_RUNTIME, "job: 'model', 'model_sha256', 'data' must be strings");
    int n_layers = what ? l.n : 0;
    if (rc == CLI_OK && pact_partial_row_size(p) != pact_pann_partial_row_size(n_layers))
        rc = cli_error("merge", CLI_RUNTIME, "eval parts: rows of %zu numbers, expected %zu",
                       pact_partial_row_size(p), pact_pann_partial_row_size(n_layers));
    pact_pann_partial sum, part;
    pact_error err;
    memset(&sum, 0, sizeof sum);
    memset(&part, 0, sizeof part);
    pact_status st = PACT_OK;
    if (rc == CLI_OK) {
        st = pact_pann_partial_init(&sum, n_layers, (int)n_classes, &err);
        if (st == PACT_OK)
            st = pact_pann_partial_init(&part, n_layers, (int)n_classes, &err);
        /* chunk order: the sum of logit differences as one process adds it */
        for (size_t c = 0; st == PACT_OK && c < pact_partial_item_count(p); c++) {
            st = pact_pann_partial_unpack(pact_partial_row(p, c), pact_partial_row_size(p), &part, &err);
            if (st == PACT_OK)
                st = pact_pann_partial_merge(&sum, &part, &err);
        }
    }
    pact_pann_report r;
    memset(&r, 0, sizeof r);
    if (rc == CLI_OK && st == PACT_OK)
        st = pact_pann_partial_report(&sum, &r, &err);
    if (rc == CLI_OK && st != PACT_OK)
        rc = cli_lib_error("merge", &err, 0);
    if (rc == CLI_OK) {
        eval_labels lb = {.model = model, .model_sha256 = sha, .data = data,
                          .layer_names = l.names, .what = what, .frac_bits = (int)fixed,
                          .noise = noise, .timed = 0};
        if (json) {
            cJSON *o = eval_report_json(&lb, &r);
            char *s = o ? cJSON_PrintUnformatted(o) : NULL;
            if (s)
                puts(s);
            else
                rc = cli_error("merge", CLI_RUNTIME, "out of memory");
            free(s);
            cJSON_Delete(o);
        } else {
            eval_report_text(&lb, &r);
        }
    }
    pact_pann_report_free(&r);
    pact_pann_partial_free(&sum);
    pact_pann_partial_free(&part);
    free(l.names);
    free(l.funcs);
    return rc;
}

int cmd_merge(int argc, char **argv)
{
    const char *output = NULL;
    int json = 0;
    const cli_option opts[] = {
        {"output", &output, NULL}, {"json", NULL, &json}, {NULL, NULL, NULL},
    };
    const char **files = calloc((size_t)(argc > 1 ? argc : 1), sizeof *files);
    if (!files)
        return cli_error("merge", CLI_RUNTIME, "out of memory");
    int rc = cli_parse("merge", argc, argv, opts, files, argc, usage);
    int n_files = 0;
    while (rc == CLI_OK && n_files < argc && files[n_files])
        n_files++;
    if (rc == CLI_OK && n_files == 0)
        rc = cli_error("merge", CLI_USAGE, "no partial-result files given (see --help)");
    if (rc == CLI_OK)
        rc = cli_check_output("merge", "-o", output, files, n_files);
    pact_partial *all = NULL;
    pact_error err;
    for (int i = 0; rc == CLI_OK && i < n_files; i++) {
        pact_partial *p = NULL;
        if (pact_partial_load(files[i], &p, &err) != PACT_OK) {
            rc = cli_lib_error("merge", &err, 0);
        } else if (!all) {
            all = p;
            p = NULL;
        } else if (pact_partial_merge(all, p, &err) != PACT_OK) {
            rc = cli_error("merge", CLI_RUNTIME, "%s: %s", files[i], err.message);
        }
        pact_partial_free(p);
    }
    cJSON *job = NULL;
    if (rc == CLI_OK && pact_partial_present(all) != pact_partial_item_count(all))
        rc = report_missing(all);
    if (rc == CLI_OK && !(job = cJSON_Parse(pact_partial_job(all))))
        rc = cli_error("merge", CLI_RUNTIME, "out of memory");
    const char *kind = rc == CLI_OK ? pact_partial_kind(all) : "";
    int is_eval = strcmp(kind, "eval") == 0;
    if (rc == CLI_OK && !is_eval && !output)
        rc = cli_error("merge", CLI_USAGE, "'%s' parts need -o FILE", kind);
    if (rc == CLI_OK && is_eval && output)
        rc = cli_error("merge", CLI_USAGE, "eval parts merge into the report on stdout: no -o");
    if (rc != CLI_OK) {
        /* reported */
    } else if (is_eval) {
        rc = merge_eval(all, job, json);
    } else if (strcmp(kind, "calib-hist") == 0) {
        rc = merge_calib(all, job, output);
    } else if (strcmp(kind, "calib-stats") == 0 || strcmp(kind, "impact") == 0) {
        if (pact_partial_set_shard(all, 0, 1, &err) != PACT_OK ||
            pact_partial_save(all, output, &err) != PACT_OK)
            rc = cli_lib_error("merge", &err, 0);
        else
            printf("%s: %zu items from %d parts -> %s\n", kind, pact_partial_item_count(all),
                   n_files, output);
    } else {
        rc = cli_error("merge", CLI_RUNTIME, "parts of kind '%s' are not polyact's", kind);
    }
    cJSON_Delete(job);
    pact_partial_free(all);
    free(files);
    return rc;
}
