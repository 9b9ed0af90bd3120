import CRNNODEKernels
import RNNODEIntegrators
import RNNODETensors

/// The GRU's field row by row, for the integrator's fused path: dh/dt = (1 − z) ⊙ (n − h).
///
/// Reset after (the default): one product h·U + b_h `[3h]`; the saved row holds r, z, n and n's
/// recurrent part u_n. Reset before: h·[U_r, U_z] + [b_hr, b_hz], then (r ⊙ h)·U_n + b_hn; the saved
/// row holds r, z, n and r ⊙ h. The pullback, with dK the derivative's gradient:
///
///     dn = dK ⊙ (1 − z),  dz = −dK ⊙ (n − h),  dh ← −dK ⊙ (1 − z)
///     dn̂ = dn ⊙ σ′(n),  dr̂ = dn̂ ⊙ u_n ⊙ σ_g′(r) (reset after),  dẑ = dz ⊙ σ_g′(z)
///     dP = [dr̂, dẑ, dn̂],  dR = [dr̂, dẑ, dn̂ ⊙ r],  dh ← dR·Uᵀ
///
/// Float rows with the default activations run C kernels (vectorized with AVX2 where the CPU has it).
extension GRUCell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { 3 * hiddenSize }
    public var savedWidth: Int { 4 * hiddenSize }
    public var scratchWidth: Int { resetAfter ? 0 : hiddenSize }

    public var products: [RowProduct<Scalar>] {
        let h = hiddenSize
        if resetAfter { return [RowProduct(weight: recurrentWeight, bias: recurrentBias)] }
        return [
            RowProduct(
                weight: recurrentWeight.slice(alongAxis: 1, 0..<(2 * h)), bias: recurrentBias.slice(alongAxis: 0, 0..<(2 * h))),
            RowProduct(
                weight: recurrentWeight.slice(alongAxis: 1, (2 * h)..<(3 * h)),
                bias: recurrentBias.slice(alongAxis: 0, (2 * h)..<(3 * h)), operand: .saved(column: 3 * h)),
        ]
    }

    /// Whether the C kernels compute this cell's rows.
    @inlinable var runsGateKernels: Bool {
        Scalar.self == Float.self && resetAfter && activation == .tanh && recurrentActivation == .sigmoid
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let h = hiddenSize
        if resetAfter {
            let u = rows.product(0)
            if runsGateKernels {
                rnnode_gru_field_f32(
                    rows.count, h, floats(rows.input), rows.inputStride, floats(u), floats(rows.state),
                    floats(rows.derivative), floats(rows.saved))
                return
            }
            for r in 0..<rows.count {
                let (p, ur, y) = (rows.input + r * rows.inputStride, u + r * 3 * h, rows.state + r * h)
                let (saved, k) = (rows.saved + r * 4 * h, rows.derivative + r * h)
                for j in 0..<(2 * h) { saved[j] = p[j] + ur[j] }
                recurrentActivation.apply(saved, count: 2 * h)
                for j in 0..<h {
                    saved[3 * h + j] = ur[2 * h + j]
                    saved[2 * h + j] = p[2 * h + j] + saved[j] * ur[2 * h + j]
                }
                activation.apply(saved + 2 * h, count: h)
                for j in 0..<h { k[j] = (1 - saved[h + j]) * (saved[2 * h + j] - y[j]) }
            }
            return
        }
        let gates = rows.product(0)
        for r in 0..<rows.count {
            let (p, g, y, saved) = (
                rows.input + r * rows.inputStride, gates + r * 2 * h, rows.state + r * h, rows.saved + r * 4 * h
            )
            for j in 0..<(2 * h) { saved[j] = p[j] + g[j] }
            recurrentActivation.apply(saved, count: 2 * h)
            for j in 0..<h { saved[3 * h + j] = saved[j] * y[j] }
        }
        let candidate = rows.product(1)
        for r in 0..<rows.count {
            let (p, c, y) = (rows.input + r * rows.inputStride, candidate + r * h, rows.state + r * h)
            let (saved, k) = (rows.saved + r * 4 * h, rows.derivative + r * h)
            for j in 0..<h { saved[2 * h + j] = p[2 * h + j] + c[j] }
            activation.apply(saved + 2 * h, count: h)
            for j in 0..<h { k[j] = (1 - saved[h + j]) * (saved[2 * h + j] - y[j]) }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let h = hiddenSize
        if resetAfter {
            let dR = rows.productGradient(0)
            if runsGateKernels {
                rnnode_gru_field_vjp_f32(
                    rows.count, h, floats(rows.saved), floats(rows.state), floats(rows.derivativeGradient),
                    floats(rows.stateGradient), floats(rows.inputGradient), rows.inputStride, floats(dR))
            } else {
                for r in 0..<rows.count {
                    let (saved, y, dk) = (rows.saved + r * 4 * h, rows.state + r * h, rows.derivativeGradient + r * h)
                    let (dy, dp, dr) = (rows.stateGradient + r * h, rows.inputGradient + r * rows.inputStride, dR + r * 3 * h)
                    for j in 0..<h {
                        let (reset, z, n, un) = (saved[j], saved[h + j], saved[2 * h + j], saved[3 * h + j])
                        let dn = dk[j] * (1 - z) * activation.derivative(fromOutput: n)
                        let dz = -dk[j] * (n - y[j]) * recurrentActivation.derivative(fromOutput: z)
                        let drPre = dn * un * recurrentActivation.derivative(fromOutput: reset)
                        dy[j] -= dk[j] * (1 - z)
                        dp[j] = drPre
                        dp[h + j] = dz
                        dp[2 * h + j] = dn
                        dr[j] = drPre
                        dr[h + j] = dz
                        dr[2 * h + j] = dn * reset
                    }
                }
            }
            rows.accumulateProductPullback(0, into: rows.stateGradient, stride: h)
            return
        }
        // Reset before: the candidate's product first (its operand's gradient d(r ⊙ h) into scratch).
        let (dGates, dCandidate) = (rows.productGradient(0), rows.productGradient(1))
        for r in 0..<rows.count {
            let (saved, y, dk) = (rows.saved + r * 4 * h, rows.state + r * h, rows.derivativeGradient + r * h)
            let (dy, dp, dc) = (rows.stateGradient + r * h, rows.inputGradient + r * rows.inputStride, dCandidate + r * h)
            for j in 0..<h {
                let (z, n) = (saved[h + j], saved[2 * h + j])
                let dn = dk[j] * (1 - z) * activation.derivative(fromOutput: n)
                dy[j] -= dk[j] * (1 - z)
                dp[2 * h + j] = dn
                dc[j] = dn
                // dẑ, kept in the gates' gradient until the reset gate's is known.
                dGates[r * 2 * h + h + j] = -dk[j] * (n - y[j]) * recurrentActivation.derivative(fromOutput: z)
            }
        }
        rows.scratch.update(repeating: 0, count: rows.count * h)
        rows.accumulateProductPullback(1, into: rows.scratch, stride: h)
        for r in 0..<rows.count {
            let (saved, y, dy) = (rows.saved + r * 4 * h, rows.state + r * h, rows.stateGradient + r * h)
            let (dp, dg, da) = (rows.inputGradient + r * rows.inputStride, dGates + r * 2 * h, rows.scratch + r * h)
            for j in 0..<h {
                let reset = saved[j]
                let drPre = da[j] * y[j] * recurrentActivation.derivative(fromOutput: reset)
                dy[j] += da[j] * reset
                dg[j] = drPre
                dp[j] = drPre
                dp[h + j] = dg[h + j]
            }
        }
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: h)
    }
}

/// A pointer to scalars known to be `Float`, as `Float`s.
@inlinable @inline(__always)
func floats<T>(_ pointer: UnsafePointer<T>) -> UnsafePointer<Float> {
    UnsafeRawPointer(pointer).assumingMemoryBound(to: Float.self)
}

/// A mutable pointer to scalars known to be `Float`, as `Float`s.
@inlinable @inline(__always)
func floats<T>(_ pointer: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Float.self)
}
