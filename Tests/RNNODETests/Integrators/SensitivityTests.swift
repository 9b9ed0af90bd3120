import Foundation
import Testing

@testable import RNNODEIntegrators
@testable import RNNODETensors

// Forward sensitivities of parametric fields: dual numbers against central differences, the
// sensitivities against central differences of the plain solve, against backpropagation through the
// same solve on the tape, and against closed forms.

/// Lotka–Volterra, p = (α, β, δ, γ): x' = αx − βxy, y' = δxy − γy.
struct LotkaVolterraField<T: TensorScalar & FieldScalar>: ParametricField where T.Constant == T {
    typealias State = SIMD2<T>
    func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
    where S.Constant == T {
        dy[0] = p[0] * y[0] - p[1] * y[0] * y[1]
        dy[1] = p[2] * y[0] * y[1] - p[3] * y[1]
    }
    var isAutonomous: Bool { true }
}

/// Van der Pol with μ = p[0], for the implicit methods.
struct VanDerPolField: ParametricField {
    typealias State = SIMD2<Double>
    func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
    where S.Constant == Double {
        dy[0] = y[1]
        dy[1] = p[0] * ((1 - y[0] * y[0]) * y[1]) - y[0]
    }
}

/// A chain of 16 coupled decays driven by t: y'ᵢ = −pᵢ mod 4 · yᵢ + sin(t) yᵢ₋₁ / (1 + yᵢ²) (y₋₁ = 1),
/// 4 parameters + 16 initial components = 20 directions (two chunks).
struct ChainField: ParametricField {
    typealias State = SIMD16<Double>
    func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
    where S.Constant == Double {
        for i in 0..<16 {
            let previous = i == 0 ? S(1) : y[i - 1]
            dy[i] = -p[i % 4] * y[i] + S.sin(t) * previous / (1 + y[i] * y[i])
        }
    }
}

private func relativeError<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> Double {
    Double(Swift.abs(a - b)) / Swift.max(Double(Swift.abs(b)), 1e-300)
}

// MARK: - Dual numbers

@Suite struct DualNumberTests {
    /// Each operation's derivative against a central difference of the plain function.
    func checkElementaryFunctions<T: TensorScalar & FieldScalar>(_: T.Type, tolerance: Double) where T.Constant == T {
        typealias D = Dual<2, T>
        let functions: [(String, T, (D) -> D, (T) -> T)] = [
            ("exp", 0.7, { D.exp($0) }, { T.exp($0) }),
            ("expm1", 1e-3, { D.expm1($0) }, { T.expm1($0) }),
            ("log", 1.7, { D.log($0) }, { T.log($0) }),
            ("log1p", 0.2, { D.log1p($0) }, { T.log1p($0) }),
            ("sqrt", 2.3, { D.sqrt($0) }, { T.sqrt($0) }),
            ("tanh", 0.4, { D.tanh($0) }, { T.tanh($0) }),
            ("sin", 1.1, { D.sin($0) }, { T.sin($0) }),
            ("cos", 1.1, { D.cos($0) }, { T.cos($0) }),
            ("sigmoid", -0.8, { D.sigmoid($0) }, { T.sigmoid($0) }),
            ("pow x^2.5", 1.3, { D.pow($0, D(2.5)) }, { T.pow($0, 2.5) }),
            ("pow 2^x", 0.9, { D.pow(D(2), $0) }, { T.pow(2, $0) }),
            ("x^x", 1.4, { D.pow($0, $0) }, { T.pow($0, $0) }),
            ("quotient", 0.6, { (1 + $0 * $0) / ($0 - 3) }, { (1 + $0 * $0) / ($0 - 3) }),
            ("abs", -0.6, { abs($0 * 3) }, { Swift.abs($0 * 3) }),
            ("negation", 0.6, { -$0 * $0 + 2 }, { -$0 * $0 + 2 }),
        ]
        for (name, x, dual, plain) in functions {
            let d = dual(D(x, seed: 1))
            #expect(d.value == plain(x), "\(name): value")
            #expect(d.partials[0] == 0, "\(name): an unseeded direction stays zero")
            let h = T(Foundation.pow(Double(T.ulpOfOne), 1.0 / 3)) * Swift.max(1, Swift.abs(x))
            let difference = (plain(x + h) - plain(x - h)) / (2 * h)
            #expect(relativeError(d.partials[1], difference) < tolerance, "\(name): \(d.partials[1]) vs \(difference)")
        }
    }

