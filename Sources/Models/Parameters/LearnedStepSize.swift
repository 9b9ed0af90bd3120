import RNNODETensors

/// A step size Δt > 0 that is trained: Δt = softplus(φ) with φ the trainable parameter, as one scalar
/// or one value per state component (learned time constants).
///
/// ```swift
/// var step = LearnedStepSize<Double>(Tensor([0.5, 0.5]))   // one Δt per component
/// let run = try solveSteps(field, initialState: y0, steps: 50, stepSize: step.value, method: .euler)
/// ```
public struct LearnedStepSize<Scalar: TensorScalar>: Trainable, Sendable {
    /// φ, with Δt = softplus(φ).
    public var raw: Tensor<Scalar>

    /// A learned step starting at `initial` (all entries positive): a scalar (shape `[]`) or one value
    /// per component.
    @inlinable
    public init(_ initial: Tensor<Scalar>) {
        raw = ParameterTransform.softplus.inverse(initial)
    }

    /// A scalar learned step starting at `initial` > 0.
    @inlinable
    public init(_ initial: Scalar) {
        self.init(Tensor(initial))
    }

    /// Δt = softplus(φ) (differentiable).
    @inlinable
    public var value: Tensor<Scalar> { ParameterTransform.softplus(raw) }

    public var parameterPaths: [ParameterPath<Self>] { [.init("raw", \.raw)] }
}
