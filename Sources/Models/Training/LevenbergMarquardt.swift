// Levenberg–Marquardt nonlinear least squares with Jacobians from the tape.

import RNNODETensors

// MARK: - Optimizer

/// A Levenberg–Marquardt (damped Gauss–Newton) optimizer for small nonlinear least-squares
/// problems: it minimizes the cost
///
///     F(θ) = Σᵢ rᵢ(θ)²
///
/// over a parameter tensor θ, given a function returning the residuals r(θ) as a ``Tensor`` (the
/// cost is the plain sum of squares; SciPy's `least_squares` reports half of it). The Jacobian
/// J = ∂r/∂θ comes from reverse-mode autodiff: every residual evaluation is recorded on a fresh
/// ``Tape``, and when the trial point is accepted one backward pass per residual runs on that same
/// recorded forward pass (a rejected trial costs its forward pass only). This suits inverse problems
/// with few residuals and few parameters — fitting the parameters of an ODE to a few dozen
/// observations, where each residual evaluation is a `solve`.
///
/// ```swift
/// // Fit y' = −k·y, y(0) = y₀ to samples ys at times ts; θ = (k, y₀).
/// let ts: [Double] = [0.5, 1, 1.5, 2, 2.5, 3]
/// let ys: [Double] = [2.01, 1.38, 0.93, 0.60, 0.40, 0.26]
/// let fit = LevenbergMarquardt<Double>().minimize(from: Tensor([0.3, 1])) { theta in
///     let field = FieldClosure<Tensor<Double>> { _, y in -theta[0] * y }
///     guard let s = try? solve(field, initialState: theta.slice(alongAxis: 0, 1..<2), from: 0, to: 3,
///                              step: .adaptive(rtol: 1e-10, atol: 1e-12), saveAt: .times(ts)),
///           s.succeeded
///     else { return Tensor(repeating: .nan, shape: [ts.count]) }  // rejects this trial step
///     return Tensor(concatenating: s.states) - Tensor(ys)
/// }
/// print(fit.status, fit.parameters, fit.standardErrors!)  // k ≈ 0.80 ± 0.01, y₀ ≈ 3.0 ± 0.03
/// ```
///
/// ## The iteration
///
/// Marquardt's method with Moré's scaling. At the current θ, with g = Jᵀr, A = JᵀJ and the diagonal
/// scaling D (the running maximum over all iterations of diag(A), so that it never shrinks; a
/// parameter whose column of J has always been zero gets 1), the step δ solves
///
///     (A + λD) δ = −g
///
/// by a Cholesky factorization (if it fails, λ is increased and the solve retried). The trial point
/// θ + δ is evaluated and the gain ratio ρ = (F(θ) − F(θ + δ)) / (L(0) − L(δ)) compares the actual
/// decrease with the decrease predicted by the linear model L(δ) = ‖r + Jδ‖², which is
/// L(0) − L(δ) = δᵀAδ + 2λ δᵀDδ. The damping follows Nielsen's rule: on ρ > 0 the step is accepted
/// and λ ← λ·max(1/3, 1 − (2ρ − 1)³), ν ← 2; otherwise the step is rejected and λ ← λ·ν, ν ← 2ν
/// (ν starts at 2, λ at ``initialDamping``). Large λ turns the step into a short, scaled
/// steepest-descent step; small λ into the Gauss–Newton step.
///
/// A trial point whose residuals (or, once accepted, whose Jacobian) contain NaN or infinity is
/// never accepted: it counts as a rejected step, so the damping grows and the next step is shorter.
/// A residual function may therefore return NaN where the model is undefined (the log of a
/// parameter that a long step made negative, an ODE solve that failed), and the optimizer backs off.
///
/// ## Stopping
///
/// Checked after every trial step, in this order (the first that holds is the ``LeastSquaresResult/status``):
///
/// - **gradient** (``LeastSquaresStatus/gradientTolerance``), at the current point:
///   maxⱼ |(Jᵀr)ⱼ| / (‖Jⱼ‖·‖r‖) ≤ ``gradientTolerance``, where Jⱼ is column j of J. This is the
///   largest cosine between the residual vector and a column of J (MINPACK's `gtol` test), so it does
///   not depend on the units of the residuals or the parameters; it is 0 at a stationary point and
///   when r = 0. It is also checked at the initial point. (On a problem whose residuals vanish at the
///   solution the cosine need not become small; such problems stop on the step test.)
/// - **cost** (``LeastSquaresStatus/costTolerance``): both the actual and the predicted relative
///   decrease, |F(θ) − F(θ + δ)| / F(θ) and (L(0) − L(δ)) / F(θ), are ≤ ``costTolerance`` (and
///   ρ ≤ 2) — MINPACK's `ftol` test. It applies to rejected steps too, because close to the optimum
///   the cost changes less than its rounding error and a good step can look uphill. When it holds on
///   a step that did not lower the cost, the cost cannot tell the two points apart, and the trial
///   point is kept if it has the smaller gradient measure (it is then the better estimate of the
///   stationary point); the cost returned can therefore exceed the lowest cost seen by a relative
///   ``costTolerance`` at most.
/// - **step** (``LeastSquaresStatus/stepTolerance``): ‖D^½δ‖ ≤ ``stepTolerance``·(‖D^½θ‖ +
///   ``stepTolerance``), the relative step in the scaled parameters D^½θ, whose entries measure each
///   parameter by its effect on the residuals (so a parameter of size 1e-4 converges as tightly as one
///   of size 1). An accepted step is taken before stopping. The same status is reported when θ + δ,
///   rounded to `Scalar`, is θ itself: no representable progress is left.
///
/// Otherwise the optimizer stops after ``maxIterations`` trial steps (``LeastSquaresStatus/maxIterations``).
///
/// ## Precision
///
/// The residual function runs in `Scalar`, but the optimizer does its own arithmetic in `Double`
/// for `Float` models too: residuals and Jacobian entries are widened (exactly), and the cost, JᵀJ,
/// Jᵀr, the factorization and the step are computed in Double. This matters because the normal
/// equations square the condition number of J: in Float, JᵀJ would lose everything once cond(J)
/// passed about 3000. The factorization works on D^(−½)(A + λD)D^(−½), whose diagonal is about 1,
/// so badly scaled parameters cost nothing; what limits it is the condition number κ of J with
/// columns scaled to unit length, and κ² must stay well below 1/ε_Double ≈ 4.5e15 (κ ≲ 10⁷) for the
/// Gauss–Newton steps to be accurate. (Beyond that the steps are poor and convergence slows; the
/// fixed point Jᵀr = 0 is still formed without squaring.) The parameters passed to the residual
/// function are rounded to `Scalar` before every evaluation, so the reported parameters are exactly
/// the ones the reported residuals were computed at. In Float, the attainable accuracy of the
/// parameters is about κ times Float's 1.2e-7 (times the relative error of the residuals).
///
/// ## Errors
///
/// If the residual function throws, the error propagates out of `minimize` immediately and the
/// optimization ends (`rethrows`). To reject a trial point instead — an ODE solve
/// that fails at unreasonable parameters, say — return non-finite residuals from it.
public struct LevenbergMarquardt<Scalar: TensorScalar>: Sendable {
    /// The maximum number of trial steps (accepted or rejected; each costs one residual evaluation).
    /// Default 100.
    public var maxIterations: Int
    /// λ₀, the initial damping relative to the diagonal scaling D = diag(JᵀJ). Default 1e-3 (almost
    /// Gauss–Newton); use 1 or more when the initial guess is poor.
    public var initialDamping: Scalar
    /// Stop when the largest cosine between r and a column of J is at most this. Default 1e-10
    /// (`Double`) or 1e-5 (`Float`). Zero disables the test.
    public var gradientTolerance: Scalar
    /// Stop when the scaled step is at most this relative to the scaled parameters. Default 1e-10
    /// (`Double`) or 1e-6 (`Float`). Zero disables the test (except for steps that do not change the
    /// rounded parameters at all).
    public var stepTolerance: Scalar
    /// Stop when the actual and predicted relative decreases of the cost are at most this. Default
    /// 1e-12 (`Double`) or 1e-6 (`Float`). Zero disables the test.
    public var costTolerance: Scalar

