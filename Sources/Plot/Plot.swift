import RNNODEIO

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A 2-D chart rendered as standalone SVG text: line, scatter, line-with-marker and arrow-field
/// (quiver) series on linear or logarithmic axes, with title, axis labels, grid, legend and text
/// annotations. No dependencies; the SVG renders in browsers, `rsvg-convert`, Inkscape and LaTeX
/// (via `svg` packages).
///
/// ```swift
/// var plot = Plot(title: "Global error of RK4", xLabel: "step size h", yLabel: "max |error|")
/// plot.xScale = .logarithmic
/// plot.yScale = .logarithmic
/// plot.addLineWithMarkers(x: steps, y: errors, label: "RK4")
/// plot.addLine(x: steps, y: steps.map { pow($0, 4) }, label: "O(h⁴)", color: .gray, style: .dashed)
/// try plot.write(to: URL(fileURLWithPath: "convergence.svg"))
/// ```
///
/// Points with a NaN or infinite coordinate are skipped (a line is broken there), as are
/// non-positive values on a logarithmic axis. A plot with nothing to draw still renders axes with a
/// short note. Series without a color take the next color of ``colorCycle``.
public struct Plot: Sendable {
    /// The title above the plot area (empty: none).
    public var title: String
    /// The label under the x axis (empty: none).
    public var xLabel: String
    /// The label left of the y axis, written vertically (empty: none).
    public var yLabel: String
    /// The width of the whole figure in pixels (default 720).
    public var width: Double
    /// The height of the whole figure in pixels (default 450).
    public var height: Double
    /// How x values map to the horizontal axis.
    public var xScale: AxisScale = .linear
    /// How y values map to the vertical axis.
    public var yScale: AxisScale = .linear
    /// A fixed x range; `nil` (the default) fits the data with 5 % padding. Ignored if empty, not
    /// finite, or not positive on a logarithmic axis.
    public var xRange: ClosedRange<Double>?
    /// A fixed y range; `nil` (the default) fits the data with 5 % padding. Same rules as `xRange`.
    public var yRange: ClosedRange<Double>?
    /// Where the legend goes; it lists the series that have a non-empty label.
    public var legend: LegendPosition = .topRight
    /// Light grid lines at the major ticks (and minor ticks of logarithmic axes).
    public var showsGrid: Bool = true
    /// Colors given, in turn, to the series that have no color of their own.
    public var colorCycle: [PlotColor] = PlotColor.tableau10
    /// The series, drawn in order (later ones on top).
    public var series: [PlotSeries] = []
    /// Text placed at data coordinates, drawn above the series.
    public var annotations: [PlotAnnotation] = []

    /// An empty plot.
    public init(
        title: String = "", xLabel: String = "", yLabel: String = "",
        width: Double = 720, height: Double = 450
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.width = width
        self.height = height
    }

    /// Adds a series.
    public mutating func add(_ series: PlotSeries) {
        self.series.append(series)
    }

    /// Adds a polyline through the points `(x[i], y[i])` (extra values of the longer array are
    /// ignored). A NaN or infinite point breaks the line.
    ///
    /// ```swift
    /// plot.addLine(x: t, y: x, label: "x(t)", style: .dashed)
    /// ```
    public mutating func addLine(
        x: [Double], y: [Double], label: String? = nil, color: PlotColor? = nil,
        width: Double = 2, style: LineStyle = .solid
    ) {
        var series = PlotSeries(kind: .line, x: x, y: y, label: label, color: color)
        series.lineWidth = width
        series.lineStyle = style
        add(series)
    }

    /// Adds markers at the points `(x[i], y[i])`.
    ///
    /// ```swift
    /// plot.addScatter(x: tObserved, y: observed, label: "data", radius: 3, filled: false)
    /// ```
    public mutating func addScatter(
        x: [Double], y: [Double], label: String? = nil, color: PlotColor? = nil,
        radius: Double = 3.5, filled: Bool = true, marker: MarkerShape = .circle
    ) {
        var series = PlotSeries(kind: .scatter, x: x, y: y, label: label, color: color)
        series.markerRadius = radius
        series.filledMarkers = filled
        series.marker = marker
        add(series)
    }

    /// Adds a polyline with a marker at every point.
    public mutating func addLineWithMarkers(
        x: [Double], y: [Double], label: String? = nil, color: PlotColor? = nil,
        width: Double = 2, style: LineStyle = .solid,
        marker: MarkerShape = .circle, radius: Double = 4,
        filled: Bool = true
    ) {
        var series = PlotSeries(kind: .lineWithMarkers, x: x, y: y, label: label, color: color)
        series.lineWidth = width
        series.lineStyle = style
        series.marker = marker
        series.markerRadius = radius
        series.filledMarkers = filled
        add(series)
    }

