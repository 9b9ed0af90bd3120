import Foundation
import Testing

@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODETensors

/// The cells designed from ODEs (IndRNN, AntisymmetricRNN and its gated variant, the Lipschitz RNN):
/// each layer under the paper's discretization against the paper's update written out with scalar
/// loops, in Double and Float; the structure of their recurrent matrices; what the ODE view says
/// about forward Euler on an antisymmetric field; convergence to the ODE at each scheme's order.
/// (The fused path against the tape, and gradients against central differences, are in
/// ``FusedPathTests`` and ``CellFieldTests``, which list these cells too.)
@Suite("Cells designed from ODEs")
struct ODECellTests {
    /// Row `v` times the row-major `[v.count, n]` matrix `m`.
    static func times<T: TensorScalar>(_ v: [T], _ m: [T], columns n: Int) -> [T] {
        (0..<n).map { j in v.indices.reduce(T(0)) { $0 + v[$1] * m[$1 * n + j] } }
    }

    /// Every hₜ of the rows of `x` `[batch, time, input]` from `h0` by `update(xₜ, hₜ₋₁)`, as `[batch, time, hidden]`.
    static func restated<T: TensorScalar>(_ x: Tensor<T>, _ h0: Tensor<T>, update: ([T], [T]) -> [T]) -> Tensor<T> {
        let (batch, time, input, hidden) = (x.shape[0], x.shape[1], x.shape[2], h0.shape[1])
        let (xs, hs) = (x.scalars, h0.scalars)
        var out: [T] = []
        for b in 0..<batch {
            var h = Array(hs[(b * hidden)..<((b + 1) * hidden)])
            for t in 0..<time {
                let start = (b * time + t) * input
                h = update(Array(xs[start..<(start + input)]), h)
                out += h
            }
        }
        return Tensor(shape: [batch, time, hidden], scalars: out)
    }

    /// (1 − β)(M + Mᵀ) + β(M − Mᵀ) − γI entry by entry.
    static func blended<T: TensorScalar>(_ m: [T], n: Int, beta: T, gamma: T) -> [T] {
        (0..<(n * n)).map { e in
            let (i, j) = (e / n, e % n)
            return (1 - beta) * (m[i * n + j] + m[j * n + i]) + beta * (m[i * n + j] - m[j * n + i]) - (i == j ? gamma : 0)
        }
    }

    static func check<T: TensorScalar, Cell: RecurrentCell>(
        _ cell: Cell, _ integration: CellIntegration<T>, tolerance: Double, update: ([T], [T]) -> [T]
    ) throws where Cell.Scalar == T {
        var g = SeededGenerator(seed: 9)
        let x = Tensor<T>.normal([2, 6, cell.inputSize], mean: 0, standardDeviation: 1, using: &g)
        let h0 = Tensor<T>.normal([2, cell.hiddenSize], mean: 0, standardDeviation: 0.5, using: &g)
        let expected = restated(x, h0, update: update)
        let layer = RecurrentLayer(cell, integration: integration)
        let fused = try layer(x, initialState: h0).sequence
        let onTape = try layer.onTape(x, initialState: h0).sequence
        #expect(maxAbsDifference(fused, expected) <= tolerance, "\(Cell.self) fused: \(maxAbsDifference(fused, expected))")
        #expect(maxAbsDifference(onTape, expected) <= tolerance, "\(Cell.self) tape: \(maxAbsDifference(onTape, expected))")
    }

    static func publishedUpdates<T: TensorScalar>(_: T.Type, tolerance: Double) throws {
        var g = SeededGenerator(seed: 3)
        let (input, hidden, epsilon) = (3, 5, T(0.3))

        let indRNN = IndRNNCell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g)
        let (w, u, b) = (indRNN.inputWeight.scalars, indRNN.recurrentWeight.scalars, indRNN.bias.scalars)
        try check(indRNN, .discrete, tolerance: tolerance) { x, h in
            let wx = times(x, w, columns: hidden)
            return (0..<hidden).map { j in Swift.max(0, wx[j] + u[j] * h[j] + b[j]) }
        }

