import RNNODEIntegrators
import RNNODETensors

/// A neural vector field dy/dt = MLP(yᵖ): a dense network of the state (raised elementwise to an
/// integer power p ≥ 1 first), evaluated as one tape record per evaluation (``MLP/fused(_:inputPower:)``).
///
/// The field of the DiffEqFlux README's spiral, `Chain(x -> x.^3, Dense(2, 50, tanh), Dense(50, 2))`,
/// is `MLPField(network: mlp, inputPower: 3)` with a 2 → 50 → tanh → 2 `mlp`. The field does not
/// depend on t. Its parameters are the network's, named `network.layers.i.weight` and
/// `network.layers.i.bias`.
///
/// - Shapes: states `[..., sizes[0]]` with `sizes[0] == sizes.last`; the leading axes are rows
///   (independent trajectories).
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let mlp = MLP<Double>(sizes: [2, 50, 2], hiddenActivation: .tanh, using: &generator)
/// let field = MLPField(network: mlp, inputPower: 3)
/// let (loss, grads) = try valueWithGradient(at: field.parameters) { p in
///     var model = field
///     model.parameters = p
///     let u = try solve(model, initialState: Tensor([2, 0]), from: 0, to: 1.5, method: .tsit5,
///                       step: .adaptive(rtol: 1e-3, atol: 1e-6), saveAt: .final).finalState
///     return square(u).sum()
/// }
/// ```
public struct MLPField<Scalar: TensorScalar>: VectorField, Trainable, Sendable {
    public typealias State = Tensor<Scalar>
    /// The network; its input and output sizes are the state's size.
    public var network: MLP<Scalar>
    /// The elementwise power p applied to the state before the network (1: none).
    public let inputPower: Int

    /// The field MLP(yᵖ).
    ///
    /// - Precondition: the network's input and output sizes agree, and `inputPower ≥ 1`.
    public init(network: MLP<Scalar>, inputPower: Int = 1) {
        let (input, output) = (network.layers.first?.inputSize ?? 0, network.layers.last?.outputSize ?? 0)
        require(
            input == output, "a vector field's network must map the state to its size: \(input) inputs, \(output) outputs")
        require(inputPower >= 1, "the input power must be at least 1, got \(inputPower)")
        self.network = network
        self.inputPower = inputPower
    }

    /// MLP(yᵖ), recorded as one operation.
    @inlinable
    public func callAsFunction(_ t: Scalar, _ y: Tensor<Scalar>) -> Tensor<Scalar> {
        network.fused(y, inputPower: inputPower)
    }

    public var isAutonomous: Bool { true }

    /// Built once per layer count (``ParameterPathCache``).
    public var parameterPaths: [ParameterPath<MLPField>] {
        ParameterPathCache.paths(MLPField.self, variant: network.layers.count) {
            network.layers.indices.flatMap { i in
                [
                    .init("network.layers.\(i).weight", \MLPField.network.layers[i].weight),
                    .init("network.layers.\(i).bias", \MLPField.network.layers[i].bias),
                ]
            }
        }
    }

    /// The first non-finite parameter's name, by a loop over the layers (no key paths: a solve asks
    /// before every integration).
    public func firstNonFiniteParameter() -> String? {
        for (i, layer) in network.layers.enumerated() {
            if !layer.weight.isFinite { return "network.layers.\(i).weight" }
            if !layer.bias.isFinite { return "network.layers.\(i).bias" }
        }
        return nil
    }
}
