// The blocked GEMM driver, instantiated once per precision and path by including this file with
// these macros defined (they are undefined again at the end):
//
//   GEMM_T          the scalar type (float or double)
//   GEMM_NAME       the driver's name: static void GEMM_NAME(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
//   GEMM_KERNEL     the micro-kernel: void GEMM_KERNEL(kc, a, b, ldbk, c, ldc, mr, nr) computing
//                   C[mr×nr] += Ã·B̃ from an MR×kc packed sliver of A and a kc×NR sliver of B whose
//                   rows are ldbk apart (NR when packed)
//   GEMM_KERNEL_IN_PLACE_A   optional: the micro-kernel reading mr rows of a non-transposed A in
//                   place, lda apart: void (kc, a, lda, b, ldbk, c, ldc, mr, nr); products with a
//                   packed B then skip packing A (see GEMM_PACKED)
//   GEMM_IN_PLACE_A_BYTES   optional, with GEMM_KERNEL_IN_PLACE_A: the largest A (m × k entries) read
//                   in place; larger ones are packed (default: any that fits one MC block)
//   GEMM_MR, GEMM_NR   the micro-kernel's register tile
//   GEMM_MC, GEMM_KC, GEMM_NC   the largest cache blocks (MC a multiple of MR, NC of NR)
//
// The loop nest is BLIS's (Van Zee & van de Geijn 2015): for each NC-column panel of op(B) and each
// KC-deep slice of it, pack the KC×NC block of op(B) into NR-wide slivers (kept in L2/L3); for each
// MC-row block of op(A), pack it into MR-tall slivers (kept in L2); then run the micro-kernel over
// all MR×NR tiles of that block, each NR sliver of B staying in L1 while the A slivers stream past.
// Packing resolves the transposes (the micro-kernel sees one layout) and zero-pads the edges.
// When op(A) has at most MR rows and B is not transposed, every sliver of B is used once, so packing
// it would only copy it: the micro-kernel then reads B in place (all but a ragged last sliver).
//
// A B packed ahead (GEMM_PACK_ALL_B) serves many products with different A: the fused recurrent
// kernels multiply by the same weight at every time step. Its blocks lie one after another, column
// panel by column panel and, within a panel, k-slice by k-slice: the block (jc, pc) of a panel nb wide
// starts at jc·k + ⌈nb/NR⌉·NR·pc. GEMM_PACKED runs the same loop nest over it (for a range of whole
// slivers of columns, so that threads can share one packed B), with the same order of summation.
//
// Blocks are balanced: k is split into ⌈k/KC⌉ equal slices (so a 300-deep product is 150 + 150,
// not 256 + 44) and likewise m and n. The slices of k fix the order of summation of every entry of
// C, and they depend only on k, so splitting C among threads cannot change the result.

#define GEMM_CAT_(x, y) x##y
#define GEMM_CAT(x, y) GEMM_CAT_(x, y)
#define GEMM_PACK_A GEMM_CAT(GEMM_NAME, _pack_a)
#define GEMM_PACK_B GEMM_CAT(GEMM_NAME, _pack_b)

/// Packs op(A)[0..<mb, 0..<kb] (a points at its first element) into ⌈mb/MR⌉ slivers of kb×MR.
static void GEMM_PACK_A(int trans, ptrdiff_t mb, ptrdiff_t kb, const GEMM_T *restrict a, ptrdiff_t lda,
                        GEMM_T *restrict dst) {
    for (ptrdiff_t ir = 0; ir < mb; ir += GEMM_MR) {
        ptrdiff_t rows = mb - ir < GEMM_MR ? mb - ir : GEMM_MR;
        if (!trans) {
            const GEMM_T *src = a + ir * lda;
            if (rows == GEMM_MR) {
                for (ptrdiff_t p = 0; p < kb; p++) {
                    for (int r = 0; r < GEMM_MR; r++) dst[p * GEMM_MR + r] = src[r * lda + p];
                }
            } else {
                for (ptrdiff_t p = 0; p < kb; p++) {
                    for (int r = 0; r < GEMM_MR; r++) dst[p * GEMM_MR + r] = r < rows ? src[r * lda + p] : 0;
                }
            }
        } else {
            const GEMM_T *src = a + ir;
            if (rows == GEMM_MR) {
                for (ptrdiff_t p = 0; p < kb; p++) {
                    for (int r = 0; r < GEMM_MR; r++) dst[p * GEMM_MR + r] = src[p * lda + r];
                }
            } else {
                for (ptrdiff_t p = 0; p < kb; p++) {
                    for (int r = 0; r < GEMM_MR; r++) dst[p * GEMM_MR + r] = r < rows ? src[p * lda + r] : 0;
                }
            }
        }
        dst += GEMM_MR * kb;
    }
}

