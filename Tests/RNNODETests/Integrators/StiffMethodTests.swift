import Foundation
import Testing

@testable import RNNODEIntegrators
@testable import RNNODETensors

// MARK: - Tableaus

@Suite("Stiff methods: tableaus and linear stability")
struct StiffTableauTests {
    struct Expected {
        let method: ButcherTableau
        let kind: ButcherTableau.Kind
        let order: Int
        let embeddedOrder: Int
        let interpolantOrder: Int
        let stifflyAccurate: Bool
        let lStable: Bool
    }

    static let expected: [Expected] = [
        Expected(
            method: .implicitEuler, kind: .diagonallyImplicit, order: 1, embeddedOrder: 0, interpolantOrder: 0,
            stifflyAccurate: true, lStable: true),
        // The last row of a equals b, so the trapezoid is stiffly accurate in the formal sense, but its
        // explicit first stage leaves R(−∞) = −1.
        Expected(
            method: .trapezoid, kind: .diagonallyImplicit, order: 2, embeddedOrder: 0, interpolantOrder: 0,
            stifflyAccurate: true, lStable: false),
        Expected(
            method: .trbdf2, kind: .diagonallyImplicit, order: 2, embeddedOrder: 3, interpolantOrder: 0,
            stifflyAccurate: true, lStable: true),
        Expected(
            method: .kvaerno3, kind: .diagonallyImplicit, order: 3, embeddedOrder: 2, interpolantOrder: 0,
            stifflyAccurate: true, lStable: true),
        Expected(
            method: .kvaerno4, kind: .diagonallyImplicit, order: 4, embeddedOrder: 3, interpolantOrder: 0,
            stifflyAccurate: true, lStable: true),
        Expected(
            method: .kvaerno5, kind: .diagonallyImplicit, order: 5, embeddedOrder: 4, interpolantOrder: 0,
            stifflyAccurate: true, lStable: true),
        Expected(
            method: .kenCarp4, kind: .diagonallyImplicit, order: 4, embeddedOrder: 3, interpolantOrder: 3,
            stifflyAccurate: true, lStable: true),
        Expected(
            method: .rosenbrock23, kind: .rosenbrock, order: 2, embeddedOrder: 3, interpolantOrder: 2,
            stifflyAccurate: false, lStable: true),
        Expected(
            method: .rodas4, kind: .rosenbrock, order: 4, embeddedOrder: 3, interpolantOrder: 3,
            stifflyAccurate: true, lStable: true),
        Expected(
            method: .rodas5P, kind: .rosenbrock, order: 5, embeddedOrder: 4, interpolantOrder: 4,
            stifflyAccurate: true, lStable: true),
    ]

    @Test(arguments: expected.indices)
    func propertiesAsDocumented(_ index: Int) {
        let e = Self.expected[index]
        let m = e.method
        #expect(m.kind == e.kind, "\(m.name)")
        #expect(m.isImplicit)
        #expect(m.order == e.order, "\(m.name)")
        #expect(m.embeddedOrder == e.embeddedOrder, "\(m.name)")
        #expect(m.isAdaptive == (e.embeddedOrder > 0), "\(m.name)")
        #expect(m.interpolantOrder == e.interpolantOrder, "\(m.name)")
        #expect(m.isStifflyAccurate == e.stifflyAccurate, "\(m.name)")
        #expect(m.stability.isAStable, "\(m.name)")
        #expect(m.stability.isLStable == e.lStable, "\(m.name)")
        #expect(m.stability.realStabilityBoundary == .infinity, "\(m.name)")
        if e.lStable {
            #expect(m.stability.stabilityAtInfinity <= 1e-9, "\(m.name): |R(∞)| = \(m.stability.stabilityAtInfinity)")
        } else {
            #expect(Swift.abs(m.stability.stabilityAtInfinity - 1) <= 1e-9, "\(m.name)")
        }
        #expect(m.kind == .rosenbrock ? m.gamma != nil : m.gamma == nil)
        #expect(m.description.contains(e.lStable ? "L-stable" : "A-stable"), "\(m.description)")
    }

