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
/// With ``Tensor`` states every step is recorded when the state or the field's parameters are: the
/// gradient of a loss on the solution flows back to the initial state and the parameters
/// (discretize-then-optimize; exact for the computed trajectory).
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
///   - truncatedBackpropagation: with fixed steps, let gradients flow back through only the last
///     this many steps (truncated backpropagation through time, Keras' `truncate_gradient`): the state
///     is detached k·|Δt| before the end. Nil (the default) backpropagates through every step.
/// - Returns: the solution. A solve that stops early — a non-finite state, an underflowing step, an
///   exhausted budget — returns normally with ``Solution/status`` saying why and the trajectory up
///   to that point; call ``Solution/checked()`` to turn that into an error.
/// - Throws: ``SolveError`` for invalid inputs, before integrating.
@inlinable
public func solve<Field: VectorField>(
    _ field: Field, initialState: Field.State, from t0: Field.State.Scalar, to t1: Field.State.Scalar,
    method: ButcherTableau = .dopri5, step: StepSizeControl<Field.State.Scalar> = .adaptive(),
    saveAt: SaveAt<Field.State.Scalar> = .steps, maxSteps: Int? = nil, truncatedBackpropagation: Int? = nil
) throws(SolveError) -> Solution<Field.State> {
    let plan = try IntegrationPlan(t0: t0, t1: t1, method: method, step: step, saveAt: saveAt, maxSteps: maxSteps)
    if let steps = truncatedBackpropagation {
        guard case .fixed = step.mode else { throw .invalidTruncation("it needs fixed steps") }
        guard steps >= 1 else { throw .invalidTruncation("the number of steps must be at least 1, got \(steps)") }
    }
    guard initialState.isFinite else { throw .nonFiniteInitialState }
    if let name = field.firstNonFiniteParameter() { throw .nonFiniteParameter(name: name) }

    var solution = Solution<Field.State>(initialTime: t0, initialState: initialState)
    if t0 == t1 {
        // Nothing to integrate: every requested output is the initial state.
        for time in plan.outputTimes(saveAt) { solution.save(time, initialState) }
        return solution
    }
    let f0 = field(t0, initialState)
    guard f0.hasSameShape(as: initialState) else {
        throw .shapeMismatch(state: initialState.shapeDescription, derivative: f0.shapeDescription)
    }
    guard f0.isFinite else { throw .nonFiniteInitialDerivative(time: Double(t0)) }

    let stepper = RungeKuttaStepper(method, filler: initialState)
    switch step.mode {
    case .fixed(let dt):
        let cut = truncatedBackpropagation.map { t1 - plan.direction * Field.State.Scalar($0) * Swift.abs(dt) }
        integrateFixed(field, stepper, initialState, f0, plan, dt: dt, detachingAt: cut, into: &solution)
    case .adaptive(let settings):
        integrateAdaptive(field, stepper, method, initialState, f0, plan, settings, into: &solution)
    }
    return solution
}

/// Integrates a closure field; see ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:)``.
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
/// `odeint`-style solvers do; see ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:)``.
///
/// - Precondition: `times` is not empty.
@inlinable
public func solve<Field: VectorField>(
    _ field: Field, initialState: Field.State, times: [Field.State.Scalar],
    method: ButcherTableau = .dopri5, step: StepSizeControl<Field.State.Scalar> = .adaptive(),
    maxSteps: Int? = nil
) throws(SolveError) -> Solution<Field.State> {
    precondition(!times.isEmpty, "solve(times:) needs at least one time")
    return try solve(
        field, initialState: initialState, from: times[0], to: times[times.count - 1], method: method, step: step,
        saveAt: .times(times), maxSteps: maxSteps)
}

// MARK: - Validated inputs

