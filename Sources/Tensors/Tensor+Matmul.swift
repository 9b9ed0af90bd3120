// Matrix products. `gemmKernel` sends Float and Double products of at least
// `GemmTuning.minimumBlockedWork` multiply–adds to the C target CRNNODEKernels: a BLIS-style blocked
// GEMM (packed panels of A and B around a register micro-kernel: 12×32 / 12×16 on AVX-512, 6×16 /
// 6×8 on AVX2+FMA, plus row and dot-product kernels for products of at most 4 rows) whose
// instruction set is chosen at run time, with a portable C path on other CPUs. Products of at least
// `GemmTuning.minimumThreadedWork(path:double:)` multiply–adds (about 90 µs of one core's work on
// the path) are split by columns (or rows) over the CPUs: the caller and a small pool of C worker
// threads (faster than Dispatch's `concurrentPerform` on the reference machine, 1.1–1.5× on
// 176³–512³; see pool.c). The split does not change any result. Tiny products keep the Swift loop
// nest `loopGemm`, which also stays the generic fallback. The operation's contract (shapes,
// broadcasting, gradients) is what the rest of the library relies on.

import CRNNODEKernels

/// The matrix product, batched over leading axes with NumPy's rules.
///
/// - Shapes: `[..., m, k] · [..., k, n] → [..., m, n]`, the leading (batch) axes broadcast. A rank-1
///   left operand `[k]` is a row vector (its axis is dropped from the result), a rank-1 right operand
///   `[k]` a column vector.
/// - Derivatives: ∂/∂A = G Bᵀ, ∂/∂B = Aᵀ G, summed over broadcast batch axes.
///
/// ```swift
/// let h = tanh(matmul(x, w) + b)    // x: [batch, in], w: [in, out], b: [out]
/// ```
@inlinable
public func matmul<T>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    require(a.rank >= 1 && b.rank >= 1, "matmul of a rank-0 tensor: shapes \(a.shape) and \(b.shape)")
    if a.rank == 1 || b.rank == 1 {
        // Promote vectors to a row [1, k] / a column [k, 1], then drop the added axes.
        var result = matmul(a.rank == 1 ? a.expandingShape(at: 0) : a, b.rank == 1 ? b.expandingShape(at: 1) : b)
        if b.rank == 1 { result = result.squeezingShape(at: -1) }
        if a.rank == 1 { result = result.squeezingShape(at: b.rank == 1 ? -1 : -2) }
        return result
    }
    let value = batchedMatmulKernel(a, b, transposeA: false, transposeB: false)
    guard a.isRecorded || b.isRecorded else { return value }
    let (ca, cb) = (a.detached, b.detached)
    return Tensor.recording(value, a, b) { g, needsA, needsB in
        (
            needsA ? batchedMatmulKernel(g, cb, transposeA: false, transposeB: true).unbroadcast(to: ca.shape) : nil,
            needsB ? batchedMatmulKernel(ca, g, transposeA: true, transposeB: false).unbroadcast(to: cb.shape) : nil
        )
    }
}

