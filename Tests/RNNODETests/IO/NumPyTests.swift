import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

// The `.npy`, `.npz` and DEFLATE fixtures at the end of this file were made with numpy 2.4 and
// Python's zlib; each comment says how.

@Suite struct IONumPyTests {
    // MARK: Round trips

    @Test(arguments: [[], [0], [4], [2, 0], [2, 3], [2, 3, 4], [1, 1, 1, 5]] as [[Int]])
    func floatAndDoubleRoundTrip(shape: [Int]) throws {
        let count = shape.reduce(1, *)
        let doubles = Tensor<Double>(shape: shape, scalars: (0..<count).map { Double($0) * 0.1 - 1e-300 })
        let floats = Tensor<Float>(shape: shape, scalars: (0..<count).map { Float($0) / 3 - 0.5 })

        let doubleArray = NumPyArray(doubles)
        #expect(doubleArray.dataType == .float64)
        #expect(doubleArray.shape == shape)
        #expect(doubleArray.elementBytes.count == count * 8)
        let decodedDoubles = try NumPyArray(npyData: doubleArray.npyData())
        #expect(decodedDoubles == doubleArray)
        #expect(decodedDoubles.tensor(as: Double.self) == doubles)

        let floatArray = NumPyArray(floats)
        #expect(floatArray.dataType == .float32)
        let decodedFloats = try NumPyArray(npyData: floatArray.npyData())
        #expect(decodedFloats.tensor(as: Float.self) == floats)
        #expect(decodedFloats.tensor(as: Double.self) == floats.converted(to: Double.self))

        // The data starts at a multiple of 64 bytes, as numpy aligns it.
        #expect((doubleArray.npyData().count - count * 8) % 64 == 0)
    }

    @Test func specialValuesSurviveBitForBit() throws {
        let values: [Double] = [-0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let decoded = try NumPyArray(npyData: NumPyArray(Tensor(values)).npyData()).tensor(as: Double.self)
        #expect(zip(decoded.scalars, values).allSatisfy { $0.bitPattern == $1.bitPattern })
    }

    @Test func bytesArraysRoundTrip() throws {
        let text = Array(#"{"epochs": 10, "name": "Grüße"}"#.utf8)
        let array = NumPyArray(bytes: text)
        #expect(array.shape == [text.count])
        #expect(array.dataType == .uint8)
        #expect(array.bytes == text)
        let decoded = try NumPyArray(npyData: array.npyData())
        #expect(decoded.bytes == text)
        #expect(NumPyArray(bytes: []).bytes == [])
        #expect(NumPyArray(Tensor<Float>([1, 2])).bytes == nil)
        #expect(NumPyArray(shape: [1, 2], dataType: .uint8, elementBytes: [1, 2]).bytes == nil)
        #expect(array.reshaped(to: [1, text.count]).bytes == nil)
        #expect(array.reshaped(to: [1, text.count]).reshaped(to: [text.count]) == array)
    }

    @Test func writesAndReadsFiles() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("sub/weights.npy")
        let tensor = Tensor<Float>([[1, 2, 3], [4, 5, 6]])
        try NumPyArray(tensor).write(to: file, createDirectories: true)
        #expect(try NumPyArray(contentsOf: file).tensor() == tensor)
        #expect(try Data(contentsOf: file) == NumPyArray(tensor).npyData())
        try NumPyArray(Tensor<Float>([7])).write(to: file)  // replaces it
        #expect(try NumPyArray(contentsOf: file).tensor() == Tensor<Float>([7]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["weights.npy"])
    }

    @Test func encodingIsByteForByteWhatNumPyWrites() {
        let matrix = Tensor<Double>([[0.1, -2.5, 1e-300], [3.0, -0.0, 12345.678]])
        #expect(NumPyArray(matrix).npyData() == fixture(NumPyFixtures.float64C))
        #expect(NumPyArray(Tensor<Double>(2.5)).npyData() == fixture(NumPyFixtures.zeroDimensional))
        #expect(NumPyArray(Tensor<Float>(shape: [0, 3], scalars: [])).npyData() == fixture(NumPyFixtures.emptyFloat32))
        #expect(NumPyArray(bytes: Array(#"{"epochs": 10}"#.utf8)).npyData() == fixture(NumPyFixtures.uint8Text))
    }

    @Test func largeHeadersUseVersion2() throws {
        // Only absurd shapes need more than 64 KiB of header (numpy itself allows at most 64 axes).
        let array = NumPyArray(shape: [Int](repeating: 1, count: 40_000), dataType: .int8, elementBytes: [42])
        let data = array.npyData()
        #expect(data[6] == 2 && data[7] == 0)
        // Reading refuses such a rank.
        #expect(npyError(data)?.problem == .rankTooLarge(rank: 40_000, limit: 64))
        let small = NumPyArray(Tensor<Float>([1]))
        #expect(small.npyData()[6] == 1)
    }

    // MARK: Files written by numpy

    @Test func readsNumPyFloat64CArray() throws {
        let array = try NumPyArray(npyData: fixture(NumPyFixtures.float64C))
        #expect(array.dataType == .float64)
        #expect(array.shape == [2, 3])
        let tensor = array.tensor(as: Double.self)
        #expect(tensor == Tensor<Double>([[0.1, -2.5, 1e-300], [3.0, -0.0, 12345.678]]))
        #expect(tensor.scalars[4].sign == .minus)
    }

    @Test func readsNumPyFortranOrderFloat32() throws {
        let array = try NumPyArray(npyData: fixture(NumPyFixtures.float32Fortran))
        #expect(array.shape == [2, 3, 4])
        #expect(array.dataType == .float32)
        let expected = Tensor<Float>(shape: [2, 3, 4], scalars: (0..<24).map { Float($0) / 7 })
        #expect(array.tensor(as: Float.self) == expected)
        // Written back in C order, it reads the same.
        #expect(try NumPyArray(npyData: array.npyData()) == array)
    }

    @Test func readsNumPyBigEndianAndIntegerArrays() throws {
        let bigEndian = try NumPyArray(npyData: fixture(NumPyFixtures.float64BigEndian))
        #expect(bigEndian.dataType == .float64)
        #expect(bigEndian.tensor(as: Double.self) == Tensor([1.5, -2.25, Double.pi]))

        let integers = try NumPyArray(npyData: fixture(NumPyFixtures.int64))
        #expect(integers.dataType == .int64)
        #expect(integers.tensor(as: Double.self) == Tensor([[-3, 0], [1_099_511_627_776, 7]]))
        #expect(integers.tensor(as: Float.self) == Tensor([[-3, 0], [1_099_511_627_776, 7]]))

        let bigEndianFortran = try NumPyArray(npyData: fixture(NumPyFixtures.bigEndianInt32Fortran))
        #expect(bigEndianFortran.dataType == .int32)
        #expect(bigEndianFortran.tensor(as: Double.self) == Tensor([[-2, -1, 0], [1, 2, 3]]))

        let booleans = try NumPyArray(npyData: fixture(NumPyFixtures.boolVector))
        #expect(booleans.dataType == .bool)
        #expect(booleans.elementBytes == [1, 0, 1])
        #expect(booleans.tensor(as: Float.self) == Tensor([1, 0, 1]))
    }

    @Test func readsNumPyZeroDimensionalEmptyAndBytesArrays() throws {
        let scalar = try NumPyArray(npyData: fixture(NumPyFixtures.zeroDimensional))
        #expect(scalar.shape == [])
        #expect(scalar.tensor(as: Double.self).scalar == 2.5)

        let empty = try NumPyArray(npyData: fixture(NumPyFixtures.emptyFloat32))
        #expect(empty.shape == [0, 3])
        #expect(empty.tensor(as: Float.self).scalarCount == 0)
        #expect(empty.tensor(as: Float.self).shape == [0, 3])

        let text = try NumPyArray(npyData: fixture(NumPyFixtures.uint8Text))
        #expect(text.bytes.map { String(decoding: $0, as: UTF8.self) } == #"{"epochs": 10}"#)
    }

    @Test func readsFormatVersions2And3() throws {
        let version2 = try NumPyArray(npyData: fixture(NumPyFixtures.version2))
        #expect(fixture(NumPyFixtures.version2)[6] == 2)
        #expect(version2.tensor(as: Double.self) == Tensor([1, 2]))
        let version3 = try NumPyArray(npyData: fixture(NumPyFixtures.version3))
        #expect(fixture(NumPyFixtures.version3)[6] == 3)
        #expect(version3.dataType == .int16)
        #expect(version3.tensor(as: Double.self) == Tensor([[1, 2]]))
    }

    @Test func dataTypeDescriptions() {
        #expect(
            NumPyDataType.allCases.map(\.descr) == [
                "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|b1",
            ])
        #expect(NumPyDataType(descr: ">f8") == .float64)
        #expect(NumPyDataType(descr: "=u2") == .uint16)
        #expect(NumPyDataType(descr: "i4") == .int32)
        for unsupported in ["<c16", "|O", "<U5", "|S3", "<f2", "<M8[ns]", "<f+8", "f", "<i٣", ""] {
            #expect(NumPyDataType(descr: unsupported) == nil, "\(unsupported)")
        }
        #expect(NumPyDataType.allCases.allSatisfy { NumPyDataType(descr: $0.descr) == $0 })
    }

