// LEM's FitzHugh–Nagumo task (Rusch et al., ICLR 2022, and its reference code): one-step-ahead
// prediction of the fast variable v of the FitzHugh–Nagumo neuron,
//
//     v′ = v − v³/3 − w + I,   w′ = ε (v + a − b w),   I = 0.5, a = 0.7, b = 0.8, ε = 1/50,
//
// a relaxation oscillator whose slow and fast phases differ by the factor 1/ε = 50. Each sequence
// starts from (v, w) = (U(−1, 1), 0) and is sampled every 0.4, at T + 1 times on [0, 0.4 T]
// ([0, 400] for T = 1000); the input is v at the first T times and the target v at the last T. The
// reference code draws 128 training, 128 validation and 1024 test sequences and integrates them
// with SciPy's RK45 at its default tolerances; here the library's Dopri5 solves them at rtol 1e-8.
// Every model is a recurrent layer (16 units) and a Dense readout of every output, trained with
// Adam at the reference's learning rate 0.00904 on batches of 32 for 1000 epochs (the reference
// code's default is 400, after which every model here is still improving); the reported
// figure is the test L² error (the root mean square error, over the whole test set) of the epoch
// with the best validation error, as the reference reports it. LEM runs its published step,
// symplectic Euler with Δt = 1.

import ExampleSupport
import Foundation
import RNNODE

// MARK: - Options

let modelNames = ["lem", "lstm", "gru"]
let cli = {
    var cli = CommandLineInterface(
        command: "fitzhugh-nagumo",
        summary: """
            Trains LEM, an LSTM and a GRU to predict the FitzHugh–Nagumo neuron's fast variable one step ahead (LEM's \
            multiscale task) and compares their test L² error (RMSE) at the best validation epoch. Prints progress, \
            writes SVG figures and a CSV of the validation curves.
            """)
    cli.option(
        "epochs", placeholder: "N", default: "1000",
        help: "Training epochs (passes over the training set; the reference code's default is 400).")
    cli.option(
        "models", placeholder: "LIST", default: modelNames.joined(separator: ","),
        help: "Comma-separated models to train, from \(modelNames.joined(separator: ", ")).")
    cli.option("length", placeholder: "T", default: "1000", help: "Steps per sequence (samples every 0.4 time units).")
    cli.option("train", placeholder: "N", default: "128", help: "Training sequences.")
    cli.option("test", placeholder: "N", default: "1024", help: "Test sequences (the validation set has --train).")
    cli.option("batch", placeholder: "B", default: "32", help: "Sequences per training batch.")
    cli.option("hidden", placeholder: "H", default: "16", help: "Units of each recurrent layer.")
    cli.option("lr", placeholder: "RATE", default: "0.00904", help: "Adam's learning rate (the reference's).")
    cli.option("seed", placeholder: "S", default: "0", help: "Seeds the data, the shuffling and the initializations.")
    cli.option("out", placeholder: "DIR", default: "fitzhugh-nagumo-output", help: "Folder for the figures and the CSV.")
    cli.flag("quick", help: "A short run for CI: T = 100, 16 training and 32 test sequences, 8 units, 3 epochs.")
    cli.flag(
        "json",
        help: "Print {\"results\": {MODEL: {\"test_l2\", \"seconds\"}}, \"length\", \"epochs\", \"hidden\"} as the last line.")
    cli.flag("quiet", help: "No progress or summary (errors and --json still print).")
    return cli
}()
let arguments = cli.parseOrExit()
func fail(_ message: String) -> Never { cli.exitWithUsageError(message) }

let quick = arguments.flag("quick")
let epochs: Int
let length: Int
let trainCount: Int
let testCount: Int
let batch: Int
let hidden: Int
let learningRate: Float
let selected: [String]
do {
    epochs = quick ? 3 : try arguments.int("epochs")!
    length = quick ? 100 : try arguments.int("length")!
    trainCount = quick ? 16 : try arguments.int("train")!
    testCount = quick ? 32 : try arguments.int("test")!
    batch = try arguments.int("batch")!
    hidden = quick ? 8 : try arguments.int("hidden")!
    learningRate = Float(try arguments.double("lr")!)
    selected = try arguments.names("models", from: modelNames)!
} catch {
    fail(error.description)
}
guard epochs >= 1 else { fail("--epochs must be positive, got \(epochs)") }
guard length >= 1, trainCount >= 1, testCount >= 1, batch >= 1, hidden >= 1 else {
    fail("--length, --train, --test, --batch and --hidden must be positive")
}
guard learningRate > 0 && learningRate.isFinite else { fail("--lr must be positive, got \(learningRate)") }
guard let seed = UInt64(arguments.string("seed")!) else { fail("--seed must be a non-negative integer") }
let quiet = arguments.flag("quiet")
func say(_ text: String = "") { if !quiet { print(text) } }

