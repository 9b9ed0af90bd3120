import Testing

@testable import RNNODEIntegrators
@testable import RNNODETensors

// DOP853, Vern7 and Vern9: their tableaus (with dense-output stages and, for DOP853, a second embedded
// method), their convergence orders, their dense output and their cost in adaptive solves.

/// The restricted three-body problem of Arenstorf (Hairer–Nørsett–Wanner I, §II.0): a periodic orbit
/// of period `period`, so the state after one period is the initial state.
struct Arenstorf: VectorField {
    static let mu = 0.012277471
    static let period = 17.0652165601579625588917206249
    static let initial = SIMD4<Double>(0.994, 0, 0, -2.00158510637908252240537862224)

    func callAsFunction(_ t: Double, _ u: SIMD4<Double>) -> SIMD4<Double> {
        let mu = Arenstorf.mu
        let nu = 1 - mu
        let (x, y, vx, vy) = (u[0], u[1], u[2], u[3])
        let d1 = ((x + mu) * (x + mu) + y * y).squareRoot()
        let d2 = ((x - nu) * (x - nu) + y * y).squareRoot()
        let r1 = d1 * d1 * d1
        let r2 = d2 * d2 * d2
        return SIMD4(
            vx, vy, x + 2 * vy - nu * (x + mu) / r1 - mu * (x - nu) / r2, y - 2 * vx - nu * y / r1 - mu * y / r2)
    }
}

/// The method whose weights are `weights` on `method`'s stages (an embedded method on its own).
func embeddedMethod(_ method: ButcherTableau, weights: [Double], order: Int) throws -> ButcherTableau {
    try ButcherTableau(name: method.name + "-embedded", order: order, a: method.a, b: weights, c: method.c)
}

/// The largest error at the steps of a fixed-step solve of the Riccati problem over [0, 2] with
/// `steps` steps (the largest over the trajectory: the final error alone can cancel at some counts).
func riccatiMaxError(_ method: ButcherTableau, steps: Int) throws -> Double {
    let y0 = 0.25
    let solution = try solve(
        Riccati<Double>(), initialState: y0, from: 0, to: 2, method: method, step: .fixed(2 / Double(steps)),
        saveAt: .steps)
    return zip(solution.times, solution.states).map { Swift.abs($1 - Riccati<Double>.exact($0, y0)) }.max()!
}

/// The largest error at the steps of a fixed-step solve of the oscillator over [0, 5], and (with
/// `dense`) of the dense output at θ = 0.2, 0.5, 0.85 within every step.
func oscillatorMaxError(_ method: ButcherTableau, steps: Int, dense: Bool = false) throws -> Double {
    let dt = 5 / Double(steps)
    let integrator = try Integrator(
        Oscillator<Double>(), initialState: SIMD2(1, 0), time: 0, method: method, step: .fixed(dt))
    var worst = 0.0
    func record(_ y: SIMD2<Double>, _ t: Double) {
        let e = y - Oscillator<Double>.exact(t)
        worst = Swift.max(worst, Swift.max(Swift.abs(e.x), Swift.abs(e.y)))
    }
    for k in 1...steps {
        let start = integrator.time
        try integrator.advance(to: Double(k) * dt)
        if dense {
            for theta in [0.2, 0.5, 0.85] { record(integrator.interpolate(at: start + theta * dt), start + theta * dt) }
        } else {
            record(integrator.state, integrator.time)
        }
    }
    return worst
}

/// The largest error of the dense output at θ = 0.2, 0.5, 0.85 within every step of a fixed-step
/// integration of the Riccati problem over [0, 2] with `steps` steps.
func riccatiDenseOutputError<T: ScalarState>(_ method: ButcherTableau, steps: Int, _: T.Type) throws -> Double {
    let y0: T = 0.25
    let dt = 2 / T(steps)
    let integrator = try Integrator(Riccati<T>(), initialState: y0, time: 0, method: method, step: .fixed(dt))
    var worst = 0.0
    for k in 1...steps {
        let start = integrator.time
        try integrator.advance(to: T(k) * dt)
        for theta: T in [0.2, 0.5, 0.85] {
            let t = start + theta * dt
            worst = Swift.max(worst, Double(Swift.abs(integrator.interpolate(at: t) - Riccati<T>.exact(t, y0))))
        }
    }
    return worst
}

