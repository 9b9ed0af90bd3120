// CRNNODEKernels: the numeric kernels behind RNNODE's tensors, in C so that they can use wider SIMD
// instructions chosen at run time without compiler flags for the whole package.
//
// Matrix multiply (GEMM). All matrices are row-major with a leading dimension (the distance between
// consecutive rows, in elements). The functions ACCUMULATE:
//
//     C[m×n] += op(A)[m×k] · op(B)[k×n]
//
// where op(A) = A when transA == 0 (A is m×k, element (i, p) at a[i·lda + p]) and op(A) = Aᵀ when
// transA != 0 (A is stored k×m, element (i, p) of op(A) at a[p·lda + i]); likewise for B (n×k when
// transposed). Callers that want C = op(A)·op(B) zero C first. m, n or k of 0 is a no-op.
//
// All functions are thread-safe. rnnode_sgemm/rnnode_dgemm(_on_path) run on the calling thread;
// rnnode_sgemm/dgemm_threaded split C over a pool of worker threads. Results do not depend on how C
// is split (for a given path, each entry is summed in the same order), so they are deterministic.
//
// Paths: the AVX-512 kernels (x86-64 CPUs with AVX-512F whose OS saves the zmm and mask registers,
// checked once at run time with CPUID and XGETBV; they also need AVX2+FMA), the AVX2+FMA kernels
// (CPUs that have both, and whose OS saves the ymm registers) and portable C kernels (every CPU).
// The environment variable RNNODE_KERNELS, read once at the first call, caps the path process-wide
// for every kernel — matrix products, activations and the recurrent gate kernels:
// RNNODE_KERNELS=portable, =avx2 or =avx512 (the default: the best the CPU supports); any other
// value is reported on standard error and ignored. All paths pack panels of A and B for a
// register-tiled micro-kernel (BLIS's scheme); the AVX2 and AVX-512 paths also have row and
// dot-product kernels for products of at most 4 rows, and a product with one column (and ldc == 1)
// is computed as its one-row transpose. The AVX-512 and AVX2 paths give the same results bit for
// bit, but for the dot-product kernel (a transposed B and at most 4 rows: its sums are split by the
// vector width), which agrees to rounding.

#ifndef CRNNODE_KERNELS_H
#define CRNNODE_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The implementations of the GEMM functions.
enum {
    /// Plain C loops over packed panels: correct on every CPU.
    RNNODE_GEMM_PATH_PORTABLE = 0,
    /// 256-bit AVX2 micro-kernels with fused multiply–adds (6×16 floats, 6×8 doubles).
    RNNODE_GEMM_PATH_AVX2_FMA = 1,
    /// 512-bit AVX-512F kernels: micro-kernels of 12×32 floats and 12×16 doubles, the few-row
    /// kernels, the products with a packed B, the activations and the gate arithmetic.
    RNNODE_GEMM_PATH_AVX512 = 2,
};

/// C += op(A)·op(B) in single precision, on the current path (rnnode_gemm_path()).
void rnnode_sgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                  const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc);

/// C += op(A)·op(B) in double precision, on the current path (rnnode_gemm_path()).
void rnnode_dgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a, ptrdiff_t lda,
                  const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc);

/// rnnode_sgemm on an explicit path (an RNNODE_GEMM_PATH_… value). A path this CPU does not support
/// runs the best one it does (an unknown code: the portable one). For tests and benchmarks: it does not touch any global state.
void rnnode_sgemm_on_path(int path, int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                          ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc);

/// rnnode_dgemm on an explicit path; see rnnode_sgemm_on_path.
void rnnode_dgemm_on_path(int path, int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                          ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc);

/// rnnode_sgemm_on_path split over up to `threads` threads: the caller and the workers of a pool
/// started on first use (rnnode_cpu_count() − 1 threads, which poll for 50 µs after each product and
/// then sleep). C is split along its longer side into up to `threads` blocks of whole multiples of 16
/// columns or 12 rows, so the result is exactly that of a single-threaded call. While another
/// thread's product holds the pool, the product runs on the caller alone. threads <= 1: no pool.
void rnnode_sgemm_threaded(int path, int threads, int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                           const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc);

