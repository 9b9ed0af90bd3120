// A DEFLATE decoder (RFC 1951) and CRC-32, for reading compressed `.npz` archives.
//
// The decoder handles stored, fixed-Huffman and dynamic-Huffman blocks. Every malformed input ends
// in an `InflateError`: a truncated stream, invalid or over-subscribed code lengths, a back-reference
// before the start of the output, a reserved block type or symbol, or output beyond the allowed size.
// Each step consumes input bits or output room, so it cannot loop forever.

import RNNODETensors

/// Why a DEFLATE stream could not be decoded.
struct InflateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, e.g. "invalid distance code 30".
    var message: String
    /// The byte offset in the compressed input where the problem was found (approximately: the
    /// decoder reads ahead up to 8 bytes).
    var offset: Int
    /// Whether the stream decodes to more than the allowed size (rather than being corrupt).
    var exceedsMaximumSize = false

    var description: String { "\(message) (at compressed byte \(offset))" }
}

/// Decodes a raw DEFLATE stream (no zlib or gzip wrapper).
///
/// ```swift
/// let text = try inflate([0x01, 0x02, 0x00, 0xFD, 0xFF, 0x68, 0x69])  // a stored block: "hi"
/// ```
///
/// - Parameters:
///   - input: The compressed bytes; bytes after the final block are ignored.
///   - maximumSize: Decoding stops with an error once the output would exceed this many bytes (a
///     guard against decompression bombs and corrupt length fields).
///   - sizeHint: The expected output size. The output buffer starts at this size, but never larger
///     than `maximumSize` or than `input` can decode to (DEFLATE expands at most 1032-fold), and
///     grows with the bytes actually decoded; so a right hint costs no reallocation and a wrong
///     one costs no more than the input allows.
/// - Throws: ``InflateError`` describing the first problem.
func inflate(_ input: [UInt8], maximumSize: Int = .max, sizeHint: Int = 0) throws(InflateError) -> [UInt8] {
    let (expansion, overflow) = input.count.multipliedReportingOverflow(by: 1032)
    let mostOutput = overflow ? Int.max : expansion
    var inflater = Inflater(input: input, maximumSize: maximumSize, capacity: min(max(sizeHint, 0), maximumSize, mostOutput))
    try inflater.run()
    inflater.output.removeLast(inflater.output.count - inflater.outputCount)
    return inflater.output
}

/// The state of one decoding run: the input with a bit buffer, and the output so far.
private struct Inflater {
    let input: [UInt8]
    let maximumSize: Int
    var position = 0
    /// Bits not yet consumed, the next one in bit 0.
    var bitBuffer: UInt64 = 0
    var bitCount = 0
    /// The output buffer; its first `outputCount` bytes are the output so far.
    var output: [UInt8]
    var outputCount = 0

    init(input: [UInt8], maximumSize: Int, capacity: Int) {
        self.input = input
        self.maximumSize = maximumSize
        output = [UInt8](repeating: 0, count: max(capacity, 64))
    }

    /// Makes room for `count` more output bytes, or throws if that exceeds `maximumSize`.
    mutating func reserve(_ count: Int) throws(InflateError) {
        guard count <= maximumSize - outputCount else { throw tooLarge }
        if outputCount + count > output.count {
            let newCount = max(outputCount + count, min(output.count * 2, maximumSize))
            output.append(contentsOf: repeatElement(0, count: newCount - output.count))
        }
    }

    func error(_ message: String) -> InflateError {
        InflateError(message: message, offset: position - bitCount / 8)
    }

    var truncated: InflateError { error("the DEFLATE stream is truncated") }

