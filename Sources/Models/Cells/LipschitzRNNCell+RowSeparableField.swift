import RNNODEIntegrators
import RNNODETensors

/// The Lipschitz RNN's field row by row, for the integrator's fused path: two products,
/// R_A = h·A and R_W = h·W (A and W recorded from M_A and M_W). K = R_A + a with a = σ(p + R_W),
/// saved a. The pullback: dR_A = dK; d = dK ⊙ σ′(a) is dP and dR_W; dh ← dR_A·Aᵀ + dR_W·Wᵀ.
extension LipschitzRNNCell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { hiddenSize }
    public var savedWidth: Int { hiddenSize }

    public var products: [RowProduct<Scalar>] {
        [RowProduct(weight: linearMatrix), RowProduct(weight: recurrentMatrix, inputGradientColumn: 0)]
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let h = hiddenSize
        let (linear, recurrent) = (rows.product(0), rows.product(1))
        for r in 0..<rows.count {
            let (p, a, k) = (rows.input + r * rows.inputStride, rows.saved + r * h, rows.derivative + r * h)
            let (l, u) = (linear + r * h, recurrent + r * h)
            for j in 0..<h { a[j] = p[j] + u[j] }
            activation.apply(a, count: h)
            for j in 0..<h { k[j] = l[j] + a[j] }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        let (dLinear, dRecurrent) = (rows.productGradient(0), rows.productGradient(1))
        for r in 0..<rows.count {
            let (a, dk) = (rows.saved + r * h, rows.derivativeGradient + r * h)
            let (dp, dl, du) = (rows.inputGradient + r * rows.inputStride, dLinear + r * h, dRecurrent + r * h)
            for j in 0..<h {
                let d = dk[j] * activation.derivative(fromOutput: a[j])
                (dp[j], dl[j], du[j]) = (d, dk[j], d)
            }
        }
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: h)
        rows.accumulateProductPullback(1, into: rows.stateGradient, stride: h)
    }
}
