import CRNNODEKernels
import RNNODEIntegrators
import RNNODETensors

/// LEM's field row by row, for the integrator's fused path, over the state parts (y, z). Three
/// products, each used by one part's derivative only, so that a symplectic Euler step computes
/// each once: R₀ = y·[W_z̃ | W_z] (z's rate and candidate), R₁ = y·W_ỹ (y's rate), R₂ = z·M (y's
/// candidate). With rates a = σ_g(·), candidates c = σ(·), saved (a_y, c_y, a_z, c_z):
///
///     K_y = a_y ⊙ (c_y − y),  K_z = a_z ⊙ (c_z − z)
///
/// The pullback, per part u ∈ {y, z}: dâ_u = dK_u ⊙ (c_u − u) ⊙ a_u(1 − a_u), dĉ_u = dK_u ⊙ a_u ⊙
/// σ′(c_u) (the input's and the products' gradients), du ← −dK_u ⊙ a_u, and each product's dR·Wᵀ
/// into its operand's part. Float rows with the tanh candidate run C kernels (vectorized for the
/// CPU's path), a part at a time.
extension LEMCell: RowSeparableField {
    public var stateWidth: Int { 2 * hiddenSize }
    public var inputWidth: Int { 4 * hiddenSize }
    public var savedWidth: Int { 4 * hiddenSize }
    public var stateParts: [Int] { [hiddenSize, hiddenSize] }

    public var products: [RowProduct<Scalar>] {
        let h = hiddenSize
        return [
            RowProduct(weight: recurrentWeight.slice(alongAxis: 1, h..<(3 * h)), part: 1),
            RowProduct(weight: recurrentWeight.slice(alongAxis: 1, 0..<h), inputGradientColumn: 0, part: 0),
            RowProduct(weight: memoryWeight, operand: .state(column: h), inputGradientColumn: 2 * h, part: 0),
        ]
    }

    /// Whether the C kernels compute this cell's rows.
    @inlinable var runsGateKernels: Bool { Scalar.self == Float.self && activation == .tanh }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let h = hiddenSize
        // Part u (0: y, 1: z) reads its rate's and candidate's input blocks u and 2 + u, keeps
        // (a_u, c_u) in saved columns 2hu..<2h(u + 1), and takes its recurrent terms from R₁ and R₂
        // (y) or from the two halves of R₀'s rows (z).
        for part in 0..<2 {
            let stride = part == 0 ? h : 2 * h
            var terms: (rate: UnsafePointer<Scalar>, candidate: UnsafePointer<Scalar>)?
            if rows.usesDerivative(ofPart: part) {
                if part == 0 {
                    terms = (rows.product(1), rows.product(2))
                } else {
                    let r0 = rows.product(0)
                    terms = (r0, r0 + h)
                }
            }
            if let terms, runsGateKernels {
                rnnode_lem_field_f32(
                    rows.count, h, floats(rows.input + part * h), rows.inputStride, floats(terms.rate),
                    floats(terms.candidate), stride, floats(rows.state + part * h), floats(rows.derivative + part * h),
                    2 * h, floats(rows.saved + part * 2 * h), 4 * h)
                continue
            }
            for r in 0..<rows.count {
                let (state, k) = (rows.state + r * 2 * h + part * h, rows.derivative + r * 2 * h + part * h)
                guard let terms else {
                    k.update(repeating: 0, count: h)
                    continue
                }
                let (p, saved) = (rows.input + r * rows.inputStride, rows.saved + r * 4 * h + part * 2 * h)
                let (rate, candidate) = (terms.rate + r * stride, terms.candidate + r * stride)
                // One store per loop, so that each vectorizes.
                let (pRate, pCandidate) = (p + part * h, p + (2 + part) * h)
                for j in 0..<h { saved[j] = pRate[j] + rate[j] }
                for j in 0..<h { saved[h + j] = pCandidate[j] + candidate[j] }
                Activation.sigmoid.apply(saved, count: h)
                activation.apply(saved + h, count: h)
                for j in 0..<h { k[j] = saved[j] * (saved[h + j] - state[j]) }
            }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        for part in 0..<2 {
            let used = rows.usesDerivative(ofPart: part)
            let stride = part == 0 ? h : 2 * h
            let (dRates, dCandidates) =
                part == 0
                ? (rows.productGradient(1), rows.productGradient(2)) : (rows.productGradient(0), rows.productGradient(0) + h)
            if used && runsGateKernels {
                rnnode_lem_field_vjp_f32(
                    rows.count, h, floats(rows.saved + part * 2 * h), 4 * h, floats(rows.state + part * h),
                    floats(rows.derivativeGradient + part * h), floats(rows.stateGradient + part * h), 2 * h,
                    floats(rows.inputGradient + part * h), rows.inputStride, floats(dRates), floats(dCandidates), stride)
                continue
            }
            for r in 0..<rows.count {
                let dp = rows.inputGradient + r * rows.inputStride
                let (dRate, dCandidate) = (dRates + r * stride, dCandidates + r * stride)
                guard used else {
                    (dp + part * h).update(repeating: 0, count: h)
                    (dp + (2 + part) * h).update(repeating: 0, count: h)
                    dRate.update(repeating: 0, count: h)
                    dCandidate.update(repeating: 0, count: h)
                    continue
                }
                let (state, dk) = (rows.state + r * 2 * h + part * h, rows.derivativeGradient + r * 2 * h + part * h)
                let (saved, ds) = (rows.saved + r * 4 * h + part * 2 * h, rows.stateGradient + r * 2 * h + part * h)
                // One store per loop, so that each vectorizes.
                for j in 0..<h { dCandidate[j] = dk[j] * saved[j] }
                activation.scaleByDerivative(dCandidate, outputs: saved + h, count: h)
                for j in 0..<h { dRate[j] = dk[j] * (saved[h + j] - state[j]) * saved[j] * (1 - saved[j]) }
                for j in 0..<h { ds[j] -= dk[j] * saved[j] }
                (dp + part * h).update(from: dRate, count: h)
                (dp + (2 + part) * h).update(from: dCandidate, count: h)
            }
        }
        let g = rows.stateGradient
        if rows.usesDerivative(ofPart: 1) { rows.accumulateProductPullback(0, into: g, stride: 2 * h) }
        if rows.usesDerivative(ofPart: 0) {
            rows.accumulateProductPullback(1, into: g, stride: 2 * h)
            rows.accumulateProductPullback(2, into: g + h, stride: 2 * h)
        }
    }
}