/// Packs op(B)[0..<kb, 0..<nb] (b points at its first element) into ⌈nb/NR⌉ slivers of kb×NR.
static void GEMM_PACK_B(int trans, ptrdiff_t kb, ptrdiff_t nb, const GEMM_T *restrict b, ptrdiff_t ldb,
                        GEMM_T *restrict dst) {
    for (ptrdiff_t jr = 0; jr < nb; jr += GEMM_NR) {
        ptrdiff_t cols = nb - jr < GEMM_NR ? nb - jr : GEMM_NR;
        if (!trans) {
            const GEMM_T *src = b + jr;
            if (cols == GEMM_NR) {
                for (ptrdiff_t p = 0; p < kb; p++) {
                    for (int j = 0; j < GEMM_NR; j++) dst[p * GEMM_NR + j] = src[p * ldb + j];
                }
            } else {
                for (ptrdiff_t p = 0; p < kb; p++) {
                    for (int j = 0; j < GEMM_NR; j++) dst[p * GEMM_NR + j] = j < cols ? src[p * ldb + j] : 0;
                }
            }
        } else {
            // Row j of B is column j of op(B): read rows contiguously, write the sliver strided.
            const GEMM_T *src = b + jr * ldb;
            for (int j = 0; j < GEMM_NR; j++) {
                if (j < cols) {
                    for (ptrdiff_t p = 0; p < kb; p++) dst[p * GEMM_NR + j] = src[j * ldb + p];
                } else {
                    for (ptrdiff_t p = 0; p < kb; p++) dst[p * GEMM_NR + j] = 0;
                }
            }
        }
        dst += GEMM_NR * kb;
    }
}

/// ⌈x/y⌉ for positive x, y.
#ifndef GEMM_CEIL_DIV
#define GEMM_CEIL_DIV(x, y) (((x) + (y) - 1) / (y))
#endif

#define GEMM_MACRO GEMM_CAT(GEMM_NAME, _macro)
#define GEMM_BLOCKS GEMM_CAT(GEMM_NAME, _blocks)
#define GEMM_PACKED GEMM_CAT(GEMM_NAME, _packed)
#define GEMM_PACK_ALL_B GEMM_CAT(GEMM_NAME, _pack_all_b)
#define GEMM_PACKED_COUNT GEMM_CAT(GEMM_NAME, _packed_count)

/// Balanced block sizes for an m×n×k product: the fewest blocks within the limits, of (nearly) equal
/// size (mc a multiple of MR, nc of NR).
static void GEMM_BLOCKS(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t *mc, ptrdiff_t *nc, ptrdiff_t *kc) {
    *kc = GEMM_CEIL_DIV(k, GEMM_CEIL_DIV(k, GEMM_KC));
    *mc = GEMM_CEIL_DIV(GEMM_CEIL_DIV(m, GEMM_CEIL_DIV(m, GEMM_MC)), GEMM_MR) * GEMM_MR;
    *nc = GEMM_CEIL_DIV(GEMM_CEIL_DIV(n, GEMM_CEIL_DIV(n, GEMM_NC)), GEMM_NR) * GEMM_NR;
}

