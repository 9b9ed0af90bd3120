/// A dense, row-major n-dimensional array of `Float` or `Double` that records the operations applied
/// to it for reverse-mode differentiation.
///
/// A tensor is a value: copies share storage until one of them is mutated. A tensor created from data
/// is a *constant*. A tensor made a variable of a ``Tape`` (`tape.variable(x)`), and every result of an
/// operation with such a tensor among its operands, is *recorded*: the tape remembers how to
/// propagate gradients back through it. See ``Tape`` and the functions `gradient(at:of:)` and `valueWithGradient(at:of:)`.
///
/// Shapes are `[Int]`, outermost axis first; a rank-0 tensor (shape `[]`) holds one scalar.
/// Binary operations broadcast like NumPy: shapes are aligned at their trailing axes, and an axis of
/// length 1 stretches to match.
///
/// ```swift
/// let x = Tensor<Double>([[1, 2], [3, 4]])         // shape [2, 2]
/// let y = tanh(x * 0.5 + Tensor([1, -1]))          // broadcast over rows
/// let firstColumn = x[.all, 0]                     // shape [2], Su's x[:, 0]
/// ```
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The length of each axis, outermost first.
    public let shape: [Int]
    @usableFromInline package var storage: TensorStorage<Scalar>
    /// Where this tensor lives on a tape, if it is recorded.
    @usableFromInline package var node: TapeNode<Scalar>?

    @inlinable
    package init(shape: [Int], storage: TensorStorage<Scalar>, node: TapeNode<Scalar>?) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    // MARK: - Creating tensors

    /// A tensor with the given shape and row-major scalars.
    ///
    /// - Precondition: `scalars.count` is the product of `shape`, and no axis is negative.
    @inlinable
    public init(shape: [Int], scalars: [Scalar]) {
        let count = checkedElementCount(shape)
        require(
            count == scalars.count, "tensor shape \(describeShape(shape)) needs \(count) scalars, got \(scalars.count)")
        self.init(shape: shape, storage: TensorStorage(scalars), node: nil)
    }

    /// A rank-0 tensor holding `scalar`.
    @inlinable
    public init(_ scalar: Scalar) {
        self.init(shape: [], storage: TensorStorage(repeating: scalar, count: 1), node: nil)
    }

    /// A rank-1 tensor (a vector).
    @inlinable
    public init(_ vector: [Scalar]) {
        self.init(shape: [vector.count], storage: TensorStorage(vector), node: nil)
    }

    /// A rank-2 tensor (a matrix) from its rows.
    ///
    /// - Precondition: every row has the same length.
    @inlinable
    public init(_ rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        require(
            rows.allSatisfy { $0.count == columns }, "Tensor rows have different lengths: \(rows.map(\.count))")
        self.init(shape: [rows.count, columns], storage: TensorStorage(Array(rows.joined())), node: nil)
    }

    /// A tensor of the given shape with every scalar equal to `value`.
    @inlinable
    public init(repeating value: Scalar, shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(repeating: value, count: checkedElementCount(shape)), node: nil)
    }

    /// A tensor of zeros.
    @inlinable
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

    /// A tensor of ones.
    @inlinable
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// Evenly spaced values: `count` points from `start` to `end` inclusive.
    @inlinable
    public static func linspace(from start: Scalar, to end: Scalar, count: Int) -> Tensor {
        require(count >= 1, "linspace needs at least one point, got \(count)")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Scalar(count - 1)
        var values = (0..<count).map { start + Scalar($0) * step }
        values[count - 1] = end
        return Tensor(values)
    }

    /// The identity matrix of size `n × n`.
    @inlinable
    public static func identity(_ n: Int) -> Tensor {
        var values = [Scalar](repeating: 0, count: n * n)
        for i in 0..<n { values[i * n + i] = 1 }
        return Tensor(shape: [n, n], scalars: values)
    }

    // MARK: - Properties

    /// The number of axes.
    @inlinable
    public var rank: Int { shape.count }

    /// The number of scalars (the product of the shape).
    @inlinable
    public var scalarCount: Int { storage.count }

    /// The scalars in row-major order (a new array on every access: read it once, not per element).
    @inlinable
    public var scalars: [Scalar] { storage.array }

    /// The single scalar of a tensor with one element.
    ///
    /// - Precondition: `scalarCount == 1`.
    @inlinable
    public var scalar: Scalar {
        require(storage.count == 1, "scalar of a tensor with shape \(shape) (\(storage.count) scalars)")
        return storage[0]
    }

    /// Whether every scalar is finite (no NaN or infinity).
    @inlinable
    public var isFinite: Bool {
        storage.withUnsafeBufferPointer { buffer in
            buffer.isEmpty || allFinite(buffer.baseAddress!, count: buffer.count)
        }
    }

    /// Reads one scalar by its full index, one entry per axis.
    ///
    /// - Precondition: `index.count == rank` and each entry is within its axis.
    @inlinable
    public func scalar(at index: [Int]) -> Scalar {
        storage[flatIndex(index)]
    }

    /// Replaces one scalar by its full index. The result is a constant: a recorded tensor that is
    /// mutated leaves its tape (mutation cannot be differentiated).
    @inlinable
    public mutating func setScalar(_ value: Scalar, at index: [Int]) {
        let offset = flatIndex(index)
        node = nil
        storage[offset] = value
    }

    @inlinable
    package func flatIndex(_ index: [Int]) -> Int {
        require(index.count == rank, "index \(index) does not match the rank of shape \(shape)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            require(i >= 0 && i < shape[axis], "index \(index) is outside shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }

    /// Gives the scalars to `body` for reading, without copying.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Lets `body` modify the scalars in place. The result is a constant (see ``setScalar(_:at:)``).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        node = nil
        return try storage.withUnsafeMutableBufferPointer(body)
    }

    /// The same scalars without any tape: operations on the result are not recorded.
    /// (PyTorch's `detach()`; a “stop gradient”.)
    @inlinable
    public var detached: Tensor { Tensor(shape: shape, storage: storage, node: nil) }

    /// Whether operations on this tensor are recorded on a tape.
    @inlinable
    public var isRecorded: Bool { node != nil }

    /// This tensor's values as `Double`s, in row-major order.
    public var doubles: [Double] { storage.withUnsafeBufferPointer { $0.map { Double($0) } } }

    /// The same values converted to another scalar type (a constant).
    @inlinable
    public func converted<Other: TensorScalar>(to: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(shape: shape, storage: storage.map { Other($0) }, node: nil)
    }
}

// MARK: - Conformances

extension Tensor: CustomStringConvertible {
    /// Nested brackets like NumPy's repr, e.g. `[[1.0, 2.0], [3.0, 4.0]]`.
    public var description: String {
        func render(_ axis: Int, _ offset: Int) -> (String, Int) {
            if axis == rank { return ("\(storage[offset])", offset + 1) }
            var parts: [String] = []
            var position = offset
            for _ in 0..<shape[axis] {
                let (text, next) = render(axis + 1, position)
                parts.append(text)
                position = next
            }
            return ("[" + parts.joined(separator: ", ") + "]", position)
        }
        if storage.isEmpty { return "Tensor(shape: \(shape), [])" }
        return render(0, 0).0
    }
}

extension Tensor: Equatable {
    /// Equal shapes and scalars (the tape is not compared).
    @inlinable
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.storage == rhs.storage
    }
}

/// Describes a shape for messages, e.g. `[2, 3]`.
@inlinable
package func describeShape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
