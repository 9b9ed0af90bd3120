import ExampleSupport
import RNNODE

/// Times `steps` fixed steps of `method` from `y0` (best of `repeats`): nanoseconds per step and the final state.
func fixedSteps<F: VectorField>(
    _ field: F, _ y0: F.State, method: ButcherTableau, dt: Double, steps: Int
) throws -> (nsPerStep: Double, state: F.State) where F.State.Scalar == Double {
    var state = y0
    let seconds = try best {
        let clock = Stopwatch()
        let solution = try solve(
            field, initialState: y0, from: 0, to: Double(steps) * dt, method: method, step: .fixed(dt), saveAt: .final
        ).checked()
        let elapsed = clock.seconds
        precondition(solution.statistics.acceptedSteps == steps, "expected \(steps) steps: \(solution.statistics)")
        state = solution.finalState
        return elapsed
    }
    return (seconds / Double(steps) * 1e9, state)
}

let integratorBenchmarks: [Benchmark] = [

    Benchmark(name: "rk4-competition", summary: "RK4 on the competition model, SIMD2<Double>, Δt = 0.1, 10^7 steps") {
        let (ns, x) = try fixedSteps(Competition(), SIMD2(100, 150), method: .rk4, dt: 0.1, steps: 10_000_000)
        return [("ns_per_step", .number(ns)), ("state", .numbers([x.x, x.y]))]
    },
    Benchmark(name: "euler-competition", summary: "Euler on the competition model, SIMD2<Double>, Δt = 0.1, 10^7 steps") {
        let (ns, x) = try fixedSteps(Competition(), SIMD2(100, 150), method: .euler, dt: 0.1, steps: 10_000_000)
        return [("ns_per_step", .number(ns)), ("state", .numbers([x.x, x.y]))]
    },
    Benchmark(name: "rk4-lorenz", summary: "RK4 on Lorenz from (1, 1, 1), SIMD3<Double>, Δt = 0.001, 10^7 steps") {
        let (ns, u) = try fixedSteps(Lorenz(), SIMD3(1, 1, 1), method: .rk4, dt: 0.001, steps: 10_000_000)
        return [("ns_per_step", .number(ns)), ("state", .numbers([u.x, u.y, u.z]))]
    },
    Benchmark(
        name: "dopri5-lorenz",
        summary: "adaptive Dormand–Prince on Lorenz over [0, 100], rtol = atol = 1e-8, initial Δt 0.01, averaged"
    ) {
        let solves = 50
        var solution: Solution<SIMD3<Double>>?
        let seconds = try best {
            let clock = Stopwatch()
            for _ in 0..<solves {
                solution = try solve(
                    Lorenz(), initialState: SIMD3(1, 1, 1), from: 0, to: 100, method: .dopri5,
                    step: .adaptive(rtol: 1e-8, atol: 1e-8, initialStep: 0.01), saveAt: .final
                ).checked()
            }
            return clock.seconds / Double(solves)
        }
        let microseconds = seconds * 1e6
        let s = solution!
        let u = s.finalState
        return [
            ("us_per_solve", .number(microseconds)), ("steps", .integer(s.statistics.acceptedSteps)),
            ("rejected", .integer(s.statistics.rejectedSteps)), ("evaluations", .integer(s.statistics.evaluations)),
            ("state", .numbers([u.x, u.y, u.z])),
        ]
    },
    Benchmark(
        name: "tensor-rk4-lorenz",
        summary: "RK4 on Lorenz on the differentiable Tensor path, batch 1, recording a tape, 10^4 steps"
    ) {
        let steps = 10_000
        var records = 0
        let seconds = try best {
            let tape = Tape<Double>()
            let u0 = tape.variable(Tensor([[1, 1, 1]]))
            let clock = Stopwatch()
            let solution = try solve(
                TensorLorenz(), initialState: u0, from: 0, to: Double(steps) * 0.001, method: .rk4,
                step: .fixed(0.001), saveAt: .final
            ).checked()
            let elapsed = clock.seconds
            blackHole(solution)
            records = tape.count
            return elapsed
        }
        return [("ns_per_step", .number(seconds / Double(steps) * 1e9)), ("tape_records", .integer(records))]
    },
]
