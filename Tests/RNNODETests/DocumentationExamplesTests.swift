import RNNODE
import Testing

// The code examples of README.md and Docs/, compiled and run, so that they cannot drift from the API.

@Suite("Documentation examples")
struct DocumentationExamplesTests {
    /// README: fit parameters to data with gaps.
    @Test func readmeFit() throws {
        struct LotkaVolterra: ParametricField {
            typealias State = SIMD2<Double>
            func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
            where S.Constant == Double {
                dy[0] = p[0] * y[0] - p[1] * y[0] * y[1]
                dy[1] = p[2] * y[0] * y[1] - p[3] * y[1]
            }
        }
        let data = try Observations<Double>(CSVTable.parse("t,x,y\n0,1,1\n1,2.78,0.25\n2,6.77,\n3,,1.87\n4,1.88,0.33"))
        let fit = try LevenbergMarquardt<Double>().minimize(
            from: [1.4, 0.95, 0.95, 2.9],
            residuals: { p in
                data.residuals(
                    of: try solve(LotkaVolterra().withParameters(p), initialState: [1, 1], times: data.times))
            },
            jacobian: { p in  // ∂r/∂p from one solve with forward sensitivities
                data.residualJacobian(
                    of: try solve(
                        LotkaVolterra(), initialState: [1, 1], parameters: p,
                        times: data.times, sensitivities: .parameters))
            })
        #expect(fit.converged)
        #expect(fit.cost < 1e-2)
        #expect(Swift.abs(fit.parameters.scalars[0] - 1.5) < 0.1)
    }

    /// README: solve an ODE.
    @Test func readmeSolve() throws {
        // Su's two-species competition model, dx/dt = f(x).
        let competition = FieldClosure<SIMD2<Double>> { _, x in
            SIMD2(
                0.1 * x.x * (1 - 0.002 * x.x) - 1e-4 * x.x * x.y,
                0.3 * x.y * (1 - 0.003 * x.y) - 2e-4 * x.x * x.y)
        }
        // The Euler RNN: Δt = 0.1, 1000 steps, every step kept.
        let rnn = try solve(
            competition, initialState: [100, 150], from: 0, to: 100,
            method: .euler, step: .fixed(0.1))
        // The same ODE, adaptive Dormand–Prince, read at the RNN's time points.
        let ode = try solve(
            competition, initialState: [100, 150], from: 0, to: 100,
            method: .dopri5, step: .adaptive(rtol: 1e-10, atol: 1e-10),
            saveAt: .times(rnn.times))
        print(rnn.finalState, ode.finalState, ode.statistics)

        #expect(rnn.states.count == 1001)
        #expect(ode.times == rnn.times)
        #expect(Swift.abs(rnn.finalState.x - ode.finalState.x) < 5)
    }

    /// README: a recurrent cell as an ODE.
    @Test func readmeCell() throws {
        var generator = SeededGenerator(seed: 0)
        let gru = GRUCell<Double>(inputSize: 3, hiddenSize: 8, using: &generator)  // dh/dt = (1 − z) ⊙ (n − h)
        let x = Tensor<Double>.normal([2, 10, 3], mean: 0, standardDeviation: 1, using: &generator)
        // Euler with Δt = 1 is exactly PyTorch's nn.GRU; RK4 and Dormand–Prince integrate the same field.
        let rnn = try RecurrentLayer(gru)(x)
        let rk4 = try RecurrentLayer(gru, integration: .fixed(.rk4))(x)
        let ode = try RecurrentLayer(gru, integration: .adaptive(rtol: 1e-8, atol: 1e-10))(x)
        print(rnn.sequence.shape, rk4.last, ode.statistics)
        let report = try compareDiscreteAndContinuous(gru, inputs: x)  // how far the RNN and the ODE drift apart
        print(report)
        // Irregularly sampled rows: each integrates across its own gaps (gradients reach the stamps too).
        let clock = (0..<10).map { Double($0) }
        let stamps = Tensor<Double>([clock, clock.map { 2 * $0 }])  // row 0 every 1, row 1 every 2
        let irregular = try RecurrentLayer(gru, integration: .fixed(.rk4, timeStep: 0.5, substeps: 2))
            .run(x, initialStates: nil, mask: nil, times: .irregular(stamps))
        print(irregular.last)
        #expect(irregular.sequence.shape == [2, 10, 8] && irregular.sequence.isFinite)
        #expect(stamps.scalars[10..<20] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18])

        #expect(rnn.sequence.shape == [2, 10, 8])
        #expect(report.runs.count == 3)
        // RK4 with one step per input is far closer to the ODE than Euler is.
        #expect(maxAbsDifference(rk4.sequence, ode.sequence) < 0.1 * maxAbsDifference(rnn.sequence, ode.sequence))
    }

    /// README: a gradient through a solve.
    @Test func readmeGradient() throws {
        // d/dk of y(1) for y' = −k·y, y(0) = 2: exactly −2e^(−k).
        let (y1, dk) = try valueWithGradient(at: Tensor<Double>([0.5])) { k in
            let decay = FieldClosure<Tensor<Double>> { _, y in -k * y }
            return try solve(
                decay, initialState: Tensor([2.0]), from: 0, to: 1,
                method: .rk4, step: .fixed(0.01), saveAt: .final
            ).finalState.sum()
        }
        print(y1.scalar, dk.scalar)  // 1.2130613…, −1.2130613…

        #expect(Swift.abs(dk.scalar + 2 * Double.exp(-0.5)) < 1e-9)
    }

