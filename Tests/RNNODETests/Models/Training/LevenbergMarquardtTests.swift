import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

// MARK: - Helpers

/// Checks |actual − expected| ≤ tolerance · |expected| entry by entry.
private func expectRelativelyClose(
    _ actual: [Double], _ expected: [Double], tolerance: Double, _ comment: Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, comment, sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        #expect(
            Swift.abs(a - e) <= tolerance * Swift.abs(e),
            "[\(index)] \(a) vs \(e): relative error \(Swift.abs(a - e) / Swift.abs(e)) > \(tolerance) \(comment.map { "\($0)" } ?? "")",
            sourceLocation: sourceLocation)
    }
}

/// The two scalar types, with the relative accuracy a fit in that type should reach against a
/// Double reference computed elsewhere.
private enum Precision {
    static func tolerance<T: TensorScalar>(_: T.Type, double: Double, float: Double) -> Double {
        T.self == Double.self ? double : float
    }
}

// MARK: - Reference data
//
// The exponential, badly scaled and ODE data sets below were generated, and their fits computed, by
// SciPy 1.17.1 with NumPy 2.4.6 (Python 3.11.7): `scipy.optimize.least_squares(method='lm', jac=<analytic>,
// xtol=ftol=gtol=1e-15)`, cost = Σr², covariance = inv(JᵀJ)·cost/(m − n) with the analytic J at the
// optimum (identical to `curve_fit`'s pcov to 1e-15). Noise: `numpy.random.default_rng(seed).normal`.

/// y = 2.5 e^(−1.3 t) + 0.5 + N(0, 0.05²), seed 20240601, t = linspace(0, 3.5, 15).
private enum ExponentialDecayData {
    static let t: [Double] = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5]
    static let y: [Double] = [
        3.0323953102086594, 2.3297844238241954, 1.772963411365498, 1.3840679514826355, 1.1740949622402681,
        1.0524521078201499, 0.92236436961144563, 0.80240734125261148, 0.70301216702811142, 0.71416346352874271,
        0.6585775103742938, 0.55902268923919818, 0.49750654655441912, 0.5183348972755315, 0.50541708284987297,
    ]
    static let optimum: [Double] = [2.497117700061207, 1.3016917714126977, 0.5136770438715369]
    static let cost = 0.02819435436401475
    static let standardErrors: [Double] = [0.043779976853212679, 0.055741682115695794, 0.025396007010115195]
}

/// y = 1.2 (1 − e^(−2.5e-4 x)) + N(0, 0.01²), seed 7, x = linspace(500, 12000, 14): parameters of
/// sizes 1 and 1e-4.
private enum BadlyScaledData {
    static let x: [Double] = [
        500, 1384.6153846153848, 2269.2307692307695, 3153.8461538461538, 4038.4615384615386, 4923.0769230769229,
        5807.6923076923076, 6692.3076923076924, 7576.9230769230771, 8461.538461538461, 9346.1538461538457,
        10230.76923076923, 11115.384615384615, 12000,
    ]
    static let y: [Double] = [
        0.14101601843206041, 0.35410307849021067, 0.51679855107789252, 0.64564181511526719, 0.75822238326368696,
        0.83960214602033834, 0.91965788620015398, 0.98819967154102561, 1.0145571239914668, 1.0490909697351571,
        1.0889044311028986, 1.1105888596844513, 1.1265219845889423, 1.1309508375114812,
    ]
    static let optimum: [Double] = [1.2015477687573322, 0.00024796632677299063]
    static let cost = 0.00053851128593913888
    static let standardErrors: [Double] = [0.0055919883489059649, 3.0720844518768309e-06]
}

/// NIST StRD nonlinear regression data set Misra1a, y = b₁(1 − e^(−b₂x)) (lower difficulty), with its
/// certified values (11 digits). SciPy 1.17.1 as above gives b = (238.94212917876141,
/// 0.00055015643180618304), cost 0.12455138894439845, standard errors (2.7070075241366474,
/// 7.2668688436186682e-06).
private enum Misra1aData {
    static let x: [Double] = [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0]
    static let y: [Double] = [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78]
    static let certified: [Double] = [2.3894212918e+02, 5.5015643181e-04]
    static let certifiedStandardErrors: [Double] = [2.7070075241e+00, 7.2668688436e-06]
    static let certifiedResidualSumOfSquares = 1.2455138894e-01
}

