import RNNODETensors

/// A state that the Runge–Kutta stepper can advance: an element of a vector space over `Scalar`.
///
/// The stepper needs only linear combinations (stages and updates are `y + h Σ wⱼ kⱼ`), an error norm
/// for step-size control, and checks for non-finite values and shape agreement. The library conforms:
///
/// - `SIMD2`, `SIMD3`, `SIMD4`, `SIMD8`, `SIMD16` of `Float`/`Double`, and `Float`/`Double` themselves:
///   small fixed-size states integrated with no allocation per step;
/// - ``Tensor``: the differentiable path. Each combination is one fused operation and one tape record,
///   so gradients flow through every step of a solve.
///
/// Conform your own fixed-size state types through ``FixedSizeState``, which implements most of the
/// requirements from `+`, scaling and a zero.
public protocol ODEState: Sendable {
    /// The scalar type of components, coefficients and time.
    associatedtype Scalar: TensorScalar

    /// Returns `base + h · (Σₙ terms.weight(n) · terms.stage(n) + lastWeight · last)`.
    ///
    /// This is the one combination of a Runge–Kutta step. `terms` lists the nonzero coefficients of
    /// the older stages; the most recent stage is passed separately (`last`) so that a fixed-size state
    /// keeps it in registers.
    static func combine(_ base: Self, _ h: Scalar, _ terms: StageTerms<Self>, _ lastWeight: Scalar, _ last: Self) -> Self

    /// The square of the ``scaledNorm(_:_:_:rtol:atol:)`` of the local error estimate
    /// `h Σₙ terms.weight(n) · terms.stage(n)` between the states `y0` and `y1`: the mean of the
    /// squared scaled components. (Squared so that the step-size decision needs no square root.)
    /// Step-size decisions are not differentiated, so an implementation need not record anything.
    static func squaredErrorNorm(
        _ h: Scalar, _ terms: StageTerms<Self>, _ y0: Self, _ y1: Self, rtol: Scalar, atol: Scalar
    ) -> Scalar

    /// The root-mean-square of eᵢ / (atol + rtol · max(|aᵢ|, |bᵢ|)) over the components: the size of a
    /// local error estimate `e` relative to the tolerance at states `a` and `b`. A value ≤ 1 meets the
    /// tolerance.
    static func scaledNorm(_ e: Self, _ a: Self, _ b: Self, rtol: Scalar, atol: Scalar) -> Scalar

    /// Whether every component is finite.
    var isFinite: Bool { get }

    /// Whether `other` has this state's shape (always true for fixed-size types).
    func hasSameShape(as other: Self) -> Bool

    /// The shape, for error messages, e.g. "SIMD2<Double>" or "[2, 3]".
    var shapeDescription: String { get }

    /// Returns `self + w · other`.
    func adding(_ w: Scalar, times other: Self) -> Self

    /// The same value with no derivative information: gradients do not flow back through it (a
    /// detached ``Tensor``; the value itself for fixed-size states).
    var withoutDerivative: Self { get }

    /// Whether gradients flow through this value (a recorded ``Tensor``); false for fixed-size states.
    var isRecorded: Bool { get }

    // MARK: Components (for implicit methods)

    /// The number of scalar components, which implicit and Rosenbrock methods number 0…n−1 for their
    /// Jacobians and linear solves; nil (the default) for a type that does not expose them. SIMD
    /// vectors, scalars and ``Tensor`` do; give your own ``FixedSizeState`` the three component
    /// requirements to solve it with implicit methods.
    var componentCount: Int? { get }

    /// Writes the ``componentCount`` components to `buffer`.
    func copyComponents(to buffer: UnsafeMutablePointer<Scalar>)

    /// A state of this one's shape whose components are read from `buffer` (with no derivative
    /// information).
    func withComponents(from buffer: UnsafePointer<Scalar>) -> Self

    /// Writes the exact Jacobian ∂f/∂y of `field` at (t, y) into `matrix` by the state type's own
    /// means and returns true, or returns false (the default) to leave it to finite differences.
    /// ``Tensor`` computes it on the tape, one backward pass per component.
    static func exactJacobian<F: VectorField>(
        of field: F, at t: Scalar, _ y: Self, into matrix: JacobianMatrix<Scalar>
    ) -> Bool where F.State == Self
}

extension ODEState {
    public var isRecorded: Bool { false }

