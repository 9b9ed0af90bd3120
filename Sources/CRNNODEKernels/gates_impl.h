// The fields of the standard recurrent cells, of LEM's two parts and of LTC in derivative form (Float), row
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

/// gates[j·n + i] = σ(s[j·n + i] (pre[j] − μ[j·n + i])) for np presynaptic values onto n units.
static inline void GATES_FN(ltc_gates)(ptrdiff_t np, ptrdiff_t n, const float *restrict pre, const float *restrict s,
                                       const float *restrict mu, float *restrict gates) {
    for (ptrdiff_t j = 0; j < np; j++) {
        const float pj = pre[j];
        float *restrict g = gates + j * n;
        const float *restrict sj = s + j * n, *restrict muj = mu + j * n;
        GATES_VECTORIZE
        for (ptrdiff_t i = 0; i < n; i++) g[i] = sj[i] * (pj - muj[i]);
    }
    GATES_SIGMOID(gates, np * n);
}

/// One row's LTC synapses from np presynaptic values `pre` onto n units, syn = (w⁺, s, μ, E), each
/// np×n (row j: from value j): with the gates gⱼᵢ = σ(sⱼᵢ (preⱼ − μⱼᵢ)) (kept in `gates`), adds
/// Σⱼ wⱼᵢ gⱼᵢ Eⱼᵢ to num[i] and Σⱼ wⱼᵢ gⱼᵢ to den[i].
static inline void GATES_FN(ltc_synapses)(ptrdiff_t np, ptrdiff_t n, const float *restrict pre,
                                          const float *const *syn, float *restrict num, float *restrict den,
                                          float *restrict gates) {
    const float *restrict w = syn[0], *restrict s = syn[1], *restrict mu = syn[2], *restrict e = syn[3];
    GATES_FN(ltc_gates)(np, n, pre, s, mu, gates);
    for (ptrdiff_t j = 0; j < np; j++) {
        const float *restrict g = gates + j * n, *restrict wj = w + j * n, *restrict ej = e + j * n;
        GATES_VECTORIZE
        for (ptrdiff_t i = 0; i < n; i++) {
            float open = wj[i] * g[i];
            den[i] += open;
            num[i] += open * ej[i];
        }
    }
}

/// The pullback of ltc_synapses from dnum and dden: adds to the synapses' gradients grads = (dw⁺,
/// ds, dμ, dE) and to dpre (recomputing the gates into `gates`).
static inline void GATES_FN(ltc_synapses_vjp)(ptrdiff_t np, ptrdiff_t n, const float *restrict pre,
                                              const float *const *syn, const float *restrict dnum,
                                              const float *restrict dden, float *const *grads, float *restrict dpre,
                                              float *restrict gates) {
    const float *restrict w = syn[0], *restrict s = syn[1], *restrict mu = syn[2], *restrict e = syn[3];
    float *restrict dw = grads[0], *restrict ds = grads[1], *restrict dmu = grads[2], *restrict de = grads[3];
    GATES_FN(ltc_gates)(np, n, pre, s, mu, gates);
    for (ptrdiff_t j = 0; j < np; j++) {
        const ptrdiff_t o = j * n;
        const float pj = pre[j];
        const float *restrict g = gates + o;
        float dpj = 0;
        GATES_VECTORIZE
        for (ptrdiff_t i = 0; i < n; i++) {
            float through = e[o + i] * dnum[i] + dden[i];
            float gi = g[i];
            dw[o + i] += gi * through;
            de[o + i] += w[o + i] * gi * dnum[i];
            float dz = w[o + i] * through * gi * (1 - gi);
            ds[o + i] += dz * (pj - mu[o + i]);
            dmu[o + i] -= dz * s[o + i];
            dpj += dz * s[o + i];
        }
        dpre[j] += dpj;
    }
}

