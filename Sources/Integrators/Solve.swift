import RNNODETensors

/// Integrates dy/dt = f(t, y) from `y(t0) = initialState` to `t1` with an explicit Runge–Kutta method.
///
/// ```swift
/// // Su's competition model as an Euler RNN: Δt = 0.1, 1000 steps.
/// let model = FieldClosure<SIMD2<Double>> { _, x in
///     SIMD2(0.1 * x.x * (1 - 0.002 * x.x) - 1e-4 * x.x * x.y,
///           0.3 * x.y * (1 - 0.003 * x.y) - 2e-4 * x.x * x.y)
/// }
/// let euler = try solve(model, initialState: [100, 150], from: 0, to: 100,
///                       method: .euler, step: .fixed(0.1))
/// let reference = try solve(model, initialState: [100, 150], from: 0, to: 100,
///                           method: .dopri5, step: .adaptive(rtol: 1e-10, atol: 1e-10),
///                           saveAt: .times(euler.times))
/// ```
///
/// Integration may run backwards (`t1 < t0`, with a negative fixed step). With `t0 == t1` the
/// initial state is returned without evaluating the field.
///
/// Fixed steps follow the grid t₀ + nΔt, refined so that every output time is hit exactly (see
/// ``StepSizeControl/fixed(_:)``). Adaptive steps keep the estimated local error within the
/// tolerances; output times are filled in from the method's dense output.
///
/// With ``Tensor`` states the gradient of a loss on the solution flows back to the initial state and
/// the field's parameters as `gradients` says (see ``GradientStrategy``): by default every step is
/// recorded (discretize-then-optimize; exact for the computed trajectory); ``GradientStrategy/checkpointed(every:)``
/// computes the same gradient in O(√N) memory; the adjoint strategies integrate the continuous adjoint
/// equation backward in memory independent of N (the field must declare its parameters, see
/// ``VectorField/parameterTensors``).
///
/// - Parameters:
///   - field: the vector field f.
///   - initialState: y(t0).
///   - t0: the start of the span.
///   - t1: the end of the span.
///   - method: the Runge–Kutta method (default Dormand–Prince 5(4)).
///   - step: fixed or adaptive stepping (default adaptive, rtol 1e-6, atol 1e-9).
///   - saveAt: which states to keep (default every step).
///   - maxSteps: the step budget (accepted plus rejected steps); by default unlimited for fixed steps
///     and 1,000,000 for adaptive ones.
///   - gradients: how gradients flow through the solve (default ``GradientStrategy/backpropagation``).
///     ``GradientStrategy/truncated(steps:)`` needs fixed steps; the strategies that record the solve
///     as one operation need ``Tensor`` states.
///   - implicit: for implicit and Rosenbrock methods (``ButcherTableau/rodas5P``,
///     ``ButcherTableau/kvaerno5``, …), the Jacobian's structure and the Newton settings.
/// - Returns: the solution. A solve that stops early — a non-finite state, an underflowing step, an
///   exhausted budget — returns normally with ``Solution/status`` saying why and the trajectory up
///   to that point; call ``Solution/checked()`` to turn that into an error.
/// - Throws: ``SolveError`` for invalid inputs, before integrating.
@inlinable
public func solve<Field: VectorField>(
    _ field: Field, initialState: Field.State, from t0: Field.State.Scalar, to t1: Field.State.Scalar,
    method: ButcherTableau = .dopri5, step: StepSizeControl<Field.State.Scalar> = .adaptive(),
    saveAt: SaveAt<Field.State.Scalar> = .steps, maxSteps: Int? = nil, gradients: GradientStrategy = .backpropagation,
    implicit: ImplicitSolverSettings = ImplicitSolverSettings()
) throws(SolveError) -> Solution<Field.State> {
    let plan = try IntegrationPlan(t0: t0, t1: t1, method: method, step: step, saveAt: saveAt, maxSteps: maxSteps)
    try gradients.validate(step: step)
    guard initialState.isFinite else { throw .nonFiniteInitialState }
    if let name = field.firstNonFiniteParameter() { throw .nonFiniteParameter(name: name) }
    if gradients.isSingleOperation && t0 != t1 {
        return try solveAsOneOperation(
            field, initialState: initialState, plan: plan, method: method, step: step, saveAt: saveAt,
            gradients: gradients, implicit: implicit)
    }
    var truncation: Int? = nil
    if case .truncated(let steps) = gradients { truncation = steps }
    return try integrate(
        field, initialState: initialState, plan: plan, method: method, step: step, saveAt: saveAt,
        truncation: truncation, implicit: implicit, onStep: nil)
}