    /// An optimizer with the given limits; the defaults depend on `Scalar` (see each property).
    ///
    /// - Precondition: `maxIterations ≥ 0`, `initialDamping > 0`, and every tolerance is finite and
    ///   ≥ 0.
    @inlinable
    public init(
        maxIterations: Int = 100,
        initialDamping: Scalar = 1e-3,
        gradientTolerance: Scalar = Self.defaultGradientTolerance,
        stepTolerance: Scalar = Self.defaultStepTolerance,
        costTolerance: Scalar = Self.defaultCostTolerance
    ) {
        self.maxIterations = maxIterations
        self.initialDamping = initialDamping
        self.gradientTolerance = gradientTolerance
        self.stepTolerance = stepTolerance
        self.costTolerance = costTolerance
    }

    /// The default ``gradientTolerance``: 1e-10 for `Double`, 1e-5 for `Float`.
    @inlinable
    public static var defaultGradientTolerance: Scalar { isSinglePrecision ? 1e-5 : 1e-10 }

    /// The default ``stepTolerance``: 1e-10 for `Double`, 1e-6 for `Float`.
    @inlinable
    public static var defaultStepTolerance: Scalar { isSinglePrecision ? 1e-6 : 1e-10 }

    /// The default ``costTolerance``: 1e-12 for `Double`, 1e-6 for `Float`.
    @inlinable
    public static var defaultCostTolerance: Scalar { isSinglePrecision ? 1e-6 : 1e-12 }

    @inlinable
    package static var isSinglePrecision: Bool { Scalar.significandBitCount <= Float.significandBitCount }

