import RNNODEIntegrators
import RNNODETensors

/// How far one cell's outputs drift apart when the same parameters are run as the discrete RNN
/// (Euler, Δt = 1) and as the continuous-time ODE under other integrations.
///
/// See ``compareDiscreteAndContinuous(_:inputs:initialState:integrations:)``.
public struct CellDriftReport: Sendable, CustomStringConvertible {
    /// One integration's outputs compared with the discrete cell's.
    public struct Run: Sendable {
        /// A name such as "rk4, Δt 1, 1 step per input" or "dopri5 adaptive (rtol 1e-08)".
        public var name: String
        /// max over batch and features of |h_run − h_discrete| after each input.
        public var maxDifference: [Double]
        /// The root mean square of h_run − h_discrete after each input.
        public var rmsDifference: [Double]
        /// max |h_run − h_last| over the whole sequence, where h_last is the last (most accurate)
        /// integration of the comparison: how far this run is from the continuous-time reference.
        public var maxDifferenceToLast: Double
        /// The integrator's work over the sequence.
        public var statistics: SolveStatistics
    }

    /// The compared integrations, in order.
    public var runs: [Run]
    /// The root mean square of the discrete outputs (the scale the differences compare with).
    public var outputRMS: Double

    /// A table: one row per integration with the drift after the first input, at the middle, at the
    /// end, the largest, and the largest difference from the last integration.
    public var description: String {
        var lines = ["drift from the discrete cell (Euler, Δt = 1); output RMS \(formatted(outputRMS))"]
        let header = ["first", "middle", "last", "max", "vs last", "evaluations"].map { padded($0, 10) }.joined()
        lines.append(padded("integration", 44) + header)
        for run in runs {
            let n = run.maxDifference.count
            guard n > 0 else { continue }
            let row = [
                run.maxDifference[0], run.maxDifference[n / 2], run.maxDifference[n - 1], run.maxDifference.max()!,
                run.maxDifferenceToLast,
            ]
            let cells = row.map { padded(formatted($0), 10) }.joined()
            lines.append(padded(run.name, 44) + cells + "\(run.statistics.evaluations)")
        }
        return lines.joined(separator: "\n")
    }

    func formatted(_ x: Double) -> String { formatScientific(x) }

    func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

/// Runs `cell` over `inputs` `[batch, time, inputSize]` as the discrete RNN (Euler, Δt = 1) and
/// under each of `integrations` with the inputs held piecewise constant over each unit interval,
/// and reports how far the outputs drift from the discrete ones after every input.
///
/// Why they differ: the discrete cell is the explicit Euler method with a step as long as the
/// field's own time scale. Its local error, ½Δt²·(d²h/dt²) per step, is not small — for
/// SimpleRNN, Euler at Δt = 1 jumps straight to the relaxation target σ(…) that the ODE only
/// approaches exponentially, as 1 − e^(−t). RK4 and adaptive Dormand–Prince follow the ODE closely,
/// so their difference from the discrete cell measures Euler's error, which the recurrence carries
/// forward (growing where the field is expansive, fading where it contracts).
///
/// ```swift
/// let report = try compareDiscreteAndContinuous(trainedCell, inputs: x)
/// print(report)
/// ```
///
/// - Parameter integrations: by default RK4 with one and with ten steps per input, and adaptive
///   Dormand–Prince at rtol 1e-8.
public func compareDiscreteAndContinuous<Cell: RecurrentCell>(
    _ cell: Cell, inputs: Tensor<Cell.Scalar>, initialState: Tensor<Cell.Scalar>? = nil,
    integrations: [CellIntegration<Cell.Scalar>] = [
        .fixed(.rk4), .fixed(.rk4, substeps: 10), .adaptive(rtol: 1e-8, atol: 1e-10),
    ]
) throws(RecurrentError<Cell.Scalar>) -> CellDriftReport {
    let discrete = try RecurrentLayer(cell)(inputs.detached, initialState: initialState?.detached).sequence
    let reference = discrete.doubles
    let (batch, time, width) = (discrete.shape[0], discrete.shape[1], discrete.shape[2])
    let outputRMS = (reference.map { $0 * $0 }.reduce(0, +) / Double(Swift.max(reference.count, 1))).squareRoot()
    var outputs: [RecurrentOutput<Cell.Scalar>] = []
    for integration in integrations {
        outputs.append(try RecurrentLayer(cell, integration: integration)(inputs.detached, initialState: initialState?.detached))
    }
    let last = outputs.last?.sequence.doubles ?? reference
    var runs: [CellDriftReport.Run] = []
    for (integration, output) in zip(integrations, outputs) {
        let values = output.sequence.doubles
        var maxima = [Double](repeating: 0, count: time)
        var squares = [Double](repeating: 0, count: time)
        for b in 0..<batch {
            for k in 0..<time {
                for j in 0..<width {
                    let i = (b * time + k) * width + j
                    let d = Swift.abs(values[i] - reference[i])
                    maxima[k] = Swift.max(maxima[k], d)
                    squares[k] += d * d
                }
            }
        }
        runs.append(
            CellDriftReport.Run(
                name: describe(integration), maxDifference: maxima,
                rmsDifference: squares.map { ($0 / Double(Swift.max(batch * width, 1))).squareRoot() },
                maxDifferenceToLast: zip(values, last).map { Swift.abs($0 - $1) }.max() ?? 0, statistics: output.statistics))
    }
    return CellDriftReport(runs: runs, outputRMS: outputRMS)
}

func describe<Scalar>(_ integration: CellIntegration<Scalar>) -> String {
    let dt = "Δt \(integration.timeStep)"
    switch integration.step.mode {
    case .fixed(let h):
        let steps = Int((Double(integration.timeStep) / Double(h)).rounded())
        return "\(integration.methodName), \(dt), \(steps) step\(steps == 1 ? "" : "s") per input"
    case .adaptive(let settings):
        return "\(integration.method.name) adaptive (rtol \(formatScientific(Double(settings.rtol)))), \(dt)"
    }
}
