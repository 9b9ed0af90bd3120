// The element-wise kernels of the recurrent cells (Float): the logistic sigmoid and tanh over
// arrays, and the cells' fields in derivative form with their vector–Jacobian products, row by row
// (gates_impl.h), for the integrator's fused path.
//
// σ and tanh come from one exponential: x = n·ln 2 + r with |r| ≤ ½ ln 2 (ln 2 split in two parts),
// eʳ by its degree-6 Taylor polynomial (relative error ≤ 2e-7), times 2ⁿ built in the exponent bits.
// Inputs are clamped to [−87, 88] so that results stay normal and finite (NaN stays NaN).
// σ(x) = 1/(1 + e⁻ˣ), tanh(x) = 2σ(2x) − 1 (absolute error ≤ 2e-7 for both).
//
// Paths as for the GEMM: 16-wide AVX-512F or 8-wide AVX2+FMA where the CPU has them (the same
// operations in the same order, so the two agree bit for bit), else plain C that the compiler
// vectorizes for the baseline (SSE2 on x86-64, NEON on arm64).

#include "CRNNODEKernels.h"
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define EXP_HI 88.0f
#define EXP_LO -87.0f
#define LOG2E 1.44269504f
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.428606765330187e-06f
// Adding 1.5·2²³ rounds a float of magnitude < 2²² to an integer n held in the low mantissa bits.
#define ROUNDING_MAGIC 12582912.0f

/// eˣ for one float, by the scheme above (the portable path; the compiler vectorizes its loops).
static inline float exp_portable(float x) {
    x = x > EXP_HI ? EXP_HI : (x < EXP_LO ? EXP_LO : x);
    float shifted = x * LOG2E + ROUNDING_MAGIC;
    float n = shifted - ROUNDING_MAGIC;
    float r = x - n * LN2_HI - n * LN2_LO;
    float p = 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1;
    p = p * r + 1;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    int32_t scaleBits = (bits - 0x4B400000 + 127) << 23;
    float scale;
    memcpy(&scale, &scaleBits, sizeof scale);
    return p * scale;
}

static void sigmoid_portable(float *x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) x[i] = 1 / (1 + exp_portable(-x[i]));
}

static void tanh_portable(float *x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) x[i] = 2 / (1 + exp_portable(-2 * x[i])) - 1;
}

#if RNNODE_HAVE_X86_KERNELS

#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

static inline __m256 exp_avx2(__m256 x) {
    // maxps/minps return their second operand when either is NaN: NaN stays NaN.
    x = _mm256_min_ps(_mm256_set1_ps(EXP_HI), _mm256_max_ps(_mm256_set1_ps(EXP_LO), x));
    const __m256 magic = _mm256_set1_ps(ROUNDING_MAGIC);
    __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(LOG2E), magic);
    __m256 n = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1));
    __m256i bits = _mm256_castps_si256(shifted);
    __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(127 - 0x4B400000)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

/// x ↦ a / (1 + e^(b·x)) + c over the array: σ is (1, −1, 0), tanh (2, −2, −1).
static void rational_exp_avx2(float *x, ptrdiff_t n, float a, float b, float c) {
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), vc = _mm256_set1_ps(c), one = _mm256_set1_ps(1);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp_avx2(_mm256_mul_ps(vb, _mm256_loadu_ps(x + i)));
        _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_div_ps(va, _mm256_add_ps(one, e)), vc));
    }
    if (i < n) {
        float tail[8] = {0};
        memcpy(tail, x + i, (size_t)(n - i) * sizeof(float));
        __m256 e = exp_avx2(_mm256_mul_ps(vb, _mm256_loadu_ps(tail)));
        _mm256_storeu_ps(tail, _mm256_add_ps(_mm256_div_ps(va, _mm256_add_ps(one, e)), vc));
        memcpy(x + i, tail, (size_t)(n - i) * sizeof(float));
    }
}

static void sigmoid_avx2(float *x, ptrdiff_t n) { rational_exp_avx2(x, n, 1, -1, 0); }
static void tanh_avx2(float *x, ptrdiff_t n) { rational_exp_avx2(x, n, 2, -2, -1); }

