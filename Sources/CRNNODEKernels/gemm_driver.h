// The blocked GEMM driver, instantiated once per precision and path by including this file with
// these macros defined (they are undefined again at the end):
//
//   GEMM_T          the scalar type (float or double)
//   GEMM_NAME       the driver's name: static void GEMM_NAME(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
//   GEMM_KERNEL     the micro-kernel: void GEMM_KERNEL(kc, a, b, ldbk, c, ldc, mr, nr) computing
//                   C[mr×nr] += Ã·B̃ from an MR×kc packed sliver of A and a kc×NR sliver of B whose
//                   rows are ldbk apart (NR when packed)
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

static void GEMM_NAME(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const GEMM_T *a,
                      ptrdiff_t lda, const GEMM_T *b, ptrdiff_t ldb, GEMM_T *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    // Balanced block sizes: the fewest blocks within the limits, of (nearly) equal size.
    ptrdiff_t kc = GEMM_CEIL_DIV(k, GEMM_CEIL_DIV(k, GEMM_KC));
    ptrdiff_t mc = GEMM_CEIL_DIV(GEMM_CEIL_DIV(m, GEMM_CEIL_DIV(m, GEMM_MC)), GEMM_MR) * GEMM_MR;
    ptrdiff_t nc = GEMM_CEIL_DIV(GEMM_CEIL_DIV(n, GEMM_CEIL_DIV(n, GEMM_NC)), GEMM_NR) * GEMM_NR;
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
            if (!directB) {
                GEMM_PACK_B(transB, kb, nb, blockB, ldb, packedB);
            } else if (nb % GEMM_NR != 0) {
                // Only the ragged last sliver is packed (zero-padded: it cannot be read in place).
                ptrdiff_t last = nb - nb % GEMM_NR;
                GEMM_PACK_B(0, kb, nb - last, blockB + last, ldb, packedB + last * kb);
            }
            for (ptrdiff_t ic = 0; ic < m; ic += mc) {
                ptrdiff_t mb = m - ic < mc ? m - ic : mc;
                GEMM_PACK_A(transA, mb, kb, transA ? a + pc * lda + ic : a + ic * lda + pc, lda, packedA);
                for (ptrdiff_t jr = 0; jr < nb; jr += GEMM_NR) {
                    ptrdiff_t nr = nb - jr < GEMM_NR ? nb - jr : GEMM_NR;
                    GEMM_T *tile = c + ic * ldc + jc + jr;
                    if (directB && nr == GEMM_NR) {
                        // In place: mb ≤ MR here, a single tile.
                        GEMM_KERNEL(kb, packedA, blockB + jr, ldb, tile, ldc, mb, nr);
                        continue;
                    }
                    const GEMM_T *sliverB = packedB + jr * kb;
                    for (ptrdiff_t ir = 0; ir < mb; ir += GEMM_MR) {
                        ptrdiff_t mr = mb - ir < GEMM_MR ? mb - ir : GEMM_MR;
                        GEMM_KERNEL(kb, packedA + ir * kb, sliverB, GEMM_NR, tile + ir * ldc, ldc, mr, nr);
                    }
                }
            }
        }
    }
}

#undef GEMM_PACK_A
#undef GEMM_PACK_B
#undef GEMM_T
#undef GEMM_NAME
#undef GEMM_KERNEL
#undef GEMM_MR
#undef GEMM_NR
#undef GEMM_MC
#undef GEMM_KC
#undef GEMM_NC
