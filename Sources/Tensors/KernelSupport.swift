// Helpers for kernels that work on raw buffers: constant tensors written in place, the base
// addresses of several tensors at once, and blocks of rows run on the CPUs concurrently.

import Dispatch

extension Tensor {
    /// A new constant tensor of `shape` whose scalars `body` writes (all of them).
    @inlinable
    package static func filled(_ shape: [Int], _ body: (UnsafeMutablePointer<Scalar>) -> Void) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: checkedElementCount(shape)) { body($0.baseAddress!) }, node: nil)
    }
}

/// Gives `body` the base addresses of the scalars of `tensors`, in order.
@inlinable
package func withBaseAddresses<Scalar, R>(
    _ tensors: ArraySlice<Tensor<Scalar>>, collected: [UnsafePointer<Scalar>] = [],
    _ body: ([UnsafePointer<Scalar>]) -> R
) -> R {
    guard let first = tensors.first else { return body(collected) }
    return first.withUnsafeBufferPointer { buffer in
        withBaseAddresses(tensors.dropFirst(), collected: collected + [buffer.baseAddress!], body)
    }
}

/// A value handed to concurrent code that only touches disjoint parts of what it captures.
@usableFromInline
package struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline package let value: Value
    @inlinable package init(_ value: Value) { self.value = value }
}

/// Splits `rows` rows into one block per CPU (at most one per row), or a single block when the
/// work is below `minimumParallelWork` (waking a thread costs more than it saves there).
@inlinable
package func rowBlocks(rows: Int, work: Int, minimumParallelWork: Int = 2_000_000) -> [Range<Int>] {
    let count = work < minimumParallelWork ? 1 : Swift.max(1, Swift.min(GemmTuning.cpuCount, rows))
    return (0..<count).map { (rows * $0 / count)..<(rows * ($0 + 1) / count) }
}

/// Runs `body(block, rows)` for each block of rows, concurrently when there are several. The
/// blocks must write disjoint memory.
@inlinable
package func forEachRowBlock(_ blocks: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
    if blocks.count == 1 {
        body(0, blocks[0])
        return
    }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: blocks.count) { shared.value($0, blocks[$0]) }
    }
}

/// Whether `count` scalars are all finite. For Float and Double an integer OR over the exponent
/// bits (all ones exactly for NaN and ±∞: adding one exponent unit then carries into the sign bit),
/// which vectorizes where a floating-point test with an early exit would not.
@inlinable
package func allFinite<Scalar: TensorScalar>(_ values: UnsafePointer<Scalar>, count: Int) -> Bool {
    if Scalar.self == Float.self {
        let bits = UnsafeRawPointer(values).assumingMemoryBound(to: UInt32.self)
        var any: UInt32 = 0
        for e in 0..<count { any |= (bits[e] & 0x7F80_0000) &+ 0x0080_0000 }
        return any & 0x8000_0000 == 0
    }
    if Scalar.self == Double.self {
        let bits = UnsafeRawPointer(values).assumingMemoryBound(to: UInt64.self)
        var any: UInt64 = 0
        for e in 0..<count { any |= (bits[e] & 0x7FF0_0000_0000_0000) &+ 0x0010_0000_0000_0000 }
        return any & 0x8000_0000_0000_0000 == 0
    }
    var finite = true
    for e in 0..<count { finite = finite && values[e].isFinite }
    return finite
}
