import ExampleSupport
import Foundation
import RNNODE

/// One training-step configuration: a recurrent layer (by default Euler, Δt = 1: the classic cell), a
/// Dense head from the last output to one value, mean squared error, Adam 1e-3, Float32, batch first.
struct RecurrentTrainingConfiguration {
    let name: String
    let cell: String
    let hidden: Int
    let batch: Int
    let steps: Int
    let inputs: Int
    /// Timed batches per measurement.
    let batches: Int
    /// How the layer integrates the cell between inputs.
    var integration: CellIntegration<Float> = .discrete
    /// Per-row random gaps between the inputs (seeded, uniform in this range), given to the layer as
    /// constant `.irregular` time stamps; nil: the layer's regular grid.
    var gaps: Range<Float>? = nil

    /// The integration and time axis, for the summary.
    var integrationSummary: String {
        let m = integration.methodName
        let perInput: String
        if case .fixed(let h) = integration.step.mode {
            let n = (integration.timeStep / h).rounded()
            perInput = n == 1 ? "one step per input" : "\(Int(n)) steps per input"
        } else {
            perInput = "adaptive steps"
        }
        guard let gaps else {
            return integration.isDiscrete ? "" : ", \(m) (Δt \(integration.timeStep), \(perInput))"
        }
        return
            ", \(m) with steps ≤ \(integration.timeStep) over per-row time stamps (seeded gaps uniform in "
            + "[\(gaps.lowerBound), \(gaps.upperBound)) ⊂ (0.5, 1]: one step each, the regular grid's work)"
    }
}

/// Milliseconds per training batch and per forward pass, and the peak resident memory of training.
func measureTraining<Cell: RecurrentCell>(
    _ configuration: RecurrentTrainingConfiguration, cell: Cell
) throws -> [(String, JSONValue)] where Cell.Scalar == Float {
    var generator = SeededGenerator(seed: 0)
    let c = configuration
    var model = RecurrentRegression(
        layer: RecurrentLayer(cell, integration: c.integration),
        head: Dense(inputSize: c.hidden, outputSize: 1, using: &generator))
    let x = Tensor<Float>.normal([c.batch, c.steps, c.inputs], mean: 0, standardDeviation: 1, using: &generator)
    let y = Tensor<Float>.normal([c.batch, 1], mean: 0, standardDeviation: 1, using: &generator)
    if let gaps = c.gaps {
        model.times = .irregular(try timeStamps(c, gaps: gaps))
    }
    var optimizer = Adam<Float>(learningRate: 1e-3)
    func trainStep() throws { try model.trainStep(x, y, optimizer: &optimizer) }
    try trainStep()  // warm-up
    resetPeakMemory()
    let before = residentMemoryMiB() ?? 0
    let train = try best {
        let clock = Stopwatch()
        for _ in 0..<c.batches { try trainStep() }
        return clock.seconds / Double(c.batches)
    }
    let peak = peakMemoryMiB() ?? 0
    let forward = try best {
        let clock = Stopwatch()
        for _ in 0..<c.batches { _ = try model.loss(x, y) }
        return clock.seconds / Double(c.batches)
    }
    return [
        ("train_ms_per_batch", .number(train * 1000)), ("seq_per_s", .number(Double(c.batch) / train)),
        ("forward_ms_per_batch", .number(forward * 1000)), ("peak_rss_mib", .number(peak)),
        ("rss_before_mib", .number(before)),
    ]
}