    public var componentCount: Int? { nil }

    public func copyComponents(to buffer: UnsafeMutablePointer<Scalar>) {
        programmingError("\(Self.self) does not expose its components (componentCount is nil)")
    }

    public func withComponents(from buffer: UnsafePointer<Scalar>) -> Self {
        programmingError("\(Self.self) does not expose its components (componentCount is nil)")
    }

    public static func exactJacobian<F: VectorField>(
        of field: F, at t: Scalar, _ y: Self, into matrix: JacobianMatrix<Scalar>
    ) -> Bool where F.State == Self {
        false
    }
}

// MARK: - Fixed-size states

/// A state of a fixed number of scalars with `+`, scaling and a zero (`init()`): SIMD vectors, `Float`,
/// `Double`, or your own struct. Conforming gives the Runge–Kutta combination, the error norm and
/// `adding(_:times:)` for free; they compile to straight-line register code, with no allocation.
///
/// ```swift
/// struct Pendulum: FixedSizeState {          // (angle, angular velocity)
///     typealias Scalar = Double
///     var angle = 0.0, velocity = 0.0
///     static func + (a: Self, b: Self) -> Self { Self(angle: a.angle + b.angle, velocity: a.velocity + b.velocity) }
///     static func * (w: Double, a: Self) -> Self { Self(angle: w * a.angle, velocity: w * a.velocity) }
///     static func += (a: inout Self, b: Self) { a = a + b }
///     static func scaledMeanSquare(_ e: Self, _ a: Self, _ b: Self, rtol: Double, atol: Double) -> Double {
///         let ea = e.angle / (atol + rtol * max(abs(a.angle), abs(b.angle)))
///         let ev = e.velocity / (atol + rtol * max(abs(a.velocity), abs(b.velocity)))
///         return (ea * ea + ev * ev) / 2
///     }
///     var isFinite: Bool { angle.isFinite && velocity.isFinite }
///     var shapeDescription: String { "Pendulum" }
/// }
/// ```
public protocol FixedSizeState: ODEState {
    /// The zero state.
    init()
    static func + (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Scalar, rhs: Self) -> Self
    static func += (lhs: inout Self, rhs: Self)
    /// The mean over the components of (eᵢ / (atol + rtol · max(|aᵢ|, |bᵢ|)))²: the squared
    /// ``ODEState/scaledNorm(_:_:_:rtol:atol:)``.
    static func scaledMeanSquare(_ e: Self, _ a: Self, _ b: Self, rtol: Scalar, atol: Scalar) -> Scalar
}

extension FixedSizeState {
    @inlinable @inline(__always)
    public static func combine(
        _ base: Self, _ h: Scalar, _ terms: StageTerms<Self>, _ lastWeight: Scalar, _ last: Self
    )
        -> Self
    {
        var result = base
        for n in 0..<terms.count { result += (h * terms.weight(n)) * terms.stage(n) }
        return result + (h * lastWeight) * last
    }

    @inlinable
    public static func squaredErrorNorm(
        _ h: Scalar, _ terms: StageTerms<Self>, _ y0: Self, _ y1: Self, rtol: Scalar, atol: Scalar
    ) -> Scalar {
        var e = Self()
        for n in 0..<terms.count { e += (h * terms.weight(n)) * terms.stage(n) }
        return scaledMeanSquare(e, y0, y1, rtol: rtol, atol: atol)
    }

    @inlinable
    public static func scaledNorm(_ e: Self, _ a: Self, _ b: Self, rtol: Scalar, atol: Scalar) -> Scalar {
        scaledMeanSquare(e, a, b, rtol: rtol, atol: atol).squareRoot()
    }

    @inlinable
    public func hasSameShape(as other: Self) -> Bool { true }

    @inlinable @inline(__always)
    public func adding(_ w: Scalar, times other: Self) -> Self { self + w * other }

    @inlinable @inline(__always)
    public var withoutDerivative: Self { self }
}

// MARK: - SIMD vectors

extension SIMD where Self: FixedSizeState, Scalar: TensorScalar {
    /// Per lane: the lane count is static, so the loop unrolls (the generic `pointwiseMax` would be an
    /// out-of-line call).
    @inlinable @inline(__always)
    public static func scaledMeanSquare(_ e: Self, _ a: Self, _ b: Self, rtol: Scalar, atol: Scalar) -> Scalar {
        var sum: Scalar = 0
        for i in 0..<Self.scalarCount {
            let r = e[i] / (atol + rtol * Swift.max(Swift.abs(a[i]), Swift.abs(b[i])))
            sum += r * r
        }
        return sum / Scalar(Self.scalarCount)
    }