/// rnnode_dgemm_on_path split over up to `threads` threads; see rnnode_sgemm_threaded.
void rnnode_dgemm_threaded(int path, int threads, int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                           const double *a, ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c,
                           ptrdiff_t ldc);

/// The path rnnode_sgemm and rnnode_dgemm take: the fastest one this CPU supports, capped by
/// RNNODE_KERNELS and by rnnode_gemm_force_portable.
int rnnode_gemm_path(void);

/// The fastest path this CPU supports (ignores any forcing).
int rnnode_gemm_best_path(void);

/// A short name of a path: "portable", "avx2-fma" or "avx512".
const char *rnnode_gemm_path_name(int path);

/// Forces (force != 0) or stops forcing (force == 0) the portable path process-wide, for
/// rnnode_sgemm/rnnode_dgemm calls that start afterwards. Returns the previous setting.
int rnnode_gemm_force_portable(int force);

/// The number of CPUs this process may run on (at least 1): how many threads a caller should split
/// a large product into.
int rnnode_cpu_count(void);

// Products with a packed B: op(B) packed once, then multiplied by many A (the fused recurrent
// kernels multiply by the same weight at every time step, and packing it each time costs as much as
// a sixth of the product). A packed B belongs to one path: pack and multiply with the same `path`
// (a path this CPU does not support means the best one it does, for both). The products run the blocked
// kernel's loop nest and sum every entry in the same order as rnnode_sgemm_threaded does for products
// of more than 4 rows and more than one column (smaller ones take other kernels there).

/// The number of floats rnnode_sgemm_pack_b writes for a k×n op(B) on `path`.
size_t rnnode_sgemm_packed_b_count(int path, ptrdiff_t k, ptrdiff_t n);

/// Packs op(B) (k×n: B is k×n, or n×k when transB != 0, with leading dimension ldb) into `packed`,
/// which holds rnnode_sgemm_packed_b_count(path, k, n) floats.
void rnnode_sgemm_pack_b(int path, int transB, ptrdiff_t k, ptrdiff_t n, const float *b, ptrdiff_t ldb,
                         float *packed);

/// C[m×n] += op(A)·op(B) with op(B) packed by rnnode_sgemm_pack_b on the same path with the same k
/// and n, split over up to `threads` threads as rnnode_sgemm_threaded splits (all read one packed B).
void rnnode_sgemm_packed(int path, int threads, int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                         ptrdiff_t lda, const float *packed, float *c, ptrdiff_t ldc);

/// rnnode_sgemm_packed_b_count in double precision.
size_t rnnode_dgemm_packed_b_count(int path, ptrdiff_t k, ptrdiff_t n);

/// rnnode_sgemm_pack_b in double precision.
void rnnode_dgemm_pack_b(int path, int transB, ptrdiff_t k, ptrdiff_t n, const double *b, ptrdiff_t ldb,
                         double *packed);

/// rnnode_sgemm_packed in double precision.
void rnnode_dgemm_packed(int path, int threads, int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                         const double *a, ptrdiff_t lda, const double *packed, double *c, ptrdiff_t ldc);

// The activations the gate kernels use, in place over float arrays, on an explicit path (for tests
// and benchmarks): σ(x) = 1/(1 + e⁻ˣ) and tanh(x), both within 2e-7 (absolute) of the exact values,
// for any finite input (inputs beyond ±87 saturate); NaN stays NaN.

/// σ(x) for each of x[0..<n], in place, on the current path (rnnode_gemm_path()).
void rnnode_sigmoid_f32(float *x, ptrdiff_t n);

/// tanh(x) for each of x[0..<n], in place, on the current path.
void rnnode_tanh_f32(float *x, ptrdiff_t n);

/// σ(x) for each of x[0..<n], in place, on `path` (a path this CPU does not support: the best one
/// it does).
void rnnode_sigmoid_f32_on_path(int path, float *x, ptrdiff_t n);

