import RNNODEIntegrators
import RNNODETensors

// MUT1–3 row by row, for the integrator's fused path: dh/dt = z ⊙ (h̃ − h) with
// h̃ = σ((r ⊙ h)·W_hh + p₂). The saved row holds z, r, h̃, r ⊙ h (and MUT3's σ(h)); the gates'
// products come first, then the candidate's, whose operand r ⊙ h is saved before it is asked for.
// The pullback shared by the three:
//
//     dh̃ = dK ⊙ z,  dz = dK ⊙ (h̃ − h),  dh ← −dK ⊙ z
//     dĉ = dh̃ ⊙ σ′(h̃) (the candidate product's and p₂'s gradient),  d(r ⊙ h) = dĉ·W_hhᵀ
//     dr = d(r ⊙ h) ⊙ h,  dh ← d(r ⊙ h) ⊙ r,  dr̂ = dr ⊙ σ_g′(r),  dẑ = dz ⊙ σ_g′(z)
//
// and each cell sends dẑ and dr̂ to its own gate products and input blocks.

extension MUT1Cell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { 3 * hiddenSize }
    public var savedWidth: Int { 4 * hiddenSize }
    public var scratchWidth: Int { 2 * hiddenSize }

    public var products: [RowProduct<Scalar>] {
        [RowProduct(weight: whr), RowProduct(weight: whh, operand: .saved(column: 3 * hiddenSize))]
    }

    /// z = σ_g(p₀), r = σ_g(p₁ + h·W_hr).
    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let h = hiddenSize
        let reset = rows.product(0)
        for r in 0..<rows.count {
            let (p, u, saved) = (rows.input + r * rows.inputStride, reset + r * h, rows.saved + r * 4 * h)
            for j in 0..<h {
                saved[j] = p[j]
                saved[h + j] = p[h + j] + u[j]
            }
            recurrentActivation.apply(saved, count: 2 * h)
        }
        mutCandidate(&rows, hidden: h, savedWidth: savedWidth, product: 1, activation: activation)
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        mutCandidatePullback(
            &rows, hidden: h, savedWidth: savedWidth, scratchWidth: scratchWidth, product: 1, activation: activation,
            gateActivation: recurrentActivation)
        let dReset = rows.productGradient(0)
        for r in 0..<rows.count { (dReset + r * h).update(from: rows.scratch + r * 2 * h, count: h) }
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: h)
    }
}

extension MUT2Cell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { 3 * hiddenSize }
    public var savedWidth: Int { 4 * hiddenSize }
    public var scratchWidth: Int { 2 * hiddenSize }

    /// h·[W_hz, W_hr] as one product, then (r ⊙ h)·W_hh.
    public var products: [RowProduct<Scalar>] {
        [
            RowProduct(weight: Tensor(concatenating: [whz, whr], alongAxis: 1)),
            RowProduct(weight: whh, operand: .saved(column: 3 * hiddenSize)),
        ]
    }

    /// z = σ_g(p₀ + h·W_hz), r = σ_g(p₁ + h·W_hr).
    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let h = hiddenSize
        let gates = rows.product(0)
        for r in 0..<rows.count {
            let (p, u, saved) = (rows.input + r * rows.inputStride, gates + r * 2 * h, rows.saved + r * 4 * h)
            for j in 0..<(2 * h) { saved[j] = p[j] + u[j] }
            recurrentActivation.apply(saved, count: 2 * h)
        }
        mutCandidate(&rows, hidden: h, savedWidth: savedWidth, product: 1, activation: activation)
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        mutCandidatePullback(
            &rows, hidden: h, savedWidth: savedWidth, scratchWidth: scratchWidth, product: 1, activation: activation,
            gateActivation: recurrentActivation)
        let dGates = rows.productGradient(0)
        for r in 0..<rows.count {
            let (target, source) = (dGates + r * 2 * h, rows.scratch + r * 2 * h)
            target.update(from: source + h, count: h)  // dẑ
            (target + h).update(from: source, count: h)  // dr̂
        }
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: h)
    }
}

