// Reductions along axes. Axes may be negative (−1 is the last axis). With `keepingDims`, reduced axes
// stay in the shape with length 1, so the result broadcasts against the input.

extension Tensor {
    /// Validates axes and returns them non-negative, sorted and unique.
    @inlinable
    package func normalizedAxes(_ axes: [Int]) -> [Int] {
        if axes.count == 1 { return [normalizedAxis(axes[0])] }
        let normalized = axes.map(normalizedAxis)
        if zip(normalized, normalized.dropFirst()).allSatisfy({ $0 < $1 }) { return normalized }  // sorted, distinct
        let result = Set(
            axes.map { axis -> Int in
                let a = axis < 0 ? axis + rank : axis
                require(a >= 0 && a < rank, "axis \(axis) is out of range for shape \(describeShape(shape))")
                return a
            })
        return result.sorted()
    }

    /// Validates one axis and returns it non-negative.
    @inlinable
    package func normalizedAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        require(a >= 0 && a < rank, "axis \(axis) is out of range for shape \(describeShape(shape))")
        return a
    }

    /// The shape after reducing `axes` (sorted, non-negative).
    @inlinable
    package func reducedShape(_ axes: [Int], keepingDims: Bool) -> [Int] {
        if keepingDims { return shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element } }
        return shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// Combines the elements along `axes` with `combine`, starting from `initial` (no recording).
    @inlinable @inline(__always)
    package func reduceKernel(
        alongAxes axes: [Int], keepingDims: Bool, initial: Scalar, _ combine: (Scalar, Scalar) -> Scalar
    )
        -> Tensor
    {
        let axes = normalizedAxes(axes)
        let outShape = reducedShape(axes, keepingDims: keepingDims)
        let outCount = outShape.reduce(1, *)
        if axes.count == rank {
            // Everything into one scalar.
            let total = storage.withUnsafeBufferPointer { $0.reduce(initial, combine) }
            return Tensor(shape: outShape, storage: TensorStorage(repeating: total, count: 1), node: nil)
        }
        var out = TensorStorage<Scalar>(repeating: initial, count: outCount)
        // View the output as broadcast to the input shape: stride 0 along reduced axes.
        let keptShape = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let outStrides = broadcastStrides(keptShape, to: shape)
        let inStrides = broadcastStrides(shape, to: shape)
        let inner = shape.last ?? 1
        let outInner = outStrides.last ?? 0
        out.withUnsafeMutableBufferPointer { o in
            storage.withUnsafeBufferPointer { x in
                forEachRow(of: shape, aStrides: inStrides, bStrides: outStrides) { row, _, outOffset in
                    for j in 0..<inner {
                        o[outOffset + j * outInner] = combine(o[outOffset + j * outInner], x[row + j])
                    }
                }
            }
        }
        return Tensor(shape: outShape, storage: out, node: nil)
    }

    /// Sum along `axes` (no recording).
    @inlinable
    package func sumKernel(alongAxes axes: [Int], keepingDims: Bool) -> Tensor {
        reduceKernel(alongAxes: axes, keepingDims: keepingDims, initial: 0, +)
    }

    // MARK: - Sum and mean

    /// The sum of all elements, as a rank-0 tensor.
    @inlinable
    public func sum() -> Tensor { sum(alongAxes: Array(0..<rank)) }

    /// The sum along the given axes. Derivative: the gradient broadcast back over the summed axes.
    @inlinable
    public func sum(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        let value = sumKernel(alongAxes: axes, keepingDims: keepingDims)
        let original = shape
        let kept = reducedShape(normalizedAxes(axes), keepingDims: true)
        return recording(value) { g in
            Tensor.zipBroadcast(g.reshapedConstant(to: kept), Tensor.zeros(original), +)
        }
    }

    /// The sum along one axis.
    @inlinable
    public func sum(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDims: keepingDims)
    }

    /// The mean of all elements, as a rank-0 tensor: NaN for an empty tensor (0/0, as in NumPy).
    @inlinable
    public func mean() -> Tensor { mean(alongAxes: Array(0..<rank)) }

    /// The mean along the given axes: NaN where they hold no elements (0/0, as in NumPy).
    @inlinable
    public func mean(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        let n = normalizedAxes(axes).reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepingDims: keepingDims) / Scalar(n)
    }

    /// The mean along one axis.
    @inlinable
    public func mean(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDims: keepingDims)
    }

    // MARK: - Max and min

    /// The maximum along the given axes. The gradient goes to the maximal elements (shared equally
    /// among ties).
    @inlinable
    public func max(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        extremum(alongAxes: axes, keepingDims: keepingDims, initial: -.infinity) { Swift.max($0, $1) }
    }

    /// The minimum along the given axes. The gradient goes to the minimal elements (shared equally
    /// among ties).
    @inlinable
    public func min(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        extremum(alongAxes: axes, keepingDims: keepingDims, initial: .infinity) { Swift.min($0, $1) }
    }

    /// The maximum of all elements, as a rank-0 tensor.
    @inlinable
    public func max() -> Tensor { max(alongAxes: Array(0..<rank)) }

    /// The minimum of all elements, as a rank-0 tensor.
    @inlinable
    public func min() -> Tensor { min(alongAxes: Array(0..<rank)) }

    /// The maximum along one axis.
    @inlinable
    public func max(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        max(alongAxes: [axis], keepingDims: keepingDims)
    }

    /// The minimum along one axis.
    @inlinable
    public func min(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        min(alongAxes: [axis], keepingDims: keepingDims)
    }

    @inlinable
    package func extremum(
        alongAxes axes: [Int], keepingDims: Bool, initial: Scalar, _ pick: (Scalar, Scalar) -> Scalar
    ) -> Tensor {
        require(scalarCount > 0, "max/min of an empty tensor")
        let value = reduceKernel(alongAxes: axes, keepingDims: keepingDims, initial: initial, pick)
        guard isRecorded else { return value }
        let kept = reducedShape(normalizedAxes(axes), keepingDims: true)
        let c = detached
        let axesCopy = axes
        return recording(value) { g in
            let extreme = value.reshapedConstant(to: kept)
            let isExtreme = Tensor.zipBroadcast(c, extreme) { $0 == $1 ? 1 : 0 }
            let ties = isExtreme.sumKernel(alongAxes: axesCopy, keepingDims: true)
            let share = Tensor.zipBroadcast(g.reshapedConstant(to: kept), ties, /)
            return Tensor.zipBroadcast(isExtreme, share, *)
        }
    }

    /// The index of the largest element along `axis` (the first one on ties), for every position of
    /// the other axes, in row-major order of the reduced shape. Not differentiable.
    @inlinable
    public func argmax(alongAxis axis: Int) -> [Int] {
        let a = normalizedAxes([axis])[0]
        let outer = shape[..<a].reduce(1, *)
        let length = shape[a]
        let inner = shape[(a + 1)...].reduce(1, *)
        require(length > 0, "argmax along an empty axis of shape \(describeShape(shape))")
        var result = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = storage[o * length * inner + i]
                var bestIndex = 0
                for k in 1..<Swift.max(length, 1) {
                    let v = storage[(o * length + k) * inner + i]
                    if v > best {
                        best = v
                        bestIndex = k
                    }
                }
                result[o * inner + i] = bestIndex
            }
        }
        return result
    }

    // MARK: - Log-sum-exp and softmax

    /// log Σ exp(x) along `axis`, computed stably by subtracting the maximum.
    /// Derivative: softmax(x) along `axis`.
    ///
    /// Infinite entries give the limits: a row of −∞ only (fully masked logits) gives −∞ with a zero
    /// gradient, and a row with +∞ gives +∞ with the gradient on its +∞ entries.
    @inlinable
    public func logSumExp(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        // An infinite maximum is not subtracted (∞ − ∞ is NaN); exp then gives the limits directly.
        let m = detached.max(alongAxes: [axis], keepingDims: true).mapScalars { $0.isFinite ? $0 : 0 }
        let shifted = Tensor.zipBroadcast(detached, m, -)
        let sumExp = shifted.mapScalars(Scalar.exp).sumKernel(alongAxes: [axis], keepingDims: true)
        let lse = Tensor.zipBroadcast(sumExp.mapScalars(Scalar.log), m, +)
        let value = keepingDims ? lse : lse.reshapedConstant(to: reducedShape(normalizedAxes([axis]), keepingDims: false))
        let c = detached
        let kept = lse.shape
        return recording(value) { g in
            let p = Tensor.zipBroadcast(c, lse) { x, lse -> Scalar in
                if lse.isFinite { return Scalar.exp(x - lse) }
                return lse == .infinity && x == .infinity ? 1 : 0
            }
            return Tensor.zipBroadcast(p, g.reshapedConstant(to: kept), *)
        }
    }

    /// log softmax along `axis`: x − logΣexp(x).
    @inlinable
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        self - logSumExp(alongAxis: axis, keepingDims: true)
    }

    /// softmax along `axis`: exp(x) / Σ exp(x), computed stably.
    @inlinable
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        exp(logSoftmax(alongAxis: axis))
    }
}
