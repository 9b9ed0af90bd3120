import RNNODETensors

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The element types of NumPy arrays that ``NumPyArray`` reads and writes.
///
/// The raw value is NumPy's dtype name; ``descr`` is the little-endian type string written in
/// `.npy` headers.
///
/// ```swift
/// NumPyDataType.float32.descr        // "<f4"
/// NumPyDataType(descr: ">i8")        // .int64 (big-endian input is byte-swapped when read)
/// ```
public enum NumPyDataType: String, Sendable, CaseIterable {
    case float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool

    /// The number of bytes per element.
    public var byteCount: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// The `.npy` type string as NumPy writes it: `"<f4"`, `"<i8"`, `"|u1"`, `"|b1"`, ….
    public var descr: String {
        let order = byteCount == 1 ? "|" : "<"
        return order + kindCode + String(byteCount)
    }

    private var kindCode: String {
        switch self {
        case .float32, .float64: return "f"
        case .int8, .int16, .int32, .int64: return "i"
        case .uint8, .uint16, .uint32, .uint64: return "u"
        case .bool: return "b"
        }
    }

    /// The type for a NumPy type string, ignoring byte order: `"<f8"`, `">f8"`, `"=f8"`, `"|u1"`,
    /// `"f8"` are all accepted; `nil` for anything else (for example `"<c16"`, `"|O"`, `"<U5"`).
    public init?(descr: String) {
        guard let (type, _) = Self.parse(descr: descr) else { return nil }
        self = type
    }

    /// The type and whether its bytes are big-endian.
    static func parse(descr: String) -> (NumPyDataType, bigEndian: Bool)? {
        var text = Substring(descr)
        var bigEndian = false
        if let first = text.first, "<>|=".contains(first) {
            bigEndian = first == ">"
            text.removeFirst()
        }
        guard let kind = text.first, text.count >= 2, text.count <= 3, text.dropFirst().allSatisfy(\.isASCII),
            text.dropFirst().allSatisfy(\.isNumber), let size = Int(text.dropFirst())
        else {
            return nil
        }
        guard let type = allCases.first(where: { $0.kindCode == String(kind) && $0.byteCount == size }) else {
            return nil
        }
        return (type, bigEndian && size > 1)
    }
}

/// An n-dimensional NumPy array as stored in a `.npy` file: a shape, an element type and the
/// elements' bytes (little-endian, C order).
///
/// Use it to exchange tensors with Python: ``init(_:)`` takes a ``Tensor``, ``tensor(as:)`` gives
/// one back (converting any numeric or boolean element type), and ``npyData()``,
/// ``write(to:createDirectories:)``, ``init(npyData:name:)`` and ``init(contentsOf:)`` encode and decode
/// the `.npy` format that `numpy.save` and `numpy.load` use. Several arrays go into one `.npz` file
/// with ``NumPyArchive``.
///
/// ```swift
/// let weights = Tensor<Float>([[1, 2], [3, 4]])
/// try NumPyArray(weights).write(to: URL(fileURLWithPath: "weights.npy"))
/// // Python: numpy.load("weights.npy") → array([[1., 2.], [3., 4.]], dtype=float32)
///
/// let loaded = try NumPyArray(contentsOf: URL(fileURLWithPath: "weights.npy"))
/// let tensor: Tensor<Double> = loaded.tensor()     // converted to Double
/// ```
///
/// Reading accepts format versions 1.0, 2.0 and 3.0, little- and big-endian element types,
/// Fortran-order arrays (reordered to C order), 0-d arrays (shape `[]`) and empty arrays. Writing
/// produces the same bytes as `numpy.save` (version 1.0, or 2.0 for headers over 64 KiB).
///
/// ## Limits on what is read
/// Nothing a file declares is trusted before it is checked against the bytes present: the header
/// length against the data, the element count (overflow-checked) times the element size against
/// the bytes after the header, exactly. Beyond that, reading refuses
/// - headers longer than ``maximumHeaderLength`` bytes (``NumPyError/Problem/headerTooLarge(length:limit:)``),
/// - header literals nested more than ``maximumHeaderNesting`` levels deep (a malformed header),
/// - arrays of more than ``maximumRank`` axes (``NumPyError/Problem/rankTooLarge(rank:limit:)``),
///
/// so memory stays proportional to the input and the stack depth is bounded. The same checks apply
/// to the entries of ``NumPyArchive`` and so to checkpoints and PyTorch weights.
public struct NumPyArray: Sendable, Equatable {
    /// The most axes an array read from a file may have: 64, NumPy 2's maximum.
    public static let maximumRank = 64
    /// The longest `.npy` header read, in bytes: 1 MiB. NumPy writes headers of a few hundred
    /// bytes (under 2 KiB for 64 axes) and by default refuses those over 10,000 bytes; this limit
    /// only bounds the memory and time a header can cost.
    public static let maximumHeaderLength = 1 << 20
    /// The deepest nesting of tuples, lists and dictionaries in a `.npy` header: 32 levels (a valid
    /// header uses 2: the dictionary and the shape tuple).
    public static let maximumHeaderNesting = 32