/// The integration behind ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``
/// on validated inputs: saves the requested states, detaches the state `truncation` fixed steps before
/// the end, and calls `onStep` (if given) after every accepted step, before the states of that step are
/// saved (observing steps does not change the computed values).
@inlinable
package func integrate<Field: VectorField>(
    _ field: Field, initialState: Field.State, plan: IntegrationPlan<Field.State.Scalar>, method: ButcherTableau,
    step: StepSizeControl<Field.State.Scalar>, saveAt: SaveAt<Field.State.Scalar>, truncation: Int?,
    implicit: ImplicitSolverSettings, onStep: ((Integrator<Field>) -> Void)?
) throws(SolveError) -> Solution<Field.State> {
    typealias Scalar = Field.State.Scalar
    let (t0, t1) = (plan.t0, plan.t1)
    var solution = Solution<Field.State>(initialTime: t0, initialState: initialState)
    if t0 == t1 {
        // Nothing to integrate: every requested output is the initial state.
        for time in plan.outputTimes(saveAt) { solution.save(time, initialState) }
        return solution
    }
    let integrator = try Integrator(
        field, initialState: initialState, time: t0, method: method, step: step, maxSteps: plan.maxSteps,
        implicit: implicit)
    integrator.timeTolerance = plan.snap
    var saveTimes = plan.saveTimes[...]
    if plan.saveSteps || saveTimes.first == t0 {
        solution.save(t0, initialState)
        if saveTimes.first == t0 { saveTimes.removeFirst() }
    }
    let observing = onStep != nil
    switch step.mode {
    case .fixed(let dt):
        // Stop at every requested output time, then at t1; the grid is refined to hit them.
        if let steps = truncation {
            integrator.detachTime = t1 - plan.direction * Scalar(steps) * Swift.abs(dt)
        }
        let keepsStops = !saveTimes.isEmpty
        var stops = Array(saveTimes)
        if stops.last != t1 { stops.append(t1) }
        for stop in stops {
            try integrator.advance(to: stop, observingSteps: plan.saveSteps || observing) { integrator in
                onStep?(integrator)  // observing: once per accepted step
                if plan.saveSteps { solution.save(integrator.time, integrator.state) }
            }
            guard integrator.status == .success else { break }
            if keepsStops && !plan.saveSteps && (stop != t1 || plan.saveTimes.last == t1) {
                solution.save(stop, integrator.state)
            }
        }
    case .adaptive:
        // One run to t1; requested output times are filled in from the dense output of the step
        // that contains them.
        try integrator.advance(to: t1, observingSteps: plan.saveSteps || !saveTimes.isEmpty || observing) {
            integrator in
            onStep?(integrator)
            while let time = saveTimes.first, plan.direction * (time - integrator.time) <= 0 {
                solution.save(time, integrator.interpolate(at: time))
                saveTimes.removeFirst()
            }
            if plan.saveSteps { solution.save(integrator.time, integrator.state) }
        }
    }
    if integrator.status == .success, !plan.saveSteps, plan.saveTimes.isEmpty {
        solution.save(integrator.time, integrator.state)
    }
    solution.finish(at: integrator.time, integrator.state, integrator.status, integrator.statistics)
    return solution
}

/// Integrates a closure field; see ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``.
///
/// ```swift
/// let decay = try solve(initialState: 1.0, from: 0, to: 1, method: .rk4, step: .fixed(0.01)) { t, y in -y }
/// ```
@inlinable
public func solve<State: ODEState>(
    initialState: State, from t0: State.Scalar, to t1: State.Scalar,
    method: ButcherTableau = .dopri5, step: StepSizeControl<State.Scalar> = .adaptive(),
    saveAt: SaveAt<State.Scalar> = .steps, maxSteps: Int? = nil,
    _ field: @escaping (State.Scalar, State) -> State
) throws(SolveError) -> Solution<State> {
    try solve(
        FieldClosure(field), initialState: initialState, from: t0, to: t1, method: method, step: step,
        saveAt: saveAt, maxSteps: maxSteps)
}

/// Integrates over `times` (from the first to the last) and saves the state at each of them, as
/// `odeint`-style solvers do; see ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``.
///
/// - Precondition: `times` is not empty.
@inlinable
public func solve<Field: VectorField>(
    _ field: Field, initialState: Field.State, times: [Field.State.Scalar],
    method: ButcherTableau = .dopri5, step: StepSizeControl<Field.State.Scalar> = .adaptive(),
    maxSteps: Int? = nil, gradients: GradientStrategy = .backpropagation
) throws(SolveError) -> Solution<Field.State> {
    require(!times.isEmpty, "solve(times:) needs at least one time")
    return try solve(
        field, initialState: initialState, from: times[0], to: times[times.count - 1], method: method, step: step,
        saveAt: .times(times), maxSteps: maxSteps, gradients: gradients)
}

// MARK: - Validated inputs

