import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// Su's competition model with its six parameters as one tensor p = (r1, r2, a1, a2, 1/N1, 1/N2).
func competitionField(_ p: Tensor<Double>) -> FieldClosure<Tensor<Double>> {
    FieldClosure(parameters: ["p": p]) { _, x in
        let (x1, x2) = (x[0], x[1])
        let dx1 = p[0] * x1 * (1 - p[4] * x1) - p[2] * x1 * x2
        let dx2 = p[1] * x2 * (1 - p[5] * x2) - p[3] * x1 * x2
        return Tensor(stacking: [dx1, dx2])
    }
}

@Suite("Gradients through solve")
struct GradientThroughSolveTests {
    /// y' = −k y: y(T) = y₀ e^(−kT), so ∂y/∂y₀ = e^(−kT) and ∂y/∂k = −T y₀ e^(−kT).
    @Test func linearDecayAgainstTheClosedForm() throws {
        let (y0, k, horizon) = (2.0, 0.7, 1.5)
        let grads = try gradient(at: [Tensor([y0]), Tensor([k])]) { p in
            let field = FieldClosure<Tensor<Double>>(parameters: ["k": p[1]]) { _, y in -p[1] * y }
            return try solve(field, initialState: p[0], from: 0, to: horizon, method: .rk4, step: .fixed(0.01), saveAt: .final)
                .finalState.sum()
        }
        let decay = Double.exp(-k * horizon)
        #expect(Swift.abs(grads[0].scalar - decay) < 1e-9)
        #expect(Swift.abs(grads[1].scalar - (-horizon * y0 * decay)) < 1e-9)
    }

    /// Backpropagation through the Euler RNN of the competition model is exact for the discrete
    /// recurrence: it matches central differences of the same computation.
    @Test func competitionModelParametersAndInitialState() throws {
        let truth = Tensor<Double>([0.1, 0.3, 1e-4, 2e-4, 0.002, 0.003])
        let x0 = Tensor<Double>([100, 150])
        let observed: [Double] = [165, 283, 197, 290]
        func loss(_ p: Tensor<Double>, _ x0: Tensor<Double>) throws -> Tensor<Double> {
            let s = try solve(competitionField(p), initialState: x0, times: [0, 10, 15], method: .euler, step: .fixed(1))
            let predicted = Tensor(concatenating: [s.states[1], s.states[2]])
            return square(predicted - Tensor(observed)).sum()
        }
        // Scale parameters to order one so that central differences use sensible steps.
        let scale = truth
        let unit = Tensor<Double>.ones([6]) * 1.1
        let check = try checkGradient(at: unit) { u in try loss(u * scale, x0) }
        #expect(check.maxError < 1e-6, "\(check)")
        let stateCheck = try checkGradient(at: x0) { x in try loss(truth * 1.1, x) }
        #expect(stateCheck.maxError < 1e-6, "\(stateCheck)")
    }

    @Test(arguments: ["midpoint", "rk4", "tsit5"])
    func fixedStepMethodsMatchFiniteDifferences(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let p = Tensor<Double>([0.1, 0.3, 1e-4, 2e-4, 0.002, 0.003])
        let check = try checkGradient(at: Tensor<Double>([100, 150])) { x0 in
            try solve(competitionField(p), initialState: x0, from: 0, to: 20, method: method, step: .fixed(0.5), saveAt: .final)
                .finalState.sum()
        }
        #expect(check.maxError < 1e-7, "\(name): \(check)")
    }

    /// Through adaptive steps the step sizes are constants of the computed trajectory; the gradient
    /// agrees with finite differences to about the solve tolerance.
    @Test func adaptiveDormandPrinceWithDenseOutput() throws {
        let p = Tensor<Double>([0.1, 0.3, 1e-4, 2e-4, 0.002, 0.003])
        let check = try checkGradient(at: Tensor<Double>([100, 150])) { x0 in
            let s = try solve(
                competitionField(p), initialState: x0, times: [0, 7.3, 21.1, 40], method: .dopri5,
                step: .adaptive(rtol: 1e-11, atol: 1e-11))
            return (s.states[1] + s.states[2] * 0.5 + s.states[3]).sum()
        }
        #expect(check.maxError < 1e-6, "\(check)")
    }

    @Test func floatAgreesWithDouble() throws {
        func finalGradient<T: TensorScalar>(_: T.Type) throws -> [Double] {
            try gradient(at: [Tensor<T>([1, 0.5]), Tensor<T>([0.8])]) { p in
                let field = FieldClosure<Tensor<T>>(parameters: ["k": p[1]]) { _, y in -p[1] * y * y }
                return try solve(field, initialState: p[0], from: 0, to: 2, method: .rk4, step: .fixed(0.05), saveAt: .final)
                    .finalState.sum()
            }.flatMap { $0.scalars.map(Double.init) }
        }
        expectClose(try finalGradient(Float.self), try finalGradient(Double.self), tolerance: 1e-5)
    }
}
