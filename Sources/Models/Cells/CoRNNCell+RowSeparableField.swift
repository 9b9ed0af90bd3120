import RNNODEIntegrators
import RNNODETensors

/// coRNN's field row by row, for the integrator's fused path, over the state parts (y, z). One
/// product R = [y, z]·[W; 𝒲]; K_y = z, K_z = a − γ y − ε z with a = σ(p + R), saved a. The pullback:
/// dz ← dK_y; d = dK_z ⊙ σ′(a) is dP and dR; dy ← −γ dK_z, dz ← −ε dK_z, and [dy, dz] ← dR·[W; 𝒲]ᵀ.
/// A stage whose velocity derivative the method does not use (the second stage of symplectic
/// Euler) skips the product.
extension CoRNNCell: RowSeparableField {
    public var stateWidth: Int { 2 * hiddenSize }
    public var inputWidth: Int { hiddenSize }
    public var savedWidth: Int { hiddenSize }
    public var stateParts: [Int] { [hiddenSize, hiddenSize] }

    public var products: [RowProduct<Scalar>] { [RowProduct(weight: recurrentWeight, inputGradientColumn: 0, part: 1)] }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let h = hiddenSize
        let force = rows.usesDerivative(ofPart: 1) ? rows.product(0) : nil
        for r in 0..<rows.count {
            let (y, k) = (rows.state + r * 2 * h, rows.derivative + r * 2 * h)
            k.update(from: y + h, count: h)
            guard let force else {
                (k + h).update(repeating: 0, count: h)
                continue
            }
            let (p, u, a) = (rows.input + r * rows.inputStride, force + r * h, rows.saved + r * h)
            for j in 0..<h { a[j] = p[j] + u[j] }
            activation.apply(a, count: h)
            for j in 0..<h { k[h + j] = a[j] - stiffness * y[j] - damping * y[h + j] }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        let dR = rows.productGradient(0)
        let forced = rows.usesDerivative(ofPart: 1)
        for r in 0..<rows.count {
            let (dk, dy) = (rows.derivativeGradient + r * 2 * h, rows.stateGradient + r * 2 * h)
            let (dp, dr) = (rows.inputGradient + r * rows.inputStride, dR + r * h)
            for j in 0..<h { dy[h + j] += dk[j] }
            guard forced else {
                dp.update(repeating: 0, count: h)
                dr.update(repeating: 0, count: h)
                continue
            }
            let a = rows.saved + r * h
            for j in 0..<h {
                let dz = dk[h + j]
                let d = dz * activation.derivative(fromOutput: a[j])
                (dp[j], dr[j]) = (d, d)
                dy[j] -= stiffness * dz
                dy[h + j] -= damping * dz
            }
        }
        if forced { rows.accumulateProductPullback(0, into: rows.stateGradient, stride: 2 * h) }
    }
}
