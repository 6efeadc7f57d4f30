/* Hostile model files: corrupted copies of resnet20.safetensors (truncated,
 * lying header length, offsets past the end, overlapping offsets, wrong dtype,
 * wrong shape, missing tensor, NaN weights, unexpected tensor, bad metadata).
 * The library must return the documented status with a message naming the
 * tensor or field; `polyact eval` must exit 1 with exactly one line on stderr
 * and nothing on stdout. Also: F16 and BF16 copies load and agree with F32. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char *orig;
static size_t orig_size, header_len;
static char dir[64], data_path[4096];

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*size);
    if (b && fread(b, 1, *size, f) != *size) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static cJSON *header(void)
{
    return cJSON_ParseWithLength((const char *)orig + 8, header_len);
}

/* Writes length + header + data; claimed length 0 = the true one. */
static void write_model(const char *path, const char *hdr, unsigned long long claimed,
                        const unsigned char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    unsigned long long len = claimed ? claimed : strlen(hdr);
    for (int i = 0; i < 8; i++)
        fputc((int)(len >> (8 * i)) & 255, f);
    fputs(hdr, f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static void write_json_model(const char *path, cJSON *h, const unsigned char *data, size_t n)
{
    char *text = cJSON_PrintUnformatted(h);
    write_model(path, text, 0, data, n);
    free(text);
}

static const unsigned char *orig_data(void) { return orig + 8 + header_len; }
static size_t orig_data_size(void) { return orig_size - 8 - header_len; }

/* library status and message, then the CLI's exit code and output lines */
static int check_case(const char *name, const char *path, pact_status want, const char *needle)
{
    pact_net *net = NULL;
    pact_error err = {0};
    pact_status st = pact_net_load(path, NULL, &net, &err);
    CHECK(st == want && strstr(err.message, needle) != NULL,
          "%s: status %s, message '%s' (expected %s naming '%s')", name, pact_status_str(st),
          err.message, pact_status_str(want), needle);
    CHECK(net == NULL, "%s: a net was returned with an error", name);
    pact_net_free(net);

    char cmd[8192], out[4096], errfile[128];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", dir);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --data '%s' --images 2 2>'%s'",
             pact_test_cli(), path, data_path, errfile);
    int rc = pact_test_run(cmd, out, sizeof out);
    size_t esize = 0;
    unsigned char *e = read_all(errfile, &esize);
    int lines = 0;
    for (size_t i = 0; e && i < esize; i++)
        lines += e[i] == '\n';
    CHECK(rc == 1 && lines == 1 && out[0] == '\0' && esize > 0 && e[esize - 1] == '\n',
          "%s: CLI exit %d, %d stderr lines '%.*s', stdout '%s' (expected exit 1, one line)",
          name, rc, lines, (int)esize, e ? (const char *)e : "", out);
    free(e);
    remove(path);
    return 3;
}

static void set_offsets(cJSON *h, const char *tensor, double a, double b)
{
    cJSON *off = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, tensor),
                                                  "data_offsets");
    cJSON_ReplaceItemInArray(off, 0, cJSON_CreateNumber(a));
    cJSON_ReplaceItemInArray(off, 1, cJSON_CreateNumber(b));
}

static double offset_of(cJSON *h, const char *tensor, int which)
{
    cJSON *off = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, tensor),
                                                  "data_offsets");
    return cJSON_GetArrayItem(off, which)->valuedouble;
}

/* A copy of the model with every F32 tensor as F16 or BF16 (round to nearest). */
static void write_half_model(const char *path, int bf16)
{
    cJSON *h = header();
    size_t n_out = 0;
    unsigned char *data = malloc(orig_data_size());
    for (cJSON *t = h->child; t; t = t->next) {
        if (strcmp(t->string, "__metadata__") == 0)
            continue;
        size_t a = (size_t)offset_of(h, t->string, 0), b = (size_t)offset_of(h, t->string, 1);
        size_t start = n_out;
        for (size_t p = a; p < b; p += 4) {
            float v;
            memcpy(&v, orig_data() + p, 4);
            unsigned short u;
            if (bf16) {
                unsigned int bits;
                memcpy(&bits, &v, 4);
                bits += 0x7fff + ((bits >> 16) & 1); /* round half to even */
                u = (unsigned short)(bits >> 16);
            } else {
                int e;
                float fr = frexpf(fabsf(v), &e); /* v = fr 2^e, fr in [0.5, 1) */
                unsigned sign = v < 0 ? 0x8000u : 0u;
                if (v == 0.0f) {
                    u = (unsigned short)sign;
                } else if (e - 1 < -14) { /* subnormal half */
                    long q = lroundf(ldexpf(fabsf(v), 24));
                    u = (unsigned short)(sign | (unsigned)q);
                } else {
                    long q = lroundf(ldexpf(fr, 11)); /* 1024..2048 */
                    if (q == 2048) {
                        q = 1024;
                        e++;
                    }
                    u = (unsigned short)(sign | (unsigned)(e - 1 + 15) << 10 | (unsigned)(q - 1024));
                }
            }
            data[n_out++] = u & 255;
            data[n_out++] = u >> 8;
        }
        cJSON_ReplaceItemInObject(t, "dtype", cJSON_CreateString(bf16 ? "BF16" : "F16"));
        set_offsets(h, t->string, (double)start, (double)n_out);
    }
    write_json_model(path, h, data, n_out);
    cJSON_Delete(h);
    free(data);
}

