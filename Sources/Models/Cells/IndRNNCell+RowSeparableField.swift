import RNNODEIntegrators
import RNNODETensors

/// IndRNN's field row by row, for the integrator's fused path: dh/dt = σ(p + u ⊙ h) − h.
///
/// No products: u is an elementwise parameter. The saved row holds a = σ(p + u ⊙ h). The pullback:
/// d = dK ⊙ σ′(a), dP = d, dh ← d ⊙ u − dK, du ← d ⊙ h.
extension IndRNNCell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { hiddenSize }
    public var savedWidth: Int { hiddenSize }
    public var products: [RowProduct<Scalar>] { [] }
    public var elementwiseParameters: [Tensor<Scalar>] { [recurrentWeight] }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let (h, u) = (hiddenSize, rows.parameter(0))
        for r in 0..<rows.count {
            let (p, y, a, k) = (
                rows.input + r * rows.inputStride, rows.state + r * h, rows.saved + r * h, rows.derivative + r * h
            )
            for j in 0..<h { a[j] = p[j] + u[j] * y[j] }
            activation.apply(a, count: h)
            for j in 0..<h { k[j] = a[j] - y[j] }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let (h, u, du) = (hiddenSize, rows.parameter(0), rows.parameterGradient(0))
        for r in 0..<rows.count {
            let (a, y, dk) = (rows.saved + r * h, rows.state + r * h, rows.derivativeGradient + r * h)
            let (dy, dp) = (rows.stateGradient + r * h, rows.inputGradient + r * rows.inputStride)
            for j in 0..<h {
                let d = dk[j] * activation.derivative(fromOutput: a[j])
                dp[j] = d
                dy[j] += d * u[j] - dk[j]
                du[j] += d * y[j]
            }
        }
    }
}
