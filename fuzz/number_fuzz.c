/* libFuzzer target: arbitrary bytes as the text of an N, through codec:decode
 * of {"N":"<bytes>"} in the three number modes (src/number.c, decimal.c, as
 * the client reaches them), checked against a reference written here
 * without their shortcuts: a decimal is its digit string and exponent, a
 * double's exact value is what glibc's printf writes with enough digits,
 * and the nearest double is what glibc's strtod_l gives (both exact).
 *
 * For the text x:
 * - it parses exactly when it matches DynamoDB's N grammar
 *   ([+-] digits [. digits] [e [+-] digits], at least one digit);
 * - numbers = "float": an integral value within int64 is that integer,
 *   anything else the nearest double, or "number out of range" when that
 *   is infinite;
 * - numbers = "exact": the same integer; else the same double when the
 *   double's encoding is the decimal x; else a decimal equal to x, or
 *   (beyond 38 significant digits or DynamoDB's range) an error;
 * - numbers = "decimal": a decimal equal to x, or that error;
 * - core.decimal(x) accepts x exactly when decimal mode decodes it;
 * - a decimal prints (tostring, encode) as text that denotes x, converts
 *   (d:tonumber()) as float mode decodes x, and compares (<, <=, d:eq)
 *   with the neighbouring floats and integers as their exact values say;
 * - the same bytes as plain JSON decode to the float-mode value exactly
 *   when they match JSON's number grammar, in every mode;
 * - a decoded integer or double encodes as a JSON number that reads back
 *   as the same value: a double with the fewest significant digits that
 *   do (compared with printf's %.*e; integral doubles below 2^63 as the
 *   exact integer); as an N, a double outside DynamoDB's range (by those
 *   digits) is refused, and -0 is "0".
 * The first 8 bytes are also taken as the bits of a double: NaN and the
 * infinities must be refused, every other double must obey the last rule,
 * and core.decimal(double) must denote the digits the encoder writes. */
#define _GNU_SOURCE     /* strtod_l, newlocale */
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

/* Stack slots the setup chunk leaves behind. */
enum { DECODE = 1, ENCODE, EXACT, FLOAT, DECIMAL, NEW_DECIMAL, TOSTRING,
       SLOTS = TOSTRING };

static const char setup[] =
    "local core = ...\n"
    "local exact = core.codec { numbers = 'exact' }\n"
    "return exact.decode, exact.encode, exact,\n"
    "  core.codec { numbers = 'float' }, core.codec { numbers = 'decimal' },\n"
    "  core.decimal, tostring\n";

static lua_State *L;
static locale_t c_locale;

/* ---- the reference ------------------------------------------------------ */

/* A decimal: (neg ? -1 : 1) * digits * 10^exp, digits without leading or
 * trailing zeros (none for zero). */
typedef struct {
    int neg;
    char *digits;
    size_t ndigits;
    long long exp;      /* saturates far beyond any double */
} decimal;

#define EXP_CAP 1000000000000LL

enum { LIMITS_OK, LIMITS_DIGITS, LIMITS_RANGE };

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* DynamoDB's N grammar; fills *d (free d->digits). */
static int parse_n(const char *s, size_t n, decimal *d)
{
    size_t i = 0, nfrac = 0, k;
    long long e = 0;
    int eneg = 0, any = 0;
    d->neg = 0;
    d->digits = malloc(n + 1);
    d->ndigits = 0;
    d->exp = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        d->neg = s[i++] == '-';
    for (; i < n && is_digit(s[i]); i++, any = 1)
        d->digits[d->ndigits++] = s[i];
    if (i < n && s[i] == '.')
        for (i++; i < n && is_digit(s[i]); i++, nfrac++, any = 1)
            d->digits[d->ndigits++] = s[i];
    if (!any)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= n || !is_digit(s[i]))
            return 0;
        for (; i < n && is_digit(s[i]); i++)
            if (e < EXP_CAP)
                e = e * 10 + (s[i] - '0');
    }
    if (i != n)
        return 0;
    d->exp = (eneg ? -e : e) - (long long)nfrac;
    /* canonical: no leading, no trailing zeros */
    for (k = 0; k < d->ndigits && d->digits[k] == '0'; k++)
        ;
    memmove(d->digits, d->digits + k, d->ndigits - k);
    d->ndigits -= k;
    while (d->ndigits && d->digits[d->ndigits - 1] == '0') {
        d->ndigits--;
        d->exp++;
    }
    if (d->ndigits == 0) {
        d->exp = 0;
        d->neg = 0;
    }
    return 1;
}

