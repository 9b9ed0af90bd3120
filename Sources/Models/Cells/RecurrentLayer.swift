import RNNODEIntegrators
import RNNODETensors

/// What a recurrent layer returns for a batch of sequences.
public struct RecurrentOutput<Scalar: TensorScalar>: Sendable {
    /// The output after every input, `[batch, time, features]`, aligned with the input positions
    /// (also for layers that read backwards). Zero at masked (padded) positions.
    public var sequence: Tensor<Scalar>
    /// The output after the last valid input of each row, `[batch, features]` (for a backwards
    /// layer: after reading the whole row backwards, which is aligned with position 0).
    public var last: Tensor<Scalar>
    /// The final state of each recurrent layer and direction, `[batch, stateSize]` each, in order
    /// (layer by layer; forward before backward).
    public var finalStates: [Tensor<Scalar>]
    /// The integrator's work over the whole sequence.
    public var statistics: SolveStatistics

    /// An output from its parts.
    @inlinable
    public init(
        sequence: Tensor<Scalar>, last: Tensor<Scalar>, finalStates: [Tensor<Scalar>],
        statistics: SolveStatistics = SolveStatistics()
    ) {
        self.sequence = sequence
        self.last = last
        self.finalStates = finalStates
        self.statistics = statistics
    }

    /// The first final state (the only one of a single ``RecurrentLayer``).
    public var finalState: Tensor<Scalar> { finalStates[0] }
}

/// A layer that maps input sequences `[batch, time, inputSize]` to output sequences: a
/// ``RecurrentLayer``, a ``Bidirectional`` pair, or a ``RecurrentStack``.
public protocol SequenceLayer<Scalar>: Trainable, Sendable {
    /// The scalar type of the parameters and sequences.
    associatedtype Scalar
    /// Input features.
    var inputSize: Int { get }
    /// Output features.
    var outputSize: Int { get }
    /// The zero initial states for a batch, one per recurrent layer and direction.
    func zeroStates(batchSize: Int) -> [Tensor<Scalar>]
    /// Runs the layer over `x` `[batch, time, inputSize]` from `initialStates` (zero states if nil),
    /// with an optional right-padding mask `[batch, time]` of 0 and 1.
    func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?
    ) throws(RecurrentError<Scalar>)
        -> RecurrentOutput<Scalar>
}

/// A recurrent layer: a ``RecurrentCell`` run over a sequence by the library's one integrator, one
/// input interval at a time.
///
/// For input xₖ (k = 0…T−1) the layer integrates dh/dt = f(h, xₖ) from tₖ = k·Δt to tₖ₊₁ with the
/// ``integration`` settings, starting from the initial state (zeros by default). With the default
/// ``CellIntegration/discrete`` (Euler, Δt = 1) this is exactly the classic recurrent network.
///
/// - Inputs: `[batch, time, inputSize]`, batch first.
/// - Masks: `[batch, time]` of 1 (valid) and 0 (padding), right-padded: each row's valid steps come
///   first. A padded step leaves the state as it was and outputs zeros, so ``RecurrentOutput/last``
///   and the final state are those after each row's last valid input. A row with no valid step keeps
///   its initial state (and `last` is that state's output). A mask of the wrong shape, with entries
///   other than 0 and 1, or with a valid step after a padded one is a ``RecurrentError``.
/// - ``goBackwards``: reads each row from its last valid input to its first; outputs are stored at
///   the position of the input just read, so forward and backward sequences line up.
/// - ``truncation``: gradients flow back through only the last k input steps (the state is detached
///   k steps before the end): truncated backpropagation through time.
/// - Stateful use (Keras' `stateful=True`): ``callStateful(_:mask:)`` starts from the state the
///   previous call ended in (detached from its tape), until ``resetState()``.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let gru = GRUCell<Float>(inputSize: 8, hiddenSize: 32, using: &generator)
/// let layer = RecurrentLayer(gru, integration: .fixed(.midpoint, timeStep: 0.5))
/// let out = try layer(x)                  // x [batch, time, 8] → out.sequence [batch, time, 32]
/// ```
public struct RecurrentLayer<Cell: RecurrentCell>: SequenceLayer {
    public typealias Scalar = Cell.Scalar

    /// The cell (its parameters are the layer's).
    public var cell: Cell
    /// How the cell is integrated between inputs.
    public var integration: CellIntegration<Scalar>
    /// Whether the layer reads its inputs backwards in time.
    public var goBackwards: Bool
    /// Backpropagate through only the last this many input steps (nil: all of them).
    public var truncation: Int?
    /// The state carried between stateful calls (nil before the first and after ``resetState()``).
    public private(set) var carriedState: Tensor<Scalar>?
    /// Whether the discrete cell (``CellIntegration/discrete``) runs the cell's fused kernel
    /// (``RecurrentCell/fusedDiscreteSequence(_:initialState:lengths:detachedBefore:)``) when it has
    /// one, instead of the integrator's generic Euler steps. Both agree to rounding; the fused kernel
    /// is faster.
    public var usesFusedKernels = true

