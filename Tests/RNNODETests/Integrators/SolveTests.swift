import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite("Adaptive solves")
struct AdaptiveSolveTests {
    /// The tolerances bound the local error per step; the global error at many dense-output times,
    /// over more than a period, stays within a modest multiple of them (about 20× for the third-order
    /// Bogacki–Shampine pair, less for the fifth-order ones) and shrinks in proportion: a thousand times
    /// tighter tolerance gives a thousand times smaller error, within a factor of five.
    @Test(arguments: ["bosh3", "dopri5", "tsit5"])
    func meetsTolerancesOnClosedFormProblems(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let times = (0...40).map { Double($0) * 0.25 }
        var errors: [Double] = []
        for tolerance in [1e-5, 1e-8] {
            let s = try solve(
                Oscillator<Double>(), initialState: SIMD2(1, 0), times: times, method: method,
                step: .adaptive(rtol: tolerance, atol: tolerance)
            ).checked()
            #expect(s.times == times)
            let error = zip(s.times, s.states).map { t, u in
                let e = u - Oscillator<Double>.exact(t)
                return Swift.max(Swift.abs(e.x), Swift.abs(e.y))
            }.max()!
            #expect(error < 50 * tolerance, "\(name) at tolerance \(tolerance): error \(error)")
            errors.append(error)
        }
        let ratio = errors[0] / errors[1]
        #expect(ratio > 200 && ratio < 5000, "\(name): error ratio \(ratio) for a tolerance ratio of 1000")
    }

    @Test(arguments: ["bosh3", "dopri5", "tsit5"])
    func nonlinearTimeDependentProblem(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let s = try solve(
            Riccati<Double>(), initialState: 1.0, from: 0, to: 10, method: method,
            step: .adaptive(rtol: 1e-9, atol: 1e-12), saveAt: .steps
        ).checked()
        for (t, y) in zip(s.times, s.states) {
            #expect(Swift.abs(y - Riccati<Double>.exact(t, 1)) < 1e-8, "\(name) at t = \(t)")
        }
        #expect(s.statistics.acceptedSteps == s.times.count - 1)
    }

    @Test func floatMeetsLooseTolerances() throws {
        let s = try solve(
            Oscillator<Float>(), initialState: SIMD2<Float>(1, 0), from: 0, to: 6, method: .dopri5,
            step: .adaptive(rtol: 1e-4, atol: 1e-5), saveAt: .final
        ).checked()
        let e = s.finalState - Oscillator<Float>.exact(6)
        #expect(Swift.max(Swift.abs(e.x), Swift.abs(e.y)) < 2e-3)
    }

    @Test func backwardsInTime() throws {
        // From t = 2 back to 0 recovers the initial value of the Riccati problem.
        let y2 = Riccati<Double>.exact(2, 1)
        let s = try solve(
            Riccati<Double>(), initialState: y2, times: [2, 1.5, 0.25, 0], method: .dopri5,
            step: .adaptive(rtol: 1e-10, atol: 1e-12)
        ).checked()
        for (t, y) in zip(s.times, s.states) { #expect(Swift.abs(y - Riccati<Double>.exact(t, 1)) < 1e-9) }
    }

    @Test func statisticsAddUp() throws {
        let s = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 20, method: .dopri5,
            step: .adaptive(rtol: 1e-9, atol: 1e-9), saveAt: .final)
        // FSAL: 6 new stages per attempted step, plus f(t0) and the initial-step probe.
        #expect(s.statistics.evaluations == 2 + 6 * s.statistics.steps)
        #expect(s.statistics.acceptedSteps > 50)
        let bosh = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 20, method: .bosh3,
            step: .adaptive(rtol: 1e-9, atol: 1e-9, initialStep: 0.01), saveAt: .final)
        #expect(bosh.statistics.evaluations == 1 + 3 * bosh.statistics.steps)
        #expect(bosh.statistics.acceptedSteps > s.statistics.acceptedSteps)
    }

    @Test func stepBounds() throws {
        let s = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, method: .dopri5,
            step: .adaptive(rtol: 1e-3, atol: 1e-3, maxStep: 0.1), saveAt: .steps)
        // Differences of accumulated times carry rounding of order ulp(10) ≈ 2e-15.
        let steps = zip(s.times.dropFirst(), s.times).map { $0 - $1 }
        #expect(steps.allSatisfy { $0 <= 0.1 + 1e-13 })
        #expect(s.statistics.acceptedSteps >= 100)
    }

    @Test func timeDependentField() throws {
        // y' = cos t, y(0) = 0: y = sin t.
        let s = try solve(initialState: 0.0, from: 0, to: 3, method: .tsit5, step: .adaptive(rtol: 1e-10, atol: 1e-10)) {
            t, _ in Double.cos(t)
        }
        #expect(Swift.abs(s.finalState - Double.sin(3)) < 1e-9)
    }
}

