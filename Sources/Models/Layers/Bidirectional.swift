import RNNODEIntegrators
import RNNODETensors

/// A bidirectional recurrent layer: one ``RecurrentLayer`` reads the sequence forwards, another
/// reads it backwards, and their outputs at each position are merged (concatenated, forward first,
/// as PyTorch's `bidirectional=True` and Keras' `Bidirectional` do; or summed).
///
/// With a mask, the backward layer reads each row from its last valid input, so padding never
/// reaches either direction. Initial and final states are `[forward, backward]`.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let layer = Bidirectional(
///     forward: GRUCell<Double>(inputSize: 5, hiddenSize: 4, using: &generator),
///     backward: GRUCell<Double>(inputSize: 5, hiddenSize: 4, using: &generator))
/// let out = try layer(x)            // out.sequence [batch, time, 8]
/// ```
public struct Bidirectional<Cell: RecurrentCell>: SequenceLayer {
    public typealias Scalar = Cell.Scalar

    /// How the two directions' outputs are combined.
    public enum Merge: Sendable, Equatable {
        /// [forward, backward] along the feature axis (2·hiddenSize features).
        case concatenate
        /// forward + backward (hiddenSize features).
        case sum
    }

    /// The layer reading forwards.
    public var forward: RecurrentLayer<Cell>
    /// The layer reading backwards (its ``RecurrentLayer/goBackwards`` is set).
    public var backward: RecurrentLayer<Cell>
    /// How outputs are merged.
    public var merge: Merge

    /// A bidirectional layer of two cells with the same sizes, both integrated with `integration`.
    ///
    /// - Precondition: the cells have equal input and hidden sizes.
    public init(forward: Cell, backward: Cell, integration: CellIntegration<Scalar> = .discrete, merge: Merge = .concatenate) {
        require(
            forward.inputSize == backward.inputSize && forward.hiddenSize == backward.hiddenSize,
            "Bidirectional: the cells' sizes differ (\(forward.inputSize)→\(forward.hiddenSize) and \(backward.inputSize)→\(backward.hiddenSize))"
        )
        self.forward = RecurrentLayer(forward, integration: integration)
        self.backward = RecurrentLayer(backward, integration: integration, goBackwards: true)
        self.merge = merge
    }

    public var parameterPaths: [ParameterPath<Self>] {
        ParameterPath.nested("forward", \.forward, in: self) + ParameterPath.nested("backward", \.backward, in: self)
    }

    public static var hasFixedParameterPaths: Bool { Cell.hasFixedParameterPaths }

    public var inputSize: Int { forward.inputSize }
    public var outputSize: Int { merge == .concatenate ? 2 * forward.outputSize : forward.outputSize }

    public func zeroStates(batchSize: Int) -> [Tensor<Scalar>] {
        forward.zeroStates(batchSize: batchSize) + backward.zeroStates(batchSize: batchSize)
    }

    /// Runs both directions over `x` `[batch, time, inputSize]` from `initialStates` `[forward,
    /// backward]` (zeros if nil), with an optional right-padding mask `[batch, time]`, on the time
    /// axis `times` (both directions read the same stamps; the backward one in reverse).
    @inlinable
    public func callAsFunction(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]? = nil, mask: Tensor<Scalar>? = nil,
        times: SequenceTimes<Scalar>? = nil
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        try run(x, initialStates: initialStates, mask: mask, times: times)
    }

    @inlinable
    public func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?, times: SequenceTimes<Scalar>?
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        if let initialStates, initialStates.count != 2 {
            throw .initialStateShape(expected: "two states [forward, backward]", got: "\(initialStates.count) states")
        }
        let f = try forward.run(x, initialStates: initialStates.map { [$0[0]] }, mask: mask, times: times)
        let b = try backward.run(x, initialStates: initialStates.map { [$0[1]] }, mask: mask, times: times)
        var statistics = f.statistics
        statistics.acceptedSteps += b.statistics.acceptedSteps
        statistics.rejectedSteps += b.statistics.rejectedSteps
        statistics.evaluations += b.statistics.evaluations
        switch merge {
        case .concatenate:
            return RecurrentOutput(
                sequence: Tensor(concatenating: [f.sequence, b.sequence], alongAxis: -1),
                last: Tensor(concatenating: [f.last, b.last], alongAxis: -1), finalStates: f.finalStates + b.finalStates,
                statistics: statistics)
        case .sum:
            return RecurrentOutput(
                sequence: f.sequence + b.sequence, last: f.last + b.last, finalStates: f.finalStates + b.finalStates,
                statistics: statistics)
        }
    }
}
