import RNNODEIO

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Several ``Plot``s laid out in a grid (row by row) in one SVG document, e.g. a trajectory next to
/// its error. Each plot keeps its own size and is drawn in its own `<g transform="translate(…)">`;
/// a column is as wide as its widest plot and a row as tall as its tallest.
///
/// ```swift
/// var trajectory = Plot(title: "Solution", xLabel: "t", yLabel: "x", width: 560, height: 360)
/// trajectory.addLine(x: t, y: x, label: "RK4")
/// var error = Plot(title: "Error", xLabel: "t", yLabel: "|x − x_exact|", width: 560, height: 360)
/// error.yScale = .logarithmic
/// error.addLine(x: t, y: err)
/// let figure = FigureGrid(rows: 1, columns: 2, plots: [trajectory, error], title: "Lorenz, h = 0.01")
/// try figure.write(to: URL(fileURLWithPath: "lorenz.svg"))
/// ```
public struct FigureGrid: Sendable {
    /// The number of rows; grows if there are more plots than `rows × columns`.
    public var rows: Int
    /// The number of columns (at least 1).
    public var columns: Int
    /// The plots, filled in row by row; missing cells stay empty.
    public var plots: [Plot]
    /// A title above the whole grid (empty: none).
    public var title: String
    /// Space between cells and around the grid, in pixels.
    public var spacing: Double = 8

    /// A grid of `rows × columns` cells holding `plots` in row-major order.
    public init(rows: Int, columns: Int, plots: [Plot] = [], title: String = "") {
        self.rows = rows
        self.columns = columns
        self.plots = plots
        self.title = title
    }

    /// The columns and rows actually used (at least one each, enough rows for every plot).
    var layout: (rows: Int, columns: Int) {
        let columns = Swift.max(1, columns)
        let rows = Swift.max(Swift.max(1, rows), (plots.count + columns - 1) / columns)
        return (rows, columns)
    }

    /// The top-left corner of every plot and the total size.
    func frames() -> (origins: [(x: Double, y: Double)], width: Double, height: Double) {
        let (rows, columns) = layout
        var columnWidths = [Double](repeating: 0, count: columns)
        var rowHeights = [Double](repeating: 0, count: rows)
        for (index, plot) in plots.enumerated() {
            columnWidths[index % columns] = Swift.max(columnWidths[index % columns], plot.width)
            rowHeights[index / columns] = Swift.max(rowHeights[index / columns], plot.height)
        }
        let fallbackWidth = columnWidths.max().flatMap { $0 > 0 ? $0 : nil } ?? 720
        let fallbackHeight = rowHeights.max().flatMap { $0 > 0 ? $0 : nil } ?? 450
        columnWidths = columnWidths.map { $0 > 0 ? $0 : fallbackWidth }
        rowHeights = rowHeights.map { $0 > 0 ? $0 : fallbackHeight }
        let titleHeight = title.isEmpty ? 0.0 : 34
        let origins = plots.indices.map { index -> (x: Double, y: Double) in
            let row = index / columns
            let column = index % columns
            let x = spacing + columnWidths[..<column].reduce(0, +) + Double(column) * spacing
            let y = titleHeight + spacing + rowHeights[..<row].reduce(0, +) + Double(row) * spacing
            return (x, y)
        }
        let width = columnWidths.reduce(0, +) + Double(columns + 1) * spacing
        let height = titleHeight + rowHeights.reduce(0, +) + Double(rows + 1) * spacing
        return (origins, width, height)
    }

    /// The grid as a standalone SVG document.
    public func svg() -> String {
        let (origins, width, height) = frames()
        var svg = SVGDocument(width: width, height: height, title: title)
        if !title.isEmpty {
            svg.append(
                "<text class=\"figure-title\" x=\"\(svgNumber(width / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\" fill=\"\(PlotStyle.textColor)\">\(xmlEscaped(title))</text>"
            )
        }
        for (index, plot) in plots.enumerated() {
            let origin = origins[index]
            svg.append("<g class=\"subplot\" transform=\"translate(\(svgNumber(origin.x)) \(svgNumber(origin.y)))\">")
            PlotRenderer(plot: plot, idPrefix: "plot\(index)-").render(into: &svg)
            svg.append("</g>")
        }
        return svg.finish()
    }

    /// Writes ``svg()`` to `url` atomically (see ``writeFileAtomically(_:to:createDirectories:)``).
    ///
    /// - Throws: ``IOError`` naming the path and the cause.
    public func write(to url: URL, createDirectories: Bool = false) throws {
        try writeFileAtomically(Data(svg().utf8), to: url, createDirectories: createDirectories)
    }
}
