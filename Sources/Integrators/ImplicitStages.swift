import RNNODETensors

/// How implicit and Rosenbrock methods treat the Jacobian and the stage equations.
///
/// ```swift
/// let solution = try solve(brusselator, initialState: y0, from: 0, to: 10, method: .rodas5P,
///                          step: .adaptive(rtol: 1e-6, atol: 1e-6),
///                          implicit: ImplicitSolverSettings(jacobian: .banded(lower: 2, upper: 2)))
/// ```
///
/// **Jacobians.** The field's own ``VectorField/jacobian(_:_:into:)`` when it gives one; otherwise
/// the exact Jacobian from the tape for ``Tensor`` states, and forward differences for fixed-size
/// states: column j from f(t, y + δⱼ eⱼ) with δⱼ = √(ε · max(10⁻⁵, |yⱼ|)) (Hairer–Wanner's RADAU5
/// increment; ε the unit round-off), n evaluations — or, for a banded Jacobian, lower + upper + 1
/// evaluations that perturb every (lower + upper + 1)-th component at once (Curtis–Powell–Reid).
///
/// **Diagonally implicit methods** solve each stage Yᵢ = Eᵢ + hγᵢ f(tᵢ, Yᵢ) by simplified Newton
/// iterations with M = I − hγᵢJ. J is kept across stages and steps: it is recomputed after a
/// Newton failure with an old J, after a step whose iterations contracted slowly (rate > 0.25), and
/// at least every ``jacobianRefreshSteps`` accepted steps; M is refactored when hγ changes. An
/// iteration stops when the predicted remaining error η‖ΔY‖, η = θ/(1 − θ) with θ the observed
/// contraction rate, is below ``newtonTolerance`` (in units of the error tolerance); it fails when θ ≥ 1,
/// when convergence within ``maxNewtonIterations`` is predicted impossible, or when M is singular.
/// A failed step is retried with a fresh Jacobian, then rejected and shrunk by
/// ``newtonFailureFactor`` (adaptive steps), or ends a fixed-step solve with
/// ``SolveStatus/implicitStageFailed(time:stepSize:)``. The error estimate is filtered through M⁻¹
/// (Hairer–Wanner II, IV.8), so that stiff components do not inflate it.
///
/// **Rosenbrock methods** need no iteration: J (and ∂f/∂t for non-autonomous fields) is evaluated
/// at the start of every step, M factored once per step size, and each stage is one linear solve.
public struct ImplicitSolverSettings: Sendable, Hashable {
    /// The Jacobian's structure: dense, or banded with the stated bandwidths.
    public var jacobian: JacobianStructure
    /// Newton iterations allowed per stage (≥ 1).
    public var maxNewtonIterations: Int
    /// κ: Newton stops when its predicted remaining error is below κ times the tolerance (0 < κ < 1).
    public var newtonTolerance: Double
    /// Diagonally implicit methods recompute J at least this often (in accepted steps, ≥ 1).
    public var jacobianRefreshSteps: Int
    /// The factor by which a step is shrunk after a Newton failure (0 < factor < 1).
    public var newtonFailureFactor: Double

    public init(
        jacobian: JacobianStructure = .dense, maxNewtonIterations: Int = 10, newtonTolerance: Double = 0.01,
        jacobianRefreshSteps: Int = 20, newtonFailureFactor: Double = 0.25
    ) {
        self.jacobian = jacobian
        self.maxNewtonIterations = maxNewtonIterations
        self.newtonTolerance = newtonTolerance
        self.jacobianRefreshSteps = jacobianRefreshSteps
        self.newtonFailureFactor = newtonFailureFactor
    }

