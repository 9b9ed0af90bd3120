import RNNODETensors

/// An explicit Runge–Kutta method as data: its Butcher tableau.
///
/// One step of size h from (t, y) computes the stages
///
///     kᵢ = f(t + cᵢ h, y + h Σ_{j<i} aᵢⱼ kⱼ),   i = 1…s
///
/// and the update `y₁ = y + h Σᵢ bᵢ kᵢ`. An *embedded* method with weights b̂ gives the error estimate
/// `h Σᵢ (bᵢ − b̂ᵢ) kᵢ` that drives adaptive step sizes, and an *interpolant* gives the dense output
/// `y(t + θh) = y + h Σᵢ bᵢ(θ) kᵢ` with polynomial weights `bᵢ(θ) = Σₚ Pᵢₚ θᵖ⁺¹`, 0 ≤ θ ≤ 1.
///
/// A tableau checks itself when it is made: `a` is strictly lower triangular, every row of `a` sums to
/// its `c`, and the weights satisfy every order condition (one per rooted tree, Butcher's theory)
/// up to the stated order — likewise the embedded weights and the interpolant. A method with a typo
/// in a coefficient therefore cannot be constructed. Adding a method to the library means adding a
/// tableau (see ``ButcherTableau/rk4`` and the others); the one stepper runs them all.
///
/// ```swift
/// // Kutta's third-order method.
/// let kutta3 = try ButcherTableau(
///     name: "Kutta3", order: 3,
///     a: [[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]],
///     b: [1.0 / 6, 2.0 / 3, 1.0 / 6])
/// ```
public struct ButcherTableau: Sendable, Hashable, CustomStringConvertible {
    /// A short name, e.g. "RK4".
    public private(set) var name: String
    /// The stage coefficients aᵢⱼ, an s×s strictly lower triangular matrix.
    public let a: [[Double]]
    /// The weights bᵢ of the update.
    public let b: [Double]
    /// The nodes cᵢ (stage times as fractions of the step).
    public let c: [Double]
    /// The order of accuracy of the update (global error O(hᵖ)).
    public let order: Int
    /// bᵢ − b̂ᵢ, the weights of the local error estimate, for methods with an embedded pair.
    public let errorWeights: [Double]?
    /// The order of the embedded method b̂ (0 without one).
    public let embeddedOrder: Int
    /// Dense-output coefficients Pᵢₚ: stage i's weight at θ is Σₚ Pᵢₚ θᵖ⁺¹. Nil without an interpolant.
    public let interpolant: [[Double]]?
    /// The order of the interpolant (0 without one).
    public let interpolantOrder: Int
    /// Stages for the dense output only, evaluated when a step is first interpolated (see
    /// ``ButcherTableau/dop853``): row j holds the coefficients of stage s + j over the stages
    /// 0…s + j − 1. Empty for most methods.
    public let denseStages: [[Double]]
    /// The nodes of the ``denseStages``.
    public let denseNodes: [Double]
    /// b − b̂₂, the weights of a second error estimate combined with the first (see
    /// ``ButcherTableau/dop853``), or nil.
    public let secondErrorWeights: [Double]?
    /// The order of the second embedded method b̂₂ (0 without one).
    public let secondEmbeddedOrder: Int

    /// The number of stages s.
    public var stages: Int { b.count }

    /// Whether the method has an embedded error estimate (and so can adapt its step size).
    public var isAdaptive: Bool { errorWeights != nil }

    /// First Same As Last: the last stage is evaluated at the new state (cₛ = 1, its row of `a` equals
    /// b, bₛ = 0), so it is the first stage of the next step and costs nothing. A stiffly accurate
    /// method with an explicit first stage (an ESDIRK such as ``kvaerno5``) is FSAL too: its last
    /// stage is the new state and its slope the next step's first stage.
    public let isFSAL: Bool

    /// Explicit, diagonally implicit or Rosenbrock (linearly implicit).
    public let kind: Kind
    /// Rosenbrock methods: the s×s lower triangular matrix Γ of the Jacobian terms, with the constant
    /// diagonal γ (see ``init(rosenbrock:order:alpha:gamma:b:embeddedWeights:embeddedOrder:interpolant:interpolantOrder:tolerance:)``).
    /// Nil for the other kinds.
    public let gamma: [[Double]]?
    /// Whether the update is the last stage (bᵢ = aₛᵢ for a Runge–Kutta method; the last stage's input
    /// plus its own increment for a Rosenbrock method): such methods damp stiff components fully.
    public let isStifflyAccurate: Bool
    /// The linear stability of the method (from its stability function R(z)), computed when the
    /// tableau is made.
    public let stability: LinearStability