/// The validated span, output times and budget of a solve.
@usableFromInline
package struct IntegrationPlan<Scalar: TensorScalar> {
    @usableFromInline package let t0: Scalar
    @usableFromInline package let t1: Scalar
    /// +1 forward, −1 backward (+1 when t0 == t1).
    @usableFromInline package let direction: Scalar
    /// Times closer than this are the same grid point: 64 ulps at the scale of the span, at most an
    /// eighth of a fixed step.
    @usableFromInline package let snap: Scalar
    /// Requested output times (for `.times`), snapped onto t0/t1 when within `snap` of them.
    @usableFromInline package let saveTimes: [Scalar]
    @usableFromInline package let saveSteps: Bool
    @usableFromInline package let maxSteps: Int

    @inlinable
    package init(
        t0: Scalar, t1: Scalar, method: ButcherTableau, step: StepSizeControl<Scalar>, saveAt: SaveAt<Scalar>,
        maxSteps: Int?
    ) throws(SolveError) {
        guard t0.isFinite else { throw .nonFiniteTime("the start time t0") }
        guard t1.isFinite else { throw .nonFiniteTime("the end time t1") }
        guard (t1 - t0).isFinite else { throw .nonFiniteTime("the span t1 − t0") }
        if let maxSteps, maxSteps < 1 { throw .invalidMaxSteps(maxSteps) }
        let direction: Scalar = t1 < t0 ? -1 : 1
        let scale = Swift.max(Swift.abs(t0), Swift.abs(t1))
        let snap: Scalar
        switch step.mode {
        case .fixed(let dt):
            guard dt.isFinite else { throw .nonFiniteTime("the step size") }
            guard dt != 0 else { throw .zeroStepSize }
            if t0 != t1 && (dt > 0) != (t1 > t0) {
                throw .stepSizeWrongDirection(stepSize: Double(dt), from: Double(t0), to: Double(t1))
            }
            // Checked before any step or grid scan: a step the times resolve bounds the step count
            // |t1 − t0| / |Δt| by 1/(8ε) (about 5.6·10¹⁴ for Double, 10⁶ for Float).
            guard Swift.abs(dt) >= minimumFixedStep(near: scale) else {
                throw .stepBelowTimeResolution(stepSize: Double(dt), time: Double(scale))
            }
            snap = timeSnap(near: Swift.max(scale, Swift.abs(dt)), fixedStep: dt)
            self.maxSteps = maxSteps ?? Int.max
        case .adaptive(let settings):
            try settings.validate(for: method)
            snap = timeSnap(near: scale, fixedStep: nil)
            self.maxSteps = maxSteps ?? 1_000_000
        }
        var saveTimes: [Scalar] = []
        if case .times(let requested) = saveAt {
            saveTimes.reserveCapacity(requested.count)
            for (index, time) in requested.enumerated() {
                guard time.isFinite else { throw .nonFiniteTime("output time \(index)") }
                var t = time
                if Swift.abs(t - t0) <= snap { t = t0 }
                if Swift.abs(t - t1) <= snap { t = t1 }
                if direction * (t - t0) < 0 || direction * (t1 - t) < 0 {
                    throw .outputTimeOutsideSpan(index: index, time: Double(time), from: Double(t0), to: Double(t1))
                }
                if let previous = saveTimes.last {
                    if t == previous { throw .duplicateOutputTime(index: index, time: Double(time)) }
                    if direction * (t - previous) < 0 {
                        throw .outputTimesNotMonotonic(index: index, previous: Double(previous), time: Double(time))
                    }
                }
                saveTimes.append(t)
            }
        }
        self.t0 = t0
        self.t1 = t1
        self.direction = direction
        self.snap = snap
        self.saveTimes = saveTimes
        self.saveSteps = saveAt == .steps
    }

    /// The output times of a solve over an empty span (t0 == t1).
    @usableFromInline
    package func outputTimes(_ saveAt: SaveAt<Scalar>) -> [Scalar] {
        switch saveAt {
        case .final, .steps: return [t1]
        case .times: return saveTimes
        }
    }
}

/// The smallest fixed step that times near `scale` resolve: 16 ulps, 16 · ε · |t| (the smallest
/// normal number stands in for a `scale` below it).
@inlinable
package func minimumFixedStep<Scalar: TensorScalar>(near scale: Scalar) -> Scalar {
    16 * Scalar.ulpOfOne * Swift.max(Swift.abs(scale), Scalar.leastNormalMagnitude)
}

/// Times closer than this are the same point: 64 ulps at `scale`, and with fixed steps at most an
/// eighth of the step, so that distinct grid points are never merged.
@inlinable
package func timeSnap<Scalar: TensorScalar>(near scale: Scalar, fixedStep: Scalar?) -> Scalar {
    let snap = 64 * Scalar.ulpOfOne * Swift.max(Swift.abs(scale), Scalar.leastNormalMagnitude)
    guard let fixedStep else { return snap }
    return Swift.min(snap, Swift.abs(fixedStep) / 8)
}
