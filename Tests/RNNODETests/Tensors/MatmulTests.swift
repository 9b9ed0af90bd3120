import Dispatch
import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// A product's dimensions: op(A) is m×k, op(B) k×n.
struct GemmShape: Sendable, CustomStringConvertible {
    let m: Int
    let n: Int
    let k: Int
    init(_ m: Int, _ n: Int, _ k: Int) { (self.m, self.n, self.k) = (m, n, k) }
    var description: String { "\(m)×\(n)×\(k)" }
    var work: Int { m * n * k }
}

/// Random operands of one product and its reference value, summed in Double by the textbook loop.
///
/// The entries are Floats, exactly representable in both precisions, so one reference serves both.
/// `magnitude[i, j]` = Σₚ |A[i, p]·B[p, j]| + |C₀[i, j]| scales the rounding error allowed per entry.
struct GemmCase {
    let shape: GemmShape
    /// op(A) [m×k], op(B) [k×n] and the initial C [m×n], row-major.
    let a: [Double]
    let b: [Double]
    let c0: [Double]
    let reference: [Double]
    let magnitude: [Double]

    init(_ shape: GemmShape, seed: UInt64) {
        self.shape = shape
        var generator = SeededGenerator(seed: seed)
        func draw(_ count: Int) -> [Double] {
            (0..<count).map { _ in Double(Float(generator.nextUnitDouble() * 2 - 1)) }
        }
        let (m, n, k) = (shape.m, shape.n, shape.k)
        a = draw(m * k)
        b = draw(k * n)
        c0 = draw(m * n)
        var reference = c0
        var magnitude = c0.map { Swift.abs($0) }
        for i in 0..<m {
            for p in 0..<k {
                let aip = a[i * k + p]
                for j in 0..<n {
                    reference[i * n + j] += aip * b[p * n + j]
                    magnitude[i * n + j] += Swift.abs(aip * b[p * n + j])
                }
            }
        }
        self.reference = reference
        self.magnitude = magnitude
    }

    /// A in the layout the kernel reads: [m×k], or [k×m] when it is to be transposed.
    func storedA<T: TensorScalar>(_: T.Type, transposed: Bool) -> [T] {
        stored(a, rows: shape.m, columns: shape.k, transposed: transposed)
    }

    /// B in the layout the kernel reads: [k×n], or [n×k] when it is to be transposed.
    func storedB<T: TensorScalar>(_: T.Type, transposed: Bool) -> [T] {
        stored(b, rows: shape.k, columns: shape.n, transposed: transposed)
    }

    private func stored<T: TensorScalar>(_ x: [Double], rows: Int, columns: Int, transposed: Bool) -> [T] {
        guard transposed else { return x.map { T($0) } }
        var result = [T](repeating: 0, count: x.count)
        for r in 0..<rows {
            for c in 0..<columns { result[c * rows + r] = T(x[r * columns + c]) }
        }
        return result
    }

    /// Checks C = C₀ + op(A)·op(B) to rounding: |error| ≤ (k + 2)·ε·magnitude per entry.
    func expectMatches<T: TensorScalar>(
        _ c: [T], _ label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(c.count == reference.count, "\(label)", sourceLocation: sourceLocation)
        let epsilon = Double(T.ulpOfOne)
        var worst = 0.0
        var failures = 0
        for index in reference.indices {
            let error = Swift.abs(Double(c[index]) - reference[index])
            let allowed = Double(shape.k + 2) * epsilon * magnitude[index] + Double(T.leastNormalMagnitude)
            if !(error <= allowed) { failures += 1 }
            worst = Swift.max(worst, error / Swift.max(magnitude[index], 1e-300))
        }
        #expect(
            failures == 0, "\(label) \(shape): \(failures) entries off, worst relative error \(worst)",
            sourceLocation: sourceLocation)
    }
}

