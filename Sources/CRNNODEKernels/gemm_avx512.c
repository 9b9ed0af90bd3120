// The AVX-512 path of the blocked matrix product: 12×32 (float) and 12×16 (double) register
// micro-kernels for 32 zmm registers, and the blocked drivers built around them. Compiled for
// AVX-512F through function attributes only (no compiler flags); gemm.c calls in only after checking
// the CPU and the OS's saved state (CPUID and XGETBV). Products of at most four rows, and products
// with a packed B (the fused recurrent kernels), stay on the AVX2 kernels for now.

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

/// C[mr×nr] += Ã·B̃: Ã a kc×12 packed sliver of A, B̃ a kc×(2W) sliver of B with rows ldbk apart, W
/// the lanes of V. The 12×2W tile lives in 24 zmm accumulators; each step broadcasts 12 entries of A
/// against 2 vectors of B. Every entry is the sum over p in order, as on the other paths.
#define ZMM_KERNEL(NAME, T, V, W, SETZERO, LOADU, STOREU, STORE, BROADCAST, FMADD, ADD)                       \
    static inline __attribute__((always_inline)) void NAME(ptrdiff_t kc, const T *restrict a,                  \
                                                           const T *restrict b, ptrdiff_t ldbk, T *restrict c, \
                                                           ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {        \
        V acc0[12], acc1[12];                                                                                 \
        UNROLL_FULLY for (int r = 0; r < 12; r++) acc0[r] = acc1[r] = SETZERO();                              \
        for (ptrdiff_t p = 0; p < kc; p++) {                                                                  \
            V b0 = LOADU(b), b1 = LOADU(b + W);                                                               \
            UNROLL_FULLY for (int r = 0; r < 12; r++) {                                                       \
                V ar = BROADCAST(a[r]);                                                                       \
                acc0[r] = FMADD(ar, b0, acc0[r]);                                                             \
                acc1[r] = FMADD(ar, b1, acc1[r]);                                                             \
            }                                                                                                 \
            a += 12;                                                                                          \
            b += ldbk;                                                                                        \
        }                                                                                                     \
        if (mr == 12 && nr == 2 * W) {                                                                        \
            UNROLL_FULLY for (int r = 0; r < 12; r++) {                                                                    \
                STOREU(c + r * ldc, ADD(LOADU(c + r * ldc), acc0[r]));                                        \
                STOREU(c + r * ldc + W, ADD(LOADU(c + r * ldc + W), acc1[r]));                                \
            }                                                                                                 \
        } else {                                                                                              \
            T tile[12 * 2 * W] __attribute__((aligned(64)));                                                  \
            UNROLL_FULLY for (int r = 0; r < 12; r++) {                                                                    \
                STORE(tile + r * 2 * W, acc0[r]);                                                             \
                STORE(tile + r * 2 * W + W, acc1[r]);                                                         \
            }                                                                                                 \
            for (ptrdiff_t i = 0; i < mr; i++) {                                                              \
                for (ptrdiff_t j = 0; j < nr; j++) c[i * ldc + j] += tile[i * 2 * W + j];                     \
            }                                                                                                 \
        }                                                                                                     \
    }

ZMM_KERNEL(sgemm_kernel_12x32, float, __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps,
           _mm512_store_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps)
ZMM_KERNEL(dgemm_kernel_12x16, double, __m512d, 8, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_storeu_pd,
           _mm512_store_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd)

// The blocked drivers. KC is that of the other paths (256), so that every entry of C is summed in
// the same k-slices on every path; MC and NC are multiples of the register tile.

#define GEMM_T float
#define GEMM_NAME sgemm_blocked_avx512
#define GEMM_KERNEL sgemm_kernel_12x32
#define GEMM_MR 12
#define GEMM_NR 32
#define GEMM_MC 144
#define GEMM_KC 256
#define GEMM_NC 2048
#include "gemm_driver.h"

#define GEMM_T double
#define GEMM_NAME dgemm_blocked_avx512
#define GEMM_KERNEL dgemm_kernel_12x16
#define GEMM_MR 12
#define GEMM_NR 16
#define GEMM_MC 72
#define GEMM_KC 256
#define GEMM_NC 1024
#include "gemm_driver.h"

void rnnode_sgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                         ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    if (m <= 4) {
        // The few-row kernels (dot products, rows against B in place) of the AVX2 path.
        rnnode_sgemm_avx2(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    } else {
        sgemm_blocked_avx512(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }
}

void rnnode_dgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                         ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    if (m <= 4) {
        rnnode_dgemm_avx2(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    } else {
        dgemm_blocked_avx512(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
