import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// Every cell under every fixed scheme: shapes, and gradients (with respect to all parameters and
/// the input) against central finite differences; the cells as ODEs converge at their scheme's order.
@Suite("Cells as vector fields")
struct CellFieldTests {
    static let schemes: [CellIntegration<Double>] = [
        .discrete, .fixed(.midpoint), .fixed(.heun), .fixed(.ralston), .fixed(.rk4), .fixed(.rk4, timeStep: 0.5, substeps: 3),
        .fixed(.bosh3, timeStep: 2), .fixed(.dopri5), .fixed(.tsit5),
    ]

    /// Cells with smooth activations (finite differences need smoothness), I = H = 3.
    static func cells() -> [(String, any RecurrentCell<Double>)] {
        var g = SeededGenerator(seed: 7)
        let (i, h) = (3, 3)
        return [
            ("SimpleRNN", SimpleRNNCell<Double>(inputSize: i, hiddenSize: h, using: &g)),
            ("GRU", GRUCell<Double>(inputSize: i, hiddenSize: h, initialization: .pytorch, using: &g)),
            (
                "GRU reset-before",
                GRUCell<Double>(inputSize: i, hiddenSize: h, resetAfter: false, initialization: .pytorch, using: &g)
            ),
            ("LSTM", LSTMCell<Double>(inputSize: i, hiddenSize: h, initialization: .pytorch, using: &g)),
            (
                "SimpleDeepRNN",
                SimpleDeepRNNCell<Double>(inputSize: i, hiddenSize: h, depth: 2, innerActivation: .sigmoid, using: &g)
            ),
            ("MUT1", MUT1Cell<Double>(size: h, initialization: .pytorch, using: &g)),
            ("MUT2", MUT2Cell<Double>(size: h, initialization: .pytorch, using: &g)),
            ("MUT3", MUT3Cell<Double>(inputSize: i, hiddenSize: h, initialization: .pytorch, using: &g)),
            ("IndRNN", IndRNNCell<Double>(inputSize: i, hiddenSize: h, activation: .tanh, using: &g)),
            (
                "AntisymmetricRNN gated",
                AntisymmetricRNNCell<Double>(inputSize: i, hiddenSize: h, gated: true, diffusion: 0.1, using: &g)
            ),
            ("LipschitzRNN", LipschitzRNNCell<Double>(inputSize: i, hiddenSize: h, beta: 0.8, gamma: 0.01, using: &g)),
            ("coRNN", CoRNNCell<Double>(inputSize: i, hiddenSize: h, stiffness: 1, damping: 0.3, using: &g)),
            ("LEM", LEMCell<Double>(inputSize: i, hiddenSize: h, using: &g)),
            ("UnICORNN", UnICORNNCell<Double>(inputSize: i, hiddenSize: h, restoringForce: 2, using: &g)),
        ]
    }

    @Test(arguments: 0..<14)
    func gradientsUnderEveryScheme(_ index: Int) throws {
        let (name, cell) = Self.cells()[index]
        for scheme in Self.schemes {
            try checkGradients(cell, scheme: scheme, name: name)
        }
    }

    func checkGradients<Cell: RecurrentCell>(_ cell: Cell, scheme: CellIntegration<Double>, name: String) throws
    where Cell.Scalar == Double {
        var g = SeededGenerator(seed: 3)
        let (batch, time) = (2, 3)
        let x = Tensor<Double>.normal([batch, time, cell.inputSize], mean: 0, standardDeviation: 1, using: &g)
        let h0 = Tensor<Double>.normal([batch, cell.stateSize], mean: 0, standardDeviation: 0.5, using: &g)
        let weights = Tensor<Double>.normal([batch, time, cell.hiddenSize], mean: 0, standardDeviation: 1, using: &g)
        let stateWeights = Tensor<Double>.normal([batch, cell.stateSize], mean: 0, standardDeviation: 1, using: &g)
        func loss(_ c: Cell, _ x: Tensor<Double>, _ h0: Tensor<Double>) throws -> Tensor<Double> {
            let out = try RecurrentLayer(c, integration: scheme)(x, initialState: h0)
            #expect(out.sequence.shape == [batch, time, cell.hiddenSize])
            #expect(out.last.shape == [batch, cell.hiddenSize])
            #expect(out.finalState.shape == [batch, cell.stateSize])
            return (out.sequence * weights).sum() + (out.finalState * stateWeights).sum()
        }
        let parameters = cell.flattenedParameters
        let byParameters = checkGradient(at: parameters) { p in try! loss(cell.withFlattenedParameters(p), x, h0) }
        let byInput = checkGradient(at: x) { x in try! loss(cell, x, h0) }
        let byState = checkGradient(at: h0) { h0 in try! loss(cell, x, h0) }
        let label = "\(name) under \(scheme.method.name), Δt \(scheme.timeStep)"
        #expect(byParameters.maxError < 1e-6, "\(label): parameters \(byParameters.maxError)")
        #expect(byInput.maxError < 1e-6, "\(label): input \(byInput.maxError)")
        #expect(byState.maxError < 1e-6, "\(label): initial state \(byState.maxError)")
    }

