import RNNODETensors

// Events: conditions g(t, y) whose sign changes along a solve are located on the dense output,
// recorded, and may end the solve or reset the state (Docs/Integrators.md, "Events").

/// Which sign changes of an event condition g count. Directions refer to the order in which the
/// solve visits the times: for a backward solve (t₁ < t₀), `.rising` means g grows as t decreases.
public enum EventDirection: Sendable, Equatable {
    /// g goes from negative to zero or positive.
    case rising
    /// g goes from positive to zero or negative.
    case falling
    /// Either sign change.
    case either

    /// Whether going from `before` to `after` is a crossing in this direction. A start at exactly
    /// zero never is (so an event does not trigger where its condition starts at zero); an end at
    /// exactly zero is; NaN never is.
    @inlinable
    package func isCrossed<Scalar: TensorScalar>(from before: Scalar, to after: Scalar) -> Bool {
        switch self {
        case .rising: return before < 0 && after >= 0
        case .falling: return before > 0 && after <= 0
        case .either: return (before < 0 && after >= 0) || (before > 0 && after <= 0)
        }
    }
}

/// A condition g(t, y) watched during a solve: where g changes sign (in the requested direction) an
/// event occurs. Pass events to
/// ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:events:gradients:)``.
///
/// **Detection and location.** After every accepted step [tₐ, t_b] the solve evaluates g at the
/// step's end (g at its start is the value kept from the step before) and, where the sign changed,
/// locates the root t* of g(t, y(t)) on the integrator's dense output with the Illinois variant of
/// regula falsi, to within `4 · ulp(t*) + timeTolerance` in time. The reported t* lies on the side of
/// the root where the integration came from (g has not yet changed sign there) unless g is exactly
/// zero there. With several crossings in one step the earliest (in the direction of integration)
/// occurs first; events located within their tolerance of it are simultaneous and occur at the same
/// time, in the order of the `events` array (each reset sees the state left by the one before).
///
/// - g exactly zero at t₀ does not trigger an event at t₀ (nor does g starting a step at exactly
///   zero); g reaching exactly zero at the end of a step does.
/// - A sign change is looked for between step ends only: g touching zero and turning back, or
///   crossing twice within one step, is not an event.
/// - A NaN condition value never triggers.
///
/// **Terminal events and resets.** A terminal event ends the solve at t*: ``Solution/finalTime`` is t*,
/// ``Solution/finalState`` the state there (after its reset, if any), the status stays
/// ``SolveStatus/success`` and ``Solution/terminatingEvent`` names the event; nothing past t* is saved
/// (`saveAt: .times` after t* are absent). A `reset` y⁺ = reset(t*, y⁻) restarts the integration from
/// (t*, y⁺) — the part of the step beyond t* is discarded, the step-size controller and a fixed grid
/// are kept. An event without reset does not disturb the integration.
///
/// **Gradients.** For ``Tensor`` states, make the event with a condition that returns a
/// differentiable scalar tensor (the initializer taking `(T, Tensor<T>) -> Tensor<T>`): the event
/// time ``EventOccurrence/differentiableTime`` and every state after the event carry
/// dt*/dθ = −(∂g/∂y · ∂y/∂θ + ∂g/∂θ) / ġ (implicit function theorem, ġ = ∂g/∂t + ∂g/∂y · f). The
/// explicit time dependence of a reset is not differentiated. A condition returning a plain scalar
/// gives no time gradient (``EventOccurrence/differentiableTime`` is nil).
///
/// ```swift
/// // A ball dropped from 1 m bouncing with restitution 0.9: y = (height, velocity).
/// let ground = Event<SIMD2<Double>>(direction: .falling, reset: { _, y in SIMD2(0, -0.9 * y.y) }, { _, y in y.x })
/// let ball = try solve(FieldClosure { _, y in SIMD2(y.y, -9.81) }, initialState: SIMD2(1, 0),
///                      from: 0, to: 3, step: .adaptive(rtol: 1e-10, atol: 1e-12), events: [ground])
/// print(ball.events.map(\.time))      // 0.4515, 1.2642, 1.9957, …
/// ```
public struct Event<State: ODEState> {
    public typealias Scalar = State.Scalar