        for gated in [false, true] {
            let cell = AntisymmetricRNNCell<T>(
                inputSize: input, hiddenSize: hidden, gated: gated, diffusion: 0.2, initialization: .pytorch, using: &g)
            let (v, b) = (cell.inputWeight.scalars, cell.bias.scalars)
            let m = blended(cell.recurrentWeight.scalars, n: hidden, beta: 1, gamma: T(0.2))
            let width = gated ? 2 * hidden : hidden
            try check(cell, .fixed(.euler, timeStep: epsilon), tolerance: tolerance) { x, h in
                let (vx, mh) = (times(x, v, columns: width), times(h, m, columns: hidden))
                return (0..<hidden).map { j in
                    let candidate = T.tanh(vx[j] + b[j] + mh[j])
                    let gate = gated ? T.sigmoid(vx[hidden + j] + b[hidden + j] + mh[j]) : 1
                    return h[j] + epsilon * gate * candidate
                }
            }
        }

        let lipschitz = LipschitzRNNCell<T>(
            inputSize: input, hiddenSize: hidden, beta: 0.7, gamma: 0.05, recurrentBlend: (0.85, 0.01),
            initialization: .pytorch, matrixScale: 3, using: &g)
        let (uIn, bias) = (lipschitz.inputWeight.scalars, lipschitz.bias.scalars)
        let a = blended(lipschitz.linearWeight.scalars, n: hidden, beta: T(0.7), gamma: T(0.05))
        let wMatrix = blended(lipschitz.recurrentWeight.scalars, n: hidden, beta: T(0.85), gamma: T(0.01))
        try check(lipschitz, .fixed(.euler, timeStep: epsilon), tolerance: tolerance) { x, h in
            let (ux, ah, wh) = (times(x, uIn, columns: hidden), times(h, a, columns: hidden), times(h, wMatrix, columns: hidden))
            return (0..<hidden).map { j in h[j] + epsilon * (ah[j] + T.tanh(ux[j] + bias[j] + wh[j])) }
        }
    }

    /// Each cell's layer under the paper's scheme (IndRNN: Euler with Δt = 1; AntisymmetricRNN and the
    /// Lipschitz RNN: Euler with the step ε) against the paper's update, on the fused path and the tape.
    @Test func publishedUpdatesInDouble() throws { try Self.publishedUpdates(Double.self, tolerance: 1e-13) }

    @Test func publishedUpdatesInFloat() throws { try Self.publishedUpdates(Float.self, tolerance: 2e-6) }

    /// M = W − Wᵀ − γI has −γI as its whole symmetric part; the Lipschitz blend at β = 1 is that
    /// matrix and at β = 0 a symmetric one.
    @Test func recurrentMatricesHaveTheirStructure() {
        var g = SeededGenerator(seed: 4)
        let cell = AntisymmetricRNNCell<Double>(inputSize: 2, hiddenSize: 6, diffusion: 0.3, using: &g)
        let m = cell.recurrentMatrix
        #expect(m + m.transposed() == Tensor<Double>.identity(6) * -0.6)
        let mw = cell.recurrentWeight
        #expect(blendedRecurrentMatrix(mw, beta: 1, gamma: 0.3) == m)
        let symmetric = blendedRecurrentMatrix(mw, beta: 0, gamma: 0.3)
        #expect(symmetric == symmetric.transposed())
        #expect(maxAbsDifference(symmetric, mw + mw.transposed() - Tensor<Double>.identity(6) * 0.3) == 0)
    }

    /// With γ = 0, no input and a linear σ, the AntisymmetricRNN's ODE dh/dt = h·(W − Wᵀ) conserves
    /// |h|: RK4 with small steps keeps it to 1e-9, while forward Euler, whose amplification
    /// |1 + ε iλ| exceeds 1 on the imaginary axis, grows it — the reason the paper adds the diffusion
    /// γ, which (γ = 1 at ε = 0.1 here, |λ| ≤ 2) brings Euler's amplification back below 1.
    @Test func eulerNeedsTheDiffusionThatTheODEDoesNot() throws {
        var g = SeededGenerator(seed: 6)
        let (hidden, time) = (8, 100)
        func norms(diffusion: Double, _ integration: CellIntegration<Double>) throws -> (Double, Double) {
            var draw = SeededGenerator(seed: 6)
            var cell = AntisymmetricRNNCell<Double>(
                inputSize: 1, hiddenSize: hidden, diffusion: diffusion, activation: .identity, using: &draw)
            cell.inputWeight = Tensor.zeros([1, hidden])
            let h0 = Tensor<Double>.normal([1, hidden], mean: 0, standardDeviation: 1, using: &g)
            let out = try RecurrentLayer(cell, integration: integration)(Tensor.zeros([1, time, 1]), initialState: h0)
            return ((h0 * h0).sum().scalar.squareRoot(), (out.finalState * out.finalState).sum().scalar.squareRoot())
        }
        let (start, rk4) = try norms(diffusion: 0, .fixed(.rk4, timeStep: 0.1, substeps: 16))
        #expect(Swift.abs(rk4 / start - 1) < 1e-9, "RK4 |h| ratio \(rk4 / start)")
        let (start2, euler) = try norms(diffusion: 0, .fixed(.euler, timeStep: 0.1))
        #expect(euler / start2 > 1.2, "Euler |h| ratio \(euler / start2)")
        let (start3, damped) = try norms(diffusion: 1, .fixed(.euler, timeStep: 0.1))
        #expect(damped / start3 < 1, "Euler with γ: |h| ratio \(damped / start3)")
    }

    /// Each cell converges to its ODE at the scheme's order (slope of log error against log h, the
    /// reference an adaptive solve at rtol 1e-12).
    @Test(arguments: [(ButcherTableau.euler, 1.0), (.midpoint, 2.0), (.rk4, 4.0)])
    func convergesAtTheSchemesOrder(method: ButcherTableau, order: Double) throws {
        var g = SeededGenerator(seed: 13)
        let x = Tensor<Double>.normal([2, 3, 2], mean: 0, standardDeviation: 1, using: &g)
        let cells: [any RecurrentCell<Double>] = [
            IndRNNCell(inputSize: 2, hiddenSize: 4, activation: .tanh, initialization: .pytorch, using: &g),
            AntisymmetricRNNCell(inputSize: 2, hiddenSize: 4, gated: true, diffusion: 0.1, using: &g),
            LipschitzRNNCell(inputSize: 2, hiddenSize: 4, beta: 0.75, gamma: 0.01, matrixScale: 4, using: &g),
        ]
        for cell in cells { try Self.checkOrder(cell, x: x, method: method, order: order) }
    }

    static func checkOrder<Cell: RecurrentCell>(_ cell: Cell, x: Tensor<Double>, method: ButcherTableau, order: Double) throws
    where Cell.Scalar == Double {
        let reference = try RecurrentLayer(cell, integration: .adaptive(rtol: 1e-12, atol: 1e-13))(x).sequence
        var points: [(Double, Double)] = []
        for substeps in [8, 16, 32, 64] {
            let out = try RecurrentLayer(cell, integration: .fixed(method, substeps: substeps))(x).sequence
            points.append((Foundation.log(1 / Double(substeps)), Foundation.log(maxAbsDifference(out, reference))))
        }
        let slope = fittedSlope(points)
        #expect(Swift.abs(slope - order) < 0.25, "\(Cell.self) \(method.name): slope \(slope)")
    }

    /// The gated cell is recognised from its weights' widths; its fresh gate bias is 1.
    @Test func gatingFollowsTheWeights() {
        var g = SeededGenerator(seed: 1)
        let gated = AntisymmetricRNNCell<Float>(inputSize: 3, hiddenSize: 4, gated: true, using: &g)
        #expect(gated.gated && gated.inputWeight.shape == [3, 8] && gated.bias.scalars.suffix(4) == [1, 1, 1, 1])
        let rebuilt = AntisymmetricRNNCell(
            inputWeight: gated.inputWeight, recurrentWeight: gated.recurrentWeight, bias: gated.bias, diffusion: 0.01)
        #expect(rebuilt.gated && rebuilt.inputWidth == 8 && rebuilt.savedWidth == 8)
        let plain = AntisymmetricRNNCell<Float>(inputSize: 3, hiddenSize: 4, using: &g)
        #expect(
            !plain.gated && plain.inputWidth == 4
                && plain.parameterPaths.map { $0.name } == ["inputWeight", "recurrentWeight", "bias"])
    }
}
