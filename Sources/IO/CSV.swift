import RNNODETensors

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A numeric table with named columns that reads and writes CSV text.
///
/// Cells are `Double?`: `nil` is a missing value, written as an empty cell. Numbers are written with
/// Swift's shortest round-trip formatting, so `parse(try table.csvText()) == table` for every finite
/// value; NaN and infinities are written as `nan`, `inf` and `-inf`.
///
/// ```swift
/// var table = CSVTable(header: ["t", "x", "y"])
/// for (t, state) in zip(times, states) { table.append([t, state.x, state.y]) }
/// try table.write(to: URL(fileURLWithPath: "trajectory.csv"))
///
/// let loaded = try CSVTable.read(from: URL(fileURLWithPath: "trajectory.csv"))
/// let xs = loaded.column("x")          // [Double?]
/// ```
///
/// ## Reading rules
/// - The first line is the header: one non-empty, unique name per column.
/// - Every following line has exactly one cell per column. A cell is a number (anything
///   `Double(_:)` accepts, including `nan`, `inf`, `-inf` and `1e-3`) or empty (missing). A number
///   too large for `Double` (`1e999`) is an error, not infinity: infinities must be spelled out. A
///   cell with a NUL byte is not a number.
/// - Spaces and tabs around cells are ignored; `\r\n`, `\n` and lone `\r` (classic Mac OS) line
///   endings are accepted, as Python's `csv` module does, a UTF-8 byte-order mark is skipped, and
///   blank lines at the end are ignored. A blank line in the middle is a row with one empty cell
///   (so it is an error unless the table has a single column).
/// - Quoting follows RFC 4180 within a line: a cell may be wrapped in double quotes (`"1.5"`,
///   `"name, with comma"`, `"say ""hi"""`). Quoted cells cannot span lines.
/// - Problems are reported as ``CSVError`` with the 1-based line (the header is line 1) and the
///   1-based column with its header name; a cell's text is quoted in the error up to 64 characters
///   (longer text is cut, ending in `…`).
public struct CSVTable: Equatable, Sendable {
    /// The column names, in order.
    public var header: [String]
    /// The data rows; each should have `header.count` cells (`nil` = missing).
    public var rows: [[Double?]]

    /// A table with the given column names and rows.
    public init(header: [String], rows: [[Double?]] = []) {
        self.header = header
        self.rows = rows
    }

    /// A table built from named columns, in order; shorter columns are padded with missing cells.
    ///
    /// ```swift
    /// let table = CSVTable(columns: [("t", times), ("error", errors)])
    /// ```
    public init(columns: [(name: String, values: [Double?])]) {
        header = columns.map(\.name)
        let count = columns.map(\.values.count).max() ?? 0
        rows = (0..<count).map { row in
            columns.map { row < $0.values.count ? $0.values[row] : nil }
        }
    }

    /// Appends a data row (it should have one cell per column).
    public mutating func append(_ row: [Double?]) {
        rows.append(row)
    }

    /// The 0-based index of the column called `name`, if any.
    public func columnIndex(_ name: String) -> Int? {
        header.firstIndex(of: name)
    }

    /// The cells of the column called `name` (missing cells and cells beyond a short row are
    /// `nil`), or `nil` if there is no such column.
    public func column(_ name: String) -> [Double?]? {
        guard let index = columnIndex(name) else { return nil }
        return rows.map { index < $0.count ? $0[index] : nil }
    }

    // MARK: Writing

    /// The table as CSV text: a header line, then one line per row, each ending in `\n`.
    ///
    /// Numbers use Swift's shortest round-trip representation (`0.1`, `1e-300`, `-0.0`);
    /// non-finite values are `nan`, `inf`, `-inf`; missing values are empty cells (`""` when the
    /// table has a single column, so the row is not a blank line). Header names containing a comma,
    /// a quote or surrounding spaces are quoted.
    ///
    /// ```swift
    /// let text = try CSVTable(header: ["t", "x"], rows: [[0, 1.5]]).csvText()   // "t,x\n0.0,1.5\n"
    /// ```
    ///
    /// - Throws: ``CSVError`` for a table that would not read back as it is: no columns
    ///   (``CSVError/Problem/emptyInput``), an empty or repeated column name, a name with a line
    ///   break (``CSVError/Problem/lineBreakInHeaderName(_:)``; quoted cells cannot span lines), or a
    ///   row whose length differs from the header's.
    public func csvText() throws(CSVError) -> String {
        try checkWritable()
        var text = header.map(Self.quotedName).joined(separator: ",") + "\n"
        for row in rows {
            if row.count == 1 && row[0] == nil {
                text += "\"\"\n"
            } else {
                text += row.map(Self.formatCell).joined(separator: ",") + "\n"
            }
        }
        return text
    }

