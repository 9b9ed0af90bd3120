import RNNODETensors

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Named NumPy arrays in a `.npz` file, the format of `numpy.savez` and `numpy.load`: a ZIP archive
/// with one `.npy` file per array.
///
/// ```swift
/// var archive = NumPyArchive(["weights": NumPyArray(w), "bias": NumPyArray(b)])
/// archive["metadata"] = NumPyArray(bytes: Array(#"{"epochs": 10}"#.utf8))
/// try archive.write(to: URL(fileURLWithPath: "model.npz"))
/// // Python: numpy.load("model.npz")["weights"]
///
/// let loaded = try NumPyArchive(contentsOf: URL(fileURLWithPath: "model.npz"))
/// let weights: Tensor<Float>? = loaded["weights"]?.tensor()
/// ```
///
/// Reading accepts archives written by `numpy.savez` (stored entries with ZIP64 local headers) and
/// `numpy.savez_compressed` (DEFLATE), ZIP64 end records, and checks every entry's CRC-32. Writing
/// stores entries uncompressed, like `numpy.savez`; entries are named `<name>.npy`.
///
/// ## Checks on what is read
/// An archive's sizes and offsets are checked against the bytes present before anything is
/// decoded, so memory stays bounded by the file (DEFLATE expands at most 1032-fold):
/// - every central directory record's local header must exist inside the file and carry the same
///   name (``NumPyError/Problem/entryNameMismatch(central:local:)``), and no two entries' data may
///   overlap (``NumPyError/Problem/overlappingEntries(_:_:)``);
/// - a compressed entry's output grows with the bytes actually decoded, capped by its recorded
///   size; decoding to any other size is ``NumPyError/Problem/entrySizeMismatch(recorded:decoded:)``;
/// - the central directory is read as far as its recorded size reaches, whatever the end record's
///   entry count says (as Python's `zipfile` does), so no entry is silently dropped;
/// - names are UTF-8 when the entry's flag bit 11 says so, otherwise code page 437;
/// - each entry is a `.npy` file with the limits of ``NumPyArray`` (header length, nesting, rank).
public struct NumPyArchive: Sendable, Equatable {
    /// One named array of an archive.
    public struct Entry: Sendable, Equatable {
        /// The array's name, without the `.npy` the archive stores it under.
        public var name: String
        /// The array.
        public var array: NumPyArray

        /// An entry called `name`.
        public init(name: String, array: NumPyArray) {
            self.name = name
            self.array = array
        }
    }

    /// The arrays in archive order. Names should be unique (``write(to:createDirectories:)``
    /// checks).
    public var entries: [Entry]

    /// An archive with the given entries.
    ///
    /// ```swift
    /// let archive = NumPyArchive([.init(name: "x", array: NumPyArray(x))])
    /// ```
    public init(_ entries: [Entry] = []) {
        self.entries = entries
    }

    /// An archive from name–array pairs, in order.
    ///
    /// ```swift
    /// let archive = NumPyArchive(["w": NumPyArray(w), "b": NumPyArray(b)])
    /// ```
    ///
    /// - Precondition: the names are unique.
    public init(_ arrays: KeyValuePairs<String, NumPyArray>) {
        require(Set(arrays.map(\.key)).count == arrays.count, "duplicate array names in \(arrays.map(\.key))")
        entries = arrays.map { Entry(name: $0.key, array: $0.value) }
    }

    /// The names of the arrays, in order.
    public var names: [String] { entries.map(\.name) }

    /// The array called `name` (without `.npy`). Setting replaces it in place or appends a new
    /// entry; setting `nil` removes it.
    ///
    /// ```swift
    /// archive["loss"] = NumPyArray(Tensor<Double>(losses))
    /// ```
    public subscript(name: String) -> NumPyArray? {
        get { entries.first { $0.name == name }?.array }
        set {
            if let index = entries.firstIndex(where: { $0.name == name }) {
                if let newValue {
                    entries[index].array = newValue
                } else {
                    entries.remove(at: index)
                }
            } else if let newValue {
                entries.append(Entry(name: name, array: newValue))
            }
        }
    }

    // MARK: Writing

    /// The archive as ZIP data: each array is an uncompressed (stored) entry `<name>.npy` with its
    /// CRC-32, then the central directory. ZIP64 records are added only when needed (entries or
    /// offsets of 4 GiB or more, or 65 535 entries or more). Entries are dated 1980-01-01 so that
    /// the same arrays always give the same bytes. Duplicate names are written as they are; use
    /// ``write(to:createDirectories:)`` to have them rejected.
    ///
    /// ```swift
    /// let data = NumPyArchive(["x": NumPyArray(x)]).zipData()
    /// ```
    public func zipData() -> Data {
        Data(zipBytes())
    }

