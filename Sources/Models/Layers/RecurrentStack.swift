import RNNODEIntegrators
import RNNODETensors

/// Recurrent layers in sequence: each layer reads the previous one's output sequence (Keras'
/// `return_sequences=True` chain, PyTorch's `num_layers`), with optional dropout between layers.
///
/// Initial and final states are listed layer by layer (each layer contributing one state, or two
/// for a ``Bidirectional`` layer). Dropout (rate ``dropout``) is applied to the output of every
/// layer but the last, only in the calls that are given a random number generator — training calls
/// — so that masks are reproducible from a seed.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let stack = RecurrentStack([
///     RecurrentLayer(LSTMCell<Float>(inputSize: 16, hiddenSize: 64, using: &generator)),
///     RecurrentLayer(LSTMCell<Float>(inputSize: 64, hiddenSize: 64, using: &generator)),
/// ], dropout: 0.2)
/// let training = try stack(x, dropoutUsing: &generator)     // with dropout
/// let inference = try stack(x)                              // without
/// ```
public struct RecurrentStack<Layer: SequenceLayer>: SequenceLayer {
    public typealias Scalar = Layer.Scalar

    /// The layers, first to last.
    public var layers: [Layer]
    /// The dropout rate between layers, in [0, 1).
    public var dropout: Double
    /// The states carried between stateful calls (nil before the first and after ``resetState()``).
    public private(set) var carriedStates: [Tensor<Scalar>]?

    /// A stack of `layers`.
    ///
    /// - Precondition: at least one layer; each layer's input size is the previous one's output
    ///   size; 0 ≤ dropout < 1.
    public init(_ layers: [Layer], dropout: Double = 0) {
        require(!layers.isEmpty, "RecurrentStack needs at least one layer")
        for (i, pair) in zip(layers, layers.dropFirst()).enumerated() {
            require(
                pair.0.outputSize == pair.1.inputSize,
                "RecurrentStack: layer \(i) outputs \(pair.0.outputSize) features but layer \(i + 1) expects \(pair.1.inputSize)"
            )
        }
        require(dropout >= 0 && dropout < 1, "RecurrentStack: dropout must be in [0, 1), got \(dropout)")
        self.layers = layers
        self.dropout = dropout
    }

    public var parameterPaths: [ParameterPath<Self>] {
        layers.indices.flatMap { i in
            let layer: WritableKeyPath<Self, Layer> = \Self.layers[i]
            return layers[i].parameterPaths.map { child in
                ParameterPath("layers.\(i).\(child.name)", layer.appending(path: child.keyPath))
            }
        }
    }

    public var inputSize: Int { layers[0].inputSize }
    public var outputSize: Int { layers[layers.count - 1].outputSize }

    public func zeroStates(batchSize: Int) -> [Tensor<Scalar>] { layers.flatMap { $0.zeroStates(batchSize: batchSize) } }

    /// Runs every layer without dropout (inference), every layer on the time axis `times`.
    @inlinable
    public func callAsFunction(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]? = nil, mask: Tensor<Scalar>? = nil,
        times: SequenceTimes<Scalar>? = nil
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        var unused = SeededGenerator(seed: 0)
        return try run(x, initialStates: initialStates, mask: mask, times: times, dropoutRate: 0, generator: &unused)
    }

    /// Runs every layer with dropout between layers drawn from `generator` (training).
    @inlinable
    public func callAsFunction(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]? = nil, mask: Tensor<Scalar>? = nil,
        times: SequenceTimes<Scalar>? = nil, dropoutUsing generator: inout some RandomNumberGenerator
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        try run(x, initialStates: initialStates, mask: mask, times: times, dropoutRate: dropout, generator: &generator)
    }

    @inlinable
    public func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?, times: SequenceTimes<Scalar>?
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        try self(x, initialStates: initialStates, mask: mask, times: times)
    }

    /// Runs the stack from the states the previous stateful call ended in (zeros at first) and
    /// keeps its final states, detached, for the next call (see ``RecurrentLayer/callStateful(_:mask:)``).
    /// Dropout is applied when a generator is given.
    public mutating func callStateful(
        _ x: Tensor<Scalar>, mask: Tensor<Scalar>? = nil, dropoutUsing generator: inout some RandomNumberGenerator
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        if let carriedStates, x.rank == 3, carriedStates[0].shape[0] != x.shape[0] {
            throw .batchSizeChanged(carried: carriedStates[0].shape[0], got: x.shape[0])
        }
        let output = try run(
            x, initialStates: carriedStates, mask: mask, times: nil, dropoutRate: dropout, generator: &generator)
        carriedStates = output.finalStates.map { $0.detached }
        return output
    }

    /// Forgets the carried states: the next stateful call starts from zeros.
    public mutating func resetState() { carriedStates = nil }

    @inlinable
    package func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?, times: SequenceTimes<Scalar>?,
        dropoutRate: Double, generator: inout some RandomNumberGenerator
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        let batch = x.rank == 3 ? x.shape[0] : 0
        let counts = layers.map { $0.zeroStates(batchSize: 0).count }
        if let initialStates, initialStates.count != counts.reduce(0, +) {
            throw .initialStateShape(
                expected: "\(counts.reduce(0, +)) states (one per layer and direction)", got: "\(initialStates.count) states")
        }
        var input = x
        var finalStates: [Tensor<Scalar>] = []
        var statistics = SolveStatistics()
        var last = Tensor<Scalar>.zeros([batch, 0])
        var offset = 0
        for (i, layer) in layers.enumerated() {
            let states = initialStates.map { Array($0[offset..<(offset + counts[i])]) }
            offset += counts[i]
            let output = try layer.run(input, initialStates: states, mask: mask, times: times)
            finalStates += output.finalStates
            statistics.acceptedSteps += output.statistics.acceptedSteps
            statistics.rejectedSteps += output.statistics.rejectedSteps
            statistics.evaluations += output.statistics.evaluations
            last = output.last
            input = output.sequence
            if i < layers.count - 1 && dropoutRate > 0 {
                input = RNNODEModels.dropout(input, rate: dropoutRate, using: &generator)
            }
        }
        return RecurrentOutput(sequence: input, last: last, finalStates: finalStates, statistics: statistics)
    }
}
