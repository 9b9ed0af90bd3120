import CRNNODEKernels
import RNNODEIntegrators
import RNNODETensors

/// LTC's field row by row, for the integrator's fused path. No products: the synapses are
/// elementwise parameters (w⁺ = softplus(w), s, μ, E, g_L⁺, v_L, cₘ⁺, in that order), and P holds
/// the sensory currents (n̂, d̂). With the gates σⱼᵢ = σ(sⱼᵢ (vⱼ − μⱼᵢ)),
///
///     n = g_L v_L + n̂ + Σⱼ wⱼ σⱼ Eⱼ,   d = g_L + d̂ + Σⱼ wⱼ σⱼ,   q = cₘ + h d,   K = (n − d ⊙ v) / q
///
/// with h the stage's implicit step (zero under explicit tableaus: K is the field). Saved per row:
/// q, K and d. The pullback recomputes the gates: with dn = dK / q and dd = −dK ⊙ (v + h K) / q,
/// dwⱼᵢ = σⱼᵢ (Eⱼᵢ dnᵢ + ddᵢ), dEⱼᵢ = wⱼᵢ σⱼᵢ dnᵢ, and through zⱼᵢ = sⱼᵢ (vⱼ − μⱼᵢ) with
/// dz = wⱼᵢ (Eⱼᵢ dnᵢ + ddᵢ) σⱼᵢ (1 − σⱼᵢ) the steepness, midpoint and vⱼ; directly dv −= dK ⊙ d / q,
/// dcₘ −= dK ⊙ K / q, dg_L += dn v_L + dd, dv_L += dn g_L, dP = (dn, dd), and ∂K/∂h = −d K / q.
/// Float rows run C kernels (vectorized for the CPU's path).
extension LTCCell: RowSeparableField {
    public var stateWidth: Int { hiddenSize }
    public var inputWidth: Int { 2 * hiddenSize }
    public var savedWidth: Int { 3 * hiddenSize }
    /// The gates of one row (H²), then dn and dd (2H) in the pullback.
    public var scratchWidth: Int { hiddenSize * hiddenSize + 2 * hiddenSize }
    public var products: [RowProduct<Scalar>] { [] }
    public var splitsDiagonalDecay: Bool { true }
    /// H² gates per row, each a sigmoid and a few multiply–adds (forward), about twice that backward.
    public var evaluationWork: Int { 8 * hiddenSize * hiddenSize }
    public var elementwiseParameters: [Tensor<Scalar>] {
        [
            softplus(conductance), steepness, midpoint, reversal, softplus(leakConductance), leakPotential,
            softplus(capacitance),
        ]
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func evaluate(_ rows: inout RowFieldEvaluation<Scalar>) {
        let n = hiddenSize
        if Scalar.self == Float.self {
            Self.withImplicitSteps(rows.count, rows.implicitStep(ofRow:)) { steps in
                Self.withPointerTable(7, { floats(rows.parameter($0)) }) { parameters in
                    rnnode_ltc_field_f32(
                        rows.count, n, floats(rows.state), floats(rows.input), rows.inputStride, parameters, steps, 1,
                        floats(rows.derivative), floats(rows.saved), floats(rows.scratch))
                }
            }
            return
        }
        let (w, s, mu, e) = (rows.parameter(0), rows.parameter(1), rows.parameter(2), rows.parameter(3))
        let (leak, rest, cm) = (rows.parameter(4), rows.parameter(5), rows.parameter(6))
        for r in 0..<rows.count {
            let (v, p, k) = (rows.state + r * n, rows.input + r * rows.inputStride, rows.derivative + r * n)
            let (q, kept, d) = (rows.saved + r * 3 * n, rows.saved + r * 3 * n + n, rows.saved + r * 3 * n + 2 * n)
            let gates = rows.scratch + r * scratchWidth
            openGates(gates, v: v, steepness: s, midpoint: mu)
            // n accumulates in `kept`, d in `d`.
            for i in 0..<n {
                kept[i] = leak[i] * rest[i] + p[i]
                d[i] = leak[i] + p[n + i]
            }
            for j in 0..<n {
                let (g, wj, ej) = (gates + j * n, w + j * n, e + j * n)
                for i in 0..<n {
                    let open = wj[i] * g[i]
                    d[i] += open
                    kept[i] += open * ej[i]
                }
            }
            let h = rows.implicitStep(ofRow: r)
            for i in 0..<n {
                q[i] = cm[i] + h * d[i]
                kept[i] = (kept[i] - d[i] * v[i]) / q[i]
                k[i] = kept[i]
            }
        }
    }

    @inlinable
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pullback(_ rows: inout RowFieldPullback<Scalar>) {
        let n = hiddenSize
        let (w, s, mu, e) = (rows.parameter(0), rows.parameter(1), rows.parameter(2), rows.parameter(3))
        let (leak, rest) = (rows.parameter(4), rows.parameter(5))
        let (dw, ds, dmu, de) = (
            rows.parameterGradient(0), rows.parameterGradient(1), rows.parameterGradient(2), rows.parameterGradient(3)
        )
        let (dleak, drest, dcm) = (rows.parameterGradient(4), rows.parameterGradient(5), rows.parameterGradient(6))
        if Scalar.self == Float.self {
            Self.withImplicitSteps(rows.count, rows.implicitStep(ofRow:)) { steps in
                Self.withPointerTable(7, { floats(rows.parameter($0)) }) { parameters in
                    Self.withPointerTable(7, { floats(rows.parameterGradient($0)) }) { gradients in
                        rnnode_ltc_field_vjp_f32(
                            rows.count, n, floats(rows.state), floats(rows.saved), floats(rows.derivativeGradient),
                            parameters, steps, 1, floats(rows.stateGradient), floats(rows.inputGradient), rows.inputStride,
                            gradients, rows.implicitStepGradient.map(floats), floats(rows.scratch))
                    }
                }
            }
            return
        }
        for r in 0..<rows.count {
            let (v, dk, dv) = (rows.state + r * n, rows.derivativeGradient + r * n, rows.stateGradient + r * n)
            let (q, k, d) = (rows.saved + r * 3 * n, rows.saved + r * 3 * n + n, rows.saved + r * 3 * n + 2 * n)
            let dp = rows.inputGradient + r * rows.inputStride
            let gates = rows.scratch + r * scratchWidth
            let (dn, dd) = (gates + n * n, gates + n * n + n)
            let h = rows.implicitStep(ofRow: r)
            var dh: Scalar = 0
            for i in 0..<n {
                dn[i] = dk[i] / q[i]
                dd[i] = -dn[i] * (v[i] + h * k[i])
                dv[i] -= dn[i] * d[i]
                dcm[i] -= dn[i] * k[i]
                dleak[i] += dn[i] * rest[i] + dd[i]
                drest[i] += dn[i] * leak[i]
                dp[i] = dn[i]
                dp[n + i] = dd[i]
                dh -= dn[i] * d[i] * k[i]
            }
            rows.implicitStepGradient?[r] += dh
            openGates(gates, v: v, steepness: s, midpoint: mu)
            for j in 0..<n {
                let (g, o) = (gates + j * n, j * n)
                var dvj: Scalar = 0
                for i in 0..<n {
                    let through = e[o + i] * dn[i] + dd[i]
                    dw[o + i] += g[i] * through
                    de[o + i] += w[o + i] * g[i] * dn[i]
                    let dz = w[o + i] * through * g[i] * (1 - g[i])
                    ds[o + i] += dz * (v[j] - mu[o + i])
                    dmu[o + i] -= dz * s[o + i]
                    dvj += dz * s[o + i]
                }
                dv[j] += dvj
            }
        }
    }

    /// Calls `body` with the implicit steps of `count` rows as Floats.
    @inlinable
    static func withImplicitSteps(_ count: Int, _ step: (Int) -> Scalar, _ body: (UnsafePointer<Float>) -> Void) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(count, 1)) { buffer in
            for r in 0..<count { buffer[r] = Float(step(r)) }
            body(UnsafePointer(buffer.baseAddress!))
        }
    }

    /// Calls `body` with a table of the pointers `pointer(0)…pointer(count − 1)`. (Static: the
    /// sensory currents' pullback calls it, and must not capture the cell, whose recorded parameters
    /// would keep their tape alive.)
    @inlinable
    static func withPointerTable<P>(_ count: Int, _ pointer: (Int) -> P, _ body: (UnsafePointer<P?>) -> Void) {
        withUnsafeTemporaryAllocation(of: P?.self, capacity: count) { table in
            for i in 0..<count { table[i] = pointer(i) }
            body(UnsafePointer(table.baseAddress!))
        }
    }

    /// gates[j·H + i] = σ(sⱼᵢ (vⱼ − μⱼᵢ)) for one row's potentials v.
    @inlinable
    func openGates(
        _ gates: UnsafeMutablePointer<Scalar>, v: UnsafePointer<Scalar>, steepness s: UnsafePointer<Scalar>,
        midpoint mu: UnsafePointer<Scalar>
    ) {
        let n = hiddenSize
        for j in 0..<n {
            let (g, o, vj) = (gates + j * n, j * n, v[j])
            for i in 0..<n { g[i] = s[o + i] * (vj - mu[o + i]) }
        }
        Activation.sigmoid.apply(gates, count: n * n)
    }
}

