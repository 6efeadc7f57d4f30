/* The hostile-input table: files other people made, broken in the ways files
 * break (truncated, lying lengths, impossible shapes and offsets, NaN/Inf,
 * wrong versions, another model's plan or calibration, impossible intervals
 * and degrees) and arguments out of range, each run through the CLI. Every
 * case must give exit 1 (2 for usage errors), exactly one line on stderr that
 * names the file (or flag) and what is wrong, nothing on stdout, and for
 * commands with -o no output file and no temporary file left beside it.
 * The library-level statuses of these readers are tested per reader
 * (test_safetensors, test_net_hostile, test_cifar, test_calib_file,
 * test_plan, test_cost_profile); this table is the user-facing contract. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char model20[1024], model32[1024], test_data[1024], train_data[1024];
static unsigned char *orig;
static size_t orig_size, header_len;
static int n_cases, n_checks;

/* --- files ---------------------------------------------------------------- */

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    if (b)
        b[len] = '\0';
    fclose(f);
    *size = (size_t)len;
    return b;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        if (n)
            fwrite(data, 1, n, f);
        fclose(f);
    }
}

/* dir/name, kept for the whole run (one slot per distinct name). */
static const char *path_of(const char *name)
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

/* A safetensors file: 8-byte length (claimed, or the header's), header, data. */
static void write_model(const char *path, const char *hdr, unsigned long long claimed,
                        const unsigned char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    unsigned long long len = claimed ? claimed : strlen(hdr);
    for (int i = 0; i < 8; i++)
        fputc((int)(len >> (8 * i)) & 255, f);
    fputs(hdr, f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static const unsigned char *orig_data(void) { return orig + 8 + header_len; }
static size_t orig_data_size(void) { return orig_size - 8 - header_len; }
static cJSON *header(void) { return cJSON_ParseWithLength((const char *)orig + 8, header_len); }

static void write_json_model(const char *path, cJSON *h, const unsigned char *data, size_t n)
{
    char *text = cJSON_PrintUnformatted(h);
    write_model(path, text, 0, data, n);
    free(text);
}

static cJSON *tensor(cJSON *h, const char *name) { return cJSON_GetObjectItemCaseSensitive(h, name); }

static double offset_of(cJSON *h, const char *name, int which)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tensor(h, name), "data_offsets"),
                              which)->valuedouble;
}

static void set_pair(cJSON *o, const char *key, double a, double b)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, cJSON_CreateNumber(a));
    cJSON_AddItemToArray(arr, cJSON_CreateNumber(b));
    cJSON_ReplaceItemInObjectCaseSensitive(o, key, arr);
}

/* The model with `edit` applied to its header. */
static void model_with(const char *path, void (*edit)(cJSON *))
{
    cJSON *h = header();
    edit(h);
    write_json_model(path, h, orig_data(), orig_data_size());
    cJSON_Delete(h);
}

/* The model with float `v` at element `k` of tensor `name`. */
static void model_with_value(const char *path, const char *name, size_t k, float v)
{
    cJSON *h = header();
    unsigned char *data = malloc(orig_data_size());
    memcpy(data, orig_data(), orig_data_size());
    memcpy(data + (size_t)offset_of(h, name, 0) + 4 * k, &v, 4);
    write_json_model(path, h, data, orig_data_size());
    free(data);
    cJSON_Delete(h);
}

static void e_neg_shape(cJSON *h)
{
    cJSON_ReplaceItemInObjectCaseSensitive(tensor(h, "conv1.weight"), "shape",
                                           cJSON_CreateIntArray((const int[]){-16, 3, 3, 3}, 4));
}
static void e_overflow_shape(cJSON *h)
{
    cJSON *s = cJSON_CreateArray();
    for (int i = 0; i < 3; i++)
        cJSON_AddItemToArray(s, cJSON_CreateNumber(1099511627776.0));
    cJSON_ReplaceItemInObjectCaseSensitive(tensor(h, "layer1.0.conv1.weight"), "shape", s);
}
/* a tensor whose name holds a newline and a control character (fuzz finding:
 * the message must stay one line, showing them as '?') */
