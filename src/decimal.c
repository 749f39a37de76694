/* dynamo.decimal: an exact DynamoDB number. A carrier, not a calculator:
 * it is made from N text or a Lua number, prints, compares exactly and
 * converts to a Lua number; there is no arithmetic but negation.
 *
 *   core.decimal(x)      x: N text ("123.45", "-1E+30"), an integer
 *                        (exactly), a float (the text the encoder would
 *                        send for it: shortest round-trip digits, integral
 *                        floats below 2^63 as the exact integer) or a
 *                        decimal (returned as is). Raises
 *                        "bad argument #1 to 'decimal' (...)".
 *   tostring(d), d:tostring()
 *                        Plain notation when the first significant digit's
 *                        power of ten is from -6 to 37 ("0.000001",
 *                        "123.45", 38-digit integers), else one digit
 *                        before the point and an exponent ("1E-7",
 *                        "-1.5E+38"). No trailing zeros; zero is "0".
 *                        The text reads back as the same value.
 *   d:tonumber()         integer when integral and within int64 (LuaJIT:
 *                        2^53), else the nearest float (ties to even).
 *   d:sign()             -1, 0 or 1.   d:isinteger()   integral?
 *   d:eq(x)              exact equality with a decimal, number or N text.
 *   ==                   between decimals (Lua never calls __eq for a
 *                        userdata and a number: decimal == number is false).
 *   <, <=                exact, between decimals and numbers in any order;
 *                        a float is compared by its binary value. NaN is
 *                        unordered.
 *   -d, "x" .. d, d .. "x"
 *
 * Representation: sign, exponent, digits inline in the userdata (see
 * decimal.h). Exact comparison with a float works on integers: both sides
 * scaled to big integers (a few hundred bits at most, because decimals
 * stay within DynamoDB's range and far-apart magnitudes are decided
 * before). Nothing here depends on the locale. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "codec.h"
#include "decimal.h"

/* Plain notation for these powers of ten of the first digit. */
#define PLAIN_MIN_ADJ (-6)
#define PLAIN_MAX_ADJ 37

#define RANGE_TEXT "1E-130 to 9.9999999999999999999999999999999999999E+125"

/* Exponents in text saturate here: far outside any range, and no sum
 * with a string length overflows. */
#define EXP_SATURATE ((int64_t)1 << 50)

/* ---- views: a value wherever its digits live ---- */

typedef struct {
    int neg;
    int ndig;           /* 0 for zero */
    int64_t exp;        /* value = dig * 10^exp */
    const char *dig;    /* '1'..'9' first and last */
} view;

static view view_of(const dyn_decimal *d)
{
    view v;
    v.neg = d->neg;
    v.ndig = d->ndig;
    v.exp = d->exp;
    v.dig = d->dig;
    return v;
}

#if DYN_HAS_INTEGER
/* The integer i, with its digits in buf (20 bytes). */
static view view_of_integer(lua_Integer i, char *buf)
{
    view v;
    char tmp[20];
    int n = 0, k;
    uint64_t u = (uint64_t)i;
    v.neg = i < 0;
    if (i < 0)
        u = 0 - u;
    v.exp = 0;
    v.dig = buf;
    if (u == 0) {
        v.neg = 0;
        v.ndig = 0;
        return v;
    }
    while (u % 10 == 0) {
        u /= 10;
        v.exp++;
    }
    for (; u; u /= 10)
        tmp[n++] = (char)('0' + u % 10);
    for (k = 0; k < n; k++)
        buf[k] = tmp[n - 1 - k];
    v.ndig = n;
    return v;
}
#endif

static int view_sign(const view *v)
{
    return v->ndig == 0 ? 0 : v->neg ? -1 : 1;
}

/* The power of ten of the first digit. */
static int64_t view_adj(const view *v)
{
    return v->exp + v->ndig - 1;
}

/* ---- text ---- */

/* N text taken apart (digits stay in the text, maybe split by '.'). */
typedef struct {
    int neg;
    int huge;           /* the exponent saturated */
    size_t ndig;        /* significant digits; 0 for zero */
    int64_t exp;        /* of the last significant digit */
    const char *first;  /* the first significant digit */
} text_number;

