import Testing

@testable import RNNODETensors

/// The recycled memory behind the kernels' scratch buffers and large tensors.
@Suite("Workspaces")
struct WorkspaceTests {
    @Test func releasedBlocksAreReusedUpToTheLimits() {
        let pool = WorkspacePool()
        let first = pool.take(byteCount: 4096)
        pool.give(first, byteCount: 4096)
        #expect(pool.cachedBytes == 4096)
        #expect(pool.take(byteCount: 4096) == first)
        #expect(pool.cachedBytes == 0)
        let other = pool.take(byteCount: 8192)  // a different size gets a different block
        #expect(other != first)
        pool.give(first, byteCount: 4096)
        pool.give(other, byteCount: 8192)
        #expect(pool.cachedBytes == 12288)
        // Beyond the per-size limit, released blocks are freed.
        let blocks = (0..<(WorkspacePool.blocksPerSize + 2)).map { _ in pool.take(byteCount: 64) }
        for block in blocks { pool.give(block, byteCount: 64) }
        #expect(pool.cachedBytes == 12288 + 64 * WorkspacePool.blocksPerSize)
    }

    @Test func sizesRoundUpToClassesWithLittleWaste() {
        #expect(WorkspacePool.sizeClass(1) == 64 && WorkspacePool.sizeClass(64) == 64 && WorkspacePool.sizeClass(65) == 128)
        #expect(WorkspacePool.sizeClass(4096) == 4096 && WorkspacePool.sizeClass(4097) == 4608)
        for byteCount in [5000, 65_537, 1_000_000, 1_040_000, 123_456_789, 1 << 30] {
            let size = WorkspacePool.sizeClass(byteCount)
            #expect(size >= byteCount && Double(size) <= Double(byteCount) * 1.125, "\(byteCount) → \(size)")
            #expect(WorkspacePool.sizeClass(size) == size)
        }
        // Requests of a little different sizes share blocks.
        let pool = WorkspacePool()
        let block = pool.take(byteCount: 1_000_000)
        pool.give(block, byteCount: 1_000_000)
        #expect(pool.take(byteCount: 1_040_000) == block)
    }

    /// A loop whose sizes keep changing (batches of every length) keeps at most its high-water
    /// mark of memory idle, not a block of every size it ever used.
    @Test func idleMemoryStaysBelowTheHighWaterMark() {
        let pool = WorkspacePool()
        let step = 3 << 20
        for round in 0..<200 {
            // Two blocks live at once, of sizes no earlier round used.
            let sizes = [step + round * 70_001, 2 * step + round * 90_001]
            let blocks = sizes.map { pool.take(byteCount: $0) }
            for (block, size) in zip(blocks, sizes) { pool.give(block, byteCount: size) }
            let limit = max(WorkspacePool.minimumCachedBytes, pool.highWaterBytes)
            #expect(pool.cachedBytes <= limit, "round \(round): \(pool.cachedBytes) idle bytes")
        }
        #expect(pool.highWaterBytes < 48 << 20)
        #expect(pool.cachedBytes <= WorkspacePool.minimumCachedBytes)
        // Without the classes and the eviction, this loop kept every block: 200 × 2 sizes, 2.7 GiB
        // capped at 512 MiB.
        #expect(pool.cachedBytes > 0)
    }

    /// Tensors of 128 KiB and more keep their scalars in recycled blocks, with the same value
    /// semantics as small ones.
    @Test func largeTensorsUseRecycledBlocks() {
        let count = recycledTensorBytes / MemoryLayout<Float>.stride + 3
        let original = Tensor<Float>(shape: [count], scalars: (0..<count).map { Float($0) })
        var copy = original
        copy.setScalar(-1, at: [5])  // copy-on-write: the original keeps its scalars
        #expect(original.scalars[5] == 5 && copy.scalars[5] == -1 && copy.scalars[count - 1] == Float(count - 1))
        let shifted = original + 1
        #expect(original != copy && shifted.scalars[0] == 1 && shifted.scalars[count - 1] == Float(count))
        let small = Tensor<Float>(shape: [4], scalars: [1, 2, 3, 4])
        #expect(small.storage.buffer.withUnsafeMutablePointerToHeader { $0.pointee.block } == nil)
        #expect(original.storage.buffer.withUnsafeMutablePointerToHeader { $0.pointee.block } != nil)
    }

    @Test func aWorkspaceReturnsItsBlockWhenReleased() {
        let before = WorkspacePool.shared.cachedBytes
        var workspace: Workspace? = Workspace(count: 1_000_003, of: Float.self)  // a size no other test uses
        workspace!.pointer(Float.self).update(repeating: 1, count: 1_000_003)
        workspace = nil
        #expect(WorkspacePool.shared.cachedBytes >= before)
    }
}
