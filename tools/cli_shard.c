/* --shard I/N: job identity, partial-result files. */
#include "cli_shard.h"
#include "cli_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_shard_parse(const char *cmd, const char *s, int *index, int *count)
{
    long i, n;
    char tail;
    if (sscanf(s, "%ld/%ld%c", &i, &n, &tail) != 2 || n < 1 || n > (1L << 24) || i < 0 || i >= n)
        return cli_error(cmd, CLI_USAGE, "--shard: '%s' is not I/N with 0 <= I < N", s);
    *index = (int)i;
    *count = (int)n;
    return CLI_OK;
}

static void add_opt_string(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *cli_job_new(const char *command, const pact_net *net, const pact_dataset *ds,
                   const cli_net_flags *f)
{
    cJSON *job = cJSON_CreateObject();
    if (!job)
        return NULL;
    size_t size;
    const unsigned char *records = pact_dataset_records(ds, &size);
    char hex[65];
    pact_sha256_hex(records, size, hex);
    cJSON_AddStringToObject(job, "command", command);
    cJSON_AddStringToObject(job, "model", pact_net_name(net));
    cJSON_AddStringToObject(job, "model_sha256", pact_net_sha256(net));
    cJSON_AddNumberToObject(job, "images", (double)pact_dataset_count(ds));
    cJSON_AddStringToObject(job, "images_sha256", hex);
    add_opt_string(job, "act", f->act);
    add_opt_string(job, "input_mean", f->input_mean);
    add_opt_string(job, "input_std", f->input_std);
    cJSON *names = cJSON_AddArrayToObject(job, "layers");
    cJSON *funcs = cJSON_AddArrayToObject(job, "funcs");
    pact_model m;
    pact_net_model(net, &m);
    for (int i = 0; names && funcs && i < m.n_act; i++) {
        cJSON_AddItemToArray(names, cJSON_CreateString(m.act_names[i]));
        cJSON_AddItemToArray(funcs, cJSON_CreateString(pact_func_name(m.act_funcs[i])));
    }
    return job;
}

int cli_job_add_file_hash(const char *cmd, cJSON *job, const char *key, const char *path)
{
    char *text;
    size_t size;
    pact_error err;
    if (cli_read_file(path, CLI_PARTIAL_MAX, &text, &size, &err) != PACT_OK)
        return cli_lib_error(cmd, &err, 0);
    char hex[65];
    pact_sha256_hex(text, size, hex);
    free(text);
    cJSON_AddStringToObject(job, key, hex);
    return CLI_OK;
}

char *cli_job_text(const cJSON *job)
{
    return cJSON_PrintUnformatted(job);
}

int cli_shard_begin(const char *cmd, const char *kind, const cJSON *job, size_t n_items,
                    size_t row_size, size_t n_sums, int index, int count, pact_partial **p)
{
    *p = NULL;
    char *text = cli_job_text(job);
    if (!text)
        return cli_error(cmd, CLI_RUNTIME, "out of memory");
    pact_error err;
    pact_status st = pact_partial_create(kind, text, n_items, row_size, n_sums, p, &err);
    free(text);
    if (st == PACT_OK && (st = pact_partial_set_shard(*p, index, count, &err)) != PACT_OK) {
        pact_partial_free(*p);
        *p = NULL;
    }
    return st == PACT_OK ? CLI_OK : cli_lib_error(cmd, &err, 0);
}

int cli_shard_finish(const char *cmd, pact_partial *p, const char *output)
{
    pact_error err;
    int rc = CLI_OK;
    if (pact_partial_save(p, output, &err) != PACT_OK) {
        rc = cli_lib_error(cmd, &err, 0);
    } else {
        int index, count;
        pact_partial_shard(p, &index, &count);
        printf("%s shard %d/%d: %zu of %zu items -> %s\n", pact_partial_kind(p), index, count,
               pact_partial_present(p), pact_partial_item_count(p), output);
    }
    pact_partial_free(p);
    return rc;
}

/* Names the first job field that differs between a partial file's job and
 * this run's (both JSON objects from cli_job_text), e.g.
 * "per_channel: 1 in the file, absent here". */
static void job_difference(const char *file_job, const char *run_job, char *out, size_t n)
{
    cJSON *a = cJSON_Parse(file_job), *b = cJSON_Parse(run_job);
    snprintf(out, n, "other model, images, calibration or flags");
    /* this run's fields in order, then the file's that this run lacks */
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *item = NULL, *from = pass == 0 ? b : a, *to = pass == 0 ? a : b;
        cJSON_ArrayForEach(item, from)
        {
            const cJSON *other = to ? cJSON_GetObjectItemCaseSensitive(to, item->string) : NULL;
            if (other && (pass == 1 || cJSON_Compare(item, other, 1)))
                continue;
            char *p_item = cJSON_PrintUnformatted(item);
            char *p_other = other ? cJSON_PrintUnformatted(other) : NULL;
            const char *in_file = pass == 0 ? p_other : p_item, *here = pass == 0 ? p_item : p_other;
            snprintf(out, n, "%s: %.60s in the file, %.60s here", item->string,
                     in_file ? in_file : "absent", here ? here : "absent");
            free(p_item);
            free(p_other);
            pass = 2;
            break;
        }
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

int cli_partial_load_complete(const char *cmd, const char *path, const char *kind,
                              const char *job_text, pact_partial **p)
{
    *p = NULL;
    char *text;
    size_t size;
    pact_error err;
    if (cli_read_file(path, CLI_PARTIAL_MAX, &text, &size, &err) != PACT_OK)
        return cli_lib_error(cmd, &err, 0);
    pact_status st = pact_partial_parse(text, size, path, p, &err);
    free(text);
    if (st != PACT_OK)
        return cli_lib_error(cmd, &err, 0);
    int rc = CLI_OK;
    if (strcmp(pact_partial_kind(*p), kind) != 0)
        rc = cli_error(cmd, CLI_RUNTIME, "%s: holds '%s' results, not '%s'", path,
                       pact_partial_kind(*p), kind);
    else if (strcmp(pact_partial_job(*p), job_text) != 0) {
        char why[256];
        job_difference(pact_partial_job(*p), job_text, why, sizeof why);
        rc = cli_error(cmd, CLI_RUNTIME, "%s: made for another job (%s)", path, why);
    }
    else if (pact_partial_present(*p) != pact_partial_item_count(*p))
        rc = cli_error(cmd, CLI_RUNTIME, "%s: holds %zu of %zu items: merge every shard first",
                       path, pact_partial_present(*p), pact_partial_item_count(*p));
    if (rc != CLI_OK) {
        pact_partial_free(*p);
        *p = NULL;
    }
    return rc;
}