/// x·W + b in one operation: the leading axes of `x` are flattened into the rows of one matrix
/// product, whose result starts from the bias rows.
///
/// - Shapes: x `[..., k]`, W `[k, n]`, b `[n]` → `[..., n]`.
/// - Derivatives: ∂/∂x = G Wᵀ, ∂/∂W = xᵀ G (one product over all rows), ∂/∂b = the column sums of G.
///
/// The same values as `matmul(x, weight) + bias` to rounding, without the intermediate product
/// tensor or the per-slice products and reductions that a batched `matmul` of a `[time, batch, k]`
/// input would run.
///
/// ```swift
/// let projected = affine(x, w, b)    // x: [time, batch, in], w: [in, out], b: [out]
/// ```
@inlinable
public func affine<T>(_ x: Tensor<T>, _ weight: Tensor<T>, _ bias: Tensor<T>) -> Tensor<T> {
    require(
        x.rank >= 1 && weight.rank == 2 && x.shape[x.rank - 1] == weight.shape[0],
        "affine: x \(describeShape(x.shape)) and weight \(describeShape(weight.shape)) do not align")
    let (k, n) = (weight.shape[0], weight.shape[1])
    require(bias.shape == [n], "affine: the bias must be [\(n)], got \(describeShape(bias.shape))")
    let rows = x.scalarCount / Swift.max(k, 1)
    let shape = Array(x.shape.dropLast()) + [n]
    let value = Tensor<T>.filled(shape) { c in
        bias.withUnsafeBufferPointer { b in
            for row in 0..<rows { (c + row * n).update(from: b.baseAddress!, count: n) }
        }
        x.withUnsafeBufferPointer { a in
            weight.withUnsafeBufferPointer { w in
                stridedGemm(
                    m: rows, n: n, k: k, a: a.baseAddress!, lda: k, transposeA: false, b: w.baseAddress!, ldb: n,
                    transposeB: false, c: c, ldc: n)
            }
        }
    }
    guard x.isRecorded || weight.isRecorded || bias.isRecorded else { return value }
    let (cx, cw) = (x.detached, weight.detached)
    let (needsX, needsW, needsB) = (x.isRecorded, weight.isRecorded, bias.isRecorded)
    return Tensor.recording(value, operands: [x, weight, bias]) { g in
        g.withUnsafeBufferPointer { gb in
            let gp = gb.baseAddress!
            let dx: Tensor<T>? =
                needsX
                ? Tensor.filled(cx.shape) { out in
                    out.update(repeating: 0, count: rows * k)
                    cw.withUnsafeBufferPointer { w in
                        stridedGemm(
                            m: rows, n: k, k: n, a: gp, lda: n, transposeA: false, b: w.baseAddress!, ldb: n,
                            transposeB: true, c: out, ldc: k)
                    }
                } : nil
            let dw: Tensor<T>? =
                needsW
                ? Tensor.filled([k, n]) { out in
                    out.update(repeating: 0, count: k * n)
                    cx.withUnsafeBufferPointer { a in
                        stridedGemm(
                            m: k, n: n, k: rows, a: a.baseAddress!, lda: k, transposeA: true, b: gp, ldb: n,
                            transposeB: false, c: out, ldc: n)
                    }
                } : nil
            let db: Tensor<T>? =
                needsB
                ? Tensor.filled([n]) { out in
                    out.update(repeating: 0, count: n)
                    for row in 0..<rows {
                        let line = gp + row * n
                        for j in 0..<n { out[j] += line[j] }
                    }
                } : nil
            return [dx, dw, db]
        }
    }
}

/// op(A) · op(B) for rank ≥ 2 operands with broadcast batch axes, where op transposes the last two
/// axes when asked (no recording).
@inlinable
package func batchedMatmulKernel<T>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> Tensor<T> {
    let (ar, br) = (a.rank, b.rank)
    let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
    let k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
    let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
    let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
    require(
        k == kb,
        "matmul shapes \(describeShape(a.shape)) and \(describeShape(b.shape)) do not align (\(k) ≠ \(kb))")
    let aBatch = Array(a.shape.dropLast(2))
    let bBatch = Array(b.shape.dropLast(2))
    guard let batch = broadcastShape(aBatch, bBatch) else {
        programmingError(
            "matmul batch axes \(describeShape(aBatch)) and \(describeShape(bBatch)) cannot be broadcast")
    }
    let batchCount = batch.reduce(1, *)
    let aStrides = broadcastStrides(aBatch, to: batch)
    let bStrides = broadcastStrides(bBatch, to: batch)
    var out = TensorStorage<T>(repeating: 0, count: batchCount * m * n)
    out.withUnsafeMutableBufferPointer { c in
        a.storage.withUnsafeBufferPointer { x in
            b.storage.withUnsafeBufferPointer { y in
                // Batch index → offsets of the operand matrices.
                var index = [Int](repeating: 0, count: batch.count)
                for bi in 0..<batchCount {
                    var remainder = bi
                    for axis in stride(from: batch.count - 1, through: 0, by: -1) {
                        index[axis] = remainder % batch[axis]
                        remainder /= batch[axis]
                    }
                    var aOffset = 0
                    var bOffset = 0
                    for axis in 0..<batch.count {
                        aOffset += index[axis] * aStrides[axis]
                        bOffset += index[axis] * bStrides[axis]
                    }
                    gemmKernel(
                        m: m, n: n, k: k,
                        a: x.baseAddress! + aOffset * m * k, transposeA: transposeA,
                        b: y.baseAddress! + bOffset * k * n, transposeB: transposeB,
                        c: c.baseAddress! + bi * m * n)
                }
            }
        }
    }
    return Tensor(shape: batch + [m, n], storage: out, node: nil)
}