    /// Adds an arrow at each point `(x[i], y[i])` pointing along `(u[i], v[i])` (in data units),
    /// e.g. the vector field of a phase portrait. Arrows are scaled to fit: with `.proportional`
    /// the longest arrow is `arrowLength` pixels (default: about the spacing between points), with
    /// `.uniform` all arrows have that length and only show direction.
    ///
    /// ```swift
    /// plot.addQuiver(x: gridX, y: gridY, u: dx, v: dy, color: .gray, scaling: .uniform)
    /// ```
    public mutating func addQuiver(
        x: [Double], y: [Double], u: [Double], v: [Double], label: String? = nil,
        color: PlotColor? = nil, scaling: QuiverScaling = .proportional,
        arrowLength: Double? = nil, width: Double = 1.2
    ) {
        var series = PlotSeries(kind: .quiver(u: u, v: v), x: x, y: y, label: label, color: color)
        series.quiverScaling = scaling
        series.arrowLength = arrowLength
        series.lineWidth = width
        add(series)
    }

    /// Adds a text at data coordinates `(x, y)`, shifted by `offset` pixels (right, down).
    ///
    /// ```swift
    /// plot.addAnnotation("equilibrium", x: 1, y: 0.5, offset: (6, -6), marksPoint: true)
    /// ```
    public mutating func addAnnotation(
        _ text: String, x: Double, y: Double, anchor: TextAnchor = .start,
        color: PlotColor = .black, fontSize: Double = 12,
        offset: (x: Double, y: Double) = (0, 0), marksPoint: Bool = false
    ) {
        annotations.append(
            PlotAnnotation(
                text, x: x, y: y, anchor: anchor, color: color, fontSize: fontSize,
                offsetX: offset.x, offsetY: offset.y, marksPoint: marksPoint))
    }

    /// The plot as a standalone SVG document.
    public func svg() -> String {
        var svg = SVGDocument(width: width, height: height, title: title)
        PlotRenderer(plot: self, idPrefix: "plot-").render(into: &svg)
        return svg.finish()
    }

    /// Writes ``svg()`` to `url` atomically (see ``writeFileAtomically(_:to:createDirectories:)``).
    ///
    /// - Throws: ``IOError`` naming the path and the cause.
    public func write(to url: URL, createDirectories: Bool = false) throws {
        try writeFileAtomically(Data(svg().utf8), to: url, createDirectories: createDirectories)
    }
}

/// How data values map to an axis.
public enum AxisScale: Sendable, Equatable {
    /// Equal distances for equal differences.
    case linear
    /// Equal distances for equal ratios (base 10); non-positive values are not drawn.
    case logarithmic
}

/// Where a plot's legend is drawn.
public enum LegendPosition: Sendable, Equatable {
    /// No legend.
    case none
    /// Inside the plot area, top right corner (the default).
    case topRight
    /// Inside the plot area, top left corner.
    case topLeft
    /// Inside the plot area, bottom right corner.
    case bottomRight
    /// Inside the plot area, bottom left corner.
    case bottomLeft
    /// Inside the plot area, in the corner that covers the fewest data points.
    case best
    /// To the right of the plot area (the plot area shrinks to make room).
    case outsideRight
}

/// The dash pattern of a line.
public enum LineStyle: Sendable, Equatable {
    /// A continuous line.
    case solid
    /// Long dashes.
    case dashed
    /// Round dots.
    case dotted
    /// Alternating dashes and dots.
    case dashDot
    /// An SVG `stroke-dasharray` pattern in pixels: dash, gap, dash, gap, …
    case custom([Double])
}

/// The shape of scatter and line markers.
public enum MarkerShape: Sendable, Equatable, CaseIterable {
    /// A circle of the marker radius.
    case circle
    /// A square about as large as the circle.
    case square
    /// An upward triangle.
    case triangle
    /// A square standing on a corner.
    case diamond
}

/// How arrows of a quiver series are scaled.
public enum QuiverScaling: Sendable, Equatable {
    /// Lengths proportional to the vectors' screen length; the longest is the arrow length.
    case proportional
    /// Every arrow has the arrow length; only the direction is shown.
    case uniform
}

/// Horizontal alignment of an annotation relative to its point.
public enum TextAnchor: String, Sendable, Equatable {
    /// The text starts at the point.
    case start
    /// The text is centred on the point.
    case middle
    /// The text ends at the point.
    case end
}

/// One set of data in a ``Plot``: its points, how it is drawn and its legend label.
///
/// ```swift
/// var series = PlotSeries(kind: .lineWithMarkers, x: h, y: error, label: "Heun")
/// series.marker = .square
/// series.lineStyle = .dashed
/// plot.add(series)
/// ```
public struct PlotSeries: Sendable {
    /// How a series is drawn.
    public enum Kind: Sendable, Equatable {
        /// A polyline through the points.
        case line
        /// A marker at each point.
        case scatter
        /// A polyline with a marker at each point.
        case lineWithMarkers
        /// An arrow at each point along `(u[i], v[i])` (data units).
        case quiver(u: [Double], v: [Double])
    }

