import RNNODETensors

/// The independently recurrent cell (IndRNN; Li, Li, Cook, Zhu and Gao, CVPR 2018) as a vector field:
///
///     dh/dt = −h + σ(x·W + u ⊙ h + b)
///
/// Every unit sees only its own past: the recurrent weight is a vector u (one self-connection per
/// unit) instead of a matrix, so the field is diagonal in h and each unit is a leaky integrator with
/// its own feedback gain. At Euler with Δt = 1 the step is the published recurrence
/// hₜ = σ(W xₜ + u ⊙ hₜ₋₁ + b); the paper's σ is relu, the default here. Units interact only
/// through stacked layers (``RecurrentStack``).
///
/// As an ODE, a unit on the linear part of relu relaxes at rate 1 − uᵢ: |uᵢ| < 1 gives a stable unit
/// and uᵢ near 1 a long memory, which is how IndRNN keeps gradients alive over thousands of steps;
/// the default draw U(0, 1) starts every unit stable.
///
/// - Shapes: W `[inputSize, hiddenSize]`, u `[hiddenSize]`, b `[hiddenSize]`.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = IndRNNCell<Float>(inputSize: 2, hiddenSize: 128, using: &generator)
/// let h = try RecurrentLayer(cell)(x).sequence          // Euler, Δt = 1: the published IndRNN
/// ```
public struct IndRNNCell<Scalar: TensorScalar>: RecurrentCell {
    /// W `[inputSize, hiddenSize]`.
    public var inputWeight: Tensor<Scalar>
    /// u `[hiddenSize]`, each unit's weight on its own previous value.
    public var recurrentWeight: Tensor<Scalar>
    /// b `[hiddenSize]`.
    public var bias: Tensor<Scalar>
    /// σ: relu (the default, as in the paper), tanh, or any other ``Activation``.
    public var activation: Activation

    /// A cell with the given weights.
    ///
    /// - Precondition: the shapes are as documented on the type.
    public init(
        inputWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, bias: Tensor<Scalar>, activation: Activation = .relu
    ) {
        require(
            inputWeight.rank == 2,
            "IndRNNCell: inputWeight must be [inputSize, hiddenSize], got \(describeShape(inputWeight.shape))")
        let h = inputWeight.shape[1]
        checkCellWeight("IndRNNCell", "recurrentWeight", recurrentWeight, [h])
        checkCellWeight("IndRNNCell", "bias", bias, [h])
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.bias = bias
        self.activation = activation
    }

    /// A cell with freshly drawn weights: W and b from `initialization` (Keras' Glorot uniform and
    /// zeros by default), u from `recurrentInitializer` (U(0, 1) by default).
    public init(
        inputSize: Int, hiddenSize: Int, activation: Activation = .relu, initialization: CellInitialization = .keras,
        recurrentInitializer: Initializer = .uniform(lower: 0, upper: 1), using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "IndRNNCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        self.init(
            inputWeight: initializers.input.make([inputSize, hiddenSize], using: &generator),
            recurrentWeight: recurrentInitializer.make([hiddenSize], using: &generator),
            bias: initializers.bias.make([hiddenSize], using: &generator), activation: activation)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { inputWeight.shape[1] }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [.init("inputWeight", \.inputWeight), .init("recurrentWeight", \.recurrentWeight), .init("bias", \.bias)]
    }

    /// x·W + b.
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// −h + σ(x·W + b + u ⊙ h).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        activation(projectedInput + state * recurrentWeight) - state
    }
}