    /// Whether every component is finite: x − x is exactly 0 for finite x and NaN otherwise, so the
    /// lanes of `self − self` sum to 0 exactly when all are finite (two vector operations, no branch per lane).
    @inlinable @inline(__always)
    public var isFinite: Bool { (self - self).sum() == 0 }

    public var shapeDescription: String { "SIMD\(scalarCount)<\(Scalar.self)>" }

    @inlinable
    public var componentCount: Int? { Self.scalarCount }

    @inlinable @inline(__always)
    public func copyComponents(to buffer: UnsafeMutablePointer<Scalar>) {
        for i in 0..<Self.scalarCount { buffer[i] = self[i] }
    }

    @inlinable @inline(__always)
    public func withComponents(from buffer: UnsafePointer<Scalar>) -> Self {
        var result = Self()
        for i in 0..<Self.scalarCount { result[i] = buffer[i] }
        return result
    }
}

extension SIMD2: ODEState, FixedSizeState where Scalar: TensorScalar {}
extension SIMD3: ODEState, FixedSizeState where Scalar: TensorScalar {}
extension SIMD4: ODEState, FixedSizeState where Scalar: TensorScalar {}
extension SIMD8: ODEState, FixedSizeState where Scalar: TensorScalar {}
extension SIMD16: ODEState, FixedSizeState where Scalar: TensorScalar {}

// MARK: - Scalars

extension TensorScalar {
    @inlinable @inline(__always)
    public static func scaledMeanSquare(_ e: Self, _ a: Self, _ b: Self, rtol: Self, atol: Self) -> Self {
        let r = e / (atol + rtol * Swift.max(Swift.abs(a), Swift.abs(b)))
        return r * r
    }

    public var shapeDescription: String { "\(Self.self)" }
}

extension ScalarState {
    @inlinable
    public var componentCount: Int? { 1 }

    @inlinable @inline(__always)
    public func copyComponents(to buffer: UnsafeMutablePointer<Scalar>) { buffer[0] = self }

    @inlinable @inline(__always)
    public func withComponents(from buffer: UnsafePointer<Scalar>) -> Self { buffer[0] }
}

/// A scalar type that is also a one-dimensional state (`Float`, `Double`): write generic code over
/// the scalar type of a scalar ODE as `<T: ScalarState>`.
///
/// ```swift
/// struct Decay<T: ScalarState>: VectorField {
///     var rate: T
///     func callAsFunction(_ t: T, _ y: T) -> T { -rate * y }
/// }
/// ```
public protocol ScalarState: TensorScalar, FixedSizeState where Scalar == Self {}

extension Double: ScalarState {
    public typealias Scalar = Double
}

extension Float: ScalarState {
    public typealias Scalar = Float
}

// MARK: - Tensors

extension Tensor: ODEState {
    /// One fused ``Tensor/linearCombination(base:weights:terms:)``: one pass, one tape record.
    @inlinable
    public static func combine(
        _ base: Tensor, _ h: Scalar, _ terms: StageTerms<Tensor>, _ lastWeight: Scalar, _ last: Tensor
    )
        -> Tensor
    {
        var scaled: [Scalar] = []
        var operands: [Tensor] = []
        scaled.reserveCapacity(terms.count + 1)
        operands.reserveCapacity(terms.count + 2)
        operands.append(base)
        for n in 0..<terms.count {
            scaled.append(h * terms.weight(n))
            operands.append(terms.stage(n))
        }
        if lastWeight != 0 {
            scaled.append(h * lastWeight)
            operands.append(last)
        }
        return linearCombination(operands, weights: scaled)
    }

    /// Computed on the scalars directly: no temporary tensor, nothing recorded.
    @inlinable
    public static func squaredErrorNorm(
        _ h: Scalar, _ terms: StageTerms<Tensor>, _ y0: Tensor, _ y1: Tensor, rtol: Scalar, atol: Scalar
    ) -> Scalar {
        var e = TensorStorage<Scalar>(repeating: 0, count: y0.scalarCount)
        e.withUnsafeMutableBufferPointer { e in
            for n in 0..<terms.count {
                let w = h * terms.weight(n)
                terms.stage(n).storage.withUnsafeBufferPointer { k in
                    for i in 0..<e.count { e[i] += w * k[i] }
                }
            }
        }
        let r = scaledNorm(Tensor(shape: y0.shape, storage: e, node: nil), y0, y1, rtol: rtol, atol: atol)
        return r * r
    }