extension MUT3Cell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { 3 * hiddenSize }
    public var savedWidth: Int { 5 * hiddenSize }
    public var scratchWidth: Int { 3 * hiddenSize }

    /// h·W_hr, σ(h)·W_hz (σ(h) saved), then (r ⊙ h)·W_hh.
    public var products: [RowProduct<Scalar>] {
        let h = hiddenSize
        return [
            RowProduct(weight: whr), RowProduct(weight: whz, operand: .saved(column: 4 * h)),
            RowProduct(weight: whh, operand: .saved(column: 3 * h)),
        ]
    }

    /// z = σ_g(p₀ + σ(h)·W_hz), r = σ_g(p₁ + h·W_hr).
    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let h = hiddenSize
        for r in 0..<rows.count {
            let saved = rows.saved + r * 5 * h
            (saved + 4 * h).update(from: rows.state + r * h, count: h)
            activation.apply(saved + 4 * h, count: h)
        }
        let (reset, update) = (rows.product(0), rows.product(1))
        for r in 0..<rows.count {
            let (p, saved) = (rows.input + r * rows.inputStride, rows.saved + r * 5 * h)
            let (ur, uz) = (reset + r * h, update + r * h)
            for j in 0..<h {
                saved[j] = p[j] + uz[j]
                saved[h + j] = p[h + j] + ur[j]
            }
            recurrentActivation.apply(saved, count: 2 * h)
        }
        mutCandidate(&rows, hidden: h, savedWidth: savedWidth, product: 2, activation: activation)
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        mutCandidatePullback(
            &rows, hidden: h, savedWidth: savedWidth, scratchWidth: scratchWidth, product: 2, activation: activation,
            gateActivation: recurrentActivation)
        let (dReset, dUpdate) = (rows.productGradient(0), rows.productGradient(1))
        for r in 0..<rows.count {
            let source = rows.scratch + r * 3 * h
            (dReset + r * h).update(from: source, count: h)
            (dUpdate + r * h).update(from: source + h, count: h)
            (source + 2 * h).update(repeating: 0, count: h)
        }
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: h)
        // d(σ(h)) = dẑ·W_hzᵀ, then through σ.
        rows.accumulateProductPullback(1, into: rows.scratch + 2 * h, stride: 3 * h)
        for r in 0..<rows.count {
            let (saved, dy, da) = (rows.saved + r * 5 * h, rows.stateGradient + r * h, rows.scratch + r * 3 * h + 2 * h)
            for j in 0..<h { dy[j] += da[j] * activation.derivative(fromOutput: saved[4 * h + j]) }
        }
    }
}

/// The candidate and the derivative of MUT1–3, once z and r are in the saved row's first two
/// blocks: r ⊙ h, the candidate product, h̃ = σ(product + p₂), K = z ⊙ (h̃ − h).
@inlinable
func mutCandidate<T>(
    _ rows: inout RowFieldEvaluation<T>, hidden h: Int, savedWidth: Int, product: Int, activation: Activation
) {
    for r in 0..<rows.count {
        let (saved, y) = (rows.saved + r * savedWidth, rows.state + r * h)
        for j in 0..<h { saved[3 * h + j] = saved[h + j] * y[j] }
    }
    let candidate = rows.product(product)
    for r in 0..<rows.count {
        let (p, c, y) = (rows.input + r * rows.inputStride, candidate + r * h, rows.state + r * h)
        let (saved, k) = (rows.saved + r * savedWidth, rows.derivative + r * h)
        for j in 0..<h { saved[2 * h + j] = p[2 * h + j] + c[j] }
        activation.apply(saved + 2 * h, count: h)
        for j in 0..<h { k[j] = saved[j] * (saved[2 * h + j] - y[j]) }
    }
}

/// The pullback shared by MUT1–3 (see the file's notes): the candidate product's gradient, h's
/// direct gradient and the one through r ⊙ h, the input's gradient, and dr̂, dẑ in each row's first
/// two blocks of scratch for the cell's gate products.
@inlinable
func mutCandidatePullback<T>(
    _ rows: inout RowFieldPullback<T>, hidden h: Int, savedWidth: Int, scratchWidth: Int, product: Int,
    activation: Activation, gateActivation: Activation
) {
    let dCandidate = rows.productGradient(product)
    for r in 0..<rows.count {
        let (saved, dk) = (rows.saved + r * savedWidth, rows.derivativeGradient + r * h)
        let (dy, dp, dc) = (rows.stateGradient + r * h, rows.inputGradient + r * rows.inputStride, dCandidate + r * h)
        for j in 0..<h {
            let (z, candidate) = (saved[j], saved[2 * h + j])
            let d = dk[j] * z * activation.derivative(fromOutput: candidate)
            dc[j] = d
            dp[2 * h + j] = d
            dy[j] -= dk[j] * z
        }
        (rows.scratch + r * scratchWidth).update(repeating: 0, count: h)
    }
    rows.accumulateProductPullback(product, into: rows.scratch, stride: scratchWidth)
    for r in 0..<rows.count {
        let (saved, y, dk) = (rows.saved + r * savedWidth, rows.state + r * h, rows.derivativeGradient + r * h)
        let (dy, dp, scratch) = (
            rows.stateGradient + r * h, rows.inputGradient + r * rows.inputStride, rows.scratch + r * scratchWidth
        )
        for j in 0..<h {
            let (z, reset, candidate) = (saved[j], saved[h + j], saved[2 * h + j])
            let gated = scratch[j]  // d(r ⊙ h)
            dy[j] += gated * reset
            let dr = gated * y[j] * gateActivation.derivative(fromOutput: reset)
            let dz = dk[j] * (candidate - y[j]) * gateActivation.derivative(fromOutput: z)
            dp[j] = dz
            dp[h + j] = dr
            scratch[j] = dr
            scratch[h + j] = dz
        }
    }
}