    /// Guide: a tape used directly.
    @Test func guideTape() {
        let tape = Tape<Double>()
        let w = tape.variable(Tensor([0.5, -1.0]))
        let loss = (tanh(w * 2) * Tensor([1, 3])).sum()
        let dw = tape.gradient(of: loss, withRespectTo: w)
        #expect(dw.shape == [2])
        #expect(Swift.abs(dw.scalars[0] - 2 * (1 - Double.pow(Double.tanh(1), 2))) < 1e-15)
    }

    /// Guide: the Elman cell is one Euler step of its vector field.
    @Test func guideElmanCellIsAnEulerStep() throws {
        var generator = SeededGenerator(seed: 3)
        let w = Tensor<Double>.normal([4, 4], standardDeviation: 0.5, using: &generator)
        let u = Tensor<Double>.normal([3, 4], standardDeviation: 0.5, using: &generator)
        let b = Tensor<Double>.zeros([4])
        let x = Tensor<Double>.normal([2, 3], using: &generator)  // one input step, batch 2
        let h = Tensor<Double>.normal([2, 4], using: &generator)
        // dh/dt = −h + tanh(h W + x U + b), input held fixed over the step.
        let field = FieldClosure<Tensor<Double>> { _, h in -h + tanh(matmul(h, w) + matmul(x, u) + b) }
        let step = try solve(field, initialState: h, from: 0, to: 1, method: .euler, step: .fixed(1), saveAt: .final)
        let elman = tanh(matmul(h, w) + matmul(x, u) + b)
        expectClose(step.finalState.scalars, elman.scalars, tolerance: 1e-15)
    }

    /// Guide: a struct field on SIMD3, adaptive Tsit5.
    @Test func guideLorenz() throws {
        struct Lorenz: VectorField {
            var sigma = 10.0, rho = 28.0, beta = 8.0 / 3
            func callAsFunction(_ t: Double, _ u: SIMD3<Double>) -> SIMD3<Double> {
                SIMD3(sigma * (u.y - u.x), u.x * (rho - u.z) - u.y, u.x * u.y - beta * u.z)
            }
        }
        let s = try solve(
            Lorenz(), initialState: [1, 1, 1], from: 0, to: 20,
            method: .tsit5, step: .adaptive(rtol: 1e-9, atol: 1e-9))
        print(s.finalState, s.statistics)
        #expect(s.succeeded)
        // Against Dormand–Prince at a tighter tolerance. Lorenz amplifies local errors by about
        // e^(0.9 t) ≈ 10⁸ by t = 20, so agreement to ~1e-3 is what the tolerance 1e-9 allows.
        let reference = try solve(
            Lorenz(), initialState: [1, 1, 1], from: 0, to: 20, method: .dopri5,
            step: .adaptive(rtol: 1e-12, atol: 1e-12), saveAt: .final)
        #expect(Swift.abs(s.finalState.z - reference.finalState.z) < 1e-2)
    }

    /// ODEState docs: a user-defined fixed-size state through the same stepper.
    @Test func fixedSizeStatePendulum() throws {
        struct Pendulum: FixedSizeState {
            typealias Scalar = Double
            var angle = 0.0, velocity = 0.0
            static func + (a: Self, b: Self) -> Self { Self(angle: a.angle + b.angle, velocity: a.velocity + b.velocity) }
            static func * (w: Double, a: Self) -> Self { Self(angle: w * a.angle, velocity: w * a.velocity) }
            static func += (a: inout Self, b: Self) { a = a + b }
            static func scaledMeanSquare(_ e: Self, _ a: Self, _ b: Self, rtol: Double, atol: Double) -> Double {
                let ea = e.angle / (atol + rtol * max(abs(a.angle), abs(b.angle)))
                let ev = e.velocity / (atol + rtol * max(abs(a.velocity), abs(b.velocity)))
                return (ea * ea + ev * ev) / 2
            }
            var isFinite: Bool { angle.isFinite && velocity.isFinite }
            var shapeDescription: String { "Pendulum" }
        }
        // Small oscillations of θ'' = −sin θ: θ(t) ≈ θ₀ cos t.
        let s = try solve(
            initialState: Pendulum(angle: 1e-3, velocity: 0), from: 0, to: 2 * Double.pi,
            method: .dopri5, step: .adaptive(rtol: 1e-10, atol: 1e-12), saveAt: .final
        ) { _, p in
            Pendulum(angle: p.velocity, velocity: -Double.sin(p.angle))
        }
        #expect(Swift.abs(s.finalState.angle - 1e-3) < 1e-9)
        let fixed = try solve(
            initialState: Pendulum(angle: 1e-3, velocity: 0), from: 0, to: 2 * Double.pi,
            method: .rk4, step: .fixed(0.01), saveAt: .final
        ) { _, p in
            Pendulum(angle: p.velocity, velocity: -Double.sin(p.angle))
        }
        #expect(Swift.abs(fixed.finalState.angle - s.finalState.angle) < 1e-11)
    }

    /// Integrators guide: a custom method is a tableau.
    @Test func integratorsCustomTableau() throws {
        let kutta3 = try ButcherTableau(
            name: "Kutta3", order: 3,
            a: [[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]],
            b: [1.0 / 6, 2.0 / 3, 1.0 / 6])
        let s = try solve(initialState: 1.0, from: 0, to: 1, method: kutta3, step: .fixed(0.01)) { _, y in y }
        #expect(Swift.abs(s.finalState - Double.exp(1)) < 1e-6)
    }
}
