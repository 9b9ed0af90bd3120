// Forward sensitivities of small systems: the field evaluated on dual numbers, integrated by the one
// integrator on a state that carries its tangents (the sensitivity equations S' = (∂f/∂y) S + ∂f/∂p,
// discretized by the same tableau on the same steps).

import RNNODETensors

/// Which derivatives of the solution a forward-sensitivity solve computes (see
/// ``solve(_:initialState:parameters:from:to:method:step:saveAt:maxSteps:implicit:sensitivities:)``).
public enum SensitivityTarget: Sendable, Equatable {
    /// None: a plain solve.
    case none
    /// ∂y(t)/∂p, one direction per parameter.
    case parameters
    /// ∂y(t)/∂y₀, one direction per component of the state.
    case initialState
    /// Both: the parameters' directions first, then the initial state's.
    case parametersAndInitialState

    @usableFromInline
    var includesParameters: Bool { self == .parameters || self == .parametersAndInitialState }
    @usableFromInline
    var includesInitialState: Bool { self == .initialState || self == .parametersAndInitialState }
}

/// The derivatives of the saved states of a forward-sensitivity solve: ∂yᵢ(tₖ)/∂dⱼ for every saved
/// time tₖ, state component i and direction j — the parameters p (if computed) and then the
/// components of y₀ (if computed). See ``SensitivityTarget``.
///
/// They are the exact derivatives of the computed trajectory (the step sizes held fixed), so they
/// agree with backpropagation through the same solve to rounding.
public struct ForwardSensitivities<Scalar: TensorScalar>: Sendable, Equatable {
    /// What was differentiated.
    public let target: SensitivityTarget
    /// The number of state components n.
    public let componentCount: Int
    /// The number of parameters m (whether or not their directions were computed).
    public let parameterCount: Int
    /// The number of directions: m, n or m + n.
    public let directionCount: Int
    /// ∂yᵢ(tₖ)/∂dⱼ at `(k · n + i) · directionCount + j`.
    public let values: [Scalar]

    @usableFromInline
    init(target: SensitivityTarget, componentCount: Int, parameterCount: Int, values: [Scalar]) {
        self.target = target
        self.componentCount = componentCount
        self.parameterCount = parameterCount
        directionCount =
            (target.includesParameters ? parameterCount : 0) + (target.includesInitialState ? componentCount : 0)
        self.values = values
    }

    /// The number of saved times.
    public var timeCount: Int {
        directionCount == 0 || componentCount == 0 ? 0 : values.count / (componentCount * directionCount)
    }

    /// ∂yᵢ(tₖ)/∂dⱼ: direction `direction` of component `component` at saved time `index`.
    @inlinable
    public subscript(time index: Int, component component: Int, direction direction: Int) -> Scalar {
        require(index >= 0 && index < timeCount, "saved time \(index) outside 0..<\(timeCount)")
        require(component >= 0 && component < componentCount, "component \(component) outside 0..<\(componentCount)")
        require(direction >= 0 && direction < directionCount, "direction \(direction) outside 0..<\(directionCount)")
        return values[(index * componentCount + component) * directionCount + direction]
    }

    /// ∂yᵢ(tₖ)/∂pⱼ.
    @inlinable
    public func parameter(_ j: Int, component i: Int, at index: Int) -> Scalar {
        require(target.includesParameters, "the parameters' sensitivities were not computed (target \(target))")
        require(j >= 0 && j < parameterCount, "parameter \(j) outside 0..<\(parameterCount)")
        return self[time: index, component: i, direction: j]
    }

    /// ∂yᵢ(tₖ)/∂y₀ⱼ.
    @inlinable
    public func initialState(_ j: Int, component i: Int, at index: Int) -> Scalar {
        require(target.includesInitialState, "the initial state's sensitivities were not computed (target \(target))")
        require(j >= 0 && j < componentCount, "initial-state component \(j) outside 0..<\(componentCount)")
        return self[time: index, component: i, direction: (target.includesParameters ? parameterCount : 0) + j]
    }

