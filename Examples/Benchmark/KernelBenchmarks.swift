import ExampleSupport
import RNNODE

/// C = A·B for random n×n matrices through the public `matmul`: the best time per product over
/// `repeats` measurements of `products` products each, after warm-up, and the GFLOP/s (2n³ flops
/// per product) that gives, and the kernel path.
func gemmBenchmark<T: TensorScalar>(_: T.Type, size n: Int, products: Int = 20) -> [(String, JSONValue)] {
    var generator = SeededGenerator(seed: 42)
    let a = Tensor<T>.normal([n, n], using: &generator)
    let b = Tensor<T>.normal([n, n], using: &generator)
    for _ in 0..<5 { blackHole(matmul(a, b)) }  // thread pool, scratch memory, page faults
    let seconds = best {
        let clock = Stopwatch()
        for _ in 0..<products { blackHole(matmul(a, b)) }
        return clock.seconds / Double(products)
    }
    let flops = 2 * Double(n) * Double(n) * Double(n)
    return [
        ("gflops", .number((flops / seconds / 1e9 * 10).rounded() / 10)),
        ("ms", .number((seconds * 1e6).rounded() / 1e3)), ("path", .string(matmulKernelPath)),
    ]
}

let kernelBenchmarks: [Benchmark] = [
    Benchmark(name: "gemm-f32-512", summary: "C = A·B, 512×512 Float matrices, public matmul, GFLOP/s") {
        gemmBenchmark(Float.self, size: 512)
    },
    Benchmark(name: "gemm-f64-512", summary: "C = A·B, 512×512 Double matrices, public matmul, GFLOP/s") {
        gemmBenchmark(Double.self, size: 512)
    },
]