/// Time stamps `[batch, steps]` for `c`: each row starts at 0 and advances by seeded gaps uniform in
/// `gaps`. Throws if a gap, as the layer computes it (a difference of Float stamps), would need more
/// than one step of the integration: the benchmark is meant to do the regular grid's work.
func timeStamps(_ c: RecurrentTrainingConfiguration, gaps: Range<Float>) throws -> Tensor<Float> {
    var generator = SeededGenerator(seed: 2)
    let draws = Tensor<Float>.uniform(
        [c.batch, c.steps], lower: gaps.lowerBound, upper: gaps.upperBound, using: &generator
    ).scalars
    var stamps = [Float](repeating: 0, count: c.batch * c.steps)
    for row in 0..<c.batch {
        for k in 1..<c.steps { stamps[row * c.steps + k] = stamps[row * c.steps + k - 1] + draws[row * c.steps + k] }
    }
    guard case .fixed(let h) = c.integration.step.mode else { throw BenchmarkError("\(c.name): needs fixed steps") }
    for row in 0..<c.batch {
        for k in 1..<c.steps where stamps[row * c.steps + k] - stamps[row * c.steps + k - 1] > h {
            throw BenchmarkError("\(c.name): the gap before step \(k) of row \(row) needs more than one step")
        }
    }
    return Tensor(shape: [c.batch, c.steps], scalars: stamps)
}

let recurrentTrainingConfigurations = [
    RecurrentTrainingConfiguration(
        name: "lstm-train-h256", cell: "lstm", hidden: 256, batch: 64, steps: 100, inputs: 64, batches: 3),
    RecurrentTrainingConfiguration(
        name: "gru-train-h256", cell: "gru", hidden: 256, batch: 64, steps: 100, inputs: 64, batches: 3),
    RecurrentTrainingConfiguration(
        name: "rnn-train-h64", cell: "rnn", hidden: 64, batch: 32, steps: 100, inputs: 32, batches: 20),
    RecurrentTrainingConfiguration(
        name: "gru-train-h64", cell: "gru", hidden: 64, batch: 32, steps: 100, inputs: 32, batches: 20),
    RecurrentTrainingConfiguration(
        name: "lstm-train-h64", cell: "lstm", hidden: 64, batch: 32, steps: 100, inputs: 32, batches: 20),
    RecurrentTrainingConfiguration(
        name: "lstm-train-h16", cell: "lstm", hidden: 16, batch: 8, steps: 50, inputs: 4, batches: 100),
    RecurrentTrainingConfiguration(
        name: "gru-train-h64-rk4", cell: "gru", hidden: 64, batch: 32, steps: 100, inputs: 32, batches: 20,
        integration: .fixed(.rk4)),
    RecurrentTrainingConfiguration(
        name: "lstm-train-h64-midpoint", cell: "lstm", hidden: 64, batch: 32, steps: 100, inputs: 32, batches: 20,
        integration: .fixed(.midpoint)),
    RecurrentTrainingConfiguration(
        name: "gru-train-h64-irregular", cell: "gru", hidden: 64, batch: 32, steps: 100, inputs: 32, batches: 20,
        gaps: 0.51..<0.99),
    // The adding problem's sizes (batch 50, hidden 128, two inputs): a GRU against coRNN and LEM
    // under their published step, symplectic Euler (coRNN with the reference code's Δt 0.042).
    RecurrentTrainingConfiguration(
        name: "gru-train-h128", cell: "gru", hidden: 128, batch: 50, steps: 200, inputs: 2, batches: 5),
    RecurrentTrainingConfiguration(
        name: "cornn-train-h128", cell: "cornn", hidden: 128, batch: 50, steps: 200, inputs: 2, batches: 5,
        integration: .fixed(partitioned: .symplecticEuler, timeStep: 0.042)),
    RecurrentTrainingConfiguration(
        name: "lem-train-h128", cell: "lem", hidden: 128, batch: 50, steps: 200, inputs: 2, batches: 5,
        integration: .fixed(partitioned: .symplecticEuler)),
    // LTC under its published step, six semi-implicit Euler steps per input (ncps' ode_unfolds),
    // at the sizes of ncps' examples; the peer is ncps' LTC (peers/ncps_torch.py).
    RecurrentTrainingConfiguration(
        name: "ltc-train", cell: "ltc", hidden: 32, batch: 32, steps: 50, inputs: 4, batches: 5,
        integration: .fixed(semiImplicit: .semiImplicitEuler, substeps: 6)),
]

