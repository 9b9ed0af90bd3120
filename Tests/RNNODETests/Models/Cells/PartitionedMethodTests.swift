import Foundation
import Testing

@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODETensors

/// Partitioned methods on the fused path, and the second-order cells whose published
/// discretization is one (coRNN, LEM, UnICORNN): symplectic Euler against the reference codes' updates
/// written out with scalar loops, gradients against central differences, a partitioned method of
/// identical parts against the plain tableau, the symplectic step's bounded energy on an
/// oscillator, first-order convergence, coRNN's IMEX step (a semi-implicit partitioned method), and
/// the errors.
@Suite("Partitioned methods")
struct PartitionedMethodTests {
    /// Every output y of the rows of `x` from (y₀, z₀) = `h0` by `update(xₜ, y, z)`.
    static func restated<T: TensorScalar>(
        _ x: Tensor<T>, _ h0: Tensor<T>, update: ([T], [T], [T]) -> ([T], [T])
    ) -> Tensor<T> {
        let (batch, time, input, hidden) = (x.shape[0], x.shape[1], x.shape[2], h0.shape[1] / 2)
        let (xs, hs) = (x.scalars, h0.scalars)
        var out: [T] = []
        for b in 0..<batch {
            var y = Array(hs[(2 * b * hidden)..<((2 * b + 1) * hidden)])
            var z = Array(hs[((2 * b + 1) * hidden)..<((2 * b + 2) * hidden)])
            for t in 0..<time {
                let start = (b * time + t) * input
                (y, z) = update(Array(xs[start..<(start + input)]), y, z)
                out += y
            }
        }
        return Tensor(shape: [batch, time, hidden], scalars: out)
    }