    @inlinable
    public static func scaledNorm(_ e: Tensor, _ a: Tensor, _ b: Tensor, rtol: Scalar, atol: Scalar) -> Scalar {
        let n = e.scalarCount
        guard n > 0 else { return 0 }
        var sum: Scalar = 0
        e.storage.withUnsafeBufferPointer { e in
            a.storage.withUnsafeBufferPointer { a in
                b.storage.withUnsafeBufferPointer { b in
                    for i in 0..<n {
                        let r = e[i] / (atol + rtol * Swift.max(Swift.abs(a[i]), Swift.abs(b[i])))
                        sum += r * r
                    }
                }
            }
        }
        return (sum / Scalar(n)).squareRoot()
    }

    @inlinable
    public func hasSameShape(as other: Tensor) -> Bool { shape == other.shape }

    public var shapeDescription: String { describeShape(shape) }

    @inlinable
    public func adding(_ w: Scalar, times other: Tensor) -> Tensor {
        Tensor.linearCombination(base: self, weights: [w], terms: [other])
    }

    @inlinable
    public var withoutDerivative: Tensor { detached }

    @inlinable
    public var componentCount: Int? { scalarCount }

    @inlinable
    public func copyComponents(to buffer: UnsafeMutablePointer<Scalar>) {
        storage.withUnsafeBufferPointer { source in
            for i in 0..<source.count { buffer[i] = source[i] }
        }
    }

    @inlinable
    public func withComponents(from buffer: UnsafePointer<Scalar>) -> Tensor {
        Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: buffer, count: scalarCount)))
    }

    /// The Jacobian from the tape: f(t, y) recorded once, then one backward pass per component of
    /// f. When the field's parameters are recorded on a tape, the evaluation joins that tape (the
    /// records stay on it until it is released).
    public static func exactJacobian<F: VectorField>(
        of field: F, at t: Scalar, _ y: Tensor, into matrix: JacobianMatrix<Scalar>
    ) -> Bool where F.State == Tensor {
        let probe = field(t, y.detached)
        let tape = probe.node?.tape ?? Tape<Scalar>()
        let variable = tape.variable(y.detached)
        let output = field(t, variable)
        // Not recorded: f does not depend on y, or it computes on the raw storage (off the tape);
        // finite differences tell the two apart.
        guard output.node != nil else { return false }
        let n = y.scalarCount
        var seed = Tensor.zeros(output.shape)
        for i in 0..<n {
            seed.withUnsafeMutableBufferPointer { $0[i] = 1 }
            let row = tape.pullback(of: output, seed: seed, withRespectTo: [variable])[0]
            seed.withUnsafeMutableBufferPointer { $0[i] = 0 }
            row.storage.withUnsafeBufferPointer { row in
                for j in 0..<n where matrix.contains(row: i, column: j) { matrix[i, j] = row[j] }
            }
        }
        return true
    }
}

// MARK: - Stage terms

/// The terms Σₙ wₙ kⱼₙ of a Runge–Kutta combination: nonzero weights and the stages they multiply,
/// a view into the Runge–Kutta stepper's workspace (valid only during the call it is passed to).
public struct StageTerms<State: ODEState> {
    /// The number of terms.
    public let count: Int
    @usableFromInline package let indices: UnsafePointer<Int>
    @usableFromInline package let weights: UnsafePointer<State.Scalar>
    @usableFromInline package let stages: UnsafePointer<State>

    @inlinable
    package init(count: Int, indices: UnsafePointer<Int>, weights: UnsafePointer<State.Scalar>, stages: UnsafePointer<State>) {
        self.count = count
        self.indices = indices
        self.weights = weights
        self.stages = stages
    }

    /// The weight of term `n`.
    @inlinable @inline(__always)
    public func weight(_ n: Int) -> State.Scalar { weights[n] }

    /// The stage of term `n`.
    @inlinable @inline(__always)
    public func stage(_ n: Int) -> State { stages[indices[n]] }
}