    @inlinable
    package func checkSettings() {
        require(maxIterations >= 0, "LevenbergMarquardt.maxIterations must be ≥ 0, got \(maxIterations)")
        require(
            initialDamping > 0 && initialDamping.isFinite,
            "LevenbergMarquardt.initialDamping must be finite and > 0, got \(initialDamping)")
        for (name, value) in [
            ("gradientTolerance", gradientTolerance), ("stepTolerance", stepTolerance),
            ("costTolerance", costTolerance),
        ] {
            require(
                value >= 0 && value.isFinite, "LevenbergMarquardt.\(name) must be finite and ≥ 0, got \(value)")
        }
    }

    // MARK: - Minimizing

    /// Minimizes Σᵢ rᵢ(θ)² starting from θ = `initial`.
    ///
    /// `residuals` receives the parameters as a tensor of `initial`'s shape (recorded on a tape) and
    /// returns the residuals as a tensor of any shape, the same number m ≥ 1 of them at every call;
    /// they are flattened in row-major order, and the Jacobian has shape `[m, n]` where n is
    /// `initial.scalarCount`. Data problems end the run with a status rather than an error: NaN or
    /// infinity in `initial`, in the residuals at `initial` or in their Jacobian there (see
    /// ``LeastSquaresStatus``). Non-finite values at trial points only reject the step.
    ///
    /// - Parameters:
    ///   - initial: the starting parameters θ₀ (usually rank 1).
    ///   - progress: called with the initial point (iteration 0) and after every trial step.
    ///   - residuals: r(θ). It may throw; the error propagates (return NaN residuals instead to
    ///     reject a trial point).
    /// - Returns: the best parameters found and how the run ended.
    /// - Precondition: `initial` has at least one scalar, the settings are valid (see
    ///   ``init(maxIterations:initialDamping:gradientTolerance:stepTolerance:costTolerance:)``), and
    ///   every call of `residuals` returns the same number of scalars.
    @inlinable
    public func minimize(
        from initial: Tensor<Scalar>,
        progress: ((LevenbergMarquardtProgress<Scalar>) -> Void)? = nil,
        residuals: (Tensor<Scalar>) throws -> Tensor<Scalar>
    ) rethrows -> LeastSquaresResult<Scalar> {
        try minimize(
            from: initial, progress: progress, evaluate: { try RecordedResiduals(at: $0, residuals) },
            jacobian: { $0.jacobian() })
    }

    /// Minimizes Σᵢ rᵢ(θ)² with residuals and their Jacobian from functions of plain arrays — forward
    /// sensitivities of a ``ParametricField`` solve, say, where J costs one solve on dual numbers
    /// instead of one backward pass per residual.
    ///
    /// `residuals(θ)` returns the m residuals at θ (NaN to reject a trial point); `jacobian(θ)`
    /// returns J = ∂r/∂θ there, m × n row-major, and is called only at points whose residuals were
    /// finite and whose step is accepted (and at the initial point). The algorithm, stopping rules and
    /// result are those of ``minimize(from:progress:residuals:)->LeastSquaresResult<Scalar>``.
    ///
    /// ```swift
    /// let fit = LevenbergMarquardt<Double>().minimize(
    ///     from: [0.3, 1],
    ///     residuals: { theta in zip(ts, ys).map { t, y in theta[1] * exp(-theta[0] * t) - y } },
    ///     jacobian: { theta in ts.flatMap { t in [-t * theta[1] * exp(-theta[0] * t), exp(-theta[0] * t)] } })
    /// ```
    ///
    /// - Precondition: `initial` is not empty; every call returns m residuals and m·n Jacobian entries.
    @inlinable
    public func minimize(
        from initial: [Scalar],
        progress: ((LevenbergMarquardtProgress<Scalar>) -> Void)? = nil,
        residuals: ([Scalar]) throws -> [Scalar],
        jacobian: ([Scalar]) throws -> [Scalar]
    ) rethrows -> LeastSquaresResult<Scalar> {
        try minimize(
            from: Tensor(initial), progress: progress,
            evaluate: { parameters in
                let theta = parameters.scalars
                return PlainResiduals(parameters: theta, values: try residuals(theta))
            },
            jacobian: { evaluation in
                let n = evaluation.parameters.count
                let entries = try jacobian(evaluation.parameters)
                require(
                    entries.count == evaluation.values.count * n,
                    "the Jacobian function returned \(entries.count) entries; \(evaluation.values.count) residuals × \(n) parameters need \(evaluation.values.count * n)"
                )
                return entries.map { Double($0) }
            })
    }

