import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// At Euler with Δt = 1 every cell reproduces the reference implementations (PyTorch, and NumPy
/// restatements of the old Keras cells) to rounding: outputs, final states and all gradients.
@Suite("Cells match the reference fixtures")
struct CellFixtureTests {
    static let tolerance = 1e-9

    @Test(arguments: ["rnn_tanh", "rnn_relu", "gru", "lstm", "lstm_2layer", "gru_bidirectional"])
    func pytorchCase(_ name: String) throws {
        let fixture = try CellFixture(name)
        let weights = PyTorchRecurrentWeights<Double>(fixture.weightTensors(as: Double.self))
        let activation: Activation = fixture.json["nonlinearity"] as? String == "relu" ? .relu : .tanh
        switch (fixture.kind, fixture.bidirectional) {
        case ("rnn", false):
            try checkBothPaths(
                weights.stack(layers: fixture.layers) { (k, r) throws(WeightLoadingError) in
                    try weights.simpleRNNCell(layer: k, reverse: r, activation: activation)
                }, fixture)
        case ("gru", false):
            try checkBothPaths(weights.gruStack(layers: fixture.layers), fixture)
        case ("gru", true):
            let stack = try weights.bidirectionalStack(layers: fixture.layers) { (k, r) throws(WeightLoadingError) in
                try weights.gruCell(layer: k, reverse: r)
            }
            try check(stack, fixture)
            try check(RecurrentStack(stack.layers.map(\.onTape)), fixture)
        case ("lstm", false):
            try checkBothPaths(weights.lstmStack(layers: fixture.layers), fixture)
        default:
            Issue.record("no test for fixture kind \(fixture.kind)")
        }
    }

    /// The integrator's fused path (the cells are row-separable) and its tape path both match the
    /// fixture.
    func checkBothPaths<Cell: RecurrentCell>(_ stack: RecurrentStack<RecurrentLayer<Cell>>, _ fixture: CellFixture) throws
    where Cell.Scalar == Double {
        #expect(stack.layers.allSatisfy { $0.cell is any RowSeparableField })
        try check(stack, fixture)
        try check(RecurrentStack(stack.layers.map(\.onTape)), fixture)
    }

    /// Runs `model` on the fixture's input and initial states; compares outputs, final states and the
    /// gradients of sum(output ⊙ G) with respect to every weight and the input.
    func check<Layer: SequenceLayer>(_ model: Layer, _ fixture: CellFixture) throws where Layer.Scalar == Double {
        let x: Tensor<Double> = fixture.tensor("x")
        let h0: Tensor<Double> = fixture.tensor("h0")
        let c0: Tensor<Double>? = fixture.json["c0"] != nil ? fixture.tensor("c0") : nil
        let initialStates = (0..<h0.shape[0]).map { i in
            c0.map { Tensor(concatenating: [h0[i], $0[i]], alongAxis: -1) } ?? h0[i]
        }
        let tape = Tape<Double>()
        let (recorded, variables) = model.recorded(on: tape)
        let input = tape.variable(x)
        let output = try recorded.run(input, initialStates: initialStates, mask: nil)

        #expect(maxAbsDifference(output.sequence, fixture.tensor("output")) < Self.tolerance, "\(fixture.name): output")
        let hn: Tensor<Double> = fixture.tensor("h_n")
        let cn: Tensor<Double>? = fixture.json["c_n"] != nil ? fixture.tensor("c_n") : nil
        #expect(output.finalStates.count == hn.shape[0])
        for (i, state) in output.finalStates.enumerated() {
            let h = fixture.hiddenSize
            #expect(maxAbsDifference(state.slice(alongAxis: -1, 0..<h), hn[i]) < Self.tolerance, "\(fixture.name): h_n[\(i)]")
            if let cn {
                #expect(
                    maxAbsDifference(state.slice(alongAxis: -1, h..<(2 * h)), cn[i]) < Self.tolerance,
                    "\(fixture.name): c_n[\(i)]")
            }
        }