/* logits of the first 16 test images */
static int logits16(const char *path, float *out)
{
    pact_error err;
    pact_net *net = NULL;
    pact_dataset *ds = NULL;
    CHECK_OK(pact_net_load(path, NULL, &net, &err), &err);
    CHECK_OK(pact_cifar_load(data_path, PACT_SPLIT_TEST, 16, &ds, &err), &err);
    int ok = net && ds;
    if (ok) {
        float *x = malloc(sizeof(float) * 16 * PACT_CIFAR_IMAGE_SIZE);
        ok = pact_dataset_images_f32(ds, 0, 16, x, &err) == PACT_OK &&
             pact_net_forward(net, x, 16, NULL, NULL, out, &err) == PACT_OK;
        free(x);
    }
    pact_net_free(net);
    pact_dataset_free(ds);
    return ok;
}

int main(void)
{
    int n = 0;
    const char *m = pact_test_data("models/resnet20.safetensors");
    char *model = m ? strdup(m) : NULL;
    const char *d = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    CHECK(model && d, "shared data missing");
    if (!model || !d)
        return pact_test_done("test_net_hostile", 1);
    snprintf(data_path, sizeof data_path, "%s", d);
    orig = read_all(model, &orig_size);
    for (int i = 7; orig && i >= 0; i--)
        header_len = header_len << 8 | orig[i];
    strcpy(dir, "/tmp/pact_hostile_XXXXXX");
    CHECK(orig && mkdtemp(dir), "setup");
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);

    /* truncated in the data, and inside the header */
    {
        FILE *f = fopen(path, "wb");
        fwrite(orig, 1, orig_size - 1000, f);
        fclose(f);
    }
    n += check_case("truncated data", path, PACT_EFORMAT, "past end");
    {
        FILE *f = fopen(path, "wb");
        fwrite(orig, 1, 4000, f);
        fclose(f);
    }
    n += check_case("truncated header", path, PACT_EFORMAT, "header length");
    {
        FILE *f = fopen(path, "wb");
        fwrite(orig, 1, 5, f);
        fclose(f);
    }
    n += check_case("5-byte file", path, PACT_EFORMAT, "too short");

    /* lying header lengths */
    {
        char *h = malloc(header_len + 1);
        memcpy(h, orig + 8, header_len);
        h[header_len] = '\0';
        write_model(path, h, header_len + 100000000ull, orig_data(), orig_data_size());
        n += check_case("header length past the end", path, PACT_EFORMAT, "header length");
        write_model(path, h, header_len - 100, orig_data(), orig_data_size());
        n += check_case("header length cuts the JSON", path, PACT_EFORMAT, "not valid JSON");
        free(h);
    }

    cJSON *h = header();
    set_offsets(h, "layer2.0.conv1.weight", 59840, 999999999);
    write_json_model(path, h, orig_data(), orig_data_size());
    n += check_case("offsets past the end", path, PACT_EFORMAT, "layer2.0.conv1.weight");
    cJSON_Delete(h);

    h = header();
    set_offsets(h, "layer1.0.bn1.bias", 0, 64);
    write_json_model(path, h, orig_data(), orig_data_size());
    n += check_case("overlapping offsets", path, PACT_EFORMAT, "overlap");
    cJSON_Delete(h);

    h = header();
    cJSON_ReplaceItemInObject(cJSON_GetObjectItemCaseSensitive(h, "conv1.weight"), "dtype",
                              cJSON_CreateString("I32"));
    write_json_model(path, h, orig_data(), orig_data_size());
    n += check_case("wrong dtype", path, PACT_EFORMAT, "conv1.weight: dtype I32");
    cJSON_Delete(h);

    h = header();
    cJSON *shape = cJSON_CreateIntArray((const int[]){16, 16, 9}, 3);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItemCaseSensitive(h, "layer1.0.conv1.weight"),
                              "shape", shape);
    write_json_model(path, h, orig_data(), orig_data_size());
    n += check_case("wrong shape", path, PACT_EFORMAT, "layer1.0.conv1.weight: shape [16,16,9]");
    cJSON_Delete(h);

    h = header();
    cJSON_DeleteItemFromObjectCaseSensitive(h, "layer3.2.bn2.running_var");
    write_json_model(path, h, orig_data(), orig_data_size());
    n += check_case("missing tensor", path, PACT_EFORMAT, "missing tensor layer3.2.bn2.running_var");
    cJSON_Delete(h);

    h = header();
    {
        unsigned char *data = malloc(orig_data_size());
        memcpy(data, orig_data(), orig_data_size());
        float nan = NAN;
        memcpy(data + (size_t)offset_of(h, "layer2.1.conv2.weight", 0) + 4 * 17, &nan, 4);
        write_json_model(path, h, data, orig_data_size());
        n += check_case("NaN weight", path, PACT_EFORMAT, "layer2.1.conv2.weight: element 17 is NaN");
        float inf = INFINITY;
        memcpy(data + (size_t)offset_of(h, "layer2.1.conv2.weight", 0) + 4 * 17, &inf, 4);
        write_json_model(path, h, data, orig_data_size());
        n += check_case("infinite weight", path, PACT_EFORMAT, "infinite");
        free(data);
    }
    cJSON_Delete(h);

    h = header();
    {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "dtype", "F32");
        cJSON_AddItemToObject(t, "shape", cJSON_CreateIntArray((const int[]){4}, 1));
        cJSON *off = cJSON_CreateArray();
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)orig_data_size()));
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)orig_data_size() + 16));
        cJSON_AddItemToObject(t, "data_offsets", off);
        cJSON_AddItemToObject(h, "layer2.0.shortcut.0.weight", t);
        unsigned char *data = calloc(1, orig_data_size() + 16);
        memcpy(data, orig_data(), orig_data_size());
        write_json_model(path, h, data, orig_data_size() + 16);
        free(data);
        n += check_case("unexpected tensor", path, PACT_EFORMAT,
                        "unexpected tensor layer2.0.shortcut.0.weight");
    }
    cJSON_Delete(h);

    h = header();
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "input_mean");
    write_json_model(path, h, orig_data(), orig_data_size());
    n += check_case("no input_mean", path, PACT_EFORMAT, "input_mean");
    cJSON_AddStringToObject(meta, "input_mean", "0.5,abc,0.5");
    write_json_model(path, h, orig_data(), orig_data_size());
    n += check_case("bad input_mean", path, PACT_EFORMAT, "input_mean '0.5,abc,0.5'");
    cJSON_Delete(h);

    h = header();
    meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
    cJSON_ReplaceItemInObject(meta, "arch", cJSON_CreateString("resnet32"));
    write_json_model(path, h, orig_data(), orig_data_size());
    n += check_case("arch says resnet32", path, PACT_EFORMAT, "resnet32");
    cJSON_Delete(h);

    n += check_case("a directory", dir, PACT_EIO, dir);

    /* the normalisation may come from the options instead of the metadata */
    h = header();
    meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "input_mean");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "input_std");
    write_json_model(path, h, orig_data(), orig_data_size());
    cJSON_Delete(h);
    {
        const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
        pact_net_opts o = {.input_mean = mean, .input_std = std};
        pact_net *net = NULL;
        pact_error err;
        CHECK_OK(pact_net_load(path, &o, &net, &err), &err);
        pact_net_free(net);
        const double zero[3] = {0.2, 0.0, 0.2};
        o.input_std = zero;
        CHECK(pact_net_load(path, &o, &net, &err) == PACT_EINVAL && strstr(err.message, "std"),
              "std 0: %s", err.message);
        n += 2;
    }
    remove(path);

    /* F16 and BF16 copies load, and their logits stay near the F32 ones
     * (weights rounded to 11 and 8 significant bits) */
    float ref[160], half[160];
    CHECK(logits16(model, ref), "F32 model");
    for (int bf = 0; bf < 2; bf++) {
        write_half_model(path, bf);
        CHECK(logits16(path, half), "%s model", bf ? "BF16" : "F16");
        double md = 0.0;
        for (int i = 0; i < 160; i++)
            md = fmax(md, fabs((double)half[i] - ref[i]));
        double tol = bf ? 1.0 : 0.1;
        CHECK(md < tol, "%s logits differ from F32 by %.3g (tolerance %g)", bf ? "BF16" : "F16",
              md, tol);
        printf("%s copy: max |logit - F32 logit| = %.3g over 16 images\n", bf ? "BF16" : "F16",
               md);
        n += 2;
        remove(path);
    }

    char errfile[128];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", dir);
    remove(errfile);
    rmdir(dir);
    free(orig);
    free(model);
    return pact_test_done("test_net_hostile", n);
}
