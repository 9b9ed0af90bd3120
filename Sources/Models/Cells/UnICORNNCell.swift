import RNNODETensors

/// The undamped independent controlled oscillatory RNN (UnICORNN; Rusch and Mishra, ICML 2021) as a
/// vector field: uncoupled oscillators, each driven by its input and with its own time scale,
///
///     dy/dt = σ̂(c) ⊙ z
///     dz/dt = −σ̂(c) ⊙ (σ(w ⊙ y + x·V + b) + α y)
///
/// over the state (y, z), with σ̂ the logistic sigmoid. w is a vector (each unit drives itself only,
/// as in IndRNN; units mix through stacked layers), σ̂(c) ∈ (0, 1) a learned per-unit time scale,
/// and α ≥ 0 (``restoringForce``) a fixed restoring force. Without damping the field is
/// Hamiltonian for a fixed input, which is the paper's case for gradients that neither explode nor
/// vanish. The published discretization is symplectic Euler with the step Δt, the velocity first:
///
///     zₙ = zₙ₋₁ − Δt σ̂(c) ⊙ (σ(w ⊙ yₙ₋₁ + xₙV + b) + α yₙ₋₁),   yₙ = yₙ₋₁ + Δt σ̂(c) ⊙ zₙ
///
/// (the reference code's update): ``PartitionedTableau/symplecticEuler`` with the step Δt,
/// `integration: .fixed(partitioned: .symplecticEuler, timeStep: Δt)`. The output is the position
/// y. Any explicit tableau integrates the same ODE.
///
/// - State: `[batch, 2·hiddenSize]`, y then z (``stateParts`` [H, H]).
/// - Shapes: V `[inputSize, hiddenSize]`, b, w and c `[hiddenSize]`.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = UnICORNNCell<Float>(inputSize: 2, hiddenSize: 128, restoringForce: 12, using: &generator)
/// let layer = RecurrentLayer(cell, integration: .fixed(partitioned: .symplecticEuler, timeStep: 0.01))
/// ```
public struct UnICORNNCell<Scalar: TensorScalar>: RecurrentCell {
    /// V `[inputSize, hiddenSize]`.
    public var inputWeight: Tensor<Scalar>
    /// w `[hiddenSize]`, each unit's weight on its own position.
    public var recurrentWeight: Tensor<Scalar>
    /// b `[hiddenSize]`.
    public var bias: Tensor<Scalar>
    /// c `[hiddenSize]`: each unit's time scale is σ̂(c).
    public var timeScale: Tensor<Scalar>
    /// α ≥ 0, the restoring force per unit of displacement (a fixed hyperparameter).
    public var restoringForce: Scalar
    /// σ (tanh by default, as in the paper).
    public var activation: Activation

    /// A cell with the given weights.
    ///
    /// - Precondition: the shapes are as documented on the type; α ≥ 0.
    public init(
        inputWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, bias: Tensor<Scalar>, timeScale: Tensor<Scalar>,
        restoringForce: Scalar, activation: Activation = .tanh
    ) {
        require(
            inputWeight.rank == 2,
            "UnICORNNCell: inputWeight must be [inputSize, hiddenSize], got \(describeShape(inputWeight.shape))")
        let h = inputWeight.shape[1]
        checkCellWeight("UnICORNNCell", "recurrentWeight", recurrentWeight, [h])
        checkCellWeight("UnICORNNCell", "bias", bias, [h])
        checkCellWeight("UnICORNNCell", "timeScale", timeScale, [h])
        require(restoringForce >= 0, "UnICORNNCell: α must be ≥ 0, got \(restoringForce)")
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.bias = bias
        self.timeScale = timeScale
        self.restoringForce = restoringForce
        self.activation = activation
    }

    /// A cell with freshly drawn weights: V and b from `initialization` (Keras' Glorot uniform and
    /// zeros by default), w from U(0, 1) and c from U(−0.1, 0.1), as the reference code draws them.
    public init(
        inputSize: Int, hiddenSize: Int, restoringForce: Scalar, activation: Activation = .tanh,
        initialization: CellInitialization = .keras, using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "UnICORNNCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        self.init(
            inputWeight: initializers.input.make([inputSize, hiddenSize], using: &generator),
            recurrentWeight: Initializer.uniform(lower: 0, upper: 1).make([hiddenSize], using: &generator),
            bias: initializers.bias.make([hiddenSize], using: &generator),
            timeScale: Initializer.uniform(lower: -0.1, upper: 0.1).make([hiddenSize], using: &generator),
            restoringForce: restoringForce, activation: activation)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { inputWeight.shape[1] }
    public var stateSize: Int { 2 * hiddenSize }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [
            .init("inputWeight", \.inputWeight), .init("recurrentWeight", \.recurrentWeight), .init("bias", \.bias),
            .init("timeScale", \.timeScale),
        ]
    }

    /// x·V + b.
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// (σ̂(c) ⊙ z, −σ̂(c) ⊙ (σ(w ⊙ y + p) + α y)).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let yz = gateBlocks(state, count: 2, size: hiddenSize)
        let scale = sigmoid(timeScale)
        let force = activation(projectedInput + yz[0] * recurrentWeight) + restoringForce * yz[0]
        return Tensor(concatenating: [scale * yz[1], -(scale * force)], alongAxis: -1)
    }
}
