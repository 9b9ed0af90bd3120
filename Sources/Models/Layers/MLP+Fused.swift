import RNNODETensors

// The fused evaluation of a dense network: every layer's value in one forward pass and every
// gradient in one backward pass, recorded as ONE tape record. Composing `affine` and the activation
// records two operations per layer, each with its own closure, result tensor and pullback tensors;
// a neural ODE evaluates its field six times per Tsit5 step, so for the small networks of neural
// ODEs (2 → 50 → 2) that bookkeeping, not the arithmetic, was the cost of a gradient.

extension MLP {
    /// The network applied to xᵖ (elementwise, `inputPower` = p ≥ 1), recorded as one operation.
    ///
    /// With a₀ = xᵖ and aₗ = σₗ(aₗ₋₁ Wₗ + bₗ) for the layers l = 1…L, returns a_L. The backward
    /// pass runs the layers in reverse from the cotangent ḡ_L = G:
    /// z̄ₗ = ḡₗ ⊙ σₗ′ (written through the stored output aₗ, see
    /// ``Activation/derivative(fromOutput:)``), ∂/∂Wₗ = aₗ₋₁ᵀ z̄ₗ, ∂/∂bₗ = Σ_rows z̄ₗ,
    /// ḡₗ₋₁ = z̄ₗ Wₗᵀ, and ∂/∂x = ḡ₀ ⊙ p xᵖ⁻¹.
    ///
    /// The same values and gradients as `self(pow(x, p))` to rounding, with one tape record and one
    /// result tensor per evaluation instead of 2L + 1.
    ///
    /// - Shapes: x `[..., inputSize]` → `[..., outputSize]`; the leading axes are rows.
    ///
    /// ```swift
    /// let velocity = mlp.fused(u, inputPower: 3)    // the DiffEqFlux spiral's Dense(tanh(Dense(u³)))
    /// ```
    @inlinable
    public func fused(_ x: Tensor<Scalar>, inputPower: Int = 1) -> Tensor<Scalar> {
        fusedDenseNetwork(x, layers: layers, inputPower: inputPower)
    }
}

/// Integer powers xᵖ, p ≥ 0, by repeated multiplication (exact for p ≤ 2; the same as `pow` to
/// rounding otherwise, also for negative x).
@inlinable @inline(__always)
package func integerPower<T: TensorScalar>(_ x: T, _ p: Int) -> T {
    if p == 0 { return 1 }
    var result = x
    var i = 1
    while i < p {
        result *= x
        i += 1
    }
    return result
}

/// C[m×n] += op(A)·op(B) for row-major packed matrices: the C kernels for large products, loops
/// for small ones — dot products in a register for narrow results (n ≤ 4: a layer with two outputs,
/// the weight gradient of one row) and for Bᵀ, so that nothing is allocated.
@inlinable
package func denseProduct<T: TensorScalar>(
    m: Int, n: Int, k: Int, a: UnsafePointer<T>, transposeA: Bool, b: UnsafePointer<T>, transposeB: Bool,
    c: UnsafeMutablePointer<T>
) {
    if m == 0 || n == 0 || k == 0 { return }
    let small = m * n * k < GemmTuning.minimumBlockedWork
    guard small && (transposeB || n <= 4) else {
        gemmKernel(m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB, c: c)
        return
    }
    // C[i, j] += Σₚ op(A)[i, p] op(B)[p, j], the sum kept in a register.
    let (aRow, aColumn) = transposeA ? (1, m) : (k, 1)  // op(A)[i, p] = a[i·aRow + p·aColumn]
    let (bRow, bColumn) = transposeB ? (1, k) : (n, 1)  // op(B)[p, j] = b[p·bRow + j·bColumn]
    for i in 0..<m {
        for j in 0..<n {
            let x = a + i * aRow
            let y = b + j * bColumn
            var sum: T = 0
            for p in 0..<k { sum += x[p * aColumn] * y[p * bRow] }
            c[i * n + j] += sum
        }
    }
}

