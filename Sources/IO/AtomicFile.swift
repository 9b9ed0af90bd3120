import RNNODETensors

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure to read or write a file. Every case names the path involved and, where the operating
/// system reported one, the cause as its `errno` text (for example "No such file or directory").
public enum IOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The URL does not point into the local file system (for example an `https:` URL).
    case notAFileURL(String)
    /// The directory that should contain the file does not exist (and was not to be created).
    case directoryMissing(path: String)
    /// The directory that should contain the file could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// The temporary file next to the destination could not be created.
    case cannotCreateTemporaryFile(path: String, reason: String)
    /// Writing or flushing the data to disk failed.
    case writeFailed(path: String, reason: String)
    /// Moving the finished temporary file over the destination failed.
    case renameFailed(path: String, reason: String)
    /// Opening or reading a file failed.
    case readFailed(path: String, reason: String)
    /// The path names something other than a regular file, which the readers refuse (they would
    /// block on a FIFO or read forever from a device such as `/dev/zero`); `kind` says what it is,
    /// for example "a directory".
    case notARegularFile(path: String, kind: String)
    /// A text file is not valid UTF-8.
    case notUTF8(path: String)

    /// The file or directory the error is about.
    public var path: String {
        switch self {
        case .notAFileURL(let path), .directoryMissing(let path), .notUTF8(let path),
            .cannotCreateDirectory(let path, _), .cannotCreateTemporaryFile(let path, _),
            .writeFailed(let path, _), .renameFailed(let path, _), .readFailed(let path, _),
            .notARegularFile(let path, _):
            return path
        }
    }

    /// A one-line message naming the path and the cause.
    public var description: String {
        switch self {
        case .notAFileURL(let url):
            return "'\(url)' is not a file URL"
        case .directoryMissing(let path):
            return "cannot write into '\(path)': the directory does not exist"
        case .cannotCreateDirectory(let path, let reason):
            return "cannot create directory '\(path)': \(reason)"
        case .cannotCreateTemporaryFile(let path, let reason):
            return "cannot create a temporary file in '\(path)': \(reason)"
        case .writeFailed(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        case .renameFailed(let path, let reason):
            return "cannot replace '\(path)': \(reason)"
        case .readFailed(let path, let reason):
            return "cannot read '\(path)': \(reason)"
        case .notARegularFile(let path, let kind):
            return "cannot read '\(path)': it is \(kind), not a regular file"
        case .notUTF8(let path):
            return "'\(path)' is not valid UTF-8 text"
        }
    }
}

/// Writes `data` to `url` so that readers see either the old file or the complete new one, never a
/// partial write.
///
/// The data goes to a hidden temporary file in the destination's directory, which is flushed to
/// disk (`fsync`) and then renamed over the destination; `rename(2)` replaces the destination
/// atomically on POSIX file systems. On failure the temporary file is removed. A new file gets the
/// usual permissions (`0666` minus the umask); an existing file keeps its permissions. If the
/// destination is a symbolic link, the link itself is replaced.
///
/// The temporary file is named `.<name>.<pid>.<random>.tmp` (for example
/// `.run.csv.4242.9f86d081884c7d65.tmp`): the destination's name, the writing process's ID and 16
/// random hexadecimal digits. A process killed mid-write (`kill -9`, a power cut) cannot remove
/// its temporary file, so each write first removes the temporary files of the same destination
/// whose process no longer exists (`kill(pid, 0)` fails with `ESRCH`). One whose process is alive
/// is never touched, so writers in other processes can write the same destination at the same
/// time (the last rename wins). This assumes the writers share the machine's process IDs; a
/// directory shared with another machine or PID namespace can lose a live writer's temporary file
/// (its write then fails, the destination stays intact).
///
/// To write a file too large to hold in memory at once, use
/// ``writeFileAtomically(to:createDirectories:_:)``, which takes the contents piece by piece.
///
/// ```swift
/// try writeFileAtomically(Data("t,x\n0,1\n".utf8), to: URL(fileURLWithPath: "out/run.csv"),
///                         createDirectories: true)
/// ```
///
/// - Parameters:
///   - data: The complete new contents.
///   - url: A file URL; its directory must exist unless `createDirectories` is `true`.
///   - createDirectories: Create missing parent directories first.
/// - Throws: ``IOError`` naming the path and the cause.
public func writeFileAtomically(_ data: Data, to url: URL, createDirectories: Bool = false) throws(IOError) {
    try writeFileAtomically(to: url, createDirectories: createDirectories) { (file: inout AtomicFileSink) throws(IOError) in
        try file.write(data)
    }
}