    @inline(__always)
    mutating func refill() {
        while bitCount <= 56 && position < input.count {
            bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
    }

    /// The next `count` (≤ 32) bits as a number, first bit least significant.
    @inline(__always)
    mutating func bits(_ count: Int) throws(InflateError) -> Int {
        if bitCount < count {
            refill()
            if bitCount < count { throw truncated }
        }
        let value = Int(bitBuffer & ((1 << UInt64(count)) - 1))
        bitBuffer >>= UInt64(count)
        bitCount -= count
        return value
    }

    /// Decodes one symbol with `table`.
    @inline(__always)
    mutating func decode(_ table: HuffmanTable) throws(InflateError) -> Int {
        if bitCount < table.indexBits { refill() }
        let entry = Int(table.entries[Int(bitBuffer & table.indexMask)])
        let length = entry & 15
        if length == 0 || length > bitCount {
            // Past the end of the input the missing bits read as zeros, which may select an unused
            // code: either way the stream ended early unless all the bits were there.
            if bitCount < table.indexBits && position == input.count { throw truncated }
            throw error("invalid Huffman code")
        }
        bitBuffer >>= UInt64(length)
        bitCount -= length
        return entry >> 4
    }

    mutating func run() throws(InflateError) {
        var isFinal = false
        while !isFinal {
            isFinal = try bits(1) == 1
            switch try bits(2) {
            case 0: try storedBlock()
            case 1: try huffmanBlock(literals: fixedLiteralTable, distances: fixedDistanceTable)
            case 2:
                let (literals, distances) = try dynamicTables()
                try huffmanBlock(literals: literals, distances: distances)
            default: throw error("invalid block type 3")
            }
        }
    }

    mutating func storedBlock() throws(InflateError) {
        // Skip to a byte boundary; what is left in the bit buffer is then whole bytes.
        let skip = bitCount % 8
        bitBuffer >>= UInt64(skip)
        bitCount -= skip
        let length = try bits(16)
        let complement = try bits(16)
        guard length == ~complement & 0xFFFF else {
            throw error("stored block length \(length) does not match its complement \(complement)")
        }
        var remaining = length
        while remaining > 0 && bitCount >= 8 {
            try reserve(1)
            output[outputCount] = UInt8(truncatingIfNeeded: bitBuffer)
            outputCount += 1
            bitBuffer >>= 8
            bitCount -= 8
            remaining -= 1
        }
        guard remaining <= input.count - position else { throw truncated }
        try reserve(remaining)
        output.replaceSubrange(outputCount..<outputCount + remaining, with: input[position..<position + remaining])
        outputCount += remaining
        position += remaining
    }

    var tooLarge: InflateError {
        var error = error("the DEFLATE stream decodes to more than the expected \(maximumSize) bytes")
        error.exceedsMaximumSize = true
        return error
    }

    mutating func dynamicTables() throws(InflateError) -> (HuffmanTable, HuffmanTable) {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        guard literalCount <= 286 else { throw error("too many literal/length codes (\(literalCount))") }
        guard distanceCount <= 30 else { throw error("too many distance codes (\(distanceCount))") }

        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for index in 0..<codeLengthCount {
            codeLengthLengths[codeLengthOrder[index]] = UInt8(try bits(3))
        }
        let codeLengthTable: HuffmanTable
        do {
            codeLengthTable = try HuffmanTable(lengths: codeLengthLengths, requireComplete: true)
        } catch {
            throw self.error("invalid code length code: \(error)")
        }

        var lengths = [UInt8](repeating: 0, count: literalCount + distanceCount)
        var index = 0
        while index < lengths.count {
            let symbol = try decode(codeLengthTable)
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            var value: UInt8 = 0
            let repeatCount: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw error("code length repeat (16) with no previous length") }
                value = lengths[index - 1]
                repeatCount = 3 + (try bits(2))
            case 17: repeatCount = 3 + (try bits(3))
            default: repeatCount = 11 + (try bits(7))
            }
            guard repeatCount <= lengths.count - index else {
                throw error("code length repeat runs past the \(lengths.count) code lengths")
            }
            for offset in 0..<repeatCount { lengths[index + offset] = value }
            index += repeatCount
        }
        guard lengths[256] != 0 else { throw error("the literal/length code has no end-of-block code") }

        do {
            let literals = try HuffmanTable(lengths: lengths[0..<literalCount])
            let distances = try HuffmanTable(lengths: lengths[literalCount...])
            return (literals, distances)
        } catch {
            throw self.error("invalid literal/length or distance code lengths: \(error)")
        }
    }

    mutating func huffmanBlock(literals: HuffmanTable, distances: HuffmanTable) throws(InflateError) {
        while true {
            let symbol = try decode(literals)
            if symbol < 256 {
                if outputCount == output.count { try reserve(1) }
                guard outputCount < maximumSize else { throw tooLarge }
                output[outputCount] = UInt8(symbol)
                outputCount += 1
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < lengthBase.count else { throw error("invalid length code \(symbol)") }
            let length = lengthBase[lengthIndex] + (try bits(lengthExtraBits[lengthIndex]))
            let distanceSymbol = try decode(distances)
            guard distanceSymbol < distanceBase.count else {
                throw error("invalid distance code \(distanceSymbol)")
            }
            let distance = distanceBase[distanceSymbol] + (try bits(distanceExtraBits[distanceSymbol]))
            guard distance <= outputCount else {
                throw error("a back-reference \(distance) bytes back reaches before the start of the output")
            }
            try reserve(length)
            let start = outputCount - distance
            for offset in 0..<length { output[outputCount + offset] = output[start + offset] }
            outputCount += length
        }
    }
}

