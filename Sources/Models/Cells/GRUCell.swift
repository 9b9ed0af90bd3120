import RNNODETensors

/// The gated recurrent unit as a vector field:
///
///     r = σ_g(x·W_r + b_ir + h·U_r + b_hr)                 (reset gate)
///     z = σ_g(x·W_z + b_iz + h·U_z + b_hz)                 (update gate)
///     n = σ(x·W_n + b_in + r ⊙ (h·U_n + b_hn))            (candidate; "reset after")
///     dh/dt = (1 − z) ⊙ (n − h)
///
/// At Euler with Δt = 1 the step h + (1 − z) ⊙ (n − h) = (1 − z) ⊙ n + z ⊙ h is PyTorch's `nn.GRU`
/// and Keras' `GRU(reset_after=True)` exactly. Read as an ODE, the update gate is a state- and
/// input-dependent rate: 1 − z ∈ (0, 1) scales how fast h relaxes towards the candidate n, so a GRU
/// is a leaky integrator that learns its own time constants.
///
/// With ``resetAfter`` false the reset gate acts before the recurrent product (the original GRU of
/// Cho et al. and Keras' `reset_after=False`): n = σ(x·W_n + b_in + (r ⊙ h)·U_n + b_hn).
///
/// - Shapes: W `[inputSize, 3·hiddenSize]` and U `[hiddenSize, 3·hiddenSize]` hold the gates in the
///   order r, z, n (PyTorch's, transposed); b and b_h are `[3·hiddenSize]` (PyTorch's `bias_ih` and
///   `bias_hh`). σ_g is the ``recurrentActivation`` (sigmoid), σ the ``activation`` (tanh).
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = GRUCell<Float>(inputSize: 64, hiddenSize: 128, using: &generator)
/// let rk4 = RecurrentLayer(cell, integration: .fixed(.rk4))       // the same cell, integrated by RK4
/// ```
public struct GRUCell<Scalar: TensorScalar>: RecurrentCell {
    /// W `[inputSize, 3·hiddenSize]`, gates r, z, n.
    public var inputWeight: Tensor<Scalar>
    /// U `[hiddenSize, 3·hiddenSize]`, gates r, z, n.
    public var recurrentWeight: Tensor<Scalar>
    /// The input bias `[3·hiddenSize]` (b_ir, b_iz, b_in).
    public var bias: Tensor<Scalar>
    /// The recurrent bias `[3·hiddenSize]` (b_hr, b_hz, b_hn).
    public var recurrentBias: Tensor<Scalar>
    /// σ for the candidate (tanh by default).
    public var activation: Activation
    /// σ_g for the gates (sigmoid by default; old Keras used hard_sigmoid).
    public var recurrentActivation: Activation
    /// Whether the reset gate multiplies h·U_n + b_hn (true, PyTorch) or h before the product (false).
    public var resetAfter: Bool

    /// A cell with the given weights.
    ///
    /// - Precondition: the shapes are as documented on the type.
    public init(
        inputWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, bias: Tensor<Scalar>, recurrentBias: Tensor<Scalar>,
        activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid, resetAfter: Bool = true
    ) {
        require(
            inputWeight.rank == 2 && inputWeight.shape[1] % 3 == 0,
            "GRUCell: inputWeight must be [inputSize, 3·hiddenSize], got \(describeShape(inputWeight.shape))")
        let h = inputWeight.shape[1] / 3
        checkCellWeight("GRUCell", "recurrentWeight", recurrentWeight, [h, 3 * h])
        checkCellWeight("GRUCell", "bias", bias, [3 * h])
        checkCellWeight("GRUCell", "recurrentBias", recurrentBias, [3 * h])
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.bias = bias
        self.recurrentBias = recurrentBias
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.resetAfter = resetAfter
    }

    /// A cell with freshly drawn weights (Keras' initializers by default).
    public init(
        inputSize: Int, hiddenSize: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
        resetAfter: Bool = true, initialization: CellInitialization = .keras,
        using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "GRUCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        self.init(
            inputWeight: initializers.input.make([inputSize, 3 * hiddenSize], using: &generator),
            recurrentWeight: initializers.recurrent.make([hiddenSize, 3 * hiddenSize], using: &generator),
            bias: initializers.bias.make([3 * hiddenSize], using: &generator),
            recurrentBias: initializers.bias.make([3 * hiddenSize], using: &generator),
            activation: activation, recurrentActivation: recurrentActivation, resetAfter: resetAfter)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { inputWeight.shape[1] / 3 }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [
            .init("inputWeight", \.inputWeight), .init("recurrentWeight", \.recurrentWeight), .init("bias", \.bias),
            .init("recurrentBias", \.recurrentBias),
        ]
    }

    /// x·W + b for all three gates.
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// (1 − z) ⊙ (n − h).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let h = hiddenSize
        let input = gateBlocks(projectedInput, count: 3, size: h)
        let r: Tensor<Scalar>
        let z: Tensor<Scalar>
        let n: Tensor<Scalar>
        if resetAfter {
            let recurrent = gateBlocks(matmul(state, recurrentWeight) + recurrentBias, count: 3, size: h)
            r = recurrentActivation(input[0] + recurrent[0])
            z = recurrentActivation(input[1] + recurrent[1])
            n = activation(input[2] + r * recurrent[2])
        } else {
            let weights = gateBlocks(recurrentWeight, count: 3, size: h)
            let biases = gateBlocks(recurrentBias, count: 3, size: h)
            let gates = matmul(state, Tensor(concatenating: [weights[0], weights[1]], alongAxis: 1))
            let recurrent = gateBlocks(gates, count: 2, size: h)
            r = recurrentActivation(input[0] + recurrent[0] + biases[0])
            z = recurrentActivation(input[1] + recurrent[1] + biases[1])
            n = activation(input[2] + matmul(r * state, weights[2]) + biases[2])
        }
        return (1 - z) * (n - state)
    }
}