/// C[m×n] += op(A)[m×k] · op(B)[k×n] for row-major matrices; op(A) = Aᵀ reads A as [k×m] and
/// op(B) = Bᵀ reads B as [n×k]. C must not overlap A or B.
///
/// Float and Double products of at least ``GemmTuning/minimumBlockedWork`` multiply–adds run in the
/// blocked C kernel (`blockedGemm`), threaded when large; the rest in the loop nest `loopGemm`.
@inlinable
package func gemmKernel<T: TensorScalar>(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, transposeA: Bool,
    b: UnsafePointer<T>, transposeB: Bool,
    c: UnsafeMutablePointer<T>
) {
    if m == 0 || n == 0 || k == 0 { return }
    if m * n * k >= GemmTuning.minimumBlockedWork {
        if T.self == Float.self {
            blockedGemm(
                m: m, n: n, k: k,
                a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), transposeA: transposeA,
                b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), transposeB: transposeB,
                c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self))
            return
        }
        if T.self == Double.self {
            blockedGemm(
                m: m, n: n, k: k,
                a: UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), transposeA: transposeA,
                b: UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), transposeB: transposeB,
                c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self))
            return
        }
    }
    loopGemm(m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB, c: c)
}

/// C[m×n] += op(A)[m×k] · op(B)[k×n] as a plain loop nest: the kernel for small products (no packing,
/// no call across modules) and the generic fallback.
@inlinable
package func loopGemm<T: TensorScalar>(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, transposeA: Bool,
    b: UnsafePointer<T>, transposeB: Bool,
    c: UnsafeMutablePointer<T>
) {
    if m == 0 || n == 0 || k == 0 { return }
    if transposeB {
        // A dot-product loop over Bᵀ's rows cannot be vectorized (its sum is a serial reduction);
        // transposing B once into [k×n] lets every case use the row-update loop below.
        let transposed = UnsafeMutablePointer<T>.allocate(capacity: k * n)
        defer { transposed.deallocate() }
        for j in 0..<n {
            for p in 0..<k { transposed[p * n + j] = b[j * k + p] }
        }
        loopGemm(m: m, n: n, k: k, a: a, transposeA: transposeA, b: transposed, transposeB: false, c: c)
        return
    }
    // Row i of C accumulates the rows of B scaled by A's entries: unit stride innermost, vectorized.
    for i in 0..<m {
        let row = c + i * n
        for p in 0..<k {
            let aip = transposeA ? a[p * m + i] : a[i * k + p]
            let bRow = b + p * n
            for j in 0..<n { row[j] += aip * bRow[j] }
        }
    }
}

/// The implementation behind large `Float` and `Double` products of ``matmul(_:_:)`` in this process:
/// `"avx512"` (x86-64 CPUs with AVX-512F, AVX2 and FMA whose OS saves the vector state, detected at
/// run time), `"avx2-fma"` (with AVX2 and FMA) or `"portable"` (other CPUs). The environment variable
/// `RNNODE_KERNELS=portable`, `=avx2` or `=avx512` caps it for every kernel. For benchmark reports.
public var matmulKernelPath: String { GemmPath.current.name }

