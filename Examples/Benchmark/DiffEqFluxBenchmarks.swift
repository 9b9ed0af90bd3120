import ExampleSupport
import Foundation
import RNNODE

// The DiffEqFlux README's spiral, for side-by-side runs with `peers/spiral_diffrax.py`.

/// The DiffEqFlux README's neural ODE: the truth u′ = (u³)A, A = [[−0.1, 2], [−2, −0.1]], from
/// u(0) = (2, 0), saved at 30 points of [0, 1.5]; the model u′ = Dense(50→2)(tanh(Dense(2→50)(u³)))
/// solved by Tsit5 (rtol 1e-3, atol 1e-6); the loss Σ (prediction − truth)² over the 30 points.
struct DiffEqFluxSpiral: Sendable {
    static let times: [Double] = (0..<30).map { 1.5 * Double($0) / 29 }
    static let initialState = Tensor<Double>([2, 0])
    static let hidden = 50
    /// The model's tolerances, and the tight ones of the cross-check with the peer.
    static let tolerances = (rtol: 1e-3, atol: 1e-6)
    static let checkTolerances = (rtol: 1e-10, atol: 1e-12)

    /// The true states at ``times``, [30, 2] (Tsit5 at rtol 1e-10, atol 1e-12 on a SIMD2 state).
    let truth: Tensor<Double>

    init() throws {
        let a = (-0.1, 2.0, -2.0, -0.1)
        let field = FieldClosure<SIMD2<Double>>(autonomous: true) { _, u in
            let c = u * u * u
            return SIMD2(c.x * a.0 + c.y * a.2, c.x * a.1 + c.y * a.3)
        }
        let states = try solve(
            field, initialState: SIMD2(2, 0), times: Self.times, method: .tsit5,
            step: .adaptive(rtol: Self.checkTolerances.rtol, atol: Self.checkTolerances.atol)
        ).checked().states
        truth = Tensor(shape: [states.count, 2], scalars: states.flatMap { [$0.x, $0.y] })
    }

    /// The fixed initial weights shared with the peer (W `[in, out]`, y = x W + b):
    /// W₁[i, j] = 0.3 sin(50i + j + 1), b₁[j] = 0.1 cos(j + 1), W₂[i, j] = 0.3 cos(2i + j + 1),
    /// b₂[j] = 0.05 sin(j + 1).
    static func initialNetwork() -> MLP<Double> {
        let n = hidden
        func w1(_ k: Int) -> Double { 0.3 * sin(Double(k / n * 50 + k % n + 1)) }
        func w2(_ k: Int) -> Double { 0.3 * cos(Double(k / 2 * 2 + k % 2 + 1)) }
        let b1 = Tensor((0..<n).map { (j: Int) -> Double in 0.1 * cos(Double(j + 1)) })
        let b2 = Tensor((0..<2).map { (j: Int) -> Double in 0.05 * sin(Double(j + 1)) })
        let first = Tensor(shape: [2, n], scalars: (0..<(2 * n)).map(w1))
        let second = Tensor(shape: [n, 2], scalars: (0..<(2 * n)).map(w2))
        return MLP(layers: [
            Dense(weight: first, bias: b1, activation: .tanh), Dense(weight: second, bias: b2, activation: .identity),
        ])
    }

    /// The model field with the initial weights: u′ = MLP(u³), one tape record per evaluation.
    static func initialField() -> MLPField<Double> { MLPField(network: initialNetwork(), inputPower: 3) }

    /// The loss of the model's trajectory: Σ (prediction − truth)² over the 30 points.
    func loss(
        _ field: MLPField<Double>, rtol: Double, atol: Double, gradients: GradientStrategy = .backpropagation
    ) throws -> (loss: Tensor<Double>, steps: Int) {
        let solution = try solve(
            field, initialState: Self.initialState, times: Self.times, method: .tsit5,
            step: .adaptive(rtol: rtol, atol: atol), gradients: gradients
        ).checked()
        return (square(Tensor(stacking: solution.states) - truth).sum(), solution.statistics.acceptedSteps)
    }
}

/// One way of computing the gradient of the spiral's loss with respect to the MLP parameters: the
/// loss, the gradients (in ``Trainable/parameters`` order) and the accepted steps of the forward
/// solve. ``spiralStrategies`` has one per ``GradientStrategy`` that handles adaptive steps.
struct SpiralGradientStrategy: Sendable {
    let name: String
    let gradient:
        @Sendable (DiffEqFluxSpiral, MLPField<Double>, _ rtol: Double, _ atol: Double) throws -> (
            loss: Double, gradients: [Tensor<Double>], steps: Int
        )
}

let spiralStrategies: [SpiralGradientStrategy] = [
    ("backpropagation", GradientStrategy.backpropagation), ("checkpointed", .checkpointed()),
    ("interpolating-adjoint", .interpolatingAdjoint), ("backsolve-adjoint", .backsolveAdjoint),
].map { name, strategy in
    SpiralGradientStrategy(name: name) { problem, field, rtol, atol in
        var steps = 0
        let (loss, gradients) = try valueWithGradient(at: field.parameters) { p in
            var model = field
            model.parameters = p
            let (loss, accepted) = try problem.loss(model, rtol: rtol, atol: atol, gradients: strategy)
            steps = accepted
            return loss
        }
        return (loss.scalar, gradients, steps)
    }
}

