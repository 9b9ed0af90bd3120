// The scalars a parametric field is written over: Float and Double for a plain evaluation, and dual
// numbers carrying derivatives for forward-mode sensitivities and exact Jacobians.

import RNNODETensors

/// A scalar a ``ParametricField`` computes with: `Float`, `Double`, or a ``Dual`` number over one of
/// them that carries derivatives along.
///
/// Write a field once, generic over `S: FieldScalar`, and the library evaluates it on plain numbers
/// for a solve, and on dual numbers for forward sensitivities (∂y/∂θ, ∂y/∂y₀) and exact Jacobians.
/// The arithmetic is that of a signed number (`+ − * /`, comparisons by value, `abs`, literals),
/// with the elementary functions as static members: `S.exp(x)`, `S.tanh(x)`, `S.sqrt(x)`, …
/// Constants of the field's scalar type enter through `S(c)`:
///
/// ```swift
/// func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
/// where S.Constant == Double {
///     dy[0] = S(gravity) * S.sin(y[1]) - p[0] * y[0]
/// }
/// ```
///
/// Branches on values (`if y[0] > 0`, `min`, `max`) follow the value, and the derivative is that of
/// the branch taken.
public protocol FieldScalar: SignedNumeric, Comparable, ExpressibleByFloatLiteral, Sendable {
    /// The plain scalar type (`Float` or `Double`) of the values.
    associatedtype Constant: TensorScalar
    /// A constant: the value `constant`, with zero derivatives.
    init(_ constant: Constant)
    static func / (lhs: Self, rhs: Self) -> Self
    static func /= (lhs: inout Self, rhs: Self)
    /// eˣ
    static func exp(_ x: Self) -> Self
    /// eˣ − 1, accurate for small x.
    static func expm1(_ x: Self) -> Self
    /// Natural logarithm.
    static func log(_ x: Self) -> Self
    /// log(1 + x), accurate for small x.
    static func log1p(_ x: Self) -> Self
    /// √x
    static func sqrt(_ x: Self) -> Self
    /// Hyperbolic tangent.
    static func tanh(_ x: Self) -> Self
    /// Sine.
    static func sin(_ x: Self) -> Self
    /// Cosine.
    static func cos(_ x: Self) -> Self
    /// xʸ
    static func pow(_ x: Self, _ y: Self) -> Self
    /// The logistic function 1 / (1 + e⁻ˣ).
    static func sigmoid(_ x: Self) -> Self
}

extension Double: FieldScalar {
    public typealias Constant = Double
    @inlinable @inline(__always) public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
}

extension Float: FieldScalar {
    public typealias Constant = Float
    @inlinable @inline(__always) public static func sqrt(_ x: Float) -> Float { x.squareRoot() }
}

// MARK: - Dual numbers

/// A dual number v + Σⱼ ∂ⱼ εⱼ: a value and its derivatives in `Count` directions, propagated by the
/// chain rule through every operation (forward-mode automatic differentiation).
///
/// The library evaluates a ``ParametricField`` on dual numbers to integrate forward sensitivities
/// (see ``solve(_:initialState:parameters:from:to:method:step:saveAt:maxSteps:implicit:sensitivities:)``)
/// and to compute exact Jacobians for implicit methods; you rarely create one yourself. The partials
/// live inline (no allocation), and every operation is a loop over `Count` that the compiler
/// unrolls and vectorizes.
///
/// ```swift
/// let x = Dual<1, Double>(2, partials: [1])        // x = 2, dx/dx = 1
/// let y = Dual.sin(x) * x                          // y.value = 2 sin 2, y.partials[0] = sin 2 + 2 cos 2
/// ```
///
/// Comparisons (`<`, `==`, `min`, `max`) look at the value only.
@frozen
public struct Dual<let Count: Int, Value: TensorScalar>: FieldScalar {
    public typealias Constant = Value
    public typealias Magnitude = Self
    public typealias IntegerLiteralType = Int
    public typealias FloatLiteralType = Value.FloatLiteralType

    /// The value v.
    public var value: Value
    /// The derivatives ∂ⱼ, one per direction.
    public var partials: InlineArray<Count, Value>

    /// v with the given derivatives.
    @inlinable @inline(__always)
    public init(_ value: Value, partials: InlineArray<Count, Value>) {
        self.value = value
        self.partials = partials
    }

    /// A constant (all derivatives zero).
    @inlinable @inline(__always)
    public init(_ constant: Value) {
        self.init(constant, partials: InlineArray(repeating: 0))
    }

    /// v with derivative 1 in direction `direction` and 0 in the others: the seed of an input.
    @inlinable @inline(__always)
    public init(_ value: Value, seed direction: Int) {
        require(direction >= 0 && direction < Count, "Dual seed direction \(direction) outside 0..<\(Count)")
        var partials = InlineArray<Count, Value>(repeating: 0)
        partials[direction] = 1
        self.init(value, partials: partials)
    }

    @inlinable @inline(__always)
    public init(integerLiteral value: Int) { self.init(Value(value)) }

    @inlinable @inline(__always)
    public init(floatLiteral value: Value.FloatLiteralType) { self.init(Value(floatLiteral: value)) }

