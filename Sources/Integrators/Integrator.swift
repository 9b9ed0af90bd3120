import RNNODETensors

/// An integration in progress: the library's one explicit Runge–Kutta integrator, kept alive between
/// calls. Every ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``
/// runs one, and a recurrent layer keeps one across its input intervals.
///
/// Make it at a time and state, then advance it to later times; it lands on each target exactly.
/// With adaptive steps the step-size controller carries over from one ``advance(to:)`` to the next
/// (the initial-step probe runs once, at the first step), and a step shortened to land on a target
/// does not shrink the steps after it. With fixed steps the grid t₀ + nΔt is kept across targets: a
/// target between grid points is reached by a partial step, and the next step completes the grid
/// step it split (see ``StepSizeControl/fixed(_:)``).
///
/// ```swift
/// let decay = FieldClosure<Double> { _, y in -y }
/// let integrator = try Integrator(decay, initialState: 1, time: 0, method: .dopri5,
///                                 step: .adaptive(rtol: 1e-8, atol: 1e-10))
/// for t in [0.5, 1.0, 2.0] {
///     try integrator.advance(to: t)
///     print(integrator.time, integrator.state)     // e^(−t)
/// }
/// ```
///
/// The ``field`` can be replaced between advances (a new input held over the next interval, say);
/// the integrator then evaluates the new field at the current state before its next step. Failures
/// of the integration itself — a non-finite state, an underflowing step, an exhausted budget — end
/// it: ``status`` says why, ``state`` and ``time`` hold the last finite state, and later advances
/// return the same status without stepping.
public final class Integrator<Field: VectorField> {
    public typealias State = Field.State
    public typealias Scalar = Field.State.Scalar

    /// The vector field. Replacing it discards the derivative cached at the current state (and an
    /// implicit method's Jacobian).
    public var field: Field {
        didSet {
            slope = nil
            stepper.implicit?.invalidate()
            stepper.denseStep = nil
        }
    }
    /// The Runge–Kutta method: explicit, diagonally implicit or Rosenbrock.
    public let method: ButcherTableau
    /// The Jacobian and Newton settings of implicit and Rosenbrock methods.
    public let implicitSettings: ImplicitSolverSettings
    /// Fixed or adaptive steps.
    public let stepControl: StepSizeControl<Scalar>
    /// The step budget (accepted plus rejected steps) over the integrator's life.
    public let maxSteps: Int
    /// The time the integration has reached.
    @inlinable public var time: Scalar { currentTime }
    /// The state at ``time``: always finite.
    @inlinable public var state: State { currentState }
    /// Steps, evaluations and (implicit methods) the linear algebra so far.
    @inlinable public var statistics: SolveStatistics {
        var statistics = counts
        for implicit in [stepper.implicit, otherStepper?.implicit] {
            guard let implicit else { continue }
            statistics.evaluations += implicit.evaluations
            statistics.jacobians += implicit.jacobians
            statistics.factorizations += implicit.factorizations
            statistics.linearSolves += implicit.linearSolves
            statistics.newtonIterations += implicit.newtonIterations
            statistics.newtonFailures += implicit.newtonFailures
        }
        return statistics
    }
    /// ``SolveStatus/success`` while the integration can go on; otherwise why it stopped.
    @inlinable public var status: SolveStatus<Scalar> { currentStatus }

    @usableFromInline package var currentTime: Scalar
    @usableFromInline package var currentState: State
    @usableFromInline package var counts = SolveStatistics()
    @usableFromInline package var currentStatus: SolveStatus<Scalar> = .success