    /// The ZIP bytes; `forceZip64` writes every ZIP64 record and extra field (for testing).
    func zipBytes(forceZip64: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for entry in entries {
            let payload = [UInt8](entry.array.npyData())
            let crc = crc32(payload)
            let layout = ZipEntryLayout(
                name: entry.name + ".npy", size: payload.count, offset: out.count, forceZip64: forceZip64)
            out += layout.localHeader(crc: crc)
            out += payload
            central += layout.centralHeader(crc: crc)
        }
        let centralOffset = out.count
        out += central
        out += zipEndRecords(
            count: entries.count, centralOffset: centralOffset, centralSize: central.count, forceZip64: forceZip64)
        return out
    }

    /// Writes the archive to `url` atomically (see ``writeFileAtomically(_:to:createDirectories:)``),
    /// byte for byte ``zipData()``.
    ///
    /// The archive goes to the file as it is made, each entry's header and then its `.npy` header
    /// and elements straight from the array, so memory holds the arrays and a small buffer, not a
    /// second copy of the archive.
    ///
    /// ```swift
    /// try archive.write(to: URL(fileURLWithPath: "checkpoints/epoch-10.npz"), createDirectories: true)
    /// ```
    ///
    /// - Throws: ``NumPyError`` with the path: ``NumPyError/Problem/duplicateEntry(_:)`` if two
    ///   entries share a name, ``NumPyError/Problem/io(_:)`` if the file cannot be written.
    public func write(to url: URL, createDirectories: Bool = false) throws(NumPyError) {
        try Self.write(entries.map(StreamedEntry.init), to: url, createDirectories: createDirectories)
    }

    /// An entry as it is written to a file: its name, its `.npy` header and its elements, which
    /// are either bytes at hand or produced a piece at a time (from a tensor, without a copy of
    /// them all).
    struct StreamedEntry {
        enum Elements {
            /// The elements' bytes.
            case bytes([UInt8])
            /// `count` elements of `size` bytes; `encode(indices, target)` writes the bytes of
            /// those at `indices` to the start of `target`.
            case encoded(count: Int, size: Int, encode: (Range<Int>, UnsafeMutableRawBufferPointer) -> Void)

            var byteCount: Int {
                switch self {
                case .bytes(let bytes): return bytes.count
                case .encoded(let count, let size, _): return count * size
                }
            }
        }

        var name: String
        var npyHeader: [UInt8]
        var elements: Elements

        /// The entry `entry` of an archive.
        init(_ entry: Entry) {
            name = entry.name
            npyHeader = NumPyArray.npyHeader(shape: entry.array.shape, dataType: entry.array.dataType)
            elements = .bytes(entry.array.elementBytes)
        }

        /// The entry `name` holding `tensor` as ``NumPyArray/init(_:)`` stores it.
        init<T: TensorScalar>(name: String, tensor: Tensor<T>) {
            let encoding = NumPyArray.encoding(of: tensor)
            self.name = name
            npyHeader = NumPyArray.npyHeader(shape: tensor.shape, dataType: encoding.dataType)
            elements = .encoded(count: tensor.scalarCount, size: encoding.dataType.byteCount, encode: encoding.encode)
        }
    }

    /// The most bytes of elements produced or written at a time.
    static let writeChunkSize = 1 << 20

    /// Writes an archive of `entries` to `url` atomically, the same bytes as ``zipData()`` of the
    /// same arrays, as it is made (see ``write(to:createDirectories:)``).
    static func write(
        _ entries: [StreamedEntry], to url: URL, createDirectories: Bool = false, forceZip64: Bool = false
    ) throws(NumPyError) {
        let path = url.isFileURL ? url.standardizedFileURL.path : url.absoluteString
        var seen = Set<String>()
        for entry in entries where !seen.insert(entry.name).inserted {
            throw NumPyError(.duplicateEntry(entry.name + ".npy"), path: path, entry: entry.name + ".npy")
        }
        do {
            try writeFileAtomically(to: url, createDirectories: createDirectories) { file throws(IOError) in
                try writeZip(entries, to: &file, forceZip64: forceZip64)
            }
        } catch {
            throw NumPyError(.io(error), path: path)
        }
    }

