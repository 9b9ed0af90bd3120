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

let parameterNames = SuArticle.parameterNames
let trueParameters = SuArticle.trueParameters
let articleGuess = SuArticle.initialGuess
let articleData = SuArticle.table

// MARK: - Options

let cli = {
    var cli = CommandLineInterface(
        command: "infer-parameters",
        summary: """
            Recovers the six parameters of Su Jianlin's competition model from observations (the article's seven
            time points by default). Prints the recovered parameters beside the true ones, the loss and the time,
            and writes an SVG of the observations and the fitted trajectories.
            """)
    cli.option(
        "data", placeholder: "FILE.csv",
        help: "Observations with header t,x1,x2; empty cells are missing. The first row is the initial state.")
    cli.option(
        "method", placeholder: "NAME", default: "dopri5",
        help: "Integration scheme: euler, midpoint, heun, ralston, rk4, bosh3, dopri5, tsit5.")
    cli.option("dt", placeholder: "STEP", help: "A fixed step size (default: adaptive steps, which need bosh3, dopri5 or tsit5).")
    cli.option("rtol", placeholder: "TOL", default: "1e-8", help: "Relative and absolute tolerance of adaptive steps.")
    cli.option("optimizer", placeholder: "NAME", default: "lm", help: "lm (Levenberg–Marquardt), adam, rmsprop or sgd.")
    cli.option(
        "lr", placeholder: "RATE", help: "Learning rate of adam/rmsprop/sgd (default 1e-3 for adam and rmsprop, 1e-2 for sgd).")
    cli.option("epochs", placeholder: "N", help: "Iterations: default 200 for lm, 10000 for the others.")
    cli.option(
        "parameterization", placeholder: "KIND", default: "auto",
        help:
            "log (train log θ, so 0.3 and 1e-4 move alike), raw (train θ itself, as the article) or auto (log for lm, raw otherwise)."
    )
    cli.option(
        "initial", placeholder: "LIST",
        help: "Initial guess, six comma-separated numbers (default the article's 0.1,0.1,0.001,0.001,0.001,0.001).")
    cli.option(
        "horizon", placeholder: "T",
        help: "Integrate to this time (default 50, the article's 50 steps of h = 1, or the last observation of --data).")
    cli.option(
        "out", placeholder: "DIR", default: "infer-parameters-output",
        help: "Folder for the SVG figure and the fitted trajectory CSV.")
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
    cli.exitWithError("\(error)")
}

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
let logarithmic: Bool
switch arguments.string("parameterization")!.lowercased() {
case "log": logarithmic = true
case "raw": logarithmic = false
case "auto": logarithmic = optimizerName == "lm"
case let other: fail("unknown parameterization '\(other)'; choose log, raw or auto")
}
let learningRate: Double
let epochs: Int
let guess: [Double]
let requestedHorizon: Double?
do {
    learningRate = try arguments.double("lr") ?? (optimizerName == "sgd" ? 1e-2 : 1e-3)
    epochs = try arguments.int("epochs") ?? (optimizerName == "lm" ? 200 : 10_000)
    guess = try arguments.doubles("initial") ?? articleGuess
    requestedHorizon = try arguments.double("horizon") ?? (usesArticleData ? 50 : nil)
} catch {
    fail(error.description)
}
guard learningRate > 0 else { fail("--lr must be positive, got \(learningRate)") }
guard epochs >= 0 else { fail("--epochs must be ≥ 0, got \(epochs)") }
guard guess.count == 6 else { fail("--initial needs six numbers, got \(guess.count)") }
if logarithmic && guess.contains(where: { $0 <= 0 }) {
    fail("log-parameterization needs a positive initial guess, got \(guess)")
}
let fit: CompetitionFit
do {
    fit = try CompetitionFit(data, method: method, step: step, horizon: requestedHorizon, logarithmic: logarithmic)
} catch {
    fail(error.description)
}
let observations = fit.observations
let times = observations.times
let horizon = fit.outputTimes.last!

// MARK: - The fit
//
// Residuals and their Jacobian come from solves of the model with forward sensitivities (dual
// numbers on SIMD2 states): the Jacobian costs one solve, not one backward pass per residual.

