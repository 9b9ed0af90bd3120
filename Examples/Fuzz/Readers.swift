import Foundation
import RNNODE

/// One reader under test: its valid seed files, how its inputs are mutated, and what is done with
/// a file (read it, then use what was read the way a program would).
struct FuzzTarget: Sendable {
    let name: String
    let summary: String
    /// The seed files' extensions among the bundled NumPy-made seeds.
    let seedExtensions: [String]
    /// How many times its input size a case may grow the peak memory by (above the floor): the
    /// reader's representation per byte read, with room to spare.
    var memoryFactor = 64
    let librarySeeds: @Sendable () throws -> [[UInt8]]
    let mutate: @Sendable ([UInt8], [UInt8], inout CaseGenerator) -> [UInt8]
    /// Reads `url`; throws the reader's error for an input it refuses.
    let run: @Sendable (URL) throws -> Void

    /// The seeds: the library's own files, then NumPy's.
    func seeds() throws -> [[UInt8]] {
        var seeds = try librarySeeds()
        if let folder = Bundle.module.url(forResource: "Seeds", withExtension: nil) {
            let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            for file in files.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
                guard seedExtensions.contains(file.pathExtension) else { continue }
                // The PyTorch reader starts from state dicts only.
                if name == "pytorch" && !file.lastPathComponent.contains("state_dict") { continue }
                seeds.append([UInt8](try Data(contentsOf: file)))
            }
        }
        return seeds
    }
}

/// The bytes a library writer produces for `url`.
private func written(_ write: (URL) throws -> Void) throws -> [UInt8] {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-fuzz-seed-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: url) }
    try write(url)
    return [UInt8](try Data(contentsOf: url))
}

/// The model checkpoints are written for and restored into.
private func checkpointModel() -> RecurrentLayer<GRUCell<Float>> {
    var generator = SeededGenerator(seed: 3)
    return RecurrentLayer(GRUCell<Float>(inputSize: 3, hiddenSize: 4, using: &generator))
}