    @Test func everyStiffMethodRevalidates() throws {
        // Rebuilding each method from its published coefficients passes validation again (the
        // library's own constants are made with try!, so this checks the public initializers).
        for m in allStiffMethods {
            let rebuilt: ButcherTableau
            if m.kind == .rosenbrock {
                rebuilt = try ButcherTableau(
                    rosenbrock: m.name, order: m.order, alpha: m.a, gamma: m.gamma!, b: m.b,
                    embeddedWeights: m.errorWeights.map { zip(m.b, $0).map { $0 - $1 } }, embeddedOrder: m.embeddedOrder,
                    interpolant: m.interpolant, interpolantOrder: m.interpolantOrder, tolerance: 1e-10)
            } else {
                rebuilt = try ButcherTableau(
                    diagonallyImplicit: m.name, order: m.order, a: m.a, b: m.b, c: m.c,
                    embeddedWeights: m.errorWeights.map { zip(m.b, $0).map { $0 - $1 } }, embeddedOrder: m.embeddedOrder,
                    interpolant: m.interpolant, interpolantOrder: m.interpolantOrder, tolerance: 1e-10)
            }
            #expect(rebuilt.stability == m.stability, "\(m.name)")
            #expect(rebuilt.isStifflyAccurate == m.isStifflyAccurate, "\(m.name)")
            #expect(rebuilt.isFSAL == m.isFSAL, "\(m.name)")
        }
    }

    @Test func explicitStabilityBoundaries() {
        // Dormand–Prince: ≈ 3.3066; classical RK4: ≈ 2.7853 (Hairer–Wanner II, IV.2).
        #expect(Swift.abs(ButcherTableau.dopri5.stability.realStabilityBoundary - 3.31) < 0.01)
        #expect(Swift.abs(ButcherTableau.rk4.stability.realStabilityBoundary - 2.785) < 0.001)
        // Explicit Euler: |1 + z| ≤ 1 on [−2, 0].
        #expect(Swift.abs(ButcherTableau.euler.stability.realStabilityBoundary - 2) < 1e-6)
        for m in [ButcherTableau.dopri5, .rk4, .tsit5, .euler] {
            #expect(m.kind == .explicit)
            #expect(!m.stability.isAStable)
            #expect(!m.stability.isLStable)
            #expect(m.stability.stabilityAtInfinity == .infinity)
        }
    }

    @Test func entryAboveTheDiagonalIsRejected() {
        #expect(throws: TableauError.notDiagonallyImplicit(name: "Full", row: 0, column: 1)) {
            try ButcherTableau(diagonallyImplicit: "Full", order: 1, a: [[0.5, 0.1], [0.5, 0.5]], b: [0.5, 0.5])
        }
    }

    @Test func mistypedRosenbrockCoefficientFailsAnOrderCondition() throws {
        let rodas4 = ButcherTableau.rodas4
        var gamma = rodas4.gamma!
        gamma[3][1] += 1e-4
        do {
            _ = try ButcherTableau(rosenbrock: "Typo", order: 4, alpha: rodas4.a, gamma: gamma, b: rodas4.b, tolerance: 1e-10)
            Issue.record("a mistyped Γ entry was accepted")
        } catch {
            guard case .orderCondition(let name, let weights, _, let residual) = error else {
                Issue.record("expected an order condition failure, got \(error)")
                return
            }
            #expect(name == "Typo")
            #expect(weights == "b")
            #expect(residual != 0)
        }
        var alpha = rodas4.a
        alpha[2][0] *= 1.001
        #expect {
            try ButcherTableau(rosenbrock: "Typo", order: 4, alpha: alpha, gamma: rodas4.gamma!, b: rodas4.b, tolerance: 1e-10)
        } throws: { error in
            guard let error = error as? TableauError, case .orderCondition = error else { return false }
            return true
        }
    }

    @Test func rosenbrockGammaWithVaryingDiagonalIsRejected() {
        let r = ButcherTableau.rosenbrock23
        var gamma = r.gamma!
        gamma[1][1] *= 1.1
        #expect {
            try ButcherTableau(rosenbrock: "Bent", order: 2, alpha: r.a, gamma: gamma, b: r.b)
        } throws: { error in
            guard let error = error as? TableauError, case .shape(let message) = error else { return false }
            return message.contains("constant diagonal")
        }
    }
}

