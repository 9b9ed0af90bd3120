// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "RNNODE",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RNNODE", targets: ["RNNODE"]),
        .executable(name: "competition", targets: ["Competition"]),
        .executable(name: "infer-parameters", targets: ["InferParameters"]),
        .executable(name: "spiral", targets: ["Spiral"]),
        .executable(name: "char-rnn", targets: ["CharRNN"]),
        .executable(name: "rnnode-bench", targets: ["Benchmark"]),
    ],
    targets: [
        .target(name: "RNNODE", dependencies: ["CRNNODEKernels"], path: "Sources/RNNODE"),
        // C kernels (matrix multiply) with AVX2/FMA code paths selected at run time; no compiler flags.
        .target(name: "CRNNODEKernels", path: "Sources/CRNNODEKernels"),
        // Command-line parsing, JSON lines and timing shared by the example executables.
        .target(name: "ExampleSupport", dependencies: ["RNNODE"], path: "Examples/ExampleSupport"),
        .executableTarget(
            name: "Competition", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/Competition"),
        .executableTarget(
            name: "InferParameters", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/InferParameters"),
        .executableTarget(name: "Spiral", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/Spiral"),
        .executableTarget(
            name: "CharRNN", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/CharRNN",
            exclude: ["Resources/PROVENANCE.md"], resources: [.copy("Resources/corpus.txt")]),
        .executableTarget(
            name: "Benchmark", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/Benchmark",
            exclude: ["peers"]),
        .testTarget(
            name: "RNNODETests", dependencies: ["RNNODE"], path: "Tests/RNNODETests", resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
