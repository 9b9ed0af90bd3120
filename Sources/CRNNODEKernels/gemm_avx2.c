// The AVX2+FMA path: 6×16 (float) and 6×8 (double) register micro-kernels, and the blocked drivers
// built around them. Everything here is compiled for AVX2+FMA through function attributes only, so
// the package needs no compiler flags; gemm.c calls in only after checking the CPU.

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

// MARK: - Few rows times a transposed B

// C[m×n] += A·Bᵀ for m ≤ 4 rows of A (contiguous, lda apart) and B stored n×k: dot products of rows,
// reading B in place. (The blocked driver would transpose-pack all of B, as much work as the
// product itself when m is this small.) Each entry is summed the same way wherever it lies in C:
// two vector accumulators over alternate 8-lane (4-lane for double) chunks of k, added, reduced
// pairwise across lanes, then the last k mod 8 (4) terms in order.

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

/// An MB×JB block of C by dot products; T is float or double, V its vector type and W its lanes.
#define DOT_BLOCK(NAME, T, V, W, SETZERO, LOADU, FMADD, ADD, HSUM, MB, JB)                                   \
    static inline __attribute__((always_inline)) void NAME(ptrdiff_t k, const T *a, ptrdiff_t lda, const T *b, \
                                                           ptrdiff_t ldb, T *c, ptrdiff_t ldc) {              \
        V acc0[MB][JB], acc1[MB][JB];                                                                         \
        for (int i = 0; i < MB; i++) {                                                                        \
            for (int j = 0; j < JB; j++) acc0[i][j] = acc1[i][j] = SETZERO();                                 \
        }                                                                                                     \
        ptrdiff_t p = 0;                                                                                      \
        for (; p + 2 * W <= k; p += 2 * W) {                                                                  \
            for (int i = 0; i < MB; i++) {                                                                    \
                V x0 = LOADU(a + i * lda + p), x1 = LOADU(a + i * lda + p + W);                               \
                for (int j = 0; j < JB; j++) {                                                                \
                    acc0[i][j] = FMADD(x0, LOADU(b + j * ldb + p), acc0[i][j]);                               \
                    acc1[i][j] = FMADD(x1, LOADU(b + j * ldb + p + W), acc1[i][j]);                           \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
        if (p + W <= k) {                                                                                     \
            for (int i = 0; i < MB; i++) {                                                                    \
                V x0 = LOADU(a + i * lda + p);                                                                \
                for (int j = 0; j < JB; j++) acc0[i][j] = FMADD(x0, LOADU(b + j * ldb + p), acc0[i][j]);      \
            }                                                                                                 \
            p += W;                                                                                           \
        }                                                                                                     \
        for (int i = 0; i < MB; i++) {                                                                        \
            for (int j = 0; j < JB; j++) {                                                                    \
                T sum = HSUM(ADD(acc0[i][j], acc1[i][j]));                                                    \
                for (ptrdiff_t q = p; q < k; q++) sum += a[i * lda + q] * b[j * ldb + q];                     \
                c[i * ldc + j] += sum;                                                                        \
            }                                                                                                 \
        }                                                                                                     \
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

/// The row counts the dot-product path takes.
#define DOT_MAX_ROWS 4

/// C[m×n] += op(A)·Bᵀ for m ≤ DOT_MAX_ROWS; A is copied to contiguous rows first when transposed.
#define DOT_DRIVER(NAME, T, PREFIX)                                                                           \
    static void NAME(int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T *a, ptrdiff_t lda,             \
                     const T *b, ptrdiff_t ldb, T *c, ptrdiff_t ldc) {                                        \
        if (transA) {                                                                                         \
            T *rows = rnnode_workspace((size_t)(m * k) * sizeof(T));                                          \
            if (!rows) abort();                                                                               \
            for (ptrdiff_t i = 0; i < m; i++) {                                                               \
                for (ptrdiff_t p = 0; p < k; p++) rows[i * k + p] = a[p * lda + i];                           \
            }                                                                                                 \
            a = rows;                                                                                         \
            lda = k;                                                                                          \
        }                                                                                                     \
        ptrdiff_t j = 0;                                                                                      \
        switch (m) {                                                                                          \
        case 1:                                                                                               \
            for (; j + 4 <= n; j += 4) PREFIX##_1x4(k, a, lda, b + j * ldb, ldb, c + j, ldc);                  \
            for (; j < n; j++) PREFIX##_1x1(k, a, lda, b + j * ldb, ldb, c + j, ldc);                          \
            break;                                                                                            \
        case 2:                                                                                               \
            for (; j + 2 <= n; j += 2) PREFIX##_2x2(k, a, lda, b + j * ldb, ldb, c + j, ldc);                  \
            for (; j < n; j++) PREFIX##_2x1(k, a, lda, b + j * ldb, ldb, c + j, ldc);                          \
            break;                                                                                            \
        case 3:                                                                                               \
            for (; j < n; j++) PREFIX##_3x1(k, a, lda, b + j * ldb, ldb, c + j, ldc);                          \
            break;                                                                                            \
        default:                                                                                              \
            for (; j < n; j++) PREFIX##_4x1(k, a, lda, b + j * ldb, ldb, c + j, ldc);                          \
            break;                                                                                            \
        }                                                                                                     \
    }

DOT_DRIVER(sgemm_dot_avx2, float, sdot)
DOT_DRIVER(dgemm_dot_avx2, double, ddot)

// MARK: - Few rows times B

// C[m×n] += op(A)·B for m ≤ 4 rows and B stored k×n: each row of C accumulates the rows of B scaled
// by that row's entries of A, 32 columns at a time, B read in place. (The 6-row micro-kernel would
// spend most of its multiply–adds on padding.) Each entry is summed the same way wherever it lies:
// even p into one accumulator, odd p into another, the two added, then added to C.

#define ROWS_KERNEL(NAME, T, V, W, SETZERO, LOADU, STOREU, MASKLOAD, MASKSTORE, MASK, BROADCAST, FMADD, ADD)      \
    static void NAME(int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T *a, ptrdiff_t lda, const T *b,   \
                     ptrdiff_t ldb, T *c, ptrdiff_t ldc) {                                                        \
        /* op(A)[i, p] is a[i·sa + p·sp]. */                                                                    \
        ptrdiff_t sa = transA ? 1 : lda, sp = transA ? lda : 1;                                                 \
        ptrdiff_t j = 0;                                                                                        \
        for (; j + 4 * W <= n; j += 4 * W) {                                                                    \
            for (ptrdiff_t i = 0; i < m; i++) {                                                                 \
                const T *ai = a + i * sa;                                                                       \
                const T *bj = b + j;                                                                            \
                V e0 = SETZERO(), e1 = SETZERO(), e2 = SETZERO(), e3 = SETZERO();                               \
                V o0 = SETZERO(), o1 = SETZERO(), o2 = SETZERO(), o3 = SETZERO();                               \
                ptrdiff_t p = 0;                                                                                \
                for (; p + 2 <= k; p += 2) {                                                                    \
                    V x = BROADCAST(ai + p * sp), y = BROADCAST(ai + (p + 1) * sp);                             \
                    const T *r0 = bj + p * ldb, *r1 = r0 + ldb;                                                 \
                    e0 = FMADD(x, LOADU(r0), e0);                                                               \
                    e1 = FMADD(x, LOADU(r0 + W), e1);                                                           \
                    e2 = FMADD(x, LOADU(r0 + 2 * W), e2);                                                       \
                    e3 = FMADD(x, LOADU(r0 + 3 * W), e3);                                                       \
                    o0 = FMADD(y, LOADU(r1), o0);                                                               \
                    o1 = FMADD(y, LOADU(r1 + W), o1);                                                           \
                    o2 = FMADD(y, LOADU(r1 + 2 * W), o2);                                                       \
                    o3 = FMADD(y, LOADU(r1 + 3 * W), o3);                                                       \
                }                                                                                               \
                if (p < k) {                                                                                    \
                    V x = BROADCAST(ai + p * sp);                                                               \
                    const T *r0 = bj + p * ldb;                                                                 \
                    e0 = FMADD(x, LOADU(r0), e0);                                                               \
                    e1 = FMADD(x, LOADU(r0 + W), e1);                                                           \
                    e2 = FMADD(x, LOADU(r0 + 2 * W), e2);                                                       \
                    e3 = FMADD(x, LOADU(r0 + 3 * W), e3);                                                       \
                }                                                                                               \
                T *ci = c + i * ldc + j;                                                                        \
                STOREU(ci, ADD(LOADU(ci), ADD(e0, o0)));                                                        \
                STOREU(ci + W, ADD(LOADU(ci + W), ADD(e1, o1)));                                                \
                STOREU(ci + 2 * W, ADD(LOADU(ci + 2 * W), ADD(e2, o2)));                                        \
                STOREU(ci + 3 * W, ADD(LOADU(ci + 3 * W), ADD(e3, o3)));                                        \
            }                                                                                                   \
        }                                                                                                       \
        /* The last n mod 4W columns, one vector (the last one masked) at a time. */                           \
        for (; j < n; j += W) {                                                                                 \
            ptrdiff_t width = n - j < W ? n - j : W;                                                            \
            MASK;                                                                                               \
            for (ptrdiff_t i = 0; i < m; i++) {                                                                 \
                const T *ai = a + i * sa;                                                                       \
                const T *bj = b + j;                                                                            \
                V e0 = SETZERO(), o0 = SETZERO();                                                               \
                ptrdiff_t p = 0;                                                                                \
                for (; p + 2 <= k; p += 2) {                                                                    \
                    e0 = FMADD(BROADCAST(ai + p * sp), MASKLOAD(bj + p * ldb, mask), e0);                       \
                    o0 = FMADD(BROADCAST(ai + (p + 1) * sp), MASKLOAD(bj + (p + 1) * ldb, mask), o0);           \
                }                                                                                               \
                if (p < k) e0 = FMADD(BROADCAST(ai + p * sp), MASKLOAD(bj + p * ldb, mask), e0);                \
                T *ci = c + i * ldc + j;                                                                        \
                MASKSTORE(ci, mask, ADD(MASKLOAD(ci, mask), ADD(e0, o0)));                                      \
            }                                                                                                   \
        }                                                                                                       \
    }

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