    /// The stepper of the method in use.
    @usableFromInline package var stepper: RungeKuttaStepper<State>
    /// Automatic switching (``ButcherTableau/automatic(_:stiff:)``): the stepper of the other method.
    @usableFromInline package var otherStepper: RungeKuttaStepper<State>?
    /// Automatic switching: accepted steps counted toward a switch, steps since the last stiff one,
    /// and whether a switch is due before the next step.
    @usableFromInline package var switchCount = 0
    @usableFromInline package var calmSteps = 0
    @usableFromInline package var switchPending = false
    /// f(time, state) when known: after init, after FSAL steps, after dense output needed it.
    @usableFromInline package var slope: State?
    /// +1 or −1 once the direction is known (fixed steps: from the step's sign; adaptive: from the
    /// first target), 0 before.
    @usableFromInline package var direction: Scalar
    // Fixed steps: the grid t₀ + nΔt.
    @usableFromInline package let gridOrigin: Scalar
    @usableFromInline package var gridIndex = 0
    /// Whether ``time`` is grid point ``gridIndex``.
    @usableFromInline package var onGrid = true
    // Adaptive steps.
    /// The signed size of the next step (nil before the first step: the initial step is chosen then).
    @usableFromInline package var proposedStep: Scalar?
    /// log(errₙ₋₁) for the PI controller, starting from err = 1.
    @usableFromInline package var logPreviousError: Scalar = 0
    // The last step, for dense output.
    @usableFromInline package var previousTime: Scalar
    @usableFromInline package var previousState: State
    /// Times within this distance are the same point (64 ulps at the scale of the times involved, at
    /// most an eighth of a fixed step, by default); solve sets it from its whole span.
    @usableFromInline package var timeTolerance: Scalar?
    /// With fixed steps, the time at which the state is detached from the tape (truncated
    /// backpropagation); nil for none.
    @usableFromInline package var detachTime: Scalar?
    /// Set by an `onStep` observer to end the current advance after the step it observed (events);
    /// the observer's owner clears it.
    @usableFromInline package var stopRequested = false
    /// The signed size h of the last accepted step, as passed to the method (t + h need not equal the
    /// step's end time in floating point): what a checkpointed gradient replays.
    @usableFromInline package var lastStepSize: Scalar = 0

    /// An integrator of `field` starting from `initialState` at `time`.
    ///
    /// Evaluates the field once, at the initial state, to check it.
    ///
    /// - Parameters:
    ///   - step: fixed or adaptive steps (adaptive needs a method with an error estimate).
    ///   - maxSteps: the step budget; by default unlimited for fixed steps and 1,000,000 for adaptive ones.
    ///   - implicit: the Jacobian's structure and the Newton settings of implicit and Rosenbrock
    ///     methods (ignored by explicit ones).
    /// - Throws: ``SolveError`` for a non-finite time, state or parameter, invalid step settings, a
    ///   derivative of the wrong shape, or a non-finite derivative at the initial state; for implicit
    ///   methods also a state that does not expose its components and invalid implicit settings.
    @inlinable
    public init(
        _ field: Field, initialState: State, time: Scalar, method: ButcherTableau = .dopri5,
        step: StepSizeControl<Scalar> = .adaptive(), maxSteps: Int? = nil,
        implicit: ImplicitSolverSettings = ImplicitSolverSettings()
    ) throws(SolveError) {
        guard time.isFinite else { throw .nonFiniteTime("the start time t0") }
        if let maxSteps, maxSteps < 1 { throw .invalidMaxSteps(maxSteps) }
        switch step.mode {
        case .fixed(let dt):
            guard dt.isFinite else { throw .nonFiniteTime("the step size") }
            guard dt != 0 else { throw .zeroStepSize }
            direction = dt > 0 ? 1 : -1
            self.maxSteps = maxSteps ?? Int.max
        case .adaptive(let settings):
            try settings.validate(for: method)
            direction = 0
            proposedStep = settings.initialStep.map { Swift.min(Swift.max(Swift.abs($0), settings.minStep), settings.maxStep) }
            self.maxSteps = maxSteps ?? 1_000_000
        }
        guard initialState.isFinite else { throw .nonFiniteInitialState }
        if let name = field.firstNonFiniteParameter() { throw .nonFiniteParameter(name: name) }
        if method.isImplicit || method.stiffAlternative != nil {
            guard let n = initialState.componentCount else {
                throw .componentsUnavailable(state: initialState.shapeDescription, method: method.name)
            }
            try implicit.validate(dimension: n)
        }
        if method.stiffAlternative != nil, !step.isAdaptive {
            throw .unsupportedMethod("\(method.name) switches methods by their error estimates and needs adaptive steps")
        }
        let f0 = field(time, initialState)
        guard f0.hasSameShape(as: initialState) else {
            throw .shapeMismatch(state: initialState.shapeDescription, derivative: f0.shapeDescription)
        }
        guard f0.isFinite else { throw .nonFiniteInitialDerivative(time: Double(time)) }
        if method.kind == .rosenbrock || method.stiffAlternative?.kind == .rosenbrock,
            initialState.isRecorded || f0.isRecorded
        {
            throw .unsupportedMethod(
                "\(method.name) cannot be differentiated: a Rosenbrock step's Jacobian depends on the state and the parameters, so its gradient needs second derivatives of f. For gradients through a stiff solve use a diagonally implicit method (.kvaerno5, .kenCarp4: exact, by the implicit function theorem at the converged stages) or solve(…, gradients: .interpolatingAdjoint); or detach the inputs"
            )
        }
        self.field = field
        self.method = method
        self.implicitSettings = implicit
        self.stepControl = step
        self.currentTime = time
        self.currentState = initialState
        gridOrigin = time
        previousTime = time
        previousState = initialState
        slope = f0
        counts.evaluations = 1
        stepper = RungeKuttaStepper(method, filler: initialState, implicit: implicit)
        otherStepper = method.stiffAlternative.map { RungeKuttaStepper($0, filler: initialState, implicit: implicit) }
        for stepper in [stepper, otherStepper] {
            guard let stepper else { continue }
            if case .adaptive(let settings) = step.mode, let workspace = stepper.implicit {
                (workspace.rtol, workspace.atol) = (settings.rtol, settings.atol)
            } else if !step.isAdaptive {
                stepper.estimatesError = false
            }
        }
    }