// MARK: - Data

/// The FitzHugh–Nagumo neuron with the reference code's constants.
func fitzHughNagumo(_ t: Double, _ u: SIMD2<Double>) -> SIMD2<Double> {
    let (v, w) = (u.x, u.y)
    return SIMD2(v - v * v * v / 3 - w + 0.5, (v + 0.7 - 0.8 * w) / 50)
}

/// The sample times: T + 1 points on [0, 0.4·T].
let sampleTimes = (0...length).map { Double($0) * 0.4 }

/// `count` sequences: inputs v(t₀…t_{T−1}) `[count, T, 1]`, targets v(t₁…t_T) `[count, T, 1]`.
func sequences(_ count: Int, using generator: inout SeededGenerator) throws -> (x: Tensor<Float>, y: Tensor<Float>) {
    var x = [Float]()
    var y = [Float]()
    x.reserveCapacity(count * length)
    y.reserveCapacity(count * length)
    for _ in 0..<count {
        let start = SIMD2(generator.nextUnitDouble() * 2 - 1, 0)
        let solution = try solve(
            FieldClosure(fitzHughNagumo), initialState: start, times: sampleTimes,
            step: .adaptive(rtol: 1e-8, atol: 1e-10))
        guard solution.succeeded else {
            cli.exitWithError("the FitzHugh–Nagumo solve from v = \(start.x) stopped: \(solution.status)")
        }
        let v = solution.states.map { Float($0.x) }
        x += v[0..<length]
        y += v[1...length]
    }
    return (Tensor(shape: [count, length, 1], scalars: x), Tensor(shape: [count, length, 1], scalars: y))
}

let data:
    (
        train: (x: Tensor<Float>, y: Tensor<Float>), valid: (x: Tensor<Float>, y: Tensor<Float>),
        test: (x: Tensor<Float>, y: Tensor<Float>)
    )
do {
    var generator = SeededGenerator(seed: seed &+ 1000)
    let clock = Stopwatch()
    data = (
        try sequences(trainCount, using: &generator), try sequences(trainCount, using: &generator),
        try sequences(testCount, using: &generator)
    )
    say(
        String(
            format: "FitzHugh–Nagumo: %d training, %d validation and %d test sequences of %d steps (Dopri5, %.1f s)",
            trainCount, trainCount, testCount, length, clock.seconds))
} catch {
    cli.exitWithError("could not generate the data: \(error)")
}

// MARK: - Models

/// One model's run: the validation L² after every epoch, the training time, and the test L² and
/// the prediction of the first test sequence of the model at its best validation epoch.
struct Curve {
    var name: String
    var validL2: [Double] = []
    var seconds: Double = 0
    var bestEpoch = 0
    var testL2 = Double.nan
    var prediction: [Float] = []
}

/// The rows `indices` of a `[count, T, 1]` tensor.
func rows(_ tensor: Tensor<Float>, _ indices: ArraySlice<Int>) -> Tensor<Float> {
    let scalars = tensor.scalars
    var out = [Float]()
    out.reserveCapacity(indices.count * length)
    for i in indices { out += scalars[(i * length)..<((i + 1) * length)] }
    return Tensor(shape: [indices.count, length, 1], scalars: out)
}