    static func referenceUpdates<T: TensorScalar>(_: T.Type, tolerance: Double) throws {
        var g = SeededGenerator(seed: 19)
        let (input, hidden, dt) = (3, 4, T(0.2))
        let x = Tensor<T>.normal([2, 7, input], mean: 0, standardDeviation: 1, using: &g)
        let h0 = Tensor<T>.normal([2, 2 * hidden], mean: 0, standardDeviation: 0.5, using: &g)
        let integration = CellIntegration<T>.fixed(partitioned: .symplecticEuler, timeStep: dt)

        // coRNN (the reference's explicit variant): z ← z + Δt (tanh(xV + b + yW + z𝒲) − γ y − ε z),
        // then y ← y + Δt z.
        let coRNN = CoRNNCell<T>(
            inputSize: input, hiddenSize: hidden, stiffness: 1.7, damping: 0.6, initialization: .pytorch, using: &g)
        let (v, u, b) = (coRNN.inputWeight.scalars, coRNN.recurrentWeight.scalars, coRNN.bias.scalars)
        let expected = restated(x, h0) { x, y, z in
            let (vx, force) = (ODECellTests.times(x, v, columns: hidden), ODECellTests.times(y + z, u, columns: hidden))
            let (gamma, epsilon) = (T(1.7), T(0.6))
            let z1 = (0..<hidden).map { j -> T in
                let drive: T = T.tanh(vx[j] + b[j] + force[j])
                return z[j] + dt * (drive - gamma * y[j] - epsilon * z[j])
            }
            return ((0..<hidden).map { j in y[j] + dt * z1[j] }, z1)
        }
        let out = try RecurrentLayer(coRNN, integration: integration)(x, initialState: h0).sequence
        #expect(maxAbsDifference(out, expected) <= tolerance, "coRNN: \(maxAbsDifference(out, expected))")

        // coRNN's IMEX step (the paper's eq. 3): z ← (z + Δt (tanh(xV + b + yW + z𝒲) − γ y)) / (1 + Δt ε),
        // then y ← y + Δt z.
        let imexExpected = restated(x, h0) { x, y, z in
            let (vx, force) = (ODECellTests.times(x, v, columns: hidden), ODECellTests.times(y + z, u, columns: hidden))
            let (gamma, epsilon) = (T(1.7), T(0.6))
            let z1 = (0..<hidden).map { j -> T in
                let drive: T = T.tanh(vx[j] + b[j] + force[j])
                return (z[j] + dt * (drive - gamma * y[j])) / (1 + dt * epsilon)
            }
            return ((0..<hidden).map { j in y[j] + dt * z1[j] }, z1)
        }
        let imex = try RecurrentLayer(coRNN, integration: .fixed(semiImplicit: .imexSymplecticEuler, timeStep: dt))(
            x, initialState: h0
        ).sequence
        #expect(maxAbsDifference(imex, imexExpected) <= tolerance, "coRNN IMEX: \(maxAbsDifference(imex, imexExpected))")

        // LEM, as the reference code writes it (blocks ỹ, z̃, y's candidate, z's candidate).
        let lem = LEMCell<T>(inputSize: input, hiddenSize: hidden, using: &g)
        let (w, r, m, c) = (lem.inputWeight.scalars, lem.recurrentWeight.scalars, lem.memoryWeight.scalars, lem.bias.scalars)
        let lemExpected = restated(x, h0) { x, y, z in
            let px = ODECellTests.times(x, w, columns: 4 * hidden)
            let p = (0..<(4 * hidden)).map { px[$0] + c[$0] }
            let ry = ODECellTests.times(y, r, columns: 3 * hidden)
            let (zRate, yRate) = (
                (0..<hidden).map { dt * T.sigmoid(p[hidden + $0] + ry[hidden + $0]) },
                (0..<hidden).map { dt * T.sigmoid(p[$0] + ry[$0]) }
            )
            let z1 = (0..<hidden).map { j in (1 - zRate[j]) * z[j] + zRate[j] * T.tanh(p[3 * hidden + j] + ry[2 * hidden + j]) }
            let mz = ODECellTests.times(z1, m, columns: hidden)
            let y1 = (0..<hidden).map { j in (1 - yRate[j]) * y[j] + yRate[j] * T.tanh(p[2 * hidden + j] + mz[j]) }
            return (y1, z1)
        }
        let lemOut = try RecurrentLayer(lem, integration: integration)(x, initialState: h0).sequence
        #expect(maxAbsDifference(lemOut, lemExpected) <= tolerance, "LEM: \(maxAbsDifference(lemOut, lemExpected))")

        // UnICORNN, as the reference code's kernel writes it: z ← z − Δt σ̂(c) (tanh(w y + xV + b) + α y),
        // then y ← y + Δt σ̂(c) z.
        let unicornn = UnICORNNCell<T>(
            inputSize: input, hiddenSize: hidden, restoringForce: 1.3, initialization: .pytorch, using: &g)
        let (uv, ub, uw, uc) = (
            unicornn.inputWeight.scalars, unicornn.bias.scalars, unicornn.recurrentWeight.scalars,
            unicornn.timeScale.scalars
        )
        let unicornnExpected = restated(x, h0) { x, y, z in
            let vx = ODECellTests.times(x, uv, columns: hidden)
            let z1 = (0..<hidden).map { j -> T in
                let drive: T = T.tanh(uw[j] * y[j] + vx[j] + ub[j])
                return z[j] - dt * T.sigmoid(uc[j]) * (drive + T(1.3) * y[j])
            }
            return ((0..<hidden).map { j in y[j] + dt * T.sigmoid(uc[j]) * z1[j] }, z1)
        }
        let unicornnOut = try RecurrentLayer(unicornn, integration: integration)(x, initialState: h0).sequence
        #expect(
            maxAbsDifference(unicornnOut, unicornnExpected) <= tolerance,
            "UnICORNN: \(maxAbsDifference(unicornnOut, unicornnExpected))")
    }

    /// coRNN, LEM and UnICORNN under symplectic Euler with the step Δt against the reference codes'
    /// updates.
    @Test func referenceUpdatesInDouble() throws { try Self.referenceUpdates(Double.self, tolerance: 1e-13) }

    @Test func referenceUpdatesInFloat() throws { try Self.referenceUpdates(Float.self, tolerance: 2e-6) }

    /// Symplectic Euler's gradients against central differences: parameters, input, initial state,
    /// a trainable Δt and per-row time stamps, with masks and substeps.
    @Test func gradientsMatchFiniteDifferences() throws {
        var g = SeededGenerator(seed: 8)
        let cells = FusedPathTests.cells(Double.self, input: 3, hidden: 3)
        for index in [16, 17, 18] {
            try FusedPathTests.checkFiniteDifferences(cells[index], method: "symplectic-euler", using: &g)
        }
    }

    /// coRNN's IMEX step (symplectic Euler with the damping implicit) against central differences,
    /// the time stamps' gradients through the implicit step included; and a cell without a decay
    /// to split (LEM) is turned away.
    @Test func imexGradientsMatchFiniteDifferences() throws {
        var g = SeededGenerator(seed: 14)
        let cells = FusedPathTests.cells(Double.self, input: 3, hidden: 3)
        try FusedPathTests.checkFiniteDifferences(cells[16], method: "imex-symplectic-euler", using: &g)
        let x = Tensor<Double>.normal([2, 3, 3], mean: 0, standardDeviation: 1, using: &g)
        #expect(throws: RecurrentError<Double>.self) {
            let lem = LEMCell<Double>(inputSize: 3, hiddenSize: 3, using: &g)
            _ = try RecurrentLayer(lem, integration: .fixed(semiImplicit: .imexSymplecticEuler))(x)
        }
    }

    /// A partitioned method whose parts are all RK4 is RK4: outputs and every gradient, on coRNN,
    /// LEM and UnICORNN, with masks, substeps and per-row time stamps (the parts' loops against the one-part ones).
    @Test func identicalPartsAreThePlainTableau() throws {
        var g = SeededGenerator(seed: 23)
        let rk4Twice = try PartitionedTableau(name: "RK4 × 2", order: 4, parts: [.rk4, .rk4])
        let x = Tensor<Double>.normal([3, 5, 2], mean: 0, standardDeviation: 1, using: &g)
        let mask = Tensor<Double>(shape: [3, 5], scalars: [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0])
        let stamps: Tensor<Double> = FusedPathTests.stamps(batch: 3, time: 5)
        let cells: [any RecurrentCell<Double>] = [
            CoRNNCell(inputSize: 2, hiddenSize: 3, stiffness: 1, damping: 0.4, initialization: .pytorch, using: &g),
            LEMCell(inputSize: 2, hiddenSize: 3, using: &g),
            UnICORNNCell(inputSize: 2, hiddenSize: 3, restoringForce: 2, using: &g),
        ]
        for cell in cells {
            for times in [nil, SequenceTimes<Double>.irregular(stamps)] {
                let plain = try Self.outputsAndGradients(
                    cell, .fixed(.rk4, timeStep: 0.6, substeps: 2), x: x, mask: mask, times: times)
                let parted = try Self.outputsAndGradients(
                    cell, .fixed(partitioned: rk4Twice, timeStep: 0.6, substeps: 2), x: x, mask: mask, times: times)
                for (p, q) in zip(plain, parted) {
                    #expect(maxAbsDifference(p, q) <= 1e-14 * Swift.max(1, p.doubles.map { Swift.abs($0) }.max() ?? 0))
                }
            }
        }
    }

    static func outputsAndGradients<Cell: RecurrentCell>(
        _ cell: Cell, _ integration: CellIntegration<Double>, x: Tensor<Double>, mask: Tensor<Double>,
        times: SequenceTimes<Double>?
    ) throws -> [Tensor<Double>] where Cell.Scalar == Double {
        let tape = Tape<Double>()
        let input = tape.variable(x)
        var recordedTimes = times
        var timeVariables: [Tensor<Double>] = []
        if case .irregular(let stamps)? = times {
            timeVariables = [tape.variable(stamps)]
            recordedTimes = .irregular(timeVariables[0])
        }
        let (layer, parameters) = RecurrentLayer(cell, integration: integration).recorded(on: tape)
        let out = try layer.run(input, initialStates: nil, mask: mask, times: recordedTimes)
        let loss = FusedPathTests.loss(out)
        return [out.sequence.detached, out.finalState.detached]
            + tape.gradients(of: loss, withRespectTo: parameters + [input] + timeVariables)
    }

    /// y″ = −y (coRNN with a linear σ, no weights, γ = 1, ε = 0) over 2000 steps of 0.1: symplectic
    /// Euler keeps the energy within the O(h) band of its modified energy, (1 ± h/2)-close, while
    /// explicit Euler multiplies it by (1 + h²) every step (about 4·10⁸ in all).
    @Test func symplecticEulerKeepsAnOscillatorsEnergy() throws {
        let hidden = 2
        let cell = CoRNNCell<Double>(
            inputWeight: Tensor.zeros([1, hidden]), recurrentWeight: Tensor.zeros([2 * hidden, hidden]),
            bias: Tensor.zeros([hidden]), stiffness: 1, damping: 0, activation: .identity)
        let x = Tensor<Double>.zeros([1, 2000, 1])
        let h0 = Tensor<Double>(shape: [1, 4], scalars: [1, 0.3, 0, -0.8])
        func energy(_ state: Tensor<Double>) -> Double { (state * state).sum().scalar / 2 }
        let symplectic = try RecurrentLayer(cell, integration: .fixed(partitioned: .symplecticEuler, timeStep: 0.1))(
            x, initialState: h0)
        #expect(Swift.abs(energy(symplectic.finalState) / energy(h0) - 1) < 0.11)
        let amplitude = symplectic.sequence.slice(alongAxis: 1, 1800..<2000).doubles.map { Swift.abs($0) }.max()!
        #expect(amplitude > 0.9 && amplitude < 1.1, "amplitude \(amplitude)")
        let euler = try RecurrentLayer(cell, integration: .fixed(.euler, timeStep: 0.1))(x, initialState: h0)
        #expect(energy(euler.finalState) / energy(h0) > 1e8)
    }

    /// Symplectic Euler converges at order 1 on coRNN, LEM and UnICORNN (slope of log error against log h; the
    /// reference an adaptive solve of the same field at rtol 1e-12).
    @Test func symplecticEulerConvergesAtOrderOne() throws {
        var g = SeededGenerator(seed: 29)
        let x = Tensor<Double>.normal([2, 3, 2], mean: 0, standardDeviation: 1, using: &g)
        let cells: [any RecurrentCell<Double>] = [
            CoRNNCell(inputSize: 2, hiddenSize: 4, stiffness: 2, damping: 0.5, initialization: .pytorch, using: &g),
            LEMCell(inputSize: 2, hiddenSize: 4, using: &g),
            UnICORNNCell(inputSize: 2, hiddenSize: 4, restoringForce: 2, using: &g),
        ]
        for cell in cells { try Self.checkFirstOrder(cell, x: x) }
    }

    static func checkFirstOrder<Cell: RecurrentCell>(_ cell: Cell, x: Tensor<Double>) throws where Cell.Scalar == Double {
        let reference = try RecurrentLayer(cell, integration: .adaptive(rtol: 1e-12, atol: 1e-13))(x).sequence
        var points: [(Double, Double)] = []
        for substeps in [16, 32, 64, 128] {
            let integration = CellIntegration<Double>.fixed(partitioned: .symplecticEuler, substeps: substeps)
            let out = try RecurrentLayer(cell, integration: integration)(x).sequence
            points.append((Foundation.log(1 / Double(substeps)), Foundation.log(maxAbsDifference(out, reference))))
        }
        let slope = fittedSlope(points)
        #expect(Swift.abs(slope - 1) < 0.15, "\(Cell.self): slope \(slope)")
    }

    /// Two stages per step, the evaluation count says so.
    @Test func statisticsCountBothStages() throws {
        var g = SeededGenerator(seed: 2)
        let cell = LEMCell<Double>(inputSize: 2, hiddenSize: 3, using: &g)
        let out = try RecurrentLayer(cell, integration: .fixed(partitioned: .symplecticEuler, substeps: 3))(
            Tensor.zeros([2, 4, 2]))
        #expect(out.statistics.acceptedSteps == 12 && out.statistics.evaluations == 24)
    }

    /// A cell with the wrong number of state parts, an adaptive step, a cell without a row-wise
    /// field, and inconsistent parts: clear errors.
    @Test func badSettingsAreRejected() throws {
        var g = SeededGenerator(seed: 3)
        let x = Tensor<Double>.zeros([1, 3, 2])
        func reason(_ body: () throws -> Void) -> String? {
            do {
                try body()
                return nil
            } catch {
                guard case .invalidIntegration(let reason)? = error as? RecurrentError<Double> else {
                    return "unexpected \(error)"
                }
                return reason
            }
        }
        let gru = GRUCell<Double>(inputSize: 2, hiddenSize: 3, using: &g)
        let symplectic = CellIntegration<Double>.fixed(partitioned: .symplecticEuler)
        let parts = reason { _ = try RecurrentLayer(gru, integration: symplectic)(x) }
        #expect(parts?.contains("2 parts") == true && parts?.contains("1") == true, "\(parts ?? "no error")")

        let lem = LEMCell<Double>(inputSize: 2, hiddenSize: 3, using: &g)
        var adaptive = CellIntegration<Double>.adaptive()
        adaptive.partitionedMethod = .symplecticEuler
        let steps = reason { _ = try RecurrentLayer(lem, integration: adaptive)(x) }
        #expect(steps?.contains("fixed steps") == true, "\(steps ?? "no error")")
        let tape = reason { _ = try RecurrentLayer(lem, integration: symplectic).onTape(x) }
        #expect(tape?.contains("RowSeparableField") == true, "\(tape ?? "no error")")

        #expect(throws: TableauError.self) { try PartitionedTableau(name: "mixed", order: 1, parts: [.rk4, .midpoint]) }
        #expect(throws: TableauError.self) { try PartitionedTableau(name: "adaptive", order: 1, parts: [.dopri5, .dopri5]) }
        #expect(throws: TableauError.self) { try PartitionedTableau(name: "stiff", order: 1, parts: [.rodas5P]) }
        #expect(throws: TableauError.self) { try PartitionedTableau(name: "too high", order: 2, parts: [.euler, .euler]) }
        #expect(throws: TableauError.self) { try PartitionedTableau(name: "none", order: 1, parts: []) }
        #expect(throws: TableauError.self) {
            try PartitionedTableau(name: "too many", order: 1, parts: Array(repeating: .euler, count: 65))
        }
    }
}
