// Gradient strategies that record a whole solve as one operation on the tape: exact reverse mode with
// checkpoints (here) and the continuous adjoints (Adjoint.swift). The forward solve runs on constants;
// the operation's pullback computes the gradients for the initial state and the field's declared
// parameters (VectorField.parameterTensors).

import RNNODETensors

// MARK: - Dispatch

/// ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)`` for the strategies
/// that record the solve as one operation (checkpointed, adjoints), on validated inputs.
@inlinable
package func solveAsOneOperation<Field: VectorField>(
    _ field: Field, initialState: Field.State, plan: IntegrationPlan<Field.State.Scalar>, method: ButcherTableau,
    step: StepSizeControl<Field.State.Scalar>, saveAt: SaveAt<Field.State.Scalar>, gradients: GradientStrategy,
    implicit: ImplicitSolverSettings
) throws(SolveError) -> Solution<Field.State> {
    typealias Scalar = Field.State.Scalar
    guard let y0 = initialState as? Tensor<Scalar> else {
        throw .unsupportedGradientStrategy(
            "\(gradients.name) records the solve as one tensor operation and needs Tensor states, got \(Field.State.self); use .backpropagation"
        )
    }
    if method.stiffAlternative != nil {
        throw .unsupportedGradientStrategy(
            "\(gradients.name) cannot follow \(method.name)'s method switching; choose the explicit or the stiff method")
    }
    let tensorField = TensorStateField(field: field)
    let solution: Solution<Tensor<Scalar>>
    switch gradients {
    case .checkpointed(let every):
        solution = try solveCheckpointed(
            tensorField, initialState: y0, plan: plan, method: method, step: step, saveAt: saveAt, every: every,
            implicit: implicit)
    case .backsolveAdjoint, .interpolatingAdjoint:
        solution = try solveAdjointOperation(
            tensorField, initialState: y0, plan: plan, method: method, step: step, saveAt: saveAt,
            interpolated: gradients == .interpolatingAdjoint, implicit: implicit)
    case .backpropagation, .truncated:
        programmingError("\(gradients.name) is not recorded as one operation")
    }
    return solution as! Solution<Field.State>  // Field.State is Tensor<Scalar> (checked above)
}

/// A field whose state is `Tensor` at run time, seen as a field of `Tensor` (for the strategies that
/// need tensor operations on the state).
@usableFromInline
package struct TensorStateField<Field: VectorField>: VectorField {
    @usableFromInline package typealias State = Tensor<Field.State.Scalar>
    @usableFromInline package let field: Field

    @inlinable package init(field: Field) { self.field = field }

    @inlinable
    package func callAsFunction(_ t: Field.State.Scalar, _ y: State) -> State {
        field(t, y as! Field.State) as! State
    }

    @inlinable
    package func jacobian(_ t: Field.State.Scalar, _ y: State, into matrix: JacobianMatrix<Field.State.Scalar>) -> Bool {
        field.jacobian(t, y as! Field.State, into: matrix)
    }

    @inlinable package var isAutonomous: Bool { field.isAutonomous }
    @inlinable package func firstNonFiniteParameter() -> String? { field.firstNonFiniteParameter() }
    @inlinable package var parameterTensors: [Tensor<Field.State.Scalar>] { field.parameterTensors }

    @inlinable
    package func replacingParameterTensors(_ parameters: [Tensor<Field.State.Scalar>]) -> Self {
        TensorStateField(field: field.replacingParameterTensors(parameters))
    }
}

/// The field with its declared parameters replaced by constants, checked to compute with no other
/// recorded tensor (which the one-operation strategies could not differentiate).
@inlinable
package func constantField<Field: VectorField, T: TensorScalar>(
    _ field: Field, at t0: T, _ y0: Tensor<T>, strategy: String
) throws(SolveError) -> Field where Field.State == Tensor<T> {
    let constant = field.replacingParameterTensors(field.parameterTensors.map { $0.detached })
    if constant(t0, y0.detached).isRecorded { throw .undeclaredRecordedTensors(strategy) }
    return constant
}

// MARK: - Checkpointed reverse mode

/// What the forward pass of a checkpointed solve keeps: every accepted step's start, signed size and
/// end, and the state at the start of every segment of `segment` steps.
@usableFromInline
final class CheckpointRecord<T: TensorScalar>: @unchecked Sendable {
    // Sendable: written by the forward pass only, read by the pullback afterwards.
    @usableFromInline var starts: [T] = []
    @usableFromInline var sizes: [T] = []
    @usableFromInline var ends: [T] = []
    /// checkpoints[k] = the state after k·segment steps (detached).
    @usableFromInline var checkpoints: [Tensor<T>] = []
    @usableFromInline var segment: Int
    /// Whether the segment doubles to keep about √N checkpoints.
    @usableFromInline let adapts: Bool

    @inlinable
    init(initialState: Tensor<T>, every: Int?) {
        segment = every ?? 16
        adapts = every == nil
        checkpoints = [initialState]
    }

