// Elementwise functions of tensors. Each is differentiable; the derivative used by the pullback is
// stated in its documentation.

/// eˣ elementwise. Derivative: eˣ.
@inlinable
public func exp<T>(_ x: Tensor<T>) -> Tensor<T> {
    let y = x.mapScalars(T.exp)
    return x.recording(y) { g in Tensor.zipBroadcast(g, y, *) }
}

/// Natural logarithm elementwise. Derivative: 1/x (a zero cotangent contributes zero, also at x = 0).
@inlinable
public func log<T>(_ x: Tensor<T>) -> Tensor<T> {
    let c = x.detached
    return x.recording(x.mapScalars(T.log)) { g in Tensor.zipBroadcast(g, c) { $0 == 0 ? 0 : $0 / $1 } }
}

/// Hyperbolic tangent elementwise. Derivative: 1 − tanh²(x).
@inlinable
public func tanh<T>(_ x: Tensor<T>) -> Tensor<T> {
    let y = x.mapScalars(T.tanh)
    return x.recording(y) { g in Tensor.zipBroadcast(g, y) { $0 * (1 - $1 * $1) } }
}

/// The logistic sigmoid 1/(1 + e⁻ˣ) elementwise. Derivative: σ(x)(1 − σ(x)).
@inlinable
public func sigmoid<T>(_ x: Tensor<T>) -> Tensor<T> {
    let y = x.mapScalars(T.sigmoid)
    return x.recording(y) { g in Tensor.zipBroadcast(g, y) { $0 * $1 * (1 - $1) } }
}

/// The “hard” sigmoid of old Keras, clip(0.2 x + 0.5, 0, 1). Derivative: 0.2 where 0 < 0.2x + 0.5 < 1,
/// else 0.
@inlinable
public func hardSigmoid<T>(_ x: Tensor<T>) -> Tensor<T> {
    let slope = T(0.2)
    let c = x.detached
    let y = x.mapScalars { Swift.min(Swift.max(slope * $0 + 0.5, 0), 1) }
    return x.recording(y) { g in
        Tensor.zipBroadcast(g, c) { gi, xi in
            let v = slope * xi + 0.5
            return v > 0 && v < 1 ? gi * slope : 0
        }
    }
}

/// max(x, 0) elementwise. Derivative: 1 where x > 0, else 0.
@inlinable
public func relu<T>(_ x: Tensor<T>) -> Tensor<T> {
    let c = x.detached
    return x.recording(x.mapScalars { Swift.max($0, 0) }) { g in
        Tensor.zipBroadcast(g, c) { $1 > 0 ? $0 : 0 }
    }
}

/// softplus(x) = log(1 + eˣ) elementwise, computed without overflow. Derivative: σ(x).
/// Maps ℝ onto (0, ∞): a smooth way to keep a trainable quantity (a step size, a rate) positive.
@inlinable
public func softplus<T>(_ x: Tensor<T>) -> Tensor<T> {
    let c = x.detached
    return x.recording(x.mapScalars(T.softplus)) { g in
        Tensor.zipBroadcast(g, c) { $0 * T.sigmoid($1) }
    }
}

/// |x| elementwise. Derivative: sign(x) (0 at 0).
@inlinable
public func abs<T>(_ x: Tensor<T>) -> Tensor<T> {
    let c = x.detached
    return x.recording(x.mapScalars { Swift.abs($0) }) { g in
        Tensor.zipBroadcast(g, c) { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) }
    }
}

/// √x elementwise. Derivative: 1/(2√x) (a zero cotangent contributes zero, also at x = 0).
@inlinable
public func sqrt<T>(_ x: Tensor<T>) -> Tensor<T> {
    let y = x.mapScalars { $0.squareRoot() }
    return x.recording(y) { g in Tensor.zipBroadcast(g, y) { $0 == 0 ? 0 : $0 / (2 * $1) } }
}

/// x² elementwise. Derivative: 2x.
@inlinable
public func square<T>(_ x: Tensor<T>) -> Tensor<T> {
    let c = x.detached
    return x.recording(x.mapScalars { $0 * $0 }) { g in Tensor.zipBroadcast(g, c) { 2 * $0 * $1 } }
}