    /// The families of methods the integrator runs.
    public enum Kind: String, Sendable, Hashable {
        /// Every stage from the previous ones: `a` strictly lower triangular.
        case explicit
        /// Each stage solves one implicit equation: `a` lower triangular with a nonzero diagonal
        /// somewhere (DIRK, SDIRK, ESDIRK), solved by simplified Newton iterations.
        case diagonallyImplicit
        /// Linearly implicit: one linear solve with I − hγJ per stage and no Newton iteration.
        case rosenbrock
    }

    /// Whether the method needs the Jacobian ∂f/∂y (implicit and Rosenbrock methods).
    public var isImplicit: Bool { kind != .explicit }

    /// For automatic stiffness switching (``automatic(_:stiff:)``): the stiff method this explicit
    /// one hands over to; nil otherwise.
    public var stiffAlternative: ButcherTableau? { alternatives.first }
    /// Empty, or the one stiff alternative (an array so that the type can contain itself).
    private(set) var alternatives: [ButcherTableau] = []

    /// Automatic stiffness switching, like LSODA or OrdinaryDiffEq's `AutoTsit5(Rosenbrock23())`:
    /// integrate with the explicit pair `nonstiff` while Hairer's stiffness estimate shows its steps
    /// are limited by accuracy, switch to the `stiff` method when 15 steps have reached 90 % of the
    /// explicit method's stability boundary (the count restarts after 6 steps below it), and switch
    /// back when the stiff method's steps h satisfy h ‖J‖∞ ≤ ½ boundary for 15 steps in a row — the
    /// explicit method could then take them stably. Adaptive steps only; the switches are counted
    /// in ``SolveStatistics/methodSwitches``.
    ///
    /// ```swift
    /// let solution = try solve(vanDerPol, initialState: [2, 0], from: 0, to: 3000, method: .automatic())
    /// ```
    public static func automatic(_ nonstiff: ButcherTableau = .tsit5, stiff: ButcherTableau = .rodas5P) -> ButcherTableau {
        require(
            nonstiff.kind == .explicit && nonstiff.isAdaptive && nonstiff.stiffAlternative == nil,
            "ButcherTableau.automatic: \(nonstiff.name) must be an adaptive explicit method")
        require(stiff.isImplicit && stiff.isAdaptive, "ButcherTableau.automatic: \(stiff.name) must be an adaptive stiff method")
        var method = nonstiff
        method.name = "Auto(\(nonstiff.name), \(stiff.name))"
        method.alternatives = [stiff]
        return method
    }

    /// Makes and validates a tableau.
    ///
    /// - Parameters:
    ///   - name: a short name.
    ///   - order: the order of the method; every order condition up to it is checked.
    ///   - a: the s×s stage matrix (strictly lower triangular).
    ///   - b: the s weights.
    ///   - c: the s nodes; defaults to the row sums of `a`.
    ///   - embeddedWeights: the weights b̂ of an embedded method, for adaptive steps.
    ///   - embeddedOrder: the order of the embedded method (its order conditions are checked).
    ///   - interpolant: dense-output coefficients Pᵢₚ (s rows), stage i's weight at θ being Σₚ Pᵢₚ θᵖ⁺¹.
    ///   - interpolantOrder: the order of the interpolant (its order conditions are checked).
    ///   - denseStages: extra stages for the dense output only, rows of length s + e (see
    ///     ``denseStages``); the interpolant then has s + e rows.
    ///   - denseNodes: their nodes; default to their row sums.
    ///   - secondEmbeddedWeights: the weights b̂₂ of a second embedded method, whose estimate is
    ///     combined with the first as in DOP853 (see ``ButcherTableau/dop853``).
    ///   - secondEmbeddedOrder: its order (its order conditions are checked).
    ///   - tolerance: how far an order condition may miss, relative to the size of its terms.
    /// - Throws: ``TableauError`` naming what is inconsistent.
    public init(
        name: String, order: Int,
        a: [[Double]], b: [Double], c: [Double]? = nil,
        embeddedWeights: [Double]? = nil, embeddedOrder: Int = 0,
        interpolant: [[Double]]? = nil, interpolantOrder: Int = 0,
        denseStages: [[Double]] = [], denseNodes: [Double]? = nil,
        secondEmbeddedWeights: [Double]? = nil, secondEmbeddedOrder: Int = 0,
        tolerance: Double = 1e-12
    ) throws(TableauError) {
        try self.init(
            validating: name, kind: .explicit, order: order, a: a, gamma: nil, b: b, c: c,
            embeddedWeights: embeddedWeights, embeddedOrder: embeddedOrder, interpolant: interpolant,
            interpolantOrder: interpolantOrder, denseStages: denseStages, denseNodes: denseNodes,
            secondEmbeddedWeights: secondEmbeddedWeights, secondEmbeddedOrder: secondEmbeddedOrder,
            tolerance: tolerance)
    }

