import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct IOAtomicFileTests {
    @Test func writesAndOverwrites() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("data.txt")

        try writeFileAtomically(Data("first version, rather long\n".utf8), to: file)
        #expect(try String(contentsOf: file, encoding: .utf8) == "first version, rather long\n")
        try writeFileAtomically(Data("second\n".utf8), to: file)
        #expect(try String(contentsOf: file, encoding: .utf8) == "second\n")
        try writeFileAtomically(Data(), to: file)
        #expect(try Data(contentsOf: file).isEmpty)
        #expect(try directory.contents() == ["data.txt"])  // no temporary files left
    }

    @Test func missingDirectoryIsAnErrorNamingIt() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let missing = directory.url.appendingPathComponent("no/such/dir")
        let file = missing.appendingPathComponent("out.csv")

        let error = #expect(throws: IOError.self) {
            try writeFileAtomically(Data("x".utf8), to: file)
        }
        #expect(error == .directoryMissing(path: missing.path))
        #expect(error?.description.contains(missing.path) == true)
        #expect(try directory.contents() == [])
    }

    @Test func createsDirectoriesWhenAsked() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("a/b/c/out.txt")
        try writeFileAtomically(Data("hello".utf8), to: file, createDirectories: true)
        #expect(try String(contentsOf: file, encoding: .utf8) == "hello")
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["out.txt"])
    }

    @Test func failedRenameRemovesTheTemporaryFile() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        // The destination is a non-empty directory: the data is written, then the rename fails.
        let target = directory.url.appendingPathComponent("target")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: target.appendingPathComponent("inner"))

        let error = #expect(throws: IOError.self) {
            try writeFileAtomically(Data("payload".utf8), to: target)
        }
        guard case .renameFailed(let path, let reason)? = error else {
            Issue.record("expected renameFailed, got \(String(describing: error))")
            return
        }
        #expect(path == target.path)
        #expect(!reason.isEmpty)
        #expect(error?.description.contains(target.path) == true)
        #expect(try directory.contents() == ["target"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["inner"])
    }

    @Test func keepsPermissionsOfReplacedFile() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("secret.txt")
        try writeFileAtomically(Data("v1".utf8), to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        try writeFileAtomically(Data("v2".utf8), to: file)
        let permissions = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        #expect(try String(contentsOf: file, encoding: .utf8) == "v2")
    }

    @Test func streamsPiecesThroughATemporaryFile() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("stream.bin")
        try writeFileAtomically(Data("old".utf8), to: file)
        var during: [String] = []
        try writeFileAtomically(to: file) { sink throws(IOError) in
            try sink.write([1, 2, 3])
            try sink.write(Data([4, 5]))
            try sink.write([9, 6, 7, 8][1...])
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 3, alignment: 1)
            defer { raw.deallocate() }
            raw.initializeMemory(as: UInt8.self, repeating: 10)
            try sink.write(UnsafeRawBufferPointer(raw))
            try sink.write(EmptyCollection<UInt8>())
            try sink.write((11...12).lazy.map { UInt8($0) })  // not contiguous: copied first
            #expect(sink.count == 13)
            try sink.overwrite([0xA1, 0xA2], at: 3)
            #expect(sink.count == 13)
            during = (try? directory.contents()) ?? []
        }
        #expect(try Data(contentsOf: file) == Data([1, 2, 3, 0xA1, 0xA2, 6, 7, 8, 10, 10, 10, 11, 12]))
        // Meanwhile the old file was intact and the new bytes went to this process's temporary file.
        #expect(during.count == 2 && during.contains("stream.bin"))
        let temporary = during.first { $0 != "stream.bin" } ?? ""
        #expect(temporaryFileWriter(temporary, for: "stream.bin") == getpid(), "\(temporary)")
        #expect(try directory.contents() == ["stream.bin"])
    }

    @Test func aFailingStreamLeavesTheOldFileAndNoTemporary() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("keep.txt")
        try writeFileAtomically(Data("old contents".utf8), to: file)
        let failure = IOError.writeFailed(path: file.path, reason: "the producer failed")
        #expect(throws: failure) {
            try writeFileAtomically(to: file) { sink throws(IOError) in
                try sink.write(Array("new, half written".utf8))
                throw failure
            }
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "old contents")
        #expect(try directory.contents() == ["keep.txt"])
    }

    /// A process ID that no process has (`kill` reports `ESRCH`).
    private func pidOfNoProcess() throws -> pid_t {
        var pid: pid_t = 4_000_000
        while pid > 1 && !(kill(pid, 0) != 0 && errno == ESRCH) { pid -= 1 }
        try #require(pid > 1)
        return pid
    }

    @Test func temporaryFileNamesIdentifyTheirWriter() throws {
        let name = temporaryFileName(for: "run.csv")
        #expect(name.hasPrefix(".run.csv.\(getpid()).") && name.hasSuffix(".tmp"))
        #expect(name.count == ".run.csv.\(getpid()).".count + 16 + 4)
        #expect(temporaryFileWriter(name, for: "run.csv") == getpid())
        #expect(temporaryFileName(for: "run.csv") != name)
        // Only the exact pattern of the same destination counts.
        #expect(temporaryFileWriter(".run.csv.12.0123456789abcdef.tmp", for: "run.csv") == 12)
        for other in [
            ".run.csv.12.0123456789abcdef.tmp.x", ".run.csv.12.0123456789abcde.tmp", ".run.csv.12.0123456789ABCDEF.tmp",
            ".run.csv.x12.0123456789abcdef.tmp", ".run.csv..0123456789abcdef.tmp", ".run.csv.0.0123456789abcdef.tmp",
            ".run.csv.5.12.0123456789abcdef.tmp", "run.csv.12.0123456789abcdef.tmp", ".run.csv.tmp-1234",
            ".run.csv.99999999999.0123456789abcdef.tmp",
        ] {
            #expect(temporaryFileWriter(other, for: "run.csv") == nil, "\(other)")
        }
        #expect(temporaryFileWriter(".run.csv.12.0123456789abcdef.tmp", for: "run") == nil)
        #expect(temporaryFileWriter(".run.csv.12.0123456789abcdef.tmp", for: "csv") == nil)
    }

    /// A writer killed mid-write leaves its temporary file; the next write of the same destination
    /// removes it, but keeps those of live writers and of other destinations.
    @Test func writingRemovesTemporaryFilesOfDeadWritersOnly() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let dead = try pidOfNoProcess()
        let stale = ".data.txt.\(dead).0123456789abcdef.tmp"
        let live = ".data.txt.\(getpid()).fedcba9876543210.tmp"
        let otherDestination = ".other.txt.\(dead).0123456789abcdef.tmp"
        let unrelated = ".data.txt.\(dead).tmp"
        for name in [stale, live, otherDestination, unrelated] {
            try Data("partial".utf8).write(to: directory.url.appendingPathComponent(name))
        }
        try writeFileAtomically(Data("complete".utf8), to: directory.url.appendingPathComponent("data.txt"))
        #expect(try directory.contents() == [live, unrelated, otherDestination, "data.txt"].sorted())
        #expect(try String(contentsOf: directory.url.appendingPathComponent("data.txt"), encoding: .utf8) == "complete")
    }

    /// Directory records are as long as their names: reading one must not load a whole `dirent`
    /// (an overread that AddressSanitizer reports in a directory of many short names).
    @Test func staleTemporariesAreFoundAmongManyFiles() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let stale = ".d.\(try pidOfNoProcess()).0123456789abcdef.tmp"
        for index in 0..<3000 { try Data().write(to: directory.url.appendingPathComponent("\(index)")) }
        try Data("partial".utf8).write(to: directory.url.appendingPathComponent(stale))
        try writeFileAtomically(Data("complete".utf8), to: directory.url.appendingPathComponent("d"))
        let contents = try directory.contents()
        #expect(contents.count == 3001 && !contents.contains(stale) && contents.contains("d"))
    }

    @Test func rejectsNonFileURLs() throws {
        let url = try #require(URL(string: "https://example.com/file.txt"))
        #expect(throws: IOError.notAFileURL("https://example.com/file.txt")) {
            try writeFileAtomically(Data(), to: url)
        }
    }

    @Test func readingAMissingFileNamesIt() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("absent.csv")
        let error = #expect(throws: IOError.self) { try readFileContents(at: file) }
        guard case .readFailed(let path, let reason)? = error else {
            Issue.record("expected readFailed, got \(String(describing: error))")
            return
        }
        #expect(path == file.path)
        #expect(reason.lowercased().contains("no such file"))
    }

    /// The `IOError` each reader reports for `url`, or `nil` (recorded) if it reports something else.
    private func readerErrors(_ url: URL) -> [IOError?] {
        func io(_ error: NumPyError?) -> IOError? {
            guard case .io(let io)? = error?.problem else { return nil }
            return io
        }
        let npy = #expect(throws: NumPyError.self) { try NumPyArray(contentsOf: url) }
        let npz = #expect(throws: NumPyError.self) { try NumPyArchive(contentsOf: url) }
        let checkpoint = #expect(throws: CheckpointError.self) { try Checkpoint<Float>(contentsOf: url) }
        var checkpointIO: IOError?
        if case .file(let error)? = checkpoint { checkpointIO = io(error) }
        let vectors = #expect(throws: WordVectorError.self) { try WordVectors<Float>(contentsOf: url) }
        var vectorsIO: IOError?
        if case .io(let error)? = vectors?.problem { vectorsIO = error }
        let csv = #expect(throws: IOError.self) { try CSVTable.read(from: url) }
        return [io(npy), io(npz), checkpointIO, vectorsIO, csv]
    }

    @Test func readersRefuseWhatIsNotARegularFile() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        // A FIFO without a writer would block a read forever; /dev/zero would fill memory.
        let fifo = directory.url.appendingPathComponent("pipe")
        try #require(mkfifo(fifo.path, 0o600) == 0)
        let cases = [
            (fifo, "a FIFO (named pipe)"), (URL(fileURLWithPath: "/dev/zero"), "a character device"),
            (directory.url, "a directory"),
        ]
        for (url, kind) in cases {
            let path = url.standardizedFileURL.path
            for error in readerErrors(url) {
                #expect(error == .notARegularFile(path: path, kind: kind))
            }
            #expect(
                IOError.notARegularFile(path: path, kind: kind).description
                    == "cannot read '\(path)': it is \(kind), not a regular file")
        }
    }

    @Test func readersCheckTheMagicBytesBeforeReadingTheRest() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        // A sparse 1 GiB file that is neither .npy nor .npz: only its first bytes are read.
        let large = directory.url.appendingPathComponent("large.bin")
        try Data("hello, world".utf8).write(to: large)
        let handle = try FileHandle(forWritingTo: large)
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()
        #expect(try readFileContents(at: large, prefixLength: 6) { _ in false } == Array("hello,".utf8))
        #expect(throws: NumPyError(.notNumPyFile, path: large.path)) { try NumPyArray(contentsOf: large) }
        #expect(throws: NumPyError(.notZipArchive, path: large.path)) { try NumPyArchive(contentsOf: large) }
        #expect(throws: CheckpointError.file(NumPyError(.notZipArchive, path: large.path))) {
            try Checkpoint<Double>(contentsOf: large)
        }

        // Accepted prefixes and files shorter than the prefix are read whole.
        let short = directory.url.appendingPathComponent("short.bin")
        try Data([1, 2, 3]).write(to: short)
        #expect(try readFileContents(at: short, prefixLength: 6) { _ in false } == [1, 2, 3])
        let npz = directory.url.appendingPathComponent("x.npz")
        let archive = NumPyArchive(["x": NumPyArray(Tensor<Float>([1, 2]))])
        try archive.write(to: npz)
        #expect(try NumPyArchive(contentsOf: npz) == archive)
        let empty = directory.url.appendingPathComponent("empty.npz")
        try NumPyArchive().write(to: empty)
        #expect(try NumPyArchive(contentsOf: empty).entries.isEmpty)
    }
}