    /// The length of each axis, outermost first; `[]` for a 0-d array.
    public private(set) var shape: [Int]
    /// The element type.
    public private(set) var dataType: NumPyDataType
    /// The elements' bytes, little-endian and in C (row-major) order:
    /// `shape.reduce(1, *) * dataType.byteCount` bytes.
    public private(set) var elementBytes: [UInt8]

    /// An array from its raw parts.
    ///
    /// ```swift
    /// let labels = NumPyArray(shape: [3], dataType: .int8, elementBytes: [0, 2, 1])
    /// ```
    ///
    /// - Precondition: no axis is negative and `elementBytes` has exactly one element's bytes per
    ///   element.
    public init(shape: [Int], dataType: NumPyDataType, elementBytes: [UInt8]) {
        require(shape.allSatisfy { $0 >= 0 }, "NumPy array shape \(shape) has a negative axis")
        let needed = Self.elementCount(shape).map { $0.multipliedReportingOverflow(by: dataType.byteCount) }
        require(
            needed.map { !$0.overflow && $0.partialValue == elementBytes.count } ?? false,
            "a \(dataType.rawValue) array of shape \(shape) does not have \(elementBytes.count) bytes")
        self.shape = shape
        self.dataType = dataType
        self.elementBytes = elementBytes
    }

