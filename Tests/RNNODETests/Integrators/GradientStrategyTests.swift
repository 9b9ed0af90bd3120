import Testing

@testable import RNNODEIntegrators
@testable import RNNODETensors

/// dy/dt = tanh(y W + b) on a [2, 3] batch of states, with W [3, 3] and b [3] declared parameters.
private func tanhField<T: TensorScalar>(_ weight: Tensor<T>, _ bias: Tensor<T>) -> FieldClosure<Tensor<T>> {
    FieldClosure(parameters: ["weight": weight, "bias": bias]) { _, y, theta in tanh(matmul(y, theta[0]) + theta[1]) }
}

private func tanhProblem<T: TensorScalar>(_: T.Type) -> (y0: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>) {
    var generator = SeededGenerator(seed: 11)
    let weight = Tensor<T>.normal([3, 3], standardDeviation: 0.8, using: &generator)
    let bias = Tensor<T>.normal([3], standardDeviation: 0.3, using: &generator)
    return (Tensor<T>([[0.5, -0.2, 0.1], [-0.4, 0.3, 0.9]]), weight, bias)
}

/// The gradient of Σ (saved states)² + Σ sin(final state) for y₀, W and b, flattened.
private func tanhGradients<T: TensorScalar>(
    _ strategy: GradientStrategy, method: ButcherTableau, step: StepSizeControl<T>, saveAt: SaveAt<T>, to t1: T
) throws -> [T] {
    let (y0, weight, bias) = tanhProblem(T.self)
    return try gradient(at: [y0, weight, bias]) { p in
        let run = try solve(
            tanhField(p[1], p[2]), initialState: p[0], from: 0, to: t1, method: method, step: step, saveAt: saveAt,
            gradients: strategy
        ).checked()
        return square(Tensor(stacking: run.states)).sum() + sin(run.finalState).sum()
    }.flatMap(\.scalars)
}

/// max |a − b| / max |b|.
private func relativeDifference<T: TensorScalar>(_ a: [T], _ b: [T]) -> T {
    let scale = b.map { Swift.abs($0) }.max()!
    return zip(a, b).map { Swift.abs($0 - $1) }.max()! / scale
}

@Suite("Gradient strategies")
struct GradientStrategyTests {
    // MARK: - Checkpointed reverse mode

    /// 200 fixed RK4 steps: the checkpointed gradient is backpropagation's, for every output choice and
    /// segment length (nil: √N, 1: a checkpoint per step, 7: uneven segments, 500: one segment).
    @Test(arguments: [nil, 1, 7, 500] as [Int?])
    func checkpointedEqualsBackpropagationWithFixedSteps(every: Int?) throws {
        for saveAt in [SaveAt<Double>.final, .steps, .times([0, 0.3, 0.7001, 2])] {
            let reference = try tanhGradients(.backpropagation, method: .rk4, step: .fixed(0.01), saveAt: saveAt, to: 2.0)
            let checkpointed = try tanhGradients(
                .checkpointed(every: every), method: .rk4, step: .fixed(0.01), saveAt: saveAt, to: 2.0)
            let difference = relativeDifference(checkpointed, reference)
            #expect(difference <= 1e-12, "every \(String(describing: every)), \(saveAt): \(difference)")
        }
    }

    /// Adaptive Dormand–Prince: the replayed steps are the forward pass's accepted steps, so the
    /// gradient is backpropagation's, with dense output at requested times too.
    @Test func checkpointedEqualsBackpropagationWithAdaptiveSteps() throws {
        let step = StepSizeControl<Double>.adaptive(rtol: 1e-7, atol: 1e-9)
        for method in [ButcherTableau.dopri5, .tsit5] {
            for saveAt in [SaveAt<Double>.final, .steps, .times([0.25, 1, 2.5, 3])] {
                let reference = try tanhGradients(.backpropagation, method: method, step: step, saveAt: saveAt, to: 3.0)
                for every in [nil, 3] as [Int?] {
                    let checkpointed = try tanhGradients(
                        .checkpointed(every: every), method: method, step: step, saveAt: saveAt, to: 3.0)
                    let difference = relativeDifference(checkpointed, reference)
                    #expect(difference <= 1e-12, "\(method.name), \(saveAt), every \(String(describing: every)): \(difference)")
                }
            }
        }
    }