/// The fused network evaluation behind ``MLP/fused(_:inputPower:)``.
@inlinable
package func fusedDenseNetwork<T: TensorScalar>(_ x: Tensor<T>, layers: [Dense<T>], inputPower power: Int) -> Tensor<T> {
    require(!layers.isEmpty, "a fused network needs at least one layer")
    require(power >= 1, "the input power must be at least 1, got \(power)")
    let inputSize = layers[0].inputSize
    require(
        x.rank >= 1 && x.shape[x.rank - 1] == inputSize,
        "the network expects inputs [..., \(inputSize)], got \(describeShape(x.shape))")
    let rows = inputSize == 0 ? 0 : x.scalarCount / inputSize
    let count = layers.count
    let outputSize = layers[count - 1].outputSize
    // The saved activations, in order: a₀ = xᵖ (when p ≠ 1), then a₁ … a_{L−1}; a_L is the result.
    var savedCount = power == 1 ? 0 : rows * inputSize
    var widest = inputSize
    for l in 0..<count {
        let n = layers[l].outputSize
        if l < count - 1 { savedCount += rows * n }
        widest = Swift.max(widest, n)
    }

    var outputShape = x.shape  // shared with x's when the sizes agree (a vector field): no new array
    if inputSize != outputSize { outputShape[outputShape.count - 1] = outputSize }
    var result = TensorStorage<T>(repeating: 0, count: rows * outputSize)
    let activations = TensorStorage<T>(count: Swift.max(savedCount, 1)) { buffer in
        x.withUnsafeBufferPointer { xs in
            result.withUnsafeMutableBufferPointer { out in
                var input = xs.baseAddress!
                var offset = 0
                if power != 1 {
                    let a0 = buffer.baseAddress!
                    for i in 0..<(rows * inputSize) { a0[i] = integerPower(xs[i], power) }
                    input = UnsafePointer(a0)
                    offset = rows * inputSize
                }
                for l in 0..<count {
                    let (k, n) = (layers[l].inputSize, layers[l].outputSize)
                    let output = l == count - 1 ? out.baseAddress! : buffer.baseAddress! + offset
                    layers[l].bias.withUnsafeBufferPointer { b in
                        for r in 0..<rows { (output + r * n).update(from: b.baseAddress!, count: n) }
                    }
                    layers[l].weight.withUnsafeBufferPointer { w in
                        denseProduct(
                            m: rows, n: n, k: k, a: input, transposeA: false, b: w.baseAddress!, transposeB: false,
                            c: output)
                    }
                    layers[l].activation.apply(output, count: rows * n)
                    input = UnsafePointer(output)
                    if l < count - 1 { offset += rows * n }
                }
            }
        }
    }
    let value = Tensor(shape: outputShape, storage: result, node: nil)
    var recorded = x.isRecorded
    for l in 0..<count where layers[l].weight.isRecorded || layers[l].bias.isRecorded { recorded = true }
    guard recorded else { return value }

    // The pullback keeps constants only (a recorded tensor would keep its tape alive from its own
    // records): the input, the layers' weights, the saved activations and the result.
    let input = x.detached
    let needsInput = x.isRecorded
    var detachedLayers = layers
    var operands: [Tensor<T>] = []
    operands.reserveCapacity(1 + 2 * count)
    operands.append(x)
    for l in 0..<count {
        operands.append(layers[l].weight)
        operands.append(layers[l].bias)
        detachedLayers[l].weight = detachedLayers[l].weight.detached
        detachedLayers[l].bias = detachedLayers[l].bias.detached
    }
    let (saved, scratchWidth, constants) = (savedCount, widest, detachedLayers)
    return Tensor.recording(value, operands: operands) { g in
        var gradients = [Tensor<T>?](repeating: nil, count: 1 + 2 * count)
        // Two rows × width buffers for the cotangents z̄ₗ and ḡₗ₋₁, swapped per layer.
        let scratch = UnsafeMutablePointer<T>.allocate(capacity: 2 * rows * scratchWidth)
        defer { scratch.deallocate() }
        var current = scratch
        var previous = scratch + rows * scratchWidth
        g.withUnsafeBufferPointer { gs in current.update(from: gs.baseAddress!, count: rows * outputSize) }
        activations.withUnsafeBufferPointer { stored in
            value.withUnsafeBufferPointer { last in
                input.withUnsafeBufferPointer { xs in
                    // aₗ (the output of layer l) and where aₗ₋₁ ends in the saved buffer.
                    var output = last.baseAddress!
                    var belowEnd = saved
                    for l in stride(from: count, through: 1, by: -1) {
                        let (k, n) = (constants[l - 1].inputSize, constants[l - 1].outputSize)
                        // z̄ₗ = ḡₗ ⊙ σₗ′(aₗ).
                        let sigma = constants[l - 1].activation
                        if sigma != .identity {
                            for i in 0..<(rows * n) { current[i] *= sigma.derivative(fromOutput: output[i]) }
                        }
                        let below: UnsafePointer<T>
                        if l > 1 {
                            belowEnd -= rows * k
                            below = stored.baseAddress! + belowEnd
                        } else {
                            below = power == 1 ? xs.baseAddress! : stored.baseAddress!
                        }
                        gradients[2 * l - 1] = Tensor.filled(constants[l - 1].weight.shape) { dw in
                            dw.update(repeating: 0, count: k * n)
                            denseProduct(
                                m: k, n: n, k: rows, a: below, transposeA: true, b: current, transposeB: false, c: dw)
                        }
                        gradients[2 * l] = Tensor.filled(constants[l - 1].bias.shape) { db in
                            guard rows > 0 else { return db.update(repeating: 0, count: n) }
                            db.update(from: current, count: n)
                            for r in 1..<rows {
                                let line = current + r * n
                                for j in 0..<n { db[j] += line[j] }
                            }
                        }
                        guard l > 1 || needsInput else { break }
                        // ḡₗ₋₁ = z̄ₗ Wₗᵀ.
                        previous.update(repeating: 0, count: rows * k)
                        constants[l - 1].weight.withUnsafeBufferPointer { w in
                            denseProduct(
                                m: rows, n: k, k: n, a: current, transposeA: false, b: w.baseAddress!, transposeB: true,
                                c: previous)
                        }
                        swap(&current, &previous)
                        output = below
                    }
                    if needsInput {
                        // ∂/∂x = ḡ₀ ⊙ p xᵖ⁻¹.
                        gradients[0] = Tensor.filled(input.shape) { dx in
                            if power == 1 {
                                dx.update(from: current, count: rows * inputSize)
                            } else {
                                let p = T(power)
                                for i in 0..<(rows * inputSize) {
                                    dx[i] = current[i] * p * integerPower(xs[i], power - 1)
                                }
                            }
                        }
                    }
                }
            }
        }
        return gradients
    }
}