    /// The tensor's values: `float32` for `Tensor<Float>`, `float64` for `Tensor<Double>` (and for
    /// any other scalar type, converted to `Double`).
    ///
    /// ```swift
    /// let array = NumPyArray(Tensor<Double>([1, 2, 3]))   // float64, shape [3]
    /// ```
    public init<T: TensorScalar>(_ tensor: Tensor<T>) {
        shape = tensor.shape
        let encoding = Self.encoding(of: tensor)
        dataType = encoding.dataType
        let byteCount = tensor.scalarCount * dataType.byteCount
        elementBytes = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            encoding.encode(0..<tensor.scalarCount, UnsafeMutableRawBufferPointer(buffer))
            initialized = byteCount
        }
    }

    /// How ``init(_:)`` stores a tensor's scalars: the data type, and a function that
    /// writes the little-endian bytes of the scalars at `indices` to the start of `target` (which
    /// has room for them), so that they can be produced a piece at a time.
    static func encoding<T: TensorScalar>(
        of tensor: Tensor<T>
    ) -> (dataType: NumPyDataType, encode: (_ indices: Range<Int>, _ target: UnsafeMutableRawBufferPointer) -> Void) {
        #if _endian(little)
        if T.self == Float.self || T.self == Double.self {
            // The scalars' own bytes are the little-endian bit patterns.
            return (
                T.self == Float.self ? .float32 : .float64,
                { indices, target in
                    tensor.withUnsafeBufferPointer { buffer in
                        target.copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[indices])))
                    }
                }
            )
        }
        #endif
        if T.self == Float.self {
            return (
                .float32,
                { indices, target in
                    tensor.withUnsafeBufferPointer { buffer in
                        for (position, index) in indices.enumerated() {
                            let bits = unsafeBitCast(buffer[index], to: Float.self).bitPattern
                            target.storeBytes(of: bits.littleEndian, toByteOffset: position * 4, as: UInt32.self)
                        }
                    }
                }
            )
        }
        return (
            .float64,
            { indices, target in
                tensor.withUnsafeBufferPointer { buffer in
                    for (position, index) in indices.enumerated() {
                        let bits = Double(buffer[index]).bitPattern
                        target.storeBytes(of: bits.littleEndian, toByteOffset: position * 8, as: UInt64.self)
                    }
                }
            }
        )
    }

    /// A 1-D `uint8` array holding `bytes`, for example UTF-8 text such as JSON metadata.
    ///
    /// ```swift
    /// let metadata = NumPyArray(bytes: Array(#"{"epochs": 10}"#.utf8))
    /// // Python: bytes(numpy.load("metadata.npy")).decode()
    /// ```
    public init(bytes: [UInt8]) {
        self.init(shape: [bytes.count], dataType: .uint8, elementBytes: bytes)
    }

    /// The elements of a 1-D `uint8` array (as made by ``init(bytes:)``), else `nil`.
    public var bytes: [UInt8]? {
        dataType == .uint8 && shape.count == 1 ? elementBytes : nil
    }

    /// The number of elements (1 for a 0-d array).
    public var elementCount: Int { elementBytes.count / dataType.byteCount }

    /// The same elements with another shape of the same element count.
    ///
    /// ```swift
    /// let matrix = NumPyArray(Tensor<Float>([1, 2, 3, 4])).reshaped(to: [2, 2])
    /// ```
    ///
    /// - Precondition: `shape` has no negative axis and holds ``elementCount`` elements.
    public func reshaped(to shape: [Int]) -> NumPyArray {
        NumPyArray(shape: shape, dataType: dataType, elementBytes: elementBytes)
    }

    /// The elements converted to `T`, in a tensor of the same shape. Integers are converted to the
    /// nearest representable value, `bool` to 0 and 1, `float64` to `Float` by rounding.
    ///
    /// ```swift
    /// let labels: Tensor<Float> = try NumPyArray(contentsOf: url).tensor()   // e.g. from int64
    /// ```
    public func tensor<T: TensorScalar>(as type: T.Type = T.self) -> Tensor<T> {
        let count = elementCount
        let storage = elementBytes.withUnsafeBytes { raw in
            TensorStorage<T>(count: count) { target in
                func fill<Element: FixedWidthInteger>(_: Element.Type, _ convert: (Element) -> T) {
                    for index in 0..<count {
                        let value = raw.loadUnaligned(fromByteOffset: index * MemoryLayout<Element>.size, as: Element.self)
                        target[index] = convert(Element(littleEndian: value))
                    }
                }
                switch dataType {
                case .float32:
                    if T.self == Float.self {
                        fill(UInt32.self) { unsafeBitCast(Float(bitPattern: $0), to: T.self) }
                    } else {
                        fill(UInt32.self) { T(Float(bitPattern: $0)) }
                    }
                case .float64:
                    if T.self == Double.self {
                        fill(UInt64.self) { unsafeBitCast(Double(bitPattern: $0), to: T.self) }
                    } else {
                        fill(UInt64.self) { T(Double(bitPattern: $0)) }
                    }
                case .int8: fill(Int8.self) { T($0) }
                case .int16: fill(Int16.self) { T($0) }
                case .int32: fill(Int32.self) { T($0) }
                case .int64: fill(Int64.self) { T($0) }
                case .uint8: fill(UInt8.self) { T($0) }
                case .uint16: fill(UInt16.self) { T($0) }
                case .uint32: fill(UInt32.self) { T($0) }
                case .uint64: fill(UInt64.self) { T($0) }
                case .bool: fill(UInt8.self) { $0 == 0 ? 0 : 1 }
                }
            }
        }
        return Tensor(shape: shape, storage: storage, node: nil)
    }

    // MARK: Encoding

    /// The array in `.npy` format, byte for byte what `numpy.save` writes: format version 1.0
    /// (2.0 if the header is longer than 64 KiB), C order, the header padded so the data starts at a
    /// multiple of 64 bytes.
    ///
    /// ```swift
    /// let data = NumPyArray(Tensor<Float>([1, 2])).npyData()   // starts with "\u{93}NUMPY"
    /// ```
    public func npyData() -> Data {
        var data = Data(Self.npyHeader(shape: shape, dataType: dataType))
        data.append(contentsOf: elementBytes)
        return data
    }

    /// The bytes of ``npyData()`` before the elements: the magic string, the version, the header
    /// length and the padded header, for an array of `shape` and `dataType`.
    static func npyHeader(shape: [Int], dataType: NumPyDataType) -> [UInt8] {
        var header = "{'descr': '\(dataType.descr)', 'fortran_order': False, 'shape': \(Self.pythonTuple(shape)), }"
        // numpy leaves room for the first axis to grow to 21 digits in place.
        if let first = shape.first { header += String(repeating: " ", count: max(21 - String(first).count, 0)) }
        var headerBytes = Array(header.utf8)
        var version: UInt8 = 1
        var lengthFieldSize = 2
        var padding = 64 - (8 + lengthFieldSize + headerBytes.count + 1) % 64
        if headerBytes.count + 1 + padding > 0xFFFF {
            version = 2
            lengthFieldSize = 4
            padding = 64 - (8 + lengthFieldSize + headerBytes.count + 1) % 64
        }
        headerBytes += repeatElement(UInt8(ascii: " "), count: padding)
        headerBytes.append(UInt8(ascii: "\n"))

        var bytes = npyMagic
        bytes += [version, 0]
        let length = UInt32(headerBytes.count)
        for index in 0..<lengthFieldSize { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * index))) }
        bytes += headerBytes
        return bytes
    }

    /// Writes ``npyData()`` to `url` atomically (see ``writeFileAtomically(_:to:createDirectories:)``).
    ///
    /// ```swift
    /// try NumPyArray(tensor).write(to: URL(fileURLWithPath: "out/x.npy"), createDirectories: true)
    /// ```
    ///
    /// - Throws: ``NumPyError`` with problem ``NumPyError/Problem/io(_:)`` if the file cannot be written.
    public func write(to url: URL, createDirectories: Bool = false) throws(NumPyError) {
        do {
            // The header, then the elements from where they are: no copy of the whole file.
            try writeFileAtomically(to: url, createDirectories: createDirectories) { file throws(IOError) in
                try file.write(Self.npyHeader(shape: shape, dataType: dataType))
                try file.write(elementBytes)
            }
        } catch {
            throw NumPyError(.io(error), path: error.path)
        }
    }

    // MARK: Decoding

    /// Decodes a `.npy` byte stream.
    ///
    /// ```swift
    /// let array = try NumPyArray(npyData: data, name: "weights.npy")
    /// ```
    ///
    /// - Parameters:
    ///   - npyData: The complete contents of a `.npy` file.
    ///   - name: A file name or path to report in errors.
    /// - Throws: ``NumPyError`` naming the problem (bad magic, unsupported version, malformed
    ///   header key, unsupported dtype, truncated or extra data) with ``NumPyError/path`` = `name`.
    public init(npyData: Data, name: String? = nil) throws(NumPyError) {
        do {
            self = try Self.decode([UInt8](npyData)[...])
        } catch {
            throw NumPyError(error, path: name)
        }
    }

    /// Reads a `.npy` file.
    ///
    /// ```swift
    /// let array = try NumPyArray(contentsOf: URL(fileURLWithPath: "weights.npy"))
    /// ```
    ///
    /// Only a regular file is read (``IOError/notARegularFile(path:kind:)`` otherwise, so a FIFO or
    /// `/dev/zero` cannot block or exhaust memory), and a file that does not start with the `.npy`
    /// magic bytes is refused after reading its first 6 bytes.
    ///
    /// - Throws: ``NumPyError`` with the file's path: ``NumPyError/Problem/io(_:)`` if it cannot be
    ///   read, otherwise what is wrong with its contents.
    public init(contentsOf url: URL) throws(NumPyError) {
        var (bytes, path) = try readNumPyFile(url, magics: [npyMagic])
        do {
            self = try Self.decode(consuming: &bytes)  // the file's bytes become the elements
        } catch {
            throw NumPyError(error, path: path)
        }
    }

    /// Decodes `.npy` bytes; errors carry no location.
    static func decode(_ bytes: ArraySlice<UInt8>) throws(NumPyError.Problem) -> NumPyArray {
        let (header, dataStart) = try layout(of: bytes)
        var elements = Array(bytes[(bytes.startIndex + dataStart)...])
        return assemble(header, elements: &elements)
    }

    /// Decodes `.npy` bytes that are not needed afterwards, reusing their storage for the elements
    /// (no second copy of the data); `bytes` is left empty.
    static func decode(consuming bytes: inout [UInt8]) throws(NumPyError.Problem) -> NumPyArray {
        let (header, dataStart) = try layout(of: bytes[...])
        bytes.removeSubrange(0..<dataStart)
        var elements: [UInt8] = []
        swap(&elements, &bytes)
        return assemble(header, elements: &elements)
    }

    /// The parsed header of `.npy` bytes and the offset of their data, checked to have exactly the
    /// size the header describes.
    private static func layout(of bytes: ArraySlice<UInt8>) throws(NumPyError.Problem) -> (NumPyHeader, dataStart: Int) {
        let base = bytes.startIndex
        let available = bytes.count
        let prefixLength = min(available, npyMagic.count)
        guard available >= 8, bytes[base..<base + 6].elementsEqual(npyMagic) else {
            if available < 8 && !bytes.isEmpty && bytes.prefix(prefixLength).elementsEqual(npyMagic[0..<prefixLength]) {
                throw .truncatedHeader(expected: 10, actual: available)
            }
            throw .notNumPyFile
        }
        let major = Int(bytes[base + 6])
        let minor = Int(bytes[base + 7])
        guard minor == 0, (1...3).contains(major) else { throw .unsupportedVersion(major: major, minor: minor) }
        let lengthFieldSize = major == 1 ? 2 : 4
        guard available >= 8 + lengthFieldSize else {
            throw .truncatedHeader(expected: 8 + lengthFieldSize, actual: available)
        }
        var headerLength = 0
        for index in 0..<lengthFieldSize { headerLength |= Int(bytes[base + 8 + index]) << (8 * index) }
        guard headerLength <= maximumHeaderLength else {
            throw .headerTooLarge(length: headerLength, limit: maximumHeaderLength)
        }
        let dataStart = 8 + lengthFieldSize + headerLength
        guard available >= dataStart else { throw .truncatedHeader(expected: dataStart, actual: available) }
        let headerBytes = bytes[(base + 8 + lengthFieldSize)..<(base + dataStart)]
        let headerText: String
        if major == 3 {
            guard let text = String(validating: headerBytes, as: UTF8.self) else {
                throw .malformedHeader(key: nil, reason: "the header is not valid UTF-8")
            }
            headerText = text
        } else {
            headerText = String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))  // Latin-1
        }
        let header = try NumPyHeader(parsing: headerText)
        guard header.shape.count <= maximumRank else {
            throw .rankTooLarge(rank: header.shape.count, limit: maximumRank)
        }

        guard let count = elementCount(header.shape), count <= Int.max / header.dataType.byteCount else {
            throw .malformedHeader(key: "shape", reason: "\(pythonTuple(header.shape)) has too many elements")
        }
        let byteCount = count * header.dataType.byteCount
        let dataCount = available - dataStart
        if dataCount < byteCount { throw .truncatedData(expected: byteCount, actual: dataCount) }
        if dataCount > byteCount { throw .trailingData(expected: byteCount, actual: dataCount) }
        return (header, dataStart)
    }

    /// The array of `header` from its elements as stored, byte-swapped and reordered to C order.
    private static func assemble(_ header: NumPyHeader, elements: inout [UInt8]) -> NumPyArray {
        let size = header.dataType.byteCount
        if header.bigEndian {
            for start in stride(from: 0, to: elements.count, by: size) {
                elements[start..<start + size].reverse()
            }
        }
        if header.fortranOrder && header.shape.count > 1 && elements.count > size {
            elements = fortranToC(elements, shape: header.shape, elementSize: size)
        }
        return NumPyArray(shape: header.shape, dataType: header.dataType, elementBytes: elements)
    }

    // MARK: Helpers

    /// The product of the axes, or `nil` on overflow.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for axis in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: axis)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// A shape as Python writes a tuple: `()`, `(3,)`, `(2, 3)`.
    static func pythonTuple(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// Reorders the elements of a Fortran-order (column-major) array into C order.
    private static func fortranToC(_ elements: [UInt8], shape: [Int], elementSize: Int) -> [UInt8] {
        // The Fortran-order stride of each axis, in elements.
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in 1..<shape.count { strides[axis] = strides[axis - 1] * shape[axis - 1] }
        var result = [UInt8](repeating: 0, count: elements.count)
        var index = [Int](repeating: 0, count: shape.count)
        var source = 0
        for target in stride(from: 0, to: elements.count, by: elementSize) {
            for byte in 0..<elementSize { result[target + byte] = elements[source * elementSize + byte] }
            // Advance the C-order index (last axis fastest) and the matching Fortran offset.
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < shape[axis] { break }
                source -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }
}

/// The first six bytes of every `.npy` file.
let npyMagic: [UInt8] = [0x93] + Array("NUMPY".utf8)

// MARK: - Header

/// The parsed dictionary of a `.npy` header, e.g.
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
struct NumPyHeader {
    var dataType: NumPyDataType
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]

    /// Parses the header text: a Python dictionary literal with exactly the keys `descr`,
    /// `fortran_order` and `shape` in any order, with either kind of quotes and any whitespace.
    init(parsing text: String) throws(NumPyError.Problem) {
        var parser = PythonLiteralParser(text: text)
        let items = try parser.parseHeaderDictionary()

        var values: [String: PythonLiteralParser.Literal] = [:]
        var sources: [String: String] = [:]
        for (key, value, source) in items {
            guard ["descr", "fortran_order", "shape"].contains(key) else {
                throw .malformedHeader(key: abbreviated(key), reason: "unexpected key")
            }
            guard values[key] == nil else { throw .malformedHeader(key: key, reason: "the key appears twice") }
            values[key] = value
            sources[key] = abbreviated(source)
        }
        for key in ["descr", "fortran_order", "shape"] where values[key] == nil {
            throw .malformedHeader(key: key, reason: "the key is missing")
        }

        guard case .string(let descr) = values["descr"]! else {
            throw .unsupportedDataType(sources["descr"]!)  // a structured (record) dtype
        }
        guard let (dataType, bigEndian) = NumPyDataType.parse(descr: descr) else {
            throw .unsupportedDataType(abbreviated(descr))
        }
        guard case .bool(let fortranOrder) = values["fortran_order"]! else {
            throw .malformedHeader(key: "fortran_order", reason: "expected True or False, found \(sources["fortran_order"]!)")
        }
        guard case .tuple(let axes) = values["shape"]! else {
            throw .malformedHeader(key: "shape", reason: "expected a tuple of integers, found \(sources["shape"]!)")
        }
        var shape: [Int] = []
        for axis in axes {
            guard case .integer(let length) = axis, length >= 0 else {
                throw .malformedHeader(
                    key: "shape", reason: "expected a tuple of non-negative integers, found \(sources["shape"]!)")
            }
            shape.append(length)
        }
        self.dataType = dataType
        self.bigEndian = bigEndian
        self.fortranOrder = fortranOrder
        self.shape = shape
    }
}