/// One k-slice of the product against one packed block of B: C[0..<m, jr0..<jr1] += op(A)[0..<m,
/// slice] · B̃[slice, jr0..<jr1]. `a` points at op(A)'s first entry of the slice, `blockB` at the
/// block's slivers (column 0 of the block), `c` at C's entry for row 0 and column 0 of the block.
/// op(A) is packed MC rows at a time into `packedA`, or, where the path has GEMM_KERNEL_IN_PLACE_A
/// and packedA is NULL, read in place (not transposed). jr0 is a multiple of NR.
static void GEMM_MACRO(int transA, ptrdiff_t m, ptrdiff_t kb, const GEMM_T *a, ptrdiff_t lda, const GEMM_T *blockB,
                       ptrdiff_t jr0, ptrdiff_t jr1, GEMM_T *c, ptrdiff_t ldc, ptrdiff_t mc, GEMM_T *packedA) {
#ifdef GEMM_KERNEL_IN_PLACE_A
    if (!packedA) {
        // A read in place (not transposed), MR rows at a time.
        for (ptrdiff_t jr = jr0; jr < jr1; jr += GEMM_NR) {
            ptrdiff_t nr = jr1 - jr < GEMM_NR ? jr1 - jr : GEMM_NR;
            for (ptrdiff_t ir = 0; ir < m; ir += GEMM_MR) {
                ptrdiff_t mr = m - ir < GEMM_MR ? m - ir : GEMM_MR;
                GEMM_KERNEL_IN_PLACE_A(kb, a + ir * lda, lda, blockB + jr * kb, GEMM_NR, c + ir * ldc + jr, ldc, mr,
                                       nr);
            }
        }
        return;
    }
#endif
    for (ptrdiff_t ic = 0; ic < m; ic += mc) {
        ptrdiff_t mb = m - ic < mc ? m - ic : mc;
        GEMM_PACK_A(transA, mb, kb, transA ? a + ic : a + ic * lda, lda, packedA);
        for (ptrdiff_t jr = jr0; jr < jr1; jr += GEMM_NR) {
            ptrdiff_t nr = jr1 - jr < GEMM_NR ? jr1 - jr : GEMM_NR;
            const GEMM_T *sliverB = blockB + jr * kb;
            GEMM_T *tile = c + ic * ldc + jr;
            for (ptrdiff_t ir = 0; ir < mb; ir += GEMM_MR) {
                ptrdiff_t mr = mb - ir < GEMM_MR ? mb - ir : GEMM_MR;
                GEMM_KERNEL(kb, packedA + ir * kb, sliverB, GEMM_NR, tile + ir * ldc, ldc, mr, nr);
            }
        }
    }
}

static void GEMM_NAME(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const GEMM_T *a,
                      ptrdiff_t lda, const GEMM_T *b, ptrdiff_t ldb, GEMM_T *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    ptrdiff_t mc, nc, kc;
    GEMM_BLOCKS(m, n, k, &mc, &nc, &kc);
    // Round the packed A block up to a whole number of cache lines so that B's panel stays aligned.
    size_t aCount = ((size_t)mc * (size_t)kc + 15) & ~(size_t)15;
    size_t bCount = (size_t)nc * (size_t)kc;
    GEMM_T *packedA = rnnode_workspace((aCount + bCount) * sizeof(GEMM_T));
    if (!packedA) abort();
    GEMM_T *packedB = packedA + aCount;
    // One row panel of A: each sliver of B is used once, so read B in place instead of packing it.
    int directB = !transB && m <= GEMM_MR;

    for (ptrdiff_t jc = 0; jc < n; jc += nc) {
        ptrdiff_t nb = n - jc < nc ? n - jc : nc;
        for (ptrdiff_t pc = 0; pc < k; pc += kc) {
            ptrdiff_t kb = k - pc < kc ? k - pc : kc;
            const GEMM_T *blockB = transB ? b + jc * ldb + pc : b + pc * ldb + jc;
            const GEMM_T *blockA = transA ? a + pc * lda : a + pc;
            if (!directB) {
                GEMM_PACK_B(transB, kb, nb, blockB, ldb, packedB);
                GEMM_MACRO(transA, m, kb, blockA, lda, packedB, 0, nb, c + jc, ldc, mc, packedA);
                continue;
            }
            // In place: m ≤ MR, a single row of tiles. Only the ragged last sliver is packed
            // (zero-padded: it cannot be read in place).
            GEMM_PACK_A(transA, m, kb, blockA, lda, packedA);
            ptrdiff_t last = nb - nb % GEMM_NR;
            for (ptrdiff_t jr = 0; jr < last; jr += GEMM_NR) {
                GEMM_KERNEL(kb, packedA, blockB + jr, ldb, c + jc + jr, ldc, m, GEMM_NR);
            }
            if (last < nb) {
                GEMM_PACK_B(0, kb, nb - last, blockB + last, ldb, packedB);
                GEMM_KERNEL(kb, packedA, packedB, GEMM_NR, c + jc + last, ldc, m, nb - last);
            }
        }
    }
}

