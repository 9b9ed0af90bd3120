// Central finite differences, the independent reference every gradient in this library is checked
// against.

/// The gradient of a scalar function by central differences:
/// ∂f/∂xᵢ ≈ (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ with hᵢ = `relativeStep` · max(1, |xᵢ|).
///
/// The truncation error is O(h²) and the rounding error O(ε/h); the default step ε^(1/3) balances
/// them (about 6e-6 in `Double`, giving roughly 10 correct digits for smooth functions).
///
/// - Parameters:
///   - x: where to differentiate.
///   - relativeStep: the step relative to max(1, |xᵢ|); defaults to ε^(1/3).
///   - f: the function, evaluated 2 · `x.scalarCount` times on constant tensors.
@inlinable
public func numericalGradient<T>(
    at x: Tensor<T>, relativeStep: T? = nil, of f: (Tensor<T>) throws -> T
) rethrows -> Tensor<T> {
    let step = relativeStep ?? T.pow(T.ulpOfOne, 1 / 3)
    var gradient = [T](repeating: 0, count: x.scalarCount)
    var probe = x.detached
    for i in 0..<x.scalarCount {
        let xi = x.scalars[i]
        let h = step * Swift.max(1, Swift.abs(xi))
        probe.withUnsafeMutableBufferPointer { $0[i] = xi + h }
        let plus = try f(probe)
        probe.withUnsafeMutableBufferPointer { $0[i] = xi - h }
        let minus = try f(probe)
        probe.withUnsafeMutableBufferPointer { $0[i] = xi }
        gradient[i] = (plus - minus) / (2 * h)
    }
    return Tensor(shape: x.shape, scalars: gradient)
}

/// How far an automatic gradient is from its finite-difference estimate.
public struct GradientCheck<T: TensorScalar>: Sendable, CustomStringConvertible {
    /// The gradient from the tape.
    public let automatic: Tensor<T>
    /// The central-difference estimate.
    public let numerical: Tensor<T>
    /// maxᵢ |automaticᵢ − numericalᵢ|.
    public let maxAbsoluteError: T
    /// maxᵢ |automaticᵢ − numericalᵢ| / max(1, |numericalᵢ|): relative for large entries, absolute
    /// for small ones.
    public let maxError: T

    @usableFromInline
    package init(automatic: Tensor<T>, numerical: Tensor<T>, maxAbsoluteError: T, maxError: T) {
        self.automatic = automatic
        self.numerical = numerical
        self.maxAbsoluteError = maxAbsoluteError
        self.maxError = maxError
    }

    public var description: String {
        "GradientCheck(maxError: \(maxError), maxAbsoluteError: \(maxAbsoluteError))"
    }
}

/// Compares the tape's gradient of a scalar function with central differences.
///
/// ```swift
/// let check = checkGradient(at: x) { x in (tanh(x) * x).sum() }
/// assert(check.maxError < 1e-7)
/// ```
@inlinable
public func checkGradient<T>(
    at x: Tensor<T>, relativeStep: T? = nil, of f: (Tensor<T>) throws -> Tensor<T>
) rethrows -> GradientCheck<T> {
    let automatic = try gradient(at: x, of: f)
    let numerical = try numericalGradient(at: x, relativeStep: relativeStep) { try f($0).scalar }
    var maxAbsolute: T = 0
    var maxScaled: T = 0
    for (a, n) in zip(automatic.scalars, numerical.scalars) {
        let difference = Swift.abs(a - n)
        maxAbsolute = Swift.max(maxAbsolute, difference)
        maxScaled = Swift.max(maxScaled, difference / Swift.max(1, Swift.abs(n)))
    }
    if !automatic.isFinite || !numerical.isFinite { maxScaled = .infinity }
    return GradientCheck(automatic: automatic, numerical: numerical, maxAbsoluteError: maxAbsolute, maxError: maxScaled)
}