/* s[0..len) must be valid N text (dyn_number_scan said so). */
static void take_apart(const char *s, size_t len, text_number *t)
{
    const char *p = s, *end = s + len, *mend, *point, *q;
    const char *first = NULL, *last = NULL;
    int64_t e = 0, pfirst, plast;
    int eneg = 0;

    t->neg = 0;
    t->huge = 0;
    t->ndig = 0;
    t->exp = 0;
    t->first = s;
    if (p < end && (*p == '+' || *p == '-'))
        t->neg = *p++ == '-';
    for (mend = p; mend < end && *mend != 'e' && *mend != 'E'; mend++)
        ;
    point = memchr(p, '.', (size_t)(mend - p));
    if (!point)
        point = mend;
    for (q = p; q < mend; q++)
        if (*q != '.' && *q != '0') {
            first = q;
            break;
        }
    if (!first) {
        t->neg = 0;     /* zero, whatever its sign and exponent */
        return;
    }
    for (q = mend; q-- > first;)
        if (*q != '.' && *q != '0') {
            last = q;
            break;
        }
    if (mend < end) {
        q = mend + 1;
        if (*q == '+' || *q == '-')
            eneg = *q++ == '-';
        for (; q < end; q++) {
            if (e < EXP_SATURATE)
                e = e * 10 + (*q - '0');
            else
                t->huge = 1;
        }
    }
    /* a digit's power of ten: its distance from the point */
    pfirst = first < point ? point - first - 1 : -(int64_t)(first - point);
    plast = last < point ? point - last - 1 : -(int64_t)(last - point);
    t->ndig = (size_t)(pfirst - plast + 1);
    t->exp = plast + (eneg ? -e : e);
    t->first = first;
}

static int check_limits(const text_number *t)
{
    int64_t adj;
    if (t->ndig == 0)
        return DYN_NUM_OK;
    if (t->ndig > DYN_DECIMAL_MAX_DIGITS)
        return DYN_NUM_DIGITS;
    adj = t->exp + (int64_t)t->ndig - 1;
    if (t->huge || adj < DYN_DECIMAL_MIN_ADJ || adj > DYN_DECIMAL_MAX_ADJ)
        return DYN_NUM_RANGE;
    return DYN_NUM_OK;
}

/* The ndig significant digits of t, without the point. */
static void copy_digits(const text_number *t, char *out)
{
    const char *q = t->first;
    size_t i = 0;
    while (i < t->ndig) {
        if (*q != '.')
            out[i++] = *q;
        q++;
    }
}

/* The notation described at the top; out: DYN_DECIMAL_BUFSIZE bytes, and
 * v has at most 38 digits. */
static size_t format_view(const view *v, char *out)
{
    size_t n = 0;
    int64_t adj, i;
    if (v->ndig == 0) {
        out[0] = '0';
        return 1;
    }
    if (v->neg)
        out[n++] = '-';
    adj = view_adj(v);
    if (adj >= PLAIN_MIN_ADJ && adj <= PLAIN_MAX_ADJ) {
        if (adj < 0) {
            out[n++] = '0';
            out[n++] = '.';
            for (i = -1; i > adj; i--)
                out[n++] = '0';
            memcpy(out + n, v->dig, (size_t)v->ndig);
            n += (size_t)v->ndig;
        } else {
            for (i = 0; i <= adj || i < v->ndig; i++) {
                if (i == adj + 1)
                    out[n++] = '.';
                out[n++] = i < v->ndig ? v->dig[i] : '0';
            }
        }
    } else {
        out[n++] = v->dig[0];
        if (v->ndig > 1) {
            out[n++] = '.';
            memcpy(out + n, v->dig + 1, (size_t)v->ndig - 1);
            n += (size_t)v->ndig - 1;
        }
        out[n++] = 'E';
        out[n++] = adj < 0 ? '-' : '+';
        n += dyn_number_format_integer(out + n, adj < 0 ? -adj : adj);
    }
    return n;
}

size_t dyn_decimal_format(const dyn_decimal *d, char *out)
{
    view v = view_of(d);
    return format_view(&v, out);
}

