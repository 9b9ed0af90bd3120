import CRNNODEKernels
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

// MARK: - On rows, for the fused integrator

extension Activation {
    /// The activation applied in place to `count` scalars (Float tanh and sigmoid run the
    /// vectorized C kernels; everything else the scalar functions).
    @inlinable
    public func apply<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, count: Int) {
        if T.self == Float.self && (self == .tanh || self == .sigmoid) {
            let floats = UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self)
            if self == .tanh { rnnode_tanh_f32(floats, count) } else { rnnode_sigmoid_f32(floats, count) }
            return
        }
        switch self {
        case .identity: return
        case .tanh: for i in 0..<count { x[i] = T.tanh(x[i]) }
        case .sigmoid: for i in 0..<count { x[i] = T.sigmoid(x[i]) }
        case .hardSigmoid: for i in 0..<count { x[i] = Swift.min(Swift.max(T(0.2) * x[i] + 0.5, 0), 1) }
        case .relu: for i in 0..<count { x[i] = Swift.max(x[i], 0) }
        case .softplus: for i in 0..<count { x[i] = T.softplus(x[i]) }
        }
    }

    /// σ′(x) written through the output y = σ(x): 1 − y² for tanh, y(1 − y) for the sigmoid, 0.2
    /// inside (0, 1) for the hard sigmoid, [y > 0] for relu, 1 − e⁻ʸ for softplus, 1 for identity.
    /// (Every activation here is invertible where its derivative is nonzero, so the output is all a
    /// pullback needs to keep.)
    @inlinable @inline(__always)
    public func derivative<T: TensorScalar>(fromOutput y: T) -> T {
        switch self {
        case .identity: return 1
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .hardSigmoid: return y > 0 && y < 1 ? T(0.2) : 0
        case .relu: return y > 0 ? 1 : 0
        case .softplus: return -T.expm1(-y)
        }
    }

    /// x[i] ← x[i] · σ′ at the output y[i] (``derivative(fromOutput:)``, the same value) for
    /// `count` scalars, the choice of σ made once for the whole loop.
    @inlinable
    public func scaleByDerivative<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, outputs y: UnsafePointer<T>, count: Int) {
        switch self {
        case .identity: for i in 0..<count { x[i] = x[i] * 1 }
        case .tanh: for i in 0..<count { x[i] = x[i] * (1 - y[i] * y[i]) }
        case .sigmoid: for i in 0..<count { x[i] = x[i] * (y[i] * (1 - y[i])) }
        case .hardSigmoid, .relu, .softplus: for i in 0..<count { x[i] = x[i] * derivative(fromOutput: y[i]) }
        }
    }
}