@Suite("High-order methods: DOP853, Vern7 and Vern9")
struct HighOrderMethodsTests {
    @Test func tableausValidate() throws {
        let dop853 = ButcherTableau.dop853
        #expect(dop853.stages == 12 && dop853.order == 8 && !dop853.isFSAL && dop853.isAdaptive)
        #expect(dop853.embeddedOrder == 5 && dop853.secondEmbeddedOrder == 3)
        #expect(dop853.interpolantOrder == 7 && dop853.denseStages.count == 4 && dop853.interpolant?.count == 16)
        let vern7 = ButcherTableau.vern7
        #expect(vern7.stages == 10 && vern7.order == 7 && !vern7.isFSAL && vern7.isAdaptive)
        #expect(vern7.embeddedOrder == 6 && vern7.secondErrorWeights == nil)
        #expect(vern7.interpolantOrder == 6 && vern7.denseStages.count == 6 && vern7.interpolant?.count == 16)
        let vern9 = ButcherTableau.vern9
        #expect(vern9.stages == 16 && vern9.order == 9 && !vern9.isFSAL && vern9.embeddedOrder == 8)
        #expect(vern9.interpolantOrder == 9 && vern9.denseStages.count == 10 && vern9.interpolant?.count == 26)
        #expect(ButcherTableau.builtIn["dop853"] == dop853 && ButcherTableau.builtIn["vern7"] == vern7)
        #expect(ButcherTableau.builtIn["vern9"] == vern9)
        #expect(dop853.description.contains("4 extra stages") && dop853.description.contains("second estimate"))
        // Compiled: the error order of DOP853's combined estimate is 8, and the first dense stage of
        // each is f(t + h, y₁).
        let compiled = CompiledTableau<Double>.shared(dop853)
        #expect(compiled.errorOrder == 8 && compiled.secondErrorCount == 8 && compiled.denseStageCount == 4)
        #expect(compiled.denseIsEndSlope[0] && !compiled.denseIsEndSlope[1])
        #expect(CompiledTableau<Float>.shared(vern7).errorOrder == 7)
        #expect(CompiledTableau<Float>.shared(vern7).denseIsEndSlope[0])
    }