// MARK: - Orders

/// The final-time error of a fixed-step solve of `field` from u₀ over [0, t1] with `steps` steps,
/// in the first component against `exact`.
func fixedStepError<T: TensorScalar, F: VectorField>(
    _ field: F, _ method: ButcherTableau, _ u0: SIMD2<T>, to t1: T, steps: Int, exact: Double,
    implicit: ImplicitSolverSettings = ImplicitSolverSettings()
) throws -> Double where F.State == SIMD2<T> {
    let solution = try solve(
        field, initialState: u0, from: 0, to: t1, method: method, step: .fixed(t1 / T(steps)), saveAt: .final,
        implicit: implicit)
    #expect(solution.succeeded, "\(method.name): \(solution.status)")
    return Swift.abs(Double(solution.finalState.x) - exact)
}

/// The tableau of a method's embedded weights b̂ as a method of its own (its order is the embedded order).
func embeddedMethod(_ m: ButcherTableau) throws -> ButcherTableau {
    let bHat = zip(m.b, m.errorWeights!).map { $0 - $1 }
    if m.kind == .rosenbrock {
        return try ButcherTableau(
            rosenbrock: m.name + "-embedded", order: m.embeddedOrder, alpha: m.a, gamma: m.gamma!, b: bHat,
            tolerance: 1e-10)
    }
    return try ButcherTableau(
        diagonallyImplicit: m.name + "-embedded", order: m.embeddedOrder, a: m.a, b: bHat, c: m.c, tolerance: 1e-10)
}

@Suite("Stiff methods: convergence orders")
struct StiffConvergenceTests {
    /// Step counts over [0, 2] for the Riccati problem (poles at ±2i), in the asymptotic regime.
    func riccatiCounts(order: Int) -> [Int] {
        order <= 4 ? [16, 24, 32, 48, 64] : [12, 16, 24, 32, 48]
    }

    func riccatiSlope(_ method: ButcherTableau, order: Int) throws -> Double {
        let counts = riccatiCounts(order: order)
        let errors = try counts.map { n in
            try fixedStepError(
                AutonomousRiccati<Double>(), method, SIMD2(0.25, 0), to: 2, steps: n,
                exact: AutonomousRiccati<Double>.exact(2, 0.25), implicit: ImplicitSolverSettings(newtonTolerance: 1e-6))
        }
        return fittedSlope(counts.map { 2 / Double($0) }, errors)
    }

    // Measured slopes (Riccati over [0, 2], 16 … 64 steps, 12 … 48 for order 5; Newton to κ = 10⁻⁶):
    //   ImplicitEuler 0.98  Trapezoid 2.00  TRBDF2 2.00  Kvaerno3 3.00  Kvaerno4 3.95  Kvaerno5 4.97
    //   KenCarp4 4.01  Rosenbrock23 2.01  Rodas4 4.11  Rodas5P 4.97.
    // With the default κ = 0.01 the fixed-step Newton tolerance (κ in units of rtol = atol = √ε)
    // floors the DIRK errors near 10⁻¹⁰ and the fits degrade (Kvaerno5 2.51, Kvaerno4 4.45,
    // KenCarp4 3.58), hence the tight κ here.
    @Test(arguments: allStiffMethods)
    func orderOnANonStiffProblem(_ method: ButcherTableau) throws {
        let slope = try riccatiSlope(method, order: method.order)
        #expect(Swift.abs(slope - Double(method.order)) <= 0.3, "\(method.name): slope \(slope)")
    }

    /// The Brusselator u' = 1 + u²v − 4u, v' = 3u − u²v: a nonlinear system whose elementary
    /// differentials are all distinct (on the autonomous Riccati problem, a scalar equation in
    /// disguise, several vanish and embedded methods look superconvergent).
    struct Brusselator: VectorField {
        func callAsFunction(_ t: Double, _ y: SIMD2<Double>) -> SIMD2<Double> {
            let uuv = y.x * y.x * y.y
            return SIMD2(1 + uuv - 4 * y.x, 3 * y.x - uuv)
        }
        func jacobian(_ t: Double, _ y: SIMD2<Double>, into j: JacobianMatrix<Double>) -> Bool {
            j[0, 0] = 2 * y.x * y.y - 4
            j[0, 1] = y.x * y.x
            j[1, 0] = 3 - 2 * y.x * y.y
            j[1, 1] = -y.x * y.x
            return true
        }
        var isAutonomous: Bool { true }
    }