let recurrentBenchmarks: [Benchmark] = recurrentTrainingConfigurations.map { c in
    Benchmark(
        name: c.name,
        summary:
            "train step of a \(c.cell.uppercased()) layer (hidden \(c.hidden), batch \(c.batch), \(c.steps) steps, \(c.inputs) inputs)\(c.integrationSummary) + Dense → 1, MSE, Adam; Float32"
    ) {
        var generator = SeededGenerator(seed: 1)
        switch c.cell {
        case "lstm":
            return try measureTraining(
                c, cell: LSTMCell<Float>(inputSize: c.inputs, hiddenSize: c.hidden, initialization: .pytorch, using: &generator))
        case "gru":
            return try measureTraining(
                c, cell: GRUCell<Float>(inputSize: c.inputs, hiddenSize: c.hidden, initialization: .pytorch, using: &generator))
        case "cornn":
            let cell = CoRNNCell<Float>(
                inputSize: c.inputs, hiddenSize: c.hidden, stiffness: 2.7, damping: 4.7, initialization: .pytorch,
                using: &generator)
            return try measureTraining(c, cell: cell)
        case "lem":
            return try measureTraining(c, cell: LEMCell<Float>(inputSize: c.inputs, hiddenSize: c.hidden, using: &generator))
        case "ltc":
            return try measureTraining(c, cell: LTCCell<Float>(inputSize: c.inputs, hiddenSize: c.hidden, using: &generator))
        default:
            return try measureTraining(
                c,
                cell: SimpleRNNCell<Float>(inputSize: c.inputs, hiddenSize: c.hidden, initialization: .pytorch, using: &generator)
            )
        }
    }
}

// MARK: - Memory of the fused path

/// The hidden option that runs one ``fusedTrainingMemory(scheme:steps:)`` measurement.
let fusedMemoryProbeOption = "--fused-memory-probe"

/// One training step (forward, backward, Adam) of an LSTM layer (hidden 64, batch 32, 32 inputs) +
/// Dense on the fused path with `scheme` over `steps` inputs, in this process: the peak memory above
/// the resident size before it (MiB). Run in a fresh process by ``measureFusedMemory(scheme:steps:)``.
func fusedTrainingMemory(scheme: String, steps: Int) throws -> Double {
    guard let method = ButcherTableau.builtIn[scheme] else { throw BenchmarkError("unknown scheme \(scheme)") }
    var generator = SeededGenerator(seed: 0)
    var model = RecurrentRegression(
        layer: RecurrentLayer(
            LSTMCell<Float>(inputSize: 32, hiddenSize: 64, initialization: .pytorch, using: &generator),
            integration: .fixed(method)),
        head: Dense(inputSize: 64, outputSize: 1, using: &generator))
    let x = Tensor<Float>.normal([32, steps, 32], mean: 0, standardDeviation: 1, using: &generator)
    let y = Tensor<Float>.normal([32, 1], mean: 0, standardDeviation: 1, using: &generator)
    var optimizer = Adam<Float>(learningRate: 1e-3)
    let before = residentMemoryMiB() ?? 0
    resetPeakMemory()
    try model.trainStep(x, y, optimizer: &optimizer)
    return (peakMemoryMiB() ?? .nan) - before
}

/// Runs `rnnode-bench --fused-memory-probe SCHEME STEPS` as a child process and reads its result.
func measureFusedMemory(scheme: String, steps: Int) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    process.arguments = [fusedMemoryProbeOption, scheme, String(steps)]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationStatus == 0, let value = Double(text) else {
        throw BenchmarkError("the memory probe failed (status \(process.terminationStatus)): \(text)")
    }
    return value
}

let fusedMemoryBenchmark = Benchmark(
    name: "fused-memory",
    summary:
        "peak memory of one LSTM training step on the fused path (hidden 64, batch 32): Euler, midpoint, RK4 × 100, 200 steps (MiB above the resident size)"
) {
    var fields: [(String, JSONValue)] = []
    for scheme in ["euler", "midpoint", "rk4"] {
        for steps in [100, 200] {
            fields.append(("\(scheme)_\(steps)_mib", .number(try measureFusedMemory(scheme: scheme, steps: steps))))
        }
    }
    return fields
}
