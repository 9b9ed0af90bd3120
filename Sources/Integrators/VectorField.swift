import RNNODETensors

/// The right-hand side of an ODE, dy/dt = f(t, y).
///
/// Write a small struct for a field you integrate often (it is specialized into the solve loop):
///
/// ```swift
/// struct Lorenz: VectorField {
///     var sigma = 10.0, rho = 28.0, beta = 8.0 / 3
///     func callAsFunction(_ t: Double, _ u: SIMD3<Double>) -> SIMD3<Double> {
///         SIMD3(sigma * (u.y - u.x), u.x * (rho - u.z) - u.y, u.x * u.y - beta * u.z)
///     }
/// }
/// ```
///
/// or wrap a closure in ``FieldClosure`` (or pass it to ``solve(initialState:from:to:method:step:saveAt:maxSteps:_:)``).
/// An RNN cell is a vector field too: its input xₜ is held fixed over a step (zero-order hold) by a
/// closure that captures it.
public protocol VectorField<State> {
    /// The state type y.
    associatedtype State: ODEState

    /// The derivative dy/dt at time `t` and state `y`. Must return a value of `y`'s shape.
    func callAsFunction(_ t: State.Scalar, _ y: State) -> State

    /// The name of a parameter of the field that is NaN or infinite, if any. A solve refuses to start
    /// with such a parameter (``SolveError/nonFiniteParameter(name:)``). The default has no parameters.
    func firstNonFiniteParameter() -> String?
}

extension VectorField {
    public func firstNonFiniteParameter() -> String? { nil }
}

/// A vector field given by a closure, optionally naming the tensors it depends on so that a solve
/// can check them first.
///
/// ```swift
/// let decay = FieldClosure<Tensor<Double>>(parameters: ["k": k]) { t, y in -k * y }
/// ```
public struct FieldClosure<State: ODEState>: VectorField {
    public let body: (State.Scalar, State) -> State
    /// Named parameters checked for finiteness before a solve.
    public let parameters: [(name: String, value: Tensor<State.Scalar>)]

    /// A field evaluating `body(t, y)`.
    public init(
        parameters: KeyValuePairs<String, Tensor<State.Scalar>> = [:],
        _ body: @escaping (State.Scalar, State) -> State
    ) {
        self.body = body
        self.parameters = parameters.map { (name: $0.key, value: $0.value) }
    }

    @inlinable
    public func callAsFunction(_ t: State.Scalar, _ y: State) -> State { body(t, y) }

    public func firstNonFiniteParameter() -> String? {
        parameters.first { !$0.value.isFinite }?.name
    }
}