    /// Writes the ZIP archive of `entries` to `file`: for each entry its local header, its `.npy`
    /// header and its elements, a chunk at a time with the CRC-32 computed as they go (and written
    /// into the local header afterwards: the sizes are known beforehand, the checksum is not), then
    /// the central directory and the end records.
    private static func writeZip(
        _ entries: [StreamedEntry], to file: inout AtomicFileSink, forceZip64: Bool
    ) throws(IOError) {
        var central: [UInt8] = []
        var chunk: [UInt8] = []
        for entry in entries {
            let layout = ZipEntryLayout(
                name: entry.name + ".npy", size: entry.npyHeader.count + entry.elements.byteCount, offset: file.count,
                forceZip64: forceZip64)
            try file.write(layout.localHeader(crc: 0))
            var crc = crc32(entry.npyHeader)
            try file.write(entry.npyHeader)
            switch entry.elements {
            case .bytes(let bytes):
                for start in stride(from: 0, to: bytes.count, by: writeChunkSize) {
                    let piece = bytes[start..<min(start + writeChunkSize, bytes.count)]
                    crc = crc32(piece, continuing: crc)
                    try file.write(piece)
                }
            case .encoded(let count, let size, let encode):
                let perChunk = max(1, writeChunkSize / size)
                if chunk.count < min(perChunk, count) * size { chunk = [UInt8](repeating: 0, count: min(perChunk, count) * size) }
                for first in stride(from: 0, to: count, by: perChunk) {
                    let indices = first..<min(first + perChunk, count)
                    let byteCount = indices.count * size
                    chunk.withUnsafeMutableBytes { encode(indices, $0) }
                    crc = crc32(chunk[0..<byteCount], continuing: crc)
                    try file.write(chunk[0..<byteCount])
                }
            }
            try file.overwrite(ZipEntryLayout.littleEndian(crc), at: layout.offset + ZipEntryLayout.localCRCOffset)
            central += layout.centralHeader(crc: crc)
        }
        let centralOffset = file.count
        try file.write(central)
        try file.write(
            zipEndRecords(count: entries.count, centralOffset: centralOffset, centralSize: central.count, forceZip64: forceZip64))
    }

    // MARK: Reading

    /// Decodes `.npz` (ZIP) data.
    ///
    /// ```swift
    /// let archive = try NumPyArchive(zipData: data, path: "model.npz")
    /// ```
    ///
    /// - Parameters:
    ///   - zipData: The complete archive.
    ///   - path: A file name or path to report in errors.
    /// - Throws: ``NumPyError`` naming the problem, `path` and, for a problem with one entry, the
    ///   entry's name: not a ZIP archive, truncated or malformed ZIP structures, an unsupported
    ///   compression method, corrupt DEFLATE data, a CRC mismatch, duplicate names, an entry not
    ///   named `*.npy`, or any problem of the `.npy` data itself.
    public init(zipData: Data, path: String? = nil) throws(NumPyError) {
        try self.init(zipBytes: [UInt8](zipData), path: path)
    }

    /// ``init(zipData:path:)`` for bytes already in an array.
    init(zipBytes bytes: [UInt8], path: String?) throws(NumPyError) {
        try self.init(source: ZipMemorySource(bytes: bytes), path: path)
    }

    /// Decodes the archive whose bytes `source` reads; each entry's bytes are read into an array
    /// of their own, which becomes the array's storage (a stored entry) or is decompressed and
    /// dropped (DEFLATE).
    private init(source: some ZipByteSource, path: String?) throws(NumPyError) {
        var entries: [Entry] = []
        var firstIndex: [String: Int] = [:]
        let records: [ZipEntryRecord]
        do {
            records = try ZipEntryRecord.centralDirectory(of: source)
        } catch {
            throw NumPyError(error.problem, path: path, entry: error.entry)
        }
        // Every entry's local header is checked and its data located before any is decoded, and no
        // two entries' bytes may overlap: each byte of the file belongs to one entry at most, so the
        // entries decode to no more than DEFLATE's expansion of the file's size.
        var located: [(record: ZipEntryRecord, dataStart: Int)] = []
        located.reserveCapacity(records.count)
        for record in records {
            do {
                located.append((record, try record.dataStart(in: source)))
            } catch {
                throw NumPyError(error, path: path, entry: record.name)
            }
        }
        let byOffset = located.sorted { $0.record.localHeaderOffset < $1.record.localHeaderOffset }
        for (previous, next) in zip(byOffset, byOffset.dropFirst())
        where next.record.localHeaderOffset < previous.dataStart + previous.record.compressedSize {
            throw NumPyError(
                .overlappingEntries(previous.record.name, next.record.name), path: path, entry: next.record.name)
        }
        for (record, dataStart) in located {
            func fail(_ problem: NumPyError.Problem) -> NumPyError {
                NumPyError(problem, path: path, entry: record.name)
            }
            guard record.name.hasSuffix(".npy") else { throw fail(.notNpyEntry(record.name)) }
            let name = String(record.name.dropLast(4))
            guard firstIndex[name] == nil else { throw fail(.duplicateEntry(record.name)) }
            let array: NumPyArray
            do {
                array = try record.decodeArray(from: source, dataStart: dataStart)
            } catch {
                throw fail(error)
            }
            firstIndex[name] = entries.count
            entries.append(Entry(name: name, array: array))
        }
        self.entries = entries
    }