/* ---- making decimals ---- */

static dyn_decimal *new_decimal(lua_State *L, int neg, int exp, int ndig)
{
    dyn_decimal *d;
#if LUA_VERSION_NUM >= 504
    d = lua_newuserdatauv(L, sizeof *d + (size_t)ndig, 0);
#else
    d = lua_newuserdata(L, sizeof *d + (size_t)ndig);
#endif
    d->neg = ndig ? neg : 0;
    d->exp = ndig ? exp : 0;
    d->ndig = ndig;
    luaL_getmetatable(L, DYN_DECIMAL_MT);
    lua_setmetatable(L, -2);
    return d;
}

/* t within the limits. The digits are copied out before allocating: the
 * allocation may run a finalizer that reuses the buffer they are in (a
 * codec's, when decoding). */
static void push_text_number(lua_State *L, const text_number *t)
{
    char dig[DYN_DECIMAL_MAX_DIGITS];
    dyn_decimal *d;
    copy_digits(t, dig);
    d = new_decimal(L, t->neg, (int)t->exp, (int)t->ndig);
    memcpy(d->dig, dig, t->ndig);
}

static void push_view(lua_State *L, const view *v)
{
    dyn_decimal *d = new_decimal(L, v->neg, (int)v->exp, v->ndig);
    memcpy(d->dig, v->dig, (size_t)v->ndig);
}

int dyn_decimal_check_text(const char *s, size_t len)
{
    text_number t;
    take_apart(s, len, &t);
    return check_limits(&t);
}

int dyn_decimal_push_text(lua_State *L, const char *s, size_t len)
{
    text_number t;
    int r;
    take_apart(s, len, &t);
    r = check_limits(&t);
    if (r != DYN_NUM_OK)
        return r;
    push_text_number(L, &t);
    return DYN_NUM_OK;
}

void dyn_decimal_push_limit_error(lua_State *L, int status, const char *s,
                                  size_t len)
{
    text_number t;
    take_apart(s, len, &t);
    if (status == DYN_NUM_DIGITS || t.ndig > DYN_DECIMAL_MAX_DIGITS) {
        char num[DYN_NUMBER_BUFSIZE];
        num[dyn_number_format_integer(num, (lua_Integer)t.ndig)] = '\0';
        lua_pushfstring(L, "number has %s significant digits (DynamoDB "
                        "allows 38)", num);
    } else if (t.huge) {
        lua_pushliteral(L, "number is out of DynamoDB's range (magnitude "
                        RANGE_TEXT ")");
    } else {
        char dig[DYN_DECIMAL_MAX_DIGITS], out[DYN_DECIMAL_BUFSIZE];
        view v;
        copy_digits(&t, dig);
        v.neg = t.neg;
        v.ndig = (int)t.ndig;
        v.exp = t.exp;
        v.dig = dig;
        out[format_view(&v, out)] = '\0';
        lua_pushfstring(L, "number %s is out of DynamoDB's range (magnitude "
                        RANGE_TEXT ")", out);
    }
}

const dyn_decimal *dyn_decimal_test(lua_State *L, int idx)
{
    void *p = lua_touserdata(L, idx);
    int ok;
    if (!p || lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
        return NULL;
    luaL_getmetatable(L, DYN_DECIMAL_MT);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return ok ? p : NULL;
}

static const dyn_decimal *check_decimal(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, DYN_DECIMAL_MT);
}

/* 'invalid number "1.2.3"' (shortened and made printable) */
static void push_invalid(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    size_t i, n = len > 40 ? 40 : len;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "invalid number \"");
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        luaL_addchar(&b, ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\'
                             ? '?' : (char)ch);
    }
    if (n < len)
        luaL_addstring(&b, "...");
    luaL_addchar(&b, '"');
    luaL_pushresult(&b);
}