/// C₀ + op(A)·op(B) by `blockedGemm` on a path, as Float or Double.
func blockedProduct<T: TensorScalar>(
    _ gemm: GemmCase, _: T.Type, transposeA: Bool, transposeB: Bool, path: GemmPath?, threaded: Bool = true
) -> [T] {
    let a = gemm.storedA(T.self, transposed: transposeA)
    let b = gemm.storedB(T.self, transposed: transposeB)
    var c = gemm.c0.map { T($0) }
    let (m, n, k) = (gemm.shape.m, gemm.shape.n, gemm.shape.k)
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                if T.self == Float.self {
                    blockedGemm(
                        m: m, n: n, k: k,
                        a: UnsafeRawPointer(a.baseAddress!).assumingMemoryBound(to: Float.self), transposeA: transposeA,
                        b: UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: Float.self), transposeB: transposeB,
                        c: UnsafeMutableRawPointer(c.baseAddress!).assumingMemoryBound(to: Float.self),
                        path: path, threaded: threaded)
                } else {
                    blockedGemm(
                        m: m, n: n, k: k,
                        a: UnsafeRawPointer(a.baseAddress!).assumingMemoryBound(to: Double.self), transposeA: transposeA,
                        b: UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: Double.self), transposeB: transposeB,
                        c: UnsafeMutableRawPointer(c.baseAddress!).assumingMemoryBound(to: Double.self),
                        path: path, threaded: threaded)
                }
            }
        }
    }
    return c
}

/// C₀ + op(A)·op(B) with op(B) packed once (``PackedOperand``) on a path, as Float or Double.
func packedProduct<T: TensorScalar>(
    _ gemm: GemmCase, _: T.Type, transposeA: Bool, transposeB: Bool, path: GemmPath, threaded: Bool
) -> [T] {
    let a = gemm.storedA(T.self, transposed: transposeA)
    let b = gemm.storedB(T.self, transposed: transposeB)
    var c = gemm.c0.map { T($0) }
    let (m, n, k) = (gemm.shape.m, gemm.shape.n, gemm.shape.k)
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                let packed = PackedOperand(
                    b.baseAddress!, ldb: transposeB ? k : n, transposeB: transposeB, k: k, n: n, path: path.code)
                packed.multiply(
                    m: m, a: a.baseAddress!, lda: transposeA ? m : k, transposeA: transposeA, c: c.baseAddress!, ldc: n,
                    threaded: threaded)
            }
        }
    }
    return c
}

/// C₀ + op(A)·op(B) by `gemmKernel`, which picks the Swift loop or the C kernel by size.
func kernelProduct<T: TensorScalar>(_ gemm: GemmCase, _: T.Type, transposeA: Bool, transposeB: Bool) -> [T] {
    let a = gemm.storedA(T.self, transposed: transposeA)
    let b = gemm.storedB(T.self, transposed: transposeB)
    var c = gemm.c0.map { T($0) }
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                gemmKernel(
                    m: gemm.shape.m, n: gemm.shape.n, k: gemm.shape.k, a: a.baseAddress!, transposeA: transposeA,
                    b: b.baseAddress!, transposeB: transposeB, c: c.baseAddress!)
            }
        }
    }
    return c
}

/// Results written by concurrent iterations, each to its own index.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [[Float]]
    init(count: Int) { results = Array(repeating: [], count: count) }
    func set(_ index: Int, _ value: [Float]) { lock.withLock { results[index] = value } }
    func get(_ index: Int) -> [Float] { lock.withLock { results[index] } }
}

/// The paths to test: every one this CPU can run (portable; AVX2+FMA and AVX-512 where it has them).
let gemmPaths: [GemmPath] = GemmPath.supported