    /// Reads a `.npz` file.
    ///
    /// ```swift
    /// let archive = try NumPyArchive(contentsOf: URL(fileURLWithPath: "model.npz"))
    /// ```
    ///
    /// Only a regular file is read (``IOError/notARegularFile(path:kind:)`` otherwise), and, as
    /// `numpy.load` does, only one that starts with a ZIP local file header or end record
    /// (bytes `50 4B 03 04` or `50 4B 05 06`): anything else is ``NumPyError/Problem/notZipArchive``
    /// after reading 4 bytes.
    ///
    /// The file is not read whole: the end records and the central directory are read first, then
    /// each entry's local header and data, the data into an array of its own that becomes the
    /// array's storage (a stored entry) or is decompressed (DEFLATE). Reading a file therefore
    /// takes about the memory of its arrays, with the same checks and errors as
    /// ``init(zipData:path:)`` on the file's bytes.
    ///
    /// - Throws: ``NumPyError`` with the file's path (see ``init(zipData:path:)``);
    ///   ``NumPyError/Problem/io(_:)`` if it cannot be read.
    public init(contentsOf url: URL) throws(NumPyError) {
        let path = url.isFileURL ? url.standardizedFileURL.path : url.absoluteString
        let source: ZipFileSource
        let prefix: [UInt8]
        do {
            source = ZipFileSource(file: try ReadableFile(at: url))
            prefix = try source.file.read(0..<min(4, source.count))
        } catch {
            throw NumPyError(.io(error), path: path)
        }
        // As `numpy.load` does, a file is taken for an archive only if it starts with a local file
        // header or, for an empty archive, the end record.
        guard prefix == [0x50, 0x4B, 0x03, 0x04] || prefix == [0x50, 0x4B, 0x05, 0x06] else {
            throw NumPyError(.notZipArchive, path: path)
        }
        try self.init(source: source, path: path)
    }
}

// MARK: - ZIP structures

/// Where an entry goes in a written archive and its headers: a stored (uncompressed) entry dated
/// 1980-01-01, with ZIP64 fields when its size or offset needs them (or `forceZip64` says so).
private struct ZipEntryLayout {
    /// Where the CRC-32 lies in the local header.
    static let localCRCOffset = 14

    let name: [UInt8]
    let size: Int
    let offset: Int
    let sizeNeedsZip64: Bool
    let offsetNeedsZip64: Bool
    let flags: UInt16
    let version: UInt16

    init(name: String, size: Int, offset: Int, forceZip64: Bool) {
        self.name = Array(name.utf8)
        self.size = size
        self.offset = offset
        sizeNeedsZip64 = forceZip64 || size >= 0xFFFF_FFFF
        offsetNeedsZip64 = forceZip64 || offset >= 0xFFFF_FFFF
        flags = self.name.allSatisfy { $0 < 0x80 } ? 0 : 0x0800  // bit 11: UTF-8 name
        version = sizeNeedsZip64 || offsetNeedsZip64 ? 45 : 20
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        var out = ZipWriter()
        out.u32(value)
        return out.bytes
    }

    /// The local file header, name and extra field included.
    func localHeader(crc: UInt32) -> [UInt8] {
        var out = ZipWriter()
        out.u32(0x0403_4B50)
        out.u16(version)
        out.u16(flags)
        out.u16(0)  // stored
        out.u16(0)  // time 00:00
        out.u16(0x21)  // date 1980-01-01
        out.u32(crc)
        out.u32(sizeNeedsZip64 ? 0xFFFF_FFFF : UInt32(size))
        out.u32(sizeNeedsZip64 ? 0xFFFF_FFFF : UInt32(size))
        out.u16(UInt16(name.count))
        out.u16(sizeNeedsZip64 ? 20 : 0)
        out.bytes += name
        if sizeNeedsZip64 {
            out.u16(0x0001)
            out.u16(16)
            out.u64(UInt64(size))
            out.u64(UInt64(size))
        }
        return out.bytes
    }