    @inlinable
    public init?<T: BinaryInteger>(exactly source: T) {
        guard let value = Value(exactly: source) else { return nil }
        self.init(value)
    }

    /// The value and the derivatives scaled by `slope`: f(v) with f′(v) = `slope`.
    @inlinable @inline(__always)
    package func chained(_ newValue: Value, slope: Value) -> Self {
        var result = Self(newValue, partials: partials)
        for j in 0..<Count { result.partials[j] = slope * partials[j] }
        return result
    }

    // MARK: Arithmetic

    @inlinable @inline(__always)
    public static func + (a: Self, b: Self) -> Self {
        var result = a
        result.value += b.value
        for j in 0..<Count { result.partials[j] += b.partials[j] }
        return result
    }

    @inlinable @inline(__always)
    public static func - (a: Self, b: Self) -> Self {
        var result = a
        result.value -= b.value
        for j in 0..<Count { result.partials[j] -= b.partials[j] }
        return result
    }

    @inlinable @inline(__always)
    public static prefix func - (a: Self) -> Self { a.chained(-a.value, slope: -1) }

    @inlinable @inline(__always)
    public static func * (a: Self, b: Self) -> Self {
        var result = a
        result.value = a.value * b.value
        for j in 0..<Count { result.partials[j] = a.partials[j] * b.value + a.value * b.partials[j] }
        return result
    }

    @inlinable @inline(__always)
    public static func / (a: Self, b: Self) -> Self {
        let quotient = a.value / b.value
        let inverse = 1 / b.value
        var result = a
        result.value = quotient
        for j in 0..<Count { result.partials[j] = (a.partials[j] - quotient * b.partials[j]) * inverse }
        return result
    }

    @inlinable @inline(__always) public static func += (a: inout Self, b: Self) { a = a + b }
    @inlinable @inline(__always) public static func -= (a: inout Self, b: Self) { a = a - b }
    @inlinable @inline(__always) public static func *= (a: inout Self, b: Self) { a = a * b }
    @inlinable @inline(__always) public static func /= (a: inout Self, b: Self) { a = a / b }

    /// |v|, with derivative sign(v) (0 at v = 0).
    @inlinable @inline(__always)
    public var magnitude: Self { chained(Swift.abs(value), slope: value > 0 ? 1 : (value < 0 ? -1 : 0)) }

    // MARK: Comparisons (by value)

    @inlinable @inline(__always)
    public static func == (a: Self, b: Self) -> Bool { a.value == b.value }

    @inlinable @inline(__always)
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    // MARK: Elementary functions

    @inlinable @inline(__always)
    public static func exp(_ x: Self) -> Self {
        let e = Value.exp(x.value)
        return x.chained(e, slope: e)
    }

    @inlinable @inline(__always)
    public static func expm1(_ x: Self) -> Self { x.chained(Value.expm1(x.value), slope: Value.exp(x.value)) }

    @inlinable @inline(__always)
    public static func log(_ x: Self) -> Self { x.chained(Value.log(x.value), slope: 1 / x.value) }

    @inlinable @inline(__always)
    public static func log1p(_ x: Self) -> Self { x.chained(Value.log1p(x.value), slope: 1 / (1 + x.value)) }

    @inlinable @inline(__always)
    public static func sqrt(_ x: Self) -> Self {
        let root = x.value.squareRoot()
        return x.chained(root, slope: 1 / (2 * root))
    }

    @inlinable @inline(__always)
    public static func tanh(_ x: Self) -> Self {
        let t = Value.tanh(x.value)
        return x.chained(t, slope: 1 - t * t)
    }

    @inlinable @inline(__always)
    public static func sigmoid(_ x: Self) -> Self {
        let s = Value.sigmoid(x.value)
        return x.chained(s, slope: s * (1 - s))
    }

    @inlinable @inline(__always)
    public static func sin(_ x: Self) -> Self { x.chained(Value.sin(x.value), slope: Value.cos(x.value)) }

    @inlinable @inline(__always)
    public static func cos(_ x: Self) -> Self { x.chained(Value.cos(x.value), slope: -Value.sin(x.value)) }

    /// xʸ with ∂ = y xʸ⁻¹ ∂x + xʸ log(x) ∂y; the second term only where y has derivatives (so a
    /// constant exponent allows x ≤ 0).
    @inlinable
    public static func pow(_ x: Self, _ y: Self) -> Self {
        let power = Value.pow(x.value, y.value)
        let slopeX = y.value == 0 ? 0 : y.value * Value.pow(x.value, y.value - 1)
        var result = x.chained(power, slope: slopeX)
        var exponentVaries = false
        for j in 0..<Count where y.partials[j] != 0 { exponentVaries = true }
        if exponentVaries {
            let slopeY = power * Value.log(x.value)
            for j in 0..<Count { result.partials[j] += slopeY * y.partials[j] }
        }
        return result
    }
}

extension Dual: CustomStringConvertible {
    public var description: String {
        "\(value) + [" + (0..<Count).map { "\(partials[$0])" }.joined(separator: ", ") + "]ε"
    }
}