    /// g(t, y); events occur where it changes sign.
    public let condition: (Scalar, State) -> Scalar
    /// For ``Tensor`` states: g(t, y) as a recorded scalar tensor, used to differentiate the event time.
    public let differentiableCondition: ((Scalar, State) -> Tensor<Scalar>)?
    /// Which sign changes count.
    public var direction: EventDirection
    /// Whether the event ends the solve.
    public var isTerminal: Bool
    /// An absolute tolerance in time added to 4 ulps of t* when locating the event (≥ 0, finite).
    public var timeTolerance: Scalar
    /// The state after the event from the time and the state before it (nil: no reset).
    public var reset: ((Scalar, State) -> State)?

    /// An event where `condition` changes sign.
    ///
    /// - Parameters:
    ///   - direction: which sign changes count (default both).
    ///   - terminal: whether the event ends the solve (default false).
    ///   - timeTolerance: an absolute tolerance in time added to 4 ulps of the event time.
    ///   - reset: the state after the event, from the time and the state before it.
    ///   - condition: g(t, y).
    public init(
        direction: EventDirection = .either, terminal: Bool = false, timeTolerance: Scalar = 0,
        reset: ((Scalar, State) -> State)? = nil, _ condition: @escaping (Scalar, State) -> Scalar
    ) {
        self.condition = condition
        self.differentiableCondition = nil
        self.direction = direction
        self.isTerminal = terminal
        self.timeTolerance = timeTolerance
        self.reset = reset
    }

    /// An event on ``Tensor`` states whose condition returns a scalar tensor (one element), so that
    /// the event time and the states after it carry gradients.
    ///
    /// ```swift
    /// let ground = Event<Tensor<Double>>(direction: .falling, terminal: true) { _, y in y[0] }
    /// ```
    public init<T: TensorScalar>(
        direction: EventDirection = .either, terminal: Bool = false, timeTolerance: T = 0,
        reset: ((T, Tensor<T>) -> Tensor<T>)? = nil, _ condition: @escaping (T, Tensor<T>) -> Tensor<T>
    ) where State == Tensor<T> {
        self.condition = { t, y in condition(t, y.detached).scalar }
        self.differentiableCondition = condition
        self.direction = direction
        self.isTerminal = terminal
        self.timeTolerance = timeTolerance
        self.reset = reset
    }
}

/// One occurrence of an event during a solve.
public struct EventOccurrence<State: ODEState>: Sendable {
    public typealias Scalar = State.Scalar
    /// The index of the event in the `events` array of the solve.
    public let event: Int
    /// The located event time t*.
    public let time: Scalar
    /// The state at t* before the event's reset.
    public let stateBefore: State
    /// The state at t* after the event's reset (`stateBefore` without one).
    public let stateAfter: State
    /// For ``Tensor`` states and events with a differentiable condition: t* as a rank-0 tensor carrying
    /// dt*/dθ; nil otherwise.
    public let differentiableTime: Tensor<Scalar>?

    @inlinable
    package init(event: Int, time: Scalar, stateBefore: State, stateAfter: State, differentiableTime: Tensor<Scalar>?) {
        self.event = event
        self.time = time
        self.stateBefore = stateBefore
        self.stateAfter = stateAfter
        self.differentiableTime = differentiableTime
    }
}

extension Solution {
    /// Whether a terminal event ended the solve (at ``finalTime``, before the end of the span).
    public var terminatedByEvent: Bool { terminatingEvent != nil }

    @usableFromInline
    package mutating func record(_ occurrence: EventOccurrence<State>) { events.append(occurrence) }

    @usableFromInline
    package mutating func terminate(byEvent index: Int) { terminatingEvent = index }
}

/// The tolerance in time of an event located near `t`: 4 ulps of t plus the event's own.
@inlinable
package func eventLocationTolerance<Scalar: TensorScalar>(near t: Scalar, _ timeTolerance: Scalar) -> Scalar {
    4 * Swift.abs(t).ulp + timeTolerance
}

