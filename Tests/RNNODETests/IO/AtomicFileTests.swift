import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

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
}
