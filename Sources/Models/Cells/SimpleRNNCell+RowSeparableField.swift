import CRNNODEKernels
import RNNODEIntegrators
import RNNODETensors

/// SimpleRNN's field row by row, for the integrator's fused path: dh/dt = σ(p + h·U) − h.
///
/// One product h·U (added to the input row, so that its gradient is the input's); the saved row
/// holds a = σ(p + h·U). The pullback: dP = dR = dK ⊙ σ′(a), dh ← −dK + dR·Uᵀ. Float rows with tanh
/// or relu run C kernels.
extension SimpleRNNCell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { hiddenSize }
    public var savedWidth: Int { hiddenSize }

    public var products: [RowProduct<Scalar>] { [RowProduct(weight: recurrentWeight, inputGradientColumn: 0)] }

    @inlinable var runsGateKernels: Bool { Scalar.self == Float.self && (activation == .tanh || activation == .relu) }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let (h, count) = (hiddenSize, rows.count * hiddenSize)
        let u = rows.product(0)
        if runsGateKernels {
            rnnode_simple_field_f32(
                rows.count, h, activation == .tanh ? 1 : 0, floats(rows.input), rows.inputStride, floats(u),
                floats(rows.state), floats(rows.derivative), floats(rows.saved))
            return
        }
        for r in 0..<rows.count {
            let (p, ur, saved) = (rows.input + r * rows.inputStride, u + r * h, rows.saved + r * h)
            for j in 0..<h { saved[j] = p[j] + ur[j] }
        }
        activation.apply(rows.saved, count: count)
        for j in 0..<count { rows.derivative[j] = rows.saved[j] - rows.state[j] }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        let dR = rows.productGradient(0)
        if runsGateKernels {
            rnnode_simple_field_vjp_f32(
                rows.count, h, activation == .tanh ? 1 : 0, floats(rows.saved), floats(rows.derivativeGradient),
                floats(rows.stateGradient), floats(rows.inputGradient), rows.inputStride, floats(dR))
        } else {
            for r in 0..<rows.count {
                let (saved, dk, dy) = (rows.saved + r * h, rows.derivativeGradient + r * h, rows.stateGradient + r * h)
                let (dp, dr) = (rows.inputGradient + r * rows.inputStride, dR + r * h)
                for j in 0..<h {
                    let d = dk[j] * activation.derivative(fromOutput: saved[j])
                    dr[j] = d
                    dp[j] = d
                    dy[j] -= dk[j]
                }
            }
        }
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: h)
    }
}