    @Test func elementaryFunctionsDouble() { checkElementaryFunctions(Double.self, tolerance: 1e-9) }
    @Test func elementaryFunctionsFloat() { checkElementaryFunctions(Float.self, tolerance: 2e-3) }

    @Test func productRuleInTwoDirections() {
        let x = Dual<2, Double>(3, seed: 0)
        let y = Dual<2, Double>(5, seed: 1)
        let z = x * y * x
        #expect(z.value == 45)
        #expect(z.partials[0] == 30)  // 2xy
        #expect(z.partials[1] == 9)  // x²
        #expect(min(x, y) == x && max(x, y).partials[1] == 1)
        let literal: Dual<2, Double> = 2.5
        #expect(literal.value == 2.5 && literal.partials[0] == 0)
    }
}

// MARK: - Sensitivities

@Suite struct ForwardSensitivityTests {
    let lvParameters = [1.5, 1.0, 1.0, 3.0]
    let lvTimes: [Double] = [0, 0.5, 1.3, 2.0, 4.1, 6.0]

    /// Central differences of the plain solve's saved states in parameter j.
    func finiteDifference(
        parameter j: Int, _ parameters: [Double], times: [Double], method: ButcherTableau, step: StepSizeControl<Double>,
        _ solveWith: ([Double]) throws -> [SIMD2<Double>]
    ) throws -> [SIMD2<Double>] {
        let h = 1e-6 * Swift.max(1, Swift.abs(parameters[j]))
        var plus = parameters
        var minus = parameters
        plus[j] += h
        minus[j] -= h
        let a = try solveWith(plus)
        let b = try solveWith(minus)
        return zip(a, b).map { ($0 - $1) / (2 * h) }
    }

    @Test func lotkaVolterraParametersMatchCentralDifferences() throws {
        let step = StepSizeControl<Double>.adaptive(rtol: 1e-12, atol: 1e-12)
        let solution = try solve(
            LotkaVolterraField<Double>(), initialState: [1, 1], parameters: lvParameters, times: lvTimes, step: step,
            sensitivities: .parameters
        ).checked()
        let s = try #require(solution.sensitivities)
        #expect(s.directionCount == 4 && s.timeCount == lvTimes.count)
        for j in 0..<4 {
            let fd = try finiteDifference(parameter: j, lvParameters, times: lvTimes, method: .dopri5, step: step) { p in
                try solve(LotkaVolterraField<Double>().withParameters(p), initialState: [1, 1], times: lvTimes, step: step)
                    .checked().states
            }
            for k in 0..<lvTimes.count {
                for i in 0..<2 {
                    let scale = Swift.max(1, Swift.abs(fd[k][i]))
                    #expect(Swift.abs(s.parameter(j, component: i, at: k) - fd[k][i]) / scale < 1e-6, "p\(j) y\(i) t\(k)")
                }
            }
        }
        // The first saved time is the start: no dependence yet.
        #expect((0..<4).allSatisfy { s.parameter($0, component: 0, at: 0) == 0 })
    }