    /// The iteration, for any way of evaluating the residuals and their Jacobian.
    @inlinable
    package func minimize<Evaluation: LeastSquaresEvaluation<Scalar>>(
        from initial: Tensor<Scalar>,
        progress: ((LevenbergMarquardtProgress<Scalar>) -> Void)?,
        evaluate: (Tensor<Scalar>) throws -> Evaluation,
        jacobian: (Evaluation) throws -> [Double]
    ) rethrows -> LeastSquaresResult<Scalar> {
        checkSettings()
        let shape = initial.shape
        let n = initial.scalarCount
        require(n >= 1, "Levenberg–Marquardt needs at least one parameter; initial has shape \(shape)")
        var theta = initial.doubles
        var parameters = initial.detached
        func fail(
            _ status: LeastSquaresStatus, residuals r: Tensor<Scalar>, evaluations: Int, jacobianEvaluations: Int = 0
        ) -> LeastSquaresResult<Scalar> {
            let cost = r.scalarCount == 0 ? Double.nan : DenseLinearAlgebra.sumOfSquares(r.doubles)
            return LeastSquaresResult(
                parameters: parameters, cost: Scalar(cost), residuals: r, jacobian: nil,
                covariance: nil, status: status, iterations: 0, residualEvaluations: evaluations,
                jacobianEvaluations: jacobianEvaluations, nonFiniteEvaluations: 0)
        }
        if let index = theta.firstIndex(where: { !$0.isFinite }) {
            return fail(
                .nonFiniteInitialParameters(firstIndex: index), residuals: Tensor(shape: [0], scalars: []), evaluations: 0)
        }

        // The initial point.
        let start = try evaluate(parameters)
        let m = start.values.count
        require(m >= 1, "the residual function returned no residuals (shape \(start.output.shape))")
        let badResiduals = start.values.indices.filter { !start.values[$0].isFinite }
        if let first = badResiduals.first {
            return fail(
                .nonFiniteInitialResiduals(count: badResiduals.count, firstIndex: first),
                residuals: start.output.detached, evaluations: 1)
        }
        let startJacobian = try jacobian(start)
        if let bad = startJacobian.firstIndex(where: { !$0.isFinite }) {
            return fail(
                .nonFiniteInitialJacobian(residual: bad / n, parameter: bad % n), residuals: start.output.detached,
                evaluations: 1, jacobianEvaluations: 1)
        }

        var point = LeastSquaresPoint(residuals: start.values, jacobian: startJacobian, parameters: n)
        var residualTensor = start.output.detached
        var scaling = DenseLinearAlgebra.diagonal(point.jtj, order: n)
        var lambda = Double(initialDamping)
        var nu = 2.0
        var iterations = 0
        var evaluations = 1
        var jacobianEvaluations = 1
        var nonFiniteEvaluations = 0
        let (gtol, xtol, ftol) = (Double(gradientTolerance), Double(stepTolerance), Double(costTolerance))

        func report(accepted: Bool) {
            guard let progress else { return }
            progress(
                LevenbergMarquardtProgress(
                    iteration: iterations, cost: Scalar(point.cost), parameters: parameters, damping: Scalar(lambda),
                    gradientNorm: Scalar(point.gradientNorm), scaledGradientNorm: Scalar(point.scaledGradientNorm),
                    stepAccepted: accepted))
        }

        report(accepted: false)
        var status: LeastSquaresStatus? = point.scaledGradientNorm <= gtol ? .gradientTolerance : nil
        while status == nil {
            if iterations >= maxIterations {
                status = .maxIterations
                break
            }
            // The damped step, in the scaled variables D^½δ.
            let d = scaling.map { $0 > 0 ? $0 : 1 }
            var solved = DampedStep(jtj: point.jtj, jtr: point.jtr, scaling: d, damping: lambda)
            while solved == nil && lambda.isFinite {
                lambda = Swift.max(lambda * nu, Double.ulpOfOne)
                nu *= 2
                solved = DampedStep(jtj: point.jtj, jtr: point.jtr, scaling: d, damping: lambda)
            }
            var trialTheta = theta
            if let step = solved {
                for j in 0..<n { trialTheta[j] = Double(Scalar(theta[j] + step.delta[j])) }
            }
            guard let step = solved, trialTheta != theta, step.predictedDecrease.isFinite, step.predictedDecrease > 0
            else {
                // No representable step is left: the damping has made it vanish (or overflowed after
                // a long run of rejected trial points).
                status = .stepTolerance
                break
            }

            iterations += 1
            let trialParameters = Tensor(shape: shape, scalars: trialTheta.map { Scalar($0) })
            let trial = try evaluate(trialParameters)
            evaluations += 1
            require(
                trial.values.count == m,
                "the residual function returned \(trial.values.count) residuals (shape \(trial.output.shape)); "
                    + "it returned \(m) at the initial point")

            var accepted = false
            var gained = false  // accepted with a lower cost
            let oldCost = point.cost
            if trial.values.allSatisfy({ $0.isFinite }) {
                let trialCost = DenseLinearAlgebra.sumOfSquares(trial.values)
                let actual = oldCost - trialCost
                let predicted = step.predictedDecrease
                let rho = actual / predicted
                let costTestHolds = Swift.abs(actual) <= ftol * oldCost && predicted <= ftol * oldCost && rho <= 2
                if rho > 0 || costTestHolds {
                    let trialJacobian = try jacobian(trial)
                    jacobianEvaluations += 1
                    if trialJacobian.allSatisfy({ $0.isFinite }) {
                        let trialPoint = LeastSquaresPoint(
                            residuals: trial.values, jacobian: trialJacobian, parameters: n)
                        // A step that did not lower the cost but passes the cost test is a tie the cost
                        // cannot judge (rounding): it is taken if it lowers the gradient measure.
                        if rho > 0 || trialPoint.scaledGradientNorm < point.scaledGradientNorm {
                            accepted = true
                            theta = trialTheta
                            parameters = trialParameters
                            residualTensor = trial.output.detached
                            point = trialPoint
                            for (j, value) in DenseLinearAlgebra.diagonal(point.jtj, order: n).enumerated() {
                                scaling[j] = Swift.max(scaling[j], value)
                            }
                            if rho > 0 {
                                // Nielsen's update.
                                let t = 2 * rho - 1
                                lambda *= Swift.max(1.0 / 3, 1 - t * t * t)
                                nu = 2
                                gained = true
                            }
                        }
                    } else {
                        nonFiniteEvaluations += 1
                    }
                }
                if accepted && point.scaledGradientNorm <= gtol {
                    status = .gradientTolerance
                } else if costTestHolds {
                    status = .costTolerance
                }
            } else {
                nonFiniteEvaluations += 1
            }
            if !gained {
                lambda *= nu
                nu *= 2
            }
            if status == nil {
                var thetaNorm = 0.0
                for j in 0..<n { thetaNorm += d[j] * theta[j] * theta[j] }
                if step.scaledNorm <= xtol * (thetaNorm.squareRoot() + xtol) { status = .stepTolerance }
            }
            report(accepted: accepted)
        }

        return LeastSquaresResult(
            parameters: parameters, cost: Scalar(point.cost), residuals: residualTensor,
            jacobian: Tensor(shape: [m, n], scalars: point.jacobian.map { Scalar($0) }),
            covariance: point.covariance(parameters: n).map { Tensor(shape: [n, n], scalars: $0.map { Scalar($0) }) },
            status: status!, iterations: iterations, residualEvaluations: evaluations,
            jacobianEvaluations: jacobianEvaluations, nonFiniteEvaluations: nonFiniteEvaluations)
    }

