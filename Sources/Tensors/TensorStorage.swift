/// The heap block holding a tensor's scalars: a header (the count) followed by the scalars, or, for
/// large tensors, by nothing, the scalars living in a recycled block (``WorkspacePool``).
///
/// A tail-allocated `ManagedBuffer` subclass is one allocation per tensor, and its type metadata is
/// cached by the client's accessor. (A Swift `Array` here cost a runtime metadata lookup for its
/// prespecialized storage class on every allocation: a fifth of the time of small tensor operations.)
/// Large blocks are recycled because the system allocator returns freed blocks of that size to the
/// operating system, and every new one then costs a page fault per 4 KiB written: a training loop
/// allocates the same large tensors every batch (a third of an LSTM layer's forward pass went to
/// page faults and zeroing before).
@usableFromInline
package final class TensorBuffer<Scalar: TensorScalar>: ManagedBuffer<TensorBufferHeader, Scalar> {
    deinit {
        withUnsafeMutablePointerToHeader { header in
            if let block = header.pointee.block {
                WorkspacePool.shared.give(block, byteCount: header.pointee.count * MemoryLayout<Scalar>.stride)
            }
        }
    }
}

/// A tensor buffer's header: the number of scalars, and the recycled block holding them (nil when
/// they follow the header).
@usableFromInline
package struct TensorBufferHeader {
    @usableFromInline package var count: Int
    @usableFromInline package var block: UnsafeMutableRawPointer?

    @inlinable package init(count: Int, block: UnsafeMutableRawPointer?) {
        self.count = count
        self.block = block
    }
}

/// The smallest tensors, in bytes, whose scalars live in a recycled block: glibc's default threshold
/// for serving an allocation from fresh pages of its own (`M_MMAP_THRESHOLD`).
@inlinable package var recycledTensorBytes: Int { 128 << 10 }

/// A recycled block of `byteCount` bytes (for ``TensorBuffer``).
@usableFromInline
package func takeRecycledBlock(byteCount: Int) -> UnsafeMutableRawPointer {
    WorkspacePool.shared.take(byteCount: byteCount)
}

/// A tensor's scalars with value semantics: copies share the buffer until one is mutated
/// (copy-on-write), like `Array`, which this replaces for speed.
@usableFromInline
package struct TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    // Sendable: the buffer is only ever mutated through a unique reference (copy-on-write).
    @usableFromInline package var buffer: TensorBuffer<Scalar>

    /// `count` scalars written by `initialize`, which must set every one.
    @inlinable
    package init(count: Int, initializingWith initialize: (UnsafeMutableBufferPointer<Scalar>) throws -> Void) rethrows {
        let bytes = count * MemoryLayout<Scalar>.stride
        if bytes >= recycledTensorBytes {
            let block = takeRecycledBlock(byteCount: bytes)
            buffer = unsafeDowncast(
                TensorBuffer<Scalar>.create(minimumCapacity: 0) { _ in TensorBufferHeader(count: count, block: block) },
                to: TensorBuffer<Scalar>.self)
        } else {
            buffer = unsafeDowncast(
                TensorBuffer<Scalar>.create(minimumCapacity: count) { _ in TensorBufferHeader(count: count, block: nil) },
                to: TensorBuffer<Scalar>.self)
        }
        try withElements { try initialize(UnsafeMutableBufferPointer(start: $0, count: count)) }
    }

    /// Gives `body` the first scalar's address (in the recycled block or after the header).
    @inlinable
    package func withElements<R>(_ body: (UnsafeMutablePointer<Scalar>) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutablePointers { header, elements in
            try body(header.pointee.block?.assumingMemoryBound(to: Scalar.self) ?? elements)
        }
    }

    /// `count` copies of `value`.
    @inlinable
    package init(repeating value: Scalar, count: Int) {
        self.init(count: count) { $0.initialize(repeating: value) }
    }

    /// The scalars of `array`.
    @inlinable
    package init(_ array: [Scalar]) {
        self.init(count: array.count) { target in
            array.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { target.baseAddress!.initialize(from: base, count: source.count) }
            }
        }
    }

    /// The number of scalars, read through a pointer: the `header` property (a class property) would
    /// cost a dynamic exclusivity check on every access.
    @inlinable
    package var count: Int { buffer.withUnsafeMutablePointerToHeader { $0.pointee.count } }

    @inlinable
    package var isEmpty: Bool { count == 0 }

    @inlinable
    package subscript(index: Int) -> Scalar {
        get {
            require(index >= 0 && index < count, "scalar index \(index) out of range 0..<\(count)")
            return withElements { $0[index] }
        }
        set {
            require(index >= 0 && index < count, "scalar index \(index) out of range 0..<\(count)")
            withUnsafeMutableBufferPointer { $0[index] = newValue }
        }
    }

    @inlinable
    package func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try withElements { try body(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// Gives the scalars for writing, copying them first if the buffer is shared.
    @inlinable
    package mutating func withUnsafeMutableBufferPointer<R>(
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
        return try withElements { pointer in
            var scalars = UnsafeMutableBufferPointer(start: pointer, count: count)
            return try body(&scalars)
        }
    }

    /// A new storage with `transform` applied to each scalar.
    @inlinable
    package func map<Other: TensorScalar>(_ transform: (Scalar) -> Other) -> TensorStorage<Other> {
        withUnsafeBufferPointer { source in
            TensorStorage<Other>(count: source.count) { target in
                for i in 0..<source.count { target[i] = transform(source[i]) }
            }
        }
    }

    /// The scalars as an array (a copy).
    @inlinable
    package var array: [Scalar] { withUnsafeBufferPointer { Array($0) } }

    @inlinable
    package static func == (lhs: TensorStorage, rhs: TensorStorage) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.buffer === rhs.buffer { return true }
        return lhs.withUnsafeBufferPointer { a in rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) } }
    }
}