/// The number of entries GEMM_PACK_ALL_B writes for a k×n op(B).
static size_t GEMM_PACKED_COUNT(ptrdiff_t k, ptrdiff_t n) {
    if (n <= 0 || k <= 0) return 0;
    ptrdiff_t mc, nc, kc;
    GEMM_BLOCKS(1, n, k, &mc, &nc, &kc);
    size_t count = 0;
    for (ptrdiff_t jc = 0; jc < n; jc += nc) {
        ptrdiff_t nb = n - jc < nc ? n - jc : nc;
        count += (size_t)(GEMM_CEIL_DIV(nb, GEMM_NR) * GEMM_NR) * (size_t)k;
    }
    return count;
}

/// Packs all of op(B) (k×n) for GEMM_PACKED, in the layout described at the top.
static void GEMM_PACK_ALL_B(int transB, ptrdiff_t k, ptrdiff_t n, const GEMM_T *b, ptrdiff_t ldb, GEMM_T *dst) {
    if (n <= 0 || k <= 0) return;
    ptrdiff_t mc, nc, kc;
    GEMM_BLOCKS(1, n, k, &mc, &nc, &kc);
    for (ptrdiff_t jc = 0; jc < n; jc += nc) {
        ptrdiff_t nb = n - jc < nc ? n - jc : nc;
        ptrdiff_t width = GEMM_CEIL_DIV(nb, GEMM_NR) * GEMM_NR;
        for (ptrdiff_t pc = 0; pc < k; pc += kc) {
            ptrdiff_t kb = k - pc < kc ? k - pc : kc;
            GEMM_PACK_B(transB, kb, nb, transB ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, dst + jc * k + width * pc);
        }
    }
}

/// C[0..<m, j0..<j1] += op(A)·op(B) for a k×n op(B) packed by GEMM_PACK_ALL_B; j0 is a multiple of NR.
static void GEMM_PACKED(int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const GEMM_T *a, ptrdiff_t lda,
                        const GEMM_T *packed, ptrdiff_t j0, ptrdiff_t j1, GEMM_T *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0 || j0 >= j1) return;
    ptrdiff_t mc, nc, kc;
    GEMM_BLOCKS(m, n, k, &mc, &nc, &kc);
    GEMM_T *packedA = NULL;
#ifdef GEMM_KERNEL_IN_PLACE_A
    // The fused recurrent steps' products: at most one MC block of rows, which stays in cache
    // while it is read in place, as a packed block would, without the copy.
    int inPlaceA = !transA && m <= GEMM_MC;
#ifdef GEMM_IN_PLACE_A_BYTES
    inPlaceA = inPlaceA && (size_t)m * (size_t)k * sizeof(GEMM_T) <= GEMM_IN_PLACE_A_BYTES;
#endif
#else
    int inPlaceA = 0;
#endif
    if (!inPlaceA) {
        packedA = rnnode_workspace((size_t)mc * (size_t)kc * sizeof(GEMM_T));
        if (!packedA) abort();
    }
    for (ptrdiff_t jc = 0; jc < n; jc += nc) {
        ptrdiff_t nb = n - jc < nc ? n - jc : nc;
        ptrdiff_t lo = (j0 > jc ? j0 : jc) - jc, hi = (j1 < jc + nb ? j1 : jc + nb) - jc;
        if (lo >= hi) continue;
        ptrdiff_t width = GEMM_CEIL_DIV(nb, GEMM_NR) * GEMM_NR;
        for (ptrdiff_t pc = 0; pc < k; pc += kc) {
            ptrdiff_t kb = k - pc < kc ? k - pc : kc;
            GEMM_MACRO(transA, m, kb, transA ? a + pc * lda : a + pc, lda, packed + jc * k + width * pc, lo, hi,
                       c + jc, ldc, mc, packedA);
        }
    }
}

#undef GEMM_PACK_A
#undef GEMM_PACK_B
#undef GEMM_MACRO
#undef GEMM_BLOCKS
#undef GEMM_PACKED
#undef GEMM_PACK_ALL_B
#undef GEMM_PACKED_COUNT
#undef GEMM_T
#undef GEMM_NAME
#undef GEMM_KERNEL
#undef GEMM_KERNEL_IN_PLACE_A
#undef GEMM_IN_PLACE_A_BYTES
#undef GEMM_MR
#undef GEMM_NR
#undef GEMM_MC
#undef GEMM_KC
#undef GEMM_NC