    /// Whether automatic switching has handed the integration to the stiff method.
    @inlinable public var isUsingStiffMethod: Bool { stepper.implicit != nil }

    /// Swaps the explicit and the stiff method (automatic switching), keeping the state, the slope
    /// f(t, y) and the step-size controller.
    @inlinable
    package func switchMethods() {
        guard let other = otherStepper else { return }
        otherStepper = stepper
        stepper = other
        stepper.implicit?.invalidate()
        (switchCount, calmSteps, switchPending) = (0, 0, false)
        counts.methodSwitches += 1
    }

    /// Automatic switching, after an accepted step of size `h` whose stiffness ratio (explicit
    /// methods) is `ratio`, with `next` the step proposed after it.
    @inlinable
    package func countTowardSwitch(ratio: Scalar?, next: Scalar) {
        guard let other = otherStepper else { return }
        if let workspace = stepper.implicit {
            // Stiff: could the explicit method take this step stably?
            let boundary = other.compiled.stabilityBoundary
            if Swift.abs(next) * workspace.jacobianNorm <= boundary / 2 {
                switchCount += 1
            } else {
                switchCount = 0
            }
        } else if let ratio {
            if ratio >= Scalar(stiffnessThreshold) {
                switchCount += 1
                calmSteps = 0
            } else {
                calmSteps += 1
                if calmSteps >= 6 { switchCount = 0 }
            }
        }
        if switchCount >= 15 { switchPending = true }
    }

    /// Integrates to `target`, landing on it exactly, and returns ``status``.
    ///
    /// A target equal to ``time`` does nothing. Once the integration has failed, returns the failure
    /// without stepping.
    ///
    /// - Throws: ``SolveError/nonFiniteTime(_:)`` for a non-finite target (or span to it, or a NaN
    ///   adaptive step: the automatic initial step is NaN when the tolerances are too small for the
    ///   state's magnitude), ``SolveError/targetBehind(target:time:)`` for one that lies against the
    ///   direction of integration (behind the current time, or against the fixed step's sign), and
    ///   ``SolveError/stepBelowTimeResolution(stepSize:time:)`` for a fixed step below 16 ulps of the
    ///   times it steps between (checked before stepping, so the number of grid points to the target
    ///   is bounded).
    @inlinable @discardableResult
    public func advance(to target: Scalar) throws(SolveError) -> SolveStatus<Scalar> {
        try advance(to: target, observingSteps: false) { _ in }
    }

