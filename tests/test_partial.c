/* Partial-result files (pact_partial): rows of doubles come back bit for bit
 * (also infinities, NaN, -0, subnormals), sums and context too; merging
 * refuses foreign, overlapping or differently-shaped parts and leaves the
 * target unchanged then; every malformed or truncated file is refused with a
 * message naming it, never a crash. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n;

static const char *JOB = "{\"command\":\"test\",\"images\":3}";

/* A partial of 5 items x 3 numbers with items `first`, `first + step`, ... */
static pact_partial *make(size_t first, size_t step, const char *job, const double *context,
                          size_t n_context)
{
    pact_error err;
    pact_partial *p = NULL;
    CHECK_OK(pact_partial_create("eval", job, 5, 3, 4, &p, &err), &err);
    n++;
    if (!p)
        return NULL;
    for (size_t i = first; i < 5; i += step) {
        double row[3] = {(double)i, -0.0, i % 2 ? INFINITY : 4.9e-324};
        if (i == 4)
            row[1] = NAN;
        CHECK_OK(pact_partial_set_row(p, i, row, &err), &err);
        pact_partial_sums(p)[i % 4] += 1000 + i;
        n++;
    }
    if (n_context)
        CHECK_OK(pact_partial_set_context(p, context, n_context, &err), &err);
    return p;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void check_round_trip(const char *dir)
{
    pact_error err;
    const double ctx[3] = {0.1, -1e308, 3.0};
    pact_partial *p = make(0, 1, JOB, ctx, 3), *q = NULL;
    char path[256], path2[256];
    snprintf(path, sizeof path, "%s/all.json", dir);
    snprintf(path2, sizeof path2, "%s/again.json", dir);
    CHECK_OK(pact_partial_set_shard(p, 1, 3, &err), &err);
    CHECK_OK(pact_partial_save(p, path, &err), &err);
    CHECK_OK(pact_partial_load(path, &q, &err), &err);
    n += 3;
    if (!q) {
        pact_partial_free(p);
        return;
    }
    CHECK(strcmp(pact_partial_kind(q), "eval") == 0 && strcmp(pact_partial_job(q), pact_partial_job(p)) == 0,
          "kind '%s' job '%s'", pact_partial_kind(q), pact_partial_job(q));
    int index, count;
    pact_partial_shard(q, &index, &count);
    CHECK(index == 1 && count == 3, "shard %d/%d, wrote 1/3", index, count);
    CHECK(pact_partial_present(q) == 5 && pact_partial_item_count(q) == 5 &&
              pact_partial_row_size(q) == 3 && pact_partial_sum_count(q) == 4,
          "present %zu items %zu row %zu sums %zu", pact_partial_present(q),
          pact_partial_item_count(q), pact_partial_row_size(q), pact_partial_sum_count(q));
    n += 3;
    for (size_t i = 0; i < 5; i++)
        for (size_t k = 0; k < 3; k++) {
            double a = pact_partial_row(p, i)[k], b = pact_partial_row(q, i)[k];
            CHECK(same_bits(a, b), "item %zu value %zu: %.17g read back as %.17g", i, k, a, b);
            n++;
        }
    for (size_t k = 0; k < 4; k++) {
        CHECK(pact_partial_sums_const(q)[k] == pact_partial_sums_const(p)[k], "sum %zu: %llu vs %llu",
              k, (unsigned long long)pact_partial_sums_const(q)[k],
              (unsigned long long)pact_partial_sums_const(p)[k]);
        n++;
    }
    size_t nc;
    const double *c = pact_partial_context(q, &nc);
    CHECK(nc == 3 && same_bits(c[0], 0.1) && same_bits(c[1], -1e308) && same_bits(c[2], 3.0),
          "context of %zu numbers read back", nc);
    /* the same content is written as the same bytes */
    CHECK_OK(pact_partial_save(q, path2, &err), &err);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", path, path2);
    CHECK(pact_test_run(cmd, NULL, 0) == 0, "saving what was read gives other bytes");
    n += 3;
    pact_partial_free(p);
    pact_partial_free(q);
}

static void check_merge(void)
{
    pact_error err;
    const double c1[1] = {1.0}, c2[1] = {2.0};
    pact_partial *even = make(0, 2, JOB, c1, 1), *odd = make(1, 2, JOB, c1, 1);
    pact_partial *foreign = make(1, 2, "{\"command\":\"other\"}", c1, 1);
    pact_partial *ctx2 = make(1, 2, JOB, c2, 1), *overlap = make(2, 3, JOB, c1, 1);
    pact_partial *other_shape = NULL;
    CHECK_OK(pact_partial_create("eval", JOB, 5, 2, 4, &other_shape, &err), &err);
    n++;
    if (!even || !odd || !foreign || !ctx2 || !overlap || !other_shape)
        goto done;
    struct { pact_partial *part; const char *what; } bad[] = {
        {foreign, "another job"}, {ctx2, "another context"}, {overlap, "an item in both"},
        {other_shape, "rows of another length"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pact_status st = pact_partial_merge(even, bad[i].part, &err);
        CHECK(st == PACT_EMISMATCH && pact_partial_present(even) == 3,
              "merging %s: %s (%s), %zu items present after", bad[i].what, pact_status_str(st),
              err.message, pact_partial_present(even));
        n++;
    }
    CHECK_OK(pact_partial_merge(even, odd, &err), &err);
    CHECK(pact_partial_present(even) == 5, "merged: %zu of 5 items", pact_partial_present(even));
    /* each sum is 1000 + i of the one item that added to it, plus item 4's to sum 0 */
    CHECK(pact_partial_sums_const(even)[0] == 1000 + 1004 && pact_partial_sums_const(even)[3] == 1003,
          "sums %llu, %llu (expected 2004, 1003)",
          (unsigned long long)pact_partial_sums_const(even)[0],
          (unsigned long long)pact_partial_sums_const(even)[3]);
    n += 3;
done:
    pact_partial_free(even);
    pact_partial_free(odd);
    pact_partial_free(foreign);
    pact_partial_free(ctx2);
    pact_partial_free(overlap);
    pact_partial_free(other_shape);
}

static void expect_refused(const char *text, const char *what)
{
    pact_error err;
    pact_partial *p = NULL;
    pact_status st = pact_partial_parse(text, strlen(text), "hostile.json", &p, &err);
    CHECK((st == PACT_EFORMAT || st == PACT_EUNSUPPORTED) && !p &&
              strstr(err.message, "hostile.json") != NULL,
          "%s: %s '%s'", what, pact_status_str(st), st ? err.message : "(accepted)");
    pact_partial_free(p);
    n++;
}

#define HEAD "{\"format\":\"polyact-partial\",\"version\":1,\"kind\":\"eval\",\"job\":{},"

static void check_hostile(const char *dir)
{
    static const struct { const char *text, *what; } cases[] = {
        {"not json", "not JSON"},
        {"[1,2]", "an array"},
        {"{\"format\":\"polyact-calib\",\"version\":1}", "another format"},
        {"{\"format\":\"polyact-partial\",\"version\":2,\"kind\":\"eval\"}", "version 2"},
        {"{\"format\":\"polyact-partial\",\"version\":1,\"kind\":\"Eval!\",\"job\":{},\"shard\":[0,1],"
         "\"items\":1,\"row_size\":0,\"rows\":[],\"sums\":[]}", "a kind with odd characters"},
        {HEAD "\"shard\":[0,1],\"items\":0,\"row_size\":0,\"rows\":[],\"sums\":[]}", "no items"},
        {HEAD "\"shard\":[0,1],\"items\":1e300,\"row_size\":0,\"rows\":[],\"sums\":[]}", "1e300 items"},
        {HEAD "\"shard\":[0,1],\"items\":100000,\"row_size\":100000,\"rows\":[],\"sums\":[]}",
         "items x row too large"},
        {HEAD "\"shard\":[0,1],\"items\":-1,\"row_size\":0,\"rows\":[],\"sums\":[]}", "negative items"},
        {HEAD "\"shard\":[0,1],\"items\":2.5,\"row_size\":0,\"rows\":[],\"sums\":[]}", "fractional items"},
        {HEAD "\"shard\":[2,2],\"items\":3,\"row_size\":0,\"rows\":[],\"sums\":[]}", "shard 2 of 2"},
        {HEAD "\"shard\":[0],\"items\":3,\"row_size\":0,\"rows\":[],\"sums\":[]}", "shard of one number"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":1,\"rows\":{},\"sums\":[]}", "rows not an array"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":1,\"rows\":[[0]],\"sums\":[]}", "a short row"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":1,\"rows\":[[0,1,2]],\"sums\":[]}", "a long row"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":1,\"rows\":[[3,1]],\"sums\":[]}", "item past the end"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":1,\"rows\":[[1,1],[0,1]],\"sums\":[]}",
         "items decreasing"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":1,\"rows\":[[1,1],[1,1]],\"sums\":[]}",
         "an item twice"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":1,\"rows\":[[0,\"abc\"]],\"sums\":[]}",
         "a word for a number"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":1,\"rows\":[[0,null]],\"sums\":[]}", "null for a number"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":0,\"rows\":[],\"sums\":[-1]}", "a negative sum"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":0,\"rows\":[],\"sums\":[0.5]}", "a fractional sum"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":0,\"rows\":[],\"sums\":[1e19]}", "a sum beyond 2^53"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":0,\"rows\":[],\"sums\":{}}", "sums not an array"},
        {HEAD "\"shard\":[0,1],\"items\":3,\"row_size\":0,\"rows\":[],\"sums\":[],\"context\":[\"x\"]}",
         "a word in the context"},
        {"{\"format\":\"polyact-partial\",\"version\":1,\"kind\":\"eval\",\"job\":[],\"shard\":[0,1],"
         "\"items\":3,\"row_size\":0,\"rows\":[],\"sums\":[]}", "a job that is not an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(cases[i].text, cases[i].what);

    /* every truncation of a valid file is refused (the whole file is accepted) */
    pact_error err;
    const double ctx[2] = {1.5, INFINITY};
    pact_partial *p = make(0, 1, JOB, ctx, 2);
    char path[256];
    snprintf(path, sizeof path, "%s/valid.json", dir);
    CHECK_OK(pact_partial_save(p, path, &err), &err);
    pact_partial_free(p);
    FILE *f = fopen(path, "rb");
    char text[8192];
    size_t len = f ? fread(text, 1, sizeof text, f) : 0;
    if (f)
        fclose(f);
    CHECK(len > 100 && len < sizeof text, "valid file of %zu bytes", len);
    n += 2;
    int refused = 0;
    for (size_t cut = 0; cut + 1 < len; cut++) { /* the last byte is the newline */
        pact_partial *q = NULL;
        pact_status st = pact_partial_parse(text, cut, "cut.json", &q, &err);
        refused += st != PACT_OK;
        pact_partial_free(q);
    }
    CHECK(refused == (int)len - 1, "%d of %zu truncations refused", refused, len - 1);
    pact_partial *q = NULL;
    CHECK_OK(pact_partial_parse(text, len, "whole.json", &q, &err), &err);
    pact_partial_free(q);
    n += 2;

    /* a missing file: EIO naming it */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.json", dir);
    pact_status st = pact_partial_load(missing, &q, &err);
    CHECK(st == PACT_EIO && strstr(err.message, "none.json"), "missing file: %s '%s'",
          pact_status_str(st), err.message);
    n++;
}

static void check_create_args(void)
{
    pact_error err;
    pact_partial *p = NULL;
    CHECK(pact_partial_create("Bad Kind", JOB, 1, 0, 0, &p, &err) == PACT_EINVAL && !p,
          "a kind with capitals and a space accepted");
    CHECK(pact_partial_create("eval", "[1]", 1, 0, 0, &p, &err) == PACT_EINVAL && !p,
          "a job that is not an object accepted");
    CHECK(pact_partial_create("eval", JOB, 0, 0, 0, &p, &err) == PACT_EINVAL && !p,
          "zero items accepted");
    CHECK_OK(pact_partial_create("eval", JOB, 2, 1, 0, &p, &err), &err);
    double v = 1.0;
    CHECK(p && pact_partial_set_row(p, 2, &v, &err) == PACT_EINVAL, "item 2 of 2 accepted");
    CHECK(p && pact_partial_set_shard(p, 3, 3, &err) == PACT_EINVAL, "shard 3/3 accepted");
    CHECK(p && pact_partial_row(p, 0) == NULL, "an absent item has a row");
    pact_partial_free(p);
    pact_partial_free(NULL);
    n += 7;
}

int main(void)
{
    char dir[] = "/tmp/pact_partial_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    n++;
    check_create_args();
    check_round_trip(dir);
    check_merge();
    check_hostile(dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    pact_test_run(cmd, NULL, 0);
    return pact_test_done("test_partial", n);
}