    @Test func convertsEveryDataType() {
        func array<I: FixedWidthInteger>(_ type: NumPyDataType, _ values: [I]) -> NumPyArray {
            var bytes: [UInt8] = []
            for value in values { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
            return NumPyArray(shape: [values.count], dataType: type, elementBytes: bytes)
        }
        #expect(array(.int8, [Int8.min, -1, 5]).tensor(as: Double.self) == Tensor([-128, -1, 5]))
        #expect(array(.int16, [Int16.min, 300]).tensor(as: Double.self) == Tensor([-32768, 300]))
        #expect(array(.int32, [Int32.min, 70_000]).tensor(as: Double.self) == Tensor([-2_147_483_648, 70_000]))
        #expect(array(.uint16, [UInt16.max]).tensor(as: Double.self) == Tensor([65535]))
        #expect(array(.uint32, [UInt32.max]).tensor(as: Double.self) == Tensor([4_294_967_295]))
        #expect(array(.uint64, [UInt64(1) << 63]).tensor(as: Double.self) == Tensor([9_223_372_036_854_775_808]))
        #expect(array(.bool, [UInt8(0), 1, 2]).tensor(as: Double.self) == Tensor([0, 1, 1]))
        // float64 to Float rounds.
        #expect(NumPyArray(Tensor<Double>([0.1])).tensor(as: Float.self) == Tensor<Float>([0.1]))
    }

    // MARK: Header parsing

    /// A version 1.0 `.npy` stream with the given header text (padded) and data.
    private func npy(header: String, data: [UInt8] = [], version: UInt8 = 1) -> Data {
        var bytes = Array(header.utf8)
        let field = version == 1 ? 2 : 4
        while (10 + field - 2 + bytes.count + 1) % 64 != 0 { bytes.append(UInt8(ascii: " ")) }
        bytes.append(UInt8(ascii: "\n"))
        var result: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        for index in 0..<field { result.append(UInt8(truncatingIfNeeded: bytes.count >> (8 * index))) }
        return Data(result + bytes + data)
    }

    private func npyError(_ data: Data, name: String? = nil) -> NumPyError? {
        #expect(throws: NumPyError.self) { try NumPyArray(npyData: data, name: name) }
    }

    @Test func headerDictionaryParsingIsFlexible() throws {
        let headers = [
            #"{"shape": (2,), "fortran_order": False, "descr": "<i2"}"#,
            "{ 'fortran_order' :False,'descr':'<i2' ,\n 'shape':( 2 , ) , }",
            #"{'descr': u'<i2', 'fortran_order': False, 'shape': (2L,)}"#,
            "{'descr': '<i2', 'fortran_order': False, 'shape': [2]}",
        ]
        for header in headers.prefix(3) {
            let array = try NumPyArray(npyData: npy(header: header, data: [1, 0, 255, 255]))
            #expect(array.shape == [2], "\(header)")
            #expect(array.tensor(as: Double.self) == Tensor([1, -1]), "\(header)")
        }
        // A list is not a tuple (numpy rejects it too).
        let error = npyError(npy(header: headers[3], data: [1, 0, 255, 255]))
        #expect(error?.problem == .malformedHeader(key: "shape", reason: "expected a tuple of integers, found [2]"))
        // A parenthesized integer is not a tuple either.
        let notTuple = npyError(npy(header: "{'descr': '<i2', 'fortran_order': False, 'shape': (2)}", data: [0, 0, 0, 0]))
        #expect(notTuple?.problem == .malformedHeader(key: "shape", reason: "expected a tuple of integers, found (2)"))
    }

    @Test func malformedHeadersNameTheKey() {
        let cases: [(String, String?, String)] = [
            ("{'descr': '<f8', 'fortran_order': False}", "shape", "missing"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (), 'extra': 1}", "extra", "unexpected key"),
            ("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': ()}", "descr", "twice"),
            ("{'descr': '<f8', 'fortran_order': 0, 'shape': ()}", "fortran_order", "expected True or False, found 0"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -1)}", "shape", "non-negative"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2.5,)}", "shape", "expected an integer"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}", "shape", "too large"),
            ("{'descr': '<f8', 'fortran_order': Flase, 'shape': ()}", "fortran_order", "unexpected 'F'"),
            ("{'descr': '<f8, 'fortran_order': False, 'shape': ()}", nil, "expected '}', found 'f' at character 18"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': ()", nil, "expected '}'"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': ()} x", nil, "after the dictionary"),
            ("('descr', '<f8')", nil, "expected '{'"),
            ("{1: '<f8'}", nil, "key is not a string"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4)}", "shape", "too many elements"),
        ]
        for (header, key, reason) in cases {
            let error = npyError(npy(header: header), name: "bad.npy")
            guard case .malformedHeader(let foundKey, let foundReason) = error?.problem else {
                Issue.record("\(header): \(String(describing: error))")
                continue
            }
            #expect(foundKey == key, "\(header)")
            #expect(foundReason.contains(reason), "\(header): \(foundReason)")
            #expect(error?.path == "bad.npy")
            #expect(error?.description.hasPrefix("bad.npy: malformed .npy header") == true)
            if let key { #expect(error?.description.contains("(key '\(key)')") == true) }
        }
    }

    // MARK: .npy errors

    @Test func notANumPyFile() {
        for bytes in [[], Array("hello, world".utf8), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x58, 1, 0, 0, 0]] as [[UInt8]] {
            let error = npyError(Data(bytes), name: "x.npy")
            #expect(error == NumPyError(.notNumPyFile, path: "x.npy"))
        }
        #expect(npyError(Data(Array("PK\u{3}\u{4}".utf8)))?.description.contains("not a .npy file") == true)
    }

    @Test func unsupportedVersion() {
        var data = fixture(NumPyFixtures.float64C)
        data[6] = 4
        let error = npyError(data, name: "x.npy")
        #expect(error?.problem == .unsupportedVersion(major: 4, minor: 0))
        #expect(error?.description == "x.npy: unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)")
        data[6] = 1
        data[7] = 1
        #expect(npyError(data)?.problem == .unsupportedVersion(major: 1, minor: 1))
    }

    @Test func truncatedHeader() {
        let data = fixture(NumPyFixtures.float64C)
        #expect(npyError(data.prefix(4))?.problem == .truncatedHeader(expected: 10, actual: 4))
        #expect(npyError(data.prefix(9))?.problem == .truncatedHeader(expected: 10, actual: 9))
        let error = npyError(data.prefix(100), name: "cut.npy")
        #expect(error?.problem == .truncatedHeader(expected: 128, actual: 100))
        #expect(error?.description.contains("truncated .npy header: expected at least 128 bytes, found 100") == true)
    }

    @Test func unsupportedDataTypesAreNamed() {
        let complex = npyError(fixture(NumPyFixtures.complex128), name: "c.npy")
        #expect(complex?.problem == .unsupportedDataType("<c16"))
        #expect(complex?.description.hasPrefix("c.npy: unsupported dtype '<c16'") == true)
        #expect(npyError(fixture(NumPyFixtures.objectArray))?.problem == .unsupportedDataType("|O"))
        let structured = npyError(fixture(NumPyFixtures.structured))
        #expect(structured?.problem == .unsupportedDataType("[('a', '<f4'), ('b', '<i8')]"))
        #expect(structured?.description.contains("unsupported dtype [('a', '<f4'), ('b', '<i8')]") == true)
        #expect(
            npyError(npy(header: "{'descr': '<U3', 'fortran_order': False, 'shape': ()}"))?.problem == .unsupportedDataType("<U3")
        )
    }

    @Test func truncatedAndTrailingData() {
        let data = fixture(NumPyFixtures.float64C)
        let truncated = npyError(data.dropLast(5), name: "w.npy")
        #expect(truncated?.problem == .truncatedData(expected: 48, actual: 43))
        #expect(truncated?.description == "w.npy: truncated data: expected 48 bytes of array data, found 43")
        let trailing = npyError(data + [0, 0], name: "w.npy")
        #expect(trailing?.problem == .trailingData(expected: 48, actual: 50))
        #expect(trailing?.description.contains("2 unexpected bytes after the 48 bytes of array data") == true)
    }

    @Test func deeplyNestedHeadersAreRefused() throws {
        // 40,000 nested tuples: refused by the nesting limit, with bounded stack use.
        let nested = try malformedFixture("npy-shape-nested-tuples-40000.npy")
        let error = #expect(throws: NumPyError.self) { try NumPyArray(contentsOf: nested) }
        guard case .malformedHeader(let key, let reason) = error?.problem else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(key == "shape")
        #expect(reason.contains("nested more than 32 levels deep"))
        #expect(error?.path == nested.path)

        // The header dictionary is one level: a shape nested 31 levels deep is within the limit
        // (`((()))` is `()` in Python), 32 levels are not.
        func header(depth: Int) -> String {
            "{'descr': '<f8', 'fortran_order': False, 'shape': "
                + String(repeating: "(", count: depth) + String(repeating: ")", count: depth) + "}"
        }
        #expect(try NumPyArray(npyData: npy(header: header(depth: 31), data: [0, 0, 0, 0, 0, 0, 0, 0])).shape == [])
        let beyond = npyError(npy(header: header(depth: 32)))
        guard case .malformedHeader("shape", let beyondReason) = beyond?.problem else {
            Issue.record("\(String(describing: beyond))")
            return
        }
        #expect(beyondReason.contains("nested more than 32 levels deep"))
        let list = npyError(npy(header: "{'descr': " + String(repeating: "[", count: 40) + "}"))
        #expect(list?.description.contains("nested more than 32 levels deep") == true)
    }

    @Test func rankAndHeaderLengthAreLimited() throws {
        let deep = try malformedFixture("npy-rank-100000.npy")
        let error = #expect(throws: NumPyError.self) { try NumPyArray(contentsOf: deep) }
        #expect(error == NumPyError(.rankTooLarge(rank: 100_000, limit: 64), path: deep.path))
        #expect(error?.description.hasSuffix("the array's rank 100000 exceeds the supported maximum of 64 axes") == true)

        // 64 axes are fine, 65 are not.
        func shape(_ rank: Int) -> String {
            "{'descr': '|u1', 'fortran_order': False, 'shape': (" + String(repeating: "1,", count: rank) + ")}"
        }
        #expect(try NumPyArray(npyData: npy(header: shape(64), data: [7])).shape.count == 64)
        #expect(npyError(npy(header: shape(65), data: [7]))?.problem == .rankTooLarge(rank: 65, limit: 64))

        // A header longer than 1 MiB is refused before it is parsed.
        let long = npy(header: "{" + String(repeating: " ", count: 1 << 20) + "}", version: 2)
        let longError = npyError(long)
        #expect(longError?.problem == .headerTooLarge(length: long.count - 12, limit: 1 << 20))
        #expect(longError?.description.contains("more than the supported maximum of 1048576 bytes") == true)

        // Messages quote at most 64 characters of the header.
        let list = npyError(
            npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': [" + String(repeating: "1, ", count: 10_000) + "]}"))
        #expect(
            list?.problem
                == .malformedHeader(
                    key: "shape", reason: "expected a tuple of integers, found [" + String(repeating: "1, ", count: 20) + "1,…"))
    }

    @Test func fileErrorsWrapIOError() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let missing = directory.url.appendingPathComponent("missing.npy")
        let readError = #expect(throws: NumPyError.self) { try NumPyArray(contentsOf: missing) }
        guard case .io(.readFailed(let path, _)) = readError?.problem else {
            Issue.record("\(String(describing: readError))")
            return
        }
        #expect(path == missing.path)
        #expect(readError?.path == missing.path)
        #expect(readError?.description.contains("missing.npy") == true)

        let nowhere = directory.url.appendingPathComponent("no/dir/x.npy")
        let writeError = #expect(throws: NumPyError.self) { try NumPyArray(bytes: [1]).write(to: nowhere) }
        #expect(writeError?.problem == .io(.directoryMissing(path: nowhere.deletingLastPathComponent().path)))

        // Contents errors from a file carry its path.
        let bad = directory.url.appendingPathComponent("bad.npy")
        try Data("not numpy".utf8).write(to: bad)
        let contentError = #expect(throws: NumPyError.self) { try NumPyArray(contentsOf: bad) }
        #expect(contentError == NumPyError(.notNumPyFile, path: bad.path))
    }
}

@Suite struct IONumPyArchiveTests {
    private func archiveError(_ data: Data, path: String? = "a.npz") -> NumPyError? {
        #expect(throws: NumPyError.self) { try NumPyArchive(zipData: data, path: path) }
    }

    // MARK: Round trips

