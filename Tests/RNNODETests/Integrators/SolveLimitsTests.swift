import Testing

@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODETensors

/// The budgets and limits a solve checks before it steps: the resolution of t for fixed steps, the
/// tolerances and the controller for adaptive ones.
@Suite("Solve budgets and limits")
struct SolveLimitsTests {
    let decay = FieldClosure<Double> { _, y in -y }

    /// A fixed step below 16 ulps of |t| is rejected before any step or grid scan, whatever the budget
    /// (such spans hold more than 10¹⁴ steps, which the grid scan would otherwise walk).
    @Test func fixedStepBelowTheResolutionOfTimeThrows() {
        #expect(throws: SolveError.stepBelowTimeResolution(stepSize: 1e-16, time: 1)) {
            try solve(decay, initialState: 1, from: 0, to: 1, method: .euler, step: .fixed(1e-16), saveAt: .final, maxSteps: 10)
        }
        #expect(throws: SolveError.stepBelowTimeResolution(stepSize: 5e-324, time: 1)) {
            try solve(decay, initialState: 1, from: 0, to: 1, method: .euler, step: .fixed(5e-324), saveAt: .final)
        }
        #expect(throws: SolveError.stepBelowTimeResolution(stepSize: -1e-16, time: 1)) {
            try solve(decay, initialState: 1, from: 1, to: 0, method: .euler, step: .fixed(-1e-16), saveAt: .steps)
        }
        #expect(throws: SolveError.stepBelowTimeResolution(stepSize: 1e-6, time: 1.7e9 + 0.01)) {
            try solve(decay, initialState: 1, from: 1.7e9, to: 1.7e9 + 0.01, method: .euler, step: .fixed(1e-6))
        }
        #expect(throws: SolveError.nonFiniteTime("the span t1 − t0")) {
            try solve(decay, initialState: 1, from: -1e308, to: 1e308, method: .euler, step: .fixed(1e300))
        }
    }

    /// The integrator checks each target the same way before scanning its grid.
    @Test func integratorChecksTheResolutionOfEachTarget() throws {
        let integrator = try Integrator(decay, initialState: 1, time: 0, method: .euler, step: .fixed(1e-16), maxSteps: 10)
        #expect(throws: SolveError.stepBelowTimeResolution(stepSize: 1e-16, time: 1)) {
            try integrator.advance(to: 1)
        }
        #expect(integrator.statistics.acceptedSteps == 0)
        let huge = try Integrator(decay, initialState: 1, time: -1e308, method: .euler, step: .fixed(1e300))
        #expect(throws: SolveError.nonFiniteTime("the span from the start to the target")) {
            try huge.advance(to: 1e308)
        }
    }

    /// A step above the limit on a span of many steps stops at the budget at once.
    @Test func budgetHoldsForManySmallSteps() throws {
        let s = try solve(
            decay, initialState: 1, from: 0, to: 1, method: .euler, step: .fixed(1e-13), saveAt: .final, maxSteps: 10)
        guard case .maxStepsExceeded(let time, let steps) = s.status else {
            Issue.record("expected the budget to run out, got \(s.status)")
            return
        }
        #expect(steps == 10)
        #expect(Swift.abs(time - 1e-12) < 1e-25)
    }

    /// Steps of 42 ulps of |t| (Unix time stamps with Δt = 10 µs) are taken one by one, not merged.
    @Test func stepsOfAFewUlpsAreNotMerged() throws {
        let (t0, dt) = (1.7e9, 1e-5)
        let s = try solve(decay, initialState: 1, from: t0, to: t0 + 0.01, method: .euler, step: .fixed(dt), saveAt: .final)
        #expect(s.status == .success)
        #expect(s.statistics.acceptedSteps == 1000)
        var y = 1.0
        for _ in 0..<1000 { y += dt * -y }
        #expect(Swift.abs(s.finalState - y) <= 1e-14 * y)

        let integrator = try Integrator(decay, initialState: 1, time: t0, method: .euler, step: .fixed(dt))
        try integrator.advance(to: t0 + 0.005)
        try integrator.advance(to: t0 + 0.01)
        #expect(integrator.statistics.acceptedSteps == 1000)
        #expect(Swift.abs(integrator.state - y) <= 1e-14 * y)
    }

    /// Tolerances whose squared error norm overflows are rejected before stepping (they made the
    /// initial step NaN, and the solve rejected a million steps).
    @Test func tolerancesTooSmallToMeasureThrow() throws {
        #expect(throws: SolveError.invalidTolerance(rtol: 0, atol: 1e-300)) {
            try solve(decay, initialState: 1, from: 0, to: 1, step: .adaptive(rtol: 0, atol: 1e-300), saveAt: .final)
        }
        #expect(throws: SolveError.invalidTolerance(rtol: 0, atol: 1e-310)) {
            try solve(decay, initialState: 1, from: 0, to: 1, step: .adaptive(rtol: 0, atol: 1e-310), saveAt: .final)
        }
        #expect(throws: SolveError.invalidTolerance(rtol: 1e-6, atol: .infinity)) {
            try solve(decay, initialState: 1, from: 0, to: 1, step: .adaptive(rtol: 1e-6, atol: .infinity), saveAt: .final)
        }
        // A denormal atol next to a usable rtol is fine.
        let s = try solve(decay, initialState: 1, from: 0, to: 1, step: .adaptive(rtol: 1e-6, atol: 1e-310), saveAt: .final)
        #expect(s.status == .success)
        #expect(Swift.abs(s.finalState - 0.36787944117144233) < 1e-5)
    }

    /// Valid tolerances far too small for the state's magnitude give a NaN initial step: a typed
    /// error naming it, not a run of rejections.
    @Test func nanInitialStepThrows() {
        do {
            _ = try solve(decay, initialState: 1e200, from: 0, to: 1, step: .adaptive(rtol: 0, atol: 1e-100), saveAt: .final)
            Issue.record("expected a NaN initial step to throw")
        } catch {
            guard case .nonFiniteTime(let what) = error else {
                Issue.record("expected nonFiniteTime, got \(error)")
                return
            }
            #expect(what.hasPrefix("the automatic initial step at t = 0.0"), "\(what)")
        }
    }

    @Test func controllerSettingsAreValidated() {
        let cases: [(PIController, String)] = [
            (PIController(integralGain: .nan), "integralGain must be finite and > 0, got nan"),
            (PIController(integralGain: 0), "integralGain must be finite and > 0, got 0.0"),
            (PIController(proportionalGain: -0.1), "proportionalGain must be finite and ≥ 0, got -0.1"),
            (PIController(safety: 0), "safety must be in (0, 1], got 0.0"),
            (PIController(safety: 1e300), "safety must be in (0, 1], got 1e+300"),
            (PIController(safety: .nan), "safety must be in (0, 1], got nan"),
            (PIController(minFactor: 2, maxFactor: 1), "minFactor must be in (0, 1], got 2.0"),
            (PIController(minFactor: 0.5, maxFactor: 0.8), "maxFactor must be finite and ≥ 1, got 0.8"),
            (PIController(maxFactor: .infinity), "maxFactor must be finite and ≥ 1, got inf"),
        ]
        for (controller, message) in cases {
            #expect(throws: SolveError.invalidController(message)) {
                try solve(decay, initialState: 1, from: 0, to: 1, step: .adaptive(controller: controller), saveAt: .final)
            }
        }
        #expect(throws: Never.self) { try PIController().validate() }
    }

    /// A recurrent layer caps its fixed steps per input interval: a step of 1e-16 is a typed error
    /// at once.
    @Test func layerWithATinyFixedStepThrows() throws {
        var g = SeededGenerator(seed: 1)
        let cell = GRUCell<Double>(inputSize: 2, hiddenSize: 3, initialization: .pytorch, using: &g)
        let layer = RecurrentLayer(cell, integration: CellIntegration(method: .euler, timeStep: 1, step: .fixed(1e-16)))
        let x = Tensor<Double>.zeros([1, 2, 2])
        #expect(
            throws: RecurrentError<Double>.invalidIntegration(
                "invalid step bounds: interval 0 of row 0 (length 1.0) would need more than 10⁹ steps of 1e-16")
        ) {
            try layer(x)
        }
    }
}
