import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite struct IOPlotTests {
    // MARK: Ticks

    @Test func linearTicksForUnitRange() {
        let ticks = AxisTicks.linear(in: 0...1)
        #expect(ticks.major == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(ticks.labels == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }

    @Test func linearTicksAreNiceForAnAwkwardRange() {
        #expect(AxisTicks.linear(in: 3...97).major == [10, 20, 30, 40, 50, 60, 70, 80, 90])
        // As drawn: the data range padded by 5 %.
        let padded = PlotRenderer.resolvedRange(fixed: nil, scale: .linear, data: [3, 50, 97])
        #expect(padded.lowerBound < 3 && padded.upperBound > 97)
        let ticks = AxisTicks.linear(in: padded)
        #expect(ticks.major == [0, 20, 40, 60, 80, 100])
        #expect(ticks.labels == ["0", "20", "40", "60", "80", "100"])
    }

    @Test func linearTickLabelsHaveNoFloatingPointNoise() {
        let ticks = AxisTicks.linear(in: 0.1...0.7)
        #expect(ticks.major == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
        #expect(ticks.labels == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"])
        let negative = AxisTicks.linear(in: -0.35...0.12)
        #expect(negative.labels == ["−0.35", "−0.30", "−0.25", "−0.20", "−0.15", "−0.10", "−0.05", "0.00", "0.05", "0.10"])
        let small = AxisTicks.linear(in: 0...0.0003)
        #expect(small.labels == ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0"])
        #expect(small.multiplier == "×10⁻⁴")
        let large = AxisTicks.linear(in: -2e6...0)
        #expect(large.labels == ["−2.0", "−1.5", "−1.0", "−0.5", "0.0"])
        #expect(large.multiplier == "×10⁶")
        #expect(AxisTicks.linear(in: 0...1).multiplier == nil)
    }

    @Test func linearTicksHaveNiceStepsAndStayInRange() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let center = Double.random(in: -1e6...1e6, using: &generator)
            let span = pow(10, Double.random(in: -6...8, using: &generator))
            let range = (center - span / 2)...(center + span / 2)
            let (values, step) = AxisTicks.linearValues(in: range, maxCount: 10)
            #expect((2...10).contains(values.count), "\(range): \(values)")
            #expect(values.allSatisfy { range.contains($0) })
            let mantissa = step / pow(10, floor(log10(step)))
            #expect([1, 2, 5].contains { abs(mantissa - Double($0)) < 1e-9 }, "step \(step)")
        }
    }

    @Test func logTicksAtDecades() {
        let ticks = AxisTicks.logarithmic(in: 1e-7...1e-1)
        #expect(ticks.major == [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
        #expect(ticks.labels == ["10⁻⁷", "10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹"])
        #expect(ticks.minor.count == 6 * 8)
        #expect(ticks.minor.contains(2e-7) && ticks.minor.contains(9e-2) && ticks.minor.contains(5e-4))
        #expect(AxisTicks.logarithmic(in: 1e-7...1e-1, minorTicks: false).minor.isEmpty)
    }

    @Test func logTicksSkipDecadesOnWideRanges() {
        let ticks = AxisTicks.logarithmic(in: 1e-20...1e10)
        #expect((2...10).contains(ticks.major.count))
        #expect(ticks.major.contains(1))
        #expect(ticks.labels.allSatisfy { $0.hasPrefix("10") })
        #expect(!ticks.minor.isEmpty && ticks.minor.allSatisfy { !ticks.major.contains($0) })
    }

    @Test func logTicksWithinOneDecade() {
        let ticks = AxisTicks.logarithmic(in: 2...8)
        #expect(ticks.major == [2, 3, 4, 5, 6, 7, 8])
        #expect(ticks.labels == ["2", "3", "4", "5", "6", "7", "8"])
        #expect(
            AxisTicks.logarithmic(in: 0.03...0.2).labels == [
                "0.03", "0.04", "0.05", "0.06", "0.07", "0.08", "0.09", "0.1", "0.2",
            ])
    }

    @Test func numberFormatting() {
        #expect(fixedDecimal(0.30000000000000004, decimals: 1) == "0.3")
        #expect(fixedDecimal(-0.04, decimals: 1) == "0.0")
        #expect(fixedDecimal(-1.25, decimals: 3) == "-1.250")
        #expect(fixedDecimal(0.05, decimals: 2) == "0.05")
        #expect(svgNumber(12.0) == "12" && svgNumber(3.14159) == "3.14" && svgNumber(-0.001) == "0")
        #expect(svgNumber(.infinity) == "1000000")
        #expect(superscript(-12) == "⁻¹²")
        #expect(AxisTicks.compactLabel(2e-5) == "2×10⁻⁵")
    }

    // MARK: Drawing

    @Test func nanBreaksAPolylineIntoTwoSegments() {
        var plot = Plot()
        plot.addLine(x: [0, 1, 2, 3, 4, 5], y: [0, 1, .nan, 3, 4, 5])
        let xml = parseSVGDocument(plot.svg())
        #expect(xml.error == nil)
        let lines = xml.attributes(of: "polyline")
        #expect(lines.count == 2)
        #expect(lines.map { $0["points"]?.split(separator: " ").count } == [2, 3])
    }

    @Test func infinityAndMismatchedLengthsAreHandled() {
        var plot = Plot()
        plot.addLine(x: [0, 1, 2, 3, 4], y: [0, .infinity, 2, 3])  // extra x ignored
        plot.addScatter(x: [0, .nan, 2], y: [1, 2, -.infinity])
        let xml = parseSVGDocument(plot.svg())
        #expect(xml.error == nil)
        #expect(xml.count("polyline") == 1)
        #expect(xml.count("circle") == 1)
    }

    @Test func logAxisSkipsNonPositiveValues() {
        var plot = Plot(title: "log")
        plot.yScale = .logarithmic
        plot.addLine(x: [1, 2, 3, 4, 5, 6], y: [1, 10, 0, 100, -5, 1000])
        plot.addScatter(x: [1, 2, 3, 4], y: [0, 1e-3, -1, 1e-2])
        let svg = plot.svg()
        let xml = parseSVGDocument(svg)
        #expect(xml.error == nil)
        #expect(xml.count("polyline") == 1)  // [1, 10]; 100 and 1000 are isolated single points
        #expect(xml.count("circle") == 2)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        #expect(xml.texts.contains("10⁻³") && xml.texts.contains("10³"))
    }

    @Test func xmlEscaping() {
        #expect(xmlEscaped("a < b & c > \"d\" 'e'") == "a &lt; b &amp; c &gt; &quot;d&quot; &apos;e&apos;")
        #expect(xmlEscaped("line\nbreak\u{7}bell") == "line breakbell")

        let nasty = "x < 1 & y > \"2\" 'ok' </svg>"
        var plot = Plot(title: nasty, xLabel: "<t>", yLabel: "&")
        plot.addLine(x: [0, 1], y: [0, 1], label: nasty)
        plot.addAnnotation("A&B", x: 0.5, y: 0.5)
        let xml = parseSVGDocument(plot.svg())
        #expect(xml.error == nil)
        #expect(xml.texts.filter { $0 == nasty }.count == 3)  // <title>, title text, legend
        #expect(xml.texts.contains("<t>") && xml.texts.contains("&") && xml.texts.contains("A&B"))
    }

    @Test func everyKindOfPlotIsWellFormedXML() {
        var plot = Plot(title: "All kinds", xLabel: "x", yLabel: "y", width: 500, height: 320)
        let x = (0..<40).map { Double($0) / 4 }
        plot.addLine(x: x, y: x.map(sin), label: "sin", style: .dashed)
        plot.addScatter(x: x, y: x.map(cos), label: "cos", filled: false, marker: .square)
        plot.addLineWithMarkers(x: x, y: x.map { sin($0) * cos($0) }, label: "both", style: .dashDot, marker: .triangle)
        plot.addLine(x: x, y: x.map { 0.5 * cos($0) }, label: "dotted", style: .dotted)
        plot.addScatter(x: [1, 2], y: [0, 0.5], label: "diamonds", marker: .diamond)
        plot.addQuiver(x: [1, 2, 3], y: [0, 0, 0], u: [1, 0, -1], v: [0, 1, 0], label: "field")
        plot.addAnnotation("peak", x: 1.57, y: 1, anchor: .middle, offset: (0, -10), marksPoint: true)
        plot.addAnnotation("outside", x: 100, y: 100)
        for legend in [LegendPosition.topRight, .topLeft, .bottomLeft, .bottomRight, .best, .outsideRight, .none] {
            plot.legend = legend
            let xml = parseSVGDocument(plot.svg())
            #expect(xml.error == nil, "\(legend)")
            #expect(xml.texts.contains("peak") && !xml.texts.contains("outside"))
            #expect(xml.attributes(of: "g").contains { $0["class"] == "legend" } == (legend != .none))
        }
    }

    @Test func legendListsOnlyLabelledSeries() {
        var plot = Plot()
        plot.addLine(x: [0, 1], y: [0, 1], label: "shown")
        plot.addLine(x: [0, 1], y: [1, 0])
        plot.addLine(x: [0, 1], y: [1, 1], label: "")
        let xml = parseSVGDocument(plot.svg())
        #expect(xml.texts.contains("shown"))
        #expect(xml.count("polyline") == 3)
        let legendPaths = plot.svg().components(separatedBy: "class=\"legend\"")[1].components(separatedBy: "<path").count - 1
        #expect(legendPaths == 1)
    }

    @Test func bestLegendAvoidsTheData() {
        var plot = Plot()
        plot.legend = .best
        let x = (0...50).map { Double($0) / 50 }
        plot.addLine(x: x, y: x, label: "rising line")  // occupies bottom-left and top-right
        plot.addScatter(x: [0.02, 0.1, 0.2], y: [0.95, 0.9, 0.97], label: "top left")
        let svg = plot.svg()
        let legendRect = parseSVGDocument(svg).attributes(of: "rect").first { $0["fill-opacity"] != nil }
        let legendX = Double(legendRect?["x"] ?? "") ?? 0
        let legendY = Double(legendRect?["y"] ?? "") ?? 0
        #expect(legendX > 300 && legendY > 200)  // bottom right
    }

    @Test func colorCycleSkipsExplicitColors() {
        var plot = Plot()
        plot.addLine(x: [0, 1], y: [0, 1])
        plot.addLine(x: [0, 1], y: [1, 0], color: .black)
        plot.addLine(x: [0, 1], y: [1, 1])
        let strokes = parseSVGDocument(plot.svg()).attributes(of: "polyline").compactMap { $0["stroke"] }
        #expect(strokes == ["#1f77b4", "#000000", "#ff7f0e"])
        #expect(PlotColor(hex: "#1F77B4") == .blue && PlotColor(hex: "abc")?.hex == "#aabbcc")
        #expect(PlotColor(hex: "#12345") == nil && PlotColor(hex: "zzzzzz") == nil)
        #expect(PlotColor.tableau10.count == 10)
    }

    @Test func emptyAndInvalidPlotsRenderWithANote() {
        let empty = parseSVGDocument(Plot(title: "Nothing").svg())
        #expect(empty.error == nil)
        #expect(empty.texts.contains("No data to plot"))

        var allNaN = Plot()
        allNaN.addLine(x: [.nan, .nan], y: [1, 2], label: "bad")
        allNaN.addQuiver(x: [0], y: [0], u: [.nan], v: [1])
        let invalid = parseSVGDocument(allNaN.svg())
        #expect(invalid.error == nil)
        #expect(invalid.texts.contains("No data to plot"))

        var logPlot = Plot()
        logPlot.xScale = .logarithmic
        logPlot.addScatter(x: [0, -1], y: [1, 2])
        let log = parseSVGDocument(logPlot.svg())
        #expect(log.error == nil)
        #expect(log.texts.contains("No positive data to show on a logarithmic axis"))

        var constant = Plot()
        constant.addLine(x: [2, 2, 2], y: [5, 5, 5])
        #expect(parseSVGDocument(constant.svg()).error == nil)
        #expect(!constant.svg().contains("nan"))
    }

    @Test func fixedRangesAreUsedAndInvalidOnesIgnored() {
        var plot = Plot()
        plot.xRange = 0...10
        plot.yRange = -1...1
        plot.addLine(x: [0, 5, 20], y: [0, 50, 0])
        let texts = parseSVGDocument(plot.svg()).texts
        #expect(texts.contains("10") && texts.contains("−1.0") && texts.contains("1.0"))
        #expect(!texts.contains("20"))

        plot.xScale = .logarithmic
        plot.xRange = -1...10  // not positive: ignored, the data range is used
        plot.addLine(x: [1, 1000], y: [0, 0])
        #expect(parseSVGDocument(plot.svg()).error == nil)
    }

    @Test func quiverArrowsAreScaledToFit() throws {
        var plot = Plot()
        plot.addQuiver(x: [0, 1, 2], y: [0, 0, 0], u: [1, 2, 4], v: [0, 0, 0], arrowLength: 40)
        let paths = parseSVGDocument(plot.svg()).attributes(of: "path")
        let shaftPath = try #require(paths.first { $0["fill"] == "none" && $0["stroke"] == "#1f77b4" }?["d"])
        let headPath = try #require(paths.first { $0["fill"] == "#1f77b4" }?["d"])
        #expect(shaftPath.filter { $0 == "M" }.count == 3)
        #expect(headPath.filter { $0 == "Z" }.count == 3)
        // Arrows are centred on their points; the longest (u = 4) is 40 px, the others in proportion.
        func startXs(_ path: String) -> [Double] {
            path.split(separator: "M").map { Double($0.prefix { $0 != " " })! }
        }
        func arrowLengths(_ svg: String) -> [Double] {
            let paths = parseSVGDocument(svg).attributes(of: "path")
            let shafts = paths.first { $0["fill"] == "none" && $0["stroke"] == "#1f77b4" }?["d"] ?? ""
            let heads = paths.first { $0["fill"] == "#1f77b4" }?["d"] ?? ""
            return zip(startXs(shafts), startXs(heads)).map { $1 - $0 }
        }
        let lengths = arrowLengths(plot.svg())
        #expect(lengths.count == 3)
        #expect(zip(lengths, [10.0, 20, 40]).allSatisfy { abs($0 - $1) < 0.05 }, "\(lengths)")

        plot.series[0].quiverScaling = .uniform
        let uniform = arrowLengths(plot.svg())
        #expect(uniform.count == 3 && uniform.allSatisfy { abs($0 - 40) < 0.05 }, "\(uniform)")
    }

    @Test func writingIsAtomic() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("figure.svg")
        var plot = Plot(title: "first")
        plot.addLine(x: [0, 1], y: [0, 1])
        try plot.write(to: file)
        plot.title = "second"
        try plot.write(to: file)
        let written = try String(contentsOf: file, encoding: .utf8)
        #expect(written == plot.svg())
        #expect(parseSVGDocument(written).texts.contains("second"))
        #expect(try directory.contents() == ["figure.svg"])

        #expect(throws: IOError.self) {
            try plot.write(to: directory.url.appendingPathComponent("missing/figure.svg"))
        }
        try plot.write(to: directory.url.appendingPathComponent("made/figure.svg"), createDirectories: true)
        #expect(try directory.contents() == ["figure.svg", "made"])
    }

    @Test func figureGridRendersEverySubplot() throws {
        var trajectory = Plot(title: "Trajectory", xLabel: "t", yLabel: "x", width: 400, height: 300)
        trajectory.addLine(x: [0, 1, 2], y: [0, 1, 0], label: "x")
        var error = Plot(title: "Error", xLabel: "t", yLabel: "error", width: 400, height: 300)
        error.yScale = .logarithmic
        error.addLine(x: [0, 1, 2], y: [1e-8, 1e-6, 1e-4])
        let empty = Plot(title: "Empty", width: 300, height: 200)

        let grid = FigureGrid(rows: 2, columns: 2, plots: [trajectory, error, empty], title: "Run & check")
        let svg = grid.svg()
        let xml = parseSVGDocument(svg)
        #expect(xml.error == nil)
        let subplots = xml.attributes(of: "g").filter { $0["class"] == "subplot" }
        #expect(subplots.map { $0["transform"] } == ["translate(8 42)", "translate(416 42)", "translate(8 350)"])
        #expect(xml.texts.contains("Trajectory") && xml.texts.contains("Error") && xml.texts.contains("Empty"))
        #expect(xml.texts.contains("Run & check"))
        let clipIDs = xml.attributes(of: "clipPath").compactMap { $0["id"] }
        #expect(Set(clipIDs).count == 3)
        let root = try #require(xml.attributes(of: "svg").first)
        #expect(root["width"] == "824" && root["height"] == "558")

        // More plots than cells: rows are added.
        let tall = FigureGrid(rows: 1, columns: 2, plots: [trajectory, error, trajectory])
        #expect(tall.layout.rows == 2)
        #expect(parseSVGDocument(tall.svg()).attributes(of: "g").filter { $0["class"] == "subplot" }.count == 3)
    }
}
