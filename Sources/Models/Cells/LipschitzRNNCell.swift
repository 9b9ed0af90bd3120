import RNNODETensors

/// The Lipschitz RNN (Erichson, Azencot, Queiruga, Hodgkinson and Mahoney, ICLR 2021) as a vector field:
///
///     A = (1 − β_A)(M_A + M_Aᵀ) + β_A (M_A − M_Aᵀ) − γ_A I
///     W = (1 − β_W)(M_W + M_Wᵀ) + β_W (M_W − M_Wᵀ) − γ_W I
///     dh/dt = h·A + σ(x·U + b + h·W)
///
/// A linear part h·A plus a bounded nonlinearity: with β near 1 the matrices are nearly
/// antisymmetric, and the paper bounds the field's Lipschitz constant and gives conditions on β and
/// γ for the hidden dynamics to be stable. Its published discretizations are forward Euler and a
/// two-stage Runge–Kutta step with step ε: `integration: .fixed(.euler, timeStep: ε)`, or a
/// two-stage tableau (`.midpoint`, `.heun`) in place of Euler. β and γ are fixed hyperparameters;
/// M_A, M_W, U and b are trained.
///
/// In this library's row convention (``RecurrentCell``) h·A is the paper's A h with M transposed:
/// the symmetric and antisymmetric parts keep their roles.
///
/// - Shapes: U `[inputSize, hiddenSize]`, M_A and M_W `[hiddenSize, hiddenSize]`, b `[hiddenSize]`.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = LipschitzRNNCell<Float>(inputSize: 1, hiddenSize: 128, beta: 0.75, gamma: 0.001, using: &generator)
/// let layer = RecurrentLayer(cell, integration: .fixed(.euler, timeStep: 0.03))
/// ```
public struct LipschitzRNNCell<Scalar: TensorScalar>: RecurrentCell {
    /// U `[inputSize, hiddenSize]`.
    public var inputWeight: Tensor<Scalar>
    /// M_A `[hiddenSize, hiddenSize]`, from which the linear part's matrix A is built.
    public var linearWeight: Tensor<Scalar>
    /// M_W `[hiddenSize, hiddenSize]`, from which the nonlinear part's matrix W is built.
    public var recurrentWeight: Tensor<Scalar>
    /// b `[hiddenSize]`.
    public var bias: Tensor<Scalar>
    /// (β_A, γ_A): A's blend of symmetric and antisymmetric parts, and its shift.
    public var linearBlend: (beta: Scalar, gamma: Scalar)
    /// (β_W, γ_W), the same for W.
    public var recurrentBlend: (beta: Scalar, gamma: Scalar)
    /// σ (tanh by default).
    public var activation: Activation

    /// A cell with the given weights; `beta` and `gamma` apply to both A and W unless
    /// `recurrentBlend` gives W its own.
    ///
    /// - Precondition: the shapes are as documented on the type, β ∈ [0, 1] and γ ≥ 0.
    public init(
        inputWeight: Tensor<Scalar>, linearWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, bias: Tensor<Scalar>,
        beta: Scalar = 0.75, gamma: Scalar = 0.001, recurrentBlend: (beta: Scalar, gamma: Scalar)? = nil,
        activation: Activation = .tanh
    ) {
        require(
            inputWeight.rank == 2,
            "LipschitzRNNCell: inputWeight must be [inputSize, hiddenSize], got \(describeShape(inputWeight.shape))")
        let h = inputWeight.shape[1]
        checkCellWeight("LipschitzRNNCell", "linearWeight", linearWeight, [h, h])
        checkCellWeight("LipschitzRNNCell", "recurrentWeight", recurrentWeight, [h, h])
        checkCellWeight("LipschitzRNNCell", "bias", bias, [h])
        let blends: [(String, (beta: Scalar, gamma: Scalar))] = [
            ("A's", (beta, gamma)), ("W's", recurrentBlend ?? (beta, gamma)),
        ]
        for (name, blend) in blends {
            require(blend.beta >= 0 && blend.beta <= 1, "LipschitzRNNCell: \(name) β must be in [0, 1], got \(blend.beta)")
            require(blend.gamma >= 0, "LipschitzRNNCell: \(name) γ must be ≥ 0, got \(blend.gamma)")
        }
        self.inputWeight = inputWeight
        self.linearWeight = linearWeight
        self.recurrentWeight = recurrentWeight
        self.bias = bias
        linearBlend = (beta, gamma)
        self.recurrentBlend = recurrentBlend ?? (beta, gamma)
        self.activation = activation
    }

    /// A cell with freshly drawn weights: U and b from `initialization` (Keras' Glorot uniform and
    /// zeros by default); M_A and M_W normal with standard deviation `matrixScale / hiddenSize`
    /// (the paper's draw, `matrixScale` its σ).
    public init(
        inputSize: Int, hiddenSize: Int, beta: Scalar = 0.75, gamma: Scalar = 0.001,
        recurrentBlend: (beta: Scalar, gamma: Scalar)? = nil, activation: Activation = .tanh,
        initialization: CellInitialization = .keras, matrixScale: Double = 1, using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "LipschitzRNNCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        require(matrixScale > 0, "LipschitzRNNCell: matrixScale must be positive, got \(matrixScale)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        let matrices = Initializer.normal(mean: 0, standardDeviation: matrixScale / Double(hiddenSize))
        self.init(
            inputWeight: initializers.input.make([inputSize, hiddenSize], using: &generator),
            linearWeight: matrices.make([hiddenSize, hiddenSize], using: &generator),
            recurrentWeight: matrices.make([hiddenSize, hiddenSize], using: &generator),
            bias: initializers.bias.make([hiddenSize], using: &generator), beta: beta, gamma: gamma,
            recurrentBlend: recurrentBlend, activation: activation)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { inputWeight.shape[1] }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [
            .init("inputWeight", \.inputWeight), .init("linearWeight", \.linearWeight),
            .init("recurrentWeight", \.recurrentWeight), .init("bias", \.bias),
        ]
    }

    /// A, the linear part's matrix (recorded when M_A is).
    @inlinable
    public var linearMatrix: Tensor<Scalar> {
        blendedRecurrentMatrix(linearWeight, beta: linearBlend.beta, gamma: linearBlend.gamma)
    }

    /// W, the nonlinear part's matrix (recorded when M_W is).
    @inlinable
    public var recurrentMatrix: Tensor<Scalar> {
        blendedRecurrentMatrix(recurrentWeight, beta: recurrentBlend.beta, gamma: recurrentBlend.gamma)
    }

    /// x·U + b.
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// h·A + σ(x·U + b + h·W).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        matmul(state, linearMatrix) + activation(projectedInput + matmul(state, recurrentMatrix))
    }
}
