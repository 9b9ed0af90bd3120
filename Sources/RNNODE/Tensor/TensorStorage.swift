/// The heap block holding a tensor's scalars: a header (the count) followed by the scalars.
///
/// A tail-allocated `ManagedBuffer` subclass is one allocation per tensor, and its type metadata is
/// cached by the client's accessor. (A Swift `Array` here cost a runtime metadata lookup for its
/// prespecialized storage class on every allocation: a fifth of the time of small tensor operations.)
@usableFromInline
final class TensorBuffer<Scalar: TensorScalar>: ManagedBuffer<Int, Scalar> {}

/// A tensor's scalars with value semantics: copies share the buffer until one is mutated
/// (copy-on-write), like `Array`, which this replaces for speed.
@usableFromInline
struct TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    // Sendable: the buffer is only ever mutated through a unique reference (copy-on-write).
    @usableFromInline var buffer: TensorBuffer<Scalar>

    /// `count` scalars written by `initialize`, which must set every one.
    @inlinable
    init(count: Int, initializingWith initialize: (UnsafeMutableBufferPointer<Scalar>) throws -> Void) rethrows {
        buffer = unsafeDowncast(TensorBuffer<Scalar>.create(minimumCapacity: count) { _ in count }, to: TensorBuffer<Scalar>.self)
        try buffer.withUnsafeMutablePointerToElements { try initialize(UnsafeMutableBufferPointer(start: $0, count: count)) }
    }

    /// `count` copies of `value`.
    @inlinable
    init(repeating value: Scalar, count: Int) {
        self.init(count: count) { $0.initialize(repeating: value) }
    }

    /// The scalars of `array`.
    @inlinable
    init(_ array: [Scalar]) {
        self.init(count: array.count) { target in
            array.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { target.baseAddress!.initialize(from: base, count: source.count) }
            }
        }
    }

    /// The number of scalars, read through a pointer: the `header` property (a class property) would
    /// cost a dynamic exclusivity check on every access.
    @inlinable
    var count: Int { buffer.withUnsafeMutablePointerToHeader { $0.pointee } }

    @inlinable
    var isEmpty: Bool { count == 0 }

    @inlinable
    subscript(index: Int) -> Scalar {
        get {
            precondition(index >= 0 && index < count, "scalar index \(index) out of range 0..<\(count)")
            return buffer.withUnsafeMutablePointerToElements { $0[index] }
        }
        set {
            precondition(index >= 0 && index < count, "scalar index \(index) out of range 0..<\(count)")
            withUnsafeMutableBufferPointer { $0[index] = newValue }
        }
    }

    @inlinable
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutablePointerToElements { try body(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// Gives the scalars for writing, copying them first if the buffer is shared.
    @inlinable
    mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
    )
        rethrows -> R
    {
        if !isKnownUniquelyReferenced(&buffer) {
            let copy = TensorStorage(count: count) { target in
                withUnsafeBufferPointer { source in
                    if let base = source.baseAddress { target.baseAddress!.initialize(from: base, count: source.count) }
                }
            }
            buffer = copy.buffer
        }
        let count = self.count
        return try buffer.withUnsafeMutablePointerToElements { pointer in
            var scalars = UnsafeMutableBufferPointer(start: pointer, count: count)
            return try body(&scalars)
        }
    }

    /// A new storage with `transform` applied to each scalar.
    @inlinable
    func map<Other: TensorScalar>(_ transform: (Scalar) -> Other) -> TensorStorage<Other> {
        withUnsafeBufferPointer { source in
            TensorStorage<Other>(count: source.count) { target in
                for i in 0..<source.count { target[i] = transform(source[i]) }
            }
        }
    }

    /// The scalars as an array (a copy).
    @inlinable
    var array: [Scalar] { withUnsafeBufferPointer { Array($0) } }

    @inlinable
    static func == (lhs: TensorStorage, rhs: TensorStorage) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.buffer === rhs.buffer { return true }
        return lhs.withUnsafeBufferPointer { a in rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) } }
    }
}