/// tanh(x) for each of x[0..<n], in place, on `path`.
void rnnode_tanh_f32_on_path(int path, float *x, ptrdiff_t n);

// The standard cells' fields in derivative form (Float), over m rows at once, on the current path:
// what the integrator's fused path evaluates at every stage. Layouts are described in gates_impl.h;
// p and u hold one block of h per gate, and the rows of p and dp are ldp floats apart. The
// pullbacks add to dy and write dp and dr (the recurrent product's gradient; the caller adds dr·Uᵀ
// to dy).

/// SimpleRNN: k = σ(p + u) − y, saved a = σ(p + u); σ tanh, or relu when isTanh is 0.
void rnnode_simple_field_f32(ptrdiff_t m, ptrdiff_t h, int isTanh, const float *p, ptrdiff_t ldp, const float *u,
                             const float *y, float *k, float *saved);
/// SimpleRNN's pullback from dk.
void rnnode_simple_field_vjp_f32(ptrdiff_t m, ptrdiff_t h, int isTanh, const float *saved, const float *dk, float *dy,
                                 float *dp, ptrdiff_t ldp, float *dr);
/// GRU (reset after): k = (1 − z) ⊙ (n − y), saved r, z, n, u_n (4h per row).
void rnnode_gru_field_f32(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u, const float *y,
                          float *k, float *saved);
/// The GRU's pullback from dk.
void rnnode_gru_field_vjp_f32(ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y, const float *dk, float *dy,
                              float *dp, ptrdiff_t ldp, float *dr);
/// LSTM over [h, c]: k = [o ⊙ tanh(c̃) − h, c̃ − c] with c̃ = f ⊙ c + i ⊙ g, saved i, f, g, o, tanh(c̃) (5h per row).
void rnnode_lstm_field_f32(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u, const float *y,
                           float *k, float *saved);
/// The LSTM's pullback from dk.
void rnnode_lstm_field_vjp_f32(ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y, const float *dk, float *dy,
                               float *dp, ptrdiff_t ldp, float *dr);
/// One part of LEM's field over m rows: k = a ⊙ (c − y), a = σ(p + rate), c = tanh(p[2h...] + candidate),
/// saved (a, c) (2h per row). Rows of p are ldp apart, of rate and candidate ldr, of y and k ldy, of
/// saved ldsaved: the part's columns inside LEM's wider rows.
void rnnode_lem_field_f32(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *rate,
                          const float *candidate, ptrdiff_t ldr, const float *y, float *k, ptrdiff_t ldy, float *saved,
                          ptrdiff_t ldsaved);
/// The pullback of one LEM part from dk (rows ldy apart, as y and dy): adds to dy, writes the rate's
/// and the candidate's gradients into dp (columns 0..<h and 2h..<3h) and into drate and dcandidate.
void rnnode_lem_field_vjp_f32(ptrdiff_t m, ptrdiff_t h, const float *saved, ptrdiff_t ldsaved, const float *y,
                              const float *dk, float *dy, ptrdiff_t ldy, float *dp, ptrdiff_t ldp, float *drate,
                              float *dcandidate, ptrdiff_t ldr);

/// LTC's field (Float) over m rows of n potentials v and its pullback: the sensory currents p
/// (rows ldp apart), the elementwise parameters params = (w⁺, s, μ, E [n×n, row j from unit j], g_L⁺,
/// v_L, cₘ⁺ [n]), row r's implicit step h[r·ldh] (ldh 0: one for all rows). The field writes k and
/// saved (q, k, d: 3n per row) with n² floats of scratch `gates`; the pullback adds to dv, to the
/// parameters' gradients grads (same order) and, when dh is not NULL, to dh[r]; writes dp; its
/// scratch holds n² + 2n floats.
void rnnode_ltc_field_f32(ptrdiff_t m, ptrdiff_t n, const float *v, const float *p, ptrdiff_t ldp,
                          const float *const *params, const float *h, ptrdiff_t ldh, float *k, float *saved,
                          float *gates);