    /// Makes and validates a diagonally implicit Runge–Kutta method (DIRK; SDIRK when the diagonal is
    /// constant; ESDIRK when the first stage is explicit).
    ///
    /// A step solves the stages in turn, each from the ones before it:
    ///
    ///     Yᵢ = y + h Σ_{j<i} aᵢⱼ kⱼ + h aᵢᵢ kᵢ,   kᵢ = f(t + cᵢ h, Yᵢ)
    ///
    /// by simplified Newton iterations with the matrix I − h aᵢᵢ J (see ``ImplicitSolverSettings``).
    /// The order conditions are Butcher's, as for explicit methods (they hold for any `a`); the
    /// tableau also reports ``isStifflyAccurate`` and its ``stability``.
    ///
    /// ```swift
    /// // The trapezoidal rule: A-stable, order 2.
    /// let trapezoid = try ButcherTableau(
    ///     diagonallyImplicit: "Trapezoid", order: 2, a: [[0, 0], [0.5, 0.5]], b: [0.5, 0.5])
    /// ```
    ///
    /// - Parameters: as for explicit methods, with `a` lower triangular (nonzero diagonal allowed,
    ///   ≥ 0 so that the stage equations stay solvable for stiff, dissipative problems).
    /// - Throws: ``TableauError`` naming what is inconsistent (``TableauError/notDiagonallyImplicit(name:row:column:)``
    ///   for an entry above the diagonal).
    public init(
        diagonallyImplicit name: String, order: Int,
        a: [[Double]], b: [Double], c: [Double]? = nil,
        embeddedWeights: [Double]? = nil, embeddedOrder: Int = 0,
        interpolant: [[Double]]? = nil, interpolantOrder: Int = 0,
        tolerance: Double = 1e-12
    ) throws(TableauError) {
        try self.init(
            validating: name, kind: .diagonallyImplicit, order: order, a: a, gamma: nil, b: b, c: c,
            embeddedWeights: embeddedWeights, embeddedOrder: embeddedOrder, interpolant: interpolant,
            interpolantOrder: interpolantOrder, tolerance: tolerance)
    }

    /// Makes and validates a Rosenbrock (linearly implicit) method in its standard form
    /// (Hairer–Wanner II, IV.7):
    ///
    ///     (I − hγJ) kᵢ = f(t + αᵢ h, y + h Σ_{j<i} αᵢⱼ kⱼ) + h J Σ_{j<i} γᵢⱼ kⱼ + h γᵢ ∂f/∂t,
    ///     y₁ = y + h Σ bᵢ kᵢ,
    ///
    /// with J = ∂f/∂y at (t, y), αᵢ = Σⱼ αᵢⱼ and γᵢ = Σ_{j≤i} γᵢⱼ. Each stage is one linear solve with
    /// the same matrix; there is no Newton iteration. The order conditions are Butcher's with the
    /// elementary weights of Rosenbrock methods: a vertex with exactly one child carries
    /// βᵢⱼ = αᵢⱼ + γᵢⱼ (diagonal included), every other vertex αᵢⱼ. The dense output
    /// y₀ + h Σ bᵢ(θ) kᵢ is checked the same way.
    ///
    /// - Parameters:
    ///   - alpha: the s×s strictly lower triangular αᵢⱼ.
    ///   - gamma: the s×s lower triangular Γ with a constant positive diagonal γ.
    ///   - b, embeddedWeights, interpolant: weights of the stages kᵢ, as for Runge–Kutta methods.
    /// - Throws: ``TableauError`` naming what is inconsistent.
    public init(
        rosenbrock name: String, order: Int,
        alpha: [[Double]], gamma: [[Double]], b: [Double],
        embeddedWeights: [Double]? = nil, embeddedOrder: Int = 0,
        interpolant: [[Double]]? = nil, interpolantOrder: Int = 0,
        tolerance: Double = 1e-12
    ) throws(TableauError) {
        try self.init(
            validating: name, kind: .rosenbrock, order: order, a: alpha, gamma: gamma, b: b, c: nil,
            embeddedWeights: embeddedWeights, embeddedOrder: embeddedOrder, interpolant: interpolant,
            interpolantOrder: interpolantOrder, tolerance: tolerance)
    }