// MARK: - The sensory currents on the C kernels

extension LTCCell {
    /// ``projectInput(_:)`` for Float from the mapped inputs x̂ `[..., inputSize]`: the sensory
    /// synapses' currents (n̂, d̂) in one pass per row, recorded as one operation whose pullback is
    /// the kernel's.
    @inlinable
    func sensoryCurrentsOnKernels(_ mapped: Tensor<Scalar>) -> Tensor<Scalar> {
        let (ni, n) = (inputSize, hiddenSize)
        let rows = mapped.scalarCount / ni
        let synapses = [softplus(sensoryConductance), sensorySteepness, sensoryMidpoint, sensoryReversal]
        let constants = [mapped.detached] + synapses.map(\.detached)
        let gates = Workspace(count: ni * n, of: Float.self)
        let value = Tensor<Scalar>.filled(Array(mapped.shape.dropLast()) + [2 * n]) { out in
            withBaseAddresses(constants[...]) { bases in
                Self.withPointerTable(4, { floats(bases[1 + $0]) }) { table in
                    rnnode_ltc_sensory_f32(rows, ni, n, floats(bases[0]), table, floats(out), gates.pointer(Float.self))
                }
            }
        }
        let shapes = synapses.map(\.shape)
        return Tensor.recording(value, operands: [mapped] + synapses) { g in
            var gradients: [Tensor<Scalar>] = []
            let dx = Tensor<Scalar>.filled(constants[0].shape) { dx in
                dx.update(repeating: 0, count: rows * ni)
                let workspaces = (0..<4).map { _ in Workspace(count: ni * n, of: Scalar.self) }
                let grads = workspaces.map { $0.pointer(Scalar.self) }
                for buffer in grads { buffer.update(repeating: 0, count: ni * n) }
                let operands: [Tensor<Scalar>] = constants + [g]
                withBaseAddresses(operands[...]) { bases in
                    Self.withPointerTable(4, { floats(bases[1 + $0]) }) { table in
                        Self.withPointerTable(4, { floats(grads[$0]) }) { gradientTable in
                            rnnode_ltc_sensory_vjp_f32(
                                rows, ni, n, floats(bases[0]), table, floats(bases[5]), gradientTable, floats(dx),
                                gates.pointer(Float.self))
                        }
                    }
                }
                gradients = (0..<4).map { i in Tensor.filled(shapes[i]) { $0.update(from: grads[i], count: ni * n) } }
                withExtendedLifetime(workspaces) {}
            }
            return [dx] + gradients
        }
    }
}
