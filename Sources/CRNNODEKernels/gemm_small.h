// The kernels for products of at most four rows, as macros that each SIMD path's file instantiates
// with its vector type V, its lanes W and its intrinsics (the AVX2 and the AVX-512 paths).
//
// Dot products: C[m×n] += A·Bᵀ for m ≤ 4 rows of A (contiguous, lda apart) and B stored n×k,
// reading B in place. (The blocked driver would transpose-pack all of B, as much work as the
// product itself when m is this small.) Each entry is summed the same way wherever it lies in C:
// two vector accumulators over alternate W-lane chunks of k, added, reduced across lanes, then the
// last k mod W terms in order. The sums depend on W, so the AVX2 and AVX-512 paths agree to
// rounding here, not bit for bit.
//
// Rows: C[m×n] += op(A)·B for m ≤ 4 and B stored k×n (below). Its sums do not depend on W.

#ifndef CRNNODE_GEMM_SMALL_H
#define CRNNODE_GEMM_SMALL_H

#include "internal.h"

#include <stdlib.h>

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

// Rows: C[m×n] += op(A)·B for m ≤ 4 rows and B stored k×n: each row of C accumulates the rows of B scaled
// by that row's entries of A, 4W columns at a time, B read in place. (The blocked micro-kernel would
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

#endif