    /// Minimizes Σᵢ rᵢ² over several named tensors at once — the parameters of a model, say.
    ///
    /// The tensors are flattened into one parameter vector in the order of their sorted names (the
    /// order of ``LeastSquaresResult/parameters``, the Jacobian's columns and the covariance);
    /// `residuals` receives them back under their names with their shapes, recorded on a tape.
    ///
    /// ```swift
    /// let fit = LevenbergMarquardt<Double>().minimize(from: ["w": Tensor([1, 1]), "b": Tensor(0)]) { p in
    ///     matmul(x, p["w"]!) + p["b"]! - y
    /// }
    /// print(fit.parameters["w"]!, fit.standardErrors?["b"])
    /// ```
    ///
    /// See ``minimize(from:progress:residuals:)`` for the algorithm; `progress` reports the flat vector.
    ///
    /// - Precondition: at least one scalar among the tensors.
    @inlinable
    public func minimize(
        from initial: [String: Tensor<Scalar>],
        progress: ((LevenbergMarquardtProgress<Scalar>) -> Void)? = nil,
        residuals: ([String: Tensor<Scalar>]) throws -> Tensor<Scalar>
    ) rethrows -> NamedLeastSquaresResult<Scalar> {
        let names = initial.keys.sorted()
        let shapes = names.map { initial[$0]!.shape }
        let sizes = names.map { initial[$0]!.scalarCount }
        require(
            sizes.reduce(0, +) >= 1, "Levenberg–Marquardt needs at least one parameter; got only empty tensors \(names)")
        func unflatten(_ flat: Tensor<Scalar>) -> [String: Tensor<Scalar>] {
            let pieces = flat.split(sizes: sizes)
            var named: [String: Tensor<Scalar>] = [:]
            for (index, name) in names.enumerated() { named[name] = pieces[index].reshaped(to: shapes[index]) }
            return named
        }
        let flat = Tensor(concatenating: names.map { initial[$0]!.detached.flattened() })
        let result = try minimize(from: flat, progress: progress) { theta in try residuals(unflatten(theta)) }
        return NamedLeastSquaresResult(
            result: result, names: names, parameters: unflatten(result.parameters),
            standardErrors: result.standardErrors.map(unflatten))
    }
}

// MARK: - Progress and results

/// The state of a ``LevenbergMarquardt`` run, reported to its `progress` callback after every trial
/// step (and once for the initial point, as iteration 0).
public struct LevenbergMarquardtProgress<Scalar: TensorScalar>: Sendable {
    /// The number of trial steps so far.
    public let iteration: Int
    /// The cost Σᵢ rᵢ² at the current (best) parameters.
    public let cost: Scalar
    /// The current (best) parameters.
    public let parameters: Tensor<Scalar>
    /// λ for the next trial step.
    public let damping: Scalar
    /// ‖Jᵀr‖∞ at the current parameters (half the largest entry of the cost's gradient 2Jᵀr).
    public let gradientNorm: Scalar
    /// maxⱼ |(Jᵀr)ⱼ| / (‖Jⱼ‖·‖r‖), the scale-free quantity tested against
    /// ``LevenbergMarquardt/gradientTolerance``.
    public let scaledGradientNorm: Scalar
    /// Whether this iteration's trial step was accepted (false for iteration 0).
    public let stepAccepted: Bool

