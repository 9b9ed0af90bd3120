// The AVX2+FMA path: 6×16 (float) and 6×8 (double) register micro-kernels, and the blocked drivers
// built around them. Everything here is compiled for AVX2+FMA through function attributes only, so
// the package needs no compiler flags; gemm.c calls in only after checking the CPU.

#include "gemm_small.h"
#include "internal.h"

#if RNNODE_HAVE_X86_KERNELS

#include <immintrin.h>
#include <stdlib.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

/// C[mr×nr] += Ã·B̃: Ã is a kc×6 packed sliver of A, B̃ a kc×16 sliver of B with rows ldbk apart. The
/// 6×16 tile lives in 12 ymm accumulators; each step broadcasts 6 entries of A against 2 vectors of B.
static inline __attribute__((always_inline)) void sgemm_kernel_6x16(ptrdiff_t kc, const float *restrict a,
                                                                     const float *restrict b, ptrdiff_t ldbk,
                                                                     float *restrict c, ptrdiff_t ldc, ptrdiff_t mr,
                                                                     ptrdiff_t nr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 ai = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(ai, b0, c00);
        c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(ai, b0, c10);
        c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(ai, b0, c20);
        c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(ai, b0, c30);
        c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(ai, b0, c40);
        c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(ai, b0, c50);
        c51 = _mm256_fmadd_ps(ai, b1, c51);
        a += 6;
        b += ldbk;
    }
    if (mr == 6 && nr == 16) {
#define ROW(r, x0, x1)                                                                      \
    _mm256_storeu_ps(c + (r) * ldc, _mm256_add_ps(_mm256_loadu_ps(c + (r) * ldc), x0));       \
    _mm256_storeu_ps(c + (r) * ldc + 8, _mm256_add_ps(_mm256_loadu_ps(c + (r) * ldc + 8), x1))
        ROW(0, c00, c01);
        ROW(1, c10, c11);
        ROW(2, c20, c21);
        ROW(3, c30, c31);
        ROW(4, c40, c41);
        ROW(5, c50, c51);
#undef ROW
    } else {
        float tile[6 * 16] __attribute__((aligned(32)));
        _mm256_store_ps(tile + 0, c00), _mm256_store_ps(tile + 8, c01);
        _mm256_store_ps(tile + 16, c10), _mm256_store_ps(tile + 24, c11);
        _mm256_store_ps(tile + 32, c20), _mm256_store_ps(tile + 40, c21);
        _mm256_store_ps(tile + 48, c30), _mm256_store_ps(tile + 56, c31);
        _mm256_store_ps(tile + 64, c40), _mm256_store_ps(tile + 72, c41);
        _mm256_store_ps(tile + 80, c50), _mm256_store_ps(tile + 88, c51);
        for (ptrdiff_t i = 0; i < mr; i++) {
            for (ptrdiff_t j = 0; j < nr; j++) c[i * ldc + j] += tile[i * 16 + j];
        }
    }
}

/// C[mr×nr] += Ã·B̃ in double precision: a kc×6 sliver of A against a kc×8 sliver of B (rows ldbk
/// apart), 12 ymm accumulators of 4 doubles.
static inline __attribute__((always_inline)) void dgemm_kernel_6x8(ptrdiff_t kc, const double *restrict a,
                                                                    const double *restrict b, ptrdiff_t ldbk,
                                                                    double *restrict c, ptrdiff_t ldc, ptrdiff_t mr,
                                                                    ptrdiff_t nr) {
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
    __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
        __m256d ai = _mm256_broadcast_sd(a + 0);
        c00 = _mm256_fmadd_pd(ai, b0, c00);
        c01 = _mm256_fmadd_pd(ai, b1, c01);
        ai = _mm256_broadcast_sd(a + 1);
        c10 = _mm256_fmadd_pd(ai, b0, c10);
        c11 = _mm256_fmadd_pd(ai, b1, c11);
        ai = _mm256_broadcast_sd(a + 2);
        c20 = _mm256_fmadd_pd(ai, b0, c20);
        c21 = _mm256_fmadd_pd(ai, b1, c21);
        ai = _mm256_broadcast_sd(a + 3);
        c30 = _mm256_fmadd_pd(ai, b0, c30);
        c31 = _mm256_fmadd_pd(ai, b1, c31);
        ai = _mm256_broadcast_sd(a + 4);
        c40 = _mm256_fmadd_pd(ai, b0, c40);
        c41 = _mm256_fmadd_pd(ai, b1, c41);
        ai = _mm256_broadcast_sd(a + 5);
        c50 = _mm256_fmadd_pd(ai, b0, c50);
        c51 = _mm256_fmadd_pd(ai, b1, c51);
        a += 6;
        b += ldbk;
    }
    if (mr == 6 && nr == 8) {
#define ROW(r, x0, x1)                                                                      \
    _mm256_storeu_pd(c + (r) * ldc, _mm256_add_pd(_mm256_loadu_pd(c + (r) * ldc), x0));       \
    _mm256_storeu_pd(c + (r) * ldc + 4, _mm256_add_pd(_mm256_loadu_pd(c + (r) * ldc + 4), x1))
        ROW(0, c00, c01);
        ROW(1, c10, c11);
        ROW(2, c20, c21);
        ROW(3, c30, c31);
        ROW(4, c40, c41);
        ROW(5, c50, c51);
#undef ROW
    } else {
        double tile[6 * 8] __attribute__((aligned(32)));
        _mm256_store_pd(tile + 0, c00), _mm256_store_pd(tile + 4, c01);
        _mm256_store_pd(tile + 8, c10), _mm256_store_pd(tile + 12, c11);
        _mm256_store_pd(tile + 16, c20), _mm256_store_pd(tile + 20, c21);
        _mm256_store_pd(tile + 24, c30), _mm256_store_pd(tile + 28, c31);
        _mm256_store_pd(tile + 32, c40), _mm256_store_pd(tile + 36, c41);
        _mm256_store_pd(tile + 40, c50), _mm256_store_pd(tile + 44, c51);
        for (ptrdiff_t i = 0; i < mr; i++) {
            for (ptrdiff_t j = 0; j < nr; j++) c[i * ldc + j] += tile[i * 8 + j];
        }
    }
}

