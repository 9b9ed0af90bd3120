import RNNODETensors

/// AntisymmetricRNN (Chang, Chen, Haber and Chi, ICLR 2019) as a vector field, and its gated variant:
///
///     M = W − Wᵀ − γI
///     dh/dt = σ(x·V + b + h·M)                                  (plain)
///     dh/dt = σ_g(x·V_z + b_z + h·M) ⊙ σ(x·V_h + b_h + h·M)     (gated)
///
/// The recurrent matrix is antisymmetric up to the diffusion −γI, so the eigenvalues of the field's
/// Jacobian lie on the imaginary axis shifted left by γ: the ODE neither explodes nor (for small γ)
/// forgets, which is the paper's argument for long memory. Its published discretization is forward
/// Euler with the step ε, hₜ = hₜ₋₁ + ε σ(…): a layer with `integration: .fixed(.euler, timeStep: ε)`
/// (ε and γ are hyperparameters the paper tunes). Under any other scheme the cell is the same ODE
/// solved more accurately; the paper's stability condition (ε times the Jacobian's eigenvalues
/// inside the scheme's stability region) belongs to the scheme, not to the cell.
///
/// In this library's row convention (``RecurrentCell``) h·M is the paper's M h with W transposed;
/// the antisymmetric part is the same either way.
///
/// - Shapes: V `[inputSize, hiddenSize]` (gated: `[inputSize, 2·hiddenSize]`, blocks h then z),
///   W `[hiddenSize, hiddenSize]`, b `[hiddenSize]` (gated: `[2·hiddenSize]`, blocks h then z).
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = AntisymmetricRNNCell<Float>(inputSize: 1, hiddenSize: 128, gated: true, diffusion: 0.01, using: &generator)
/// let layer = RecurrentLayer(cell, integration: .fixed(.euler, timeStep: 0.1))   // the published step, ε = 0.1
/// ```
public struct AntisymmetricRNNCell<Scalar: TensorScalar>: RecurrentCell {
    /// V `[inputSize, hiddenSize]`, or `[inputSize, 2·hiddenSize]` (blocks h, z) when gated.
    public var inputWeight: Tensor<Scalar>
    /// W `[hiddenSize, hiddenSize]`; the field uses its antisymmetric part W − Wᵀ.
    public var recurrentWeight: Tensor<Scalar>
    /// b `[hiddenSize]`, or `[2·hiddenSize]` (blocks h, z) when gated.
    public var bias: Tensor<Scalar>
    /// γ ≥ 0, the diffusion that moves the Jacobian's eigenvalues left of the imaginary axis.
    public var diffusion: Scalar
    /// Whether the field has the input gate z.
    public let gated: Bool
    /// σ (tanh by default); the gate's σ_g is the sigmoid.
    public var activation: Activation

    /// A cell with the given weights; `gated` follows from the input weight's width.
    ///
    /// - Precondition: the shapes are as documented on the type, and `diffusion` ≥ 0.
    public init(
        inputWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, bias: Tensor<Scalar>, diffusion: Scalar = 0.01,
        activation: Activation = .tanh
    ) {
        require(
            recurrentWeight.rank == 2 && recurrentWeight.shape[0] == recurrentWeight.shape[1],
            "AntisymmetricRNNCell: recurrentWeight must be [hiddenSize, hiddenSize], got \(describeShape(recurrentWeight.shape))")
        let h = recurrentWeight.shape[0]
        require(
            inputWeight.rank == 2 && (inputWeight.shape[1] == h || inputWeight.shape[1] == 2 * h),
            "AntisymmetricRNNCell: inputWeight must be [inputSize, \(h)] or, gated, [inputSize, \(2 * h)], got "
                + describeShape(inputWeight.shape))
        let gated = inputWeight.shape[1] == 2 * h
        checkCellWeight("AntisymmetricRNNCell", "bias", bias, [gated ? 2 * h : h])
        require(diffusion >= 0, "AntisymmetricRNNCell: the diffusion γ must be ≥ 0, got \(diffusion)")
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.bias = bias
        self.diffusion = diffusion
        self.gated = gated
        self.activation = activation
    }

    /// A cell with freshly drawn weights (Keras' initializers by default: Glorot uniform V, orthogonal
    /// W, zero biases), the gate's bias 1 (the gate starts open, as in the paper's experiments).
    public init(
        inputSize: Int, hiddenSize: Int, gated: Bool = false, diffusion: Scalar = 0.01, activation: Activation = .tanh,
        initialization: CellInitialization = .keras, using generator: inout some RandomNumberGenerator
    ) {
        require(
            inputSize > 0 && hiddenSize > 0, "AntisymmetricRNNCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        let width = gated ? 2 * hiddenSize : hiddenSize
        var bias: Tensor<Scalar> = initializers.bias.make([width], using: &generator)
        if gated {
            bias.withUnsafeMutableBufferPointer { b in
                for j in hiddenSize..<width { b[j] = 1 }
            }
        }
        self.init(
            inputWeight: initializers.input.make([inputSize, width], using: &generator),
            recurrentWeight: initializers.recurrent.make([hiddenSize, hiddenSize], using: &generator), bias: bias,
            diffusion: diffusion, activation: activation)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { recurrentWeight.shape[0] }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [.init("inputWeight", \.inputWeight), .init("recurrentWeight", \.recurrentWeight), .init("bias", \.bias)]
    }

    /// M = W − Wᵀ − γI, the matrix the field multiplies the state by (recorded when W is).
    @inlinable
    public var recurrentMatrix: Tensor<Scalar> { blendedRecurrentMatrix(recurrentWeight, beta: 1, gamma: diffusion) }

    /// x·V + b (gated: the blocks h, z).
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// σ(p + h·M), or σ_g(p_z + h·M) ⊙ σ(p_h + h·M) when gated.
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let recurrent = matmul(state, recurrentMatrix)
        guard gated else { return activation(projectedInput + recurrent) }
        let blocks = gateBlocks(projectedInput, count: 2, size: hiddenSize)
        return sigmoid(blocks[1] + recurrent) * activation(blocks[0] + recurrent)
    }
}