/// Where the matrix-multiply kernels switch strategy (measured on 2-core machines; see
/// Docs/Benchmarks.md, "Matrix multiply" and "Kernels for the machine at hand").
@usableFromInline
package enum GemmTuning {
    /// The fewest multiply–adds (m·n·k) for which the C kernels beat the Swift loop nest (below, both
    /// take about the 0.2 µs a `matmul` costs anyway).
    @inlinable package static var minimumBlockedWork: Int { 512 }

    /// The fewest multiply–adds for which a Float product on the AVX2 path is split over the CPUs:
    /// about 90 µs of one core's work, so that it pays even when the pool's worker has gone to sleep
    /// and is slow to wake. (An RNN step's 32×128×512 = 2.1 M stays on the calling thread.)
    static let minimumThreadedWorkAVX2Float = 4_000_000

    /// One core's speed on `path` in the given precision relative to the AVX2 path in Float: the
    /// threading threshold keeps the same time, not the same size, on every path. The portable and
    /// AVX2 figures are single-core `gemm-f32-512` and `gemm-f64-512` on an AVX2 machine; AVX-512's
    /// depends on the CPU (about 1.8× AVX2 where a core has 512-bit FMA units, about 1× where it
    /// splits each 512-bit operation in two, as Zen 4 does), so it is measured once per process
    /// (``avx512Speedup``) and scales AVX2's figure in each precision.
    static func relativeSpeed(path: GemmPath, double: Bool) -> Double {
        relativeSpeed(path: path, double: double, avx512Speedup: avx512Speedup)
    }

    /// ``relativeSpeed(path:double:)`` with the AVX-512 path `avx512Speedup` times as fast as AVX2.
    static func relativeSpeed(
        path: GemmPath, double: Bool, avx512Speedup: (float: Double, double: Double)
    ) -> Double {
        switch (path, double) {
        case (.portable, false): return 0.33
        case (.portable, true): return 0.16
        case (.avx2FMA, false): return 1
        case (.avx2FMA, true): return 0.48
        case (.avx512, false): return avx512Speedup.float
        case (.avx512, true): return 0.48 * avx512Speedup.double
        }
    }

    /// How much faster one core runs a product on the AVX-512 path than on the AVX2 path, in Float
    /// and in Double, measured at the first threading decision on the AVX-512 path: a 48×128×256
    /// product (1.6·10⁶ multiply–adds) on each path in turn, the fastest of seven runs of each, the
    /// ratio kept within [0.5, 2] (512-bit vectors are at most twice as wide). 1 on CPUs without
    /// AVX-512. Only which thread computes which columns depends on it, never a result.
    package static let avx512Speedup: (float: Double, double: Double) = {
        guard GemmPath.best == .avx512 else { return (1, 1) }
        return (measuredSpeedup(Float.self), measuredSpeedup(Double.self))
    }()

    /// The AVX-512 path's speed over the AVX2 path's on one core, for ``avx512Speedup``.
    private static func measuredSpeedup<T: TensorScalar>(_: T.Type) -> Double {
        let (m, n, k) = (48, 128, 256)
        let a = UnsafeMutablePointer<T>.allocate(capacity: m * k)
        let b = UnsafeMutablePointer<T>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<T>.allocate(capacity: m * n)
        defer { (a.deallocate(), b.deallocate(), c.deallocate()) }
        a.initialize(repeating: 1, count: m * k)
        b.initialize(repeating: 1, count: k * n)
        c.initialize(repeating: 0, count: m * n)
        let clock = ContinuousClock()
        func seconds(_ path: GemmPath) -> Double {
            let elapsed = clock.measure {
                if T.self == Float.self {
                    blockedGemm(
                        m: m, n: n, k: k, a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), transposeA: false,
                        b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), transposeB: false,
                        c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), path: path, threaded: false)
                } else {
                    blockedGemm(
                        m: m, n: n, k: k, a: UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), transposeA: false,
                        b: UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), transposeB: false,
                        c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), path: path, threaded: false)
                }
            }
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
        _ = (seconds(.avx2FMA), seconds(.avx512))  // warm-up: page faults, scratch memory
        var (avx2, avx512) = (Double.infinity, Double.infinity)
        for _ in 0..<7 {
            avx2 = Swift.min(avx2, seconds(.avx2FMA))
            avx512 = Swift.min(avx512, seconds(.avx512))
        }
        return Swift.min(2, Swift.max(0.5, avx2 / Swift.max(1e-9, avx512)))
    }

    /// The fewest multiply–adds for which a product on `path` (nil: the current one) is split over
    /// the CPUs: ``minimumThreadedWorkAVX2Float`` scaled by the path's ``relativeSpeed(path:double:)``.
    package static func minimumThreadedWork(path: GemmPath? = nil, double: Bool) -> Int {
        Int((Double(minimumThreadedWorkAVX2Float) * relativeSpeed(path: path ?? .current, double: double)).rounded())
    }

    /// The CPUs this process may use.
    @usableFromInline package static let cpuCount = Int(rnnode_cpu_count())

    /// How many threads an m×n×k product on `path` (nil: the current one) should use: 1 below
    /// ``minimumThreadedWork(path:double:)`` multiply–adds, else up to one per CPU, each with at
    /// least half that much work.
    static func threads(m: Int, n: Int, k: Int, path: GemmPath? = nil, double: Bool) -> Int {
        let work = m * n * k
        let minimum = minimumThreadedWork(path: path, double: double)
        return work < minimum ? 1 : Swift.min(cpuCount, work / Swift.max(1, minimum / 2))
    }
}

