import RNNODETensors

/// A trainable lookup table: token index → vector. `weight` row i is the vector of token i.
///
/// - Shapes: indices `[batch, time]` → vectors `[batch, time, dimension]`; weight
///   `[vocabularySize, dimension]`.
/// - ``maskZero``: index 0 is padding (Keras' `mask_zero`): ``mask(for:)`` gives the right-padding
///   mask a ``RecurrentLayer`` takes.
/// - ``isFrozen``: the table is not trained (it lists no parameters), as for pretrained vectors.
///
/// The gradient of a lookup scatters into the rows that were used (repeated indices add up).
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let embedding = Embedding<Float>(vocabularySize: 80, dimension: 32, using: &generator)
/// let vectors = try embedding([[3, 14, 15], [9, 2, 6]])        // [2, 3, 32]
/// ```
public struct Embedding<Scalar: TensorScalar>: Trainable, Sendable {
    /// The vectors, `[vocabularySize, dimension]`.
    public var weight: Tensor<Scalar>
    /// Whether index 0 stands for padding.
    public var maskZero: Bool
    /// Whether the table is excluded from training.
    public var isFrozen: Bool

    /// A table with the given vectors.
    ///
    /// - Precondition: `weight` is `[vocabularySize, dimension]`.
    public init(weight: Tensor<Scalar>, maskZero: Bool = false, isFrozen: Bool = false) {
        require(weight.rank == 2, "Embedding weight must be [vocabularySize, dimension], got \(describeShape(weight.shape))")
        self.weight = weight
        self.maskZero = maskZero
        self.isFrozen = isFrozen
    }

    /// A table drawn from `initializer` (Keras' U(−0.05, 0.05) by default).
    public init(
        vocabularySize: Int, dimension: Int, initializer: Initializer = .uniform(lower: -0.05, upper: 0.05),
        maskZero: Bool = false, using generator: inout some RandomNumberGenerator
    ) {
        require(vocabularySize > 0 && dimension > 0, "Embedding sizes must be positive, got \(vocabularySize), \(dimension)")
        self.init(weight: initializer.make([vocabularySize, dimension], using: &generator), maskZero: maskZero)
    }

    public var vocabularySize: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    public var parameterPaths: [ParameterPath<Self>] { isFrozen ? [] : [.init("weight", \.weight)] }

    /// The vectors of `indices` `[batch, time]`: `[batch, time, dimension]`.
    ///
    /// - Throws: ``EmbeddingError`` for ragged rows or an index outside the vocabulary.
    @inlinable
    public func callAsFunction(_ indices: [[Int]]) throws(EmbeddingError) -> Tensor<Scalar> {
        let time = indices.first?.count ?? 0
        for (row, sequence) in indices.enumerated() where sequence.count != time {
            throw .raggedRows(row: row, length: sequence.count, expected: time)
        }
        return try lookup(indices.flatMap { $0 }).reshaped(to: [indices.count, time, dimension])
    }

    /// The vectors of `indices`: `[indices.count, dimension]`.
    ///
    /// - Throws: ``EmbeddingError/indexOutOfRange(position:index:vocabularySize:)``.
    @inlinable
    public func lookup(_ indices: [Int]) throws(EmbeddingError) -> Tensor<Scalar> {
        for (position, index) in indices.enumerated() where index < 0 || index >= vocabularySize {
            throw .indexOutOfRange(position: position, index: index, vocabularySize: vocabularySize)
        }
        return (isFrozen ? weight.detached : weight).gathering(indices, alongAxis: 0)
    }

    /// The mask `[batch, time]` of non-padding positions (1 where the index is not 0), or nil
    /// without ``maskZero``.
    public func mask(for indices: [[Int]]) -> Tensor<Scalar>? {
        guard maskZero else { return nil }
        let time = indices.first?.count ?? 0
        return Tensor(shape: [indices.count, time], scalars: indices.flatMap { $0.map { $0 == 0 ? 0 : 1 } })
    }
}

/// A bad index sequence given to an ``Embedding``.
public enum EmbeddingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The index at `position` (row-major) is not in 0..<vocabularySize.
    case indexOutOfRange(position: Int, index: Int, vocabularySize: Int)
    /// Row `row` has a different length from the first row.
    case raggedRows(row: Int, length: Int, expected: Int)

    public var description: String {
        switch self {
        case .indexOutOfRange(let position, let index, let size):
            return "token index \(index) at position \(position) is outside the vocabulary 0..<\(size)"
        case .raggedRows(let row, let length, let expected):
            return "row \(row) has \(length) tokens, expected \(expected) like row 0 (pad the batch to one length)"
        }
    }
}

/// One-hot vectors: `[indices.count, depth]` with a 1 at each index.
///
/// ```swift
/// let x = oneHot([2, 0], depth: 3, as: Double.self)    // [[0, 0, 1], [1, 0, 0]]
/// ```
///
/// - Precondition: every index is in 0..<depth.
public func oneHot<Scalar: TensorScalar>(_ indices: [Int], depth: Int, as: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
    var values = [Scalar](repeating: 0, count: indices.count * depth)
    for (row, index) in indices.enumerated() {
        require(index >= 0 && index < depth, "oneHot: index \(index) at position \(row) is outside 0..<\(depth)")
        values[row * depth + index] = 1
    }
    return Tensor(shape: [indices.count, depth], scalars: values)
}

/// One-hot sequences: `[batch, time, depth]` for indices `[batch, time]` (rows of equal length).
public func oneHot<Scalar: TensorScalar>(_ indices: [[Int]], depth: Int, as: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
    let time = indices.first?.count ?? 0
    require(indices.allSatisfy { $0.count == time }, "oneHot: rows have different lengths \(indices.map(\.count))")
    return oneHot(indices.flatMap { $0 }, depth: depth, as: Scalar.self).reshaped(to: [indices.count, time, depth])
}
