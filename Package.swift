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
        .executable(name: "stiff", targets: ["Stiff"]),
        .executable(name: "adding-problem", targets: ["AddingProblem"]),
        .executable(name: "fitzhugh-nagumo", targets: ["FitzHughNagumo"]),
        .executable(name: "rnnode-bench", targets: ["Benchmark"]),
        .executable(name: "rnnode-allocations", targets: ["AllocationCheck"]),
        .executable(name: "rnnode-fuzz", targets: ["Fuzz"]),
    ],
    targets: [
        // The layers of the library, each a module whose dependencies point one way (down this list):
        // the C kernels (matrix products, activations, gate arithmetic; AVX-512 and AVX2/FMA paths chosen
        // at run time, no compiler flags); tensors with their reverse-mode tape; the integrators; the models
        // (parameters, cells, layers, training); reading and writing files; SVG figures. `RNNODE`
        // re-exports them all.
        .target(name: "CRNNODEKernels", path: "Sources/CRNNODEKernels"),
        .target(name: "RNNODETensors", dependencies: ["CRNNODEKernels"], path: "Sources/Tensors"),
        .target(name: "RNNODEIntegrators", dependencies: ["RNNODETensors"], path: "Sources/Integrators"),
        .target(
            name: "RNNODEModels", dependencies: ["RNNODEIntegrators", "RNNODETensors", "CRNNODEKernels"], path: "Sources/Models"),
        .target(name: "RNNODEIO", dependencies: ["RNNODEModels", "RNNODEIntegrators", "RNNODETensors"], path: "Sources/IO"),
        .target(name: "RNNODEPlot", dependencies: ["RNNODEIO"], path: "Sources/Plot"),
        .target(
            name: "RNNODE", dependencies: ["RNNODETensors", "RNNODEIntegrators", "RNNODEModels", "RNNODEIO", "RNNODEPlot"],
            path: "Sources/RNNODE"),
        // Command-line parsing, JSON lines and timing shared by the example executables.
        .target(name: "ExampleSupport", dependencies: ["RNNODE"], path: "Examples/ExampleSupport"),
        .executableTarget(
            name: "Competition", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/Competition"),
        .executableTarget(
            name: "InferParameters", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/InferParameters"),
        .executableTarget(name: "Spiral", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/Spiral"),
        .executableTarget(name: "Stiff", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/Stiff"),
        .executableTarget(
            name: "AddingProblem", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/AddingProblem"),
        .executableTarget(
            name: "FitzHughNagumo", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/FitzHughNagumo"),
        .executableTarget(
            name: "CharRNN", dependencies: ["RNNODE", "ExampleSupport"], path: "Examples/CharRNN",
            exclude: ["Resources/PROVENANCE.md"], resources: [.copy("Resources/corpus.txt")]),
        .executableTarget(
            name: "Benchmark", dependencies: ["RNNODE", "RNNODETensors", "ExampleSupport", "CRNNODEKernels"],
            path: "Examples/Benchmark", exclude: ["peers"]),
        // Mutation fuzzing of the file readers, each case in a bounded child process; seeds made by
        // NumPy (and PyTorch state dicts saved through NumPy) next to the ones the library writes.
        .executableTarget(
            name: "Fuzz", dependencies: ["RNNODE", "RNNODEIO", "ExampleSupport"], path: "Examples/Fuzz",
            exclude: ["Seeds/PROVENANCE.md"],
            resources: [.copy("Seeds")]),
        .testTarget(
            name: "RNNODETests",
            dependencies: ["RNNODE", "RNNODETensors", "RNNODEIntegrators", "RNNODEModels", "RNNODEIO", "RNNODEPlot"],
            path: "Tests/RNNODETests", resources: [.copy("Fixtures")]),
        // The allocation check, a process of its own: a counting malloc family (C, forwarding to
        // glibc) that replaces the allocator for every thread and library of the executable linking
        // it, and the executable that counts the allocations of solves and training batches at two
        // sequence lengths (CI runs it; a test in `swift test` would count the parallel tests too).
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .executableTarget(name: "AllocationCheck", dependencies: ["RNNODE", "AllocationCounter"], path: "Tests/AllocationCheck"),
    ],
    swiftLanguageModes: [.v6]
)
