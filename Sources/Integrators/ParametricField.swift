// Small systems written once over a generic scalar: solved on plain numbers, differentiated with dual
// numbers (forward sensitivities, exact Jacobians) — no tape, no allocation per step.

import RNNODETensors

/// The right-hand side dy/dt = f(t, y, p) of a small system with parameters p, written once over a
/// generic scalar so that the library can evaluate it on plain numbers and on ``Dual`` numbers.
///
/// That one definition gives, with no tape and no allocation per step:
/// - plain solves, through ``withParameters(_:)`` (a ``VectorField`` over `State`);
/// - forward sensitivities ∂y(t)/∂p and ∂y(t)/∂y₀ at the output times, integrated on the same steps
///   by the same tableau (``solve(_:initialState:parameters:from:to:method:step:saveAt:maxSteps:implicit:sensitivities:)``):
///   the Jacobian of a least-squares fit for about (1 + parameters) plain solves;
/// - exact Jacobians ∂f/∂y for implicit methods.
///
/// The field reads the components of y and p and writes every component of dy (`dy` starts at
/// zero), as SciML's in-place `f!(du, u, p, t)` does:
///
/// ```swift
/// struct LotkaVolterra: ParametricField {
///     typealias State = SIMD2<Double>
///     func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
///     where S.Constant == Double {
///         dy[0] = p[0] * y[0] - p[1] * y[0] * y[1]
///         dy[1] = p[3] * y[0] * y[1] - p[2] * y[1]
///     }
/// }
/// let fit = try solve(LotkaVolterra(), initialState: [1, 1], parameters: [1.5, 1, 3, 1], times: [0, 1, 2],
///                     sensitivities: .parameters)
/// fit.sensitivities!.parameter(2, component: 0, at: 1)     // ∂y₀(1)/∂p₂
/// ```
///
/// `State` is a fixed-size state that exposes its components (`SIMD2` … `SIMD16` of `Float` or
/// `Double`, `Float`, `Double`, or your own ``FixedSizeState`` with the component requirements).
/// Use only `t`, `y`, `p` and constants `S(c)` in the computation: anything else is invisible to the
/// derivatives.
public protocol ParametricField<State> {
    /// The state type y.
    associatedtype State: FixedSizeState where State.Scalar: FieldScalar, State.Scalar.Constant == State.Scalar

    /// Writes f(t, y, p) into `dy`: every component, computed from `t`, `y`, `p` and constants.
    func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
    where S.Constant == State.Scalar

    /// Whether f does not depend on t (see ``VectorField/isAutonomous``). The default is false.
    var isAutonomous: Bool { get }
}

extension ParametricField {
    public var isAutonomous: Bool { false }

    /// The plain vector field y ↦ f(t, y, `parameters`), for `solve` and everything else that takes a
    /// ``VectorField``. Implicit methods get its exact Jacobian (by dual numbers).
    @inlinable
    public func withParameters(_ parameters: [State.Scalar]) -> ParametrizedField<Self> {
        ParametrizedField(self, parameters: parameters)
    }
}

/// The components of y or p that a ``ParametricField`` reads: `y[i]`, `y.count`.
///
/// A view valid only during the call it is passed to.
@frozen
public struct FieldInput<S> {
    @usableFromInline let base: UnsafePointer<S>
    /// The number of components.
    public let count: Int

    @inlinable @inline(__always)
    init(_ base: UnsafePointer<S>, count: Int) {
        self.base = base
        self.count = count
    }

    @inlinable @inline(__always)
    public subscript(index: Int) -> S {
        require(index >= 0 && index < count, "component \(index) outside 0..<\(count) of a field's input")
        return base[index]
    }
}

/// The components of dy/dt that a ``ParametricField`` writes: `dy[i] = …`.
///
/// A view valid only during the call it is passed to.
@frozen
public struct FieldOutput<S> {
    @usableFromInline let base: UnsafeMutablePointer<S>
    /// The number of components.
    public let count: Int

    @inlinable @inline(__always)
    init(_ base: UnsafeMutablePointer<S>, count: Int) {
        self.base = base
        self.count = count
    }

    @inlinable @inline(__always)
    public subscript(index: Int) -> S {
        get {
            require(index >= 0 && index < count, "component \(index) outside 0..<\(count) of a field's output")
            return base[index]
        }
        nonmutating set {
            require(index >= 0 && index < count, "component \(index) outside 0..<\(count) of a field's output")
            base[index] = newValue
        }
    }
}

// MARK: - The plain field

/// A ``ParametricField`` with its parameters bound: dy/dt = f(t, y, p) as a ``VectorField`` over
/// `Field.State`. Made by ``ParametricField/withParameters(_:)``.
///
/// Its ``jacobian(_:_:into:)`` is exact: the field evaluated on dual numbers seeded in the state's
/// components (eight per evaluation).
public struct ParametrizedField<Field: ParametricField>: VectorField {
    public typealias State = Field.State
    public typealias Scalar = State.Scalar
    public let field: Field
    /// p.
    public let parameters: [Scalar]
    @usableFromInline let count: Int

    @inlinable
    public init(_ field: Field, parameters: [Scalar]) {
        guard let count = State().componentCount else {
            programmingError("a ParametricField's state \(State.self) must expose its components (componentCount)")
        }
        self.field = field
        self.parameters = parameters
        self.count = count
    }

    @inlinable
    public func callAsFunction(_ t: Scalar, _ y: State) -> State {
        let n = count
        return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: 2 * n) { buffer in
            let input = buffer.baseAddress!
            let output = input + n
            y.copyComponents(to: input)
            output.initialize(repeating: 0, count: n)
            parameters.withUnsafeBufferPointer { p in
                field(
                    t, FieldInput(input, count: n), FieldInput(p.baseAddress ?? UnsafePointer(input), count: p.count),
                    FieldOutput(output, count: n))
            }
            return y.withComponents(from: output)
        }
    }

    public var isAutonomous: Bool { field.isAutonomous }

    public func firstNonFiniteParameter() -> String? {
        parameters.firstIndex { !$0.isFinite }.map { "p[\($0)]" }
    }

    /// ∂f/∂y, exactly: dual numbers seeded in eight components at a time.
    @inlinable
    public func jacobian(_ t: Scalar, _ y: State, into matrix: JacobianMatrix<Scalar>) -> Bool {
        typealias D = Dual<8, Scalar>
        let n = count
        let m = parameters.count
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: n) { components in
            y.copyComponents(to: components.baseAddress!)
            withUnsafeTemporaryAllocation(of: D.self, capacity: 2 * n + m) { buffer in
                let input = buffer.baseAddress!
                let output = input + n
                let p = output + n
                for k in 0..<m { (p + k).initialize(to: D(parameters[k])) }
                for first in stride(from: 0, to: n, by: 8) {
                    for i in 0..<n {
                        let i8 = i - first
                        (input + i).initialize(to: i8 >= 0 && i8 < 8 ? D(components[i], seed: i8) : D(components[i]))
                    }
                    output.initialize(repeating: D(0), count: n)
                    field(D(t), FieldInput(input, count: n), FieldInput(p, count: m), FieldOutput(output, count: n))
                    for i in 0..<n {
                        for j in first..<Swift.min(first + 8, n) where matrix.contains(row: i, column: j) {
                            matrix[i, j] = output[i].partials[j - first]
                        }
                    }
                }
            }
        }
        return true
    }
}
