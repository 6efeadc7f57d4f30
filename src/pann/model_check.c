/* Does a plan or a calibration belong to this model? The checks both share:
 * the layers, by count, name and activation function. */
#include "../internal.h"

#include <string.h>

pact_status pact_check_model_count(const char *what, int n, const pact_model *m, pact_error *err)
{
    if (n != m->n_act)
        return pact_fail(err, PACT_EMISMATCH, "%s has %d activation layers, the model %d", what, n,
                         m->n_act);
    return PACT_OK;
}

pact_status pact_check_model_layer(const char *what, int i, const char *name, pact_func func,
                                   const pact_model *m, pact_error *err)
{
    if (strcmp(name, m->act_names[i]) != 0)
        return pact_fail(err, PACT_EMISMATCH, "%s layer %d is '%s', the model's is '%s'", what, i,
                         name, m->act_names[i]);
    /* a relu plan or calibration does not fit the same weights run with gelu */
    if (m->act_funcs && func != m->act_funcs[i])
        return pact_fail(err, PACT_EMISMATCH,
                         "%s layer %d (%s) is for %s, the model's activation there is %s", what, i,
                         name, pact_func_name(func), pact_func_name(m->act_funcs[i]));
    return PACT_OK;
}
