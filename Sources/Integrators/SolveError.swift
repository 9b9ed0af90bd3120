/// A problem with the inputs of a solve, found before integrating, or a failed solve turned into an
/// error by ``Solution/checked()``. Times and step sizes are reported as `Double`.
public enum SolveError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The initial state contains NaN or infinity.
    case nonFiniteInitialState
    /// A named parameter of the vector field contains NaN or infinity.
    case nonFiniteParameter(name: String)
    /// The field returned NaN or infinity at the initial state.
    case nonFiniteInitialDerivative(time: Double)
    /// A time of the span, an output time or a step size is NaN or infinite.
    case nonFiniteTime(String)
    /// A fixed step size of zero.
    case zeroStepSize
    /// A step size whose sign does not match the direction from the start to the end of the span.
    case stepSizeWrongDirection(stepSize: Double, from: Double, to: Double)
    /// Output times that go backwards (against the direction of integration) at `index`.
    case outputTimesNotMonotonic(index: Int, previous: Double, time: Double)
    /// An output time that repeats the previous one at `index`.
    case duplicateOutputTime(index: Int, time: Double)
    /// An output time outside the span.
    case outputTimeOutsideSpan(index: Int, time: Double, from: Double, to: Double)
    /// The field returned a derivative whose shape differs from the state's.
    case shapeMismatch(state: String, derivative: String)
    /// A fixed step too small for the times it steps between: below 16 ulps of `time`, the largest
    /// time of the span in magnitude (16 · ε · |t|; see ``StepSizeControl/fixed(_:)``).
    case stepBelowTimeResolution(stepSize: Double, time: Double)
    /// A relative or absolute tolerance that is negative or non-finite, both zero, or so small that
    /// the squared error norm overflows (the larger of the two is below the square root of the
    /// smallest normal number of the scalar type).
    case invalidTolerance(rtol: Double, atol: Double)
    /// A ``PIController`` setting that is NaN, infinite or out of its range (named in the message).
    case invalidController(String)
    /// A minimum/maximum step or an initial step that is negative, zero where it must not be, or
    /// inconsistent.
    case invalidStepBounds(String)
    /// Adaptive stepping with a method that has no embedded error estimate.
    case methodNotAdaptive(method: String)
    /// A step budget below 1.
    case invalidMaxSteps(Int)
    /// Truncated backpropagation asked for with adaptive steps or a step count below 1.
    case invalidTruncation(String)
    /// A solve that did not reach the end of its span (from ``Solution/checked()``).
    case integrationFailed(String)
    /// An ``Integrator`` asked to advance to a time that lies against its direction of integration.
    case targetBehind(target: Double, time: Double)
    /// An implicit or Rosenbrock method with a state type that does not expose its components
    /// (``ODEState/componentCount`` is nil).
    case componentsUnavailable(state: String, method: String)
    /// ``ImplicitSolverSettings`` that are out of range or do not fit the state (named in the message).
    case invalidImplicitSettings(String)
    /// A method that cannot run where it was asked to (an implicit method on the fused recurrent
    /// path, say); the message says why.
    case unsupportedMethod(String)
    /// An ``Event`` (at `index` in the solve's `events`) with an invalid setting, named in the message.
    case invalidEvent(index: Int, String)
    /// A ``GradientStrategy`` that cannot differentiate this solve (a state that is not a ``Tensor``,
    /// a Rosenbrock method, events); the message says why and what to use instead.
    case unsupportedGradientStrategy(String)
    /// The field computes with recorded tensors it does not declare in
    /// ``VectorField/parameterTensors``: a strategy that differentiates the solve as one operation
    /// (checkpointed, adjoint) would silently miss their gradients.
    case undeclaredRecordedTensors(String)

    public var description: String {
        switch self {
        case .nonFiniteInitialState:
            return "the initial state contains NaN or infinity"
        case .nonFiniteParameter(let name):
            return "the vector field's parameter '\(name)' contains NaN or infinity"
        case .nonFiniteInitialDerivative(let time):
            return "the vector field returned NaN or infinity at the initial state (t = \(time))"
        case .nonFiniteTime(let what):
            return "\(what) is NaN or infinite"
        case .zeroStepSize:
            return "the fixed step size is zero"
        case .stepSizeWrongDirection(let stepSize, let from, let to):
            return
                "step size \(stepSize) points away from the end: integrating from \(from) to \(to) needs a step of sign \(to > from ? "+" : "-")"
        case .outputTimesNotMonotonic(let index, let previous, let time):
            return "output time \(index) (\(time)) goes back past the previous one (\(previous))"
        case .duplicateOutputTime(let index, let time):
            return "output time \(index) repeats \(time)"
        case .outputTimeOutsideSpan(let index, let time, let from, let to):
            return "output time \(index) (\(time)) lies outside the span from \(from) to \(to)"
        case .shapeMismatch(let state, let derivative):
            return "the vector field returned a derivative of shape \(derivative) for a state of shape \(state)"
        case .stepBelowTimeResolution(let stepSize, let time):
            return
                "fixed step \(stepSize) is below the resolution of the times near \(time): it must be at least 16 ulps of |t| (16 · ε · \(Swift.abs(time)))"
        case .invalidTolerance(let rtol, let atol):
            return
                "invalid tolerances rtol = \(rtol), atol = \(atol): both must be finite and ≥ 0, and the larger at least the square root of the smallest normal number (1.5e-154 for Double, 1.1e-19 for Float)"
        case .invalidController(let message):
            return "invalid step-size controller: \(message)"
        case .invalidStepBounds(let message):
            return "invalid step bounds: \(message)"
        case .methodNotAdaptive(let method):
            return
                "\(method) has no embedded error estimate; use a fixed step or an adaptive method (dopri5, tsit5, dop853, rodas5P, kvaerno5, …)"
        case .invalidMaxSteps(let value):
            return "the step budget must be at least 1, got \(value)"
        case .invalidTruncation(let message):
            return "invalid truncated backpropagation: \(message)"
        case .integrationFailed(let reason):
            return "the solve did not reach the end of its span: \(reason)"
        case .componentsUnavailable(let state, let method):
            return
                "\(method) is implicit and needs the state's components, but \(state) does not expose them: implement componentCount, copyComponents(to:) and withComponents(from:)"
        case .invalidImplicitSettings(let message):
            return "invalid implicit solver settings: \(message)"
        case .unsupportedMethod(let message):
            return message
        case .targetBehind(let target, let time):
            return "cannot advance to t = \(target): it lies behind the integration, which has reached t = \(time)"
        case .invalidEvent(let index, let message):
            return "invalid event \(index): \(message)"
        case .unsupportedGradientStrategy(let message):
            return "unsupported gradient strategy: \(message)"
        case .undeclaredRecordedTensors(let strategy):
            return
                "the field computes with recorded tensors it does not declare, so \(strategy) cannot differentiate them: declare them as parameters (FieldClosure(parameters: [\"k\": k]) { t, y, theta in … } reading theta instead of capturing k, or a Trainable field), or use .backpropagation"
        }
    }
}
