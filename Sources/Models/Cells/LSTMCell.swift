import RNNODETensors

/// The long short-term memory cell as a vector field over the pair (h, c):
///
///     i = σ_g(x·W_i + h·U_i + b_i),  f = σ_g(x·W_f + h·U_f + b_f),  o = σ_g(x·W_o + h·U_o + b_o)
///     g = σ(x·W_g + h·U_g + b_g)
///     c̃ = f ⊙ c + i ⊙ g
///     dc/dt = c̃ − c
///     dh/dt = o ⊙ σ(c̃) − h
///
/// At Euler with Δt = 1 the step is the classic LSTM cₜ = f ⊙ cₜ₋₁ + i ⊙ g, hₜ = o ⊙ tanh(cₜ)
/// (PyTorch's `nn.LSTM`, Keras' `LSTM`). As an ODE, dc/dt = −(1 − f) ⊙ c + i ⊙ g: the forget gate is
/// a learned decay rate of the memory, which is why a forget bias of 1 (``init(inputSize:hiddenSize:activation:recurrentActivation:unitForgetBias:initialization:using:)``,
/// Keras' `unit_forget_bias`) makes memories long at the start of training.
///
/// - State: `[batch, 2·hiddenSize]`, h first then c, so that the output is the first half.
/// - Shapes: W `[inputSize, 4·hiddenSize]` and U `[hiddenSize, 4·hiddenSize]` hold the gates in
///   PyTorch's order i, f, g, o (transposed); b `[4·hiddenSize]` is PyTorch's `bias_ih + bias_hh`.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = LSTMCell<Float>(inputSize: 32, hiddenSize: 64, unitForgetBias: true, using: &generator)
/// let out = try RecurrentLayer(cell)(x)          // out.sequence [B, T, 64], out.finalState [B, 128]
/// ```
public struct LSTMCell<Scalar: TensorScalar>: RecurrentCell {
    /// W `[inputSize, 4·hiddenSize]`, gates i, f, g, o.
    public var inputWeight: Tensor<Scalar>
    /// U `[hiddenSize, 4·hiddenSize]`, gates i, f, g, o.
    public var recurrentWeight: Tensor<Scalar>
    /// b `[4·hiddenSize]`, gates i, f, g, o.
    public var bias: Tensor<Scalar>
    /// σ for the candidate g and the output σ(c̃) (tanh by default).
    public var activation: Activation
    /// σ_g for the gates i, f, o (sigmoid by default).
    public var recurrentActivation: Activation

    /// A cell with the given weights.
    ///
    /// - Precondition: the shapes are as documented on the type.
    public init(
        inputWeight: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>, bias: Tensor<Scalar>,
        activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid
    ) {
        require(
            inputWeight.rank == 2 && inputWeight.shape[1] % 4 == 0,
            "LSTMCell: inputWeight must be [inputSize, 4·hiddenSize], got \(describeShape(inputWeight.shape))")
        let h = inputWeight.shape[1] / 4
        checkCellWeight("LSTMCell", "recurrentWeight", recurrentWeight, [h, 4 * h])
        checkCellWeight("LSTMCell", "bias", bias, [4 * h])
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.bias = bias
        self.activation = activation
        self.recurrentActivation = recurrentActivation
    }

    /// A cell with freshly drawn weights (Keras' initializers by default). With `unitForgetBias` the
    /// forget gate's bias starts at 1 (Jozefowicz et al. 2015; Keras' default).
    public init(
        inputSize: Int, hiddenSize: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
        unitForgetBias: Bool = true, initialization: CellInitialization = .keras,
        using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "LSTMCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        var bias: Tensor<Scalar> = initializers.bias.make([4 * hiddenSize], using: &generator)
        if unitForgetBias {
            bias.withUnsafeMutableBufferPointer { b in
                for j in hiddenSize..<(2 * hiddenSize) { b[j] = 1 }
            }
        }
        self.init(
            inputWeight: initializers.input.make([inputSize, 4 * hiddenSize], using: &generator),
            recurrentWeight: initializers.recurrent.make([hiddenSize, 4 * hiddenSize], using: &generator),
            bias: bias, activation: activation, recurrentActivation: recurrentActivation)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { inputWeight.shape[1] / 4 }
    /// h and c: 2·hiddenSize.
    public var stateSize: Int { 2 * hiddenSize }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [.init("inputWeight", \.inputWeight), .init("recurrentWeight", \.recurrentWeight), .init("bias", \.bias)]
    }

    /// x·W + b for all four gates.
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// (o ⊙ σ(c̃) − h, c̃ − c), concatenated.
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let size = hiddenSize
        let hc = gateBlocks(state, count: 2, size: size)
        let (h, c) = (hc[0], hc[1])
        let gates = gateBlocks(projectedInput + matmul(h, recurrentWeight), count: 4, size: size)
        let i = recurrentActivation(gates[0])
        let f = recurrentActivation(gates[1])
        let g = activation(gates[2])
        let o = recurrentActivation(gates[3])
        let newC = f * c + i * g
        let newH = o * activation(newC)
        return Tensor(concatenating: [newH - h, newC - c], alongAxis: -1)
    }
}

extension LSTMCell {
    /// The memory c of a state `[..., 2·hiddenSize]`: its second half.
    @inlinable
    public func memory(of state: Tensor<Scalar>) -> Tensor<Scalar> {
        state.slice(alongAxis: -1, hiddenSize..<(2 * hiddenSize))
    }

    /// The state [h, c] from its halves `[batch, hiddenSize]` each.
    @inlinable
    public func state(hidden h: Tensor<Scalar>, memory c: Tensor<Scalar>) -> Tensor<Scalar> {
        Tensor(concatenating: [h, c], alongAxis: -1)
    }
}