/// y' = −k y, y(0) = y₀ with k = 0.8, y₀ = 3, sampled at t = linspace(0.5, 5, 10) plus N(0, 0.02²),
/// seed 11. The reference fits the closed-form solution y₀ e^(−k t); θ = (k, y₀).
private enum DecayODEData {
    static let t: [Double] = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]
    static let y: [Double] = [
        2.0116439934519814, 1.375181843157864, 0.92807705730832479, 0.59548341244821279, 0.40004645948770917,
        0.26160617600756891, 0.19382471502709306, 0.12116532315418627, 0.096908879667008563, 0.018000420686720343,
    ]
    static let optimum: [Double] = [0.79983591649743457, 3.0199141056826502]
    static let cost = 0.0029719042065733171
    static let standardErrors: [Double] = [0.011740275389456628, 0.038575549228140611]
}

// MARK: - Residual functions

/// Rosenbrock's function as least squares: r = (10(θ₂ − θ₁²), 1 − θ₁), minimum 0 at (1, 1).
private func rosenbrockResiduals<T: TensorScalar>(_ theta: Tensor<T>) -> Tensor<T> {
    let (a, b) = (theta[0], theta[1])
    return Tensor(stacking: [(b - a * a) * 10, 1 - a])
}

private func exponentialDecayResiduals<T: TensorScalar>(_ theta: Tensor<T>) -> Tensor<T> {
    let t = Tensor(ExponentialDecayData.t.map { T($0) })
    let y = Tensor(ExponentialDecayData.y.map { T($0) })
    return theta[0] * exp(-theta[1] * t) + theta[2] - y
}

private func saturationResiduals<T: TensorScalar>(_ theta: Tensor<T>, x: [Double], y: [Double]) -> Tensor<T> {
    let x = Tensor(x.map { T($0) })
    return theta[0] * (1 - exp(-theta[1] * x)) - Tensor(y.map { T($0) })
}

/// y' = −k y from y(0) = y₀ through `solve` on a `Tensor` state, sampled at `DecayODEData.t`;
/// non-finite residuals when the solve fails, so that the optimizer rejects the step.
private func decayODEResiduals<T: TensorScalar>(
    _ theta: Tensor<T>, method: ButcherTableau, step: StepSizeControl<T>
) throws -> Tensor<T> {
    let times = DecayODEData.t.map { T($0) }
    let k = theta[0]
    let field = FieldClosure<Tensor<T>>(parameters: ["θ": theta]) { _, y in -k * y }
    let solution = try solve(
        field, initialState: theta.slice(alongAxis: 0, 1..<2), from: 0, to: times.last!, method: method, step: step,
        saveAt: .times(times))
    guard solution.succeeded else { return Tensor(repeating: .nan, shape: [times.count]) }
    return Tensor(concatenating: solution.states) - Tensor(DecayODEData.y.map { T($0) })
}

// MARK: - Tests

@Suite("Levenberg–Marquardt")
struct LevenbergMarquardtTests {
    // MARK: Linear least squares

