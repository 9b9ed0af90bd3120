import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// The integrator's fused path (row-separable cells, fixed steps) against its tape path (the same
/// cells behind ``TapeOnly``, integrated by an ``Integrator`` recording every stage): every tableau,
/// every cell, masks, both directions, truncation, substeps, a trainable Δt and per-row time stamps,
/// outputs and every gradient.
@Suite("The fused path against the tape")
struct FusedPathTests {
    /// Every cell the library makes row-separable, in several configurations (the generic Swift
    /// loops as well as the C kernels), with small random parameters.
    static func cells<T: TensorScalar>(_: T.Type, input: Int, hidden: Int, seed: UInt64 = 21) -> [any RecurrentCell<T>] {
        var g = SeededGenerator(seed: seed)
        return [
            SimpleRNNCell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g),
            SimpleRNNCell<T>(inputSize: input, hiddenSize: hidden, activation: .relu, initialization: .pytorch, using: &g),
            SimpleRNNCell<T>(inputSize: input, hiddenSize: hidden, activation: .softplus, initialization: .pytorch, using: &g),
            GRUCell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g),
            GRUCell<T>(inputSize: input, hiddenSize: hidden, resetAfter: false, initialization: .pytorch, using: &g),
            GRUCell<T>(
                inputSize: input, hiddenSize: hidden, recurrentActivation: .hardSigmoid, initialization: .pytorch, using: &g),
            LSTMCell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g),
            LSTMCell<T>(inputSize: input, hiddenSize: hidden, activation: .sigmoid, initialization: .pytorch, using: &g),
            MUT1Cell<T>(size: hidden, initialization: .pytorch, using: &g),
            MUT2Cell<T>(size: hidden, initialization: .pytorch, using: &g),
            MUT3Cell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g),
            IndRNNCell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g),
            IndRNNCell<T>(
                inputSize: input, hiddenSize: hidden, activation: .tanh, initialization: .pytorch,
                recurrentInitializer: .uniform(lower: -1, upper: 1), using: &g),
            AntisymmetricRNNCell<T>(inputSize: input, hiddenSize: hidden, diffusion: 0.1, initialization: .pytorch, using: &g),
            AntisymmetricRNNCell<T>(
                inputSize: input, hiddenSize: hidden, gated: true, diffusion: 0.05, initialization: .pytorch, using: &g),
            LipschitzRNNCell<T>(
                inputSize: input, hiddenSize: hidden, beta: 0.7, gamma: 0.05, recurrentBlend: (0.9, 0.02),
                initialization: .pytorch, matrixScale: 2, using: &g),
            CoRNNCell<T>(inputSize: input, hiddenSize: hidden, stiffness: 1.5, damping: 0.5, initialization: .pytorch, using: &g),
            LEMCell<T>(inputSize: input, hiddenSize: hidden, using: &g),
            UnICORNNCell<T>(inputSize: input, hiddenSize: hidden, restoringForce: 2, initialization: .pytorch, using: &g),
            LTCCell<T>(inputSize: input, hiddenSize: hidden, using: &g),
        ]
    }

    /// Fixed steps of a built-in tableau by name, of symplectic Euler ("symplectic-euler"), of
    /// semi-implicit Euler ("semi-implicit-euler") or of IMEX symplectic Euler ("imex-symplectic-euler").
    static func integration<T: TensorScalar>(_ method: String, timeStep: T, substeps: Int) -> CellIntegration<T> {
        switch method {
        case "symplectic-euler": .fixed(partitioned: .symplecticEuler, timeStep: timeStep, substeps: substeps)
        case "semi-implicit-euler": .fixed(semiImplicit: .semiImplicitEuler, timeStep: timeStep, substeps: substeps)
        case "imex-symplectic-euler": .fixed(semiImplicit: .imexSymplecticEuler, timeStep: timeStep, substeps: substeps)
        default: .fixed(ButcherTableau.builtIn[method]!, timeStep: timeStep, substeps: substeps)
        }
    }

    /// A loss that reads every result: the sequence, the last output and the final state.
    static func loss<T: TensorScalar>(_ out: RecurrentOutput<T>) -> Tensor<T> {
        var g = SeededGenerator(seed: 5)
        let weights = Tensor<T>.normal(out.sequence.shape, mean: 0, standardDeviation: 1, using: &g)
        let stateWeights = Tensor<T>.normal(out.finalState.shape, mean: 0, standardDeviation: 1, using: &g)
        return (out.sequence * weights).sum() + (out.last * out.last).sum() + (out.finalState * stateWeights).sum()
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var method = "rk4"
        var timeStep = 0.7
        var substeps = 2
        var lengths: [Int]?
        var goBackwards = false
        var truncation: Int?
        var testDescription: String {
            "\(method) Δt \(timeStep) × \(substeps), lengths \(lengths.map { "\($0)" } ?? "all"), "
                + "\(goBackwards ? "backwards" : "forwards"), truncation \(truncation.map { "\($0)" } ?? "none")"
        }
    }

    /// Results (outputs, final state) and the gradients of every parameter, the input, the initial
    /// state and, when given, the times, for a layer of `cell` on the fused or the tape path.
    static func results<Cell: RecurrentCell>(
        _ cell: Cell, tape: Bool, _ testCase: Case, x: Tensor<Cell.Scalar>, h0: Tensor<Cell.Scalar>,
        times: SequenceTimes<Cell.Scalar>? = nil
    ) throws -> [Tensor<Cell.Scalar>] {
        typealias T = Cell.Scalar
        let integration: CellIntegration<T> = Self.integration(
            testCase.method, timeStep: T(testCase.timeStep), substeps: testCase.substeps)
        let layer = RecurrentLayer(
            cell, integration: integration, goBackwards: testCase.goBackwards,
            gradients: testCase.truncation.map { .truncated(steps: $0) } ?? .backpropagation)
        let recordedTape = Tape<T>()
        let (input, state) = (recordedTape.variable(x), recordedTape.variable(h0))
        var timeVariables: [Tensor<T>] = []
        var recordedTimes: SequenceTimes<T>?
        switch times {
        case .regular(let step)?:
            timeVariables = [recordedTape.variable(step)]
            recordedTimes = .regular(timeStep: timeVariables[0])
        case .irregular(let stamps)?:
            timeVariables = [recordedTape.variable(stamps)]
            recordedTimes = .irregular(timeVariables[0])
        case nil: break
        }
        let mask = testCase.lengths.map { lengths in
            Tensor<T>(
                shape: [lengths.count, x.shape[1]], scalars: lengths.flatMap { l in (0..<x.shape[1]).map { $0 < l ? 1 : 0 } })
        }
        let out: RecurrentOutput<T>
        let variables: [Tensor<T>]
        if tape {
            let (recorded, parameters) = layer.onTape.recorded(on: recordedTape)
            out = try recorded.run(input, initialStates: [state], mask: mask, times: recordedTimes)
            variables = parameters
        } else {
            let (recorded, parameters) = layer.recorded(on: recordedTape)
            out = try recorded.run(input, initialStates: [state], mask: mask, times: recordedTimes)
            variables = parameters
        }
        let gradients = recordedTape.gradients(of: loss(out), withRespectTo: variables + [input, state] + timeVariables)
        return [out.sequence.detached, out.finalState.detached] + gradients
    }

    /// Fused and tape results of every cell agree to `tolerance`, relative to each result's size.
    static func compare<T: TensorScalar>(
        _: T.Type, _ testCase: Case, tolerance: Double, times: (Int, Int) -> SequenceTimes<T>? = { _, _ in nil }
    ) throws {
        var g = SeededGenerator(seed: 4)
        let (batch, time, input, hidden) = (3, 5, 4, 4)
        let x = Tensor<T>.normal([batch, time, input], mean: 0, standardDeviation: 1.5, using: &g)
        for cell in cells(T.self, input: input, hidden: hidden) {
            let h0 = Tensor<T>.normal([batch, cell.stateSize], mean: 0, standardDeviation: 0.5, using: &g)
            let fused = try results(cell, tape: false, testCase, x: x, h0: h0, times: times(batch, time))
            let onTape = try results(cell, tape: true, testCase, x: x, h0: h0, times: times(batch, time))
            #expect(fused.count == onTape.count)
            for (index, (u, v)) in zip(fused, onTape).enumerated() {
                let scale = Swift.max(1, v.doubles.map { Swift.abs($0) }.max() ?? 0)
                #expect(u.shape == v.shape)
                #expect(
                    maxAbsDifference(u, v) <= tolerance * scale,
                    "\(type(of: cell)) result \(index): \(maxAbsDifference(u, v)) (scale \(scale))")
            }
        }
    }

    /// Every explicit tableau of the library, at Δt = 0.7 with two substeps, in Double.
    @Test(arguments: ["euler", "midpoint", "heun", "ralston", "rk4", "bosh3", "dopri5", "tsit5"])
    func everyTableauMatchesTheTape(method: String) throws {
        try Self.compare(Double.self, Case(method: method), tolerance: 1e-12)
    }

    static let options: [Case] = [
        Case(method: "euler", timeStep: 1, substeps: 1),
        Case(method: "euler", timeStep: 0.5, substeps: 1),
        Case(method: "midpoint", lengths: [5, 2, 0]),
        Case(method: "rk4", lengths: [5, 2, 0], goBackwards: true),
        Case(method: "rk4", truncation: 2),
        Case(method: "dopri5", timeStep: 1, substeps: 3, lengths: [4, 5, 1], goBackwards: true, truncation: 3),
    ]

    /// Masks, reading backwards, truncation and substeps.
    @Test(arguments: options)
    func optionsMatchTheTape(_ testCase: Case) throws {
        try Self.compare(Double.self, testCase, tolerance: 1e-12)
    }

    /// In Float the C kernels' activations (within 2e-7 of the exact ones) and the tape's libm agree
    /// to single precision.
    @Test(arguments: [
        Case(method: "euler", timeStep: 1, substeps: 1), Case(method: "rk4"), Case(method: "midpoint", lengths: [5, 2, 0]),
    ])
    func floatMatchesTheTape(_ testCase: Case) throws {
        try Self.compare(Float.self, testCase, tolerance: 3e-5)
    }

    /// A recorded Δt: outputs and gradients, the step's included, on both paths.
    @Test(arguments: [
        Case(method: "euler", timeStep: 1, substeps: 1), Case(method: "rk4"), Case(method: "tsit5", lengths: [5, 2, 0]),
    ])
    func trainableTimeStepMatchesTheTape(_ testCase: Case) throws {
        try Self.compare(Double.self, testCase, tolerance: 1e-12) { _, _ in .regular(timeStep: Tensor(0.63)) }
    }

    /// Per-row time stamps: every row on its own clock, gaps of 0.2 to 1.6 (1 to 3 steps of 0.7/2... per
    /// the layer's ⌈g / h⌉), with gradients for the stamps.
    @Test(arguments: [
        Case(method: "euler", timeStep: 1, substeps: 1), Case(method: "rk4"),
        Case(method: "heun", lengths: [5, 2, 0], goBackwards: true),
    ])
    func perRowTimesMatchTheTape(_ testCase: Case) throws {
        try Self.compare(Double.self, testCase, tolerance: 1e-12) { batch, time in
            .irregular(Self.stamps(batch: batch, time: time))
        }
    }

    /// Increasing stamps with gaps drawn from [0.2, 1.6], away from multiples of the steps used here.
    static func stamps<T: TensorScalar>(batch: Int, time: Int) -> Tensor<T> {
        var g = SeededGenerator(seed: 17)
        var values: [T] = []
        for _ in 0..<batch {
            var t = T(g.nextUnitDouble() * 3)
            for _ in 0..<time {
                values.append(t)
                t += T(0.2 + 1.4 * g.nextUnitDouble())
            }
        }
        return Tensor(shape: [batch, time], scalars: values)
    }
}

