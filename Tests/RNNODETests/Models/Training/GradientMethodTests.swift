import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// A small neural vector field, dy/dt = MLP(y), for comparing gradient methods.
struct NeuralField: VectorField, Trainable, Sendable {
    typealias Scalar = Double
    var network: MLP<Double>
    var parameterPaths: [ParameterPath<Self>] { ParameterPath.nested("network", \.network, in: self) }
    func callAsFunction(_ t: Double, _ y: Tensor<Double>) -> Tensor<Double> { network(y) }
}

func neuralField(seed: UInt64) -> NeuralField {
    var generator = SeededGenerator(seed: seed)
    return NeuralField(
        network: MLP(
            sizes: [2, 8, 2], hiddenActivation: .tanh, weightInitializer: .normal(mean: 0, standardDeviation: 0.5),
            biasInitializer: .normal(mean: 0, standardDeviation: 0.1), using: &generator))
}

@Suite("Adjoint and truncated gradients")
struct GradientMethodTests {
    /// y' = −k y: ∂y(T)/∂y₀ = e^(−kT), ∂y(T)/∂k = −T y₀ e^(−kT).
    @Test func adjointMatchesTheClosedForm() throws {
        let (y0, k, horizon) = (2.0, 0.7, 1.5)
        let grads = try gradient(at: [Tensor([y0]), Tensor([k])]) { p in
            let field = FieldClosure<Tensor<Double>>(parameters: ["k": p[1]]) { _, y, theta in -theta[0] * y }
            return try solve(
                field, initialState: p[0], from: 0, to: horizon, method: .dopri5,
                step: .adaptive(rtol: 1e-10, atol: 1e-12), saveAt: .final, gradients: .backsolveAdjoint
            ).finalState.sum()
        }
        let decay = Double.exp(-k * horizon)
        #expect(Swift.abs(grads[0].scalar - decay) < 1e-8)
        #expect(Swift.abs(grads[1].scalar - (-horizon * y0 * decay)) < 1e-8)
    }

    /// A loss on several output times (the adjoint jumps at each) through a neural field: the adjoint
    /// agrees with backpropagation through the steps to within the solve tolerance.
    @Test(arguments: [1e-6, 1e-9])
    func adjointAgreesWithBackpropagation(tolerance: Double) throws {
        let field = neuralField(seed: 4)
        let y0 = Tensor<Double>([[1, 0.5], [-0.3, 0.8]])  // a batch of two
        let times = [0.0, 0.4, 1.1, 2.0]
        let target = Tensor<Double>.ones([4, 2, 2]) * 0.3
        func lossGradients(adjoint: Bool) throws -> [Tensor<Double>] {
            let tape = Tape<Double>()
            let (model, variables) = field.recorded(on: tape)
            let start = tape.variable(y0)
            let states = Tensor(
                stacking: try solve(
                    model, initialState: start, times: times, method: .dopri5,
                    step: .adaptive(rtol: tolerance, atol: tolerance),
                    gradients: adjoint ? .backsolveAdjoint : .backpropagation
                ).states)
            let loss = square(states - target).sum()
            return tape.gradients(of: loss, withRespectTo: [start] + variables)
        }
        let viaAdjoint = try lossGradients(adjoint: true)
        let viaBackprop = try lossGradients(adjoint: false)
        for (a, b) in zip(viaAdjoint, viaBackprop) {
            let scale = Swift.max(1, b.scalars.map { Swift.abs($0) }.max()!)
            let difference = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max()!
            #expect(difference < 200 * tolerance * scale, "tolerance \(tolerance): difference \(difference)")
        }
    }

    /// With fixed RK4 steps both methods converge to the gradient of the continuous problem as Δt → 0.
    @Test func fixedStepAdjointConverges() throws {
        let field = neuralField(seed: 5)
        let y0 = Tensor<Double>([0.7, -0.4])
        func gradients(dt: Double, adjoint: Bool) throws -> [Double] {
            let tape = Tape<Double>()
            let (model, variables) = field.recorded(on: tape)
            let start = tape.variable(y0)
            let final = try solve(
                model, initialState: start, from: 0, to: 1, method: .rk4, step: .fixed(dt), saveAt: .final,
                gradients: adjoint ? .backsolveAdjoint : .backpropagation
            ).finalState
            return tape.gradients(of: square(final).sum(), withRespectTo: [start] + variables).flatMap(\.scalars)
        }
        let coarse = zip(try gradients(dt: 0.1, adjoint: true), try gradients(dt: 0.1, adjoint: false)).map { Swift.abs($0 - $1) }
            .max()!
        let fine = zip(try gradients(dt: 0.05, adjoint: true), try gradients(dt: 0.05, adjoint: false)).map { Swift.abs($0 - $1) }
            .max()!
        #expect(coarse < 1e-4)
        // Fourth order: halving Δt divides the difference by about 16.
        #expect(fine < coarse / 8, "coarse \(coarse), fine \(fine)")
    }

