// The AVX-512 path of the matrix product: 12×32 (float) and 12×16 (double) register micro-kernels
// for 32 zmm registers (with 8- and 4-row, one-vector tiles for the edges), the blocked drivers
// built around them, their products with a packed B, and the few-row kernels of gemm_small.h on
// 512-bit vectors. Compiled for AVX-512F through function attributes only (no compiler flags);
// gemm.c calls in only after checking the CPU and the OS's saved state (CPUID and XGETBV).

#include "gemm_small.h"
#include "internal.h"

#if RNNODE_HAVE_X86_KERNELS

#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif

/// Unrolls the loop that follows completely, so that the accumulator arrays live in registers.
#if defined(__clang__)
#define UNROLL_FULLY _Pragma("clang loop unroll(full)")
#else
#define UNROLL_FULLY _Pragma("GCC unroll 12")
#endif

/// C[mr×nr] += op(A)·B̃ for mr ≤ ROWS, nr ≤ VECS·W: B̃ a kc×(VECS·W) sliver of B with rows ldbk
/// apart, W the lanes of V; op(A) a kc×12 packed sliver of A (inPlace 0: the driver packs A 12 rows
/// at a time, whatever ROWS is; lda is ignored) or mr rows of A read in place, lda apart (inPlace 1;
/// rows past mr read row mr − 1 again, and their sums are dropped). The tile lives in ROWS·VECS zmm
/// accumulators (at most 24); each step broadcasts ROWS entries of A against VECS vectors of B. The
/// smaller tiles serve the edges of C (a 16-row block of a recurrent step is 12 + 4 rows, not
/// 12 + 12), and the edge of C is written through lane masks. Every entry is the sum over p in
/// order, added to C, as on the other paths, so neither the tile nor the packing changes a result.
#define ZMM_KERNEL(NAME, ROWS, VECS, T, V, W, MASK_T, SETZERO, LOADU, MASKZ_LOADU, MASK_STOREU, BROADCAST,       \
                   FMADD, ADD)                                                                                   \
    static inline __attribute__((always_inline)) void NAME(ptrdiff_t kc, const T *restrict a, ptrdiff_t lda,      \
                                                           int inPlace, const T *restrict b, ptrdiff_t ldbk,      \
                                                           T *restrict c, ptrdiff_t ldc, ptrdiff_t mr,            \
                                                           ptrdiff_t nr) {                                        \
        ptrdiff_t offset[ROWS];                                                                                  \
        UNROLL_FULLY for (int r = 0; r < ROWS; r++) offset[r] = inPlace ? (r < mr ? r : mr - 1) * lda : r;       \
        V acc[ROWS][VECS];                                                                                       \
        UNROLL_FULLY for (int r = 0; r < ROWS; r++) {                                                            \
            UNROLL_FULLY for (int v = 0; v < VECS; v++) acc[r][v] = SETZERO();                                   \
        }                                                                                                        \
        for (ptrdiff_t p = 0; p < kc; p++) {                                                                     \
            V bv[VECS];                                                                                          \
            UNROLL_FULLY for (int v = 0; v < VECS; v++) bv[v] = LOADU(b + v * W);                                \
            UNROLL_FULLY for (int r = 0; r < ROWS; r++) {                                                        \
                V ar = BROADCAST(a[offset[r]]);                                                                  \
                UNROLL_FULLY for (int v = 0; v < VECS; v++) acc[r][v] = FMADD(ar, bv[v], acc[r][v]);             \
            }                                                                                                    \
            a += inPlace ? 1 : 12;                                                                               \
            b += ldbk;                                                                                           \
        }                                                                                                        \
        MASK_T masks[VECS];                                                                                      \
        UNROLL_FULLY for (int v = 0; v < VECS; v++) {                                                            \
            ptrdiff_t lanes = nr - v * W;                                                                        \
            masks[v] = lanes >= W ? (MASK_T)~0u : lanes <= 0 ? (MASK_T)0 : (MASK_T)((1u << lanes) - 1);          \
        }                                                                                                        \
        UNROLL_FULLY for (int r = 0; r < ROWS; r++) {                                                            \
            if (r < mr) {                                                                                        \
                UNROLL_FULLY for (int v = 0; v < VECS; v++) {                                                    \
                    T *row = c + r * ldc + v * W;                                                                \
                    MASK_STOREU(row, masks[v], ADD(MASKZ_LOADU(masks[v], row), acc[r][v]));                      \
                }                                                                                                \
            }                                                                                                    \
        }                                                                                                        \
    }

