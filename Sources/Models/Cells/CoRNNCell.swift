import RNNODETensors

/// The coupled oscillatory RNN (coRNN; Rusch and Mishra, ICLR 2021) as a vector field: a network of
/// damped, driven, coupled oscillators,
///
///     y″ = σ(y·W + y′·𝒲 + x·V + b) − γ y − ε y′
///
/// written first order over the state (y, z) with z = y′:
///
///     dy/dt = z
///     dz/dt = σ(y·W + z·𝒲 + x·V + b) − γ y − ε z
///
/// The output is the position y. γ > 0 (``stiffness``) makes each unit an oscillator and ε > 0
/// (``damping``) damps it; bounded σ keeps the energy bounded, which is the paper's argument for
/// gradients that neither explode nor vanish. The published discretization updates the velocity
/// first and the position from the new velocity,
///
///     zₙ = zₙ₋₁ + Δt (σ(yₙ₋₁W + zₙ₋₁𝒲 + xₙV + b) − γ yₙ₋₁ − ε zₙ₋₁),   yₙ = yₙ₋₁ + Δt zₙ
///
/// (the reference code's explicit variant): ``PartitionedTableau/symplecticEuler`` with the step
/// Δt, `integration: .fixed(partitioned: .symplecticEuler, timeStep: Δt)`. The paper's IMEX variant
/// takes the damping implicitly, zₙ = (zₙ₋₁ + Δt (σ(·) − γ yₙ₋₁)) / (1 + Δt ε):
/// ``SemiImplicitTableau/imexSymplecticEuler``, `.fixed(semiImplicit: .imexSymplecticEuler,
/// timeStep: Δt)` (the cell splits off its damping as its decay). Any explicit tableau integrates
/// the same ODE.
///
/// - State: `[batch, 2·hiddenSize]`, y then z (``stateParts`` [H, H]).
/// - Shapes: V `[inputSize, hiddenSize]`, the recurrent weight `[2·hiddenSize, hiddenSize]` (W for
///   y above 𝒲 for z: the state row times it is y·W + z·𝒲), b `[hiddenSize]`.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = CoRNNCell<Float>(inputSize: 2, hiddenSize: 128, stiffness: 2.7, damping: 4.7, using: &generator)
/// let layer = RecurrentLayer(cell, integration: .fixed(partitioned: .symplecticEuler, timeStep: 0.042))
/// ```
public struct CoRNNCell<Scalar: TensorScalar>: RecurrentCell {
    /// V `[inputSize, hiddenSize]`.
    public var inputWeight: Tensor<Scalar>
    /// [W; 𝒲] `[2·hiddenSize, hiddenSize]`: the position's rows, then the velocity's.
    public var recurrentWeight: Tensor<Scalar>
    /// b `[hiddenSize]`.
    public var bias: Tensor<Scalar>
    /// γ ≥ 0, the restoring force per unit of displacement (a fixed hyperparameter).
    public var stiffness: Scalar
    /// ε ≥ 0, the damping per unit of velocity (a fixed hyperparameter).
    public var damping: Scalar
    /// σ (tanh by default).
    public var activation: Activation

    /// A cell with the given weights.
    ///
    /// - Precondition: the shapes are as documented on the type; γ, ε ≥ 0.
    public init(
        inputWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, bias: Tensor<Scalar>, stiffness: Scalar,
        damping: Scalar, activation: Activation = .tanh
    ) {
        require(
            inputWeight.rank == 2,
            "CoRNNCell: inputWeight must be [inputSize, hiddenSize], got \(describeShape(inputWeight.shape))")
        let h = inputWeight.shape[1]
        checkCellWeight("CoRNNCell", "recurrentWeight", recurrentWeight, [2 * h, h])
        checkCellWeight("CoRNNCell", "bias", bias, [h])
        require(stiffness >= 0 && damping >= 0, "CoRNNCell: γ and ε must be ≥ 0, got \(stiffness), \(damping)")
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.bias = bias
        self.stiffness = stiffness
        self.damping = damping
        self.activation = activation
    }

    /// A cell with freshly drawn weights (Keras' initializers by default).
    public init(
        inputSize: Int, hiddenSize: Int, stiffness: Scalar, damping: Scalar, activation: Activation = .tanh,
        initialization: CellInitialization = .keras, using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "CoRNNCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        self.init(
            inputWeight: initializers.input.make([inputSize, hiddenSize], using: &generator),
            recurrentWeight: initializers.recurrent.make([2 * hiddenSize, hiddenSize], using: &generator),
            bias: initializers.bias.make([hiddenSize], using: &generator), stiffness: stiffness, damping: damping,
            activation: activation)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { inputWeight.shape[1] }
    public var stateSize: Int { 2 * hiddenSize }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [.init("inputWeight", \.inputWeight), .init("recurrentWeight", \.recurrentWeight), .init("bias", \.bias)]
    }

    /// x·V + b.
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// (z, σ(p + [y, z]·[W; 𝒲]) − γ y − ε z).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let yz = gateBlocks(state, count: 2, size: hiddenSize)
        let force = activation(projectedInput + matmul(state, recurrentWeight))
        return Tensor(concatenating: [yz[1], force - stiffness * yz[0] - damping * yz[1]], alongAxis: -1)
    }
}