    /// The central directory header, name and extra field included.
    func centralHeader(crc: UInt32) -> [UInt8] {
        var extra = ZipWriter()
        if sizeNeedsZip64 {
            extra.u64(UInt64(size))
            extra.u64(UInt64(size))
        }
        if offsetNeedsZip64 { extra.u64(UInt64(offset)) }
        var central = ZipWriter()
        central.u32(0x0201_4B50)
        central.u16(0x0300 | version)  // made by: Unix
        central.u16(version)
        central.u16(flags)
        central.u16(0)
        central.u16(0)
        central.u16(0x21)
        central.u32(crc)
        central.u32(sizeNeedsZip64 ? 0xFFFF_FFFF : UInt32(size))
        central.u32(sizeNeedsZip64 ? 0xFFFF_FFFF : UInt32(size))
        central.u16(UInt16(name.count))
        central.u16(extra.bytes.isEmpty ? 0 : UInt16(extra.bytes.count + 4))
        central.u16(0)  // comment
        central.u16(0)  // disk
        central.u16(0)  // internal attributes
        central.u32(0o100644 << 16)  // external attributes: a regular file, rw-r--r--
        central.u32(offsetNeedsZip64 ? 0xFFFF_FFFF : UInt32(offset))
        central.bytes += name
        if !extra.bytes.isEmpty {
            central.u16(0x0001)
            central.u16(UInt16(extra.bytes.count))
            central.bytes += extra.bytes
        }
        return central.bytes
    }
}

/// The end of an archive whose central directory of `count` entries (`centralSize` bytes) starts
/// at `centralOffset`: the ZIP64 end record and locator when a field needs them (or `forceZip64`
/// says so), then the end-of-central-directory record.
private func zipEndRecords(count: Int, centralOffset: Int, centralSize: Int, forceZip64: Bool) -> [UInt8] {
    var out = ZipWriter()
    let needsZip64 = forceZip64 || count >= 0xFFFF || centralOffset >= 0xFFFF_FFFF || centralSize >= 0xFFFF_FFFF
    if needsZip64 {
        let recordOffset = centralOffset + centralSize
        out.u32(0x0606_4B50)  // ZIP64 end of central directory record
        out.u64(44)
        out.u16(0x032D)
        out.u16(45)
        out.u32(0)
        out.u32(0)
        out.u64(UInt64(count))
        out.u64(UInt64(count))
        out.u64(UInt64(centralSize))
        out.u64(UInt64(centralOffset))
        out.u32(0x0706_4B50)  // ZIP64 end of central directory locator
        out.u32(0)
        out.u64(UInt64(recordOffset))
        out.u32(1)
    }
    out.u32(0x0605_4B50)  // end of central directory record
    out.u16(0)
    out.u16(0)
    out.u16(needsZip64 ? 0xFFFF : UInt16(count))
    out.u16(needsZip64 ? 0xFFFF : UInt16(count))
    out.u32(needsZip64 ? 0xFFFF_FFFF : UInt32(centralSize))
    out.u32(needsZip64 ? 0xFFFF_FFFF : UInt32(centralOffset))
    out.u16(0)
    return out.bytes
}

/// Little-endian output for ZIP structures.
private struct ZipWriter {
    var bytes: [UInt8] = []

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

/// Where the bytes of an archive are read from: an array in memory, or a file read a piece at a
/// time, so that reading a file never holds all of it.
private protocol ZipByteSource {
    /// The archive's size in bytes.
    var count: Int { get }
    /// A copy of the bytes at the offsets `range`, which lie in `0..<count`.
    func bytes(_ range: Range<Int>) throws(NumPyError.Problem) -> [UInt8]
}

/// An archive's bytes in memory.
private struct ZipMemorySource: ZipByteSource {
    let bytes: [UInt8]

    var count: Int { bytes.count }

    func bytes(_ range: Range<Int>) -> [UInt8] { Array(bytes[range]) }
}

/// An archive in a file, read with `pread` as needed.
private struct ZipFileSource: ZipByteSource {
    let file: ReadableFile

    var count: Int { file.size }

    func bytes(_ range: Range<Int>) throws(NumPyError.Problem) -> [UInt8] {
        do {
            return try file.read(range)
        } catch {
            throw .io(error)
        }
    }
}

/// Little-endian fields of `bytes`, which hold an archive's bytes from offset `base` on; fields
/// are addressed by their offset in the archive, `nil` outside `bytes`.
private struct ZipReader {
    let bytes: [UInt8]
    var base = 0