    @inlinable
    package init(
        iteration: Int, cost: Scalar, parameters: Tensor<Scalar>, damping: Scalar, gradientNorm: Scalar,
        scaledGradientNorm: Scalar, stepAccepted: Bool
    ) {
        self.iteration = iteration
        self.cost = cost
        self.parameters = parameters
        self.damping = damping
        self.gradientNorm = gradientNorm
        self.scaledGradientNorm = scaledGradientNorm
        self.stepAccepted = stepAccepted
    }
}

/// Why a least-squares run stopped.
public enum LeastSquaresStatus: Sendable, Equatable, CustomStringConvertible {
    /// Converged: the largest cosine between the residuals and a Jacobian column fell to
    /// ``LevenbergMarquardt/gradientTolerance`` (or the residuals are exactly zero).
    case gradientTolerance
    /// Converged: the scaled step fell to ``LevenbergMarquardt/stepTolerance`` relative to the scaled
    /// parameters, or no step changes the parameters at `Scalar` precision.
    case stepTolerance
    /// Converged: the actual and predicted relative cost decreases fell to
    /// ``LevenbergMarquardt/costTolerance``.
    case costTolerance
    /// ``LevenbergMarquardt/maxIterations`` trial steps were taken without meeting a tolerance.
    case maxIterations
    /// The initial parameters contain NaN or infinity (the first at flat index `firstIndex`); nothing
    /// was evaluated.
    case nonFiniteInitialParameters(firstIndex: Int)
    /// `count` residuals at the initial parameters are NaN or infinite, the first at flat index
    /// `firstIndex`. Nothing else was evaluated.
    case nonFiniteInitialResiduals(count: Int, firstIndex: Int)
    /// The Jacobian at the initial parameters has NaN or infinity, first at ∂r[`residual`]/∂θ[`parameter`]
    /// (flat indices): a residual is not differentiable there.
    case nonFiniteInitialJacobian(residual: Int, parameter: Int)

    /// Whether one of the three convergence tests stopped the run.
    public var isConverged: Bool {
        switch self {
        case .gradientTolerance, .stepTolerance, .costTolerance: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .gradientTolerance: return "converged: the gradient is below its tolerance"
        case .stepTolerance: return "converged: the step is below its tolerance"
        case .costTolerance: return "converged: the cost decrease is below its tolerance"
        case .maxIterations: return "the iteration limit was reached before convergence"
        case .nonFiniteInitialParameters(let index):
            return "the initial parameters contain NaN or infinity (first at index \(index))"
        case .nonFiniteInitialResiduals(let count, let index):
            return "\(count) residual(s) at the initial parameters are NaN or infinite (first at index \(index))"
        case .nonFiniteInitialJacobian(let residual, let parameter):
            return
                "the Jacobian at the initial parameters is NaN or infinite (first ∂r[\(residual)]/∂θ[\(parameter)])"
        }
    }
}

/// A least-squares run that did not converge, from ``LeastSquaresResult/checked()``.
public enum LeastSquaresError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The run stopped with a status that is not convergence.
    case notConverged(LeastSquaresStatus)

    public var description: String {
        switch self {
        case .notConverged(let status): return "the least-squares fit did not converge: \(status)"
        }
    }
}

/// The outcome of ``LevenbergMarquardt/minimize(from:progress:residuals:)->LeastSquaresResult<Scalar>``.
public struct LeastSquaresResult<Scalar: TensorScalar>: Sendable {
    /// The best parameters found (the initial ones if the run could not start), in the shape of the
    /// initial parameters.
    public let parameters: Tensor<Scalar>
    /// Σᵢ rᵢ² at ``parameters``, summed in Double (twice SciPy's `cost`); NaN or infinity when the run
    /// could not start.
    public let cost: Scalar
    /// The residuals at ``parameters``, in the shape the residual function returned them.
    public let residuals: Tensor<Scalar>
    /// J = ∂r/∂θ at ``parameters``, shape `[m, n]` (residuals and parameters flattened row-major);
    /// nil when the run could not start.
    public let jacobian: Tensor<Scalar>?
    /// The approximate covariance of the parameters, (JᵀJ)⁻¹ · cost / (m − n), shape `[n, n]`: the
    /// usual asymptotic estimate for independent residuals of equal variance (what SciPy's
    /// `curve_fit` returns). Nil when m ≤ n or when JᵀJ is numerically singular (a parameter the
    /// residuals do not determine).
    public let covariance: Tensor<Scalar>?
    /// Why the run stopped.
    public let status: LeastSquaresStatus
    /// Trial steps taken (accepted and rejected).
    public let iterations: Int
    /// Calls of the residual function (the initial point plus one per trial step).
    public let residualEvaluations: Int
    /// Jacobians computed (one backward pass per residual each): the initial point and every trial
    /// point with a lower cost.
    public let jacobianEvaluations: Int
    /// Trial steps rejected because the residuals or the Jacobian there were NaN or infinite.
    public let nonFiniteEvaluations: Int

