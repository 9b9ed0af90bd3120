import Testing

@testable import RNNODEIntegrators
@testable import RNNODETensors

/// A ball in free fall, y = (height, velocity): (h, v)' = (v, −g).
struct FreeFall<T: TensorScalar>: VectorField {
    var gravity: T
    func callAsFunction(_ t: T, _ y: SIMD2<T>) -> SIMD2<T> { SIMD2(y.y, -gravity) }

    /// The impact times of a ball dropped from rest at height h0 with restitution e: t₁ = √(2h₀/g),
    /// then each flight lasts 2eᵏ v₁ / g with v₁ = g t₁.
    func impactTimes(height h0: T, restitution e: T, count: Int) -> [T] {
        let first = (2 * h0 / gravity).squareRoot()
        var times = [first]
        var speed = gravity * first
        for _ in 1..<count {
            speed *= e
            times.append(times[times.count - 1] + 2 * speed / gravity)
        }
        return times
    }
}

/// The ground as a falling event that reflects the velocity with restitution e.
func bounce<T: TensorScalar>(restitution e: T) -> Event<SIMD2<T>> {
    Event(direction: .falling, reset: { _, y in SIMD2(0, -e * y.y) }, { _, y in y.x })
}

/// The ball as a tensor state (h, v) with gravity p[0].
func tensorFreeFall(gravity: Tensor<Double>) -> FieldClosure<Tensor<Double>> {
    FieldClosure(parameters: ["g": gravity]) { _, y in Tensor(stacking: [y[1], -gravity]) }
}

@Suite("Events")
struct EventTests {
    // MARK: - Location

    /// Several bounces of a ball against the closed form: the trajectory is quadratic, so Dormand–
    /// Prince and its dense output are exact up to rounding and the impact times match to ~1e-12.
    @Test(arguments: [false, true])
    func bouncingBallImpactTimes(fixed: Bool) throws {
        let ball = FreeFall<Double>(gravity: 9.81)
        let (h0, e) = (1.0, 0.8)
        let expected = ball.impactTimes(height: h0, restitution: e, count: 6)
        let s = try solve(
            ball, initialState: SIMD2(h0, 0), from: 0, to: expected[5] + 0.01, method: fixed ? .rk4 : .dopri5,
            step: fixed ? .fixed(0.01) : .adaptive(rtol: 1e-10, atol: 1e-12), events: [bounce(restitution: e)]
        ).checked()
        #expect(s.events.count == 6)
        expectClose(s.events.map(\.time), expected, tolerance: 1e-10)
        var speed = 9.81 * expected[0]
        for occurrence in s.events {
            #expect(occurrence.event == 0)
            #expect(Swift.abs(occurrence.stateBefore.x) < 1e-10)
            #expect(Swift.abs(occurrence.stateBefore.y + speed) < 1e-9)
            #expect(occurrence.stateAfter.x == 0 && Swift.abs(occurrence.stateAfter.y - e * speed) < 1e-9)
            speed *= e
        }
        // The ball stays above the ground: no step went on past an impact.
        #expect(s.states.allSatisfy { $0.x > -1e-10 })
        #expect(!s.terminatedByEvent)
        #expect(s.finalTime == expected[5] + 0.01)
    }

    @Test func bouncingBallInFloat() throws {
        let ball = FreeFall<Float>(gravity: 9.81)
        let expected = ball.impactTimes(height: 1, restitution: 0.8, count: 4)
        let s = try solve(
            ball, initialState: SIMD2<Float>(1, 0), from: 0, to: 3.5, step: .adaptive(rtol: 1e-5, atol: 1e-6),
            events: [bounce(restitution: Float(0.8))]
        ).checked()
        #expect(s.events.count >= 4)
        expectClose(Array(s.events.prefix(4).map(\.time)), expected, tolerance: 2e-5)
    }