    /// The n × (directions) matrix ∂y(tₖ)/∂d at saved time `index`, row-major.
    public func matrix(at index: Int) -> [Scalar] {
        require(index >= 0 && index < timeCount, "saved time \(index) outside 0..<\(timeCount)")
        let size = componentCount * directionCount
        return Array(values[(index * size)..<((index + 1) * size)])
    }
}

// MARK: - The state with tangents

/// A fixed-size state together with `Count` tangent vectors: y and ∂y/∂dⱼ for the directions of a
/// forward-sensitivity solve. The Runge–Kutta combinations act on all of them alike; the error
/// norm looks at y only, so the steps are those of the plain solve.
@frozen
public struct TangentState<Base: FixedSizeState, let Count: Int>: FixedSizeState {
    public typealias Scalar = Base.Scalar
    /// y.
    public var value: Base
    /// ∂y/∂dⱼ.
    public var tangents: InlineArray<Count, Base>

    @inlinable @inline(__always)
    public init(value: Base, tangents: InlineArray<Count, Base>) {
        self.value = value
        self.tangents = tangents
    }

    @inlinable @inline(__always)
    public init() { self.init(value: Base(), tangents: InlineArray(repeating: Base())) }

    @inlinable @inline(__always)
    public static func + (a: Self, b: Self) -> Self {
        var result = a
        result += b
        return result
    }

    @inlinable @inline(__always)
    public static func * (w: Scalar, a: Self) -> Self {
        var result = a
        result.value = w * a.value
        for j in 0..<Count { result.tangents[j] = w * a.tangents[j] }
        return result
    }

    @inlinable @inline(__always)
    public static func += (a: inout Self, b: Self) {
        a.value += b.value
        for j in 0..<Count { a.tangents[j] += b.tangents[j] }
    }

    /// The error norm of y alone: the sensitivities follow the plain solve's steps.
    @inlinable @inline(__always)
    public static func scaledMeanSquare(_ e: Self, _ a: Self, _ b: Self, rtol: Scalar, atol: Scalar) -> Scalar {
        Base.scaledMeanSquare(e.value, a.value, b.value, rtol: rtol, atol: atol)
    }

    @inlinable
    public var isFinite: Bool {
        guard value.isFinite else { return false }
        for j in 0..<Count where !tangents[j].isFinite { return false }
        return true
    }

    public var shapeDescription: String { "\(value.shapeDescription) with \(Count) tangents" }

    @inlinable
    public var componentCount: Int? { value.componentCount.map { $0 * (1 + Count) } }

    @inlinable
    public func copyComponents(to buffer: UnsafeMutablePointer<Scalar>) {
        let n = value.componentCount!
        value.copyComponents(to: buffer)
        for j in 0..<Count { tangents[j].copyComponents(to: buffer + (j + 1) * n) }
    }

    @inlinable
    public func withComponents(from buffer: UnsafePointer<Scalar>) -> Self {
        let n = value.componentCount!
        var result = Self()
        result.value = value.withComponents(from: buffer)
        for j in 0..<Count { result.tangents[j] = value.withComponents(from: buffer + (j + 1) * n) }
        return result
    }
}

// MARK: - The field on dual numbers

/// A ``ParametricField`` evaluated on ``Dual`` numbers: the vector field of a ``TangentState``,
/// (y, S) ↦ (f(t, y, p), (∂f/∂y) S + ∂f/∂p · E) where E selects the parameters seeded in this field's
/// directions.
@usableFromInline
struct SensitivityField<Field: ParametricField, let Count: Int>: VectorField {
    @usableFromInline typealias State = TangentState<Field.State, Count>
    @usableFromInline typealias Scalar = Field.State.Scalar
    @usableFromInline typealias D = Dual<Count, Scalar>
    @usableFromInline let field: Field
    /// p, seeded in the directions of this solve that are parameters. Storage owned by the solve
    /// (see ``release()``), not an array: the integrator reads its field at every evaluation, and
    /// an array would be retained and released each time.
    @usableFromInline let parameters: UnsafeMutablePointer<D>
    @usableFromInline let parameterCount: Int
    @usableFromInline let count: Int