/// The implementations of the blocked C kernel (CRNNODEKernels' `RNNODE_GEMM_PATH_…`).
@usableFromInline
package enum GemmPath: Sendable, Comparable {
    /// Plain C loops, compiled for the baseline CPU: correct everywhere.
    case portable
    /// AVX2 micro-kernels with fused multiply–adds (x86-64 CPUs that have both).
    case avx2FMA
    /// AVX-512F kernels for everything: the blocked and few-row products, products with a packed
    /// operand, activations and gates (x86-64 CPUs with AVX-512F, AVX2 and FMA).
    case avx512

    /// The path ``gemmKernel(m:n:k:a:transposeA:b:transposeB:c:)`` uses: the best the CPU supports,
    /// capped by the environment variable `RNNODE_KERNELS` (`portable`, `avx2`, `avx512`).
    static var current: GemmPath { GemmPath(code: rnnode_gemm_path()) }

    /// The fastest path this CPU supports.
    static var best: GemmPath { GemmPath(code: rnnode_gemm_best_path()) }

    /// Every path this CPU can run, slowest first.
    static var supported: [GemmPath] { [.portable, .avx2FMA, .avx512].filter { $0 <= best } }

    init(code: CInt) {
        switch code {
        case CInt(RNNODE_GEMM_PATH_AVX512): self = .avx512
        case CInt(RNNODE_GEMM_PATH_AVX2_FMA): self = .avx2FMA
        default: self = .portable
        }
    }

    /// The C library's code for the path.
    var code: CInt {
        switch self {
        case .portable: return CInt(RNNODE_GEMM_PATH_PORTABLE)
        case .avx2FMA: return CInt(RNNODE_GEMM_PATH_AVX2_FMA)
        case .avx512: return CInt(RNNODE_GEMM_PATH_AVX512)
        }
    }

    /// "avx512", "avx2-fma" or "portable".
    var name: String { String(cString: rnnode_gemm_path_name(code)) }
}

/// C[m×n] += op(A)·op(B) in single precision by the C kernels (`rnnode_sgemm_threaded`) on `path`
/// (nil: ``GemmPath/current``), split over the CPUs for large products unless `threaded` is false
/// (the result is the same). Leading dimensions default to those of packed matrices.
@usableFromInline
package func blockedGemm(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, transposeA: Bool,
    b: UnsafePointer<Float>, transposeB: Bool,
    c: UnsafeMutablePointer<Float>,
    lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
    path: GemmPath? = nil, threaded: Bool = true
) {
    let path = path ?? .current
    let (lda, ldb, ldc) = (lda ?? (transposeA ? m : k), ldb ?? (transposeB ? k : n), ldc ?? n)
    let threads = threaded ? GemmTuning.threads(m: m, n: n, k: k, path: path, double: false) : 1
    rnnode_sgemm_threaded(
        path.code, CInt(threads), transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc)
}

