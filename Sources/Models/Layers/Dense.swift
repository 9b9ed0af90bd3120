import RNNODETensors

/// A fully connected layer: y = activation(x · W + b).
///
/// - Shapes: x `[..., inputSize]` → y `[..., outputSize]`; W `[inputSize, outputSize]`, b `[outputSize]`.
///   (PyTorch's `nn.Linear` stores Wᵀ: its weight is `[outputSize, inputSize]`.)
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let layer = Dense<Double>(inputSize: 2, outputSize: 50, activation: .tanh, using: &generator)
/// let y = layer(Tensor.zeros([20, 2]))   // [20, 50]
/// ```
public struct Dense<Scalar: TensorScalar>: Trainable, Sendable {
    public var weight: Tensor<Scalar>
    public var bias: Tensor<Scalar>
    public var activation: Activation

    /// A layer with the given weights.
    ///
    /// - Precondition: `weight` is `[inputSize, outputSize]` and `bias` is `[outputSize]`.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>, activation: Activation = .identity) {
        require(weight.rank == 2, "Dense weight must be [inputSize, outputSize], got \(describeShape(weight.shape))")
        require(
            bias.shape == [weight.shape[1]],
            "Dense bias must be [\(weight.shape[1])] for weight \(describeShape(weight.shape)), got \(describeShape(bias.shape))")
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }

    /// A layer with freshly initialized weights (Glorot uniform) and zero biases by default.
    public init(
        inputSize: Int, outputSize: Int, activation: Activation = .identity,
        weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        using generator: inout some RandomNumberGenerator
    ) {
        self.init(
            weight: weightInitializer.make([inputSize, outputSize], using: &generator),
            bias: biasInitializer.make([outputSize], using: &generator), activation: activation)
    }

    public var inputSize: Int { weight.shape[0] }
    public var outputSize: Int { weight.shape[1] }

    public var parameterPaths: [ParameterPath<Dense>] { [.init("weight", \.weight), .init("bias", \.bias)] }

    public static var hasFixedParameterPaths: Bool { true }

    /// activation(x · W + b) for x `[..., inputSize]`.
    @inlinable
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        require(
            x.shape.last == inputSize,
            "Dense expects inputs [..., \(inputSize)], got \(describeShape(x.shape))")
        return activation(affine(x, weight, bias))
    }
}

/// A multilayer perceptron: Dense layers in sequence.
///
/// ```swift
/// // The spiral demo's field network: 2 → 50 → tanh → 2, weights N(0, 0.1), zero biases.
/// var generator = SeededGenerator(seed: 0)
/// let mlp = MLP<Double>(sizes: [2, 50, 2], hiddenActivation: .tanh,
///                       weightInitializer: .normal(mean: 0, standardDeviation: 0.1), using: &generator)
/// ```
public struct MLP<Scalar: TensorScalar>: Trainable, Sendable {
    public var layers: [Dense<Scalar>]

    public init(layers: [Dense<Scalar>]) {
        for (i, pair) in zip(layers, layers.dropFirst()).enumerated() {
            require(
                pair.0.outputSize == pair.1.inputSize,
                "MLP layer \(i) outputs \(pair.0.outputSize) values but layer \(i + 1) expects \(pair.1.inputSize)")
        }
        self.layers = layers
    }

    /// Layers of the given sizes (`sizes[0]` inputs, `sizes.last` outputs), `hiddenActivation` after
    /// every layer but the last, `outputActivation` after the last.
    public init(
        sizes: [Int], hiddenActivation: Activation = .tanh, outputActivation: Activation = .identity,
        weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        using generator: inout some RandomNumberGenerator
    ) {
        require(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 }, "MLP needs at least two positive sizes, got \(sizes)")
        var layers: [Dense<Scalar>] = []
        for i in 0..<(sizes.count - 1) {
            layers.append(
                Dense(
                    inputSize: sizes[i], outputSize: sizes[i + 1],
                    activation: i == sizes.count - 2 ? outputActivation : hiddenActivation,
                    weightInitializer: weightInitializer, biasInitializer: biasInitializer, using: &generator))
        }
        self.init(layers: layers)
    }

    /// `layers.i.weight` and `layers.i.bias` for each layer i, built once per layer count
    /// (``ParameterPathCache``).
    public var parameterPaths: [ParameterPath<MLP>] {
        ParameterPathCache.paths(MLP.self, variant: layers.count) {
            layers.indices.flatMap { i in
                [.init("layers.\(i).weight", \MLP.layers[i].weight), .init("layers.\(i).bias", \MLP.layers[i].bias)]
            }
        }
    }

    /// The layers applied in sequence to x `[..., sizes[0]]`, recorded as one operation (see
    /// ``fused(_:inputPower:)``; the same values and gradients as applying the layers one by one).
    @inlinable
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        fused(x)
    }
}