    /// ``advance(to:)``, calling `onStep` after every accepted step when `observingSteps` (``time``,
    /// ``state`` and ``interpolate(at:)`` then describe that step), else only after the last one.
    @inlinable @discardableResult
    package func advance(
        to target: Scalar, observingSteps: Bool, onStep: (Integrator) -> Void
    ) throws(SolveError) -> SolveStatus<Scalar> {
        guard target.isFinite else { throw .nonFiniteTime("the target time") }
        guard status == .success, target != time else { return status }
        if direction == 0 { direction = target > time ? 1 : -1 }
        guard direction * (target - time) > 0 else {
            throw .targetBehind(target: Double(target), time: Double(time))
        }
        switch stepControl.mode {
        case .fixed(let dt):
            // Before any grid scan: the step must be resolved by the times it steps between, which
            // bounds the number of grid points to the target.
            guard (target - gridOrigin).isFinite else { throw .nonFiniteTime("the span from the start to the target") }
            let scale = Swift.max(Swift.max(Swift.abs(gridOrigin), Swift.abs(target)), Swift.abs(time))
            guard Swift.abs(dt) >= minimumFixedStep(near: scale) else {
                throw .stepBelowTimeResolution(stepSize: Double(dt), time: Double(scale))
            }
            advanceFixed(to: target, dt: dt, observingSteps: observingSteps, onStep: onStep)
        case .adaptive(let settings):
            try advanceAdaptive(to: target, settings, observingSteps: observingSteps, onStep: onStep)
        }
        return status
    }

    /// Replaces the state without stepping: a state changed from outside (a masked update, a
    /// detached copy). The step-size controller and the fixed grid are kept; the cached derivative is
    /// discarded.
    ///
    /// - Precondition: `state` has the current state's shape and is finite.
    @inlinable
    public func reset(state: State) {
        require(state.hasSameShape(as: self.state), "Integrator.reset: the state's shape changed")
        require(state.isFinite, "Integrator.reset: the new state is not finite")
        self.currentState = state
        previousTime = time
        previousState = state
        slope = nil
        stepper.implicit?.invalidate()
    }

    /// Rewinds to `t` inside the last step and continues from `state` there (an event with a state
    /// reset: the part of the step beyond `t` is discarded). The step-size controller is kept and the
    /// cached derivative discarded; with fixed steps the grid is kept, and the next step completes the
    /// grid step that `t` splits.
    ///
    /// - Precondition: `t` lies within the last step; `state` has the current state's shape and is finite.
    @inlinable
    package func restart(at t: Scalar, state: State) {
        require(
            (t - previousTime) * (t - time) <= 0,
            "Integrator.restart: \(t) lies outside the last step [\(previousTime), \(time)]")
        require(state.hasSameShape(as: self.state), "Integrator.restart: the state's shape changed")
        require(state.isFinite, "Integrator.restart: the new state is not finite")
        if t != time, case .fixed(let dt) = stepControl.mode {
            // A step never crosses a grid point: the last one lies in the grid interval ending at the
            // grid point `gridIndex` (if it ended on it) or starting there.
            if onGrid { gridIndex -= 1 }
            onGrid = t == gridOrigin + Scalar(gridIndex) * dt
        }
        (currentTime, currentState) = (t, state)
        (previousTime, previousState) = (t, state)
        slope = nil
    }

    /// The dense output within the last step: the state at `t` between the step's start and
    /// ``time``, from the method's interpolant (cubic Hermite for methods without one). May evaluate
    /// the field once at the current state (that derivative is then reused by the next step), and,
    /// for a method with dense-output stages (``ButcherTableau/dop853``, ``ButcherTableau/vern7``),
    /// those stages on the first interpolation within a step (counted in ``statistics``).
    ///
    /// - Precondition: `t` lies within the last step.
    @inlinable
    public func interpolate(at t: Scalar) -> State {
        let h = time - previousTime
        if t == time || h == 0 { return state }
        require(
            (t - previousTime) * (t - time) <= 0,
            "Integrator.interpolate: \(t) lies outside the last step [\(previousTime), \(time)]")
        let endSlope = currentSlope()
        return stepper.interpolate(
            field, previousTime, previousState, h, (t - previousTime) / h, endSlope: endSlope,
            evaluations: &counts.evaluations)
    }

    /// f(time, state), evaluated (and counted) if not known.
    @inlinable
    package func currentSlope() -> State {
        if let slope { return slope }
        let value = field(time, state)
        counts.evaluations += 1
        slope = value
        return value
    }

    /// Times closer than this are the same point.
    @inlinable
    package func tolerance(near target: Scalar, _ dt: Scalar = 0) -> Scalar {
        if let timeTolerance { return timeTolerance }
        let scale = Swift.max(
            Swift.max(Swift.abs(gridOrigin), Swift.abs(target)), Swift.max(Swift.abs(time), Swift.abs(dt)))
        return timeSnap(near: scale, fixedStep: dt == 0 ? nil : dt)
    }

    // MARK: - Fixed grid