/// A root of `g` between `a` and `b` (either order), where g(a) = `ga` ≠ 0 and g(b) = `gb` has the
/// other sign or is zero, by the Illinois variant of regula falsi (bisection when the secant leaves
/// the bracket). Returns a time within `eventLocationTolerance` of a root on the `a` side of it
/// (where g still has the sign of `ga`), or an exact zero of g.
@inlinable
package func locateRoot<Scalar: TensorScalar>(
    from a: Scalar, _ ga: Scalar, to b: Scalar, _ gb: Scalar, timeTolerance: Scalar, _ g: (Scalar) -> Scalar
) -> Scalar {
    var (a, ga, b, gb) = (a, ga, b, gb)
    if gb == 0 { return b }
    var side = 0  // +1: b moved last, −1: a moved last
    for _ in 0..<200 {
        if Swift.abs(b - a) <= eventLocationTolerance(near: Swift.max(Swift.abs(a), Swift.abs(b)), timeTolerance) {
            return a
        }
        var c = b - gb * (b - a) / (gb - ga)
        if !c.isFinite || (c - a) * (c - b) >= 0 { c = a + (b - a) / 2 }
        if c == a || c == b { return a }  // the bracket cannot shrink further
        let gc = g(c)
        if gc == 0 { return c }
        if (gc > 0) == (gb > 0) || gc.isNaN {
            (b, gb) = (c, gc.isNaN ? gb : gc)
            if side == 1 { ga /= 2 }  // Illinois: halve the end kept twice
            side = 1
        } else {
            (a, ga) = (c, gc)
            if side == -1 { gb /= 2 }
            side = -1
        }
    }
    return a
}

