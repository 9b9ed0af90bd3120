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
        var out = ZipWriter()
        var central = ZipWriter()
        for entry in entries {
            let name = Array((entry.name + ".npy").utf8)
            let payload = [UInt8](entry.array.npyData())
            let crc = crc32(payload)
            let offset = out.bytes.count
            let size = payload.count
            let sizeNeedsZip64 = forceZip64 || size >= 0xFFFF_FFFF
            let offsetNeedsZip64 = forceZip64 || offset >= 0xFFFF_FFFF
            let flags: UInt16 = name.allSatisfy { $0 < 0x80 } ? 0 : 0x0800  // bit 11: UTF-8 name
            let version: UInt16 = sizeNeedsZip64 || offsetNeedsZip64 ? 45 : 20

            // Local file header.
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
            out.bytes += payload

            // Central directory header.
            var extra = ZipWriter()
            if sizeNeedsZip64 {
                extra.u64(UInt64(size))
                extra.u64(UInt64(size))
            }
            if offsetNeedsZip64 { extra.u64(UInt64(offset)) }
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
        }

        let centralOffset = out.bytes.count
        let centralSize = central.bytes.count
        out.bytes += central.bytes
        let count = entries.count
        let needsZip64 = forceZip64 || count >= 0xFFFF || centralOffset >= 0xFFFF_FFFF || centralSize >= 0xFFFF_FFFF
        if needsZip64 {
            let recordOffset = out.bytes.count
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

    /// Writes ``zipData()`` to `url` atomically (see ``writeFileAtomically(_:to:createDirectories:)``).
    ///
    /// ```swift
    /// try archive.write(to: URL(fileURLWithPath: "checkpoints/epoch-10.npz"), createDirectories: true)
    /// ```
    ///
    /// - Throws: ``NumPyError`` with the path: ``NumPyError/Problem/duplicateEntry(_:)`` if two
    ///   entries share a name, ``NumPyError/Problem/io(_:)`` if the file cannot be written.
    public func write(to url: URL, createDirectories: Bool = false) throws(NumPyError) {
        let path = url.isFileURL ? url.standardizedFileURL.path : url.absoluteString
        var seen = Set<String>()
        for entry in entries where !seen.insert(entry.name).inserted {
            throw NumPyError(.duplicateEntry(entry.name + ".npy"), path: path, entry: entry.name + ".npy")
        }
        do {
            try writeFileAtomically(zipData(), to: url, createDirectories: createDirectories)
        } catch {
            throw NumPyError(.io(error), path: path)
        }
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
        var entries: [Entry] = []
        var firstIndex: [String: Int] = [:]
        let records: [ZipEntryRecord]
        do {
            records = try ZipEntryRecord.centralDirectory(of: bytes)
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
                located.append((record, try record.dataStart(in: bytes)))
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
                array = try record.decodeArray(in: bytes, dataStart: dataStart)
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
    /// - Throws: ``NumPyError`` with the file's path (see ``init(zipData:path:)``);
    ///   ``NumPyError/Problem/io(_:)`` if it cannot be read.
    public init(contentsOf url: URL) throws(NumPyError) {
        // As `numpy.load` does, a file is taken for an archive only if it starts with a local file
        // header or, for an empty archive, the end record.
        let (bytes, path) = try readNumPyFile(url, magics: [[0x50, 0x4B, 0x03, 0x04], [0x50, 0x4B, 0x05, 0x06]])
        try self.init(zipBytes: bytes, path: path)
    }
}

// MARK: - ZIP structures

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

/// Little-endian fields of `bytes`; `nil` past the end.
private struct ZipReader {
    let bytes: [UInt8]

    func value(at offset: Int, size: Int) -> UInt64? {
        guard offset >= 0, size <= bytes.count, offset <= bytes.count - size else { return nil }
        var value: UInt64 = 0
        for index in 0..<size { value |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
        return value
    }

    func u16(_ offset: Int) -> Int? { value(at: offset, size: 2).map { Int($0) } }
    func u32(_ offset: Int) -> Int? { value(at: offset, size: 4).map { Int($0) } }

    /// A 64-bit field as an `Int`; values beyond `Int.max` (nonsense for an in-memory archive)
    /// become `Int.max`, which later fails a bounds check.
    func u64(_ offset: Int) -> Int? { value(at: offset, size: 8).map { $0 > UInt64(Int.max) ? Int.max : Int($0) } }
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
    static func centralDirectory(of bytes: [UInt8]) throws(ZipReadError) -> [ZipEntryRecord] {
        let reader = ZipReader(bytes: bytes)
        func truncated(_ what: String) -> ZipReadError { ZipReadError(problem: .truncatedArchive(what)) }
        func malformed(_ what: String) -> ZipReadError { ZipReadError(problem: .malformedArchive(what)) }

        // The end-of-central-directory record: 22 bytes plus a comment of at most 65 535 bytes, at
        // the very end. Prefer a signature whose comment length reaches exactly to the end.
        guard bytes.count >= 22 else { throw ZipReadError(problem: .notZipArchive) }
        var endOffset: Int?
        var candidate = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        while candidate >= lowest {
            if reader.u32(candidate) == 0x0605_4B50, let commentLength = reader.u16(candidate + 20),
                candidate + 22 + commentLength == bytes.count
            {
                endOffset = candidate
                break
            }
            candidate -= 1
        }
        guard let endOffset else {
            if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
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
            guard let signature = reader.u32(recordOffset), let recordSize = reader.u64(recordOffset + 4),
                recordSize >= 44, reader.u64(recordOffset + 48) != nil
            else {
                throw truncated("the ZIP64 end-of-central-directory record at offset \(recordOffset) is cut off")
            }
            guard signature == 0x0606_4B50 else {
                throw malformed("no ZIP64 end-of-central-directory record at offset \(recordOffset)")
            }
            guard reader.u32(recordOffset + 16) == 0, reader.u32(recordOffset + 20) == 0 else {
                throw ZipReadError(problem: .unsupportedArchiveFeature("archives split over several disks"))
            }
            entriesOnDisk = reader.u64(recordOffset + 24)!
            entryCount = reader.u64(recordOffset + 32)!
            centralSize = reader.u64(recordOffset + 40)!
            centralOffset = reader.u64(recordOffset + 48)!
        } else if disk != 0 || centralDisk != 0 {
            throw ZipReadError(problem: .unsupportedArchiveFeature("archives split over several disks"))
        }
        guard entriesOnDisk == entryCount else {
            throw ZipReadError(problem: .unsupportedArchiveFeature("archives split over several disks"))
        }
        // Like Python's `zipfile` (and so `numpy.load`), the records are read for as long as the
        // directory's size covers them; the end record's count (16 bits, which some writers let
        // wrap) is not needed.
        guard centralOffset <= bytes.count, centralSize <= bytes.count - centralOffset else {
            throw truncated(
                "the central directory (\(centralSize) bytes at offset \(centralOffset)) extends past the end of the "
                    + "\(bytes.count)-byte file")
        }
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
            guard reader.u32(offset) == 0x0201_4B50 else {
                throw malformed("bad signature of central directory header \(index + 1) at offset \(offset)")
            }
            let flags = reader.u16(offset + 8)!
            let method = reader.u16(offset + 10)!
            let crc = UInt32(reader.u32(offset + 16)!)
            var compressedSize = reader.u32(offset + 20)!
            var uncompressedSize = reader.u32(offset + 24)!
            let nameLength = reader.u16(offset + 28)!
            let extraLength = reader.u16(offset + 30)!
            let commentLength = reader.u16(offset + 32)!
            let startDisk = reader.u16(offset + 34)!
            var localHeaderOffset = reader.u32(offset + 42)!
            let nameStart = offset + 46
            guard nameStart + nameLength + extraLength + commentLength <= centralEnd else {
                throw malformed("central directory header \(index + 1) extends past the directory")
            }
            let nameBytes = Array(bytes[nameStart..<nameStart + nameLength])
            let name = decodeZipName(nameBytes, flags: flags)

            // ZIP64 extra field: the 8-byte values of the fields set to 0xFFFFFFFF, in this order.
            var extraOffset = nameStart + nameLength
            let extraEnd = extraOffset + extraLength
            while extraOffset + 4 <= extraEnd {
                let id = reader.u16(extraOffset)!
                let size = reader.u16(extraOffset + 2)!
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
                        return reader.u64(field)!
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

    /// Where the entry's data starts, after checking its local header against this record: the
    /// signature, the name, and that the data lies inside the file.
    func dataStart(in bytes: [UInt8]) throws(NumPyError.Problem) -> Int {
        let reader = ZipReader(bytes: bytes)
        guard let signature = reader.u32(localHeaderOffset), let nameLength = reader.u16(localHeaderOffset + 26),
            let extraLength = reader.u16(localHeaderOffset + 28)
        else {
            throw .truncatedArchive("the local header at offset \(localHeaderOffset) is cut off")
        }
        guard signature == 0x0403_4B50 else {
            throw .malformedArchive("no local file header at offset \(localHeaderOffset)")
        }
        let nameStart = localHeaderOffset + 30
        guard nameLength <= bytes.count - nameStart else {
            throw .truncatedArchive("the local header at offset \(localHeaderOffset) is cut off")
        }
        let localName = bytes[nameStart..<nameStart + nameLength]
        guard localName.elementsEqual(nameBytes) else {
            let flags = reader.u16(localHeaderOffset + 6)!
            throw .entryNameMismatch(central: name, local: decodeZipName(Array(localName), flags: flags))
        }
        let dataStart = nameStart + nameLength + extraLength
        guard dataStart <= bytes.count, compressedSize <= bytes.count - dataStart else {
            throw .truncatedArchive(
                "the entry's \(compressedSize) bytes of data at offset \(dataStart) extend past the end of the "
                    + "\(bytes.count)-byte file")
        }
        return dataStart
    }

    /// The entry's array, its bytes checked against the recorded size and CRC-32.
    func decodeArray(in bytes: [UInt8], dataStart: Int) throws(NumPyError.Problem) -> NumPyArray {
        let stored = bytes[dataStart..<dataStart + compressedSize]
        switch method {
        case 0:
            guard compressedSize == uncompressedSize else {
                throw .malformedArchive(
                    "a stored entry with compressed size \(compressedSize) and uncompressed size \(uncompressedSize)")
            }
            let actual = crc32(stored)
            guard actual == crc else { throw .crcMismatch(expected: crc, actual: actual) }
            return try NumPyArray.decode(stored)
        case 8:
            // The recorded size caps the output, which grows with the bytes actually decoded.
            var contents: [UInt8]
            do {
                contents = try inflate(Array(stored), maximumSize: uncompressedSize, sizeHint: uncompressedSize)
            } catch {
                if error.exceedsMaximumSize { throw .entrySizeMismatch(recorded: uncompressedSize, decoded: nil) }
                throw .corruptDeflateStream(error.description)
            }
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