    @Test func roundTripsAndAccessors() throws {
        var archive = NumPyArchive([
            "weights": NumPyArray(Tensor<Float>([[1, 2], [3, 4]])),
            "bias": NumPyArray(Tensor<Double>([0.5, -0.5])),
        ])
        archive["metadata"] = NumPyArray(bytes: Array(#"{"epochs": 10}"#.utf8))
        archive["scalar"] = NumPyArray(Tensor<Double>(3))
        archive["empty"] = NumPyArray(Tensor<Float>(shape: [0], scalars: []))
        #expect(archive.names == ["weights", "bias", "metadata", "scalar", "empty"])
        archive["bias"] = NumPyArray(Tensor<Double>([1, 2, 3]))
        #expect(archive.names == ["weights", "bias", "metadata", "scalar", "empty"])
        #expect(archive["bias"]?.shape == [3])
        archive["scalar"] = nil
        #expect(archive.names == ["weights", "bias", "metadata", "empty"])
        #expect(archive["scalar"] == nil)

        let decoded = try NumPyArchive(zipData: archive.zipData())
        #expect(decoded == archive)
        #expect(decoded["weights"]?.tensor(as: Float.self) == Tensor([[1, 2], [3, 4]]))

        // With ZIP64 records forced everywhere, it still reads back.
        #expect(try NumPyArchive(zipData: Data(archive.zipBytes(forceZip64: true))) == archive)
        // The bytes are deterministic.
        #expect(archive.zipData() == archive.zipData())
        // An empty archive is a valid ZIP file.
        #expect(try NumPyArchive(zipData: NumPyArchive().zipData()) == NumPyArchive())
        // Names with non-ASCII characters and folders.
        let named = NumPyArchive([.init(name: "layer/1/Gewicht-ä", array: NumPyArray(bytes: [1]))])
        #expect(try NumPyArchive(zipData: named.zipData()).names == ["layer/1/Gewicht-ä"])
    }

    @Test func writesAndReadsFiles() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("out/model.npz")
        let archive = NumPyArchive(["x": NumPyArray(Tensor<Double>([1, 2, 3]))])
        try archive.write(to: file, createDirectories: true)
        #expect(try NumPyArchive(contentsOf: file) == archive)

        let missing = directory.url.appendingPathComponent("missing.npz")
        let readError = #expect(throws: NumPyError.self) { try NumPyArchive(contentsOf: missing) }
        guard case .io(.readFailed) = readError?.problem else {
            Issue.record("\(String(describing: readError))")
            return
        }
        #expect(readError?.path == missing.path)
        let nowhere = directory.url.appendingPathComponent("no/dir/model.npz")
        let writeError = #expect(throws: NumPyError.self) { try archive.write(to: nowhere) }
        #expect(writeError?.problem == .io(.directoryMissing(path: nowhere.deletingLastPathComponent().path)))
    }

    /// Entries of every kind the writer handles: names in ASCII and not, data types, a 0-d array,
    /// an empty one, and arrays larger than a write chunk (whole chunks and a remainder).
    static func streamingSample() -> NumPyArchive {
        let chunkFloats = NumPyArchive.writeChunkSize / 4
        return NumPyArchive([
            .init(name: "weights", array: NumPyArray(Tensor<Float>([[1, 2], [3, 4]]))),
            .init(name: "layer/1/Gewicht-ä", array: NumPyArray(bytes: Array("ü".utf8))),
            .init(name: "scalar", array: NumPyArray(Tensor<Double>(shape: [], scalars: [2.5]))),
            .init(name: "empty", array: NumPyArray(Tensor<Float>(shape: [0, 3], scalars: []))),
            .init(name: "flags", array: NumPyArray(shape: [3], dataType: .bool, elementBytes: [1, 0, 1])),
            .init(
                name: "large",
                array: NumPyArray(
                    Tensor<Float>(shape: [2 * chunkFloats + 5], scalars: (0..<(2 * chunkFloats + 5)).map(Float.init)))),
            .init(
                name: "exact",
                array: NumPyArray(
                    shape: [NumPyArchive.writeChunkSize], dataType: .uint8,
                    elementBytes: .init(repeating: 7, count: NumPyArchive.writeChunkSize))),
        ])
    }

    /// Writing streams the archive to the file, byte for byte what `zipData()` builds in memory.
    @Test func writingStreamsTheBytesOfZipData() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("stream.npz")
        let archive = Self.streamingSample()
        for sample in [archive, NumPyArchive(), NumPyArchive(Array(archive.entries.prefix(1)))] {
            try sample.write(to: file)
            #expect(try Data(contentsOf: file) == sample.zipData())
            // With every ZIP64 record and field (the size of a 4 GiB entry, the offset past 4 GiB).
            try NumPyArchive.write(sample.entries.map(NumPyArchive.StreamedEntry.init), to: file, forceZip64: true)
            #expect(try Data(contentsOf: file) == Data(sample.zipBytes(forceZip64: true)))
        }
        #expect(try NumPyArchive(contentsOf: file) == NumPyArchive(Array(archive.entries.prefix(1))))
        #expect(try directory.contents() == ["stream.npz"])
    }