static void e_control_name(cJSON *h)
{
    cJSON *t = cJSON_Duplicate(tensor(h, "conv1.weight"), 1);
    cJSON_ReplaceItemInObjectCaseSensitive(t, "dtype", cJSON_CreateString("Q8"));
    cJSON_AddItemToObject(h, "evil\nname\x01", t);
}
static void e_overlap(cJSON *h) { set_pair(tensor(h, "layer1.0.bn1.bias"), "data_offsets", 0, 64); }
static void e_past_end(cJSON *h)
{
    set_pair(tensor(h, "layer2.0.conv1.weight"), "data_offsets",
             offset_of(h, "layer2.0.conv1.weight", 0), 999999999);
}

/* A JSON file: `good` with `edit` applied. */
static void json_with(const char *path, const char *good, void (*edit)(cJSON *))
{
    cJSON *j = cJSON_Parse(good);
    if (edit)
        edit(j);
    char *text = cJSON_Print(j);
    write_bytes(path, text, strlen(text));
    free(text);
    cJSON_Delete(j);
}

static cJSON *item(cJSON *j, const char *key) { return cJSON_GetObjectItemCaseSensitive(j, key); }
static cJSON *layer(cJSON *j, int i) { return cJSON_GetArrayItem(item(j, "layers"), i); }
static void set_num(cJSON *o, const char *key, double v)
{
    cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateNumber(v));
}
static void set_raw(cJSON *o, const char *key, const char *raw)
{
    cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateRaw(raw));
}

