/* A user's own inference code (its own tensors and layers, not polyact's
 * engine) that swaps its activations for the polynomials of a plan.
 *
 * The "network" here is a tiny fixed MLP on synthetic 2-D points: two
 * dense layers with ReLU, then a linear read-out that tells which side of a
 * circle a point is on. With no plan file the example makes one itself: a
 * degree-15 least-squares fit of ReLU per layer on [-4, 4]. It prints the
 * accuracy with the exact ReLU and with the plan's polynomials.
 *
 *   user_inference [plan.json]
 */
#include <polyact.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { IN = 2, HID = 16, N = 2000 };

/* the user's own layer: out = W x + b */
static void dense(const float *w, const float *b, const float *x, int nin, int nout, float *out)
{
    for (int o = 0; o < nout; o++) {
        float s = b[o];
        for (int i = 0; i < nin; i++)
            s += w[o * nin + i] * x[i];
        out[o] = s;
    }
}

/* Features |x|^2-like from random projections: fixed weights, deterministic. */
static float W1[HID * IN], B1[HID], W2[HID * HID], B2[HID], W3[HID];

static void init_weights(void)
{
    for (int o = 0; o < HID; o++) {
        double a = 6.283185307179586 * o / HID;
        W1[o * IN] = (float)cos(a);
        W1[o * IN + 1] = (float)sin(a);
        B1[o] = -0.5f;
        for (int i = 0; i < HID; i++)
            W2[o * HID + i] = (o == i) ? 1.0f : 0.0f;
        B2[o] = 0.0f;
        W3[o] = 1.0f;
    }
}

/* Runs the network on one point; with pann != NULL the two activations are
 * the plan's layers 0 and 1. Returns the class (1: outside the circle). */
static int classify(pact_pann *pann, float px, float py)
{
    float x[IN] = {px, py}, h1[HID], h2[HID];
    dense(W1, B1, x, IN, HID, h1);
    if (pann)
        pact_pann_apply(pann, 0, h1, HID, NULL);
    else
        for (int i = 0; i < HID; i++)
            h1[i] = h1[i] > 0 ? h1[i] : 0;
    dense(W2, B2, h1, HID, HID, h2);
    if (pann)
        pact_pann_apply(pann, 1, h2, HID, NULL);
    else
        for (int i = 0; i < HID; i++)
            h2[i] = h2[i] > 0 ? h2[i] : 0;
    float score = 0;
    for (int i = 0; i < HID; i++)
        score += W3[i] * h2[i];
    return score > 2.5f;
}

static pact_plan *make_plan(pact_error *err)
{
    pact_plan *plan = NULL;
    if (pact_plan_create("user-mlp", "", 2, &plan, err) != PACT_OK)
        return NULL;
    const char *names[2] = {"dense1.relu", "dense2.relu"};
    for (int i = 0; i < 2; i++) {
        pact_poly *p = NULL;
        double e;
        if (pact_fit_lsq(PACT_RELU, -4.0, 4.0, 15, NULL, NULL, 0, NULL, &p, &e, err) != PACT_OK ||
            pact_plan_set_poly(plan, i, names[i], PACT_RELU, p, e, err) != PACT_OK) {
            pact_poly_free(p);
            pact_plan_free(plan);
            return NULL;
        }
        pact_poly_free(p);
    }
    return plan;
}

int main(int argc, char **argv)
{
    pact_error err;
    pact_plan *plan = NULL;
    if (argc > 1 ? pact_plan_load(argv[1], &plan, &err) != PACT_OK : !(plan = make_plan(&err))) {
        fprintf(stderr, "user_inference: %s\n", err.message);
        return 1;
    }
    pact_pann *pann = NULL;
    if (pact_pann_create(plan, NULL, &pann, &err) != PACT_OK) {
        fprintf(stderr, "user_inference: %s\n", err.message);
        pact_plan_free(plan);
        return 1;
    }
    init_weights();
    int right_exact = 0, right_poly = 0, agree = 0;
    unsigned s = 12345;
    for (int k = 0; k < N; k++) {
        s = s * 1103515245u + 12345u;
        float px = (float)((s >> 8) % 4000) / 1000.0f - 2.0f;
        s = s * 1103515245u + 12345u;
        float py = (float)((s >> 8) % 4000) / 1000.0f - 2.0f;
        int truth = px * px + py * py > 1.2f;
        int e = classify(NULL, px, py), p = classify(pann, px, py);
        right_exact += e == truth;
        right_poly += p == truth;
        agree += e == p;
    }
    printf("exact ReLU: %d/%d correct; plan's polynomials: %d/%d correct; agreement %d/%d\n",
           right_exact, N, right_poly, N, agree, N);
    for (int i = 0; i < 2; i++)
        printf("layer %d: %llu inputs outside the polynomial's interval\n", i,
               (unsigned long long)pact_pann_layer_stats(pann, i)->out_of_range);
    pact_pann_free(pann);
    pact_plan_free(plan);
    return right_poly > 0 ? 0 : 1;
}
