// MARK: - Broadcasting rules and kernels

/// The NumPy broadcast of two shapes (aligned at their trailing axes; an axis of length 1 stretches),
/// or nil if they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = Swift.max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for axis in 0..<rank {
        let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : 1
        let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : 1
        if x == y || y == 1 {
            result[axis] = x
        } else if x == 1 {
            result[axis] = y
        } else {
            return nil
        }
    }
    return result
}

/// Row-major strides of `shape` seen as broadcast to `target` (stride 0 along stretched axes).
@inlinable
package func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: target.count)
    var step = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        let targetAxis = axis + target.count - shape.count
        strides[targetAxis] = shape[axis] == 1 && target[targetAxis] != 1 ? 0 : step
        step *= shape[axis]
    }
    return strides
}

/// Calls `body(outerOffset, aOffset, bOffset)` for each row of the last axis of `shape`, where the
/// offsets index row starts of the output and of two operands with the given (broadcast) strides.
@inlinable @inline(__always)
package func forEachRow(
    of shape: [Int], aStrides: [Int], bStrides: [Int], _ body: (Int, Int, Int) -> Void
) {
    let rank = shape.count
    guard rank > 0 else {
        body(0, 0, 0)
        return
    }
    let inner = shape[rank - 1]
    let total = shape.reduce(1, *)
    guard total > 0 else { return }
    let rows = total / inner
    var index = [Int](repeating: 0, count: rank)
    var aOffset = 0
    var bOffset = 0
    for row in 0..<rows {
        body(row * inner, aOffset, bOffset)
        // Advance the odometer over the outer axes.
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            aOffset += aStrides[axis]
            bOffset += bStrides[axis]
            if index[axis] < shape[axis] { break }
            aOffset -= aStrides[axis] * shape[axis]
            bOffset -= bStrides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}

extension Tensor {
    /// Applies `op` elementwise to the broadcast of two tensors (no recording).
    @inlinable @inline(__always)
    package static func zipBroadcast(_ a: Tensor, _ b: Tensor, _ op: (Scalar, Scalar) -> Scalar) -> Tensor {
        if a.shape == b.shape {
            let n = a.storage.count
            let out = TensorStorage<Scalar>(count: n) { buffer in
                a.storage.withUnsafeBufferPointer { x in
                    b.storage.withUnsafeBufferPointer { y in
                        for i in 0..<n { buffer[i] = op(x[i], y[i]) }
                    }
                }
            }
            return Tensor(shape: a.shape, storage: out, node: nil)
        }
        guard let shape = broadcastShape(a.shape, b.shape) else {
            programmingError(
                "shapes \(describeShape(a.shape)) and \(describeShape(b.shape)) cannot be broadcast together")
        }
        if b.storage.count == 1 && shape == a.shape {
            let s = b.storage[0]
            return Tensor(shape: shape, storage: a.storage.map { op($0, s) }, node: nil)
        }
        if a.storage.count == 1 && shape == b.shape {
            let s = a.storage[0]
            return Tensor(shape: shape, storage: b.storage.map { op(s, $0) }, node: nil)
        }
        let aStrides = broadcastStrides(a.shape, to: shape)
        let bStrides = broadcastStrides(b.shape, to: shape)
        let total = shape.reduce(1, *)
        let inner = shape.last ?? 1
        let aInner = aStrides.last ?? 0
        let bInner = bStrides.last ?? 0
        let out = TensorStorage<Scalar>(count: total) { buffer in
            a.storage.withUnsafeBufferPointer { x in
                b.storage.withUnsafeBufferPointer { y in
                    forEachRow(of: shape, aStrides: aStrides, bStrides: bStrides) { o, ao, bo in
                        for j in 0..<inner { buffer[o + j] = op(x[ao + j * aInner], y[bo + j * bInner]) }
                    }
                }
            }
        }
        return Tensor(shape: shape, storage: out, node: nil)
    }

    /// Applies `op` to each scalar (no recording).
    @inlinable @inline(__always)
    package func mapScalars(_ op: (Scalar) -> Scalar) -> Tensor {
        let n = storage.count
        let out = TensorStorage<Scalar>(count: n) { buffer in
            storage.withUnsafeBufferPointer { x in
                for i in 0..<n { buffer[i] = op(x[i]) }
            }
        }
        return Tensor(shape: shape, storage: out, node: nil)
    }

    /// Sums a gradient of the broadcast shape back to `shape` (the pullback of broadcasting).
    @inlinable
    package func unbroadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        // Sum over leading axes that `target` lacks and over axes where `target` has length 1.
        let extra = rank - target.count
        var axes = Array(0..<extra)
        for axis in 0..<target.count where target[axis] == 1 && shape[axis + extra] != 1 {
            axes.append(axis + extra)
        }
        return sumKernel(alongAxes: axes, keepingDims: false).reshapedConstant(to: target)
    }

    /// The same storage with another shape (no recording).
    @inlinable
    package func reshapedConstant(to newShape: [Int]) -> Tensor {
        require(newShape.reduce(1, *) == storage.count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage, node: nil)
    }

    /// Adds `other` (of the same shape) elementwise, in place when the storage is not shared. Used to
    /// accumulate gradients (no recording).
    @inlinable
    package mutating func accumulate(_ other: Tensor) { accumulate(other, scaledBy: 1) }

    /// Adds `w · other` (of the same shape) elementwise, in place when the storage is not shared
    /// (gradient accumulation, no recording).
    @inlinable
    package mutating func accumulate(_ other: Tensor, scaledBy w: Scalar) {
        require(
            shape == other.shape,
            "accumulating gradients of shapes \(describeShape(shape)) and \(describeShape(other.shape))")
        node = nil
        storage.withUnsafeMutableBufferPointer { x in
            other.storage.withUnsafeBufferPointer { y in
                for i in 0..<x.count { x[i] += w * y[i] }
            }
        }
    }

    // MARK: - Broadcasting as an operation

    /// This tensor stretched to `shape` by the broadcasting rules (differentiable).
    @inlinable
    public func broadcasted(to target: [Int]) -> Tensor {
        guard let result = broadcastShape(shape, target), result == target else {
            programmingError("cannot broadcast shape \(describeShape(shape)) to \(describeShape(target))")
        }
        if shape == target { return self }
        let value = Tensor.zipBroadcast(self.detached, Tensor.zeros(target), { x, _ in x })
        let original = shape
        return recording(value) { g in g.unbroadcast(to: original) }
    }
}