/* parse_n for text that must be valid. */
static void parse_ok(const char *s, size_t n, decimal *d)
{
    if (!parse_n(s, n, d))
        fuzz_fail("reference: cannot parse \"%.*s\"", (int)n, s);
}

/* The power of ten of the first digit. */
static long long adjusted(const decimal *d)
{
    return d->exp + (long long)d->ndigits - 1;
}

/* DynamoDB's limits: 38 significant digits, magnitude 1E-130 to below
 * 1E+126 (or zero). */
static int limits(const decimal *d)
{
    if (d->ndigits == 0)
        return LIMITS_OK;
    if (d->ndigits > 38)
        return LIMITS_DIGITS;
    if (adjusted(d) < -130 || adjusted(d) > 125)
        return LIMITS_RANGE;
    return LIMITS_OK;
}

/* -1, 0 or 1 as a < b, a == b, a > b. */
static int compare(const decimal *a, const decimal *b)
{
    int sa = a->ndigits ? (a->neg ? -1 : 1) : 0;
    int sb = b->ndigits ? (b->neg ? -1 : 1) : 0;
    int mag = 0;
    size_t i;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    if (adjusted(a) != adjusted(b)) {
        mag = adjusted(a) < adjusted(b) ? -1 : 1;
    } else {
        for (i = 0; i < a->ndigits || i < b->ndigits; i++) {
            char x = i < a->ndigits ? a->digits[i] : '0';
            char y = i < b->ndigits ? b->digits[i] : '0';
            if (x != y) {
                mag = x < y ? -1 : 1;
                break;
            }
        }
    }
    return sa * mag;
}

/* The exact value of the Lua number at idx. glibc prints a double's exact
 * binary value when asked for enough digits (767 significant at most). */
static void exact_value(int idx, decimal *d)
{
    char text[900];
    if (lua_isinteger(L, idx))
        snprintf(text, sizeof text, "%lld", (long long)lua_tointeger(L, idx));
    else
        snprintf(text, sizeof text, "%.800e", (double)lua_tonumber(L, idx));
    parse_ok(text, strlen(text), d);
}

/* JSON's number grammar, the whole of s[0..n). */
static int json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && is_digit(s[i]))
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        if (++i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i == n;
}

/* Only characters a number can have. */
static int number_chars(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!is_digit(s[i]) && (s[i] == '\0' || !strchr("+-.eE", s[i])))
            return 0;
    return 1;
}

/* The int64 value of d, if it is integral and fits. */
static int decimal_integer(const decimal *d, long long *out)
{
    unsigned long long u = 0;
    long long i;
    if (d->ndigits == 0) {
        *out = 0;
        return 1;
    }
    if (d->exp < 0 || (long long)d->ndigits + d->exp > 19)
        return 0;
    for (i = 0; i < (long long)d->ndigits + d->exp; i++) {
        unsigned dig = (size_t)i < d->ndigits ? (unsigned)(d->digits[i] - '0') : 0;
        if (u > (ULLONG_MAX - dig) / 10)
            return 0;
        u = u * 10 + dig;
    }
    if (d->neg) {
        if (u > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *out = (long long)(0 - u);
    } else {
        if (u > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)u;
    }
    return 1;
}

/* strtod in the C locale of s[0..n) (copied to add the terminator). */
static double c_strtod(const char *s, size_t n)
{
    char *t = malloc(n + 1);
    double d;
    memcpy(t, s, n);
    t[n] = '\0';
    d = strtod_l(t, NULL, c_locale);
    free(t);
    return d;
}

static int same_double(double a, double b)
{
    return a == b && signbit(a) == signbit(b);
}

static const char *show(const char *s, size_t n)
{
    static char out[200];
    size_t i, k = 0;
    for (i = 0; i < n && k < sizeof out - 5; i++) {
        unsigned char c = (unsigned char)s[i];
        k += (size_t)snprintf(out + k, sizeof out - k,
                              c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
    }
    if (i < n)
        strcpy(out + k, "...");
    else
        out[k] = '\0';
    return out;
}

/* ---- calling the codec -------------------------------------------------- */

/* Pushes {"N":"<s, escaped>"}. */
static void push_n_json(const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    luaL_Buffer b;
    size_t i;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "{\"N\":\"");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            luaL_addchar(&b, '\\');
            luaL_addchar(&b, (char)c);
        } else if (c < 0x20) {
            luaL_addstring(&b, "\\u00");
            luaL_addchar(&b, hex[c >> 4]);
            luaL_addchar(&b, hex[c & 15]);
        } else {
            luaL_addchar(&b, (char)c);
        }
    }
    luaL_addstring(&b, "\"}");
    luaL_pushresult(&b);
}

