import CRNNODEKernels
import ExampleSupport
import Foundation
import RNNODE
import RNNODETensors

/// C = A·B for a random m×k matrix A and k×n matrix B through the public `matmul`: the best time per
/// product over `repeats` measurements of `products` products each, after warm-up, the GFLOP/s
/// (2mkn flops per product) that gives, and the kernel path.
func gemmBenchmark<T: TensorScalar>(_: T.Type, m: Int, k: Int, n: Int, products: Int = 20) -> [(String, JSONValue)] {
    var generator = SeededGenerator(seed: 42)
    let a = Tensor<T>.normal([m, k], using: &generator)
    let b = Tensor<T>.normal([k, n], using: &generator)
    for _ in 0..<5 { blackHole(matmul(a, b)) }  // thread pool, scratch memory, page faults
    let seconds = best {
        let clock = Stopwatch()
        for _ in 0..<products { blackHole(matmul(a, b)) }
        return clock.seconds / Double(products)
    }
    let flops = 2 * Double(m) * Double(k) * Double(n)
    return [
        ("gflops", .number((flops / seconds / 1e9 * 10).rounded() / 10)),
        ("ms", .number((seconds * 1e6).rounded() / 1e3)), ("path", .string(matmulKernelPath)),
    ]
}

/// `gemm-f32-512` for square products, `gemm-f32-64x256x1024` (m × k × n) for the others.
func gemmCase<T: TensorScalar>(_ type: T.Type, m: Int, k: Int, n: Int, products: Int, note: String = "") -> Benchmark {
    let square = m == k && k == n
    let (precision, scalar) = T.self == Float.self ? ("f32", "Float") : ("f64", "Double")
    let shape = square ? "\(n)" : "\(m)x\(k)x\(n)"
    let sizes = square ? "\(n)×\(n)" : "\(m)×\(k) times \(k)×\(n)"
    return Benchmark(
        name: "gemm-\(precision)-\(shape)", summary: "C = A·B, \(sizes) \(scalar) matrices\(note), public matmul, GFLOP/s"
    ) { gemmBenchmark(type, m: m, k: k, n: n, products: products) }
}

/// The h256 recurrent steps' product: a batch of 64 hidden states against the four gates' weights.
private let stepProduct = " (an LSTM-h256 step's h·W)"

let kernelBenchmarks: [Benchmark] =
    [
        gemmCase(Float.self, m: 512, k: 512, n: 512, products: 20),
        gemmCase(Double.self, m: 512, k: 512, n: 512, products: 20),
        gemmCase(Float.self, m: 1024, k: 1024, n: 1024, products: 5),
        gemmCase(Double.self, m: 1024, k: 1024, n: 1024, products: 5),
        gemmCase(Float.self, m: 64, k: 256, n: 1024, products: 200, note: stepProduct),
        gemmCase(Double.self, m: 64, k: 256, n: 1024, products: 200, note: stepProduct),
    ] + threadingBenchmarks

/// An n×n×n product C += A·B through the C kernels on `threads` threads (forced).
typealias ThreadedProduct<T> = (_ threads: Int, _ n: Int, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void

/// Where splitting a product over the CPUs starts to pay on this machine and kernel path: square
/// products of 48³ to 384³ multiply–adds through `rnnode_sgemm_threaded`/`rnnode_dgemm_threaded`
/// with the thread count forced, on one thread and on all. `warm`: products back to back, the pool's
/// worker still polling; `cold`: 0.3 ms of idleness before each product, so the worker has gone to
/// sleep and must be woken (a product between long stretches of other work). Reports the speed-up
/// at every size and, per mode, the fewest multiply–adds from which every larger size gains at least
/// 10 % (what the library's threading threshold, `GemmTuning`, is chosen from).
func gemmThreadsBenchmark<T: TensorScalar>(_: T.Type, product: ThreadedProduct<T>) -> [(String, JSONValue)] {
    let sizes = [48, 64, 96, 128, 160, 192, 256, 320, 384]
    let cpus = Int(rnnode_cpu_count())
    var generator = SeededGenerator(seed: 42)
    let double = T.self == Double.self
    var fields: [(String, JSONValue)] = [
        ("cpus", .number(Double(cpus))), ("path", .string(matmulKernelPath)),
        ("threshold_macs", .number(Double(GemmTuning.minimumThreadedWork(double: double)))),
        (
            "avx512_speedup",
            .number(((double ? GemmTuning.avx512Speedup.double : GemmTuning.avx512Speedup.float) * 100).rounded() / 100)
        ),
    ]
    for cold in [false, true] {
        let mode = cold ? "cold" : "warm"
        var speedUps: [(macs: Int, ratio: Double)] = []
        for n in sizes {
            let a = Tensor<T>.normal([n, n], using: &generator).scalars
            let b = Tensor<T>.normal([n, n], using: &generator).scalars
            let c = UnsafeMutablePointer<T>.allocate(capacity: n * n)
            defer { c.deallocate() }
            c.initialize(repeating: 0, count: n * n)
            let products = Swift.max(10, 100_000_000 / (n * n * n))
            func seconds(threads: Int) -> Double {
                for _ in 0..<3 { product(threads, n, a, b, c) }
                return best {
                    var total = 0.0
                    for _ in 0..<products {
                        if cold { usleep(300) }
                        let clock = Stopwatch()
                        product(threads, n, a, b, c)
                        total += clock.seconds
                    }
                    return total / Double(products)
                }
            }
            let ratio = seconds(threads: 1) / seconds(threads: cpus)
            speedUps.append((n * n * n, ratio))
            fields.append(("\(mode)_speedup_\(n)", .number((ratio * 100).rounded() / 100)))
        }
        let first = speedUps.indices.last { speedUps[$0].ratio < 1.1 }.map { $0 + 1 } ?? 0
        fields.append(
            ("\(mode)_break_even_macs", first < speedUps.count ? .number(Double(speedUps[first].macs)) : .string("none")))
    }
    return fields
}

private let threadingBenchmarks: [Benchmark] = [
    Benchmark(name: "gemm-threads-f32", summary: "Float products on one thread and on all, warm and cold pool") {
        let path = rnnode_gemm_path()
        return gemmThreadsBenchmark(Float.self) { threads, n, a, b, c in
            rnnode_sgemm_threaded(path, CInt(threads), 0, 0, n, n, n, a, n, b, n, c, n)
        }
    },
    Benchmark(name: "gemm-threads-f64", summary: "Double products on one thread and on all, warm and cold pool") {
        let path = rnnode_gemm_path()
        return gemmThreadsBenchmark(Double.self) { threads, n, a, b, c in
            rnnode_dgemm_threaded(path, CInt(threads), 0, 0, n, n, n, a, n, b, n, c, n)
        }
    },
]