@Suite("Matrix-multiply kernels (blocked C kernels, threading, routing)")
struct MatmulKernelTests {
    /// Odd shapes, shapes around the micro-tiles (6×16, 6×8, 4×8) and cache blocks (KC 256; MC 144,
    /// 72; NC 2048, 1024), vectors, and products large enough to be split over threads by columns
    /// (300×300×300) and by rows (701×40×300).
    static let shapes: [GemmShape] = [
        GemmShape(1, 1, 1), GemmShape(7, 13, 29), GemmShape(1, 300, 37), GemmShape(300, 1, 37),
        GemmShape(1, 1, 700), GemmShape(6, 16, 256), GemmShape(5, 15, 255), GemmShape(7, 17, 257),
        GemmShape(12, 32, 512), GemmShape(13, 33, 513), GemmShape(4, 8, 3), GemmShape(73, 9, 70),
        GemmShape(145, 20, 3), GemmShape(150, 40, 600), GemmShape(3, 4081, 2), GemmShape(97, 131, 257),
        GemmShape(300, 300, 300), GemmShape(701, 40, 300),
        // One to four rows (the dot-product path for a transposed B, B read in place otherwise) and
        // one column (computed as a row), with k around the vector widths.
        GemmShape(5, 1, 300), GemmShape(1, 7, 300), GemmShape(4, 300, 33), GemmShape(3, 40, 300),
        GemmShape(2, 37, 300), GemmShape(4, 9, 7), GemmShape(2, 3, 15), GemmShape(1, 1, 9), GemmShape(7, 1, 1),
        GemmShape(1, 5, 1), GemmShape(2, 200, 31), GemmShape(3, 45, 64), GemmShape(1, 33, 100),
        GemmShape(6, 100, 17),
        // The AVX-512 tiles' edges: 16 rows are 12 + 4, 20 are 12 + 8; 48 columns are 32 + 16 (an
        // LSTM step of hidden 64 on half a batch of 32 is 16×256×64).
        GemmShape(16, 256, 64), GemmShape(20, 48, 33), GemmShape(8, 40, 17), GemmShape(9, 16, 5),
    ]