    @inlinable
    package init(
        parameters: Tensor<Scalar>, cost: Scalar, residuals: Tensor<Scalar>, jacobian: Tensor<Scalar>?,
        covariance: Tensor<Scalar>?, status: LeastSquaresStatus, iterations: Int, residualEvaluations: Int,
        jacobianEvaluations: Int, nonFiniteEvaluations: Int
    ) {
        self.parameters = parameters
        self.cost = cost
        self.residuals = residuals
        self.jacobian = jacobian
        self.covariance = covariance
        self.status = status
        self.iterations = iterations
        self.residualEvaluations = residualEvaluations
        self.jacobianEvaluations = jacobianEvaluations
        self.nonFiniteEvaluations = nonFiniteEvaluations
    }

    /// The standard errors of the parameters, √diag(``covariance``), in the shape of ``parameters``.
    public var standardErrors: Tensor<Scalar>? {
        guard let covariance else { return nil }
        let n = parameters.scalarCount
        let c = covariance.scalars
        return Tensor(shape: parameters.shape, scalars: (0..<n).map { c[$0 * n + $0].squareRoot() })
    }

    /// Whether a convergence test stopped the run (see ``LeastSquaresStatus/isConverged``).
    public var converged: Bool { status.isConverged }

    /// This result if the run converged.
    ///
    /// - Throws: ``LeastSquaresError/notConverged(_:)`` with the status (the result you called this on
    ///   still holds the best parameters found).
    public func checked() throws(LeastSquaresError) -> LeastSquaresResult {
        guard converged else { throw .notConverged(status) }
        return self
    }
}

/// The outcome of a ``LevenbergMarquardt`` run over named tensors (the `[String: Tensor]` overload of
/// `minimize(from:progress:residuals:)`): the flat result, and the parameters and standard errors
/// under their names.
public struct NamedLeastSquaresResult<Scalar: TensorScalar>: Sendable {
    /// The run over the flattened parameters (tensors in the order of ``names``).
    public let result: LeastSquaresResult<Scalar>
    /// The names, sorted: the order of the flat parameters.
    public let names: [String]
    /// The best parameters found, under their names and in their shapes.
    public let parameters: [String: Tensor<Scalar>]
    /// The standard errors of each tensor's entries, or nil (see ``LeastSquaresResult/covariance``).
    public let standardErrors: [String: Tensor<Scalar>]?

    @inlinable
    package init(
        result: LeastSquaresResult<Scalar>, names: [String], parameters: [String: Tensor<Scalar>],
        standardErrors: [String: Tensor<Scalar>]?
    ) {
        self.result = result
        self.names = names
        self.parameters = parameters
        self.standardErrors = standardErrors
    }

    /// Why the run stopped.
    public var status: LeastSquaresStatus { result.status }
    /// Σᵢ rᵢ² at the best parameters.
    public var cost: Scalar { result.cost }
    /// Whether a convergence test stopped the run.
    public var converged: Bool { result.converged }
}

// MARK: - Internals

/// One recorded evaluation of the residual function: its tape, the parameter variable and the
/// output, so that the Jacobian can be taken later from the same forward pass (or never, if the
/// trial point is rejected).
/// One evaluation of the residuals for ``LevenbergMarquardt``: their values (widened to Double)
/// and the tensor they came in.
@usableFromInline
package protocol LeastSquaresEvaluation<Scalar> {
    associatedtype Scalar: TensorScalar
    var values: [Double] { get }
    var output: Tensor<Scalar> { get }
}

/// Residuals given as a plain array, with the parameters they were computed at.
@usableFromInline
package struct PlainResiduals<Scalar: TensorScalar>: LeastSquaresEvaluation {
    @usableFromInline package let parameters: [Scalar]
    @usableFromInline package let values: [Double]

    @inlinable
    package init(parameters: [Scalar], values: [Scalar]) {
        self.parameters = parameters
        self.values = values.map { Double($0) }
    }

    @inlinable
    package var output: Tensor<Scalar> { Tensor(shape: [values.count], scalars: values.map { Scalar($0) }) }
}