    /// The one-operation strategies keep the same few records for 10 and for 10,000 steps.
    @Test(arguments: [GradientStrategy.backsolveAdjoint, .interpolatingAdjoint, .checkpointed()])
    func oneOperationStrategiesKeepNothingPerStep(strategy: GradientStrategy) throws {
        func records(steps: Int) throws -> Int {
            let tape = Tape<Double>()
            let k = tape.variable(Tensor([0.5]))
            let y0 = tape.variable(Tensor([1.0]))
            let before = tape.count
            let field = FieldClosure<Tensor<Double>>(parameters: ["k": k]) { _, y, theta in -theta[0] * y }
            _ = try solve(
                field, initialState: y0, from: 0, to: Double(steps) * 1e-3, method: .rk4, step: .fixed(1e-3),
                saveAt: .final, gradients: strategy)
            return tape.count - before
        }
        let few = try records(steps: 10)
        #expect(few <= 4)  // the operation, and unstacking its two outputs (saved and final state)
        #expect(try records(steps: 10_000) == few)
    }

    /// Truncation to the last k steps equals solving the first N − k steps detached, then k recorded.
    @Test func truncatedBackpropagation() throws {
        let field = neuralField(seed: 6)
        let y0 = Tensor<Double>([0.2, 0.9])
        let (steps, kept, dt) = (20, 5, 0.05)
        let truncated = try gradient(at: [y0] + field.parameters) { p in
            var model = field
            model.parameters = Array(p.dropFirst())
            return try solve(
                model, initialState: p[0], from: 0, to: Double(steps) * dt, method: .rk4, step: .fixed(dt),
                saveAt: .final, gradients: .truncated(steps: kept)
            ).finalState.sum()
        }
        let manual = try gradient(at: [y0] + field.parameters) { p in
            var model = field
            model.parameters = Array(p.dropFirst())
            let early = try solve(
                model, initialState: p[0], from: 0, to: Double(steps - kept) * dt, method: .rk4,
                step: .fixed(dt), saveAt: .final
            ).finalState.detached
            return try solve(
                model, initialState: early, from: Double(steps - kept) * dt, to: Double(steps) * dt,
                method: .rk4, step: .fixed(dt), saveAt: .final
            ).finalState.sum()
        }
        #expect(truncated[0].scalars == [0, 0])  // no gradient reaches the initial state
        for (a, b) in zip(truncated.dropFirst(), manual.dropFirst()) { expectClose(a.scalars, b.scalars, tolerance: 1e-12) }
        #expect(throws: SolveError.invalidTruncation("it needs fixed steps")) {
            try solve(field, initialState: y0, from: 0, to: 1, step: .adaptive(), gradients: .truncated(steps: 3))
        }
    }

    @Test func trainableBookkeeping() {
        var field = neuralField(seed: 7)
        #expect(
            field.namedParameters.map(\.name) == [
                "network.layers.0.weight", "network.layers.0.bias", "network.layers.1.weight", "network.layers.1.bias",
            ])
        #expect(field.parameterCount == 2 * 8 + 8 + 8 * 2 + 2)
        let flat = field.flattenedParameters
        #expect(flat.shape == [field.parameterCount])
        #expect(field.withFlattenedParameters(flat).parameters == field.parameters)
        field.network.layers[0].bias.setScalar(.nan, at: [3])
        #expect(field.firstNonFiniteParameter() == "network.layers.0.bias")
        #expect(throws: SolveError.nonFiniteParameter(name: "network.layers.0.bias")) {
            try solve(field, initialState: Tensor<Double>([0, 0]), from: 0, to: 1)
        }
    }

    @Test func parameterTransforms() {
        let theta = Tensor<Double>([0.3, 1e-4, 2])
        for transform in [ParameterTransform.identity, .logarithmic, .softplus, .scaled(1e-3)] {
            expectClose(transform(transform.inverse(theta)).scalars, theta.scalars, tolerance: 1e-15)
        }
        // A relative step: a gradient step in log-space changes 0.3 and 1e-4 by the same factor.
        let g = gradient(at: ParameterTransform.logarithmic.inverse(theta)) { phi in ParameterTransform.logarithmic(phi).sum() }
        expectClose(g.scalars, theta.scalars, tolerance: 1e-15)
    }
}