    /// Writes ``csvText()`` to `url` atomically (see ``writeFileAtomically(_:to:createDirectories:)``).
    ///
    /// - Throws: ``CSVError`` (with the file path) for a table ``csvText()`` refuses, before
    ///   anything is written; ``IOError`` if the file cannot be written.
    public func write(to url: URL, createDirectories: Bool = false) throws {
        let text: String
        do {
            text = try csvText()
        } catch {
            var located = error
            located.file = url.isFileURL ? url.standardizedFileURL.path : url.absoluteString
            throw located
        }
        try writeFileAtomically(Data(text.utf8), to: url, createDirectories: createDirectories)
    }

    /// Throws unless ``csvText()`` reads back as this table's header and row lengths.
    private func checkWritable() throws(CSVError) {
        guard !header.isEmpty else { throw CSVError(problem: .emptyInput, line: 1) }
        var firstColumn: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            if name.isEmpty { throw CSVError(problem: .emptyHeaderName, line: 1, column: index + 1) }
            if name.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
                throw CSVError(problem: .lineBreakInHeaderName(name), line: 1, column: index + 1)
            }
            if let first = firstColumn.updateValue(index + 1, forKey: name) {
                throw CSVError(
                    problem: .duplicateHeaderName(firstColumn: first), line: 1, column: index + 1, columnName: name)
            }
        }
        for (index, row) in rows.enumerated() where row.count != header.count {
            throw CSVError(problem: .wrongCellCount(expected: header.count, found: row.count), line: index + 2)
        }
    }

    /// Formats one cell: shortest round-trip decimal, `nan`/`inf`/`-inf`, or empty for `nil`.
    static func formatCell(_ value: Double?) -> String {
        guard let value else { return "" }
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return value.description
    }

    private static func quotedName(_ name: String) -> String {
        // A leading byte-order mark would be taken for the file's and dropped unless quoted.
        let needsQuotes =
            name.contains(",") || name.contains("\"") || name.hasPrefix("\u{FEFF}")
            || name.first.map(Self.isBlank) == true || name.last.map(Self.isBlank) == true
        guard needsQuotes else { return name }
        return "\"" + name.replacing("\"", with: "\"\"") + "\""
    }

    private static func isBlank(_ character: Character) -> Bool {
        character == " " || character == "\t"
    }

    // MARK: Reading

    /// Parses numeric CSV text (see the reading rules on ``CSVTable``).
    ///
    /// ```swift
    /// let table = try CSVTable.parse("t,x\n0,1.5\n0.1,\n")   // second x is missing
    /// ```
    ///
    /// - Throws: ``CSVError`` naming the line and column of the first problem.
    public static func parse(_ text: String) throws(CSVError) -> CSVTable {
        var lines = splitLines(text)
        if let first = lines.first, first.hasPrefix("\u{FEFF}") {
            lines[0].removeFirst()
        }
        while let last = lines.last, last.allSatisfy(isBlank) { lines.removeLast() }
        guard let headerLine = lines.first, !headerLine.allSatisfy(isBlank) else {
            throw CSVError(problem: .emptyInput, line: 1)
        }

        let header = try splitCells(headerLine, line: 1, header: nil)
        var firstColumn: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            if name.isEmpty {
                throw CSVError(problem: .emptyHeaderName, line: 1, column: index + 1)
            }
            if let first = firstColumn[name] {
                throw CSVError(
                    problem: .duplicateHeaderName(firstColumn: first), line: 1,
                    column: index + 1, columnName: name)
            }
            firstColumn[name] = index + 1
        }

        var rows: [[Double?]] = []
        rows.reserveCapacity(lines.count - 1)
        for (offset, line) in lines.enumerated().dropFirst() {
            let lineNumber = offset + 1
            let cells = try splitCells(line, line: lineNumber, header: header)
            if cells.count != header.count {
                let column = min(cells.count, header.count) + 1
                throw CSVError(
                    problem: .wrongCellCount(expected: header.count, found: cells.count),
                    line: lineNumber, column: column,
                    columnName: column <= header.count ? header[column - 1] : nil)
            }
            var row: [Double?] = []
            row.reserveCapacity(cells.count)
            for (index, cell) in cells.enumerated() {
                if cell.isEmpty {
                    row.append(nil)
                    continue
                }
                // `Double(_:)` stops at a NUL byte (it parses a C string), so it must not see one.
                guard !cell.utf8.contains(0), let value = Double(cell) else {
                    throw CSVError(
                        problem: .notANumber(quotedCell(cell)), line: lineNumber,
                        column: index + 1, columnName: header[index])
                }
                if value.isInfinite && !isInfinitySpelling(cell) {
                    throw CSVError(
                        problem: .numberOutOfRange(quotedCell(cell)), line: lineNumber,
                        column: index + 1, columnName: header[index])
                }
                row.append(value)
            }
            rows.append(row)
        }
        return CSVTable(header: header, rows: rows)
    }

    /// Reads and parses a CSV file (UTF-8).
    ///
    /// - Throws: ``IOError`` if the file cannot be read or is not a regular file
    ///   (``IOError/notARegularFile(path:kind:)``: a FIFO or device is never read); ``CSVError``
    ///   with `file` set to the path if its contents are invalid.
    public static func read(from url: URL) throws -> CSVTable {
        let text = try readTextFile(at: url)
        do {
            return try parse(text)
        } catch {
            var located = error
            located.file = url.isFileURL ? url.standardizedFileURL.path : url.absoluteString
            throw located
        }
    }

    /// The lines of `text`, each without its line ending: `\n`, `\r\n` or a lone `\r`.
    private static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var index = start
        while index != utf8.endIndex {
            let byte = utf8[index]
            guard byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") else {
                index = utf8.index(after: index)
                continue
            }
            lines.append(String(decoding: utf8[start..<index], as: UTF8.self))
            index = utf8.index(after: index)
            if byte == UInt8(ascii: "\r"), index != utf8.endIndex, utf8[index] == UInt8(ascii: "\n") {
                index = utf8.index(after: index)
            }
            start = index
        }
        lines.append(String(decoding: utf8[start...], as: UTF8.self))
        return lines
    }

    /// Whether `cell` spells an infinity (`inf`, `-Infinity`, …) rather than overflowing to one.
    private static func isInfinitySpelling(_ cell: String) -> Bool {
        var word = cell.lowercased()
        if word.hasPrefix("-") || word.hasPrefix("+") { word.removeFirst() }
        return word == "inf" || word == "infinity"
    }

    /// A cell's text for an error message: at most 64 characters, longer text cut and ended with `…`.
    static func quotedCell(_ text: String) -> String {
        abbreviated(text)
    }

    /// Splits one line into cells without surrounding blanks and quotes.
    private static func splitCells(
        _ line: String, line lineNumber: Int, header: [String]?
    ) throws(CSVError)
        -> [String]
    {
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        if !line.utf8.contains(UInt8(ascii: "\"")) {  // fast path: no quoting on this line
            return line.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { cell in
                let start = cell.drop(while: blank)
                let end = start.lastIndex { !blank($0) }.map { start.index(after: $0) } ?? start.startIndex
                return String(decoding: start[..<end], as: UTF8.self)
            }
        }
        var cells: [String] = []
        var scalars = line.unicodeScalars[...]
        func quotingError(_ message: String) -> CSVError {
            let column = cells.count + 1
            let name = header.flatMap { column <= $0.count ? $0[column - 1] : nil }
            return CSVError(problem: .badQuoting(message), line: lineNumber, column: column, columnName: name)
        }
        func skipBlanks() {
            while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        }
        while true {
            skipBlanks()
            var text = String.UnicodeScalarView()
            if scalars.first == "\"" {
                scalars.removeFirst()
                var closed = false
                while let scalar = scalars.popFirst() {
                    if scalar == "\"" {
                        if scalars.first == "\"" {
                            scalars.removeFirst()
                            text.append("\"")
                        } else {
                            closed = true
                            break
                        }
                    } else {
                        text.append(scalar)
                    }
                }
                guard closed else { throw quotingError("a quoted cell is not closed on its line") }
                skipBlanks()
                if let next = scalars.first, next != "," {
                    throw quotingError("unexpected text after a closing quote")
                }
            } else {
                while let scalar = scalars.first, scalar != "," {
                    if scalar == "\"" { throw quotingError("a quote inside an unquoted cell") }
                    text.append(scalar)
                    scalars.removeFirst()
                }
                while let last = text.last, last == " " || last == "\t" { text.removeLast() }
            }
            cells.append(String(text))
            guard scalars.popFirst() == "," else { return cells }
        }
    }
}