void rnnode_ltc_field_vjp_f32(ptrdiff_t m, ptrdiff_t n, const float *v, const float *saved, const float *dk,
                              const float *const *params, const float *h, ptrdiff_t ldh, float *dv, float *dp,
                              ptrdiff_t ldp, float *const *grads, float *dh, float *scratch);
/// LTC's sensory currents (Float) for m rows of ni mapped inputs x (one row after another): out =
/// (n̂, d̂), 2n per row, from syn = (ŵ⁺, ŝ, μ̂, Ê), each ni×n (row k: from input k), with ni·n floats
/// of scratch; the pullback from dout adds to grads (same order) and to dx.
void rnnode_ltc_sensory_f32(ptrdiff_t m, ptrdiff_t ni, ptrdiff_t n, const float *x, const float *const *syn,
                            float *out, float *gates);
void rnnode_ltc_sensory_vjp_f32(ptrdiff_t m, ptrdiff_t ni, ptrdiff_t n, const float *x, const float *const *syn,
                                const float *dout, float *const *grads, float *dx, float *gates);

// The twelve functions above on an explicit path (for tests and benchmarks; a path this CPU does not
// support runs the best one it does): the same arguments after `path`.
void rnnode_simple_field_f32_on_path(int path, ptrdiff_t m, ptrdiff_t h, int isTanh, const float *p, ptrdiff_t ldp,
                                     const float *u, const float *y, float *k, float *saved);
void rnnode_simple_field_vjp_f32_on_path(int path, ptrdiff_t m, ptrdiff_t h, int isTanh, const float *saved,
                                         const float *dk, float *dy, float *dp, ptrdiff_t ldp, float *dr);
void rnnode_gru_field_f32_on_path(int path, ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u,
                                  const float *y, float *k, float *saved);
void rnnode_gru_field_vjp_f32_on_path(int path, ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y,
                                      const float *dk, float *dy, float *dp, ptrdiff_t ldp, float *dr);
void rnnode_lstm_field_f32_on_path(int path, ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u,
                                   const float *y, float *k, float *saved);
void rnnode_lstm_field_vjp_f32_on_path(int path, ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y,
                                       const float *dk, float *dy, float *dp, ptrdiff_t ldp, float *dr);
void rnnode_lem_field_f32_on_path(int path, ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *rate,
                                  const float *candidate, ptrdiff_t ldr, const float *y, float *k, ptrdiff_t ldy,
                                  float *saved, ptrdiff_t ldsaved);
void rnnode_lem_field_vjp_f32_on_path(int path, ptrdiff_t m, ptrdiff_t h, const float *saved, ptrdiff_t ldsaved,
                                      const float *y, const float *dk, float *dy, ptrdiff_t ldy, float *dp,
                                      ptrdiff_t ldp, float *drate, float *dcandidate, ptrdiff_t ldr);
void rnnode_ltc_field_f32_on_path(int path, ptrdiff_t m, ptrdiff_t n, const float *v, const float *p, ptrdiff_t ldp,
                                  const float *const *params, const float *h, ptrdiff_t ldh, float *k, float *saved,
                                  float *gates);
void rnnode_ltc_field_vjp_f32_on_path(int path, ptrdiff_t m, ptrdiff_t n, const float *v, const float *saved,
                                      const float *dk, const float *const *params, const float *h, ptrdiff_t ldh,
                                      float *dv, float *dp, ptrdiff_t ldp, float *const *grads, float *dh,
                                      float *scratch);
void rnnode_ltc_sensory_f32_on_path(int path, ptrdiff_t m, ptrdiff_t ni, ptrdiff_t n, const float *x,
                                    const float *const *syn, float *out, float *gates);
void rnnode_ltc_sensory_vjp_f32_on_path(int path, ptrdiff_t m, ptrdiff_t ni, ptrdiff_t n, const float *x,
                                        const float *const *syn, const float *dout, float *const *grads, float *dx,
                                        float *gates);

#ifdef __cplusplus
}
#endif

#endif