    /// y' = −y from 1 crosses 1/2 at t = log 2.
    @Test func linearDecayCrossingTime() throws {
        for fixed in [false, true] {
            let half = Event<Double>(direction: .falling, terminal: true) { _, y in y - 0.5 }
            let s = try solve(
                initialState: 1.0, from: 0, to: 5, method: .dopri5,
                step: fixed ? .fixed(0.01) : .adaptive(rtol: 1e-12, atol: 1e-12), events: [half]
            ) { _, y in -y }
            #expect(s.terminatedByEvent && s.succeeded)
            #expect(Swift.abs(s.finalTime - Double.log(2)) < 1e-11, "\(s.finalTime)")
            #expect(Swift.abs(s.finalState - 0.5) < 1e-11)
        }
    }

    /// The location meets 4 ulps of t (plus the event's tolerance) on the dense output itself.
    @Test func locationToleranceOnTheDenseOutput() throws {
        let root = locateRoot(from: 0.0, -1, to: 2, 3, timeTolerance: 0) { t in t * t * t - 2 }
        let exact = Double.pow(2, 1.0 / 3)
        #expect(Swift.abs(root - exact) <= 4 * exact.ulp)
        #expect(root * root * root - 2 <= 0)  // on the side it came from
        let loose = locateRoot(from: 0.0, -1, to: 2, 3, timeTolerance: 1e-3) { t in t * t * t - 2 }
        #expect(Swift.abs(loose - exact) <= 1e-3 + 4 * exact.ulp)
        // Backwards brackets work the same way.
        let backwards = locateRoot(from: 2.0, 6, to: 0, -2, timeTolerance: 0) { t in t * t * t - 2 }
        #expect(Swift.abs(backwards - exact) <= 4 * exact.ulp)
    }

    // MARK: - Directions, terminal, several events

    /// x = cos t on [0, 10] crosses zero falling at π/2 and 5π/2 and rising at 3π/2.
    @Test func directionFiltering() throws {
        func times(_ direction: EventDirection) throws -> [Double] {
            try solve(
                Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10,
                step: .adaptive(rtol: 1e-11, atol: 1e-11),
                events: [Event(direction: direction) { _, u in u.x }]
            ).checked().events.map(\.time)
        }
        let pi = Double.pi
        expectClose(try times(.falling), [pi / 2, 5 * pi / 2], tolerance: 1e-9)
        expectClose(try times(.rising), [3 * pi / 2], tolerance: 1e-9)
        expectClose(try times(.either), [pi / 2, 3 * pi / 2, 5 * pi / 2], tolerance: 1e-9)
    }