    /// The validation shared by every kind.
    private init(
        validating name: String, kind: Kind, order: Int,
        a: [[Double]], gamma: [[Double]]?, b: [Double], c: [Double]?,
        embeddedWeights: [Double]?, embeddedOrder: Int,
        interpolant: [[Double]]?, interpolantOrder: Int,
        denseStages: [[Double]] = [], denseNodes: [Double]? = nil,
        secondEmbeddedWeights: [Double]? = nil, secondEmbeddedOrder: Int = 0,
        tolerance: Double
    ) throws(TableauError) {
        let s = b.count
        guard s > 0 else { throw .shape("\(name): a method needs at least one stage") }
        guard a.count == s, a.allSatisfy({ $0.count == s }) else {
            throw .shape("\(name): a must be \(s)×\(s) for \(s) weights, got rows of lengths \(a.map(\.count))")
        }
        guard order >= 1 else { throw .shape("\(name): order must be at least 1, got \(order)") }
        var allCoefficients: [Double] = Array(a.joined()) + b
        allCoefficients += c ?? []
        allCoefficients += embeddedWeights ?? []
        allCoefficients += interpolant.map { Array($0.joined()) } ?? []
        allCoefficients += gamma.map { Array($0.joined()) } ?? []
        guard allCoefficients.allSatisfy({ $0.isFinite }) else { throw .shape("\(name): a coefficient is not finite") }
        switch kind {
        case .explicit, .rosenbrock:
            for i in 0..<s {
                for j in i..<s where a[i][j] != 0 {
                    throw .notExplicit(name: name, row: i, column: j)
                }
            }
        case .diagonallyImplicit:
            for i in 0..<s {
                for j in (i + 1)..<s where a[i][j] != 0 {
                    throw .notDiagonallyImplicit(name: name, row: i, column: j)
                }
                guard a[i][i] >= 0 else {
                    throw .shape("\(name): the diagonal entry a[\(i)][\(i)] = \(a[i][i]) is negative")
                }
            }
            guard (0..<s).contains(where: { a[$0][$0] != 0 }) else {
                throw .shape("\(name): no diagonal entry is nonzero; make an explicit method instead")
            }
        }
        var beta: [[Double]]? = nil
        if kind == .rosenbrock {
            guard let gamma, gamma.count == s, gamma.allSatisfy({ $0.count == s }) else {
                throw .shape("\(name): Γ must be \(s)×\(s)")
            }
            let diagonal = gamma[0][0]
            guard diagonal > 0 else { throw .shape("\(name): the diagonal γ of Γ must be positive, got \(diagonal)") }
            for i in 0..<s {
                for j in (i + 1)..<s where gamma[i][j] != 0 {
                    throw .notDiagonallyImplicit(name: name, row: i, column: j)
                }
                guard gamma[i][i] == diagonal else {
                    throw .shape("\(name): Γ must have a constant diagonal; Γ[\(i)][\(i)] = \(gamma[i][i]) ≠ \(diagonal)")
                }
            }
            beta = (0..<s).map { i in (0..<s).map { j in a[i][j] + gamma[i][j] } }
        }
        let rowSums = a.map { $0.reduce(0, +) }
        let nodes = c ?? rowSums
        guard nodes.count == s else { throw .shape("\(name): \(nodes.count) nodes for \(s) stages") }
        for i in 0..<s {
            let scale = Swift.max(1, a[i].reduce(0) { $0 + Swift.abs($1) })
            if Swift.abs(rowSums[i] - nodes[i]) > tolerance * scale {
                throw .rowSumMismatch(name: name, row: i, rowSum: rowSums[i], node: nodes[i])
            }
        }
        var conditions = OrderConditions(a: a, singleChild: beta)
        if let failure = conditions.firstFailure(weights: b, order: order, tolerance: tolerance) {
            throw .orderCondition(name: name, weights: "b", tree: failure.tree, residual: failure.residual)
        }
        var errorWeights: [Double]? = nil
        if let embeddedWeights {
            guard embeddedWeights.count == s else {
                throw .shape("\(name): \(embeddedWeights.count) embedded weights for \(s) stages")
            }
            guard embeddedOrder >= 1 else { throw .shape("\(name): the embedded method needs an order ≥ 1") }
            if let failure = conditions.firstFailure(weights: embeddedWeights, order: embeddedOrder, tolerance: tolerance) {
                throw .orderCondition(name: name, weights: "b̂", tree: failure.tree, residual: failure.residual)
            }
            errorWeights = zip(b, embeddedWeights).map { $0 - $1 }
        }
        let secondErrorWeights = try Self.secondErrorWeights(
            name, b: b, secondEmbeddedWeights, order: secondEmbeddedOrder, hasFirst: embeddedWeights != nil,
            conditions: &conditions, tolerance: tolerance)
        let denseNodes = try Self.validateDenseStages(
            name, a: a, denseStages, nodes: denseNodes, hasInterpolant: interpolant != nil, tolerance: tolerance)
        let denseCount = s + denseStages.count
        if let interpolant {
            guard interpolant.count == denseCount, let degree = interpolant.first?.count, degree >= 1,
                interpolant.allSatisfy({ $0.count == degree })
            else {
                throw .shape("\(name): the interpolant needs \(denseCount) rows of equal length")
            }
            guard interpolantOrder >= 1 else { throw .shape("\(name): the interpolant needs an order ≥ 1") }
            // bᵢ(1) = bᵢ: the interpolant passes through the step's end.
            for i in 0..<denseCount {
                let weight = i < s ? b[i] : 0
                let atOne = interpolant[i].reduce(0, +)
                if Swift.abs(atOne - weight) > tolerance * Swift.max(1, interpolant[i].reduce(0) { $0 + Swift.abs($1) }) {
                    throw .interpolantEnd(name: name, stage: i, value: atOne, weight: weight)
                }
            }
            // For every tree t of order ≤ q: Σᵢ bᵢ(θ) Φᵢ(t) = θ^|t| / γ(t) as polynomials in θ.
            // Over the s + e stages when there are dense-output stages.
            var denseConditions = denseStages.isEmpty ? conditions : OrderConditions(a: Self.denseStageMatrix(a, denseStages))
            if let failure = denseConditions.firstInterpolantFailure(interpolant, order: interpolantOrder, tolerance: tolerance) {
                throw .orderCondition(name: name, weights: "b(θ)", tree: failure.tree, residual: failure.residual)
            }
        }
        let last = s - 1
        let lastRowIsB = (0..<s).allSatisfy { a[last][$0] == b[$0] }
        let stifflyAccurate: Bool
        switch kind {
        case .explicit: stifflyAccurate = false
        case .diagonallyImplicit: stifflyAccurate = lastRowIsB
        case .rosenbrock:
            // y₁ = Yₛ + h kₛ-part: bᵢ = αₛᵢ + γₛᵢ for i < s and bₛ = γ.
            stifflyAccurate = (0..<s).allSatisfy { Swift.abs(b[$0] - (a[last][$0] + gamma![last][$0])) <= tolerance }
        }
        let fsal: Bool
        switch kind {
        case .explicit:
            fsal =
                s > 1 && Swift.abs(nodes[last] - 1) <= tolerance && b[last] == 0 && (0..<last).allSatisfy { a[last][$0] == b[$0] }
        case .diagonallyImplicit:
            fsal = s > 1 && stifflyAccurate && a[0][0] == 0
        case .rosenbrock:
            // The last stage's input is y₁ itself, so its evaluation is the next step's f(t, y).
            fsal =
                s > 1 && Swift.abs(nodes[last] - 1) <= tolerance && b[last] == 0 && (0..<last).allSatisfy { a[last][$0] == b[$0] }
        }

        self.name = name
        self.kind = kind
        self.a = a
        self.gamma = gamma
        self.b = b
        self.c = nodes
        self.order = order
        self.errorWeights = errorWeights
        self.embeddedOrder = embeddedWeights == nil ? 0 : embeddedOrder
        self.interpolant = interpolant
        self.interpolantOrder = interpolant == nil ? 0 : interpolantOrder
        self.isFSAL = fsal
        self.isStifflyAccurate = stifflyAccurate
        self.stability = LinearStability(stageMatrix: beta ?? a, weights: b, implicit: kind != .explicit)
        self.denseStages = denseStages
        self.denseNodes = denseNodes
        self.secondErrorWeights = secondErrorWeights
        self.secondEmbeddedOrder = secondErrorWeights == nil ? 0 : secondEmbeddedOrder
    }

