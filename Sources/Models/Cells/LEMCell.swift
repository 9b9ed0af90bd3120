import RNNODETensors

/// Long Expressive Memory (LEM; Rusch, Mishra, Erichson and Mahoney, ICLR 2022) as a vector field:
/// two coupled memories y and z, each relaxing towards its candidate at a learned, state- and
/// input-dependent rate (a multiscale time step per unit),
///
///     dz/dt = σ_g(x·V_z̃ + y·W_z̃ + b_z̃) ⊙ (σ(x·V_z + y·W_z + b_z) − z)
///     dy/dt = σ_g(x·V_ỹ + y·W_ỹ + b_ỹ) ⊙ (σ(x·V_y + z·M + b_y) − y)
///
/// with σ_g the sigmoid and σ tanh. The output is y. The published discretization advances z by
/// Euler from the old state, then y from the new z (the rates and y's own term from the old y):
///
///     Δtₙ = Δt σ_g(…_z̃),  zₙ = (1 − Δtₙ) ⊙ zₙ₋₁ + Δtₙ ⊙ σ(xₙV_z + yₙ₋₁W_z + b_z)
///     Δ̄tₙ = Δt σ_g(…_ỹ),  yₙ = (1 − Δ̄tₙ) ⊙ yₙ₋₁ + Δ̄tₙ ⊙ σ(xₙV_y + zₙM + b_y)
///
/// which is ``PartitionedTableau/symplecticEuler`` with the step Δt:
/// `integration: .fixed(partitioned: .symplecticEuler, timeStep: Δt)`. Any explicit tableau
/// integrates the same ODE.
///
/// - State: `[batch, 2·hiddenSize]`, y then z (``stateParts`` [H, H]).
/// - Shapes (H = hiddenSize), in the reference code's block order: the input weight
///   `[inputSize, 4H]` and the bias `[4H]` hold y's rate ỹ, z's rate z̃, y's candidate and z's
///   candidate; the recurrent weight `[H, 3H]` holds y's weights into ỹ, z̃ and z's candidate;
///   M `[H, H]` maps z into y's candidate. (The reference's `inp2hid`, `hid2hid` and `transform_z`,
///   transposed, with their biases summed into b.)
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = LEMCell<Float>(inputSize: 2, hiddenSize: 128, using: &generator)
/// let layer = RecurrentLayer(cell, integration: .fixed(partitioned: .symplecticEuler, timeStep: 1))
/// ```
public struct LEMCell<Scalar: TensorScalar>: RecurrentCell {
    /// `[inputSize, 4·hiddenSize]`: blocks ỹ, z̃, y's candidate, z's candidate.
    public var inputWeight: Tensor<Scalar>
    /// `[hiddenSize, 3·hiddenSize]`: y into ỹ, z̃ and z's candidate.
    public var recurrentWeight: Tensor<Scalar>
    /// M `[hiddenSize, hiddenSize]`: z into y's candidate.
    public var memoryWeight: Tensor<Scalar>
    /// `[4·hiddenSize]`, the blocks of ``inputWeight``.
    public var bias: Tensor<Scalar>
    /// σ for the candidates (tanh by default); the rates use the sigmoid.
    public var activation: Activation

    /// A cell with the given weights.
    ///
    /// - Precondition: the shapes are as documented on the type.
    public init(
        inputWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, memoryWeight: Tensor<Scalar>, bias: Tensor<Scalar>,
        activation: Activation = .tanh
    ) {
        require(
            inputWeight.rank == 2 && inputWeight.shape[1] % 4 == 0,
            "LEMCell: inputWeight must be [inputSize, 4·hiddenSize], got \(describeShape(inputWeight.shape))")
        let h = inputWeight.shape[1] / 4
        checkCellWeight("LEMCell", "recurrentWeight", recurrentWeight, [h, 3 * h])
        checkCellWeight("LEMCell", "memoryWeight", memoryWeight, [h, h])
        checkCellWeight("LEMCell", "bias", bias, [4 * h])
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.memoryWeight = memoryWeight
        self.bias = bias
        self.activation = activation
    }

    /// A cell with freshly drawn weights: by default every weight and bias U(−1/√H, 1/√H), as the
    /// reference code draws them (``CellInitialization/pytorch``).
    public init(
        inputSize: Int, hiddenSize: Int, activation: Activation = .tanh, initialization: CellInitialization = .pytorch,
        using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "LEMCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        self.init(
            inputWeight: initializers.input.make([inputSize, 4 * hiddenSize], using: &generator),
            recurrentWeight: initializers.recurrent.make([hiddenSize, 3 * hiddenSize], using: &generator),
            memoryWeight: initializers.recurrent.make([hiddenSize, hiddenSize], using: &generator),
            bias: initializers.bias.make([4 * hiddenSize], using: &generator), activation: activation)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { inputWeight.shape[1] / 4 }
    public var stateSize: Int { 2 * hiddenSize }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [
            .init("inputWeight", \.inputWeight), .init("recurrentWeight", \.recurrentWeight),
            .init("memoryWeight", \.memoryWeight), .init("bias", \.bias),
        ]
    }

    /// x·V + b: blocks ỹ, z̃, y's candidate, z's candidate.
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// (dy/dt, dz/dt) as on the type.
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let h = hiddenSize
        let yz = gateBlocks(state, count: 2, size: h)
        let (y, z) = (yz[0], yz[1])
        let p = gateBlocks(projectedInput, count: 4, size: h)
        let r = gateBlocks(matmul(y, recurrentWeight), count: 3, size: h)
        let dy = sigmoid(p[0] + r[0]) * (activation(p[2] + matmul(z, memoryWeight)) - y)
        let dz = sigmoid(p[1] + r[1]) * (activation(p[3] + r[2]) - z)
        return Tensor(concatenating: [dy, dz], alongAxis: -1)
    }
}