// MARK: - Against finite differences

extension FusedPathTests {
    /// The fused path's gradients against central differences: parameters, input, initial state,
    /// a trainable Δt and per-row time stamps.
    @Test(arguments: ["euler", "rk4"])
    func gradientsMatchFiniteDifferences(method: String) throws {
        var g = SeededGenerator(seed: 8)
        let cells = Self.cells(Double.self, input: 3, hidden: 3)
        // A GRU, an LSTM, MUT3, IndRNN (tanh), both AntisymmetricRNNs, the Lipschitz RNN, coRNN, LEM
        // and UnICORNN.
        for index in [3, 6, 10, 12, 13, 14, 15, 16, 17, 18, 19] {
            try Self.checkFiniteDifferences(cells[index], method: method, using: &g)
        }
    }

    static func checkFiniteDifferences<Cell: RecurrentCell>(
        _ cell: Cell, method: String, using g: inout SeededGenerator
    ) throws where Cell.Scalar == Double {
        let x = Tensor<Double>.normal([2, 4, 3], mean: 0, standardDeviation: 1, using: &g)
        let testCase = Case(method: method, timeStep: 0.7, substeps: 2, lengths: [4, 3])
        let stamps: Tensor<Double> = Self.stamps(batch: 2, time: 4)
        let h0 = Tensor<Double>.normal([2, cell.stateSize], mean: 0, standardDeviation: 0.5, using: &g)
        for times in [SequenceTimes<Double>.regular(timeStep: Tensor(0.63)), .irregular(stamps)] {
            let automatic = try Self.results(cell, tape: false, testCase, x: x, h0: h0, times: times)
            let gradients = Array(automatic.dropFirst(2))
            let parameters = cell.parameters
            let timeTensor: Tensor<Double>
            switch times {
            case .regular(let step): timeTensor = step
            case .irregular(let t): timeTensor = t
            }
            let points = parameters + [x, h0, timeTensor]
            /// The loss with operand `i` replaced by `value`.
            func loss(_ i: Int, _ value: Tensor<Double>) throws -> Double {
                var all = points
                all[i] = value
                var probe = cell
                probe.parameters = Array(all.prefix(parameters.count))
                let integration: CellIntegration<Double> = Self.integration(method, timeStep: 0.7, substeps: 2)
                let mask = Tensor<Double>(shape: [2, 4], scalars: [1, 1, 1, 1, 1, 1, 1, 0])
                let probeTimes: SequenceTimes<Double>
                if case .regular = times {
                    probeTimes = .regular(timeStep: all.last!)
                } else {
                    probeTimes = .irregular(all.last!)
                }
                let out = try RecurrentLayer(probe, integration: integration)
                    .run(all[parameters.count], initialStates: [all[parameters.count + 1]], mask: mask, times: probeTimes)
                return Self.loss(out).scalar
            }
            for i in points.indices {
                let numerical = try numericalGradient(at: points[i]) { try loss(i, $0) }
                let scale = Swift.max(1, numerical.doubles.map { Swift.abs($0) }.max() ?? 0)
                #expect(
                    maxAbsDifference(gradients[i], numerical) < 1e-7 * scale,
                    "\(Cell.self) \(method) operand \(i): \(maxAbsDifference(gradients[i], numerical))")
            }
        }
    }
}