    /// Steps on the grid t₀ + nΔt to `stop`: the full grid steps before it are counted first and
    /// taken by a tight loop (on locals, written back once); a stop that is not a grid point is
    /// reached by one partial step, and the next step completes the grid step it split.
    @inlinable
    package func advanceFixed(to stop: Scalar, dt: Scalar, observingSteps: Bool, onStep: (Integrator) -> Void) {
        let (t0, direction, snap) = (gridOrigin, direction, tolerance(near: stop, dt))
        // Implicit methods count their own evaluations.
        let newEvaluations = stepper.implicit == nil ? stepper.stageCount - 1 : 0
        var counted = counts.steps  // the steps already in the statistics
        var t = time
        var y = state
        var slope = self.slope
        var gridIndex = self.gridIndex
        var onGrid = self.onGrid
        var (previous, previousY) = (previousTime, previousState)
        var accepted = 0
        var rejected = 0
        var evaluations = 0
        var status = SolveStatus<Scalar>.success
        var lastH = lastStepSize
        let cut = detachTime
        var detachPending = cut != nil

        /// One step of size h to the time `next`; false when it produced a non-finite state.
        @inline(__always)
        func step(_ h: Scalar, to next: Scalar) -> Bool {
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
            if stepper.stepFailed {
                status = .implicitStageFailed(time: t, stepSize: h)
                rejected += 1
                return false
            }
            guard y1.isFinite else {
                status = .nonFiniteState(time: t, stepSize: h)
                rejected += 1
                return false
            }
            stepper.implicit?.stepAccepted()
            accepted += 1
            lastH = h
            (previous, previousY) = (t, y)
            t = next
            y = y1
            slope = stepper.isFSAL ? last : nil
            return true
        }

        /// Writes the locals back (before `onStep` reads them, and at the end).
        @inline(__always)
        func commit() {
            (currentTime, currentState, self.slope) = (t, y, slope)
            (self.gridIndex, self.onGrid) = (gridIndex, onGrid)
            (previousTime, previousState) = (previous, previousY)
            lastStepSize = lastH
            counts.acceptedSteps += accepted
            counts.rejectedSteps += rejected
            counts.evaluations += evaluations
            counted += accepted + rejected
            (accepted, rejected, evaluations) = (0, 0, 0)
        }

        stopLoop: do {
            // Grid points strictly before the stop (beyond `snap`), and whether the stop is a grid point.
            let estimate = Swift.min(((stop - t0) / dt).rounded(.down), 1e15)  // Int(_:) would trap beyond Int.max
            var lastBefore = Swift.max(gridIndex, Int(estimate) - 1)
            while direction * (stop - (t0 + Scalar(lastBefore + 1) * dt)) > snap { lastBefore += 1 }
            while lastBefore > gridIndex && direction * (stop - (t0 + Scalar(lastBefore) * dt)) <= snap { lastBefore -= 1 }
            let stopIsGridPoint = Swift.abs(t0 + Scalar(lastBefore + 1) * dt - stop) <= snap

            if lastBefore > gridIndex && !onGrid {
                // Complete the grid step that the previous stop split.
                let next = t0 + Scalar(gridIndex + 1) * dt
                guard step(next - t, to: next) else { break stopLoop }
                gridIndex += 1
                onGrid = true
                if observingSteps {
                    commit()
                    onStep(self)
                    if stopRequested { break stopLoop }
                }
            }
            while gridIndex < lastBefore {
                if counted + accepted + rejected >= maxSteps {
                    status = .maxStepsExceeded(time: t, steps: counted + accepted + rejected)
                    break stopLoop
                }
                guard step(dt, to: t0 + Scalar(gridIndex + 1) * dt) else { break stopLoop }
                gridIndex += 1
                if observingSteps {
                    commit()
                    onStep(self)
                    if stopRequested { break stopLoop }
                }
            }
            if counted + accepted + rejected >= maxSteps {
                status = .maxStepsExceeded(time: t, steps: counted + accepted + rejected)
                break stopLoop
            }
            // Onto the stop: a full step if it is the next grid point, otherwise a partial one.
            let fullStep = stopIsGridPoint && onGrid
            guard step(fullStep ? dt : stop - t, to: stop) else { break stopLoop }
            if stopIsGridPoint {
                gridIndex += 1
                onGrid = true
            } else {
                onGrid = false
            }
            commit()
            onStep(self)
        }
        if status != .success { commit() }
        if !detachPending { detachTime = nil }
        self.currentStatus = status
    }

