import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// Beyond Euler at Δt = 1: PyTorch cells (float64) integrated as vector fields by explicit
/// Runge–Kutta schemes (RK4, midpoint, Heun; Euler over per-row irregular time stamps), written by
/// Tests/RNNODETests/Fixtures/cells/make_scheme_fixtures.py. Every cell matches on the fused path and
/// on the tape path: outputs, final states and the gradients of sum(output ⊙ G) with respect to every
/// weight, the input and the time stamps.
@Suite("Integration schemes match the PyTorch scheme fixtures")
struct SchemeFixtureTests {
    static let tolerance = 1e-9

    @Test(arguments: ["gru_rk4", "lstm_midpoint", "rnn_tanh_heun", "gru_euler_irregular"])
    func schemeCase(_ name: String) throws {
        let fixture = try CellFixture(name)
        let weights = PyTorchRecurrentWeights<Double>(fixture.weightTensors(as: Double.self))
        let scheme = try #require(fixture.json["scheme"] as? String)
        let method = try #require(ButcherTableau.builtIn[scheme], "\(name): unknown scheme \(scheme)")
        let timeStep = try #require(fixture.json["time_step"] as? Double)
        let substeps = try #require(fixture.json["substeps"] as? Int)
        let integration = CellIntegration<Double>.fixed(method, timeStep: timeStep, substeps: substeps)
        switch fixture.kind {
        case "rnn":
            #expect(fixture.json["nonlinearity"] as? String == "tanh")
            try checkBothPaths(RecurrentLayer(try weights.simpleRNNCell(activation: .tanh), integration: integration), fixture)
        case "gru":
            try checkBothPaths(RecurrentLayer(try weights.gruCell(), integration: integration), fixture)
        case "lstm":
            try checkBothPaths(RecurrentLayer(try weights.lstmCell(), integration: integration), fixture)
        default:
            Issue.record("no test for fixture kind \(fixture.kind)")
        }
    }

    /// The fused path (the default for these row-separable cells) and the tape path both match.
    func checkBothPaths<Cell: RecurrentCell>(_ layer: RecurrentLayer<Cell>, _ fixture: CellFixture) throws
    where Cell.Scalar == Double {
        #expect(layer.cell is any RowSeparableField, "\(fixture.name): the cell takes the fused path")
        try check(layer, fixture, path: "fused")
        try check(layer.onTape, fixture, path: "tape")
    }

    /// Runs `layer` on the fixture's input, initial state and (if any) time stamps; compares outputs,
    /// the final state and the gradients of sum(output ⊙ G) with respect to every weight, the input and
    /// the time stamps.
    func check<Cell: RecurrentCell>(_ layer: RecurrentLayer<Cell>, _ fixture: CellFixture, path: String) throws
    where Cell.Scalar == Double {
        let label = "\(fixture.name) (\(path))"
        let h = fixture.hiddenSize
        let h0: Tensor<Double> = fixture.tensor("h0")
        let c0: Tensor<Double>? = fixture.json["c0"] != nil ? fixture.tensor("c0") : nil
        let initialState = c0.map { Tensor(concatenating: [h0[0], $0[0]], alongAxis: -1) } ?? h0[0]
        let tape = Tape<Double>()
        let (recorded, variables) = layer.recorded(on: tape)
        let input = tape.variable(fixture.tensor("x"))
        let stamps = fixture.json["times"] != nil ? tape.variable(fixture.tensor("times")) : nil
        let output = try recorded.run(
            input, initialStates: [initialState], mask: nil, times: stamps.map { .irregular($0) })

        #expect(maxAbsDifference(output.sequence, fixture.tensor("output")) < Self.tolerance, "\(label): output")
        let final = output.finalState
        let hn: Tensor<Double> = fixture.tensor("h_n")
        #expect(maxAbsDifference(final.slice(alongAxis: -1, 0..<h), hn[0]) < Self.tolerance, "\(label): h_n")
        if fixture.json["c_n"] != nil {
            let cn: Tensor<Double> = fixture.tensor("c_n")
            #expect(maxAbsDifference(final.slice(alongAxis: -1, h..<(2 * h)), cn[0]) < Self.tolerance, "\(label): c_n")
        }

        let loss = (output.sequence * fixture.tensor("G")).sum()
        let gradients = tape.gradients(of: loss, withRespectTo: variables + [input] + (stamps.map { [$0] } ?? []))
        let expected = fixture.gradients
        #expect(
            maxAbsDifference(gradients[variables.count], fixture.tensor("x", in: expected)) < Self.tolerance, "\(label): dx")
        var compared: Set<String> = ["x"]
        if stamps != nil {
            #expect(
                maxAbsDifference(gradients[variables.count + 1], fixture.tensor("times", in: expected)) < Self.tolerance,
                "\(label): dtimes")
            compared.insert("times")
        }
        for (path, gradient) in zip(layer.parameterPaths, gradients) {
            for (torchName, transposed) in Self.pytorchNames(of: path.name, kind: fixture.kind) {
                let reference: Tensor<Double> = fixture.tensor(torchName, in: expected)
                let ours = transposed ? gradient.transposed() : gradient
                #expect(maxAbsDifference(ours, reference) < Self.tolerance, "\(label): d\(torchName)")
                compared.insert(torchName)
            }
        }
        #expect(compared == Set(expected.keys), "\(label): every reference gradient is compared")
    }

    /// The PyTorch names of one of a single layer's parameters (e.g. "cell.inputWeight", or
    /// "cell.cell.inputWeight" behind ``TapeOnly``), and whether PyTorch stores it transposed.
    /// SimpleRNN and LSTM have one bias for PyTorch's two, so its gradient equals both of theirs.
    static func pytorchNames(of name: String, kind: String) -> [(String, Bool)] {
        switch name.split(separator: ".").last! {
        case "inputWeight": return [("weight_ih_l0", true)]
        case "recurrentWeight": return [("weight_hh_l0", true)]
        case "recurrentBias": return [("bias_hh_l0", false)]
        case "bias": return kind == "gru" ? [("bias_ih_l0", false)] : [("bias_ih_l0", false), ("bias_hh_l0", false)]
        default: return []
        }
    }
}
