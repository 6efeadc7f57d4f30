/* SHA-256 against the FIPS 180-4 / NIST example vectors and, for a model
 * file, against the system's sha256sum. */
#include "testutil.h"
#include "io/sha256.h"

#include <stdlib.h>
#include <string.h>

static int check(const char *what, const void *data, size_t size, const char *want)
{
    char hex[65];
    pact_sha256_hex(data, size, hex);
    CHECK(strcmp(hex, want) == 0, "%s: %s, expected %s", what, hex, want);
    return 1;
}

int main(void)
{
    int n = 0;
    n += check("\"\"", "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    n += check("\"abc\"", "abc", 3,
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    n += check("448-bit message", m448, strlen(m448),
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    n += check("one million 'a'", million, 1000000,
               "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* the same million bytes fed in uneven pieces */
    pact_sha256_ctx ctx;
    unsigned char d[32], e[32];
    pact_sha256_init(&ctx);
    for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 7 % 1000 + 1)
        pact_sha256_update(&ctx, million + off, off + step > 1000000 ? 1000000 - off : step);
    pact_sha256_final(&ctx, d);
    pact_sha256_init(&ctx);
    pact_sha256_update(&ctx, million, 1000000);
    pact_sha256_final(&ctx, e);
    CHECK(memcmp(d, e, 32) == 0, "incremental hashing differs from one-shot");
    n++;
    free(million);

    /* a model file against sha256sum, through the network's accessor */
    const char *model = pact_test_data("models/resnet20.safetensors");
    CHECK(model != NULL, "shared model missing");
    if (model) {
        char cmd[4200], out[256] = "";
        snprintf(cmd, sizeof cmd, "sha256sum '%s'", model);
        int rc = pact_test_run(cmd, out, sizeof out);
        pact_net *net = NULL;
        pact_error err;
        CHECK_OK(pact_net_load(model, NULL, &net, &err), &err);
        CHECK(rc == 0 && net && strncmp(out, pact_net_sha256(net), 64) == 0,
              "pact_net_sha256 %s, sha256sum %.64s", net ? pact_net_sha256(net) : "-", out);
        pact_net_free(net);
        n += 2;
    }
    return pact_test_done("test_sha256", n);
}