let fuzzTargets: [FuzzTarget] = [
    FuzzTarget(
        name: "npy", summary: "NumPyArray(contentsOf:), then tensor(as:) and its description", seedExtensions: ["npy"],
        librarySeeds: {
            [
                [UInt8](NumPyArray(Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])).npyData()),
                [UInt8](NumPyArray(Tensor<Double>(shape: [], scalars: [0.5])).npyData()),
                [UInt8](NumPyArray(Tensor<Double>.zeros([0, 4])).npyData()),
                [UInt8](
                    NumPyArray(shape: [3], dataType: .int32, elementBytes: [1, 0, 0, 0, 2, 0, 0, 0, 255, 255, 255, 255]).npyData()
                ),
            ]
        },
        mutate: { bytes, other, g in g.chance(0.6) ? mutateNPY(bytes, using: &g) : mutateBytes(bytes, splice: other, using: &g) },
        run: { url in
            let array = try NumPyArray(contentsOf: url)
            _ = array.tensor(as: Float.self).description
            _ = array.tensor(as: Double.self).scalarCount
        }),
    FuzzTarget(
        name: "npz", summary: "NumPyArchive(contentsOf:), then every entry as a tensor", seedExtensions: ["npz"],
        librarySeeds: {
            let archive = NumPyArchive([
                "weights": NumPyArray(Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])),
                "steps": NumPyArray(Tensor<Double>(shape: [3], scalars: [0, 1, 2])),
            ])
            return [[UInt8](archive.zipData())]
        },
        mutate: { bytes, other, g in mutateNPZ(bytes, splice: other, using: &g) },
        run: { url in
            for entry in try NumPyArchive(contentsOf: url).entries { _ = entry.array.tensor(as: Float.self).scalarCount }
        }),
    FuzzTarget(
        name: "csv", summary: "CSVTable.read(from:), every column, and the written text read back", seedExtensions: [],
        // A table keeps an array per row: a file of empty lines costs about 90 bytes per byte.
        memoryFactor: 128,
        librarySeeds: {
            let table = CSVTable(header: ["t", "x", "y"], rows: [[0, 1.5, nil], [0.5, -2, 3e-3], [1, nil, 1e10]])
            return [Array(try table.csvText().utf8), Array("a,b\n1,2\n3,\n".utf8), Array("time\n\n1\n2.5e-3\n".utf8)]
        },
        mutate: { bytes, other, g in mutateText(bytes, splice: other, using: &g) },
        run: { url in
            let table = try CSVTable.read(from: url)
            for name in table.header { _ = table.column(name) }
            // What the writer accepts must read back as the same table.
            if let text = try? table.csvText(), try CSVTable.parse(text).csvText() != text {
                fatalError("the CSV writer's text of a table read from \(url.path) reads back differently")
            }
        }),
    FuzzTarget(
        name: "word-vectors", summary: "WordVectors<Float>(contentsOf:) (GloVe and word2vec text)", seedExtensions: [],
        librarySeeds: {
            [
                Array("king 0.1 0.2 0.3\nqueen -0.1 0.25 1e-3\nman 0 0 1\n".utf8),
                Array("3 2\ncat 0.5 -0.5\ndog 1 2\nfish 3.5 4\n".utf8),
                Array("Ünïcode 1 2\n日本 3 4\n".utf8),
            ]
        },
        mutate: { bytes, other, g in mutateText(bytes, splice: other, using: &g) },
        run: { url in
            let vectors = try WordVectors<Float>(contentsOf: url)
            _ = vectors.vectors.scalarCount
        }),
    FuzzTarget(
        name: "checkpoint", summary: "Checkpoint<Float>(contentsOf:), restored into a GRU layer and Adam, then one Adam step",
        seedExtensions: [],
        librarySeeds: {
            var model = checkpointModel()
            var adam = Adam<Float>(learningRate: 1e-3)
            var parameters = model.parameters
            for _ in 0..<2 { adam.update(&parameters, gradients: parameters.map { $0 * 0.1 }) }
            model.parameters = parameters
            let checkpoint = Checkpoint(model: model, optimizerState: adam.savedState, metadata: ["step": "2"])
            let bare = Checkpoint(model: model)
            return [try written { try checkpoint.write(to: $0) }, try written { try bare.write(to: $0) }]
        },
        mutate: { bytes, other, g in mutateNPZ(bytes, splice: other, using: &g) },
        run: { url in
            let checkpoint = try Checkpoint<Float>(contentsOf: url)
            var model = checkpointModel()
            try checkpoint.restore(into: &model)
            var adam = Adam<Float>(learningRate: 1e-3)
            var parameters = model.parameters
            try adam.restoreState(checkpoint.optimizerState, parameterShapes: parameters.map(\.shape))
            adam.update(&parameters, gradients: parameters.map { Tensor<Float>.zeros($0.shape) })
        }),
    FuzzTarget(
        name: "pytorch", summary: "PyTorchRecurrentWeights from an archive: LSTM, GRU and RNN cells, each run on a sequence",
        seedExtensions: ["npz"],
        librarySeeds: { [] },
        mutate: { bytes, other, g in mutateNPZ(bytes, splice: other, using: &g) },
        run: { url in
            let weights = PyTorchRecurrentWeights<Float>(archive: try NumPyArchive(contentsOf: url))
            var failures: [any Error] = []
            func attempt(_ body: () throws -> Void) {
                do { try body() } catch { failures.append(error) }
            }
            attempt {
                let cell = try weights.lstmCell()
                _ = try RecurrentLayer(cell)(Tensor<Float>.zeros([1, 2, cell.inputSize]))
            }
            attempt {
                let cell = try weights.gruCell()
                _ = try RecurrentLayer(cell)(Tensor<Float>.zeros([1, 2, cell.inputSize]))
            }
            attempt {
                let cell = try weights.simpleRNNCell()
                _ = try RecurrentLayer(cell)(Tensor<Float>.zeros([1, 2, cell.inputSize]))
            }
            if failures.count == 3 { throw failures[0] }
        }),
]
