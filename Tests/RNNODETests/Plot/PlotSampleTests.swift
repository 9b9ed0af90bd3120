import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// Example figures. They are always rendered and checked for well-formed XML; set
/// `PLOT_SAMPLES_DIR=/some/dir` to also write them there for a visual check, e.g.
/// `PLOT_SAMPLES_DIR=/tmp/plot-samples swift test --filter IOPlotSample`.
@Suite struct IOPlotSampleTests {
    static func save(_ svg: String, _ name: String) throws {
        #expect(parseSVGDocument(svg).error == nil, "\(name)")
        guard let directory = ProcessInfo.processInfo.environment["PLOT_SAMPLES_DIR"], !directory.isEmpty else { return }
        try writeFileAtomically(
            Data(svg.utf8), to: URL(fileURLWithPath: directory).appendingPathComponent(name),
            createDirectories: true)
    }

    /// Global error at t = 1 of y' = -2ty, y(0) = 1 for Euler, Heun and classical RK4.
    static func convergenceData() -> (steps: [Double], errors: [[Double]]) {
        let f = { (t: Double, y: Double) in -2 * t * y }
        let exact = exp(-1.0)
        let stepCounts = [4, 8, 16, 32, 64, 128, 256, 512, 1024]
        var errors: [[Double]] = [[], [], []]
        for n in stepCounts {
            let h = 1 / Double(n)
            var euler = 1.0
            var heun = 1.0
            var rk4 = 1.0
            for i in 0..<n {
                let t = Double(i) * h
                euler += h * f(t, euler)
                let k1 = f(t, heun)
                let k2 = f(t + h, heun + h * k1)
                heun += h / 2 * (k1 + k2)
                let a = f(t, rk4)
                let b = f(t + h / 2, rk4 + h / 2 * a)
                let c = f(t + h / 2, rk4 + h / 2 * b)
                let d = f(t + h, rk4 + h * c)
                rk4 += h / 6 * (a + 2 * b + 2 * c + d)
            }
            errors[0].append(abs(euler - exact))
            errors[1].append(abs(heun - exact))
            errors[2].append(abs(rk4 - exact))
        }
        return (stepCounts.map { 1 / Double($0) }, errors)
    }

    @Test func convergencePlot() throws {
        let (steps, errors) = Self.convergenceData()
        var plot = Plot(title: "Convergence on y′ = −2ty, t ∈ [0, 1]", xLabel: "step size h", yLabel: "global error at t = 1")
        plot.xScale = .logarithmic
        plot.yScale = .logarithmic
        plot.legend = .bottomRight
        plot.addLineWithMarkers(x: steps, y: errors[0], label: "Euler (order 1)", marker: .circle)
        plot.addLineWithMarkers(x: steps, y: errors[1], label: "Heun (order 2)", marker: .square)
        plot.addLineWithMarkers(x: steps, y: errors[2], label: "RK4 (order 4)", marker: .triangle)
        let h0 = steps[0]
        let reference = [steps.last!, h0]
        plot.addLine(
            x: reference, y: reference.map { 0.2 * errors[2][0] * pow($0 / h0, 4) },
            label: "reference ∝ h⁴", color: .gray, width: 1.2, style: .dashed)
        let svg = plot.svg()
        #expect(svg.contains("10⁻³"))
        try Self.save(svg, "convergence-loglog.svg")
    }

    @Test func timeSeriesPlot() throws {
        // Lotka–Volterra-like oscillation, with noisy "observations" drawn as dots over the model lines.
        var seed: UInt64 = 12345
        func noise() -> Double {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(seed >> 11) / Double(1 << 53) - 0.5
        }
        let t = stride(from: 0.0, through: 20, by: 0.05).map { $0 }
        let prey = t.map { 2 + 1.2 * sin(0.9 * $0) * exp(-0.03 * $0) }
        let predator = t.map { 1.4 + 0.8 * sin(0.9 * $0 - 1.3) * exp(-0.03 * $0) }
        let observedT = stride(from: 0.5, through: 19.5, by: 1.0).map { $0 }
        let observedPrey = observedT.map { 2 + 1.2 * sin(0.9 * $0) * exp(-0.03 * $0) + 0.35 * noise() }
        let observedPredator = observedT.map { 1.4 + 0.8 * sin(0.9 * $0 - 1.3) * exp(-0.03 * $0) + 0.35 * noise() }

        var plot = Plot(title: "Competition model: fit to observations", xLabel: "time t", yLabel: "population (thousands)")
        plot.addLine(x: t, y: prey, label: "prey, model", color: .blue)
        plot.addLine(x: t, y: predator, label: "predator, model", color: .orange)
        plot.addScatter(x: observedT, y: observedPrey, label: "prey, observed", color: .blue, radius: 4)
        plot.addScatter(
            x: observedT, y: observedPredator, label: "predator, observed", color: .orange, radius: 4,
            marker: .square)
        plot.legend = .outsideRight
        try Self.save(plot.svg(), "time-series.svg")
        plot.legend = .best
        try Self.save(plot.svg(), "time-series-best-legend.svg")
    }

