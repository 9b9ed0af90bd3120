import RNNODEIntegrators
import RNNODETensors

/// AntisymmetricRNN's field row by row, for the integrator's fused path. One product R = h·M with
/// M = W − Wᵀ − γI (recorded from W, so W's gradient flows through M's).
///
/// - Plain: K = a = σ(p + R), saved a; d = dK ⊙ σ′(a) is dP and dR.
/// - Gated: a = σ(p_h + R), z = σ_g(p_z + R), K = z ⊙ a, saved (a, z); dâ = dK ⊙ z ⊙ σ′(a) and
///   dẑ = dK ⊙ a ⊙ z(1 − z) are dP's blocks, and dR = dâ + dẑ.
///
/// In both, dh ← dR·Mᵀ.
extension AntisymmetricRNNCell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { gated ? 2 * hiddenSize : hiddenSize }
    public var savedWidth: Int { gated ? 2 * hiddenSize : hiddenSize }

    public var products: [RowProduct<Scalar>] {
        [RowProduct(weight: recurrentMatrix, inputGradientColumn: gated ? nil : 0)]
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let (h, w) = (hiddenSize, savedWidth)
        let recurrent = rows.product(0)
        for r in 0..<rows.count {
            let (p, u, saved, k) = (
                rows.input + r * rows.inputStride, recurrent + r * h, rows.saved + r * w, rows.derivative + r * h
            )
            for j in 0..<h { saved[j] = p[j] + u[j] }
            activation.apply(saved, count: h)
            guard gated else {
                k.update(from: saved, count: h)
                continue
            }
            for j in 0..<h { saved[h + j] = p[h + j] + u[j] }
            Activation.sigmoid.apply(saved + h, count: h)
            for j in 0..<h { k[j] = saved[h + j] * saved[j] }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let (h, w) = (hiddenSize, savedWidth)
        let dR = rows.productGradient(0)
        for r in 0..<rows.count {
            let (saved, dk) = (rows.saved + r * w, rows.derivativeGradient + r * h)
            let (dp, dr) = (rows.inputGradient + r * rows.inputStride, dR + r * h)
            guard gated else {
                for j in 0..<h {
                    let d = dk[j] * activation.derivative(fromOutput: saved[j])
                    (dp[j], dr[j]) = (d, d)
                }
                continue
            }
            for j in 0..<h {
                let (a, z) = (saved[j], saved[h + j])
                let (candidate, gate) = (dk[j] * z * activation.derivative(fromOutput: a), dk[j] * a * z * (1 - z))
                (dp[j], dp[h + j], dr[j]) = (candidate, gate, candidate + gate)
            }
        }
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: h)
    }
}
