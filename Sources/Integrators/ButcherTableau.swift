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
    public let name: String
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
    /// b, bₛ = 0), so it is the first stage of the next step and costs nothing.
    public let isFSAL: Bool

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
        guard allCoefficients.allSatisfy({ $0.isFinite }) else { throw .shape("\(name): a coefficient is not finite") }
        for i in 0..<s {
            for j in i..<s where a[i][j] != 0 {
                throw .notExplicit(name: name, row: i, column: j)
            }
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
        var conditions = OrderConditions(a: a)
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
        let fsal =
            s > 1 && Swift.abs(nodes[last] - 1) <= tolerance && b[last] == 0
            && (0..<last).allSatisfy { a[last][$0] == b[$0] }

        self.name = name
        self.a = a
        self.b = b
        self.c = nodes
        self.order = order
        self.errorWeights = errorWeights
        self.embeddedOrder = embeddedWeights == nil ? 0 : embeddedOrder
        self.interpolant = interpolant
        self.interpolantOrder = interpolant == nil ? 0 : interpolantOrder
        self.isFSAL = fsal
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
        return text
    }
}

/// Why a Butcher tableau was rejected.
public enum TableauError: Error, Equatable, CustomStringConvertible {
    /// Sizes that do not fit together, a non-finite coefficient, or an impossible order.
    case shape(String)
    /// A nonzero coefficient on or above the diagonal of `a` (an implicit method).
    case notExplicit(name: String, row: Int, column: Int)
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
    private(set) var trees: [Tree] = []
    private(set) var phi: [[Double]] = []
    private(set) var gamma: [Double] = []
    /// Σⱼ |aᵢⱼ Φⱼ| products alongside Φ, so that residuals are judged against the size of the terms.
    private(set) var magnitude: [[Double]] = []

    init(a: [[Double]]) { self.a = a }

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
                var weights = [Double](repeating: 1, count: s)
                var sizes = [Double](repeating: 1, count: s)
                var density = Double(n)
                for child in children {
                    for i in 0..<s {
                        var sum = 0.0
                        var size = 0.0
                        for j in 0..<s {
                            sum += a[i][j] * phi[child][j]
                            size += Swift.abs(a[i][j]) * magnitude[child][j]
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
