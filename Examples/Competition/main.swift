// Su Jianlin's two-species competition model (eq. 7 of “貌离神合的RNN与ODE”), solved as an RNN.
//
//     dx₁/dt = r₁ x₁ (1 − x₁/N₁) − a₁ x₁ x₂
//     dx₂/dt = r₂ x₂ (1 − x₂/N₂) − a₂ x₁ x₂
//
// The article runs the field as an Euler recurrence with Δt = 0.1 for 1000 steps: “the RNN's
// prediction is the ODE's solution”. Here the same field also runs through the midpoint and RK4
// schemes at several Δt, against an adaptive Dormand–Prince reference at tight tolerance, and the
// order of convergence of each scheme is measured by fitting log(error) against log(Δt).

import ExampleSupport
import Foundation
import RNNODE

/// The competition model with the article's parameters.
struct CompetitionModel: VectorField {
    var r1 = 0.1, r2 = 0.3, a1 = 1e-4, a2 = 2e-4, inverseN1 = 0.002, inverseN2 = 0.003

    func callAsFunction(_ t: Double, _ x: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(
            r1 * x.x * (1 - inverseN1 * x.x) - a1 * x.x * x.y,
            r2 * x.y * (1 - inverseN2 * x.y) - a2 * x.x * x.y)
    }
}

// MARK: - Options

var cli = CommandLineInterface(
    command: "competition",
    summary: """
        Su Jianlin's competition model solved as an Euler RNN (Δt = 0.1, 1000 steps), and through the
        midpoint and RK4 schemes at several Δt, against an adaptive Dormand–Prince reference. Prints the
        errors and the observed order of convergence of each scheme; writes CSV and SVG figures.
        """)
cli.option("out", placeholder: "DIR", default: "competition-output", help: "Folder for the CSV files and SVG figures.")
cli.option(
    "dt", placeholder: "LIST", default: "0.8,0.4,0.2,0.1,0.05",
    help: "Step sizes of the convergence study, comma-separated (at least two, all positive).")
cli.option("horizon", placeholder: "T", default: "100", help: "The end time; the article's 1000 steps of 0.1 reach 100.")
cli.option(
    "reference-tolerance", placeholder: "TOL", default: "1e-12",
    help: "rtol = atol of the Dormand–Prince reference solve.")
cli.flag("json", help: "Print a JSON summary as the last line: orders, final state, errors at Δt = 0.1.")
cli.flag("quiet", help: "Print nothing but errors (and the JSON line with --json).")
let arguments = cli.parseOrExit()

let outputFolder: URL
let stepSizes: [Double]
let horizon: Double
let referenceTolerance: Double
do {
    outputFolder = URL(fileURLWithPath: arguments.string("out")!, isDirectory: true)
    stepSizes = try arguments.doubles("dt")!.sorted(by: >)
    horizon = try arguments.double("horizon")!
    referenceTolerance = try arguments.double("reference-tolerance")!
} catch {
    cli.exitWithUsageError(error.description)
}
if stepSizes.count < 2 || stepSizes.contains(where: { $0 <= 0 }) || Set(stepSizes).count != stepSizes.count {
    cli.exitWithUsageError("--dt needs at least two distinct positive step sizes, got \(stepSizes)")
}
if horizon <= 0 { cli.exitWithUsageError("--horizon must be positive, got \(horizon)") }
if !(referenceTolerance > 0 && referenceTolerance < 1) {
    cli.exitWithUsageError("--reference-tolerance must be in (0, 1), got \(referenceTolerance)")
}
let quiet = arguments.flag("quiet")
func say(_ text: String = "") { if !quiet { print(text) } }

// MARK: - Solves

let model = CompetitionModel()
let initialState = SIMD2<Double>(100, 150)
let schemes: [(key: String, name: String, method: ButcherTableau)] = [
    ("euler", "Euler (the RNN)", .euler), ("midpoint", "midpoint", .midpoint), ("rk4", "RK4", .rk4),
]
/// Δt = 0.1 is the article's step; it is always computed, even if not in the study.
let articleStep = 0.1

/// The reference solution at the given times: Dormand–Prince 5(4), dense output.
func reference(at times: [Double]) throws -> Solution<SIMD2<Double>> {
    try solve(
        model, initialState: initialState, times: times, method: .dopri5,
        step: .adaptive(rtol: referenceTolerance, atol: referenceTolerance)
    ).checked()
}

