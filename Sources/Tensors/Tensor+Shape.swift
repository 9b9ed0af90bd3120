import Synchronization

// Reshaping, permuting, indexing, slicing, gathering, concatenating and stacking. All differentiable.

/// One entry of a tensor subscript: `x[.all, 0]` is NumPy's `x[:, 0]`.
public enum TensorIndex: Sendable, ExpressibleByIntegerLiteral {
    /// Keep the whole axis (`:`).
    case all
    /// One position of the axis, which is removed from the result. Negative positions count from
    /// the end (−1 is the last).
    case at(Int)
    /// A range of positions; the axis is kept.
    case range(Range<Int>)

    public init(integerLiteral value: Int) { self = .at(value) }
}

extension Tensor {
    // MARK: - Reshape

    /// The same scalars with another shape. One entry may be −1: it is inferred from the others.
    ///
    /// - Precondition: the scalar counts agree.
    @inlinable
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            require(
                known > 0 && scalarCount % known == 0,
                "cannot reshape \(describeShape(shape)) to \(describeShape(newShape))")
            target[inferred] = scalarCount / known
        }
        require(
            target.allSatisfy { $0 >= 0 } && target.reduce(1, *) == scalarCount,
            "cannot reshape \(describeShape(shape)) (\(scalarCount) scalars) to \(describeShape(newShape))")
        let original = shape
        return recording(reshapedConstant(to: target)) { $0.reshapedConstant(to: original) }
    }

    /// The scalars as a rank-1 tensor.
    @inlinable
    public func flattened() -> Tensor { reshaped(to: [scalarCount]) }

    /// Inserts an axis of length 1 at `axis` (which may be `rank`, or negative counting from the end).
    @inlinable
    public func expandingShape(at axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        require(a >= 0 && a <= rank, "cannot insert axis \(axis) into shape \(describeShape(shape))")
        var newShape = shape
        newShape.insert(1, at: a)
        return reshaped(to: newShape)
    }

    /// Removes the axis `axis`, which must have length 1.
    @inlinable
    public func squeezingShape(at axis: Int) -> Tensor {
        let a = normalizedAxes([axis])[0]
        require(shape[a] == 1, "cannot squeeze axis \(axis) of length \(shape[a]) in \(describeShape(shape))")
        var newShape = shape
        newShape.remove(at: a)
        return reshaped(to: newShape)
    }

    // MARK: - Transpose

    /// The axes rearranged: axis `i` of the result is axis `permutation[i]` of `self`.
    @inlinable
    public func permuted(_ permutation: [Int]) -> Tensor {
        require(
            permutation.sorted() == Array(0..<rank),
            "\(permutation) is not a permutation of the axes of \(describeShape(shape))")
        let value = permuteKernel(permutation)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        let inversePermutation = inverse
        return recording(value) { $0.permuteKernel(inversePermutation) }
    }

    /// The last two axes swapped: the matrix transpose, batched over any leading axes.
    @inlinable
    public func transposed() -> Tensor {
        require(rank >= 2, "transposed() needs rank ≥ 2, shape is \(describeShape(shape))")
        var permutation = Array(0..<rank)
        permutation.swapAt(rank - 1, rank - 2)
        return permuted(permutation)
    }

    @inlinable
    package func permuteKernel(_ permutation: [Int]) -> Tensor {
        if permutation == Array(0..<rank) { return detached }
        let outShape = permutation.map { shape[$0] }
        let contiguous = broadcastStrides(shape, to: shape)
        let inStrides = permutation.map { contiguous[$0] }
        let inner = outShape.last ?? 1
        let innerStride = inStrides.last ?? 0
        let n = scalarCount
        if rank == 3 && permutation == [1, 0, 2] {
            // Rows of the last axis swapped between the two leading axes (batch-major ⇄ time-major):
            // one copy per row, no index arithmetic per element.
            let (a, b, c) = (shape[0], shape[1], shape[2])
            let out = TensorStorage<Scalar>(count: n) { buffer in
                storage.withUnsafeBufferPointer { x in
                    let (source, target) = (x.baseAddress!, buffer.baseAddress!)
                    for i in 0..<b {
                        for j in 0..<a {
                            let (from, to) = (source + (j * b + i) * c, target + (i * a + j) * c)
                            for e in 0..<c { to[e] = from[e] }
                        }
                    }
                }
            }
            return Tensor(shape: outShape, storage: out, node: nil)
        }
        let out = TensorStorage<Scalar>(count: n) { buffer in
            storage.withUnsafeBufferPointer { x in
                forEachRow(of: outShape, aStrides: inStrides, bStrides: inStrides) { o, ao, _ in
                    for j in 0..<inner { buffer[o + j] = x[ao + j * innerStride] }
                }
            }
        }
        return Tensor(shape: outShape, storage: out, node: nil)
    }

    // MARK: - Taking positions along an axis

    /// The elements at `indices` along `axis`, in that order (repeats allowed): the result has
    /// `indices.count` positions along `axis`. Differentiable (the pullback scatter-adds).
    @inlinable
    public func gathering(_ indices: [Int], alongAxis axis: Int) -> Tensor {
        let a = normalizedAxes([axis])[0]
        for i in indices {
            require(i >= 0 && i < shape[a], "index \(i) is out of range for axis \(axis) of \(describeShape(shape))")
        }
        let value = takeKernel(indices, axis: a)
        let original = shape
        return recording(value) { g in g.scatterAddKernel(indices, axis: a, into: original) }
    }

    /// The positions `range` along `axis` (the axis is kept).
    @inlinable
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizedAxes([axis])[0]
        require(
            range.lowerBound >= 0 && range.upperBound <= shape[a],
            "range \(range) is out of bounds for axis \(axis) of \(describeShape(shape))")
        let value = sliceKernel(range, axis: a)
        let original = shape
        return recording(value) { g in g.paddedSliceKernel(range, axis: a, into: original) }
    }

    /// self[o, range, i] for o and i over the axes before and after `axis`: one contiguous block per o.
    @inlinable
    package func sliceKernel(_ range: Range<Int>, axis: Int) -> Tensor {
        let outer = shape[..<axis].reduce(1, *)
        let (length, inner) = (shape[axis], shape[(axis + 1)...].reduce(1, *))
        var outShape = shape
        outShape[axis] = range.count
        let block = range.count * inner
        let out = TensorStorage<Scalar>(count: outer * block) { buffer in
            storage.withUnsafeBufferPointer { x in
                guard block > 0 else { return }
                for o in 0..<outer {
                    (buffer.baseAddress! + o * block).update(
                        from: x.baseAddress! + (o * length + range.lowerBound) * inner, count: block)
                }
            }
        }
        return Tensor(shape: outShape, storage: out, node: nil)
    }

    /// The adjoint of `sliceKernel`: zeros of `target` with self placed at `range` along `axis`.
    @inlinable
    package func paddedSliceKernel(_ range: Range<Int>, axis: Int, into target: [Int]) -> Tensor {
        let outer = target[..<axis].reduce(1, *)
        let (length, inner) = (target[axis], target[(axis + 1)...].reduce(1, *))
        let block = range.count * inner
        var out = TensorStorage<Scalar>(repeating: 0, count: target.reduce(1, *))
        out.withUnsafeMutableBufferPointer { y in
            storage.withUnsafeBufferPointer { g in
                guard block > 0 else { return }
                for o in 0..<outer {
                    (y.baseAddress! + (o * length + range.lowerBound) * inner).update(
                        from: g.baseAddress! + o * block, count: block)
                }
            }
        }
        return Tensor(shape: target, storage: out, node: nil)
    }

    /// The position `index` along `axis`, with the axis removed. Negative indices count from the end.
    @inlinable
    public func select(alongAxis axis: Int, _ index: Int) -> Tensor {
        let a = normalizedAxis(axis)
        let i = index < 0 ? index + shape[a] : index
        require(i >= 0 && i < shape[a], "index \(index) is out of range for axis \(axis) of \(describeShape(shape))")
        var newShape = shape
        newShape.remove(at: a)
        let value = takeKernel([i], axis: a).reshapedConstant(to: newShape)
        let original = shape
        return recording(value) { g in
            var kept = original
            kept[a] = 1
            return g.reshapedConstant(to: kept).scatterAddKernel([i], axis: a, into: original)
        }
    }

    /// The positions along `axis` in reverse order.
    @inlinable
    public func reversed(alongAxis axis: Int) -> Tensor {
        let a = normalizedAxes([axis])[0]
        return gathering(Array((0..<shape[a]).reversed()), alongAxis: a)
    }

    /// The position `index` along the first axis, which is removed (`x[i]`; negative counts from the end).
    @inlinable
    public subscript(_ index: Int) -> Tensor { select(alongAxis: 0, index) }

    /// NumPy-style indexing, one entry per leading axis: `x[.all, 0]`, `x[1]`, `x[.range(0..<2), -1]`.
    /// Axes not mentioned are kept whole.
    @inlinable
    public subscript(_ indices: TensorIndex...) -> Tensor {
        require(indices.count <= rank, "\(indices.count) indices for shape \(describeShape(shape))")
        var result = self
        var axis = 0
        for index in indices {
            switch index {
            case .all:
                axis += 1
            case .at(let i):
                result = result.select(alongAxis: axis, i)
            case .range(let r):
                result = result.slice(alongAxis: axis, r)
                axis += 1
            }
        }
        return result
    }

    /// out[o, k, i] = self[o, indices[k], i] with o, i ranging over the axes before and after `axis`.
    @inlinable
    package func takeKernel(_ indices: [Int], axis: Int) -> Tensor {
        let outer = shape[..<axis].reduce(1, *)
        let length = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        outShape[axis] = indices.count
        let n = outer * indices.count * inner
        let out = TensorStorage<Scalar>(count: n) { buffer in
            storage.withUnsafeBufferPointer { x in
                var position = 0
                for o in 0..<outer {
                    for k in indices {
                        let start = (o * length + k) * inner
                        for i in 0..<inner { buffer[position + i] = x[start + i] }
                        position += inner
                    }
                }
            }
        }
        return Tensor(shape: outShape, storage: out, node: nil)
    }

    /// The adjoint of `takeKernel`: zeros of `target` with self[o, k, i] added at [o, indices[k], i].
    @inlinable
    package func scatterAddKernel(_ indices: [Int], axis: Int, into target: [Int]) -> Tensor {
        let outer = target[..<axis].reduce(1, *)
        let length = target[axis]
        let inner = target[(axis + 1)...].reduce(1, *)
        var out = TensorStorage<Scalar>(repeating: 0, count: target.reduce(1, *))
        out.withUnsafeMutableBufferPointer { y in
            storage.withUnsafeBufferPointer { g in
                var position = 0
                for o in 0..<outer {
                    for k in indices {
                        let start = (o * length + k) * inner
                        for i in 0..<inner { y[start + i] += g[position + i] }
                        position += inner
                    }
                }
            }
        }
        return Tensor(shape: target, storage: out, node: nil)
    }

    // MARK: - Concatenate, stack, split

    /// The tensors joined along an existing axis.
    ///
    /// - Precondition: at least one tensor; all shapes agree except along `axis`.
    @inlinable
    public init(concatenating tensors: [Tensor], alongAxis axis: Int = 0) {
        require(!tensors.isEmpty, "concatenating no tensors")
        let first = tensors[0]
        let a = first.normalizedAxes([axis])[0]
        for t in tensors {
            require(
                t.rank == first.rank
                    && t.shape.enumerated().allSatisfy { $0.offset == a || $0.element == first.shape[$0.offset] },
                "cannot concatenate shapes \(tensors.map { describeShape($0.shape) }) along axis \(axis)")
        }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let lengths = tensors.map { $0.shape[a] }
        var outShape = first.shape
        outShape[a] = lengths.reduce(0, +)
        let out = TensorStorage<Scalar>(count: outShape.reduce(1, *)) { target in
            var position = 0
            for o in 0..<outer {
                for (t, length) in zip(tensors, lengths) {
                    let chunk = length * inner
                    t.storage.withUnsafeBufferPointer { source in
                        for j in 0..<chunk { target[position + j] = source[o * chunk + j] }
                    }
                    position += chunk
                }
            }
        }
        let value = Tensor(shape: outShape, storage: out, node: nil)
        let offsets = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        self = Tensor.recording(value, operands: tensors) { g in
            (0..<lengths.count).map { i in g.takeKernel(Array(offsets[i]..<offsets[i + 1]), axis: a) }
        }
    }

    /// The tensors joined along a new axis inserted at `axis` (which may be the rank, or negative).
    ///
    /// - Precondition: at least one tensor; all have the same shape.
    @inlinable
    public init(stacking tensors: [Tensor], alongAxis axis: Int = 0) {
        require(!tensors.isEmpty, "stacking no tensors")
        let shape = tensors[0].shape
        require(
            tensors.allSatisfy { $0.shape == shape },
            "cannot stack tensors of shapes \(tensors.map { describeShape($0.shape) })")
        let a = axis < 0 ? axis + shape.count + 1 : axis
        require(a >= 0 && a <= shape.count, "cannot stack along axis \(axis) for shape \(describeShape(shape))")
        // Interleave blocks: for each position of the axes before `a`, one block from each tensor.
        let outer = shape[..<a].reduce(1, *)
        let block = shape[a...].reduce(1, *)
        let count = tensors.count
        var outShape = shape
        outShape.insert(count, at: a)
        let out = TensorStorage<Scalar>(count: outer * count * block) { buffer in
            for (k, t) in tensors.enumerated() {
                t.storage.withUnsafeBufferPointer { x in
                    for o in 0..<outer {
                        let target = (o * count + k) * block
                        for j in 0..<block { buffer[target + j] = x[o * block + j] }
                    }
                }
            }
        }
        let value = Tensor(shape: outShape, storage: out, node: nil)
        self = Tensor.recording(value, operands: tensors) { g in
            (0..<count).map { k in
                let part = TensorStorage<Scalar>(count: outer * block) { buffer in
                    g.storage.withUnsafeBufferPointer { y in
                        for o in 0..<outer {
                            let source = (o * count + k) * block
                            for j in 0..<block { buffer[o * block + j] = y[source + j] }
                        }
                    }
                }
                return Tensor(shape: shape, storage: part, node: nil)
            }
        }
    }

    /// Splits along `axis` into pieces of the given lengths.
    ///
    /// - Precondition: the lengths add up to the length of `axis`.
    @inlinable
    public func split(sizes: [Int], alongAxis axis: Int = 0) -> [Tensor] {
        let a = normalizedAxes([axis])[0]
        require(
            sizes.reduce(0, +) == shape[a], "sizes \(sizes) do not add up to axis \(axis) of \(describeShape(shape))")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(alongAxis: a, start..<(start + size))
        }
    }

    /// The positions along `axis` as separate tensors with that axis removed (the inverse of stacking).
    ///
    /// Differentiable in O(size) for all pieces together: each piece's gradient is collected, and the
    /// gradient of `self` is assembled once (selecting n pieces one by one would build n full-size
    /// gradients — quadratic for a long sequence unstacked along time).
    @inlinable
    public func unstacked(alongAxis axis: Int = 0) -> [Tensor] {
        let a = normalizedAxes([axis])[0]
        let count = shape[a]
        let pieces = (0..<count).map { detached.select(alongAxis: a, $0) }
        guard isRecorded else { return pieces }
        let collector = PieceGradients<Scalar>(count: count)
        let original = shape
        // One record for `self` hands over the assembled gradient; each piece feeds it a dummy scalar.
        let hub = recording(Tensor(0)) { _ in collector.assemble(alongAxis: a, into: original) }
        return pieces.enumerated().map { k, piece in
            hub.recording(piece) { g in
                collector.add(g, at: k)
                return Tensor(0)
            }
        }
    }
}