/// Writes the bytes that `body` appends to the sink it is given to `url`, atomically: readers see
/// either the old file or the complete new one, never a partial write, and memory holds only what
/// `body` holds, not the whole file.
///
/// The bytes go straight to the temporary file that ``writeFileAtomically(_:to:createDirectories:)``
/// describes, with the same guarantees: when `body` returns, the file is flushed to disk (`fsync`),
/// renamed over the destination and the directory flushed; if `body` or any step throws, the
/// temporary file is removed and the destination is left as it was. The sink exists only during
/// `body` (it cannot be copied out of it).
///
/// ```swift
/// try writeFileAtomically(to: URL(fileURLWithPath: "out/log.txt")) { file in
///     for line in lines { try file.write(Array((line + "\n").utf8)) }
/// }
/// ```
///
/// - Parameters:
///   - url: A file URL; its directory must exist unless `createDirectories` is `true`.
///   - createDirectories: Create missing parent directories first.
///   - body: Writes the contents, in order, with the sink's `write` methods.
/// - Throws: ``IOError`` naming the path and the cause, or the error `body` throws.
public func writeFileAtomically(
    to url: URL, createDirectories: Bool = false, _ body: (inout AtomicFileSink) throws(IOError) -> Void
) throws(IOError) {
    guard url.isFileURL else { throw .notAFileURL(url.absoluteString) }
    let path = url.standardizedFileURL.path
    let directory = url.standardizedFileURL.deletingLastPathComponent().path
    let fileName = url.standardizedFileURL.lastPathComponent

    var directoryInfo = stat()
    if stat(directory, &directoryInfo) != 0 {
        guard errno == ENOENT else { throw .writeFailed(path: path, reason: errnoText()) }
        guard createDirectories else { throw .directoryMissing(path: directory) }
        try makeDirectories(directory)
    } else if (directoryInfo.st_mode & S_IFMT) != S_IFDIR {
        throw .cannotCreateDirectory(path: directory, reason: "a file with that name exists")
    }

    removeStaleTemporaryFiles(of: fileName, in: directory)

    // Create the temporary file next to the destination (same file system, so rename is atomic).
    var temporaryPath = ""
    var descriptor: Int32 = -1
    for _ in 0..<8 {
        temporaryPath = directory + "/" + temporaryFileName(for: fileName)
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        if descriptor >= 0 || errno != EEXIST { break }
    }
    guard descriptor >= 0 else {
        throw .cannotCreateTemporaryFile(path: directory, reason: errnoText())
    }

    func fail(_ error: IOError) -> IOError {
        if descriptor >= 0 { close(descriptor) }
        unlink(temporaryPath)
        return error
    }

    // Keep the permissions of a file we replace.
    var existing = stat()
    if stat(path, &existing) == 0, (existing.st_mode & S_IFMT) == S_IFREG {
        _ = fchmod(descriptor, existing.st_mode & 0o7777)
    }

    var sink = AtomicFileSink(descriptor: descriptor, path: path)
    do {
        try body(&sink)
    } catch {
        throw fail(error)
    }
    if fsync(descriptor) != 0 { throw fail(.writeFailed(path: path, reason: errnoText())) }
    let closeResult = close(descriptor)
    descriptor = -1
    if closeResult != 0 { throw fail(.writeFailed(path: path, reason: errnoText())) }

    if rename(temporaryPath, path) != 0 {
        throw fail(.renameFailed(path: path, reason: errnoText()))
    }

    // Make the rename itself durable; failure here does not undo the completed write.
    let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
    if directoryDescriptor >= 0 {
        _ = fsync(directoryDescriptor)
        close(directoryDescriptor)
    }
}

/// The temporary file of ``writeFileAtomically(to:createDirectories:_:)``, to which its `body`
/// appends the new contents.
public struct AtomicFileSink: ~Copyable {
    private let descriptor: Int32
    /// The destination's path, which errors name.
    private let path: String
    /// The number of bytes written so far: the offset in the file of the next byte.
    public private(set) var count = 0