    func value(at offset: Int, size: Int) -> UInt64? {
        guard offset >= base, size <= bytes.count, offset - base <= bytes.count - size else { return nil }
        let start = offset - base
        var value: UInt64 = 0
        for index in 0..<size { value |= UInt64(bytes[start + index]) << UInt64(8 * index) }
        return value
    }

    func u16(_ offset: Int) -> Int? { value(at: offset, size: 2).map { Int($0) } }
    func u32(_ offset: Int) -> Int? { value(at: offset, size: 4).map { Int($0) } }

    /// A 64-bit field as an `Int`; values beyond `Int.max` (nonsense for an archive) become
    /// `Int.max`, which later fails a bounds check.
    func u64(_ offset: Int) -> Int? { value(at: offset, size: 8).map { $0 > UInt64(Int.max) ? Int.max : Int($0) } }

    /// The bytes at the archive offsets `range`, which lie inside `bytes`.
    func slice(_ range: Range<Int>) -> ArraySlice<UInt8> { bytes[range.lowerBound - base..<range.upperBound - base] }
}

/// An error found while reading ZIP structures, possibly about one entry.
private struct ZipReadError: Error {
    var problem: NumPyError.Problem
    var entry: String?
}

/// One entry of the central directory, with ZIP64 values applied.
private struct ZipEntryRecord {
    var name: String
    /// The name as stored, to compare with the local header's.
    var nameBytes: [UInt8]
    var flags: Int
    var method: Int
    var crc: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int

