import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite struct IOWordVectorsTests {
    private static let glove = """
        the 0.418 0.24968 -0.41242 0.1217
        , 0.013441 0.23682 -0.16899 0.40951
        . 0.15164 0.30177 -0.16763 0.17684
        of 0.70853 0.57088 -0.4716 0.18048
        köln -1e-3 2.5E+2 +7 -0

        """

    @Test func readsGloVeTextAsFloat() throws {
        let vectors = try WordVectors<Float>(text: Self.glove)
        #expect(vectors.words == ["the", ",", ".", "of", "köln"])
        #expect(vectors.dimension == 4)
        #expect(vectors.vectors.shape == [5, 4])
        #expect(vectors.index(of: "of") == 3)
        #expect(vectors.index(of: "köln") == 4)
        #expect(vectors.index(of: "missing") == nil)
        #expect(vectors.vector(for: "the") == Tensor<Float>([0.418, 0.24968, -0.41242, 0.1217]))
        #expect(vectors.vector(for: "köln") == Tensor<Float>([-1e-3, 250, 7, -0.0]))
        #expect(vectors.vector(for: "köln")?.scalars[3].sign == .minus)
        #expect(vectors.vector(for: "missing") == nil)
    }

    @Test func readsGloVeTextAsDouble() throws {
        let vectors = try WordVectors<Double>(text: Self.glove)
        #expect(vectors.vectors[1] == Tensor<Double>([0.013441, 0.23682, -0.16899, 0.40951]))
        #expect(vectors.vectors.scalars.count == 20)
    }

    @Test func readsWord2VecHeaderFiles() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("vectors.txt")
        // word2vec writes a space after every value; CRLF line ends and a byte-order mark are fine.
        let text = "\u{FEFF}3 2\r\ncat 0.5 -1.25 \r\ndog 1e-2 3 \r\nfish 0 0 \r\n\r\n"
        try Data(text.utf8).write(to: file)
        let vectors = try WordVectors<Double>(contentsOf: file)
        #expect(vectors.words == ["cat", "dog", "fish"])
        #expect(vectors.vectors == Tensor([[0.5, -1.25], [0.01, 3], [0, 0]]))
        #expect(try WordVectors<Float>(contentsOf: file, expectedDimension: 2).dimension == 2)
    }

    @Test func limitStopsEarly() throws {
        let vectors = try WordVectors<Float>(text: Self.glove, limit: 2)
        #expect(vectors.words == ["the", ","])
        #expect(vectors.vectors.shape == [2, 4])
        // Problems after the limit are not seen; with a header the count is not checked.
        #expect(try WordVectors<Float>(text: "a 1\nb 2\nc x\n", limit: 2).words == ["a", "b"])
        #expect(try WordVectors<Float>(text: "10 1\na 1\nb 2\n", limit: 2).words == ["a", "b"])
        #expect(try WordVectors<Float>(text: "a 1\n", limit: 5).words == ["a"])
    }

    @Test func constructedFromArrays() {
        let vectors = WordVectors(words: ["x", "y"], vectors: Tensor<Float>([[1, 0], [0, 1]]))
        #expect(vectors.dimension == 2)
        #expect(vectors.index(of: "y") == 1)
        #expect(vectors.vector(for: "x") == Tensor([1, 0]))
    }

    @Test func emptyVocabularyFromAHeader() throws {
        let vectors = try WordVectors<Float>(text: "0 50\n")
        #expect(vectors.words.isEmpty)
        #expect(vectors.vectors.shape == [0, 50])
    }

    @Test func numbersAreParsedExactlyLikeTheStandardLibrary() throws {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        var texts = [
            "0.1", "1e22", "1e23", "9007199254740993", "0.30000000000000004", "16777217", "3.4028235e38", "1e-45",
            "2.2250738585072014e-308", "4.9e-324", "1e-400", ".5", "5.", "-.0", "123456789012345678901234567890",
            "0.000000000000000000000000000001234", "1.00000000000000011102230246251565404236316680908203125",
        ]
        while texts.count < 3000 {
            let digits = String((0..<(1 + next(20))).map { _ in Character(String(next(10))) })
            let point = next(digits.count + 1)
            var text = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if text == "." { text = "0" }
            if next(3) == 0 { text += "e" + String(next(90) - 45) }
            if next(2) == 0 { text = "-" + text }
            if Float(text)!.isFinite { texts.append(text) }
        }
        let source = texts.enumerated().map { "w\($0.offset) \($0.element)" }.joined(separator: "\n")
        let floats = try WordVectors<Float>(text: source)
        let doubles = try WordVectors<Double>(text: source)
        for (index, text) in texts.enumerated() {
            let float = floats.vectors.scalars[index]
            let double = doubles.vectors.scalars[index]
            let expectedFloat = Float(text)!
            let expectedDouble = Double(text)!
            #expect(float.bitPattern == expectedFloat.bitPattern, "\(text): \(float) vs \(expectedFloat)")
            #expect(double.bitPattern == expectedDouble.bitPattern, "\(text): \(double) vs \(expectedDouble)")
        }
    }

    // MARK: Errors

    private func error<Scalar: TensorScalar>(
        _ text: String, as type: Scalar.Type = Float.self, limit: Int? = nil, expectedDimension: Int? = nil
    ) -> WordVectorError? {
        #expect(throws: WordVectorError.self) {
            try WordVectors<Scalar>(text: text, source: "v.txt", limit: limit, expectedDimension: expectedDimension)
        }
    }

    @Test func lineWithoutAVector() {
        let found = error("a 1 2\nb 3 4\nlonely\n")
        #expect(found == WordVectorError(problem: .missingVector(word: "lonely"), path: "v.txt", line: 3))
        #expect(found?.description == "v.txt: line 3: the word 'lonely' has no vector")
        #expect(error("lonely  \r\n")?.line == 1)
    }

    @Test func nonNumericValues() {
        let found = error("a 1 2 3\nb 1 2.5.1 3\n", as: Double.self)
        #expect(found == WordVectorError(problem: .notANumber(field: 2, text: "2.5.1"), path: "v.txt", line: 2))
        #expect(found?.description == "v.txt: line 2: value 2 ('2.5.1') is not a number")
        for bad in ["abc", "1e", "1e+", "--1", "0x10", "1,5", "", "+", "."] where !bad.isEmpty {
            #expect(error("a 1 \(bad)\n")?.problem == .notANumber(field: 2, text: bad), "\(bad)")
        }
    }

    @Test func nonFiniteValues() throws {
        let found = error("a 1 2\nb nan 1\n")
        #expect(found == WordVectorError(problem: .nonFiniteValue(field: 1, text: "nan"), path: "v.txt", line: 2))
        #expect(found?.description == "v.txt: line 2: value 1 ('nan') is not finite")
        #expect(error("a 1 -Infinity\n")?.problem == .nonFiniteValue(field: 2, text: "-Infinity"))
        #expect(error("a 1 inf\n", as: Double.self)?.problem == .nonFiniteValue(field: 2, text: "inf"))
        // Too large for the scalar type.
        #expect(error("a 1e39\n", as: Float.self)?.problem == .nonFiniteValue(field: 1, text: "1e39"))
        #expect(try WordVectors<Double>(text: "a 1e39\n").vectors.scalars == [1e39])
        #expect(error("a 1e999\n", as: Double.self)?.problem == .nonFiniteValue(field: 1, text: "1e999"))
    }

    @Test func dimensionMismatches() {
        let shorter = error("a 1 2 3\nb 4 5 6\nc 7 8\n")
        #expect(
            shorter
                == WordVectorError(
                    problem: .wrongDimension(expected: 3, found: 2, expectedFrom: .firstLine(1)), path: "v.txt", line: 3))
        #expect(shorter?.description == "v.txt: line 3: the vector has 2 values, but the first vector (line 1) has 3")
        let longer = error("a 1 2\nb 4 5 6 x\n")
        #expect(longer?.problem == .wrongDimension(expected: 2, found: 4, expectedFrom: .firstLine(1)))
        #expect(longer?.line == 2)

        let expected = error("a 1 2\n", expectedDimension: 3)
        #expect(expected?.problem == .wrongDimension(expected: 3, found: 2, expectedFrom: .expectedDimension))
        #expect(expected?.line == 1)
        #expect(expected?.description == "v.txt: line 1: the vector has 2 values, but the expected dimension is 3")

        let header = error("2 3\na 1 2 3\nb 1 2\n")
        #expect(header?.problem == .wrongDimension(expected: 3, found: 2, expectedFrom: .header))
        #expect(header?.line == 3)
        #expect(header?.description == "v.txt: line 3: the vector has 2 values, but the header declares 3")

        let headerAgainstExpected = error("2 3\na 1 2 3\n", expectedDimension: 4)
        #expect(headerAgainstExpected?.problem == .wrongDimension(expected: 4, found: 3, expectedFrom: .expectedDimension))
        #expect(headerAgainstExpected?.line == 1)
    }

    @Test func duplicateWords() {
        let found = error("a 1\nb 2\nc 3\nb 4\n")
        #expect(found == WordVectorError(problem: .duplicateWord("b", firstLine: 2), path: "v.txt", line: 4))
        #expect(found?.description == "v.txt: line 4: the word 'b' already appeared on line 2")
        // Line numbers count the header.
        #expect(error("3 1\na 1\nb 2\na 3\n")?.problem == .duplicateWord("a", firstLine: 2))
    }

    @Test func emptyFiles() {
        for text in ["", "\n\n", "  \n\t\n", "\u{FEFF}"] {
            let found = error(text)
            #expect(found == WordVectorError(problem: .emptyFile, path: "v.txt", line: nil), "\(text.debugDescription)")
            #expect(found?.description == "v.txt: no word vectors (the file is empty)")
        }
    }

    @Test func blankLinesBeforeTheEnd() {
        let found = error("a 1\n\nb 2\n")
        #expect(found == WordVectorError(problem: .blankLine, path: "v.txt", line: 2))
        #expect(found?.description == "v.txt: line 2: blank line before the last word vector")
        #expect(error("\na 1\n")?.line == 1)
        #expect(error("a 1\n  \n\r\nb 2")?.line == 2)
    }

    @Test func headerCountMismatch() {
        let tooFew = error("3 2\na 1 2\nb 3 4\n")
        #expect(tooFew == WordVectorError(problem: .headerCountMismatch(declared: 3, found: 2), path: "v.txt", line: 1))
        #expect(tooFew?.description == "v.txt: line 1: the header declares 3 words, the file has 2")
        #expect(error("1 2\na 1 2\nb 3 4\n")?.problem == .headerCountMismatch(declared: 1, found: 2))
        #expect(error("2 0\n")?.problem == .invalidHeader("the dimension is 0"))
        #expect(error("99999999999999999999 2\n")?.problem == .invalidHeader("the numbers are too large"))
    }

    @Test func hugeHeadersAreCheckedAgainstTheLines() throws {
        // A dimension of Int.max (count × dimension overflows), and a plausible header that asks for
        // 120 GB in a 20-byte file: storage grows with the lines read, so both fail on line 2.
        let intMax = try malformedFixture("glove-header-dimension-int-max.txt")
        let intMaxError = #expect(throws: WordVectorError.self) { try WordVectors<Float>(contentsOf: intMax) }
        #expect(
            intMaxError
                == WordVectorError(
                    problem: .wrongDimension(expected: .max, found: 2, expectedFrom: .header), path: intMax.path, line: 2))
        let large = try malformedFixture("glove-header-100M-words-300-dims.txt")
        let largeError = #expect(throws: WordVectorError.self) { try WordVectors<Float>(contentsOf: large) }
        #expect(
            largeError
                == WordVectorError(
                    problem: .wrongDimension(expected: 300, found: 2, expectedFrom: .header), path: large.path, line: 2))
        #expect(largeError?.description.hasSuffix("line 2: the vector has 2 values, but the header declares 300") == true)

        // Counts of Int.max, products that wrap around, and a limit do not change that.
        #expect(error("9223372036854775807 2\na 1\n")?.problem == .wrongDimension(expected: 2, found: 1, expectedFrom: .header))
        #expect(error("3 6148914691236517206\na 1 2\n")?.line == 2)
        #expect(error("9223372036854775807 9223372036854775807\na 1\n", limit: 5)?.line == 2)
        #expect(error("9223372036854775807 2\na 1 2\n")?.problem == .headerCountMismatch(declared: .max, found: 1))
        #expect(try WordVectors<Double>(text: "9223372036854775807 2\na 1 2\n", limit: 1).words == ["a"])
    }

    @Test func errorsQuoteAtMost64Characters() {
        let long = String(repeating: "7", count: 100_000) + "x"
        let cut = String(repeating: "7", count: 63) + "…"
        #expect(error("a 1 " + long + "\n")?.problem == .notANumber(field: 2, text: cut))
        #expect(error("a 1\n" + long + "\n")?.problem == .missingVector(word: cut))
    }

    @Test func invalidUTF8AndFileErrors() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("bad.txt")
        try Data([0x61, 0x20, 0x31, 0x0A, 0xFF, 0xFE, 0x20, 0x32, 0x0A]).write(to: file)
        let found = #expect(throws: WordVectorError.self) { try WordVectors<Float>(contentsOf: file) }
        #expect(found == WordVectorError(problem: .invalidUTF8, path: file.path, line: 2))
        #expect(found?.description == "\(file.path): line 2: the word is not valid UTF-8")

        let missing = directory.url.appendingPathComponent("missing.txt")
        let ioError = #expect(throws: WordVectorError.self) { try WordVectors<Double>(contentsOf: missing) }
        guard case .io(.readFailed(let path, _)) = ioError?.problem else {
            Issue.record("\(String(describing: ioError))")
            return
        }
        #expect(path == missing.path)
        #expect(ioError?.path == missing.path)
        #expect(ioError?.description.contains("missing.txt") == true)

        // Content errors from a file carry its path.
        let short = directory.url.appendingPathComponent("short.txt")
        try Data("a 1 2\nb 1\n".utf8).write(to: short)
        let shortError = #expect(throws: WordVectorError.self) { try WordVectors<Float>(contentsOf: short) }
        #expect(shortError?.path == short.path)
        #expect(shortError?.line == 2)
    }

    @Test func largeFile() throws {
        // 2 000 words × 50 values; checks a few entries against the generating formula.
        var text = ""
        for word in 0..<2000 {
            text += "word\(word)"
            for component in 0..<50 { text += " \(Double((word * 31 + component * 7) % 1000) / 64 - 5)" }
            text += "\n"
        }
        let vectors = try WordVectors<Float>(text: text, expectedDimension: 50)
        #expect(vectors.vectors.shape == [2000, 50])
        for word in [0, 999, 1999] {
            let expected = (0..<50).map { Float(Double((word * 31 + $0 * 7) % 1000) / 64 - 5) }
            #expect(vectors.vector(for: "word\(word)")?.scalars == expected)
        }
    }
}