    fileprivate init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Appends `bytes`.
    ///
    /// - Throws: ``IOError/writeFailed(path:reason:)`` naming the destination.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        if let reason = writeAll(bytes, to: descriptor, at: nil) { throw .writeFailed(path: path, reason: reason) }
        count += bytes.count
    }

    /// Appends `bytes` (an array, a slice of one, `Data`…: contiguous bytes are written without a
    /// copy).
    ///
    /// - Throws: ``IOError/writeFailed(path:reason:)`` naming the destination.
    public mutating func write<Bytes: Sequence<UInt8>>(_ bytes: Bytes) throws(IOError) {
        let descriptor = descriptor
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            (writeAll(UnsafeRawBufferPointer(buffer), to: descriptor, at: nil), buffer.count)
        }
        guard let (failure, written) = result else { return try write(Array(bytes)) }
        if let failure { throw .writeFailed(path: path, reason: failure) }
        count += written
    }

    /// Replaces bytes already written, starting at `offset`, by `bytes`: for a header whose fields
    /// (a checksum, a length) are known only after what follows it has been written.
    ///
    /// - Precondition: the bytes replaced have been written (`offset + bytes.count <= count`).
    /// - Throws: ``IOError/writeFailed(path:reason:)`` naming the destination.
    func overwrite(_ bytes: [UInt8], at offset: Int) throws(IOError) {
        require(
            offset >= 0 && offset <= count - bytes.count,
            "overwriting \(bytes.count) bytes at offset \(offset) of a file of \(count) bytes")
        let failure = bytes.withUnsafeBytes { writeAll($0, to: descriptor, at: offset) }
        if let failure { throw .writeFailed(path: path, reason: failure) }
    }
}

/// Writes all of `bytes` to `descriptor`, at its current position or (with `pwrite`) at `offset`;
/// the `errno` text if that fails.
private func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, at offset: Int?) -> String? {
    guard var pointer = bytes.baseAddress else { return nil }
    var remaining = bytes.count
    var position = offset
    while remaining > 0 {
        let written = position.map { pwrite(descriptor, pointer, remaining, off_t($0)) } ?? write(descriptor, pointer, remaining)
        if written < 0 {
            if errno == EINTR { continue }
            return errnoText()
        }
        remaining -= written
        pointer += written
        position = position.map { $0 + written }
    }
    return nil
}

/// A regular file open for reading, closed when the value goes away: the one way every reader of
/// this library opens a path.
///
/// Only regular files are opened: the type is checked (`fstat`) right after opening, which does not
/// wait for a FIFO's writer, and anything else is ``IOError/notARegularFile(path:kind:)``.
final class ReadableFile {
    let descriptor: Int32
    /// The standardized path, which errors name.
    let path: String
    /// The file's size when it was opened.
    let size: Int

    /// Opens the regular file at `url`.
    ///
    /// - Throws: ``IOError/notAFileURL(_:)``, ``IOError/notARegularFile(path:kind:)`` or
    ///   ``IOError/readFailed(path:reason:)`` naming the path.
    init(at url: URL) throws(IOError) {
        guard url.isFileURL else { throw .notAFileURL(url.absoluteString) }
        let path = url.standardizedFileURL.path
        // O_NONBLOCK so that opening a FIFO does not wait for a writer; it changes nothing for a
        // regular file.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .readFailed(path: path, reason: errnoText()) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = errnoText()
            close(descriptor)
            throw .readFailed(path: path, reason: reason)
        }
        let kind: String
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = ""
        case S_IFDIR: kind = "a directory"
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a file"
        }
        guard kind.isEmpty else {
            close(descriptor)
            throw .notARegularFile(path: path, kind: kind)
        }
        self.descriptor = descriptor
        self.path = path
        size = max(Int(info.st_size), 0)
    }

    deinit { close(descriptor) }

    /// The bytes at the offsets `range` (with `pread`, so reads do not depend on each other), in an
    /// array the caller owns.
    ///
    /// - Throws: ``IOError/readFailed(path:reason:)`` if reading fails or the file ends before
    ///   `range` does (it was cut short after being opened).
    func read(_ range: Range<Int>) throws(IOError) -> [UInt8] {
        var failure: String?
        let descriptor = descriptor
        let bytes = [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            var done = 0
            while done < range.count {
                let count = pread(
                    descriptor, buffer.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errnoText()
                    break
                }
                if count == 0 {
                    failure =
                        "the file ends at byte \(range.lowerBound + done), before byte \(range.upperBound) "
                        + "(it was cut short while being read)"
                    break
                }
                done += count
            }
            initialized = done
        }
        if let failure { throw .readFailed(path: path, reason: failure) }
        return bytes
    }
}

