// The element-wise kernels of the recurrent cells (Float): the logistic sigmoid and tanh over
// arrays, and the cells' fields in derivative form with their vector–Jacobian products, row by row
// (gates_impl.h), for the integrator's fused path.
//
// σ and tanh come from one exponential: x = n·ln 2 + r with |r| ≤ ½ ln 2 (ln 2 split in two parts),
// eʳ by its degree-6 Taylor polynomial (relative error ≤ 2e-7), times 2ⁿ built in the exponent bits.
// Inputs are clamped to [−87, 88] so that results stay normal and finite (NaN stays NaN).
// σ(x) = 1/(1 + e⁻ˣ), tanh(x) = 2σ(2x) − 1 (absolute error ≤ 2e-7 for both).
//
// Paths as for the GEMM: 8-wide AVX2+FMA where the CPU has both, else plain C that the compiler
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

#define GATES_SUFFIX _portable
#define GATES_SIGMOID sigmoid_portable
#define GATES_TANH tanh_portable
#include "gates_impl.h"

/// Whether the AVX2 kernels run: the current path is AVX2 or AVX-512 and the CPU supports AVX2.
static int uses_avx2(void) {
#if RNNODE_HAVE_X86_KERNELS
    return rnnode_effective_path(rnnode_gemm_path()) == RNNODE_GEMM_PATH_AVX2_FMA;
#else
    return 0;
#endif
}

#if RNNODE_HAVE_X86_KERNELS
#define ON_CURRENT_PATH(NAME, ARGUMENTS) (uses_avx2() ? NAME##_avx2 ARGUMENTS : NAME##_portable ARGUMENTS)
#else
#define ON_CURRENT_PATH(NAME, ARGUMENTS) NAME##_portable ARGUMENTS
#endif

// MARK: - Cell fields (see gates_impl.h)

void rnnode_simple_field_f32(ptrdiff_t m, ptrdiff_t h, int isTanh, const float *p, ptrdiff_t ldp, const float *u,
                             const float *y, float *k, float *saved) {
    ON_CURRENT_PATH(simple_field, (m, h, isTanh, p, ldp, u, y, k, saved));
}

void rnnode_simple_field_vjp_f32(ptrdiff_t m, ptrdiff_t h, int isTanh, const float *saved, const float *dk, float *dy,
                                 float *dp, ptrdiff_t ldp, float *dr) {
    ON_CURRENT_PATH(simple_field_vjp, (m, h, isTanh, saved, dk, dy, dp, ldp, dr));
}

void rnnode_gru_field_f32(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u, const float *y,
                          float *k, float *saved) {
    ON_CURRENT_PATH(gru_field, (m, h, p, ldp, u, y, k, saved));
}

void rnnode_gru_field_vjp_f32(ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y, const float *dk, float *dy,
                              float *dp, ptrdiff_t ldp, float *dr) {
    ON_CURRENT_PATH(gru_field_vjp, (m, h, saved, y, dk, dy, dp, ldp, dr));
}

void rnnode_lstm_field_f32(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u, const float *y,
                           float *k, float *saved) {
    ON_CURRENT_PATH(lstm_field, (m, h, p, ldp, u, y, k, saved));
}

void rnnode_lstm_field_vjp_f32(ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y, const float *dk, float *dy,
                               float *dp, ptrdiff_t ldp, float *dr) {
    ON_CURRENT_PATH(lstm_field_vjp, (m, h, saved, y, dk, dy, dp, ldp, dr));
}

void rnnode_sigmoid_f32(float *x, ptrdiff_t n) { ON_CURRENT_PATH(sigmoid, (x, n)); }

void rnnode_tanh_f32(float *x, ptrdiff_t n) { ON_CURRENT_PATH(tanh, (x, n)); }

void rnnode_sigmoid_f32_on_path(int path, float *x, ptrdiff_t n) {
#if RNNODE_HAVE_X86_KERNELS
    if (rnnode_effective_path(path) == RNNODE_GEMM_PATH_AVX2_FMA) {
        rational_exp_avx2(x, n, 1, -1, 0);
        return;
    }
#endif
    (void)path;
    sigmoid_portable(x, n);
}

void rnnode_tanh_f32_on_path(int path, float *x, ptrdiff_t n) {
#if RNNODE_HAVE_X86_KERNELS
    if (rnnode_effective_path(path) == RNNODE_GEMM_PATH_AVX2_FMA) {
        rational_exp_avx2(x, n, 2, -2, -1);
        return;
    }
#endif
    (void)path;
    tanh_portable(x, n);
}