@Suite("Fixed-step grid")
struct FixedGridTests {
    @Test func everyStepIsExactlyDt() throws {
        // Euler on y' = 1 from 0 gives y = n·Δt computed as repeated addition of exactly Δt.
        let s = try solve(initialState: 0.0, from: 0, to: 1, method: .euler, step: .fixed(0.1)) { _, _ in 1 }
        #expect(s.times.count == 11)
        var y = 0.0
        for (i, state) in s.states.enumerated() {
            #expect(state == y)
            #expect(s.times[i] == (i == 10 ? 1 : Double(i) * 0.1))
            y += 0.1
        }
    }

    @Test func outputTimesAreHitExactlyByRefiningTheGrid() throws {
        let requested = [0.0, 0.05, 0.3, 0.333, 1.0]
        let s = try solve(
            initialState: 1.0, from: 0, to: 1, method: .euler, step: .fixed(0.1), saveAt: .times(requested)
        ) { _, y in -y }
        #expect(s.times == requested)
        // Grid: 0, 0.05 (refined), 0.1, 0.2, 0.3, 0.333 (refined), 0.4, …, 1: 12 steps.
        #expect(s.statistics.acceptedSteps == 12)
        // Euler by hand on the refined grid.
        var y = 1.0
        var expected: [Double] = [1]
        y *= 1 - 0.05
        expected.append(y)
        y *= 1 - 0.05  // 0.05 → 0.1 completes the grid step
        y *= 1 - 0.1
        y *= 1 - 0.1
        expected.append(y)
        y *= 1 - 0.033
        expected.append(y)
        #expect(Swift.abs(s.states[1] - expected[1]) < 1e-15)
        #expect(Swift.abs(s.states[2] - expected[2]) < 1e-15)
        #expect(Swift.abs(s.states[3] - expected[3]) < 1e-15)
    }

    @Test func lastStepIsShortenedToEndExactly() throws {
        let s = try solve(initialState: 0.0, from: 0, to: 1.05, method: .euler, step: .fixed(0.1)) { _, _ in 1 }
        #expect(s.finalTime == 1.05)
        #expect(s.statistics.acceptedSteps == 11)
        #expect(Swift.abs(s.finalState - 1.05) < 1e-14)
    }

    @Test func backwardsWithANegativeStep() throws {
        let s = try solve(initialState: 1.0, from: 1, to: 0, method: .rk4, step: .fixed(-0.01), saveAt: .final) { _, y in y }
        // y' = y backwards from y(1) = 1: y(0) = e⁻¹.
        #expect(Swift.abs(s.finalState - Double.exp(-1)) < 1e-9)
        #expect(s.finalTime == 0)
    }

    @Test func emptySpanReturnsTheInitialState() throws {
        var evaluations = 0
        let s = try solve(initialState: SIMD2<Double>(3, 4), from: 2, to: 2, method: .rk4, step: .fixed(0.1)) { _, y in
            evaluations += 1
            return y
        }
        #expect(s.states == [SIMD2(3, 4)])
        #expect(s.times == [2])
        #expect(evaluations == 0)
        #expect(s.succeeded)
    }