/* Pushes the decimal for text s, or raises an argument error for arg. */
static void push_checked_text(lua_State *L, int arg, const char *s,
                              size_t len)
{
    dyn_number n;
    text_number t;
    int r;
    if (!dyn_number_scan(s, len, 0, &n)) {
        push_invalid(L, s, len);
        luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    take_apart(s, len, &t);
    r = check_limits(&t);
    if (r != DYN_NUM_OK) {
        dyn_decimal_push_limit_error(L, r, s, len);
        luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    push_text_number(L, &t);
}

/* Pushes the decimal for the number at arg, or raises for arg. */
static void push_number(lua_State *L, int arg)
{
    char text[DYN_NUMBER_BUFSIZE];
    double x;
#if DYN_HAS_INTEGER
    if (lua_isinteger(L, arg)) {
        char buf[20];
        view v = view_of_integer(lua_tointeger(L, arg), buf);
        push_view(L, &v);
        return;
    }
#endif
    x = (double)lua_tonumber(L, arg);
    if (isnan(x) || isinf(x))
        luaL_argerror(L, arg, "NaN and infinity cannot be stored");
    /* the digits the encoder would send */
    push_checked_text(L, arg, text, dyn_number_format_double(text, x));
}

/* Pushes a decimal for the value at arg (decimal, number or N text);
 * raises for anything else. */
static void push_decimal_arg(lua_State *L, int arg, const char *expected)
{
    switch (lua_type(L, arg)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, arg, &len);
        push_checked_text(L, arg, s, len);
        return;
    }
    case LUA_TNUMBER:
        push_number(L, arg);
        return;
    case LUA_TUSERDATA:
        if (dyn_decimal_test(L, arg)) {
            lua_pushvalue(L, arg);
            return;
        }
        break;
    }
    luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got %s", expected,
                                          luaL_typename(L, arg)));
}

/* dynamo.decimal(x) */
static int decimal_new(lua_State *L)
{
    luaL_checkany(L, 1);
    push_decimal_arg(L, 1, "string or number");
    return 1;
}

/* ---- exact comparison with binary floats ---- */

/* Enough for every comparison cmp_bin makes (see there). */
#define BN_WORDS 48

typedef struct {
    int n;              /* words in use; the top one is non-zero */
    uint32_t w[BN_WORDS];
} bignum;

static void bn_set(bignum *a, uint64_t v)
{
    a->n = 0;
    for (; v; v >>= 32)
        a->w[a->n++] = (uint32_t)v;
}

static void bn_muladd(bignum *a, uint32_t mul, uint32_t add)
{
    uint64_t carry = add;
    int i;
    for (i = 0; i < a->n; i++) {
        uint64_t t = (uint64_t)a->w[i] * mul + carry;
        a->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry)
        a->w[a->n++] = (uint32_t)carry;
}

static void bn_pow10(bignum *a, int64_t e)
{
    for (; e >= 9; e -= 9)
        bn_muladd(a, 1000000000u, 0);
    for (; e > 0; e--)
        bn_muladd(a, 10, 0);
}

static void bn_shl(bignum *a, int64_t bits)
{
    int words = (int)(bits / 32), s = (int)(bits % 32), i;
    if (a->n == 0)
        return;
    if (s) {
        uint32_t carry = 0;
        for (i = 0; i < a->n; i++) {
            uint32_t w = a->w[i];
            a->w[i] = w << s | carry;
            carry = w >> (32 - s);
        }
        if (carry)
            a->w[a->n++] = carry;
    }
    if (words) {
        memmove(a->w + words, a->w, (size_t)a->n * sizeof a->w[0]);
        memset(a->w, 0, (size_t)words * sizeof a->w[0]);
        a->n += words;
    }
}