    /// The final-time error over [0, 2] from (1.5, 3) with fixed steps (tight Newton iterations),
    /// against Vern9 at rtol 10⁻¹⁴.
    func brusselatorSlope(_ method: ButcherTableau, order: Int) throws -> (slope: Double, errors: [Double]) {
        let y0 = SIMD2(1.5, 3.0)
        let reference = try solve(
            Brusselator(), initialState: y0, from: 0, to: 2, method: .vern9, step: .adaptive(rtol: 1e-14, atol: 1e-14),
            saveAt: .final
        ).checked().finalState
        let counts = [24, 34, 48, 68, 96]
        let errors = try counts.map { n in
            let final = try solve(
                Brusselator(), initialState: y0, from: 0, to: 2, method: method, step: .fixed(2 / Double(n)),
                saveAt: .final, implicit: ImplicitSolverSettings(newtonTolerance: 1e-4)
            ).checked().finalState
            let e = final - reference
            return (e * e).sum().squareRoot()
        }
        return (fittedSlope(counts.map { 2 / Double($0) }, errors), errors)
    }

    /// The embedded weights b̂ run as a method of their own, on the Brusselator (24 … 96 steps over
    /// [0, 2]). The errors are not asymptotic at the step sizes where they stay above the Newton
    /// tolerance (the fitted slopes move by up to 0.9 when the range shifts by a factor 2), so the
    /// check is one-sided with a margin: at least p̂ − 0.3, at most p̂ + 1.2 (the tableau validation
    /// checks the order conditions exactly). Measured: TRBDF2 3.26 (p̂ = 3), Kvaerno3 2.00 (2),
    /// Kvaerno4 3.25 (3), Kvaerno5 4.01 (4), KenCarp4 3.26 (3), Rosenbrock23 2.91 (3), Rodas4 2.81 (3),
    /// Rodas5P 5.14 (4; 4.31 over 20 … 80 steps). On the Riccati problem the global errors of the
    /// embedded methods of KenCarp4 and Rodas5P change sign within the usable step range.
    @Test(arguments: allStiffMethods.filter(\.isAdaptive))
    func embeddedOrder(_ method: ButcherTableau) throws {
        let embedded = try embeddedMethod(method)
        let slope = try brusselatorSlope(embedded, order: method.embeddedOrder).slope
        let p = Double(method.embeddedOrder)
        #expect(slope >= p - 0.3 && slope <= p + 1.2, "\(method.name): slope \(slope)")
    }

    /// Fixed-step DIRKs on the mild Brusselator at h = 0.2 (|hλ| ≈ 0.3): Newton must converge (its
    /// stopping scale with fixed steps is ε^(2/3), and slow contraction refreshes J at the iterate).
    @Test func fixedStepNewtonOnAMildProblem() throws {
        for method in [ButcherTableau.kvaerno3, .kvaerno4, .kvaerno5] {
            let solution = try solve(
                Brusselator(), initialState: SIMD2(1.5, 3), from: 0, to: 2, method: method, step: .fixed(0.2),
                saveAt: .final)
            #expect(solution.succeeded, "\(method.name): \(solution.status)")
        }
    }

    // Float, 8 … 32 steps: ImplicitEuler 0.95, TRBDF2 2.33, Rosenbrock23 2.02 (TRBDF2 within 0.4:
    // still pre-asymptotic in Float at these steps).
    @Test func floatOrders() throws {
        for method in [ButcherTableau.implicitEuler, .trbdf2, .rosenbrock23] {
            let counts = [8, 12, 16, 24, 32]
            let errors = try counts.map { n in
                try fixedStepError(
                    AutonomousRiccati<Float>(), method, SIMD2(0.25, 0), to: 2, steps: n,
                    exact: Double(AutonomousRiccati<Float>.exact(2, 0.25)))
            }
            let slope = fittedSlope(counts.map { 2 / Double($0) }, errors)
            let allowance = method == .trbdf2 ? 0.4 : 0.3
            #expect(Swift.abs(slope - Double(method.order)) <= allowance, "\(method.name): slope \(slope)")
        }
    }

