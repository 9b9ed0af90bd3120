import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite("Checkpoints and PyTorch weights")
struct CheckpointTests {
    static func model(seed: UInt64, hidden: Int = 4) -> RecurrentStack<RecurrentLayer<LSTMCell<Float>>> {
        var g = SeededGenerator(seed: seed)
        return RecurrentStack([
            RecurrentLayer(LSTMCell<Float>(inputSize: 3, hiddenSize: hidden, using: &g)),
            RecurrentLayer(LSTMCell<Float>(inputSize: hidden, hiddenSize: hidden, using: &g)),
        ])
    }

    /// Save, then restore into a differently initialized model: the parameters, the optimizer's
    /// state and the metadata come back, and training continues exactly as if never interrupted.
    @Test func roundTripResumesTrainingExactly() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("run/checkpoint.npz")
        var g = SeededGenerator(seed: 1)
        let x = Tensor<Float>.normal([2, 5, 3], mean: 0, standardDeviation: 1, using: &g)
        func trainStep(_ model: inout RecurrentStack<RecurrentLayer<LSTMCell<Float>>>, _ adam: inout Adam<Float>) throws {
            let tape = Tape<Float>()
            let (recorded, variables) = model.recorded(on: tape)
            let loss = square(try recorded(x).sequence).mean()
            var parameters = model.parameters
            adam.update(&parameters, gradients: tape.gradients(of: loss, withRespectTo: variables))
            model.parameters = parameters
        }
        var model = Self.model(seed: 2)
        var adam = Adam<Float>(learningRate: 1e-2)
        for _ in 0..<3 { try trainStep(&model, &adam) }
        try Checkpoint(model: model, optimizerState: adam.savedState, metadata: ["step": "3", "note": "ü"])
            .write(to: url, createDirectories: true)

