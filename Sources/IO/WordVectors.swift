import RNNODEModels
import RNNODETensors

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Pretrained word embeddings: a vocabulary and one vector per word, read from the text format of
/// GloVe and word2vec.
///
/// ```swift
/// let glove = try WordVectors<Float>(contentsOf: URL(fileURLWithPath: "glove.6B.100d.txt"), limit: 50_000)
/// glove.dimension                       // 100
/// if let i = glove.index(of: "river") {
///     let v = glove.vectors[i]          // shape [100]
/// }
/// ```
///
/// ## Format
/// - One word per line: the word, then its values, separated by spaces (or tabs):
///   `the 0.418 0.24968 -0.41242 …`. Every line has the same number of values (the dimension).
///   The word cannot contain spaces.
/// - An optional word2vec header line of two integers, `<word count> <dimension>`; the file must
///   then have exactly that many words (unless `limit` stops reading earlier), each of that
///   dimension. (A first line of two integers is always taken as a header.) The header is
///   checked against the lines, never trusted to size memory: storage is reserved for at most what
///   the rest of the text can hold (every product overflow-checked) and grows with the lines
///   read, so a header such as `100000000 300` in a short file fails on the first line that
///   disagrees with it (``WordVectorError/Problem/wrongDimension(expected:found:expectedFrom:)``)
///   or with ``WordVectorError/Problem/headerCountMismatch(declared:found:)``.
/// - Values are decimal numbers (`0.5`, `-1e-3`); NaN and infinities are rejected. Words must be
///   unique and valid UTF-8.
/// - `\n` and `\r\n` line ends, a UTF-8 byte-order mark, trailing spaces on a line and blank lines
///   at the end are accepted; a blank line before the last word is an error.
/// - Problems are reported as ``WordVectorError`` with the source and the 1-based line number.
public struct WordVectors<Scalar: TensorScalar>: Sendable {
    /// The vocabulary, in file order; row `i` of ``vectors`` belongs to `words[i]`.
    public let words: [String]
    /// The vectors, shape `[words.count, dimension]`.
    public let vectors: Tensor<Scalar>
    private let indices: [String: Int]

    /// The length of each vector.
    public var dimension: Int { vectors.shape[1] }

    /// The row of `word` in ``vectors``, or `nil` if it is not in the vocabulary.
    ///
    /// ```swift
    /// let row = glove.index(of: "the")   // 0 for GloVe files, sorted by frequency
    /// ```
    public func index(of word: String) -> Int? { indices[word] }

    /// The vector of `word` (shape `[dimension]`), or `nil` if it is not in the vocabulary.
    ///
    /// ```swift
    /// let king = glove.vector(for: "king")
    /// ```
    public func vector(for word: String) -> Tensor<Scalar>? {
        indices[word].map { vectors[$0] }
    }

    /// Word vectors from a vocabulary and a matrix with one row per word.
    ///
    /// ```swift
    /// let embedding = WordVectors(words: ["a", "b"], vectors: Tensor<Float>([[1, 0], [0, 1]]))
    /// ```
    ///
    /// - Precondition: `vectors` has shape `[words.count, d]` and the words are unique.
    public init(words: [String], vectors: Tensor<Scalar>) {
        require(
            vectors.rank == 2 && vectors.shape[0] == words.count,
            "word vectors of shape \(describeShape(vectors.shape)) do not match \(words.count) words")
        var indices: [String: Int] = [:]
        indices.reserveCapacity(words.count)
        for (index, word) in words.enumerated() {
            require(indices.updateValue(index, forKey: word) == nil, "duplicate word '\(word)'")
        }
        self.words = words
        self.vectors = vectors.detached
        self.indices = indices
    }

    private init(words: [String], vectors: Tensor<Scalar>, indices: [String: Int]) {
        self.words = words
        self.vectors = vectors
        self.indices = indices
    }