#define SGEMM_TILE(ROWS, VECS)                                                                                   \
    ZMM_KERNEL(sgemm_tile_##ROWS##x##VECS, ROWS, VECS, float, __m512, 16, __mmask16, _mm512_setzero_ps,           \
               _mm512_loadu_ps, _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps,     \
               _mm512_add_ps)
#define DGEMM_TILE(ROWS, VECS)                                                                                   \
    ZMM_KERNEL(dgemm_tile_##ROWS##x##VECS, ROWS, VECS, double, __m512d, 8, __mmask8, _mm512_setzero_pd,           \
               _mm512_loadu_pd, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd,     \
               _mm512_add_pd)

SGEMM_TILE(12, 2)
SGEMM_TILE(8, 2)
SGEMM_TILE(4, 2)
SGEMM_TILE(12, 1)
SGEMM_TILE(8, 1)
SGEMM_TILE(4, 1)
DGEMM_TILE(12, 2)
DGEMM_TILE(8, 2)
DGEMM_TILE(4, 2)
DGEMM_TILE(12, 1)
DGEMM_TILE(8, 1)
DGEMM_TILE(4, 1)

/// The smallest tile that covers mr×nr (12, 8 or 4 rows; one or two vectors).
#define ZMM_DISPATCH(NAME, PREFIX, T, W)                                                                         \
    static inline __attribute__((always_inline)) void NAME(ptrdiff_t kc, const T *restrict a, ptrdiff_t lda,      \
                                                           int inPlace, const T *restrict b, ptrdiff_t ldbk,      \
                                                           T *restrict c, ptrdiff_t ldc, ptrdiff_t mr,            \
                                                           ptrdiff_t nr) {                                        \
        if (nr > W) {                                                                                            \
            if (mr > 8) PREFIX##_12x2(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                             \
            else if (mr > 4) PREFIX##_8x2(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                         \
            else PREFIX##_4x2(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                                     \
        } else {                                                                                                 \
            if (mr > 8) PREFIX##_12x1(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                             \
            else if (mr > 4) PREFIX##_8x1(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                         \
            else PREFIX##_4x1(kc, a, lda, inPlace, b, ldbk, c, ldc, mr, nr);                                     \
        }                                                                                                        \
    }

ZMM_DISPATCH(sgemm_tile, sgemm_tile, float, 16)
ZMM_DISPATCH(dgemm_tile, dgemm_tile, double, 8)

MICRO_KERNELS(sgemm_kernel_avx512, sgemm_tile, float)
MICRO_KERNELS(dgemm_kernel_avx512, dgemm_tile, double)

// MARK: - Few rows (the kernels of gemm_small.h)

static inline float hsum512_ps(__m512 v) { return _mm512_reduce_add_ps(v); }
static inline double hsum512_pd(__m512d v) { return _mm512_reduce_add_pd(v); }

#define SDOT512_BLOCK(MB, JB)                                                                                    \
    DOT_BLOCK(sdot512_##MB##x##JB, float, __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_fmadd_ps,        \
              _mm512_add_ps, hsum512_ps, MB, JB)
#define DDOT512_BLOCK(MB, JB)                                                                                    \
    DOT_BLOCK(ddot512_##MB##x##JB, double, __m512d, 8, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_fmadd_pd,       \
              _mm512_add_pd, hsum512_pd, MB, JB)

SDOT512_BLOCK(1, 4)
SDOT512_BLOCK(1, 1)
SDOT512_BLOCK(2, 2)
SDOT512_BLOCK(2, 1)
SDOT512_BLOCK(3, 1)
SDOT512_BLOCK(4, 1)
DDOT512_BLOCK(1, 4)
DDOT512_BLOCK(1, 1)
DDOT512_BLOCK(2, 2)
DDOT512_BLOCK(2, 1)
DDOT512_BLOCK(3, 1)
DDOT512_BLOCK(4, 1)

