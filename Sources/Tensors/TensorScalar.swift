#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The scalar types a ``Tensor`` and the integrators work with: `Float` and `Double`.
///
/// Besides the arithmetic of `BinaryFloatingPoint`, a scalar provides the elementary functions the
/// tensor operations need, so that generic code (`Tensor<T>`, the Runge–Kutta stepper) calls the C
/// library's `exp`, `tanh`, … for the concrete type once it is specialized. (The integrators make
/// `Float` and `Double` one-dimensional states as well.)
public protocol TensorScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {
    /// eˣ
    static func exp(_ x: Self) -> Self
    /// eˣ − 1, accurate for small x.
    static func expm1(_ x: Self) -> Self
    /// Natural logarithm.
    static func log(_ x: Self) -> Self
    /// log(1 + x), accurate for small x.
    static func log1p(_ x: Self) -> Self
    /// Hyperbolic tangent.
    static func tanh(_ x: Self) -> Self
    /// Sine.
    static func sin(_ x: Self) -> Self
    /// Cosine.
    static func cos(_ x: Self) -> Self
    /// xʸ (the C library's `pow`).
    static func pow(_ x: Self, _ y: Self) -> Self
}

extension TensorScalar {
    /// The logistic function 1 / (1 + e⁻ˣ), evaluated without overflow for large |x|.
    @inlinable
    public static func sigmoid(_ x: Self) -> Self {
        if x >= 0 {
            return 1 / (1 + exp(-x))
        }
        let e = exp(x)
        return e / (1 + e)
    }

    /// softplus(x) = log(1 + eˣ), evaluated without overflow: max(x, 0) + log1p(e^−|x|).
    @inlinable
    public static func softplus(_ x: Self) -> Self {
        Swift.max(x, 0) + log1p(exp(-Swift.abs(x)))
    }
}

extension Double: TensorScalar {
    @inlinable @inline(__always) public static func exp(_ x: Double) -> Double { libmExp(x) }
    @inlinable @inline(__always) public static func expm1(_ x: Double) -> Double { libmExpm1(x) }
    @inlinable @inline(__always) public static func log(_ x: Double) -> Double { libmLog(x) }
    @inlinable @inline(__always) public static func log1p(_ x: Double) -> Double { libmLog1p(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Double) -> Double { libmTanh(x) }
    @inlinable @inline(__always) public static func sin(_ x: Double) -> Double { libmSin(x) }
    @inlinable @inline(__always) public static func cos(_ x: Double) -> Double { libmCos(x) }
    @inlinable @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { libmPow(x, y) }
}

extension Float: TensorScalar {
    @inlinable @inline(__always) public static func exp(_ x: Float) -> Float { libmExp(x) }
    @inlinable @inline(__always) public static func expm1(_ x: Float) -> Float { libmExpm1(x) }
    @inlinable @inline(__always) public static func log(_ x: Float) -> Float { libmLog(x) }
    @inlinable @inline(__always) public static func log1p(_ x: Float) -> Float { libmLog1p(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Float) -> Float { libmTanh(x) }
    @inlinable @inline(__always) public static func sin(_ x: Float) -> Float { libmSin(x) }
    @inlinable @inline(__always) public static func cos(_ x: Float) -> Float { libmCos(x) }
    @inlinable @inline(__always) public static func pow(_ x: Float, _ y: Float) -> Float { libmPow(x, y) }
}

// MARK: - C library bindings
//
// Free functions, so that the unqualified names resolve to the C library and not to the static
// requirements above.

@usableFromInline @inline(__always) package func libmExp(_ x: Double) -> Double { exp(x) }
@usableFromInline @inline(__always) package func libmExpm1(_ x: Double) -> Double { expm1(x) }
@usableFromInline @inline(__always) package func libmLog(_ x: Double) -> Double { log(x) }
@usableFromInline @inline(__always) package func libmLog1p(_ x: Double) -> Double { log1p(x) }
@usableFromInline @inline(__always) package func libmTanh(_ x: Double) -> Double { tanh(x) }
@usableFromInline @inline(__always) package func libmSin(_ x: Double) -> Double { sin(x) }
@usableFromInline @inline(__always) package func libmCos(_ x: Double) -> Double { cos(x) }
@usableFromInline @inline(__always) package func libmPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@usableFromInline @inline(__always) package func libmExp(_ x: Float) -> Float { expf(x) }
@usableFromInline @inline(__always) package func libmExpm1(_ x: Float) -> Float { expm1f(x) }
@usableFromInline @inline(__always) package func libmLog(_ x: Float) -> Float { logf(x) }
@usableFromInline @inline(__always) package func libmLog1p(_ x: Float) -> Float { log1pf(x) }
@usableFromInline @inline(__always) package func libmTanh(_ x: Float) -> Float { tanhf(x) }
@usableFromInline @inline(__always) package func libmSin(_ x: Float) -> Float { sinf(x) }
@usableFromInline @inline(__always) package func libmCos(_ x: Float) -> Float { cosf(x) }
@usableFromInline @inline(__always) package func libmPow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
