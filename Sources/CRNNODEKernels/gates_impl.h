// The fields of the standard recurrent cells and of LEM's two parts in derivative form (Float), row
// by row, and their vector–Jacobian products: what the integrator's fused path evaluates at every
// stage. Instantiated once per path by including this file with these macros defined (undefined
// again at the end):
//
//   GATES_SUFFIX    appended to the function names (_portable, _avx2, _avx512)
//   GATES_SIGMOID   σ in place over a float array: void (float *x, ptrdiff_t n)
//   GATES_TANH      tanh in place over a float array
//
// Plain loops over restrict pointers, which the compiler vectorizes for the path's instruction set.
// Layouts (h = hidden size, m rows one after another, but the input rows p and their gradients dp,
// which are ldp floats apart): p and the recurrent products u hold one block of h per gate; states are [h] (SimpleRNN, GRU) or [h, c] (LSTM); k is the
// derivative row (the state's width). `saved` keeps what the pullback needs: SimpleRNN's a = σ(·);
// the GRU's r, z, n and n's recurrent part u_n; the LSTM's i, f, g, o and tanh(c̃). The pullbacks
// read dk, add to the state's gradient dy, and write the input's gradient dp and the recurrent
// product's gradient dr (for the LSTM and SimpleRNN the two are equal); the caller adds dr·Uᵀ to dy.

// The loops touch several arrays that never overlap (restrict parameters), so the vectorizer may
// skip its runtime overlap checks, which cost more than the loop body at small hidden sizes.
#if defined(__clang__)
#define GATES_VECTORIZE _Pragma("clang loop vectorize(assume_safety)")
#else
#define GATES_VECTORIZE _Pragma("GCC ivdep")
#endif

#define GATES_CAT_(x, y) x##y
#define GATES_CAT(x, y) GATES_CAT_(x, y)
#define GATES_FN(name) GATES_CAT(name, GATES_SUFFIX)

/// k = σ(p + u) − y, saved a = σ(p + u); σ tanh or relu.
static inline void GATES_FN(simple_field_row)(ptrdiff_t h, int isTanh, const float *restrict p,
                                              const float *restrict u, const float *restrict y, float *restrict k,
                                              float *restrict saved) {
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) saved[j] = p[j] + u[j];
    if (isTanh) {
        GATES_TANH(saved, h);
    } else {
        GATES_VECTORIZE
        for (ptrdiff_t j = 0; j < h; j++) saved[j] = saved[j] < 0 ? 0 : saved[j];  // NaN stays NaN
    }
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) k[j] = saved[j] - y[j];
}

static void GATES_FN(simple_field)(ptrdiff_t m, ptrdiff_t h, int isTanh, const float *p, ptrdiff_t ldp, const float *u,
                                   const float *y, float *k, float *saved) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(simple_field_row)(h, isTanh, p + r * ldp, u + r * h, y + r * h, k + r * h, saved + r * h);
}

static inline void GATES_FN(simple_field_vjp_row)(ptrdiff_t h, int isTanh, const float *restrict saved,
                                                  const float *restrict dk, float *restrict dy, float *restrict dp,
                                                  float *restrict dr) {
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) {
        float a = saved[j];
        float d = dk[j] * (isTanh ? 1 - a * a : (a > 0 ? 1.0f : 0.0f));
        dr[j] = d;
        dp[j] = d;
        dy[j] -= dk[j];
    }
}

static void GATES_FN(simple_field_vjp)(ptrdiff_t m, ptrdiff_t h, int isTanh, const float *saved, const float *dk,
                                       float *dy, float *dp, ptrdiff_t ldp, float *dr) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(simple_field_vjp_row)(h, isTanh, saved + r * h, dk + r * h, dy + r * h, dp + r * ldp, dr + r * h);
}

static inline void GATES_FN(gru_field_row)(ptrdiff_t h, const float *restrict p, const float *restrict u,
                                           const float *restrict y, float *restrict k, float *restrict saved) {
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < 2 * h; j++) saved[j] = p[j] + u[j];
    GATES_SIGMOID(saved, 2 * h);
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) {
        saved[3 * h + j] = u[2 * h + j];
        saved[2 * h + j] = p[2 * h + j] + saved[j] * u[2 * h + j];
    }
    GATES_TANH(saved + 2 * h, h);
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) k[j] = (1 - saved[h + j]) * (saved[2 * h + j] - y[j]);
}

static void GATES_FN(gru_field)(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u,
                                const float *y, float *k, float *saved) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(gru_field_row)(h, p + r * ldp, u + r * 3 * h, y + r * h, k + r * h, saved + r * 4 * h);
}

static inline void GATES_FN(gru_field_vjp_row)(ptrdiff_t h, const float *restrict saved, const float *restrict y,
                                               const float *restrict dk, float *restrict dy, float *restrict dp,
                                               float *restrict dr) {
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) {
        float reset = saved[j], z = saved[h + j], n = saved[2 * h + j], un = saved[3 * h + j], d = dk[j];
        float dn = d * (1 - z) * (1 - n * n);
        float dz = -d * (n - y[j]) * (z * (1 - z));
        float drPre = dn * un * (reset * (1 - reset));
        dy[j] -= d * (1 - z);
        dp[j] = drPre;
        dp[h + j] = dz;
        dp[2 * h + j] = dn;
        dr[j] = drPre;
        dr[h + j] = dz;
        dr[2 * h + j] = dn * reset;
    }
}