/// C[m×n] += op(A)·op(B) in double precision by the C kernels (`rnnode_dgemm_threaded`) on `path`
/// (nil: ``GemmPath/current``), split over the CPUs for large products unless `threaded` is false
/// (the result is the same). Leading dimensions default to those of packed matrices.
@usableFromInline
package func blockedGemm(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Double>, transposeA: Bool,
    b: UnsafePointer<Double>, transposeB: Bool,
    c: UnsafeMutablePointer<Double>,
    lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
    path: GemmPath? = nil, threaded: Bool = true
) {
    let path = path ?? .current
    let (lda, ldb, ldc) = (lda ?? (transposeA ? m : k), ldb ?? (transposeB ? k : n), ldc ?? n)
    let threads = threaded ? GemmTuning.threads(m: m, n: n, k: k, path: path, double: true) : 1
    rnnode_dgemm_threaded(
        path.code, CInt(threads), transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc)
}

/// C[m×n] += op(A)[m×k] · op(B)[k×n] for row-major matrices with leading dimensions (the distance
/// between consecutive rows, in elements): op(A) = A reads element (i, p) at `a[i·lda + p]`, op(A) = Aᵀ
/// at `a[p·lda + i]`, and likewise for B; C's element (i, j) is `c[i·ldc + j]`. For kernels that
/// multiply views into larger buffers (one time step of a `[batch, time, features]` sequence, the
/// first columns of a state). C must not overlap A or B.
///
/// Float and Double run in the C kernels (threaded for large products unless `threaded` is false, see
/// ``GemmTuning``); other scalars in a loop nest.
@inlinable
package func stridedGemm<T: TensorScalar>(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, transposeA: Bool,
    b: UnsafePointer<T>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<T>, ldc: Int, threaded: Bool = true
) {
    if m == 0 || n == 0 || k == 0 { return }
    if T.self == Float.self {
        blockedGemm(
            m: m, n: n, k: k,
            a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), transposeA: transposeA,
            b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), transposeB: transposeB,
            c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), lda: lda, ldb: ldb, ldc: ldc,
            threaded: threaded)
    } else if T.self == Double.self {
        blockedGemm(
            m: m, n: n, k: k,
            a: UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), transposeA: transposeA,
            b: UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), transposeB: transposeB,
            c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), lda: lda, ldb: ldb, ldc: ldc,
            threaded: threaded)
    } else {
        for i in 0..<m {
            for p in 0..<k {
                let aip = transposeA ? a[p * lda + i] : a[i * lda + p]
                for j in 0..<n { c[i * ldc + j] += aip * (transposeB ? b[j * ldb + p] : b[p * ldb + j]) }
            }
        }
    }
}