/// A fixed-step solve and its largest error against the reference over all grid points.
func run(_ method: ButcherTableau, dt: Double) throws -> (solution: Solution<SIMD2<Double>>, maxError: Double) {
    let solution = try solve(model, initialState: initialState, from: 0, to: horizon, method: method, step: .fixed(dt))
        .checked()
    let exact = try reference(at: solution.times)
    let maxError =
        zip(solution.states, exact.states).map { Swift.max(Swift.abs($0.x - $1.x), Swift.abs($0.y - $1.y)) }
        .max() ?? 0
    return (solution, maxError)
}

/// The least-squares slope of log(error) against log(Δt).
func fittedOrder(_ steps: [Double], _ errors: [Double]) -> Double {
    let x = steps.map { Foundation.log($0) }
    let y = errors.map { Foundation.log($0) }
    let mx = x.reduce(0, +) / Double(x.count)
    let my = y.reduce(0, +) / Double(y.count)
    let numerator = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
    let denominator = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
    return numerator / denominator
}

let clock = Stopwatch()
var errors: [String: [Double]] = [:]
var articleRuns: [String: (solution: Solution<SIMD2<Double>>, maxError: Double)] = [:]
var referenceAtArticleGrid: Solution<SIMD2<Double>>
do {
    for scheme in schemes {
        errors[scheme.key] = try stepSizes.map { try run(scheme.method, dt: $0).maxError }
        articleRuns[scheme.key] = try run(scheme.method, dt: articleStep)
    }
    referenceAtArticleGrid = try reference(at: articleRuns["euler"]!.solution.times)
} catch {
    cli.exitWithError("\(error)")
}
let orders = Dictionary(uniqueKeysWithValues: schemes.map { ($0.key, fittedOrder(stepSizes, errors[$0.key]!)) })
let euler = articleRuns["euler"]!.solution

// MARK: - Report

func scientific(_ value: Double) -> String { String(format: "%.3e", value) }
func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: Swift.max(0, width - text.count)) + text }

say("Two-species competition model (Su Jianlin, eq. 7): x(0) = (100, 150), t ∈ [0, \(fixed(horizon, 0))]")
say(
    "Euler RNN, Δt = \(articleStep), \(euler.statistics.acceptedSteps) steps: x(\(fixed(horizon, 0))) = (\(fixed(euler.finalState.x, 4)), \(fixed(euler.finalState.y, 4)))"
)
let referenceFinal = referenceAtArticleGrid.finalState
say(
    "Dormand–Prince reference (rtol = atol = \(referenceTolerance), \(referenceAtArticleGrid.statistics.acceptedSteps) steps): x(\(fixed(horizon, 0))) = (\(fixed(referenceFinal.x, 4)), \(fixed(referenceFinal.y, 4)))"
)
say()
say("Largest |error| over the trajectory against the reference:")
let header = pad("Δt", 8) + schemes.map { pad($0.name, 18) }.joined()
say(header)
for (i, dt) in stepSizes.enumerated() {
    say(pad(String(dt), 8) + schemes.map { pad(scientific(errors[$0.key]![i]), 18) }.joined())
}
say(String(repeating: "─", count: header.count))
say(pad("order", 8) + schemes.map { pad(fixed(orders[$0.key]!), 18) }.joined())
say(pad("expected", 8) + schemes.map { pad(String($0.method.order), 18) }.joined())
say()

// MARK: - Files

