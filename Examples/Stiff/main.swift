// Stiff problems with the library's implicit and Rosenbrock methods: Robertson, Van der Pol
// (μ = 1000) and HIRES, each solved by Rodas5P, Rodas4, Rosenbrock23, Kvaerno5, KenCarp4 and TRBDF2
// over a sweep of tolerances (a work–precision diagram against the peers' reference solutions), the
// Robertson problem out to t = 10¹¹, and the three Robertson rate constants recovered from a noisy
// table with missing entries by Levenberg–Marquardt on log-rates (the SciPy peer is
// Examples/Benchmark/peers/robertson_fit_scipy.py).

import ExampleSupport
import Foundation
import RNNODE

// MARK: - Options

let cli = {
    var cli = CommandLineInterface(
        command: "stiff",
        summary: """
            Solves the Robertson, Van der Pol (μ = 1000) and HIRES problems with the stiff methods (Rodas5P, Rodas4,
            Rosenbrock23, Kvaerno5, KenCarp4, TRBDF2) over a sweep of tolerances, writes a work–precision table (CSV)
            and diagrams (SVG) and Robertson's trajectory on a log-time axis, then recovers the Robertson rate
            constants from a noisy table by Levenberg–Marquardt.
            """)
    cli.option(
        "methods", placeholder: "LIST",
        help: "Comma-separated methods to sweep (default all: \(stiffMethods.map(\.name).joined(separator: ","))).")
    cli.option("out", placeholder: "DIR", default: "stiff-output", help: "Folder for the CSV and SVG files.")
    cli.flag("quick", help: "A reduced sweep (three tolerances, one solve per point) for CI.")
    cli.flag("no-fit", help: "Skip the Robertson rate fit.")
    cli.flag(
        "json",
        help:
            "Print {\"problems\": {\"robertson\", \"vdp1000\", \"hires\"}, \"fit\": {\"rates\", \"loss\", \"seconds\"}} as the last line."
    )
    cli.flag("quiet", help: "No progress or tables (errors and --json still print).")
    return cli
}()
let arguments = cli.parseOrExit()
let quiet = arguments.flag("quiet")
let quick = arguments.flag("quick")
func say(_ text: String = "") { if !quiet { print(text) } }
func sci(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)e", value) }

let methods: [(name: String, method: ButcherTableau)]
if let list = arguments.string("methods") {
    var chosen: [(name: String, method: ButcherTableau)] = []
    for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
        guard let method = stiffMethod(named: name) else {
            cli.exitWithUsageError(
                "unknown method '\(name)'; choose from \(stiffMethods.map(\.name).joined(separator: ", "))")
        }
        chosen.append((name, method))
    }
    methods = chosen
} else {
    methods = stiffMethods
}
let outputFolder = URL(fileURLWithPath: arguments.string("out")!, isDirectory: true)

// MARK: - The sweep

/// One solve of the sweep: the work it did and its error against the reference.
struct Run {
    var problem: String
    var method: String
    var rtol: Double
    var atol: Double
    var succeeded: Bool
    var error: Double
    var evaluations: Int
    var jacobians: Int
    var factorizations: Int
    var steps: Int
    var ms: Double
}

/// Solves `field` over [0, t1] at the tolerances, `repeats` times at most (stopping after 0.2 s),
/// and returns the median time and the error of the final state against `reference`.
func measure<F: VectorField>(
    _ problem: String, _ field: F, _ y0: F.State, to t1: Double, reference: [Double], methodName: String,
    method: ButcherTableau, rtol: Double, atol: Double, repeats: Int, components: (F.State) -> [Double]
) -> Run where F.State.Scalar == Double {
    var times: [Double] = []
    var last: Solution<F.State>?
    var total = 0.0
    while times.count < repeats && (times.isEmpty || total < 0.2) {
        let clock = Stopwatch()
        let solution = try? solve(
            field, initialState: y0, from: 0, to: t1, method: method, step: .adaptive(rtol: rtol, atol: atol),
            saveAt: .final, maxSteps: 2_000_000)
        let seconds = clock.seconds
        times.append(seconds)
        total += seconds
        last = solution
        guard solution?.succeeded == true else { break }
    }
    times.sort()
    let ms = times[times.count / 2] * 1e3
    guard let solution = last, solution.succeeded else {
        return Run(
            problem: problem, method: methodName, rtol: rtol, atol: atol, succeeded: false, error: .nan,
            evaluations: last?.statistics.evaluations ?? 0, jacobians: last?.statistics.jacobians ?? 0,
            factorizations: last?.statistics.factorizations ?? 0, steps: last?.statistics.steps ?? 0, ms: ms)
    }
    let s = solution.statistics
    return Run(
        problem: problem, method: methodName, rtol: rtol, atol: atol, succeeded: true,
        error: maxRelativeError(components(solution.finalState), reference: reference, atol: atol),
        evaluations: s.evaluations, jacobians: s.jacobians, factorizations: s.factorizations, steps: s.steps, ms: ms)
}

