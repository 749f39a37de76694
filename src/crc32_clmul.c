/* CRC32 (reflected 0xEDB88320) by carry-less multiplication, for x86-64
 * CPUs with PCLMULQDQ: 64 bytes folded per step in four lanes, then folded
 * to 128 bits, reduced to 64 and finished with a Barrett reduction
 * (Gopal et al., "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ Instruction", Intel, 2009). No tables: the slicing-by-8 tables
 * of crc32.c are 8 KB, which a request loop finds cold in the cache every
 * time. Other CPUs (and compilers) get the tables only. */
#include "crc32.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* x^(n) mod P, bit-reflected, for the fold distances: 4x128 bits (k1, k2),
 * 128 bits (k3, k4), 64 and 32 bits (k5), and the Barrett constants: P
 * itself and mu = floor(x^64 / P). */
#define K1 0x0000000154442bd4ull
#define K2 0x00000001c6e41596ull
#define K3 0x00000001751997d0ull
#define K4 0x00000000ccaa009eull
#define K5 0x0000000163cd6124ull
#define P  0x00000001db710641ull
#define MU 0x00000001f7011641ull

int dyn_crc32_clmul_ok(void)
{
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

/* x * k.low ^ x.high * k.high ^ next: one fold step. */
__attribute__((target("pclmul,sse4.1")))
static inline __m128i fold(__m128i x, __m128i k, __m128i next)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                       _mm_clmulepi64_si128(x, k, 0x11)), next);
}

__attribute__((target("pclmul,sse4.1")))
static inline __m128i load(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

__attribute__((target("pclmul,sse4.1")))
uint32_t dyn_crc32_clmul(uint32_t crc, const unsigned char *p, size_t len)
{
    const __m128i k12 = _mm_set_epi64x((long long)K2, (long long)K1);
    const __m128i k34 = _mm_set_epi64x((long long)K4, (long long)K3);
    const __m128i k5 = _mm_set_epi64x(0, (long long)K5);
    const __m128i poly = _mm_set_epi64x((long long)MU, (long long)P);
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i x1 = _mm_xor_si128(load(p), _mm_cvtsi32_si128((int)crc));
    __m128i x2 = load(p + 16), x3 = load(p + 32), x4 = load(p + 48), t;

    for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
        x1 = fold(x1, k12, load(p));
        x2 = fold(x2, k12, load(p + 16));
        x3 = fold(x3, k12, load(p + 32));
        x4 = fold(x4, k12, load(p + 48));
    }
    x1 = fold(x1, k34, x2);
    x1 = fold(x1, k34, x3);
    x1 = fold(x1, k34, x4);
    for (; len >= 16; p += 16, len -= 16)
        x1 = fold(x1, k34, load(p));

    /* 128 bits to 64 */
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k34, 0x10), _mm_srli_si128(x1, 8));
    /* 64 to 32 */
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00), t);
    /* Barrett reduction to the 32-bit remainder */
    t = x1;
    x1 = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10), low32);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, poly, 0x00), t);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

#else

int dyn_crc32_clmul_ok(void)
{
    return 0;
}

uint32_t dyn_crc32_clmul(uint32_t crc, const unsigned char *p, size_t len)
{
    (void)p;
    (void)len;
    return crc;
}

#endif
