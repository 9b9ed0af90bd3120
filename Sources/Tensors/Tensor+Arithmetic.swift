// Elementwise arithmetic between tensors (broadcasting) and between a tensor and a scalar.
// Every operation is differentiable: when an operand is recorded, the result is recorded with the
// pullbacks written next to it.

extension Tensor {
    // MARK: - Tensor ⊕ Tensor

    /// Elementwise sum, broadcasting.
    @inlinable
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let value = zipBroadcast(a, b, +)
        guard a.node != nil || b.node != nil else { return value }
        let (sa, sb) = (a.shape, b.shape)
        return recording(value, a, b) { g, needsA, needsB in
            (needsA ? g.unbroadcast(to: sa) : nil, needsB ? g.unbroadcast(to: sb) : nil)
        }
    }

    /// Elementwise difference, broadcasting.
    @inlinable
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let value = zipBroadcast(a, b, -)
        guard a.node != nil || b.node != nil else { return value }
        let (sa, sb) = (a.shape, b.shape)
        return recording(value, a, b) { g, needsA, needsB in
            (needsA ? g.unbroadcast(to: sa) : nil, needsB ? g.mapScalars { -$0 }.unbroadcast(to: sb) : nil)
        }
    }

    /// Elementwise product, broadcasting.
    @inlinable
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let value = zipBroadcast(a, b, *)
        guard a.node != nil || b.node != nil else { return value }
        let (ca, cb) = (a.detached, b.detached)
        return recording(value, a, b) { g, needsA, needsB in
            (
                needsA ? zipBroadcast(g, cb, *).unbroadcast(to: ca.shape) : nil,
                needsB ? zipBroadcast(g, ca, *).unbroadcast(to: cb.shape) : nil
            )
        }
    }

    /// Elementwise quotient, broadcasting.
    @inlinable
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let value = zipBroadcast(a, b, /)
        guard a.node != nil || b.node != nil else { return value }
        let (cb, q) = (b.detached, value)
        let sa = a.shape
        return recording(value, a, b) { g, needsA, needsB in
            (
                needsA ? zipBroadcast(g, cb, /).unbroadcast(to: sa) : nil,
                // d(a/b)/db = −(a/b)/b
                needsB ? zipBroadcast(zipBroadcast(g, q, *), cb, { -$0 / $1 }).unbroadcast(to: cb.shape) : nil
            )
        }
    }

    /// Elementwise negation.
    @inlinable
    public static prefix func - (a: Tensor) -> Tensor {
        a.recording(a.mapScalars { -$0 }) { $0.mapScalars { -$0 } }
    }

    // MARK: - Tensor ⊕ Scalar

    /// Adds a scalar to every element.
    @inlinable
    public static func + (a: Tensor, s: Scalar) -> Tensor {
        a.recording(a.mapScalars { $0 + s }) { $0 }
    }

    /// Adds a scalar to every element.
    @inlinable
    public static func + (s: Scalar, a: Tensor) -> Tensor { a + s }

    /// Subtracts a scalar from every element.
    @inlinable
    public static func - (a: Tensor, s: Scalar) -> Tensor { a + (-s) }

    /// `s − a` elementwise.
    @inlinable
    public static func - (s: Scalar, a: Tensor) -> Tensor {
        a.recording(a.mapScalars { s - $0 }) { $0.mapScalars { -$0 } }
    }

    /// Multiplies every element by a scalar.
    @inlinable
    public static func * (a: Tensor, s: Scalar) -> Tensor {
        a.recording(a.mapScalars { $0 * s }) { $0.mapScalars { $0 * s } }
    }

    /// Multiplies every element by a scalar.
    @inlinable
    public static func * (s: Scalar, a: Tensor) -> Tensor { a * s }

    /// Divides every element by a scalar.
    @inlinable
    public static func / (a: Tensor, s: Scalar) -> Tensor {
        a.recording(a.mapScalars { $0 / s }) { $0.mapScalars { $0 / s } }
    }

    /// `s / a` elementwise.
    @inlinable
    public static func / (s: Scalar, a: Tensor) -> Tensor {
        let value = a.mapScalars { s / $0 }
        let (ca, q) = (a.detached, value)
        // d(s/a)/da = −(s/a)/a
        return a.recording(value) { g in zipBroadcast(zipBroadcast(g, q, *), ca, { -$0 / $1 }) }
    }

    // MARK: - Compound assignment

    @inlinable
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    @inlinable
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    @inlinable
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    @inlinable
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    @inlinable
    public static func += (a: inout Tensor, s: Scalar) { a = a + s }
    @inlinable
    public static func -= (a: inout Tensor, s: Scalar) { a = a - s }
    @inlinable
    public static func *= (a: inout Tensor, s: Scalar) { a = a * s }
    @inlinable
    public static func /= (a: inout Tensor, s: Scalar) { a = a / s }

    // MARK: - Fused linear combination

    /// `base + Σⱼ weights[j] · terms[j]` in one pass and one tape record.
    ///
    /// This is the stage and update combination of a Runge–Kutta step (`y + h Σ aᵢⱼ kⱼ`). Zero weights
    /// are skipped. The weights are constants; gradients flow to `base` (identity) and to each term
    /// (`weights[j] · g`).
    ///
    /// - Precondition: all tensors have the shape of `base`, and `weights.count == terms.count`.
    @inlinable
    public static func linearCombination(base: Tensor, weights: [Scalar], terms: [Tensor]) -> Tensor {
        require(weights.count == terms.count, "\(weights.count) weights for \(terms.count) terms")
        var operands = [base]
        operands.append(contentsOf: terms)
        return linearCombination(operands, weights: weights)
    }

    /// `operands[0] + Σⱼ weights[j] · operands[j + 1]`: ``linearCombination(base:weights:terms:)``
    /// with the base first in one array (the Runge–Kutta combination builds it directly, saving an
    /// array and a copy of every term per stage).
    ///
    /// - Precondition: `operands.count == weights.count + 1`, all of the same shape.
    @inlinable
    package static func linearCombination(_ operands: [Tensor], weights: [Scalar]) -> Tensor {
        require(operands.count == weights.count + 1, "\(weights.count) weights for \(operands.count - 1) terms")
        let base = operands[0]
        let n = base.storage.count
        var out = base.storage
        var recorded = base.node != nil
        out.withUnsafeMutableBufferPointer { y in
            for j in 0..<weights.count {
                let term = operands[j + 1]
                if term.node != nil { recorded = true }
                let w = weights[j]
                if w == 0 { continue }
                require(
                    term.shape == base.shape,
                    "linear combination of shapes \(describeShape(base.shape)) and \(describeShape(term.shape))")
                term.storage.withUnsafeBufferPointer { k in
                    for i in 0..<n { y[i] += w * k[i] }
                }
            }
        }
        let value = Tensor(shape: base.shape, storage: out, node: nil)
        guard recorded else { return value }
        // One `.combination` record: the tape adds wⱼ·g into each operand's gradient itself (no
        // closure, and no tensor per term).
        var tape: Tape<Scalar>?
        var indices: [Int] = []
        var all: [Scalar] = []
        indices.reserveCapacity(operands.count)
        all.reserveCapacity(operands.count)
        for (j, operand) in operands.enumerated() {
            if let node = operand.node {
                if let tape {
                    require(tape === node.tape, "an operation mixes tensors recorded on two different tapes")
                } else {
                    tape = node.tape
                }
            }
            indices.append(operand.node?.index ?? -1)
            all.append(j == 0 ? 1 : weights[j - 1])
        }
        let index = tape!.append(.combination(indices, all))
        return Tensor(shape: value.shape, storage: value.storage, node: TapeNode(tape: tape!, index: index))
    }
}