/// A parser for the small part of Python's literal syntax that `.npy` headers use: strings,
/// integers, `True`/`False`/`None`, tuples, lists and dictionaries.
private struct PythonLiteralParser {
    indirect enum Literal: Equatable {
        case string(String)
        case integer(Int)
        case bool(Bool)
        case none
        case tuple([Literal])
        case list([Literal])
        case dictionary([Literal])  // keys and values alternating
    }

    let scalars: [Unicode.Scalar]
    var position = 0
    /// How many tuples, lists and dictionaries enclose the current position.
    var depth = 0

    init(text: String) {
        scalars = Array(text.unicodeScalars)
    }

    func malformed(_ reason: String) -> NumPyError.Problem {
        .malformedHeader(key: nil, reason: reason)
    }

    /// The text from `start` to the current position, for messages.
    func source(from start: Int) -> String {
        String(String.UnicodeScalarView(scalars[start..<position]))
    }

    var found: String {
        position < scalars.count
            ? "'\(String(Character(scalars[position])))' at character \(position + 1)" : "the end of the header"
    }

    mutating func skipWhitespace() {
        while position < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[position]) { position += 1 }
    }

    mutating func expect(_ scalar: Unicode.Scalar) throws(NumPyError.Problem) {
        skipWhitespace()
        guard position < scalars.count, scalars[position] == scalar else {
            throw malformed("expected '\(scalar)', found \(found)")
        }
        position += 1
    }

    /// Parses `{key: value, …}` with string keys, then requires only whitespace to follow.
    /// Returns each key with its value and the value's source text.
    mutating func parseHeaderDictionary() throws(NumPyError.Problem) -> [(String, Literal, String)] {
        try expect("{")
        depth = 1
        var items: [(String, Literal, String)] = []
        while true {
            skipWhitespace()
            if position < scalars.count, scalars[position] == "}" {
                position += 1
                break
            }
            guard case .string(let key) = try parseValue() else {
                throw malformed("a dictionary key is not a string")
            }
            try expect(":")
            skipWhitespace()
            let start = position
            let value: Literal
            do {
                value = try parseValue()
            } catch {
                guard case .malformedHeader(nil, let reason) = error else { throw error }
                throw .malformedHeader(key: abbreviated(key), reason: reason)
            }
            items.append((key, value, source(from: start)))
            skipWhitespace()
            if position < scalars.count, scalars[position] == "," {
                position += 1
            } else {
                try expect("}")
                break
            }
        }
        skipWhitespace()
        guard position == scalars.count else { throw malformed("unexpected \(found) after the dictionary") }
        return items
    }

    mutating func parseValue() throws(NumPyError.Problem) -> Literal {
        skipWhitespace()
        guard position < scalars.count else { throw malformed("expected a value, found the end of the header") }
        let scalar = scalars[position]
        if scalar == "(" || scalar == "[" || scalar == "{" {
            // Each level is one recursive call: the limit bounds the stack as well as the work.
            guard depth < NumPyArray.maximumHeaderNesting else {
                throw malformed(
                    "the literals are nested more than \(NumPyArray.maximumHeaderNesting) levels deep (at character "
                        + "\(position + 1))")
            }
            depth += 1
        }
        defer { if scalar == "(" || scalar == "[" || scalar == "{" { depth -= 1 } }
        switch scalar {
        case "'", "\"":
            return .string(try parseString())
        case "u" where position + 1 < scalars.count && (scalars[position + 1] == "'" || scalars[position + 1] == "\""):
            position += 1
            return .string(try parseString())
        case "(":
            position += 1
            let (elements, trailingComma) = try parseSequence(closing: ")")
            // `(x)` is just x in Python; a tuple needs a comma unless it is empty.
            return elements.count == 1 && !trailingComma ? elements[0] : .tuple(elements)
        case "[":
            position += 1
            return .list(try parseSequence(closing: "]").elements)
        case "{":
            position += 1
            var elements: [Literal] = []
            while true {
                skipWhitespace()
                if position < scalars.count, scalars[position] == "}" {
                    position += 1
                    return .dictionary(elements)
                }
                elements.append(try parseValue())
                try expect(":")
                elements.append(try parseValue())
                skipWhitespace()
                if position < scalars.count, scalars[position] == "," {
                    position += 1
                } else {
                    try expect("}")
                    return .dictionary(elements)
                }
            }
        case "-", "+", "0"..."9":
            return .integer(try parseInteger())
        default:
            let start = position
            while position < scalars.count, scalars[position].properties.isAlphabetic || scalars[position] == "_" {
                position += 1
            }
            switch source(from: start) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                position = start
                throw malformed("unexpected \(found)")
            }
        }
    }

    /// Elements up to `closing`, and whether the last one was followed by a comma.
    mutating func parseSequence(closing: Unicode.Scalar) throws(NumPyError.Problem) -> (elements: [Literal], trailingComma: Bool)
    {
        var elements: [Literal] = []
        var trailingComma = false
        while true {
            skipWhitespace()
            if position < scalars.count, scalars[position] == closing {
                position += 1
                return (elements, trailingComma)
            }
            elements.append(try parseValue())
            skipWhitespace()
            trailingComma = position < scalars.count && scalars[position] == ","
            if trailingComma {
                position += 1
            } else {
                try expect(closing)
                return (elements, false)
            }
        }
    }

    mutating func parseInteger() throws(NumPyError.Problem) -> Int {
        let start = position
        if scalars[position] == "-" || scalars[position] == "+" { position += 1 }
        let digitsStart = position
        while position < scalars.count, ("0"..."9").contains(scalars[position]) { position += 1 }
        guard position > digitsStart else { throw malformed("expected digits, found \(found)") }
        let text = source(from: start)
        // Python 2 wrote long integers with an L suffix, e.g. (3L, 4L).
        if position < scalars.count, scalars[position] == "L" || scalars[position] == "l" { position += 1 }
        if position < scalars.count, scalars[position] == "." || scalars[position] == "e" || scalars[position] == "E" {
            throw malformed("expected an integer, found \(found)")
        }
        guard let value = Int(text) else {
            throw malformed("the integer \(abbreviated(text)) is too large")
        }
        return value
    }

    mutating func parseString() throws(NumPyError.Problem) -> String {
        let quote = scalars[position]
        position += 1
        var text = String.UnicodeScalarView()
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            if scalar == quote { return String(text) }
            if scalar == "\n" { break }
            if scalar == "\\" {
                guard position < scalars.count else { break }
                let escaped = scalars[position]
                position += 1
                switch escaped {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "\\", "'", "\"": text.append(escaped)
                default:
                    text.append("\\")
                    text.append(escaped)
                }
            } else {
                text.append(scalar)
            }
        }
        throw malformed("a string is not closed")
    }
}

