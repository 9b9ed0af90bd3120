import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// A model with one vector parameter, for exercising the loop.
struct Quadratic: Trainable {
    typealias Scalar = Double
    var w = Tensor<Double>([3, -2])
    var parameterPaths: [ParameterPath<Self>] { [.init("w", \.w)] }
}

@Suite("Training loop")
struct TrainingLoopTests {
    let quiet = ProgressStyle.quiet

    @Test func minimizesAndReportsTheBudget() {
        var model = Quadratic()
        var optimizer = SGD<Double>(learningRate: 0.1)
        let result = train(&model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 100), progress: quiet) { m, _ in
            square(m.w - Tensor([1, 1])).sum()
        }
        #expect(result.stopReason == .maxSteps)
        #expect(result.steps == 100 && result.losses.count == 100)
        expectClose(model.w.scalars, [1, 1], tolerance: 1e-8)
        #expect(result.losses[0] == 4 + 9)
        #expect(result.bestLoss == result.losses.last)
        #expect(!result.stopReason.isFailure)
    }

    @Test func stopsAtTheTargetLossWithoutUpdating() {
        var model = Quadratic()
        var optimizer = SGD<Double>(learningRate: 0.1)
        let result = train(
            &model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 1000, targetLoss: 1e-6), progress: quiet
        ) {
            m, _ in square(m.w - Tensor([1, 1])).sum()
        }
        #expect(result.stopReason == .targetLoss)
        #expect(result.finalLoss! <= 1e-6)
        // The parameters are those that gave the final loss.
        #expect(square(model.w - Tensor([1, 1])).sum().scalar == result.finalLoss)
        #expect(result.steps == result.losses.count - 1)
    }

    @Test func patienceStopsAPlateau() {
        var model = Quadratic()
        var optimizer = SGD<Double>(learningRate: 0)
        let result = train(&model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 100, patience: 5), progress: quiet) {
            m, _ in m.w.sum()
        }
        #expect(result.stopReason == .noImprovement(steps: 5))
        #expect(result.steps == 6)
    }

    @Test func aNonFiniteLossKeepsTheLastGoodParameters() {
        var model = Quadratic()
        var optimizer = SGD<Double>(learningRate: 0.5)
        var history: [[Double]] = []
        // log(w₀) becomes NaN once a step takes w₀ below zero.
        let result = train(&model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 50), progress: quiet) { m, _ in
            history.append(m.w.scalars)
            return log(m.w[0]) * 10
        }
        guard case .nonFiniteLoss(let step) = result.stopReason else {
            Issue.record("expected a non-finite loss, got \(result.stopReason)")
            return
        }
        #expect(result.stopReason.isFailure)
        #expect(model.w.scalars == history[step - 1])  // the parameters the bad loss was computed with
        #expect(model.w.scalars[0] < 0)
        #expect(result.stopReason.description.contains("kept the parameters of step \(step - 1)"))
    }

    @Test func aNonFiniteGradientNamesTheParameter() {
        var model = Quadratic()
        model.w = Tensor([0, 1])
        var optimizer = Adam<Double>()
        let result = train(&model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 10), progress: quiet) { m, _ in
            sqrt(m.w).sum()  // d√w/dw is infinite at 0
        }
        #expect(result.stopReason == .nonFiniteGradient(step: 1, parameter: "w"))
        #expect(model.w == Tensor([0, 1]))
    }

    @Test func aThrowingLossStopsCleanly() {
        struct Boom: Error {}
        var model = Quadratic()
        var optimizer = SGD<Double>(learningRate: 0.1)
        var calls = 0
        let result = train(&model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 10), progress: quiet) { m, _ in
            calls += 1
            if calls == 3 { throw Boom() }
            return square(m.w).sum()
        }
        #expect(result.stopReason == .lossFailed(step: 3, message: "Boom()"))
        #expect(result.steps == 2)
    }

    @Test func seededRunsAreReproducible() {
        func run(seed: UInt64) -> [Double] {
            var model = Quadratic()
            var optimizer = Adam<Double>(learningRate: 0.05)
            train(&model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 30), seed: seed, progress: quiet) {
                m, generator in
                // A random minibatch target drawn from the generator.
                let target = Tensor<Double>.normal([2], using: &generator)
                return square(m.w - target).sum()
            }
            return model.w.scalars
        }
        #expect(run(seed: 1) == run(seed: 1))
        #expect(run(seed: 1) != run(seed: 2))
    }

    @Test func clippingIsApplied() {
        var model = Quadratic()
        var optimizer = SGD<Double>(learningRate: 1)
        train(&model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 1), clipping: .globalNorm(1), progress: quiet) {
            m, _ in
            (m.w * 1000).sum()
        }
        // The gradient (1000, 1000) was scaled to norm 1 before the step.
        expectClose(model.w.scalars, [3 - 0.5.squareRoot(), -2 - 0.5.squareRoot()], tolerance: 1e-12)
    }

    /// With exponential averaging the model ends with θ̄ₙ = d·θ̄ₙ₋₁ + (1 − d)·θₙ, θ̄₁ = θ₁, where θₙ are the
    /// iterates of the same training without averaging.
    @Test func exponentialParameterAveraging() {
        let loss: (Quadratic, inout SeededGenerator) -> Tensor<Double> = { m, _ in square(m.w - Tensor([1, 1])).sum() }
        var plain = Quadratic()
        var plainOptimizer = SGD<Double>(learningRate: 0.1)
        var seen: [[Double]] = []  // the parameters each loss evaluation sees: θ₀, θ₁, …, θ₄
        train(&plain, optimizer: &plainOptimizer, until: StoppingCriteria(maxSteps: 5), progress: quiet) { m, g in
            seen.append(m.w.scalars)
            return loss(m, &g)
        }
        let iterates = seen.dropFirst() + [plain.w.scalars]  // θ₁ … θ₅
        var expected = iterates.first!
        for iterate in iterates.dropFirst() { expected = zip(expected, iterate).map { 0.25 * $0 + 0.75 * $1 } }

        var model = Quadratic()
        var optimizer = SGD<Double>(learningRate: 0.1)
        train(
            &model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 5), averaging: .exponential(decay: 0.25),
            progress: quiet, loss: loss)
        #expect(model.w.scalars != plain.w.scalars)
        expectClose(model.w.scalars, expected, tolerance: 1e-15)
    }

    @Test func averagingDecayOutsideTheUnitIntervalIsRejected() async {
        await #expect(processExitsWith: .failure) {
            var model = Quadratic()
            var optimizer = SGD<Double>(learningRate: 0.1)
            train(
                &model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 1), averaging: .exponential(decay: 1),
                progress: .quiet
            ) { m, _ in m.w.sum() }
        }
    }

    @Test func levenbergMarquardtOnAModel() {
        var model = Quadratic()
        let fit = LevenbergMarquardt<Double>().minimize(&model) { m in (m.w - Tensor([1, 1])) * Tensor([1, 100]) }
        #expect(fit.converged)
        expectClose(model.w.scalars, [1, 1], tolerance: 1e-10)
    }

    @Test func progressFormatting() {
        #expect(formatScientific(1.2345e-5) == "1.235e-05")
        #expect(formatScientific(9.9996) == "1.000e+01")
        #expect(formatScientific(-250) == "-2.500e+02")
        #expect(formatFixed(3.14159, digits: 2) == "3.14")
        #expect(formatFixed(-0.001, digits: 2) == "0.00")
        #expect(formatDuration(3725) == "1:02:05")
        #expect(formatDuration(65) == "1:05")
        let reporter = ProgressReporter(label: "fit", total: 100, style: .lines)
        let line = reporter.line(step: 25, loss: 0.5, extra: "")
        #expect(line.hasPrefix("fit step 25/100 (25%)  loss 5.000e-01"))
    }
}
