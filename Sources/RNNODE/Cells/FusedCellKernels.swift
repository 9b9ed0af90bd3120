// Fused kernels for the discrete step (Euler, Δt = 1) of the standard cells. The generic path
// evaluates a cell's field as a dozen recorded tensor operations and lets the integrator add it to
// the state; here one pass computes the classic cell's update and one tape record carries a
// hand-written pullback. The results agree with the generic path to rounding (the tests compare both
// on the reference fixtures). Cells with other activations or variants keep the generic path.

extension Tensor {
    /// The scalars of a constant `[rows, columns]` matrix product `a · b` (no recording).
    @inlinable
    static func product(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        batchedMatmulKernel(a.detached, b.detached, transposeA: transposeA, transposeB: transposeB)
    }

    /// A new constant tensor of `shape` whose scalars `body` writes (all of them).
    @inlinable
    static func filled(_ shape: [Int], _ body: (UnsafeMutableBufferPointer<Scalar>) -> Void) -> Tensor {
        let count = shape.reduce(1, *)
        let scalars = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer)
            initialized = count
        }
        return Tensor(shape: shape, scalars: scalars)
    }
}

extension SimpleRNNCell {
    /// hₜ = σ(x·W + b + h·U) as one recorded operation (σ tanh or relu).
    @inlinable
    public func fusedDiscreteStep(_ state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar>? {
        guard activation == .tanh || activation == .relu else { return nil }
        let isTanh = activation == .tanh
        let pre = Tensor.product(state, recurrentWeight)
        let next = Tensor<Scalar>.filled(state.shape) { out in
            pre.withUnsafeBufferPointer { u in
                projectedInput.withUnsafeBufferPointer { p in
                    for j in 0..<out.count { out[j] = p[j] + u[j] }
                }
            }
            if isTanh {
                applyTanh(out)
            } else {
                for j in 0..<out.count { out[j] = Swift.max(out[j], 0) }
            }
        }
        let (h, weight) = (state.detached, recurrentWeight.detached)
        return Tensor.recording(next, operands: [state, projectedInput, recurrentWeight]) { g in
            let dPre = Tensor<Scalar>.filled(g.shape) { out in
                g.withUnsafeBufferPointer { dy in
                    next.withUnsafeBufferPointer { y in
                        for j in 0..<out.count {
                            out[j] = isTanh ? dy[j] * (1 - y[j] * y[j]) : (y[j] > 0 ? dy[j] : 0)
                        }
                    }
                }
            }
            return [
                Tensor.product(dPre, weight, transposeB: true), dPre, Tensor.product(h, dPre, transposeA: true),
            ]
        }
    }
}

extension GRUCell {
    /// hₜ = (1 − z) ⊙ n + z ⊙ h (reset after, sigmoid gates, tanh candidate) as one recorded operation.
    @inlinable
    public func fusedDiscreteStep(_ state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar>? {
        guard resetAfter && activation == .tanh && recurrentActivation == .sigmoid else { return nil }
        let (batch, size) = (state.shape[0], hiddenSize)
        let hu = Tensor.product(state, recurrentWeight) + recurrentBias.detached  // [B, 3H]
        // Saved for the pullback: r, z, n per unit, row by row.
        var gates = [Scalar](repeating: 0, count: batch * 3 * size)
        let next = Tensor<Scalar>.filled(state.shape) { out in
            state.withUnsafeBufferPointer { h in
                projectedInput.withUnsafeBufferPointer { p in
                    hu.withUnsafeBufferPointer { u in
                        gates.withUnsafeMutableBufferPointer { saved in
                            for b in 0..<batch {
                                let row = b * 3 * size
                                for j in 0..<(2 * size) { saved[row + j] = p[row + j] + u[row + j] }
                                applySigmoid(UnsafeMutableBufferPointer(rebasing: saved[row..<(row + 2 * size)]))
                                for j in 0..<size {
                                    saved[row + 2 * size + j] = p[row + 2 * size + j] + saved[row + j] * u[row + 2 * size + j]
                                }
                                applyTanh(UnsafeMutableBufferPointer(rebasing: saved[(row + 2 * size)..<(row + 3 * size)]))
                                for j in 0..<size {
                                    let (z, n) = (saved[row + size + j], saved[row + 2 * size + j])
                                    out[b * size + j] = (1 - z) * n + z * h[b * size + j]
                                }
                            }
                        }
                    }
                }
            }
        }
        let (h, weight, savedGates) = (state.detached, recurrentWeight.detached, gates)
        return Tensor.recording(next, operands: [state, projectedInput, recurrentWeight, recurrentBias]) { g in
            var dState = [Scalar](repeating: 0, count: batch * size)
            let dInput = Tensor<Scalar>.filled([batch, 3 * size]) { dp in
                g.withUnsafeBufferPointer { dy in
                    h.withUnsafeBufferPointer { hv in
                        hu.withUnsafeBufferPointer { u in
                            dState.withUnsafeMutableBufferPointer { dh in
                                for b in 0..<batch {
                                    let row = b * 3 * size
                                    for j in 0..<size {
                                        let (r, z, n) = (
                                            savedGates[row + j], savedGates[row + size + j], savedGates[row + 2 * size + j]
                                        )
                                        let d = dy[b * size + j]
                                        let dnPre = d * (1 - z) * (1 - n * n)
                                        let dzPre = d * (hv[b * size + j] - n) * z * (1 - z)
                                        let drPre = dnPre * u[row + 2 * size + j] * r * (1 - r)
                                        dh[b * size + j] = d * z
                                        dp[row + j] = drPre
                                        dp[row + size + j] = dzPre
                                        dp[row + 2 * size + j] = dnPre
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // The recurrent part's gradient: the same as the input part's except for n, where r multiplies.
            let dRecurrent = Tensor<Scalar>.filled([batch, 3 * size]) { du in
                dInput.withUnsafeBufferPointer { dp in
                    for b in 0..<batch {
                        let row = b * 3 * size
                        for j in 0..<(2 * size) { du[row + j] = dp[row + j] }
                        for j in 0..<size { du[row + 2 * size + j] = dp[row + 2 * size + j] * savedGates[row + j] }
                    }
                }
            }
            let dh = Tensor(shape: [batch, size], scalars: dState) + Tensor.product(dRecurrent, weight, transposeB: true)
            return [dh, dInput, Tensor.product(h, dRecurrent, transposeA: true), dRecurrent.sum(alongAxis: 0)]
        }
    }
}

extension LSTMCell {
    /// (hₜ, cₜ) = (o ⊙ tanh(cₜ), f ⊙ c + i ⊙ g) (sigmoid gates, tanh) as one recorded operation.
    @inlinable
    public func fusedDiscreteStep(_ state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar>? {
        guard activation == .tanh && recurrentActivation == .sigmoid else { return nil }
        let (batch, size) = (state.shape[0], hiddenSize)
        let h = state.slice(alongAxis: 1, 0..<size).detached
        let hu = Tensor.product(h, recurrentWeight)  // [B, 4H]
        // Saved for the pullback, row by row: i, f, g, o and tanh(c').
        var saved = [Scalar](repeating: 0, count: batch * 5 * size)
        let next = Tensor<Scalar>.filled(state.shape) { out in
            state.withUnsafeBufferPointer { s in
                projectedInput.withUnsafeBufferPointer { p in
                    hu.withUnsafeBufferPointer { u in
                        saved.withUnsafeMutableBufferPointer { keep in
                            for b in 0..<batch {
                                let (gate, k) = (b * 4 * size, b * 5 * size)
                                for j in 0..<(4 * size) { keep[k + j] = p[gate + j] + u[gate + j] }
                                applySigmoid(UnsafeMutableBufferPointer(rebasing: keep[k..<(k + 2 * size)]))
                                applyTanh(UnsafeMutableBufferPointer(rebasing: keep[(k + 2 * size)..<(k + 3 * size)]))
                                applySigmoid(UnsafeMutableBufferPointer(rebasing: keep[(k + 3 * size)..<(k + 4 * size)]))
                                for j in 0..<size {
                                    let (i, f, g) = (keep[k + j], keep[k + size + j], keep[k + 2 * size + j])
                                    let c = f * s[b * 2 * size + size + j] + i * g
                                    out[b * 2 * size + size + j] = c
                                    keep[k + 4 * size + j] = c
                                }
                                applyTanh(UnsafeMutableBufferPointer(rebasing: keep[(k + 4 * size)..<(k + 5 * size)]))
                                for j in 0..<size { out[b * 2 * size + j] = keep[k + 3 * size + j] * keep[k + 4 * size + j] }
                            }
                        }
                    }
                }
            }
        }
        let (old, weight, kept) = (state.detached, recurrentWeight.detached, saved)
        return Tensor.recording(next, operands: [state, projectedInput, recurrentWeight]) { grad in
            var dMemory = [Scalar](repeating: 0, count: batch * size)
            let dGates = Tensor<Scalar>.filled([batch, 4 * size]) { dp in
                grad.withUnsafeBufferPointer { dy in
                    old.withUnsafeBufferPointer { s in
                        dMemory.withUnsafeMutableBufferPointer { dc in
                            for b in 0..<batch {
                                let (gate, k) = (b * 4 * size, b * 5 * size)
                                for j in 0..<size {
                                    let (i, f, g) = (kept[k + j], kept[k + size + j], kept[k + 2 * size + j])
                                    let (o, tc) = (kept[k + 3 * size + j], kept[k + 4 * size + j])
                                    let dh = dy[b * 2 * size + j]
                                    let dcNew = dy[b * 2 * size + size + j] + dh * o * (1 - tc * tc)
                                    dp[gate + j] = dcNew * g * i * (1 - i)
                                    dp[gate + size + j] = dcNew * s[b * 2 * size + size + j] * f * (1 - f)
                                    dp[gate + 2 * size + j] = dcNew * i * (1 - g * g)
                                    dp[gate + 3 * size + j] = dh * tc * o * (1 - o)
                                    dc[b * size + j] = dcNew * f
                                }
                            }
                        }
                    }
                }
            }
            let dh = Tensor.product(dGates, weight, transposeB: true)
            let dState = Tensor(concatenating: [dh, Tensor(shape: [batch, size], scalars: dMemory)], alongAxis: 1)
            return [dState, dGates, Tensor.product(h, dGates, transposeA: true)]
        }
    }
}