var phi = fit.unconstrained(guess)
let clock = Stopwatch()
var iterations = 0
var stopMessage = ""
if optimizerName == "lm" {
    var progress = ProgressReporter(label: "levenberg-marquardt", total: nil, style: quiet ? .quiet : .automatic)
    let result = LevenbergMarquardt<Double>(maxIterations: epochs).minimize(
        from: phi,
        progress: { report in progress.update(step: report.iteration, loss: Double(report.cost)) },
        residuals: fit.residuals, jacobian: { fit.residualsAndJacobian($0).jacobian })
    phi = result.parameters.scalars
    iterations = result.iterations
    stopMessage = result.status.description
    progress.finish("\(result.iterations) iterations — \(result.status)")
} else {
    let criteria = StoppingCriteria<Double>(maxSteps: epochs)
    let progressStyle: ProgressStyle = quiet ? .quiet : .automatic
    let result: TrainingResult<Double>
    switch optimizerName {
    case "adam":
        var optimizer = Adam<Double>(learningRate: learningRate)
        result = train(&phi, optimizer: &optimizer, until: criteria, progress: progressStyle, label: "adam") { phi, _ in
            fit.lossAndGradient(phi)
        }
    case "rmsprop":
        var optimizer = RMSprop<Double>(learningRate: learningRate)
        result = train(&phi, optimizer: &optimizer, until: criteria, progress: progressStyle, label: "rmsprop") {
            phi, _ in fit.lossAndGradient(phi)
        }
    default:
        var optimizer = SGD<Double>(learningRate: learningRate)
        result = train(&phi, optimizer: &optimizer, until: criteria, progress: progressStyle, label: "sgd") { phi, _ in
            fit.lossAndGradient(phi)
        }
    }
    iterations = result.steps
    stopMessage = result.stopReason.description
    if result.stopReason.isFailure {
        cli.warn("training stopped early: \(result.stopReason)")
    }
}
let seconds = clock.seconds
let fitted = fit.parameters(phi)
let loss = fit.residuals(phi).reduce(0) { $0 + $1 * $1 }

// MARK: - Report

func scientific(_ value: Double) -> String { String(format: "%.4e", value) }
let stepDescription: String
switch step.mode {
case .fixed(let dt): stepDescription = "fixed Δt = \(dt)"
case .adaptive(let settings): stepDescription = "adaptive, rtol = atol = \(settings.rtol)"
}
say("Competition model, \(fit.residualCount) observations at \(times.count - 1) times after t = \(times[0]).")
say(
    "Scheme: \(method.name), \(stepDescription), to t = \(horizon). Optimizer: \(optimizerName)"
        + (optimizerName == "lm" ? "" : ", learning rate \(learningRate)")
        + ", \(logarithmic ? "log" : "raw") parameters.")
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
say(
    "\(iterations) \(optimizerName == "lm" ? "iterations" : "epochs") in \(String(format: "%.3f", seconds)) s"
        + (iterations > 0 ? String(format: " (%.4f ms each)", seconds / Double(iterations) * 1000) : "") + " — \(stopMessage)")

// Figure and fitted trajectory.
let outputFolder = URL(fileURLWithPath: arguments.string("out")!, isDirectory: true)
do {
    let denseTimes = Array(stride(from: times[0], through: horizon, by: (horizon - times[0]) / 500))
    let curve = try solve(
        CompetitionModel().withParameters(fitted), initialState: fit.initialState, times: denseTimes, method: .dopri5,
        step: .adaptive(rtol: 1e-10, atol: 1e-10), maxSteps: 100_000
    ).checked()
    let x1 = curve.states.map(\.x)
    let x2 = curve.states.map(\.y)
    try CSVTable(columns: [("t", denseTimes), ("x1", x1), ("x2", x2)])
        .write(to: outputFolder.appendingPathComponent("fitted.csv"), createDirectories: true)
    var plot = Plot(
        title: "Competition model fitted to the observations (\(optimizerName), \(method.name))", xLabel: "t",
        yLabel: "population")
    plot.addLine(x: curve.times, y: x1, label: "x₁ fitted", color: .blue)
    plot.addLine(x: curve.times, y: x2, label: "x₂ fitted", color: .orange)
    for (variable, name) in ["x₁", "x₂"].enumerated() {
        let observed = times.indices.compactMap { k in observations.value(time: k, variable: variable).map { (times[k], $0) } }
        plot.addScatter(
            x: observed.map(\.0), y: observed.map(\.1), label: "\(name) observed", color: variable == 0 ? .blue : .orange,
            radius: 5, marker: variable == 0 ? .circle : .square)
    }
    plot.legend = .bottomRight
    try plot.write(to: outputFolder.appendingPathComponent("fit.svg"), createDirectories: true)
    say("Wrote \(outputFolder.appendingPathComponent("fit.svg").path) and fitted.csv")
} catch {
    cli.exitWithError("could not write the figure: \(error)")
}

if arguments.flag("json") {
    print(
        JSONValue.object([
            ("params", .numbers(fitted)), ("loss", .number(loss)), ("seconds", .number(seconds)),
            ("epochs", .integer(iterations)),
        ]).text)
}