    @Test("blocked kernel against the reference, both precisions, paths and all transposes", arguments: shapes)
    func blockedKernelMatchesReference(shape: GemmShape) {
        let gemm = GemmCase(shape, seed: UInt64(shape.work))
        for path in gemmPaths {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let label = "\(path.name) transposeA \(transposeA) transposeB \(transposeB)"
                    gemm.expectMatches(
                        blockedProduct(gemm, Float.self, transposeA: transposeA, transposeB: transposeB, path: path),
                        "Float \(label)")
                    gemm.expectMatches(
                        blockedProduct(gemm, Double.self, transposeA: transposeA, transposeB: transposeB, path: path),
                        "Double \(label)")
                }
            }
        }
    }

    @Test("gemmKernel routes small and large products correctly", arguments: shapes.filter { $0.work < 1_000_000 })
    func routedKernelMatchesReference(shape: GemmShape) {
        let gemm = GemmCase(shape, seed: UInt64(shape.work) + 1)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let label = "transposeA \(transposeA) transposeB \(transposeB)"
                gemm.expectMatches(
                    kernelProduct(gemm, Float.self, transposeA: transposeA, transposeB: transposeB), "Float \(label)")
                gemm.expectMatches(
                    kernelProduct(gemm, Double.self, transposeA: transposeA, transposeB: transposeB), "Double \(label)")
            }
        }
    }

    @Test("threaded products are deterministic and equal to single-threaded ones")
    func threadingIsDeterministic() {
        // Above the threading thresholds, 300×300×300 splits by columns, 701×40×300 and 30×20×14000
        // by rows (the latter into 12 + 18).
        for shape in [GemmShape(300, 300, 300), GemmShape(701, 40, 300), GemmShape(30, 20, 14000)] {
            let gemm = GemmCase(shape, seed: 7)
            for path in gemmPaths {
                for double in [false, true] {
                    let threads = GemmTuning.threads(m: shape.m, n: shape.n, k: shape.k, path: path, double: double)
                    #expect(threads > 1 || GemmTuning.cpuCount == 1, "\(shape) \(path.name) stays on one thread")
                }
                for transposeB in [false, true] {
                    let first = blockedProduct(gemm, Float.self, transposeA: false, transposeB: transposeB, path: path)
                    let second = blockedProduct(gemm, Float.self, transposeA: false, transposeB: transposeB, path: path)
                    let serial = blockedProduct(
                        gemm, Float.self, transposeA: false, transposeB: transposeB, path: path, threaded: false)
                    #expect(first == second, "Float \(shape) \(path.name): two threaded runs differ")
                    #expect(first == serial, "Float \(shape) \(path.name): threaded and serial runs differ")
                    let firstD = blockedProduct(gemm, Double.self, transposeA: true, transposeB: transposeB, path: path)
                    let secondD = blockedProduct(gemm, Double.self, transposeA: true, transposeB: transposeB, path: path)
                    let serialD = blockedProduct(
                        gemm, Double.self, transposeA: true, transposeB: transposeB, path: path, threaded: false)
                    #expect(firstD == secondD, "Double \(shape) \(path.name): two threaded runs differ")
                    #expect(firstD == serialD, "Double \(shape) \(path.name): threaded and serial runs differ")
                }
            }
        }
    }

    /// A B packed once (the fused recurrent kernels' weights) gives the blocked kernel's products: to
    /// rounding against the reference, and bit for bit where both take the micro-kernel (more than 4
    /// rows and more than one column), threaded or not, for both paths, precisions and transposes.
    @Test("products with a packed B", arguments: shapes)
    func packedOperandMatchesBlockedKernel(shape: GemmShape) {
        let gemm = GemmCase(shape, seed: UInt64(shape.work) + 2)
        for path in gemmPaths {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let label = "\(path.name) transposeA \(transposeA) transposeB \(transposeB)"
                    for threaded in [false, true] {
                        let float = packedProduct(
                            gemm, Float.self, transposeA: transposeA, transposeB: transposeB, path: path, threaded: threaded)
                        let double = packedProduct(
                            gemm, Double.self, transposeA: transposeA, transposeB: transposeB, path: path, threaded: threaded)
                        gemm.expectMatches(float, "packed Float \(label)")
                        gemm.expectMatches(double, "packed Double \(label)")
                        // (One column is computed as a row, and up to 4 rows by other kernels.)
                        guard shape.m > 4 && shape.n > 1 else { continue }
                        let blocked = blockedProduct(gemm, Float.self, transposeA: transposeA, transposeB: transposeB, path: path)
                        let identical = float == blocked
                        #expect(identical, "packed and blocked Float products differ: \(label)")
                    }
                }
            }
        }
    }

    /// The fused recurrent steps multiply a packed weight by rows of a wider state (an LSTM's h in
    /// [h, c]): A's rows lda > k apart, which the kernels read in place where A is not transposed
    /// and has at most one cache block of rows. Bit for bit the blocked kernel's product on the same
    /// strided A, on every path, Float and Double, for row counts around the tiles and that block.
    @Test("packed products of strided rows", arguments: [5, 6, 7, 12, 16, 17, 32, 71, 72, 73, 144, 145])
    func packedOperandReadsStridedRows(rows m: Int) {
        let (n, k, lda) = (37, 70, 83)
        var generator = SeededGenerator(seed: UInt64(m) + 11)
        let a = (0..<(m * lda)).map { _ in generator.nextUnitDouble() * 2 - 1 }
        let b = (0..<(k * n)).map { _ in generator.nextUnitDouble() * 2 - 1 }
        func check<T: TensorScalar>(_: T.Type, path: GemmPath) {
            let (a, b) = (a.map { T($0) }, b.map { T($0) })
            var packed = [T](repeating: 1, count: m * n)
            var blocked = packed
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    let operand = PackedOperand(b.baseAddress!, ldb: n, transposeB: false, k: k, n: n, path: path.code)
                    packed.withUnsafeMutableBufferPointer {
                        operand.multiply(
                            m: m, a: a.baseAddress!, lda: lda, transposeA: false, c: $0.baseAddress!, ldc: n)
                    }
                    let (rawA, rawB) = (UnsafeRawPointer(a.baseAddress!), UnsafeRawPointer(b.baseAddress!))
                    blocked.withUnsafeMutableBufferPointer {
                        let c = UnsafeMutableRawPointer($0.baseAddress!)
                        if T.self == Float.self {
                            blockedGemm(
                                m: m, n: n, k: k, a: rawA.assumingMemoryBound(to: Float.self), transposeA: false,
                                b: rawB.assumingMemoryBound(to: Float.self), transposeB: false,
                                c: c.assumingMemoryBound(to: Float.self), lda: lda, ldb: n, ldc: n, path: path)
                        } else {
                            blockedGemm(
                                m: m, n: n, k: k, a: rawA.assumingMemoryBound(to: Double.self), transposeA: false,
                                b: rawB.assumingMemoryBound(to: Double.self), transposeB: false,
                                c: c.assumingMemoryBound(to: Double.self), lda: lda, ldb: n, ldc: n, path: path)
                        }
                    }
                }
            }
            #expect(packed == blocked, "\(T.self) \(path.name), \(m) rows")
        }
        for path in gemmPaths {
            check(Float.self, path: path)
            check(Double.self, path: path)
        }
    }

    /// The AVX-512 kernels sum every entry in the same order as the AVX2 ones (the same k-slices,
    /// one fused multiply–add per term in order): their products agree bit for bit, packed or not,
    /// but for the dot-product kernel (at most 4 rows against a transposed B), whose sums are split
    /// by the vector width; there the two agree to rounding (the reference test above bounds both).
    @Test("AVX-512 and AVX2 products agree bit for bit", .enabled(if: GemmPath.best == .avx512), arguments: shapes)
    func avx512MatchesAVX2(shape: GemmShape) {
        let gemm = GemmCase(shape, seed: UInt64(shape.work) + 3)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                // A one-column product runs as its one-row transpose, Cᵀ = op(B)ᵀ·op(A)ᵀ, whose right
                // operand is A, transposed where op(A) is not.
                let (rows, transposedB) = shape.n == 1 && shape.m > 1 ? (1, !transposeA) : (shape.m, transposeB)
                let dotKernel = rows <= 4 && transposedB
                let label = "\(shape) transposeA \(transposeA) transposeB \(transposeB)"
                let wide = blockedProduct(gemm, Float.self, transposeA: transposeA, transposeB: transposeB, path: .avx512)
                let narrow = blockedProduct(
                    gemm, Float.self, transposeA: transposeA, transposeB: transposeB, path: .avx2FMA)
                let wideD = blockedProduct(gemm, Double.self, transposeA: transposeA, transposeB: transposeB, path: .avx512)
                let narrowD = blockedProduct(
                    gemm, Double.self, transposeA: transposeA, transposeB: transposeB, path: .avx2FMA)
                if dotKernel {
                    gemm.expectMatches(wide, "dot kernel Float \(label)")
                    gemm.expectMatches(wideD, "dot kernel Double \(label)")
                } else {
                    #expect(wide == narrow, "Float \(label)")
                    #expect(wideD == narrowD, "Double \(label)")
                }
                for threaded in [false, true] {
                    let packed = packedProduct(
                        gemm, Float.self, transposeA: transposeA, transposeB: transposeB, path: .avx512,
                        threaded: threaded)
                    let packedNarrow = packedProduct(
                        gemm, Float.self, transposeA: transposeA, transposeB: transposeB, path: .avx2FMA,
                        threaded: threaded)
                    let packedD = packedProduct(
                        gemm, Double.self, transposeA: transposeA, transposeB: transposeB, path: .avx512,
                        threaded: threaded)
                    let packedNarrowD = packedProduct(
                        gemm, Double.self, transposeA: transposeA, transposeB: transposeB, path: .avx2FMA,
                        threaded: threaded)
                    #expect(packed == packedNarrow, "packed Float \(label) threaded \(threaded)")
                    #expect(packedD == packedNarrowD, "packed Double \(label) threaded \(threaded)")
                }
            }
        }
    }

    @Test("products from many threads at once (the pool is busy for most) agree with serial ones")
    func concurrentProducts() {
        let gemm = GemmCase(GemmShape(200, 200, 200), seed: 8)
        #expect(GemmTuning.threads(m: 200, n: 200, k: 200, double: false) > 1 || GemmTuning.cpuCount == 1)
        let serial = blockedProduct(gemm, Float.self, transposeA: false, transposeB: true, path: nil, threaded: false)
        let results = ResultBox(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            results.set(index, blockedProduct(gemm, Float.self, transposeA: false, transposeB: true, path: nil))
        }
        for index in 0..<8 { #expect(results.get(index) == serial, "product \(index)") }
    }

    @Test func reportsItsPath() {
        #expect(["avx512", "avx2-fma", "portable"].contains(matmulKernelPath))
        #expect(GemmPath.portable.name == "portable")
        #expect(GemmPath.avx2FMA.name == "avx2-fma")
        #expect(GemmPath.avx512.name == "avx512")
        #expect(GemmPath.supported.first == .portable && GemmPath.supported.last == GemmPath.best)
        #expect(GemmPath.supported.contains(GemmPath.current))
    }

    /// The threading threshold keeps one time on every path: AVX-512's share of it comes from the
    /// speed measured on this CPU, within the bounds 512-bit vectors allow, and scales AVX2's.
    @Test func threadingThresholdFollowsTheMeasuredSpeed() {
        let speedup = GemmTuning.avx512Speedup
        for value in [speedup.float, speedup.double] {
            #expect(value >= 0.5 && value <= 2, "AVX-512 over AVX2: \(value)")
        }
        if GemmPath.best != .avx512 { #expect(speedup == (1, 1)) }
        let measured = (float: 1.25, double: 0.75)
        #expect(GemmTuning.relativeSpeed(path: .avx512, double: false, avx512Speedup: measured) == 1.25)
        #expect(GemmTuning.relativeSpeed(path: .avx512, double: true, avx512Speedup: measured) == 0.48 * 0.75)
        #expect(GemmTuning.relativeSpeed(path: .avx2FMA, double: true, avx512Speedup: measured) == 0.48)
        #expect(
            GemmTuning.minimumThreadedWork(path: .avx512, double: false)
                == Int((4_000_000 * speedup.float).rounded()))
        #expect(GemmTuning.minimumThreadedWork(path: .avx2FMA, double: false) == 4_000_000)
    }
}