/* Decodes the string on top with the codec in slot codec and map "V" (or
 * nil): replaces it with the value and returns 1, or with nil and the
 * message (on top) and returns 0. */
static int decode_top(int codec, int av)
{
    int n, base = lua_gettop(L) - 1;
    size_t len = lua_rawlen(L, -1);
    lua_pushvalue(L, DECODE);
    lua_pushvalue(L, codec);
    lua_rotate(L, base + 1, 2);         /* decode, codec, json */
    if (av)
        lua_pushliteral(L, "V");
    else
        lua_pushnil(L);
    fuzz_call(L, 3, LUA_MULTRET, "decode raised");
    n = lua_gettop(L) - base;
    if (n == 1 && !lua_isnil(L, -1))
        return 1;
    if (n != 2 || !lua_isnil(L, -2) || lua_type(L, -1) != LUA_TSTRING)
        fuzz_fail("decode returned %d values", n);
    fuzz_check_decode_error(L, -1, len);
    return 0;
}

/* Encodes the value at idx, as plain JSON (av == 0: the number text) or as
 * an N (av == 1: {"N":"..."}), and pushes the number text. Returns 0 and
 * pushes the message instead if encode raised. */
static int encode(int idx, int av)
{
    size_t len;
    const char *json;
    idx = lua_absindex(L, idx);
    lua_pushvalue(L, ENCODE);
    lua_pushvalue(L, EXACT);
    lua_pushvalue(L, idx);
    if (av)
        lua_pushliteral(L, "V");
    else
        lua_pushnil(L);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK)
        return 0;
    if (!av)
        return 1;
    json = lua_tolstring(L, -1, &len);
    if (len < 9 || memcmp(json, "{\"N\":\"", 6) != 0 ||
        memcmp(json + len - 2, "\"}", 2) != 0)
        fuzz_fail("a number encoded as %s", json);
    lua_pushlstring(L, json + 6, len - 8);
    lua_remove(L, -2);
    return 1;
}

/* Calls method name of the value at idx with the value at arg (0: none);
 * pushes the one result. */
static void method(int idx, const char *name, int arg)
{
    idx = lua_absindex(L, idx);
    arg = arg ? lua_absindex(L, arg) : 0;
    lua_getfield(L, idx, name);
    lua_pushvalue(L, idx);
    if (arg)
        lua_pushvalue(L, arg);
    fuzz_call(L, arg ? 2 : 1, 1, name);
}

static int is_decimal(int idx)
{
    return lua_type(L, idx) == LUA_TUSERDATA;
}

/* ---- checks ------------------------------------------------------------- */

