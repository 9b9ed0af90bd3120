import CRNNODEKernels
import RNNODEIntegrators
import RNNODETensors

/// The LSTM's field row by row over [h, c], for the integrator's fused path:
/// dh/dt = o ⊙ σ(c̃) − h, dc/dt = c̃ − c with c̃ = f ⊙ c + i ⊙ g.
///
/// One product h·U `[4h]` (added to the input's gate block, so that its gradient is the input's);
/// the saved row holds i, f, g, o and σ(c̃). The pullback, with (dK_h, dK_c) the derivative's gradient:
///
///     dc̃ = dK_c + dK_h ⊙ o ⊙ σ′(c̃)
///     dP = dR = [dc̃ ⊙ g ⊙ σ_g′(i), dc̃ ⊙ c ⊙ σ_g′(f), dc̃ ⊙ i ⊙ σ′(g), dK_h ⊙ σ(c̃) ⊙ σ_g′(o)]
///     dh ← −dK_h + dR·Uᵀ,  dc ← −dK_c + dc̃ ⊙ f
///
/// Float rows with the default activations run C kernels.
extension LSTMCell: RowSeparableField {
    public var stateWidth: Int { 2 * hiddenSize }
    public var inputWidth: Int { 4 * hiddenSize }
    public var savedWidth: Int { 5 * hiddenSize }

    public var products: [RowProduct<Scalar>] { [RowProduct(weight: recurrentWeight, inputGradientColumn: 0)] }

    @inlinable var runsGateKernels: Bool {
        Scalar.self == Float.self && activation == .tanh && recurrentActivation == .sigmoid
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let h = hiddenSize
        let u = rows.product(0)
        if runsGateKernels {
            rnnode_lstm_field_f32(
                rows.count, h, floats(rows.input), rows.inputStride, floats(u), floats(rows.state), floats(rows.derivative),
                floats(rows.saved))
            return
        }
        for r in 0..<rows.count {
            let (p, ur, y) = (rows.input + r * rows.inputStride, u + r * 4 * h, rows.state + r * 2 * h)
            let (saved, k) = (rows.saved + r * 5 * h, rows.derivative + r * 2 * h)
            for j in 0..<(4 * h) { saved[j] = p[j] + ur[j] }
            recurrentActivation.apply(saved, count: 2 * h)
            activation.apply(saved + 2 * h, count: h)
            recurrentActivation.apply(saved + 3 * h, count: h)
            for j in 0..<h {
                let c = saved[h + j] * y[h + j] + saved[j] * saved[2 * h + j]
                k[h + j] = c - y[h + j]
                saved[4 * h + j] = c
            }
            activation.apply(saved + 4 * h, count: h)
            for j in 0..<h { k[j] = saved[3 * h + j] * saved[4 * h + j] - y[j] }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        let dR = rows.productGradient(0)
        if runsGateKernels {
            rnnode_lstm_field_vjp_f32(
                rows.count, h, floats(rows.saved), floats(rows.state), floats(rows.derivativeGradient),
                floats(rows.stateGradient),
                floats(rows.inputGradient), rows.inputStride, floats(dR))
        } else {
            for r in 0..<rows.count {
                let (saved, y, dk) = (rows.saved + r * 5 * h, rows.state + r * 2 * h, rows.derivativeGradient + r * 2 * h)
                let (dy, dp, dr) = (rows.stateGradient + r * 2 * h, rows.inputGradient + r * rows.inputStride, dR + r * 4 * h)
                for j in 0..<h {
                    let (i, f, g, o, tc) = (saved[j], saved[h + j], saved[2 * h + j], saved[3 * h + j], saved[4 * h + j])
                    let dh = dk[j]
                    let dc = dk[h + j] + dh * o * activation.derivative(fromOutput: tc)
                    let di = dc * g * recurrentActivation.derivative(fromOutput: i)
                    let df = dc * y[h + j] * recurrentActivation.derivative(fromOutput: f)
                    let dg = dc * i * activation.derivative(fromOutput: g)
                    let dout = dh * tc * recurrentActivation.derivative(fromOutput: o)
                    (dr[j], dr[h + j], dr[2 * h + j], dr[3 * h + j]) = (di, df, dg, dout)
                    dp[j] = di
                    dp[h + j] = df
                    dp[2 * h + j] = dg
                    dp[3 * h + j] = dout
                    dy[j] -= dh
                    dy[h + j] += dc * f - dk[h + j]
                }
            }
        }
        // h is the state's first half: the product's operand gradient goes there.
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: 2 * h)
    }
}