/// Integrates dy/dt = f(t, y) as
/// ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)`` does,
/// watching `events` (see ``Event``): occurrences are located on the dense output and recorded in
/// ``Solution/events``; a terminal event ends the solve at its time (``Solution/terminatedByEvent``);
/// a reset restarts the integration from the new state at the event time.
///
/// ```swift
/// let falling = FieldClosure<SIMD2<Double>> { _, y in SIMD2(y.y, -9.81) }
/// let ground = Event<SIMD2<Double>>(direction: .falling, terminal: true) { _, y in y.x }
/// let s = try solve(falling, initialState: SIMD2(2, 0), from: 0, to: 10, events: [ground])
/// // s.finalTime ≈ √(2 · 2 / 9.81); s.terminatedByEvent == true
/// ```
///
/// With `saveAt: .steps` the event time of a terminal event or a reset is saved once, with the state
/// after the reset (the occurrence holds both); `saveAt: .times` equal to an event time get the
/// state before the reset. An empty `events` array is exactly the solve without events.
///
/// - Throws: ``SolveError`` as the solve without events, and ``SolveError/invalidEvent(index:_:)``
///   for an event with a negative or non-finite time tolerance;
///   ``SolveError/unsupportedGradientStrategy(_:)`` for `gradients` other than
///   ``GradientStrategy/backpropagation`` and ``GradientStrategy/truncated(steps:)`` (fixed steps) when
///   there are events (event times and resets are not replayed by the one-operation strategies).
@inlinable
public func solve<Field: VectorField>(
    _ field: Field, initialState: Field.State, from t0: Field.State.Scalar, to t1: Field.State.Scalar,
    method: ButcherTableau = .dopri5, step: StepSizeControl<Field.State.Scalar> = .adaptive(),
    saveAt: SaveAt<Field.State.Scalar> = .steps, maxSteps: Int? = nil, events: [Event<Field.State>],
    gradients: GradientStrategy = .backpropagation
) throws(SolveError) -> Solution<Field.State> {
    typealias State = Field.State
    typealias Scalar = State.Scalar
    if events.isEmpty {
        return try solve(
            field, initialState: initialState, from: t0, to: t1, method: method, step: step, saveAt: saveAt,
            maxSteps: maxSteps, gradients: gradients)
    }
    let plan = try IntegrationPlan(t0: t0, t1: t1, method: method, step: step, saveAt: saveAt, maxSteps: maxSteps)
    try gradients.validate(step: step)
    if gradients.isSingleOperation {
        throw .unsupportedGradientStrategy(
            "\(gradients.name) does not support events; use .backpropagation or .truncated(steps:)")
    }
    for (index, event) in events.enumerated() {
        guard event.timeTolerance.isFinite, event.timeTolerance >= 0 else {
            throw .invalidEvent(
                index: index, "its time tolerance must be finite and ≥ 0, got \(event.timeTolerance)")
        }
    }
    guard initialState.isFinite else { throw .nonFiniteInitialState }
    if let name = field.firstNonFiniteParameter() { throw .nonFiniteParameter(name: name) }

    var solution = Solution<State>(initialTime: t0, initialState: initialState)
    if t0 == t1 {
        for time in plan.outputTimes(saveAt) { solution.save(time, initialState) }
        return solution
    }
    let integrator = try Integrator(
        field, initialState: initialState, time: t0, method: method, step: step, maxSteps: plan.maxSteps)
    integrator.timeTolerance = plan.snap
    if case .truncated(let steps) = gradients, case .fixed(let dt) = step.mode {
        integrator.detachTime = t1 - plan.direction * Scalar(steps) * Swift.abs(dt)
    }
    let direction = plan.direction
    var saveTimes = plan.saveTimes[...]
    if plan.saveSteps || saveTimes.first == t0 {
        solution.save(t0, initialState)
        if saveTimes.first == t0 { saveTimes.removeFirst() }
    }
    var isFixed = false
    if case .fixed = step.mode { isFixed = true }
    // Fixed steps stop at every output time (the grid is refined to hit them); adaptive steps fill
    // output times in from the dense output.
    var stops: [Scalar] = isFixed ? Array(saveTimes) : []
    if stops.last != t1 { stops.append(t1) }
    let keepsStops = isFixed && !saveTimes.isEmpty
    // g at the start of the current step, and at the end of a step with a crossing.
    var previous = events.map { $0.condition(t0, initialState) }
    // Where each event's bracket starts: the step's start, or a little into it (see `arm`).
    var starts = [Scalar](repeating: t0, count: events.count)
    var pending: [Scalar]? = nil

    /// Starts the bracket of event `i` at `ta` in the step to `tb` (where g is `end`). Where g is
    /// exactly zero at `ta` (at t₀, after the event occurred, after a reset onto g = 0) the bracket
    /// starts a little into the step, at |t − ta| = max(10⁻⁶ |tb − ta|, twice the location
    /// tolerance), past a root just located, so that the event neither triggers at `ta` nor repeats.
    func arm(_ i: Int, from ta: Scalar, to tb: Scalar, end: Scalar) {
        starts[i] = ta
        guard previous[i] == 0 else { return }
        let span = Swift.abs(tb - ta)
        let offset = Swift.max(
            span * Scalar(1e-6),
            2 * eventLocationTolerance(near: Swift.max(Swift.abs(ta), Swift.abs(tb)), events[i].timeTolerance))
        if offset >= span {
            (starts[i], previous[i]) = (tb, end)
        } else {
            let probe = ta + direction * offset
            (starts[i], previous[i]) = (probe, events[i].condition(probe, integrator.interpolate(at: probe)))
        }
    }

    /// Saves the adaptive output times up to `t` (inclusive) from the dense output of the last step.
    func saveDense(upTo t: Scalar) {
        guard !isFixed else { return }
        while let time = saveTimes.first, direction * (time - t) <= 0 {
            solution.save(time, integrator.interpolate(at: time))
            saveTimes.removeFirst()
        }
    }

    var terminated = false
    /// Locates and applies the crossings in the last step [ta, tb] (g at tb in `end`): the earliest
    /// occurs with those simultaneous to it, then the rest of the step is searched again unless a
    /// terminal event ended the solve (`terminated`) or a reset restarted the integration at t*.
    /// Returns whether it did either.
    func handleCrossings(_ end: [Scalar]) -> Bool {
        let (stepStart, tb) = (integrator.previousTime, integrator.time)
        while true {
            var located: [(index: Int, time: Scalar)] = []
            for (i, event) in events.enumerated() where event.direction.isCrossed(from: previous[i], to: end[i]) {
                let t = locateRoot(from: starts[i], previous[i], to: tb, end[i], timeTolerance: event.timeTolerance) { s in
                    event.condition(s, integrator.interpolate(at: s))
                }
                located.append((i, t))
            }
            guard let first = located.min(by: { direction * ($0.time - $1.time) < 0 }) else { break }
            let tStar = first.time
            let group = located.filter {
                direction * ($0.time - tStar) <= eventLocationTolerance(near: tStar, events[$0.index].timeTolerance)
            }.map(\.index)
            saveDense(upTo: tStar)
            let yMinus = integrator.interpolate(at: tStar)
            let occurrence = EventState(
                integrator, event: events[first.index], time: tStar, state: yMinus, stepSize: tb - stepStart)
            var y = occurrence.state
            var hasReset = false
            for i in group {
                let before = y
                if let reset = events[i].reset {
                    y = reset(tStar, y)
                    require(y.hasSameShape(as: before), "Event \(i): the reset changed the state's shape")
                    require(y.isFinite, "Event \(i): the reset returned a non-finite state at t = \(tStar)")
                    hasReset = true
                }
                solution.record(
                    EventOccurrence(
                        event: i, time: tStar, stateBefore: before, stateAfter: y,
                        differentiableTime: occurrence.differentiableTime))
            }
            if let terminal = group.first(where: { events[$0].isTerminal }) {
                if plan.saveSteps || plan.saveTimes.isEmpty { solution.save(tStar, y) }
                solution.terminate(byEvent: terminal)
                solution.finish(at: tStar, y, integrator.status, integrator.statistics)
                terminated = true
                return true
            }
            if hasReset {
                integrator.restart(at: tStar, state: occurrence.restartState(integrator, after: y))
                if plan.saveSteps { solution.save(tStar, y) }
                // The events that occurred are re-armed a little past t* (see `arm`).
                for (i, event) in events.enumerated() {
                    previous[i] = group.contains(i) ? 0 : event.condition(tStar, y)
                }
                return true
            }
            // No reset: the trajectory goes on; the events that occurred are re-armed a little past
            // t*, the others may still cross in the rest of the step.
            for (i, event) in events.enumerated() {
                previous[i] = group.contains(i) ? 0 : event.condition(tStar, yMinus)
                arm(i, from: tStar, to: tb, end: end[i])
            }
        }
        saveDense(upTo: tb)
        if plan.saveSteps { solution.save(tb, integrator.state) }
        previous = end
        return false
    }

    var stopIndex = 0
    while stopIndex < stops.count {
        let stop = stops[stopIndex]
        integrator.stopRequested = false
        try integrator.advance(to: stop, observingSteps: true) { integrator in
            let (tb, yb) = (integrator.time, integrator.state)
            var end: [Scalar] = []
            end.reserveCapacity(events.count)
            var crossed = false
            var mustStop = false
            for (i, event) in events.enumerated() {
                let g = event.condition(tb, yb)
                end.append(g)
                arm(i, from: integrator.previousTime, to: tb, end: g)
                if event.direction.isCrossed(from: previous[i], to: g) {
                    crossed = true
                    if event.isTerminal || event.reset != nil { mustStop = true }
                }
            }
            if mustStop {
                // Handled after the advance returns (the step stays available for dense output), so
                // that the integration can end or restart at the event.
                pending = end
                integrator.stopRequested = true
                return
            }
            if crossed {
                // Without terminal events or resets the integration goes on undisturbed.
                let stopped = handleCrossings(end)
                require(!stopped, "solve(events:): an event stopped the integration inside a step")
                return
            }
            saveDense(upTo: tb)
            if plan.saveSteps { solution.save(tb, yb) }
            previous = end
        }
        if let end = pending {
            pending = nil
            _ = handleCrossings(end)
            if terminated { return solution }
        }
        guard integrator.status == .success else { break }
        guard integrator.time == stop else { continue }  // stopped at an event: go on to the same stop
        if keepsStops && !plan.saveSteps && (stop != t1 || plan.saveTimes.last == t1) {
            solution.save(stop, integrator.state)
        }
        stopIndex += 1
    }
    if integrator.status == .success, !plan.saveSteps, plan.saveTimes.isEmpty {
        solution.save(integrator.time, integrator.state)
    }
    solution.finish(at: integrator.time, integrator.state, integrator.status, integrator.statistics)
    return solution
}

