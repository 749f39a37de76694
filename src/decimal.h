/* dynamo.decimal: an exact DynamoDB number as a Lua userdata (decimal.c).
 *
 * Every decimal is a valid DynamoDB number: at most 38 significant digits,
 * 0 or a magnitude from 1E-130 to 9.9999999999999999999999999999999999999E+125.
 * That holds from creation on (each way of making one checks it), so code
 * that reads a decimal may rely on those bounds. */
#ifndef DYNAMO_DECIMAL_H
#define DYNAMO_DECIMAL_H

#include <stddef.h>
#include <stdint.h>
#include "compat.h"

#define DYN_DECIMAL_MT "dynamo.decimal"

/* DynamoDB's limits. The exponents are of the first significant digit
 * (value = d.ddd * 10^adjusted). */
#define DYN_DECIMAL_MAX_DIGITS 38
#define DYN_DECIMAL_MIN_ADJ (-130)
#define DYN_DECIMAL_MAX_ADJ 125

/* Room for the text of any decimal (38 digits, a sign, a point and up to
 * 37 zeros of padding, or an exponent). */
#define DYN_DECIMAL_BUFSIZE 96

/* The userdata: value = (neg ? -1 : 1) * dig * 10^exp. The digits are
 * stored inline ('1'..'9' first and last, no NUL); zero has ndig == 0 and
 * neg == 0 (there is no -0). */
typedef struct {
    int neg;
    int exp;
    int ndig;
    char dig[];
} dyn_decimal;

/* Registers the "dynamo.decimal" metatable and sets core.decimal in the
 * module table on top of the stack. */
DYN_HIDDEN void dyn_open_decimal(lua_State *L);

/* The decimal at idx, or NULL if it is something else. */
DYN_HIDDEN const dyn_decimal *dyn_decimal_test(lua_State *L, int idx);

/* Pushes a decimal for N text s[0..len) that dyn_number_scan accepted
 * (json == 0, or JSON number text). Returns DYN_NUM_OK, or DYN_NUM_DIGITS /
 * DYN_NUM_RANGE (nothing pushed) when the value breaks DynamoDB's limits. */
DYN_HIDDEN int dyn_decimal_push_text(lua_State *L, const char *s, size_t len);

/* DYN_NUM_OK, DYN_NUM_DIGITS or DYN_NUM_RANGE for valid N text. */
DYN_HIDDEN int dyn_decimal_check_text(const char *s, size_t len);

/* Pushes the message for a DYN_NUM_DIGITS or DYN_NUM_RANGE status of valid
 * N text: "number has 40 significant digits (DynamoDB allows 38)" or
 * "number 1E+126 is out of DynamoDB's range (magnitude 1E-130 to
 * 9.9999999999999999999999999999999999999E+125)". */
DYN_HIDDEN void dyn_decimal_push_limit_error(lua_State *L, int status,
                                             const char *s, size_t len);

/* Writes the text of d (see decimal.c for the notation) to out, which has
 * DYN_DECIMAL_BUFSIZE bytes; returns its length (no NUL). */
DYN_HIDDEN size_t dyn_decimal_format(const dyn_decimal *d, char *out);

#endif
