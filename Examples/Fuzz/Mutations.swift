import Foundation
import RNNODE
import RNNODEIO  // crc32

/// A small, fast, seedable generator (SplitMix64): every case's input is a pure function of the
/// campaign's seed, the reader and the case number, so a case can be regenerated on its own.
struct CaseGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64, reader: Int, index: Int) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(reader) &* 0xBF58_476D_1CE4_E5B9 ^ UInt64(index) &* 0x94D0_49BB_1331_11EB
        _ = next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` (0 if `bound` ≤ 0).
    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
}

/// Integers that find boundary bugs: zero, one, sign and width limits, and sizes near powers of two.
let interestingIntegers: [Int64] = [
    0, 1, -1, 2, 7, 8, 16, 63, 64, 65, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 32767, 32768, 65535, 65536,
    0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF, 0x1_0000_0000, 1 << 40, 1 << 53, Int64.max, Int64.min, -2,
    -128, -32768, Int64(Int32.min),
]

/// The textual numbers that parsers get wrong.
let interestingNumbers = [
    "0", "-0", "1", "-1", "1e999", "-1e999", "1e-400", "nan", "NaN", "inf", "-inf", "+", "-", ".", "1.", ".5", "0x10",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e308", "4.9e-324",
    "1_000", "١", "1e", "e5", "1.2.3", "",
]

// MARK: - Byte-level mutations

/// Applies one to four generic mutations to `bytes`: bit flips, interesting integers written at a
/// random place (little and big endian), byte runs deleted, duplicated or inserted, truncation,
/// extension, and splicing with another seed.
func mutateBytes(_ bytes: [UInt8], splice other: [UInt8], using g: inout CaseGenerator) -> [UInt8] {
    var data = bytes
    for _ in 0..<(1 + g.below(4)) {
        switch g.below(9) {
        case 0 where !data.isEmpty:
            for _ in 0..<(1 + g.below(8)) {
                let i = g.below(data.count)
                data[i] ^= 1 << UInt8(g.below(8))
            }
        case 1 where !data.isEmpty:
            data[g.below(data.count)] = g.pick([0, 0xFF, 0x7F, 0x80, 0x01, 0x0A, 0x0D, 0x22, 0x27, 0x28, 0x5B, 0x7B])
        case 2 where data.count >= 8:
            let width = g.pick([2, 4, 8])
            let value = UInt64(bitPattern: g.pick(interestingIntegers))
            let at = g.below(data.count - width + 1)
            let bigEndian = g.chance(0.2)
            for k in 0..<width {
                let shift = UInt64(8 * (bigEndian ? width - 1 - k : k))
                data[at + k] = UInt8(truncatingIfNeeded: value >> shift)
            }
        case 3 where !data.isEmpty:
            let at = g.below(data.count)
            data.removeSubrange(at..<min(data.count, at + 1 + g.below(64)))
        case 4 where !data.isEmpty:
            let at = g.below(data.count)
            let run = Array(data[at..<min(data.count, at + 1 + g.below(64))])
            let repeats = g.chance(0.1) ? 1 + g.below(200) : 1
            data.insert(contentsOf: Array([[UInt8]](repeating: run, count: repeats).joined()), at: g.below(data.count + 1))
        case 5:
            data = Array(data.prefix(g.below(data.count + 1)))
        case 6:
            data += (0..<(1 + g.below(64))).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        case 7 where !other.isEmpty:
            let cut = g.below(data.count + 1)
            let from = g.below(other.count)
            data = Array(data.prefix(cut)) + other[from...]
        default:
            let at = g.below(data.count + 1)
            data.insert(contentsOf: (0..<(1 + g.below(16))).map { _ in UInt8(truncatingIfNeeded: g.next()) }, at: at)
        }
    }
    return data
}

// MARK: - .npy structure

/// An `.npy` file split into its header text and data, and put back together with a header length
/// that matches (so the mutation reaches the header parser, not the length check).
struct NPYParts {
    var header: String
    var data: [UInt8]

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 10, bytes[0] == 0x93, bytes[1...5].elementsEqual("NUMPY".utf8) else { return nil }
        let major = bytes[6]
        let (length, start) =
            major == 1
            ? (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
            : (bytes.count >= 12
                ? (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12) : (0, 12))
        guard start + length <= bytes.count else { return nil }
        header = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
        data = Array(bytes[(start + length)...])
    }

    /// The file, as version 1.0 when the header fits in 65,535 bytes (else 2.0), padded like NumPy's.
    var bytes: [UInt8] {
        var text = Array(header.utf8)
        let long = text.count + 11 > 65_535
        let prefix = long ? 12 : 10
        while (prefix + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0A)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [long ? 2 : 1, 0]
        let n = text.count
        out +=
            long
            ? [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24 & 0xFF)]
            : [UInt8(n & 0xFF), UInt8(n >> 8)]
        return out + text + data
    }
}

/// A mutation of an `.npy` file that keeps its framing valid: the header dictionary's values
/// (shape, dtype, order), its syntax (nesting, quotes, commas, keys), or the data's length.
func mutateNPY(_ bytes: [UInt8], using g: inout CaseGenerator) -> [UInt8] {
    guard var parts = NPYParts(bytes) else { return mutateBytes(bytes, splice: [], using: &g) }
    let descrs = [
        "'<f4'", "'<f8'", "'>f8'", "'|b1'", "'<i8'", "'<u2'", "'|i1'", "'<c16'", "'|O'", "'<U3'", "'<f2'", "'V8'", "'<f16'",
        "'f8'", "''", "'<f4 '", "[('a', '<f4')]", "None", "8",
    ]
    switch g.below(8) {
    case 0:
        let dims = (0..<g.below(5)).map { _ in String(g.pick(interestingIntegers)) }
        let shape = "(" + dims.joined(separator: ", ") + (dims.count == 1 ? ",)" : ")")
        parts.header = replacing(value: "shape", in: parts.header, with: shape)
    case 1:
        parts.header = replacing(value: "descr", in: parts.header, with: g.pick(descrs))
    case 2:
        parts.header = replacing(
            value: "fortran_order", in: parts.header, with: g.pick(["True", "False", "1", "'False'", "None", "Fals"]))
    case 3:
        let depth = g.pick([2, 10, 100, 1000, 5000, 40_000])
        let open = g.pick(["(", "[", "{"])
        let close = open == "(" ? ")" : open == "[" ? "]" : "}"
        parts.header = replacing(
            value: "shape", in: parts.header,
            with: String(repeating: open, count: depth) + String(repeating: close, count: g.chance(0.8) ? depth : depth / 2))
    case 4:
        let rank = g.pick([33, 64, 65, 1000, 20_000])
        parts.header = replacing(value: "shape", in: parts.header, with: "(" + String(repeating: "1,", count: rank) + ")")
    case 5:
        var text = Array(parts.header)
        for _ in 0..<(1 + g.below(4)) where !text.isEmpty {
            let at = g.below(text.count)
            let token = g.pick(["'", "\"", ",", ":", "{", "}", "(", ")", "\\", "\u{0}", " ", "#", "'shape': (1,), ", "\n"])
            if g.chance(0.5) { text.insert(contentsOf: token, at: at) } else { text.remove(at: at) }
        }
        parts.header = String(text)
    case 6:
        let change = g.pick([-64, -8, -1, 1, 8, 4096])
        parts.data = change < 0 ? Array(parts.data.dropLast(-change)) : parts.data + [UInt8](repeating: 0, count: change)
    default:
        parts.header = g.pick([
            "{}", "{'descr': '<f8'}", "[1, 2]", "{'descr': '<f8', 'fortran_order': False, 'shape': (), 'descr': '<f4'}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", String(repeating: " ", count: 70_000),
        ])
    }
    return parts.bytes
}

/// `header` with the value of `key` (up to the next top-level comma or closing brace) replaced.
func replacing(value key: String, in header: String, with replacement: String) -> String {
    guard let range = header.range(of: "'\(key)':") else { return header }
    var depth = 0
    var end = range.upperBound
    while end < header.endIndex {
        let c = header[end]
        if c == "(" || c == "[" || c == "{" { depth += 1 }
        if c == ")" || c == "]" || c == "}" {
            if depth == 0 { break }
            depth -= 1
        }
        if c == "," && depth == 0 { break }
        end = header.index(after: end)
    }
    return String(header[..<range.upperBound]) + " " + replacement + String(header[end...])
}

// MARK: - ZIP structure

/// A stored (uncompressed) ZIP archive of named payloads with correct CRC-32s, and the byte offsets
/// of its header fields, so that mutations can target one field and leave the checksums valid.
struct StoredZip {
    var bytes: [UInt8] = []
    /// (offset, width) of every size, offset, count and length field in the headers.
    var fields: [(offset: Int, width: Int)] = []

    init(_ entries: [(name: String, payload: [UInt8])]) {
        var central: [UInt8] = []
        var centralFields: [(Int, Int)] = []
        for (name, payload) in entries {
            let offset = bytes.count
            let crc = crc32(payload)
            let nameBytes = Array(name.utf8)
            func field(_ value: UInt64, _ width: Int, into out: inout [UInt8], record: inout [(Int, Int)], base: Int) {
                record.append((base + out.count, width))
                for k in 0..<width { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))) }
            }
            var local: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 20, 0, 0, 0x08, 0, 0, 0, 0, 0, 0]
            var localFields: [(Int, Int)] = []
            local += le(crc)
            field(UInt64(payload.count), 4, into: &local, record: &localFields, base: offset)
            field(UInt64(payload.count), 4, into: &local, record: &localFields, base: offset)
            field(UInt64(nameBytes.count), 2, into: &local, record: &localFields, base: offset)
            local += [0, 0]
            bytes += local + nameBytes + payload
            fields += localFields
            var record: [UInt8] = [0x50, 0x4B, 0x01, 0x02, 20, 0, 20, 0, 0, 0x08, 0, 0, 0, 0, 0, 0]
            record += le(crc)
            var recordFields: [(Int, Int)] = []
            field(UInt64(payload.count), 4, into: &record, record: &recordFields, base: central.count)
            field(UInt64(payload.count), 4, into: &record, record: &recordFields, base: central.count)
            field(UInt64(nameBytes.count), 2, into: &record, record: &recordFields, base: central.count)
            record += [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            field(UInt64(offset), 4, into: &record, record: &recordFields, base: central.count)
            centralFields += recordFields
            central += record + nameBytes
        }
        let centralStart = bytes.count
        fields += centralFields.map { ($0.0 + centralStart, $0.1) }
        bytes += central
        let end = bytes.count
        bytes += [0x50, 0x4B, 0x05, 0x06, 0, 0, 0, 0]
        bytes += le16(entries.count) + le16(entries.count) + le(UInt32(central.count)) + le(UInt32(centralStart)) + [0, 0]
        fields += [(end + 8, 2), (end + 10, 2), (end + 12, 4), (end + 16, 4)]
    }

    /// One header field set to an interesting value.
    mutating func mutateField(using g: inout CaseGenerator) {
        guard !fields.isEmpty else { return }
        let (offset, width) = g.pick(fields)
        let value = UInt64(bitPattern: g.pick(interestingIntegers))
        for k in 0..<width { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
    }
}

private func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
private func le16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)] }

/// A mutation of an `.npz` file: its entries read and rewritten as a stored archive with valid
/// CRCs after mutating one entry's array (structure-aware), one header field, the entry list
/// (duplicated, overlapping or renamed entries), or, for a third of the cases, raw bytes.
func mutateNPZ(_ bytes: [UInt8], splice other: [UInt8], using g: inout CaseGenerator) -> [UInt8] {
    guard !g.chance(0.33), let archive = try? NumPyArchive(zipData: Data(bytes)), !archive.entries.isEmpty else {
        return mutateBytes(bytes, splice: other, using: &g)
    }
    var entries = archive.entries.map { (name: $0.name + ".npy", payload: [UInt8]($0.array.npyData())) }
    switch g.below(4) {
    case 0:
        let i = g.below(entries.count)
        entries[i].payload = mutateNPY(entries[i].payload, using: &g)
    case 1:
        let i = g.below(entries.count)
        entries[i].payload = mutateBytes(entries[i].payload, splice: [], using: &g)
    case 2:
        let i = g.below(entries.count)
        switch g.below(4) {
        case 0: entries.append(entries[i])
        case 1: entries[i].name = g.pick(["", "../x.npy", "a/b.npy", "x", String(repeating: "n", count: 70_000), "\u{0}.npy"])
        case 2: entries += Array(repeating: entries[i], count: 1 + g.below(300))
        default: entries.remove(at: i)
        }
    default:
        var zip = StoredZip(entries)
        for _ in 0..<(1 + g.below(3)) { zip.mutateField(using: &g) }
        return zip.bytes
    }
    return StoredZip(entries).bytes
}

// MARK: - Text formats

/// A mutation of a text file (CSV or word vectors): a line, field or number replaced with an
/// interesting one, line endings changed, NULs, quotes and invalid UTF-8 inserted, long runs, or
/// raw byte mutations.
func mutateText(_ bytes: [UInt8], splice other: [UInt8], using g: inout CaseGenerator) -> [UInt8] {
    var text = String(decoding: bytes, as: UTF8.self)
    switch g.below(8) {
    case 0:
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { break }
        let i = g.below(lines.count)
        var fields = lines[i].split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        if !fields.isEmpty { fields[g.below(fields.count)] = g.pick(interestingNumbers) }
        lines[i] = fields.joined(separator: lines[i].contains(",") ? "," : " ")
        text = lines.joined(separator: "\n")
    case 1:
        let numbers = (0..<2).map { _ in String(g.pick(interestingIntegers)) }
        text = numbers.joined(separator: " ") + "\n" + text
    case 2:
        text = text.replacingOccurrences(of: "\n", with: g.pick(["\r", "\r\n", "\n\n", "\u{0}", "\u{2028}"]))
    case 3:
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<(1 + g.below(4)) {
            let token = g.pick(["\"", "\"\"", ",", " ", "\t", "\u{0}", "\u{FEFF}", "\r", "\n", "e", "-", "#"])
            scalars.insert(contentsOf: token.unicodeScalars, at: g.below(scalars.count + 1))
        }
        text = String(String.UnicodeScalarView(scalars))
    case 4:
        let long = String(repeating: g.pick(["9", "a", ",", " ", "\n", "\""]), count: g.pick([100, 10_000, 1_000_000]))
        text.insert(contentsOf: long, at: text.index(text.startIndex, offsetBy: g.below(text.count + 1)))
    case 5:
        var data = Array(text.utf8)
        data.insert(
            contentsOf: g.pick([[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]]),
            at: g.below(data.count + 1))
        return data
    default:
        return mutateBytes(bytes, splice: other, using: &g)
    }
    return Array(text.utf8)
}
