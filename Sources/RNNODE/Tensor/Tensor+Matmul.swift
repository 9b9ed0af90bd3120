// Matrix products. The kernel here is a straightforward cache-aware loop nest; the operation's
// contract (shapes, broadcasting, gradients) is what the rest of the library relies on.

/// The matrix product, batched over leading axes with NumPy's rules.
///
/// - Shapes: `[..., m, k] · [..., k, n] → [..., m, n]`, the leading (batch) axes broadcast. A rank-1
///   left operand `[k]` is a row vector (its axis is dropped from the result), a rank-1 right operand
///   `[k]` a column vector.
/// - Derivatives: ∂/∂A = G Bᵀ, ∂/∂B = Aᵀ G, summed over broadcast batch axes.
///
/// ```swift
/// let h = tanh(matmul(x, w) + b)    // x: [batch, in], w: [in, out], b: [out]
/// ```
@inlinable
public func matmul<T>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    precondition(a.rank >= 1 && b.rank >= 1, "matmul of a rank-0 tensor: shapes \(a.shape) and \(b.shape)")
    if a.rank == 1 || b.rank == 1 {
        // Promote vectors to a row [1, k] / a column [k, 1], then drop the added axes.
        var result = matmul(a.rank == 1 ? a.expandingShape(at: 0) : a, b.rank == 1 ? b.expandingShape(at: 1) : b)
        if b.rank == 1 { result = result.squeezingShape(at: -1) }
        if a.rank == 1 { result = result.squeezingShape(at: b.rank == 1 ? -1 : -2) }
        return result
    }
    let value = batchedMatmulKernel(a, b, transposeA: false, transposeB: false)
    guard a.isRecorded || b.isRecorded else { return value }
    let (ca, cb) = (a.detached, b.detached)
    return Tensor.recording(value, a, b) { g, needsA, needsB in
        (
            needsA ? batchedMatmulKernel(g, cb, transposeA: false, transposeB: true).unbroadcast(to: ca.shape) : nil,
            needsB ? batchedMatmulKernel(ca, g, transposeA: true, transposeB: false).unbroadcast(to: cb.shape) : nil
        )
    }
}

/// op(A) · op(B) for rank ≥ 2 operands with broadcast batch axes, where op transposes the last two
/// axes when asked (no recording).
@inlinable
func batchedMatmulKernel<T>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> Tensor<T> {
    let (ar, br) = (a.rank, b.rank)
    let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
    let k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
    let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
    let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
    precondition(
        k == kb,
        "matmul shapes \(describeShape(a.shape)) and \(describeShape(b.shape)) do not align (\(k) ≠ \(kb))")
    let aBatch = Array(a.shape.dropLast(2))
    let bBatch = Array(b.shape.dropLast(2))
    guard let batch = broadcastShape(aBatch, bBatch) else {
        preconditionFailure(
            "matmul batch axes \(describeShape(aBatch)) and \(describeShape(bBatch)) cannot be broadcast")
    }
    let batchCount = batch.reduce(1, *)
    let aStrides = broadcastStrides(aBatch, to: batch)
    let bStrides = broadcastStrides(bBatch, to: batch)
    var out = TensorStorage<T>(repeating: 0, count: batchCount * m * n)
    out.withUnsafeMutableBufferPointer { c in
        a.storage.withUnsafeBufferPointer { x in
            b.storage.withUnsafeBufferPointer { y in
                // Batch index → offsets of the operand matrices.
                var index = [Int](repeating: 0, count: batch.count)
                for bi in 0..<batchCount {
                    var remainder = bi
                    for axis in stride(from: batch.count - 1, through: 0, by: -1) {
                        index[axis] = remainder % batch[axis]
                        remainder /= batch[axis]
                    }
                    var aOffset = 0
                    var bOffset = 0
                    for axis in 0..<batch.count {
                        aOffset += index[axis] * aStrides[axis]
                        bOffset += index[axis] * bStrides[axis]
                    }
                    gemmKernel(
                        m: m, n: n, k: k,
                        a: x.baseAddress! + aOffset * m * k, transposeA: transposeA,
                        b: y.baseAddress! + bOffset * k * n, transposeB: transposeB,
                        c: c.baseAddress! + bi * m * n)
                }
            }
        }
    }
    return Tensor(shape: batch + [m, n], storage: out, node: nil)
}

/// C[m×n] += op(A)[m×k] · op(B)[k×n] for row-major matrices; op(A) = Aᵀ reads A as [k×m].
@inlinable
func gemmKernel<T: TensorScalar>(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, transposeA: Bool,
    b: UnsafePointer<T>, transposeB: Bool,
    c: UnsafeMutablePointer<T>
) {
    if m == 0 || n == 0 || k == 0 { return }
    if transposeB {
        // A dot-product loop over Bᵀ's rows cannot be vectorized (its sum is a serial reduction);
        // transposing B once into [k×n] lets every case use the row-update loop below.
        let transposed = UnsafeMutablePointer<T>.allocate(capacity: k * n)
        defer { transposed.deallocate() }
        for j in 0..<n {
            for p in 0..<k { transposed[p * n + j] = b[j * k + p] }
        }
        gemmKernel(m: m, n: n, k: k, a: a, transposeA: transposeA, b: transposed, transposeB: false, c: c)
        return
    }
    // Row i of C accumulates the rows of B scaled by A's entries: unit stride innermost, vectorized.
    for i in 0..<m {
        let row = c + i * n
        for p in 0..<k {
            let aip = transposeA ? a[p * m + i] : a[i * k + p]
            let bRow = b + p * n
            for j in 0..<n { row[j] += aip * bRow[j] }
        }
    }
}