    /// A layer running `cell` with `integration` (the discrete cell by default).
    public init(
        _ cell: Cell, integration: CellIntegration<Scalar> = .discrete, goBackwards: Bool = false,
        truncation: Int? = nil
    ) {
        self.cell = cell
        self.integration = integration
        self.goBackwards = goBackwards
        self.truncation = truncation
    }

    public var parameterPaths: [ParameterPath<Self>] { ParameterPath.nested("cell", \.cell, in: self) }

    public static var hasFixedParameterPaths: Bool { Cell.hasFixedParameterPaths }

    public var inputSize: Int { cell.inputSize }
    public var outputSize: Int { cell.hiddenSize }

    public func zeroStates(batchSize: Int) -> [Tensor<Scalar>] { [cell.zeroState(batchSize: batchSize)] }

    /// Runs the layer over `x` `[batch, time, inputSize]`.
    ///
    /// - Parameters:
    ///   - initialState: `[batch, stateSize]` (zeros if nil).
    ///   - mask: `[batch, time]`, 1 for valid steps and 0 for right padding (see the type's notes).
    /// - Throws: ``RecurrentError`` for bad shapes, masks or settings, non-finite inputs or
    ///   parameters, and an integration that fails midway (with the outputs computed so far).
    @inlinable
    public func callAsFunction(
        _ x: Tensor<Scalar>, initialState: Tensor<Scalar>? = nil, mask: Tensor<Scalar>? = nil
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        try run(x, initialStates: initialState.map { [$0] }, mask: mask)
    }

    @inlinable
    public func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        guard x.rank == 3, x.shape[2] == cell.inputSize else {
            throw .inputShape(expected: "[batch, time, \(cell.inputSize)]", got: x.shape)
        }
        let (batch, time) = (x.shape[0], x.shape[1])
        let stateShape = [batch, cell.stateSize]
        let h0: Tensor<Scalar>
        if let initialStates {
            guard initialStates.count == 1, initialStates[0].shape == stateShape else {
                throw .initialStateShape(
                    expected: "one tensor \(describeShape(stateShape))",
                    got: initialStates.map { describeShape($0.shape) }.joined(separator: ", "))
            }
            h0 = initialStates[0]
        } else {
            h0 = cell.zeroState(batchSize: batch)
        }
        let lengths = try validatedSequenceLengths(mask, batch: batch, time: time, as: Scalar.self)
        try checkIntegration()
        guard x.isFinite else { throw .nonFiniteInput("the input sequence") }
        guard h0.isFinite else { throw .nonFiniteInput("the initial state") }

        let input = goBackwards ? reversingValidSteps(x, lengths: lengths) : x
        let cut = truncation.map { time - $0 }
        if usesFusedKernels && integration.isDiscrete && time > 0,
            let (fusedSequence, state) = try cell.fusedDiscreteSequence(
                input, initialState: h0, lengths: lengths, detachedBefore: cut)
        {
            let sequence = goBackwards ? reversingValidSteps(fusedSequence, lengths: lengths) : fusedSequence
            var statistics = SolveStatistics()
            (statistics.acceptedSteps, statistics.evaluations) = (time, time)
            return RecurrentOutput(
                sequence: sequence, last: cell.output(of: state), finalStates: [state], statistics: statistics)
        }
        if let name = cell.nonFiniteParameterNames.first { throw .nonFiniteParameter(name: name) }
        // Time-major, so that each step's slice is contiguous: [time, batch, projected].
        let projected = cell.projectInput(input.permuted([1, 0, 2])).unstacked(alongAxis: 0)
        var state = h0
        var outputs: [Tensor<Scalar>] = []
        outputs.reserveCapacity(time)
        var statistics = SolveStatistics()
        for k in 0..<time {
            if k == cut { state = state.detached }
            var next = try integrateInterval(
                projected[k], from: state, inputStep: k, outputs: outputs, statistics: &statistics)
            var output: Tensor<Scalar>
            if let lengths, lengths.contains(where: { $0 <= k }) {
                let valid = Tensor<Scalar>(shape: [batch, 1], scalars: lengths.map { $0 > k ? 1 : 0 })
                next = state + valid * (next - state)
                output = cell.output(of: next) * valid
            } else {
                output = cell.output(of: next)
            }
            state = next
            outputs.append(output)
        }
        var sequence = stackedOutputs(outputs, batch: batch, features: cell.hiddenSize)
        if goBackwards { sequence = reversingValidSteps(sequence, lengths: lengths) }
        return RecurrentOutput(
            sequence: sequence, last: cell.output(of: state), finalStates: [state], statistics: statistics)
    }

    /// The state after integrating across input interval `k` from `state` with the input held.
    @inlinable
    package func integrateInterval(
        _ input: Tensor<Scalar>, from state: Tensor<Scalar>, inputStep k: Int, outputs: [Tensor<Scalar>],
        statistics: inout SolveStatistics
    ) throws(RecurrentError<Scalar>) -> Tensor<Scalar> {
        let dt = integration.timeStep
        let field = CellField(cell: cell, projectedInput: input, checksParameters: false)
        let solution: Solution<Tensor<Scalar>>
        do {
            solution = try solve(
                field, initialState: state, from: Scalar(k) * dt, to: Scalar(k + 1) * dt, method: integration.method,
                step: integration.step, saveAt: .final)
        } catch {
            throw .integrationFailed(
                inputStep: k, reason: error.description,
                outputs: stackedOutputs(outputs, batch: state.shape[0], features: cell.hiddenSize), lastState: state)
        }
        statistics.acceptedSteps += solution.statistics.acceptedSteps
        statistics.rejectedSteps += solution.statistics.rejectedSteps
        statistics.evaluations += solution.statistics.evaluations
        guard solution.succeeded else {
            throw .integrationFailed(
                inputStep: k, reason: solution.status.description,
                outputs: stackedOutputs(outputs, batch: state.shape[0], features: cell.hiddenSize), lastState: state)
        }
        return solution.finalState
    }

    /// Runs the layer from the state the previous stateful call ended in (zeros at first), and
    /// keeps the final state, detached, for the next call: a long sequence fed in consecutive chunks
    /// sees one unbroken recurrence, with gradients truncated at chunk boundaries.
    ///
    /// - Throws: ``RecurrentError/batchSizeChanged(carried:got:)`` if the batch size differs from
    ///   the carried state's, and everything ``callAsFunction(_:initialState:mask:)`` throws (the
    ///   carried state is then unchanged).
    public mutating func callStateful(
        _ x: Tensor<Scalar>, mask: Tensor<Scalar>? = nil
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        if let carriedState, x.rank == 3, carriedState.shape[0] != x.shape[0] {
            throw .batchSizeChanged(carried: carriedState.shape[0], got: x.shape[0])
        }
        let output = try self(x, initialState: carriedState, mask: mask)
        carriedState = output.finalState.detached
        return output
    }

    /// Forgets the carried state: the next stateful call starts from zeros.
    public mutating func resetState() { carriedState = nil }

    @inlinable
    package func checkIntegration() throws(RecurrentError<Scalar>) {
        let dt = integration.timeStep
        guard dt.isFinite, dt > 0 else { throw .invalidIntegration("the time between inputs must be positive, got \(dt)") }
        if case .fixed(let h) = integration.step.mode, !(h.isFinite && h > 0) {
            throw .invalidIntegration("the fixed step must be positive, got \(h)")
        }
        if let truncation, truncation < 1 {
            throw .invalidIntegration("truncation must be at least 1 step, got \(truncation)")
        }
    }
}

