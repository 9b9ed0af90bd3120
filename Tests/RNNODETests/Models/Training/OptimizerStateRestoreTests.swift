import Testing

@testable import RNNODEModels
@testable import RNNODETensors

/// Restoring saved optimizer state checks every entry first and is all-or-nothing.
@Suite("Optimizer state restore")
struct OptimizerStateRestoreTests {
    static let shapes = [[3], [2, 2]]

    static func parameters() -> [Tensor<Float>] {
        [Tensor([1, 2, 3]), Tensor(shape: [2, 2], scalars: [1, -2, 3, -4])]
    }

    /// An Adam after three updates, like the optimizer state of a checkpoint.
    static func trainedAdam() -> Adam<Float> {
        var adam = Adam<Float>(learningRate: 0.01)
        var parameters = Self.parameters()
        for k in 1...3 { adam.update(&parameters, gradients: parameters.map { $0 * Float(k) }) }
        return adam
    }

    /// A step of 1e30 (one flipped exponent bit in a checkpoint) trapped converting to Int; fractional,
    /// negative and non-finite steps were accepted or trapped. Each is a typed error naming 'step' and
    /// its value, and the optimizer keeps its state.
    @Test(arguments: [Float(1e30), 9.3e18, 2.5, -1, .nan, .infinity, 9_007_200_328_482_816])
    func aStepThatIsNotACountIsRejected(value: Float) {
        let trained = Self.trainedAdam()
        var adam = trained
        var state = trained.savedState
        state["step"] = Tensor(value)
        #expect(throws: OptimizerStateError("'step' is \(value), not a count: it must be a whole number from 0 to 2⁵³")) {
            try adam.restoreState(state, parameterShapes: Self.shapes)
        }
        #expect(adam.step == 3)
        #expect(adam.savedState == trained.savedState)
    }

    @Test func theLargestStepIsAccepted() throws {
        var adam = Adam<Float>()
        var state = Self.trainedAdam().savedState
        state["step"] = Tensor(Float(9_007_199_254_740_992))
        try adam.restoreState(state, parameterShapes: Self.shapes)
        #expect(adam.step == 1 << 53)
    }

    /// NaN moments and negative second moments are rejected by name, the optimizer unchanged.
    @Test func badMomentsAreRejected() {
        let trained = Self.trainedAdam()
        let cases: [(String, Int, Float, String)] = [
            ("m.1", 2, .nan, "'m.1' has entry nan at flat index 2; entries must be finite"),
            ("m.0", 0, .infinity, "'m.0' has entry inf at flat index 0; entries must be finite"),
            ("v.0", 1, -1, "'v.0' has entry -1.0 at flat index 1; entries must be finite and ≥ 0"),
            ("v.1", 3, .infinity, "'v.1' has entry inf at flat index 3; entries must be finite and ≥ 0"),
        ]
        for (name, index, value, message) in cases {
            var adam = trained
            var state = trained.savedState
            var scalars = state[name]!.scalars
            scalars[index] = value
            state[name] = Tensor(shape: state[name]!.shape, scalars: scalars)
            #expect(throws: OptimizerStateError(message)) { try adam.restoreState(state, parameterShapes: Self.shapes) }
            #expect(adam.savedState == trained.savedState, "\(name)")
        }
    }

    /// A state that fails late (a misshapen or extra entry after valid ones) used to leave the
    /// optimizer reset.
    @Test func aFailedRestoreKeepsTheOptimizer() {
        let trained = Self.trainedAdam()
        var adam = trained
        var state = trained.savedState
        state["v.1"] = Tensor(shape: [4], scalars: [1, 1, 1, 1])
        #expect(throws: OptimizerStateError.self) { try adam.restoreState(state, parameterShapes: Self.shapes) }
        #expect(adam.savedState == trained.savedState)
        var extra = trained.savedState
        extra["w.0"] = Tensor([1])
        #expect(throws: OptimizerStateError.self) { try adam.restoreState(extra, parameterShapes: Self.shapes) }
        #expect(adam.savedState == trained.savedState)
        #expect(adam.step == 3)
    }

    @Test func rmspropAndSGDBuffersAreChecked() {
        var rms = RMSprop<Float>(momentum: 0.5, centered: true)
        var sgd = SGD<Float>(learningRate: 0.1, momentum: 0.9)
        var parameters = Self.parameters()
        rms.update(&parameters, gradients: parameters)
        sgd.update(&parameters, gradients: parameters)
        let (rmsState, sgdState) = (rms.savedState, sgd.savedState)

        var negative = rmsState
        negative["square.0"] = Tensor([1, -0.5, 1])
        #expect(throws: OptimizerStateError("'square.0' has entry -0.5 at flat index 1; entries must be finite and ≥ 0")) {
            try rms.restoreState(negative, parameterShapes: Self.shapes)
        }
        var nanGradient = rmsState
        nanGradient["gradient.1"] = Tensor(shape: [2, 2], scalars: [0, 0, .nan, 0])
        #expect(throws: OptimizerStateError("'gradient.1' has entry nan at flat index 2; entries must be finite")) {
            try rms.restoreState(nanGradient, parameterShapes: Self.shapes)
        }
        #expect(rms.savedState == rmsState)

        var nanVelocity = sgdState
        nanVelocity["velocity.0"] = Tensor([.nan, 0, 0])
        #expect(throws: OptimizerStateError("'velocity.0' has entry nan at flat index 0; entries must be finite")) {
            try sgd.restoreState(nanVelocity, parameterShapes: Self.shapes)
        }
        #expect(sgd.savedState == sgdState)
    }
}
