import RNNODEIntegrators
import RNNODETensors

/// coRNN's field row by row, for the integrator's fused path, over the state parts (y, z). One
/// product R = [y, z]·[W; 𝒲]; K_y = z, K_z = a − γ y − ε z with a = σ(p + R), saved a. The pullback:
/// dz ← dK_y; d = dK_z ⊙ σ′(a) is dP and dR; dy ← −γ dK_z, dz ← −ε dK_z, and [dy, dz] ← dR·[W; 𝒲]ᵀ.
/// A stage whose velocity derivative the method does not use (the second stage of symplectic
/// Euler) skips the product. The damping is the field's decay (λ = ε on z, 0 on y): with a stage's
/// implicit step h (``SemiImplicitTableau``), K_z = (a − γ y − ε z) / (1 + h ε), the paper's IMEX
/// step; its pullback scales dK_z by 1 / (1 + h ε), and ∂K_z/∂h = −ε K_z / (1 + h ε).
extension CoRNNCell: RowSeparableField {
    public var stateWidth: Int { 2 * hiddenSize }
    public var inputWidth: Int { hiddenSize }
    public var savedWidth: Int { hiddenSize }
    public var stateParts: [Int] { [hiddenSize, hiddenSize] }

    public var products: [RowProduct<Scalar>] { [RowProduct(weight: recurrentWeight, inputGradientColumn: 0, part: 1)] }
    public var splitsDiagonalDecay: Bool { true }

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
            let implicit = 1 / (1 + rows.implicitStep(ofRow: r) * damping)
            for j in 0..<h { k[h + j] = (a[j] - stiffness * y[j] - damping * y[h + j]) * implicit }
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
            let (a, state) = (rows.saved + r * h, rows.state + r * 2 * h)
            let implicit = 1 / (1 + rows.implicitStep(ofRow: r) * damping)
            if let stepGradient = rows.implicitStepGradient {
                // ∂K_z/∂h = −ε K_z / (1 + h ε).
                var dh: Scalar = 0
                for j in 0..<h {
                    let kz = (a[j] - stiffness * state[j] - damping * state[h + j]) * implicit
                    dh -= dk[h + j] * damping * kz * implicit
                }
                stepGradient[r] += dh
            }
            for j in 0..<h {
                let dz = dk[h + j] * implicit
                let d = dz * activation.derivative(fromOutput: a[j])
                (dp[j], dr[j]) = (d, d)
                dy[j] -= stiffness * dz
                dy[h + j] -= damping * dz
            }
        }
        if forced { rows.accumulateProductPullback(0, into: rows.stateGradient, stride: 2 * h) }
    }
}
