import ExampleSupport
import Foundation
import RNNODE

// The stiff benchmarks: the peers' problems (Examples/Benchmark/peers/stiff_cvode.c, stiff_scipy.py,
// stiff_problems.py) at the peers' tolerances, Rodas5P by default. The bench CLI takes only names,
// so the method and tolerances are chosen by environment variables:
//
//     RNNODE_STIFF_METHOD=kvaerno5 rnnode-bench stiff-hires     (rodas5p, rodas4, rosenbrock23,
//                                                                kvaerno5, kencarp4, trbdf2)
//     RNNODE_STIFF_RTOL=1e-8 RNNODE_STIFF_ATOL=1e-10 rnnode-bench stiff-vdp1000

/// The method named by RNNODE_STIFF_METHOD (default Rodas5P).
func stiffBenchmarkMethod() throws -> (name: String, method: ButcherTableau) {
    let name = ProcessInfo.processInfo.environment["RNNODE_STIFF_METHOD"]?.lowercased() ?? "rodas5p"
    guard let method = stiffMethod(named: name) else {
        throw BenchmarkError(
            "RNNODE_STIFF_METHOD=\(name) is not one of \(stiffMethods.map(\.name).joined(separator: ", "))")
    }
    return (name, method)
}

/// A tolerance from the environment variable `name`, else `defaultValue`.
func stiffTolerance(_ name: String, default defaultValue: Double) throws -> Double {
    guard let text = ProcessInfo.processInfo.environment[name] else { return defaultValue }
    guard let value = Double(text), value > 0 else { throw BenchmarkError("\(name)=\(text) is not a positive number") }
    return value
}

/// Solves `field` from `y0` over [0, t1] `solves` times (after one warm-up solve) and returns the
/// JSON fields: the median milliseconds per solve, the work counts and the error against `reference`.
func stiffBenchmark<F: VectorField>(
    _ field: F, _ y0: F.State, to t1: Double, rtol defaultRtol: Double, atol defaultAtol: Double,
    jacobian structure: JacobianStructure = .dense, solves: Int, reference: [Double]?,
    components: (F.State) -> [Double]
) throws -> [(String, JSONValue)] where F.State.Scalar == Double {
    let (name, method) = try stiffBenchmarkMethod()
    let rtol = try stiffTolerance("RNNODE_STIFF_RTOL", default: defaultRtol)
    let atol = try stiffTolerance("RNNODE_STIFF_ATOL", default: defaultAtol)
    func run() throws -> Solution<F.State> {
        try solve(
            field, initialState: y0, from: 0, to: t1, method: method, step: .adaptive(rtol: rtol, atol: atol),
            saveAt: .final, implicit: ImplicitSolverSettings(jacobian: structure)
        ).checked()
    }
    var solution = try run()
    let seconds = try median(of: solves) {
        let clock = Stopwatch()
        solution = try run()
        return clock.seconds
    }
    let s = solution.statistics
    let final = components(solution.finalState)
    let error: JSONValue = reference.map { .number(maxRelativeError(final, reference: $0, atol: atol)) } ?? .null
    return [
        ("method", .string(name)), ("rtol", .number(rtol)), ("atol", .number(atol)),
        ("ms_per_solve", .number(seconds * 1e3)), ("repeats", .integer(solves)),
        ("evaluations", .integer(s.evaluations)), ("jacobians", .integer(s.jacobians)),
        ("factorizations", .integer(s.factorizations)), ("linear_solves", .integer(s.linearSolves)),
        ("steps", .integer(s.steps)), ("accepted_steps", .integer(s.acceptedSteps)),
        ("max_rel_error", error),
    ]
}

private let stiffOptions = "method RNNODE_STIFF_METHOD (default rodas5p), tolerances RNNODE_STIFF_RTOL/ATOL"

let stiffBenchmarks: [Benchmark] = [
    Benchmark(
        name: "stiff-vdp1000",
        summary: "Van der Pol μ = 1000 (vdp1000) to t = 3000, SIMD2, rtol 1e-6, atol 1e-8, median of 20; \(stiffOptions)"
    ) {
        try stiffBenchmark(
            VanDerPol(), VanDerPol.initialState, to: VanDerPol.endTime, rtol: 1e-6, atol: 1e-8, solves: 20,
            reference: components(VanDerPol.reference), components: components)
    },
    Benchmark(
        name: "stiff-robertson",
        summary: "Robertson to t = 1e5, SIMD3, rtol 1e-6, atol 1e-10, median of 20; \(stiffOptions)"
    ) {
        try stiffBenchmark(
            Robertson(), Robertson.initialState, to: Robertson.endTime, rtol: 1e-6, atol: 1e-10, solves: 20,
            reference: components(Robertson.reference), components: components)
    },
    Benchmark(
        name: "stiff-hires",
        summary: "HIRES to t = 321.8122, SIMD8, rtol 1e-6, atol 1e-8, median of 20; \(stiffOptions)"
    ) {
        try stiffBenchmark(
            HIRES(), HIRES.initialState, to: HIRES.endTime, rtol: 1e-6, atol: 1e-8, solves: 20,
            reference: components(HIRES.reference), components: components)
    },
    Benchmark(
        name: "stiff-bruss500",
        summary:
            "1-D Brusselator, 500 cells (1000 unknowns, Tensor), to t = 10, banded Jacobian, rtol = atol = 1e-6, median of 5; \(stiffOptions)"
    ) {
        let field = Brusselator(cells: 500)
        return try stiffBenchmark(
            field, field.initialState, to: Brusselator.endTime, rtol: 1e-6, atol: 1e-6,
            jacobian: Brusselator.jacobianStructure, solves: 5, reference: field.reference, components: \.scalars)
    },
]