/// √(Σ ‖gᵢ‖²) over all the parameter gradients.
func gradientNorm(_ gradients: [Tensor<Double>]) -> Double {
    gradients.reduce(0) { sum, g in sum + g.scalars.reduce(0) { $0 + $1 * $1 } }.squareRoot()
}

/// One spiral gradient by the first strategy, in this process: its loss, norm and time (the time
/// to the first gradient when this process does nothing else first).
func spiralOnce() throws -> [(String, JSONValue)] {
    let clock = Stopwatch()
    let problem = try DiffEqFluxSpiral()
    let strategy = spiralStrategies[0]
    let (rtol, atol) = DiffEqFluxSpiral.tolerances
    let (loss, gradients, _) = try strategy.gradient(problem, DiffEqFluxSpiral.initialField(), rtol, atol)
    let seconds = clock.seconds
    return [
        ("strategy", .string(strategy.name)), ("ms", .number(seconds * 1e3)), ("loss", .number(loss)),
        ("gradient_norm", .number(gradientNorm(gradients))),
    ]
}

/// Runs `path arguments…` with its standard output written to the file `standardOutput`, and waits:
/// the wall time from before the spawn to after the exit, and the exit status.
func spawnAndWait(_ path: String, _ arguments: [String], standardOutput: String) throws -> (seconds: Double, status: Int32) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let clock = Stopwatch()
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard spawned == 0 else { throw BenchmarkError("posix_spawn \(path) failed: \(spawned)") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (clock.seconds, (status >> 8) & 0xff)
}

let diffEqFluxBenchmarks: [Benchmark] = [
    Benchmark(
        name: "spiral-diffeqflux",
        summary:
            "the DiffEqFlux README spiral: one gradient of Σ(u − truth)² at 30 points, Tsit5 rtol 1e-3, 2→50→2 MLP; median ms per gradient, one line per strategy"
    ) {
        let problem = try DiffEqFluxSpiral()
        let field = DiffEqFluxSpiral.initialField()
        let (rtol, atol) = DiffEqFluxSpiral.tolerances
        let (calls, batches) = (200, 7)
        var lines: [[(String, JSONValue)]] = []
        // RNNODE_SPIRAL_STRATEGIES=backpropagation,checkpointed selects some (default: all).
        let selected = ProcessInfo.processInfo.environment["RNNODE_SPIRAL_STRATEGIES"].map {
            $0.split(separator: ",").map(String.init)
        }
        for strategy in spiralStrategies where selected?.contains(strategy.name) ?? true {
            for _ in 0..<50 { blackHole(try strategy.gradient(problem, field, rtol, atol)) }
            var times: [Double] = []
            let perCall = try median(of: batches) {
                let clock = Stopwatch()
                for _ in 0..<calls { blackHole(try strategy.gradient(problem, field, rtol, atol)) }
                times.append(clock.seconds / Double(calls))
                return times.last!
            }
            let (loss, gradients, steps) = try strategy.gradient(problem, field, rtol, atol)
            let check = try strategy.gradient(
                problem, field, DiffEqFluxSpiral.checkTolerances.rtol, DiffEqFluxSpiral.checkTolerances.atol)
            lines.append([
                ("ms_per_gradient", .number(perCall * 1e3)), ("strategy", .string(strategy.name)),
                ("best_ms", .number(times.min()! * 1e3)), ("loss", .number(loss)),
                ("gradient_norm", .number(gradientNorm(gradients))), ("steps", .integer(steps)),
                ("check_loss", .number(check.loss)), ("check_gradient_norm", .number(gradientNorm(check.gradients))),
            ])
        }
        // The harness prints the returned fields as the last line; earlier strategies go first.
        for line in lines.dropLast() {
            print(JSONValue.object([("bench", .string("spiral-diffeqflux"))] + line).text)
        }
        return lines.last!
    },
    Benchmark(
        name: "spiral-once",
        summary: "one spiral-diffeqflux gradient in this process, nothing before it (the child of spiral-first-gradient)"
    ) {
        try spiralOnce()
    },
    Benchmark(
        name: "spiral-first-gradient",
        summary:
            "time to the first spiral-diffeqflux gradient: wall time of fresh `rnnode-bench spiral-once` processes (median of 5)"
    ) {
        var walls: [Double] = []
        var inside: [Double] = []
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("spiral-once-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        for _ in 0..<5 {
            // posix_spawn and waitpid: Foundation's Process adds about 50 ms of its own.
            let (seconds, status) = try spawnAndWait(
                URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path, ["spiral-once"],
                standardOutput: output)
            let data = try Data(contentsOf: URL(fileURLWithPath: output))
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            guard status == 0, let ms = json?["ms"] as? Double else {
                throw BenchmarkError("spiral-once failed (status \(status)): \(String(decoding: data, as: UTF8.self))")
            }
            walls.append(seconds)
            inside.append(ms)
        }
        walls.sort()
        inside.sort()
        return [
            ("process_ms", .number(walls[2] * 1e3)), ("gradient_ms", .number(inside[2])),
            ("process_ms_all", .numbers(walls.map { $0 * 1e3 })),
        ]
    },
]