    /// Re-validates a tableau from its data (all order conditions: 200 trees up to order 8 for
    /// DOP853) and returns the time it took.
    func validationTime(_ method: ButcherTableau) throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        _ = try ButcherTableau(
            name: method.name, order: method.order, a: method.a, b: method.b, c: method.c,
            embeddedWeights: zip(method.b, method.errorWeights!).map { $0 - $1 }, embeddedOrder: method.embeddedOrder,
            interpolant: method.interpolant, interpolantOrder: method.interpolantOrder,
            denseStages: method.denseStages, denseNodes: method.denseNodes,
            secondEmbeddedWeights: method.secondErrorWeights.map { zip(method.b, $0).map { $0 - $1 } },
            secondEmbeddedOrder: method.secondEmbeddedOrder)
        return clock.now - start
    }

    @Test func validationIsFast() throws {
        let dop853 = try validationTime(.dop853)
        let vern7 = try validationTime(.vern7)
        let vern9 = try validationTime(.vern9)
        print("validation: DOP853 \(dop853), Vern7 \(vern7), Vern9 \(vern9)")
        // Well under 50 ms optimized; a debug build is several times slower.
        #expect(dop853 < .milliseconds(500) && vern7 < .milliseconds(500) && vern9 < .seconds(1))
    }

    @Test func aMistypedCoefficientIsCaught() {
        let dop853 = ButcherTableau.dop853
        func rebuilt(
            interpolant: [[Double]]? = nil, denseStages: [[Double]]? = nil, second: [Double]? = nil
        ) throws(TableauError) -> ButcherTableau {
            try ButcherTableau(
                name: "DOP853", order: 8, a: dop853.a, b: dop853.b, c: dop853.c,
                embeddedWeights: zip(dop853.b, dop853.errorWeights!).map { $0 - $1 }, embeddedOrder: 5,
                interpolant: interpolant ?? dop853.interpolant, interpolantOrder: 7,
                denseStages: denseStages ?? dop853.denseStages, denseNodes: dop853.denseNodes,
                secondEmbeddedWeights: second ?? zip(dop853.b, dop853.secondErrorWeights!).map { $0 - $1 },
                secondEmbeddedOrder: 3)
        }
        #expect(throws: Never.self) { try rebuilt() }
        // A dense-output stage: its row no longer sums to its node.
        var stages = dop853.denseStages
        stages[2][0] += 1e-9
        #expect(throws: TableauError.self) { try rebuilt(denseStages: stages) }
        // A dense-output stage with its node kept: an interpolant condition fails.
        stages = dop853.denseStages
        stages[2][0] += 1e-6
        stages[2][5] -= 1e-6
        do {
            _ = try rebuilt(denseStages: stages)
            Issue.record("a perturbed dense-output stage was accepted")
        } catch {
            guard case .orderCondition(_, let weights, _, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(weights == "b(θ)")
        }
        // The second embedded method.
        var second = zip(dop853.b, dop853.secondErrorWeights!).map { $0 - $1 }
        second[0] += 1e-6
        second[8] -= 1e-6
        do {
            _ = try rebuilt(second: second)
            Issue.record("a perturbed second embedded method was accepted")
        } catch {
            guard case .orderCondition(_, let weights, _, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(weights == "b̂₂")
        }
        // An interpolant row for a dense-output stage.
        var p = dop853.interpolant!
        p[14][3] += 1e-6
        p[14][4] -= 1e-6
        #expect(throws: TableauError.self) { try rebuilt(interpolant: p) }
        // Shapes: dense-output stages need an interpolant over all stages, and explicit rows.
        #expect(throws: TableauError.self) {
            try ButcherTableau(name: "x", order: 1, a: [[0]], b: [1], denseStages: [[1, 0]], denseNodes: [1])
        }
        #expect(throws: TableauError.self) {
            try ButcherTableau(
                name: "x", order: 1, a: [[0]], b: [1], interpolant: [[1], [0]], interpolantOrder: 1,
                denseStages: [[0, 1]])
        }
        #expect(throws: Never.self) {
            try ButcherTableau(
                name: "x", order: 1, a: [[0]], b: [1], interpolant: [[1], [0]], interpolantOrder: 1,
                denseStages: [[1, 0]])
        }
    }

    /// Step counts for the Riccati problem over [0, 2] for a method of order `order`: errors far above
    /// rounding (chosen from scans of the error against the step count).
    static func counts(order: Int) -> [Int] {
        order >= 9 ? [3, 4, 5, 6] : order >= 7 ? [4, 5, 6, 7, 8] : order >= 5 ? [8, 10, 12, 16, 20] : [16, 24, 32, 48, 64]
    }

    /// Step counts for the oscillator over [0, 5] for the methods of a pair of order `order`: errors
    /// from 1e-4 down to above 1e-12.
    static func oscillatorCounts(order: Int) -> [Int] {
        order >= 9 ? [6, 8, 10, 12, 16] : [10, 12, 16, 20, 24]
    }

    // Two problems: the oscillator, linear, where the fitted slopes are the orders to within 0.2
    // (DOP853, Vern7); and the Riccati problem, nonlinear and time-dependent (every order condition
    // matters). On the latter the high-order pairs, tuned to make their order p + 1 error terms
    // small, show slopes between p and p + 1 over the step sizes Double resolves (Vern7: about 8.4),
    // so that check is one-sided; likewise Vern9 on both problems (9.6 and 9.2 for order 9).
    @Test(arguments: ["dop853", "vern7", "vern9"])
    func orderOfTheMethodAndOfItsEmbeddedMethods(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        var methods = [(method, method.order)]
        let bHat = zip(method.b, method.errorWeights!).map { $0 - $1 }
        methods.append((try embeddedMethod(method, weights: bHat, order: method.embeddedOrder), method.embeddedOrder))
        if let second = method.secondErrorWeights {
            let weights = zip(method.b, second).map { $0 - $1 }
            methods.append((try embeddedMethod(method, weights: weights, order: method.secondEmbeddedOrder), 3))
        }
        for (tableau, order) in methods {
            let oscillatorCounts = Self.oscillatorCounts(order: method.order)
            let linear = try oscillatorCounts.map { try oscillatorMaxError(tableau, steps: $0) }
            let linearSlope = fittedSlope(oscillatorCounts.map { 5 / Double($0) }, linear)
            #expect(linear.allSatisfy { $0 > 1e-13 }, "\(tableau.name): \(linear)")
            if method.order < 9 {
                #expect(Swift.abs(linearSlope - Double(order)) < 0.3, "\(tableau.name): slope \(linearSlope), \(linear)")
            } else {
                #expect(linearSlope > Double(order) - 0.35, "\(tableau.name): slope \(linearSlope), \(linear)")
            }
            let counts = Self.counts(order: method.order >= 9 ? 9 : order)
            let errors = try counts.map { try riccatiMaxError(tableau, steps: $0) }
            let slope = fittedSlope(counts.map { 2 / Double($0) }, errors)
            print("\(tableau.name) order \(order): slopes \(linearSlope) (oscillator), \(slope) (Riccati \(errors))")
            #expect(errors.allSatisfy { $0 > 1e-13 }, "\(tableau.name): \(errors)")
            #expect(slope > Double(order) - 0.35, "\(tableau.name): slope \(slope), errors \(errors)")
        }
    }

    @Test(arguments: ["dop853", "vern7", "vern9"])
    func orderOfTheDenseOutput(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        // The global error of the interpolated values: O(hᵖ) from the steps plus O(h^(q+1)) from the
        // interpolant: 8 for DOP853 (p = 8, q = 7), 7 for Vern7 (p = 7, q = 6).
        let expected = Swift.min(method.order, method.interpolantOrder + 1)
        let oscillatorCounts = Self.oscillatorCounts(order: method.order)
        let linear = try oscillatorCounts.map { try oscillatorMaxError(method, steps: $0, dense: true) }
        let linearSlope = fittedSlope(oscillatorCounts.map { 5 / Double($0) }, linear)
        #expect(linear.allSatisfy { $0 > 1e-13 }, "\(name): \(linear)")
        if method.order < 9 {
            #expect(Swift.abs(linearSlope - Double(expected)) < 0.3, "\(name): slope \(linearSlope), \(linear)")
        } else {
            #expect(linearSlope > Double(expected) - 0.35, "\(name): slope \(linearSlope), \(linear)")
        }
        let counts = Self.counts(order: expected)
        let errors = try counts.map { try riccatiDenseOutputError(method, steps: $0, Double.self) }
        let slope = fittedSlope(counts.map { 2 / Double($0) }, errors)
        print("\(name) dense output: slopes \(linearSlope) (oscillator), \(slope) (Riccati \(errors))")
        #expect(errors.allSatisfy { $0 > 1e-13 }, "\(name): \(errors)")
        #expect(slope > Double(expected) - 0.35, "\(name): slope \(slope), errors \(errors)")
        // Float: the same interpolant, down to Float's rounding.
        let floatError = try riccatiDenseOutputError(method, steps: 8, Float.self)
        #expect(floatError < 1e-5, "\(name) in Float: \(floatError)")
    }

    @Test(arguments: ["dop853", "vern7", "vern9"])
    func floatSolvesAgreeWithTheClosedForm(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let error = try riccatiError(method, steps: 16, Float.self)
        #expect(error < 1e-5, "\(name): \(error)")
        let adaptive = try solve(
            Oscillator<Float>(), initialState: SIMD2(1, 0), from: 0, to: 5, method: method,
            step: .adaptive(rtol: 1e-6, atol: 1e-6), saveAt: .final)
        let e = adaptive.finalState - Oscillator<Float>.exact(5)
        #expect(Swift.max(Swift.abs(e.x), Swift.abs(e.y)) < 1e-4, "\(name): \(e)")
    }

    @Test func adaptiveArenstorfOrbitWithFewerEvaluationsThanDopri5() throws {
        var report: [String] = []
        for tolerance in [1e-10, 1e-12] {
            var evaluations: [String: Int] = [:]
            for method in [ButcherTableau.dopri5, .vern7, .dop853, .vern9] {
                let solution = try solve(
                    Arenstorf(), initialState: Arenstorf.initial, from: 0, to: Arenstorf.period, method: method,
                    step: .adaptive(rtol: tolerance, atol: tolerance), saveAt: .final
                ).checked()
                let e = solution.finalState - Arenstorf.initial
                let error = Swift.max(Swift.abs(e[0]), Swift.abs(e[1]))
                evaluations[method.name] = solution.statistics.evaluations
                report.append(
                    "\(method.name) tol \(tolerance): position error \(error), \(solution.statistics)")
                // The orbit is sensitive (errors grow by about 10⁴ over a period).
                #expect(error < tolerance * 1e5, "\(method.name) at \(tolerance): \(error)")
            }
            #expect(evaluations["DOP853"]! < evaluations["Dopri5"]!, "\(evaluations)")
            #expect(evaluations["Vern7"]! < evaluations["Dopri5"]!, "\(evaluations)")
            #expect(evaluations["Vern9"]! < evaluations["Dopri5"]!, "\(evaluations)")
        }
        print(report.joined(separator: "\n"))
    }

    @Test(arguments: ["dop853", "vern7", "vern9"])
    func adaptiveSolveMatchesTheClosedForm(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let solution = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, method: method,
            step: .adaptive(rtol: 1e-12, atol: 1e-12), saveAt: .final
        ).checked()
        let e = solution.finalState - Oscillator<Double>.exact(10)
        #expect(Swift.max(Swift.abs(e.x), Swift.abs(e.y)) < 1e-10, "\(name): \(e)")
    }

    @Test(arguments: ["dop853", "vern7", "vern9"])
    func denseOutputStagesCostNothingUnlessInterpolating(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let s = method.stages
        // Fixed steps: s evaluations per step (k₀ = f(t, y) and s − 1 stages), nothing more.
        let fixed = try solve(
            Riccati<Double>(), initialState: 0.25, from: 0, to: 2, method: method, step: .fixed(0.1), saveAt: .steps)
        #expect(fixed.statistics.evaluations == fixed.statistics.acceptedSteps * s)
        // Adaptive: the first derivative, the initial-step probe, s − 1 per attempt and f(t + h, y₁)
        // after every accepted step but the last.
        let steps = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, method: method,
            step: .adaptive(rtol: 1e-10, atol: 1e-10), saveAt: .steps)
        let stats = steps.statistics
        #expect(stats.evaluations == 2 + stats.steps * (s - 1) + stats.acceptedSteps - 1, "\(stats)")
        // Times inside three steps (two of them inside the same step): the dense-output stages are
        // evaluated once per interpolated step (f(t + h, y₁) is the next step's first stage).
        let times = steps.times
        let midpoints = [2, 5, 9].map { (times[$0] + times[$0 + 1]) / 2 }
        let inSameStep = (times[5] + 3 * times[6]) / 4
        let requested = (midpoints + [inSameStep]).sorted()
        let dense = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, method: method,
            step: .adaptive(rtol: 1e-10, atol: 1e-10), saveAt: .times(requested))
        let evaluated = method.denseStages.count - 1  // the first is f(t + h, y₁)
        #expect(dense.statistics.steps == stats.steps)
        #expect(dense.statistics.evaluations == stats.evaluations + 3 * evaluated, "\(dense.statistics) vs \(stats)")
        for (t, y) in zip(dense.times, dense.states) {
            let e = y - Oscillator<Double>.exact(t)
            #expect(Swift.max(Swift.abs(e.x), Swift.abs(e.y)) < 1e-8, "\(name) at \(t): \(e)")
        }
        #expect(dense.times == requested)
    }

    /// The dense-output stages on the differentiable tensor path: the same values as the scalar path,
    /// and gradients through interpolated outputs that match central finite differences.
    @Test(arguments: ["dop853", "vern7", "vern9"])
    func denseOutputOnTheTensorPath(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let times = [0.3, 0.95, 1.4]
        let step = StepSizeControl<Double>.adaptive(rtol: 1e-9, atol: 1e-9)
        let scalar = try solve(
            Riccati<Double>(), initialState: 1.0, from: 0, to: 2, method: method, step: step,
            saveAt: .times(times))
        let tensor = try solve(
            TensorRiccati(), initialState: Tensor([1.0]), from: 0, to: 2, method: method, step: step,
            saveAt: .times(times))
        #expect(scalar.states == tensor.states.map { $0.scalars[0] })
        #expect(scalar.statistics == tensor.statistics)
        let p = Tensor<Double>([0.1, 0.3, 1e-4, 2e-4, 0.002, 0.003])
        let check = try checkGradient(at: Tensor<Double>([100, 150])) { x0 in
            let s = try solve(
                competitionField(p), initialState: x0, times: [0, 7.3, 21.1, 40], method: method,
                step: .adaptive(rtol: 1e-11, atol: 1e-11))
            return (s.states[1] + s.states[2] * 0.5 + s.states[3]).sum()
        }
        #expect(check.maxError < 1e-6, "\(name): \(check)")
    }
}