    @inlinable
    init(_ field: Field, _ parameters: [Scalar], _ firstDirection: Int, _ seedsParameters: Bool, _ count: Int) {
        self.field = field
        parameterCount = parameters.count
        self.parameters = UnsafeMutablePointer<D>.allocate(capacity: Swift.max(parameters.count, 1))
        for (k, value) in parameters.enumerated() {
            let lane = k - firstDirection
            (self.parameters + k).initialize(
                to: seedsParameters && lane >= 0 && lane < Count ? D(value, seed: lane) : D(value))
        }
        self.count = count
    }

    /// Frees the parameters' storage; the field must not be used afterwards.
    @inlinable
    func release() {
        parameters.deinitialize(count: parameterCount)
        parameters.deallocate()
    }

    @inlinable
    func callAsFunction(_ t: Scalar, _ y: State) -> State {
        let n = count
        return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: n * (1 + Count)) { scalars in
            let flat = scalars.baseAddress!
            y.copyComponents(to: flat)
            return withUnsafeTemporaryAllocation(of: D.self, capacity: 2 * n) { duals in
                let input = duals.baseAddress!
                let output = input + n
                for i in 0..<n {
                    var partials = InlineArray<Count, Scalar>(repeating: 0)
                    for j in 0..<Count { partials[j] = flat[(j + 1) * n + i] }
                    (input + i).initialize(to: D(flat[i], partials: partials))
                }
                output.initialize(repeating: D(0), count: n)
                field(
                    D(t), FieldInput(input, count: n), FieldInput(parameters, count: parameterCount),
                    FieldOutput(output, count: n))
                for i in 0..<n {
                    flat[i] = output[i].value
                    for j in 0..<Count { flat[(j + 1) * n + i] = output[i].partials[j] }
                }
                return y.withComponents(from: flat)
            }
        }
    }

    @inlinable
    var isAutonomous: Bool { field.isAutonomous }

    /// The augmented Jacobian for implicit methods, block lower triangular: the tangents enter
    /// linearly, so the diagonal blocks are all J = ∂f/∂y, and only the first block column — the
    /// derivatives of (f, (∂f/∂y) S + ∂f/∂d) in y — needs forward differences: n evaluations instead
    /// of n(1 + Count). Banded structures are left to the solver's own differences.
    @inlinable
    func jacobian(_ t: Scalar, _ y: State, into matrix: JacobianMatrix<Scalar>) -> Bool {
        guard case .dense = matrix.structure else { return false }
        let n = count
        let total = n * (1 + Count)
        return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: 3 * total) { buffer in
            let base = buffer.baseAddress!
            let f0 = base + total
            let f1 = f0 + total
            y.copyComponents(to: base)
            self(t, y).copyComponents(to: f0)
            for column in 0..<n {
                let yj = base[column]
                base[column] = yj + (Scalar.ulpOfOne * Swift.max(Scalar(1e-5), Swift.abs(yj))).squareRoot()
                let inverse = 1 / (base[column] - yj)
                self(t, y.withComponents(from: base)).copyComponents(to: f1)
                base[column] = yj
                for row in 0..<total { matrix[row, column] = (f1[row] - f0[row]) * inverse }
            }
            for block in 1...Count {
                for column in 0..<n {
                    for row in 0..<n { matrix[block * n + row, block * n + column] = matrix[row, column] }
                }
            }
            return true
        }
    }

    @inlinable
    func firstNonFiniteParameter() -> String? {
        (0..<parameterCount).first { !parameters[$0].value.isFinite }.map { "p[\($0)]" }
    }
}

