// The classic neural-ODE demo (torchdiffeq's ode_demo): learn the field of a damped cubic spiral,
// dy/dt = (y³) A with A = [[−0.1, 2], [−2, −0.1]], from 1000 samples on t ∈ [0, 25], with the model
// dy/dt = MLP(y³) (2 → 50 → tanh → 2). Each iteration fits 20 random windows of 10 consecutive
// samples with an L1 loss and RMSprop.

import ExampleSupport
import Foundation
import RNNODE

// MARK: - Options

let cli = {
    var cli = CommandLineInterface(
        command: "spiral",
        summary: """
            Learns the vector field of a damped cubic spiral with a neural ODE (torchdiffeq's ode_demo). Prints
            progress, writes SVG figures (trajectories over time; phase portrait with the learned field).
            """)
    cli.option(
        "method", placeholder: "NAME", default: "rk4", help: "rk4 (fixed step) or an adaptive method: dopri5, tsit5, bosh3.")
    cli.option(
        "step", placeholder: "DT", help: "The fixed step of rk4 (default the sample spacing 25/999 ≈ 0.025: one step per sample)."
    )
    cli.option("rtol", placeholder: "TOL", default: "1e-7", help: "Relative tolerance of adaptive methods (atol = rtol/100).")
    cli.flag("adjoint", help: "Gradients by the continuous adjoint method instead of backpropagation through the steps.")
    cli.option("iters", placeholder: "N", default: "2000", help: "Training iterations.")
    cli.option(
        "average", placeholder: "DECAY", default: "0.99",
        help:
            "Keep an exponential moving average of the parameters with this decay and end with it (0: end with the last iterate)."
    )
    cli.option("seed", placeholder: "S", default: "0", help: "Seeds the network's initialization and the window sampling.")
    cli.option("out", placeholder: "DIR", default: "spiral-output", help: "Folder for the SVG figures.")
    cli.flag("json", help: "Print {\"ms_per_iter\", \"full_traj_l1\", \"iters\"} as the last line.")
    cli.flag("quiet", help: "No progress or summary (errors and --json still print).")
    return cli
}()
let arguments = cli.parseOrExit()
func fail(_ message: String) -> Never { cli.exitWithUsageError(message) }

let methodName = arguments.string("method")!.lowercased()
guard let method = ButcherTableau.builtIn[methodName] else {
    fail("unknown method '\(methodName)'; choose one of \(ButcherTableau.builtIn.keys.sorted().joined(separator: ", "))")
}
let step: StepSizeControl<Double>
let iterations: Int
let averageDecay: Double
let seed: UInt64
do {
    if method.isAdaptive && arguments.string("step") == nil {
        let rtol = try arguments.double("rtol")!
        guard rtol > 0 else { fail("--rtol must be positive") }
        step = .adaptive(rtol: rtol, atol: rtol / 100)
    } else {
        let dt = try arguments.double("step") ?? 25.0 / Double(SpiralProblem.sampleCount - 1)
        guard dt > 0 else { fail("--step must be positive, got \(dt)") }
        step = .fixed(dt)
    }
    iterations = try arguments.int("iters")!
    guard iterations >= 0 else { fail("--iters must be ≥ 0") }
    averageDecay = try arguments.double("average")!
    guard averageDecay >= 0 && averageDecay < 1 else { fail("--average must be in [0, 1), got \(averageDecay)") }
    guard let value = UInt64(arguments.string("seed")!) else { fail("--seed must be a non-negative integer") }
    seed = value
} catch {
    fail(error.description)
}
let useAdjoint = arguments.flag("adjoint")
let quiet = arguments.flag("quiet")
func say(_ text: String = "") { if !quiet { print(text) } }

// MARK: - Data and training

let problem: SpiralProblem
do {
    problem = try SpiralProblem()
} catch {
    cli.exitWithError("could not compute the data: \(error)")
}
var generator = SeededGenerator(seed: seed)
var field = SpiralField(using: &generator)
let windowTimes = problem.windowTimes

/// The states of `field` from `initialState` at `times`, stacked: [times.count, …].
func predict(_ field: SpiralField, from initialState: Tensor<Double>, at times: [Double]) throws -> Tensor<Double> {
    let gradients: GradientStrategy = useAdjoint ? .backsolveAdjoint : .backpropagation
    let solution = try solve(field, initialState: initialState, times: times, method: method, step: step, gradients: gradients)
    return Tensor(stacking: try solution.checked().states)
}