    /// Tensors written a chunk at a time give the bytes of `NumPyArray(tensor)`.
    @Test func tensorsStreamAsTheirArrays() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("tensors.npz")
        let floatCount = NumPyArchive.writeChunkSize / 4 * 3 + 1
        let doubleCount = NumPyArchive.writeChunkSize / 8 + 3
        let floats = Tensor<Float>(shape: [floatCount], scalars: (0..<floatCount).map { Float($0) / 7 - 3 })
        let doubles = Tensor<Double>(shape: [doubleCount, 1], scalars: (0..<doubleCount).map { Double($0) * -1e-3 })
        let small = Tensor<Float>([[-0.0, .infinity], [.nan, 1e-40]])
        let entries: [NumPyArchive.StreamedEntry] = [
            .init(name: "floats", tensor: floats), .init(name: "doubles", tensor: doubles),
            .init(name: "small", tensor: small), .init(name: "none", tensor: Tensor<Double>(shape: [0], scalars: [])),
        ]
        let expected = NumPyArchive([
            "floats": NumPyArray(floats), "doubles": NumPyArray(doubles), "small": NumPyArray(small),
            "none": NumPyArray(Tensor<Double>(shape: [0], scalars: [])),
        ])
        try NumPyArchive.write(entries, to: file)
        #expect(try Data(contentsOf: file) == expected.zipData())
        #expect(try NumPyArchive(contentsOf: file)["floats"]?.tensor(as: Float.self) == floats)
    }

    /// The bytes of `zipData()` for fixed archives, as the writer has always produced them (length
    /// and CRC-32 of the whole archive).
    @Test func zipDataBytesAreStable() {
        let archive = Self.streamingSample()
        let plain = archive.zipBytes()
        let zip64 = archive.zipBytes(forceZip64: true)
        #expect(plain.count == 3_147_385 && crc32(plain) == 0x0722_7833)
        #expect(zip64.count == 3_147_797 && crc32(zip64) == 0xA8BF_5B46)
        let t = Tensor<Float>([[-0.0, .infinity], [.nan, 1e-40]])
        let d = Tensor<Double>(shape: [3, 1], scalars: [1e-300, -2, .pi])
        let tensors = NumPyArchive(["t": NumPyArray(t), "d": NumPyArray(d)]).zipBytes()
        #expect(tensors.count == 490 && crc32(tensors) == 0x02AE_363E)
    }

    @Test func writingDuplicateNamesIsAnError() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("dup.npz")
        let archive = NumPyArchive([
            .init(name: "x", array: NumPyArray(bytes: [1])), .init(name: "y", array: NumPyArray(bytes: [2])),
            .init(name: "x", array: NumPyArray(bytes: [3])),
        ])
        let error = #expect(throws: NumPyError.self) { try archive.write(to: file) }
        #expect(error == NumPyError(.duplicateEntry("x.npy"), path: file.path, entry: "x.npy"))
        #expect(try directory.contents() == [])
        // Reading such an archive is an error too.
        let readError = archiveError(archive.zipData())
        #expect(readError == NumPyError(.duplicateEntry("x.npy"), path: "a.npz", entry: "x.npy"))
        #expect(readError?.description == "a.npz, entry 'x.npy': duplicate entry name 'x.npy'")
    }

    // MARK: Archives written by numpy

    @Test func readsNumPySavez() throws {
        let data = fixture(NumPyFixtures.savez)
        // numpy writes ZIP64 local headers: sizes 0xFFFFFFFF with the real ones in an extra field.
        #expect(Array(data[18..<26]) == [UInt8](repeating: 0xFF, count: 8))
        #expect(data[28] == 20)
        let archive = try NumPyArchive(zipData: data)
        #expect(archive.names == ["weights", "labels", "metadata"])
        #expect(archive["weights"]?.tensor(as: Double.self) == Tensor([[0.1, -2.5, 1e-300], [3.0, -0.0, 12345.678]]))
        #expect(archive["labels"]?.dataType == .int32)
        #expect(archive["labels"]?.tensor(as: Float.self) == Tensor([3, 1, 4, 1, 5]))
        #expect(archive["metadata"]?.bytes == Array(#"{"epochs": 10}"#.utf8))
    }

    @Test func readsEveryDataTypeFromNumPy() throws {
        let archive = try NumPyArchive(zipData: fixture(NumPyFixtures.savezAllTypes))
        #expect(archive.names == ["i1", "i2", "i4", "u2", "u4", "u8", "f4", "b1"])
        let types = archive.entries.map(\.array.dataType)
        #expect(types == [.int8, .int16, .int32, .uint16, .uint32, .uint64, .float32, .bool])
        func values(_ name: String) -> [Double] { archive[name]!.tensor(as: Double.self).scalars }
        #expect(values("i1") == [-128, 127])
        #expect(values("i2") == [-32768, 32767])
        #expect(values("i4") == [-2_147_483_648, 2_147_483_647])
        #expect(values("u2") == [0, 65535])
        #expect(values("u4") == [0, 4_294_967_295])
        #expect(values("u8") == [0, 9_007_199_254_740_992])
        #expect(archive["f4"]?.tensor(as: Float.self) == Tensor([0.5, -1e-3]))
        #expect(archive["b1"]?.shape == [2, 1])
        #expect(values("b1") == [0, 1])
    }

    @Test func readsNumPySavezCompressed() throws {
        let data = fixture(NumPyFixtures.savezCompressed)
        #expect(data[8] == 8)  // method 8: DEFLATE
        let archive = try NumPyArchive(zipData: data, path: "compressed.npz")
        #expect(archive.names == ["x", "y"])
        let x = (0..<3000).map { Double($0 * 7919 % 1000) / 8 }
        let y = (0..<2000).map { Double($0 * $0 % 251) }
        #expect(archive["x"]?.tensor(as: Double.self) == Tensor(x))
        #expect(archive["y"]?.dataType == .uint8)
        #expect(archive["y"]?.tensor(as: Double.self) == Tensor(y))
    }

    @Test func readsZip64EndRecords() throws {
        let data = fixture(NumPyFixtures.savezZip64EndRecord)
        let archive = try NumPyArchive(zipData: data)
        #expect(archive.names == ["a", "b"])
        #expect(archive["a"]?.tensor(as: Double.self) == Tensor([1, 2]))
        #expect(archive["b"]?.tensor(as: Double.self) == Tensor([[7]]))
    }

    // MARK: Errors

    @Test func notAZipArchive() {
        for bytes in [[], Array("just some text that is long enough to search".utf8)] as [[UInt8]] {
            let error = archiveError(Data(bytes))
            #expect(error == NumPyError(.notZipArchive, path: "a.npz"))
        }
        let npy = archiveError(fixture(NumPyFixtures.float64C))
        #expect(npy?.description == "a.npz: not a .npz (ZIP) archive: no end-of-central-directory record")
    }

    @Test func truncatedArchives() {
        let data = fixture(NumPyFixtures.savez)
        let cut = archiveError(data.prefix(data.count / 2))
        guard case .truncatedArchive(let what) = cut?.problem else {
            Issue.record("\(String(describing: cut))")
            return
        }
        #expect(what.contains("end-of-central-directory"))
        // Every prefix fails cleanly.
        for length in stride(from: 0, to: data.count, by: 7) {
            #expect(throws: NumPyError.self) { try NumPyArchive(zipData: data.prefix(length)) }
        }
        // A central directory pointing past the end.
        var bytes = [UInt8](data)
        bytes[bytes.count - 6] = 0xF0  // central directory offset, low byte of the high half
        bytes[bytes.count - 5] = 0x0F
        let pastEnd = archiveError(Data(bytes))
        guard case .truncatedArchive(let message) = pastEnd?.problem else {
            Issue.record("\(String(describing: pastEnd))")
            return
        }
        #expect(message.contains("central directory"))
    }

    /// The archive of `archive` with `body` applied to its bytes.
    private func patched(_ archive: NumPyArchive, _ body: (inout [UInt8]) -> Void) -> Data {
        var bytes = archive.zipBytes()
        body(&bytes)
        return Data(bytes)
    }

    /// Offsets of a 4-byte little-endian signature in `bytes`.
    private func offsets(of signature: UInt32, in bytes: [UInt8]) -> [Int] {
        (0..<max(bytes.count - 3, 0)).filter { offset in
            (0..<4).allSatisfy { bytes[offset + $0] == UInt8(truncatingIfNeeded: signature >> (8 * UInt32($0))) }
        }
    }

    @Test func unsupportedCompressionMethodIsNamed() {
        let archive = NumPyArchive(["w": NumPyArray(bytes: [1, 2, 3])])
        let data = patched(archive) { bytes in
            for offset in offsets(of: 0x0201_4B50, in: bytes) { bytes[offset + 10] = 12 }
            for offset in offsets(of: 0x0403_4B50, in: bytes) { bytes[offset + 8] = 12 }
        }
        let error = archiveError(data)
        #expect(error == NumPyError(.unsupportedCompression(method: 12), path: "a.npz", entry: "w.npy"))
        #expect(error?.description.contains("a.npz, entry 'w.npy': unsupported compression method 12 (BZIP2)") == true)
    }

    @Test func corruptDeflateStream() {
        var bytes = [UInt8](fixture(NumPyFixtures.savezCompressed))
        // The first entry's data starts after its local header; make its first block type 3.
        let start = 30 + Int(bytes[26]) + Int(bytes[27]) << 8 + Int(bytes[28]) + Int(bytes[29]) << 8
        bytes[start] |= 0b110
        let error = archiveError(Data(bytes))
        guard case .corruptDeflateStream(let message) = error?.problem else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(message.contains("invalid block type 3"))
        #expect(error?.entry == "x.npy")
        #expect(error?.description.hasPrefix("a.npz, entry 'x.npy': corrupt DEFLATE data: invalid block type 3") == true)
    }

    @Test func crcMismatch() {
        var bytes = [UInt8](fixture(NumPyFixtures.savez))
        bytes[200] ^= 0x01  // inside the first entry's array data
        let error = archiveError(Data(bytes))
        guard case .crcMismatch(let expected, let actual) = error?.problem else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(expected != actual)
        #expect(error?.entry == "weights.npy")
        #expect(error?.description.contains("CRC-32 mismatch: the archive records 0x") == true)

        // Every single-bit error in a compressed archive is caught, never a crash.
        let compressed = [UInt8](fixture(NumPyFixtures.savezCompressed))
        for offset in stride(from: 0, to: compressed.count, by: 3) {
            var damaged = compressed
            damaged[offset] ^= 1 << UInt8(offset % 8)
            _ = try? NumPyArchive(zipData: Data(damaged))
        }
    }

    @Test func entriesMustBeNpyFiles() {
        let archive = NumPyArchive(["w": NumPyArray(bytes: [1])])
        let data = patched(archive) { bytes in
            for offset in (0..<bytes.count - 4) where Array(bytes[offset..<offset + 5]) == Array("w.npy".utf8) {
                bytes.replaceSubrange(offset..<offset + 5, with: Array("w.txt".utf8))
            }
        }
        let error = archiveError(data)
        #expect(error == NumPyError(.notNpyEntry("w.txt"), path: "a.npz", entry: "w.txt"))
        #expect(error?.description.contains("'w.txt' is not a .npy file") == true)
    }

    @Test func entryContentErrorsNameTheEntry() {
        var archive = NumPyArchive(["good": NumPyArray(bytes: [1])])
        archive.entries.append(.init(name: "bad", array: NumPyArray(bytes: [2])))
        // Damage the .npy magic of the second entry and fix up its CRC.
        let data = patched(archive) { bytes in
            let local = offsets(of: 0x0403_4B50, in: bytes)[1]
            let start = local + 30 + "bad.npy".utf8.count
            bytes[start + 1] = UInt8(ascii: "X")
            let size = Int(bytes[local + 18]) | Int(bytes[local + 19]) << 8
            let crc = crc32(bytes[start..<start + size])
            for target in [local + 14, offsets(of: 0x0201_4B50, in: bytes)[1] + 16] {
                for index in 0..<4 { bytes[target + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
            }
        }
        let error = archiveError(data)
        #expect(error == NumPyError(.notNumPyFile, path: "a.npz", entry: "bad.npy"))
    }

    @Test func unsupportedArchiveFeatures() {
        let archive = NumPyArchive(["w": NumPyArray(bytes: [1])])
        let encrypted = patched(archive) { bytes in
            for offset in offsets(of: 0x0201_4B50, in: bytes) { bytes[offset + 8] |= 1 }
        }
        #expect(archiveError(encrypted)?.problem == .unsupportedArchiveFeature("encrypted entries"))
        let split = patched(archive) { bytes in bytes[bytes.count - 18] = 1 }  // disk number
        #expect(archiveError(split)?.problem == .unsupportedArchiveFeature("archives split over several disks"))
    }

    @Test func localHeadersMustMatchTheCentralDirectory() throws {
        let renamed = try malformedFixture("npz-central-name-differs-from-local.npz")
        let error = #expect(throws: NumPyError.self) { try NumPyArchive(contentsOf: renamed) }
        #expect(error == NumPyError(.entryNameMismatch(central: "y.npy", local: "x.npy"), path: renamed.path, entry: "y.npy"))
        #expect(error?.description.hasSuffix("the central directory names the entry 'y.npy', its local header 'x.npy'") == true)

        // 200 central records pointing at one 16 MiB entry: the first is refused before anything is
        // decoded.
        let shared = try malformedFixture("npz-200-entries-share-one-16MiB-entry.npz")
        let sharedError = #expect(throws: NumPyError.self) { try NumPyArchive(contentsOf: shared) }
        #expect(
            sharedError == NumPyError(.entryNameMismatch(central: "a0.npy", local: "k.npy"), path: shared.path, entry: "a0.npy"))
    }

    @Test func overlappingEntriesAreRefused() {
        // The first entry's recorded size made to reach into the second entry.
        let archive = NumPyArchive(["a": NumPyArray(bytes: [1, 2]), "b": NumPyArray(bytes: [3, 4])])
        let data = patched(archive) { bytes in
            let central = offsets(of: 0x0201_4B50, in: bytes)[0]
            bytes[central + 21] = 1  // compressed size + 256
        }
        let error = archiveError(data)
        #expect(error == NumPyError(.overlappingEntries("a.npy", "b.npy"), path: "a.npz", entry: "b.npy"))
        #expect(error?.description == "a.npz, entry 'b.npy': the data of entries 'a.npy' and 'b.npy' overlap")
    }

    @Test func recordedSizesMustMatchTheDecodedData() throws {
        // 160 bytes that the archive records as 4,294,967,294: the output grows with the data decoded.
        let declared = try malformedFixture("npz-entry-declares-4GiB.npz")
        let error = #expect(throws: NumPyError.self) { try NumPyArchive(contentsOf: declared) }
        #expect(
            error
                == NumPyError(.entrySizeMismatch(recorded: 4_294_967_294, decoded: 160), path: declared.path, entry: "x.npy"))
        #expect(
            error?.description.hasSuffix("entry 'x.npy': the data decodes to 160 bytes, the archive records 4294967294") == true)

        // More data than recorded.
        var bytes = [UInt8](fixture(NumPyFixtures.savezCompressed))
        let central = offsets(of: 0x0201_4B50, in: bytes)[0]
        bytes.replaceSubrange(central + 24..<central + 28, with: [100, 0, 0, 0])
        let tooMuch = archiveError(Data(bytes))
        #expect(tooMuch == NumPyError(.entrySizeMismatch(recorded: 100, decoded: nil), path: "a.npz", entry: "x.npy"))
        #expect(tooMuch?.description.contains("decodes to more than the 100 bytes the archive records") == true)
    }

    @Test func endRecordCountsDoNotDropEntries() throws {
        // The end record counts 1 entry; the directory it sizes holds 2, and both are read (as NumPy does).
        let archive = try NumPyArchive(contentsOf: malformedFixture("npz-end-record-counts-1-of-2.npz"))
        #expect(archive.names == ["x", "y"])
        #expect(archive["x"]?.tensor(as: Double.self) == Tensor([0, 1, 2, 3]))
        #expect(archive["y"]?.tensor(as: Double.self) == Tensor([0, 1, 2, 3]))
    }

    @Test func namesWithoutTheUTF8FlagAreCP437() throws {
        func renamed(_ name: [UInt8]) -> Data {
            patched(NumPyArchive(["wxy": NumPyArray(bytes: [1])])) { bytes in
                for offset in (0..<bytes.count - 2) where Array(bytes[offset..<offset + 3]) == Array("wxy".utf8) {
                    bytes.replaceSubrange(offset..<offset + 3, with: name)
                }
            }
        }
        // 0x81 is ü, 0xE1 ß (Latin-1 would give á), 0xFF a no-break space; valid UTF-8 (C3 BC) without
        // the flag is still CP437.
        #expect(try NumPyArchive(zipData: renamed([0x81, 0xE1, 0xFF])).names == ["üß\u{A0}"])
        #expect(try NumPyArchive(zipData: renamed([0x61, 0xC3, 0xBC])).names == ["a├╝"])
        #expect(try NumPyArchive(zipData: renamed([0xB0, 0xDB, 0xF8])).names == ["░█°"])
    }

    @Test func malformedCentralDirectory() {
        let archive = NumPyArchive(["w": NumPyArray(bytes: [1])])
        let badSignature = patched(archive) { bytes in
            bytes[offsets(of: 0x0201_4B50, in: bytes)[0]] = 0
        }
        guard case .malformedArchive(let message) = archiveError(badSignature)?.problem else {
            Issue.record("expected a malformed archive")
            return
        }
        #expect(message.contains("bad signature of central directory header 1"))
        let badLocal = patched(archive) { bytes in bytes[0] = 0 }
        #expect(archiveError(badLocal)?.problem == .malformedArchive("no local file header at offset 0"))
    }

    // MARK: Files and bytes

    /// The archive that `read` returns, or the error it throws.
    private func outcome(_ read: () throws(NumPyError) -> NumPyArchive) -> Result<NumPyArchive, NumPyError> {
        do {
            return .success(try read())
        } catch {
            return .failure(error)
        }
    }

    /// Reading a file, which reads its pieces as they are needed, gives what decoding its bytes
    /// gives: the same entries or the same error (except that a file must start with a ZIP
    /// signature, as `numpy.load` requires).
    @Test func filesReadAsTheirBytesDecode() throws {
        let small = NumPyArchive(["a": NumPyArray(Tensor<Float>([1, 2])), "b": NumPyArray(bytes: [3])])
        var samples: [(name: String, bytes: [UInt8])] = [
            ("savez", [UInt8](fixture(NumPyFixtures.savez))),
            ("savez-all-types", [UInt8](fixture(NumPyFixtures.savezAllTypes))),
            ("savez-compressed", [UInt8](fixture(NumPyFixtures.savezCompressed))),
            ("savez-zip64-end-record", [UInt8](fixture(NumPyFixtures.savezZip64EndRecord))),
            ("small-zip64", small.zipBytes(forceZip64: true)),
            ("streaming", Self.streamingSample().zipBytes()),
            ("streaming-zip64", Self.streamingSample().zipBytes(forceZip64: true)),
            ("empty", NumPyArchive().zipBytes()),
            ("npy", [UInt8](fixture(NumPyFixtures.float64C))),
        ]
        for name in [
            "npz-200-entries-share-one-16MiB-entry.npz", "npz-central-name-differs-from-local.npz",
            "npz-end-record-counts-1-of-2.npz", "npz-entry-declares-4GiB.npz", "checkpoint-adam-step-1e30.npz",
        ] {
            samples.append((name, [UInt8](try Data(contentsOf: malformedFixture(name)))))
        }
        let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../../Examples/Fuzz/Seeds")
        let seedNames = try FileManager.default.contentsOfDirectory(atPath: seeds.path).filter { $0.hasSuffix(".npz") }.sorted()
        #expect(seedNames.count >= 4)
        for name in seedNames {
            samples.append((name, [UInt8](try Data(contentsOf: seeds.appendingPathComponent(name)))))
        }
        // Damaged copies: cut short, and with single bytes changed across headers and data.
        for (name, bytes) in samples.prefix(5) {
            for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) {
                samples.append(("\(name)-cut-\(length)", Array(bytes.prefix(length))))
            }
            for offset in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 60)) {
                var damaged = bytes
                damaged[offset] ^= 0x41
                samples.append(("\(name)-damaged-\(offset)", damaged))
            }
        }

        let directory = try IOTestDirectory()
        defer { directory.remove() }
        var successes = 0
        for (index, sample) in samples.enumerated() {
            let file = directory.url.appendingPathComponent("\(index).npz")
            try Data(sample.bytes).write(to: file)
            let fromBytes = outcome { () throws(NumPyError) in try NumPyArchive(zipData: Data(sample.bytes), path: file.path) }
            let fromFile = outcome { () throws(NumPyError) in try NumPyArchive(contentsOf: file) }
            let signed = [[0x50, 0x4B, 0x03, 0x04], [0x50, 0x4B, 0x05, 0x06]].contains(Array(sample.bytes.prefix(4)))
            let expected = signed ? fromBytes : .failure(NumPyError(.notZipArchive, path: file.path))
            #expect(fromFile == expected, "\(sample.name)")
            if case .success = fromFile { successes += 1 }
        }
        // Valid archives of every kind were among them, not only errors.
        #expect(successes >= 15)
    }

    /// A file cut short after it was opened is a read error, not a crash or a short entry.
    @Test func readsOfAShrunkFileFail() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("x.npz")
        try Data(Self.streamingSample().zipBytes()).write(to: url)
        let file = try ReadableFile(at: url)
        #expect(try file.read(0..<4) == [0x50, 0x4B, 0x03, 0x04])
        #expect(truncate(url.path, 10) == 0)
        let error = #expect(throws: IOError.self) { try file.read(4..<20) }
        #expect(error?.path == url.path)
        #expect(error?.description.contains("ends at byte 10, before byte 20") == true)
        #expect(try file.read(8..<8) == [])
    }
}

