/* pact_plan_check_model and pact_calib_check_model: a plan or a calibration
 * fits a model only with the same layer count, names and activation function
 * per layer (and weights, when both record a sha256). A relu plan used to be
 * accepted for the same weights run with --act gelu (relu polynomials in a
 * gelu network, reported as that network's PANN), and so was a relu
 * calibration (the intervals and histograms of other inputs). */
#include "testutil.h"

#include <string.h>

static int expect(const pact_plan *plan, const pact_model *m, pact_status want, const char *a,
                  const char *b, const char *what)
{
    pact_error err;
    memset(&err, 0, sizeof err);
    pact_status st = pact_plan_check_model(plan, m, NULL, &err);
    CHECK(st == want && (!a || strstr(err.message, a)) && (!b || strstr(err.message, b)),
          "%s: %s '%s' (want %s naming '%s' and '%s')", what, pact_status_str(st), err.message,
          pact_status_str(want), a ? a : "", b ? b : "");
    return 1;
}

int main(void)
{
    int n = 0;
    const char *names[2] = {"stem", "block.relu"};
    const pact_func relu[2] = {PACT_RELU, PACT_RELU};
    pact_model m = {.n_act = 2, .act_names = names, .act_funcs = relu, .input_size = 3072,
                    .n_classes = 10};
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_uniform("minimax:degree=7,B=4", &m, NULL, "t", "", &plan, &err), &err);
    n++;
    if (plan) {
        n += expect(plan, &m, PACT_OK, NULL, NULL, "the model it was made for");
        const pact_func gelu[2] = {PACT_RELU, PACT_GELU};
        pact_model g = m;
        g.act_funcs = gelu;
        n += expect(plan, &g, PACT_EMISMATCH, "block.relu", "gelu", "layer 1 run as gelu");
        const char *other[2] = {"stem", "block.act"};
        pact_model o = m;
        o.act_names = other;
        n += expect(plan, &o, PACT_EMISMATCH, "block.act", "block.relu", "renamed layer");
        pact_model one = m;
        one.n_act = 1;
        n += expect(plan, &one, PACT_EMISMATCH, "2", "1", "fewer layers");
    }
    pact_plan_free(plan);

    static const char calib_json[] =
        "{\"format\":\"polyact-calib\",\"version\":1,\"model\":\"t\",\"model_sha256\":\"ab\","
        "\"data\":\"d\",\"images\":1,\"chunk_images\":1,\"bins\":1,\"quantile_levels\":[0.5],"
        "\"layers\":[{\"index\":0,\"name\":\"stem\",\"func\":\"relu\",\"count\":1,\"min\":-1,"
        "\"max\":1,\"mean\":0,\"std\":0,\"quantiles\":[0],\"histogram\":[1]},"
        "{\"index\":1,\"name\":\"block.relu\",\"func\":\"relu\",\"count\":1,\"min\":-1,"
        "\"max\":1,\"mean\":0,\"std\":0,\"quantiles\":[0],\"histogram\":[1]}]}";
    pact_calib *cal = NULL;
    CHECK_OK(pact_calib_parse(calib_json, sizeof calib_json - 1, "t", &cal, &err), &err);
    n++;
    if (cal) {
        typedef struct {
            pact_model m;
            const char *sha, *a, *b, *what;
            pact_status want;
        } check_case;
        check_case cases[5];
        const pact_func gelu[2] = {PACT_RELU, PACT_GELU};
        const char *other[2] = {"stem", "block.act"};
        for (int k = 0; k < 5; k++)
            cases[k] = (check_case){m, NULL, NULL, NULL, "the model it was made for", PACT_OK};
        cases[1].m.act_funcs = gelu, cases[1].a = "block.relu", cases[1].b = "gelu";
        cases[1].what = "layer 1 run as gelu", cases[1].want = PACT_EMISMATCH;
        cases[2].m.act_names = other, cases[2].a = "block.act", cases[2].b = "block.relu";
        cases[2].what = "renamed layer", cases[2].want = PACT_EMISMATCH;
        cases[3].m.n_act = 1, cases[3].a = "2", cases[3].b = "1";
        cases[3].what = "fewer layers", cases[3].want = PACT_EMISMATCH;
        cases[4].sha = "cd", cases[4].a = "ab", cases[4].b = "cd";
        cases[4].what = "other weights", cases[4].want = PACT_EMISMATCH;
        for (int k = 0; k < 5; k++) {
            memset(&err, 0, sizeof err);
            pact_status st = pact_calib_check_model(cal, &cases[k].m, cases[k].sha, &err);
            CHECK(st == cases[k].want && (!cases[k].a || strstr(err.message, cases[k].a)) &&
                      (!cases[k].b || strstr(err.message, cases[k].b)),
                  "calibration, %s: %s '%s' (want %s naming '%s' and '%s')", cases[k].what,
                  pact_status_str(st), err.message, pact_status_str(cases[k].want),
                  cases[k].a ? cases[k].a : "", cases[k].b ? cases[k].b : "");
            n++;
        }
    }
    pact_calib_free(cal);
    return pact_test_done("test_plan_check", n);
}
