// The adding problem (Hochreiter and Schmidhuber 1997), as the coRNN and LEM papers pose it: each
// input is a sequence of T pairs (uᵗ, mᵗ) with uᵗ uniform in [0, 1] and the marker mᵗ 1 at two
// places, one drawn uniformly from the first half and one from the second, 0 elsewhere; the target
// is the sum of the two marked numbers. Predicting 1 always gives the baseline MSE 1/6 ≈ 0.167.
// Batches of 50 are drawn fresh at every step (as the reference code does), the test set is 1000
// sequences drawn once. Every model is a recurrent layer (128 units by default) plus a Dense readout
// of its last output, trained with Adam on the MSE, gradients clipped to norm 1; coRNN and LEM run
// their published step, symplectic Euler (the reference code's coRNN hyperparameters: Δt 0.06,
// γ 66, ε 15, learning rate 0.02).

import ExampleSupport
import Foundation
import RNNODE

// MARK: - Options

let modelNames = ["cornn", "lem", "antisymmetric", "lstm", "gru"]
let cli = {
    var cli = CommandLineInterface(
        command: "adding-problem",
        summary: """
            Trains coRNN, LEM, the gated AntisymmetricRNN, an LSTM and a GRU on the adding problem of length T and \
            compares their test MSE against training steps (the baseline, predicting 1, is 0.167). Prints progress, \
            writes an SVG figure and a CSV of the test curves.
            """)
    cli.option("length", placeholder: "T", default: "500", help: "The sequence length T.")
    cli.option("steps", placeholder: "N", default: "1500", help: "Training steps (batches) per model.")
    cli.option(
        "models", placeholder: "LIST", default: modelNames.joined(separator: ","),
        help: "Comma-separated models to train, from \(modelNames.joined(separator: ", ")).")
    cli.option("batch", placeholder: "B", default: "50", help: "Sequences per training batch.")
    cli.option("hidden", placeholder: "H", default: "128", help: "Units of each recurrent layer.")
    cli.option("test", placeholder: "N", default: "1000", help: "Sequences in the test set.")
    cli.option("eval-every", placeholder: "N", default: "100", help: "Training steps between test evaluations.")
    cli.option("lem-dt", placeholder: "DT", default: "1", help: "LEM's step Δt (the reference code's default is 1).")
    cli.option("seed", placeholder: "S", default: "0", help: "Seeds the data and the initializations.")
    cli.option("out", placeholder: "DIR", default: "adding-problem-output", help: "Folder for the SVG figure and the CSV.")
    cli.flag("quick", help: "A short run for CI: T = 50, 60 steps, 16 units, 200 test sequences, evaluation every 20 steps.")
    cli.flag(
        "json",
        help: "Print {\"results\": {MODEL: {\"test_mse\", \"seconds\"}}, \"length\", \"steps\", \"hidden\"} as the last line.")
    cli.flag("quiet", help: "No progress or summary (errors and --json still print).")
    return cli
}()
let arguments = cli.parseOrExit()
func fail(_ message: String) -> Never { cli.exitWithUsageError(message) }

let quick = arguments.flag("quick")
let length: Int
let steps: Int
let batch: Int
let hidden: Int
let testCount: Int
let evaluationInterval: Int
let lemStep: Float
let selected: [String]
let seed: UInt64
do {
    length = quick ? 50 : try arguments.int("length")!
    steps = quick ? 60 : try arguments.int("steps")!
    batch = try arguments.int("batch")!
    hidden = quick ? 16 : try arguments.int("hidden")!
    testCount = quick ? 200 : try arguments.int("test")!
    evaluationInterval = quick ? 20 : try arguments.int("eval-every")!
    lemStep = Float(try arguments.double("lem-dt")!)
    selected = try arguments.names("models", from: modelNames)!
} catch {
    fail(error.description)
}
guard length >= 2 else { fail("--length must be at least 2, got \(length)") }
guard steps >= 0 else { fail("--steps must be ≥ 0, got \(steps)") }
guard batch >= 1, hidden >= 1, testCount >= 1 else { fail("--batch, --hidden and --test must be positive") }
guard evaluationInterval >= 1 else { fail("--eval-every must be positive, got \(evaluationInterval)") }
guard lemStep > 0 && lemStep.isFinite else { fail("--lem-dt must be positive, got \(lemStep)") }
guard let seedValue = UInt64(arguments.string("seed")!) else { fail("--seed must be a non-negative integer") }
seed = seedValue
let quiet = arguments.flag("quiet")
func say(_ text: String = "") { if !quiet { print(text) } }