let trajectoryCSV = outputFolder.appendingPathComponent("trajectories.csv")
let convergenceCSV = outputFolder.appendingPathComponent("convergence.csv")
let trajectorySVG = outputFolder.appendingPathComponent("trajectories.svg")
let convergenceSVG = outputFolder.appendingPathComponent("convergence.svg")
do {
    // Trajectories at Δt = 0.1: every scheme and the reference on the same grid.
    var columns: [(name: String, values: [Double?])] = [("t", euler.times)]
    for scheme in schemes {
        let states = articleRuns[scheme.key]!.solution.states
        columns.append(("\(scheme.key)_x1", states.map { $0.x }))
        columns.append(("\(scheme.key)_x2", states.map { $0.y }))
    }
    columns.append(("reference_x1", referenceAtArticleGrid.states.map { $0.x }))
    columns.append(("reference_x2", referenceAtArticleGrid.states.map { $0.y }))
    try CSVTable(columns: columns).write(to: trajectoryCSV, createDirectories: true)

    try CSVTable(columns: [("dt", stepSizes)] + schemes.map { ($0.key, errors[$0.key]!.map { Optional($0) }) })
        .write(to: convergenceCSV, createDirectories: true)

    // Figure 1: the trajectories (reference lines, Euler RNN dashed) and each scheme's error along time.
    var trajectories = Plot(
        title: "Populations: Euler RNN (Δt = \(articleStep)) and reference", xLabel: "t", yLabel: "population")
    trajectories.addLine(x: euler.times, y: referenceAtArticleGrid.states.map { $0.x }, label: "x₁ reference", color: .blue)
    trajectories.addLine(x: euler.times, y: referenceAtArticleGrid.states.map { $0.y }, label: "x₂ reference", color: .orange)
    // The Euler RNN as markers every 5 time units, so that both are visible where they agree.
    let every = Swift.max(1, Int((5 / articleStep).rounded()))
    let sampled = Array(stride(from: 0, to: euler.times.count, by: every))
    trajectories.addScatter(
        x: sampled.map { euler.times[$0] }, y: sampled.map { euler.states[$0].x }, label: "x₁ Euler RNN",
        color: .blue, filled: false)
    trajectories.addScatter(
        x: sampled.map { euler.times[$0] }, y: sampled.map { euler.states[$0].y }, label: "x₂ Euler RNN",
        color: .orange, filled: false, marker: .square)
    trajectories.legend = .bottomRight
    var errorsAlongTime = Plot(title: "Error along the trajectory, Δt = \(articleStep)", xLabel: "t", yLabel: "max |error|")
    errorsAlongTime.yScale = .logarithmic
    for scheme in schemes {
        let run = articleRuns[scheme.key]!.solution
        let pointwise = zip(run.states, referenceAtArticleGrid.states).map {
            Swift.max(Swift.abs($0.x - $1.x), Swift.abs($0.y - $1.y))
        }
        errorsAlongTime.addLine(x: run.times, y: pointwise, label: scheme.name)
    }
    errorsAlongTime.legend = .best
    try FigureGrid(rows: 1, columns: 2, plots: [trajectories, errorsAlongTime], title: "Su's competition model")
        .write(to: trajectorySVG, createDirectories: true)

    // Figure 2: error against Δt, log–log, with the slopes of the expected orders.
    var convergence = Plot(
        title: "Convergence against Dormand–Prince (rtol = atol = \(referenceTolerance))", xLabel: "Δt",
        yLabel: "max |error| over t ∈ [0, \(fixed(horizon, 0))]")
    convergence.xScale = .logarithmic
    convergence.yScale = .logarithmic
    let markers: [MarkerShape] = [.circle, .square, .triangle]
    for (scheme, marker) in zip(schemes, markers) {
        convergence.addLineWithMarkers(
            x: stepSizes, y: errors[scheme.key]!,
            label: "\(scheme.name): order \(fixed(orders[scheme.key]!))", marker: marker)
    }
    for scheme in schemes {
        // A guide ∝ Δtᵖ with the expected order, parallel to the data a factor of 4 below it.
        let p = Double(scheme.method.order)
        let anchor = (stepSizes.last!, errors[scheme.key]!.last! / 4)
        let guide = stepSizes.map { anchor.1 * Foundation.pow($0 / anchor.0, p) }
        convergence.addLine(
            x: stepSizes, y: guide, label: scheme.key == schemes.last!.key ? "slopes 1, 2, 4" : nil, color: .gray,
            width: 1, style: .dashed)
    }
    convergence.legend = .bottomRight
    try convergence.write(to: convergenceSVG, createDirectories: true)
} catch {
    cli.exitWithError("could not write the output: \(error)")
}
say("Wrote \(trajectoryCSV.path), \(convergenceCSV.path),")
say("      \(trajectorySVG.path), \(convergenceSVG.path)")
say("(\(fixed(clock.seconds, 3)) s)")

if arguments.flag("json") {
    let summary = JSONValue.object([
        ("orders", .object(schemes.map { ($0.key, .number(orders[$0.key]!)) })),
        ("final_state", .numbers([euler.finalState.x, euler.finalState.y])),
        ("max_abs_error", .object(schemes.map { ($0.key, .number(articleRuns[$0.key]!.maxError)) })),
    ])
    print(summary.text)
}