var optimizer = RMSprop<Double>(learningRate: 1e-3)
let result = train(
    &field, optimizer: &optimizer, until: StoppingCriteria(maxSteps: iterations),
    averaging: averageDecay > 0 ? .exponential(decay: averageDecay) : .none, seed: seed &+ 1,
    progress: quiet ? .quiet : .automatic, label: "spiral"
) { field, generator in
    let (initialStates, targets) = problem.batch(using: &generator)
    return absoluteError(try predict(field, from: initialStates, at: windowTimes), targets)
}
if result.stopReason.isFailure {
    cli.warn("training stopped early: \(result.stopReason)")
}
let msPerIteration = result.steps > 0 ? result.seconds / Double(result.steps) * 1000 : 0

// MARK: - Evaluation and figures

let learned: Tensor<Double>
let fullTrajectoryL1: Double
do {
    (fullTrajectoryL1, learned) = try problem.fullTrajectoryL1(field, method: method, step: step)
} catch {
    cli.exitWithError("the learned model's trajectory failed: \(error)")
}

let gradientMethod = useAdjoint ? "adjoint" : "backpropagation"
say(
    "Spiral: \(result.steps) iterations of \(SpiralProblem.windowsPerBatch) windows × \(SpiralProblem.windowLength) samples, \(method.name), \(gradientMethod)"
        + (averageDecay > 0 ? ", parameters averaged (decay \(averageDecay))" : ""))
say(
    String(
        format: "%.3f ms per iteration; final batch loss %.4f; full-trajectory L1 %.4f", msPerIteration,
        result.finalLoss ?? .nan, fullTrajectoryL1))

let outputFolder = URL(fileURLWithPath: arguments.string("out")!, isDirectory: true)
do {
    let truePoints = problem.trajectory.unstacked(alongAxis: 0).map(\.scalars)
    let trueX = truePoints.map { $0[0] }
    let trueY = truePoints.map { $0[1] }
    let times = problem.times
    let learnedPoints = learned.unstacked(alongAxis: 0).map(\.scalars)
    var overTime = Plot(title: "True and learned trajectories", xLabel: "t", yLabel: "y")
    overTime.addLine(x: times, y: trueX, label: "x true", color: .blue)
    overTime.addLine(x: times, y: trueY, label: "y true", color: .orange)
    overTime.addLine(x: times, y: learnedPoints.map { $0[0] }, label: "x learned", color: .blue, style: .dashed)
    overTime.addLine(x: times, y: learnedPoints.map { $0[1] }, label: "y learned", color: .orange, style: .dashed)
    overTime.legend = .outsideRight

    var phase = Plot(title: "Phase portrait and learned vector field", xLabel: "x", yLabel: "y", width: 560, height: 520)
    let grid = stride(from: -2.0, through: 2.0, by: 0.2).map { $0 }
    let points = grid.flatMap { x in grid.map { y in [x, y] } }
    let derivatives = field.detached(0, Tensor(points)).scalars
    phase.addQuiver(
        x: points.map { $0[0] }, y: points.map { $0[1] },
        u: stride(from: 0, to: derivatives.count, by: 2).map { derivatives[$0] },
        v: stride(from: 1, to: derivatives.count, by: 2).map { derivatives[$0] }, label: "learned field", color: .gray,
        scaling: .uniform)
    phase.addLine(x: trueX, y: trueY, label: "true", color: .blue)
    phase.addLine(x: learnedPoints.map { $0[0] }, y: learnedPoints.map { $0[1] }, label: "learned", color: .red, style: .dashed)
    phase.xRange = -2.2...2.2
    phase.yRange = -2.2...2.2
    phase.legend = .bottomRight
    try overTime.write(to: outputFolder.appendingPathComponent("trajectories.svg"), createDirectories: true)
    try phase.write(to: outputFolder.appendingPathComponent("phase.svg"), createDirectories: true)
    say("Wrote \(outputFolder.appendingPathComponent("trajectories.svg").path) and phase.svg")
} catch {
    cli.exitWithError("could not write the figures: \(error)")
}

if arguments.flag("json") {
    print(
        JSONValue.object([
            ("ms_per_iter", .number(msPerIteration)), ("full_traj_l1", .number(fullTrajectoryL1)),
            ("iters", .integer(result.steps)),
        ]).text)
}
if result.stopReason.isFailure { exit(1) }