/// Integrates a closure field watching `events`; see
/// ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:events:gradients:)``.
///
/// ```swift
/// let zero = Event<Double>(terminal: true) { _, y in y - 0.5 }
/// let s = try solve(initialState: 1.0, from: 0, to: 5, events: [zero]) { _, y in -y }
/// // s.finalTime ≈ log 2
/// ```
@inlinable
public func solve<State: ODEState>(
    initialState: State, from t0: State.Scalar, to t1: State.Scalar,
    method: ButcherTableau = .dopri5, step: StepSizeControl<State.Scalar> = .adaptive(),
    saveAt: SaveAt<State.Scalar> = .steps, maxSteps: Int? = nil, events: [Event<State>],
    _ field: @escaping (State.Scalar, State) -> State
) throws(SolveError) -> Solution<State> {
    try solve(
        FieldClosure(field), initialState: initialState, from: t0, to: t1, method: method, step: step,
        saveAt: saveAt, maxSteps: maxSteps, events: events)
}

/// The state at a located event time, and for ``Tensor`` states with a differentiable condition the
/// dependence of the event time on the parameters.
///
/// With t* fixed as a value, t*_d = t* − (g(t*, y(t*)) − g*) / ġ (g* its value, ġ = ∂g/∂t + ∂g/∂y · f
/// detached) has the value t* and the gradient −(∂g/∂y ∂y/∂θ + ∂g/∂θ) / ġ. The state at the moving
/// event time is y(t*) + f⁻ (t*_d − t*); the integration restarts from y⁺ − f⁺ (t*_d − t*), so that a
/// state at a later fixed time s carries ∂y(s)/∂t* = −Φ f⁺ too (Φ the flow's Jacobian).
@usableFromInline
package struct EventState<State: ODEState> {
    @usableFromInline package typealias Scalar = State.Scalar
    /// The state at the event (before resets), carrying dt*/dθ when differentiable.
    @usableFromInline package let state: State
    @usableFromInline package let time: Scalar
    @usableFromInline package let differentiableTime: Tensor<Scalar>?
    /// t*_d − t* (value 0), when differentiable.
    @usableFromInline package let shift: Tensor<Scalar>?

    @inlinable
    package init<Field: VectorField>(
        _ integrator: Integrator<Field>, event: Event<State>, time t: Scalar, state y: State, stepSize: Scalar
    ) where Field.State == State {
        self.time = t
        guard let differentiable = event.differentiableCondition, let yTensor = y as? Tensor<Scalar> else {
            (state, differentiableTime, shift) = (y, nil, nil)
            return
        }
        let g = differentiable(t, y)
        require(g.scalarCount == 1, "Event: a differentiable condition must return one scalar, got shape \(g.shape)")
        guard g.isRecorded else {
            (state, differentiableTime, shift) = (y, Tensor(t), nil)
            return
        }
        // ġ by central differences along (1, f): d/ds g(t + s, y + s f) at s = 0.
        let yValue = y.withoutDerivative
        let f = integrator.field(t, yValue).withoutDerivative
        integrator.counts.evaluations += 1
        let delta = Swift.max(
            Scalar.pow(Scalar.ulpOfOne, 1 / 3) * Swift.abs(stepSize),
            Scalar.ulpOfOne.squareRoot() * Swift.max(Swift.abs(t), Scalar.leastNormalMagnitude))
        let rate =
            (event.condition(t + delta, yValue.adding(delta, times: f))
                - event.condition(t - delta, yValue.adding(-delta, times: f))) / (2 * delta)
        guard rate.isFinite, rate != 0, let fTensor = f as? Tensor<Scalar> else {
            (state, differentiableTime, shift) = (y, Tensor(t), nil)
            return
        }
        let tD = (g - g.scalar) * (-1 / rate) + t
        let shift = tD - t
        self.differentiableTime = tD
        self.shift = shift
        self.state = (yTensor + fTensor * shift) as! State
    }

    /// The state to restart the integration from after the resets produced `after`.
    @inlinable
    package func restartState<Field: VectorField>(_ integrator: Integrator<Field>, after y: State) -> State
    where Field.State == State {
        guard let shift, let yTensor = y as? Tensor<Scalar> else { return y }
        let f = integrator.field(time, y.withoutDerivative).withoutDerivative
        integrator.counts.evaluations += 1
        guard let fTensor = f as? Tensor<Scalar> else { return y }
        return (yTensor - fTensor * shift) as! State
    }
}
