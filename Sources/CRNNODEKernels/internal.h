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
void rnnode_sgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                         ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc);
void rnnode_dgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                         ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc);
#endif

/// Products with a B packed ahead, per path and precision (see gemm_driver.h): the packed size (in
/// elements), packing op(B) (k×n), and C[0..<m, j0..<j1] += op(A)·op(B) (j0 a multiple of the
/// path's rnnode_packed_granule).
#define PACKED_DECLARATIONS(T, NAME)                                                                      \
    size_t NAME##_packed_count(ptrdiff_t k, ptrdiff_t n);                                                 \
    void NAME##_pack_b(int transB, ptrdiff_t k, ptrdiff_t n, const T *b, ptrdiff_t ldb, T *packed);         \
    void NAME##_packed(int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T *a, ptrdiff_t lda,        \
                       const T *packed, ptrdiff_t j0, ptrdiff_t j1, T *c, ptrdiff_t ldc);
/// Defines NAME's packed-B entry points around a blocked driver DRIVER from gemm_driver.h.
#define PACKED_ENTRIES(T, DRIVER, NAME)                                                                   \
    size_t NAME##_packed_count(ptrdiff_t k, ptrdiff_t n) { return DRIVER##_packed_count(k, n); }           \
    void NAME##_pack_b(int transB, ptrdiff_t k, ptrdiff_t n, const T *b, ptrdiff_t ldb, T *packed) {       \
        DRIVER##_pack_all_b(transB, k, n, b, ldb, packed);                                                \
    }                                                                                                     \
    void NAME##_packed(int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T *a, ptrdiff_t lda,        \
                       const T *packed, ptrdiff_t j0, ptrdiff_t j1, T *c, ptrdiff_t ldc) {                 \
        DRIVER##_packed(transA, m, n, k, a, lda, packed, j0, j1, c, ldc);                                  \
    }

PACKED_DECLARATIONS(float, rnnode_sgemm_portable)
PACKED_DECLARATIONS(double, rnnode_dgemm_portable)
#if RNNODE_HAVE_X86_KERNELS
PACKED_DECLARATIONS(float, rnnode_sgemm_avx2)
PACKED_DECLARATIONS(double, rnnode_dgemm_avx2)
PACKED_DECLARATIONS(float, rnnode_sgemm_avx512)
PACKED_DECLARATIONS(double, rnnode_dgemm_avx512)
#endif

/// The path a request for `path` runs on: `path` itself where the CPU supports it, else the best
/// path it does support (an unknown or negative code: the portable path).
int rnnode_resolved_path(int path);

/// The width of a packed B's slivers on `path` (NR: 8, 16 or 32 floats; 4, 8 or 16 doubles): a
/// range of columns of a product with it must start at a multiple of this.
ptrdiff_t rnnode_packed_granule(int path, size_t scalarSize);

/// C[0..<m, j0..<j1] += op(A)·op(B) with op(B) packed by rnnode_sgemm_pack_b on `path`.
void rnnode_sgemm_packed_range(int path, int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                               ptrdiff_t lda, const float *packed, ptrdiff_t j0, ptrdiff_t j1, float *c, ptrdiff_t ldc);
/// The double-precision rnnode_sgemm_packed_range.
void rnnode_dgemm_packed_range(int path, int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                               ptrdiff_t lda, const double *packed, ptrdiff_t j0, ptrdiff_t j1, double *c,
                               ptrdiff_t ldc);

/// The blocked driver's two micro-kernels from a tile TILE(kc, a, lda, inPlace, b, ldbk, c, ldc, mr,
/// nr): NAME on a packed sliver of A (GEMM_KERNEL) and NAME_in_place_a on rows of A read in place,
/// lda apart (GEMM_KERNEL_IN_PLACE_A). For the vector paths' files, inside their target attributes.
#define MICRO_KERNELS(NAME, TILE, T)                                                                             \
    static inline __attribute__((always_inline)) void NAME(ptrdiff_t kc, const T *restrict a, const T *restrict b, \
                                                           ptrdiff_t ldbk, T *restrict c, ptrdiff_t ldc,          \
                                                           ptrdiff_t mr, ptrdiff_t nr) {                          \
        TILE(kc, a, 0, 0, b, ldbk, c, ldc, mr, nr);                                                              \
    }                                                                                                            \
    static inline __attribute__((always_inline)) void NAME##_in_place_a(                                         \
        ptrdiff_t kc, const T *restrict a, ptrdiff_t lda, const T *restrict b, ptrdiff_t ldbk, T *restrict c,    \
        ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {                                                             \
        TILE(kc, a, lda, 1, b, ldbk, c, ldc, mr, nr);                                                            \
    }

#endif
