import RNNODETensors

/// Which states a solve keeps.
public enum SaveAt<Scalar: TensorScalar>: Sendable, Equatable {
    /// Only the state at the end of the span.
    case final
    /// The initial state and the state after every (accepted) step.
    case steps
    /// The states at exactly these times, which must lie in the span and be strictly monotonic in the
    /// direction of integration. Fixed-step solves refine their grid to step onto each time;
    /// adaptive solves evaluate their dense output there.
    case times([Scalar])
}

/// Counts of the work a solve did.
public struct SolveStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Steps that were kept.
    public var acceptedSteps = 0
    /// Steps that were rejected by the error control (or produced non-finite values) and retried.
    public var rejectedSteps = 0
    /// Evaluations of the vector field (including those of Newton iterations and finite-difference
    /// Jacobians).
    public var evaluations = 0
    /// Implicit and Rosenbrock methods: Jacobian evaluations ∂f/∂y.
    public var jacobians = 0
    /// LU factorizations of the iteration matrix I − hγJ.
    public var factorizations = 0
    /// Solves with a factored iteration matrix (one per Newton iteration or Rosenbrock stage).
    public var linearSolves = 0
    /// Newton iterations of diagonally implicit methods.
    public var newtonIterations = 0
    /// Steps whose Newton iterations failed to converge even with a fresh Jacobian (each rejected
    /// and retried with a smaller step).
    public var newtonFailures = 0
    /// Explicit methods: accepted steps whose stiffness estimate |hλ| (Hairer's test, from two stages
    /// at the same node) reached 90 % of the method's stability boundary — steps limited by
    /// stability rather than accuracy. Many of them mean the problem is stiff: use an implicit or
    /// Rosenbrock method.
    public var stiffSteps = 0
    /// The last stiffness estimate |hλ| as a fraction of the explicit method's stability boundary
    /// (0 before one is made).
    public var stiffnessRatio = 0.0
    /// Automatic switching (``ButcherTableau/automatic(_:stiff:)``): switches between the explicit
    /// and the stiff method.
    public var methodSwitches = 0

    public init() {}

    /// Accepted plus rejected steps.
    public var steps: Int { acceptedSteps + rejectedSteps }

    /// Whether most accepted steps were limited by stability (at least 10 steps and half of them).
    public var looksStiff: Bool { stiffSteps >= 10 && 2 * stiffSteps >= acceptedSteps }

    public var description: String {
        var text = "\(acceptedSteps) accepted, \(rejectedSteps) rejected steps, \(evaluations) evaluations"
        if jacobians > 0 || factorizations > 0 {
            text += ", \(jacobians) Jacobians, \(factorizations) factorizations, \(linearSolves) linear solves"
        }
        if newtonIterations > 0 { text += ", \(newtonIterations) Newton iterations, \(newtonFailures) Newton failures" }
        if stiffSteps > 0 { text += ", \(stiffSteps) steps limited by stability" }
        if methodSwitches > 0 { text += ", \(methodSwitches) method switches" }
        return text
    }
}

/// How a solve ended.
public enum SolveStatus<Scalar: TensorScalar>: Sendable, Equatable, CustomStringConvertible {
    /// The end of the span was reached.
    case success
    /// A step produced NaN or infinity at `time` with step size `stepSize` (for adaptive solves:
    /// after shrinking the step could not avoid it). The solution holds the states before it.
    case nonFiniteState(time: Scalar, stepSize: Scalar)
    /// The step size needed to meet the tolerance fell below the minimum step or below what the
    /// floating-point time can resolve at `time`.
    case stepSizeUnderflow(time: Scalar, stepSize: Scalar)
    /// The step budget ran out at `time` after `steps` steps.
    case maxStepsExceeded(time: Scalar, steps: Int)
    /// An implicit method could not solve its stage equations in the step from `time` with
    /// `stepSize` (Newton did not converge even with a fresh Jacobian, or I − hγJ was singular), and
    /// the step could not be shrunk (a fixed step, or one already at the smallest size).
    case implicitStageFailed(time: Scalar, stepSize: Scalar)