/// A right-hand operand op(B) `[k×n]` packed once for many products with it: a recurrent weight,
/// multiplied by a new state at every time step. Float and Double are packed into the C kernel's
/// panel layout (saving the packing each product would repeat); other scalars keep a dense copy.
@usableFromInline
package struct PackedOperand<T: TensorScalar> {
    @usableFromInline package let k: Int, n: Int
    /// The kernel path the panels were packed for (they are valid on that path only).
    @usableFromInline package let path: CInt
    /// The panels (Float, Double) or the dense k×n op(B).
    @usableFromInline package let storage: Workspace
    @usableFromInline package let isPacked: Bool

    /// Packs op(B): B `[k×n]` (`[n×k]` when `transposeB`) with leading dimension `ldb`, for the C
    /// kernel path `path` (nil: the current one).
    @inlinable
    package init(_ b: UnsafePointer<T>, ldb: Int, transposeB: Bool, k: Int, n: Int, path: CInt? = nil) {
        (self.k, self.n) = (k, n)
        self.path = path ?? GemmPath.currentCode
        if T.self == Float.self || T.self == Double.self {
            isPacked = true
            storage = Workspace(count: packedOperandCount(T.self, path: self.path, k: k, n: n), of: T.self)
            packOperand(b, ldb: ldb, transposeB: transposeB, k: k, n: n, path: self.path, into: storage.pointer(T.self))
        } else {
            isPacked = false
            storage = Workspace(count: k * n, of: T.self)
            let dense = storage.pointer(T.self)
            for p in 0..<k {
                for j in 0..<n { dense[p * n + j] = transposeB ? b[j * ldb + p] : b[p * ldb + j] }
            }
        }
    }

    /// C[m×n] += op(A)[m×k] · op(B), A with leading dimension `lda`, C with `ldc`; split over the
    /// CPUs when large unless `threaded` is false.
    @inlinable
    package func multiply(
        m: Int, a: UnsafePointer<T>, lda: Int, transposeA: Bool, c: UnsafeMutablePointer<T>, ldc: Int,
        threaded: Bool = true
    ) {
        if m == 0 || n == 0 || k == 0 { return }
        if isPacked {
            packedGemm(
                m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, packed: storage.pointer(T.self), path: path,
                c: c, ldc: ldc, threaded: threaded)
        } else {
            stridedGemm(
                m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: storage.pointer(T.self), ldb: n,
                transposeB: false, c: c, ldc: ldc, threaded: threaded)
        }
    }
}

extension GemmPath {
    /// The C library's code of ``current``.
    @usableFromInline package static var currentCode: CInt { current.code }
}

/// The number of `T`s (Float or Double) a packed k×n operand takes on `path`.
@usableFromInline
package func packedOperandCount<T>(_: T.Type, path: CInt, k: Int, n: Int) -> Int {
    T.self == Float.self ? rnnode_sgemm_packed_b_count(path, k, n) : rnnode_dgemm_packed_b_count(path, k, n)
}

/// Packs op(B) (Float or Double) for ``packedGemm(m:n:k:a:lda:transposeA:packed:path:c:ldc:threaded:)``.
@usableFromInline
package func packOperand<T>(
    _ b: UnsafePointer<T>, ldb: Int, transposeB: Bool, k: Int, n: Int, path: CInt, into packed: UnsafeMutablePointer<T>
) {
    let transpose: CInt = transposeB ? 1 : 0
    if T.self == Float.self {
        rnnode_sgemm_pack_b(
            path, transpose, k, n, UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb,
            UnsafeMutableRawPointer(packed).assumingMemoryBound(to: Float.self))
    } else {
        rnnode_dgemm_pack_b(
            path, transpose, k, n, UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb,
            UnsafeMutableRawPointer(packed).assumingMemoryBound(to: Double.self))
    }
}

/// C[m×n] += op(A)·op(B) (Float or Double) with op(B) packed by ``packOperand(_:ldb:transposeB:k:n:path:into:)``.
@usableFromInline
package func packedGemm<T>(
    m: Int, n: Int, k: Int, a: UnsafePointer<T>, lda: Int, transposeA: Bool, packed: UnsafePointer<T>, path: CInt,
    c: UnsafeMutablePointer<T>, ldc: Int, threaded: Bool
) {
    let double = T.self == Double.self
    let threads = CInt(threaded ? GemmTuning.threads(m: m, n: n, k: k, path: GemmPath(code: path), double: double) : 1)
    let transpose: CInt = transposeA ? 1 : 0
    if !double {
        rnnode_sgemm_packed(
            path, threads, transpose, m, n, k, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda,
            UnsafeRawPointer(packed).assumingMemoryBound(to: Float.self),
            UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc)
    } else {
        rnnode_dgemm_packed(
            path, threads, transpose, m, n, k, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), lda,
            UnsafeRawPointer(packed).assumingMemoryBound(to: Double.self),
            UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc)
    }
}