    public var description: String {
        var text = "\(name): \(stages) stages, order \(order)"
        if isAdaptive { text += ", embedded order \(embeddedOrder)" }
        if interpolant != nil { text += ", dense output of order \(interpolantOrder)" }
        if !denseStages.isEmpty { text += " (\(denseStages.count) extra stages)" }
        if secondErrorWeights != nil { text += ", second estimate of order \(secondEmbeddedOrder)" }
        if isFSAL { text += ", FSAL" }
        if kind != .explicit {
            text += kind == .rosenbrock ? ", Rosenbrock" : ", diagonally implicit"
            if stability.isLStable {
                text += ", L-stable"
            } else if stability.isAStable {
                text += ", A-stable"
            }
            if isStifflyAccurate { text += ", stiffly accurate" }
        }
        return text
    }
}

/// Why a Butcher tableau was rejected.
public enum TableauError: Error, Equatable, CustomStringConvertible {
    /// Sizes that do not fit together, a non-finite coefficient, or an impossible order.
    case shape(String)
    /// A nonzero coefficient on or above the diagonal of `a` (an implicit method).
    case notExplicit(name: String, row: Int, column: Int)
    /// A nonzero coefficient above the diagonal of a diagonally implicit method's `a` (or of a
    /// Rosenbrock method's Γ): a fully implicit method.
    case notDiagonallyImplicit(name: String, row: Int, column: Int)
    /// A row of `a` that does not sum to its node.
    case rowSumMismatch(name: String, row: Int, rowSum: Double, node: Double)
    /// An order condition that does not hold; `tree` is the rooted tree in bracket notation
    /// (`τ` a single node, `[τ,τ]` a root with two leaves) and `weights` names b, b̂ or b(θ).
    case orderCondition(name: String, weights: String, tree: String, residual: Double)
    /// An interpolant whose weights at θ = 1 differ from b.
    case interpolantEnd(name: String, stage: Int, value: Double, weight: Double)