extension CellField {
    /// A field for a layer that has checked the cell's parameters once for the whole sequence.
    @inlinable
    package init(cell: Cell, projectedInput: Tensor<Cell.Scalar>, checksParameters: Bool) {
        self.init(cell: cell, projectedInput: projectedInput)
        self.checksParameters = checksParameters
    }
}

// MARK: - Masks and ordering

/// The number of valid steps of each row of a right-padded mask `[batch, time]` (nil without a mask).
@inlinable
package func validatedSequenceLengths<Scalar: TensorScalar>(
    _ mask: Tensor<Scalar>?, batch: Int, time: Int, as: Scalar.Type
) throws(RecurrentError<Scalar>) -> [Int]? {
    guard let mask else { return nil }
    guard mask.shape == [batch, time] else { throw .maskShape(expected: [batch, time], got: mask.shape) }
    let values = mask.scalars
    var lengths = [Int](repeating: 0, count: batch)
    for row in 0..<batch {
        var length = 0
        for step in 0..<time {
            let value = values[row * time + step]
            guard value == 0 || value == 1 else { throw .maskValue(row: row, step: step, value: Double(value)) }
            if value == 1 {
                guard length == step else { throw .leftPaddedMask(row: row, step: step) }
                length += 1
            }
        }
        lengths[row] = length
    }
    return lengths
}

/// `x` `[batch, time, features]` with each row's valid steps (all of them without lengths) in
/// reverse order and its padding left in place. Applying it twice gives `x` back. Differentiable.
@inlinable
package func reversingValidSteps<Scalar>(_ x: Tensor<Scalar>, lengths: [Int]?) -> Tensor<Scalar> {
    guard let lengths else { return x.reversed(alongAxis: 1) }
    let (batch, time, features) = (x.shape[0], x.shape[1], x.shape[2])
    var order: [Int] = []
    order.reserveCapacity(batch * time)
    for row in 0..<batch {
        for step in 0..<time {
            order.append(row * time + (step < lengths[row] ? lengths[row] - 1 - step : step))
        }
    }
    return x.reshaped(to: [batch * time, features]).gathering(order, alongAxis: 0).reshaped(to: x.shape)
}

/// Per-step outputs `[batch, features]` stacked into `[batch, steps, features]`.
@inlinable
package func stackedOutputs<Scalar>(_ outputs: [Tensor<Scalar>], batch: Int, features: Int) -> Tensor<Scalar> {
    outputs.isEmpty ? Tensor.zeros([batch, 0, features]) : Tensor(stacking: outputs, alongAxis: 1)
}