        let loaded = try Checkpoint<Float>(contentsOf: url)
        #expect(loaded.metadata == ["step": "3", "note": "ü"])
        var resumed = Self.model(seed: 99)
        var resumedAdam = Adam<Float>(learningRate: 1e-2)
        try loaded.restore(into: &resumed)
        try resumedAdam.restoreState(loaded.optimizerState, parameterShapes: resumed.parameters.map(\.shape))
        #expect(resumed.parameters == model.parameters)
        #expect(resumedAdam.step == 3)
        try trainStep(&model, &adam)
        try trainStep(&resumed, &resumedAdam)
        #expect(resumed.parameters == model.parameters)
    }

    /// A checkpoint streams its tensors to the file, and the file is the archive of their arrays
    /// that `zipData()` would build.
    @Test func writingStreamsTheArchiveOfItsArrays() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("checkpoint.npz")
        let model = Self.model(seed: 3)
        let state: [String: Tensor<Float>] = ["m.0": Tensor([1, 2, 3]), "step": Tensor(shape: [], scalars: [7])]
        let checkpoint = Checkpoint(model: model, optimizerState: state, metadata: ["b": "2", "a": "ü"])
        try checkpoint.write(to: url)

        var expected = NumPyArchive([
            "format": NumPyArray(bytes: Array("rnnode-checkpoint-1".utf8)),
            "metadata": NumPyArray(bytes: Array(#"{"a":"ü","b":"2"}"#.utf8)),
        ])
        for (path, value) in zip(model.parameterPaths, model.parameters) {
            expected["parameter/" + path.name] = NumPyArray(value)
        }
        expected["optimizer/m.0"] = NumPyArray(state["m.0"]!)
        expected["optimizer/step"] = NumPyArray(state["step"]!)
        #expect(try Data(contentsOf: url) == expected.zipData())
        #expect(try Checkpoint<Float>(contentsOf: url).parameterValues == model.parameters)

        // Writing a checkpoint of the same names twice is refused before anything is written.
        var twice = checkpoint
        twice.parameterNames[1] = twice.parameterNames[0]
        let other = directory.url.appendingPathComponent("twice.npz")
        let name = "parameter/\(twice.parameterNames[0]).npy"
        #expect(throws: CheckpointError.file(NumPyError(.duplicateEntry(name), path: other.path, entry: name))) {
            try twice.write(to: other)
        }
        #expect(try directory.contents() == ["checkpoint.npz"])
    }

    @Test func restoreRejectsMismatchesByName() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("small.npz")
        try Checkpoint(model: Self.model(seed: 1, hidden: 4)).write(to: url)
        let checkpoint = try Checkpoint<Float>(contentsOf: url)
        var wider = Self.model(seed: 1, hidden: 5)
        let before = wider.parameters
        #expect(
            throws: CheckpointError.shapeMismatch(name: "layers.0.cell.inputWeight", expected: [3, 20], got: [3, 16])
        ) { try checkpoint.restore(into: &wider) }
        #expect(wider.parameters == before)

        var single = RecurrentStack([Self.model(seed: 1).layers[0]])
        #expect(
            throws: CheckpointError.unexpectedParameters(names: [
                "layers.1.cell.inputWeight", "layers.1.cell.recurrentWeight", "layers.1.cell.bias",
            ])
        ) {
            try checkpoint.restore(into: &single)
        }
        var partial = checkpoint
        partial.parameterNames[2] = "renamed"
        var model = Self.model(seed: 1)
        #expect(throws: CheckpointError.missingParameter(name: "layers.0.cell.bias")) { try partial.restore(into: &model) }

        var adam = Adam<Float>()
        #expect(throws: OptimizerStateError("'step' is missing or not a count")) {
            try adam.restoreState(["m.0": Tensor([1])], parameterShapes: [[1]])
        }
        #expect(throws: OptimizerStateError.self) {
            try adam.restoreState(["step": Tensor(1), "m.0": Tensor([1, 2]), "v.0": Tensor([1])], parameterShapes: [[1]])
        }
    }

    /// A checkpoint whose optimizer step was changed from 3 to 1e30 (with valid CRCs): the model
    /// restores, the optimizer refuses the state with the entry and its value named, and keeps its own.
    @Test func aCorruptedOptimizerStepIsRefusedWithoutATrap() throws {
        let checkpoint = try Checkpoint<Float>(contentsOf: try malformedFixture("checkpoint-adam-step-1e30.npz"))
        var generator = SeededGenerator(seed: 0)
        var layer = RecurrentLayer(GRUCell<Float>(inputSize: 3, hiddenSize: 4, using: &generator))
        try checkpoint.restore(into: &layer)
        var adam = Adam<Float>(learningRate: 1e-3)
        var parameters = layer.parameters
        adam.update(&parameters, gradients: parameters)
        let before = adam.savedState
        #expect(throws: OptimizerStateError("'step' is 1e+30, not a count: it must be a whole number from 0 to 2⁵³")) {
            try adam.restoreState(checkpoint.optimizerState, parameterShapes: layer.parameters.map(\.shape))
        }
        #expect(adam.savedState == before)
    }

    @Test func filesThatAreNotCheckpointsAreRejected() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let plain = directory.url.appendingPathComponent("plain.npz")
        try NumPyArchive(["w": NumPyArray(Tensor<Double>([1, 2]))]).write(to: plain)
        #expect(
            throws: CheckpointError.notACheckpoint(path: plain.path, reason: "it has no 'format' entry 'rnnode-checkpoint-1'")
        ) {
            try Checkpoint<Double>(contentsOf: plain)
        }
        let missing = directory.url.appendingPathComponent("missing.npz")
        do {
            _ = try Checkpoint<Double>(contentsOf: missing)
            Issue.record("reading a missing file must fail")
        } catch {
            guard case .file = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.description.contains("missing.npz"))
        }
        // A truncated checkpoint (a crash while copying it, say) is an error, not a crash.
        let url = directory.url.appendingPathComponent("truncated.npz")
        try Checkpoint(model: Self.model(seed: 1)).write(to: url)
        let data = try Data(contentsOf: url)
        try data.prefix(data.count / 2).write(to: url)
        #expect(throws: CheckpointError.self) { try Checkpoint<Float>(contentsOf: url) }
    }

    @Test func optimizerStatesRoundTrip() throws {
        var parameters = [Tensor<Double>([1, 2]), Tensor<Double>([[3]])]
        let gradients = [Tensor<Double>([0.5, -1]), Tensor<Double>([[2]])]
        var rms = RMSprop<Double>(learningRate: 1e-2, momentum: 0.9, centered: true)
        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.5)
        rms.update(&parameters, gradients: gradients)
        sgd.update(&parameters, gradients: gradients)
        var rms2 = RMSprop<Double>(learningRate: 1e-2, momentum: 0.9, centered: true)
        var sgd2 = SGD<Double>(learningRate: 0.1, momentum: 0.5)
        try rms2.restoreState(rms.savedState, parameterShapes: parameters.map(\.shape))
        try sgd2.restoreState(sgd.savedState, parameterShapes: parameters.map(\.shape))
        var (p1, p2) = (parameters, parameters)
        rms.update(&p1, gradients: gradients)
        rms2.update(&p2, gradients: gradients)
        sgd.update(&p1, gradients: gradients)
        sgd2.update(&p2, gradients: gradients)
        #expect(p1 == p2)
        #expect(Adam<Double>().savedState.isEmpty)
    }

    /// PyTorch state dicts saved with numpy.savez load into stacks; problems are named.
    @Test func pytorchWeightsFromAnArchive() throws {
        let fixture = try CellFixture("lstm_2layer")
        var archive = NumPyArchive()
        for (name, value) in fixture.weightTensors(as: Double.self) { archive[name] = NumPyArray(value) }
        let weights = PyTorchRecurrentWeights<Double>(archive: try NumPyArchive(zipData: archive.zipData()))
        let stack = try weights.lstmStack(layers: 2)
        #expect(stack.layers.count == 2 && stack.layers[1].cell.inputSize == 4)
        #expect(throws: WeightLoadingError.unused(names: ["bias_hh_l1", "bias_ih_l1", "weight_hh_l1", "weight_ih_l1"])) {
            try weights.lstmStack(layers: 1)
        }
        #expect(throws: WeightLoadingError.missing(name: "weight_ih_l2")) { try weights.lstmStack(layers: 3) }
        var wrong = weights
        wrong.tensors["weight_hh_l0"] = Tensor.zeros([16, 3])
        #expect(throws: WeightLoadingError.shapeMismatch(name: "weight_hh_l0", expected: [16, 4], got: [16, 3])) {
            try wrong.lstmCell()
        }
        #expect(throws: WeightLoadingError.self) { try weights.gruCell() }  // 16 rows are not 3 gates
        var noBias = weights
        noBias.tensors["bias_ih_l0"] = nil
        noBias.tensors["bias_hh_l0"] = nil
        #expect(try noBias.lstmCell().bias == Tensor.zeros([16]))
    }
}

