import RNNODETensors
import Synchronization

/// A ``ButcherTableau`` converted once for one scalar type: the form the integrator's loops read.
///
/// Structural zeros are dropped here, once, instead of being tested at every step: row i (1…s−1:
/// stage i; s: the update) combines the older stages `rowIndices[rowStart[i]..<rowStart[i+1]]` with
/// the nonzero weights `rowWeights[…]`, and the newest stage i − 1 (s − 1 for the update) with
/// `newestWeight[i]`. The dense `a` and `b` serve the fused sequence integrator, whose backward pass
/// runs the tableau's transpose.
///
/// A compiled tableau is immutable and shared: ``shared(_:)`` builds it on first use and returns the
/// same object for every later solve, integrator or recurrent layer with that tableau and scalar type.
@usableFromInline
package final class CompiledTableau<Scalar: TensorScalar>: @unchecked Sendable {
    // Sendable: immutable after init; the pointers are never written again.
    @usableFromInline package let stageCount: Int
    @usableFromInline package let isFSAL: Bool
    /// The order of the error estimate's method plus one (k of the step-size controller), 0 without one.
    @usableFromInline package let errorOrder: Int
    @usableFromInline package let c: UnsafeMutablePointer<Scalar>
    @usableFromInline package let rowStart: UnsafeMutablePointer<Int>
    @usableFromInline package let rowIndices: UnsafeMutablePointer<Int>
    @usableFromInline package let rowWeights: UnsafeMutablePointer<Scalar>
    @usableFromInline package let newestWeight: UnsafeMutablePointer<Scalar>
    /// The nonzero error weights bᵢ − b̂ᵢ and their stages (count 0 without an embedded method).
    @usableFromInline package let errorCount: Int
    @usableFromInline package let errorIndices: UnsafeMutablePointer<Int>
    @usableFromInline package let errorWeights: UnsafeMutablePointer<Scalar>
    /// The weights b.
    @usableFromInline package let b: UnsafeMutablePointer<Scalar>
    /// aᵢⱼ, row-major s×s (zero on and above the diagonal).
    @usableFromInline package let a: UnsafeMutablePointer<Scalar>
    /// Dense-output coefficients Pᵢₚ, row-major s×degree, or nil (then cubic Hermite is used).
    @usableFromInline package let interpolant: UnsafeMutablePointer<Scalar>?
    @usableFromInline package let interpolantDegree: Int
    /// 0, 1, …, s + e − 1: the indices of a dense combination.
    @usableFromInline package let allStages: UnsafeMutablePointer<Int>
    /// The number e of dense-output stages (``ButcherTableau/denseStages``), 0 for most methods. Row j
    /// (stage s + j) combines `denseRowIndices[denseRowStart[j]..<denseRowStart[j+1]]` and the newest
    /// nonzero term `denseNewestIndex[j]`; `denseIsEndSlope[j]` marks a row equal to b at node 1,
    /// whose stage is f(t + h, y₁), taken from the integrator instead of evaluated.
    @usableFromInline package let denseStageCount: Int
    @usableFromInline package let denseNodes: UnsafeMutablePointer<Scalar>
    @usableFromInline package let denseRowStart: UnsafeMutablePointer<Int>
    @usableFromInline package let denseRowIndices: UnsafeMutablePointer<Int>
    @usableFromInline package let denseRowWeights: UnsafeMutablePointer<Scalar>
    @usableFromInline package let denseNewestIndex: UnsafeMutablePointer<Int>
    @usableFromInline package let denseNewestWeight: UnsafeMutablePointer<Scalar>
    @usableFromInline package let denseIsEndSlope: UnsafeMutablePointer<Bool>
    /// The nonzero weights b − b̂₂ of a second error estimate (count 0 without one).
    @usableFromInline package let secondErrorCount: Int
    @usableFromInline package let secondErrorIndices: UnsafeMutablePointer<Int>
    @usableFromInline package let secondErrorWeights: UnsafeMutablePointer<Scalar>

    // Implicit and Rosenbrock methods (see ImplicitStages).
    @usableFromInline package let kind: ButcherTableau.Kind
    @usableFromInline package let isStifflyAccurate: Bool
    /// Rosenbrock methods in the transformed variables uᵢ = h Σⱼ γᵢⱼ kⱼ (Hairer–Wanner's RODAS form):
    /// stage inputs y + Σⱼ Aᵢⱼ uⱼ (A = α Γ⁻¹), the terms Σⱼ Cᵢⱼ uⱼ / h (C = I/γ − Γ⁻¹, strictly lower),
    /// the update y + Σ mᵢ uᵢ (mᵀ = bᵀ Γ⁻¹), the error Σ (m − m̂)ᵢ uᵢ, the ∂f/∂t weights γᵢ = Σⱼ γᵢⱼ,
    /// and Γ⁻¹ to recover the slopes kᵢ = (Γ⁻¹ u)ᵢ / h. Row-major s×s; empty for the other kinds.
    @usableFromInline package let rosenbrockA: [Scalar]
    @usableFromInline package let rosenbrockC: [Scalar]
    @usableFromInline package let rosenbrockM: [Scalar]
    @usableFromInline package let rosenbrockError: [Scalar]
    @usableFromInline package let gammaSums: [Scalar]
    @usableFromInline package let gammaInverse: [Scalar]
    /// The diagonal γ of a Rosenbrock method's Γ (0 for the other kinds).
    @usableFromInline package let gammaDiagonal: Scalar
    /// Explicit methods: two stages at the same node (the last such pair), whose slopes estimate
    /// the dominant eigenvalue (Hairer's stiffness test), and the coefficients aᵢₖ − aⱼₖ of the
    /// difference of their inputs; nil when there is no such pair.
    @usableFromInline package let stiffnessPair: (first: Int, second: Int, difference: [Scalar])?
    /// |R| ≤ 1 on [−boundary, 0]: the stability boundary on the negative real axis.
    @usableFromInline package let stabilityBoundary: Scalar

    init(_ tableau: ButcherTableau) {
        let s = tableau.stages
        stageCount = s
        isFSAL = tableau.isFSAL
        let dense = compileDenseExtensions(tableau, Scalar.self)
        errorOrder =
            dense.secondError.count > 0
            ? dense.combinedErrorOrder : tableau.isAdaptive ? Swift.min(tableau.order, tableau.embeddedOrder) + 1 : 0
        (denseStageCount, denseNodes, denseRowStart, denseRowIndices, denseRowWeights) = dense.rows
        (denseNewestIndex, denseNewestWeight, denseIsEndSlope) = dense.newest
        (secondErrorCount, secondErrorIndices, secondErrorWeights) = dense.secondError
        c = .allocate(capacity: s)
        b = .allocate(capacity: s)
        a = .allocate(capacity: s * s)
        for i in 0..<s {
            c[i] = Scalar(tableau.c[i])
            b[i] = Scalar(tableau.b[i])
            for j in 0..<s { a[i * s + j] = Scalar(tableau.a[i][j]) }
        }
        var starts = [0, 0]
        var indices: [Int] = []
        var rowValues: [Scalar] = []
        var newest = [Scalar](repeating: 0, count: s + 1)
        for i in 1...s {
            let row = i < s ? tableau.a[i] : tableau.b
            for j in 0..<(i - 1) where row[j] != 0 {
                indices.append(j)
                rowValues.append(Scalar(row[j]))
            }
            newest[i] = Scalar(row[i - 1])
            starts.append(indices.count)
        }
        rowStart = .allocate(capacity: starts.count)
        rowStart.initialize(from: starts, count: starts.count)
        rowIndices = .allocate(capacity: Swift.max(indices.count, 1))
        rowIndices.initialize(from: indices, count: indices.count)
        rowWeights = .allocate(capacity: Swift.max(rowValues.count, 1))
        rowWeights.initialize(from: rowValues, count: rowValues.count)
        newestWeight = .allocate(capacity: s + 1)
        newestWeight.initialize(from: newest, count: s + 1)
        let error = (tableau.errorWeights ?? []).enumerated().filter { $0.element != 0 }
        errorCount = error.count
        errorIndices = .allocate(capacity: Swift.max(error.count, 1))
        errorIndices.initialize(from: error.map(\.offset), count: error.count)
        errorWeights = .allocate(capacity: Swift.max(error.count, 1))
        errorWeights.initialize(from: error.map { Scalar($0.element) }, count: error.count)
        if let p = tableau.interpolant {
            let degree = p[0].count
            let pointer = UnsafeMutablePointer<Scalar>.allocate(capacity: p.count * degree)
            for i in 0..<p.count { for q in 0..<degree { pointer[i * degree + q] = Scalar(p[i][q]) } }
            interpolant = pointer
            interpolantDegree = degree
        } else {
            interpolant = nil
            interpolantDegree = 0
        }
        allStages = .allocate(capacity: s + denseStageCount)
        allStages.initialize(from: Array(0..<(s + denseStageCount)), count: s + denseStageCount)

        kind = tableau.kind
        isStifflyAccurate = tableau.isStifflyAccurate
        stabilityBoundary = Scalar(Swift.min(tableau.stability.realStabilityBoundary, 1e30))
        var pair: (Int, Int, [Scalar])? = nil
        if tableau.kind == .explicit {
            search: for i in stride(from: s - 1, through: 1, by: -1) {
                for j in stride(from: i - 1, through: 0, by: -1) where tableau.c[i] == tableau.c[j] && tableau.c[i] != 0 {
                    pair = (j, i, (0..<s).map { Scalar(tableau.a[i][$0] - tableau.a[j][$0]) })
                    break search
                }
            }
        }
        stiffnessPair = pair.map { (first: $0.0, second: $0.1, difference: $0.2) }
        if tableau.kind == .rosenbrock, let gamma = tableau.gamma {
            // Γ⁻¹ by forward substitution, column by column.
            var inverse = [[Double]](repeating: [Double](repeating: 0, count: s), count: s)
            for column in 0..<s {
                for i in column..<s {
                    var sum = i == column ? 1.0 : 0.0
                    for k in column..<i { sum -= gamma[i][k] * inverse[k][column] }
                    inverse[i][column] = sum / gamma[i][i]
                }
            }
            let g = gamma[0][0]
            var aU = [Scalar](repeating: 0, count: s * s)
            var cU = [Scalar](repeating: 0, count: s * s)
            for i in 0..<s {
                for j in 0..<s {
                    aU[i * s + j] = Scalar((0..<s).reduce(0) { $0 + tableau.a[i][$1] * inverse[$1][j] })
                    if j < i { cU[i * s + j] = Scalar(-inverse[i][j]) }
                }
            }
            func uWeights(_ w: [Double]) -> [Scalar] {
                (0..<s).map { j in Scalar((0..<s).reduce(0) { $0 + w[$1] * inverse[$1][j] }) }
            }
            let m = uWeights(tableau.b)
            rosenbrockA = aU
            rosenbrockC = cU
            rosenbrockM = m
            rosenbrockError = tableau.errorWeights.map(uWeights) ?? []
            gammaSums = gamma.map { Scalar($0.reduce(0, +)) }
            gammaInverse = inverse.flatMap { $0.map { Scalar($0) } }
            gammaDiagonal = Scalar(g)
        } else {
            (rosenbrockA, rosenbrockC, rosenbrockM, rosenbrockError) = ([], [], [], [])
            (gammaSums, gammaInverse) = ([], [])
            gammaDiagonal = 0
        }
    }

    deinit {
        c.deallocate()
        b.deallocate()
        a.deallocate()
        rowStart.deallocate()
        rowIndices.deallocate()
        rowWeights.deallocate()
        newestWeight.deallocate()
        errorIndices.deallocate()
        errorWeights.deallocate()
        interpolant?.deallocate()
        allStages.deallocate()
        for pointer in [denseRowStart, denseRowIndices, denseNewestIndex, secondErrorIndices] { pointer.deallocate() }
        for pointer in [denseNodes, denseRowWeights, denseNewestWeight, secondErrorWeights] { pointer.deallocate() }
        denseIsEndSlope.deallocate()
    }

    /// The compiled form of `tableau` for `Scalar`, built on first use and then shared.
    @usableFromInline
    package static func shared(_ tableau: ButcherTableau) -> CompiledTableau {
        let key = CompiledTableauKey(scalar: ObjectIdentifier(Scalar.self), tableau: tableau)
        if let cached = compiledTableaus.withLock({ $0[key] }) {
            return unsafeDowncast(cached, to: CompiledTableau.self)
        }
        let compiled = CompiledTableau(tableau)
        compiledTableaus.withLock { cache in
            // Bounded: a program that makes tableaus on the fly gets fresh ones past the limit.
            if cache.count < maximumCachedTableaus { cache[key] = compiled }
        }
        return compiled
    }
}

/// How many compiled tableaus are kept (the library has eight methods, times two scalar types).
let maximumCachedTableaus = 64

struct CompiledTableauKey: Hashable {
    let scalar: ObjectIdentifier
    let tableau: ButcherTableau
}

let compiledTableaus = Mutex<[CompiledTableauKey: AnyObject]>([:])
