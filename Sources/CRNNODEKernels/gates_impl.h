// The gate arithmetic of one row of one step of the fused recurrent kernels (Float), instantiated
// once per path by including this file with these macros defined (undefined again at the end):
//
//   GATES_SUFFIX    appended to the function names (_portable, _avx2)
//   GATES_SIGMOID   σ in place over a float array: void (float *x, ptrdiff_t n)
//   GATES_TANH      tanh in place over a float array
//
// Plain loops over restrict pointers, which the compiler vectorizes for the path's instruction set.
// The including file provides <float.h> and <math.h> (included before any target attributes).
// Layouts (h = hidden size): projected inputs p and recurrent products u hold one block of h per
// gate; states are [h] or the LSTM's [h, c]. `saved` keeps what the backward step needs: the GRU's
// r, z, n and n's recurrent part; the LSTM's i, f, g, o and tanh(c'). Backward steps read the
// state's gradient `ds` (from the later steps) plus the output's `dy`, and overwrite `ds` with the
// previous state's gradient except through the recurrent product (the caller adds that). Forward
// steps return whether every entry of the next state is finite (an integer OR over a vectorized
// comparison, where a floating-point sum would be a serial chain).

#define GATES_CAT_(x, y) x##y
#define GATES_CAT(x, y) GATES_CAT_(x, y)
#define GATES_FN(name) GATES_CAT(name, GATES_SUFFIX)

/// 1 if x[0..<n] are all finite (NaN compares false), else 0.
static inline int GATES_FN(all_finite)(const float *restrict x, ptrdiff_t n) {
    int bad = 0;
    for (ptrdiff_t j = 0; j < n; j++) bad |= !(fabsf(x[j]) <= FLT_MAX);
    return !bad;
}

static int GATES_FN(simple_forward)(ptrdiff_t h, int isTanh, const float *restrict p, const float *restrict u,
                                    float *restrict next) {
    for (ptrdiff_t j = 0; j < h; j++) next[j] = p[j] + u[j];
    if (isTanh) {
        GATES_TANH(next, h);
    } else {
        for (ptrdiff_t j = 0; j < h; j++) next[j] = next[j] < 0 ? 0 : next[j];  // NaN stays NaN
    }
    return GATES_FN(all_finite)(next, h);
}

static void GATES_FN(simple_backward)(ptrdiff_t h, int isTanh, const float *restrict next, const float *restrict dy,
                                      float *restrict ds, float *restrict dp) {
    for (ptrdiff_t j = 0; j < h; j++) {
        float d = ds[j] + dy[j], y = next[j];
        dp[j] = isTanh ? d * (1 - y * y) : (y > 0 ? d : 0);
        ds[j] = 0;
    }
}

static int GATES_FN(gru_forward)(ptrdiff_t h, const float *restrict p, const float *restrict u,
                                  const float *restrict previous, float *restrict next, float *restrict saved) {
    for (ptrdiff_t j = 0; j < 2 * h; j++) saved[j] = p[j] + u[j];
    GATES_SIGMOID(saved, 2 * h);
    for (ptrdiff_t j = 0; j < h; j++) {
        saved[3 * h + j] = u[2 * h + j];
        saved[2 * h + j] = p[2 * h + j] + saved[j] * u[2 * h + j];
    }
    GATES_TANH(saved + 2 * h, h);
    for (ptrdiff_t j = 0; j < h; j++) {
        float z = saved[h + j], n = saved[2 * h + j];
        next[j] = (1 - z) * n + z * previous[j];
    }
    return GATES_FN(all_finite)(next, h);
}

static void GATES_FN(gru_backward)(ptrdiff_t h, const float *restrict saved, const float *restrict previous,
                                   const float *restrict dy, float *restrict ds, float *restrict dp,
                                   float *restrict dr) {
    for (ptrdiff_t j = 0; j < h; j++) {
        float r = saved[j], z = saved[h + j], n = saved[2 * h + j], un = saved[3 * h + j];
        float d = ds[j] + dy[j];
        float dnPre = d * (1 - z) * (1 - n * n);
        float dzPre = d * (previous[j] - n) * z * (1 - z);
        float drPre = dnPre * un * r * (1 - r);
        ds[j] = d * z;
        dp[j] = drPre;
        dp[h + j] = dzPre;
        dp[2 * h + j] = dnPre;
        dr[j] = drPre;
        dr[h + j] = dzPre;
        dr[2 * h + j] = dnPre * r;
    }
}

static int GATES_FN(lstm_forward)(ptrdiff_t h, const float *restrict p, const float *restrict u,
                                   const float *restrict previous, float *restrict next, float *restrict saved) {
    for (ptrdiff_t j = 0; j < 4 * h; j++) saved[j] = p[j] + u[j];
    GATES_SIGMOID(saved, 2 * h);
    GATES_TANH(saved + 2 * h, h);
    GATES_SIGMOID(saved + 3 * h, h);
    for (ptrdiff_t j = 0; j < h; j++) {
        float c = saved[h + j] * previous[h + j] + saved[j] * saved[2 * h + j];
        next[h + j] = c;
        saved[4 * h + j] = c;
    }
    GATES_TANH(saved + 4 * h, h);
    for (ptrdiff_t j = 0; j < h; j++) next[j] = saved[3 * h + j] * saved[4 * h + j];
    return GATES_FN(all_finite)(next, 2 * h);
}

static void GATES_FN(lstm_backward)(ptrdiff_t h, const float *restrict saved, const float *restrict previous,
                                    const float *restrict dy, float *restrict ds, float *restrict dp) {
    for (ptrdiff_t j = 0; j < h; j++) {
        float i = saved[j], f = saved[h + j], g = saved[2 * h + j], o = saved[3 * h + j], tc = saved[4 * h + j];
        float dh = ds[j] + dy[j];
        float dc = ds[h + j] + dh * o * (1 - tc * tc);
        dp[j] = dc * g * i * (1 - i);
        dp[h + j] = dc * previous[h + j] * f * (1 - f);
        dp[2 * h + j] = dc * i * (1 - g * g);
        dp[3 * h + j] = dh * tc * o * (1 - o);
        ds[j] = 0;
        ds[h + j] = dc * f;
    }
}

#undef GATES_FN
#undef GATES_SUFFIX
#undef GATES_SIGMOID
#undef GATES_TANH
