// The portable path: the same blocked driver around micro-kernels in plain C, which the compiler
// vectorizes for whatever the package is built for (SSE2 on baseline x86-64, NEON on arm64).

#include "internal.h"

#include <stdlib.h>

// 4×8 floats and 4×4 doubles: 8 accumulator registers of 128 bits, within the 16 of SSE2.
#define PORTABLE_KERNEL(NAME, T, MR, NR)                                                                  \
    static inline void NAME(ptrdiff_t kc, const T *restrict a, const T *restrict b, ptrdiff_t ldbk,          \
                            T *restrict c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {                    \
        T acc[MR][NR] = {{0}};                                                                            \
        for (ptrdiff_t p = 0; p < kc; p++) {                                                              \
            for (int i = 0; i < MR; i++) {                                                                \
                for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];                                    \
            }                                                                                             \
            a += MR;                                                                                      \
            b += ldbk;                                                                                    \
        }                                                                                                 \
        for (ptrdiff_t i = 0; i < mr; i++) {                                                              \
            for (ptrdiff_t j = 0; j < nr; j++) c[i * ldc + j] += acc[i][j];                               \
        }                                                                                                 \
    }

PORTABLE_KERNEL(sgemm_kernel_portable, float, 4, 8)
PORTABLE_KERNEL(dgemm_kernel_portable, double, 4, 4)

#define GEMM_T float
#define GEMM_NAME sgemm_blocked_portable
#define GEMM_KERNEL sgemm_kernel_portable
#define GEMM_MR 4
#define GEMM_NR 8
#define GEMM_MC 128
#define GEMM_KC 256
#define GEMM_NC 2048
#include "gemm_driver.h"

#define GEMM_T double
#define GEMM_NAME dgemm_blocked_portable
#define GEMM_KERNEL dgemm_kernel_portable
#define GEMM_MR 4
#define GEMM_NR 4
#define GEMM_MC 64
#define GEMM_KC 256
#define GEMM_NC 1024
#include "gemm_driver.h"

void rnnode_sgemm_portable(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                           ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc) {
    sgemm_blocked_portable(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
}

void rnnode_dgemm_portable(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                           ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc) {
    dgemm_blocked_portable(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
}

// MARK: - Products with a packed B

PACKED_ENTRIES(float, sgemm_blocked_portable, rnnode_sgemm_portable)
PACKED_ENTRIES(double, dgemm_blocked_portable, rnnode_dgemm_portable)