    @Test func checkpointedEqualsBackpropagationInFloat() throws {
        let reference = try tanhGradients(
            .backpropagation, method: .rk4, step: StepSizeControl<Float>.fixed(0.02), saveAt: .final, to: Float(2))
        let checkpointed = try tanhGradients(
            .checkpointed(), method: .rk4, step: StepSizeControl<Float>.fixed(0.02), saveAt: .final, to: Float(2))
        #expect(relativeDifference(checkpointed, reference) <= 1e-5)
        let adaptive = StepSizeControl<Float>.adaptive(rtol: 1e-4, atol: 1e-6)
        let adaptiveReference = try tanhGradients(.backpropagation, method: .dopri5, step: adaptive, saveAt: .final, to: 2)
        let adaptiveCheckpointed = try tanhGradients(
            .checkpointed(every: 2), method: .dopri5, step: adaptive, saveAt: .final, to: 2)
        #expect(relativeDifference(adaptiveCheckpointed, adaptiveReference) <= 1e-5)
    }

    /// Against central finite differences of the discrete solve (fixed steps: the loss is smooth in θ).
    @Test func checkpointedMatchesFiniteDifferences() throws {
        let (y0, weight, bias) = tanhProblem(Double.self)
        func loss(_ w: Tensor<Double>) throws -> Tensor<Double> {
            let run = try solve(
                tanhField(w, bias), initialState: y0, from: 0, to: 1, method: .rk4, step: .fixed(0.05), saveAt: .final,
                gradients: .checkpointed(every: 4))
            return square(run.finalState).sum()
        }
        let automatic = try gradient(at: weight) { try loss($0) }
        let numerical = try numericalGradient(at: weight) { try loss($0).scalar }
        #expect(relativeDifference(automatic.scalars, numerical.scalars) <= 1e-8)
    }

    /// A diagonally implicit method on a fixed grid: the replay repeats the Newton iterations from a
    /// fresh start, so the gradient agrees with backpropagation to the Newton tolerance.
    @Test func checkpointedWithAnImplicitMethod() throws {
        for method in [ButcherTableau.kvaerno5, .kenCarp4] {
            let reference = try tanhGradients(
                .backpropagation, method: method, step: .fixed(0.05), saveAt: .times([0.5, 1]), to: 1.0)
            let checkpointed = try tanhGradients(
                .checkpointed(every: 5), method: method, step: .fixed(0.05), saveAt: .times([0.5, 1]), to: 1.0)
            let difference = relativeDifference(checkpointed, reference)
            #expect(difference <= 1e-8, "\(method.name): \(difference)")
        }
    }

    /// The trained step size of ``solveSteps(_:initialState:steps:stepSize:from:method:saveAt:gradients:)``
    /// is a declared parameter of the rescaled field.
    @Test func checkpointedSolveStepsDifferentiatesTheStepSize() throws {
        let (y0, weight, bias) = tanhProblem(Double.self)
        func gradients(_ strategy: GradientStrategy) throws -> [Double] {
            try gradient(at: [y0, weight, Tensor([0.05])]) { p in
                let run = try solveSteps(
                    tanhField(p[1], bias), initialState: p[0], steps: 30, stepSize: p[2], method: .rk4, saveAt: .final,
                    gradients: strategy)
                return square(run.finalState).sum()
            }.flatMap(\.scalars)
        }
        #expect(relativeDifference(try gradients(.checkpointed(every: 4)), try gradients(.backpropagation)) <= 1e-12)
    }

    // MARK: - Refusals

