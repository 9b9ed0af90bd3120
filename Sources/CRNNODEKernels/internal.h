// Declarations shared by the kernel files of CRNNODEKernels (not part of the public API).

#ifndef CRNNODE_KERNELS_INTERNAL_H
#define CRNNODE_KERNELS_INTERNAL_H

#include <stddef.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define RNNODE_HAVE_X86_KERNELS 1
#else
#define RNNODE_HAVE_X86_KERNELS 0
#endif

/// This thread's scratch memory for packed panels: at least `bytes`, 64-byte aligned, valid until
/// the thread's next call; freed when the thread exits. NULL if out of memory.
void *rnnode_workspace(size_t bytes);

/// The drivers: C += op(A)·op(B) (see CRNNODEKernels.h), one per path and precision.
void rnnode_sgemm_portable(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                           ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc);
void rnnode_dgemm_portable(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                           ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc);
#if RNNODE_HAVE_X86_KERNELS
void rnnode_sgemm_avx2(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                       ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc);
void rnnode_dgemm_avx2(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                       ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc);
#endif

#endif
