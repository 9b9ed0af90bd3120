import ExampleSupport
import Foundation
import RNNODE

/// dy/dt = tanh(y W + b) on a [1, 4] state: a small recorded field for memory measurements.
struct SmallNeuralField: VectorField, Trainable, Sendable {
    typealias Scalar = Double
    var weight: Tensor<Double>
    var bias: Tensor<Double>
    var parameterPaths: [ParameterPath<Self>] { [.init("weight", \.weight), .init("bias", \.bias)] }
    func callAsFunction(_ t: Double, _ y: Tensor<Double>) -> Tensor<Double> { tanh(matmul(y, weight) + bias) }
}

/// The gradient strategies the `adjoint-memory` benchmark compares, by their names on the probe's
/// command line.
let memoryStrategies: [(name: String, strategy: GradientStrategy)] = [
    ("backprop", .backpropagation), ("checkpointed", .checkpointed()), ("adjoint", .backsolveAdjoint),
]

/// Gradient of ‖y(T)‖² for `steps` RK4 steps by one gradient strategy, in this process: the peak memory
/// above the resident size before it (MiB), and the time. Run by ``measureGradientMemory(steps:strategy:)``
/// in a fresh process, so that memory freed by an earlier measurement cannot be reused.
func gradientMemory(steps: Int, strategy: GradientStrategy) throws -> (peakMiB: Double, seconds: Double) {
    var generator = SeededGenerator(seed: 3)
    let field = SmallNeuralField(
        weight: Tensor.normal([4, 4], standardDeviation: 0.5, using: &generator), bias: Tensor.zeros([4]))
    let y0 = Tensor<Double>([[0.5, -0.2, 0.1, 0.3]])
    let before = residentMemoryMiB() ?? 0
    resetPeakMemory()
    let clock = Stopwatch()
    let gradients = try gradient(at: [y0] + field.parameters) { p in
        var model = field
        model.parameters = Array(p.dropFirst())
        let final = try solve(
            model, initialState: p[0], from: 0, to: Double(steps) * 1e-3, method: .rk4, step: .fixed(1e-3), saveAt: .final,
            gradients: strategy
        ).finalState
        return square(final).sum()
    }
    let seconds = clock.seconds
    blackHole(gradients)
    return ((peakMemoryMiB() ?? .nan) - before, seconds)
}

/// The name of the hidden option that runs one ``gradientMemory(steps:strategy:)`` measurement.
let memoryProbeOption = "--memory-probe"

/// Runs `rnnode-bench --memory-probe STEPS STRATEGY` (a name of ``memoryStrategies``) as a child process
/// and reads its result.
func measureGradientMemory(steps: Int, strategy: String) throws -> (peakMiB: Double, seconds: Double) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    process.arguments = [memoryProbeOption, String(steps), strategy]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
    guard process.terminationStatus == 0, fields.count == 2 else {
        throw BenchmarkError(
            "the memory probe failed (status \(process.terminationStatus)): \(String(decoding: data, as: UTF8.self))")
    }
    return (fields[0], fields[1])
}

let trainingBenchmarks: [Benchmark] = [
    Benchmark(
        name: "spiral-rk4",
        summary:
            "the spiral neural ODE: 20 windows × 10 samples, RK4 (one step per sample), backpropagation, RMSprop; ms per iteration over 200"
    ) {
        let problem = try SpiralProblem()
        let iterations = 200
        let seconds = try best {
            var generator = SeededGenerator(seed: 0)
            var field = SpiralField(using: &generator)
            var optimizer = RMSprop<Double>(learningRate: 1e-3)
            let step = StepSizeControl<Double>.fixed(problem.times[1])
            let result = train(
                &field, optimizer: &optimizer, until: StoppingCriteria(maxSteps: iterations), seed: 1, progress: .quiet
            ) {
                field, generator in
                let (initialStates, targets) = problem.batch(using: &generator)
                let states = try solve(field, initialState: initialStates, times: problem.windowTimes, method: .rk4, step: step)
                    .checked().states
                return absoluteError(Tensor(stacking: states), targets)
            }
            guard result.steps == iterations else { throw BenchmarkError("training stopped early: \(result.stopReason)") }
            return result.seconds
        }
        return [("ms_per_iter", .number(seconds / Double(iterations) * 1000)), ("iters", .integer(iterations))]
    },
    Benchmark(
        name: "adjoint-memory",
        summary:
            "peak memory and time of one gradient through 1,000 and 100,000 RK4 steps: backpropagation, checkpointed, backsolve adjoint (MiB above the resident size)"
    ) {
        var fields: [(String, JSONValue)] = []
        var runs: [JSONValue] = []
        for steps in [1000, 100_000] {
            for (name, _) in memoryStrategies {
                let (peak, seconds) = try measureGradientMemory(steps: steps, strategy: name)
                let label = name + "_\(steps)"
                fields.append((label + "_mib", .number(peak)))
                fields.append((label + "_s", .number(seconds)))
                runs.append(
                    .object([
                        ("strategy", .string(name)), ("steps", .integer(steps)), ("peak_mib", .number(peak)),
                        ("seconds", .number(seconds)),
                    ]))
            }
        }
        return fields + [("runs", .array(runs))]
    },
]
