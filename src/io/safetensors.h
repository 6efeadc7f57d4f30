/* safetensors reader (https://github.com/huggingface/safetensors, format:
 * u64 little-endian header length N, N bytes of JSON header, then the data
 * buffer). Internal to the library: the network builders use it.
 *
 * pact_st_open reads the whole file and validates every entry before it
 * returns: dtype known, shape non-negative and bounded, data_offsets inside the
 * data buffer and of exactly shape x dtype-size bytes, no two tensors
 * overlapping, names unique, __metadata__ a map of strings. Every message names
 * the file and the tensor at fault. */
#ifndef PACT_SAFETENSORS_H
#define PACT_SAFETENSORS_H

#include "polyact.h"

#define PACT_ST_MAX_DIMS 8

typedef enum {
    PACT_ST_BOOL, PACT_ST_U8, PACT_ST_I8, PACT_ST_F8_E4M3, PACT_ST_F8_E5M2,
    PACT_ST_I16, PACT_ST_U16, PACT_ST_F16, PACT_ST_BF16,
    PACT_ST_I32, PACT_ST_U32, PACT_ST_F32,
    PACT_ST_I64, PACT_ST_U64, PACT_ST_F64,
    PACT_ST_DTYPE_COUNT
} pact_st_dtype;

typedef struct {
    char *name;
    pact_st_dtype dtype;
    int ndim;
    int64_t shape[PACT_ST_MAX_DIMS];
    uint64_t count;         /* product of shape */
    uint64_t begin, end;    /* byte offsets into the data buffer */
} pact_st_tensor;

typedef struct pact_st_file pact_st_file;

/* Reads and validates `path`. out *file: free with pact_st_close.
 * PACT_EIO (cannot read), PACT_EFORMAT (anything malformed), PACT_ENOMEM. */
pact_status pact_st_open(const char *path, pact_st_file **file, pact_error *err);
/* Same validation of `size` bytes already in memory (copied); `name` stands
 * for the path in messages and pact_st_path. What pact_st_open does after
 * reading the file; fuzzed directly. */
pact_status pact_st_parse(const unsigned char *bytes, size_t size, const char *name,
                          pact_st_file **file, pact_error *err);
void pact_st_close(pact_st_file *file);

const char *pact_st_path(const pact_st_file *file);
int pact_st_count(const pact_st_file *file);
const pact_st_tensor *pact_st_at(const pact_st_file *file, int i);
/* NULL when absent. */
const pact_st_tensor *pact_st_find(const pact_st_file *file, const char *name);
/* Value of a __metadata__ key, or NULL. */
const char *pact_st_metadata(const pact_st_file *file, const char *key);
/* The whole file as read (for hashing). */
const unsigned char *pact_st_bytes(const pact_st_file *file, size_t *size);
/* "F32", "BF16", ... */
const char *pact_st_dtype_name(pact_st_dtype dtype);

/* Copies tensor `t` into out[0..t->count) as float, converting F16, BF16 and
 * F64. PACT_EFORMAT naming the tensor for other dtypes. */
pact_status pact_st_read_f32(const pact_st_file *file, const pact_st_tensor *t, float *out,
                             pact_error *err);

#endif
