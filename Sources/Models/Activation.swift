import RNNODETensors

/// An elementwise activation function.
public enum Activation: String, Sendable, Equatable, CaseIterable {
    case identity = "linear"
    case tanh
    case sigmoid
    case hardSigmoid = "hard_sigmoid"
    case relu
    case softplus

    /// The activation applied to `x` (differentiable).
    @inlinable
    public func callAsFunction<T>(_ x: Tensor<T>) -> Tensor<T> {
        switch self {
        case .identity: return x
        case .tanh: return RNNODETensors.tanh(x)
        case .sigmoid: return RNNODETensors.sigmoid(x)
        case .hardSigmoid: return RNNODETensors.hardSigmoid(x)
        case .relu: return RNNODETensors.relu(x)
        case .softplus: return RNNODETensors.softplus(x)
        }
    }
}