    /// Errors on Prothero–Robinson over [0, 1] at h = 1/10 … 1/160.
    func protheroRobinsonErrors(_ method: ButcherTableau, lambda: Double) throws -> (slope: Double, errors: [Double]) {
        let counts = [10, 20, 40, 80, 160]
        let errors = try counts.map { n in
            try fixedStepError(ProtheroRobinson(lambda: lambda), method, SIMD2(0, 0), to: 1, steps: n, exact: Double.sin(1))
        }
        return (fittedSlope(counts.map { 1 / Double($0) }, errors), errors)
    }

    /// The smallest slope expected on stiff Prothero–Robinson (|hλ| from 62 to 10⁵): order reduction
    /// to the stage order (2 for the ESDIRKs and the trapezoid, whose explicit first stage caps it),
    /// the error carrying a factor 1/|hλ|, i.e. h^(q+1)/(h|λ|); Rodas4 does not satisfy the
    /// Prothero–Robinson conditions and drops to about 1, while Rodas5P was built to (Steinebach 2023).
    static let stiffSlopeFloor: [String: Double] = [
        "ImplicitEuler": 0.9, "Trapezoid": 1.6, "TRBDF2": 1.8, "Kvaerno3": 1.8, "Kvaerno4": 1.8, "Kvaerno5": 1.8,
        "KenCarp4": 1.8, "Rosenbrock23": 1.8, "Rodas4": 0.9, "Rodas5P": 2.3,
    ]

    // Measured slopes (h = 1/10 … 1/160), λ = −10⁴ / −10⁶:
    //   ImplicitEuler 0.99 / 0.99   Trapezoid 1.87 / 2.08   TRBDF2 2.04 / 2.02   Kvaerno3 2.02 / 2.01
    //   Kvaerno4 2.05 / 2.02   Kvaerno5 2.08 / 2.02   KenCarp4 2.06 / 2.04   Rosenbrock23 2.00 / 2.01
    //   Rodas4 1.16 / 1.08   Rodas5P 3.26 / 2.56 (errors 5e-10 … 6e-14 / 5e-12 … 5e-15).
    // Every error shrinks by about 100 from λ = −10⁴ to −10⁶ (the 1/|hλ| factor), except
    // Rosenbrock23's (a W-method whose error here is its non-stiff one, 6.3e-4 … 2.4e-6 at both λ).
    @Test(arguments: allStiffMethods)
    func orderOnStiffProthero(_ method: ButcherTableau) throws {
        let mild = try protheroRobinsonErrors(method, lambda: -1e4)
        let severe = try protheroRobinsonErrors(method, lambda: -1e6)
        let floor = try #require(Self.stiffSlopeFloor[method.name])
        for slope in [mild.slope, severe.slope] {
            #expect(slope >= floor, "\(method.name): slope \(slope)")
            #expect(slope <= Double(method.order) + 0.5, "\(method.name): slope \(slope)")
        }
        // Convergent uniformly in the stiffness: a stiffer problem is solved no worse.
        for (a, b) in zip(severe.errors, mild.errors) {
            #expect(a <= 1.05 * b, "\(method.name): \(a) at λ = −10⁶ against \(b) at λ = −10⁴")
        }
    }

