// Su Jianlin's inverse problem: recover the six parameters of the competition model (eq. 7 of
// “貌离神合的RNN与ODE”) from seven observed time points. “Forward propagation solves the ODE,
// backpropagation infers its parameters.”
//
// Default: Levenberg–Marquardt on log-parameters, adaptive Dormand–Prince. The article's exact
// setup — an Euler RNN with h = 1, Adam with learning rate 1e-4, 10,000 epochs — is
//     infer-parameters --method euler --dt 1 --optimizer adam --lr 1e-4 --epochs 10000

import ExampleSupport
import Foundation
import RNNODE

/// The competition model's six parameters θ = (r₁, r₂, a₁, a₂, 1/N₁, 1/N₂), stored as an
/// unconstrained vector φ with θ = transform(φ).
struct CompetitionParameters: Trainable, Sendable {
    typealias Scalar = Double
    var raw: Tensor<Double>
    let transform: ParameterTransform

    init(_ parameters: [Double], transform: ParameterTransform) {
        self.transform = transform
        raw = transform.inverse(Tensor(parameters))
    }

    /// θ (differentiable in φ).
    var values: Tensor<Double> { transform(raw) }
    var parameterPaths: [ParameterPath<Self>] { [.init("raw", \.raw)] }

    /// Su's step_do for both species at once, clipped at ±1e5 as in the article. θ is split once per
    /// solve, not at every evaluation.
    var field: FieldClosure<Tensor<Double>> {
        let theta = values
        let r = theta[.range(0..<2)]
        let a = theta[.range(2..<4)]
        let inverseN = theta[.range(4..<6)]
        return FieldClosure(parameters: ["θ": theta]) { _, x in
            clip(r * x * (1 - inverseN * x) - a * x * x.reversed(alongAxis: 0), -1e5, 1e5)
        }
    }
}

let parameterNames = ["r1", "r2", "a1", "a2", "1/N1", "1/N2"]
let trueParameters = [0.1, 0.3, 1e-4, 2e-4, 0.002, 0.003]
let articleGuess = [0.1, 0.1, 0.001, 0.001, 0.001, 0.001]

/// The article's table (time: x₁, x₂).
let articleData = CSVTable(
    header: ["t", "x1", "x2"],
    rows: [
        [0, 100, 150], [10, 165, 283], [15, 197, 290], [30, 280, 276], [36, 305, 269], [40, 318, 266],
        [42, 324, 264],
    ])

// MARK: - Options

let cli = {
var cli = CommandLineInterface(
    command: "infer-parameters",
    summary: """
        Recovers the six parameters of Su Jianlin's competition model from observations (the article's seven
        time points by default). Prints the recovered parameters beside the true ones, the loss and the time,
        and writes an SVG of the observations and the fitted trajectories.
        """)
cli.option("data", placeholder: "FILE.csv", help: "Observations with header t,x1,x2; empty cells are missing. The first row is the initial state.")
cli.option("method", placeholder: "NAME", default: "dopri5", help: "Integration scheme: euler, midpoint, heun, ralston, rk4, bosh3, dopri5, tsit5.")
cli.option("dt", placeholder: "STEP", help: "A fixed step size (default: adaptive steps, which need bosh3, dopri5 or tsit5).")
cli.option("rtol", placeholder: "TOL", default: "1e-8", help: "Relative and absolute tolerance of adaptive steps.")
cli.option("optimizer", placeholder: "NAME", default: "lm", help: "lm (Levenberg–Marquardt), adam, rmsprop or sgd.")
cli.option("lr", placeholder: "RATE", help: "Learning rate of adam/rmsprop/sgd (default 1e-3 for adam and rmsprop, 1e-2 for sgd).")
cli.option("epochs", placeholder: "N", help: "Iterations: default 200 for lm, 10000 for the others.")
cli.option(
    "parameterization", placeholder: "KIND", default: "auto",
    help: "log (train log θ, so 0.3 and 1e-4 move alike), raw (train θ itself, as the article) or auto (log for lm, raw otherwise).")
cli.option("initial", placeholder: "LIST", help: "Initial guess, six comma-separated numbers (default the article's 0.1,0.1,0.001,0.001,0.001,0.001).")
cli.option("horizon", placeholder: "T", help: "Integrate to this time (default 50, the article's 50 steps of h = 1, or the last observation of --data).")
cli.option("out", placeholder: "DIR", default: "infer-parameters-output", help: "Folder for the SVG figure and the fitted trajectory CSV.")
cli.flag("json", help: "Print {\"params\", \"loss\", \"seconds\", \"epochs\"} as the last line.")
cli.flag("quiet", help: "No progress or table (errors and --json still print).")
return cli
}()
let arguments = cli.parseOrExit()