/// A problem of the sweep: its name, a title, the benchmark's tolerances, atol as a multiple of rtol,
/// and a closure solving it with a method at tolerances.
struct Problem {
    var name: String
    var title: String
    var defaultRtol: Double
    var defaultAtol: Double
    var atolFactor: Double
    var run: (String, ButcherTableau, Double, Double, Int) -> Run
}

let problems: [Problem] = [
    Problem(name: "robertson", title: "Robertson to t = 10⁵", defaultRtol: 1e-6, defaultAtol: 1e-10, atolFactor: 1e-4) {
        name, method, rtol, atol, repeats in
        measure(
            "robertson", Robertson(), Robertson.initialState, to: Robertson.endTime,
            reference: components(Robertson.reference), methodName: name, method: method, rtol: rtol, atol: atol,
            repeats: repeats, components: components)
    },
    Problem(
        name: "vdp1000", title: "Van der Pol μ = 1000 to t = 3000", defaultRtol: 1e-6, defaultAtol: 1e-8, atolFactor: 1e-2
    ) { name, method, rtol, atol, repeats in
        measure(
            "vdp1000", VanDerPol(), VanDerPol.initialState, to: VanDerPol.endTime,
            reference: components(VanDerPol.reference), methodName: name, method: method, rtol: rtol, atol: atol,
            repeats: repeats, components: components)
    },
    Problem(name: "hires", title: "HIRES to t = 321.8122", defaultRtol: 1e-6, defaultAtol: 1e-8, atolFactor: 1e-2) {
        name, method, rtol, atol, repeats in
        measure(
            "hires", HIRES(), HIRES.initialState, to: HIRES.endTime, reference: components(HIRES.reference),
            methodName: name, method: method, rtol: rtol, atol: atol, repeats: repeats, components: components)
    },
]