// MARK: - Errors

/// A problem reading or writing a `.npy` or `.npz` file: what is wrong, and where (the file and,
/// inside an archive, the entry). Header text quoted in a problem is cut to 64 characters (ending
/// in `…`).
///
/// ```swift
/// do {
///     let archive = try NumPyArchive(contentsOf: URL(fileURLWithPath: "model.npz"))
/// } catch {
///     print(error)   // e.g. model.npz, entry 'w.npy': unsupported dtype '<c16'
/// }
/// ```
public struct NumPyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Error, Equatable, Sendable {
        /// The data does not start with the `.npy` magic bytes `\x93NUMPY`.
        case notNumPyFile
        /// A `.npy` format version other than 1.0, 2.0 and 3.0.
        case unsupportedVersion(major: Int, minor: Int)
        /// The data ends inside the `.npy` preamble or header.
        case truncatedHeader(expected: Int, actual: Int)
        /// The header dictionary is not valid; `key` names the offending key when there is one.
        case malformedHeader(key: String?, reason: String)
        /// The header is longer than ``NumPyArray/maximumHeaderLength`` bytes.
        case headerTooLarge(length: Int, limit: Int)
        /// The shape has more axes than ``NumPyArray/maximumRank``.
        case rankTooLarge(rank: Int, limit: Int)
        /// An element type this library does not handle, as written in the header (e.g. `"<c16"`,
        /// `"|O"` for object arrays, `"<U5"`, or a structured dtype's list).
        case unsupportedDataType(String)
        /// Fewer bytes of array data than the shape and type need.
        case truncatedData(expected: Int, actual: Int)
        /// More bytes after the array data than the shape and type need.
        case trailingData(expected: Int, actual: Int)
        /// The data is not a ZIP archive (no end-of-central-directory record).
        case notZipArchive
        /// The archive ends early; the text says what is cut off.
        case truncatedArchive(String)
        /// A ZIP structure is inconsistent (bad signature, sizes that do not fit, …).
        case malformedArchive(String)
        /// A ZIP feature this reader does not support (encryption, multiple disks, …), or an archive
        /// too large to write.
        case unsupportedArchiveFeature(String)
        /// An entry compressed with a method other than 0 (stored) or 8 (DEFLATE).
        case unsupportedCompression(method: Int)
        /// An entry's DEFLATE data is corrupt.
        case corruptDeflateStream(String)
        /// An entry's CRC-32 differs from the one recorded in the archive.
        case crcMismatch(expected: UInt32, actual: UInt32)
        /// Two entries with the same name.
        case duplicateEntry(String)
        /// An entry's local header names it differently from its central directory record.
        case entryNameMismatch(central: String, local: String)
        /// The data of two entries overlap (both are named, the first in file order first).
        case overlappingEntries(String, String)
        /// An entry's data decodes to `decoded` bytes where the archive records `recorded`
        /// (`decoded` is `nil` when decoding stopped at the recorded size, with data left).
        case entrySizeMismatch(recorded: Int, decoded: Int?)
        /// An entry whose name does not end in `.npy`.
        case notNpyEntry(String)
        /// The file could not be read or written.
        case io(IOError)
    }

    /// What is wrong.
    public var problem: Problem
    /// The file (or the name given to ``NumPyArray/init(npyData:name:)``), when known.
    public var path: String?
    /// The archive entry (e.g. `"weights.npy"`) the problem is in, for `.npz` archives.
    public var entry: String?

    /// Creates an error; normally only the readers and writers do this.
    public init(_ problem: Problem, path: String? = nil, entry: String? = nil) {
        self.problem = problem
        self.path = path
        self.entry = entry
    }

    /// A one-line message such as `model.npz, entry 'w.npy': truncated data: expected 96 bytes, found 40`.
    public var description: String {
        if case .io(let error) = problem { return error.description }  // names the path itself
        var location: [String] = []
        if let path { location.append(path) }
        if let entry { location.append("entry '\(entry)'") }
        let prefix = location.isEmpty ? "" : location.joined(separator: ", ") + ": "
        return prefix + problemDescription
    }

    private var problemDescription: String {
        switch problem {
        case .notNumPyFile:
            return "not a .npy file (it does not start with the magic bytes \\x93NUMPY)"
        case .unsupportedVersion(let major, let minor):
            return "unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)"
        case .truncatedHeader(let expected, let actual):
            return "truncated .npy header: expected at least \(expected) bytes, found \(actual)"
        case .malformedHeader(let key, let reason):
            return "malformed .npy header" + (key.map { " (key '\($0)')" } ?? "") + ": " + reason
        case .headerTooLarge(let length, let limit):
            return "the .npy header is \(length) bytes long, more than the supported maximum of \(limit) bytes"
        case .rankTooLarge(let rank, let limit):
            return "the array's rank \(rank) exceeds the supported maximum of \(limit) axes"
        case .unsupportedDataType(let descr):
            return "unsupported dtype \(descr.hasPrefix("[") ? descr : "'\(descr)'") (supported: "
                + NumPyDataType.allCases.map(\.descr).joined(separator: ", ") + ", in either byte order)"
        case .truncatedData(let expected, let actual):
            return "truncated data: expected \(expected) bytes of array data, found \(actual)"
        case .trailingData(let expected, let actual):
            return "\(actual - expected) unexpected bytes after the \(expected) bytes of array data"
        case .notZipArchive:
            return "not a .npz (ZIP) archive: no end-of-central-directory record"
        case .truncatedArchive(let what):
            return "truncated archive: \(what)"
        case .malformedArchive(let what):
            return "malformed archive: \(what)"
        case .unsupportedArchiveFeature(let what):
            return "unsupported archive: \(what)"
        case .unsupportedCompression(let method):
            let name =
                [1: " (Shrink)", 6: " (Implode)", 9: " (Deflate64)", 12: " (BZIP2)", 14: " (LZMA)", 93: " (Zstandard)"][method]
                ?? ""
            return "unsupported compression method \(method)\(name) (supported: 0 stored, 8 DEFLATE)"
        case .corruptDeflateStream(let what):
            return "corrupt DEFLATE data: \(what)"
        case .crcMismatch(let expected, let actual):
            return "CRC-32 mismatch: the archive records \(hex(expected)), the data has \(hex(actual))"
        case .duplicateEntry(let name):
            return "duplicate entry name '\(name)'"
        case .entryNameMismatch(let central, let local):
            return "the central directory names the entry '\(central)', its local header '\(local)'"
        case .overlappingEntries(let first, let second):
            return "the data of entries '\(first)' and '\(second)' overlap"
        case .entrySizeMismatch(let recorded, let decoded?):
            return "the data decodes to \(decoded) bytes, the archive records \(recorded)"
        case .entrySizeMismatch(let recorded, nil):
            return "the data decodes to more than the \(recorded) bytes the archive records"
        case .notNpyEntry(let name):
            return "the entry '\(name)' is not a .npy file (its name does not end in .npy)"
        case .io(let error):
            return error.description
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// The contents of `url` and the path to name in errors. If the file does not start with one of
/// `magics` (all of the same length), only its first bytes are read, which are enough for the
/// decoder to report the format error.
func readNumPyFile(_ url: URL, magics: [[UInt8]]) throws(NumPyError) -> ([UInt8], String) {
    let path = url.isFileURL ? url.standardizedFileURL.path : url.absoluteString
    do {
        let data = try readFileContents(at: url, prefixLength: magics[0].count) { prefix in magics.contains(prefix) }
        return (data, path)
    } catch {
        throw NumPyError(.io(error), path: path)
    }
}