// MARK: - Data

/// `count` sequences `[count, T, 2]` and their targets `[count, 1]`.
func addingBatch(_ count: Int, using generator: inout SeededGenerator) -> (x: Tensor<Float>, y: Tensor<Float>) {
    var x = [Float](repeating: 0, count: count * length * 2)
    var y = [Float](repeating: 0, count: count)
    let half = length / 2
    for row in 0..<count {
        for t in 0..<length { x[(row * length + t) * 2] = Float(generator.nextUnitDouble()) }
        let first = Int(generator.next() % UInt64(half))
        let second = half + Int(generator.next() % UInt64(length - half))
        for t in [first, second] {
            x[(row * length + t) * 2 + 1] = 1
            y[row] += x[(row * length + t) * 2]
        }
    }
    return (Tensor(shape: [count, length, 2], scalars: x), Tensor(shape: [count, 1], scalars: y))
}

// MARK: - Models

/// One model's run: the test MSE after every evaluation, and the training time.
struct Curve {
    var name: String
    var steps: [Int] = []
    var testMSE: [Double] = []
    var seconds: Double = 0
}

/// Trains `model` for `steps` batches with Adam at `learningRate` (gradients clipped to norm 1),
/// evaluating on the test set every `evaluationInterval` steps and at the end.
func run<Cell: RecurrentCell>(
    _ name: String, _ cell: Cell, integration: CellIntegration<Float>, learningRate: Float,
    test: (x: Tensor<Float>, y: Tensor<Float>), generator: inout SeededGenerator
) throws -> Curve where Cell.Scalar == Float {
    var model = RecurrentRegression(
        layer: RecurrentLayer(cell, integration: integration), head: Dense(inputSize: hidden, outputSize: 1, using: &generator))
    var optimizer = Adam<Float>(learningRate: learningRate)
    var curve = Curve(name: name)
    func evaluate(after step: Int) throws {
        let mse = Double(squaredError(try model.predict(test.x), test.y).scalar)
        curve.steps.append(step)
        curve.testMSE.append(mse)
        say(String(format: "%@ step %5d  test MSE %.6f  (%.1f s)", name, step, mse, curve.seconds))
    }
    try evaluate(after: 0)
    for step in stride(from: 1, through: steps, by: 1) {
        let (x, y) = addingBatch(batch, using: &generator)
        let clock = Stopwatch()
        let norm = try model.trainStep(x, y, optimizer: &optimizer, clipping: .globalNorm(1))
        guard norm.isFinite else { cli.exitWithError("\(name): the gradient became \(norm) at step \(step)") }
        curve.seconds += clock.seconds
        if step % evaluationInterval == 0 || step == steps { try evaluate(after: step) }
    }
    return curve
}

var testGenerator = SeededGenerator(seed: seed &+ 1000)
let test = addingBatch(testCount, using: &testGenerator)
say(
    "Adding problem: T = \(length), batch \(batch), \(hidden) units, \(steps) steps per model, \(testCount) test sequences; "
        + "baseline MSE \(String(format: "%.4f", 1.0 / 6))")