    @Test func oneOperationStrategiesRefuseUndeclaredRecordedTensors() throws {
        let tape = Tape<Double>()
        let k = tape.variable(Tensor([0.5]))
        let captured = FieldClosure<Tensor<Double>>(parameters: ["k": k]) { _, y in -k * y }
        for strategy in [GradientStrategy.checkpointed(), .backsolveAdjoint, .interpolatingAdjoint] {
            #expect(throws: SolveError.undeclaredRecordedTensors(strategy.name)) {
                try solve(captured, initialState: Tensor([1.0]), from: 0, to: 1, gradients: strategy)
            }
        }
        // Backpropagation differentiates captured tensors as it always has.
        let run = try solve(captured, initialState: Tensor([1.0]), from: 0, to: 1, method: .rk4, step: .fixed(0.1))
        #expect(run.finalState.isRecorded)
    }

    @Test func oneOperationStrategiesNeedTensorStates() throws {
        let decay = FieldClosure<Double> { _, y in -y }
        #expect(throws: SolveError.self) { try solve(decay, initialState: 1, from: 0, to: 1, gradients: .checkpointed()) }
        #expect(throws: SolveError.unsupportedGradientStrategy("checkpoints must be at least 1 step apart, got 0")) {
            try solve(decay, initialState: 1, from: 0, to: 1, gradients: .checkpointed(every: 0))
        }
        let field = tanhField(tanhProblem(Double.self).weight, tanhProblem(Double.self).bias)
        #expect(throws: SolveError.self) {
            try solve(
                field, initialState: tanhProblem(Double.self).y0, from: 0, to: 1, method: .rodas5P, gradients: .checkpointed())
        }
    }

    /// Events take backpropagation and truncation (an event that never fires leaves the gradient as
    /// without events) and refuse the one-operation strategies.
    @Test func eventsTakeTruncationAndRefuseOneOperationStrategies() throws {
        let (y0, weight, bias) = tanhProblem(Double.self)
        let never = Event<Tensor<Double>>(terminal: true) { (t: Double, _: Tensor<Double>) in 10 - t }
        func gradients(events: [Event<Tensor<Double>>]) throws -> [Double] {
            try gradient(at: [y0, weight]) { p in
                let run = try solve(
                    tanhField(p[1], bias), initialState: p[0], from: 0, to: 1, method: .rk4, step: .fixed(0.1),
                    saveAt: .final, events: events, gradients: .truncated(steps: 3))
                return square(run.finalState).sum()
            }.flatMap(\.scalars)
        }
        let withEvent = try gradients(events: [never])
        #expect(withEvent == (try gradients(events: [])))
        #expect(withEvent[0..<6].allSatisfy { $0 == 0 })  // truncated: nothing reaches y₀
        #expect(
            throws: SolveError.unsupportedGradientStrategy(
                ".checkpointed does not support events; use .backpropagation or .truncated(steps:)")
        ) {
            try solve(
                tanhField(weight, bias), initialState: y0, from: 0, to: 1, events: [never], gradients: .checkpointed())
        }
    }

    /// Constants in, constants out: nothing is recorded, and the values are those of the plain solve.
    @Test func oneOperationStrategiesOnConstantsSolveNormally() throws {
        let (y0, weight, bias) = tanhProblem(Double.self)
        let plain = try solve(tanhField(weight, bias), initialState: y0, from: 0, to: 1, method: .rk4, step: .fixed(0.1))
        for strategy in [GradientStrategy.checkpointed(), .backsolveAdjoint, .interpolatingAdjoint] {
            let run = try solve(
                tanhField(weight, bias), initialState: y0, from: 0, to: 1, method: .rk4, step: .fixed(0.1), gradients: strategy)
            #expect(run.times == plain.times)
            #expect(run.states.map(\.scalars) == plain.states.map(\.scalars))
            #expect(!run.finalState.isRecorded)
            #expect(run.statistics.acceptedSteps == plain.statistics.acceptedSteps)
        }
    }
}
