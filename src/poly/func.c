/* Activation functions in double precision. */
#include "../internal.h"

#include <math.h>
#include <string.h>

static const char *const func_names[PACT_FUNC_COUNT] = {
    "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "abs", "sign",
};

/* sigmoid without overflow for large |x|: exp of a non-positive argument only. */
static double sigmoid(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double pact_func_eval(pact_func f, double x)
{
    switch (f) {
    case PACT_RELU: return x > 0.0 ? x : 0.0;
    /* x * Phi(x) via erfc keeps full relative accuracy in the left tail. */
    case PACT_GELU: return 0.5 * x * erfc(-x / sqrt(2.0));
    case PACT_GELU_TANH: {
        const double k = 0.7978845608028654; /* sqrt(2/pi) */
        return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
    }
    case PACT_SILU: return x * sigmoid(x);
    case PACT_SIGMOID: return sigmoid(x);
    case PACT_TANH: return tanh(x);
    case PACT_ABS: return fabs(x);
    case PACT_SIGN: return (x > 0.0) - (x < 0.0);
    case PACT_FUNC_COUNT: break;
    }
    return NAN;
}

const char *pact_func_name(pact_func f)
{
    return (unsigned)f < PACT_FUNC_COUNT ? func_names[f] : "?";
}

pact_status pact_func_from_name(const char *name, pact_func *f, pact_error *err)
{
    for (int i = 0; name && i < PACT_FUNC_COUNT; i++) {
        if (strcmp(name, func_names[i]) == 0) {
            *f = (pact_func)i;
            return PACT_OK;
        }
    }
    return pact_fail(err, PACT_EINVAL,
                     "unknown function '%s' (expected relu, gelu, gelu_tanh, "
                     "silu, sigmoid, tanh, abs or sign)",
                     name ? name : "(null)");
}

void pact_func_apply_f32(pact_func f, float *x, size_t n)
{
    if (f == PACT_RELU) { /* the hot case: no double round trip */
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        return;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)pact_func_eval(f, (double)x[i]);
}
