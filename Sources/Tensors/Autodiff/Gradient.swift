// Closure-based gradient APIs on top of ``Tape``: each call records a fresh tape, so calls from
// concurrent tasks never share state.

/// The value of a scalar-valued function and its gradients with respect to each input.
///
/// ```swift
/// let (loss, grads) = valueWithGradient(at: [w, b]) { p in
///     square(tanh(matmul(x, p[0]) + p[1]) - target).mean()
/// }
/// ```
///
/// - Precondition: `f` returns a tensor with one scalar.
@inlinable
public func valueWithGradient<T>(
    at inputs: [Tensor<T>], of f: ([Tensor<T>]) throws -> Tensor<T>
) rethrows -> (value: Tensor<T>, gradients: [Tensor<T>]) {
    let tape = Tape<T>()
    let variables = tape.variables(inputs)
    let value = try f(variables)
    return (value.detached, tape.gradients(of: value, withRespectTo: variables))
}

/// The value of a scalar-valued function of one tensor and its gradient.
@inlinable
public func valueWithGradient<T>(
    at x: Tensor<T>, of f: (Tensor<T>) throws -> Tensor<T>
) rethrows -> (value: Tensor<T>, gradient: Tensor<T>) {
    let (value, gradients) = try valueWithGradient(at: [x]) { try f($0[0]) }
    return (value, gradients[0])
}

/// The gradients of a scalar-valued function with respect to each input.
@inlinable
public func gradient<T>(at inputs: [Tensor<T>], of f: ([Tensor<T>]) throws -> Tensor<T>) rethrows -> [Tensor<T>] {
    try valueWithGradient(at: inputs, of: f).gradients
}

/// The gradient of a scalar-valued function of one tensor.
@inlinable
public func gradient<T>(at x: Tensor<T>, of f: (Tensor<T>) throws -> Tensor<T>) rethrows -> Tensor<T> {
    try valueWithGradient(at: x, of: f).gradient
}

/// The Jacobian ∂f/∂x of a tensor-valued function, with shape `f(x).shape + x.shape`.
///
/// One forward pass is recorded and one backward pass is run per output scalar (reverse mode), so
/// this suits functions with few outputs — residuals of a small least-squares problem, say.
@inlinable
public func jacobian<T>(at x: Tensor<T>, of f: (Tensor<T>) throws -> Tensor<T>) rethrows -> Tensor<T> {
    let tape = Tape<T>()
    let variable = tape.variable(x)
    let y = try f(variable)
    var rows: [T] = []
    rows.reserveCapacity(y.scalarCount * x.scalarCount)
    var seed = Tensor<T>.zeros(y.shape)
    for i in 0..<y.scalarCount {
        seed.withUnsafeMutableBufferPointer { $0[i] = 1 }
        rows += tape.pullback(of: y, seed: seed, withRespectTo: [variable])[0].scalars
        seed.withUnsafeMutableBufferPointer { $0[i] = 0 }
    }
    return Tensor(shape: y.shape + x.shape, scalars: rows)
}