// MARK: - Few rows (the kernels of gemm_small.h)

static inline float hsum_ps(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

static inline double hsum_pd(__m256d v) {
    __m128d x = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    x = _mm_add_sd(x, _mm_unpackhi_pd(x, x));
    return _mm_cvtsd_f64(x);
}

#define SDOT_BLOCK(MB, JB)                                                                                    \
    DOT_BLOCK(sdot_##MB##x##JB, float, __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_fmadd_ps,          \
              _mm256_add_ps, hsum_ps, MB, JB)
#define DDOT_BLOCK(MB, JB)                                                                                    \
    DOT_BLOCK(ddot_##MB##x##JB, double, __m256d, 4, _mm256_setzero_pd, _mm256_loadu_pd, _mm256_fmadd_pd,        \
              _mm256_add_pd, hsum_pd, MB, JB)

SDOT_BLOCK(1, 4)
SDOT_BLOCK(1, 1)
SDOT_BLOCK(2, 2)
SDOT_BLOCK(2, 1)
SDOT_BLOCK(3, 1)
SDOT_BLOCK(4, 1)
DDOT_BLOCK(1, 4)
DDOT_BLOCK(1, 1)
DDOT_BLOCK(2, 2)
DDOT_BLOCK(2, 1)
DDOT_BLOCK(3, 1)
DDOT_BLOCK(4, 1)

DOT_DRIVER(sgemm_dot_avx2, float, sdot)
DOT_DRIVER(dgemm_dot_avx2, double, ddot)

/// Lane masks for the last, partial vector: lanes below `width` set.
static const int lane_masks_ps[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static const long long lane_masks_pd[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

ROWS_KERNEL(sgemm_rows_avx2, float, __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_maskload_ps,
            _mm256_maskstore_ps, __m256i mask = _mm256_loadu_si256((const __m256i *)(lane_masks_ps + 8 - width)),
            _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_add_ps)
ROWS_KERNEL(dgemm_rows_avx2, double, __m256d, 4, _mm256_setzero_pd, _mm256_loadu_pd, _mm256_storeu_pd,
            _mm256_maskload_pd, _mm256_maskstore_pd,
            __m256i mask = _mm256_loadu_si256((const __m256i *)(lane_masks_pd + 4 - width)), _mm256_broadcast_sd,
            _mm256_fmadd_pd, _mm256_add_pd)

// MARK: - Drivers

#define GEMM_T float
#define GEMM_NAME sgemm_blocked_avx2
#define GEMM_KERNEL sgemm_kernel_6x16
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_MC 144
#define GEMM_KC 256
#define GEMM_NC 2048
#include "gemm_driver.h"

#define GEMM_T double
#define GEMM_NAME dgemm_blocked_avx2
#define GEMM_KERNEL dgemm_kernel_6x8
#define GEMM_MR 6
#define GEMM_NR 8
#define GEMM_MC 72
#define GEMM_KC 256
#define GEMM_NC 1024
#include "gemm_driver.h"

void rnnode_sgemm_avx2(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                       ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    if (transB && m <= DOT_MAX_ROWS) {
        sgemm_dot_avx2(transA, m, n, k, a, lda, b, ldb, c, ldc);
    } else if (m <= DOT_MAX_ROWS) {
        sgemm_rows_avx2(transA, m, n, k, a, lda, b, ldb, c, ldc);
    } else {
        sgemm_blocked_avx2(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }
}

void rnnode_dgemm_avx2(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                       ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    if (transB && m <= DOT_MAX_ROWS) {
        dgemm_dot_avx2(transA, m, n, k, a, lda, b, ldb, c, ldc);
    } else if (m <= DOT_MAX_ROWS) {
        dgemm_rows_avx2(transA, m, n, k, a, lda, b, ldb, c, ldc);
    } else {
        dgemm_blocked_avx2(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }
}

// MARK: - Products with a packed B

PACKED_ENTRIES(float, sgemm_blocked_avx2, rnnode_sgemm_avx2)
PACKED_ENTRIES(double, dgemm_blocked_avx2, rnnode_dgemm_avx2)

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