let tolerances: [Double] = quick ? [1e-4, 1e-6, 1e-8] : [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
let repeats = quick ? 1 : 5

// The default method and tolerance of each problem first (the JSON summary), then the sweep.
var defaults: [String: Run] = [:]
for problem in problems {
    defaults[problem.name] = problem.run("rodas5p", .rodas5P, problem.defaultRtol, problem.defaultAtol, quick ? 3 : 21)
}

var runs: [Run] = []
var progress = ProgressReporter(
    label: "work–precision", total: problems.count * methods.count * tolerances.count, style: quiet ? .quiet : .automatic)
for problem in problems {
    for (name, method) in methods {
        for rtol in tolerances {
            let run = problem.run(name, method, rtol, rtol * problem.atolFactor, repeats)
            runs.append(run)
            progress.update(
                step: runs.count, loss: run.error, extra: "\(problem.name) \(name) rtol \(sci(rtol, 0))")
        }
    }
}
progress.finish("\(runs.count) solves")

say("Default: Rodas5P at the benchmarks' tolerances (median of \(quick ? 3 : 21) solves)")
say("problem      rtol    atol    max_rel_error  evaluations  jacobians  factorizations  steps        ms")
for problem in problems {
    let run = defaults[problem.name]!
    say(
        problem.name.padding(toLength: 11, withPad: " ", startingAt: 0) + "  " + sci(run.rtol, 0) + "  "
            + sci(run.atol, 0) + "  " + sci(run.error).padding(toLength: 13, withPad: " ", startingAt: 0)
            + String(
                format: "  %11d  %9d  %14d  %5d  %8.3f", run.evaluations, run.jacobians, run.factorizations, run.steps,
                run.ms))
}
say()
say("Work–precision (max_rel_error / evaluations / ms per solve):")
for problem in problems {
    say("  \(problem.title), atol = \(sci(problem.atolFactor, 0)) · rtol")
    say(
        "    method        "
            + tolerances.map { ("rtol " + sci($0, 0)).padding(toLength: 26, withPad: " ", startingAt: 0) }.joined())
    for (name, _) in methods {
        let cells = runs.filter { $0.problem == problem.name && $0.method == name }.map { run in
            (run.succeeded ? "\(sci(run.error, 1)) \(run.evaluations) \(String(format: "%.2f", run.ms))" : "failed")
                .padding(toLength: 26, withPad: " ", startingAt: 0)
        }
        say("    " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + cells.joined())
    }
}
say()

// The table and the diagrams.
do {
    var csv = "problem,method,rtol,atol,succeeded,max_rel_error,evaluations,jacobians,factorizations,steps,ms_per_solve\n"
    for run in runs {
        csv +=
            "\(run.problem),\(run.method),\(run.rtol),\(run.atol),\(run.succeeded),\(run.succeeded ? "\(run.error)" : ""),"
            + "\(run.evaluations),\(run.jacobians),\(run.factorizations),\(run.steps),\(run.ms)\n"
    }
    try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
    try csv.write(to: outputFolder.appendingPathComponent("work-precision.csv"), atomically: true, encoding: .utf8)

    func diagram(_ x: (Run) -> Double, _ xLabel: String, _ title: String) -> FigureGrid {
        var plots: [Plot] = []
        for problem in problems {
            var plot = Plot(title: problem.title, xLabel: xLabel, yLabel: "max relative error", width: 480, height: 380)
            plot.xScale = .logarithmic
            plot.yScale = .logarithmic
            for (index, (name, _)) in methods.enumerated() {
                let points = runs.filter {
                    $0.problem == problem.name && $0.method == name && $0.succeeded && $0.error > 0 && x($0) > 0
                }
                guard !points.isEmpty else { continue }
                plot.addLineWithMarkers(
                    x: points.map(x), y: points.map(\.error), label: name,
                    marker: MarkerShape.allCases[index % MarkerShape.allCases.count], radius: 3.5)
            }
            plot.legend = .topRight
            plots.append(plot)
        }
        return FigureGrid(rows: 1, columns: plots.count, plots: plots, title: title)
    }
    try diagram(\.ms, "ms per solve", "Work–precision: error against the reference vs time")
        .write(to: outputFolder.appendingPathComponent("work-precision-time.svg"))
    try diagram({ Double($0.evaluations) }, "evaluations of f", "Work–precision: error against the reference vs evaluations")
        .write(to: outputFolder.appendingPathComponent("work-precision-evaluations.svg"))
    say("Wrote work-precision.csv, work-precision-time.svg and work-precision-evaluations.svg to \(outputFolder.path)")
} catch {
    cli.exitWithError("could not write the work–precision table: \(error)")
}

// MARK: - Trajectories

/// n times spaced evenly in log10 between 10^a and 10^b.
func logTimes(_ a: Double, _ b: Double, count: Int) -> [Double] {
    (0..<count).map { pow(10, a + (b - a) * Double($0) / Double(count - 1)) }
}

do {
    // Robertson to 10¹¹: y₂ (scaled by 10⁴) rises within 10⁻³ and decays; y₁ → 0, y₃ → 1.
    // Two solves, [0, 1] and [1, 10¹¹]: over one span to 10¹¹ output times below ~10⁻³ would be
    // within the time resolution (64 ulps of 10¹¹) of t = 0.
    let early = try solve(
        Robertson(), initialState: Robertson.initialState, from: 0, to: 1, method: .rodas5P,
        step: .adaptive(rtol: 1e-8, atol: 1e-14), saveAt: .times(logTimes(-6, 0, count: 121))
    ).checked()
    let late = try solve(
        Robertson(), initialState: early.states.last!, from: 1, to: 1e11, method: .rodas5P,
        step: .adaptive(rtol: 1e-8, atol: 1e-14), saveAt: .times(Array(logTimes(0, 11, count: 221).dropFirst()))
    ).checked()
    let robertson = (times: early.times + late.times, states: early.states + late.states)
    var longTime = Plot(title: "Robertson to t = 10¹¹ (Rodas5P)", xLabel: "t", yLabel: "y", width: 560, height: 380)
    longTime.xScale = .logarithmic
    longTime.addLine(x: robertson.times, y: robertson.states.map(\.x), label: "y₁")
    longTime.addLine(x: robertson.times, y: robertson.states.map { 1e4 * $0.y }, label: "10⁴ · y₂")
    longTime.addLine(x: robertson.times, y: robertson.states.map(\.z), label: "y₃")
    longTime.legend = .topRight
    var logBoth = Plot(title: "Robertson, log–log", xLabel: "t", yLabel: "y", width: 560, height: 380)
    logBoth.xScale = .logarithmic
    logBoth.yScale = .logarithmic
    for (index, label) in ["y₁", "y₂", "y₃"].enumerated() {
        let points = zip(robertson.times, robertson.states).filter { $0.1[index] > 0 }
        logBoth.addLine(x: points.map(\.0), y: points.map { $0.1[index] }, label: label)
    }
    logBoth.legend = .bottomLeft

    let vdpTimes = Array(stride(from: 0.0, through: VanDerPol.endTime, by: 1))
    let vdp = try solve(
        VanDerPol(), initialState: VanDerPol.initialState, from: 0, to: VanDerPol.endTime, method: .rodas5P,
        step: .adaptive(rtol: 1e-8, atol: 1e-10), saveAt: .times(vdpTimes)
    ).checked()
    var vdpPlot = Plot(title: "Van der Pol, μ = 1000 (Rodas5P)", xLabel: "t", yLabel: "y₁", width: 560, height: 380)
    vdpPlot.addLine(x: vdp.times, y: vdp.states.map(\.x), label: "y₁")
    vdpPlot.legend = .none

    let hiresTimes = logTimes(-3, log10(HIRES.endTime), count: 201)
    let hires = try solve(
        HIRES(), initialState: HIRES.initialState, from: 0, to: HIRES.endTime, method: .rodas5P,
        step: .adaptive(rtol: 1e-8, atol: 1e-10), saveAt: .times(hiresTimes)
    ).checked()
    var hiresPlot = Plot(title: "HIRES (Rodas5P)", xLabel: "t", yLabel: "y", width: 560, height: 380)
    hiresPlot.xScale = .logarithmic
    hiresPlot.yScale = .logarithmic
    for index in 0..<8 {
        let points = zip(hires.times, hires.states).filter { $0.1[index] > 1e-12 }
        hiresPlot.addLine(x: points.map(\.0), y: points.map { $0.1[index] }, label: "y\(index + 1)")
    }
    hiresPlot.legend = .bottomLeft
    try FigureGrid(rows: 2, columns: 2, plots: [longTime, logBoth, vdpPlot, hiresPlot], title: "Stiff problems")
        .write(to: outputFolder.appendingPathComponent("trajectories.svg"))
    say("Wrote trajectories.svg (Robertson to t = 10¹¹ on log-time axes, Van der Pol, HIRES)")
} catch {
    cli.exitWithError("could not solve or write the trajectories: \(error)")
}

// MARK: - The Robertson rate fit

/// Examples/Benchmark/peers/robertson_table.csv (made by robertson_fit_scipy.py --write-table: the
/// solution at the true rates k = (0.04, 3e7, 1e4) at t_j = 1e-3 · 10^(j/2), j = 0 … 15, with 1 %
/// multiplicative Gaussian noise from SplitMix64 seeded with 11, and the entries with (3j + c) mod 4
/// = 1 removed): rows t, y1, y2, y3, nil = missing.
let robertsonTable: [(t: Double, y: [Double?])] = [
    (0.001, [0.9992832642158067, nil, 1.076775995754165e-05]),
    (0.0031622776601683794, [1.0007354287703112, 3.674980694653516e-05, nil]),
    (0.01, [1.0212623619234245, 3.647537219048243e-05, 0.0003670834959285899]),
    (0.03162277660168379, [nil, 3.638083314272268e-05, 0.00120117552498587]),
    (0.1, [1.0092575289959598, nil, 0.0039189033376167744]),
    (0.31622776601683794, [0.9922586112923261, 3.406413213441459e-05, nil]),
    (1.0, [0.9656411781494361, 3.106338286373041e-05, 0.033872082250931725]),
    (3.1622776601683795, [nil, 2.3808850271993543e-05, 0.08016715552409168]),
    (10.0, [0.8335689616348909, nil, 0.16115666828278746]),
    (31.622776601683793, [0.7424433154085528, 1.0105275311928332e-05, nil]),
    (100.0, [0.6107754398573532, 6.068665112479993e-06, 0.37637093828075185]),
    (316.2277660168379, [nil, 3.6406996731713286e-06, 0.5395267187586875]),
    (1000.0, [0.33992583479365535, nil, 0.665481691952693]),
    (3162.2776601683795, [0.20477104972027424, 1.0241825856678583e-06, nil]),
    (10000.0, [0.10636811705525977, 4.799982095228407e-07, 0.896736275645477]),
    (31622.776601683792, [nil, 1.9749473186638486e-07, 0.9523063090370147]),
]

/// The SciPy peer's result (robertson_fit_scipy.py with Radau; /work/bench/stiff-peers.txt).
let scipyRates = [0.040953349676385635, 30555907.42487231, 10179.467729261061]
let scipyLoss = 0.0006897014523857478

/// Robertson with θ = ln k as its parameters, written over a generic scalar so that solves give
/// ∂y/∂θ by forward sensitivities.
struct RobertsonLogRates: ParametricField {
    typealias State = SIMD3<Double>
    func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ theta: FieldInput<S>, _ dy: FieldOutput<S>)
    where S.Constant == Double {
        let a = S.exp(theta[0]) * y[0]
        let b = S.exp(theta[2]) * y[1] * y[2]
        let c = S.exp(theta[1]) * y[1] * y[1]
        dy[0] = b - a
        dy[1] = a - b - c
        dy[2] = c
    }
    var isAutonomous: Bool { true }
}

