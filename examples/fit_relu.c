/* Fitting and evaluating a polynomial in ten lines: the best degree-15
 * approximation of ReLU on [-8, 8], its error, and the cost of evaluating it
 * under HE. */
#include <polyact.h>
#include <stdio.h>

int main(void)
{
    pact_poly *p = NULL;
    pact_error err;
    double max_error;
    if (pact_fit_minimax(PACT_RELU, -8.0, 8.0, 15, NULL, &p, &max_error, &err) != PACT_OK) {
        fprintf(stderr, "fit_relu: %s\n", err.message);
        return 1;
    }
    pact_bsgs cost;
    pact_bsgs_plan(pact_poly_degree(p), &cost, NULL);
    printf("relu on [-8, 8], degree 15: max error %.6f, p(0.5) = %.6f, depth %d, %d ciphertext "
           "multiplications\n", max_error, pact_poly_eval(p, 0.5), cost.depth, cost.nonscalar_mults);
    pact_poly_free(p);
    return 0;
}
