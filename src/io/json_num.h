/* Doubles in JSON text that read back bit for bit: cJSON prints 15 digits
 * whenever they read back within one epsilon, which loses the last bit of
 * about one coefficient in eight. */
#ifndef PACT_JSON_NUM_H
#define PACT_JSON_NUM_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define PACT_DOUBLE_TEXT_MAX 40

/* Writes finite v with the fewest of 15..17 significant digits that read back
 * exactly (shortest = 0: always 17), with '.' as decimal point. */
void pact_format_double(char buf[PACT_DOUBLE_TEXT_MAX], double v, int shortest);

/* A cJSON raw number item for finite v (exact round trip), null for NaN and
 * infinities (they are not JSON); NULL on no memory. */
cJSON *pact_json_number(double v);

/* An array of n such numbers; NULL on no memory. */
cJSON *pact_json_numbers(const double *v, int n);

/* A cJSON raw number item for an exact count (doubles lose them past 2^53);
 * NULL on no memory. */
cJSON *pact_json_count(uint64_t v);

/* An array of n counts; NULL on no memory. */
cJSON *pact_json_counts(const uint64_t *v, size_t n);

/* Parses `size` bytes of JSON text; NULL on a syntax error (or no memory),
 * with *error_at the byte offset cJSON stopped at (-1 if unknown), for
 * messages such as "not valid JSON (near byte 1234 of 5678)". */
cJSON *pact_json_parse(const char *text, size_t size, long *error_at);

#endif
