import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

// Convergence orders measured the way numerical analysts do: solve problems with closed-form solutions
// at several step sizes and fit the slope of log(error) against log(Δt).

/// Least-squares slope of log(errors) against log(stepSizes).
func fittedSlope(_ stepSizes: [Double], _ errors: [Double]) -> Double {
    let x = stepSizes.map { Double.log($0) }
    let y = errors.map { Double.log($0) }
    let n = Double(x.count)
    let mx = x.reduce(0, +) / n
    let my = y.reduce(0, +) / n
    let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
    let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
    return sxy / sxx
}

/// y' = −2ty², y(0) = y₀: y(t) = 1/(1/y₀ + t²). Nonlinear and time-dependent, so every order
/// condition matters.
struct Riccati<T: ScalarState>: VectorField {
    func callAsFunction(_ t: T, _ y: T) -> T { -2 * t * y * y }
    static func exact(_ t: T, _ y0: T) -> T { 1 / (1 / y0 + t * t) }
}

/// The harmonic oscillator x'' = −x as a first-order system on SIMD2: (x, v)' = (v, −x).
struct Oscillator<T: TensorScalar>: VectorField {
    func callAsFunction(_ t: T, _ u: SIMD2<T>) -> SIMD2<T> { SIMD2(u.y, -u.x) }
    static func exact(_ t: T) -> SIMD2<T> { SIMD2(T.cos(t), -T.sin(t)) }
}

/// The Riccati problem on a differentiable tensor state with two independent components.
struct TensorRiccati: VectorField {
    func callAsFunction(_ t: Double, _ y: Tensor<Double>) -> Tensor<Double> { -2 * t * y * y }
}

/// Final-time error of a fixed-step solve of the Riccati problem with `steps` steps over [0, 2].
///
/// The solution 1/(1/y₀ + t²) has poles at ±i/√(1/y₀): the default y₀ = 0.25 keeps them at ±2i, so
/// that the errors reach their asymptotic regime at moderate step counts even for fifth order.
func riccatiError<T: ScalarState>(_ method: ButcherTableau, steps: Int, y0: T = 0.25, _: T.Type) throws -> Double {
    let t1: T = 2
    let solution = try solve(
        Riccati<T>(), initialState: y0, from: 0, to: t1, method: method, step: .fixed(t1 / T(steps)), saveAt: .final)
    return Double(Swift.abs(solution.finalState - Riccati<T>.exact(t1, y0)))
}

@Suite("Convergence order of every fixed-step method")
struct ConvergenceTests {
    /// Step counts for the Riccati problem: in the asymptotic regime, errors far above rounding
    /// (chosen from scans of the error against the step count).
    func riccatiCounts(order: Int) -> [Int] {
        order <= 4 ? [16, 24, 32, 48, 64] : [12, 16, 24, 32, 48]
    }

    /// Step counts for the oscillator over [0, 5].
    func oscillatorCounts(order: Int) -> [Int] {
        switch order {
        case 1: return [40, 80, 160, 320, 640]
        case 2: return [20, 40, 80, 160, 320]
        case 3, 4: return [10, 20, 40, 80, 160]
        default: return [32, 48, 64, 96, 128]
        }
    }

    @Test(arguments: ["euler", "midpoint", "heun", "ralston", "rk4", "bosh3", "dopri5", "tsit5"])
    func orderOnANonlinearTimeDependentProblem(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let counts = riccatiCounts(order: method.order)
        let errors = try counts.map { try riccatiError(method, steps: $0, Double.self) }
        let slope = fittedSlope(counts.map { 2 / Double($0) }, errors)
        #expect(Swift.abs(slope - Double(method.order)) < 0.2, "\(name): slope \(slope), errors \(errors)")
    }

    @Test(arguments: ["euler", "midpoint", "heun", "ralston", "rk4", "bosh3", "dopri5", "tsit5"])
    func orderOnASystem(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let counts = oscillatorCounts(order: method.order)
        let t1 = 5.0
        let errors = try counts.map { n -> Double in
            let s = try solve(
                Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: t1, method: method,
                step: .fixed(t1 / Double(n)), saveAt: .final)
            let e = s.finalState - Oscillator<Double>.exact(t1)
            return Swift.max(Swift.abs(e.x), Swift.abs(e.y))
        }
        let slope = fittedSlope(counts.map { t1 / Double($0) }, errors)
        #expect(Swift.abs(slope - Double(method.order)) < 0.2, "\(name): slope \(slope), errors \(errors)")
    }

    @Test(arguments: ["euler", "midpoint", "rk4", "dopri5"])
    func orderOnTheDifferentiableTensorPath(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let counts = riccatiCounts(order: method.order)
        let y0 = Tensor<Double>([0.25, 0.2])
        let errors = try counts.map { n -> Double in
            let s = try solve(
                TensorRiccati(), initialState: y0, from: 0, to: 2, method: method, step: .fixed(2 / Double(n)),
                saveAt: .final)
            let exact = [1 / (4 + 4.0), 1 / (5 + 4.0)]
            return zip(s.finalState.scalars, exact).map { Swift.abs($0 - $1) }.max()!
        }
        let slope = fittedSlope(counts.map { 2 / Double($0) }, errors)
        #expect(Swift.abs(slope - Double(method.order)) < 0.2, "\(name): slope \(slope)")
    }

    /// In single precision, rounding (~1e-7) limits the observable range: low orders only, on the
    /// harder y₀ = 1 problem whose larger errors stay well above rounding.
    @Test(arguments: ["euler", "midpoint", "heun", "ralston"])
    func orderInFloat(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let counts = method.order == 1 ? [20, 40, 80, 160] : [10, 20, 40, 80]
        let errors = try counts.map { try riccatiError(method, steps: $0, y0: 1, Float.self) }
        let slope = fittedSlope(counts.map { 2 / Double($0) }, errors)
        #expect(Swift.abs(slope - Double(method.order)) < 0.2, "\(name) in Float: slope \(slope), errors \(errors)")
    }

    /// Same trajectory whichever state type carries it: the one stepper serves all.
    @Test func stateTypesAgree() throws {
        let scalar = try solve(
            Riccati<Double>(), initialState: 1.0, from: 0, to: 2, method: .rk4, step: .fixed(0.1), saveAt: .final)
        let tensor = try solve(
            TensorRiccati(), initialState: Tensor([1.0]), from: 0, to: 2, method: .rk4, step: .fixed(0.1), saveAt: .final)
        #expect(scalar.finalState == tensor.finalState.scalars[0])
    }
}