    /// Inlinable (the synthesized `==` is not), so that the solve loop's status checks specialize.
    @inlinable
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.success, .success): return true
        case (.nonFiniteState(let t1, let h1), .nonFiniteState(let t2, let h2)),
            (.stepSizeUnderflow(let t1, let h1), .stepSizeUnderflow(let t2, let h2)),
            (.implicitStageFailed(let t1, let h1), .implicitStageFailed(let t2, let h2)):
            return t1 == t2 && h1 == h2
        case (.maxStepsExceeded(let t1, let n1), .maxStepsExceeded(let t2, let n2)):
            return t1 == t2 && n1 == n2
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .success: return "success"
        case .nonFiniteState(let time, let stepSize):
            return "the state became non-finite in the step from t = \(time) with Δt = \(stepSize)"
        case .stepSizeUnderflow(let time, let stepSize):
            return "the step size underflowed at t = \(time) (Δt = \(stepSize))"
        case .maxStepsExceeded(let time, let steps):
            return "the step budget of \(steps) steps ran out at t = \(time)"
        case .implicitStageFailed(let time, let stepSize):
            return
                "the implicit stage equations could not be solved in the step from t = \(time) with Δt = \(stepSize) (Newton did not converge, or I − hγJ is singular)"
        }
    }
}

/// The result of ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``: the saved states, where
/// the integration ended, statistics and a status.
///
/// When a solve fails midway (see ``status``) the solution still holds everything up to the failure:
/// the states saved so far and the last finite state in ``finalState`` at ``finalTime``.
public struct Solution<State: ODEState>: Sendable {
    public typealias Scalar = State.Scalar
    /// The times of the saved states.
    public internal(set) var times: [Scalar] = []
    /// The saved states, one per time.
    public internal(set) var states: [State] = []
    /// The time the integration reached: the end of the span on success (the event time when a
    /// terminal event ended the solve, see ``terminatingEvent``).
    public internal(set) var finalTime: Scalar
    /// The state at ``finalTime``: always finite.
    public internal(set) var finalState: State
    /// Steps and evaluations.
    public internal(set) var statistics = SolveStatistics()
    /// How the solve ended.
    public internal(set) var status: SolveStatus<Scalar> = .success
    /// The events that occurred, in order (see ``Event``); empty for a solve without events.
    public internal(set) var events: [EventOccurrence<State>] = []
    /// The index of the terminal event that ended the solve at ``finalTime``, or nil (see ``Event``).
    public internal(set) var terminatingEvent: Int? = nil
    /// The derivatives of the saved states with respect to the parameters and/or the initial state,
    /// for a forward-sensitivity solve of a ``ParametricField``; nil otherwise.
    public internal(set) var sensitivities: ForwardSensitivities<Scalar>? = nil

    @usableFromInline
    package mutating func attach(_ sensitivities: ForwardSensitivities<Scalar>) {
        self.sensitivities = sensitivities
    }

    @usableFromInline
    package init(initialTime: Scalar, initialState: State) {
        finalTime = initialTime
        finalState = initialState
    }

    @usableFromInline
    package mutating func save(_ time: Scalar, _ state: State) {
        times.append(time)
        states.append(state)
    }

    @usableFromInline
    package mutating func finish(
        at time: Scalar, _ state: State, _ status: SolveStatus<Scalar>, _ statistics: SolveStatistics
    ) {
        finalTime = time
        finalState = state
        self.status = status
        self.statistics = statistics
    }

    /// Whether the integration reached the end of the span.
    @inlinable
    public var succeeded: Bool {
        if case .success = status { return true }
        return false
    }

    /// This solution if it succeeded.
    ///
    /// - Throws: ``SolveError/integrationFailed(_:)`` describing the failure (the partial solution
    ///   remains available on the value you called this on).
    public func checked() throws(SolveError) -> Solution {
        guard succeeded else {
            var reason = status.description
            if statistics.looksStiff {
                reason +=
                    "; the problem looks stiff: \(statistics.stiffSteps) of \(statistics.acceptedSteps) accepted steps were limited by the explicit method's stability (|hλ| at \(Int((statistics.stiffnessRatio * 100).rounded())) % of its stability boundary at the end) — use a stiff method such as .rodas5P or .kvaerno5"
            }
            throw .integrationFailed(reason)
        }
        return self
    }
}
