// Gradient clipping: by value or by the global L2 norm, applied in place before an optimizer update.

import RNNODETensors

/// How to limit gradients before an optimizer update.
///
/// ```swift
/// var gradients = gradient(at: parameters, of: loss)
/// let norm = GradientClipping.globalNorm(1.0).apply(to: &gradients)
/// if norm.isFinite {                      // else the gradients were left unchanged: stop or skip
///     optimizer.update(&parameters, gradients: gradients)
/// }
/// ```
///
/// Every mode returns the global L2 norm ‖g‖₂ = √(Σ g²) over all entries of all gradients *before*
/// clipping (``none`` only measures it). The norm is accumulated in `Double` and rescaled when the
/// entries are huge or tiny, so it neither overflows nor underflows on the way; for `Float` it is
/// +∞ only if it exceeds `Float`'s range (≈ 3.4e38), and clipping still uses the exact value then.
///
/// Non-finite gradients: if any entry is NaN or ±∞, nothing is modified and the returned norm is NaN
/// (if an entry is NaN) or +∞ (otherwise). A training loop should test the norm with `isFinite` and
/// skip the update or stop.
public enum GradientClipping<Scalar: TensorScalar>: Sendable, Equatable {
    /// No clipping; ``apply(to:)`` only returns the norm.
    case none
    /// Each gradient entry clamped to [−limit, limit].
    ///
    /// `limit` must be positive (+∞ is allowed and clamps nothing); zero, negative or NaN limits are a
    /// precondition failure in ``apply(to:)``.
    case value(Scalar)
    /// All gradients scaled by min(1, maxNorm / ‖g‖₂), with ‖g‖₂ over all entries of all gradients.
    ///
    /// Gradients with ‖g‖₂ ≤ maxNorm are left exactly as they are; larger ones end with norm maxNorm
    /// up to rounding. (`torch.nn.utils.clip_grad_norm_` divides by ‖g‖₂ + 1e-6 instead; this does
    /// not.) `maxNorm` must be positive (+∞ clamps nothing); zero, negative or NaN is a precondition
    /// failure in ``apply(to:)``.
    case globalNorm(Scalar)

    /// Applies the clipping in place; returns the global L2 norm of the gradients before clipping.
    ///
    /// The clipped gradients are constants (not recorded). If any entry is NaN or infinite the
    /// gradients are left unchanged and the result is NaN or +∞ (see the type's documentation).
    ///
    /// - Precondition: the limit of ``value(_:)`` or ``globalNorm(_:)`` is positive (not NaN).
    @inlinable
    @discardableResult
    public func apply(to gradients: inout [Tensor<Scalar>]) -> Scalar {
        switch self {
        case .none:
            break
        case .value(let limit):
            require(limit > 0, "GradientClipping.value: the limit must be positive, got \(limit)")
        case .globalNorm(let maxNorm):
            require(maxNorm > 0, "GradientClipping.globalNorm: maxNorm must be positive, got \(maxNorm)")
        }
        let norm = globalGradientNorm(gradients)
        guard norm.isFinite else { return norm.isNaN ? .nan : .infinity }
        switch self {
        case .none:
            break
        case .value(let limit):
            for i in gradients.indices {
                gradients[i].node = nil
                gradients[i].storage.withUnsafeMutableBufferPointer { g in
                    for j in g.indices { g[j] = Swift.min(Swift.max(g[j], -limit), limit) }
                }
            }
        case .globalNorm(let maxNorm):
            guard norm > Double(maxNorm) else { break }
            // The factor stays in Double: in Float it could be subnormal (a norm near Float's range).
            let factor = Double(maxNorm) / norm
            for i in gradients.indices {
                gradients[i].node = nil
                gradients[i].storage.withUnsafeMutableBufferPointer { g in
                    for j in g.indices { g[j] = Scalar(Double(g[j]) * factor) }
                }
            }
        }
        return Scalar(norm)
    }
}

// MARK: - Norm

/// √(Σ g²) over all entries of all tensors, in `Double`: NaN if an entry is NaN, +∞ if an entry is
/// infinite, and otherwise computed without overflow or underflow (rescaled by the largest magnitude
/// when that is outside [1e-150, 1e150]).
@inlinable
package func globalGradientNorm<Scalar: TensorScalar>(_ tensors: [Tensor<Scalar>]) -> Double {
    // Pass 1: the largest magnitude, and whether anything is NaN.
    var largest: Scalar = 0
    for tensor in tensors {
        var sawNaN = false
        tensor.storage.withUnsafeBufferPointer { x in
            for value in x {
                let magnitude = Swift.abs(value)
                if !(magnitude <= largest) {  // larger, or NaN
                    if magnitude.isNaN { sawNaN = true } else { largest = magnitude }
                }
            }
        }
        if sawNaN { return .nan }
    }
    if largest.isInfinite { return .infinity }
    if largest == 0 { return 0 }
    // Pass 2: the sum of squares, rescaled only when squares could overflow or underflow.
    let top = Double(largest)
    let scale = top > 1e150 || top < 1e-150 ? top : 1
    var sum = 0.0
    for tensor in tensors {
        tensor.storage.withUnsafeBufferPointer { x in
            if scale == 1 {
                for value in x {
                    let v = Double(value)
                    sum += v * v
                }
            } else {
                for value in x {
                    let v = Double(value) / scale
                    sum += v * v
                }
            }
        }
    }
    return scale * sum.squareRoot()
}
