/* safetensors reader on small files written here: dtype conversion against
 * known bit patterns (IEEE half / bfloat16 values), metadata, and malformed
 * headers (each must fail with PACT_EFORMAT naming the tensor or field). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "io/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

/* Writes an 8-byte length (`claimed`, or the header's length when 0), the
 * header and `n` data bytes. */
static void write_file(const char *header, unsigned long long claimed, const void *data,
                       size_t n)
{
    FILE *f = fopen(path, "wb");
    unsigned long long len = claimed ? claimed : strlen(header);
    for (int i = 0; i < 8; i++)
        fputc((int)(len >> (8 * i)) & 255, f);
    fputs(header, f);
    if (n)
        fwrite(data, 1, n, f);
    fclose(f);
}

static int expect_fail(const char *what, const char *header, unsigned long long claimed,
                       const void *data, size_t n, const char *needle)
{
    write_file(header, claimed, data, n);
    pact_st_file *f = NULL;
    pact_error err = {0};
    pact_status st = pact_st_open(path, &f, &err);
    CHECK(st == PACT_EFORMAT && strstr(err.message, needle) != NULL,
          "%s: status %s, message '%s' (expected PACT_EFORMAT naming '%s')", what,
          pact_status_str(st), err.message, needle);
    pact_st_close(f);
    return 1;
}

int main(void)
{
    int n = 0;
    pact_error err;
    strcpy(path, "/tmp/pact_st_XXXXXX");
    int fd = mkstemp(path);
    close(fd);

    /* F32 1.5, -2; F16 1.0 (0x3c00), -2.0 (0xc000), 2^-24 (0x0001), 65504 (0x7bff);
     * BF16 1.0 (0x3f80), -0.5 (0xbf00); F64 0.1 */
    unsigned char data[64] = {0};
    float f32[2] = {1.5f, -2.0f};
    memcpy(data, f32, 8); /* little-endian host */
    const unsigned short f16[4] = {0x3c00, 0xc000, 0x0001, 0x7bff};
    for (int i = 0; i < 4; i++) {
        data[8 + 2 * i] = f16[i] & 255;
        data[9 + 2 * i] = f16[i] >> 8;
    }
    const unsigned short bf16[2] = {0x3f80, 0xbf00};
    for (int i = 0; i < 2; i++) {
        data[16 + 2 * i] = bf16[i] & 255;
        data[17 + 2 * i] = bf16[i] >> 8;
    }
    double f64 = 0.1;
    memcpy(data + 24, &f64, 8);
    const char *good =
        "{\"__metadata__\":{\"arch\":\"test\",\"input_mean\":\"1,2,3\"},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[8,16]},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[16,20]},"
        "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[20,20]},"
        "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[20,24]},"
        "\"d\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[24,32]}}   ";
    write_file(good, 0, data, 32);
    pact_st_file *f = NULL;
    CHECK_OK(pact_st_open(path, &f, &err), &err);
    if (f) {
        CHECK(pact_st_count(f) == 6, "count %d", pact_st_count(f));
        CHECK(pact_st_metadata(f, "arch") && strcmp(pact_st_metadata(f, "arch"), "test") == 0,
              "metadata");
        CHECK(pact_st_metadata(f, "nothing") == NULL, "absent metadata");
        float v[4];
        CHECK_OK(pact_st_read_f32(f, pact_st_find(f, "a"), v, &err), &err);
        CHECK(v[0] == 1.5f && v[1] == -2.0f, "F32 %g %g", v[0], v[1]);
        CHECK_OK(pact_st_read_f32(f, pact_st_find(f, "h"), v, &err), &err);
        CHECK(v[0] == 1.0f && v[1] == -2.0f && v[2] == ldexpf(1.0f, -24) && v[3] == 65504.0f,
              "F16 %g %g %g %g", v[0], v[1], v[2], v[3]);
        CHECK_OK(pact_st_read_f32(f, pact_st_find(f, "b"), v, &err), &err);
        CHECK(v[0] == 1.0f && v[1] == -0.5f, "BF16 %g %g", v[0], v[1]);
        CHECK_OK(pact_st_read_f32(f, pact_st_find(f, "d"), v, &err), &err);
        CHECK(v[0] == 0.1f && pact_st_find(f, "d")->ndim == 0, "F64 scalar %g", v[0]);
        CHECK(pact_st_read_f32(f, pact_st_find(f, "i"), v, &err) == PACT_EFORMAT &&
                  strstr(err.message, "tensor i") && strstr(err.message, "I32"),
              "I32 as float: %s", err.message);
        n += 9;
    }
    pact_st_close(f);

    const char one[] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    n += expect_fail("empty header", "", 0, NULL, 0, "JSON object");
    {
        FILE *t = fopen(path, "wb");
        fputs("abc", t);
        fclose(t);
        pact_error e2;
        CHECK(pact_st_open(path, &f, &e2) == PACT_EFORMAT && strstr(e2.message, "3 bytes"),
              "3-byte file: %s", e2.message);
        n++;
    }
    n += expect_fail("header length past the end", one, 1ull << 40, data, 8, "header length");
    n += expect_fail("header length 2^64-1", one, ~0ull, data, 8, "header length");
    n += expect_fail("header length too short", one, 10, data, 8, "JSON");
    n += expect_fail("not JSON", "{\"w\": nope}", 0, NULL, 0, "not valid JSON");
    n += expect_fail("not an object", "[1,2,3]     ", 0, NULL, 0, "JSON object");
    n += expect_fail("data past the end", one, 0, data, 4, "past end");
    n += expect_fail("offsets past the end",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,999999999]}}",
                     0, data, 8, "tensor w");
    n += expect_fail("offsets backwards",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 0,
                     data, 8, "backwards");
    n += expect_fail("size not shape x dtype",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 0,
                     data, 12, "need 12");
    n += expect_fail("overlap",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                     "\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                     0, data, 12, "overlap");
    n += expect_fail("duplicate name",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                     "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                     0, data, 8, "twice");
    n += expect_fail("unknown dtype",
                     "{\"w\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0,
                     data, 8, "F12");
    n += expect_fail("negative dimension",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 0,
                     data, 8, "shape[0]");
    n += expect_fail("fractional dimension",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 0,
                     data, 8, "shape[0]");
    n += expect_fail("shape overflow",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776,"
                     "1099511627776],\"data_offsets\":[0,8]}}",
                     0, data, 8, "overflow");
    n += expect_fail("missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 0, data,
                     8, "data_offsets");
    n += expect_fail("metadata not strings", "{\"__metadata__\":{\"a\":1}}", 0, NULL, 0,
                     "__metadata__");
    n += expect_fail("trailing garbage in header",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}xx", 0,
                     data, 8, "trailing");
    pact_status st = pact_st_open("/nonexistent/x.safetensors", &f, &err);
    CHECK(st == PACT_EIO && strstr(err.message, "/nonexistent/x.safetensors"), "missing: %s",
          err.message);
    n++;
    remove(path);
    return pact_test_done("test_safetensors", n);
}