/// LTC's field (see LTCCell+RowSeparableField.swift) over m rows of n potentials v, with the
/// sensory currents p = (n̂, d̂) (rows ldp apart) and the elementwise parameters params = (w⁺, s, μ,
/// E, g_L⁺, v_L, cₘ⁺): n = g_L v_L + n̂ + Σⱼ wⱼ σⱼ Eⱼ, d = g_L + d̂ + Σⱼ wⱼ σⱼ, q = cₘ + h d and
/// k = (n − d ⊙ v) / q, with row r's implicit step h[r·ldh] (ldh 0: one for all). saved = (q, k, d)
/// per row; gates is n² scratch floats.
static void GATES_FN(ltc_field)(ptrdiff_t m, ptrdiff_t n, const float *v, const float *p, ptrdiff_t ldp,
                                const float *const *params, const float *h, ptrdiff_t ldh, float *k, float *saved,
                                float *gates) {
    const float *restrict leak = params[4], *restrict rest = params[5], *restrict cm = params[6];
    for (ptrdiff_t r = 0; r < m; r++) {
        const float *restrict vr = v + r * n, *restrict pr = p + r * ldp;
        float *restrict q = saved + r * 3 * n, *restrict kept = q + n, *restrict d = q + 2 * n;
        float *restrict kr = k + r * n;
        // n accumulates in `kept`, d in `d`.
        GATES_VECTORIZE
        for (ptrdiff_t i = 0; i < n; i++) {
            kept[i] = leak[i] * rest[i] + pr[i];
            d[i] = leak[i] + pr[n + i];
        }
        GATES_FN(ltc_synapses)(n, n, vr, params, kept, d, gates);
        const float hr = h[r * ldh];
        GATES_VECTORIZE
        for (ptrdiff_t i = 0; i < n; i++) {
            q[i] = cm[i] + hr * d[i];
            kept[i] = (kept[i] - d[i] * vr[i]) / q[i];
            kr[i] = kept[i];
        }
    }
}

/// The pullback of ltc_field: adds to dv and to the parameters' gradients grads = (dw⁺, ds, dμ, dE,
/// dg_L⁺, dv_L, dcₘ⁺), writes dp = (dn, dd), and when dh is not NULL adds Σ dk ⊙ ∂k/∂h to dh[r].
/// scratch holds n² + 2n floats.
static void GATES_FN(ltc_field_vjp)(ptrdiff_t m, ptrdiff_t n, const float *v, const float *saved, const float *dk,
                                    const float *const *params, const float *h, ptrdiff_t ldh, float *dv, float *dp,
                                    ptrdiff_t ldp, float *const *grads, float *dh, float *scratch) {
    const float *restrict leak = params[4], *restrict rest = params[5];
    float *restrict dleak = grads[4], *restrict drest = grads[5], *restrict dcm = grads[6];
    float *restrict gates = scratch, *restrict dn = scratch + n * n, *restrict dd = dn + n;
    for (ptrdiff_t r = 0; r < m; r++) {
        const float *restrict vr = v + r * n, *restrict dkr = dk + r * n;
        const float *restrict q = saved + r * 3 * n, *restrict kr = q + n, *restrict d = q + 2 * n;
        float *restrict dvr = dv + r * n, *restrict dpr = dp + r * ldp;
        const float hr = h[r * ldh];
        float dhr = 0;
        GATES_VECTORIZE
        for (ptrdiff_t i = 0; i < n; i++) {
            dn[i] = dkr[i] / q[i];
            dd[i] = -dn[i] * (vr[i] + hr * kr[i]);
            dvr[i] -= dn[i] * d[i];
            dcm[i] -= dn[i] * kr[i];
            dleak[i] += dn[i] * rest[i] + dd[i];
            drest[i] += dn[i] * leak[i];
            dpr[i] = dn[i];
            dpr[n + i] = dd[i];
            dhr -= dn[i] * d[i] * kr[i];
        }
        if (dh) dh[r] += dhr;
        GATES_FN(ltc_synapses_vjp)(n, n, vr, params, dn, dd, grads, dvr, gates);
    }
}

/// LTC's sensory currents for m rows of ni mapped inputs x (one row after another): out = (n̂, d̂),
/// 2n per row, from the sensory synapses syn = (ŵ⁺, ŝ, μ̂, Ê), each ni×n; gates holds ni·n floats.
static void GATES_FN(ltc_sensory)(ptrdiff_t m, ptrdiff_t ni, ptrdiff_t n, const float *x, const float *const *syn,
                                  float *out, float *gates) {
    for (ptrdiff_t r = 0; r < m; r++) {
        float *restrict o = out + r * 2 * n;
        for (ptrdiff_t i = 0; i < 2 * n; i++) o[i] = 0;
        GATES_FN(ltc_synapses)(ni, n, x + r * ni, syn, o, o + n, gates);
    }
}

/// The pullback of ltc_sensory from dout: adds to the synapses' gradients grads and to dx.
static void GATES_FN(ltc_sensory_vjp)(ptrdiff_t m, ptrdiff_t ni, ptrdiff_t n, const float *x, const float *const *syn,
                                      const float *dout, float *const *grads, float *dx, float *gates) {
    for (ptrdiff_t r = 0; r < m; r++)
        GATES_FN(ltc_synapses_vjp)(ni, n, x + r * ni, syn, dout + r * 2 * n, dout + r * 2 * n + n, grads, dx + r * ni,
                                   gates);
}

#undef GATES_VECTORIZE
#undef GATES_FN
#undef GATES_SUFFIX
#undef GATES_SIGMOID
#undef GATES_TANH