static int bn_cmp(const bignum *a, const bignum *b)
{
    int i;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* |v| (not zero) against m * 2^k (m > 0): -1, 0 or 1. */
static int cmp_bin(const view *v, uint64_t m, int64_t k)
{
    const double log10_2 = 0.30102999566398119521;
    int64_t adj = view_adj(v), bits_a, bits_b;
    int bl = 0, i;
    uint64_t t;
    double lo, hi;
    bignum a, b;

    for (t = m; t; t >>= 1)
        bl++;
    /* 2^(bl-1+k) <= m * 2^k < 2^(bl+k) and 10^adj <= |v| < 10^(adj+1);
     * a margin of one power of ten covers rounding in lo and hi */
    lo = (double)(bl - 1 + k) * log10_2;
    hi = (double)(bl + k) * log10_2;
    if ((double)adj >= hi + 1)
        return 1;
    if ((double)adj + 1 <= lo - 1)
        return -1;
    /* Within three powers of ten of each other: with |adj| <= 130 (every
     * decimal is in DynamoDB's range, every int64 too) and m < 2^64, k is
     * within [-510, 430] and v->exp within [-167, 125], so both sides stay
     * below 1300 bits. The check only guards that reasoning. */
    bits_a = 4 * (int64_t)v->ndig + 4 * (v->exp > 0 ? v->exp : 0) +
             (k < 0 ? -k : 0) + 32;
    bits_b = 64 + (k > 0 ? k : 0) + 4 * (v->exp < 0 ? -v->exp : 0) + 32;
    if (bits_a > (BN_WORDS - 1) * 32 || bits_b > (BN_WORDS - 1) * 32)
        return (double)adj < (lo + hi) / 2 ? -1 : 1;

    /* v->dig * 10^exp against m * 2^k, both scaled to integers */
    a.n = 0;
    for (i = 0; i < v->ndig; i++)
        bn_muladd(&a, 10, (uint32_t)(v->dig[i] - '0'));
    bn_set(&b, m);
    if (v->exp > 0)
        bn_pow10(&a, v->exp);
    else
        bn_pow10(&b, -v->exp);
    if (k > 0)
        bn_shl(&b, k);
    else
        bn_shl(&a, -k);
    return bn_cmp(&a, &b);
}

/* x > 0 finite as m * 2^k, m an integer of at most 53 bits. */
static void split_double(double x, uint64_t *m, int64_t *k)
{
    int e;
    double f = frexp(x, &e);
    *m = (uint64_t)ldexp(f, 53);
    *k = e - 53;
}

/* v against x (not NaN): -1, 0 or 1. */
static int cmp_double(const view *v, double x)
{
    int sv = view_sign(v), sx = x > 0 ? 1 : x < 0 ? -1 : 0, c;
    uint64_t m;
    int64_t k;
    if (sv != sx)
        return sv < sx ? -1 : 1;
    if (sv == 0)
        return 0;
    if (isinf(x))
        return -sx;
    split_double(fabs(x), &m, &k);
    c = cmp_bin(v, m, k);
    return sv > 0 ? c : -c;
}

static int cmp_views(const view *a, const view *b)
{
    int sa = view_sign(a), sb = view_sign(b), c;
    int64_t adja, adjb;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    adja = view_adj(a);
    adjb = view_adj(b);
    if (adja != adjb) {
        c = adja < adjb ? -1 : 1;
    } else {
        int n = a->ndig < b->ndig ? a->ndig : b->ndig;
        c = memcmp(a->dig, b->dig, (size_t)n);
        if (c == 0)     /* a longer one has more non-zero digits */
            c = a->ndig == b->ndig ? 0 : a->ndig < b->ndig ? -1 : 1;
        else
            c = c < 0 ? -1 : 1;
    }
    return sa > 0 ? c : -c;
}

/* ---- conversion to a Lua number ---- */

static int to_int64(const view *v, lua_Integer *out)
{
    uint64_t u = 0;
    int64_t e;
    int i;
    if (v->ndig == 0) {
        *out = 0;
        return 1;
    }
    if (v->exp < 0 || view_adj(v) > 18)
        return 0;
    for (i = 0; i < v->ndig; i++)
        u = u * 10 + (uint64_t)(v->dig[i] - '0');
    for (e = v->exp; e > 0; e--)
        u *= 10;        /* below 10^19: no overflow */
    if (v->neg) {
        if (u > DYN_INT_NEG_MAX)
            return 0;
        *out = (lua_Integer)(0 - u);
    } else {
        if (u > DYN_INT_MAX)
            return 0;
        *out = (lua_Integer)u;
    }
    return 1;
}

/* |v| against the midpoint of adjacent positive doubles a < b. */
static int cmp_mid(const view *v, double a, double b)
{
    uint64_t ma, mb;
    int64_t ka, kb;
    split_double(a, &ma, &ka);
    split_double(b, &mb, &kb);
    /* they differ by at most one binade */
    if (ka < kb)
        mb <<= kb - ka;
    else if (kb < ka) {
        ma <<= ka - kb;
        ka = kb;
    }
    return cmp_bin(v, ma + mb, ka - 1);
}

static double even_of(double a, double b)
{
    uint64_t m;
    int64_t k;
    split_double(a, &m, &k);
    return m & 1 ? b : a;
}

/* The double nearest to v (not zero), ties to even: an estimate from the
 * first 19 digits, then corrected one step at a time by comparing v with
 * the exact midpoints to the neighbours. */
static double nearest_double(const view *v)
{
    static const double pow10_exact[] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
    };
    uint64_t m = 0;
    int i, n = v->ndig < 19 ? v->ndig : 19;
    int64_t e;
    double x;
    for (i = 0; i < n; i++)
        m = m * 10 + (uint64_t)(v->dig[i] - '0');
    e = v->exp + (v->ndig - n);
    if (n == v->ndig && m <= ((uint64_t)1 << 53) && e >= -22 && e <= 22) {
        /* both operands exact: one correctly rounded operation */
        x = e < 0 ? (double)m / pow10_exact[-e] : (double)m * pow10_exact[e];
    } else {
        x = (double)m * pow(10.0, (double)e);
        for (i = 0; i < 64; i++) {
            double up = nextafter(x, HUGE_VAL), down;
            int c = cmp_mid(v, x, up);
            if (c > 0) {
                x = up;
                continue;
            }
            if (c == 0) {
                x = even_of(x, up);
                break;
            }
            down = nextafter(x, 0.0);
            c = cmp_mid(v, down, x);
            if (c < 0) {
                x = down;
                continue;
            }
            if (c == 0)
                x = even_of(down, x);
            break;
        }
    }
    return v->neg ? -x : x;
}

