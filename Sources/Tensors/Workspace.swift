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
/// size class: a bounded cache of released blocks, handed out again for requests of the same class.
///
/// Requests are rounded up to a size class (multiples of 64 bytes up to 4 KiB, then eight classes
/// per power of two, so at most 12.5 % is wasted), so that a program whose sizes vary a little —
/// batches of different lengths — reuses its blocks instead of collecting idle blocks of every
/// exact size. The idle blocks never exceed what the program has had in use at once (its
/// high-water mark of blocks taken and not yet given back, at least ``minimumCachedBytes``, at most
/// ``maximumCachedBytes``) nor ``blocksPerSize`` of one class; beyond that, the longest-idle blocks
/// are freed first.
@usableFromInline
package final class WorkspacePool: Sendable {
    static let shared = WorkspacePool()

    /// The most free blocks kept of one size class.
    static let blocksPerSize = 8
    /// The idle memory always allowed, whatever the high-water mark.
    static let minimumCachedBytes = 64 << 20
    /// The most memory kept in free blocks.
    static let maximumCachedBytes = 512 << 20

    private struct Cache: ~Copyable {
        /// Free blocks by size class: (address, when it was given back), oldest first.
        var blocks: [Int: [(address: UInt, released: UInt64)]] = [:]
        /// Bytes in free blocks.
        var bytes = 0
        /// Bytes in blocks taken and not given back, and the most there have been.
        var live = 0
        var highWater = 0
        /// Counts releases, to order the free blocks by age.
        var clock: UInt64 = 0
    }

    private let cache = Mutex(Cache())

    /// The size of the blocks that serve requests of `byteCount` bytes.
    static func sizeClass(_ byteCount: Int) -> Int {
        guard byteCount > 4096 else { return Swift.max(64, (byteCount + 63) & ~63) }
        // For byteCount in (2ᵏ, 2ᵏ⁺¹]: multiples of 2ᵏ⁻³.
        let granule = 1 << (Int.bitWidth - (byteCount - 1).leadingZeroBitCount - 4)
        return (byteCount + granule - 1) & ~(granule - 1)
    }

    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = Self.sizeClass(byteCount)
        let cached: UInt? = cache.withLock { cache in
            cache.live += size
            cache.highWater = Swift.max(cache.highWater, cache.live)
            // Take the list out, change it, put it back: a mutation through the dictionary's nested
            // accessors (`blocks[size]?.popLast()`) allocates their frames on every call.
            guard var blocks = cache.blocks.removeValue(forKey: size) else { return nil }
            let block = blocks.popLast()
            cache.blocks[size] = blocks
            guard let block else { return nil }
            cache.bytes -= size
            return block.address
        }
        return UnsafeMutableRawPointer(bitPattern: cached ?? 0)
            ?? UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    func give(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        let size = Self.sizeClass(byteCount)
        // Longest-idle blocks that make room are freed under the lock; the one given, if it is not
        // kept, after it.
        let freed: UInt? = cache.withLock { cache in
            cache.live -= size
            let limit = Swift.min(Self.maximumCachedBytes, Swift.max(Self.minimumCachedBytes, cache.highWater))
            var blocks = cache.blocks.removeValue(forKey: size) ?? []  // out and back, as in take
            defer { cache.blocks[size] = blocks }
            if blocks.count >= Self.blocksPerSize { return UInt(bitPattern: block) }
            // Make room by freeing the blocks idle longest (of other classes: this one's list is out).
            while cache.bytes + size > limit {
                guard let (oldestSize, oldest) = Self.longestIdle(cache.blocks) else { break }
                var list = cache.blocks.removeValue(forKey: oldestSize)!
                list.removeFirst()
                cache.blocks[oldestSize] = list
                cache.bytes -= oldestSize
                UnsafeMutableRawPointer(bitPattern: oldest)?.deallocate()
            }
            guard cache.bytes + size <= limit else { return UInt(bitPattern: block) }
            cache.clock += 1
            blocks.append((UInt(bitPattern: block), cache.clock))
            cache.bytes += size
            return nil
        }
        if let freed { UnsafeMutableRawPointer(bitPattern: freed)?.deallocate() }
    }

    /// The size class and address of the free block released longest ago.
    private static func longestIdle(_ blocks: [Int: [(address: UInt, released: UInt64)]]) -> (Int, UInt)? {
        var best: (size: Int, address: UInt, released: UInt64)?
        for (size, list) in blocks {
            if let first = list.first, first.released < best?.released ?? .max { best = (size, first.address, first.released) }
        }
        return best.map { ($0.size, $0.address) }
    }

    /// The memory held in free blocks, in bytes (for tests).
    var cachedBytes: Int { cache.withLock { $0.bytes } }
    /// The most memory there has been in blocks taken and not given back (for tests).
    var highWaterBytes: Int { cache.withLock { $0.highWater } }
}