    /// The dense output's local error: one step of size h from the exact state, interpolated at
    /// θ = 0.4, is O(h^(q+1)) for an interpolant of order q (cubic Hermite: q = 3).
    // Measured (h = 0.1 … 0.0125): KenCarp4 4.19 (q = 3), Rosenbrock23 3.03 (q = 2), Rodas4 3.93
    // (q = 3), Rodas5P 4.91 (q = 4), Kvaerno5's cubic Hermite 3.94.
    @Test(arguments: [ButcherTableau.kenCarp4, .rosenbrock23, .rodas4, .rodas5P, .kvaerno5])
    func denseOutputOrder(_ method: ButcherTableau) throws {
        let field = AutonomousRiccati<Double>()
        let t0 = 0.3
        let y0 = AutonomousRiccati<Double>.exact(t0, 0.25)
        let steps = [0.1, 0.05, 0.025, 0.0125]
        var errors: [Double] = []
        for h in steps {
            let integrator = try Integrator(
                field, initialState: SIMD2(y0, t0), time: t0, method: method, step: .fixed(h))
            let status = try integrator.advance(to: t0 + h)
            #expect(status == .success)
            let t = t0 + 0.4 * h
            errors.append(Swift.abs(integrator.interpolate(at: t).x - AutonomousRiccati<Double>.exact(t, 0.25)))
        }
        let slope = fittedSlope(steps, errors)
        let q = method.interpolant == nil ? 3 : method.interpolantOrder
        #expect(Swift.abs(slope - Double(q + 1)) <= 0.3, "\(method.name): slope \(slope)")
    }
}

// MARK: - Reference solutions

// Criterion: max over components of |yᵢ − refᵢ| / max(|refᵢ|, floor) < 10⁻⁸ (eight correct digits,
// relative, in every component; floor = atol, below every reference component), at rtol 10⁻¹².
// Measured (debug build):
//   Van der Pol ε = 10⁻⁶: Rodas5P 2.4e-13 (28325 accepted + 7 rejected steps, 226650 evaluations,
//     28325 Jacobians, 0.4 s); Kvaerno5 2.2e-11 (10583 + 3 steps, 172379 evaluations, 564
//     Jacobians, 172377 Newton iterations, 0.25 s).
//   Robertson to 10¹¹: Rodas5P 4.0e-13 (11185 + 22 steps, 89635 evaluations, 0.25 s); Kvaerno5
//     8.1e-12 (3089 + 0 steps, 62348 evaluations, 158 Jacobians, 0.1 s).
//   HIRES: Rodas5P 3.3e-13 (4447 + 3 steps, 35598 evaluations, 0.2 s); Kvaerno5 4.0e-12 (2130 + 2
//     steps, 36368 evaluations, 109 Jacobians, 0.1 s).
// The brief's Van der Pol reference y₂(2) = −0.8928097010248125e-3 is off by 10³: the Bari value
// in these variables is −0.8928097010248125 (both methods agree with it to 10⁻¹¹).
@Suite("Stiff methods: Bari test set references")
struct StiffReferenceTests {
    @Test(arguments: [ButcherTableau.rodas5P, .kvaerno5])
    func vanDerPol(_ method: ButcherTableau) throws {
        let solution = try solve(
            BariVanDerPol(), initialState: SIMD2(2, 0), from: 0, to: 2, method: method,
            step: .adaptive(rtol: 1e-12, atol: 1e-12), saveAt: .final
        ).checked()
        let reference = [1.706167732170469, -0.8928097010248125]
        let y = [solution.finalState.x, solution.finalState.y]
        let error = componentwiseRelativeError(y, reference, floor: 1e-12)
        #expect(error < 1e-8)
    }

    @Test(arguments: [ButcherTableau.rodas5P, .kvaerno5])
    func robertson(_ method: ButcherTableau) throws {
        let solution = try solve(
            Robertson(), initialState: SIMD3(1, 0, 0), from: 0, to: 1e11, method: method,
            step: .adaptive(rtol: 1e-12, atol: 1e-20), saveAt: .final
        ).checked()
        let reference = [0.2083340149701255e-7, 0.8333360770334713e-13, 0.9999999791665050]
        let y = [solution.finalState.x, solution.finalState.y, solution.finalState.z]
        let error = componentwiseRelativeError(y, reference, floor: 1e-20)
        #expect(error < 1e-8)
    }

