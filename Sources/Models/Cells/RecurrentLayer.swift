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
    /// with an optional right-padding mask `[batch, time]` of 0 and 1, on the time axis `times`
    /// (the layer's regular grid if nil; see ``SequenceTimes``).
    func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?, times: SequenceTimes<Scalar>?
    ) throws(RecurrentError<Scalar>)
        -> RecurrentOutput<Scalar>
}

extension SequenceLayer {
    /// Runs the layer on its regular time grid (see ``run(_:initialStates:mask:times:)``).
    @inlinable
    public func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        try run(x, initialStates: initialStates, mask: mask, times: nil)
    }
}

/// A recurrent layer: a ``RecurrentCell`` run over a sequence by the library's one integrator, one
/// input interval at a time.
///
/// For input xₖ (k = 0…T−1) the layer integrates dh/dt = f(h, xₖ) across the interval that ends at
/// xₖ's time — from kΔt to (k + 1)Δt on the regular grid — with the ``integration`` settings,
/// starting from the initial state (zeros by default), and reports the state at its end. With the
/// default ``CellIntegration/discrete`` (Euler, Δt = 1) this is exactly the classic recurrent
/// network. Per-row time stamps (``SequenceTimes/irregular(_:)``) integrate each row across its own
/// gaps, and a recorded time step or recorded time stamps get gradients
/// (``run(_:initialStates:mask:times:)``).
///
/// How it runs: with fixed steps, a cell that conforms to ``RowSeparableField`` (every cell of the
/// library but SimpleDeepRNN) takes the integrator's fused path,
/// ``integrateRows(_:input:initialState:intervals:method:maxStep:lengths:detachedBefore:outputWidth:)``:
/// any tableau, any step, one recorded operation per sequence. Otherwise — adaptive steps, or a cell
/// with only ``RecurrentCell/derivative(of:projectedInput:)`` — one ``Integrator`` on the tape is
/// kept across the input intervals: its step-size controller carries over from one interval to the
/// next, and every interval's end is hit exactly. Both give the same results, to rounding.
///
/// - Inputs: `[batch, time, inputSize]`, batch first.
/// - Masks: `[batch, time]` of 1 (valid) and 0 (padding), right-padded: each row's valid steps come
///   first. A padded step leaves the state as it was and outputs zeros, so ``RecurrentOutput/last``
///   and the final state are those after each row's last valid input. A row with no valid step keeps
///   its initial state (and `last` is that state's output). A mask of the wrong shape, with entries
///   other than 0 and 1, or with a valid step after a padded one is a ``RecurrentError``.
/// - ``goBackwards``: reads each row from its last valid input to its first; outputs are stored at
///   the position of the input just read, so forward and backward sequences line up.
/// - ``gradients``: ``GradientStrategy/backpropagation`` (the default) or
///   ``GradientStrategy/truncated(steps:)``, where gradients flow back through only the last k input
///   steps (the state is detached k steps before the end): truncated backpropagation through time.
///   The strategies that record a solve as one operation (checkpointed, adjoints) are not supported
///   by layers: the cell's inputs change at every step and are recorded tensors of their own; solve a
///   cell as a field with ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``
///   for those.
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
    /// How gradients flow back through the inputs: ``GradientStrategy/backpropagation`` or
    /// ``GradientStrategy/truncated(steps:)`` (the only strategies layers support).
    public var gradients: GradientStrategy
    /// With ``GradientStrategy/truncated(steps:)``, the number of input steps gradients flow back
    /// through; nil for all of them.
    @inlinable public var truncation: Int? {
        if case .truncated(let steps) = gradients { return steps }
        return nil
    }
    /// The state carried between stateful calls (nil before the first and after ``resetState()``).
    public private(set) var carriedState: Tensor<Scalar>?
    /// A layer running `cell` with `integration` (the discrete cell by default).
    public init(
        _ cell: Cell, integration: CellIntegration<Scalar> = .discrete, goBackwards: Bool = false,
        gradients: GradientStrategy = .backpropagation
    ) {
        self.cell = cell
        self.integration = integration
        self.goBackwards = goBackwards
        self.gradients = gradients
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

    /// Runs the layer over `x` `[batch, time, inputSize]` on the time axis `times` (see
    /// ``SequenceTimes``; the regular grid of ``CellIntegration/timeStep`` if nil).
    ///
    /// - Throws: ``RecurrentError`` for bad shapes, masks, times or settings, non-finite inputs or
    ///   parameters, and an integration that fails midway (with the outputs computed so far).
    @inlinable
    public func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?, times: SequenceTimes<Scalar>?
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
        if case .irregular = times, case .adaptive(let settings) = integration.step.mode,
            settings.minStep > 0 || settings.maxStep < .infinity
        {
            throw .invalidIntegration("adaptive step bounds (minStep, maxStep) do not apply to per-row time stamps")
        }
        let intervals =
            try times?.intervals(
                batch: batch, time: time, lengths: lengths, nominal: integration.timeStep, goBackwards: goBackwards)
            ?? .constant(integration.timeStep)
        guard x.isFinite else { throw .nonFiniteInput("the input sequence") }
        guard h0.isFinite else { throw .nonFiniteInput("the initial state") }
        if !cell.parametersAreFinite, let name = cell.nonFiniteParameterNames.first { throw .nonFiniteParameter(name: name) }

        let input = goBackwards ? reversingValidSteps(x, lengths: lengths) : x
        let cut = truncation.map { time - $0 }
        // Time-major, so that each interval's inputs are contiguous: [time, batch, projected].
        let projected = cell.projectInput(input.permuted([1, 0, 2]))
        var output: RecurrentOutput<Scalar>
        // The fused path runs explicit, partitioned and semi-implicit methods; implicit ones take the
        // tape path (which solves their stages on the state's components), partitioned and
        // semi-implicit ones only the fused path.
        let explicit = integration.method.kind == .explicit && integration.method.stiffAlternative == nil
        if case .fixed(let step) = integration.step.mode, time > 0, explicit || integration.fusedOnlyMethodName != nil,
            let field = cell as? any RowSeparableField<Scalar>
        {
            output = try integrateFused(field, projected, h0, intervals, step: step, lengths: lengths, cut: cut)
        } else if let name = integration.fusedOnlyMethodName, time > 0 {
            throw .invalidIntegration(
                "\(name) runs on cells that state their field row by row (RowSeparableField), and \(Cell.self) does not")
        } else if case .lengths(let gaps) = intervals, case .irregular = times {
            output = try integrateRowByRow(projected, h0, gaps: gaps, lengths: lengths, cut: cut)
        } else {
            output = try integrateBatch(projected, h0, intervals, lengths: lengths, cut: cut)
        }
        if goBackwards { output.sequence = reversingValidSteps(output.sequence, lengths: lengths) }
        return output
    }

    // MARK: - The fused path

    /// The whole sequence on the integrator's fused path (fixed steps, a row-separable cell).
    @inlinable
    func integrateFused(
        _ field: any RowSeparableField<Scalar>, _ projected: Tensor<Scalar>, _ h0: Tensor<Scalar>,
        _ intervals: RowIntervals<Scalar>,
        step: Scalar, lengths: [Int]?, cut: Int?
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        let result: RowSequenceResult<Scalar>
        do {
            if let partitioned = integration.partitionedMethod {
                result = try integrateRows(
                    field, input: projected, initialState: h0, intervals: intervals, partitioned: partitioned, maxStep: step,
                    lengths: lengths, detachedBefore: cut, outputWidth: cell.hiddenSize)
            } else if let semiImplicit = integration.semiImplicitMethod {
                result = try integrateRows(
                    field, input: projected, initialState: h0, intervals: intervals, semiImplicit: semiImplicit,
                    maxStep: step, lengths: lengths, detachedBefore: cut, outputWidth: cell.hiddenSize)
            } else {
                result = try integrateRows(
                    field, input: projected, initialState: h0, intervals: intervals, method: integration.method,
                    maxStep: step, lengths: lengths, detachedBefore: cut, outputWidth: cell.hiddenSize)
            }
        } catch {
            throw .invalidIntegration(error.description)
        }
        if let k = result.failedInterval {
            throw .integrationFailed(
                inputStep: k, reason: "the state became NaN or infinity", outputs: result.outputs,
                lastState: result.finalState)
        }
        return RecurrentOutput(
            sequence: result.outputs, last: cell.output(of: result.finalState), finalStates: [result.finalState],
            statistics: result.statistics)
    }

    // MARK: - The tape path

    /// The whole batch through one ``Integrator`` on the tape, kept across the intervals. Constant
    /// intervals are integrated in the layer's time; recorded ones (a trainable Δt) in units of one
    /// interval, with the field rescaled by its length.
    @inlinable
    func integrateBatch(
        _ projected: Tensor<Scalar>, _ h0: Tensor<Scalar>, _ intervals: RowIntervals<Scalar>, lengths: [Int]?, cut: Int?
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        let (time, batch) = (projected.shape[0], h0.shape[0])
        let inputs = time > 0 ? projected.unstacked(alongAxis: 0) : []
        let (unit, scale, length): (Scalar, Tensor<Scalar>?, Scalar)
        switch intervals {
        case .constant(let g): (unit, scale, length) = (g, nil, g)
        case .lengths(let gaps):
            // A regular grid: every entry is the same (recorded) step.
            let step = gaps.slice(alongAxis: 0, 0..<1).slice(alongAxis: 1, 0..<1).reshaped(to: [])
            (unit, scale, length) = (1, step, step.scalar)
        }
        var outputs: [Tensor<Scalar>] = []
        outputs.reserveCapacity(time)
        guard time > 0 else {
            return RecurrentOutput(
                sequence: stackedOutputs(outputs, batch: batch, features: cell.hiddenSize), last: cell.output(of: h0),
                finalStates: [h0])
        }
        let integrator: Integrator<CellField<Cell>>
        let steps = try fixedStepCount(length)
        do {
            integrator = try makeIntegrator(
                CellField(cell: cell, projectedInput: inputs[0], scale: scale, checksParameters: false), h0,
                fixedStep: unit / Scalar(steps), unitsPerTime: unit / length, intervals: time)
        } catch {
            throw .integrationFailed(
                inputStep: 0, reason: error.description, outputs: Tensor.zeros([batch, 0, cell.hiddenSize]), lastState: h0)
        }
        for k in 0..<time {
            var state = integrator.state
            if k == cut {
                state = state.detached
                integrator.reset(state: state)
            }
            if k > 0 {
                integrator.field = CellField(cell: cell, projectedInput: inputs[k], scale: scale, checksParameters: false)
            }
            if let reason = advance(integrator, to: Scalar(k + 1) * unit) {
                throw .integrationFailed(
                    inputStep: k, reason: reason,
                    outputs: stackedOutputs(outputs, batch: batch, features: cell.hiddenSize), lastState: state)
            }
            var next = integrator.state
            var output: Tensor<Scalar>
            if let lengths, lengths.contains(where: { $0 <= k }) {
                let valid = Tensor<Scalar>(shape: [batch, 1], scalars: lengths.map { $0 > k ? 1 : 0 })
                next = state + valid * (next - state)
                integrator.reset(state: next)
                output = cell.output(of: next) * valid
            } else {
                output = cell.output(of: next)
            }
            outputs.append(output)
        }
        let final = integrator.state
        return RecurrentOutput(
            sequence: stackedOutputs(outputs, batch: batch, features: cell.hiddenSize), last: cell.output(of: final),
            finalStates: [final], statistics: integrator.statistics)
    }

    /// Each row through its own ``Integrator`` on the tape (per-row time stamps), in units of one
    /// interval with the field rescaled by the row's gap: with fixed steps the interval's ⌈g / h⌉
    /// steps are unit steps of the field scaled by g/n; with adaptive steps the controller's step
    /// is carried over in time, rescaled from one gap to the next. Rows advance interval by
    /// interval together, so a failure leaves every row's outputs before it.
    @inlinable
    func integrateRowByRow(
        _ projected: Tensor<Scalar>, _ h0: Tensor<Scalar>, gaps: Tensor<Scalar>, lengths: [Int]?, cut: Int?
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        let (time, batch, h) = (projected.shape[0], h0.shape[0], cell.hiddenSize)
        let rows = (0..<batch).map { b in h0.slice(alongAxis: 0, b..<(b + 1)) }
        let gapValues = gaps.scalars
        // inputs[k][b]: row b's projected input of interval k, [1, projected].
        let inputs = projected.unstacked(alongAxis: 0).map { $0.split(sizes: Array(repeating: 1, count: batch), alongAxis: 0) }
        let gapTensors = gaps.reshaped(to: [time * batch]).split(sizes: Array(repeating: 1, count: time * batch))
        let adaptive = integration.step.isAdaptive
        /// The number of unit steps and the field's scale for row b's interval k.
        func plan(_ k: Int, _ b: Int) throws(RecurrentError<Scalar>) -> (steps: Int, scale: Tensor<Scalar>) {
            let g = gapTensors[k * batch + b].reshaped(to: [])
            if adaptive { return (1, g) }
            let n = try fixedStepCount(gapValues[k * batch + b])
            return (n, g / Scalar(n))
        }
        var integrators: [Integrator<CellField<Cell>>?] = Array(repeating: nil, count: batch)
        var positions = [Scalar](repeating: 0, count: batch)
        var outputs: [[Tensor<Scalar>]] = Array(repeating: [], count: batch)
        var states = rows
        for k in 0..<time {
            let entering = states
            for b in 0..<batch where k < (lengths?[b] ?? time) {
                let (steps, scale) = try plan(k, b)
                let field = CellField(cell: cell, projectedInput: inputs[k][b], scale: scale, checksParameters: false)
                let integrator: Integrator<CellField<Cell>>
                if let existing = integrators[b] {
                    integrator = existing
                    if k == cut { integrator.reset(state: integrator.state.detached) }
                    integrator.field = field
                    if adaptive, let proposed = integrator.proposedStep, k > 0 {
                        // The same step in time, in units of the new gap.
                        integrator.proposedStep = proposed * gapValues[(k - 1) * batch + b] / gapValues[k * batch + b]
                    }
                } else {
                    do {
                        integrator = try makeIntegrator(
                            field, k == cut ? states[b].detached : states[b], fixedStep: 1,
                            unitsPerTime: 1 / gapValues[k * batch + b], intervals: time)
                    } catch {
                        throw .integrationFailed(
                            inputStep: k, reason: error.description,
                            outputs: rowOutputs(outputs, through: k, batch: batch, features: h),
                            lastState: stackedRowStates(entering))
                    }
                    integrators[b] = integrator
                }
                let target = positions[b] + Scalar(steps)
                if let reason = advance(integrator, to: target) {
                    throw .integrationFailed(
                        inputStep: k, reason: reason,
                        outputs: rowOutputs(outputs, through: k, batch: batch, features: h),
                        lastState: stackedRowStates(entering))
                }
                positions[b] = adaptive ? Scalar(k + 1) : target
                states[b] = integrator.state
                outputs[b].append(cell.output(of: integrator.state))
            }
            for b in 0..<batch where k >= (lengths?[b] ?? time) { outputs[b].append(Tensor.zeros([1, h])) }
        }
        let sequence = rowOutputs(outputs, through: time, batch: batch, features: h)
        let final = stackedRowStates(states)
        var statistics = SolveStatistics()
        for integrator in integrators.compactMap({ $0 }) {
            statistics.acceptedSteps += integrator.statistics.acceptedSteps
            statistics.rejectedSteps += integrator.statistics.rejectedSteps
            statistics.evaluations += integrator.statistics.evaluations
        }
        return RecurrentOutput(sequence: sequence, last: cell.output(of: final), finalStates: [final], statistics: statistics)
    }

    /// An integrator for the layer's method: fixed steps of `fixedStep`, or the adaptive settings
    /// with their step bounds converted to the integrator's time units (`unitsPerTime` of them per
    /// unit of the layer's time), and a budget of a million adaptive steps per interval.
    @inlinable
    func makeIntegrator(
        _ field: CellField<Cell>, _ state: Tensor<Scalar>, fixedStep: Scalar, unitsPerTime: Scalar, intervals: Int
    ) throws(SolveError) -> Integrator<CellField<Cell>> {
        let control: StepSizeControl<Scalar>
        switch integration.step.mode {
        case .fixed: control = .fixed(fixedStep)
        case .adaptive(var settings):
            settings.initialStep = settings.initialStep.map { $0 * unitsPerTime }
            settings.minStep *= unitsPerTime
            settings.maxStep *= unitsPerTime
            control = StepSizeControl(mode: .adaptive(settings))
        }
        let budget = intervals.multipliedReportingOverflow(by: 1_000_000)
        return try Integrator(
            field, initialState: state, time: 0, method: integration.method, step: control,
            maxSteps: integration.step.isAdaptive && !budget.overflow ? Swift.max(budget.partialValue, 1) : nil)
    }

    /// The number of equal fixed steps that cross an interval of length `length` (the fused path's
    /// rule, ``equalStepCount(_:maxStep:)``; 1 for adaptive steps).
    ///
    /// - Throws: ``RecurrentError/invalidIntegration(_:)`` beyond 10⁹ steps.
    @inlinable
    func fixedStepCount(_ length: Scalar) throws(RecurrentError<Scalar>) -> Int {
        guard case .fixed(let h) = integration.step.mode else { return 1 }
        guard let n = equalStepCount(length, maxStep: h) else {
            throw .invalidIntegration("an interval of length \(length) would need more than 10⁹ steps of \(h)")
        }
        return n
    }

    /// Advances `integrator` to `target` (an interval's end): nil on success, otherwise why it
    /// failed — the status, or the error for a target the integrator rejects (one its fixed step
    /// cannot resolve, say; the layer's own times are never behind it).
    @inlinable
    func advance(_ integrator: Integrator<CellField<Cell>>, to target: Scalar) -> String? {
        do {
            let status = try integrator.advance(to: target)
            return status == .success ? nil : status.description
        } catch {
            return error.description
        }
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
        if let name = integration.fusedOnlyMethodName, integration.step.isAdaptive {
            throw .invalidIntegration("\(name) takes fixed steps only")
        }
        if integration.partitionedMethod != nil && integration.semiImplicitMethod != nil {
            throw .invalidIntegration("a cell integration takes a partitioned or a semi-implicit method, not both")
        }
        if let truncation, truncation < 1 {
            throw .invalidIntegration("truncation must be at least 1 step, got \(truncation)")
        }
        if gradients.isSingleOperation {
            throw .invalidIntegration(
                "a recurrent layer supports .backpropagation and .truncated(steps:), got \(gradients.name)")
        }
    }
}

extension CellField {
    /// A field for a layer that has checked the cell's parameters once for the whole sequence.
    @inlinable
    package init(cell: Cell, projectedInput: Tensor<Cell.Scalar>, scale: Tensor<Cell.Scalar>?, checksParameters: Bool) {
        self.init(cell: cell, projectedInput: projectedInput, scale: scale)
        self.checksParameters = checksParameters
    }
}

/// Per-row outputs (`[1, features]` each, the first `steps` of each row) as `[batch, steps, features]`.
@inlinable
package func rowOutputs<Scalar>(_ outputs: [[Tensor<Scalar>]], through steps: Int, batch: Int, features: Int) -> Tensor<Scalar> {
    guard batch > 0 else { return Tensor.zeros([0, steps, features]) }
    return Tensor(
        concatenating: outputs.map { stackedOutputs(Array($0.prefix(steps)), batch: 1, features: features) }, alongAxis: 0)
}

/// Per-row states `[1, stateSize]` as `[batch, stateSize]`.
@inlinable
package func stackedRowStates<Scalar>(_ states: [Tensor<Scalar>]) -> Tensor<Scalar> {
    Tensor(concatenating: states, alongAxis: 0)
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