    /// Reads a GloVe or word2vec text file (see the format on ``WordVectors``).
    ///
    /// ```swift
    /// let vectors = try WordVectors<Float>(contentsOf: url, expectedDimension: 300)
    /// ```
    ///
    /// - Parameters:
    ///   - url: The file.
    ///   - limit: Read only the first `limit` words (≥ 1); real files are sorted by frequency.
    ///   - expectedDimension: Require vectors of this length.
    /// - Throws: ``WordVectorError`` with the file's path and the line of the first problem; only a
    ///   regular file is read (a FIFO or device is ``IOError/notARegularFile(path:kind:)``).
    public init(contentsOf url: URL, limit: Int? = nil, expectedDimension: Int? = nil) throws(WordVectorError) {
        let path = url.isFileURL ? url.standardizedFileURL.path : url.absoluteString
        let bytes: [UInt8]
        do {
            bytes = try readFileContents(at: url)
        } catch {
            throw WordVectorError(problem: .io(error), path: path)
        }
        self = try bytes.withUnsafeBufferPointer { buffer throws(WordVectorError) in
            try Self.parseSpecialized(buffer, source: path, limit: limit, expectedDimension: expectedDimension)
        }
    }

    /// Parses word vectors from text (see the format on ``WordVectors``).
    ///
    /// ```swift
    /// let vectors = try WordVectors<Double>(text: "cat 0.1 0.2\ndog 0.3 0.4\n")
    /// vectors.vectors.shape   // [2, 2]
    /// ```
    ///
    /// - Parameters:
    ///   - text: The file contents.
    ///   - source: A name for the text in errors.
    ///   - limit: Read only the first `limit` words (≥ 1).
    ///   - expectedDimension: Require vectors of this length.
    /// - Throws: ``WordVectorError`` with `source` and the line of the first problem.
    public init(
        text: String, source: String = "<text>", limit: Int? = nil, expectedDimension: Int? = nil
    ) throws(WordVectorError) {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(WordVectorError) in
                try Self.parseSpecialized(buffer, source: source, limit: limit, expectedDimension: expectedDimension)
            }
        }
        self = try result.get()
    }

    // MARK: Parsing

    /// ``parse(_:source:limit:expectedDimension:)`` for the concrete scalar type, so that the
    /// number parsing is specialized (3× faster than the generic code).
    private static func parseSpecialized(
        _ bytes: UnsafeBufferPointer<UInt8>, source: String, limit: Int?, expectedDimension: Int?
    ) throws(WordVectorError) -> WordVectors {
        if Scalar.self == Float.self {
            let vectors = try WordVectors<Float>.parse(bytes, source: source, limit: limit, expectedDimension: expectedDimension)
            return vectors as! WordVectors
        }
        if Scalar.self == Double.self {
            let vectors = try WordVectors<Double>.parse(bytes, source: source, limit: limit, expectedDimension: expectedDimension)
            return vectors as! WordVectors
        }
        return try parse(bytes, source: source, limit: limit, expectedDimension: expectedDimension)
    }

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, source: String, limit: Int?, expectedDimension: Int?
    ) throws(WordVectorError) -> WordVectors {
        require(limit.map { $0 >= 1 } ?? true, "the word limit must be at least 1, got \(limit!)")
        require(
            expectedDimension.map { $0 >= 1 } ?? true, "the expected dimension must be at least 1, got \(expectedDimension!)")
        let space = UInt8(ascii: " ")
        let tab = UInt8(ascii: "\t")
        let count = bytes.count
        var position = 0
        if count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }

        var lineNumber = 0
        func fail(_ problem: WordVectorError.Problem) -> WordVectorError {
            WordVectorError(problem: problem, path: source, line: lineNumber)
        }

        var dimension = expectedDimension
        var dimensionSource: WordVectorError.DimensionSource? = expectedDimension == nil ? nil : .expectedDimension
        var declaredCount: Int?
        var sawContent = false
        var firstBlankLine: Int?
        var words: [String] = []
        var indices: [String: Int] = [:]
        var lines: [Int] = []
        var scalars: [Scalar] = []

        while position < count {
            if let limit, words.count >= limit { break }
            lineNumber += 1
            var lineEnd = position
            while lineEnd < count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let nextLine = lineEnd + 1
            if lineEnd > position && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer { position = nextLine }

            // The word.
            var cursor = position
            while cursor < lineEnd && (bytes[cursor] == space || bytes[cursor] == tab) { cursor += 1 }
            if cursor == lineEnd {
                if firstBlankLine == nil { firstBlankLine = lineNumber }
                continue
            }
            if let blank = firstBlankLine {
                lineNumber = blank
                throw fail(.blankLine)
            }
            let wordStart = cursor
            while cursor < lineEnd && bytes[cursor] != space && bytes[cursor] != tab { cursor += 1 }
            let wordBytes = UnsafeBufferPointer(rebasing: bytes[wordStart..<cursor])

            // A first line of two integers is a word2vec header.
            if !sawContent {
                sawContent = true
                if let header = try parseHeader(bytes, word: wordBytes, from: cursor, to: lineEnd, fail: fail) {
                    if let expectedDimension, expectedDimension != header.dimension {
                        throw fail(
                            .wrongDimension(
                                expected: expectedDimension, found: header.dimension, expectedFrom: .expectedDimension))
                    }
                    declaredCount = header.count
                    dimension = header.dimension
                    dimensionSource = .header
                    // Reserve only what the rest of the text can hold: a word line takes at least
                    // 2 bytes per value (a separator and a digit), so the header's numbers (which
                    // may be huge, or overflow when multiplied) never size an allocation alone.
                    let valuesThatFit = max(count - nextLine, 0) / 2 + 1
                    let (declaredValues, overflow) = min(header.count, limit ?? .max)
                        .multipliedReportingOverflow(by: header.dimension)
                    let reservedValues = overflow ? valuesThatFit : min(declaredValues, valuesThatFit)
                    words.reserveCapacity(min(reservedValues / header.dimension, header.count))
                    scalars.reserveCapacity(reservedValues)
                    continue
                }
            }

            // The values.
            var field = 0
            while true {
                while cursor < lineEnd && (bytes[cursor] == space || bytes[cursor] == tab) { cursor += 1 }
                if cursor == lineEnd { break }
                let start = cursor
                while cursor < lineEnd && bytes[cursor] != space && bytes[cursor] != tab { cursor += 1 }
                field += 1
                if let dimension, field > dimension { continue }  // only counted, for the message
                switch parseNumber(UnsafeBufferPointer(rebasing: bytes[start..<cursor])) {
                case .value(let value):
                    scalars.append(value)
                case .notANumber:
                    throw fail(
                        .notANumber(field: field, text: abbreviated(String(decoding: bytes[start..<cursor], as: UTF8.self))))
                case .nonFinite:
                    throw fail(
                        .nonFiniteValue(field: field, text: abbreviated(String(decoding: bytes[start..<cursor], as: UTF8.self))))
                }
            }
            guard let word = String(validating: wordBytes, as: UTF8.self) else { throw fail(.invalidUTF8) }
            if field == 0 { throw fail(.missingVector(word: abbreviated(word))) }
            if let dimension, let dimensionSource {
                guard field == dimension else {
                    throw fail(.wrongDimension(expected: dimension, found: field, expectedFrom: dimensionSource))
                }
            } else {
                dimension = field
                dimensionSource = .firstLine(lineNumber)
            }
            if let first = indices.updateValue(words.count, forKey: word) {
                throw fail(.duplicateWord(abbreviated(word), firstLine: lines[first]))
            }
            words.append(word)
            lines.append(lineNumber)
        }

        if let declaredCount, words.count != declaredCount, words.count != limit {
            lineNumber = 1
            throw fail(.headerCountMismatch(declared: declaredCount, found: words.count))
        }
        guard let dimension, sawContent else {
            throw WordVectorError(problem: .emptyFile, path: source, line: nil)
        }
        return WordVectors(
            words: words, vectors: Tensor(shape: [words.count, dimension], scalars: scalars), indices: indices)
    }

    /// The word count and dimension if the line is a word2vec header (`<count> <dimension>`).
    private static func parseHeader(
        _ bytes: UnsafeBufferPointer<UInt8>, word: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
        fail: (WordVectorError.Problem) -> WordVectorError
    ) throws(WordVectorError) -> (count: Int, dimension: Int)? {
        func isDigits(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
            !text.isEmpty && text.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
        guard isDigits(word) else { return nil }
        var fields: [UnsafeBufferPointer<UInt8>] = []
        var cursor = start
        while cursor < end {
            if bytes[cursor] == UInt8(ascii: " ") || bytes[cursor] == UInt8(ascii: "\t") {
                cursor += 1
                continue
            }
            let fieldStart = cursor
            while cursor < end && bytes[cursor] != UInt8(ascii: " ") && bytes[cursor] != UInt8(ascii: "\t") { cursor += 1 }
            fields.append(UnsafeBufferPointer(rebasing: bytes[fieldStart..<cursor]))
            if fields.count > 1 { return nil }
        }
        guard fields.count == 1, isDigits(fields[0]) else { return nil }
        guard let count = Int(String(decoding: word, as: UTF8.self)),
            let dimension = Int(String(decoding: fields[0], as: UTF8.self))
        else {
            throw fail(.invalidHeader("the numbers are too large"))
        }
        guard dimension >= 1 else { throw fail(.invalidHeader("the dimension is 0")) }
        return (count, dimension)
    }

    private enum ParsedNumber {
        case value(Scalar)
        case notANumber
        case nonFinite
    }

    /// Parses a decimal number: `[+-]digits[.digits][(e|E)[+-]digits]` (digits on at least one
    /// side of the point). Exact, short inputs are converted with one correctly rounded operation
    /// (Clinger's fast path); others go through the standard library's correctly rounded parser.
    private static func parseNumber(_ text: UnsafeBufferPointer<UInt8>) -> ParsedNumber {
        let count = text.count
        var index = 0
        var negative = false
        if index < count && (text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+")) {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var digits = 0
        var sawPoint = false
        while index < count {
            let byte = text[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits += 1
                if mantissa != 0 || byte != UInt8(ascii: "0") {
                    significantDigits += 1
                    if significantDigits <= 19 {
                        mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                        if sawPoint { exponent -= 1 }
                    } else if !sawPoint {
                        exponent += 1
                    }
                } else if sawPoint {
                    exponent -= 1
                }
            } else if byte == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                break
            }
            index += 1
        }
        guard digits > 0 else { return nonNumeric(text) }
        if index < count && (text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E")) {
            index += 1
            var exponentNegative = false
            if index < count && (text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+")) {
                exponentNegative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            var value = 0
            while index < count && text[index] >= UInt8(ascii: "0") && text[index] <= UInt8(ascii: "9") {
                if value < 100_000 { value = value * 10 + Int(text[index] - UInt8(ascii: "0")) }
                index += 1
            }
            guard index > exponentStart else { return .notANumber }
            exponent += exponentNegative ? -value : value
        }
        guard index == count else { return .notANumber }

        if mantissa == 0 { return .value(negative ? -0.0 : 0) }
        if significantDigits <= 19 {
            if Scalar.self == Float.self, mantissa <= 1 << 24, (-10...10).contains(exponent) {
                var value = Float(mantissa)
                value = exponent < 0 ? value / floatPowersOfTen[-exponent] : value * floatPowersOfTen[exponent]
                return .value(unsafeBitCast(negative ? -value : value, to: Scalar.self))
            }
            if Scalar.self == Double.self, mantissa <= 1 << 53, (-22...22).contains(exponent) {
                var value = Double(mantissa)
                value = exponent < 0 ? value / doublePowersOfTen[-exponent] : value * doublePowersOfTen[exponent]
                return .value(unsafeBitCast(negative ? -value : value, to: Scalar.self))
            }
        }
        guard let value = Scalar(String(decoding: text, as: UTF8.self)) else { return .notANumber }
        return value.isFinite ? .value(value) : .nonFinite
    }

    /// `.nonFinite` for spellings of NaN and infinity, else `.notANumber`.
    private static func nonNumeric(_ text: UnsafeBufferPointer<UInt8>) -> ParsedNumber {
        var word = String(decoding: text, as: UTF8.self).lowercased()
        if word.hasPrefix("-") || word.hasPrefix("+") { word.removeFirst() }
        return ["nan", "inf", "infinity"].contains(word) ? .nonFinite : .notANumber
    }
}

private let floatPowersOfTen: [Float] = (0...10).map { exponent in
    var value: Float = 1
    for _ in 0..<exponent { value *= 10 }
    return value
}

private let doublePowersOfTen: [Double] = (0...22).map { exponent in
    var value: Double = 1
    for _ in 0..<exponent { value *= 10 }
    return value
}

/// A problem reading word vectors, with the file (or source name) and the 1-based line. Words and
/// values quoted in a problem are cut to 64 characters (ending in `…`).
///
/// ```swift
/// do { _ = try WordVectors<Float>(text: "a 1 2\nb 3\n") }
/// catch { print(error) }   // <text>: line 2: the vector has 1 value, but the first vector (line 1) has 2
/// ```
public struct WordVectorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where the expected dimension came from.
    public enum DimensionSource: Equatable, Sendable {
        /// The first vector, on the given line.
        case firstLine(Int)
        /// The `expectedDimension` argument.
        case expectedDimension
        /// The word2vec header line.
        case header
    }

    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// The text has no words (and no header).
        case emptyFile
        /// A blank line before the last word.
        case blankLine
        /// A line with a word but no values.
        case missingVector(word: String)
        /// A value that is not a decimal number; `field` is its 1-based position in the vector
        /// (the word is not counted).
        case notANumber(field: Int, text: String)
        /// A value that is NaN or infinite (or overflows); `field` as for ``notANumber(field:text:)``.
        case nonFiniteValue(field: Int, text: String)
        /// A vector (or the header's dimension) of length `found` where `expected` was required.
        case wrongDimension(expected: Int, found: Int, expectedFrom: DimensionSource)
        /// A word that already appeared on `firstLine`.
        case duplicateWord(String, firstLine: Int)
        /// A word2vec header that cannot be used.
        case invalidHeader(String)
        /// The header declares `declared` words, the file has `found`.
        case headerCountMismatch(declared: Int, found: Int)
        /// A word is not valid UTF-8.
        case invalidUTF8
        /// The file could not be read.
        case io(IOError)
    }

    /// What is wrong.
    public var problem: Problem
    /// The file path, or the `source` name given for text.
    public var path: String
    /// The 1-based line number, when the problem is on one line (the header is line 1).
    public var line: Int?

    /// Creates an error; normally only the parser does this.
    public init(problem: Problem, path: String, line: Int? = nil) {
        self.problem = problem
        self.path = path
        self.line = line
    }

    /// A one-line message such as `glove.txt: line 7: value 3 ('0.1.2') is not a number`.
    public var description: String {
        if case .io(let error) = problem { return error.description }
        let location = path + (line.map { ": line \($0)" } ?? "") + ": "
        switch problem {
        case .emptyFile:
            return location + "no word vectors (the file is empty)"
        case .blankLine:
            return location + "blank line before the last word vector"
        case .missingVector(let word):
            return location + "the word '\(word)' has no vector"
        case .notANumber(let field, let text):
            return location + "value \(field) ('\(text)') is not a number"
        case .nonFiniteValue(let field, let text):
            return location + "value \(field) ('\(text)') is not finite"
        case .wrongDimension(let expected, let found, let source):
            let reference: String
            switch source {
            case .firstLine(let line): reference = "the first vector (line \(line)) has \(expected)"
            case .expectedDimension: reference = "the expected dimension is \(expected)"
            case .header: reference = "the header declares \(expected)"
            }
            return location + "the vector has \(found) value\(found == 1 ? "" : "s"), but \(reference)"
        case .duplicateWord(let word, let firstLine):
            return location + "the word '\(word)' already appeared on line \(firstLine)"
        case .invalidHeader(let reason):
            return location + "invalid word2vec header: \(reason)"
        case .headerCountMismatch(let declared, let found):
            return location + "the header declares \(declared) words, the file has \(found)"
        case .invalidUTF8:
            return location + "the word is not valid UTF-8"
        case .io(let error):
            return error.description
        }
    }
}

extension Embedding {
    /// A table holding pretrained word vectors (frozen by default); the token index of a word is
    /// its position in `vectors.words` (see ``WordVectors/index(of:)``).
    public init(pretrained vectors: WordVectors<Scalar>, isFrozen: Bool = true) {
        self.init(weight: vectors.vectors, isFrozen: isFrozen)
    }
}