func fail(_ message: String) -> Never { cli.exitWithUsageError(message) }

let quiet = arguments.flag("quiet")
func say(_ text: String = "") { if !quiet { print(text) } }

let data: CSVTable
let usesArticleData = arguments.string("data") == nil
do {
    data = try arguments.string("data").map { try CSVTable.read(from: URL(fileURLWithPath: $0)) } ?? articleData
} catch {
    FileHandle.standardError.write(Data("infer-parameters: \(error)\n".utf8))
    exit(1)
}
guard let tColumn = data.column("t"), let x1Column = data.column("x1"), let x2Column = data.column("x2") else {
    let missing = ["t", "x1", "x2"].filter { data.column($0) == nil }
    fail("the data must have columns t, x1 and x2; missing \(missing.joined(separator: ", ")) (header: \(data.header.joined(separator: ",")))")
}
guard data.rows.count >= 2 else { fail("the data needs an initial row and at least one observation, got \(data.rows.count) rows") }
let times: [Double] = tColumn.enumerated().reduce(into: []) { times, entry in
    let (row, t) = entry
    guard let t, t.isFinite else { fail("line \(row + 2): the time is missing or not finite") }
    if let previous = times.last, t <= previous {
        fail("line \(row + 2): times must increase, got \(t) after \(previous)")
    }
    times.append(t)
}
guard let x10 = x1Column[0], let x20 = x2Column[0] else {
    fail("line 2: the first row is the initial state and needs both x1 and x2")
}
let initialState = Tensor<Double>([x10, x20])

let methodName = arguments.string("method")!.lowercased()
guard let method = ButcherTableau.builtIn[methodName] else {
    fail("unknown method '\(methodName)'; choose one of \(ButcherTableau.builtIn.keys.sorted().joined(separator: ", "))")
}
let step: StepSizeControl<Double>
do {
    if let dt = try arguments.double("dt") {
        guard dt > 0 else { fail("--dt must be positive, got \(dt)") }
        step = .fixed(dt)
    } else {
        guard method.isAdaptive else { fail("\(method.name) has no error estimate: give a fixed step with --dt") }
        let tolerance = try arguments.double("rtol")!
        guard tolerance > 0 else { fail("--rtol must be positive, got \(tolerance)") }
        step = .adaptive(rtol: tolerance, atol: tolerance)
    }
} catch {
    fail(error.description)
}
let optimizerName = arguments.string("optimizer")!.lowercased()
guard ["lm", "adam", "rmsprop", "sgd"].contains(optimizerName) else {
    fail("unknown optimizer '\(optimizerName)'; choose lm, adam, rmsprop or sgd")
}
let transform: ParameterTransform
switch arguments.string("parameterization")!.lowercased() {
case "log": transform = .logarithmic
case "raw": transform = .identity
case "auto": transform = optimizerName == "lm" ? .logarithmic : .identity
case let other: fail("unknown parameterization '\(other)'; choose log, raw or auto")
}
let learningRate: Double
let epochs: Int
let guess: [Double]
let horizon: Double
do {
    learningRate = try arguments.double("lr") ?? (optimizerName == "sgd" ? 1e-2 : 1e-3)
    epochs = try arguments.int("epochs") ?? (optimizerName == "lm" ? 200 : 10_000)
    guess = try arguments.doubles("initial") ?? articleGuess
    horizon = try arguments.double("horizon") ?? (usesArticleData ? 50 : times.last!)
} catch {
    fail(error.description)
}
guard learningRate > 0 else { fail("--lr must be positive, got \(learningRate)") }
guard epochs >= 0 else { fail("--epochs must be ≥ 0, got \(epochs)") }
guard guess.count == 6 else { fail("--initial needs six numbers, got \(guess.count)") }
if transform == .logarithmic && guess.contains(where: { $0 <= 0 }) {
    fail("log-parameterization needs a positive initial guess, got \(guess)")
}
guard horizon >= times.last! else { fail("--horizon \(horizon) ends before the last observation at \(times.last!)") }