@usableFromInline
package struct RecordedResiduals<Scalar: TensorScalar>: LeastSquaresEvaluation {
    @usableFromInline package let tape: Tape<Scalar>
    @usableFromInline package let variable: Tensor<Scalar>
    @usableFromInline package let output: Tensor<Scalar>
    /// The residuals flattened and widened to Double.
    @usableFromInline package let values: [Double]

    @inlinable
    package init(at parameters: Tensor<Scalar>, _ residuals: (Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows {
        let tape = Tape<Scalar>()
        let variable = tape.variable(parameters)
        let output = try residuals(variable)
        self.tape = tape
        self.variable = variable
        self.output = output
        values = output.doubles
    }

    /// J = ∂r/∂θ, `m × n` row-major in Double: one backward pass per residual, seeded with eᵢ.
    @inlinable
    package func jacobian() -> [Double] {
        let m = values.count
        let n = variable.scalarCount
        var rows: [Double] = []
        rows.reserveCapacity(m * n)
        var seed = Tensor<Scalar>.zeros(output.shape)
        for i in 0..<m {
            seed.withUnsafeMutableBufferPointer { $0[i] = 1 }
            let row = tape.pullback(of: output, seed: seed, withRespectTo: [variable])[0]
            row.withUnsafeBufferPointer { for value in $0 { rows.append(Double(value)) } }
            seed.withUnsafeMutableBufferPointer { $0[i] = 0 }
        }
        return rows
    }
}

/// The quantities of the normal equations at one parameter point, in Double.
@usableFromInline
package struct LeastSquaresPoint: Sendable {
    @usableFromInline package let residuals: [Double]
    @usableFromInline package let jacobian: [Double]
    /// Σ rᵢ².
    @usableFromInline package let cost: Double
    /// JᵀJ, n × n row-major.
    @usableFromInline package let jtj: [Double]
    /// Jᵀr.
    @usableFromInline package let jtr: [Double]
    /// ‖Jᵀr‖∞.
    @usableFromInline package let gradientNorm: Double
    /// maxⱼ |(Jᵀr)ⱼ| / (‖Jⱼ‖‖r‖), 0 when r = 0.
    @usableFromInline package let scaledGradientNorm: Double

    @usableFromInline
    package init(residuals: [Double], jacobian: [Double], parameters n: Int) {
        self.residuals = residuals
        self.jacobian = jacobian
        cost = DenseLinearAlgebra.sumOfSquares(residuals)
        (jtj, jtr) = DenseLinearAlgebra.normalEquations(jacobian: jacobian, residuals: residuals, parameters: n)
        gradientNorm = jtr.reduce(0) { Swift.max($0, Swift.abs($1)) }
        let residualNorm = cost.squareRoot()
        var scaled = 0.0
        if residualNorm > 0 {
            for j in 0..<n where jtj[j * n + j] > 0 {
                scaled = Swift.max(scaled, Swift.abs(jtr[j]) / (jtj[j * n + j].squareRoot() * residualNorm))
            }
        }
        scaledGradientNorm = scaled
    }

    /// (JᵀJ)⁻¹ · cost / (m − n), or nil when m ≤ n or JᵀJ is numerically singular. The inverse is
    /// taken of the matrix scaled to unit diagonal (Jacobi scaling), then scaled back.
    @usableFromInline
    package func covariance(parameters n: Int) -> [Double]? {
        let m = residuals.count
        guard m > n else { return nil }
        let diagonal = DenseLinearAlgebra.diagonal(jtj, order: n)
        guard diagonal.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        let s = diagonal.map { 1 / $0.squareRoot() }
        var scaled = jtj
        for i in 0..<n { for j in 0..<n { scaled[i * n + j] *= s[i] * s[j] } }
        guard let factor = CholeskyFactorization(scaled, order: n) else { return nil }
        var inverse = factor.inverse()
        let variance = cost / Double(m - n)
        for i in 0..<n { for j in 0..<n { inverse[i * n + j] *= s[i] * s[j] * variance } }
        return inverse
    }
}

/// The solution δ of (A + λD)δ = −g, computed in the scaled variables y = D^½δ from
/// (D^(−½) A D^(−½) + λI) y = −D^(−½) g, with what the stopping tests need.
@usableFromInline
package struct DampedStep: Sendable {
    /// δ.
    @usableFromInline package let delta: [Double]
    /// ‖D^½δ‖.
    @usableFromInline package let scaledNorm: Double
    /// L(0) − L(δ) = δᵀAδ + 2λδᵀDδ, the decrease of Σr² the linear model predicts.
    @usableFromInline package let predictedDecrease: Double

    /// Nil when the Cholesky factorization fails.
    @usableFromInline
    package init?(jtj: [Double], jtr: [Double], scaling d: [Double], damping lambda: Double) {
        let n = jtr.count
        let s = d.map { 1 / $0.squareRoot() }
        var matrix = jtj
        for i in 0..<n {
            for j in 0..<n { matrix[i * n + j] *= s[i] * s[j] }
            matrix[i * n + i] += lambda
        }
        guard let factor = CholeskyFactorization(matrix, order: n) else { return nil }
        let y = factor.solve((0..<n).map { -jtr[$0] * s[$0] })
        delta = (0..<n).map { y[$0] * s[$0] }
        var yy = 0.0
        for value in y { yy += value * value }
        scaledNorm = yy.squareRoot()
        // δᵀAδ = yᵀ(D^(−½)AD^(−½))y, accumulated from A and δ directly.
        var quadratic = 0.0
        for i in 0..<n {
            var row = 0.0
            for j in 0..<n { row += jtj[i * n + j] * delta[j] }
            quadratic += delta[i] * row
        }
        predictedDecrease = Swift.max(quadratic, 0) + 2 * lambda * yy
    }
}