    @Test(arguments: [ButcherTableau.rodas5P, .kvaerno5])
    func hires(_ method: ButcherTableau) throws {
        let solution = try solve(
            Hires(), initialState: SIMD8(1, 0, 0, 0, 0, 0, 0, 0.0057), from: 0, to: 321.8122, method: method,
            step: .adaptive(rtol: 1e-12, atol: 1e-14), saveAt: .final
        ).checked()
        let reference = [
            0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4, 0.1175651343283149e-2,
            0.2386356198831331e-2, 0.6238968252742796e-2, 0.2849998395185769e-2, 0.2850001604814231e-2,
        ]
        let y = (0..<8).map { solution.finalState[$0] }
        let error = componentwiseRelativeError(y, reference, floor: 1e-14)
        #expect(error < 1e-8)
    }
}

// MARK: - Stiffness detection

@Suite("Stiff methods: stiffness detection of explicit methods")
struct StiffnessDetectionTests {
    @Test func dopri5OnVanDerPolRunsOutOfBudgetAndSaysWhy() throws {
        let solution = try solve(
            MatlabVanDerPol(), initialState: SIMD2(2, 0), from: 0, to: 3000, method: .dopri5,
            step: .adaptive(rtol: 1e-6, atol: 1e-8), saveAt: .final, maxSteps: 20_000)
        guard case .maxStepsExceeded = solution.status else {
            Issue.record("expected the budget to run out, got \(solution.status)")
            return
        }
        // Measured: 19997 accepted and 3 rejected steps, 19981 limited by stability, last ratio 1.0000.
        let statistics = solution.statistics
        #expect(statistics.looksStiff)
        #expect(statistics.stiffSteps > 0)
        #expect(statistics.stiffnessRatio > 0.5 && statistics.stiffnessRatio < 1.5)
        do {
            _ = try solution.checked()
            Issue.record("checked() accepted a failed solve")
        } catch {
            guard case .integrationFailed(let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(reason.contains("looks stiff"), "\(reason)")
            #expect(reason.contains(".rodas5P") || reason.contains(".kvaerno5"), "\(reason)")
        }
    }

    @Test func lorenzDoesNotLookStiff() throws {
        let lorenz = FieldClosure<SIMD3<Double>>(autonomous: true) { _, u in
            SIMD3(10 * (u.y - u.x), u.x * (28 - u.z) - u.y, u.x * u.y - 8.0 / 3 * u.z)
        }
        let solution = try solve(
            lorenz, initialState: SIMD3(1, 1, 1), from: 0, to: 20, method: .dopri5,
            step: .adaptive(rtol: 1e-6, atol: 1e-8), saveAt: .final
        ).checked()
        #expect(!solution.statistics.looksStiff)
        #expect(solution.statistics.stiffnessRatio < 0.9)
    }
}

// MARK: - Events and output times with implicit methods

@Suite("Stiff methods: events and output times")
struct StiffEventAndOutputTests {
    @Test(arguments: [ButcherTableau.rodas5P, .kvaerno5])
    func terminalEventOnStiffProblem(_ method: ButcherTableau) throws {
        // Prothero–Robinson with λ = −10⁴: y = sin t reaches 0.5 at π/6.
        let event = Event<SIMD2<Double>>(direction: .rising, terminal: true) { _, u in u.x - 0.5 }
        let solution = try solve(
            ProtheroRobinson(lambda: -1e4), initialState: SIMD2(0, 0), from: 0, to: 2, method: method,
            step: .adaptive(rtol: 1e-9, atol: 1e-11), saveAt: .final, events: [event])
        #expect(solution.terminatedByEvent)
        let time = try #require(solution.events.first?.time)
        // Rodas5P locates it on its fourth-order interpolant (measured 2.3e-9); Kvaerno5 on the
        // cubic Hermite interpolant of its long steps (measured 3.0e-6).
        let tolerance = method.interpolant == nil ? 1e-5 : 1e-8
        #expect(Swift.abs(time - Double.pi / 6) < tolerance)
        #expect(Swift.abs(solution.finalTime - Double.pi / 6) < tolerance)
    }