/// The memory reading a large stored archive takes, for a measurement by hand: with
/// `NPZ_MEMORY_MB=400`, writes a stored archive of one `float64` array of that many megabytes
/// (streamed, so writing holds none of it) and reads it back, so that the process's peak resident
/// set is the array plus what reading costs, e.g. `NPZ_MEMORY_MB=400 /usr/bin/time -v
/// .build/debug/RNNODEPackageTests.xctest --testing-library swift-testing --filter
/// IONumPyArchiveMemoryTests` ("Maximum resident set size").
@Suite struct IONumPyArchiveMemoryTests {
    static let megabytes = ProcessInfo.processInfo.environment["NPZ_MEMORY_MB"].flatMap { Int($0) }

    @Test(.enabled(if: megabytes != nil)) func readLargeStoredArchive() throws {
        let directory = try IOTestDirectory()
        defer { directory.remove() }
        let count = (Self.megabytes ?? 0) * 125_000
        var entry = NumPyArchive.StreamedEntry(name: "x", tensor: Tensor<Double>([0]))
        entry.npyHeader = NumPyArray.npyHeader(shape: [count], dataType: .float64)
        entry.elements = .encoded(count: count, size: 8) { indices, target in
            for (slot, index) in indices.enumerated() {
                target.storeBytes(of: Double(index & 0xFFFF).bitPattern.littleEndian, toByteOffset: 8 * slot, as: UInt64.self)
            }
        }
        let url = directory.url.appendingPathComponent("large.npz")
        try NumPyArchive.write([entry], to: url)
        let archive = try NumPyArchive(contentsOf: url)
        #expect(archive.names == ["x"])
        #expect(archive["x"]?.shape == [count])
        #expect(archive["x"]?.elementBytes.count == count * 8)
    }
}

@Suite struct IOInflateTests {
    private static let text = (0..<300).map { "line \($0): value \($0 * $0 % 97)\n" }.joined()

    @Test func crc32MatchesTheCheckValue() {
        #expect(crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(crc32([UInt8]()) == 0)
        let data = Array(Self.text.utf8)
        #expect(crc32(data[100...], continuing: crc32(data[..<100])) == crc32(data))
    }

    @Test func storedFixedDynamicAndMultipleBlocks() throws {
        #expect(try inflate([UInt8](fixture(NumPyFixtures.deflateStored))) == Array("stored block, level 0".utf8))
        let fox = String(repeating: "the quick brown fox ", count: 10)
        #expect(try inflate([UInt8](fixture(NumPyFixtures.deflateFixed))) == Array(fox.utf8))
        #expect(try inflate([UInt8](fixture(NumPyFixtures.deflateDynamic))) == Array(Self.text.utf8))
        #expect(try inflate([UInt8](fixture(NumPyFixtures.deflateMultiBlock))) == Array(Self.text.utf8))
    }

    @Test func handMadeStoredBlocks() throws {
        // Two stored blocks, then an empty final one.
        let stream: [UInt8] = [0x00, 2, 0, 0xFD, 0xFF, 0x68, 0x69, 0x00, 1, 0, 0xFE, 0xFF, 0x21, 0x01, 0, 0, 0xFF, 0xFF]
        #expect(try inflate(stream) == Array("hi!".utf8))
        #expect(try inflate([0x01, 0, 0, 0xFF, 0xFF]) == [])
        #expect(try inflate([0x03, 0x00]) == [])  // an empty fixed-Huffman block
    }