    /// Checks the settings against a state of `dimension` components.
    ///
    /// - Throws: ``SolveError/invalidImplicitSettings(_:)`` naming the first bad setting.
    public func validate(dimension: Int) throws(SolveError) {
        guard maxNewtonIterations >= 1 else {
            throw .invalidImplicitSettings("maxNewtonIterations must be at least 1, got \(maxNewtonIterations)")
        }
        guard newtonTolerance > 0, newtonTolerance < 1 else {
            throw .invalidImplicitSettings("newtonTolerance must be in (0, 1), got \(newtonTolerance)")
        }
        guard jacobianRefreshSteps >= 1 else {
            throw .invalidImplicitSettings("jacobianRefreshSteps must be at least 1, got \(jacobianRefreshSteps)")
        }
        guard newtonFailureFactor > 0, newtonFailureFactor < 1 else {
            throw .invalidImplicitSettings("newtonFailureFactor must be in (0, 1), got \(newtonFailureFactor)")
        }
        guard dimension >= 1 else { throw .invalidImplicitSettings("the state has no components") }
        if case .banded(let lower, let upper) = jacobian {
            guard lower >= 0, upper >= 0, lower < dimension, upper < dimension else {
                throw .invalidImplicitSettings(
                    "banded Jacobian bandwidths must be in 0..<\(dimension) for \(dimension) components, got lower \(lower), upper \(upper)"
                )
            }
        }
        // Dense storage of n² scalars: refuse what cannot be allocated rather than crash.
        let (square, overflow) = dimension.multipliedReportingOverflow(by: dimension)
        if case .dense = jacobian, overflow || square > 1 << 30 {
            throw .invalidImplicitSettings(
                "a dense Jacobian of \(dimension) components is too large; state its bands with .banded(lower:upper:)")
        }
    }
}