var curves: [Curve] = []
for name in selected {
    // Every model sees the same training batches and draws its weights from the same seed.
    var generator = SeededGenerator(seed: seed)
    do {
        switch name {
        case "cornn":
            let cell = CoRNNCell<Float>(
                inputSize: 2, hiddenSize: hidden, stiffness: 66, damping: 15, initialization: .pytorch, using: &generator)
            curves.append(
                try run(
                    name, cell, integration: .fixed(partitioned: .symplecticEuler, timeStep: 0.06), learningRate: 0.02,
                    test: test, generator: &generator))
        case "lem":
            let cell = LEMCell<Float>(inputSize: 2, hiddenSize: hidden, using: &generator)
            curves.append(
                try run(
                    name, cell, integration: .fixed(partitioned: .symplecticEuler, timeStep: lemStep), learningRate: 0.002,
                    test: test, generator: &generator))
        case "antisymmetric":
            let cell = AntisymmetricRNNCell<Float>(
                inputSize: 2, hiddenSize: hidden, gated: true, diffusion: 0.01, initialization: .pytorch, using: &generator)
            curves.append(
                try run(
                    name, cell, integration: .fixed(.euler, timeStep: 0.1), learningRate: 0.002, test: test,
                    generator: &generator))
        case "lstm":
            let cell = LSTMCell<Float>(inputSize: 2, hiddenSize: hidden, initialization: .pytorch, using: &generator)
            curves.append(try run(name, cell, integration: .discrete, learningRate: 0.002, test: test, generator: &generator))
        default:
            let cell = GRUCell<Float>(inputSize: 2, hiddenSize: hidden, initialization: .pytorch, using: &generator)
            curves.append(try run(name, cell, integration: .discrete, learningRate: 0.002, test: test, generator: &generator))
        }
    } catch {
        cli.exitWithError("\(name): \(error)")
    }
}

// MARK: - Summary, figure, table

say()
say("model          final test MSE   best test MSE   training s")
for curve in curves {
    say(
        curve.name.padding(toLength: 14, withPad: " ", startingAt: 0)
            + String(format: " %14.6f   %13.6f   %10.1f", curve.testMSE.last!, curve.testMSE.min()!, curve.seconds))
}

let outputFolder = URL(fileURLWithPath: arguments.string("out")!, isDirectory: true)
do {
    var plot = Plot(title: "Adding problem, T = \(length)", xLabel: "training step", yLabel: "test MSE")
    plot.yScale = .logarithmic
    for curve in curves {
        plot.addLine(x: curve.steps.map(Double.init), y: curve.testMSE.map { Swift.max($0, 1e-8) }, label: curve.name)
    }
    let lastStep = Double(curves.map { $0.steps.last ?? 0 }.max() ?? 0)
    plot.addLine(x: [0, Swift.max(lastStep, 1)], y: [1.0 / 6, 1.0 / 6], label: "baseline 1/6", color: .gray, style: .dashed)
    plot.legend = .outsideRight
    try plot.write(to: outputFolder.appendingPathComponent("test-mse.svg"), createDirectories: true)
    var columns: [(name: String, values: [Double?])] = []
    let evaluations = curves.map(\.steps.count).max() ?? 0
    columns.append(("step", (0..<evaluations).map { i in curves.first { i < $0.steps.count }.map { Double($0.steps[i]) } }))
    for curve in curves {
        columns.append((curve.name, (0..<evaluations).map { $0 < curve.testMSE.count ? curve.testMSE[$0] : nil }))
    }
    try CSVTable(columns: columns).write(to: outputFolder.appendingPathComponent("test-mse.csv"), createDirectories: true)
    say("Wrote \(outputFolder.appendingPathComponent("test-mse.svg").path) and test-mse.csv")
} catch {
    cli.exitWithError("could not write the figure or the table: \(error)")
}

if arguments.flag("json") {
    let results = curves.map { curve in
        (curve.name, JSONValue.object([("test_mse", .number(curve.testMSE.last!)), ("seconds", .number(curve.seconds))]))
    }
    print(
        JSONValue.object([
            ("results", .object(results)), ("length", .integer(length)), ("steps", .integer(steps)),
            ("hidden", .integer(hidden)),
        ]).text)
}