    /// Adaptive integration runs every cell, in Float and Double, with finite results.
    @Test func adaptiveRunsEveryCell() throws {
        for (name, cell) in Self.cells() {
            try runAdaptive(cell, name: name)
        }
        var g = SeededGenerator(seed: 1)
        let cell = LSTMCell<Float>(inputSize: 3, hiddenSize: 5, using: &g)
        let x = Tensor<Float>.normal([2, 4, 3], mean: 0, standardDeviation: 1, using: &g)
        let out = try RecurrentLayer(cell, integration: .adaptive(rtol: 1e-4, atol: 1e-6))(x)
        #expect(out.sequence.shape == [2, 4, 5] && out.sequence.isFinite)
        #expect(out.statistics.acceptedSteps >= 4)
    }

    func runAdaptive<Cell: RecurrentCell>(_ cell: Cell, name: String) throws where Cell.Scalar == Double {
        var g = SeededGenerator(seed: 5)
        let x = Tensor<Double>.normal([2, 4, cell.inputSize], mean: 0, standardDeviation: 1, using: &g)
        let out = try RecurrentLayer(cell, integration: .adaptive(rtol: 1e-8, atol: 1e-10))(x)
        #expect(out.sequence.shape == [2, 4, cell.hiddenSize] && out.sequence.isFinite, "\(name)")
    }

    /// A cell is an ODE: with the input held over each interval, fixed-step solutions converge to the
    /// adaptive reference at the method's order (slope of log error against log step).
    @Test(arguments: [(ButcherTableau.euler, 1.0), (.midpoint, 2.0), (.rk4, 4.0)])
    func convergenceOrder(method: ButcherTableau, order: Double) throws {
        var g = SeededGenerator(seed: 11)
        let cell = GRUCell<Double>(inputSize: 2, hiddenSize: 4, initialization: .pytorch, using: &g)
        let x = Tensor<Double>.normal([1, 3, 2], mean: 0, standardDeviation: 1, using: &g)
        let reference = try RecurrentLayer(cell, integration: .adaptive(rtol: 1e-12, atol: 1e-13))(x).sequence
        var logSteps: [Double] = []
        var logErrors: [Double] = []
        for substeps in [8, 16, 32, 64] {
            let out = try RecurrentLayer(cell, integration: .fixed(method, substeps: substeps))(x).sequence
            logSteps.append(Foundation.log(1 / Double(substeps)))
            logErrors.append(Foundation.log(maxAbsDifference(out, reference)))
        }
        let slope = leastSquaresSlope(logSteps, logErrors)
        #expect(Swift.abs(slope - order) < 0.2, "\(method.name): observed order \(slope)")
    }

    func leastSquaresSlope(_ x: [Double], _ y: [Double]) -> Double {
        let mx = x.reduce(0, +) / Double(x.count)
        let my = y.reduce(0, +) / Double(y.count)
        let sxy = zip(x, y).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
        let sxx = x.map { ($0 - mx) * ($0 - mx) }.reduce(0, +)
        return sxy / sxx
    }

    /// The delay line of SimpleDeepRNN shifts exactly at Euler Δt = 1.
    @Test func simpleDeepRNNDelayLine() throws {
        var g = SeededGenerator(seed: 2)
        let cell = SimpleDeepRNNCell<Double>(inputSize: 2, hiddenSize: 3, depth: 3, using: &g)
        let x = Tensor<Double>.normal([2, 5, 2], mean: 0, standardDeviation: 1, using: &g)
        let out = try RecurrentLayer(cell)(x)
        let slots = out.finalState.split(sizes: [3, 3, 3], alongAxis: 1)
        for j in 0..<3 {
            #expect(maxAbsDifference(slots[j], out.sequence.select(alongAxis: 1, 4 - j)) < 1e-15)
        }
    }

    @Test func cellFieldSolvesOneInterval() throws {
        var g = SeededGenerator(seed: 4)
        let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 2, using: &g)
        let x = Tensor<Double>.normal([2, 3], mean: 0, standardDeviation: 1, using: &g)
        let h0 = Tensor<Double>.zeros([2, 2])
        let direct = try solve(cell.field(holding: x), initialState: h0, from: 0, to: 1, method: .rk4, step: .fixed(0.25))
        let layer = try RecurrentLayer(cell, integration: .fixed(.rk4, substeps: 4))(x.reshaped(to: [2, 1, 3]))
        #expect(maxAbsDifference(direct.finalState, layer.finalState) < 1e-14)
    }

    @Test func initializationPresets() {
        var g = SeededGenerator(seed: 9)
        let lstm = LSTMCell<Double>(inputSize: 4, hiddenSize: 8, using: &g)
        #expect(lstm.bias.scalars[8..<16].allSatisfy { $0 == 1 } && lstm.bias.scalars[0..<8].allSatisfy { $0 == 0 })
        let u = lstm.recurrentWeight  // orthogonal [8, 32]: rows orthonormal
        #expect(maxAbsDifference(matmul(u, u.transposed()), Tensor.identity(8)) < 1e-12)
        let torch = GRUCell<Double>(inputSize: 4, hiddenSize: 16, initialization: .pytorch, using: &g)
        #expect(torch.recurrentWeight.scalars.allSatisfy { Swift.abs($0) <= 0.25 })
        #expect(torch.bias.scalars.contains { $0 != 0 })
    }
}
