import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite struct IOCSVTests {
    // MARK: Writing and round trips

    @Test func writesShortestRoundTripNumbers() throws {
        let table = CSVTable(header: ["t", "x"], rows: [[0, 0.1], [1e-300, nil], [-0.0, .nan], [.infinity, -.infinity]])
        #expect(try table.csvText() == "t,x\n0.0,0.1\n1e-300,\n-0.0,nan\ninf,-inf\n")
    }

    @Test func trickyNumbersRoundTripExactly() throws {
        let values: [Double?] = [
            1e-300, 0.1, -0.0, 0.0, 123456789.123456789, 0.30000000000000004, 1.0 / 3.0, -2.5e17,
            .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.leastNormalMagnitude, 1e16, 1e22,
            .nan, .infinity, -.infinity, nil,
        ]
        let table = CSVTable(header: ["value", "negated"], rows: values.map { [$0, $0.map { -$0 }] })
        let parsed = try CSVTable.parse(try table.csvText())
        #expect(parsed.header == table.header)
        #expect(parsed.rows.count == table.rows.count)
        for (original, read) in zip(table.rows, parsed.rows) {
            #expect(zip(original, read).allSatisfy { bitwiseEqualDoubles($0, $1) }, "\(original) became \(read)")
        }
        // -0.0 keeps its sign, 123456789.123456789 is the same double.
        #expect(parsed.column("value")?[2]?.sign == .minus)
        #expect(parsed.column("value")?[4] == 123456789.123456789)
    }

    @Test func writesAndReadsFiles() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("run.csv")
        let table = CSVTable(columns: [("t", [0, 0.5, 1]), ("x", [1, 0.25])])
        #expect(table.rows == [[0, 1], [0.5, 0.25], [1, nil]])
        try table.write(to: file)
        #expect(try CSVTable.read(from: file) == table)
        #expect(try directory.contents() == ["run.csv"])
    }

    @Test func writeRejectsRaggedRows() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("bad.csv")
        let table = CSVTable(header: ["a", "b"], rows: [[1, 2], [3]])
        let error = #expect(throws: CSVError.self) { try table.write(to: file) }
        #expect(error?.problem == .wrongCellCount(expected: 2, found: 1))
        #expect(error?.line == 3)
        #expect(error?.file == file.path)
        #expect(try directory.contents() == [])
    }

    @Test func singleColumnMissingValuesSurviveARoundTrip() throws {
        let table = CSVTable(header: ["x"], rows: [[1], [nil], [2], [nil]])
        #expect(try table.csvText() == "x\n1.0\n\"\"\n2.0\n\"\"\n")
        #expect(try CSVTable.parse(try table.csvText()) == table)
    }

    @Test func headerNamesThatNeedQuotingRoundTrip() throws {
        let table = CSVTable(header: ["time, s", "say \"hi\"", " padded", "\u{FEFF}mark"], rows: [[1, 2, 3, 4]])
        #expect(try table.csvText() == "\"time, s\",\"say \"\"hi\"\"\",\" padded\",\"\u{FEFF}mark\"\n1.0,2.0,3.0,4.0\n")
        let parsed = try CSVTable.parse(try table.csvText())
        #expect(parsed == table)
    }

    @Test func writerRefusesHeadersThatDoNotReadBack() throws {
        let cases: [([String], CSVError.Problem, Int)] = [
            (["t", "line\nbreak"], .lineBreakInHeaderName("line\nbreak"), 2),
            (["carriage\rreturn"], .lineBreakInHeaderName("carriage\rreturn"), 1),
            (["crlf\r\n"], .lineBreakInHeaderName("crlf\r\n"), 1),
            (["t", ""], .emptyHeaderName, 2),
            (["t", "x", "t"], .duplicateHeaderName(firstColumn: 1), 3),
            ([], .emptyInput, 0),
        ]
        for (header, problem, column) in cases {
            let error = #expect(throws: CSVError.self) { try CSVTable(header: header, rows: []).csvText() }
            #expect(error?.problem == problem, "\(header)")
            #expect(error?.line == 1)
            #expect(error?.column == (column == 0 ? nil : column), "\(header)")
        }
        let lineBreak = #expect(throws: CSVError.self) { try CSVTable(header: ["a\nb"]).csvText() }
        #expect(
            lineBreak?.description == "line 1, column 1: the column name 'a\\nb' contains a line break, which CSV cannot hold")

        // write(to:) refuses them before touching the file.
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("names.csv")
        let error = #expect(throws: CSVError.self) { try CSVTable(header: ["a", "a"], rows: [[1, 2]]).write(to: file) }
        #expect(error?.problem == .duplicateHeaderName(firstColumn: 1))
        #expect(error?.file == file.path)
        #expect(try directory.contents() == [])
    }

    // MARK: Lenient reading

    @Test func toleratesCRLFSpacesBlankTrailingLinesAndBOM() throws {
        let text = "\u{FEFF} t , x ,y\r\n 0 , 1.5 ,\r\n1e-3,\t-2 , 3\r\n\r\n  \n\n"
        let table = try CSVTable.parse(text)
        #expect(table.header == ["t", "x", "y"])
        #expect(table.rows == [[0, 1.5, nil], [0.001, -2, 3]])
        #expect(table.column("y") == [nil, 3])
        #expect(table.column("z") == nil)
    }

    @Test func acceptsQuotedNumbersAndSpecialValues() throws {
        let table = try CSVTable.parse("a,b,c\n\"1.5\", \"\" ,NaN\ninf,-inf,+2\n")
        #expect(table.rows.count == 2)
        #expect(table.rows[0][0] == 1.5 && table.rows[0][1] == nil && table.rows[0][2]!.isNaN)
        #expect(table.rows[1] == [.infinity, -.infinity, 2])
    }

    @Test func carriageReturnLineEndings() throws {
        // Classic Mac OS line endings, as Python's csv module reads them; mixed endings too.
        let table = try CSVTable.read(from: malformedFixture("csv-cr-only-line-endings.csv"))
        #expect(table == CSVTable(header: ["a", "b"], rows: [[1, 2], [3, 4]]))
        #expect(try CSVTable.parse("a\r1\n2\r\n3\r\r") == CSVTable(header: ["a"], rows: [[1], [2], [3]]))
        let error = #expect(throws: CSVError.self) { try CSVTable.parse("a,b\r1,2\r3,x\r") }
        #expect(error?.line == 3 && error?.column == 2)
    }

    @Test func headerOnlyGivesNoRows() throws {
        let table = try CSVTable.parse("a,b\n")
        #expect(table.header == ["a", "b"] && table.rows.isEmpty)
    }

    // MARK: Errors with line and column

    @Test func nonNumericCellNamesLineAndColumn() {
        let error = #expect(throws: CSVError.self) {
            try CSVTable.parse("t,x,y\n0,1,2\n0.1,abc,3\n")
        }
        #expect(error?.problem == .notANumber("abc"))
        #expect(error?.line == 3)
        #expect(error?.column == 2)
        #expect(error?.columnName == "x")
        #expect(error?.description == "line 3, column 2 (\"x\"): 'abc' is not a number")
    }

    @Test func nulBytesAndOverflowAreNotNumbers() throws {
        // `1\0999` is neither 1 (the text after the NUL dropped) nor 1999.
        let file = try malformedFixture("csv-nul-byte-in-number.csv")
        let nul = #expect(throws: CSVError.self) { try CSVTable.read(from: file) }
        #expect(nul == CSVError(problem: .notANumber("1\u{0}999"), line: 2, column: 1, columnName: "a", file: file.path))

        // 1e999 overflows to infinity: an error, while spelled-out infinities stay accepted.
        let overflow = #expect(throws: CSVError.self) { try CSVTable.parse("a,b\n1,-1e999\n") }
        #expect(overflow == CSVError(problem: .numberOutOfRange("-1e999"), line: 2, column: 2, columnName: "b"))
        #expect(
            overflow?.description
                == "line 2, column 2 (\"b\"): '-1e999' is out of the range of Double (spell infinities as inf or -inf)")
        #expect(try CSVTable.parse("a,b,c\ninf,-Infinity,1e-999\n").rows == [[.infinity, -.infinity, 0]])
    }

    @Test func errorsQuoteAtMost64CharactersOfACell() {
        let cell = String(repeating: "x", count: 1_000_000)
        let error = #expect(throws: CSVError.self) { try CSVTable.parse("a\n" + cell + "\n") }
        let quoted = String(repeating: "x", count: 63) + "…"
        #expect(error?.problem == .notANumber(quoted))
        #expect(error?.description == "line 2, column 1 (\"a\"): '\(quoted)' is not a number")
        #expect(CSVTable.quotedCell(String(repeating: "y", count: 64)) == String(repeating: "y", count: 64))
    }

    @Test func lineNumbersCountCRLFLinesAndTheHeader() {
        let error = #expect(throws: CSVError.self) {
            try CSVTable.parse("a,b\r\n1,2\r\n3,4\r\n5,1..2\r\n")
        }
        #expect(error?.line == 4)
        #expect(error?.column == 2)
        #expect(error?.columnName == "b")
    }

    @Test func tooFewCells() {
        let error = #expect(throws: CSVError.self) { try CSVTable.parse("a,b,c\n1,2,3\n4,5\n") }
        #expect(error?.problem == .wrongCellCount(expected: 3, found: 2))
        #expect(error?.line == 3)
        #expect(error?.column == 3)
        #expect(error?.columnName == "c")
    }

    @Test func tooManyCells() {
        let error = #expect(throws: CSVError.self) { try CSVTable.parse("a,b\n1,2,3\n") }
        #expect(error?.problem == .wrongCellCount(expected: 2, found: 3))
        #expect(error?.line == 2)
        #expect(error?.column == 3)
        #expect(error?.columnName == nil)
    }

    @Test func blankLineInTheMiddleOfAMultiColumnTable() {
        let error = #expect(throws: CSVError.self) { try CSVTable.parse("a,b\n1,2\n\n3,4\n") }
        #expect(error?.problem == .wrongCellCount(expected: 2, found: 1))
        #expect(error?.line == 3)
    }

    @Test(arguments: ["", "\n", "  \r\n\n", "\u{FEFF}"])
    func emptyInputHasNoHeader(text: String) {
        let error = #expect(throws: CSVError.self) { try CSVTable.parse(text) }
        #expect(error?.problem == .emptyInput)
        #expect(error?.line == 1)
    }

    @Test func duplicateHeaderNamesBothColumns() {
        let error = #expect(throws: CSVError.self) { try CSVTable.parse("t,x, t\n1,2,3\n") }
        #expect(error?.problem == .duplicateHeaderName(firstColumn: 1))
        #expect(error?.line == 1)
        #expect(error?.column == 3)
        #expect(error?.columnName == "t")
    }

    @Test func emptyHeaderName() {
        let error = #expect(throws: CSVError.self) { try CSVTable.parse("t,,x\n1,2,3\n") }
        #expect(error?.problem == .emptyHeaderName)
        #expect(error?.line == 1)
        #expect(error?.column == 2)
    }

    @Test(arguments: [
        ("a,b\n1,\"2\n", 2, 2),  // unclosed quote
        ("a,b\n1,2\"3\n", 2, 2),  // quote inside an unquoted cell
        ("a,b\n1,2\n\"3\"x,4\n", 3, 1),  // text after the closing quote
    ])
    func badQuotingIsRejected(text: String, line: Int, column: Int) {
        let error = #expect(throws: CSVError.self) { try CSVTable.parse(text) }
        guard case .badQuoting? = error?.problem else {
            Issue.record("expected badQuoting, got \(String(describing: error))")
            return
        }
        #expect(error?.line == line)
        #expect(error?.column == column)
    }

    @Test func readingNamesTheFile() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("broken.csv")
        try Data("a,b\n1,x\n".utf8).write(to: file)
        let error = #expect(throws: CSVError.self) { try CSVTable.read(from: file) }
        #expect(error?.file == file.path)
        #expect(error?.line == 2 && error?.column == 2)
        #expect(error?.description.hasPrefix(file.path + ": line 2, column 2") == true)

        let missing = directory.url.appendingPathComponent("missing.csv")
        let ioError = #expect(throws: IOError.self) { try CSVTable.read(from: missing) }
        #expect(ioError?.path == missing.path)

        try Data([0x61, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: file)
        #expect(throws: IOError.notUTF8(path: file.path)) { try CSVTable.read(from: file) }
    }
}