/// The fit: residuals r_jc = (y_c(t_j; k) − d_jc) / s_c over the present entries, s_c the largest
/// present |d_jc| of column c (robertson_fit_scipy.py's weighting), as functions of θ = ln k; their
/// Jacobian from one Rodas5P solve with forward sensitivities.
final class RobertsonFit {
    let data = try! Observations<Double>(
        times: robertsonTable.map(\.t), variables: ["y1", "y2", "y3"], values: robertsonTable.map(\.y))
    /// 1/s_c per residual.
    let weights: [Double]
    var solves = 0

    init() {
        let data = self.data
        let columns = data.observedIndices.map { $0 % 3 }
        let scales = (0..<3).map { c in
            zip(columns, data.observedIndices).filter { $0.0 == c }.map { Swift.abs(data.values[$0.1]) }.max()!
        }
        weights = columns.map { 1 / scales[$0] }
    }

    func solution(_ theta: [Double], _ sensitivities: SensitivityTarget) -> Solution<SIMD3<Double>>? {
        solves += 1
        // The data start at t = 10⁻³; the solve starts at 0 and saves at the data's times.
        guard
            let solution = try? solve(
                RobertsonLogRates(), initialState: Robertson.initialState, parameters: theta,
                from: 0, to: data.times.last!, method: .rodas5P, step: .adaptive(rtol: 1e-10, atol: 1e-16),
                saveAt: .times(data.times), maxSteps: 200_000, sensitivities: sensitivities),
            solution.succeeded
        else { return nil }
        return solution
    }