/// The memory a large checkpoint write takes, for a measurement by hand: with
/// `CHECKPOINT_MEMORY_MIB=256`, writes a checkpoint of one `Float` parameter of that many MiB (and
/// reads nothing back), so that the process's peak resident set is the tensor plus what writing
/// costs, e.g. `CHECKPOINT_MEMORY_MIB=256 /usr/bin/time -v .build/debug/RNNODEPackageTests.xctest
/// --testing-library swift-testing --filter IOCheckpointMemoryTests` ("Maximum resident set size").
@Suite struct IOCheckpointMemoryTests {
    static let mebibytes = ProcessInfo.processInfo.environment["CHECKPOINT_MEMORY_MIB"].flatMap { Int($0) }

    @Test(.enabled(if: mebibytes != nil)) func writeLargeCheckpoint() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let count = (Self.mebibytes ?? 0) << 18
        // Filled in place (every page touched), so the tensor is resident once.
        let storage = TensorStorage<Float>(count: count) { target in
            for index in 0..<count { target[index] = Float(index & 0xFFFF) }
        }
        var checkpoint = Checkpoint(model: CheckpointTests.model(seed: 1))
        checkpoint.parameterNames = ["weight"]
        checkpoint.parameterValues = [Tensor(shape: [count], storage: storage, node: nil)]
        let url = directory.url.appendingPathComponent("large.npz")
        try checkpoint.write(to: url)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        #expect(size.map { $0 > count * 4 } == true)
    }
}