/* ---- methods and metamethods ---- */

static int decimal_tostring(lua_State *L)
{
    char out[DYN_DECIMAL_BUFSIZE];
    const dyn_decimal *d = check_decimal(L, 1);
    lua_pushlstring(L, out, dyn_decimal_format(d, out));
    return 1;
}

static int decimal_tonumber(lua_State *L)
{
    view v = view_of(check_decimal(L, 1));
    lua_Integer i;
    if (to_int64(&v, &i))
        lua_pushinteger(L, i);
    else
        lua_pushnumber(L, (lua_Number)nearest_double(&v));
    return 1;
}

static int decimal_sign(lua_State *L)
{
    view v = view_of(check_decimal(L, 1));
    lua_pushinteger(L, view_sign(&v));
    return 1;
}

static int decimal_isinteger(lua_State *L)
{
    const dyn_decimal *d = check_decimal(L, 1);
    lua_pushboolean(L, d->ndig == 0 || d->exp >= 0);
    return 1;
}

/* A comparison operand: a decimal or integer as a view, or a float. */
typedef struct {
    int isfloat;
    double x;
    view v;
    char buf[20];       /* an integer's digits (the view points here) */
} operand;

static int get_operand(lua_State *L, int idx, operand *o)
{
    const dyn_decimal *d = dyn_decimal_test(L, idx);
    o->isfloat = 0;
    if (d) {
        o->v = view_of(d);
        return 1;
    }
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
#if DYN_HAS_INTEGER
    if (lua_isinteger(L, idx)) {
        o->v = view_of_integer(lua_tointeger(L, idx), o->buf);
        return 1;
    }
#endif
    o->isfloat = 1;
    o->x = (double)lua_tonumber(L, idx);
    return 1;
}

/* a against b: -1, 0, 1, or 2 when unordered (NaN). */
static int cmp_operands(const operand *a, const operand *b)
{
    if ((a->isfloat && isnan(a->x)) || (b->isfloat && isnan(b->x)))
        return 2;
    if (!a->isfloat && !b->isfloat)
        return cmp_views(&a->v, &b->v);
    if (!a->isfloat)
        return cmp_double(&a->v, b->x);
    if (!b->isfloat)
        return -cmp_double(&b->v, a->x);
    return a->x < b->x ? -1 : a->x > b->x;
}