    @Test func competitionModelMatchesTheRecurrence() throws {
        // Su's Euler RNN: x_{n+1} = x_n + Δt f(x_n), written out by hand.
        func f(_ x: SIMD2<Double>) -> SIMD2<Double> {
            SIMD2(
                0.1 * x.x * (1 - 0.002 * x.x) - 1e-4 * x.x * x.y,
                0.3 * x.y * (1 - 0.003 * x.y) - 2e-4 * x.x * x.y)
        }
        var x = SIMD2<Double>(100, 150)
        for _ in 0..<1000 { x = x + 0.1 * f(x) }
        let s = try solve(
            initialState: SIMD2<Double>(100, 150), from: 0, to: 100, method: .euler, step: .fixed(0.1), saveAt: .final
        ) {
            _, x in f(x)
        }
        #expect(s.finalState == x)
        #expect(s.statistics.acceptedSteps == 1000)
    }
}

@Suite("Bad input and faults")
struct SolveFailureTests {
    let decay = FieldClosure<Double> { _, y in -y }

    @Test func invalidInputsThrowTypedErrors() {
        #expect(throws: SolveError.nonFiniteInitialState) {
            try solve(decay, initialState: .nan, from: 0, to: 1)
        }
        #expect(throws: SolveError.zeroStepSize) {
            try solve(decay, initialState: 1, from: 0, to: 1, method: .rk4, step: .fixed(0))
        }
        #expect(throws: SolveError.stepSizeWrongDirection(stepSize: 0.1, from: 1, to: 0)) {
            try solve(decay, initialState: 1, from: 1, to: 0, method: .rk4, step: .fixed(0.1))
        }
        #expect(throws: SolveError.nonFiniteTime("the end time t1")) {
            try solve(decay, initialState: 1, from: 0, to: .infinity)
        }
        #expect(throws: SolveError.outputTimesNotMonotonic(index: 2, previous: 0.5, time: 0.25)) {
            try solve(decay, initialState: 1, times: [0, 0.5, 0.25, 1])
        }
        #expect(throws: SolveError.duplicateOutputTime(index: 2, time: 0.5)) {
            try solve(decay, initialState: 1, times: [0, 0.5, 0.5, 1])
        }
        #expect(throws: SolveError.outputTimeOutsideSpan(index: 0, time: 2, from: 0, to: 1)) {
            try solve(decay, initialState: 1, from: 0, to: 1, saveAt: .times([2]))
        }
        #expect(throws: SolveError.methodNotAdaptive(method: "RK4")) {
            try solve(decay, initialState: 1, from: 0, to: 1, method: .rk4, step: .adaptive())
        }
        #expect(throws: SolveError.invalidTolerance(rtol: -1, atol: 0)) {
            try solve(decay, initialState: 1, from: 0, to: 1, step: .adaptive(rtol: -1, atol: 0))
        }
        #expect(throws: SolveError.invalidMaxSteps(0)) {
            try solve(decay, initialState: 1, from: 0, to: 1, maxSteps: 0)
        }
        #expect(throws: SolveError.self) {
            try solve(decay, initialState: 1, from: 0, to: 1, step: .adaptive(minStep: 1, maxStep: 0.5))
        }
    }

    @Test func errorsDescribeTheProblem() {
        let text = SolveError.stepSizeWrongDirection(stepSize: 0.1, from: 1, to: 0).description
        #expect(text.contains("0.1") && text.contains("from 1.0 to 0.0"))
        #expect(SolveError.shapeMismatch(state: "[2]", derivative: "[3]").description.contains("[3]"))
    }

    @Test func nonFiniteParametersAndDerivatives() {
        let k = Tensor<Double>([.nan])
        let field = FieldClosure<Tensor<Double>>(parameters: ["k": k]) { _, y in -k * y }
        #expect(throws: SolveError.nonFiniteParameter(name: "k")) {
            try solve(field, initialState: Tensor([1.0]), from: 0, to: 1)
        }
        let singular = FieldClosure<Double> { _, y in 1 / (y - 1) }
        #expect(throws: SolveError.nonFiniteInitialDerivative(time: 0)) {
            try solve(singular, initialState: 1, from: 0, to: 1)
        }
    }

    @Test func shapeMismatchIsReportedWithBothShapes() {
        let wrong = FieldClosure<Tensor<Double>> { _, y in y.sum(alongAxis: 0) }
        #expect(throws: SolveError.shapeMismatch(state: "[2, 3]", derivative: "[3]")) {
            try solve(wrong, initialState: Tensor<Double>.ones([2, 3]), from: 0, to: 1, method: .rk4, step: .fixed(0.1))
        }
    }

    @Test func fixedStepFaultKeepsThePartialTrajectory() throws {
        // y' = y² blows up at t = 1 from y(0) = 1; explicit Euler overflows a little later.
        let s = try solve(initialState: 1.0, from: 0, to: 3, method: .euler, step: .fixed(0.01)) { _, y in y * y }
        guard case .nonFiniteState(let time, let stepSize) = s.status else {
            Issue.record("expected a non-finite state, got \(s.status)")
            return
        }
        #expect(time > 1 && time < 3)
        #expect(stepSize == 0.01)
        #expect(s.finalTime == time)
        #expect(s.finalState.isFinite)
        #expect(s.states.last == s.finalState)
        #expect(s.times.count == s.statistics.acceptedSteps + 1)  // t0 and every step before the failed one
        #expect(s.statistics.rejectedSteps == 1)
        #expect(throws: SolveError.self) { try s.checked() }
    }

    @Test func adaptiveSolveRejectsNonFiniteStepsFirst() throws {
        // The field is NaN beyond y = 1.5, a region a too-large step jumps into; shrinking avoids it.
        let s = try solve(
            initialState: 1.0, from: 0, to: 0.3, method: .dopri5, step: .adaptive(rtol: 1e-8, atol: 1e-8, initialStep: 1)
        ) {
            _, y in y > 1.5 ? .nan : y
        }
        #expect(s.succeeded)
        #expect(s.statistics.rejectedSteps >= 1)
        #expect(Swift.abs(s.finalState - Double.exp(0.3)) < 1e-7)
    }

    @Test func blowUpEndsInUnderflowWithPartialTrajectory() throws {
        let s = try solve(initialState: 1.0, from: 0, to: 2, method: .dopri5, step: .adaptive(rtol: 1e-6, atol: 1e-6)) {
            _, y in y * y
        }
        switch s.status {
        case .stepSizeUnderflow(let time, _), .nonFiniteState(let time, _):
            #expect(Swift.abs(time - 1) < 1e-3)
        default:
            Issue.record("expected the solve to stop near the singularity at t = 1, got \(s.status)")
        }
        #expect(s.finalState.isFinite)
        #expect(s.finalState > 1000)
        #expect(s.states.count > 10)
    }

    @Test func minimumStepStopsTheSolve() throws {
        let s = try solve(
            initialState: 1.0, from: 0, to: 2, method: .dopri5, step: .adaptive(rtol: 1e-8, atol: 1e-8, minStep: 1e-3)
        ) {
            _, y in y * y
        }
        guard case .stepSizeUnderflow(let time, let stepSize) = s.status else {
            Issue.record("expected underflow at the minimum step, got \(s.status)")
            return
        }
        // Before the pole at t = 1, where even the minimum step misses the tolerance.
        #expect(time > 0.9 && time < 1)
        #expect(Swift.abs(stepSize) >= 1e-3)
    }

    @Test func stepBudget() throws {
        let s = try solve(decay, initialState: 1, from: 0, to: 10, method: .rk4, step: .fixed(0.01), maxSteps: 50)
        #expect(s.status == .maxStepsExceeded(time: 0.5, steps: 50))
        #expect(s.states.count == 51)
        let adaptive = try solve(
            decay, initialState: 1, from: 0, to: 100, step: .adaptive(rtol: 1e-10, atol: 1e-10), maxSteps: 20)
        guard case .maxStepsExceeded(_, let steps) = adaptive.status else {
            Issue.record("expected the budget to run out, got \(adaptive.status)")
            return
        }
        #expect(steps == 20)
    }
}
