import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// The persistent integrator: advancing it target by target is the same integration as one solve,
/// it lands on every target, and adaptive steps keep their controller from one target to the next.
@Suite("The persistent integrator")
struct IntegratorTests {
    /// Fixed steps: advancing to the output times one by one reproduces `solve(saveAt: .times)` bit
    /// for bit, grid refinement included (0.35 and 1.05 are not grid points of Δt = 0.1).
    @Test(arguments: ["euler", "midpoint", "rk4", "dopri5"])
    func fixedStepsMatchOneSolve(name: String) throws {
        let method = ButcherTableau.builtIn[name]!
        let times = [0.0, 0.35, 0.6, 1.05, 2]
        let reference = try solve(
            Riccati<Double>(), initialState: 1.0, times: times, method: method, step: .fixed(0.1)
        ).checked()
        let integrator = try Integrator(Riccati<Double>(), initialState: 1.0, time: 0, method: method, step: .fixed(0.1))
        var states = [integrator.state]
        for t in times.dropFirst() {
            #expect(try integrator.advance(to: t) == .success)
            #expect(integrator.time == t)
            states.append(integrator.state)
        }
        #expect(states == reference.states)
        #expect(integrator.statistics == reference.statistics)
    }

    /// Adaptive steps across many targets: the initial-step probe runs once, steps shortened to land
    /// on a target do not shrink the steps after it, and the result meets the tolerance.
    @Test func adaptiveControllerCarriesOverTargets() throws {
        let targets = (1...100).map { Double($0) * 0.1 }
        let integrator = try Integrator(
            Oscillator<Double>(), initialState: SIMD2(1, 0), time: 0, method: .dopri5,
            step: .adaptive(rtol: 1e-8, atol: 1e-8))
        var maxError = 0.0
        for t in targets {
            try integrator.advance(to: t)
            #expect(integrator.time == t)
            let e = integrator.state - Oscillator<Double>.exact(t)
            maxError = Swift.max(maxError, Swift.abs(e.x), Swift.abs(e.y))
        }
        #expect(maxError < 1e-6)
        // One solve over [0, 10] with dense output takes about 50 steps here; landing on 100 targets
        // needs at most one extra (shortened) step per target, and no probe per target: the field is
        // evaluated once at the start, once by the probe, and six times per step (FSAL).
        let free = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, method: .dopri5,
            step: .adaptive(rtol: 1e-8, atol: 1e-8), saveAt: .final)
        let steps = integrator.statistics.steps
        #expect(steps <= free.statistics.steps + targets.count)
        #expect(integrator.statistics.evaluations == 2 + 6 * steps)
    }

    /// A new field between targets is evaluated at the current state before the next step: the
    /// piecewise-constant input of a recurrent layer.
    @Test func replacingTheFieldUsesItFromTheCurrentState() throws {
        let integrator = try Integrator(
            FieldClosure<Double> { _, y in -y }, initialState: 1.0, time: 0, method: .rk4, step: .fixed(0.01))
        try integrator.advance(to: 1)
        integrator.field = FieldClosure { _, y in 2 - y }
        try integrator.advance(to: 2)
        // y(1) = e⁻¹, then y' = 2 − y: y(2) = 2 + (e⁻¹ − 2)e⁻¹.
        let exact = 2 + (Double.exp(-1) - 2) * Double.exp(-1)
        #expect(Swift.abs(integrator.state - exact) < 1e-9)
    }

    @Test func denseOutputWithinTheLastStep() throws {
        let integrator = try Integrator(
            Oscillator<Double>(), initialState: SIMD2(1, 0), time: 0, method: .dopri5,
            step: .adaptive(rtol: 1e-10, atol: 1e-10))
        try integrator.advance(to: 3)
        let start = integrator.previousTime
        #expect(start < 3)
        let middle = (start + 3) / 2
        let e = integrator.interpolate(at: middle) - Oscillator<Double>.exact(middle)
        #expect(Swift.max(Swift.abs(e.x), Swift.abs(e.y)) < 1e-8)
        #expect(integrator.interpolate(at: 3) == integrator.state)
    }

    @Test func resetKeepsTheGrid() throws {
        let integrator = try Integrator(
            FieldClosure<Double> { _, y in -y }, initialState: 1.0, time: 0, method: .euler, step: .fixed(0.25))
        try integrator.advance(to: 0.5)
        integrator.reset(state: 4)
        try integrator.advance(to: 1)
        // Two Euler steps of 0.25 from 4: 4 · 0.75².
        #expect(integrator.state == 4 * 0.75 * 0.75)
        #expect(integrator.statistics.acceptedSteps == 4)
    }

    @Test func badTargetsAreErrors() throws {
        let integrator = try Integrator(
            FieldClosure<Double> { _, y in -y }, initialState: 1.0, time: 0, method: .rk4, step: .fixed(0.1))
        try integrator.advance(to: 1)
        #expect(throws: SolveError.targetBehind(target: 0.5, time: 1)) { try integrator.advance(to: 0.5) }
        #expect(throws: SolveError.nonFiniteTime("the target time")) { try integrator.advance(to: .nan) }
        #expect(try integrator.advance(to: 1) == .success)  // the current time: nothing to do
        let backwards = try Integrator(
            FieldClosure<Double> { _, y in -y }, initialState: 1.0, time: 0, method: .rk4, step: .fixed(-0.1))
        #expect(throws: SolveError.targetBehind(target: 1, time: 0)) { try backwards.advance(to: 1) }
        #expect(throws: SolveError.zeroStepSize) {
            _ = try Integrator(FieldClosure<Double> { _, y in y }, initialState: 1.0, time: 0, step: .fixed(0))
        }
        #expect(throws: SolveError.methodNotAdaptive(method: "RK4")) {
            _ = try Integrator(FieldClosure<Double> { _, y in y }, initialState: 1.0, time: 0, method: .rk4)
        }
    }

    /// A failure ends the integration: the status stays, the state is the last finite one, and later
    /// targets do not step.
    @Test func failureIsFinal() throws {
        let integrator = try Integrator(
            FieldClosure<Double> { _, y in y * y }, initialState: 1.0, time: 0, method: .euler, step: .fixed(0.5))
        let status = try integrator.advance(to: 100)
        guard case .nonFiniteState = status else {
            Issue.record("expected a non-finite state, got \(status)")
            return
        }
        #expect(integrator.state.isFinite)
        let steps = integrator.statistics.steps
        #expect(try integrator.advance(to: 200) == status)
        #expect(integrator.statistics.steps == steps)
    }

    /// The step budget counts over the integrator's life, not per target.
    @Test func budgetSpansTargets() throws {
        let integrator = try Integrator(
            FieldClosure<Double> { _, y in -y }, initialState: 1.0, time: 0, method: .euler, step: .fixed(0.1),
            maxSteps: 15)
        #expect(try integrator.advance(to: 1) == .success)
        #expect(try integrator.advance(to: 2) == .maxStepsExceeded(time: 1.5, steps: 15))
    }

    /// Compiled tableaus are built once per tableau and scalar type.
    @Test func compiledTableausAreShared() {
        #expect(CompiledTableau<Double>.shared(.rk4) === CompiledTableau<Double>.shared(.rk4))
        #expect(CompiledTableau<Float>.shared(.rk4) !== CompiledTableau<Double>.shared(.rk4) as AnyObject)
        #expect(CompiledTableau<Double>.shared(.rk4) !== CompiledTableau<Double>.shared(.midpoint))
    }
}