// MARK: - Rows, order, failures

extension FusedPathTests {
    /// A row's results do not depend on the rows it is batched with: on the fused path bit for bit
    /// (every product sums each entry in the same order whatever the rows), on the tape to 1e-14
    /// (small products there take other kernels than a row alone).
    @Test(arguments: [false, true])
    func perRowResultsEqualRunningTheRowAlone(tape: Bool) throws {
        var g = SeededGenerator(seed: 12)
        let (batch, time) = (4, 6)
        let x = Tensor<Double>.normal([batch, time, 3], mean: 0, standardDeviation: 1, using: &g)
        let stamps: Tensor<Double> = Self.stamps(batch: batch, time: time)
        let lengths = [6, 3, 6, 1]
        let mask = Tensor<Double>(shape: [batch, time], scalars: lengths.flatMap { l in (0..<time).map { $0 < l ? 1 : 0 } })
        let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 5, initialization: .pytorch, using: &g)
        let layer = RecurrentLayer(cell, integration: .fixed(.rk4, timeStep: 0.5, substeps: 2))
        func run(_ x: Tensor<Double>, _ t: Tensor<Double>, _ mask: Tensor<Double>) throws -> RecurrentOutput<Double> {
            tape
                ? try layer.onTape.run(x, initialStates: nil, mask: mask, times: .irregular(t))
                : try layer.run(x, initialStates: nil, mask: mask, times: .irregular(t))
        }
        let together = try run(x, stamps, mask)
        for row in 0..<batch {
            let alone = try run(
                x.slice(alongAxis: 0, row..<(row + 1)), stamps.slice(alongAxis: 0, row..<(row + 1)),
                mask.slice(alongAxis: 0, row..<(row + 1)))
            let sequence = together.sequence.slice(alongAxis: 0, row..<(row + 1))
            let state = together.finalState.slice(alongAxis: 0, row..<(row + 1))
            if tape {
                #expect(maxAbsDifference(sequence, alone.sequence) < 1e-14)
                #expect(maxAbsDifference(state, alone.finalState) < 1e-14)
            } else {
                #expect(sequence == alone.sequence, "row \(row)")
                #expect(state == alone.finalState, "row \(row)")
            }
        }
    }

    /// The convergence test's problem: a GRU over three intervals of length 2, and its reference, the
    /// tape path's RK4 with 4096 steps per interval (its error, about 5e-16 here, is far below the
    /// smallest one fitted).
    static let convergenceProblem: (cell: GRUCell<Double>, x: Tensor<Double>, reference: Tensor<Double>) = {
        var g = SeededGenerator(seed: 30)
        let cell = GRUCell<Double>(inputSize: 2, hiddenSize: 3, initialization: .pytorch, using: &g)
        let x = Tensor<Double>.normal([2, 3, 2], mean: 0, standardDeviation: 1, using: &g)
        let reference = try! RecurrentLayer(TapeOnly(cell), integration: .fixed(.rk4, timeStep: 2, substeps: 4096))(x).sequence
        return (cell, x, reference)
    }()

    /// The fused path's convergence order, by the slope of log(error) against log(h), for every
    /// tableau. The step sizes are fine enough to be past the pre-asymptotic coarse steps and
    /// coarse enough to stay above rounding; the fifth-order pairs' leading error terms are small,
    /// so the sixth-order ones still show (Tsit5's local slopes fall from 5.5 to 5.15 over the
    /// range: the fit gives 5.32).
    @Test(arguments: ["euler", "midpoint", "heun", "ralston", "rk4", "bosh3", "dopri5", "tsit5"])
    func convergesAtTheTableausOrder(method: String) throws {
        let tableau = ButcherTableau.builtIn[method]!
        let (cell, x, reference) = Self.convergenceProblem
        let substeps = tableau.order <= 2 || tableau.order == 5 ? [8, 16, 32, 64] : [4, 8, 16, 32]
        var points: [(Double, Double)] = []
        for n in substeps {
            let out = try RecurrentLayer(cell, integration: .fixed(tableau, timeStep: 2, substeps: n))(x).sequence
            points.append((Foundation.log(2.0 / Double(n)), Foundation.log(maxAbsDifference(out, reference))))
        }
        let slope = fittedSlope(points)
        #expect(Swift.abs(slope - Double(tableau.order)) < 0.35, "\(method): slope \(slope), order \(tableau.order)")
    }

    /// Work: one step per substep, each evaluating the tableau's stages (FSAL: one fewer).
    @Test func statisticsCountStepsAndStages() throws {
        var g = SeededGenerator(seed: 2)
        let cell = GRUCell<Double>(inputSize: 4, hiddenSize: 3, using: &g)
        let x = Tensor<Double>.zeros([2, 5, 4])
        let rk4 = try RecurrentLayer(cell, integration: .fixed(.rk4, substeps: 3))(x).statistics
        #expect(rk4.acceptedSteps == 15 && rk4.evaluations == 60)
        let dopri5 = try RecurrentLayer(cell, integration: .fixed(.dopri5, timeStep: 2, substeps: 2))(x).statistics
        #expect(dopri5.acceptedSteps == 10 && dopri5.evaluations == 60)
    }

    /// A state that overflows in a stage of the second interval keeps the outputs of the first (RK4
    /// from 0 with input 1 and recurrent weight w = 1e100 reaches about w³/24 ≈ 4e298; the next
    /// interval's first stage overflows).
    @Test func overflowKeepsThePartialSequence() throws {
        let cell = SimpleRNNCell<Double>(
            inputWeight: Tensor([[1]]), recurrentWeight: Tensor([[1e100]]), bias: Tensor([0]), activation: .relu)
        let x = Tensor<Double>(shape: [2, 5, 1], scalars: [1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
        do {
            _ = try RecurrentLayer(cell, integration: .fixed(.rk4))(x)
            Issue.record("expected the state to overflow")
        } catch {
            guard case .integrationFailed(let step, _, let outputs, let lastState) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(step == 1)
            #expect(outputs.shape == [2, 1, 1] && outputs.scalars[1] == 0 && outputs.scalars[0] > 1e199)
            #expect(lastState.shape == [2, 1] && lastState.scalars[1] == 0)
        }
    }

    /// Bad time stamps and steps are errors that say what is wrong.
    @Test func badTimesAreRejected() throws {
        var g = SeededGenerator(seed: 2)
        let layer = RecurrentLayer(GRUCell<Double>(inputSize: 2, hiddenSize: 2, using: &g), integration: .fixed(.rk4))
        let x = Tensor<Double>.zeros([2, 3, 2])
        #expect(throws: RecurrentError<Double>.invalidTimes("time stamps must be [batch, time] = [2, 3], got [3, 2]")) {
            try layer.run(x, initialStates: nil, mask: nil, times: .irregular(.zeros([3, 2])))
        }
        let decreasing = Tensor<Double>([[0, 1, 2], [0, 2, 1.5]])
        #expect(throws: RecurrentError<Double>.invalidTimes("the time stamps of row 1 do not increase at step 2 (2.0 then 1.5)"))
        {
            try layer.run(x, initialStates: nil, mask: nil, times: .irregular(decreasing))
        }
        // Padded steps' stamps are not compared.
        let mask = Tensor<Double>([[1, 1, 1], [1, 1, 0]])
        _ = try layer.run(x, initialStates: nil, mask: mask, times: .irregular(decreasing))
        var nan = decreasing
        nan.setScalar(.nan, at: [0, 1])
        #expect(throws: RecurrentError<Double>.invalidTimes("the time stamp of row 0, step 1 is nan")) {
            try layer.run(x, initialStates: nil, mask: nil, times: .irregular(nan))
        }
        #expect(throws: RecurrentError<Double>.invalidTimes("the time step must be positive and finite, got -1.0")) {
            try layer.run(x, initialStates: nil, mask: nil, times: .regular(timeStep: Tensor(-1)))
        }
        let huge = Tensor<Double>([[0, 1, 2], [0, 1e12, 2e12]])
        #expect(throws: RecurrentError<Double>.self) { try layer.run(x, initialStates: nil, mask: nil, times: .irregular(huge)) }
    }

    /// A regular grid given as time stamps is the regular layer (the fields are autonomous: only the
    /// gaps matter, and the first interval has the nominal Δt).
    @Test func regularStampsGiveTheRegularLayer() throws {
        var g = SeededGenerator(seed: 3)
        let layer = RecurrentLayer(
            LSTMCell<Double>(inputSize: 2, hiddenSize: 3, using: &g), integration: .fixed(.rk4, timeStep: 0.5, substeps: 2))
        let x = Tensor<Double>.normal([2, 4, 2], mean: 0, standardDeviation: 1, using: &g)
        let stamps = Tensor<Double>([[3, 3.5, 4, 4.5], [-1, -0.5, 0, 0.5]])
        let regular = try layer(x)
        for out in [
            try layer.run(x, initialStates: nil, mask: nil, times: .irregular(stamps)),
            try layer.onTape.run(x, initialStates: nil, mask: nil, times: .irregular(stamps)),
        ] {
            #expect(maxAbsDifference(out.sequence, regular.sequence) < 1e-14)
        }
    }
}

