/* CIFAR-10 binary reader: files of 3073-byte records, or a directory of the
 * official batch files. */
#define _POSIX_C_SOURCE 200809L
#include "../internal.h"
#include "cifar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct pact_dataset {
    size_t count;
    unsigned char *records; /* count x PACT_CIFAR_RECORD_SIZE bytes */
};

pact_status pact_split_from_name(const char *name, pact_split *split, pact_error *err)
{
    if (name && strcmp(name, "test") == 0) {
        *split = PACT_SPLIT_TEST;
        return PACT_OK;
    }
    if (name && strcmp(name, "train") == 0) {
        *split = PACT_SPLIT_TRAIN;
        return PACT_OK;
    }
    return pact_fail(err, PACT_EINVAL, "unknown split '%s' (expected train or test)",
                     name ? name : "(null)");
}

void pact_dataset_free(pact_dataset *ds)
{
    if (!ds)
        return;
    free(ds->records);
    free(ds);
}

size_t pact_dataset_count(const pact_dataset *ds) { return ds->count; }

int pact_dataset_label(const pact_dataset *ds, size_t i)
{
    return i < ds->count ? ds->records[i * PACT_CIFAR_RECORD_SIZE] : -1;
}

pact_status pact_dataset_images_f32(const pact_dataset *ds, size_t first, size_t count,
                                    float *out, pact_error *err)
{
    if (first > ds->count || count > ds->count - first)
        return pact_fail(err, PACT_EINVAL, "images %zu..%zu requested, data set holds %zu",
                         first, first + count, ds->count);
    for (size_t i = 0; i < count; i++) {
        const unsigned char *px = ds->records + (first + i) * PACT_CIFAR_RECORD_SIZE + 1;
        float *o = out + i * PACT_CIFAR_IMAGE_SIZE;
        for (int k = 0; k < PACT_CIFAR_IMAGE_SIZE; k++)
            o[k] = (float)px[k] / 255.0f;
    }
    return PACT_OK;
}

/* Every record's label byte must name one of the ten classes. */
static pact_status check_labels(const char *name, const unsigned char *records, size_t n,
                                pact_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (records[i * PACT_CIFAR_RECORD_SIZE] >= PACT_CIFAR_CLASSES)
            return pact_fail(err, PACT_EFORMAT, "%s: record %zu: label %u is outside 0..9",
                             name, i, records[i * PACT_CIFAR_RECORD_SIZE]);
    return PACT_OK;
}

const unsigned char *pact_dataset_records(const pact_dataset *ds, size_t *size)
{
    *size = ds->count * PACT_CIFAR_RECORD_SIZE;
    return ds->records;
}

/* Appends up to `want` records of `path` to ds (capacity already reserved). */
static pact_status read_batch_file(const char *path, size_t want, pact_dataset *ds,
                                   size_t *cap, pact_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return pact_fail(err, PACT_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        return pact_fail(err, PACT_EIO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size == 0 || size % PACT_CIFAR_RECORD_SIZE != 0) {
        fclose(fp);
        return pact_fail(err, PACT_EFORMAT,
                         "%s: %zu bytes is not a positive multiple of the %d-byte CIFAR-10 "
                         "record",
                         path, size, PACT_CIFAR_RECORD_SIZE);
    }
    size_t n = size / PACT_CIFAR_RECORD_SIZE;
    if (want && n > want)
        n = want;
    if (ds->count + n > *cap) {
        size_t ncap = ds->count + n;
        unsigned char *p = realloc(ds->records, ncap * PACT_CIFAR_RECORD_SIZE);
        if (!p) {
            fclose(fp);
            return pact_fail(err, PACT_ENOMEM, "%s: out of memory for %zu images", path, ncap);
        }
        ds->records = p;
        *cap = ncap;
    }
    unsigned char *dst = ds->records + ds->count * PACT_CIFAR_RECORD_SIZE;
    size_t got = fread(dst, PACT_CIFAR_RECORD_SIZE, n, fp);
    fclose(fp);
    if (got != n)
        return pact_fail(err, PACT_EIO, "%s: read %zu of %zu records", path, got, n);
    pact_status st = check_labels(path, dst, n, err);
    if (st == PACT_OK)
        ds->count += n;
    return st;
}

pact_status pact_cifar_parse(const unsigned char *bytes, size_t size, const char *name,
                             size_t max_images, pact_dataset **out, pact_error *err)
{
    *out = NULL;
    if (size == 0 || size % PACT_CIFAR_RECORD_SIZE != 0)
        return pact_fail(err, PACT_EFORMAT,
                         "%s: %zu bytes is not a positive multiple of the %d-byte CIFAR-10 "
                         "record",
                         name, size, PACT_CIFAR_RECORD_SIZE);
    size_t n = size / PACT_CIFAR_RECORD_SIZE;
    if (max_images && n > max_images)
        n = max_images;
    pact_status st = check_labels(name, bytes, n, err);
    if (st != PACT_OK)
        return st;
    pact_dataset *ds = calloc(1, sizeof *ds);
    if (ds)
        ds->records = malloc(n * PACT_CIFAR_RECORD_SIZE);
    if (!ds || !ds->records) {
        pact_dataset_free(ds);
        return pact_fail(err, PACT_ENOMEM, "%s: out of memory for %zu images", name, n);
    }
    memcpy(ds->records, bytes, n * PACT_CIFAR_RECORD_SIZE);
    ds->count = n;
    *out = ds;
    return PACT_OK;
}

pact_status pact_dataset_from_records(const void *records, size_t size, const char *name,
                                      pact_dataset **out, pact_error *err)
{
    *out = NULL;
    if (!records && size)
        return pact_fail(err, PACT_EINVAL, "%s: no records", name ? name : "(memory)");
    return pact_cifar_parse(records, size, name ? name : "(memory)", 0, out, err);
}

pact_status pact_cifar_load(const char *path, pact_split split, size_t max_images,
                            pact_dataset **out, pact_error *err)
{
    *out = NULL;
    if (split != PACT_SPLIT_TEST && split != PACT_SPLIT_TRAIN)
        return pact_fail(err, PACT_EINVAL, "split %d is neither test nor train", (int)split);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pact_fail(err, PACT_EIO, "%s: %s", path, strerror(errno));
    pact_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return pact_fail(err, PACT_ENOMEM, "out of memory");
    size_t cap = 0;
    pact_status st = PACT_OK;
    if (!S_ISDIR(sb.st_mode)) {
        st = read_batch_file(path, max_images, ds, &cap, err);
    } else {
        static const char *const train[] = {"data_batch_1.bin", "data_batch_2.bin",
                                            "data_batch_3.bin", "data_batch_4.bin",
                                            "data_batch_5.bin"};
        static const char *const test[] = {"test_batch.bin"};
        const char *const *names = split == PACT_SPLIT_TRAIN ? train : test;
        int n_names = split == PACT_SPLIT_TRAIN ? 5 : 1;
        for (int i = 0; i < n_names && st == PACT_OK; i++) {
            if (max_images && ds->count >= max_images)
                break;
            size_t len = strlen(path) + strlen(names[i]) + 2;
            char *file = malloc(len);
            if (!file) {
                st = pact_fail(err, PACT_ENOMEM, "out of memory");
                break;
            }
            snprintf(file, len, "%s/%s", path, names[i]);
            st = read_batch_file(file, max_images ? max_images - ds->count : 0, ds, &cap, err);
            free(file);
        }
    }
    if (st != PACT_OK) {
        pact_dataset_free(ds);
        return st;
    }
    *out = ds;
    return PACT_OK;
}
