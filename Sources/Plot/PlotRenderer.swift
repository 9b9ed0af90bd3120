import RNNODEIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Accumulates the elements of one SVG document.
struct SVGDocument {
    var width: Double
    var height: Double
    var title: String = ""
    private var body = ""

    init(width: Double, height: Double, title: String = "") {
        self.width = width
        self.height = height
        self.title = title
    }

    mutating func append(_ element: String) {
        body += element
        body += "\n"
    }

    func finish() -> String {
        let w = svgNumber(width)
        let h = svgNumber(height)
        var text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(w)" height="\(h)" \
            viewBox="0 0 \(w) \(h)" font-family="\(PlotStyle.fontFamily)">

            """
        if !title.isEmpty { text += "<title>\(xmlEscaped(title))</title>\n" }
        text += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        text += body
        text += "</svg>\n"
        return text
    }
}

/// Fonts, sizes and colors of the plots.
enum PlotStyle {
    static let fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"
    static let titleSize = 16.0
    static let labelSize = 14.0
    static let tickSize = 12.0
    static let legendSize = 12.0
    static let textColor = "#222222"
    static let axisColor = "#333333"
    static let gridColor = "#e3e3e3"
    static let minorGridColor = "#f2f2f2"
    static let tickLength = 5.0
    static let minorTickLength = 3.0
}

/// Maps data values on one axis to pixels.
struct AxisMap {
    var scale: AxisScale
    var range: ClosedRange<Double>
    /// Pixel of `range.lowerBound` and of `range.upperBound` (the y axis runs upwards).
    var pixelStart: Double
    var pixelEnd: Double

    func transform(_ value: Double) -> Double {
        scale == .logarithmic ? log10(value) : value
    }

    func pixel(_ value: Double) -> Double {
        let a = transform(range.lowerBound)
        let b = transform(range.upperBound)
        return pixelStart + (transform(value) - a) / (b - a) * (pixelEnd - pixelStart)
    }

    /// Pixels per data unit at `value` (the derivative of `pixel`).
    func slope(at value: Double) -> Double {
        let a = transform(range.lowerBound)
        let b = transform(range.upperBound)
        let perUnit = (pixelEnd - pixelStart) / (b - a)
        return scale == .logarithmic ? perUnit / (value * M_LN10) : perUnit
    }

    func contains(_ value: Double) -> Bool {
        let low = Swift.min(pixelStart, pixelEnd) - 0.5
        let high = Swift.max(pixelStart, pixelEnd) + 0.5
        let p = pixel(value)
        return p >= low && p <= high
    }
}

/// A series with its valid points grouped into unbroken runs.
private struct PreparedSeries {
    var series: PlotSeries
    var color: String
    /// Runs of consecutive drawable points (data coordinates).
    var segments: [[(x: Double, y: Double)]]
    /// Arrows of a quiver series: position and vector.
    var arrows: [(x: Double, y: Double, u: Double, v: Double)]

    var points: [(x: Double, y: Double)] { segments.flatMap { $0 } + arrows.map { ($0.x, $0.y) } }
}

/// The plot area and the axes of a laid-out plot.
private struct Frame {
    var xAxis: AxisMap
    var yAxis: AxisMap
    var xTicks: AxisTicks
    var yTicks: AxisTicks
    /// The top margin (the title sits in it).
    var top: Double

    var left: Double { xAxis.pixelStart }
    var right: Double { xAxis.pixelEnd }
    var plotTop: Double { yAxis.pixelEnd }
    var bottom: Double { yAxis.pixelStart }
    var area: (x: Double, y: Double, width: Double, height: Double) { (left, plotTop, right - left, bottom - plotTop) }
    var centerX: Double { (left + right) / 2 }
    /// Baseline of the x tick labels.
    var xTickBaseline: Double { bottom + PlotStyle.tickLength + 3 + PlotStyle.tickSize * 0.95 }
}

/// Draws one ``Plot`` into an SVG document, at the origin of the current coordinate system.
struct PlotRenderer {
    var plot: Plot
    /// Prefix for element ids (clip paths), unique within a document.
    var idPrefix: String

    func render(into svg: inout SVGDocument) {
        let (prepared, skippedNonPositive) = prepareSeries()
        let allPoints = prepared.flatMap(\.points)
        let entries = prepared.filter { !($0.series.label ?? "").isEmpty }
        let legendSize = entries.isEmpty || plot.legend == .none ? nil : Self.legendSize(entries)
        let frame = layout(points: allPoints, legendWidth: plot.legend == .outsideRight ? legendSize?.width : nil)

        svg.append("<g class=\"plot\">")
        if plot.showsGrid { drawGrid(frame, into: &svg) }
        let area = frame.area
        let n = svgNumber
        let clipID = idPrefix + "area"
        svg.append(
            "<clipPath id=\"\(clipID)\"><rect x=\"\(n(area.x))\" y=\"\(n(area.y))\" width=\"\(n(area.width))\" height=\"\(n(area.height))\"/></clipPath>"
        )
        svg.append("<g clip-path=\"url(#\(clipID))\">")
        for series in prepared {
            drawSeries(series, xAxis: frame.xAxis, yAxis: frame.yAxis, into: &svg)
        }
        svg.append("</g>")
        drawAxes(frame, into: &svg)
        drawTitles(frame, into: &svg)
        drawAnnotations(frame, into: &svg)
        if let legendSize {
            let pixelPoints = prepared.flatMap { series in
                Self.samplePoints(series).map { (frame.xAxis.pixel($0.x), frame.yAxis.pixel($0.y)) }
            }
            let origin = legendOrigin(size: legendSize, area: area, points: pixelPoints)
            drawLegend(entries, at: origin, size: legendSize, into: &svg)
        }
        if allPoints.isEmpty {
            let message = skippedNonPositive ? "No positive data to show on a logarithmic axis" : "No data to plot"
            svg.append(
                "<text class=\"note\" x=\"\(n(frame.centerX))\" y=\"\(n(area.y + area.height / 2 + 5))\" text-anchor=\"middle\" font-size=\"14\" font-style=\"italic\" fill=\"#777777\">\(message)</text>"
            )
        }
        svg.append("</g>")
    }

    // MARK: Data

    /// Assigns colors and splits every series into runs of drawable points. Also reports whether
    /// finite points were dropped for being non-positive on a logarithmic axis.
    private func prepareSeries() -> ([PreparedSeries], skippedNonPositive: Bool) {
        var skippedNonPositive = false
        var autoColor = 0
        let prepared: [PreparedSeries] = plot.series.map { series in
            let color: PlotColor
            if let own = series.color {
                color = own
            } else {
                color = plot.colorCycle.isEmpty ? .blue : plot.colorCycle[autoColor % plot.colorCycle.count]
                autoColor += 1
            }
            var prepared = PreparedSeries(series: series, color: color.hex, segments: [], arrows: [])
            var run: [(x: Double, y: Double)] = []
            for i in 0..<Swift.min(series.x.count, series.y.count) {
                let x = series.x[i]
                let y = series.y[i]
                var valid = drawable(x, on: plot.xScale) && drawable(y, on: plot.yScale)
                if !valid && x.isFinite && y.isFinite { skippedNonPositive = true }
                if case .quiver(let u, let v) = series.kind {
                    valid = valid && i < u.count && i < v.count && u[i].isFinite && v[i].isFinite
                    if valid { prepared.arrows.append((x, y, u[i], v[i])) }
                } else if valid {
                    run.append((x, y))
                } else if !run.isEmpty {
                    prepared.segments.append(run)
                    run = []
                }
            }
            if !run.isEmpty { prepared.segments.append(run) }
            return prepared
        }
        return (prepared, skippedNonPositive)
    }

    private func drawable(_ value: Double, on scale: AxisScale) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }

    // MARK: Layout

    /// Margins, axes and ticks. The vertical layout comes first, then the y ticks (whose labels set
    /// the left margin), then the horizontal layout and the x ticks.
    private func layout(points: [(x: Double, y: Double)], legendWidth: Double?) -> Frame {
        let xRange = Self.resolvedRange(fixed: plot.xRange, scale: plot.xScale, data: points.map(\.x))
        let yRange = Self.resolvedRange(fixed: plot.yRange, scale: plot.yScale, data: points.map(\.y))

        // A multiplier such as "×10⁻⁵" sits above the y axis and under the right end of the x axis.
        let yMultiplier = plot.yScale == .linear && AxisTicks.linear(in: yRange).multiplier != nil
        let xMultiplier = plot.xScale == .linear && AxisTicks.linear(in: xRange).multiplier != nil
        let top = plot.title.isEmpty ? (yMultiplier ? 26.0 : 16.0) : 44.0
        let bottom = plot.xLabel.isEmpty ? (xMultiplier ? 48.0 : 30.0) : 56.0
        let plotBottom = Swift.max(top + 10, (plot.height - bottom).rounded())
        let yAxis = AxisMap(scale: plot.yScale, range: yRange, pixelStart: plotBottom, pixelEnd: top)
        let yTicks = Self.chooseTicks(for: yAxis, minSpacing: 36) { _ in PlotStyle.tickSize * 1.2 }

        let yTickWidth = yTicks.labels.map { estimatedTextWidth($0, fontSize: PlotStyle.tickSize) }.max() ?? 0
        let left = ((plot.yLabel.isEmpty ? 8.0 : 30.0) + yTickWidth + PlotStyle.tickLength + 8).rounded()
        let right = legendWidth.map { $0 + 24 } ?? 24
        let plotRight = Swift.max(left + 10, (plot.width - right).rounded())
        let xAxis = AxisMap(scale: plot.xScale, range: xRange, pixelStart: left, pixelEnd: plotRight)
        let xTicks = Self.chooseTicks(for: xAxis, minSpacing: 48) {
            estimatedTextWidth($0, fontSize: PlotStyle.tickSize) + 14
        }
        return Frame(xAxis: xAxis, yAxis: yAxis, xTicks: xTicks, yTicks: yTicks, top: top)
    }

    // MARK: Grid, axes, titles, annotations

    private func drawGrid(_ frame: Frame, into svg: inout SVGDocument) {
        let n = svgNumber
        func verticals(_ values: [Double]) -> String {
            values.filter(frame.xAxis.contains).map {
                "M\(n(frame.xAxis.pixel($0))) \(n(frame.plotTop))V\(n(frame.bottom))"
            }.joined()
        }
        func horizontals(_ values: [Double]) -> String {
            values.filter(frame.yAxis.contains).map {
                "M\(n(frame.left)) \(n(frame.yAxis.pixel($0)))H\(n(frame.right))"
            }.joined()
        }
        let minor = verticals(frame.xTicks.minor) + horizontals(frame.yTicks.minor)
        let major = verticals(frame.xTicks.major) + horizontals(frame.yTicks.major)
        if !minor.isEmpty {
            svg.append(
                "<path class=\"minor-grid\" d=\"\(minor)\" stroke=\"\(PlotStyle.minorGridColor)\" stroke-width=\"1\" shape-rendering=\"crispEdges\"/>"
            )
        }
        if !major.isEmpty {
            svg.append(
                "<path class=\"grid\" d=\"\(major)\" stroke=\"\(PlotStyle.gridColor)\" stroke-width=\"1\" shape-rendering=\"crispEdges\"/>"
            )
        }
    }

    /// The frame around the plot area, tick marks, tick labels and multipliers.
    private func drawAxes(_ frame: Frame, into svg: inout SVGDocument) {
        let n = svgNumber
        let area = frame.area
        svg.append(
            "<rect class=\"frame\" x=\"\(n(area.x))\" y=\"\(n(area.y))\" width=\"\(n(area.width))\" height=\"\(n(area.height))\" fill=\"none\" stroke=\"\(PlotStyle.axisColor)\" stroke-width=\"1\" shape-rendering=\"crispEdges\"/>"
        )
        var ticks = ""
        for (values, length) in [(frame.xTicks.major, PlotStyle.tickLength), (frame.xTicks.minor, PlotStyle.minorTickLength)] {
            for value in values where frame.xAxis.contains(value) {
                ticks += "M\(n(frame.xAxis.pixel(value))) \(n(frame.bottom))v\(n(length))"
            }
        }
        for (values, length) in [(frame.yTicks.major, PlotStyle.tickLength), (frame.yTicks.minor, PlotStyle.minorTickLength)] {
            for value in values where frame.yAxis.contains(value) {
                ticks += "M\(n(frame.left)) \(n(frame.yAxis.pixel(value)))h\(n(-length))"
            }
        }
        if !ticks.isEmpty {
            svg.append(
                "<path class=\"ticks\" d=\"\(ticks)\" stroke=\"\(PlotStyle.axisColor)\" stroke-width=\"1\" shape-rendering=\"crispEdges\"/>"
            )
        }

        var labels = "<g class=\"tick-labels\" font-size=\"\(n(PlotStyle.tickSize))\" fill=\"\(PlotStyle.textColor)\">"
        func text(_ string: String, x: Double, y: Double, anchor: String) {
            labels += "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\">\(xmlEscaped(string))</text>"
        }
        for (value, label) in zip(frame.xTicks.major, frame.xTicks.labels) where frame.xAxis.contains(value) {
            text(label, x: frame.xAxis.pixel(value), y: frame.xTickBaseline, anchor: "middle")
        }
        for (value, label) in zip(frame.yTicks.major, frame.yTicks.labels) where frame.yAxis.contains(value) {
            text(
                label, x: frame.left - PlotStyle.tickLength - 4,
                y: frame.yAxis.pixel(value) + PlotStyle.tickSize * 0.36, anchor: "end")
        }
        if let multiplier = frame.yTicks.multiplier {
            text(multiplier, x: frame.left, y: frame.plotTop - 7, anchor: "start")
        }
        if let multiplier = frame.xTicks.multiplier {
            text(multiplier, x: frame.right, y: frame.xTickBaseline + 20, anchor: "end")
        }
        svg.append(labels + "</g>")
    }

    private func drawTitles(_ frame: Frame, into svg: inout SVGDocument) {
        let n = svgNumber
        let font = "font-size=\"\(n(PlotStyle.labelSize))\" fill=\"\(PlotStyle.textColor)\""
        if !plot.xLabel.isEmpty {
            svg.append(
                "<text class=\"x-label\" x=\"\(n(frame.centerX))\" y=\"\(n(frame.xTickBaseline + 24))\" text-anchor=\"middle\" \(font)>\(xmlEscaped(plot.xLabel))</text>"
            )
        }
        if !plot.yLabel.isEmpty {
            let x = 8 + PlotStyle.labelSize * 0.8
            let y = frame.plotTop + frame.area.height / 2
            svg.append(
                "<text class=\"y-label\" x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"middle\" \(font) transform=\"rotate(-90 \(n(x)) \(n(y)))\">\(xmlEscaped(plot.yLabel))</text>"
            )
        }
        if !plot.title.isEmpty {
            svg.append(
                "<text class=\"title\" x=\"\(n(frame.centerX))\" y=\"\(n(frame.top - 14))\" text-anchor=\"middle\" font-size=\"\(n(PlotStyle.titleSize))\" font-weight=\"bold\" fill=\"\(PlotStyle.textColor)\">\(xmlEscaped(plot.title))</text>"
            )
        }
    }

    /// Annotation texts with a white halo so they stay readable over lines and grid.
    private func drawAnnotations(_ frame: Frame, into svg: inout SVGDocument) {
        let n = svgNumber
        for note in plot.annotations {
            guard drawable(note.x, on: plot.xScale), drawable(note.y, on: plot.yScale),
                frame.xAxis.contains(note.x), frame.yAxis.contains(note.y)
            else { continue }
            let x = frame.xAxis.pixel(note.x)
            let y = frame.yAxis.pixel(note.y)
            if note.marksPoint {
                svg.append("<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"2.5\" fill=\"\(note.color.hex)\"/>")
            }
            svg.append(
                "<text class=\"annotation\" x=\"\(n(x + note.offsetX))\" y=\"\(n(y + note.offsetY + note.fontSize * 0.36))\" text-anchor=\"\(note.anchor.rawValue)\" font-size=\"\(n(note.fontSize))\" fill=\"\(note.color.hex)\" stroke=\"white\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">\(xmlEscaped(note.text))</text>"
            )
        }
    }

    // MARK: Ranges and ticks

    /// The fixed range if usable, else the data range with 5 % padding (in log space for a log axis);
    /// without data, 0…1 (linear) or 1…10 (log).
    static func resolvedRange(fixed: ClosedRange<Double>?, scale: AxisScale, data: [Double]) -> ClosedRange<Double> {
        if let fixed, fixed.lowerBound < fixed.upperBound, fixed.lowerBound.isFinite, fixed.upperBound.isFinite,
            scale == .linear || fixed.lowerBound > 0
        {
            return fixed
        }
        guard var low = data.min(), var high = data.max() else {
            return scale == .linear ? 0...1 : 1...10
        }
        if scale == .logarithmic {
            low = log10(low)
            high = log10(high)
        }
        if high - low <= 1e-12 * Swift.max(Swift.abs(low), Swift.abs(high)) {
            let half = scale == .logarithmic ? 0.5 : (low == 0 ? 1 : Swift.abs(low) * 0.1)
            low -= half
            high += half
        } else {
            let pad = 0.05 * (high - low)
            low -= pad
            high += pad
        }
        if scale == .logarithmic {
            return pow(10, low)...pow(10, high)
        }
        return low...high
    }

    /// The densest ticks (at most 10) whose labels do not crowd each other: neighbouring ticks are at
    /// least `minSpacing` pixels apart and at least as far apart as their labels' `extent`.
    static func chooseTicks(for axis: AxisMap, minSpacing: Double, extent: (String) -> Double) -> AxisTicks {
        let length = Swift.abs(axis.pixelEnd - axis.pixelStart)
        var pixelsPerDecade = 0.0
        if axis.scale == .logarithmic {
            pixelsPerDecade = length / (log10(axis.range.upperBound) - log10(axis.range.lowerBound))
        }
        var chosen = AxisTicks(major: [], labels: [])
        for maxCount in stride(from: 10, through: 2, by: -1) {
            let ticks =
                axis.scale == .linear
                ? AxisTicks.linear(in: axis.range, maxCount: maxCount)
                : AxisTicks.logarithmic(in: axis.range, maxCount: maxCount, minorTicks: pixelsPerDecade >= 30)
            chosen = ticks
            var fits = true
            for i in ticks.major.indices.dropFirst() {
                let distance = Swift.abs(axis.pixel(ticks.major[i]) - axis.pixel(ticks.major[i - 1]))
                let needed = Swift.max(minSpacing, (extent(ticks.labels[i]) + extent(ticks.labels[i - 1])) / 2)
                if distance < needed {
                    fits = false
                    break
                }
            }
            if fits { break }
        }
        return chosen
    }

    // MARK: Series

    private func drawSeries(_ prepared: PreparedSeries, xAxis: AxisMap, yAxis: AxisMap, into svg: inout SVGDocument) {
        let series = prepared.series
        let n = svgNumber
        let opacity = series.opacity < 1 ? " opacity=\"\(n(Swift.max(0, series.opacity)))\"" : ""
        svg.append("<g class=\"series\"\(opacity)>")
        switch series.kind {
        case .line, .lineWithMarkers:
            for segment in prepared.segments where segment.count >= 2 {
                let points = segment.map { "\(n(xAxis.pixel($0.x))),\(n(yAxis.pixel($0.y)))" }.joined(separator: " ")
                svg.append("<polyline points=\"\(points)\" \(Self.strokeAttributes(series, color: prepared.color))/>")
            }
            if series.kind == .lineWithMarkers {
                let pixels = prepared.segments.flatMap { $0 }.map { (xAxis.pixel($0.x), yAxis.pixel($0.y)) }
                svg.append(Self.markers(at: pixels, series: series, color: prepared.color))
            }
        case .scatter:
            let pixels = prepared.segments.flatMap { $0 }.map { (xAxis.pixel($0.x), yAxis.pixel($0.y)) }
            svg.append(Self.markers(at: pixels, series: series, color: prepared.color))
        case .quiver:
            drawArrows(prepared, xAxis: xAxis, yAxis: yAxis, into: &svg)
        }
        svg.append("</g>")
    }

    /// `fill`, `stroke`, width and dash attributes of a line.
    private static func strokeAttributes(_ series: PlotSeries, color: String) -> String {
        let width = Swift.max(0.1, series.lineWidth)
        var text = "fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(svgNumber(width))\" stroke-linejoin=\"round\""
        let unit = Swift.max(1, width / 1.5)
        let pattern: [Double]
        switch series.lineStyle {
        case .solid: pattern = []
        case .dashed: pattern = [5.5, 3.5]
        case .dotted: pattern = [0.01, 2.6]
        case .dashDot: pattern = [6, 2.6, 0.01, 2.6]
        case .custom(let custom): pattern = custom.allSatisfy { $0 >= 0 && $0.isFinite } ? custom : []
        }
        if series.lineStyle == .dotted || series.lineStyle == .dashDot {
            text += " stroke-linecap=\"round\""
        }
        if !pattern.isEmpty {
            let scaled = series.lineStyle.isCustom ? pattern : pattern.map { $0 * unit }
            text += " stroke-dasharray=\"\(scaled.map(svgNumber).joined(separator: " "))\""
        }
        return text
    }

    /// Markers of `series` at pixel positions, in one group.
    static func markers(at pixels: [(Double, Double)], series: PlotSeries, color: String) -> String {
        let n = svgNumber
        let r = Swift.max(0.5, series.markerRadius)
        var text =
            series.filledMarkers
            ? "<g fill=\"\(color)\" stroke=\"white\" stroke-width=\"0.8\">"
            : "<g fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\">"
        for (x, y) in pixels {
            switch series.marker {
            case .circle:
                text += "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(r))\"/>"
            case .square:
                let s = r * 0.9
                text += "<rect x=\"\(n(x - s))\" y=\"\(n(y - s))\" width=\"\(n(2 * s))\" height=\"\(n(2 * s))\"/>"
            case .triangle:
                let s = r * 1.3
                text +=
                    "<path d=\"M\(n(x)) \(n(y - s))L\(n(x + s * 0.866)) \(n(y + s * 0.5))L\(n(x - s * 0.866)) \(n(y + s * 0.5))Z\"/>"
            case .diamond:
                let s = r * 1.25
                text += "<path d=\"M\(n(x)) \(n(y - s))L\(n(x + s)) \(n(y))L\(n(x)) \(n(y + s))L\(n(x - s)) \(n(y))Z\"/>"
            }
        }
        return text + "</g>"
    }

    /// Arrows centred on their points, scaled so the longest (or every) arrow has the arrow length.
    private func drawArrows(_ prepared: PreparedSeries, xAxis: AxisMap, yAxis: AxisMap, into svg: inout SVGDocument) {
        let series = prepared.series
        let vectors = prepared.arrows.map { arrow in
            (
                x: xAxis.pixel(arrow.x), y: yAxis.pixel(arrow.y),
                dx: arrow.u * xAxis.slope(at: arrow.x), dy: arrow.v * yAxis.slope(at: arrow.y)
            )
        }
        let longest = vectors.map { hypot($0.dx, $0.dy) }.max() ?? 0
        guard longest > 0, longest.isFinite else { return }
        let target = series.arrowLength ?? 0.85 * Self.typicalSpacing(vectors.map { ($0.x, $0.y) })
        let width = Swift.max(0.3, series.lineWidth)
        let n = svgNumber
        var shafts = ""
        var heads = ""
        for vector in vectors {
            let length = hypot(vector.dx, vector.dy)
            guard length > 0, length.isFinite else { continue }
            let drawn = series.quiverScaling == .uniform ? target : target * length / longest
            guard drawn >= 0.5 else { continue }
            let ux = vector.dx / length
            let uy = vector.dy / length
            let startX = vector.x - ux * drawn / 2
            let startY = vector.y - uy * drawn / 2
            let tipX = vector.x + ux * drawn / 2
            let tipY = vector.y + uy * drawn / 2
            let head = Swift.min(Swift.max(drawn * 0.35, 3 + width), 6 + 2 * width)
            let half = head * 0.45
            let baseX = tipX - ux * head
            let baseY = tipY - uy * head
            if drawn > head {
                shafts += "M\(n(startX)) \(n(startY))L\(n(baseX + ux * 0.5)) \(n(baseY + uy * 0.5))"
            }
            heads +=
                "M\(n(tipX)) \(n(tipY))L\(n(baseX - uy * half)) \(n(baseY + ux * half))L\(n(baseX + uy * half)) \(n(baseY - ux * half))Z"
        }
        if !shafts.isEmpty {
            svg.append("<path d=\"\(shafts)\" fill=\"none\" stroke=\"\(prepared.color)\" stroke-width=\"\(n(width))\"/>")
        }
        if !heads.isEmpty {
            svg.append("<path d=\"\(heads)\" fill=\"\(prepared.color)\" stroke=\"none\"/>")
        }
    }

    /// Median distance from a point to its nearest neighbour (first 400 points), 30 px for one point.
    static func typicalSpacing(_ points: [(Double, Double)]) -> Double {
        let sample = Array(points.prefix(400))
        guard sample.count >= 2 else { return 30 }
        var nearest: [Double] = []
        for (i, p) in sample.enumerated() {
            var best = Double.infinity
            for (j, q) in sample.enumerated() where j != i {
                let d = hypot(p.0 - q.0, p.1 - q.1)
                if d > 0 && d < best { best = d }
            }
            if best.isFinite { nearest.append(best) }
        }
        guard !nearest.isEmpty else { return 30 }
        return Swift.min(Swift.max(nearest.sorted()[nearest.count / 2], 6), 80)
    }

    // MARK: Legend

    private static let legendPadding = 8.0
    private static let legendSample = 30.0

    private static func legendRowHeight(_ entry: PreparedSeries) -> Double {
        Swift.max(18, 2 * entry.series.markerRadius + 6)
    }

    private static func legendSize(_ entries: [PreparedSeries]) -> (width: Double, height: Double) {
        let textWidth = entries.map { estimatedTextWidth($0.series.label ?? "", fontSize: PlotStyle.legendSize) }.max() ?? 0
        let height = entries.map(legendRowHeight).reduce(0, +) + 2 * legendPadding - 4
        return (2 * legendPadding + legendSample + 8 + textWidth, height)
    }

    private func legendOrigin(
        size: (width: Double, height: Double),
        area: (x: Double, y: Double, width: Double, height: Double),
        points: [(Double, Double)]
    ) -> (x: Double, y: Double) {
        let inset = 10.0
        let left = area.x + inset
        let right = area.x + area.width - inset - size.width
        let top = area.y + inset
        let bottom = area.y + area.height - inset - size.height
        switch plot.legend {
        case .none, .topRight: return (right, top)
        case .topLeft: return (left, top)
        case .bottomRight: return (right, bottom)
        case .bottomLeft: return (left, bottom)
        case .outsideRight: return (area.x + area.width + 14, area.y)
        case .best:
            let middleX = (left + right) / 2
            let middleY = (top + bottom) / 2
            let candidates = [
                (right, top), (left, top), (right, bottom), (left, bottom),
                (middleX, top), (middleX, bottom), (right, middleY), (left, middleY),
            ]
            var best = candidates[0]
            var fewest = Int.max
            for candidate in candidates {
                let covered = points.reduce(0) { count, p in
                    let inside =
                        p.0 >= candidate.0 - 4 && p.0 <= candidate.0 + size.width + 4
                        && p.1 >= candidate.1 - 4 && p.1 <= candidate.1 + size.height + 4
                    return count + (inside ? 1 : 0)
                }
                if covered < fewest {
                    fewest = covered
                    best = candidate
                }
            }
            return best
        }
    }

    /// Points and segment midpoints (data coordinates), to judge what a legend would cover.
    private static func samplePoints(_ series: PreparedSeries) -> [(x: Double, y: Double)] {
        var points = series.arrows.map { (x: $0.x, y: $0.y) }
        for segment in series.segments {
            points += segment
            if series.series.kind != .scatter {
                for i in segment.indices.dropFirst() {
                    let a = segment[i - 1]
                    let b = segment[i]
                    for t in [0.25, 0.5, 0.75] {
                        points.append((a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)))
                    }
                }
            }
        }
        return points
    }

    private func drawLegend(
        _ entries: [PreparedSeries], at origin: (x: Double, y: Double),
        size: (width: Double, height: Double), into svg: inout SVGDocument
    ) {
        let n = svgNumber
        svg.append("<g class=\"legend\" font-size=\"\(n(PlotStyle.legendSize))\">")
        svg.append(
            "<rect x=\"\(n(origin.x))\" y=\"\(n(origin.y))\" width=\"\(n(size.width))\" height=\"\(n(size.height))\" rx=\"3\" fill=\"white\" fill-opacity=\"0.88\" stroke=\"#c8c8c8\" stroke-width=\"1\"/>"
        )
        var y = origin.y + Self.legendPadding - 2
        let sampleLeft = origin.x + Self.legendPadding
        let sampleRight = sampleLeft + Self.legendSample
        for entry in entries {
            let rowHeight = Self.legendRowHeight(entry)
            let center = y + rowHeight / 2
            let series = entry.series
            switch series.kind {
            case .line, .lineWithMarkers:
                svg.append(
                    "<path d=\"M\(n(sampleLeft)) \(n(center))H\(n(sampleRight))\" \(Self.strokeAttributes(series, color: entry.color))/>"
                )
                if series.kind == .lineWithMarkers {
                    svg.append(Self.markers(at: [((sampleLeft + sampleRight) / 2, center)], series: series, color: entry.color))
                }
            case .scatter:
                svg.append(Self.markers(at: [((sampleLeft + sampleRight) / 2, center)], series: series, color: entry.color))
            case .quiver:
                let tip = sampleRight - 2
                let head = 7.0
                svg.append(
                    "<path d=\"M\(n(sampleLeft + 2)) \(n(center))H\(n(tip - head + 0.5))\" stroke=\"\(entry.color)\" stroke-width=\"\(n(series.lineWidth))\" fill=\"none\"/>"
                )
                svg.append(
                    "<path d=\"M\(n(tip)) \(n(center))L\(n(tip - head)) \(n(center - 3.2))L\(n(tip - head)) \(n(center + 3.2))Z\" fill=\"\(entry.color)\"/>"
                )
            }
            svg.append(
                "<text x=\"\(n(sampleRight + 8))\" y=\"\(n(center + PlotStyle.legendSize * 0.36))\" fill=\"\(PlotStyle.textColor)\">\(xmlEscaped(series.label ?? ""))</text>"
            )
            y += rowHeight
        }
        svg.append("</g>")
    }
}

extension LineStyle {
    fileprivate var isCustom: Bool {
        if case .custom = self { return true }
        return false
    }
}
