/* SHA-256 (FIPS 180-4), for naming the exact weights a plan or a calibration
 * was made with. Internal to the library. */
#ifndef PACT_SHA256_H
#define PACT_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t length;          /* bytes hashed so far */
    unsigned char block[64];
    size_t used;              /* bytes waiting in block */
} pact_sha256_ctx;

void pact_sha256_init(pact_sha256_ctx *ctx);
void pact_sha256_update(pact_sha256_ctx *ctx, const void *data, size_t size);
void pact_sha256_final(pact_sha256_ctx *ctx, unsigned char digest[32]);

/* One-shot: writes 64 lower-case hex digits and a NUL into hex[65]. */
void pact_sha256_hex(const void *data, size_t size, char hex[65]);

#endif