// MARK: - Solving with sensitivities

/// Integrates dy/dt = f(t, y, p) from y(t0) = `initialState` to `t1`, and with `sensitivities` also
/// the derivatives of the saved states with respect to the parameters and/or the initial state
/// (forward mode, no tape, no allocation per step).
///
/// The sensitivities S = ∂y/∂d obey S' = (∂f/∂y) S + ∂f/∂d. They are computed by evaluating the
/// field on ``Dual`` numbers and integrating y and S together with the same tableau on the same steps
/// (the error estimate looks at y only, so the steps and the states are those of the plain solve):
/// the result is the exact derivative of the computed trajectory, as backpropagation through the
/// solve would give it, at the cost of about (1 + directions) plain evaluations per stage.
/// Directions are integrated up to 16 at a time (more take several solves, on the same steps), in
/// blocks of 2, 4, 6, 8 or 16 tangents.
///
/// ```swift
/// let s = try solve(LotkaVolterra(), initialState: [1, 1], parameters: [1.5, 1, 3, 1],
///                   from: 0, to: 10, saveAt: .times([2, 5, 10]), sensitivities: .parameters)
/// let dy = s.sensitivities!.parameter(0, component: 1, at: 2)    // ∂y₁(10)/∂p₀
/// ```
///
/// Implicit methods solve the stages of the augmented system (y, S) — correct, but each Newton
/// iteration works on n(1 + directions) components; the plain solve
/// (`sensitivities: .none`) gets the field's exact Jacobian.
///
/// - Parameters:
///   - field: f, written over a generic scalar (see ``ParametricField``).
///   - initialState: y(t0).
///   - parameters: p.
///   - t0, t1, method, step, saveAt, maxSteps, implicit: as for
///     ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``.
///   - sensitivities: which derivatives to compute; ``Solution/sensitivities`` holds them at the
///     saved times (nil for ``SensitivityTarget/none``).
/// - Returns: the solution (its states y only), with the sensitivities. A solve that stops early
///   keeps the trajectory and sensitivities up to the failure, as a plain solve does.
/// - Throws: ``SolveError`` for invalid inputs.
@inlinable
public func solve<Field: ParametricField>(
    _ field: Field, initialState: Field.State, parameters: [Field.State.Scalar],
    from t0: Field.State.Scalar, to t1: Field.State.Scalar, method: ButcherTableau = .dopri5,
    step: StepSizeControl<Field.State.Scalar> = .adaptive(), saveAt: SaveAt<Field.State.Scalar> = .steps,
    maxSteps: Int? = nil, implicit: ImplicitSolverSettings = ImplicitSolverSettings(),
    sensitivities: SensitivityTarget = .none
) throws(SolveError) -> Solution<Field.State> {
    guard let n = initialState.componentCount else {
        throw .componentsUnavailable(state: initialState.shapeDescription, method: "a ParametricField solve")
    }
    let m = parameters.count
    let directions = (sensitivities.includesParameters ? m : 0) + (sensitivities.includesInitialState ? n : 0)
    guard directions > 0 else {
        var solution = try solve(
            field.withParameters(parameters), initialState: initialState, from: t0, to: t1, method: method, step: step,
            saveAt: saveAt, maxSteps: maxSteps, implicit: implicit)
        if sensitivities != .none {
            solution.attach(ForwardSensitivities(target: sensitivities, componentCount: n, parameterCount: m, values: []))
        }
        return solution
    }
    func chunk<let C: Int>(
        _ sensitivityField: SensitivityField<Field, C>, first: Int
    ) throws(SolveError)
        -> Solution<TangentState<Field.State, C>>
    {
        defer { sensitivityField.release() }
        var start = TangentState<Field.State, C>(value: initialState, tangents: InlineArray(repeating: Field.State()))
        if sensitivities.includesInitialState {
            let offset = sensitivities.includesParameters ? m : 0
            withUnsafeTemporaryAllocation(of: Field.State.Scalar.self, capacity: n) { unit in
                for lane in 0..<C {
                    let i = first + lane - offset
                    guard i >= 0 && i < n else { continue }
                    unit.initialize(repeating: 0)
                    unit[i] = 1
                    start.tangents[lane] = initialState.withComponents(from: unit.baseAddress!)
                }
            }
        }
        return try solve(
            sensitivityField, initialState: start, from: t0, to: t1, method: method, step: step, saveAt: saveAt,
            maxSteps: maxSteps, implicit: implicit)
    }
    var values: [Field.State.Scalar] = []
    var result: Solution<Field.State>? = nil
    func collect<let C: Int>(_ solution: Solution<TangentState<Field.State, C>>, first: Int) {
        if result == nil {
            var plain = Solution<Field.State>(initialTime: t0, initialState: initialState)
            for (time, state) in zip(solution.times, solution.states) { plain.save(time, state.value) }
            plain.finish(at: solution.finalTime, solution.finalState.value, solution.status, solution.statistics)
            result = plain
            values = Array(repeating: 0, count: solution.states.count * n * directions)
        }
        let saved = Swift.min(solution.states.count, result!.states.count)
        withUnsafeTemporaryAllocation(of: Field.State.Scalar.self, capacity: n) { buffer in
            for k in 0..<saved {
                for lane in 0..<Swift.min(C, directions - first) {
                    solution.states[k].tangents[lane].copyComponents(to: buffer.baseAddress!)
                    for i in 0..<n { values[(k * n + i) * directions + first + lane] = buffer[i] }
                }
            }
        }
    }
    let seedsParameters = sensitivities.includesParameters
    var first = 0
    while first < directions {
        let remaining = directions - first
        if remaining <= 2 {
            collect(
                try chunk(SensitivityField<Field, 2>(field, parameters, first, seedsParameters, n), first: first), first: first)
        } else if remaining <= 4 {
            collect(
                try chunk(SensitivityField<Field, 4>(field, parameters, first, seedsParameters, n), first: first), first: first)
        } else if remaining <= 6 {
            // Six tangents of a two-component state fit in 112 bytes, which the compiler still copies
            // in registers; eight take 144 bytes and a memmove per copy.
            collect(
                try chunk(SensitivityField<Field, 6>(field, parameters, first, seedsParameters, n), first: first), first: first)
        } else if remaining <= 8 {
            collect(
                try chunk(SensitivityField<Field, 8>(field, parameters, first, seedsParameters, n), first: first), first: first)
        } else {
            collect(
                try chunk(SensitivityField<Field, 16>(field, parameters, first, seedsParameters, n), first: first), first: first)
        }
        first += 16
    }
    var solution = result!
    solution.attach(ForwardSensitivities(target: sensitivities, componentCount: n, parameterCount: m, values: values))
    return solution
}

/// Integrates over `times` and saves the state (and the sensitivities) at each of them; see
/// ``solve(_:initialState:parameters:from:to:method:step:saveAt:maxSteps:implicit:sensitivities:)``.
///
/// - Precondition: `times` is not empty.
@inlinable
public func solve<Field: ParametricField>(
    _ field: Field, initialState: Field.State, parameters: [Field.State.Scalar], times: [Field.State.Scalar],
    method: ButcherTableau = .dopri5, step: StepSizeControl<Field.State.Scalar> = .adaptive(), maxSteps: Int? = nil,
    implicit: ImplicitSolverSettings = ImplicitSolverSettings(), sensitivities: SensitivityTarget = .none
) throws(SolveError) -> Solution<Field.State> {
    require(!times.isEmpty, "solve(times:) needs at least one time")
    return try solve(
        field, initialState: initialState, parameters: parameters, from: times[0], to: times[times.count - 1],
        method: method, step: step, saveAt: .times(times), maxSteps: maxSteps, implicit: implicit,
        sensitivities: sensitivities)
}