/// The gradients of the pieces of an unstacked tensor, gathered during one backward pass.
@usableFromInline
package final class PieceGradients<Scalar: TensorScalar>: Sendable {
    @usableFromInline package let pieces: Mutex<[Tensor<Scalar>?]>

    @usableFromInline
    package init(count: Int) { pieces = Mutex([Tensor<Scalar>?](repeating: nil, count: count)) }

    @usableFromInline
    package func add(_ gradient: Tensor<Scalar>, at index: Int) {
        pieces.withLock { list in
            if var existing = list[index] {
                list[index] = nil
                existing.accumulate(gradient)
                list[index] = existing
            } else {
                list[index] = gradient
            }
        }
    }

    /// The full gradient (zeros where a piece got none), and a reset for the next backward pass.
    @usableFromInline
    package func assemble(alongAxis axis: Int, into shape: [Int]) -> Tensor<Scalar> {
        let list = pieces.withLock { list in
            defer { list = [Tensor<Scalar>?](repeating: nil, count: list.count) }
            return list
        }
        let expanded = shape.enumerated().map { $0.offset == axis ? 1 : $0.element }
        let parts = list.map { $0?.reshapedConstant(to: expanded) ?? Tensor<Scalar>.zeros(expanded) }
        return Tensor(concatenating: parts, alongAxis: axis)
    }
}
