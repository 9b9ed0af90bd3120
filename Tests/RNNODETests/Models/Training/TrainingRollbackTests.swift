import Testing

@testable import RNNODEModels
@testable import RNNODETensors

/// A rejected update leaves the model and the optimizer as they were after the last good step.
@Suite("Training rollback")
struct TrainingRollbackTests {
    /// The loss (w · gᵏ).sum() has the gradient gᵏ at step k.
    static func train<Opt: Optimizer>(
        _ model: inout Quadratic, _ optimizer: inout Opt, gradients: [Double], averaging: ParameterAveraging = .none
    ) -> TrainingResult<Double> where Opt.Scalar == Double {
        var step = 0
        return RNNODEModels.train(
            &model, optimizer: &optimizer, until: StoppingCriteria(maxSteps: gradients.count), averaging: averaging,
            progress: .quiet
        ) { m, _ in
            step += 1
            return (m.w * gradients[step - 1]).sum()
        }
    }

    /// Adam's moments and step count are those of step 1 after step 2's update overflowed (steps of
    /// about 10³⁰⁷ from −1.65·10³⁰⁸).
    @Test func adamKeepsTheStateOfTheLastGoodStep() {
        var model = Quadratic()
        model.w = Tensor([-1.65e308, -1.65e308])
        var optimizer = Adam<Double>(learningRate: 1e307, epsilon: 0)
        let result = Self.train(&model, &optimizer, gradients: [1e-100, 1e-100, 1e-100])
        #expect(result.stopReason == .nonFiniteUpdate(step: 2, parameter: "w"))

        var reference = Adam<Double>(learningRate: 1e307, epsilon: 0)
        var parameters = [Tensor<Double>([-1.65e308, -1.65e308])]
        reference.update(&parameters, gradients: [Tensor([1e-100, 1e-100])])
        #expect(model.w == parameters[0])
        #expect(optimizer.step == 1)
        #expect(optimizer.savedState == reference.savedState)
    }

    /// SGD's momentum buffer does not keep the rejected gradient, so training can resume. (Step 1
    /// brings w to 0, where step 2's loss is finite but its update overflows.)
    @Test func sgdMomentumIsRolledBack() {
        var model = Quadratic()
        model.w = Tensor([10, 10])
        var optimizer = SGD<Double>(learningRate: 10, momentum: 0.9)
        let result = Self.train(&model, &optimizer, gradients: [1, 1e308, 1])
        #expect(result.stopReason == .nonFiniteUpdate(step: 2, parameter: "w"))
        #expect(model.w == Tensor([0, 0]))
        #expect(optimizer.savedState == ["velocity.0": Tensor([1, 1])])
        // Resuming with a sane gradient continues from step 1's velocity: b = 0.9 · 1 + 1.
        let resumed = Self.train(&model, &optimizer, gradients: [1])
        #expect(resumed.stopReason == .maxSteps)
        expectClose(model.w.scalars, [-19, -19], tolerance: 1e-12)
    }

    /// With averaging, a failure keeps the last good iterate, as the stop reason says, not the average.
    @Test func aFailureWithAveragingKeepsTheLastGoodIterate() {
        var model = Quadratic()
        model.w = Tensor([20, 20])
        var optimizer = SGD<Double>(learningRate: 10)
        let result = Self.train(&model, &optimizer, gradients: [1, 1, 1e308], averaging: .exponential(decay: 0.5))
        #expect(result.stopReason == .nonFiniteUpdate(step: 3, parameter: "w"))
        #expect(result.stopReason.description.contains("kept the parameters of step 2"))
        #expect(model.w == Tensor([0, 0]))

        // The same two steps without the failure end with the average of w₁ = 10 and w₂ = 0.
        var averaged = Quadratic()
        averaged.w = Tensor([20, 20])
        var plain = SGD<Double>(learningRate: 10)
        _ = Self.train(&averaged, &plain, gradients: [1, 1], averaging: .exponential(decay: 0.5))
        #expect(averaged.w == Tensor([5, 5]))
    }
}
