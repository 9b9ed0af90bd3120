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

    /// Writes the Jacobian ∂f/∂y at (t, y) into `matrix` (entry `[i, j]` = ∂fᵢ/∂yⱼ over the state's
    /// components; it starts at zero) and returns true — or returns false, the default, and implicit
    /// methods compute it themselves: on the tape for ``Tensor`` states, by finite differences for
    /// fixed-size ones (see ``ImplicitSolverSettings``).
    ///
    /// ```swift
    /// func jacobian(_ t: Double, _ y: SIMD2<Double>, into j: JacobianMatrix<Double>) -> Bool {
    ///     j[0, 1] = 1
    ///     j[1, 0] = -mu * (2 * y.x * y.y + 1)
    ///     j[1, 1] = mu * (1 - y.x * y.x)
    ///     return true
    /// }
    /// ```
    func jacobian(_ t: State.Scalar, _ y: State, into matrix: JacobianMatrix<State.Scalar>) -> Bool

    /// Whether f does not depend on t. Rosenbrock methods need ∂f/∂t for non-autonomous fields and
    /// estimate it by one extra evaluation per step unless this is true. The default is false.
    var isAutonomous: Bool { get }

    /// The tensors θ the field computes with whose gradients a solve should produce, in a fixed order:
    /// what a ``GradientStrategy`` that records the solve as one operation (checkpointed, adjoints)
    /// differentiates. The default is none; a ``FieldClosure`` with a parametric body returns its
    /// parameters, and a `Trainable` field its trainable tensors (from the Models layer).
    var parameterTensors: [Tensor<State.Scalar>] { get }

    /// The same field computing with `parameters` (shapes and order of ``parameterTensors``) in place
    /// of its own: those strategies evaluate it with constants forward and with variables of a local
    /// tape backward. The field itself is written the same way for every strategy.
    func replacingParameterTensors(_ parameters: [Tensor<State.Scalar>]) -> Self
}

extension VectorField {
    public func firstNonFiniteParameter() -> String? { nil }

    public func jacobian(_ t: State.Scalar, _ y: State, into matrix: JacobianMatrix<State.Scalar>) -> Bool { false }

    public var isAutonomous: Bool { false }

    public var parameterTensors: [Tensor<State.Scalar>] { [] }

    public func replacingParameterTensors(_ parameters: [Tensor<State.Scalar>]) -> Self {
        require(parameters.isEmpty, "\(Self.self) declares no parameter tensors, got \(parameters.count)")
        return self
    }
}

/// A vector field given by a closure, optionally naming the tensors it depends on so that a solve
/// can check them first.
///
/// ```swift
/// let decay = FieldClosure<Tensor<Double>>(parameters: ["k": k]) { t, y in -k * y }
/// ```
///
/// A parametric body receives the parameters' values instead of capturing them, which lets every
/// ``GradientStrategy`` differentiate the solve (checkpointed and adjoint strategies evaluate the body
/// with other tensors in their place); it is written the same way for every strategy:
///
/// ```swift
/// let decay = FieldClosure<Tensor<Double>>(parameters: ["k": k]) { t, y, theta in -theta[0] * y }
/// ```
public struct FieldClosure<State: ODEState>: VectorField {
    public let body: (State.Scalar, State) -> State
    /// Named parameters checked for finiteness before a solve.
    public let parameters: [(name: String, value: Tensor<State.Scalar>)]
    /// The body taking the parameters' values, for fields made with it (nil otherwise).
    public let parametricBody: ((State.Scalar, State, [Tensor<State.Scalar>]) -> State)?
    /// Writes ∂f/∂y (see ``VectorField/jacobian(_:_:into:)``), if given.
    public let jacobianBody: ((State.Scalar, State, JacobianMatrix<State.Scalar>) -> Void)?
    public let isAutonomous: Bool

    /// A field evaluating `body(t, y)`, with an optional Jacobian for implicit methods.
    ///
    /// ```swift
    /// let stiff = FieldClosure<SIMD2<Double>>(autonomous: true, jacobian: { _, _, j in
    ///     j[0, 0] = -1000; j[1, 1] = -1
    /// }) { _, y in SIMD2(-1000 * y.x, -y.y) }
    /// ```
    public init(
        parameters: KeyValuePairs<String, Tensor<State.Scalar>> = [:],
        autonomous: Bool = false,
        jacobian: ((State.Scalar, State, JacobianMatrix<State.Scalar>) -> Void)? = nil,
        _ body: @escaping (State.Scalar, State) -> State
    ) {
        self.body = body
        self.parameters = parameters.map { (name: $0.key, value: $0.value) }
        self.parametricBody = nil
        self.jacobianBody = jacobian
        self.isAutonomous = autonomous
    }

    /// A field evaluating `body(t, y, θ)` with θ the values of `parameters`, in order: the form the
    /// checkpointed and adjoint ``GradientStrategy`` values can differentiate (they call `body` with
    /// constants or local variables in place of θ).
    ///
    /// ```swift
    /// let field = FieldClosure<Tensor<Double>>(parameters: ["k": k, "b": b]) { _, y, theta in
    ///     -theta[0] * y + theta[1]
    /// }
    /// ```
    public init(
        parameters: KeyValuePairs<String, Tensor<State.Scalar>>,
        autonomous: Bool = false,
        jacobian: ((State.Scalar, State, JacobianMatrix<State.Scalar>) -> Void)? = nil,
        _ body: @escaping (State.Scalar, State, [Tensor<State.Scalar>]) -> State
    ) {
        self.init(
            parameters: parameters.map { (name: $0.key, value: $0.value) }, autonomous: autonomous, jacobian: jacobian,
            parametricBody: body)
    }

    init(
        parameters: [(name: String, value: Tensor<State.Scalar>)], autonomous: Bool,
        jacobian: ((State.Scalar, State, JacobianMatrix<State.Scalar>) -> Void)?,
        parametricBody: @escaping (State.Scalar, State, [Tensor<State.Scalar>]) -> State
    ) {
        let values = parameters.map { $0.value }
        self.body = { t, y in parametricBody(t, y, values) }
        self.parameters = parameters
        self.parametricBody = parametricBody
        self.jacobianBody = jacobian
        self.isAutonomous = autonomous
    }

    /// The parameters' values for a parametric body; none for a body that captures its tensors.
    public var parameterTensors: [Tensor<State.Scalar>] {
        parametricBody == nil ? [] : parameters.map { $0.value }
    }

    public func replacingParameterTensors(_ values: [Tensor<State.Scalar>]) -> Self {
        guard let parametricBody else {
            require(values.isEmpty, "a FieldClosure whose body captures its tensors cannot take \(values.count) parameters")
            return self
        }
        require(values.count == parameters.count, "\(values.count) tensors for \(parameters.count) parameters")
        for (parameter, value) in zip(parameters, values) {
            require(
                parameter.value.shape == value.shape,
                "parameter '\(parameter.name)' has shape \(parameter.value.shape), got \(value.shape)")
        }
        return FieldClosure(
            parameters: zip(parameters, values).map { (name: $0.name, value: $1) }, autonomous: isAutonomous,
            jacobian: jacobianBody, parametricBody: parametricBody)
    }

    @inlinable
    public func callAsFunction(_ t: State.Scalar, _ y: State) -> State { body(t, y) }

    public func jacobian(_ t: State.Scalar, _ y: State, into matrix: JacobianMatrix<State.Scalar>) -> Bool {
        guard let jacobianBody else { return false }
        jacobianBody(t, y, matrix)
        return true
    }

    public func firstNonFiniteParameter() -> String? {
        parameters.first { !$0.value.isFinite }?.name
    }
}