#define GATES_SUFFIX _avx2
#define GATES_SIGMOID sigmoid_avx2
#define GATES_TANH tanh_avx2
#include "gates_impl.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif

#if RNNODE_HAVE_X86_KERNELS

// The AVX-512 path: the same operations in the same order as the AVX2 path's, 16 lanes at a time,
// so the two agree bit for bit.

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif

static inline __m512 exp_avx512(__m512 x) {
    // maxps/minps return their second operand when either is NaN: NaN stays NaN.
    x = _mm512_min_ps(_mm512_set1_ps(EXP_HI), _mm512_max_ps(_mm512_set1_ps(EXP_LO), x));
    const __m512 magic = _mm512_set1_ps(ROUNDING_MAGIC);
    __m512 shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(LOG2E), magic);
    __m512 n = _mm512_sub_ps(shifted, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1));
    __m512i bits = _mm512_castps_si512(shifted);
    __m512i scale = _mm512_slli_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(127 - 0x4B400000)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(scale));
}

/// x ↦ a / (1 + e^(b·x)) + c over the array, the last n mod 16 entries through a lane mask.
static void rational_exp_avx512(float *x, ptrdiff_t n, float a, float b, float c) {
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b), vc = _mm512_set1_ps(c), one = _mm512_set1_ps(1);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 e = exp_avx512(_mm512_mul_ps(vb, _mm512_loadu_ps(x + i)));
        _mm512_storeu_ps(x + i, _mm512_add_ps(_mm512_div_ps(va, _mm512_add_ps(one, e)), vc));
    }
    if (i < n) {
        __mmask16 mask = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = exp_avx512(_mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask, x + i)));
        _mm512_mask_storeu_ps(x + i, mask, _mm512_add_ps(_mm512_div_ps(va, _mm512_add_ps(one, e)), vc));
    }
}

static void sigmoid_avx512(float *x, ptrdiff_t n) { rational_exp_avx512(x, n, 1, -1, 0); }
static void tanh_avx512(float *x, ptrdiff_t n) { rational_exp_avx512(x, n, 2, -2, -1); }

#define GATES_SUFFIX _avx512
#define GATES_SIGMOID sigmoid_avx512
#define GATES_TANH tanh_avx512
#include "gates_impl.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif

#define GATES_SUFFIX _portable
#define GATES_SIGMOID sigmoid_portable
#define GATES_TANH tanh_portable
#include "gates_impl.h"