    // MARK: - Adaptive steps

    /// Error-controlled steps to `stop`, the last one shortened to land on it (on locals, written
    /// back once).
    @inlinable
    package func advanceAdaptive(
        to stop: Scalar, _ settings: AdaptiveStepping<Scalar>, observingSteps: Bool, onStep: (Integrator) -> Void
    ) throws(SolveError) {
        let (rtol, atol) = (settings.rtol, settings.atol)
        var errorOrder = stepper.compiled.errorOrder
        let controller = settings.controller
        let direction = self.direction
        let snap = tolerance(near: stop)
        var newEvaluations = stepper.implicit == nil ? stepper.stageCount - 1 : 0
        let newtonFailureFactor = Scalar(implicitSettings.newtonFailureFactor)
        var h: Scalar
        if let proposedStep {
            h = direction * proposedStep
        } else {
            let magnitude = settings.automaticInitialStep(
                field, t0: time, y0: state, f0: currentSlope(), direction: direction, order: errorOrder - 1,
                evaluations: &counts.evaluations)
            guard magnitude.isFinite else {
                throw .nonFiniteTime(
                    "the automatic initial step at t = \(time) (rtol = \(rtol), atol = \(atol): too small for the state)")
            }
            h = direction * Swift.min(Swift.max(magnitude, settings.minStep), settings.maxStep)
        }
        var t = time
        var y = state
        var slope = currentSlope()
        var logPreviousError = self.logPreviousError
        var accepted = 0
        var rejected = 0
        var evaluations = 0
        var counted = counts.steps  // the steps already in the statistics
        var lastFailureWasNonFinite = false
        var status = SolveStatus<Scalar>.success
        var failure: SolveError? = nil
        var stiffSteps = 0
        var lastStiffnessRatio: Scalar? = nil

        while t != stop {
            if counted + accepted + rejected >= maxSteps {
                status = .maxStepsExceeded(time: t, steps: counted + accepted + rejected)
                break
            }
            if switchPending {
                switchMethods()
                errorOrder = stepper.compiled.errorOrder
                newEvaluations = stepper.implicit == nil ? stepper.stageCount - 1 : 0
            }
            // A step shortened to land on the stop leaves the controller as it was before it.
            var unshortened: (step: Scalar, logError: Scalar)? = nil
            if direction * (t + h - stop) >= -snap {
                unshortened = (h, logPreviousError)
                h = stop - t
            }
            let (y1, last) = stepper.step(field, t, y, h, slope)
            evaluations += newEvaluations
            // err² (the squared scaled RMS norm): err ≤ 1 ⟺ err² ≤ 1, and log err = ½ log err².
            let implicitFailure = stepper.stepFailed
            let squaredError =
                !implicitFailure && y1.isFinite ? stepper.squaredErrorNorm(h, y, y1, rtol: rtol, atol: atol) : .nan
            if squaredError.isFinite && squaredError <= 1 {
                accepted += 1
                lastFailureWasNonFinite = false
                var ratio: Scalar? = nil
                if let workspace = stepper.implicit {
                    workspace.stepAccepted()
                } else if let estimate = stepper.stiffnessRatio(h, y, y1) {
                    // Hairer's test: the step is at the explicit method's stability limit.
                    ratio = estimate
                    lastStiffnessRatio = estimate
                    if estimate >= Scalar(stiffnessThreshold) { stiffSteps += 1 }
                }
                let tNew = unshortened == nil ? t + h : stop
                let fsal: State? = stepper.isFSAL ? last : nil
                if observingSteps || tNew == stop {
                    lastStepSize = h
                    (previousTime, previousState) = (t, y)
                    (currentTime, currentState, self.slope) = (tNew, y1, fsal)
                    counts.acceptedSteps += accepted
                    counts.rejectedSteps += rejected
                    counts.evaluations += evaluations
                    counted += accepted + rejected
                    (accepted, rejected, evaluations) = (0, 0, 0)
                    onStep(self)
                    if stopRequested {
                        t = tNew
                        break
                    }
                }
                t = tNew
                y = y1
                if t != stop {
                    if let fsal {
                        slope = fsal
                    } else if observingSteps {
                        slope = currentSlope()  // perhaps evaluated already by the dense output
                    } else {
                        slope = field(t, y)
                        evaluations += 1
                    }
                }
                // err = 0 (an exactly representable step) grows the step as much as allowed.
                let logError = squaredError > 0 ? Scalar.log(squaredError) / 2 : -Scalar.infinity
                let grown =
                    h
                    * controller.factor(
                        logError: logError, logPreviousError: logPreviousError, errorOrder: errorOrder, accepted: true)
                if let unshortened {
                    h = direction * Swift.max(Swift.abs(grown), Swift.abs(unshortened.step))
                    logPreviousError = unshortened.logError
                } else {
                    h = grown
                    logPreviousError = Swift.max(logError, Scalar.log(1e-4))
                }
                if otherStepper != nil { countTowardSwitch(ratio: ratio, next: h) }
            } else {
                rejected += 1
                lastFailureWasNonFinite = !squaredError.isFinite && !implicitFailure
                if settings.minStep > 0 && Swift.abs(h) <= settings.minStep {
                    // A step of the minimum size still failed: stop rather than go below it.
                    status =
                        implicitFailure
                        ? .implicitStageFailed(time: t, stepSize: h)
                        : lastFailureWasNonFinite
                            ? .nonFiniteState(time: t, stepSize: h) : .stepSizeUnderflow(time: t, stepSize: h)
                    break
                }
                if implicitFailure {
                    h *= newtonFailureFactor
                } else {
                    h *=
                        squaredError.isFinite
                        ? controller.factor(
                            logError: Scalar.log(squaredError) / 2, logPreviousError: logPreviousError,
                            errorOrder: errorOrder, accepted: false)
                        : Scalar(controller.minFactor)
                }
            }
            h = direction * Swift.min(Swift.max(Swift.abs(h), settings.minStep), settings.maxStep)
            if h.isNaN {
                failure = .nonFiniteTime("the proposed step at t = \(t)")
                break
            }
            if Swift.abs(h) <= 16 * Scalar.ulpOfOne * Swift.max(Swift.abs(t), Scalar.leastNormalMagnitude) {
                status =
                    stepper.stepFailed
                    ? .implicitStageFailed(time: t, stepSize: h)
                    : lastFailureWasNonFinite
                        ? .nonFiniteState(time: t, stepSize: h) : .stepSizeUnderflow(time: t, stepSize: h)
                break
            }
        }
        if t != time {
            // Stopped early: the last accepted state (there is no step to interpolate in).
            (previousTime, previousState) = (t, y)
            (currentTime, currentState, self.slope) = (t, y, slope)
        }
        counts.acceptedSteps += accepted
        counts.rejectedSteps += rejected
        counts.evaluations += evaluations
        counts.stiffSteps += stiffSteps
        if let lastStiffnessRatio { counts.stiffnessRatio = Double(lastStiffnessRatio) }
        proposedStep = Swift.abs(h)
        self.logPreviousError = logPreviousError
        self.currentStatus = status
        if let failure { throw failure }
    }
}

