import RNNODETensors

/// Inverted dropout: each entry of `x` is zeroed with probability `rate` and the survivors are
/// scaled by 1/(1 − rate), so the expectation is unchanged and nothing needs rescaling at inference.
/// The mask is drawn from `generator` (seed it for reproducible training). Differentiable in `x`.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let y = dropout(h, rate: 0.2, using: &generator)
/// ```
///
/// - Precondition: 0 ≤ rate < 1.
@inlinable
public func dropout<T>(_ x: Tensor<T>, rate: Double, using generator: inout some RandomNumberGenerator) -> Tensor<T> {
    require(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
    if rate == 0 { return x }
    let keep = T(1 / (1 - rate))
    var mask = [T](repeating: 0, count: x.scalarCount)
    for i in mask.indices where generator.nextUnitDouble() >= rate { mask[i] = keep }
    return x * Tensor(shape: x.shape, scalars: mask)
}