/// A canonical Huffman code as a lookup table indexed by the next `indexBits` input bits (first bit
/// least significant). Each entry is `symbol << 4 | codeLength`; 0 marks an unused bit pattern.
private struct HuffmanTable {
    var entries: [UInt16]
    var indexBits: Int
    var indexMask: UInt64

    /// Why a set of code lengths does not form a usable code.
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// Builds the table for the code lengths of symbols 0, 1, … (0 = symbol unused).
    ///
    /// An over-subscribed set (more codes than fit) is always rejected. An incomplete set is
    /// rejected when `requireComplete`, and otherwise allowed only when it is a single one-bit code
    /// (as zlib does, for a block that uses one distance); a set with no codes gives a table that
    /// rejects every input.
    init<Lengths: Collection>(lengths: Lengths, requireComplete: Bool = false) throws(Problem)
    where Lengths.Element == UInt8 {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths { counts[Int(length)] += 1 }
        let maxLength = (1...15).last { counts[$0] > 0 } ?? 0
        var left = 1
        for length in 1...15 {
            left = left * 2 - counts[length]
            if left < 0 { throw Problem(description: "over-subscribed code lengths") }
        }
        if left > 0 && maxLength > 0 && (requireComplete || maxLength > 1) {
            throw Problem(description: "incomplete code lengths")
        }

        indexBits = max(maxLength, 1)
        indexMask = (1 << UInt64(indexBits)) - 1
        entries = [UInt16](repeating: 0, count: 1 << indexBits)
        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0  // RFC 1951 3.2.2, with the count of unused symbols (length 0) left out
        for length in 1...15 {
            code = (code + (length > 1 ? counts[length - 1] : 0)) << 1
            nextCode[length] = code
        }
        for (symbol, length) in lengths.enumerated() where length > 0 {
            let length = Int(length)
            let code = nextCode[length]
            nextCode[length] += 1
            var reversed = 0
            for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            let entry = UInt16(symbol << 4 | length)
            var index = reversed
            while index < entries.count {
                entries[index] = entry
                index += 1 << length
            }
        }
    }
}

private let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
private let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
]
private let lengthExtraBits = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
private let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
]
private let distanceExtraBits = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
]

/// The fixed literal/length code of RFC 1951 3.2.6 (symbols 286 and 287 decode but are invalid).
private let fixedLiteralTable: HuffmanTable = {
    var lengths = [UInt8](repeating: 8, count: 288)
    for symbol in 144..<256 { lengths[symbol] = 9 }
    for symbol in 256..<280 { lengths[symbol] = 7 }
    return try! HuffmanTable(lengths: lengths)
}()

/// The fixed distance code: 32 five-bit codes (30 and 31 decode but are invalid).
private let fixedDistanceTable = try! HuffmanTable(lengths: [UInt8](repeating: 5, count: 32))

// MARK: - CRC-32

/// The CRC-32 (ISO 3309 / ITU-T V.42, as used by ZIP, gzip and PNG) of `bytes`, continuing from
/// `crc` (the CRC of the bytes before).
///
/// ```swift
/// crc32(Array("123456789".utf8)) == 0xCBF4_3926
/// ```
package func crc32<Bytes: Sequence>(_ bytes: Bytes, continuing crc: UInt32 = 0) -> UInt32
where Bytes.Element == UInt8 {
    if let result = bytes.withContiguousStorageIfAvailable({ crc32(buffer: $0, continuing: crc) }) {
        return result
    }
    return crc32(Array(bytes), continuing: crc)
}

/// CRC-32 eight bytes at a time ("slicing-by-8").
private func crc32(buffer: UnsafeBufferPointer<UInt8>, continuing crc: UInt32) -> UInt32 {
    crc32Tables.withUnsafeBufferPointer { table in
        var value = ~crc
        var index = 0
        let count = buffer.count
        while index + 8 <= count {
            let low =
                (UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8 | UInt32(buffer[index + 2]) << 16
                    | UInt32(buffer[index + 3]) << 24) ^ value
            let high =
                UInt32(buffer[index + 4]) | UInt32(buffer[index + 5]) << 8 | UInt32(buffer[index + 6]) << 16
                | UInt32(buffer[index + 7]) << 24
            value =
                table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                ^ table[256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
            index += 8
        }
        while index < count {
            value = table[Int((value ^ UInt32(buffer[index])) & 0xFF)] ^ (value >> 8)
            index += 1
        }
        return ~value
    }
}

/// Eight tables of 256 entries: the first is the byte-at-a-time table, table k advances a byte's
/// contribution by k more bytes.
private let crc32Tables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for index in 0..<256 {
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        tables[index] = value
    }
    for table in 1..<8 {
        for index in 0..<256 {
            let previous = tables[(table - 1) * 256 + index]
            tables[table * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
    }
    return tables
}()
