import RNNODETensors

/// How gradients flow through a solve of recorded ``Tensor`` states: one typed value passed to
/// ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``.
///
/// Every strategy returns the same ``Solution``; they differ in what the tape keeps, what the
/// backward pass costs and which gradient it computes. With N steps, state size n and P parameters:
///
/// | strategy | memory | backward cost | gradient of |
/// |---|---|---|---|
/// | ``backpropagation`` | O(N·n) on the tape | ≈ 1 forward | the computed trajectory (exact) |
/// | ``truncated(steps:)`` | O(k·n) recorded | ≈ k steps | the last k steps only (biased) |
/// | ``checkpointed(every:)`` | O(√N·n), 24 B per step | ≈ 1 more forward + backprop | the computed trajectory (exact) |
/// | ``backsolveAdjoint`` | O(n + P) | ≈ 2–3 forwards | the continuous problem (≈) |
/// | ``interpolatingAdjoint`` | O(N·n) values, no tape | ≈ 1–2 forwards | the continuous problem (≈) |
///
/// The last three differentiate the solve as **one** recorded operation on the tape of the initial
/// state and the field's parameters θ. For that the field must declare θ
/// (``VectorField/parameterTensors``, ``VectorField/replacingParameterTensors(_:)``): a
/// ``FieldClosure`` with a parametric body, `FieldClosure(parameters: ["k": k]) { t, y, theta in … }`,
/// or a `Trainable` field (the Models layer declares its parameters). A field that computes with a
/// recorded tensor it does not declare is refused with ``SolveError/undeclaredRecordedTensors(_:)``.
///
/// ```swift
/// let field = FieldClosure<Tensor<Double>>(parameters: ["k": k]) { _, y, theta in -theta[0] * y }
/// let run = try solve(field, initialState: y0, from: 0, to: 100, method: .rk4, step: .fixed(1e-3),
///                     saveAt: .final, gradients: .checkpointed())
/// let loss = square(run.finalState).sum()        // gradients for y0 and k, exact, O(√N) memory
/// ```
public enum GradientStrategy: Sendable, Equatable {
    /// Record every step on the tape (discretize-then-optimize): the exact gradient of the computed
    /// trajectory, memory proportional to the number of steps. The default.
    case backpropagation
    /// Truncated backpropagation through time (Keras' `truncate_gradient`): with fixed steps, the
    /// state is detached `steps`·|Δt| before the end, so gradients flow back through the last `steps`
    /// steps only.
    case truncated(steps: Int)
    /// Exact reverse mode with checkpoints. The forward solve runs on constants and keeps only the
    /// accepted steps' times and sizes and the state at the start of every segment of `every` steps;
    /// the backward pass re-runs each segment from its checkpoint, recorded on a local tape with the
    /// segment's start state and θ as variables, replaying the stored steps (so adaptive steps are
    /// exactly those of the forward pass), and pulls the cotangent back through it. The gradient is
    /// that of ``backpropagation`` to rounding (for implicit methods, to the Newton tolerance: the
    /// replayed Newton iterations start afresh); the tape keeps one record.
    ///
    /// With `every` nil (the default) the segment length L starts at 16 and doubles whenever the
    /// checkpoints outnumber 2L, so that L ≈ √N for any N, adaptive N included: at most about 2√(2N)
    /// checkpoints, and at most L steps recorded at a time (uniform √N checkpointing; each step is
    /// computed twice in all, the recorded replay costing what backpropagation costs).
    case checkpointed(every: Int? = nil)
    /// The continuous adjoint method (optimize-then-discretize), re-integrating the state backward
    /// together with the adjoint: memory independent of the number of steps; the gradient of the
    /// continuous problem, accurate to the solve's tolerance where the backward re-integration is
    /// stable (not for stiff or chaotic problems; see Docs/Training.md).
    case backsolveAdjoint
    /// The continuous adjoint method reading the state from a cubic Hermite interpolant of the stored
    /// forward steps: no backward re-integration of the state (stable for stiff problems), memory for
    /// the steps' states and slopes (not on the tape).
    case interpolatingAdjoint

    /// Whether the strategy records the solve as one operation (checkpointed and adjoints).
    @inlinable
    public var isSingleOperation: Bool {
        switch self {
        case .backpropagation, .truncated: return false
        case .checkpointed, .backsolveAdjoint, .interpolatingAdjoint: return true
        }
    }

    /// Checks the settings against the step control.
    @inlinable
    package func validate<Scalar>(step: StepSizeControl<Scalar>) throws(SolveError) {
        switch self {
        case .truncated(let steps):
            guard case .fixed = step.mode else { throw .invalidTruncation("it needs fixed steps") }
            guard steps >= 1 else { throw .invalidTruncation("the number of steps must be at least 1, got \(steps)") }
        case .checkpointed(let every?):
            guard every >= 1 else {
                throw .unsupportedGradientStrategy("checkpoints must be at least 1 step apart, got \(every)")
            }
        default:
            break
        }
    }

    /// A short name for messages.
    @inlinable
    package var name: String {
        switch self {
        case .backpropagation: return ".backpropagation"
        case .truncated(let steps): return ".truncated(steps: \(steps))"
        case .checkpointed: return ".checkpointed"
        case .backsolveAdjoint: return ".backsolveAdjoint"
        case .interpolatingAdjoint: return ".interpolatingAdjoint"
        }
    }
}