/// An explicit step whose stiffness estimate |hλ| reaches this fraction of the method's stability
/// boundary counts as limited by stability (``SolveStatistics/stiffSteps``).
@usableFromInline let stiffnessThreshold = 0.9

extension AdaptiveStepping {
    /// Checks the tolerances, the step bounds and the controller, and that `method` can adapt.
    @inlinable
    package func validate(for method: ButcherTableau) throws(SolveError) {
        guard method.isAdaptive else { throw .methodNotAdaptive(method: method.name) }
        // Below √(least normal) the squared scaled error overflows for errors of order 1.
        guard rtol.isFinite, atol.isFinite, rtol >= 0, atol >= 0,
            Swift.max(rtol, atol) >= Scalar.leastNormalMagnitude.squareRoot()
        else {
            throw .invalidTolerance(rtol: Double(rtol), atol: Double(atol))
        }
        try controller.validate()
        guard minStep >= 0, minStep.isFinite else {
            throw .invalidStepBounds("minStep must be finite and ≥ 0, got \(minStep)")
        }
        guard maxStep > 0, maxStep >= minStep else {
            throw .invalidStepBounds("maxStep (\(maxStep)) must be > 0 and ≥ minStep (\(minStep))")
        }
        if let initialStep, !(initialStep.isFinite && initialStep != 0) {
            throw .invalidStepBounds("initialStep must be finite and nonzero, got \(initialStep)")
        }
    }
}