/// The workspace and algorithms of implicit and Rosenbrock steps: the part of the
/// ``RungeKuttaStepper`` that works on the state's components (see ``ImplicitSolverSettings``).
///
/// Every buffer is allocated once; a step allocates nothing for fixed-size states (the field is
/// called on states rebuilt from the buffers with ``ODEState/withComponents(from:)``).
@usableFromInline
package final class ImplicitStages<State: ODEState> {
    @usableFromInline package typealias Scalar = State.Scalar

    @usableFromInline let compiled: CompiledTableau<Scalar>
    @usableFromInline let settings: ImplicitSolverSettings
    @usableFromInline let n: Int
    @usableFromInline let s: Int
    // Buffers of n components each.
    @usableFromInline let y0: UnsafeMutablePointer<Scalar>
    @usableFromInline let y1: UnsafeMutablePointer<Scalar>
    @usableFromInline let explicitPart: UnsafeMutablePointer<Scalar>
    @usableFromInline let iterate: UnsafeMutablePointer<Scalar>
    @usableFromInline let slope: UnsafeMutablePointer<Scalar>
    @usableFromInline let slope0: UnsafeMutablePointer<Scalar>
    @usableFromInline let delta: UnsafeMutablePointer<Scalar>
    @usableFromInline let weights: UnsafeMutablePointer<Scalar>
    @usableFromInline let timeDerivative: UnsafeMutablePointer<Scalar>
    @usableFromInline let perturbed: UnsafeMutablePointer<Scalar>
    /// s × n: the stage slopes kᵢ (diagonally implicit) or the transformed stages uᵢ (Rosenbrock).
    @usableFromInline let stageValues: UnsafeMutablePointer<Scalar>
    @usableFromInline let jacobianStorage: UnsafeMutablePointer<Scalar>
    @usableFromInline let matrix: IterationMatrix<Scalar>

    /// J holds the Jacobian at the current step's start (t, y).
    @usableFromInline var jacobianIsCurrent = false
    @usableFromInline var hasJacobian = false
    @usableFromInline var refreshJacobian = true
    @usableFromInline var jacobianAge = 0
    /// hγ of the current factorization of M (0: none).
    @usableFromInline var factoredScale: Scalar = 0
    /// The last Newton contraction factor η, carried from stage to stage.
    @usableFromInline var eta: Scalar = 1
    /// The slowest contraction rate θ of the last step's iterations.
    @usableFromInline var slowestRate: Scalar = 0
    /// ‖J‖∞ (the largest absolute row sum) of the current Jacobian: a bound on its spectral radius.
    @usableFromInline package var jacobianNorm: Scalar = 0
    /// The tolerances that scale the Newton and error norms.
    @usableFromInline package var rtol: Scalar
    @usableFromInline package var atol: Scalar

    /// Whether the last step failed (Newton did not converge, or M was singular).
    @usableFromInline package var failed = false
    /// The squared scaled norm of the last step's error estimate.
    @usableFromInline package var squaredError: Scalar = 0

    // Work counters, added to the integrator's statistics.
    @usableFromInline package var evaluations = 0
    @usableFromInline package var jacobians = 0
    @usableFromInline package var factorizations = 0
    @usableFromInline package var linearSolves = 0
    @usableFromInline package var newtonIterations = 0
    @usableFromInline package var newtonFailures = 0

    @inlinable
    package init(compiled: CompiledTableau<Scalar>, settings: ImplicitSolverSettings, dimension n: Int) {
        self.compiled = compiled
        self.settings = settings
        self.n = n
        s = compiled.stageCount
        func buffer(_ count: Int) -> UnsafeMutablePointer<Scalar> {
            let pointer = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(count, 1))
            pointer.initialize(repeating: 0, count: Swift.max(count, 1))
            return pointer
        }
        y0 = buffer(n)
        y1 = buffer(n)
        explicitPart = buffer(n)
        iterate = buffer(n)
        slope = buffer(n)
        slope0 = buffer(n)
        delta = buffer(n)
        weights = buffer(n)
        timeDerivative = buffer(n)
        perturbed = buffer(n)
        stageValues = buffer(s * n)
        jacobianStorage = buffer(JacobianMatrix<Scalar>.storageCount(dimension: n, structure: settings.jacobian))
        matrix = IterationMatrix(dimension: n, structure: settings.jacobian)
        // Fixed steps have no tolerances: Newton's scale is ε^(2/3) relative in Double (4·10⁻¹¹),
        // √ε in Float (3·10⁻⁴), where ε^(2/3) would put its stopping test at round-off.
        let epsilon = Scalar.ulpOfOne
        let scale = Scalar.exp((epsilon < 1e-10 ? Scalar(2) / 3 : Scalar(1) / 2) * Scalar.log(epsilon))
        (rtol, atol) = (scale, scale)
    }

    deinit {
        for pointer in [
            y0, y1, explicitPart, iterate, slope, slope0, delta, weights, timeDerivative, perturbed, stageValues,
            jacobianStorage,
        ] {
            pointer.deallocate()
        }
        matrix.deallocate()
    }

    @inlinable
    var jacobianView: JacobianMatrix<Scalar> {
        JacobianMatrix(dimension: n, structure: settings.jacobian, storage: jacobianStorage)
    }

    /// Forgets the Jacobian and factorization (the state or the field was replaced).
    @inlinable
    package func invalidate() {
        jacobianIsCurrent = false
        hasJacobian = false
        refreshJacobian = true
        factoredScale = 0
    }

    /// Called by the integrator after each accepted step: the next step starts elsewhere.
    @inlinable
    package func stepAccepted() {
        jacobianIsCurrent = false
        jacobianAge += 1
        if compiled.kind == .diagonallyImplicit
            && (slowestRate > Scalar(0.25) || jacobianAge >= settings.jacobianRefreshSteps)
        {
            refreshJacobian = true
        }
    }

    // MARK: Jacobians

    /// J at (t, y), where `base` holds the components of y and `f0` those of f(t, y).
    @inlinable
    func computeJacobian<F: VectorField>(
        _ field: F, _ t: Scalar, _ y: State, base: UnsafeMutablePointer<Scalar>, f0: UnsafeMutablePointer<Scalar>
    ) where F.State == State {
        let j = jacobianView
        j.clear()
        if !field.jacobian(t, y, into: j) && !State.exactJacobian(of: field, at: t, y, into: j) {
            finiteDifferenceJacobian(field, t, y, base: base, f0: f0, into: j)
        }
        jacobians += 1
        var norm: Scalar = 0
        for row in 0..<n {
            var sum: Scalar = 0
            for column in Swift.max(0, row - j.lower)...Swift.min(n - 1, row + j.upper) {
                sum += Swift.abs(j[row, column])
            }
            norm = Swift.max(norm, sum)
        }
        jacobianNorm = norm
        hasJacobian = true
        jacobianIsCurrent = true
        refreshJacobian = false
        jacobianAge = 0
        factoredScale = 0
    }

    /// Forward differences; columns perturbed together when the Jacobian is banded.
    @inlinable
    func finiteDifferenceJacobian<F: VectorField>(
        _ field: F, _ t: Scalar, _ y: State, base: UnsafeMutablePointer<Scalar>, f0: UnsafeMutablePointer<Scalar>,
        into j: JacobianMatrix<Scalar>
    ) where F.State == State {
        let iterate = perturbed
        iterate.update(from: base, count: n)
        let (lower, upper): (Int, Int)
        switch settings.jacobian {
        case .dense: (lower, upper) = (n - 1, n - 1)
        case .banded(let kl, let ku): (lower, upper) = (kl, ku)
        }
        let groups = Swift.min(n, lower + upper + 1)
        for group in 0..<groups {
            var column = group
            while column < n {
                let yj = iterate[column]
                let increment = (Scalar.ulpOfOne * Swift.max(Scalar(1e-5), Swift.abs(yj))).squareRoot()
                iterate[column] = yj + increment
                delta[column] = iterate[column] - yj  // the increment actually applied
                column += groups
            }
            let perturbed = field(t, y.withComponents(from: iterate))
            evaluations += 1
            perturbed.copyComponents(to: slope)
            column = group
            while column < n {
                let inverse = 1 / delta[column]
                for row in Swift.max(0, column - upper)...Swift.min(n - 1, column + lower) {
                    j[row, column] = (slope[row] - f0[row]) * inverse
                }
                iterate[column] = base[column]
                column += groups
            }
        }
    }

    /// Factors M = I − scale · J unless it is factored for this scale already.
    @inlinable
    func factor(_ scale: Scalar) -> Bool {
        if factoredScale == scale { return true }
        factorizations += 1
        guard matrix.factor(identityMinus: scale, times: jacobianView) else {
            factoredScale = 0
            return false
        }
        factoredScale = scale
        return true
    }

    /// 1 / (atol + rtol |y₀ᵢ|), the weights of the Newton norm.
    @inlinable
    func setWeights() {
        for i in 0..<n { weights[i] = 1 / (atol + rtol * Swift.abs(y0[i])) }
    }

    /// The weighted RMS norm of `v`.
    @inlinable
    func weightedNorm(_ v: UnsafeMutablePointer<Scalar>) -> Scalar {
        var sum: Scalar = 0
        for i in 0..<n {
            let r = v[i] * weights[i]
            sum += r * r
        }
        return (sum / Scalar(n)).squareRoot()
    }

    /// The squared scaled norm of the error estimate `e` between y₀ and y₁ (as the explicit pairs').
    @inlinable
    func squaredErrorNorm(_ e: UnsafeMutablePointer<Scalar>) -> Scalar {
        var sum: Scalar = 0
        for i in 0..<n {
            let r = e[i] / (atol + rtol * Swift.max(Swift.abs(y0[i]), Swift.abs(y1[i])))
            sum += r * r
        }
        return sum / Scalar(n)
    }

    // MARK: Diagonally implicit steps

    /// One step of a diagonally implicit method from (t, y) with f(t, y) = `k0`; writes the stage
    /// slopes to `stages`. On failure sets ``failed`` and returns (y, k0).
    @inlinable
    package func stepDiagonallyImplicit<F: VectorField>(
        _ field: F, _ t: Scalar, _ y: State, _ h: Scalar, _ k0: State, stages: UnsafeMutablePointer<State>,
        estimateError: Bool
    ) -> (y1: State, last: State) where F.State == State {
        failed = false
        y.copyComponents(to: y0)
        k0.copyComponents(to: slope0)
        setWeights()
        var solved = false
        var retried = false
        while !solved {
            if refreshJacobian || !hasJacobian { computeJacobian(field, t, y, base: y0, f0: slope0) }
            let freshAtStart = jacobianIsCurrent
            solved = solveStages(field, t, y, h)
            // Retry once with J at this step's start if the failed attempt began with an older one.
            if !solved {
                guard !freshAtStart && !retried else { break }
                retried = true
                refreshJacobian = true
            }
        }
        guard solved else {
            newtonFailures += 1
            failed = true
            return (y, k0)
        }
        let a = compiled.a
        if compiled.isStifflyAccurate {
            // y₁ is the last stage's input: Eₛ + hγkₛ (already in `iterate`).
            y1.update(from: iterate, count: n)
        } else {
            y1.update(from: y0, count: n)
            for j in 0..<s where compiled.b[j] != 0 {
                let w = h * compiled.b[j]
                let k = stageValues + j * n
                for i in 0..<n { y1[i] += w * k[i] }
            }
        }
        if estimateError {
            delta.update(repeating: 0, count: n)
            for q in 0..<compiled.errorCount {
                let w = h * compiled.errorWeights[q]
                let k = stageValues + compiled.errorIndices[q] * n
                for i in 0..<n { delta[i] += w * k[i] }
            }
            // Filtered through M⁻¹ with the last diagonal (the constant γ of an SDIRK/ESDIRK).
            if factor(h * a[(s - 1) * s + s - 1]) {
                matrix.solve(delta)
                linearSolves += 1
            }
            squaredError = squaredErrorNorm(delta)
        }
        if let recorded = recordDiagonallyImplicit(field, t, y, h, k0, stages: stages) { return recorded }
        for i in 0..<s { stages[i] = y.withComponents(from: stageValues + i * n) }
        return (y.withComponents(from: y1), stages[s - 1])
    }

    /// Solves the stages in turn; false when Newton fails (or M is singular).
    @inlinable
    func solveStages<F: VectorField>(_ field: F, _ t: Scalar, _ y: State, _ h: Scalar) -> Bool where F.State == State {
        let a = compiled.a
        let kappa = Scalar(settings.newtonTolerance)
        let maxIterations = settings.maxNewtonIterations
        slowestRate = 0
        for stage in 0..<s {
            let k = stageValues + stage * n
            let diagonal = a[stage * s + stage]
            // Eᵢ = y₀ + h Σ_{j<i} aᵢⱼ kⱼ
            explicitPart.update(from: y0, count: n)
            for j in 0..<stage where a[stage * s + j] != 0 {
                let w = h * a[stage * s + j]
                let kj = stageValues + j * n
                for i in 0..<n { explicitPart[i] += w * kj[i] }
            }
            let time = t + compiled.c[stage] * h
            if diagonal == 0 {
                if stage == 0 {
                    k.update(from: slope0, count: n)
                } else {
                    let value = field(time, y.withComponents(from: explicitPart))
                    evaluations += 1
                    value.copyComponents(to: k)
                }
                iterate.update(from: explicitPart, count: n)
                continue
            }
            let scale = h * diagonal
            guard factor(scale) else { return false }
            // Predictor: on a non-stiff stage (hγ‖J‖∞ < 1) the explicit extrapolation Eᵢ + hγ kᵢ₋₁
            // (k₀ = f(t, y) for the first stage), accurate to O(h²); on a stiff one the previous
            // stage's value (y for the first), which stays in the basin of the solution where an
            // extrapolation with a large slope can land far outside it. `iterate` holds the
            // previous stage's value.
            if scale * jacobianNorm < 1 {
                let previous = stage == 0 ? slope0 : stageValues + (stage - 1) * n
                for i in 0..<n { iterate[i] = explicitPart[i] + scale * previous[i] }
            } else if stage == 0 {
                iterate.update(from: y0, count: n)
            }
            var rate = Swift.max(eta, Scalar.ulpOfOne)
            rate = Scalar.exp(Scalar(0.8) * Scalar.log(rate))
            var previousNorm: Scalar = 0
            var converged = false
            var refreshes = 2  // Jacobians at the iterate allowed when the contraction is slow
            var slow = false
            for iteration in 0..<maxIterations {
                let current = y.withComponents(from: iterate)
                let value = field(time, current)
                evaluations += 1
                newtonIterations += 1
                value.copyComponents(to: slope)
                if slow {
                    // Contracting slowly: J at the current iterate (Newton proper), then on.
                    refreshes -= 1
                    computeJacobian(field, time, current, base: iterate, f0: slope)
                    jacobianIsCurrent = false  // J no longer belongs to the step's start
                    refreshJacobian = true
                    guard factor(scale) else { return false }
                    previousNorm = 0
                }
                // ΔY = M⁻¹ (E + hγ f(Y) − Y)
                for i in 0..<n { delta[i] = explicitPart[i] + scale * slope[i] - iterate[i] }
                matrix.solve(delta)
                linearSolves += 1
                for i in 0..<n { iterate[i] += delta[i] }
                let norm = weightedNorm(delta)
                guard norm.isFinite else { return false }
                if norm <= kappa * Scalar(1e-2) {
                    // At round-off level: the contraction rate is no longer measurable.
                    converged = true
                    break
                }
                slow = false
                if previousNorm > 0 {
                    let theta = norm / previousNorm
                    slowestRate = Swift.max(slowestRate, theta)
                    let remaining = Scalar(maxIterations - 1 - iteration)
                    if theta < 1 { rate = theta / (1 - theta) }
                    // Diverging, or not converging within the remaining iterations at this rate:
                    // refresh J at the iterate while allowed, else fail.
                    let hopeless =
                        theta >= 1
                        || (rate * norm > kappa && Scalar.exp(remaining * Scalar.log(theta)) * rate * norm > kappa)
                    if hopeless || theta > Scalar(0.5) {
                        if refreshes > 0 {
                            slow = true
                        } else if hopeless {
                            return false
                        }
                    }
                }
                // The first correction is trusted only when it is itself within κ: the rate carried
                // over from the previous stage says little about how far off the predictor was.
                if !slow && (norm == 0 || (previousNorm > 0 ? rate * norm : norm) <= kappa) {
                    converged = true
                    break
                }
                previousNorm = norm
            }
            guard converged else { return false }
            eta = rate
            let inverse = 1 / scale
            for i in 0..<n { k[i] = (iterate[i] - explicitPart[i]) * inverse }
        }
        return true
    }

    // MARK: Rosenbrock steps

    /// One step of a Rosenbrock method from (t, y) with f(t, y) = `k0`; writes the stage slopes kᵢ
    /// to `stages`. Returns the new state and f(t + h, y₁) when the method is FSAL (the last
    /// stage's slope otherwise). On failure (M singular) sets ``failed``.
    @inlinable
    package func stepRosenbrock<F: VectorField>(
        _ field: F, _ t: Scalar, _ y: State, _ h: Scalar, _ k0: State, stages: UnsafeMutablePointer<State>,
        estimateError: Bool
    ) -> (y1: State, last: State) where F.State == State {
        failed = false
        y.copyComponents(to: y0)
        k0.copyComponents(to: slope0)
        if !jacobianIsCurrent {
            computeJacobian(field, t, y, base: y0, f0: slope0)
            if field.isAutonomous {
                timeDerivative.update(repeating: 0, count: n)
            } else {
                // ∂f/∂t by a forward difference in t.
                let increment = (Scalar.ulpOfOne * Swift.max(Scalar(1e-5), Swift.abs(t))).squareRoot()
                let shifted = t + increment
                let value = field(shifted, y)
                evaluations += 1
                value.copyComponents(to: timeDerivative)
                let inverse = 1 / (shifted - t)
                for i in 0..<n { timeDerivative[i] = (timeDerivative[i] - slope0[i]) * inverse }
            }
        }
        let gamma = compiled.gammaDiagonal
        let scale = h * gamma
        guard factor(scale) else {
            failed = true
            return (y, k0)
        }
        let stageA = compiled.rosenbrockA
        let stageC = compiled.rosenbrockC
        let d = compiled.gammaSums
        let inverseH = 1 / h
        var lastValue = k0
        for stage in 0..<s {
            let u = stageValues + stage * n
            // f at the stage input y₀ + Σ_{j<i} Aᵢⱼ uⱼ (reused when the input repeats the previous one).
            if stage == 0 {
                slope.update(from: slope0, count: n)
                lastValue = k0
            } else if !(compiled.c[stage] == compiled.c[stage - 1]
                && (0..<stage).allSatisfy({ stageA[stage * s + $0] == stageA[(stage - 1) * s + $0] }))
            {
                iterate.update(from: y0, count: n)
                for j in 0..<stage where stageA[stage * s + j] != 0 {
                    let w = stageA[stage * s + j]
                    let uj = stageValues + j * n
                    for i in 0..<n { iterate[i] += w * uj[i] }
                }
                lastValue = field(t + compiled.c[stage] * h, y.withComponents(from: iterate))
                evaluations += 1
                lastValue.copyComponents(to: slope)
            }
            // (I − hγJ) uᵢ = hγ (f(Yᵢ) + Σⱼ Cᵢⱼ uⱼ / h + h γᵢ ∂f/∂t)
            let td = h * d[stage]
            for i in 0..<n { u[i] = slope[i] + td * timeDerivative[i] }
            for j in 0..<stage where stageC[stage * s + j] != 0 {
                let w = stageC[stage * s + j] * inverseH
                let uj = stageValues + j * n
                for i in 0..<n { u[i] += w * uj[i] }
            }
            for i in 0..<n { u[i] *= scale }
            matrix.solve(u)
            linearSolves += 1
        }
        let m = compiled.rosenbrockM
        y1.update(from: y0, count: n)
        for j in 0..<s where m[j] != 0 {
            let uj = stageValues + j * n
            for i in 0..<n { y1[i] += m[j] * uj[i] }
        }
        if estimateError {
            let e = compiled.rosenbrockError
            delta.update(repeating: 0, count: n)
            for j in 0..<s where e[j] != 0 {
                let uj = stageValues + j * n
                for i in 0..<n { delta[i] += e[j] * uj[i] }
            }
            squaredError = squaredErrorNorm(delta)
        }
        // The slopes kᵢ = (Γ⁻¹ u)ᵢ / h, for the dense output.
        let inverse = compiled.gammaInverse
        for stage in 0..<s {
            delta.update(repeating: 0, count: n)
            for j in 0...stage where inverse[stage * s + j] != 0 {
                let w = inverse[stage * s + j] * inverseH
                let uj = stageValues + j * n
                for i in 0..<n { delta[i] += w * uj[i] }
            }
            stages[stage] = y.withComponents(from: delta)
        }
        return (y.withComponents(from: y1), compiled.isFSAL ? lastValue : stages[s - 1])
    }
}