static void GATES_FN(gru_field_vjp)(ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y, const float *dk,
                                    float *dy, float *dp, ptrdiff_t ldp, float *dr) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(gru_field_vjp_row)(h, saved + r * 4 * h, y + r * h, dk + r * h, dy + r * h, dp + r * ldp,
                                    dr + r * 3 * h);
}

static inline void GATES_FN(lstm_field_row)(ptrdiff_t h, const float *restrict p, const float *restrict u,
                                            const float *restrict y, float *restrict k, float *restrict saved) {
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < 4 * h; j++) saved[j] = p[j] + u[j];
    GATES_SIGMOID(saved, 2 * h);
    GATES_TANH(saved + 2 * h, h);
    GATES_SIGMOID(saved + 3 * h, h);
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) {
        float c = saved[h + j] * y[h + j] + saved[j] * saved[2 * h + j];
        k[h + j] = c - y[h + j];
        saved[4 * h + j] = c;
    }
    GATES_TANH(saved + 4 * h, h);
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) k[j] = saved[3 * h + j] * saved[4 * h + j] - y[j];
}

static void GATES_FN(lstm_field)(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *u,
                                 const float *y, float *k, float *saved) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(lstm_field_row)(h, p + r * ldp, u + r * 4 * h, y + r * 2 * h, k + r * 2 * h, saved + r * 5 * h);
}

static inline void GATES_FN(lstm_field_vjp_row)(ptrdiff_t h, const float *restrict saved, const float *restrict y,
                                                const float *restrict dk, float *restrict dy, float *restrict dp,
                                                float *restrict dr) {
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) {
        float i = saved[j], f = saved[h + j], g = saved[2 * h + j], o = saved[3 * h + j], tc = saved[4 * h + j];
        float dh = dk[j], dc = dk[h + j] + dh * o * (1 - tc * tc);
        float di = dc * g * (i * (1 - i)), df = dc * y[h + j] * (f * (1 - f));
        float dg = dc * i * (1 - g * g), dout = dh * tc * (o * (1 - o));
        dr[j] = di;
        dr[h + j] = df;
        dr[2 * h + j] = dg;
        dr[3 * h + j] = dout;
        dp[j] = di;
        dp[h + j] = df;
        dp[2 * h + j] = dg;
        dp[3 * h + j] = dout;
        dy[j] -= dh;
        dy[h + j] += dc * f - dk[h + j];
    }
}

static void GATES_FN(lstm_field_vjp)(ptrdiff_t m, ptrdiff_t h, const float *saved, const float *y, const float *dk,
                                     float *dy, float *dp, ptrdiff_t ldp, float *dr) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(lstm_field_vjp_row)(h, saved + r * 5 * h, y + r * 2 * h, dk + r * 2 * h, dy + r * 2 * h, dp + r * ldp,
                                     dr + r * 4 * h);
}

/// One part u of LEM's field: k = a ⊙ (c − y) with rate a = σ(p_a + r_a) and candidate
/// c = tanh(p_c + r_c); saved (a, c). The candidate's input block is 2h after the rate's.
static inline void GATES_FN(lem_field_row)(ptrdiff_t h, const float *restrict p, const float *restrict ra,
                                           const float *restrict rc, const float *restrict y, float *restrict k,
                                           float *restrict saved) {
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) saved[j] = p[j] + ra[j];
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) saved[h + j] = p[2 * h + j] + rc[j];
    GATES_SIGMOID(saved, h);
    GATES_TANH(saved + h, h);
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) k[j] = saved[j] * (saved[h + j] - y[j]);
}

static void GATES_FN(lem_field)(ptrdiff_t m, ptrdiff_t h, const float *p, ptrdiff_t ldp, const float *rate,
                                const float *candidate, ptrdiff_t ldr, const float *y, float *k, ptrdiff_t ldy,
                                float *saved, ptrdiff_t ldsaved) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(lem_field_row)(h, p + r * ldp, rate + r * ldr, candidate + r * ldr, y + r * ldy, k + r * ldy,
                                saved + r * ldsaved);
}

/// The pullback of one LEM part: dĉ = dk ⊙ a ⊙ (1 − c²), dâ = dk ⊙ (c − y) ⊙ a(1 − a), dy −= dk ⊙ a;
/// dâ and dĉ go to the input's blocks and to the two products' gradients.
static inline void GATES_FN(lem_field_vjp_row)(ptrdiff_t h, const float *restrict saved, const float *restrict y,
                                               const float *restrict dk, float *restrict dy, float *restrict dp,
                                               float *restrict dra, float *restrict drc) {
    GATES_VECTORIZE
    for (ptrdiff_t j = 0; j < h; j++) {
        float a = saved[j], c = saved[h + j];
        float dc = dk[j] * a * (1 - c * c), da = dk[j] * (c - y[j]) * (a * (1 - a));
        dy[j] -= dk[j] * a;
        dp[j] = da;
        dp[2 * h + j] = dc;
        dra[j] = da;
        drc[j] = dc;
    }
}

static void GATES_FN(lem_field_vjp)(ptrdiff_t m, ptrdiff_t h, const float *saved, ptrdiff_t ldsaved, const float *y,
                                    const float *dk, float *dy, ptrdiff_t ldy, float *dp, ptrdiff_t ldp, float *drate,
                                    float *dcandidate, ptrdiff_t ldr) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(lem_field_vjp_row)(h, saved + r * ldsaved, y + r * ldy, dk + r * ldy, dy + r * ldy, dp + r * ldp,
                                    drate + r * ldr, dcandidate + r * ldr);
}

#undef GATES_VECTORIZE
#undef GATES_FN
#undef GATES_SUFFIX
#undef GATES_SIGMOID
#undef GATES_TANH