/// The validated span, output times and budget of a solve.
@usableFromInline
package struct IntegrationPlan<Scalar: TensorScalar> {
    @usableFromInline package let t0: Scalar
    @usableFromInline package let t1: Scalar
    /// +1 forward, −1 backward (+1 when t0 == t1).
    @usableFromInline package let direction: Scalar
    /// Times closer than this are the same grid point: 64 ulps at the scale of the span.
    @usableFromInline package let snap: Scalar
    /// Requested output times (for `.times`), snapped onto t0/t1 when within `snap` of them.
    @usableFromInline package let saveTimes: [Scalar]
    @usableFromInline package let saveSteps: Bool
    @usableFromInline package let maxSteps: Int

    @usableFromInline
    package init(
        t0: Scalar, t1: Scalar, method: ButcherTableau, step: StepSizeControl<Scalar>, saveAt: SaveAt<Scalar>,
        maxSteps: Int?
    ) throws(SolveError) {
        guard t0.isFinite else { throw .nonFiniteTime("the start time t0") }
        guard t1.isFinite else { throw .nonFiniteTime("the end time t1") }
        if let maxSteps, maxSteps < 1 { throw .invalidMaxSteps(maxSteps) }
        let direction: Scalar = t1 < t0 ? -1 : 1
        var scale = Swift.max(Swift.abs(t0), Swift.abs(t1))
        switch step.mode {
        case .fixed(let dt):
            guard dt.isFinite else { throw .nonFiniteTime("the step size") }
            guard dt != 0 else { throw .zeroStepSize }
            if t0 != t1 && (dt > 0) != (t1 > t0) {
                throw .stepSizeWrongDirection(stepSize: Double(dt), from: Double(t0), to: Double(t1))
            }
            scale = Swift.max(scale, Swift.abs(dt))
            self.maxSteps = maxSteps ?? Int.max
        case .adaptive(let settings):
            guard method.isAdaptive else { throw .methodNotAdaptive(method: method.name) }
            let (rtol, atol) = (settings.rtol, settings.atol)
            guard rtol.isFinite, atol.isFinite, rtol >= 0, atol >= 0, rtol > 0 || atol > 0 else {
                throw .invalidTolerance(rtol: Double(rtol), atol: Double(atol))
            }
            guard settings.minStep >= 0, settings.minStep.isFinite else {
                throw .invalidStepBounds("minStep must be finite and ≥ 0, got \(settings.minStep)")
            }
            guard settings.maxStep > 0, settings.maxStep >= settings.minStep else {
                throw .invalidStepBounds("maxStep (\(settings.maxStep)) must be > 0 and ≥ minStep (\(settings.minStep))")
            }
            if let initial = settings.initialStep, !(initial.isFinite && initial != 0) {
                throw .invalidStepBounds("initialStep must be finite and nonzero, got \(initial)")
            }
            self.maxSteps = maxSteps ?? 1_000_000
        }
        let snap = 64 * Scalar.ulpOfOne * Swift.max(scale, Scalar.leastNormalMagnitude)
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

// MARK: - Fixed grid

/// Steps on the grid t₀ + nΔt from stop to stop (the requested output times, then t₁). Between two
/// stops, the full grid steps are counted first and taken by a tight loop; a stop that is not a grid
/// point is reached by one partial step, and the next step completes the grid step it split.
@inlinable
package func integrateFixed<Field: VectorField>(
    _ field: Field, _ stepper: RungeKuttaStepper<Field.State>, _ y0: Field.State, _ f0: Field.State,
    _ plan: IntegrationPlan<Field.State.Scalar>, dt: Field.State.Scalar, detachingAt cut: Field.State.Scalar?,
    into solution: inout Solution<Field.State>
) {
    typealias Scalar = Field.State.Scalar
    typealias State = Field.State
    let (t0, t1, direction, snap) = (plan.t0, plan.t1, plan.direction, plan.snap)
    let saveSteps = plan.saveSteps
    var stops = plan.saveTimes
    if stops.first == t0 {
        solution.save(t0, y0)
        stops.removeFirst()
    } else if saveSteps {
        solution.save(t0, y0)
    }
    let keepsStops = !stops.isEmpty
    if stops.last != t1 { stops.append(t1) }

    var t = t0
    var y = y0
    var slope: State? = f0  // f(t, y) when known (the first step, and after FSAL steps)
    var gridIndex = 0  // the last grid point passed
    var onGrid = true  // whether t is that grid point
    var accepted = 0
    var rejected = 0
    var evaluations = 1  // f0
    let newEvaluations = stepper.stageCount - 1
    var status = SolveStatus<Scalar>.success
    var detachPending = cut != nil

    /// One step of size h to the time `next`; false when it produced a non-finite state.
    @inline(__always)
    func advance(_ h: Scalar, to next: Scalar) -> Bool {
        if detachPending, let cut, direction * (t - cut) >= -snap {
            // Truncated backpropagation: gradients stop here (the state and the carried slope).
            y = y.withoutDerivative
            slope = slope?.withoutDerivative
            detachPending = false
        }
        let k0: State
        if let slope {
            k0 = slope
        } else {
            k0 = field(t, y)
            evaluations += 1
        }
        let (y1, last) = stepper.step(field, t, y, h, k0)
        evaluations += newEvaluations
        guard y1.isFinite else {
            status = .nonFiniteState(time: t, stepSize: h)
            rejected += 1
            return false
        }
        accepted += 1
        t = next
        y = y1
        slope = stepper.isFSAL ? last : nil
        if saveSteps { solution.save(t, y) }
        return true
    }

    stopLoop: for stop in stops {
        // Grid points strictly before the stop (beyond 64 ulps), and whether the stop is a grid point.
        let estimate = Swift.min(((stop - t0) / dt).rounded(.down), 1e15)  // Int(_:) would trap beyond Int.max
        var lastBefore = Swift.max(gridIndex, Int(estimate) - 1)
        while direction * (stop - (t0 + Scalar(lastBefore + 1) * dt)) > snap { lastBefore += 1 }
        while lastBefore > gridIndex && direction * (stop - (t0 + Scalar(lastBefore) * dt)) <= snap { lastBefore -= 1 }
        let stopIsGridPoint = Swift.abs(t0 + Scalar(lastBefore + 1) * dt - stop) <= snap

        if lastBefore > gridIndex && !onGrid {
            // Complete the grid step that the previous stop split.
            let next = t0 + Scalar(gridIndex + 1) * dt
            guard advance(next - t, to: next) else { break stopLoop }
            gridIndex += 1
            onGrid = true
        }
        while gridIndex < lastBefore {
            if accepted + rejected >= plan.maxSteps {
                status = .maxStepsExceeded(time: t, steps: accepted + rejected)
                break stopLoop
            }
            guard advance(dt, to: t0 + Scalar(gridIndex + 1) * dt) else { break stopLoop }
            gridIndex += 1
        }
        if accepted + rejected >= plan.maxSteps {
            status = .maxStepsExceeded(time: t, steps: accepted + rejected)
            break stopLoop
        }
        // Onto the stop: a full step if it is the next grid point, otherwise a partial one.
        let fullStep = stopIsGridPoint && onGrid
        guard advance(fullStep ? dt : stop - t, to: stop) else { break stopLoop }
        if stopIsGridPoint {
            gridIndex += 1
            onGrid = true
        } else {
            onGrid = false
        }
        if keepsStops && !saveSteps && (stop != t1 || plan.saveTimes.last == t1) { solution.save(t, y) }
    }

    var statistics = SolveStatistics()
    statistics.acceptedSteps = accepted
    statistics.rejectedSteps = rejected
    statistics.evaluations = evaluations
    if status == .success, !saveSteps, plan.saveTimes.isEmpty { solution.save(t, y) }
    solution.finish(at: t, y, status, statistics)
}

// MARK: - Adaptive

@inlinable
package func integrateAdaptive<Field: VectorField>(
    _ field: Field, _ stepper: RungeKuttaStepper<Field.State>, _ method: ButcherTableau, _ y0: Field.State,
    _ f0: Field.State, _ plan: IntegrationPlan<Field.State.Scalar>, _ settings: AdaptiveStepping<Field.State.Scalar>,
    into solution: inout Solution<Field.State>
) {
    typealias Scalar = Field.State.Scalar
    let (t0, t1, direction, snap) = (plan.t0, plan.t1, plan.direction, plan.snap)
    let (rtol, atol) = (settings.rtol, settings.atol)
    let errorOrder = Swift.min(method.order, method.embeddedOrder) + 1
    let controller = settings.controller
    let saveTimes = plan.saveTimes
    var saveIndex = 0
    if plan.saveSteps {
        solution.save(t0, y0)
    } else if saveIndex < saveTimes.count && saveTimes[0] == t0 {
        solution.save(t0, y0)
        saveIndex = 1
    }
    var evaluations = 1  // f0
    let magnitude =
        settings.initialStep.map { Swift.abs($0) }
        ?? settings.automaticInitialStep(
            field, t0: t0, y0: y0, f0: f0, direction: direction, order: errorOrder - 1, evaluations: &evaluations)
    var h = direction * Swift.min(Swift.max(magnitude, settings.minStep), settings.maxStep)
    var t = t0
    var y = y0
    var slope = f0
    var logPreviousError: Scalar = 0  // log(errₙ₋₁), starting from err = 1
    var accepted = 0
    var rejected = 0
    var lastFailureWasNonFinite = false
    var status = SolveStatus<Scalar>.success
    let newEvaluations = stepper.stageCount - 1

    while t != t1 {
        if accepted + rejected >= plan.maxSteps {
            status = .maxStepsExceeded(time: t, steps: accepted + rejected)
            break
        }
        var isLast = false
        if direction * (t + h - t1) >= -snap {
            h = t1 - t
            isLast = true
        }
        let (y1, last) = stepper.step(field, t, y, h, slope)
        evaluations += newEvaluations
        // err² (the squared scaled RMS norm): err ≤ 1 ⟺ err² ≤ 1, and log err = ½ log err².
        let squaredError = y1.isFinite ? stepper.squaredErrorNorm(h, y, y1, rtol: rtol, atol: atol) : .nan
        if squaredError.isFinite && squaredError <= 1 {
            accepted += 1
            lastFailureWasNonFinite = false
            let tNew = isLast ? t1 : t + h
            // Dense output for the requested times inside this step.
            var endSlope: Field.State? = stepper.isFSAL ? last : nil
            while saveIndex < saveTimes.count && direction * (saveTimes[saveIndex] - tNew) <= 0 {
                let time = saveTimes[saveIndex]
                if time == tNew {
                    solution.save(time, y1)
                } else {
                    if endSlope == nil {
                        endSlope = field(tNew, y1)
                        evaluations += 1
                    }
                    solution.save(time, stepper.interpolate(y, h, (time - t) / h, endSlope: endSlope!))
                }
                saveIndex += 1
            }
            t = tNew
            y = y1
            if plan.saveSteps { solution.save(t, y) }
            if t != t1 {
                if let endSlope {
                    slope = endSlope
                } else {
                    slope = field(t, y)
                    evaluations += 1
                }
            }
            // err = 0 (an exactly representable step) grows the step as much as allowed.
            let logError = squaredError > 0 ? Scalar.log(squaredError) / 2 : -Scalar.infinity
            h *= controller.factor(
                logError: logError, logPreviousError: logPreviousError, errorOrder: errorOrder, accepted: true)
            logPreviousError = Swift.max(logError, Scalar.log(1e-4))
        } else {
            rejected += 1
            lastFailureWasNonFinite = !squaredError.isFinite
            if settings.minStep > 0 && Swift.abs(h) <= settings.minStep {
                // A step of the minimum size still failed: stop rather than go below it.
                status =
                    lastFailureWasNonFinite
                    ? .nonFiniteState(time: t, stepSize: h) : .stepSizeUnderflow(time: t, stepSize: h)
                break
            }
            h *=
                squaredError.isFinite
                ? controller.factor(
                    logError: Scalar.log(squaredError) / 2, logPreviousError: logPreviousError,
                    errorOrder: errorOrder, accepted: false)
                : Scalar(controller.minFactor)
        }
        h = direction * Swift.min(Swift.max(Swift.abs(h), settings.minStep), settings.maxStep)
        if Swift.abs(h) <= 16 * Scalar.ulpOfOne * Swift.max(Swift.abs(t), Scalar.leastNormalMagnitude) {
            status =
                lastFailureWasNonFinite ? .nonFiniteState(time: t, stepSize: h) : .stepSizeUnderflow(time: t, stepSize: h)
            break
        }
    }
    var statistics = SolveStatistics()
    statistics.acceptedSteps = accepted
    statistics.rejectedSteps = rejected
    statistics.evaluations = evaluations
    if status == .success, !plan.saveSteps, saveTimes.isEmpty { solution.save(t, y) }
    solution.finish(at: t, y, status, statistics)
}