/// A problem found while reading CSV text, located by 1-based line (the header is line 1) and,
/// where it applies, 1-based column with the column's header name.
///
/// ```swift
/// do { _ = try CSVTable.parse("t,x\n0,abc\n") }
/// catch let error as CSVError { print(error) }  // line 2, column 2 ("x"): 'abc' is not a number
/// ```
public struct CSVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// The text (or the table to write) has no header line.
        case emptyInput
        /// A header name is empty.
        case emptyHeaderName
        /// A header name repeats the one in `firstColumn` (1-based).
        case duplicateHeaderName(firstColumn: Int)
        /// A row has `found` cells where the header has `expected`.
        case wrongCellCount(expected: Int, found: Int)
        /// A cell is neither empty nor a number (its text, cut to 64 characters).
        case notANumber(String)
        /// A number too large for `Double`, such as `1e999` (its text, cut to 64 characters).
        case numberOutOfRange(String)
        /// A header name to write contains a line break, which a CSV cell cannot hold.
        case lineBreakInHeaderName(String)
        /// A quoted cell is malformed (unclosed, stray quote, text after the closing quote).
        case badQuoting(String)
    }

    /// What is wrong.
    public var problem: Problem
    /// The 1-based line number; the header is line 1.
    public var line: Int
    /// The 1-based column, when the problem is in one cell. For a row with too few cells it is the
    /// first missing column; for too many, the first extra one.
    public var column: Int?
    /// The header name of ``column``, when known.
    public var columnName: String?
    /// The file the text came from, when read from a file.
    public var file: String?

    /// Creates an error; normally only the parser does this.
    public init(
        problem: Problem, line: Int, column: Int? = nil, columnName: String? = nil,
        file: String? = nil
    ) {
        self.problem = problem
        self.line = line
        self.column = column
        self.columnName = columnName
        self.file = file
    }

    /// A one-line message such as `data.csv: line 3, column 2 ("x"): 'abc' is not a number`.
    public var description: String {
        var location = file.map { "\($0): " } ?? ""
        location += "line \(line)"
        if let column {
            location += ", column \(column)"
            if let columnName { location += " (\"\(CSVTable.quotedCell(columnName))\")" }
        }
        let message: String
        switch problem {
        case .emptyInput:
            message = "no header line (the CSV text is empty)"
        case .emptyHeaderName:
            message = "empty column name in the header"
        case .duplicateHeaderName(let firstColumn):
            message = "duplicate column name, already used by column \(firstColumn)"
        case .wrongCellCount(let expected, let found):
            message = "expected \(expected) cell\(expected == 1 ? "" : "s"), found \(found)"
        case .notANumber(let text):
            message = "'\(text)' is not a number"
        case .numberOutOfRange(let text):
            message = "'\(text)' is out of the range of Double (spell infinities as inf or -inf)"
        case .lineBreakInHeaderName(let name):
            let escaped = name.unicodeScalars.map { $0 == "\n" ? "\\n" : $0 == "\r" ? "\\r" : String($0) }.joined()
            message = "the column name '\(CSVTable.quotedCell(escaped))' contains a line break, which CSV cannot hold"
        case .badQuoting(let what):
            message = what
        }
        return location + ": " + message
    }
}