    /// A terminal event ends the solution at its time: no saved state beyond it, output times after
    /// it absent, the status a success.
    @Test func terminalEventEndsTheSolution() throws {
        let zero = Event<SIMD2<Double>>(direction: .falling, terminal: true) { _, u in u.x }
        let rtol = Double(1e-11)
        for saveAt: SaveAt<Double> in [.steps, .final, .times([0, 1, 2, 3])] {
            let s = try solve(
                Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10,
                step: .adaptive(rtol: rtol, atol: rtol), saveAt: saveAt, events: [zero])
            #expect(s.status == .success && s.terminatedByEvent && s.terminatingEvent == 0)
            #expect(Swift.abs(s.finalTime - .pi / 2) < 1e-10)
            #expect(Swift.abs(s.finalState.x) < 1e-10 && Swift.abs(s.finalState.y + 1) < 1e-10)
            #expect(s.times.allSatisfy { $0 <= s.finalTime })
            switch saveAt {
            case .steps: #expect(s.times.last == s.finalTime && s.states.last == s.finalState)
            case .final: #expect(s.times == [s.finalTime])
            case .times: #expect(s.times == [0, 1])
            }
        }
        // Not terminal: the solve reaches the end.
        let s = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, saveAt: .final,
            events: [Event(direction: .falling) { _, u in u.x }])
        #expect(!s.terminatedByEvent && s.finalTime == 10 && s.events.count == 2)
    }

    /// Several events, two of them in one (large, fixed) step: the earliest occurs first; a terminal
    /// one stops the rest.
    @Test func severalEventsInOneStep() throws {
        let events: [Event<SIMD2<Double>>] = [
            Event(direction: .falling) { _, u in u.x - 0.3 },  // t = acos 0.3 ≈ 1.266
            Event(direction: .falling) { _, u in u.x - 0.5 },  // t = π/3 ≈ 1.047
            Event(direction: .falling, terminal: true) { _, u in u.x + 0.5 },  // t = 2π/3 ≈ 2.094
            Event(direction: .falling) { _, u in u.x + 0.9 },  // t ≈ 2.69, never reached
        ]
        let steps: [(StepSizeControl<Double>, Double)] = [(.fixed(1), 5e-3), (.adaptive(rtol: 1e-10, atol: 1e-10), 1e-9)]
        for (step, tolerance) in steps {
            let s = try solve(
                Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, method: .dopri5, step: step,
                events: events)
            #expect(s.events.map(\.event) == [1, 0, 2])
            expectClose(
                s.events.map(\.time), [Double.pi / 3, 1.2661036727794992, 2 * Double.pi / 3], tolerance: tolerance)
            #expect(s.terminatingEvent == 2 && s.finalTime == s.events[2].time)
        }
    }

    /// Events at the same time occur together, in the order of the array, each reset seeing the
    /// previous one's result.
    @Test func simultaneousEventsInArrayOrder() throws {
        let events: [Event<SIMD2<Double>>] = [
            Event(direction: .falling, reset: { _, u in SIMD2(u.x, 2 * u.y) }, { _, u in 2 * u.x }),
            Event(direction: .falling, reset: { _, u in SIMD2(u.x, u.y + 1) }, { _, u in u.x }),
        ]
        let s = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 2, step: .adaptive(rtol: 1e-10, atol: 1e-10),
            events: events)
        #expect(s.events.map(\.event) == [0, 1])
        #expect(s.events[0].time == s.events[1].time)
        #expect(s.events[1].stateBefore == s.events[0].stateAfter)
        #expect(Swift.abs(s.events[1].stateAfter.y - (-2 + 1)) < 1e-9)
    }

    // MARK: - Edge cases

    /// Events that never trigger leave the solve exactly as without events (bit for bit); so does an
    /// empty event list.
    @Test func neverTriggeringEventsChangeNothing() throws {
        let never = Event<SIMD2<Double>> { _, u in u.x - 2 }
        for step: StepSizeControl<Double> in [.fixed(0.1), .adaptive(rtol: 1e-8, atol: 1e-8)] {
            for saveAt: SaveAt<Double> in [.steps, .final, .times([0, 0.35, 1.2, 3])] {
                let plain = try solve(
                    Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 3, step: step, saveAt: saveAt)
                for events in [[never], []] {
                    let watched = try solve(
                        Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 3, step: step, saveAt: saveAt,
                        events: events)
                    #expect(watched.times == plain.times && watched.states == plain.states)
                    #expect(watched.finalState == plain.finalState && watched.statistics == plain.statistics)
                    #expect(watched.events.isEmpty && !watched.terminatedByEvent)
                }
            }
        }
    }

    /// Events without reset are located and recorded without disturbing the integration: the same
    /// steps and states, bit for bit.
    @Test func eventsWithoutResetDoNotDisturbTheIntegration() throws {
        let events: [Event<SIMD2<Double>>] = [Event { _, u in u.x }, Event(direction: .rising) { _, u in u.y - 0.5 }]
        let settings: [(ButcherTableau, StepSizeControl<Double>)] = [
            (.rk4, .fixed(0.1)), (.dopri5, .adaptive(rtol: 1e-8, atol: 1e-8)),
        ]
        for (method, step) in settings {
            let plain = try solve(
                Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, method: method, step: step)
            let watched = try solve(
                Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 10, method: method, step: step,
                events: events)
            #expect(watched.times == plain.times && watched.states == plain.states)
            #expect(watched.statistics.steps == plain.statistics.steps)
            // x = cos t crosses zero at π/2 + kπ (k = 0…2); v = −sin t rises through 1/2 at 7π/6 + 2kπ (k = 0, 1).
            #expect(watched.events.map(\.event) == [0, 1, 0, 0, 1])
            let exact = [Double.pi / 2, 7 * Double.pi / 6, 3 * Double.pi / 2, 5 * Double.pi / 2, 19 * Double.pi / 6]
            expectClose(watched.events.map(\.time), exact, tolerance: 1e-4)
        }
    }

    /// g(t₀) = 0 does not trigger at t₀; a later crossing does.
    @Test func conditionZeroAtTheStart() throws {
        // v = −sin t: zero at 0, crossing (rising) at π.
        let s = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 4, step: .adaptive(rtol: 1e-10, atol: 1e-10),
            events: [Event { _, u in u.y }])
        expectClose(s.events.map(\.time), [Double.pi], tolerance: 1e-9)
        // y = t: zero at the start only.
        let ramp = try solve(initialState: 0.0, from: 0, to: 1, events: [Event { _, y in y }]) { _, _ in 1 }
        #expect(ramp.events.isEmpty)
    }

    /// g touching zero without changing sign is not an event.
    @Test func touchingZeroIsNotAnEvent() throws {
        for step: StepSizeControl<Double> in [.fixed(0.5), .adaptive()] {
            let s = try solve(
                initialState: 0.0, from: 0, to: 4, step: step, events: [Event { t, _ in (t - 2.1) * (t - 2.1) }]
            ) { _, _ in 1 }
            #expect(s.events.isEmpty)
        }
    }

    /// Backward integration: y' = −y from y(0) = 1 down to t = −2 passes y = 2 at t = −log 2; the
    /// direction refers to the order of integration.
    @Test func backwardIntegration() throws {
        let steps: [(StepSizeControl<Double>, Double)] = [(.fixed(-0.1), 1e-7), (.adaptive(rtol: 1e-12, atol: 1e-12), 1e-11)]
        for (step, tolerance) in steps {
            let s = try solve(
                initialState: 1.0, from: 0, to: -2, method: .dopri5, step: step,
                events: [
                    Event(direction: .falling) { _, y in y - 2 },
                    Event(direction: .rising, terminal: true) { _, y in y - 2 },
                ]
            ) { _, y in -y }
            #expect(s.events.map(\.event) == [1])
            #expect(s.terminatedByEvent)
            #expect(Swift.abs(s.finalTime + Double.log(2)) < tolerance, "\(s.finalTime)")
            #expect(s.times.allSatisfy { $0 >= s.finalTime })
        }
    }

    /// An event in the last, shortened step (fixed: 1.5 → 1.6; adaptive: a span ending just past it).
    @Test func eventInTheLastShortenedStep() throws {
        let zero = Event<SIMD2<Double>>(direction: .falling) { _, u in u.x }
        let fixed = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: 1.6, method: .rk4, step: .fixed(0.3),
            events: [zero])
        #expect(fixed.times.suffix(2) == [1.5, 1.6])
        expectClose(fixed.events.map(\.time), [Double.pi / 2], tolerance: 1e-3)
        let adaptive = try solve(
            Oscillator<Double>(), initialState: SIMD2(1, 0), from: 0, to: .pi / 2 + 1e-9,
            step: .adaptive(rtol: 1e-12, atol: 1e-12), events: [zero])
        expectClose(adaptive.events.map(\.time), [Double.pi / 2], tolerance: 1e-11)
    }

    /// With fixed steps a reset keeps the grid: the steps after a bounce land on the grid points again.
    @Test func fixedStepsKeepTheGridAfterAReset() throws {
        let ball = FreeFall<Double>(gravity: 9.81)
        let s = try solve(
            ball, initialState: SIMD2(1, 0), from: 0, to: 1, method: .rk4, step: .fixed(0.1),
            events: [bounce(restitution: 0.8)])
        let impact = ball.impactTimes(height: 1, restitution: 0.8, count: 1)[0]
        #expect(s.events.count == 1)
        let grid = (0...10).map { Double($0) * 0.1 }
        expectClose(s.times, Array(grid[0...4]) + [impact] + Array(grid[5...10]), tolerance: 1e-12)
        // After the impact at t₁ the height is e·v₁ (t − t₁) − g/2 (t − t₁)² exactly (rk4 is exact here).
        let v1 = 0.8 * 9.81 * impact
        let t = 1.0
        #expect(Swift.abs(s.finalState.x - (v1 * (t - impact) - 9.81 / 2 * (t - impact) * (t - impact))) < 1e-12)
    }

    /// With output times: those up to an event come from before the reset, those after from the
    /// restarted integration.
    @Test func outputTimesAroundAReset() throws {
        let ball = FreeFall<Double>(gravity: 9.81)
        let impact = ball.impactTimes(height: 1, restitution: 0.8, count: 1)[0]
        let v1 = 0.8 * 9.81 * impact
        for step: StepSizeControl<Double> in [.fixed(0.05), .adaptive(rtol: 1e-10, atol: 1e-12)] {
            let s = try solve(
                ball, initialState: SIMD2(1, 0), from: 0, to: 1, step: step, saveAt: .times([0.3, 0.6, 0.9]),
                events: [bounce(restitution: 0.8)]
            ).checked()
            #expect(s.times == [0.3, 0.6, 0.9])
            #expect(Swift.abs(s.states[0].x - (1 - 9.81 / 2 * 0.09)) < 1e-10)
            for (t, y) in zip(s.times.dropFirst(), s.states.dropFirst()) {
                #expect(Swift.abs(y.x - (v1 * (t - impact) - 9.81 / 2 * (t - impact) * (t - impact))) < 1e-10)
            }
        }
    }

    // MARK: - Gradients

    /// A ball dropped from h₀ under gravity g hits the ground at t* = √(2h₀/g) with velocity
    /// v* = −√(2gh₀): dt*/dh₀ = 1/√(2h₀g), dt*/dg = −t*/(2g), dv*/dh₀ = −√(g/(2h₀)), dv*/dg = −√(h₀/(2g)).
    @Test func eventTimeAndStateGradients() throws {
        let (h0, g) = (1.3, 9.81)
        func impact(_ p: [Tensor<Double>]) throws -> Solution<Tensor<Double>> {
            let ground = Event<Tensor<Double>>(direction: .falling, terminal: true) { _, y in y[0] }
            return try solve(
                tensorFreeFall(gravity: p[1]), initialState: Tensor(stacking: [p[0], Tensor(0.0)]), from: 0, to: 5,
                step: .adaptive(rtol: 1e-10, atol: 1e-12), saveAt: .final, events: [ground])
        }
        let tStar = (2 * h0 / g).squareRoot()
        let timeGradient = try gradient(at: [Tensor(h0), Tensor(g)]) { p in try impact(p).events[0].differentiableTime! }
        #expect(Swift.abs(timeGradient[0].scalar - 1 / (2 * h0 * g).squareRoot()) < 1e-9)
        #expect(Swift.abs(timeGradient[1].scalar - (-tStar / (2 * g))) < 1e-9)
        let velocityGradient = try gradient(at: [Tensor(h0), Tensor(g)]) { p in try impact(p).finalState[1] }
        #expect(Swift.abs(velocityGradient[0].scalar - (-(g / (2 * h0)).squareRoot())) < 1e-9)
        #expect(Swift.abs(velocityGradient[1].scalar - (-(h0 / (2 * g)).squareRoot())) < 1e-9)
        // The same against central differences of the solve.
        let check = try checkGradient(at: Tensor([h0, g])) { p in
            let s = try impact([p[0], p[1]])
            return s.events[0].differentiableTime! + s.finalState[1] * 0.3
        }
        #expect(check.maxError < 1e-7, "\(check)")
    }

    /// States after a bounce (at a fixed later time) depend on the impact time through the reset and
    /// through the restart: their gradient with respect to h₀, g and the restitution e matches
    /// central differences.
    @Test func gradientThroughABounce() throws {
        func heightAfterBounce(_ p: Tensor<Double>) throws -> Tensor<Double> {
            let e = p[2]
            let ground = Event<Tensor<Double>>(
                direction: .falling, reset: { _, y in Tensor(stacking: [y[0] * 0, -e * y[1]]) }, { _, y in y[0] })
            let s = try solve(
                tensorFreeFall(gravity: p[1]), initialState: Tensor(stacking: [p[0], Tensor(0.0)]), from: 0, to: 0.9,
                step: .adaptive(rtol: 1e-10, atol: 1e-12), saveAt: .times([0.7, 0.9]), events: [ground])
            return s.states[0][0] + s.states[1].sum() * 0.5 + s.events[0].stateAfter[1] * 0.1
        }
        let check = try checkGradient(at: Tensor([1.0, 9.81, 0.8]), of: heightAfterBounce)
        #expect(check.maxError < 1e-7, "\(check)")
        // The closed form: h(t) = e v₁ (t − t₁) − g/2 (t − t₁)² with t₁ = √(2h₀/g), v₁ = g t₁.
        let (h0, g, e, t) = (1.0, 9.81, 0.8, 0.9)
        let t1 = (2 * h0 / g).squareRoot()
        let dt1dh0 = 1 / (2 * h0 * g).squareRoot()
        // ∂h/∂h₀ = e g dt₁ (t − t₁) − e g t₁ dt₁ + g (t − t₁) dt₁.
        let dhdh0 = e * g * dt1dh0 * (t - t1) - e * g * t1 * dt1dh0 + g * (t - t1) * dt1dh0
        let grad = try gradient(at: Tensor([h0, g, e])) { p in
            let ground = Event<Tensor<Double>>(
                direction: .falling, reset: { _, y in Tensor(stacking: [y[0] * 0, -p[2] * y[1]]) }, { _, y in y[0] })
            return try solve(
                tensorFreeFall(gravity: p[1]), initialState: Tensor(stacking: [p[0], Tensor(0.0)]), from: 0, to: t,
                step: .adaptive(rtol: 1e-10, atol: 1e-12), saveAt: .final, events: [ground]
            ).finalState[0]
        }
        #expect(Swift.abs(grad.scalars[0] - dhdh0) < 1e-8, "\(grad.scalars[0]) vs \(dhdh0)")
    }

    // MARK: - Documentation

    /// The examples of Docs/Integrators.md ("Events") and of the doc comments.
    @Test func documentationExamples() throws {
        let fall = FieldClosure<SIMD2<Double>> { _, y in SIMD2(y.y, -9.81) }
        let ground = Event<SIMD2<Double>>(direction: .falling, reset: { _, y in SIMD2(0, -0.9 * y.y) }, { _, y in y.x })
        let ball = try solve(
            fall, initialState: SIMD2(1, 0), from: 0, to: 3, step: .adaptive(rtol: 1e-10, atol: 1e-12), events: [ground])
        expectClose(Array(ball.events.prefix(3).map(\.time)), [0.45152, 1.26426, 1.99573], tolerance: 1e-5)

        let stop = Event<SIMD2<Double>>(direction: .falling, terminal: true) { _, y in y.x }
        let s = try solve(fall, initialState: SIMD2(2, 0), from: 0, to: 10, events: [stop])
        #expect(s.terminatedByEvent && Swift.abs(s.finalTime - (2 * 2 / 9.81).squareRoot()) < 1e-6)

        let zero = Event<Double>(terminal: true) { _, y in y - 0.5 }
        let decay = try solve(initialState: 1.0, from: 0, to: 5, events: [zero]) { _, y in -y }
        #expect(Swift.abs(decay.finalTime - Double.log(2)) < 1e-5)
    }

    // MARK: - Bad input

    @Test func invalidEventTolerance() throws {
        for tolerance in [Double.nan, .infinity, -1e-3] {
            let event = Event<Double>(timeTolerance: tolerance) { _, y in y - 0.5 }
            #expect(throws: SolveError.self) {
                try solve(initialState: 1.0, from: 0, to: 1, events: [Event { _, y in y }, event]) { _, y in -y }
            }
            do {
                _ = try solve(initialState: 1.0, from: 0, to: 1, events: [Event { _, y in y }, event]) { _, y in -y }
            } catch {
                guard case .invalidEvent(let index, let message) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(index == 1 && message.contains("tolerance"))
            }
        }
    }
}