    public var description: String {
        switch self {
        case .shape(let message):
            return "invalid Butcher tableau: \(message)"
        case .notExplicit(let name, let row, let column):
            return "\(name): a[\(row)][\(column)] is nonzero; an explicit method needs a strictly lower triangular a"
        case .notDiagonallyImplicit(let name, let row, let column):
            return
                "\(name): entry [\(row)][\(column)] above the diagonal is nonzero; a diagonally implicit method needs a lower triangular matrix"
        case .rowSumMismatch(let name, let row, let rowSum, let node):
            return "\(name): row \(row) of a sums to \(rowSum) but c[\(row)] = \(node)"
        case .orderCondition(let name, let weights, let tree, let residual):
            return "\(name): the order condition of tree \(tree) fails for \(weights) (residual \(residual))"
        case .interpolantEnd(let name, let stage, let value, let weight):
            return "\(name): interpolant weight of stage \(stage) at θ = 1 is \(value), but b = \(weight)"
        }
    }
}

// MARK: - Order conditions

/// Butcher's order conditions: for each rooted tree t with |t| ≤ p nodes, Σᵢ bᵢ Φᵢ(t) = 1/γ(t), where
/// the elementary weights are Φᵢ(•) = 1 and Φᵢ([t₁…tₘ]) = Πₖ Σⱼ aᵢⱼ Φⱼ(tₖ), and the density is
/// γ(t) = |t| Πₖ γ(tₖ).
struct OrderConditions {
    /// A rooted tree: its order and the indices (into `trees`) of its children's subtrees.
    struct Tree {
        let order: Int
        let children: [Int]
    }