    /// A straight line y = α + βx: the minimizer is the normal-equations solution β = Sxy/Sxx,
    /// α = ȳ − βx̄, with covariance s²·[[Σx²/(m Sxx), −x̄/Sxx], [−x̄/Sxx, 1/Sxx]].
    func linearFit<T: TensorScalar>(_: T.Type) {
        let x: [Double] = [0, 1, 2, 3, 4, 5, 6, 7]
        let y: [Double] = [1.1, 2.9, 5.2, 6.8, 9.1, 11.2, 12.8, 15.1]
        let m = Double(x.count)
        let (xBar, yBar) = (x.reduce(0, +) / m, y.reduce(0, +) / m)
        let sxx = x.reduce(0) { $0 + ($1 - xBar) * ($1 - xBar) }
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - xBar) * ($1.1 - yBar) }
        let beta = sxy / sxx
        let alpha = yBar - beta * xBar
        let rss = zip(x, y).reduce(0) { $0 + ($1.1 - alpha - beta * $1.0) * ($1.1 - alpha - beta * $1.0) }
        let s2 = rss / (m - 2)
        let sumX2 = x.reduce(0) { $0 + $1 * $1 }
        let expectedErrors = [(s2 * sumX2 / (m * sxx)).squareRoot(), (s2 / sxx).squareRoot()]

        let xs = Tensor(x.map { T($0) })
        let ys = Tensor(y.map { T($0) })
        let fit = LevenbergMarquardt<T>().minimize(from: Tensor([0, 0])) { theta in theta[0] + theta[1] * xs - ys }
        let tolerance = Precision.tolerance(T.self, double: 1e-10, float: 2e-6)
        #expect(fit.converged, "\(fit.status)")
        #expect(fit.iterations <= 6, "\(fit.iterations) iterations")
        expectRelativelyClose(fit.parameters.doubles, [alpha, beta], tolerance: tolerance)
        expectRelativelyClose([Double(fit.cost)], [rss], tolerance: Precision.tolerance(T.self, double: 1e-10, float: 1e-5))
        expectRelativelyClose(
            fit.standardErrors!.doubles, expectedErrors, tolerance: Precision.tolerance(T.self, double: 1e-10, float: 1e-5))
        #expect(fit.jacobian!.shape == [8, 2])
        expectRelativelyClose(fit.jacobian!.doubles, x.flatMap { [1, $0] }, tolerance: 0)
    }

    @Test func linearLeastSquaresDouble() { linearFit(Double.self) }
    @Test func linearLeastSquaresFloat() { linearFit(Float.self) }

    /// From the exact solution the run stops at once: r = 0, so the scaled gradient is 0.
    @Test func startingAtAnExactSolutionStopsImmediately() {
        let fit = LevenbergMarquardt<Double>().minimize(from: Tensor([1, 1]), residuals: rosenbrockResiduals)
        #expect(fit.status == .gradientTolerance)
        #expect(fit.iterations == 0 && fit.residualEvaluations == 1 && fit.jacobianEvaluations == 1)
        #expect(fit.cost == 0)
        #expect(fit.covariance == nil)  // m = n
    }

    // MARK: Nonlinear problems

    func rosenbrock<T: TensorScalar>(_: T.Type) {
        var reports: [LevenbergMarquardtProgress<T>] = []
        let fit = LevenbergMarquardt<T>().minimize(
            from: Tensor([-1.2, 1]), progress: { reports.append($0) }, residuals: { rosenbrockResiduals($0) })
        let tolerance = Precision.tolerance(T.self, double: 1e-10, float: 1e-6)
        #expect(fit.converged, "\(fit.status)")
        expectRelativelyClose(fit.parameters.doubles, [1, 1], tolerance: tolerance)
        #expect(fit.cost <= T(tolerance * tolerance))
        #expect(fit.iterations < 40, "\(fit.iterations) iterations")
        // One report per trial step plus the initial point; the cost never increases (except within
        // the cost tolerance, on a final tie broken by the gradient); the counts agree.
        #expect(reports.map(\.iteration) == Array(0...fit.iterations))
        let allowance = 1 + LevenbergMarquardt<T>.defaultCostTolerance
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.cost * allowance >= $1.cost })
        #expect(Swift.abs(Double(reports.first!.cost) - 24.2) < 1e-5)  // (−4.4)² + 2.2²
        let accepted = reports.filter(\.stepAccepted).count
        #expect(fit.residualEvaluations == fit.iterations + 1)
        #expect(fit.jacobianEvaluations >= accepted + 1 && fit.jacobianEvaluations <= accepted + 2)
        #expect(reports.last!.parameters == fit.parameters && reports.last!.cost == fit.cost)
    }

    @Test func rosenbrockDouble() { rosenbrock(Double.self) }
    @Test func rosenbrockFloat() { rosenbrock(Float.self) }

    func exponentialDecay<T: TensorScalar>(_: T.Type) {
        let fit = LevenbergMarquardt<T>().minimize(from: Tensor([1, 1, 0]), residuals: exponentialDecayResiduals)
        #expect(fit.converged, "\(fit.status)")
        expectRelativelyClose(
            fit.parameters.doubles, ExponentialDecayData.optimum,
            tolerance: Precision.tolerance(T.self, double: 1e-9, float: 2e-5))
        expectRelativelyClose(
            [Double(fit.cost)], [ExponentialDecayData.cost], tolerance: Precision.tolerance(T.self, double: 1e-12, float: 1e-5))
        expectRelativelyClose(
            fit.standardErrors!.doubles, ExponentialDecayData.standardErrors,
            tolerance: Precision.tolerance(T.self, double: 1e-8, float: 1e-4))
    }

    @Test func exponentialDecayAgainstSciPyDouble() { exponentialDecay(Double.self) }
    @Test func exponentialDecayAgainstSciPyFloat() { exponentialDecay(Float.self) }

    /// a (1 − e^(−k x)) with a ≈ 1.2 and k ≈ 2.5e-4: the diagonal scaling makes the tiny parameter
    /// converge as tightly as the large one.
    func badlyScaled<T: TensorScalar>(_: T.Type) {
        let fit = LevenbergMarquardt<T>().minimize(from: Tensor([1, 1e-4])) {
            saturationResiduals($0, x: BadlyScaledData.x, y: BadlyScaledData.y)
        }
        #expect(fit.converged, "\(fit.status)")
        expectRelativelyClose(
            fit.parameters.doubles, BadlyScaledData.optimum, tolerance: Precision.tolerance(T.self, double: 1e-9, float: 2e-5))
        expectRelativelyClose(
            [Double(fit.cost)], [BadlyScaledData.cost], tolerance: Precision.tolerance(T.self, double: 1e-12, float: 1e-5))
        expectRelativelyClose(
            fit.standardErrors!.doubles, BadlyScaledData.standardErrors,
            tolerance: Precision.tolerance(T.self, double: 1e-8, float: 1e-4))
    }

    @Test func badlyScaledParametersAgainstSciPyDouble() { badlyScaled(Double.self) }
    @Test func badlyScaledParametersAgainstSciPyFloat() { badlyScaled(Float.self) }

    /// NIST's Misra1a from its first starting point (500, 1e-4): b₂ is 5.5e-4 and b₁ is 239.
    @Test func misra1aAgainstNISTCertifiedValues() throws {
        let fit = try LevenbergMarquardt<Double>().minimize(from: Tensor([500, 1e-4])) {
            saturationResiduals($0, x: Misra1aData.x, y: Misra1aData.y)
        }.checked()
        expectRelativelyClose(fit.parameters.doubles, Misra1aData.certified, tolerance: 1e-10)
        expectRelativelyClose([Double(fit.cost)], [Misra1aData.certifiedResidualSumOfSquares], tolerance: 1e-10)
        expectRelativelyClose(fit.standardErrors!.doubles, Misra1aData.certifiedStandardErrors, tolerance: 1e-10)
        // And SciPy's 17 digits.
        expectRelativelyClose(fit.parameters.doubles, [238.94212917876141, 0.00055015643180618304], tolerance: 1e-9)
    }

    // MARK: Non-finite values

    /// r = log(θ₁) + θ₂ tᵢ − yᵢ with exact data for θ = (2, 0.5), from θ₁ = 100: the first Gauss–Newton
    /// step lands at θ₁ < 0 where log is NaN. Such steps are rejected and the damping grows.
    func nanRegion<T: TensorScalar>(_: T.Type) {
        let t: [Double] = [0, 0.5, 1, 1.5, 2, 2.5, 3]
        let y = t.map { Double.log(2) + 0.5 * $0 }
        let ts = Tensor(t.map { T($0) })
        let ys = Tensor(y.map { T($0) })
        var sawNaNStep = false
        let fit = LevenbergMarquardt<T>().minimize(
            from: Tensor([100, 0]),
            progress: { report in if report.iteration > 0 && !report.stepAccepted { sawNaNStep = true } },
            residuals: { theta in log(theta[0]) + theta[1] * ts - ys })
        #expect(fit.converged, "\(fit.status)")
        #expect(fit.nonFiniteEvaluations >= 1)
        #expect(sawNaNStep)
        #expect(fit.cost.isFinite && fit.residuals.isFinite)
        expectRelativelyClose(
            fit.parameters.doubles, [2, 0.5], tolerance: Precision.tolerance(T.self, double: 1e-10, float: 1e-5))
    }

    @Test func nonFiniteTrialStepsAreRejectedDouble() { nanRegion(Double.self) }
    @Test func nonFiniteTrialStepsAreRejectedFloat() { nanRegion(Float.self) }

    /// Residuals defined only at the starting point: every trial is rejected, the damping grows
    /// until no step is left (even with the step test disabled), and the run ends.
    @Test func everyTrialPointNonFinite() {
        let start = Tensor<Double>([0, 1])
        let fit = LevenbergMarquardt<Double>(maxIterations: 1000, stepTolerance: 0).minimize(from: start) { theta in
            theta.scalars == start.scalars ? theta * 2 - Tensor([1, 3]) : Tensor([.nan, 0])
        }
        #expect(fit.status == .stepTolerance)
        #expect(fit.iterations < 1000 && fit.nonFiniteEvaluations == fit.iterations)
        #expect(fit.parameters == start && fit.cost == 2)
    }

    @Test func nonFiniteInitialResidualsEndTheRun() {
        let fit = LevenbergMarquardt<Double>().minimize(from: Tensor([1, -1, 2])) { theta in
            Tensor(concatenating: [theta.slice(alongAxis: 0, 0..<1), log(theta.slice(alongAxis: 0, 1..<3)), log(theta)])
        }
        #expect(fit.status == .nonFiniteInitialResiduals(count: 2, firstIndex: 1))
        #expect(!fit.converged)
        #expect(fit.parameters == Tensor([1, -1, 2]))
        #expect(fit.residuals.shape == [6] && !fit.residuals.isFinite)
        #expect(fit.iterations == 0 && fit.residualEvaluations == 1 && fit.jacobianEvaluations == 0)
        #expect(fit.jacobian == nil && fit.covariance == nil && fit.standardErrors == nil)
        #expect(throws: LeastSquaresError.notConverged(.nonFiniteInitialResiduals(count: 2, firstIndex: 1))) {
            try fit.checked()
        }
    }

    @Test func nonFiniteInitialParametersEndTheRun() {
        var calls = 0
        let fit = LevenbergMarquardt<Float>().minimize(from: Tensor([1, .infinity])) { theta in
            calls += 1
            return theta
        }
        #expect(fit.status == .nonFiniteInitialParameters(firstIndex: 1))
        #expect(calls == 0 && fit.residualEvaluations == 0)
    }

    /// √θ − 1 at θ = 0 is finite but its derivative is not: ∂r₁/∂θ₁ = 1/(2√0). (Entries with a zero
    /// cotangent stay 0, so row r₀ is finite.)
    @Test func nonFiniteInitialJacobianEndsTheRun() {
        let fit = LevenbergMarquardt<Double>().minimize(from: Tensor([3, 0])) { theta in sqrt(theta) - 1 }
        #expect(fit.status == .nonFiniteInitialJacobian(residual: 1, parameter: 1))
        #expect(fit.residualEvaluations == 1 && fit.jacobianEvaluations == 1)
    }

    @Test func maxIterationsIsReported() {
        let fit = LevenbergMarquardt<Double>(maxIterations: 3).minimize(from: Tensor([-1.2, 1]), residuals: rosenbrockResiduals)
        #expect(fit.status == .maxIterations)
        #expect(!fit.converged)
        #expect(fit.iterations == 3 && fit.residualEvaluations == 4)
        #expect(fit.cost < 24.2)  // better than the start, Σr² = 4.4² + 2.2²
        #expect(throws: LeastSquaresError.notConverged(.maxIterations)) { try fit.checked() }

        let none = LevenbergMarquardt<Double>(maxIterations: 0).minimize(from: Tensor([-1.2, 1]), residuals: rosenbrockResiduals)
        #expect(none.status == .maxIterations && none.iterations == 0 && none.parameters == Tensor([-1.2, 1]))
        #expect(Swift.abs(none.cost - 24.2) < 1e-12)
    }

    /// A parameter the residuals ignore: its column of J is zero, it never moves, and the covariance
    /// does not exist.
    @Test func undeterminedParameterHasNoCovariance() {
        let fit = LevenbergMarquardt<Double>().minimize(from: Tensor([0, 7])) { theta in
            theta[0] * Tensor([1, 2, 3]) - Tensor([2, 4.1, 5.9])
        }
        #expect(fit.converged, "\(fit.status)")
        #expect(fit.parameters.scalars[1] == 7)
        #expect(Swift.abs(fit.parameters.scalars[0] - (2 + 8.2 + 17.7) / 14) < 1e-13)
        #expect(fit.covariance == nil && fit.standardErrors == nil)
    }

    /// A residual function that throws ends the run with its error.
    @Test func thrownErrorsPropagate() {
        struct Boom: Error, Equatable {}
        var calls = 0
        #expect(throws: Boom()) {
            _ = try LevenbergMarquardt<Double>().minimize(from: Tensor([-1.2, 1])) { theta in
                calls += 1
                if calls == 3 { throw Boom() }
                return rosenbrockResiduals(theta)
            }
        }
        #expect(calls == 3)
    }

    // MARK: Fitting an ODE

    /// Recover k and y₀ of y' = −k y from 10 noisy samples, through adaptive Dormand–Prince on a
    /// `Tensor<Double>` state; the closed-form fit by SciPy is the reference.
    @Test func decayODEThroughSolveDouble() throws {
        let fit = try LevenbergMarquardt<Double>().minimize(from: Tensor([0.3, 1])) { theta in
            try decayODEResiduals(theta, method: .dopri5, step: .adaptive(rtol: 1e-12, atol: 1e-12))
        }.checked()
        expectRelativelyClose(fit.parameters.doubles, DecayODEData.optimum, tolerance: 1e-8)
        expectRelativelyClose([fit.cost], [DecayODEData.cost], tolerance: 1e-8)
        expectRelativelyClose(fit.standardErrors!.doubles, DecayODEData.standardErrors, tolerance: 1e-6)
        #expect(fit.residuals.shape == [10])
    }

    /// The same fit in Float with fixed-step RK4 (global error ~1e-9, far below Float's rounding).
    @Test func decayODEThroughSolveFloat() throws {
        let fit = try LevenbergMarquardt<Float>().minimize(from: Tensor([0.3, 1])) { theta in
            try decayODEResiduals(theta, method: .rk4, step: .fixed(0.01))
        }.checked()
        expectRelativelyClose(fit.parameters.doubles, DecayODEData.optimum, tolerance: 2e-5)
        expectRelativelyClose([Double(fit.cost)], [DecayODEData.cost], tolerance: 1e-4)
        expectRelativelyClose(fit.standardErrors!.doubles, DecayODEData.standardErrors, tolerance: 1e-3)
    }

    // MARK: Documentation examples

    /// The example in `LevenbergMarquardt`'s documentation comment.
    @Test func typeDocumentationExample() {
        let ts: [Double] = [0.5, 1, 1.5, 2, 2.5, 3]
        let ys: [Double] = [2.01, 1.38, 0.93, 0.60, 0.40, 0.26]
        let fit = LevenbergMarquardt<Double>().minimize(from: Tensor([0.3, 1])) { theta in
            let field = FieldClosure<Tensor<Double>> { _, y in -theta[0] * y }
            guard
                let s = try? solve(
                    field, initialState: theta.slice(alongAxis: 0, 1..<2), from: 0, to: 3,
                    step: .adaptive(rtol: 1e-10, atol: 1e-12), saveAt: .times(ts)),
                s.succeeded
            else { return Tensor(repeating: .nan, shape: [ts.count]) }  // rejects this trial step
            return Tensor(concatenating: s.states) - Tensor(ys)
        }
        #expect(fit.converged, "\(fit.status)")
        let (k, y0) = (fit.parameters.scalars[0], fit.parameters.scalars[1])
        let (dk, dy0) = (fit.standardErrors!.scalars[0], fit.standardErrors!.scalars[1])
        #expect(Swift.abs(k - 0.80) < 0.005 && Swift.abs(y0 - 3.0) < 0.02, "\(fit.parameters)")
        #expect(dk > 0.002 && dk < 0.02 && dy0 > 0.005 && dy0 < 0.05, "\(fit.standardErrors!)")
    }

    // MARK: Named parameters

    @Test func namedTensors() {
        let x = Tensor<Double>([[0, 1], [1, 0], [1, 1], [2, 1], [0, 3]])
        let truth = Tensor<Double>([[1.5], [-0.5]])
        let y = matmul(x, truth) + 0.25
        let fit = LevenbergMarquardt<Double>().minimize(from: ["weights": Tensor.zeros([2, 1]), "bias": Tensor(0)]) { p in
            (matmul(x, p["weights"]!) + p["bias"]! - y).flattened()
        }
        #expect(fit.converged, "\(fit.status)")
        #expect(fit.names == ["bias", "weights"])
        #expect(fit.parameters["weights"]!.shape == [2, 1] && fit.parameters["bias"]!.shape == [])
        expectClose(fit.parameters["weights"]!.scalars, truth.scalars, tolerance: 1e-10)
        expectClose(fit.parameters["bias"]!.scalars, [0.25], tolerance: 1e-10)
        #expect(fit.result.parameters.shape == [3])
        #expect(fit.standardErrors!["weights"]!.shape == [2, 1])
    }

    /// The example in the named overload's documentation comment.
    @Test func namedDocumentationExample() {
        let x = Tensor<Double>([[1, 2], [2, 1], [3, 3], [0, 1]])
        let y = Tensor<Double>([5.1, 3.9, 9.2, 2.1])
        let fit = LevenbergMarquardt<Double>().minimize(from: ["w": Tensor([1, 1]), "b": Tensor(0)]) { p in
            matmul(x, p["w"]!) + p["b"]! - y
        }
        #expect(fit.converged && fit.parameters["w"]!.shape == [2] && fit.standardErrors?["b"] != nil)
    }

    // MARK: Settings

    @Test func defaultTolerancesDependOnThePrecision() {
        let double = LevenbergMarquardt<Double>()
        #expect(double.gradientTolerance == 1e-10 && double.stepTolerance == 1e-10 && double.costTolerance == 1e-12)
        let float = LevenbergMarquardt<Float>()
        #expect(float.gradientTolerance == 1e-5 && float.stepTolerance == 1e-6 && float.costTolerance == 1e-6)
        #expect(double.maxIterations == 100 && double.initialDamping == 1e-3)
    }
}