    /// How the series is drawn.
    public var kind: Kind
    /// The x coordinates.
    public var x: [Double]
    /// The y coordinates (pairs beyond the shorter of `x` and `y` are ignored).
    public var y: [Double]
    /// The legend text; `nil` or empty leaves the series out of the legend.
    public var label: String?
    /// The color; `nil` takes the next color of the plot's color cycle.
    public var color: PlotColor?
    /// Line width in pixels (lines and arrows).
    public var lineWidth: Double = 2
    /// Dash pattern of lines.
    public var lineStyle: LineStyle = .solid
    /// Marker shape (scatter and line-with-markers).
    public var marker: MarkerShape = .circle
    /// Marker radius in pixels.
    public var markerRadius: Double = 3.5
    /// Filled markers (with a thin white edge) or hollow outlines.
    public var filledMarkers: Bool = true
    /// Opacity of the whole series, 0…1.
    public var opacity: Double = 1
    /// Arrow scaling of a quiver series.
    public var quiverScaling: QuiverScaling = .proportional
    /// Length in pixels of the longest (or every) arrow; `nil` fits the spacing of the points.
    public var arrowLength: Double?

    /// A series with default styling.
    public init(kind: Kind, x: [Double], y: [Double], label: String? = nil, color: PlotColor? = nil) {
        self.kind = kind
        self.x = x
        self.y = y
        self.label = label
        self.color = color
    }
}

/// A text placed at data coordinates in a ``Plot``. Annotations outside the visible range are not
/// drawn.
public struct PlotAnnotation: Sendable {
    /// The text (one line).
    public var text: String
    /// The x data coordinate.
    public var x: Double
    /// The y data coordinate.
    public var y: Double
    /// Alignment of the text relative to the point.
    public var anchor: TextAnchor
    /// Text color.
    public var color: PlotColor
    /// Font size in pixels.
    public var fontSize: Double
    /// Shift to the right in pixels.
    public var offsetX: Double
    /// Shift downwards in pixels.
    public var offsetY: Double
    /// Draw a small dot at the point itself.
    public var marksPoint: Bool

    /// An annotation; the offsets move the text (not the marked point) right and down in pixels.
    public init(
        _ text: String, x: Double, y: Double, anchor: TextAnchor = .start, color: PlotColor = .black,
        fontSize: Double = 12, offsetX: Double = 0, offsetY: Double = 0, marksPoint: Bool = false
    ) {
        self.text = text
        self.x = x
        self.y = y
        self.anchor = anchor
        self.color = color
        self.fontSize = fontSize
        self.offsetX = offsetX
        self.offsetY = offsetY
        self.marksPoint = marksPoint
    }
}

/// An opaque RGB color for plots.
///
/// ```swift
/// let teal = PlotColor(hex: "#17becf")!
/// plot.addLine(x: t, y: y, color: .orange)
/// ```
public struct PlotColor: Sendable, Hashable, CustomStringConvertible {
    /// Red, 0…255.
    public var red: UInt8
    /// Green, 0…255.
    public var green: UInt8
    /// Blue, 0…255.
    public var blue: UInt8

    /// A color from its components.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A color from `#rrggbb` or `#rgb` (the `#` is optional); `nil` if malformed.
    public init?(hex: String) {
        var digits = Substring(hex)
        if digits.hasPrefix("#") { digits = digits.dropFirst() }
        if digits.count == 3 { digits = Substring(digits.flatMap { [$0, $0] }) }
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(red: UInt8(value >> 16 & 0xFF), green: UInt8(value >> 8 & 0xFF), blue: UInt8(value & 0xFF))
    }

    /// The color as `#rrggbb`.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        return "#" + String([red, green, blue].flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    /// The color as `#rrggbb`.
    public var description: String { hex }

    /// Tableau blue, the first color of the default cycle.
    public static let blue = PlotColor(red: 0x1f, green: 0x77, blue: 0xb4)
    /// Tableau orange.
    public static let orange = PlotColor(red: 0xff, green: 0x7f, blue: 0x0e)
    /// Tableau green.
    public static let green = PlotColor(red: 0x2c, green: 0xa0, blue: 0x2c)
    /// Tableau red.
    public static let red = PlotColor(red: 0xd6, green: 0x27, blue: 0x28)
    /// Tableau purple.
    public static let purple = PlotColor(red: 0x94, green: 0x67, blue: 0xbd)
    /// Tableau brown.
    public static let brown = PlotColor(red: 0x8c, green: 0x56, blue: 0x4b)
    /// Tableau pink.
    public static let pink = PlotColor(red: 0xe3, green: 0x77, blue: 0xc2)
    /// Tableau gray.
    public static let gray = PlotColor(red: 0x7f, green: 0x7f, blue: 0x7f)
    /// Tableau olive.
    public static let olive = PlotColor(red: 0xbc, green: 0xbd, blue: 0x22)
    /// Tableau cyan.
    public static let cyan = PlotColor(red: 0x17, green: 0xbe, blue: 0xcf)
    /// Black.
    public static let black = PlotColor(red: 0, green: 0, blue: 0)
    /// White.
    public static let white = PlotColor(red: 0xff, green: 0xff, blue: 0xff)

    /// The ten Tableau colors (as in matplotlib's default cycle): blue, orange, green, red,
    /// purple, brown, pink, gray, olive, cyan.
    public static let tableau10: [PlotColor] = [.blue, .orange, .green, .red, .purple, .brown, .pink, .gray, .olive, .cyan]
}
