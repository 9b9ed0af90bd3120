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
