import RNNODETensors

/// How to fill a new weight tensor. Fan-in and fan-out are read from the shape: for a matrix
/// `[fanIn, fanOut]` (this library's `Dense` layout) they are its two axes.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let w = Initializer.glorotUniform.make([64, 32], using: &generator)
/// ```
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    case constant(Double)
    /// Independent uniform samples in [lower, upper).
    case uniform(lower: Double, upper: Double)
    /// Independent normal samples.
    case normal(mean: Double, standardDeviation: Double)
    /// Glorot (Xavier) uniform: U(−l, l) with l = √(6 / (fanIn + fanOut)). Keras' default for kernels.
    case glorotUniform
    /// Glorot normal as Keras draws it: a normal truncated at two standard deviations, with the
    /// standard deviation √(2 / (fanIn + fanOut)) / 0.87962566103423978 so that the truncated samples
    /// have variance 2 / (fanIn + fanOut).
    case glorotNormal
    /// A (semi-)orthogonal matrix times `gain`: the Q of a QR factorization of a normal matrix, with
    /// signs fixed so that the distribution is uniform (Saxe et al.). Keras' default for recurrent
    /// kernels. Higher-rank shapes are flattened to [product of leading axes, last axis].
    case orthogonal(gain: Double)
    /// PyTorch's default for `nn.Linear` and the recurrent layers: U(−1/√n, 1/√n) with n = `fan`
    /// (the input size for `Linear`, the hidden size for RNN/GRU/LSTM weights and biases).
    case pytorchDefault(fan: Int)

    /// A tensor of the given shape drawn from this distribution.
    public func make<T: TensorScalar>(_ shape: [Int], using generator: inout some RandomNumberGenerator) -> Tensor<T> {
        let count = shape.reduce(1, *)
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .zeros:
            return Tensor.zeros(shape)
        case .ones:
            return Tensor.ones(shape)
        case .constant(let c):
            return Tensor(repeating: T(c), shape: shape)
        case .uniform(let lower, let upper):
            return Tensor.uniform(shape, lower: T(lower), upper: T(upper), using: &generator)
        case .normal(let mean, let standardDeviation):
            return Tensor.normal(shape, mean: T(mean), standardDeviation: T(standardDeviation), using: &generator)
        case .glorotUniform:
            let limit = (6 / Double(Swift.max(fanIn + fanOut, 1))).squareRoot()
            return Tensor.uniform(shape, lower: T(-limit), upper: T(limit), using: &generator)
        case .glorotNormal:
            let deviation = (2 / Double(Swift.max(fanIn + fanOut, 1))).squareRoot() / 0.879_625_661_034_239_78
            var values: [T] = []
            values.reserveCapacity(count)
            while values.count < count {
                let z = generator.nextStandardNormal()
                if Swift.abs(z) <= 2 { values.append(T(z * deviation)) }
            }
            return Tensor(shape: shape, scalars: values)
        case .orthogonal(let gain):
            return Initializer.orthogonalMatrix(shape, gain: gain, using: &generator)
        case .pytorchDefault(let fan):
            require(fan > 0, "pytorchDefault needs a positive fan, got \(fan)")
            let bound = 1 / Double(fan).squareRoot()
            return Tensor.uniform(shape, lower: T(-bound), upper: T(bound), using: &generator)
        }
    }

    /// (fanIn, fanOut) of a weight shape: a vector has fanIn = fanOut = its length; a matrix
    /// [fanIn, fanOut]; higher ranks multiply the leading axes into fanIn.
    static func fans(_ shape: [Int]) -> (Int, Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        default: return (shape.dropLast().reduce(1, *), shape[shape.count - 1])
        }
    }

    /// The orthogonal initializer: Gram–Schmidt (twice, for stability) on the columns of a normal
    /// matrix with at least as many rows as columns, then transposed back if the shape is wide.
    static func orthogonalMatrix<T: TensorScalar>(
        _ shape: [Int], gain: Double, using generator: inout some RandomNumberGenerator
    )
        -> Tensor<T>
    {
        let rows = shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *)
        let columns = shape.last ?? 1
        let (m, n) = rows >= columns ? (rows, columns) : (columns, rows)  // m ≥ n: orthonormal columns
        var a = (0..<(m * n)).map { _ in generator.nextStandardNormal() }  // column-major m×n
        for j in 0..<n {
            for _ in 0..<2 {
                for k in 0..<j {
                    var dot = 0.0
                    for i in 0..<m { dot += a[k * m + i] * a[j * m + i] }
                    for i in 0..<m { a[j * m + i] -= dot * a[k * m + i] }
                }
            }
            var norm = 0.0
            for i in 0..<m { norm += a[j * m + i] * a[j * m + i] }
            norm = norm.squareRoot()
            for i in 0..<m { a[j * m + i] /= norm }
        }
        // Row-major output [rows, columns]: element (r, c) is a[c][r] when tall, a[r][c] when wide.
        var values = [T](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns {
                let v = rows >= columns ? a[c * m + r] : a[r * m + c]
                values[r * columns + c] = T(gain * v)
            }
        }
        return Tensor(shape: shape, scalars: values)
    }
}