/* The text an encoded double must be: see the top. */
static void check_double_text(double x, const char *t, size_t n)
{
    char ref[64];
    const char *p = t, *end = t + n;
    char dig[40];
    size_t nd = 0;
    int prec;
    double back;

    if (!json_number(t, n))
        fuzz_fail("%.17g encoded as \"%s\", not a JSON number", x, show(t, n));
    back = c_strtod(t, n);
    if (!same_double(back, x))
        fuzz_fail("%.17g encoded as \"%s\", which reads back as %.17g", x,
                  show(t, n), back);
    if (fabs(x) < 9223372036854775808.0 && x == floor(x)) {
        snprintf(ref, sizeof ref, "%.0f", x);
        if (strlen(ref) != n || memcmp(ref, t, n) != 0)
            fuzz_fail("integral %.17g encoded as \"%s\", not \"%s\"", x,
                      show(t, n), ref);
        return;
    }
    /* significant digits of t */
    for (; p < end && *p != 'e' && *p != 'E'; p++)
        if (is_digit(*p) && (nd > 0 || *p != '0') && nd < sizeof dig)
            dig[nd++] = *p;
    while (nd > 0 && dig[nd - 1] == '0')
        nd--;
    /* the fewest digits printf needs to read back as x */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(ref, sizeof ref, "%.*e", prec - 1, x);
        if (same_double(c_strtod(ref, strlen(ref)), x))
            break;
    }
    if (nd > (size_t)prec)
        fuzz_fail("%.17g encoded as \"%s\": %zu digits, but \"%s\" reads "
                  "back with %d", x, show(t, n), nd, ref, prec);
    if (nd == (size_t)prec) {
        /* the same length: then the nearest, which printf's is */
        const char *r = ref + (ref[0] == '-');
        char rd[40];
        size_t k = 0;
        for (; *r && *r != 'e'; r++)
            if (is_digit(*r))
                rd[k++] = *r;
        while (k > 0 && rd[k - 1] == '0')
            k--;
        if (k != nd || memcmp(rd, dig, nd) != 0)
            fuzz_fail("%.17g encoded as \"%s\", but \"%s\" is nearer", x,
                      show(t, n), ref);
    }
}

/* The Lua number on top (a decoded value, or any double): its encodings,
 * and the plain one decoded again. */