// MARK: - The fit

/// Observed entries (flat index time·2 + species) and their values.
let observed: [(index: Int, value: Double)] = (1..<times.count).flatMap { row in
    [x1Column, x2Column].enumerated().compactMap { species, column in column[row].map { (row * 2 + species, $0) } }
}
let observedIndices = observed.map(\.index)
let observedValues = observed.map(\.value)
guard !observedIndices.isEmpty else { fail("no observations after the initial row") }
let target = Tensor<Double>(observedValues)
let outputTimes = horizon > times.last! ? times + [horizon] : times

/// Predicted minus observed at the observed entries; NaN if the solve fails (so that a wild trial
/// step is rejected rather than fatal).
func residuals(_ model: CompetitionParameters) -> Tensor<Double> {
    guard
        let solution = try? solve(
            model.field, initialState: initialState, times: outputTimes, method: method, step: step, maxSteps: 20_000),
        solution.succeeded
    else {
        return Tensor(repeating: .nan, shape: [observedIndices.count])
    }
    let predicted = Tensor(stacking: Array(solution.states.prefix(times.count))).reshaped(to: [-1])
    return predicted.gathering(observedIndices, alongAxis: 0) - target
}

var model = CompetitionParameters(guess, transform: transform)
let clock = Stopwatch()
var iterations = 0
var stopMessage = ""
if optimizerName == "lm" {
    var progress = ProgressReporter(label: "levenberg-marquardt", total: nil, style: quiet ? .quiet : .automatic)
    let fit = LevenbergMarquardt<Double>(maxIterations: epochs).minimize(&model, progress: { report in
        progress.update(step: report.iteration, loss: Double(report.cost))
    }) { model in residuals(model) }
    iterations = fit.iterations
    stopMessage = fit.status.description
    progress.finish("\(fit.iterations) iterations — \(fit.status)")
} else {
    let criteria = StoppingCriteria<Double>(maxSteps: epochs)
    let lossFunction: (CompetitionParameters, inout SeededGenerator) throws -> Tensor<Double> = { model, _ in
        square(residuals(model)).sum()
    }
    let progressStyle: ProgressStyle = quiet ? .quiet : .automatic
    let result: TrainingResult<Double>
    switch optimizerName {
    case "adam":
        var optimizer = Adam<Double>(learningRate: learningRate)
        result = train(&model, optimizer: &optimizer, until: criteria, progress: progressStyle, label: "adam", loss: lossFunction)
    case "rmsprop":
        var optimizer = RMSprop<Double>(learningRate: learningRate)
        result = train(&model, optimizer: &optimizer, until: criteria, progress: progressStyle, label: "rmsprop", loss: lossFunction)
    default:
        var optimizer = SGD<Double>(learningRate: learningRate)
        result = train(&model, optimizer: &optimizer, until: criteria, progress: progressStyle, label: "sgd", loss: lossFunction)
    }
    iterations = result.steps
    stopMessage = result.stopReason.description
    if result.stopReason.isFailure {
        FileHandle.standardError.write(Data("infer-parameters: training stopped early: \(result.stopReason)\n".utf8))
    }
}
let seconds = clock.seconds
let fitted = model.values.scalars
let finalResiduals = residuals(model)
let loss = square(finalResiduals).sum().scalar

