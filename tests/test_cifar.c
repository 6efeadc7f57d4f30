/* CIFAR-10 reader: record layout and pixel scaling on files written here,
 * directories of official batch names, malformed files, and the shared test
 * images against the separately published label file. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void write_records(const char *name, int n, int first_label, size_t extra)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < n; i++) {
        unsigned char rec[PACT_CIFAR_RECORD_SIZE];
        rec[0] = (unsigned char)((first_label + i) % 10);
        for (int k = 0; k < 3072; k++)
            rec[1 + k] = (unsigned char)((k + 7 * i) % 256);
        fwrite(rec, 1, sizeof rec, f);
    }
    for (size_t i = 0; i < extra; i++)
        fputc(0, f);
    fclose(f);
}

static pact_status load(const char *name, pact_split split, size_t max, pact_dataset **ds,
                        pact_error *err)
{
    char path[256];
    snprintf(path, sizeof path, "%s%s%s", dir, name[0] ? "/" : "", name);
    return pact_cifar_load(path, split, max, ds, err);
}

int main(void)
{
    int n = 0;
    pact_error err;
    pact_dataset *ds = NULL;
    strcpy(dir, "/tmp/pact_cifar_XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");

    /* three records: labels 4,5,6; pixel k of record i is (k + 7i) mod 256 */
    write_records("three.bin", 3, 4, 0);
    CHECK_OK(load("three.bin", PACT_SPLIT_TEST, 0, &ds, &err), &err);
    if (ds) {
        CHECK(pact_dataset_count(ds) == 3, "count %zu, expected 3", pact_dataset_count(ds));
        CHECK(pact_dataset_label(ds, 2) == 6 && pact_dataset_label(ds, 3) == -1,
              "labels %d %d", pact_dataset_label(ds, 2), pact_dataset_label(ds, 3));
        float x[2 * 3072];
        CHECK_OK(pact_dataset_images_f32(ds, 1, 2, x, &err), &err);
        /* image 1 (record 1): channel G (offset 1024), pixel 5 -> byte (1024+5+7) mod 256 */
        CHECK(x[1024 + 5] == (float)((1024 + 5 + 7) % 256) / 255.0f, "pixel %g", x[1029]);
        CHECK(x[3072 + 3071] == (float)((3071 + 14) % 256) / 255.0f, "last pixel %g",
              x[6143]);
        CHECK(pact_dataset_images_f32(ds, 2, 2, x, &err) == PACT_EINVAL,
              "reading past the end must fail");
        n += 5;
    }
    pact_dataset_free(ds);
    ds = NULL;
    CHECK_OK(load("three.bin", PACT_SPLIT_TEST, 2, &ds, &err), &err);
    CHECK(ds && pact_dataset_count(ds) == 2, "max_images 2 -> %zu",
          ds ? pact_dataset_count(ds) : 0);
    pact_dataset_free(ds);
    n += 2;

    /* a size that is not a multiple of 3073 names the file */
    write_records("odd.bin", 2, 0, 100);
    CHECK(load("odd.bin", PACT_SPLIT_TEST, 0, &ds, &err) == PACT_EFORMAT &&
              strstr(err.message, "odd.bin") && strstr(err.message, "3073"),
          "odd size: %s", err.message);
    write_records("empty.bin", 0, 0, 0);
    CHECK(load("empty.bin", PACT_SPLIT_TEST, 0, &ds, &err) == PACT_EFORMAT, "empty: %s",
          err.message);
    /* label 10 */
    write_records("badlabel.bin", 12, 9, 0);
    {
        char path[256];
        snprintf(path, sizeof path, "%s/badlabel.bin", dir);
        FILE *f = fopen(path, "r+b");
        fseek(f, 5 * PACT_CIFAR_RECORD_SIZE, SEEK_SET);
        fputc(10, f);
        fclose(f);
    }
    CHECK(load("badlabel.bin", PACT_SPLIT_TEST, 0, &ds, &err) == PACT_EFORMAT &&
              strstr(err.message, "record 5"),
          "label 10: %s", err.message);
    CHECK(load("missing.bin", PACT_SPLIT_TEST, 0, &ds, &err) == PACT_EIO &&
              strstr(err.message, "missing.bin"),
          "missing: %s", err.message);
    n += 4;

    /* a directory: test split is test_batch.bin, train the data batches in order */
    CHECK(load("", PACT_SPLIT_TEST, 0, &ds, &err) == PACT_EIO &&
              strstr(err.message, "test_batch.bin"),
          "no test_batch.bin: %s", err.message);
    write_records("test_batch.bin", 2, 1, 0);
    write_records("data_batch_1.bin", 2, 3, 0);
    write_records("data_batch_2.bin", 3, 7, 0);
    CHECK_OK(load("", PACT_SPLIT_TEST, 0, &ds, &err), &err);
    CHECK(ds && pact_dataset_count(ds) == 2 && pact_dataset_label(ds, 0) == 1, "test split");
    pact_dataset_free(ds);
    ds = NULL;
    /* train: batches 1 and 2 suffice for 4 images; all 5 are needed for more */
    CHECK_OK(load("", PACT_SPLIT_TRAIN, 4, &ds, &err), &err);
    CHECK(ds && pact_dataset_count(ds) == 4 && pact_dataset_label(ds, 2) == 7 &&
              pact_dataset_label(ds, 3) == 8,
          "train split, 4 images");
    pact_dataset_free(ds);
    ds = NULL;
    CHECK(load("", PACT_SPLIT_TRAIN, 0, &ds, &err) == PACT_EIO &&
              strstr(err.message, "data_batch_3.bin"),
          "missing data_batch_3.bin: %s", err.message);
    CHECK(load("", (pact_split)7, 0, &ds, &err) == PACT_EINVAL, "split 7: %s", err.message);
    pact_split sp;
    CHECK(pact_split_from_name("valid", &sp, &err) == PACT_EINVAL &&
              strstr(err.message, "valid"),
          "split name: %s", err.message);
    n += 7;

    const char *names[] = {"three.bin", "odd.bin", "empty.bin", "badlabel.bin",
                           "test_batch.bin", "data_batch_1.bin", "data_batch_2.bin"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    rmdir(dir);

    /* the shared images against the complete label file published beside them */
    const char *p = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    char *images = p ? strdup(p) : NULL;
    p = pact_test_data("data/cifar-10-batches-bin/test_batch_labels_all10000.bin");
    CHECK(images && p, "shared data missing");
    if (images && p) {
        FILE *f = fopen(p, "rb");
        unsigned char labels[1017];
        size_t got = f ? fread(labels, 1, sizeof labels, f) : 0;
        if (f)
            fclose(f);
        CHECK_OK(pact_cifar_load(images, PACT_SPLIT_TEST, 0, &ds, &err), &err);
        int same = ds && got == 1017 && pact_dataset_count(ds) == 1017;
        for (size_t i = 0; same && i < 1017; i++)
            same = pact_dataset_label(ds, i) == labels[i];
        CHECK(same, "labels of test_batch_first1017.bin differ from the label file");
        pact_dataset_free(ds);
        n += 2;
    }
    free(images);
    return pact_test_done("test_cifar", n);
}
