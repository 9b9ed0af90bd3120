import ExampleSupport
import Foundation
import RNNODE

/// Lotka–Volterra, p = (α, β, δ, γ): x' = αx − βxy, y' = δxy − γy.
struct LotkaVolterra: ParametricField {
    typealias State = SIMD2<Double>
    func callAsFunction<S: FieldScalar>(_ t: S, _ y: FieldInput<S>, _ p: FieldInput<S>, _ dy: FieldOutput<S>)
    where S.Constant == Double {
        dy[0] = p[0] * y[0] - p[1] * y[0] * y[1]
        dy[1] = p[2] * y[0] * y[1] - p[3] * y[1]
    }
    var isAutonomous: Bool { true }
}

/// The Lotka–Volterra fit's data (also in peers/inverse_problems_scipy.py): the solution for
/// p = (1.5, 1, 1, 3) from (1, 1) at t = 1 … 10 with a ±2 % deterministic error, two entries missing;
/// the first row is the known initial state.
let lotkaVolterraTable = CSVTable(
    header: ["t", "x", "y"],
    rows: [
        [0, 1, 1], [1, 2.7752, 0.2538], [2, 6.7659, 2.0505], [3, 0.9727, nil], [4, 1.8781, 0.3293],
        [5, 6.1237, 0.6170], [6, 1.3866, 3.5270], [7, nil, 0.4986], [8, 4.3148, 0.3162], [9, 3.2976, 4.4872],
        [10, 1.0181, 0.9238],
    ])

/// Fits the four Lotka–Volterra parameters by Levenberg–Marquardt, the Jacobian from forward
/// sensitivities (Dopri5, rtol = atol = 1e-10).
func fitLotkaVolterra() throws -> LeastSquaresResult<Double> {
    let data = try Observations<Double>(lotkaVolterraTable)
    let step = StepSizeControl<Double>.adaptive(rtol: 1e-10, atol: 1e-10)
    func solution(_ p: [Double], _ sensitivities: SensitivityTarget) -> Solution<SIMD2<Double>>? {
        guard
            let s = try? solve(
                LotkaVolterra(), initialState: [1, 1], parameters: p, times: data.times, step: step,
                maxSteps: 100_000, sensitivities: sensitivities),
            s.succeeded
        else { return nil }
        return s
    }
    // The first row's two entries are the initial state: their residuals are zero, and dropped.
    let residualCount = data.observedCount - 2
    return LevenbergMarquardt<Double>().minimize(
        from: [1.4, 0.95, 0.95, 2.9],
        residuals: { p in
            guard let s = solution(p, .none) else { return Array(repeating: .nan, count: residualCount) }
            return Array(data.residuals(of: s).dropFirst(2))
        },
        jacobian: { p in
            guard let s = solution(p, .parameters) else { return Array(repeating: .nan, count: residualCount * 4) }
            return Array(data.residualJacobian(of: s).dropFirst(2 * 4))
        })
}

let inverseProblemBenchmarks: [Benchmark] = [
    Benchmark(
        name: "su-inverse-adam",
        summary:
            "the article's inverse problem: Euler RNN h = 1 (50 steps), Adam 1e-4, raw parameters, gradients by forward sensitivities; ms per epoch over 2000 epochs"
    ) {
        let fit = try CompetitionFit(SuArticle.table, method: .euler, step: .fixed(1), horizon: 50, logarithmic: false)
        let epochs = 2000
        var loss = Double.nan
        let seconds = try best {
            var theta = SuArticle.initialGuess
            var optimizer = Adam<Double>(learningRate: 1e-4)
            let result = train(&theta, optimizer: &optimizer, until: StoppingCriteria(maxSteps: epochs), progress: .quiet) {
                theta, _ in fit.lossAndGradient(theta)
            }
            guard result.steps == epochs else { throw BenchmarkError("training stopped early: \(result.stopReason)") }
            loss = result.finalLoss ?? .nan
            return result.seconds
        }
        return [
            ("ms_per_epoch", .number(seconds / Double(epochs) * 1000)), ("epochs", .integer(epochs)), ("loss", .number(loss)),
        ]
    },
    Benchmark(
        name: "su-inverse-lm",
        summary:
            "infer-parameters' default fit: Levenberg–Marquardt on log-parameters, Dopri5 1e-8, Jacobian by forward sensitivities; seconds per fit"
    ) {
        let fit = try CompetitionFit(
            SuArticle.table, method: .dopri5, step: .adaptive(rtol: 1e-8, atol: 1e-8), horizon: 50, logarithmic: true)
        var result: LeastSquaresResult<Double>? = nil
        let seconds = try median(of: 5) {
            let clock = Stopwatch()
            result = LevenbergMarquardt<Double>(maxIterations: 200).minimize(
                from: fit.unconstrained(SuArticle.initialGuess), residuals: fit.residuals,
                jacobian: { fit.residualsAndJacobian($0).jacobian })
            guard result!.converged else { throw BenchmarkError("the fit did not converge: \(result!.status)") }
            return clock.seconds
        }
        return [
            ("seconds", .number(seconds)), ("loss", .number(result!.cost)), ("iterations", .integer(result!.iterations)),
            ("params", .numbers(fit.parameters(result!.parameters.scalars))),
        ]
    },
    Benchmark(
        name: "lotka-volterra-fit",
        summary:
            "Lotka–Volterra, 4 parameters, 18 observations with gaps: Levenberg–Marquardt, Dopri5 1e-10, Jacobian by forward sensitivities; seconds per fit"
    ) {
        var result: LeastSquaresResult<Double>? = nil
        let seconds = try median(of: 5) {
            let clock = Stopwatch()
            result = try fitLotkaVolterra()
            guard result!.converged else { throw BenchmarkError("the fit did not converge: \(result!.status)") }
            return clock.seconds
        }
        return [
            ("seconds", .number(seconds)), ("loss", .number(result!.cost)), ("iterations", .integer(result!.iterations)),
            ("params", .numbers(result!.parameters.scalars)),
        ]
    },
]
