import Synchronization

/// Scratch memory for a kernel, recycled across calls: a training loop's fused recurrent layer asks
/// for the same few buffers every batch, and gets back the blocks the previous batch released
/// instead of fresh pages from the system (which cost a page fault per 4 KiB touched).
///
/// A workspace lives as long as its last reference: a forward pass's saved activations stay alive
/// in the pullback that needs them and go back to the pool when the tape is released. The contents
/// of a new workspace are unspecified; kernels write before they read.
@usableFromInline
package final class Workspace: @unchecked Sendable {
    // Sendable: each workspace's memory is written only by the kernel that owns it, before it is shared.
    @usableFromInline package let base: UnsafeMutableRawPointer
    @usableFromInline package let byteCount: Int

    /// A workspace for `count` values of `Scalar`.
    @inlinable
    package convenience init<Scalar>(count: Int, of: Scalar.Type) {
        self.init(byteCount: Swift.max(count, 1) * MemoryLayout<Scalar>.stride)
    }

    @usableFromInline
    package init(byteCount: Int) {
        self.byteCount = byteCount
        base = WorkspacePool.shared.take(byteCount: byteCount)
    }

    deinit { WorkspacePool.shared.give(base, byteCount: byteCount) }

    /// The memory as `Scalar` values.
    @inlinable
    package func pointer<Scalar>(_ type: Scalar.Type) -> UnsafeMutablePointer<Scalar> {
        base.assumingMemoryBound(to: Scalar.self)
    }
}

/// The free blocks behind ``Workspace``s and the scalars of large tensors (``TensorBuffer``), by
/// size: a bounded cache (at most ``blocksPerSize`` blocks of each size and ``maximumCachedBytes`` in
/// all; beyond that, released blocks are freed).
@usableFromInline
package final class WorkspacePool: Sendable {
    static let shared = WorkspacePool()

    /// The most free blocks kept of one size.
    static let blocksPerSize = 8
    /// The most memory kept in free blocks.
    static let maximumCachedBytes = 512 << 20

    private struct Cache: ~Copyable {
        /// Free blocks' addresses by byte count.
        var blocks: [Int: [UInt]] = [:]
        var bytes = 0
    }

    private let cache = Mutex(Cache())

    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let cached: UInt? = cache.withLock { cache in
            // Take the list out, change it, put it back: a mutation through the dictionary's nested
            // accessors (`blocks[size]?.popLast()`) allocates their frames on every call.
            guard var blocks = cache.blocks.removeValue(forKey: byteCount) else { return nil }
            let block = blocks.popLast()
            cache.blocks[byteCount] = blocks
            guard let block else { return nil }
            cache.bytes -= byteCount
            return block
        }
        return UnsafeMutableRawPointer(bitPattern: cached ?? 0)
            ?? UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    func give(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        let address = UInt(bitPattern: block)
        let kept = cache.withLock { cache in
            var blocks = cache.blocks.removeValue(forKey: byteCount) ?? []  // out and back, as in take
            defer { cache.blocks[byteCount] = blocks }
            guard blocks.count < Self.blocksPerSize, cache.bytes + byteCount <= Self.maximumCachedBytes else { return false }
            blocks.append(address)
            cache.bytes += byteCount
            return true
        }
        if !kept { block.deallocate() }
    }

    /// The memory held in free blocks, in bytes (for tests).
    var cachedBytes: Int { cache.withLock { $0.bytes } }
}