    @Test func stepsAndStatesAreThoseOfThePlainSolve() throws {
        let step = StepSizeControl<Double>.adaptive(rtol: 1e-8, atol: 1e-8)
        let plain = try solve(
            LotkaVolterraField<Double>().withParameters(lvParameters), initialState: [1, 1], times: lvTimes, step: step)
        let withSensitivities = try solve(
            LotkaVolterraField<Double>(), initialState: [1, 1], parameters: lvParameters, times: lvTimes, step: step,
            sensitivities: .parametersAndInitialState)
        #expect(plain.states == withSensitivities.states)
        #expect(plain.statistics.acceptedSteps == withSensitivities.statistics.acceptedSteps)
        #expect(plain.statistics.rejectedSteps == withSensitivities.statistics.rejectedSteps)
        #expect(withSensitivities.sensitivities?.directionCount == 6)
    }

    /// The exact derivative of the discrete map: backpropagation through the same fixed-step RK4 solve
    /// on the tape agrees to rounding.
    @Test func fixedStepSensitivitiesEqualBackpropagation() throws {
        let times: [Double] = [0, 1, 2.5, 3]
        let forward = try solve(
            LotkaVolterraField<Double>(), initialState: [1, 1], parameters: lvParameters, times: times, method: .rk4,
            step: .fixed(0.05), sensitivities: .parametersAndInitialState
        ).checked()
        let s = try #require(forward.sensitivities)
        let tape = Tape<Double>()
        let p = tape.variable(Tensor(lvParameters))
        let y0 = tape.variable(Tensor([1.0, 1.0]))
        let field = FieldClosure<Tensor<Double>> { _, y in
            let x = y[.range(0..<1)]
            let z = y[.range(1..<2)]
            return Tensor(concatenating: [
                p[.range(0..<1)] * x - p[.range(1..<2)] * x * z, p[.range(2..<3)] * x * z - p[.range(3..<4)] * z,
            ])
        }
        let recorded = try solve(field, initialState: y0, times: times, method: .rk4, step: .fixed(0.05)).checked()
        for k in 1..<times.count {
            for i in 0..<2 {
                #expect(relativeError(recorded.states[k].scalars[i], forward.states[k][i]) < 1e-14)
                let output = recorded.states[k][.range(i..<(i + 1))].sum()
                let gradients = tape.gradients(of: output, withRespectTo: [p, y0])
                for j in 0..<4 {
                    #expect(relativeError(s.parameter(j, component: i, at: k), gradients[0].scalars[j]) < 1e-12)
                }
                for j in 0..<2 {
                    #expect(relativeError(s.initialState(j, component: i, at: k), gradients[1].scalars[j]) < 1e-12)
                }
            }
        }
    }

    /// y' = [[0, 1], [−ω², 0]] y: ∂y(t)/∂y₀ is [[cos ωt, sin ωt / ω], [−ω sin ωt, cos ωt]], and
    /// ∂y(t)/∂ω is known in closed form too.
    @Test func oscillatorMatchesTheClosedForm() throws {
        struct Oscillator: ParametricField {
            typealias State = SIMD2<Double>
            func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
            where S.Constant == Double {
                dy[0] = y[1]
                dy[1] = -p[0] * p[0] * y[0]
            }
        }
        let omega = 1.7
        let times: [Double] = [0, 0.4, 1.9, 3.3]
        let s = try solve(
            Oscillator(), initialState: [1, 0], parameters: [omega], times: times, method: .vern9,
            step: .adaptive(rtol: 1e-13, atol: 1e-13), sensitivities: .parametersAndInitialState
        ).checked()
        let sensitivities = try #require(s.sensitivities)
        for (k, t) in times.enumerated() {
            let (c, sn) = (Foundation.cos(omega * t), Foundation.sin(omega * t))
            let expected: [[Double]] = [[c, sn / omega], [-omega * sn, c]]
            for i in 0..<2 {
                for j in 0..<2 {
                    #expect(Swift.abs(sensitivities.initialState(j, component: i, at: k) - expected[i][j]) < 1e-11)
                }
            }
            // y = cos ωt: ∂y/∂ω = −t sin ωt; y' = −ω sin ωt: ∂y'/∂ω = −sin ωt − ωt cos ωt.
            #expect(Swift.abs(sensitivities.parameter(0, component: 0, at: k) + t * sn) < 1e-11)
            #expect(Swift.abs(sensitivities.parameter(0, component: 1, at: k) + sn + omega * t * c) < 1e-11)
        }
    }

