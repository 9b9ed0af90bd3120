import RNNODEIntegrators
import RNNODETensors

/// UnICORNN's field row by row, for the integrator's fused path, over the state parts (y, z). No
/// products: w and c are elementwise parameters. With s = σ̂(c) and a = σ(w ⊙ y + p) (saved):
///
///     K_y = s ⊙ z,  K_z = −s ⊙ (a + α y)
///
/// The pullback: dz ← dK_y ⊙ s; d = −dK_z ⊙ s ⊙ σ′(a) is dP, dy ← d ⊙ w − α dK_z ⊙ s, dw ← d ⊙ y;
/// dc ← s(1 − s) ⊙ (dK_y ⊙ z − dK_z ⊙ (a + α y)). A stage skips the part whose derivative its
/// method does not use (each stage of symplectic Euler uses one).
extension UnICORNNCell: RowSeparableField {
    public var stateWidth: Int { 2 * hiddenSize }
    public var inputWidth: Int { hiddenSize }
    public var savedWidth: Int { hiddenSize }
    public var stateParts: [Int] { [hiddenSize, hiddenSize] }
    public var products: [RowProduct<Scalar>] { [] }
    public var elementwiseParameters: [Tensor<Scalar>] { [recurrentWeight, timeScale] }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let (h, w, c, alpha) = (hiddenSize, rows.parameter(0), rows.parameter(1), restoringForce)
        let (moves, pushes) = (rows.usesDerivative(ofPart: 0), rows.usesDerivative(ofPart: 1))
        withTimeScales(c, count: h) { s in
            for r in 0..<rows.count {
                let (y, k) = (rows.state + r * 2 * h, rows.derivative + r * 2 * h)
                if moves {
                    for j in 0..<h { k[j] = s[j] * y[h + j] }
                } else {
                    k.update(repeating: 0, count: h)
                }
                guard pushes else {
                    (k + h).update(repeating: 0, count: h)
                    continue
                }
                let (p, a) = (rows.input + r * rows.inputStride, rows.saved + r * h)
                for j in 0..<h { a[j] = p[j] + w[j] * y[j] }
                activation.apply(a, count: h)
                for j in 0..<h { k[h + j] = -s[j] * (a[j] + alpha * y[j]) }
            }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let (h, w, c, alpha) = (hiddenSize, rows.parameter(0), rows.parameter(1), restoringForce)
        let (dw, dc) = (rows.parameterGradient(0), rows.parameterGradient(1))
        let (moves, pushes) = (rows.usesDerivative(ofPart: 0), rows.usesDerivative(ofPart: 1))
        withTimeScales(c, count: h) { s in
            for r in 0..<rows.count {
                let (y, dk, dy) = (rows.state + r * 2 * h, rows.derivativeGradient + r * 2 * h, rows.stateGradient + r * 2 * h)
                let dp = rows.inputGradient + r * rows.inputStride
                if moves {
                    for j in 0..<h {
                        dy[h + j] += dk[j] * s[j]
                        dc[j] += dk[j] * y[h + j] * s[j] * (1 - s[j])
                    }
                }
                guard pushes else {
                    dp.update(repeating: 0, count: h)
                    continue
                }
                let a = rows.saved + r * h
                for j in 0..<h {
                    let dz = dk[h + j]
                    let d = -dz * s[j] * activation.derivative(fromOutput: a[j])
                    dp[j] = d
                    dy[j] += d * w[j] - alpha * dz * s[j]
                    dw[j] += d * y[j]
                    dc[j] -= dz * (a[j] + alpha * y[j]) * s[j] * (1 - s[j])
                }
            }
        }
    }

    /// Calls `body` with σ̂(c) for the `count` entries of c, in a temporary buffer.
    @inlinable
    func withTimeScales(_ c: UnsafePointer<Scalar>, count: Int, _ body: (UnsafePointer<Scalar>) -> Void) {
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: count) { buffer in
            let s = buffer.baseAddress!
            s.update(from: c, count: count)
            Activation.sigmoid.apply(s, count: count)
            body(s)
        }
    }
}