    let a: [[Double]]
    /// Rosenbrock methods: the coefficients βᵢⱼ = αᵢⱼ + γᵢⱼ used at vertices with exactly one child
    /// (the Jacobian terms h J Σ γᵢⱼ kⱼ contribute only there); nil for Runge–Kutta methods.
    let singleChild: [[Double]]?
    private(set) var trees: [Tree] = []
    private(set) var phi: [[Double]] = []
    private(set) var gamma: [Double] = []
    /// Σⱼ |aᵢⱼ Φⱼ| products alongside Φ, so that residuals are judged against the size of the terms.
    private(set) var magnitude: [[Double]] = []

    init(a: [[Double]], singleChild: [[Double]]? = nil) {
        self.a = a
        self.singleChild = singleChild
    }

    /// Ensures all trees up to `order` are built.
    private mutating func build(upTo order: Int) {
        let built = trees.last?.order ?? 0
        guard order > built else { return }
        let s = a.count
        for n in (built + 1)...order {
            // Children multisets of total order n − 1, as non-decreasing sequences of tree indices.
            var results: [[Int]] = []
            func extend(_ remaining: Int, _ minIndex: Int, _ current: [Int]) {
                if remaining == 0 {
                    results.append(current)
                    return
                }
                var index = minIndex
                while index < trees.count {
                    if trees[index].order <= remaining {
                        extend(remaining - trees[index].order, index, current + [index])
                    }
                    index += 1
                }
            }
            extend(n - 1, 0, [])
            for children in results {
                let m = children.count == 1 ? (singleChild ?? a) : a
                var weights = [Double](repeating: 1, count: s)
                var sizes = [Double](repeating: 1, count: s)
                var density = Double(n)
                for child in children {
                    for i in 0..<s {
                        var sum = 0.0
                        var size = 0.0
                        for j in 0..<s {
                            sum += m[i][j] * phi[child][j]
                            size += Swift.abs(m[i][j]) * magnitude[child][j]
                        }
                        weights[i] *= sum
                        sizes[i] *= size
                    }
                    density *= gamma[child]
                }
                trees.append(Tree(order: n, children: children))
                phi.append(weights)
                magnitude.append(sizes)
                gamma.append(density)
            }
        }
    }

    /// Bracket notation of tree `index`: `τ`, `[τ]`, `[τ,τ]`, `[[τ]]`, ...
    func notation(_ index: Int) -> String {
        let tree = trees[index]
        if tree.children.isEmpty { return "τ" }
        return "[" + tree.children.map(notation).joined(separator: ",") + "]"
    }

    /// The first tree whose condition Σ bᵢ Φᵢ = 1/γ fails, with its residual.
    mutating func firstFailure(weights b: [Double], order: Int, tolerance: Double) -> (tree: String, residual: Double)? {
        build(upTo: order)
        for index in trees.indices where trees[index].order <= order {
            var sum = 0.0
            var size = 0.0
            for i in 0..<b.count {
                sum += b[i] * phi[index][i]
                size += Swift.abs(b[i]) * magnitude[index][i]
            }
            let residual = sum - 1 / gamma[index]
            if Swift.abs(residual) > tolerance * Swift.max(1, size) { return (notation(index), residual) }
        }
        return nil
    }

    /// The first tree whose interpolant condition Σᵢ Pᵢₚ Φᵢ(t) = [p + 1 = |t|] / γ(t) fails.
    mutating func firstInterpolantFailure(_ p: [[Double]], order: Int, tolerance: Double) -> (tree: String, residual: Double)? {
        build(upTo: order)
        let degree = p[0].count
        for index in trees.indices where trees[index].order <= order {
            for power in 0..<degree {
                var sum = 0.0
                var size = 0.0
                for i in 0..<p.count {
                    sum += p[i][power] * phi[index][i]
                    size += Swift.abs(p[i][power]) * magnitude[index][i]
                }
                let expected = power + 1 == trees[index].order ? 1 / gamma[index] : 0
                let residual = sum - expected
                if Swift.abs(residual) > tolerance * Swift.max(1, size) {
                    return (notation(index) + " at θ^\(power + 1)", residual)
                }
            }
        }
        return nil
    }
}

// MARK: - Linear stability