DOT_DRIVER(sgemm_dot_avx512, float, sdot512)
DOT_DRIVER(dgemm_dot_avx512, double, ddot512)

// gemm_small.h's rows kernel takes AVX2's argument orders: a pointer to broadcast, (pointer, mask)
// for masked loads and (pointer, mask, value) for masked stores.
static inline __m512 broadcast512_ps(const float *x) { return _mm512_set1_ps(*x); }
static inline __m512d broadcast512_pd(const double *x) { return _mm512_set1_pd(*x); }
static inline __m512 maskload512_ps(const float *x, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, x); }
static inline __m512d maskload512_pd(const double *x, __mmask8 mask) { return _mm512_maskz_loadu_pd(mask, x); }

ROWS_KERNEL(sgemm_rows_avx512, float, __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps,
            maskload512_ps, _mm512_mask_storeu_ps, __mmask16 mask = (__mmask16)((1u << width) - 1), broadcast512_ps,
            _mm512_fmadd_ps, _mm512_add_ps)
ROWS_KERNEL(dgemm_rows_avx512, double, __m512d, 8, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_storeu_pd,
            maskload512_pd, _mm512_mask_storeu_pd, __mmask8 mask = (__mmask8)((1u << width) - 1), broadcast512_pd,
            _mm512_fmadd_pd, _mm512_add_pd)

// The blocked drivers. KC is that of the other paths (256), so that every entry of C is summed in
// the same k-slices on every path; MC and NC are multiples of the register tile. Products with a
// packed B read A in place up to 32 KiB of it (an L1 cache): the 12-row tile reads 12 rows lda
// apart, and a larger A, re-read for every sliver of B, runs faster packed (lstm-train-h256 on a
// Zen 4, Docs/Benchmarks.md).

#define GEMM_T float
#define GEMM_NAME sgemm_blocked_avx512
#define GEMM_KERNEL sgemm_kernel_avx512
#define GEMM_KERNEL_IN_PLACE_A sgemm_kernel_avx512_in_place_a
#define GEMM_IN_PLACE_A_BYTES 32768
#define GEMM_MR 12
#define GEMM_NR 32
#define GEMM_MC 144
#define GEMM_KC 256
#define GEMM_NC 2048
#include "gemm_driver.h"

#define GEMM_T double
#define GEMM_NAME dgemm_blocked_avx512
#define GEMM_KERNEL dgemm_kernel_avx512
#define GEMM_KERNEL_IN_PLACE_A dgemm_kernel_avx512_in_place_a
#define GEMM_IN_PLACE_A_BYTES 32768
#define GEMM_MR 12
#define GEMM_NR 16
#define GEMM_MC 72
#define GEMM_KC 256
#define GEMM_NC 1024
#include "gemm_driver.h"

void rnnode_sgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                         ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    if (transB && m <= DOT_MAX_ROWS) {
        sgemm_dot_avx512(transA, m, n, k, a, lda, b, ldb, c, ldc);
    } else if (m <= DOT_MAX_ROWS) {
        sgemm_rows_avx512(transA, m, n, k, a, lda, b, ldb, c, ldc);
    } else {
        sgemm_blocked_avx512(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }
}

void rnnode_dgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                         ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    if (transB && m <= DOT_MAX_ROWS) {
        dgemm_dot_avx512(transA, m, n, k, a, lda, b, ldb, c, ldc);
    } else if (m <= DOT_MAX_ROWS) {
        dgemm_rows_avx512(transA, m, n, k, a, lda, b, ldb, c, ldc);
    } else {
        dgemm_blocked_avx512(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }
}

// MARK: - Products with a packed B

PACKED_ENTRIES(float, sgemm_blocked_avx512, rnnode_sgemm_avx512)
PACKED_ENTRIES(double, dgemm_blocked_avx512, rnnode_dgemm_avx512)

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
