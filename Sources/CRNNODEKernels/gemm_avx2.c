// The AVX2+FMA path: 6×16 (float) and 6×8 (double) register micro-kernels (with 4- and 2-row tiles
// for the edges), the blocked drivers built around them, their products with a packed B, and the
// few-row kernels of gemm_small.h on 256-bit vectors. Everything here is compiled for AVX2+FMA
// through function attributes only, so the package needs no compiler flags; gemm.c calls in only
// after checking the CPU.

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

/// Lane masks for the last, partial vector: lanes below `width` set.
static const int lane_masks_ps[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static const long long lane_masks_pd[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

/// Unrolls the loop that follows completely, so that the accumulator arrays live in registers.
#if defined(__clang__)
#define UNROLL_FULLY _Pragma("clang loop unroll(full)")
#else
#define UNROLL_FULLY _Pragma("GCC unroll 6")
#endif

/// C[mr×nr] += op(A)·B̃ for mr ≤ ROWS, nr ≤ 2·W: B̃ a kc×(2·W) sliver of B with rows ldbk apart, W
/// the lanes of V; op(A) a kc×6 packed sliver of A (inPlace 0: the driver packs A 6 rows at a time,
/// whatever ROWS is; lda is ignored) or mr rows of A read in place, lda apart (inPlace 1; rows past
/// mr read row mr − 1 again, and their sums are dropped). The tile lives in 2·ROWS ymm accumulators
/// (12 for the full 6 rows); each step broadcasts ROWS entries of A against 2 vectors of B. The 4-
/// and 2-row tiles serve the edges of C (a 16-row half batch is 6 + 6 + 4 rows, an 8-row batch
/// 6 + 2). Every entry is the sum over p in order, added to C, as on the other paths, so neither
/// the tile nor the packing changes a result.
#define YMM_KERNEL(NAME, ROWS, T, V, W, MASK_TABLE, SETZERO, LOADU, STOREU, MASKLOAD, MASKSTORE, BROADCAST, FMADD,  \
                   ADD)                                                                                          \
    static inline __attribute__((always_inline)) void NAME(ptrdiff_t kc, const T *restrict a, ptrdiff_t lda,      \
                                                           int inPlace, const T *restrict b, ptrdiff_t ldbk,      \
                                                           T *restrict c, ptrdiff_t ldc, ptrdiff_t mr,            \
                                                           ptrdiff_t nr) {                                        \
        ptrdiff_t offset[ROWS];                                                                                  \
        UNROLL_FULLY for (int r = 0; r < ROWS; r++) offset[r] = inPlace ? (r < mr ? r : mr - 1) * lda : r;       \
        V acc[ROWS][2];                                                                                          \
        UNROLL_FULLY for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = SETZERO();                           \
        for (ptrdiff_t p = 0; p < kc; p++) {                                                                     \
            V b0 = LOADU(b), b1 = LOADU(b + W);                                                                  \
            UNROLL_FULLY for (int r = 0; r < ROWS; r++) {                                                        \
                V ar = BROADCAST(a + offset[r]);                                                                 \
                acc[r][0] = FMADD(ar, b0, acc[r][0]);                                                            \
                acc[r][1] = FMADD(ar, b1, acc[r][1]);                                                            \
            }                                                                                                    \
            a += inPlace ? 1 : 6;                                                                                \
            b += ldbk;                                                                                           \
        }                                                                                                        \
        if (nr == 2 * W) {                                                                                       \
            UNROLL_FULLY for (int r = 0; r < ROWS; r++) {                                                        \
                if (r < mr) {                                                                                    \
                    T *row = c + r * ldc;                                                                        \
                    STOREU(row, ADD(LOADU(row), acc[r][0]));                                                     \
                    STOREU(row + W, ADD(LOADU(row + W), acc[r][1]));                                             \
                }                                                                                                \
            }                                                                                                    \
        } else {                                                                                                 \
            /* The last columns of C, through lane masks. */                                                    \
            __m256i m0 = _mm256_loadu_si256((const __m256i *)(MASK_TABLE + W - (nr < W ? nr : W)));              \
            __m256i m1 = _mm256_loadu_si256((const __m256i *)(MASK_TABLE + W - (nr > W ? nr - W : 0)));          \
            UNROLL_FULLY for (int r = 0; r < ROWS; r++) {                                                        \
                if (r < mr) {                                                                                    \
                    T *row = c + r * ldc;                                                                        \
                    MASKSTORE(row, m0, ADD(MASKLOAD(row, m0), acc[r][0]));                                       \
                    MASKSTORE(row + W, m1, ADD(MASKLOAD(row + W, m1), acc[r][1]));                               \
                }                                                                                                \
            }                                                                                                    \
        }                                                                                                        \
    }

#define SGEMM_TILE(ROWS)                                                                                         \
    YMM_KERNEL(sgemm_tile_##ROWS, ROWS, float, __m256, 8, lane_masks_ps, _mm256_setzero_ps, _mm256_loadu_ps,      \
               _mm256_storeu_ps, _mm256_maskload_ps, _mm256_maskstore_ps, _mm256_broadcast_ss, _mm256_fmadd_ps,    \
               _mm256_add_ps)
#define DGEMM_TILE(ROWS)                                                                                         \
    YMM_KERNEL(dgemm_tile_##ROWS, ROWS, double, __m256d, 4, lane_masks_pd, _mm256_setzero_pd, _mm256_loadu_pd,    \
               _mm256_storeu_pd, _mm256_maskload_pd, _mm256_maskstore_pd, _mm256_broadcast_sd, _mm256_fmadd_pd,    \
               _mm256_add_pd)

SGEMM_TILE(6)
SGEMM_TILE(4)
SGEMM_TILE(2)
DGEMM_TILE(6)
DGEMM_TILE(4)
DGEMM_TILE(2)

/// The smallest tile that covers mr rows (6, 4 or 2).
#define YMM_DISPATCH(NAME, PREFIX, T)                                                                            \
    static inline __attribute__((always_inline)) void NAME(ptrdiff_t kc, const T *restrict a, ptrdiff_t lda,      \
                                                           int inPlace, const T *restrict b, ptrdiff_t ldbk,      \
                                                           T *restrict c, ptrdiff_t ldc, ptrdiff_t mr,            \
                                                           ptrdiff_t nr) {                                        \
        if (mr > 4) PREFIX##_6(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                                    \
        else if (mr > 2) PREFIX##_4(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                               \
        else PREFIX##_2(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                                           \
    }

YMM_DISPATCH(sgemm_tile, sgemm_tile, float)
YMM_DISPATCH(dgemm_tile, dgemm_tile, double)

MICRO_KERNELS(sgemm_kernel_6x16, sgemm_tile, float)
MICRO_KERNELS(dgemm_kernel_6x8, dgemm_tile, double)

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
#define GEMM_KERNEL_IN_PLACE_A sgemm_kernel_6x16_in_place_a
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_MC 144
#define GEMM_KC 256
#define GEMM_NC 2048
#include "gemm_driver.h"

#define GEMM_T double
#define GEMM_NAME dgemm_blocked_avx2
#define GEMM_KERNEL dgemm_kernel_6x8
#define GEMM_KERNEL_IN_PLACE_A dgemm_kernel_6x8_in_place_a
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