    @Test func robertsonEventAgreesBetweenMethods() throws {
        // y₁ falls below 0.5 (between t = 40 and 400); Kvaerno5 at rtol 10⁻⁸ against Rodas5P at 10⁻¹².
        let event = Event<SIMD3<Double>>(direction: .falling, terminal: true) { _, y in y.x - 0.5 }
        func crossing(_ method: ButcherTableau, _ rtol: Double) throws -> Double {
            let solution = try solve(
                Robertson(), initialState: SIMD3(1, 0, 0), from: 0, to: 1e3, method: method,
                step: .adaptive(rtol: rtol, atol: rtol * 1e-6), saveAt: .final, events: [event])
            #expect(solution.terminatedByEvent)
            return try #require(solution.events.first?.time)
        }
        let reference = try crossing(.rodas5P, 1e-12)
        for method in [ButcherTableau.rodas5P, .kvaerno5] {
            // Measured: 268.32472573 (Rodas5P), 268.32470098 (Kvaerno5) against 268.32472602.
            let time = try crossing(method, 1e-8)
            #expect(Swift.abs(time - reference) / reference < 1e-6, "\(method.name): \(time) vs \(reference)")
        }
    }

    /// u₁' = −10⁴(u₁ − u₂), u₂' = −u₂ from (1, 1): u₂ = e^(−t), u₁ = c e^(−10⁴t) + (10⁴/9999) e^(−t).
    static func stiffLinear<T: TensorScalar>(_: T.Type) -> FieldClosure<SIMD2<T>> {
        let jacobian: (T, SIMD2<T>, JacobianMatrix<T>) -> Void = { _, _, j in
            j[0, 0] = -10_000
            j[0, 1] = 10_000
            j[1, 1] = -1
        }
        return FieldClosure<SIMD2<T>>(autonomous: true, jacobian: jacobian) { _, u in SIMD2(-10_000 * (u.x - u.y), -u.y) }
    }

    static func stiffLinearExact(_ t: Double) -> SIMD2<Double> {
        let slow = 1e4 / 9999
        return SIMD2((1 - slow) * Double.exp(-1e4 * t) + slow * Double.exp(-t), Double.exp(-t))
    }

    // Measured worst errors at rtol 10⁻⁷: Rodas5P 1.1e-8, Rodas4 2.9e-8, KenCarp4 7.6e-7, Kvaerno5
    // (Hermite) 2.7e-6, Rosenbrock23 1.1e-5; in Float at rtol 10⁻⁴: Rodas5P 4.9e-5, Kvaerno5 1.2e-3.
    static let outputTimes = [1e-4, 5e-4, 2e-3, 0.01, 0.1, 0.3, 0.77, 1.5, 2]

    @Test(arguments: [ButcherTableau.rodas5P, .kenCarp4, .kvaerno5, .rodas4, .rosenbrock23])
    func saveAtTimesOnAStiffLinearProblem(_ method: ButcherTableau) throws {
        let rtol = 1e-7
        let solution = try solve(
            Self.stiffLinear(Double.self), initialState: SIMD2(1, 1), from: 0, to: 2, method: method,
            step: .adaptive(rtol: rtol, atol: 1e-10), saveAt: .times(Self.outputTimes)
        ).checked()
        #expect(solution.times == Self.outputTimes)
        var worst = 0.0
        for (t, u) in zip(solution.times, solution.states) {
            let exact = Self.stiffLinearExact(t)
            let error = Swift.max(Swift.abs(u.x - exact.x), Swift.abs(u.y - exact.y)) / Swift.max(1e-3, exact.y)
            worst = Swift.max(worst, error)
        }
        #expect(worst < (method.order <= 2 ? 300 : 100) * rtol, "\(method.name): \(worst)")
    }

    @Test(arguments: [ButcherTableau.rodas5P, .kvaerno5])
    func saveAtTimesInFloat(_ method: ButcherTableau) throws {
        let times: [Float] = Self.outputTimes.map { Float($0) }
        let solution = try solve(
            Self.stiffLinear(Float.self), initialState: SIMD2(1, 1), from: 0, to: 2, method: method,
            step: .adaptive(rtol: 1e-4, atol: 1e-6), saveAt: .times(times)
        ).checked()
        var worst = 0.0
        for (t, u) in zip(solution.times, solution.states) {
            let exact = Self.stiffLinearExact(Double(t))
            worst = Swift.max(worst, Swift.abs(Double(u.x) - exact.x), Swift.abs(Double(u.y) - exact.y))
        }
        #expect(worst < 3e-3)
    }
}