/// sin(x) elementwise. Derivative: cos(x).
@inlinable
public func sin<T>(_ x: Tensor<T>) -> Tensor<T> {
    let c = x.detached
    return x.recording(x.mapScalars(T.sin)) { g in Tensor.zipBroadcast(g, c) { $0 * T.cos($1) } }
}

/// cos(x) elementwise. Derivative: −sin(x).
@inlinable
public func cos<T>(_ x: Tensor<T>) -> Tensor<T> {
    let c = x.detached
    return x.recording(x.mapScalars(T.cos)) { g in Tensor.zipBroadcast(g, c) { -$0 * T.sin($1) } }
}

/// xᵖ elementwise for a constant exponent. Derivative: p xᵖ⁻¹ (a zero cotangent contributes zero).
@inlinable
public func pow<T>(_ x: Tensor<T>, _ p: T) -> Tensor<T> {
    let c = x.detached
    return x.recording(x.mapScalars { T.pow($0, p) }) { g in
        Tensor.zipBroadcast(g, c) { $0 == 0 ? 0 : $0 * p * T.pow($1, p - 1) }
    }
}

/// xʸ elementwise, broadcasting. Derivatives: ∂/∂x = y xʸ⁻¹, ∂/∂y = xʸ log x (taken as 0 where x = 0).
@inlinable
public func pow<T>(_ x: Tensor<T>, _ y: Tensor<T>) -> Tensor<T> {
    let value = Tensor.zipBroadcast(x, y) { T.pow($0, $1) }
    guard x.isRecorded || y.isRecorded else { return value }
    let (cx, cy) = (x.detached, y.detached)
    return Tensor.recording(value, x, y) { g, needsX, needsY in
        let dx =
            needsX
            ? Tensor.zipBroadcast(g, Tensor.zipBroadcast(cx, cy) { $1 * T.pow($0, $1 - 1) }, *).unbroadcast(to: cx.shape)
            : nil
        let dy =
            needsY
            ? Tensor.zipBroadcast(g, Tensor.zipBroadcast(value, cx) { p, base in base == 0 ? 0 : p * T.log(base) }, *)
                .unbroadcast(to: cy.shape)
            : nil
        return (dx, dy)
    }
}

/// Each element clamped to `[lower, upper]`. Derivative: 1 inside the interval (ends included), else 0.
@inlinable
public func clip<T>(_ x: Tensor<T>, _ lower: T, _ upper: T) -> Tensor<T> {
    require(lower <= upper, "clip bounds are reversed: [\(lower), \(upper)]")
    let c = x.detached
    return x.recording(x.mapScalars { Swift.min(Swift.max($0, lower), upper) }) { g in
        Tensor.zipBroadcast(g, c) { $1 >= lower && $1 <= upper ? $0 : 0 }
    }
}

/// The elementwise maximum of two tensors, broadcasting. The gradient goes to the larger operand
/// (to `a` on ties).
@inlinable
public func max<T>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    selectBroadcast(a, b) { $0 >= $1 }
}

/// The elementwise minimum of two tensors, broadcasting. The gradient goes to the smaller operand
/// (to `a` on ties).
@inlinable
public func min<T>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    selectBroadcast(a, b) { $0 <= $1 }
}

/// Elementwise `takeA(a, b) ? a : b`, with the gradient routed to the chosen operand.
@inlinable
package func selectBroadcast<T>(_ a: Tensor<T>, _ b: Tensor<T>, _ takeA: @escaping @Sendable (T, T) -> Bool) -> Tensor<T> {
    let value = Tensor.zipBroadcast(a, b) { takeA($0, $1) ? $0 : $1 }
    guard a.isRecorded || b.isRecorded else { return value }
    let mask = Tensor.zipBroadcast(a.detached, b.detached) { takeA($0, $1) ? 1 : 0 }
    let (sa, sb) = (a.shape, b.shape)
    return Tensor.recording(value, a, b) { g, needsA, needsB in
        (
            needsA ? Tensor.zipBroadcast(g, mask, *).unbroadcast(to: sa) : nil,
            needsB ? Tensor.zipBroadcast(g, mask) { $0 * (1 - $1) }.unbroadcast(to: sb) : nil
        )
    }
}