    /// Records an accepted step from `start` of size `size` to `end`, with the state there.
    @inlinable
    func add(start: T, size: T, end: T, state: Tensor<T>) {
        starts.append(start)
        sizes.append(size)
        ends.append(end)
        guard starts.count % segment == 0 else { return }
        checkpoints.append(state)
        if adapts && checkpoints.count > 2 * segment {
            // Twice as long segments: keep every other checkpoint.
            checkpoints = stride(from: 0, to: checkpoints.count, by: 2).map { checkpoints[$0] }
            segment *= 2
        }
    }
}

/// Where a saved state comes from in the stored steps.
@usableFromInline
enum OutputSource<T: TensorScalar>: Sendable {
    case initial
    /// The state after step `j`.
    case stepEnd(Int)
    /// The dense output at `time` within step `j`.
    case dense(Int, T)

    @inlinable var step: Int {
        switch self {
        case .initial: return -1
        case .stepEnd(let j), .dense(let j, _): return j
        }
    }
}

/// The solve with gradients by checkpointed reverse mode (``GradientStrategy/checkpointed(every:)``).
///
/// Forward: the solve on constants, keeping the accepted steps (t, h, t + h) and the checkpoints. The
/// saved states and the final state are stacked into one value recorded on the tape of the initial
/// state and θ. Pullback, segment by segment from the last: a local tape with the checkpoint y_c and θ
/// as variables; the segment's steps replayed with the stored sizes by the same method (a stepper set
/// up as the forward one); the scalar Σₘ ⟨gₘ, yₘ⟩ + ⟨a, y_end⟩ over the outputs in the segment and its
/// end state; its gradient gives the new a = ∂/∂y_c and adds ∂/∂θ.
@inlinable
package func solveCheckpointed<Field: VectorField, T: TensorScalar>(
    _ field: Field, initialState: Tensor<T>, plan: IntegrationPlan<T>, method: ButcherTableau,
    step: StepSizeControl<T>, saveAt: SaveAt<T>, every: Int?, implicit: ImplicitSolverSettings
) throws(SolveError) -> Solution<Tensor<T>> where Field.State == Tensor<T> {
    if method.kind == .rosenbrock {
        throw .unsupportedGradientStrategy(
            "\(method.name) cannot be differentiated step by step (its Jacobian depends on the state); use a diagonally implicit method (.kvaerno5, .kenCarp4) or .interpolatingAdjoint"
        )
    }
    let strategy = GradientStrategy.checkpointed(every: every).name
    let y0 = initialState.detached
    let constant = try constantField(field, at: plan.t0, y0, strategy: strategy)
    let record = CheckpointRecord<T>(initialState: y0, every: every)
    var solution = try integrate(
        constant, initialState: y0, plan: plan, method: method, step: step, saveAt: saveAt, truncation: nil,
        implicit: implicit
    ) { integrator in
        record.add(start: integrator.previousTime, size: integrator.lastStepSize, end: integrator.time, state: integrator.state)
    }
    if solution.finalState.isRecorded { throw .undeclaredRecordedTensors(strategy) }
    let theta = field.parameterTensors
    guard initialState.isRecorded || theta.contains(where: { $0.isRecorded }) else { return solution }

    // The source of every saved state, then of the final state.
    let direction = plan.direction
    var sources: [OutputSource<T>] = []
    var j = 0
    for time in solution.times + [solution.finalTime] {
        while j < record.ends.count && direction * (record.ends[j] - time) < 0 { j += 1 }
        if j < record.ends.count && record.ends[j] == time {
            sources.append(.stepEnd(j))
        } else if time == plan.t0 || j == record.ends.count {
            sources.append(.initial)
        } else {
            sources.append(.dense(j, time))
        }
    }
    let pullback = CheckpointedPullback(
        field: field, method: method, step: step, implicit: implicit, record: record, sources: sources,
        theta: theta.map { $0.detached }, stateShape: y0.shape)
    solution.recordAsOneOperation(operands: [initialState] + theta) { g in pullback(g) }
    return solution
}

/// The backward pass of a checkpointed solve (see ``solveCheckpointed(_:initialState:plan:method:step:saveAt:every:implicit:)``).
@usableFromInline
struct CheckpointedPullback<Field: VectorField, T: TensorScalar>: @unchecked Sendable where Field.State == Tensor<T> {
    // Sendable: the field and the record are read only.
    @usableFromInline let field: Field
    @usableFromInline let method: ButcherTableau
    @usableFromInline let step: StepSizeControl<T>
    @usableFromInline let implicit: ImplicitSolverSettings
    @usableFromInline let record: CheckpointRecord<T>
    @usableFromInline let sources: [OutputSource<T>]
    @usableFromInline let theta: [Tensor<T>]
    @usableFromInline let stateShape: [Int]

    @inlinable
    init(
        field: Field, method: ButcherTableau, step: StepSizeControl<T>, implicit: ImplicitSolverSettings,
        record: CheckpointRecord<T>, sources: [OutputSource<T>], theta: [Tensor<T>], stateShape: [Int]
    ) {
        (self.field, self.method, self.step, self.implicit) = (field, method, step, implicit)
        (self.record, self.sources, self.theta, self.stateShape) = (record, sources, theta, stateShape)
    }