    @Test func truncatedStreamsThrow() {
        for stream in [NumPyFixtures.deflateStored, NumPyFixtures.deflateFixed, NumPyFixtures.deflateDynamic] {
            let bytes = [UInt8](fixture(stream))
            for length in 0..<bytes.count {
                let error = #expect(throws: InflateError.self) { try inflate(Array(bytes.prefix(length))) }
                #expect(error?.message.isEmpty == false)
            }
        }
        let error = #expect(throws: InflateError.self) {
            try inflate([UInt8](fixture(NumPyFixtures.deflateDynamic)).dropLast(1).map { $0 })
        }
        #expect(error?.message == "the DEFLATE stream is truncated")
    }

    @Test func corruptStreamsThrowOrDecodeWithoutCrashing() {
        let bytes = [UInt8](fixture(NumPyFixtures.deflateDynamic))
        var failures = 0
        for offset in 0..<bytes.count {
            var damaged = bytes
            damaged[offset] ^= 1 << UInt8(offset % 8)
            do {
                let output = try inflate(damaged, maximumSize: 20_000)
                #expect(output.count <= 20_000)
            } catch {
                failures += 1
            }
        }
        #expect(failures > bytes.count / 4)
        // Pseudo-random garbage.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<300 {
            let garbage = (0..<200).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            _ = try? inflate(garbage, maximumSize: 100_000)
        }
    }

    @Test func theSizeHintDoesNotSizeTheOutput() throws {
        // A hint of 4 GiB for a stream of a few bytes costs no more than the stream can decode to.
        let stream = [UInt8](fixture(NumPyFixtures.deflateFixed))
        let output = try inflate(stream, sizeHint: 4_294_967_294)
        #expect(output == Array(String(repeating: "the quick brown fox ", count: 10).utf8))
        #expect(output.capacity <= stream.count * 1032 + 64)
        // A right hint is used as it is.
        let text = try inflate([UInt8](fixture(NumPyFixtures.deflateDynamic)), sizeHint: Self.text.utf8.count)
        #expect(text.capacity < Self.text.utf8.count + 64)
    }

    @Test func outputLimit() {
        let bytes = [UInt8](fixture(NumPyFixtures.deflateDynamic))
        let error = #expect(throws: InflateError.self) { try inflate(bytes, maximumSize: 100) }
        #expect(error?.message.contains("more than the expected 100 bytes") == true)
        #expect(throws: InflateError.self) { try inflate([UInt8](fixture(NumPyFixtures.deflateStored)), maximumSize: 5) }
    }

    /// Writes DEFLATE bits: fields least significant bit first, Huffman codes most significant first.
    private struct BitWriter {
        var bytes: [UInt8] = []
        var bitCount = 0

        mutating func write(_ value: Int, bits: Int) {
            for bit in 0..<bits {
                if bitCount % 8 == 0 { bytes.append(0) }
                if value & (1 << bit) != 0 { bytes[bytes.count - 1] |= UInt8(1 << (bitCount % 8)) }
                bitCount += 1
            }
        }

        mutating func code(_ code: Int, length: Int) {
            for bit in (0..<length).reversed() { write(code >> bit & 1, bits: 1) }
        }

        /// A fixed-Huffman literal/length symbol.
        mutating func fixed(_ symbol: Int) {
            switch symbol {
            case 0..<144: code(0b0011_0000 + symbol, length: 8)
            case 144..<256: code(0b1_1001_0000 + symbol - 144, length: 9)
            case 256..<280: code(symbol - 256, length: 7)
            default: code(0b1100_0000 + symbol - 280, length: 8)
            }
        }
    }

    private func inflateError(_ writer: BitWriter) -> String? {
        let error = #expect(throws: InflateError.self) { try inflate(writer.bytes + [0, 0, 0, 0]) }
        return error?.message
    }

    @Test func handMadeFixedBlock() throws {
        var writer = BitWriter()
        writer.write(1, bits: 1)
        writer.write(1, bits: 2)
        for byte in "abc".utf8 { writer.fixed(Int(byte)) }
        writer.fixed(258)  // length 4
        writer.code(2, length: 5)  // distance 3
        writer.fixed(256)
        #expect(try inflate(writer.bytes) == Array("abcabca".utf8))
    }

    @Test func invalidSymbolsAndDistances() {
        var tooFar = BitWriter()
        tooFar.write(1, bits: 1)
        tooFar.write(1, bits: 2)
        tooFar.fixed(Int(UInt8(ascii: "a")))
        tooFar.fixed(257)  // length 3
        tooFar.code(1, length: 5)  // distance 2, but only 1 byte so far
        #expect(inflateError(tooFar)?.contains("reaches before the start of the output") == true)

        var badLength = BitWriter()
        badLength.write(1, bits: 1)
        badLength.write(1, bits: 2)
        badLength.fixed(286)
        #expect(inflateError(badLength) == "invalid length code 286")

        var badDistance = BitWriter()
        badDistance.write(1, bits: 1)
        badDistance.write(1, bits: 2)
        badDistance.fixed(Int(UInt8(ascii: "a")))
        badDistance.fixed(257)
        badDistance.code(30, length: 5)
        #expect(inflateError(badDistance) == "invalid distance code 30")

        var reserved = BitWriter()
        reserved.write(1, bits: 1)
        reserved.write(3, bits: 2)
        #expect(inflateError(reserved) == "invalid block type 3")

        let badComplement: [UInt8] = [0x01, 2, 0, 0xFD, 0xFE, 0x68, 0x69]
        let error = #expect(throws: InflateError.self) { try inflate(badComplement) }
        #expect(error?.message.contains("does not match its complement") == true)
    }

    /// A dynamic block header with the given counts and code-length code lengths.
    private func dynamicHeader(literals: Int = 257, distances: Int = 1, codeLengthLengths: [Int]) -> BitWriter {
        var writer = BitWriter()
        writer.write(1, bits: 1)
        writer.write(2, bits: 2)
        writer.write(literals - 257, bits: 5)
        writer.write(distances - 1, bits: 5)
        writer.write(codeLengthLengths.count - 4, bits: 4)
        for length in codeLengthLengths { writer.write(length, bits: 3) }
        return writer
    }

    @Test func invalidCodeLengths() {
        // Over-subscribed code-length code: 19 codes of length 1.
        let overSubscribed = dynamicHeader(codeLengthLengths: [Int](repeating: 1, count: 19))
        #expect(inflateError(overSubscribed)?.contains("invalid code length code: over-subscribed") == true)
        // Incomplete code-length code: a single code of length 2.
        let incomplete = dynamicHeader(codeLengthLengths: [0, 0, 0, 2])
        #expect(inflateError(incomplete)?.contains("invalid code length code: incomplete") == true)
        // Too many codes.
        #expect(
            inflateError(dynamicHeader(literals: 287, codeLengthLengths: [1, 1, 0, 0]))?.contains(
                "too many literal/length codes (287)") == true)
        #expect(
            inflateError(dynamicHeader(distances: 31, codeLengthLengths: [1, 1, 0, 0]))?.contains("too many distance codes (31)")
                == true)

        // Code-length code where symbol 16 (repeat) is "0" and 17 (zeros) is "1" (order 16, 17, 18, 0…).
        var repeatFirst = dynamicHeader(codeLengthLengths: [1, 1, 0, 0])
        repeatFirst.code(0, length: 1)  // 16 with no previous length
        #expect(inflateError(repeatFirst)?.contains("no previous length") == true)

        // Zeros for everything (17 repeats), so the end-of-block code has no length.
        var noEndOfBlock = dynamicHeader(codeLengthLengths: [1, 0, 1, 0])  // 16: "0", 18: "1"
        for _ in 0..<2 {
            noEndOfBlock.code(1, length: 1)
            noEndOfBlock.write(138 - 11, bits: 7)
        }
        #expect(inflateError(noEndOfBlock)?.contains("code length repeat runs past") == true)

        var missingEndOfBlock = dynamicHeader(codeLengthLengths: [1, 0, 1, 0])
        missingEndOfBlock.code(1, length: 1)
        missingEndOfBlock.write(138 - 11, bits: 7)
        missingEndOfBlock.code(1, length: 1)
        missingEndOfBlock.write(120 - 11, bits: 7)  // 258 zeros in all: every literal/length and the distance
        #expect(inflateError(missingEndOfBlock)?.contains("no end-of-block code") == true)

        // Over-subscribed literal/length code: lengths 1, 1, 1 (code-length symbols 1 = "0", 0 = "1").
        var overLiterals = dynamicHeader(codeLengthLengths: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        for _ in 0..<258 { overLiterals.code(1, length: 1) }
        #expect(inflateError(overLiterals)?.contains("over-subscribed") == true)
    }
}

/// The bytes of a base64 fixture.
private func fixture(_ base64: String) -> Data {
    Data(base64Encoded: base64, options: .ignoreUnknownCharacters)!
}