// MARK: - A user's field

/// dY/dt = tanh(Y·U + P) − τ ⊙ Y with a learned per-unit rate τ: a field written by a user, with an
/// elementwise parameter and a scratch row, run by the integrator's fused path directly.
struct DecayingField: RowSeparableField {
    typealias Scalar = Double
    var u: Tensor<Double>
    var rates: Tensor<Double>
    var stateWidth: Int { u.shape[0] }
    var inputWidth: Int { u.shape[0] }
    var savedWidth: Int { stateWidth }
    var scratchWidth: Int { stateWidth }
    var products: [RowProduct<Double>] { [RowProduct(weight: u, inputGradientColumn: 0)] }
    var elementwiseParameters: [Tensor<Double>] { [rates] }
    var detached: DecayingField { DecayingField(u: u.detached, rates: rates.detached) }

    func evaluate(_ rows: inout RowFieldEvaluation<Double>) {
        let (n, r, tau) = (stateWidth, rows.product(0), rows.parameter(0))
        for row in 0..<rows.count {
            for j in 0..<n {
                let a = Double.tanh(r[row * n + j] + rows.input[row * rows.inputStride + j])
                rows.saved[row * n + j] = a
                rows.derivative[row * n + j] = a - tau[j] * rows.state[row * n + j]
            }
        }
    }