    /// The gradients for the initial state and θ, given the cotangent `g` of the stacked outputs.
    @inlinable
    func callAsFunction(_ g: Tensor<T>) -> [Tensor<T>?] {
        let cotangents = g.detached.unstacked()
        // The outputs of each step, by step index (−1: the initial state).
        var outputsOfStep: [Int: [Int]] = [:]
        for (m, source) in sources.enumerated() { outputsOfStep[source.step, default: []].append(m) }
        let stepCount = record.starts.count
        let segment = record.segment
        var adjoint = Tensor<T>.zeros(stateShape)
        var thetaGradients = theta.map { Tensor<T>.zeros($0.shape) }
        var segmentStart = ((stepCount - 1) / segment) * segment
        while stepCount > 0 && segmentStart >= 0 {
            let segmentEnd = Swift.min(segmentStart + segment, stepCount)
            guard
                let (stateGradient, parameterGradients) = replay(
                    from: segmentStart, to: segmentEnd, adjoint: adjoint, cotangents: cotangents,
                    outputsOfStep: outputsOfStep)
            else {
                return [Tensor<T>.zeros(stateShape).mapScalars { _ in .nan }] + theta.map { $0.mapScalars { _ in .nan } }
            }
            adjoint = stateGradient
            for k in thetaGradients.indices { thetaGradients[k].accumulate(parameterGradients[k]) }
            segmentStart -= segment
        }
        for m in outputsOfStep[-1] ?? [] { adjoint.accumulate(cotangents[m]) }
        return [adjoint] + thetaGradients
    }

    /// Replays steps `start..<end` from their checkpoint on a local tape and pulls back the outputs'
    /// cotangents and `adjoint` (the cotangent of the state after step `end − 1`); nil if the replay
    /// cannot be set up (it succeeded forward, so it does not happen for a deterministic field).
    @inlinable
    func replay(
        from start: Int, to end: Int, adjoint: Tensor<T>, cotangents: [Tensor<T>], outputsOfStep: [Int: [Int]]
    ) -> (Tensor<T>, [Tensor<T>])? {
        let tape = Tape<T>()
        let startState = tape.variable(record.checkpoints[start / record.segment])
        let parameters = theta.map { tape.variable($0) }
        let local = field.replacingParameterTensors(parameters)
        // An integrator set up as the forward one: the same stepper settings and initial slope.
        guard
            let replay = try? Integrator(
                local, initialState: startState, time: record.starts[start], method: method, step: step, implicit: implicit)
        else { return nil }
        let stepper = replay.stepper
        var y = startState
        var slope = replay.currentSlope()
        var terms: [Tensor<T>] = []
        for j in start..<end {
            let t = record.starts[j]
            let (y1, last) = stepper.step(local, t, y, record.sizes[j], slope)
            stepper.implicit?.stepAccepted()
            let tEnd = record.ends[j]
            let endSlope = stepper.isFSAL ? last : local(tEnd, y1)
            for m in outputsOfStep[j] ?? [] {
                let output: Tensor<T>
                switch sources[m] {
                case .dense(_, let time):
                    // As Integrator.interpolate: the step's interval and θ within it.
                    let h = tEnd - t
                    var evaluations = 0
                    output = stepper.interpolate(local, t, y, h, (time - t) / h, endSlope: endSlope, evaluations: &evaluations)
                default:
                    output = y1
                }
                terms.append((output * cotangents[m]).sum())
            }
            stepper.denseStep = nil
            y = y1
            slope = endSlope
        }
        terms.append((y * adjoint).sum())
        var total = terms[0]
        for term in terms.dropFirst() { total = total + term }
        let gradients = tape.gradients(of: total, withRespectTo: [startState] + parameters)
        return (gradients[0], Array(gradients.dropFirst()))
    }
}

extension Solution {
    /// Records the saved states and the final state, stacked along a new first axis, as one operation
    /// on `operands` whose pullback maps the cotangent of that stack (shape `[states.count + 1] +
    /// state shape`) to the operands' gradients; the states are replaced by the recorded values.
    @usableFromInline
    package mutating func recordAsOneOperation<T: TensorScalar>(
        operands: [Tensor<T>], pullback: @escaping (Tensor<T>) -> [Tensor<T>?]
    ) where State == Tensor<T> {
        let stacked = Tensor(stacking: states + [finalState])
        let box = OperationPullback(pullback)
        var pieces = Tensor.recording(stacked, operands: operands) { g in box.body(g) }.unstacked()
        finalState = pieces.removeLast()
        states = pieces
    }
}

/// A pullback that reads only values never written after the forward pass (the field, its stored
/// steps), hence safe to call from the tape's backward sweep on any thread.
@usableFromInline
final class OperationPullback<T: TensorScalar>: @unchecked Sendable {
    @usableFromInline let body: (Tensor<T>) -> [Tensor<T>?]
    @usableFromInline init(_ body: @escaping (Tensor<T>) -> [Tensor<T>?]) { self.body = body }
}
