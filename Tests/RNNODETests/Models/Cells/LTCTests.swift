import Foundation
import Testing

@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODETensors

/// The liquid time-constant cell and the semi-implicit methods that run it: the fused step against
/// the reference implementation's update (ncps' `LTCCell._ode_solver`) written out with scalar
/// loops and against ncps itself (outputs and gradients), gradients against central differences (with a trainable Δt and per-row time stamps),
/// first-order convergence to the ODE, the step's bound on the potentials however large the step,
/// and the errors.
@Suite("LTC and semi-implicit methods")
struct LTCTests {
    static func softplus<T: TensorScalar>(_ x: T) -> T { T(Foundation.log1p(Foundation.exp(Double(x)))) }
    static func sigmoid<T: TensorScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }

    /// Every output of the rows of `x` from `h0` by ncps' update: per input, the sensory currents,
    /// then `unfolds` times v ← (cₘ/h v + g_L v_L + Σ w σ E + n̂) / (cₘ/h + g_L + Σ w σ + d̂) with
    /// h = Δt / unfolds (its ε = 10⁻⁸ left out: the denominator is at least cₘ/h here).
    static func restated<T: TensorScalar>(
        _ cell: LTCCell<T>, _ x: Tensor<T>, _ h0: Tensor<T>, timeStep: T, unfolds: Int
    ) -> Tensor<T> {
        let (batch, time, input, n) = (x.shape[0], x.shape[1], x.shape[2], cell.hiddenSize)
        let (xs, hs) = (x.scalars, h0.scalars)
        let (a, b) = (cell.inputScale.scalars, cell.inputShift.scalars)
        let (sw, ss, smu, se) = (
            cell.sensoryConductance.scalars.map(softplus), cell.sensorySteepness.scalars, cell.sensoryMidpoint.scalars,
            cell.sensoryReversal.scalars
        )
        let (w, s, mu, e) = (
            cell.conductance.scalars.map(softplus), cell.steepness.scalars, cell.midpoint.scalars, cell.reversal.scalars
        )
        let (gleak, vleak) = (cell.leakConductance.scalars.map(softplus), cell.leakPotential.scalars)
        let cm = cell.capacitance.scalars.map(softplus)
        var out: [T] = []
        for row in 0..<batch {
            var v = Array(hs[(row * n)..<((row + 1) * n)])
            for t in 0..<time {
                let inputs = (0..<input).map { k in xs[(row * time + t) * input + k] * a[k] + b[k] }
                var (sensoryNumerator, sensoryDenominator) = ([T](repeating: 0, count: n), [T](repeating: 0, count: n))
                for k in 0..<input {
                    for i in 0..<n {
                        let open = sw[k * n + i] * sigmoid(ss[k * n + i] * (inputs[k] - smu[k * n + i]))
                        sensoryNumerator[i] += open * se[k * n + i]
                        sensoryDenominator[i] += open
                    }
                }
                let cmt = cm.map { $0 / (timeStep / T(unfolds)) }
                for _ in 0..<unfolds {
                    var next = [T](repeating: 0, count: n)
                    for i in 0..<n {
                        var (numerator, denominator) = (sensoryNumerator[i], sensoryDenominator[i])
                        for j in 0..<n {
                            let open = w[j * n + i] * sigmoid(s[j * n + i] * (v[j] - mu[j * n + i]))
                            numerator += open * e[j * n + i]
                            denominator += open
                        }
                        next[i] = (cmt[i] * v[i] + gleak[i] * vleak[i] + numerator) / (cmt[i] + gleak[i] + denominator)
                    }
                    v = next
                }
                out += v
            }
        }
        return Tensor(shape: [batch, time, n], scalars: out)
    }

    static func referenceUpdate<T: TensorScalar>(_: T.Type, tolerance: Double) throws {
        var g = SeededGenerator(seed: 31)
        let (input, hidden) = (3, 5)
        let cell = LTCCell<T>(inputSize: input, hiddenSize: hidden, using: &g)
        let x = Tensor<T>.normal([3, 6, input], mean: 0, standardDeviation: 1, using: &g)
        let h0 = Tensor<T>.normal([3, hidden], mean: 0, standardDeviation: 0.5, using: &g)
        for (timeStep, unfolds) in [(T(1), 6), (T(0.4), 1), (T(2.5), 3)] {
            let layer = RecurrentLayer(
                cell, integration: .fixed(semiImplicit: .semiImplicitEuler, timeStep: timeStep, substeps: unfolds))
            let out = try layer(x, initialState: h0).sequence
            let expected = restated(cell, x, h0, timeStep: timeStep, unfolds: unfolds)
            #expect(
                maxAbsDifference(out, expected) <= tolerance,
                "Δt \(timeStep) × \(unfolds): \(maxAbsDifference(out, expected))")
        }
    }

    /// Semi-implicit Euler on the fused path is ncps' fused solver, to rounding.
    @Test func referenceUpdateInDouble() throws { try Self.referenceUpdate(Double.self, tolerance: 1e-13) }

    @Test func referenceUpdateInFloat() throws { try Self.referenceUpdate(Float.self, tolerance: 3e-6) }

    /// ncps' own LTCCell (Fixtures/cells/ltc.json, written by make_ltc_fixture.py: float64, six
    /// fused steps per input of elapsed time 0.8, ε = 0): every state and the gradients of
    /// sum(output ⊙ G) with respect to every parameter, the input and the initial state.
    @Test func matchesNcps() throws {
        let fixture = try CellFixture("ltc")
        let weights = fixture.weightTensors(as: Double.self)
        let cell = LTCCell<Double>(
            inputScale: weights["input_w"]!, inputShift: weights["input_b"]!, sensoryConductance: weights["sensory_w"]!,
            sensorySteepness: weights["sensory_sigma"]!, sensoryMidpoint: weights["sensory_mu"]!,
            sensoryReversal: weights["sensory_erev"]!, conductance: weights["w"]!, steepness: weights["sigma"]!,
            midpoint: weights["mu"]!, reversal: weights["erev"]!, leakConductance: weights["gleak"]!,
            leakPotential: weights["vleak"]!, capacitance: weights["cm"]!)
        let names = [
            "input_w", "input_b", "sensory_w", "sensory_sigma", "sensory_mu", "sensory_erev", "w", "sigma", "mu", "erev",
            "gleak", "vleak", "cm",
        ]
        #expect(cell.parameterPaths.count == names.count && Set(names) == Set(weights.keys))
        let layer = RecurrentLayer(
            cell,
            integration: .fixed(
                semiImplicit: .semiImplicitEuler, timeStep: fixture.json["time_step"] as! Double,
                substeps: fixture.json["substeps"] as! Int))
        let tape = Tape<Double>()
        let (recorded, variables) = layer.recorded(on: tape)
        let (x, h0) = (tape.variable(fixture.tensor("x")), tape.variable(fixture.tensor("h0")))
        let output = try recorded(x, initialState: h0)
        #expect(maxAbsDifference(output.sequence, fixture.tensor("output")) < 1e-13)
        #expect(maxAbsDifference(output.finalState, fixture.tensor("h_n")) < 1e-13)
        let gradients = tape.gradients(
            of: (output.sequence * fixture.tensor("G")).sum(), withRespectTo: variables + [x, h0])
        for (name, gradient) in zip(names + ["x", "h0"], gradients) {
            let expected: Tensor<Double> = fixture.tensor(name, in: fixture.gradients)
            #expect(maxAbsDifference(gradient, expected) < 1e-12, "d\(name): \(maxAbsDifference(gradient, expected))")
        }
    }

    /// Semi-implicit Euler's gradients against central differences: parameters, input, initial
    /// state, a trainable Δt and per-row time stamps (whose gradients go through the implicit step
    /// h = Δt / n), with masks and substeps.
    @Test func gradientsMatchFiniteDifferences() throws {
        var g = SeededGenerator(seed: 12)
        let cell = LTCCell<Double>(inputSize: 3, hiddenSize: 3, using: &g)
        try FusedPathTests.checkFiniteDifferences(cell, method: "semi-implicit-euler", using: &g)
    }

    /// Float rows (the C kernels of the CPU's path) against Double rows (the Swift loops) under
    /// semi-implicit Euler with per-row time stamps, masks and substeps: outputs and every gradient,
    /// the stamps' (through the implicit step) included.
    @Test func floatKernelsMatchDouble() throws {
        var g = SeededGenerator(seed: 17)
        let cell = LTCCell<Double>(inputSize: 3, hiddenSize: 5, using: &g)
        var single = LTCCell<Float>(inputSize: 3, hiddenSize: 5, using: &g)
        single.parameters = cell.parameters.map { Tensor(shape: $0.shape, scalars: $0.scalars.map { Float($0) }) }
        let x = Tensor<Double>.normal([2, 4, 3], mean: 0, standardDeviation: 1, using: &g)
        let h0 = Tensor<Double>.normal([2, 5], mean: 0, standardDeviation: 0.5, using: &g)
        let stamps: Tensor<Double> = FusedPathTests.stamps(batch: 2, time: 4)
        func float(_ t: Tensor<Double>) -> Tensor<Float> { Tensor(shape: t.shape, scalars: t.scalars.map { Float($0) }) }
        let testCase = FusedPathTests.Case(method: "semi-implicit-euler", timeStep: 0.7, substeps: 2, lengths: [4, 3])
        let expected = try FusedPathTests.results(cell, tape: false, testCase, x: x, h0: h0, times: .irregular(stamps))
        let results = try FusedPathTests.results(
            single, tape: false, testCase, x: float(x), h0: float(h0), times: .irregular(float(stamps)))
        #expect(results.count == expected.count)
        for (index, (u, v)) in zip(results, expected).enumerated() {
            let scale = Swift.max(1, v.doubles.map { Swift.abs($0) }.max() ?? 0)
            #expect(
                maxAbsDifference(Tensor(shape: u.shape, scalars: u.doubles), v) <= 2e-5 * scale,
                "result \(index): \(maxAbsDifference(Tensor(shape: u.shape, scalars: u.doubles), v)) (scale \(scale))")
        }
    }

    /// A batch large enough for its rows to be split over the CPUs (LTC's H² synapses count as the
    /// rows' work) gives each row what the row gives alone, and the parameters' gradients summed
    /// over the rows.
    @Test func rowsSplitOverTheCPUsMatchEachRowAlone() throws {
        var g = SeededGenerator(seed: 5)
        let (batch, time, input, hidden) = (10, 20, 2, 16)
        let cell = LTCCell<Double>(inputSize: input, hiddenSize: hidden, using: &g)
        let x = Tensor<Double>.normal([batch, time, input], mean: 0, standardDeviation: 1, using: &g)
        let weights = Tensor<Double>.normal([batch, time, hidden], mean: 0, standardDeviation: 1, using: &g)
        let layer = RecurrentLayer(cell, integration: .fixed(semiImplicit: .semiImplicitEuler, substeps: 6))
        #expect(time * 6 * batch * (hidden + cell.evaluationWork) >= 2_000_000, "the batch is split when there are CPUs")
        func run(_ rows: Range<Int>) throws -> (Tensor<Double>, [Tensor<Double>]) {
            let tape = Tape<Double>()
            let (recorded, variables) = layer.recorded(on: tape)
            let out = try recorded(x.slice(alongAxis: 0, rows)).sequence
            let loss = (out * weights.slice(alongAxis: 0, rows)).sum()
            return (out.detached, tape.gradients(of: loss, withRespectTo: variables))
        }
        let (all, gradients) = try run(0..<batch)
        var summed = gradients.map { Tensor<Double>.zeros($0.shape) }
        for row in 0..<batch {
            let (out, rowGradients) = try run(row..<(row + 1))
            #expect(maxAbsDifference(out, all.slice(alongAxis: 0, row..<(row + 1))) == 0, "row \(row)")
            summed = zip(summed, rowGradients).map { $0 + $1 }
        }
        for (index, (a, b)) in zip(gradients, summed).enumerated() {
            let scale = Swift.max(1, b.doubles.map { Swift.abs($0) }.max() ?? 0)
            #expect(maxAbsDifference(a, b) <= 1e-12 * scale, "parameter \(index): \(maxAbsDifference(a, b))")
        }
    }

    /// A layer's recorded pass holds no reference to its tape: the tape (and the stage buffers its
    /// records keep) is freed after the gradients, in Float (the sensory currents' kernel operation)
    /// and Double.
    @Test func theTapeIsFreedAfterTheGradients() throws {
        func check<T: TensorScalar>(_: T.Type) throws {
            var g = SeededGenerator(seed: 6)
            let layer = RecurrentLayer(
                LTCCell<T>(inputSize: 2, hiddenSize: 3, using: &g), integration: .fixed(semiImplicit: .semiImplicitEuler))
            let x = Tensor<T>.normal([2, 4, 2], mean: 0, standardDeviation: 1, using: &g)
            weak var freed: Tape<T>?
            do {
                let tape = Tape<T>()
                freed = tape
                let (recorded, variables) = layer.recorded(on: tape)
                let out = try recorded(tape.variable(x))
                _ = tape.gradients(of: out.sequence.sum(), withRespectTo: variables)
            }
            #expect(freed == nil, "\(T.self)")
        }
        try check(Float.self)
        try check(Double.self)
    }

    /// Semi-implicit Euler converges to the ODE (RK4 with 512 steps per input as the reference) at
    /// order 1: the fitted slope of log error against log step.
    @Test func semiImplicitEulerConvergesAtOrderOne() throws {
        var g = SeededGenerator(seed: 40)
        let cell = LTCCell<Double>(inputSize: 2, hiddenSize: 4, using: &g)
        let x = Tensor<Double>.normal([2, 3, 2], mean: 0, standardDeviation: 1, using: &g)
        let reference = try RecurrentLayer(cell, integration: .fixed(.rk4, timeStep: 1, substeps: 512))(x).sequence
        var points: [(Double, Double)] = []
        for n in [8, 16, 32, 64] {
            let out = try RecurrentLayer(cell, integration: .fixed(semiImplicit: .semiImplicitEuler, substeps: n))(x)
                .sequence
            points.append((Foundation.log(1.0 / Double(n)), Foundation.log(maxAbsDifference(out, reference))))
        }
        let slope = fittedSlope(points)
        #expect(Swift.abs(slope - 1) < 0.15, "slope \(slope)")
    }

    /// Each semi-implicit step is a weighted mean of v, v_L and the reversal potentials, so with
    /// those in [−1, 1] the potentials stay there for any step; explicit Euler at the same step
    /// leaves the range on the same stiff cell (large conductances, small capacitance).
    @Test func semiImplicitStepsKeepThePotentialsBounded() throws {
        var g = SeededGenerator(seed: 3)
        var cell = LTCCell<Double>(inputSize: 2, hiddenSize: 6, using: &g)
        cell.conductance = cell.conductance + 4
        cell.capacitance = Tensor(repeating: -3, shape: [6])
        let x = Tensor<Double>.normal([4, 20, 2], mean: 0, standardDeviation: 2, using: &g)
        let h0 = Tensor<Double>.uniform([4, 6], lower: -1, upper: 1, using: &g)
        for timeStep in [0.1, 1.0, 50.0] {
            let out = try RecurrentLayer(cell, integration: .fixed(semiImplicit: .semiImplicitEuler, timeStep: timeStep))(
                x, initialState: h0
            ).sequence
            #expect(out.doubles.allSatisfy { Swift.abs($0) <= 1 + 1e-12 }, "Δt \(timeStep)")
        }
        let explicit = try? RecurrentLayer(cell, integration: .fixed(.euler, timeStep: 1))(x, initialState: h0).sequence
        #expect(explicit.map { $0.doubles.contains { !(Swift.abs($0) <= 1) } } ?? true)
    }

    /// With γ = 0 a semi-implicit method is its explicit tableau; the fused and tape paths agree on
    /// LTC under every explicit tableau (``FusedPathTests``).
    @Test func zeroGammaIsTheExplicitTableau() throws {
        var g = SeededGenerator(seed: 9)
        let cell = LTCCell<Double>(inputSize: 2, hiddenSize: 3, using: &g)
        let x = Tensor<Double>.normal([2, 4, 2], mean: 0, standardDeviation: 1, using: &g)
        let explicitMidpoint = try SemiImplicitTableau(name: "Midpoint, γ = 0", order: 2, tableau: .midpoint, gamma: [0, 0])
        let a = try RecurrentLayer(cell, integration: .fixed(semiImplicit: explicitMidpoint, substeps: 3))(x).sequence
        let b = try RecurrentLayer(cell, integration: .fixed(.midpoint, substeps: 3))(x).sequence
        #expect(maxAbsDifference(a, b) == 0)
    }

    @Test func badMethodsAreRejected() throws {
        #expect(throws: TableauError.self) {
            try SemiImplicitTableau(name: "two γ", order: 1, tableau: .euler, gamma: [1, 1])
        }
        #expect(throws: TableauError.self) {
            try SemiImplicitTableau(name: "negative γ", order: 1, tableau: .euler, gamma: [-1])
        }
        #expect(throws: TableauError.self) {
            try SemiImplicitTableau(name: "too high", order: 2, tableau: .midpoint, gamma: [0, 1])
        }
        #expect(throws: TableauError.self) {
            try SemiImplicitTableau(name: "implicit", order: 1, tableau: .implicitEuler, gamma: [1])
        }
        // Σ bᵢγᵢ = 0 keeps the tableau's order.
        #expect(throws: Never.self) {
            try SemiImplicitTableau(name: "balanced", order: 2, tableau: .midpoint, gamma: [1, 0])
        }
    }

    @Test func cellsThatDoNotSplitTheirDecayAreRejected() throws {
        var g = SeededGenerator(seed: 1)
        let x = Tensor<Double>.normal([2, 3, 2], mean: 0, standardDeviation: 1, using: &g)
        let gru = GRUCell<Double>(inputSize: 2, hiddenSize: 3, using: &g)
        let semiImplicit = CellIntegration<Double>.fixed(semiImplicit: .semiImplicitEuler)
        #expect {
            _ = try RecurrentLayer(gru, integration: semiImplicit)(x)
        } throws: { error in
            guard case RecurrentError<Double>.invalidIntegration(let message) = error else { return false }
            return message.contains("does not split off its decay")
        }
        let simpleDeep = SimpleDeepRNNCell<Double>(inputSize: 2, hiddenSize: 3, depth: 2, using: &g)
        #expect {
            _ = try RecurrentLayer(simpleDeep, integration: semiImplicit)(x)
        } throws: { error in
            guard case RecurrentError<Double>.invalidIntegration(let message) = error else { return false }
            return message.contains("RowSeparableField")
        }
        let ltc = LTCCell<Double>(inputSize: 2, hiddenSize: 3, using: &g)
        var adaptive = semiImplicit
        adaptive.step = .adaptive(rtol: 1e-6, atol: 1e-8)
        #expect {
            _ = try RecurrentLayer(ltc, integration: adaptive)(x)
        } throws: { error in
            guard case RecurrentError<Double>.invalidIntegration(let message) = error else { return false }
            return message.contains("fixed steps only")
        }
        var both = semiImplicit
        both.partitionedMethod = .symplecticEuler
        #expect(throws: RecurrentError<Double>.self) { _ = try RecurrentLayer(ltc, integration: both)(x) }
    }
}