    @Test func phasePortraitAndGrid() throws {
        // Damped pendulum: θ' = ω, ω' = −sin θ − 0.25 ω.
        var xs: [Double] = []
        var ys: [Double] = []
        var us: [Double] = []
        var vs: [Double] = []
        for i in 0...20 {
            for j in 0...14 {
                let theta = -2 * Double.pi + Double(i) * Double.pi / 5
                let omega = -3.5 + Double(j) * 0.5
                xs.append(theta)
                ys.append(omega)
                us.append(omega)
                vs.append(-sin(theta) - 0.25 * omega)
            }
        }
        func pendulum(_ state: (Double, Double)) -> (Double, Double) {
            (state.1, -sin(state.0) - 0.25 * state.1)
        }
        // Forward Euler with h = 0.01 against RK4 with h = 0.001 as the reference.
        var euler = (0.0, 3.2)
        var reference = (0.0, 3.2)
        var trajectoryT: [Double] = [0]
        var trajectoryTheta = [euler.0]
        var trajectoryOmega = [euler.1]
        var errorT: [Double] = []
        var error: [Double] = []
        let h = 0.01
        let fine = 0.001
        for step in 1...3000 {
            let d = pendulum(euler)
            euler = (euler.0 + h * d.0, euler.1 + h * d.1)
            for _ in 0..<10 {
                let a = pendulum(reference)
                let b = pendulum((reference.0 + fine / 2 * a.0, reference.1 + fine / 2 * a.1))
                let c = pendulum((reference.0 + fine / 2 * b.0, reference.1 + fine / 2 * b.1))
                let e = pendulum((reference.0 + fine * c.0, reference.1 + fine * c.1))
                reference.0 += fine / 6 * (a.0 + 2 * b.0 + 2 * c.0 + e.0)
                reference.1 += fine / 6 * (a.1 + 2 * b.1 + 2 * c.1 + e.1)
            }
            trajectoryT.append(Double(step) * h)
            trajectoryTheta.append(euler.0)
            trajectoryOmega.append(euler.1)
            errorT.append(Double(step) * h)
            error.append(abs(euler.0 - reference.0))
        }

        var portrait = Plot(
            title: "Damped pendulum: phase portrait", xLabel: "angle θ", yLabel: "angular velocity ω",
            width: 560, height: 400)
        portrait.addQuiver(x: xs, y: ys, u: us, v: vs, color: PlotColor(hex: "#9a9a9a"), scaling: .uniform)
        portrait.addLine(x: trajectoryTheta, y: trajectoryOmega, label: "θ(0) = 0, ω(0) = 3.2", color: .red, width: 2)
        portrait.addAnnotation("stable focus", x: 2 * .pi, y: 0, anchor: .end, offset: (-8, -12), marksPoint: true)
        portrait.legend = .topLeft
        try Self.save(portrait.svg(), "phase-portrait.svg")

        var trajectory = Plot(title: "Trajectory", xLabel: "t", yLabel: "θ(t)", width: 480, height: 320)
        trajectory.addLine(x: trajectoryT, y: trajectoryTheta, label: "θ")
        var errorPlot = Plot(title: "Error against RK4 reference", xLabel: "t", yLabel: "|θ − θ_ref|", width: 480, height: 320)
        errorPlot.yScale = .logarithmic
        errorPlot.addLine(x: errorT, y: error, color: .red, width: 1.5)
        let grid = FigureGrid(
            rows: 1, columns: 2, plots: [trajectory, errorPlot], title: "Damped pendulum, forward Euler with h = 0.01")
        try Self.save(grid.svg(), "grid.svg")
    }

    @Test func edgeCases() throws {
        let t = (0...200).map { Double($0) / 10 }
        var large = Plot(title: "Large values", xLabel: "t", yLabel: "energy (J)", width: 420, height: 280)
        large.addLine(x: t, y: t.map { -3.2e6 + 4e5 * $0 * sin($0) }, label: "E(t)")
        var tiny = Plot(title: "Tiny values", xLabel: "t", yLabel: "drift", width: 420, height: 280)
        tiny.addScatter(x: t, y: t.map { 2.5e-5 * sin($0) * exp(-0.1 * $0) }, label: "drift", radius: 2.5)
        var wide = Plot(title: "Many decades", xLabel: "iteration", yLabel: "residual", width: 420, height: 280)
        wide.yScale = .logarithmic
        wide.addLine(x: t, y: t.map { pow(10, -0.9 * $0) }, label: "residual")
        wide.addLine(x: t, y: t.map { $0 < 8 ? 0.5 : .nan }, label: "plateau, then NaN", style: .dotted)
        var empty = Plot(title: "Nothing valid", xLabel: "x", yLabel: "y", width: 420, height: 280)
        empty.yScale = .logarithmic
        empty.addLine(x: [1, 2, 3], y: [0, -1, 0], label: "non-positive")
        try Self.save(FigureGrid(rows: 2, columns: 2, plots: [large, tiny, wide, empty]).svg(), "edge-cases.svg")
    }
}