    /// The residuals at θ (NaN if the solve fails, which rejects an LM trial point).
    func residuals(_ theta: [Double]) -> [Double] {
        guard let solution = solution(theta, .none) else { return [Double](repeating: .nan, count: weights.count) }
        return zip(data.residuals(of: solution), weights).map { $0 * $1 }
    }

    /// ∂r/∂θ, residuals × 3 row-major.
    func jacobian(_ theta: [Double]) -> [Double] {
        guard let solution = solution(theta, .parameters) else {
            return [Double](repeating: .nan, count: weights.count * 3)
        }
        let rows = data.residualJacobian(of: solution)
        return rows.indices.map { rows[$0] * weights[$0 / 3] }
    }
}

var fitRates: [Double] = []
var fitLoss = Double.nan
var fitSeconds = 0.0
if !arguments.flag("no-fit") {
    // Levenberg–Marquardt with the Jacobian from forward sensitivities: per iteration one plain solve
    // and one solve of the state with its three tangents.
    let problem = RobertsonFit()
    let start = [0.1, 1e7, 3e4]
    var progress = ProgressReporter(label: "levenberg-marquardt", total: nil, style: quiet ? .quiet : .automatic)
    let clock = Stopwatch()
    let fit = LevenbergMarquardt<Double>(maxIterations: 100).minimize(
        from: start.map { log($0) },
        progress: { report in progress.update(step: report.iteration, loss: Double(report.cost) / 2) },
        residuals: problem.residuals, jacobian: problem.jacobian)
    fitSeconds = clock.seconds
    progress.finish("\(fit.iterations) iterations — \(fit.status)")
    fitRates = fit.parameters.scalars.map { exp($0) }
    fitLoss = Double(fit.cost) / 2
    let truthLoss = 0.5 * problem.residuals(Robertson.trueRates.map { log($0) }).reduce(0) { $0 + $1 * $1 }

    say()
    say("Robertson rates from the noisy table (\(robertsonTable.count) times, 36 of 48 entries present),")
    say("Levenberg–Marquardt on ln k from k = (0.1, 1e7, 3e4), Rodas5P at rtol 1e-10, forward sensitivities:")
    say("rate      recovered      SciPy (Radau)     true")
    for (index, name) in ["k1", "k2", "k3"].enumerated() {
        say(
            name.padding(toLength: 8, withPad: " ", startingAt: 0) + "  " + sci(fitRates[index], 5) + "    "
                + sci(scipyRates[index], 5) + "    " + sci(Robertson.trueRates[index], 1))
    }
    say(
        "loss ½Σr² = \(sci(fitLoss, 4)) (SciPy \(sci(scipyLoss, 4)); at the true rates \(sci(truthLoss, 4))), "
            + "\(fit.iterations) iterations, \(problem.solves) solves, \(String(format: "%.3f", fitSeconds)) s — \(fit.status)")

    // The data and the fitted curves.
    do {
        let curveTimes = logTimes(-3.5, 5, count: 200)
        let fitted = try solve(
            Robertson(k1: fitRates[0], k2: fitRates[1], k3: fitRates[2]), initialState: Robertson.initialState,
            from: 0, to: curveTimes.last!, method: .rodas5P, step: .adaptive(rtol: 1e-10, atol: 1e-16),
            saveAt: .times(curveTimes)
        ).checked()
        var plot = Plot(
            title: "Robertson rates fitted to the noisy table (y₂ × 10⁴)", xLabel: "t", yLabel: "y", width: 640,
            height: 420)
        plot.xScale = .logarithmic
        let colors: [PlotColor] = [.blue, .orange, .green]
        for (c, label) in ["y₁", "10⁴ · y₂", "y₃"].enumerated() {
            let factor = c == 1 ? 1e4 : 1
            plot.addLine(x: fitted.times, y: fitted.states.map { factor * $0[c] }, label: label + " fitted", color: colors[c])
            let present = robertsonTable.filter { $0.y[c] != nil }
            plot.addScatter(
                x: present.map(\.t), y: present.map { factor * $0.y[c]! }, label: label + " data", color: colors[c],
                radius: 4)
        }
        plot.legend = .topLeft
        try plot.write(to: outputFolder.appendingPathComponent("fit.svg"))
        say("Wrote fit.svg")
    } catch {
        cli.exitWithError("could not write the fit figure: \(error)")
    }
}

// MARK: - Summary

if arguments.flag("json") {
    func summary(_ run: Run) -> JSONValue {
        .object([
            ("method", .string(run.method)), ("rtol", .number(run.rtol)), ("atol", .number(run.atol)),
            ("max_rel_error", .number(run.error)), ("evaluations", .integer(run.evaluations)),
            ("jacobians", .integer(run.jacobians)), ("factorizations", .integer(run.factorizations)),
            ("steps", .integer(run.steps)), ("ms", .number(run.ms)),
        ])
    }
    let fitJSON: JSONValue =
        fitRates.isEmpty
        ? .null
        : .object([("rates", .numbers(fitRates)), ("loss", .number(fitLoss)), ("seconds", .number(fitSeconds))])
    print(
        JSONValue.object([
            ("problems", .object(problems.map { ($0.name, summary(defaults[$0.name]!)) })), ("fit", fitJSON),
        ]).text)
}