static void check_number(void)
{
    int v = lua_gettop(L), is_int = lua_isinteger(L, v);
    size_t n, an;
    const char *t, *at;
    double x = lua_tonumber(L, v);
    decimal dt;

    if (!encode(v, 0))
        fuzz_fail("encoding the number %.17g raised: %s", x,
                  lua_tostring(L, -1));
    t = lua_tolstring(L, -1, &n);
    if (is_int) {
        char ref[32];
        snprintf(ref, sizeof ref, "%lld", (long long)lua_tointeger(L, v));
        if (strlen(ref) != n || memcmp(ref, t, n) != 0)
            fuzz_fail("integer %s encoded as \"%s\"", ref, show(t, n));
    } else {
        check_double_text(x, t, n);
    }

    /* as an N: the same text (zero as "0"), if within DynamoDB's range */
    parse_ok(t, n, &dt);
    if (encode(v, 1)) {
        at = lua_tolstring(L, -1, &an);
        if (x == 0 ? an != 1 || at[0] != '0'
                   : an != n || memcmp(at, t, n) != 0)
            fuzz_fail("%.17g: N \"%s\" but JSON \"%s\"", x, show(at, an),
                      show(t, n));
        if (limits(&dt) != LIMITS_OK)
            fuzz_fail("%.17g is beyond DynamoDB's range but was sent as "
                      "\"%s\"", x, show(at, an));
    } else if (limits(&dt) == LIMITS_OK ||
               !strstr(lua_tostring(L, -1), "out of DynamoDB's range")) {
        fuzz_fail("encoding %.17g as an N raised: %s", x, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    free(dt.digits);

    /* the plain text decoded again (t stays on the stack meanwhile) */
    lua_pushlstring(L, t, n);
    if (!decode_top(FLOAT, 0))
        fuzz_fail("our own number \"%s\" did not decode: %s", show(t, n),
                  lua_tostring(L, -1));
    if (!lua_compare(L, -1, v, LUA_OPEQ))
        fuzz_fail("our own number \"%s\" decoded to another value",
                  show(t, n));
    if (is_int && !lua_isinteger(L, -1))
        fuzz_fail("our own integer \"%s\" decoded as a float", show(t, n));
    lua_settop(L, v);
}

/* The decimal at idx against the Lua number on top: <, <=, d:eq and the
 * reverse orders as their exact values say. */
static void check_order(int idx, const decimal *want, const char *s,
                        size_t n)
{
    int g = lua_gettop(L), c, lt, le, gt, eq;
    decimal gv;
    exact_value(g, &gv);
    c = compare(want, &gv);
    lt = lua_compare(L, idx, g, LUA_OPLT);
    le = lua_compare(L, idx, g, LUA_OPLE);
    gt = lua_compare(L, g, idx, LUA_OPLT);
    method(idx, "eq", g);
    eq = lua_toboolean(L, -1);
    if (lt != (c < 0) || le != (c <= 0) || gt != (c > 0) || eq != (c == 0))
        fuzz_fail("decimal \"%s\" against %s %.17g: <%d <=%d >%d eq%d, "
                  "but it is %s", show(s, n),
                  lua_isinteger(L, g) ? "integer" : "float",
                  lua_tonumber(L, g), lt, le, gt, eq,
                  c < 0 ? "less" : c > 0 ? "greater" : "equal");
    free(gv.digits);
    lua_settop(L, g - 1);
}

/* The decimal on top, decoded (or made) from the text s that is want. */
static void check_decimal(const decimal *want, const char *s, size_t n,
                          int is_int, long long want_i, double want_d)
{
    int d = lua_gettop(L);
    size_t tn, sn;
    const char *t, *ts;
    decimal got;

    if (!is_decimal(d))
        fuzz_fail("\"%s\": a %s where a decimal was expected", show(s, n),
                  luaL_typename(L, d));
    /* its text: the same value, JSON grammar, what tostring says */
    if (!encode(d, 0))
        fuzz_fail("encoding the decimal \"%s\" raised: %s", show(s, n),
                  lua_tostring(L, -1));
    t = lua_tolstring(L, -1, &tn);
    parse_ok(t, tn, &got);
    if (compare(want, &got) != 0 || got.ndigits != want->ndigits ||
        !json_number(t, tn))
        fuzz_fail("decimal \"%s\" encoded as \"%s\"", show(s, n),
                  show(t, tn));
    free(got.digits);
    lua_pushvalue(L, TOSTRING);
    lua_pushvalue(L, d);
    fuzz_call(L, 1, 1, "tostring");
    ts = lua_tolstring(L, -1, &sn);
    if (sn != tn || memcmp(ts, t, tn) != 0)
        fuzz_fail("decimal \"%s\": tostring \"%s\", encoded \"%s\"",
                  show(s, n), show(ts, sn), show(t, tn));
    lua_pop(L, 1);
    /* as an N: the same text, decoding again to an equal decimal */
    if (!encode(d, 1))
        fuzz_fail("encoding the decimal \"%s\" as an N raised: %s",
                  show(s, n), lua_tostring(L, -1));
    if (lua_rawlen(L, -1) != tn || memcmp(lua_tostring(L, -1), t, tn) != 0)
        fuzz_fail("decimal \"%s\": N \"%s\", JSON \"%s\"", show(s, n),
                  show(lua_tostring(L, -1), lua_rawlen(L, -1)), show(t, tn));
    lua_pop(L, 1);
    push_n_json(t, tn);
    if (!decode_top(DECIMAL, 1) || !lua_compare(L, -1, d, LUA_OPEQ))
        fuzz_fail("decimal \"%s\" did not decode again from \"%s\"",
                  show(s, n), show(t, tn));
    lua_settop(L, d);

    /* tonumber, isinteger, sign */
    method(d, "tonumber", 0);
    if (is_int ? !lua_isinteger(L, -1) || lua_tointeger(L, -1) != want_i
               : lua_isinteger(L, -1) ||
                 !same_double(lua_tonumber(L, -1), want_d))
        fuzz_fail("decimal \"%s\": tonumber gave %.17g", show(s, n),
                  lua_tonumber(L, -1));
    lua_pop(L, 1);
    method(d, "isinteger", 0);
    if (lua_toboolean(L, -1) != (want->ndigits == 0 || want->exp >= 0))
        fuzz_fail("decimal \"%s\": isinteger is wrong", show(s, n));
    lua_pop(L, 1);
    method(d, "sign", 0);
    if (lua_tointeger(L, -1) !=
        (want->ndigits == 0 ? 0 : want->neg ? -1 : 1))
        fuzz_fail("decimal \"%s\": sign is wrong", show(s, n));
    lua_pop(L, 1);

    /* order against the nearest float and its neighbours, and integers */
    if (is_int) {
        lua_pushinteger(L, want_i);
        check_order(d, want, s, n);
        if (want_i < LLONG_MAX) {
            lua_pushinteger(L, want_i + 1);
            check_order(d, want, s, n);
        }
        if (want_i > LLONG_MIN) {
            lua_pushinteger(L, want_i - 1);
            check_order(d, want, s, n);
        }
    } else {
        lua_pushnumber(L, want_d);
        check_order(d, want, s, n);
        lua_pushnumber(L, nextafter(want_d, INFINITY));
        check_order(d, want, s, n);
        lua_pushnumber(L, nextafter(want_d, -INFINITY));
        check_order(d, want, s, n);
        lua_pushinteger(L, (lua_Integer)fmax(fmin(want_d, 9e18), -9e18));
        check_order(d, want, s, n);
    }
    lua_settop(L, d);
}

/* The error (on top) of a decimal beyond DynamoDB's limits. */
static void check_limit_error(int lim, const char *s, size_t n)
{
    const char *msg = lua_tostring(L, -1);
    if (lim == LIMITS_DIGITS ? !strstr(msg, "significant digits")
                             : !strstr(msg, "range") || strstr(msg, "digits"))
        fuzz_fail("\"%s\" breaks DynamoDB's %s limit, but: %s", show(s, n),
                  lim == LIMITS_DIGITS ? "digit" : "range", msg);
}

static void check_text(const char *s, size_t n)
{
    decimal d;
    int valid = parse_n(s, n, &d), top = lua_gettop(L), codec;
    long long want_i = 0;
    int is_int = valid && decimal_integer(&d, &want_i);
    double want_d = valid && !is_int ? c_strtod(s, n) : 0;
    int lim = valid ? limits(&d) : LIMITS_OK, ok, float_exact = 0, i;
    static const int modes[] = {EXACT, DECIMAL};
    const char *msg;

    /* numbers = "float" */
    push_n_json(s, n);
    ok = decode_top(FLOAT, 1);
    msg = ok ? NULL : lua_tostring(L, -1);
    if (!valid) {
        if (ok || !strstr(msg, "invalid"))
            fuzz_fail("\"%s\" is no N but: %s", show(s, n),
                      ok ? "it decoded" : msg);
    } else if (is_int) {
        if (!ok || !lua_isinteger(L, -1) || lua_tointeger(L, -1) != want_i)
            fuzz_fail("\"%s\" did not decode as the integer %lld%s%s",
                      show(s, n), want_i, msg ? ": " : "", msg ? msg : "");
    } else if (isinf(want_d)) {
        if (ok || !strstr(msg, "number out of range"))
            fuzz_fail("\"%s\" is beyond the double range but did not fail "
                      "as such", show(s, n));
    } else if (!ok || lua_isinteger(L, -1) ||
               !same_double(lua_tonumber(L, -1), want_d)) {
        fuzz_fail("\"%s\" did not decode as the double %.17g%s%s",
                  show(s, n), want_d, msg ? ": " : "", msg ? msg : "");
    }
    if (ok) {
        check_number();
        if (!is_int) {
            /* whether the double's text is the decimal x: then exact mode
             * keeps the double */
            decimal ft;
            if (!encode(-1, 0))
                fuzz_fail("cannot encode %.17g", want_d);
            parse_ok(lua_tostring(L, -1), lua_rawlen(L, -1), &ft);
            float_exact = compare(&d, &ft) == 0;
            free(ft.digits);
            lua_pop(L, 1);
        }
    }
    lua_settop(L, top);

    /* numbers = "exact" and "decimal" */
    for (i = 0; i < 2; i++) {
        const char *mode;
        codec = modes[i];
        mode = codec == EXACT ? "exact" : "decimal";
        push_n_json(s, n);
        ok = decode_top(codec, 1);
        msg = ok ? NULL : lua_tostring(L, -1);
        if (!valid) {
            if (ok || !strstr(msg, "invalid"))
                fuzz_fail("\"%s\" is no N but %s mode: %s", show(s, n), mode,
                          ok ? "it decoded" : msg);
        } else if (codec == EXACT && is_int) {
            if (!ok || !lua_isinteger(L, -1) || lua_tointeger(L, -1) != want_i)
                fuzz_fail("\"%s\": exact mode lost the integer%s%s",
                          show(s, n), msg ? ": " : "", msg ? msg : "");
        } else if (codec == EXACT && float_exact) {
            if (!ok || lua_type(L, -1) != LUA_TNUMBER ||
                lua_isinteger(L, -1) ||
                !same_double(lua_tonumber(L, -1), want_d))
                fuzz_fail("\"%s\" is exactly %.17g but exact mode gave %s",
                          show(s, n), want_d,
                          ok ? luaL_typename(L, -1) : msg);
        } else if (lim != LIMITS_OK) {
            if (ok)
                fuzz_fail("\"%s\" breaks DynamoDB's limits but %s mode "
                          "decoded it", show(s, n), mode);
            check_limit_error(lim, s, n);
        } else {
            if (!ok)
                fuzz_fail("\"%s\": %s mode: %s", show(s, n), mode, msg);
            check_decimal(&d, s, n, is_int, want_i, want_d);
        }
        lua_settop(L, top);
    }

    /* core.decimal(text) */
    lua_pushvalue(L, NEW_DECIMAL);
    lua_pushlstring(L, s, n);
    ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
    if (ok != (valid && lim == LIMITS_OK))
        fuzz_fail("core.decimal(\"%s\") %s", show(s, n),
                  ok ? "made a decimal" : lua_tostring(L, -1));
    if (ok)
        check_decimal(&d, s, n, is_int, want_i, want_d);
    else if (valid)
        check_limit_error(lim, s, n);
    lua_settop(L, top);

    /* the same bytes as plain JSON, when they are number characters: never
     * a decimal, whatever the mode */
    if (n > 0 && number_chars(s, n)) {
        int json = json_number(s, n), in_range = json && (is_int || !isinf(want_d));
        for (codec = EXACT; codec <= DECIMAL; codec++) {
            lua_pushlstring(L, s, n);
            if (decode_top(codec, 0) != in_range)
                fuzz_fail("plain JSON \"%s\" %s", show(s, n),
                          in_range ? "did not decode" : "decoded");
            if (json && !in_range &&
                !strstr(lua_tostring(L, -1), "number out of range"))
                fuzz_fail("plain JSON \"%s\" is beyond the double range but "
                          "did not fail as such", show(s, n));
            if (in_range &&
                (is_int ? !lua_isinteger(L, -1) || lua_tointeger(L, -1) != want_i
                        : lua_type(L, -1) != LUA_TNUMBER ||
                          !same_double(lua_tonumber(L, -1), want_d)))
                fuzz_fail("plain JSON \"%s\" decoded to another value",
                          show(s, n));
            lua_settop(L, top);
        }
    }
    free(d.digits);
}

static void check_bits(const uint8_t *data, size_t size)
{
    unsigned char bits[8] = {0};
    double x;
    int top = lua_gettop(L), ok;
    memcpy(bits, data, size < 8 ? size : 8);
    memcpy(&x, bits, 8);
    lua_pushnumber(L, x);
    if (!isfinite(x)) {
        if (encode(-1, 0) || encode(-2, 1))
            fuzz_fail("%g encoded as %s", x, lua_tostring(L, -1));
        if (!strstr(lua_tostring(L, -1), "NaN and infinity cannot be stored"))
            fuzz_fail("%g refused with: %s", x, lua_tostring(L, -1));
        lua_settop(L, top);
        return;
    }
    check_number();
    /* core.decimal(x): the digits the encoder writes, if within limits */
    {
        decimal want;
        size_t n;
        const char *t;
        if (!encode(-1, 0))
            fuzz_fail("cannot encode %.17g", x);
        t = lua_tolstring(L, -1, &n);
        parse_ok(t, n, &want);
        lua_pushvalue(L, NEW_DECIMAL);
        lua_pushnumber(L, x);
        ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
        if (ok != (limits(&want) == LIMITS_OK))
            fuzz_fail("core.decimal(%.17g) %s", x,
                      ok ? "made a decimal" : lua_tostring(L, -1));
        if (ok) {
            long long i = 0;
            int is_int = decimal_integer(&want, &i);
            check_decimal(&want, t, n, is_int, i, c_strtod(t, n));
        }
        free(want.digits);
    }
    lua_settop(L, top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!c_locale)
        fuzz_fail("cannot make the C locale");
    L = fuzz_setup(setup, SLOTS);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_text((const char *)data, size);
    check_bits(data, size);
    if (lua_gettop(L) != SLOTS)
        fuzz_fail("the stack was left at %d", lua_gettop(L));
    fuzz_tick(L);
    return 0;
}