static void c_version(cJSON *j) { set_num(j, "version", 2); }
static void c_empty_hist(cJSON *j)
{
    cJSON_ReplaceItemInObjectCaseSensitive(layer(j, 0), "histogram", cJSON_CreateArray());
}
static void c_zero_hist(cJSON *j)
{
    cJSON *h = item(layer(j, 4), "histogram");
    for (int k = 0; k < cJSON_GetArraySize(h); k++)
        cJSON_ReplaceItemInArray(h, k, cJSON_CreateNumber(0));
}
static void c_min_above_max(cJSON *j)
{
    set_num(layer(j, 3), "min", item(layer(j, 3), "max")->valuedouble + 1.0);
}
static void c_inf_min(cJSON *j) { set_raw(layer(j, 2), "min", "-1e999"); }
static void c_other_weights(cJSON *j)
{
    cJSON_ReplaceItemInObjectCaseSensitive(j, "model_sha256", cJSON_CreateString(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
}

static void p_version(cJSON *j) { set_num(j, "version", 7); }
static void p_interval(cJSON *j) { set_pair(layer(j, 2), "interval", 3.0, 3.0); }
static void p_wide_interval(cJSON *j) { set_pair(layer(j, 0), "interval", -1e308, 1e308); }
static void p_degree_4000(cJSON *j) { set_num(layer(j, 1), "degree", 4000); }
static void p_degree_0(cJSON *j) { set_num(layer(j, 1), "degree", 0); }
static void p_inf_coeff(cJSON *j)
{
    cJSON_ReplaceItemInArray(item(layer(j, 5), "cheb"), 2, cJSON_CreateRaw("1e999"));
}
static void p_control_chars(cJSON *j)
{
    cJSON_ReplaceItemInObjectCaseSensitive(layer(j, 0), "func",
                                           cJSON_CreateString("relu\n\033[31mrm -rf"));
}
static void p_other_weights(cJSON *j)
{
    cJSON_ReplaceItemInObjectCaseSensitive(item(j, "model"), "sha256", cJSON_CreateString(
        "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"));
}

static void f_version(cJSON *j) { set_num(j, "version", 9); }
static void f_negative_boot(cJSON *j)
{
    cJSON_ReplaceItemInArray(item(item(j, "bootstrap"), "ms_by_stage"), 1,
                             cJSON_CreateNumber(-5));
}

/* --- running a case ------------------------------------------------------- */

/* Files in dir whose name starts with `base` (an output or its temporary). */
static int leftovers(const char *base)
{
    int k = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        k += strncmp(e->d_name, base, strlen(base)) == 0;
    if (d)
        closedir(d);
    return k;
}

/* Runs the command (printf-style; the CLI path is prepended), expecting
 * exit `want`, one stderr line holding `what` (the file or flag) and `why`,
 * nothing on stdout, and no file whose name starts with `out` in dir. */
static void expect(const char *name, int want, const char *out, const char *what,
                   const char *why, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static void expect(const char *name, int want, const char *out, const char *what,
                   const char *why, const char *fmt, ...)
{
    char args[6144], cmd[8192], sout[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *errfile = path_of("stderr.txt");
    snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s'", pact_test_cli(), args, errfile);
    int rc = pact_test_run(cmd, sout, sizeof sout);
    size_t esize = 0;
    char *e = (char *)read_all(errfile, &esize);
    int lines = 0;
    for (size_t i = 0; e && i < esize; i++)
        lines += e[i] == '\n';
    int ok = rc == want && lines == 1 && e && esize > 0 && e[esize - 1] == '\n' &&
             strncmp(e, "polyact", 7) == 0 && strstr(e, what) && strstr(e, why) &&
             sout[0] == '\0';
    CHECK(ok,
          "%s: exit %d (want %d), %d stderr line(s) '%s' (want one naming '%s' and '%s'), "
          "stdout '%.200s'\n  command: %s",
          name, rc, want, lines, e ? e : "", what, why, sout, args);
    if (out) {
        int left = leftovers(out);
        CHECK(left == 0, "%s: %d file(s) named %s* left in %s", name, left, out, dir);
        n_checks++;
    }
    printf("%-24s exit %d  %s", name, rc, e && esize ? e : "(no message)\n");
    free(e);
    n_cases++;
    n_checks++;
}

/* --- the table ------------------------------------------------------------ */

#define CLI_CALIBRATE "calibrate --model '%s' --data '%s' --images 2 --threads 1 -o '%s'"

static void safetensors_cases(void)
{
    const char *bad = path_of("bad.safetensors"), *out = path_of("out.json");
    write_bytes(bad, orig, orig_size - 1000);
    expect("st truncated", 1, "out.json", bad, "past end", CLI_CALIBRATE, bad, test_data, out);
    {
        char *h = malloc(header_len + 1);
        memcpy(h, orig + 8, header_len);
        h[header_len] = '\0';
        write_model(bad, h, header_len + 100000000ull, orig_data(), orig_data_size());
        expect("st header length > file", 1, "out.json", bad, "header length", CLI_CALIBRATE,
               bad, test_data, out);
        write_model(bad, h, ~0ull, orig_data(), orig_data_size());
        expect("st header length 2^64-1", 1, "out.json", bad, "header length", CLI_CALIBRATE,
               bad, test_data, out);
        free(h);
    }
    write_bytes(bad, orig, 5);
    expect("st 5 bytes", 1, "out.json", bad, "too short", CLI_CALIBRATE, bad, test_data, out);
    {
        const char junk[] = "{not json at all}       ";
        write_model(bad, junk, 0, orig_data(), 64);
        expect("st header not JSON", 1, "out.json", bad, "not valid JSON", CLI_CALIBRATE, bad,
               test_data, out);
    }
    model_with(bad, e_neg_shape);
    expect("st negative shape", 1, "out.json", bad, "conv1.weight: shape[0]", CLI_CALIBRATE, bad,
           test_data, out);
    model_with(bad, e_overflow_shape);
    expect("st overflowing shape", 1, "out.json", bad, "overflow", CLI_CALIBRATE, bad, test_data,
           out);
    model_with(bad, e_control_name);
    expect("st control chars in name", 1, "out.json", bad, "tensor evil?name?: unknown dtype",
           CLI_CALIBRATE, bad, test_data, out);
    model_with(bad, e_overlap);
    expect("st overlapping offsets", 1, "out.json", bad, "overlap", CLI_CALIBRATE, bad,
           test_data, out);
    model_with(bad, e_past_end);
    expect("st offsets past end", 1, "out.json", bad, "layer2.0.conv1.weight", CLI_CALIBRATE,
           bad, test_data, out);
    model_with_value(bad, "layer2.1.conv2.weight", 17, NAN);
    expect("st NaN weight", 1, "out.json", bad, "NaN", CLI_CALIBRATE, bad, test_data, out);
    model_with_value(bad, "layer3.0.bn1.weight", 3, -INFINITY);
    expect("st infinite weight", 1, "out.json", bad, "infinite", CLI_CALIBRATE, bad, test_data,
           out);
    expect("st is a directory", 1, "out.json", dir, "directory", CLI_CALIBRATE, dir, test_data,
           out);
    expect("st is /dev/zero", 1, "out.json", "/dev/zero", "not a regular file", CLI_CALIBRATE,
           "/dev/zero", test_data, out);
    expect("st missing", 1, "out.json", path_of("none.safetensors"), "cannot open",
           CLI_CALIBRATE, path_of("none.safetensors"), test_data, out);
    remove(bad);
}

static void cifar_cases(void)
{
    const char *bad = path_of("bad.bin"), *out = path_of("out.json");
    unsigned char *rec = calloc(3 * 3073 + 100, 1);
    write_bytes(bad, rec, 2 * 3073 + 100);
    expect("cifar odd size", 1, "out.json", bad, "3073", CLI_CALIBRATE, model20, bad, out);
    write_bytes(bad, rec, 0);
    expect("cifar empty", 1, "out.json", bad, "0 bytes", CLI_CALIBRATE, model20, bad, out);
    rec[1 * 3073] = 10; /* --images 2 reads (and checks) two records */
    write_bytes(bad, rec, 3 * 3073);
    expect("cifar label 10", 1, "out.json", bad, "record 1: label 10", CLI_CALIBRATE, model20,
           bad, out);
    free(rec);
    remove(bad);
    const char *empty_dir = path_of("batches");
    mkdir(empty_dir, 0755);
    expect("cifar dir, no test batch", 1, "out.json", "test_batch.bin", "cannot open",
           "calibrate --model '%s' --data '%s' --split test --images 2 -o '%s'", model20,
           empty_dir, out);
    rmdir(empty_dir);
    expect("input mean NaN", 2, NULL, "--input-mean", "not a finite number",
           "eval --model '%s' --data '%s' --images 2 --input-mean nan,0.4,0.4", model20,
           test_data);
}

static void calib_cases(const char *good, const char *good_path)
{
    const char *bad = path_of("bad_calib.json"), *out = path_of("out_plan.json");
#define CLI_OPT_CALIB                                                                   \
    "optimize --model '%s' --data '%s' --images 16 --threads 1 --calib '%s' -o '%s'", \
        model20, train_data, bad, out
    json_with(bad, good, c_version);
    expect("calib version 2", 1, "out_plan.json", bad, "version 2", CLI_OPT_CALIB);
    json_with(bad, good, c_empty_hist);
    expect("calib empty histogram", 1, "out_plan.json", bad, "layers[0].histogram",
           CLI_OPT_CALIB);
    json_with(bad, good, c_zero_hist);
    expect("calib all-zero histogram", 1, "out_plan.json", bad, "counts sum to 0",
           CLI_OPT_CALIB);
    json_with(bad, good, c_min_above_max);
    expect("calib min > max", 1, "out_plan.json", bad, "layers[3].min", CLI_OPT_CALIB);
    json_with(bad, good, c_inf_min);
    expect("calib min -1e999", 1, "out_plan.json", bad, "layers[2].min", CLI_OPT_CALIB);
    {
        size_t len = strlen(good);
        write_bytes(bad, good, len / 3);
        expect("calib truncated", 1, "out_plan.json", bad, "not valid JSON", CLI_OPT_CALIB);
    }
    expect("calib is /dev/zero", 1, "out_plan.json", "/dev/zero", "not a regular file",
           "optimize --model '%s' --data '%s' --images 16 --calib /dev/zero -o '%s'", model20,
           train_data, out);
    json_with(bad, good, c_other_weights);
    expect("calib of other weights", 1, "out_plan.json", bad, "other weights", CLI_OPT_CALIB);
    /* resnet20's calibration on resnet32 */
    expect("calib of another model", 1, NULL, good_path, "other weights",
           "eval --model '%s' --data '%s' --images 2 --calib '%s' --uniform lsq:degree=3",
           model32, test_data, good_path);
#undef CLI_OPT_CALIB
    remove(bad);
}

static void plan_cases(const char *good, const char *good_path)
{
    const char *bad = path_of("bad_plan.json"), *out = path_of("out_export.json");
#define CLI_EXPORT "export --to openfhe '%s' -o '%s'", bad, out
    expect("plan for resnet20 on resnet32", 1, NULL, good_path, "sha256",
           "eval --model '%s' --data '%s' --images 2 --plan '%s'", model32, test_data,
           good_path);
    json_with(bad, good, p_other_weights);
    expect("plan for other weights", 1, NULL, bad, "sha256",
           "eval --model '%s' --data '%s' --images 2 --plan '%s'", model20, test_data, bad);
    json_with(bad, good, p_version);
    expect("plan version 7", 1, "out_export.json", bad, "version 7", CLI_EXPORT);
    json_with(bad, good, p_interval);
    expect("plan interval a >= b", 1, "out_export.json", bad, "interval", CLI_EXPORT);
    json_with(bad, good, p_wide_interval);
    expect("plan interval b-a = inf", 1, "out_export.json", bad, "interval", CLI_EXPORT);
    json_with(bad, good, p_degree_4000);
    expect("plan degree 4000", 1, "out_export.json", bad, "degree", CLI_EXPORT);
    json_with(bad, good, p_degree_0);
    expect("plan degree 0", 1, "out_export.json", bad, "degree", CLI_EXPORT);
    json_with(bad, good, p_inf_coeff);
    expect("plan coefficient 1e999", 1, "out_export.json", bad, "cheb", CLI_EXPORT);
    json_with(bad, good, p_control_chars);
    expect("plan func with escapes", 1, "out_export.json", bad, "unknown func", CLI_EXPORT);
    {
        size_t len = strlen(good);
        write_bytes(bad, good, len / 2);
        expect("plan truncated", 1, "out_export.json", bad, "not valid JSON", CLI_EXPORT);
    }
    expect("plan is a directory", 1, NULL, dir, "directory", "report '%s'", dir);
    json_with(bad, good, p_degree_4000);
    expect("report of a bad plan", 1, NULL, bad, "degree", "report '%s'", bad);
#undef CLI_EXPORT
    remove(bad);
}

static void profile_cases(void)
{
    size_t len = 0;
    const char *src = getenv("POLYACT_SOURCE");
    char prof_path[4096];
    snprintf(prof_path, sizeof prof_path, "%s/data/profiles/mpcnn-log.json", src ? src : ".");
    char *good = (char *)read_all(prof_path, &len);
    CHECK(good != NULL, "cannot read %s", prof_path);
    if (!good)
        return;
    const char *bad = path_of("bad_profile.json"), *out = path_of("out_plan.json");
    json_with(bad, good, f_version);
    expect("profile version 9", 1, NULL, bad, "version", "cost --cost '%s'", bad);
    const char *cut = "{\"format\": \"polyact-cost\", ";
    write_bytes(bad, cut, strlen(cut));
    expect("profile not JSON", 1, NULL, bad, "JSON", "cost --cost '%s'", bad);
    json_with(bad, good, f_negative_boot);
    expect("profile negative cost", 1, NULL, bad, "bootstrap.ms_by_stage", "cost --cost '%s'",
           bad);
    expect("profile is a directory", 1, NULL, dir, "directory", "cost --cost '%s'", dir);
    json_with(bad, good, f_version);
    expect("optimize with bad profile", 1, "out_plan.json", bad, "version",
           "optimize --model '%s' --data '%s' --images 16 --threads 1 --cost '%s' -o '%s'",
           model20, train_data, bad, out);
    free(good);
    remove(bad);
}

static void usage_cases(const char *good_plan)
{
    const char *out = path_of("out_x.json");
    expect("export to quantum", 2, "out_x.json", "quantum", "", "export --to quantum '%s' -o '%s'",
           good_plan, out);
    expect("export bad C prefix", 2, "out_x.json", "prefix", "1bad",
           "export --to c --prefix 1bad '%s' -o '%s'", good_plan, out);
    expect("export folded C", 2, "out_x.json", "--folded", "c",
           "export --to c --folded '%s' -o '%s'", good_plan, out);
    expect("export unwritable", 1, NULL, "/nonexistent-dir/x.json", "cannot",
           "export --to lattigo '%s' -o /nonexistent-dir/x.json", good_plan);
    expect("fit degree 0", 2, NULL, "--degree", "0", "fit --func relu --range -1,1 --degree 0");
    expect("fit degree 256", 2, NULL, "--degree", "256",
           "fit --func relu --range -1,1 --degree 256");
    expect("fit range a >= b", 2, NULL, "--range", "A < B", "fit --func gelu --range 1,1 --degree 3");
    expect("fit range b-a = inf", 2, NULL, "-1e+308", "b - a",
           "fit --func tanh --range -1e308,1e308 --degree 5 --method cheb");
    expect("calibrate 0 bins", 2, "out_x.json", "--bins", "0",
           "calibrate --model '%s' --data '%s' --bins 0 -o '%s'", model20, test_data, out);
    expect("optimize degree 0", 2, "out_x.json", "--degrees", "0",
           "optimize --model '%s' --data '%s' --degrees 0,3 -o '%s'", model20, train_data, out);
    expect("optimize degree 1e60", 2, "out_x.json", "--degrees", "1e+60",
           "optimize --model '%s' --data '%s' --degrees 3,1e60 -o '%s'", model20, train_data, out);
    expect("eval fixed 60", 2, NULL, "--fixed", "60",
           "eval --model '%s' --data '%s' --plan '%s' --fixed 60", model20, test_data, good_plan);
    expect("eval noise NaN", 2, NULL, "--noise", "nan",
           "eval --model '%s' --data '%s' --plan '%s' --noise nan", model20, test_data,
           good_plan);
    expect("cost degree 2000", 2, NULL, "degree:2000", "1..1023", "cost --uniform degree:2000");
    expect("cost alpha 99", 2, NULL, "alpha 99", "4..14", "cost --uniform composite:alpha=99");
    expect("unknown option", 2, NULL, "--frobnicate", "unknown option",
           "report '%s' --frobnicate", good_plan);
    expect("option with newline", 2, NULL, "--a?b", "unknown option", "report x '--a\nb'");
}

/* Good files to mutate: a calibration and a plan of resnet20, made with the
 * CLI and the library. */
static char *make_good_calib(char *path, size_t size)
{
    snprintf(path, size, "%s", path_of("good_calib.json"));
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "'%s' calibrate --model '%s' --data '%s' --images 8 --bins 16 --threads 1 -o '%s' "
             ">/dev/null",
             pact_test_cli(), model20, train_data, path);
    int rc = pact_test_run(cmd, NULL, 0);
    CHECK(rc == 0, "calibrate for the good calib.json: exit %d", rc);
    size_t len;
    return (char *)read_all(path, &len);
}

static char *make_good_plan(char *path, size_t size)
{
    snprintf(path, size, "%s", path_of("good_plan.json"));
    pact_error err;
    pact_net *net = NULL;
    pact_plan *plan = NULL;
    CHECK_OK(pact_net_load(model20, NULL, &net, &err), &err);
    if (!net)
        return NULL;
    pact_model m;
    pact_net_model(net, &m);
    CHECK_OK(pact_plan_uniform("minimax:degree=3,B=20", &m, NULL, pact_net_name(net),
                               pact_net_sha256(net), &plan, &err),
             &err);
    if (plan)
        CHECK_OK(pact_plan_save(plan, path, &err), &err);
    pact_plan_free(plan);
    pact_net_free(net);
    size_t len;
    return (char *)read_all(path, &len);
}

static int copy_data(char *dst, size_t size, const char *rel)
{
    const char *p = pact_test_data(rel);
    if (!p)
        return 0;
    snprintf(dst, size, "%s", p);
    return 1;
}

int main(void)
{
    int ok = copy_data(model20, sizeof model20, "models/resnet20.safetensors");
    ok &= copy_data(model32, sizeof model32, "models/resnet32.safetensors");
    ok &= copy_data(test_data, sizeof test_data, "data/cifar-10-batches-bin/test_batch_first1017.bin");
    ok &= copy_data(train_data, sizeof train_data,
                    "data/cifar-10-batches-bin/data_batch_1_first1017.bin");
    CHECK(ok, "shared data missing");
    strcpy(dir, "/tmp/pact_hostile_XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    orig = ok ? read_all(model20, &orig_size) : NULL;
    for (int i = 7; orig && i >= 0; i--)
        header_len = header_len << 8 | orig[i];
    if (!ok || !orig)
        return pact_test_done("test_hostile", 0);

    char calib_path[512], plan_path[512];
    char *calib = make_good_calib(calib_path, sizeof calib_path);
    char *plan = make_good_plan(plan_path, sizeof plan_path);
    CHECK(calib && plan, "good files");
    safetensors_cases();
    cifar_cases();
    if (calib)
        calib_cases(calib, calib_path);
    if (plan) {
        plan_cases(plan, plan_path);
        usage_cases(plan_path);
    }
    profile_cases();
    printf("%d hostile cases\n", n_cases);
    CHECK(n_cases >= 30, "only %d cases", n_cases);

    free(calib);
    free(plan);
    free(orig);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return pact_test_done("test_hostile", n_checks);
}