/// The linear stability of a method: how it treats y' = λy, for which one step multiplies y by the
/// stability function R(z), z = hλ,
///
///     R(z) = 1 + z bᵀ (I − z M)⁻¹ 𝟙,
///
/// with M = a for Runge–Kutta methods and M = α + Γ for Rosenbrock methods. Computed when the
/// tableau is made, by sampling: |R(iy)| at 400 points with y log-spaced in [10⁻⁴, 10⁸], R at
/// z = −10¹² for the limit at infinity, and R on the negative real axis for the stability boundary.
public struct LinearStability: Sendable, Hashable {
    /// |R(z)| ≤ 1 on the whole left half-plane (sampled on the imaginary axis; the poles 1/Mᵢᵢ of an
    /// implicit method with a nonnegative diagonal lie in the right half-plane). False for explicit
    /// methods, whose R is a polynomial.
    public let isAStable: Bool
    /// |R(−∞)|: how much of a very stiff component survives a step (0 for L-stable methods; ∞ for
    /// explicit ones; 1 for the trapezoidal rule).
    public let stabilityAtInfinity: Double
    /// The largest x with |R(−ξ)| ≤ 1 for all ξ in [0, x]: the step of an explicit method is bounded by
    /// x / |λ| on a stiff problem (about 3.3 for Dormand–Prince). Infinite for A-stable methods.
    public let realStabilityBoundary: Double

    /// A-stable with R(−∞) = 0 (to 10⁻⁹): stiff components are damped out in one step.
    public var isLStable: Bool { isAStable && stabilityAtInfinity <= 1e-9 }

    init(stageMatrix m: [[Double]], weights b: [Double], implicit: Bool) {
        // When the last row of M is b (stiffly accurate), R(z) = 1 + z bᵀx is the last stage xₛ itself:
        // reading it off avoids the cancellation of 1 + z bᵀx at large |z| (which leaves ~10⁻⁵ at
        // z = −10¹² for a method with an explicit first stage).
        let lastRowIsB = implicit && m.last == b
        func r(_ z: Complex) -> Complex {
            // (I − zM) x = 𝟙 by forward substitution (M is lower triangular).
            let s = b.count
            var x = [Complex](repeating: Complex(0, 0), count: s)
            var sum = Complex(0, 0)
            for i in 0..<s {
                var rhs = Complex(1, 0)
                for j in 0..<i where m[i][j] != 0 { rhs = rhs + z * x[j] * m[i][j] }
                x[i] = rhs / (Complex(1, 0) - z * m[i][i])
                sum = sum + x[i] * b[i]
            }
            if lastRowIsB { return x[s - 1] }
            return Complex(1, 0) + z * sum
        }
        var aStable = implicit && m.indices.allSatisfy { m[$0][$0] >= 0 }
        if aStable {
            for k in 0..<400 {
                let y = Double.pow(10, -4 + 12 * Double(k) / 399)
                if r(Complex(0, y)).magnitude > 1 + 1e-9 {
                    aStable = false
                    break
                }
            }
        }
        isAStable = aStable
        stabilityAtInfinity = implicit ? r(Complex(-1e12, 0)).magnitude : .infinity
        if aStable {
            realStabilityBoundary = .infinity
        } else {
            // Scan the negative real axis in steps of 0.01 up to 1000, then bisect the first exit.
            var inside = 0.0
            var outside = Double.infinity
            var x = 0.01
            while x <= 1000 {
                if r(Complex(-x, 0)).magnitude > 1 + 1e-12 {
                    outside = x
                    break
                }
                inside = x
                x += 0.01
            }
            if outside.isFinite {
                for _ in 0..<40 {
                    let mid = (inside + outside) / 2
                    if r(Complex(-mid, 0)).magnitude > 1 + 1e-12 { outside = mid } else { inside = mid }
                }
            }
            realStabilityBoundary = outside.isFinite ? inside : .infinity
        }
    }
}

/// Just enough complex arithmetic for stability functions.
private struct Complex {
    var re: Double
    var im: Double
    init(_ re: Double, _ im: Double) {
        self.re = re
        self.im = im
    }
    var magnitude: Double { (re * re + im * im).squareRoot() }
    static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
    static func * (a: Complex, b: Complex) -> Complex { Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re) }
    static func * (a: Complex, w: Double) -> Complex { Complex(a.re * w, a.im * w) }
    static func / (a: Complex, b: Complex) -> Complex {
        let d = b.re * b.re + b.im * b.im
        return Complex((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d)
    }
}