@Suite("Matrix products through the public matmul on the blocked kernels")
struct MatmulPublicAPITests {
    /// The reference product of two rank-2 Double tensors.
    func referenceMatmul(_ a: Tensor<Double>, _ b: Tensor<Double>) -> [Double] {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        let (x, y) = (a.scalars, b.scalars)
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                for j in 0..<n { c[i * n + j] += x[i * k + p] * y[p * n + j] }
            }
        }
        return c
    }

    @Test func batchedAndBroadcast() {
        var generator = SeededGenerator(seed: 11)
        // [3, 1, 40, 50] · [2, 50, 60] → [3, 2, 40, 60]: 120,000 multiply–adds per matrix, blocked.
        let a = Tensor<Double>.normal([3, 1, 40, 50], using: &generator)
        let b = Tensor<Double>.normal([2, 50, 60], using: &generator)
        let c = matmul(a, b)
        #expect(c.shape == [3, 2, 40, 60])
        let af = a.converted(to: Float.self)
        let bf = b.converted(to: Float.self)
        let cf = matmul(af, bf)
        for i in 0..<3 {
            for j in 0..<2 {
                let expected = referenceMatmul(a[i][0], b[j])
                expectClose(c[i][j].scalars, expected, tolerance: 1e-12, "batch \(i), \(j)")
                expectClose(cf[i][j].doubles, expected, tolerance: 2e-5, "Float batch \(i), \(j)")
            }
        }
        // A batch of products large enough to be threaded, against a shared right operand.
        let big = Tensor<Double>.normal([2, 160, 170], using: &generator)
        let shared = Tensor<Double>.normal([170, 180], using: &generator)
        #expect(160 * 180 * 170 >= GemmTuning.minimumThreadedWork(double: true))
        let product = matmul(big, shared)
        for i in 0..<2 {
            expectClose(product[i].scalars, referenceMatmul(big[i], shared), tolerance: 1e-11, "threaded batch \(i)")
        }
    }

    @Test func vectorsAndEmptyProducts() {
        var generator = SeededGenerator(seed: 12)
        let m = Tensor<Double>.normal([300, 200], using: &generator)
        let v = Tensor<Double>.normal([300], using: &generator)
        let w = Tensor<Double>.normal([200], using: &generator)
        let vm = matmul(v, m)
        #expect(vm.shape == [200])
        expectClose(vm.scalars, referenceMatmul(v.reshaped(to: [1, 300]), m), tolerance: 1e-12)
        let mw = matmul(m, w)
        #expect(mw.shape == [300])
        expectClose(mw.scalars, referenceMatmul(m, w.reshaped(to: [200, 1])), tolerance: 1e-12)
        // k = 0 gives zeros; m = 0 an empty result.
        #expect(matmul(Tensor<Float>.zeros([4, 0]), Tensor<Float>.zeros([0, 3])).scalars == [Float](repeating: 0, count: 12))
        #expect(matmul(Tensor<Double>.zeros([0, 5]), Tensor<Double>.ones([5, 3])).shape == [0, 3])
    }

    @Test func gradientsOfLargeProducts() {
        var generator = SeededGenerator(seed: 13)
        // Products of 37×53×41 and their gradients (41×53×37, 53×41×37) all take the blocked kernel.
        let a = Tensor<Double>.normal([37, 53], using: &generator)
        let b = Tensor<Double>.normal([53, 41], using: &generator)
        let w = Tensor<Double>.normal([37, 41], using: &generator)
        let gradients = gradient(at: [a, b]) { p in (matmul(p[0], p[1]) * w).sum() }
        // ∂/∂A = W·Bᵀ, ∂/∂B = Aᵀ·W.
        expectClose(gradients[0].scalars, referenceMatmul(w, b.transposed()), tolerance: 1e-12, "∂A")
        expectClose(gradients[1].scalars, referenceMatmul(a.transposed(), w), tolerance: 1e-12, "∂B")
        let gradientsF = gradient(at: [a.converted(to: Float.self), b.converted(to: Float.self)]) { p in
            (matmul(p[0], p[1]) * w.converted(to: Float.self)).sum()
        }
        expectClose(gradientsF[0].doubles, referenceMatmul(w, b.transposed()), tolerance: 1e-4, "Float ∂A")
        expectClose(gradientsF[1].doubles, referenceMatmul(a.transposed(), w), tolerance: 1e-4, "Float ∂B")
        // A broadcast right operand: its gradient sums over the batch.
        let batch = Tensor<Double>.normal([3, 20, 30], using: &generator)
        let shared = Tensor<Double>.normal([30, 25], using: &generator)
        let g = gradient(at: shared) { matmul(batch, $0).sum() }
        var expected = [Double](repeating: 0, count: 30 * 25)
        for i in 0..<3 {
            let column = referenceMatmul(batch[i].transposed(), Tensor.ones([20, 25]))
            for index in expected.indices { expected[index] += column[index] }
        }
        expectClose(g.scalars, expected, tolerance: 1e-12, "broadcast ∂B")
    }

    @Test func gradientAgainstFiniteDifferences() {
        // 17×23×19 = 7,429 multiply–adds: the blocked kernel, forwards and backwards.
        let a = randomTensor([17, 19], seed: 14)
        let b = randomTensor([19, 23], seed: 15)
        #expect(17 * 23 * 19 >= GemmTuning.minimumBlockedWork)
        let weights = Tensor<Double>(shape: [17, 23], scalars: (0..<(17 * 23)).map { 0.3 + 0.1 * Double($0 % 7) })
        expectGradientMatches(at: a, "blocked matmul lhs") { (matmul($0, b) * weights).sum() }
        expectGradientMatches(at: b, "blocked matmul rhs") { (matmul(a, $0) * weights).sum() }
    }
}