@Suite("Dense linear algebra")
struct DenseLinearAlgebraTests {
    @Test func choleskySolvesAndInverts() throws {
        // A = L Lᵀ with L = [[2, 0, 0], [1, 3, 0], [-1, 0.5, 1]].
        let a: [Double] = [4, 2, -2, 2, 10, 0.5, -2, 0.5, 2.25]
        let factor = try #require(CholeskyFactorization(a, order: 3))
        expectClose(factor.lower, [2, 0, 0, 1, 3, 0, -1, 0.5, 1], tolerance: 1e-15)
        let x: [Double] = [1, -2, 0.5]
        let b = (0..<3).map { i in (0..<3).reduce(0.0) { $0 + a[i * 3 + $1] * x[$1] } }
        expectClose(factor.solve(b), x, tolerance: 1e-14)
        let inverse = factor.inverse()
        for i in 0..<3 {
            for j in 0..<3 {
                let product = (0..<3).reduce(0.0) { $0 + a[i * 3 + $1] * inverse[$1 * 3 + j] }
                #expect(Swift.abs(product - (i == j ? 1 : 0)) < 1e-14)
            }
        }
    }

    @Test func choleskyRejectsIndefiniteAndSingularMatrices() {
        #expect(CholeskyFactorization([1, 2, 2, 1], order: 2) == nil)  // eigenvalues 3, −1
        #expect(CholeskyFactorization([1, 1, 1, 1], order: 2) == nil)  // singular
        #expect(CholeskyFactorization([1, 0, 0, 0], order: 2) == nil)
        #expect(CholeskyFactorization([1, 0, 0, .nan], order: 2) == nil)
        #expect(CholeskyFactorization([1, 1, 1, 1 + 2.3e-16], order: 2) == nil)  // pivot 1 ulp, below 2ε
        #expect(CholeskyFactorization([1, 1, 1, 1 + 1e-12], order: 2) != nil)
        #expect(CholeskyFactorization([], order: 0) != nil)
    }

    @Test func normalEquations() {
        // J = [[1, 2], [3, 4], [5, 6]], r = (1, −1, 2).
        let (jtj, jtr) = DenseLinearAlgebra.normalEquations(jacobian: [1, 2, 3, 4, 5, 6], residuals: [1, -1, 2], parameters: 2)
        #expect(jtj == [35, 44, 44, 56])
        #expect(jtr == [8, 10])
    }
}