    /// The entries listed in the central directory, in order.
    ///
    /// Only the end of the archive (its end records), the ZIP64 end record if there is one and
    /// the central directory are read from `source`, each after its offsets have been checked
    /// against the archive's size.
    static func centralDirectory(of source: some ZipByteSource) throws(ZipReadError) -> [ZipEntryRecord] {
        let count = source.count
        func read(_ range: Range<Int>) throws(ZipReadError) -> ZipReader {
            do {
                return ZipReader(bytes: try source.bytes(range), base: range.lowerBound)
            } catch {
                throw ZipReadError(problem: error)
            }
        }
        func truncated(_ what: String) -> ZipReadError { ZipReadError(problem: .truncatedArchive(what)) }
        func malformed(_ what: String) -> ZipReadError { ZipReadError(problem: .malformedArchive(what)) }

        // The end-of-central-directory record: 22 bytes plus a comment of at most 65 535 bytes, at
        // the very end. Prefer a signature whose comment length reaches exactly to the end. The
        // 20 bytes before the lowest place it can start are read too, for a ZIP64 locator.
        guard count >= 22 else { throw ZipReadError(problem: .notZipArchive) }
        let lowest = max(0, count - 22 - 0xFFFF)
        let reader = try read(max(0, lowest - 20)..<count)
        var endOffset: Int?
        var candidate = count - 22
        while candidate >= lowest {
            if reader.u32(candidate) == 0x0605_4B50, let commentLength = reader.u16(candidate + 20),
                candidate + 22 + commentLength == count
            {
                endOffset = candidate
                break
            }
            candidate -= 1
        }
        guard let endOffset else {
            if try read(0..<4).bytes == [0x50, 0x4B, 0x03, 0x04] {
                throw truncated("the end-of-central-directory record is missing (the file is cut off)")
            }
            throw ZipReadError(problem: .notZipArchive)
        }
        let disk = reader.u16(endOffset + 4)!
        let centralDisk = reader.u16(endOffset + 6)!
        var entriesOnDisk = reader.u16(endOffset + 8)!
        var entryCount = reader.u16(endOffset + 10)!
        var centralSize = reader.u32(endOffset + 12)!
        var centralOffset = reader.u32(endOffset + 16)!

        // A ZIP64 locator right before the end record points to the ZIP64 end record.
        if endOffset >= 20, reader.u32(endOffset - 20) == 0x0706_4B50 {
            let recordOffset = reader.u64(endOffset - 20 + 8)!
            // Its fixed fields take 56 bytes, read as far as the archive reaches.
            let recordStart = min(recordOffset, count)
            let record = try read(recordStart..<recordStart + min(56, count - recordStart))
            guard let signature = record.u32(recordOffset), let recordSize = record.u64(recordOffset + 4),
                recordSize >= 44, record.u64(recordOffset + 48) != nil
            else {
                throw truncated("the ZIP64 end-of-central-directory record at offset \(recordOffset) is cut off")
            }
            guard signature == 0x0606_4B50 else {
                throw malformed("no ZIP64 end-of-central-directory record at offset \(recordOffset)")
            }
            guard record.u32(recordOffset + 16) == 0, record.u32(recordOffset + 20) == 0 else {
                throw ZipReadError(problem: .unsupportedArchiveFeature("archives split over several disks"))
            }
            entriesOnDisk = record.u64(recordOffset + 24)!
            entryCount = record.u64(recordOffset + 32)!
            centralSize = record.u64(recordOffset + 40)!
            centralOffset = record.u64(recordOffset + 48)!
        } else if disk != 0 || centralDisk != 0 {
            throw ZipReadError(problem: .unsupportedArchiveFeature("archives split over several disks"))
        }
        guard entriesOnDisk == entryCount else {
            throw ZipReadError(problem: .unsupportedArchiveFeature("archives split over several disks"))
        }
        // Like Python's `zipfile` (and so `numpy.load`), the records are read for as long as the
        // directory's size covers them; the end record's count (16 bits, which some writers let
        // wrap) is not needed.
        guard centralOffset <= count, centralSize <= count - centralOffset else {
            throw truncated(
                "the central directory (\(centralSize) bytes at offset \(centralOffset)) extends past the end of the "
                    + "\(count)-byte file")
        }
        let directory = try read(centralOffset..<centralOffset + centralSize)
        var records: [ZipEntryRecord] = []
        records.reserveCapacity(centralSize / 46)  // each header takes at least 46 bytes
        var offset = centralOffset
        let centralEnd = centralOffset + centralSize
        var index = 0
        while offset < centralEnd {
            defer { index += 1 }
            guard offset <= centralEnd - 46 else {
                throw malformed("central directory header \(index + 1) extends past the directory")
            }
            guard directory.u32(offset) == 0x0201_4B50 else {
                throw malformed("bad signature of central directory header \(index + 1) at offset \(offset)")
            }
            let flags = directory.u16(offset + 8)!
            let method = directory.u16(offset + 10)!
            let crc = UInt32(directory.u32(offset + 16)!)
            var compressedSize = directory.u32(offset + 20)!
            var uncompressedSize = directory.u32(offset + 24)!
            let nameLength = directory.u16(offset + 28)!
            let extraLength = directory.u16(offset + 30)!
            let commentLength = directory.u16(offset + 32)!
            let startDisk = directory.u16(offset + 34)!
            var localHeaderOffset = directory.u32(offset + 42)!
            let nameStart = offset + 46
            guard nameStart + nameLength + extraLength + commentLength <= centralEnd else {
                throw malformed("central directory header \(index + 1) extends past the directory")
            }
            let nameBytes = Array(directory.slice(nameStart..<nameStart + nameLength))
            let name = decodeZipName(nameBytes, flags: flags)

            // ZIP64 extra field: the 8-byte values of the fields set to 0xFFFFFFFF, in this order.
            var extraOffset = nameStart + nameLength
            let extraEnd = extraOffset + extraLength
            while extraOffset + 4 <= extraEnd {
                let id = directory.u16(extraOffset)!
                let size = directory.u16(extraOffset + 2)!
                guard extraOffset + 4 + size <= extraEnd else {
                    throw ZipReadError(
                        problem: .malformedArchive("an extra field of the central directory header runs past its end"),
                        entry: name)
                }
                if id == 0x0001 {
                    var field = extraOffset + 4
                    let fieldEnd = field + size
                    func next() throws(ZipReadError) -> Int {
                        guard field + 8 <= fieldEnd else {
                            throw ZipReadError(problem: .malformedArchive("the ZIP64 extra field is too short"), entry: name)
                        }
                        defer { field += 8 }
                        return directory.u64(field)!
                    }
                    if uncompressedSize == 0xFFFF_FFFF { uncompressedSize = try next() }
                    if compressedSize == 0xFFFF_FFFF { compressedSize = try next() }
                    if localHeaderOffset == 0xFFFF_FFFF { localHeaderOffset = try next() }
                }
                extraOffset += 4 + size
            }
            guard startDisk == 0 || startDisk == 0xFFFF else {
                throw ZipReadError(problem: .unsupportedArchiveFeature("archives split over several disks"), entry: name)
            }
            if flags & 1 != 0 {
                throw ZipReadError(problem: .unsupportedArchiveFeature("encrypted entries"), entry: name)
            }
            records.append(
                ZipEntryRecord(
                    name: name, nameBytes: nameBytes, flags: flags, method: method, crc: crc, compressedSize: compressedSize,
                    uncompressedSize: uncompressedSize, localHeaderOffset: localHeaderOffset))
            offset = nameStart + nameLength + extraLength + commentLength
        }
        return records
    }

