/* The published composite minimax sign degrees per ReLU precision alpha
 * (Lee et al., IEEE Access 2023, arXiv 2105.10879). The one copy of this
 * table in polyact: the cost model and the composite fitting both read it. */
#include "cost_internal.h"

#include <stddef.h>

typedef struct {
    int count;
    int degrees[3];
} published;

/* alpha 4..14, component degrees innermost first. */
static const published composite_table[] = {
    {1, {5}},          /* 4 */
    {1, {13}},         /* 5 */
    {2, {3, 7}},       /* 6 */
    {2, {7, 7}},       /* 7 */
    {2, {7, 15}},      /* 8 */
    {2, {15, 15}},     /* 9 */
    {3, {7, 7, 13}},   /* 10 */
    {3, {7, 7, 27}},   /* 11 */
    {3, {7, 15, 27}},  /* 12 */
    {3, {15, 15, 27}}, /* 13 */
    {3, {15, 27, 29}}, /* 14 */
};

enum { ALPHA_MIN = 4, ALPHA_MAX = 14 };

pact_status pact_composite_published_degrees(int alpha, int *degrees, int *count,
                                             pact_error *err)
{
    if (!degrees || !count)
        return pact_fail(err, PACT_EINVAL, "composite degrees: NULL output");
    if (alpha < ALPHA_MIN || alpha > ALPHA_MAX)
        return pact_fail(err, PACT_EINVAL,
                         "composite degrees: alpha %d outside the published %d..%d", alpha,
                         ALPHA_MIN, ALPHA_MAX);
    const published *p = &composite_table[alpha - ALPHA_MIN];
    for (int i = 0; i < p->count; i++)
        degrees[i] = p->degrees[i];
    *count = p->count;
    return PACT_OK;
}