    func pullback(_ rows: inout RowFieldPullback<Double>) {
        let (n, dR, tau, dTau) = (stateWidth, rows.productGradient(0), rows.parameter(0), rows.parameterGradient(0))
        for row in 0..<rows.count {
            for j in 0..<n {
                let (a, dk) = (rows.saved[row * n + j], rows.derivativeGradient[row * n + j])
                let d = dk * (1 - a * a)
                dR[row * n + j] = d
                rows.inputGradient[row * rows.inputStride + j] = d
                rows.stateGradient[row * n + j] -= dk * tau[j]
                dTau[j] -= dk * rows.state[row * n + j]
                rows.scratch[row * n + j] = 0
            }
        }
        rows.accumulateProductPullback(0, into: rows.stateGradient, stride: n)
    }
}

extension FusedPathTests {
    /// A user's field through the fused integrator: the same outputs and gradients (the elementwise
    /// rate's included) as the field written with tensor operations and solved on the tape.
    @Test func aUsersFieldMatchesItsTensorForm() throws {
        var g = SeededGenerator(seed: 40)
        let (batch, time, n) = (3, 4, 3)
        let u = Tensor<Double>.normal([n, n], mean: 0, standardDeviation: 0.5, using: &g)
        let rates = Tensor<Double>([0.5, 1, 2])
        let p = Tensor<Double>.normal([time, batch, n], mean: 0, standardDeviation: 1, using: &g)
        let h0 = Tensor<Double>.normal([batch, n], mean: 0, standardDeviation: 0.5, using: &g)
        let weights = Tensor<Double>.normal([batch, time * n], mean: 0, standardDeviation: 1, using: &g)

        let tape = Tape<Double>()
        let (vu, vr, vp, vh) = (tape.variable(u), tape.variable(rates), tape.variable(p), tape.variable(h0))
        let fused = try integrateRows(
            DecayingField(u: vu, rates: vr), input: vp, initialState: vh, intervals: .constant(0.5), method: .rk4,
            maxStep: 0.25)
        let fusedLoss = (fused.outputs.reshaped(to: [batch, time * n]) * weights).sum() + fused.finalState.sum()
        let fusedGradients = tape.gradients(of: fusedLoss, withRespectTo: [vu, vr, vp, vh])

        let reference = Tape<Double>()
        let (ru, rr, rp, rh) = (reference.variable(u), reference.variable(rates), reference.variable(p), reference.variable(h0))
        var state = rh
        var outputs: [Tensor<Double>] = []
        let inputs = rp.unstacked(alongAxis: 0)
        for k in 0..<time {
            let field = FieldClosure<Tensor<Double>> { _, y in tanh(matmul(y, ru) + inputs[k]) - rr * y }
            state = try solve(field, initialState: state, from: 0, to: 0.5, method: .rk4, step: .fixed(0.25), saveAt: .final)
                .finalState
            outputs.append(state)
        }
        let sequence = Tensor(stacking: outputs, alongAxis: 1)
        let referenceLoss = (sequence.reshaped(to: [batch, time * n]) * weights).sum() + state.sum()
        let referenceGradients = reference.gradients(of: referenceLoss, withRespectTo: [ru, rr, rp, rh])
        #expect(maxAbsDifference(fused.outputs.detached, sequence.detached) < 1e-14)
        for (a, b) in zip(fusedGradients, referenceGradients) { #expect(maxAbsDifference(a, b) < 1e-13) }
    }
}

/// The least-squares slope of y against x.
func fittedSlope(_ points: [(Double, Double)]) -> Double {
    let n = Double(points.count)
    let mx = points.map(\.0).reduce(0, +) / n
    let my = points.map(\.1).reduce(0, +) / n
    let sxy = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
    let sxx = points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
    return sxy / sxx
}