// MARK: - Report

func scientific(_ value: Double) -> String { String(format: "%.4e", value) }
let stepDescription: String
switch step.mode {
case .fixed(let dt): stepDescription = "fixed Δt = \(dt)"
case .adaptive(let settings): stepDescription = "adaptive, rtol = atol = \(settings.rtol)"
}
say("Competition model, \(observedIndices.count) observations at \(times.count - 1) times after t = \(times[0]).")
say("Scheme: \(method.name), \(stepDescription), to t = \(horizon). Optimizer: \(optimizerName)"
    + (optimizerName == "lm" ? "" : ", learning rate \(learningRate)")
    + ", \(transform == .logarithmic ? "log" : "raw") parameters.")
say()
if usesArticleData {
    say("parameter      recovered           true    rel. error")
    for i in 0..<6 {
        let relative = Swift.abs(fitted[i] - trueParameters[i]) / trueParameters[i]
        say(
            parameterNames[i].padding(toLength: 8, withPad: " ", startingAt: 0) + "  " + scientific(fitted[i])
                + "   " + scientific(trueParameters[i]) + "   " + String(format: "%8.2f%%", 100 * relative))
    }
} else {
    say("parameter      recovered")
    for i in 0..<6 { say(parameterNames[i].padding(toLength: 8, withPad: " ", startingAt: 0) + "  " + scientific(fitted[i])) }
}
say()
say("loss (sum of squared errors over the observed points): \(String(format: "%.6f", loss))")
say("\(iterations) \(optimizerName == "lm" ? "iterations" : "epochs") in \(String(format: "%.3f", seconds)) s"
    + (iterations > 0 ? String(format: " (%.4f ms each)", seconds / Double(iterations) * 1000) : "") + " — \(stopMessage)")

// Figure and fitted trajectory.
let outputFolder = URL(fileURLWithPath: arguments.string("out")!, isDirectory: true)
do {
    let denseTimes = Array(stride(from: times[0], through: horizon, by: (horizon - times[0]) / 500))
    let curve = try solve(
        model.field, initialState: initialState, times: denseTimes, method: .dopri5, step: .adaptive(rtol: 1e-10, atol: 1e-10),
        maxSteps: 100_000
    ).checked()
    let x1 = curve.states.map { $0.scalars[0] }
    let x2 = curve.states.map { $0.scalars[1] }
    try CSVTable(columns: [("t", denseTimes), ("x1", x1), ("x2", x2)])
        .write(to: outputFolder.appendingPathComponent("fitted.csv"), createDirectories: true)
    var plot = Plot(
        title: "Competition model fitted to the observations (\(optimizerName), \(method.name))", xLabel: "t",
        yLabel: "population")
    plot.addLine(x: curve.times, y: x1, label: "x₁ fitted", color: .blue)
    plot.addLine(x: curve.times, y: x2, label: "x₂ fitted", color: .orange)
    let observedTimes1 = zip(times, x1Column).compactMap { $1 == nil ? nil : $0 }
    let observedTimes2 = zip(times, x2Column).compactMap { $1 == nil ? nil : $0 }
    plot.addScatter(x: observedTimes1, y: x1Column.compactMap { $0 }, label: "x₁ observed", color: .blue, radius: 5)
    plot.addScatter(x: observedTimes2, y: x2Column.compactMap { $0 }, label: "x₂ observed", color: .orange, radius: 5, marker: .square)
    plot.legend = .bottomRight
    try plot.write(to: outputFolder.appendingPathComponent("fit.svg"), createDirectories: true)
    say("Wrote \(outputFolder.appendingPathComponent("fit.svg").path) and fitted.csv")
} catch {
    FileHandle.standardError.write(Data("infer-parameters: could not write the figure: \(error)\n".utf8))
    exit(1)
}

if arguments.flag("json") {
    print(
        JSONValue.object([
            ("params", .numbers(fitted)), ("loss", .number(loss)), ("seconds", .number(seconds)),
            ("epochs", .integer(iterations)),
        ]).text)
}