#if RNNODE_HAVE_X86_KERNELS
/// Calls NAME_avx512, NAME_avx2 or NAME_portable with ARGUMENTS, as `path` resolves.
#define ON_PATH(path, NAME, ARGUMENTS)                                                                    \
    (rnnode_resolved_path(path) == RNNODE_GEMM_PATH_AVX512     ? NAME##_avx512 ARGUMENTS                 \
     : rnnode_resolved_path(path) == RNNODE_GEMM_PATH_AVX2_FMA ? NAME##_avx2 ARGUMENTS                   \
                                                               : NAME##_portable ARGUMENTS)
#else
#define ON_PATH(path, NAME, ARGUMENTS) ((void)(path), NAME##_portable ARGUMENTS)
#endif
#define ON_CURRENT_PATH(NAME, ARGUMENTS) ON_PATH(rnnode_gemm_path(), NAME, ARGUMENTS)

// MARK: - Cell fields (see gates_impl.h)

/// Defines rnnode_NAME_f32 (on the current path) and rnnode_NAME_f32_on_path with PARAMETERS, which
/// pass ARGUMENTS to the path's NAME.
#define CELL_FIELD(NAME, PARAMETERS, ARGUMENTS)                                                           \
    void rnnode_##NAME##_f32_on_path(int path, PARAMETERS) { ON_PATH(path, NAME, ARGUMENTS); }             \
    void rnnode_##NAME##_f32(PARAMETERS) { ON_CURRENT_PATH(NAME, ARGUMENTS); }

/// The parameter lists (commas inside a macro argument need the wrapper).
#define LIST(...) __VA_ARGS__

CELL_FIELD(simple_field,
           LIST(ptrdiff_t m, ptrdiff_t h, int isTanh, const float *p, ptrdiff_t ldp, const float *u, const float *y,
                float *k, float *saved),
           (m, h, isTanh, p, ldp, u, y, k, saved))
CELL_FIELD(simple_field_vjp,
           LIST(ptrdiff_t m, ptrdiff_t h, int isTanh, const float *saved, const float *dk, float *dy, float *dp,
                ptrdiff_t ldp, float *dr),
           (m, h, isTanh, saved, dk, dy, dp, ldp, dr))
CELL_FIELD(gru_field,
           LIST(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u, const float *y, float *k,
                float *saved),
           (m, h, p, ldp, u, y, k, saved))
CELL_FIELD(gru_field_vjp,
           LIST(ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y, const float *dk, float *dy, float *dp,
                ptrdiff_t ldp, float *dr),
           (m, h, saved, y, dk, dy, dp, ldp, dr))
CELL_FIELD(lstm_field,
           LIST(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u, const float *y, float *k,
                float *saved),
           (m, h, p, ldp, u, y, k, saved))
CELL_FIELD(lstm_field_vjp,
           LIST(ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y, const float *dk, float *dy, float *dp,
                ptrdiff_t ldp, float *dr),
           (m, h, saved, y, dk, dy, dp, ldp, dr))

CELL_FIELD(lem_field,
           LIST(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *rate, const float *candidate,
                ptrdiff_t ldr, const float *y, float *k, ptrdiff_t ldy, float *saved, ptrdiff_t ldsaved),
           (m, h, p, ldp, rate, candidate, ldr, y, k, ldy, saved, ldsaved))
CELL_FIELD(lem_field_vjp,
           LIST(ptrdiff_t m, ptrdiff_t h, const float *saved, ptrdiff_t ldsaved, const float *y, const float *dk,
                float *dy, ptrdiff_t ldy, float *dp, ptrdiff_t ldp, float *drate, float *dcandidate, ptrdiff_t ldr),
           (m, h, saved, ldsaved, y, dk, dy, ldy, dp, ldp, drate, dcandidate, ldr))

CELL_FIELD(ltc_field,
           LIST(ptrdiff_t m, ptrdiff_t n, const float *v, const float *p, ptrdiff_t ldp, const float *const *params,
                const float *h, ptrdiff_t ldh, float *k, float *saved, float *gates),
           (m, n, v, p, ldp, params, h, ldh, k, saved, gates))
CELL_FIELD(ltc_field_vjp,
           LIST(ptrdiff_t m, ptrdiff_t n, const float *v, const float *saved, const float *dk, const float *const *params,
                const float *h, ptrdiff_t ldh, float *dv, float *dp, ptrdiff_t ldp, float *const *grads, float *dh,
                float *scratch),
           (m, n, v, saved, dk, params, h, ldh, dv, dp, ldp, grads, dh, scratch))

CELL_FIELD(ltc_sensory,
           LIST(ptrdiff_t m, ptrdiff_t ni, ptrdiff_t n, const float *x, const float *const *syn, float *out,
                float *gates),
           (m, ni, n, x, syn, out, gates))
CELL_FIELD(ltc_sensory_vjp,
           LIST(ptrdiff_t m, ptrdiff_t ni, ptrdiff_t n, const float *x, const float *const *syn, const float *dout,
                float *const *grads, float *dx, float *gates),
           (m, ni, n, x, syn, dout, grads, dx, gates))

void rnnode_sigmoid_f32(float *x, ptrdiff_t n) { ON_CURRENT_PATH(sigmoid, (x, n)); }

void rnnode_tanh_f32(float *x, ptrdiff_t n) { ON_CURRENT_PATH(tanh, (x, n)); }

void rnnode_sigmoid_f32_on_path(int path, float *x, ptrdiff_t n) { ON_PATH(path, sigmoid, (x, n)); }

void rnnode_tanh_f32_on_path(int path, float *x, ptrdiff_t n) { ON_PATH(path, tanh, (x, n)); }