        let loss = (output.sequence * fixture.tensor("G")).sum()
        let gradients = tape.gradients(of: loss, withRespectTo: variables + [input])
        let expected = fixture.gradients
        #expect(maxAbsDifference(gradients.last!, fixture.tensor("x", in: expected)) < Self.tolerance, "\(fixture.name): dx")
        var compared: Set<String> = ["x"]
        for (path, gradient) in zip(model.parameterPaths, gradients) {
            for (torchName, transposed) in Self.pytorchNames(of: path.name, kind: fixture.kind) {
                let reference: Tensor<Double> = fixture.tensor(torchName, in: expected)
                let ours = transposed ? gradient.transposed() : gradient
                #expect(maxAbsDifference(ours, reference) < Self.tolerance, "\(fixture.name): d\(torchName)")
                compared.insert(torchName)
            }
        }
        #expect(compared == Set(expected.keys), "\(fixture.name): every reference gradient is compared")
    }

    /// The PyTorch names of one of our parameters (e.g. "layers.1.backward.cell.bias"), and whether
    /// PyTorch stores it transposed. SimpleRNN and LSTM have one bias for PyTorch's two, so its
    /// gradient equals both of theirs.
    static func pytorchNames(of name: String, kind: String) -> [(String, Bool)] {
        let parts = name.split(separator: ".")
        let layer = parts[1]
        let suffix = "_l\(layer)" + (parts.contains("backward") ? "_reverse" : "")
        switch parts.last! {
        case "inputWeight": return [("weight_ih" + suffix, true)]
        case "recurrentWeight": return [("weight_hh" + suffix, true)]
        case "recurrentBias": return [("bias_hh" + suffix, false)]
        case "bias":
            return kind == "gru" ? [("bias_ih" + suffix, false)] : [("bias_ih" + suffix, false), ("bias_hh" + suffix, false)]
        default: return []
        }
    }

    // MARK: - Old Keras cells (outputs)

    @Test func simpleDeepRNN() throws {
        let fixture = try CellFixture("simple_deep_rnn")
        let w = fixture.weights
        let depth = fixture.json["depth"] as! Int
        let cell = SimpleDeepRNNCell<Double>(
            inputWeight: fixture.tensor("weight_ih", in: w).transposed(), bias: fixture.tensor("bias", in: w),
            recurrentWeights: (1...depth).map { fixture.tensor("weight_hh_\($0)", in: w).transposed() })
        let output = try RecurrentLayer(cell)(fixture.tensor("x"))
        #expect(maxAbsDifference(output.sequence, fixture.tensor("output")) < Self.tolerance)
        #expect(!(cell is any RowSeparableField))
    }

    @Test(arguments: ["mut1", "mut2", "mut3"])
    func mut(_ name: String) throws {
        let fixture = try CellFixture(name)
        let w = fixture.weights
        func weight(_ key: String) -> Tensor<Double> { fixture.tensor(key, in: w).transposed() }
        func bias(_ key: String) -> Tensor<Double> { fixture.tensor(key, in: w) }
        let x: Tensor<Double> = fixture.tensor("x")
        let sequence: Tensor<Double>
        let tapeSequence: Tensor<Double>
        switch name {
        case "mut1":
            let cell = MUT1Cell(
                wxz: weight("W_xz"), bz: bias("b_z"), wxr: weight("W_xr"), whr: weight("W_hr"), br: bias("b_r"),
                whh: weight("W_hh"), bh: bias("b_h"))
            sequence = try RecurrentLayer(cell)(x).sequence
            tapeSequence = try RecurrentLayer(TapeOnly(cell))(x).sequence
        case "mut2":
            let cell = MUT2Cell(
                wxz: weight("W_xz"), whz: weight("W_hz"), bz: bias("b_z"), whr: weight("W_hr"), br: bias("b_r"),
                whh: weight("W_hh"), wxh: weight("W_xh"), bh: bias("b_h"))
            sequence = try RecurrentLayer(cell)(x).sequence
            tapeSequence = try RecurrentLayer(TapeOnly(cell))(x).sequence
        default:
            let cell = MUT3Cell(
                wxz: weight("W_xz"), whz: weight("W_hz"), bz: bias("b_z"), wxr: weight("W_xr"), whr: weight("W_hr"),
                br: bias("b_r"), whh: weight("W_hh"), wxh: weight("W_xh"), bh: bias("b_h"))
            sequence = try RecurrentLayer(cell)(x).sequence
            tapeSequence = try RecurrentLayer(TapeOnly(cell))(x).sequence
        }
        #expect(maxAbsDifference(sequence, fixture.tensor("output")) < Self.tolerance)
        #expect(maxAbsDifference(tapeSequence, fixture.tensor("output")) < Self.tolerance)
    }

    /// The same PyTorch LSTM in Float: outputs agree to single precision.
    @Test func lstmInFloat() throws {
        let fixture = try CellFixture("lstm_2layer")
        let weights = PyTorchRecurrentWeights<Float>(fixture.weightTensors(as: Float.self))
        let h0: Tensor<Float> = fixture.tensor("h0", as: Float.self)
        let c0: Tensor<Float> = fixture.tensor("c0", as: Float.self)
        let states = (0..<2).map { Tensor(concatenating: [h0[$0], c0[$0]], alongAxis: -1) }
        let output = try weights.lstmStack(layers: 2)(fixture.tensor("x", as: Float.self), initialStates: states)
        #expect(maxAbsDifference(output.sequence, fixture.tensor("output", as: Float.self)) < 1e-6)
    }
}