/// Reads a regular file (opened as ``ReadableFile`` does).
///
/// The first `prefixLength` bytes are read first and passed to `acceptsPrefix` (a shorter file is
/// returned as it is); if it returns `false` (the magic bytes of the expected format are missing),
/// only those bytes are returned, so the caller reports its own format error without the rest of
/// the file being read. Otherwise the rest follows, with memory reserved for the size the file
/// has, never more. The bytes come back as an array the caller owns, so a decoder can reuse its
/// storage instead of copying it.
///
/// - Throws: ``IOError/notAFileURL(_:)``, ``IOError/notARegularFile(path:kind:)`` or
///   ``IOError/readFailed(path:reason:)`` naming the path.
func readFileContents(
    at url: URL, prefixLength: Int = 0, acceptsPrefix: ([UInt8]) -> Bool = { _ in true }
) throws(IOError) -> [UInt8] {
    let file = try ReadableFile(at: url)

    /// Appends up to `limit` bytes (all, if `nil`) to `data`; returns at the end of the file.
    func append(to data: inout [UInt8], limit: Int?) throws(IOError) {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var remaining = limit ?? .max
        while remaining > 0 {
            let wanted = min(chunk.count, remaining)
            let count = chunk.withUnsafeMutableBytes { read(file.descriptor, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .readFailed(path: file.path, reason: errnoText())
            }
            if count == 0 { return }
            data.append(contentsOf: chunk[0..<count])
            remaining -= count
        }
    }
    var data: [UInt8] = []
    data.reserveCapacity(file.size)
    if prefixLength > 0 {
        try append(to: &data, limit: prefixLength)
        if data.count == prefixLength && !acceptsPrefix(data) { return data }
    }
    try append(to: &data, limit: nil)
    return data
}

/// Reads a whole UTF-8 text file (a leading byte-order mark is dropped).
func readTextFile(at url: URL) throws(IOError) -> String {
    let data = try readFileContents(at: url)
    guard var text = String(validating: data, as: UTF8.self) else {
        throw .notUTF8(path: url.standardizedFileURL.path)
    }
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    return text
}

/// Creates `path` and any missing parents (like `mkdir -p`).
private func makeDirectories(_ path: String) throws(IOError) {
    var info = stat()
    if stat(path, &info) == 0 {
        if (info.st_mode & S_IFMT) == S_IFDIR { return }
        throw .cannotCreateDirectory(path: path, reason: "a file with that name exists")
    }
    let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
    if parent != path && !parent.isEmpty { try makeDirectories(parent) }
    if mkdir(path, 0o777) != 0 && errno != EEXIST {
        throw .cannotCreateDirectory(path: path, reason: errnoText())
    }
}

/// A new name for a temporary file of the destination `fileName`: `.<name>.<pid>.<random>.tmp`,
/// with 16 random hexadecimal digits.
func temporaryFileName(for fileName: String) -> String {
    let random = String(UInt64.random(in: .min ... .max), radix: 16)
    return "." + fileName + "." + String(getpid()) + "." + String(repeating: "0", count: 16 - random.count) + random
        + ".tmp"
}

/// The process ID in `name` if it is a temporary file name that ``temporaryFileName(for:)`` makes
/// for the destination `fileName`, else `nil`.
func temporaryFileWriter(_ name: String, for fileName: String) -> pid_t? {
    let prefix = "." + fileName + "."
    guard name.hasPrefix(prefix), name.hasSuffix(".tmp") else { return nil }
    let middle = name.utf8.dropFirst(prefix.utf8.count).dropLast(4)
    let parts = middle.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
    let hexLetters = UInt8(ascii: "a")...UInt8(ascii: "f")
    guard parts.count == 2, (1...10).contains(parts[0].count), parts[0].allSatisfy(digits.contains),
        parts[1].count == 16, parts[1].allSatisfy({ digits.contains($0) || hexLetters.contains($0) }),
        let pid = pid_t(String(decoding: parts[0], as: UTF8.self)), pid > 0
    else { return nil }
    return pid
}

/// Removes the temporary files of the destination `fileName` in `directory` whose writing process
/// no longer exists: left by a process that was killed mid-write. A file whose process is alive (or
/// whose liveness cannot be told, such as another user's process) is kept; one that vanishes
/// meanwhile (removed by another writer doing the same) is skipped. Failures are ignored: this is
/// housekeeping, not part of the write.
private func removeStaleTemporaryFiles(of fileName: String, in directory: String) {
    guard let stream = opendir(directory) else { return }
    var stale: [String] = []
    while let entry = readdir(stream) {
        // The name in place: a directory record is only as long as its name, so loading the whole
        // `dirent` (whose `d_name` is declared 256 bytes) can read past the end of the buffer.
        let name = String(
            validatingCString: (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \.d_name)!)
                .assumingMemoryBound(to: CChar.self))
        guard let name, let pid = temporaryFileWriter(name, for: fileName) else { continue }
        if kill(pid, 0) != 0 && errno == ESRCH { stale.append(name) }
    }
    closedir(stream)
    for name in stale { _ = unlink(directory + "/" + name) }
}

/// The text of the current `errno`, e.g. "Permission denied".
private func errnoText() -> String {
    String(cString: strerror(errno))
}