/// Files made with numpy 2.4 (`np.save`, `np.savez`, `np.savez_compressed`) and raw DEFLATE streams
/// from Python's zlib, base64-encoded.
private enum NumPyFixtures {
    /// np.save(np.array([[0.1, -2.5, 1e-300], [3.0, -0.0, 12345.678]])) (176 bytes)
    static let float64C = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqamZmZmZm5PwAAAAAAAATAWfP4wh9u
        pQEAAAAAAAAIQAAAAAAAAACAWDm0yNYcyEA=
        """
    /// np.save(np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / np.float32(7))) (224 bytes)
    static let float32Fortran = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMywgNCksIH0gICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAt23bPyVJEj8lSRJAJUmSP27b
        NkAlSRI+27btP27bNj+3bRtASZKkPwAAQEAlSZI+AAAAQLdtWz9JkiRAbtu2P5IkSUC3bds+kiQJQAAAgD/bti1AkiTJPyVJUkA=
        """
    /// np.save(np.array([1.5, -2.25, np.pi], dtype='>f8')) (152 bytes)
    static let float64BigEndian = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/+AAAAAAAAMACAAAAAAAAQAkh+1RE
        LRg=
        """
    /// np.save(np.array([[-3, 0], [2**40, 7]], dtype=np.int64)) (160 bytes)
    static let int64 = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr9/////////wAAAAAAAAAAAAAAAAAB
        AAAHAAAAAAAAAA==
        """
    /// np.save(np.array([True, False, True])) (131 bytes)
    static let boolVector = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=
        """
    /// np.save(np.array(2.5)) (136 bytes)
    static let zeroDimensional = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAEQA==
        """
    /// np.save(np.zeros((0, 3), dtype=np.float32)) (128 bytes)
    static let emptyFloat32 = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsIDMpLCB9ICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=
        """
    /// np.save(np.frombuffer(b'{"epochs": 10}', dtype=np.uint8)) (142 bytes)
    static let uint8Text = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDE0LCksIH0gICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAp7ImVwb2NocyI6IDEwfQ==
        """
    /// np.lib.format.write_array(f, np.array([1.0, 2.0]), version=(2, 0)) (144 bytes)
    static let version2 = """
        k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADwPwAAAAAAAABA
        """
    /// np.lib.format.write_array(f, np.array([[1, 2]], dtype=np.int16), version=(3, 0)) (132 bytes)
    static let version3 = """
        k05VTVBZAwB0AAAAeydkZXNjcic6ICc8aTInLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMSwgMiksIH0gICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAIA
        """
    /// np.save(np.asfortranarray(np.arange(6, dtype='>i4').reshape(2, 3) - 2)) (152 bytes)
    static let bigEndianInt32Fortran = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr+////AQAAAP////8CAAAAAAAAAAMA
        AAA=
        """
    /// np.save(np.array([1+2j])) (144 bytes)
    static let complex128 = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnPGMxNicsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgxLCksIH0gICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADwPwAAAAAAAABA
        """
    /// np.save(np.array([None, 1], dtype=object), allow_pickle=True) (280 bytes)
    static let objectArray = """
        k05VTVBZAQB2AHsnZGVzY3InOiAnfE8nLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqABJWNAAAAAAAAAIwWbnVtcHkuX2Nv
        cmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsBSwKFlGgDjAVk
        dHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlChOSwFldJRiLg==
        """
    /// np.save(np.zeros(2, dtype=[('a', '<f4'), ('b', '<i8')])) (152 bytes)
    static let structured = """
        k05VTVBZAQB2AHsnZGVzY3InOiBbKCdhJywgJzxmNCcpLCAoJ2InLCAnPGk4JyldLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAn
        c2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
        AAA=
        """
    /// np.savez(f, i1=[-128, 127] int8, i2=[-32768, 32767] int16, i4=[-2**31, 2**31-1] int32,
    /// u2=[0, 65535] uint16, u4=[0, 2**32-1] uint32, u8=[0, 2**53] uint64, f4=[0.5, -1e-3] float32,
    /// b1=[[False], [True]]) (1962 bytes)
    static let savezAllTypes = """
        UEsDBC0AAAAAAAAAIQBFgdSq//////////8GABQAaTEubnB5AQAQAIIAAAAAAAAAggAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6
        ICd8aTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCoB/UEsDBC0AAAAAAAAAIQAlvaQC//////////8GABQAaTIubnB5AQAQ
        AIQAAAAAAAAAhAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8aTInLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUn
        OiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgCA/39Q
        SwMELQAAAAAAAAAhAE8i7Mn//////////wYAFABpNC5ucHkBABAAiAAAAAAAAACIAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzog
        JzxpNCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAgP///39QSwMELQAAAAAAAAAhAJaakan//////////wYAFAB1Mi5u
        cHkBABAAhAAAAAAAAACEAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzx1MicsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdz
        aGFwZSc6ICgyLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAK
        AAD//1BLAwQtAAAAAAAAACEAWkKyff//////////BgAUAHU0Lm5weQEAEACIAAAAAAAAAIgAAAAAAAAAk05VTVBZAQB2AHsnZGVz
        Y3InOiAnPHU0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAA/////1BLAwQtAAAAAAAAACEA49/EOv//////////BgAU
        AHU4Lm5weQEAEACQAAAAAAAAAJAAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnPHU4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxz
        ZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg
        ICAgIAoAAAAAAAAAAAAAAAAAACAAUEsDBC0AAAAAAAAAIQCDnjrI//////////8GABQAZjQubnB5AQAQAIgAAAAAAAAAiAAAAAAA
        AACTTlVNUFkBAHYAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgAAAD9vEoO6UEsDBC0AAAAAAAAA
        IQAjbWIJ//////////8GABQAYjEubnB5AQAQAIIAAAAAAAAAggAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICd8YjEnLCAnZm9y
        dHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMSksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgCgABUEsBAi0DLQAAAAAAAAAhAEWB1KqCAAAAggAAAAYAAAAAAAAAAAAAAIABAAAAAGkxLm5w
        eVBLAQItAy0AAAAAAAAAIQAlvaQChAAAAIQAAAAGAAAAAAAAAAAAAACAAboAAABpMi5ucHlQSwECLQMtAAAAAAAAACEATyLsyYgA
        AACIAAAABgAAAAAAAAAAAAAAgAF2AQAAaTQubnB5UEsBAi0DLQAAAAAAAAAhAJaakamEAAAAhAAAAAYAAAAAAAAAAAAAAIABNgIA
        AHUyLm5weVBLAQItAy0AAAAAAAAAIQBaQrJ9iAAAAIgAAAAGAAAAAAAAAAAAAACAAfICAAB1NC5ucHlQSwECLQMtAAAAAAAAACEA
        49/EOpAAAACQAAAABgAAAAAAAAAAAAAAgAGyAwAAdTgubnB5UEsBAi0DLQAAAAAAAAAhAIOeOsiIAAAAiAAAAAYAAAAAAAAAAAAA
        AIABegQAAGY0Lm5weVBLAQItAy0AAAAAAAAAIQAjbWIJggAAAIIAAAAGAAAAAAAAAAAAAACAAToFAABiMS5ucHlQSwUGAAAAAAgA
        CACgAQAA9AUAAAAA
        """
    /// np.savez(f, weights=(the float64C array), labels=np.array([3, 1, 4, 1, 5], dtype=np.int32),
    /// metadata=uint8 bytes of '{"epochs": 10}') (842 bytes)
    static let savez = """
        UEsDBC0AAAAAAAAAIQAwEczZ//////////8LABQAd2VpZ2h0cy5ucHkBABAAsAAAAAAAAACwAAAAAAAAAJNOVU1QWQEAdgB7J2Rl
        c2NyJzogJzxmOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCAzKSwgfSAgICAgICAgICAgICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKmpmZmZmZuT8AAAAAAAAEwFnz+MIfbqUBAAAAAAAACEAAAAAA
        AAAAgFg5tMjWHMhAUEsDBC0AAAAAAAAAIQAHdGjZ//////////8KABQAbGFiZWxzLm5weQEAEACUAAAAAAAAAJQAAAAAAAAAk05V
        TVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDUsKSwgfSAgICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoDAAAAAQAAAAQAAAABAAAABQAAAFBLAwQt
        AAAAAAAAACEA2vo0Uv//////////DAAUAG1ldGFkYXRhLm5weQEAEACOAAAAAAAAAI4AAAAAAAAAk05VTVBZAQB2AHsnZGVzY3In
        OiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDE0LCksIH0gICAgICAgICAgICAgICAgICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAp7ImVwb2NocyI6IDEwfVBLAQItAy0AAAAAAAAAIQAwEczZsAAAALAA
        AAALAAAAAAAAAAAAAACAAQAAAAB3ZWlnaHRzLm5weVBLAQItAy0AAAAAAAAAIQAHdGjZlAAAAJQAAAAKAAAAAAAAAAAAAACAAe0A
        AABsYWJlbHMubnB5UEsBAi0DLQAAAAAAAAAhANr6NFKOAAAAjgAAAAwAAAAAAAAAAAAAAIABvQEAAG1ldGFkYXRhLm5weVBLBQYA
        AAAAAwADAKsAAACJAgAAAAA=
        """
    /// np.savez_compressed(f, x=((np.arange(3000) * 7919) % 1000) / 8,
    /// y=(np.arange(2000) ** 2 % 251).astype(np.uint8)) (3214 bytes; x uses dynamic, y fixed Huffman blocks)
    static let savezCompressed = """
        UEsDBC0AAAAIAAAAIQBMatfr//////////8FABQAeC5ucHkBABAAQF4AAAAAAABFCgAAAAAAAO3ZOawrZxUA4AmrCZvZzT48ludA
        gIGwmBDIYCCYJcEsgRu2TERe5AIR6wWhKyGkKW9pieaWU97Spcspb+nyllNQuKCwEEJXCCGC/+9I1FQU/2uO7vIf+3y5OT7znz89
        9fSTy2ceKH5f/OHu8/de+vX9u4+Wdx97YXb34fLuCy/e/93953777Iv3n7/3n+8/8dxvXrr38vdfWj23vvfy19NHqqp6+KGHyz+W
        /+u/B4v//rf7RX2K1c9SvPppiuXTKV7+MMXxUvxuisUTKR7rFPsvplh/ws/f4Pwvnft5ihdnfv6TFM9/JI/8++/J960Ut3N5v+x9
        fcb59zn/K+flXz2T4iD/2Y/l/UGKm6dSbL+d4vobXu+rKXafk/+j4s3j6TynBaee04zTltNUHTWnilP5NXEm78Pim53nNFVHx2mi
        jg2nkTqKJ9XNaZg7x6nl1L7feU4jdbScbuVfczrI33Pacuo4lY97/c/7vXA6JKeD/A2nG05LTtecak5rTg2nJaeWUx9Ob3GeU81p
        x6lSxxWnUh0Vp3KR4vjr8j2W4hB/Tx90nlOpjktOY3VccCrUceQ0cNpzajk1nNqPOffX5FSo45zTUf4Vp0H+M04dpw2nltPAqf2k
        +Fbfl/+M057TglPPacap4bTkVHNqONWfFUvnOc04bTlN1dFxmqij/H6K4++kWHzT++TUc6rv+vltcpqoY8NppI6W06386+gfnHpO
        W071l8RPyf925+VfczrI33C64bSM/sGp5bTm1HPqOBUfcp7TktM1p5rTjlOljiWnmlPFqdRnyy/IPxX/lZwqdVxxKtVxyWmsjgtO
        hT575DRw6jgVn1bnO5xXxwWnQh3nnI7yr6J/cNpy6jiVX3H+Eb/H6Sj/itMg/xmnPacFp5bTmlPDacmp5dSH0yuc59RzmnHacpqq
        o+NUcSr12fFcvkfl4VS8y3l1dJwm6thwGqmj5XTkNHDac2o5NZzaO84/62tOt/KvOR3kbzhtOXWcNpxaTgOn9iF1vNp5Tjeclpyu
        OdWcdpwaTktO9dz3OdWV15n4mtOOU6WOK06lOi45lfrsWJ8t9NmBU8+p/rDf53TJaayOC06FOs45DZz2nHpOW051zDcfd37kPKej
        /CtOg/xnnPacNpxaTuu51+PUcSre4zynPacFp57TjNOW05JTzaniVJtvyphvPuI8py2nqTo6ThN1bDiNon/os8fo45w6TkXMga93
        ntNIHS2nW/nXnA7y95y2nLq592++KWK+ea/znA7yN5xuOC05XXNqOa05NZw6Ti2nnlOxT332mlPNacepUsdVfN5F/+BU6rNjfbaI
        +Sac3uQ8p1Idl5zG6rjgVET/4DRw2s+9f05NzDfmwAtOhTrOOR3lX3Ea5N9y6jhtOBU+twdObcyBf05Og/xnnPacFpx6TrPoH5yW
        nGpOTcw35sB27DynGactp6k6Ok6T6B/67FifLfTZgVMff08fcJ7TRB0bTiN1tJxu5R847Tn1nBpOdcw3MQcek9Ot/GtOB/kbTjcx
        F0T/4NRyWnPqOdXmwMIceMNpyemaU81px6mK/sGp5lRxqs03Zcw35sAdp0odV5xKdVxyGsdzpD5b6LPHeP7i1HEqYg78e3Iaq+OC
        U6GOc05H+VfRPzhtOXXx/BXzjTmwfZvz8q84DfKfcdpzWkT/4LTm1HDqOLWcek57TgtOPacZpy2naTwfcao4lfrsWJ8tYr4Jp38m
        p6k6Ok4TdWw4jdTRcjpyGjjt4/mLUx/zsjlwpI6W0638a04H+ZvoH5w6Tpt4/vK5PXBqzYEH+RtON5yWnK451TH3c2o4LTnVnJqY
        b2IOfMDPOe04Veq44lSq45JTqc+O9dli7v1zamNefqffV8clp7E6LjgV6jiP/sFpz6mP5y9Odcw3d5z3uX3O6Sj/itMg/xmnjtOG
        U8tpHfc3nOqYA1/lPKc9pwWnntOM05bTklPNqZr72nxTxnxjDpxx2nKaqqPjNFHHhtNYny302WM8f3HqOBXmwAmnDaeROlpOt/Kv
        Oe059Zy2nLp4/or5JubA1zrP6SB/w+mG05LTNaeW05pTM/c6nNqYl9/tPKdrTjWnHadKHVecak4VpzLub8w3Rcw3nCpOV5xKdVxy
        GqvjglMR/YPTwGkfz1+c+nB60HlOhTrOOR3lX3Ea5N9y6jht5s773B7i78kcuOI0yH/Gac9pwanntObUcFrG/Q2nJuabmAP71Gd7
        TjNOW05TdXScJtE/9NmxPlvE/Q2nNubANzrPaaKODaeROlpOt/IPnPac+rn3z6mO+ca9acvpVv41p4P8DacbTh2nDac2nr849Zzq
        mAOH5HTDacnpmlPNacepiv7BqeZUxf1NzDdxH2gO3HGq1HHFqVTHJadx9A99ttBnj3Pvn1MX87I58JLTWB0XnAp1nHM6yr/n1HPa
        xvOX+aaM+SbmwL8kp6P8K06D/Gec9pwW0T84rTk1cX8T98txH+jedM9pwannNOO05TSN/sGp4lTG/Y35pojPbfemW05TdXScJurY
        cBpF/9Bnj5yGeP7i1Mb9cjj9LTmN1NFyupV/zekgfxP9g1PHaRPPXzHfxLxsDjzI33C64bTkdM2pjv7BqeG0jPsbTk04mQOvOdWc
        dpwqdVxxKuP/C06lPjvWZ4u4v4n75ZgD/5GcSnVcchqr44JToY7z6B+c9pz6eP6K+SbmZfemhTrOOR3lX3Ea5D+L/sFpw6mN5y9O
        fdwvmwMH+c847TktOPWcZvHfm9OSU82pivubmG9iDiyc57TlNFVHx2mijk3sv/TZQp89xvNX3C/HfaA5cKKODaeROlpOt/Kvo39w
        6jlt4/nLfFPGfHPHefnXnA7yN5xuOC05bTi1nNacmri/ifvlmANf6Tyna041px2nSh1Xsf/iVHEq56L5poj5xr1ppY4rTqU6LjmN
        1XER+y999shpiOcvTm3cL99x3nxzwalQxzmno/wrTj2nLaeO0yaev2K+CafXOM9pkP+M057TglMf+y9ODafl3Pvn1MR8Yw5ccOo5
        zThtOU3V0cX+i1Opz47j/sbn9hD3y+bAKaeO00QdG04jdbSx/+I0cNpz6uP5K+abmANf52tOt/KvOR3kbzjdxP6L04ZTO/e6cQ8f
        f0/uTRtON5yWnK451Zx2sf/itORUx/0Npzrmm5gD/cv7c6+X9+enmPfnfj/vz9P38/78FPP+3Pm8P0/58v78FPP+PMW8P3cu78/T
        +8z781PM+3P15P15inl/nr6f9+fpdfP+POXJ+/NTzPtzP8/781PM+/MU8/5czPvzU8z78xTz/lz+vD8/xbw/TzHvz1PM+/MU8/48
        xbw/dz7vz1PdeX9+inl/Lub9ecqX9+enmPfnXu8Vzuf9eTqf9+enkPfnzuf9eXqdvD9P+fL+PJ3P+/P0dd6fn2Len/t53p+n95/3
        56eY9+cp5v25953356eY9+fp67w/977y/jydz/vzU8z7c6+X9+epzrw/T7+X9+fp+3l/nt7P/8/+/N9QSwMELQAAAAgAAAAhANmc
        gPP//////////wUAFAB5Lm5weQEAEABQCAAAAAAAAF8BAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgXlNqqK6joJ6WX1RSlJgX
        n1+UkgoSd0vMKU4FihdnJBakAvkaRgYGBjqaOgq1CuQCLgZGFk4BSRVDh8CUygkrjzxkVfPMm7rvpbRX9brH8hGTL4iEzrirWbSX
        P249e8xmwZyTun0fow8ZzOateZt6K+y8/5mAi5H3sj43iy6xOpvOPMfmZq3ysQKZo6Xq13pcfm4tNv6wpcqJ5/LCQmfxFwdmlYWY
        iH29fXjtzPbyzNhgb1dHe3tHV+/g2Mzy9plrD9/+KmYSUjbrwAtx58KFl3mcqrZ8MC7e+tOl55p66VGZgmPKtTdt5jCnn7VaItr8
        Oete5MWAM/7nw26lvq3hnW1wKPpjn+7JHMHNMezr4/j3FmnenREqcmFyhPzjddVe0i/3Tc3zVGN9eGTlhMqUQAdDFUkBThbGUa+P
        en3U66NeH/X6qNeHjdcBUEsBAi0DLQAAAAgAAAAhAExq1+tFCgAAQF4AAAUAAAAAAAAAAAAAAIABAAAAAHgubnB5UEsBAi0DLQAA
        AAgAAAAhANmcgPNfAQAAUAgAAAUAAAAAAAAAAAAAAIABfAoAAHkubnB5UEsFBgAAAAACAAIAZgAAABIMAAAAAA==
        """
    /// np.savez(f, a=np.array([1.0, 2.0]), b=np.array([[7]])) with zipfile.ZIP64_LIMIT = 16, so that
    /// ZIP64 end records and extra fields are everywhere (638 bytes)
    static let savezZip64EndRecord = """
        UEsDBC0AAAAAAAAAIQBkW6q///////////8FABQAYS5ucHkBABAAkAAAAAAAAACQAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzog
        JzxmOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAg
        ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAAAAA8D8AAAAAAAAAQFBLAwQtAAAAAAAAACEAiaNrY///////////
        BQAUAGIubnB5AQAQAIgAAAAAAAAAiAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZh
        bHNlLCAnc2hhcGUnOiAoMSwgMSksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg
        ICAgICAgCgcAAAAAAAAAUEsBAi0DLQAAAAAAAAAhAGRbqr///////////wUAFAAAAAAAAAAAAIABAAAAAGEubnB5AQAQAJAAAAAA
        AAAAkAAAAAAAAABQSwECLQMtAAAAAAAAACEAiaNrY///////////BQAcAAAAAAAAAAAAgAH/////Yi5ucHkBABgAiAAAAAAAAACI
        AAAAAAAAAMcAAAAAAAAAUEsGBiwAAAAAAAAALQAtAAAAAAAAAAAAAgAAAAAAAAACAAAAAAAAAJYAAAAAAAAAhgEAAAAAAABQSwYH
        AAAAABwCAAAAAAAAAQAAAFBLBQYAAAAAAgACAJYAAACGAQAAAAA=
        """
    /// zlib level 0, raw: b'stored block, level 0' (26 bytes)
    static let deflateStored = """
        ARUA6v9zdG9yZWQgYmxvY2ssIGxldmVsIDA=
        """
    /// zlib Z_FIXED, raw: b'the quick brown fox ' * 10 (25 bytes)
    static let deflateFixed = """
        K8lIVSgszUzOVkgqyi/PU0jLr1AoGYJiAA==
        """
    /// zlib level 9, raw: the 300-line text (see deflateText) (1113 bytes)
    static let deflateDynamic = """
        ZZhBjp0pDIT3c4ocARswkNtkMYtIrdlNzp9ED1eh8q5/C3iFMfXh/vr537/f2vdvv358/f/nj3++/n5bftvn2/N7fL57fp/P98D4
        +ARmBnx+ApGBfkcsLHnX2BmI+yMnA/uqMMjsNwCdfucYla4bgdblNwK1GYDanr8EuZFjoPfcHRkE95QDxevm0aHY7joOyfPOckg+
        NzUOyeNuyyH55IlA88h1oPnkLGieqQea9w1ActxtdUj2m8EOyfvO6pA8syAg2e9GOyTve8AdkuNuorMq8tch2XIMJd/0dGq+kQHN
        4yoc0NyvngHNlmOgOZdhlm9OByTvK3BA8srah+SVYyB55TpHI7PprGm68nT99dlV4RyyiTl1nzM0F3NpvubWnM6jeY+mZxOm5xeu
        Zxxd6yCG1kpMracIrblYWpextXbjSHmvpjdgmd6S5XqTVtfbtobeyDX11q7Qm72W3v611SHWURfZTZ1mm7rRdnWs3cXU9lDf21O9
        cYf6515isXurC+9TjLqplx9Tuz+uRDhdoXGGYOVM4c4JAdNZQq6zdcSRNaw1+RlrplKsFb3Wum7K2tCdW5uaHmtRSaZ5trYLy9op
        MCMCQbMHghkp1WGkIIBGDIJoDwhB2NCKNStlbWThxMSjF8RIwwFcm14183IfjUA8mDj0ZhuRuDMS6hDmxUbsgSImHjUke7iYu37A
        mKffi/8Z0ZgmaWSjYdRUuzXSMRAqxm3kY4euowgwEjKXIiETJTYKb4yMTCgZKbkwaire7OEkQqtO3HX5U0SQlZBKWOZ+ZuG7kZZI
        DXGJBBKYSDOJicOY5WFiZCYOltDE8ZOaKBJiE6UU5UVlDzhT6kPOLF6iEyX+sDMj5SFohCeuFOmJi0d+4noSoLjEq7xgjQiFIZCh
        sA1CFOZCisKCVn16k6N8n59ieiRpDiJJYZ+7dgwPS3OLpGmqIk1h6sQprH+XNsdIVGCESAVsyFQgiVDNpY72ZfZANSNDeztSFWOi
        rLPKb+0qqMh2sjU354RrpsAJ10yUE66ZTm+acydbHfNCj8/J1jxkf+CakVIuTrYGmjXT0vMHrinraTGzz7JRG79ZOj/CFa0f4Yre
        j3BF82flqjrhivbv6TVTF+GaDSDZmgbiXmzGH7ZiYqhl+QPX3PUD1zx9LybphGtaqROuhlGutuyEayBULN4J1wSBE66GUUuY4mRr
        gsd7wZOTrQkxJ1wXRrkC0R+4IjTqxFmXjypiFamEa+5nlIeBk61IDdmKBBKuSDPhisOY5VnjhCsOlnDF8ROuKBLCFaU0y6PMH7im
        1AeuWbxPU5oiHrhmpDwonWzFlSJb+W+XVa4n4YpLHOU57E9zmmsRrrANwhXmQrjCglZ5zDvhCjt74JpSCVcM2sU+V2lE/GFrbpFw
        TVVkK0ydbIX179JEOeEKjDy9au6QcDWM2sIt39r/+YPWjJgw0klWjOllHW1X/SFrCjpVNtmKzRGuSMF52+zf
        """
    /// zlib level 9, raw: the text's first 2000 bytes, Z_FULL_FLUSH, the rest (1148 bytes)
    static let deflateMultiBlock = """
        ZJVLbt4wDIT3OUWOIIriK7fpIosAP7prz98EJsfFeGcNKPojxcfr6/fn+/p4//vr9ef74+31c5Y5y3Xecz7XWedc1/nA3i/BRth2
        CT6CtkXAZfvIEbx/UiNkUwgwtQVw7r4jN2m0AtbYrYB2BNDq/Am4PjbgrY5IAKyDA+LoPG4QS/vZQLa+tYFcnZoN5NNhbSDXvAiY
        z/gBc80tMNvwgDlbALJ3WArk3RlUIGffUiDbFASQdweqQM5+YAWydxB6V8X8HcgyNjdyp0dv5lYOmE8THjBr8xwwy9iAedzcWe6c
        HiBnAx4gx9Q+kGNsgBzjp1ixxbdM2LNt/rspE9qhIMw4TnPOhQXny5JzasV598Vv48Lv55vf2JXrwA/XihvXkzvXnAfXpSfXrheV
        dyzugBDuktjcSaHcbXG4I8O4a8O5syO4+yN5QkTxFMnFkyaFp1FunlipNNTy8NxL49mYzvMzg0ZsJk/hrMegXjzLS3jc1+aNUMpL
        ow6tlTLaO+W0mCpoc1WyRZEPWYt+I0sYRdaDV5ZyULIORy7LOD2y/LnJOM+y8rHLVj2W2b0Csc3+W4I/yj8AAAD//2WWOZIQMRRD
        c04xR7Dl5bu5DcEEVE2RwfkhQFKXlapst/76+vOjd3z/+PPj6/fnx+jfvn7++vwnDUoblCalZ1FaujgobUrVKBWlrrcOpaWLj57f
        /yU0SnNS6jpFq5D7ybcg948uyv2iL8j9oSLzmyFC5lGUZP7ooswvfnDIPBj1kPnzUJL5zXiGzA+aGDLfdcrmma5h95LkftLqkPsh
        X3LfeWrKPZ+azjzTPGX+0OmU+WKIU+ZLp2S+9NZOqfLiyeefMLFaWF39jmchgl4jUrNmJHCtSPPaUYxVUbJ1orDrifLvFk2ye7TS
        RjTcHtGWe0bz7hUtvvc9B7tiWPaJkdpPDF61GM/qMcSFGPUasRBqxtqoFculdqygqlhUdWKd1RNL73hkqch8SfK6YU6PzIMhHpmn
        q+OB1fc8sLrngWX1j9uG2TryDkb4yHvnqccTS8Xeqcg6TT1yzhQ/K87seKfiWycNhW20dgeH1u8UoOFOFNq404l25xxt3YVB23f5
        0OouMtq5OgEt2gW93U2F3u/WwwuutGW4so3Ro9lhuC5d3PfgwHDleMFwfWQ1RhWGKwcahivHHobroTLuBQLEmsGLrbq475WFF1wZ
        9QuurD5iScJw5SqF4dp1CvdahuG6JcWKh+FKEMBw7TpVF1NgthI8GIEnmK2EGAzX0incQMQLrpJmXlz5/E4TFVYNV8Yz48cAZqtS
        Y7YqgYar0my4qhgrfmtguKqwhqvKb7iqSQxXtdKKnzK84EqrL7iyeQ1XtfgLrlTihxJmq0bKbNXgGa4aT8NVQ7zjdxiGqxaC4aq1
        YbhquRiuWkEVP/MwXLXOXnClVcNVh06sT7NVS/bFVoZouNKV2aqlbrZq9ZutAoThKowYroKN4dp16lzcgtnK773QSqVfjITJqjMj
        3pn3t15kpaEnbZutCs5wVQoM13+J+gs=
        """
}