/// Trains `cell` with a Dense readout of every output for `epochs` epochs (the training set
/// shuffled each epoch), evaluating the validation L² after each; the model of the best epoch is
/// kept and evaluated on the test set at the end.
func run<Cell: RecurrentCell>(
    _ name: String, _ cell: Cell, integration: CellIntegration<Float>, generator: inout SeededGenerator
) throws -> Curve where Cell.Scalar == Float {
    var model = RecurrentRegression(
        layer: RecurrentLayer(cell, integration: integration),
        head: Dense(inputSize: hidden, outputSize: 1, using: &generator), everyStep: true)
    var optimizer = Adam<Float>(learningRate: learningRate)
    var curve = Curve(name: name)
    var best = model
    var order = Array(0..<trainCount)
    for epoch in 0..<epochs {
        order.shuffle(using: &generator)
        let clock = Stopwatch()
        for start in stride(from: 0, to: trainCount, by: batch) {
            let indices = order[start..<Swift.min(start + batch, trainCount)]
            let norm = try model.trainStep(rows(data.train.x, indices), rows(data.train.y, indices), optimizer: &optimizer)
            guard norm.isFinite else { cli.exitWithError("\(name): the gradient became \(norm) in epoch \(epoch + 1)") }
        }
        curve.seconds += clock.seconds
        let valid = Double(squaredError(try model.predict(data.valid.x), data.valid.y).scalar).squareRoot()
        curve.validL2.append(valid)
        if valid <= curve.validL2[curve.bestEpoch] { (best, curve.bestEpoch) = (model, epoch) }
        if epoch % 10 == 9 || epoch == epochs - 1 || epoch == 0 {
            say(
                String(
                    format: "%@ epoch %4d  valid L² %.5f  best %.5f (epoch %d)  (%.1f s)", name, epoch + 1, valid,
                    curve.validL2[curve.bestEpoch], curve.bestEpoch + 1, curve.seconds))
        }
    }
    let prediction = try best.predict(data.test.x)
    curve.testL2 = Double(squaredError(prediction, data.test.y).scalar).squareRoot()
    curve.prediction = Array(prediction.scalars[0..<length])
    say(String(format: "%@ test L² %.5f (the model of epoch %d)", name, curve.testL2, curve.bestEpoch + 1))
    return curve
}

var curves: [Curve] = []
for name in selected {
    // Every model draws its weights and its batches from the same seed.
    var generator = SeededGenerator(seed: seed)
    do {
        switch name {
        case "lem":
            let cell = LEMCell<Float>(inputSize: 1, hiddenSize: hidden, using: &generator)
            curves.append(
                try run(name, cell, integration: .fixed(partitioned: .symplecticEuler, timeStep: 1), generator: &generator))
        case "lstm":
            let cell = LSTMCell<Float>(inputSize: 1, hiddenSize: hidden, initialization: .pytorch, using: &generator)
            curves.append(try run(name, cell, integration: .discrete, generator: &generator))
        default:
            let cell = GRUCell<Float>(inputSize: 1, hiddenSize: hidden, initialization: .pytorch, using: &generator)
            curves.append(try run(name, cell, integration: .discrete, generator: &generator))
        }
    } catch {
        cli.exitWithError("\(name): \(error)")
    }
}

// MARK: - Summary, figures, table

say()
say("model    test L² (best validation epoch)   best epoch   training s")
for curve in curves {
    say(
        curve.name.padding(toLength: 8, withPad: " ", startingAt: 0)
            + String(format: " %32.5f   %10d   %10.1f", curve.testL2, curve.bestEpoch + 1, curve.seconds))
}

let outputFolder = URL(fileURLWithPath: arguments.string("out")!, isDirectory: true)
do {
    var plot = Plot(title: "FitzHugh–Nagumo, T = \(length)", xLabel: "epoch", yLabel: "validation L² (RMSE)")
    plot.yScale = .logarithmic
    for curve in curves {
        plot.addLine(
            x: (1...curve.validL2.count).map(Double.init), y: curve.validL2.map { Swift.max($0, 1e-8) }, label: curve.name)
    }
    plot.legend = .outsideRight
    try plot.write(to: outputFolder.appendingPathComponent("valid-l2.svg"), createDirectories: true)

    var trace = Plot(title: "First test sequence", xLabel: "t", yLabel: "v(t + 0.4)")
    let times = (1...length).map { Double($0) * 0.4 }
    trace.addLine(x: times, y: data.test.y.scalars[0..<length].map(Double.init), label: "truth", color: .gray, style: .dashed)
    for curve in curves { trace.addLine(x: times, y: curve.prediction.map(Double.init), label: curve.name) }
    trace.legend = .outsideRight
    try trace.write(to: outputFolder.appendingPathComponent("prediction.svg"), createDirectories: true)

    var columns: [(name: String, values: [Double?])] = [("epoch", (1...epochs).map { Double($0) })]
    for curve in curves {
        columns.append((curve.name, curve.validL2.map { $0 }))
    }
    try CSVTable(columns: columns).write(to: outputFolder.appendingPathComponent("l2.csv"), createDirectories: true)
    say("Wrote valid-l2.svg, prediction.svg and l2.csv in \(outputFolder.path)")
} catch {
    cli.exitWithError("could not write the figures or the table: \(error)")
}

if arguments.flag("json") {
    let results = curves.map { curve in
        (curve.name, JSONValue.object([("test_l2", .number(curve.testL2)), ("seconds", .number(curve.seconds))]))
    }
    print(
        JSONValue.object([
            ("results", .object(results)), ("length", .integer(length)), ("epochs", .integer(epochs)),
            ("hidden", .integer(hidden)),
        ]).text)
}
