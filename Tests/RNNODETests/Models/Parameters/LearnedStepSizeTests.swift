import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite("Trainable step sizes")
struct LearnedStepSizeTests {
    @Test func aLearnedScalarStepIsAFixedStep() throws {
        let field = neuralField(seed: 8)
        let y0 = Tensor<Double>([0.3, -0.6])
        let step = LearnedStepSize<Double>(0.1)
        #expect(Swift.abs(step.value.scalar - 0.1) < 1e-15)
        let learned = try solveSteps(field, initialState: y0, steps: 10, stepSize: step.value, method: .rk4)
        let fixed = try solve(field, initialState: y0, from: 0, to: 1, method: .rk4, step: .fixed(0.1))
        #expect(learned.times.count == 11)
        expectClose(learned.times, fixed.times, tolerance: 1e-15)
        expectClose(learned.finalState.scalars, fixed.finalState.scalars, tolerance: 1e-14)
    }

    @Test func gradientWithRespectToTheStepSize() throws {
        let field = neuralField(seed: 9)
        let y0 = Tensor<Double>([0.3, -0.6])
        for initial in [Tensor<Double>(0.2), Tensor<Double>([0.1, 0.3])] {
            let raw = LearnedStepSize<Double>(initial).raw
            let check = try checkGradient(at: raw) { raw in
                var step = LearnedStepSize<Double>(initial)
                step.raw = raw
                return try solveSteps(
                    field, initialState: y0, steps: 8, stepSize: step.value, method: .midpoint,
                    saveAt: .final
                ).finalState.sum()
            }
            #expect(check.maxError < 1e-8, "\(check)")
        }
    }

    /// Learning per-component time constants: Euler steps of dy/dt = −y with unknown Δt per component
    /// must reach given targets; gradient descent on φ recovers Δt.
    @Test func fitsPerComponentTimeConstants() throws {
        let decay = FieldClosure<Tensor<Double>> { _, y in -y }
        let y0 = Tensor<Double>([1, 1])
        let trueSteps = [0.05, 0.2]
        let target = Tensor<Double>(trueSteps.map { Double.pow(1 - $0, 10) })  // 10 Euler steps
        var step = LearnedStepSize<Double>(Tensor([0.1, 0.1]))
        for _ in 0..<3000 {
            let g = try gradient(at: step.raw) { raw in
                var s = step
                s.raw = raw
                let y = try solveSteps(
                    decay, initialState: y0, steps: 10, stepSize: s.value, method: .euler,
                    saveAt: .final
                ).finalState
                return square(y - target).sum()
            }
            step.raw = step.raw - 2 * g
        }
        expectClose(step.value.scalars, trueSteps, tolerance: 1e-6)
    }

    @Test func invalidStepSizes() {
        let decay = FieldClosure<Tensor<Double>> { _, y in -y }
        #expect(throws: SolveError.self) {
            try solveSteps(decay, initialState: Tensor([1.0]), steps: 5, stepSize: Tensor([-0.1]))
        }
        #expect(throws: SolveError.invalidMaxSteps(0)) {
            try solveSteps(decay, initialState: Tensor([1.0]), steps: 0, stepSize: Tensor([0.1]))
        }
    }
}