    /// Where the entry's data starts, after checking its local header (read from `source`)
    /// against this record: the signature, the name, and that the data lies inside the archive.
    func dataStart(in source: some ZipByteSource) throws(NumPyError.Problem) -> Int {
        let count = source.count
        guard localHeaderOffset <= count - 30 else {
            throw .truncatedArchive("the local header at offset \(localHeaderOffset) is cut off")
        }
        let header = ZipReader(bytes: try source.bytes(localHeaderOffset..<localHeaderOffset + 30), base: localHeaderOffset)
        let nameLength = header.u16(localHeaderOffset + 26)!
        let extraLength = header.u16(localHeaderOffset + 28)!
        guard header.u32(localHeaderOffset) == 0x0403_4B50 else {
            throw .malformedArchive("no local file header at offset \(localHeaderOffset)")
        }
        let nameStart = localHeaderOffset + 30
        guard nameLength <= count - nameStart else {
            throw .truncatedArchive("the local header at offset \(localHeaderOffset) is cut off")
        }
        let localName = try source.bytes(nameStart..<nameStart + nameLength)
        guard localName == nameBytes else {
            let flags = header.u16(localHeaderOffset + 6)!
            throw .entryNameMismatch(central: name, local: decodeZipName(localName, flags: flags))
        }
        let dataStart = nameStart + nameLength + extraLength
        guard dataStart <= count, compressedSize <= count - dataStart else {
            throw .truncatedArchive(
                "the entry's \(compressedSize) bytes of data at offset \(dataStart) extend past the end of the "
                    + "\(count)-byte file")
        }
        return dataStart
    }

    /// The entry's array, its bytes (read from `source` at `dataStart`) checked against the
    /// recorded size and CRC-32. The bytes read become the array's storage (a stored entry) or are
    /// dropped once decompressed (DEFLATE), so the entry is held once, plus its compressed bytes
    /// while it is decompressed.
    func decodeArray(from source: some ZipByteSource, dataStart: Int) throws(NumPyError.Problem) -> NumPyArray {
        let range = dataStart..<dataStart + compressedSize
        switch method {
        case 0:
            guard compressedSize == uncompressedSize else {
                throw .malformedArchive(
                    "a stored entry with compressed size \(compressedSize) and uncompressed size \(uncompressedSize)")
            }
            var contents = try source.bytes(range)
            let actual = crc32(contents)
            guard actual == crc else { throw .crcMismatch(expected: crc, actual: actual) }
            return try NumPyArray.decode(consuming: &contents)
        case 8:
            var contents = try inflateEntry(source.bytes(range))
            guard contents.count == uncompressedSize else {
                throw .entrySizeMismatch(recorded: uncompressedSize, decoded: contents.count)
            }
            let actual = crc32(contents)
            guard actual == crc else { throw .crcMismatch(expected: crc, actual: actual) }
            return try NumPyArray.decode(consuming: &contents)
        default:
            throw .unsupportedCompression(method: method)
        }
    }

    /// The DEFLATE data `stored` decompressed; the recorded size caps the output, which grows with
    /// the bytes actually decoded.
    private func inflateEntry(_ stored: [UInt8]) throws(NumPyError.Problem) -> [UInt8] {
        do {
            return try inflate(stored, maximumSize: uncompressedSize, sizeHint: uncompressedSize)
        } catch {
            if error.exceedsMaximumSize { throw .entrySizeMismatch(recorded: uncompressedSize, decoded: nil) }
            throw .corruptDeflateStream(error.description)
        }
    }
}

/// An entry name as stored in a ZIP header: UTF-8 if flag bit 11 is set, otherwise IBM code page
/// 437 (the ZIP specification's default, which agrees with ASCII below 0x80).
private func decodeZipName(_ bytes: [UInt8], flags: Int) -> String {
    if flags & 0x0800 != 0, let name = String(validating: bytes, as: UTF8.self) { return name }
    var scalars = String.UnicodeScalarView()
    for byte in bytes {
        scalars.append(byte < 0x80 ? Unicode.Scalar(byte) : cp437HighHalf[Int(byte) - 0x80])
    }
    return String(scalars)
}

/// Code page 437, bytes 0x80 to 0xFF.
private let cp437HighHalf: [Unicode.Scalar] = Array(
    ("ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀"
        + "αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}").unicodeScalars)
