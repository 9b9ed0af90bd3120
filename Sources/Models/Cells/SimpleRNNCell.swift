import RNNODETensors

/// The Elman / SimpleRNN cell as a vector field:
///
///     dh/dt = −h + σ(x·W + h·U + b)
///
/// At Euler with Δt = 1 the step h + (−h + σ(…)) is the classic cell hₜ = σ(xₜW + hₜ₋₁U + b)
/// (PyTorch's `nn.RNN`, Keras' `SimpleRNN`). In continuous time it is a leaky integrator with unit
/// time constant: the state relaxes towards σ(xW + hU + b) at rate 1, and Δt < 1 makes the cell
/// leaky — hₜ = (1 − Δt)hₜ₋₁ + Δt σ(…) at Euler.
///
/// - Shapes: W `[inputSize, hiddenSize]`, U `[hiddenSize, hiddenSize]`, b `[hiddenSize]` (PyTorch
///   stores Wᵀ and Uᵀ and two biases whose sum is b; `PyTorchRecurrentWeights` in RNNODEIO converts them).
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = SimpleRNNCell<Double>(inputSize: 5, hiddenSize: 16, activation: .tanh, using: &generator)
/// let layer = RecurrentLayer(cell)                                  // Euler, Δt = 1: the classic RNN
/// let h = try layer(Tensor<Double>.zeros([2, 10, 5])).sequence      // [2, 10, 16]
/// ```
public struct SimpleRNNCell<Scalar: TensorScalar>: RecurrentCell {
    /// W `[inputSize, hiddenSize]`.
    public var inputWeight: Tensor<Scalar>
    /// U `[hiddenSize, hiddenSize]`.
    public var recurrentWeight: Tensor<Scalar>
    /// b `[hiddenSize]`.
    public var bias: Tensor<Scalar>
    /// σ: tanh (the default) or relu, or any other ``Activation``.
    public var activation: Activation

    /// A cell with the given weights.
    ///
    /// - Precondition: the shapes are as documented on the type.
    public init(
        inputWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, bias: Tensor<Scalar>, activation: Activation = .tanh
    ) {
        require(
            inputWeight.rank == 2,
            "SimpleRNNCell: inputWeight must be [inputSize, hiddenSize], got \(describeShape(inputWeight.shape))")
        let h = inputWeight.shape[1]
        checkCellWeight("SimpleRNNCell", "recurrentWeight", recurrentWeight, [h, h])
        checkCellWeight("SimpleRNNCell", "bias", bias, [h])
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.bias = bias
        self.activation = activation
    }

    /// A cell with freshly drawn weights (Keras' initializers by default).
    public init(
        inputSize: Int, hiddenSize: Int, activation: Activation = .tanh, initialization: CellInitialization = .keras,
        using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "SimpleRNNCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        self.init(
            inputWeight: initializers.input.make([inputSize, hiddenSize], using: &generator),
            recurrentWeight: initializers.recurrent.make([hiddenSize, hiddenSize], using: &generator),
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

    /// −h + σ(x·W + b + h·U).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        activation(projectedInput + matmul(state, recurrentWeight)) - state
    }
}