    /// 20 directions take two solves (16 + 4) on the same steps; both agree with central differences.
    @Test func manyDirectionsAreIntegratedInChunks() throws {
        let parameters = [0.5, 1.0, 1.5, 2.0]
        var y0 = SIMD16<Double>()
        for i in 0..<16 { y0[i] = 0.1 * Double(i) - 0.4 }
        let times: [Double] = [0, 0.7, 2]
        let step = StepSizeControl<Double>.adaptive(rtol: 1e-11, atol: 1e-11)
        let s = try solve(
            ChainField(), initialState: y0, parameters: parameters, times: times, step: step,
            sensitivities: .parametersAndInitialState
        ).checked()
        let sensitivities = try #require(s.sensitivities)
        #expect(sensitivities.directionCount == 20)
        func plain(_ p: [Double], _ y: SIMD16<Double>) throws -> SIMD16<Double> {
            try solve(ChainField().withParameters(p), initialState: y, times: times, step: step).checked().states[2]
        }
        let h = 1e-6
        for j in [0, 3] {
            var plus = parameters
            var minus = parameters
            plus[j] += h
            minus[j] -= h
            let fd = (try plain(plus, y0) - plain(minus, y0)) / (2 * h)
            for i in [0, 7, 15] { #expect(Swift.abs(sensitivities.parameter(j, component: i, at: 2) - fd[i]) < 1e-7) }
        }
        for j in [0, 11, 15] {  // directions 4, 15 (first chunk) and 19 (second chunk)
            var plus = y0
            var minus = y0
            plus[j] += h
            minus[j] -= h
            let fd = (try plain(parameters, plus) - plain(parameters, minus)) / (2 * h)
            for i in [0, j, 15] { #expect(Swift.abs(sensitivities.initialState(j, component: i, at: 2) - fd[i]) < 1e-7) }
        }
    }

    @Test func floatSensitivitiesMatchDouble() throws {
        let p32: [Float] = [1.5, 1, 1, 3]
        let times32: [Float] = [0, 1, 2]
        let single = try solve(
            LotkaVolterraField<Float>(), initialState: [1, 1], parameters: p32, times: times32,
            step: .adaptive(rtol: 1e-6, atol: 1e-6), sensitivities: .parameters
        ).checked()
        let double = try solve(
            LotkaVolterraField<Double>(), initialState: [1, 1], parameters: lvParameters, times: [0, 1, 2],
            step: .adaptive(rtol: 1e-12, atol: 1e-12), sensitivities: .parameters
        ).checked()
        for j in 0..<4 {
            for i in 0..<2 {
                let a = Double(single.sensitivities!.parameter(j, component: i, at: 2))
                let b = double.sensitivities!.parameter(j, component: i, at: 2)
                #expect(Swift.abs(a - b) < 1e-3 * Swift.max(1, Swift.abs(b)), "p\(j) y\(i): \(a) vs \(b)")
            }
        }
    }

    /// An implicit method on a fixed grid: the sensitivities of the augmented stages equal central
    /// differences of the plain implicit solve (which uses the field's exact Jacobian).
    @Test func implicitMethodSensitivities() throws {
        let times: [Double] = [0, 0.5, 1]
        let implicit = ImplicitSolverSettings()
        for method in [ButcherTableau.kvaerno5, .trbdf2] {
            let s = try solve(
                VanDerPolField(), initialState: [2, 0], parameters: [5], times: times, method: method, step: .fixed(0.01),
                implicit: implicit, sensitivities: .parametersAndInitialState
            ).checked()
            func plain(_ mu: Double, _ y0: SIMD2<Double>) throws -> SIMD2<Double> {
                try solve(
                    VanDerPolField().withParameters([mu]), initialState: y0, from: 0, to: 1, method: method,
                    step: .fixed(0.01), saveAt: .final, implicit: implicit
                ).checked().states[0]
            }
            let h = 1e-6
            let dMu = (try plain(5 + h, [2, 0]) - plain(5 - h, [2, 0])) / (2 * h)
            let dY0 = (try plain(5, [2 + h, 0]) - plain(5, [2 - h, 0])) / (2 * h)
            for i in 0..<2 {
                #expect(relativeError(s.sensitivities!.parameter(0, component: i, at: 2), dMu[i]) < 1e-6, "\(method.name)")
                #expect(relativeError(s.sensitivities!.initialState(0, component: i, at: 2), dY0[i]) < 1e-6, "\(method.name)")
            }
        }
    }

    @Test func boundFieldJacobianIsExact() {
        let field = VanDerPolField().withParameters([3])
        let storage = UnsafeMutablePointer<Double>.allocate(capacity: 4)
        defer { storage.deallocate() }
        storage.initialize(repeating: 0, count: 4)
        let matrix = JacobianMatrix<Double>(dimension: 2, structure: .dense, storage: storage)
        #expect(field.jacobian(0, SIMD2(1.5, -0.5), into: matrix))
        #expect(matrix[0, 0] == 0 && matrix[0, 1] == 1)
        #expect(matrix[1, 0] == 3 * (-2 * 1.5 * -0.5) - 1)
        #expect(matrix[1, 1] == 3 * (1 - 1.5 * 1.5))
        #expect(field(0, SIMD2(1.5, -0.5)) == SIMD2(-0.5, 3 * (1 - 2.25) * -0.5 - 1.5))
    }

    /// A solution that blows up keeps its partial trajectory and the sensitivities that go with it.
    @Test func failedSolveKeepsPartialSensitivities() throws {
        struct Blowup: ParametricField {
            typealias State = SIMD2<Double>
            func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
            where S.Constant == Double {
                dy[0] = p[0] * y[0] * y[0]
                dy[1] = -y[1]
            }
        }
        // y₀ = 1, p = 1: y = 1/(1 − t) blows up at t = 1.
        let s = try solve(
            Blowup(), initialState: [1, 1], parameters: [1], times: [0, 0.5, 0.9, 1.5], maxSteps: 5_000,
            sensitivities: .parameters)
        #expect(!s.succeeded)
        #expect(s.states.count == 3)
        let sensitivities = try #require(s.sensitivities)
        #expect(sensitivities.timeCount == 3)
        // y = 1/(1 − pt): ∂y/∂p = t/(1 − pt)².
        #expect(relativeError(sensitivities.parameter(0, component: 0, at: 2), 0.9 / (0.1 * 0.1)) < 1e-4)
    }

    @Test func statesWithoutComponentsAreRefused() {
        struct Opaque: FixedSizeState {
            typealias Scalar = Double
            var x = 0.0
            static func + (a: Self, b: Self) -> Self { Self(x: a.x + b.x) }
            static func * (w: Double, a: Self) -> Self { Self(x: w * a.x) }
            static func += (a: inout Self, b: Self) { a.x += b.x }
            static func scaledMeanSquare(_ e: Self, _ a: Self, _ b: Self, rtol: Double, atol: Double) -> Double { 0 }
            var isFinite: Bool { x.isFinite }
            var shapeDescription: String { "Opaque" }
        }
        struct Decay: ParametricField {
            typealias State = Opaque
            func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
            where S.Constant == Double {
                dy[0] = -p[0] * y[0]
            }
        }
        #expect(throws: SolveError.componentsUnavailable(state: "Opaque", method: "a ParametricField solve")) {
            try solve(Decay(), initialState: Opaque(x: 1), parameters: [1], times: [0, 1], sensitivities: .parameters)
        }
    }
}
