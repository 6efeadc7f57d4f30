#include "json_num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void pact_format_double(char buf[PACT_DOUBLE_TEXT_MAX], double v, int shortest)
{
    for (int prec = shortest ? 15 : 17; prec <= 17; prec++) {
        snprintf(buf, PACT_DOUBLE_TEXT_MAX, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* a caller's setlocale() may have made the decimal point a comma */
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
}

cJSON *pact_json_number(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char buf[PACT_DOUBLE_TEXT_MAX];
    pact_format_double(buf, v, 1);
    return cJSON_CreateRaw(buf);
}

cJSON *pact_json_numbers(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *x = pact_json_number(v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *pact_json_count(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(buf);
}

cJSON *pact_json_counts(const uint64_t *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *x = pact_json_count(v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *pact_json_parse(const char *text, size_t size, long *error_at)
{
    const char *end = NULL; /* cJSON's own error pointer is a global: not used */
    cJSON *root = cJSON_ParseWithLengthOpts(text, size, &end, 0);
    *error_at = !root && end && end >= text && end <= text + size ? (long)(end - text) : -1;
    return root;
}