static const char *type_name(lua_State *L, int idx)
{
    return dyn_decimal_test(L, idx) ? DYN_DECIMAL_MT : luaL_typename(L, idx);
}

static int compare(lua_State *L)
{
    operand a, b;
    if (!get_operand(L, 1, &a) || !get_operand(L, 2, &b))
        return luaL_error(L, "attempt to compare %s with %s",
                          type_name(L, 1), type_name(L, 2));
    return cmp_operands(&a, &b);
}

static int decimal_lt(lua_State *L)
{
    lua_pushboolean(L, compare(L) == -1);
    return 1;
}

static int decimal_le(lua_State *L)
{
    int c = compare(L);
    lua_pushboolean(L, c == -1 || c == 0);
    return 1;
}

/* __eq: Lua calls it for two userdata; the other may be of another kind. */
static int decimal_eq_mm(lua_State *L)
{
    const dyn_decimal *a = dyn_decimal_test(L, 1), *b = dyn_decimal_test(L, 2);
    view va, vb;
    if (!a || !b) {
        lua_pushboolean(L, 0);
        return 1;
    }
    va = view_of(a);
    vb = view_of(b);
    lua_pushboolean(L, cmp_views(&va, &vb) == 0);
    return 1;
}

/* d:eq(x): x a decimal, number (exactly) or N text */
static int decimal_eq(lua_State *L)
{
    operand a, b;
    check_decimal(L, 1);
    luaL_checkany(L, 2);
    if (lua_type(L, 2) == LUA_TSTRING ||
        (lua_type(L, 2) != LUA_TNUMBER && !dyn_decimal_test(L, 2))) {
        push_decimal_arg(L, 2, "decimal, number or string");
        lua_replace(L, 2);
    }
    get_operand(L, 1, &a);
    get_operand(L, 2, &b);
    lua_pushboolean(L, cmp_operands(&a, &b) == 0);
    return 1;
}

static int decimal_unm(lua_State *L)
{
    view v = view_of(check_decimal(L, 1));
    v.neg = !v.neg;
    push_view(L, &v);
    return 1;
}

/* "x" .. d, d .. "x", d .. 1: strings and numbers as Lua writes them. */
static int decimal_concat(lua_State *L)
{
    luaL_Buffer b;
    int i;
    for (i = 1; i <= 2; i++) {
        int t = lua_type(L, i);
        if (t != LUA_TSTRING && t != LUA_TNUMBER && !dyn_decimal_test(L, i))
            return luaL_error(L, "attempt to concatenate a %s value",
                              luaL_typename(L, i));
    }
    luaL_buffinit(L, &b);
    for (i = 1; i <= 2; i++) {
        const dyn_decimal *d = dyn_decimal_test(L, i);
        if (d) {
            char out[DYN_DECIMAL_BUFSIZE];
            luaL_addlstring(&b, out, dyn_decimal_format(d, out));
        } else {
            lua_pushvalue(L, i);
            luaL_addvalue(&b);
        }
    }
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg decimal_meta[] = {
    {"__tostring", decimal_tostring},
    {"__eq", decimal_eq_mm},
    {"__lt", decimal_lt},
    {"__le", decimal_le},
    {"__unm", decimal_unm},
    {"__concat", decimal_concat},
    {NULL, NULL}
};

static const luaL_Reg decimal_methods[] = {
    {"tostring", decimal_tostring},
    {"tonumber", decimal_tonumber},
    {"sign", decimal_sign},
    {"isinteger", decimal_isinteger},
    {"eq", decimal_eq},
    {NULL, NULL}
};

void dyn_open_decimal(lua_State *L)
{
    /* module table on top */
    dyn_newmetatable(L, DYN_DECIMAL_MT);   /* sets __name */
    dyn_setfuncs(L, decimal_meta, 0);
    lua_newtable(L);
    dyn_setfuncs(L, decimal_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_setfield(L, -2, "decimal_mt");
    lua_pushcfunction(L, decimal_new);
    lua_setfield(L, -2, "decimal");
}
